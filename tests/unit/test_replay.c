/* test_replay: `sealtrail replay` and `sealtrail stats` as a responder runs
 * them. One trail holds a known story (docs/REPLAY.md tells it the same way):
 *
 *   a login shell (pid 100, uid 1000, session 7) starts sh (101), which starts
 *   python3 (102), which writes /tmp/out.txt and is refused /etc/shadow;
 *   meanwhile cron (200) runs id (201), root edits /etc/passwd under the same
 *   login, another user (session 8) runs /tmp/.x/evil and deletes a trail
 *   file; the agent records lost events; half an hour later cron starts a
 *   process that gets pid 100 again.
 *
 * Every event carries labels.tag, so each assertion names exactly the events
 * expected back, and nothing else may come. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "replay_fixture.h"

static const char story_py[] =
	"init = proc(1, 1, 'systemd', '/usr/lib/systemd/systemd', None)\n"
	"bash = proc(100, 1000, 'bash', '/usr/bin/bash', init, uid=1000, auid=1000, session=7)\n"
	"cron = proc(200, 500, 'cron', '/usr/sbin/cron', init)\n"
	"agent('start', 0, 'agent-start', {'sealtrail.agent.version': '0.1.0',\n"
	"                                  'host.hostname': 'web1'})\n"
	"execve(bash, 'bash-exec', 0, '/usr/bin/bash', ['-bash'])\n"
	"sh = fork(bash, 101, 2000, 'sh-fork', 1)\n"
	"execve(sh, 'sh-exec', 2, '/bin/sh', ['sh', '-c', 'python3 /tmp/w.py'])\n"
	"py = fork(sh, 102, 3000, 'py-fork', 3)\n"
	"idp = fork(cron, 201, 3100, 'id-fork', 3)\n"
	"execve(py, 'py-exec', 4, '/usr/bin/python3', ['python3', '/tmp/w.py'])\n"
	"execve(idp, 'id-exec', 4, '/usr/bin/id', ['id', '-u'])\n"
	"ev('py-open', 5, 'open', py, fields={'file.path': '/tmp/out.txt', 'file.mode': '0644',\n"
	"   'file.open_flags': ['O_WRONLY', 'O_CREAT', 'O_TRUNC'], 'event.type': ['creation']})\n"
	"ev('py-shadow', 5.5, 'open', py, 'failure', 'EACCES', {'file.path': '/etc/shadow',\n"
	"   'file.open_flags': ['O_RDONLY'], 'sealtrail.flags': ['sensitive']})\n"
	"exit_(py, 'py-exit', 6, 0)\n"
	"exit_(idp, 'id-exit', 6, 0)\n"
	"exit_(sh, 'sh-exit', 7, 0)\n"
	"root = proc(300, 4000, 'vipw', '/usr/sbin/vipw', init, uid=0, auid=1000, session=7)\n"
	"ev('root-rename', 8, 'rename', root, fields={'file.path': '/etc/passwd',\n"
	"   'file.original.path': '/etc/passwd.new'})\n"
	"ev('root-chmod', 9, 'chmod', root, fields={'file.path': '/etc/passwd', 'file.mode': "
	"'0644'})\n"
	"ev('root-unlink', 10, 'unlink', root, 'failure', 'ENOENT', {'file.path': "
	"'/etc/passwd-'})\n"
	"ev('root-passwdx', 11, 'open', root, fields={'file.path': '/etc/passwdX',\n"
	"   'file.open_flags': ['O_WRONLY']})\n"
	"eve = proc(400, 5000, 'bash', '/usr/bin/bash', init, uid=1001, auid=1001, session=8)\n"
	"evil = fork(eve, 401, 6000, 'evil-fork', 12)\n"
	"execve(evil, 'evil-exec', 13, '/tmp/.x/evil', ['evil', '--quiet'])\n"
	"ev('evil-symlink', 14, 'symlink', evil, fields={'file.path': '/home/eve/link',\n"
	"   'file.target_path': '/tmp/.x/evil'})\n"
	"ev('evil-tamper', 15, 'unlink', evil, fields={'event.kind': 'alert', 'sealtrail.tamper': "
	"True,\n"
	"   'file.path': '/var/lib/sealtrail/trail/00000000000000000000.jsonl.gz'})\n"
	"ev('evil-tmpfoo', 16, 'open', evil, fields={'file.path': '/tmpfoo/x',\n"
	"   'file.open_flags': ['O_WRONLY']})\n"
	"agent('lost', 17, 'events-lost', {'sealtrail.lost': {'ringbuf_full': {'exec': 2, 'open': "
	"40},\n"
	"   'too_large': {'exec': 1}}, 'sealtrail.since': at(16), 'sealtrail.until': at(17)})\n"
	"reuse = fork(cron, 100, 9000000, 'reuse-fork', 1800)\n"
	"execve(reuse, 'reuse-exec', 1801, '/usr/bin/sleep', ['sleep', '60'])\n"
	"exit_(reuse, 'reuse-exit', 1861, 0)\n"
	"ev('no-time', None, 'open', cron, fields={'file.path': '/var/spool/cron/x',\n"
	"   'file.open_flags': ['O_WRONLY']})\n";

#define ALL_TAGS                                                                                   \
	"start bash-exec sh-fork sh-exec py-fork id-fork py-exec id-exec py-open py-shadow " \
	"py-exit " \
	"id-exit sh-exit root-rename root-chmod root-unlink root-passwdx evil-fork evil-exec " \
	""       \
	"evil-symlink evil-tamper evil-tmpfoo lost reuse-fork reuse-exec reuse-exit no-time"
#define BEFORE_0230_TAGS                                                                           \
	"start bash-exec sh-fork sh-exec py-fork id-fork py-exec id-exec py-open py-shadow " \
	"py-exit " \
	"id-exit sh-exit root-rename root-chmod root-unlink root-passwdx evil-fork evil-exec " \
	""       \
	"evil-symlink evil-tamper evil-tmpfoo lost"

/* The story in small segments (so with epoch seals between events), and the
 * same story in one plain segment, to tamper with. */
