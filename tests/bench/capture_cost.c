/* capture_cost: what the capture costs the machine, measured through agent/capture.h only,
 * so that the same program measures any version of the BPF side:
 *   - capture_open() and capture_close() times (load + attach, detach + free);
 *   - the verifier's work: verified_insns of every program the open created;
 *   - per-call cost of getppid (untraced), a read-only open+close and a write open+close,
 *     without and with the capture (its records consumed by this process meanwhile);
 *   - the agent's decoding (agent/decode.c: record to the event's canonical JSON) of 2000
 *     real write-open records, in ns per record: the formatting half of the agent's
 *     main thread, without the chain's hashing and writing (bench_chain has those).
 *
 * It needs libbpf, so it is not one of the bench_* programs that `make bench` builds with
 * the chain library alone. Build it by hand after `make`, as root:
 *
 *   cc -std=gnu11 -O2 -D_GNU_SOURCE -Iinclude -Iagent -Ibuild -Itools/chain \
 *      -o build/bench/capture_cost tests/bench/capture_cost.c \
 *      $(find build/obj/agent -name '*.o' ! -name main.o) build/libchain.a \
 *      -lbpf -lelf -lz -lcjson -lcrypto -lpthread
 *
 * usage: capture_cost [-n ROUNDS] [-d DIR] [-p] [-e] [-r BYTES] [-w BYTES]
 *                     [open | syscalls | verifier | decode]... (default: all)
 * -p: read kernel objects through the probe-read helper, as on kernels before 6.2
 * (capture_opts.probe_reads_only). -e: enters through the sys_enter dispatcher, as on
 * kernels without syscall tracepoints (capture_opts.enter_dispatch). -r: the ring
 * buffer's size (a power of two; default the agent's, 16 MiB). -w: wake the consumer each
 * time this much more is written (capture_opts.wakeup_bytes). Each compares one way of
 * running the same programs with another on this machine.
 * DIR (default /var/tmp) holds the file the write opens create. Numbers are medians of
 * ROUNDS (default 5) runs; per-call costs are for one call in a tight loop in a child
 * process (not the agent pid, so its calls are traced like anyone's). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include "capture.h"
#include "cgroups.h"
#include "decode.h"
#include "proctable.h"

#define ROUNDS_MAX 32

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static uint64_t records;

static int count_record(void *ctx, const struct st_record *rec, size_t size)
{
	(void)ctx;
	(void)rec;
	(void)size;
	records++;
	return 0;
}

/* What the flags choose; each measurement adds its own callback. */
static struct capture_opts flag_opts;

static int open_capture(struct capture **c)
{
	struct capture_opts o = flag_opts;
	int err;

	o.on_record = count_record;
	err = capture_open(c, &o);

	if (err)
		fprintf(stderr, "capture_open: %s\n", strerror(-err));
	return err;
}

/* ---- decode ------------------------------------------------------------------------ */

#define DECODE_RECORDS 2000
#define DECODE_PASSES 50

struct kept {
	unsigned char *rec[DECODE_RECORDS];
	size_t size[DECODE_RECORDS];
	size_t n;
};

static int keep_open_record(void *ctx, const struct st_record *rec, size_t size)
{
	struct kept *k = ctx;

	if (k->n == DECODE_RECORDS || rec->type != ST_OPEN)
		return 0;
	k->rec[k->n] = malloc(size);
	if (!k->rec[k->n])
		return -1;
	memcpy(k->rec[k->n], rec, size);
	k->size[k->n++] = size;
	return 0;
}

/* Captures DECODE_RECORDS write opens of a child, then times decoder_event() over them,
 * DECODE_PASSES times per round. */
