/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Reading back a pins file (src/formats/report_pins.c) and the PIN
 * memory built on it (src/enroll/pinbook.c): what report_pin() wrote
 * comes back, quoted or prefixed cells included; the newest PIN of a
 * key wins; a file others can read, or of another shape, is refused.
 */

#include <sys/stat.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common.h"
#include "enroll.h"
#include "report.h"
#include "testutil.h"

static void
put(const char *path, const char *text, mode_t mode)
{
	int fd;

	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode)) >=
	    0);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(write_all(fd, text, strlen(text)), 0);
	close(fd);
}

static void
test_round_trip(void **state)
{
	report_t		*r = NULL;
	enroll_pinbook_t	*pb;
	char			 dir[256], path[300], err[256], *pin;

	(void)state;
	assert_int_equal(tu_tmpdir(dir, sizeof(dir), "test_pins"), 0);
	snprintf(path, sizeof(path), "%s/pins.csv", dir);
	assert_int_equal(report_open(path, REPORT_PINS, &r, err, sizeof(err)),
	    REPORT_OK);
	assert_int_equal(report_pin(r, "a@x", "unix:/k/one", "11223344"),
	    REPORT_OK);
	/* a cell that needs quotes, one that gets the formula prefix */
	assert_int_equal(report_pin(r, "b@x", "serial, \"2\"", "55667788"),
	    REPORT_OK);
	assert_int_equal(report_pin(r, "c@x", "-dash", "99887766"),
	    REPORT_OK);
	assert_int_equal(report_pin(r, "d@x", "unix:/k/one", "12121313"),
	    REPORT_OK);
	report_free(&r);

	assert_non_null(pb = enroll_pinbook_new());
	assert_int_equal(enroll_pinbook_load(pb, path, err, sizeof(err)), 0);
	assert_non_null(pin = enroll_pinbook_get(pb, "unix:/k/one"));
	assert_string_equal(pin, "12121313");	/* the newest wins */
	freezero_str(pin);
	assert_non_null(pin = enroll_pinbook_get(pb, "serial, \"2\""));
	assert_string_equal(pin, "55667788");
	freezero_str(pin);
	assert_non_null(pin = enroll_pinbook_get(pb, "-dash"));
	assert_string_equal(pin, "99887766");
	freezero_str(pin);
	assert_null(enroll_pinbook_get(pb, "unix:/k/two"));
	assert_int_equal(enroll_pinbook_put(pb, "unix:/k/two", "24682468"),
	    0);
	assert_non_null(pin = enroll_pinbook_get(pb, "unix:/k/two"));
	assert_string_equal(pin, "24682468");
	freezero_str(pin);
	enroll_pinbook_free(&pb);
	assert_null(pb);
	assert_int_equal(tu_rmtree(dir), 0);
}

static void
test_refused(void **state)
{
	enroll_pinbook_t	*pb;
	char			 dir[256], path[300], link[300], err[256];

	(void)state;
	assert_int_equal(tu_tmpdir(dir, sizeof(dir), "test_pins"), 0);
	snprintf(path, sizeof(path), "%s/pins.csv", dir);
	snprintf(link, sizeof(link), "%s/link.csv", dir);
	assert_non_null(pb = enroll_pinbook_new());
	/* none yet: no rows, no error */
	assert_int_equal(enroll_pinbook_load(pb, path, err, sizeof(err)), 0);

	put(path, "time,user,device,pin\nt,u,unix:/k,11223344\n", 0644);
	assert_int_equal(report_pins_load(path, NULL, NULL, err,
	    sizeof(err)), REPORT_ERR_PERM);
	assert_non_null(strstr(err, "mode 0600"));

	put(path, "time,user,device\nt,u,unix:/k\n", 0600);
	assert_int_equal(enroll_pinbook_load(pb, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line 1"));
	put(path, "time,user,device,pin\nt,u,\"unix:/k,11223344\n", 0600);
	assert_int_equal(enroll_pinbook_load(pb, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line 2"));

	put(path, "time,user,device,pin\nt,u,unix:/k,11223344\n", 0600);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(report_pins_load(link, NULL, NULL, err,
	    sizeof(err)), REPORT_ERR_IO);
	assert_null(enroll_pinbook_get(pb, "unix:/k"));
	enroll_pinbook_free(&pb);
	assert_int_equal(tu_rmtree(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refused),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
