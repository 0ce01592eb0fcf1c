/* fileio: careful file I/O. Every open uses O_NOFOLLOW|O_CLOEXEC, every read has
 * a size cap, short writes are looped, and replacing a file is atomic and durable. */
#ifndef SEALTRAIL_FILEIO_H
#define SEALTRAIL_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

/* Writes all of buf, retrying short writes and EINTR. Returns 0, or -errno with
 * *written (if not NULL) set to the bytes that did reach the file. */
int fileio_write_all(int fd, const void *buf, size_t len, size_t *written);

/* Reads a whole regular file of at most cap bytes into a malloc'd, NUL-terminated
 * buffer. Returns 0, -EFBIG when larger, or -errno. */
int fileio_read_small(int dirfd, const char *name, size_t cap, char **out, size_t *len);

/* Creates name with data; fails with -EEXIST if it exists. Durable (fsync). */
int fileio_create(int dirfd, const char *name, const void *data, size_t len, mode_t mode);

/* Replaces name with data atomically and durably (temp file, fsync, rename,
 * fsync of the directory). */
int fileio_replace(int dirfd, const char *name, const void *data, size_t len, mode_t mode);

#endif
