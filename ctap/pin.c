/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * PIN rules, generation and the clientPIN verbs.
 */

#include <openssl/rand.h>

#include <stdlib.h>
#include <string.h>

#include "ctap_int.h"

static size_t
utf8_chars(const unsigned char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			n++;

	return (n);
}

/*
 * CTAP counts minPINLength in code points and caps a PIN at 63 bytes;
 * refuse locally what the key would refuse, before spending a retry.
 */
int
ctap_pin_check(const char *pin, size_t minlen)
{
	size_t len;

	if (pin == NULL)
		return (CTAP_ERR_ARG);
	len = strlen(pin);
	if (len > CTAP_PIN_MAX || !utf8_valid(pin, len))
		return (CTAP_ERR_PIN_POLICY);
	if (minlen < CTAP_PIN_MIN)
		minlen = CTAP_PIN_MIN;
	if (utf8_chars((const unsigned char *)pin, len) < minlen)
		return (CTAP_ERR_PIN_POLICY);

	return (CTAP_OK);
}

/*
 * The strictest vendor rules seen (Token2 PIN+ and the like): digits
 * only, no digit three times in a row, no run of three ascending or
 * descending digits, not a palindrome, and at least four distinct
 * digits (so no "121212").
 */
bool
ctap_pin_strong(const char *pin)
{
	size_t	len, i, ndist = 0;
	int	seen[10] = { 0 };
	bool	pal = true;

	if (pin == NULL || (len = strlen(pin)) < 6 || len > CTAP_PIN_MAX)
		return (false);
	for (i = 0; i < len; i++) {
		if (pin[i] < '0' || pin[i] > '9')
			return (false);
		if (!seen[pin[i] - '0']++)
			ndist++;
		if (pin[i] != pin[len - 1 - i])
			pal = false;
		if (i < 2)
			continue;
		if (pin[i] == pin[i - 1] && pin[i] == pin[i - 2])
			return (false);
		if (pin[i] - pin[i - 1] == 1 && pin[i - 1] - pin[i - 2] == 1)
			return (false);
		if (pin[i - 1] - pin[i] == 1 && pin[i - 2] - pin[i - 1] == 1)
			return (false);
	}

	return (!pal && ndist >= 4);
}

static int
rand_digit(void)
{
	unsigned char b;

	/* rejection sampling keeps the digits uniform */
	do {
		if (RAND_bytes(&b, 1) != 1)
			return (-1);
	} while (b >= 250);

	return (b % 10);
}

int
ctap_pin_random(char *out, size_t len)
{
	size_t	i;
	int	d, tries;

	if (out == NULL || len < 6 || len > CTAP_PIN_MAX)
		return (CTAP_ERR_ARG);
	for (tries = 0; tries < 1000; tries++) {
		for (i = 0; i < len; i++) {
			if ((d = rand_digit()) < 0) {
				explicit_bzero(out, len);
				return (CTAP_ERR_INTERNAL);
			}
			out[i] = (char)('0' + d);
		}
		out[len] = '\0';
		if (ctap_pin_strong(out))
			return (CTAP_OK);
	}
	explicit_bzero(out, len + 1);

	return (CTAP_ERR_INTERNAL);
}

int
ctap_dev_pin_status(ctap_dev_t *d, bool *has_pin, int *retries)
{
	long long	t0;
	int		fr, n = -1;

	if (d == NULL || !d->open)
		return (CTAP_ERR_ARG);
	*has_pin = fido_dev_has_pin(d->dev);
	*retries = -1;
	if (!*has_pin)
		return (CTAP_OK);
	ctap_dev_begin(d, CTAP_CMD_TIMEOUT_MS);
	t0 = now_ms();
	if ((fr = fido_dev_get_retry_count(d->dev, &n)) != FIDO_OK)
		return (ctap_from_fido(d, fr, now_ms() - t0));
	*retries = n;
	d->retries = n;

	return (CTAP_OK);
}

/* after a PIN error, learn how many tries are left for the message */
int
ctap_pin_fail(ctap_dev_t *d, int fr, long long elapsed)
{
	int r, n;

	r = ctap_from_fido(d, fr, elapsed);
	if (r == CTAP_ERR_PIN_INVALID && fido_dev_get_retry_count(d->dev,
	    &n) == FIDO_OK)
		d->retries = n;
	else if (r == CTAP_ERR_PIN_BLOCKED)
		d->retries = 0;

	return (r);
}

static int
pin_min_len(ctap_dev_t *d, size_t *minlen)
{
	ctap_info_t	*ci = NULL;
	int		 r;

	*minlen = CTAP_PIN_MIN;
	if ((ci = ctap_info_new()) == NULL)
		return (CTAP_ERR_INTERNAL);
	if ((r = ctap_dev_get_info(d, ci)) == CTAP_OK)
		*minlen = (size_t)ctap_info_min_pin_length(ci);
	ctap_info_free(&ci);

	return (r);
}

int
ctap_dev_pin_set(ctap_dev_t *d, const char *pin)
{
	size_t		minlen;
	long long	t0;
	int		r, fr;

	if (d == NULL || !d->open || pin == NULL)
		return (CTAP_ERR_ARG);
	if ((r = pin_min_len(d, &minlen)) != CTAP_OK)
		return (r);
	if ((r = ctap_pin_check(pin, minlen)) != CTAP_OK)
		return (r);
	ctap_dev_begin(d, CTAP_CMD_TIMEOUT_MS);
	t0 = now_ms();
	if ((fr = fido_dev_set_pin(d->dev, pin, NULL)) != FIDO_OK)
		return (ctap_pin_fail(d, fr, now_ms() - t0));

	return (CTAP_OK);
}

int
ctap_dev_pin_change(ctap_dev_t *d, const char *oldpin, const char *newpin)
{
	size_t		minlen;
	long long	t0;
	int		r, fr;

	if (d == NULL || !d->open || oldpin == NULL || newpin == NULL)
		return (CTAP_ERR_ARG);
	if ((r = pin_min_len(d, &minlen)) != CTAP_OK)
		return (r);
	if ((r = ctap_pin_check(newpin, minlen)) != CTAP_OK)
		return (r);
	if (ctap_pin_check(oldpin, CTAP_PIN_MIN) != CTAP_OK)
		return (CTAP_ERR_PIN_INVALID);
	ctap_dev_begin(d, CTAP_CMD_TIMEOUT_MS);
	t0 = now_ms();
	if ((fr = fido_dev_set_pin(d->dev, newpin, oldpin)) != FIDO_OK)
		return (ctap_pin_fail(d, fr, now_ms() - t0));

	return (CTAP_OK);
}
