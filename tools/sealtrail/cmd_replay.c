/* sealtrail replay: the events of a trail for incident responders, offline,
 * filtered like ausearch, as a timeline, a process tree (--tree) or a summary
 * (--summary, `sealtrail stats`). See docs/REPLAY.md.
 *
 * Only entries that verified are ever shown, and what verification found is
 * stated before any of them: the responder sees the evidence and its limits
 * together. That needs two streaming passes over the trail (the verifier is
 * fast, and memory stays flat): pass 1 verifies and counts the trail's own
 * statements about losses and tampering; pass 2 verifies again and prints the
 * entries up to the last one pass 1 vouched for. The summary prints only at
 * the end, so it needs a single pass.
 *
 * Exit status: 0 the trail verified, 1 it is broken (the entries before the
 * damage are still shown), 2 usage or I/O error. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "cmd_replay.h"
#include "json.h"
#include "keys.h"
#include "replay_event.h"
#include "replay_filter.h"
#include "replay_progress.h"
#include "report.h"
#include "replay_stats.h"
#include "replay_text.h"
#include "replay_tree.h"
#include "verify.h"

#define OPT_FILTER 256		/* getopt values of filter options: OPT_FILTER + kind */
#define DEFAULT_TOP 10

enum replay_output { OUT_TIMELINE, OUT_TREE, OUT_SUMMARY };

struct replay {
	const char *cmd;		/* "replay" or "stats", for messages */
	const char *trail;
	struct replay_filter filter;
	enum replay_output out;
	bool json;
	uint64_t tree_pid;
	size_t top;
	struct rtext_style style;
	struct replay_progress progress;

	struct jv_arena *arena;
	struct buf line;
	struct replay_tree *tree;
	struct replay_stats stats;	/* OUT_SUMMARY */
	struct replay_limits limits;	/* from pass 1 */
	uint64_t verified;		/* entries pass 1 vouched for */
	uint64_t last_sequence;		/* the last of them */
	uint64_t seen, matched;		/* in the current pass */
	int err;			/* -ENOMEM: stop */
};

/* ---- reading entries ----------------------------------------------------------- */

/* Parses the entry's event into ev. An event replay cannot parse (deeper than
 * the parser allows) is still shown, with no fields. Returns 0 or -ENOMEM. */
static int read_event(struct replay *rp, const struct verify_entry *ve, struct replay_event *ev)
{
	struct jv *root = NULL;
	int err;

	jv_arena_reset(rp->arena);
	err = json_parse(rp->arena, ve->e->event, ve->e->event_len, &root, NULL);
	if (err == -ENOMEM)
		return rp->err = -ENOMEM;
	replay_event_read(ev, err ? NULL : root, ve->e);
	return 0;
}

/* Pass 1: only the entries that can matter are parsed, except for a tree,
 * which needs every parent link. */
static int pass1_entry(void *ctx, const struct verify_entry *ve)
{
	struct replay *rp = ctx;
	struct replay_event ev;

	rp->seen++;
	replay_progress_tick(&rp->progress, "verifying", rp->seen, 0);
	if (rp->out != OUT_TREE && !replay_limits_relevant(ve->e->event, ve->e->event_len))
		return 0;
	if (read_event(rp, ve, &ev))
		return 1;
	replay_limits_add(&rp->limits, &ev);
	if (rp->out == OUT_TREE && replay_tree_learn(rp->tree, &ev)) {
		rp->err = -ENOMEM;
		return 1;
	}
	return 0;
}

