/* proctable: the agent's process cache (see proctable.h). A chained hash table
 * on pid: one lookup per event, no allocation except at exec and fork. */
#include "proctable.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/types.h>
#include "sealtrail/event.h"

#define NBUCKETS 16384	/* power of two */

struct node {
	struct node *next;
	struct proc_info p;
};

struct proctable {
	struct node *bucket[NBUCKETS];
	size_t size;
	uint64_t tick_ns;	/* /proc start times are in clock ticks */
};

int proctable_new(struct proctable **out)
{
	struct proctable *t = calloc(1, sizeof(*t));
	long hz = sysconf(_SC_CLK_TCK);

	if (!t)
		return -ENOMEM;
	t->tick_ns = 1000000000ull / (uint64_t)(hz > 0 ? hz : 100);
	*out = t;
	return 0;
}

void proctable_free(struct proctable *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < NBUCKETS; i++) {
		struct node *n = t->bucket[i], *next;

		for (; n; n = next) {
			next = n->next;
			free(n->p.exe);
			free(n);
		}
	}
	free(t);
}

static struct node **slot(struct proctable *t, uint32_t pid)
{
	struct node **pp = &t->bucket[(pid * 2654435761u) & (NBUCKETS - 1)];

	while (*pp && (*pp)->p.pid != pid)
		pp = &(*pp)->next;
	return pp;
}

/* Same process? Exact start times, or within two ticks for /proc entries. */
static bool same(struct proctable *t, const struct proc_info *p, uint64_t start_ns)
{
	uint64_t d;

	if (!p->approx)
		return p->start_ns == start_ns;
	d = p->start_ns > start_ns ? p->start_ns - start_ns : start_ns - p->start_ns;
	return d <= 2 * t->tick_ns;
}

static void set(struct proctable *t, uint32_t pid, uint64_t start_ns, bool approx,
		const char *exe, size_t len, uint16_t flags)
{
	struct node **pp = slot(t, pid), *n = *pp;
	char *copy = malloc(len + 1);

	if (!copy)
		return;
	memcpy(copy, exe, len);
	copy[len] = '\0';
	if (!n) {
		n = calloc(1, sizeof(*n));
		if (!n) {
			free(copy);
			return;
		}
		*pp = n;
		t->size++;
	}
	free(n->p.exe);
	n->p = (struct proc_info){ .pid = pid, .start_ns = start_ns, .approx = approx,
				   .exe_flags = flags, .exe_len = len, .exe = copy };
}

void proctable_exec(struct proctable *t, uint32_t pid, uint64_t start_ns, const char *exe,
		    size_t len, uint16_t flags)
{
	set(t, pid, start_ns, false, exe, len, flags);
}

void proctable_fork(struct proctable *t, uint32_t child, uint64_t child_start, uint32_t parent,
		    uint64_t parent_start)
{
	const struct proc_info *p = proctable_lookup(t, parent, parent_start);

	if (p)
		set(t, child, child_start, false, p->exe, p->exe_len, p->exe_flags);
}

void proctable_exit(struct proctable *t, uint32_t pid, uint64_t start_ns)
{
	struct node **pp = slot(t, pid), *n = *pp;

	if (!n || !same(t, &n->p, start_ns))
		return;
	*pp = n->next;
	free(n->p.exe);
	free(n);
	t->size--;
}

const struct proc_info *proctable_lookup(struct proctable *t, uint32_t pid, uint64_t start_ns)
{
	struct node *n = *slot(t, pid);

	if (!n || !same(t, &n->p, start_ns))
		return NULL;
	if (n->p.approx) {	/* now we know it exactly */
		n->p.start_ns = start_ns;
		n->p.approx = false;
	}
	return &n->p;
}

size_t proctable_size(const struct proctable *t)
{
	return t->size;
}

/* Field 22 of /proc/PID/stat, after the comm in parentheses (which may hold
 * spaces and parentheses itself: scan from the last ')'). */
static int start_ticks(int dirfd, uint64_t *ticks)
{
	char buf[1024], *p;
	ssize_t n;
	int fd, field;

	fd = openat(dirfd, "stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p)
		return -EIO;
	for (field = 2; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	*ticks = strtoull(p, NULL, 10);
	return 0;
}

int proctable_scan_proc(struct proctable *t, const char *proc_root)
{
	struct dirent *de;
	DIR *d = opendir(proc_root);

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char exe[4096];
		uint64_t ticks = 0;
		ssize_t len;
		int pdir;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pdir = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pdir < 0)
			continue;
		len = readlinkat(pdir, "exe", exe, sizeof(exe));
		/* Kernel threads have no executable: nothing to remember. */
		if (len > 0 && len < (ssize_t)sizeof(exe) && !start_ticks(pdir, &ticks)) {
			const char *del = " (deleted)";
			size_t dl = strlen(del);
			uint16_t flags = 0;

			if ((size_t)len > dl && !memcmp(exe + len - dl, del, dl)) {
				len -= (ssize_t)dl;
				flags = ST_STR_DELETED;
			}
			set(t, (uint32_t)strtoul(de->d_name, NULL, 10), ticks * t->tick_ns, true, exe,
			    (size_t)len, flags);
		}
		close(pdir);
	}
	closedir(d);
	return 0;
}
