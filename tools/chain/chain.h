/* chain: the trail writer. Opens (or creates) a trail, continues its chain
 * across restarts, recovers from torn writes, seals epochs, rotates segments,
 * and records every entry it could not write instead of losing it silently.
 *
 * One writer per trail: the trail directory is locked (flock) while open. */
#ifndef SEALTRAIL_CHAIN_H
#define SEALTRAIL_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "digest.h"
#include "entry.h"
#include "segment.h"

#define CHAIN_DEFAULT_SEGMENT_BYTES (64ull << 20)
#define CHAIN_DEFAULT_WRITE_BYTES (256u << 10)

struct chain;

struct chain_opts {
	const char *trail_dir;		/* created (0750) when missing */
	const char *key_dir;		/* holds writer.key */
	uint64_t segment_bytes;		/* rotate at this size; 0 = default */
	size_t write_bytes;		/* write() once this much is buffered; 0 = default */
	/* Each segment closed by a rotation or a recovery is handed here, to be
	 * compressed with segment_compress() now or later (another thread, its own
	 * dirfd). NULL: compressed at once, inline. */
	void (*on_segment_closed)(void *ctx, const char *name);
	void *ctx;
};

/* What chain_open found and did. */
struct chain_status {
	bool created;			/* a new trail */
	int append_only_error;		/* 0, or why chattr +a failed (-EOPNOTSUPP: fs) */
	uint64_t torn_bytes;		/* a torn last line was found and recorded */
	char torn_segment[SEGMENT_NAME_MAX + 8];
	bool completed_seal;		/* an interrupted epoch advance was finished */
	bool key_ahead;			/* writer key's epoch is past the trail's end */
	int compress_error;		/* a leftover compression failed (file kept plain) */
	char last_action[32];		/* event.action of the last entry before opening */
};

struct chain_stats {
	uint64_t next_sequence;
	uint64_t epoch;
	char trail[TRAIL_ID_LEN + 1];
	char last_hash[DIGEST_HEX_LEN + 1];
	char segment[SEGMENT_NAME_MAX];
	uint64_t segment_bytes;		/* bytes in the active segment */
	uint64_t entries_written;	/* by this writer */
	uint64_t bytes_written;
	uint64_t entries_lost;		/* dropped after write errors (all recorded in gaps) */
	uint64_t gaps_recorded;
	int write_error;		/* -errno while writing fails, else 0 */
};

/* Opens the trail, recovering what a crash left behind. Returns 0 and *out, or:
 * -EBUSY (another writer), -ENOENT (no writer.key), -ESTALE (a new trail needs
 * a fresh key: this one has evolved), -EBADMSG (the trail's last entry is not
 * valid: run `sealtrail verify`), -errno. */
int chain_open(struct chain **out, const struct chain_opts *opts, struct chain_status *st);

/* Appends an entry whose event is `event` (canonical JSON object text, e.g. from
 * jw). `tag` names its kind for loss accounting ("exec"); NULL = "event". Entries
 * are buffered and written by size or by chain_flush. Returns 0, or -errno when
 * the entry could not be written; it is then counted in the gap entry that is
 * written as soon as writing works again, and the caller need not keep it. */
int chain_append(struct chain *c, const char *event, size_t len, const char *tag);

/* Writes what is buffered (and fdatasync()s when sync). While writes fail, each
 * call retries: first the record of the gap, then the rest. Returns 0 or -errno. */
int chain_flush(struct chain *c, bool sync);

/* Advances the epoch: writes a seal entry, syncs, evolves and stores the key,
 * erasing the old one. reason: "timer", "rotation", ... Returns 0 or -errno
 * (the epoch does not advance unless the seal entry is on disk). */
int chain_seal(struct chain *c, const char *reason);

/* Seals and starts a new segment, handing the closed one to on_segment_closed. */
int chain_rotate(struct chain *c);

void chain_get_stats(const struct chain *c, struct chain_stats *s);

/* Flushes (with sync), erases the key, unlocks and frees. Does not seal. */
void chain_close(struct chain *c);

#endif
