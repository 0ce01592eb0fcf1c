/* decode: capture records to ECS-shaped events (see decode.h, docs/EVENTS.md).
 *
 * Each record type fills a `struct ev` (which optional fields it has); one
 * emitter then writes every field in canonical (sorted) key order. jw checks the
 * order as it goes, so a mistake here fails loudly in the tests instead of
 * producing an entry that no verifier accepts. */
#include "decode.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include "cgroups.h"
#include "json.h"
#include "names.h"
#include "numfmt.h"
#include "proctable.h"
#include "timefmt.h"

_Static_assert(sizeof(struct st_task) == 96, "st_task layout");
_Static_assert(sizeof(struct st_record) == 16 + 8 + 8 + 96 + 8 * ST_NARGS + 4 * ST_NSTR,
	       "st_record layout");

struct decoder {
	struct decoder_opts o;
	size_t protect_len[4];
	struct proctable *pt;
	struct cgroups *cg;
	int64_t boot_to_utc_ns;
};

/* A string of the record. */
struct str {
	const char *p;
	size_t len;
	uint16_t flags;
	bool present;
};

/* Everything an event may carry beyond the common fields. */
struct ev {
	const char *action, *category, *type;
	bool alert;
	uint16_t flags;			/* ST_F_* for sealtrail.flags */

	/* credentials */
	bool cred, capset;
	int nrequested;

	/* file */
	struct str path, original, target;
	int64_t mode, uid, gid, size;	/* -1: absent */
	bool open_flags, attributes;
	struct str xattr;
	int64_t xattr_size;

	/* process */
	bool fork_child;		/* process = the child, parent = the caller */
	struct str exe, args, cwd, filename;
	bool exit;

	/* sealtrail */
	bool bpf, module, mount, umount, ptrace, rename, signal;
	struct str module_args, mount_source, mount_fstype, prog_name;
};

int decoder_new(struct decoder **out, const struct decoder_opts *o, struct proctable *pt,
		struct cgroups *cg)
{
	struct decoder *d = calloc(1, sizeof(*d));
	size_t i;

	if (!d)
		return -ENOMEM;
	d->o = *o;
	for (i = 0; i < o->nprotect; i++)
		d->protect_len[i] = strlen(o->protect[i]);
	d->pt = pt;
	d->cg = cg;
	decoder_sync_clock(d);
	*out = d;
	return 0;
}

void decoder_free(struct decoder *d)
{
	free(d);
}

void decoder_sync_clock(struct decoder *d)
{
	struct timespec rt, bt;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_BOOTTIME, &bt);
	d->boot_to_utc_ns = ((int64_t)rt.tv_sec - bt.tv_sec) * 1000000000 + (rt.tv_nsec - bt.tv_nsec);
}

void decoder_time(const struct decoder *d, uint64_t ktime_ns, char out[32])
{
	int64_t ns = (int64_t)ktime_ns + d->boot_to_utc_ns;
	struct timespec ts = { .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };

	time_format_iso(&ts, out);
}

void decoder_entity_id(const struct decoder *d, uint32_t pid, uint64_t start_ns, char out[64])
{
	/* "%.16s-%llu-%u", by hand: this runs for every record. */
	size_t n = strnlen(d->o.boot_id, 16);

	memcpy(out, d->o.boot_id, n);
	out[n++] = '-';
	n += fmt_u64(out + n, start_ns);
	out[n++] = '-';
	n += fmt_u64(out + n, pid);
	out[n] = '\0';
}

/* ---- writing helpers ------------------------------------------------------------ */
static void put_flag_names(struct jw *w, uint16_t flags)
{
	static const char *const names[] = { "truncated", "too_deep", "disconnected", "deleted",
					     "fault",	  "joined",   "no_base",      "raw" };
	unsigned int i;

	jw_array_begin(w);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (flags & (1u << i))
			jw_cstring(w, names[i]);
	jw_array_end(w);
}

