/* json_write: the canonical JSON writer (Python's json.dumps(obj, sort_keys=True)). */
#include "json.h"

#include <inttypes.h>
#include <stdio.h>
#include "utf8.h"

static const char hexdigits[] = "0123456789abcdef";

/* 1 for bytes that json.dumps(ensure_ascii=True) copies unescaped. */
static const unsigned char plain[256] = {
	[0x20] = 1, [0x21] = 1, /* 0x22 '"' escaped */
	[0x23] = 1, [0x24] = 1, [0x25] = 1, [0x26] = 1, [0x27] = 1, [0x28] = 1, [0x29] = 1,
	[0x2a] = 1, [0x2b] = 1, [0x2c] = 1, [0x2d] = 1, [0x2e] = 1, [0x2f] = 1, [0x30] = 1,
	[0x31] = 1, [0x32] = 1, [0x33] = 1, [0x34] = 1, [0x35] = 1, [0x36] = 1, [0x37] = 1,
	[0x38] = 1, [0x39] = 1, [0x3a] = 1, [0x3b] = 1, [0x3c] = 1, [0x3d] = 1, [0x3e] = 1,
	[0x3f] = 1, [0x40] = 1, [0x41] = 1, [0x42] = 1, [0x43] = 1, [0x44] = 1, [0x45] = 1,
	[0x46] = 1, [0x47] = 1, [0x48] = 1, [0x49] = 1, [0x4a] = 1, [0x4b] = 1, [0x4c] = 1,
	[0x4d] = 1, [0x4e] = 1, [0x4f] = 1, [0x50] = 1, [0x51] = 1, [0x52] = 1, [0x53] = 1,
	[0x54] = 1, [0x55] = 1, [0x56] = 1, [0x57] = 1, [0x58] = 1, [0x59] = 1, [0x5a] = 1,
	[0x5b] = 1, /* 0x5c '\\' escaped */
	[0x5d] = 1, [0x5e] = 1, [0x5f] = 1, [0x60] = 1, [0x61] = 1, [0x62] = 1, [0x63] = 1,
	[0x64] = 1, [0x65] = 1, [0x66] = 1, [0x67] = 1, [0x68] = 1, [0x69] = 1, [0x6a] = 1,
	[0x6b] = 1, [0x6c] = 1, [0x6d] = 1, [0x6e] = 1, [0x6f] = 1, [0x70] = 1, [0x71] = 1,
	[0x72] = 1, [0x73] = 1, [0x74] = 1, [0x75] = 1, [0x76] = 1, [0x77] = 1, [0x78] = 1,
	[0x79] = 1, [0x7a] = 1, [0x7b] = 1, [0x7c] = 1, [0x7d] = 1, [0x7e] = 1,
};

static void put_u_escape(struct buf *b, uint32_t unit)
{
	char t[6] = { '\\', 'u', hexdigits[unit >> 12 & 15], hexdigits[unit >> 8 & 15],
		      hexdigits[unit >> 4 & 15], hexdigits[unit & 15] };

	buf_append(b, t, sizeof(t));
}

/* Writes one code point that is not a plain byte. */
static void put_escaped(struct buf *b, uint32_t cp)
{
	const char *s = NULL;

	switch (cp) {
	case '"': s = "\\\""; break;
	case '\\': s = "\\\\"; break;
	case '\n': s = "\\n"; break;
	case '\r': s = "\\r"; break;
	case '\t': s = "\\t"; break;
	case '\b': s = "\\b"; break;
	case '\f': s = "\\f"; break;
	}
	if (s) {
		buf_append(b, s, 2);
	} else if (cp < 0x10000) {
		put_u_escape(b, cp);
	} else {
		cp -= 0x10000;
		put_u_escape(b, 0xd800 | cp >> 10);
		put_u_escape(b, 0xdc00 | (cp & 0x3ff));
	}
}

void json_write_string(struct buf *b, const char *s, size_t len, bool raw_bytes)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	buf_putc(b, '"');
	while (p < end) {
		const unsigned char *run = p;
		uint32_t cp;
		size_t n;

		while (p < end && plain[*p])
			p++;
		if (p > run)
			buf_append(b, run, (size_t)(p - run));
		if (p == end)
			break;
		n = utf8_decode(p, (size_t)(end - p), !raw_bytes, &cp);
		if (n == 0) {
			/* surrogateescape: the byte stands for itself as U+DCxx. */
			put_u_escape(b, 0xdc00 | *p);
			p++;
		} else {
			put_escaped(b, cp);
			p += n;
		}
	}
	buf_putc(b, '"');
}

void jw_init(struct jw *w, struct buf *out)
{
	*w = (struct jw){ .out = out };
}

