/* test_capture_process: the process events of the capture, for real, as root: exec (and
 * its failures, and fileless ones), fork, exit, credential changes, ptrace, bpf program
 * loads, mount, modules, signals to the agent and self-exclusion. */
#include <pthread.h>
#include <sched.h>
#include <sys/fsuid.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/sendfile.h>
#include <grp.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include "capture_harness.h"

static int group_setup(void **state)
{
	(void)state;
	return harness_open(0);
}

static int group_teardown(void **state)
{
	(void)state;
	harness_close();
	return 0;
}

static int test_setup(void **state)
{
	(void)state;
	harness_reset();
	return 0;
}

static const struct capture_program_info *program(const char *name)
{
	const struct capture_program_info *info;
	size_t n = capture_programs(H.cap, &info), i;

	for (i = 0; i < n; i++)
		if (!strcmp(info[i].name, name))
			return &info[i];
	return NULL;
}

/* ---- smoke ------------------------------------------------------------------------- */

/* Every program is attached (a syscall handler: in its dispatch table), or disabled because
 * this architecture has no such syscall: never because it failed. The disabled ones are
 * listed; on x86-64 there are none. */
static void test_programs_attached(void **state)
{
	const struct capture_program_info *info;
	size_t n = capture_programs(H.cap, &info), i, attached = 0;

	(void)state;
	assert_true(n > 80);
	for (i = 0; i < n; i++) {
		if (info[i].attached) {
			assert_null(info[i].why);
			attached++;
			continue;
		}
		assert_non_null(info[i].why);
		print_message("# disabled: %s: %s\n", info[i].name, info[i].why);
		assert_non_null(strstr(info[i].why, "on this architecture"));
	}
	print_message("# %zu of %zu programs attached\n", attached, n);
#ifdef __x86_64__
	assert_int_equal(attached, n);
#endif
	assert_non_null(program("tp_btf__sched_process_exec"));
	assert_true(program("tp_btf__sched_process_exec")->attached);
	assert_true(program("tp_btf__sys_exit")->attached);
	/* Enter handlers on their syscalls' own tracepoints, or (no syscall tracepoints, or
	 * SEALTRAIL_TEST_ENTER_DISPATCH=1) tail-called from a sys_enter dispatcher: only the
	 * programs of the way taken are listed. */
	if (getenv("SEALTRAIL_TEST_ENTER_DISPATCH")) {
		assert_true(program("tp_btf__sys_enter")->attached);
		assert_true(program("sys_enter_d__execve")->attached);
		assert_true(program("sys_enter_d__setresuid")->attached);
		assert_null(program("sys_enter__execve"));
	} else {
		assert_null(program("tp_btf__sys_enter"));
		assert_true(program("sys_enter__execve")->attached);
		assert_true(program("sys_enter__setresuid")->attached);
		assert_null(program("sys_enter_d__execve"));
		assert_true(program("sys_enter__ioctl")->attached);
	}
	assert_true(program("sys_exit__ioctl")->attached);
	/* Opens and the other file calls but ioctl are handled at exit alone. */
	assert_null(program("sys_enter__openat"));
	assert_null(program("sys_enter_d__openat"));
	assert_true(program("sys_exit__openat")->attached);
	assert_null(program("sys_enter__unlinkat"));
	assert_true(program("sys_exit__unlinkat")->attached);
	assert_null(program("sys_enter__mount"));
	assert_true(program("sys_exit__mount")->attached);
	assert_true(program("tp_btf__signal_generate")->attached);
}

/* ---- exec -------------------------------------------------------------------------- */

static char *const exec_argv[] = { "true", "a\nb", "q\"uote", "\xff", "", "end", NULL };
static const char exec_argv_blob[] = "true\0a\nb\0q\"uote\0\xff\0\0end";

static void exec_true_child(void *arg)
{
	char *const envp[] = { "SEALTRAIL_TEST=1", NULL };

	if (chdir(arg))
		_exit(96);
	execve("/bin/true", exec_argv, envp);
	_exit(95);
}

