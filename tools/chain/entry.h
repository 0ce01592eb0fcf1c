/* entry: one line of a trail, the unit that is hashed, signed and chained.
 *
 *   {"epoch": E, "event": {...}, "hash": H, "prev_hash": P, "sequence": S,
 *    "signature": G, "timestamp": T, "trail": X}
 *
 * The stored line is the canonical JSON of the entry. H is the hex SHA-256 of
 * the canonical JSON of the entry without "hash" and "signature" (the line with
 * those two members cut out); G is the hex HMAC-SHA256 of the 64 characters of H
 * under the key of epoch E. */
#ifndef SEALTRAIL_ENTRY_H
#define SEALTRAIL_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "digest.h"
#include "timefmt.h"

#define TRAIL_ID_LEN 32		/* hex characters of the trail id */
#define ENTRY_MAX_LINE (16u << 20)	/* longer lines are refused */

/* What the writer knows before it writes an entry. */
struct entry_head {
	uint64_t sequence;
	uint64_t epoch;
	char prev_hash[DIGEST_HEX_LEN];
	char trail[TRAIL_ID_LEN];
	char timestamp[TIME_ISO_LEN];
};

/* Appends the line (with its '\n') for `event`, a canonical JSON object, to out,
 * and returns the entry's hash. The bytes are hashed as they are laid down, once.
 * Returns 0 or -ENOMEM. */
int entry_write(struct buf *out, const struct entry_head *h, const char *event, size_t event_len,
		const struct digest_hmac_key *key, char hash_hex[DIGEST_HEX_LEN]);

/* A parsed line; pointers are into the line. */
struct entry {
	uint64_t sequence;
	uint64_t epoch;
	const char *prev_hash;	/* DIGEST_HEX_LEN chars */
	const char *hash;
	const char *signature;
	const char *trail;	/* TRAIL_ID_LEN chars */
	const char *timestamp;
	size_t timestamp_len;
	struct timespec time;
	const char *event;	/* the event object's canonical text */
	size_t event_len;
	/* The bytes the hash covers: the line minus the hash and signature members. */
	struct {
		const char *p;
		size_t n;
	} covered[3];
	size_t ncovered;
};

/* Checks that line (without its '\n') is a canonical entry with every required
 * member well-formed. Returns 0, or -EINVAL with *why set to a static reason
 * and *offset to where in the line (when known). Does not check the hash. */
int entry_parse(const char *line, size_t len, struct entry *e, const char **why, size_t *offset);

/* SHA-256 over the covered bytes, as hex. */
void entry_hash(const struct entry *e, char hash_hex[DIGEST_HEX_LEN]);

/* HMAC of the hash under key, as hex. */
void entry_sign(const struct digest_hmac_key *key, const char hash_hex[DIGEST_HEX_LEN],
		char sig_hex[DIGEST_HEX_LEN]);

bool hex_is_lower(const char *s, size_t n);

#endif
