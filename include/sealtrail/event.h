/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The record ABI between sealtrail's BPF programs and the agent.
 *
 * One ring buffer carries variable-size records. A record is a fixed
 * struct st_record followed by its string fields, back to back in slot order
 * (str[0] bytes, then str[1] bytes, ...); str[i].len says how many bytes each
 * has (0 when absent). Strings are raw bytes, not NUL-terminated: file names
 * and argv are passed through unchanged, whatever their encoding.
 *
 * Included by BPF code (after vmlinux.h) and by userspace (after linux/types.h),
 * so only fixed-width types appear here. Userspace pins the layout with
 * _Static_assert; bump ST_ABI_VERSION on any change.
 */
#ifndef SEALTRAIL_EVENT_H
#define SEALTRAIL_EVENT_H

#define ST_ABI_VERSION 1

#define ST_COMM_LEN   16
#define ST_NARGS      8
#define ST_NSTR       4
#define ST_PATH_MAX   4096	/* one path string, including a possible truncation */
#define ST_ARGV_MAX   32768	/* argv bytes (NUL-separated) kept per exec */
#define ST_NAME_MAX   256	/* xattr names, fstype, module args, prog names */
#define ST_RECORD_MAX 65536	/* no record is larger */

/* What happened: one value per event family (the trail's event.action). */
enum st_type {
	ST_EXEC = 1,
	ST_FORK,
	ST_EXIT,
	ST_CRED,	/* setuid family, setgroups, capset */
	ST_PTRACE,
	ST_MODULE,	/* init_module, finit_module, delete_module */
	ST_BPF,		/* bpf(BPF_PROG_LOAD) */
	ST_MOUNT,
	ST_UMOUNT,
	ST_OPEN,	/* open for write/create, or a read of a sensitive path */
	ST_UNLINK,
	ST_RMDIR,
	ST_RENAME,
	ST_MKDIR,
	ST_LINK,
	ST_SYMLINK,
	ST_CHMOD,
	ST_CHOWN,
	ST_TRUNCATE,
	ST_XATTR,	/* set or remove: see syscall */
	ST_SETFLAGS,	/* ioctl FS_IOC_SETFLAGS / FS_IOC_FSSETXATTR (chattr) */
	ST_SIGNAL,	/* a signal generated for the agent itself */
	ST_TYPE_MAX,
};

/* The dispatchers' table, traced[syscall number] (bpf/dispatch.bpf.c): the st_type of a
 * traced syscall, 0 for the others; plus ST_TRACED_ENTER when its enter handler is in the
 * enter dispatcher's array (kernels without syscall tracepoints only). */
#define ST_TRACED_TYPE	0x7f
#define ST_TRACED_ENTER 0x80
_Static_assert(ST_TYPE_MAX <= ST_TRACED_TYPE, "a st_type must fit in traced[]");

/* Which call produced the record (0 for scheduler events). */
enum st_syscall {
	ST_SYS_NONE = 0,
	ST_SYS_EXECVE, ST_SYS_EXECVEAT,
	ST_SYS_CLONE, ST_SYS_CLONE3, ST_SYS_FORK, ST_SYS_VFORK,
	ST_SYS_SETUID, ST_SYS_SETGID, ST_SYS_SETREUID, ST_SYS_SETREGID,
	ST_SYS_SETRESUID, ST_SYS_SETRESGID, ST_SYS_SETFSUID, ST_SYS_SETFSGID,
	ST_SYS_SETGROUPS, ST_SYS_CAPSET,
	ST_SYS_PTRACE,
	ST_SYS_INIT_MODULE, ST_SYS_FINIT_MODULE, ST_SYS_DELETE_MODULE,
	ST_SYS_BPF,
	ST_SYS_MOUNT, ST_SYS_UMOUNT2,
	ST_SYS_OPEN, ST_SYS_OPENAT, ST_SYS_OPENAT2, ST_SYS_CREAT,
	ST_SYS_UNLINK, ST_SYS_UNLINKAT, ST_SYS_RMDIR,
	ST_SYS_RENAME, ST_SYS_RENAMEAT, ST_SYS_RENAMEAT2,
	ST_SYS_MKDIR, ST_SYS_MKDIRAT,
	ST_SYS_LINK, ST_SYS_LINKAT, ST_SYS_SYMLINK, ST_SYS_SYMLINKAT,
	ST_SYS_CHMOD, ST_SYS_FCHMOD, ST_SYS_FCHMODAT, ST_SYS_FCHMODAT2,
	ST_SYS_CHOWN, ST_SYS_FCHOWN, ST_SYS_LCHOWN, ST_SYS_FCHOWNAT,
	ST_SYS_TRUNCATE, ST_SYS_FTRUNCATE,
	ST_SYS_SETXATTR, ST_SYS_LSETXATTR, ST_SYS_FSETXATTR, ST_SYS_SETXATTRAT,
	ST_SYS_REMOVEXATTR, ST_SYS_LREMOVEXATTR, ST_SYS_FREMOVEXATTR, ST_SYS_REMOVEXATTRAT,
	ST_SYS_IOCTL,
	ST_SYS_MAX,
};

