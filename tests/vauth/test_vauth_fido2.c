/*
 * Copyright (c) 2025 provisioning authors.
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * vauth driven by the unmodified system libfido2 1.12 through
 * fido_dev_set_io_functions(), with FIDO_DISABLE_U2F_FALLBACK: guards the
 * canonical-CBOR requirement (fido_dev_is_fido2) and the error mapping of
 * every fault kind.
 *
 * usage: test_vauth_fido2 PATH-TO-vauth
 */

#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <fido.h>
#include <fido/config.h>
#include <fido/credman.h>
#include <fido/es256.h>

#include "testutil.h"

#define PIN	   "123456"
#define RP_ID	   "login.microsoft.com"
#define TIMEOUT_MS 15000

static const char *vauth_bin;

struct vio {
	int fd;
};

static void *
vio_open(const char *path)
{
	struct sockaddr_un sun;
	struct vio *h;

	if (strncmp(path, "unix:", 5) == 0)
		path += 5;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path) ||
	    (h = calloc(1, sizeof(*h))) == NULL)
		return (NULL);
	memcpy(sun.sun_path, path, strlen(path));
	if ((h->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(h->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		if (h->fd >= 0)
			close(h->fd);
		free(h);
		return (NULL);
	}

	return (h);
}

static void
vio_close(void *handle)
{
	struct vio *h = handle;

	close(h->fd);
	free(h);
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);

	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static int
vio_read(void *handle, unsigned char *buf, size_t len, int ms)
{
	struct vio *h = handle;
	struct pollfd pfd;
	long long deadline = ms >= 0 ? now_ms() + ms : -1, left;
	size_t got = 0;
	ssize_t n;
	int t;

	if (len < 64)
		return (-1);
	while (got < 64) {
		t = -1;
		if (deadline >= 0) {
			left = deadline - now_ms();
			t = left > 0 ? (int)left : 0;
		}
		pfd.fd = h->fd;
		pfd.events = POLLIN;
		if ((n = poll(&pfd, 1, t)) < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return (-1);
		if ((n = read(h->fd, buf + got, 64 - got)) <= 0)
			return (-1);
		got += (size_t)n;
	}

	return (64);
}

static int
vio_write(void *handle, const unsigned char *buf, size_t len)
{
	struct vio *h = handle;

	if (len != 65 || send(h->fd, buf + 1, 64, MSG_NOSIGNAL) != 64)
		return (-1);

	return (65);
}

static const fido_dev_io_t vio = {
    vio_open,
    vio_close,
    vio_read,
    vio_write,
};

static int
dev_open(const struct tu_vauth *vp, fido_dev_t **out)
{
	fido_dev_t *dev;
	int r;

	*out = NULL;
	if ((dev = fido_dev_new()) == NULL)
		return (FIDO_ERR_INTERNAL);
	if ((r = fido_dev_set_io_functions(dev, &vio)) != FIDO_OK ||
	    (r = fido_dev_set_timeout(dev, TIMEOUT_MS)) != FIDO_OK ||
	    (r = fido_dev_open(dev, vp->sock)) != FIDO_OK) {
		fido_dev_free(&dev);
		return (r);
	}
	*out = dev;

	return (FIDO_OK);
}

static fido_dev_t *
must_open(const struct tu_vauth *vp)
{
	fido_dev_t *dev = NULL;

	assert_int_equal(dev_open(vp, &dev), FIDO_OK);
	assert_true(fido_dev_is_fido2(dev));

	return (dev);
}

static void
dev_close(fido_dev_t **dev)
{
	if (*dev != NULL)
		fido_dev_close(*dev);
	fido_dev_free(dev);
}

/* start vauth with NULL-terminated extra arguments */
static void
start(struct tu_vauth *vp, ...)
{
	const char *args[32];
	const char *a;
	va_list ap;
	size_t n = 0;

	va_start(ap, vp);
	while ((a = va_arg(ap, const char *)) != NULL && n < 31)
		args[n++] = a;
	va_end(ap);
	args[n] = NULL;
	assert_int_equal(tu_vauth_start(vp, vauth_bin, args), 0);
}

static void
stop(struct tu_vauth *vp)
{
	int status;

	assert_true(tu_vauth_alive(vp));
	status = tu_vauth_stop(vp);
	assert_int_not_equal(access(vp->path, F_OK), 0);
	tu_vauth_cleanup(vp);
	/* a clean exit: no ASan/LSan report, socket removed */
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static fido_cred_t *
new_cred(int rk, int prot, const unsigned char *user_id, size_t uidlen)
{
	fido_cred_t *c;
	unsigned char cdh[32];

	memset(cdh, 0x5a, sizeof(cdh));
	assert_non_null(c = fido_cred_new());
	assert_int_equal(fido_cred_set_type(c, COSE_ES256), FIDO_OK);
	assert_int_equal(fido_cred_set_clientdata_hash(c, cdh, sizeof(cdh)),
	    FIDO_OK);
	assert_int_equal(fido_cred_set_rp(c, RP_ID, "Microsoft"), FIDO_OK);
	assert_int_equal(fido_cred_set_user(c, user_id, uidlen,
			     "alice@example.com", "Alice", NULL),
	    FIDO_OK);
	assert_int_equal(fido_cred_set_rk(c,
			     rk ? FIDO_OPT_TRUE : FIDO_OPT_OMIT),
	    FIDO_OK);
	if (prot)
		assert_int_equal(fido_cred_set_prot(c, prot), FIDO_OK);
	assert_int_equal(fido_cred_set_extensions(c,
			     FIDO_EXT_HMAC_SECRET |
				 (prot ? FIDO_EXT_CRED_PROTECT : 0)),
	    FIDO_OK);

	return (c);
}

static const unsigned char uid1[] = {1, 2, 3, 4};
static const unsigned char uid2[] = {5, 6, 7, 8};

static void
open_is_fido2(void **state)
{
	struct tu_vauth vp;
	fido_dev_t *dev;
	fido_cbor_info_t *ci;
	const unsigned char want[16] = {0x76, 0x61, 0x75, 0x74, 0x68, 0x2d,
	    0x74, 0x65, 0x73, 0x74, 0x2d, 0x6b, 0x65, 0x79, 0x00, 0x01};

	(void)state;
	start(&vp, "--fw", "7", NULL);
	dev = must_open(&vp);
	assert_true(fido_dev_supports_pin(dev));
	assert_false(fido_dev_has_pin(dev));
	assert_true(fido_dev_supports_credman(dev));
	assert_true(fido_dev_supports_cred_prot(dev));
	assert_true(fido_dev_supports_permissions(dev));
	assert_false(fido_dev_supports_uv(dev));
	assert_int_equal(fido_dev_flags(dev) & 0x0c, 0x0c);

	assert_non_null(ci = fido_cbor_info_new());
	assert_int_equal(fido_dev_get_cbor_info(dev, ci), FIDO_OK);
	assert_int_equal(fido_cbor_info_versions_len(ci), 2);
	assert_string_equal(fido_cbor_info_versions_ptr(ci)[1], "FIDO_2_1");
	assert_int_equal(fido_cbor_info_aaguid_len(ci), 16);
	assert_memory_equal(fido_cbor_info_aaguid_ptr(ci), want, 16);
	assert_int_equal(fido_cbor_info_maxmsgsiz(ci), 1200);
	assert_int_equal(fido_cbor_info_protocols_len(ci), 2);
	assert_int_equal(fido_cbor_info_protocols_ptr(ci)[0], 2);
	assert_int_equal(fido_cbor_info_minpinlen(ci), 4);
	assert_int_equal(fido_cbor_info_fwversion(ci), 7);
	assert_int_equal(fido_cbor_info_rk_remaining(ci), 50);
	assert_int_equal(fido_cbor_info_algorithm_count(ci), 1);
	assert_int_equal(fido_cbor_info_algorithm_cose(ci, 0), COSE_ES256);
	assert_false(fido_cbor_info_new_pin_required(ci));
	fido_cbor_info_free(&ci);
	dev_close(&dev);
	stop(&vp);
}

static void
full_flow(void **state)
{
	struct tu_vauth vp;
	fido_dev_t *dev;
	fido_cred_t *c;
	fido_assert_t *a;
	fido_credman_metadata_t *md;
	fido_credman_rp_t *rp;
	fido_credman_rk_t *rk;
	es256_pk_t *pk;
	unsigned char cdh[32];
	int retries = 0;

	(void)state;
	start(&vp, NULL);
	dev = must_open(&vp);
	assert_int_equal(fido_dev_get_retry_count(dev, &retries), FIDO_OK);
	assert_int_equal(retries, 8);
	assert_int_equal(fido_dev_set_pin(dev, "12", NULL),
	    FIDO_ERR_PIN_POLICY_VIOLATION);
	assert_int_equal(fido_dev_set_pin(dev, PIN, NULL), FIDO_OK);
	assert_int_equal(fido_dev_set_pin(dev, PIN, NULL),
	    FIDO_ERR_NOT_ALLOWED);
	dev_close(&dev);
	dev = must_open(&vp);
	assert_true(fido_dev_has_pin(dev));

	/* PIN required, wrong PIN, right PIN */
	c = new_cred(1, FIDO_CRED_PROT_UV_REQUIRED, uid1, sizeof(uid1));
	assert_int_equal(fido_dev_make_cred(dev, c, NULL),
	    FIDO_ERR_PIN_REQUIRED);
	assert_int_equal(fido_dev_make_cred(dev, c, "000000"),
	    FIDO_ERR_PIN_INVALID);
	assert_int_equal(fido_dev_get_retry_count(dev, &retries), FIDO_OK);
	assert_int_equal(retries, 7);
	assert_int_equal(fido_dev_make_cred(dev, c, PIN), FIDO_OK);
	assert_int_equal(fido_dev_get_retry_count(dev, &retries), FIDO_OK);
	assert_int_equal(retries, 8);
	assert_string_equal(fido_cred_fmt(c), "packed");
	assert_int_equal(fido_cred_flags(c), 0xc5);
	assert_non_null(fido_cred_x5c_ptr(c));
	assert_int_equal(fido_cred_verify(c), FIDO_OK);
	assert_int_equal(fido_cred_id_len(c), 63);
	assert_int_equal(fido_cred_sigcount(c), 1);

	/* credProtect 3: invisible without UV */
	assert_non_null(a = fido_assert_new());
	memset(cdh, 0x33, sizeof(cdh));
	assert_int_equal(fido_assert_set_clientdata_hash(a, cdh, sizeof(cdh)),
	    FIDO_OK);
	assert_int_equal(fido_assert_set_rp(a, RP_ID), FIDO_OK);
	assert_int_equal(fido_assert_allow_cred(a, fido_cred_id_ptr(c),
			     fido_cred_id_len(c)),
	    FIDO_OK);
	assert_int_equal(fido_dev_get_assert(dev, a, NULL),
	    FIDO_ERR_NO_CREDENTIALS);
	assert_int_equal(fido_dev_get_assert(dev, a, PIN), FIDO_OK);
	assert_int_equal(fido_assert_count(a), 1);
	assert_non_null(pk = es256_pk_new());
	assert_int_equal(es256_pk_from_ptr(pk, fido_cred_pubkey_ptr(c),
			     fido_cred_pubkey_len(c)),
	    FIDO_OK);
	assert_int_equal(fido_assert_verify(a, 0, COSE_ES256, pk), FIDO_OK);
	assert_int_equal(fido_assert_flags(a, 0), 0x05);
	assert_int_equal(fido_assert_sigcount(a, 0), 2);
	es256_pk_free(&pk);
	fido_assert_free(&a);

	/* credential management (0x41) */
	assert_non_null(md = fido_credman_metadata_new());
	assert_int_equal(fido_credman_get_dev_metadata(dev, md, PIN), FIDO_OK);
	assert_int_equal(fido_credman_rk_existing(md), 1);
	assert_int_equal(fido_credman_rk_remaining(md), 49);
	fido_credman_metadata_free(&md);
	assert_non_null(rp = fido_credman_rp_new());
	assert_int_equal(fido_credman_get_dev_rp(dev, rp, PIN), FIDO_OK);
	assert_int_equal(fido_credman_rp_count(rp), 1);
	assert_string_equal(fido_credman_rp_id(rp, 0), RP_ID);
	fido_credman_rp_free(&rp);
	assert_non_null(rk = fido_credman_rk_new());
	assert_int_equal(fido_credman_get_dev_rk(dev, RP_ID, rk, PIN), FIDO_OK);
	assert_int_equal(fido_credman_rk_count(rk), 1);
	assert_int_equal(fido_cred_prot(fido_credman_rk(rk, 0)), 3);
	assert_memory_equal(fido_cred_id_ptr(fido_credman_rk(rk, 0)),
	    fido_cred_id_ptr(c), 63);
	fido_credman_rk_free(&rk);
	assert_int_equal(fido_credman_del_dev_rk(dev, fido_cred_id_ptr(c),
			     fido_cred_id_len(c), PIN),
	    FIDO_OK);
	assert_int_equal(fido_credman_del_dev_rk(dev, fido_cred_id_ptr(c),
			     fido_cred_id_len(c), PIN),
	    FIDO_ERR_NO_CREDENTIALS);
	fido_cred_free(&c);

	/* change PIN, reset */
	assert_int_equal(fido_dev_set_pin(dev, "654321", PIN), FIDO_OK);
	assert_int_equal(fido_dev_set_pin(dev, PIN, "654321"), FIDO_OK);
	assert_int_equal(fido_dev_reset(dev), FIDO_OK);
	assert_false(fido_dev_has_pin(dev));
	dev_close(&dev);
	dev = must_open(&vp);
	assert_false(fido_dev_has_pin(dev));
	dev_close(&dev);
	stop(&vp);
}

static void
attestation_self_none(void **state)
{
	struct tu_vauth vp;
	fido_dev_t *dev;
	fido_cred_t *c;

	(void)state;
	start(&vp, "--attestation", "self", "--protocol", "1", "--pin", PIN,
	    NULL);
	dev = must_open(&vp);
	assert_int_equal(fido_dev_protocol(dev), 2); /* CTAPHID version */
	c = new_cred(0, 0, uid1, sizeof(uid1));
	assert_int_equal(fido_dev_make_cred(dev, c, PIN), FIDO_OK);
	assert_string_equal(fido_cred_fmt(c), "packed");
	assert_null(fido_cred_x5c_ptr(c));
	assert_int_equal(fido_cred_verify_self(c), FIDO_OK);
	fido_cred_free(&c);
	dev_close(&dev);
	stop(&vp);

	start(&vp, "--attestation", "none", "--protocol", "2", NULL);
	dev = must_open(&vp);
	c = new_cred(1, FIDO_CRED_PROT_UV_OPTIONAL, uid1, sizeof(uid1));
	assert_int_equal(fido_dev_make_cred(dev, c, NULL), FIDO_OK);
	assert_string_equal(fido_cred_fmt(c), "none");
	assert_int_equal(fido_cred_flags(c) & 0x04, 0);
	fido_cred_free(&c);
	dev_close(&dev);
	stop(&vp);
}

static void
exclude_list(void **state)
{
	struct tu_vauth vp;
	fido_dev_t *dev;
	fido_cred_t *c, *c2;
	int touched = 0;

	(void)state;
	start(&vp, NULL);
	dev = must_open(&vp);
	c = new_cred(0, 0, uid1, sizeof(uid1));
	assert_int_equal(fido_dev_make_cred(dev, c, NULL), FIDO_OK);
	c2 = new_cred(0, 0, uid2, sizeof(uid2));
	assert_int_equal(fido_cred_exclude(c2, fido_cred_id_ptr(c),
			     fido_cred_id_len(c)),
	    FIDO_OK);
	assert_int_equal(fido_dev_make_cred(dev, c2, NULL),
	    FIDO_ERR_CREDENTIAL_EXCLUDED);
	/* "touch to select" (empty pinUvAuthParam) */
	assert_int_equal(fido_dev_get_touch_begin(dev), FIDO_OK);
	assert_int_equal(fido_dev_get_touch_status(dev, &touched, 5000),
	    FIDO_OK);
	assert_int_equal(touched, 1);
	fido_cred_free(&c);
	fido_cred_free(&c2);
	dev_close(&dev);
	stop(&vp);
}

static void
config_min_pin(void **state)
{
	struct tu_vauth vp;
	fido_dev_t *dev;
	fido_cbor_info_t *ci;
	fido_cred_t *c;

	(void)state;
	start(&vp, "--pin", PIN, NULL);
	dev = must_open(&vp);
	assert_int_equal(fido_dev_set_pin_minlen(dev, 6, PIN), FIDO_OK);
	assert_int_equal(fido_dev_set_pin_minlen(dev, 5, PIN),
	    FIDO_ERR_PIN_POLICY_VIOLATION);
	assert_int_equal(fido_dev_toggle_always_uv(dev, PIN),
	    FIDO_ERR_UNSUPPORTED_OPTION);
	assert_int_equal(fido_dev_set_pin(dev, "12345", PIN),
	    FIDO_ERR_PIN_POLICY_VIOLATION);
	assert_int_equal(fido_dev_force_pin_change(dev, PIN), FIDO_OK);
	assert_non_null(ci = fido_cbor_info_new());
	assert_int_equal(fido_dev_get_cbor_info(dev, ci), FIDO_OK);
	assert_int_equal(fido_cbor_info_minpinlen(ci), 6);
	assert_true(fido_cbor_info_new_pin_required(ci));
	fido_cbor_info_free(&ci);
	c = new_cred(0, 0, uid1, sizeof(uid1));
	assert_int_equal(fido_dev_make_cred(dev, c, PIN),
	    FIDO_ERR_PIN_POLICY_VIOLATION);
	assert_int_equal(fido_dev_set_pin(dev, PIN, PIN),
	    FIDO_ERR_PIN_POLICY_VIOLATION);
	assert_int_equal(fido_dev_set_pin(dev, "abcdefg", PIN), FIDO_OK);
	assert_int_equal(fido_dev_make_cred(dev, c, "abcdefg"), FIDO_OK);
	fido_cred_free(&c);
	dev_close(&dev);
	stop(&vp);
}

struct canceller {
	fido_dev_t *dev;
	int ms;
};

static void *
cancel_thread(void *arg)
{
	struct canceller *cc = arg;
	struct timespec ts;

	fido_init(FIDO_DISABLE_U2F_FALLBACK);
	ts.tv_sec = cc->ms / 1000;
	ts.tv_nsec = (cc->ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
	(void)fido_dev_cancel(cc->dev);

	return (NULL);
}

/* make_cred that another thread cancels after ms */
static int
make_cred_cancelled(fido_dev_t *dev, fido_cred_t *c, int ms, long long *elapsed)
{
	struct canceller cc;
	pthread_t t;
	long long t0 = now_ms();
	int r;

	cc.dev = dev;
	cc.ms = ms;
	assert_int_equal(pthread_create(&t, NULL, cancel_thread, &cc), 0);
	r = fido_dev_make_cred(dev, c, NULL);
	assert_int_equal(pthread_join(t, NULL), 0);
	*elapsed = now_ms() - t0;

	return (r);
}

static void
presence_cancel(void **state)
{
	struct tu_vauth vp;
	fido_dev_t *dev;
	fido_cred_t *c;
	long long ms;

	(void)state;
	start(&vp, "--presence", "delay:5000", NULL);
	dev = must_open(&vp);
	c = new_cred(0, 0, uid1, sizeof(uid1));
	assert_int_equal(make_cred_cancelled(dev, c, 300, &ms),
	    FIDO_ERR_KEEPALIVE_CANCEL);
	assert_true(ms < 3000);
	fido_cred_free(&c);
	dev_close(&dev);
	stop(&vp);

	start(&vp, "--presence", "deny:50", NULL);
	dev = must_open(&vp);
	c = new_cred(0, 0, uid1, sizeof(uid1));
	assert_int_equal(fido_dev_make_cred(dev, c, NULL),
	    FIDO_ERR_OPERATION_DENIED);
	fido_cred_free(&c);
	dev_close(&dev);
	stop(&vp);
}

/* one make_cred that must succeed: vauth is still fine */
static void
still_works(const struct tu_vauth *vp)
{
	fido_dev_t *dev = must_open(vp);
	fido_cred_t *c = new_cred(0, 0, uid2, sizeof(uid2));

	assert_int_equal(fido_dev_make_cred(dev, c, NULL), FIDO_OK);
	fido_cred_free(&c);
	dev_close(&dev);
}

static void
faults(void **state)
{
	struct tu_vauth vp;
	fido_dev_t *dev;
	fido_cred_t *c;
	long long t0, ms;
	int retries;

	(void)state;
	start(&vp, "--up-timeout", "300", "--fail",
	    "timeout:mc@1,status:pin=0x31@1,malformed:mc@1,disconnect:mc@1,"
	    "hang:mc@2",
	    NULL);
	dev = must_open(&vp);
	c = new_cred(0, 0, uid1, sizeof(uid1));
	/* timeout: 0x2f after --up-timeout */
	t0 = now_ms();
	assert_int_equal(fido_dev_make_cred(dev, c, NULL),
	    FIDO_ERR_USER_ACTION_TIMEOUT);
	assert_true(now_ms() - t0 >= 250);
	/* status */
	assert_int_equal(fido_dev_get_retry_count(dev, &retries),
	    FIDO_ERR_PIN_INVALID);
	/* malformed: status 0 but truncated CBOR */
	ms = fido_dev_make_cred(dev, c, NULL);
	assert_true(ms == FIDO_ERR_RX_INVALID_CBOR || ms == FIDO_ERR_RX ||
	    ms == FIDO_ERR_RX_NOT_CBOR);
	/* disconnect: first frame only, then the connection closes */
	assert_int_equal(fido_dev_make_cred(dev, c, NULL), FIDO_ERR_RX);
	dev_close(&dev);
	dev = must_open(&vp);
	/* hang until libfido2 gives up (timeout), then until cancelled */
	assert_int_equal(fido_dev_set_timeout(dev, 500), FIDO_OK);
	assert_int_equal(fido_dev_make_cred(dev, c, NULL), FIDO_ERR_RX);
	dev_close(&dev);
	dev = must_open(&vp);
	assert_int_equal(make_cred_cancelled(dev, c, 300, &ms),
	    FIDO_ERR_KEEPALIVE_CANCEL);
	assert_int_equal(fido_dev_make_cred(dev, c, NULL), FIDO_OK);
	fido_cred_free(&c);
	dev_close(&dev);
	still_works(&vp);
	stop(&vp);

	/* noncanonical getInfo: rejected with FIDO_DISABLE_U2F_FALLBACK */
	start(&vp, "--fail",
	    "noncanonical:info@1,deny:mc@1,"
	    "noncanonical:mc@1,slowkeepalive:400@1",
	    NULL);
	assert_int_not_equal(dev_open(&vp, &dev), FIDO_OK);
	dev = must_open(&vp);
	c = new_cred(0, 0, uid1, sizeof(uid1));
	assert_int_equal(fido_dev_make_cred(dev, c, NULL),
	    FIDO_ERR_OPERATION_DENIED);
	/* noncanonical reply (after a slow presence wait) */
	t0 = now_ms();
	assert_int_not_equal(fido_dev_make_cred(dev, c, NULL), FIDO_OK);
	assert_true(now_ms() - t0 >= 400);
	fido_cred_free(&c);
	dev_close(&dev);
	still_works(&vp);
	stop(&vp);
}

static void
wrong_pin_blocks(void **state)
{
	struct tu_vauth vp;
	fido_dev_t *dev;
	fido_cred_t *c;
	int i, retries = 0;

	(void)state;
	start(&vp, "--pin", PIN, NULL);
	dev = must_open(&vp);
	c = new_cred(0, 0, uid1, sizeof(uid1));
	assert_int_equal(fido_dev_make_cred(dev, c, "999999"),
	    FIDO_ERR_PIN_INVALID);
	assert_int_equal(fido_dev_make_cred(dev, c, "999999"),
	    FIDO_ERR_PIN_INVALID);
	assert_int_equal(fido_dev_make_cred(dev, c, "999999"),
	    FIDO_ERR_PIN_AUTH_BLOCKED);
	/* blocked until power cycle, even with the right PIN */
	assert_int_equal(fido_dev_make_cred(dev, c, PIN),
	    FIDO_ERR_PIN_AUTH_BLOCKED);
	dev_close(&dev);
	for (i = 0; i < 5; i++) {
		dev = must_open(&vp); /* reconnect = power cycle */
		assert_int_equal(fido_dev_make_cred(dev, c, "999999"),
		    i < 4 ? FIDO_ERR_PIN_INVALID : FIDO_ERR_PIN_BLOCKED);
		dev_close(&dev);
	}
	dev = must_open(&vp);
	assert_int_equal(fido_dev_get_retry_count(dev, &retries), FIDO_OK);
	assert_int_equal(retries, 0);
	assert_int_equal(fido_dev_make_cred(dev, c, PIN), FIDO_ERR_PIN_BLOCKED);
	fido_cred_free(&c);
	dev_close(&dev);
	stop(&vp);
}

/* a failed assertion skips stop(): kill what it left, remove its dirs */
static int
teardown(void **state)
{
	(void)state;
	tu_vauth_cleanup_all();

	return (0);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(open_is_fido2, teardown),
	    cmocka_unit_test_teardown(full_flow, teardown),
	    cmocka_unit_test_teardown(attestation_self_none, teardown),
	    cmocka_unit_test_teardown(exclude_list, teardown),
	    cmocka_unit_test_teardown(config_min_pin, teardown),
	    cmocka_unit_test_teardown(presence_cancel, teardown),
	    cmocka_unit_test_teardown(faults, teardown),
	    cmocka_unit_test_teardown(wrong_pin_blocks, teardown),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH-TO-vauth\n", argv[0]);
		return (2);
	}
	vauth_bin = argv[1];
	alarm(240); /* never hang */
	fido_init(FIDO_DISABLE_U2F_FALLBACK);

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
