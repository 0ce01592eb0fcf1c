/* replay_filter: parsing filter options and matching events (see replay_filter.h). */
#include "replay_filter.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "timefmt.h"
#include "utf8.h"

#define COMM_MAX 15	/* the kernel keeps 15 bytes of a process name (TASK_COMM_LEN - 1) */

static const char *const known_actions[] = {
	"exec", "fork", "exit", "setuid", "setgid", "setreuid", "setregid", "setresuid",
	"setresgid", "setfsuid", "setfsgid", "setgroups", "capset", "ptrace", "module-load",
	"module-unload", "bpf-prog-load", "mount", "umount", "open", "unlink", "rmdir", "mkdir",
	"rename", "link", "symlink", "chmod", "chown", "truncate", "setxattr", "removexattr",
	"chattr", "signal", "agent-start", "agent-stop", "config-reload", "events-lost",
	"epoch-seal", "trail-recover", "trail-gap", NULL,
};

bool replay_action_is_known(const char *s, size_t n)
{
	size_t i;

	for (i = 0; known_actions[i]; i++)
		if (strlen(known_actions[i]) == n && !memcmp(known_actions[i], s, n))
			return true;
	return false;
}

void replay_wtf8_from_bytes(struct buf *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;
	uint32_t cp;
	char enc[4];

	while (i < n) {
		k = utf8_decode(p + i, n - i, false, &cp);
		if (k) {
			buf_append(out, p + i, k);
			i += k;
		} else {
			buf_append(out, enc, utf8_encode(0xdc00 | p[i], enc));
			i++;
		}
	}
}

static int parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

int replay_time_parse(const char *s, const struct timespec *now, struct timespec *out)
{
	size_t n = strlen(s);
	char tmp[48];

	if (!strcmp(s, "now")) {
		*out = *now;
		return 0;
	}
	if (s[0] == '-') {
		/* -N[smhd]: relative to now, for "what happened in the last hour". */
		uint64_t v, mul;
		char num[24];

		if (n < 3 || n - 2 >= sizeof(num))
			return -EINVAL;
		memcpy(num, s + 1, n - 2);
		num[n - 2] = '\0';
		switch (s[n - 1]) {
		case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		default: return -EINVAL;
		}
		/* More than ~300 years back is a typo, and would overflow time_t math. */
		if (parse_u64(num, &v) || v > 10000000000ull / mul)
			return -EINVAL;
		out->tv_sec = now->tv_sec - (time_t)(v * mul);
		out->tv_nsec = now->tv_nsec;
		return 0;
	}
	if (n >= sizeof(tmp) - 10)
		return -EINVAL;
	memcpy(tmp, s, n + 1);
	if (n == 10) {			/* YYYY-MM-DD: the start of that day */
		memcpy(tmp + 10, "T00:00:00", 10);
		n += 9;
	} else if ((n == 16 || (n == 17 && tmp[16] == 'Z')) && (tmp[10] == 'T' || tmp[10] == ' ')) {
		memcpy(tmp + 16, ":00", 4);	/* YYYY-MM-DDTHH:MM[Z] */
		n = 19;
	}
	return time_parse_iso(tmp, n, false, out);
}

/* An absolute path, trailing slashes dropped ("/" stays), as WTF-8. */
static int set_path(struct buf *b, const char *arg, const char **why)
{
	size_t n = strlen(arg);

	if (arg[0] != '/') {
		*why = "wants an absolute path (the trail records only absolute paths)";
		return -EINVAL;
	}
	while (n > 1 && arg[n - 1] == '/')
		n--;
	replay_wtf8_from_bytes(b, arg, n);
	return 0;
}

static int add_types(struct replay_filter *f, const char *arg, const char **why)
{
	const char *p = arg, *comma;
	size_t i, off, count = 0;
	struct rstr *v;

	/* Converted names are kept NUL-separated in one buffer; spans are made
	 * once the buffer stops moving. */
	do {
		comma = strchr(p, ',');
		off = comma ? (size_t)(comma - p) : strlen(p);
		if (!off) {
			*why = "wants a comma-separated list of actions, e.g. exec,unlink";
			return -EINVAL;
		}
		replay_wtf8_from_bytes(&f->type_text, p, off);
		buf_putc(&f->type_text, '\0');
		count++;
		p += off + 1;
	} while (comma);
	if (f->type_text.failed)
		goto nomem;
	v = realloc(f->types, (f->ntypes + count) * sizeof(*v));
	if (!v)
		goto nomem;
	f->types = v;
	f->ntypes += count;
	for (i = 0, off = 0; i < f->ntypes; i++) {
		size_t n = strlen(f->type_text.data + off);

		f->types[i] = (struct rstr){ f->type_text.data + off, n };
		off += n + 1;
	}
	return 0;
nomem:
	*why = "out of memory";
	return -ENOMEM;
}

