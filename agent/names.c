/* names: number-to-name tables (see names.h). */
#include "names.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <bpf/libbpf.h>
#include <linux/fs.h>
#include <linux/types.h>
#include "sealtrail/event.h"

static const char *const syscalls[ST_SYS_MAX] = {
	[ST_SYS_EXECVE] = "execve", [ST_SYS_EXECVEAT] = "execveat", [ST_SYS_CLONE] = "clone",
	[ST_SYS_CLONE3] = "clone3", [ST_SYS_FORK] = "fork", [ST_SYS_VFORK] = "vfork",
	[ST_SYS_SETUID] = "setuid", [ST_SYS_SETGID] = "setgid", [ST_SYS_SETREUID] = "setreuid",
	[ST_SYS_SETREGID] = "setregid", [ST_SYS_SETRESUID] = "setresuid",
	[ST_SYS_SETRESGID] = "setresgid", [ST_SYS_SETFSUID] = "setfsuid",
	[ST_SYS_SETFSGID] = "setfsgid", [ST_SYS_SETGROUPS] = "setgroups",
	[ST_SYS_CAPSET] = "capset", [ST_SYS_PTRACE] = "ptrace",
	[ST_SYS_INIT_MODULE] = "init_module", [ST_SYS_FINIT_MODULE] = "finit_module",
	[ST_SYS_DELETE_MODULE] = "delete_module", [ST_SYS_BPF] = "bpf", [ST_SYS_MOUNT] = "mount",
	[ST_SYS_UMOUNT2] = "umount2", [ST_SYS_OPEN] = "open", [ST_SYS_OPENAT] = "openat",
	[ST_SYS_OPENAT2] = "openat2", [ST_SYS_CREAT] = "creat", [ST_SYS_UNLINK] = "unlink",
	[ST_SYS_UNLINKAT] = "unlinkat", [ST_SYS_RMDIR] = "rmdir", [ST_SYS_RENAME] = "rename",
	[ST_SYS_RENAMEAT] = "renameat", [ST_SYS_RENAMEAT2] = "renameat2", [ST_SYS_MKDIR] = "mkdir",
	[ST_SYS_MKDIRAT] = "mkdirat", [ST_SYS_LINK] = "link", [ST_SYS_LINKAT] = "linkat",
	[ST_SYS_SYMLINK] = "symlink", [ST_SYS_SYMLINKAT] = "symlinkat", [ST_SYS_CHMOD] = "chmod",
	[ST_SYS_FCHMOD] = "fchmod", [ST_SYS_FCHMODAT] = "fchmodat",
	[ST_SYS_FCHMODAT2] = "fchmodat2", [ST_SYS_CHOWN] = "chown", [ST_SYS_FCHOWN] = "fchown",
	[ST_SYS_LCHOWN] = "lchown", [ST_SYS_FCHOWNAT] = "fchownat", [ST_SYS_TRUNCATE] = "truncate",
	[ST_SYS_FTRUNCATE] = "ftruncate", [ST_SYS_SETXATTR] = "setxattr",
	[ST_SYS_LSETXATTR] = "lsetxattr", [ST_SYS_FSETXATTR] = "fsetxattr",
	[ST_SYS_SETXATTRAT] = "setxattrat", [ST_SYS_REMOVEXATTR] = "removexattr",
	[ST_SYS_LREMOVEXATTR] = "lremovexattr", [ST_SYS_FREMOVEXATTR] = "fremovexattr",
	[ST_SYS_REMOVEXATTRAT] = "removexattrat", [ST_SYS_IOCTL] = "ioctl",
};

const char *names_syscall(unsigned int sys)
{
	return sys < ST_SYS_MAX ? syscalls[sys] : NULL;
}

const char *names_errno(int err, char buf[16])
{
	const char *n = strerrorname_np(err);

	if (n)
		return n;
	snprintf(buf, 16, "E%d", err);
	return buf;
}

