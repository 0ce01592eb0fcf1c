/* segment: listing, reading, compressing and protecting segment files. */
#include "segment.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>
#include <zlib.h>
#include "entry.h"
#include "fileio.h"
#include "gunzip.h"

#define READ_CHUNK (1u << 20)

/* Closed segments are compressed with zlib's level 3, not its default 6: on a
 * busy host the compression was two thirds of the agent's CPU. Level 3 is the
 * strongest of zlib's fast levels; it deflates trails about 2x faster than 6
 * (about 2.7x on uniform ones), for files about 20% larger (see docs/BENCH.md).
 * Any level reads back the same bytes. */
#define COMPRESS_MODE "wb3"

void segment_name(uint64_t first_seq, bool gz, char out[SEGMENT_NAME_MAX])
{
	snprintf(out, SEGMENT_NAME_MAX, "%020" PRIu64 ".jsonl%s", first_seq, gz ? ".gz" : "");
}

/* Parses NNNNNNNNNNNNNNNNNNNN.jsonl[.gz]; returns false for any other name. */
static bool parse_name(const char *name, uint64_t *seq, bool *gz)
{
	size_t len = strlen(name), i;
	uint64_t v = 0;

	if (len == 26 && !strcmp(name + 20, ".jsonl"))
		*gz = false;
	else if (len == 29 && !strcmp(name + 20, ".jsonl.gz"))
		*gz = true;
	else
		return false;
	for (i = 0; i < 20; i++) {
		uint64_t d;

		if (name[i] < '0' || name[i] > '9')
			return false;
		d = (uint64_t)(name[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*seq = v;
	return true;
}

static int info_cmp(const void *x, const void *y)
{
	const struct segment_info *a = x, *b = y;

	if (a->first_seq != b->first_seq)
		return a->first_seq < b->first_seq ? -1 : 1;
	return (int)a->gz - (int)b->gz;	/* plain before gz */
}

int segment_list_read(int dirfd, struct segment_list *l)
{
	struct segment_info *v = NULL;
	size_t n = 0, cap = 0, i, out;
	struct dirent *de;
	DIR *d;
	int fd, err = 0;

	memset(l, 0, sizeof(*l));
	fd = dup(dirfd);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	rewinddir(d);
	while ((errno = 0, de = readdir(d))) {
		struct segment_info si = { 0 };

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!parse_name(de->d_name, &si.first_seq, &si.gz)) {
			char **ig = realloc(l->ignored, (l->nignored + 1) * sizeof(*ig));

			if (!ig || !(ig[l->nignored] = strdup(de->d_name))) {
				if (ig)
					l->ignored = ig;
				err = -ENOMEM;
				break;
			}
			l->ignored = ig;
			l->nignored++;
			continue;
		}
		memcpy(si.name, de->d_name, strlen(de->d_name) + 1);	/* parse_name: <= 29 */
		if (n == cap) {
			struct segment_info *nv;

			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*nv));
			if (!nv) {
				err = -ENOMEM;
				break;
			}
			v = nv;
		}
		v[n++] = si;
	}
	if (!err && errno)
		err = -errno;
	closedir(d);
	if (err) {
		free(v);
		segment_list_free(l);
		return err;
	}
	if (n)
		qsort(v, n, sizeof(*v), info_cmp);
	/* Fold X.jsonl + X.jsonl.gz into one entry: the plain file is authoritative
	 * until compression has finished and removed it. */
	for (i = 0, out = 0; i < n; i++) {
		if (out > 0 && v[out - 1].first_seq == v[i].first_seq) {
			v[out - 1].twin = true;
			continue;
		}
		v[out++] = v[i];
	}
	l->v = v;
	l->n = out;
	return 0;
}

void segment_list_free(struct segment_list *l)
{
	size_t i;

	for (i = 0; i < l->nignored; i++)
		free(l->ignored[i]);
	free(l->ignored);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* ---- reading ----------------------------------------------------------------- */
struct segment_reader {
	int fd;
	struct gunzip *gz;	/* a .gz segment's reader, else NULL */
	char *buf;
	size_t cap;
	size_t start, end;	/* unconsumed bytes are buf[start, end) */
	bool eof;
	bool own_fd;		/* closed with the reader (segment_reader_open's) */
	bool skipping;		/* dropping the rest of a line over ENTRY_MAX_LINE */
	uint64_t line_no;
	uint64_t consumed;
};

int segment_reader_fdopen(int fd, struct segment_reader **out)
{
	struct segment_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->cap = READ_CHUNK;
	r->buf = malloc(r->cap);
	if (!r->buf) {
		free(r);
		return -ENOMEM;
	}
	r->fd = fd;
	*out = r;
	return 0;
}

int segment_reader_open(int dirfd, const char *name, struct segment_reader **out)
{
	struct segment_reader *r;
	size_t len = strlen(name);
	struct stat st;
	int fd, err;

	/* O_NONBLOCK: a FIFO put in place of a segment must not hang the reader. */
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		err = fd < 0 ? -errno : -EFTYPE_;
		if (fd >= 0)
			close(fd);
		return err;
	}
	err = segment_reader_fdopen(fd, &r);
	if (!err && len > 3 && !strcmp(name + len - 3, ".gz") && gunzip_open(&r->gz, fd)) {
		segment_reader_close(r);
		err = -ENOMEM;
	}
	if (err) {
		close(fd);
		return err;
	}
	r->own_fd = true;
	*out = r;
	return 0;
}

