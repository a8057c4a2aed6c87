/* test_numparse.c - the fast integer/decimal parsers against their strtoll /
 * strtod references: hand-picked edge cases, then random texts (well-formed
 * numbers of every length and exponent, round-trip printed doubles, and
 * near-miss junk). Results must agree bit for bit, including which texts are
 * refused and why. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../datasets/numparse.h"
#include "../model/rng.h"

static void same_f64(const char *s)
{
    double a = 1, b = 2;
    size_t n = strlen(s);
    upf_num_result ra = upf_num_parse_f64(s, n, &a), rb = upf_num_parse_f64_ref(s, n, &b);
    uint64_t ba, bb;
    memcpy(&ba, &a, 8);
    memcpy(&bb, &b, 8);
    if (ra != rb || ba != bb)
        ck_abort_msg("'%s': fast says %d (%.17g), reference says %d (%.17g)", s, ra, a, rb, b);
}

static void same_i64(const char *s)
{
    int64_t a = 1, b = 2;
    size_t n = strlen(s);
    upf_num_result ra = upf_num_parse_i64(s, n, &a), rb = upf_num_parse_i64_ref(s, n, &b);
    if (ra != rb || a != b)
        ck_abort_msg("'%s': fast says %d (%lld), reference says %d (%lld)", s, ra, (long long)a, rb, (long long)b);
}

START_TEST(test_known_values)
{
    double d;
    int64_t v;
    ck_assert_int_eq(upf_num_parse_f64("4.0", 3, &d), UPF_NUM_OK);
    ck_assert(d == 4.0);
    ck_assert_int_eq(upf_num_parse_f64(" 2.55 ", 6, &d), UPF_NUM_OK);
    ck_assert(d == 2.55);
    ck_assert_int_eq(upf_num_parse_f64("-0", 2, &d), UPF_NUM_OK);
    ck_assert(d == 0 && signbit(d));
    ck_assert_int_eq(upf_num_parse_f64("1e400", 5, &d), UPF_NUM_RANGE);
    ck_assert(d == 0);
    ck_assert_int_eq(upf_num_parse_f64("1e-400", 6, &d), UPF_NUM_OK);
    ck_assert(d == 0);
    ck_assert_int_eq(upf_num_parse_f64("inf", 3, &d), UPF_NUM_SYNTAX);
    ck_assert_int_eq(upf_num_parse_f64("nan", 3, &d), UPF_NUM_SYNTAX);
    ck_assert_int_eq(upf_num_parse_f64("0x10", 4, &d), UPF_NUM_SYNTAX);
    ck_assert_int_eq(upf_num_parse_f64("", 0, &d), UPF_NUM_SYNTAX);
    ck_assert_int_eq(upf_num_parse_f64("1,5", 3, &d), UPF_NUM_SYNTAX);
    /* the slice ends before the garbage: no NUL terminator is needed */
    ck_assert_int_eq(upf_num_parse_f64("12.5xyz", 4, &d), UPF_NUM_OK);
    ck_assert(d == 12.5);
    ck_assert_int_eq(upf_num_parse_i64("9223372036854775807", 19, &v), UPF_NUM_OK);
    ck_assert(v == INT64_MAX);
    ck_assert_int_eq(upf_num_parse_i64("-9223372036854775808", 20, &v), UPF_NUM_OK);
    ck_assert(v == INT64_MIN);
    ck_assert_int_eq(upf_num_parse_i64("9223372036854775808", 19, &v), UPF_NUM_RANGE);
    ck_assert(v == 0);
    ck_assert_int_eq(upf_num_parse_i64("99999999999999999999999", 23, &v), UPF_NUM_RANGE);
    ck_assert_int_eq(upf_num_parse_i64("12a", 3, &v), UPF_NUM_SYNTAX);
    ck_assert_int_eq(upf_num_parse_i64("1.0", 3, &v), UPF_NUM_SYNTAX);
    uint64_t u;
    ck_assert(upf_num_canonical_u62("17850", 5, &u) && u == 17850);
    ck_assert(!upf_num_canonical_u62("007", 3, &u));
    ck_assert(upf_num_canonical_u62("0", 1, &u) && u == 0);
    ck_assert(!upf_num_canonical_u62("+1", 2, &u));
    ck_assert(!upf_num_canonical_u62("", 0, &u));
}
END_TEST

