/* json_parse: a strict JSON parser into an arena-allocated tree (see json.h). */
#include "json.h"

#include <errno.h>
#include <stdlib.h>
#include "utf8.h"

/* ---- arena ------------------------------------------------------------------ */
#define ARENA_BLOCK (64 * 1024)

struct arena_block {
	struct arena_block *next;
	size_t used, size;
	_Alignas(16) char data[];
};

struct jv_arena {
	struct arena_block *head;
};

struct jv_arena *jv_arena_new(void)
{
	return calloc(1, sizeof(struct jv_arena));
}

static void *arena_alloc(struct jv_arena *a, size_t n)
{
	struct arena_block *b = a->head;
	size_t need = (n + 15) & ~(size_t)15;

	if (need < n)
		return NULL;
	if (!b || b->size - b->used < need) {
		size_t size = need > ARENA_BLOCK ? need : ARENA_BLOCK;

		b = malloc(sizeof(*b) + size);
		if (!b)
			return NULL;
		b->used = 0;
		b->size = size;
		b->next = a->head;
		a->head = b;
	}
	b->used += need;
	return b->data + b->used - need;
}

void jv_arena_reset(struct jv_arena *a)
{
	struct arena_block *b, *next;

	if (!a)
		return;
	/* Keep one standard block for reuse: replay parses millions of small events. */
	for (b = a->head; b; b = next) {
		next = b->next;
		if (!next && b->size == ARENA_BLOCK) {
			b->used = 0;
			a->head = b;
			return;
		}
		free(b);
	}
	a->head = NULL;
}

void jv_arena_free(struct jv_arena *a)
{
	struct arena_block *b, *next;

	if (!a)
		return;
	for (b = a->head; b; b = next) {
		next = b->next;
		free(b);
	}
	free(a);
}

/* ---- parser ----------------------------------------------------------------- */
struct parser {
	struct jv_arena *a;
	const unsigned char *s, *p, *end;
	struct json_error *err;
	int depth;
	bool nomem;
	/* Scratch stacks: members and items of the objects/arrays being parsed. */
	struct jv_member *mstack;
	size_t mlen, mcap;
	struct jv **istack;
	size_t ilen, icap;
};

static int fail(struct parser *ps, const unsigned char *at, const char *msg)
{
	ps->err->offset = (size_t)(at - ps->s);
	ps->err->msg = msg;
	return -EINVAL;
}

