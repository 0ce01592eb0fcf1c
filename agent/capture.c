/* capture: loads sealtrail's BPF programs (build/sealtrail.skel.h), or takes over the ones an
 * earlier run pinned, configures their filters and hands every ring-buffer record, checked,
 * to a callback. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <asm/unistd.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "capture.h"
#include "pin.h"
#include "ring.h"
#include "sensitive.h"
#include "sealtrail.skel.h"

/* The record ABI, pinned: BPF and userspace must agree to the byte. */
_Static_assert(sizeof(struct st_task) == 96, "st_task layout");
_Static_assert(sizeof(struct st_str) == 4, "st_str layout");
_Static_assert(offsetof(struct st_record, task) == 32, "st_record layout");
_Static_assert(offsetof(struct st_record, arg) == 128, "st_record layout");
_Static_assert(sizeof(struct st_record) == 208, "st_record layout");
_Static_assert(sizeof(struct st_config) == 24 + ST_IGNORE_LEAD_BITS / 8, "st_config layout");
_Static_assert(sizeof(struct st_path_key) == 4 + ST_PREFIX_MAX, "st_path_key layout");

#define RINGBUF_DEFAULT	(16u << 20)
#define WHY_LEN		128
#define ENTER_PREFIX	"sys_enter__"	/* handler names: bpf/syscall.bpf.h */
#define ENTER_D_PREFIX	"sys_enter_d__"
#define ENTER_DISPATCHER "tp_btf__sys_enter"
#define EXIT_PREFIX	"sys_exit__"
#define MAP_PIN		"map_"		/* pin names: map_<map>, link_<program>, marker */
#define LINK_PIN	"link_"
#define TRACEFS_ROOT	"/sys/kernel/tracing"
#define DEBUGFS_TRACING	"/sys/kernel/debug/tracing"

/* Programs that may fail to attach without failing the capture. */
static const char *const optional_programs[] = {
	"tp_btf__signal_generate",	/* tamper detection only */
};

/* Calls newer than the oldest uapi headers we build with (Debian 12: Linux 6.1). Numbers
 * given out since 5.1 are the same on every architecture but alpha. */
#ifndef __NR_fchmodat2
#define __NR_fchmodat2 452	/* 6.6 */
#endif
#ifndef __NR_setxattrat
#define __NR_setxattrat 463	/* 6.13 */
#endif
#ifndef __NR_removexattrat
#define __NR_removexattrat 466	/* 6.13 */
#endif

/* A handled syscall: the name in its handlers' names (sys_enter__<name>), its number on the
 * architecture the agent is built for, and the record type a failed dispatch is counted as. */
struct syscall_slot {
	const char *name;
	int nr;
	__u8 type;
};

#define SYSCALL(name, type) { #name, __NR_##name, type }

