/* replay_tree: the process tree rooted at a pid (replay --tree), across pid
 * reuse. Processes are told apart by process.entity_id, which survives pid
 * reuse; a child hangs under the process named by its process.parent.entity_id
 * (the caller, for a fork event, whose process is the child). The first parent
 * seen wins: later events may name init or a subreaper once the real parent
 * has died.
 *
 * Two passes keep memory proportional to processes, not events, and make the
 * result independent of the order in which the agent wrote events from
 * different CPUs: replay_tree_learn() on every event records only who is whose
 * child; replay_tree_select() then picks the trees; replay_tree_record() on
 * every event of a second pass keeps, for the chosen processes only, their
 * execs (argv), their exit and the files they changed, each capped. */
#ifndef SEALTRAIL_REPLAY_TREE_H
#define SEALTRAIL_REPLAY_TREE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "replay_event.h"
#include "replay_filter.h"
#include "replay_text.h"

#define TREE_MAX_EXECS 8		/* execs kept per process */
#define TREE_MAX_FILES 16		/* distinct file changes kept per process */
#define TREE_MAX_ARGS 64		/* argv words kept per exec */
#define TREE_MAX_ARG_BYTES 8192		/* argv bytes kept per exec */

struct replay_tree;

/* A tree for the processes that had pid. Returns NULL when out of memory. */
struct replay_tree *replay_tree_new(uint64_t pid);

/* First pass: who is whose child. Returns 0 or -ENOMEM. */
int replay_tree_learn(struct replay_tree *t, const struct replay_event *ev);

/* Chooses the roots: every process that had the pid (and was seen within the
 * window's --since/--until, if given), unless it lies in the tree of another
 * such process. Returns the number of roots, or -ENOMEM. */
long replay_tree_select(struct replay_tree *t, const struct replay_filter *window);

/* Second pass: details of the chosen processes (events outside the window are
 * ignored). Returns 0 or -ENOMEM. */
int replay_tree_record(struct replay_tree *t, const struct replay_event *ev,
		       const struct replay_filter *window);

/* The trees, children indented under parents. Returns 0, or -ENOMEM when memory ran
 * out (the tree printed so far ends with a line saying it is incomplete). */
int replay_tree_text(struct replay_tree *t, FILE *f, const struct rtext_style *st);

/* The trees as one {"tree": {...}} line per process, in the order of the text
 * output (depth first, children in the order they were first seen). Returns 0
 * or -ENOMEM. */
int replay_tree_json(struct replay_tree *t, FILE *f);

void replay_tree_free(struct replay_tree *t);

#endif
