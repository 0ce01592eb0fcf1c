/* test_agent: the real sealtraild, as operators run it. Start it, make real
 * activity, stop it, verify the trail with the real CLI and find the activity
 * in it with exact fields; kill it under load and restart it; feed it bad
 * configurations, reloads, tampering and a full disk. */
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <inttypes.h>
#include "agent_harness.h"

/* What a test leaves running if an assertion stops it halfway: cleaned up by
 * teardown, so that one failure never takes the next tests down with it. */
static struct agent_run *live_run;
static pid_t live_load;
static char live_mount[4300];
static bool live_frozen;	/* live_mount is frozen: thawed before anything else */

static void freeze(const char *mnt, bool on)
{
	char cmd[4400];

	snprintf(cmd, sizeof(cmd), "fsfreeze %s %s", on ? "-f" : "-u", mnt);
	assert_int_equal(system(cmd), 0);
	live_frozen = on;
}

static int teardown(void **state)
{
	(void)state;
	/* An agent writing to a frozen filesystem cannot even be killed. */
	if (live_frozen)
		freeze(live_mount, false);
	if (live_load > 0) {
		kill(live_load, SIGKILL);
		waitpid(live_load, NULL, 0);
	}
	live_load = 0;
	if (live_run && live_run->pid > 0)
		ah_stop(live_run, SIGKILL);
	if (live_mount[0])
		umount2(live_mount, MNT_DETACH);
	live_mount[0] = '\0';
	if (live_run)
		ah_cleanup(live_run);
	live_run = NULL;
	return 0;
}

/* Canonical text of raw bytes vs of a parsed string: equal iff same string. */
static bool same_bytes(const struct jv *v, const char *raw, size_t len)
{
	struct buf a = { 0 }, b = { 0 };
	bool same;

	if (!v || v->type != JV_STRING)
		return false;
	json_write_string(&a, raw, len, true);
	json_write_string(&b, v->str, v->n, false);
	same = a.len == b.len && !memcmp(a.data, b.data, a.len);
	buf_free(&a);
	buf_free(&b);
	return same;
}

static bool array_has(const struct jv *arr, const char *s)
{
	size_t i;

	for (i = 0; arr && arr->type == JV_ARRAY && i < arr->n; i++)
		if (jv_is_string(arr->items[i], s))
			return true;
	return false;
}

/* ah_prepare(), a the run teardown cleans up, and a directory for the test's activity in
 * work (size bytes). */
static void prepare(struct agent_run *a, const char *tag, const char *config_json, char *work,
		    size_t size)
{
	ah_prepare(a, tag, config_json);
	live_run = a;
	snprintf(work, size, "%s/work", a->dir);
	mkdir(work, 0755);
}

/* Runs fn(arg) in a child and waits for it; returns the child's pid. */
static pid_t in_child(void (*fn)(const char *), const char *arg, int *status)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		fn(arg);
		_exit(3);
	}
	waitpid(pid, status, 0);
	return pid;
}

