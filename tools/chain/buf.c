/* buf: growable byte buffer (see buf.h). */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* buf_reserve's slow path. */
char *buf_grow(struct buf *b, size_t n)
{
	size_t cap;
	char *d;

	if (b->failed)
		return NULL;
	if (b->cap - b->len >= n)
		return b->data + b->len;
	cap = b->cap ? b->cap : 256;
	while (cap - b->len < n) {
		if (cap > ((size_t)-1) / 2)
			goto fail;
		cap *= 2;
	}
	d = realloc(b->data, cap);
	if (!d)
		goto fail;
	b->data = d;
	b->cap = cap;
	return b->data + b->len;
fail:
	b->failed = true;
	return NULL;
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->failed = false;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char *d;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !(d = buf_reserve(b, (size_t)n + 1)))
		return;
	va_start(ap, fmt);
	vsnprintf(d, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}
