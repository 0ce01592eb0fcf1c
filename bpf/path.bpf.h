/* path: absolute paths resolved in the kernel at the time of the call.
 *
 * bpf_d_path() is not available to tracepoint programs, so paths are built by walking
 * dentries up to the root of the caller's mount namespace, crossing mount points through
 * struct mount, backwards into scratch->path. Names given to a syscall are joined to the
 * base they are relative to (cwd or a dirfd) and flagged ST_STR_JOINED. */
#ifndef SEALTRAIL_PATH_BPF_H
#define SEALTRAIL_PATH_BPF_H

#include "kread.bpf.h"

#define PATH_DEPTH_MAX 64	/* components and mount crossings walked per path */
#define AT_FDCWD_	   -100
#define AT_EMPTY_PATH_	   0x1000

/* The file behind fd in the table of task (a trusted pointer: the current task), or NULL.
 * This runs at the exit of every open: the table is reached with direct loads, and only
 * the slot, at a variable index, costs a helper call. */
static __always_inline struct file *fd_file(struct task_struct *task, long fd)
{
	struct fdtable *fdt = task->files->fdt;
	struct file *file = NULL;
	struct file **fds;

	if (fd < 0 || fd >= fdt->max_fds)
		return NULL;
	fds = fdt->fd;
	/* The slot is a struct file * at a variable index: no typed load reaches it, but a
	 * cast does, to any struct whose first member is a struct file * (struct kiocb's has
	 * been for twenty years; checked, or the helper reads it). One helper call less per
	 * open: see path_put_name() for what a call costs. */
	if (kread_direct && bpf_core_field_offset(struct kiocb, ki_filp) == 0)
		return ((struct kiocb *)bpf_rdonly_cast(&fds[fd],
							bpf_core_type_id_kernel(struct kiocb)))
			->ki_filp;
	bpf_core_read(&file, sizeof(file), &fds[fd]);
	return file;
}

/* task is a typed pointer: plain loads (a NULL nsproxy, an exiting task's, reads 0). */
static __always_inline struct mount *task_ns_root(struct task_struct *task)
{
	return task->nsproxy->mnt_ns->root;
}

/*
 * p as a number the verifier knows nothing about (stored to scratch and loaded back). The
 * path walk's dentries and mounts are typed pointers when read directly (kread.bpf.h), and
 * the verifier prunes a loop over typed pointers far worse than one over numbers: it
 * verified three to four times the instructions. KREAD() takes either.
 */
static __always_inline void *opaque(struct scratch *s, const void *p)
{
	s->opaque = (__u64)p;
	return (void *)SCRATCH_LOAD(s->opaque);
}

/*
 * Copies the name of dentry (n bytes at name, a component that fits) to s->path[pos + 1].
 * A name kept inside the dentry (shorter than 40 bytes: nearly all of them) is read with
 * plain loads and copied in five 8-byte moves aligned on its end, from a stage with 40
 * bytes of slack before the name: the moves write the 40 bytes that end where the name
 * ends, so up to 39 bytes left of pos + 1, into the part of path[] not built yet (or
 * path_slack; the caller writes the '/' at pos afterwards), never into the components
 * already on the right. No branch depends on n or pos, so the verifier's states still
 * merge at the next component. Other names take a helper call, as every name did: a call
 * returns through the kernel's return thunk, and a walk made one per component.
 */
static __always_inline void path_put_name(struct scratch *s, struct dentry *dentry,
					  const unsigned char *name, __u32 n, __u32 pos)
{
	__u32 end = pos + 1 + n + PATH_SLACK;	/* in path_slack[] coordinates */
	__u8 *stage = (__u8 *)s->stage, *out = (__u8 *)s->path_slack;
	struct dentry *d;
	int k;

	if (kread_direct) {
		d = bpf_rdonly_cast(dentry, bpf_core_type_id_kernel(struct dentry));
		if (dentry_inline_name(d, name, &s->stage[PATH_SLACK / 8]) > n) {
			for (k = 1; k <= PATH_SLACK / 8; k++)
				*(__u64 *)&out[(end - 8 * k) & PATH_MASK] =
					*(__u64 *)&stage[(PATH_SLACK + n - 8 * k) & 127];
			return;
		}
	}
	bpf_probe_read_kernel(&s->path[pos + 1], n & (PATH_END - 1), name);
}

/*
 * Prepends the path of (dentry, vfsmnt) to s->path[..PATH_END) and returns where it starts
 * (PATH_END when dentry is the namespace root). Adds ST_STR_* to s->pflags: TRUNCATED when
 * it does not fit in ST_PATH_MAX (the end is kept), TOO_DEEP when the walk stopped before a
 * root, DISCONNECTED when it reached a root that is not the namespace's (memfd, pipes,
 * detached or internal mounts, a dentry that is its own parent).
 */
static __always_inline __u32 path_walk(struct scratch *s, struct dentry *dentry,
				       struct vfsmount *vfsmnt, struct mount *ns_root)
{
	struct mount *mnt = opaque(s, container_of(vfsmnt, struct mount, mnt));
	struct dentry *mnt_root = opaque(s, KREAD(struct vfsmount, vfsmnt, mnt_root));
	__u32 pos = PATH_END, n, room;
	const unsigned char *name;
	struct dentry *parent;
	struct mount *up;
	int i;

