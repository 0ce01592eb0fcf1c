/* record: builds one st_record in the per-CPU scratch, appends its strings in slot order,
 * and hands it to the ring buffer with its exact size. Every way a record can be lost or
 * degraded on that road is counted in `losses`. */
#ifndef SEALTRAIL_RECORD_BPF_H
#define SEALTRAIL_RECORD_BPF_H

#include "task.bpf.h"

/* String flags that make a record count as ST_LOSS_PATH_INCOMPLETE: part of a string is
 * missing. DISCONNECTED and DELETED describe the file, they do not hide anything; NO_BASE
 * does not count when the call itself failed with EBADF (its dirfd was not a file). */
#define STR_INCOMPLETE (ST_STR_TRUNCATED | ST_STR_TOO_DEEP)
#define EBADF_	       9

static __always_inline void loss_count(__u32 cause, __u32 type)
{
	__u32 slot = cause * ST_TYPE_MAX + type;
	__u64 *n;

	n = bpf_map_lookup_elem(&losses, &slot);
	if (n)
		__sync_fetch_and_add(n, 1);
}

/* This CPU's scratch. Tracepoint programs run with preemption disabled (the raw syscall
 * tracepoints too: since 6.13 they may fault, and their BPF probe disables preemption
 * itself) and do not nest on a CPU, so the slot is ours until the program returns, tail
 * calls included. (signal_generate can fire in interrupt context, which is why that
 * program does not use scratch at all.) */
static __always_inline struct scratch *scratch_get(__u32 type)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct scratch *s;

	s = bpf_map_lookup_elem(&scratch, &cpu);
	if (!s)	/* only if userspace did not size the map: nothing else can be done */
		loss_count(ST_LOSS_TOO_LARGE, type);
	return s;
}

/* Starts a record for task, the current task (bpf_get_current_task_btf(): a handler that
 * has it already saves a helper call); strings start at sizeof(struct st_record). */
static __always_inline struct st_record *record_begin_task(struct scratch *s,
							   struct task_struct *task, __u16 type,
							   __u16 syscall, __u64 ktime_ns,
							   __s64 ret)
{
	struct st_record *r = (void *)s->rec;

	/* Not the task context: task_context() sets every byte of it. */
	__builtin_memset(r, 0, offsetof(struct st_record, task));
	__builtin_memset(r->arg, 0, sizeof(*r) - offsetof(struct st_record, arg));
	r->abi = ST_ABI_VERSION;
	r->type = type;
	r->syscall = syscall;
	r->ktime_ns = ktime_ns;
	r->ret = ret;
	task_context(&r->task, task);
	s->off = sizeof(*r);
	s->too_large = 0;
	return r;
}

static __always_inline struct st_record *record_begin(struct scratch *s, __u16 type,
						      __u16 syscall, __u64 ktime_ns, __s64 ret)
{
	return record_begin_task(s, bpf_get_current_task_btf(), type, syscall, ktime_ns, ret);
}

/*
 * The record_put_* functions append string `slot` at s->off and advance it. Slots must be
 * appended in order. A string that cannot fit marks the record too large (it is then
 * dropped and counted, never sent cut short).
 */

/* Where the next string (up to `max` bytes) goes, or -1 when it would not fit in scratch:
 * the record is then marked too large. Sizes above ST_RECORD_MAX are caught at submit. */
static __always_inline long record_cursor(struct scratch *s, __u32 max)
{
	__u64 off = SCRATCH_LOAD(s->off);

	if (off > SCRATCH_REC_SIZE - max) {
		s->too_large = 1;
		return -1;
	}
	return off;
}

static __always_inline void record_set_str(struct scratch *s, int slot, __u32 len, __u16 flags)
{
	struct st_record *r = (void *)s->rec;

	r->str[slot].len = len;
	r->str[slot].flags = flags;
	s->off += len;
}

/*
 * Most paths are short: those are copied as a fixed PATH_SHORT bytes, eight 8-byte moves
 * and no loop, instead of a helper call (bpf_probe_read_kernel and its callees were 45 ns
 * of each open in a profile of the open storm, fault handling and return thunk
 * included). The bytes copied past the path's end stay in the scratch: the record ends
 * at the path, or the next string overwrites them. The destination is inside rec[]
 * (record_cursor() leaves ST_PATH_MAX); the source may run past path[] into the
 * scratch's later fields, never past the scratch.
 */
#define PATH_SHORT 64
_Static_assert(__builtin_offsetof(struct scratch, path) + PATH_MASK + PATH_SHORT <=
		       sizeof(struct scratch), "a short path's copy stays in the scratch");

static __always_inline void path_copy_short(void *dst, const void *src)
{
	__u64 *d = dst;
	const __u64 *p = src;

	d[0] = p[0];
	d[1] = p[1];
	d[2] = p[2];
	d[3] = p[3];
	d[4] = p[4];
	d[5] = p[5];
	d[6] = p[6];
	d[7] = p[7];
}

/* The last path built by path.bpf.h (s->path[pstart, pend)). Longer than ST_PATH_MAX:
 * the end is kept. */
