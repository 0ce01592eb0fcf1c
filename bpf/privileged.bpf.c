// SPDX-License-Identifier: GPL-2.0
/* privileged: calls that reach into another process or into the kernel itself: ptrace,
 * module loading, bpf(BPF_PROG_LOAD), mount and umount.
 *
 * All are built at sys_exit from the caller's saved registers, as opens are (open.bpf.c):
 * a call refused before it runs (seccomp, syscall user dispatch) reaches sys_exit but
 * never sys_enter, and these are the calls a confined process tries when it tries to get
 * out. Only bpf keeps an enter, to read the attr before the kernel copies it; its exit
 * reads the attr itself when the enter is missing. Times are the exit's, but bpf's. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "sealtrail/event.h"
#include "maps.bpf.h"
#include "syscall.bpf.h"
#include "path.bpf.h"

/* ---- ptrace ---------------------------------------------------------------------- */

/*
 * The requests worth a record: starting and ending a trace, and every request that changes
 * the tracee (memory, registers, signal state, seccomp bypass through options). Reads and
 * stepping (PEEK*, GET*, CONT, SYSCALL, SINGLESTEP, SYSEMU*, LISTEN, INTERRUPT) are not:
 * a debugger issues them by the thousand, and they follow an ATTACH/SEIZE/TRACEME that is
 * recorded. Numbers are the generic ones plus x86's (uapi asm/ptrace-abi.h).
 */
static __always_inline bool ptrace_recorded(long request)
{
	switch (request) {
	case 0:		/* PTRACE_TRACEME */
	case 4:		/* PTRACE_POKETEXT */
	case 5:		/* PTRACE_POKEDATA */
	case 6:		/* PTRACE_POKEUSR */
	case 8:		/* PTRACE_KILL */
	case 13:	/* PTRACE_SETREGS */
	case 15:	/* PTRACE_SETFPREGS */
	case 16:	/* PTRACE_ATTACH */
	case 17:	/* PTRACE_DETACH */
	case 19:	/* PTRACE_SETFPXREGS */
	case 26:	/* PTRACE_SET_THREAD_AREA */
	case 30:	/* PTRACE_ARCH_PRCTL */
	case 0x4200:	/* PTRACE_SETOPTIONS (PTRACE_O_SUSPEND_SECCOMP) */
	case 0x4203:	/* PTRACE_SETSIGINFO */
	case 0x4205:	/* PTRACE_SETREGSET */
	case 0x4206:	/* PTRACE_SEIZE */
	case 0x420b:	/* PTRACE_SETSIGMASK */
	case 0x4210:	/* PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG */
	case 0x4212:	/* PTRACE_SET_SYSCALL_INFO */
		return true;
	}
	return false;
}

/* The target pid is as the caller gave it, in the caller's pid namespace. */
SYS_EXIT(ptrace)
{
	struct st_record *r;
	struct scratch *s;

	if (!ptrace_recorded(sys_arg(regs, 0)))
		return 0;
	r = exit_record_begin(&s, bpf_get_current_task_btf(), ST_PTRACE, ST_SYS_PTRACE, ret);
	if (!r)
		return 0;
	r->arg[0] = sys_arg(regs, 0);
	r->arg[1] = (int)sys_arg(regs, 1);
	r->arg[2] = sys_arg(regs, 2);
	return record_submit(s);
}

/* ---- modules --------------------------------------------------------------------- */

/* Without CONFIG_MODULES the three calls still have their numbers and return ENOSYS: an
 * attempt to load a module is recorded all the same. */
static __always_inline int module_exit(struct pt_regs *regs, long ret, __u16 sys)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct st_record *r;
	struct scratch *s;
	__u64 a[3] = {};

	r = exit_record_begin(&s, task, ST_MODULE, sys, ret);
	if (!r)
		return 0;
	sys_args(regs, 3, a);
	switch (sys) {
	case ST_SYS_INIT_MODULE:	/* (image, len, args) */
		r->arg[0] = a[1];
		record_put_user_str(s, ST_S_NAME, (void *)a[2], ST_NAME_MAX, 0);
		break;
	case ST_SYS_FINIT_MODULE:	/* (fd, args, flags) */
		r->arg[0] = (int)a[0];
		r->arg[1] = a[2];
		path_of_file(s, fd_file(task, (int)a[0]), task_ns_root(task), ST_STR_NO_BASE);
		record_put_path(s, ST_S_PATH);
		record_put_user_str(s, ST_S_NAME, (void *)a[1], ST_NAME_MAX, 0);
		break;
	default:			/* delete_module(name, flags) */
		r->arg[1] = a[1];
		record_put_user_str(s, ST_S_NAME, (void *)a[0], ST_NAME_MAX, 0);
		break;
	}
	return record_submit(s);
}

