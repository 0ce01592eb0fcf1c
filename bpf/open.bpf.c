// SPDX-License-Identifier: GPL-2.0
/*
 * open: open, openat, openat2 and creat. Two kinds of record:
 * - opens that may write or create (write access, O_CREAT, O_TRUNC, O_TMPFILE), decided
 *   at enter from the flags; the only ones that pay for an inflight entry. Successful ones
 *   are resolved from the opened file, failed ones by joining the name to its base.
 * - successful read-only opens of a sensitive path, found at exit from the opened file
 *   alone (its flags, its dentry); they need no enter. Failed read-only opens are not
 *   recorded: nothing was read, and they are the noise of every library search path.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "sealtrail/event.h"
#include "maps.bpf.h"
#include "syscall.bpf.h"
#include "path.bpf.h"
#include "file_filter.bpf.h"

#define O_ACCMODE_  00000003
#define O_WRONLY_   00000001
#define O_CREAT_    00000100
#define O_TRUNC_    00001000
#define O_PATH_	    010000000
#define O_TMPFILE_  020000000	/* __O_TMPFILE, without O_DIRECTORY */
#define FMODE_WRITE_ 0x2
#define FMODE_PATH_ 0x4000

/* O_PATH opens neither read nor write, whatever else is set. */
static __always_inline bool open_may_write(__u64 flags)
{
	if (flags & O_PATH_)
		return false;
	return (flags & O_ACCMODE_) != 0 || (flags & (O_CREAT_ | O_TRUNC_ | O_TMPFILE_));
}

/* struct open_how { u64 flags, mode, resolve; }: the first two fields. */
static __always_inline bool openat2_how(const void *uhow, __u64 *flags, __u64 *mode)
{
	__u64 how[2];

	if (bpf_probe_read_user(how, sizeof(how), uhow))
		return false;
	*flags = how[0];
	*mode = how[1];
	return true;
}

/* Flags and mode as the caller passed them: from the enter's args, or (no enter) from the
 * registers at exit. */
static __always_inline void open_args(__u16 sys, const __u64 *args, __u64 *flags, __u64 *mode)
{
	*flags = 0;
	*mode = 0;
	switch (sys) {
	case ST_SYS_OPEN:	/* (name, flags, mode) */
		*flags = args[1];
		*mode = args[2];
		break;
	case ST_SYS_OPENAT:	/* (dirfd, name, flags, mode) */
		*flags = args[2];
		*mode = args[3];
		break;
	case ST_SYS_OPENAT2:	/* (dirfd, name, how, size) */
		/* unreadable how: treated as a write, so the call is not missed */
		if (!openat2_how((const void *)args[2], flags, mode))
			*flags = O_WRONLY_;
		break;
	default:		/* creat(name, mode) */
		*flags = O_CREAT_ | O_WRONLY_ | O_TRUNC_;
		*mode = args[1];
		break;
	}
}

static __always_inline int open_enter(struct pt_regs *regs, int nargs, __u16 sys)
{
	__u64 args[4] = {};
	struct inflight e;
	__u64 flags, mode;

	sys_enter_args(regs, nargs, args);
	open_args(sys, args, &flags, &mode);
	if (!open_may_write(flags))
		return 0;
	if (!inflight_begin(&e, regs, nargs, sys, ST_OPEN))
		return 0;
	e.open.flags = flags;
	e.open.mode = mode;
	inflight_store(&e);
	return 0;
}

static __always_inline void exit_args(struct pt_regs *regs, __u64 *args)
{
	args[0] = sys_arg(regs, 0);
	args[1] = sys_arg(regs, 1);
	args[2] = sys_arg(regs, 2);
	args[3] = sys_arg(regs, 3);
}