/* The legacy calls that the generic table (arm64, riscv, ...) lacks are guarded. */
static const struct syscall_slot syscall_slots[] = {
	SYSCALL(execve, ST_EXEC),
	SYSCALL(execveat, ST_EXEC),
	SYSCALL(clone, ST_FORK),
	SYSCALL(clone3, ST_FORK),
#ifdef __NR_fork
	SYSCALL(fork, ST_FORK),
#endif
#ifdef __NR_vfork
	SYSCALL(vfork, ST_FORK),
#endif
	SYSCALL(setuid, ST_CRED),
	SYSCALL(setgid, ST_CRED),
	SYSCALL(setreuid, ST_CRED),
	SYSCALL(setregid, ST_CRED),
	SYSCALL(setresuid, ST_CRED),
	SYSCALL(setresgid, ST_CRED),
	SYSCALL(setfsuid, ST_CRED),
	SYSCALL(setfsgid, ST_CRED),
	SYSCALL(setgroups, ST_CRED),
	SYSCALL(capset, ST_CRED),
	SYSCALL(ptrace, ST_PTRACE),
	SYSCALL(init_module, ST_MODULE),
	SYSCALL(finit_module, ST_MODULE),
	SYSCALL(delete_module, ST_MODULE),
	SYSCALL(bpf, ST_BPF),
	SYSCALL(mount, ST_MOUNT),
	SYSCALL(umount2, ST_UMOUNT),
#ifdef __NR_open
	SYSCALL(open, ST_OPEN),
#endif
	SYSCALL(openat, ST_OPEN),
	SYSCALL(openat2, ST_OPEN),
#ifdef __NR_creat
	SYSCALL(creat, ST_OPEN),
#endif
#ifdef __NR_unlink
	SYSCALL(unlink, ST_UNLINK),
#endif
	SYSCALL(unlinkat, ST_UNLINK),
#ifdef __NR_rmdir
	SYSCALL(rmdir, ST_RMDIR),
#endif
#ifdef __NR_rename
	SYSCALL(rename, ST_RENAME),
#endif
#ifdef __NR_renameat
	SYSCALL(renameat, ST_RENAME),
#endif
	SYSCALL(renameat2, ST_RENAME),
#ifdef __NR_mkdir
	SYSCALL(mkdir, ST_MKDIR),
#endif
	SYSCALL(mkdirat, ST_MKDIR),
#ifdef __NR_link
	SYSCALL(link, ST_LINK),
#endif
	SYSCALL(linkat, ST_LINK),
#ifdef __NR_symlink
	SYSCALL(symlink, ST_SYMLINK),
#endif
	SYSCALL(symlinkat, ST_SYMLINK),
#ifdef __NR_chmod
	SYSCALL(chmod, ST_CHMOD),
#endif
	SYSCALL(fchmod, ST_CHMOD),
	SYSCALL(fchmodat, ST_CHMOD),
	SYSCALL(fchmodat2, ST_CHMOD),
#ifdef __NR_chown
	SYSCALL(chown, ST_CHOWN),
#endif
	SYSCALL(fchown, ST_CHOWN),
#ifdef __NR_lchown
	SYSCALL(lchown, ST_CHOWN),
#endif
	SYSCALL(fchownat, ST_CHOWN),
	SYSCALL(truncate, ST_TRUNCATE),
	SYSCALL(ftruncate, ST_TRUNCATE),
	SYSCALL(setxattr, ST_XATTR),
	SYSCALL(lsetxattr, ST_XATTR),
	SYSCALL(fsetxattr, ST_XATTR),
	SYSCALL(setxattrat, ST_XATTR),
	SYSCALL(removexattr, ST_XATTR),
	SYSCALL(lremovexattr, ST_XATTR),
	SYSCALL(fremovexattr, ST_XATTR),
	SYSCALL(removexattrat, ST_XATTR),
	SYSCALL(ioctl, ST_SETFLAGS),
};

enum prog_kind {
	PROG_ATTACHED,		/* has its own link: the dispatchers, the scheduler programs */
	PROG_ENTER,		/* an enter handler: its own link, on its syscall's tracepoint */
	PROG_ENTER_D,		/* an enter handler in sys_enter_handlers (no such tracepoints) */
	PROG_EXIT,		/* an exit handler: in sys_exit_handlers */
};

struct capture_prog {
	struct bpf_program *prog;
	struct bpf_link *link;
	enum prog_kind kind;
	const struct syscall_slot *sys;	/* handlers: NULL when this architecture has none */
	int fd;			/* a pinned run's program, opened by id (owned); else -1 */
	bool unused;		/* of the way of running enters not taken: not loaded, not listed */
	char why[WHY_LEN];
};

/* A handler a dispatcher tail-calls from its program array: it has no link of its own,
 * and the kernel counts its misses on the dispatcher. */
static bool prog_tail_called(const struct capture_prog *p)
{
	return p->kind == PROG_EXIT || p->kind == PROG_ENTER_D;
}