/*
 * String slots. Most records use PATH (the object acted on) and some of the
 * others; exec uses its own names for the same four slots.
 *
 *   open, unlink, rmdir, mkdir, chmod, chown, truncate, setflags: PATH
 *   rename:   PATH = old path, PATH2 = new path
 *   link:     PATH = new link, PATH2 = existing file
 *   symlink:  PATH = new link, NAME = target exactly as given (not resolved)
 *   xattr:    PATH, NAME = attribute name
 *   mount:    PATH = target, NAME = fstype, EXTRA = source exactly as given
 *   umount:   PATH = target
 *   module:   PATH = file (finit_module), NAME = module args or name (delete_module)
 *   bpf:      NAME = program name
 *   exec:     EXE = executable file, ARGV = NUL-separated args, CWD, FILENAME = as passed
 *             (the argument area without its final NUL; a failed exec has EXE = the
 *             name it tried, JOINED)
 */
enum st_str_slot {
	ST_S_PATH = 0, ST_S_PATH2 = 1, ST_S_NAME = 2, ST_S_EXTRA = 3,
	ST_S_EXE = 0, ST_S_ARGV = 1, ST_S_CWD = 2, ST_S_FILENAME = 3,
};

/* What is known about one string (st_str.flags). A path is either complete and
 * absolute, or flagged: it is never silently cut to something that looks absolute. */
enum st_str_flag {
	ST_STR_TRUNCATED    = 1 << 0,	/* longer than its slot: a path keeps its end;
					 * argv and RAW strings keep their beginning */
	ST_STR_TOO_DEEP     = 1 << 1,	/* path walk hit its depth limit: leading part missing */
	ST_STR_DISCONNECTED = 1 << 2,	/* walk ended outside the mount namespace's root */
	ST_STR_DELETED      = 1 << 3,	/* the file was unlinked when resolved */
	ST_STR_FAULT        = 1 << 4,	/* user memory could not be read: string absent */
	ST_STR_JOINED       = 1 << 5,	/* name as given, prefixed with its base directory
					 * when relative: lexical, not canonicalized */
	ST_STR_NO_BASE      = 1 << 6,	/* relative name whose base could not be resolved */
	ST_STR_RAW          = 1 << 7,	/* not a resolved path: bytes as the caller gave them */
};

/* Record-wide facts (st_record.flags). */
enum st_record_flag {
	ST_F_EXEC_FILELESS = 1 << 0,	/* executable had no link on disk (memfd, deleted) */
	ST_F_EXEC_MEMFD    = 1 << 1,	/* executable is a memfd */
	ST_F_SENSITIVE     = 1 << 2,	/* open matched the sensitive-path list */
	ST_F_EXIT_CORE     = 1 << 3,	/* exit dumped core */
	ST_F_EXIT_SIGNALED = 1 << 4,	/* exit was caused by a signal */
};

/* Why events were lost or degraded; per-CPU counters indexed
 * [cause * ST_TYPE_MAX + type] in the `losses` map. */