static void file_activity(const char *work)
{
	char p1[4200], p2[4200], d[4200];
	int fd;

	if (chdir(work))
		_exit(1);
	snprintf(p1, sizeof(p1), "f1");
	snprintf(p2, sizeof(p2), "f 2\n\"q\"\xff");
	snprintf(d, sizeof(d), "sub");
	fd = open(p1, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	if (fd < 0 || write(fd, "x", 1) != 1)
		_exit(1);
	close(fd);
	rename(p1, p2);
	chmod(p2, 0600);
	unlink(p2);
	mkdir(d, 0750);
	unlink("missing");	/* fails: ENOENT */
	if (fork() == 0) {
		execl("/bin/true", "true", "arg one", (char *)NULL);
		_exit(1);
	}
	wait(NULL);
}

/* Everything a responder needs is in the trail, with exact fields, and the
 * trail verifies. */
static void test_activity_is_sealed(void **state)
{
	static struct agent_run a;	/* outlives a failed assertion: see teardown */
	struct ah_events e;
	char work[4300], path[4400];
	pid_t child, agent_pid;
	ssize_t i;
	int status;

	(void)state;
	prepare(&a, "agent", "{\"flush_ms\": 50}", work, sizeof(work));
	ah_start(&a, true, true);
	agent_pid = a.pid;	/* ah_stop() forgets it */
	child = in_child(file_activity, work, &status);
	assert_int_equal(WEXITSTATUS(status), 3);
	usleep(300000);
	assert_int_equal(ah_stop(&a, SIGTERM), 0);
	assert_non_null(strstr(a.err.data, "stopped on TERM"));
	assert_int_equal(ah_verify(&a, false, NULL), 0);

	ah_load(&a, &e);
	assert_true(ah_is(e.ev[0], "event.action", "agent-start"));
	assert_true(ah_is(e.ev[0], "sealtrail.previous_run.ended", "first"));
	assert_true(ah_is(e.ev[e.n - 1], "event.action", "agent-stop"));

	i = ah_find(&e, 0, "open", child);
	assert_true(i >= 0);
	snprintf(path, sizeof(path), "%s/f1", work);
	{
		char real[4400];

		assert_non_null(realpath(work, real));
		snprintf(path, sizeof(path), "%s/f1", real);
		assert_true(ah_is(e.ev[i], "file.path", path));
		assert_true(array_has(ah_get(e.ev[i], "file.open_flags"), "O_CREAT"));
		assert_true(ah_is(e.ev[i], "file.mode", "0640"));
		assert_true(ah_is(e.ev[i], "event.outcome", "success"));
		assert_int_equal(ah_int(e.ev[i], "user.id"), (int64_t)getuid());
		assert_int_equal(ah_int(e.ev[i], "process.parent.pid"), getpid());

		i = ah_find(&e, 0, "rename", child);
		assert_true(i >= 0);
		assert_true(ah_is(e.ev[i], "file.original.path", path));
		snprintf(path, sizeof(path), "%s/f 2\n\"q\"\xff", real);
		assert_true(same_bytes(ah_get(e.ev[i], "file.path"), path, strlen(path)));

		i = ah_find(&e, 0, "chmod", child);
		assert_true(i >= 0 && ah_is(e.ev[i], "file.mode", "0600"));
		assert_true(same_bytes(ah_get(e.ev[i], "file.path"), path, strlen(path)));
		i = ah_find(&e, 0, "unlink", child);
		assert_true(i >= 0 && ah_is(e.ev[i], "event.outcome", "success"));
		i = ah_find(&e, (size_t)i + 1, "unlink", child);
		assert_true(i >= 0);
		assert_true(ah_is(e.ev[i], "error.code", "ENOENT"));
		assert_int_equal(ah_int(e.ev[i], "syscall.result"), -ENOENT);
		snprintf(path, sizeof(path), "%s/sub", real);
		i = ah_find(&e, 0, "mkdir", child);
		assert_true(i >= 0 && ah_is(e.ev[i], "file.path", path));
	}
	i = ah_find(&e, 0, "fork", child);
	assert_true(i >= 0);
	assert_int_equal(ah_int(e.ev[i], "process.parent.pid"), getpid());
	i = ah_find(&e, 0, "exec", -1);
	while (i >= 0 && ah_int(e.ev[i], "process.parent.pid") != child)
		i = ah_find(&e, (size_t)i + 1, "exec", -1);
	assert_true(i >= 0);
	assert_true(ah_is(e.ev[i], "process.executable", "/usr/bin/true"));
	{
		const struct jv *args = ah_get(e.ev[i], "process.args");

		assert_non_null(args);
		assert_int_equal(args->n, 2);
		assert_true(jv_is_string(args->items[1], "arg one"));
	}
	i = ah_find(&e, 0, "exit", child);
	assert_true(i >= 0);
	assert_int_equal(ah_int(e.ev[i], "process.exit_code"), 3);
	/* The agent never records itself. */
	for (i = 0; i < (ssize_t)e.n; i++)
		assert_true(ah_int(e.ev[i], "process.pid") != agent_pid ||
			    !ah_get(e.ev[i], "process"));
	ah_events_free(&e);
	ah_cleanup(&a);
	live_run = NULL;
}

static void busy_files_paced(const char *dir, unsigned int pause_us)
{
	char p[4300];
	int i;

	for (i = 0;; i++) {
		if (pause_us)
			usleep(pause_us);
		int fd;

		snprintf(p, sizeof(p), "%s/load-%d", dir, i % 50);
		fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0)
			close(fd);
		unlink(p);
	}
}

static void busy_files(const char *dir)
{
	busy_files_paced(dir, 0);
}

/* kill -9 at any moment under load: the next start recovers, records that the
 * previous run ended uncleanly, and the trail verifies after every restart. */
