// SPDX-License-Identifier: GPL-2.0
/* process: exec, fork and exit from the scheduler tracepoints, their failures from the
 * syscalls, and signals generated for the agent itself. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "sealtrail/event.h"
#include "maps.bpf.h"
#include "syscall.bpf.h"
#include "path.bpf.h"

#define PF_KTHREAD	  0x00200000
#define TMPFS_MAGIC	  0x01021994
#define HUGETLBFS_MAGIC	  0x958458f6
#define ARGV_PTRS_MAX	  256	/* arguments read from a failed exec's argv array */

/* ---- exec ------------------------------------------------------------------------ */

/* The argument area of the new image, NUL-separated, without its final NUL. A failed
 * read leaves the string absent and flagged ST_STR_FAULT. */
static __always_inline void put_argv_mm(struct scratch *s, struct task_struct *task)
{
	unsigned long start = BPF_CORE_READ(task, mm, arg_start);
	unsigned long end = BPF_CORE_READ(task, mm, arg_end);
	__u16 flags = 0;
	__u64 len = 0;
	long off;

	off = record_cursor(s, ST_ARGV_MAX);
	if (off < 0)
		return;
	if (end > start)
		len = end - start;
	if (len > ST_ARGV_MAX) {
		len = ST_ARGV_MAX;
		flags |= ST_STR_TRUNCATED;
	}
	barrier_var(len);
	if (len > ST_ARGV_MAX)
		len = 0;
	if (len && bpf_probe_read_user(&s->rec[off], len, (void *)start)) {
		len = 0;
		flags |= ST_STR_FAULT;
	}
	if (len && !(flags & ST_STR_TRUNCATED) && s->rec[off + len - 1] == 0)
		len--;
	record_set_str(s, ST_S_ARGV, len, flags);
}

/* argv of a failed exec, read through the caller's pointer array: still mapped, since the
 * exec failed before replacing the image. Sets arg[0] (argc) to the arguments read. */
static __always_inline void put_argv_user(struct scratch *s, const char *const *argv)
{
	struct st_record *r = (void *)s->rec;
	__u64 used = 0, room, argc = 0;
	__u16 flags = 0;
	const char *arg;
	long off, n;
	int i;

	/* Twice the room: the verifier bounds off + used + room without knowing that
	 * used + room stays ST_ARGV_MAX. argv follows EXE, so off is small anyway. */
	off = record_cursor(s, 2 * ST_ARGV_MAX);
	if (off < 0)
		return;
	for (i = 0; i < ARGV_PTRS_MAX; i++) {
		if (!argv)
			break;
		if (bpf_probe_read_user(&arg, sizeof(arg), &argv[i])) {
			flags |= ST_STR_FAULT;
			break;
		}
		if (!arg)
			break;
		if (used >= ST_ARGV_MAX) {
			flags |= ST_STR_TRUNCATED;
			break;
		}
		used &= ST_ARGV_MAX - 1;	/* no-op, for the verifier */
		room = ST_ARGV_MAX - used;
		n = bpf_probe_read_user_str(&s->rec[off + used], room, arg);
		if (n <= 0) {
			flags |= ST_STR_FAULT;
			break;
		}
		argc++;
		used += n;
		if (n == room) {
			flags |= ST_STR_TRUNCATED;
			break;
		}
	}
	if (i == ARGV_PTRS_MAX)
		flags |= ST_STR_TRUNCATED;
	if (used > ST_ARGV_MAX)
		used = ST_ARGV_MAX;
	if (used && !(flags & ST_STR_TRUNCATED))
		used--;	/* the last argument's NUL */
	r->arg[0] = argc;
	record_set_str(s, ST_S_ARGV, used, flags);
}

static __always_inline void put_cwd(struct scratch *s, struct task_struct *task,
				    struct mount *ns_root)
{
	struct path pwd = {};

	bpf_core_read(&pwd, sizeof(pwd), &task->fs->pwd);
	path_resolve(s, pwd.dentry, pwd.mnt, ns_root);
	record_put_path(s, ST_S_CWD);
}

/* Flags for an executable with no name on disk: a memfd, or a file unlinked before exec. */
static __always_inline __u16 exec_fileless_flags(struct file *file)
{
	struct dentry *dentry = BPF_CORE_READ(file, f_path.dentry);
	unsigned long magic = BPF_CORE_READ(file, f_inode, i_sb, s_magic);
	const unsigned char *name = BPF_CORE_READ(dentry, d_name.name);
	char prefix[6] = {};
	__u16 flags = 0;

	if (BPF_CORE_READ(file, f_inode, i_nlink) == 0)
		flags |= ST_F_EXEC_FILELESS;
	/* memfd_create() names its file "memfd:<name>" on the internal shmem or hugetlbfs
	 * mount. */
	if (magic == TMPFS_MAGIC || magic == HUGETLBFS_MAGIC) {
		bpf_probe_read_kernel(prefix, sizeof(prefix), name);
		if (prefix[0] == 'm' && prefix[1] == 'e' && prefix[2] == 'm' && prefix[3] == 'f' &&
		    prefix[4] == 'd' && prefix[5] == ':')
			flags |= ST_F_EXEC_MEMFD | ST_F_EXEC_FILELESS;
	}
	return flags;
}

