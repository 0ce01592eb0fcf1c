/* test_capture_pin: a capture with a pin directory survives its agent. Events that happen
 * while no capture is open, or that one closed without reading, are delivered to the next
 * one, which loads nothing; other builds' or incomplete pins are replaced; capture_unpin()
 * removes everything and the programs go away. openat's handler is in the dispatcher's
 * one-slot table too, which may be emptied without loss. Each run pins under its own
 * directory (/sys/fs/bpf/sealtrail-test-<pid>), removed at the end, failures included;
 * one left by a run that crashed is removed by the next. */
#include <dirent.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "capture_harness.h"

/* A program behind a pinned link, in every configuration: the exit dispatcher. */
#define DISPATCH_LINK "link_tp_btf__sys_exit"

#define PIN_ROOT   "/sys/fs/bpf"
#define PIN_PREFIX "sealtrail-test-"
#define GONE_MS	   10000	/* programs are freed asynchronously once unpinned */

static char pin[PATH_MAX];

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Pin directories of earlier runs that died before their teardown. */
static void unpin_stale(void)
{
	struct dirent *e;
	char path[PATH_MAX];
	DIR *d = opendir(PIN_ROOT);
	long pid;

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, PIN_PREFIX, strlen(PIN_PREFIX)))
			continue;
		pid = strtol(e->d_name + strlen(PIN_PREFIX), NULL, 10);
		if (pid <= 0 || (kill(pid, 0) && errno == ESRCH)) {
			snprintf(path, sizeof(path), PIN_ROOT "/%s", e->d_name);
			print_message("# removing stale %s: %s\n", path,
				      strerror(-capture_unpin(path)));
		}
	}
	closedir(d);
}

static int group_setup(void **state)
{
	(void)state;
	unpin_stale();
	snprintf(pin, sizeof(pin), PIN_ROOT "/" PIN_PREFIX "%d", (int)getpid());
	return harness_mkdir();
}

static int group_teardown(void **state)
{
	int err;

	(void)state;
	capture_close(H.cap);
	H.cap = NULL;
	err = capture_unpin(pin);
	if (err)
		fprintf(stderr, "capture_unpin %s: %s\n", pin, strerror(-err));
	harness_close();
	return err;
}

static int test_setup(void **state)
{
	(void)state;
	harness_reset();
	return 0;
}

static void reopen(uint32_t ringbuf_bytes)
{
	double t;

	capture_close(H.cap);
	H.cap = NULL;
	t = now_ms();
	assert_int_equal(harness_capture(ringbuf_bytes, pin), 0);
	print_message("# capture_open: %.1f ms\n", now_ms() - t);
}

/* ---- what is pinned ------------------------------------------------------------------ */

static int pinned(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", pin, name);
	return bpf_obj_get(path);
}

static __u32 pinned_map_id(const char *name)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	int fd = pinned(name);

	assert_true(fd >= 0);
	assert_int_equal(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	close(fd);
	return info.id;
}