/* Reads more data after the unconsumed bytes; returns bytes read, 0, or -errno. */
static ssize_t fill(struct segment_reader *r)
{
	size_t room;
	ssize_t n;

	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	if (r->end == r->cap) {
		size_t cap = r->cap * 2;
		char *nb;

		if (cap > ENTRY_MAX_LINE + READ_CHUNK)
			return -E2BIG;
		nb = realloc(r->buf, cap);
		if (!nb)
			return -ENOMEM;
		r->buf = nb;
		r->cap = cap;
	}
	room = r->cap - r->end;
	if (r->gz) {
		/* Not gzip (a plain file renamed .gz), corrupt, cut short or followed by
		 * other bytes: -EBADMSG. */
		n = gunzip_read(r->gz, r->buf + r->end, room);
		if (n < 0)
			return n;
	} else {
		do
			n = read(r->fd, r->buf + r->end, room);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return -errno;
	}
	r->end += (size_t)n;
	return n;
}

/* Drops what is left of a line over the limit, up to its '\n': 1 when done, 0 when the
 * input ended first, or -errno. */
static int skip_line(struct segment_reader *r)
{
	char *nl;
	ssize_t n;

	for (;;) {
		nl = memchr(r->buf + r->start, '\n', r->end - r->start);
		if (nl) {
			r->consumed += (size_t)(nl + 1 - (r->buf + r->start));
			r->start = (size_t)(nl + 1 - r->buf);
			return 1;
		}
		r->consumed += r->end - r->start;
		r->start = r->end;
		if (r->eof)
			return 0;
		n = fill(r);
		if (n < 0)
			return (int)n;
		if (n == 0)
			r->eof = true;
	}
}

int segment_reader_next(struct segment_reader *r, const char **line, size_t *len)
{
	size_t scanned = 0;
	int rc;

	if (r->skipping) {
		rc = skip_line(r);
		if (rc <= 0)
			return rc;
		r->skipping = false;
	}
	for (;;) {
		char *nl = memchr(r->buf + r->start + scanned, '\n', r->end - r->start - scanned);
		ssize_t n;

		if (nl) {
			*line = r->buf + r->start;
			*len = (size_t)(nl - *line);
			r->consumed += *len + 1;
			r->start += *len + 1;
			r->line_no++;
			return 1;
		}
		if (r->eof)
			return 0;
		scanned = r->end - r->start;
		n = scanned > ENTRY_MAX_LINE ? -E2BIG : fill(r);
		if (n == -E2BIG)
			r->skipping = true;	/* for a caller that goes on */
		if (n < 0)
			return (int)n;
		if (n == 0)
			r->eof = true;
	}
}

uint64_t segment_reader_line_no(const struct segment_reader *r)
{
	return r->line_no;
}

const char *segment_reader_tail(const struct segment_reader *r, size_t *len)
{
	*len = r->end - r->start;
	return r->buf + r->start;
}

size_t segment_reader_torn(const struct segment_reader *r, uint8_t sha[DIGEST_LEN])
{
	size_t n;
	const char *p = segment_reader_tail(r, &n);

	if (sha)
		digest_sha256(p, n, sha);
	return n;
}

uint64_t segment_reader_bytes(const struct segment_reader *r)
{
	return r->consumed;
}

void segment_reader_close(struct segment_reader *r)
{
	if (!r)
		return;
	gunzip_free(r->gz);
	if (r->own_fd)
		close(r->fd);
	free(r->buf);
	free(r);
}

/* ---- files ------------------------------------------------------------------- */
int segment_set_flags(int fd, unsigned int set, unsigned int clear)
{
	int flags, want;

	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0)
		return errno == ENOTTY || errno == EINVAL ? -EOPNOTSUPP : -errno;
	want = (int)(((unsigned int)flags | set) & ~clear);
	if (want == flags)
		return 0;
	if (ioctl(fd, FS_IOC_SETFLAGS, &want) < 0)
		return errno == ENOTTY || errno == EINVAL ? -EOPNOTSUPP : -errno;
	return 0;
}

static int clear_flags_at(int dirfd, const char *name)
{
	int fd, err;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	err = segment_set_flags(fd, 0, FS_APPEND_FL | FS_IMMUTABLE_FL);
	close(fd);
	return err == -EOPNOTSUPP ? 0 : err;
}

