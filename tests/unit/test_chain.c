/* test_chain: digests, keys, the entry format against independently computed
 * answers (Python's hashlib/hmac/json), and the writer's behaviour across
 * restarts, rotation, torn writes, interrupted compression and full disks. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>
#include <zlib.h>
#include "testlib.h"
#include "chain.h"
#include "digest.h"
#include "entry.h"
#include "gunzip.h"
#include "keys.h"
#include "verify.h"

static const char *hexs(const uint8_t *p, size_t n)
{
	static char out[2 * 64 + 1];

	digest_hex(p, n, out);
	out[2 * n] = '\0';
	return out;
}

/* ---- digests and keys -------------------------------------------------------- */
static void test_hmac_known_answer(void **state)
{
	struct digest_hmac_key k;
	uint8_t mac[DIGEST_LEN], sha[DIGEST_LEN];

	(void)state;
	/* RFC 4231, test case 2. */
	digest_hmac_key_init(&k, (const uint8_t *)"Jefe", 4);
	digest_hmac(&k, "what do ya want for nothing?", 28, mac);
	assert_string_equal(hexs(mac, DIGEST_LEN),
			    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	/* FIPS 180-2 "abc". */
	digest_sha256("abc", 3, sha);
	assert_string_equal(hexs(sha, DIGEST_LEN),
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* A key longer than a block is hashed first (RFC 4231, test case 6). */
	{
		uint8_t longkey[131];

		memset(longkey, 0xaa, sizeof(longkey));
		digest_hmac_key_init(&k, longkey, sizeof(longkey));
		digest_hmac(&k, "Test Using Larger Than Block-Size Key - Hash Key First", 54, mac);
		assert_string_equal(hexs(mac, DIGEST_LEN), "60e431591ee0b67f0d8a26aacbf5b77f"
							   "8e0bc6213728c5140546040f0ee37f54");
	}
}

static void test_key_evolution_matches_python(void **state)
{
	uint8_t k0[KEY_LEN], k[KEY_LEN];
	char *py, *line;
	int e;

	(void)state;
	for (e = 0; e < KEY_LEN; e++)
		k0[e] = (uint8_t)e;
	py = tl_python("import hmac, hashlib\n"
		       "k = bytes(range(32))\n"
		       "for e in range(6):\n"
		       "    print(k.hex())\n"
		       "    k = hmac.new(k, b'evolve', hashlib.sha256).digest()\n",
		       NULL, 0, NULL);
	line = py;
	for (e = 0; e < 6; e++) {
		key_for_epoch(k0, (uint64_t)e, k);
		assert_memory_equal(line, hexs(k, KEY_LEN), 64);
		line += 65;
	}
	free(py);
}

/* An entry built from fixed inputs is byte for byte what Python builds. */
static void test_entry_known_answer(void **state)
{
	struct entry_head h = { .sequence = 5, .epoch = 2 };
	const char *event = "{\"file\": {\"path\": \"/tmp/a\\nb\\udcff\"}, \"n\": -1}";
	struct digest_hmac_key hk;
	uint8_t k0[KEY_LEN], k2[KEY_LEN];
	char hash[DIGEST_HEX_LEN + 1] = { 0 }, *py;
	struct buf out = { 0 };
	struct entry e;
	const char *why;
	size_t off;
	int i;

	(void)state;
	for (i = 0; i < KEY_LEN; i++)
		k0[i] = (uint8_t)i;
	key_for_epoch(k0, 2, k2);
	digest_hmac_key_init(&hk, k2, KEY_LEN);
	memset(h.prev_hash, 'a', DIGEST_HEX_LEN);
	memset(h.trail, 'c', TRAIL_ID_LEN);
	memcpy(h.timestamp, "2026-01-02T03:04:05.678901Z", TIME_ISO_LEN);
	assert_int_equal(entry_write(&out, &h, event, strlen(event), &hk, hash), 0);

	py = tl_python(
		"import hmac, hashlib, json, sys\n"
		"k = bytes(range(32))\n"
		"for _ in range(2): k = hmac.new(k, b'evolve', hashlib.sha256).digest()\n"
		"e = {'timestamp': '2026-01-02T03:04:05.678901Z', 'sequence': 5, 'epoch': 2,\n"
		"     'prev_hash': 'a' * 64, 'trail': 'c' * 32,\n"
		"     'event': {'file': {'path': '/tmp/a\\nb\\udcff'}, 'n': -1}}\n"
		"h = hashlib.sha256(json.dumps(e, sort_keys=True).encode()).hexdigest()\n"
		"e['hash'] = h\n"
		"e['signature'] = hmac.new(k, h.encode(), hashlib.sha256).hexdigest()\n"
		"sys.stdout.write(json.dumps(e, sort_keys=True) + '\\n')\n",
		NULL, 0, NULL);
	assert_int_equal(out.len, strlen(py));
	assert_memory_equal(out.data, py, out.len);
	/* The same vector, pinned, so a change of format cannot go unnoticed. */
	assert_string_equal(hash, "77f67131c880284d88eb140b5ec1a791371784933573ceace9724bffa7a99176");

	/* Parsing finds the same hash over the covered bytes. */
	assert_int_equal(entry_parse(out.data, out.len - 1, &e, &why, &off), 0);
	assert_int_equal(e.sequence, 5);
	assert_int_equal(e.epoch, 2);
	entry_hash(&e, hash);
	assert_memory_equal(hash, e.hash, DIGEST_HEX_LEN);
	free(py);
	buf_free(&out);
}

/* ---- the writer --------------------------------------------------------------- */
struct fixture {
	char *dir;
	char *mnt;	/* a test's tmpfs, unmounted by teardown whatever happened */
	char trail[4096], keys[4096];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->dir = tl_tmpdir("chain");
	snprintf(f->trail, sizeof(f->trail), "%s/trail", f->dir);
	snprintf(f->keys, sizeof(f->keys), "%s/keys", f->dir);
	assert_int_equal(keys_generate(f->keys), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->mnt) {
		umount2(f->mnt, MNT_DETACH);
		tl_rmtree(f->mnt);
		free(f->mnt);
	}
	tl_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static struct chain *open_chain(struct fixture *f, uint64_t seg_bytes, struct chain_status *st)
{
	struct chain_opts o = { .trail_dir = f->trail, .key_dir = f->keys,
				.segment_bytes = seg_bytes };
	struct chain_status dummy;
	struct chain *c = NULL;

	assert_int_equal(chain_open(&c, &o, st ? st : &dummy), 0);
	return c;
}

static void append_n(struct chain *c, int n, int from)
{
	char ev[128];
	int i;

	for (i = from; i < from + n; i++) {
		int len = snprintf(ev, sizeof(ev), "{\"i\": %d, \"pad\": \"%040d\"}", i, i);

		assert_int_equal(chain_append(c, ev, (size_t)len, "test"), 0);
	}
}

static enum verify_status verify(struct fixture *f, struct verify_result *r, bool live)
{
	struct verify_opts o = { .allow_torn_tail = live };
	uint8_t k0[KEY_LEN];

	assert_int_equal(keys_load_verify(tl_fmt("%s/verify.key", f->keys), k0), 0);
	o.k0 = k0;
	return verify_trail(f->trail, &o, r);
}

static void assert_verifies(struct fixture *f, struct verify_result *r)
{
	if (verify(f, r, false) != VERIFY_OK)
		fail_msg("verify: %s:%lu: %s", r->segment, (unsigned long)r->line, r->reason);
}

static void test_continues_across_restarts(void **state)
{
	struct fixture *f = *state;
	struct verify_result r;
	struct chain_status st;
	struct chain_stats s;
	struct chain *c;

	c = open_chain(f, 0, &st);
	assert_true(st.created);
	append_n(c, 3, 0);
	chain_close(c);
	c = open_chain(f, 0, &st);
	assert_false(st.created);
	chain_get_stats(c, &s);
	assert_int_equal(s.next_sequence, 3);
	append_n(c, 2, 3);
	chain_close(c);

	assert_verifies(f, &r);
	assert_int_equal(r.entries, 5);
	assert_int_equal(r.segments, 1);
	/* The active segment is append-only on this disk. */
	assert_true(tl_get_flags(tl_fmt("%s/00000000000000000000.jsonl", f->trail)) & FS_APPEND_FL);
}

static void test_one_writer_at_a_time(void **state)
{
	struct fixture *f = *state;
	struct chain_opts o = { .trail_dir = f->trail, .key_dir = f->keys };
	struct chain_status st;
	struct chain *c = open_chain(f, 0, NULL), *c2 = NULL;

	assert_int_equal(chain_open(&c2, &o, &st), -EBUSY);
	chain_close(c);
}

static void test_rotation_seals_compresses_and_evolves(void **state)
{
	struct fixture *f = *state;
	struct verify_result r;
	struct writer_key wk;
	struct segment_list l;
	uint8_t k0[KEY_LEN], k[KEY_LEN];
	struct chain *c;
	size_t i;
	int dirfd;

	c = open_chain(f, 4096, NULL);
	append_n(c, 200, 0);
	chain_close(c);

	assert_verifies(f, &r);
	assert_true(r.segments >= 4);
	assert_int_equal(r.seals, r.segments - 1);
	assert_int_equal(r.last_epoch, r.segments - 1);
	assert_int_equal(r.entries, 200 + r.seals);

	dirfd = open(f->trail, O_RDONLY | O_DIRECTORY);
	assert_int_equal(segment_list_read(dirfd, &l), 0);
	for (i = 0; i + 1 < l.n; i++) {
		assert_true(l.v[i].gz);
		assert_true(tl_get_flags(tl_fmt("%s/%s", f->trail, l.v[i].name)) &
			    FS_IMMUTABLE_FL);
	}
	assert_false(l.v[l.n - 1].gz);
	segment_list_free(&l);
	close(dirfd);

	/* The writer holds exactly the key of the last epoch: nothing older. */
	dirfd = open(f->keys, O_RDONLY | O_DIRECTORY);
	assert_int_equal(writer_key_load(dirfd, &wk), 0);
	close(dirfd);
	assert_int_equal(wk.epoch, r.last_epoch);
	assert_int_equal(keys_load_verify(tl_fmt("%s/verify.key", f->keys), k0), 0);
	key_for_epoch(k0, wk.epoch, k);
	assert_memory_equal(k, wk.key, KEY_LEN);
}

/* Appends bytes to a file behind the writer's back (as a crash mid-write would
 * leave them). */
static void append_raw(const char *path, const char *bytes)
{
	long flags = tl_get_flags(path);
	int fd;

	tl_clear_flags(path);
	fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes, strlen(bytes)), (ssize_t)strlen(bytes));
	close(fd);
	if (flags > 0) {
		int fl = (int)flags;

		fd = open(path, O_RDONLY);
		ioctl(fd, FS_IOC_SETFLAGS, &fl);
		close(fd);
	}
}

static void test_torn_tail_is_told_apart_and_recovered(void **state)
{
	struct fixture *f = *state;
	const char *seg = tl_fmt("%s/00000000000000000000.jsonl", f->trail);
	const char *torn = "{\"epoch\": 0, \"event\": {\"i\": 4";
	struct verify_result r;
	struct chain_status st;
	struct chain *c;

	c = open_chain(f, 0, NULL);
	append_n(c, 4, 0);
	chain_close(c);
	append_raw(seg, torn);

	/* Not an entry: refused, but named for what it is. */
	assert_int_equal(verify(f, &r, false), VERIFY_BROKEN);
	assert_non_null(strstr(r.reason, "torn tail"));
	assert_int_equal(r.entries, 4);
	assert_int_equal(r.torn_tail_bytes, strlen(torn));
	/* A live trail may be mid-write: accepted with a warning. */
	assert_int_equal(verify(f, &r, true), VERIFY_OK);

	/* A full disk can leave the next segment created but empty: still a torn
	 * tail at the end of the trail, not a broken middle. */
	tl_write_file(tl_fmt("%s/00000000000000000004.jsonl", f->trail), "", 0);
	assert_int_equal(verify(f, &r, false), VERIFY_BROKEN);
	assert_non_null(strstr(r.reason, "torn tail"));
	assert_int_equal(verify(f, &r, true), VERIFY_OK);

	c = open_chain(f, 0, &st);
	assert_int_equal(st.torn_bytes, strlen(torn));
	append_n(c, 2, 4);
	chain_close(c);
	assert_verifies(f, &r);
	assert_int_equal(r.recoveries, 1);
	assert_int_equal(r.entries, 4 + 1 + 2);
	assert_int_equal(r.segments, 2);
}

static void test_torn_only_segment_is_set_aside(void **state)
{
	struct fixture *f = *state;
	struct verify_result r;
	struct chain_status st;
	struct chain *c;
	const char *aside;

	c = open_chain(f, 0, NULL);
	append_n(c, 3, 0);
	chain_close(c);
	/* A crash during the very first write of a new segment. */
	tl_write_file(tl_fmt("%s/00000000000000000003.jsonl", f->trail), "{\"epo", 5);
	c = open_chain(f, 0, &st);
	assert_int_equal(st.torn_bytes, 5);
	chain_close(c);
	assert_verifies(f, &r);
	assert_int_equal(r.recoveries, 1);

	/* The bytes set aside are evidence too: changing them is detected. */
	aside = tl_fmt("%s/00000000000000000003.jsonl.torn", f->trail);
	tl_write_file(aside, "{\"epX", 5);
	assert_int_equal(verify(f, &r, false), VERIFY_BROKEN);
}

/* Returns the bytes of a segment, decompressed. */
static struct buf segment_bytes(const char *trail, const char *name)
{
	struct segment_reader *rd;
	struct buf b = { 0 };
	const char *line;
	size_t n;
	int dirfd = open(trail, O_RDONLY | O_DIRECTORY);

	assert_int_equal(segment_reader_open(dirfd, name, &rd), 0);
	while (segment_reader_next(rd, &line, &n) == 1) {
		buf_append(&b, line, n);
		buf_putc(&b, '\n');
	}
	segment_reader_close(rd);
	close(dirfd);
	return b;
}

/* Segment 0's .gz holds exactly `want`, and the trail verifies. */
static void assert_seg0_gz_equals(struct fixture *f, const struct buf *want)
{
	struct buf got = segment_bytes(f->trail, "00000000000000000000.jsonl.gz");
	struct verify_result r;

	assert_int_equal(got.len, want->len);
	assert_memory_equal(got.data, want->data, want->len);
	buf_free(&got);
	assert_verifies(f, &r);
}

static void test_interrupted_compression_is_finished(void **state)
{
	struct fixture *f = *state;
	const char *plain = tl_fmt("%s/00000000000000000000.jsonl", f->trail);
	const char *gz = tl_fmt("%s/00000000000000000000.jsonl.gz", f->trail);
	struct verify_result r;
	struct segment_list l;
	struct chain *c;
	struct buf seg0;
	char *other;
	size_t len;
	int dirfd;

	c = open_chain(f, 4096, NULL);
	append_n(c, 40, 0);
	chain_close(c);
	/* Bring back segment 0's plain file, as if compression had stopped just
	 * before removing it. */
	seg0 = segment_bytes(f->trail, "00000000000000000000.jsonl.gz");
	tl_write_file(plain, seg0.data, seg0.len);
	assert_int_equal(verify(f, &r, false), VERIFY_OK);	/* twins are fine */
	c = open_chain(f, 4096, NULL);
	chain_close(c);
	assert_int_equal(access(plain, F_OK), -1);
	assert_verifies(f, &r);

	/* A .gz that differs from its plain twin never replaces it: it is redone. */
	dirfd = open(f->trail, O_RDONLY | O_DIRECTORY);
	assert_int_equal(segment_list_read(dirfd, &l), 0);
	assert_true(l.n >= 2);
	other = tl_read_file(tl_fmt("%s/%s", f->trail, l.v[1].name), &len);
	segment_list_free(&l);
	close(dirfd);
	tl_write_file(plain, seg0.data, seg0.len);
	tl_write_file(gz, other, len);
	free(other);
	c = open_chain(f, 4096, NULL);
	chain_close(c);
	assert_int_equal(access(plain, F_OK), -1);
	assert_seg0_gz_equals(f, &seg0);
	buf_free(&seg0);
}

/* A segment handed over twice (the agent did, at start: a torn segment's recovery, then
 * the sweep of closed plain ones) is compressed once; the second call, finding no plain
 * file, must leave the only copy alone. It used to take the missing plain file for one
 * that differs from the .gz and remove the .gz: the segment was gone. */
static void test_compressing_twice_keeps_the_segment(void **state)
{
	struct fixture *f = *state;
	const char *plain = tl_fmt("%s/00000000000000000000.jsonl", f->trail);
	struct buf before;
	struct chain *c;
	int dirfd;

	c = open_chain(f, 4096, NULL);
	append_n(c, 40, 0);
	chain_close(c);
	before = segment_bytes(f->trail, "00000000000000000000.jsonl.gz");
	assert_int_equal(access(plain, F_OK), -1);
	dirfd = open(f->trail, O_RDONLY | O_DIRECTORY);
	assert_true(dirfd >= 0);
	assert_int_equal(segment_compress(dirfd, "00000000000000000000.jsonl"), 0);
	assert_int_equal(segment_compress(dirfd, "00000000000000000000.jsonl"), 0);
	/* Neither file: an error, and nothing is created. */
	assert_int_equal(segment_compress(dirfd, "00000000000000099999.jsonl"), -ENOENT);
	close(dirfd);
	assert_seg0_gz_equals(f, &before);
	buf_free(&before);
}

static void test_interrupted_seal_is_completed(void **state)
{
	struct fixture *f = *state;
	struct verify_result r;
	struct chain_status st;
	struct chain_stats s;
	char *old_key;
	size_t len;
	struct chain *c;

	c = open_chain(f, 0, NULL);
	append_n(c, 2, 0);
	old_key = tl_read_file(tl_fmt("%s/writer.key", f->keys), &len);
	assert_int_equal(chain_seal(c, "test"), 0);
	chain_close(c);
	/* As if the crash came after the seal reached the disk, before the key. */
	tl_write_file(tl_fmt("%s/writer.key", f->keys), old_key, len);
	free(old_key);
	c = open_chain(f, 0, &st);
	assert_true(st.completed_seal);
	chain_get_stats(c, &s);
	assert_int_equal(s.epoch, 1);
	append_n(c, 1, 2);
	chain_close(c);
	assert_verifies(f, &r);
	assert_int_equal(r.last_epoch, 1);
}

static void test_new_trail_needs_fresh_key(void **state)
{
	struct fixture *f = *state;
	struct chain_opts o = { .trail_dir = f->trail, .key_dir = f->keys };
	struct chain_status st;
	struct chain *c = open_chain(f, 0, NULL);

	append_n(c, 1, 0);
	assert_int_equal(chain_seal(c, "test"), 0);
	chain_close(c);
	/* Someone holding today's key cannot start the trail over. */
	o.trail_dir = tl_fmt("%s/other", f->dir);
	assert_int_equal(chain_open(&c, &o, &st), -ESTALE);
}

/* True when some line of some segment of the trail contains text. */
static bool trail_has(const char *trail, const char *text)
{
	struct segment_list l;
	bool found = false;
	size_t i;
	int dirfd = open(trail, O_RDONLY | O_DIRECTORY);

	assert_int_equal(segment_list_read(dirfd, &l), 0);
	for (i = 0; i < l.n && !found; i++) {
		struct segment_reader *rd;
		const char *line;
		size_t n;

		assert_int_equal(segment_reader_open(dirfd, l.v[i].name, &rd), 0);
		while (!found && segment_reader_next(rd, &line, &n) == 1)
			found = memmem(line, n, text, strlen(text)) != NULL;
		segment_reader_close(rd);
	}
	segment_list_free(&l);
	close(dirfd);
	return found;
}

/* A full disk: the writer keeps going, drops what it cannot write, and records
 * the gap (by kind) as soon as it can write again; the trail stays valid. */
static void test_full_disk_records_gap(void **state)
{
	struct fixture *f = *state;
	char *mnt = f->mnt = tl_tmpdir("tiny"), ev[256], filler[4096];
	struct verify_result r;
	struct chain_stats s;
	struct chain_opts o;
	struct chain_status st;
	struct chain *c;
	int i, fails = 0, fd;

	(void)state;
	if (geteuid() != 0 || mount("tmpfs", mnt, "tmpfs", 0, "size=64k"))
		skip();	/* teardown removes mnt */
	snprintf(f->trail, sizeof(f->trail), "%s/trail", mnt);
	o = (struct chain_opts){ .trail_dir = f->trail, .key_dir = f->keys, .write_bytes = 1 };
	assert_int_equal(chain_open(&c, &o, &st), 0);
	/* Append-only works on tmpfs since Linux 6.0; elsewhere it is reported. */
	assert_true(st.append_only_error == 0 || st.append_only_error == -EOPNOTSUPP);
	memset(filler, 'x', sizeof(filler));
	fd = open(tl_fmt("%s/filler", mnt), O_WRONLY | O_CREAT, 0600);
	for (i = 0; i < 400; i++) {
		int n = snprintf(ev, sizeof(ev), "{\"i\": %d, \"pad\": \"%0150d\"}", i, i);

		if (chain_append(c, ev, (size_t)n, i % 2 ? "odd" : "even"))
			fails++;
		if (i == 20)	/* fill the rest of the disk */
			while (write(fd, filler, sizeof(filler)) > 0)
				;
	}
	close(fd);
	assert_true(fails > 0);
	chain_get_stats(c, &s);
	assert_true(s.write_error != 0);
	unlink(tl_fmt("%s/filler", mnt));
	assert_int_equal(chain_flush(c, true), 0);
	chain_get_stats(c, &s);
	assert_int_equal(s.gaps_recorded, 1);
	assert_int_equal(s.entries_lost, (uint64_t)fails);
	append_n(c, 2, 1000);
	chain_close(c);

	assert_verifies(f, &r);
	/* The gap says why it happened. */
	assert_true(trail_has(f->trail, "\"errno\": \"ENOSPC\", \"error\": \"No space left on device\""));
	assert_int_equal(r.gaps, 1);
	assert_int_equal(r.gap_entries, (uint64_t)fails);
	assert_int_equal(r.entries + (uint64_t)fails, 400 + 1 + 2);
}

/* ---- gunzip: strict about what follows a member ----------------------------------- */

/* One gzip member of text, appended to path. */
static void gz_append(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	gzFile gz;

	assert_true(fd >= 0);
	gz = gzdopen(fd, "ab");
	assert_non_null(gz);
	assert_int_equal(gzwrite(gz, text, (unsigned)strlen(text)), (int)strlen(text));
	assert_int_equal(gzclose(gz), Z_OK);
}

static void raw_append(const char *path, const void *bytes, size_t len)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes, len), (ssize_t)len);
	close(fd);
}

