/* test_cli: the sealtrail CLI as users run it: exit codes, hostile content
 * round-tripping byte-exact, the tamper matrix (every change must fail verify
 * with exit 1), a fuzz of random corruptions that must never crash the
 * verifier nor pass it, and memory running out at every allocation of a run. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "testlib.h"
#include "buf.h"
#include "segment.h"

struct base {
	char *dir;
	char trail[4096], keys[4096];
	char trail_b[4096], keys_b[4096];	/* same k0, another trail */
	char last_anchor[128];			/* SEQ:HASH of the last entry */
};

static struct base B;

static int run_cli(struct tl_proc *p, const char *in, const char *const *args)
{
	const char *argv[16] = { tl_cli() };
	size_t i;

	for (i = 0; args[i]; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	return tl_run(p, in, in ? strlen(in) : 0, argv);
}

static int verify_status(const char *trail, const char *anchor)
{
	struct tl_proc p;
	const char *args[] = { "verify", "--key", tl_fmt("%s/verify.key", B.keys), trail,
			       NULL, NULL, NULL };
	int st;

	if (anchor) {
		args[3] = "--anchor";
		args[4] = anchor;
		args[5] = trail;
	}
	st = run_cli(&p, NULL, args);
	if (st > 2)
		fail_msg("verify crashed (%d): %s", st, p.err);
	tl_proc_free(&p);
	return st;
}

static char *events(int n)
{
	size_t cap = (size_t)n * 96 + 1, len = 0;
	char *s = malloc(cap);
	int i;

	for (i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len,
					"{\"i\": %d, \"pad\": \"%050d\", \"u\": \"\\u00e9\"}\n", i, i);
	return s;
}

static void append_events(const char *trail, const char *keys, const char *in)
{
	struct tl_proc p;
	const char *args[] = { "append", "--dir", trail, "--key-dir", keys, "--segment-bytes",
			       "4096", "--quiet", NULL };

	if (run_cli(&p, in, args) != 0)
		fail_msg("append failed (%d): %s", p.status, p.err);
	tl_proc_free(&p);
}

static int group_setup(void **state)
{
	struct tl_proc p;
	const char *cp[] = { "/bin/cp", "-r", NULL, NULL, NULL };
	char *in = events(60), *py;

	(void)state;
	B.dir = tl_tmpdir("cli");
	snprintf(B.trail, sizeof(B.trail), "%s/trail", B.dir);
	snprintf(B.keys, sizeof(B.keys), "%s/keys", B.dir);
	snprintf(B.trail_b, sizeof(B.trail_b), "%s/trail-b", B.dir);
	snprintf(B.keys_b, sizeof(B.keys_b), "%s/keys-b", B.dir);
	{
		const char *args[] = { "keygen", B.keys, NULL };

		assert_int_equal(run_cli(&p, NULL, args), 0);
		tl_proc_free(&p);
	}
	cp[2] = B.keys;
	cp[3] = B.keys_b;
	assert_int_equal(tl_run(&p, NULL, 0, cp), 0);
	tl_proc_free(&p);
	append_events(B.trail, B.keys, in);
	append_events(B.trail_b, B.keys_b, in);
	free(in);
	py = tl_python("import sys, os, json\n"
		       "t = sys.argv[1] if len(sys.argv) > 1 else None\n"
		       "d = sys.stdin.read().strip()\n"
		       "seg = sorted(f for f in os.listdir(d) if f.endswith('.jsonl'))[-1]\n"
		       "e = json.loads(open(os.path.join(d, seg), 'rb').read().split(b'\\n')[-2])\n"
		       "print('%d:%s' % (e['sequence'], e['hash']), end='')\n",
		       B.trail, strlen(B.trail), NULL);
	snprintf(B.last_anchor, sizeof(B.last_anchor), "%s", py);
	free(py);
	assert_int_equal(verify_status(B.trail, NULL), 0);
	assert_int_equal(verify_status(B.trail, B.last_anchor), 0);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	tl_rmtree(B.dir);
	free(B.dir);
	return 0;
}

/* A copy of the base trail, without chattr flags (cp does not copy them). */
static char *copy_trail(void)
{
	char *dir = tl_tmpdir("tamper");
	const char *cp[] = { "/bin/cp", "-r", B.trail, tl_fmt("%s/t", dir), NULL };
	struct tl_proc p;

	assert_int_equal(tl_run(&p, NULL, 0, cp), 0);
	tl_proc_free(&p);
	return dir;
}

/* ---- exit codes and messages ----------------------------------------------------- */
static void test_keygen_refuses_to_overwrite(void **state)
{
	const char *args[] = { "keygen", B.keys, NULL };
	struct tl_proc p;

	(void)state;
	assert_int_equal(run_cli(&p, NULL, args), 1);
	assert_non_null(strstr(p.err, "refusing to overwrite"));
	tl_proc_free(&p);
	/* The keys are untouched: the trail still verifies. */
	assert_int_equal(verify_status(B.trail, NULL), 0);
}

static void test_verify_usage_and_io_errors_exit_2(void **state)
{
	struct tl_proc p;
	const char *missing_key[] = { "verify", "--key", "/nonexistent/verify.key", B.trail, NULL };
	const char *missing_dir[] = { "verify", "--key", tl_fmt("%s/verify.key", B.keys),
				      "/nonexistent/trail", NULL };
	const char *no_key[] = { "verify", B.trail, NULL };
	const char *bad_anchor[] = { "verify", "--key", tl_fmt("%s/verify.key", B.keys),
				     "--anchor", "12:xyz", B.trail, NULL };
	char *dir = tl_tmpdir("badkey");
	const char *bad_key_file = tl_fmt("%s/verify.key", dir);
	const char *bad_key[] = { "verify", "--key", bad_key_file, B.trail, NULL };

	(void)state;
	assert_int_equal(run_cli(&p, NULL, missing_key), 2);
	assert_non_null(strstr(p.err, "cannot read the verify key"));
	assert_null(strchr(strchr(p.err, '\n') + 1, '\n'));	/* one line */
	tl_proc_free(&p);
	assert_int_equal(run_cli(&p, NULL, missing_dir), 2);
	tl_proc_free(&p);
	assert_int_equal(run_cli(&p, NULL, no_key), 2);
	tl_proc_free(&p);
	assert_int_equal(run_cli(&p, NULL, bad_anchor), 2);
	tl_proc_free(&p);
	tl_write_file(bad_key_file, "not a key\n", 10);
	assert_int_equal(run_cli(&p, NULL, bad_key), 2);
	tl_proc_free(&p);
	tl_rmtree(dir);
	free(dir);
}

static void test_wrong_key_fails(void **state)
{
	char *dir = tl_tmpdir("otherkey");
	const char *keygen[] = { "keygen", tl_fmt("%s/k", dir), NULL };
	const char *verify[] = { "verify", "--key", tl_fmt("%s/k/verify.key", dir), B.trail, NULL };
	struct tl_proc p;

	(void)state;
	assert_int_equal(run_cli(&p, NULL, keygen), 0);
	tl_proc_free(&p);
	assert_int_equal(run_cli(&p, NULL, verify), 1);
	assert_non_null(strstr(p.out, "signature does not verify"));
	tl_proc_free(&p);
	tl_rmtree(dir);
	free(dir);
}

static void test_verify_reports_what_it_validated(void **state)
{
	const char *args[] = { "verify", "--key", tl_fmt("%s/verify.key", B.keys), "--json",
			       B.trail, NULL };
	struct tl_proc p;
	char *py;

	(void)state;
	assert_int_equal(run_cli(&p, NULL, args), 0);
	py = tl_python("import sys, json\n"
		       "r = json.loads(sys.stdin.read())\n"
		       "v = r['validated']\n"
		       "assert r['status'] == 'ok' and r['signatures_checked'], r\n"
		       "assert v['first_sequence'] == 0 and v['last_sequence'] == v['entries'] - 1\n"
		       "assert v['segments'] >= 4 and v['seals'] == v['segments'] - 1, v\n"
		       "assert v['epochs'] == [0, v['seals']], v\n"
		       "assert v['entries'] == 60 + v['seals']\n"
		       "print('ok')\n",
		       p.out, p.out_len, NULL);
	assert_string_equal(py, "ok\n");
	free(py);
	tl_proc_free(&p);
}

static void test_append_reports_bad_lines_and_keeps_trail_valid(void **state)
{
	char *dir = tl_tmpdir("badlines"), trail[4096], keys[4096], key[4200];
	const char *keygen[] = { "keygen", keys, NULL };
	const char *append[] = { "append", "--dir", trail, "--key-dir", keys, NULL };
	const char *verify[] = { "verify", "--key", key, "--json", trail, NULL };
	char in[512];
	struct tl_proc p;

	(void)state;
	snprintf(trail, sizeof(trail), "%s/trail", dir);
	snprintf(keys, sizeof(keys), "%s/keys", dir);
	snprintf(key, sizeof(key), "%s/verify.key", keys);
	/* Line 6 nests 64 levels: the entry would nest 65, past what verify reads. */
	snprintf(in, sizeof(in), "{\"ok\": 1}\n[1, 2]\n{\"f\": 1.5}\n{\"a\": 1, \"a\": 2}\n"
		 "{broken\n{\"d\": %.*s1%.*s}\n{\"ok\": 2}\n", 63, "[[[[[[[[[[[[[[[[[[[[[[[[[[[["
		 "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 63, "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
		 "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
	assert_int_equal(run_cli(&p, NULL, keygen), 0);
	tl_proc_free(&p);
	assert_int_equal(run_cli(&p, in, append), 1);
	assert_non_null(strstr(p.err, "stdin:6: nested deeper than 63 levels"));
	assert_non_null(strstr(p.err, "stdin:2: not a JSON object"));
	assert_non_null(strstr(p.err, "stdin:3: not valid JSON: floats are not allowed"));
	assert_non_null(strstr(p.err, "stdin:4: not valid JSON: duplicate key"));
	assert_non_null(strstr(p.err, "stdin:5:"));
	assert_null(strstr(p.err, "stdin:7"));
	tl_proc_free(&p);
	assert_int_equal(run_cli(&p, NULL, verify), 0);
	assert_non_null(strstr(p.out, "\"entries\": 2,"));
	tl_proc_free(&p);
	tl_rmtree(dir);
	free(dir);
}

/* ---- memory running out --------------------------------------------------------- */

/* Not in the ASan build: ASan owns malloc, so the shim cannot replace it there. */
#if !defined(__SANITIZE_ADDRESS__)
/* One run of the CLI with the Nth allocation and all later ones failing; n = 0: none
 * fails. */
static int run_failing_at(struct tl_proc *p, long n, const char *in, const char *const *args)
{
	int st;

	if (n) {
		setenv("LD_PRELOAD", tl_fmt("%s/tests/failalloc.so", tl_build_dir()), 1);
		setenv("FAILALLOC_AT", tl_fmt("%ld", n), 1);
	}
	st = run_cli(p, in, args);
	unsetenv("LD_PRELOAD");
	unsetenv("FAILALLOC_AT");
	return st;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/*
 * Memory running out, at whatever point of a run, is an error of the run (exit 2, one
 * line saying so), never a verdict on the trail: an intact trail is never reported
 * broken, and no output is cut short or partly printed with exit 0. Each command runs
 * with the Nth allocation and every later one failing, for N = 1, 2, ... until a run
 * needs none of them. The trail starts with a sealtrail record, whose check parses it
 * (such a parse once ran out of memory and called the trail broken); append under the
 * same failures must leave a trail that verifies.
 */
static void test_out_of_memory_is_never_a_verdict(void **state)
{
	char *dir = tl_tmpdir("oom"), trail[4096], keys[4096], key[4200];
	const char *keygen[] = { "keygen", keys, NULL };
	const char *append[] = { "append", "--dir", trail, "--key-dir", keys, NULL };
	const char *verify[] = { "verify", "--key", key, trail, NULL };
	const char *const cmds[][8] = {
		{ "verify", "--key", key, trail, NULL },
		{ "verify", "--json", "--key", key, trail, NULL },
		{ "stats", "--key", key, trail, NULL },
		{ "stats", "--json", trail, NULL },
		{ "replay", "--json", "--key", key, trail, NULL },
		{ "replay", trail, NULL },
	};
	const char *in = "{\"event\": {\"module\": \"sealtrail\", \"action\": \"agent-start\"}}\n"
			 "{\"event\": {\"action\": \"exec\"}, \"process\": {\"pid\": 42}}\n"
			 "{\"event\": {\"action\": \"exit\"}, \"process\": {\"pid\": 42}}\n";
	struct tl_proc ref, p;
	size_t c, failures = 0;
	long n;
	int st;

	(void)state;
	snprintf(trail, sizeof(trail), "%s/trail", dir);
	snprintf(keys, sizeof(keys), "%s/keys", dir);
	snprintf(key, sizeof(key), "%s/verify.key", keys);
	assert_int_equal(run_failing_at(&p, 0, NULL, keygen), 0);
	tl_proc_free(&p);
	assert_int_equal(run_failing_at(&p, 0, in, append), 0);
	tl_proc_free(&p);

	for (c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++) {
		assert_int_equal(run_failing_at(&ref, 0, NULL, cmds[c]), 0);
		for (n = 1; n < 5000; n++) {
			st = run_failing_at(&p, n, NULL, cmds[c]);
			if (st != 0 && (st != 2 || !strstr(p.err, "memory") ||
					count_lines(p.err) != 1))
				fail_msg("%s %s, allocation %ld on failing: exit %d, stderr: %s",
					 cmds[c][0], cmds[c][1], n, st, p.err);
			if (st == 0) {
				/* No allocation from the Nth on, or none that mattered. */
				assert_string_equal(p.out, ref.out);
				tl_proc_free(&p);
				break;
			}
			failures++;
			tl_proc_free(&p);
		}
		tl_proc_free(&ref);
	}
	print_message("# %zu runs out of memory, each exit 2 with one line\n", failures);
	assert_true(failures > 50);

	for (n = 1; n < 5000; n++) {
		st = run_failing_at(&p, n, "{\"more\": 1}\n", append);
		assert_true(st == 0 || st == 2);
		if (st == 2)
			assert_non_null(strstr(p.err, "memory"));
		tl_proc_free(&p);
		assert_int_equal(run_failing_at(&p, 0, NULL, verify), 0);
		tl_proc_free(&p);
		if (st == 0)
			break;
	}
	tl_rmtree(dir);
	free(dir);
}
#endif

/* A line over 16 MiB is skipped without ever being held whole: a 128 MiB line costs the
 * CLI no more memory than the limit (peak RSS of the children stays under 100 MB; a
 * reader that takes the line first needs 128 MB). A NUL inside a line is a byte of it,
 * not its end; the last line may lack its newline. */
static void test_append_bounds_long_lines(void **state)
{
	char *dir = tl_tmpdir("longline"), trail[4096], keys[4096], key[4200];
	const char *keygen[] = { "keygen", keys, NULL };
	const char *verify[] = { "verify", "--key", key, "--json", trail, NULL };
	/* The input is made by a shell, so that no process but the CLI ever holds it. */
	const char *script =
		"{ printf '{\"ok\": 1}\\n{\"x\": \"'; head -c 134217728 /dev/zero | tr '\\0' a; "
		"printf '\"}\\n{\"ok\": 2}\\n{\"a\": 1}\\000{\"b\": 2}\\n{\"ok\": 3}'; } | "
		"\"$0\" append --dir \"$1\" --key-dir \"$2\"";
	struct rusage ru;
	struct tl_proc p;

	(void)state;
	snprintf(trail, sizeof(trail), "%s/trail", dir);
	snprintf(keys, sizeof(keys), "%s/keys", dir);
	snprintf(key, sizeof(key), "%s/verify.key", keys);
	assert_int_equal(run_cli(&p, NULL, keygen), 0);
	tl_proc_free(&p);
	{
		const char *argv[] = { "/bin/sh", "-c", script, tl_cli(), trail, keys, NULL };

		assert_int_equal(tl_run(&p, NULL, 0, argv), 1);
	}
	assert_non_null(strstr(p.err, "stdin:2: line longer than 16 MiB, skipped"));
	assert_non_null(strstr(p.err, "stdin:4: not valid JSON"));
	tl_proc_free(&p);
	assert_int_equal(getrusage(RUSAGE_CHILDREN, &ru), 0);
	print_message("# peak RSS of the processes run so far: %ld KB\n", ru.ru_maxrss);
	assert_true(ru.ru_maxrss < 100 * 1024);
	assert_int_equal(run_cli(&p, NULL, verify), 0);
	assert_non_null(strstr(p.out, "\"entries\": 3,"));
	tl_proc_free(&p);
	tl_rmtree(dir);
	free(dir);
}

/* Quotes, backslashes, newlines, control characters, non-ASCII, astral
 * characters and invalid UTF-8 (as \udcNN) come back exactly. */
static void test_hostile_content_round_trips(void **state)
{
	char *dir = tl_tmpdir("hostile"), *in, *out, *both, trail[4096], keys[4096];
	const char *keygen[] = { "keygen", keys, NULL };
	const char *append[] = { "append", "--dir", trail, "--key-dir", keys, NULL };
	struct tl_proc p;

	(void)state;
	snprintf(trail, sizeof(trail), "%s/trail", dir);
	snprintf(keys, sizeof(keys), "%s/keys", dir);
	assert_int_equal(run_cli(&p, NULL, keygen), 0);
	tl_proc_free(&p);
	in = tl_python("import json, random\n"
		       "random.seed(7)\n"
		       "pool = ['\"', '\\\\', '\\n', '\\r', '\\x00', '\\x01', '\\x1f', '\\x7f', 'a',\n"
		       "        '\\u00e9', '\\u2028', '\\U0001f600', '\\udc80', '\\udcff', '/', ' ']\n"
		       "for i in range(100):\n"
		       "    s = ''.join(random.choice(pool) for _ in range(random.randint(1, 12)))\n"
		       "    o = {'file': {'path': '/tmp/' + s}, 'process': {'args': [s, s[::-1]]}, s: i}\n"
		       "    print(json.dumps(o, ensure_ascii=bool(i % 2)) if i % 2 else json.dumps(o))\n",
		       NULL, 0, NULL);
	assert_int_equal(run_cli(&p, in, append), 0);
	tl_proc_free(&p);
	both = malloc(strlen(trail) + strlen(in) + 2);
	sprintf(both, "%s\n%s", trail, in);
	out = tl_python("import sys, json, os\n"
			"t = sys.argv[1] if len(sys.argv) > 1 else None\n"
			"d, inp = sys.stdin.read().split('\\n', 1)\n"
			"want = [json.loads(l) for l in inp.splitlines()]\n"
			"got = []\n"
			"for f in sorted(os.listdir(d)):\n"
			"    for line in open(os.path.join(d, f), 'rb').read().split(b'\\n')[:-1]:\n"
			"        got.append(json.loads(line)['event'])\n"
			"assert got == want, (len(got), len(want))\n"
			"print('same')\n",
			both, strlen(both), NULL);
	assert_string_equal(out, "same\n");
	free(both);
	free(in);
	free(out);
	tl_rmtree(dir);
	free(dir);
}

/* ---- the tamper matrix -------------------------------------------------------------- */

/* Python that edits a trail copy; every operation leaves files a crash could
 * never leave, so verify must answer 1. */
static const char *tamper_py =
	"import sys, os, gzip, json, hashlib, hmac\n"
	"op, t, keys, other = sys.stdin.read().split('\\n')\n"
	"segs = sorted(f for f in os.listdir(t) if '.jsonl' in f)\n"
	"def rd(n):\n"
	"    d = open(os.path.join(t, n), 'rb').read()\n"
	"    return gzip.decompress(d) if n.endswith('.gz') else d\n"
	"def wr(n, data):\n"
	"    open(os.path.join(t, n), 'wb').write(gzip.compress(data) if n.endswith('.gz') else data)\n"
	"def lines(n): return rd(n).split(b'\\n')[:-1]\n"
	"def put(n, ls): wr(n, b''.join(l + b'\\n' for l in ls))\n"
	"dumps = lambda e: json.dumps(e, sort_keys=True).encode()\n"
	"def seal(e, key):\n"
	"    e.pop('hash', None); e.pop('signature', None)\n"
	"    e['hash'] = hashlib.sha256(dumps(e)).hexdigest()\n"
	"    if key: e['signature'] = hmac.new(key, e['hash'].encode(), hashlib.sha256).hexdigest()\n"
	"    return e\n"
	"wk = json.load(open(os.path.join(keys, 'writer.key')))\n"
	"kw, ew = bytes.fromhex(wk['key']), wk['epoch']\n"
	"last = segs[-1]\n"
	"L = lines(last)\n"
	"if op == 'event-byte':\n"
	"    L[2] = L[2].replace(b'\"pad\": \"0', b'\"pad\": \"1', 1); put(last, L)\n"
	"elif op == 'hash-digit':\n"
	"    i = L[2].index(b'\"hash\": \"') + 9\n"
	"    L[2] = L[2][:i] + (b'1' if L[2][i:i+1] != b'1' else b'2') + L[2][i+1:]; put(last, L)\n"
	"elif op == 'delete': del L[2]; put(last, L)\n"
	"elif op == 'swap': L[2], L[3] = L[3], L[2]; put(last, L)\n"
	"elif op == 'duplicate': L.insert(3, L[2]); put(last, L)\n"
	"elif op == 'foreign-line':\n"
	"    o = sorted(f for f in os.listdir(other) if f.endswith('.jsonl'))[-1]\n"
	"    L.insert(3, open(os.path.join(other, o), 'rb').read().split(b'\\n')[3]); put(last, L)\n"
	"elif op == 'junk-line': L.insert(3, b'{\"hello\": \"world\"}'); put(last, L)\n"
	"elif op in ('rehash-nokey', 'rehash-chain-nokey'):\n"
	"    e = json.loads(L[2]); e['event']['i'] = 999; sig = e['signature']\n"
	"    L[2] = dumps(seal(e, None) | {'signature': sig})\n"
	"    prev = e['hash']\n"
	"    if op == 'rehash-chain-nokey':\n"
	"        for j in range(3, len(L)):\n"
	"            e = json.loads(L[j]); sig = e['signature']; e['prev_hash'] = prev\n"
	"            L[j] = dumps(seal(e, None) | {'signature': sig}); prev = e['hash']\n"
	"    put(last, L)\n"
	"elif op in ('resign-old', 'resign-old-epoch', 'resign-rest'):\n"
	"    assert ew > 0\n"
	"    S = lines(segs[0])\n"
	"    e = json.loads(S[1]); e['event']['i'] = 777\n"
	"    if op != 'resign-old': e['epoch'] = ew\n"
	"    S[1] = dumps(seal(e, kw)); prev = e['hash']\n"
	"    if op == 'resign-rest':\n"
	"        for j in range(2, len(S)):\n"
	"            e = json.loads(S[j]); e['epoch'] = ew; e['prev_hash'] = prev\n"
	"            S[j] = dumps(seal(e, kw)); prev = e['hash']\n"
	"    put(segs[0], S)\n"
	"elif op == 'truncate-closed': S = lines(segs[0]); put(segs[0], S[:-1])\n"
	"elif op == 'truncate-closed-bytes':\n"
	"    p = os.path.join(t, segs[1]); d = open(p, 'rb').read(); open(p, 'wb').write(d[:len(d)//2])\n"
	"elif op == 'gzip-trailing':\n"
	"    p = os.path.join(t, segs[1]); assert p.endswith('.gz'); open(p, 'ab').write(b'{\"appended\": 1}\\n')\n"
	"elif op == 'truncate-closed-line':\n"
	"    d = rd(segs[1]); wr(segs[1], d[:-40])\n"
	"elif op == 'remove-segment': os.unlink(os.path.join(t, segs[1]))\n"
	"elif op == 'splice':\n"
	"    os.unlink(os.path.join(t, segs[1]))\n"
	"    open(os.path.join(t, segs[1]), 'wb').write(open(os.path.join(other, segs[1]), 'rb').read())\n"
	"elif op == 'rename':\n"
	"    n = int(segs[1][:20]) + 1\n"
	"    os.rename(os.path.join(t, segs[1]), os.path.join(t, '%020d' % n + segs[1][20:]))\n"
	"elif op == 'reorder':\n"
	"    a, b = rd(segs[1]), rd(segs[2]); wr(segs[1], b); wr(segs[2], a)\n"
	"elif op == 'drop-tail': put(last, L[:-2])\n"
	"elif op == 'drop-last-segment': os.unlink(os.path.join(t, last))\n"
	"elif op == 'empty':\n"
	"    for s in segs: os.unlink(os.path.join(t, s))\n"
	"elif op == 'first-segment-removed': os.unlink(os.path.join(t, segs[0]))\n"
	"elif op in ('symlink', 'fifo', 'directory'):\n"
	"    p = os.path.join(t, segs[1]); os.rename(p, p + '.moved')\n"
	"    if op == 'symlink': os.symlink(segs[1] + '.moved', p)\n"
	"    elif op == 'fifo': os.mkfifo(p)\n"
	"    else: os.mkdir(p)\n"
	"else: raise SystemExit('unknown op ' + op)\n"
	"print('done')\n";

static void tamper(const char *op, const char *trail)
{
	char *in = strdup(tl_fmt("%s\n%s\n%s\n%s", op, trail, B.keys, B.trail_b));
	char *out = tl_python(tamper_py, in, strlen(in), NULL);

	assert_string_equal(out, "done\n");
	free(out);
	free(in);
}

static void expect_detected(const char *op, bool needs_anchor)
{
	char *dir = copy_trail(), trail[4096];
	int st;

	snprintf(trail, sizeof(trail), "%s/t", dir);

	assert_int_equal(verify_status(trail, NULL), 0);	/* the copy is intact */
	tamper(op, trail);
	st = verify_status(trail, needs_anchor ? B.last_anchor : NULL);
	if (st != 1)
		fail_msg("%s: verify exited %d, not 1", op, st);
	if (needs_anchor && verify_status(trail, NULL) != 0)
		fail_msg("%s: expected to pass without the anchor", op);
	tl_rmtree(dir);
	free(dir);
}

#define TAMPER_TEST(name, op, anchor)                          \
	static void test_tamper_##name(void **state)           \
	{                                                      \
		(void)state;                                   \
		expect_detected(op, anchor);                   \
	}

TAMPER_TEST(event_byte, "event-byte", false)
TAMPER_TEST(hash_digit, "hash-digit", false)
TAMPER_TEST(delete, "delete", false)
TAMPER_TEST(swap, "swap", false)
TAMPER_TEST(duplicate, "duplicate", false)
TAMPER_TEST(foreign_line, "foreign-line", false)
TAMPER_TEST(junk_line, "junk-line", false)
TAMPER_TEST(rehash_without_key, "rehash-nokey", false)
TAMPER_TEST(rehash_chain_without_key, "rehash-chain-nokey", false)
TAMPER_TEST(old_entry_resigned_with_current_key, "resign-old", false)
TAMPER_TEST(old_entry_moved_to_current_epoch, "resign-old-epoch", false)
TAMPER_TEST(history_rewritten_with_current_key, "resign-rest", false)
TAMPER_TEST(closed_segment_truncated, "truncate-closed", false)
TAMPER_TEST(closed_segment_gzip_cut, "truncate-closed-bytes", false)
TAMPER_TEST(closed_segment_cut_mid_line, "truncate-closed-line", false)
TAMPER_TEST(closed_segment_gzip_trailing_bytes, "gzip-trailing", false)
TAMPER_TEST(segment_removed, "remove-segment", false)
TAMPER_TEST(first_segment_removed, "first-segment-removed", false)
TAMPER_TEST(segment_spliced_from_other_trail, "splice", false)
TAMPER_TEST(segment_renamed, "rename", false)
TAMPER_TEST(segments_reordered, "reorder", false)
TAMPER_TEST(tail_dropped, "drop-tail", true)
TAMPER_TEST(last_segment_dropped, "drop-last-segment", true)
TAMPER_TEST(empty_trail, "empty", false)
TAMPER_TEST(segment_replaced_by_symlink, "symlink", false)
TAMPER_TEST(segment_replaced_by_fifo, "fifo", false)
TAMPER_TEST(segment_replaced_by_directory, "directory", false)

/* ---- the reference verifier of docs/FORMAT.md ------------------------------------------- */

/* Runs the Python verifier printed in docs/FORMAT.md (so the document cannot
 * drift from the code); returns its exit status. */
static int reference_verify(const char *trail, const char *anchor)
{
	size_t len;
	char *doc = tl_read_file("docs/FORMAT.md", &len), *begin, *end, *script;
	const char *argv[] = { "/usr/bin/python3", "-c", NULL, tl_fmt("%s/verify.key", B.keys),
			       trail, anchor, NULL };
	struct tl_proc p;
	int st;

	begin = strstr(doc, "<!-- reference-verifier:begin -->\n```python\n");
	end = strstr(doc, "```\n<!-- reference-verifier:end -->");
	assert_non_null(begin);
	assert_non_null(end);
	begin += strlen("<!-- reference-verifier:begin -->\n```python\n");
	script = strndup(begin, (size_t)(end - begin));
	argv[2] = script;
	st = tl_run(&p, NULL, 0, argv);
	if (st == 0)
		assert_non_null(strstr(p.out, "OK "));
	/* A rejection is an exception about the trail; these are bugs of the script, which
	 * would otherwise pass for rejections. */
	else if (strstr(p.err, "NameError") || strstr(p.err, "SyntaxError") ||
		 strstr(p.err, "AttributeError") || strstr(p.err, "UnboundLocalError"))
		fail_msg("the reference verifier failed: %s", p.err);
	tl_proc_free(&p);
	free(script);
	free(doc);
	return st;
}

static void test_reference_verifier_agrees(void **state)
{
	static const char *ops[] = { "event-byte", "swap", "resign-old", "splice",
				     "truncate-closed", "reorder" };
	char *dir, trail[4096];
	size_t i;

	(void)state;
	assert_int_equal(reference_verify(B.trail, NULL), 0);
	assert_int_equal(reference_verify(B.trail, B.last_anchor), 0);
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		dir = copy_trail();
		snprintf(trail, sizeof(trail), "%s/t", dir);
		tamper(ops[i], trail);
		if (reference_verify(trail, NULL) == 0)
			fail_msg("reference verifier accepted %s", ops[i]);
		tl_rmtree(dir);
		free(dir);
	}
	dir = copy_trail();
	snprintf(trail, sizeof(trail), "%s/t", dir);
	tamper("drop-tail", trail);
	assert_int_equal(reference_verify(trail, NULL), 0);
	assert_int_not_equal(reference_verify(trail, B.last_anchor), 0);
	tl_rmtree(dir);
	free(dir);
}

/* A trail recovered from a torn write verifies with both verifiers. */
static void test_recovered_trail_verifies_everywhere(void **state)
{
	char *dir = copy_trail(), trail[4096], keys[4096], seg[4200];
	const char *cp[] = { "/bin/cp", "-r", B.keys, keys, NULL };
	struct tl_proc p;
	FILE *f;

	(void)state;
	snprintf(trail, sizeof(trail), "%s/t", dir);
	snprintf(keys, sizeof(keys), "%s/keys", dir);
	assert_int_equal(tl_run(&p, NULL, 0, cp), 0);
	tl_proc_free(&p);
	{
		char *py = tl_python("import os, sys\n"
				     "d = sys.stdin.read()\n"
				     "print(sorted(f for f in os.listdir(d) if f.endswith('.jsonl'))[-1], end='')\n",
				     trail, strlen(trail), NULL);

		snprintf(seg, sizeof(seg), "%s/%s", trail, py);
		free(py);
	}
	f = fopen(seg, "ab");
	assert_non_null(f);
	fputs("{\"epoch\": 3, \"event\": {\"half", f);
	fclose(f);
	assert_int_equal(verify_status(trail, NULL), 1);	/* torn tail */
	assert_int_not_equal(reference_verify(trail, NULL), 0);
	{
		const char *args[] = { "append", "--dir", trail, "--key-dir", keys, "--quiet", NULL };

		assert_int_equal(run_cli(&p, "{\"after\": \"crash\"}\n", args), 0);
		assert_non_null(strstr(p.err, "recovered an interrupted write"));
		tl_proc_free(&p);
	}
	assert_int_equal(verify_status(trail, NULL), 0);
	assert_int_equal(reference_verify(trail, NULL), 0);
	tl_rmtree(dir);
	free(dir);
}

/* ---- fuzz ------------------------------------------------------------------------------ */
static struct buf load_segment(const char *trail, const char *name)
{
	struct buf b = { 0 };
	char *data;
	size_t len;

	if (strstr(name, ".gz")) {
		gzFile gz = gzopen(tl_fmt("%s/%s", trail, name), "rb");
		char chunk[65536];
		int n;

		assert_non_null(gz);
		while ((n = gzread(gz, chunk, sizeof(chunk))) > 0)
			buf_append(&b, chunk, (size_t)n);
		gzclose(gz);
		return b;
	}
	data = tl_read_file(tl_fmt("%s/%s", trail, name), &len);
	buf_append(&b, data, len);
	free(data);
	return b;
}

static void store_segment(const char *trail, const char *name, const char *data, size_t len)
{
	const char *path = tl_fmt("%s/%s", trail, name);

	if (strstr(name, ".gz")) {
		gzFile gz;

		unlink(path);
		gz = gzopen(path, "wb");
		assert_non_null(gz);
		if (len)
			assert_int_equal(gzwrite(gz, data, (unsigned)len), (int)len);
		gzclose(gz);
	} else {
		tl_write_file(path, data, len);
	}
}

/* Random corruptions of the content (decompressed where compressed): byte
 * changes, deletions, insertions and cuts. With an anchor on the last entry,
 * every one must fail with exit 1: never 0, never a crash. */
static void test_fuzz_random_corruptions(void **state)
{
	static const char tokens[] = "{}[]\":, \\0123456789abcdef\nxu";
	char *dir = copy_trail(), trail[4096];
	struct segment_list l;
	int i, dirfd, rounds = 300;

	(void)state;
	snprintf(trail, sizeof(trail), "%s/t", dir);
	srand(2024);
	dirfd = open(trail, O_RDONLY | O_DIRECTORY);
	assert_int_equal(segment_list_read(dirfd, &l), 0);
	close(dirfd);
	for (i = 0; i < rounds; i++) {
		const char *name = l.v[(size_t)rand() % l.n].name;
		struct buf orig = load_segment(trail, name), mut = { 0 };
		size_t at, n;
		int st;

		buf_append(&mut, orig.data, orig.len);
		at = (size_t)rand() % orig.len;
		switch (rand() % 4) {
		case 0: {	/* change a byte to a different one */
			char c;

			do
				c = rand() % 2 ? tokens[rand() % (sizeof(tokens) - 1)] : (char)rand();
			while (c == mut.data[at]);
			mut.data[at] = c;
			break;
		}
		case 1:		/* delete a range */
			n = 1 + (size_t)rand() % 64;
			if (at + n > mut.len)
				n = mut.len - at;
			memmove(mut.data + at, mut.data + at + n, mut.len - at - n);
			mut.len -= n;
			break;
		case 2: {	/* insert bytes */
			char ins[8];
			size_t k;

			n = 1 + (size_t)rand() % sizeof(ins);
			for (k = 0; k < n; k++)
				ins[k] = tokens[rand() % (sizeof(tokens) - 1)];
			buf_reserve(&mut, n);
			memmove(mut.data + at + n, mut.data + at, mut.len - at);
			memcpy(mut.data + at, ins, n);
			mut.len += n;
			break;
		}
		default:	/* cut */
			mut.len = at;
		}
		store_segment(trail, name, mut.data, mut.len);
		st = verify_status(trail, B.last_anchor);
		if (st != 1)
			fail_msg("round %d (%s at %zu): verify exited %d", i, name, at, st);
		store_segment(trail, name, orig.data, orig.len);
		buf_free(&orig);
		buf_free(&mut);
	}
	assert_int_equal(verify_status(trail, B.last_anchor), 0);
	segment_list_free(&l);
	tl_rmtree(dir);
	free(dir);
}

/* A child that stops reading its input (a run that fails early, as under
 * test_out_of_memory_is_never_a_verdict) ends the input with EPIPE; it does not kill the
 * test with SIGPIPE. This child closes its stdin at once and keeps its outputs open a
 * while, so the input (more than a pipe holds) is still being written when it goes. */
static void test_run_survives_a_child_that_reads_nothing(void **state)
{
	const char *const argv[] = { "/bin/sh", "-c", "exec 0<&-; sleep 0.2", NULL };
	size_t len = 1u << 20;
	char *in = malloc(len);
	struct tl_proc p;

	(void)state;
	assert_non_null(in);
	memset(in, 'x', len);
	assert_int_equal(tl_run(&p, in, len, argv), 0);
	tl_proc_free(&p);
	free(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keygen_refuses_to_overwrite),
		cmocka_unit_test(test_verify_usage_and_io_errors_exit_2),
		cmocka_unit_test(test_wrong_key_fails),
		cmocka_unit_test(test_verify_reports_what_it_validated),
		cmocka_unit_test(test_append_reports_bad_lines_and_keeps_trail_valid),
		cmocka_unit_test(test_append_bounds_long_lines),
		cmocka_unit_test(test_run_survives_a_child_that_reads_nothing),
#if !defined(__SANITIZE_ADDRESS__)
		cmocka_unit_test(test_out_of_memory_is_never_a_verdict),
#endif
		cmocka_unit_test(test_hostile_content_round_trips),
		cmocka_unit_test(test_tamper_event_byte),
		cmocka_unit_test(test_tamper_hash_digit),
		cmocka_unit_test(test_tamper_delete),
		cmocka_unit_test(test_tamper_swap),
		cmocka_unit_test(test_tamper_duplicate),
		cmocka_unit_test(test_tamper_foreign_line),
		cmocka_unit_test(test_tamper_junk_line),
		cmocka_unit_test(test_tamper_rehash_without_key),
		cmocka_unit_test(test_tamper_rehash_chain_without_key),
		cmocka_unit_test(test_tamper_old_entry_resigned_with_current_key),
		cmocka_unit_test(test_tamper_old_entry_moved_to_current_epoch),
		cmocka_unit_test(test_tamper_history_rewritten_with_current_key),
		cmocka_unit_test(test_tamper_closed_segment_truncated),
		cmocka_unit_test(test_tamper_closed_segment_gzip_cut),
		cmocka_unit_test(test_tamper_closed_segment_gzip_trailing_bytes),
		cmocka_unit_test(test_tamper_closed_segment_cut_mid_line),
		cmocka_unit_test(test_tamper_segment_removed),
		cmocka_unit_test(test_tamper_first_segment_removed),
		cmocka_unit_test(test_tamper_segment_spliced_from_other_trail),
		cmocka_unit_test(test_tamper_segment_renamed),
		cmocka_unit_test(test_tamper_segments_reordered),
		cmocka_unit_test(test_tamper_tail_dropped),
		cmocka_unit_test(test_tamper_last_segment_dropped),
		cmocka_unit_test(test_tamper_empty_trail),
		cmocka_unit_test(test_tamper_segment_replaced_by_symlink),
		cmocka_unit_test(test_tamper_segment_replaced_by_fifo),
		cmocka_unit_test(test_tamper_segment_replaced_by_directory),
		cmocka_unit_test(test_reference_verifier_agrees),
		cmocka_unit_test(test_recovered_trail_verifies_everywhere),
		cmocka_unit_test(test_fuzz_random_corruptions),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
