/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The environment handed to helpers we start (the browser, xdg-open,
 * xdg-mime): ours holds PROVISIONING_CLIENT_SECRET and the variable
 * --pin-env names, and a browser has no business with either.  So a
 * helper gets a whitelist of what a desktop program needs, minus any
 * name that looks like a secret, minus the names registered here.
 */

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"

extern char **environ;

#define ENV_DROP_MAX	8

static char	*dropped[ENV_DROP_MAX];
static size_t	 ndropped;

/* exact names, and prefixes ending in '_' */
static const char *const keep[] = {
	"PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE",
	"LC_", "TZ", "DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY", "XDG_",
	"DBUS_SESSION_BUS_ADDRESS", "TERM", "BROWSER", "TMPDIR",
};

/* never passed on, whitelisted or not */
static const char *const secret_words[] = {
	"SECRET", "TOKEN", "PASSWORD", "PASSWD", "PIN", "CREDENTIAL",
	"APIKEY", "API_KEY",
};

int
env_scrub_name(const char *name)
{
	size_t	i;

	if (name == NULL || *name == '\0')
		return (0);
	for (i = 0; i < ndropped; i++)
		if (strcmp(dropped[i], name) == 0)
			return (0);
	if (ndropped == ENV_DROP_MAX ||
	    (dropped[ndropped] = strdup(name)) == NULL)
		return (-1);
	ndropped++;

	return (0);
}

static bool
name_kept(const char *s, size_t len)
{
	size_t	i, kl;
	bool	ok = false;

	for (i = 0; i < sizeof(keep) / sizeof(*keep) && !ok; i++) {
		kl = strlen(keep[i]);
		if (keep[i][kl - 1] == '_')
			ok = len > kl && strncmp(s, keep[i], kl) == 0;
		else
			ok = len == kl && strncmp(s, keep[i], kl) == 0;
	}
	if (!ok || strncasecmp(s, "PROVISIONING_", 13) == 0)
		return (false);
	for (i = 0; i < sizeof(secret_words) / sizeof(*secret_words); i++)
		if (text_has_ci(s, len, secret_words[i]))
			return (false);
	for (i = 0; i < ndropped; i++)
		if (strlen(dropped[i]) == len && strncmp(s, dropped[i],
		    len) == 0)
			return (false);

	return (true);
}

char **
env_scrubbed(void)
{
	char	**out, **e;
	size_t	  n = 0, len;
	const char *eq;

	for (e = environ; e != NULL && *e != NULL; e++)
		n++;
	if ((out = calloc(n + 1, sizeof(*out))) == NULL)
		return (NULL);
	n = 0;
	for (e = environ; e != NULL && *e != NULL; e++) {
		if ((eq = strchr(*e, '=')) == NULL)
			continue;
		len = (size_t)(eq - *e);
		if (!name_kept(*e, len))
			continue;
		if ((out[n] = strdup(*e)) == NULL) {
			env_free(&out);
			return (NULL);
		}
		n++;
	}

	return (out);
}

void
env_free(char ***envp)
{
	char	**e;

	if (envp == NULL || *envp == NULL)
		return;
	for (e = *envp; *e != NULL; e++)
		freezero_str(*e);
	free(*envp);
	*envp = NULL;
}
