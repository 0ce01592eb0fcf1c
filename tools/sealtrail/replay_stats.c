/* replay_stats: counting events for the summary (see replay_stats.h). */
#include "replay_stats.h"

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Beyond this many distinct keys a table stops growing and counts the rest as
 * "other": a trail full of unique names must not exhaust memory. */
#define STATS_TABLE_LIMIT 100000

bool replay_limits_relevant(const char *event, size_t len)
{
	/* Canonical JSON writes these members exactly so. */
	return memmem(event, len, "\"module\": \"sealtrail\"", 21) ||
	       memmem(event, len, "\"tamper\": true", 14);
}

void replay_limits_add(struct replay_limits *l, const struct replay_event *ev)
{
	if (ev->tamper)
		l->tamper_alerts++;
	if (!ev->agent || !rstr_is(ev->action, "events-lost"))
		return;
	l->loss_records++;
	l->events_lost += replay_count_sum(replay_field(ev->root, "sealtrail.lost"));
	l->events_degraded += replay_count_sum(replay_field(ev->root, "sealtrail.degraded"));
}

void replay_stats_init(struct replay_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->actions.limit = s->outcomes.limit = s->executables.limit = STATS_TABLE_LIMIT;
	s->users.limit = s->loss_causes.limit = STATS_TABLE_LIMIT;
}

static void count(struct replay_stats *s, struct strmap *m, const char *key, size_t klen,
		  uint64_t n)
{
	struct strmap_item *it;
	int err;

	it = strmap_get(m, key, klen, true, &err);
	if (it) {
		it->count += n;
	} else if (err == -E2BIG) {
		s->overflow += n;
	} else {
		s->err = err;
	}
}

void replay_stats_entry(struct replay_stats *s, const struct replay_event *ev)
{
	const struct jv *lost;
	size_t i;

	s->entries++;
	replay_limits_add(&s->limits, ev);
	if (!ev->agent || !rstr_is(ev->action, "events-lost"))
		return;
	lost = replay_field(ev->root, "sealtrail.lost");
	if (lost && lost->type == JV_OBJECT)
		for (i = 0; i < lost->n; i++)
			count(s, &s->loss_causes, lost->members[i].key, lost->members[i].klen,
			      replay_count_sum(lost->members[i].val));
}

void replay_stats_event(struct replay_stats *s, const struct replay_event *ev)
{
	static const char unknown[] = "(none)";
	char uid[24];

	s->events++;
	if (!s->has_time || timespec_cmp(&ev->time, &s->first) < 0)
		s->first = ev->time;
	if (!s->has_time || timespec_cmp(&ev->time, &s->last) > 0)
		s->last = ev->time;
	s->has_time = true;
	if (ev->action.p)
		count(s, &s->actions, ev->action.p, ev->action.n, 1);
	else
		count(s, &s->actions, unknown, strlen(unknown), 1);
	if (ev->outcome.p)
		count(s, &s->outcomes, ev->outcome.p, ev->outcome.n, 1);
	if (rstr_is(ev->action, "exec") && !rstr_is(ev->outcome, "failure")) {
		if (ev->executable.p)
			count(s, &s->executables, ev->executable.p, ev->executable.n, 1);
		else
			s->exec_unknown++;
	}
	if (ev->has_uid) {
		snprintf(uid, sizeof(uid), "%" PRIu64, ev->uid);
		count(s, &s->users, uid, strlen(uid), 1);
	}
}

/* "        12  key" lines, highest counts first, at most top (0: all). */
static void put_counts(struct buf *b, const struct strmap *m, size_t top, const char *prefix)
{
	struct strmap_item **v = strmap_by_count(m);
	size_t i, n = top && top < m->n ? top : m->n;
	char num[48];

	if (!v) {
		if (m->n)
			b->failed = true;	/* out of memory: the summary is refused */
		else
			buf_puts(b, "    (none)\n");
		return;
	}
	for (i = 0; i < n; i++) {
		snprintf(num, sizeof(num), "%10" PRIu64 "  ", v[i]->count);
		buf_puts(b, num);
		buf_puts(b, prefix);
		rtext_quoted(b, v[i]->key, v[i]->klen);
		buf_putc(b, '\n');
	}
	if (n < m->n) {
		snprintf(num, sizeof(num), "    ... and %zu more\n", m->n - n);
		buf_puts(b, num);
	}
	free(v);
}

