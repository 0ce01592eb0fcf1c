/* strmap: counted string-keyed items (see strmap.h). Open addressing with
 * linear probing, FNV-1a hashes, the table kept at most half full. */
#include "strmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* The slot holding key, or the empty slot where it would go. */
static size_t find_slot(const struct strmap *m, const void *key, size_t klen)
{
	size_t mask = m->nslots - 1, i = (size_t)hash_bytes(key, klen) & mask;

	while (m->slots[i]) {
		const struct strmap_item *it = m->items[m->slots[i] - 1];

		if (it->klen == klen && !memcmp(it->key, key, klen))
			break;
		i = (i + 1) & mask;
	}
	return i;
}

static int grow(struct strmap *m)
{
	size_t nslots = m->nslots ? m->nslots * 2 : 64, i, *old = m->slots, oldn = m->nslots;

	m->slots = calloc(nslots, sizeof(*m->slots));
	if (!m->slots) {
		m->slots = old;
		return -ENOMEM;
	}
	m->nslots = nslots;
	for (i = 0; i < oldn; i++) {
		const struct strmap_item *it;

		if (!old[i])
			continue;
		it = m->items[old[i] - 1];
		m->slots[find_slot(m, it->key, it->klen)] = old[i];
	}
	free(old);
	return 0;
}

struct strmap_item *strmap_get(struct strmap *m, const void *key, size_t klen, bool add, int *err)
{
	struct strmap_item *it, **items;
	size_t slot;
	char *copy;

	*err = 0;
	if (m->nslots) {
		slot = find_slot(m, key, klen);
		if (m->slots[slot])
			return m->items[m->slots[slot] - 1];
	}
	if (!add)
		return NULL;
	if (m->limit && m->n >= m->limit) {
		*err = -E2BIG;
		return NULL;
	}
	if ((m->n + 1) * 2 > m->nslots && grow(m))
		goto nomem;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 32;

		items = realloc(m->items, cap * sizeof(*items));
		if (!items)
			goto nomem;
		m->items = items;
		m->cap = cap;
	}
	/* One allocation for the item and its key. */
	it = malloc(sizeof(*it) + klen + 1);
	if (!it)
		goto nomem;
	copy = (char *)(it + 1);
	memcpy(copy, key, klen);
	copy[klen] = '\0';
	*it = (struct strmap_item){ .key = copy, .klen = klen };
	m->items[m->n++] = it;
	m->slots[find_slot(m, key, klen)] = m->n;
	return it;
nomem:
	*err = -ENOMEM;
	return NULL;
}

static int key_cmp(const struct strmap_item *a, const struct strmap_item *b)
{
	int c = memcmp(a->key, b->key, a->klen < b->klen ? a->klen : b->klen);

	if (c)
		return c;
	return a->klen < b->klen ? -1 : a->klen > b->klen;
}

static int by_count(const void *x, const void *y)
{
	const struct strmap_item *a = *(const struct strmap_item *const *)x;
	const struct strmap_item *b = *(const struct strmap_item *const *)y;

	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return key_cmp(a, b);
}

static int by_key(const void *x, const void *y)
{
	const struct strmap_item *a = *(const struct strmap_item *const *)x;
	const struct strmap_item *b = *(const struct strmap_item *const *)y;

	return key_cmp(a, b);
}

static struct strmap_item **sorted(const struct strmap *m, int (*cmp)(const void *, const void *))
{
	struct strmap_item **v;

	if (!m->n)
		return NULL;
	v = malloc(m->n * sizeof(*v));
	if (!v)
		return NULL;
	memcpy(v, m->items, m->n * sizeof(*v));
	qsort(v, m->n, sizeof(*v), cmp);
	return v;
}

struct strmap_item **strmap_by_count(const struct strmap *m)
{
	return sorted(m, by_count);
}

struct strmap_item **strmap_by_key(const struct strmap *m)
{
	return sorted(m, by_key);
}

void strmap_free(struct strmap *m, void (*free_value)(void *value))
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		if (free_value)
			free_value(m->items[i]->value);
		free(m->items[i]);
	}
	free(m->items);
	free(m->slots);
	memset(m, 0, sizeof(*m));
}