int segment_remove(int dirfd, const char *name)
{
	int err = clear_flags_at(dirfd, name);

	if (err && err != -ENOENT)
		return err;
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* Writes the gzip of plain_name to tmp_name and fsyncs it. */
static int gzip_to(int dirfd, const char *plain_name, const char *tmp_name)
{
	char *chunk = NULL;
	gzFile gz = NULL;
	int in, outfd, gzfd, err = 0;

	in = openat(dirfd, plain_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return -errno;
	outfd = openat(dirfd, tmp_name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		       0640);
	if (outfd < 0) {
		err = -errno;
		goto out;
	}
	gzfd = dup(outfd);
	gz = gzfd >= 0 ? gzdopen(gzfd, COMPRESS_MODE) : NULL;
	if (!gz && gzfd >= 0)
		close(gzfd);
	chunk = malloc(READ_CHUNK);
	if (!gz || !chunk) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n = read(in, chunk, READ_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto out;
		}
		if (n == 0)
			break;
		if (gzwrite(gz, chunk, (unsigned)n) != (int)n) {
			err = -EIO;
			goto out;
		}
	}
	if (gzclose(gz) != Z_OK)
		err = -EIO;
	gz = NULL;
	if (!err && fsync(outfd) < 0)
		err = -errno;
out:
	if (gz)
		gzclose(gz);
	free(chunk);
	if (outfd >= 0)
		close(outfd);
	close(in);
	if (err)
		unlinkat(dirfd, tmp_name, 0);
	return err;
}

/* 1 when the gzip file decompresses to exactly the plain file, 0 when it does not, -1
 * when the plain file cannot be read (then nothing is known about the gzip file). */
static int same_content(int dirfd, const char *plain_name, const char *gz_name)
{
	struct segment_reader *a = NULL, *b = NULL;
	const char *la, *lb;
	size_t na, nb;
	int ra, rb, same = 0;

	if (segment_reader_open(dirfd, plain_name, &a))
		return -1;
	if (segment_reader_open(dirfd, gz_name, &b))
		goto out;	/* an unreadable gzip file is not the plain one */
	do {
		ra = segment_reader_next(a, &la, &na);
		rb = segment_reader_next(b, &lb, &nb);
		if (ra != rb || (ra == 1 && (na != nb || memcmp(la, lb, na))))
			goto out;
	} while (ra == 1);
	same = ra == 0 && segment_reader_torn(a, NULL) == segment_reader_torn(b, NULL) &&
	       !memcmp(a->buf + a->start, b->buf + b->start, segment_reader_torn(a, NULL));
out:
	segment_reader_close(a);
	segment_reader_close(b);
	return same;
}

int segment_compress(int dirfd, const char *plain_name)
{
	char gz_name[SEGMENT_NAME_MAX + 8], tmp_name[SEGMENT_NAME_MAX + 8];
	int fd, err;

	snprintf(gz_name, sizeof(gz_name), "%s.gz", plain_name);
	snprintf(tmp_name, sizeof(tmp_name), "%s.gz.tmp", plain_name);

	/* No plain file: compressed already (by an earlier call for the same name, or
	 * one that was interrupted after removing it), or never there. The gzip file is
	 * then the only copy: it is never touched. */
	if (faccessat(dirfd, plain_name, F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT && !faccessat(dirfd, gz_name, F_OK, AT_SYMLINK_NOFOLLOW))
			return 0;
		return -errno;
	}
	/* A crash after the rename leaves a complete .gz and only the cleanup
	 * remains; but never drop the plain file for a .gz that differs from it. A
	 * .gz is only ever replaced when the plain file was read and differs. */
	if (!faccessat(dirfd, gz_name, F_OK, AT_SYMLINK_NOFOLLOW)) {
		int same = same_content(dirfd, plain_name, gz_name);

		if (same < 0)
			return -EIO;
		if (!same) {
			err = segment_remove(dirfd, gz_name);
			if (err)
				return err;
		}
	}
	if (faccessat(dirfd, gz_name, F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
		err = gzip_to(dirfd, plain_name, tmp_name);
		if (err)
			return err;
		if (renameat(dirfd, tmp_name, dirfd, gz_name) < 0) {
			err = -errno;
			unlinkat(dirfd, tmp_name, 0);
			return err;
		}
		if (fsync(dirfd) < 0)
			return -errno;
	}
	fd = openat(dirfd, gz_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = segment_set_flags(fd, FS_IMMUTABLE_FL, 0);
	close(fd);
	if (err && err != -EOPNOTSUPP)
		return err;
	err = segment_remove(dirfd, plain_name);
	if (err)
		return err;
	return fsync(dirfd) < 0 ? -errno : 0;
}
