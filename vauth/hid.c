/*
 * Copyright (c) 2025 provisioning authors.
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * CTAPHID: channels, reassembly of INIT + CONT packets, replies, keepalives
 * and CANCEL while a command waits.
 *
 * CTAP-level errors always travel as the CBOR status byte: libfido2 turns a
 * CTAPHID_ERROR packet into FIDO_ERR_RX and loses the code. CTAPHID errors
 * are used only for framing problems.
 */

#include <string.h>

#include "common.h"
#include "extern.h"

#define VAUTH_VERSION_MAJOR 1
#define VAUTH_VERSION_MINOR 0
#define VAUTH_VERSION_BUILD 0

static uint32_t
get_be32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3]);
}

static void
put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

void
hid_rx_reset(struct hid_rx *rx)
{
	rx->busy = 0;
	rx->cid = 0;
	rx->cmd = 0;
	rx->seq = 0;
	rx->bcnt = 0;
	rx->got = 0;
}

/*
 * Feed one 64-byte packet to the reassembler. Pure: no I/O, no channel
 * policy (the caller checks channel ids on complete messages).
 */
int
hid_rx_push(struct hid_rx *rx, const unsigned char *pkt, struct hid_msg *m)
{
	uint32_t cid = get_be32(pkt);
	size_t n;

	memset(m, 0, sizeof(*m));
	m->cid = cid;

	if (pkt[4] & CTAPHID_TYPE_INIT) {
		m->cmd = pkt[4] & 0x7f;
		if (rx->busy && rx->cid != cid) {
			m->err = CTAPHID_ERR_CHANNEL_BUSY;
			return (HID_RX_BUSY);
		}
		if (rx->busy && m->cmd != CTAPHID_INIT) {
			/* new request on the same channel mid-message */
			hid_rx_reset(rx);
			m->err = CTAPHID_ERR_INVALID_SEQ;
			return (HID_RX_ERROR);
		}
		hid_rx_reset(rx);
		rx->bcnt = (size_t)pkt[5] << 8 | pkt[6];
		if (rx->bcnt > VAUTH_MAX_MSG) {
			hid_rx_reset(rx);
			m->err = CTAPHID_ERR_INVALID_LEN;
			return (HID_RX_ERROR);
		}
		rx->cid = cid;
		rx->cmd = m->cmd;
		n = rx->bcnt < CTAPHID_INIT_DATA ? rx->bcnt : CTAPHID_INIT_DATA;
		memcpy(rx->buf, pkt + 7, n);
		rx->got = n;
		if (rx->got == rx->bcnt)
			goto done;
		rx->busy = 1;
		return (HID_RX_MORE);
	}

	/* continuation packet */
	if (!rx->busy || rx->cid != cid)
		return (HID_RX_IGNORE);
	if (pkt[4] != rx->seq) {
		hid_rx_reset(rx);
		m->err = CTAPHID_ERR_INVALID_SEQ;
		return (HID_RX_ERROR);
	}
	rx->seq++;
	n = rx->bcnt - rx->got;
	if (n > CTAPHID_CONT_DATA)
		n = CTAPHID_CONT_DATA;
	memcpy(rx->buf + rx->got, pkt + 5, n);
	rx->got += n;
	if (rx->got < rx->bcnt)
		return (HID_RX_MORE);
done:
	rx->busy = 0;
	m->cmd = rx->cmd;
	m->data = rx->buf;
	m->len = rx->bcnt;

	return (HID_RX_DONE);
}

static int
send_frames(vauth_t *v, uint32_t cid, uint8_t cmd, const unsigned char *data,
    size_t len, size_t maxframes)
{
	unsigned char pkt[VAUTH_PACKET_LEN];
	size_t off = 0, n, frames = 0;
	uint8_t seq = 0;

	if (v->io == NULL || v->io->tx == NULL)
		return (0);
	if (len > VAUTH_MAX_MSG)
		return (-1);
	memset(pkt, 0, sizeof(pkt));
	put_be32(pkt, cid);
	pkt[4] = CTAPHID_TYPE_INIT | cmd;
	pkt[5] = (unsigned char)(len >> 8);
	pkt[6] = (unsigned char)len;
	n = len < CTAPHID_INIT_DATA ? len : CTAPHID_INIT_DATA;
	if (n)
		memcpy(pkt + 7, data, n);
	off = n;
	if (v->io->tx(v->io->ctx, pkt) < 0)
		return (-1);
	frames++;
	while (off < len && frames < maxframes) {
		memset(pkt, 0, sizeof(pkt));
		put_be32(pkt, cid);
		pkt[4] = seq++;
		n = len - off < CTAPHID_CONT_DATA ? len - off :
						    CTAPHID_CONT_DATA;
		memcpy(pkt + 5, data + off, n);
		off += n;
		if (v->io->tx(v->io->ctx, pkt) < 0)
			return (-1);
		frames++;
	}

	return (0);
}