static void print_event_json(struct replay *rp, const struct verify_entry *ve)
{
	const struct entry *e = ve->e;
	struct jw w;

	/* The entry's sequence and hash lead back into the chain (and can be
	 * given to `sealtrail verify --anchor SEQ:HASH`); the event is spliced
	 * as stored, canonical and byte-exact. */
	buf_reset(&rp->line);
	jw_init(&w, &rp->line);
	jw_object_begin(&w);
	jw_key(&w, "entry");
	jw_object_begin(&w);
	jw_key(&w, "hash");
	jw_string(&w, e->hash, DIGEST_HEX_LEN);
	jw_key(&w, "sequence");
	jw_uint(&w, e->sequence);
	jw_key(&w, "timestamp");
	jw_string(&w, e->timestamp, e->timestamp_len);
	jw_object_end(&w);
	jw_key(&w, "event");
	jw_raw(&w, e->event, e->event_len);
	jw_object_end(&w);
	buf_putc(&rp->line, '\n');
	if (!jw_ok(&w)) {
		rp->err = -ENOMEM;
		return;
	}
	fwrite(rp->line.data, 1, rp->line.len, stdout);
}

/* Pass 2: the entries up to the last one pass 1 verified. */
static int pass2_entry(void *ctx, const struct verify_entry *ve)
{
	struct replay *rp = ctx;
	struct replay_event ev;

	if (!rp->verified || ve->e->sequence > rp->last_sequence)
		return 1;
	rp->seen++;
	replay_progress_tick(&rp->progress, "replaying", rp->seen, rp->verified);
	if (read_event(rp, ve, &ev))
		return 1;
	if (rp->out == OUT_TREE) {
		if (replay_tree_record(rp->tree, &ev, &rp->filter)) {
			rp->err = -ENOMEM;
			return 1;
		}
		return 0;
	}
	if (!replay_filter_match(&rp->filter, &ev))
		return 0;
	rp->matched++;
	replay_progress_clear(&rp->progress);
	if (rp->json) {
		print_event_json(rp, ve);
	} else {
		buf_reset(&rp->line);
		rtext_event(&rp->line, &ev, &rp->style);
		if (rp->line.failed) {
			rp->err = -ENOMEM;
			return 1;
		}
		fwrite(rp->line.data, 1, rp->line.len, stdout);
	}
	return rp->err ? 1 : 0;
}

/* The summary's single pass: every entry counts for the limits, the ones
 * that pass the filters for the rest. */
static int summary_entry(void *ctx, const struct verify_entry *ve)
{
	struct replay *rp = ctx;
	struct replay_event ev;

	rp->seen++;
	replay_progress_tick(&rp->progress, "reading", rp->seen, 0);
	if (read_event(rp, ve, &ev))
		return 1;
	replay_stats_entry(&rp->stats, &ev);
	if (replay_filter_match(&rp->filter, &ev))
		replay_stats_event(&rp->stats, &ev);
	if (rp->stats.err) {
		rp->err = rp->stats.err;
		return 1;
	}
	return 0;
}

/* ---- what verification found ----------------------------------------------------- */

