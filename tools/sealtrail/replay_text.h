/* replay_text: how replay prints events for people. Every string from the
 * trail is attacker-influenced (file names, argv, process names), so it is
 * printed unambiguously and can never drive the terminal:
 *
 *   \\  \"  \n  \t  \r       backslash, quote and the usual controls
 *   \xNN                     other control characters (C0, DEL), and bytes of
 *                            invalid UTF-8 (stored as U+DC80..U+DCFF)
 *   \uNNNN                   C1 controls, invisible and direction-changing
 *                            characters (bidi overrides, zero-width, line and
 *                            paragraph separators, no-break spaces) and lone
 *                            surrogates
 *
 * Anything else, including other non-ASCII text, prints as UTF-8. A string is
 * put in double quotes when it is empty or holds a space or a quote, so argv
 * words and names with spaces stay separable. */
#ifndef SEALTRAIL_REPLAY_TEXT_H
#define SEALTRAIL_REPLAY_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include "buf.h"
#include "json.h"
#include "replay_event.h"

struct rtext_style {
	bool color;		/* ANSI colours (only ever on a terminal, or when asked) */
};

enum rtext_color { RC_DIM, RC_BOLD, RC_RED, RC_ALERT, RC_STATE, RC_OK };

/* Colour on / off; no-ops without colour. */
void rtext_color(struct buf *b, const struct rtext_style *st, enum rtext_color c);
void rtext_reset(struct buf *b, const struct rtext_style *st);

/* A string from the trail (WTF-8), escaped as above; rtext_quoted also quotes. */
void rtext_escaped(struct buf *b, const char *s, size_t n);
void rtext_quoted(struct buf *b, const char *s, size_t n);
void rtext_rstr(struct buf *b, struct rstr s);	/* quoted, "?" when absent */

/* Any JSON value briefly: strings quoted, integers, true/false/null, arrays as
 * a,b,c and objects as {k=v k=v}. */
void rtext_value(struct buf *b, const struct jv *v);

/* argv words separated by spaces, each quoted as needed. */
void rtext_args(struct buf *b, const struct jv *args);

/* YYYY-MM-DDTHH:MM:SS.ffffffZ */
void rtext_time(struct buf *b, const struct timespec *t);

/* One timeline line (with its '\n'):
 *   #SEQ TIME PROCESS ACTION OBJECT RESULT [FLAGS] */
void rtext_event(struct buf *b, const struct replay_event *ev, const struct rtext_style *st);

/* The object of an event (what it acted on), as in the timeline. */
void rtext_object(struct buf *b, const struct replay_event *ev);

/* "ok", "failed CODE", or nothing when the event has no outcome. */
void rtext_result(struct buf *b, const struct replay_event *ev, const struct rtext_style *st);

/* "1h 02m 03s" */
void rtext_duration(struct buf *b, const struct timespec *from, const struct timespec *to);

#endif
