/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Process-wide logging.  Nothing secret may be passed in: callers log
 * whether a secret is present, never its value.
 */

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include "common.h"

static int		 level = LOG_WARN;
static log_handler_t	*handler;
static pthread_mutex_t	 lock = PTHREAD_MUTEX_INITIALIZER;

void
log_init(int lvl)
{
	level = lvl;
}

int
log_level(void)
{
	return (level);
}

void
log_set_handler(log_handler_t *h)
{
	handler = h;
}

/*
 * A prompt holds the lock while it waits for the operator, so narration
 * from other threads does not land after "PIN: " on the terminal.
 */
void
log_hold(bool on)
{
	if (on)
		pthread_mutex_lock(&lock);
	else
		pthread_mutex_unlock(&lock);
}

static void vlog(int, const char *, va_list)
    __attribute__((format(printf, 2, 0)));

static void
vlog(int lvl, const char *fmt, va_list ap)
{
	char buf[1024], safe[TEXT_SAFE_MAX(1024)];

	if (lvl > level)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	/* names and messages from Graph or a key: no escapes on the tty */
	text_safe(buf, safe, sizeof(safe));
	pthread_mutex_lock(&lock);
	if (handler != NULL)
		handler(lvl, safe);
	else
		fprintf(stderr, "%s%s\n", lvl == LOG_WARN ? "warning: " : "",
		    safe);
	pthread_mutex_unlock(&lock);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARN, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap);
	va_end(ap);
}
