/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Progress bar or plain progress lines (see progress.h).
 */

#include <sys/ioctl.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "progress.h"

#define LINE_MAX_OUT	512

struct progress {
	FILE			*f;
	enum progress_mode	 mode;
	pthread_mutex_t		 lock;
	size_t			 total;
	size_t			 done;
	size_t			 failed;
	size_t			 skipped;
	long long		 start_ms;
	int			 drawn;		/* a bar is on screen */
};

const char *
progress_strerr(int r)
{
	switch (r) {
	case PROGRESS_OK:
		return ("success");
	case PROGRESS_ERR_INTERNAL:
		return ("out of memory");
	case PROGRESS_ERR_ARG:
		return ("invalid argument");
	default:
		return ("unknown progress error");
	}
}

int
progress_new(FILE *f, size_t total, enum progress_mode mode,
    progress_t **pp)
{
	progress_t *p;

	if (pp == NULL)
		return (PROGRESS_ERR_ARG);
	*pp = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return (PROGRESS_ERR_INTERNAL);
	if (pthread_mutex_init(&p->lock, NULL) != 0) {
		free(p);
		return (PROGRESS_ERR_INTERNAL);
	}
	p->f = f != NULL ? f : stderr;
	if (mode == PROGRESS_AUTO)
		mode = isatty(fileno(p->f)) ? PROGRESS_TTY : PROGRESS_PLAIN;
	p->mode = mode;
	p->total = total;
	p->start_ms = now_ms();
	*pp = p;

	return (PROGRESS_OK);
}

static void
clear_bar(progress_t *p)
{
	if (p->drawn) {
		fputs("\r\033[K", p->f);
		p->drawn = 0;
	}
}

void
progress_free(progress_t **pp)
{
	progress_t *p;

	if (pp == NULL || (p = *pp) == NULL)
		return;
	if (p->drawn) {
		fputc('\n', p->f);
		fflush(p->f);
	}
	pthread_mutex_destroy(&p->lock);
	free(p);
	*pp = NULL;
}

void
progress_set_total(progress_t *p, size_t total)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->total = total;
	pthread_mutex_unlock(&p->lock);
}

void
progress_fmt_duration(long s, char *buf, size_t len)
{
	if (s < 0)
		snprintf(buf, len, "--");
	else if (s < 60)
		snprintf(buf, len, "%lds", s);
	else if (s < 3600)
		snprintf(buf, len, "%ldm%02lds", s / 60, s % 60);
	else
		snprintf(buf, len, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
}

static void
counts_locked(const progress_t *p, struct progress_counts *c)
{
	size_t		finished = p->done + p->failed + p->skipped;
	long long	el = now_ms() - p->start_ms;

	memset(c, 0, sizeof(*c));
	c->total = p->total;
	c->done = p->done;
	c->failed = p->failed;
	c->skipped = p->skipped;
	c->remaining = p->total > finished ? p->total - finished : 0;
	c->eta_s = -1;
	if (finished > 0 && el > 0) {
		c->per_min = (double)finished * 60000.0 / (double)el;
		if (p->total > 0)
			c->eta_s = (long)((double)c->remaining * 60.0 /
			    c->per_min + 0.5);
	}
}

void
progress_counts(progress_t *p, struct progress_counts *c)
{
	if (p == NULL || c == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	counts_locked(p, c);
	pthread_mutex_unlock(&p->lock);
}

/* users, reasons and Graph's words: no escape reaches the terminal */
static void
put_clean(FILE *f, const char *s)
{
	char safe[TEXT_SAFE_MAX(LINE_MAX_OUT)];

	fputs(text_safe(s != NULL ? s : "", safe, sizeof(safe)), f);
}

static int
term_cols(const progress_t *p)
{
	struct winsize ws;

	if (ioctl(fileno(p->f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10)
		return (ws.ws_col);

	return (80);
}

static void
draw_bar(progress_t *p)
{
	struct progress_counts	c;
	char			line[LINE_MAX_OUT], eta[32], tot[32];
	int			n, cols;

	counts_locked(p, &c);
	progress_fmt_duration(c.eta_s, eta, sizeof(eta));
	if (c.total > 0)
		snprintf(tot, sizeof(tot), "%zu", c.total);
	else
		snprintf(tot, sizeof(tot), "?");
	n = snprintf(line, sizeof(line), "[%zu/%s] done %zu  failed %zu  "
	    "skipped %zu  left %zu  %.1f/min  ETA %s",
	    c.done + c.failed + c.skipped, tot, c.done, c.failed, c.skipped,
	    c.remaining, c.per_min, eta);
	cols = term_cols(p);
	/* never wrap: a wrapped line cannot be redrawn with \r */
	if (n >= cols)
		line[cols - 1] = '\0';
	fputs("\r\033[K", p->f);
	fputs(line, p->f);
	fflush(p->f);
	p->drawn = 1;
}

static const char *
default_what(enum progress_outcome o)
{
	switch (o) {
	case PROGRESS_DONE:
		return ("enrolled");
	case PROGRESS_FAILED:
		return ("failed");
	default:
		return ("skipped");
	}
}

void
progress_event(progress_t *p, enum progress_outcome o, size_t pos,
    const char *user, const char *what, const char *detail)
{
	size_t	 finished;
	char	 tot[32];

	if (p == NULL)
		return;
	if (what == NULL)
		what = default_what(o);
	log_hold(true);		/* not while a prompt waits for input */
	pthread_mutex_lock(&p->lock);
	if (o == PROGRESS_DONE)
		p->done++;
	else if (o == PROGRESS_FAILED)
		p->failed++;
	else
		p->skipped++;
	finished = p->done + p->failed + p->skipped;
	if (p->total > 0)
		snprintf(tot, sizeof(tot), "%zu", p->total);
	else
		snprintf(tot, sizeof(tot), "?");
	if (p->mode == PROGRESS_PLAIN ||
	    (p->mode == PROGRESS_TTY && o == PROGRESS_FAILED)) {
		clear_bar(p);
		fprintf(p->f, "[%zu/%s] ", pos > 0 ? pos : finished, tot);
		put_clean(p->f, user != NULL ? user : "?");
		fputs(": ", p->f);
		put_clean(p->f, what);
		if (detail != NULL && *detail != '\0') {
			fputs(" (", p->f);
			put_clean(p->f, detail);
			fputc(')', p->f);
		}
		fputc('\n', p->f);
		fflush(p->f);
	}
	if (p->mode == PROGRESS_TTY)
		draw_bar(p);
	pthread_mutex_unlock(&p->lock);
	log_hold(false);
}

void
progress_note(progress_t *p, const char *fmt, ...)
{
	char	buf[LINE_MAX_OUT];
	va_list	ap;

	if (p == NULL || p->mode == PROGRESS_QUIET)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_hold(true);
	pthread_mutex_lock(&p->lock);
	clear_bar(p);
	put_clean(p->f, buf);
	fputc('\n', p->f);
	if (p->mode == PROGRESS_TTY)
		draw_bar(p);
	fflush(p->f);
	pthread_mutex_unlock(&p->lock);
	log_hold(false);
}