static void test_exec(void **state)
{
	char cwd[PATH_MAX], exe[PATH_MAX];
	const struct st_record *r;
	pid_t pid;

	(void)state;
	snprintf(cwd, sizeof(cwd), "%s", tpath("exec cwd"));
	assert_int_equal(mkdir(cwd, 0755), 0);
	assert_non_null(realpath("/bin/true", exe));
	pid = run_child(exec_true_child, cwd);
	r = await_record(ST_EXEC, pid, NULL, NULL);
	assert_non_null(r);
	assert_int_equal(r->abi, ST_ABI_VERSION);
	assert_int_equal(r->syscall, ST_SYS_EXECVE);
	assert_int_equal(r->ret, 0);
	assert_int_equal(r->flags, 0);
	assert_int_equal(r->arg[0], 6);
	assert_int_equal((__s64)r->arg[1], AT_FDCWD);
	assert_path(r, ST_S_EXE, exe, 0);
	assert_str(r, ST_S_ARGV, exec_argv_blob, sizeof(exec_argv_blob) - 1, 0);
	assert_path(r, ST_S_CWD, cwd, 0);
	assert_path(r, ST_S_FILENAME, "/bin/true", ST_STR_RAW);
	/* The task context: the new image, this test as its parent. */
	assert_int_equal(r->task.pid, pid);
	assert_int_equal(r->task.tid, pid);
	assert_int_equal(r->task.ppid, getpid());
	assert_int_equal(r->task.uid, 0);
	assert_int_equal(r->task.euid, 0);
	assert_string_equal(r->task.comm, "true");
	assert_true(r->task.start_ns > 0 && r->task.parent_start_ns > 0);
	assert_true(r->task.start_ns > r->task.parent_start_ns);
	assert_true(r->task.mntns != 0 && r->task.cgroup_id != 0);
	assert_true(r->ktime_ns >= r->task.start_ns);
}

static void exec_missing_child(void *arg)
{
	char *const argv[] = { "prog", "x y", NULL };

	if (chdir(H.dir))
		_exit(96);
	execve(arg, argv, argv + 2);
	_exit(errno == ENOENT ? 0 : 95);
}

static void exec_refused_child(void *arg)
{
	/* On the stack: the kernel refuses the file before it reads argv, and BPF can
	 * only read pages already present (a literal's page may never have been). */
	char name[] = "not-executable";
	char *const argv[] = { name, NULL };

	execve(arg, argv, argv + 1);
	_exit(errno == EACCES ? 0 : 95);
}

static void test_exec_failed(void **state)
{
	const struct st_record *r;
	pid_t pid;

	(void)state;
	pid = run_child(exec_missing_child, "/nonexistent-sealtrail/prog");
	r = await_record(ST_EXEC, pid, NULL, NULL);
	assert_non_null(r);
	assert_int_equal(r->syscall, ST_SYS_EXECVE);
	assert_int_equal(r->ret, -ENOENT);
	assert_int_equal(r->arg[0], 2);
	assert_path(r, ST_S_EXE, "/nonexistent-sealtrail/prog", ST_STR_JOINED);
	assert_str(r, ST_S_ARGV, "prog\0x y", 8, 0);
	assert_path(r, ST_S_CWD, H.dir, 0);
	assert_path(r, ST_S_FILENAME, "/nonexistent-sealtrail/prog", ST_STR_RAW);

	/* A relative name is joined to the cwd. */
	pid = run_child(exec_missing_child, "missing-prog");
	r = await_record(ST_EXEC, pid, NULL, NULL);
	assert_non_null(r);
	assert_int_equal(r->ret, -ENOENT);
	assert_path(r, ST_S_EXE, tpath("missing-prog"), ST_STR_JOINED);
	assert_path(r, ST_S_FILENAME, "missing-prog", ST_STR_RAW);
}

/* With quiet_exec_enoent, PATH misses (ENOENT) leave no record, but a real refusal
 * (EACCES on a file that is not executable) still does. */
