/* agent: the daemon's event loop (see agent.h).
 *
 * One thread does everything that touches the chain: ring-buffer records are
 * decoded and appended in arrival order, and a periodic tick drains what did not
 * wake us, flushes (the crash-loss budget), seals epochs and reports losses.
 * Compression of closed segments runs in its own thread, and so does the moving
 * of records out of the ring into the backlog (agent/backlog.h), which keeps
 * them coming while this thread waits for the disk. */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include "capture.h"
#include "cgroups.h"
#include "chain.h"
#include "compressor.h"
#include "config.h"
#include "decode.h"
#include "keys.h"
#include "lifecycle.h"
#include "notify.h"
#include "names.h"
#include "proctable.h"
#include "timefmt.h"

#define STOP_DRAIN_POLLS 64	/* at stop, up to about a million records: a few seconds */

struct agent {
	const struct agent_opts *o;
	struct agent_config cfg;
	bool cfg_loaded;
	char trail_real[PATH_MAX], keys_real[PATH_MAX + 1];
	char boot_id[33];

	struct capture *cap;
	struct chain *chain;
	struct compressor *comp;
	struct proctable *pt;
	struct cgroups *cg;
	struct decoder *dec;
	struct buf ev;

	int sigfd, timerfd, epfd;
	bool dirty;			/* appended since the last flush */
	uint64_t last_epoch;
	struct timespec last_seal, last_loss_check, last_clock_sync;
	char loss_since[TIME_ISO_LEN + 1];
	uint64_t loss_seen[ST_LOSS_SLOTS];	/* kernel totals already in an entry */
	bool loss_commit_due;		/* loss_seen must reach the pinned map once flushed */
	uint64_t pending_lost[AGENT_LOSS_SLOTS];
	uint64_t invalid_seen;		/* capture_invalid_records() already counted */
	struct run_stats stats;
};

static void die_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void die_line(const char *fmt, ...)
{
	va_list ap;

	fputs("sealtraild: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int64_t ms_since(const struct timespec *then)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - then->tv_sec) * 1000 + (now.tv_nsec - then->tv_nsec) / 1000000;
}

static void now_iso(char out[TIME_ISO_LEN + 1])
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	time_format_iso(&ts, out);
}

static int read_boot_id(char out[33])
{
	char raw[64];
	size_t i, n = 0;
	ssize_t len;
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	len = read(fd, raw, sizeof(raw) - 1);
	close(fd);
	if (len <= 0)
		return -EIO;
	for (i = 0; i < (size_t)len && n < 32; i++)
		if ((raw[i] >= '0' && raw[i] <= '9') || (raw[i] >= 'a' && raw[i] <= 'f'))
			out[n++] = raw[i];
	out[n] = '\0';
	return n == 32 ? 0 : -EIO;
}

/* ---- appending ---------------------------------------------------------------------- */
static void append_own(struct agent *a, const char *tag)
{
	/* A failure is counted by the chain and written as a gap later. */
	chain_append(a->chain, a->ev.data, a->ev.len, tag);
	a->dirty = true;
}

static int on_record(void *ctx, const struct st_record *rec, size_t size)
{
	struct agent *a = ctx;
	const char *action;

	buf_reset(&a->ev);
	action = decoder_event(a->dec, rec, size, &a->ev);
	if (!action) {
		a->pending_lost[AGENT_LOSS_DECODE * ST_TYPE_MAX +
				(rec->type < ST_TYPE_MAX ? rec->type : 0)]++;
		return 0;
	}
	chain_append(a->chain, a->ev.data, a->ev.len, action);
	a->stats.events++;
	a->dirty = true;
	return 0;
}

