/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * PIN letters (mailer.h): an A4 PDF, drawn by the letter module
 * (mailer_pdf.c, loaded on first use), into an O_EXCL file of ours,
 * linked into place under a name that was free; and lp(1) to print it.
 */

#include <sys/stat.h>
#include <sys/wait.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "mailer.h"
#include "mailer_module.h"

#ifndef MAILER_MODULE_REL
#error "MAILER_MODULE_REL (the module's path from the program's directory) \
comes from src/formats/CMakeLists.txt"
#endif

extern char **environ;

/* the letter module, once loaded; never unloaded (cairo's state) */
static pthread_mutex_t			 mod_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct mailer_module	*mod;

#define STEM_MAX	96	/* the UPN part of a letter's file name */
#define SUFFIX_MAX	999	/* "-2" .. "-999" */

const char *
mailer_strerr(int r)
{
	switch (r) {
	case MAILER_OK:
		return ("success");
	case MAILER_ERR_INTERNAL:
		return ("out of memory");
	case MAILER_ERR_ARG:
		return ("invalid letter");
	case MAILER_ERR_IO:
		return ("cannot write the letter");
	case MAILER_ERR_PERM:
		return ("unsafe letter directory");
	case MAILER_ERR_RENDER:
		return ("cannot render the PDF");
	case MAILER_ERR_PRINT:
		return ("cannot print the letter");
	case MAILER_ERR_MODULE:
		return ("cannot load the letter module");
	default:
		return ("unknown error");
	}
}

/* where the package puts the module: MAILER_MODULE_REL from our dir */
static int
module_path(char *out, size_t len)
{
	char	exe[PATH_MAX], *slash;
	ssize_t	n;

	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) < 0)
		return (-1);
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) == NULL) {
		errno = ENOENT;
		return (-1);
	}
	*slash = '\0';
	if (snprintf(out, len, "%s/%s", exe, MAILER_MODULE_REL) >= (int)len) {
		errno = ENAMETOOLONG;
		return (-1);
	}

	return (0);
}

