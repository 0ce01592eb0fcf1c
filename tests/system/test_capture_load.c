/* test_capture_load: under load nothing is lost silently. A deliberately tiny ring buffer,
 * not consumed while a child makes N write opens: every open is either delivered or
 * counted in losses[ST_LOSS_RINGBUF_FULL][ST_OPEN], and the two add up to N exactly. A
 * backlog at its bound hands its records over in order, then the ring's. An idle consumer
 * is woken once wakeup_bytes more have been written.
 * And loading on a host without tracefs mounted, and on one without syscall tracepoints. */
#include <sched.h>
#include <linux/magic.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include "capture_harness.h"

#define TINY_RING (4096 * 16)
#define FLOOD_N	  2000

static int group_setup(void **state)
{
	(void)state;
	return harness_open(TINY_RING);
}

static int group_teardown(void **state)
{
	(void)state;
	harness_close();
	return 0;
}

/* Only the test directory's file events reach c's ring: other processes' opens on the
 * host are dropped before output, so they are neither delivered nor counted. */
static void watch_only_test_dir(struct capture *c)
{
	char watch_dir[PATH_MAX];
	const char *ignore[] = { "/" }, *watch[] = { watch_dir };
	struct capture_filters f = {
		.ignore_paths = ignore, .n_ignore_paths = 1,
		.watch_paths = watch, .n_watch_paths = 1,
	};

	snprintf(watch_dir, sizeof(watch_dir), "%s/", H.dir);
	assert_int_equal(capture_set_filters(c, &f), 0);
}

