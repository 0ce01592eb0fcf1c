/* bench_storm: the syscall storms `make bench` times with and without an audit
 * agent watching. One process, pinned to one CPU, does nothing but the calls.
 *
 *   bench_storm open FILE N [CPU]   N x { openat(FILE, O_WRONLY|O_CREAT) ; close }
 *   bench_storm exec N [CPU]        N x { fork ; exec /bin/true ; wait }
 *   bench_storm syscall N [CPU]     N x getppid: a call no agent records, which
 *                                   measures what every other call on the host pays
 *
 * Prints one JSON object: {"mode", "iterations", "seconds", "ns_per_iter", "pid",
 * "cpu", "cpu_s"}. The pid lets the runner find the storm's own records in a trail
 * or an audit log; FILE should be absolute so that it is what both of them record.
 * cpu_s is the CPU time of the storm and its children: the runner subtracts it
 * from the machine's busy time to see what else ran meanwhile.
 * Exit status: 0, 1 when a call fails (the count would be wrong), 2 for usage. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this process and its waited-for children. */
static double cpu_seconds(void)
{
	struct rusage self, kids;

	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	return (double)(self.ru_utime.tv_sec + self.ru_stime.tv_sec + kids.ru_utime.tv_sec +
			kids.ru_stime.tv_sec) +
	       (double)(self.ru_utime.tv_usec + self.ru_stime.tv_usec + kids.ru_utime.tv_usec +
			kids.ru_stime.tv_usec) / 1e6;
}

static int pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0) {
		fprintf(stderr, "bench_storm: cannot pin to CPU %d: %s\n", cpu, strerror(errno));
		return -1;
	}
	return 0;
}

static int storm_open(const char *file, uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++) {
		int fd = openat(AT_FDCWD, file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

		if (fd < 0) {
			fprintf(stderr, "bench_storm: open %s: %s\n", file, strerror(errno));
			return -1;
		}
		close(fd);
	}
	return 0;
}

static int storm_exec(uint64_t n)
{
	static char *const argv[] = { "true", NULL };
	static char *const envp[] = { NULL };
	uint64_t i;

	for (i = 0; i < n; i++) {
		int status;
		pid_t pid = fork();

		if (pid < 0) {
			fprintf(stderr, "bench_storm: fork: %s\n", strerror(errno));
			return -1;
		}
		if (pid == 0) {
			execve("/bin/true", argv, envp);
			_exit(127);
		}
		if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "bench_storm: /bin/true did not exit 0\n");
			return -1;
		}
	}
	return 0;
}

/* syscall(), not getppid(): no libc may answer it without entering the kernel. */
static int storm_syscall(uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++)
		syscall(SYS_getppid);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	const char *file = NULL;
	int nargs = 0, cpu = -1, err;
	uint64_t n;
	double t0, t;

	if (!strcmp(mode, "open") && (argc == 4 || argc == 5)) {
		file = argv[2];
		nargs = 3;
	} else if ((!strcmp(mode, "exec") || !strcmp(mode, "syscall")) && (argc == 3 || argc == 4)) {
		nargs = 2;
	} else {
		fprintf(stderr, "usage: bench_storm open FILE N [CPU] | exec N [CPU] | syscall N [CPU]\n");
		return 2;
	}
	n = strtoull(argv[nargs], NULL, 10);
	if (argc > nargs + 1)
		cpu = atoi(argv[nargs + 1]);
	if (n == 0 || pin(cpu))
		return 2;

	t0 = now_s();
	if (file)
		err = storm_open(file, n);
	else if (!strcmp(mode, "exec"))
		err = storm_exec(n);
	else
		err = storm_syscall(n);
	t = now_s() - t0;
	if (err)
		return 1;
	printf("{\"mode\": \"%s\", \"iterations\": %" PRIu64 ", \"seconds\": %.6f, "
	       "\"ns_per_iter\": %.1f, \"pid\": %d, \"cpu\": %d, \"cpu_s\": %.3f}\n",
	       mode, n, t, t * 1e9 / (double)n, (int)getpid(), cpu, cpu_seconds());
	return 0;
}
