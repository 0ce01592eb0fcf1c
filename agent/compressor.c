/* compressor: background compression of closed segments (see compressor.h). */
#include "compressor.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include "segment.h"

#define QUEUE_MAX 64

struct compressor {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int dirfd;
	bool stopping;
	int failures;
	size_t head, len;
	char queue[QUEUE_MAX][SEGMENT_NAME_MAX];
	char current[SEGMENT_NAME_MAX];	/* being compressed now ("" when none) */
};

static void *run(void *arg)
{
	struct compressor *c = arg;
	char name[SEGMENT_NAME_MAX];

	/* Draining the ring buffer comes first: gzip of a 64 MiB segment takes
	 * about a second of CPU, and on a busy CPU shared with the drain that
	 * second would be taken from events, which the ring then drops. At nice
	 * 19 compression still progresses on a saturated host, only last. */
	setpriority(PRIO_PROCESS, (id_t)gettid(), 19);
	pthread_mutex_lock(&c->lock);
	for (;;) {
		while (!c->len && !c->stopping)
			pthread_cond_wait(&c->wake, &c->lock);
		/* Stopping: what is queued stays plain (valid), and the next start's sweep
		 * of closed segments compresses it. Finishing a queue of up to 64 segments
		 * at nice 19 could outlast systemd's stop timeout. */
		if (!c->len || c->stopping)
			break;
		memcpy(name, c->queue[c->head], sizeof(name));
		memcpy(c->current, name, sizeof(name));
		c->head = (c->head + 1) % QUEUE_MAX;
		c->len--;
		pthread_mutex_unlock(&c->lock);
		/* A failure leaves the segment plain: still valid, only larger; the
		 * next start of the agent tries again. */
		if (segment_compress(c->dirfd, name))
			__atomic_add_fetch(&c->failures, 1, __ATOMIC_RELAXED);
		pthread_mutex_lock(&c->lock);
		c->current[0] = '\0';
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

int compressor_start(struct compressor **out, const char *trail_dir)
{
	struct compressor *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return -ENOMEM;
	c->dirfd = open(trail_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->dirfd < 0) {
		err = -errno;
		free(c);
		return err;
	}
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->wake, NULL);
	err = -pthread_create(&c->thread, NULL, run, c);
	if (err) {
		close(c->dirfd);
		free(c);
		return err;
	}
	/* For top -H, and for make bench, which counts its CPU apart. */
	pthread_setname_np(c->thread, "st-compress");
	*out = c;
	return 0;
}

void compressor_enqueue(void *ctx, const char *segment_name)
{
	struct compressor *c = ctx;

	size_t i;

	pthread_mutex_lock(&c->lock);
	/* The same segment can be handed over twice at start (a torn segment's recovery,
	 * then the sweep of closed plain segments): once is enough. */
	if (!strcmp(c->current, segment_name)) {
		pthread_mutex_unlock(&c->lock);
		return;
	}
	for (i = 0; i < c->len; i++) {
		if (!strcmp(c->queue[(c->head + i) % QUEUE_MAX], segment_name)) {
			pthread_mutex_unlock(&c->lock);
			return;
		}
	}
	if (c->len == QUEUE_MAX) {
		/* Rotations faster than gzip: leave this one plain (still valid). */
		c->failures++;
	} else {
		snprintf(c->queue[(c->head + c->len) % QUEUE_MAX], SEGMENT_NAME_MAX, "%s",
			 segment_name);
		c->len++;
		pthread_cond_signal(&c->wake);
	}
	pthread_mutex_unlock(&c->lock);
}

int compressor_stop(struct compressor *c)
{
	int failures;

	if (!c)
		return 0;
	pthread_mutex_lock(&c->lock);
	c->stopping = true;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	failures = c->failures;
	close(c->dirfd);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->wake);
	free(c);
	return failures;
}
