/* replay_event: the fields of one trail event that replay reads (docs/EVENTS.md),
 * taken from the parsed event object. The verifier vouches for the bytes and
 * for canonical JSON, not for the schema: any field may be missing or of
 * another type, and then reads as absent. Nothing here allocates; the view
 * points into the parse tree and lives as long as it. */
#ifndef SEALTRAIL_REPLAY_EVENT_H
#define SEALTRAIL_REPLAY_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "entry.h"
#include "json.h"

/* A string of the event: WTF-8 (json.h), may hold NULs; p is NULL when absent. */
struct rstr {
	const char *p;
	size_t n;
};

struct replay_event {
	const struct jv *root;		/* the event object; NULL if it did not parse */
	uint64_t sequence;		/* of the entry */
	struct timespec time;		/* @timestamp, or the entry's timestamp without one */
	bool time_from_entry;
	struct rstr action, outcome, module, error_code;
	bool has_pid, has_ppid, has_uid, has_auid, has_session;
	uint64_t pid, ppid, uid, auid, session;
	struct rstr entity_id, parent_entity_id, name, executable;
	struct rstr path, original_path, target_path;
	bool tamper;			/* sealtrail.tamper is true */
	bool agent;			/* event.module "sealtrail": the agent's or chain's own */
};

/* Fills ev from the event root (may be NULL) of entry e. */
void replay_event_read(struct replay_event *ev, const struct jv *root, const struct entry *e);

/* The member at a dotted path ("process.parent.pid"), or NULL. */
const struct jv *replay_field(const struct jv *root, const char *dotted);

/* The string at a dotted path; absent ({NULL, 0}) unless it is a string. */
struct rstr replay_field_str(const struct jv *root, const char *dotted);

/* True when s is present and equal to the C string c. */
bool rstr_is(struct rstr s, const char *c);

/* True when both are present and equal. */
bool rstr_eq(struct rstr a, struct rstr b);

/* The sum of the integer leaves of nested objects, e.g. sealtrail.lost
 * ({cause: {action: count}}); saturates rather than wraps. */
uint64_t replay_count_sum(const struct jv *v);

/* -1, 0, 1 as a is before, at or after b. */
int timespec_cmp(const struct timespec *a, const struct timespec *b);

#endif
