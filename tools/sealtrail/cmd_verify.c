/* sealtrail verify: checks a trail offline. Exit 0 when the whole trail holds,
 * 1 at the first integrity failure (printed as file:line: sequence N: reason),
 * 2 when the key or the trail cannot be read. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "json.h"
#include "keys.h"
#include "report.h"
#include "verify.h"

static int parse_anchor(const char *s, struct verify_anchor *a)
{
	const char *colon = strchr(s, ':');
	char *end;
	size_t i;

	if (!colon || colon == s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	a->sequence = strtoull(s, &end, 10);
	if (errno || end != colon || strlen(colon + 1) != DIGEST_HEX_LEN)
		return -1;
	for (i = 0; i < DIGEST_HEX_LEN; i++) {
		char c = colon[1 + i];

		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return -1;
		a->hash[i] = c;
	}
	a->found = false;
	return 0;
}

/* The report as one canonical JSON object; false when it could not be built. */
static bool print_json(const char *trail, const struct verify_result *r)
{
	struct buf b = { 0 };
	struct jw w;
	size_t i;
	bool ok;

	jw_init(&w, &b);
	jw_object_begin(&w);
	if (r->status != VERIFY_OK) {
		jw_key(&w, "failure");
		report_failure_json(&w, trail, r);
	}
	jw_key(&w, "signatures_checked");
	jw_bool(&w, r->signatures_checked);
	jw_key(&w, "status");
	jw_cstring(&w, report_status_name(r->status));
	jw_key(&w, "trail");
	jw_bytes(&w, trail, strlen(trail));
	jw_key(&w, "validated");
	jw_object_begin(&w);
	jw_key(&w, "anchors");
	jw_uint(&w, r->anchors_checked);
	jw_key(&w, "bytes");
	jw_uint(&w, r->bytes);
	jw_key(&w, "entries");
	jw_uint(&w, r->entries);
	if (r->entries) {
		jw_key(&w, "epochs");
		jw_array_begin(&w);
		jw_uint(&w, r->first_epoch);
		jw_uint(&w, r->last_epoch);
		jw_array_end(&w);
		jw_key(&w, "first_sequence");
		jw_uint(&w, r->first_sequence);
		jw_key(&w, "first_time");
		jw_cstring(&w, r->first_time);
	}
	jw_key(&w, "gap_entries");
	jw_uint(&w, r->gap_entries);
	jw_key(&w, "gaps");
	jw_uint(&w, r->gaps);
	if (r->entries) {
		jw_key(&w, "last_hash");
		jw_cstring(&w, r->last_hash);
		jw_key(&w, "last_sequence");
		jw_uint(&w, r->last_sequence);
		jw_key(&w, "last_time");
		jw_cstring(&w, r->last_time);
	}
	jw_key(&w, "recoveries");
	jw_uint(&w, r->recoveries);
	jw_key(&w, "seals");
	jw_uint(&w, r->seals);
	jw_key(&w, "segments");
	jw_uint(&w, r->segments);
	jw_key(&w, "torn_tail_bytes");
	jw_uint(&w, r->torn_tail_bytes);
	if (r->entries) {
		jw_key(&w, "trail_id");
		jw_cstring(&w, r->trail);
	}
	jw_object_end(&w);
	jw_key(&w, "warnings");
	jw_array_begin(&w);
	for (i = 0; i < r->nwarnings; i++)
		jw_bytes(&w, r->warnings[i], strlen(r->warnings[i]));
	jw_array_end(&w);
	jw_object_end(&w);
	ok = jw_ok(&w);
	if (ok)
		printf("%.*s\n", (int)b.len, b.data);
	buf_free(&b);
	return ok;
}

