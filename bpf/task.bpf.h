/* task: who is calling. Fills the st_task context of a record and decides, as early as
 * possible, whether the calling task is filtered out (agent, ignored uid/cgroup/comm). */
#ifndef SEALTRAIL_TASK_BPF_H
#define SEALTRAIL_TASK_BPF_H

#include "core_fixes.bpf.h"

static __always_inline struct st_config *config_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&config_map, &zero);
}

/*
 * What bpf_get_current_cgroup_id() and bpf_get_current_comm() return, read with plain
 * loads: every record needs both, and a helper call costs a return through the kernel's
 * return thunk on hosts with return-stack mitigations (AMD's SRSO here). The comm is
 * copied whole, NUL included; bytes after the NUL are whatever the kernel left there (the
 * decoder stops at the NUL).
 */
static __always_inline __u64 task_cgroup_id(struct task_struct *task)
{
	return task->cgroups->dfl_cgrp->kn->id;
}

static __always_inline void task_comm(struct task_struct *task, char comm[ST_COMM_LEN])
{
	_Static_assert(ST_COMM_LEN == 16, "two words");
	((__u64 *)comm)[0] = *(__u64 *)&task->comm[0];
	((__u64 *)comm)[1] = *(__u64 *)&task->comm[8];
}

/*
 * True when the current task's activity must not become events. Called at sys_enter, and
 * again at sys_exit when no enter was saved, to tell "filtered" from "lost".
 *
 * ignore_uids matches the real uid: the user who started the process. A setuid program
 * run by an ignored user stays ignored; a root daemon that switches to an ignored uid with
 * setresuid becomes ignored from then on.
 */
static __always_inline bool task_ignored(struct task_struct *task)
{
	struct st_config *cfg = config_get();
	char comm[ST_COMM_LEN];
	__u64 cgroup;
	__u32 uid;

	if (!cfg)
		return false;
	if (cfg->agent_pid && task->tgid == cfg->agent_pid)
		return true;
	if (cfg->flags & ST_CFG_IGNORE_UIDS) {
		uid = task->cred->uid.val;
		if (bpf_map_lookup_elem(&ignore_uids, &uid))
			return true;
	}
	if (cfg->flags & ST_CFG_IGNORE_CGROUPS) {
		cgroup = task_cgroup_id(task);
		if (bpf_map_lookup_elem(&ignore_cgroups, &cgroup))
			return true;
	}
	if (!(cfg->flags & ST_CFG_IGNORE_COMMS))
		return false;
	/* bpf_get_current_comm() pads with NULs, as the map keys are. */
	bpf_get_current_comm(comm, sizeof(comm));
	return bpf_map_lookup_elem(&ignore_comms, comm) != NULL;
}

/* The context of every record: always the current task, which is the caller for syscalls,
 * the parent for fork, the exiting task for exit and the sender for signals. */
static __always_inline void task_context(struct st_task *t, struct task_struct *task)
{
	const struct cred *cred = task->cred;
	struct task_struct *parent = task->real_parent;

	t->start_ns = task_start_boottime(task->group_leader);
	t->parent_start_ns = task_start_boottime(parent->group_leader);
	t->cgroup_id = task_cgroup_id(task);
	t->pid = task->tgid;
	t->tid = task->pid;
	t->ppid = parent->tgid;
	t->uid = cred->uid.val;
	t->euid = cred->euid.val;
	t->suid = cred->suid.val;
	t->fsuid = cred->fsuid.val;
	t->gid = cred->gid.val;
	t->egid = cred->egid.val;
	t->sgid = cred->sgid.val;
	t->fsgid = cred->fsgid.val;
	t->auid = task_loginuid(task);
	t->sessionid = task_sessionid(task);
	/* nsproxy is NULL once an exiting task has left its namespaces: mntns reads 0. */
	t->mntns = task->nsproxy->mnt_ns->ns.inum;
	task_comm(task, t->comm);
}

#endif
