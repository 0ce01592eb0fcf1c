/* test_format: the printf-free formatters of the write path (numfmt.h, the trail's
 * timestamps) against libc's printf and gmtime_r, which they replace for speed. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "testlib.h"
#include "numfmt.h"
#include "timefmt.h"

static void check_u64(uint64_t v)
{
	char got[NUMFMT_MAX + 1], want[32];

	got[fmt_u64(got, v)] = '\0';
	snprintf(want, sizeof(want), "%" PRIu64, v);
	assert_string_equal(got, want);
	got[fmt_u64_base(got, v, 16)] = '\0';
	snprintf(want, sizeof(want), "%" PRIx64, v);
	assert_string_equal(got, want);
	got[fmt_u64_base(got, v, 8)] = '\0';
	snprintf(want, sizeof(want), "%" PRIo64, v);
	assert_string_equal(got, want);
}

static void check_i64(int64_t v)
{
	char got[NUMFMT_MAX + 1], want[32];

	got[fmt_i64(got, v)] = '\0';
	snprintf(want, sizeof(want), "%" PRId64, v);
	assert_string_equal(got, want);
}

static void test_integers_match_printf(void **state)
{
	static const uint64_t edges[] = { 0, 1, 9, 10, 99, 100, 4294967295u, 4294967296u,
					  9999999999999999999u, 10000000000000000000u, UINT64_MAX };
	uint64_t x = 88172645463325252u;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		check_u64(edges[i]);
		check_i64((int64_t)edges[i]);
	}
	check_i64(INT64_MIN);
	check_i64(INT64_MAX);
	check_i64(-1);
	for (x = 1, i = 0; i < 20; i++, x *= 10) {	/* every digit count's edges */
		check_u64(x - 1);
		check_u64(x);
		check_u64(x + 1);
		check_i64(-(int64_t)(x - 1));
	}
	x = 88172645463325252u;
	for (i = 0; i < 100000; i++) {	/* xorshift64: every magnitude, both signs */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		check_u64(x >> (i % 64));
		check_i64((int64_t)(x >> (i % 64)) * (i & 1 ? -1 : 1));
	}
}

/* What the formatter replaced: gmtime_r and a format string. */
static void reference_iso(const struct timespec *ts, char *out, size_t len)
{
	struct tm tm;

	gmtime_r(&ts->tv_sec, &tm);
	snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (long)(ts->tv_nsec / 1000));
}

static void check_time(time_t sec, long nsec, const char *expect)
{
	struct timespec ts = { .tv_sec = sec, .tv_nsec = nsec }, back;
	char got[TIME_ISO_LEN + 1], want[64];

	time_format_iso(&ts, got);
	reference_iso(&ts, want, sizeof(want));
	assert_string_equal(got, want);
	if (expect)
		assert_string_equal(got, expect);
	/* And the parser reads it back to the microsecond. */
	assert_int_equal(time_parse_iso(got, TIME_ISO_LEN, true, &back), 0);
	assert_int_equal(back.tv_sec, sec);
	assert_int_equal(back.tv_nsec, nsec / 1000 * 1000);
}

static void test_timestamps_match_gmtime(void **state)
{
	uint64_t x = 2463534242u;
	int i;

	(void)state;
	check_time(0, 0, "1970-01-01T00:00:00.000000Z");
	check_time(951782400, 999999999, "2000-02-29T00:00:00.999999Z");	/* leap century */
	check_time(4107542399, 123456000, "2100-02-28T23:59:59.123456Z");	/* not leap */
	check_time(1709164800, 500, "2024-02-29T00:00:00.000000Z");
	check_time(946684799, 999999000, "1999-12-31T23:59:59.999999Z");
	check_time(-1, 500000000, "1969-12-31T23:59:59.500000Z");
	check_time(-62135596800, 0, "0001-01-01T00:00:00.000000Z");
	check_time(253402300799, 0, "9999-12-31T23:59:59.000000Z");
	for (i = 0; i < 200000; i++) {	/* every day from year 1 to 9999, any time of day */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		check_time((time_t)(x % 315537897600u) - 62135596800, (long)(x % 1000000000), NULL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_integers_match_printf),
		cmocka_unit_test(test_timestamps_match_gmtime),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
