/* sealtrail: the offline CLI (keygen, append, verify, replay). */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--version")) {
		printf("sealtrail %s\n", SEALTRAIL_VERSION);
		return 0;
	}
	fprintf(stderr, "usage: sealtrail COMMAND ...\n");
	return 2;
}
