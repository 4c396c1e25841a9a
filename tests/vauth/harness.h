/*
 * Copyright (c) 2025 provisioning authors.
 * SPDX-License-Identifier: BSD-2-Clause
 */

/* Start/stop a vauth daemon in its own temporary directory (tests only). */

#ifndef VAUTH_TEST_HARNESS_H
#define VAUTH_TEST_HARNESS_H

#include <sys/types.h>

#include <stddef.h>

struct vproc {
	pid_t pid;
	char dir[256];
	char sock[300];
};

int vproc_init(struct vproc *);
int vproc_start(struct vproc *, const char *, const char *const *);
int vproc_stop(struct vproc *);
void vproc_cleanup(struct vproc *);
int vproc_alive(const struct vproc *);
int vproc_path(const struct vproc *, const char *, char *, size_t);

#endif /* !VAUTH_TEST_HARNESS_H */
