/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The prefetcher and poster pools (src/enroll/pool.c): a pool grows by
 * one thread only when every thread is busy, never past its maximum,
 * not while Graph has lately asked for a retry, not once the run stops,
 * and not again after a thread could not start; every thread started is
 * joined.
 */

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"
#include "enroll_int.h"

static pthread_mutex_t	gate = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	gate_cv = PTHREAD_COND_INITIALIZER;
static bool		open_gate;
static size_t		ran;

/* a pool thread that waits until the test lets every one go */
static void *
worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&gate);
	ran++;
	while (!open_gate)
		pthread_cond_wait(&gate_cv, &gate);
	pthread_mutex_unlock(&gate);

	return (NULL);
}

static void
setup_run(struct run *run, size_t max)
{
	memset(run, 0, sizeof(*run));
	pthread_mutex_init(&run->lock, NULL);
	run->posters.name = "post";
	run->posters.fn = worker;
	run->posters.max = max;
	open_gate = false;
	ran = 0;
}

static void
finish_run(struct run *run, size_t want)
{
	pthread_mutex_lock(&gate);
	open_gate = true;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate);
	enroll_pool_join(run, &run->posters);
	assert_int_equal(ran, want);
	pthread_mutex_destroy(&run->lock);
}

/* grow under the lock, as the key workers do; the pool's size after */
static size_t
more(struct run *run)
{
	size_t n;

	pthread_mutex_lock(&run->lock);
	enroll_pool_more(run, &run->posters);
	n = run->posters.n;
	pthread_mutex_unlock(&run->lock);

	return (n);
}

static void
test_grows_only_when_all_busy(void **state)
{
	struct run	run;

	(void)state;
	setup_run(&run, POOL_MAX);
	assert_int_equal(enroll_pool_start(&run, &run.posters, 2), 0);
	assert_int_equal(run.posters.n, 2);
	run.posters.busy = 1;
	assert_int_equal(more(&run), 2);	/* one is free */
	run.posters.busy = 2;
	assert_int_equal(more(&run), 3);
	assert_int_equal(more(&run), 3);	/* the new one is free */
	run.posters.busy = 3;
	pthread_mutex_lock(&run.lock);
	enroll_pool_idle(&run, &run.posters, NULL);
	pthread_mutex_unlock(&run.lock);
	assert_int_equal(run.posters.busy, 2);
	assert_int_equal(more(&run), 3);
	finish_run(&run, 3);
}

static void
test_never_past_max(void **state)
{
	struct run	run;
	size_t		i;

	(void)state;
	setup_run(&run, 4);
	/* asked for more at the start than the pool may hold */
	assert_int_equal(enroll_pool_start(&run, &run.posters, 6), 0);
	assert_int_equal(run.posters.n, 4);
	for (i = 0; i < 3; i++) {
		run.posters.busy = run.posters.n;
		assert_int_equal(more(&run), 4);
	}
	finish_run(&run, 4);
}

static void
test_calm_after_retries_and_stop(void **state)
{
	struct run	run;

	(void)state;
	setup_run(&run, POOL_MAX);
	assert_int_equal(enroll_pool_start(&run, &run.posters, 1), 0);
	run.posters.busy = 1;
	/* Graph retried a moment ago: more requests would slow it down */
	run.retried_ms = now_ms();
	assert_int_equal(more(&run), 1);
	/* long enough ago */
	run.retried_ms = now_ms() - 31000;
	assert_int_equal(more(&run), 2);
	run.posters.busy = 2;
	run.stop = true;
	assert_int_equal(more(&run), 2);
	run.stop = false;
	/* a thread that could not start: the run goes on with those */
	run.posters.stuck = true;
	assert_int_equal(more(&run), 2);
	finish_run(&run, 2);
}

static void
test_dry_run_pool_is_empty(void **state)
{
	struct run	run;

	(void)state;
	setup_run(&run, 0);
	assert_int_equal(enroll_pool_start(&run, &run.posters, 0), 0);
	assert_int_equal(run.posters.n, 0);
	assert_int_equal(more(&run), 0);
	finish_run(&run, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grows_only_when_all_busy),
		cmocka_unit_test(test_never_past_max),
		cmocka_unit_test(test_calm_after_retries_and_stop),
		cmocka_unit_test(test_dry_run_pool_is_empty),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
