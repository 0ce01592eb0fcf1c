/* pin: the bpffs directory a capture keeps its maps and links in between agent runs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <bpf/bpf.h>
#include "digest.h"
#include "pin.h"
#include "sealtrail/event.h"

#define BPFFS_ROOT  "/sys/fs/bpf"
#define MARKER_NAME "marker"
/* Bump when what is pinned, under which names, or what the loader writes into the pinned
 * maps changes without the BPF object changing. */
#define PIN_LAYOUT  1

_Static_assert(sizeof(struct pin_marker) == 56, "pin_marker layout");

void pin_marker_init(struct pin_marker *m, const void *obj, size_t len, uint32_t ring_bytes,
		     uint32_t options)
{
	memset(m, 0, sizeof(*m));
	memcpy(m->magic, "sealtrl", 8);
	m->abi = ST_ABI_VERSION;
	m->layout = PIN_LAYOUT;
	m->ring_bytes = ring_bytes;
	m->options = options;
	digest_sha256(obj, len, m->object_sha256);
}

int pin_dir_prepare(const char *dir)
{
	struct statfs st;

	if (!strncmp(dir, BPFFS_ROOT "/", sizeof(BPFFS_ROOT)) &&
	    (statfs(BPFFS_ROOT, &st) || st.f_type != BPF_FS_MAGIC) &&
	    mount("bpf", BPFFS_ROOT, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700"))
		return -errno;
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

int pin_dir_lock(const char *dir)
{
	struct statfs st;
	int fd, err = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstatfs(fd, &st))
		err = -errno;
	else if (st.f_type != BPF_FS_MAGIC)
		err = -EINVAL;
	else if (flock(fd, LOCK_EX | LOCK_NB))
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

int pin_dir_clear(int dirfd)
{
	struct dirent *e;
	int fd, err = 0;
	DIR *d;

	fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		err = -errno;
		close(fd);
		return err;
	}
	rewinddir(d);
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		/* Flat by design; an empty directory someone made is removed too. */
		if (unlinkat(dirfd, e->d_name, 0) &&
		    (errno != EISDIR || unlinkat(dirfd, e->d_name, AT_REMOVEDIR)) && !err)
			err = -errno;
	}
	closedir(d);
	return err;
}

/* dir/<prefix><name>, with the dots of name (libbpf's ".bss" maps) made '_': bpffs refuses
 * names with a dot (EPERM, "reserved for future use"). */
static int pin_path(char *buf, size_t size, const char *dir, const char *prefix,
		    const char *name)
{
	size_t len = strlen(dir) + 1 + strlen(prefix), i;
	int n = snprintf(buf, size, "%s/%s%s", dir, prefix, name);

	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	for (i = len; buf[i]; i++)
		if (buf[i] == '.')
			buf[i] = '_';
	return 0;
}

int pin_put(const char *dir, const char *prefix, const char *name, int fd)
{
	char path[PATH_MAX];
	int err = pin_path(path, sizeof(path), dir, prefix, name);

	if (err)
		return err;
	if (bpf_obj_pin(fd, path))
		return -errno;
	return 0;
}

int pin_get(const char *dir, const char *prefix, const char *name)
{
	char path[PATH_MAX];
	int err = pin_path(path, sizeof(path), dir, prefix, name), fd;

	if (err)
		return err;
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

int pin_marker_read(const char *dir, struct pin_marker *m)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info), zero = 0;
	int fd, err = 0;

	fd = pin_get(dir, "", MARKER_NAME);
	if (fd < 0)
		return fd;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.type != BPF_MAP_TYPE_ARRAY ||
	    info.key_size != sizeof(zero) || info.value_size != sizeof(*m) ||
	    info.max_entries != 1 || bpf_map_lookup_elem(fd, &zero, m))
		err = -ESTALE;
	close(fd);
	return err;
}

int pin_marker_write(const char *dir, const struct pin_marker *m)
{
	__u32 zero = 0;
	int fd, err = 0;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "sealtrail_pins", sizeof(zero), sizeof(*m), 1,
			    NULL);
	if (fd < 0)
		return -errno;
	if (bpf_map_update_elem(fd, &zero, m, BPF_ANY) || bpf_map_freeze(fd))
		err = -errno;
	if (!err)
		err = pin_put(dir, "", MARKER_NAME, fd);
	close(fd);
	return err;
}