static void test_kill9_under_load_recovers(void **state)
{
	static struct agent_run a;	/* outlives a failed assertion: see teardown */
	struct ah_events e;
	char work[4300];
	pid_t load;
	size_t i, unclean = 0;
	int round;

	(void)state;
	prepare(&a, "kill9", "{\"flush_ms\": 20}", work, sizeof(work));
	load = fork();
	if (load == 0) {
		busy_files(work);
		_exit(0);
	}
	live_load = load;
	for (round = 0; round < 3; round++) {
		ah_start(&a, true, true);
		usleep(200000 + 150000 * (unsigned)round);
		assert_int_equal(ah_stop(&a, SIGKILL), 128 + SIGKILL);
		/* Written before the kill, complete up to a possible torn tail. */
		assert_int_equal(ah_verify(&a, true, NULL), 0);
	}
	ah_start(&a, true, true);
	usleep(200000);
	kill(load, SIGKILL);
	waitpid(load, NULL, 0);
	live_load = 0;
	assert_int_equal(ah_stop(&a, SIGTERM), 0);
	assert_int_equal(ah_verify(&a, false, NULL), 0);

	ah_load(&a, &e);
	for (i = 0; i < e.n; i++)
		if (ah_is(e.ev[i], "event.action", "agent-start") &&
		    ah_is(e.ev[i], "sealtrail.previous_run.ended", "unclean"))
			unclean++;
	assert_int_equal(unclean, 3);
	assert_int_equal(ah_count(&e, "agent-start"), 4);
	assert_int_equal(ah_count(&e, "agent-stop"), 1);
	assert_true(ah_count(&e, "open") > 100);
	ah_events_free(&e);
	ah_cleanup(&a);
	live_run = NULL;
}

/* Bad configuration: one line naming the key and why, exit 2, nothing written. */
static void test_bad_configuration_is_refused(void **state)
{
	static char many_uids[16 * 1024];	/* one more than the kernel's map holds */
	static const struct {
		const char *json, *expect;
	} cases[] = {
		{ "{\"flush_ms\": 0}", "\"flush_ms\"" },
		{ "{\"fliters\": []}", "unknown key \"fliters\"" },
		{ "{\"ringbuf_bytes\": 100000}", "power of two" },
		{ "{\"ignore_paths\": [\"relative/path\"]}", "not an absolute path" },
		{ "{\"epoch_seconds\": \"60\"}", "\"epoch_seconds\": must be a number" },
		{ "{\"flush_ms\": 100,\n \"segment_bytes\": 1,}", "line 2: not valid JSON" },
		{ "[]", "must be a JSON object" },
		{ "{\"backlog_bytes\": 4096}", "\"backlog_bytes\": 0 (none) or at least 524288" },
		{ "{\"ignore_comms\": [\"a-name-longer-than-15\"]}", "\"ignore_comms\"" },
		{ many_uids, "\"ignore_uids\": at most 1024 entries" },
	};
	static struct agent_run a;	/* outlives a failed assertion: see teardown */
	size_t i;

	(void)state;
	{
		size_t n = (size_t)snprintf(many_uids, sizeof(many_uids), "{\"ignore_uids\": [0");

		for (i = 1; i <= 1024; i++)
			n += (size_t)snprintf(many_uids + n, sizeof(many_uids) - n, ", %zu", 1000 + i);
		snprintf(many_uids + n, sizeof(many_uids) - n, "]}");
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ah_prepare(&a, "badcfg", cases[i].json);
		live_run = &a;
		ah_start(&a, true, false);
		assert_int_equal(ah_wait_exit(&a, 10), 2);
		if (!strstr(a.err.data, cases[i].expect))
			fail_msg("config %s: expected \"%s\" in: %s", cases[i].json, cases[i].expect,
				 a.err.data);
		assert_non_null(strstr(a.err.data, "config.json"));
		assert_int_equal(tl_count_lines(a.err.data, a.err.len), 1);
		assert_int_equal(access(a.trail, F_OK), -1);	/* nothing written */
		ah_cleanup(&a);
		live_run = NULL;
	}
}

/*
 * A thread that cannot be started (FAILTHREAD_AT=N in the shim: the Nth pthread_create
 * fails with EAGAIN). The backlog's thread and the compressor's are started before the
 * trail is opened: the agent then stops with one line saying which, writes nothing, and
 * leaves nothing loaded. The third start is the first of the threads that detach the
 * enter handlers' links at a stop: that link is then detached in place, and the stop is
 * clean.
 */
static void test_thread_start_failure(void **state)
{
	static const char *const expect[] = {
		"sealtraild: cannot start the thread that drains the ring: ",
		"sealtraild: cannot start the compression thread: ",
	};
	static struct agent_run a;
	char shim[4096];
	int n;

	(void)state;
	snprintf(shim, sizeof(shim), "%s/tests/failalloc.so", tl_build_dir());
	for (n = 1; n <= 3; n++) {
		ah_prepare(&a, "nothread", NULL);
		live_run = &a;
		setenv("LD_PRELOAD", shim, 1);
		setenv("FAILTHREAD_AT", tl_fmt("%d", n), 1);
		ah_start(&a, false, n == 3);
		unsetenv("LD_PRELOAD");
		unsetenv("FAILTHREAD_AT");
		if (n == 3) {
			assert_int_equal(ah_stop(&a, SIGTERM), 0);
			assert_int_equal(ah_verify(&a, false, NULL), 0);
		} else {
			assert_int_equal(ah_wait_exit(&a, 60), 1);
			if (strncmp(a.err.data, expect[n - 1], strlen(expect[n - 1])) ||
			    !strstr(a.err.data, strerror(EAGAIN)))
				fail_msg("thread %d: expected \"%s%s\", got: %s", n, expect[n - 1],
					 strerror(EAGAIN), a.err.data);
			assert_int_equal(tl_count_lines(a.err.data, a.err.len), 1);
			assert_int_equal(ah_count_files(a.trail), 0);
		}
		ah_cleanup(&a);
		live_run = NULL;
	}
}

