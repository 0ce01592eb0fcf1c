/* record: the chain's own entries (see record.h). */
#include "record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "timefmt.h"

void record_gap_count(struct record_gap *g, const char *tag, const struct timespec *now)
{
	size_t i;

	if (!tag)
		tag = "event";
	if (g->entries++ == 0)
		g->first = *now;
	g->last = *now;
	for (i = 0; i < g->ntags; i++)
		if (!strncmp(g->tags[i].tag, tag, RECORD_TAG_MAX - 1))
			break;
	if (i == g->ntags) {
		if (g->ntags == RECORD_MAX_TAGS)
			i = RECORD_MAX_TAGS - 1;	/* the last slot collects the rest */
		else
			g->ntags++;
		if (i == RECORD_MAX_TAGS - 1 && g->tags[i].count)
			strcpy(g->tags[i].tag, "other");
		else
			strncpy(g->tags[i].tag, tag, RECORD_TAG_MAX - 1);
	}
	g->tags[i].count++;
}

void record_event_head(struct jw *w, const char *action)
{
	jw_object_begin(w);
	jw_key(w, "event");
	jw_object_begin(w);
	jw_key(w, "action");
	jw_cstring(w, action);
	jw_key(w, "kind");
	jw_cstring(w, "state");
	jw_key(w, "module");
	jw_cstring(w, "sealtrail");
	jw_object_end(w);
}

static void head(struct jw *w, const char *action)
{
	record_event_head(w, action);
	jw_key(w, "sealtrail");
	jw_object_begin(w);
}

static void tail(struct jw *w)
{
	jw_object_end(w);
	jw_object_end(w);
}

void record_seal_event(struct buf *out, uint64_t next_epoch, const char *reason)
{
	struct jw w;

	jw_init(&w, out);
	head(&w, "epoch-seal");
	jw_key(&w, "next_epoch");
	jw_uint(&w, next_epoch);
	jw_key(&w, "reason");
	jw_cstring(&w, reason);
	tail(&w);
}

static int tag_cmp(const void *x, const void *y)
{
	return strcmp(x, y);	/* tag is the first member */
}

static void put_gap(struct jw *w, const struct record_gap *g, struct record_gap *sorted)
{
	char t[TIME_ISO_LEN + 1];
	const char *name;
	size_t i;

	*sorted = *g;
	qsort(sorted->tags, sorted->ntags, sizeof(sorted->tags[0]), tag_cmp);
	jw_key(w, "gap");
	jw_object_begin(w);
	jw_key(w, "entries");
	jw_uint(w, g->entries);
	name = strerrorname_np(-g->error);
	jw_key(w, "errno");
	jw_cstring(w, name ? name : "unknown");
	jw_key(w, "error");
	jw_cstring(w, strerror(-g->error));
	jw_key(w, "first");
	time_format_iso(&g->first, t);
	jw_string(w, t, TIME_ISO_LEN);
	jw_key(w, "last");
	time_format_iso(&g->last, t);
	jw_string(w, t, TIME_ISO_LEN);
	jw_key(w, "lost");
	jw_object_begin(w);
	for (i = 0; i < sorted->ntags; i++) {
		jw_key(w, sorted->tags[i].tag);
		jw_uint(w, sorted->tags[i].count);
	}
	jw_object_end(w);
	jw_object_end(w);
}

void record_recover_event(struct buf *out, const struct record_torn *torn,
			  const struct record_gap *gap)
{
	struct record_gap sorted;
	char hex[DIGEST_HEX_LEN];
	struct jw w;

	jw_init(&w, out);
	head(&w, "trail-recover");
	if (gap && gap->entries)
		put_gap(&w, gap, &sorted);
	jw_key(&w, "torn");
	jw_object_begin(&w);
	jw_key(&w, "bytes");
	jw_uint(&w, torn->bytes);
	jw_key(&w, "segment");
	jw_cstring(&w, torn->segment);
	jw_key(&w, "sha256");
	digest_hex(torn->sha256, DIGEST_LEN, hex);
	jw_string(&w, hex, DIGEST_HEX_LEN);
	jw_object_end(&w);
	tail(&w);
}

void record_gap_event(struct buf *out, const struct record_gap *gap)
{
	struct record_gap sorted;
	struct jw w;

	jw_init(&w, out);
	head(&w, "trail-gap");
	put_gap(&w, gap, &sorted);
	tail(&w);
}

bool record_maybe(const struct entry *e)
{
	/* Every record says it comes from module "sealtrail". */
	return memmem(e->event, e->event_len, "\"module\": \"sealtrail\"", 21) != NULL;
}

int record_parse(const struct entry *e, struct jv_arena *a, struct record_info *out)
{
	const struct jv *ev, *st, *action, *torn, *gap, *v;
	struct jv *root;
	int err;

	memset(out, 0, sizeof(*out));
	if (!record_maybe(e))
		return 0;
	jv_arena_reset(a);
	err = json_parse(a, e->event, e->event_len, &root, NULL);
	if (err)
		return err;
	ev = jv_get(root, "event");
	if (!jv_is_string(jv_get(ev, "module"), "sealtrail"))
		return 0;
	action = jv_get(ev, "action");
	st = jv_get(root, "sealtrail");
	if (jv_is_string(action, "epoch-seal")) {
		out->kind = RECORD_SEAL;
		return jv_to_u64(jv_get(st, "next_epoch"), &out->next_epoch) ? 0 : -EINVAL;
	}
	if (jv_is_string(action, "trail-recover"))
		out->kind = RECORD_RECOVER;
	else if (jv_is_string(action, "trail-gap"))
		out->kind = RECORD_GAP;
	else
		return 0;
	gap = jv_get(st, "gap");
	if (gap && !jv_to_u64(jv_get(gap, "entries"), &out->gap_entries))
		return -EINVAL;
	if (out->kind == RECORD_GAP)
		return gap ? 0 : -EINVAL;
	torn = jv_get(st, "torn");
	v = jv_get(torn, "segment");
	if (!v || v->type != JV_STRING || v->n >= sizeof(out->torn_segment) ||
	    !jv_to_u64(jv_get(torn, "bytes"), &out->torn_bytes))
		return -EINVAL;
	memcpy(out->torn_segment, v->str, v->n);
	v = jv_get(torn, "sha256");
	if (!v || v->type != JV_STRING || v->n != DIGEST_HEX_LEN ||
	    !hex_is_lower(v->str, DIGEST_HEX_LEN))
		return -EINVAL;
	memcpy(out->torn_sha256, v->str, DIGEST_HEX_LEN);
	out->has_torn = true;
	return 0;
}