int replay_filter_set(struct replay_filter *f, enum replay_filter_kind kind, const char *arg,
		      const struct timespec *now, const char **why)
{
	uint64_t *num = NULL;
	int err = 0;

	if ((f->given & RF_BIT(kind)) && kind != RF_TYPE) {
		*why = "given twice (filters are ANDed; run replay again for another value)";
		return -EEXIST;
	}
	switch (kind) {
	case RF_PID: num = &f->pid; break;
	case RF_PPID: num = &f->ppid; break;
	case RF_UID: num = &f->uid; break;
	case RF_AUID: num = &f->auid; break;
	case RF_SESSION: num = &f->session; break;
	case RF_ENTITY:
		if (!*arg) {
			*why = "wants a process.entity_id";
			return -EINVAL;
		}
		replay_wtf8_from_bytes(&f->entity, arg, strlen(arg));
		break;
	case RF_TYPE:
		err = add_types(f, arg, why);
		break;
	case RF_PATH:
		err = set_path(&f->path, arg, why);
		break;
	case RF_EXE:
		if (arg[0] != '/') {
			*why = "wants the absolute path of an executable";
			return -EINVAL;
		}
		replay_wtf8_from_bytes(&f->exe, arg, strlen(arg));
		break;
	case RF_COMM:
		if (!*arg) {
			*why = "wants a process name";
			return -EINVAL;
		}
		/* Names longer than the kernel keeps are compared as it keeps them. */
		replay_wtf8_from_bytes(&f->comm, arg,
				       strlen(arg) > COMM_MAX ? COMM_MAX : strlen(arg));
		break;
	case RF_SINCE:
	case RF_UNTIL:
		if (replay_time_parse(arg, now, kind == RF_SINCE ? &f->since : &f->until)) {
			*why = "wants a UTC time: 2026-11-27, 2026-11-27T02:00, "
			       "2026-11-27T02:00:00.5Z, or relative: -30s, -15m, -1h, -2d";
			return -EINVAL;
		}
		break;
	case RF_FAILED:
	case RF_TAMPER:
		break;
	default:
		*why = "unknown filter";
		return -EINVAL;
	}
	if (num && parse_u64(arg, num)) {
		*why = "wants a decimal number";
		return -EINVAL;
	}
	if (err)
		return err;
	if (f->entity.failed || f->path.failed || f->exe.failed || f->comm.failed) {
		*why = "out of memory";
		return -ENOMEM;
	}
	f->given |= RF_BIT(kind);
	return 0;
}

static bool given(const struct replay_filter *f, enum replay_filter_kind kind)
{
	return f->given & RF_BIT(kind);
}

static bool rstr_is_buf(struct rstr s, const struct buf *b)
{
	return s.p && s.n == b->len && !memcmp(s.p, b->data, b->len);
}

/* The path itself or anything below it. */
static bool path_under(struct rstr p, const struct buf *dir)
{
	if (!p.p)
		return false;
	if (dir->len == 1)	/* "/" */
		return p.n >= 1 && p.p[0] == '/';
	return p.n >= dir->len && !memcmp(p.p, dir->data, dir->len) &&
	       (p.n == dir->len || p.p[dir->len] == '/');
}

static bool type_matches(const struct replay_filter *f, const struct replay_event *ev)
{
	size_t i;

	if (!given(f, RF_TYPE))
		return !(ev->agent && rstr_is(ev->action, "epoch-seal"));
	for (i = 0; i < f->ntypes; i++)
		if (rstr_eq(ev->action, f->types[i]))
			return true;
	return false;
}

/* An event is about a file when the file is its object: file.path and, for
 * renames and links, the other name. An exec is about the file that ran, so
 * --path /tmp also answers "what ran from /tmp". */
static bool path_matches(const struct replay_filter *f, const struct replay_event *ev)
{
	return path_under(ev->path, &f->path) || path_under(ev->original_path, &f->path) ||
	       path_under(ev->target_path, &f->path) ||
	       (rstr_is(ev->action, "exec") && path_under(ev->executable, &f->path));
}

bool replay_filter_in_window(const struct replay_filter *f, const struct replay_event *ev)
{
	if (given(f, RF_SINCE) && timespec_cmp(&ev->time, &f->since) < 0)
		return false;
	if (given(f, RF_UNTIL) && timespec_cmp(&ev->time, &f->until) >= 0)
		return false;
	return true;
}

bool replay_filter_match(const struct replay_filter *f, const struct replay_event *ev)
{
	if (!type_matches(f, ev) || !replay_filter_in_window(f, ev))
		return false;
	if (given(f, RF_PID) && !(ev->has_pid && ev->pid == f->pid))
		return false;
	if (given(f, RF_PPID) && !(ev->has_ppid && ev->ppid == f->ppid))
		return false;
	if (given(f, RF_UID) && !(ev->has_uid && ev->uid == f->uid))
		return false;
	if (given(f, RF_AUID) && !(ev->has_auid && ev->auid == f->auid))
		return false;
	if (given(f, RF_SESSION) && !(ev->has_session && ev->session == f->session))
		return false;
	if (given(f, RF_ENTITY) && !rstr_is_buf(ev->entity_id, &f->entity))
		return false;
	if (given(f, RF_EXE) && !rstr_is_buf(ev->executable, &f->exe))
		return false;
	if (given(f, RF_COMM) && !rstr_is_buf(ev->name, &f->comm))
		return false;
	if (given(f, RF_PATH) && !path_matches(f, ev))
		return false;
	if (given(f, RF_FAILED) && !rstr_is(ev->outcome, "failure"))
		return false;
	if (given(f, RF_TAMPER) && !ev->tamper)
		return false;
	return true;
}

void replay_filter_free(struct replay_filter *f)
{
	buf_free(&f->entity);
	buf_free(&f->path);
	buf_free(&f->exe);
	buf_free(&f->comm);
	buf_free(&f->type_text);
	free(f->types);
	memset(f, 0, sizeof(*f));
}
