/* test_json: the canonical JSON writer, parser and checker against Python's
 * json module (the definition of the format), plus the rejections. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testlib.h"
#include "json.h"

/* ---- helpers --------------------------------------------------------------- */
static char *write_bytes(const void *p, size_t n, bool raw)
{
	struct buf b = { 0 };

	json_write_string(&b, p, n, raw);
	buf_putc(&b, '\0');
	assert_false(b.failed);
	return b.data;
}

/* parse + canonical write; returns NULL when parsing fails. */
static char *canonical_of(const char *text, size_t len, struct json_error *err)
{
	struct jv_arena *a = jv_arena_new();
	struct buf b = { 0 };
	struct jv *v;

	if (json_parse(a, text, len, &v, err)) {
		jv_arena_free(a);
		return NULL;
	}
	json_write(&b, v);
	buf_putc(&b, '\0');
	jv_arena_free(a);
	return b.data;
}

static bool canon_ok(const char *s)
{
	struct canon_object top;

	return json_canon_check(s, strlen(s), &top, NULL) == 0;
}

static void hex_of(const unsigned char *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = '\0';
}

/* ---- tests ------------------------------------------------------------------- */

/* Raw bytes (file names, argv) are written as Python writes
 * json.dumps(b.decode("utf-8", "surrogateescape")). */
static void test_bytes_match_python_surrogateescape(void **state)
{
	static const char *fixed[] = {
		"",	"\"",	 "\\",	   "\n\r\t\b\f", "\x01\x1f\x7f", "a/b c",
		"\xc3\xa9", "\xf0\x9f\x98\x80", "\xff", "\xc3", "\xc0\x80", "\xed\xa0\x80",
		"\xed\x9f\xbf", "\xee\x80\x80", "\xf4\x8f\xbf\xbf", "\xf4\x90\x80\x80",
		"\xe2\x82", "\xe2\x82x", "\xf0\x9f\x98", "\x80\xbf", "\xef\xbf\xbf",
		"name\nwith\"quote\"and\xff", "\xe0\x80\xaf", "\xf5\x80\x80\x80",
	};
	enum { NRAND = 600, MAXLEN = 24 };
	unsigned char rnd[NRAND][MAXLEN];
	size_t rlen[NRAND], i, nfixed = sizeof(fixed) / sizeof(fixed[0]), total;
	char *input, *p, *expected, *line;
	static const unsigned char pool[] = { 'a', '"', '\\', 0, 0x1f, 0x7f, 0x80, 0xbf, 0xc2,
					      0xc3, 0xa9, 0xe0, 0xa0, 0xed, 0xb0, 0xef, 0xf0,
					      0x90, 0xf4, 0x8f, 0xff, 0xfe, '\n' };

	(void)state;
	srand(1234);
	for (i = 0; i < NRAND; i++) {
		size_t j;

		rlen[i] = (size_t)(rand() % MAXLEN);
		for (j = 0; j < rlen[i]; j++)
			rnd[i][j] = rand() % 3 ? pool[rand() % sizeof(pool)] : (unsigned char)rand();
	}
	total = nfixed + NRAND;
	input = p = malloc(total * (2 * MAXLEN + 2) + 1);
	assert_non_null(input);
	for (i = 0; i < total; i++) {
		const unsigned char *s = i < nfixed ? (const unsigned char *)fixed[i] : rnd[i - nfixed];
		size_t n = i < nfixed ? strlen(fixed[i]) : rlen[i - nfixed];

		hex_of(s, n, p);
		p += 2 * n;
		*p++ = '\n';
	}
	expected = tl_python("import sys, json\n"
			     "for h in sys.stdin.read().split('\\n')[:-1]:\n"
			     "    print(json.dumps(bytes.fromhex(h).decode('utf-8', 'surrogateescape')))\n",
			     input, (size_t)(p - input), NULL);
	line = expected;
	for (i = 0; i < total; i++) {
		const unsigned char *s = i < nfixed ? (const unsigned char *)fixed[i] : rnd[i - nfixed];
		size_t n = i < nfixed ? strlen(fixed[i]) : rlen[i - nfixed];
		char *nl = strchr(line, '\n'), *ours;

		assert_non_null(nl);
		*nl = '\0';
		ours = write_bytes(s, n, true);
		if (strcmp(ours, line))
			fail_msg("case %zu: ours %s, python %s", i, ours, line);
		free(ours);
		line = nl + 1;
	}
	free(expected);
	free(input);
}

/* Documents written any way Python can write them parse and re-serialize to
 * exactly json.dumps(obj, sort_keys=True). */
