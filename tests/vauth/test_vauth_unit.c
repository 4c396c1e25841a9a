/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Unit tests of vauthlib without sockets: the canonical CBOR encoder and
 * checker, CTAPHID reassembly and channel handling, the fault spec
 * parser.  CTAP2 requests are in test_vauth_ctap2.c.
 */

#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "extern.h"
#include "testutil.h"
#include "test_vauth.h"

/* helpers */


static void
expect_bytes(const cbor_item_t *it, const unsigned char *want, size_t n)
{
	unsigned char *p = NULL;
	size_t len = 0;

	encode(it, 0, &p, &len);
	assert_int_equal(len, n);
	assert_memory_equal(p, want, n);
	free(p);
}


/* canonical encoder */

static void
ints_minimal(void **state)
{
	static const struct {
		int64_t v;
		unsigned char b[9];
		size_t n;
	} t[] = {
	    {0, {0x00}, 1},
	    {23, {0x17}, 1},
	    {24, {0x18, 0x18}, 2},
	    {255, {0x18, 0xff}, 2},
	    {256, {0x19, 0x01, 0x00}, 3},
	    {65536, {0x1a, 0x00, 0x01, 0x00, 0x00}, 5},
	    {4294967296LL, {0x1b, 0, 0, 0, 1, 0, 0, 0, 0}, 9},
	    {-1, {0x20}, 1},
	    {-24, {0x37}, 1},
	    {-25, {0x38, 0x18}, 2},
	    {-257, {0x39, 0x01, 0x00}, 3},
	};
	cbor_item_t *it;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		/* a wide declared width must still encode minimally */
		if (t[i].v >= 0)
			it = cbor_build_uint64((uint64_t)t[i].v);
		else
			it = cbu_int(t[i].v);
		assert_non_null(it);
		expect_bytes(it, t[i].b, t[i].n);
		cbor_decref(&it);
	}
}

static void
map_order(void **state)
{
	/* {1: 1, 3: 3, -1: -1, -2: -2, 24: 24, "a": 0, "bb": 0, "ab": 0} */
	static const unsigned char want[] = {
	    0xa8,
	    0x01,
	    0x01,
	    0x03,
	    0x03,
	    0x18,
	    0x18,
	    0x18,
	    0x18,
	    0x20,
	    0x20,
	    0x21,
	    0x21,
	    0x61,
	    'a',
	    0x00,
	    0x62,
	    'a',
	    'b',
	    0x00,
	    0x62,
	    'b',
	    'b',
	    0x00,
	};
	cbor_item_t *m;

	(void)state;
	assert_non_null(m = cbu_map());
	assert_int_equal(cbu_put_str(m, "bb", cbu_uint(0)), 0);
	assert_int_equal(cbu_put_int(m, -2, cbu_int(-2)), 0);
	assert_int_equal(cbu_put_str(m, "ab", cbu_uint(0)), 0);
	assert_int_equal(cbu_put_int(m, 24, cbu_uint(24)), 0);
	assert_int_equal(cbu_put_int(m, 3, cbu_uint(3)), 0);
	assert_int_equal(cbu_put_str(m, "a", cbu_uint(0)), 0);
	assert_int_equal(cbu_put_int(m, -1, cbu_int(-1)), 0);
	assert_int_equal(cbu_put_int(m, 1, cbu_uint(1)), 0);
	expect_bytes(m, want, sizeof(want));
	cbor_decref(&m);
}

static void
options_map(void **state)
{
	/* the getInfo options map, inserted in a random order */
	static const char *names[] = {"makeCredUvNotRqd", "up", "clientPin",
	    "rk", "setMinPINLength", "plat", "credMgmt", "pinUvAuthToken",
	    "authnrCfg"};
	static const char *sorted[] = {"rk", "up", "plat", "credMgmt",
	    "authnrCfg", "clientPin", "pinUvAuthToken", "setMinPINLength",
	    "makeCredUvNotRqd"};
	struct cbor_load_result res;
	cbor_item_t *m, *back;
	unsigned char *p = NULL;
	size_t n = 0, i, off = 1, kl;

	(void)state;
	assert_non_null(m = cbu_map());
	for (i = 0; i < 9; i++)
		assert_int_equal(cbu_put_str(m, names[i], cbu_bool(1)), 0);
	encode(m, 0, &p, &n);
	assert_int_equal(p[0], 0xa9);
	for (i = 0; i < 9; i++) {
		kl = strlen(sorted[i]);
		assert_int_equal(p[off], 0x60 + kl);
		assert_memory_equal(p + off + 1, sorted[i], kl);
		off += 1 + kl + 1;
	}
	assert_int_equal(off, n);
	/* decoding and re-encoding a canonical map is the identity */
	back = cbor_load(p, n, &res);
	assert_non_null(back);
	free(p);
	p = NULL;
	encode(back, 0, &p, &n);
	assert_int_equal(p[0], 0xa9);
	assert_memory_equal(p + 1, "\x62rk", 3);
	free(p);
	cbor_decref(&back);
	cbor_decref(&m);
}