/* Everything in path through gunzip, into out; the last gunzip_read() return. */
static ssize_t gunzip_all(const char *path, char *out, size_t cap, size_t *got)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct gunzip *g;
	ssize_t n;

	assert_true(fd >= 0);
	assert_int_equal(gunzip_open(&g, fd), 0);
	*got = 0;
	/* Small reads, so that members end inside and across calls. */
	while ((n = gunzip_read(g, out + *got, cap - *got < 7 ? cap - *got : 7)) > 0)
		*got += (size_t)n;
	gunzip_free(g);
	close(fd);
	return n;
}

static void test_gunzip_strict(void **state)
{
	char *dir = tl_tmpdir("gunzip"), out[256];
	const char *p = tl_fmt("%s/a.gz", dir);
	size_t got;

	(void)state;
	/* Two members and an empty one read as one stream: valid gzip. */
	gz_append(p, "first line\n");
	gz_append(p, "");
	gz_append(p, "second line\n");
	assert_int_equal(gunzip_all(p, out, sizeof(out), &got), 0);
	assert_int_equal(got, 23);
	assert_memory_equal(out, "first line\nsecond line\n", 23);

	/* Bytes after the last member that start no member: refused, not skipped. */
	raw_append(p, "{\"x\": 1}\n", 9);
	assert_int_equal(gunzip_all(p, out, sizeof(out), &got), -EBADMSG);
	p = tl_fmt("%s/b.gz", dir);
	gz_append(p, "line\n");
	raw_append(p, "\x1f", 1);	/* half a magic number */
	assert_int_equal(gunzip_all(p, out, sizeof(out), &got), -EBADMSG);

	/* Not gzip at all, and a member cut short. */
	p = tl_fmt("%s/c.gz", dir);
	tl_write_file(p, "plain text\n", 11);
	assert_int_equal(gunzip_all(p, out, sizeof(out), &got), -EBADMSG);
	p = tl_fmt("%s/d.gz", dir);
	gz_append(p, "a line that will be cut\n");
	assert_int_equal(truncate(p, 20), 0);
	assert_int_equal(gunzip_all(p, out, sizeof(out), &got), -EBADMSG);
	tl_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hmac_known_answer),
		cmocka_unit_test(test_key_evolution_matches_python),
		cmocka_unit_test(test_entry_known_answer),
		cmocka_unit_test(test_gunzip_strict),
		cmocka_unit_test_setup_teardown(test_continues_across_restarts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_writer_at_a_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation_seals_compresses_and_evolves, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail_is_told_apart_and_recovered, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_torn_only_segment_is_set_aside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interrupted_compression_is_finished, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_compressing_twice_keeps_the_segment, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_interrupted_seal_is_completed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_trail_needs_fresh_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_disk_records_gap, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
