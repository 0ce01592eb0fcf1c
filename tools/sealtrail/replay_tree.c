/* replay_tree: process trees across pid reuse (see replay_tree.h). */
#include "replay_tree.h"

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "strmap.h"

#define INDENT_MAX_DEPTH 32	/* deeper levels are not indented further, but numbered */

struct tree_str {
	char *p;
	size_t n;
};

struct tree_exec {
	uint64_t sequence;
	struct timespec time;
	bool failed;
	struct tree_str executable, error;
	struct tree_str *args;
	size_t nargs;
	uint64_t args_dropped;		/* words not kept (over the caps, or not strings) */
	bool args_truncated;		/* the agent itself truncated argv */
};

struct tree_file {
	uint64_t sequence, count;
	struct timespec time;
	bool failed;
	struct tree_str action, path, original, target, error;
};

struct tree_details {
	struct tree_str name, executable;	/* the latest seen */
	bool has_uid;
	uint64_t uid;
	uint64_t events;
	bool forked;
	uint64_t fork_sequence;
	struct timespec fork_time;
	struct tree_exec execs[TREE_MAX_EXECS];
	size_t nexecs;
	uint64_t execs_more;
	struct tree_file files[TREE_MAX_FILES];
	size_t nfiles;
	uint64_t files_more;
	bool exited, has_code, core_dumped;
	int64_t code;
	struct tree_str signal;		/* name, or decimal number */
	bool signal_is_number;
	uint64_t exit_sequence;
	struct timespec exit_time;
};

struct tree_node {
	struct strmap_item *item;	/* key: the entity id */
	bool has_pid, has_ppid;
	uint64_t pid, ppid;
	struct timespec first, last;	/* when it was seen */
	struct tree_node *parent, *first_child, *last_child, *next_sibling;
	struct tree_details *d;		/* only for chosen processes */
	bool seen, selected, printed;
};

struct replay_tree {
	uint64_t pid;
	struct strmap nodes;
	struct tree_node **roots;
	size_t nroots;
};

/* ---- strings ----------------------------------------------------------------- */
static int str_set(struct tree_str *s, struct rstr r)
{
	char *p;

	if (!r.p)
		return 0;
	if (s->p && s->n == r.n && !memcmp(s->p, r.p, r.n))
		return 0;
	p = malloc(r.n + 1);
	if (!p)
		return -ENOMEM;
	memcpy(p, r.p, r.n);
	p[r.n] = '\0';
	free(s->p);
	s->p = p;
	s->n = r.n;
	return 0;
}

static void str_free(struct tree_str *s)
{
	free(s->p);
	s->p = NULL;
	s->n = 0;
}

static struct rstr rs(const struct tree_str *s)
{
	return (struct rstr){ s->p, s->n };
}

/* ---- nodes ------------------------------------------------------------------- */
struct replay_tree *replay_tree_new(uint64_t pid)
{
	struct replay_tree *t = calloc(1, sizeof(*t));

	if (t)
		t->pid = pid;
	return t;
}

static struct tree_node *node_get(struct replay_tree *t, struct rstr entity, bool add)
{
	struct strmap_item *it;
	struct tree_node *n;
	int err;

	it = strmap_get(&t->nodes, entity.p, entity.n, add, &err);
	if (!it)
		return NULL;
	if (!it->value) {
		n = calloc(1, sizeof(*n));
		if (!n)
			return NULL;
		n->item = it;
		it->value = n;
	}
	return it->value;
}

static void seen_at(struct tree_node *n, const struct timespec *t)
{
	if (!n->seen || timespec_cmp(t, &n->first) < 0)
		n->first = *t;
	if (!n->seen || timespec_cmp(t, &n->last) > 0)
		n->last = *t;
	n->seen = true;
}

int replay_tree_learn(struct replay_tree *t, const struct replay_event *ev)
{
	struct tree_node *n, *p;

	if (!ev->entity_id.p)
		return 0;	/* a process replay cannot tell apart from others */
	n = node_get(t, ev->entity_id, true);
	if (!n)
		return -ENOMEM;
	if (!n->has_pid && ev->has_pid) {
		n->has_pid = true;
		n->pid = ev->pid;
	}
	seen_at(n, &ev->time);
	if (n->parent || !ev->parent_entity_id.p || rstr_eq(ev->parent_entity_id, ev->entity_id))
		return 0;
	p = node_get(t, ev->parent_entity_id, true);
	if (!p)
		return -ENOMEM;
	if (!p->has_pid && ev->has_ppid) {
		p->has_pid = true;
		p->pid = ev->ppid;
	}
	seen_at(p, &ev->time);	/* it was alive then */
	n->parent = p;
	n->has_ppid = ev->has_ppid;
	n->ppid = ev->ppid;
	if (p->last_child)
		p->last_child->next_sibling = n;
	else
		p->first_child = n;
	p->last_child = n;
	return 0;
}

