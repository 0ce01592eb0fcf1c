/* cgroups: cgroup id -> container id (see cgroups.h). */
#define _XOPEN_SOURCE 700
#include "cgroups.h"

#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

struct cgroup_slot {
	uint64_t id;		/* 0: empty */
	char container[65];	/* "" when not a container */
};

struct cgroups {
	char *root;
	struct cgroup_slot *slots;
	size_t cap, used;
	struct timespec last_scan;
};

/* nftw has no context argument: the scan in progress. */
static struct cgroups *scanning;

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* The last run of exactly 64 hex digits in path, or NULL. */
static const char *find_container_id(const char *path)
{
	const char *p, *found = NULL;
	size_t run = 0;

	for (p = path;; p++) {
		if (*p && is_hex(*p)) {
			run++;
			continue;
		}
		if (run == 64)
			found = p - 64;
		run = 0;
		if (!*p)
			break;
	}
	return found;
}

static struct cgroup_slot *lookup(struct cgroups *c, uint64_t id, bool insert)
{
	size_t i;

	if (!c->cap)
		return NULL;
	for (i = (id * 0x9e3779b97f4a7c15ull) & (c->cap - 1);; i = (i + 1) & (c->cap - 1)) {
		if (c->slots[i].id == id)
			return &c->slots[i];
		if (!c->slots[i].id)
			return insert ? &c->slots[i] : NULL;
	}
}

static int grow(struct cgroups *c)
{
	struct cgroup_slot *old = c->slots;
	size_t old_cap = c->cap, i;

	c->cap = c->cap ? c->cap * 2 : 1024;
	c->slots = calloc(c->cap, sizeof(*c->slots));
	if (!c->slots) {
		c->slots = old;
		c->cap = old_cap;
		return -ENOMEM;
	}
	c->used = 0;
	for (i = 0; i < old_cap; i++) {
		if (old[i].id) {
			*lookup(c, old[i].id, true) = old[i];
			c->used++;
		}
	}
	free(old);
	return 0;
}

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	struct cgroups *c = scanning;
	struct cgroup_slot *s;
	const char *cid;

	(void)ftw;
	if (type != FTW_D)
		return 0;
	if ((c->used + 1) * 2 > c->cap && grow(c))
		return 1;
	s = lookup(c, (uint64_t)st->st_ino, true);
	if (!s->id)
		c->used++;
	s->id = (uint64_t)st->st_ino;
	cid = find_container_id(path + strlen(c->root));
	if (cid) {
		memcpy(s->container, cid, 64);
		s->container[64] = '\0';
	} else {
		s->container[0] = '\0';
	}
	return 0;
}

/* Walks the hierarchy again, at most once a second; false when it did not. */
static bool rescan(struct cgroups *c)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (c->last_scan.tv_sec && now.tv_sec - c->last_scan.tv_sec < 1)
		return false;
	c->last_scan = now;
	scanning = c;
	nftw(c->root, visit, 16, FTW_PHYS | FTW_MOUNT);
	scanning = NULL;
	return true;
}

/* Remembers that a cgroup is gone: its events (the last exits of a finished scope or
 * container) would otherwise look it up and rescan at every one. Ids are not reused
 * within a boot, and one the walk did not find after its event happened was removed. */
static void remember_gone(struct cgroups *c, uint64_t id)
{
	struct cgroup_slot *s;

	if ((c->used + 1) * 2 > c->cap && grow(c))
		return;
	s = lookup(c, id, true);
	if (!s->id) {
		c->used++;
		s->id = id;
		s->container[0] = '\0';
	}
}

int cgroups_new(struct cgroups **out, const char *root)
{
	struct cgroups *c = calloc(1, sizeof(*c));

	if (!c || !(c->root = strdup(root)) || grow(c)) {
		if (c)
			free(c->root);
		free(c);
		return -ENOMEM;
	}
	rescan(c);
	*out = c;
	return 0;
}

void cgroups_free(struct cgroups *c)
{
	if (!c)
		return;
	free(c->slots);
	free(c->root);
	free(c);
}

const char *cgroups_container(struct cgroups *c, uint64_t cgroup_id)
{
	struct cgroup_slot *s;

	if (!cgroup_id)
		return NULL;
	s = lookup(c, cgroup_id, false);
	if (!s && rescan(c)) {
		s = lookup(c, cgroup_id, false);
		if (!s)
			remember_gone(c, cgroup_id);
	}
	return s && s->container[0] ? s->container : NULL;
}