static void
cose_key(void **state)
{
	unsigned char x[32], y[32], want[77];
	cbor_item_t *k;

	(void)state;
	memset(x, 0xaa, sizeof(x));
	memset(y, 0xbb, sizeof(y));
	memcpy(want, "\xa5\x01\x02\x03\x26\x20\x01\x21\x58\x20", 10);
	memcpy(want + 10, x, 32);
	memcpy(want + 42, "\x22\x58\x20", 3);
	memcpy(want + 45, y, 32);
	assert_non_null(k = cbu_cose_es256(x, y, -7));
	expect_bytes(k, want, sizeof(want));
	cbor_decref(&k);
}

static void
dup_and_noncanonical(void **state)
{
	static const unsigned char rev[] = {0xa2, 0x02, 0x00, 0x01, 0x00};
	cbor_item_t *m;
	unsigned char *p = NULL;
	size_t n = 0;

	(void)state;
	assert_non_null(m = cbu_map());
	assert_int_equal(cbu_put_int(m, 1, cbu_uint(0)), 0);
	assert_int_equal(cbu_put_int(m, 2, cbu_uint(0)), 0);
	assert_int_equal(cbu_encode(m, CBU_NONCANONICAL, &p, &n), 0);
	assert_int_equal(n, sizeof(rev));
	assert_memory_equal(p, rev, n);
	free(p);
	assert_int_equal(cbu_put_int(m, 1, cbu_uint(1)), 0);
	assert_int_equal(cbu_encode(m, 0, &p, &n), -1);
	assert_null(p);
	cbor_decref(&m);
	assert_int_equal(cbu_put(NULL, cbu_uint(1), cbu_uint(1)), -1);
	assert_int_equal(cbu_put_int(m, 1, NULL), -1);
}

/* well-formedness checker */

static void
checker(void **state)
{
	static const struct {
		const char *b;
		size_t n;
		int ok;
	} t[] = {
	    {"\xa1\x01\x02", 3, 1},
	    {"\xa1\x01", 2, 0}, /* truncated */
	    {"\xa1\x01\x02\x00", 4, 0}, /* trailing */
	    {"\xbf\x01\x02\xff", 4, 0}, /* indefinite */
	    {"\x5f\x41\x00\xff", 4, 0},
	    {"\x9b\xff\xff\xff\xff\xff\xff\xff\xff", 9, 0}, /* huge */
	    {"\x9a\x00\x01\x00\x00\x00", 6, 0},
	    {"\x5a\xff\xff\xff\xff", 5, 0},
	    {"\x1c", 1, 0}, /* reserved */
	    {"\xf8\x10", 2, 0}, /* bad simple */
	    {"\xf5", 1, 1},
	    {"\xfb\x00\x00\x00\x00\x00\x00\x00\x00", 9, 1},
	    {"\xc1\x01", 2, 1}, /* tag */
	    {"", 0, 0},
	};
	unsigned char deep[40];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(cbu_check((const unsigned char *)t[i].b,
				     t[i].n, CBOR_MAX_DEPTH) == 0,
		    t[i].ok);
	memset(deep, 0x81, sizeof(deep)); /* [[[[...]]]] */
	deep[sizeof(deep) - 1] = 0x00;
	assert_int_equal(cbu_check(deep, sizeof(deep), CBOR_MAX_DEPTH), -1);
	assert_int_equal(cbu_check(deep + 30, 10, CBOR_MAX_DEPTH), 0);
}

