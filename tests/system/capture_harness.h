/* capture_harness: what the capture system tests share. One capture per test program;
 * records are kept only for the pids a test watches (children it forks to do one thing
 * each, on cue); a test then waits, bounded, for the record it expects and checks its
 * fields exactly. Header-only: every tests/system/test_*.c is a program of its own. */
#ifndef SEALTRAIL_CAPTURE_HARNESS_H
#define SEALTRAIL_CAPTURE_HARNESS_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <cmocka.h>
#include "capture.h"

#define WAIT_MS	     5000	/* longest wait for an expected record */
#define MAX_WATCHED  64

struct harness {
	struct capture *cap;
	struct st_record **recs;	/* copies of the records of watched pids, in order */
	size_t nrecs, caprecs;
	pid_t watched[MAX_WATCHED];
	size_t nwatched;
	char dir[256];			/* this program's scratch directory (ext4) */
};

static struct harness H;

static inline bool harness_watched(pid_t pid)
{
	size_t i;

	for (i = 0; i < H.nwatched; i++)
		if (H.watched[i] == pid)
			return true;
	return false;
}

static inline void harness_watch(pid_t pid)
{
	if (H.nwatched < MAX_WATCHED)
		H.watched[H.nwatched++] = pid;
}

/* SEALTRAIL_TEST_DUMP=1 prints every collected record, for the human reading a failure. */
static inline void harness_dump(const struct st_record *rec)
{
	const char *p = (const char *)(rec + 1);
	int i, j;

	fprintf(stderr, "# rec type %u sys %u ret %lld flags %#x pid %u tid %u comm %.16s args",
		rec->type, rec->syscall, (long long)rec->ret, rec->flags, rec->task.pid,
		rec->task.tid, rec->task.comm);
	for (i = 0; i < ST_NARGS; i++)
		fprintf(stderr, " %#llx", (unsigned long long)rec->arg[i]);
	for (i = 0; i < ST_NSTR; i++) {
		fprintf(stderr, "\n#   str%d flags %#x \"", i, rec->str[i].flags);
		for (j = 0; j < rec->str[i].len; j++)
			fprintf(stderr, p[j] >= 0x20 && p[j] < 0x7f ? "%c" : "\\x%02x",
				(unsigned char)p[j]);
		fprintf(stderr, "\"");
		p += rec->str[i].len;
	}
	fprintf(stderr, "\n");
}

static inline int harness_on_record(void *ctx, const struct st_record *rec, size_t size)
{
	static int dump = -1;
	struct st_record *copy;

	(void)ctx;
	if (!harness_watched((pid_t)rec->task.pid))
		return 0;
	if (rec->type == ST_FORK && rec->ret > 0)	/* a watched process's children too */
		harness_watch((pid_t)rec->arg[0]);
	if (dump < 0)
		dump = getenv("SEALTRAIL_TEST_DUMP") != NULL;
	if (dump)
		harness_dump(rec);
	if (H.nrecs == H.caprecs) {
		size_t cap = H.caprecs ? 2 * H.caprecs : 256;
		struct st_record **recs = realloc(H.recs, cap * sizeof(*recs));

		if (!recs)
			return -ENOMEM;
		H.recs = recs;
		H.caprecs = cap;
	}
	copy = malloc(size);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, rec, size);
	H.recs[H.nrecs++] = copy;
	return 0;
}

/* Forgets the records and pids of earlier tests. */
static inline void harness_reset(void)
{
	size_t i;

	if (H.cap)
		capture_poll(H.cap, 0);
	for (i = 0; i < H.nrecs; i++)
		free(H.recs[i]);
	H.nrecs = 0;
	H.nwatched = 0;
}

/* Creates this program's scratch directory under /var/tmp (ext4 here, unlike a tmpfs /tmp:
 * xattrs and chattr need it). */
static inline int harness_mkdir(void)
{
	char tmpl[] = "/var/tmp/sealtrail-test.XXXXXX";
	char real[PATH_MAX];

	if (!mkdtemp(tmpl))
		return -errno;
	if (!realpath(tmpl, real))
		return -errno;
	if (snprintf(H.dir, sizeof(H.dir), "%s", real) >= (int)sizeof(H.dir))
		return -ENAMETOOLONG;
	return 0;
}

/* Opens H.cap with the given ring size (0 = default) and pin directory (NULL: none).
 * SEALTRAIL_TEST_PROBE_READS=1 and SEALTRAIL_TEST_ENTER_DISPATCH=1 (tests/run sets both
 * for a second pass of the capture tests) take the fallbacks: kernel objects read the way
 * kernels before 6.2 make the programs read them, enter handlers dispatched from
 * sys_enter as on kernels without syscall tracepoints. */
static inline int harness_capture(uint32_t ringbuf_bytes, const char *pin_dir)
{
	const char *probe_reads = getenv("SEALTRAIL_TEST_PROBE_READS");
	const char *enter_dispatch = getenv("SEALTRAIL_TEST_ENTER_DISPATCH");
	struct capture_opts opts = {
		.on_record = harness_on_record,
		.ringbuf_bytes = ringbuf_bytes,
		.pin_dir = pin_dir,
		.probe_reads_only = probe_reads && !strcmp(probe_reads, "1"),
		.enter_dispatch = enter_dispatch && !strcmp(enter_dispatch, "1"),
	};
	int err = capture_open(&H.cap, &opts);

	if (err)
		fprintf(stderr, "capture_open: %s\n", strerror(-err));
	return err;
}

/* The scratch directory, then the capture (unpinned). */
static inline int harness_open(uint32_t ringbuf_bytes)
{
	int err = harness_mkdir();

	return err ? err : harness_capture(ringbuf_bytes, NULL);
}