static void header_text(struct buf *b, const struct replay *rp, const struct verify_result *r,
			const struct replay_limits *l)
{
	const struct rtext_style *st = &rp->style;
	size_t i;

	if (r->status == VERIFY_BROKEN) {
		rtext_color(b, st, RC_ALERT);
		buf_puts(b, "# BROKEN: ");
		report_failure_place(b, rp->trail, r);
		rtext_reset(b, st);
		buf_putc(b, '\n');
		if (r->entries)
			buf_printf(b, "#   only the %" PRIu64 " entries before that place verified "
				"(sequence %" PRIu64 "..%" PRIu64 ", %s .. %s); nothing from it on "
				"is shown\n", r->entries, r->first_sequence, r->last_sequence,
				r->first_time, r->last_time);
		else
			buf_puts(b, "#   no entry before that place verified: there is nothing to "
				    "show\n");
	} else {
		buf_puts(b, "# OK: ");
		report_put_bytes(b, rp->trail);
		buf_printf(b, " verified: %" PRIu64 " entries (sequence %" PRIu64 "..%" PRIu64
			"), %s .. %s, %" PRIu64 " segment%s, epochs %" PRIu64 "..%" PRIu64 "\n",
			r->entries, r->first_sequence, r->last_sequence, r->first_time,
			r->last_time, r->segments, r->segments == 1 ? "" : "s", r->first_epoch,
			r->last_epoch);
	}
	if (r->signatures_checked) {
		buf_puts(b, "# signatures checked with the verify key\n");
	} else {
		rtext_color(b, st, RC_RED);
		buf_puts(b, "# signatures NOT checked (no --key): the hash chain shows the entries "
			    "are intact and in order, not that the agent wrote them\n");
		rtext_reset(b, st);
	}
	for (i = 0; i < r->nwarnings; i++) {
		buf_puts(b, "# warning: ");
		report_put_bytes(b, r->warnings[i]);
		buf_putc(b, '\n');
	}
	if (r->more_warnings)
		buf_printf(b, "# warning: ... and %" PRIu64 " more\n", r->more_warnings);
	if (l->loss_records || r->gaps) {
		rtext_color(b, st, RC_RED);
		buf_printf(b, "# losses recorded in the verified entries: %" PRIu64
			" events lost (%" PRIu64 " events-lost entr%s), %" PRIu64
			" entries not written (%" PRIu64 " gap%s)%s\n",
			l->events_lost, l->loss_records, l->loss_records == 1 ? "y" : "ies",
			r->gap_entries, r->gaps, r->gaps == 1 ? "" : "s",
			rp->out == OUT_SUMMARY ? "" : "; filters do not show them, `sealtrail "
						       "stats` does");
		rtext_reset(b, st);
	} else {
		buf_puts(b, "# losses recorded in the verified entries: none\n");
	}
	if (l->tamper_alerts) {
		rtext_color(b, st, RC_ALERT);
		buf_printf(b, "# tampering alerts in the verified entries: %" PRIu64
			" (replay --tamper lists them)\n", l->tamper_alerts);
		rtext_reset(b, st);
	}
}

/* The verification as the value of the key just written. */
static void verification_json(struct jw *w, const struct replay *rp, const struct verify_result *r,
			      const struct replay_limits *l)
{
	size_t i;

	jw_object_begin(w);
	jw_key(w, "entries");
	jw_uint(w, r->entries);
	if (r->status != VERIFY_OK) {
		jw_key(w, "failure");
		report_failure_json(w, rp->trail, r);
	}
	if (r->entries) {
		jw_key(w, "first_sequence");
		jw_uint(w, r->first_sequence);
		jw_key(w, "first_time");
		jw_cstring(w, r->first_time);
	}
	jw_key(w, "gap_entries");
	jw_uint(w, r->gap_entries);
	jw_key(w, "gaps");
	jw_uint(w, r->gaps);
	if (r->entries) {
		jw_key(w, "last_hash");
		jw_cstring(w, r->last_hash);
		jw_key(w, "last_sequence");
		jw_uint(w, r->last_sequence);
		jw_key(w, "last_time");
		jw_cstring(w, r->last_time);
	}
	jw_key(w, "losses");
	jw_object_begin(w);
	jw_key(w, "events_degraded");
	jw_uint(w, l->events_degraded);
	jw_key(w, "events_lost");
	jw_uint(w, l->events_lost);
	jw_key(w, "loss_records");
	jw_uint(w, l->loss_records);
	jw_object_end(w);
	jw_key(w, "segments");
	jw_uint(w, r->segments);
	jw_key(w, "signatures_checked");
	jw_bool(w, r->signatures_checked);
	jw_key(w, "status");
	jw_cstring(w, report_status_name(r->status));
	jw_key(w, "tamper_alerts");
	jw_uint(w, l->tamper_alerts);
	jw_key(w, "trail");
	jw_bytes(w, rp->trail, strlen(rp->trail));
	if (r->entries) {
		jw_key(w, "trail_id");
		jw_cstring(w, r->trail);
	}
	jw_key(w, "warnings");
	jw_array_begin(w);
	for (i = 0; i < r->nwarnings; i++)
		jw_bytes(w, r->warnings[i], strlen(r->warnings[i]));
	jw_array_end(w);
	jw_object_end(w);
}

/* A one-line notice on stderr for a broken trail, so that a responder who
 * redirects stdout still sees it. */
