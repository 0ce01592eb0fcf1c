/* test_capture_file: the file events of the capture, for real, as root, in a scratch
 * directory on ext4: opens for writing, sensitive reads, the name calls (unlink, rename,
 * mkdir, link, symlink), attribute calls (chmod, chown, truncate, xattrs, chattr), their
 * failures, path flags, and the filters (path rules, comms, uids). Syscalls are made
 * with syscall(2) where libc might pick another one. */
#include <linux/filter.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <sys/xattr.h>
#include "capture_harness.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452	/* Linux 6.6; older libc headers lack it */
#endif

static int group_setup(void **state)
{
	(void)state;
	return harness_open(0);
}

static char cgroup_dir[PATH_MAX];	/* test_ignore_cgroups' cgroup, if it made one */

static int group_teardown(void **state)
{
	(void)state;
	if (cgroup_dir[0])
		rmdir(cgroup_dir);	/* gone already unless that test failed midway */
	harness_close();
	return 0;
}

static int test_setup(void **state)
{
	struct capture_filters none = { 0 };

	(void)state;
	harness_reset();
	return capture_set_filters(H.cap, &none);
}

#define AT_FDCWD_U64 ((__u64)(__s64)AT_FDCWD)

static bool syscall_is(const struct st_record *rec, const void *arg)
{
	return rec->syscall == *(const __u16 *)arg;
}

/* The record of `type` made by `sys` in pid, or a failed test. */
static const struct st_record *await_sys(__u16 type, pid_t pid, __u16 sys)
{
	const struct st_record *r = await_record(type, pid, syscall_is, &sys);

	if (!r)
		fail_msg("no record of type %u for syscall %u", type, sys);
	return r;
}

static int must_open(const char *path, int flags)
{
	int fd = open(path, flags, 0600);

	if (fd < 0)
		_exit(80);
	return fd;
}

static void make_file(const char *path)
{
	close(must_open(path, O_CREAT | O_WRONLY | O_TRUNC));
}

/* ---- open -------------------------------------------------------------------------- */

static const char weird[] = "we\nird \"q\" \xff";

static void open_child(void *arg)
{
	struct open_how how = { .flags = O_CREAT | O_RDWR, .mode = 0604 };
	int dfd;

	(void)arg;
	if (syscall(SYS_openat, AT_FDCWD, tpath("created"), O_CREAT | O_WRONLY | O_EXCL, 0640) < 0)
		_exit(90);
	dfd = open(tpath("sub"), O_DIRECTORY | O_RDONLY);
	if (dfd < 0 || syscall(SYS_openat, dfd, "rel", O_CREAT | O_WRONLY, 0600) < 0)
		_exit(91);
	if (syscall(SYS_openat, AT_FDCWD, tpath(weird), O_CREAT | O_WRONLY, 0600) < 0)
		_exit(92);
	if (syscall(SYS_open, tpath("legacy"), O_WRONLY | O_CREAT | O_TRUNC, 0600) < 0)
		_exit(93);
	if (syscall(SYS_creat, tpath("creat"), 0640) < 0)
		_exit(94);
	if (syscall(SYS_openat2, AT_FDCWD, tpath("two"), &how, sizeof(how)) < 0)
		_exit(95);
	/* On another mount (devtmpfs): resolved across the mount point. */
	if (syscall(SYS_openat, AT_FDCWD, "/dev/null", O_WRONLY) < 0)
		_exit(89);
	/* Read-only: not recorded (nothing is sensitive here). */
	if (syscall(SYS_openat, AT_FDCWD, tpath("created"), O_RDONLY) < 0)
		_exit(96);
	/* Failures: a name joined to cwd, and an absolute one. */
	if (chdir(H.dir) ||
	    syscall(SYS_openat, AT_FDCWD, "missing/x", O_CREAT | O_WRONLY, 0600) >= 0)
		_exit(97);
	if (syscall(SYS_openat, AT_FDCWD, tpath("missing/y"), O_TRUNC | O_RDONLY) >= 0)
		_exit(98);
}

static void test_open(void **state)
{
	char path[PATH_MAX + 16];
	const struct st_record *r;
	pid_t pid;

	(void)state;
	assert_int_equal(mkdir(tpath("sub"), 0755), 0);
	pid = run_child(open_child, NULL);

	r = await_record(ST_OPEN, pid, path_is, tpath("created"));
	assert_non_null(r);
	assert_int_equal(r->syscall, ST_SYS_OPENAT);
	assert_true(r->ret >= 3);
	assert_int_equal(r->arg[0], O_CREAT | O_WRONLY | O_EXCL);
	assert_int_equal(r->arg[1], 0640);
	assert_int_equal(r->arg[2], AT_FDCWD_U64);
	assert_int_equal(r->str[ST_S_PATH].flags, 0);
	assert_int_equal(r->flags, 0);

	r = await_record(ST_OPEN, pid, path_is, tpath("sub/rel"));
	assert_non_null(r);
	assert_int_equal(r->arg[0], O_CREAT | O_WRONLY);
	assert_true(r->arg[2] >= 3 && r->arg[2] < 1024);	/* the dirfd */
	assert_int_equal(r->str[ST_S_PATH].flags, 0);

	/* File names are bytes: newline, quotes and 0xff come back unchanged. */
	r = await_record(ST_OPEN, pid, path_is, tpath(weird));
	assert_non_null(r);
	assert_path(r, ST_S_PATH, tpath(weird), 0);

	r = await_sys(ST_OPEN, pid, ST_SYS_OPEN);
	assert_path(r, ST_S_PATH, tpath("legacy"), 0);
	assert_int_equal(r->arg[0], O_WRONLY | O_CREAT | O_TRUNC);
	r = await_sys(ST_OPEN, pid, ST_SYS_CREAT);
	assert_path(r, ST_S_PATH, tpath("creat"), 0);
	assert_int_equal(r->arg[0], O_CREAT | O_WRONLY | O_TRUNC);
	assert_int_equal(r->arg[1], 0640);
	r = await_sys(ST_OPEN, pid, ST_SYS_OPENAT2);
	assert_path(r, ST_S_PATH, tpath("two"), 0);
	assert_int_equal(r->arg[0], O_CREAT | O_RDWR);
	assert_int_equal(r->arg[1], 0604);

	snprintf(path, sizeof(path), "%s/missing/x", H.dir);
	r = await_record(ST_OPEN, pid, path_is, path);
	assert_non_null(r);
	assert_int_equal(r->ret, -ENOENT);
	assert_path(r, ST_S_PATH, path, ST_STR_JOINED);
	r = await_record(ST_OPEN, pid, path_is, tpath("missing/y"));
	assert_non_null(r);
	assert_int_equal(r->ret, -ENOENT);
	assert_int_equal(r->arg[0], O_TRUNC | O_RDONLY);
	assert_path(r, ST_S_PATH, tpath("missing/y"), ST_STR_JOINED);

	r = await_record(ST_OPEN, pid, path_is, "/dev/null");
	assert_non_null(r);
	assert_int_equal(r->str[ST_S_PATH].flags, 0);

	/* Exactly the write opens: the read-only one left nothing. */
	assert_int_equal(count_records(ST_OPEN, pid, NULL, NULL), 9);
}

