/* replay_filter: which events replay shows. Filters are given as options
 * (like ausearch's) and ANDed; an event lacking the field a filter asks about
 * does not match it. Strings given on the command line are bytes and are
 * turned into the trail's WTF-8 form (invalid UTF-8 bytes as U+DC80..U+DCFF,
 * FORMAT.md section 3) so that any file name, even an undecodable one, can be
 * asked for exactly. */
#ifndef SEALTRAIL_REPLAY_FILTER_H
#define SEALTRAIL_REPLAY_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "buf.h"
#include "replay_event.h"

enum replay_filter_kind {
	RF_PID,		/* process.pid (for fork: the child) */
	RF_PPID,	/* process.parent.pid */
	RF_UID,		/* user.id */
	RF_AUID,	/* user.audit.id (login uid) */
	RF_SESSION,	/* user.audit.session */
	RF_ENTITY,	/* process.entity_id */
	RF_TYPE,	/* event.action, one of a list */
	RF_PATH,	/* a file the event is about, equal or below */
	RF_EXE,		/* process.executable, equal */
	RF_COMM,	/* process.name, equal */
	RF_SINCE,	/* the event's time >= */
	RF_UNTIL,	/* the event's time < */
	RF_FAILED,	/* event.outcome is "failure" */
	RF_TAMPER,	/* sealtrail.tamper is true */
	RF_NKINDS,
};

#define RF_BIT(kind) (1u << (kind))
#define RF_TIME_BITS (RF_BIT(RF_SINCE) | RF_BIT(RF_UNTIL))

struct replay_filter {
	unsigned given;			/* RF_BIT of each filter set */
	uint64_t pid, ppid, uid, auid, session;
	struct buf entity, path, exe, comm;	/* WTF-8 */
	struct rstr *types;		/* WTF-8, into type_text */
	size_t ntypes;
	struct buf type_text;
	struct timespec since, until;
};

/* Sets the filter `kind` from an option's argument (ignored for flags); now is
 * what relative times count back from. --type may be given several times (the
 * lists add up); any other filter twice is an error. Returns 0, or -EINVAL /
 * -EEXIST / -ENOMEM with *why set to a static explanation. */
int replay_filter_set(struct replay_filter *f, enum replay_filter_kind kind, const char *arg,
		      const struct timespec *now, const char **why);

/* True when the event passes every filter. Chain bookkeeping (epoch-seal, one
 * a minute) never matches unless --type names it. */
bool replay_filter_match(const struct replay_filter *f, const struct replay_event *ev);

/* True when the event is inside --since/--until (other filters ignored). */
bool replay_filter_in_window(const struct replay_filter *f, const struct replay_event *ev);

void replay_filter_free(struct replay_filter *f);

/* Parses a time given by a user: ISO 8601 in UTC (YYYY-MM-DD, YYYY-MM-DDTHH:MM,
 * YYYY-MM-DDTHH:MM:SS[.fraction][Z], a space allowed for the T), "now", or
 * relative to now: -30s, -15m, -1h, -2d. Returns 0 or -EINVAL. */
int replay_time_parse(const char *s, const struct timespec *now, struct timespec *out);

/* Appends the WTF-8 form of bytes s: valid UTF-8 as is, other bytes as U+DCxx. */
void replay_wtf8_from_bytes(struct buf *out, const char *s, size_t n);

/* True for the actions of docs/EVENTS.md (to warn about a misspelt --type). */
bool replay_action_is_known(const char *s, size_t n);

#endif
