// SPDX-License-Identifier: GPL-2.0
/* process: exec, fork and exit events from scheduler tracepoints. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "sealtrail/event.h"
#include "maps.bpf.h"

SEC("tp_btf/sched_process_exec")
int BPF_PROG(tp_btf__sched_process_exec, struct task_struct *task, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	struct st_record *rec;

	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec)
		return 0;
	__builtin_memset(rec, 0, sizeof(*rec));
	rec->abi = ST_ABI_VERSION;
	rec->type = ST_EXEC;
	rec->size = sizeof(*rec);
	rec->ktime_ns = bpf_ktime_get_boot_ns();
	rec->task.pid = task->tgid;
	rec->task.tid = task->pid;
	bpf_get_current_comm(rec->task.comm, sizeof(rec->task.comm));
	bpf_ringbuf_submit(rec, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