static __u32 pinned_link_prog_id(const char *name)
{
	struct bpf_link_info info = { 0 };
	__u32 len = sizeof(info);
	int fd = pinned(name);

	assert_true(fd >= 0);
	assert_int_equal(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	close(fd);
	return info.prog_id;
}

/* Every program the pins keep alive: behind the links (the dispatchers, the scheduler
 * programs, the enter handlers on their own tracepoints), and in the dispatch tables. */
static size_t pinned_prog_ids(__u32 *ids, size_t max)
{
	static const char *const arrays[] = { "map_sys_enter_handlers", "map_sys_exit_handlers" };
	struct dirent *de;
	size_t n = 0, i;
	__u32 nr, id;
	DIR *dir;
	int fd;

	dir = opendir(pin);
	assert_non_null(dir);
	while ((de = readdir(dir)) && n < max)
		if (!strncmp(de->d_name, "link_", 5))
			ids[n++] = pinned_link_prog_id(de->d_name);
	closedir(dir);
	for (i = 0; i < 2; i++) {
		fd = pinned(arrays[i]);
		assert_true(fd >= 0);
		for (nr = 0; nr < 512 && n < max; nr++)
			if (!bpf_map_lookup_elem(fd, &nr, &id))
				ids[n++] = id;
		close(fd);
	}
	return n;
}

/* Whether every program of ids[] is gone from the kernel within GONE_MS. */
static bool progs_gone(const __u32 *ids, size_t n)
{
	double until = now_ms() + GONE_MS;
	size_t i, alive;
	int fd;

	do {
		for (i = 0, alive = 0; i < n; i++) {
			fd = bpf_prog_get_fd_by_id(ids[i]);
			if (fd >= 0) {
				close(fd);
				alive++;
			}
		}
		if (!alive)
			return true;
		usleep(20000);
	} while (now_ms() < until);
	print_message("# %zu of %zu programs still loaded\n", alive, n);
	return false;
}

/* ---- children ------------------------------------------------------------------------- */

static void create_child(void *arg)
{
	int fd = open(tpath(arg), O_CREAT | O_WRONLY | O_TRUNC, 0600);

	if (fd < 0)
		_exit(90);
	close(fd);
}

static size_t record_index(const struct st_record *r)
{
	size_t i;

	for (i = 0; i < H.nrecs; i++)
		if (H.recs[i] == r)
			return i;
	return (size_t)-1;
}

/* ---- tests ---------------------------------------------------------------------------- */

/*
 * Opens with a pin directory (a fresh load), has a child write a file, closes without
 * reading, has another child write a file with no capture open, reopens: nothing is loaded
 * (same program and ring buffer ids) and both records arrive, in order, none counted lost.
 */
static void test_restart_keeps_events(void **state)
{
	const struct capture_program_info *info;
	const struct st_record *ra, *rb;
	__u32 dispatch_id, ring_id;
	size_t n, i;
	pid_t a, b, c;
	int cue = -1;
	double t;

	(void)state;
	t = now_ms();
	assert_int_equal(harness_capture(0, pin), 0);
	print_message("# capture_open (fresh): %.1f ms\n", now_ms() - t);
	dispatch_id = pinned_link_prog_id(DISPATCH_LINK);
	ring_id = pinned_map_id("map_events");

	a = run_child(create_child, "before-close");
	t = now_ms();
	capture_close(H.cap);
	H.cap = NULL;
	print_message("# capture_close (pinned): %.1f ms\n", now_ms() - t);
	b = run_child(create_child, "while-down");

	t = now_ms();
	assert_int_equal(harness_capture(0, pin), 0);
	print_message("# capture_open (pinned): %.1f ms\n", now_ms() - t);
	assert_int_equal(pinned_link_prog_id(DISPATCH_LINK), dispatch_id);
	assert_int_equal(pinned_map_id("map_events"), ring_id);
	n = capture_programs(H.cap, &info);
	assert_true(n > 80);
	for (i = 0; i < n; i++)
		if (!info[i].attached)
			print_message("# not attached: %s: %s\n", info[i].name, info[i].why);
#ifdef __x86_64__
	for (i = 0; i < n; i++)
		assert_true(info[i].attached);
#endif

	ra = await_record(ST_OPEN, a, path_is, tpath("before-close"));
	rb = await_record(ST_OPEN, b, path_is, tpath("while-down"));
	assert_non_null(ra);
	assert_non_null(rb);
	assert_true(record_index(ra) < record_index(rb));
	assert_true(ra->ktime_ns < rb->ktime_ns);
	assert_int_equal(harness_losses(H.cap, ST_LOSS_RINGBUF_FULL, ST_OPEN), 0);
	assert_int_equal(harness_losses(H.cap, ST_LOSS_INFLIGHT_FULL, ST_OPEN), 0);

	/* The new process is the agent now, and the agent pid still changes at will. */
	c = spawn_held(create_child, "excluded", &cue);
	assert_int_equal(capture_set_agent_pid(H.cap, c), 0);
	release(cue);
	reap(c);
	assert_int_equal(capture_set_agent_pid(H.cap, 0), 0);
	await_marker("restart-marker");
	assert_int_equal(count_records(ST_OPEN, c, NULL, NULL), 0);
	assert_int_equal(capture_invalid_records(H.cap), 0);
}

static uint64_t after_unpin;

static int count_after_unpin(void *ctx, void *data, size_t size)
{
	const struct st_record *r = data;

	(void)ctx;
	(void)size;
	if (harness_watched((pid_t)r->task.pid))
		after_unpin++;
	return 0;
}

/* capture_unpin() removes the directory; every program it kept goes away, and the ring
 * buffer (kept open here) receives nothing more. */
static void test_unpin_detaches(void **state)
{
	__u32 ids[1024];
	struct ring_buffer *rb;
	size_t n;
	int ring_fd;
	pid_t pid;

	(void)state;
	if (!H.cap)
		assert_int_equal(harness_capture(0, pin), 0);
	n = pinned_prog_ids(ids, 1024);
	print_message("# %zu programs pinned\n", n);
	assert_true(n > 80);
	ring_fd = pinned("map_events");
	assert_true(ring_fd >= 0);

	/* Refused while a capture holds the directory. */
	assert_int_equal(capture_unpin(pin), -EBUSY);
	capture_close(H.cap);
	H.cap = NULL;
	assert_int_equal(capture_unpin(pin), 0);
	assert_int_equal(access(pin, F_OK), -1);
	assert_int_equal(errno, ENOENT);
	assert_true(progs_gone(ids, n));

	rb = ring_buffer__new(ring_fd, count_after_unpin, NULL, NULL);
	assert_non_null(rb);
	ring_buffer__consume(rb);
	after_unpin = 0;
	pid = run_child(create_child, "after-unpin");
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
	close(ring_fd);
	assert_true(pid > 0);
	assert_int_equal(after_unpin, 0);
	assert_int_equal(capture_unpin(pin), 0);	/* nothing left: fine */
}

/* Replaces the marker with one no build writes. */
static void forge_marker(void)
{
	unsigned char bogus[56];
	char path[PATH_MAX];
	__u32 zero = 0;
	int fd;

	memset(bogus, 0xa5, sizeof(bogus));
	snprintf(path, sizeof(path), "%s/marker", pin);
	assert_int_equal(unlink(path), 0);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "bogus", 4, sizeof(bogus), 1, NULL);
	assert_true(fd >= 0);
	assert_int_equal(bpf_map_update_elem(fd, &zero, bogus, BPF_ANY), 0);
	assert_int_equal(bpf_obj_pin(fd, path), 0);
	close(fd);
}

