/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Thread names, as top -H, ps -L, gdb and /proc/PID/task/TID/comm show
 * them: which of a run's threads is a key, a prefetcher or a poster.
 */

#define _GNU_SOURCE
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include "common.h"

void
thread_name(pthread_t t, const char *fmt, ...)
{
	va_list	ap;
	char	name[16];	/* the kernel keeps 15 bytes */

	va_start(ap, fmt);
	(void)vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	/* only a name: a thread that cannot have it works the same */
	(void)pthread_setname_np(t, name);
}