/* Component lengths around the 40 bytes a dentry keeps its name in (path.bpf.h copies
 * those names in words, longer ones with a helper), and a long name renamed short. */
static const int name_lengths[] = { 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 38, 39, 40, 41, 64 };

/* The directory path; create: make each directory (in the child). */
static void name_lengths_path(char *out, size_t size, bool create)
{
	size_t i, off;

	off = (size_t)snprintf(out, size, "%s", tpath("lengths"));
	if (create && mkdir(out, 0755))
		_exit(90);
	for (i = 0; i < sizeof(name_lengths) / sizeof(name_lengths[0]); i++) {
		out[off++] = '/';
		memset(out + off, 'a' + (int)i, (size_t)name_lengths[i]);
		off += (size_t)name_lengths[i];
		out[off] = 0;
		if (create && (off > size - 100 || mkdir(out, 0755)))
			_exit(90);
	}
}

static void name_lengths_child(void *arg)
{
	char path[PATH_MAX], from[PATH_MAX];

	name_lengths_path(path, sizeof(path), true);
	strcat(path, "/f");
	close(must_open(path, O_WRONLY | O_CREAT));
	snprintf(from, sizeof(from), "%s", tpath("a-name-of-fifty-bytes-that-the-dentry-keeps-apart"));
	close(must_open(from, O_WRONLY | O_CREAT));
	if (rename(from, tpath("short")))
		_exit(91);
	close(must_open(tpath("short"), O_WRONLY));
	(void)arg;
}

static void test_open_name_lengths(void **state)
{
	char path[PATH_MAX];
	const struct st_record *r;
	pid_t pid;

	(void)state;
	pid = run_child(name_lengths_child, NULL);
	name_lengths_path(path, sizeof(path), false);
	strcat(path, "/f");
	r = await_record(ST_OPEN, pid, path_is, path);
	assert_non_null(r);
	assert_path(r, ST_S_PATH, path, 0);
	r = await_record(ST_OPEN, pid, path_is, tpath("short"));
	assert_non_null(r);
	assert_path(r, ST_S_PATH, tpath("short"), 0);
}

/* A seccomp filter that fails every openat, unlinkat, mount and setresuid with EPERM
 * before the kernel runs it. */
static void seccomp_denied_child(void *arg)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_unlinkat, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mount, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_setresuid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(filter) / sizeof(filter[0]), .filter = filter };

	(void)arg;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		_exit(90);
	if (syscall(SYS_openat, AT_FDCWD, tpath("denied"), O_WRONLY | O_CREAT, 0600) >= 0 ||
	    errno != EPERM)
		_exit(91);
	if (syscall(SYS_unlinkat, AT_FDCWD, tpath("kept"), 0) == 0 || errno != EPERM)
		_exit(92);
	if (syscall(SYS_mount, "none", tpath("kept"), "tmpfs", 0, NULL) == 0 || errno != EPERM)
		_exit(93);
	if (syscall(SYS_setresuid, 4242, 4242, 4242) == 0 || errno != EPERM)
		_exit(94);
}

/* A call that seccomp refuses never reaches sys_enter, only sys_exit: a write open, an
 * unlink, a mount or a setresuid that a container's profile denies is still an attempt a
 * responder wants to see. */
static void test_denied_by_seccomp(void **state)
{
	const struct st_record *r;
	pid_t pid;

	(void)state;
	make_file(tpath("kept"));
	pid = run_child(seccomp_denied_child, NULL);
	r = await_record(ST_UNLINK, pid, path_is, tpath("kept"));
	assert_non_null(r);
	assert_int_equal(r->syscall, ST_SYS_UNLINKAT);
	assert_int_equal(r->ret, -EPERM);
	assert_int_equal(access(tpath("kept"), F_OK), 0);
	r = await_record(ST_MOUNT, pid, path_is, tpath("kept"));
	assert_non_null(r);
	assert_int_equal(r->ret, -EPERM);
	/* Refused, so nothing changed: the ids before are the ids after (root's). */
	r = await_record(ST_CRED, pid, NULL, NULL);
	assert_non_null(r);
	assert_int_equal(r->syscall, ST_SYS_SETRESUID);
	assert_int_equal(r->ret, -EPERM);
	assert_int_equal(r->arg[0], 4242);
	assert_int_equal(r->arg[3], 0);
	assert_int_equal(r->task.uid, 0);
	r = await_record(ST_OPEN, pid, path_is, tpath("denied"));
	assert_non_null(r);
	assert_int_equal(r->ret, -EPERM);
	assert_int_equal(r->arg[0], O_WRONLY | O_CREAT);
	assert_int_equal(r->arg[1], 0600);
	assert_path(r, ST_S_PATH, tpath("denied"), ST_STR_JOINED);
	assert_int_equal(access(tpath("denied"), F_OK), -1);
}

