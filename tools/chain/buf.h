/* buf: a growable byte buffer. Appends never fail loudly: an allocation failure
 * sets `failed` and later appends are ignored, so callers check once at the end. */
#ifndef SEALTRAIL_BUF_H
#define SEALTRAIL_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
	bool failed;
};

char *buf_grow(struct buf *b, size_t n);

/* Makes room for n more bytes; returns a pointer to them or NULL (and sets failed).
 * Inline because the writer calls it for every token and it rarely grows. */
static inline char *buf_reserve(struct buf *b, size_t n)
{
	if (!b->failed && b->cap - b->len >= n)
		return b->data + b->len;
	return buf_grow(b, n);
}
void buf_free(struct buf *b);

/* Appends printf-formatted text (never truncated; sets failed when out of memory). */
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline void buf_append(struct buf *b, const void *p, size_t n)
{
	char *d = buf_reserve(b, n);

	if (d) {
		memcpy(d, p, n);
		b->len += n;
	}
}

static inline void buf_putc(struct buf *b, char c)
{
	if (!b->failed && b->len < b->cap)
		b->data[b->len++] = c;
	else
		buf_append(b, &c, 1);
}

static inline void buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

static inline void buf_reset(struct buf *b)
{
	b->len = 0;
	b->failed = false;
}

#endif