static int measure_decode(int rounds, const char *dir)
{
	struct decoder_opts dopts = { .nprotect = 0 };
	struct capture_opts o = flag_opts;
	double ns[ROUNDS_MAX], t;
	struct proctable *pt = NULL;
	struct cgroups *cg = NULL;
	struct decoder *d = NULL;
	struct buf out = { 0 };
	struct kept k = { .n = 0 };
	char path[4096];
	struct capture *c;
	size_t i, bytes = 0;
	int r, p, err = 1;
	pid_t pid;

	o.on_record = keep_open_record;
	o.ctx = &k;
	if (capture_open(&c, &o))
		return 1;
	snprintf(path, sizeof(path), "%s/capture_cost.decode.%d", dir, (int)getpid());
	pid = fork();
	if (pid == 0) {
		for (i = 0; i < DECODE_RECORDS + 100; i++) {
			int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

			if (fd < 0)
				_exit(3);
			close(fd);
		}
		_exit(0);
	}
	for (t = now_ns(); k.n < DECODE_RECORDS && now_ns() - t < 10e9;)
		capture_poll(c, 100);
	waitpid(pid, NULL, 0);
	capture_close(c);
	unlink(path);
	memset(dopts.boot_id, '0', 32);
	if (k.n < DECODE_RECORDS || proctable_new(&pt) || cgroups_new(&cg, "/sys/fs/cgroup") ||
	    decoder_new(&d, &dopts, pt, cg))
		goto out;
	for (r = 0; r < rounds; r++) {
		t = now_ns();
		for (p = 0; p < DECODE_PASSES; p++)
			for (i = 0; i < k.n; i++) {
				buf_reset(&out);
				if (!decoder_event(d, (const struct st_record *)k.rec[i], k.size[i],
						   &out))
					goto out;
				bytes += out.len;
			}
		ns[r] = (now_ns() - t) / (DECODE_PASSES * (double)k.n);
	}
	printf("decode: %.0f ns per write-open record (median of %d rounds of %d x %zu), "
	       "%.0f bytes of event JSON each\n", median(ns, rounds), rounds, DECODE_PASSES, k.n,
	       (double)bytes / (rounds * DECODE_PASSES * (double)k.n));
	err = 0;
out:
	if (err)
		fprintf(stderr, "capture_cost: decode: %zu records captured, or decoding failed\n",
			k.n);
	for (i = 0; i < k.n; i++)
		free(k.rec[i]);
	buf_free(&out);
	decoder_free(d);
	cgroups_free(cg);
	proctable_free(pt);
	return err;
}

/* ---- open / close ------------------------------------------------------------------ */

static int measure_open_close(int rounds)
{
	double open_ms[ROUNDS_MAX], close_ms[ROUNDS_MAX], t;
	struct capture *c;
	int i;

	for (i = 0; i < rounds; i++) {
		t = now_ns();
		if (open_capture(&c))
			return 1;
		open_ms[i] = (now_ns() - t) / 1e6;
		t = now_ns();
		capture_close(c);
		close_ms[i] = (now_ns() - t) / 1e6;
		printf("  round %d: capture_open %.1f ms, capture_close %.1f ms\n", i + 1, open_ms[i],
		       close_ms[i]);
	}
	printf("capture_open  median %.1f ms\n", median(open_ms, rounds));
	printf("capture_close median %.1f ms\n", median(close_ms, rounds));
	return 0;
}

/* The highest program id now: programs created after it have higher ids. */
static __u32 last_prog_id(void)
{
	__u32 id = 0, last = 0;

	while (!bpf_prog_get_next_id(id, &id))
		last = id;
	return last;
}

/* Kernel run time (ns) and runs of the programs with ids in (after, last]: those our
 * capture_open() created (another process may load programs meanwhile). With tail calls, a
 * dispatcher's run time includes the handler it called. */
static void prog_run_time(__u32 after, __u32 last, uint64_t *ns, uint64_t *runs)
{
	__u32 id = after;

	*ns = *runs = 0;
	while (!bpf_prog_get_next_id(id, &id) && id <= last) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);
		int fd = bpf_prog_get_fd_by_id(id);

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
			*ns += info.run_time_ns;
			*runs += info.run_cnt;
		}
		close(fd);
	}
}

/* ---- verifier ----------------------------------------------------------------------- */

struct prog_cost {
	char name[64];
	uint32_t insns;
};