/* key: the bytes; key_flags: what is known about them (when anything is). */
static void put_str(struct jw *w, const char *key, const char *key_flags, const struct str *s)
{
	if (!s->present)
		return;
	if (s->len || !(s->flags & ST_STR_FAULT)) {
		jw_key(w, key);
		jw_bytes(w, s->p, s->len);
	}
	if (s->flags && key_flags) {
		jw_key(w, key_flags);
		put_flag_names(w, s->flags);
	}
}

static void put_u64_hex(struct jw *w, const char *key, uint64_t v)
{
	char t[2 + NUMFMT_MAX] = "0x";

	jw_key(w, key);
	jw_string(w, t, 2 + fmt_u64_base(t + 2, v, 16));
}

static void put_mode(struct jw *w, int64_t mode)
{
	char t[NUMFMT_MAX] = "0";

	jw_key(w, "mode");
	jw_string(w, t, 1 + fmt_u64_base(t + 1, (uint64_t)mode & 07777, 8));
}

/* ---- sections, in key order --------------------------------------------------------- */
/* One set of ids, in key order: egid euid fsgid fsuid gid sgid suid uid. */
static void put_ids(struct jw *w, const char *key, const uint32_t ids[8])
{
	static const char *const names[8] = { "egid", "euid", "fsgid", "fsuid",
					      "gid",  "sgid", "suid",  "uid" };
	int i;

	jw_key(w, key);
	jw_object_begin(w);
	for (i = 0; i < 8; i++) {
		jw_key(w, names[i]);
		jw_uint(w, ids[i]);
	}
	jw_object_end(w);
}

static void put_caps(struct jw *w, const char *key, uint64_t effective, uint64_t inheritable,
		     uint64_t permitted)
{
	jw_key(w, key);
	jw_object_begin(w);
	put_u64_hex(w, "effective", effective);
	put_u64_hex(w, "inheritable", inheritable);
	put_u64_hex(w, "permitted", permitted);
	jw_object_end(w);
}

static void put_credentials(struct jw *w, const struct st_record *r, const struct ev *e)
{
	int i;

	jw_key(w, "credentials");
	jw_object_begin(w);
	if (e->capset) {
		put_caps(w, "new", r->arg[3], r->arg[5], r->arg[4]);
		put_caps(w, "old", r->arg[0], r->arg[2], r->arg[1]);
	} else {
		const struct st_task *t = &r->task;
		/* The ids before the call: arg[3..6] hold (uid << 32 | euid), (suid << 32 |
		 * fsuid), (gid << 32 | egid), (sgid << 32 | fsgid). */
		const uint32_t now[8] = { t->egid, t->euid, t->fsgid, t->fsuid,
					  t->gid,  t->sgid, t->suid,  t->uid };
		const uint32_t before[8] = {
			(uint32_t)r->arg[5],	     (uint32_t)r->arg[3],
			(uint32_t)r->arg[6],	     (uint32_t)r->arg[4],
			(uint32_t)(r->arg[5] >> 32), (uint32_t)(r->arg[6] >> 32),
			(uint32_t)(r->arg[4] >> 32), (uint32_t)(r->arg[3] >> 32),
		};

		put_ids(w, "new", now);
		put_ids(w, "old", before);
		jw_key(w, "requested");
		jw_array_begin(w);
		for (i = 0; i < e->nrequested; i++)
			jw_int(w, (int32_t)r->arg[i]);	/* -1: unchanged */
		jw_array_end(w);
	}
	jw_object_end(w);
}

