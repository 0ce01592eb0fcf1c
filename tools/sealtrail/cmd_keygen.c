/* sealtrail keygen DIR: a new key pair for a new trail. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "keys.h"

int cmd_keygen(int argc, char **argv)
{
	int err;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: sealtrail keygen DIR\n");
		return EXIT_USAGE;
	}
	err = keys_generate(argv[1]);
	if (err == -EEXIST) {
		cli_error("keygen", "%s already holds keys: refusing to overwrite them", argv[1]);
		return EXIT_BAD;
	}
	if (err) {
		cli_error("keygen", "cannot create keys in %s: %s", argv[1], strerror(-err));
		return EXIT_USAGE;
	}
	printf("created %s/" VERIFY_KEY_FILE " (keep it offline: it verifies the trail) and "
	       "%s/" WRITER_KEY_FILE " (the writer's evolving key)\n", argv[1], argv[1]);
	return 0;
}
