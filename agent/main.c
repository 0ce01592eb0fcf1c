/* sealtraild: the audit agent. Loads the capture programs and runs until
 * SIGINT/SIGTERM. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "sealtrail.skel.h"

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	stopping = sig;
}

int main(int argc, char **argv)
{
	struct sealtrail *skel;
	struct sigaction sa = { .sa_handler = on_signal };
	int err;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	skel = sealtrail__open_and_load();
	if (!skel) {
		fprintf(stderr, "sealtraild: cannot load BPF programs: %s\n", strerror(errno));
		return 1;
	}
	err = sealtrail__attach(skel);
	if (err) {
		fprintf(stderr, "sealtraild: cannot attach BPF programs: %s\n", strerror(-err));
		sealtrail__destroy(skel);
		return 1;
	}
	fprintf(stderr, "sealtraild: ready\n");
	while (!stopping)
		pause();
	fprintf(stderr, "sealtraild: stopping on signal %d\n", (int)stopping);
	sealtrail__destroy(skel);
	return 0;
}
