/* replay_progress: a one-line progress indicator on stderr for long runs over
 * large trails. It is only ever drawn on a terminal (or when asked), redrawn at
 * most a few times a second, and erased before anything else is printed, so
 * that it never mixes into output that is piped or saved. */
#ifndef SEALTRAIL_REPLAY_PROGRESS_H
#define SEALTRAIL_REPLAY_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define PROGRESS_MIN_BYTES (50ull << 20)	/* smaller trails are done before it helps */

struct replay_progress {
	bool on;
	bool drawn;
	uint32_t calls;
	struct timespec last;
};

/* The bytes of the files in a trail directory (0 when it cannot be read). */
uint64_t replay_progress_trail_bytes(const char *dir);

/* on: draw at all. */
void replay_progress_init(struct replay_progress *p, bool on);

/* Cheap enough to call for every entry: looks at the clock every 1024 calls.
 * total 0 means unknown (no percentage). */
void replay_progress_tick(struct replay_progress *p, const char *what, uint64_t done,
			  uint64_t total);

/* Erases the line, if one is drawn. */
void replay_progress_clear(struct replay_progress *p);

#endif