static void test_exec_failed_quiet(void **state)
{
	struct capture_filters quiet = { .quiet_exec_enoent = true };
	uint64_t before[ST_LOSS_SLOTS], after[ST_LOSS_SLOTS];
	const struct st_record *r;
	pid_t missing, refused;
	size_t i;
	int fd;

	(void)state;
	assert_int_equal(capture_set_filters(H.cap, &quiet), 0);
	assert_int_equal(capture_read_losses(H.cap, before), 0);
	fd = open(tpath("not-executable"), O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	close(fd);
	missing = run_child(exec_missing_child, "/nonexistent-sealtrail/prog");
	refused = run_child(exec_refused_child, (void *)tpath("not-executable"));
	r = await_record(ST_EXEC, refused, NULL, NULL);
	assert_non_null(r);
	assert_int_equal(r->ret, -EACCES);
	assert_str(r, ST_S_ARGV, "not-executable", 14, 0);
	await_marker("after-quiet");
	assert_int_equal(count_records(ST_EXEC, missing, NULL, NULL), 0);
	/* Dropped on purpose, not lost: no loss counter moved. */
	assert_int_equal(capture_read_losses(H.cap, after), 0);
	for (i = 0; i < ST_LOSS_SLOTS; i++)
		if (after[i] != before[i])
			fail_msg("loss slot %zu (cause %zu, type %zu) moved", i, i / ST_TYPE_MAX,
				 i % ST_TYPE_MAX);
	{
		struct capture_filters none = { 0 };

		assert_int_equal(capture_set_filters(H.cap, &none), 0);
	}
}

static void exec_memfd_child(void *arg)
{
	char *const argv[] = { "memfd-true", NULL };
	int src, fd;
	struct stat st;

	(void)arg;
	fd = memfd_create("st-memfd", 0);
	src = open("/bin/true", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || src < 0 || fstat(src, &st))
		_exit(96);
	if (sendfile(fd, src, NULL, st.st_size) != st.st_size)
		_exit(95);
	fexecve(fd, argv, argv + 1);
	_exit(94);
}

/* A file unlinked before it is executed (through its fd): fileless, not a memfd. */
static void exec_deleted_child(void *arg)
{
	char *const argv[] = { "deleted-true", NULL };
	int src, dst, fd;
	struct stat st;

	src = open("/bin/true", O_RDONLY | O_CLOEXEC);
	dst = open(arg, O_CREAT | O_WRONLY | O_CLOEXEC, 0700);
	if (src < 0 || dst < 0 || fstat(src, &st))
		_exit(97);
	if (sendfile(dst, src, NULL, st.st_size) != st.st_size)
		_exit(96);
	close(dst);
	fd = open(arg, O_RDONLY);
	if (fd < 0 || unlink(arg))
		_exit(95);
	syscall(SYS_execveat, fd, "", argv, argv + 1, AT_EMPTY_PATH);
	_exit(94);
}

static void test_exec_deleted(void **state)
{
	char path[PATH_MAX];
	const struct st_record *r;
	pid_t pid;

	(void)state;
	snprintf(path, sizeof(path), "%s", tpath("deleted-true"));
	pid = run_child(exec_deleted_child, path);
	r = await_record(ST_EXEC, pid, NULL, NULL);
	assert_non_null(r);
	assert_int_equal(r->ret, 0);
	assert_int_equal(r->flags, ST_F_EXEC_FILELESS);
	assert_path(r, ST_S_EXE, path, ST_STR_DELETED);
}

static void test_exec_memfd(void **state)
{
	const char want[] = "/memfd:st-memfd";
	const struct st_record *r;
	const char *exe;
	size_t len;
	pid_t pid;

	(void)state;
	pid = run_child(exec_memfd_child, NULL);
	r = await_record(ST_EXEC, pid, NULL, NULL);
	assert_non_null(r);
	assert_int_equal(r->ret, 0);
	assert_int_equal(r->syscall, ST_SYS_EXECVEAT);
	assert_int_equal(r->arg[2], AT_EMPTY_PATH);
	assert_int_equal(r->flags, ST_F_EXEC_FILELESS | ST_F_EXEC_MEMFD);
	/* The memfd's name on the internal shmem mount: not a path of the namespace. */
	exe = rec_str(r, ST_S_EXE, &len);
	assert_true(len >= sizeof(want) - 1);
	assert_memory_equal(exe, want, sizeof(want) - 1);
	assert_true(r->str[ST_S_EXE].flags & ST_STR_DISCONNECTED);
	assert_str(r, ST_S_ARGV, "memfd-true", 10, 0);
}

/* ---- fork, exit -------------------------------------------------------------------- */

static void fork_child(void *arg)
{
	pid_t pid = fork();

	(void)arg;
	if (pid == 0)
		_exit(3);
	if (pid < 0 || reap(pid) < 0)
		_exit(96);
}

static void test_fork(void **state)
{
	const struct st_record *r, *x;
	pid_t pid, child;

	(void)state;
	pid = run_child(fork_child, NULL);
	r = await_record(ST_FORK, pid, NULL, NULL);
	assert_non_null(r);
	child = (pid_t)r->arg[0];
	assert_true(child > 0 && child != pid);
	assert_int_equal(r->ret, child);
	assert_int_equal(r->syscall, ST_SYS_CLONE);	/* glibc's fork() */
	assert_int_equal(r->arg[2], 0);
	/* The child's own exit names the same process: pid and start time. */
	x = await_record(ST_EXIT, child, NULL, NULL);
	assert_non_null(x);
	assert_int_equal(x->task.start_ns, r->arg[1]);
	assert_int_equal(x->task.ppid, pid);
	assert_int_equal(x->task.parent_start_ns, r->task.start_ns);
	assert_int_equal(x->arg[0], 3 << 8);
}

static void exit7_child(void *arg)
{
	(void)arg;
	_exit(7);
}

static void *thread_exits(void *arg)
{
	return arg;
}

static void threads_child(void *arg)
{
	pthread_t t;

	(void)arg;
	if (pthread_create(&t, NULL, thread_exits, NULL) || pthread_join(t, NULL))
		_exit(96);
	_exit(5);
}

static void pause_child(void *arg)
{
	(void)arg;
	for (;;)
		pause();
}

static void test_exit(void **state)
{
	const struct st_record *r;
	int status, cue = -1;
	pid_t pid;

	(void)state;
	pid = spawn(exit7_child, NULL);
	status = reap(pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 7);
	r = await_record(ST_EXIT, pid, NULL, NULL);
	assert_non_null(r);
	assert_int_equal(r->arg[0], 7 << 8);
	assert_int_equal(r->flags, 0);
	assert_int_equal(r->syscall, ST_SYS_NONE);

	/* Killed: the signal is in the status word, and flagged. */
	pid = spawn_held(pause_child, NULL, &cue);
	release(cue);
	assert_int_equal(kill(pid, SIGKILL), 0);
	status = reap(pid);
	assert_true(WIFSIGNALED(status));
	r = await_record(ST_EXIT, pid, NULL, NULL);
	assert_non_null(r);
	assert_int_equal(r->arg[0], SIGKILL);
	assert_int_equal(r->flags, ST_F_EXIT_SIGNALED);

	/* A thread's exit is not the process's: one record, when the last one goes. */
	pid = spawn(threads_child, NULL);
	reap(pid);
	r = await_record(ST_EXIT, pid, NULL, NULL);
	assert_non_null(r);
	assert_int_equal(r->arg[0], 5 << 8);
	await_marker("exit-marker");
	assert_int_equal(count_records(ST_EXIT, pid, NULL, NULL), 1);
}

static void *thread_spins(void *arg)
{
	for (;;)
		sched_yield();
	return arg;
}

/* Threads on every CPU, then exit_group: the kernel kills them all at once, and they
 * die together, on different CPUs. */
static void group_child(void *arg)
{
	pthread_t t;
	int i;

	(void)arg;
	for (i = 0; i < 4; i++)
		if (pthread_create(&t, NULL, thread_spins, NULL))
			_exit(96);
	sched_yield();
	_exit(3);
}

/* The threads of a process that die together report the process's exit once: the last
 * two can both see no thread left alive (signal->live read after both decrements). */
static void test_exit_once_when_threads_die_together(void **state)
{
	pid_t pids[50];	/* the harness watches up to 64 pids at a time */
	size_t i, round, twice = 0, n = sizeof(pids) / sizeof(pids[0]);

	(void)state;
	for (round = 0; round < 4; round++) {
		harness_reset();
		for (i = 0; i < n; i++) {
			pids[i] = spawn(group_child, NULL);
			assert_true(pids[i] > 0);
			reap(pids[i]);
		}
		await_marker("group-marker");
		for (i = 0; i < n; i++) {
			assert_non_null(await_record(ST_EXIT, pids[i], NULL, NULL));
			if (count_records(ST_EXIT, pids[i], NULL, NULL) != 1)
				twice++;
		}
	}
	print_message("# processes with more than one exit record: %zu of %zu\n", twice, 4 * n);
	assert_int_equal(twice, 0);
}

/* ---- credentials ------------------------------------------------------------------- */

static void cred_child(void *arg)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	gid_t groups[1] = { 1234 };

	(void)arg;
	if (setgroups(1, groups) || setresgid(2001, 2002, 2003) || setregid(3001, 3002) ||
	    setgid(4000))
		_exit(90);
	setfsgid(4001);
	if (syscall(SYS_capget, &hdr, data))
		_exit(91);
	data[0].effective &= ~(1u << CAP_NET_RAW);
	if (syscall(SYS_capset, &hdr, data))
		_exit(92);
	setfsuid(5001);
	if (setresuid(1000, 1001, 1002))
		_exit(93);
	if (setreuid(1002, -1) == 0 || errno != EPERM)	/* 1002 is only the saved uid */
		_exit(94);
	if (setuid(1000))
		_exit(95);
}

