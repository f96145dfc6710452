/* Named counters in a fixed open-addressing table. See stats.h. */
#include "stack/stats.h"

#include <stdlib.h>
#include <string.h>

void stats_init(struct stats *st)
{
	memset(st, 0, sizeof(*st));
}

/* FNV-1a over the name's characters. */
static size_t stats_hash(const char *name)
{
	uint32_t h = 2166136261u;
	for (const char *c = name; *c; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	return h % STATS_SLOTS;
}

/* The slot holding name, or the empty slot where it belongs; NULL if the
 * table is full. */
static struct stats_entry *stats_find(const struct stats *st, const char *name)
{
	size_t i = stats_hash(name);
	for (size_t n = 0; n < STATS_SLOTS; n++, i = (i + 1) % STATS_SLOTS) {
		const struct stats_entry *e = &st->slot[i];
		if (!e->name || e->name == name || strcmp(e->name, name) == 0)
			return (struct stats_entry *)e;
	}
	return NULL;
}

void stats_add(struct stats *st, const char *name, uint64_t n)
{
	struct stats_entry *e = stats_find(st, name);
	/* Keep one slot free so "stats.table_full" itself always fits. */
	if (e && !e->name && st->used >= STATS_SLOTS - 1)
		e = NULL;
	if (!e) {
		e = stats_find(st, "stats.table_full");
		if (!e)
			return;
		name = "stats.table_full";
	}
	if (!e->name) {
		e->name = name;
		st->used++;
	}
	e->value += n;
}

uint64_t stats_get(const struct stats *st, const char *name)
{
	const struct stats_entry *e = stats_find(st, name);
	return e && e->name ? e->value : 0;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct stats_entry *x = *(const struct stats_entry *const *)a;
	const struct stats_entry *y = *(const struct stats_entry *const *)b;
	return strcmp(x->name, y->name);
}

void stats_dump(const struct stats *st, FILE *out)
{
	const struct stats_entry *sorted[STATS_SLOTS];
	size_t n = 0;
	for (size_t i = 0; i < STATS_SLOTS; i++)
		if (st->slot[i].name)
			sorted[n++] = &st->slot[i];
	qsort(sorted, n, sizeof(sorted[0]), entry_cmp);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%-32s %llu\n", sorted[i]->name, (unsigned long long)sorted[i]->value);
}