static void notice_broken(const struct replay *rp, const struct verify_result *r)
{
	struct buf b = { 0 };

	if (r->status != VERIFY_BROKEN)
		return;
	report_failure_place(&b, rp->trail, r);
	fflush(stdout);
	if (b.failed)	/* out of memory: the reason alone, unescaped names left out */
		fprintf(stderr, "sealtrail: %s: BROKEN at line %" PRIu64 ": %s (only the %" PRIu64
			" entries before it are used)\n", rp->cmd, r->line, r->reason, r->entries);
	else
		fprintf(stderr, "sealtrail: %s: BROKEN: %.*s (only the %" PRIu64 " entries before "
			"it are used)\n", rp->cmd, (int)b.len, b.data ? b.data : "", r->entries);
	buf_free(&b);
}

/* What verification found, first on stdout: a comment block, or a first JSON
 * line; and the notice on stderr when the trail is broken. */
static int print_verification(struct replay *rp, const struct verify_result *r,
			      const struct replay_limits *l)
{
	struct buf b = { 0 };
	struct jw w;
	int err = 0;

	replay_progress_clear(&rp->progress);
	if (rp->json) {
		jw_init(&w, &b);
		jw_object_begin(&w);
		jw_key(&w, "verification");
		verification_json(&w, rp, r, l);
		jw_object_end(&w);
		buf_putc(&b, '\n');
		err = jw_ok(&w) ? 0 : -ENOMEM;
	} else {
		header_text(&b, rp, r, l);
		err = b.failed ? -ENOMEM : 0;
	}
	if (!err)
		fwrite(b.data, 1, b.len, stdout);
	notice_broken(rp, r);
	buf_free(&b);
	return err;
}

/* ---- options ------------------------------------------------------------------------ */
static void usage(FILE *f, const char *cmd)
{
	fprintf(f,
		"usage: sealtrail %s [--key VERIFY_KEY] [FILTERS] [--json] %s[--color=WHEN] TRAIL\n"
		"filters (all given must match):\n"
		"  --pid N  --ppid N  --uid N  --auid N  --session N  --entity ENTITY_ID\n"
		"  --type ACTION[,ACTION...]  --path PATH (equal or below)\n"
		"  --exe PATH  --comm NAME\n"
		"  --since TIME  --until TIME (UTC: 2026-11-27T02:00[:SS[.f]][Z], 2026-11-27, or\n"
		"                 -30s -15m -1h -2d; since inclusive, until exclusive)\n"
		"  --failed  --tamper\n"
		"other: --live (accept a write in progress at the end)  --progress  --top N\n"
		"exit status: 0 verified, 1 broken (entries before the damage are shown), "
		"2 usage or I/O error\n",
		cmd, strcmp(cmd, "stats") ? "[--tree PID | --summary] " : "");
}

static bool color_wanted(const char *when, bool *ok)
{
	const char *no_color = getenv("NO_COLOR"), *term = getenv("TERM");

	*ok = true;
	if (!when || !strcmp(when, "auto"))
		return isatty(STDOUT_FILENO) && !(no_color && *no_color) &&
		       !(term && !strcmp(term, "dumb"));
	if (!strcmp(when, "always"))
		return true;
	if (!strcmp(when, "never"))
		return false;
	*ok = false;
	return false;
}

static const char *option_name(const struct option *o, int val)
{
	for (; o->name; o++)
		if (o->val == val)
			return o->name;
	return "?";
}

static int parse_count(const char *s, uint64_t *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || *end ? -1 : 0;
}

