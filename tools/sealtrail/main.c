/* sealtrail: the offline CLI. Verifies and replays trails on any machine; it
 * links the chain library and never libbpf. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "cmd_replay.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "keygen", cmd_keygen, "keygen DIR                 create verify.key and writer.key" },
	{ "append", cmd_append, "append --dir TRAIL --key-dir KEYS [--segment-bytes N]  < events" },
	{ "verify", cmd_verify, "verify --key VERIFY_KEY [--anchor SEQ:HASH] [--json] TRAIL" },
	{ "replay", cmd_replay,
	  "replay [--key VERIFY_KEY] [FILTERS] [--json] [--tree PID | --summary] TRAIL" },
	{ "stats", cmd_stats, "stats [--key VERIFY_KEY] [FILTERS] [--json] TRAIL" },
};

void cli_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sealtrail: %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_parse_size(const char *s, unsigned long long *out)
{
	unsigned long long v, mul = 1;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -1;
	v = strtoull(s, &end, 10);
	switch (*end) {
	case 'k': case 'K': mul = 1ull << 10; end++; break;
	case 'm': case 'M': mul = 1ull << 20; end++; break;
	case 'g': case 'G': mul = 1ull << 30; end++; break;
	}
	if (*end || (v && mul > ~0ull / v))
		return -1;
	*out = v * mul;
	return 0;
}

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: sealtrail COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %s\n", commands[i].summary);
	fprintf(f, "\nexit status: 0 ok, 1 bad input or broken trail, 2 usage or I/O error\n");
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("sealtrail %s\n", SEALTRAIL_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "sealtrail: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
