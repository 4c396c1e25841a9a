/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The PINs given to keys, kept across the rounds of one process and
 * read back from the pins file it wrote (see enroll.h).
 */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "enroll.h"
#include "report.h"

struct pin_entry {
	char	*key;
	char	*pin;		/* secret */
};

struct enroll_pinbook {
	pthread_mutex_t		 lock;
	struct pin_entry	*v;
	size_t			 n;
	size_t			 cap;
};

enroll_pinbook_t *
enroll_pinbook_new(void)
{
	enroll_pinbook_t *pb;

	if ((pb = calloc(1, sizeof(*pb))) == NULL)
		return (NULL);
	if (pthread_mutex_init(&pb->lock, NULL) != 0) {
		free(pb);
		return (NULL);
	}

	return (pb);
}

void
enroll_pinbook_free(enroll_pinbook_t **pp)
{
	enroll_pinbook_t	*pb;
	size_t			 i;

	if (pp == NULL || (pb = *pp) == NULL)
		return;
	for (i = 0; i < pb->n; i++) {
		free(pb->v[i].key);
		freezero_str(pb->v[i].pin);
	}
	free(pb->v);
	pthread_mutex_destroy(&pb->lock);
	free(pb);
	*pp = NULL;
}

int
enroll_pinbook_put(enroll_pinbook_t *pb, const char *key, const char *pin)
{
	struct pin_entry	*nv;
	char			*copy;
	size_t			 i;
	int			 r = -1;

	if (pb == NULL || key == NULL || *key == '\0' || pin == NULL ||
	    (copy = strdup(pin)) == NULL)
		return (-1);
	pthread_mutex_lock(&pb->lock);
	for (i = 0; i < pb->n; i++)
		if (strcmp(pb->v[i].key, key) == 0) {
			/* the newest PIN of a key wins */
			freezero_str(pb->v[i].pin);
			pb->v[i].pin = copy;
			copy = NULL;
			r = 0;
			goto out;
		}
	if (pb->n == pb->cap) {
		if ((nv = reallocarray(pb->v, pb->cap ? pb->cap * 2 : 8,
		    sizeof(*nv))) == NULL)
			goto out;
		pb->v = nv;
		pb->cap = pb->cap ? pb->cap * 2 : 8;
	}
	if ((pb->v[pb->n].key = strdup(key)) == NULL)
		goto out;
	pb->v[pb->n++].pin = copy;
	copy = NULL;
	r = 0;
out:
	pthread_mutex_unlock(&pb->lock);
	freezero_str(copy);

	return (r);
}

char *
enroll_pinbook_get(enroll_pinbook_t *pb, const char *key)
{
	char	*pin = NULL;
	size_t	 i;

	if (pb == NULL || key == NULL)
		return (NULL);
	pthread_mutex_lock(&pb->lock);
	for (i = 0; i < pb->n; i++)
		if (strcmp(pb->v[i].key, key) == 0) {
			pin = strdup(pb->v[i].pin);
			break;
		}
	pthread_mutex_unlock(&pb->lock);

	return (pin);
}

static int
load_row(void *arg, const char *device, const char *pin)
{
	return (enroll_pinbook_put(arg, device, pin));
}

int
enroll_pinbook_load(enroll_pinbook_t *pb, const char *path, char *err,
    size_t errlen)
{
	if (pb == NULL || path == NULL)
		return (-1);

	return (report_pins_load(path, load_row, pb, err, errlen) ==
	    REPORT_OK ? 0 : -1);
}