/* ---- running ------------------------------------------------------------------------ */
static int run_summary(struct replay *rp, struct verify_opts *vo, struct verify_result *r)
{
	struct buf b = { 0 };
	struct jw w;
	int ret;

	replay_stats_init(&rp->stats);
	vo->on_entry = summary_entry;
	vo->ctx = rp;
	verify_trail(rp->trail, vo, r);
	replay_progress_clear(&rp->progress);
	if (rp->err) {
		cli_error(rp->cmd, "out of memory");
		return EXIT_USAGE;
	}
	if (r->status == VERIFY_IO) {
		cli_error(rp->cmd, "cannot read %s: %s", rp->trail, r->reason);
		return EXIT_USAGE;
	}
	ret = r->status == VERIFY_OK ? 0 : EXIT_BAD;
	if (rp->json) {
		jw_init(&w, &b);
		jw_object_begin(&w);
		jw_key(&w, "stats");
		replay_stats_json(&w, &rp->stats, r, rp->top);
		jw_key(&w, "verification");
		verification_json(&w, rp, r, &rp->stats.limits);
		jw_object_end(&w);
		buf_putc(&b, '\n');
		if (!jw_ok(&w)) {
			cli_error(rp->cmd, "out of memory");
			ret = EXIT_USAGE;
		} else {
			fwrite(b.data, 1, b.len, stdout);
		}
		notice_broken(rp, r);
	} else {
		if (print_verification(rp, r, &rp->stats.limits)) {
			cli_error(rp->cmd, "out of memory");
			ret = EXIT_USAGE;
		}
		if (ret != EXIT_USAGE &&
		    replay_stats_text(stdout, &rp->stats, r, rp->top, &rp->style)) {
			cli_error(rp->cmd, "out of memory");
			ret = EXIT_USAGE;
		}
	}
	buf_free(&b);
	return ret;
}

static int run_two_passes(struct replay *rp, struct verify_opts *vo, struct verify_result *r)
{
	struct verify_result *r2 = malloc(sizeof(*r2));
	struct buf b = { 0 };
	long roots = 0;
	bool ran2;
	int ret;

	if (!r2) {
		cli_error(rp->cmd, "out of memory");
		return EXIT_USAGE;
	}
	if (rp->out == OUT_TREE && !(rp->tree = replay_tree_new(rp->tree_pid))) {
		free(r2);
		cli_error(rp->cmd, "out of memory");
		return EXIT_USAGE;
	}

	/* Pass 1: verify; count the limits; learn the tree's shape. */
	vo->on_entry = pass1_entry;
	vo->ctx = rp;
	verify_trail(rp->trail, vo, r);
	replay_progress_clear(&rp->progress);
	if (rp->err) {
		ret = EXIT_USAGE;
		cli_error(rp->cmd, "out of memory");
		goto out;
	}
	if (r->status == VERIFY_IO) {
		ret = EXIT_USAGE;
		cli_error(rp->cmd, "cannot read %s: %s", rp->trail, r->reason);
		goto out;
	}
	ret = r->status == VERIFY_OK ? 0 : EXIT_BAD;
	rp->verified = r->entries;
	rp->last_sequence = r->last_sequence;
	if (print_verification(rp, r, &rp->limits)) {
		ret = EXIT_USAGE;
		cli_error(rp->cmd, "out of memory");
		goto out;
	}
	if (!rp->verified)
		goto out;
	if (rp->out == OUT_TREE && (roots = replay_tree_select(rp->tree, &rp->filter)) < 0) {
		ret = EXIT_USAGE;
		cli_error(rp->cmd, "out of memory");
		goto out;
	}

	/* Pass 2: the same verification again (the trail may be live, or be
	 * changed under us), showing entries up to pass 1's last. */
	rp->seen = 0;
	vo->on_entry = pass2_entry;
	ran2 = rp->out != OUT_TREE || roots > 0;
	if (ran2)
		verify_trail(rp->trail, vo, r2);
	else
		r2->status = VERIFY_STOPPED;
	replay_progress_clear(&rp->progress);
	if (rp->err) {
		ret = EXIT_USAGE;
		cli_error(rp->cmd, "out of memory");
		goto out;
	}
	/* Pass 2 stops where pass 1 did: at the same failure, or (stopped) after
	 * the same last entry. Fewer entries means the trail changed between the
	 * passes: what was shown verified, but not all that pass 1 vouched for. */
	if (ran2 && r2->status == VERIFY_IO) {
		/* Unreadable now (out of memory, a file gone): an error, not a change. */
		fflush(stdout);
		cli_error(rp->cmd, "cannot read %s: %s; %" PRIu64 " entries were shown", rp->trail,
			  r2->reason, rp->seen);
		ret = EXIT_USAGE;
	} else if (ran2 && rp->seen != rp->verified) {
		buf_reset(&b);
		if (r2->status == VERIFY_BROKEN)
			report_failure_place(&b, rp->trail, r2);
		if (r2->status != VERIFY_BROKEN || b.failed) {
			buf_reset(&b);
			buf_puts(&b, r2->status == VERIFY_BROKEN ? r2->reason
								 : "it now holds fewer entries");
		}
		fflush(stdout);
		fprintf(stderr, "sealtrail: %s: the trail changed while it was read: %.*s; "
			"%" PRIu64 " entries were shown\n", rp->cmd, (int)b.len,
			b.data ? b.data : "", rp->seen);
		if (!rp->json)
			printf("# WARNING: the trail changed while it was read: %.*s\n", (int)b.len,
			       b.data ? b.data : "");
		ret = EXIT_BAD;
	}
	if (rp->out == OUT_TREE) {
		if (rp->json) {
			if (replay_tree_json(rp->tree, stdout)) {
				cli_error(rp->cmd, "out of memory");
				ret = EXIT_USAGE;
			}
		} else {
			if (replay_tree_text(rp->tree, stdout, &rp->style)) {
				cli_error(rp->cmd, "out of memory");
				ret = EXIT_USAGE;
			}
		}
	} else if (!rp->json) {
		printf("# %" PRIu64 " of %" PRIu64 " entries matched\n", rp->matched, rp->seen);
	}
out:
	buf_free(&b);
	free(r2);
	return ret;
}