/* ---- sensitive reads --------------------------------------------------------------- */

static void sensitive_child(void *arg)
{
	char buf[8];
	int fd;

	(void)arg;
	fd = must_open(tpath("secret.key"), O_RDONLY);
	if (read(fd, buf, sizeof(buf)) < 0)
		_exit(90);
	close(fd);
	close(must_open(tpath("plain"), O_RDONLY));
	close(must_open(tpath("sdir/inner/f"), O_RDONLY));
	close(must_open(tpath("secret.key"), O_RDWR));
	if (open(tpath("secret.none"), O_RDONLY) >= 0)	/* failed reads: not recorded */
		_exit(91);
}

static void test_sensitive_read(void **state)
{
	char secret[PATH_MAX], plain[PATH_MAX], nested[PATH_MAX];
	const char *list[2] = { secret, nested };
	struct capture_filters f = { .sensitive_paths = list, .n_sensitive_paths = 2 };
	const struct st_record *r;
	__u16 sys = ST_SYS_OPENAT;
	pid_t pid;

	(void)state;
	snprintf(secret, sizeof(secret), "%s", tpath("secret"));	/* a name prefix */
	snprintf(nested, sizeof(nested), "%s", tpath("sdir/"));	/* a whole tree */
	snprintf(plain, sizeof(plain), "%s", tpath("plain"));
	assert_int_equal(mkdir(tpath("sdir"), 0755), 0);
	assert_int_equal(mkdir(tpath("sdir/inner"), 0755), 0);
	make_file(tpath("secret.key"));
	make_file(plain);
	make_file(tpath("sdir/inner/f"));
	assert_int_equal(capture_set_filters(H.cap, &f), 0);

	pid = run_child(sensitive_child, NULL);
	r = await_record(ST_OPEN, pid, path_is, tpath("secret.key"));
	assert_non_null(r);
	assert_int_equal(r->flags, ST_F_SENSITIVE);
	assert_int_equal(r->syscall, sys);
	assert_int_equal(r->arg[0] & O_ACCMODE, O_RDONLY);
	assert_int_equal(r->arg[2], AT_FDCWD_U64);
	assert_true(r->ret >= 3);
	assert_int_equal(r->str[ST_S_PATH].flags, 0);
	r = await_record(ST_OPEN, pid, path_is, tpath("sdir/inner/f"));
	assert_non_null(r);
	assert_int_equal(r->flags, ST_F_SENSITIVE);
	/* The write open of the same file: a record of its own, also sensitive. */
	await_marker("sensitive-marker");
	assert_int_equal(count_records(ST_OPEN, pid, path_is, tpath("secret.key")), 2);
	assert_int_equal(count_records(ST_OPEN, pid, path_is, plain), 0);
	assert_int_equal(count_records(ST_OPEN, pid, path_is, tpath("secret.none")), 0);
	assert_int_equal(count_records(ST_OPEN, pid, NULL, NULL), 3);
}

/* ---- names: unlink, rmdir, rename, mkdir, link, symlink ------------------------------ */

static void names_child(void *arg)
{
	int dfd = open(H.dir, O_DIRECTORY | O_RDONLY);

	(void)arg;
	if (dfd < 0 || chdir(H.dir))
		_exit(80);
	make_file("u1");
	make_file("u2");
	make_file("r1");
	make_file("l1");
	if (syscall(SYS_unlink, "u1") || syscall(SYS_unlinkat, dfd, "u2", 0))
		_exit(90);
	if (syscall(SYS_unlink, "u-missing") == 0 || errno != ENOENT)
		_exit(91);
	if (syscall(SYS_mkdir, "d1", 0750) || syscall(SYS_mkdirat, dfd, "d2", 0700))
		_exit(92);
	if (syscall(SYS_rmdir, "d1") || syscall(SYS_unlinkat, AT_FDCWD, "d2", AT_REMOVEDIR))
		_exit(93);
	if (syscall(SYS_rename, "r1", "r2") ||
	    syscall(SYS_renameat2, AT_FDCWD, "r2", dfd, "r3", RENAME_NOREPLACE) ||
	    syscall(SYS_renameat, dfd, "r3", AT_FDCWD, tpath("r4")))
		_exit(94);
	if (syscall(SYS_link, "l1", "l2") || syscall(SYS_linkat, dfd, "l1", dfd, "l3", 0))
		_exit(95);
	if (syscall(SYS_symlink, "../tar get\n", "s1") || syscall(SYS_symlinkat, "/abs", dfd, "s2"))
		_exit(96);
	if (syscall(SYS_unlinkat, 999, "no-base", 0) == 0 || errno != EBADF)	/* a bad dirfd */
		_exit(97);
}