const char *names_signal(int sig, char buf[16])
{
	const char *n = sig > 0 ? sigabbrev_np(sig) : NULL;

	if (n)
		snprintf(buf, 16, "SIG%s", n);
	else
		snprintf(buf, 16, "SIG%d", sig);
	return buf;
}

const char *names_ptrace(uint64_t req, char buf[32])
{
	static const struct {
		uint64_t req;
		const char *name;
	} reqs[] = {
		{ 0, "PTRACE_TRACEME" },   { 1, "PTRACE_PEEKTEXT" },  { 2, "PTRACE_PEEKDATA" },
		{ 3, "PTRACE_PEEKUSER" },  { 4, "PTRACE_POKETEXT" },  { 5, "PTRACE_POKEDATA" },
		{ 6, "PTRACE_POKEUSER" },  { 7, "PTRACE_CONT" },      { 8, "PTRACE_KILL" },
		{ 9, "PTRACE_SINGLESTEP" }, { 12, "PTRACE_GETREGS" }, { 13, "PTRACE_SETREGS" },
		{ 14, "PTRACE_GETFPREGS" }, { 15, "PTRACE_SETFPREGS" }, { 16, "PTRACE_ATTACH" },
		{ 17, "PTRACE_DETACH" },   { 0x4200, "PTRACE_SETOPTIONS" },
		{ 0x4204, "PTRACE_GETREGSET" }, { 0x4205, "PTRACE_SETREGSET" },
		{ 0x4206, "PTRACE_SEIZE" }, { 0x4207, "PTRACE_INTERRUPT" },
	};
	size_t i;

	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++)
		if (reqs[i].req == req)
			return reqs[i].name;
	snprintf(buf, 32, "PTRACE_%llu", (unsigned long long)req);
	return buf;
}

const char *names_bpf_prog_type(uint64_t type, char buf[32])
{
	const char *n = type < 1024 ? libbpf_bpf_prog_type_str((enum bpf_prog_type)type) : NULL;

	if (n)
		return n;
	snprintf(buf, 32, "%llu", (unsigned long long)type);
	return buf;
}

struct flag_name {
	uint64_t bit;
	const char *name;
};

static void put_flags(struct jw *w, const char *first, uint64_t flags, const struct flag_name *t,
		      size_t n)
{
	char rest[24];
	size_t i;

	jw_array_begin(w);
	if (first)
		jw_cstring(w, first);
	for (i = 0; i < n; i++) {
		if (t[i].bit && (flags & t[i].bit) == t[i].bit) {
			jw_cstring(w, t[i].name);
			flags &= ~t[i].bit;
		}
	}
	if (flags) {
		snprintf(rest, sizeof(rest), "0x%llx", (unsigned long long)flags);
		jw_cstring(w, rest);
	}
	jw_array_end(w);
}

#define FLAGS(w, f, t) put_flags(w, NULL, f, t, sizeof(t) / sizeof(t[0]))

void names_open_flags(struct jw *w, uint64_t flags)
{
	/* O_TMPFILE includes O_DIRECTORY: test it first. */
	static const struct flag_name t[] = {
		{ O_TMPFILE, "O_TMPFILE" }, { O_WRONLY, "O_WRONLY" },	{ O_RDWR, "O_RDWR" },
		{ O_CREAT, "O_CREAT" },	    { O_EXCL, "O_EXCL" },	{ O_NOCTTY, "O_NOCTTY" },
		{ O_TRUNC, "O_TRUNC" },	    { O_APPEND, "O_APPEND" },	{ O_NONBLOCK, "O_NONBLOCK" },
		{ O_SYNC, "O_SYNC" },	    { O_DSYNC, "O_DSYNC" },	    { O_DIRECT, "O_DIRECT" },	{ O_LARGEFILE, "O_LARGEFILE" },
		{ O_DIRECTORY, "O_DIRECTORY" }, { O_NOFOLLOW, "O_NOFOLLOW" },
		{ O_NOATIME, "O_NOATIME" }, { O_CLOEXEC, "O_CLOEXEC" }, { O_PATH, "O_PATH" },
		{ FASYNC, "O_ASYNC" },
	};

	/* O_RDONLY is 0: name it, a reader should not have to know that; and
	 * O_LARGEFILE is implied on 64-bit, so it says nothing. */
	put_flags(w, flags & (O_WRONLY | O_RDWR | O_PATH) ? NULL : "O_RDONLY",
		  flags & ~(uint64_t)O_LARGEFILE, t, sizeof(t) / sizeof(t[0]));
}