SYS_EXIT(init_module) { return module_exit(regs, ret, ST_SYS_INIT_MODULE); }
SYS_EXIT(finit_module) { return module_exit(regs, ret, ST_SYS_FINIT_MODULE); }
SYS_EXIT(delete_module) { return module_exit(regs, ret, ST_SYS_DELETE_MODULE); }

/* ---- bpf(BPF_PROG_LOAD) ----------------------------------------------------------- */

#define BPF_PROG_LOAD_  5
#define ATTR_PROG_NAME	48	/* offsetof(union bpf_attr, prog_name): uapi, fixed */

/* The fields of the attr the record keeps: type and instruction count (its first 8
 * bytes), and the name when the caller's attr is long enough to hold one. */
static __always_inline void bpf_attr_read(struct inflight *e, const void *uattr, __u32 size)
{
	if (bpf_probe_read_user(&e->prog, 8, uattr))
		e->fault = 1;	/* attr unreadable: the exit flags the name as a fault */
	if (size >= ATTR_PROG_NAME + sizeof(e->prog.name))
		bpf_probe_read_user(e->prog.name, sizeof(e->prog.name), uattr + ATTR_PROG_NAME);
}

/* The attr is read at enter, as the kernel is about to copy it, not at exit when the
 * caller may have reused the memory. */
SYS_ENTER(bpf)
{
	struct inflight e;

	if (sys_arg(regs, 0) != BPF_PROG_LOAD_)
		return 0;
	if (!inflight_begin(&e, regs, 3, ST_SYS_BPF, ST_BPF))
		return 0;
	bpf_attr_read(&e, (const void *)sys_arg(regs, 1), sys_arg(regs, 2));
	inflight_store(&e);
	return 0;
}

/* ret is the new program's fd. Without an enter (a load refused before it ran, or one
 * already running when the capture started), the attr is read here, at the exit's time. */
SYS_EXIT(bpf)
{
	struct inflight *e;
	struct st_record *r;
	struct scratch *s;

	if (sys_arg(regs, 0) != BPF_PROG_LOAD_)
		return 0;
	s = scratch_get(ST_BPF);
	if (!s)
		return 0;
	e = inflight_take(s, ST_SYS_BPF);
	if (!e) {
		e = &s->in;
		if (!inflight_begin(e, regs, 3, ST_SYS_BPF, ST_BPF))
			return 0;
		bpf_attr_read(e, (const void *)sys_arg(regs, 1), sys_arg(regs, 2));
	}
	r = record_begin(s, ST_BPF, ST_SYS_BPF, e->ktime_ns, ret);
	r->arg[0] = BPF_PROG_LOAD_;
	r->arg[1] = e->prog.prog_type;
	r->arg[2] = e->prog.insn_cnt;
	record_put_kernel_str(s, ST_S_NAME, e->prog.name, sizeof(e->prog.name) - 1,
			      e->fault ? ST_STR_FAULT : 0);
	return record_submit(s);
}

/* ---- mount, umount ---------------------------------------------------------------- */

/* mount(source, target, fstype, flags, data): the target joined to cwd; the source as
 * given, flagged RAW (it may look like a path, or be "none", a device, a URL); fstype. */
SYS_EXIT(mount)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct st_record *r;
	struct scratch *s;

	r = exit_record_begin(&s, task, ST_MOUNT, ST_SYS_MOUNT, ret);
	if (!r)
		return 0;
	r->arg[0] = sys_arg(regs, 3);
	path_join(s, task, AT_FDCWD_, (const char *)sys_arg(regs, 1), false);
	record_put_path(s, ST_S_PATH);
	record_put_user_str(s, ST_S_NAME, (void *)sys_arg(regs, 2), ST_NAME_MAX, 0);
	record_put_user_str(s, ST_S_EXTRA, (void *)sys_arg(regs, 0), ST_PATH_MAX, ST_STR_RAW);
	return record_submit(s);
}

/* umount2(target, flags) */
SYS_EXIT(umount2)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct st_record *r;
	struct scratch *s;

	r = exit_record_begin(&s, task, ST_UMOUNT, ST_SYS_UMOUNT2, ret);
	if (!r)
		return 0;
	r->arg[0] = sys_arg(regs, 1);
	path_join(s, task, AT_FDCWD_, (const char *)sys_arg(regs, 0), false);
	record_put_path(s, ST_S_PATH);
	return record_submit(s);
}
