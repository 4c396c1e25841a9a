/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Finding keys: USB through libfido2's manifest (hidraw, usage page
 * 0xF1D0) enriched with hidapi's serial number, plus vauth sockets
 * named by --device unix:PATH or found in --virtual-keys DIR.
 */

#include <sys/stat.h>

#include <dirent.h>
#include <hidapi/hidapi.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "ctap_int.h"

#define MAX_KEYS	256

struct ctap_key {
	char		*path;
	char		*manufacturer;
	char		*product;
	char		*serial;
	uint16_t	 vendor;
	uint16_t	 product_id;
	bool		 virtual;
	int		 status;
};

struct ctap_devlist {
	struct ctap_key	keys[MAX_KEYS];
	size_t		len;
};

ctap_devlist_t *
ctap_devlist_new(void)
{
	return (calloc(1, sizeof(ctap_devlist_t)));
}

static void
key_reset(struct ctap_key *k)
{
	free(k->path);
	free(k->manufacturer);
	free(k->product);
	free(k->serial);
	memset(k, 0, sizeof(*k));
}

void
ctap_devlist_free(ctap_devlist_t **lp)
{
	ctap_devlist_t	*l;
	size_t		 i;

	if (lp == NULL || (l = *lp) == NULL)
		return;
	for (i = 0; i < l->len; i++)
		key_reset(&l->keys[i]);
	free(l);
	*lp = NULL;
}

static char *
sdup(const char *s)
{
	return (strdup(s != NULL ? s : ""));
}

static int
add_key(ctap_devlist_t *l, const char *path, const char *mf,
    const char *prod, uint16_t vid, uint16_t pid, bool virt)
{
	struct ctap_key	*k;
	size_t		 i;

	for (i = 0; i < l->len; i++)
		if (strcmp(l->keys[i].path, path) == 0)
			return (CTAP_OK);	/* named twice */
	if (l->len == MAX_KEYS)
		return (CTAP_ERR_ARG);
	k = &l->keys[l->len];
	if ((k->path = sdup(path)) == NULL || (k->manufacturer =
	    sdup(mf)) == NULL || (k->product = sdup(prod)) == NULL ||
	    (k->serial = sdup("")) == NULL) {
		key_reset(k);
		return (CTAP_ERR_INTERNAL);
	}
	k->vendor = vid;
	k->product_id = pid;
	k->virtual = virt;
	l->len++;

	return (CTAP_OK);
}

static int
scan_usb(ctap_devlist_t *l)
{
	fido_dev_info_t		*di = NULL;
	const fido_dev_info_t	*e;
	size_t			 n = 0, i;
	int			 r = CTAP_OK;

	if ((di = fido_dev_info_new(64)) == NULL)
		return (CTAP_ERR_INTERNAL);
	if (fido_dev_info_manifest(di, 64, &n) != FIDO_OK)
		n = 0;
	for (i = 0; i < n && r == CTAP_OK; i++) {
		e = fido_dev_info_ptr(di, i);
		r = add_key(l, fido_dev_info_path(e),
		    fido_dev_info_manufacturer_string(e),
		    fido_dev_info_product_string(e),
		    (uint16_t)fido_dev_info_vendor(e),
		    (uint16_t)fido_dev_info_product(e), false);
	}
	fido_dev_info_free(&di, 64);

	return (r);
}

/* hidapi knows the USB serial string; libfido2's manifest does not */
static void
enrich_hidapi(ctap_devlist_t *l)
{
	struct hid_device_info	*all, *h;
	size_t			 i;
	char			 buf[128];

	if (hid_init() != 0)
		return;
	all = hid_enumerate(0, 0);
	for (h = all; h != NULL; h = h->next) {
		if (h->usage_page != 0xf1d0 || h->serial_number == NULL)
			continue;
		for (i = 0; i < l->len; i++) {
			if (l->keys[i].virtual ||
			    strcmp(l->keys[i].path, h->path) != 0)
				continue;
			if (wcstombs(buf, h->serial_number, sizeof(buf)) ==
			    (size_t)-1)
				continue;
			buf[sizeof(buf) - 1] = '\0';
			free(l->keys[i].serial);
			l->keys[i].serial = sdup(buf);
		}
	}
	hid_free_enumeration(all);
	hid_exit();
}

static int
cmp_str(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

static int
scan_vdir(ctap_devlist_t *l, const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	char		 path[PATH_MAX], *names[MAX_KEYS];
	size_t		 n = 0, i;
	int		 r = CTAP_OK;

	if ((d = opendir(dir)) == NULL)
		return (CTAP_ERR_NO_DEVICE);
	while ((de = readdir(d)) != NULL && n < MAX_KEYS) {
		if (snprintf(path, sizeof(path), "unix:%s/%s", dir,
		    de->d_name) >= (int)sizeof(path) ||
		    stat(path + 5, &st) < 0 || !S_ISSOCK(st.st_mode))
			continue;
		if ((names[n] = strdup(path)) != NULL)
			n++;
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_str);
	for (i = 0; i < n; i++) {
		if (r == CTAP_OK)
			r = add_key(l, names[i], "provisioning", "vauth", 0, 0,
			    true);
		free(names[i]);
	}

	return (r);
}

static void
probe(struct ctap_key *k)
{
	ctap_dev_t *d;

	if ((d = ctap_dev_new()) == NULL) {
		k->status = CTAP_ERR_INTERNAL;
		return;
	}
	k->status = ctap_dev_open(d, k->path);
	ctap_dev_free(&d);
}

int
ctap_devlist_scan(ctap_devlist_t *l, const char *device, const char *vdir,
    bool do_probe)
{
	size_t	i;
	int	r;

	ctap_init();
	if (device != NULL) {
		if ((r = add_key(l, device, "", "", 0, 0,
		    strncmp(device, "unix:", 5) == 0)) != CTAP_OK)
			return (r);
	} else {
		if (vdir != NULL && (r = scan_vdir(l, vdir)) != CTAP_OK)
			return (r);
		if ((r = scan_usb(l)) != CTAP_OK)
			return (r);
		enrich_hidapi(l);
	}
	for (i = 0; i < l->len; i++) {
		if (l->keys[i].virtual && l->keys[i].product[0] == '\0') {
			free(l->keys[i].product);
			l->keys[i].product = sdup("vauth");
		}
		if (do_probe)
			probe(&l->keys[i]);
	}

	return (CTAP_OK);
}

size_t
ctap_devlist_len(const ctap_devlist_t *l)
{
	return (l->len);
}

const char *
ctap_devlist_path(const ctap_devlist_t *l, size_t i)
{
	return (l->keys[i].path);
}

const char *
ctap_devlist_manufacturer(const ctap_devlist_t *l, size_t i)
{
	return (l->keys[i].manufacturer);
}

const char *
ctap_devlist_product(const ctap_devlist_t *l, size_t i)
{
	return (l->keys[i].product);
}

const char *
ctap_devlist_serial(const ctap_devlist_t *l, size_t i)
{
	return (l->keys[i].serial);
}

uint16_t
ctap_devlist_vendor(const ctap_devlist_t *l, size_t i)
{
	return (l->keys[i].vendor);
}

uint16_t
ctap_devlist_product_id(const ctap_devlist_t *l, size_t i)
{
	return (l->keys[i].product_id);
}

bool
ctap_devlist_virtual(const ctap_devlist_t *l, size_t i)
{
	return (l->keys[i].virtual);
}

int
ctap_devlist_status(const ctap_devlist_t *l, size_t i)
{
	return (l->keys[i].status);
}