static int nomem(struct parser *ps)
{
	ps->nomem = true;
	ps->err->offset = (size_t)(ps->p - ps->s);
	ps->err->msg = "out of memory";
	return -ENOMEM;
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static struct jv *new_value(struct parser *ps, enum jv_type t)
{
	struct jv *v = arena_alloc(ps->a, sizeof(*v));

	if (v) {
		v->type = t;
		v->n = 0;
		v->str = NULL;
	}
	return v;
}

static int hex4(const unsigned char *p, uint32_t *out)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		unsigned char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* Parses a string at ps->p (on the opening quote) into WTF-8. */
static int parse_string(struct parser *ps, const char **out, size_t *out_len)
{
	const unsigned char *q = ps->p + 1, *start = q;
	char *dst, *d;

	/* First pass: find the closing quote; the decoded form is never longer. */
	while (q < ps->end && *q != '"') {
		if (*q == '\\')
			q++;
		q++;
	}
	if (q >= ps->end)
		return fail(ps, ps->p, "unterminated string");
	dst = d = arena_alloc(ps->a, (size_t)(q - start) + 1);
	if (!dst)
		return nomem(ps);

	for (q = start; *q != '"';) {
		unsigned char c = *q;
		uint32_t cp, lo;
		size_t n;

		if (c < 0x20)
			return fail(ps, q, "control character in string");
		if (c < 0x80 && c != '\\') {
			*d++ = (char)c;
			q++;
			continue;
		}
		if (c >= 0x80) {
			n = utf8_decode(q, (size_t)(ps->end - q), false, &cp);
			if (!n)
				return fail(ps, q, "invalid UTF-8");
			memcpy(d, q, n);
			d += n;
			q += n;
			continue;
		}
		/* An escape. */
		switch (q[1]) {
		case '"': *d++ = '"'; q += 2; continue;
		case '\\': *d++ = '\\'; q += 2; continue;
		case '/': *d++ = '/'; q += 2; continue;
		case 'b': *d++ = '\b'; q += 2; continue;
		case 'f': *d++ = '\f'; q += 2; continue;
		case 'n': *d++ = '\n'; q += 2; continue;
		case 'r': *d++ = '\r'; q += 2; continue;
		case 't': *d++ = '\t'; q += 2; continue;
		case 'u':
			break;
		default:
			return fail(ps, q, "invalid escape");
		}
		if (ps->end - q < 6 || hex4(q + 2, &cp))
			return fail(ps, q, "invalid \\u escape");
		q += 6;
		/* A high surrogate followed by a low one is one astral character, as in
		 * Python's decoder; any other surrogate stays a lone code point. */
		if (cp >= 0xd800 && cp <= 0xdbff && ps->end - q >= 6 && q[0] == '\\' &&
		    q[1] == 'u' && !hex4(q + 2, &lo) && lo >= 0xdc00 && lo <= 0xdfff) {
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			q += 6;
		}
		d += utf8_encode(cp, d);
	}
	ps->p = q + 1;
	*out = dst;
	*out_len = (size_t)(d - dst);
	return 0;
}

static int parse_number(struct parser *ps, struct jv **out)
{
	const unsigned char *start = ps->p, *q = ps->p, *digits;
	struct jv *v;
	size_t n;

	if (*q == '-')
		q++;
	digits = q;
	if (q >= ps->end || *q < '0' || *q > '9')
		return fail(ps, start, "invalid number");
	if (*q == '0')
		q++;
	else
		while (q < ps->end && *q >= '0' && *q <= '9')
			q++;
	if (q < ps->end && (*q == '.' || *q == 'e' || *q == 'E'))
		return fail(ps, start, "floats are not allowed (integers only)");
	if (q < ps->end && *q >= '0' && *q <= '9')
		return fail(ps, start, "invalid number (leading zero)");
	if ((size_t)(q - digits) > JSON_MAX_DIGITS)
		return fail(ps, start, "integer has too many digits");
	v = new_value(ps, JV_INT);
	if (!v)
		return nomem(ps);
	/* -0 is the integer 0, which json.dumps writes as "0". */
	if (q - digits == 1 && *digits == '0')
		start = digits;
	n = (size_t)(q - start);
	v->str = (const char *)start;
	v->n = n;
	/* Point into the arena, not the caller's buffer: trees outlive input lines. */
	{
		char *copy = arena_alloc(ps->a, n);

		if (!copy)
			return nomem(ps);
		memcpy(copy, start, n);
		v->str = copy;
	}
	ps->p = q;
	*out = v;
	return 0;
}

static int parse_literal(struct parser *ps, struct jv **out)
{
	static const struct {
		const char *text;
		size_t len;
		enum jv_type type;
	} lits[] = { { "true", 4, JV_TRUE }, { "false", 5, JV_FALSE }, { "null", 4, JV_NULL } };
	size_t i;

	for (i = 0; i < sizeof(lits) / sizeof(lits[0]); i++) {
		if ((size_t)(ps->end - ps->p) >= lits[i].len &&
		    !memcmp(ps->p, lits[i].text, lits[i].len)) {
			*out = new_value(ps, lits[i].type);
			if (!*out)
				return nomem(ps);
			ps->p += lits[i].len;
			return 0;
		}
	}
	if (*ps->p == 'N' || *ps->p == 'I' || (*ps->p == '-' && ps->end - ps->p > 1 && ps->p[1] == 'I'))
		return fail(ps, ps->p, "NaN and Infinity are not allowed");
	return fail(ps, ps->p, "expected a JSON value");
}

static int member_cmp(const void *x, const void *y)
{
	const struct jv_member *a = x, *b = y;
	int c = memcmp(a->key, b->key, a->klen < b->klen ? a->klen : b->klen);

	if (c)
		return c;
	return a->klen < b->klen ? -1 : a->klen > b->klen;
}

static int parse_value(struct parser *ps, struct jv **out);

static int push_member(struct parser *ps, const struct jv_member *m)
{
	if (ps->mlen == ps->mcap) {
		size_t cap = ps->mcap ? ps->mcap * 2 : 32;
		struct jv_member *n = realloc(ps->mstack, cap * sizeof(*n));

		if (!n)
			return nomem(ps);
		ps->mstack = n;
		ps->mcap = cap;
	}
	ps->mstack[ps->mlen++] = *m;
	return 0;
}

static int push_item(struct parser *ps, struct jv *v)
{
	if (ps->ilen == ps->icap) {
		size_t cap = ps->icap ? ps->icap * 2 : 32;
		struct jv **n = realloc(ps->istack, cap * sizeof(*n));

		if (!n)
			return nomem(ps);
		ps->istack = n;
		ps->icap = cap;
	}
	ps->istack[ps->ilen++] = v;
	return 0;
}

static int parse_object(struct parser *ps, struct jv **out)
{
	const unsigned char *open = ps->p;
	size_t base = ps->mlen, n, i;
	struct jv *v;
	int err;

	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '}') {
		ps->p++;
		goto done;
	}
	for (;;) {
		struct jv_member m;

		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != '"')
			return fail(ps, ps->p, "expected a string key");
		err = parse_string(ps, &m.key, &m.klen);
		if (err)
			return err;
		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != ':')
			return fail(ps, ps->p, "expected ':'");
		ps->p++;
		err = parse_value(ps, &m.val);
		if (err)
			return err;
		err = push_member(ps, &m);
		if (err)
			return err;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == '}') {
			ps->p++;
			break;
		}
		return fail(ps, ps->p, "expected ',' or '}'");
	}
