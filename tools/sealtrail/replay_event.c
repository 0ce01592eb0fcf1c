/* replay_event: a tolerant view of one event (see replay_event.h). */
#include "replay_event.h"

#include <string.h>
#include "timefmt.h"

const struct jv *replay_field(const struct jv *root, const char *dotted)
{
	const struct jv *v = root;
	char key[64];

	while (v && *dotted) {
		const char *dot = strchr(dotted, '.');
		size_t n = dot ? (size_t)(dot - dotted) : strlen(dotted);

		if (n >= sizeof(key))
			return NULL;
		memcpy(key, dotted, n);
		key[n] = '\0';
		v = jv_get(v, key);
		dotted += n + (dot != NULL);
	}
	return v;
}

struct rstr replay_field_str(const struct jv *root, const char *dotted)
{
	const struct jv *v = replay_field(root, dotted);

	if (!v || v->type != JV_STRING)
		return (struct rstr){ NULL, 0 };
	return (struct rstr){ v->str, v->n };
}

bool rstr_is(struct rstr s, const char *c)
{
	size_t n = strlen(c);

	return s.p && s.n == n && !memcmp(s.p, c, n);
}

bool rstr_eq(struct rstr a, struct rstr b)
{
	return a.p && b.p && a.n == b.n && !memcmp(a.p, b.p, a.n);
}

int timespec_cmp(const struct timespec *a, const struct timespec *b)
{
	if (a->tv_sec != b->tv_sec)
		return a->tv_sec < b->tv_sec ? -1 : 1;
	if (a->tv_nsec != b->tv_nsec)
		return a->tv_nsec < b->tv_nsec ? -1 : 1;
	return 0;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t count_sum(const struct jv *v, int depth)
{
	uint64_t sum = 0, n;
	size_t i;

	if (!v || depth > 4)
		return 0;
	if (v->type == JV_INT)
		return jv_to_u64(v, &n) ? n : 0;
	if (v->type == JV_OBJECT)
		for (i = 0; i < v->n; i++)
			sum = add_sat(sum, count_sum(v->members[i].val, depth + 1));
	return sum;
}

uint64_t replay_count_sum(const struct jv *v)
{
	return count_sum(v, 0);
}

static bool field_u64(const struct jv *root, const char *dotted, uint64_t *out)
{
	return jv_to_u64(replay_field(root, dotted), out);
}

void replay_event_read(struct replay_event *ev, const struct jv *root, const struct entry *e)
{
	const struct jv *ts, *tamper;

	memset(ev, 0, sizeof(*ev));
	ev->root = root;
	ev->sequence = e->sequence;
	ev->time = e->time;
	ev->time_from_entry = true;
	if (!root || root->type != JV_OBJECT)
		return;
	/* The event's own time (when the call began) orders what happened; the
	 * entry's time (when it was written) is only a fallback. */
	ts = jv_get(root, "@timestamp");
	if (ts && ts->type == JV_STRING && !memchr(ts->str, '\0', ts->n) &&
	    !time_parse_iso(ts->str, ts->n, false, &ev->time))
		ev->time_from_entry = false;
	else
		ev->time = e->time;
	ev->action = replay_field_str(root, "event.action");
	ev->outcome = replay_field_str(root, "event.outcome");
	ev->module = replay_field_str(root, "event.module");
	ev->error_code = replay_field_str(root, "error.code");
	ev->has_pid = field_u64(root, "process.pid", &ev->pid);
	ev->has_ppid = field_u64(root, "process.parent.pid", &ev->ppid);
	ev->has_uid = field_u64(root, "user.id", &ev->uid);
	ev->has_auid = field_u64(root, "user.audit.id", &ev->auid);
	ev->has_session = field_u64(root, "user.audit.session", &ev->session);
	ev->entity_id = replay_field_str(root, "process.entity_id");
	ev->parent_entity_id = replay_field_str(root, "process.parent.entity_id");
	ev->name = replay_field_str(root, "process.name");
	ev->executable = replay_field_str(root, "process.executable");
	ev->path = replay_field_str(root, "file.path");
	ev->original_path = replay_field_str(root, "file.original.path");
	ev->target_path = replay_field_str(root, "file.target_path");
	tamper = replay_field(root, "sealtrail.tamper");
	ev->tamper = tamper && tamper->type == JV_TRUE;
	ev->agent = rstr_is(ev->module, "sealtrail");
}
