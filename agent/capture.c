/* capture: loads sealtrail's BPF programs (build/sealtrail.skel.h), configures their
 * filters and hands every ring-buffer record, checked, to a callback. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "capture.h"
#include "sensitive.h"
#include "tracefs.h"
#include "sealtrail.skel.h"

/* The record ABI, pinned: BPF and userspace must agree to the byte. */
_Static_assert(sizeof(struct st_task) == 96, "st_task layout");
_Static_assert(sizeof(struct st_str) == 4, "st_str layout");
_Static_assert(offsetof(struct st_record, task) == 32, "st_record layout");
_Static_assert(offsetof(struct st_record, arg) == 128, "st_record layout");
_Static_assert(sizeof(struct st_record) == 208, "st_record layout");
_Static_assert(sizeof(struct st_config) == 16, "st_config layout");
_Static_assert(sizeof(struct st_path_key) == 4 + ST_PREFIX_MAX, "st_path_key layout");

#define RINGBUF_DEFAULT	(16u << 20)
#define WAKEUP_MAX	(256u << 10)	/* default wakeup: ring/8, at most this */
#define WHY_LEN		128

/* Programs that may fail to attach without failing the capture. */
static const char *const optional_programs[] = {
	"tp_btf__signal_generate",	/* tamper detection only */
};

struct capture_prog {
	struct bpf_program *prog;
	struct bpf_link *link;
	char why[WHY_LEN];
};

struct capture {
	struct sealtrail *skel;
	struct ring_buffer *rb;
	capture_record_fn on_record;
	void *ctx;
	struct capture_prog *progs;
	struct capture_program_info *info;
	size_t nprogs;
	int ncpus;
	int delivered;		/* records handed over by the current capture_poll() */
	int stop;		/* the callback's non-zero return, ending a poll */
	uint64_t invalid;	/* samples that failed validation */
};

/* libbpf talks through this: warnings and errors only, which include the verifier log
 * when a program fails to load. */
static int capture_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level != LIBBPF_WARN)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static bool program_optional(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(optional_programs) / sizeof(optional_programs[0]); i++)
		if (!strcmp(name, optional_programs[i]))
			return true;
	return false;
}

/* A record as the kernel wrote it: sizes agree with the sample and with each other. */
static bool record_valid(const struct st_record *rec, size_t size)
{
	size_t want = sizeof(*rec);
	int i;

	if (size < sizeof(*rec) || rec->size != size || rec->abi != ST_ABI_VERSION ||
	    rec->type == 0 || rec->type >= ST_TYPE_MAX)
		return false;
	for (i = 0; i < ST_NSTR; i++)
		want += rec->str[i].len;
	return want == size;
}

static int capture_sample(void *ctx, void *data, size_t size)
{
	struct capture *c = ctx;
	int rc;

	if (!record_valid(data, size)) {
		c->invalid++;
		return 0;
	}
	c->delivered++;
	rc = c->on_record(c->ctx, data, size);
	if (rc) {
		c->stop = rc;
		return -ECANCELED;	/* libbpf stops on a negative return */
	}
	return 0;
}

/*
 * Loads a tracepoint program exactly when this kernel has its tracepoint. A missing one
 * means the syscall is missing too (or, for init_module and friends, CONFIG_MODULES is
 * off), so nothing goes unseen. Programs marked optional in BPF ("?tracepoint/") are off
 * by default and turned on here.
 */
static int capture_choose_programs(struct capture *c)
{
	struct bpf_program *prog;
	size_t i = 0;

	bpf_object__for_each_program(prog, c->skel->obj) {
		const char *sec = bpf_program__section_name(prog);
		char category[64];
		const char *name;
		size_t len;
		bool present;

		c->progs[i++].prog = prog;
		if (sec[0] == '?')
			sec++;
		if (strncmp(sec, "tracepoint/", 11))
			continue;
		name = strchr(sec + 11, '/');
		len = name ? (size_t)(name - (sec + 11)) : 0;
		if (!name || len >= sizeof(category))
			return -EINVAL;
		memcpy(category, sec + 11, len);
		category[len] = '\0';
		present = tracefs_event_exists(category, name + 1);
		if (!present)
			snprintf(c->progs[i - 1].why, WHY_LEN,
				 "tracepoint %s/%s is not in this kernel", category, name + 1);
		bpf_program__set_autoload(prog, present);
	}
	return 0;
}