static bool syscall_is(const struct st_record *rec, const void *arg)
{
	return rec->syscall == *(const __u16 *)arg;
}

static const struct st_record *await_cred(pid_t pid, __u16 sys)
{
	const struct st_record *r = await_record(ST_CRED, pid, syscall_is, &sys);

	if (!r)
		fail_msg("no record for cred syscall %u", sys);
	return r;
}

#define OLD(hi, lo) ((__u64)(hi) << 32 | (lo))

static void test_cred(void **state)
{
	const struct st_record *r;
	pid_t pid;

	(void)state;
	pid = run_child(cred_child, NULL);

	r = await_cred(pid, ST_SYS_SETGROUPS);
	assert_int_equal(r->ret, 0);
	assert_int_equal(r->arg[0], 1);

	r = await_cred(pid, ST_SYS_SETRESGID);
	assert_int_equal(r->ret, 0);
	assert_int_equal(r->arg[0], 2001);
	assert_int_equal(r->arg[1], 2002);
	assert_int_equal(r->arg[2], 2003);
	assert_int_equal(r->arg[5], OLD(0, 0));
	assert_int_equal(r->arg[6], OLD(0, 0));
	assert_int_equal(r->task.gid, 2001);
	assert_int_equal(r->task.egid, 2002);
	assert_int_equal(r->task.sgid, 2003);
	assert_int_equal(r->task.fsgid, 2002);

	r = await_cred(pid, ST_SYS_SETREGID);
	assert_int_equal(r->arg[0], 3001);
	assert_int_equal(r->arg[1], 3002);
	assert_int_equal(r->arg[5], OLD(2001, 2002));
	assert_int_equal(r->arg[6], OLD(2003, 2002));
	assert_int_equal(r->task.gid, 3001);
	assert_int_equal(r->task.egid, 3002);

	r = await_cred(pid, ST_SYS_SETGID);
	assert_int_equal(r->arg[0], 4000);
	assert_int_equal(r->task.gid, 4000);
	assert_int_equal(r->task.egid, 4000);
	assert_int_equal(r->task.sgid, 4000);

	r = await_cred(pid, ST_SYS_SETFSGID);
	assert_int_equal(r->ret, 4000);	/* setfsgid returns the old value */
	assert_int_equal(r->arg[0], 4001);
	assert_int_equal(r->task.fsgid, 4001);

	r = await_cred(pid, ST_SYS_CAPSET);
	assert_int_equal(r->ret, 0);
	assert_true(r->arg[0] & (1ull << CAP_NET_RAW));
	assert_false(r->arg[3] & (1ull << CAP_NET_RAW));
	assert_int_equal(r->arg[0] & ~(1ull << CAP_NET_RAW), r->arg[3]);
	assert_int_equal(r->arg[1], r->arg[4]);	/* permitted unchanged */

	r = await_cred(pid, ST_SYS_SETFSUID);
	assert_int_equal(r->ret, 0);
	assert_int_equal(r->task.fsuid, 5001);

	r = await_cred(pid, ST_SYS_SETRESUID);
	assert_int_equal(r->ret, 0);
	assert_int_equal(r->arg[0], 1000);
	assert_int_equal(r->arg[1], 1001);
	assert_int_equal(r->arg[2], 1002);
	assert_int_equal(r->arg[3], OLD(0, 0));
	assert_int_equal(r->arg[4], OLD(0, 5001));
	assert_int_equal(r->task.uid, 1000);
	assert_int_equal(r->task.euid, 1001);
	assert_int_equal(r->task.suid, 1002);
	assert_int_equal(r->task.fsuid, 1001);

	r = await_cred(pid, ST_SYS_SETREUID);
	assert_int_equal(r->ret, -EPERM);
	assert_int_equal(r->arg[0], 1002);
	assert_int_equal(r->arg[1], 0xffffffff);
	assert_int_equal(r->task.uid, 1000);	/* unchanged */

	r = await_cred(pid, ST_SYS_SETUID);
	assert_int_equal(r->ret, 0);
	assert_int_equal(r->arg[0], 1000);
	assert_int_equal(r->arg[3], OLD(1000, 1001));
	assert_int_equal(r->task.euid, 1000);
}

