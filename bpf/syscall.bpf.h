/* syscall: pairs sys_enter_X with sys_exit_X. The enter saves the raw arguments and the
 * time of the call in `inflight` (keyed by tid); the exit takes them back, builds the
 * record with the result and deletes the entry. */
#ifndef SEALTRAIL_SYSCALL_BPF_H
#define SEALTRAIL_SYSCALL_BPF_H

#include "record.bpf.h"

#define SYS_ENTER(name)                                               \
	SEC("tracepoint/syscalls/sys_enter_" #name)                   \
	int tracepoint__syscalls__sys_enter_##name(struct trace_event_raw_sys_enter *ctx)

#define SYS_EXIT(name)                                                \
	SEC("tracepoint/syscalls/sys_exit_" #name)                    \
	int tracepoint__syscalls__sys_exit_##name(struct trace_event_raw_sys_exit *ctx)

/* For tracepoints a kernel may lack (CONFIG_MODULES): not loaded unless turned on, which
 * capture.c does when tracefs has them, and a bare skeleton attach skips them. */
#define SYS_ENTER_OPTIONAL(name)                                      \
	SEC("?tracepoint/syscalls/sys_enter_" #name)                  \
	int tracepoint__syscalls__sys_enter_##name(struct trace_event_raw_sys_enter *ctx)

#define SYS_EXIT_OPTIONAL(name)                                       \
	SEC("?tracepoint/syscalls/sys_exit_" #name)                   \
	int tracepoint__syscalls__sys_exit_##name(struct trace_event_raw_sys_exit *ctx)

/*
 * The call's arguments. A syscall tracepoint's record holds only the syscall's own
 * arguments: a program that reads past them is refused at attach (EACCES), so every load
 * is guarded by nargs, a constant at each call site. One load per argument, too: the
 * verifier refuses a ctx pointer moved by a loop.
 */
static __always_inline void sys_enter_args(struct trace_event_raw_sys_enter *ctx, int nargs,
					   __u64 *args)
{
	if (nargs > 0)
		args[0] = ctx->args[0];
	if (nargs > 1)
		args[1] = ctx->args[1];
	if (nargs > 2)
		args[2] = ctx->args[2];
	if (nargs > 3)
		args[3] = ctx->args[3];
	if (nargs > 4)
		args[4] = ctx->args[4];
	if (nargs > 5)
		args[5] = ctx->args[5];
}

/* Fills *e for the current call; false when the task is filtered out. */
static __always_inline bool inflight_begin(struct inflight *e,
					   struct trace_event_raw_sys_enter *ctx, int nargs,
					   __u16 syscall, __u16 type)
{
	if (task_ignored(bpf_get_current_task_btf()))
		return false;
	__builtin_memset(e, 0, sizeof(*e));
	e->ktime_ns = bpf_ktime_get_boot_ns();
	e->syscall = syscall;
	e->type = type;
	sys_enter_args(ctx, nargs, e->args);
	return true;
}

static __always_inline void inflight_store(struct inflight *e)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (bpf_map_update_elem(&inflight, &tid, e, BPF_ANY))
		loss_count(ST_LOSS_INFLIGHT_FULL, e->type);
}

/* The common enter: filter, save, count a full map. */
static __always_inline int inflight_save(struct trace_event_raw_sys_enter *ctx, int nargs,
					 __u16 syscall, __u16 type)
{
	struct inflight e;

	if (inflight_begin(&e, ctx, nargs, syscall, type))
		inflight_store(&e);
	return 0;
}

/*
 * Takes this thread's saved enter into s->in and deletes it (it is copied first: a deleted
 * element can be reused at once). NULL when there is none, or when it belongs to another
 * syscall (a tracer rewrote the call): the caller then decides whether that was a loss.
 */
static __always_inline struct inflight *inflight_take(struct scratch *s, __u16 syscall)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct inflight *e;

	e = bpf_map_lookup_elem(&inflight, &tid);
	if (!e)
		return NULL;
	__builtin_memcpy(&s->in, e, sizeof(s->in));
	bpf_map_delete_elem(&inflight, &tid);
	return s->in.syscall == syscall ? &s->in : NULL;
}

/* An exit without its enter: lost, unless the enter was filtered out on purpose. Between
 * the two, the filters may have changed (set_filters, setuid, prctl): counts are then
 * approximate, in either direction, for that call only. */
static __always_inline void inflight_missed(__u16 type)
{
	if (!task_ignored(bpf_get_current_task_btf()))
		loss_count(ST_LOSS_NO_ENTER, type);
}

/* Syscall argument n (0-based) read back at sys_exit from the saved user registers, for
 * enters that filter on arguments and so leave no entry: the exit needs to know whether
 * the missing entry was filtered or lost. */
static __always_inline unsigned long sys_exit_arg(int n)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());

	switch (n) {
	case 0: return PT_REGS_PARM1_CORE_SYSCALL(regs);
	case 1: return PT_REGS_PARM2_CORE_SYSCALL(regs);
	case 2: return PT_REGS_PARM3_CORE_SYSCALL(regs);
	case 3: return PT_REGS_PARM4_CORE_SYSCALL(regs);
	default: return PT_REGS_PARM5_CORE_SYSCALL(regs);
	}
}

/* A dirfd as records store it: the int sign-extended, so AT_FDCWD reads as -100 (legacy
 * calls without a dirfd store AT_FDCWD). */
static __always_inline __u64 dirfd_arg(__s64 fd)
{
	return (__u64)(__s64)(int)fd;
}

#endif
