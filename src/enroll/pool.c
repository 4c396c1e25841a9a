/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The prefetcher and poster pools.  Each thread spends most of its time
 * waiting on one Graph round trip, so the threads a pool needs are its
 * users a second times Graph's latency (Little's law).  A pool starts
 * at about one thread a key and grows by one each time work waits while
 * every thread is busy: the keys stay the bottleneck when Graph is slow,
 * and a fast Graph costs no more threads than before.
 */

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "common.h"
#include "enroll_int.h"

/* no growth this long after a Graph call needed a retry */
#define CALM_MS		30000

/* under run->lock */
static int
pool_add(struct run *run, struct pool *p)
{
	int e;

	if (p->n >= p->max || p->n >= POOL_MAX)
		return (EAGAIN);
	if ((e = pthread_create(&p->tid[p->n], NULL, p->fn, run)) != 0) {
		p->stuck = true;
		return (e);
	}
	thread_name(p->tid[p->n], "%s %zu", p->name, p->n + 1);
	p->n++;

	return (0);
}

/* n threads (fewer if p->max is lower); 0, or pthread_create()'s error */
int
enroll_pool_start(struct run *run, struct pool *p, size_t n)
{
	int e = 0;

	pthread_mutex_lock(&run->lock);
	while (p->n < n && p->n < p->max && (e = pool_add(run, p)) == 0)
		;
	pthread_mutex_unlock(&run->lock);

	return (e);
}

/*
 * Under run->lock, when work waits for the pool: one more thread if all
 * are busy.  Not while Graph asks for retries (more requests would only
 * slow a throttled Graph down), and none once one could not start: the
 * run goes on with those it has.
 */
void
enroll_pool_more(struct run *run, struct pool *p)
{
	int e;

	if (p->busy < p->n || p->n >= p->max || p->stuck || run->stop ||
	    (run->retried_ms != 0 && now_ms() - run->retried_ms < CALM_MS))
		return;
	if ((e = pool_add(run, p)) == 0)
		log_info("Graph is slow to answer: %zu %s threads now",
		    p->n, p->name);
	else
		log_warn("cannot start another %s thread (%s): going on "
		    "with %zu", p->name, strerror(e), p->n);
}

/* under run->lock: a thread's work is done; c made its last call */
void
enroll_pool_idle(struct run *run, struct pool *p, graph_client_t *c)
{
	p->busy--;
	if (c != NULL && graph_last_retries(c) > 0)
		run->retried_ms = now_ms();
}

/* once nothing can grow the pool: its key workers have ended */
void
enroll_pool_join(struct run *run, struct pool *p)
{
	size_t i, n;

	pthread_mutex_lock(&run->lock);
	n = p->n;
	pthread_mutex_unlock(&run->lock);
	for (i = 0; i < n; i++)
		pthread_join(p->tid[i], NULL);
}
