/* The shim's fd table (fdmap.h). */
#include <stdlib.h>
#include <string.h>

#include "apps/preload/fdmap.h"

void fdmap_init(struct fdmap *m)
{
	memset(m, 0, sizeof(*m));
}

static bool in_range(int fd)
{
	return fd >= 0 && fd < FDMAP_MAX;
}

bool fdmap_peek(const struct fdmap *m, int fd)
{
	return in_range(fd) && __atomic_load_n(&m->slot[fd], __ATOMIC_ACQUIRE) != NULL;
}

struct tsock *fdmap_get(const struct fdmap *m, int fd)
{
	return in_range(fd) ? m->slot[fd] : NULL;
}

static void set_slot(struct fdmap *m, int fd, struct tsock *ts)
{
	__atomic_store_n(&m->slot[fd], ts, __ATOMIC_RELEASE);
}

struct tsock *fdmap_add(struct fdmap *m, int fd, int nfd, int own, int peer)
{
	if (!in_range(fd) || m->slot[fd])
		return NULL;
	struct tsock *ts = calloc(1, sizeof(*ts));
	if (!ts)
		return NULL;
	ts->nfd = nfd;
	ts->own = own;
	ts->peer = peer;
	ts->refs = 1;
	ts->mir_w = true; /* a fresh socketpair end is writable */
	ts->next = m->all;
	if (m->all)
		m->all->prev = ts;
	m->all = ts;
	m->count++;
	set_slot(m, fd, ts);
	return ts;
}

bool fdmap_ref(struct fdmap *m, int fd, struct tsock *ts)
{
	if (!in_range(fd) || m->slot[fd])
		return false;
	ts->refs++;
	set_slot(m, fd, ts);
	return true;
}

bool fdmap_unref(struct fdmap *m, int fd)
{
	struct tsock *ts = fdmap_get(m, fd);
	if (!ts)
		return false;
	set_slot(m, fd, NULL);
	return --ts->refs == 0;
}

void fdmap_forget(struct fdmap *m, struct tsock *ts)
{
	for (int fd = 0; ts->refs > 0 && fd < FDMAP_MAX; fd++) {
		if (m->slot[fd] == ts) {
			set_slot(m, fd, NULL);
			ts->refs--;
		}
	}
	if (ts->prev)
		ts->prev->next = ts->next;
	else
		m->all = ts->next;
	if (ts->next)
		ts->next->prev = ts->prev;
	m->count--;
	free(ts);
}
