/* replay_stats: the aureport-like summary of a trail (sealtrail stats, replay
 * --summary), and the trail's statements about its own completeness, which
 * replay prints before any event. Memory grows with distinct actions,
 * executables and users (each table capped), never with events. */
#ifndef SEALTRAIL_REPLAY_STATS_H
#define SEALTRAIL_REPLAY_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "json.h"
#include "replay_event.h"
#include "replay_text.h"
#include "strmap.h"
#include "verify.h"

/* What the trail says it is missing, and attempts to touch it. Counted over
 * every verified entry, whatever the filters: a filtered view must not hide
 * the limits of the evidence. */
struct replay_limits {
	uint64_t loss_records;		/* events-lost entries */
	uint64_t events_lost;		/* the events they count */
	uint64_t events_degraded;	/* written with incomplete fields */
	uint64_t tamper_alerts;		/* events with sealtrail.tamper */
};

/* True when the entry's event text may matter to replay_limits_add, so that
 * a caller can skip parsing the others. */
bool replay_limits_relevant(const char *event, size_t len);
void replay_limits_add(struct replay_limits *l, const struct replay_event *ev);

struct replay_stats {
	uint64_t entries;		/* verified entries seen */
	uint64_t events;		/* events that passed the filters */
	bool has_time;
	struct timespec first, last;	/* of those events */
	struct strmap actions, outcomes, executables, users, loss_causes;
	uint64_t exec_unknown;		/* exec events without process.executable */
	uint64_t overflow;		/* counts not kept: a table was full */
	struct replay_limits limits;
	int err;			/* -ENOMEM once something could not be counted */
};

void replay_stats_init(struct replay_stats *s);
/* Every verified entry (for the limits and the entry count). */
void replay_stats_entry(struct replay_stats *s, const struct replay_event *ev);
/* An event that passed the filters. */
void replay_stats_event(struct replay_stats *s, const struct replay_event *ev);
/* The summary as text; prints nothing and returns -ENOMEM when memory runs out. */
int replay_stats_text(FILE *f, const struct replay_stats *s, const struct verify_result *r,
		      size_t top, const struct rtext_style *st);
/* The summary, as the value of the key just written to w. */
void replay_stats_json(struct jw *w, const struct replay_stats *s, const struct verify_result *r,
		       size_t top);
void replay_stats_free(struct replay_stats *s);

#endif
