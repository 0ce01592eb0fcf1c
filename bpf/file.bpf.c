// SPDX-License-Identifier: GPL-2.0
/*
 * file: changes to files other than opening them: unlink, rmdir, rename, mkdir, link,
 * symlink, chmod, chown, truncate, extended attributes and chattr (ioctl FS_IOC_SETFLAGS,
 * FS_IOC_FSSETXATTR). Names are joined to their base at exit (path.bpf.h); fd-based calls
 * resolve the fd's file. Path rules are applied to the result.
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

#define AT_REMOVEDIR_	    0x200
#define FS_IOC_SETFLAGS_    0x40086602	/* _IOW('f', 2, long) */
#define FS_IOC_FSSETXATTR_  0x401c5820	/* _IOW('X', 32, struct fsxattr) */

/* VFS inode flags (include/linux/fs.h S_*) mirrored from the filesystem's own. */
#define S_SYNC_		(1 << 0)
#define S_NOATIME_	(1 << 1)
#define S_APPEND_	(1 << 2)
#define S_IMMUTABLE_	(1 << 3)
#define S_DIRSYNC_	(1 << 6)

/* PATH or PATH2: a name relative to dirfd. */
static __always_inline void put_name(struct scratch *s, int slot, struct task_struct *task,
				     long dirfd, __u64 uname, bool empty_path)
{
	path_join(s, task, dirfd, (const char *)uname, empty_path);
	record_put_path(s, slot);
}

/* PATH: the file behind fd. A bad fd that the call itself refused is no loss. */
static __always_inline void put_fd(struct scratch *s, struct task_struct *task, long fd, long ret)
{
	path_of_file(s, fd_file(task, (int)fd), task_ns_root(task),
		     ret == -EBADF_ ? 0 : ST_STR_NO_BASE);
	record_put_path(s, ST_S_PATH);
}

/*
 * The old chattr flags, from the VFS copy in inode->i_flags: only append, immutable, sync,
 * noatime and dirsync are there, so other bits (extents, ...) read 0 here while the new
 * value, as the caller passed it, carries them all. FS_IOC_FSSETXATTR speaks FS_XFLAG_*.
 */
static __always_inline __u64 setflags_old(struct file *file, __u32 cmd)
{
	__u32 iflags = BPF_CORE_READ(file, f_inode, i_flags);
	__u64 flags = 0;

	if (cmd == FS_IOC_SETFLAGS_) {
		if (iflags & S_SYNC_)
			flags |= 0x00000008;	/* FS_SYNC_FL */
		if (iflags & S_IMMUTABLE_)
			flags |= 0x00000010;	/* FS_IMMUTABLE_FL */
		if (iflags & S_APPEND_)
			flags |= 0x00000020;	/* FS_APPEND_FL */
		if (iflags & S_NOATIME_)
			flags |= 0x00000080;	/* FS_NOATIME_FL */
		if (iflags & S_DIRSYNC_)
			flags |= 0x00010000;	/* FS_DIRSYNC_FL */
	} else {
		if (iflags & S_IMMUTABLE_)
			flags |= 0x00000008;	/* FS_XFLAG_IMMUTABLE */
		if (iflags & S_APPEND_)
			flags |= 0x00000010;	/* FS_XFLAG_APPEND */
		if (iflags & S_SYNC_)
			flags |= 0x00000020;	/* FS_XFLAG_SYNC */
		if (iflags & S_NOATIME_)
			flags |= 0x00000040;	/* FS_XFLAG_NOATIME */
	}
	return flags;
}

/* The ioctl handlers run for every ioctl on the system: the command is checked before
 * anything else, at enter and at exit. */
static __always_inline bool setflags_cmd(__u32 cmd)
{
	return cmd == FS_IOC_SETFLAGS_ || cmd == FS_IOC_FSSETXATTR_;
}

SYS_ENTER(ioctl)
{
	__u32 cmd = sys_arg(regs, 1), new_flags = 0;
	const void *uarg = (const void *)sys_arg(regs, 2);
	struct file *file;
	struct inflight e;

	if (!setflags_cmd(cmd))
		return 0;
	if (!inflight_begin(&e, regs, 3, ST_SYS_IOCTL, ST_SETFLAGS))
		return 0;
	file = fd_file(bpf_get_current_task_btf(), (int)e.args[0]);
	if (file)
		e.setflags.old_flags = setflags_old(file, cmd);
	/* FS_IOC_SETFLAGS passes an int; struct fsxattr starts with fsx_xflags. */
	bpf_probe_read_user(&new_flags, sizeof(new_flags), uarg);
	e.setflags.new_flags = new_flags;
	inflight_store(&e);
	return 0;
}

