/* syscall: the per-syscall handlers and what they share. A dispatcher on the raw sys_exit
 * tracepoint (dispatch.bpf.c) tail-calls an exit handler per syscall number. Most calls
 * have an exit handler only, which reads the arguments from the caller's saved registers
 * (and so also sees calls refused before they ran, which never reach sys_enter). Calls
 * that need something read before they run (old creds, chattr's old flags, exec and fork
 * for the scheduler tracepoints, bpf's attr) have an enter handler, on the syscall's own
 * tracepoint, that saves it with the raw arguments and the time in `inflight` (the
 * thread's own storage); their exit takes it back. Every difference between
 * architectures' syscall ABIs is in the first section. */
#ifndef SEALTRAIL_SYSCALL_BPF_H
#define SEALTRAIL_SYSCALL_BPF_H

#include "record.bpf.h"

/* ---- architecture: syscall number, native ABI, the sixth argument --------------------- */

#if defined(bpf_target_x86)

/* arch/x86/include/asm/thread_info.h: set on entry of every ia32 syscall (int 0x80,
 * sysenter, syscall from 32-bit code, and int 0x80 from 64-bit code too), cleared on the
 * return to user mode: the kernel's own in_ia32_syscall(). The code segment would miss a
 * 64-bit process using int 0x80. (x32 calls carry __X32_SYSCALL_BIT, 0x40000000, in their
 * number: beyond the dispatch table, so never dispatched.) */
#define TS_COMPAT_ 0x0002

/* At sys_exit the number is no argument: it is orig_ax, as syscall_get_nr() reads it. A
 * plain load (regs is a BTF pointer here), not a probe-read helper call: this runs for
 * every syscall. */
static __always_inline long syscall_nr(struct pt_regs *regs)
{
	return regs->orig_ax;
}

/* The current call is not a native 64-bit one: its number indexes the ia32 table and its
 * arguments are in other registers. */
static __always_inline bool task_compat(struct task_struct *task)
{
	return task->thread_info.status & TS_COMPAT_;
}

/*
 * Argument n (0-based, a constant) of the current call, from the caller's saved user
 * registers in the syscall ABI's order (r10, not rcx, holds the fourth): at sys_enter and,
 * unchanged but for the return register, at sys_exit (the exits of calls that filter on
 * arguments reread them to tell "filtered" from "lost"). Plain loads, as above.
 */
static __always_inline __u64 sys_arg(struct pt_regs *regs, int n)
{
	switch (n) {
	case 0: return regs->di;
	case 1: return regs->si;
	case 2: return regs->dx;
	case 3: return regs->r10;
	case 4: return regs->r8;
	default: return regs->r9;
	}
}

#elif defined(bpf_target_arm64)

/* arch/arm64/include/asm/thread_info.h: the task runs AArch32 code (is_compat_task()). */
#define TIF_32BIT_ 22

static __always_inline long syscall_nr(struct pt_regs *regs)
{
	return regs->syscallno;
}

static __always_inline bool task_compat(struct task_struct *task)
{
	return task->thread_info.flags & (1UL << TIF_32BIT_);
}

/* The first argument's register is also the return value's: the entry value is kept in
 * orig_x0. */
static __always_inline __u64 sys_arg(struct pt_regs *regs, int n)
{
	return n == 0 ? regs->orig_x0 : regs->regs[n & 7];
}

#else
#error "sealtrail dispatches syscalls on x86 and arm64 only: add the architecture here"
#endif

/* The current call is a compat one, of the current task (a helper call). */
static __always_inline bool syscall_compat(void)
{
	return task_compat(bpf_get_current_task_btf());
}

/* A compat call with the number of a traced native syscall, skipped: see dispatch. */
static __always_inline void compat_count(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&compat_calls, &zero);

	if (n)
		__sync_fetch_and_add(n, 1);
}

/* ---- handlers ------------------------------------------------------------------------ */

/*
 * An exit handler is a tp_btf program of the same tracepoint as its dispatcher, as tail
 * calls require (same type and attach point). It is loaded but never attached: userspace
 * puts it in the dispatcher's program array at the slot __NR_<name>.
 *
 * An enter handler comes in two programs with one body; userspace loads one of them:
 * - sys_enter__<name>, attached on its own to the syscall's own tracepoint
 *   (syscalls/sys_enter_<name>): the kernel then runs it for that syscall alone, and every
 *   other syscall of every process pays one bit test instead of a BPF program run (about
 *   20 ns a call here: see docs/CAPTURE.md). The body gets the caller's saved registers,
 *   as at sys_exit; compat calls are skipped here as there.
 * - sys_enter_d__<name>, for kernels without syscall tracepoints (CONFIG_FTRACE_SYSCALLS
 *   off, or no tracefs to find them in): a tp_btf handler that the sys_enter dispatcher
 *   tail-calls, like the exits.
 * Handler names say where they run.
 */