/* Returns false, having printed nothing, when memory runs out. */
static bool print_text(const char *trail, const struct verify_result *r)
{
	struct buf b = { 0 };
	size_t i;

	/* The failure and the warnings name files of the trail's directory: escaped. */
	if (r->status == VERIFY_BROKEN) {
		report_failure_place(&b, trail, r);
		buf_putc(&b, '\n');
	}
	for (i = 0; i < r->nwarnings; i++) {
		buf_puts(&b, "warning: ");
		report_put_bytes(&b, r->warnings[i]);
		buf_putc(&b, '\n');
	}
	if (b.failed) {
		buf_free(&b);
		return false;
	}
	fwrite(b.data ? b.data : "", 1, b.len, stdout);
	buf_free(&b);
	if (r->more_warnings)
		fprintf(stdout, "warning: ... and %" PRIu64 " more\n", r->more_warnings);
	if (r->status == VERIFY_OK)
		fprintf(stdout, "OK: %s holds: ", trail);
	else
		fprintf(stdout, "BROKEN: %s verified only up to the place above: ", trail);
	if (!r->entries) {
		fprintf(stdout, "no valid entries\n");
		return true;
	}
	fprintf(stdout, "%" PRIu64 " entries in %" PRIu64 " segment%s, sequence %" PRIu64
		"..%" PRIu64 ", epochs %" PRIu64 "..%" PRIu64 ", %s .. %s\n", r->entries,
		r->segments, r->segments == 1 ? "" : "s", r->first_sequence, r->last_sequence,
		r->first_epoch, r->last_epoch, r->first_time, r->last_time);
	fprintf(stdout, "    trail %s, last hash %s\n", r->trail, r->last_hash);
	fprintf(stdout, "    %s", r->signatures_checked ? "signatures checked"
						   : "signatures NOT checked (no key)");
	if (r->anchors_checked)
		fprintf(stdout, ", %zu anchor%s matched", r->anchors_checked,
			r->anchors_checked == 1 ? "" : "s");
	if (r->gaps)
		fprintf(stdout, ", %" PRIu64 " recorded gap%s (%" PRIu64 " entries not written)",
			r->gaps, r->gaps == 1 ? "" : "s", r->gap_entries);
	fprintf(stdout, "\n");
	return true;
}

int cmd_verify(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "anchor", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "live", no_argument, NULL, 'l' },
		{ 0 },
	};
	struct verify_anchor *anchors = NULL, *na;
	struct verify_opts vo = { 0 };
	struct verify_result *r = NULL;
	const char *key_path = NULL, *trail;
	uint8_t k0[KEY_LEN];
	size_t nanchors = 0;
	bool json = false;
	int opt, err, ret;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'k':
			key_path = optarg;
			break;
		case 'a':
			na = realloc(anchors, (nanchors + 1) * sizeof(*na));
			if (!na) {
				cli_error("verify", "out of memory");
				free(anchors);
				return EXIT_USAGE;
			}
			anchors = na;
			if (parse_anchor(optarg, &anchors[nanchors])) {
				cli_error("verify", "--anchor wants SEQUENCE:HASH (64 hex digits), not '%s'",
					  optarg);
				free(anchors);
				return EXIT_USAGE;
			}
			nanchors++;
			break;
		case 'j':
			json = true;
			break;
		case 'l':
			vo.allow_torn_tail = true;
			break;
		default:
			free(anchors);
			return EXIT_USAGE;
		}
	}
	if (!key_path || optind + 1 != argc) {
		fprintf(stderr, "usage: sealtrail verify --key VERIFY_KEY [--anchor SEQ:HASH]... "
				"[--json] [--live] TRAIL\n");
		free(anchors);
		return EXIT_USAGE;
	}
	trail = argv[optind];
	err = keys_load_verify(key_path, k0);
	if (err) {
		cli_error("verify", "cannot read the verify key %s: %s", key_path,
			  err == -EINVAL ? "not 64 hex digits" : strerror(-err));
		free(anchors);
		return EXIT_USAGE;
	}
	r = malloc(sizeof(*r));
	if (!r) {
		cli_error("verify", "out of memory");
		free(anchors);
		return EXIT_USAGE;
	}
	vo.k0 = k0;
	vo.anchors = anchors;
	vo.nanchors = nanchors;
	verify_trail(trail, &vo, r);
	explicit_bzero(k0, sizeof(k0));
	if (r->status == VERIFY_IO) {
		struct buf place = { 0 };

		report_failure_place(&place, trail, r);
		if (place.failed)
			cli_error("verify", "%s", r->reason);
		else
			cli_error("verify", "%.*s", (int)place.len, place.data ? place.data : "");
		buf_free(&place);
		if (json)
			print_json(trail, r);	/* best effort: the error is said already */
		ret = EXIT_USAGE;
	} else {
		ret = r->status == VERIFY_OK ? 0 : EXIT_BAD;
		if (json ? !print_json(trail, r) : !print_text(trail, r)) {
			cli_error("verify", "out of memory for the report");
			ret = EXIT_USAGE;
		}
	}
	/* A report that did not reach its reader must not pass for a verified trail. */
	if (fflush(stdout) || ferror(stdout)) {
		cli_error("verify", "cannot write the report: %s", strerror(errno));
		ret = EXIT_USAGE;
	}
	free(r);
	free(anchors);
	return ret;
}