static void test_parse_write_matches_python(void **state)
{
	static const char *gen =
		"import json, random, sys\n"
		"random.seed(42)\n"
		"alphabet = ['a','Z','\"','\\\\','\\n','\\x00','\\x1f','\\x7f','\\u00e9','\\u20ac',"
		"'\\U0001f600','\\ufeff','/', ' ', '\\udcff', '\\ud800']\n"
		"def s(lone):\n"
		"    t = ''.join(random.choice(alphabet) for _ in range(random.randint(0, 8)))\n"
		/* A high surrogate directly before a low one reads back as one astral
		 * character, in Python as here: such strings cannot round-trip. */
		"    t = t.replace('\\ud800\\udcff', '\\ud800-')\n"
		"    return t if lone else t.replace('\\udcff', 'x').replace('\\ud800', 'y')\n"
		"def v(d, lone):\n"
		"    r = random.random()\n"
		"    if d > 3 or r < 0.3: return random.choice([0, -1, 7, 2**63, -2**63, 10**30, True, False, None, s(lone)])\n"
		"    if r < 0.6: return [v(d + 1, lone) for _ in range(random.randint(0, 4))]\n"
		"    return {s(lone): v(d + 1, lone) for _ in range(random.randint(0, 5))}\n"
		"for i in range(400):\n"
		"    lone = i % 2 == 0\n"
		"    o = {s(lone): v(0, lone) for _ in range(random.randint(0, 6))}\n"
		"    style = dict(ensure_ascii=lone or random.random() < 0.5)\n"
		"    if random.random() < 0.5: style['indent'] = random.choice([None, 1, 2])\n"
		"    if random.random() < 0.5: style['separators'] = random.choice([(',', ':'), (' , ', ' : ')])\n"
		"    text = json.dumps(o, **style)\n"
		"    sys.stdout.buffer.write(json.dumps(text).encode() + b'\\n')\n"
		"    sys.stdout.buffer.write(json.dumps(o, sort_keys=True).encode() + b'\\n')\n";
	struct jv_arena *a = jv_arena_new();
	char *out = tl_python(gen, NULL, 0, NULL), *line = out;
	int n = 0;

	(void)state;
	while (*line) {
		char *nl1 = strchr(line, '\n'), *nl2, *text_json, *ours;
		struct jv *wrapped;
		struct json_error err;

		assert_non_null(nl1);
		nl2 = strchr(nl1 + 1, '\n');
		assert_non_null(nl2);
		*nl1 = *nl2 = '\0';
		/* The input text travels as a JSON string (it may hold newlines and
		 * raw UTF-8): unwrap it with our parser, then parse the text itself. */
		jv_arena_reset(a);
		assert_int_equal(json_parse(a, line, strlen(line), &wrapped, &err), 0);
		assert_int_equal(wrapped->type, JV_STRING);
		text_json = strndup(wrapped->str, wrapped->n);
		ours = canonical_of(text_json, wrapped->n, &err);
		if (!ours)
			fail_msg("doc %d: parse failed at %zu: %s", n, err.offset, err.msg);
		if (strcmp(ours, nl1 + 1))
			fail_msg("doc %d:\n ours   %s\n python %s", n, ours, nl1 + 1);
		assert_true(canon_ok(ours));
		free(ours);
		free(text_json);
		line = nl2 + 1;
		n++;
	}
	assert_int_equal(n, 400);
	free(out);
	jv_arena_free(a);
}

static void test_parse_refuses(void **state)
{
	static const char *bad[] = {
		"{\"a\": 1.0}", "{\"a\": 1e5}", "{\"a\": NaN}", "{\"a\": Infinity}",
		"{\"a\": -Infinity}", "{\"a\": 1, \"a\": 2}", "{\"a\": 01}", "{\"a\": -}",
		"[1,]", "{,}", "{\"a\" 1}", "\"abc", "{\"a\": \"\x01\"}", "{\"a\": \"\xff\"}",
		"{\"a\": \"\\x\"}", "{\"a\": \"\\u12g4\"}", "{} {}", "", "tru", "{\"a\": 1}x",
		"{\"a\": \"\xed\xa0\x80\"}",
	};
	struct jv_arena *a = jv_arena_new();
	struct json_error err;
	struct jv *v;
	char deep[200];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = json_parse(a, bad[i], strlen(bad[i]), &v, &err);

		if (r != -EINVAL)
			fail_msg("accepted %s", bad[i]);
		assert_non_null(err.msg);
	}
	memset(deep, '[', 65);
	memset(deep + 65, ']', 65);
	assert_int_equal(json_parse(a, deep, 130, &v, &err), -EINVAL);
	assert_string_equal(err.msg, "nested too deeply");
	assert_int_equal(json_parse(a, deep + 1, 128, &v, &err), 0);
	jv_arena_free(a);
}

