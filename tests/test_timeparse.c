/* test_timeparse.c - timestamp parsing against golden conversions.
 *
 * Golden values were computed independently with Python's datetime:
 *   int(datetime(Y, M, D, h, m, s, tzinfo=timezone(timedelta(seconds=OFF))).timestamp())
 * (python3 3.11, the output is pasted below), and the calendar functions are
 * checked against a naive day-by-day walk over 1600-2400.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../datasets/timeparse.h"

typedef struct golden {
    const char *text;
    int fmt;
    int64_t want;
} golden;

static const golden goldens[] = {
    { "0", UPF_TIME_UNIX, 0 },
    { "881250949", UPF_TIME_UNIX, 881250949 },
    { " 881250949 ", UPF_TIME_UNIX, 881250949 },
    { "881250949.75", UPF_TIME_UNIX, 881250949 },
    { "-1.5", UPF_TIME_UNIX, -2 },          /* floor(-1.5) */
    { "-1", UPF_TIME_UNIX, -1 },
    { "1659304800025", UPF_TIME_UNIX_MS, 1659304800 },
    { "-1500", UPF_TIME_UNIX_MS, -2 },      /* -1500 // 1000 */
    { "1970-01-01", UPF_TIME_ISO, 0 },
    { "2011-12-09 12:50:00", UPF_TIME_ISO, 1323435000 },
    { "2011-12-09T12:50:00Z", UPF_TIME_ISO, 1323435000 },
    { "2010-12-01 08:26", UPF_TIME_ISO, 1291191960 },
    { "2000-02-29T23:59:59", UPF_TIME_ISO, 951868799 },
    { "1900-03-01", UPF_TIME_ISO, -2203891200 },
    { "1969-12-31T23:59:59", UPF_TIME_ISO, -1 },
    { "2019-11-24 00:00:17.967364+00:00", UPF_TIME_ISO, 1574553617 },
    { "2019-11-24T00:00:17+05:30", UPF_TIME_ISO, 1574533817 },
    { "2019-11-24T00:00:17.5+0530", UPF_TIME_ISO, 1574533817 },
    { "2019-11-24T00:00:17-08:00", UPF_TIME_ISO, 1574582417 },
    { "2019-11-24T00:00:17-08", UPF_TIME_ISO, 1574582417 },
    { "9999-12-31T23:59:59Z", UPF_TIME_ISO, 253402300799 },
    { "0001-01-01", UPF_TIME_ISO, -62135596800 },
    { "1600-02-29", UPF_TIME_ISO, -11670998400 },
    { "2024-02-29 12:00:00", UPF_TIME_ISO, 1709208000 },
    { "19970101", UPF_TIME_YYYYMMDD, 852076800 },
    { "19980630", UPF_TIME_YYYYMMDD, 899164800 },
    { "12/1/2010 8:26", UPF_TIME_MDY, 1291191960 },
    { "12/09/2011 12:50:00", UPF_TIME_MDY, 1323435000 },
    { "2/29/2000 23:59:59", UPF_TIME_MDY, 951868799 },
    { "1/1/1970", UPF_TIME_MDY, 0 },
    { "01-Jan-1995", UPF_TIME_DMONY, 788918400 },
    { "1-jan-1995", UPF_TIME_DMONY, 788918400 },
    /* auto picks the format from the shape */
    { "881250949", UPF_TIME_AUTO, 881250949 },
    { "2011-12-09 12:50:00", UPF_TIME_AUTO, 1323435000 },
    { "12/1/2010 8:26", UPF_TIME_AUTO, 1291191960 },
    { "01-Jan-1995", UPF_TIME_AUTO, 788918400 },
};

START_TEST(test_goldens)
{
    for (size_t i = 0; i < sizeof goldens / sizeof goldens[0]; i++) {
        int64_t t = 12345;
        upf_time_error e;
        memset(&e, 0, sizeof e);
        int rc = upf_time_parse(goldens[i].text, strlen(goldens[i].text), goldens[i].fmt, &t, &e);
        ck_assert_msg(rc == 0, "'%s' (%s): %s", goldens[i].text, upf_time_format_name(goldens[i].fmt), e.what);
        ck_assert_msg(t == goldens[i].want, "'%s': got %lld, want %lld", goldens[i].text, (long long)t,
                      (long long)goldens[i].want);
    }
}
END_TEST

typedef struct bad {
    const char *text;
    int fmt;
    const char *why;   /* substring of the reason */
    size_t offset;     /* where the reason points */
} bad;

