/* json: the chain's JSON. Everything written must agree byte for byte with
 * Python's json.dumps(obj, sort_keys=True) (ensure_ascii, ", " and ": "
 * separators), and everything that writes must be read back exactly.
 *
 * Why our own parser and not cJSON here: cJSON rejects lone surrogates (and
 * "\udcNN" is how invalid UTF-8 bytes of file names are written), ends strings
 * at U+0000, and keeps numbers as doubles, losing 64-bit integers. An audit trail
 * must round-trip all three exactly. cJSON still reads the agent's configuration.
 *
 * Strings here are sequences of code points stored as generalized UTF-8
 * ("WTF-8": a lone surrogate is encoded like any other code point), so they map
 * one to one onto Python's str, and byte order equals code point order.
 * Integers keep their decimal text, so integers of any size round-trip. Floats,
 * NaN and Infinity are refused.
 */
#ifndef SEALTRAIL_JSON_H
#define SEALTRAIL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

#define JSON_MAX_DEPTH 64	/* nesting refused beyond this (Python allows ~1000) */
#define JSON_MAX_DIGITS 4300	/* Python's own limit on int <-> str conversion */

struct json_error {
	size_t offset;		/* byte offset in the input */
	const char *msg;	/* static string */
};

/* 1 for the bytes json_is_plain() accepts: one load instead of four tests in the
 * writer's byte loop, where short strings (keys) spend their time. */
#define JSON_PLAIN_16(c) \
	JSON_PLAIN_1((c) + 0), JSON_PLAIN_1((c) + 1), JSON_PLAIN_1((c) + 2), JSON_PLAIN_1((c) + 3), \
	JSON_PLAIN_1((c) + 4), JSON_PLAIN_1((c) + 5), JSON_PLAIN_1((c) + 6), JSON_PLAIN_1((c) + 7), \
	JSON_PLAIN_1((c) + 8), JSON_PLAIN_1((c) + 9), JSON_PLAIN_1((c) + 10), JSON_PLAIN_1((c) + 11), \
	JSON_PLAIN_1((c) + 12), JSON_PLAIN_1((c) + 13), JSON_PLAIN_1((c) + 14), JSON_PLAIN_1((c) + 15)
#define JSON_PLAIN_1(c) ((c) >= 0x20 && (c) <= 0x7e && (c) != '"' && (c) != '\\')
static const bool json_plain_table[256] = {
	JSON_PLAIN_16(0x00), JSON_PLAIN_16(0x10), JSON_PLAIN_16(0x20), JSON_PLAIN_16(0x30),
	JSON_PLAIN_16(0x40), JSON_PLAIN_16(0x50), JSON_PLAIN_16(0x60), JSON_PLAIN_16(0x70),
	JSON_PLAIN_16(0x80), JSON_PLAIN_16(0x90), JSON_PLAIN_16(0xa0), JSON_PLAIN_16(0xb0),
	JSON_PLAIN_16(0xc0), JSON_PLAIN_16(0xd0), JSON_PLAIN_16(0xe0), JSON_PLAIN_16(0xf0),
};
#undef JSON_PLAIN_1
#undef JSON_PLAIN_16

/* Bytes a canonical string holds as they are: printable ASCII but '"' and '\\'. */
static inline bool json_is_plain(unsigned char c)
{
	return json_plain_table[c];
}

/*
 * Skips the plain bytes at p, eight at a time: a word holds a byte that is not
 * plain when one is below 0x20, above 0x7e, '"' or '\\'. Each test below flags
 * every such byte and may also flag bytes after one (a borrow or carry runs
 * upwards), never before it: so the lowest flag is the first byte that is not
 * plain. Strings are most of a trail's bytes: the writer and the verifier's
 * checker both spend their time here.
 */
static inline const unsigned char *json_skip_plain(const unsigned char *p,
						   const unsigned char *end)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;

	while (end - p >= 8) {
		uint64_t x, q, b, m;

		memcpy(&x, p, 8);
		q = x ^ (ones * '"');
		b = x ^ (ones * '\\');
		m = (((x - ones * 0x20) & ~x) |		/* a byte < 0x20 */
		     ((x + ones * (0x7f - 0x7e)) | x) |	/* a byte > 0x7e */
		     ((q - ones) & ~q) |			/* a '"' */
		     ((b - ones) & ~b)) & high;		/* a '\\' */
		if (m) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			return p + (__builtin_ctzll(m) >> 3);
#else
			break;
#endif
		}
		p += 8;
	}
	while (p < end && json_is_plain(*p))
		p++;
	return p;
}

/* ---- streaming canonical writer ------------------------------------------
 * The caller emits members of each object in sorted key order; jw checks that
 * (and nesting) and marks the writer bad on misuse, so a bug can never produce
 * a non-canonical entry: check jw_ok() before using the output. Keys passed to
 * jw_key must stay valid until their object ends. */
struct jw {
	struct buf *out;
	int depth;
	bool bad;
	bool top_written;
	bool want_value;		/* a key was written, its value is due */
	bool first[JSON_MAX_DEPTH];
	bool is_object[JSON_MAX_DEPTH];
	const char *last_key[JSON_MAX_DEPTH];
	size_t last_klen[JSON_MAX_DEPTH];
};

void jw_init(struct jw *w, struct buf *out);
void jw_object_begin(struct jw *w);
void jw_object_end(struct jw *w);
void jw_array_begin(struct jw *w);
void jw_array_end(struct jw *w);
void jw_keyn(struct jw *w, const char *key, size_t len);
/* jw_keyn() for a key known to hold plain bytes only (json_is_plain()): written as it
 * is, unchecked. Through jw_key() only. */
