/* kread: reading kernel objects through pointers whose type the verifier does not know:
 * a struct file taken out of an fd table with a helper, the dentries and mounts above it.
 *
 * bpf_rdonly_cast() (a kfunc since 6.2) gives such a pointer its BTF type back, read-only
 * and untrusted: a field is then one load, which the JIT guards so that a bad address
 * reads 0, as a failed probe-read does. bpf_probe_read_kernel() is a helper call of
 * 20-30 ns, and an open's path walk reads some thirty fields: on an open storm the calls
 * were a seventh of the time. The cast itself costs nothing (the verifier rewrites it to
 * a register move).
 *
 * The kfunc is declared weak, and used only when userspace found it in the kernel's BTF
 * and set kread_direct before load. A constant the verifier knows: it verifies one branch
 * of each read and drops the other as dead code (testing the kfunc's address instead
 * would keep both: the verifier does not know a kernel address to be non-zero, and a
 * path walk forking at every field tripled the instructions it verified). Without the
 * kfunc, every read goes through the helper, as before 6.2. One object serves both.
 *
 * Pointers the verifier already types (the current task, tracepoint arguments, what is
 * loaded from them) need none of this: plain loads.
 */
#ifndef SEALTRAIL_KREAD_BPF_H
#define SEALTRAIL_KREAD_BPF_H

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

/* Set by userspace (capture.c) before load. */
const volatile bool kread_direct;

/* KREAD(type, p, field): p->field for p a `type *` the verifier knows nothing of; field
 * may name a member of a member (f_path.dentry) but not go through a pointer. */
#define KREAD(type, p, field)                                                              \
	(kread_direct ?                                                                    \
		 ((type *)bpf_rdonly_cast((p), bpf_core_type_id_kernel(type)))->field :    \
		 BPF_CORE_READ((type *)(p), field))

#endif