static void test_names(void **state)
{
	const struct st_record *r;
	pid_t pid;

	(void)state;
	pid = run_child(names_child, NULL);

	r = await_sys(ST_UNLINK, pid, ST_SYS_UNLINK);
	assert_int_equal(r->ret, 0);
	assert_path(r, ST_S_PATH, tpath("u1"), ST_STR_JOINED);
	assert_int_equal(r->arg[0], AT_FDCWD_U64);
	r = await_sys(ST_UNLINK, pid, ST_SYS_UNLINKAT);
	assert_path(r, ST_S_PATH, tpath("u2"), ST_STR_JOINED);
	assert_true(r->arg[0] >= 3 && r->arg[0] < 1024);
	assert_int_equal(r->arg[1], 0);
	r = await_record(ST_UNLINK, pid, path_is, tpath("u-missing"));
	assert_non_null(r);
	assert_int_equal(r->ret, -ENOENT);

	r = await_sys(ST_MKDIR, pid, ST_SYS_MKDIR);
	assert_path(r, ST_S_PATH, tpath("d1"), ST_STR_JOINED);
	assert_int_equal(r->arg[0], 0750);
	assert_int_equal(r->arg[1], AT_FDCWD_U64);
	r = await_sys(ST_MKDIR, pid, ST_SYS_MKDIRAT);
	assert_path(r, ST_S_PATH, tpath("d2"), ST_STR_JOINED);
	assert_int_equal(r->arg[0], 0700);

	r = await_sys(ST_RMDIR, pid, ST_SYS_RMDIR);
	assert_path(r, ST_S_PATH, tpath("d1"), ST_STR_JOINED);
	assert_int_equal(r->ret, 0);
	r = await_sys(ST_RMDIR, pid, ST_SYS_UNLINKAT);
	assert_path(r, ST_S_PATH, tpath("d2"), ST_STR_JOINED);
	assert_int_equal(r->arg[0], AT_FDCWD_U64);

	r = await_sys(ST_RENAME, pid, ST_SYS_RENAME);
	assert_path(r, ST_S_PATH, tpath("r1"), ST_STR_JOINED);
	assert_path(r, ST_S_PATH2, tpath("r2"), ST_STR_JOINED);
	r = await_sys(ST_RENAME, pid, ST_SYS_RENAMEAT2);
	assert_path(r, ST_S_PATH, tpath("r2"), ST_STR_JOINED);
	assert_path(r, ST_S_PATH2, tpath("r3"), ST_STR_JOINED);
	assert_int_equal(r->arg[0], AT_FDCWD_U64);
	assert_int_equal(r->arg[2], RENAME_NOREPLACE);
	r = await_sys(ST_RENAME, pid, ST_SYS_RENAMEAT);
	assert_path(r, ST_S_PATH, tpath("r3"), ST_STR_JOINED);
	assert_path(r, ST_S_PATH2, tpath("r4"), ST_STR_JOINED);
	assert_int_equal(r->arg[1], AT_FDCWD_U64);

	r = await_sys(ST_LINK, pid, ST_SYS_LINK);
	assert_path(r, ST_S_PATH, tpath("l2"), ST_STR_JOINED);
	assert_path(r, ST_S_PATH2, tpath("l1"), ST_STR_JOINED);
	r = await_sys(ST_LINK, pid, ST_SYS_LINKAT);
	assert_path(r, ST_S_PATH, tpath("l3"), ST_STR_JOINED);
	assert_path(r, ST_S_PATH2, tpath("l1"), ST_STR_JOINED);

	/* The target of a symlink is not a path of anything: raw bytes. */
	r = await_sys(ST_SYMLINK, pid, ST_SYS_SYMLINK);
	assert_path(r, ST_S_PATH, tpath("s1"), ST_STR_JOINED);
	assert_str(r, ST_S_NAME, "../tar get\n", 11, ST_STR_RAW);
	assert_int_equal(r->arg[0], AT_FDCWD_U64);
	r = await_sys(ST_SYMLINK, pid, ST_SYS_SYMLINKAT);
	assert_path(r, ST_S_PATH, tpath("s2"), ST_STR_JOINED);
	assert_str(r, ST_S_NAME, "/abs", 4, ST_STR_RAW);

	/* A base that cannot be resolved: the name alone, flagged, never made to look
	 * absolute. */
	r = await_record(ST_UNLINK, pid, path_is, "no-base");
	assert_non_null(r);
	assert_int_equal(r->ret, -EBADF);
	assert_int_equal(r->arg[0], 999);
	assert_int_equal(r->str[ST_S_PATH].flags, ST_STR_JOINED | ST_STR_NO_BASE);
}

/* ---- paths that do not fit ----------------------------------------------------------- */

#define DEEP_LEVELS 70
#define LONG_NAME   250

/* Creates `levels` nested directories named `name` under H.dir, then a file "f" in the
 * deepest, through dirfds (the path is too long for one call). */
static void deep_child(void *arg)
{
	const char *name = arg;
	int dfd = open(H.dir, O_DIRECTORY | O_RDONLY), next, i;
	int levels = strlen(name) > 1 ? 20 : DEEP_LEVELS;

	for (i = 0; i < levels; i++) {
		if (dfd < 0 || mkdirat(dfd, name, 0755))
			_exit(90);
		next = openat(dfd, name, O_DIRECTORY | O_RDONLY);
		close(dfd);
		dfd = next;
	}
	if (syscall(SYS_openat, dfd, "f", O_CREAT | O_WRONLY, 0600) < 0)
		_exit(91);
}

static bool path_ends_with(const struct st_record *rec, const void *arg)
{
	size_t len, n = strlen(arg);
	const char *p = rec_str(rec, ST_S_PATH, &len);

	return len >= n && !memcmp(p + len - n, arg, n);
}

