/* replay_fixture: trails for replay tests, and replay's output read back.
 *
 * A test builds a trail from JSON lines (today synthetic ECS events written in
 * Python with rf_ecs_py; in a system test, what the real agent wrote), runs
 * `sealtrail replay` or `stats` on it, and asserts on the answer: which events
 * came back (by their labels.tag, or by sequence), and the shape of a process
 * tree. Nothing here depends on how the trail was made. */
#ifndef SEALTRAIL_REPLAY_FIXTURE_H
#define SEALTRAIL_REPLAY_FIXTURE_H

#include <stddef.h>
#include "testlib.h"

struct rf_trail {
	char *dir;			/* scratch directory holding both */
	char trail[4096];		/* dir/trail */
	char keys[4096];		/* dir/keys */
	char verify_key[4200];		/* dir/keys/verify.key */
};

/* Creates a scratch directory with fresh keys; the trail does not exist yet. */
void rf_trail_init(struct rf_trail *t, const char *tag);

/* Appends JSON lines (one event each) with `sealtrail append`; segment_bytes
 * 0 keeps the default, a small value makes segments and epoch seals. */
void rf_trail_append(const struct rf_trail *t, const char *jsonl, size_t segment_bytes);

/* Removes the scratch directory. */
void rf_trail_free(struct rf_trail *t);

/* Runs `sealtrail CMD ARGS... TRAIL` (args NULL-terminated, at most 24) and
 * returns its exit status; a crash (status > 2) fails the test. trail NULL:
 * no trail argument. */
int rf_run(struct tl_proc *p, const char *trail, const char *cmd, const char *const *args);

/* From `replay --json` output: the events' labels.tag ("seal" for an epoch
 * seal, "-" for an event without a tag), space-separated, in output order.
 * Fails the test unless the first line is the verification object and every
 * other line an {"entry", "event"} object. malloc'd. */
char *rf_json_tags(const char *out, size_t len);

/* Runs `replay --json ARGS... TRAIL`, expects exit status `status`, and
 * returns rf_json_tags of its output. */
char *rf_replay_tags(const char *trail, const char *const *args, int status);

/* From `replay --tree PID --json` output: one line per process,
 *   "<2 spaces per depth>pid N NAME exec=EXE[argv...] exit=CODE files=ACTION:PATH,..."
 * with a line "root K" before each root. malloc'd. */
char *rf_tree_shape(const char *out, size_t len);

/* Python that builds ECS events as the agent writes them (docs/EVENTS.md).
 * A scenario appended to it calls:
 *   p = proc(pid, start, name, exe, parent, uid=, auid=, session=)
 *   child = fork(parent, pid, start, tag, t)     emits the fork (process = child)
 *   execve(p, tag, t, exe, argv)                 emits exec, p takes the new image
 *   exit_(p, tag, t, code)
 *   ev(tag, t, action, p, outcome=, error=, fields={'file.path': ...})
 *   agent(tag, t, action, fields={...})          the agent's own entries
 * t is seconds after 2024-03-10T02:00:00Z, or None for no @timestamp. Each
 * event carries labels.tag = tag. Events print as JSON lines. */
extern const char rf_ecs_py[];

/* Runs rf_ecs_py followed by scenario; returns the JSON lines (malloc'd). */
char *rf_events(const char *scenario);

#endif