static void flood_child(void *arg)
{
	int i, fd;

	(void)arg;
	for (i = 0; i < FLOOD_N; i++) {
		fd = open(tpath("flood"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0)
			_exit(90);
		close(fd);
	}
}

static void test_flood_counted(void **state)
{
	uint64_t before, lost;
	size_t delivered;
	int status, quiet = 0;
	pid_t pid;

	(void)state;
	watch_only_test_dir(H.cap);
	harness_reset();
	before = harness_losses(H.cap, ST_LOSS_RINGBUF_FULL, ST_OPEN);

	pid = spawn(flood_child, NULL);
	status = reap(pid);	/* no consumption meanwhile */
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	while (quiet < 3)	/* drain: three empty polls in a row */
		quiet = capture_poll(H.cap, 20) > 0 ? 0 : quiet + 1;
	delivered = count_records(ST_OPEN, pid, path_is, tpath("flood"));
	lost = harness_losses(H.cap, ST_LOSS_RINGBUF_FULL, ST_OPEN) - before;
	print_message("# %d opens: %zu delivered, %llu counted lost (ring %d bytes)\n", FLOOD_N,
		      delivered, (unsigned long long)lost, TINY_RING);
	assert_true(lost > 0);		/* the ring did overflow */
	assert_true(delivered > 0);
	assert_int_equal(delivered + lost, FLOOD_N);
	assert_int_equal(capture_invalid_records(H.cap), 0);
}

/* ---- the backlog -------------------------------------------------------------------- */

#define BACKLOG_N 3000

struct in_order {
	pid_t pid;
	int next;		/* the index the next record must have */
	int bad;		/* records out of order, repeated or foreign */
};

/* Opens of the child's files b00000, b00001, ...: each must come once, in order. */
static int check_order(void *ctx, const struct st_record *rec, size_t size)
{
	struct in_order *o = ctx;
	char want[PATH_MAX];
	const char *p;
	size_t len;

	(void)size;
	if (rec->type != ST_OPEN || rec->task.pid != (__u32)o->pid)
		return 0;
	p = rec_str(rec, ST_S_PATH, &len);
	snprintf(want, sizeof(want), "%s/b%05d", H.dir, o->next);
	if (len == strlen(want) && !memcmp(p, want, len))
		o->next++;
	else
		o->bad++;
	return 0;
}

static void backlog_child(void *arg)
{
	char name[16];
	int i, fd;

	(void)arg;
	for (i = 0; i < BACKLOG_N; i++) {
		snprintf(name, sizeof(name), "b%05d", i);
		fd = open(tpath(name), O_WRONLY | O_CREAT, 0600);
		if (fd < 0)
			_exit(90);
		close(fd);
	}
}

/* A capture with the smallest backlog (two chunks), not read while a child opens 3000 files: the
 * backlog fills and waits at its bound, the ring holds the rest. Ending the backlog then
 * hands over what it holds and then what the ring holds: every open once, in order, none
 * lost. (The records fit in the ring and the chunk together.) */
static void test_backlog_hands_over_in_order(void **state)
{
	struct in_order order = { 0 };
	struct capture_opts opts = {
		.on_record = check_order,
		.ctx = &order,
		.ringbuf_bytes = 1u << 20,
	};
	struct backlog_stats bs;
	uint64_t losses[ST_LOSS_SLOTS];
	struct capture *cap;
	int status, quiet = 0;

	(void)state;
	assert_int_equal(capture_open(&cap, &opts), 0);
	assert_int_equal(capture_start_backlog(cap, BACKLOG_MIN_BYTES), 0);
	assert_int_equal(capture_start_backlog(cap, BACKLOG_MIN_BYTES), -EINVAL);
	watch_only_test_dir(cap);
	order.pid = spawn(backlog_child, NULL);
	status = reap(order.pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	usleep(100000);		/* for the thread to reach its bound */
	capture_backlog_stats(cap, &bs);
	assert_true(bs.full_waits > 0);
	assert_true(bs.records > 0 && bs.records < BACKLOG_N);
	capture_end_backlog(cap);
	while (quiet < 3)
		quiet = capture_poll(cap, 20) > 0 ? 0 : quiet + 1;
	assert_int_equal(capture_read_losses(cap, losses), 0);
	print_message("# %d opens: %d in order, %d not; %llu through the backlog, its peak %zu "
		      "bytes\n", BACKLOG_N, order.next, order.bad, (unsigned long long)bs.records,
		      bs.peak_bytes);
	assert_int_equal(losses[ST_LOSS_RINGBUF_FULL * ST_TYPE_MAX + ST_OPEN], 0);
	assert_int_equal(order.bad, 0);
	assert_int_equal(order.next, BACKLOG_N);
	capture_close(cap);
}

/* ---- wake-ups ------------------------------------------------------------------------ */

#define WAKE_BYTES 4096
#define WAKE_OPENS 64	/* write-open records of 150+ bytes: over twice WAKE_BYTES */

static int ignore_record(void *ctx, const struct st_record *rec, size_t size)
{
	(void)ctx, (void)rec, (void)size;
	return 0;
}

/* The programs wake an idle consumer each time they have written another wakeup_bytes
 * (they read the ring's producer position for it, bpf/record.bpf.h), and not for each
 * record. Drained and idle, the consumer's fd stays quiet; opens that write over twice
 * wakeup_bytes cross a multiple and must have woken it when the last one returns (the
 * wake-up is an irq_work, run on this CPU as soon as interrupts are on). Before the fix,
 * a record's header and padding were left out of the test, and records of one size that
 * divides wakeup_bytes (these take 256 bytes of ring each here) never woke anyone. The
 * opens are this process's own, not a child's, whose exit would wake the consumer. */
static void test_woken_each_wakeup_bytes(void **state)
{
	struct capture_opts opts = {
		.on_record = ignore_record,
		.agent_pid = 0x7fffffff,	/* no such process: our own calls are traced */
		.ringbuf_bytes = 1u << 20,
		.wakeup_bytes = WAKE_BYTES,
	};
	struct epoll_event ev;
	struct capture *cap;
	int i, fd, efd;

	(void)state;
	assert_int_equal(capture_open(&cap, &opts), 0);
	watch_only_test_dir(cap);
	efd = capture_fd(cap);
	/* Level-triggered: the fd stays ready while records wait. Drain until it is not. */
	while (epoll_wait(efd, &ev, 1, 0) > 0)
		while (capture_poll(cap, 0) > 0)
			;
	for (i = 0; i < WAKE_OPENS; i++) {
		fd = open(tpath("wake"), O_WRONLY | O_CREAT, 0600);
		assert_true(fd >= 0);
		close(fd);
	}
	assert_int_equal(epoll_wait(efd, &ev, 1, 50), 1);
	assert_true(capture_poll(cap, 0) >= WAKE_OPENS);
	capture_close(cap);
}

static bool tracefs_mounted(void)
{
	struct statfs st;

	return !statfs("/sys/kernel/tracing", &st) && st.f_type == TRACEFS_MAGIC;
}

/* In a child: a mount namespace of its own (what it unmounts stays unmounted there only),
 * without debugfs, whose tracing directory would otherwise stand in for tracefs. */
static void private_mounts_without_debugfs(void)
{
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		_exit(90);
	umount2("/sys/kernel/debug/tracing", MNT_DETACH);
	umount2("/sys/kernel/debug", MNT_DETACH);
}

/* In a child: a capture opened with the defaults, or the child's exit with status
 * `code`, saying why. */
static struct capture *capture_or_exit(const char *without, int code)
{
	struct capture_opts opts = { .on_record = ignore_record };
	struct capture *c;
	int err = capture_open(&c, &opts);

	if (err) {
		fprintf(stderr, "capture_open without %s: %s\n", without, strerror(-err));
		_exit(code);
	}
	return c;
}

/* With tracefs unmounted too: the capture mounts it, which the enter handlers'
 * tracepoints need, and loads. */
static void no_tracefs_child(void *arg)
{
	(void)arg;
	private_mounts_without_debugfs();
	while (tracefs_mounted())
		if (umount2("/sys/kernel/tracing", MNT_DETACH))
			_exit(91);
	capture_close(capture_or_exit("tracefs", 92));
	_exit(tracefs_mounted() ? 0 : 93);
}

/* Whether the capture lists program name as attached. */
static bool attached(struct capture *c, const char *name)
{
	const struct capture_program_info *info;
	size_t n = capture_programs(c, &info), i;

	for (i = 0; i < n; i++)
		if (!strcmp(info[i].name, name))
			return info[i].attached;
	return false;
}

/* A kernel without syscall tracepoints (CONFIG_FTRACE_SYSCALLS off), as a mount namespace
 * of its own shows it: tracefs with an empty events/syscalls. The capture loads all the
 * same, the enter handlers dispatched from sys_enter. */
static void no_syscall_events_child(void *arg)
{
	struct capture *c;

	(void)arg;
	private_mounts_without_debugfs();
	if (!tracefs_mounted() &&
	    mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL))
		_exit(91);
	if (mount("tmpfs", "/sys/kernel/tracing/events/syscalls", "tmpfs", 0, NULL))
		_exit(92);
	c = capture_or_exit("syscall tracepoints", 93);
	if (!attached(c, "tp_btf__sys_enter") || !attached(c, "sys_enter_d__execve"))
		_exit(94);
	capture_close(c);
	_exit(0);
}

static void test_without_syscall_tracepoints(void **state)
{
	(void)state;
	run_child(no_syscall_events_child, NULL);
}

static void test_mounts_tracefs(void **state)
{
	bool mounted = tracefs_mounted();

	(void)state;
	run_child(no_tracefs_child, NULL);
	/* The child's unmounting stayed in its namespace. */
	assert_int_equal(tracefs_mounted(), mounted);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flood_counted),
		cmocka_unit_test(test_backlog_hands_over_in_order),
		cmocka_unit_test(test_woken_each_wakeup_bytes),
		cmocka_unit_test(test_mounts_tracefs),
		cmocka_unit_test(test_without_syscall_tracepoints),
	};

	return cmocka_run_group_tests_name("capture_load", tests, group_setup, group_teardown);
}
