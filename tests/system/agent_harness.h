/* agent_harness: running the real sealtraild for a test, and reading back the
 * trail it wrote. Header-only; include once per test program. */
#ifndef SEALTRAIL_AGENT_HARNESS_H
#define SEALTRAIL_AGENT_HARNESS_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "testlib.h"
#include "json.h"
#include "segment.h"

struct agent_run {
	char dir[4096];		/* scratch directory of the test */
	char trail[4200], keys[4200], config[4200];
	char pin_dir[256];	/* "" = no pinning */
	pid_t pid;
	int err_fd;		/* the agent's stderr */
	struct buf err;		/* everything it printed */
};

static double ah_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads what the agent printed, waiting up to timeout_s for `until` (NULL: just
 * what is there). Returns true when `until` was seen. */
static bool ah_read_err(struct agent_run *a, const char *until, double timeout_s)
{
	double end = ah_now() + timeout_s;

	for (;;) {
		struct pollfd p = { .fd = a->err_fd, .events = POLLIN };
		char chunk[4096];
		ssize_t n;
		int left = (int)((end - ah_now()) * 1000);

		if (until && a->err.len) {
			buf_putc(&a->err, '\0');
			a->err.len--;
			if (strstr(a->err.data, until))
				return true;
		}
		if (left < 0)
			left = 0;
		if (a->err_fd < 0 || poll(&p, 1, until ? left : 0) <= 0)
			return false;
		n = read(a->err_fd, chunk, sizeof(chunk));
		if (n <= 0)
			return false;
		buf_append(&a->err, chunk, (size_t)n);
	}
}

/* Scratch dir with keys; the config file is written when config_json is set. */
static void ah_prepare(struct agent_run *a, const char *tag, const char *config_json)
{
	char *dir = tl_tmpdir(tag);
	const char *argv[] = { tl_cli(), "keygen", a->keys, NULL };
	struct tl_proc p;

	memset(a, 0, sizeof(*a));
	snprintf(a->dir, sizeof(a->dir), "%s", dir);
	free(dir);
	snprintf(a->trail, sizeof(a->trail), "%s/trail", a->dir);
	snprintf(a->keys, sizeof(a->keys), "%s/keys", a->dir);
	snprintf(a->config, sizeof(a->config), "%s/config.json", a->dir);
	assert_int_equal(tl_run(&p, NULL, 0, argv), 0);
	tl_proc_free(&p);
	if (config_json)
		tl_write_file(a->config, config_json, strlen(config_json));
	a->pid = -1;
	a->err_fd = -1;
}

