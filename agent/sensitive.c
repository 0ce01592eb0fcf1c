/* sensitive: compiles sensitive path prefixes into (directory inode, name prefixes)
 * entries, which the BPF side matches against the parent of each opened file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "sensitive.h"

#define SENSITIVE_DEPTH 3	/* directory levels taken below a sensitive directory */

/* The kernel's s_dev encoding (MKDEV), not glibc's dev_t. */
static __u64 kernel_dev(dev_t dev)
{
	return ((__u64)major(dev) << 20) | minor(dev);
}

static struct sensitive_dir *sensitive_set_dir(struct sensitive_set *set, const struct stat *st)
{
	struct st_inode_key key = { .dev = kernel_dev(st->st_dev), .ino = st->st_ino };
	struct sensitive_dir *d;
	size_t i;

	for (i = 0; i < set->n; i++)
		if (set->dirs[i].key.dev == key.dev && set->dirs[i].key.ino == key.ino)
			return &set->dirs[i];
	if (set->n == set->cap) {
		size_t cap = set->cap ? 2 * set->cap : 16;

		d = realloc(set->dirs, cap * sizeof(*d));
		if (!d)
			return NULL;
		set->dirs = d;
		set->cap = cap;
	}
	d = &set->dirs[set->n++];
	memset(d, 0, sizeof(*d));
	d->key = key;
	return d;
}

static void sensitive_dir_any(struct sensitive_dir *d)
{
	memset(&d->names, 0, sizeof(d->names));
	d->names.count = 1;	/* len[0] == 0: any name */
}

static bool sensitive_dir_is_any(const struct sensitive_dir *d)
{
	return d->names.count == 1 && d->names.len[0] == 0;
}

/* Adds name prefix (len bytes; 0 = any name) to d, keeping the shortest of two prefixes
 * where one covers the other. */
static void sensitive_dir_add_name(struct sensitive_dir *d, const char *name, size_t len)
{
	struct st_sensitive_dir *n = &d->names;
	__u32 i;

	if (sensitive_dir_is_any(d))
		return;
	if (len == 0 || n->count == ST_SENSITIVE_NAMES) {
		sensitive_dir_any(d);
		return;
	}
	for (i = 0; i < n->count; i++) {
		size_t l = n->len[i] < len ? n->len[i] : len;

		if (memcmp(n->name[i], name, l) == 0) {
			if (len < n->len[i]) {
				memset(n->name[i], 0, sizeof(n->name[i]));
				memcpy(n->name[i], name, len);
				n->len[i] = len;
			}
			return;
		}
	}
	memcpy(n->name[n->count], name, len);
	n->len[n->count++] = len;
}

static int sensitive_set_add_tree(struct sensitive_set *set, const char *path, int depth);

/* The trees (`depth` levels) of the subdirectories of `path` whose names start with
 * name[0..len) (len 0: all of them). follow: a symlink to a directory counts too. */
static int add_subdir_trees(struct sensitive_set *set, const char *path, const char *name,
			    size_t len, int depth, bool follow)
{
	struct dirent *ent;
	struct stat st;
	char sub[PATH_MAX];
	DIR *dir = opendir(path);
	int err = 0, n;

	if (!dir)
		return 0;
	while (!err && (ent = readdir(dir))) {
		if (strncmp(ent->d_name, name, len) || !strcmp(ent->d_name, ".") ||
		    !strcmp(ent->d_name, ".."))
			continue;
		n = snprintf(sub, sizeof(sub), "%s/%s", strcmp(path, "/") ? path : "", ent->d_name);
		if (n < 0 || (size_t)n >= sizeof(sub))
			continue;
		if ((follow ? stat(sub, &st) : lstat(sub, &st)) || !S_ISDIR(st.st_mode))
			continue;
		err = sensitive_set_add_tree(set, sub, depth);
	}
	closedir(dir);
	return err;
}

/* Directory `path` with any name, and its subdirectories down to `depth` levels. Symlinks
 * below it are not followed (an open through them has another parent anyway). */
static int sensitive_set_add_tree(struct sensitive_set *set, const char *path, int depth)
{
	struct sensitive_dir *d;
	struct stat st;

	if (stat(path, &st) || !S_ISDIR(st.st_mode))
		return 0;
	d = sensitive_set_dir(set, &st);
	if (!d)
		return -ENOMEM;
	sensitive_dir_any(d);
	return depth > 0 ? add_subdir_trees(set, path, "", 0, depth - 1, false) : 0;
}

/* Directory `path` with name prefix `name`, plus the trees of its subdirectories whose
 * names start with it ("/etc/sudoers" takes /etc/sudoers.d). */
static int sensitive_set_add_in(struct sensitive_set *set, const char *path, const char *name,
				size_t len)
{
	struct sensitive_dir *d;
	struct stat st;

	if (len == 0)
		return sensitive_set_add_tree(set, path, SENSITIVE_DEPTH);
	if (stat(path, &st) || !S_ISDIR(st.st_mode))
		return 0;
	d = sensitive_set_dir(set, &st);
	if (!d)
		return -ENOMEM;
	sensitive_dir_add_name(d, name, len > ST_SENSITIVE_NAME_MAX ? ST_SENSITIVE_NAME_MAX : len);
	return add_subdir_trees(set, path, name, len, SENSITIVE_DEPTH - 1, true);
}

int sensitive_set_add(struct sensitive_set *set, const char *prefix)
{
	char dirpat[PATH_MAX];
	const char *name, *slash;
	glob_t g = { 0 };
	size_t dlen, len, i;
	int err = 0, rc;

	if (!prefix || prefix[0] != '/')
		return -EINVAL;
	slash = strrchr(prefix, '/');
	name = slash + 1;
	dlen = slash == prefix ? 1 : (size_t)(slash - prefix);	/* "/x" lives in "/" */
	if (dlen >= sizeof(dirpat))
		return -ENAMETOOLONG;
	memcpy(dirpat, prefix, dlen);
	dirpat[dlen] = '\0';
	len = strcspn(name, "*?[");	/* a pattern in the name: keep its literal start */

	rc = glob(dirpat, GLOB_NOSORT | GLOB_ONLYDIR, NULL, &g);
	if (rc == GLOB_NOMATCH || rc == GLOB_ABORTED)
		return 0;
	if (rc)
		return -ENOMEM;
	for (i = 0; i < g.gl_pathc && !err; i++)
		err = sensitive_set_add_in(set, g.gl_pathv[i], name, len);
	globfree(&g);
	return err;
}

void sensitive_set_free(struct sensitive_set *set)
{
	free(set->dirs);
	set->dirs = NULL;
	set->n = set->cap = 0;
}
