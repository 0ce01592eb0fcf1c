/* numfmt: integers to text without printf. Every entry carries several numbers,
 * and snprintf's format parsing costs more than hashing a short entry does. */
#ifndef SEALTRAIL_NUMFMT_H
#define SEALTRAIL_NUMFMT_H

#include <stddef.h>
#include <stdint.h>

#define NUMFMT_MAX 24	/* the longest result, "-9223372036854775808", fits */

/* Writes v in decimal to out (no NUL); returns the number of characters. */
static inline size_t fmt_u64(char *out, uint64_t v)
{
	char t[20];
	size_t n = 0, i;

	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		out[i] = t[n - 1 - i];
	return n;
}

static inline size_t fmt_i64(char *out, int64_t v)
{
	if (v >= 0)
		return fmt_u64(out, (uint64_t)v);
	out[0] = '-';
	/* Negating in unsigned arithmetic keeps INT64_MIN defined. */
	return 1 + fmt_u64(out + 1, -(uint64_t)v);
}

/* v in base 8 or 16 (lowercase), without prefix. */
static inline size_t fmt_u64_base(char *out, uint64_t v, unsigned int base)
{
	static const char digits[] = "0123456789abcdef";
	char t[22];
	size_t n = 0, i;

	do {
		t[n++] = digits[v % base];
		v /= base;
	} while (v);
	for (i = 0; i < n; i++)
		out[i] = t[n - 1 - i];
	return n;
}

/* v in decimal, zero-padded on the left to exactly width digits (v < 10^width). */
static inline void fmt_u32_padded(char *out, uint32_t v, int width)
{
	while (width-- > 0) {
		out[width] = (char)('0' + v % 10);
		v /= 10;
	}
}

#endif