static int capture_attach(struct capture *c)
{
	size_t i;
	int err;

	for (i = 0; i < c->nprogs; i++) {
		struct capture_prog *p = &c->progs[i];
		const char *name = bpf_program__name(p->prog);

		c->info[i].name = name;
		if (!bpf_program__autoload(p->prog)) {
			c->info[i].why = p->why;
			continue;
		}
		p->link = bpf_program__attach(p->prog);
		if (!p->link) {
			err = -errno;
			snprintf(p->why, WHY_LEN, "attach failed: %s", strerror(-err));
			c->info[i].why = p->why;
			if (!program_optional(name))
				return err;
			continue;
		}
		c->info[i].attached = true;
	}
	return 0;
}

static int capture_write_config(struct capture *c, const struct st_config *cfg)
{
	__u32 zero = 0;

	if (bpf_map__update_elem(c->skel->maps.config_map, &zero, sizeof(zero), cfg, sizeof(*cfg),
				 BPF_ANY))
		return -errno;
	return 0;
}

static int capture_read_config(struct capture *c, struct st_config *cfg)
{
	__u32 zero = 0;

	if (bpf_map__lookup_elem(c->skel->maps.config_map, &zero, sizeof(zero), cfg, sizeof(*cfg),
				 0))
		return -errno;
	return 0;
}

int capture_open(struct capture **out, const struct capture_opts *opts)
{
	uint32_t ring = opts && opts->ringbuf_bytes ? opts->ringbuf_bytes : RINGBUF_DEFAULT;
	struct st_config cfg = { 0 };
	struct capture *c;
	struct bpf_program *prog;
	long page = sysconf(_SC_PAGESIZE);
	int err;

	*out = NULL;
	if (!opts || !opts->on_record)
		return -EINVAL;
	if (opts->pin_dir)
		return -EOPNOTSUPP;
	if (ring & (ring - 1) || ring < (uint32_t)page)
		return -EINVAL;
	libbpf_set_print(capture_print);
	err = tracefs_mount();
	if (err)
		return err;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->on_record = opts->on_record;
	c->ctx = opts->ctx;
	c->skel = sealtrail__open();
	if (!c->skel) {
		err = -errno;
		goto fail;
	}
	bpf_object__for_each_program(prog, c->skel->obj)
		c->nprogs++;
	c->progs = calloc(c->nprogs, sizeof(*c->progs));
	c->info = calloc(c->nprogs, sizeof(*c->info));
	if (!c->progs || !c->info) {
		err = -ENOMEM;
		goto fail;
	}
	c->ncpus = libbpf_num_possible_cpus();
	if (c->ncpus <= 0) {
		err = c->ncpus ? c->ncpus : -EINVAL;
		goto fail;
	}
	err = bpf_map__set_max_entries(c->skel->maps.scratch, c->ncpus);
	if (!err)
		err = bpf_map__set_max_entries(c->skel->maps.events, ring);
	if (!err)
		err = capture_choose_programs(c);
	if (err)
		goto fail;
	err = sealtrail__load(c->skel);
	if (err)
		goto fail;

	/* Config before attach: self-exclusion holds from the first event. */
	cfg.agent_pid = opts->agent_pid ? opts->agent_pid : (uint32_t)getpid();
	cfg.wakeup_bytes = opts->wakeup_bytes ? opts->wakeup_bytes :
			   (ring / 8 < WAKEUP_MAX ? ring / 8 : WAKEUP_MAX);
	err = capture_write_config(c, &cfg);
	if (err)
		goto fail;
	c->rb = ring_buffer__new(bpf_map__fd(c->skel->maps.events), capture_sample, c, NULL);
	if (!c->rb) {
		err = -errno;
		goto fail;
	}
	err = capture_attach(c);
	if (err)
		goto fail;
	*out = c;
	return 0;
fail:
	capture_close(c);
	return err;
}