/*
 * Pins of another build (forged marker), an incomplete set (a map unpinned by hand) and
 * pins made for another ring size are all replaced by a fresh load: new program and ring
 * ids, the old programs gone. Compatible pins are reused; a second capture on the same
 * directory is refused.
 */
static void test_incompatible_pins_replaced(void **state)
{
	struct capture_opts opts = { .on_record = harness_on_record, .pin_dir = pin };
	struct capture *second;
	__u32 old_id, id, ring;
	char path[PATH_MAX];
	pid_t pid;

	(void)state;
	reopen(0);
	old_id = pinned_link_prog_id(DISPATCH_LINK);
	ring = pinned_map_id("map_events");
	assert_int_equal(capture_open(&second, &opts), -EBUSY);

	capture_close(H.cap);
	H.cap = NULL;
	forge_marker();
	reopen(0);
	id = pinned_link_prog_id(DISPATCH_LINK);
	assert_int_not_equal(id, old_id);
	assert_int_not_equal(pinned_map_id("map_events"), ring);
	assert_true(progs_gone(&old_id, 1));

	reopen(0);	/* now compatible: reused */
	assert_int_equal(pinned_link_prog_id(DISPATCH_LINK), id);

	snprintf(path, sizeof(path), "%s/map_inflight", pin);
	assert_int_equal(unlink(path), 0);
	old_id = id;
	reopen(0);
	id = pinned_link_prog_id(DISPATCH_LINK);
	assert_int_not_equal(id, old_id);
	assert_true(progs_gone(&old_id, 1));

	old_id = id;
	reopen(1 << 20);
	id = pinned_link_prog_id(DISPATCH_LINK);
	assert_int_not_equal(id, old_id);

	pid = run_child(create_child, "after-replace");
	assert_non_null(await_record(ST_OPEN, pid, path_is, tpath("after-replace")));
}

/*
 * openat's exit handler is also in the one-slot sys_exit_hot, which the dispatcher
 * tail-calls at a constant key. Opens are recorded through it, and still are, with no
 * loss counted, when that slot is emptied (the dispatcher then uses the table).
 */
