// SPDX-License-Identifier: GPL-2.0
/*
 * open: open, openat, openat2 and creat, handled at sys_exit only: the arguments are still
 * in the caller's saved registers there, a successful open is resolved from the file it
 * opened, and a failed one names its path in user memory the kernel has just read. No
 * enter means no inflight entry to save and take back, and no enter to lose: about 150 ns
 * off every open (the open storm of `make bench`). It also means that opens refused before
 * the call runs (by seccomp, or syscall user dispatch), which never reach sys_enter, are
 * recorded like any failed call. The record's time is the exit's.
 *
 * Two kinds of record:
 * - opens that may write or create (write access, O_CREAT, O_TRUNC, O_TMPFILE), decided
 *   from the flags; successful ones are resolved from the opened file, failed ones by
 *   joining the name to its base.
 * - successful read-only opens of a sensitive path. Failed read-only opens are not
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

/* Flags and mode as the caller passed them, from its registers. */
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

/* The dirfd a record stores: AT_FDCWD for the calls that have none. */
static __always_inline __u64 open_dirfd(__u16 sys, const __u64 *args)
{
	return dirfd_arg(sys == ST_SYS_OPENAT || sys == ST_SYS_OPENAT2 ? (long)args[0] : AT_FDCWD_);
}

static __always_inline int open_exit(struct pt_regs *regs, long ret, __u16 sys)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct file *file = NULL;
	bool write, sensitive = false;
	struct st_record *r;
	struct scratch *s;
	__u64 args[4], flags, mode;
	const char *name;

	/* openat's handler is tail-called before the dispatcher's compat test (hot_exit_nr) */
	if (task_compat(task)) {
		compat_count();
		return 0;
	}
	sys_args(regs, 4, args);
	open_args(sys, args, &flags, &mode);
	write = open_may_write(flags);
	if (ret >= 0)
		file = fd_file(task, ret);
	/* A read-only open is a record only when it opened a sensitive file: not when it
	 * failed, nor when another thread closed its fd already (nothing tells what it
	 * opened), nor for O_PATH. */
	if (!write && (!file || (KREAD(struct file, file, f_mode) & FMODE_PATH_)))
		return 0;
	s = scratch_get(ST_OPEN);
	if (!s)
		return 0;
	if (!write) {
		if (!sensitive_match(s, KREAD(struct file, file, f_path.dentry)))
			return 0;
		sensitive = true;
	}
	if (task_ignored(task))
		return 0;
	r = record_begin_task(s, task, ST_OPEN, sys, bpf_ktime_get_boot_ns(), ret);
	r->arg[0] = flags;
	r->arg[1] = mode;
	r->arg[2] = open_dirfd(sys, args);
	if (file) {
		path_of_file(s, file, task_ns_root(task), ST_STR_NO_BASE);
		/* Write opens of sensitive files are flagged too. */
		if (sensitive || sensitive_match(s, KREAD(struct file, file, f_path.dentry)))
			r->flags |= ST_F_SENSITIVE;
	} else {
		name = (const char *)(sys == ST_SYS_OPENAT || sys == ST_SYS_OPENAT2 ? args[1] :
										       args[0]);
		path_join(s, task, (long)r->arg[2], name, false);
	}
	record_put_path(s, ST_S_PATH);
	/* A sensitive match is kept whatever the path rules say. */
	if (!(r->flags & ST_F_SENSITIVE) && path_ignored(s, sizeof(*r), ST_S_PATH))
		return 0;
	return record_submit(s);
}

SYS_EXIT(open) { return open_exit(regs, ret, ST_SYS_OPEN); }
SYS_EXIT(openat) { return open_exit(regs, ret, ST_SYS_OPENAT); }
SYS_EXIT(openat2) { return open_exit(regs, ret, ST_SYS_OPENAT2); }
SYS_EXIT(creat) { return open_exit(regs, ret, ST_SYS_CREAT); }