struct capture {
	struct sealtrail *skel;
	struct ring *ring;
	struct backlog *backlog;	/* NULL: records are read in the ring */
	capture_record_fn on_record;
	void *ctx;
	struct capture_prog *progs;
	struct capture_program_info *info;
	size_t nprogs;
	struct capture_program_info *shown;	/* info of the programs in use */
	size_t nshown;
	int ncpus;
	int lock_fd;		/* the pin directory, locked while open; -1 without pin_dir */
	bool probe_reads_only;	/* capture_opts.probe_reads_only */
	bool enter_dispatch;	/* enters through the sys_enter dispatcher: no syscall
				 * tracepoints here, or capture_opts.enter_dispatch */
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

static const struct syscall_slot *syscall_slot_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(syscall_slots) / sizeof(syscall_slots[0]); i++)
		if (!strcmp(name, syscall_slots[i].name))
			return &syscall_slots[i];
	return NULL;
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
	if (rc)
		c->stop = rc;
	return rc;
}

/*
 * Opens the skeleton and sorts its programs. Handlers are never attached themselves; one
 * whose syscall has no number on this architecture is not loaded either, and is listed as
 * unavailable. (Calls that this kernel does not implement, like the module calls without
 * CONFIG_MODULES, still have their numbers: their handlers record them failing with ENOSYS.)
 */
static int capture_skel_open(struct capture *c)
{
	struct bpf_program *prog;
	__u32 slots;
	size_t i = 0;

	c->skel = sealtrail__open();
	if (!c->skel)
		return -errno;
	if (!c->progs) {
		bpf_object__for_each_program(prog, c->skel->obj)
			c->nprogs++;
		c->progs = calloc(c->nprogs, sizeof(*c->progs));
		c->info = calloc(c->nprogs, sizeof(*c->info));
		if (!c->progs || !c->info)
			return -ENOMEM;
		for (i = 0; i < c->nprogs; i++)
			c->progs[i].fd = -1;
		i = 0;
	}
	slots = bpf_map__max_entries(c->skel->maps.sys_exit_handlers);
	bpf_object__for_each_program(prog, c->skel->obj) {
		struct capture_prog *p = &c->progs[i];
		const char *name = bpf_program__name(prog), *sys;

		if (i == c->nprogs)
			return -EINVAL;	/* not the object counted */
		if (p->fd >= 0)
			close(p->fd);
		memset(p, 0, sizeof(*p));
		memset(&c->info[i], 0, sizeof(c->info[i]));
		i++;
		p->prog = prog;
		p->fd = -1;
		if (!strncmp(name, ENTER_D_PREFIX, strlen(ENTER_D_PREFIX))) {
			p->kind = PROG_ENTER_D;
			p->unused = !c->enter_dispatch;
			sys = name + strlen(ENTER_D_PREFIX);
		} else if (!strncmp(name, ENTER_PREFIX, strlen(ENTER_PREFIX))) {
			p->kind = PROG_ENTER;
			p->unused = c->enter_dispatch;
			sys = name + strlen(ENTER_PREFIX);
		} else if (!strncmp(name, EXIT_PREFIX, strlen(EXIT_PREFIX))) {
			p->kind = PROG_EXIT;
			sys = name + strlen(EXIT_PREFIX);
		} else {
			p->unused = !strcmp(name, ENTER_DISPATCHER) && !c->enter_dispatch;
			if (p->unused)
				bpf_program__set_autoload(prog, false);
			continue;
		}
		bpf_program__set_autoattach(prog, false);
		if (p->unused) {
			bpf_program__set_autoload(prog, false);
			continue;
		}
		p->sys = syscall_slot_find(sys);
		if (p->sys && (__u32)p->sys->nr >= slots) {
			snprintf(p->why, WHY_LEN, "syscall number %d is beyond the dispatch table",
				 p->sys->nr);
			p->sys = NULL;
		} else if (!p->sys) {
			snprintf(p->why, WHY_LEN, "no syscall %s on this architecture", sys);
		}
		if (!p->sys)
			bpf_program__set_autoload(prog, false);
	}
	return i == c->nprogs ? 0 : -EINVAL;
}

/*
 * Puts each loaded handler in its program array (openat's in sys_exit_hot too), then marks
 * its syscall traced: only then does a dispatcher look for it, so an empty slot found
 * later is a real failure.
 */