/* Deeper than the walk goes: the leading part is missing and flagged TOO_DEEP. Longer
 * than ST_PATH_MAX: the end is kept, flagged TRUNCATED. Both count as degraded. */
static void test_paths_too_long(void **state)
{
	char long_name[LONG_NAME + 1];
	const struct st_record *r;
	uint64_t before = harness_losses(H.cap, ST_LOSS_PATH_INCOMPLETE, ST_OPEN);
	size_t len, i, slashes = 0;
	const char *p;
	pid_t pid;

	(void)state;
	pid = run_child(deep_child, "d");
	r = await_record(ST_OPEN, pid, path_ends_with, "/d/d/f");
	assert_non_null(r);
	assert_int_equal(r->str[ST_S_PATH].flags, ST_STR_TOO_DEEP);
	p = rec_str(r, ST_S_PATH, &len);
	for (i = 0; i < len; i++)
		slashes += p[i] == '/';
	assert_int_equal(slashes, 64);	/* one per component walked */

	memset(long_name, 'n', LONG_NAME);
	long_name[LONG_NAME] = '\0';
	pid = run_child(deep_child, long_name);
	r = await_record(ST_OPEN, pid, path_ends_with, "n/f");
	assert_non_null(r);
	assert_int_equal(r->str[ST_S_PATH].flags, ST_STR_TRUNCATED);
	assert_int_equal(r->str[ST_S_PATH].len, ST_PATH_MAX);
	assert_int_equal(harness_losses(H.cap, ST_LOSS_PATH_INCOMPLETE, ST_OPEN) - before, 2);
}

/* ---- attributes: chmod, chown, truncate, deleted files -------------------------------- */

static void attrs_child(void *arg)
{
	int fd, dfd = open(H.dir, O_DIRECTORY | O_RDONLY);

	(void)arg;
	if (dfd < 0 || chdir(H.dir))
		_exit(80);
	make_file("a");
	fd = must_open("a", O_RDWR);
	if (syscall(SYS_chmod, "a", 0604) || syscall(SYS_fchmod, fd, 0606) ||
	    syscall(SYS_fchmodat, dfd, "a", 0600))
		_exit(90);
	if (syscall(SYS_chmod, "missing", 0600) == 0)
		_exit(91);
	if (syscall(SYS_fchmodat2, fd, "", 0640, AT_EMPTY_PATH))	/* the fd itself */
		_exit(89);
	if (syscall(SYS_chown, "a", 1234, 5678) || syscall(SYS_fchown, fd, -1, 42) ||
	    syscall(SYS_lchown, "a", 7, -1) ||
	    syscall(SYS_fchownat, dfd, "a", 0, 0, AT_SYMLINK_NOFOLLOW))
		_exit(92);
	if (syscall(SYS_truncate, "a", 1234) || syscall(SYS_ftruncate, fd, 77))
		_exit(93);
	close(fd);
	/* A file unlinked while open: its path is flagged deleted. */
	fd = must_open("doomed", O_CREAT | O_RDWR);
	if (unlink("doomed") || syscall(SYS_ftruncate, fd, 10))
		_exit(94);
}

static void test_attrs(void **state)
{
	const struct st_record *r;
	pid_t pid;

	(void)state;
	pid = run_child(attrs_child, NULL);

	r = await_sys(ST_CHMOD, pid, ST_SYS_CHMOD);
	assert_int_equal(r->ret, 0);
	assert_int_equal(r->arg[0], 0604);
	assert_path(r, ST_S_PATH, tpath("a"), ST_STR_JOINED);
	r = await_sys(ST_CHMOD, pid, ST_SYS_FCHMOD);
	assert_int_equal(r->arg[0], 0606);
	assert_path(r, ST_S_PATH, tpath("a"), 0);	/* resolved from the fd */
	r = await_sys(ST_CHMOD, pid, ST_SYS_FCHMODAT);
	assert_int_equal(r->arg[0], 0600);
	assert_path(r, ST_S_PATH, tpath("a"), ST_STR_JOINED);
	r = await_sys(ST_CHMOD, pid, ST_SYS_FCHMODAT2);
	assert_int_equal(r->arg[0], 0640);
	assert_int_equal(r->arg[2], AT_EMPTY_PATH);
	assert_path(r, ST_S_PATH, tpath("a"), 0);	/* AT_EMPTY_PATH: the dirfd, resolved */
	r = await_record(ST_CHMOD, pid, path_is, tpath("missing"));
	assert_non_null(r);
	assert_int_equal(r->ret, -ENOENT);
	assert_int_equal(r->str[ST_S_PATH].flags, ST_STR_JOINED);

	r = await_sys(ST_CHOWN, pid, ST_SYS_CHOWN);
	assert_int_equal(r->arg[0], 1234);
	assert_int_equal(r->arg[1], 5678);
	assert_path(r, ST_S_PATH, tpath("a"), ST_STR_JOINED);
	r = await_sys(ST_CHOWN, pid, ST_SYS_FCHOWN);
	assert_int_equal(r->arg[0], 0xffffffff);
	assert_int_equal(r->arg[1], 42);
	assert_path(r, ST_S_PATH, tpath("a"), 0);
	r = await_sys(ST_CHOWN, pid, ST_SYS_LCHOWN);
	assert_int_equal(r->arg[0], 7);
	assert_int_equal(r->arg[1], 0xffffffff);
	r = await_sys(ST_CHOWN, pid, ST_SYS_FCHOWNAT);
	assert_int_equal(r->arg[3], AT_SYMLINK_NOFOLLOW);
	assert_path(r, ST_S_PATH, tpath("a"), ST_STR_JOINED);

	r = await_sys(ST_TRUNCATE, pid, ST_SYS_TRUNCATE);
	assert_int_equal(r->arg[0], 1234);
	assert_path(r, ST_S_PATH, tpath("a"), ST_STR_JOINED);
	r = await_sys(ST_TRUNCATE, pid, ST_SYS_FTRUNCATE);
	assert_int_equal(r->arg[0], 77);
	assert_path(r, ST_S_PATH, tpath("a"), 0);
	r = await_record(ST_TRUNCATE, pid, path_is, tpath("doomed"));
	assert_non_null(r);
	assert_int_equal(r->arg[0], 10);
	assert_int_equal(r->str[ST_S_PATH].flags, ST_STR_DELETED);
}

