/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * entra-provision:// link parser and desktop-entry handling (see
 * deeplink.h for the grammar).  Everything a link holds is untrusted:
 * the parser refuses rather than repairs, and never echoes a value
 * that might be a secret.
 */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common.h"
#include "csvin.h"
#include "deeplink.h"

#define NAME_SHOW	32	/* bytes of a bad parameter name we echo */
#define MIMEAPPS_MAX	(1024 * 1024)

const char *
deeplink_strerr(int r)
{
	switch (r) {
	case DEEPLINK_OK:
		return ("success");
	case DEEPLINK_ERR_INTERNAL:
		return ("out of memory");
	case DEEPLINK_ERR_ARG:
		return ("invalid argument");
	case DEEPLINK_ERR_TOOLONG:
		return ("link too long");
	case DEEPLINK_ERR_SCHEME:
		return ("not an entra-provision://enroll link");
	case DEEPLINK_ERR_SYNTAX:
		return ("malformed link");
	case DEEPLINK_ERR_ENCODING:
		return ("bad percent-encoding or text in link");
	case DEEPLINK_ERR_PARAM:
		return ("unknown or repeated link parameter");
	case DEEPLINK_ERR_SECRET:
		return ("links never carry secrets");
	case DEEPLINK_ERR_USER:
		return ("link names no valid user");
	case DEEPLINK_ERR_TENANT:
		return ("link names an invalid tenant");
	case DEEPLINK_ERR_DISPLAY:
		return ("invalid display name in link");
	case DEEPLINK_ERR_IO:
		return ("cannot write the desktop entry");
	default:
		return ("unknown deeplink error");
	}
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);

	return (-1);
}

/* percent-decode s[0..len) into out (outlen with the NUL); -1 if bad */
static int
pct_decode(const char *s, size_t len, char *out, size_t outlen,
    size_t *olen)
{
	size_t	i, o = 0;
	int	hi, lo;

	for (i = 0; i < len; i++) {
		if (o + 1 >= outlen)
			return (-2);
		if (s[i] != '%') {
			out[o++] = s[i];
			continue;
		}
		if (i + 2 >= len ||
		    (hi = hexval((unsigned char)s[i + 1])) < 0 ||
		    (lo = hexval((unsigned char)s[i + 2])) < 0)
			return (-1);
		out[o++] = (char)(hi << 4 | lo);
		i += 2;
	}
	out[o] = '\0';
	*olen = o;

	return (0);
}

/*
 * Decoded text a human will read: valid UTF-8, no NUL, no C0/C1
 * controls, no bidirectional overrides or isolates (they reorder what
 * the operator sees).
 */
