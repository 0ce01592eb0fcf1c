/* gunzip: reads the gzip file behind a file descriptor, strictly: zlib's gzread() skips
 * whatever follows the last gzip member, so bytes appended to a compressed segment would
 * go unseen by the verifier. Here anything after a member that does not start another
 * member is an error, as are a file without a gzip header and a stream cut short. */
#ifndef SEALTRAIL_GUNZIP_H
#define SEALTRAIL_GUNZIP_H

#include <stddef.h>
#include <sys/types.h>

struct gunzip;

/* Reads from fd (not closed by gunzip_free). Returns 0 or -ENOMEM. */
int gunzip_open(struct gunzip **out, int fd);

/* Up to len uncompressed bytes into buf: how many, 0 at the clean end, or -EBADMSG (not
 * gzip, corrupt, cut short, trailing bytes), -ENOMEM or the read's -errno. */
ssize_t gunzip_read(struct gunzip *g, void *buf, size_t len);

void gunzip_free(struct gunzip *g);

#endif