static struct rf_trail S, P;
static char *story;

static int group_setup(void **state)
{
	(void)state;
	story = rf_events(story_py);
	rf_trail_init(&S, "replay");
	rf_trail_append(&S, story, 4096);
	rf_trail_init(&P, "replay-plain");
	rf_trail_append(&P, story, 0);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	rf_trail_free(&S);
	rf_trail_free(&P);
	free(story);
	return 0;
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void expect_tags(const char *const *args, const char *want)
{
	char *got = rf_replay_tags(S.trail, args, 0);

	if (strcmp(got, want)) {
		char what[512] = "";
		size_t i;

		for (i = 0; args[i]; i++) {
			strncat(what, args[i], sizeof(what) - strlen(what) - 2);
			strncat(what, " ", sizeof(what) - strlen(what) - 1);
		}
		fail_msg("replay %s\n  got:  %s\n  want: %s", what, got, want);
	}
	free(got);
}

/* ---- the process tree ------------------------------------------------------------ */
static char *tree_shape(const char *trail, const char *const *args, int status)
{
	const char *all[16] = { "--json" };
	struct tl_proc p;
	char *shape;
	size_t i;

	for (i = 0; args[i]; i++)
		all[i + 1] = args[i];
	all[i + 1] = NULL;
	if (rf_run(&p, trail, "replay", all) != status)
		fail_msg("replay --tree exited %d: %s", p.status, p.err);
	shape = rf_tree_shape(p.out, p.out_len);
	tl_proc_free(&p);
	return shape;
}

static void test_tree_is_exactly_the_known_tree_across_pid_reuse(void **state)
{
	char *shape = tree_shape(S.trail, ARGS("--tree", "100"), 0);

	(void)state;
	assert_string_equal(shape,
			    "root 0\n"
			    "pid 100 bash exec=/usr/bin/bash[-bash] exit=- files=\n"
			    "  pid 101 sh exec=/bin/sh[sh -c python3 /tmp/w.py] exit=0 files=\n"
			    "    pid 102 python3 exec=/usr/bin/python3[python3 /tmp/w.py] exit=0 "
			    "files=open:/tmp/out.txt\n"
			    "root 1\n"
			    "pid 100 sleep exec=/usr/bin/sleep[sleep 60] exit=0 files=\n");
	free(shape);
}

static void test_tree_text_indents_children_and_names_reuse(void **state)
{
	struct tl_proc p;

	(void)state;
	assert_int_equal(rf_run(&p, S.trail, "replay", ARGS("--tree", "100")), 0);
	assert_non_null(strstr(p.out, "2 different processes had this pid (pid reuse)"));
	assert_non_null(strstr(p.out, "\npid 100 bash uid=1000  entity 0123456789abcdef-1000-100"));
	assert_non_null(strstr(p.out, "\n    pid 101 sh uid=1000  entity 0123456789abcdef-2000-101"
				      "  forked 2024-03-10T02:00:01.000000Z  #"));
	assert_non_null(strstr(p.out, "\n        pid 102 python3 uid=1000  entity "));
	assert_non_null(strstr(p.out, "\n            exec  2024-03-10T02:00:04.000000Z  "
				      "/usr/bin/python3 argv: python3 /tmp/w.py  #"));
	assert_non_null(strstr(p.out, "\n            open  2024-03-10T02:00:05.000000Z  "
				      "/tmp/out.txt  #"));
	assert_non_null(strstr(p.out, "\n            exit  2024-03-10T02:00:06.000000Z  code 0"));
	assert_non_null(strstr(p.out, "\n    no exit recorded"));	/* the login shell */
	assert_non_null(strstr(p.out, "\npid 100 sleep uid=0  entity 0123456789abcdef-9000000-100"
				      "  forked 2024-03-10T02:30:00.000000Z"));
	/* Nothing unrelated: not id, not the other session, not the refused read. */
	assert_null(strstr(p.out, "pid 201"));
	assert_null(strstr(p.out, "pid 401"));
	assert_null(strstr(p.out, "/etc/shadow"));
	tl_proc_free(&p);
}

static void test_tree_of_a_child_and_of_a_parent_known_only_as_parent(void **state)
{
	char *shape;

	(void)state;
	shape = tree_shape(S.trail, ARGS("--tree", "101"), 0);
	assert_string_equal(shape,
			    "root 0\n"
			    "pid 101 sh exec=/bin/sh[sh -c python3 /tmp/w.py] exit=0 files=\n"
			    "  pid 102 python3 exec=/usr/bin/python3[python3 /tmp/w.py] exit=0 "
			    "files=open:/tmp/out.txt\n");
	free(shape);
	/* cron has one event of its own (the last), its children many. */
	shape = tree_shape(S.trail, ARGS("--tree", "200"), 0);
	assert_string_equal(shape,
			    "root 0\n"
			    "pid 200 cron  exit=- files=open:/var/spool/cron/x\n"
			    "  pid 201 id exec=/usr/bin/id[id -u] exit=0 files=\n"
			    "  pid 100 sleep exec=/usr/bin/sleep[sleep 60] exit=0 files=\n");
	free(shape);
	shape = tree_shape(S.trail, ARGS("--tree", "4242"), 0);
	assert_string_equal(shape, "");
	free(shape);
}

static void test_tree_time_window_picks_the_process_of_that_time(void **state)
{
	char *shape;

	(void)state;
	shape = tree_shape(S.trail, ARGS("--tree", "100", "--since", "2024-03-10T02:30"), 0);
	assert_string_equal(shape, "root 0\n"
				   "pid 100 sleep exec=/usr/bin/sleep[sleep 60] exit=0 files=\n");
	free(shape);
	shape = tree_shape(S.trail, ARGS("--tree", "100", "--until", "2024-03-10T02:30"), 0);
	assert_non_null(strstr(shape, "pid 100 bash"));
	assert_null(strstr(shape, "sleep"));
	free(shape);
}

static void test_tree_counts_repeats_and_caps_files_per_process(void **state)
{
	struct rf_trail t;
	char *events, *shape;
	struct tl_proc p;

	(void)state;
	rf_trail_init(&t, "caps");
	/* A logger rewriting one file, then touching 20 others; a name longer
	 * than the kernel keeps (15 bytes). */
	events = rf_events(
		"d = proc(50, 50, 'averyveryverylo', '/usr/sbin/daemon', None)\n"
		"w = fork(d, 51, 51, 'fork', 1)\n"
		"for i in range(3):\n"
		"    ev('log%d' % i, 2 + i, 'open', w, fields={'file.path': '/var/log/x',\n"
		"       'file.open_flags': ['O_WRONLY', 'O_APPEND']})\n"
		"for i in range(20):\n"
		"    ev('f%d' % i, 10 + i, 'unlink', w, fields={'file.path': '/tmp/f%02d' % i})\n"
		"ev('rd', 40, 'open', w, fields={'file.path': '/etc/hosts', 'file.open_flags': "
		"['O_RDONLY']})\n"
		"ev('kill', 41, 'exit', w, fields={'sealtrail.exit.signal': 'SIGKILL',\n"
		"   'sealtrail.exit.core_dumped': True})\n");
	rf_trail_append(&t, events, 0);
	assert_int_equal(rf_run(&p, t.trail, "replay", ARGS("--tree", "50", "--color=never")), 0);
	assert_non_null(strstr(p.out, "\n        open  2024-03-10T02:00:02.000000Z  /var/log/x "
				      "(3 times)  #"));
	assert_non_null(strstr(p.out, "\n        unlink  2024-03-10T02:00:24.000000Z  /tmp/f14  "
				      "#"));
	assert_null(strstr(p.out, "/tmp/f15"));
	assert_non_null(strstr(p.out, "\n        ... and 5 more files changed\n"));
	assert_non_null(strstr(p.out, "\n        exit  2024-03-10T02:00:41.000000Z  signal SIGKILL "
				      "(core dumped)  #"));
	assert_null(strstr(p.out, "/etc/hosts"));	/* a read changes nothing */
	tl_proc_free(&p);
	shape = tree_shape(t.trail, ARGS("--tree", "51"), 0);
	assert_non_null(strstr(shape, "files=open:/var/log/x,unlink:/tmp/f00,"));
	free(shape);
	/* --comm compares as the kernel keeps names: the first 15 bytes. */
	free(events);
	events = rf_replay_tags(t.trail,
				ARGS("--comm", "averyveryverylongname", "--type", "fork,exit"), 0);
	assert_string_equal(events, "fork kill");
	free(events);
	events = rf_replay_tags(t.trail, ARGS("--comm", "averyveryverylx"), 0);
	assert_string_equal(events, "");
	free(events);
	rf_trail_free(&t);
}

/* Parent links that loop (only a forged trail has them) must not hide the processes
 * on the loop: each of them has another candidate "above" it. */
static void test_tree_of_a_parent_loop_shows_it(void **state)
{
	struct rf_trail t;
	char *events, *shape;

	(void)state;
	rf_trail_init(&t, "loop");
	events = rf_events("a = proc(5, 1, 'a', '/bin/a', None)\n"
			   "b = proc(5, 2, 'b', '/bin/b', a)\n"
			   "a['parent'] = b\n"
			   "ev('x', 1, 'unlink', a, fields={'file.path': '/tmp/x'})\n"
			   "ev('y', 2, 'unlink', b, fields={'file.path': '/tmp/y'})\n");
	rf_trail_append(&t, events, 0);
	shape = tree_shape(t.trail, ARGS("--tree", "5"), 0);
	assert_non_null(strstr(shape, "pid 5 a "));
	assert_non_null(strstr(shape, "pid 5 b "));
	free(shape);
	free(events);
	rf_trail_free(&t);
}

static void test_timeline_lines(void **state)
{
	struct tl_proc p;

	(void)state;
	assert_int_equal(rf_run(&p, S.trail, "replay", ARGS("--color=never")), 0);
	/* #SEQ TIME PROCESS ACTION OBJECT RESULT [FLAGS]; a fork's actor is the parent. */
	assert_non_null(strstr(p.out, " 2024-03-10T02:00:03.000000Z  sh[101] uid=1000          "
				      "fork     child 102  ok\n"));
	assert_non_null(strstr(p.out, " 2024-03-10T02:00:04.000000Z  python3[102] uid=1000     "
				      "exec     /usr/bin/python3 argv: python3 /tmp/w.py  ok\n"));
	assert_non_null(strstr(p.out, " 2024-03-10T02:00:05.500000Z  python3[102] uid=1000     "
				      "open     /etc/shadow (O_RDONLY)  failed EACCES  "
				      "[sensitive]\n"));
	assert_non_null(strstr(p.out, " 2024-03-10T02:00:08.000000Z  vipw[300] uid=0           "
				      "rename   /etc/passwd.new -> /etc/passwd  ok\n"));
	assert_non_null(strstr(p.out, "unlink   /var/lib/sealtrail/trail/"
				      "00000000000000000000.jsonl.gz"
				      "  ok  TAMPER\n"));
	assert_non_null(strstr(p.out, " 2024-03-10T02:00:17.000000Z  sealtrail                 "
				      "events-lost 43 events lost {ringbuf_full={exec=2 open=40} "
				      "too_large={exec=1}} since 2024-03-10T02:00:16.000000Z until "
				      "2024-03-10T02:00:17.000000Z\n"));
	assert_non_null(strstr(p.out, "\n# 27 of "));
	tl_proc_free(&p);
}

/* ---- filters --------------------------------------------------------------------- */
static void test_no_filter_shows_every_event_but_epoch_seals(void **state)
{
	char *seals;

	(void)state;
	expect_tags(ARGS("--color=never"), ALL_TAGS);
	/* The small segments made seals; --type asks for them. */
	seals = rf_replay_tags(S.trail, ARGS("--type", "epoch-seal"), 0);
	assert_true(strlen(seals) >= 4);
	assert_null(strstr(seals, "-"));
	free(seals);
}

static void test_process_filters(void **state)
{
	(void)state;
	/* A fork is the child's event: --pid 102 includes the fork that made it. */
	expect_tags(ARGS("--pid", "102"), "py-fork py-exec py-open py-shadow py-exit");
	/* pid 100 was two processes. */
	expect_tags(ARGS("--pid", "100"), "bash-exec reuse-fork reuse-exec reuse-exit");
	expect_tags(ARGS("--ppid", "100"), "sh-fork sh-exec sh-exit");
	expect_tags(ARGS("--ppid", "200"),
		    "id-fork id-exec id-exit reuse-fork reuse-exec reuse-exit");
	expect_tags(ARGS("--entity", "0123456789abcdef-9000000-100"),
		    "reuse-fork reuse-exec reuse-exit");
	expect_tags(ARGS("--exe", "/usr/bin/python3"), "py-exec py-open py-shadow py-exit");
	expect_tags(ARGS("--comm", "python3"), "py-exec py-open py-shadow py-exit");
	expect_tags(ARGS("--comm", "vipw"), "root-rename root-chmod root-unlink root-passwdx");
}

static void test_user_filters(void **state)
{
	(void)state;
	expect_tags(ARGS("--uid", "1000"), "bash-exec sh-fork sh-exec py-fork py-exec py-open "
					   "py-shadow py-exit sh-exit");
	expect_tags(ARGS("--uid", "0"), "id-fork id-exec id-exit root-rename root-chmod "
					"root-unlink "
					"root-passwdx reuse-fork reuse-exec reuse-exit no-time");
	/* What the user who logged in as 1000 did, also as root. */
	expect_tags(ARGS("--auid", "1000"), "bash-exec sh-fork sh-exec py-fork py-exec py-open "
					    "py-shadow py-exit sh-exit root-rename root-chmod "
					    "root-unlink root-passwdx");
	expect_tags(ARGS("--session", "8"),
		    "evil-fork evil-exec evil-symlink evil-tamper evil-tmpfoo");
	expect_tags(ARGS("--session", "9"), "");
}

static void test_type_path_outcome_filters(void **state)
{
	(void)state;
	expect_tags(ARGS("--type", "exec,unlink"), "bash-exec sh-exec py-exec id-exec root-unlink "
						   "evil-exec evil-tamper reuse-exec");
	expect_tags(ARGS("--type", "exec", "--type", "unlink"),
		    "bash-exec sh-exec py-exec id-exec root-unlink evil-exec evil-tamper "
		    "reuse-exec");
	/* The file itself, not /etc/passwd- or /etc/passwdX; a rename counts by
	 * both names. */
	expect_tags(ARGS("--path", "/etc/passwd"), "root-rename root-chmod");
	expect_tags(ARGS("--path", "/etc/passwd.new"), "root-rename");
	/* Below a directory (trailing slash or not): not /tmpfoo; an exec of a
	 * file there, a link pointing there. */
	expect_tags(ARGS("--path", "/tmp/"), "py-open evil-exec evil-symlink");
	expect_tags(ARGS("--path", "/tmp"), "py-open evil-exec evil-symlink");
	expect_tags(ARGS("--path", "/etc"),
		    "py-shadow root-rename root-chmod root-unlink root-passwdx");
	expect_tags(ARGS("--type", "exec", "--path", "/tmp"), "evil-exec");
	expect_tags(ARGS("--failed"), "py-shadow root-unlink");
	expect_tags(ARGS("--tamper"), "evil-tamper");
	expect_tags(ARGS("--uid", "1000", "--type", "open"), "py-open py-shadow");
	expect_tags(ARGS("--auid", "1000", "--failed"), "py-shadow root-unlink");
	expect_tags(ARGS("--pid", "100", "--uid", "1000"), "bash-exec");
}

/* ---- time ------------------------------------------------------------------------- */
static void test_time_window_since_inclusive_until_exclusive(void **state)
{
	(void)state;
	expect_tags(ARGS("--since", "2024-03-10T02:00:03", "--until", "2024-03-10 02:00:06"),
		    "py-fork id-fork py-exec id-exec py-open py-shadow");
	expect_tags(ARGS("--since", "2024-03-10T02:00:05.5Z",
			 "--until", "2024-03-10T02:00:06.000001"),
		    "py-shadow py-exit id-exit");
	expect_tags(ARGS("--since", "2024-03-10T02:00:05.500001", "--until", "2024-03-10T02:00:07"),
		    "py-exit id-exit");
	expect_tags(ARGS("--until", "2024-03-10T02:30"), BEFORE_0230_TAGS);
	expect_tags(ARGS("--since", "2024-03-10T02:30"),
		    "reuse-fork reuse-exec reuse-exit no-time");
	expect_tags(ARGS("--since", "2024-03-10"), ALL_TAGS);
	expect_tags(ARGS("--until", "2024-03-10"), "");
	/* Relative times count back from now; an event without @timestamp is
	 * placed at its entry's time (when it was written: just now). */
	expect_tags(ARGS("--since", "-1h"), "no-time");
	expect_tags(ARGS("--until", "-1h"), BEFORE_0230_TAGS " reuse-fork reuse-exec reuse-exit");
	expect_tags(ARGS("--since", "-1d", "--until", "now"), "no-time");
}

/* ---- verification and its limits ---------------------------------------------------- */

/* A copy of the plain trail with one byte of the py-exit entry changed. */
static char *tampered_copy(struct rf_trail *copy_of, char *trail, size_t size)
{
	char *dir = tl_tmpdir("tampered"), *out;
	const char *cp[] = { "/bin/cp", "-r", copy_of->trail, NULL, NULL };
	struct tl_proc p;

	snprintf(trail, size, "%s/t", dir);
	cp[3] = trail;
	assert_int_equal(tl_run(&p, NULL, 0, cp), 0);
	tl_proc_free(&p);
	out = tl_python("import os, sys\n"
			"d = sys.stdin.read()\n"
			"[seg] = [f for f in os.listdir(d) if f.endswith('.jsonl')]\n"
			"p = os.path.join(d, seg)\n"
			"data = open(p, 'rb').read()\n"
			"assert data.count(b'\"py-exit\"') == 1\n"
			"open(p, 'wb').write(data.replace(b'\"py-exit\"', b'\"py-exiT\"'))\n"
			"print('ok')\n",
			trail, strlen(trail), NULL);
	assert_string_equal(out, "ok\n");
	free(out);
	return dir;
}

static void test_tampered_trail_replays_up_to_the_damage_failure_first(void **state)
{
	char trail[4200], *dir = tampered_copy(&P, trail, sizeof(trail)), *tags, *shape;
	const char *want = "start bash-exec sh-fork sh-exec py-fork id-fork py-exec id-exec "
			   "py-open py-shadow";
	struct tl_proc p;
	char *nl;

	(void)state;
	/* Text: the failure is the very first line, then the events before it. */
	assert_int_equal(rf_run(&p, trail, "replay", ARGS("--color=never")), 1);
	nl = strchr(p.out, '\n');
	assert_non_null(nl);
	*nl = '\0';
	assert_true(strncmp(p.out, "# BROKEN: ", 10) == 0);
	assert_non_null(strstr(p.out, "/00000000000000000000.jsonl:11: sequence 10: hash does not "
				      "match the entry's content (entry modified)"));
	*nl = '\n';
	assert_non_null(strstr(p.out, "only the 10 entries before that place verified"));
	assert_true(strstr(p.out, "# BROKEN") < strstr(p.out, "\n#0 "));
	assert_non_null(strstr(p.out, "\n#9 "));
	assert_null(strstr(p.out, "\n#10 "));
	assert_non_null(strstr(p.err, "BROKEN"));
	tl_proc_free(&p);

	/* JSON: the verification line first, then exactly the entries before. */
	tags = rf_replay_tags(trail, ARGS("--key", P.verify_key), 1);
	assert_string_equal(tags, want);
	free(tags);
	assert_int_equal(rf_run(&p, trail, "replay", ARGS("--json")), 1);
	assert_ptr_equal(strstr(p.out, "{\"verification\": {\"entries\": 10, \"failure\": "
				       "{\"file\": \"00000000000000000000.jsonl\", \"line\": 11, "),
			 p.out);
	assert_non_null(strstr(p.out, "\"sequence\": 10}"));
	assert_non_null(strstr(p.out, "\"status\": \"broken\""));
	tl_proc_free(&p);

	/* The tree shows what is known: python3's exit is past the damage. */
	shape = tree_shape(trail, ARGS("--tree", "102"), 1);
	assert_string_equal(shape, "root 0\n"
				   "pid 102 python3 exec=/usr/bin/python3[python3 /tmp/w.py] "
				   "exit=- "
				   "files=open:/tmp/out.txt\n");
	free(shape);
	/* And the summary counts only what verified. */
	assert_int_equal(rf_run(&p, trail, "stats", ARGS("--json")), 1);
	assert_non_null(strstr(p.out, "\"events\": 10,"));
	tl_proc_free(&p);
	tl_rmtree(dir);
	free(dir);
}

static void test_says_when_signatures_were_not_checked(void **state)
{
	struct rf_trail other;
	struct tl_proc p;
	char *tags;

	(void)state;
	assert_int_equal(rf_run(&p, P.trail, "replay", ARGS("--type", "exit")), 0);
	assert_non_null(strstr(p.out, "# OK: "));
	assert_non_null(strstr(p.out, "\n# signatures NOT checked (no --key)"));
	tl_proc_free(&p);
	assert_int_equal(rf_run(&p, P.trail, "replay", ARGS("--json", "--type", "exit")), 0);
	assert_non_null(strstr(p.out, "\"signatures_checked\": false"));
	tl_proc_free(&p);
	assert_int_equal(rf_run(&p, P.trail, "replay",
				ARGS("--key", P.verify_key, "--type", "exit")), 0);
	assert_non_null(strstr(p.out, "\n# signatures checked with the verify key\n"));
	assert_null(strstr(p.out, "NOT checked"));
	tl_proc_free(&p);
	/* Another trail's key: nothing verifies, nothing is shown. */
	rf_trail_init(&other, "otherkey");
	tags = rf_replay_tags(P.trail, ARGS("--key", other.verify_key), 1);
	assert_string_equal(tags, "");
	free(tags);
	assert_int_equal(rf_run(&p, P.trail, "replay", ARGS("--key", other.verify_key)), 1);
	assert_non_null(strstr(p.out, "signature does not verify"));
	assert_non_null(strstr(p.out, "no entry before that place verified"));
	tl_proc_free(&p);
	rf_trail_free(&other);
}

static void test_header_states_losses_and_tampering(void **state)
{
	struct tl_proc p;

	(void)state;
	/* Even when the filter shows none of them. */
	assert_int_equal(rf_run(&p, S.trail, "replay", ARGS("--pid", "102")), 0);
	assert_non_null(strstr(p.out, "# losses recorded in the verified entries: 43 events lost "
				      "(1 events-lost entry), 0 entries not written (0 gaps)"));
	assert_non_null(strstr(p.out, "# tampering alerts in the verified entries: 1"));
	assert_non_null(strstr(p.out, "# 5 of "));
	tl_proc_free(&p);
	assert_int_equal(rf_run(&p, S.trail, "replay", ARGS("--json", "--pid", "102")), 0);
	assert_non_null(strstr(p.out, "\"losses\": {\"events_degraded\": 0, \"events_lost\": 43, "
				      "\"loss_records\": 1}"));
	assert_non_null(strstr(p.out, "\"tamper_alerts\": 1"));
	tl_proc_free(&p);
}

/* Each JSON line names its entry by sequence and hash: an anchor for verify. */
static void test_json_lines_lead_back_into_the_chain(void **state)
{
	struct tl_proc p;
	char anchor[128], *seq, *hash;
	const char *verify[] = { "--key", P.verify_key, "--anchor", anchor, NULL };

	(void)state;
	assert_int_equal(rf_run(&p, P.trail, "replay", ARGS("--json", "--type", "chmod")), 0);
	hash = strstr(p.out, "\n{\"entry\": {\"hash\": \"");
	assert_non_null(hash);
	hash += strlen("\n{\"entry\": {\"hash\": \"");
	seq = strstr(hash, "\"sequence\": ");
	assert_non_null(seq);
	snprintf(anchor, sizeof(anchor), "%lu:%.64s", strtoul(seq + 12, NULL, 10), hash);
	assert_non_null(strstr(p.out, "\"event\": {\"@timestamp\": "
				      "\"2024-03-10T02:00:09.000000Z\", "
				      "\"event\": {\"action\": \"chmod\""));
	tl_proc_free(&p);
	assert_int_equal(rf_run(&p, P.trail, "verify", verify), 0);
	tl_proc_free(&p);
	/* Another hash (still 64 hex digits): the anchor must now fail. */
	anchor[strlen(anchor) - 1] = anchor[strlen(anchor) - 1] == '0' ? '1' : '0';
	assert_int_equal(rf_run(&p, P.trail, "verify", verify), 1);
	tl_proc_free(&p);
}

/* ---- text output ----------------------------------------------------------------------- */
static void test_text_escapes_paths_and_argv(void **state)
{
	static const char hostile_path[] = "/tmp/a\nb\tc\033d\xff \xe2\x80\xae\xc3\xa9\\";
	struct rf_trail t;
	struct tl_proc p;
	char *events;
	size_t lines;

	(void)state;
	rf_trail_init(&t, "escapes");
	events = rf_events(
		"p = proc(7, 70, 'a\\tb', '/bin/x', None, uid=5)\n"
		"ev('hostile', 1, 'open', p, fields={'file.path':\n"
		"   '/tmp/a\\nb\\tc\\x1bd\\udcff \\u202e\\u00e9\\\\', 'file.open_flags': "
		"['O_WRONLY']})\n"
		"execve(p, 'argv', 2, '/bin/printf', ['printf', 'a b', '', 'q\"', '\\x07'])\n");
	rf_trail_append(&t, events, 0);
	assert_int_equal(rf_run(&p, t.trail, "replay", ARGS("--color=never")), 0);
	assert_non_null(strstr(p.out, "  a\\tb[7] uid=5 "));
	assert_non_null(strstr(p.out, "open     \"/tmp/a\\nb\\tc\\x1bd\\xff \\u202e\xc3\xa9\\\\\" "
				      "(O_WRONLY)  ok\n"));
	assert_non_null(strstr(p.out, "exec     /bin/printf argv: printf \"a b\" \"\" \"q\\\"\" "
				      "\\x07  ok\n"));
	/* Nothing the terminal would act on, and one line per event. */
	assert_null(strchr(p.out, '\033'));
	assert_null(strchr(p.out, '\a'));
	lines = tl_count_lines(p.out, p.out_len);
	assert_int_equal(lines, 3 + 2 + 1);	/* header, events, footer */
	tl_proc_free(&p);
	/* Colour only when asked (here stdout is a pipe), never in JSON. */
	assert_int_equal(rf_run(&p, t.trail, "replay", ARGS("--color=always")), 0);
	assert_non_null(strstr(p.out, "\033[1mopen"));
	tl_proc_free(&p);
	assert_int_equal(rf_run(&p, t.trail, "replay", ARGS("--color=always", "--json")), 0);
	assert_null(strchr(p.out, '\033'));
	tl_proc_free(&p);
	/* A file name's invalid bytes can be asked for exactly: as bytes. */
	free(events);
	events = rf_replay_tags(t.trail, ARGS("--path", hostile_path), 0);
	assert_string_equal(events, "hostile");
	free(events);
	events = rf_replay_tags(t.trail, ARGS("--path", "/tmp/a\nb\tc\033d\xfe"), 0);
	assert_string_equal(events, "");
	free(events);
	rf_trail_free(&t);
}

/* ---- stats ------------------------------------------------------------------------------ */
static void test_stats_counts(void **state)
{
	struct tl_proc p, q;
	char *py;

	(void)state;
	assert_int_equal(rf_run(&p, S.trail, "stats", ARGS("--json", "--key", S.verify_key)), 0);
	py = tl_python("import sys, json\n"
		       "o = json.loads(sys.stdin.read())\n"
		       "s, v = o['stats'], o['verification']\n"
		       "assert v['status'] == 'ok' and v['signatures_checked'], v\n"
		       "assert s['events'] == 27, s['events']\n"
		       "assert s['entries'] == v['entries'] > 27, (s['entries'], v)\n"
		       "assert s['actions'] == {'agent-start': 1, 'chmod': 1, 'events-lost': 1,\n"
		       "    'exec': 6, 'exit': 4, 'fork': 5, 'open': 5, 'rename': 1, 'symlink': "
		       "1,\n"
		       "    'unlink': 2}, s['actions']\n"
		       "assert s['outcomes'] == {'failure': 2, 'success': 23}, s['outcomes']\n"
		       "assert sorted(e['executable'] for e in s['executables']) == ['/bin/sh',\n"
		       "    '/tmp/.x/evil', '/usr/bin/bash', '/usr/bin/id', '/usr/bin/python3',\n"
		       "    '/usr/bin/sleep'], s['executables']\n"
		       "assert s['users'] == [{'count': 11, 'uid': 0}, {'count': 9, 'uid': 1000},\n"
		       "    {'count': 5, 'uid': 1001}], s['users']\n"
		       "assert s['losses'] == {'by_cause': {'ringbuf_full': 42, 'too_large': 1},\n"
		       "    'events_degraded': 0, 'events_lost': 43, 'gap_entries': 0, 'gaps': 0,\n"
		       "    'loss_records': 1}, s['losses']\n"
		       "assert s['tamper_alerts'] == 1\n"
		       "assert s['time']['first'] == '2024-03-10T02:00:00.000000Z', s['time']\n"
		       "print('ok')\n",
		       p.out, p.out_len, NULL);
	assert_string_equal(py, "ok\n");
	free(py);
	tl_proc_free(&p);

	/* Filters narrow the counts, never the losses. */
	assert_int_equal(rf_run(&p, S.trail, "stats",
				ARGS("--json", "--uid", "1000", "--top", "1")), 0);
	py = tl_python("import sys, json\n"
		       "s = json.loads(sys.stdin.read())['stats']\n"
		       "assert s['events'] == 9 and s['actions'] == {'exec': 3, 'exit': 2, 'fork': "
		       "2,\n"
		       "    'open': 2}, s\n"
		       "assert len(s['executables']) == 1 and s['users'] == [{'count': 9, 'uid': "
		       "1000}]\n"
		       "assert s['losses']['events_lost'] == 43 and s['tamper_alerts'] == 1\n"
		       "print('ok')\n",
		       p.out, p.out_len, NULL);
	assert_string_equal(py, "ok\n");
	free(py);
	tl_proc_free(&p);

	/* The text report, and replay --summary is the same command. */
	assert_int_equal(rf_run(&p, S.trail, "stats", ARGS("--color=never")), 0);
	assert_non_null(strstr(p.out, "\nevents: 27 (of "));
	assert_non_null(strstr(p.out, "\n         6  exec\n"));
	assert_non_null(strstr(p.out, "\n        11  uid 0\n"));
	assert_non_null(strstr(p.out, "\n        43  events lost, in 1 events-lost entry\n"));
	assert_non_null(strstr(p.out, "\n        42      lost to ringbuf_full\n"));
	assert_non_null(strstr(p.out, "\ntampering alerts (whole trail): 1\n"));
	assert_non_null(strstr(p.out, "\ntime span: 2024-03-10T02:00:00.000000Z .. "));
	assert_int_equal(rf_run(&q, S.trail, "replay", ARGS("--summary", "--color=never")), 0);
	assert_string_equal(p.out, q.out);
	tl_proc_free(&q);
	tl_proc_free(&p);
}

/* ---- usage ------------------------------------------------------------------------------- */
static void test_usage_errors_exit_2_with_one_line(void **state)
{
	static const char *const bad[][4] = {
		{ "--pid", "12x" },
		{ "--pid", "-1" },
		{ "--since", "yesterday" },
		{ "--since", "2024-02-30" },
		{ "--until", "-5y" },
		{ "--path", "relative/dir" },
		{ "--exe", "python3" },
		{ "--type", "exec,,open" },
		{ "--tree", "100", "--pid", "100" },
		{ "--tree", "100", "--summary" },
		{ "--pid", "1", "--pid", "2" },
		{ "--color=sometimes" },
		{ "--top", "0" },
		{ "--key", "/nonexistent/verify.key" },
	};
	struct tl_proc p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *args[5] = { bad[i][0], bad[i][1], bad[i][2], bad[i][3], NULL };

		if (rf_run(&p, S.trail, "replay", args) != 2)
			fail_msg("replay %s %s: exit %d, not 2", bad[i][0],
				 bad[i][1] ? bad[i][1] : "", p.status);
		assert_int_equal(tl_count_lines(p.err, strlen(p.err)), 1);
		assert_int_equal(p.out_len, 0);
		tl_proc_free(&p);
	}
	assert_int_equal(rf_run(&p, "/nonexistent/trail", "replay", ARGS("--json")), 2);
	assert_non_null(strstr(p.err, "cannot read /nonexistent/trail"));
	tl_proc_free(&p);
	assert_int_equal(rf_run(&p, NULL, "replay", ARGS("--json")), 2);
	tl_proc_free(&p);
	assert_int_equal(rf_run(&p, S.trail, "stats", ARGS("--tree", "1")), 2);
	tl_proc_free(&p);
	/* A misspelt action is allowed (the trail may hold newer ones) but flagged. */
	assert_int_equal(rf_run(&p, S.trail, "replay", ARGS("--type", "exce")), 0);
	assert_non_null(strstr(p.err, "--type exce is not an action"));
	tl_proc_free(&p);
}