static __always_inline void record_put_path(struct scratch *s, int slot)
{
	__u64 start = SCRATCH_LOAD(s->pstart), end = SCRATCH_LOAD(s->pend), len;
	__u16 flags = SCRATCH_LOAD(s->pflags);
	long off;

	off = record_cursor(s, ST_PATH_MAX);
	if (off < 0)
		return;
	if (end < start || end > PATH_BUF_SIZE) {
		record_set_str(s, slot, 0, flags | ST_STR_FAULT);
		return;
	}
	len = end - start;
	if (len > ST_PATH_MAX) {
		start = end - ST_PATH_MAX;
		len = ST_PATH_MAX;
		flags |= ST_STR_TRUNCATED;
	}
	/* Masks that change nothing but give the verifier its bounds (the clamp above may be
	 * tested on a copy of the register). */
	len &= 2 * ST_PATH_MAX - 1;
	if (len <= PATH_SHORT)
		path_copy_short(&s->rec[off], &s->path[start & PATH_MASK]);
	else
		bpf_probe_read_kernel(&s->rec[off], len, &s->path[start & PATH_MASK]);
	record_set_str(s, slot, len, flags);
}

/* A NUL-terminated string from user memory, up to `max` bytes kept (more: the beginning is
 * kept, flagged TRUNCATED). A NULL pointer is an absent string, not a fault. */
static __always_inline void record_put_user_str(struct scratch *s, int slot, const void *src,
						__u32 max, __u16 flags)
{
	long off, n;

	off = record_cursor(s, max + 1);
	if (off < 0)
		return;
	if (!src) {
		record_set_str(s, slot, 0, flags);
		return;
	}
	n = bpf_probe_read_user_str(&s->rec[off], max + 1, src);
	if (n <= 0) {
		record_set_str(s, slot, 0, flags | ST_STR_FAULT);
		return;
	}
	if (n == max + 1)	/* no NUL within max bytes */
		flags |= ST_STR_TRUNCATED;
	record_set_str(s, slot, (n - 1) & (2 * ST_ARGV_MAX - 1), flags);
}

/* Same, from kernel memory. */
static __always_inline void record_put_kernel_str(struct scratch *s, int slot, const void *src,
						  __u32 max, __u16 flags)
{
	long off, n;

	off = record_cursor(s, max + 1);
	if (off < 0)
		return;
	n = bpf_probe_read_kernel_str(&s->rec[off], max + 1, src);
	if (n <= 0) {
		record_set_str(s, slot, 0, flags | ST_STR_FAULT);
		return;
	}
	if (n == max + 1)
		flags |= ST_STR_TRUNCATED;
	record_set_str(s, slot, (n - 1) & (2 * ST_ARGV_MAX - 1), flags);
}

/*
 * How many bytes producers have reserved in the ring so far: the ring's producer
 * position, loaded in place. The verifier types a ring buffer map's pointer as the
 * kernel's struct bpf_ringbuf_map (read-only, since 5.9), so this is two loads where
 * bpf_ringbuf_query() was a helper call for the same value: 25 ns of each open in the
 * open storm's profile. The position is on the producers' own page, hot on this CPU.
 */
static __always_inline __u64 ring_producer_pos(void)
{
	struct bpf_ringbuf_map *map = (void *)&events;

	return map->rb->producer_pos;
}

/*
 * Sends the record. Wake-ups are batched: the consumer is woken each time the producers
 * have written another config.wakeup_bytes, and otherwise finds the data on its next poll
 * timeout. Only the record that crosses a multiple wakes it: once woken, the consumer
 * drains everything, records that arrive meanwhile included, so waking it for every
 * record only cost the producers (a fifth of an open storm's time went to it). A record
 * takes its header and its padding to 8 bytes in the ring too: a test on its size alone
 * missed every multiple that fell in those bytes. For records of one size that take a
 * power of two (256 bytes: a write open of a short path) that was every multiple, and
 * only the consumer's own polls collected them.
 *
 * The producer position, not the pending data: pending is producer minus consumer, and
 * the consumer position lives on a cache line the consumer's CPU keeps writing, so
 * reading it cost every record a cache miss (1.6% of an open storm).
 */
static __always_inline int record_submit(struct scratch *s)
{
	struct st_record *r = (void *)s->rec;
	struct st_config *cfg = config_get();
	__u16 type = r->type, sflags = 0;
	__u64 flags = BPF_RB_NO_WAKEUP;
	__u32 size = s->off;
	int i;

	if (s->too_large || size > ST_RECORD_MAX) {
		loss_count(ST_LOSS_TOO_LARGE, type);
		return 0;
	}
	r->size = size;
	if (cfg && cfg->wakeup_bytes) {
		__u64 prod = ring_producer_pos();
		__u64 end = prod + ((size + BPF_RINGBUF_HDR_SZ + 7) & ~7ULL);

		if (prod / cfg->wakeup_bytes != end / cfg->wakeup_bytes)
			flags = BPF_RB_FORCE_WAKEUP;
	}
	if (bpf_ringbuf_output(&events, r, size, flags)) {
		loss_count(ST_LOSS_RINGBUF_FULL, type);
		return 0;
	}
	for (i = 0; i < ST_NSTR; i++)
		sflags |= r->str[i].flags;
	if ((sflags & STR_INCOMPLETE) || ((sflags & ST_STR_NO_BASE) && r->ret != -EBADF_))
		loss_count(ST_LOSS_PATH_INCOMPLETE, type);
	if (sflags & ST_STR_FAULT)
		loss_count(ST_LOSS_USER_FAULT, type);
	return 0;
}

#endif