static int
text_ok(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, n, k;
	uint32_t		 cp;

	while (i < len) {
		if (p[i] < 0x80) {
			if (p[i] < 0x20 || p[i] == 0x7f)
				return (0);
			i++;
			continue;
		}
		if (p[i] >= 0xc2 && p[i] <= 0xdf) {
			n = 2;
			cp = p[i] & 0x1f;
		} else if (p[i] >= 0xe0 && p[i] <= 0xef) {
			n = 3;
			cp = p[i] & 0x0f;
		} else if (p[i] >= 0xf0 && p[i] <= 0xf4) {
			n = 4;
			cp = p[i] & 0x07;
		} else
			return (0);
		if (len - i < n)
			return (0);
		for (k = 1; k < n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return (0);
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return (0);
		if ((cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a &&
		    cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
		    cp == 0x200e || cp == 0x200f || cp == 0x061c)
			return (0);
		i += n;
	}

	return (1);
}

int
deeplink_tenant_valid(const char *s)
{
	size_t	len, i, lab = 0, nlab = 1;
	char	c;

	if (s == NULL || (len = strlen(s)) == 0 || len > DEEPLINK_TENANT_MAX)
		return (0);
	if (guid_valid(s, len))
		return (1);
	for (i = 0; i < len; i++) {
		c = s[i];
		if (c == '.') {
			if (lab == 0 || s[i - 1] == '-')
				return (0);
			lab = 0;
			nlab++;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-'))
			return (0);
		if (c == '-' && lab == 0)
			return (0);
		if (++lab > 63)
			return (0);
	}

	return (lab > 0 && s[len - 1] != '-' && nlab >= 2);
}

/* a parameter name that may stand for a secret */
static int
secret_name(const char *name)
{
	static const char *const words[] = { "pin", "pass", "pwd", "token",
	    "secret", "tap", "otp", "code", "key", "cred", "auth", "bearer",
	    "cookie", "session", "sig", "assertion" };
	char	norm[64];
	size_t	i, o = 0;

	for (i = 0; name[i] != '\0' && o + 1 < sizeof(norm); i++) {
		if (name[i] == '_' || name[i] == '-' || name[i] == '.')
			continue;
		norm[o++] = (name[i] >= 'A' && name[i] <= 'Z') ?
		    (char)(name[i] - 'A' + 'a') : name[i];
	}
	norm[o] = '\0';
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(norm, words[i]) != NULL)
			return (1);

	return (0);
}

/* characters a query value may hold before decoding */
static int
value_char(int c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr("-._~%!$'()*+,;:@/?", c) !=
	    NULL);
}

/* a printable copy of a hostile name for messages */
static void
show_name(const char *s, size_t len, char *out, size_t outlen)
{
	if (len > NAME_SHOW)
		len = NAME_SHOW;
	snprintf(out, outlen, "%.*s%s", (int)len, s,
	    len == NAME_SHOW ? "..." : "");
}

static int
parse_link(const char *url, struct deeplink *dl, char *err, size_t errlen)
{
	static const char	 pfx[] = DEEPLINK_SCHEME "://";
	const char		*p, *q, *amp, *eq, *end;
	char			 name[NAME_SHOW + 4], dec[DEEPLINK_MAX_URL + 1];
	size_t			 len, i, nlen, dlen;
	int			 seen_user = 0, seen_tenant = 0, seen_disp = 0;
	int			 r, *seen;

	if ((len = strnlen(url, DEEPLINK_MAX_URL + 1)) > DEEPLINK_MAX_URL) {
		errf(err, errlen, "the link is longer than %d bytes",
		    DEEPLINK_MAX_URL);
		return (DEEPLINK_ERR_TOOLONG);
	}
	for (i = 0; i < len; i++) {
		if ((unsigned char)url[i] <= 0x20 ||
		    (unsigned char)url[i] >= 0x7f) {
			errf(err, errlen, "the link holds a space, control "
			    "or non-ASCII character at byte %zu", i + 1);
			return (DEEPLINK_ERR_SYNTAX);
		}
	}
	if (len < sizeof(pfx) - 1 || strncasecmp(url, pfx,
	    sizeof(pfx) - 1) != 0) {
		errf(err, errlen, "not an %s link", pfx);
		return (DEEPLINK_ERR_SCHEME);
	}
	if (strchr(url, '#') != NULL) {
		errf(err, errlen, "the link has a fragment ('#')");
		return (DEEPLINK_ERR_SYNTAX);
	}
	p = url + sizeof(pfx) - 1;
	if ((q = strchr(p, '?')) == NULL) {
		errf(err, errlen, "the link has no query (?user=...)");
		return (DEEPLINK_ERR_SYNTAX);
	}
	nlen = (size_t)(q - p);
	if (nlen > 0 && p[nlen - 1] == '/')
		nlen--;
	if (nlen != 6 || strncasecmp(p, "enroll", 6) != 0) {
		errf(err, errlen, "the link's action is not 'enroll'");
		return (DEEPLINK_ERR_SCHEME);
	}
	end = url + len;
	/* secrets first: their message wins over any other complaint */
	for (p = q + 1; p <= end; p = amp + 1) {
		if ((amp = strchr(p, '&')) == NULL)
			amp = end;
		eq = memchr(p, '=', (size_t)(amp - p));
		nlen = (size_t)((eq != NULL ? eq : amp) - p);
		if (nlen > NAME_SHOW)
			nlen = NAME_SHOW;
		if (pct_decode(p, nlen, name, sizeof(name), &dlen) == 0 &&
		    strlen(name) == dlen && secret_name(name)) {
			errf(err, errlen, "links never carry secrets (PINs, "
			    "passes, tokens, passwords): parameter '%s' "
			    "refused", name);
			return (DEEPLINK_ERR_SECRET);
		}
	}
	for (p = q + 1; p <= end; p = amp + 1) {
		if ((amp = strchr(p, '&')) == NULL)
			amp = end;
		if ((eq = memchr(p, '=', (size_t)(amp - p))) == NULL ||
		    eq == p) {
			errf(err, errlen, "empty or malformed parameter in "
			    "the query (expected name=value)");
			return (DEEPLINK_ERR_SYNTAX);
		}
		nlen = (size_t)(eq - p);
		show_name(p, nlen, name, sizeof(name));
		if (nlen == 4 && memcmp(p, "user", 4) == 0)
			seen = &seen_user;
		else if (nlen == 6 && memcmp(p, "tenant", 6) == 0)
			seen = &seen_tenant;
		else if (nlen == 7 && memcmp(p, "display", 7) == 0)
			seen = &seen_disp;
		else {
			errf(err, errlen, "unknown parameter '%s' (links "
			    "carry only user, tenant and display)", name);
			return (DEEPLINK_ERR_PARAM);
		}
		if ((*seen)++) {
			errf(err, errlen, "parameter '%s' given twice", name);
			return (DEEPLINK_ERR_PARAM);
		}
		for (q = eq + 1; q < amp; q++) {
			if (!value_char((unsigned char)*q)) {
				errf(err, errlen, "parameter '%s' holds a "
				    "'%c', which must be percent-encoded",
				    name, *q);
				return (DEEPLINK_ERR_SYNTAX);
			}
		}
		r = pct_decode(eq + 1, (size_t)(amp - eq - 1), dec,
		    sizeof(dec), &dlen);
		if (r < 0 || strlen(dec) != dlen || !text_ok(dec, dlen)) {
			errf(err, errlen, "parameter '%s': bad percent-"
			    "encoding, NUL, control character or invalid "
			    "UTF-8", name);
			return (DEEPLINK_ERR_ENCODING);
		}
		if (dlen == 0) {
			errf(err, errlen, "parameter '%s' is empty", name);
			return (seen == &seen_user ? DEEPLINK_ERR_USER :
			    seen == &seen_tenant ? DEEPLINK_ERR_TENANT :
			    DEEPLINK_ERR_DISPLAY);
		}
		if (seen == &seen_user) {
			for (i = 0; i < dlen; i++)
				if ((unsigned char)dec[i] >= 0x80)
					break;
			if (dlen > DEEPLINK_USER_MAX || i < dlen ||
			    (dl->user_kind = csvin_user_kind(dec, dlen)) ==
			    CSVIN_USER_NONE) {
				errf(err, errlen, "user is neither a UPN "
				    "nor an object id");
				return (DEEPLINK_ERR_USER);
			}
			memcpy(dl->user, dec, dlen + 1);
		} else if (seen == &seen_tenant) {
			if (!deeplink_tenant_valid(dec)) {
				errf(err, errlen, "tenant is neither a GUID "
				    "nor a domain name");
				return (DEEPLINK_ERR_TENANT);
			}
			memcpy(dl->tenant, dec, dlen + 1);
		} else {
			if (dlen > DEEPLINK_DISPLAY_MAX) {
				errf(err, errlen, "display is longer than "
				    "%d bytes", DEEPLINK_DISPLAY_MAX);
				return (DEEPLINK_ERR_DISPLAY);
			}
			memcpy(dl->display, dec, dlen + 1);
		}
		if (amp == end)
			break;
	}
	if (!seen_user) {
		errf(err, errlen, "the link names no user (?user=...)");
		return (DEEPLINK_ERR_USER);
	}

	return (DEEPLINK_OK);
}

int
deeplink_parse(const char *url, struct deeplink *dl, char *err,
    size_t errlen)
{
	int r;

	errf(err, errlen, "%s", "");
	if (url == NULL || dl == NULL) {
		errf(err, errlen, "no link");
		return (DEEPLINK_ERR_ARG);
	}
	memset(dl, 0, sizeof(*dl));
	/* all or nothing: a half-parsed link is never handed out */
	if ((r = parse_link(url, dl, err, errlen)) != DEEPLINK_OK)
		memset(dl, 0, sizeof(*dl));

	return (r);
}

static int
home_dir(char *buf, size_t len)
{
	const char	*h;
	struct passwd	*pw;

	if ((h = getenv("HOME")) == NULL || h[0] != '/') {
		if ((pw = getpwuid(getuid())) == NULL || pw->pw_dir == NULL)
			return (-1);
		h = pw->pw_dir;
	}
	if (snprintf(buf, len, "%s", h) >= (int)len)
		return (-1);

	return (0);
}

/* $VAR if absolute (the XDG spec ignores relative ones), else ~/dflt */
static int
xdg_dir(const char *var, const char *dflt, char *buf, size_t len)
{
	const char	*e;
	char		 home[PATH_MAX];

	if ((e = getenv(var)) != NULL && e[0] == '/') {
		if (snprintf(buf, len, "%s", e) >= (int)len)
			return (-1);
		return (0);
	}
	if (home_dir(home, sizeof(home)) < 0 ||
	    snprintf(buf, len, "%s/%s", home, dflt) >= (int)len)
		return (-1);

	return (0);
}

int
deeplink_desktop_path(char *buf, size_t len)
{
	char dir[PATH_MAX];

	if (buf == NULL || len == 0)
		return (DEEPLINK_ERR_ARG);
	if (xdg_dir("XDG_DATA_HOME", ".local/share", dir, sizeof(dir)) < 0 ||
	    snprintf(buf, len, "%s/applications/%s", dir,
	    DEEPLINK_DESKTOP_FILE) >= (int)len)
		return (DEEPLINK_ERR_IO);

	return (DEEPLINK_OK);
}

/*
 * The Exec value for `exe`: quoted and escaped as the Desktop Entry
 * specification asks when it holds reserved characters; '%' doubled.
 */
static int
exec_arg(const char *exe, char *out, size_t outlen)
{
	static const char	 reserved[] = " \t\"'\\><~|&;$*?#()`";
	size_t			 o = 0;
	int			 quote;
	const char		*p;

#define PUT(c) do {							\
	if (o + 1 >= outlen)						\
		return (-1);						\
	out[o++] = (c);							\
} while (0)
	quote = strpbrk(exe, reserved) != NULL;
	if (quote)
		PUT('"');
	for (p = exe; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return (-1);
		if (*p == '%') {
			PUT('%');
			PUT('%');
			continue;
		}
		/*
		 * Inside quotes " ` $ \ take a backslash; then the string
		 * type doubles every backslash: " is \\", \ is \\\\.
		 */
		if (quote && strchr("\"`$\\", *p) != NULL) {
			PUT('\\');
			PUT('\\');
			if (*p == '\\')
				PUT('\\');
		}
		PUT(*p);
	}
	if (quote)
		PUT('"');
	out[o] = '\0';
#undef PUT

	return (0);
}