/* ---- hostile content -------------------------------------------------------------------- */

/* Events that follow no schema: every field missing, mistyped or absurd,
 * parent links that loop. Replay must answer in every mode, never crash. */
static void test_hostile_events_never_crash(void **state)
{
	static const char *const modes[][4] = {
		{ "--color=always" }, { "--json" }, { "--summary" }, { "--summary", "--json" },
		{ "--tree", "1" }, { "--tree", "2", "--json" }, { "--tree", "3" },
		{ "--path", "/", "--failed" }, { "--pid", "1", "--type", "exec,open" },
		{ "--tamper" }, { "--since", "2024-03-10T02:00:03" },
	};
	struct rf_trail t;
	struct tl_proc p;
	char *events;
	size_t i;

	(void)state;
	events = tl_python(
		"import json, random\n"
		"random.seed(2024)\n"
		"keys = ['@timestamp', 'event.action', 'event.outcome', 'event.module', "
		"'event.type',\n"
		"  'process.pid', 'process.entity_id', 'process.parent.pid', "
		"'process.parent.entity_id',\n"
		"  'process.executable', 'process.name', 'process.args', 'process.exit_code', "
		"'user.id',\n"
		"  'user.audit.id', 'user.audit.session', 'file.path', 'file.original.path',\n"
		"  'file.target_path', 'file.open_flags', 'file.path_flags', 'error.code',\n"
		"  'syscall.result', 'sealtrail.flags', 'sealtrail.tamper', 'sealtrail.lost',\n"
		"  'sealtrail.degraded', 'credentials.old', 'credentials.new', "
		"'sealtrail.exit.signal',\n"
		"  'sealtrail.exit.core_dumped', 'process.args_truncated', 'target.process.pid']\n"
		"acts = ['exec', 'fork', 'exit', 'open', 'rename', 'link', 'chmod', 'setuid',\n"
		"  'events-lost', 'agent-start', 'trail-gap', 'mount', 'capset', 'x', '']\n"
		"def val(d=0):\n"
		"    c = random.randint(0, 11)\n"
		"    if c == 0: return None\n"
		"    if c == 1: return random.choice([True, False])\n"
		"    if c == 2: return random.choice([0, 1, -1, 2**64, -2**63 - 1, 10**40, 3])\n"
		"    if c == 3: return random.choice(acts)\n"
		"    if c == 4: return ''.join(random.choice(['a', '/', '\\n', '\\x1b', "
		"'\\udcff',\n"
		"        '\\ud800', '\\u202e', ' ', '\"', '\\\\', '\\x00', '\\u00e9', "
		"'\\U0001f600'])\n"
		"        for _ in range(random.randint(0, 10)))\n"
		"    if c == 5 and d < 3: return [val(d + 1) for _ in range(random.randint(0, "
		"4))]\n"
		"    if c == 6 and d < 3: return {random.choice(['a', 'exec', 'uid']): val(d + 1)\n"
		"        for _ in range(random.randint(0, 3))}\n"
		"    if c == 7: return random.choice(['2024-03-10T02:00:0%dZ' % random.randint(0, "
		"9),\n"
		"        '2024-13-99', '2024-03-10 02:00:00.1234567', ''])\n"
		"    if c == 8: return 'e%d' % random.randint(0, 6)\n"
		"    if c == 9: return random.randint(0, 4)\n"
		"    return random.choice(['success', 'failure', 'sealtrail'])\n"
		"for i in range(400):\n"
		"    o = {}\n"
		"    for k in random.sample(keys, random.randint(0, 16)):\n"
		"        cur, ps = o, k.split('.')\n"
		"        for x in ps[:-1]:\n"
		"            if not isinstance(cur.get(x, {}), dict): break\n"
		"            cur = cur.setdefault(x, {})\n"
		"        else: cur[ps[-1]] = val()\n"
		"    if isinstance(o.get('event'), dict) and o['event'].get('action') in \\\n"
		"            ('epoch-seal', 'trail-gap', 'trail-recover'):\n"
		"        o['event']['module'] = 'not-the-chain'\n"
		"    print(json.dumps(o))\n"
		"for i in range(200):\n"
		"    e, p = 'e%d' % random.randint(0, 6), 'e%d' % random.randint(0, 6)\n"
		"    print(json.dumps({'event': {'action': random.choice(acts[:7])},\n"
		"        'process': {'pid': random.randint(1, 3), 'entity_id': e,\n"
		"        'parent': {'pid': random.randint(1, 3), 'entity_id': p},\n"
		"        'args': ['x'] * random.randint(0, 100)},\n"
		"        'file': {'path': '/f%d' % i, 'open_flags': ['O_CREAT']}}))\n",
		NULL, 0, NULL);
	rf_trail_init(&t, "hostile");
	rf_trail_append(&t, events, 4096);
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		const char *args[5] = { modes[i][0], modes[i][1], modes[i][2], modes[i][3], NULL };

		if (rf_run(&p, t.trail, "replay", args) != 0)
			fail_msg("replay %s: exit %d: %s", modes[i][0], p.status, p.err);
		if (!strcmp(modes[i][0], "--json"))
			free(rf_json_tags(p.out, p.out_len));
		if (!strcmp(modes[i][0], "--tree") && modes[i][2]) {
			/* Looping parent links: each process still appears once. */
			char *py = tl_python("import sys, json\n"
					     "ids = [json.loads(l)['tree']['entity_id']\n"
					     "       for l in sys.stdin.read().splitlines()[1:]]\n"
					     "assert ids and len(ids) == len(set(ids)), ids\n"
					     "print('ok')\n",
					     p.out, p.out_len, NULL);

			assert_string_equal(py, "ok\n");
			free(py);
		}
		tl_proc_free(&p);
	}
	free(events);
	rf_trail_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tree_is_exactly_the_known_tree_across_pid_reuse),
		cmocka_unit_test(test_tree_text_indents_children_and_names_reuse),
		cmocka_unit_test(test_tree_of_a_child_and_of_a_parent_known_only_as_parent),
		cmocka_unit_test(test_tree_time_window_picks_the_process_of_that_time),
		cmocka_unit_test(test_tree_counts_repeats_and_caps_files_per_process),
		cmocka_unit_test(test_tree_of_a_parent_loop_shows_it),
		cmocka_unit_test(test_timeline_lines),
		cmocka_unit_test(test_no_filter_shows_every_event_but_epoch_seals),
		cmocka_unit_test(test_process_filters),
		cmocka_unit_test(test_user_filters),
		cmocka_unit_test(test_type_path_outcome_filters),
		cmocka_unit_test(test_time_window_since_inclusive_until_exclusive),
		cmocka_unit_test(test_tampered_trail_replays_up_to_the_damage_failure_first),
		cmocka_unit_test(test_says_when_signatures_were_not_checked),
		cmocka_unit_test(test_header_states_losses_and_tampering),
		cmocka_unit_test(test_json_lines_lead_back_into_the_chain),
		cmocka_unit_test(test_text_escapes_paths_and_argv),
		cmocka_unit_test(test_stats_counts),
		cmocka_unit_test(test_usage_errors_exit_2_with_one_line),
		cmocka_unit_test(test_hostile_events_never_crash),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
