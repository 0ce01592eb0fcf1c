/* replay_text: the timeline's text (see replay_text.h for the escaping rules). */
#include "replay_text.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "timefmt.h"
#include "utf8.h"

#define PROCESS_WIDTH 26
#define ACTION_WIDTH 9

static const char hexdigits[] = "0123456789abcdef";

static const char *const sgr[] = {
	[RC_DIM] = "\033[2m",   [RC_BOLD] = "\033[1m",  [RC_RED] = "\033[31m",
	[RC_ALERT] = "\033[1;31m", [RC_STATE] = "\033[33m", [RC_OK] = "\033[32m",
};

void rtext_color(struct buf *b, const struct rtext_style *st, enum rtext_color c)
{
	if (st && st->color)
		buf_puts(b, sgr[c]);
}

void rtext_reset(struct buf *b, const struct rtext_style *st)
{
	if (st && st->color)
		buf_puts(b, "\033[0m");
}

/* Characters that print as nothing, as something else, or reorder the text
 * around them: a name using them could pass for another one. */
static bool deceptive(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0xa0 || cp == 0xad || cp == 0x61c ||
	       cp == 0x1680 || cp == 0x180e || (cp >= 0x2000 && cp <= 0x200f) ||
	       (cp >= 0x2028 && cp <= 0x202f) || (cp >= 0x205f && cp <= 0x206f) ||
	       cp == 0x3000 || cp == 0xfeff || (cp >= 0xfff9 && cp <= 0xfffb) ||
	       (cp >= 0xd800 && cp <= 0xdfff);
}

static void put_x(struct buf *b, unsigned int byte)
{
	char t[4] = { '\\', 'x', hexdigits[byte >> 4 & 15], hexdigits[byte & 15] };

	buf_append(b, t, sizeof(t));
}

static void put_u(struct buf *b, uint32_t cp)
{
	char t[16];
	int n = snprintf(t, sizeof(t), cp > 0xffff ? "\\U%08x" : "\\u%04x", (unsigned)cp);

	buf_append(b, t, (size_t)n);
}

void rtext_escaped(struct buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		const unsigned char *run = p;
		uint32_t cp;
		size_t k;

		while (p < end && *p >= 0x20 && *p < 0x7f && *p != '\\' && *p != '"')
			p++;
		buf_append(b, run, (size_t)(p - run));
		if (p == end)
			break;
		k = utf8_decode(p, (size_t)(end - p), true, &cp);
		if (!k) {
			/* Not WTF-8: the parser never hands out such strings, but
			 * this printer must be safe whatever it is given. */
			put_x(b, *p++);
			continue;
		}
		switch (cp) {
		case '\\': buf_append(b, "\\\\", 2); break;
		case '"': buf_append(b, "\\\"", 2); break;
		case '\n': buf_append(b, "\\n", 2); break;
		case '\t': buf_append(b, "\\t", 2); break;
		case '\r': buf_append(b, "\\r", 2); break;
		default:
			if (cp < 0x20 || cp == 0x7f)
				put_x(b, cp);
			else if (cp >= 0xdc80 && cp <= 0xdcff)
				put_x(b, cp & 0xff);	/* a byte of invalid UTF-8 */
			else if (deceptive(cp))
				put_u(b, cp);
			else
				buf_append(b, p, k);
		}
		p += k;
	}
}

void rtext_quoted(struct buf *b, const char *s, size_t n)
{
	bool quote = n == 0 || memchr(s, ' ', n) || memchr(s, '"', n);

	if (quote)
		buf_putc(b, '"');
	rtext_escaped(b, s, n);
	if (quote)
		buf_putc(b, '"');
}

void rtext_rstr(struct buf *b, struct rstr s)
{
	if (s.p)
		rtext_quoted(b, s.p, s.n);
	else
		buf_putc(b, '?');
}

