/* testlib: what sealtrail's tests share: scratch directories on a disk that
 * supports chattr, running programs with input and captured output, and
 * asking Python for independently computed answers. */
#ifndef SEALTRAIL_TESTLIB_H
#define SEALTRAIL_TESTLIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

/* Output of a finished program. */
struct tl_proc {
	int status;		/* exit code, or 128 + signal */
	char *out;		/* NUL-terminated stdout */
	size_t out_len;
	char *err;		/* NUL-terminated stderr */
};

/* Runs argv[0] (path) with stdin fed from `in` (may be NULL). */
int tl_run(struct tl_proc *p, const char *in, size_t in_len, const char *const argv[]);
void tl_proc_free(struct tl_proc *p);

/* The CLI under test: build/sealtrail, or build/asan/sealtrail in ASan tests. */
const char *tl_cli(void);
const char *tl_build_dir(void);

/* Runs python3 -c script with stdin; returns its stdout (malloc'd) or fails the test. */
char *tl_python(const char *script, const char *in, size_t in_len, size_t *out_len);

/* A fresh directory under <build>/tmp (a real disk: chattr works there). */
char *tl_tmpdir(const char *tag);
/* Removes a tree, clearing append-only and immutable flags first. */
void tl_rmtree(const char *path);

char *tl_read_file(const char *path, size_t *len);
/* Overwrites a file (clearing its append-only/immutable flags first). */
void tl_write_file(const char *path, const void *data, size_t len);
/* Clears append-only/immutable flags of one file. */
void tl_clear_flags(const char *path);
/* Returns FS_*_FL flags of a file, or -1. */
long tl_get_flags(const char *path);

/* printf into a static rotating buffer (for building paths). */
const char *tl_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Counts the lines of a file. */
size_t tl_count_lines(const char *data, size_t len);

#endif