int
mailer_load(const char *module, char *err, size_t errlen)
{
	const struct mailer_module	*m;
	char				 path[PATH_MAX];
	void				*h = NULL;
	int				 r = MAILER_ERR_MODULE;

	pthread_mutex_lock(&mod_lock);
	if (mod != NULL) {
		r = MAILER_OK;
		goto fail;
	}
	if (module == NULL) {
		if (module_path(path, sizeof(path)) < 0) {
			errf(err, errlen, "cannot find the letter module: "
			    "/proc/self/exe: %s", strerror(errno));
			goto fail;
		}
		module = path;
	}
	/* RTLD_NOW: a module that cannot find cairo fails here, at once */
	if ((h = dlopen(module, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		errf(err, errlen, "cannot load the letter module: %s "
		    "(it comes with provisioning: reinstall the package)",
		    dlerror());
		goto fail;
	}
	if ((m = dlsym(h, MAILER_MODULE_SYMBOL)) == NULL ||
	    m->abi != MAILER_MODULE_ABI || m->version == NULL ||
	    strcmp(m->version, PROV_VERSION) != 0) {
		errf(err, errlen, "%s is not the letter module of "
		    "provisioning %s (%s%s): reinstall the package", module,
		    PROV_VERSION, m == NULL ? "no " MAILER_MODULE_SYMBOL :
		    "version ", m == NULL ? "" : m->version != NULL ?
		    m->version : "none");
		dlclose(h);
		goto fail;
	}
	mod = m;
	r = MAILER_OK;
fail:
	pthread_mutex_unlock(&mod_lock);

	return (r);
}

/*
 * The directory, opened: a directory of ours, with no access for group
 * or others (a letter holds a PIN).
 */
static int
dir_open(const char *dir, bool create, int *dfd, char *err, size_t errlen)
{
	struct stat	st;
	int		fd;

	*dfd = -1;
	if (dir == NULL || *dir == '\0') {
		errf(err, errlen, "no letter directory");
		return (MAILER_ERR_ARG);
	}
	if (create && mkdir_p(dir, 0700) < 0) {
		errf(err, errlen, "cannot create %s: %s", dir,
		    strerror(errno));
		return (MAILER_ERR_IO);
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		errf(err, errlen, "%s: %s", dir, errno == ENOTDIR ?
		    "not a directory" : strerror(errno));
		return (errno == ENOTDIR ? MAILER_ERR_PERM : MAILER_ERR_IO);
	}
	if (fstat(fd, &st) < 0) {
		errf(err, errlen, "%s: %s", dir, strerror(errno));
		close(fd);
		return (MAILER_ERR_IO);
	}
	if (st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		errf(err, errlen, "%s: %s; PIN letters go only to a "
		    "directory of yours that no one else can enter (chmod "
		    "700 it)", dir, st.st_uid != geteuid() ?
		    "owned by another user" :
		    "open to group or others");
		close(fd);
		return (MAILER_ERR_PERM);
	}
	*dfd = fd;

	return (MAILER_OK);
}

int
mailer_dir_check(const char *dir, char *err, size_t errlen)
{
	int dfd, r;

	if ((r = dir_open(dir, true, &dfd, err, errlen)) == MAILER_OK)
		close(dfd);

	return (r);
}

/* "<upn>-<date>": a safe file name stem */
static void
stem(const char *upn, const char *date, char *out, size_t outlen)
{
	char		u[STEM_MAX + 1];
	unsigned char	c;
	size_t		i;

	for (i = 0; upn[i] != '\0' && i < STEM_MAX; i++) {
		c = (unsigned char)upn[i];
		u[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '@' || c == '-' ||
		    c == '_' || (c == '.' && i > 0) ? (char)c : '_';
	}
	u[i] = '\0';
	snprintf(out, outlen, "%s-%s", u, date);
}

/* a fresh, unguessable temporary file in the directory */
static int
tmp_create(int dfd, char *name, size_t namelen)
{
	unsigned char	rnd[8];
	int		fd, tries;

	for (tries = 0; tries < 16; tries++) {
		if (getentropy(rnd, sizeof(rnd)) < 0)
			return (-1);
		snprintf(name, namelen, ".letter-%02x%02x%02x%02x%02x%02x"
		    "%02x%02x.tmp", rnd[0], rnd[1], rnd[2], rnd[3], rnd[4],
		    rnd[5], rnd[6], rnd[7]);
		if ((fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600)) >= 0)
			return (fd);
		if (errno != EEXIST)
			return (-1);
	}
	errno = EEXIST;

	return (-1);
}

/*
 * Give the temporary file its final name: linkat(2) never replaces a
 * file (renameat would), so an existing letter is never overwritten,
 * and a symbolic link in the way is refused, never followed.
 */
static int
place(int dfd, const char *tmp, const char *base, char *name,
    size_t namelen, char *err, size_t errlen)
{
	struct stat	st;
	int		i;

	for (i = 1; i <= SUFFIX_MAX; i++) {
		if (i == 1)
			snprintf(name, namelen, "%s.pdf", base);
		else
			snprintf(name, namelen, "%s-%d.pdf", base, i);
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			if (S_ISLNK(st.st_mode)) {
				errf(err, errlen, "%s is a symbolic link; "
				    "not writing a letter through it", name);
				return (MAILER_ERR_PERM);
			}
			continue;
		}
		if (errno != ENOENT)
			break;
		if (linkat(dfd, tmp, dfd, name, 0) == 0)
			return (MAILER_OK);
		/* taken in the meantime: try the next name */
		if (errno != EEXIST)
			break;
	}
	if (i > SUFFIX_MAX)
		errf(err, errlen, "%s.pdf and %d more letters exist already",
		    base, SUFFIX_MAX - 1);
	else
		errf(err, errlen, "%s: %s", name, strerror(errno));

	return (MAILER_ERR_IO);
}

int
mailer_write(const char *dir, const struct mailer_letter *l, char *path,
    size_t pathlen, char *err, size_t errlen)
{
	struct tm	 tm;
	time_t		 when;
	char		 date[16], base[STEM_MAX + 32], tmp[64];
	char		 name[STEM_MAX + 48];
	size_t		 dlen;
	int		 dfd = -1, fd = -1, r;
	bool		 linked = false;

	tmp[0] = '\0';
	if (pathlen > 0)
		*path = '\0';
	if (l == NULL || l->upn == NULL || *l->upn == '\0' ||
	    l->pin == NULL || *l->pin == '\0') {
		errf(err, errlen, "a letter needs the user name and the PIN");
		return (MAILER_ERR_ARG);
	}
	if (!utf8_valid(l->pin, strlen(l->pin))) {
		errf(err, errlen, "the PIN is not UTF-8 text");
		return (MAILER_ERR_ARG);
	}
	when = l->when != 0 ? l->when : time(NULL);
	if (localtime_r(&when, &tm) == NULL ||
	    strftime(date, sizeof(date), "%Y-%m-%d", &tm) == 0) {
		errf(err, errlen, "cannot format the date");
		return (MAILER_ERR_INTERNAL);
	}
	if ((r = mailer_load(NULL, err, errlen)) != MAILER_OK ||
	    (r = dir_open(dir, false, &dfd, err, errlen)) != MAILER_OK)
		goto fail;
	if ((fd = tmp_create(dfd, tmp, sizeof(tmp))) < 0) {
		errf(err, errlen, "cannot create a file in %s: %s", dir,
		    strerror(errno));
		tmp[0] = '\0';
		r = MAILER_ERR_IO;
		goto fail;
	}
	/* exactly 0600, whatever the umask */
	if (fchmod(fd, 0600) < 0) {
		errf(err, errlen, "%s: %s", dir, strerror(errno));
		r = MAILER_ERR_IO;
		goto fail;
	}
	if ((r = mod->render(fd, l, date, err, errlen)) != MAILER_OK)
		goto fail;
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		errf(err, errlen, "%s: %s", dir, strerror(errno));
		r = MAILER_ERR_IO;
		goto fail;
	}
	fd = -1;
	stem(l->upn, date, base, sizeof(base));
	if ((r = place(dfd, tmp, base, name, sizeof(name), err, errlen)) !=
	    MAILER_OK)
		goto fail;
	linked = true;
	if (unlinkat(dfd, tmp, 0) < 0 || fsync(dfd) < 0) {
		errf(err, errlen, "%s: %s", dir, strerror(errno));
		r = MAILER_ERR_IO;
		goto fail;
	}
	tmp[0] = '\0';
	linked = false;
	/* "dir/name", without doubling a trailing slash of dir */
	for (dlen = strlen(dir); dlen > 1 && dir[dlen - 1] == '/'; dlen--)
		;
	if (snprintf(path, pathlen, "%.*s/%s", (int)dlen, dir, name) >=
	    (int)pathlen) {
		errf(err, errlen, "letter path too long");
		r = MAILER_ERR_ARG;
		goto fail;
	}
	r = MAILER_OK;
fail:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0) {
		/* on any error nothing is left behind */
		if (linked)
			(void)unlinkat(dfd, name, 0);
		if (tmp[0] != '\0')
			(void)unlinkat(dfd, tmp, 0);
		close(dfd);
	}

	return (r);
}

