// SPDX-License-Identifier: GPL-2.0
/*
 * dispatch: the program attached to the raw sys_exit tracepoint. It looks up the syscall
 * number and tail-calls the exit handler for it (sys_exit__X in the other files) through a
 * program array that userspace fills from <asm/unistd.h>. Any other syscall costs a bounds
 * check and one load. Its twin on sys_enter is attached only on kernels without syscall
 * tracepoints, where the enter handlers cannot have their own (SYS_ENTER).
 *
 * Why not one tracepoint program per syscall at exit too: a `syscalls/sys_exit_X` program is
 * attached through a perf event, and detaching one waits for RCU grace periods: 70-80 ms
 * each, 8-9 s for the 114 programs sealtrail once had (capture_close() detaches the 18
 * enter handlers, which are attached that way, in parallel). A raw tracepoint link
 * detaches at once. Falco's modern probe and Tetragon dispatch the same way.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "sealtrail/event.h"
#include "maps.bpf.h"
#include "syscall.bpf.h"

/*
 * traced[nr]: the st_type of syscall nr when its exit handler is in the program array,
 * else 0; with ST_TRACED_ENTER when its enter handler is in sys_enter_handlers. Set by
 * userspace after filling the arrays. It is what tells "not traced" from "a tail call
 * that failed", and which type such a loss is counted for.
 */
__u8 traced[SYSCALL_SLOTS];

/*
 * The number of the one syscall whose exit handler is also in sys_exit_hot, set by
 * userspace before load: openat, the busiest traced call on most hosts. The default
 * matches no call. See tp_btf__sys_exit. That handler must skip compat calls itself.
 */
const volatile __u32 hot_exit_nr = SYSCALL_SLOTS;

/*
 * Only where the kernel has no syscall tracepoints. A failed tail call counts nothing
 * here: the exit then finds no saved enter and counts ST_LOSS_NO_ENTER, unless the call is
 * one the enter would have filtered. Compat calls are counted at their exit.
 */
SEC("tp_btf/sys_enter")
int BPF_PROG(tp_btf__sys_enter, struct pt_regs *regs, long id)
{
	if ((unsigned long)id >= SYSCALL_SLOTS || !(traced[id] & ST_TRACED_ENTER))
		return 0;
	if (syscall_compat())
		return 0;
	bpf_tail_call(ctx, &sys_enter_handlers, id);
	return 0;
}

/*
 * A compat call (ia32 on x86-64, AArch32 on arm64) has a number from another table and its
 * arguments in other registers: one whose number is a traced native syscall's is skipped,
 * and counted in compat_calls. The test comes after the table lookup so that untraced
 * calls, nearly all of them, do not pay for it (~15-20 ns a call); other compat calls are
 * neither seen nor counted. The enter handlers skip compat calls too (SYS_ENTER).
 *
 * A failed tail call into a traced syscall's exit handler loses the call's record (if it
 * had one): counted as ST_LOSS_NO_ENTER, the exit not having run either. It happens only
 * when the program array lost its entries (a pinned capture whose pins were removed by
 * hand while its links stayed).
 */
SEC("tp_btf/sys_exit")
int BPF_PROG(tp_btf__sys_exit, struct pt_regs *regs, long ret)
{
	long nr = syscall_nr(regs);
	__u8 type;

	if ((unsigned long)nr >= SYSCALL_SLOTS)
		return 0;
	type = traced[nr] & ST_TRACED_TYPE;
	if (!type)
		return 0;
	/* A tail call with a key the verifier knows is a direct jump, patched by the kernel
	 * when the slot changes; one at a variable key is an indirect jump, which costs a
	 * retpoline where they are on (this VM). The hot handler makes the compat test
	 * itself, with the task it needs anyway: a helper call less. Should the hot slot be
	 * empty, the table is tried before counting a loss. */
	if (nr == hot_exit_nr)
		bpf_tail_call_static(ctx, &sys_exit_hot, 0);
	if (syscall_compat()) {
		compat_count();
		return 0;
	}
	bpf_tail_call(ctx, &sys_exit_handlers, nr);
	loss_count(ST_LOSS_NO_ENTER, type);
	return 0;
}
