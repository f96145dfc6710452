/* Named counters: every packet counted and every drop reason has a name
 * such as "ip.bad_checksum" (ARCHITECTURE.md decision 6). Names must be
 * string literals (or otherwise live as long as the table): the table keeps
 * the pointer, not a copy. The table is fixed-size; names beyond its
 * capacity are counted under "stats.table_full". */
#ifndef TAPSTACK_STATS_H
#define TAPSTACK_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define STATS_SLOTS 512

struct stats_entry {
	const char *name;
	uint64_t value;
};

struct stats {
	struct stats_entry slot[STATS_SLOTS];
	size_t used;
};

void stats_init(struct stats *st);

/* Adds n to the counter called name, creating it at 0 first. */
void stats_add(struct stats *st, const char *name, uint64_t n);

/* Adds 1 to the counter called name. */
static inline void stats_inc(struct stats *st, const char *name)
{
	stats_add(st, name, 1);
}

/* The counter's value; 0 for a name never counted. */
uint64_t stats_get(const struct stats *st, const char *name);

/* Writes "name value" lines, sorted by name, to out. */
void stats_dump(const struct stats *st, FILE *out);

#endif