/* ---- ptrace ------------------------------------------------------------------------ */

static void ptrace_child(void *arg)
{
	pid_t target = fork();
	long word;
	int status;

	(void)arg;
	if (target == 0)
		pause_child(NULL);
	if (ptrace(PTRACE_ATTACH, target, 0, 0))
		_exit(90);
	if (waitpid(target, &status, 0) != target)
		_exit(91);
	errno = 0;
	word = ptrace(PTRACE_PEEKDATA, target, (void *)&word, 0);	/* not recorded */
	if (errno)
		_exit(92);
	if (ptrace(PTRACE_DETACH, target, 0, 0))
		_exit(93);
	kill(target, SIGKILL);
	reap(target);
}

static void ptrace_denied_child(void *arg)
{
	(void)arg;
	if (setresuid(65534, 65534, 65534))
		_exit(90);
	if (ptrace(PTRACE_ATTACH, 1, 0, 0) == 0 || errno != EPERM)
		_exit(91);
}

static bool request_is(const struct st_record *rec, const void *arg)
{
	return (long)rec->arg[0] == *(const long *)arg;
}

static void test_ptrace(void **state)
{
	const struct st_record *r, *fork_rec;
	long attach = PTRACE_ATTACH, detach = PTRACE_DETACH, peek = PTRACE_PEEKDATA;
	pid_t pid, target;

	(void)state;
	pid = run_child(ptrace_child, NULL);
	fork_rec = await_record(ST_FORK, pid, NULL, NULL);
	assert_non_null(fork_rec);
	target = (pid_t)fork_rec->arg[0];
	r = await_record(ST_PTRACE, pid, request_is, &attach);
	assert_non_null(r);
	assert_int_equal(r->syscall, ST_SYS_PTRACE);
	assert_int_equal(r->ret, 0);
	assert_int_equal(r->arg[1], target);
	r = await_record(ST_PTRACE, pid, request_is, &detach);
	assert_non_null(r);
	assert_int_equal(r->ret, 0);
	assert_int_equal(r->arg[1], target);
	assert_int_equal(count_records(ST_PTRACE, pid, request_is, &peek), 0);

	pid = run_child(ptrace_denied_child, NULL);
	r = await_record(ST_PTRACE, pid, request_is, &attach);
	assert_non_null(r);
	assert_int_equal(r->ret, -EPERM);
	assert_int_equal(r->arg[1], 1);
	assert_int_equal(r->task.euid, 65534);
}

