/* replay_progress: progress on stderr (see replay_progress.h). */
#include "replay_progress.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define REDRAW_NS 250000000L

uint64_t replay_progress_trail_bytes(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct stat st;
	uint64_t total = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (!fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) && S_ISREG(st.st_mode))
			total += (uint64_t)st.st_size;
	closedir(d);
	return total;
}

void replay_progress_init(struct replay_progress *p, bool on)
{
	*p = (struct replay_progress){ .on = on };
	clock_gettime(CLOCK_MONOTONIC, &p->last);
}

void replay_progress_tick(struct replay_progress *p, const char *what, uint64_t done,
			  uint64_t total)
{
	struct timespec now;
	long long ns;

	if (!p->on || (++p->calls & 1023))
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (long long)(now.tv_sec - p->last.tv_sec) * 1000000000LL +
	     (now.tv_nsec - p->last.tv_nsec);
	if (ns < REDRAW_NS)
		return;
	p->last = now;
	if (total)
		fprintf(stderr, "\r\033[Ksealtrail: %s: %" PRIu64 "%% (%" PRIu64 " of %" PRIu64
			" entries)", what, done >= total ? 100 : done * 100 / total, done, total);
	else
		fprintf(stderr, "\r\033[Ksealtrail: %s: %" PRIu64 " entries", what, done);
	fflush(stderr);
	p->drawn = true;
}

void replay_progress_clear(struct replay_progress *p)
{
	if (!p->drawn)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	p->drawn = false;
}
