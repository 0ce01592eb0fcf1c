/* record: the entries the chain writes about itself. Their event objects are
 * part of the format (docs/FORMAT.md), because the verifier relies on them:
 *
 *   epoch-seal     last entry of an epoch; the next entry is in next_epoch
 *   trail-recover  first entry of a segment started after a torn write; names
 *                  the torn bytes (and any entries lost with them)
 *   trail-gap      entries that could not be written (disk full, I/O error)
 */
#ifndef SEALTRAIL_RECORD_H
#define SEALTRAIL_RECORD_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include "buf.h"
#include "digest.h"
#include "entry.h"
#include "json.h"

#define RECORD_MAX_TAGS 16
#define RECORD_TAG_MAX 24

enum record_kind { RECORD_NONE, RECORD_SEAL, RECORD_RECOVER, RECORD_GAP };

struct record_torn {
	char segment[64];		/* the segment (file) holding the torn bytes */
	uint64_t bytes;
	uint8_t sha256[DIGEST_LEN];
};

struct record_gap {
	uint64_t entries;		/* entries that were not written */
	int error;			/* -errno that stopped them */
	struct timespec first, last;	/* when the first and last of them came */
	size_t ntags;
	struct {
		char tag[RECORD_TAG_MAX];
		uint64_t count;
	} tags[RECORD_MAX_TAGS];
};

/* Opens an event object of the agent or the chain and writes its "event"
 * member: {"event": {"action": ACTION, "kind": "state", "module": "sealtrail"}.
 * The caller adds the members that sort after "event" and closes it. */
void record_event_head(struct jw *w, const char *action);

/* Counts one lost entry of kind tag at time now. */
void record_gap_count(struct record_gap *g, const char *tag, const struct timespec *now);

/* Event texts (canonical JSON objects), appended to out. */
void record_seal_event(struct buf *out, uint64_t next_epoch, const char *reason);
void record_recover_event(struct buf *out, const struct record_torn *torn,
			  const struct record_gap *gap);
void record_gap_event(struct buf *out, const struct record_gap *gap);

/* What a parsed chain record says. */
struct record_info {
	enum record_kind kind;
	uint64_t next_epoch;		/* SEAL */
	bool has_torn;			/* RECOVER */
	char torn_segment[64];
	uint64_t torn_bytes;
	char torn_sha256[DIGEST_HEX_LEN];
	uint64_t gap_entries;		/* RECOVER or GAP */
};

/* Classifies an entry; RECORD_NONE for ordinary events. A record of a known
 * kind with malformed members is -EINVAL. Returns 0 or -errno. */
int record_parse(const struct entry *e, struct jv_arena *a, struct record_info *out);

/* The cheap test record_parse() starts with: false means RECORD_NONE for sure. */
bool record_maybe(const struct entry *e);

#endif