static void
map_raw(void **state)
{
	/* {1: 5, 2: {3: "x"}, -1: h'00'} */
	static const unsigned char m[] = {0xa3, 0x01, 0x05, 0x02, 0xa1, 0x03,
	    0x61, 'x', 0x20, 0x41, 0x00};
	size_t off = 0, n = 0;

	(void)state;
	assert_int_equal(cbu_map_raw(m, sizeof(m), 2, &off, &n), 0);
	assert_int_equal(off, 4);
	assert_int_equal(n, 4);
	assert_int_equal(cbu_map_raw(m, sizeof(m), -1, &off, &n), 0);
	assert_int_equal(off, 9);
	assert_int_equal(n, 2);
	assert_int_equal(cbu_map_raw(m, sizeof(m), 7, &off, &n), 1);
	assert_int_equal(cbu_map_raw(m + 1, 2, 1, &off, &n), -1);
}

/* CTAPHID reassembly */

static void
mkinit(unsigned char *p, uint32_t cid, uint8_t cmd, size_t bcnt,
    const unsigned char *data)
{
	size_t n = bcnt < 57 ? bcnt : 57;

	memset(p, 0, 64);
	p[0] = (unsigned char)(cid >> 24);
	p[1] = (unsigned char)(cid >> 16);
	p[2] = (unsigned char)(cid >> 8);
	p[3] = (unsigned char)cid;
	p[4] = 0x80 | cmd;
	p[5] = (unsigned char)(bcnt >> 8);
	p[6] = (unsigned char)bcnt;
	if (data != NULL && n > 0)
		memcpy(p + 7, data, n);
}

static void
mkcont(unsigned char *p, uint32_t cid, uint8_t seq, const unsigned char *data,
    size_t n)
{
	memset(p, 0, 64);
	p[0] = (unsigned char)(cid >> 24);
	p[1] = (unsigned char)(cid >> 16);
	p[2] = (unsigned char)(cid >> 8);
	p[3] = (unsigned char)cid;
	p[4] = seq;
	if (n > 0)
		memcpy(p + 5, data, n);
}

static void
reassembly(void **state)
{
	struct hid_rx *rx;
	struct hid_msg m;
	unsigned char pkt[64], data[VAUTH_MAX_MSG];
	size_t i, off;
	uint8_t seq;

	(void)state;
	assert_non_null(rx = calloc(1, sizeof(*rx)));
	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 7);

	/* one packet */
	mkinit(pkt, 0x01020304, CTAPHID_PING, 5, data);
	assert_int_equal(hid_rx_push(rx, pkt, &m), HID_RX_DONE);
	assert_int_equal(m.cid, 0x01020304);
	assert_int_equal(m.cmd, CTAPHID_PING);
	assert_int_equal(m.len, 5);
	assert_memory_equal(m.data, data, 5);

	/* the largest message: 1 + 128 packets */
	mkinit(pkt, 7, CTAPHID_CBOR, VAUTH_MAX_MSG, data);
	assert_int_equal(hid_rx_push(rx, pkt, &m), HID_RX_MORE);
	for (off = 57, seq = 0; off < VAUTH_MAX_MSG; off += 59, seq++) {
		mkcont(pkt, 7, seq, data + off, 59);
		assert_int_equal(hid_rx_push(rx, pkt, &m),
		    off + 59 >= VAUTH_MAX_MSG ? HID_RX_DONE : HID_RX_MORE);
	}
	assert_int_equal(seq, 128);
	assert_int_equal(m.len, VAUTH_MAX_MSG);
	assert_memory_equal(m.data, data, VAUTH_MAX_MSG);

	/* too long */
	mkinit(pkt, 7, CTAPHID_CBOR, VAUTH_MAX_MSG + 1, data);
	assert_int_equal(hid_rx_push(rx, pkt, &m), HID_RX_ERROR);
	assert_int_equal(m.err, CTAPHID_ERR_INVALID_LEN);

	/* wrong sequence */
	mkinit(pkt, 7, CTAPHID_CBOR, 100, data);
	assert_int_equal(hid_rx_push(rx, pkt, &m), HID_RX_MORE);
	mkcont(pkt, 7, 1, data, 59);
	assert_int_equal(hid_rx_push(rx, pkt, &m), HID_RX_ERROR);
	assert_int_equal(m.err, CTAPHID_ERR_INVALID_SEQ);
	assert_int_equal(rx->busy, 0);

	/* another channel while busy; stray continuation */
	mkinit(pkt, 7, CTAPHID_CBOR, 100, data);
	assert_int_equal(hid_rx_push(rx, pkt, &m), HID_RX_MORE);
	mkinit(pkt, 8, CTAPHID_PING, 1, data);
	assert_int_equal(hid_rx_push(rx, pkt, &m), HID_RX_BUSY);
	assert_int_equal(m.err, CTAPHID_ERR_CHANNEL_BUSY);
	assert_int_equal(m.cid, 8);
	mkcont(pkt, 8, 0, data, 59);
	assert_int_equal(hid_rx_push(rx, pkt, &m), HID_RX_IGNORE);
	mkcont(pkt, 7, 0, data + 57, 43);
	assert_int_equal(hid_rx_push(rx, pkt, &m), HID_RX_DONE);
	assert_int_equal(m.len, 100);
	assert_memory_equal(m.data, data, 100);

	/* INIT on the same channel resynchronises */
	mkinit(pkt, 7, CTAPHID_CBOR, 100, data);
	assert_int_equal(hid_rx_push(rx, pkt, &m), HID_RX_MORE);
	mkinit(pkt, 7, CTAPHID_INIT, 8, data);
	assert_int_equal(hid_rx_push(rx, pkt, &m), HID_RX_DONE);
	assert_int_equal(m.cmd, CTAPHID_INIT);
	mkcont(pkt, 7, 0, data, 59);
	assert_int_equal(hid_rx_push(rx, pkt, &m), HID_RX_IGNORE);

	/* zero-length message */
	mkinit(pkt, 7, CTAPHID_CANCEL, 0, NULL);
	assert_int_equal(hid_rx_push(rx, pkt, &m), HID_RX_DONE);
	assert_int_equal(m.len, 0);
	free(rx);
}