static int capture_dispatch(struct capture *c)
{
	int enter_fd = bpf_map__fd(c->skel->maps.sys_enter_handlers);
	int exit_fd = bpf_map__fd(c->skel->maps.sys_exit_handlers);
	int hot_fd = bpf_map__fd(c->skel->maps.sys_exit_hot);
	__u32 slots = sizeof(c->skel->bss->traced), zero = 0;
	__u8 *has_enter;
	size_t i;
	int err = 0;

	if (bpf_map__max_entries(c->skel->maps.sys_exit_handlers) != slots ||
	    bpf_map__max_entries(c->skel->maps.sys_enter_handlers) != slots)
		return -EINVAL;
	has_enter = calloc(slots, 1);
	if (!has_enter)
		return -ENOMEM;
	for (i = 0; i < c->nprogs && !err; i++) {
		struct capture_prog *p = &c->progs[i];
		__u32 nr, fd = bpf_program__fd(p->prog);

		if (!prog_tail_called(p) || !p->sys || p->unused)
			continue;
		nr = p->sys->nr;
		if (bpf_map_update_elem(p->kind == PROG_ENTER_D ? enter_fd : exit_fd, &nr, &fd,
					BPF_ANY))
			err = -errno;
		if (!err && p->kind == PROG_EXIT && nr == c->skel->rodata->hot_exit_nr &&
		    bpf_map_update_elem(hot_fd, &zero, &fd, BPF_ANY))
			err = -errno;
		if (p->kind == PROG_ENTER_D)
			has_enter[nr] = 1;
		c->info[i].attached = true;
	}
	/* An exit handler is enough (opens have no enter); an enter alone is not. */
	for (i = 0; i < c->nprogs && !err; i++) {
		struct capture_prog *p = &c->progs[i];

		if (p->kind == PROG_EXIT && p->sys)
			c->skel->bss->traced[p->sys->nr] =
				p->sys->type | (has_enter[p->sys->nr] ? ST_TRACED_ENTER : 0);
	}
	free(has_enter);
	return err;
}

/*
 * The tracing directory libbpf reads tracepoint ids from: debugfs's when it is there,
 * else tracefs, mounted where the kernel provides for it when missing (a minimal host or
 * container). NULL when neither can be had.
 */
