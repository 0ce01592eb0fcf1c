// SPDX-License-Identifier: GPL-2.0
/* privileged: calls that reach into another process or into the kernel itself: ptrace,
 * module loading, bpf(BPF_PROG_LOAD), mount and umount. */
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

SYS_ENTER(ptrace)
{
	if (!ptrace_recorded(sys_arg(regs, 0)))
		return 0;
	return inflight_save(regs, 4, ST_SYS_PTRACE, ST_PTRACE);
}

/* The target pid is as the caller gave it, in the caller's pid namespace. */
SYS_EXIT(ptrace)
{
	struct inflight *e;
	struct st_record *r;
	struct scratch *s;

	s = scratch_get(ST_PTRACE);
	if (!s)
		return 0;
	e = inflight_take(s, ST_SYS_PTRACE);
	if (!e) {
		if (ptrace_recorded(sys_arg(regs, 0)))
			inflight_missed(ST_PTRACE);
		return 0;
	}
	r = record_begin(s, ST_PTRACE, ST_SYS_PTRACE, e->ktime_ns, ret);
	r->arg[0] = e->args[0];
	r->arg[1] = (int)e->args[1];
	r->arg[2] = e->args[2];
	return record_submit(s);
}

/* ---- modules --------------------------------------------------------------------- */

/* Without CONFIG_MODULES the three calls still have their numbers and return ENOSYS: an
 * attempt to load a module is recorded all the same. */
static __always_inline int module_exit(long ret, __u16 sys)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct inflight *e;
	struct st_record *r;
	struct scratch *s;

	s = scratch_get(ST_MODULE);
	if (!s)
		return 0;
	e = inflight_take(s, sys);
	if (!e) {
		inflight_missed(ST_MODULE);
		return 0;
	}
	r = record_begin(s, ST_MODULE, sys, e->ktime_ns, ret);
	switch (sys) {
	case ST_SYS_INIT_MODULE:	/* (image, len, args) */
		r->arg[0] = e->args[1];
		record_put_user_str(s, ST_S_NAME, (void *)e->args[2], ST_NAME_MAX, 0);
		break;
	case ST_SYS_FINIT_MODULE:	/* (fd, args, flags) */
		r->arg[0] = (int)e->args[0];
		r->arg[1] = e->args[2];
		path_of_file(s, fd_file(task, (int)e->args[0]), task_ns_root(task), ST_STR_NO_BASE);
		record_put_path(s, ST_S_PATH);
		record_put_user_str(s, ST_S_NAME, (void *)e->args[1], ST_NAME_MAX, 0);
		break;
	default:			/* delete_module(name, flags) */
		r->arg[1] = e->args[1];
		record_put_user_str(s, ST_S_NAME, (void *)e->args[0], ST_NAME_MAX, 0);
		break;
	}
	return record_submit(s);
}

SYS_ENTER(init_module) { return inflight_save(regs, 3, ST_SYS_INIT_MODULE, ST_MODULE); }
SYS_EXIT(init_module) { return module_exit(ret, ST_SYS_INIT_MODULE); }
SYS_ENTER(finit_module) { return inflight_save(regs, 3, ST_SYS_FINIT_MODULE, ST_MODULE); }
SYS_EXIT(finit_module) { return module_exit(ret, ST_SYS_FINIT_MODULE); }
SYS_ENTER(delete_module) { return inflight_save(regs, 2, ST_SYS_DELETE_MODULE, ST_MODULE); }
SYS_EXIT(delete_module) { return module_exit(ret, ST_SYS_DELETE_MODULE); }

/* ---- bpf(BPF_PROG_LOAD) ----------------------------------------------------------- */

#define BPF_PROG_LOAD_  5
#define ATTR_PROG_NAME	48	/* offsetof(union bpf_attr, prog_name): uapi, fixed */

/* The attr is read at enter, as the kernel is about to copy it, not at exit when the
 * caller may have reused the memory. */
SYS_ENTER(bpf)
{
	const void *uattr = (const void *)sys_arg(regs, 1);
	__u32 size = sys_arg(regs, 2);
	struct inflight e;

	if (sys_arg(regs, 0) != BPF_PROG_LOAD_)
		return 0;
	if (!inflight_begin(&e, regs, 3, ST_SYS_BPF, ST_BPF))
		return 0;
	if (bpf_probe_read_user(&e.prog, 8, uattr))
		e.fault = 1;	/* attr unreadable: the exit flags the name as a fault */
	if (size >= ATTR_PROG_NAME + sizeof(e.prog.name))
		bpf_probe_read_user(e.prog.name, sizeof(e.prog.name), uattr + ATTR_PROG_NAME);
	inflight_store(&e);
	return 0;
}

/* ret is the new program's fd. */
SYS_EXIT(bpf)
{
	struct inflight *e;
	struct st_record *r;
	struct scratch *s;

	s = scratch_get(ST_BPF);
	if (!s)
		return 0;
	e = inflight_take(s, ST_SYS_BPF);
	if (!e) {
		if (sys_arg(regs, 0) == BPF_PROG_LOAD_)
			inflight_missed(ST_BPF);
		return 0;
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
SYS_ENTER(mount) { return inflight_save(regs, 5, ST_SYS_MOUNT, ST_MOUNT); }

SYS_EXIT(mount)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct inflight *e;
	struct st_record *r;
	struct scratch *s;

	s = scratch_get(ST_MOUNT);
	if (!s)
		return 0;
	e = inflight_take(s, ST_SYS_MOUNT);
	if (!e) {
		inflight_missed(ST_MOUNT);
		return 0;
	}
	r = record_begin(s, ST_MOUNT, ST_SYS_MOUNT, e->ktime_ns, ret);
	r->arg[0] = e->args[3];
	path_join(s, task, AT_FDCWD_, (const char *)e->args[1], false);
	record_put_path(s, ST_S_PATH);
	record_put_user_str(s, ST_S_NAME, (void *)e->args[2], ST_NAME_MAX, 0);
	record_put_user_str(s, ST_S_EXTRA, (void *)e->args[0], ST_PATH_MAX, ST_STR_RAW);
	return record_submit(s);
}

/* umount2(target, flags) */
SYS_ENTER(umount2) { return inflight_save(regs, 2, ST_SYS_UMOUNT2, ST_UMOUNT); }

SYS_EXIT(umount2)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct inflight *e;
	struct st_record *r;
	struct scratch *s;

	s = scratch_get(ST_UMOUNT);
	if (!s)
		return 0;
	e = inflight_take(s, ST_SYS_UMOUNT2);
	if (!e) {
		inflight_missed(ST_UMOUNT);
		return 0;
	}
	r = record_begin(s, ST_UMOUNT, ST_SYS_UMOUNT2, e->ktime_ns, ret);
	r->arg[0] = e->args[1];
	path_join(s, task, AT_FDCWD_, (const char *)e->args[0], false);
	record_put_path(s, ST_S_PATH);
	return record_submit(s);
}