enum st_loss_cause {
	ST_LOSS_RINGBUF_FULL = 0,	/* reserve/output failed: event lost */
	ST_LOSS_INFLIGHT_FULL,		/* enter state could not be saved: event lost */
	ST_LOSS_NO_ENTER,		/* exit seen without its enter: event lost */
	ST_LOSS_TOO_LARGE,		/* record would exceed ST_RECORD_MAX: event lost */
	ST_LOSS_PATH_INCOMPLETE,	/* emitted, but a path is flagged incomplete */
	ST_LOSS_USER_FAULT,		/* emitted, but user memory could not be read */
	ST_LOSS_CAUSE_MAX,
};

#define ST_LOSS_SLOTS (ST_LOSS_CAUSE_MAX * ST_TYPE_MAX)

/* Who did it: filled from the current task when the record is emitted. */
struct st_task {
	__u64 start_ns;		/* thread-group leader start (boot-based ns): with pid and
				 * boot id, names the process across pid reuse */
	__u64 parent_start_ns;	/* same for the real parent */
	__u64 cgroup_id;	/* cgroup v2 id of the task */
	__u32 pid;		/* thread-group id */
	__u32 tid;
	__u32 ppid;
	__u32 uid, euid, suid, fsuid;
	__u32 gid, egid, sgid, fsgid;
	__u32 auid;		/* login uid, (u32)-1 when unset */
	__u32 sessionid;	/* audit session, (u32)-1 when unset */
	__u32 mntns;		/* mount namespace inode number */
	char comm[ST_COMM_LEN];	/* 96 bytes in all: no implicit padding */
};

struct st_str {
	__u16 len;
	__u16 flags;		/* enum st_str_flag */
};

struct st_record {
	__u16 abi;		/* ST_ABI_VERSION */
	__u16 type;		/* enum st_type */
	__u16 syscall;		/* enum st_syscall */
	__u16 flags;		/* enum st_record_flag */
	__u32 size;		/* whole record in bytes, strings included */
	__u32 pad;
	__u64 ktime_ns;		/* boot-based ns when the call began (exit-only calls: returned) */
	__s64 ret;		/* the call's result: >= 0 success, -errno failure */
	struct st_task task;
	__u64 arg[ST_NARGS];	/* per-type integers, see below */
	struct st_str str[ST_NSTR];
};

/*
 * arg[] per type (unlisted entries are 0):
 *   open:     0 flags, 1 mode, 2 dirfd (s32)
 *   unlink:   0 dirfd, 1 flags          rmdir: 0 dirfd
 *   rename:   0 olddirfd, 1 newdirfd, 2 flags
 *   mkdir:    0 mode, 1 dirfd
 *   link:     0 olddirfd, 1 newdirfd, 2 flags      symlink: 0 newdirfd
 *   chmod:    0 mode, 1 dirfd or fd, 2 flags
 *   chown:    0 uid (u32, -1 = unchanged), 1 gid, 2 dirfd or fd, 3 flags
 *   truncate: 0 length
 *   xattr:    0 value size, 1 flags
 *   setflags: 0 old FS_*_FL flags, 1 new flags, 2 ioctl cmd (FS_IOC_FSSETXATTR:
 *             FS_XFLAG_* values; old flags hold only the VFS-visible ones: append,
 *             immutable, sync, noatime, dirsync)
 *   exec:     0 argc, 1 dirfd, 2 execveat flags
 *   fork:     0 child pid, 1 child start_ns, 2 child is a thread (0/1; threads are
 *             not reported yet, so 0)
 *   exit:     0 exit status word (as wait(2) reports it)
 *   cred:     0..2 requested ids (setgroups: 0 = count), 3 old uid<<32|euid,
 *             4 old suid<<32|fsuid, 5 old gid<<32|egid, 6 old sgid<<32|fsgid
 *             capset: 0..2 old effective, permitted, inheritable; 3..5 new
 *   ptrace:   0 request, 1 target pid, 2 addr
 *   module:   0 length (init_module) or fd (finit_module), 1 flags
 *   bpf:      0 cmd, 1 prog_type, 2 insn_cnt
 *   mount:    0 flags                   umount: 0 flags
 *   signal:   0 signal number, 1 target pid, 2 delivery result (TRACE_SIGNAL_*)
 */

/* Kernel-side configuration, the single element of the `config_map` array. */
#define ST_IGNORE_LEAD_BITS 256