#define SYS_ENTER(name)                                                          \
	static __always_inline int sys_enter_body__##name(struct pt_regs *regs);  \
	SEC("tracepoint/syscalls/sys_enter_" #name)                              \
	int sys_enter__##name(void *ctx)                                          \
	{                                                                        \
		struct task_struct *task = bpf_get_current_task_btf();           \
									         \
		if (syscall_compat())                                            \
			return 0;                                                \
		return sys_enter_body__##name((struct pt_regs *)bpf_task_pt_regs(task)); \
	}                                                                        \
	SEC("tp_btf/sys_enter")                                                  \
	int BPF_PROG(sys_enter_d__##name, struct pt_regs *regs, long id)          \
	{                                                                        \
		return sys_enter_body__##name(regs);                             \
	}                                                                        \
	static __always_inline int sys_enter_body__##name(struct pt_regs *regs)

#define SYS_EXIT(name)                                                \
	SEC("tp_btf/sys_exit")                                        \
	int BPF_PROG(sys_exit__##name, struct pt_regs *regs, long ret)

/* The call's first nargs arguments (nargs a constant at each call site), at enter or at
 * exit; the others stay as the caller left them. */
static __always_inline void sys_args(struct pt_regs *regs, int nargs, __u64 *args)
{
	if (nargs > 0)
		args[0] = sys_arg(regs, 0);
	if (nargs > 1)
		args[1] = sys_arg(regs, 1);
	if (nargs > 2)
		args[2] = sys_arg(regs, 2);
	if (nargs > 3)
		args[3] = sys_arg(regs, 3);
	if (nargs > 4)
		args[4] = sys_arg(regs, 4);
	if (nargs > 5)
		args[5] = sys_arg(regs, 5);
}

/* Fills *e for the current call, timed now; false when the task is filtered out. At
 * enter, for inflight_store(); at an exit whose enter is missing, in place of it. */
static __always_inline bool inflight_begin(struct inflight *e, struct pt_regs *regs, int nargs,
					   __u16 syscall, __u16 type)
{
	if (task_ignored(bpf_get_current_task_btf()))
		return false;
	__builtin_memset(e, 0, sizeof(*e));
	e->ktime_ns = bpf_ktime_get_boot_ns();
	e->syscall = syscall;
	e->type = type;
	sys_args(regs, nargs, e->args);
	return true;
}

static __always_inline void inflight_store(struct inflight *e)
{
	struct inflight *slot;

	/* Creating the slot (a thread's first traced call) allocates: only that can fail. */
	slot = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0,
				    BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!slot) {
		loss_count(ST_LOSS_INFLIGHT_FULL, e->type);
		return;
	}
	__builtin_memcpy(slot, e, sizeof(*slot));
}

/* The common enter: filter, save, count a full map. */
static __always_inline int inflight_save(struct pt_regs *regs, int nargs, __u16 syscall,
					 __u16 type)
{
	struct inflight e;

	if (inflight_begin(&e, regs, nargs, syscall, type))
		inflight_store(&e);
	return 0;
}

/*
 * Takes this thread's saved enter into s->in and marks the slot empty (syscall 0: no
 * syscall has that enum value), so that a later exit without an enter finds nothing. NULL
 * when there is none, or when it belongs to another syscall (a tracer rewrote the call):
 * the caller then decides whether that was a loss.
 */
static __always_inline struct inflight *inflight_take(struct scratch *s, __u16 syscall)
{
	struct inflight *e;

	e = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0, 0);
	if (!e || !e->syscall)
		return NULL;
	__builtin_memcpy(&s->in, e, sizeof(s->in));
	e->syscall = 0;
	return s->in.syscall == syscall ? &s->in : NULL;
}

/* This thread's saved enter, left in place for its sys_exit (NULL: none). For the
 * scheduler tracepoints (fork, exec) that run inside the call. */
static __always_inline struct inflight *inflight_peek(void)
{
	struct inflight *e = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0, 0);

	return e && e->syscall ? e : NULL;
}

/* Forgets this thread's saved enter: its call is reported elsewhere, or not at all. */
static __always_inline void inflight_drop(void)
{
	struct inflight *e = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0, 0);

	if (e)
		e->syscall = 0;
}

/* An exit without its enter: lost, unless the enter was filtered out on purpose. Between
 * the two, the filters may have changed (set_filters, setuid, prctl): counts are then
 * approximate, in either direction, for that call only. */
static __always_inline void inflight_missed(__u16 type)
{
	if (!task_ignored(bpf_get_current_task_btf()))
		loss_count(ST_LOSS_NO_ENTER, type);
}

/* For a call handled at sys_exit alone: the task filters, then its record begun in this
 * CPU's scratch (*sp), timed now. NULL when the task is filtered out (or no scratch). */
static __always_inline struct st_record *exit_record_begin(struct scratch **sp,
							   struct task_struct *task,
							   __u16 type, __u16 syscall, long ret)
{
	if (task_ignored(task))
		return NULL;
	*sp = scratch_get(type);
	if (!*sp)
		return NULL;
	return record_begin_task(*sp, task, type, syscall, bpf_ktime_get_boot_ns(), ret);
}

/* A dirfd as records store it: the int sign-extended, so AT_FDCWD reads as -100 (legacy
 * calls without a dirfd store AT_FDCWD). */
static __always_inline __u64 dirfd_arg(__s64 fd)
{
	return (__u64)(__s64)(int)fd;
}

#endif
