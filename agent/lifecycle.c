/* lifecycle: the agent's own entries (see lifecycle.h). */
#include "lifecycle.h"

#include <string.h>
#include "json.h"
#include "record.h"

static const char *const type_names[ST_TYPE_MAX] = {
	[ST_EXEC] = "exec",	  [ST_FORK] = "fork",	      [ST_EXIT] = "exit",
	[ST_CRED] = "credentials", [ST_PTRACE] = "ptrace",    [ST_MODULE] = "module",
	[ST_BPF] = "bpf-prog-load", [ST_MOUNT] = "mount",     [ST_UMOUNT] = "umount",
	[ST_OPEN] = "open",	  [ST_UNLINK] = "unlink",     [ST_RMDIR] = "rmdir",
	[ST_RENAME] = "rename",	  [ST_MKDIR] = "mkdir",	      [ST_LINK] = "link",
	[ST_SYMLINK] = "symlink", [ST_CHMOD] = "chmod",	      [ST_CHOWN] = "chown",
	[ST_TRUNCATE] = "truncate", [ST_XATTR] = "xattr",     [ST_SETFLAGS] = "chattr",
	[ST_SIGNAL] = "signal",
};

static const char *const cause_names[AGENT_LOSS_CAUSE_MAX] = {
	[ST_LOSS_RINGBUF_FULL] = "ringbuf_full",       [ST_LOSS_INFLIGHT_FULL] = "inflight_full",
	[ST_LOSS_NO_ENTER] = "no_enter",	       [ST_LOSS_TOO_LARGE] = "too_large",
	[ST_LOSS_PATH_INCOMPLETE] = "path_incomplete", [ST_LOSS_USER_FAULT] = "user_fault",
	[AGENT_LOSS_DECODE] = "decode_error",
};

const char *lifecycle_type_name(unsigned int type)
{
	return type < ST_TYPE_MAX && type_names[type] ? type_names[type] : "unknown";
}

const char *lifecycle_cause_name(unsigned int cause)
{
	return cause < AGENT_LOSS_CAUSE_MAX ? cause_names[cause] : "unknown";
}

bool lifecycle_cause_is_loss(unsigned int cause)
{
	/* Degradations: the event was written, with a field flagged incomplete. */
	return cause != ST_LOSS_PATH_INCOMPLETE && cause != ST_LOSS_USER_FAULT;
}

void lifecycle_start(struct buf *out, const struct start_info *si)
{
	struct jw w;
	size_t i;

	jw_init(&w, out);
	record_event_head(&w, "agent-start");
	jw_key(&w, "host");
	jw_object_begin(&w);
	jw_key(&w, "boot_id");
	jw_cstring(&w, si->boot_id);
	jw_key(&w, "hostname");
	jw_bytes(&w, si->hostname, strlen(si->hostname));
	jw_key(&w, "os");
	jw_object_begin(&w);
	jw_key(&w, "kernel");
	jw_bytes(&w, si->kernel, strlen(si->kernel));
	jw_object_end(&w);
	jw_object_end(&w);

	jw_key(&w, "sealtrail");
	jw_object_begin(&w);
	jw_key(&w, "agent");
	jw_object_begin(&w);
	jw_key(&w, "pid");
	jw_uint(&w, si->pid);
	jw_key(&w, "version");
	jw_cstring(&w, si->version);
	jw_object_end(&w);
	jw_key(&w, "config");
	jw_object_begin(&w);
	jw_key(&w, "digest");
	jw_cstring(&w, si->config_digest);
	jw_object_end(&w);
	jw_key(&w, "previous_run");
	jw_object_begin(&w);
	jw_key(&w, "ended");
	jw_cstring(&w, si->previous_run);
	if (si->previous_action && *si->previous_action) {
		jw_key(&w, "last_action");
		jw_cstring(&w, si->previous_action);
		jw_key(&w, "last_sequence");
		jw_uint(&w, si->previous_sequence);
	}
	jw_object_end(&w);
	/* The count, and by name only what did not attach, with why: the full list
	 * (over a hundred programs) would make every start entry kilobytes long. */
	jw_key(&w, "programs");
	jw_object_begin(&w);
	{
		uint64_t attached = 0;

		for (i = 0; i < si->nprograms; i++)
			attached += si->programs[i].attached;
		jw_key(&w, "attached");
		jw_uint(&w, attached);
	}
	jw_key(&w, "unavailable");
	jw_array_begin(&w);
	for (i = 0; i < si->nprograms; i++) {
		if (si->programs[i].attached)
			continue;
		jw_object_begin(&w);
		jw_key(&w, "name");
		jw_cstring(&w, si->programs[i].name);
		jw_key(&w, "why");
		jw_cstring(&w, si->programs[i].why ? si->programs[i].why : "unknown");
		jw_object_end(&w);
	}
	jw_array_end(&w);
	jw_object_end(&w);
	jw_key(&w, "trail");
	jw_object_begin(&w);
	jw_key(&w, "append_only");
	jw_bool(&w, si->append_only);
	if (si->torn_bytes) {
		jw_key(&w, "recovered_torn_bytes");
		jw_uint(&w, si->torn_bytes);
	}
	jw_object_end(&w);
	jw_object_end(&w);
	jw_object_end(&w);
}