/* ---- xattrs and chattr ------------------------------------------------------------- */

static void xattr_child(void *arg)
{
	int fd;

	(void)arg;
	if (chdir(H.dir))
		_exit(80);
	make_file("x");
	fd = must_open("x", O_RDWR);
	if (syscall(SYS_setxattr, "x", "user.sealtrail", "v1", 2, XATTR_CREATE) ||
	    syscall(SYS_fsetxattr, fd, "user.other", "value", 5, 0) ||
	    syscall(SYS_lsetxattr, "x", "user.sealtrail", "v", 1, XATTR_REPLACE))
		_exit(90);
	if (syscall(SYS_removexattr, "x", "user.sealtrail") ||
	    syscall(SYS_fremovexattr, fd, "user.other"))
		_exit(91);
	if (syscall(SYS_removexattr, "x", "user.gone") == 0 || errno != ENODATA)
		_exit(92);
}

static bool failed_with_enodata(const struct st_record *rec, const void *arg)
{
	(void)arg;
	return rec->ret == -ENODATA;
}

static void test_xattr(void **state)
{
	const struct st_record *r;
	pid_t pid;

	(void)state;
	pid = run_child(xattr_child, NULL);

	r = await_sys(ST_XATTR, pid, ST_SYS_SETXATTR);
	assert_int_equal(r->ret, 0);
	assert_path(r, ST_S_PATH, tpath("x"), ST_STR_JOINED);
	assert_str(r, ST_S_NAME, "user.sealtrail", 14, 0);
	assert_int_equal(r->arg[0], 2);
	assert_int_equal(r->arg[1], XATTR_CREATE);
	r = await_sys(ST_XATTR, pid, ST_SYS_FSETXATTR);
	assert_path(r, ST_S_PATH, tpath("x"), 0);
	assert_str(r, ST_S_NAME, "user.other", 10, 0);
	assert_int_equal(r->arg[0], 5);
	r = await_sys(ST_XATTR, pid, ST_SYS_LSETXATTR);
	assert_int_equal(r->arg[1], XATTR_REPLACE);
	r = await_sys(ST_XATTR, pid, ST_SYS_REMOVEXATTR);
	assert_int_equal(r->ret, 0);
	assert_str(r, ST_S_NAME, "user.sealtrail", 14, 0);
	r = await_sys(ST_XATTR, pid, ST_SYS_FREMOVEXATTR);
	assert_path(r, ST_S_PATH, tpath("x"), 0);
	assert_str(r, ST_S_NAME, "user.other", 10, 0);
	r = await_record(ST_XATTR, pid, failed_with_enodata, NULL);
	assert_non_null(r);
	assert_int_equal(r->syscall, ST_SYS_REMOVEXATTR);
	assert_str(r, ST_S_NAME, "user.gone", 9, 0);
}

static void chattr_child(void *arg)
{
	int fd, flags;

	(void)arg;
	fd = must_open(tpath("attr"), O_CREAT | O_RDONLY);
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags))
		_exit(90);
	flags |= FS_APPEND_FL;
	if (ioctl(fd, FS_IOC_SETFLAGS, &flags))
		_exit(91);
	flags &= ~FS_APPEND_FL;
	if (ioctl(fd, FS_IOC_SETFLAGS, &flags))
		_exit(92);
	*(int *)arg = flags;
}

static void fsxattr_child(void *arg)
{
	struct fsxattr fsx;
	int fd;

	(void)arg;
	fd = must_open(tpath("attr"), O_RDONLY);
	if (ioctl(fd, FS_IOC_FSGETXATTR, &fsx))
		_exit(90);
	fsx.fsx_xflags |= FS_XFLAG_APPEND;
	if (ioctl(fd, FS_IOC_FSSETXATTR, &fsx))
		_exit(91);
	fsx.fsx_xflags &= ~FS_XFLAG_APPEND;
	if (ioctl(fd, FS_IOC_FSSETXATTR, &fsx))
		_exit(92);
}

static bool new_xflags_have_append(const struct st_record *rec, const void *arg)
{
	return ((rec->arg[1] & FS_XFLAG_APPEND) != 0) == *(const bool *)arg;
}

static bool new_flags_have_append(const struct st_record *rec, const void *arg)
{
	return ((rec->arg[1] & FS_APPEND_FL) != 0) == *(const bool *)arg;
}