int
deeplink_desktop_entry(const char *exe, char **out)
{
	static const char	 fmt[] = "[Desktop Entry]\n"
	    "Type=Application\nVersion=1.0\n"
	    "Name=Entra ID passkey provisioning\n"
	    "Comment=Opens entra-provision:// links; asks before "
	    "enrolling anyone\nExec=%s deeplink handle %%u\n"
	    "Terminal=true\nNoDisplay=true\nMimeType=" DEEPLINK_MIME ";\n";
	char			 arg[PATH_MAX * 4];
	char			*s;
	int			 n;

	if (exe == NULL || exe[0] != '/' || out == NULL)
		return (DEEPLINK_ERR_ARG);
	*out = NULL;
	if (exec_arg(exe, arg, sizeof(arg)) < 0)
		return (DEEPLINK_ERR_ARG);
	if ((n = snprintf(NULL, 0, fmt, arg)) < 0 ||
	    (s = malloc((size_t)n + 1)) == NULL)
		return (DEEPLINK_ERR_INTERNAL);
	snprintf(s, (size_t)n + 1, fmt, arg);
	*out = s;

	return (DEEPLINK_OK);
}

int
deeplink_register(const char *exe, char *path, size_t pathlen, char *err,
    size_t errlen)
{
	char	 file[PATH_MAX], dir[PATH_MAX], *slash;
	char	*entry = NULL;
	int	 r;

	errf(err, errlen, "%s", "");
	if ((r = deeplink_desktop_entry(exe, &entry)) != DEEPLINK_OK) {
		errf(err, errlen, "cannot describe %s in a desktop entry",
		    exe != NULL ? exe : "(null)");
		return (r);
	}
	if (deeplink_desktop_path(file, sizeof(file)) != DEEPLINK_OK) {
		errf(err, errlen, "cannot find the home directory");
		r = DEEPLINK_ERR_IO;
		goto fail;
	}
	snprintf(dir, sizeof(dir), "%s", file);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	/* the XDG spec: create missing directories 0700 */
	if (mkdir_p(dir, 0700) < 0 ||
	    write_file_atomic(file, entry, strlen(entry), 0644) < 0) {
		errf(err, errlen, "%s: %s", file, strerror(errno));
		r = DEEPLINK_ERR_IO;
		goto fail;
	}
	if (path != NULL && pathlen > 0)
		snprintf(path, pathlen, "%s", file);
	r = DEEPLINK_OK;
fail:
	free(entry);

	return (r);
}

