/* sealtrail stats: the aureport equivalent, counts by action and outcome, top
 * executables and users, recorded losses and tampering alerts, time span. It
 * is `sealtrail replay --summary` and takes the same key and filters; the
 * counting itself is replay_stats.c. */
#include "cmd_replay.h"

int cmd_stats(int argc, char **argv)
{
	return replay_run(argc, argv, true);
}