static const char *tracing_root(void)
{
	struct statfs st;

	if (!access(DEBUGFS_TRACING "/events", F_OK))
		return DEBUGFS_TRACING;
	if ((statfs(TRACEFS_ROOT, &st) || st.f_type != TRACEFS_MAGIC) &&
	    mount("tracefs", TRACEFS_ROOT, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
		return NULL;
	return TRACEFS_ROOT;
}

/* Whether the enter handlers can have syscall tracepoints of their own: the kernel has
 * them (CONFIG_FTRACE_SYSCALLS) and the tracing directory lists them. If not, enters run
 * through the sys_enter dispatcher, as exits do. */
static bool syscall_tracepoints(void)
{
	const char *root = tracing_root();
	char path[128];

	if (!root)
		return false;
	snprintf(path, sizeof(path), "%s/events/syscalls/sys_enter_execve/id", root);
	return !access(path, F_OK);
}

static int capture_attach(struct capture *c)
{
	size_t i;
	int err;

	for (i = 0; i < c->nprogs; i++) {
		struct capture_prog *p = &c->progs[i];
		const char *name = bpf_program__name(p->prog);

		if (p->unused || prog_tail_called(p) || (p->kind == PROG_ENTER && !p->sys))
			continue;
		p->link = bpf_program__attach(p->prog);
		if (!p->link) {
			err = -errno;
			snprintf(p->why, WHY_LEN, "attach failed: %s", strerror(-err));
			if (!program_optional(name))
				return err;
			continue;
		}
		c->info[i].attached = true;
	}
	return 0;
}

/* Pins every map, then every link, then the marker: a directory with a marker holds a
 * complete set. */
static int capture_pin(struct capture *c, const char *dir, const struct pin_marker *m)
{
	struct bpf_map *map;
	size_t i;
	int err = 0;

	bpf_object__for_each_map(map, c->skel->obj) {
		err = pin_put(dir, MAP_PIN, bpf_map__name(map), bpf_map__fd(map));
		if (err)
			return err;
	}
	for (i = 0; i < c->nprogs && !err; i++)
		if (c->progs[i].link)
			err = pin_put(dir, LINK_PIN, bpf_program__name(c->progs[i].prog),
				      bpf_link__fd(c->progs[i].link));
	return err ? err : pin_marker_write(dir, m);
}

/* The program behind a pinned link, opened by id (for its statistics). */
static int link_prog_fd(int link_fd)
{
	struct bpf_link_info info = { 0 };
	__u32 len = sizeof(info);
	int fd;

	if (bpf_obj_get_info_by_fd(link_fd, &info, &len))
		return -errno;
	fd = bpf_prog_get_fd_by_id(info.prog_id);
	return fd < 0 ? -errno : fd;
}

/*
 * Takes over the pins in dir when they were made by this build (marker equal to m) and are
 * complete: loads nothing, attaches nothing. Returns 0, or -ENOENT / -ESTALE when there
 * are no such pins, or another -errno; on failure the skeleton's maps may hold pinned fds,
 * so the caller starts over with a new one.
 */
static int capture_reuse(struct capture *c, const char *dir, const struct pin_marker *m)
{
	struct pin_marker have;
	struct bpf_map *map;
	size_t i;
	int err, fd;

	err = pin_marker_read(dir, &have);
	if (err)
		return err;
	if (memcmp(&have, m, sizeof(have)))
		return -ESTALE;
	bpf_object__for_each_map(map, c->skel->obj) {
		fd = pin_get(dir, MAP_PIN, bpf_map__name(map));
		if (fd < 0)
			return fd;
		err = bpf_map__reuse_fd(map, fd);
		close(fd);
		if (err)
			return err;
	}
	for (i = 0; i < c->nprogs; i++) {
		struct capture_prog *p = &c->progs[i];
		const char *name = bpf_program__name(p->prog);
		__u32 nr, id;
		int map_fd;

		if (p->unused || (p->kind != PROG_ATTACHED && !p->sys))
			continue;
		if (prog_tail_called(p)) {
			nr = p->sys->nr;
			map_fd = bpf_map__fd(p->kind == PROG_ENTER_D ? c->skel->maps.sys_enter_handlers
								      : c->skel->maps.sys_exit_handlers);
			if (bpf_map_lookup_elem(map_fd, &nr, &id))
				return errno == ENOENT ? -ESTALE : -errno;
			c->info[i].attached = true;
			continue;
		}
		fd = pin_get(dir, LINK_PIN, name);
		if (fd == -ENOENT && program_optional(name)) {
			snprintf(p->why, WHY_LEN, "not attached by the run that pinned the programs");
			continue;
		}
		if (fd < 0)
			return fd == -ENOENT ? -ESTALE : fd;
		p->fd = link_prog_fd(fd);
		close(fd);
		if (p->fd < 0)
			return p->fd;
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

/* Whether the running kernel has kfunc `name` (bpf/kread.bpf.h uses bpf_rdonly_cast when
 * it does). Any doubt reads as no: the programs then use the slower helper. */
static bool kernel_has_kfunc(const char *name)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	bool found;

	if (!vmlinux)
		return false;
	found = btf__find_by_name_kind(vmlinux, name, BTF_KIND_FUNC) > 0;
	btf__free(vmlinux);
	return found;
}

/* A fresh load: sizes, load, dispatch tables and configuration, all before anything is
 * attached, so that self-exclusion holds from the first event. */
static int capture_load(struct capture *c, uint32_t ring, const struct st_config *cfg)
{
	int err;

	c->skel->rodata->kread_direct = !c->probe_reads_only && kernel_has_kfunc("bpf_rdonly_cast");
	c->skel->rodata->hot_exit_nr = __NR_openat;
	err = bpf_map__set_max_entries(c->skel->maps.scratch, c->ncpus);
	if (!err)
		err = bpf_map__set_max_entries(c->skel->maps.events, ring);
	if (!err)
		err = sealtrail__load(c->skel);
	if (!err)
		err = capture_dispatch(c);
	if (!err)
		err = capture_write_config(c, cfg);
	return err;
}

/*
 * With a pin directory: take over what it holds, or (nothing there, another build's pins,
 * an incomplete set) load, clear it, attach and pin afresh. The old programs, if any, run
 * until the new ones are loaded: only clearing and attaching (a few ms) see nothing. The
 * directory stays locked until capture_close(), so that two agents never share one ring.
 */
static int capture_open_pinned(struct capture *c, const char *dir, uint32_t ring,
			       struct st_config *cfg)
{
	struct pin_marker m;
	const void *obj;
	size_t len;
	int err;

	err = pin_dir_prepare(dir);
	if (err)
		return err;
	c->lock_fd = pin_dir_lock(dir);
	if (c->lock_fd < 0)
		return c->lock_fd;
	obj = sealtrail__elf_bytes(&len);
	/* The options asked for, not what the kernel then allowed: pins do not outlive the
	 * kernel, and looking at its BTF would cost a pinned restart 15 ms. */
	pin_marker_init(&m, obj, len, ring,
			(c->probe_reads_only ? PIN_OPT_PROBE_READS : 0) |
			(c->enter_dispatch ? PIN_OPT_ENTER_DISPATCH : 0));
	if (!capture_reuse(c, dir, &m)) {
		/* Whoever ran last is gone: exclude this process now, keep the path rule count
		 * and which task filters are set until capture_set_filters() replaces the
		 * lists. */
		struct st_config now;

		err = capture_read_config(c, &now);
		if (!err) {
			cfg->npath_rules = now.npath_rules;
			memcpy(cfg->ignore_lead, now.ignore_lead, sizeof(cfg->ignore_lead));
			cfg->flags |= now.flags & ST_CFG_TASK_FILTERS;
			err = capture_write_config(c, cfg);
		}
		return err;
	}
	sealtrail__destroy(c->skel);
	err = capture_skel_open(c);
	if (!err)
		err = capture_load(c, ring, cfg);
	if (!err)
		err = pin_dir_clear(c->lock_fd);
	if (!err)
		err = capture_attach(c);
	if (!err)
		err = capture_pin(c, dir, &m);
	if (err)
		pin_dir_clear(c->lock_fd);	/* never leave a partial set behind */
	return err;
}

int capture_open(struct capture **out, const struct capture_opts *opts)
{
	uint32_t ring = opts && opts->ringbuf_bytes ? opts->ringbuf_bytes : RINGBUF_DEFAULT;
	struct st_config cfg = { 0 };
	struct capture *c;
	long page = sysconf(_SC_PAGESIZE);
	size_t i;
	int err;

	*out = NULL;
	if (!opts || !opts->on_record)
		return -EINVAL;
	if (ring & (ring - 1) || ring < (uint32_t)page)
		return -EINVAL;
	libbpf_set_print(capture_print);

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->lock_fd = -1;
	c->on_record = opts->on_record;
	c->ctx = opts->ctx;
	c->ncpus = libbpf_num_possible_cpus();
	if (c->ncpus <= 0) {
		err = c->ncpus ? c->ncpus : -EINVAL;
		goto fail;
	}
	c->enter_dispatch = opts->enter_dispatch || !syscall_tracepoints();
	err = capture_skel_open(c);
	if (err)
		goto fail;

	c->probe_reads_only = opts->probe_reads_only;
	cfg.agent_pid = opts->agent_pid ? opts->agent_pid : (uint32_t)getpid();
	/* Each wake-up is an interrupt on the producing CPU and an IPI to the consumer's,
	 * VM exits both in a guest: the default spaces them as far as leaves 7/8 of the
	 * ring for the consumer to be scheduled in (0.2 s of an open storm at 16 MiB). */
	cfg.wakeup_bytes = opts->wakeup_bytes ? opts->wakeup_bytes : ring / 8;
	if (opts->pin_dir) {
		err = capture_open_pinned(c, opts->pin_dir, ring, &cfg);
	} else {
		err = capture_load(c, ring, &cfg);
		if (!err)
			err = capture_attach(c);
	}
	if (err)
		goto fail;
	/* Listed: the programs of the way enters run here, not their alternatives. */
	c->shown = calloc(c->nprogs, sizeof(*c->shown));
	if (!c->shown) {
		err = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < c->nprogs; i++) {
		if (c->progs[i].unused)
			continue;
		c->info[i].name = bpf_program__name(c->progs[i].prog);
		if (!c->info[i].attached)
			c->info[i].why = c->progs[i].why;
		c->shown[c->nshown++] = c->info[i];
	}
	err = ring_open(&c->ring, bpf_map__fd(c->skel->maps.events));
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

/* st_config.ignore_lead for these ignore prefixes. */
static void ignore_lead_set(__u64 *bits, const char *const *paths, size_t n)
{
	const unsigned char *p;
	__u32 bit;
	size_t i;

	memset(bits, 0, ST_IGNORE_LEAD_BITS / 8);
	for (i = 0; i < n; i++) {
		p = (const unsigned char *)paths[i];
		if (strlen(paths[i]) < 3) {
			memset(bits, 0xff, ST_IGNORE_LEAD_BITS / 8);
			return;
		}
		bit = st_ignore_lead_bit(p[1], p[2]);
		bits[bit / 64] |= 1ull << (bit % 64);
	}
}

/* The bits of the set's directories, replacing the old ones (st_sensitive_bloom). */
static int sensitive_bloom_load(struct bpf_map *map, const struct sensitive_set *set)
{
	struct st_sensitive_bloom bloom = { 0 };
	__u32 zero = 0, bit;
	size_t i;

	for (i = 0; i < set->n; i++) {
		bit = st_sensitive_bloom_bit(set->dirs[i].key.dev, set->dirs[i].key.ino);
		bloom.bits[bit / 64] |= 1ull << (bit % 64);
	}
	return map_put(map, &zero, &bloom);
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
		err = sensitive_bloom_load(m->sensitive_bloom, &set);
	if (!err)
		err = capture_read_config(c, &cfg);
	if (!err) {
		cfg.npath_rules = f->n_watch_paths + f->n_ignore_paths;
		ignore_lead_set(cfg.ignore_lead, f->ignore_paths, f->n_ignore_paths);
		cfg.flags &= ~(__u32)(ST_CFG_QUIET_EXEC_ENOENT | ST_CFG_TASK_FILTERS);
		if (f->quiet_exec_enoent)
			cfg.flags |= ST_CFG_QUIET_EXEC_ENOENT;
		if (f->n_ignore_uids)
			cfg.flags |= ST_CFG_IGNORE_UIDS;
		if (f->n_ignore_cgroups)
			cfg.flags |= ST_CFG_IGNORE_CGROUPS;
		if (f->n_ignore_comms)
			cfg.flags |= ST_CFG_IGNORE_COMMS;
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
	/* Records below the wakeup threshold raise no event: take them anyway. */
	if (c->backlog) {
		err = backlog_wait(c->backlog, timeout_ms);
		backlog_consume(c->backlog, capture_sample, c, CAPTURE_POLL_MAX);
	} else {
		err = ring_wait(c->ring, timeout_ms);
		ring_consume(c->ring, capture_sample, c, CAPTURE_POLL_MAX);
	}
	if (c->stop)
		return c->stop;
	if (err < 0 && err != -EINTR && !c->delivered)
		return err;
	return c->delivered;
}

int capture_fd(const struct capture *c)
{
	return c->backlog ? backlog_fd(c->backlog) : ring_fd(c->ring);
}

int capture_start_backlog(struct capture *c, size_t max_bytes)
{
	if (c->backlog)
		return -EINVAL;
	return backlog_start(&c->backlog, c->ring, max_bytes);
}

void capture_end_backlog(struct capture *c)
{
	backlog_halt(c->backlog);
}

void capture_backlog_stats(struct capture *c, struct backlog_stats *s)
{
	memset(s, 0, sizeof(*s));
	if (c->backlog)
		backlog_get_stats(c->backlog, s);
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

int capture_read_reported(struct capture *c, uint64_t reported[ST_LOSS_SLOTS])
{
	int fd = bpf_map__fd(c->skel->maps.losses_reported);
	__u32 slot;

	for (slot = 0; slot < ST_LOSS_SLOTS; slot++) {
		__u64 v;

		if (bpf_map_lookup_elem(fd, &slot, &v))
			return -errno;
		reported[slot] = v;
	}
	return 0;
}

int capture_write_reported(struct capture *c, const uint64_t reported[ST_LOSS_SLOTS])
{
	int fd = bpf_map__fd(c->skel->maps.losses_reported);
	__u32 slot;

	for (slot = 0; slot < ST_LOSS_SLOTS; slot++) {
		__u64 v = reported[slot];

		if (bpf_map_update_elem(fd, &slot, &v, BPF_ANY))
			return -errno;
	}
	return 0;
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
		const struct capture_prog *p = &c->progs[i];
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);

		if (prog_tail_called(p) || !c->info[i].attached)
			continue;
		if (bpf_obj_get_info_by_fd(p->fd >= 0 ? p->fd : bpf_program__fd(p->prog), &info,
					   &len))
			return -errno;
		*misses += info.recursion_misses;
	}
	return 0;
}

int capture_read_compat_calls(struct capture *c, uint64_t *calls)
{
	__u64 *percpu;
	__u32 zero = 0;
	int cpu, err = 0;

	*calls = 0;
	percpu = calloc(c->ncpus, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	if (bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.compat_calls), &zero, percpu))
		err = -errno;
	for (cpu = 0; !err && cpu < c->ncpus; cpu++)
		*calls += percpu[cpu];
	free(percpu);
	return err;
}

size_t capture_programs(const struct capture *c, const struct capture_program_info **out)
{
	*out = c->shown;
	return c->nshown;
}

static void *link_destroy_thread(void *link)
{
	bpf_link__destroy(link);
	return NULL;
}

/*
 * Destroys every link. Detaching an enter handler's link (a perf event on a syscall
 * tracepoint) waits for RCU grace periods of its own, 70-80 ms here: one after the other,
 * the 18 of them kept a stopping agent 1.3 s. Each gets a thread, so that they wait
 * together; a thread that cannot start leaves its link to this one.
 */
static void capture_links_destroy(struct capture *c)
{
	pthread_t *threads = calloc(c->nprogs, sizeof(*threads));
	bool *started = calloc(c->nprogs, sizeof(*started));
	size_t i;

	for (i = 0; i < c->nprogs; i++) {
		struct capture_prog *p = &c->progs[i];

		if (!p->link)
			continue;
		if (p->kind == PROG_ENTER && threads && started &&
		    !pthread_create(&threads[i], NULL, link_destroy_thread, p->link))
			started[i] = true;
		else
			bpf_link__destroy(p->link);
		p->link = NULL;
	}
	for (i = 0; started && i < c->nprogs; i++)
		if (started[i])
			pthread_join(threads[i], NULL);
	free(started);
	free(threads);
}

/* With a pin directory the links are pinned: destroying ours only closes them, and the
 * programs keep running for the next capture_open(). */
void capture_close(struct capture *c)
{
	size_t i;

	if (!c)
		return;
	if (c->progs)
		capture_links_destroy(c);
	for (i = 0; c->progs && i < c->nprogs; i++)
		if (c->progs[i].fd >= 0)
			close(c->progs[i].fd);
	backlog_stop(c->backlog);	/* before the ring it drains */
	ring_close(c->ring);
	sealtrail__destroy(c->skel);
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	free(c->progs);
	free(c->info);
	free(c->shown);
	free(c);
}

int capture_unpin(const char *pin_dir)
{
	int fd, err;

	fd = pin_dir_lock(pin_dir);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	err = pin_dir_clear(fd);
	if (!err && rmdir(pin_dir))
		err = -errno;
	close(fd);
	return err;
}
