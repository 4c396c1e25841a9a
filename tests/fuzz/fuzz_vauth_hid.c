/*
 * Copyright (c) 2025 provisioning authors.
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * libFuzzer target: vauth's CTAPHID layer. The input is a sequence of
 * 64-byte reports (a short tail is zero-padded) fed to vauth_hid_input()
 * on an in-memory authenticator with no presence waits. A report whose
 * channel id is 00000001 is sent on the channel most recently allocated by
 * INIT, so the fuzzer can reach CBOR, PING and the reassembly of long
 * messages on a live channel. Every reply packet is checked for shape.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define MAX_PACKETS	256
#define PLACEHOLDER_CID 0x00000001U

static vauth_t *v;
static uint32_t last_cid;

static int
tx(void *ctx, const unsigned char *pkt)
{
	(void)ctx;
	/* INIT reply on broadcast: remember the new channel */
	if (memcmp(pkt, "\xff\xff\xff\xff\x86\x00\x11", 7) == 0)
		last_cid = (uint32_t)pkt[15] << 24 | (uint32_t)pkt[16] << 16 |
		    (uint32_t)pkt[17] << 8 | pkt[18];
	if ((pkt[4] & 0x80) && ((size_t)pkt[5] << 8 | pkt[6]) > VAUTH_MAX_MSG)
		abort();

	return (0);
}

static void
setup(void)
{
	if (v != NULL)
		return;
	if ((v = vauth_new()) == NULL || vauth_start(v) != VAUTH_OK)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const vauth_io_t io = {tx, NULL, NULL};
	unsigned char pkt[VAUTH_PACKET_LEN];
	size_t off, n, i = 0;

	setup();
	/* a fresh authenticator state for each input */
	if (state_fresh(v) < 0 || pin_power_up(v) < 0)
		abort();
	vauth_reconnect(v);
	last_cid = 0;

	for (off = 0; off < size && i < MAX_PACKETS; off += n, i++) {
		n = size - off < sizeof(pkt) ? size - off : sizeof(pkt);
		memset(pkt, 0, sizeof(pkt));
		memcpy(pkt, data + off, n);
		if (last_cid != 0 && pkt[0] == 0 && pkt[1] == 0 &&
		    pkt[2] == 0 && pkt[3] == (PLACEHOLDER_CID & 0xff)) {
			pkt[0] = (unsigned char)(last_cid >> 24);
			pkt[1] = (unsigned char)(last_cid >> 16);
			pkt[2] = (unsigned char)(last_cid >> 8);
			pkt[3] = (unsigned char)last_cid;
		}
		if (vauth_hid_input(v, pkt, &io) != VAUTH_OK)
			vauth_reconnect(v);
	}

	return (0);
}