/* ---- bpf, mount, modules ----------------------------------------------------------- */

static void bpf_load_child(void *arg)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr attr;
	long fd;

	(void)arg;
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	attr.insn_cnt = 2;
	attr.insns = (__u64)(unsigned long)insns;
	attr.license = (__u64)(unsigned long)"GPL";
	strcpy(attr.prog_name, "st_filter");
	fd = syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	if (fd < 0)
		_exit(90);
	close(fd);
}

static void test_bpf_prog_load(void **state)
{
	const struct st_record *r;
	pid_t pid;

	(void)state;
	pid = run_child(bpf_load_child, NULL);
	r = await_record(ST_BPF, pid, NULL, NULL);
	assert_non_null(r);
	assert_int_equal(r->syscall, ST_SYS_BPF);
	assert_true(r->ret >= 3);
	assert_int_equal(r->arg[0], BPF_PROG_LOAD);
	assert_int_equal(r->arg[1], BPF_PROG_TYPE_SOCKET_FILTER);
	assert_int_equal(r->arg[2], 2);
	assert_str(r, ST_S_NAME, "st_filter", 9, 0);
}

/* In a mount namespace of its own, so a failed test leaves nothing mounted. */
static void mount_child(void *arg)
{
	(void)arg;
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		_exit(90);
	if (chdir(H.dir) || mkdir("mnt", 0755))
		_exit(91);
	if (mount("st-src", "mnt", "tmpfs", MS_NOSUID, "size=1m"))
		_exit(92);
	close(open("mnt/inside", O_CREAT | O_WRONLY, 0600));	/* across the mount point */
	if (umount2("mnt", MNT_DETACH))
		_exit(93);
}

static bool mount_fstype_is(const struct st_record *rec, const void *arg)
{
	size_t len;
	const char *p = rec_str(rec, ST_S_NAME, &len);

	return len == strlen(arg) && !memcmp(p, arg, len);
}

static void test_mount(void **state)
{
	struct stat st;
	const struct st_record *r;
	pid_t pid;

	(void)state;
	pid = run_child(mount_child, NULL);
	assert_int_equal(stat("/proc/self/ns/mnt", &st), 0);
	r = await_record(ST_MOUNT, pid, mount_fstype_is, "tmpfs");
	assert_non_null(r);
	assert_int_equal(r->syscall, ST_SYS_MOUNT);
	assert_int_equal(r->ret, 0);
	assert_int_equal(r->arg[0], MS_NOSUID);
	assert_path(r, ST_S_PATH, tpath("mnt"), ST_STR_JOINED);
	assert_str(r, ST_S_NAME, "tmpfs", 5, 0);
	assert_str(r, ST_S_EXTRA, "st-src", 6, ST_STR_RAW);
	assert_int_not_equal(r->task.mntns, st.st_ino);	/* the child's own namespace */
	r = await_record(ST_OPEN, pid, NULL, NULL);
	assert_non_null(r);
	assert_path(r, ST_S_PATH, tpath("mnt/inside"), 0);
	r = await_record(ST_UMOUNT, pid, NULL, NULL);
	assert_non_null(r);
	assert_int_equal(r->syscall, ST_SYS_UMOUNT2);
	assert_int_equal(r->ret, 0);
	assert_int_equal(r->arg[0], MNT_DETACH);
	assert_path(r, ST_S_PATH, tpath("mnt"), ST_STR_JOINED);
}

