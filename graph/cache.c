/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The token cache: STATE_DIR/tokens.json, mode 0600, owned by us, and
 * refused (like ssh refuses a private key) when others may read it.
 * One owned by another user is refused too: its owner could plant
 * tokens.  Entries are keyed by authority, tenant, client id and
 * account.
 * Readers and writers in every thread and process serialise on an
 * flock(2) of STATE_DIR/tokens.lock; the caller holds that lock around
 * cache_load/store/remove so that a refresh is one critical section.
 */

#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "graph_int.h"

static char *
state_file(const graph_client_t *c, const char *name)
{
	if (c->state_dir == NULL)
		return (NULL);

	return (gfmt("%s/%s", c->state_dir, name));
}

char *
cache_path(const graph_client_t *c)
{
	return (state_file(c, "tokens.json"));
}

int
cache_lock(graph_client_t *c, int *fd)
{
	struct stat	 st;
	char		*p, why[256];

	*fd = -1;
	if (c->ephemeral)
		return (GRAPH_OK);
	if ((p = state_file(c, "tokens.lock")) == NULL)
		return (GRAPH_ERR_INTERNAL);
	if ((*fd = open(p, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600)) < 0) {
		err_set(c, 0, "cache", strerror(errno), NULL);
		err_hint(c, "cannot open %s; check the state directory", p);
		free(p);
		return (GRAPH_ERR_CACHE);
	}
	/* a lock file someone else owns would let them hold us off */
	snprintf(why, sizeof(why), "is not a regular file");
	if (fstat(*fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    file_owner_why(&st, why, sizeof(why)) < 0) {
		err_set(c, 0, "cache", "token cache lock not yours", NULL);
		err_hint(c, "%s %s: remove it, or use a state directory of "
		    "your own (--state-dir)", p, why);
		free(p);
		close(*fd);
		*fd = -1;
		return (GRAPH_ERR_CACHE);
	}
	free(p);
	while (flock(*fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			close(*fd);
			*fd = -1;
			return (GRAPH_ERR_CACHE);
		}
	}

	return (GRAPH_OK);
}

void
cache_unlock(int *fd)
{
	if (*fd >= 0) {
		flock(*fd, LOCK_UN);
		close(*fd);
	}
	*fd = -1;
}

/* the cache as JSON; an absent file is an empty cache */
static int
cache_read(graph_client_t *c, json_t **out)
{
	struct stat	 st;
	char		*p = NULL, *buf = NULL, why[256];
	json_t		*j = NULL;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd = -1, r;

	*out = NULL;
	if ((p = cache_path(c)) == NULL) {
		r = GRAPH_ERR_INTERNAL;
		goto fail;
	}
	if ((fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if (errno == ENOENT) {
			if ((j = json_pack("{s:i,s:[]}", "version", 1,
			    "entries")) == NULL) {
				r = GRAPH_ERR_INTERNAL;
				goto fail;
			}
			*out = j;
			j = NULL;
			r = GRAPH_OK;
			goto fail;
		}
		err_set(c, 0, "cache", strerror(errno), NULL);
		err_hint(c, "cannot read the token cache %s", p);
		r = GRAPH_ERR_CACHE;
		goto fail;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		err_set(c, 0, "cache", "not a regular file", NULL);
		err_hint(c, "remove %s and log in again", p);
		r = GRAPH_ERR_CACHE;
		goto fail;
	}
	if (st.st_uid != geteuid()) {
		/* its owner could have put any token in it, or read ours */
		(void)file_owner_why(&st, why, sizeof(why));
		err_set(c, 0, "cache", "token cache owned by someone else",
		    NULL);
		err_hint(c, "%s %s: remove it and log in again, or use a "
		    "state directory of your own (--state-dir)", p, why);
		r = GRAPH_ERR_CACHE;
		goto fail;
	}
	if ((st.st_mode & 077) != 0) {
		err_set(c, 0, "cache", "token cache readable by others", NULL);
		err_hint(c, "%s must be yours and mode 0600: run 'chmod 600 "
		    "%s', then log in again (its tokens may have leaked)", p,
		    p);
		r = GRAPH_ERR_CACHE;
		goto fail;
	}
	if ((size_t)st.st_size > GRAPH_CACHE_MAX ||
	    (buf = malloc((size_t)st.st_size + 1)) == NULL) {
		err_set(c, 0, "cache", "token cache too large", NULL);
		r = GRAPH_ERR_CACHE;
		goto fail;
	}
	while (len < (size_t)st.st_size && (n = read(fd, buf + len,
	    (size_t)st.st_size - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = GRAPH_ERR_CACHE;
			goto fail;
		}
		len += (size_t)n;
	}
	if (len == 0) {
		j = json_pack("{s:i,s:[]}", "version", 1, "entries");
	} else if ((j = json_parse(buf, len)) == NULL || !json_is_object(j) ||
	    !json_is_array(json_object_get(j, "entries"))) {
		err_set(c, 0, "cache", "token cache is corrupt", NULL);
		err_hint(c, "remove %s and log in again", p);
		r = GRAPH_ERR_CACHE;
		goto fail;
	}
	*out = j;
	j = NULL;
	r = GRAPH_OK;
fail:
	json_wipe_decref(j);
	if (buf != NULL)
		freezero_buf(buf, len + 1);
	if (fd >= 0)
		close(fd);
	free(p);

	return (r);
}

static int
cache_write(graph_client_t *c, json_t *j)
{
	char	*p = NULL, *s = NULL;
	int	 r;

	if ((p = cache_path(c)) == NULL ||
	    (s = json_dumps(j, JSON_COMPACT)) == NULL) {
		r = GRAPH_ERR_INTERNAL;
		goto fail;
	}
	if (json_array_size(json_object_get(j, "entries")) == 0) {
		/* nothing left: no file, rather than an empty one */
		if (unlink(p) < 0 && errno != ENOENT) {
			r = GRAPH_ERR_CACHE;
			goto fail;
		}
	} else if (write_file_atomic(p, s, strlen(s), 0600) < 0) {
		err_set(c, 0, "cache", strerror(errno), NULL);
		err_hint(c, "cannot write the token cache %s", p);
		r = GRAPH_ERR_CACHE;
		goto fail;
	}
	r = GRAPH_OK;
fail:
	freezero_str(s);
	free(p);

	return (r);
}

static int
streq(const char *a, const char *b)
{
	return (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* does entry e belong to this client (and account, if one is given) */
static int
entry_match(const graph_client_t *c, const json_t *e, const char *account)
{
	return (streq(jstr(e, "authority"), c->authority) &&
	    streq(jstr(e, "tenant"), c->tenant) &&
	    streq(jstr(e, "client_id"), c->client_id) &&
	    (account == NULL || streq(jstr(e, "account"), account)));
}

static char *
jdup_or_null(const json_t *e, const char *k)
{
	return (jdup(e, k));
}

int
cache_load(graph_client_t *c, struct graph_token *t)
{
	json_t		*j = NULL, *e, *best = NULL;
	size_t		 i;
	int		 r;

	memset(t, 0, sizeof(*t));
	if (c->ephemeral)
		return (GRAPH_ERR_LOGIN_REQUIRED);
	if ((r = cache_read(c, &j)) != GRAPH_OK)
		return (r);
	json_array_foreach(json_object_get(j, "entries"), i, e) {
		if (!entry_match(c, e, c->account))
			continue;
		if (best == NULL || jint(e, "last_used", 0) >
		    jint(best, "last_used", 0))
			best = e;
	}
	if (best == NULL || jstr(best, "access_token") == NULL) {
		r = GRAPH_ERR_LOGIN_REQUIRED;
		goto fail;
	}
	t->access = jdup(best, "access_token");
	t->refresh = jdup_or_null(best, "refresh_token");
	t->account = jdup_or_null(best, "account");
	t->cert = jdup_or_null(best, "cert");
	t->key = jdup_or_null(best, "key");
	t->scope = jdup_or_null(best, "scope");
	t->app_only = jbool(best, "app_only", 0);
	t->expires_at = jint(best, "expires_at", 0);
	t->login_at = jint(best, "login_at", 0);
	t->session_expires_at = jint(best, "session_expires_at", 0);
	if (t->access == NULL) {
		token_reset(t);
		r = GRAPH_ERR_INTERNAL;
		goto fail;
	}
	r = GRAPH_OK;
fail:
	json_wipe_decref(j);

	return (r);
}

static int
set_str(json_t *o, const char *k, const char *v)
{
	if (v == NULL)
		return (0);

	return (json_object_set_new(o, k, json_string(v)));
}

int
cache_store(graph_client_t *c, const struct graph_token *t)
{
	json_t	*j = NULL, *arr, *e = NULL;
	size_t	 i;
	int	 r;

	if (c->ephemeral)
		return (GRAPH_OK);
	if ((r = cache_read(c, &j)) != GRAPH_OK)
		return (r);
	arr = json_object_get(j, "entries");
	for (i = 0; i < json_array_size(arr);) {
		if (entry_match(c, json_array_get(arr, i), t->account))
			json_array_remove(arr, i);
		else
			i++;
	}
	if ((e = json_object()) == NULL ||
	    set_str(e, "authority", c->authority) < 0 ||
	    set_str(e, "tenant", c->tenant) < 0 ||
	    set_str(e, "client_id", c->client_id) < 0 ||
	    set_str(e, "account", t->account != NULL ? t->account : "") < 0 ||
	    json_object_set_new(e, "app_only", json_boolean(t->app_only)) < 0 ||
	    set_str(e, "access_token", t->access) < 0 ||
	    set_str(e, "refresh_token", t->refresh) < 0 ||
	    set_str(e, "scope", t->scope) < 0 ||
	    set_str(e, "cert", t->cert) < 0 ||
	    set_str(e, "key", t->key) < 0 ||
	    json_object_set_new(e, "expires_at",
	    json_integer(t->expires_at)) < 0 ||
	    json_object_set_new(e, "login_at", json_integer(t->login_at)) < 0 ||
	    json_object_set_new(e, "session_expires_at",
	    json_integer(t->session_expires_at)) < 0 ||
	    json_object_set_new(e, "last_used",
	    json_integer((json_int_t)time(NULL))) < 0 ||
	    json_array_append(arr, e) < 0) {
		r = GRAPH_ERR_INTERNAL;
		goto fail;
	}
	r = cache_write(c, j);
fail:
	json_wipe_decref(e);
	json_wipe_decref(j);

	return (r);
}

int
cache_remove(graph_client_t *c, bool all)
{
	json_t	*j = NULL, *arr;
	size_t	 i, n = 0;
	int	 r;

	if (c->ephemeral)
		return (GRAPH_OK);
	if ((r = cache_read(c, &j)) != GRAPH_OK) {
		char *p;

		/* an unsafe cache is removed, not read, on logout */
		if (r != GRAPH_ERR_CACHE || !all || (p = cache_path(c)) ==
		    NULL)
			return (r);
		r = unlink(p) < 0 && errno != ENOENT ? GRAPH_ERR_CACHE :
		    GRAPH_OK;
		free(p);
		return (r);
	}
	arr = json_object_get(j, "entries");
	for (i = 0; i < json_array_size(arr);) {
		if (all || entry_match(c, json_array_get(arr, i),
		    c->account)) {
			json_wipe(json_array_get(arr, i));
			json_array_remove(arr, i);
			n++;
		} else
			i++;
	}
	r = n > 0 ? cache_write(c, j) : GRAPH_OK;
	json_wipe_decref(j);

	return (r);
}