static void write_in(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT, 0600);

	if (fd >= 0)
		close(fd);
	_exit(0);
}

/* SIGHUP reloads (or refuses a bad file and says so); changes to the trail
 * directory and signals to the agent are marked as tampering. */
static void test_reload_and_tamper(void **state)
{
	static struct agent_run a;	/* outlives a failed assertion: see teardown */
	struct ah_events e;
	char work[4300], cfg[9000], evil[4400], before[4400], after[4400], key[4400],
		stolen[4400];
	size_t i, reloads = 0, refused = 0, tamper_open = 0, tamper_signal = 0, tamper_link = 0;
	pid_t agent_pid;
	int status;

	(void)state;
	prepare(&a, "reload", "{\"flush_ms\": 50}", work, sizeof(work));
	{
		char real[4400];

		assert_non_null(realpath(work, real));
		snprintf(before, sizeof(before), "%s/before", real);
		snprintf(after, sizeof(after), "%s/after", real);
		snprintf(cfg, sizeof(cfg), "{\"flush_ms\": 50, \"ignore_paths\": [\"%s/\"]}", real);
	}
	ah_start(&a, true, true);
	in_child(write_in, before, &status);
	tl_write_file(a.config, cfg, strlen(cfg));
	kill(a.pid, SIGHUP);
	assert_true(ah_read_err(&a, "configuration reloaded", 10));
	in_child(write_in, after, &status);	/* now under an ignored prefix */
	tl_write_file(a.config, "{\"flush_ms\": -1}", 16);
	kill(a.pid, SIGHUP);
	assert_true(ah_read_err(&a, "reload refused", 10));
	{
		char real[4400];

		assert_non_null(realpath(a.trail, real));
		snprintf(evil, sizeof(evil), "%s/evil", real);
		assert_non_null(realpath(a.keys, real));
		snprintf(key, sizeof(key), "%s/writer.key", real);
		assert_non_null(realpath(a.dir, real));
		snprintf(stolen, sizeof(stolen), "%s/stolen.key", real);
	}
	in_child(write_in, evil, &status);
	/* A second name for the writer's key, outside the protected directory. */
	assert_int_equal(link(key, stolen), 0);
	usleep(300000);
	agent_pid = a.pid;
	assert_int_equal(ah_stop(&a, SIGTERM), 0);
	/* The intruder's file is reported, not taken for part of the trail. */
	assert_int_equal(ah_verify(&a, false, NULL), 0);

	ah_load(&a, &e);
	for (i = 0; i < e.n; i++) {
		const struct jv *ev = e.ev[i];

		if (ah_is(ev, "event.action", "config-reload")) {
			if (ah_get(ev, "sealtrail.config.error"))
				refused++;
			else
				reloads++;
		}
		if (ah_is(ev, "event.action", "open") && ah_is(ev, "file.path", evil)) {
			assert_true(ah_is(ev, "event.kind", "alert"));
			tamper_open++;
		}
		if (ah_is(ev, "event.action", "link") && ah_is(ev, "file.target_path", key)) {
			assert_true(ah_is(ev, "event.kind", "alert"));
			tamper_link++;
		}
		if (ah_is(ev, "event.action", "signal") && ah_is(ev, "sealtrail.signal.name", "SIGHUP")) {
			assert_true(ah_get(ev, "sealtrail.tamper") != NULL);
			assert_int_equal(ah_int(ev, "target.process.pid"), agent_pid);
			tamper_signal++;
		}
		assert_false(ah_is(ev, "file.path", after));	/* ignored after the reload */
	}
	assert_int_equal(reloads, 1);
	assert_int_equal(refused, 1);
	assert_int_equal(tamper_open, 1);
	assert_int_equal(tamper_link, 1);
	assert_true(tamper_signal >= 2);
	{
		bool seen_before = false;

		for (i = 0; i < e.n; i++)
			seen_before |= ah_is(e.ev[i], "file.path", before);
		assert_true(seen_before);
	}
	ah_events_free(&e);
	ah_cleanup(&a);
	live_run = NULL;
}