/* A successful exec, seen once the new image is in place: the executable is bprm->file
 * (for a script, its interpreter; the script is in FILENAME and argv). */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(tp_btf__sched_process_exec, struct task_struct *task, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	/* The storage is the thread's own: it followed the thread through exec even when
	 * the thread took the leader's tid. */
	struct inflight *e = inflight_peek();
	struct mount *ns_root = task_ns_root(task);
	struct file *file = bprm->file;
	struct st_record *r;
	struct scratch *s;

	if (task_ignored(task))
		goto out;
	s = scratch_get(ST_EXEC);
	if (!s)
		goto out;
	if (e)
		__builtin_memcpy(&s->in, e, sizeof(s->in));
	else	/* exec by the kernel (init, usermode helpers), or the enter was missed */
		__builtin_memset(&s->in, 0, sizeof(s->in));
	r = record_begin(s, ST_EXEC, s->in.syscall,
			 s->in.ktime_ns ? s->in.ktime_ns : bpf_ktime_get_boot_ns(), 0);
	r->arg[0] = bprm->argc;
	if (s->in.syscall == ST_SYS_EXECVEAT) {
		r->arg[1] = dirfd_arg(s->in.args[0]);
		r->arg[2] = s->in.args[4];
	} else {
		r->arg[1] = dirfd_arg(AT_FDCWD_);
	}
	r->flags = exec_fileless_flags(file);

	path_of_file(s, file, ns_root, ST_STR_FAULT);
	record_put_path(s, ST_S_EXE);
	put_argv_mm(s, task);
	put_cwd(s, task, ns_root);
	record_put_kernel_str(s, ST_S_FILENAME, bprm->filename, ST_PATH_MAX, ST_STR_RAW);
	record_submit(s);
out:
	if (e)
		inflight_drop();
	return 0;
}

#define ENOENT_	2	/* errno values are the same on every architecture we build for */
#define ENOTDIR_ 20

/* A PATH lookup's miss, when the configuration asks not to record those. */
static __always_inline bool exec_failure_quiet(long ret)
{
	struct st_config *cfg;

	if (ret != -ENOENT_ && ret != -ENOTDIR_)
		return false;
	cfg = config_get();
	return cfg && (cfg->flags & ST_CFG_QUIET_EXEC_ENOENT);
}

/* A failed exec: the name it tried, joined with cwd or dirfd, and argv from user memory. */
static __always_inline int exec_failed(long ret, __u16 sys)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct mount *ns_root = task_ns_root(task);
	bool at = sys == ST_SYS_EXECVEAT;
	struct inflight *e;
	struct st_record *r;
	struct scratch *s;
	const char *name;
	long dirfd;

	if (ret >= 0 || exec_failure_quiet(ret)) {
		/* Success is reported by sched_process_exec; a quiet failure not at all. */
		inflight_drop();
		return 0;
	}
	s = scratch_get(ST_EXEC);
	if (!s)
		return 0;
	e = inflight_take(s, sys);
	if (!e) {
		inflight_missed(ST_EXEC);
		return 0;
	}
	dirfd = at ? (long)(int)e->args[0] : AT_FDCWD_;
	name = (const char *)(at ? e->args[1] : e->args[0]);
	r = record_begin(s, ST_EXEC, sys, e->ktime_ns, ret);
	r->arg[1] = dirfd_arg(dirfd);
	r->arg[2] = at ? e->args[4] : 0;

	path_join(s, task, dirfd, name, at && (e->args[4] & AT_EMPTY_PATH_));
	record_put_path(s, ST_S_EXE);
	put_argv_user(s, (const char *const *)(at ? e->args[2] : e->args[1]));
	put_cwd(s, task, ns_root);
	record_put_user_str(s, ST_S_FILENAME, name, ST_PATH_MAX, ST_STR_RAW);
	return record_submit(s);
}

SYS_ENTER(execve) { return inflight_save(regs, 3, ST_SYS_EXECVE, ST_EXEC); }
SYS_EXIT(execve) { return exec_failed(ret, ST_SYS_EXECVE); }
SYS_ENTER(execveat) { return inflight_save(regs, 5, ST_SYS_EXECVEAT, ST_EXEC); }
SYS_EXIT(execveat) { return exec_failed(ret, ST_SYS_EXECVEAT); }

/* ---- fork ------------------------------------------------------------------------ */

