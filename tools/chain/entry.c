/* entry: writing and parsing trail lines (see entry.h). */
#include "entry.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "json.h"
#include "numfmt.h"

void entry_sign(const struct digest_hmac_key *key, const char hash_hex[DIGEST_HEX_LEN],
		char sig_hex[DIGEST_HEX_LEN])
{
	uint8_t mac[DIGEST_LEN];

	digest_hmac(key, hash_hex, DIGEST_HEX_LEN, mac);
	digest_hex(mac, DIGEST_LEN, sig_hex);
}

/* The line is laid down in one reserved stretch of out, and the three runs of
 * it that the hash covers are hashed as three pieces: fewer, larger SHA-256
 * updates cost less than one per member (this runs once per event). */
int entry_write(struct buf *out, const struct entry_head *h, const char *event, size_t event_len,
		const struct digest_hmac_key *key, char hash_hex[DIGEST_HEX_LEN])
{
	struct digest_sha256 sha;
	uint8_t digest[DIGEST_LEN];
	char *line, *p, *run, *hash_at, *sig_at;
	size_t max;

	/* Members in sorted order; "hash" and "signature" are filled in at the end. */
	max = 10 + 20 + 11 + event_len + 11 + DIGEST_HEX_LEN + 1 + 16 + DIGEST_HEX_LEN + 15 + 20 +
	      16 + DIGEST_HEX_LEN + 1 + 16 + TIME_ISO_LEN + 13 + TRAIL_ID_LEN + 2 + 1;
	if (max < event_len || !(line = buf_reserve(out, max)))
		return -ENOMEM;
	digest_sha256_init(&sha);

	p = line;
	memcpy(p, "{\"epoch\": ", 10);
	p += 10;
	p += fmt_u64(p, h->epoch);
	memcpy(p, ", \"event\": ", 11);
	p += 11;
	memcpy(p, event, event_len);
	p += event_len;
	digest_sha256_update(&sha, line, (size_t)(p - line));

	memcpy(p, ", \"hash\": \"", 11);
	p += 11;
	hash_at = p;
	p += DIGEST_HEX_LEN;
	*p++ = '"';

	run = p;
	memcpy(p, ", \"prev_hash\": \"", 16);
	p += 16;
	memcpy(p, h->prev_hash, DIGEST_HEX_LEN);
	p += DIGEST_HEX_LEN;
	memcpy(p, "\", \"sequence\": ", 15);
	p += 15;
	p += fmt_u64(p, h->sequence);
	digest_sha256_update(&sha, run, (size_t)(p - run));

	memcpy(p, ", \"signature\": \"", 16);
	p += 16;
	sig_at = p;
	p += DIGEST_HEX_LEN;
	*p++ = '"';

	run = p;
	memcpy(p, ", \"timestamp\": \"", 16);
	p += 16;
	memcpy(p, h->timestamp, TIME_ISO_LEN);
	p += TIME_ISO_LEN;
	memcpy(p, "\", \"trail\": \"", 13);
	p += 13;
	memcpy(p, h->trail, TRAIL_ID_LEN);
	p += TRAIL_ID_LEN;
	memcpy(p, "\"}", 2);
	p += 2;
	digest_sha256_update(&sha, run, (size_t)(p - run));
	*p++ = '\n';
	out->len += (size_t)(p - line);

	digest_sha256_final(&sha, digest);
	digest_hex(digest, DIGEST_LEN, hash_hex);
	memcpy(hash_at, hash_hex, DIGEST_HEX_LEN);
	entry_sign(key, hash_hex, sig_at);
	return 0;
}

/* Hex digits are random, so a test per character mispredicts half the time: a
 * table lookup per character and one test at the end cost a fraction of that. */
