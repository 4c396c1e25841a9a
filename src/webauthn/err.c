/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The module's error codes in words.
 */

#include "webauthn.h"

const char *
webauthn_strerr(int r)
{
	switch (r) {
	case WEBAUTHN_OK:
		return ("success");
	case WEBAUTHN_ERR_INTERNAL:
		return ("internal error");
	case WEBAUTHN_ERR_ARG:
		return ("invalid argument");
	case WEBAUTHN_ERR_JSON:
		return ("malformed JSON");
	case WEBAUTHN_ERR_OPTIONS:
		return ("unusable creationOptions");
	case WEBAUTHN_ERR_BODY:
		return ("malformed registration body");
	case WEBAUTHN_ERR_VERIFY:
		return ("registration does not match the options");
	case WEBAUTHN_ERR_RP:
		return ("creationOptions for another relying party");
	default:
		return ("unknown error");
	}
}