done:
	n = ps->mlen - base;
	v = new_value(ps, JV_OBJECT);
	if (!v)
		return nomem(ps);
	v->n = n;
	v->members = n ? arena_alloc(ps->a, n * sizeof(struct jv_member)) : NULL;
	if (n && !v->members)
		return nomem(ps);
	if (n) {
		memcpy(v->members, ps->mstack + base, n * sizeof(struct jv_member));
		qsort(v->members, n, sizeof(struct jv_member), member_cmp);
	}
	ps->mlen = base;
	for (i = 1; i < n; i++)
		if (!member_cmp(&v->members[i - 1], &v->members[i]))
			return fail(ps, open, "duplicate key in object");
	*out = v;
	return 0;
}

static int parse_array(struct parser *ps, struct jv **out)
{
	size_t base = ps->ilen, n;
	struct jv *v, *item;
	int err;

	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == ']') {
		ps->p++;
		goto done;
	}
	for (;;) {
		err = parse_value(ps, &item);
		if (err)
			return err;
		err = push_item(ps, item);
		if (err)
			return err;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == ']') {
			ps->p++;
			break;
		}
		return fail(ps, ps->p, "expected ',' or ']'");
	}
done:
	n = ps->ilen - base;
	v = new_value(ps, JV_ARRAY);
	if (!v)
		return nomem(ps);
	v->n = n;
	v->items = n ? arena_alloc(ps->a, n * sizeof(struct jv *)) : NULL;
	if (n && !v->items)
		return nomem(ps);
	if (n)
		memcpy(v->items, ps->istack + base, n * sizeof(struct jv *));
	ps->ilen = base;
	*out = v;
	return 0;
}

static int parse_value(struct parser *ps, struct jv **out)
{
	int err;

	skip_ws(ps);
	if (ps->p >= ps->end)
		return fail(ps, ps->p, "unexpected end of input");
	switch (*ps->p) {
	case '{':
	case '[':
		if (++ps->depth > JSON_MAX_DEPTH)
			return fail(ps, ps->p, "nested too deeply");
		err = *ps->p == '{' ? parse_object(ps, out) : parse_array(ps, out);
		ps->depth--;
		return err;
	case '"': {
		struct jv *v = new_value(ps, JV_STRING);

		if (!v)
			return nomem(ps);
		err = parse_string(ps, &v->str, &v->n);
		*out = v;
		return err;
	}
	case 't':
	case 'f':
	case 'n':
		return parse_literal(ps, out);
	default:
		if ((*ps->p == '-' && !(ps->end - ps->p > 1 && ps->p[1] == 'I')) ||
		    (*ps->p >= '0' && *ps->p <= '9'))
			return parse_number(ps, out);
		return parse_literal(ps, out);
	}
}

int json_parse(struct jv_arena *a, const char *s, size_t len, struct jv **out,
	       struct json_error *err)
{
	struct json_error dummy;
	struct parser ps = {
		.a = a,
		.s = (const unsigned char *)s,
		.p = (const unsigned char *)s,
		.end = (const unsigned char *)s + len,
		.err = err ? err : &dummy,
	};
	int ret;

	ret = parse_value(&ps, out);
	if (!ret) {
		skip_ws(&ps);
		if (ps.p != ps.end)
			ret = fail(&ps, ps.p, "trailing data after the JSON value");
	}
	free(ps.mstack);
	free(ps.istack);
	return ret;
}

/* ---- access ----------------------------------------------------------------- */
int jv_depth(const struct jv *v)
{
	int d = 0, k;
	size_t i;

	if (v->type != JV_ARRAY && v->type != JV_OBJECT)
		return 0;
	for (i = 0; i < v->n; i++) {
		k = jv_depth(v->type == JV_ARRAY ? v->items[i] : v->members[i].val);
		if (k > d)
			d = k;
	}
	return d + 1;
}

const struct jv *jv_get(const struct jv *v, const char *key)
{
	struct jv_member k = { .key = key, .klen = strlen(key) };
	const struct jv_member *m;

	if (!v || v->type != JV_OBJECT || !v->n)
		return NULL;
	m = bsearch(&k, v->members, v->n, sizeof(*m), member_cmp);
	return m ? m->val : NULL;
}

bool jv_to_u64(const struct jv *v, uint64_t *out)
{
	uint64_t r = 0;
	size_t i;

	if (!v || v->type != JV_INT || v->n == 0 || v->str[0] == '-' || v->n > 20)
		return false;
	for (i = 0; i < v->n; i++) {
		uint64_t d = (uint64_t)(v->str[i] - '0');

		if (r > (UINT64_MAX - d) / 10)
			return false;
		r = r * 10 + d;
	}
	*out = r;
	return true;
}

bool jv_to_i64(const struct jv *v, int64_t *out)
{
	uint64_t mag;
	struct jv pos;

	if (!v || v->type != JV_INT || v->n == 0)
		return false;
	if (v->str[0] != '-') {
		if (!jv_to_u64(v, &mag) || mag > INT64_MAX)
			return false;
		*out = (int64_t)mag;
		return true;
	}
	pos = *v;
	pos.str++;
	pos.n--;
	if (!jv_to_u64(&pos, &mag) || mag > (uint64_t)INT64_MAX + 1)
		return false;
	*out = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
	return true;
}

bool jv_is_string(const struct jv *v, const char *s)
{
	size_t n = strlen(s);

	return v && v->type == JV_STRING && v->n == n && !memcmp(v->str, s, n);
}