/* Turns increases of the loss counters (kernel and ours) into an entry. */
static void report_losses(struct agent *a)
{
	uint64_t now[ST_LOSS_SLOTS], delta[AGENT_LOSS_SLOTS] = { 0 };
	char until[TIME_ISO_LEN + 1];
	uint64_t invalid;
	bool any = false;
	size_t i;

	clock_gettime(CLOCK_MONOTONIC, &a->last_loss_check);
	if (capture_read_losses(a->cap, now) == 0) {
		for (i = 0; i < ST_LOSS_SLOTS; i++) {
			delta[i] = now[i] - a->loss_seen[i];
			a->loss_seen[i] = now[i];
		}
	}
	/* Records the capture refused as malformed (their type unknown): lost too. */
	invalid = capture_invalid_records(a->cap);
	a->pending_lost[AGENT_LOSS_DECODE * ST_TYPE_MAX] += invalid - a->invalid_seen;
	a->invalid_seen = invalid;
	for (i = 0; i < AGENT_LOSS_SLOTS; i++) {
		delta[i] += a->pending_lost[i];
		a->pending_lost[i] = 0;
		a->stats.lost[i] += delta[i];
		any |= delta[i] != 0;
	}
	now_iso(until);
	if (any) {
		buf_reset(&a->ev);
		lifecycle_lost(&a->ev, delta, a->loss_since, until);
		append_own(a, "events-lost");
		a->loss_commit_due = true;
	}
	memcpy(a->loss_since, until, sizeof(until));
}

/* Takes what is pending, CAPTURE_POLL_MAX records per poll: until the ring is caught up,
 * or for at most `polls` polls while the producers keep pace (then the rest waits for the
 * next turn of the loop, after the timers and signals). */
static void drain(struct agent *a, int polls)
{
	while (polls-- > 0 && capture_poll(a->cap, 0) >= CAPTURE_POLL_MAX)
		;
}

/* Flushes; once the entries are on disk, records what of the losses they
 * report, so that an agent taking over a pinned capture does not report it again
 * (and one that takes over before the flush does). */
static int flush(struct agent *a)
{
	int err = chain_flush(a->chain, true);

	if (!err) {
		a->dirty = false;
		if (a->loss_commit_due && !capture_write_reported(a->cap, a->loss_seen))
			a->loss_commit_due = false;
	}
	return err;
}

/* The periodic work: drain, flush within the crash-loss budget, seal on time. */
static void tick(struct agent *a)
{
	struct chain_stats cs;

	drain(a, 1);
	if (ms_since(&a->last_loss_check) >= a->cfg.loss_check_ms)
		report_losses(a);
	chain_get_stats(a->chain, &cs);
	if (cs.epoch != a->last_epoch) {	/* a rotation sealed */
		a->last_epoch = cs.epoch;
		clock_gettime(CLOCK_MONOTONIC, &a->last_seal);
	}
	if (ms_since(&a->last_seal) >= (int64_t)a->cfg.epoch_seconds * 1000) {
		/* Also when idle: an epoch can never silently go missing. */
		if (chain_seal(a->chain, "timer") == 0) {
			a->dirty = false;	/* the seal flushed */
			clock_gettime(CLOCK_MONOTONIC, &a->last_seal);
		}
		chain_get_stats(a->chain, &cs);
		a->last_epoch = cs.epoch;
	}
	if (a->dirty || cs.write_error || a->loss_commit_due)
		flush(a);
	if (ms_since(&a->last_clock_sync) >= 10000) {
		decoder_sync_clock(a->dec);
		clock_gettime(CLOCK_MONOTONIC, &a->last_clock_sync);
	}
}

/* ---- configuration ------------------------------------------------------------------ */
static int apply_filters(struct agent *a, const struct agent_config *cfg)
{
	struct capture_filters f;
	const char **sensitive;
	char keys_prefix[PATH_MAX + 2];
	int err;

	config_filters(cfg, &f);
	/* Reads of the writer's key by anyone else are always worth knowing. */
	sensitive = calloc(cfg->sensitive_paths.n + 1, sizeof(char *));
	if (!sensitive)
		return -ENOMEM;
	memcpy(sensitive, cfg->sensitive_paths.v, cfg->sensitive_paths.n * sizeof(char *));
	snprintf(keys_prefix, sizeof(keys_prefix), "%s/", a->keys_real);
	sensitive[cfg->sensitive_paths.n] = keys_prefix;
	f.sensitive_paths = sensitive;
	f.n_sensitive_paths = cfg->sensitive_paths.n + 1;
	err = capture_set_filters(a->cap, &f);
	free(sensitive);
	return err;
}

