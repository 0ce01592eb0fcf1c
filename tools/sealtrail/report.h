/* report: how the CLI states what verification found, the same words in `verify`,
 * `replay` and `stats`. */
#ifndef SEALTRAIL_REPORT_H
#define SEALTRAIL_REPORT_H

#include "buf.h"
#include "json.h"
#include "verify.h"

/* "ok", "broken" or "error". */
const char *report_status_name(enum verify_status st);

/* Bytes from outside the trail's JSON (the trail's path as given, file names in
 * reasons and warnings), escaped as safely as the trail's own strings: a file named
 * with terminal escapes or a newline cannot forge a line of the report. */
void report_put_bytes(struct buf *b, const char *s);

/* "TRAIL[/SEGMENT][:LINE][: sequence N]: reason", escaped. */
void report_failure_place(struct buf *b, const char *trail, const struct verify_result *r);

/* The value of "failure": {"file", "line", "reason", "sequence"}. "file" is the segment,
 * or the trail itself when the failure is the whole trail's. */
void report_failure_json(struct jw *w, const char *trail, const struct verify_result *r);

#endif