static void test_hot_exit_slot(void **state)
{
	__u32 zero = 0, nr = SYS_openat, hot_id, table_id;
	uint64_t lost;
	int hot, table, prog;
	pid_t pid;

	(void)state;
	reopen(0);
	hot = pinned("map_sys_exit_hot");
	table = pinned("map_sys_exit_handlers");
	assert_true(hot >= 0 && table >= 0);
	assert_int_equal(bpf_map_lookup_elem(hot, &zero, &hot_id), 0);
	assert_int_equal(bpf_map_lookup_elem(table, &nr, &table_id), 0);
	assert_int_equal(hot_id, table_id);
	lost = harness_losses(H.cap, ST_LOSS_NO_ENTER, ST_OPEN);

	pid = run_child(create_child, "hot");
	assert_non_null(await_record(ST_OPEN, pid, path_is, tpath("hot")));
	assert_int_equal(bpf_map_delete_elem(hot, &zero), 0);
	pid = run_child(create_child, "hot-slot-empty");
	assert_non_null(await_record(ST_OPEN, pid, path_is, tpath("hot-slot-empty")));
	assert_int_equal(harness_losses(H.cap, ST_LOSS_NO_ENTER, ST_OPEN), lost);

	prog = bpf_prog_get_fd_by_id(hot_id);
	assert_true(prog >= 0);
	assert_int_equal(bpf_map_update_elem(hot, &zero, &prog, BPF_ANY), 0);
	close(prog);
	close(table);
	close(hot);
}

/* Whether this pass runs with the probe-read fallback (tests/run's second pass). */
static bool probe_reads_pass(void)
{
	const char *v = getenv("SEALTRAIL_TEST_PROBE_READS");

	return v && !strcmp(v, "1");
}

/*
 * Pins made with other load options (the probe-read fallback, or not) are replaced, not
 * taken over: the programs they hold read the kernel another way than this run chose.
 */
static void test_pins_of_other_options_replaced(void **state)
{
	struct capture_opts other = {
		.on_record = harness_on_record,
		.pin_dir = pin,
		.probe_reads_only = !probe_reads_pass(),
		.enter_dispatch = getenv("SEALTRAIL_TEST_ENTER_DISPATCH") != NULL,
	};
	__u32 id, other_id;

	(void)state;
	reopen(0);
	id = pinned_link_prog_id(DISPATCH_LINK);
	capture_close(H.cap);
	H.cap = NULL;
	assert_int_equal(capture_open(&H.cap, &other), 0);
	other_id = pinned_link_prog_id(DISPATCH_LINK);
	assert_int_not_equal(other_id, id);
	assert_true(progs_gone(&id, 1));
	reopen(0);
	assert_int_not_equal(pinned_link_prog_id(DISPATCH_LINK), other_id);
	assert_true(progs_gone(&other_id, 1));
}

/* A pin directory that is not on bpffs is refused, and nothing in it is touched. */
static void test_pin_dir_not_bpffs(void **state)
{
	struct capture_opts opts = { .on_record = harness_on_record };
	struct capture *c = NULL;
	char dir[PATH_MAX];
	int fd;

	(void)state;
	snprintf(dir, sizeof(dir), "%s", tpath("not-bpffs"));
	assert_int_equal(mkdir(dir, 0700), 0);
	fd = open(tpath("not-bpffs/keep"), O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	opts.pin_dir = dir;
	assert_int_equal(capture_open(&c, &opts), -EINVAL);
	assert_null(c);
	assert_int_equal(capture_unpin(dir), -EINVAL);
	assert_int_equal(access(tpath("not-bpffs/keep"), F_OK), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_restart_keeps_events, test_setup),
		cmocka_unit_test_setup(test_unpin_detaches, test_setup),
		cmocka_unit_test_setup(test_incompatible_pins_replaced, test_setup),
		cmocka_unit_test_setup(test_pins_of_other_options_replaced, test_setup),
		cmocka_unit_test_setup(test_hot_exit_slot, test_setup),
		cmocka_unit_test_setup(test_pin_dir_not_bpffs, test_setup),
	};

	return cmocka_run_group_tests_name("capture_pin", tests, group_setup, group_teardown);
}
