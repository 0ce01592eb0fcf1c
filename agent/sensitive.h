/* sensitive: compiles the sensitive path prefixes of capture_filters into entries of the
 * kernel's `sensitive_dirs` map: the directories (device and inode, as the kernel names
 * them) that hold sensitive names, with the name prefixes that make them sensitive. */
#ifndef SEALTRAIL_SENSITIVE_H
#define SEALTRAIL_SENSITIVE_H

#include <stddef.h>
#include <linux/types.h>
#include "sealtrail/event.h"

struct sensitive_dir {
	struct st_inode_key key;
	struct st_sensitive_dir names;
};

/* A growing set; zero-initialise it, free it with sensitive_set_free(). */
struct sensitive_set {
	struct sensitive_dir *dirs;
	size_t n, cap;
};

/*
 * Adds one absolute prefix, resolved against the filesystem as it is now:
 *   "/etc/shadow"  gives (/etc, "shadow"), and every existing directory /etc/shadow...
 *                  with everything below it, a few levels deep
 *   "/root/.ssh/"  gives (/root/.ssh, any name) and its subdirectories
 * A glob(3) pattern in the directory part (a "*" component for every home directory) is
 * expanded. A name prefix is cut at its first glob character and at ST_SENSITIVE_NAME_MAX
 * bytes, and a directory with more than ST_SENSITIVE_NAMES prefixes takes any name: both
 * err on the side of capturing more. Nothing on disk matching is not an error.
 * Returns 0, -EINVAL (not absolute), -ENAMETOOLONG or -ENOMEM.
 */
int sensitive_set_add(struct sensitive_set *set, const char *prefix);

void sensitive_set_free(struct sensitive_set *set);

#endif