/* fault specs */

static void
fault_specs(void **state)
{
	static const char *good[] = {
	    "timeout:mc",
	    "deny:ga@3",
	    "disconnect:info",
	    "malformed:pin",
	    "noncanonical:cm",
	    "slowkeepalive:500",
	    "status:cfg=0x31",
	    "hang:sel@1",
	    "status:reset=49@2,timeout:any,deny:mc",
	};
	static const char *bad[] = {
	    "",
	    "timeout",
	    "timeout:",
	    "timeout:xx",
	    "bogus:mc",
	    "status:pin",
	    "status:pin=0x100",
	    "status:pin=-1",
	    "slowkeepalive:0",
	    "slowkeepalive:x",
	    "deny:mc@0",
	    "deny:mc@",
	    "deny:mc,",
	    ",deny:mc",
	    "deny:mc@1x",
	};
	struct fault f[VAUTH_MAX_FAULTS];
	const char *why;
	size_t n, i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(fault_parse(good[i], f, &n, &why), 0);
	assert_int_equal(n, 3);
	assert_int_equal(f[0].kind, FAULT_STATUS);
	assert_int_equal(f[0].cmds, FCMD_RESET);
	assert_int_equal(f[0].arg, 49);
	assert_int_equal(f[0].remaining, 2);
	assert_int_equal(f[1].cmds, FCMD_ANY);
	assert_int_equal(f[2].remaining, -1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		assert_int_equal(fault_parse(bad[i], f, &n, &why), -1);
		assert_non_null(why);
	}
}

/* vauth_hid_input with a capturing transport */

struct capture {
	unsigned char pkts[64][64];
	size_t n;
};

static int
cap_tx(void *ctx, const unsigned char *pkt)
{
	struct capture *c = ctx;

	if (c->n < 64)
		memcpy(c->pkts[c->n++], pkt, 64);

	return (0);
}


static uint32_t
get32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

