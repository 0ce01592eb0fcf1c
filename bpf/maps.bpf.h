/* maps: the maps every sealtrail BPF object shares, and the kernel-only types they hold.
 * Declared __weak so that each .bpf.c can include this header and `bpftool gen object`
 * links them into one. Userspace sizes `events` and `scratch` before load. */
#ifndef SEALTRAIL_MAPS_BPF_H
#define SEALTRAIL_MAPS_BPF_H

#define SENSITIVE_DIRS_MAX 4096
/* Dispatch table size: syscall numbers 0..SYSCALL_SLOTS-1 (x86-64 and the generic table
 * stay below 512). Userspace marks a handler unavailable for a number beyond it. */
#define SYSCALL_SLOTS	  512

/*
 * Scratch layout. The record is built in rec[], then copied to the ring buffer with its
 * exact size. rec[] is larger than ST_RECORD_MAX so that the verifier can bound a write of
 * up to ST_ARGV_MAX bytes at any offset below ST_RECORD_MAX; the size check happens once,
 * at submit.
 *
 * path[] holds one path built backwards: components end at PATH_END, and a name being
 * joined is read at PATH_NAME (just after the '/' at PATH_END), so base + "/" + name is
 * contiguous without a copy.
 */
#define SCRATCH_REC_SIZE (ST_RECORD_MAX + ST_ARGV_MAX)
#define PATH_END	 ST_PATH_MAX
#define PATH_NAME	 (PATH_END + 1)
#define PATH_BUF_SIZE	 (PATH_NAME + ST_PATH_MAX + 7)	/* + a NUL, rounded */
#define PATH_MASK	 (2 * ST_PATH_MAX - 1)	/* keeps an offset inside path[] */
#define PATH_SLACK	 40	/* an inline dentry name's size: path.bpf.h */

/* What sys_enter_X saves for sys_exit_X, in the thread's own storage (`inflight`). */
struct inflight {
	__u64 ktime_ns;		/* when the call began */
	__u64 args[6];		/* raw syscall arguments */
	__u16 syscall;		/* enum st_syscall */
	__u16 type;		/* enum st_type, for loss accounting */
	__u32 fault;		/* an argument in user memory could not be read */
	union {
		struct {	/* set*id, setgroups: credentials before the call */
			__u32 uid, euid, suid, fsuid, gid, egid, sgid, fsgid;
		} ids;
		struct {	/* capset: capabilities before the call */
			__u64 effective, permitted, inheritable;
		} caps;
		struct {	/* bpf(BPF_PROG_LOAD): the attr as the kernel copied it */
			__u32 prog_type, insn_cnt;
			char name[16];
		} prog;
		struct {	/* ioctl FS_IOC_SETFLAGS / FS_IOC_FSSETXATTR */
			__u64 old_flags, new_flags;
		} setflags;
	};
};

/* A load the compiler may not forward from an earlier store: see struct scratch. */
#define SCRATCH_LOAD(x) (*(volatile typeof(x) *)&(x))

struct scratch {
	__u8 rec[SCRATCH_REC_SIZE];
	char path_slack[PATH_SLACK];	/* written over by path_put_name(), never read */
	char path[PATH_BUF_SIZE];
	struct st_path_key head;	/* the start of a path, for the path rules */
	char dname[ST_SENSITIVE_NAME_MAX];	/* a dentry name, for sensitive matching */
	__u64 stage[17];		/* a dentry's inline name at stage[5]: path.bpf.h */
	struct inflight in;		/* this exit's enter, copied out of `inflight` */
	/*
	 * Builder state lives here rather than in registers on purpose: a value loaded back
	 * from a map is the same unknown to the verifier whichever way it was computed, so
	 * the states left by a loop's many exits (path walks, argv) merge at the next step
	 * instead of multiplying through the rest of the program.
	 */
	__u32 off;			/* record bytes so far: where the next string goes */
	__u32 too_large;		/* a string did not fit: the record is dropped */
	__u32 pstart, pend;		/* the last path built: path[pstart, pend) */
	__u16 pflags;			/* and its ST_STR_* flags */
	__u64 opaque;			/* a pointer laundered into a number: path.bpf.h */
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);	/* userspace may resize before load */
} events SEC(".maps") __weak;

