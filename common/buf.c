/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * A growable byte buffer for secrets and untrusted input.  It grows
 * by copying and wipes the old block (realloc() would leave a copy of
 * a token or PIN in freed memory), and it never holds more than the
 * ceiling its owner gives it.
 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define BUF_MINCAP	256

void
buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	/* keeps max + 1 and the doubling below from overflowing */
	b->max = max < SIZE_MAX / 2 ? max : SIZE_MAX / 2;
}

static int
fail(struct buf *b, int e)
{
	if (b->err == 0)
		b->err = e;
	errno = b->err;

	return (-1);
}

int
buf_reserve(struct buf *b, size_t n)
{
	unsigned char	*p;
	size_t		 need, cap;

	if (b->err != 0)
		return (fail(b, b->err));
	if (n > b->max || b->len > b->max - n)
		return (fail(b, EFBIG));
	need = b->len + n + 1;		/* the NUL */
	if (need <= b->cap)
		return (0);
	cap = b->cap > BUF_MINCAP ? b->cap : BUF_MINCAP;
	while (cap < need)
		cap *= 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	if ((p = malloc(cap)) == NULL)
		return (fail(b, ENOMEM));
	if (b->ptr != NULL) {
		memcpy(p, b->ptr, b->len + 1);
		freezero_buf(b->ptr, b->cap);
	} else
		p[0] = '\0';
	b->ptr = p;
	b->cap = cap;

	return (0);
}

int
buf_append(struct buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return (-1);
	if (n > 0)
		memcpy(b->ptr + b->len, p, n);
	b->len += n;
	b->ptr[b->len] = '\0';

	return (0);
}

int
buf_puts(struct buf *b, const char *s)
{
	return (buf_append(b, s, strlen(s)));
}

const char *
buf_str(const struct buf *b)
{
	return (b->ptr != NULL ? (const char *)b->ptr : "");
}

void
buf_clear(struct buf *b)
{
	if (b->ptr != NULL) {
		explicit_bzero(b->ptr, b->len);
		b->ptr[0] = '\0';
	}
	b->len = 0;
	b->err = 0;
}

void
buf_reset(struct buf *b)
{
	size_t	max = b->max;

	freezero_buf(b->ptr, b->cap);
	memset(b, 0, sizeof(*b));
	b->max = max;
}

unsigned char *
buf_release(struct buf *b, size_t *len)
{
	unsigned char	*p = NULL;

	*len = 0;
	/* an empty buffer still hands over "", as callers print it */
	if (b->err == 0 && buf_reserve(b, 0) == 0) {
		p = b->ptr;
		*len = b->len;
		b->ptr = NULL;
	}
	buf_reset(b);

	return (p);
}