void rtext_value(struct buf *b, const struct jv *v)
{
	size_t i;

	if (!v) {
		buf_putc(b, '?');
		return;
	}
	switch (v->type) {
	case JV_NULL: buf_puts(b, "null"); break;
	case JV_FALSE: buf_puts(b, "false"); break;
	case JV_TRUE: buf_puts(b, "true"); break;
	case JV_INT: buf_append(b, v->str, v->n); break;
	case JV_STRING: rtext_quoted(b, v->str, v->n); break;
	case JV_ARRAY:
		for (i = 0; i < v->n; i++) {
			if (i)
				buf_putc(b, ',');
			rtext_value(b, v->items[i]);
		}
		break;
	case JV_OBJECT:
		buf_putc(b, '{');
		for (i = 0; i < v->n; i++) {
			if (i)
				buf_putc(b, ' ');
			rtext_quoted(b, v->members[i].key, v->members[i].klen);
			buf_putc(b, '=');
			rtext_value(b, v->members[i].val);
		}
		buf_putc(b, '}');
		break;
	}
}

void rtext_args(struct buf *b, const struct jv *args)
{
	size_t i;

	if (!args || args->type != JV_ARRAY) {
		rtext_value(b, args);
		return;
	}
	for (i = 0; i < args->n; i++) {
		if (i)
			buf_putc(b, ' ');
		rtext_value(b, args->items[i]);
	}
}

void rtext_time(struct buf *b, const struct timespec *t)
{
	char iso[TIME_ISO_LEN + 1];

	time_format_iso(t, iso);
	buf_append(b, iso, TIME_ISO_LEN);
}

void rtext_duration(struct buf *b, const struct timespec *from, const struct timespec *to)
{
	long long s = (long long)to->tv_sec - (long long)from->tv_sec;
	char t[64];

	if (to->tv_nsec < from->tv_nsec)
		s--;
	if (s < 0)
		s = 0;
	if (s >= 86400)
		snprintf(t, sizeof(t), "%lldd %02lldh %02lldm %02llds", s / 86400, s / 3600 % 24,
			 s / 60 % 60, s % 60);
	else if (s >= 3600)
		snprintf(t, sizeof(t), "%lldh %02lldm %02llds", s / 3600, s / 60 % 60, s % 60);
	else if (s >= 60)
		snprintf(t, sizeof(t), "%lldm %02llds", s / 60, s % 60);
	else
		snprintf(t, sizeof(t), "%llds", s);
	buf_puts(b, t);
}

/* ---- the object of each action ------------------------------------------------ */

/* A path field and what is known about it (its "_flags" sibling: truncated,
 * deleted, ...), which changes what the path means. */
static void put_path(struct buf *b, const struct jv *root, const char *field)
{
	const struct jv *flags;
	char sibling[64];

	rtext_rstr(b, replay_field_str(root, field));
	snprintf(sibling, sizeof(sibling), "%s_flags", field);
	flags = replay_field(root, sibling);
	if (flags && (flags->type != JV_ARRAY || flags->n)) {
		buf_puts(b, " [");
		rtext_value(b, flags);
		buf_putc(b, ']');
	}
}

/* " label value" when the field is there. */
static void put_opt(struct buf *b, const struct jv *root, const char *label, const char *field)
{
	const struct jv *v = replay_field(root, field);

	if (!v)
		return;
	buf_putc(b, ' ');
	buf_puts(b, label);
	buf_putc(b, ' ');
	rtext_value(b, v);
}

