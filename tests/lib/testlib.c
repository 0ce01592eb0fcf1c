/* testlib: shared test helpers (see testlib.h). */
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/fs.h>

const char *tl_build_dir(void)
{
	const char *b = getenv("SEALTRAIL_BUILD");

	return b && *b ? b : "build";
}

const char *tl_cli(void)
{
	static char path[4096];

#if defined(__SANITIZE_ADDRESS__)
	snprintf(path, sizeof(path), "%s/asan/sealtrail", tl_build_dir());
#else
	snprintf(path, sizeof(path), "%s/sealtrail", tl_build_dir());
#endif
	return path;
}

const char *tl_fmt(const char *fmt, ...)
{
	static char bufs[8][4096];
	static int next;
	char *b = bufs[next++ & 7];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b, sizeof(bufs[0]), fmt, ap);
	va_end(ap);
	return b;
}

static void append(char **buf, size_t *len, size_t *cap, const char *p, size_t n)
{
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*buf = realloc(*buf, *cap);
		assert_non_null(*buf);
	}
	memcpy(*buf + *len, p, n);
	*len += n;
	(*buf)[*len] = '\0';
}

int tl_run(struct tl_proc *p, const char *in, size_t in_len, const char *const argv[])
{
	int pin[2], pout[2], perr[2], status;
	size_t in_off = 0, out_cap = 0, err_len = 0, err_cap = 0;
	pid_t pid;

	memset(p, 0, sizeof(*p));
	/* A child that exits before reading all its input (a run that fails early, as the
	 * out-of-memory runs do) must make our write fail with EPIPE, which ends the input,
	 * not kill the test with SIGPIPE. The child gets the default back before exec. */
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(pipe2(pin, O_CLOEXEC), 0);
	assert_int_equal(pipe2(pout, O_CLOEXEC), 0);
	assert_int_equal(pipe2(perr, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		dup2(perr[1], 2);
		signal(SIGPIPE, SIG_DFL);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	if (!in || in_len == 0) {
		close(pin[1]);
		pin[1] = -1;
	} else {
		fcntl(pin[1], F_SETFL, O_NONBLOCK);
	}
	append(&p->out, &p->out_len, &out_cap, "", 0);
	append(&p->err, &err_len, &err_cap, "", 0);
	for (;;) {
		struct pollfd fds[3] = {
			{ .fd = pout[0], .events = POLLIN },
			{ .fd = perr[0], .events = POLLIN },
			{ .fd = pin[1], .events = POLLOUT },
		};
		char chunk[65536];
		ssize_t n;

		if (fds[0].fd < 0 && fds[1].fd < 0)
			break;
		if (poll(fds, 3, -1) < 0 && errno != EINTR)
			break;
		if (fds[2].revents & (POLLOUT | POLLERR | POLLHUP)) {
			n = write(pin[1], in + in_off, in_len - in_off);
			if (n > 0)
				in_off += (size_t)n;
			if (n < 0 || in_off == in_len) {
				close(pin[1]);
				pin[1] = -1;
			}
		}
		if (fds[0].revents) {
			n = read(pout[0], chunk, sizeof(chunk));
			if (n > 0)
				append(&p->out, &p->out_len, &out_cap, chunk, (size_t)n);
			else {
				close(pout[0]);
				pout[0] = -1;
			}
		}
		if (fds[1].revents) {
			n = read(perr[0], chunk, sizeof(chunk));
			if (n > 0)
				append(&p->err, &err_len, &err_cap, chunk, (size_t)n);
			else {
				close(perr[0]);
				perr[0] = -1;
			}
		}
	}
	if (pin[1] >= 0)
		close(pin[1]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	p->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return p->status;
}

void tl_proc_free(struct tl_proc *p)
{
	free(p->out);
	free(p->err);
	memset(p, 0, sizeof(*p));
}

char *tl_python(const char *script, const char *in, size_t in_len, size_t *out_len)
{
	const char *argv[] = { "/usr/bin/python3", "-c", script, NULL };
	struct tl_proc p;
	char *out;

	if (access(argv[0], X_OK))
		argv[0] = "/bin/python3";
	tl_run(&p, in, in_len, argv);
	if (p.status != 0)
		fail_msg("python3 failed (%d): %s", p.status, p.err);
	out = p.out;
	if (out_len)
		*out_len = p.out_len;
	free(p.err);
	return out;
}

char *tl_tmpdir(const char *tag)
{
	char *path;

	mkdir(tl_build_dir(), 0755);
	mkdir(tl_fmt("%s/tmp", tl_build_dir()), 0755);
	path = strdup(tl_fmt("%s/tmp/%s.XXXXXX", tl_build_dir(), tag));
	assert_non_null(path);
	assert_non_null(mkdtemp(path));
	return path;
}

long tl_get_flags(const char *path)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC), flags;
	long ret = -1;

	if (fd < 0)
		return -1;
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0)
		ret = flags;
	close(fd);
	return ret;
}

void tl_clear_flags(const char *path)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC), flags;

	if (fd < 0)
		return;
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 &&
	    (flags & (FS_APPEND_FL | FS_IMMUTABLE_FL))) {
		flags &= ~(FS_APPEND_FL | FS_IMMUTABLE_FL);
		ioctl(fd, FS_IOC_SETFLAGS, &flags);
	}
	close(fd);
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	tl_clear_flags(path);
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void tl_rmtree(const char *path)
{
	if (!path)
		return;
	/* Directories can carry flags too: clear them on the way down. */
	tl_clear_flags(path);
	nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS);
}

char *tl_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t cap = 0, n = 0, got;

	if (!f)
		fail_msg("cannot open %s: %s", path, strerror(errno));
	do {
		if (n + 65536 + 1 > cap) {
			cap = (n + 65536 + 1) * 2;
			data = realloc(data, cap);
			assert_non_null(data);
		}
		got = fread(data + n, 1, 65536, f);
		n += got;
	} while (got > 0);
	fclose(f);
	data[n] = '\0';
	if (len)
		*len = n;
	return data;
}

void tl_write_file(const char *path, const void *data, size_t len)
{
	FILE *f;

	tl_clear_flags(path);
	f = fopen(path, "wb");
	if (!f)
		fail_msg("cannot write %s: %s", path, strerror(errno));
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

size_t tl_count_lines(const char *data, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		n += data[i] == '\n';
	return n;
}