/* The program's full name, from its BTF (the kernel keeps 15 bytes of it in prog_info). */
static void prog_name(int fd, const struct bpf_prog_info *info, char *name, size_t size)
{
	struct bpf_func_info func = { 0 };
	struct bpf_prog_info more = { 0 };
	__u32 len = sizeof(more);
	const struct btf_type *t;
	struct btf *btf;

	snprintf(name, size, "%s", info->name);
	if (!info->btf_id || info->nr_func_info < 1)
		return;
	more.nr_func_info = 1;
	more.func_info_rec_size = sizeof(func);
	more.func_info = (__u64)(unsigned long)&func;
	if (bpf_obj_get_info_by_fd(fd, &more, &len))
		return;
	btf = btf__load_from_kernel_by_id(info->btf_id);
	if (!btf)
		return;
	t = btf__type_by_id(btf, func.type_id);
	if (t)
		snprintf(name, size, "%s", btf__name_by_offset(btf, t->name_off));
	btf__free(btf);
}

static int cmp_cost(const void *a, const void *b)
{
	const struct prog_cost *x = a, *y = b;

	return x->insns < y->insns ? 1 : x->insns > y->insns ? -1 : 0;
}

static int measure_verifier(void)
{
	struct prog_cost *costs = NULL;
	__u32 id, first;
	size_t n = 0, i;
	uint64_t total = 0;
	struct capture *c;
	double t;

	first = last_prog_id();
	t = now_ns();
	if (open_capture(&c))
		return 1;
	t = now_ns() - t;
	id = first;
	while (!bpf_prog_get_next_id(id, &id)) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);
		struct prog_cost *more;
		int fd = bpf_prog_get_fd_by_id(id);

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
			more = realloc(costs, (n + 1) * sizeof(*costs));
			if (!more)
				abort();
			costs = more;
			prog_name(fd, &info, costs[n].name, sizeof(costs[n].name));
			costs[n++].insns = info.verified_insns;
			total += info.verified_insns;
		}
		close(fd);
	}
	qsort(costs, n, sizeof(*costs), cmp_cost);
	printf("verifier: %zu programs loaded in %.0f ms, %llu instructions verified\n", n, t / 1e6,
	       (unsigned long long)total);
	for (i = 0; i < n && i < 12; i++)
		printf("  %-40s %u\n", costs[i].name, costs[i].insns);
	free(costs);
	capture_close(c);
	return 0;
}

/* ---- per-call cost ------------------------------------------------------------------ */

enum op { OP_GETPPID, OP_OPEN_READ, OP_OPEN_WRITE, OP_MAX };

static const char *const op_names[OP_MAX] = {
	[OP_GETPPID] = "getppid",
	[OP_OPEN_READ] = "open+close, read-only",
	[OP_OPEN_WRITE] = "open+close, write",
};

static const int op_iters[OP_MAX] = { 1000000, 200000, 100000 };

/* The file both kinds of open use: a regular file on DIR, not on any sensitive list. */
static const char *file_path;

