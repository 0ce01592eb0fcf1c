/* cgroups: from a cgroup v2 id (what BPF sees) to the container it belongs to,
 * read from the cgroup's path (docker-<id>.scope, cri-containerd-<id>.scope,
 * libpod-<id>.scope, crio-<id>.scope, /docker/<id>). */
#ifndef SEALTRAIL_CGROUPS_H
#define SEALTRAIL_CGROUPS_H

#include <stdint.h>

struct cgroups;

int cgroups_new(struct cgroups **out, const char *root);
void cgroups_free(struct cgroups *c);

/* The 64-hex container id, or NULL when the cgroup is not a container's (or
 * unknown: the tree is rescanned at most once a second). */
const char *cgroups_container(struct cgroups *c, uint64_t cgroup_id);

#endif
