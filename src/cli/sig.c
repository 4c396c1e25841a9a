/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Ctrl+C.  SIGINT/SIGTERM are blocked in every thread and taken by one
 * sigwait thread, which raises a flag the pipeline checks between steps
 * and cancels the key currently waiting for a touch (libfido2 allows
 * fido_dev_cancel from another thread).  A second Ctrl+C ends the
 * process at once; the journal is transactional, so nothing is lost.
 */

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include "common.h"
#include "ctap.h"
#include "extern.h"

#define MAX_WATCH	64

static atomic_bool	 interrupted;
static pthread_mutex_t	 lock = PTHREAD_MUTEX_INITIALIZER;
static ctap_dev_t	*watched[MAX_WATCH];
static sigset_t		 set;

static void *
sig_thread(void *arg)
{
	int	sig, n = 0;
	size_t	i;

	(void)arg;
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (n++ > 0 || sig == SIGTERM) {
			static const char msg[] = "\nprovisioning: "
			    "interrupted; the journal is consistent, "
			    "re-run to resume\n";
			/* a kiosk board may hold the screen: give it back */
			static const char tty_back[] = "\033[?25h\033[?1049l";

			if (n > 1) {
				if (isatty(STDOUT_FILENO))
					(void)!write(STDOUT_FILENO, tty_back,
					    sizeof(tty_back) - 1);
				(void)!write(STDERR_FILENO, msg,
				    sizeof(msg) - 1);
				_exit(EXIT_INTR);
			}
		}
		atomic_store(&interrupted, true);
		(void)!write(STDERR_FILENO, "\nprovisioning: stopping after "
		    "the current step (Ctrl+C again to quit now)\n", 74);
		pthread_mutex_lock(&lock);
		for (i = 0; i < MAX_WATCH; i++)
			if (watched[i] != NULL)
				ctap_dev_cancel(watched[i]);
		pthread_mutex_unlock(&lock);
	}

	return (NULL);
}

int
sig_setup(void)
{
	pthread_t	tid;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		return (-1);
	signal(SIGPIPE, SIG_IGN);
	if (pthread_create(&tid, NULL, sig_thread, NULL) != 0)
		return (-1);
	thread_name(tid, "signals");
	pthread_detach(tid);

	return (0);
}

bool
sig_interrupted(void)
{
	return (atomic_load(&interrupted));
}

/* register (dev != NULL) or forget (unwatch) a key for cancellation */
void
sig_watch(struct ctap_dev *dev)
{
	size_t i;

	pthread_mutex_lock(&lock);
	for (i = 0; i < MAX_WATCH; i++)
		if (watched[i] == NULL) {
			watched[i] = dev;
			break;
		}
	pthread_mutex_unlock(&lock);
	if (dev != NULL && atomic_load(&interrupted))
		ctap_dev_cancel(dev);
}

void
sig_unwatch(struct ctap_dev *dev)
{
	size_t i;

	pthread_mutex_lock(&lock);
	for (i = 0; i < MAX_WATCH; i++)
		if (watched[i] == dev)
			watched[i] = NULL;
	pthread_mutex_unlock(&lock);
}