static void put_file(struct jw *w, const struct st_record *r, const struct ev *e)
{
	jw_key(w, "file");
	jw_object_begin(w);
	if (e->attributes) {
		jw_key(w, "attributes");
		names_fs_attributes(w, r->arg[1]);
	}
	if (e->gid >= 0) {
		jw_key(w, "gid");
		jw_uint(w, (uint64_t)e->gid);
	}
	if (e->mode >= 0)
		put_mode(w, e->mode);
	if (e->open_flags) {
		jw_key(w, "open_flags");
		names_open_flags(w, r->arg[0]);
	}
	if (e->original.present || e->attributes) {
		jw_key(w, "original");
		jw_object_begin(w);
		if (e->attributes) {
			jw_key(w, "attributes");
			names_fs_attributes(w, r->arg[0]);
		}
		put_str(w, "path", "path_flags", &e->original);
		jw_object_end(w);
	}
	put_str(w, "path", "path_flags", &e->path);
	if (e->size >= 0) {
		jw_key(w, "size");
		jw_uint(w, (uint64_t)e->size);
	}
	put_str(w, "target_path", "target_path_flags", &e->target);
	if (e->uid >= 0) {
		jw_key(w, "uid");
		jw_uint(w, (uint64_t)e->uid);
	}
	if (e->xattr.present) {
		jw_key(w, "xattr");
		jw_object_begin(w);
		put_str(w, "name", "name_flags", &e->xattr);
		jw_key(w, "size");
		jw_uint(w, (uint64_t)e->xattr_size);
		jw_object_end(w);
	}
	jw_object_end(w);
}

static void put_process(struct decoder *d, struct jw *w, const struct st_record *r,
			const struct ev *e)
{
	const struct st_task *t = &r->task;
	uint32_t pid = t->pid, tid = t->tid;
	uint64_t start = t->start_ns;
	const struct proc_info *pi;
	char id[64];
	struct str exe = e->exe;

	if (e->fork_child) {
		pid = tid = (uint32_t)r->arg[0];
		start = r->arg[1];
	}
	if (!exe.present) {
		pi = proctable_lookup(d->pt, pid, start);
		if (pi)
			exe = (struct str){ pi->exe, pi->exe_len, pi->exe_flags, true };
	}
	jw_key(w, "process");
	jw_object_begin(w);
	if (e->args.present) {
		const char *p = e->args.p, *end = p + e->args.len;
		uint64_t n = 0;

		jw_key(w, "args");
		jw_array_begin(w);
		while (p < end || (n == 0 && e->args.len)) {
			const char *z = memchr(p, '\0', (size_t)(end - p));
			size_t len = z ? (size_t)(z - p) : (size_t)(end - p);

			jw_bytes(w, p, len);
			n++;
			p += len + 1;
		}
		jw_array_end(w);
		jw_key(w, "args_count");
		jw_uint(w, r->arg[0] ? r->arg[0] : n);
		if (e->args.flags & (ST_STR_TRUNCATED | ST_STR_FAULT)) {
			jw_key(w, "args_truncated");
			jw_bool(w, true);
		}
	}
	jw_key(w, "cgroup");
	jw_object_begin(w);
	jw_key(w, "id");
	jw_uint(w, t->cgroup_id);
	jw_object_end(w);
	decoder_entity_id(d, pid, start, id);
	jw_key(w, "entity_id");
	jw_cstring(w, id);
	put_str(w, "executable", "executable_flags", &exe);
	if (e->exit) {
		int status = (int)r->arg[0];

		if (WIFEXITED(status)) {
			jw_key(w, "exit_code");
			jw_int(w, WEXITSTATUS(status));
		}
	}
	jw_key(w, "name");
	jw_bytes(w, t->comm, strnlen(t->comm, ST_COMM_LEN));
	jw_key(w, "namespace");
	jw_object_begin(w);
	jw_key(w, "mnt");
	jw_uint(w, t->mntns);
	jw_object_end(w);
	jw_key(w, "parent");
	jw_object_begin(w);
	if (e->fork_child) {
		decoder_entity_id(d, t->pid, t->start_ns, id);
		jw_key(w, "entity_id");
		jw_cstring(w, id);
		jw_key(w, "pid");
		jw_uint(w, t->pid);
	} else {
		decoder_entity_id(d, t->ppid, t->parent_start_ns, id);
		jw_key(w, "entity_id");
		jw_cstring(w, id);
		jw_key(w, "pid");
		jw_uint(w, t->ppid);
	}
	jw_object_end(w);
	jw_key(w, "pid");
	jw_uint(w, pid);
	jw_key(w, "thread");
	jw_object_begin(w);
	jw_key(w, "id");
	jw_uint(w, tid);
	jw_object_end(w);
	put_str(w, "working_directory", "working_directory_flags", &e->cwd);
	jw_object_end(w);
}

