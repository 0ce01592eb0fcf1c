/* buf: growable byte buffer (see buf.h). */
#include "buf.h"

#include <stdlib.h>

char *buf_reserve(struct buf *b, size_t n)
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
