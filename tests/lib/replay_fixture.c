/* replay_fixture: trails for replay tests (see replay_fixture.h). */
#include "replay_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "json.h"

void rf_trail_init(struct rf_trail *t, const char *tag)
{
	const char *args[] = { NULL };
	struct tl_proc p;

	memset(t, 0, sizeof(*t));
	t->dir = tl_tmpdir(tag);
	snprintf(t->trail, sizeof(t->trail), "%s/trail", t->dir);
	snprintf(t->keys, sizeof(t->keys), "%s/keys", t->dir);
	snprintf(t->verify_key, sizeof(t->verify_key), "%s/verify.key", t->keys);
	if (rf_run(&p, t->keys, "keygen", args) != 0)
		fail_msg("keygen failed: %s", p.err);
	tl_proc_free(&p);
}

void rf_trail_append(const struct rf_trail *t, const char *jsonl, size_t segment_bytes)
{
	char size[32];
	const char *argv[] = { tl_cli(), "append", "--quiet", "--dir", t->trail,
			       "--key-dir", t->keys, segment_bytes ? "--segment-bytes" : NULL,
			       size, NULL };
	struct tl_proc p;

	snprintf(size, sizeof(size), "%zu", segment_bytes);
	if (tl_run(&p, jsonl, strlen(jsonl), argv) != 0)
		fail_msg("append failed (%d): %s", p.status, p.err);
	tl_proc_free(&p);
}

void rf_trail_free(struct rf_trail *t)
{
	tl_rmtree(t->dir);
	free(t->dir);
	t->dir = NULL;
}

int rf_run(struct tl_proc *p, const char *trail, const char *cmd, const char *const *args)
{
	const char *argv[32] = { tl_cli(), cmd };
	size_t n = 2, i;

	for (i = 0; args[i]; i++) {
		assert_true(n < 28);
		argv[n++] = args[i];
	}
	if (trail)
		argv[n++] = trail;
	argv[n] = NULL;
	tl_run(p, NULL, 0, argv);
	if (p->status > 2)
		fail_msg("sealtrail %s crashed (status %d): %s", cmd, p->status, p->err);
	return p->status;
}

/* The JSON object on one line of out; fails the test if it is not one. */
static struct jv *parse_line(struct jv_arena *a, const char *line, size_t n)
{
	struct json_error err;
	struct jv *v;

	if (json_parse(a, line, n, &v, &err) || v->type != JV_OBJECT)
		fail_msg("not a JSON object at byte %zu (%s): %.*s", err.offset, err.msg, (int)n,
			 line);
	return v;
}

char *rf_json_tags(const char *out, size_t len)
{
	struct jv_arena *a = jv_arena_new();
	const char *line = out, *end = out + len, *nl;
	struct buf b = { 0 };
	bool first = true;

	assert_non_null(a);
	for (; line < end; line = nl + 1) {
		const struct jv *v, *ev, *tag;

		nl = memchr(line, '\n', (size_t)(end - line));
		assert_non_null(nl);
		jv_arena_reset(a);
		v = parse_line(a, line, (size_t)(nl - line));
		if (first) {
			if (!jv_get(v, "verification"))
				fail_msg("first line is not the verification: %.*s",
					 (int)(nl - line), line);
			first = false;
			continue;
		}
		ev = jv_get(v, "event");
		if (!ev || !jv_get(v, "entry") || !jv_get(jv_get(v, "entry"), "hash"))
			fail_msg("not an entry line: %.*s", (int)(nl - line), line);
		if (b.len)
			buf_putc(&b, ' ');
		tag = jv_get(jv_get(ev, "labels"), "tag");
		if (jv_is_string(jv_get(jv_get(ev, "event"), "action"), "epoch-seal"))
			buf_puts(&b, "seal");
		else if (tag && tag->type == JV_STRING)
			buf_append(&b, tag->str, tag->n);
		else
			buf_putc(&b, '-');
	}
	if (first)
		fail_msg("no verification line in: %.*s", (int)len, out);
	buf_putc(&b, '\0');
	assert_false(b.failed);
	jv_arena_free(a);
	return b.data;
}

char *rf_replay_tags(const char *trail, const char *const *args, int status)
{
	const char *all[28] = { "--json" };
	struct tl_proc p;
	size_t i;
	char *tags;

	for (i = 0; args[i]; i++) {
		assert_true(i + 2 < 28);
		all[i + 1] = args[i];
	}
	all[i + 1] = NULL;
	if (rf_run(&p, trail, "replay", all) != status)
		fail_msg("replay exited %d, not %d: %s", p.status, status, p.err);
	tags = rf_json_tags(p.out, p.out_len);
	tl_proc_free(&p);
	return tags;
}