/* Epochs advance on the timer also when nothing happens. */
static void test_idle_epochs_are_sealed(void **state)
{
	static struct agent_run a;	/* outlives a failed assertion: see teardown */
	struct ah_events e;
	size_t i, timer_seals = 0;

	(void)state;
	ah_prepare(&a, "epochs", "{\"epoch_seconds\": 1, \"flush_ms\": 50}");
	live_run = &a;
	ah_start(&a, true, true);
	sleep(5);
	assert_int_equal(ah_stop(&a, SIGTERM), 0);
	assert_int_equal(ah_verify(&a, false, NULL), 0);
	ah_load(&a, &e);
	for (i = 0; i < e.n; i++)
		if (ah_is(e.ev[i], "event.action", "epoch-seal") &&
		    ah_is(e.ev[i], "sealtrail.reason", "timer"))
			timer_seals++;
	assert_true(timer_seals >= 3);
	ah_events_free(&e);
	ah_cleanup(&a);
	live_run = NULL;
}

/* A full disk: the agent keeps running, what is written stays valid, and the
 * gap is recorded when space comes back. */
/* Moves a's trail onto a 64 MiB ext4 disk of its own, mounted at mnt (a's directory
 * holds both); skips the test where loop devices cannot be mounted. */
static void trail_on_small_disk(struct agent_run *a, char *mnt, size_t mnt_size)
{
	char img[4300], cmd[9000];
	const char *mkfs[] = { "/sbin/mkfs.ext4", "-q", "-F", img, NULL };
	struct tl_proc p;
	int fd;

	snprintf(img, sizeof(img), "%s/disk.img", a->dir);
	snprintf(mnt, mnt_size, "%s/mnt", a->dir);
	mkdir(mnt, 0755);
	fd = open(img, O_WRONLY | O_CREAT, 0600);
	assert_int_equal(ftruncate(fd, 64 << 20), 0);
	close(fd);
	assert_int_equal(tl_run(&p, NULL, 0, mkfs), 0);
	tl_proc_free(&p);
	snprintf(cmd, sizeof(cmd), "mount -o loop %s %s", img, mnt);
	if (system(cmd) != 0) {
		ah_cleanup(a);
		live_run = NULL;
		skip();
	}
	snprintf(live_mount, sizeof(live_mount), "%s", mnt);
	snprintf(a->trail, sizeof(a->trail), "%s/trail", mnt);
}

/* The end of a run on the small disk: unmounted, cleaned up. */
static void small_disk_done(struct agent_run *a, const char *mnt)
{
	char cmd[4400];

	snprintf(cmd, sizeof(cmd), "umount %s", mnt);
	assert_int_equal(system(cmd), 0);
	live_mount[0] = '\0';
	ah_cleanup(a);
	live_run = NULL;
}

static void test_full_disk_gap_is_recorded(void **state)
{
	static struct agent_run a;	/* outlives a failed assertion: see teardown */
	struct ah_events e;
	char mnt[4300], filler[4400], work[4300];
	size_t i, gap_entries = 0;
	pid_t load;
	int fd;

	(void)state;
	prepare(&a, "diskfull", "{\"flush_ms\": 20}", work, sizeof(work));
	/* Room for the trail once the filler is gone: the load writes ~5 MB/s. */
	trail_on_small_disk(&a, mnt, sizeof(mnt));
	ah_start(&a, true, true);
	load = fork();
	if (load == 0) {
		busy_files_paced(work, 500);	/* ~2 MB/s of trail */
		_exit(0);
	}
	live_load = load;
	usleep(300000);
	snprintf(filler, sizeof(filler), "%s/filler", mnt);
	fd = open(filler, O_WRONLY | O_CREAT, 0600);
	{
		static char block[65536];

		while (write(fd, block, sizeof(block)) > 0)
			;
	}
	close(fd);
	usleep(800000);			/* events keep coming; none can be written */
	unlink(filler);
	usleep(800000);			/* space again: the gap gets recorded */
	kill(load, SIGKILL);
	waitpid(load, NULL, 0);
	live_load = 0;
	assert_int_equal(ah_stop(&a, SIGTERM), 0);
	{
		char *out = NULL;

		if (ah_verify(&a, false, &out) != 0)
			fail_msg("verify: %s\nagent: %s", out, a.err.data);
		free(out);
	}
	ah_load(&a, &e);
	for (i = 0; i < e.n; i++) {
		const struct jv *g = ah_get(e.ev[i], "sealtrail.gap.entries");
		int64_t n;

		if (g && jv_to_i64(g, &n))
			gap_entries += (size_t)n;
	}
	if (!ah_is(e.ev[e.n - 1], "event.action", "agent-stop")) {
		struct buf b = { 0 };

		json_write(&b, e.ev[e.n - 1]);
		fail_msg("last entry is not agent-stop: %.*s\nagent said: %s", (int)b.len, b.data,
			 a.err.data);
	}
	assert_true(gap_entries > 0);
	ah_events_free(&e);
	small_disk_done(&a, mnt);
}