static const unsigned char is_lower_hex[256] = {
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1,
	['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
};

bool hex_is_lower(const char *s, size_t n)
{
	unsigned ok = 1;
	size_t i;

	for (i = 0; i < n; i++)
		ok &= is_lower_hex[(unsigned char)s[i]];
	return ok;
}

static bool key_is(const struct canon_member *m, const char *k)
{
	size_t n = strlen(k);

	return m->klen == n && !memcmp(m->key, k, n);
}

static bool parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 20 || s[0] == '-')
		return false;
	for (i = 0; i < n; i++) {
		uint64_t d = (uint64_t)(s[i] - '0');

		if (d > 9)	/* true, null, [], {}: not a number */
			return false;
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* A string value of exactly n lowercase hex digits. */
static const char *hex_value(const struct canon_member *m, size_t n)
{
	if (m->vlen != n + 2 || m->val[0] != '"' || !hex_is_lower(m->val + 1, n))
		return NULL;
	return m->val + 1;
}

int entry_parse(const char *line, size_t len, struct entry *e, const char **why, size_t *offset)
{
	struct canon_object top;
	struct json_error jerr;
	const char *cut_from[2], *cut_to[2], *p;
	unsigned seen = 0;
	size_t i, ncut = 0;

	*offset = 0;
	if (json_canon_check(line, len, &top, &jerr)) {
		*why = jerr.msg;
		*offset = jerr.offset;
		return -EINVAL;
	}
	memset(e, 0, sizeof(*e));
	for (i = 0; i < top.n; i++) {
		const struct canon_member *m = &top.m[i];

		*offset = (size_t)(m->key - 1 - line);
		if (key_is(m, "epoch")) {
			if (!parse_u64(m->val, m->vlen, &e->epoch))
				goto bad_epoch;
			seen |= 1;
		} else if (key_is(m, "event")) {
			if (m->val[0] != '{')
				goto bad_event;
			e->event = m->val;
			e->event_len = m->vlen;
			seen |= 2;
		} else if (key_is(m, "hash")) {
			if (!(e->hash = hex_value(m, DIGEST_HEX_LEN)))
				goto bad_hash;
			seen |= 4;
		} else if (key_is(m, "prev_hash")) {
			if (!(e->prev_hash = hex_value(m, DIGEST_HEX_LEN)))
				goto bad_prev;
			seen |= 8;
		} else if (key_is(m, "sequence")) {
			if (!parse_u64(m->val, m->vlen, &e->sequence))
				goto bad_seq;
			seen |= 16;
		} else if (key_is(m, "signature")) {
			if (!(e->signature = hex_value(m, DIGEST_HEX_LEN)))
				goto bad_sig;
			seen |= 32;
		} else if (key_is(m, "timestamp")) {
			if (m->val[0] != '"' ||
			    time_parse_iso(m->val + 1, m->vlen - 2, true, &e->time))
				goto bad_time;
			e->timestamp = m->val + 1;
			e->timestamp_len = m->vlen - 2;
			seen |= 64;
		} else if (key_is(m, "trail")) {
			if (!(e->trail = hex_value(m, TRAIL_ID_LEN)))
				goto bad_trail;
			seen |= 128;
		} else {
			continue;	/* other members are covered by the hash, nothing more */
		}
		/* Remember where "hash" and "signature" sit, with the separator after them:
		 * never last in a complete entry ("trail" sorts after both), and an entry
		 * where one is last lacks "trail" and is refused below. */
		if ((key_is(m, "hash") || key_is(m, "signature")) && i + 1 < top.n) {
			cut_from[ncut] = m->key - 1;
			cut_to[ncut] = m->val + m->vlen + 2;
			ncut++;
		}
	}
	*offset = 0;
	if (seen != 255) {
		static const char *const missing[] = {
			"missing member \"epoch\"",	  "missing member \"event\"",
			"missing member \"hash\"",	  "missing member \"prev_hash\"",
			"missing member \"sequence\"",  "missing member \"signature\"",
			"missing member \"timestamp\"", "missing member \"trail\"",
		};

		for (i = 0; seen & (1u << i); i++)
			;
		*why = missing[i];
		return -EINVAL;
	}
	/* covered = line minus the two cut ranges (in line order). */
	p = line;
	for (i = 0; i < ncut; i++) {
		e->covered[e->ncovered].p = p;
		e->covered[e->ncovered].n = (size_t)(cut_from[i] - p);
		e->ncovered++;
		p = cut_to[i];
	}
	e->covered[e->ncovered].p = p;
	e->covered[e->ncovered].n = (size_t)(line + len - p);
	e->ncovered++;
	return 0;

bad_epoch:
	*why = "\"epoch\" is not an unsigned 64-bit integer";
	return -EINVAL;
bad_event:
	*why = "\"event\" is not an object";
	return -EINVAL;
bad_hash:
	*why = "\"hash\" is not 64 lowercase hex digits";
	return -EINVAL;
bad_prev:
	*why = "\"prev_hash\" is not 64 lowercase hex digits";
	return -EINVAL;
bad_seq:
	*why = "\"sequence\" is not an unsigned 64-bit integer";
	return -EINVAL;
bad_sig:
	*why = "\"signature\" is not 64 lowercase hex digits";
	return -EINVAL;
bad_time:
	*why = "\"timestamp\" is not ISO 8601 UTC (YYYY-MM-DDTHH:MM:SS[.ffffff][Z])";
	return -EINVAL;
bad_trail:
	*why = "\"trail\" is not 32 lowercase hex digits";
	return -EINVAL;
}

void entry_hash(const struct entry *e, char hash_hex[DIGEST_HEX_LEN])
{
	struct digest_sha256 sha;
	uint8_t digest[DIGEST_LEN];
	size_t i;

	digest_sha256_init(&sha);
	for (i = 0; i < e->ncovered; i++)
		digest_sha256_update(&sha, e->covered[i].p, e->covered[i].n);
	digest_sha256_final(&sha, digest);
	digest_hex(digest, DIGEST_LEN, hash_hex);
}
