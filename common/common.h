/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Small helpers shared by every module: logging, base64 codecs,
 * number and GUID parsing, wiping buffers, secret wiping, atomic
 * file writes, safe output files, the run lock and CSV cell
 * escaping.  No module-specific types here.
 */

#ifndef PROV_COMMON_H
#define PROV_COMMON_H

#include <sys/types.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* logging: silent but for warnings unless raised with log_init() */
#define LOG_WARN	0
#define LOG_INFO	1	/* --verbose */
#define LOG_DEBUG	2	/* -vv */

typedef void log_handler_t(int, const char *);

void	log_init(int);
int	log_level(void);
void	log_set_handler(log_handler_t *);
/* hold back log lines while a prompt waits on the terminal */
void	log_hold(bool);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));

/*
 * base64.  Encoders return a NUL-terminated string the caller frees.
 * b64_decode_any() accepts standard base64 (with or without '='),
 * base64url, and base64url with Graph's trailing padding digit; where
 * a string reads validly both ways, both decodings are returned
 * (out[1] != NULL), and the caller decides (e.g. exclude both ids).
 */
#define B64_MAXLEN	(16 * 1024 * 1024)

int	b64url_encode(const unsigned char *, size_t, char **);
int	b64_encode(const unsigned char *, size_t, char **);
int	b64url_decode(const char *, unsigned char **, size_t *);
int	b64_decode(const char *, unsigned char **, size_t *);

struct b64_any {
	unsigned char	*ptr[2];
	size_t		 len[2];
	int		 n;		/* number of readings, 1 or 2 */
};

int	b64_decode_any(const char *, struct b64_any *);
void	b64_any_reset(struct b64_any *);

/* hex */
int	hex_encode(const unsigned char *, size_t, char **);

