/* backlog: a thread that keeps the BPF ring buffer drained into memory of ours, so that
 * records survive a consumer that is stalled (a disk that blocks write() or fsync(), a
 * frozen filesystem, a slow rotation).
 *
 * The ring buffer is the kernel's, fixed in size, locked in memory and shared with every
 * producer: when it is full the programs drop records. The thread moves each record out of
 * it as soon as it is woken, into chunks of the process's memory taken only while they
 * hold records, up to a bound. The consumer then reads the records here, in ring order,
 * with the same callback as ring_consume(). At the bound the thread stops draining: the
 * ring fills and its drops are counted, as without a backlog.
 *
 * What the backlog holds is no longer in the ring: a pinned ring hands it to no other
 * agent if this one dies by kill -9 (a stop drains it into the trail first). */
#ifndef SEALTRAIL_BACKLOG_H
#define SEALTRAIL_BACKLOG_H

#include <stddef.h>
#include <stdint.h>
#include "ring.h"

#define BACKLOG_CHUNK_BYTES (256u << 10)	/* the bound counts in chunks of this */
/* The smallest bound: a chunk is given back once the next one is begun, so one chunk alone
 * would fill and stay full. */
#define BACKLOG_MIN_BYTES (2 * BACKLOG_CHUNK_BYTES)

struct backlog;

struct backlog_stats {
	uint64_t records;		/* moved out of the ring */
	size_t peak_bytes;		/* most chunk memory held at once */
	uint64_t full_waits;		/* 10 ms waits at the bound (the ring fills meanwhile) */
};

/* Starts draining ring (which the backlog then owns the consuming side of) into at most
 * max_bytes (at least BACKLOG_MIN_BYTES). Returns 0 or -errno. */
int backlog_start(struct backlog **out, struct ring *ring, size_t max_bytes);

/* Readable while records are waiting here. */
int backlog_fd(const struct backlog *b);

/* Waits up to timeout_ms for records (0: do not wait). Returns 0 or -errno. */
int backlog_wait(struct backlog *b, int timeout_ms);

/* Hands records to fn in ring order, at most max, as ring_consume() does. When nothing
 * at all waits here, the records the ring holds below its wake-up threshold are fetched
 * first, so that polling an idle backlog takes everything sent before, as a
 * ring_consume() would. */
int backlog_consume(struct backlog *b, ring_record_fn fn, void *ctx, int max);

void backlog_get_stats(struct backlog *b, struct backlog_stats *s);

/* Stops the thread. Records stay in the ring from then on, and backlog_consume() hands
 * over what the backlog holds, then what the ring holds. */
void backlog_halt(struct backlog *b);

/* Halts, then frees what is left unread. */
void backlog_stop(struct backlog *b);

#endif
