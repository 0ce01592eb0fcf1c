/* timefmt: ISO 8601 UTC timestamps (see timefmt.h). */
#include "timefmt.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "numfmt.h"

/* Year, month, day of a count of days since 1970-01-01 (H. Hinnant's
 * civil_from_days): gmtime_r() and a format string per entry cost more than the
 * entry's hashing. */
static void civil_from_days(long long z, int *y, int *m, int *d)
{
	long long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

void time_format_iso(const struct timespec *ts, char out[TIME_ISO_LEN + 1])
{
	long long days = ts->tv_sec / 86400, secs = ts->tv_sec % 86400;
	int year, mon, day;

	if (secs < 0) {
		secs += 86400;
		days--;
	}
	civil_from_days(days, &year, &mon, &day);
	if (year < 0 || year > 9999)
		year = year < 0 ? 0 : 9999;	/* four digits, whatever the clock says */
	memcpy(out, "0000-00-00T00:00:00.000000Z", TIME_ISO_LEN + 1);
	fmt_u32_padded(out, (uint32_t)year, 4);
	fmt_u32_padded(out + 5, (uint32_t)mon, 2);
	fmt_u32_padded(out + 8, (uint32_t)day, 2);
	fmt_u32_padded(out + 11, (uint32_t)(secs / 3600), 2);
	fmt_u32_padded(out + 14, (uint32_t)(secs / 60 % 60), 2);
	fmt_u32_padded(out + 17, (uint32_t)(secs % 60), 2);
	fmt_u32_padded(out + 20, (uint32_t)(ts->tv_nsec / 1000), 6);
}

static int digits(const char *s, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil): what timegm() computes, without its cost per entry. */
static long long days_from_civil(int y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int time_parse_iso(const char *s, size_t len, bool strict, struct timespec *out)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int year, mon, day, hour, min, sec;
	long nsec = 0;
	size_t i = 19;

	if (len < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && (strict || s[10] != ' ')) ||
	    s[13] != ':' || s[16] != ':')
		return -EINVAL;
	year = digits(s, 4);
	mon = digits(s + 5, 2);
	day = digits(s + 8, 2);
	hour = digits(s + 11, 2);
	min = digits(s + 14, 2);
	sec = digits(s + 17, 2);
	if (year < 0 || mon < 1 || mon > 12 || day < 1 || day > mdays[mon - 1] || hour < 0 ||
	    hour > 23 || min < 0 || min > 59 || sec < 0 || sec > 59)
		return -EINVAL;
	if (i < len && s[i] == '.') {
		size_t start = ++i;
		long scale = 100000000;

		while (i < len && s[i] >= '0' && s[i] <= '9') {
			nsec += (s[i] - '0') * scale;
			scale /= 10;
			i++;
			if (i - start > 9)
				return -EINVAL;
		}
		if (i == start || (strict && i - start != 6))
			return -EINVAL;
	}
	if (i < len && s[i] == 'Z')
		i++;
	if (i != len)
		return -EINVAL;
	out->tv_sec = (time_t)days_from_civil(year, mon, day) * 86400 + hour * 3600 + min * 60 +
		      sec;
	out->tv_nsec = nsec;
	/* Feb 29 only in leap years (mdays allowed it above). */
	if (mon == 2 && day == 29 && !(year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)))
		return -EINVAL;
	return 0;
}
