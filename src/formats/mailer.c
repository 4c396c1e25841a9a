/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * PIN letters (mailer.h): an A4 PDF drawn with cairo's toy text API
 * into an O_EXCL file of ours, linked into place under a name that was
 * free; and lp(1) to print it.
 */

#include <sys/stat.h>
#include <sys/wait.h>

#include <cairo.h>
#include <cairo-pdf.h>
#include <errno.h>
#include <fcntl.h>
#include <fontconfig/fontconfig.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "mailer.h"

extern char **environ;

/* has cairo drawn text (and so loaded fontconfig) in this process? */
static int drawn;

/* A4 in PostScript points, margins of 20 mm */
#define PAGE_W		595.28
#define PAGE_H		841.89
#define MARGIN		56.7
#define TEXT_W		(PAGE_W - 2 * MARGIN)
#define LABEL_W		100.0

#define FIELD_MAX	1024	/* a field as drawn, after cleaning */
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
	default:
		return ("unknown error");
	}
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

/* s as drawable text: invalid UTF-8 and control characters become '?' */
static void
clean(const char *s, char *out, size_t outlen)
{
	const unsigned char	*p = (const unsigned char *)(s ? s : "");
	size_t			 len = strlen((const char *)p), i = 0, o = 0,
				 n;

	while (i < len && o + 5 < outlen) {
		n = utf8_seq(p + i, len - i);
		if (n == 0 || (n == 1 && (p[i] < 0x20 || p[i] == 0x7f))) {
			out[o++] = '?';
			i += n ? n : 1;
			continue;
		}
		memcpy(out + o, p + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
}

static double
text_w(cairo_t *cr, const char *s)
{
	cairo_text_extents_t te;

	cairo_text_extents(cr, s, &te);

	return (te.x_advance);
}

static void
show(cairo_t *cr, double x, double y, const char *s)
{
	cairo_move_to(cr, x, y);
	cairo_show_text(cr, s);
}

/* how many bytes of s[0..len) fit in width w: at least one character */
static size_t
fit(cairo_t *cr, const char *s, size_t len, double w)
{
	char	buf[FIELD_MAX];
	size_t	n = 0, next, step;

	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;
	while (n < len) {
		step = utf8_seq((const unsigned char *)s + n, len - n);
		next = n + (step ? step : 1);
		memcpy(buf, s, next);
		buf[next] = '\0';
		if (n > 0 && text_w(cr, buf) > w)
			break;
		n = next;
	}

	return (n);
}

/* s drawn from (x, y), wrapped at width w; returns the next line's y */
static double
para(cairo_t *cr, double x, double y, double w, double lh, const char *s)
{
	char		 line[FIELD_MAX], cand[FIELD_MAX];
	const char	*p = s, *e;
	size_t		 wl, n;
	int		 c;

	line[0] = '\0';
	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		for (e = p; *e != '\0' && *e != ' '; e++)
			;
		wl = (size_t)(e - p);
		c = snprintf(cand, sizeof(cand), "%s%s%.*s", line,
		    *line ? " " : "", (int)wl, p);
		if (c >= 0 && (size_t)c < sizeof(cand) &&
		    text_w(cr, cand) <= w) {
			memcpy(line, cand, (size_t)c + 1);
			p = e;
			continue;
		}
		if (*line != '\0') {
			show(cr, x, y, line);
			y += lh;
			line[0] = '\0';
			continue;
		}
		/* one word wider than the line (a long UPN): cut it */
		n = fit(cr, p, wl, w);
		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		show(cr, x, y, line);
		y += lh;
		line[0] = '\0';
		p += n;
	}
	if (*line != '\0') {
		show(cr, x, y, line);
		y += lh;
	}

	return (y);
}

static void
font(cairo_t *cr, const char *family, bool bold, double size)
{
	cairo_select_font_face(cr, family, CAIRO_FONT_SLANT_NORMAL,
	    bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(cr, size);
}

/* "label   value", the value wrapped beside the label; returns next y */
static double
field(cairo_t *cr, double y, const char *label, const char *value)
{
	char v[FIELD_MAX];

	if (value == NULL || *value == '\0')
		return (y);
	clean(value, v, sizeof(v));
	font(cr, "sans-serif", true, 11);
	show(cr, MARGIN, y, label);
	font(cr, "sans-serif", false, 11);

	return (para(cr, MARGIN + LABEL_W, y, TEXT_W - LABEL_W, 15, v));
}

static const char *const steps[] = {
	"Sign in with the key. Go to https://myaccount.microsoft.com, "
	"enter your user name (above), choose \"Sign-in options\" and "
	"then \"Face, fingerprint, PIN or security key\" (or \"passkey\"), "
	"and insert the key when you are asked for it.",
	"When you are asked for the security key's PIN, type the PIN "
	"above, then touch the key. If it works, you are signed in.",
	"Change the PIN at once, to one only you know: on Windows, "
	"Settings > Accounts > Sign-in options > Security key > Manage; "
	"in Google Chrome, Settings > Privacy and security > Security > "
	"Manage security keys; or with your key vendor's tool (for "
	"example YubiKey Manager).",
	"Then shred this letter. Never keep the PIN with the key and never "
	"tell it to anyone; IT will not ask for it. If you lose the key, "
	"tell your IT help desk at once.",
};

/* the letter, on the page of cr */
static void
draw(cairo_t *cr, const struct mailer_letter *l, const char *date)
{
	char	 name[FIELD_MAX], line[FIELD_MAX + 64], num[8];
	double	 y, size, pw, box_y, box_h = 84;
	size_t	 i;

	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_set_source_rgb(cr, 0, 0, 0);

	clean(l->name != NULL && *l->name ? l->name : l->upn, name,
	    sizeof(name));
	font(cr, "sans-serif", true, 20);
	y = para(cr, MARGIN, MARGIN + 20, TEXT_W, 26,
	    "Your security key and its PIN");
	font(cr, "sans-serif", false, 11);
	snprintf(line, sizeof(line), "Personal and confidential: for %s "
	    "only.", name);
	y = para(cr, MARGIN, y + 2, TEXT_W, 15, line);
	cairo_set_line_width(cr, 0.8);
	cairo_move_to(cr, MARGIN, y);
	cairo_line_to(cr, PAGE_W - MARGIN, y);
	cairo_stroke(cr);

	y += 24;
	y = field(cr, y, "Name", l->name);
	y = field(cr, y, "User name", l->upn);
	y = field(cr, y, "Security key", l->model);
	y = field(cr, y, "AAGUID", l->aaguid);
	y = field(cr, y, "Serial number", l->serial);
	y = field(cr, y, "Slot", l->slot);
	y = field(cr, y, "Date", date);

	/* the PIN: large, monospaced, boxed; smaller only if it is long */
	y += 16;
	font(cr, "sans-serif", true, 13);
	show(cr, MARGIN, y, "Your PIN");
	box_y = y + 10;
	cairo_set_line_width(cr, 2);
	cairo_rectangle(cr, MARGIN, box_y, TEXT_W, box_h);
	cairo_stroke(cr);
	for (size = 44; size > 8; size -= 2) {
		font(cr, "monospace", true, size);
		if ((pw = text_w(cr, l->pin)) <= TEXT_W - 40)
			break;
	}
	font(cr, "monospace", true, size);
	pw = text_w(cr, l->pin);
	show(cr, MARGIN + (TEXT_W - pw) / 2, box_y + box_h / 2 + size * 0.35,
	    l->pin);
	y = box_y + box_h + 32;

	font(cr, "sans-serif", true, 14);
	show(cr, MARGIN, y, "What to do first");
	y += 22;
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		snprintf(num, sizeof(num), "%zu.", i + 1);
		font(cr, "sans-serif", true, 11);
		show(cr, MARGIN, y, num);
		font(cr, "sans-serif", false, 11);
		y = para(cr, MARGIN + 18, y, TEXT_W - 18, 15, steps[i]) + 8;
	}

	font(cr, "sans-serif", false, 8.5);
	para(cr, MARGIN, PAGE_H - MARGIN, TEXT_W, 11,
	    "If your organisation gave you other instructions for your "
	    "first sign-in, follow those instead.");
}

struct sink {
	int	fd;
	int	err;	/* errno of a failed write */
};

static cairo_status_t
sink_write(void *arg, const unsigned char *data, unsigned int len)
{
	struct sink *s = arg;

	if (write_all(s->fd, data, len) < 0) {
		s->err = errno;
		return (CAIRO_STATUS_WRITE_ERROR);
	}

	return (CAIRO_STATUS_SUCCESS);
}

/* the PDF, written by cairo to fd as it goes */
static int
render(int fd, const struct mailer_letter *l, const char *date, char *err,
    size_t errlen)
{
	cairo_surface_t	*sf;
	cairo_t		*cr;
	cairo_status_t	 st, sst;
	struct sink	 s;

	s.fd = fd;
	s.err = 0;
	sf = cairo_pdf_surface_create_for_stream(sink_write, &s, PAGE_W,
	    PAGE_H);
	if ((st = cairo_surface_status(sf)) != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(sf);
		errf(err, errlen, "cairo: %s", cairo_status_to_string(st));
		return (MAILER_ERR_RENDER);
	}
	/* no personal data in the metadata: the file name has enough */
	cairo_pdf_surface_set_metadata(sf, CAIRO_PDF_METADATA_TITLE,
	    "Security key PIN letter");
	cairo_pdf_surface_set_metadata(sf, CAIRO_PDF_METADATA_CREATOR,
	    "provisioning");
	__atomic_store_n(&drawn, 1, __ATOMIC_RELAXED);
	cr = cairo_create(sf);
	draw(cr, l, date);
	cairo_show_page(cr);
	st = cairo_status(cr);
	cairo_destroy(cr);
	/* finishing writes the rest: fonts, xref, trailer */
	cairo_surface_finish(sf);
	sst = cairo_surface_status(sf);
	cairo_surface_destroy(sf);
	if (st == CAIRO_STATUS_SUCCESS)
		st = sst;
	if (st != CAIRO_STATUS_SUCCESS) {
		if (s.err != 0)
			errf(err, errlen, "%s", strerror(s.err));
		else
			errf(err, errlen, "cairo: %s",
			    cairo_status_to_string(st));
		return (s.err != 0 ? MAILER_ERR_IO : MAILER_ERR_RENDER);
	}

	return (MAILER_OK);
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
	if ((r = dir_open(dir, false, &dfd, err, errlen)) != MAILER_OK)
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
	if ((r = render(fd, l, date, err, errlen)) != MAILER_OK)
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
	if (!__atomic_load_n(&drawn, __ATOMIC_RELAXED))
		return;
	cairo_debug_reset_static_data();
	FcFini();
	__atomic_store_n(&drawn, 0, __ATOMIC_RELAXED);
}
