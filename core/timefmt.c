/* timefmt.c: durations and RFC 3339 times, parsed and formatted without
 * touching the process's time zone (day arithmetic, gmtime_r). */
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

mcpauth_status mcpauth_parse_duration_ms(const char *s, int64_t *out)
{
    if (!s || !isdigit((unsigned char)s[0]))
        return MCPAUTH_EINVAL;
    int64_t v = 0;
    while (isdigit((unsigned char)*s)) {
        if (v > (INT64_MAX - 9) / 10)
            return MCPAUTH_ERANGE;
        v = v * 10 + (*s++ - '0');
    }
    int64_t mul;
    if (strcmp(s, "ms") == 0) mul = 1;
    else if (strcmp(s, "s") == 0) mul = 1000;
    else if (strcmp(s, "m") == 0) mul = 60000;
    else if (strcmp(s, "h") == 0) mul = 3600000;
    else if (strcmp(s, "d") == 0) mul = 86400000;
    else return MCPAUTH_EINVAL;
    if (v > INT64_MAX / mul)
        return MCPAUTH_ERANGE;
    *out = v * mul;
    return MCPAUTH_OK;
}

static int read_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        /* isdigit is 0-9 in every locale; this skips its table call (the
         * store loader parses a time per key). */
        unsigned dg = (unsigned)((unsigned char)(*p)[i] - '0');
        if (dg > 9)
            return -1;
        v = v * 10 + (int)dg;
    }
    *p += n;
    *out = v;
    return 0;
}

static int expect(const char **p, char c)
{
    if (**p != c && !(c == 'T' && (**p == 't' || **p == ' ')))
        return -1;
    (*p)++;
    return 0;
}

static int parse_offset(const char *p, int *off_s)
{
    if (*p == 'Z' || *p == 'z')
        return p[1] ? -1 : (*off_s = 0, 0);
    if (*p != '+' && *p != '-')
        return -1;
    int sign = *p++ == '-' ? -1 : 1, hh, mm;
    if (read_digits(&p, 2, &hh) || expect(&p, ':') || read_digits(&p, 2, &mm) || *p)
        return -1;
    if (hh > 23 || mm > 59)
        return -1;
    *off_s = sign * (hh * 3600 + mm * 60);
    return 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H.
 * Hinnant's days_from_civil). timegm did this before, but it takes the time
 * zone lock and normalises a struct tm: it was most of a time's parse, and
 * the store loader parses a time for every key. Pure arithmetic is also what
 * "UTC without the process's time zone" means (no leap-second tables). */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;                                   /* [0, 399] */
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;  /* [0, 365] */
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return (int64_t)era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const unsigned char len[12] = { 31, 28, 31, 30, 31, 30,
                                           31, 31, 30, 31, 30, 31 };
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return len[m - 1] + (m == 2 && leap);
}

mcpauth_status mcpauth_parse_time_ms(const char *s, int64_t *out)
{
    if (!s)
        return MCPAUTH_EINVAL;
    int y, mo, d, h, mi, sec, ms = 0, off = 0;
    const char *p = s;
    if (read_digits(&p, 4, &y) || expect(&p, '-') || read_digits(&p, 2, &mo) ||
        expect(&p, '-') || read_digits(&p, 2, &d) || expect(&p, 'T') ||
        read_digits(&p, 2, &h) || expect(&p, ':') || read_digits(&p, 2, &mi) ||
        expect(&p, ':') || read_digits(&p, 2, &sec))
        return MCPAUTH_EINVAL;
    if (*p == '.') {
        p++;
        int digits = 0;
        while (isdigit((unsigned char)*p)) {
            if (digits < 3)
                ms = ms * 10 + (*p - '0');
            digits++;
            p++;
        }
        if (digits == 0)
            return MCPAUTH_EINVAL;
        for (; digits < 3; digits++)
            ms *= 10;
    }
    if (parse_offset(p, &off))
        return MCPAUTH_EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return MCPAUTH_EINVAL;
    /* What timegm's normalisation used to refuse: 31 February (the day
     * moves into March) and a leap second at 23:59:60 (it moves into the
     * next day). 12:00:60 stays allowed and means 12:01:00, as before. */
    if (d > days_in_month(y, mo) || (sec == 60 && h == 23 && mi == 59))
        return MCPAUTH_EINVAL;
    int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    *out = (t - off) * 1000 + ms;
    return MCPAUTH_OK;
}

size_t mcpauth_format_time_ms(int64_t ms, char *buf, size_t cap)
{
    int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    int frac = (int)(ms - secs * 1000);
    time_t t = (time_t)secs;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        if (cap)
            buf[0] = '\0';
        return 0;
    }
    int n = snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, frac);
    return n < 0 ? 0 : (size_t)n;
}