/* chmod, not open: losses are counted by kind, and little else on a host
 * changes modes, so what is lost of this kind while the ring is full is ours. */
static void flood_at(const char *dir, bool paced)
{
	char p[4300];
	int i, fd;

	snprintf(p, sizeof(p), "%s/flood", dir);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0)
		close(fd);
	for (i = 0; i < 20000; i++) {
		chmod(p, i % 2 ? 0600 : 0640);
		if (paced && i % 100 == 99)
			usleep(1000);
	}
	_exit(0);
}

static void flood(const char *dir)
{
	flood_at(dir, false);
}

/* The same 20000 over about a quarter of a second: a consumer that keeps up would lose
 * none of them in a ring of 1 MiB, whatever else the CPUs run meanwhile. */
static void flood_paced(const char *dir)
{
	flood_at(dir, true);
}

static uint64_t lost_chmods(const struct ah_events *e)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < e->n; i++) {
		int64_t n = ah_int(e->ev[i], "sealtrail.lost.ringbuf_full.chmod");

		if (ah_is(e->ev[i], "event.action", "events-lost") && n > 0)
			sum += (uint64_t)n;
	}
	return sum;
}

/* With --pin-dir, the programs keep capturing while no agent runs: a restart
 * loses nothing that fits in the ring, and what did not fit is reported, exactly
 * once, by the next agent. */
static void test_pinned_restart_loses_nothing(void **state)
{
	static struct agent_run a;	/* outlives a failed assertion: see teardown */
	struct ah_events e;
	char work[4300], real[4400], gap_file[4500];
	uint64_t delivered = 0, lost;
	pid_t child;
	size_t i;
	int status;

	(void)state;
	/* The smallest ring: 20000 chmods while stopped cannot all fit. */
	prepare(&a, "pinned", "{\"flush_ms\": 50, \"ringbuf_bytes\": 65536}", work, sizeof(work));
	snprintf(a.pin_dir, sizeof(a.pin_dir), "/sys/fs/bpf/sealtrail-test-agent-%d", getpid());
	assert_non_null(realpath(work, real));
	snprintf(gap_file, sizeof(gap_file), "%s/while-stopped", real);

	ah_start(&a, true, true);
	assert_int_equal(ah_stop(&a, SIGTERM), 0);
	/* No agent runs now. */
	in_child(write_in, gap_file, &status);
	child = in_child(flood, real, &status);
	ah_start(&a, true, true);
	usleep(300000);
	assert_int_equal(ah_stop(&a, SIGTERM), 0);
	ah_start(&a, true, true);	/* a third run must not report the same losses again */
	assert_int_equal(ah_stop(&a, SIGTERM), 0);
	assert_int_equal(ah_verify(&a, false, NULL), 0);

	ah_load(&a, &e);
	{
		bool seen = false;

		for (i = 0; i < e.n; i++)
			seen |= ah_is(e.ev[i], "file.path", gap_file);
		assert_true(seen);	/* written while no agent ran */
	}
	for (i = 0; i < e.n; i++)
		if (ah_is(e.ev[i], "event.action", "chmod") &&
		    ah_int(e.ev[i], "process.pid") == child)
			delivered++;
	lost = lost_chmods(&e);
	/* Every chmod of the flood is in the trail or counted as lost, exactly once
	 * (reporting the losses again at the third start would double them). */
	if (delivered + lost != 20000)
		fail_msg("%" PRIu64 " delivered + %" PRIu64 " lost != 20000", delivered, lost);
	assert_true(lost > 0);
	ah_events_free(&e);
	ah_cleanup(&a);
	live_run = NULL;
	assert_int_equal(access(a.pin_dir, F_OK), -1);
}

/* The agent's disk stops taking writes (fsfreeze: as a stalled or failing disk, a
 * filesystem snapshot, a slow fsync) while a flood of chmods comes in, five times what the
 * ring holds; then it thaws. Returns the chmods in the trail and those reported lost. */