/* What a credentials call changed: "uid 1000->0 euid 1000->0". */
static void put_credentials(struct buf *b, const struct jv *root)
{
	const struct jv *old = replay_field(root, "credentials.old");
	const struct jv *new = replay_field(root, "credentials.new");
	bool any = false;
	size_t i;

	if (!new || new->type != JV_OBJECT) {
		put_opt(b, root, "requested", "credentials.requested");
		return;
	}
	for (i = 0; i < new->n; i++) {
		const struct jv_member *m = &new->members[i];
		const struct jv *was;
		struct buf vb = { 0 }, wb = { 0 };

		/* Keys are short ASCII names; look the old value up by a copy. */
		if (m->klen >= 64 || memchr(m->key, '\0', m->klen))
			continue;
		{
			char key[64];

			memcpy(key, m->key, m->klen);
			key[m->klen] = '\0';
			was = jv_get(old, key);
		}
		rtext_value(&vb, m->val);
		if (was)
			rtext_value(&wb, was);
		if (!was || vb.len != wb.len || memcmp(vb.data, wb.data, vb.len)) {
			if (any)
				buf_putc(b, ' ');
			rtext_quoted(b, m->key, m->klen);
			buf_putc(b, ' ');
			if (was) {
				buf_append(b, wb.data, wb.len);
				buf_puts(b, "->");
			}
			buf_append(b, vb.data, vb.len);
			any = true;
		}
		buf_free(&vb);
		buf_free(&wb);
	}
	if (!any)
		buf_puts(b, "unchanged");
}

static void put_agent_object(struct buf *b, const struct replay_event *ev)
{
	const struct jv *root = ev->root, *v;
	char num[32];

	if (rstr_is(ev->action, "events-lost")) {
		v = replay_field(root, "sealtrail.lost");
		snprintf(num, sizeof(num), "%" PRIu64, replay_count_sum(v));
		buf_puts(b, num);
		buf_puts(b, " events lost ");
		rtext_value(b, v);
		v = replay_field(root, "sealtrail.degraded");
		if (v) {
			snprintf(num, sizeof(num), "%" PRIu64, replay_count_sum(v));
			buf_puts(b, ", ");
			buf_puts(b, num);
			buf_puts(b, " written incomplete ");
			rtext_value(b, v);
		}
		put_opt(b, root, "since", "sealtrail.since");
		put_opt(b, root, "until", "sealtrail.until");
	} else if (rstr_is(ev->action, "trail-gap") || rstr_is(ev->action, "trail-recover")) {
		if (replay_field(root, "sealtrail.torn")) {
			rtext_value(b, replay_field(root, "sealtrail.torn.bytes"));
			buf_puts(b, " torn bytes of ");
			rtext_value(b, replay_field(root, "sealtrail.torn.segment"));
			buf_puts(b, " set aside");
			if (replay_field(root, "sealtrail.gap"))
				buf_puts(b, "; ");
		}
		if (replay_field(root, "sealtrail.gap")) {
			rtext_value(b, replay_field(root, "sealtrail.gap.entries"));
			buf_puts(b, " entries not written");
			put_opt(b, root, "error", "sealtrail.gap.errno");
			put_opt(b, root, "lost", "sealtrail.gap.lost");
			put_opt(b, root, "from", "sealtrail.gap.first");
			put_opt(b, root, "to", "sealtrail.gap.last");
		}
	} else if (rstr_is(ev->action, "epoch-seal")) {
		buf_puts(b, "next epoch ");
		rtext_value(b, replay_field(root, "sealtrail.next_epoch"));
		put_opt(b, root, "reason", "sealtrail.reason");
	} else if (rstr_is(ev->action, "agent-start")) {
		buf_puts(b, "version ");
		rtext_value(b, replay_field(root, "sealtrail.agent.version"));
		put_opt(b, root, "host", "host.hostname");
		put_opt(b, root, "kernel", "host.os.kernel");
		put_opt(b, root, "previous run", "sealtrail.previous_run");
	} else if (rstr_is(ev->action, "agent-stop")) {
		rtext_value(b, replay_field(root, "sealtrail.stats"));
	} else if (rstr_is(ev->action, "config-reload")) {
		if (replay_field(root, "sealtrail.config.error"))
			put_opt(b, root, "refused:", "sealtrail.config.error");
		else
			put_opt(b, root, "digest", "sealtrail.config.digest");
	}
}

static bool action_in(struct rstr a, const char *const *list)
{
	for (; *list; list++)
		if (rstr_is(a, *list))
			return true;
	return false;
}