static inline void harness_close(void)
{
	char cmd[PATH_MAX + 32];

	harness_reset();
	free(H.recs);
	capture_close(H.cap);
	H.cap = NULL;
	if (H.dir[0] && snprintf(cmd, sizeof(cmd), "rm -rf '%s'", H.dir) < (int)sizeof(cmd))
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", H.dir);
}

/* H.dir + "/" + name, in one of four rotating static buffers (copy it to keep it). */
static inline const char *tpath(const char *name)
{
	static char buf[4][PATH_MAX];
	static int next;
	char *p = buf[next++ & 3];

	if (snprintf(p, PATH_MAX, "%s/%s", H.dir, name) >= PATH_MAX)
		abort();
	return p;
}

/* ---- children ---------------------------------------------------------------------- */

typedef void (*child_fn)(void *arg);

/* Forks a child that waits for its cue (release(*cue)), then runs fn(arg) and exits 0
 * (fn may exit itself). Its pid is watched before it does anything. */
static inline pid_t spawn_held(child_fn fn, void *arg, int *cue)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(98);
		close(p[0]);
		fn(arg);
		_exit(0);
	}
	close(p[0]);
	if (pid < 0) {
		close(p[1]);
		return -1;
	}
	harness_watch(pid);
	*cue = p[1];
	return pid;
}

static inline void release(int cue)
{
	if (write(cue, "x", 1) != 1)
		fprintf(stderr, "release: %s\n", strerror(errno));
	close(cue);
}

static inline pid_t spawn(child_fn fn, void *arg)
{
	int cue = -1;
	pid_t pid = spawn_held(fn, arg, &cue);

	if (pid > 0)
		release(cue);
	return pid;
}

/* Waits for the child; returns its wait status. */
static inline int reap(pid_t pid)
{
	int status = -1;

	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

/* spawn + reap, asserting a clean exit. */
static inline pid_t run_child(child_fn fn, void *arg)
{
	pid_t pid = spawn(fn, arg);
	int status;

	assert_true(pid > 0);
	status = reap(pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	return pid;
}

/* How many records of `type` the capture counted lost for `cause` so far (all CPUs). */
static inline uint64_t harness_losses(struct capture *c, __u32 cause, __u16 type)
{
	uint64_t losses[ST_LOSS_SLOTS];

	assert_int_equal(capture_read_losses(c, losses), 0);
	return losses[cause * ST_TYPE_MAX + type];
}

/* ---- records ----------------------------------------------------------------------- */

/* String `slot` of rec: its bytes (not NUL-terminated) and length. */
static inline const char *rec_str(const struct st_record *rec, int slot, size_t *len)
{
	const char *p = (const char *)(rec + 1);
	int i;

	for (i = 0; i < slot; i++)
		p += rec->str[i].len;
	*len = rec->str[slot].len;
	return p;
}

typedef bool (*record_pred)(const struct st_record *rec, const void *arg);

/* The first collected record of `type` from pid (0 = any watched) that satisfies pred
 * (NULL = any), polling for up to WAIT_MS. NULL when none came. */
static inline const struct st_record *await_record(__u16 type, pid_t pid, record_pred pred,
						   const void *arg)
{
	struct timespec start, now;
	size_t i, seen = 0;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		for (i = seen; i < H.nrecs; i++) {
			const struct st_record *r = H.recs[i];

			if (r->type == type && (!pid || r->task.pid == (__u32)pid) &&
			    (!pred || pred(r, arg)))
				return r;
		}
		seen = H.nrecs;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >
		    WAIT_MS)
			return NULL;
		if (capture_poll(H.cap, 50) < 0)
			return NULL;
	}
}

/* How many collected records of `type` from pid satisfy pred (no waiting). */
static inline size_t count_records(__u16 type, pid_t pid, record_pred pred, const void *arg)
{
	size_t i, n = 0;

	for (i = 0; i < H.nrecs; i++) {
		const struct st_record *r = H.recs[i];

		if (r->type == type && (!pid || r->task.pid == (__u32)pid) &&
		    (!pred || pred(r, arg)))
			n++;
	}
	return n;
}

/* Predicate: string slot PATH equals the NUL-terminated arg. */
static inline bool path_is(const struct st_record *rec, const void *arg)
{
	size_t len;
	const char *p = rec_str(rec, ST_S_PATH, &len);

	return len == strlen(arg) && !memcmp(p, arg, len);
}

/* Asserts that string `slot` holds exactly the `len` bytes of want, with flags. */
static inline void assert_str(const struct st_record *rec, int slot, const void *want,
			      size_t want_len, __u16 flags)
{
	size_t len;
	const char *p = rec_str(rec, slot, &len);

	if (len != want_len || memcmp(p, want, len))
		fail_msg("string %d: got \"%.*s\" (%zu bytes), want \"%.*s\" (%zu bytes)", slot,
			 (int)len, p, len, (int)want_len, (const char *)want, want_len);
	assert_int_equal(rec->str[slot].flags, flags);
}

static inline void assert_path(const struct st_record *rec, int slot, const char *want,
			       __u16 flags)
{
	assert_str(rec, slot, want, strlen(want), flags);
}

/* Marker: a record the test waits for to know that everything a child did before it has
 * been consumed (one ring buffer, one order). Creates and removes name in H.dir. */
static inline void marker_child(void *arg)
{
	int fd = open(tpath(arg), O_CREAT | O_WRONLY | O_TRUNC, 0600);

	if (fd < 0)
		_exit(97);
	close(fd);
	unlink(tpath(arg));
}

static inline void await_marker(const char *name)
{
	pid_t pid = run_child(marker_child, (void *)name);

	assert_non_null(await_record(ST_OPEN, pid, path_is, tpath(name)));
}

#endif