static void module_child(void *arg)
{
	int fd = open("/dev/null", O_RDONLY);

	(void)arg;
	syscall(SYS_finit_module, fd, "st=1", 0);
	syscall(SYS_delete_module, "sealtrail_none", O_NONBLOCK);
}

/* Recorded with or without CONFIG_MODULES: without it the calls fail with ENOSYS (there is
 * no /proc/modules then), and an attempt to load a module is worth knowing all the same. */
static void test_module(void **state)
{
	const struct capture_program_info *p;
	const struct st_record *r;
	__u16 sys = ST_SYS_FINIT_MODULE;
	bool modules = access("/proc/modules", F_OK) == 0;
	pid_t pid;

	(void)state;
	p = program("sys_exit__finit_module");
	assert_non_null(p);
	assert_true(p->attached);
	print_message("# kernel %s CONFIG_MODULES\n", modules ? "with" : "without");
	pid = run_child(module_child, NULL);
	r = await_record(ST_MODULE, pid, syscall_is, &sys);
	assert_non_null(r);
	assert_true(r->ret < 0);
	assert_path(r, ST_S_PATH, "/dev/null", 0);
	assert_str(r, ST_S_NAME, "st=1", 4, 0);
	sys = ST_SYS_DELETE_MODULE;
	r = await_record(ST_MODULE, pid, syscall_is, &sys);
	assert_non_null(r);
	assert_int_equal(r->ret, modules ? -ENOENT : -ENOSYS);
	assert_str(r, ST_S_NAME, "sealtrail_none", 14, 0);
	assert_int_equal(r->arg[1], O_NONBLOCK);
}

/* ---- the agent itself -------------------------------------------------------------- */

static void kill_child(void *arg)
{
	if (kill(*(pid_t *)arg, SIGUSR1))
		_exit(90);
}

/* A signal sent to the agent's process is recorded with its sender. The "agent" is a
 * sleeping child here, which ignores SIGUSR1 (inherited: no race with the sender). */
static void test_signal_to_agent(void **state)
{
	const struct st_record *r;
	pid_t agent, sender;
	int cue = -1;

	(void)state;
	signal(SIGUSR1, SIG_IGN);
	agent = spawn_held(pause_child, NULL, &cue);
	signal(SIGUSR1, SIG_DFL);
	release(cue);
	assert_int_equal(capture_set_agent_pid(H.cap, agent), 0);
	sender = run_child(kill_child, &agent);
	r = await_record(ST_SIGNAL, sender, NULL, NULL);
	assert_int_equal(capture_set_agent_pid(H.cap, 0), 0);
	kill(agent, SIGKILL);
	reap(agent);
	assert_non_null(r);
	assert_int_equal(r->arg[0], SIGUSR1);
	assert_int_equal(r->arg[1], agent);
	assert_int_equal(r->arg[2], 1);	/* TRACE_SIGNAL_IGNORED */
	assert_int_equal(r->task.pid, sender);
	assert_int_equal(r->size, sizeof(*r));
}

static void busy_child(void *arg)
{
	char *const argv[] = { "true", NULL };
	int fd;

	(void)arg;
	fd = open(tpath("self-excluded"), O_CREAT | O_WRONLY, 0600);
	if (fd < 0)
		_exit(90);
	close(fd);
	if (setgid(0))
		_exit(91);
	execve("/bin/true", argv, argv + 1);
	_exit(92);
}

/* The agent's own tgid generates nothing, and the setting changes without a reload. */
static void test_self_exclusion(void **state)
{
	int cue = -1, status;
	pid_t pid;

	(void)state;
	pid = spawn_held(busy_child, NULL, &cue);
	assert_int_equal(capture_set_agent_pid(H.cap, pid), 0);
	release(cue);
	status = reap(pid);
	assert_int_equal(capture_set_agent_pid(H.cap, 0), 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	await_marker("self-marker");
	assert_int_equal(count_records(ST_OPEN, pid, NULL, NULL), 0);
	assert_int_equal(count_records(ST_CRED, pid, NULL, NULL), 0);
	assert_int_equal(count_records(ST_EXEC, pid, NULL, NULL), 0);
	assert_int_equal(count_records(ST_EXIT, pid, NULL, NULL), 0);
}

#ifdef __x86_64__
/* ia32 swapon(NULL, 0) through int 0x80: 87 is unlink in the x86-64 table; ia32
 * getitimer(0, NULL): 105 is setuid, which has an enter handler; ia32
 * remap_file_pages(0, 0, ...): 257 is openat, whose handler the dispatcher calls before
 * its own compat test (hot_exit_nr), so that the handler makes it. */
static void compat_child(void *arg)
{
	long ret, ret2, ret3;

	(void)arg;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(87L), "b"(0L), "c"(0L) : "memory");
	__asm__ volatile("int $0x80" : "=a"(ret2) : "a"(105L), "b"(0L), "c"(0L) : "memory");
	__asm__ volatile("int $0x80" : "=a"(ret3) : "a"(257L), "b"(0L), "c"(0L), "d"(0L),
			 "S"(0L), "D"(0L) : "memory");
	_exit(ret == -EFAULT && ret2 == -EFAULT && ret3 == -EINVAL ? 0 : 90);
}
#endif