/* setxattrat's struct xattr_args { u64 value; u32 size; u32 flags; }, which the kernel
 * has copied by the time of the exit: size and flags. */
static __always_inline void xattr_args(const __u64 *a, __u64 *size, __u64 *flags)
{
	struct xattr_args args = {};

	if (a[5] >= sizeof(args))
		bpf_probe_read_user(&args, sizeof(args), (const void *)a[4]);
	*size = args.size;
	*flags = args.flags;
}

/*
 * Builds and sends the record for the call `sys` (a constant: each program keeps only its
 * own case). Like opens, these calls are handled at sys_exit alone, their arguments read
 * from the caller's saved registers (names from user memory the kernel has just read),
 * so that a call refused before it runs (seccomp) is recorded too; the time is the
 * exit's. Only ioctl (chattr) has an enter: the old flags must be read before the call.
 */
static __always_inline int file_exit(struct pt_regs *regs, long ret, __u16 sys, __u16 type)
{
	struct task_struct *task = bpf_get_current_task_btf();
	long cwd = AT_FDCWD_;
	bool two_paths = false;
	struct inflight *e = NULL;
	struct st_record *r;
	struct scratch *s;
	__u64 args[6] = {}, *a = args, ktime_ns;

	s = scratch_get(type);
	if (!s)
		return 0;
	if (sys == ST_SYS_IOCTL) {
		e = inflight_take(s, sys);
		if (!e) {
			inflight_missed(type);
			return 0;
		}
		a = e->args;
		ktime_ns = e->ktime_ns;
	} else {
		if (task_ignored(task))
			return 0;
		sys_args(regs, 6, args);
		ktime_ns = bpf_ktime_get_boot_ns();
	}
	r = record_begin_task(s, task, type, sys, ktime_ns, ret);
	switch (sys) {
	case ST_SYS_UNLINK:		/* (name) */
	case ST_SYS_RMDIR:
		r->arg[0] = dirfd_arg(cwd);
		put_name(s, ST_S_PATH, task, cwd, a[0], false);
		break;
	case ST_SYS_UNLINKAT:		/* (dirfd, name, flags) */
		r->arg[0] = dirfd_arg(a[0]);
		if (type == ST_UNLINK)
			r->arg[1] = a[2];
		put_name(s, ST_S_PATH, task, (int)a[0], a[1], false);
		break;
	case ST_SYS_RENAME:		/* (old, new) */
		r->arg[0] = r->arg[1] = dirfd_arg(cwd);
		put_name(s, ST_S_PATH, task, cwd, a[0], false);
		put_name(s, ST_S_PATH2, task, cwd, a[1], false);
		two_paths = true;
		break;
	case ST_SYS_RENAMEAT:		/* (olddirfd, old, newdirfd, new[, flags]) */
	case ST_SYS_RENAMEAT2:
		r->arg[0] = dirfd_arg(a[0]);
		r->arg[1] = dirfd_arg(a[2]);
		r->arg[2] = sys == ST_SYS_RENAMEAT2 ? a[4] : 0;
		put_name(s, ST_S_PATH, task, (int)a[0], a[1], false);
		put_name(s, ST_S_PATH2, task, (int)a[2], a[3], false);
		two_paths = true;
		break;
	case ST_SYS_MKDIR:		/* (name, mode) */
		r->arg[0] = a[1];
		r->arg[1] = dirfd_arg(cwd);
		put_name(s, ST_S_PATH, task, cwd, a[0], false);
		break;
	case ST_SYS_MKDIRAT:		/* (dirfd, name, mode) */
		r->arg[0] = a[2];
		r->arg[1] = dirfd_arg(a[0]);
		put_name(s, ST_S_PATH, task, (int)a[0], a[1], false);
		break;
	case ST_SYS_LINK:		/* (existing, new): PATH = new, PATH2 = existing */
		r->arg[0] = r->arg[1] = dirfd_arg(cwd);
		put_name(s, ST_S_PATH, task, cwd, a[1], false);
		put_name(s, ST_S_PATH2, task, cwd, a[0], false);
		two_paths = true;
		break;
	case ST_SYS_LINKAT:		/* (olddirfd, existing, newdirfd, new, flags) */
		r->arg[0] = dirfd_arg(a[0]);
		r->arg[1] = dirfd_arg(a[2]);
		r->arg[2] = a[4];
		put_name(s, ST_S_PATH, task, (int)a[2], a[3], false);
		put_name(s, ST_S_PATH2, task, (int)a[0], a[1], a[4] & AT_EMPTY_PATH_);
		two_paths = true;
		break;
	case ST_SYS_SYMLINK:		/* (target, linkpath) */
		r->arg[0] = dirfd_arg(cwd);
		put_name(s, ST_S_PATH, task, cwd, a[1], false);
		record_put_user_str(s, ST_S_NAME, (void *)a[0], ST_PATH_MAX, ST_STR_RAW);
		break;
	case ST_SYS_SYMLINKAT:		/* (target, newdirfd, linkpath) */
		r->arg[0] = dirfd_arg(a[1]);
		put_name(s, ST_S_PATH, task, (int)a[1], a[2], false);
		record_put_user_str(s, ST_S_NAME, (void *)a[0], ST_PATH_MAX, ST_STR_RAW);
		break;
	case ST_SYS_CHMOD:		/* (name, mode) */
		r->arg[0] = a[1];
		r->arg[1] = dirfd_arg(cwd);
		put_name(s, ST_S_PATH, task, cwd, a[0], false);
		break;
	case ST_SYS_FCHMOD:		/* (fd, mode) */
		r->arg[0] = a[1];
		r->arg[1] = dirfd_arg(a[0]);
		put_fd(s, task, a[0], ret);
		break;
	case ST_SYS_FCHMODAT:		/* (dirfd, name, mode[, flags]) */
	case ST_SYS_FCHMODAT2:
		r->arg[0] = a[2];
		r->arg[1] = dirfd_arg(a[0]);
		r->arg[2] = sys == ST_SYS_FCHMODAT2 ? a[3] : 0;
		put_name(s, ST_S_PATH, task, (int)a[0], a[1],
			 sys == ST_SYS_FCHMODAT2 && (a[3] & AT_EMPTY_PATH_));
		break;
	case ST_SYS_CHOWN:		/* (name, uid, gid) */
	case ST_SYS_LCHOWN:
		r->arg[0] = (__u32)a[1];
		r->arg[1] = (__u32)a[2];
		r->arg[2] = dirfd_arg(cwd);
		put_name(s, ST_S_PATH, task, cwd, a[0], false);
		break;
	case ST_SYS_FCHOWN:		/* (fd, uid, gid) */
		r->arg[0] = (__u32)a[1];
		r->arg[1] = (__u32)a[2];
		r->arg[2] = dirfd_arg(a[0]);
		put_fd(s, task, a[0], ret);
		break;
	case ST_SYS_FCHOWNAT:		/* (dirfd, name, uid, gid, flags) */
		r->arg[0] = (__u32)a[2];
		r->arg[1] = (__u32)a[3];
		r->arg[2] = dirfd_arg(a[0]);
		r->arg[3] = a[4];
		put_name(s, ST_S_PATH, task, (int)a[0], a[1], a[4] & AT_EMPTY_PATH_);
		break;
	case ST_SYS_TRUNCATE:		/* (name, length) */
		r->arg[0] = a[1];
		put_name(s, ST_S_PATH, task, cwd, a[0], false);
		break;
	case ST_SYS_FTRUNCATE:		/* (fd, length) */
		r->arg[0] = a[1];
		put_fd(s, task, a[0], ret);
		break;
	case ST_SYS_SETXATTR:		/* (name, attr, value, size, flags) */
	case ST_SYS_LSETXATTR:
		r->arg[0] = a[3];
		r->arg[1] = a[4];
		put_name(s, ST_S_PATH, task, cwd, a[0], false);
		record_put_user_str(s, ST_S_NAME, (void *)a[1], ST_NAME_MAX, 0);
		break;
	case ST_SYS_FSETXATTR:		/* (fd, attr, value, size, flags) */
		r->arg[0] = a[3];
		r->arg[1] = a[4];
		put_fd(s, task, a[0], ret);
		record_put_user_str(s, ST_S_NAME, (void *)a[1], ST_NAME_MAX, 0);
		break;
	case ST_SYS_SETXATTRAT:		/* (dirfd, name, at_flags, attr, args, size) */
		xattr_args(a, &r->arg[0], &r->arg[1]);
		put_name(s, ST_S_PATH, task, (int)a[0], a[1], a[2] & AT_EMPTY_PATH_);
		record_put_user_str(s, ST_S_NAME, (void *)a[3], ST_NAME_MAX, 0);
		break;
	case ST_SYS_REMOVEXATTR:	/* (name, attr) */
	case ST_SYS_LREMOVEXATTR:
		put_name(s, ST_S_PATH, task, cwd, a[0], false);
		record_put_user_str(s, ST_S_NAME, (void *)a[1], ST_NAME_MAX, 0);
		break;
	case ST_SYS_FREMOVEXATTR:	/* (fd, attr) */
		put_fd(s, task, a[0], ret);
		record_put_user_str(s, ST_S_NAME, (void *)a[1], ST_NAME_MAX, 0);
		break;
	case ST_SYS_REMOVEXATTRAT:	/* (dirfd, name, at_flags, attr) */
		put_name(s, ST_S_PATH, task, (int)a[0], a[1], a[2] & AT_EMPTY_PATH_);
		record_put_user_str(s, ST_S_NAME, (void *)a[3], ST_NAME_MAX, 0);
		break;
	case ST_SYS_IOCTL:		/* (fd, cmd, arg) */
		if (!e)
			return 0;	/* for the verifier: e is set for ioctl */
		r->arg[0] = e->setflags.old_flags;
		r->arg[1] = e->setflags.new_flags;
		r->arg[2] = (__u32)a[1];
		put_fd(s, task, a[0], ret);
		break;
	}
	/* Dropped only when every path of the record is ignored. */
	if (path_ignored(s, sizeof(*r), ST_S_PATH) &&
	    (!two_paths || path_ignored(s, sizeof(*r) + r->str[ST_S_PATH].len, ST_S_PATH2)))
		return 0;
	return record_submit(s);
}

