/* numfmt: integers to text without printf. Every entry carries several numbers,
 * and snprintf's format parsing costs more than hashing a short entry does. */
#ifndef SEALTRAIL_NUMFMT_H
#define SEALTRAIL_NUMFMT_H

#include <stddef.h>
#include <stdint.h>

#define NUMFMT_MAX 24	/* the longest result, "-9223372036854775808", fits */

/* Decimal digits of v: compares, no division. */
static inline size_t fmt_u64_ndigits(uint64_t v)
{
	uint64_t p = 10;
	size_t n = 1;

	while (v >= p) {
		if (++n == 20)
			break;		/* v >= 10^19; 10^20 does not fit */
		p *= 10;
	}
	return n;
}

/* Writes v in decimal to out (no NUL); returns the number of characters. Two digits per
 * division, written in place from the end: every event carries a dozen numbers (times,
 * pids, ids), and this was a tenth of the agent's formatting. */
static inline size_t fmt_u64(char *out, uint64_t v)
{
	static const char pairs[201] = "0001020304050607080910111213141516171819"
				       "2021222324252627282930313233343536373839"
				       "4041424344454647484950515253545556575859"
				       "6061626364656667686970717273747576777879"
				       "8081828384858687888990919293949596979899";
	size_t n = fmt_u64_ndigits(v), i = n;

	while (v >= 100) {
		unsigned int r = (unsigned int)(v % 100);

		v /= 100;
		i -= 2;
		out[i] = pairs[2 * r];
		out[i + 1] = pairs[2 * r + 1];
	}
	if (v >= 10) {
		out[0] = pairs[2 * v];
		out[1] = pairs[2 * v + 1];
	} else {
		out[0] = (char)('0' + v);
	}
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