static const bad bads[] = {
    { "2011-02-30", UPF_TIME_ISO, "February 2011 has 28 days", 0 },
    { "2012-02-30", UPF_TIME_ISO, "February 2012 has 29 days", 0 },
    { "1900-02-29", UPF_TIME_ISO, "February 1900 has 28 days", 0 },
    { "2011-13-01", UPF_TIME_ISO, "month 13", 0 },
    { "2011-04-31", UPF_TIME_ISO, "April 2011 has 30 days", 0 },
    { "2011-00-10", UPF_TIME_ISO, "month 0", 0 },
    { "2011-01-01 24:00", UPF_TIME_ISO, "hour 24", 11 },
    { "2011-01-01 12:60", UPF_TIME_ISO, "minute 60", 11 },
    { "2011-01-01 12:00:60", UPF_TIME_ISO, "second 60", 11 },
    { "2011-01-01 12", UPF_TIME_ISO, "expected ':'", 13 },
    { "2011-1-01", UPF_TIME_ISO, "2-digit month", 5 },
    { "2011-01-01x", UPF_TIME_ISO, "unexpected 'x'", 10 },
    { "2011-01-01T10:00+25:00", UPF_TIME_ISO, "out of range", 16 },
    { "", UPF_TIME_ISO, "empty", 0 },
    { "   ", UPF_TIME_UNIX, "empty", 3 },
    { "abc", UPF_TIME_UNIX, "expected digits", 0 },
    { "12x", UPF_TIME_UNIX, "unexpected 'x'", 2 },
    { "1.", UPF_TIME_UNIX, "after '.'", 2 },
    { "99999999999999999999", UPF_TIME_UNIX, "out of range", 0 },
    { "19970230", UPF_TIME_YYYYMMDD, "February 1997 has 28 days", 0 },
    { "1997010", UPF_TIME_YYYYMMDD, "2-digit day", 6 },
    { "199701011", UPF_TIME_YYYYMMDD, "unexpected '1'", 8 },
    { "2/30/2011 8:00", UPF_TIME_MDY, "February 2011 has 28 days", 0 },
    { "13/1/2011", UPF_TIME_MDY, "month 13", 0 },
    { "1/1/11", UPF_TIME_MDY, "4-digit year", 4 },
    { "32-Jan-1995", UPF_TIME_DMONY, "January 1995 has 31 days", 0 },
    { "01-Foo-1995", UPF_TIME_DMONY, "month name", 3 },
};

START_TEST(test_errors)
{
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
        int64_t t = 777;
        upf_time_error e;
        memset(&e, 0, sizeof e);
        int rc = upf_time_parse(bads[i].text, strlen(bads[i].text), bads[i].fmt, &t, &e);
        ck_assert_msg(rc == -1, "'%s' was accepted as %lld", bads[i].text, (long long)t);
        ck_assert_msg(t == 0, "output not zeroed on failure");
        ck_assert_msg(strstr(e.what, bads[i].why) != NULL, "'%s': reason '%s' lacks '%s'", bads[i].text, e.what,
                      bads[i].why);
        ck_assert_msg(e.offset == bads[i].offset, "'%s': offset %zu, want %zu", bads[i].text, e.offset,
                      bads[i].offset);
    }
}
END_TEST

/* The calendar against a naive walk: count days one by one from 1600-01-01. */
START_TEST(test_calendar_walk)
{
    int64_t z = upf_days_from_civil(1600, 1, 1);
    ck_assert_int_eq(z, -135140); /* (date(1600,1,1) - date(1970,1,1)).days in Python */
    long n_bad = 0;
    char first[96] = "";
    for (int64_t y = 1600; y <= 2400; y++) {
        int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        for (unsigned m = 1; m <= 12; m++) {
            static const unsigned dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
            unsigned n = dim[m - 1] + (m == 2 && leap);
            if (upf_days_in_month(y, m) != n) n_bad++;
            for (unsigned d = 1; d <= n; d++, z++) {
                int64_t yy;
                unsigned mm, dd;
                upf_civil_from_days(z, &yy, &mm, &dd);
                if (upf_days_from_civil(y, m, d) != z || yy != y || mm != m || dd != d) {
                    if (!n_bad) snprintf(first, sizeof first, "%04lld-%02u-%02u (day %lld)", (long long)y, m, d, (long long)z);
                    n_bad++;
                }
            }
        }
    }
    ck_assert_msg(n_bad == 0, "%ld calendar mismatches, first at %s", n_bad, first);
    ck_assert_int_eq(z, upf_days_from_civil(2401, 1, 1));
}
END_TEST

START_TEST(test_format_names)
{
    for (int f = 0; f < UPF_TIME_FORMAT_COUNT; f++)
        ck_assert_int_eq(upf_time_format_from_name(upf_time_format_name(f)), f);
    ck_assert_int_eq(upf_time_format_from_name("nope"), -1);
    ck_assert_int_eq(upf_time_format_from_name("iso8601"), UPF_TIME_ISO);
}
END_TEST

Suite *timeparse_suite(void)
{
    Suite *s = suite_create("timeparse");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_goldens);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_calendar_walk);
    tcase_add_test(tc, test_format_names);
    suite_add_tcase(s, tc);
    return s;
}
