/* sealtrail append: appends JSON objects read from stdin, one per line, as the
 * events of new entries. A malformed line is reported by number and skipped;
 * the trail stays valid whatever the input. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "chain.h"
#include "cli.h"
#include "json.h"
#include "segment.h"

static void report_open(const char *trail, const struct chain_status *st)
{
	if (st->torn_bytes)
		fprintf(stderr, "sealtrail: append: recovered an interrupted write: %" PRIu64
			" bytes at the end of %s/%s are recorded in a new segment\n",
			st->torn_bytes, trail, st->torn_segment);
	if (st->append_only_error == -EOPNOTSUPP)
		fprintf(stderr, "sealtrail: append: warning: this filesystem cannot make %s "
			"append-only (chattr +a); its files are not protected against rewriting\n",
			trail);
	else if (st->append_only_error)
		fprintf(stderr, "sealtrail: append: warning: cannot make %s append-only: %s\n",
			trail, strerror(-st->append_only_error));
	if (st->key_ahead)
		fprintf(stderr, "sealtrail: append: warning: the writer key is at a later epoch "
			"than the trail's last entry: the end of the trail may be missing\n");
}

static int open_error(const char *trail, const char *keys, int err)
{
	switch (err) {
	case -EBUSY:
		cli_error("append", "%s is in use by another writer", trail);
		break;
	case -ENOENT:
		cli_error("append", "no %s/writer.key (create keys with `sealtrail keygen %s`)",
			  keys, keys);
		break;
	case -ESTALE:
		cli_error("append", "the writer key in %s has already been used: a new trail "
			  "needs new keys (`sealtrail keygen`)", keys);
		break;
	case -EBADMSG:
		cli_error("append", "the last entry of %s is not valid: check it with "
			  "`sealtrail verify`", trail);
		break;
	default:
		cli_error("append", "cannot open %s: %s", trail, strerror(-err));
	}
	return EXIT_USAGE;
}

int cmd_append(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "key-dir", required_argument, NULL, 'k' },
		{ "segment-bytes", required_argument, NULL, 's' },
		{ "quiet", no_argument, NULL, 'q' },
		{ 0 },
	};
	struct chain_opts co = { 0 };
	struct chain_status st;
	struct chain_stats stats;
	struct jv_arena *arena = NULL;
	struct chain *c = NULL;
	struct buf event = { 0 };
	unsigned long long size;
	uint64_t lineno = 0, bad = 0, appended = 0, first_seq = 0;
	bool quiet = false;
	struct segment_reader *in = NULL;
	bool end = false;
	const char *line;
	size_t len;
	int opt, err, rc, ret = 0;

	while ((opt = getopt_long(argc, argv, "q", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			co.trail_dir = optarg;
			break;
		case 'k':
			co.key_dir = optarg;
			break;
		case 's':
			if (cli_parse_size(optarg, &size) || size < 4096) {
				cli_error("append", "--segment-bytes wants a size of at least 4096, "
					  "not '%s'", optarg);
				return EXIT_USAGE;
			}
			co.segment_bytes = size;
			break;
		case 'q':
			quiet = true;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (!co.trail_dir || !co.key_dir || optind != argc) {
		fprintf(stderr, "usage: sealtrail append --dir TRAIL --key-dir KEYS "
				"[--segment-bytes N] [--quiet] < events.jsonl\n");
		return EXIT_USAGE;
	}
	arena = jv_arena_new();
	/* Lines are read as a segment's: one over 16 MiB is never held whole. */
	if (!arena || segment_reader_fdopen(STDIN_FILENO, &in)) {
		cli_error("append", "out of memory");
		jv_arena_free(arena);
		return EXIT_USAGE;
	}
	err = chain_open(&c, &co, &st);
	if (err) {
		jv_arena_free(arena);
		segment_reader_close(in);
		return open_error(co.trail_dir, co.key_dir, err);
	}
	report_open(co.trail_dir, &st);
	chain_get_stats(c, &stats);
	first_seq = stats.next_sequence;

	while (!end) {
		struct json_error jerr;
		struct jv *root;

		rc = segment_reader_next(in, &line, &len);
		if (rc == 0) {
			/* The last line may lack its newline. */
			line = segment_reader_tail(in, &len);
			if (!len)
				break;
			end = true;
		}
		lineno++;
		if (rc == -E2BIG) {
			/* Dropped; the next call skips the rest of it. */
			cli_error("append", "stdin:%" PRIu64 ": line longer than 16 MiB, skipped", lineno);
			bad++;
			continue;
		}
		if (rc < 0) {
			/* The rest of the input was not appended. */
			cli_error("append", "stdin:%" PRIu64 ": cannot read: %s", lineno,
				  strerror(-rc));
			ret = EXIT_USAGE;
			break;
		}
		jv_arena_reset(arena);
		err = json_parse(arena, line, (size_t)len, &root, &jerr);
		if (err == -ENOMEM) {
			/* Not the line's fault: stop, and say where the input was left. */
			cli_error("append", "stdin:%" PRIu64 ": out of memory; this line and the "
				  "rest of the input were not appended", lineno);
			ret = EXIT_USAGE;
			break;
		}
		if (err || root->type != JV_OBJECT) {
			cli_error("append", "stdin:%" PRIu64 ": %s%s (byte %zu), skipped", lineno,
				  err ? "not valid JSON: " : "not a JSON object",
				  err ? jerr.msg : "", err ? jerr.offset + 1 : (size_t)1);
			bad++;
			continue;
		}
		/* The entry wraps the event in one more level: keep it verifiable. */
		if (jv_depth(root) >= JSON_MAX_DEPTH) {
			cli_error("append", "stdin:%" PRIu64 ": nested deeper than %d levels, skipped",
				  lineno, JSON_MAX_DEPTH - 1);
			bad++;
			continue;
		}
		buf_reset(&event);
		json_write(&event, root);
		if (event.failed) {
			cli_error("append", "out of memory");
			ret = EXIT_USAGE;
			break;
		}
		err = chain_append(c, event.data, event.len, "event");
		if (err) {
			cli_error("append", "stdin:%" PRIu64 ": cannot write to %s: %s", lineno,
				  co.trail_dir, strerror(-err));
			ret = EXIT_USAGE;
			break;
		}
		appended++;
	}
	err = chain_flush(c, true);
	if (err && !ret) {
		cli_error("append", "cannot write to %s: %s", co.trail_dir, strerror(-err));
		ret = EXIT_USAGE;
	}
	chain_get_stats(c, &stats);
	chain_close(c);
	if (!quiet && appended)
		fprintf(stderr, "sealtrail: append: %" PRIu64 " entries appended to %s "
			"(sequences %" PRIu64 "..%" PRIu64 ", epoch %" PRIu64 ")\n", appended,
			co.trail_dir, first_seq, stats.next_sequence - 1, stats.epoch);
	if (bad && !ret) {
		cli_error("append", "%" PRIu64 " malformed input line%s skipped", bad,
			  bad == 1 ? "" : "s");
		ret = EXIT_BAD;
	}
	segment_reader_close(in);
	buf_free(&event);
	jv_arena_free(arena);
	return ret;
}