void rtext_object(struct buf *b, const struct replay_event *ev)
{
	static const char *const creds[] = { "setuid", "setgid", "setreuid", "setregid",
					     "setresuid", "setresgid", "setfsuid", "setfsgid",
					     "setgroups", "capset", NULL };
	static const char *const plain_path[] = { "unlink", "rmdir", "umount", NULL };
	const struct jv *root = ev->root, *v;
	struct rstr a = ev->action;
	char num[32];

	if (!root) {
		buf_puts(b, "(event is not a JSON object replay can read)");
		return;
	}
	if (ev->agent) {
		put_agent_object(b, ev);
	} else if (rstr_is(a, "exec")) {
		put_path(b, root, "process.executable");
		buf_puts(b, " argv: ");
		rtext_args(b, replay_field(root, "process.args"));
		v = replay_field(root, "process.args_truncated");
		if (v && v->type == JV_TRUE)
			buf_puts(b, " (argv truncated)");
	} else if (rstr_is(a, "fork")) {
		if (ev->has_pid) {
			snprintf(num, sizeof(num), "child %" PRIu64, ev->pid);
			buf_puts(b, num);
		} else {
			buf_puts(b, "no child");
		}
	} else if (rstr_is(a, "exit")) {
		v = replay_field(root, "sealtrail.exit.signal");
		if (v) {
			buf_puts(b, "signal ");
			rtext_value(b, v);
		} else {
			buf_puts(b, "code ");
			rtext_value(b, replay_field(root, "process.exit_code"));
		}
		v = replay_field(root, "sealtrail.exit.core_dumped");
		if (v && v->type == JV_TRUE)
			buf_puts(b, " (core dumped)");
	} else if (rstr_is(a, "open")) {
		put_path(b, root, "file.path");
		v = replay_field(root, "file.open_flags");
		if (v) {
			size_t i;

			buf_puts(b, " (");
			if (v->type == JV_ARRAY) {
				for (i = 0; i < v->n; i++) {
					if (i)
						buf_putc(b, '|');
					rtext_value(b, v->items[i]);
				}
			} else {
				rtext_value(b, v);
			}
			buf_putc(b, ')');
		}
		put_opt(b, root, "mode", "file.mode");
	} else if (rstr_is(a, "rename")) {
		put_path(b, root, "file.original.path");
		buf_puts(b, " -> ");
		put_path(b, root, "file.path");
	} else if (rstr_is(a, "link") || rstr_is(a, "symlink")) {
		put_path(b, root, "file.path");
		buf_puts(b, " -> ");
		put_path(b, root, "file.target_path");
	} else if (action_in(a, plain_path)) {
		put_path(b, root, "file.path");
	} else if (rstr_is(a, "mkdir") || rstr_is(a, "chmod")) {
		put_path(b, root, "file.path");
		put_opt(b, root, "mode", "file.mode");
	} else if (rstr_is(a, "chown")) {
		put_path(b, root, "file.path");
		put_opt(b, root, "uid", "file.uid");
		put_opt(b, root, "gid", "file.gid");
	} else if (rstr_is(a, "truncate")) {
		put_path(b, root, "file.path");
		put_opt(b, root, "size", "file.size");
	} else if (rstr_is(a, "setxattr") || rstr_is(a, "removexattr")) {
		put_path(b, root, "file.path");
		put_opt(b, root, "xattr", "file.xattr.name");
	} else if (rstr_is(a, "chattr")) {
		put_path(b, root, "file.path");
		put_opt(b, root, "from", "file.original.attributes");
		put_opt(b, root, "to", "file.attributes");
	} else if (rstr_is(a, "mount")) {
		rtext_value(b, replay_field(root, "sealtrail.mount.source"));
		buf_puts(b, " on ");
		put_path(b, root, "file.path");
		put_opt(b, root, "type", "sealtrail.mount.fstype");
	} else if (rstr_is(a, "module-load") || rstr_is(a, "module-unload")) {
		if (ev->path.p)
			put_path(b, root, "file.path");
		else
			rtext_value(b, replay_field(root, "sealtrail.module.name"));
		put_opt(b, root, "args", "sealtrail.module.args");
	} else if (rstr_is(a, "bpf-prog-load")) {
		rtext_value(b, replay_field(root, "sealtrail.bpf.prog_name"));
		put_opt(b, root, "type", "sealtrail.bpf.prog_type");
		put_opt(b, root, "insns", "sealtrail.bpf.insn_count");
	} else if (rstr_is(a, "ptrace") || rstr_is(a, "signal")) {
		buf_puts(b, "target ");
		rtext_value(b, replay_field(root, "target.process.pid"));
		put_opt(b, root, "request", "sealtrail.ptrace.request");
		put_opt(b, root, "signal", "sealtrail.signal.name");
	} else if (action_in(a, creds)) {
		put_credentials(b, root);
	} else if (ev->path.p) {
		put_path(b, root, "file.path");
	}
}