/* Deletes every key of a hash or LPM trie: keys are collected first, as deleting while
 * walking restarts the walk. */
static int map_clear(struct bpf_map *map)
{
	size_t ksz = bpf_map__key_size(map), n = 0, i;
	__u32 max = bpf_map__max_entries(map);
	char *keys, *prev = NULL;
	int fd = bpf_map__fd(map), err = 0;

	keys = calloc(max + 1, ksz);
	if (!keys)
		return -ENOMEM;
	while (n < max && !bpf_map_get_next_key(fd, prev, keys + n * ksz)) {
		prev = keys + n * ksz;
		n++;
	}
	for (i = 0; i < n; i++)
		if (bpf_map_delete_elem(fd, keys + i * ksz) && errno != ENOENT && !err)
			err = -errno;
	free(keys);
	return err;
}

static int map_put(struct bpf_map *map, const void *key, const void *value)
{
	if (bpf_map_update_elem(bpf_map__fd(map), key, value, BPF_ANY))
		return -errno;
	return 0;
}

static int prefixes_check(const char *const *paths, size_t n)
{
	size_t i, len;

	if (n > ST_PATH_RULES_MAX)
		return -E2BIG;
	for (i = 0; i < n; i++) {
		len = paths[i] ? strlen(paths[i]) : 0;
		if (len == 0 || len > ST_PREFIX_MAX || paths[i][0] != '/')
			return -EINVAL;
	}
	return 0;
}

static int prefixes_load(struct bpf_map *map, const char *const *paths, size_t n)
{
	struct st_path_key key;
	__u8 one = 1;
	size_t i, len;
	int err = map_clear(map);

	for (i = 0; !err && i < n; i++) {
		memset(&key, 0, sizeof(key));
		len = strlen(paths[i]);
		memcpy(key.path, paths[i], len);
		key.prefixlen = 8 * len;
		err = map_put(map, &key, &one);
	}
	return err;
}

/*
 * Every list is checked before anything changes, then each map is cleared and refilled.
 * The programs keep running meanwhile and may see a mix of old and new lists for a
 * moment: filters are eventually consistent.
 */