int replay_stats_text(FILE *f, const struct replay_stats *s, const struct verify_result *r,
		      size_t top, const struct rtext_style *st)
{
	int err = 0;

	const struct replay_limits *l = &s->limits;
	bool lost = l->events_lost || l->loss_records || l->events_degraded || r->gaps;
	struct buf b = { 0 };

	buf_printf(&b, "events: %" PRIu64 " (of %" PRIu64 " verified entries)\n", s->events,
		s->entries);
	if (s->has_time) {
		buf_puts(&b, "time span: ");
		rtext_time(&b, &s->first);
		buf_puts(&b, " .. ");
		rtext_time(&b, &s->last);
		buf_puts(&b, " (");
		rtext_duration(&b, &s->first, &s->last);
		buf_puts(&b, ")\n");
	}
	buf_puts(&b, "by action:\n");
	put_counts(&b, &s->actions, 0, "");
	buf_puts(&b, "by outcome:\n");
	put_counts(&b, &s->outcomes, 0, "");
	buf_puts(&b, "top executables (successful execs):\n");
	put_counts(&b, &s->executables, top, "");
	if (s->exec_unknown)
		buf_printf(&b, "%10" PRIu64 "  (executable not recorded)\n", s->exec_unknown);
	buf_puts(&b, "top users (events by user.id):\n");
	put_counts(&b, &s->users, top, "uid ");
	if (s->overflow)
		buf_printf(&b, "(%" PRIu64 " counts not broken down: more than %d distinct names)\n",
			s->overflow, STATS_TABLE_LIMIT);

	if (lost)
		rtext_color(&b, st, RC_RED);
	buf_puts(&b, "losses recorded (whole trail, whatever the filters):\n");
	buf_printf(&b, "%10" PRIu64 "  events lost, in %" PRIu64 " events-lost entr%s\n",
		l->events_lost, l->loss_records, l->loss_records == 1 ? "y" : "ies");
	if (s->loss_causes.n)
		put_counts(&b, &s->loss_causes, 0, "    lost to ");
	buf_printf(&b, "%10" PRIu64 "  events written with incomplete fields\n", l->events_degraded);
	buf_printf(&b, "%10" PRIu64 "  entries the writer could not write (%" PRIu64
		" recorded gap%s)\n", r->gap_entries, r->gaps, r->gaps == 1 ? "" : "s");
	if (lost)
		rtext_reset(&b, st);
	if (l->tamper_alerts)
		rtext_color(&b, st, RC_ALERT);
	buf_printf(&b, "tampering alerts (whole trail): %" PRIu64 "\n", l->tamper_alerts);
	if (l->tamper_alerts)
		rtext_reset(&b, st);
	buf_printf(&b, "trail: %" PRIu64 " segment%s, epochs %" PRIu64 "..%" PRIu64 " (%" PRIu64
		" seal%s), %" PRIu64 " recover%s after a crash\n", r->segments,
		r->segments == 1 ? "" : "s", r->first_epoch, r->last_epoch, r->seals,
		r->seals == 1 ? "" : "s", r->recoveries, r->recoveries == 1 ? "y" : "ies");
	if (b.failed)
		err = -ENOMEM;
	else if (b.len)
		fwrite(b.data, 1, b.len, f);
	buf_free(&b);
	return err;
}

/* An object {key: count} in key order (as canonical JSON wants). */
static void json_counts(struct jw *w, const struct strmap *m)
{
	struct strmap_item **v = strmap_by_key(m);
	size_t i;

	jw_object_begin(w);
	for (i = 0; v && i < m->n; i++) {
		jw_keyn(w, v[i]->key, v[i]->klen);
		jw_uint(w, v[i]->count);
	}
	jw_object_end(w);
	if (m->n && !v)
		w->bad = true;	/* out of memory: never print a partial object */
	free(v);
}

/* [{"count": n, key_name: key}] highest first; numeric keys as integers. */
static void json_top(struct jw *w, const struct strmap *m, size_t top, const char *key_name,
		     bool numeric)
{
	struct strmap_item **v = strmap_by_count(m);
	size_t i, n = top && top < m->n ? top : m->n;

	jw_array_begin(w);
	for (i = 0; v && i < n; i++) {
		jw_object_begin(w);
		jw_key(w, "count");
		jw_uint(w, v[i]->count);
		jw_key(w, key_name);
		if (numeric)
			jw_raw(w, v[i]->key, v[i]->klen);
		else
			jw_string(w, v[i]->key, v[i]->klen);
		jw_object_end(w);
	}
	jw_array_end(w);
	if (m->n && !v)
		w->bad = true;
	free(v);
}

static void json_time(struct jw *w, const struct timespec *t)
{
	struct buf b = { 0 };

	rtext_time(&b, t);
	jw_string(w, b.data ? b.data : "", b.len);
	/* jw copied the text into its output: the buffer can go. */
	buf_free(&b);
}

void replay_stats_json(struct jw *w, const struct replay_stats *s, const struct verify_result *r,
		       size_t top)
{
	const struct replay_limits *l = &s->limits;

	jw_object_begin(w);
	jw_key(w, "actions");
	json_counts(w, &s->actions);
	jw_key(w, "entries");
	jw_uint(w, s->entries);
	jw_key(w, "events");
	jw_uint(w, s->events);
	jw_key(w, "exec_unknown");
	jw_uint(w, s->exec_unknown);
	jw_key(w, "executables");
	json_top(w, &s->executables, top, "executable", false);
	jw_key(w, "losses");
	jw_object_begin(w);
	jw_key(w, "by_cause");
	json_counts(w, &s->loss_causes);
	jw_key(w, "events_degraded");
	jw_uint(w, l->events_degraded);
	jw_key(w, "events_lost");
	jw_uint(w, l->events_lost);
	jw_key(w, "gap_entries");
	jw_uint(w, r->gap_entries);
	jw_key(w, "gaps");
	jw_uint(w, r->gaps);
	jw_key(w, "loss_records");
	jw_uint(w, l->loss_records);
	jw_object_end(w);
	jw_key(w, "outcomes");
	json_counts(w, &s->outcomes);
	jw_key(w, "overflow");
	jw_uint(w, s->overflow);
	jw_key(w, "tamper_alerts");
	jw_uint(w, l->tamper_alerts);
	jw_key(w, "time");
	if (s->has_time) {
		jw_object_begin(w);
		jw_key(w, "first");
		json_time(w, &s->first);
		jw_key(w, "last");
		json_time(w, &s->last);
		jw_object_end(w);
	} else {
		jw_null(w);
	}
	jw_key(w, "users");
	json_top(w, &s->users, top, "uid", true);
	jw_object_end(w);
}

void replay_stats_free(struct replay_stats *s)
{
	strmap_free(&s->actions, NULL);
	strmap_free(&s->outcomes, NULL);
	strmap_free(&s->executables, NULL);
	strmap_free(&s->users, NULL);
	strmap_free(&s->loss_causes, NULL);
}
