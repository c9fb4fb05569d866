/* test_timefmt.c: RFC 3339 times as the key store and the audit log read
 * them (mcpauth_parse_time_ms), checked against the C library's own
 * calendar and against fixed values. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mcpauth/mcpauth.h"
#include "testutil.h"

static int64_t parse(const char *s)
{
    int64_t ms = -1;
    return mcpauth_parse_time_ms(s, &ms) == MCPAUTH_OK ? ms : INT64_MIN;
}

/* Every day from 1900 to 2400 at a time that moves with the day: the
 * parse gives what gmtime_r says the same instant is. */
static void test_every_day_against_gmtime(void)
{
    int wrong = 0;
    for (int64_t day = -25567; day <= 157000; day++) {
        time_t t = (time_t)(day * 86400 + (day % 86400 + 86400) % 86400);
        struct tm tm;
        gmtime_r(&t, &tm);
        char s[64];
        snprintf(s, sizeof(s), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (int)(day % 1000 + 1000) % 1000);
        wrong += parse(s) != (int64_t)t * 1000 + (day % 1000 + 1000) % 1000;
    }
    CU_ASSERT_EQUAL(wrong, 0);
}

static void test_fixed_values_and_offsets(void)
{
    CU_ASSERT_EQUAL(parse("1970-01-01T00:00:00Z"), 0);
    CU_ASSERT_EQUAL(parse("2000-02-29T12:34:56.789Z"), 951827696789);
    CU_ASSERT_EQUAL(parse("2000-02-29T14:34:56.789+02:00"), 951827696789);
    CU_ASSERT_EQUAL(parse("2000-02-29T10:04:56.789-02:30"), 951827696789);
    CU_ASSERT_EQUAL(parse("1969-12-31T23:59:59Z"), -1000);
    /* :60 outside the last minute of a day means the next minute */
    CU_ASSERT_EQUAL(parse("2026-03-01T12:00:60Z"), parse("2026-03-01T12:01:00Z"));
}

static void test_impossible_dates_refused(void)
{
    const char *bad[] = {
        "2027-02-29T00:00:00Z", "2100-02-29T00:00:00Z", "2026-02-30T00:00:00Z",
        "2026-04-31T00:00:00Z", "2026-12-31T23:59:60Z", "2026-13-01T00:00:00Z",
        "2026-00-10T00:00:00Z", "2026-01-00T00:00:00Z", "2026-01-01T24:00:00Z",
        "2026-01-01T00:60:00Z", "2026-01-01T00:00:61Z", "2026-1-01T00:00:00Z",
        "2026-01-01T00:00:00",  "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (parse(bad[i]) != INT64_MIN)
            fprintf(stderr, "accepted: '%s'\n", bad[i]);
        CU_ASSERT_EQUAL(parse(bad[i]), INT64_MIN);
    }
    CU_ASSERT_NOT_EQUAL(parse("2024-02-29T00:00:00Z"), INT64_MIN);
    CU_ASSERT_NOT_EQUAL(parse("2400-02-29T00:00:00Z"), INT64_MIN);
}

static int add(void)
{
    CU_pSuite s = CU_add_suite("timefmt", NULL, NULL);
    return !s || !CU_add_test(s, "every day 1900-2400 against gmtime_r",
                              test_every_day_against_gmtime) ||
           !CU_add_test(s, "fixed values and offsets", test_fixed_values_and_offsets) ||
           !CU_add_test(s, "impossible dates refused", test_impossible_dates_refused)
               ? -1 : 0;
}

int main(void) { return tu_main(add); }
