/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * libfido2 codes become CTAP_ERR_* here and nowhere else.  Messages say
 * what happened and what the operator can do about it.
 */

#include <stdio.h>

#include "ctap_int.h"

const char *
ctap_strerr(int r)
{
	switch (r) {
	case CTAP_OK:
		return ("success");
	case CTAP_ERR_INTERNAL:
		return ("internal error (out of memory or a bug)");
	case CTAP_ERR_ARG:
		return ("invalid argument");
	case CTAP_ERR_NO_DEVICE:
		return ("no security key found at that path; plug one in "
		    "or check --device");
	case CTAP_ERR_NOT_FIDO2:
		return ("this key only speaks U2F/CTAP1; a FIDO2 key with a "
		    "PIN and resident keys is needed");
	case CTAP_ERR_IO:
		return ("the key stopped answering (pulled out?); plug it "
		    "back in and retry");
	case CTAP_ERR_TIMEOUT:
		return ("no touch in time; touch the key when it blinks");
	case CTAP_ERR_CANCELLED:
		return ("operation cancelled");
	case CTAP_ERR_DENIED:
		return ("the key refused the operation (user declined)");
	case CTAP_ERR_PIN_INVALID:
		return ("wrong PIN");
	case CTAP_ERR_PIN_BLOCKED:
		return ("PIN blocked: no retries left; the key must be reset "
		    "(this deletes all its passkeys)");
	case CTAP_ERR_PIN_AUTH_BLOCKED:
		return ("too many wrong PINs in a row; unplug and replug the "
		    "key, then retry");
	case CTAP_ERR_PIN_NOT_SET:
		return ("the key has no PIN; set one with 'pin set'");
	case CTAP_ERR_PIN_REQUIRED:
		return ("the key needs its PIN for this operation");
	case CTAP_ERR_PIN_POLICY:
		return ("the PIN breaks the key's rules (length or "
		    "complexity)");
	case CTAP_ERR_EXCLUDED:
		return ("this key already holds a passkey for this user");
	case CTAP_ERR_KEY_FULL:
		return ("the key is full: no room for another passkey; "
		    "delete one or use another key");
	case CTAP_ERR_UNSUPPORTED:
		return ("the key does not support a required feature "
		    "(ES256, resident keys, credProtect or hmac-secret)");
	case CTAP_ERR_NOT_ALLOWED:
		return ("the key does not allow this now (reset works only "
		    "within seconds of plugging the key in)");
	case CTAP_ERR_PROTOCOL:
		return ("the key sent a malformed or unexpected reply");
	case CTAP_ERR_VERIFY:
		return ("the key's attestation or signature did not verify");
	case CTAP_ERR_NO_CREDENTIALS:
		return ("the key holds no matching credential");
	case CTAP_ERR_PIN_CHANGE:
		return ("the key requires a PIN change before use; run "
		    "'pin change'");
	default:
		return ("unknown error");
	}
}

/*
 * libfido2 reports both a pulled key and a budget that ran out as
 * FIDO_ERR_RX; the elapsed time tells them apart.
 */
int
ctap_from_fido(ctap_dev_t *d, int fr, long long elapsed_ms)
{
	if (d != NULL)
		d->last_fido = fr;
	switch (fr) {
	case FIDO_OK:
		return (CTAP_OK);
	case FIDO_ERR_TX:
		return (CTAP_ERR_IO);
	case FIDO_ERR_RX:
		if (d != NULL && d->timeout_ms > 0 &&
		    elapsed_ms + 250 >= d->timeout_ms)
			return (CTAP_ERR_TIMEOUT);
		return (CTAP_ERR_IO);
	case FIDO_ERR_RX_NOT_CBOR:
	case FIDO_ERR_RX_INVALID_CBOR:
	case FIDO_ERR_INVALID_CBOR:
	case FIDO_ERR_CBOR_UNEXPECTED_TYPE:
	case FIDO_ERR_INVALID_LENGTH:
	case FIDO_ERR_INVALID_SEQ:
	case FIDO_ERR_INVALID_COMMAND:
	case FIDO_ERR_PIN_AUTH_INVALID:
	case FIDO_ERR_MISSING_PARAMETER:
	case FIDO_ERR_INVALID_PARAMETER:
		return (CTAP_ERR_PROTOCOL);
	case FIDO_ERR_KEEPALIVE_CANCEL:
		return (CTAP_ERR_CANCELLED);
	case FIDO_ERR_USER_ACTION_TIMEOUT:
	case FIDO_ERR_ACTION_TIMEOUT:
	case FIDO_ERR_TIMEOUT:
		return (CTAP_ERR_TIMEOUT);
	case FIDO_ERR_OPERATION_DENIED:
	case FIDO_ERR_USER_PRESENCE_REQUIRED:
	case FIDO_ERR_UP_REQUIRED:
		return (CTAP_ERR_DENIED);
	case FIDO_ERR_PIN_INVALID:
		return (CTAP_ERR_PIN_INVALID);
	case FIDO_ERR_PIN_BLOCKED:
		return (CTAP_ERR_PIN_BLOCKED);
	case FIDO_ERR_PIN_AUTH_BLOCKED:
		return (CTAP_ERR_PIN_AUTH_BLOCKED);
	case FIDO_ERR_PIN_NOT_SET:
		return (CTAP_ERR_PIN_NOT_SET);
	case FIDO_ERR_PIN_REQUIRED:
		return (CTAP_ERR_PIN_REQUIRED);
	case FIDO_ERR_PIN_POLICY_VIOLATION:
		return (CTAP_ERR_PIN_POLICY);
	case FIDO_ERR_CREDENTIAL_EXCLUDED:
		return (CTAP_ERR_EXCLUDED);
	case FIDO_ERR_KEY_STORE_FULL:
	case FIDO_ERR_FP_DATABASE_FULL:
		return (CTAP_ERR_KEY_FULL);
	case FIDO_ERR_UNSUPPORTED_ALGORITHM:
	case FIDO_ERR_UNSUPPORTED_OPTION:
	case FIDO_ERR_UNSUPPORTED_EXTENSION:
	case FIDO_ERR_INVALID_OPTION:
		return (CTAP_ERR_UNSUPPORTED);
	case FIDO_ERR_NOT_ALLOWED:
		return (CTAP_ERR_NOT_ALLOWED);
	case FIDO_ERR_NO_CREDENTIALS:
		return (CTAP_ERR_NO_CREDENTIALS);
	case FIDO_ERR_INVALID_SIG:
	case FIDO_ERR_INVALID_PARAM:
		return (CTAP_ERR_VERIFY);
	case FIDO_ERR_INVALID_ARGUMENT:
		return (CTAP_ERR_ARG);
	case FIDO_ERR_CHANNEL_BUSY:
	case FIDO_ERR_LOCK_REQUIRED:
	case FIDO_ERR_INVALID_CHANNEL:
		return (CTAP_ERR_IO);
	default:
		return (CTAP_ERR_PROTOCOL);
	}
}

void
ctap_aaguid_str(const unsigned char *p, size_t len, char out[37])
{
	if (p == NULL || len != 16) {
		out[0] = '\0';
		return;
	}
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", p[0], p[1], p[2], p[3], p[4], p[5],
	    p[6], p[7], p[8], p[9], p[10], p[11], p[12], p[13], p[14], p[15]);
}
