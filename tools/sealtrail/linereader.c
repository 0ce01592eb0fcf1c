/* linereader: bounded lines of a file descriptor; see linereader.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>
#include "linereader.h"

#define LINEREADER_CHUNK (64u << 10)

struct linereader {
	int fd;
	size_t max;
	char *buf;
	size_t cap;
	size_t start, end;	/* unconsumed bytes: buf[start, end) */
	bool eof;
};

struct linereader *linereader_new(int fd, size_t max)
{
	struct linereader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->fd = fd;
	r->max = max;
	r->cap = LINEREADER_CHUNK;
	r->buf = malloc(r->cap);
	if (!r->buf) {
		free(r);
		return NULL;
	}
	return r;
}

/* Moves the unconsumed bytes to the front and reads more after them: bytes read, 0 at
 * the end of input, -errno. The buffer grows to max + 1 and no further. */
static ssize_t fill(struct linereader *r)
{
	size_t want;
	ssize_t n;
	char *nb;

	if (r->start) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	if (r->end == r->cap) {
		want = r->cap * 2 < r->max + 1 ? r->cap * 2 : r->max + 1;
		if (want <= r->cap)
			return -E2BIG;	/* the caller drops the line */
		nb = realloc(r->buf, want);
		if (!nb)
			return -ENOMEM;
		r->buf = nb;
		r->cap = want;
	}
	do
		n = read(r->fd, r->buf + r->end, r->cap - r->end);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		r->eof = true;
	r->end += (size_t)n;
	return n;
}

/* Reads and drops the rest of a line that is too long (up to its newline). */
static int skip_rest(struct linereader *r)
{
	char *nl;
	ssize_t n;

	for (;;) {
		nl = memchr(r->buf + r->start, '\n', r->end - r->start);
		if (nl) {
			r->start = (size_t)(nl - r->buf) + 1;
			return 0;
		}
		r->start = r->end = 0;
		if (r->eof)
			return 0;
		n = fill(r);
		if (n < 0)
			return (int)n;
	}
}

int linereader_next(struct linereader *r, const char **line, size_t *len)
{
	size_t scanned = 0, n;
	ssize_t got;
	char *nl;

	for (;;) {
		nl = memchr(r->buf + r->start + scanned, '\n', r->end - r->start - scanned);
		n = nl ? (size_t)(nl - (r->buf + r->start)) : r->end - r->start;
		if (n > r->max) {
			got = skip_rest(r);
			return got < 0 ? (int)got : -E2BIG;
		}
		if (nl || (r->eof && n)) {
			*line = r->buf + r->start;
			*len = n;
			r->start += n + (nl ? 1 : 0);
			return 1;
		}
		if (r->eof)
			return 0;
		scanned = n;
		got = fill(r);
		if (got < 0 && got != -E2BIG)	/* E2BIG: n > max on the next pass */
			return (int)got;
	}
}

void linereader_free(struct linereader *r)
{
	if (!r)
		return;
	free(r->buf);
	free(r);
}