static void test_integers_exact(void **state)
{
	char *s;
	const char *in = "[-0, 0, 18446744073709551615, -9223372036854775808, "
			 "123456789012345678901234567890]";

	(void)state;
	s = canonical_of(in, strlen(in), NULL);
	assert_non_null(s);
	assert_string_equal(s, "[0, 0, 18446744073709551615, -9223372036854775808, "
			       "123456789012345678901234567890]");
	free(s);
}

static void test_lone_surrogates_round_trip(void **state)
{
	const char *in = "{\"k\": \"\\udcff\\ud800x\\ud83d\\ude00\\u0000\"}";
	char *s = canonical_of(in, strlen(in), NULL);

	(void)state;
	assert_non_null(s);
	assert_string_equal(s, in);
	assert_true(canon_ok(s));
	free(s);
}

static void test_canon_check_rejects(void **state)
{
	static const char *bad[] = {
		"{\"a\":1}", "{\"a\": 1 }", " {\"a\": 1}", "{\"a\": 1}\n", "{\"b\": 1, \"a\": 2}",
		"{\"a\": 1, \"a\": 1}", "{\"a\": \"\\u0041\"}", "{\"a\": \"\\u000a\"}",
		"{\"a\": \"\\u00E9\"}", "{\"a\": \"\\/\"}", "{\"a\": \"\xc3\xa9\"}", "{\"a\": -0}",
		"{\"a\": 1.5}", "{\"a\": [1,2]}", "{\"a\": [1 , 2]}", "{\"\\u00e9\": 1, \"z\": 2}",
		"{\"\\ud83d\\ude00\": 1, \"\\uffff\": 2}", "[1]", "{\"a\": TRUE}", "{\"a\": \"\x7f\"}",
		"{\"a\": \"\t\"}", "{\"a\": 01}",
	};
	static const char *good[] = {
		"{}", "{\"a\": []}", "{\"a\": {}}", "{\"z\": 1, \"\\u00e9\": 2}",
		"{\"\\uffff\": 1, \"\\ud83d\\ude00\": 2}", "{\"a\": \"\\u007f\\u0000\\\"\\\\\\n\"}",
		"{\"A\": 1, \"a\": 2}", "{\"a\": 1, \"ab\": 2}", "{\"a\": [true, false, null, -5]}",
		"{\"\\\"\": 1, \"#\": 2}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (canon_ok(bad[i]))
			fail_msg("canonical check accepted %s", bad[i]);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char *s = canonical_of(good[i], strlen(good[i]), NULL);

		if (!canon_ok(good[i]))
			fail_msg("canonical check refused %s", good[i]);
		assert_string_equal(s, good[i]);	/* and the oracle agrees */
		free(s);
	}
}

/* The fast checker agrees with its definition, parse+write == input, on
 * thousands of mutations of canonical texts. */
static void test_canon_check_fuzz_against_oracle(void **state)
{
	static const char *seeds[] = {
		"{\"a\": [1, -2, {\"b\": \"x\\u00e9\\udcff\\\"\"}], \"c\": null, \"d\": true}",
		"{\"\\ud83d\\ude00\": \"\\n\\t\", \"k\": {\"\": 0, \"a\": [[], {}]}}",
		"{\"epoch\": 0, \"event\": {\"x\": 1}, \"hash\": \"ab\", \"sequence\": 12}",
	};
	static const char tokens[] = "{}[]\",: \\u0123456789abcdefntrl-.eE\xc3\xa9\x01";
	int i, accepted = 0;

	(void)state;
	srand(99);
	for (i = 0; i < 20000; i++) {
		const char *seed = seeds[i % 3];
		size_t n = strlen(seed), j, edits = 1 + (size_t)(rand() % 3);
		char buf[256], *oracle;
		bool fast, slow;

		memcpy(buf, seed, n + 1);
		for (j = 0; j < edits && n > 1; j++) {
			size_t at = (size_t)rand() % n;

			switch (rand() % 3) {
			case 0:
				buf[at] = tokens[rand() % (sizeof(tokens) - 1)];
				break;
			case 1:
				memmove(buf + at, buf + at + 1, n - at);
				n--;
				break;
			default:
				if (n + 2 < sizeof(buf)) {
					memmove(buf + at + 1, buf + at, n - at + 1);
					buf[at] = tokens[rand() % (sizeof(tokens) - 1)];
					n++;
				}
			}
		}
		fast = canon_ok(buf);
		oracle = canonical_of(buf, n, NULL);
		slow = oracle && buf[0] == '{' && !strcmp(oracle, buf);
		if (fast != slow)
			fail_msg("checker says %d, oracle says %d for: %s", fast, slow, buf);
		accepted += fast;
		free(oracle);
	}
	/* Some mutations stay canonical (a changed digit or letter): the fuzz
	 * exercised both answers. */
	assert_true(accepted > 100);
}