static void flood_while_frozen(const char *config, uint64_t *delivered, uint64_t *lost,
			       int64_t *backlog_peak)
{
	static struct agent_run a;	/* outlives a failed assertion: see teardown */
	struct ah_events e;
	char mnt[4300], work[4300], real[4400];
	pid_t child;
	size_t i;
	int status;

	prepare(&a, "frozen", config, work, sizeof(work));
	assert_non_null(realpath(work, real));
	trail_on_small_disk(&a, mnt, sizeof(mnt));
	ah_start(&a, true, true);
	freeze(mnt, true);
	child = in_child(flood_paced, real, &status);
	usleep(300000);		/* the agent's writes are blocked all along */
	freeze(mnt, false);
	assert_int_equal(ah_stop(&a, SIGTERM), 0);
	assert_int_equal(ah_verify(&a, false, NULL), 0);

	ah_load(&a, &e);
	*delivered = 0;
	for (i = 0; i < e.n; i++)
		if (ah_is(e.ev[i], "event.action", "chmod") &&
		    ah_int(e.ev[i], "process.pid") == child)
			(*delivered)++;
	*lost = lost_chmods(&e);
	assert_true(ah_is(e.ev[e.n - 1], "event.action", "agent-stop"));
	*backlog_peak = ah_int(e.ev[e.n - 1], "sealtrail.stats.backlog.peak_bytes");
	ah_events_free(&e);
	small_disk_done(&a, mnt);
}

/* With the backlog (the default), a stalled disk loses nothing it had room for. */
static void test_frozen_disk_loses_nothing(void **state)
{
	uint64_t delivered, lost;
	int64_t peak;

	(void)state;
	flood_while_frozen("{\"flush_ms\": 20, \"ringbuf_bytes\": 1048576}", &delivered, &lost,
			   &peak);
	if (delivered != 20000 || lost)
		fail_msg("%" PRIu64 " of 20000 chmods in the trail, %" PRIu64 " lost", delivered, lost);
	/* The stop entry says how much it took: more than the ring holds. */
	assert_true(peak > 1048576);
}

/* Without it, the same run loses events, and counts each: what makes the test above able
 * to fail. So does a backlog too small for the flood (the smallest: two chunks), at its bound. */
static void test_frozen_disk_without_backlog_counts_losses(void **state)
{
	static const char *const configs[] = {
		"{\"flush_ms\": 20, \"ringbuf_bytes\": 1048576, \"backlog_bytes\": 0}",
		"{\"flush_ms\": 20, \"ringbuf_bytes\": 1048576, \"backlog_bytes\": 524288}",
	};
	uint64_t delivered, lost;
	int64_t peak;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(configs) / sizeof(configs[0]); i++) {
		flood_while_frozen(configs[i], &delivered, &lost, &peak);
		if (!lost || delivered + lost != 20000)
			fail_msg("%s: %" PRIu64 " delivered + %" PRIu64
				 " lost: expected losses, 20000 in all", configs[i], delivered, lost);
	}
}

/* Runs `sealtrail replay ARGS... TRAIL` with the key; returns stdout. */
static char *replay(struct agent_run *a, const char *const *args)
{
	char key[4300];
	const char *argv[16] = { tl_cli(), "replay", "--key", key };
	struct tl_proc p;
	size_t n = 4, i;
	char *out;

	snprintf(key, sizeof(key), "%s/verify.key", a->keys);
	for (i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n++] = a->trail;
	argv[n] = NULL;
	if (tl_run(&p, NULL, 0, argv) != 0)
		fail_msg("replay failed (%d): %s", p.status, p.err);
	out = p.out;
	free(p.err);
	return out;
}

/* Parses JSON lines (skipping the verification header) into values. */
static size_t parse_lines(struct jv_arena *arena, char *out, const struct jv **v, size_t max)
{
	size_t n = 0;
	char *line = out, *nl;

	for (; (nl = strchr(line, '\n')) && n < max; line = nl + 1) {
		struct jv *root;

		assert_int_equal(json_parse(arena, line, (size_t)(nl - line), &root, NULL), 0);
		if (!jv_get(root, "verification"))
			v[n++] = root;
	}
	return n;
}

/* Replay answers from a real trail: a shell starting a shell starting a
 * program that writes a file, beside an unrelated process. */