static void reload(struct agent *a)
{
	struct agent_config cfg;
	char err[512];
	int ret;

	ret = config_load(a->o->config_path, &cfg, err, sizeof(err));
	buf_reset(&a->ev);
	if (ret) {
		die_line("reload refused, keeping the running configuration: %s", err);
		lifecycle_reload(&a->ev, a->cfg.digest, err);
		append_own(a, "config-reload");
		return;
	}
	ret = apply_filters(a, &cfg);
	if (ret) {
		die_line("reload: cannot apply filters: %s", strerror(-ret));
		snprintf(err, sizeof(err), "cannot apply filters: %s", strerror(-ret));
		lifecycle_reload(&a->ev, a->cfg.digest, err);
		config_free(&cfg);
		append_own(a, "config-reload");
		return;
	}
	config_free(&a->cfg);
	a->cfg = cfg;
	lifecycle_reload(&a->ev, a->cfg.digest, NULL);
	append_own(a, "config-reload");
	chain_rotate(a->chain);
	fprintf(stderr, "sealtraild: configuration reloaded (%s)\n", a->cfg.digest);
}

/* ---- start and stop -------------------------------------------------------------------- */
static int open_chain(struct agent *a, struct chain_status *st)
{
	struct chain_opts co = {
		.trail_dir = a->o->trail_dir,
		.key_dir = a->o->key_dir,
		.segment_bytes = a->cfg.segment_bytes,
		.on_segment_closed = compressor_enqueue,
		.ctx = a->comp,
	};
	int err = chain_open(&a->chain, &co, st);

	switch (err) {
	case 0:
		return 0;
	case -EBUSY:
		die_line("%s is in use by another writer", a->o->trail_dir);
		break;
	case -ENOENT:
		die_line("no %s/writer.key (create keys with `sealtrail keygen %s`)", a->o->key_dir,
			 a->o->key_dir);
		break;
	case -ESTALE:
		die_line("the writer key in %s has already been used: a new trail needs new keys",
			 a->o->key_dir);
		break;
	case -EBADMSG:
		die_line("the last entry of %s is not valid: check it with `sealtrail verify`",
			 a->o->trail_dir);
		break;
	default:
		die_line("cannot open the trail %s: %s", a->o->trail_dir, strerror(-err));
	}
	return err;
}

static void write_start(struct agent *a, const struct chain_status *st)
{
	const struct capture_program_info *progs;
	struct start_info si = { 0 };
	struct chain_stats cs;
	struct utsname u;
	char host[256] = "";

	uname(&u);
	gethostname(host, sizeof(host) - 1);
	chain_get_stats(a->chain, &cs);
	si.boot_id = a->boot_id;
	si.hostname = host;
	si.kernel = u.release;
	si.version = SEALTRAIL_VERSION;
	si.config_digest = a->cfg.digest;
	si.pid = (uint32_t)getpid();
	si.nprograms = capture_programs(a->cap, &progs);
	si.programs = progs;
	si.previous_action = st->last_action;
	si.previous_sequence = cs.next_sequence ? cs.next_sequence - 1 : 0;
	si.previous_run = !st->last_action[0] ? "first"
			  : !strcmp(st->last_action, "agent-stop") ? "clean" : "unclean";
	si.append_only = st->append_only_error == 0;
	si.torn_bytes = st->torn_bytes;
	buf_reset(&a->ev);
	lifecycle_start(&a->ev, &si);
	append_own(a, "agent-start");
	if (strcmp(si.previous_run, "unclean") == 0)
		fprintf(stderr, "sealtraild: the previous run ended uncleanly (last entry: %s)\n",
			st->last_action);
	if (st->torn_bytes)
		fprintf(stderr, "sealtraild: recovered %" PRIu64 " bytes of an interrupted write in "
			"%s\n", st->torn_bytes, st->torn_segment);
	if (st->append_only_error)
		fprintf(stderr, "sealtraild: warning: segments cannot be made append-only here (%s)\n",
			strerror(-st->append_only_error));
}

static void stop_signals(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGHUP);
}