static void put_record_flags(struct jw *w, uint16_t flags)
{
	static const char *const names[] = { "fileless", "memfd", "sensitive", "core_dumped",
					     "signaled" };
	unsigned int i;

	jw_key(w, "flags");
	jw_array_begin(w);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (flags & (1u << i))
			jw_cstring(w, names[i]);
	jw_array_end(w);
}

static void put_sealtrail(struct jw *w, const struct st_record *r, const struct ev *e)
{
	char buf[32];

	jw_key(w, "sealtrail");
	jw_object_begin(w);
	if (e->bpf) {
		jw_key(w, "bpf");
		jw_object_begin(w);
		jw_key(w, "insn_count");
		jw_uint(w, r->arg[2]);
		put_str(w, "prog_name", NULL, &e->prog_name);
		jw_key(w, "prog_type");
		jw_cstring(w, names_bpf_prog_type(r->arg[1], buf));
		jw_object_end(w);
	}
	if (e->filename.present) {
		jw_key(w, "exec");
		jw_object_begin(w);
		put_str(w, "filename", "filename_flags", &e->filename);
		jw_object_end(w);
	}
	if (e->exit && WIFSIGNALED((int)r->arg[0])) {
		jw_key(w, "exit");
		jw_object_begin(w);
		jw_key(w, "core_dumped");
		jw_bool(w, WCOREDUMP((int)r->arg[0]));
		jw_key(w, "signal");
		jw_cstring(w, names_signal(WTERMSIG((int)r->arg[0]), buf));
		jw_object_end(w);
	}
	if (e->flags)
		put_record_flags(w, e->flags);
	if (e->module) {
		jw_key(w, "module");
		jw_object_begin(w);
		put_str(w, r->syscall == ST_SYS_DELETE_MODULE ? "name" : "args", NULL, &e->module_args);
		jw_object_end(w);
	}
	if (e->mount || e->umount) {
		jw_key(w, "mount");
		jw_object_begin(w);
		jw_key(w, "flags");
		if (e->mount)
			names_mount_flags(w, r->arg[0]);
		else
			names_umount_flags(w, r->arg[0]);
		put_str(w, "fstype", NULL, &e->mount_fstype);
		put_str(w, "source", "source_flags", &e->mount_source);
		jw_object_end(w);
	}
	if (e->ptrace) {
		jw_key(w, "ptrace");
		jw_object_begin(w);
		put_u64_hex(w, "addr", r->arg[2]);
		jw_key(w, "request");
		jw_cstring(w, names_ptrace(r->arg[0], buf));
		jw_object_end(w);
	}
	if (e->rename) {
		jw_key(w, "rename");
		jw_object_begin(w);
		jw_key(w, "flags");
		names_rename_flags(w, r->arg[2]);
		jw_object_end(w);
	}
	if (e->signal) {
		jw_key(w, "signal");
		jw_object_begin(w);
		jw_key(w, "name");
		jw_cstring(w, names_signal((int)r->arg[0], buf));
		jw_key(w, "number");
		jw_uint(w, r->arg[0]);
		jw_object_end(w);
	}
	if (e->alert) {
		jw_key(w, "tamper");
		jw_bool(w, true);
	}
	jw_object_end(w);
}

