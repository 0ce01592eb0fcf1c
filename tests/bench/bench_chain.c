/* bench_chain: entries per second the chain library appends, against the bare
 * cost of the cryptography it cannot avoid (SHA-256 over the covered bytes plus
 * HMAC-SHA256 of the hex hash) over the same bytes, measured in the same run.
 *
 *   bench_chain append DIR N     prints one JSON object with the figures: the
 *                                chain's until its last write() returned (page
 *                                cache) and until its fdatasync returned (disk),
 *                                the crypto's, the formatting's, and the disk's
 *                                own: the same bytes written and fdatasync'ed
 *                                with no chain at all, the limit of the durable
 *                                figure
 *   bench_chain trail DIR N      writes a trail of N entries in one plain
 *                                segment (for the verify benchmark)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include "chain.h"
#include "digest.h"
#include "entry.h"
#include "keys.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A realistic event: the shape and size of an open-for-write record. */
static size_t make_event(char *out, size_t cap, uint64_t i)
{
	int n = snprintf(out, cap,
		"{\"@timestamp\": \"2026-11-27T17:24:11.%06" PRIu64 "Z\", \"event\": {\"action\": "
		"\"open\", \"category\": [\"file\"], \"kind\": \"event\", \"ktime_ns\": %" PRIu64
		", \"outcome\": \"success\", \"type\": [\"creation\"]}, \"file\": {\"mode\": \"0644\", "
		"\"open_flags\": [\"O_WRONLY\", \"O_CREAT\", \"O_TRUNC\"], \"path\": "
		"\"/var/tmp/bench/dir%03" PRIu64 "/file-%08" PRIu64 ".dat\"}, \"process\": {\"cgroup\": "
		"{\"id\": 4242}, \"entity_id\": \"0123456789abcdef-%" PRIu64 "-%" PRIu64 "\", "
		"\"executable\": \"/usr/bin/python3.11\", \"name\": \"python3\", \"namespace\": "
		"{\"mnt\": 4026531841}, \"parent\": {\"entity_id\": \"0123456789abcdef-1000-1\", "
		"\"pid\": 1}, \"pid\": %" PRIu64 ", \"thread\": {\"id\": %" PRIu64 "}}, \"syscall\": "
		"{\"name\": \"openat\", \"result\": 3}, \"user\": {\"audit\": {\"id\": 1000, "
		"\"session\": 3}, \"effective\": {\"group\": {\"id\": 1000}, \"id\": 1000}, \"group\": "
		"{\"id\": 1000}, \"id\": 1000}}",
		i % 1000000, 1000000000 + i * 1000, i % 1000, i, 5000000000 + i, 2000 + i % 30000,
		2000 + i % 30000, 2000 + i % 30000);

	return (size_t)n < cap ? (size_t)n : cap - 1;
}

static int open_new_trail(const char *dir, uint64_t seg_bytes, struct chain **c)
{
	char keys[4096], trail[4096];
	struct chain_opts o = { 0 };
	struct chain_status st;
	int err;

	snprintf(keys, sizeof(keys), "%s/keys", dir);
	snprintf(trail, sizeof(trail), "%s/trail", dir);
	err = keys_generate(keys);
	if (err)
		return err;
	o.trail_dir = trail;
	o.key_dir = keys;
	o.segment_bytes = seg_bytes;
	return chain_open(c, &o, &st);
}

/* Events are formatted before the clock starts, RING of them used in turn: the
 * agent's cost of formatting an event is not the chain's, and subtracting a
 * separately timed formatting loop made both figures noisy. */
#define RING 256

/* The disk's limit for the durable figure: `bytes` written to a new file under dir in
 * 1 MiB writes, then fdatasync, as the chain's segment is. Seconds, or -1. */