static void test_replay_tree_from_real_activity(void **state)
{
	static struct agent_run a;	/* outlives a failed assertion: see teardown */
	struct jv_arena *arena = jv_arena_new();
	const struct jv *lines[256];
	char work[4300], real[4400], file[4500], other[4500], script[9500], pidarg[32];
	pid_t outer, unrelated;
	int64_t dd_pid = -1;
	size_t n, i;
	char *out;

	(void)state;
	prepare(&a, "tree", "{\"flush_ms\": 50}", work, sizeof(work));
	assert_non_null(realpath(work, real));
	snprintf(file, sizeof(file), "%s/written-by-dd", real);
	snprintf(other, sizeof(other), "%s/touched-elsewhere", real);
	snprintf(script, sizeof(script),
		 "/bin/sh -c '/usr/bin/dd if=/dev/zero of=%s bs=1 count=1 status=none; exit 0'; "
		 "exit 0", file);
	ah_start(&a, true, true);
	outer = fork();
	if (outer == 0) {
		execl("/bin/sh", "sh", "-c", script, (char *)NULL);
		_exit(127);
	}
	waitpid(outer, NULL, 0);
	unrelated = fork();
	if (unrelated == 0) {
		execl("/usr/bin/touch", "touch", other, (char *)NULL);
		_exit(127);
	}
	waitpid(unrelated, NULL, 0);
	usleep(300000);
	assert_int_equal(ah_stop(&a, SIGTERM), 0);

	snprintf(pidarg, sizeof(pidarg), "%d", outer);
	{
		const char *args[] = { "--tree", pidarg, "--json", NULL };

		out = replay(&a, args);
	}
	n = parse_lines(arena, out, lines, 256);
	/* Exactly three processes: sh, sh under it, dd under that. */
	if (n != 3)
		fail_msg("tree has %zu processes:\n%s", n, out);
	assert_int_equal(ah_int(lines[0], "tree.pid"), outer);
	assert_int_equal(ah_int(lines[0], "tree.depth"), 0);
	assert_int_equal(ah_int(lines[1], "tree.depth"), 1);
	assert_int_equal(ah_int(lines[1], "tree.ppid"), outer);
	assert_int_equal(ah_int(lines[2], "tree.depth"), 2);
	assert_true(ah_is(lines[2], "tree.name", "dd"));
	dd_pid = ah_int(lines[2], "tree.pid");
	{
		const struct jv *files = ah_get(lines[2], "tree.files");
		bool wrote = false;

		for (i = 0; files && i < files->n; i++)
			wrote |= jv_is_string(jv_get(files->items[i], "path"), file);
		assert_true(wrote);
	}
	for (i = 0; i < n; i++) {
		assert_non_null(ah_get(lines[i], "tree.exit"));
		assert_null(strstr(out, other));	/* the unrelated process is not in it */
	}
	free(out);

	/* --pid: the events of dd and nothing else. */
	snprintf(pidarg, sizeof(pidarg), "%" PRId64, dd_pid);
	{
		const char *args[] = { "--pid", pidarg, "--json", NULL };
		bool opened = false;

		out = replay(&a, args);
		jv_arena_reset(arena);
		n = parse_lines(arena, out, lines, 256);
		assert_true(n >= 3);	/* exec, open, exit at least */
		for (i = 0; i < n; i++) {
			assert_int_equal(ah_int(lines[i], "event.process.pid"), dd_pid);
			opened |= ah_is(lines[i], "event.event.action", "open") &&
				  ah_is(lines[i], "event.file.path", file);
		}
		assert_true(opened);
		free(out);
	}
	/* --path: only events about that file. */
	{
		const char *args[] = { "--path", file, "--json", NULL };

		out = replay(&a, args);
		jv_arena_reset(arena);
		n = parse_lines(arena, out, lines, 256);
		assert_true(n >= 1);
		for (i = 0; i < n; i++)
			assert_true(ah_is(lines[i], "event.file.path", file) ||
				    ah_is(lines[i], "event.file.original.path", file));
		free(out);
	}
	/* --type exec --ppid: exactly the inner shell's exec. */
	snprintf(pidarg, sizeof(pidarg), "%d", outer);
	{
		const char *args[] = { "--type", "exec", "--ppid", pidarg, "--json", NULL };

		out = replay(&a, args);
		jv_arena_reset(arena);
		n = parse_lines(arena, out, lines, 256);
		assert_int_equal(n, 1);
		assert_true(ah_is(lines[0], "event.process.name", "sh"));
		free(out);
	}
	jv_arena_free(arena);
	ah_cleanup(&a);
	live_run = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_activity_is_sealed, teardown),
		cmocka_unit_test_teardown(test_bad_configuration_is_refused, teardown),
		cmocka_unit_test_teardown(test_thread_start_failure, teardown),
		cmocka_unit_test_teardown(test_reload_and_tamper, teardown),
		cmocka_unit_test_teardown(test_idle_epochs_are_sealed, teardown),
		cmocka_unit_test_teardown(test_kill9_under_load_recovers, teardown),
		cmocka_unit_test_teardown(test_full_disk_gap_is_recorded, teardown),
		cmocka_unit_test_teardown(test_replay_tree_from_real_activity, teardown),
		cmocka_unit_test_teardown(test_pinned_restart_loses_nothing, teardown),
		cmocka_unit_test_teardown(test_frozen_disk_loses_nothing, teardown),
		cmocka_unit_test_teardown(test_frozen_disk_without_backlog_counts_losses, teardown),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_agent needs root (it loads BPF programs)\n");
		return 1;
	}
	/* SEALTRAIL_TEST_ONLY=test_kill9* runs the matching tests only (to chase a flake). */
	if (getenv("SEALTRAIL_TEST_ONLY"))
		cmocka_set_test_filter(getenv("SEALTRAIL_TEST_ONLY"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