static void put_user(struct jw *w, const struct st_task *t)
{
	jw_key(w, "user");
	jw_object_begin(w);
	if (t->auid != (uint32_t)-1 || t->sessionid != (uint32_t)-1) {
		jw_key(w, "audit");
		jw_object_begin(w);
		if (t->auid != (uint32_t)-1) {
			jw_key(w, "id");
			jw_uint(w, t->auid);
		}
		if (t->sessionid != (uint32_t)-1) {
			jw_key(w, "session");
			jw_uint(w, t->sessionid);
		}
		jw_object_end(w);
	}
	jw_key(w, "effective");
	jw_object_begin(w);
	jw_key(w, "group");
	jw_object_begin(w);
	jw_key(w, "id");
	jw_uint(w, t->egid);
	jw_object_end(w);
	jw_key(w, "id");
	jw_uint(w, t->euid);
	jw_object_end(w);
	jw_key(w, "group");
	jw_object_begin(w);
	jw_key(w, "id");
	jw_uint(w, t->gid);
	jw_object_end(w);
	jw_key(w, "id");
	jw_uint(w, t->uid);
	jw_object_end(w);
}

static void emit(struct decoder *d, struct jw *w, const struct st_record *r, const struct ev *e)
{
	const char *syscall = names_syscall(r->syscall), *container;
	bool has_file = e->path.present || e->original.present || e->target.present;
	bool has_sealtrail = e->bpf || e->filename.present || e->exit || e->flags || e->module ||
			     e->mount || e->umount || e->ptrace || e->rename || e->signal ||
			     e->alert;
	char t[32], ebuf[16];

	jw_object_begin(w);
	decoder_time(d, r->ktime_ns, t);
	jw_key(w, "@timestamp");
	jw_cstring(w, t);
	container = d->cg ? cgroups_container(d->cg, r->task.cgroup_id) : NULL;
	if (container) {
		jw_key(w, "container");
		jw_object_begin(w);
		jw_key(w, "id");
		jw_cstring(w, container);
		jw_object_end(w);
	}
	if (e->cred)
		put_credentials(w, r, e);
	if (r->ret < 0) {
		jw_key(w, "error");
		jw_object_begin(w);
		jw_key(w, "code");
		jw_cstring(w, names_errno((int)-r->ret, ebuf));
		jw_object_end(w);
	}
	jw_key(w, "event");
	jw_object_begin(w);
	jw_key(w, "action");
	jw_cstring(w, e->action);
	jw_key(w, "category");
	jw_array_begin(w);
	jw_cstring(w, e->category);
	jw_array_end(w);
	jw_key(w, "kind");
	jw_cstring(w, e->alert ? "alert" : "event");
	jw_key(w, "ktime_ns");
	jw_uint(w, r->ktime_ns);
	jw_key(w, "outcome");
	jw_cstring(w, r->ret < 0 ? "failure" : "success");
	jw_key(w, "type");
	jw_array_begin(w);
	jw_cstring(w, e->type);
	jw_array_end(w);
	jw_object_end(w);
	if (has_file)
		put_file(w, r, e);
	put_process(d, w, r, e);
	if (has_sealtrail)
		put_sealtrail(w, r, e);
	if (syscall) {
		jw_key(w, "syscall");
		jw_object_begin(w);
		jw_key(w, "name");
		jw_cstring(w, syscall);
		jw_key(w, "result");
		jw_int(w, r->ret);
		jw_object_end(w);
	}
	if (e->ptrace || e->signal) {
		jw_key(w, "target");
		jw_object_begin(w);
		jw_key(w, "process");
		jw_object_begin(w);
		jw_key(w, "pid");
		jw_uint(w, (uint32_t)r->arg[1]);
		jw_object_end(w);
		jw_object_end(w);
	}
	put_user(w, &r->task);
	jw_object_end(w);
}

/* ---- per type --------------------------------------------------------------------- */
static bool under(const struct str *s, const char *dir, size_t n)
{
	return s->present && s->len >= n && !memcmp(s->p, dir, n) &&
	       (s->len == n || s->p[n] == '/' || (n > 0 && dir[n - 1] == '/'));
}