/* jw_key() writes a literal key unchecked only when the compiler proved it plain; other
 * literals are escaped like any key. Both must match the same keys read from memory,
 * which always take the checked path (jw_keyn), and the order is checked either way. */
static void test_writer_literal_keys(void **state)
{
	static const char *const keys[] = { "a\"q", "b\\", "c\t", "d\xc3\xa9", "e", "f\x01" };
	static const char expect[] = "{\"a\\\"q\": 0, \"b\\\\\": 1, \"c\\t\": 2, \"d\\u00e9\": 3, "
				     "\"e\": 4, \"f\\u0001\": 5}";
	char copies[6][8];
	struct buf lit = { 0 }, mem = { 0 };
	struct jw w;
	size_t i;

	(void)state;
	jw_init(&w, &lit);
	jw_object_begin(&w);
	jw_key(&w, "a\"q");
	jw_int(&w, 0);
	jw_key(&w, "b\\");
	jw_int(&w, 1);
	jw_key(&w, "c\t");
	jw_int(&w, 2);
	jw_key(&w, "d\xc3\xa9");
	jw_int(&w, 3);
	jw_key(&w, "e");
	jw_int(&w, 4);
	jw_key(&w, "f\x01");
	jw_int(&w, 5);
	jw_object_end(&w);
	assert_true(jw_ok(&w));
	assert_int_equal(lit.len, strlen(expect));
	assert_memory_equal(lit.data, expect, lit.len);

	jw_init(&w, &mem);
	jw_object_begin(&w);
	for (i = 0; i < 6; i++) {
		snprintf(copies[i], sizeof(copies[i]), "%s", keys[i]);
		jw_keyn(&w, copies[i], strlen(copies[i]));
		jw_int(&w, (int64_t)i);
	}
	jw_object_end(&w);
	assert_true(jw_ok(&w));
	assert_int_equal(mem.len, lit.len);
	assert_memory_equal(mem.data, lit.data, lit.len);

	buf_reset(&lit);	/* plain literals out of order: refused as well */
	jw_init(&w, &lit);
	jw_object_begin(&w);
	jw_key(&w, "sequence");
	jw_int(&w, 1);
	jw_key(&w, "hash");
	jw_int(&w, 2);
	jw_object_end(&w);
	assert_false(jw_ok(&w));
	buf_free(&lit);
	buf_free(&mem);
}

static void test_writer_enforces_order_and_nesting(void **state)
{
	struct buf b = { 0 };
	struct jw w;

	(void)state;
	jw_init(&w, &b);
	jw_object_begin(&w);
	jw_key(&w, "a");
	jw_int(&w, -3);
	jw_key(&w, "b");
	jw_array_begin(&w);
	jw_bytes(&w, "x\xff", 2);
	jw_uint(&w, 18446744073709551615ull);
	jw_null(&w);
	jw_array_end(&w);
	jw_key(&w, "c");
	jw_object_begin(&w);
	jw_object_end(&w);
	jw_object_end(&w);
	assert_true(jw_ok(&w));
	assert_int_equal(b.len, strlen("{\"a\": -3, \"b\": [\"x\\udcff\", 18446744073709551615, "
				       "null], \"c\": {}}"));
	assert_memory_equal(b.data, "{\"a\": -3, \"b\": [\"x\\udcff\", 18446744073709551615, "
				    "null], \"c\": {}}", b.len);

	buf_reset(&b);	/* out of order */
	jw_init(&w, &b);
	jw_object_begin(&w);
	jw_key(&w, "b");
	jw_int(&w, 1);
	jw_key(&w, "a");
	jw_int(&w, 2);
	jw_object_end(&w);
	assert_false(jw_ok(&w));

	buf_reset(&b);	/* duplicate */
	jw_init(&w, &b);
	jw_object_begin(&w);
	jw_key(&w, "a");
	jw_int(&w, 1);
	jw_key(&w, "a");
	jw_int(&w, 2);
	jw_object_end(&w);
	assert_false(jw_ok(&w));

	buf_reset(&b);	/* value without key, unclosed */
	jw_init(&w, &b);
	jw_object_begin(&w);
	jw_int(&w, 1);
	assert_false(jw_ok(&w));

	buf_reset(&b);	/* unclosed */
	jw_init(&w, &b);
	jw_array_begin(&w);
	assert_false(jw_ok(&w));
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bytes_match_python_surrogateescape),
		cmocka_unit_test(test_parse_write_matches_python),
		cmocka_unit_test(test_parse_refuses),
		cmocka_unit_test(test_integers_exact),
		cmocka_unit_test(test_lone_surrogates_round_trip),
		cmocka_unit_test(test_canon_check_rejects),
		cmocka_unit_test(test_canon_check_fuzz_against_oracle),
		cmocka_unit_test(test_writer_enforces_order_and_nesting),
		cmocka_unit_test(test_writer_literal_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
