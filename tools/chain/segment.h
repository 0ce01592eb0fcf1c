/* segment: the files of a trail. A trail is a directory of segments named by
 * the sequence of their first entry, zero-padded so that lexical order is chain
 * order: 00000000000000000000.jsonl. The active segment is plain and append-only
 * (chattr +a); a closed one is compressed to .jsonl.gz and made immutable (+i). */
#ifndef SEALTRAIL_SEGMENT_H
#define SEALTRAIL_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "digest.h"

#define SEGMENT_NAME_MAX 32	/* 20 digits + ".jsonl.gz" + NUL fits */

struct segment_info {
	uint64_t first_seq;	/* from the name */
	bool gz;		/* the file read is X.jsonl.gz */
	bool twin;		/* both X.jsonl and X.jsonl.gz exist (compression was
				 * interrupted); the plain file is the one read */
	char name[SEGMENT_NAME_MAX];
};

struct segment_list {
	struct segment_info *v;
	size_t n;
	char **ignored;		/* other names found in the directory */
	size_t nignored;
};

void segment_name(uint64_t first_seq, bool gz, char out[SEGMENT_NAME_MAX]);

/* Lists the segments of the trail directory dirfd in chain order.
 * Returns 0 or -errno. */
int segment_list_read(int dirfd, struct segment_list *l);
void segment_list_free(struct segment_list *l);

/* ---- reading lines --------------------------------------------------------- */
struct segment_reader;

/* Opens a segment (plain or .gz) for reading. Returns 0, -ELOOP for a symbolic
 * link, -EFTYPE_ for anything that is not a regular file, or -errno. */
#define EFTYPE_ EBADFD
int segment_reader_open(int dirfd, const char *name, struct segment_reader **out);

/* Reads the lines of fd, plain, as a segment's (fd stays open): `sealtrail append`'s
 * stdin. Returns 0 or -ENOMEM. */
int segment_reader_fdopen(int fd, struct segment_reader **out);

/* Next line, without its '\n' (valid until the next call). Returns 1, 0 at the
 * end, -E2BIG for a line longer than ENTRY_MAX_LINE (never held whole: a call after
 * it drops the rest of that line and goes on), -EBADMSG for a corrupt or truncated
 * compressed file, or -errno. */
int segment_reader_next(struct segment_reader *r, const char **line, size_t *len);

/* 1-based number of the line last returned. */
uint64_t segment_reader_line_no(const struct segment_reader *r);

/* After the end: bytes after the last '\n' (a torn write), and their SHA-256. */
size_t segment_reader_torn(const struct segment_reader *r, uint8_t sha[DIGEST_LEN]);

/* After the end: those bytes themselves (for a stream, its last line without a '\n'). */
const char *segment_reader_tail(const struct segment_reader *r, size_t *len);

/* Bytes consumed so far (uncompressed). */
uint64_t segment_reader_bytes(const struct segment_reader *r);

void segment_reader_close(struct segment_reader *r);

/* ---- files ---------------------------------------------------------------- */

/* Sets and clears inode flags (FS_APPEND_FL, FS_IMMUTABLE_FL) on fd. Returns 0,
 * -EOPNOTSUPP when the filesystem has no such flags (tmpfs), or -errno. */
int segment_set_flags(int fd, unsigned int set, unsigned int clear);

/* Compresses X.jsonl to X.jsonl.gz (temp file, fsync, rename), makes it
 * immutable, then removes X.jsonl. Safe to call again after a crash at any
 * point. Returns 0 or -errno. */
int segment_compress(int dirfd, const char *plain_name);

/* Removes a segment file, clearing append-only/immutable first. */
int segment_remove(int dirfd, const char *name);

#endif