/* Starts the agent; with `wait_ready`, fails the test unless it says ready. */
static void ah_start(struct agent_run *a, bool with_config, bool wait_ready)
{
	char agent[4096];
	int pipefd[2];

	snprintf(agent, sizeof(agent), "%s/sealtraild", tl_build_dir());
	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	buf_reset(&a->err);
	a->pid = fork();
	assert_true(a->pid >= 0);
	if (a->pid == 0) {
		const char *argv[10] = { agent, "--dir", a->trail, "--key-dir", a->keys };
		int n = 5;

		if (a->pin_dir[0]) {
			argv[n++] = "--pin-dir";
			argv[n++] = a->pin_dir;
		}
		if (with_config) {
			argv[n++] = "--config";
			argv[n++] = a->config;
		}
		argv[n] = NULL;

		dup2(pipefd[1], 2);
		execv(agent, (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	a->err_fd = pipefd[0];
	if (wait_ready && !ah_read_err(a, "ready", 60))
		fail_msg("the agent did not get ready: %.*s", (int)a->err.len, a->err.data);
}

/* Reads the rest of the agent's stderr after it exited. */
static void ah_collect(struct agent_run *a)
{
	char chunk[4096];
	ssize_t n;

	if (a->err_fd < 0)
		return;
	while ((n = read(a->err_fd, chunk, sizeof(chunk))) > 0)
		buf_append(&a->err, chunk, (size_t)n);
	close(a->err_fd);
	a->err_fd = -1;
	buf_putc(&a->err, '\0');
	a->err.len--;
}

/* Sends sig and waits; returns the exit status (128 + signal when killed). */
static int ah_stop(struct agent_run *a, int sig)
{
	int status;

	if (a->pid <= 0)
		return -1;
	kill(a->pid, sig);
	while (waitpid(a->pid, &status, 0) < 0 && errno == EINTR)
		;
	a->pid = -1;
	ah_collect(a);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Waits for the agent to exit by itself; returns its status or -1 on timeout. */
static int ah_wait_exit(struct agent_run *a, double timeout_s)
{
	double end = ah_now() + timeout_s;
	int status;

	while (ah_now() < end) {
		if (waitpid(a->pid, &status, WNOHANG) == a->pid) {
			a->pid = -1;
			ah_collect(a);
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		usleep(20000);
	}
	return -1;
}

/* Removes pinned programs and maps (sealtraild --unpin); returns its status. */
static int ah_unpin(struct agent_run *a)
{
	char agent[4096];
	const char *argv[] = { agent, "--unpin", "--pin-dir", a->pin_dir, NULL };
	struct tl_proc p;
	int st;

	snprintf(agent, sizeof(agent), "%s/sealtraild", tl_build_dir());
	st = tl_run(&p, NULL, 0, argv);
	tl_proc_free(&p);
	return st;
}

static void ah_cleanup(struct agent_run *a)
{
	if (a->pid > 0)
		ah_stop(a, SIGKILL);
	if (a->pin_dir[0])
		ah_unpin(a);
	buf_free(&a->err);
	tl_rmtree(a->dir);
}

/* How many files dir holds (dot files included, . and .. not); 0 when it is missing. */
static size_t ah_count_files(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	size_t n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

/* `sealtrail verify` on the trail; returns its exit status. */
static void ah_print_commented(int status, const char *out, const char *err)
{
	const char *texts[] = { out, err }, *t, *nl;
	size_t i;

	fprintf(stderr, "# sealtrail verify exited %d\n", status);
	for (i = 0; i < 2; i++)
		for (t = texts[i]; t && *t; t = nl ? nl + 1 : t + strlen(t)) {
			nl = strchr(t, '\n');
			fprintf(stderr, "#   %.*s\n", (int)(nl ? nl - t : (ptrdiff_t)strlen(t)), t);
		}
}

static void ah_print_listing(const char *dir)
{
	struct dirent *de;
	struct stat st;
	char path[8192];
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' &&
		    snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) < (int)sizeof(path) &&
		    !lstat(path, &st))
			fprintf(stderr, "#   %s %lld bytes\n", de->d_name, (long long)st.st_size);
	closedir(d);
}

static int ah_verify(struct agent_run *a, bool live, char **out)
{
	char key[4300];
	const char *argv[] = { tl_cli(), "verify", "--key", key, a->trail, NULL, NULL };
	struct tl_proc p;
	int st;

	snprintf(key, sizeof(key), "%s/verify.key", a->keys);
	if (live) {
		argv[4] = "--live";
		argv[5] = a->trail;
	}
	st = tl_run(&p, NULL, 0, argv);
	if (st) {	/* what the verifier found, for a failing test's log (as TAP comments) */
		ah_print_commented(st, p.out, p.err);
		ah_print_listing(a->trail);
	}
	if (out)
		*out = strdup(p.out);
	tl_proc_free(&p);
	return st;
}

/* ---- reading the trail back ------------------------------------------------------ */
struct ah_events {
	struct jv_arena *arena;
	const struct jv **ev;	/* each entry's event */
	uint64_t *seq;
	size_t n, cap;
};

static void ah_events_free(struct ah_events *e)
{
	jv_arena_free(e->arena);
	free(e->ev);
	free(e->seq);
	memset(e, 0, sizeof(*e));
}

/* Every entry of the trail, in order (segments compressed or not). */
static void ah_load(struct agent_run *a, struct ah_events *e)
{
	struct segment_list l;
	size_t i;
	int dirfd = open(a->trail, O_RDONLY | O_DIRECTORY);

	memset(e, 0, sizeof(*e));
	e->arena = jv_arena_new();
	assert_true(dirfd >= 0);
	assert_int_equal(segment_list_read(dirfd, &l), 0);
	for (i = 0; i < l.n; i++) {
		struct segment_reader *r;
		const char *line;
		size_t len;

		assert_int_equal(segment_reader_open(dirfd, l.v[i].name, &r), 0);
		while (segment_reader_next(r, &line, &len) == 1) {
			struct jv *root;
			uint64_t seq;

			assert_int_equal(json_parse(e->arena, line, len, &root, NULL), 0);
			assert_true(jv_to_u64(jv_get(root, "sequence"), &seq));
			if (e->n == e->cap) {
				e->cap = e->cap ? e->cap * 2 : 256;
				e->ev = realloc(e->ev, e->cap * sizeof(*e->ev));
				e->seq = realloc(e->seq, e->cap * sizeof(*e->seq));
				assert_non_null(e->ev);
				assert_non_null(e->seq);
			}
			e->ev[e->n] = jv_get(root, "event");
			e->seq[e->n++] = seq;
		}
		segment_reader_close(r);
	}
	segment_list_free(&l);
	close(dirfd);
}

/* A field by dotted path ("process.pid"). */
static const struct jv *ah_get(const struct jv *v, const char *path)
{
	char key[128];

	while (v && *path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);

		snprintf(key, sizeof(key), "%.*s", (int)n, path);
		v = jv_get(v, key);
		path += n + (dot ? 1 : 0);
	}
	return v;
}

static bool ah_is(const struct jv *v, const char *path, const char *s)
{
	return jv_is_string(ah_get(v, path), s);
}

static int64_t ah_int(const struct jv *v, const char *path)
{
	int64_t x = INT64_MIN;

	jv_to_i64(ah_get(v, path), &x);
	return x;
}

/* The index of the first event from `from` with this action (and pid when
 * pid > 0), or -1. */
static ssize_t ah_find(const struct ah_events *e, size_t from, const char *action, int64_t pid)
{
	size_t i;

	for (i = from; i < e->n; i++)
		if (ah_is(e->ev[i], "event.action", action) &&
		    (pid <= 0 || ah_int(e->ev[i], "process.pid") == pid))
			return (ssize_t)i;
	return -1;
}

static size_t ah_count(const struct ah_events *e, const char *action)
{
	size_t i, n = 0;

	for (i = 0; i < e->n; i++)
		n += ah_is(e->ev[i], "event.action", action);
	return n;
}

#endif
