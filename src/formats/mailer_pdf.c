/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * PIN letters, drawn (mailer_module.h): the letter as an A4 PDF, drawn
 * with cairo's toy text API into a file descriptor.  This file is the
 * module letter.so, loaded only when a letter is written, so that a
 * run without letters maps none of cairo, pixman, fontconfig, freetype
 * and X11.
 */

#include <cairo.h>
#include <cairo-pdf.h>
#include <errno.h>
#include <fontconfig/fontconfig.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "mailer_module.h"

/* has cairo drawn text (and so loaded fontconfig) in this process? */
static int drawn;

/* A4 in PostScript points, margins of 20 mm */
#define PAGE_W		595.28
#define PAGE_H		841.89
#define MARGIN		56.7
#define TEXT_W		(PAGE_W - 2 * MARGIN)
#define LABEL_W		100.0

#define FIELD_MAX	1024	/* a field as drawn, after cleaning */

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
pdf_render(int fd, const struct mailer_letter *l, const char *date, char *err,
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

static void
pdf_cleanup(void)
{
	if (!__atomic_load_n(&drawn, __ATOMIC_RELAXED))
		return;
	cairo_debug_reset_static_data();
	FcFini();
	__atomic_store_n(&drawn, 0, __ATOMIC_RELAXED);
}

__attribute__((visibility("default")))
const struct mailer_module mailer_module = {
	MAILER_MODULE_ABI,
	PROV_VERSION,
	pdf_render,
	pdf_cleanup,
};