static const char *const edge[] = {
    "0", "-0", "+0", "00000", "0.0", ".5", "5.", "+.5", "-.5e-3", ".", "-", "+", "e5", "1e", "1e+", "1e-",
    "1.2.3", "1..2", "--1", "+-1", "1 2", " 7 ", "\t7", "1e5 ", "1E5", "9007199254740992", "9007199254740993",
    "9007199254740993.0", "18446744073709551615", "18446744073709551616", "123456789012345678901234567890",
    "0.000000000000000000000000000001", "1e22", "1e23", "1e308", "1.7976931348623157e308", "1.7976931348623159e308",
    "4.9e-324", "2.4703282292062327e-324", "2.4703282292062328e-324", "0.1", "0.3", "2.55", "1234e25", "1234e37",
    "12345678901234567890", "1234567890123456789", "0.12345678901234567890123", "100000000000000000000000e-10",
    "9223372036854775807", "-9223372036854775808", "-9223372036854775809", "1e99999999999999999999",
    "1e-99999999999999999999", "0e99999999999999999999", "17850.0", "881250949",
};

START_TEST(test_edge_cases)
{
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++) {
        same_f64(edge[i]);
        same_i64(edge[i]);
    }
}
END_TEST

static void random_number(upf_rng *r, char *buf, size_t cap)
{
    size_t k = 0;
    uint32_t shape = upf_rng_below(r, 10);
    if (shape == 0) { /* a random double printed with 17 digits, or fewer */
        double x;
        uint64_t bits = upf_rng_next(r);
        memcpy(&x, &bits, 8);
        if (!isfinite(x)) x = 1.5;
        snprintf(buf, cap, "%.*g", 1 + (int)upf_rng_below(r, 17), x);
        return;
    }
    if (upf_rng_below(r, 4) == 0) buf[k++] = upf_rng_below(r, 2) ? '-' : '+';
    size_t nint = upf_rng_below(r, shape < 5 ? 8 : 26);
    for (size_t i = 0; i < nint && k < cap - 40; i++) buf[k++] = (char)('0' + upf_rng_below(r, 10));
    if (upf_rng_below(r, 2)) {
        buf[k++] = '.';
        size_t nf = upf_rng_below(r, shape < 5 ? 6 : 30);
        for (size_t i = 0; i < nf && k < cap - 20; i++) buf[k++] = (char)('0' + upf_rng_below(r, 10));
    }
    if (upf_rng_below(r, 4) == 0) {
        buf[k++] = upf_rng_below(r, 2) ? 'e' : 'E';
        uint32_t sgn = upf_rng_below(r, 3);
        if (sgn) buf[k++] = sgn == 1 ? '-' : '+';
        size_t ne = upf_rng_below(r, 5);
        for (size_t i = 0; i < ne; i++) buf[k++] = (char)('0' + upf_rng_below(r, 10));
    }
    if (upf_rng_below(r, 20) == 0) { /* junk somewhere */
        static const char junk[] = "x.e+- ,\t";
        size_t at = k ? upf_rng_below(r, (uint32_t)k + 1) : 0;
        memmove(buf + at + 1, buf + at, k - at);
        buf[at] = junk[upf_rng_below(r, sizeof junk - 1)];
        k++;
    }
    buf[k] = '\0';
}

START_TEST(test_random_against_reference)
{
    upf_rng r;
    upf_rng_seed(&r, 42, 0);
    char buf[128];
    for (int i = 0; i < 300000; i++) {
        random_number(&r, buf, sizeof buf);
        same_f64(buf);
        same_i64(buf);
    }
}
END_TEST

Suite *numparse_suite(void)
{
    Suite *s = suite_create("numparse");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120); /* the random comparison under the sanitizers */
    tcase_add_test(tc, test_known_values);
    tcase_add_test(tc, test_edge_cases);
    tcase_add_test(tc, test_random_against_reference);
    suite_add_tcase(s, tc);
    return s;
}
