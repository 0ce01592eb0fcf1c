/* strmap: a hash map from byte strings to counted items, kept in insertion
 * order. Replay keeps one per thing it counts (actions, executables, users) and
 * one for the process tree (entity id -> node), so its memory grows with the
 * number of distinct keys, never with the number of events. */
#ifndef SEALTRAIL_STRMAP_H
#define SEALTRAIL_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strmap_item {
	const char *key;	/* a private copy, NUL-terminated; the key itself may hold NULs */
	size_t klen;
	uint64_t count;		/* the caller's to use */
	void *value;		/* the caller's */
};

struct strmap {
	struct strmap_item **items;	/* in insertion order */
	size_t n, cap;
	size_t *slots;			/* index + 1 into items; 0 is empty */
	size_t nslots;
	size_t limit;			/* 0: none; else at most this many keys */
};

/* Returns the item for key. When it is absent: adds it (count 0, value NULL)
 * if add is true, else returns NULL with *err = 0. Returns NULL with *err =
 * -ENOMEM, or -E2BIG when the map already holds `limit` keys. */
struct strmap_item *strmap_get(struct strmap *m, const void *key, size_t klen, bool add, int *err);

/* The items ordered by count (highest first), then by key: a malloc'd array of
 * m->n pointers the caller frees, or NULL (out of memory, or an empty map). */
struct strmap_item **strmap_by_count(const struct strmap *m);

/* The items ordered by key (byte order, which is code point order for WTF-8). */
struct strmap_item **strmap_by_key(const struct strmap *m);

/* Frees the map; free_value (may be NULL) is called on every item's value. */
void strmap_free(struct strmap *m, void (*free_value)(void *value));

#endif
