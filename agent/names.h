/* names: turning the kernel's numbers into the names responders search for
 * (syscalls, flags, signals, errno, ptrace requests, program types). */
#ifndef SEALTRAIL_NAMES_H
#define SEALTRAIL_NAMES_H

#include <stdint.h>
#include "json.h"

/* "openat", or NULL for an unknown value. */
const char *names_syscall(unsigned int sys);
/* "ENOENT"; "E<n>" in buf for unknown values. */
const char *names_errno(int err, char buf[16]);
/* "SIGTERM"; "SIG<n>" in buf for unknown values. */
const char *names_signal(int sig, char buf[16]);
/* "PTRACE_ATTACH"; "PTRACE_<n>" in buf for unknown values. */
const char *names_ptrace(uint64_t req, char buf[32]);
const char *names_bpf_prog_type(uint64_t type, char buf[32]);

/* Arrays of flag names: what is known by name, then "0x..." for the rest. */
void names_open_flags(struct jw *w, uint64_t flags);
void names_mount_flags(struct jw *w, uint64_t flags);
void names_umount_flags(struct jw *w, uint64_t flags);
void names_rename_flags(struct jw *w, uint64_t flags);
/* FS_*_FL inode attributes as chattr names them ("append", "immutable", ...). */
void names_fs_attributes(struct jw *w, uint64_t flags);

#endif