#define FILE_SYSCALL(name, sys, type) \
	SYS_EXIT(name) { return file_exit(regs, ret, sys, type); }

FILE_SYSCALL(unlink, ST_SYS_UNLINK, ST_UNLINK)
FILE_SYSCALL(rmdir, ST_SYS_RMDIR, ST_RMDIR)
FILE_SYSCALL(rename, ST_SYS_RENAME, ST_RENAME)
FILE_SYSCALL(renameat, ST_SYS_RENAMEAT, ST_RENAME)
FILE_SYSCALL(renameat2, ST_SYS_RENAMEAT2, ST_RENAME)
FILE_SYSCALL(mkdir, ST_SYS_MKDIR, ST_MKDIR)
FILE_SYSCALL(mkdirat, ST_SYS_MKDIRAT, ST_MKDIR)
FILE_SYSCALL(link, ST_SYS_LINK, ST_LINK)
FILE_SYSCALL(linkat, ST_SYS_LINKAT, ST_LINK)
FILE_SYSCALL(symlink, ST_SYS_SYMLINK, ST_SYMLINK)
FILE_SYSCALL(symlinkat, ST_SYS_SYMLINKAT, ST_SYMLINK)
FILE_SYSCALL(chmod, ST_SYS_CHMOD, ST_CHMOD)
FILE_SYSCALL(fchmod, ST_SYS_FCHMOD, ST_CHMOD)
FILE_SYSCALL(fchmodat, ST_SYS_FCHMODAT, ST_CHMOD)
FILE_SYSCALL(fchmodat2, ST_SYS_FCHMODAT2, ST_CHMOD)
FILE_SYSCALL(chown, ST_SYS_CHOWN, ST_CHOWN)
FILE_SYSCALL(fchown, ST_SYS_FCHOWN, ST_CHOWN)
FILE_SYSCALL(lchown, ST_SYS_LCHOWN, ST_CHOWN)
FILE_SYSCALL(fchownat, ST_SYS_FCHOWNAT, ST_CHOWN)
FILE_SYSCALL(truncate, ST_SYS_TRUNCATE, ST_TRUNCATE)
FILE_SYSCALL(ftruncate, ST_SYS_FTRUNCATE, ST_TRUNCATE)
FILE_SYSCALL(setxattr, ST_SYS_SETXATTR, ST_XATTR)
FILE_SYSCALL(lsetxattr, ST_SYS_LSETXATTR, ST_XATTR)
FILE_SYSCALL(fsetxattr, ST_SYS_FSETXATTR, ST_XATTR)
FILE_SYSCALL(removexattr, ST_SYS_REMOVEXATTR, ST_XATTR)
FILE_SYSCALL(lremovexattr, ST_SYS_LREMOVEXATTR, ST_XATTR)
FILE_SYSCALL(fremovexattr, ST_SYS_FREMOVEXATTR, ST_XATTR)
FILE_SYSCALL(removexattrat, ST_SYS_REMOVEXATTRAT, ST_XATTR)

SYS_EXIT(unlinkat)
{
	return file_exit(regs, ret, ST_SYS_UNLINKAT,
			 (sys_arg(regs, 2) & AT_REMOVEDIR_) ? ST_RMDIR : ST_UNLINK);
}
SYS_EXIT(setxattrat) { return file_exit(regs, ret, ST_SYS_SETXATTRAT, ST_XATTR); }

/* The enter is above. */
SYS_EXIT(ioctl)
{
	if (!setflags_cmd(sys_arg(regs, 1)))
		return 0;
	return file_exit(regs, ret, ST_SYS_IOCTL, ST_SETFLAGS);
}
