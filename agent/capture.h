/* capture: loads sealtrail's BPF programs, configures their filters, and hands
 * every ring-buffer record to a callback. The only module that knows libbpf. */
#ifndef SEALTRAIL_CAPTURE_H
#define SEALTRAIL_CAPTURE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <linux/types.h>
#include "sealtrail/event.h"
#include "backlog.h"

struct capture;

/* Called once per record, in ring-buffer order. `rec` is valid only during the
 * call; size has been checked against rec->size and the string lengths.
 * A negative return stops the current capture_poll() and is returned by it. */
typedef int (*capture_record_fn)(void *ctx, const struct st_record *rec, size_t size);

/* Kernel-side filters. Every list may be empty. Strings are NUL-terminated. */
struct capture_filters {
	const uint32_t *ignore_uids;
	size_t n_ignore_uids;
	const uint64_t *ignore_cgroups;
	size_t n_ignore_cgroups;
	const char *const *ignore_comms;	/* exact comm (<= 15 bytes) */
	size_t n_ignore_comms;
	const char *const *watch_paths;		/* prefixes kept even under an ignored one */
	size_t n_watch_paths;
	const char *const *ignore_paths;	/* prefixes whose file events are dropped */
	size_t n_ignore_paths;
	const char *const *sensitive_paths;	/* reads of these are captured; see capture.c */
	size_t n_sensitive_paths;
	bool quiet_exec_enoent;			/* drop execs failing with ENOENT/ENOTDIR */
};

struct capture_opts {
	capture_record_fn on_record;
	void *ctx;
	uint32_t agent_pid;		/* never generates events; 0 = getpid() */
	uint32_t ringbuf_bytes;		/* power of two; 0 = default (16 MiB) */
	uint32_t wakeup_bytes;		/* wake the consumer each time this much more
					 * has been written; 0 = default (1/8 of the
					 * ring). Records in
					 * between are picked up by the next poll
					 * timeout, never left unread. */
	const char *pin_dir;		/* optional bpffs directory: when set, reuse the
					 * programs, maps and ring buffer pinned there by
					 * a previous run (pinning new ones otherwise), so
					 * an agent restart loses no events. See
					 * capture_open() and capture_unpin(). */
	bool probe_reads_only;		/* read files, dentries and mounts with the
					 * probe-read helper even where the kernel has
					 * bpf_rdonly_cast (>= 6.2): the path older
					 * kernels take, for tests (bpf/kread.bpf.h) */
	bool enter_dispatch;		/* run the enter handlers through a sys_enter
					 * dispatcher even where syscall tracepoints
					 * exist: the path kernels without them take,
					 * for tests (bpf/syscall.bpf.h, SYS_ENTER) */
};

/* Describes one program: attached (for a dispatched handler: in its table), or why
 * not (no such syscall on this architecture, attach refused). */
struct capture_program_info {
	const char *name;
	bool attached;
	const char *why;	/* NULL when attached */
};

/* Opens, loads and attaches. Handlers of syscalls this architecture lacks are disabled,
 * not fatal (see capture_programs()). Returns 0 and sets *out, or -errno. Prints nothing
 * but libbpf's warnings, on stderr, which include the verifier log when a program fails
 * to load.
 *
 * With pin_dir (on bpffs; bpffs is mounted at /sys/fs/bpf when pin_dir is below it and it
 * is missing; pin_dir itself is created, mode 0700): when it holds a complete set pinned
 * by this same build with the same ring size, nothing is loaded or attached: the pinned
 * maps and ring buffer are taken over where the last run left them, and the agent pid is
 * set at once. Otherwise the programs are loaded, whatever it holds is unpinned (old
 * programs detached), and the new ones are attached and pinned there. The directory stays
 * locked until capture_close(): a second capture on it gets -EBUSY. -EINVAL: pin_dir is
 * not on bpffs. */
int capture_open(struct capture **out, const struct capture_opts *opts);