void rtext_result(struct buf *b, const struct replay_event *ev, const struct rtext_style *st)
{
	const struct jv *v;

	if (!ev->outcome.p)
		return;
	if (rstr_is(ev->outcome, "success")) {
		buf_puts(b, "ok");
		return;
	}
	rtext_color(b, st, RC_RED);
	if (rstr_is(ev->outcome, "failure")) {
		buf_puts(b, "failed ");
		if (ev->error_code.p)
			rtext_quoted(b, ev->error_code.p, ev->error_code.n);
		else if ((v = replay_field(ev->root, "syscall.result")))
			rtext_value(b, v);
		else
			buf_putc(b, '?');
	} else {
		rtext_quoted(b, ev->outcome.p, ev->outcome.n);
	}
	rtext_reset(b, st);
}

static void pad_to(struct buf *b, size_t start, size_t width)
{
	size_t used = b->len - start;

	do
		buf_putc(b, ' ');
	while (++used < width);
}

void rtext_event(struct buf *b, const struct replay_event *ev, const struct rtext_style *st)
{
	bool fork = rstr_is(ev->action, "fork");
	const struct jv *flags;
	char num[48];
	size_t start;

	rtext_color(b, st, RC_DIM);
	snprintf(num, sizeof(num), "#%-7" PRIu64 " ", ev->sequence);
	buf_puts(b, num);
	rtext_time(b, &ev->time);
	rtext_reset(b, st);
	buf_puts(b, "  ");

	/* The process that acted: for a fork that is the parent (the event's
	 * process is the child it made). */
	if (ev->agent)
		rtext_color(b, st, RC_STATE);
	start = b->len;
	if (ev->agent) {
		buf_puts(b, "sealtrail");
	} else {
		if (ev->name.p)
			rtext_quoted(b, ev->name.p, ev->name.n);
		if (fork ? ev->has_ppid : ev->has_pid) {
			snprintf(num, sizeof(num), "[%" PRIu64 "]", fork ? ev->ppid : ev->pid);
			buf_puts(b, num);
		} else if (!ev->name.p) {
			buf_putc(b, '?');
		}
		if (ev->has_uid) {
			snprintf(num, sizeof(num), " uid=%" PRIu64, ev->uid);
			buf_puts(b, num);
		}
	}
	pad_to(b, start, PROCESS_WIDTH);
	if (ev->agent)
		rtext_reset(b, st);

	rtext_color(b, st, RC_BOLD);
	start = b->len;
	if (ev->action.p)
		rtext_escaped(b, ev->action.p, ev->action.n);
	else
		buf_putc(b, '?');
	pad_to(b, start, ACTION_WIDTH);
	rtext_reset(b, st);

	rtext_object(b, ev);
	if (ev->outcome.p) {
		buf_puts(b, "  ");
		rtext_result(b, ev, st);
	}
	flags = replay_field(ev->root, "sealtrail.flags");
	if (flags && (flags->type != JV_ARRAY || flags->n)) {
		buf_puts(b, "  [");
		rtext_value(b, flags);
		buf_putc(b, ']');
	}
	if (ev->tamper) {
		buf_puts(b, "  ");
		rtext_color(b, st, RC_ALERT);
		buf_puts(b, "TAMPER");
		rtext_reset(b, st);
	}
	buf_putc(b, '\n');
}