/* ---- choosing the trees -------------------------------------------------------- */
static bool seen_in_window(const struct tree_node *n, const struct replay_filter *w)
{
	if (!w)
		return true;
	if ((w->given & RF_BIT(RF_SINCE)) && timespec_cmp(&n->last, &w->since) < 0)
		return false;
	if ((w->given & RF_BIT(RF_UNTIL)) && timespec_cmp(&n->first, &w->until) >= 0)
		return false;
	return true;
}

static bool is_candidate(const struct replay_tree *t, const struct tree_node *n,
			 const struct replay_filter *w)
{
	return n->has_pid && n->pid == t->pid && seen_in_window(n, w);
}

/* Whether an ancestor also had the pid (then n shows inside its tree). Parent
 * links come from the trail, so they may loop: the walk is bounded. */
static bool candidate_above(const struct replay_tree *t, const struct tree_node *n,
			    const struct replay_filter *w)
{
	const struct tree_node *a = n->parent;
	size_t steps = 0;

	for (; a && a != n && steps < t->nodes.n; a = a->parent, steps++)
		if (is_candidate(t, a, w))
			return true;
	return false;
}

/* Depth-first walks keep their own stack: trees can be deeper than the C stack. */
struct walk {
	struct tree_node **v;
	size_t n, cap;
};

static int walk_push(struct walk *s, struct tree_node *n)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct tree_node **v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = n;
	return 0;
}

static int select_subtree(struct tree_node *root)
{
	struct walk s = { 0 };
	struct tree_node *n, *c;
	int err = walk_push(&s, root);

	while (!err && s.n) {
		n = s.v[--s.n];
		if (n->selected)
			continue;
		n->selected = true;
		n->d = calloc(1, sizeof(*n->d));
		if (!n->d) {
			err = -ENOMEM;
			break;
		}
		for (c = n->first_child; c && !err; c = c->next_sibling)
			if (!c->selected)
				err = walk_push(&s, c);
	}
	free(s.v);
	return err;
}

