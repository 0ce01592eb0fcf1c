/* sealtraild: the audit agent. Captures process and file security events with
 * eBPF and writes each as a sealed entry of a trail. Runs in the foreground
 * (systemd Type=notify); SIGTERM/SIGINT stop it cleanly, SIGHUP reloads. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "agent.h"
#include "capture.h"
#include "config.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: sealtraild --dir TRAIL --key-dir KEYS [--config FILE] [--pin-dir DIR]\n"
		   "       sealtraild --unpin --pin-dir DIR\n"
		   "\n"
		   "  --dir TRAIL      trail directory (created if missing)\n"
		   "  --key-dir KEYS   holds writer.key (see `sealtrail keygen`)\n"
		   "  --config FILE    JSON configuration (default: built-in; see docs/AGENT.md)\n"
		   "  --pin-dir DIR    bpffs directory: keep programs and ring buffer across restarts\n"
		   "  --print-config   print the effective configuration and exit\n"
		   "  --unpin          remove the programs and maps pinned in DIR, and exit\n"
		   "\n"
		   "signals: TERM/INT drain, write a stop entry and exit 0; HUP reloads the "
		   "configuration\n"
		   "exit status: 0 clean stop, 1 runtime failure, 2 usage or bad configuration\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "key-dir", required_argument, NULL, 'k' },
		{ "config", required_argument, NULL, 'c' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "print-config", no_argument, NULL, 'P' },
		{ "unpin", no_argument, NULL, 'U' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct agent_opts o = { 0 };
	bool print_config = false, unpin = false;
	int opt;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			o.trail_dir = optarg;
			break;
		case 'k':
			o.key_dir = optarg;
			break;
		case 'c':
			o.config_path = optarg;
			break;
		case 'p':
			o.pin_dir = optarg;
			break;
		case 'P':
			print_config = true;
			break;
		case 'U':
			unpin = true;
			break;
		case 'V':
			printf("sealtraild %s\n", SEALTRAIL_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (print_config) {
		struct agent_config cfg;
		char err[512];

		if (config_load(o.config_path, &cfg, err, sizeof(err))) {
			fprintf(stderr, "sealtraild: %s\n", err);
			return 2;
		}
		config_print(&cfg, stdout);
		config_free(&cfg);
		return 0;
	}
	if (unpin) {
		int err;

		if (!o.pin_dir || optind != argc) {
			usage(stderr);
			return 2;
		}
		err = capture_unpin(o.pin_dir);
		if (err) {
			fprintf(stderr, "sealtraild: cannot unpin %s: %s\n", o.pin_dir,
				err == -EINVAL ? "not on a bpf filesystem" : strerror(-err));
			return 1;
		}
		return 0;
	}
	if (!o.trail_dir || !o.key_dir || optind != argc) {
		usage(stderr);
		return 2;
	}
	return agent_run(&o);
}
