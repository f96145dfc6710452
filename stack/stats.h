/* Named counters: every packet counted and every drop reason has a name
 * such as "ip.bad_checksum" (stack/README.md, decision 6).
 *
 * Names live in one process-wide registry that gives each name a small
 * number (its id), the same for every stack in the process; each stack's
 * struct stats is an array of values indexed by id. Counting is then one
 * array add: stats_inc() and stats_add() are macros that keep, at each call
 * site, the last name seen there and its id, so a call with a string
 * literal looks its name up once in the life of the process (a site called
 * with varying names, like stack_drop()'s, looks up again when the name
 * changes: as dear as a hash, never wrong).
 *
 * Names must be string literals (or otherwise live as long as the process):
 * the registry keeps the pointer, not a copy. The registry is fixed-size;
 * names beyond its capacity are counted under "stats.table_full". */
#ifndef TAPSTACK_STATS_H
#define TAPSTACK_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define STATS_SLOTS 1024    /* names the registry holds, "stats.table_full" included */
#define STATS_ID_FULL 0     /* the id of "stats.table_full" */

/* One host's counters: value[id] for each registered name, and whether
 * this host has counted it at all (only those are listed). */
struct stats {
	uint64_t value[STATS_SLOTS];
	uint8_t seen[STATS_SLOTS];
	size_t used;            /* names this host has counted */
};

/* A call site's memory of the last name it counted and that name's id. */
struct stats_site {
	const char *name;
	unsigned id;
};

void stats_init(struct stats *st);

/* The id of name in the process-wide registry, registering it if new;
 * STATS_ID_FULL when the registry is full. */
unsigned stats_id(const char *name);

/* The name registered under id (NULL if none). */
const char *stats_name(unsigned id);

/* Adds n to the counter with this id (from stats_id()). */
static inline void stats_add_id(struct stats *st, unsigned id, uint64_t n)
{
	st->value[id] += n;
	if (!st->seen[id]) {
		st->seen[id] = 1;
		st->used++;
	}
}

/* Adds n to the counter called name through a call site's cache. */
static inline void stats_site_add(struct stats *st, struct stats_site *site, const char *name,
				  uint64_t n)
{
	if (site->name != name) {
		site->id = stats_id(name);
		site->name = name;
	}
	stats_add_id(st, site->id, n);
}

/* Adds n to the counter called name, creating it at 0 first. A statement. */
#define stats_add(st, name, n)                                      \
	do {                                                        \
		static struct stats_site stats_site_;               \
		stats_site_add((st), &stats_site_, (name), (n));    \
	} while (0)

/* Adds 1 to the counter called name. A statement. */
#define stats_inc(st, name) stats_add((st), (name), 1)

/* The counter's value; 0 for a name never counted. */
uint64_t stats_get(const struct stats *st, const char *name);

/* Writes "name value" lines, sorted by name, to out. */
void stats_dump(const struct stats *st, FILE *out);

#endif
