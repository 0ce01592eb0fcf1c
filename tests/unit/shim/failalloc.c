/* failalloc: an LD_PRELOAD shim for tests. With FAILALLOC_AT=N in the environment, the
 * Nth call to malloc, calloc or realloc and every later one fail with ENOMEM: how a
 * program behaves when memory runs out at each point of its run. With FAILTHREAD_AT=N,
 * the Nth call to pthread_create fails with EAGAIN (the others succeed): how it behaves
 * when a thread cannot be started, which for root no resource limit can force. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);

static long calls, fail_at = -1;

static int failing(void)
{
	if (fail_at < 0) {
		const char *s = getenv("FAILALLOC_AT");

		fail_at = s ? atol(s) : 0;
	}
	if (fail_at <= 0 || ++calls < fail_at)
		return 0;
	errno = ENOMEM;
	return 1;
}

void *malloc(size_t n)
{
	return failing() ? NULL : __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
	return failing() ? NULL : __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
	return failing() ? NULL : __libc_realloc(p, n);
}

int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *),
		   void *arg)
{
	static int (*real)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
	static long threads;
	const char *at = getenv("FAILTHREAD_AT");

	if (at && __atomic_add_fetch(&threads, 1, __ATOMIC_RELAXED) == atol(at))
		return EAGAIN;
	if (!real)
		real = (int (*)(pthread_t *, const pthread_attr_t *, void *(*)(void *),
				void *))dlsym(RTLD_NEXT, "pthread_create");
	return real ? real(thread, attr, fn, arg) : ENOSYS;
}