/*
 * A new process. Thread creation (CLONE_THREAD) is not reported: it is frequent, changes
 * no identity, and every record names its thread in task.tid anyway. Kernel threads are
 * not reported either. The parent's clone enter, when there is one, gives the syscall and
 * the time of the call; its exit forgets the entry.
 */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(tp_btf__sched_process_fork, struct task_struct *parent, struct task_struct *child)
{
	struct inflight *e;
	struct st_record *r;
	struct scratch *s;

	if (child->pid != child->tgid || (child->flags & PF_KTHREAD))
		return 0;
	if (task_ignored(bpf_get_current_task_btf()))
		return 0;
	s = scratch_get(ST_FORK);
	if (!s)
		return 0;
	e = inflight_peek();
	if (e)
		__builtin_memcpy(&s->in, e, sizeof(s->in));
	else
		__builtin_memset(&s->in, 0, sizeof(s->in));
	r = record_begin(s, ST_FORK, s->in.syscall,
			 s->in.ktime_ns ? s->in.ktime_ns : bpf_ktime_get_boot_ns(), child->tgid);
	r->arg[0] = child->tgid;
	r->arg[1] = task_start_boottime(child);
	r->arg[2] = 0;
	return record_submit(s);
}

/* A clone that failed; a successful one was reported by sched_process_fork. The child
 * also passes here, returning 0, with no entry of its own. */
static __always_inline int fork_exit(long ret, __u16 sys)
{
	struct inflight *e;
	struct scratch *s;

	if (ret >= 0) {
		if (ret > 0)
			inflight_drop();
		return 0;
	}
	s = scratch_get(ST_FORK);
	if (!s)
		return 0;
	e = inflight_take(s, sys);
	if (!e) {
		inflight_missed(ST_FORK);
		return 0;
	}
	record_begin(s, ST_FORK, sys, e->ktime_ns, ret);
	return record_submit(s);
}

SYS_ENTER(clone) { return inflight_save(regs, 5, ST_SYS_CLONE, ST_FORK); }
SYS_EXIT(clone) { return fork_exit(ret, ST_SYS_CLONE); }
SYS_ENTER(clone3) { return inflight_save(regs, 2, ST_SYS_CLONE3, ST_FORK); }
SYS_EXIT(clone3) { return fork_exit(ret, ST_SYS_CLONE3); }
SYS_ENTER(fork) { return inflight_save(regs, 0, ST_SYS_FORK, ST_FORK); }
SYS_EXIT(fork) { return fork_exit(ret, ST_SYS_FORK); }
SYS_ENTER(vfork) { return inflight_save(regs, 0, ST_SYS_VFORK, ST_FORK); }
SYS_EXIT(vfork) { return fork_exit(ret, ST_SYS_VFORK); }

/* ---- exit ------------------------------------------------------------------------ */

/*
 * A thread's inflight entry goes with the thread (task storage), also when it was killed
 * inside a syscall and never reached sys_exit. The record is for the process: only when
 * the last thread dies, which signal->live == 0 says on every kernel, with or without the
 * tracepoint's newer group_dead argument; and once, whichever of the last threads claims
 * it first in exits_reported (maps.bpf.h).
 */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(tp_btf__sched_process_exit, struct task_struct *task)
{
	struct exit_key key = {};
	struct st_record *r;
	struct scratch *s;
	__u8 one = 1;
	__u32 code;

	if ((task->flags & PF_KTHREAD) || BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	if (task_ignored(task))
		return 0;
	key.tgid = task->tgid;
	key.start_ns = task_start_boottime(task->group_leader);
	if (bpf_map_update_elem(&exits_reported, &key, &one, BPF_NOEXIST))
		return 0;	/* another of its threads reported it */
	s = scratch_get(ST_EXIT);
	if (!s)
		return 0;
	r = record_begin(s, ST_EXIT, ST_SYS_NONE, bpf_ktime_get_boot_ns(), 0);
	code = task->exit_code;
	r->arg[0] = code;
	if ((code & 0x7f) && (code & 0x7f) != 0x7f)
		r->flags |= ST_F_EXIT_SIGNALED;
	if (code & 0x80)
		r->flags |= ST_F_EXIT_CORE;
	return record_submit(s);
}

/* ---- signals to the agent ---------------------------------------------------------- */

/*
 * A signal generated for the agent's process: who sent it, and what became of it
 * (TRACE_SIGNAL_DELIVERED, _IGNORED, ...). For tamper detection, so only self-exclusion
 * applies, not the ignore lists. This tracepoint can fire in interrupt context (timers),
 * so the record is reserved directly in the ring buffer, without per-CPU scratch, and its
 * sender context is then whatever task was interrupted.
 */
SEC("tp_btf/signal_generate")
int BPF_PROG(tp_btf__signal_generate, int sig, struct kernel_siginfo *info,
	     struct task_struct *target, int group, int result)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct st_config *cfg = config_get();
	struct st_record *r;
	__u64 flags = BPF_RB_NO_WAKEUP;

	if (!cfg || !cfg->agent_pid || target->tgid != cfg->agent_pid ||
	    task->tgid == cfg->agent_pid)
		return 0;
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		loss_count(ST_LOSS_RINGBUF_FULL, ST_SIGNAL);
		return 0;
	}
	__builtin_memset(r, 0, sizeof(*r));
	r->abi = ST_ABI_VERSION;
	r->type = ST_SIGNAL;
	r->size = sizeof(*r);
	r->ktime_ns = bpf_ktime_get_boot_ns();
	task_context(&r->task, task);
	r->arg[0] = sig;
	r->arg[1] = target->tgid;
	r->arg[2] = result;
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= cfg->wakeup_bytes)
		flags = BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(r, flags);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
