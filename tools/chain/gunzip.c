/* gunzip: a strict gzip reader on zlib's inflate(); see gunzip.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "gunzip.h"

#define GUNZIP_IN (256u << 10)

struct gunzip {
	int fd;
	z_stream zs;
	bool in_eof;		/* the file has no more bytes */
	bool member_end;	/* the last member ended: only another one may follow */
	bool done;		/* clean end */
	unsigned char in[GUNZIP_IN];
};

int gunzip_open(struct gunzip **out, int fd)
{
	struct gunzip *g = calloc(1, sizeof(*g));

	if (!g)
		return -ENOMEM;
	g->fd = fd;
	/* 15 + 16: a gzip header and trailer, nothing else (no zlib, no raw deflate). */
	if (inflateInit2(&g->zs, 15 + 16) != Z_OK) {
		free(g);
		return -ENOMEM;
	}
	*out = g;
	return 0;
}

/* More compressed input after what is left: 1, 0 at the end of the file, or -errno. */
static int refill(struct gunzip *g)
{
	ssize_t n;

	if (g->in_eof)
		return 0;
	if (g->zs.avail_in)
		memmove(g->in, g->zs.next_in, g->zs.avail_in);
	do
		n = read(g->fd, g->in + g->zs.avail_in, GUNZIP_IN - g->zs.avail_in);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		g->in_eof = true;
	g->zs.next_in = g->in;
	g->zs.avail_in += (uInt)n;
	return n > 0;
}

/* After a member: the end, another member (its two magic bytes), or trailing bytes. */
static int after_member(struct gunzip *g)
{
	int rc;

	while (g->zs.avail_in < 2) {
		rc = refill(g);
		if (rc < 0)
			return rc;
		if (rc == 0)
			break;
	}
	if (g->zs.avail_in == 0) {
		g->done = true;
		return 0;
	}
	if (g->zs.avail_in < 2 || g->zs.next_in[0] != 0x1f || g->zs.next_in[1] != 0x8b)
		return -EBADMSG;
	g->member_end = false;
	return inflateReset(&g->zs) == Z_OK ? 1 : -EBADMSG;
}

ssize_t gunzip_read(struct gunzip *g, void *buf, size_t len)
{
	int rc;

	if (len > UINT32_MAX)
		len = UINT32_MAX;
	g->zs.next_out = buf;
	g->zs.avail_out = (uInt)len;
	while (g->zs.avail_out == len && !g->done) {
		if (g->member_end) {
			rc = after_member(g);
			if (rc < 0)
				return rc;
			continue;
		}
		if (g->zs.avail_in == 0) {
			rc = refill(g);
			if (rc < 0)
				return rc;
			if (rc == 0)
				return -EBADMSG;	/* cut short inside a member */
		}
		rc = inflate(&g->zs, Z_NO_FLUSH);
		if (rc == Z_STREAM_END)
			g->member_end = true;
		else if (rc == Z_MEM_ERROR)
			return -ENOMEM;
		else if (rc != Z_OK && rc != Z_BUF_ERROR)
			return -EBADMSG;
	}
	return (ssize_t)(len - g->zs.avail_out);
}

void gunzip_free(struct gunzip *g)
{
	if (!g)
		return;
	inflateEnd(&g->zs);
	free(g);
}