/* In the child: ns per iteration of op. */
static double run_op(enum op op)
{
	int i, fd, n = op_iters[op];
	double t = now_ns();

	for (i = 0; i < n; i++) {
		switch (op) {
		case OP_GETPPID:
			syscall(SYS_getppid);
			break;
		case OP_OPEN_READ:
			fd = open(file_path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				_exit(3);
			close(fd);
			break;
		default:
			fd = open(file_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
			if (fd < 0)
				_exit(4);
			close(fd);
			break;
		}
	}
	return (now_ns() - t) / n;
}

/* Runs op in a child while this process consumes records (when c is open). */
static int time_op(struct capture *c, enum op op, double *ns)
{
	int p[2], status;
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		double r = run_op(op);

		close(p[0]);
		_exit(write(p[1], &r, sizeof(r)) == sizeof(r) ? 0 : 2);
	}
	close(p[1]);
	if (pid < 0)
		return -1;
	while (waitpid(pid, &status, WNOHANG) == 0)
		if (c)
			capture_poll(c, 10);
		else
			usleep(10000);
	if (c)
		while (capture_poll(c, 0) > 0)
			;
	if (read(p[0], ns, sizeof(*ns)) != sizeof(*ns) || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		close(p[0]);
		return -1;
	}
	close(p[0]);
	return 0;
}

static int measure_syscalls(int rounds, const char *dir)
{
	double base[OP_MAX][ROUNDS_MAX], with[OP_MAX][ROUNDS_MAX], bpf_ns[OP_MAX], b, w;
	uint64_t ns0, runs0, ns1, runs1;
	__u32 last;
	char path[4096];
	struct capture *c;
	int op, i, stats_fd, err = 1;
	__u32 first;

	snprintf(path, sizeof(path), "%s/capture_cost.%d", dir, (int)getpid());
	file_path = path;
	i = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (i < 0 || close(i))
		return 1;
	for (i = 0; i < rounds; i++)
		for (op = 0; op < OP_MAX; op++)
			if (time_op(NULL, op, &base[op][i]))
				goto out;
	first = last_prog_id();
	if (open_capture(&c))
		goto out;
	last = last_prog_id();
	records = 0;
	for (i = 0; i < rounds; i++)
		for (op = 0; op < OP_MAX; op++)
			if (time_op(c, op, &with[op][i]))
				goto close;
	/* One more pass with the kernel's BPF run-time statistics on (they cost a clock read
	 * per run themselves, so the timings above are taken without them). */
	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	for (op = 0; op < OP_MAX; op++) {
		bpf_ns[op] = -1;
		prog_run_time(first, last, &ns0, &runs0);
		if (stats_fd < 0 || time_op(c, op, &w))
			continue;
		prog_run_time(first, last, &ns1, &runs1);
		bpf_ns[op] = (double)(ns1 - ns0) / op_iters[op];
	}
	if (stats_fd >= 0)
		close(stats_fd);
	printf("per call (median of %d)      without   with capture   in BPF programs\n", rounds);
	for (op = 0; op < OP_MAX; op++) {
		b = median(base[op], rounds);
		w = median(with[op], rounds);
		printf("  %-24s %7.0f ns %7.0f ns (+%4.0f ns)  %5.0f ns\n", op_names[op], b, w, w - b,
		       bpf_ns[op]);
	}
	printf("  records consumed meanwhile: %llu (all processes)\n", (unsigned long long)records);
	err = 0;
close:
	capture_close(c);
out:
	unlink(path);
	return err;
}

int main(int argc, char **argv)
{
	const char *dir = "/var/tmp";
	int rounds = 5, opt, i, err = 0;

	while ((opt = getopt(argc, argv, "n:d:per:w:")) != -1) {
		switch (opt) {
		case 'n':
			rounds = atoi(optarg);
			break;
		case 'd':
			dir = optarg;
			break;
		case 'p':
			flag_opts.probe_reads_only = true;
			break;
		case 'e':
			flag_opts.enter_dispatch = true;
			break;
		case 'r':
			flag_opts.ringbuf_bytes = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'w':
			flag_opts.wakeup_bytes = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: %s [-n ROUNDS] [-d DIR] [-p] [-e] [-r BYTES] [-w BYTES] "
				"[open|syscalls|verifier|decode]...\n", argv[0]);
			return 2;
		}
	}
	if (rounds < 1 || rounds > ROUNDS_MAX) {
		fprintf(stderr, "capture_cost: ROUNDS must be 1..%d\n", ROUNDS_MAX);
		return 2;
	}
	if (optind == argc) {
		err = measure_verifier() || measure_open_close(rounds) ||
		      measure_syscalls(rounds, dir) || measure_decode(rounds, dir);
		return err ? 1 : 0;
	}
	for (i = optind; i < argc && !err; i++) {
		if (!strcmp(argv[i], "open")) {
			err = measure_open_close(rounds);
		} else if (!strcmp(argv[i], "verifier")) {
			err = measure_verifier();
		} else if (!strcmp(argv[i], "syscalls")) {
			err = measure_syscalls(rounds, dir);
		} else if (!strcmp(argv[i], "decode")) {
			err = measure_decode(rounds, dir);
		} else {
			fprintf(stderr, "capture_cost: unknown measure %s\n", argv[i]);
			return 2;
		}
	}
	return err ? 1 : 0;
}
