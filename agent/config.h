/* config: the agent's configuration, one JSON file (parsed with cJSON), every
 * key optional: the defaults serve a real host with no file at all. Unknown keys
 * and out-of-range values are refused with a one-line error naming the key. */
#ifndef SEALTRAIL_CONFIG_H
#define SEALTRAIL_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "buf.h"
#include "capture.h"

struct string_list {
	char **v;
	size_t n;
};

struct agent_config {
	uint64_t segment_bytes;		/* rotate segments at this size */
	unsigned int epoch_seconds;	/* advance the key at least this often */
	unsigned int flush_ms;		/* at most this much of events is lost by a crash */
	unsigned int loss_check_ms;	/* how often kernel loss counters are read */
	uint32_t ringbuf_bytes;		/* power of two */
	uint32_t wakeup_bytes;		/* 0: capture's default */
	size_t backlog_bytes;		/* memory for records a stalled agent has not
					 * taken yet (0: none, the ring only) */

	uint32_t *ignore_uids;
	size_t n_ignore_uids;
	uint64_t *ignore_cgroups;
	size_t n_ignore_cgroups;
	struct string_list ignore_comms;
	struct string_list ignore_paths;
	struct string_list watch_paths;
	struct string_list sensitive_paths;
	bool record_exec_enoent;	/* also record execs failing with ENOENT (PATH search) */

	char digest[65];		/* SHA-256 of the canonical effective configuration */
};

/* Loads path (NULL: defaults only). Returns 0, or -EINVAL with a one-line
 * message in err ("key \"flush_ms\": ..."), or -errno when unreadable. */
int config_load(const char *path, struct agent_config *cfg, char *err, size_t errlen);
void config_free(struct agent_config *cfg);

/* The effective configuration as canonical JSON (what the digest covers). */
void config_write_json(struct buf *out, const struct agent_config *cfg);

/* Prints the effective configuration, indented, for people and config files. */
int config_print(const struct agent_config *cfg, FILE *f);

/* Points f at cfg's filter lists (valid while cfg lives). */
void config_filters(const struct agent_config *cfg, struct capture_filters *f);

#endif