static int setup_loop(struct agent *a)
{
	struct itimerspec it = { 0 };
	struct epoll_event ev = { .events = EPOLLIN };
	unsigned int tick_ms = a->cfg.flush_ms / 2;
	sigset_t mask;

	if (tick_ms < 5)
		tick_ms = 5;
	if (tick_ms > 500)
		tick_ms = 500;
	stop_signals(&mask);
	a->sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	a->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	a->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (a->sigfd < 0 || a->timerfd < 0 || a->epfd < 0)
		return -errno;
	it.it_interval.tv_sec = tick_ms / 1000;
	it.it_interval.tv_nsec = (long)(tick_ms % 1000) * 1000000;
	it.it_value = it.it_interval;
	if (timerfd_settime(a->timerfd, 0, &it, NULL) < 0)
		return -errno;
	ev.data.fd = a->sigfd;
	if (epoll_ctl(a->epfd, EPOLL_CTL_ADD, a->sigfd, &ev) < 0)
		return -errno;
	ev.data.fd = a->timerfd;
	if (epoll_ctl(a->epfd, EPOLL_CTL_ADD, a->timerfd, &ev) < 0)
		return -errno;
	ev.data.fd = capture_fd(a->cap);
	if (epoll_ctl(a->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev) < 0)
		return -errno;
	return 0;
}

/* Runs until a stop signal; returns its number. */
static int loop(struct agent *a)
{
	for (;;) {
		struct epoll_event evs[4];
		int n, i;

		n = epoll_wait(a->epfd, evs, 4, -1);
		if (n < 0 && errno == EINTR)
			continue;
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == a->sigfd) {
				struct signalfd_siginfo si;

				if (read(a->sigfd, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo == SIGHUP)
					reload(a);
				else
					return (int)si.ssi_signo;
			} else if (fd == a->timerfd) {
				uint64_t expirations;

				if (read(a->timerfd, &expirations, sizeof(expirations)) > 0)
					tick(a);
			} else {
				capture_poll(a->cap, 0);
			}
		}
	}
}

/* Returns 0, or -errno when the last entries could not be written. */
static int stop(struct agent *a, int sig)
{
	char name[16];
	int err;

	notify_systemd("STOPPING=1");
	/* What was sent before the stop, within reason: a storm that goes on would keep
	 * the stop from ever happening (systemd kills after 30 s, without a stop entry).
	 * The backlog first, then the ring: what is left stays there, for a pinned
	 * capture's next agent. */
	capture_end_backlog(a->cap);
	drain(a, STOP_DRAIN_POLLS);
	report_losses(a);
	{
		struct chain_stats cs;
		struct backlog_stats bs;

		chain_get_stats(a->chain, &cs);
		a->stats.entries_lost = cs.entries_lost;
		capture_backlog_stats(a->cap, &bs);
		a->stats.backlog_peak_bytes = bs.peak_bytes;
		a->stats.backlog_full_waits = bs.full_waits;
	}
	buf_reset(&a->ev);
	lifecycle_stop(&a->ev, &a->stats, names_signal(sig, name));
	append_own(a, "agent-stop");
	err = flush(a);
	if (err) {
		struct chain_stats cs;

		/* Nowhere left to record it: say it where the operator looks. */
		chain_get_stats(a->chain, &cs);
		die_line("writing to %s still fails (%s): the last entries, including the stop "
			 "entry, are not in the trail", a->o->trail_dir, strerror(-cs.write_error));
	}
	return err;
}