int replay_run(int argc, char **argv, bool summary_command)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ "live", no_argument, NULL, 'l' },
		{ "summary", no_argument, NULL, 's' },
		{ "tree", required_argument, NULL, 'T' },
		{ "top", required_argument, NULL, 'n' },
		{ "color", optional_argument, NULL, 'c' },
		{ "colour", optional_argument, NULL, 'c' },
		{ "progress", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ "pid", required_argument, NULL, OPT_FILTER + RF_PID },
		{ "ppid", required_argument, NULL, OPT_FILTER + RF_PPID },
		{ "uid", required_argument, NULL, OPT_FILTER + RF_UID },
		{ "auid", required_argument, NULL, OPT_FILTER + RF_AUID },
		{ "session", required_argument, NULL, OPT_FILTER + RF_SESSION },
		{ "entity", required_argument, NULL, OPT_FILTER + RF_ENTITY },
		{ "type", required_argument, NULL, OPT_FILTER + RF_TYPE },
		{ "path", required_argument, NULL, OPT_FILTER + RF_PATH },
		{ "exe", required_argument, NULL, OPT_FILTER + RF_EXE },
		{ "comm", required_argument, NULL, OPT_FILTER + RF_COMM },
		{ "since", required_argument, NULL, OPT_FILTER + RF_SINCE },
		{ "until", required_argument, NULL, OPT_FILTER + RF_UNTIL },
		{ "failed", no_argument, NULL, OPT_FILTER + RF_FAILED },
		{ "tamper", no_argument, NULL, OPT_FILTER + RF_TAMPER },
		{ 0 },
	};
	struct replay rp = { .cmd = summary_command ? "stats" : "replay", .top = DEFAULT_TOP };
	struct verify_opts vo = { 0 };
	struct verify_result *r = NULL;
	const char *key_path = NULL, *color = NULL, *why;
	bool summary = summary_command, tree = false, force_progress = false, color_ok;
	struct timespec now;
	uint8_t k0[KEY_LEN];
	uint64_t n;
	int opt, err, ret = EXIT_USAGE;

	clock_gettime(CLOCK_REALTIME, &now);
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'k':
			key_path = optarg;
			break;
		case 'j':
			rp.json = true;
			break;
		case 'l':
			vo.allow_torn_tail = true;
			break;
		case 's':
			summary = true;
			break;
		case 'T':
			if (summary_command || parse_count(optarg, &rp.tree_pid)) {
				cli_error(rp.cmd, summary_command ? "--tree is an option of replay"
								  : "--tree wants a pid");
				goto out;
			}
			tree = true;
			break;
		case 'n':
			if (parse_count(optarg, &n) || n == 0 || n > 1000000) {
				cli_error(rp.cmd, "--top wants a number from 1 to 1000000");
				goto out;
			}
			rp.top = (size_t)n;
			break;
		case 'c':
			color = optarg ? optarg : "always";
			break;
		case 'p':
			force_progress = true;
			break;
		case 'h':
			usage(stdout, rp.cmd);
			ret = 0;
			goto out;
		default:
			if (opt < OPT_FILTER || opt >= OPT_FILTER + RF_NKINDS) {
				usage(stderr, rp.cmd);
				goto out;
			}
			err = replay_filter_set(&rp.filter,
						(enum replay_filter_kind)(opt - OPT_FILTER), optarg,
						&now, &why);
			if (err) {
				cli_error(rp.cmd, "--%s: %s", option_name(longopts, opt), why);
				goto out;
			}
		}
	}
	if (optind + 1 != argc) {
		usage(stderr, rp.cmd);
		goto out;
	}
	rp.trail = argv[optind];
	if (tree && summary) {
		cli_error(rp.cmd, "--tree and --summary are different outputs: choose one");
		goto out;
	}
	if (tree && (rp.filter.given & ~RF_TIME_BITS)) {
		cli_error(rp.cmd, "--tree combines only with --since and --until (a tree shows "
			  "everything its processes did)");
		goto out;
	}
	for (n = 0; n < rp.filter.ntypes; n++)
		if (!replay_action_is_known(rp.filter.types[n].p, rp.filter.types[n].n))
			fprintf(stderr, "sealtrail: %s: warning: --type %.*s is not an action of "
				"docs/EVENTS.md (exec, fork, exit, open, unlink, rename, ...)\n",
				rp.cmd, (int)rp.filter.types[n].n, rp.filter.types[n].p);
	rp.out = tree ? OUT_TREE : summary ? OUT_SUMMARY : OUT_TIMELINE;
	rp.style.color = color_wanted(color, &color_ok) && !rp.json;
	if (!color_ok) {
		cli_error(rp.cmd, "--color wants always, never or auto, not '%s'", color);
		goto out;
	}
	replay_progress_init(&rp.progress, force_progress ||
				     (isatty(STDERR_FILENO) &&
				      replay_progress_trail_bytes(rp.trail) > PROGRESS_MIN_BYTES));
	if (key_path) {
		err = keys_load_verify(key_path, k0);
		if (err) {
			cli_error(rp.cmd, "cannot read the verify key %s: %s", key_path,
				  err == -EINVAL ? "not 64 hex digits" : strerror(-err));
			goto out;
		}
		vo.k0 = k0;
	}
	r = malloc(sizeof(*r));
	rp.arena = jv_arena_new();
	if (!r || !rp.arena) {
		cli_error(rp.cmd, "out of memory");
		goto out;
	}
	if (rp.out == OUT_SUMMARY)
		ret = run_summary(&rp, &vo, r);
	else
		ret = run_two_passes(&rp, &vo, r);
	if (fflush(stdout) || ferror(stdout)) {
		cli_error(rp.cmd, "cannot write the output: %s", strerror(errno));
		ret = EXIT_USAGE;
	}
out:
	explicit_bzero(k0, sizeof(k0));
	replay_filter_free(&rp.filter);
	replay_tree_free(rp.tree);
	if (rp.out == OUT_SUMMARY)
		replay_stats_free(&rp.stats);
	jv_arena_free(rp.arena);
	buf_free(&rp.line);
	free(r);
	return ret;
}

int cmd_replay(int argc, char **argv)
{
	return replay_run(argc, argv, false);
}