/* Separator before a value at the current level; checks the grammar. */
static bool jw_before_value(struct jw *w)
{
	if (w->bad)
		return false;
	if (w->depth == 0) {
		if (w->top_written) {
			w->bad = true;	/* one top-level value only */
			return false;
		}
		w->top_written = true;
		return true;
	}
	if (w->is_object[w->depth - 1]) {
		if (!w->want_value) {
			w->bad = true;	/* a value in an object needs a key first */
			return false;
		}
		w->want_value = false;
		return true;
	}
	if (!w->first[w->depth - 1])
		buf_append(w->out, ", ", 2);
	w->first[w->depth - 1] = false;
	return true;
}

static void jw_open(struct jw *w, char c, bool object)
{
	if (!jw_before_value(w))
		return;
	if (w->depth >= JSON_MAX_DEPTH) {
		w->bad = true;
		return;
	}
	buf_putc(w->out, c);
	w->first[w->depth] = true;
	w->is_object[w->depth] = object;
	w->last_key[w->depth] = NULL;
	w->depth++;
}

static void jw_close(struct jw *w, char c, bool object)
{
	if (w->bad)
		return;
	if (w->depth == 0 || w->is_object[w->depth - 1] != object || w->want_value) {
		w->bad = true;
		return;
	}
	w->depth--;
	buf_putc(w->out, c);
}

void jw_object_begin(struct jw *w)
{
	jw_open(w, '{', true);
}

void jw_object_end(struct jw *w)
{
	jw_close(w, '}', true);
}

void jw_array_begin(struct jw *w)
{
	jw_open(w, '[', false);
}

void jw_array_end(struct jw *w)
{
	jw_close(w, ']', false);
}

static int key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

void jw_keyn(struct jw *w, const char *key, size_t len)
{
	int d = w->depth - 1;

	if (w->bad)
		return;
	if (d < 0 || !w->is_object[d] || w->want_value) {
		w->bad = true;
		return;
	}
	/* Keys must come strictly ascending: byte order of (WTF-8) UTF-8 is code
	 * point order, which is what sort_keys uses. */
	if (w->last_key[d] && key_cmp(w->last_key[d], w->last_klen[d], key, len) >= 0) {
		w->bad = true;
		return;
	}
	w->last_key[d] = key;
	w->last_klen[d] = len;
	if (!w->first[d])
		buf_append(w->out, ", ", 2);
	w->first[d] = false;
	json_write_string(w->out, key, len, false);
	buf_append(w->out, ": ", 2);
	w->want_value = true;
}

void jw_key(struct jw *w, const char *key)
{
	jw_keyn(w, key, strlen(key));
}

void jw_int(struct jw *w, int64_t v)
{
	char t[24];
	int n;

	if (!jw_before_value(w))
		return;
	n = snprintf(t, sizeof(t), "%" PRId64, v);
	buf_append(w->out, t, (size_t)n);
}

void jw_uint(struct jw *w, uint64_t v)
{
	char t[24];
	int n;

	if (!jw_before_value(w))
		return;
	n = snprintf(t, sizeof(t), "%" PRIu64, v);
	buf_append(w->out, t, (size_t)n);
}

void jw_bool(struct jw *w, bool v)
{
	if (jw_before_value(w))
		buf_puts(w->out, v ? "true" : "false");
}

void jw_null(struct jw *w)
{
	if (jw_before_value(w))
		buf_append(w->out, "null", 4);
}

void jw_string(struct jw *w, const char *s, size_t len)
{
	if (jw_before_value(w))
		json_write_string(w->out, s, len, false);
}

void jw_cstring(struct jw *w, const char *s)
{
	jw_string(w, s, strlen(s));
}

void jw_bytes(struct jw *w, const void *p, size_t len)
{
	if (jw_before_value(w))
		json_write_string(w->out, p, len, true);
}

void jw_raw(struct jw *w, const char *json, size_t len)
{
	if (jw_before_value(w))
		buf_append(w->out, json, len);
}

bool jw_ok(const struct jw *w)
{
	return !w->bad && w->top_written && w->depth == 0 && !w->out->failed;
}

void json_write(struct buf *b, const struct jv *v)
{
	size_t i;

	switch (v->type) {
	case JV_NULL:
		buf_append(b, "null", 4);
		break;
	case JV_FALSE:
		buf_append(b, "false", 5);
		break;
	case JV_TRUE:
		buf_append(b, "true", 4);
		break;
	case JV_INT:
		buf_append(b, v->str, v->n);
		break;
	case JV_STRING:
		json_write_string(b, v->str, v->n, false);
		break;
	case JV_ARRAY:
		buf_putc(b, '[');
		for (i = 0; i < v->n; i++) {
			if (i)
				buf_append(b, ", ", 2);
			json_write(b, v->items[i]);
		}
		buf_putc(b, ']');
		break;
	case JV_OBJECT:
		buf_putc(b, '{');
		for (i = 0; i < v->n; i++) {
			if (i)
				buf_append(b, ", ", 2);
			json_write_string(b, v->members[i].key, v->members[i].klen, false);
			buf_append(b, ": ", 2);
			json_write(b, v->members[i].val);
		}
		buf_putc(b, '}');
		break;
	}
}
