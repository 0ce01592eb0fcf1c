/* json_write: the canonical JSON writer (Python's json.dumps(obj, sort_keys=True)). */
#include "json.h"

#include <inttypes.h>
#include <stdio.h>
#include "numfmt.h"
#include "utf8.h"

static const char hexdigits[] = "0123456789abcdef";

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
	char *o;

	/* Nearly every string of an event (keys, names, most paths) needs no escape: one
	 * scan, one copy. */
	p = json_skip_plain(p, end);
	if (p == end) {
		if (len + 2 < len || !(o = buf_reserve(b, len + 2)))
			return;
		o[0] = '"';
		memcpy(o + 1, s, len);
		o[len + 1] = '"';
		b->len += len + 2;
		return;
	}
	buf_putc(b, '"');
	buf_append(b, s, (size_t)(p - (const unsigned char *)s));
	while (p < end) {
		const unsigned char *run = p;
		uint32_t cp;
		size_t n;

		p = json_skip_plain(p, end);
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

/* Only the header: a level's entries of first[], is_object[] and last_key[] are set when
 * it opens (jw_open), before anything reads them; zeroing 1.2 KB of them per event cost
 * the agent about 1% of its formatting. */
void jw_init(struct jw *w, struct buf *out)
{
	w->out = out;
	w->depth = 0;
	w->bad = false;
	w->top_written = false;
	w->want_value = false;
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
	int c;

	/* Neighbouring keys nearly always differ in their first byte. */
	if (alen && blen && a[0] != b[0])
		return (unsigned char)a[0] - (unsigned char)b[0];
	c = memcmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

#define KEY_FAST_MAX 256	/* longer keys take the general path (no size overflow to fear) */

/* The grammar and the order of keys: true when key may come next in the current object,
 * which is then due a value. */
static inline __attribute__((always_inline)) bool key_accept(struct jw *w, const char *key,
							  size_t len)
{
	int d = w->depth - 1;

	if (w->bad)
		return false;
	if (d < 0 || !w->is_object[d] || w->want_value) {
		w->bad = true;
		return false;
	}
	/* Keys must come strictly ascending: byte order of (WTF-8) UTF-8 is code
	 * point order, which is what sort_keys uses. */
	if (w->last_key[d] && key_cmp(w->last_key[d], w->last_klen[d], key, len) >= 0) {
		w->bad = true;
		return false;
	}
	w->last_key[d] = key;
	w->last_klen[d] = len;
	w->want_value = true;
	return true;
}

/* Separator, quoted key and colon in one reservation. */
static inline __attribute__((always_inline)) void put_plain_key(struct jw *w, const char *key,
							     size_t len)
{
	bool *first = &w->first[w->depth - 1];
	char *o = buf_reserve(w->out, len + 6);
	size_t n = 0;

	if (!o)
		return;
	if (!*first) {
		o[n++] = ',';
		o[n++] = ' ';
	}
	o[n++] = '"';
	memcpy(o + n, key, len);
	n += len;
	o[n++] = '"';
	o[n++] = ':';
	o[n++] = ' ';
	w->out->len += n;
	*first = false;
}

void jw_key_plain(struct jw *w, const char *key, size_t len)
{
	if (key_accept(w, key, len))
		put_plain_key(w, key, len);
}

void jw_keyn(struct jw *w, const char *key, size_t len)
{
	bool *first;

	if (!key_accept(w, key, len))
		return;
	if (len <= KEY_FAST_MAX &&
	    json_skip_plain((const unsigned char *)key, (const unsigned char *)key + len) ==
		    (const unsigned char *)key + len) {
		put_plain_key(w, key, len);	/* the usual key */
		return;
	}
	first = &w->first[w->depth - 1];
	if (!*first)
		buf_append(w->out, ", ", 2);
	*first = false;
	json_write_string(w->out, key, len, false);
	buf_append(w->out, ": ", 2);
}

/* Numbers are formatted in place: NUMFMT_MAX bytes reserved, the digits' count kept. */
void jw_int(struct jw *w, int64_t v)
{
	char *o;

	if (jw_before_value(w) && (o = buf_reserve(w->out, NUMFMT_MAX)))
		w->out->len += fmt_i64(o, v);
}

void jw_uint(struct jw *w, uint64_t v)
{
	char *o;

	if (jw_before_value(w) && (o = buf_reserve(w->out, NUMFMT_MAX)))
		w->out->len += fmt_u64(o, v);
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
