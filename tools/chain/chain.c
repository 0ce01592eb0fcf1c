/* chain: the trail writer (see chain.h).
 *
 * State is kept twice: the head (the next entry's sequence and prev_hash, which
 * includes buffered entries) and the committed head (what has reached the file).
 * When a write fails, the buffered entries are dropped and the head goes back to
 * the committed one, so the chain on disk never has a hole: what was dropped is
 * counted and written as a gap record once writing works again. A write that
 * stopped inside a line leaves a torn tail, which append-only files cannot cut;
 * the chain then moves to a new segment whose first entry records the torn bytes.
 */
#include "chain.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>
#include "fileio.h"
#include "numfmt.h"
#include "keys.h"
#include "record.h"

struct pending {
	size_t end;			/* offset just past this line in out */
	char hash[DIGEST_HEX_LEN];
	char tag[RECORD_TAG_MAX];
};

struct chain {
	struct chain_opts o;
	int dirfd;			/* trail directory, flock'ed */
	int keydirfd;
	struct writer_key wk;
	struct digest_hmac_key hk;
	bool key_store_pending;		/* evolved key not yet stored (retried) */
	char trail[TRAIL_ID_LEN];

	/* head: what the next entry chains to */
	uint64_t next_seq;
	char last_hash[DIGEST_HEX_LEN];
	/* committed: what the file holds */
	uint64_t committed_seq;
	char committed_hash[DIGEST_HEX_LEN];

	/* active segment */
	int fd;
	char seg_name[SEGMENT_NAME_MAX];
	uint64_t seg_bytes;
	uint64_t seg_kicked;		/* writeback started up to here (start_writeback) */
	bool seg_fresh;			/* nothing written yet: not yet append-only */
	bool seg_torn;			/* holds bytes after its last complete line */
	struct record_torn torn;	/* what the next recovery entry reports */

	struct buf out;
	time_t stamp_sec;		/* `stamp` holds this second, formatted */
	char stamp[TIME_ISO_LEN + 1];
	struct pending *pend;
	size_t npend, cap;
	struct buf scratch;		/* the chain's own event texts */

	int write_error;
	struct record_gap gap;
	struct chain_stats stats;
};

static const char zero_hash[DIGEST_HEX_LEN + 1] =
	"0000000000000000000000000000000000000000000000000000000000000000";

static void now(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
}

static void set_key(struct chain *c)
{
	digest_hmac_key_wipe(&c->hk);
	digest_hmac_key_init(&c->hk, c->wk.key, KEY_LEN);
}