/* {cause: {action: count}} for causes chosen by `losses`, skipping zeros. */
static bool put_counts(struct jw *w, const char *key, const uint64_t *v, bool losses)
{
	const char *order[AGENT_LOSS_CAUSE_MAX];
	unsigned int c, t, n = 0, i, j;
	bool any = false;

	for (c = 0; c < AGENT_LOSS_CAUSE_MAX; c++) {
		if (lifecycle_cause_is_loss(c) != losses)
			continue;
		for (t = 0; t < ST_TYPE_MAX; t++)
			if (v[c * ST_TYPE_MAX + t])
				break;
		if (t < ST_TYPE_MAX)
			order[n++] = cause_names[c];
	}
	if (!n)
		return false;
	/* causes in key order */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(order[j - 1], order[j]) > 0; j--) {
			const char *tmp = order[j];

			order[j] = order[j - 1];
			order[j - 1] = tmp;
		}
	jw_key(w, key);
	jw_object_begin(w);
	for (i = 0; i < n; i++) {
		const char *tnames[ST_TYPE_MAX];
		uint64_t counts[ST_TYPE_MAX];
		unsigned int m = 0, a, b;

		for (c = 0; c < AGENT_LOSS_CAUSE_MAX && strcmp(cause_names[c], order[i]); c++)
			;
		for (t = 0; t < ST_TYPE_MAX; t++) {
			if (!v[c * ST_TYPE_MAX + t])
				continue;
			tnames[m] = lifecycle_type_name(t);
			counts[m++] = v[c * ST_TYPE_MAX + t];
		}
		for (a = 1; a < m; a++)
			for (b = a; b > 0 && strcmp(tnames[b - 1], tnames[b]) > 0; b--) {
				const char *tn = tnames[b];
				uint64_t tc = counts[b];

				tnames[b] = tnames[b - 1];
				counts[b] = counts[b - 1];
				tnames[b - 1] = tn;
				counts[b - 1] = tc;
			}
		jw_key(w, order[i]);
		jw_object_begin(w);
		for (a = 0; a < m; a++) {
			jw_key(w, tnames[a]);
			jw_uint(w, counts[a]);
		}
		jw_object_end(w);
		any = true;
	}
	jw_object_end(w);
	return any;
}

void lifecycle_stop(struct buf *out, const struct run_stats *rs, const char *signal)
{
	struct jw w;

	jw_init(&w, out);
	record_event_head(&w, "agent-stop");
	jw_key(&w, "sealtrail");
	jw_object_begin(&w);
	jw_key(&w, "stats");
	jw_object_begin(&w);
	jw_key(&w, "backlog");
	jw_object_begin(&w);
	jw_key(&w, "full_waits");
	jw_uint(&w, rs->backlog_full_waits);
	jw_key(&w, "peak_bytes");
	jw_uint(&w, rs->backlog_peak_bytes);
	jw_object_end(&w);
	put_counts(&w, "degraded", rs->lost, false);
	jw_key(&w, "entries_lost");
	jw_uint(&w, rs->entries_lost);
	jw_key(&w, "events");
	jw_uint(&w, rs->events);
	put_counts(&w, "lost", rs->lost, true);
	jw_key(&w, "signal");
	jw_cstring(&w, signal);
	jw_object_end(&w);
	jw_object_end(&w);
	jw_object_end(&w);
}

void lifecycle_reload(struct buf *out, const char *digest, const char *error)
{
	struct jw w;

	jw_init(&w, out);
	record_event_head(&w, "config-reload");
	jw_key(&w, "sealtrail");
	jw_object_begin(&w);
	jw_key(&w, "config");
	jw_object_begin(&w);
	jw_key(&w, "digest");
	jw_cstring(&w, digest);
	if (error) {
		jw_key(&w, "error");
		jw_bytes(&w, error, strlen(error));
	}
	jw_object_end(&w);
	jw_object_end(&w);
	jw_object_end(&w);
}

void lifecycle_lost(struct buf *out, const uint64_t delta[AGENT_LOSS_SLOTS], const char *since,
		    const char *until)
{
	struct jw w;

	jw_init(&w, out);
	record_event_head(&w, "events-lost");
	jw_key(&w, "sealtrail");
	jw_object_begin(&w);
	put_counts(&w, "degraded", delta, false);
	put_counts(&w, "lost", delta, true);
	jw_key(&w, "since");
	jw_cstring(&w, since);
	jw_key(&w, "until");
	jw_cstring(&w, until);
	jw_object_end(&w);
	jw_object_end(&w);
}
