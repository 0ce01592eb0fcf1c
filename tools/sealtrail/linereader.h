/* linereader: lines of a file descriptor, each kept up to a maximum: a longer line is
 * read to its end and dropped, so no input can make the reader hold more than that. */
#ifndef SEALTRAIL_LINEREADER_H
#define SEALTRAIL_LINEREADER_H

#include <stddef.h>

struct linereader;

/* Returns NULL when out of memory. */
struct linereader *linereader_new(int fd, size_t max);

/*
 * The next line, without its newline (the last one may lack it), in *line and *len,
 * valid until the next call; bytes as read, NULs included. Returns 1, or 0 at the end of
 * input, -E2BIG for a line longer than max (read and dropped: call again for the next),
 * or another -errno for a read error.
 */
int linereader_next(struct linereader *r, const char **line, size_t *len);

void linereader_free(struct linereader *r);

#endif
