/* tracefs: mounts the tracing filesystem when needed and looks up tracepoints in it. */
#include <errno.h>
#include <stdio.h>
#include <sys/mount.h>
#include <unistd.h>
#include "tracefs.h"

#define TRACEFS	       "/sys/kernel/tracing"
#define DEBUGFS_TRACING "/sys/kernel/debug/tracing"

static const char *tracefs_root(void)
{
	if (access(TRACEFS "/events", F_OK) == 0)
		return TRACEFS;
	if (access(DEBUGFS_TRACING "/events", F_OK) == 0)
		return DEBUGFS_TRACING;
	return NULL;
}

int tracefs_mount(void)
{
	if (tracefs_root())
		return 0;
	if (mount("tracefs", TRACEFS, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
		return -errno;
	return access(TRACEFS "/events", F_OK) ? -ENOENT : 0;
}

bool tracefs_event_exists(const char *category, const char *name)
{
	const char *root = tracefs_root();
	char path[256];
	int n;

	if (!root)
		return false;
	n = snprintf(path, sizeof(path), "%s/events/%s/%s", root, category, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return false;
	return access(path, F_OK) == 0;
}