	dentry = opaque(s, dentry);
	ns_root = opaque(s, ns_root);
	for (i = 0; i < PATH_DEPTH_MAX; i++) {
		if (dentry == mnt_root) {
			up = opaque(s, KREAD(struct mount, mnt, mnt_parent));
			if (up == mnt) {	/* top of a mount tree */
				if (mnt != ns_root)
					s->pflags |= ST_STR_DISCONNECTED;
				return pos;
			}
			dentry = opaque(s, KREAD(struct mount, mnt, mnt_mountpoint));
			mnt = up;
			mnt_root = opaque(s, KREAD(struct mount, mnt, mnt.mnt_root));
			continue;
		}
		n = KREAD(struct dentry, dentry, d_name.len);
		name = KREAD(struct dentry, dentry, d_name.name);
		if (n + 1 > pos) {
			/* Keep the end: the tail of this component that still fits. */
			room = pos & PATH_MASK;
			if (room)
				bpf_probe_read_kernel(s->path, room, name + n - room);
			s->pflags |= ST_STR_TRUNCATED;
			return 0;
		}
		pos = (pos - n - 1) & (PATH_END - 1);
		path_put_name(s, dentry, name, n, pos);
		s->path[pos] = '/';
		parent = opaque(s, KREAD(struct dentry, dentry, d_parent));
		if (parent == dentry) {	/* a root, but not of this mount */
			s->pflags |= ST_STR_DISCONNECTED;
			return pos;
		}
		dentry = parent;
	}
	s->pflags |= ST_STR_TOO_DEEP;
	return pos;
}

/* The leaf was unlinked: unhashed, and not a root (roots are never hashed). */
static __always_inline bool dentry_deleted(struct dentry *dentry)
{
	return !KREAD(struct dentry, dentry, d_hash.pprev) &&
	       KREAD(struct dentry, dentry, d_parent) != dentry;
}

/* The path of (dentry, mnt), e.g. an open file or a task's cwd, into s->p*. */
static __always_inline void path_resolve(struct scratch *s, struct dentry *dentry,
					 struct vfsmount *mnt, struct mount *ns_root)
{
	__u32 pos;

	s->pflags = 0;
	s->pstart = s->pend = PATH_END;
	if (!dentry || !mnt) {
		s->pflags = ST_STR_FAULT;
		return;
	}
	pos = path_walk(s, dentry, mnt, ns_root);
	if (pos == PATH_END) {	/* the namespace root itself */
		pos = PATH_END - 1;
		s->path[pos] = '/';
	}
	s->pstart = pos;
	if (dentry_deleted(dentry))
		s->pflags |= ST_STR_DELETED;
}

/* The path of an open file; a NULL file gives an absent path flagged `missing`. */
static __always_inline void path_of_file(struct scratch *s, struct file *file,
					 struct mount *ns_root, __u16 missing)
{
	if (!file) {
		s->pstart = s->pend = PATH_END;
		s->pflags = missing;
		return;
	}
	path_resolve(s, KREAD(struct file, file, f_path.dentry),
		     KREAD(struct file, file, f_path.mnt), ns_root);
}

/*
 * The path a syscall names: `uname` (user memory) relative to dirfd (AT_FDCWD = cwd), into
 * s->p*, flagged ST_STR_JOINED: the name as given, prefixed with the base directory's
 * resolved path when relative; not canonicalized ("..", symlinks stay). An absolute name
 * is used as given (also JOINED, with nothing joined), even for a chrooted caller. An
 * empty name with AT_EMPTY_PATH names dirfd itself, resolved. A base that cannot be
 * resolved leaves the name alone, flagged ST_STR_NO_BASE.
 *
 * Called at sys_exit: the kernel has copied the name already, so it is resident.
 */
static __always_inline void path_join(struct scratch *s, struct task_struct *task, long dirfd,
				      const char *uname, bool empty_path)
{
	struct dentry *dentry = NULL;
	struct vfsmount *mnt = NULL;
	struct file *file;
	long n;

	s->pflags = ST_STR_JOINED;
	s->pstart = s->pend = PATH_NAME;
	n = bpf_probe_read_user_str(&s->path[PATH_NAME], ST_PATH_MAX + 1, uname);
	if (n <= 0) {
		s->pflags = ST_STR_FAULT;
		return;
	}
	if (n == ST_PATH_MAX + 1)	/* longer than PATH_MAX: only failed calls get here */
		s->pflags |= ST_STR_TRUNCATED;
	n = (n - 1) & (2 * ST_PATH_MAX - 1);
	s->pend = PATH_NAME + n;
	if (n && s->path[PATH_NAME] == '/')
		return;

	if ((int)dirfd == AT_FDCWD_) {
		dentry = task->fs->pwd.dentry;
		mnt = task->fs->pwd.mnt;
	} else {
		file = fd_file(task, (int)dirfd);
		if (file) {
			dentry = KREAD(struct file, file, f_path.dentry);
			mnt = KREAD(struct file, file, f_path.mnt);
		}
	}
	/* One type whichever branch set them, or the verifier walks the rest twice. */
	dentry = opaque(s, dentry);
	mnt = opaque(s, mnt);
	if (!dentry || !mnt) {
		s->pflags |= ST_STR_NO_BASE;
		return;
	}
	if (!n && empty_path) {
		path_resolve(s, dentry, mnt, task_ns_root(task));
		return;
	}
	s->path[PATH_END] = '/';
	s->pstart = path_walk(s, dentry, mnt, task_ns_root(task));
}

#endif