char *rf_tree_shape(const char *out, size_t len)
{
	static const char script[] =
		"import sys, json\n"
		"lines = [json.loads(l) for l in sys.stdin.read().splitlines()]\n"
		"assert 'verification' in lines[0], lines[0]\n"
		"root = None\n"
		"for l in lines[1:]:\n"
		"    n = l['tree']\n"
		"    if n['root'] != root:\n"
		"        root = n['root']; print('root %d' % root)\n"
		"    ex = ' '.join('exec=%s[%s]%s' % (x['executable'], ' '.join(x['args']),\n"
		"                  '' if x['outcome'] == 'success' else '!') for x in n['execs'])\n"
		"    code = '-' if n['exit'] is None else n['exit']['code']\n"
		"    files = ','.join('%s:%s' % (f['action'], f['path']) for f in n['files'])\n"
		"    print('%spid %s %s %s exit=%s files=%s' % ('  ' * n['depth'], n['pid'],\n"
		"          n['name'], ex, code, files))\n";

	return tl_python(script, out, len, NULL);
}

const char rf_ecs_py[] =
	"import json, copy\n"
	"BOOT = '0123456789abcdef'\n"
	"def at(t):\n"
	"    return '2024-03-10T%02d:%02d:%02d.%06dZ' % (2 + int(t) // 3600, int(t) // 60 % 60,\n"
	"                                             int(t) % 60, round((t - int(t)) * 1e6))\n"
	"def proc(pid, start, name, exe, parent, uid=0, auid=None, session=None):\n"
	"    return dict(pid=pid, start=start, name=name, exe=exe, parent=parent, uid=uid,\n"
	"                auid=auid, session=session)\n"
	"def entity(p): return '%s-%d-%d' % (BOOT, p['start'], p['pid'])\n"
	"def put(o, dotted, v):\n"
	"    ks = dotted.split('.')\n"
	"    for k in ks[:-1]: o = o.setdefault(k, {})\n"
	"    o[ks[-1]] = v\n"
	"def emit(o): print(json.dumps(o))\n"
	"def ev(tag, t, action, p, outcome='success', error=None, fields=None):\n"
	"    o = {'event': {'action': action, 'kind': 'event', 'outcome': outcome},\n"
	"         'labels': {'tag': tag},\n"
	"         'process': {'pid': p['pid'], 'entity_id': entity(p), 'name': p['name']},\n"
	"         'user': {'id': p['uid']}}\n"
	"    if t is not None: o['@timestamp'] = at(t)\n"
	"    if p['exe']: o['process']['executable'] = p['exe']\n"
	"    if p['parent']:\n"
	"        o['process']['parent'] = {'pid': p['parent']['pid'],\n"
	"                                  'entity_id': entity(p['parent'])}\n"
	"    if p['auid'] is not None:\n"
	"        o['user']['audit'] = {'id': p['auid']}\n"
	"        if p['session'] is not None: o['user']['audit']['session'] = p['session']\n"
	"    if outcome == 'failure':\n"
	"        o['error'] = {'code': error or 'EPERM'}\n"
	"        o['syscall'] = {'result': -1}\n"
	"    for k, v in (fields or {}).items(): put(o, k, v)\n"
	"    emit(o)\n"
	"def fork(parent, pid, start, tag, t):\n"
	"    c = dict(parent, pid=pid, start=start, parent=parent)\n"
	"    ev(tag, t, 'fork', c)\n"
	"    return c\n"
	"def execve(p, tag, t, exe, argv):\n"
	"    p['exe'] = exe; p['name'] = exe.rsplit('/', 1)[-1][:15]\n"
	"    ev(tag, t, 'exec', p, fields={'process.args': argv,\n"
	"                                  'process.args_count': len(argv)})\n"
	"def exit_(p, tag, t, code):\n"
	"    ev(tag, t, 'exit', p, fields={'process.exit_code': code})\n"
	"def agent(tag, t, action, fields=None):\n"
	"    o = {'event': {'action': action, 'kind': 'state', 'module': 'sealtrail'},\n"
	"         'labels': {'tag': tag}}\n"
	"    if t is not None: o['@timestamp'] = at(t)\n"
	"    for k, v in (fields or {}).items(): put(o, k, v)\n"
	"    emit(o)\n";

char *rf_events(const char *scenario)
{
	size_t n = strlen(rf_ecs_py) + strlen(scenario) + 1;
	char *script = malloc(n), *out;

	assert_non_null(script);
	snprintf(script, n, "%s%s", rf_ecs_py, scenario);
	out = tl_python(script, NULL, 0, NULL);
	free(script);
	return out;
}