/* text: UTF-8, JSON nesting, parser error messages */
size_t	utf8_seq(const unsigned char *, size_t);
bool	utf8_valid(const char *, size_t);
bool	json_depth_ok(const char *, size_t, int);
void	errf(char *, size_t, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
/*
 * Untrusted text (Graph, a key, a CSV, a link) for a terminal or a log:
 * C0 controls, DEL and invalid UTF-8 bytes become \xNN, C1 controls and
 * bidirectional overrides \uNNNN, so no escape sequence reaches the
 * terminal and no line can pose as another.  Always NUL-terminated, cut
 * at a whole character; returns out.  TEXT_SAFE_MAX(n): room for n bytes.
 */
#define TEXT_SAFE_MAX(n)	((n) * 4 + 1)
char	*text_safe(const char *, char *, size_t);
/* s[0..len) is 8-4-4-4-12 hex digits, either case, and nothing else */
bool	guid_valid(const char *, size_t);

/*
 * Integers from text: [-]DIGITS in decimal (parse_llx: or 0xHEX), the
 * whole string, within [min, max].  No leading space, no '+', never
 * octal, no clamping on overflow.  0, or -1 with errno EINVAL (not a
 * number) or ERANGE (outside the range) and *out untouched.
 */
int	parse_ll(const char *, long long, long long, long long *);
int	parse_llx(const char *, long long, long long, long long *);
/* parse_ll() into an int */
int	parse_int_range(const char *, int, int, int *);

/*
 * A growable byte buffer with a ceiling, for secrets and untrusted
 * input: growing copies and wipes the old block, buf_reset() wipes.
 * ptr is NUL-terminated once allocated.  A failed append sets err
 * (ENOMEM, or EFBIG past max) and every later one fails too, so a
 * builder may check once at the end.
 */
struct buf {
	unsigned char	*ptr;
	size_t		 len;
	size_t		 cap;
	size_t		 max;	/* ceiling on len */
	int		 err;
};

void		 buf_init(struct buf *, size_t);
int		 buf_reserve(struct buf *, size_t);
int		 buf_append(struct buf *, const void *, size_t);
int		 buf_puts(struct buf *, const char *);
const char	*buf_str(const struct buf *);
/* empty it (wiped) but keep the block */
void		 buf_clear(struct buf *);
/* wipe, free, keep max */
void		 buf_reset(struct buf *);
/*
 * hand the contents over, NUL-terminated ("" if empty; free with
 * freezero_buf(p, *len + 1)); NULL if an append had failed.  The
 * buffer is reset either way.
 */
unsigned char	*buf_release(struct buf *, size_t *);

/*
 * The environment for a helper we start (browser, desktop opener): a
 * whitelist (PATH HOME USER LOGNAME SHELL LANG LANGUAGE LC_* TZ DISPLAY
 * WAYLAND_DISPLAY XAUTHORITY XDG_* DBUS_SESSION_BUS_ADDRESS TERM BROWSER
 * TMPDIR), never PROVISIONING_*, a name holding SECRET, TOKEN, PASSWORD,
 * PIN, ..., nor one registered with env_scrub_name() (--pin-env VAR).
 * NULL-terminated; free with env_free().  NULL on ENOMEM.
 */
int	env_scrub_name(const char *);
char	**env_scrubbed(void);
void	env_free(char ***);

/* secrets */
void	wipe(void *, size_t);
void	freezero_str(char *);
void	freezero_buf(void *, size_t);

/* files */
int	write_all(int, const void *, size_t);
int	write_file_atomic(const char *, const void *, size_t, mode_t);
/* the same, but never replaces a file: 1 if it exists */
int	write_file_new(const char *, const void *, size_t, mode_t);
int	mkdir_p(const char *, mode_t);
int	read_file_max(const char *, size_t, unsigned char **, size_t *);

/*
 * file.c: output files in directories others may write.
 * file_open_append() creates PATH with `mode` less the umask (O_EXCL,
 * O_NOFOLLOW; *created = 1), or opens it for appending if it is a
 * regular file of ours with one link, or a device or pipe; a symbolic
 * link is followed only if it is ours or root's.  A descriptor, or -1
 * with errno and `err` naming the path and why.
 */
int	file_open_append(const char *, mode_t, int *created, char *err,
	    size_t errlen);
/* 0 if file_open_append() would take PATH (absent is fine), else -1 */
int	file_check_append(const char *, char *err, size_t errlen);
/*
 * Our own state (state directory, journal): owned by the effective
 * uid and writable by no one else, as ssh wants of ~/.ssh.
 * file_owner_why(): 0, or -1 and `why` says what is wrong ("is owned
 * by uid 65534 (nobody), not by you (uid 0)").  file_check_owned():
 * the same for PATH (lstat: a directory if `dir`, else a regular
 * file); an absent PATH is fine; -1 with `err` naming PATH.
 */
struct stat;
int	file_owner_why(const struct stat *, char *why, size_t whylen);
int	file_check_owned(const char *, bool dir, char *err, size_t errlen);

/*
 * lock.c: the run lock of a state directory.  0 and *fd held until
 * lock_release(); 1 if another process holds it (*holder: its pid, 0
 * if unknown); -1 with errno (EPERM: not a regular file of ours).
 */
int	lock_run(const char *, int *fd, long *holder);
void	lock_release(int *fd);

/*
 * CSV cells: a spreadsheet runs a cell that starts with = + - @ TAB or
 * CR as a formula; we write such a cell with a leading "'".  To read
 * back what we wrote, one "'" comes off a cell that would need it:
 * csv_formula_lead() is true for a cell that gets (or, read back, has)
 * the prefix (apostrophes, then one of those); csv_unescape() skips
 * our prefix.
 */
bool		 csv_formula_lead(const char *);
const char	*csv_unescape(const char *);
bool		 text_has_ci(const char *, size_t, const char *);

/* time */
long long	now_ms(void);

/* threads: a name of at most 15 bytes (longer is cut) */
void		thread_name(pthread_t, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

#endif /* PROV_COMMON_H */