/* Per-CPU record scratch. Not a PERCPU_ARRAY: those cap values at 32 KiB. Userspace sets
 * max_entries to the number of possible CPUs; the key is bpf_get_smp_processor_id(). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps") __weak;

/*
 * Processes whose exit was reported. The last threads of a process can die together, on
 * different CPUs, and each then reads signal->live == 0 (read after both decrements): 6 to
 * 12 of 200 processes of 5 threads ending in exit_group were reported twice here. The
 * first thread to claim the process (NOEXIST) reports it. Keyed by the group leader's
 * start time too, so that a reused pid is a new process; LRU, since a claim matters only
 * for the microseconds in which its threads die.
 */
struct exit_key {
	__u64 start_ns;
	__u32 tgid;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct exit_key);
	__type(value, __u8);
} exits_reported SEC(".maps") __weak;

/* Each thread's saved enter, in the thread itself (task-local storage): a lookup is a
 * pointer chase in the task instead of a hash of the tid, nothing is deleted at exit (the
 * slot is marked taken), and the kernel frees it with the thread. A hash map keyed by tid
 * cost an open storm 6% of its time in update, lookup and delete. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);	/* required for task storage */
	__type(key, int);
	__type(value, struct inflight);
} inflight SEC(".maps") __weak;

/* [cause * ST_TYPE_MAX + type]: events lost or degraded, see enum st_loss_cause. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ST_LOSS_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} losses SEC(".maps") __weak;

/* What the agent has already written to the trail of `losses`: userspace keeps it
 * here, pinned beside the counters, so that an agent taking over a pinned capture
 * reports only the losses that are new. No program touches it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ST_LOSS_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} losses_reported SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct st_config);
} config_map SEC(".maps") __weak;

/* The handlers, by syscall number: the dispatchers tail-call into them (the enter one is
 * used only where the kernel has no syscall tracepoints: see SYS_ENTER). Userspace fills
 * them after load; a pinned capture must pin them too, as the kernel empties a program
 * array when its last user reference (fd or pin) goes. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, SYSCALL_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} sys_enter_handlers SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, SYSCALL_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} sys_exit_handlers SEC(".maps") __weak;

/* [0]: the exit handler of syscall hot_exit_nr again, for a tail call at a constant key. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} sys_exit_hot SEC(".maps") __weak;

/* [0]: compat (32-bit) calls with the number of a traced syscall, skipped: see dispatch. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} compat_calls SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ST_IGNORE_IDS_MAX);
	__type(key, __u32);
	__type(value, __u8);
} ignore_uids SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ST_IGNORE_IDS_MAX);
	__type(key, __u64);
	__type(value, __u8);
} ignore_cgroups SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ST_IGNORE_COMMS_MAX);
	__type(key, char[ST_COMM_LEN]);
	__type(value, __u8);
} ignore_comms SEC(".maps") __weak;

/* Path rules as longest-prefix tries: one lookup per list and path, whatever the number
 * of prefixes, where a loop over prefixes costs the verifier dearly. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, ST_PATH_RULES_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);	/* required for LPM tries */
	__type(key, struct st_path_key);
	__type(value, __u8);
} watch_paths SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, ST_PATH_RULES_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct st_path_key);
	__type(value, __u8);
} ignore_paths SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SENSITIVE_DIRS_MAX);
	__type(key, struct st_inode_key);
	__type(value, struct st_sensitive_dir);
} sensitive_dirs SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct st_sensitive_bloom);
} sensitive_bloom SEC(".maps") __weak;

#endif
