/* json_canon: one-pass check that a line is exactly canonical JSON.
 *
 * "Canonical" means json_write(json_parse(s)) == s; the unit tests fuzz this
 * scanner against that definition. The scanner exists because the verifier runs
 * it over every byte of a trail and must stay near SHA-256 speed: it builds no
 * tree and copies nothing. */
#include "json.h"

#include <errno.h>

struct scan {
	const unsigned char *s, *p, *end;
	struct json_error *err;
	int depth;
};

static int bad(struct scan *sc, const unsigned char *at, const char *msg)
{
	sc->err->offset = (size_t)(at - sc->s);
	sc->err->msg = msg;
	return -EINVAL;
}

static int hexval_lower(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Reads \uXXXX with lowercase hex at p (6 bytes available); -1 if malformed. */
static long u_escape(const unsigned char *p, const unsigned char *end)
{
	long v = 0;
	int i;

	if (end - p < 6 || p[0] != '\\' || p[1] != 'u')
		return -1;
	for (i = 2; i < 6; i++) {
		int h = hexval_lower(p[i]);

		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/*
 * Decodes one code point of a string already known to be canonical, for key
 * comparison. Returns the number of bytes consumed.
 */
static size_t next_cp(const unsigned char *p, const unsigned char *end, uint32_t *cp)
{
	long u, lo;

	if (*p != '\\') {
		*cp = *p;
		return 1;
	}
	switch (p[1]) {
	case '"': *cp = '"'; return 2;
	case '\\': *cp = '\\'; return 2;
	case 'n': *cp = '\n'; return 2;
	case 'r': *cp = '\r'; return 2;
	case 't': *cp = '\t'; return 2;
	case 'b': *cp = '\b'; return 2;
	case 'f': *cp = '\f'; return 2;
	}
	u = u_escape(p, end);
	if (u >= 0xd800 && u <= 0xdbff) {
		lo = u_escape(p + 6, end);
		if (lo >= 0xdc00 && lo <= 0xdfff) {
			*cp = (uint32_t)(0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00));
			return 12;
		}
	}
	*cp = (uint32_t)u;
	return 6;
}

/* Compares two canonical escaped strings by code points, as Python sorts str. */
static int key_cmp(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
	const unsigned char *ae = a + alen, *be = b + blen;

	while (a < ae && b < be) {
		uint32_t ca, cb;

		if (*a != '\\' && *b != '\\') {
			if (*a != *b)
				return *a < *b ? -1 : 1;
			a++;
			b++;
			continue;
		}
		a += next_cp(a, ae, &ca);
		b += next_cp(b, be, &cb);
		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	return (a < ae) - (b < be);
}

/* Scans a string at sc->p (the opening quote); sets its content span. */
static int scan_string(struct scan *sc, const unsigned char **start, size_t *len)
{
	const unsigned char *p = sc->p + 1, *end = sc->end;

	*start = p;
	for (;;) {
		long u, lo;

		p = json_skip_plain(p, end);
		if (p >= end)
			return bad(sc, sc->p, "unterminated string");
		if (*p == '"')
			break;
		if (*p != '\\')
			return bad(sc, p, "character that canonical JSON escapes");
		if (end - p < 2)
			return bad(sc, p, "unterminated string");
		switch (p[1]) {
		case '"':
		case '\\':
		case 'n':
		case 'r':
		case 't':
		case 'b':
		case 'f':
			p += 2;
			continue;
		case 'u':
			break;
		default:
			return bad(sc, p, "escape that canonical JSON does not use");
		}
		u = u_escape(p, end);
		if (u < 0)
			return bad(sc, p, "\\u escape not in canonical form (lowercase hex)");
		/* Canonical uses \u only where no shorter form exists. */
		if ((u >= 0x20 && u <= 0x7e) || u == '\n' || u == '\r' || u == '\t' ||
		    u == '\b' || u == '\f')
			return bad(sc, p, "\\u escape where canonical JSON has a shorter form");
		p += 6;
		/* A high surrogate directly followed by a low surrogate is one
		 * character (an astral one, written as a pair): fine either way. */
		if (u >= 0xd800 && u <= 0xdbff) {
			lo = u_escape(p, end);
			if (lo >= 0xdc00 && lo <= 0xdfff)
				p += 6;
		}
	}
	*len = (size_t)(p - *start);
	sc->p = p + 1;
	return 0;
}

static int scan_number(struct scan *sc)
{
	const unsigned char *p = sc->p, *start = p, *digits;

	if (*p == '-')
		p++;
	digits = p;
	if (p >= sc->end || *p < '0' || *p > '9')
		return bad(sc, start, "invalid number");
	if (*p == '0') {
		p++;
		if (start != digits)
			return bad(sc, start, "-0 is written 0");
	} else {
		while (p < sc->end && *p >= '0' && *p <= '9')
			p++;
	}
	if ((size_t)(p - digits) > JSON_MAX_DIGITS)
		return bad(sc, start, "integer has too many digits");
	if (p < sc->end && ((*p >= '0' && *p <= '9') || *p == '.' || *p == 'e' || *p == 'E'))
		return bad(sc, start, "not a canonical integer");
	sc->p = p;
	return 0;
}

static int scan_value(struct scan *sc);

static bool expect(struct scan *sc, const char *text, size_t n)
{
	if ((size_t)(sc->end - sc->p) < n || memcmp(sc->p, text, n))
		return false;
	sc->p += n;
	return true;
}

static int scan_object(struct scan *sc, struct canon_object *top)
{
	const unsigned char *prev = NULL, *key;
	size_t prev_len = 0, klen;
	int err;

	sc->p++;
	if (sc->p < sc->end && *sc->p == '}') {
		sc->p++;
		return 0;
	}
	for (;;) {
		const unsigned char *val;

		if (sc->p >= sc->end || *sc->p != '"')
			return bad(sc, sc->p, "expected a key");
		err = scan_string(sc, &key, &klen);
		if (err)
			return err;
		if (prev && key_cmp(prev, prev_len, key, klen) >= 0)
			return bad(sc, key - 1, "keys not in sorted order (or duplicated)");
		prev = key;
		prev_len = klen;
		if (!expect(sc, ": ", 2))
			return bad(sc, sc->p, "expected \": \"");
		val = sc->p;
		err = scan_value(sc);
		if (err)
			return err;
		if (top) {
			if (top->n == CANON_MAX_MEMBERS)
				return bad(sc, key - 1, "too many top-level keys");
			top->m[top->n++] = (struct canon_member){
				.key = (const char *)key,
				.klen = klen,
				.val = (const char *)val,
				.vlen = (size_t)(sc->p - val),
			};
		}
		if (sc->p < sc->end && *sc->p == '}') {
			sc->p++;
			return 0;
		}
		if (!expect(sc, ", ", 2))
			return bad(sc, sc->p, "expected \", \" or '}'");
	}
}

static int scan_array(struct scan *sc)
{
	int err;

	sc->p++;
	if (sc->p < sc->end && *sc->p == ']') {
		sc->p++;
		return 0;
	}
	for (;;) {
		err = scan_value(sc);
		if (err)
			return err;
		if (sc->p < sc->end && *sc->p == ']') {
			sc->p++;
			return 0;
		}
		if (!expect(sc, ", ", 2))
			return bad(sc, sc->p, "expected \", \" or ']'");
	}
}

static int scan_value(struct scan *sc)
{
	const unsigned char *start;
	size_t len;
	int err;

	if (sc->p >= sc->end)
		return bad(sc, sc->p, "unexpected end of line");
	switch (*sc->p) {
	case '{':
	case '[':
		if (++sc->depth > JSON_MAX_DEPTH)
			return bad(sc, sc->p, "nested too deeply");
		err = *sc->p == '{' ? scan_object(sc, NULL) : scan_array(sc);
		sc->depth--;
		return err;
	case '"':
		return scan_string(sc, &start, &len);
	case 't':
		return expect(sc, "true", 4) ? 0 : bad(sc, sc->p, "invalid literal");
	case 'f':
		return expect(sc, "false", 5) ? 0 : bad(sc, sc->p, "invalid literal");
	case 'n':
		return expect(sc, "null", 4) ? 0 : bad(sc, sc->p, "invalid literal");
	default:
		return scan_number(sc);
	}
}

int json_canon_check(const char *s, size_t len, struct canon_object *top, struct json_error *err)
{
	struct json_error dummy;
	struct scan sc = {
		.s = (const unsigned char *)s,
		.p = (const unsigned char *)s,
		.end = (const unsigned char *)s + len,
		.err = err ? err : &dummy,
	};
	int ret;

	top->n = 0;
	if (len == 0 || *sc.p != '{')
		return bad(&sc, sc.p, "not a JSON object");
	sc.depth = 1;
	ret = scan_object(&sc, top);
	if (!ret && sc.p != sc.end)
		ret = bad(&sc, sc.p, "trailing data after the object");
	return ret;
}
