/* proctable: what the agent remembers about live processes, for what a record
 * does not carry: the executable's path. Learnt from exec and fork records and,
 * at start, from /proc. Keyed by pid and checked against the process start time,
 * so that a reused pid never inherits another process's executable. */
#ifndef SEALTRAIL_PROCTABLE_H
#define SEALTRAIL_PROCTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct proctable;

struct proc_info {
	uint32_t pid;
	uint64_t start_ns;	/* boot-based, as struct st_task carries it */
	bool approx;		/* start_ns from /proc (clock ticks): matched loosely */
	uint16_t exe_flags;	/* ST_STR_* of the path */
	size_t exe_len;
	char *exe;
};

int proctable_new(struct proctable **out);
void proctable_free(struct proctable *t);

/* Seeds the table from /proc (processes that started before the agent). */
int proctable_scan_proc(struct proctable *t, const char *proc_root);

void proctable_exec(struct proctable *t, uint32_t pid, uint64_t start_ns, const char *exe,
		    size_t len, uint16_t flags);
void proctable_fork(struct proctable *t, uint32_t child, uint64_t child_start, uint32_t parent,
		    uint64_t parent_start);
void proctable_exit(struct proctable *t, uint32_t pid, uint64_t start_ns);

/* The process, or NULL when unknown (or the pid now belongs to another). */
const struct proc_info *proctable_lookup(struct proctable *t, uint32_t pid, uint64_t start_ns);

size_t proctable_size(const struct proctable *t);

#endif