void jw_key_plain(struct jw *w, const char *key, size_t len);

/* Whether the first n (at most JSON_LIT_MAX) bytes of s are plain, as one expression
 * without a loop: for a string literal and a constant n, the compiler folds it to a
 * constant. Each index is kept within s. */
#define JSON_LIT_MAX 24
#define JSON_PLAIN_AT(s, n, i) \
	((i) >= (n) || json_plain_table[(unsigned char)(s)[(i) < (n) ? (i) : 0]])
#define JSON_PLAIN_8(s, n, i) \
	(JSON_PLAIN_AT(s, n, (i) + 0) && JSON_PLAIN_AT(s, n, (i) + 1) && \
	 JSON_PLAIN_AT(s, n, (i) + 2) && JSON_PLAIN_AT(s, n, (i) + 3) && \
	 JSON_PLAIN_AT(s, n, (i) + 4) && JSON_PLAIN_AT(s, n, (i) + 5) && \
	 JSON_PLAIN_AT(s, n, (i) + 6) && JSON_PLAIN_AT(s, n, (i) + 7))
#define JSON_PLAIN_LIT(s, n) \
	((n) <= JSON_LIT_MAX && JSON_PLAIN_8(s, n, 0) && JSON_PLAIN_8(s, n, 8) && \
	 JSON_PLAIN_8(s, n, 16))

/* Inline so that, for a literal key (nearly every key the agent writes), the length and
 * whether the key is plain fold to constants at compile time: the writer then skips the
 * scan of each key's bytes at run time (a tenth of the agent's formatting time). Where
 * they do not fold (a key that is not a literal, or no optimisation), jw_keyn() checks. */
static inline __attribute__((always_inline)) void jw_key(struct jw *w, const char *key)
{
	size_t n = strlen(key);

	if (__builtin_constant_p(JSON_PLAIN_LIT(key, n)) && JSON_PLAIN_LIT(key, n))
		jw_key_plain(w, key, n);
	else
		jw_keyn(w, key, n);
}

void jw_int(struct jw *w, int64_t v);
void jw_uint(struct jw *w, uint64_t v);
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);
/* A string of code points (WTF-8), e.g. from json_parse. */
void jw_string(struct jw *w, const char *s, size_t len);
static inline void jw_cstring(struct jw *w, const char *s)
{
	jw_string(w, s, strlen(s));
}
/* Raw bytes (file names, argv): valid UTF-8 sequences are characters, every
 * other byte 0xNN becomes U+DCNN, as Python's surrogateescape does. */
void jw_bytes(struct jw *w, const void *p, size_t len);
/* Splices a value that is already canonical JSON text. */
void jw_raw(struct jw *w, const char *json, size_t len);
/* True when the output is complete, well nested, in order and fully allocated. */
bool jw_ok(const struct jw *w);

/* Appends the quoted, escaped form of s. raw_bytes: as jw_bytes, else as jw_string. */
void json_write_string(struct buf *b, const char *s, size_t len, bool raw_bytes);

/* ---- tree ------------------------------------------------------------------ */
enum jv_type { JV_NULL, JV_FALSE, JV_TRUE, JV_INT, JV_STRING, JV_ARRAY, JV_OBJECT };

struct jv;
struct jv_member {
	const char *key;	/* WTF-8 */
	size_t klen;
	struct jv *val;
};

struct jv {
	enum jv_type type;
	size_t n;		/* string/int: bytes; array: items; object: members */
	union {
		const char *str;	/* JV_STRING (WTF-8) and JV_INT (canonical digits) */
		struct jv **items;
		struct jv_member *members;	/* sorted by key, no duplicates */
	};
};

/* All nodes of a parse live in an arena, freed at once. */
struct jv_arena;
struct jv_arena *jv_arena_new(void);
void jv_arena_reset(struct jv_arena *a);
void jv_arena_free(struct jv_arena *a);

/* Parses one JSON text (surrounding whitespace allowed). Strict: valid UTF-8
 * only, no duplicate keys, no floats. Returns 0, -EINVAL (err says where and why)
 * or -ENOMEM. */
int json_parse(struct jv_arena *a, const char *s, size_t len, struct jv **out,
	       struct json_error *err);

/* Appends the canonical text of v. */
void json_write(struct buf *b, const struct jv *v);

/* Nesting depth: 0 for a scalar, 1 for an empty object or array. */
int jv_depth(const struct jv *v);

/* Member lookup in an object (NULL if absent or v is not an object). */
const struct jv *jv_get(const struct jv *v, const char *key);
/* Typed reads: false when the type or range does not fit. */
bool jv_to_u64(const struct jv *v, uint64_t *out);
bool jv_to_i64(const struct jv *v, int64_t *out);
/* NUL-free strings only: false for other types or embedded NUL. */
bool jv_is_string(const struct jv *v, const char *s);

/* ---- canonical check -------------------------------------------------------
 * The verifier's fast path: checks in one pass, without building a tree, that
 * s is exactly the canonical text of a JSON object (equivalently:
 * json_write(json_parse(s)) == s), and records the top-level members. */
#define CANON_MAX_MEMBERS 16

struct canon_member {
	const char *key;	/* escaped key text between the quotes */
	size_t klen;
	const char *val;	/* value text */
	size_t vlen;
};

struct canon_object {
	size_t n;
	struct canon_member m[CANON_MAX_MEMBERS];
};

/* Returns 0 or -EINVAL with err set. More than CANON_MAX_MEMBERS top-level
 * members is refused. */
int json_canon_check(const char *s, size_t len, struct canon_object *top, struct json_error *err);

#endif
