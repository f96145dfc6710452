/* Named counters: the process-wide name registry and each host's values.
 * See stats.h. */
#include "stack/stats.h"

#include <stdlib.h>
#include <string.h>

#define STATS_HASH_SLOTS (2 * STATS_SLOTS) /* open addressing, at most half full */

static const char *names[STATS_SLOTS] = { [STATS_ID_FULL] = "stats.table_full" };
static unsigned nnames = 1;
/* name -> id + 1 (0: empty), by FNV-1a of the characters */
static uint16_t index_of[STATS_HASH_SLOTS];
static int index_built;

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
	return h % STATS_HASH_SLOTS;
}

/* The index slot holding name, or the empty one where it belongs. */
static uint16_t *stats_slot(const char *name)
{
	size_t i = stats_hash(name);
	for (;;) {
		uint16_t *e = &index_of[i];
		if (*e == 0 || names[*e - 1] == name || strcmp(names[*e - 1], name) == 0)
			return e;
		i = (i + 1) % STATS_HASH_SLOTS; /* never full: at most half the slots used */
	}
}

/* The index slot for name (see stats_slot), with the index made first. */
static uint16_t *stats_index(const char *name)
{
	if (!index_built) {
		*stats_slot(names[STATS_ID_FULL]) = STATS_ID_FULL + 1;
		index_built = 1;
	}
	return stats_slot(name);
}

unsigned stats_id(const char *name)
{
	uint16_t *e = stats_index(name);
	if (*e)
		return *e - 1u;
	if (nnames >= STATS_SLOTS)
		return STATS_ID_FULL;
	names[nnames] = name;
	*e = (uint16_t)(nnames + 1);
	return nnames++;
}

const char *stats_name(unsigned id)
{
	return id < nnames ? names[id] : NULL;
}

uint64_t stats_get(const struct stats *st, const char *name)
{
	/* a lookup only: name may be any string, it is not kept */
	uint16_t e = *stats_index(name);
	return e && st->seen[e - 1] ? st->value[e - 1] : 0;
}

static int id_cmp(const void *a, const void *b)
{
	return strcmp(names[*(const unsigned *)a], names[*(const unsigned *)b]);
}

void stats_dump(const struct stats *st, FILE *out)
{
	unsigned sorted[STATS_SLOTS];
	size_t n = 0;
	for (unsigned id = 0; id < nnames; id++)
		if (st->seen[id])
			sorted[n++] = id;
	qsort(sorted, n, sizeof(sorted[0]), id_cmp);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%-32s %llu\n", names[sorted[i]], (unsigned long long)st->value[sorted[i]]);
}