/* chattr +a then -a through the ioctl: old flags from the inode, new from the caller. */
static void test_chattr(void **state)
{
	const struct st_record *r;
	int base_flags = 0, fd, flags;
	bool set = true, cleared = false;
	pid_t pid;

	(void)state;
	make_file(tpath("attr"));
	fd = open(tpath("attr"), O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(ioctl(fd, FS_IOC_GETFLAGS, &base_flags), 0);
	close(fd);

	pid = run_child(chattr_child, &flags);
	r = await_record(ST_SETFLAGS, pid, new_flags_have_append, &set);
	assert_non_null(r);
	assert_int_equal(r->syscall, ST_SYS_IOCTL);
	assert_int_equal(r->ret, 0);
	assert_int_equal(r->arg[0], 0);	/* append was not set */
	assert_int_equal(r->arg[1], (unsigned)(base_flags | FS_APPEND_FL));
	assert_int_equal(r->arg[2], FS_IOC_SETFLAGS);
	assert_path(r, ST_S_PATH, tpath("attr"), 0);
	r = await_record(ST_SETFLAGS, pid, new_flags_have_append, &cleared);
	assert_non_null(r);
	assert_int_equal(r->arg[0], FS_APPEND_FL);
	assert_int_equal(r->arg[1], (unsigned)base_flags);

	/* The flag is really gone: the directory can be removed at the end. */
	fd = open(tpath("attr"), O_RDONLY);
	assert_int_equal(ioctl(fd, FS_IOC_GETFLAGS, &flags), 0);
	close(fd);
	assert_false(flags & FS_APPEND_FL);
	assert_int_equal(count_records(ST_SETFLAGS, pid, NULL, NULL), 2);

	/* The same through FS_IOC_FSSETXATTR, in FS_XFLAG_* terms. */
	pid = run_child(fsxattr_child, NULL);
	r = await_record(ST_SETFLAGS, pid, new_xflags_have_append, &set);
	assert_non_null(r);
	assert_int_equal(r->ret, 0);
	assert_int_equal(r->arg[0], 0);
	assert_int_equal(r->arg[2], FS_IOC_FSSETXATTR);
	assert_path(r, ST_S_PATH, tpath("attr"), 0);
	r = await_record(ST_SETFLAGS, pid, new_xflags_have_append, &cleared);
	assert_non_null(r);
	assert_int_equal(r->arg[0], FS_XFLAG_APPEND);
	assert_int_equal(r->arg[1] & FS_XFLAG_APPEND, 0);
}

/* ---- filters ----------------------------------------------------------------------- */

static void rules_child(void *arg)
{
	(void)arg;
	make_file(tpath("ign/drop"));
	make_file(tpath("ign/keep.txt"));
	make_file(tpath("other"));
	if (rename(tpath("ign/drop"), tpath("out")) || rename(tpath("out"), tpath("ign/back")))
		_exit(90);
	if (unlink(tpath("ign/back")))
		_exit(91);
}

/* Ignored prefixes drop file events, a watch prefix under them wins, and an event with
 * two paths is dropped only when both are ignored. */
static void test_path_rules(void **state)
{
	char ign[PATH_MAX], keep[PATH_MAX];
	const char *ignore[] = { ign }, *watch[] = { keep };
	struct capture_filters f = {
		.ignore_paths = ignore, .n_ignore_paths = 1,
		.watch_paths = watch, .n_watch_paths = 1,
	};
	const struct st_record *r;
	pid_t pid;

	(void)state;
	snprintf(ign, sizeof(ign), "%s/", tpath("ign"));
	snprintf(keep, sizeof(keep), "%s", tpath("ign/keep"));
	assert_int_equal(mkdir(tpath("ign"), 0755), 0);
	assert_int_equal(capture_set_filters(H.cap, &f), 0);
	pid = run_child(rules_child, NULL);
	assert_non_null(await_record(ST_OPEN, pid, path_is, tpath("ign/keep.txt")));
	assert_non_null(await_record(ST_OPEN, pid, path_is, tpath("other")));
	r = await_record(ST_RENAME, pid, path_is, tpath("ign/drop"));
	assert_non_null(r);
	assert_path(r, ST_S_PATH2, tpath("out"), ST_STR_JOINED);
	assert_non_null(await_record(ST_RENAME, pid, path_is, tpath("out")));
	await_marker("rules-marker");
	assert_int_equal(count_records(ST_OPEN, pid, path_is, tpath("ign/drop")), 0);
	assert_int_equal(count_records(ST_UNLINK, pid, path_is, tpath("ign/back")), 0);
	assert_int_equal(count_records(ST_OPEN, pid, NULL, NULL), 2);
}

static void short_rule_child(void *arg)
{
	(void)arg;
	make_file(tpath("x"));
	make_file(tpath("w/a"));
}

/* An ignore prefix of one byte, "/", ignores everything but the watched directory: the
 * kernel's quick test of a path's first bytes (st_config.ignore_lead) must not let the
 * other paths through. */
static void test_path_rules_short_prefix(void **state)
{
	char keep[PATH_MAX];
	const char *ignore[] = { "/" }, *watch[] = { keep };
	struct capture_filters f = {
		.ignore_paths = ignore, .n_ignore_paths = 1,
		.watch_paths = watch, .n_watch_paths = 1,
	};
	pid_t pid;

	(void)state;
	snprintf(keep, sizeof(keep), "%s/", tpath("w"));
	assert_int_equal(mkdir(tpath("w"), 0755), 0);
	assert_int_equal(capture_set_filters(H.cap, &f), 0);
	pid = run_child(short_rule_child, NULL);
	assert_non_null(await_record(ST_OPEN, pid, path_is, tpath("w/a")));
	await_marker("w/marker");
	assert_int_equal(count_records(ST_OPEN, pid, NULL, NULL), 1);
}

static void quiet_child(void *arg)
{
	if (prctl(PR_SET_NAME, "st-quiet"))
		_exit(90);
	make_file(tpath(arg));
}

static void other_uid_child(void *arg)
{
	if (setresgid(4242, 4242, 4242) || setresuid(4242, 4242, 4242))
		_exit(90);
	make_file(tpath(arg));
}

static void test_ignore_comms_uids(void **state)
{
	const char *comms[] = { "st-quiet" };
	uint32_t uids[] = { 4242 };
	struct capture_filters f = {
		.ignore_comms = comms, .n_ignore_comms = 1,
		.ignore_uids = uids, .n_ignore_uids = 1,
	};
	pid_t quiet, other, loud;

	(void)state;
	assert_int_equal(chmod(H.dir, 0777), 0);
	assert_int_equal(capture_set_filters(H.cap, &f), 0);
	quiet = run_child(quiet_child, "quiet");
	other = run_child(other_uid_child, "uid-4242");
	await_marker("ignore-marker");
	assert_int_equal(count_records(ST_OPEN, quiet, NULL, NULL), 0);
	assert_int_equal(count_records(ST_EXIT, quiet, NULL, NULL), 0);
	assert_int_equal(count_records(ST_OPEN, other, NULL, NULL), 0);
	/* The setresuid itself began under uid 0: recorded. */
	assert_int_equal(count_records(ST_CRED, other, NULL, NULL), 2);

	/* Without the filters, the same activity is seen. */
	harness_reset();
	test_setup(NULL);
	loud = run_child(quiet_child, "quiet2");
	assert_non_null(await_record(ST_OPEN, loud, path_is, tpath("quiet2")));
	assert_int_equal(chmod(H.dir, 0755), 0);
}

/* A cgroup2 directory to run a child in: under the unified hierarchy, wherever it is
 * mounted. Its inode number is the id bpf_get_current_cgroup_id() returns. */
static bool make_cgroup(char *dir, size_t len, uint64_t *id)
{
	static const char *const roots[] = { "/sys/fs/cgroup/unified", "/sys/fs/cgroup" };
	struct statfs sfs;
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		if (statfs(roots[i], &sfs) || sfs.f_type != CGROUP2_SUPER_MAGIC)
			continue;
		snprintf(dir, len, "%s/sealtrail-test.%d", roots[i], (int)getpid());
		if (mkdir(dir, 0755) && errno != EEXIST)
			return false;
		if (stat(dir, &st))
			return false;
		*id = st.st_ino;
		return true;
	}
	return false;
}

