/* lifecycle: the agent's own entries in the trail (docs/EVENTS.md): start, stop,
 * configuration reloads and losses. Each function appends one canonical event
 * object to out. */
#ifndef SEALTRAIL_LIFECYCLE_H
#define SEALTRAIL_LIFECYCLE_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "buf.h"
#include "capture.h"
#include "sealtrail/event.h"

/* Agent-side loss causes, after the kernel's (enum st_loss_cause). */
enum agent_loss_cause {
	AGENT_LOSS_DECODE = ST_LOSS_CAUSE_MAX,	/* a record that could not be decoded */
	AGENT_LOSS_CAUSE_MAX,
};
#define AGENT_LOSS_SLOTS (AGENT_LOSS_CAUSE_MAX * ST_TYPE_MAX)

struct start_info {
	const char *boot_id, *hostname, *kernel, *version, *config_digest;
	uint32_t pid;
	const struct capture_program_info *programs;
	size_t nprograms;
	const char *previous_run;	/* "first", "clean", "unclean" */
	const char *previous_action;	/* the last entry's action before this start */
	uint64_t previous_sequence;	/* the last sequence before this start */
	bool append_only;
	uint64_t torn_bytes;		/* recovered at open */
};

struct run_stats {
	uint64_t events;		/* entries appended for captured events */
	uint64_t lost[AGENT_LOSS_SLOTS];
	uint64_t entries_lost;		/* dropped by the chain (write errors) */
	uint64_t backlog_peak_bytes;	/* memory the backlog held at most */
	uint64_t backlog_full_waits;	/* 10 ms waits at its bound (the ring filled) */
};

void lifecycle_start(struct buf *out, const struct start_info *si);
void lifecycle_stop(struct buf *out, const struct run_stats *rs, const char *signal);
void lifecycle_reload(struct buf *out, const char *digest, const char *error);

/* `delta` holds the increases since the last call, [cause * ST_TYPE_MAX + type]. */
void lifecycle_lost(struct buf *out, const uint64_t delta[AGENT_LOSS_SLOTS], const char *since,
		    const char *until);

/* event.action of a record type ("open"), for loss accounting. */
const char *lifecycle_type_name(unsigned int type);
const char *lifecycle_cause_name(unsigned int cause);
bool lifecycle_cause_is_loss(unsigned int cause);

#endif
