/* tracefs: the kernel's tracing filesystem, which libbpf reads to attach tracepoint
 * programs, and which tells whether a tracepoint exists on this kernel. */
#ifndef SEALTRAIL_TRACEFS_H
#define SEALTRAIL_TRACEFS_H

#include <stdbool.h>

/* Makes sure tracefs is reachable where libbpf looks (/sys/kernel/tracing, else
 * /sys/kernel/debug/tracing), mounting it at /sys/kernel/tracing when it is not.
 * Returns 0 or -errno. */
int tracefs_mount(void);

/* Whether events/<category>/<name> exists. False also when tracefs is unreachable. */
bool tracefs_event_exists(const char *category, const char *name);

#endif
