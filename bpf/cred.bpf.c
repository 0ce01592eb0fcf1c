// SPDX-License-Identifier: GPL-2.0
/* cred: credential changes. The enter saves the ids (or capabilities) the task had; the
 * exit's record carries the new ones in its task context (capset: in arg[3..5]). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "sealtrail/event.h"
#include "maps.bpf.h"
#include "syscall.bpf.h"

/* The ids (or capabilities) the task has now, into e. */
static __always_inline void cred_save(struct inflight *e, __u16 sys)
{
	const struct cred *cred = bpf_get_current_task_btf()->cred;

	if (sys == ST_SYS_CAPSET) {
		cred_caps(cred, &e->caps.effective, &e->caps.permitted, &e->caps.inheritable);
	} else {
		e->ids.uid = cred->uid.val;
		e->ids.euid = cred->euid.val;
		e->ids.suid = cred->suid.val;
		e->ids.fsuid = cred->fsuid.val;
		e->ids.gid = cred->gid.val;
		e->ids.egid = cred->egid.val;
		e->ids.sgid = cred->sgid.val;
		e->ids.fsgid = cred->fsgid.val;
	}
}

static __always_inline int cred_enter(struct pt_regs *regs, int nargs, __u16 sys)
{
	struct inflight e;

	if (!inflight_begin(&e, regs, nargs, sys, ST_CRED))
		return 0;
	cred_save(&e, sys);
	inflight_store(&e);
	return 0;
}

/*
 * An exit without its enter. A call that failed changed nothing, so the ids before it are
 * the ids now: such a call, typically a setuid(0) that seccomp refused before it ran (it
 * never reaches sys_enter), is recorded from the registers. One that succeeded is a loss:
 * what it changed from is gone. (setfsuid and setfsgid return the old id, never a negative
 * value, unless refused that way.)
 */
static __always_inline struct inflight *cred_without_enter(struct scratch *s,
							    struct pt_regs *regs, long ret,
							    int nargs, __u16 sys)
{
	struct inflight *e = &s->in;

	if (ret >= 0) {
		inflight_missed(ST_CRED);
		return NULL;
	}
	if (!inflight_begin(e, regs, nargs, sys, ST_CRED))
		return NULL;
	cred_save(e, sys);
	return e;
}

/* Requested ids are uid_t/gid_t: (u32)-1 means "unchanged" for the calls that allow it. */
static __always_inline int cred_exit(struct pt_regs *regs, long ret, __u16 sys, int nargs,
					 int nids)
{
	const struct cred *cred = bpf_get_current_task_btf()->cred;
	struct inflight *e;
	struct st_record *r;
	struct scratch *s;
	int i;

	s = scratch_get(ST_CRED);
	if (!s)
		return 0;
	e = inflight_take(s, sys);
	if (!e)
		e = cred_without_enter(s, regs, ret, nargs, sys);
	if (!e)
		return 0;
	r = record_begin(s, ST_CRED, sys, e->ktime_ns, ret);
	if (sys == ST_SYS_CAPSET) {
		r->arg[0] = e->caps.effective;
		r->arg[1] = e->caps.permitted;
		r->arg[2] = e->caps.inheritable;
		cred_caps(cred, &r->arg[3], &r->arg[4], &r->arg[5]);
	} else {
		for (i = 0; i < 3; i++)
			if (i < nids)
				r->arg[i] = (__u32)e->args[i];
		if (sys == ST_SYS_SETGROUPS)
			r->arg[0] = (int)e->args[0];	/* the count, not an id */
		r->arg[3] = (__u64)e->ids.uid << 32 | e->ids.euid;
		r->arg[4] = (__u64)e->ids.suid << 32 | e->ids.fsuid;
		r->arg[5] = (__u64)e->ids.gid << 32 | e->ids.egid;
		r->arg[6] = (__u64)e->ids.sgid << 32 | e->ids.fsgid;
	}
	return record_submit(s);
}

#define CRED_SYSCALL(name, sys, nargs, nids)                                            \
	SYS_ENTER(name) { return cred_enter(regs, nargs, sys); }                        \
	SYS_EXIT(name) { return cred_exit(regs, ret, sys, nargs, nids); }

CRED_SYSCALL(setuid, ST_SYS_SETUID, 1, 1)
CRED_SYSCALL(setgid, ST_SYS_SETGID, 1, 1)
CRED_SYSCALL(setreuid, ST_SYS_SETREUID, 2, 2)
CRED_SYSCALL(setregid, ST_SYS_SETREGID, 2, 2)
CRED_SYSCALL(setresuid, ST_SYS_SETRESUID, 3, 3)
CRED_SYSCALL(setresgid, ST_SYS_SETRESGID, 3, 3)
CRED_SYSCALL(setfsuid, ST_SYS_SETFSUID, 1, 1)
CRED_SYSCALL(setfsgid, ST_SYS_SETFSGID, 1, 1)
CRED_SYSCALL(setgroups, ST_SYS_SETGROUPS, 2, 1)
CRED_SYSCALL(capset, ST_SYS_CAPSET, 2, 0)