void names_mount_flags(struct jw *w, uint64_t flags)
{
	static const struct flag_name t[] = {
		{ MS_RDONLY, "ro" },	    { MS_NOSUID, "nosuid" },   { MS_NODEV, "nodev" },
		{ MS_NOEXEC, "noexec" },    { MS_SYNCHRONOUS, "sync" }, { MS_REMOUNT, "remount" },
		{ MS_MANDLOCK, "mand" },    { MS_DIRSYNC, "dirsync" }, { MS_NOATIME, "noatime" },
		{ MS_NODIRATIME, "nodiratime" }, { MS_BIND, "bind" },	{ MS_MOVE, "move" },
		{ MS_REC, "rec" },	    { MS_SILENT, "silent" },   { MS_UNBINDABLE, "unbindable" },
		{ MS_PRIVATE, "private" },  { MS_SLAVE, "slave" },     { MS_SHARED, "shared" },
		{ MS_RELATIME, "relatime" }, { MS_STRICTATIME, "strictatime" },
		{ MS_LAZYTIME, "lazytime" },
	};

	/* The historical magic in the top half means nothing since Linux 2.4. */
	if ((flags & 0xffff0000) == 0xc0ed0000)
		flags &= 0xffff;
	FLAGS(w, flags, t);
}

void names_umount_flags(struct jw *w, uint64_t flags)
{
	static const struct flag_name t[] = {
		{ MNT_FORCE, "force" }, { MNT_DETACH, "detach" }, { MNT_EXPIRE, "expire" },
		{ UMOUNT_NOFOLLOW, "nofollow" },
	};

	FLAGS(w, flags, t);
}

void names_rename_flags(struct jw *w, uint64_t flags)
{
	static const struct flag_name t[] = {
		{ 1, "RENAME_NOREPLACE" }, { 2, "RENAME_EXCHANGE" }, { 4, "RENAME_WHITEOUT" },
	};

	FLAGS(w, flags, t);
}

void names_fs_attributes(struct jw *w, uint64_t flags)
{
	static const struct flag_name t[] = {
		{ FS_SECRM_FL, "secure_deletion" }, { FS_UNRM_FL, "undelete" },
		{ FS_COMPR_FL, "compressed" },	    { FS_SYNC_FL, "sync" },
		{ FS_IMMUTABLE_FL, "immutable" },   { FS_APPEND_FL, "append" },
		{ FS_NODUMP_FL, "nodump" },	    { FS_NOATIME_FL, "noatime" },
		{ FS_JOURNAL_DATA_FL, "journal_data" }, { FS_NOTAIL_FL, "notail" },
		{ FS_DIRSYNC_FL, "dirsync" },	    { FS_TOPDIR_FL, "topdir" },
		{ FS_EXTENT_FL, "extents" },	    { FS_NOCOW_FL, "nocow" },
		{ FS_DAX_FL, "dax" },		    { FS_PROJINHERIT_FL, "projinherit" },
		{ FS_CASEFOLD_FL, "casefold" },	    { FS_INDEX_FL, "indexed" },
		{ FS_ENCRYPT_FL, "encrypted" },	    { FS_VERITY_FL, "verity" },
		{ FS_INLINE_DATA_FL, "inline_data" },
	};

	FLAGS(w, flags, t);
}