/* The two bytes after a path's leading '/', hashed to a bit of st_config.ignore_lead. */
static inline __attribute__((always_inline)) __u32 st_ignore_lead_bit(__u8 a, __u8 b)
{
	return ((__u32)a * 31 + b) & (ST_IGNORE_LEAD_BITS - 1);
}

struct st_config {
	__u32 agent_pid;	/* this tgid never generates events */
	__u32 npath_rules;	/* entries in `watch_paths` + `ignore_paths` (0: skip lookups) */
	__u64 wakeup_bytes;	/* wake the consumer each time this much more is written */
	__u32 flags;		/* enum st_config_flag */
	__u32 pad;
	/* Bit st_ignore_lead_bit(p[1], p[2]) is set for each ignore prefix p (every bit for a
	 * prefix shorter than 3 bytes): a path whose bit is clear starts with no ignore
	 * prefix, and skips the copy and the trie lookups that would say so. */
	__u64 ignore_lead[ST_IGNORE_LEAD_BITS / 64];
};

enum st_config_flag {
	/* Drop execs that fail with ENOENT or ENOTDIR: a shell searching PATH makes
	 * several for every command it runs, and they say nothing a responder needs. */
	ST_CFG_QUIET_EXEC_ENOENT = 1 << 0,
	/* Which task filter maps hold entries; the others are not looked up. Every traced
	 * call checks the task filters, and by default all three lists are empty. */
	ST_CFG_IGNORE_UIDS = 1 << 1,
	ST_CFG_IGNORE_CGROUPS = 1 << 2,
	ST_CFG_IGNORE_COMMS = 1 << 3,
};
#define ST_CFG_TASK_FILTERS (ST_CFG_IGNORE_UIDS | ST_CFG_IGNORE_CGROUPS | ST_CFG_IGNORE_COMMS)

#define ST_PREFIX_MAX     128	/* bytes of a path-rule prefix */
#define ST_PATH_RULES_MAX 32	/* prefixes per list */
#define ST_IGNORE_IDS_MAX 1024	/* entries of ignore_uids, of ignore_cgroups */
#define ST_IGNORE_COMMS_MAX 256	/* entries of ignore_comms */
#define ST_SENSITIVE_NAMES 8	/* name prefixes per sensitive directory */
#define ST_SENSITIVE_NAME_MAX 32

/*
 * Key of the `watch_paths` and `ignore_paths` LPM tries: a byte prefix of a resolved
 * absolute path (the value is a __u8, unused). File events whose paths all match an
 * ignore prefix and no watch prefix are dropped: watch wins over ignore.
 */
struct st_path_key {
	__u32 prefixlen;	/* in bits: 8 * bytes used in path[] */
	char path[ST_PREFIX_MAX];
};

/* Key of the `sensitive_dirs` hash: a directory, as the kernel names it. */
struct st_inode_key {
	__u64 dev;		/* superblock s_dev (kernel encoding: major << 20 | minor) */
	__u64 ino;
};

/* Value: name prefixes of sensitive entries in that directory (len 0 = any name). */
struct st_sensitive_dir {
	__u32 count;
	__u32 len[ST_SENSITIVE_NAMES];
	char name[ST_SENSITIVE_NAMES][ST_SENSITIVE_NAME_MAX];
};

/*
 * A bit per hash of each `sensitive_dirs` key, in the one-element `sensitive_bloom`
 * array: every successful open asks whether its directory is sensitive, nearly always
 * to hear no, and a clear bit says so without the hash lookup. A set bit only means
 * "look it up". Userspace sets the bits with the same function.
 */
#define ST_SENSITIVE_BLOOM_BITS 4096

struct st_sensitive_bloom {
	__u64 bits[ST_SENSITIVE_BLOOM_BITS / 64];
};

static inline __attribute__((always_inline)) __u32 st_sensitive_bloom_bit(__u64 dev, __u64 ino)
{
	/* Fibonacci hashing of the inode, with the device folded in. */
	return (__u32)(((ino ^ (dev << 32 | dev >> 32)) * 0x9E3779B97F4A7C15ull) >> 52);
}

#endif /* SEALTRAIL_EVENT_H */