static int
send_error(vauth_t *v, uint32_t cid, uint8_t err)
{
	return (send_frames(v, cid, CTAPHID_ERROR, &err, 1, 1));
}

static int
cid_known(const vauth_t *v, uint32_t cid)
{
	size_t i;

	for (i = 0; i < v->ncids; i++)
		if (v->cids[i] == cid)
			return (1);

	return (0);
}

static int
cid_alloc(vauth_t *v, uint32_t *cid)
{
	uint32_t c;
	int tries;

	for (tries = 0; tries < 100; tries++) {
		if (vc_random(&c, sizeof(c)) < 0)
			return (-1);
		if (c != 0 && c != CTAPHID_BROADCAST && !cid_known(v, c))
			break;
	}
	if (tries == 100)
		return (-1);
	if (v->ncids == VAUTH_MAX_CIDS) {
		/* forget the oldest channel */
		memmove(v->cids, v->cids + 1,
		    (VAUTH_MAX_CIDS - 1) * sizeof(v->cids[0]));
		v->ncids--;
	}
	v->cids[v->ncids++] = c;
	*cid = c;

	return (0);
}

/* channel state only; PIN and credentials are untouched */
void
hid_reset(vauth_t *v)
{
	hid_rx_reset(&v->rx);
	memset(v->cids, 0, sizeof(v->cids));
	v->ncids = 0;
	v->cur_cid = 0;
}

/*
 * Wait ms milliseconds (ms < 0: until cancelled) on behalf of the request
 * on v->cur_cid, sending KEEPALIVE(status) every interval ms, the first
 * after first_ms. Returns WAIT_DONE, WAIT_CANCEL or WAIT_GONE.
 */
int
hid_wait(vauth_t *v, int ms, uint8_t status, int interval, int first_ms)
{
	unsigned char pkt[VAUTH_PACKET_LEN];
	long long start, t, next_ka, budget;
	uint32_t cid;
	int r;

	if (v->io == NULL || v->io->rx == NULL)
		return (ms < 0 ? WAIT_CANCEL : WAIT_DONE);
	if (ms == 0)
		return (WAIT_DONE);
	if (interval <= 0)
		interval = 100;
	start = now_ms();
	next_ka = start + (first_ms > 0 ? first_ms : 0);

	for (;;) {
		t = now_ms();
		if (ms >= 0 && t - start >= ms)
			return (WAIT_DONE);
		if (t >= next_ka) {
			if (send_frames(v, v->cur_cid, CTAPHID_KEEPALIVE,
				&status, 1, 1) < 0)
				return (WAIT_GONE);
			next_ka = t + interval;
		}
		budget = next_ka - t;
		if (ms >= 0 && start + ms - t < budget)
			budget = start + ms - t;
		if (budget < 0)
			budget = 0;
		if ((r = v->io->rx(v->io->ctx, pkt, (int)budget)) < 0)
			return (WAIT_GONE);
		if (r == 0)
			continue;
		cid = get_be32(pkt);
		if (!(pkt[4] & CTAPHID_TYPE_INIT))
			continue; /* stray continuation */
		if (cid == v->cur_cid &&
		    pkt[4] == (CTAPHID_TYPE_INIT | CTAPHID_CANCEL))
			return (WAIT_CANCEL);
		if ((pkt[4] & 0x7f) == CTAPHID_CANCEL)
			continue; /* nothing pending there */
		if (send_error(v, cid, CTAPHID_ERR_CHANNEL_BUSY) < 0)
			return (WAIT_GONE);
	}
}