/* A read-only open that succeeded: a record only if the file is on the sensitive list. */
static __always_inline int open_exit_read(struct scratch *s, struct pt_regs *regs, long ret,
					  __u16 sys)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct file *file = fd_file(task, ret);
	struct st_record *r;
	__u64 args[4];
	__u32 fmode;

	if (!file)
		return 0;
	fmode = KREAD(struct file, file, f_mode);
	if (fmode & FMODE_WRITE_) {	/* a write open whose enter is missing */
		inflight_missed(ST_OPEN);
		return 0;
	}
	if (fmode & FMODE_PATH_)
		return 0;
	if (!sensitive_match(s, KREAD(struct file, file, f_path.dentry)))
		return 0;
	if (task_ignored(task))
		return 0;
	/* No enter: the time is the exit's, the arguments come from the registers. */
	r = record_begin(s, ST_OPEN, sys, bpf_ktime_get_boot_ns(), ret);
	exit_args(regs, args);
	open_args(sys, args, &r->arg[0], &r->arg[1]);
	r->arg[2] = (sys == ST_SYS_OPENAT || sys == ST_SYS_OPENAT2) ? dirfd_arg(args[0]) :
								      dirfd_arg(AT_FDCWD_);
	r->flags = ST_F_SENSITIVE;
	path_of_file(s, file, task_ns_root(task), ST_STR_NO_BASE);
	record_put_path(s, ST_S_PATH);
	return record_submit(s);
}

static __always_inline int open_exit(struct pt_regs *regs, long ret, __u16 sys)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct file *file = NULL;
	struct inflight *e;
	struct st_record *r;
	struct scratch *s;
	__u64 args[4], flags, mode;
	const char *name;
	long dirfd;

	s = scratch_get(ST_OPEN);
	if (!s)
		return 0;
	e = inflight_take(s, sys);
	if (!e) {
		if (ret >= 0)
			return open_exit_read(s, regs, ret, sys);
		/* Failed: not recorded if read-only, lost if it was a write. */
		exit_args(regs, args);
		open_args(sys, args, &flags, &mode);
		if (open_may_write(flags))
			inflight_missed(ST_OPEN);
		return 0;
	}
	if (sys == ST_SYS_OPENAT || sys == ST_SYS_OPENAT2) {
		dirfd = (int)e->args[0];
		name = (const char *)e->args[1];
	} else {
		dirfd = AT_FDCWD_;
		name = (const char *)e->args[0];
	}
	r = record_begin(s, ST_OPEN, sys, e->ktime_ns, ret);
	r->arg[0] = e->open.flags;
	r->arg[1] = e->open.mode;
	r->arg[2] = dirfd_arg(dirfd);
	if (ret >= 0)
		file = fd_file(task, ret);
	if (file) {
		path_of_file(s, file, task_ns_root(task), ST_STR_NO_BASE);
		if (sensitive_match(s, KREAD(struct file, file, f_path.dentry)))
			r->flags |= ST_F_SENSITIVE;
	} else {
		path_join(s, task, dirfd, name, false);
	}
	record_put_path(s, ST_S_PATH);
	/* A sensitive match is kept whatever the path rules say. */
	if (!(r->flags & ST_F_SENSITIVE) && path_ignored(s, sizeof(*r), ST_S_PATH))
		return 0;
	return record_submit(s);
}

SYS_ENTER(open) { return open_enter(regs, 3, ST_SYS_OPEN); }
SYS_EXIT(open) { return open_exit(regs, ret, ST_SYS_OPEN); }
SYS_ENTER(openat) { return open_enter(regs, 4, ST_SYS_OPENAT); }
SYS_EXIT(openat) { return open_exit(regs, ret, ST_SYS_OPENAT); }
SYS_ENTER(openat2) { return open_enter(regs, 4, ST_SYS_OPENAT2); }
SYS_EXIT(openat2) { return open_exit(regs, ret, ST_SYS_OPENAT2); }
SYS_ENTER(creat) { return open_enter(regs, 2, ST_SYS_CREAT); }
SYS_EXIT(creat) { return open_exit(regs, ret, ST_SYS_CREAT); }
