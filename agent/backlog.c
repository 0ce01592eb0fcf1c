/* backlog: the BPF ring drained by a thread of its own (see backlog.h).
 *
 * Records are copied into a list of chunks, each record a header word (its length) and
 * the record padded to 8 bytes, as in the ring. One thread writes, one reads, and the
 * chunk being written is also read: the writer publishes how much of it is written with
 * a release store, after each pass over the ring and before it links the next chunk, and
 * the reader reads up to that. So a slow flow fills chunks too, and the bound on memory
 * is a bound on records. The lock is taken once per chunk, never per record; a few read
 * chunks are kept for reuse, so that a steady flow allocates nothing. */
#include "backlog.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>

#define SPARE_MAX    4
#define REC_HDR	     8u
#define SYNC_WAIT_MS 2000	/* a drain pass takes milliseconds; past this, go on */

struct chunk {
	struct chunk *next;	/* set (release) once used is final */
	size_t used;		/* bytes written: release by the writer, acquire by the reader */
	uint8_t data[];
};

#define CHUNK_DATA (BACKLOG_CHUNK_BYTES - offsetof(struct chunk, data))

struct backlog {
	struct ring *ring;
	pthread_t thread;
	bool running;			/* the thread exists and was not halted */
	int notify_fd;			/* eventfd, non-blocking: records were published */
	int kick_fd;			/* eventfd: drain now */

	pthread_mutex_t lock;
	pthread_cond_t cond;		/* a chunk was filled or freed, a pass ended */
	/* under lock: */
	struct chunk *spare;
	size_t nspare, nheld, max_chunks;	/* nheld: chunks in the list */
	uint64_t kicks, kicks_done;
	bool stopping;
	struct backlog_stats stats;

	struct chunk *fill;		/* the writer's: the list's last chunk */
	size_t filled;			/* bytes of fill written, published or not */
	uint64_t moved;			/* records written, not yet counted in stats */
	struct chunk *cur;		/* the reader's: the list's first chunk */
	size_t off;			/* bytes of cur read */
};

static size_t rec_bytes(size_t len)
{
	return REC_HDR + ((len + 7) & ~(size_t)7);
}

static void deadline_in(struct timespec *t, long ms)
{
	clock_gettime(CLOCK_REALTIME, t);
	t->tv_sec += ms / 1000;
	t->tv_nsec += (ms % 1000) * 1000000;
	if (t->tv_nsec >= 1000000000) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000;
	}
}

/* A chunk for the list, once the bound allows one. NULL when stopping. At the bound the
 * writer waits, and the ring fills meanwhile: its drops are counted there. */
static struct chunk *chunk_get(struct backlog *b)
{
	struct chunk *c = NULL;
	struct timespec t;

	pthread_mutex_lock(&b->lock);
	while (!b->stopping) {
		if (b->nheld < b->max_chunks) {
			if (b->spare) {
				c = b->spare;
				b->spare = c->next;
				b->nspare--;
			} else {
				c = malloc(BACKLOG_CHUNK_BYTES);
			}
			if (c)
				break;
		} else {
			b->stats.full_waits++;
		}
		/* At the bound, or out of memory: the reader frees chunks as it goes. */
		deadline_in(&t, 10);
		pthread_cond_timedwait(&b->cond, &b->lock, &t);
	}
	if (c) {
		c->next = NULL;
		c->used = 0;
		b->nheld++;
		if ((b->nheld + b->nspare) * BACKLOG_CHUNK_BYTES > b->stats.peak_bytes)
			b->stats.peak_bytes = (b->nheld + b->nspare) * BACKLOG_CHUNK_BYTES;
	}
	pthread_mutex_unlock(&b->lock);
	return c;
}

static void chunk_put(struct backlog *b, struct chunk *c)
{
	pthread_mutex_lock(&b->lock);
	b->nheld--;
	if (b->nspare < SPARE_MAX) {
		c->next = b->spare;
		b->spare = c;
		b->nspare++;
		c = NULL;
	}
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
	free(c);
}

/* Makes what was written readable and tells the reader. */
static void publish(struct backlog *b)
{
	if (__atomic_load_n(&b->fill->used, __ATOMIC_RELAXED) == b->filled)
		return;
	__atomic_store_n(&b->fill->used, b->filled, __ATOMIC_RELEASE);
	pthread_mutex_lock(&b->lock);
	b->stats.records += b->moved;
	b->moved = 0;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
	eventfd_write(b->notify_fd, 1);
}

static int stage(void *ctx, void *data, size_t size)
{
	struct backlog *b = ctx;
	size_t need = rec_bytes(size);
	uint32_t len = (uint32_t)size;
	uint8_t *p;

	if (b->filled + need > CHUNK_DATA) {
		struct chunk *next;

		/* Readable before waiting for room: at the bound, the reader frees room by
		 * reading this chunk too. */
		publish(b);
		next = chunk_get(b);
		if (!next)
			return RING_KEEP;	/* halted: the reader takes it from the ring */
		__atomic_store_n(&b->fill->next, next, __ATOMIC_RELEASE);
		b->fill = next;
		b->filled = 0;
	}
	p = b->fill->data + b->filled;
	memcpy(p, &len, sizeof(len));
	memcpy(p + REC_HDR, data, size);
	b->filled += need;
	b->moved++;
	return 0;
}