/* ---- segments ------------------------------------------------------------------ */
static int open_segment(struct chain *c, uint64_t first_seq)
{
	struct stat st;
	int fd;

	segment_name(first_seq, false, c->seg_name);
	fd = openat(c->dirfd, c->seg_name,
		    O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || fsync(c->dirfd) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	c->fd = fd;
	c->seg_bytes = (uint64_t)st.st_size;
	c->seg_kicked = c->seg_bytes;
	c->seg_fresh = st.st_size == 0;
	c->seg_torn = false;
	return 0;
}

static void hand_over(struct chain *c, const char *name)
{
	if (c->o.on_segment_closed)
		c->o.on_segment_closed(c->o.ctx, name);
	else
		segment_compress(c->dirfd, name);	/* failure leaves it plain: still valid */
}

static void close_segment(struct chain *c)
{
	char name[SEGMENT_NAME_MAX];

	if (c->fd < 0)
		return;
	close(c->fd);
	c->fd = -1;
	memcpy(name, c->seg_name, sizeof(name));
	hand_over(c, name);
}

/* ---- writing --------------------------------------------------------------------- */

/* Formats one entry into the buffer and advances the head. */
static int append_line(struct chain *c, const char *event, size_t len, const char *tag)
{
	struct entry_head h = { .sequence = c->next_seq, .epoch = c->wk.epoch };
	struct pending *p;
	struct timespec ts;
	char hash[DIGEST_HEX_LEN];
	size_t n;
	int err;

	if (c->npend == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		struct pending *np = realloc(c->pend, cap * sizeof(*np));

		if (!np)
			return -ENOMEM;
		c->pend = np;
		c->cap = cap;
	}
	now(&ts);
	if (ts.tv_sec != c->stamp_sec) {
		time_format_iso(&ts, c->stamp);
		c->stamp_sec = ts.tv_sec;
	}
	memcpy(h.timestamp, c->stamp, TIME_ISO_LEN);
	/* Only the microseconds change within a second. */
	fmt_u32_padded(h.timestamp + 20, (uint32_t)(ts.tv_nsec / 1000), 6);
	memcpy(h.prev_hash, c->last_hash, DIGEST_HEX_LEN);
	memcpy(h.trail, c->trail, TRAIL_ID_LEN);
	err = entry_write(&c->out, &h, event, len, &c->hk, hash);
	if (err) {
		c->out.failed = false;
		return err;
	}
	p = &c->pend[c->npend++];
	p->end = c->out.len;
	memcpy(p->hash, hash, DIGEST_HEX_LEN);
	/* snprintf("%s") would cost more than the rest of this function. */
	if (!tag)
		tag = "event";
	n = strnlen(tag, sizeof(p->tag) - 1);
	memcpy(p->tag, tag, n);
	p->tag[n] = '\0';
	c->next_seq++;
	memcpy(c->last_hash, hash, DIGEST_HEX_LEN);
	return 0;
}

static void drop_buffer(struct chain *c)
{
	c->out.len = 0;
	c->npend = 0;
}

/* Enters (or stays in) the state where writes fail; the gap remembers why it
 * began. */
static void set_write_error(struct chain *c, int err)
{
	c->write_error = err;
	if (!c->gap.error)
		c->gap.error = err;
}

/*
 * Starts the disk writing each WRITEBACK_CHUNK of the segment as soon as it is in the page
 * cache, without waiting for it. The disk then works while the next entries are formatted,
 * and an fdatasync (every seal, rotation and exit) finds little left to write: it used to
 * find everything since the last one and wait for all of it (0.2 s for 200k entries, half
 * the time of a bulk append). A failure here is harmless: fdatasync reports what matters.
 */
#define WRITEBACK_CHUNK (8u << 20)

static void start_writeback(struct chain *c)
{
	if (c->seg_bytes - c->seg_kicked < WRITEBACK_CHUNK)
		return;
	sync_file_range(c->fd, (off64_t)c->seg_kicked, (off64_t)(c->seg_bytes - c->seg_kicked),
			SYNC_FILE_RANGE_WRITE);
	c->seg_kicked = c->seg_bytes;
}

/* Writes the buffer. On failure keeps what reached the file, drops and counts
 * the rest, and remembers a torn tail. */
static int write_buffer(struct chain *c)
{
	size_t written = 0, k, start;
	struct timespec ts;
	int err;

	if (c->out.len == 0)
		return 0;
	if (c->fd < 0)
		err = -EBADF;
	else
		err = fileio_write_all(c->fd, c->out.data, c->out.len, &written);
	if (!err) {
		c->committed_seq = c->next_seq;
		memcpy(c->committed_hash, c->last_hash, DIGEST_HEX_LEN);
		c->seg_bytes += c->out.len;
		c->stats.entries_written += c->npend;
		c->stats.bytes_written += c->out.len;
		if (c->seg_fresh) {
			c->seg_fresh = false;
			segment_set_flags(c->fd, FS_APPEND_FL, 0);
		}
		drop_buffer(c);
		start_writeback(c);
		return 0;
	}

	for (k = 0; k < c->npend && c->pend[k].end <= written; k++)
		;
	start = k ? c->pend[k - 1].end : 0;
	if (k) {
		c->committed_seq += k;
		memcpy(c->committed_hash, c->pend[k - 1].hash, DIGEST_HEX_LEN);
		c->stats.entries_written += k;
	}
	c->stats.bytes_written += start;
	c->seg_bytes += start;
	if (written > start) {
		/* A fresh segment is not append-only yet: cut the partial line. */
		if (c->seg_fresh && !k && ftruncate(c->fd, 0) == 0) {
			c->seg_bytes = c->seg_kicked = 0;
		} else {
			c->seg_torn = true;
			snprintf(c->torn.segment, sizeof(c->torn.segment), "%s", c->seg_name);
			c->torn.bytes = written - start;
			digest_sha256(c->out.data + start, written - start, c->torn.sha256);
		}
	}
	if (k && c->seg_fresh) {
		c->seg_fresh = false;
		segment_set_flags(c->fd, FS_APPEND_FL, 0);
	}
	now(&ts);
	for (; k < c->npend; k++) {
		record_gap_count(&c->gap, c->pend[k].tag, &ts);
		c->stats.entries_lost++;
	}
	c->next_seq = c->committed_seq;
	memcpy(c->last_hash, c->committed_hash, DIGEST_HEX_LEN);
	drop_buffer(c);
	set_write_error(c, err);
	return err;
}

/* Writes the record of a torn tail or a gap, moving to a new segment if the
 * active one is torn. Clears the error state on success. */
static int recover_writing(struct chain *c)
{
	int err;

	if (c->seg_torn || c->fd < 0) {
		if (c->fd >= 0 && !(c->seg_fresh && c->seg_bytes == 0 &&
				    c->committed_seq == strtoull(c->seg_name, NULL, 10)))
			close_segment(c);
		if (c->fd < 0) {
			err = open_segment(c, c->committed_seq);
			if (err)
				return err;
		}
	}
	buf_reset(&c->scratch);
	if (c->torn.bytes)
		record_recover_event(&c->scratch, &c->torn, &c->gap);
	else
		record_gap_event(&c->scratch, &c->gap);
	/* A record cut short by a failed allocation must never be signed. */
	err = c->scratch.failed ? -ENOMEM :
				  append_line(c, c->scratch.data, c->scratch.len,
					      c->torn.bytes ? "trail-recover" : "trail-gap");
	if (!err)
		err = write_buffer(c);
	if (!err && fdatasync(c->fd) < 0)
		err = -errno;
	if (err)
		return err;
	memset(&c->torn, 0, sizeof(c->torn));
	memset(&c->gap, 0, sizeof(c->gap));
	c->write_error = 0;
	c->stats.gaps_recorded++;
	return 0;
}

int chain_flush(struct chain *c, bool sync)
{
	int err;

	if (c->write_error) {
		err = recover_writing(c);
		if (err) {
			c->write_error = err;
			return err;
		}
	}
	err = write_buffer(c);
	if (err)
		return err;
	if (sync && c->fd >= 0 && fdatasync(c->fd) < 0) {
		/* The kernel could not write back what write() accepted: record it. */
		struct timespec ts;

		now(&ts);
		c->gap.first = c->gap.last = ts;
		set_write_error(c, -errno);
		return c->write_error;
	}
	if (c->key_store_pending && !writer_key_store(c->keydirfd, &c->wk))
		c->key_store_pending = false;
	return 0;
}

static int rotate(struct chain *c);

int chain_append(struct chain *c, const char *event, size_t len, const char *tag)
{
	struct timespec ts;
	int err = c->write_error;

	if (!err && c->seg_bytes + c->out.len >= c->o.segment_bytes)
		err = rotate(c);
	if (!err)
		err = append_line(c, event, len, tag);
	if (err) {
		now(&ts);
		record_gap_count(&c->gap, tag, &ts);
		c->stats.entries_lost++;
		if (!c->write_error)
			set_write_error(c, err);
		return err;
	}
	if (c->out.len >= c->o.write_bytes)
		return chain_flush(c, false);
	return 0;
}

int chain_seal(struct chain *c, const char *reason)
{
	int err;

	if (c->write_error)
		return c->write_error;
	buf_reset(&c->scratch);
	record_seal_event(&c->scratch, c->wk.epoch + 1, reason);
	err = c->scratch.failed ? -ENOMEM :
				  append_line(c, c->scratch.data, c->scratch.len, "epoch-seal");
	if (!err)
		err = chain_flush(c, true);
	if (err)
		return err;
	/* The seal is on disk: now the key may move on. Should storing it fail, the
	 * next open evolves the old key forward to the trail's epoch again. */
	key_evolve(c->wk.key);
	c->wk.epoch++;
	set_key(c);
	c->key_store_pending = writer_key_store(c->keydirfd, &c->wk) != 0;
	return 0;
}

static int rotate(struct chain *c)
{
	int err = chain_seal(c, "rotation");

	if (err)
		return err;
	close_segment(c);
	return open_segment(c, c->next_seq);
}

int chain_rotate(struct chain *c)
{
	int err = c->write_error ? chain_flush(c, false) : 0;

	return err ? err : rotate(c);
}

void chain_get_stats(const struct chain *c, struct chain_stats *s)
{
	*s = c->stats;
	s->next_sequence = c->next_seq;
	s->epoch = c->wk.epoch;
	memcpy(s->trail, c->trail, TRAIL_ID_LEN);
	s->trail[TRAIL_ID_LEN] = '\0';
	memcpy(s->last_hash, c->last_hash, DIGEST_HEX_LEN);
	s->last_hash[DIGEST_HEX_LEN] = '\0';
	memcpy(s->segment, c->seg_name, SEGMENT_NAME_MAX);
	s->segment_bytes = c->seg_bytes;
	s->write_error = c->write_error;
}

/* ---- opening --------------------------------------------------------------------- */

/* The last complete line of a trail and what surrounds it. */
struct trail_end {
	struct buf line;		/* copy of the last complete line */
	size_t seg;			/* index of the segment holding it */
	bool torn;			/* that segment ends with a partial line */
	size_t torn_bytes;
	uint8_t torn_sha[DIGEST_LEN];
};

/* Reads segment i, keeping its last complete line. Returns the number of lines,
 * or -errno. */
static int read_segment_end(int dirfd, const struct segment_info *si, struct trail_end *te)
{
	struct segment_reader *r;
	const char *line;
	size_t len;
	int n = 0, ret;

	ret = segment_reader_open(dirfd, si->name, &r);
	if (ret)
		return ret;
	while ((ret = segment_reader_next(r, &line, &len)) == 1) {
		buf_reset(&te->line);
		buf_append(&te->line, line, len);
		n++;
	}
	if (ret == 0) {
		te->torn_bytes = segment_reader_torn(r, te->torn_sha);
		te->torn = te->torn_bytes > 0;
		ret = te->line.failed ? -ENOMEM : n;
	}
	segment_reader_close(r);
	return ret;
}

/* Finishes interrupted compressions and removes temp files of ours. */
static void tidy_dir(struct chain *c, struct segment_list *l, struct chain_status *st)
{
	size_t i;

	for (i = 0; i < l->nignored; i++) {
		size_t n = strlen(l->ignored[i]);

		if (n > 7 && !strcmp(l->ignored[i] + n - 7, ".gz.tmp"))
			unlinkat(c->dirfd, l->ignored[i], 0);
	}
	for (i = 0; i < l->n; i++) {
		int err;

		if (!l->v[i].twin)
			continue;
		err = segment_compress(c->dirfd, l->v[i].name);
		if (err) {
			st->compress_error = err;
		} else {
			segment_name(l->v[i].first_seq, true, l->v[i].name);
			l->v[i].gz = true;
		}
		l->v[i].twin = false;
	}
}

/* Moves a segment holding only a partial line out of the way (its name is the
 * next entry's), keeping its bytes: they are reported, never destroyed. */
static int set_aside_torn(struct chain *c, const struct segment_info *si, struct trail_end *te,
			  struct chain_status *st)
{
	char aside[SEGMENT_NAME_MAX + 8];
	int fd;

	snprintf(aside, sizeof(aside), "%s.torn", si->name);
	fd = openat(c->dirfd, si->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		segment_set_flags(fd, 0, FS_APPEND_FL | FS_IMMUTABLE_FL);
		close(fd);
	}
	if (renameat(c->dirfd, si->name, c->dirfd, aside) < 0)
		return -errno;
	snprintf(c->torn.segment, sizeof(c->torn.segment), "%s", aside);
	c->torn.bytes = te->torn_bytes;
	memcpy(c->torn.sha256, te->torn_sha, DIGEST_LEN);
	snprintf(st->torn_segment, sizeof(st->torn_segment), "%s", aside);
	st->torn_bytes = te->torn_bytes;
	return fsync(c->dirfd) < 0 ? -errno : 0;
}

/* Continues from the trail's last entry: sequence, hash, trail id, epoch. */
static int adopt_head(struct chain *c, const struct buf *line, struct chain_status *st)
{
	struct record_info ri;
	struct jv_arena *a;
	struct entry e;
	char hash[DIGEST_HEX_LEN];
	const char *why;
	uint64_t epoch;
	size_t off;
	int err;

	if (entry_parse(line->data, line->len, &e, &why, &off))
		return -EBADMSG;
	entry_hash(&e, hash);
	if (memcmp(hash, e.hash, DIGEST_HEX_LEN))
		return -EBADMSG;
	a = jv_arena_new();
	if (!a)
		return -ENOMEM;
	err = record_parse(&e, a, &ri);
	if (!err) {
		struct jv *root;

		/* Remember what the last entry was (the agent looks for its stop). */
		if (!json_parse(a, e.event, e.event_len, &root, NULL)) {
			const struct jv *act = jv_get(jv_get(root, "event"), "action");

			if (act && act->type == JV_STRING && act->n < sizeof(st->last_action))
				memcpy(st->last_action, act->str, act->n);
		}
	}
	jv_arena_free(a);
	if (err)
		return -EBADMSG;

	memcpy(c->trail, e.trail, TRAIL_ID_LEN);
	c->next_seq = c->committed_seq = e.sequence + 1;
	memcpy(c->last_hash, e.hash, DIGEST_HEX_LEN);
	memcpy(c->committed_hash, e.hash, DIGEST_HEX_LEN);
	epoch = ri.kind == RECORD_SEAL ? ri.next_epoch : e.epoch;
	if (c->wk.epoch > epoch) {
		st->key_ahead = true;
		return 0;
	}
	if (c->wk.epoch < epoch) {
		/* A seal reached the disk but the evolved key did not: finish. */
		while (c->wk.epoch < epoch) {
			key_evolve(c->wk.key);
			c->wk.epoch++;
		}
		st->completed_seal = true;
		c->key_store_pending = writer_key_store(c->keydirfd, &c->wk) != 0;
	}
	return 0;
}

static int new_trail_id(struct chain *c)
{
	uint8_t id[TRAIL_ID_LEN / 2];
	int err = digest_random(id, sizeof(id));

	if (!err)
		digest_hex(id, sizeof(id), c->trail);
	return err;
}

static int open_trail(struct chain *c, struct chain_status *st)
{
	struct trail_end te = { 0 };
	struct segment_list l;
	size_t i;
	int err, n = 0;

	err = segment_list_read(c->dirfd, &l);
	if (err)
		return err;
	tidy_dir(c, &l, st);

	/* Find the last complete line, walking back over empty or torn-only segments. */
	for (i = l.n; i-- > 0;) {
		n = read_segment_end(c->dirfd, &l.v[i], &te);
		if (n < 0) {
			err = n;
			goto out;
		}
		if (n > 0)
			break;
		if (te.torn) {
			err = set_aside_torn(c, &l.v[i], &te, st);
		} else {
			err = segment_remove(c->dirfd, l.v[i].name);	/* empty */
			if (!err)
				err = fsync(c->dirfd) < 0 ? -errno : 0;
		}
		if (err)
			goto out;
		te.torn = false;
	}

	if (n == 0) {
		/* A new trail: its first entry must be signed with the first key, so
		 * that nobody holding a later key can start a trail over. */
		if (c->wk.epoch != 0) {
			err = -ESTALE;
			goto out;
		}
		err = new_trail_id(c);
		if (!err)
			err = open_segment(c, 0);
		memcpy(c->last_hash, zero_hash, DIGEST_HEX_LEN);
		memcpy(c->committed_hash, zero_hash, DIGEST_HEX_LEN);
		st->created = st->torn_bytes == 0;
		if (!err && c->torn.bytes)
			c->write_error = -EIO;	/* write the recovery entry first */
		goto out;
	}

	err = adopt_head(c, &te.line, st);
	if (err)
		goto out;
	if (te.torn || c->torn.bytes) {
		/* A crash mid-write: keep the bytes, close that segment and start the
		 * next one with a record of them (also when a torn-only segment after
		 * it was set aside: the record must open the segment in its place). */
		if (te.torn) {
			snprintf(c->torn.segment, sizeof(c->torn.segment), "%s", l.v[i].name);
			c->torn.bytes = te.torn_bytes;
			memcpy(c->torn.sha256, te.torn_sha, DIGEST_LEN);
			snprintf(st->torn_segment, sizeof(st->torn_segment), "%s", l.v[i].name);
			st->torn_bytes = te.torn_bytes;
		}
		if (!l.v[i].gz)
			hand_over(c, l.v[i].name);
		c->write_error = -EIO;	/* recover_writing() opens the next segment */
	} else if (!l.v[i].gz) {
		err = open_segment(c, l.v[i].first_seq);
		if (!err && c->seg_bytes) {
			c->seg_fresh = false;
			st->append_only_error = segment_set_flags(c->fd, FS_APPEND_FL, 0);
		}
	} else {
		err = open_segment(c, c->next_seq);
	}
out:
	buf_free(&te.line);
	segment_list_free(&l);
	return err;
}

/* Closed segments left plain (a compression that failed or never ran) are
 * handed over again; the active one is kept. */
static void compress_leftovers(struct chain *c)
{
	struct segment_list l;
	size_t i;

	if (segment_list_read(c->dirfd, &l))
		return;
	for (i = 0; i < l.n; i++)
		if (!l.v[i].gz && strcmp(l.v[i].name, c->seg_name))
			hand_over(c, l.v[i].name);
	segment_list_free(&l);
}

int chain_open(struct chain **out, const struct chain_opts *opts, struct chain_status *st)
{
	struct chain *c;
	int err;

	memset(st, 0, sizeof(*st));
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->o = *opts;
	if (!c->o.segment_bytes)
		c->o.segment_bytes = CHAIN_DEFAULT_SEGMENT_BYTES;
	if (!c->o.write_bytes)
		c->o.write_bytes = CHAIN_DEFAULT_WRITE_BYTES;
	c->fd = c->dirfd = c->keydirfd = -1;

	if (mkdir(opts->trail_dir, 0750) < 0 && errno != EEXIST) {
		err = -errno;
		goto fail;
	}
	c->dirfd = open(opts->trail_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->dirfd < 0) {
		err = -errno;
		goto fail;
	}
	if (flock(c->dirfd, LOCK_EX | LOCK_NB) < 0) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		goto fail;
	}
	c->keydirfd = open(opts->key_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->keydirfd < 0) {
		err = -errno;
		goto fail;
	}
	err = writer_key_load(c->keydirfd, &c->wk);
	if (err)
		goto fail;
	err = open_trail(c, st);
	if (err)
		goto fail;
	set_key(c);
	if (c->write_error) {
		err = recover_writing(c);
		if (err)
			goto fail;
	}
	compress_leftovers(c);
	/* A fresh segment becomes append-only after its first write; probe now
	 * whether the filesystem can do it at all. */
	if (!st->append_only_error && c->fd >= 0)
		st->append_only_error = segment_set_flags(c->fd, c->seg_fresh ? 0 : FS_APPEND_FL, 0);
	*out = c;
	return 0;
fail:
	chain_close(c);
	return err;
}

void chain_close(struct chain *c)
{
	if (!c)
		return;
	if (c->fd >= 0) {
		chain_flush(c, true);
		close(c->fd);
	}
	if (c->keydirfd >= 0)
		close(c->keydirfd);
	if (c->dirfd >= 0)
		close(c->dirfd);
	explicit_bzero(&c->wk, sizeof(c->wk));
	digest_hmac_key_wipe(&c->hk);
	buf_free(&c->out);
	buf_free(&c->scratch);
	free(c->pend);
	free(c);
}