/*
 * Drop our desktop file from the entra-provision line(s) of a
 * mimeapps.list; the file is rewritten only if something changed.
 */
static int
mimeapps_clean(const char *file)
{
	static const char	 key[] = DEEPLINK_MIME "=";
	struct stat		 st;
	unsigned char		*buf = NULL;
	char			*out = NULL, *line, *next, *v, *tok, *save;
	size_t			 len, o = 0, kept;
	int			 changed = 0, r = -1;

	if (stat(file, &st) < 0)
		return (errno == ENOENT ? 0 : -1);
	if (read_file_max(file, MIMEAPPS_MAX, &buf, &len) < 0)
		return (-1);
	if ((out = malloc(len * 2 + 16)) == NULL)
		goto fail;
	for (line = (char *)buf; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (strncmp(line, key, sizeof(key) - 1) != 0) {
			o += (size_t)sprintf(out + o, "%s\n", line);
			continue;
		}
		/* rebuild the list without our entry */
		v = line + sizeof(key) - 1;
		kept = 0;
		o += (size_t)sprintf(out + o, "%s", key);
		for (tok = strtok_r(v, ";", &save); tok != NULL;
		    tok = strtok_r(NULL, ";", &save)) {
			if (strcmp(tok, DEEPLINK_DESKTOP_FILE) == 0) {
				changed = 1;
				continue;
			}
			o += (size_t)sprintf(out + o, "%s;", tok);
			kept++;
		}
		if (kept == 0) {
			/* nothing left: drop the whole line */
			o -= sizeof(key) - 1;
			changed = 1;
		} else
			out[o++] = '\n';
	}
	if (changed && write_file_atomic(file, out, o, st.st_mode & 0777) < 0)
		goto fail;
	r = 0;
fail:
	free(buf);
	free(out);

	return (r);
}

