/* HTTP dates (RFC 9110 5.6.7): written as IMF-fixdate, read in any of the
 * three formats. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "apps/lib/http.h"

static const char wdays[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
				    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

char *http_date_format(time_t t, char *out)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	/* written by hand: strftime's %a and %b follow the locale */
	char tmp[80];
	snprintf(tmp, sizeof(tmp), "%s, %02d %s %04d %02d:%02d:%02d GMT", wdays[tm.tm_wday],
		 tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		 tm.tm_sec);
	memcpy(out, tmp, 29); /* always 29 characters for years 1000-9999 */
	out[29] = '\0';
	return out;
}

/* Index of a three-letter month name, or -1. */
static int month_index(const char *m)
{
	for (int i = 0; i < 12; i++)
		if (strncmp(m, months[i], 3) == 0)
			return i;
	return -1;
}

int http_date_parse(struct http_str s, time_t *t)
{
	char buf[64], mon[4] = "", wday[16], gmt[4] = "";
	struct tm tm;
	int n = 0;
	if (s.n == 0 || s.n >= sizeof(buf))
		return -1;
	memcpy(buf, s.p, s.n);
	buf[s.n] = '\0';
	memset(&tm, 0, sizeof(tm));
	/* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
	if (sscanf(buf, "%3s, %2d %3s %4d %2d:%2d:%2d %3s%n", wday, &tm.tm_mday, mon, &tm.tm_year,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, gmt, &n) == 8 && n == (int)s.n) {
		tm.tm_year -= 1900;
	/* obsolete RFC 850: Sunday, 06-Nov-94 08:49:37 GMT */
	} else if (sscanf(buf, "%15[A-Za-z], %2d-%3s-%2d %2d:%2d:%2d %3s%n", wday, &tm.tm_mday, mon,
			  &tm.tm_year, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, gmt, &n) == 8 &&
		   n == (int)s.n) {
		if (tm.tm_year < 70)
			tm.tm_year += 100; /* RFC 9110 5.6.7: two digits, within 50 years */
	/* obsolete asctime: Sun Nov  6 08:49:37 1994 */
	} else if (sscanf(buf, "%3s %3s %2d %2d:%2d:%2d %4d%n", wday, mon, &tm.tm_mday, &tm.tm_hour,
			  &tm.tm_min, &tm.tm_sec, &tm.tm_year, &n) == 7 && n == (int)s.n) {
		tm.tm_year -= 1900;
		strcpy(gmt, "GMT");
	} else {
		return -1;
	}
	tm.tm_mon = month_index(mon);
	if (tm.tm_mon < 0 || strcmp(gmt, "GMT") != 0 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	*t = timegm(&tm);
	return 0;
}