/* Replaces the kernel-side filters (safe while running; the programs may see old and
 * new lists mixed for a moment). Nothing changes if a list is invalid. Returns 0 or
 * -errno (-E2BIG: a list is too long, -EINVAL: a bad entry). */
int capture_set_filters(struct capture *c, const struct capture_filters *f);

/* Changes the tgid that never generates events (0 = the caller's). Returns 0 or -errno. */
int capture_set_agent_pid(struct capture *c, uint32_t pid);

/* Consumes what is pending, waiting up to timeout_ms (0 = don't wait) for data, and at
 * most CAPTURE_POLL_MAX records: producers that keep up with the consumer would otherwise
 * keep one call going for as long as they do, and the caller has timers and signals to
 * serve. Returns the number of records delivered (CAPTURE_POLL_MAX: more may be pending),
 * or -errno / the callback's value. */
#define CAPTURE_POLL_MAX 16384
int capture_poll(struct capture *c, int timeout_ms);

/* A file descriptor that becomes readable when records are pending (epoll). */
int capture_fd(const struct capture *c);

/* Starts a thread that moves records out of the ring as they come, into up to max_bytes
 * of memory, for capture_poll() to read there (agent/backlog.h): a stalled consumer then
 * loses nothing until that is full. Without it, records are read in the ring itself.
 * Apart from capture_open() so that a failure here is not reported as the programs'.
 * Returns 0 or -errno (-EINVAL: below BACKLOG_MIN_BYTES, or already started). */
int capture_start_backlog(struct capture *c, size_t max_bytes);

/* Ends the backlog's draining (no-op without one): from now on records stay in the ring
 * until polled. For a stop: what the final polls leave behind then stays in a pinned
 * ring, for the next agent. */
void capture_end_backlog(struct capture *c);

/* The backlog's figures (all zero without one). */
void capture_backlog_stats(struct capture *c, struct backlog_stats *s);

/* Sums the per-CPU loss counters: totals[cause * ST_TYPE_MAX + type]. */
int capture_read_losses(struct capture *c, uint64_t totals[ST_LOSS_SLOTS]);

/* The loss totals the agent has recorded in the trail, kept in a map pinned with
 * the counters: an agent that takes over a pinned capture starts from there and
 * reports only what is new (all zero after a fresh load). Return 0 or -errno. */
int capture_read_reported(struct capture *c, uint64_t reported[ST_LOSS_SLOTS]);
int capture_write_reported(struct capture *c, const uint64_t reported[ST_LOSS_SLOTS]);

/* Samples that failed validation and were not handed to on_record (never expected). */
uint64_t capture_invalid_records(const struct capture *c);

/* Sum over the attached programs of the kernel's recursion_misses: runs the kernel
 * skipped because another BPF program was running on that CPU (a loss no BPF counter
 * can see). Returns 0 or -errno. */
int capture_read_prog_misses(struct capture *c, uint64_t *misses);

/* Compat (32-bit: ia32 on x86-64, AArch32 on arm64) calls skipped because their number is
 * that of a traced native syscall, since the programs were loaded (pinned: since they were
 * pinned). No compat call is captured; the others are not counted. Returns 0 or -errno. */
int capture_read_compat_calls(struct capture *c, uint64_t *calls);

/* The programs and their state, for the agent's start entry. */
size_t capture_programs(const struct capture *c, const struct capture_program_info **out);

/* Detaches and frees; with pin_dir, only frees: the pinned programs keep running and
 * filling the ring buffer for the next capture_open(). NULL is fine. */
void capture_close(struct capture *c);

/* Removes everything pinned in pin_dir, and pin_dir: the programs detach once no capture
 * holds them (the kernel frees them shortly after). For an operator who wants them gone;
 * refused with -EBUSY while a capture has pin_dir open, -EINVAL if pin_dir is not on
 * bpffs. Returns 0 (also when pin_dir does not exist) or -errno. */
int capture_unpin(const char *pin_dir);

#endif
