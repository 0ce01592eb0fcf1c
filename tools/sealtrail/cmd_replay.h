/* cmd_replay: `sealtrail replay` and `sealtrail stats` (which is replay
 * --summary): the same options, filters and verification, different output. */
#ifndef SEALTRAIL_CMD_REPLAY_H
#define SEALTRAIL_CMD_REPLAY_H

#include <stdbool.h>

int cmd_replay(int argc, char **argv);
int cmd_stats(int argc, char **argv);

/* Runs replay; summary_command: invoked as `stats`. Returns the exit status. */
int replay_run(int argc, char **argv, bool summary_command);

#endif
