/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Opening, closing and cancelling a key.
 */

#include <stdlib.h>
#include <string.h>

#include "ctap_int.h"

static _Thread_local bool thread_ready;

static void
quiet(const char *msg)
{
	/* libfido2's debug output hex-dumps PIN traffic: never print it */
	(void)msg;
}

/*
 * libfido2 keeps its flags per thread: without
 * FIDO_DISABLE_U2F_FALLBACK a key whose getInfo fails silently turns
 * into a U2F device.
 */
void
ctap_init(void)
{
	if (thread_ready)
		return;
	fido_init(FIDO_DISABLE_U2F_FALLBACK);
	fido_set_log_handler(quiet);
	thread_ready = true;
}

ctap_dev_t *
ctap_dev_new(void)
{
	ctap_dev_t *d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return (NULL);
	d->timeout_ms = CTAP_TOUCH_TIMEOUT_MS;
	d->retries = -1;
	pthread_mutex_init(&d->lock, NULL);

	return (d);
}

void
ctap_dev_free(ctap_dev_t **dp)
{
	ctap_dev_t *d;

	if (dp == NULL || (d = *dp) == NULL)
		return;
	ctap_dev_close(d);
	pthread_mutex_destroy(&d->lock);
	free(d->path);
	free(d);
	*dp = NULL;
}

int
ctap_dev_open(ctap_dev_t *d, const char *path)
{
	fido_dev_t	*fd = NULL;
	int		 r, fr;

	ctap_init();
	if (d == NULL || path == NULL || d->open)
		return (CTAP_ERR_ARG);
	free(d->path);
	if ((d->path = strdup(path)) == NULL ||
	    (fd = fido_dev_new()) == NULL) {
		r = CTAP_ERR_INTERNAL;
		goto fail;
	}
	if (strncmp(path, "unix:", 5) == 0 &&
	    fido_dev_set_io_functions(fd, &ctap_unix_io) != FIDO_OK) {
		r = CTAP_ERR_INTERNAL;
		goto fail;
	}
	fido_dev_set_timeout(fd, CTAP_CMD_TIMEOUT_MS);
	if ((fr = fido_dev_open(fd, path)) != FIDO_OK) {
		/* a key that answers garbage is not a missing key */
		d->last_fido = fr;
		r = fr == FIDO_ERR_RX_NOT_CBOR || fr == FIDO_ERR_RX_INVALID_CBOR ||
		    fr == FIDO_ERR_INVALID_CBOR ||
		    fr == FIDO_ERR_CBOR_UNEXPECTED_TYPE ? CTAP_ERR_PROTOCOL :
		    CTAP_ERR_NO_DEVICE;
		goto fail;
	}
	if (!fido_dev_is_fido2(fd)) {
		fido_dev_close(fd);
		r = CTAP_ERR_NOT_FIDO2;
		goto fail;
	}
	pthread_mutex_lock(&d->lock);
	d->dev = fd;
	d->open = true;
	pthread_mutex_unlock(&d->lock);
	fd = NULL;
	r = CTAP_OK;
fail:
	fido_dev_free(&fd);

	return (r);
}

int
ctap_dev_close(ctap_dev_t *d)
{
	if (d == NULL)
		return (CTAP_ERR_ARG);
	pthread_mutex_lock(&d->lock);
	if (d->open) {
		fido_dev_close(d->dev);
		fido_dev_free(&d->dev);
		d->open = false;
	}
	pthread_mutex_unlock(&d->lock);

	return (CTAP_OK);
}

const char *
ctap_dev_path(const ctap_dev_t *d)
{
	return (d->path);
}

void
ctap_dev_set_timeout(ctap_dev_t *d, int ms)
{
	d->timeout_ms = ms < 0 ? -1 : ms;
}

/* set the libfido2 budget for the next call */
void
ctap_dev_begin(ctap_dev_t *d, int timeout_ms)
{
	ctap_init();
	fido_dev_set_timeout(d->dev, timeout_ms);
}

/* safe from another thread while this key waits for a touch */
int
ctap_dev_cancel(ctap_dev_t *d)
{
	int r = CTAP_ERR_ARG;

	if (d == NULL)
		return (r);
	pthread_mutex_lock(&d->lock);
	if (d->open)
		r = fido_dev_cancel(d->dev) == FIDO_OK ? CTAP_OK : CTAP_ERR_IO;
	pthread_mutex_unlock(&d->lock);

	return (r);
}

int
ctap_dev_retries(const ctap_dev_t *d)
{
	return (d->retries);
}
