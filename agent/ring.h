/* ring: the consuming side of the BPF ring buffer `events`, in place of libbpf's
 * ring_buffer. Same protocol, one difference: the space records occupied is handed back
 * to the kernel in batches instead of after every record. */
#ifndef SEALTRAIL_RING_H
#define SEALTRAIL_RING_H

#include <stddef.h>

struct ring;

/* Called for each record in order; returns 0 to go on, or a negative value that stops
 * ring_consume() and is returned by it (a positive one would read as a count). The record
 * counts as consumed, unless the return is RING_KEEP: it then stays in the ring, the
 * first one the next call hands over. */
typedef int (*ring_record_fn)(void *ctx, void *data, size_t size);

#define RING_KEEP (-1 - 0x7fffffff)

/* Maps the ring buffer map behind map_fd. Returns 0 or -errno. */
int ring_open(struct ring **out, int map_fd);

/* An epoll fd that is readable when the kernel woke the consumer. */
int ring_fd(const struct ring *r);

/* Waits up to timeout_ms for a wake-up (0: do not wait). Returns 0 or -errno. */
int ring_wait(struct ring *r, int timeout_ms);

/* Hands the records ready now to fn, at most max of them. Returns how many, or fn's
 * non-zero return. */
int ring_consume(struct ring *r, ring_record_fn fn, void *ctx, int max);

void ring_close(struct ring *r);

#endif