static int
do_init(vauth_t *v, const struct hid_msg *m)
{
	unsigned char resp[17];
	uint32_t cid;

	if (m->len != 8)
		return (send_error(v, m->cid, CTAPHID_ERR_INVALID_LEN));
	if (m->cid == CTAPHID_BROADCAST) {
		if (cid_alloc(v, &cid) < 0)
			return (send_error(v, m->cid, 0x7f));
	} else
		cid = m->cid; /* resync */
	ga_clear(v);
	credman_clear(v);
	memcpy(resp, m->data, 8);
	put_be32(resp + 8, cid);
	resp[12] = 2; /* CTAPHID protocol version */
	resp[13] = VAUTH_VERSION_MAJOR;
	resp[14] = VAUTH_VERSION_MINOR;
	resp[15] = VAUTH_VERSION_BUILD;
	resp[16] = CTAPHID_CAP_WINK | CTAPHID_CAP_CBOR | CTAPHID_CAP_NMSG;
	vlog(v, "hid: init on %08x -> %08x", (unsigned)m->cid, (unsigned)cid);

	return (send_frames(v, m->cid, CTAPHID_INIT, resp, sizeof(resp), 1));
}

static int
do_cbor(vauth_t *v, const struct hid_msg *m)
{
	unsigned char resp[VAUTH_MAX_MSG];
	size_t resplen = sizeof(resp);
	int post = 0, r;

	if (m->len == 0)
		return (send_error(v, m->cid, CTAPHID_ERR_INVALID_LEN));
	v->cur_cid = m->cid;
	r = ctap2_dispatch(v, m->data, m->len, resp, &resplen, &post);
	if (r == VAUTH_ABORT) {
		explicit_bzero(resp, sizeof(resp));
		return (VAUTH_ERR_DISCONNECT);
	}
	if (post == FAULT_DISCONNECT) {
		/* the key is pulled mid-message */
		vlog(v, "fault: disconnect after %zu of %zu bytes",
		    resplen > CTAPHID_INIT_DATA ? (size_t)CTAPHID_INIT_DATA :
						  (size_t)0,
		    resplen);
		if (resplen > CTAPHID_INIT_DATA)
			(void)send_frames(v, m->cid, CTAPHID_CBOR, resp,
			    resplen, 1);
		explicit_bzero(resp, sizeof(resp));
		return (VAUTH_ERR_DISCONNECT);
	}
	r = send_frames(v, m->cid, CTAPHID_CBOR, resp, resplen, SIZE_MAX);
	explicit_bzero(resp, sizeof(resp));

	return (r);
}

/*
 * One 64-byte report from the host. Returns VAUTH_OK, or
 * VAUTH_ERR_DISCONNECT when the connection must be closed (the peer went
 * away, or a disconnect fault fired).
 */
int
vauth_hid_input(vauth_t *v, const unsigned char *pkt, const vauth_io_t *io)
{
	struct hid_msg m;
	int r = VAUTH_OK;

	if (v == NULL || pkt == NULL)
		return (VAUTH_ERR_INVALID_ARGUMENT);
	if (!v->started)
		return (VAUTH_ERR_NOT_STARTED);
	v->io = io;

	switch (hid_rx_push(&v->rx, pkt, &m)) {
	case HID_RX_MORE:
	case HID_RX_IGNORE:
		goto out;
	case HID_RX_ERROR:
	case HID_RX_BUSY:
		r = send_error(v, m.cid, m.err);
		goto out;
	default:
		break;
	}

	if (m.cid == 0 ||
	    (m.cid == CTAPHID_BROADCAST && m.cmd != CTAPHID_INIT) ||
	    (m.cid != CTAPHID_BROADCAST && !cid_known(v, m.cid))) {
		r = send_error(v, m.cid, CTAPHID_ERR_INVALID_CHANNEL);
		goto out;
	}

	switch (m.cmd) {
	case CTAPHID_INIT:
		r = do_init(v, &m);
		break;
	case CTAPHID_PING:
		r = send_frames(v, m.cid, CTAPHID_PING, m.data, m.len,
		    SIZE_MAX);
		break;
	case CTAPHID_WINK:
		vlog(v, "hid: wink");
		r = send_frames(v, m.cid, CTAPHID_WINK, NULL, 0, 1);
		break;
	case CTAPHID_CBOR:
		r = do_cbor(v, &m);
		break;
	case CTAPHID_CANCEL:
		break; /* nothing pending: no reply */
	default:
		r = send_error(v, m.cid, CTAPHID_ERR_INVALID_CMD);
		break;
	}
	explicit_bzero(v->rx.buf, sizeof(v->rx.buf));
out:
	v->io = NULL;
	if (r < 0)
		return (r == VAUTH_ERR_DISCONNECT ? r : VAUTH_ERR_DISCONNECT);

	return (VAUTH_OK);
}
