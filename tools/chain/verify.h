/* verify: checks a whole trail offline and says where it first breaks.
 * Used by `sealtrail verify` and, through on_entry, by replay (which shows the
 * entries that verified, and then the failure). */
#ifndef SEALTRAIL_VERIFY_H
#define SEALTRAIL_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "digest.h"
#include "entry.h"
#include "keys.h"
#include "segment.h"

/* An entry's sequence and hash recorded elsewhere: the trail must still hold it. */
struct verify_anchor {
	uint64_t sequence;
	char hash[DIGEST_HEX_LEN];
	bool found;
};

/* An entry that verified, handed to on_entry. Valid during the call only. */
struct verify_entry {
	const struct entry *e;
	const char *line;
	size_t len;
	const char *segment;
	uint64_t line_no;
};

struct verify_opts {
	const uint8_t *k0;		/* NULL: check hashes and chain, not signatures */
	struct verify_anchor *anchors;
	size_t nanchors;
	int (*on_entry)(void *ctx, const struct verify_entry *ve);	/* non-zero stops */
	void *ctx;
	/* A live trail may end in a write in progress: accept a torn tail with a
	 * warning instead of failing. */
	bool allow_torn_tail;
};

enum verify_status {
	VERIFY_OK = 0,			/* the whole trail holds */
	VERIFY_BROKEN = 1,		/* integrity failure at the place given */
	VERIFY_IO = 2,			/* could not read the trail */
	VERIFY_STOPPED = 3,		/* on_entry asked to stop */
};

#define VERIFY_MAX_WARNINGS 16
#define VERIFY_WARNING_LEN 200

struct verify_result {
	enum verify_status status;
	/* The first bad place (BROKEN) or what could not be read (IO): a segment's name,
	 * or "" when it is the trail itself (cannot be read, holds no entries). */
	char segment[SEGMENT_NAME_MAX + 8];
	uint64_t line;			/* 0 when the problem is the segment itself */
	bool has_sequence;
	uint64_t sequence;
	char reason[256];

	/* What was validated (up to the first bad place). */
	bool signatures_checked;
	uint64_t entries, segments, bytes;
	uint64_t first_sequence, last_sequence;
	uint64_t first_epoch, last_epoch;
	char first_time[TIME_ISO_LEN + 1], last_time[TIME_ISO_LEN + 1];
	char trail[TRAIL_ID_LEN + 1];
	char last_hash[DIGEST_HEX_LEN + 1];
	uint64_t seals, recoveries, gaps, gap_entries;
	size_t anchors_checked;
	/* An incomplete last write at the very end: a crash, not tampering. */
	uint64_t torn_tail_bytes;
	char torn_tail_segment[SEGMENT_NAME_MAX];

	size_t nwarnings;
	uint64_t more_warnings;
	char warnings[VERIFY_MAX_WARNINGS][VERIFY_WARNING_LEN];
};

/* Verifies the trail in dir. Returns the status (also in r->status). Lines may be
 * checked ahead on helper threads (one per further CPU the process may run on);
 * on_entry is always called on the calling thread, in chain order. */
enum verify_status verify_trail(const char *dir, const struct verify_opts *o,
				struct verify_result *r);

#endif
