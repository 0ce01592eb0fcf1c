/* timefmt: the trail's timestamps, ISO 8601 UTC with microseconds, as Python's
 * datetime.utcnow().isoformat() + "Z" writes them: 2026-11-27T17:24:11.123456Z */
#ifndef SEALTRAIL_TIMEFMT_H
#define SEALTRAIL_TIMEFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define TIME_ISO_LEN 27		/* without the NUL */

void time_format_iso(const struct timespec *ts, char out[TIME_ISO_LEN + 1]);

/* Parses YYYY-MM-DDTHH:MM:SS[.ffffff][Z]. strict (entries): the fraction has
 * exactly 6 digits when present. Otherwise (user input) 1 to 9 digits, and a
 * space may stand for the T. Returns 0 or -EINVAL. */
int time_parse_iso(const char *s, size_t len, bool strict, struct timespec *out);

#endif