static bool touches_protected(const struct decoder *d, const struct ev *e)
{
	size_t i;

	/* target: a hard link's existing file (a second name for a key or segment is a
	 * way to read or change it later, unwatched), or a symlink's text. */
	for (i = 0; i < d->o.nprotect; i++)
		if (under(&e->path, d->o.protect[i], d->protect_len[i]) ||
		    under(&e->original, d->o.protect[i], d->protect_len[i]) ||
		    under(&e->target, d->o.protect[i], d->protect_len[i]))
			return true;
	return false;
}

static void classify_cred(const struct st_record *r, struct ev *e)
{
	e->category = "iam";
	e->type = "change";
	e->action = names_syscall(r->syscall);
	e->cred = true;
	switch (r->syscall) {
	case ST_SYS_CAPSET:
		e->capset = true;
		break;
	case ST_SYS_SETREUID:
	case ST_SYS_SETREGID:
		e->nrequested = 2;
		break;
	case ST_SYS_SETRESUID:
	case ST_SYS_SETRESGID:
		e->nrequested = 3;
		break;
	default:
		e->nrequested = 1;
	}
}

/* Fills e for r; false when the record is not one we know. */
static bool classify(const struct st_record *r, const struct str *s, struct ev *e)
{
	e->category = "file";
	e->type = "change";
	e->flags = r->flags;
	switch (r->type) {
	case ST_EXEC:
		e->action = "exec";
		e->category = "process";
		e->type = "start";
		e->exe = s[ST_S_EXE];
		e->args = s[ST_S_ARGV];
		e->cwd = s[ST_S_CWD];
		e->filename = s[ST_S_FILENAME];
		return true;
	case ST_FORK:
		e->action = "fork";
		e->category = "process";
		e->type = "start";
		e->fork_child = r->ret >= 0;
		return true;
	case ST_EXIT:
		e->action = "exit";
		e->category = "process";
		e->type = "end";
		e->exit = true;
		return true;
	case ST_CRED:
		classify_cred(r, e);
		return e->action != NULL;
	case ST_PTRACE:
		e->action = "ptrace";
		e->category = "process";
		e->type = "access";
		e->ptrace = true;
		return true;
	case ST_MODULE:
		e->action = r->syscall == ST_SYS_DELETE_MODULE ? "module-unload" : "module-load";
		e->category = "driver";
		e->path = s[ST_S_PATH];
		e->module = true;
		e->module_args = s[ST_S_NAME];
		return true;
	case ST_BPF:
		e->action = "bpf-prog-load";
		e->category = "configuration";
		e->bpf = true;
		e->prog_name = s[ST_S_NAME];
		return true;
	case ST_MOUNT:
	case ST_UMOUNT:
		e->action = r->type == ST_MOUNT ? "mount" : "umount";
		e->path = s[ST_S_PATH];
		e->mount = r->type == ST_MOUNT;
		e->umount = !e->mount;
		e->mount_fstype = s[ST_S_NAME];
		e->mount_source = s[ST_S_EXTRA];
		return true;
	case ST_OPEN:
		e->action = "open";
		e->path = s[ST_S_PATH];
		e->open_flags = true;
		if (r->arg[0] & (0100 | 020000000)) {	/* O_CREAT, __O_TMPFILE */
			e->mode = (int64_t)r->arg[1];
			e->type = "creation";
		} else if (!(r->arg[0] & 3)) {
			e->type = "access";	/* a sensitive read */
		}
		return true;
	case ST_UNLINK:
	case ST_RMDIR:
		e->action = r->type == ST_UNLINK ? "unlink" : "rmdir";
		e->type = "deletion";
		e->path = s[ST_S_PATH];
		return true;
	case ST_MKDIR:
		e->action = "mkdir";
		e->type = "creation";
		e->path = s[ST_S_PATH];
		e->mode = (int64_t)r->arg[0];
		return true;
	case ST_RENAME:
		e->action = "rename";
		e->path = s[ST_S_PATH2];
		e->original = s[ST_S_PATH];
		e->rename = r->arg[2] != 0;
		return true;
	case ST_LINK:
		e->action = "link";
		e->type = "creation";
		e->path = s[ST_S_PATH];
		e->target = s[ST_S_PATH2];
		return true;
	case ST_SYMLINK:
		e->action = "symlink";
		e->type = "creation";
		e->path = s[ST_S_PATH];
		e->target = s[ST_S_NAME];
		return true;
	case ST_CHMOD:
		e->action = "chmod";
		e->path = s[ST_S_PATH];
		e->mode = (int64_t)r->arg[0];
		return true;
	case ST_CHOWN:
		e->action = "chown";
		e->path = s[ST_S_PATH];
		e->uid = (uint32_t)r->arg[0] == (uint32_t)-1 ? -1 : (int64_t)(uint32_t)r->arg[0];
		e->gid = (uint32_t)r->arg[1] == (uint32_t)-1 ? -1 : (int64_t)(uint32_t)r->arg[1];
		return true;
	case ST_TRUNCATE:
		e->action = "truncate";
		e->path = s[ST_S_PATH];
		e->size = (int64_t)r->arg[0];
		return true;
	case ST_XATTR:
		e->action = r->syscall >= ST_SYS_REMOVEXATTR && r->syscall <= ST_SYS_REMOVEXATTRAT
				    ? "removexattr"
				    : "setxattr";
		e->path = s[ST_S_PATH];
		e->xattr = s[ST_S_NAME];
		e->xattr.present = true;
		e->xattr_size = (int64_t)r->arg[0];
		return true;
	case ST_SETFLAGS:
		e->action = "chattr";
		e->path = s[ST_S_PATH];
		e->attributes = true;
		return true;
	case ST_SIGNAL:
		e->action = "signal";
		e->category = "process";
		e->type = "access";
		e->signal = true;
		return true;
	}
	return false;
}

