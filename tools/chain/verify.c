/* verify: the offline verifier (see verify.h and docs/FORMAT.md). Every check
 * that fails names the first bad place; nothing after it is trusted. */
#include "verify.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "json.h"
#include "record.h"

static const char zero_hash[DIGEST_HEX_LEN + 1] =
	"0000000000000000000000000000000000000000000000000000000000000000";

struct pool;

struct verifier {
	const struct verify_opts *o;
	struct verify_result *r;
	int dirfd;
	struct jv_arena *arena;
	struct pool *pool;		/* helper threads, NULL: every line checked here */

	uint64_t expected_seq;
	char prev_hash[DIGEST_HEX_LEN];
	bool started;
	uint64_t epoch;			/* epoch of the entries so far */
	bool sealed;			/* the last entry was a seal */
	uint64_t key_epoch;		/* epoch of key/hk */
	uint8_t key[KEY_LEN];
	struct digest_hmac_key hk;
	struct timespec last_time;

	/* a torn tail in the previous segment, to be accounted for */
	bool torn_pending;
	char torn_segment[SEGMENT_NAME_MAX];
	uint64_t torn_bytes;
	uint8_t torn_sha[DIGEST_LEN];
};

static void warn(struct verifier *v, const char *fmt, ...)
{
	struct verify_result *r = v->r;
	va_list ap;

	if (r->nwarnings == VERIFY_MAX_WARNINGS) {
		r->more_warnings++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(r->warnings[r->nwarnings++], VERIFY_WARNING_LEN, fmt, ap);
	va_end(ap);
}

static enum verify_status fail(struct verifier *v, enum verify_status st, const char *segment,
			       uint64_t line, const struct entry *e, const char *fmt, ...)
{
	struct verify_result *r = v->r;
	va_list ap;

	r->status = st;
	snprintf(r->segment, sizeof(r->segment), "%s", segment ? segment : "");
	r->line = line;
	r->has_sequence = e != NULL;
	r->sequence = e ? e->sequence : 0;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
	return st;
}

/* The HMAC key of epoch e; epochs only ever move forward one at a time. */
static const struct digest_hmac_key *key_of(struct verifier *v, uint64_t epoch)
{
	if (epoch != v->key_epoch) {
		while (v->key_epoch < epoch) {
			key_evolve(v->key);
			v->key_epoch++;
		}
		digest_hmac_key_wipe(&v->hk);
		digest_hmac_key_init(&v->hk, v->key, KEY_LEN);
	}
	return &v->hk;
}

/* Checks a set-aside torn file named by a recovery record, when it is there. */
static enum verify_status check_set_aside(struct verifier *v, const struct record_info *ri,
					  const char *seg, uint64_t line, const struct entry *e)
{
	struct segment_reader *rd;
	uint8_t sha[DIGEST_LEN];
	char hex[DIGEST_HEX_LEN];
	const char *l;
	size_t n, torn;
	int ret;

	if (segment_reader_open(v->dirfd, ri->torn_segment, &rd)) {
		warn(v, "%s: the torn bytes set aside in %s are no longer there", seg,
		     ri->torn_segment);
		return VERIFY_OK;
	}
	while ((ret = segment_reader_next(rd, &l, &n)) == 1)
		;
	torn = segment_reader_torn(rd, sha);
	segment_reader_close(rd);
	if (ret == -ENOMEM)
		return fail(v, VERIFY_IO, seg, line, e, "out of memory");
	digest_hex(sha, DIGEST_LEN, hex);
	if (ret != 0 || torn != ri->torn_bytes || memcmp(hex, ri->torn_sha256, DIGEST_HEX_LEN))
		return fail(v, VERIFY_BROKEN, seg, line, e,
			    "the torn bytes set aside in %s differ from what the recovery entry records",
			    ri->torn_segment);
	return VERIFY_OK;
}

/* The chain's own records: seals move the epoch, recoveries account for torn
 * tails, gaps are losses the responder must see. */
static enum verify_status check_record(struct verifier *v, const struct entry *e, const char *seg,
				       uint64_t line, bool first_in_segment, bool maybe_record)
{
	struct record_info ri;
	char hex[DIGEST_HEX_LEN];
	int err;

	/* record_parse() would find no record without its cheap test passing. */
	if (!maybe_record)
		memset(&ri, 0, sizeof(ri));
	else if ((err = record_parse(e, v->arena, &ri)))
		/* Running out of memory says nothing about the trail. */
		return err == -ENOMEM ? fail(v, VERIFY_IO, seg, line, e, "out of memory")
				      : fail(v, VERIFY_BROKEN, seg, line, e,
					     "malformed sealtrail record");
	if (v->torn_pending) {
		digest_hex(v->torn_sha, DIGEST_LEN, hex);
		if (!first_in_segment || ri.kind != RECORD_RECOVER || !ri.has_torn ||
		    strcmp(ri.torn_segment, v->torn_segment) || ri.torn_bytes != v->torn_bytes ||
		    memcmp(ri.torn_sha256, hex, DIGEST_HEX_LEN))
			return fail(v, VERIFY_BROKEN, v->torn_segment, 0, NULL,
				    "ends with %" PRIu64 " bytes of an incomplete line that the next "
				    "segment does not account for (truncated or modified)",
				    v->torn_bytes);
		v->torn_pending = false;
	} else if (ri.kind == RECORD_RECOVER) {
		/* Only a segment whose torn predecessor was set aside may start so. */
		size_t n = strlen(ri.torn_segment);

		if (!first_in_segment || n < 5 || strcmp(ri.torn_segment + n - 5, ".torn"))
			return fail(v, VERIFY_BROKEN, seg, line, e,
				    "recovery entry for a torn tail that is not there");
		enum verify_status st = check_set_aside(v, &ri, seg, line, e);

		if (st)
			return st;
	}
	switch (ri.kind) {
	case RECORD_SEAL:
		if (ri.next_epoch != e->epoch + 1)
			return fail(v, VERIFY_BROKEN, seg, line, e,
				    "seal names epoch %" PRIu64 " as next, not %" PRIu64,
				    ri.next_epoch, e->epoch + 1);
		v->sealed = true;
		v->r->seals++;
		break;
	case RECORD_RECOVER:
		v->r->recoveries++;
		if (ri.has_torn)
			warn(v, "%s: sequence %" PRIu64 ": recovered after an incomplete write "
			     "(%" PRIu64 " bytes in %s)", seg, e->sequence, ri.torn_bytes,
			     ri.torn_segment);
		/* a recovery may also record a gap */
		__attribute__((fallthrough));
	case RECORD_GAP:
		if (ri.gap_entries) {
			v->r->gaps++;
			v->r->gap_entries += ri.gap_entries;
			warn(v, "%s: sequence %" PRIu64 ": %" PRIu64 " entries could not be written "
			     "(recorded gap)", seg, e->sequence, ri.gap_entries);
		}
		break;
	case RECORD_NONE:
		break;
	}
	return VERIFY_OK;
}

/* What can be checked of a line without knowing the lines before it: its form
 * and its hash. Helper threads compute this ahead of check_entry(). */
struct precheck {
	int err;			/* entry_parse() */
	const char *why;
	size_t offset;
	bool maybe_record;		/* record_maybe() */
	struct entry e;
	char hash[DIGEST_HEX_LEN];	/* entry_hash(), when err is 0 */
};

static void precheck(const char *line, size_t len, struct precheck *pc)
{
	pc->err = entry_parse(line, len, &pc->e, &pc->why, &pc->offset);
	if (pc->err)
		return;
	entry_hash(&pc->e, pc->hash);
	pc->maybe_record = record_maybe(&pc->e);
}

/* What snprintf("%.*s") would store, without its cost on every entry. */
static void copy_time(char out[TIME_ISO_LEN + 1], const char *t, size_t n)
{
	if (n > TIME_ISO_LEN)
		n = TIME_ISO_LEN;
	memcpy(out, t, n);
	out[n] = '\0';
}

static enum verify_status check_entry(struct verifier *v, const char *line, size_t len,
				      const struct precheck *pc, const char *seg,
				      const struct segment_info *si, uint64_t line_no,
				      bool first_in_segment)
{
	struct verify_result *r = v->r;
	const char *hash = pc->hash;
	const struct entry *e = &pc->e;
	char sig[DIGEST_HEX_LEN];
	enum verify_status st;
	size_t i;

	if (pc->err)
		return fail(v, VERIFY_BROKEN, seg, line_no, NULL,
			    "not a valid entry: %s (byte %zu)", pc->why, pc->offset + 1);
	if (first_in_segment && e->sequence != si->first_seq)
		return fail(v, VERIFY_BROKEN, seg, line_no, e,
			    "segment is named for sequence %" PRIu64 " but starts at %" PRIu64
			    " (renamed or reordered)", si->first_seq, e->sequence);
	if (!v->started) {
		if (e->sequence != 0)
			return fail(v, VERIFY_BROKEN, seg, line_no, e,
				    "the trail does not start at sequence 0 (its beginning is missing)");
		if (memcmp(e->prev_hash, zero_hash, DIGEST_HEX_LEN))
			return fail(v, VERIFY_BROKEN, seg, line_no, e,
				    "the first entry does not chain to the zero hash");
		if (e->epoch != 0)
			return fail(v, VERIFY_BROKEN, seg, line_no, e,
				    "the first entry is in epoch %" PRIu64 ", not 0: the trail was not "
				    "started with the first key", e->epoch);
		memcpy(r->trail, e->trail, TRAIL_ID_LEN);
		r->first_sequence = e->sequence;
		r->first_epoch = e->epoch;
		copy_time(r->first_time, e->timestamp, e->timestamp_len);
	} else if (memcmp(e->trail, r->trail, TRAIL_ID_LEN)) {
		return fail(v, VERIFY_BROKEN, seg, line_no, e,
			    "entry belongs to another trail (%.32s, not %s)", e->trail, r->trail);
	}
	if (e->sequence != v->expected_seq)
		return fail(v, VERIFY_BROKEN, seg, line_no, e,
			    "sequence %" PRIu64 " where %" PRIu64 " was expected (entries removed, "
			    "duplicated or reordered)", e->sequence, v->expected_seq);
	if (memcmp(e->prev_hash, v->prev_hash, DIGEST_HEX_LEN))
		return fail(v, VERIFY_BROKEN, seg, line_no, e,
			    "prev_hash does not match the previous entry's hash (chain broken)");
	if (memcmp(hash, e->hash, DIGEST_HEX_LEN))
		return fail(v, VERIFY_BROKEN, seg, line_no, e,
			    "hash does not match the entry's content (entry modified)");
	if (v->sealed ? e->epoch != v->epoch + 1 : (v->started && e->epoch != v->epoch))
		return fail(v, VERIFY_BROKEN, seg, line_no, e,
			    v->sealed ? "epoch %" PRIu64 " after the seal of epoch %" PRIu64
				      : "epoch %" PRIu64 " after epoch %" PRIu64 " without a seal",
			    e->epoch, v->epoch);
	if (v->o->k0) {
		entry_sign(key_of(v, e->epoch), e->hash, sig);
		if (memcmp(sig, e->signature, DIGEST_HEX_LEN))
			return fail(v, VERIFY_BROKEN, seg, line_no, e,
				    "signature does not verify under the key of epoch %" PRIu64
				    " (forged, or re-signed with a later key)", e->epoch);
	}
	v->sealed = false;
	v->epoch = e->epoch;
	st = check_record(v, e, seg, line_no, first_in_segment, pc->maybe_record);
	if (st)
		return st;
	for (i = 0; i < v->o->nanchors; i++) {
		struct verify_anchor *a = &v->o->anchors[i];

		if (a->sequence != e->sequence)
			continue;
		if (memcmp(a->hash, e->hash, DIGEST_HEX_LEN))
			return fail(v, VERIFY_BROKEN, seg, line_no, e,
				    "does not match the anchor (hash %.64s, anchor says %.64s)",
				    e->hash, a->hash);
		a->found = true;
		r->anchors_checked++;
	}
	if (v->started && (e->time.tv_sec < v->last_time.tv_sec ||
			   (e->time.tv_sec == v->last_time.tv_sec &&
			    e->time.tv_nsec < v->last_time.tv_nsec)))
		warn(v, "%s:%" PRIu64 ": sequence %" PRIu64 ": timestamp goes back in time (clock "
		     "change?)", seg, line_no, e->sequence);
	v->last_time = e->time;

	if (v->o->on_entry) {
		struct verify_entry ve = { e, line, len, seg, line_no };

		if (v->o->on_entry(v->o->ctx, &ve))
			return fail(v, VERIFY_STOPPED, seg, line_no, e, "stopped");
	}
	v->started = true;
	v->expected_seq++;
	memcpy(v->prev_hash, e->hash, DIGEST_HEX_LEN);
	memcpy(r->last_hash, e->hash, DIGEST_HEX_LEN);
	r->entries++;
	r->last_sequence = e->sequence;
	r->last_epoch = e->epoch;
	copy_time(r->last_time, e->timestamp, e->timestamp_len);
	return VERIFY_OK;
}

/* Bytes that are not an entry at the end of the trail: the signature of a
 * crash mid-write (the writer records them when it next opens the trail), but
 * still bytes nobody can vouch for, unless the trail is live. */
static enum verify_status torn_tail(struct verifier *v, const char *segment, uint64_t line)
{
	v->r->torn_tail_bytes = v->torn_bytes;
	snprintf(v->r->torn_tail_segment, sizeof(v->r->torn_tail_segment), "%s", segment);
	if (!v->o->allow_torn_tail)
		return fail(v, VERIFY_BROKEN, segment, line, NULL,
			    "torn tail: %" PRIu64 " bytes of an incomplete last entry, the mark of "
			    "an interrupted write (a crash, a full disk), not of changed entries: "
			    "all %" PRIu64 " entries before it verify", v->torn_bytes,
			    v->r->entries);
	warn(v, "%s: ends with %" PRIu64 " bytes of an incomplete entry (a write in progress or "
	     "interrupted)", segment, v->torn_bytes);
	return VERIFY_OK;
}

/* ---- helper threads -------------------------------------------------------------
 * Checking a line's form and hash (precheck) does not depend on the lines before it;
 * everything else does. So a segment's lines are read in order into batches, helper
 * threads (and this thread, when they are busy) precheck the batches, and this
 * thread then runs check_entry() on every line in order, exactly as without helpers:
 * the first failure is the same. Reading runs at most POOL_BATCHES batches ahead and
 * batches never span segments; a segment's end is handled only once all its lines
 * were checked, so what the reader met there (a torn tail, a corrupt gzip stream)
 * is still reported after any earlier failure, as before. */
#define POOL_BATCHES 8
#define POOL_BATCH_LINES 256
#define POOL_BATCH_BYTES (512u << 10)
#define POOL_LINE_MAX (POOL_BATCH_BYTES / 2)	/* longer lines are checked directly */
#define POOL_MAX_HELPERS 3

enum batch_state { BATCH_FREE, BATCH_FILLING, BATCH_QUEUED, BATCH_BUSY, BATCH_DONE };

struct pool_line {
	size_t at, len;			/* in the batch's text */
	uint64_t line_no;
	bool first_in_segment;
	struct precheck pc;
};

struct batch {
	enum batch_state state;
	char *text;			/* POOL_BATCH_BYTES */
	size_t text_len;
	struct pool_line *lines;	/* POOL_BATCH_LINES */
	size_t n;
};

struct pool {
	pthread_mutex_t mu;
	pthread_cond_t queued;		/* a batch was queued, or stop */
	pthread_cond_t done;		/* a batch was prechecked */
	struct batch b[POOL_BATCHES];
	size_t head, count;		/* b[head] is the oldest of count batches in use */
	struct batch *filling;
	bool stop;
	pthread_t helpers[POOL_MAX_HELPERS];
	int nhelpers;
};

static void precheck_batch(struct batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		precheck(b->text + b->lines[i].at, b->lines[i].len, &b->lines[i].pc);
}

/* The oldest queued batch, marked busy; NULL when there is none. Under mu. */
static struct batch *pool_take_queued(struct pool *p)
{
	size_t i;

	for (i = 0; i < p->count; i++) {
		struct batch *b = &p->b[(p->head + i) % POOL_BATCHES];

		if (b->state == BATCH_QUEUED) {
			b->state = BATCH_BUSY;
			return b;
		}
	}
	return NULL;
}

/* Prechecks b (taken busy under mu) without the lock, then marks it done. */
static void pool_run(struct pool *p, struct batch *b)
{
	pthread_mutex_unlock(&p->mu);
	precheck_batch(b);
	pthread_mutex_lock(&p->mu);
	b->state = BATCH_DONE;
	pthread_cond_broadcast(&p->done);
}

static void *pool_helper(void *arg)
{
	struct pool *p = arg;
	struct batch *b;

	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		b = pool_take_queued(p);
		if (b)
			pool_run(p, b);
		else
			pthread_cond_wait(&p->queued, &p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static void pool_free(struct pool *p)
{
	size_t i;

	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->queued);
	pthread_mutex_unlock(&p->mu);
	while (p->nhelpers > 0)
		pthread_join(p->helpers[--p->nhelpers], NULL);
	pthread_cond_destroy(&p->queued);
	pthread_cond_destroy(&p->done);
	pthread_mutex_destroy(&p->mu);
	for (i = 0; i < POOL_BATCHES; i++) {
		free(p->b[i].text);
		free(p->b[i].lines);
	}
	free(p);
}

/* Helpers for the CPUs this process may use (at most POOL_MAX_HELPERS); NULL when
 * there is only one, or when anything fails: lines are then checked here, one by
 * one, with the same result. */
static struct pool *pool_new(void)
{
	sigset_t all, old;
	cpu_set_t cpus;
	struct pool *p;
	int want, i;

	if (sched_getaffinity(0, sizeof(cpus), &cpus) < 0)
		return NULL;
	want = CPU_COUNT(&cpus) - 1;
	if (want > POOL_MAX_HELPERS)
		want = POOL_MAX_HELPERS;
	if (want < 1)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	if (pthread_mutex_init(&p->mu, NULL)) {
		free(p);
		return NULL;
	}
	pthread_cond_init(&p->queued, NULL);
	pthread_cond_init(&p->done, NULL);
	for (i = 0; i < POOL_BATCHES; i++) {
		p->b[i].text = malloc(POOL_BATCH_BYTES);
		p->b[i].lines = malloc(POOL_BATCH_LINES * sizeof(*p->b[i].lines));
		if (!p->b[i].text || !p->b[i].lines) {
			pool_free(p);
			return NULL;
		}
	}
	/* Signals are for the main thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < want; i++) {
		if (pthread_create(&p->helpers[i], NULL, pool_helper, p))
			break;
		p->nhelpers++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!p->nhelpers) {
		pool_free(p);
		return NULL;
	}
	return p;
}

/* Checks the lines of the oldest batch in order, prechecking it here if no helper
 * has started on it, and frees it. */
static enum verify_status pool_check_oldest(struct verifier *v, const struct segment_info *si)
{
	struct pool *p = v->pool;
	struct batch *b = &p->b[p->head], *other;
	enum verify_status st = VERIFY_OK;
	size_t i;

	pthread_mutex_lock(&p->mu);
	if (b->state == BATCH_QUEUED) {
		b->state = BATCH_BUSY;
		pool_run(p, b);
	}
	while (b->state == BATCH_BUSY) {
		/* Rather than wait for a helper, precheck a later batch. */
		other = pool_take_queued(p);
		if (other)
			pool_run(p, other);
		else
			pthread_cond_wait(&p->done, &p->mu);
	}
	pthread_mutex_unlock(&p->mu);

	for (i = 0; i < b->n && !st; i++) {
		const struct pool_line *l = &b->lines[i];

		st = check_entry(v, b->text + l->at, l->len, &l->pc, si->name, si, l->line_no,
				 l->first_in_segment);
	}

	pthread_mutex_lock(&p->mu);
	b->state = BATCH_FREE;
	p->head = (p->head + 1) % POOL_BATCHES;
	p->count--;
	pthread_mutex_unlock(&p->mu);
	return st;
}

static void pool_queue_filling(struct pool *p)
{
	if (!p->filling)
		return;
	pthread_mutex_lock(&p->mu);
	p->filling->state = BATCH_QUEUED;
	p->filling = NULL;
	pthread_cond_signal(&p->queued);
	pthread_mutex_unlock(&p->mu);
}

/* Checks every line handed over so far. */
static enum verify_status pool_drain(struct verifier *v, const struct segment_info *si)
{
	enum verify_status st = VERIFY_OK;

	if (!v->pool)
		return VERIFY_OK;
	pool_queue_filling(v->pool);
	while (v->pool->count && !st)
		st = pool_check_oldest(v, si);
	return st;
}

/* Hands a line (at most POOL_LINE_MAX long) over; checks the oldest batch first when
 * all are in use. */
static enum verify_status pool_add(struct verifier *v, const struct segment_info *si,
				   const char *line, size_t len, uint64_t line_no,
				   bool first_in_segment)
{
	struct pool *p = v->pool;
	struct pool_line *l;
	struct batch *b;

	if (!p->filling) {
		if (p->count == POOL_BATCHES) {
			enum verify_status st = pool_check_oldest(v, si);

			if (st)
				return st;
		}
		pthread_mutex_lock(&p->mu);
		b = &p->b[(p->head + p->count) % POOL_BATCHES];
		b->state = BATCH_FILLING;
		b->n = 0;
		b->text_len = 0;
		p->count++;
		p->filling = b;
		pthread_mutex_unlock(&p->mu);
	}
	b = p->filling;
	l = &b->lines[b->n++];
	l->at = b->text_len;
	l->len = len;
	l->line_no = line_no;
	l->first_in_segment = first_in_segment;
	memcpy(b->text + b->text_len, line, len);
	b->text_len += len;
	/* Queue it once the next line might not fit. */
	if (b->n == POOL_BATCH_LINES || POOL_BATCH_BYTES - b->text_len < POOL_LINE_MAX)
		pool_queue_filling(p);
	return VERIFY_OK;
}

/* One line of segment si, checked now or handed to the helpers. */
static enum verify_status check_line(struct verifier *v, const struct segment_info *si,
				     const char *line, size_t len, uint64_t line_no,
				     bool first_in_segment)
{
	struct precheck pc;
	enum verify_status st;

	if (v->pool && len <= POOL_LINE_MAX)
		return pool_add(v, si, line, len, line_no, first_in_segment);
	st = pool_drain(v, si);
	if (st)
		return st;
	precheck(line, len, &pc);
	return check_entry(v, line, len, &pc, si->name, si, line_no, first_in_segment);
}

static enum verify_status check_segment(struct verifier *v, const struct segment_info *si,
					bool last)
{
	struct segment_reader *rd;
	const char *line;
	uint64_t lines = 0, segment_line_count;
	size_t len;
	int ret;

	if (si->first_seq != v->expected_seq)
		return fail(v, VERIFY_BROKEN, si->name, 0, NULL,
			    "segment starts at sequence %" PRIu64 " but the chain continues at %" PRIu64
			    " (a segment is missing, renamed or out of order)", si->first_seq,
			    v->expected_seq);
	ret = segment_reader_open(v->dirfd, si->name, &rd);
	if (ret == -ELOOP || ret == -EFTYPE_)	/* something put in a segment's place */
		return fail(v, VERIFY_BROKEN, si->name, 0, NULL, "%s, not a segment file",
			    ret == -ELOOP ? "a symbolic link" : "not a regular file");
	if (ret)
		return fail(v, VERIFY_IO, si->name, 0, NULL, "cannot open: %s", strerror(-ret));
	while ((ret = segment_reader_next(rd, &line, &len)) == 1) {
		enum verify_status st;

		st = check_line(v, si, line, len, segment_reader_line_no(rd), lines == 0);
		lines++;
		if (st) {
			segment_reader_close(rd);
			return st;
		}
	}
	/* Every line read is checked before the segment's end is looked at. */
	{
		enum verify_status st = pool_drain(v, si);

		if (st) {
			segment_reader_close(rd);
			return st;
		}
	}
	v->r->bytes += segment_reader_bytes(rd);
	if (ret == -EBADMSG || ret == -E2BIG) {
		/* The line number is taken before the reader is freed. */
		uint64_t bad_line = segment_reader_line_no(rd) + 1;

		segment_reader_close(rd);
		return fail(v, VERIFY_BROKEN, si->name, bad_line, NULL,
			    ret == -EBADMSG ? "compressed segment is corrupt or truncated"
					    : "line longer than the 16 MiB limit");
	}
	if (ret < 0) {
		segment_reader_close(rd);
		return fail(v, VERIFY_IO, si->name, 0, NULL, "cannot read: %s", strerror(-ret));
	}
	v->torn_bytes = segment_reader_torn(rd, v->torn_sha);
	v->r->bytes += v->torn_bytes;
	segment_line_count = segment_reader_line_no(rd);
	segment_reader_close(rd);

	if (v->torn_pending) {
		/* A torn segment followed by one holding nothing yet: the writer made
		 * the segment for the recovery entry but could not write it (disk
		 * full, crash). The torn tail is still the end of the trail. */
		if (lines == 0 && v->torn_bytes == 0) {
			v->r->segments++;
			return VERIFY_OK;
		}
		return fail(v, VERIFY_BROKEN, v->torn_segment, 0, NULL,
			    "ends with an incomplete line that no recovery entry accounts for");
	}
	if (v->torn_bytes) {
		if (last) {
			enum verify_status st = torn_tail(v, si->name, segment_line_count + 1);

			if (st)
				return st;
		} else {
			/* Recovery records name the segment as written, before compression. */
			v->torn_pending = true;
			snprintf(v->torn_segment, sizeof(v->torn_segment), "%.26s", si->name);
		}
	} else if (lines == 0) {
		if (!last)
			return fail(v, VERIFY_BROKEN, si->name, 0, NULL,
				    "empty segment in the middle of the trail");
		warn(v, "%s: empty last segment (the writer stopped right after creating it)",
		     si->name);
	}
	v->r->segments++;
	return VERIFY_OK;
}

enum verify_status verify_trail(const char *dir, const struct verify_opts *o,
				struct verify_result *r)
{
	struct verifier v = { .o = o, .r = r, .dirfd = -1 };
	struct segment_list l = { 0 };
	enum verify_status st = VERIFY_OK;
	size_t i;
	int err;

	memset(r, 0, sizeof(*r));
	r->signatures_checked = o->k0 != NULL;
	memcpy(v.prev_hash, zero_hash, DIGEST_HEX_LEN);
	if (o->k0) {
		memcpy(v.key, o->k0, KEY_LEN);
		digest_hmac_key_init(&v.hk, v.key, KEY_LEN);
	}
	v.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (v.dirfd < 0) {
		st = fail(&v, VERIFY_IO, NULL, 0, NULL, "cannot open the trail: %s", strerror(errno));
		goto out;
	}
	v.arena = jv_arena_new();
	err = v.arena ? segment_list_read(v.dirfd, &l) : -ENOMEM;
	if (!err)
		v.pool = pool_new();
	if (err) {
		st = fail(&v, VERIFY_IO, NULL, 0, NULL, "cannot list the trail: %s", strerror(-err));
		goto out;
	}
	for (i = 0; i < l.nignored; i++) {
		size_t n = strlen(l.ignored[i]);

		if (n > 5 && !strcmp(l.ignored[i] + n - 5, ".torn"))
			continue;	/* checked through its recovery entry */
		warn(&v, "%s: not a segment name, ignored", l.ignored[i]);
	}
	for (i = 0; i < l.n; i++) {
		if (l.v[i].twin)
			warn(&v, "%s: compression was interrupted; the plain file is the one checked",
			     l.v[i].name);
		st = check_segment(&v, &l.v[i], i + 1 == l.n);
		if (st)
			goto out;
	}
	if (v.torn_pending) {
		st = torn_tail(&v, v.torn_segment, 0);
		if (st)
			goto out;
	}
	if (r->entries == 0) {
		st = fail(&v, VERIFY_BROKEN, NULL, 0, NULL, "the trail holds no entries");
		goto out;
	}
	for (i = 0; i < o->nanchors; i++) {
		if (o->anchors[i].found)
			continue;
		st = fail(&v, VERIFY_BROKEN, NULL, 0, NULL,
			  "anchor sequence %" PRIu64 " is not in the trail, which ends at %" PRIu64
			  ": entries were removed from its end", o->anchors[i].sequence,
			  r->last_sequence);
		goto out;
	}
out:
	pool_free(v.pool);
	r->status = st;
	segment_list_free(&l);
	jv_arena_free(v.arena);
	explicit_bzero(v.key, sizeof(v.key));
	digest_hmac_key_wipe(&v.hk);
	if (v.dirfd >= 0)
		close(v.dirfd);
	return st;
}
