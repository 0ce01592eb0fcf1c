/* failalloc: an LD_PRELOAD shim for tests. With FAILALLOC_AT=N in the environment, the
 * Nth call to malloc, calloc or realloc and every later one fail with ENOMEM: how a
 * program behaves when memory runs out at each point of its run. */
#include <errno.h>
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
