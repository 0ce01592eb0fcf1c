/* core_fixes: every kernel layout difference sealtrail copes with, in one place. Each
 * accessor names the kernel change; bpf_core_field_exists() picks the variant when libbpf
 * loads the object, so one object runs on every kernel with BTF.
 *
 * The floor is set by helpers, not layouts: bpf_get_current_task_btf (5.11) is the newest
 * helper used. Differences older than that are still handled here when they cost nothing.
 * The syscall ABI's differences between architectures are in syscall.bpf.h, and the
 * kfunc that makes untyped pointers readable with plain loads in kread.bpf.h. The task
 * accessors here take typed pointers (the current task, a tracepoint's task, what is
 * loaded from them): plain loads, CO-RE relocated like any other. */
#ifndef SEALTRAIL_CORE_FIXES_BPF_H
#define SEALTRAIL_CORE_FIXES_BPF_H

/* 5.5, "time: Rename tsk->real_start_time to ->start_boottime": same clock, new name. */
struct task_struct___pre_5_5 {
	__u64 real_start_time;
} __attribute__((preserve_access_index));

static __always_inline __u64 task_start_boottime(struct task_struct *task)
{
	if (bpf_core_field_exists(task->start_boottime))
		return task->start_boottime;
	return ((struct task_struct___pre_5_5 *)task)->real_start_time;
}

/* 6.3, "capability: just use a 'u64' instead of a 'u32[2]' array": kernel_cap_t became
 * struct { u64 val; }. Before, cap[0] held capabilities 0..31 and cap[1] 32..63. */
struct kernel_cap_struct___pre_6_3 {
	__u32 cap[2];
} __attribute__((preserve_access_index));

struct cred___pre_6_3 {
	struct kernel_cap_struct___pre_6_3 cap_inheritable;
	struct kernel_cap_struct___pre_6_3 cap_permitted;
	struct kernel_cap_struct___pre_6_3 cap_effective;
} __attribute__((preserve_access_index));

static __always_inline void cred_caps(const struct cred *cred, __u64 *effective, __u64 *permitted,
				      __u64 *inheritable)
{
	struct cred___pre_6_3 *old = (void *)cred;

	if (bpf_core_field_exists(cred->cap_effective.val)) {
		*effective = BPF_CORE_READ(cred, cap_effective.val);
		*permitted = BPF_CORE_READ(cred, cap_permitted.val);
		*inheritable = BPF_CORE_READ(cred, cap_inheritable.val);
		return;
	}
	*effective = BPF_CORE_READ(old, cap_effective.cap[0]) |
		     (__u64)BPF_CORE_READ(old, cap_effective.cap[1]) << 32;
	*permitted = BPF_CORE_READ(old, cap_permitted.cap[0]) |
		     (__u64)BPF_CORE_READ(old, cap_permitted.cap[1]) << 32;
	*inheritable = BPF_CORE_READ(old, cap_inheritable.cap[0]) |
		       (__u64)BPF_CORE_READ(old, cap_inheritable.cap[1]) << 32;
}

/* Not a version but a config: loginuid and sessionid exist only with CONFIG_AUDIT(SYSCALL).
 * Without them the kernel has no login identity, which the ABI spells (u32)-1. */
static __always_inline __u32 task_loginuid(struct task_struct *task)
{
	if (bpf_core_field_exists(task->loginuid))
		return task->loginuid.val;
	return (__u32)-1;
}

static __always_inline __u32 task_sessionid(struct task_struct *task)
{
	if (bpf_core_field_exists(task->sessionid))
		return task->sessionid;
	return (__u32)-1;
}

/* 6.14, "dcache: back inline names with a struct-wrapped array of unsigned long": the
 * inline name d_iname became d_shortname, a union of its bytes and words. Earlier
 * kernels' array length is taken from their BTF. */
struct dentry___pre_6_14 {
	unsigned char d_iname[40];
} __attribute__((preserve_access_index));

/*
 * When d's name (at `name`) is the one kept inside the dentry, copies the whole inline
 * area to w[0..4] with plain loads and returns its size; else returns 0. d is a typed
 * pointer (bpf_rdonly_cast); bytes past the name's NUL are whatever was there.
 */
static __always_inline __u32 dentry_inline_name(struct dentry *d, const void *name, __u64 *w)
{
	struct dentry___pre_6_14 *old = (void *)d;
	__u32 size;

	if (bpf_core_field_exists(d->d_shortname)) {
		if ((__u64)name != (__u64)d + bpf_core_field_offset(d->d_shortname))
			return 0;
		w[0] = d->d_shortname.words[0];
		w[1] = d->d_shortname.words[1];
		w[2] = d->d_shortname.words[2];
		w[3] = d->d_shortname.words[3];
		w[4] = d->d_shortname.words[4];
		return bpf_core_field_size(d->d_shortname);
	}
	if ((__u64)name != (__u64)d + bpf_core_field_offset(old->d_iname))
		return 0;
	size = bpf_core_field_size(old->d_iname);
	if (size > 40)
		size = 40;
	if (size >= 8)
		w[0] = *(__u64 *)&old->d_iname[0];
	if (size >= 16)
		w[1] = *(__u64 *)&old->d_iname[8];
	if (size >= 24)
		w[2] = *(__u64 *)&old->d_iname[16];
	if (size >= 32)
		w[3] = *(__u64 *)&old->d_iname[24];
	if (size >= 40)
		w[4] = *(__u64 *)&old->d_iname[32];
	return size & ~7u;
}

/*
 * Deliberately not here, because no variant is needed:
 * - recent kernels added a group_dead argument to sched_process_exit; the exit program
 *   reads task->signal->live instead, which every kernel has.
 * - recent kernels keep execveat's "/dev/fd/N/name" in bprm->fdpath; bprm->filename
 *   points at whichever string the kernel used, before and after.
 */

#endif