static double disk_write_s(const char *dir, uint64_t bytes)
{
	static char block[1 << 20];
	char path[4096];
	double t0, t;
	int fd;

	memset(block, 'x', sizeof(block));
	snprintf(path, sizeof(path), "%s/disk.bench", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	t0 = now_s();
	while (bytes) {
		size_t k = bytes < sizeof(block) ? (size_t)bytes : sizeof(block);
		ssize_t w = write(fd, block, k);

		if (w <= 0)
			break;
		bytes -= (uint64_t)w;
	}
	t = !bytes && fdatasync(fd) == 0 ? now_s() - t0 : -1;
	close(fd);
	unlink(path);
	return t;
}

static int bench_append(const char *dir, uint64_t n)
{
	static char ev[RING][2048];
	static size_t ev_len[RING];
	struct digest_hmac_key hk;
	struct chain_stats s;
	struct chain *c;
	char hex[DIGEST_HEX_LEN];
	uint8_t key[KEY_LEN] = { 1 }, d[DIGEST_LEN];
	double t0, t_chain, t_written, t_crypto, t_format, t_disk;
	uint64_t i, bytes;
	int err;

	for (i = 0; i < RING; i++)
		ev_len[i] = make_event(ev[i], sizeof(ev[i]), i);

	/* One segment: compression runs in the agent's background thread, not here. */
	err = open_new_trail(dir, 1ull << 40, &c);
	if (err) {
		fprintf(stderr, "bench_chain: %s\n", strerror(-err));
		return 1;
	}
	t0 = now_s();
	for (i = 0; i < n; i++) {
		if (chain_append(c, ev[i % RING], ev_len[i % RING], "open")) {
			fprintf(stderr, "bench_chain: append failed\n");
			return 1;
		}
	}
	err = chain_flush(c, false);
	t_written = now_s() - t0;
	if (!err)
		err = chain_flush(c, true);
	t_chain = now_s() - t0;
	chain_get_stats(c, &s);
	bytes = s.bytes_written;
	chain_close(c);
	if (err || s.entries_written != n) {
		fprintf(stderr, "bench_chain: flush failed\n");
		return 1;
	}

	/* The unavoidable work over the same bytes: SHA-256 of each entry's covered
	 * bytes (the line without its hash and signature members: 158 bytes and the
	 * newline less) and HMAC of the hex hash. */
	digest_hmac_key_init(&hk, key, sizeof(key));
	{
		size_t covered = (size_t)(bytes / n) - 159, len;
		static char pad[4096];

		memset(pad, 'x', sizeof(pad));
		t0 = now_s();
		for (i = 0; i < n; i++) {
			struct digest_sha256 sha;

			len = ev_len[i % RING];
			digest_sha256_init(&sha);
			digest_sha256_update(&sha, ev[i % RING], len);
			digest_sha256_update(&sha, pad, covered > len ? covered - len : 0);
			digest_sha256_final(&sha, d);
			digest_hex(d, DIGEST_LEN, hex);
			digest_hmac(&hk, hex, DIGEST_HEX_LEN, d);
		}
		t_crypto = now_s() - t0;
	}
	/* The chain's own CPU without any I/O: the same entries formatted, hashed and
	 * signed into a buffer that is reused (what the time above adds to this is
	 * the kernel's cost of taking the bytes into the page cache). */
	{
		struct entry_head h = { .epoch = 0 };
		struct buf out = { 0 };
		char hash[DIGEST_HEX_LEN];

		memset(h.prev_hash, '0', DIGEST_HEX_LEN);
		memset(h.trail, 'a', TRAIL_ID_LEN);
		memcpy(h.timestamp, "2026-11-27T17:24:11.123456Z", TIME_ISO_LEN);
		t0 = now_s();
		for (i = 0; i < n; i++) {
			out.len = 0;
			h.sequence = i;
			if (entry_write(&out, &h, ev[i % RING], ev_len[i % RING], &hk, hash))
				return 1;
			memcpy(h.prev_hash, hash, DIGEST_HEX_LEN);
		}
		t_format = now_s() - t0;
		buf_free(&out);
	}
	t_disk = disk_write_s(dir, bytes);
	if (t_disk <= 0) {
		fprintf(stderr, "bench_chain: cannot time the disk in %s\n", dir);
		return 1;
	}
	printf("{\"entries\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"chain_s\": %.6f, "
	       "\"written_s\": %.6f, \"crypto_s\": %.6f, \"format_s\": %.6f, \"disk_s\": %.6f, "
	       "\"chain_entries_per_s\": %.0f, \"written_entries_per_s\": %.0f, "
	       "\"crypto_entries_per_s\": %.0f, \"format_entries_per_s\": %.0f, "
	       "\"disk_entries_per_s\": %.0f, \"ratio_to_crypto\": %.3f, "
	       "\"written_ratio_to_crypto\": %.3f, \"format_ratio_to_crypto\": %.3f, "
	       "\"ratio_to_disk\": %.3f}\n",
	       n, bytes, t_chain, t_written, t_crypto, t_format, t_disk, (double)n / t_chain,
	       (double)n / t_written, (double)n / t_crypto, (double)n / t_format,
	       (double)n / t_disk, t_crypto / t_chain, t_crypto / t_written, t_crypto / t_format,
	       t_disk / t_chain);
	return 0;
}

static int bench_trail(const char *dir, uint64_t n)
{
	struct chain *c;
	char ev[2048];
	uint64_t i;
	int err;

	/* One plain segment: verify then reads what sha256sum reads. */
	err = open_new_trail(dir, 1ull << 40, &c);
	if (err) {
		fprintf(stderr, "bench_chain: %s\n", strerror(-err));
		return 1;
	}
	for (i = 0; i < n; i++)
		if (chain_append(c, ev, make_event(ev, sizeof(ev), i), "open"))
			return 1;
	chain_close(c);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t n;

	if (argc != 4) {
		fprintf(stderr, "usage: bench_chain append|trail DIR N\n");
		return 2;
	}
	n = strtoull(argv[3], NULL, 10);
	if (!strcmp(argv[1], "append"))
		return bench_append(argv[2], n);
	if (!strcmp(argv[1], "trail"))
		return bench_trail(argv[2], n);
	return 2;
}