int
mailer_print(const char *path, char *err, size_t errlen)
{
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 sa;
	sigset_t			 none, dfl;
	char				*argv[3], *arg;
	pid_t				 pid;
	size_t				 len = strlen(path);
	int				 st, e, r = MAILER_ERR_PRINT;

	/* a relative path starting with '-' would read as an option */
	if ((arg = malloc(len + 3)) == NULL) {
		errf(err, errlen, "out of memory");
		return (MAILER_ERR_INTERNAL);
	}
	snprintf(arg, len + 3, "%s%s", *path == '/' ? "" : "./", path);
	argv[0] = (char *)"lp";
	argv[1] = arg;
	argv[2] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&sa);
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGTERM);
	/* lp's "request id is ..." stays off our stdout (--json) */
	if (posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
	    O_RDONLY, 0) != 0 || posix_spawn_file_actions_addopen(&fa,
	    STDOUT_FILENO, "/dev/null", O_WRONLY, 0) != 0 ||
	    posix_spawnattr_setsigmask(&sa, &none) != 0 ||
	    posix_spawnattr_setsigdefault(&sa, &dfl) != 0 ||
	    posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF) != 0) {
		errf(err, errlen, "cannot set up lp");
		r = MAILER_ERR_INTERNAL;
		goto fail;
	}
	if ((e = posix_spawnp(&pid, "lp", &fa, &sa, argv, environ)) != 0) {
		errf(err, errlen, "cannot run lp: %s%s", strerror(e),
		    e == ENOENT ? " (install cups-client)" : "");
		goto fail;
	}
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			errf(err, errlen, "lp: %s", strerror(errno));
			goto fail;
		}
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		r = MAILER_OK;
	else if (WIFEXITED(st))
		errf(err, errlen, "lp exited with status %d",
		    WEXITSTATUS(st));
	else
		errf(err, errlen, "lp was killed by signal %d",
		    WIFSIGNALED(st) ? WTERMSIG(st) : 0);
fail:
	posix_spawnattr_destroy(&sa);
	posix_spawn_file_actions_destroy(&fa);
	free(arg);

	return (r);
}

void
mailer_cleanup(void)
{
	const struct mailer_module *m;

	pthread_mutex_lock(&mod_lock);
	m = mod;
	pthread_mutex_unlock(&mod_lock);
	if (m != NULL)
		m->cleanup();
}
