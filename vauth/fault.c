/*
 * Copyright (c) 2025 provisioning authors.
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * Fault injection (--fail SPEC).
 *
 *   SPEC  := ITEM { "," ITEM }
 *   ITEM  := KIND [ ":" ARG ] [ "@" N ]
 *   KIND:ARG is one of
 *     timeout:CMD  deny:CMD  disconnect:CMD  malformed:CMD
 *     noncanonical:CMD  hang:CMD  status:CMD=0xNN  slowkeepalive:MS
 *   CMD   := info | mc | ga | pin | reset | cm | cfg | sel | any
 *   @N    := apply to the first N matching commands only (default: all)
 *
 * Faults are consumed in list order: a command gets the first listed fault
 * that matches it and has uses left, so "timeout:mc@1,malformed:mc@1"
 * times out the first makeCredential and garbles the second. A fault's
 * count drops only when it fires. slowkeepalive is counted separately, per
 * presence wait.
 */

#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "extern.h"

static const struct {
	const char *name;
	int kind;
} kinds[] = {
    {"timeout", FAULT_TIMEOUT},
    {"deny", FAULT_DENY},
    {"disconnect", FAULT_DISCONNECT},
    {"malformed", FAULT_MALFORMED},
    {"noncanonical", FAULT_NONCANONICAL},
    {"slowkeepalive", FAULT_SLOWKEEPALIVE},
    {"status", FAULT_STATUS},
    {"hang", FAULT_HANG},
};

static const struct {
	const char *name;
	int cls;
} cmds[] = {
    {"info", FCMD_INFO},
    {"mc", FCMD_MC},
    {"ga", FCMD_GA},
    {"pin", FCMD_PIN},
    {"reset", FCMD_RESET},
    {"cm", FCMD_CM},
    {"cfg", FCMD_CFG},
    {"sel", FCMD_SEL},
    {"any", FCMD_ANY},
};

static int
parse_cmd(const char *s, int *cls)
{
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(s, cmds[i].name) == 0) {
			*cls = cmds[i].cls;
			return (0);
		}

	return (-1);
}

static int
parse_item(char *item, struct fault *f, const char **why)
{
	char *at, *arg, *eq;
	long long v;
	size_t i;

	memset(f, 0, sizeof(*f));
	f->remaining = -1;
	if ((at = strchr(item, '@')) != NULL) {
		*at++ = '\0';
		if (parse_ll(at, 1, 1000000, &v) < 0) {
			*why = "@N must be a count between 1 and 1000000";
			return (-1);
		}
		f->remaining = (long)v;
	}
	if ((arg = strchr(item, ':')) != NULL)
		*arg++ = '\0';
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(item, kinds[i].name) == 0)
			f->kind = kinds[i].kind;
	if (f->kind == 0) {
		*why = "unknown fault kind (timeout, deny, disconnect, "
		       "malformed, noncanonical, slowkeepalive, status, hang)";
		return (-1);
	}
	if (arg == NULL || *arg == '\0') {
		*why = "fault kind needs an argument (KIND:CMD, "
		       "status:CMD=0xNN, slowkeepalive:MS)";
		return (-1);
	}

	switch (f->kind) {
	case FAULT_SLOWKEEPALIVE:
		if (parse_ll(arg, 1, 600000, &v) < 0) {
			*why = "slowkeepalive:MS needs 1..600000 milliseconds";
			return (-1);
		}
		f->arg = (int)v;
		f->cmds = FCMD_ANY;
		return (0);
	case FAULT_STATUS:
		if ((eq = strchr(arg, '=')) == NULL) {
			*why = "status needs CMD=0xNN";
			return (-1);
		}
		*eq++ = '\0';
		/* CTAP status bytes are written in hex (0x31) */
		if (parse_llx(eq, 0, 255, &v) < 0) {
			*why = "status byte must be 0..255 (e.g. 0x31)";
			return (-1);
		}
		f->arg = (int)v;
		break;
	default:
		break;
	}
	if (parse_cmd(arg, &f->cmds) < 0) {
		*why = "unknown command (info, mc, ga, pin, reset, cm, cfg, "
		       "sel, any)";
		return (-1);
	}

	return (0);
}

/* Parse spec into out[0..*n); on error *why says what is wrong. */
int
fault_parse(const char *spec, struct fault *out, size_t *n, const char **why)
{
	char *copy = NULL, *p, *item;
	int r = -1;

	*n = 0;
	*why = "empty fault spec";
	if (spec == NULL || *spec == '\0' || strlen(spec) > 4096)
		return (-1);
	if ((copy = strdup(spec)) == NULL) {
		*why = "out of memory";
		return (-1);
	}
	p = copy;
	while ((item = strsep(&p, ",")) != NULL) {
		if (*item == '\0') {
			*why = "empty item in fault spec";
			goto fail;
		}
		if (*n == VAUTH_MAX_FAULTS) {
			*why = "too many faults";
			goto fail;
		}
		if (parse_item(item, &out[*n], why) < 0)
			goto fail;
		(*n)++;
	}

	*why = NULL;
	r = 0;
fail:
	free(copy);
	if (r < 0)
		*n = 0;

	return (r);
}

/* CTAP command byte to FCMD_* class (0 if none). */
int
fault_cmd_class(uint8_t cmd)
{
	switch (cmd) {
	case CTAP2_CMD_GETINFO:
		return (FCMD_INFO);
	case CTAP2_CMD_MAKECRED:
		return (FCMD_MC);
	case CTAP2_CMD_GETASSERT:
	case CTAP2_CMD_NEXTASSERT:
		return (FCMD_GA);
	case CTAP2_CMD_CLIENTPIN:
		return (FCMD_PIN);
	case CTAP2_CMD_RESET:
		return (FCMD_RESET);
	case CTAP2_CMD_CREDMGMT:
	case CTAP2_CMD_CREDMGMT_PRE:
		return (FCMD_CM);
	case CTAP2_CMD_CONFIG:
		return (FCMD_CFG);
	case CTAP2_CMD_SELECTION:
		return (FCMD_SEL);
	default:
		return (0);
	}
}

/*
 * The first fault of one of the given kinds that matches command class
 * cls and has uses left; its use is counted. cls 0 matches nothing.
 */
const struct fault *
fault_take(vauth_t *v, int cls, const int *kind, size_t nkind)
{
	struct fault *f;
	size_t i, k;

	if (cls == 0)
		return (NULL);
	for (i = 0; i < v->nfaults; i++) {
		f = &v->faults[i];
		if ((f->cmds & cls) == 0 || f->remaining == 0)
			continue;
		for (k = 0; k < nkind; k++) {
			if (f->kind != kind[k])
				continue;
			if (f->remaining > 0)
				f->remaining--;
			return (f);
		}
	}

	return (NULL);
}