static int add_root(struct replay_tree *t, struct tree_node *n)
{
	struct tree_node **v = realloc(t->roots, (t->nroots + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	t->roots = v;
	t->roots[t->nroots++] = n;
	return select_subtree(n);
}

long replay_tree_select(struct replay_tree *t, const struct replay_filter *window)
{
	struct tree_node *n;
	size_t i;

	for (i = 0; i < t->nodes.n; i++) {
		n = t->nodes.items[i]->value;
		if (is_candidate(t, n, window) && !candidate_above(t, n, window) && add_root(t, n))
			return -ENOMEM;
	}
	/* Candidates on a loop of parent links (only a forged trail has one) all have a
	 * candidate above them: the first of each loop stands as its root, or the whole
	 * loop would be hidden. */
	for (i = 0; i < t->nodes.n; i++) {
		n = t->nodes.items[i]->value;
		if (is_candidate(t, n, window) && !n->selected && add_root(t, n))
			return -ENOMEM;
	}
	return (long)t->nroots;
}

/* ---- the second pass: what the chosen processes did ------------------------------ */

/* Opens for writing, creations, deletions, renames and attribute changes: the
 * file system changes a responder wants to see per process. */
static bool changes_a_file(const struct replay_event *ev)
{
	static const char *const changing[] = { "unlink", "rmdir", "mkdir", "rename", "link",
						"symlink", "chmod", "chown", "truncate", "setxattr",
						"removexattr", "chattr", NULL };
	static const char *const write_flags[] = { "O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC",
						   "O_APPEND", NULL };
	const struct jv *v;
	size_t i, k;

	for (k = 0; changing[k]; k++)
		if (rstr_is(ev->action, changing[k]))
			return true;
	if (!rstr_is(ev->action, "open"))
		return false;
	v = replay_field(ev->root, "file.open_flags");
	if (v && v->type == JV_ARRAY) {
		for (i = 0; i < v->n; i++)
			for (k = 0; write_flags[k]; k++)
				if (jv_is_string(v->items[i], write_flags[k]))
					return true;
		return false;
	}
	/* No flags recorded: the agent's event.type still says creation/change. */
	v = replay_field(ev->root, "event.type");
	for (i = 0; v && v->type == JV_ARRAY && i < v->n; i++)
		if (jv_is_string(v->items[i], "creation") || jv_is_string(v->items[i], "change"))
			return true;
	return false;
}

static int record_exec(struct tree_details *d, const struct replay_event *ev)
{
	const struct jv *args = replay_field(ev->root, "process.args"), *v;
	struct tree_exec *x;
	struct rstr exe = ev->executable;
	size_t i, bytes = 0;
	int err = 0;

	if (d->nexecs == TREE_MAX_EXECS) {
		d->execs_more++;
		return 0;
	}
	x = &d->execs[d->nexecs++];
	x->sequence = ev->sequence;
	x->time = ev->time;
	x->failed = rstr_is(ev->outcome, "failure");
	/* A failed exec leaves the old executable: what was tried is the filename. */
	if (x->failed && replay_field_str(ev->root, "sealtrail.exec.filename").p)
		exe = replay_field_str(ev->root, "sealtrail.exec.filename");
	err |= str_set(&x->executable, exe);
	err |= str_set(&x->error, ev->error_code);
	v = replay_field(ev->root, "process.args_truncated");
	x->args_truncated = v && v->type == JV_TRUE;
	if (!args || args->type != JV_ARRAY)
		return err ? -ENOMEM : 0;
	x->args = calloc(args->n < TREE_MAX_ARGS ? args->n : TREE_MAX_ARGS, sizeof(*x->args));
	if (args->n && !x->args)
		return -ENOMEM;
	for (i = 0; i < args->n; i++) {
		v = args->items[i];
		if (x->nargs == TREE_MAX_ARGS || v->type != JV_STRING ||
		    bytes + v->n > TREE_MAX_ARG_BYTES) {
			x->args_dropped = args->n - i;
			break;
		}
		err |= str_set(&x->args[x->nargs++], (struct rstr){ v->str, v->n });
		bytes += v->n;
	}
	return err ? -ENOMEM : 0;
}

static int record_file(struct tree_details *d, const struct replay_event *ev)
{
	bool failed = rstr_is(ev->outcome, "failure");
	bool linking = rstr_is(ev->action, "link") || rstr_is(ev->action, "symlink");
	struct rstr target = linking ? ev->target_path : (struct rstr){ NULL, 0 };
	struct rstr original = rstr_is(ev->action, "rename") ? ev->original_path
							       : (struct rstr){ NULL, 0 };
	struct tree_file *f;
	size_t i;
	int err = 0;

	/* The same change again (a file rewritten in a loop) is counted, not listed. */
	for (i = 0; i < d->nfiles; i++) {
		f = &d->files[i];
		if (f->failed == failed && rstr_eq(rs(&f->action), ev->action) &&
		    (rstr_eq(rs(&f->path), ev->path) || (!f->path.p && !ev->path.p)) &&
		    (rstr_eq(rs(&f->original), original) || (!f->original.p && !original.p)) &&
		    (rstr_eq(rs(&f->target), target) || (!f->target.p && !target.p))) {
			f->count++;
			return 0;
		}
	}
	if (d->nfiles == TREE_MAX_FILES) {
		d->files_more++;
		return 0;
	}
	f = &d->files[d->nfiles++];
	f->sequence = ev->sequence;
	f->time = ev->time;
	f->count = 1;
	f->failed = failed;
	err |= str_set(&f->action, ev->action);
	err |= str_set(&f->path, ev->path);
	err |= str_set(&f->original, original);
	err |= str_set(&f->target, target);
	err |= str_set(&f->error, ev->error_code);
	return err ? -ENOMEM : 0;
}

static int record_exit(struct tree_details *d, const struct replay_event *ev)
{
	const struct jv *v;

	d->exited = true;
	d->exit_sequence = ev->sequence;
	d->exit_time = ev->time;
	d->has_code = jv_to_i64(replay_field(ev->root, "process.exit_code"), &d->code);
	v = replay_field(ev->root, "sealtrail.exit.core_dumped");
	d->core_dumped = v && v->type == JV_TRUE;
	v = replay_field(ev->root, "sealtrail.exit.signal");
	if (v && (v->type == JV_STRING || v->type == JV_INT)) {
		d->signal_is_number = v->type == JV_INT;
		return str_set(&d->signal, (struct rstr){ v->str, v->n });
	}
	return 0;
}

int replay_tree_record(struct replay_tree *t, const struct replay_event *ev,
		       const struct replay_filter *window)
{
	struct tree_node *n;
	struct tree_details *d;
	int err;

	if (!ev->entity_id.p)
		return 0;
	n = node_get(t, ev->entity_id, false);
	if (!n || !n->d || (window && !replay_filter_in_window(window, ev)))
		return 0;
	d = n->d;
	d->events++;
	err = str_set(&d->name, ev->name) | str_set(&d->executable, ev->executable);
	if (err)
		return -ENOMEM;
	if (ev->has_uid && !d->has_uid) {
		d->has_uid = true;
		d->uid = ev->uid;
	}
	if (rstr_is(ev->action, "fork")) {
		/* The fork event is the child's: its process is the child. A failed
		 * fork made no child. */
		if (!rstr_is(ev->outcome, "failure") && !d->forked) {
			d->forked = true;
			d->fork_sequence = ev->sequence;
			d->fork_time = ev->time;
		}
		return 0;
	}
	if (rstr_is(ev->action, "exec"))
		return record_exec(d, ev);
	if (rstr_is(ev->action, "exit"))
		return record_exit(d, ev);
	if (changes_a_file(ev))
		return record_file(d, ev);
	return 0;
}

/* ---- output ---------------------------------------------------------------------- */

/* Preorder over the chosen processes under root; visit() gets each with its
 * depth. Every node is visited once, even if the trail's parent links loop. */
static int walk_tree(struct tree_node *root, void (*visit)(struct tree_node *n, size_t depth,
							    void *ctx), void *ctx)
{
	struct walk s = { 0 };
	struct tree_node *n, *c;
	size_t *depths = NULL, dcap = 0, depth;
	int err = 0;

	/* The stack holds nodes and, in parallel, their depths. */
	if (walk_push(&s, root))
		return -ENOMEM;
	dcap = s.cap;
	depths = malloc(dcap * sizeof(*depths));
	if (!depths) {
		free(s.v);
		return -ENOMEM;
	}
	depths[0] = 0;
	while (s.n) {
		size_t first, lo, hi;

		n = s.v[--s.n];
		depth = depths[s.n];
		if (n->printed)
			continue;
		n->printed = true;
		visit(n, depth, ctx);
		/* Children go on the stack in reverse, so they come out in order. */
		first = s.n;
		for (c = n->first_child; c; c = c->next_sibling) {
			if (c->printed || !c->selected)
				continue;
			if (walk_push(&s, c)) {
				err = -ENOMEM;
				goto out;
			}
			if (dcap < s.cap) {
				size_t *v = realloc(depths, s.cap * sizeof(*depths));

				if (!v) {
					err = -ENOMEM;
					goto out;
				}
				depths = v;
				dcap = s.cap;
			}
			depths[s.n - 1] = depth + 1;
		}
		for (lo = first, hi = s.n; hi > lo + 1; lo++, hi--) {
			struct tree_node *tmp = s.v[lo];

			s.v[lo] = s.v[hi - 1];
			s.v[hi - 1] = tmp;
		}
	}
out:
	free(depths);
	free(s.v);
	return err;
}

static void clear_printed(struct replay_tree *t)
{
	size_t i;

	for (i = 0; i < t->nodes.n; i++)
		((struct tree_node *)t->nodes.items[i]->value)->printed = false;
}

struct text_ctx {
	struct buf *b;
	const struct rtext_style *st;
	FILE *f;
	bool failed;		/* a node could not be formatted: the tree is incomplete */
};

static void indent(struct buf *b, size_t depth, size_t extra)
{
	size_t i, n = (depth < INDENT_MAX_DEPTH ? depth : INDENT_MAX_DEPTH) * 4 + extra;

	for (i = 0; i < n; i++)
		buf_putc(b, ' ');
}

static void put_seq(struct buf *b, const struct rtext_style *st, uint64_t seq)
{
	buf_puts(b, "  ");
	rtext_color(b, st, RC_DIM);
	buf_printf(b, "#%" PRIu64, seq);
	rtext_reset(b, st);
}

static void put_failed(struct buf *b, const struct rtext_style *st, const struct tree_str *error)
{
	buf_puts(b, "  ");
	rtext_color(b, st, RC_RED);
	buf_puts(b, "failed");
	if (error->p) {
		buf_putc(b, ' ');
		rtext_quoted(b, error->p, error->n);
	}
	rtext_reset(b, st);
}

static void text_node(struct tree_node *n, size_t depth, void *ctx)
{
	struct text_ctx *c = ctx;
	struct buf *b = c->b;
	const struct rtext_style *st = c->st;
	struct tree_details *d = n->d;
	size_t i, k;

	buf_reset(b);
	indent(b, depth, 0);
	if (depth > INDENT_MAX_DEPTH)
		buf_printf(b, "[depth %zu] ", depth);
	rtext_color(b, st, RC_BOLD);
	if (n->has_pid)
		buf_printf(b, "pid %" PRIu64, n->pid);
	else
		buf_puts(b, "pid ?");
	buf_putc(b, ' ');
	rtext_rstr(b, rs(&d->name));
	rtext_reset(b, st);
	if (d->has_uid)
		buf_printf(b, " uid=%" PRIu64, d->uid);
	buf_puts(b, "  entity ");
	rtext_quoted(b, n->item->key, n->item->klen);
	if (d->forked) {
		buf_puts(b, "  forked ");
		rtext_time(b, &d->fork_time);
		put_seq(b, st, d->fork_sequence);
	} else {
		buf_puts(b, "  first seen ");
		rtext_time(b, &n->first);
		buf_puts(b, " (no fork recorded)");
	}
	if (depth == 0 && n->parent && n->parent->has_pid)
		buf_printf(b, "  parent pid %" PRIu64, n->parent->pid);
	buf_putc(b, '\n');

	for (i = 0; i < d->nexecs; i++) {
		struct tree_exec *x = &d->execs[i];

		indent(b, depth, 4);
		buf_puts(b, "exec  ");
		rtext_time(b, &x->time);
		buf_puts(b, "  ");
		rtext_rstr(b, rs(&x->executable));
		buf_puts(b, " argv:");
		for (k = 0; k < x->nargs; k++) {
			buf_putc(b, ' ');
			rtext_quoted(b, x->args[k].p, x->args[k].n);
		}
		if (x->args_dropped)
			buf_printf(b, " ... and %" PRIu64 " more", x->args_dropped);
		if (x->args_truncated)
			buf_puts(b, " (argv truncated)");
		if (x->failed)
			put_failed(b, st, &x->error);
		put_seq(b, st, x->sequence);
		buf_putc(b, '\n');
	}
	if (d->execs_more) {
		indent(b, depth, 4);
		buf_printf(b, "... and %" PRIu64 " more execs\n", d->execs_more);
	}
	for (i = 0; i < d->nfiles; i++) {
		struct tree_file *f = &d->files[i];

		indent(b, depth, 4);
		rtext_rstr(b, rs(&f->action));
		buf_puts(b, "  ");
		rtext_time(b, &f->time);
		buf_puts(b, "  ");
		if (f->original.p) {
			rtext_rstr(b, rs(&f->original));
			buf_puts(b, " -> ");
		}
		rtext_rstr(b, rs(&f->path));
		if (f->target.p) {
			buf_puts(b, " -> ");
			rtext_rstr(b, rs(&f->target));
		}
		if (f->failed)
			put_failed(b, st, &f->error);
		if (f->count > 1)
			buf_printf(b, " (%" PRIu64 " times)", f->count);
		put_seq(b, st, f->sequence);
		buf_putc(b, '\n');
	}
	if (d->files_more) {
		indent(b, depth, 4);
		buf_printf(b, "... and %" PRIu64 " more files changed\n", d->files_more);
	}
	indent(b, depth, 4);
	if (d->exited) {
		buf_puts(b, "exit  ");
		rtext_time(b, &d->exit_time);
		if (d->signal.p) {
			buf_puts(b, "  signal ");
			rtext_quoted(b, d->signal.p, d->signal.n);
		} else if (d->has_code) {
			buf_printf(b, "  code %" PRId64, d->code);
		}
		if (d->core_dumped)
			buf_puts(b, " (core dumped)");
		put_seq(b, st, d->exit_sequence);
		buf_putc(b, '\n');
	} else {
		buf_puts(b, "no exit recorded (still running when the trail ends, or not seen)\n");
	}
	if (b->failed)
		c->failed = true;
	else
		fwrite(b->data, 1, b->len, c->f);
}

int replay_tree_text(struct replay_tree *t, FILE *f, const struct rtext_style *st)
{
	struct buf b = { 0 };
	struct text_ctx c = { &b, st, f, false };
	int err = 0;
	size_t i;

	if (t->nroots == 0)
		fprintf(f, "# no process had pid %" PRIu64 " in the replayed entries\n", t->pid);
	else if (t->nroots == 1)
		fprintf(f, "# process tree of pid %" PRIu64 "\n", t->pid);
	else
		fprintf(f, "# process tree of pid %" PRIu64 ": %zu different processes had "
			"this pid (pid reuse); each is shown with its own tree\n", t->pid,
			t->nroots);
	clear_printed(t);
	for (i = 0; i < t->nroots; i++) {
		if (i)
			fputc('\n', f);
		err = walk_tree(t->roots[i], text_node, &c);
		if (err || c.failed) {
			fprintf(f, "# out of memory: the tree is incomplete\n");
			err = -ENOMEM;
			break;
		}
	}
	buf_free(&b);
	return err;
}

/* ---- JSON -------------------------------------------------------------------------- */
struct json_ctx {
	struct buf *b;
	FILE *f;
	size_t root;
	int err;
};

static void json_str(struct jw *w, const struct tree_str *s)
{
	if (s->p)
		jw_string(w, s->p, s->n);
	else
		jw_null(w);
}

static void json_time(struct jw *w, const struct timespec *t, struct buf *tmp)
{
	buf_reset(tmp);
	rtext_time(tmp, t);
	jw_string(w, tmp->data ? tmp->data : "", tmp->len);
}

static void json_node(struct tree_node *n, size_t depth, void *ctx)
{
	struct json_ctx *c = ctx;
	struct tree_details *d = n->d;
	struct buf tmp = { 0 };
	struct jw w;
	size_t i, k;

	buf_reset(c->b);
	jw_init(&w, c->b);
	jw_object_begin(&w);
	jw_key(&w, "tree");
	jw_object_begin(&w);
	jw_key(&w, "depth");
	jw_uint(&w, depth);
	jw_key(&w, "entity_id");
	jw_string(&w, n->item->key, n->item->klen);
	jw_key(&w, "events");
	jw_uint(&w, d->events);
	jw_key(&w, "execs");
	jw_array_begin(&w);
	for (i = 0; i < d->nexecs; i++) {
		struct tree_exec *x = &d->execs[i];

		jw_object_begin(&w);
		jw_key(&w, "args");
		jw_array_begin(&w);
		for (k = 0; k < x->nargs; k++)
			jw_string(&w, x->args[k].p, x->args[k].n);
		jw_array_end(&w);
		jw_key(&w, "args_dropped");
		jw_uint(&w, x->args_dropped);
		jw_key(&w, "args_truncated");
		jw_bool(&w, x->args_truncated);
		if (x->error.p) {
			jw_key(&w, "error");
			json_str(&w, &x->error);
		}
		jw_key(&w, "executable");
		json_str(&w, &x->executable);
		jw_key(&w, "outcome");
		jw_cstring(&w, x->failed ? "failure" : "success");
		jw_key(&w, "sequence");
		jw_uint(&w, x->sequence);
		jw_key(&w, "time");
		json_time(&w, &x->time, &tmp);
		jw_object_end(&w);
	}
	jw_array_end(&w);
	jw_key(&w, "execs_more");
	jw_uint(&w, d->execs_more);
	jw_key(&w, "executable");
	json_str(&w, &d->executable);
	jw_key(&w, "exit");
	if (d->exited) {
		jw_object_begin(&w);
		jw_key(&w, "code");
		if (d->has_code)
			jw_int(&w, d->code);
		else
			jw_null(&w);
		jw_key(&w, "core_dumped");
		jw_bool(&w, d->core_dumped);
		jw_key(&w, "sequence");
		jw_uint(&w, d->exit_sequence);
		jw_key(&w, "signal");
		if (d->signal.p && d->signal_is_number)
			jw_raw(&w, d->signal.p, d->signal.n);
		else
			json_str(&w, &d->signal);
		jw_key(&w, "time");
		json_time(&w, &d->exit_time, &tmp);
		jw_object_end(&w);
	} else {
		jw_null(&w);
	}
	jw_key(&w, "files");
	jw_array_begin(&w);
	for (i = 0; i < d->nfiles; i++) {
		struct tree_file *f = &d->files[i];

		jw_object_begin(&w);
		jw_key(&w, "action");
		json_str(&w, &f->action);
		jw_key(&w, "count");
		jw_uint(&w, f->count);
		if (f->error.p) {
			jw_key(&w, "error");
			json_str(&w, &f->error);
		}
		if (f->original.p) {
			jw_key(&w, "original_path");
			json_str(&w, &f->original);
		}
		jw_key(&w, "outcome");
		jw_cstring(&w, f->failed ? "failure" : "success");
		jw_key(&w, "path");
		json_str(&w, &f->path);
		jw_key(&w, "sequence");
		jw_uint(&w, f->sequence);
		if (f->target.p) {
			jw_key(&w, "target_path");
			json_str(&w, &f->target);
		}
		jw_key(&w, "time");
		json_time(&w, &f->time, &tmp);
		jw_object_end(&w);
	}
	jw_array_end(&w);
	jw_key(&w, "files_more");
	jw_uint(&w, d->files_more);
	jw_key(&w, "first_seen");
	json_time(&w, &n->first, &tmp);
	jw_key(&w, "fork");
	if (d->forked) {
		jw_object_begin(&w);
		jw_key(&w, "sequence");
		jw_uint(&w, d->fork_sequence);
		jw_key(&w, "time");
		json_time(&w, &d->fork_time, &tmp);
		jw_object_end(&w);
	} else {
		jw_null(&w);
	}
	jw_key(&w, "name");
	json_str(&w, &d->name);
	jw_key(&w, "parent_entity_id");
	if (n->parent)
		jw_string(&w, n->parent->item->key, n->parent->item->klen);
	else
		jw_null(&w);
	jw_key(&w, "pid");
	if (n->has_pid)
		jw_uint(&w, n->pid);
	else
		jw_null(&w);
	jw_key(&w, "ppid");
	if (n->parent && n->parent->has_pid)
		jw_uint(&w, n->parent->pid);
	else if (n->has_ppid)
		jw_uint(&w, n->ppid);
	else
		jw_null(&w);
	jw_key(&w, "root");
	jw_uint(&w, c->root);
	jw_key(&w, "uid");
	if (d->has_uid)
		jw_uint(&w, d->uid);
	else
		jw_null(&w);
	jw_object_end(&w);
	jw_object_end(&w);
	if (!jw_ok(&w) || tmp.failed) {
		c->err = -ENOMEM;
	} else {
		buf_putc(c->b, '\n');
		fwrite(c->b->data, 1, c->b->len, c->f);
	}
	buf_free(&tmp);
}

int replay_tree_json(struct replay_tree *t, FILE *f)
{
	struct buf b = { 0 };
	struct json_ctx c = { &b, f, 0, 0 };
	int err = 0;

	clear_printed(t);
	for (c.root = 0; c.root < t->nroots && !err && !c.err; c.root++)
		err = walk_tree(t->roots[c.root], json_node, &c);
	buf_free(&b);
	return err ? err : c.err;
}

/* ---- freeing ------------------------------------------------------------------------ */
static void details_free(struct tree_details *d)
{
	size_t i, k;

	if (!d)
		return;
	str_free(&d->name);
	str_free(&d->executable);
	str_free(&d->signal);
	for (i = 0; i < d->nexecs; i++) {
		str_free(&d->execs[i].executable);
		str_free(&d->execs[i].error);
		for (k = 0; k < d->execs[i].nargs; k++)
			str_free(&d->execs[i].args[k]);
		free(d->execs[i].args);
	}
	for (i = 0; i < d->nfiles; i++) {
		str_free(&d->files[i].action);
		str_free(&d->files[i].path);
		str_free(&d->files[i].original);
		str_free(&d->files[i].target);
		str_free(&d->files[i].error);
	}
	free(d);
}

static void node_free(void *value)
{
	struct tree_node *n = value;

	if (n)
		details_free(n->d);
	free(n);
}

void replay_tree_free(struct replay_tree *t)
{
	if (!t)
		return;
	strmap_free(&t->nodes, node_free);
	free(t->roots);
	free(t);
}
