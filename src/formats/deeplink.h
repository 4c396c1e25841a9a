/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * entra-provision:// deep links.  A link comes from a web page or
 * another program, so it is untrusted: it is parsed strictly, carries
 * no secrets, and only ever names one user to enroll after the
 * operator confirms (cmd_deeplink.c).
 *
 * Grammar (RFC 3986 terms; ABNF):
 *
 *   link    = scheme "://" action [ "/" ] "?" param *( "&" param )
 *   scheme  = "entra-provision"        ; ASCII case-insensitive
 *   action  = "enroll"                 ; ASCII case-insensitive
 *   param   = name "=" value
 *   name    = "user" / "tenant" / "display"      ; exactly, lower case
 *   value   = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / pct-encoded
 *             / "!" / "$" / "'" / "(" / ")" / "*" / "+" / "," / ";"
 *             / ":" / "@" / "/" / "?" )   ; percent-decoded once
 *
 * Rules:
 *   - the whole link is at most DEEPLINK_MAX_URL (2048) bytes of
 *     printable ASCII (0x21-0x7e); no fragment ('#'), no userinfo, port
 *     or other path;
 *   - every name at most once; `user` required, the others optional;
 *     any other name is refused, and one that looks like a secret
 *     (pin, tap, token, password, secret, code, otp, key, ...) is
 *     refused with the message that links never carry secrets;
 *   - '+' is a literal plus (UPNs may hold one), not a space;
 *   - decoded values: valid UTF-8, no NUL, no control characters,
 *     not empty;
 *   - user: a UPN or an object id (csvin_user_kind(): at most 113
 *     bytes, one '@', none of whitespace " %&()*,/:;<=>?[\]`{|}$, not
 *     starting with '-'), and ASCII only, as Entra UPNs are: what the
 *     operator confirms must not be spoofable with look-alikes;
 *   - tenant: a GUID or a DNS name (at least two labels of [a-z0-9-],
 *     1..63 bytes each, not starting or ending with '-', <= 253);
 *   - display: the name the linking system shows for the user, at most
 *     DEEPLINK_DISPLAY_MAX bytes, without C1 controls or bidirectional
 *     overrides; shown to the operator (marked as the link's claim),
 *     used for nothing else.
 */

#ifndef PROV_DEEPLINK_H
#define PROV_DEEPLINK_H

#include <stddef.h>

#define DEEPLINK_OK		 0
#define DEEPLINK_ERR_INTERNAL	-1
#define DEEPLINK_ERR_ARG	-2
#define DEEPLINK_ERR_TOOLONG	-3	/* over 2048 bytes */
#define DEEPLINK_ERR_SCHEME	-4	/* not entra-provision://enroll */
#define DEEPLINK_ERR_SYNTAX	-5	/* characters, separators, fragment */
#define DEEPLINK_ERR_ENCODING	-6	/* bad %XX, NUL, control, UTF-8 */
#define DEEPLINK_ERR_PARAM	-7	/* unknown or repeated parameter */
#define DEEPLINK_ERR_SECRET	-8	/* a parameter that may be a secret */
#define DEEPLINK_ERR_USER	-9	/* missing, or not a UPN / object id */
#define DEEPLINK_ERR_TENANT	-10	/* not a GUID or DNS name */
#define DEEPLINK_ERR_DISPLAY	-11	/* too long */
#define DEEPLINK_ERR_IO		-12	/* register/unregister: files */

#define DEEPLINK_SCHEME		"entra-provision"
#define DEEPLINK_MAX_URL	2048
#define DEEPLINK_USER_MAX	113
#define DEEPLINK_TENANT_MAX	253
#define DEEPLINK_DISPLAY_MAX	128
#define DEEPLINK_DESKTOP_FILE	"provisioning-deeplink.desktop"
#define DEEPLINK_MIME		"x-scheme-handler/entra-provision"

struct deeplink {
	char	user[DEEPLINK_USER_MAX + 1];
	int	user_kind;		/* CSVIN_USER_UPN | _OBJECTID */
	char	tenant[DEEPLINK_TENANT_MAX + 1];	/* "" if absent */
	char	display[DEEPLINK_DISPLAY_MAX + 1];	/* "" if absent */
};

const char	*deeplink_strerr(int);

/* parse `url`; on failure `err` says why in a sentence */
int		 deeplink_parse(const char *url, struct deeplink *,
		    char *err, size_t errlen);

/* tenant syntax: GUID or DNS name (1 if valid) */
int		 deeplink_tenant_valid(const char *);

/*
 * Desktop integration.  The entry lives in
 * $XDG_DATA_HOME/applications (default ~/.local/share/applications);
 * `exe` is the absolute path of the binary to run.  These only write
 * and remove files (the entry, and our association lines in
 * $XDG_CONFIG_HOME/mimeapps.list on unregister); running xdg-mime is
 * the caller's business.
 */
int		 deeplink_desktop_path(char *buf, size_t len);
int		 deeplink_desktop_entry(const char *exe, char **out);
int		 deeplink_register(const char *exe, char *path, size_t pathlen,
		    char *err, size_t errlen);
/* removes the entry and our mimeapps.list association; absent is ok */
int		 deeplink_unregister(char *err, size_t errlen);

#endif /* PROV_DEEPLINK_H */
