/* decode: turns a capture record into the event of a trail entry (docs/EVENTS.md),
 * written straight into canonical JSON in one pass: no tree, no allocation. */
#ifndef SEALTRAIL_DECODE_H
#define SEALTRAIL_DECODE_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "buf.h"
#include "sealtrail/event.h"

struct decoder;
struct proctable;
struct cgroups;

struct decoder_opts {
	/* Absolute directories whose changes are tampering: the trail, the keys. */
	const char *protect[4];
	size_t nprotect;
	char boot_id[33];		/* 32 hex digits */
};

int decoder_new(struct decoder **out, const struct decoder_opts *o, struct proctable *pt,
		struct cgroups *cg);
void decoder_free(struct decoder *d);

/* Re-measures the offset between the kernel's boot clock and UTC (call now and
 * then: NTP moves the wall clock). */
void decoder_sync_clock(struct decoder *d);

/* Appends the event for rec (size bytes, checked by capture) to out and returns
 * its event.action, or NULL when the record cannot be decoded (nothing is
 * appended). Keeps the process table up to date. */
const char *decoder_event(struct decoder *d, const struct st_record *rec, size_t size,
			  struct buf *out);

/* The UTC time of a boot-clock timestamp, and the entity id of a process, as
 * events carry them. */
void decoder_time(const struct decoder *d, uint64_t ktime_ns, char out[32]);
void decoder_entity_id(const struct decoder *d, uint32_t pid, uint64_t start_ns, char out[64]);

#endif