int capture_set_filters(struct capture *c, const struct capture_filters *f)
{
	__typeof__(c->skel->maps) *m = &c->skel->maps;
	struct sensitive_set set = { 0 };
	struct st_config cfg;
	__u8 one = 1;
	size_t i;
	int err;

	if (f->n_ignore_uids > bpf_map__max_entries(m->ignore_uids) ||
	    f->n_ignore_cgroups > bpf_map__max_entries(m->ignore_cgroups) ||
	    f->n_ignore_comms > bpf_map__max_entries(m->ignore_comms))
		return -E2BIG;
	for (i = 0; i < f->n_ignore_comms; i++)
		if (!f->ignore_comms[i] || strlen(f->ignore_comms[i]) >= ST_COMM_LEN)
			return -EINVAL;
	err = prefixes_check(f->watch_paths, f->n_watch_paths);
	if (!err)
		err = prefixes_check(f->ignore_paths, f->n_ignore_paths);
	for (i = 0; !err && i < f->n_sensitive_paths; i++)
		err = sensitive_set_add(&set, f->sensitive_paths[i]);
	if (!err && set.n > bpf_map__max_entries(m->sensitive_dirs))
		err = -E2BIG;
	if (err)
		goto out;

	err = map_clear(m->ignore_uids);
	for (i = 0; !err && i < f->n_ignore_uids; i++)
		err = map_put(m->ignore_uids, &f->ignore_uids[i], &one);
	if (!err)
		err = map_clear(m->ignore_cgroups);
	for (i = 0; !err && i < f->n_ignore_cgroups; i++)
		err = map_put(m->ignore_cgroups, &f->ignore_cgroups[i], &one);
	if (!err)
		err = map_clear(m->ignore_comms);
	for (i = 0; !err && i < f->n_ignore_comms; i++) {
		char comm[ST_COMM_LEN] = { 0 };

		memcpy(comm, f->ignore_comms[i], strlen(f->ignore_comms[i]));
		err = map_put(m->ignore_comms, comm, &one);
	}
	if (!err)
		err = prefixes_load(m->watch_paths, f->watch_paths, f->n_watch_paths);
	if (!err)
		err = prefixes_load(m->ignore_paths, f->ignore_paths, f->n_ignore_paths);
	if (!err)
		err = map_clear(m->sensitive_dirs);
	for (i = 0; !err && i < set.n; i++)
		err = map_put(m->sensitive_dirs, &set.dirs[i].key, &set.dirs[i].names);
	if (!err)
		err = capture_read_config(c, &cfg);
	if (!err) {
		cfg.npath_rules = f->n_watch_paths + f->n_ignore_paths;
		err = capture_write_config(c, &cfg);
	}
out:
	sensitive_set_free(&set);
	return err;
}

int capture_set_agent_pid(struct capture *c, uint32_t pid)
{
	struct st_config cfg;
	int err;

	err = capture_read_config(c, &cfg);
	if (err)
		return err;
	cfg.agent_pid = pid ? pid : (uint32_t)getpid();
	return capture_write_config(c, &cfg);
}

int capture_poll(struct capture *c, int timeout_ms)
{
	int err;

	c->delivered = 0;
	c->stop = 0;
	err = ring_buffer__poll(c->rb, timeout_ms);
	if (c->stop)
		return c->stop;
	if (err < 0 && err != -EINTR)
		return err;
	/* Records below the wakeup threshold raise no event: take them anyway. */
	err = ring_buffer__consume(c->rb);
	if (c->stop)
		return c->stop;
	if (err < 0)
		return err;
	return c->delivered;
}

int capture_fd(const struct capture *c)
{
	return ring_buffer__epoll_fd(c->rb);
}

int capture_read_losses(struct capture *c, uint64_t totals[ST_LOSS_SLOTS])
{
	int fd = bpf_map__fd(c->skel->maps.losses);
	__u64 *percpu;
	__u32 slot;
	int cpu, err = 0;

	percpu = calloc(c->ncpus, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	for (slot = 0; slot < ST_LOSS_SLOTS; slot++) {
		if (bpf_map_lookup_elem(fd, &slot, percpu)) {
			err = -errno;
			break;
		}
		totals[slot] = 0;
		for (cpu = 0; cpu < c->ncpus; cpu++)
			totals[slot] += percpu[cpu];
	}
	free(percpu);
	return err;
}

uint64_t capture_invalid_records(const struct capture *c)
{
	return c->invalid;
}

int capture_read_prog_misses(struct capture *c, uint64_t *misses)
{
	size_t i;

	*misses = 0;
	for (i = 0; i < c->nprogs; i++) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);

		if (!c->info[i].attached)
			continue;
		if (bpf_obj_get_info_by_fd(bpf_program__fd(c->progs[i].prog), &info, &len))
			return -errno;
		*misses += info.recursion_misses;
	}
	return 0;
}

size_t capture_programs(const struct capture *c, const struct capture_program_info **out)
{
	*out = c->info;
	return c->nprogs;
}

void capture_close(struct capture *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; c->progs && i < c->nprogs; i++)
		bpf_link__destroy(c->progs[i].link);
	ring_buffer__free(c->rb);
	sealtrail__destroy(c->skel);
	free(c->progs);
	free(c->info);
	free(c);
}