static void
hid_channels(void **state)
{
	static const unsigned char nonce[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	struct capture cap;
	vauth_io_t io = {cap_tx, NULL, &cap};
	vauth_t *v = new_started();
	unsigned char pkt[64], data[100];
	uint32_t cid;

	(void)state;
	memset(&cap, 0, sizeof(cap));
	/* INIT on broadcast */
	mkinit(pkt, CTAPHID_BROADCAST, CTAPHID_INIT, 8, nonce);
	assert_int_equal(vauth_hid_input(v, pkt, &io), VAUTH_OK);
	assert_int_equal(cap.n, 1);
	assert_int_equal(get32(cap.pkts[0]), CTAPHID_BROADCAST);
	assert_int_equal(cap.pkts[0][4], 0x86);
	assert_int_equal(cap.pkts[0][6], 17);
	assert_memory_equal(cap.pkts[0] + 7, nonce, 8);
	cid = get32(cap.pkts[0] + 15);
	assert_true(cid != 0 && cid != CTAPHID_BROADCAST);
	assert_int_equal(cap.pkts[0][19], 2);
	assert_int_equal(cap.pkts[0][23], 0x0d);

	/* PING echo across two frames */
	memset(data, 0x42, sizeof(data));
	cap.n = 0;
	mkinit(pkt, cid, CTAPHID_PING, sizeof(data), data);
	assert_int_equal(vauth_hid_input(v, pkt, &io), VAUTH_OK);
	assert_int_equal(cap.n, 0);
	mkcont(pkt, cid, 0, data, 43);
	assert_int_equal(vauth_hid_input(v, pkt, &io), VAUTH_OK);
	assert_int_equal(cap.n, 2);
	assert_int_equal(cap.pkts[0][4], 0x81);
	assert_int_equal(cap.pkts[0][6], 100);
	assert_int_equal(cap.pkts[1][4], 0);

	/* errors: broadcast CBOR, unknown channel, MSG, LOCK, INIT length */
	cap.n = 0;
	data[0] = CTAP2_CMD_GETINFO;
	mkinit(pkt, CTAPHID_BROADCAST, CTAPHID_CBOR, 1, data);
	assert_int_equal(vauth_hid_input(v, pkt, &io), VAUTH_OK);
	mkinit(pkt, 0x11223344, CTAPHID_CBOR, 1, data);
	assert_int_equal(vauth_hid_input(v, pkt, &io), VAUTH_OK);
	mkinit(pkt, cid, CTAPHID_MSG, 1, data);
	assert_int_equal(vauth_hid_input(v, pkt, &io), VAUTH_OK);
	mkinit(pkt, cid, CTAPHID_LOCK, 1, data);
	assert_int_equal(vauth_hid_input(v, pkt, &io), VAUTH_OK);
	mkinit(pkt, cid, CTAPHID_INIT, 4, data);
	assert_int_equal(vauth_hid_input(v, pkt, &io), VAUTH_OK);
	assert_int_equal(cap.n, 5);
	assert_int_equal(cap.pkts[0][4], 0xbf);
	assert_int_equal(cap.pkts[0][7], CTAPHID_ERR_INVALID_CHANNEL);
	assert_int_equal(cap.pkts[1][7], CTAPHID_ERR_INVALID_CHANNEL);
	assert_int_equal(cap.pkts[2][7], CTAPHID_ERR_INVALID_CMD);
	assert_int_equal(cap.pkts[3][7], CTAPHID_ERR_INVALID_CMD);
	assert_int_equal(cap.pkts[4][7], CTAPHID_ERR_INVALID_LEN);

	/* CANCEL with nothing pending: no reply; CBOR getInfo works */
	cap.n = 0;
	mkinit(pkt, cid, CTAPHID_CANCEL, 0, NULL);
	assert_int_equal(vauth_hid_input(v, pkt, &io), VAUTH_OK);
	assert_int_equal(cap.n, 0);
	mkinit(pkt, cid, CTAPHID_CBOR, 1, data);
	assert_int_equal(vauth_hid_input(v, pkt, &io), VAUTH_OK);
	assert_true(cap.n >= 2);
	assert_int_equal(cap.pkts[0][4], 0x90);
	assert_int_equal(cap.pkts[0][7], 0x00);
	assert_int_equal(cap.pkts[0][8] & 0xe0, 0xa0);

	/* resync on the allocated channel keeps the channel id */
	cap.n = 0;
	mkinit(pkt, cid, CTAPHID_INIT, 8, nonce);
	assert_int_equal(vauth_hid_input(v, pkt, &io), VAUTH_OK);
	assert_int_equal(get32(cap.pkts[0]), cid);
	assert_int_equal(get32(cap.pkts[0] + 15), cid);

	vauth_free(&v);
	assert_null(v);
	vauth_free(&v);
	vauth_free(NULL);
}

/* presence wait: keepalives, a busy channel, CANCEL, a vanished peer */

struct script {
	struct capture cap;
	uint32_t cid;
	int calls;
	int gone;
};

static int
script_tx(void *ctx, const unsigned char *pkt)
{
	struct script *sc = ctx;

	return (cap_tx(&sc->cap, pkt));
}

static int
script_rx(void *ctx, unsigned char *pkt, int ms)
{
	struct script *sc = ctx;

	(void)ms;
	switch (sc->calls++) {
	case 0:
		return (0); /* nothing yet */
	case 1:
		mkinit(pkt, 0x0badcafe, CTAPHID_PING, 1, NULL);
		return (1); /* another channel: busy */
	default:
		if (sc->gone)
			return (-1);
		mkinit(pkt, sc->cid, CTAPHID_CANCEL, 0, NULL);
		return (1);
	}
}

static void
hid_wait_cancel(void **state)
{
	static const unsigned char nonce[8] = {8, 7, 6, 5, 4, 3, 2, 1};
	struct script sc;
	vauth_io_t io = {script_tx, script_rx, &sc};
	vauth_t *v;
	unsigned char pkt[64], req[1] = {CTAP2_CMD_SELECTION};
	size_t i;

	(void)state;
	assert_non_null(v = vauth_new());
	assert_int_equal(vauth_set_presence(v, VAUTH_UP_DELAY, 60000), 0);
	assert_int_equal(vauth_start(v), VAUTH_OK);
	memset(&sc, 0, sizeof(sc));
	mkinit(pkt, CTAPHID_BROADCAST, CTAPHID_INIT, 8, nonce);
	assert_int_equal(vauth_hid_input(v, pkt, &io), VAUTH_OK);
	sc.cid = get32(sc.cap.pkts[0] + 15);
	sc.cap.n = 0;

	/* selection waits for presence; CANCEL ends it with 0x2d */
	mkinit(pkt, sc.cid, CTAPHID_CBOR, 1, req);
	assert_int_equal(vauth_hid_input(v, pkt, &io), VAUTH_OK);
	assert_int_equal(sc.cap.n, 3);
	assert_int_equal(get32(sc.cap.pkts[0]), sc.cid);
	assert_int_equal(sc.cap.pkts[0][4], 0xbb); /* KEEPALIVE UPNEEDED */
	assert_int_equal(sc.cap.pkts[0][7], KEEPALIVE_UPNEEDED);
	assert_int_equal(get32(sc.cap.pkts[1]), 0x0badcafe);
	assert_int_equal(sc.cap.pkts[1][4], 0xbf);
	assert_int_equal(sc.cap.pkts[1][7], CTAPHID_ERR_CHANNEL_BUSY);
	assert_int_equal(sc.cap.pkts[2][4], 0x90);
	assert_int_equal(sc.cap.pkts[2][6], 1);
	assert_int_equal(sc.cap.pkts[2][7], CTAP2_ERR_KEEPALIVE_CANCEL);

	/* the peer vanishes mid-wait: no reply, close the connection */
	sc.calls = 0;
	sc.gone = 1;
	sc.cap.n = 0;
	assert_int_equal(vauth_hid_input(v, pkt, &io), VAUTH_ERR_DISCONNECT);
	for (i = 0; i < sc.cap.n; i++)
		assert_int_not_equal(sc.cap.pkts[i][4], 0x90);
	vauth_reconnect(v);
	/* after a reconnect the old channel is gone */
	sc.cap.n = 0;
	assert_int_equal(vauth_hid_input(v, pkt, &io), VAUTH_OK);
	assert_int_equal(sc.cap.n, 1);
	assert_int_equal(sc.cap.pkts[0][7], CTAPHID_ERR_INVALID_CHANNEL);
	vauth_free(&v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ints_minimal),
	    cmocka_unit_test(map_order),
	    cmocka_unit_test(options_map),
	    cmocka_unit_test(cose_key),
	    cmocka_unit_test(dup_and_noncanonical),
	    cmocka_unit_test(checker),
	    cmocka_unit_test(map_raw),
	    cmocka_unit_test(reassembly),
	    cmocka_unit_test(fault_specs),
	    cmocka_unit_test(hid_channels),
	    cmocka_unit_test(hid_wait_cancel),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
