/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Output files in directories others may write (the current directory
 * of a kiosk account, /tmp, a shared drop folder) and ownership checks
 * of our own state: nothing is created or appended through a name
 * another user planted.
 */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

static void
owner_name(uid_t uid, char *buf, size_t len)
{
	struct passwd	 pw, *res = NULL;
	char		 tmp[1024];

	if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) == 0 &&
	    res != NULL)
		snprintf(buf, len, "uid %lu (%s)", (unsigned long)uid,
		    pw.pw_name);
	else
		snprintf(buf, len, "uid %lu", (unsigned long)uid);
}

int
file_owner_why(const struct stat *st, char *why, size_t whylen)
{
	char	who[128];

	errf(why, whylen, "%s", "");
	if (st->st_uid != geteuid()) {
		owner_name(st->st_uid, who, sizeof(who));
		errf(why, whylen, "is owned by %s, not by you (uid %lu)", who,
		    (unsigned long)geteuid());
		return (-1);
	}
	if ((st->st_mode & 022) != 0) {
		errf(why, whylen, "is writable by %s (mode %04o)",
		    (st->st_mode & 002) ? "everyone" : "its group",
		    (unsigned)(st->st_mode & 07777));
		return (-1);
	}

	return (0);
}

int
file_check_owned(const char *path, bool dir, char *err, size_t errlen)
{
	struct stat	st;
	char		why[256];

	errf(err, errlen, "%s", "");
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return (0);
		errf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
		errf(err, errlen, "%s is %s, not a %s", path,
		    S_ISLNK(st.st_mode) ? "a symbolic link" : "another kind "
		    "of file", dir ? "directory" : "regular file");
		errno = EPERM;
		return (-1);
	}
	if (file_owner_why(&st, why, sizeof(why)) < 0) {
		errf(err, errlen, "%s %s", path, why);
		errno = EPERM;
		return (-1);
	}

	return (0);
}

/*
 * What we append to: a regular file of ours with one name (a hard link
 * to someone else's file would write into it), or a device or pipe
 * (--report /dev/stdout).
 */
static int
append_target_ok(int fd, const char *path, char *err, size_t errlen)
{
	struct stat	st;
	char		who[128];

	if (fstat(fd, &st) < 0) {
		errf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))
		return (0);
	if (!S_ISREG(st.st_mode)) {
		errf(err, errlen, "%s is not a regular file", path);
		errno = EPERM;
		return (-1);
	}
	if (st.st_uid != geteuid()) {
		owner_name(st.st_uid, who, sizeof(who));
		errf(err, errlen, "%s exists and is owned by %s, not by you "
		    "(uid %lu); not writing to it: remove it or name another "
		    "file", path, who, (unsigned long)geteuid());
		errno = EPERM;
		return (-1);
	}
	if (st.st_nlink != 1) {
		errf(err, errlen, "%s has %lu hard links; not writing to it: "
		    "name another file", path, (unsigned long)st.st_nlink);
		errno = EPERM;
		return (-1);
	}

	return (0);
}

static int
open_existing(const char *path, bool follow)
{
	int	flags, fd;

	flags = O_APPEND | O_CLOEXEC | O_NOCTTY | (follow ? 0 : O_NOFOLLOW);
	if ((fd = open(path, O_RDWR | flags)) < 0 && errno == EACCES)
		/* write-only: rows still go in */
		fd = open(path, O_WRONLY | flags);

	return (fd);
}

/* PATH exists: open it for appending if it is a file we may write */
static int
append_existing(const char *path, char *err, size_t errlen)
{
	struct stat	lst;
	char		who[128];
	int		fd, e;

	if ((fd = open_existing(path, false)) < 0 && errno == ELOOP) {
		/*
		 * A symbolic link is followed only if it is ours or
		 * root's (/dev/stdout), as fs.protected_symlinks does in
		 * sticky directories: one planted by another user is not.
		 */
		if (lstat(path, &lst) < 0) {
			errf(err, errlen, "%s: %s", path, strerror(errno));
			return (-1);
		}
		if (S_ISLNK(lst.st_mode) && lst.st_uid != geteuid() &&
		    lst.st_uid != 0) {
			owner_name(lst.st_uid, who, sizeof(who));
			errf(err, errlen, "%s is a symbolic link owned by %s; "
			    "not following it: remove it or name another file",
			    path, who);
			errno = EPERM;
			return (-1);
		}
		fd = open_existing(path, true);
	}
	if (fd < 0) {
		errf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	if (append_target_ok(fd, path, err, errlen) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return (-1);
	}

	return (fd);
}

int
file_open_append(const char *path, mode_t mode, int *created, char *err,
    size_t errlen)
{
	int	fd;

	*created = 0;
	errf(err, errlen, "%s", "");
	/* the umask may narrow `mode`, as the operator asked */
	if ((fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, mode)) >= 0) {
		*created = 1;
		return (fd);
	}
	if (errno != EEXIST) {
		errf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}

	return (append_existing(path, err, errlen));
}

/*
 * Whether file_open_append() would open PATH, without creating it: a
 * refusal is known before any key is touched, the file still appears
 * only when there is something to write.
 */
int
file_check_append(const char *path, char *err, size_t errlen)
{
	struct stat	lst;
	char		dir[4096], *slash;
	int		fd;

	errf(err, errlen, "%s", "");
	if (lstat(path, &lst) < 0 && errno == ENOENT) {
		if ((size_t)snprintf(dir, sizeof(dir), "%s", path) >=
		    sizeof(dir))
			return (0);	/* open() will say */
		if ((slash = strrchr(dir, '/')) == NULL)
			snprintf(dir, sizeof(dir), ".");
		else if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (access(dir, W_OK | X_OK) < 0) {
			errf(err, errlen, "%s: cannot create it in %s: %s",
			    path, dir, strerror(errno));
			return (-1);
		}
		return (0);
	}
	if ((fd = append_existing(path, err, errlen)) < 0)
		return (-1);
	close(fd);

	return (0);
}