/* Keeps the process table in step with what the record says happened. */
static void track(struct decoder *d, const struct st_record *r, const struct ev *e)
{
	const struct st_task *t = &r->task;

	if (r->type == ST_EXEC && r->ret >= 0 && e->exe.present)
		proctable_exec(d->pt, t->pid, t->start_ns, e->exe.p, e->exe.len, e->exe.flags);
	else if (r->type == ST_FORK && r->ret >= 0 && !r->arg[2])
		proctable_fork(d->pt, (uint32_t)r->arg[0], r->arg[1], t->pid, t->start_ns);
}

const char *decoder_event(struct decoder *d, const struct st_record *rec, size_t size,
			  struct buf *out)
{
	struct str s[ST_NSTR];
	struct ev e = { .mode = -1, .uid = -1, .gid = -1, .size = -1 };
	size_t off = sizeof(*rec), start = out->len, i;
	struct jw w;

	if (size < sizeof(*rec) || rec->abi != ST_ABI_VERSION || rec->size > size)
		return NULL;
	for (i = 0; i < ST_NSTR; i++) {
		if (rec->str[i].len > rec->size - off)
			return NULL;
		s[i] = (struct str){ (const char *)rec + off, rec->str[i].len, rec->str[i].flags,
				     rec->str[i].len || rec->str[i].flags };
		off += rec->str[i].len;
	}
	if (!classify(rec, s, &e))
		return NULL;
	e.alert = rec->type == ST_SIGNAL || touches_protected(d, &e);
	track(d, rec, &e);
	jw_init(&w, out);
	emit(d, &w, rec, &e);
	if (!jw_ok(&w)) {
		out->len = start;
		out->failed = false;
		return NULL;
	}
	if (rec->type == ST_EXIT)
		proctable_exit(d->pt, rec->task.pid, rec->task.start_ns);
	return e.action;
}