int
deeplink_unregister(char *err, size_t errlen)
{
	char	file[PATH_MAX], dir[PATH_MAX];

	errf(err, errlen, "%s", "");
	if (deeplink_desktop_path(file, sizeof(file)) != DEEPLINK_OK) {
		errf(err, errlen, "cannot find the home directory");
		return (DEEPLINK_ERR_IO);
	}
	if (unlink(file) < 0 && errno != ENOENT) {
		errf(err, errlen, "%s: %s", file, strerror(errno));
		return (DEEPLINK_ERR_IO);
	}
	/* xdg-mime writes $XDG_CONFIG_HOME/mimeapps.list; old ones the
	 * applications directory */
	if (xdg_dir("XDG_CONFIG_HOME", ".config", dir, sizeof(dir)) == 0 &&
	    snprintf(file, sizeof(file), "%s/mimeapps.list", dir) <
	    (int)sizeof(file) && mimeapps_clean(file) < 0) {
		errf(err, errlen, "%s: %s", file, strerror(errno));
		return (DEEPLINK_ERR_IO);
	}
	if (xdg_dir("XDG_DATA_HOME", ".local/share", dir, sizeof(dir)) == 0 &&
	    snprintf(file, sizeof(file), "%s/applications/mimeapps.list",
	    dir) < (int)sizeof(file) && mimeapps_clean(file) < 0) {
		errf(err, errlen, "%s: %s", file, strerror(errno));
		return (DEEPLINK_ERR_IO);
	}

	return (DEEPLINK_OK);
}