static void *drain(void *arg)
{
	struct backlog *b = arg;
	uint64_t seen;

	for (;;) {
		struct pollfd p[2] = { { .fd = ring_fd(b->ring), .events = POLLIN },
				       { .fd = b->kick_fd, .events = POLLIN } };
		eventfd_t v;

		/* A failed poll (ENOMEM) must not end the thread: the reader would wait for
		 * passes that never come while the ring fills. Pause, then make a pass as if
		 * woken: it drains what is there, and a stop is still seen. */
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			usleep(10000);
		if (p[1].revents & POLLIN)
			eventfd_read(b->kick_fd, &v);
		pthread_mutex_lock(&b->lock);
		seen = b->kicks;
		if (b->stopping) {
			pthread_mutex_unlock(&b->lock);
			break;
		}
		pthread_mutex_unlock(&b->lock);
		/* Takes the ring's wake-up; records that come meanwhile are taken in the same
		 * pass. */
		ring_wait(b->ring, 0);
		ring_consume(b->ring, stage, b, INT_MAX);
		publish(b);
		pthread_mutex_lock(&b->lock);
		b->kicks_done = seen;
		pthread_cond_broadcast(&b->cond);
		pthread_mutex_unlock(&b->lock);
	}
	return NULL;
}

int backlog_start(struct backlog **out, struct ring *ring, size_t max_bytes)
{
	struct backlog *b;
	int err;

	if (max_bytes < BACKLOG_MIN_BYTES)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->ring = ring;
	b->max_chunks = max_bytes / BACKLOG_CHUNK_BYTES;
	b->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	b->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->cond, NULL);
	if (b->notify_fd < 0 || b->kick_fd < 0) {
		err = -errno;
		goto fail;
	}
	b->fill = b->cur = chunk_get(b);
	if (!b->fill) {
		err = -ENOMEM;
		goto fail;
	}
	err = -pthread_create(&b->thread, NULL, drain, b);
	if (err)
		goto fail;
	pthread_setname_np(b->thread, "st-backlog");
	b->running = true;
	*out = b;
	return 0;
fail:
	backlog_stop(b);
	return err;
}

int backlog_fd(const struct backlog *b)
{
	return b->notify_fd;
}

int backlog_wait(struct backlog *b, int timeout_ms)
{
	struct pollfd p = { .fd = b->notify_fd, .events = POLLIN };

	if (poll(&p, 1, timeout_ms) < 0)
		return -errno;
	return 0;
}

/* The next record for the reader, NULL when it has read everything published. */
static const uint8_t *next_record(struct backlog *b, uint32_t *len)
{
	for (;;) {
		size_t used = __atomic_load_n(&b->cur->used, __ATOMIC_ACQUIRE);
		struct chunk *next;
		const uint8_t *p;

		if (b->off < used) {
			p = b->cur->data + b->off;
			memcpy(len, p, sizeof(*len));
			b->off += rec_bytes(*len);
			return p + REC_HDR;
		}
		next = __atomic_load_n(&b->cur->next, __ATOMIC_ACQUIRE);
		if (!next)
			return NULL;
		/* Linked after its last publish: used is final, and was read up to. */
		if (b->off < __atomic_load_n(&b->cur->used, __ATOMIC_ACQUIRE))
			continue;
		chunk_put(b, b->cur);
		b->cur = next;
		b->off = 0;
	}
}

/* Nothing published is left: has the thread drain the ring now (when it runs) and waits
 * for that pass, or for a chunk filled meanwhile. */
static void sync_ring(struct backlog *b)
{
	struct timespec t;
	uint64_t k;

	pthread_mutex_lock(&b->lock);
	k = ++b->kicks;
	eventfd_write(b->kick_fd, 1);
	deadline_in(&t, SYNC_WAIT_MS);
	while (b->kicks_done < k && !b->stopping)
		if (pthread_cond_timedwait(&b->cond, &b->lock, &t) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&b->lock);
}

int backlog_consume(struct backlog *b, ring_record_fn fn, void *ctx, int max)
{
	bool synced = !b->running;
	const uint8_t *rec;
	int n = 0, rc = 0;
	uint32_t len;

	while (n < max && !rc) {
		rec = next_record(b, &len);
		if (!rec) {
			eventfd_t v;

			/* Reset, then look again: a publish after the look sets it again. */
			eventfd_read(b->notify_fd, &v);
			rec = next_record(b, &len);
		}
		/* Only when there was nothing at all: a reader that woke for published
		 * records leaves the rest to the next wake-up, instead of making the thread
		 * write the ring's consumer position (a cache line the producers read)
		 * every time it catches up. */
		if (!rec && !synced && n == 0) {
			sync_ring(b);
			synced = true;
			rec = next_record(b, &len);
		}
		if (!rec)
			break;
		n++;
		rc = fn(ctx, (void *)rec, len);
	}
	/* Halted: what the thread left in the ring comes after what it moved. */
	if (!rc && n < max && !b->running) {
		int m = ring_consume(b->ring, fn, ctx, max - n);

		return m < 0 ? m : n + m;
	}
	return rc ? rc : n;
}

void backlog_get_stats(struct backlog *b, struct backlog_stats *s)
{
	pthread_mutex_lock(&b->lock);
	*s = b->stats;
	pthread_mutex_unlock(&b->lock);
}

void backlog_halt(struct backlog *b)
{
	if (!b || !b->running)
		return;
	pthread_mutex_lock(&b->lock);
	b->stopping = true;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
	eventfd_write(b->kick_fd, 1);
	pthread_join(b->thread, NULL);
	b->running = false;
	publish(b);		/* what it wrote before the stop came */
}

static void free_list(struct chunk *c)
{
	while (c) {
		struct chunk *next = c->next;

		free(c);
		c = next;
	}
}

void backlog_stop(struct backlog *b)
{
	if (!b)
		return;
	backlog_halt(b);
	free_list(b->cur);	/* the list, from the chunk being read to fill */
	free_list(b->spare);
	if (b->notify_fd >= 0)
		close(b->notify_fd);
	if (b->kick_fd >= 0)
		close(b->kick_fd);
	pthread_mutex_destroy(&b->lock);
	pthread_cond_destroy(&b->cond);
	free(b);
}