static void file_child(void *arg)
{
	make_file(tpath(arg));
}

static void cgroup_child(void *arg)
{
	char procs[PATH_MAX + 16];
	FILE *f;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cgroup_dir);
	f = fopen(procs, "w");
	if (!f || fprintf(f, "0\n") < 0 || fclose(f))
		_exit(90);
	make_file(tpath(arg));
}

static void test_ignore_cgroups(void **state)
{
	uint64_t id;
	struct capture_filters f = { .ignore_cgroups = &id, .n_ignore_cgroups = 1 };
	pid_t quiet, loud;

	(void)state;
	if (!make_cgroup(cgroup_dir, sizeof(cgroup_dir), &id)) {
		print_message("# no writable cgroup2 hierarchy: %s\n", strerror(errno));
		skip();
	}
	assert_int_equal(capture_set_filters(H.cap, &f), 0);
	quiet = run_child(cgroup_child, "in-cgroup");
	loud = run_child(file_child, "outside");
	assert_non_null(await_record(ST_OPEN, loud, path_is, tpath("outside")));
	await_marker("cgroup-marker");
	/* Its write to cgroup.procs came before the move: recorded. Nothing after it. */
	assert_int_equal(count_records(ST_OPEN, quiet, NULL, NULL), 1);
	assert_int_equal(count_records(ST_OPEN, quiet, path_is, tpath("in-cgroup")), 0);
	assert_int_equal(count_records(ST_EXIT, quiet, NULL, NULL), 0);

	/* Without the filter, the same child is seen. */
	harness_reset();
	test_setup(NULL);
	quiet = run_child(cgroup_child, "in-cgroup2");
	assert_non_null(await_record(ST_OPEN, quiet, path_is, tpath("in-cgroup2")));
	assert_int_equal(rmdir(cgroup_dir), 0);
}

/* Bad lists are refused and change nothing. */
static void test_filters_invalid(void **state)
{
	const char *relative[] = { "etc/" }, *comm[] = { "a-comm-much-too-long" };
	struct capture_filters f = { .ignore_paths = relative, .n_ignore_paths = 1 };

	(void)state;
	assert_int_equal(capture_set_filters(H.cap, &f), -EINVAL);
	f = (struct capture_filters){ .ignore_comms = comm, .n_ignore_comms = 1 };
	assert_int_equal(capture_set_filters(H.cap, &f), -EINVAL);
	f = (struct capture_filters){ .sensitive_paths = relative, .n_sensitive_paths = 1 };
	assert_int_equal(capture_set_filters(H.cap, &f), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_open, test_setup),
		cmocka_unit_test_setup(test_open_name_lengths, test_setup),
		cmocka_unit_test_setup(test_denied_by_seccomp, test_setup),
		cmocka_unit_test_setup(test_sensitive_read, test_setup),
		cmocka_unit_test_setup(test_names, test_setup),
		cmocka_unit_test_setup(test_paths_too_long, test_setup),
		cmocka_unit_test_setup(test_attrs, test_setup),
		cmocka_unit_test_setup(test_xattr, test_setup),
		cmocka_unit_test_setup(test_chattr, test_setup),
		cmocka_unit_test_setup(test_path_rules, test_setup),
		cmocka_unit_test_setup(test_path_rules_short_prefix, test_setup),
		cmocka_unit_test_setup(test_ignore_comms_uids, test_setup),
		cmocka_unit_test_setup(test_ignore_cgroups, test_setup),
		cmocka_unit_test_setup(test_filters_invalid, test_setup),
	};

	return cmocka_run_group_tests_name("capture_file", tests, group_setup, group_teardown);
}
