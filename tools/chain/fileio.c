/* fileio: careful file I/O (see fileio.h). */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int fileio_write_all(int fd, const void *buf, size_t len, size_t *written)
{
	const char *p = buf;
	size_t done = 0;
	int err = 0;

	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (n == 0) {
			err = -EIO;
			break;
		}
		done += (size_t)n;
	}
	if (written)
		*written = done;
	return err;
}

int fileio_read_small(int dirfd, const char *name, size_t cap, char **out, size_t *len)
{
	struct stat st;
	char *data = NULL;
	size_t have = 0;
	int fd, err = 0;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = -EINVAL;
		goto out;
	}
	if ((size_t)st.st_size > cap) {
		err = -EFBIG;
		goto out;
	}
	data = malloc(cap + 1);
	if (!data) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, data + have, cap + 1 - have);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		if (have > cap) {
			err = -EFBIG;
			goto out;
		}
	}
	data[have] = '\0';
	*out = data;
	*len = have;
	data = NULL;
out:
	free(data);
	close(fd);
	return err;
}

static int write_new(int dirfd, const char *name, const void *data, size_t len, mode_t mode)
{
	int fd, err;

	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	err = fileio_write_all(fd, data, len, NULL);
	if (!err && fchmod(fd, mode) < 0)	/* not subject to the umask */
		err = -errno;
	if (!err && fsync(fd) < 0)
		err = -errno;
	if (close(fd) < 0 && !err)
		err = -errno;
	if (err)
		unlinkat(dirfd, name, 0);
	return err;
}

int fileio_create(int dirfd, const char *name, const void *data, size_t len, mode_t mode)
{
	int err = write_new(dirfd, name, data, len, mode);

	if (!err && fsync(dirfd) < 0)
		err = -errno;
	return err;
}

int fileio_replace(int dirfd, const char *name, const void *data, size_t len, mode_t mode)
{
	char tmp[256];
	int err;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", name) >= sizeof(tmp))
		return -ENAMETOOLONG;
	unlinkat(dirfd, tmp, 0);	/* a leftover of an interrupted replace */
	err = write_new(dirfd, tmp, data, len, mode);
	if (err)
		return err;
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		err = -errno;
		unlinkat(dirfd, tmp, 0);
		return err;
	}
	return fsync(dirfd) < 0 ? -errno : 0;
}