int agent_run(const struct agent_opts *o)
{
	struct agent a = { .o = o, .sigfd = -1, .timerfd = -1, .epfd = -1 };
	struct chain_status st;
	struct capture_opts co = { 0 };
	char err[512];
	int ret = 2, e;

	/* Block the stop signals before any thread exists (threads inherit the
	 * mask): they are read from a signalfd, never delivered asynchronously. */
	{
		sigset_t mask;

		stop_signals(&mask);
		sigprocmask(SIG_BLOCK, &mask, NULL);
		signal(SIGPIPE, SIG_IGN);
	}
	if (config_load(o->config_path, &a.cfg, err, sizeof(err))) {
		die_line("%s", err);
		return 2;
	}
	a.cfg_loaded = true;
	if (mkdir(o->trail_dir, 0750) < 0 && errno != EEXIST) {
		die_line("cannot create %s: %s", o->trail_dir, strerror(errno));
		goto out;
	}
	if (!realpath(o->trail_dir, a.trail_real) || !realpath(o->key_dir, a.keys_real)) {
		die_line("cannot resolve %s: %s", !a.trail_real[0] ? o->trail_dir : o->key_dir,
			 strerror(errno));
		goto out;
	}
	ret = 1;
	if (read_boot_id(a.boot_id) || proctable_new(&a.pt) || cgroups_new(&a.cg, "/sys/fs/cgroup")) {
		die_line("cannot read the boot id or set up the process table");
		goto out;
	}
	{
		struct decoder_opts dopts = { .protect = { a.trail_real, a.keys_real }, .nprotect = 2 };

		memcpy(dopts.boot_id, a.boot_id, sizeof(dopts.boot_id));
		if (decoder_new(&a.dec, &dopts, a.pt, a.cg)) {
			die_line("out of memory");
			goto out;
		}
	}

	co.on_record = on_record;
	co.ctx = &a;
	co.agent_pid = (uint32_t)getpid();
	co.ringbuf_bytes = a.cfg.ringbuf_bytes;
	co.wakeup_bytes = a.cfg.wakeup_bytes;
	co.pin_dir = o->pin_dir;
	e = capture_open(&a.cap, &co);
	if (e) {
		if (o->pin_dir && e == -EBUSY)
			die_line("another agent holds the pinned capture in %s", o->pin_dir);
		else if (o->pin_dir && e == -EINVAL)
			die_line("cannot pin in %s: not a directory on a bpf filesystem", o->pin_dir);
		else
			die_line("cannot load the capture programs: %s%s", strerror(-e),
				 e == -EPERM ? " (run as root)" : "");
		goto out;
	}
	if (a.cfg.backlog_bytes) {
		e = capture_start_backlog(a.cap, a.cfg.backlog_bytes);
		if (e) {
			die_line("cannot start the thread that drains the ring: %s", strerror(-e));
			goto out;
		}
	}
	e = apply_filters(&a, &a.cfg);
	if (e) {
		die_line("cannot set the capture filters: %s", strerror(-e));
		goto out;
	}
	/* A pinned capture that ran without us counted on: report only what is new. */
	capture_read_reported(a.cap, a.loss_seen);
	/* After attaching: whatever starts from now on is seen by the programs. */
	proctable_scan_proc(a.pt, "/proc");

	e = compressor_start(&a.comp, a.trail_real);
	if (e) {
		die_line("cannot start the compression thread: %s", strerror(-e));
		goto out;
	}
	if (open_chain(&a, &st))
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &a.last_seal);
	a.last_loss_check = a.last_clock_sync = a.last_seal;
	now_iso(a.loss_since);
	{
		struct chain_stats cs;

		chain_get_stats(a.chain, &cs);
		a.last_epoch = cs.epoch;
	}
	write_start(&a, &st);
	if (flush(&a))
		fprintf(stderr, "sealtraild: warning: cannot write to %s yet: the gap will be "
			"recorded\n", o->trail_dir);
	e = setup_loop(&a);
	if (e) {
		die_line("cannot set up the event loop: %s", strerror(-e));
		goto out;
	}
	fprintf(stderr, "sealtraild: ready: trail %s, keys %s, config %s\n", o->trail_dir, o->key_dir,
		o->config_path ? o->config_path : "(built-in defaults)");
	notify_systemd("READY=1");

	e = loop(&a);
	ret = stop(&a, e) ? 1 : 0;	/* 1: the trail lacks its last entries (said above) */
	fprintf(stderr, "sealtraild: stopped on %s after %" PRIu64 " events\n",
		sigabbrev_np(e) ? sigabbrev_np(e) : "signal", a.stats.events);
out:
	chain_close(a.chain);
	capture_close(a.cap);
	compressor_stop(a.comp);
	decoder_free(a.dec);
	cgroups_free(a.cg);
	proctable_free(a.pt);
	buf_free(&a.ev);
	if (a.cfg_loaded)
		config_free(&a.cfg);
	if (a.sigfd >= 0)
		close(a.sigfd);
	if (a.timerfd >= 0)
		close(a.timerfd);
	if (a.epfd >= 0)
		close(a.epfd);
	return ret;
}