/* A 32-bit call is not taken for the native call of the same number: it is skipped and
 * counted (the kernel here must have CONFIG_IA32_EMULATION). */
static void test_compat_skipped(void **state)
{
#ifdef __x86_64__
	uint64_t before, after;
	pid_t pid;

	(void)state;
	assert_int_equal(capture_read_compat_calls(H.cap, &before), 0);
	pid = run_child(compat_child, NULL);
	await_marker("compat-marker");
	assert_int_equal(capture_read_compat_calls(H.cap, &after), 0);
	print_message("# compat calls skipped: %llu\n", (unsigned long long)(after - before));
	assert_true(after - before >= 3);
	assert_int_equal(count_records(ST_UNLINK, pid, NULL, NULL), 0);
	assert_int_equal(count_records(ST_OPEN, pid, NULL, NULL), 0);
	assert_int_equal(count_records(ST_RMDIR, pid, NULL, NULL), 0);
	assert_int_equal(count_records(ST_CRED, pid, NULL, NULL), 0);
#else
	(void)state;
	skip();
#endif
}

/* No record failed validation, and the counters for lost events stayed at zero. */
static void test_no_losses(void **state)
{
	uint64_t losses[ST_LOSS_SLOTS], misses;
	int cause, type;

	(void)state;
	assert_int_equal(capture_read_losses(H.cap, losses), 0);
	for (cause = 0; cause < ST_LOSS_CAUSE_MAX; cause++) {
		for (type = 0; type < ST_TYPE_MAX; type++) {
			uint64_t n = losses[cause * ST_TYPE_MAX + type];

			if (n)
				print_message("# losses[cause %d][type %d] = %llu\n", cause, type,
					      (unsigned long long)n);
		}
	}
	for (type = 0; type < ST_TYPE_MAX; type++) {
		assert_int_equal(losses[ST_LOSS_RINGBUF_FULL * ST_TYPE_MAX + type], 0);
		assert_int_equal(losses[ST_LOSS_INFLIGHT_FULL * ST_TYPE_MAX + type], 0);
		assert_int_equal(losses[ST_LOSS_TOO_LARGE * ST_TYPE_MAX + type], 0);
	}
	assert_int_equal(capture_invalid_records(H.cap), 0);
	assert_int_equal(capture_read_prog_misses(H.cap, &misses), 0);
	print_message("# recursion misses: %llu\n", (unsigned long long)misses);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_programs_attached, test_setup),
		cmocka_unit_test_setup(test_exec, test_setup),
		cmocka_unit_test_setup(test_exec_failed, test_setup),
		cmocka_unit_test_setup(test_exec_failed_quiet, test_setup),
		cmocka_unit_test_setup(test_exec_memfd, test_setup),
		cmocka_unit_test_setup(test_exec_deleted, test_setup),
		cmocka_unit_test_setup(test_fork, test_setup),
		cmocka_unit_test_setup(test_exit, test_setup),
		cmocka_unit_test_setup(test_exit_once_when_threads_die_together, test_setup),
		cmocka_unit_test_setup(test_cred, test_setup),
		cmocka_unit_test_setup(test_ptrace, test_setup),
		cmocka_unit_test_setup(test_bpf_prog_load, test_setup),
		cmocka_unit_test_setup(test_mount, test_setup),
		cmocka_unit_test_setup(test_module, test_setup),
		cmocka_unit_test_setup(test_signal_to_agent, test_setup),
		cmocka_unit_test_setup(test_self_exclusion, test_setup),
		cmocka_unit_test_setup(test_compat_skipped, test_setup),
		cmocka_unit_test_setup(test_no_losses, test_setup),
	};

	return cmocka_run_group_tests_name("capture_process", tests, group_setup, group_teardown);
}
