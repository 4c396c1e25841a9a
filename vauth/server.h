/*
 * Copyright (c) 2025 provisioning authors.
 * SPDX-License-Identifier: BSD-2-Clause
 */

#ifndef VAUTH_SERVER_H
#define VAUTH_SERVER_H

#include "vauth.h"

int server_run(vauth_t *, const char *, int);

#endif /* !VAUTH_SERVER_H */
