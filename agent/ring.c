/*
 * ring: the consuming side of a BPF ring buffer (kernel/bpf/ringbuf.c). The map exposes a
 * consumer page, written by us, then a producer page and the data pages, mapped twice in
 * a row so that a record that wraps around the end reads as one piece. Each record has an
 * 8-byte header whose length word carries a busy bit (still being written) and a discard
 * bit.
 *
 * Why not libbpf's ring_buffer: it stores the consumer position after every record. The
 * kernel reads that position in every bpf_ringbuf_output(), to check for space, so each
 * record made the producing CPU fetch a cache line the consumer had just written: on the
 * open storm of `make bench`, the reserve was the hottest kernel function after the
 * handler itself. Here the position is stored once per RING_RELEASE_BYTES consumed (and
 * when a call returns), which delays freeing that much of the ring and no more. After a
 * kill -9, a pinned ring hands the next agent up to that many bytes of records again: the
 * same records, never lost ones.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include "ring.h"

#define RING_RELEASE_BYTES (16u << 10)

struct ring {
	int map_fd;
	int epoll_fd;
	size_t page;
	uint64_t mask;			/* data size - 1 */
	uint64_t release;		/* bytes consumed between two stores of the position */
	uint64_t *consumer_pos;		/* read-write page */
	const uint64_t *producer_pos;	/* read-only: the producer page, then the data */
	const uint8_t *data;
};

int ring_open(struct ring **out, int map_fd)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	struct epoll_event ev = { .events = EPOLLIN };
	struct ring *r;
	void *p;
	int err;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(map_fd, &info, &len))
		return -errno;
	if (info.type != BPF_MAP_TYPE_RINGBUF || !info.max_entries ||
	    (info.max_entries & (info.max_entries - 1)))
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->map_fd = map_fd;
	r->epoll_fd = -1;
	r->page = (size_t)sysconf(_SC_PAGESIZE);
	r->mask = info.max_entries - 1;
	r->release = info.max_entries / 16 < RING_RELEASE_BYTES ? info.max_entries / 16 :
								   RING_RELEASE_BYTES;
	p = mmap(NULL, r->page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (p == MAP_FAILED)
		goto fail_errno;
	r->consumer_pos = p;
	p = mmap(NULL, r->page + 2 * (size_t)info.max_entries, PROT_READ, MAP_SHARED, map_fd,
		 (off_t)r->page);
	if (p == MAP_FAILED)
		goto fail_errno;
	r->producer_pos = p;
	r->data = (const uint8_t *)p + r->page;
	r->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (r->epoll_fd < 0 || epoll_ctl(r->epoll_fd, EPOLL_CTL_ADD, map_fd, &ev))
		goto fail_errno;
	*out = r;
	return 0;
fail_errno:
	err = -errno;
	ring_close(r);
	return err;
}

int ring_fd(const struct ring *r)
{
	return r->epoll_fd;
}

int ring_wait(struct ring *r, int timeout_ms)
{
	struct epoll_event ev;

	if (epoll_wait(r->epoll_fd, &ev, 1, timeout_ms) < 0)
		return -errno;
	return 0;
}

static void release(struct ring *r, uint64_t pos)
{
	__atomic_store_n(r->consumer_pos, pos, __ATOMIC_RELEASE);
}

int ring_consume(struct ring *r, ring_record_fn fn, void *ctx, int max)
{
	uint64_t cons = *r->consumer_pos, released = cons, prod, next;
	const uint8_t *hdr;
	uint32_t len;
	int n = 0, rc = 0;

	/* The producer position is reread only once caught up with: the producers write
	 * its cache line with every record. */
	while (n < max && !rc) {
		prod = __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE);
		if (cons >= prod)
			break;
		while (cons < prod && n < max && !rc) {
			hdr = r->data + (cons & r->mask);
			len = __atomic_load_n((const uint32_t *)hdr, __ATOMIC_ACQUIRE);
			if (len & BPF_RINGBUF_BUSY_BIT)
				goto out;	/* still being written */
			next = cons + (((len & ~(uint32_t)BPF_RINGBUF_DISCARD_BIT) +
					BPF_RINGBUF_HDR_SZ + 7) & ~7ull);
			if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
				rc = fn(ctx, (void *)(hdr + BPF_RINGBUF_HDR_SZ),
					len & ~(uint32_t)BPF_RINGBUF_DISCARD_BIT);
				if (rc == RING_KEEP)
					goto out;
				n++;
			}
			cons = next;
			if (cons - released >= r->release) {
				release(r, cons);
				released = cons;
			}
		}
	}
out:
	if (cons != released)
		release(r, cons);
	return rc ? rc : n;
}

void ring_close(struct ring *r)
{
	if (!r)
		return;
	if (r->epoll_fd >= 0)
		close(r->epoll_fd);
	if (r->consumer_pos)
		munmap(r->consumer_pos, r->page);
	if (r->producer_pos)
		munmap((void *)r->producer_pos, r->page + 2 * (r->mask + 1));
	free(r);
}
