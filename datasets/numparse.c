/* numparse.c - integer and decimal parsing from slices: a strtod/strtoll
 * reference and an exact fast path (see numparse.h for the contract).
 *
 * The fast decimal path is Clinger's: a mantissa of at most 19 digits that
 * fits in 2^53 times or divided by an exactly representable power of ten
 * (10^0..10^22) is one correctly rounded IEEE operation, hence equal to
 * strtod's result. Everything else goes to strtod on a NUL-terminated copy.
 * W. D. Clinger, "How to read floating point numbers accurately", PLDI 1990.
 */
#include "numparse.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../model/base.h"

static int is_blank(char c) { return c == ' ' || c == '\t'; }
static int is_digit(char c) { return (unsigned)(c - '0') < 10u; }

static void trim(const char **s, size_t *n)
{
    const char *p = *s, *e = *s + *n;
    while (p < e && is_blank(*p)) p++;
    while (e > p && is_blank(e[-1])) e--;
    *s = p;
    *n = (size_t)(e - p);
}

/* ---- reference ---- */

/* Copies s[0..n) into a NUL-terminated buffer: buf when it fits, else heap. */
static char *cstr(const char *s, size_t n, char *buf, size_t cap)
{
    char *c = n < cap ? buf : upf_malloc(n + 1);
    if (!c) return NULL;
    memcpy(c, s, n);
    c[n] = '\0';
    return c;
}

upf_num_result upf_num_parse_i64_ref(const char *s, size_t n, int64_t *out)
{
    *out = 0;
    trim(&s, &n);
    size_t i = (n > 0 && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
    if (i == n) return UPF_NUM_SYNTAX;
    for (size_t k = i; k < n; k++)
        if (!is_digit(s[k])) return UPF_NUM_SYNTAX;
    char buf[64];
    char *c = cstr(s, n, buf, sizeof buf);
    if (!c) return UPF_NUM_RANGE;
    errno = 0;
    char *end;
    long long v = strtoll(c, &end, 10);
    int range = errno == ERANGE, full = *end == '\0';
    if (c != buf) upf_free(c);
    if (!full) return UPF_NUM_SYNTAX;
    if (range) return UPF_NUM_RANGE;
    *out = (int64_t)v;
    return UPF_NUM_OK;
}

upf_num_result upf_num_parse_f64_ref(const char *s, size_t n, double *out)
{
    *out = 0;
    trim(&s, &n);
    if (n == 0) return UPF_NUM_SYNTAX;
    /* strtod also reads hex, inf and nan: refuse those before asking it. */
    for (size_t k = 0; k < n; k++)
        if (!is_digit(s[k]) && !strchr("+-.eE", s[k])) return UPF_NUM_SYNTAX;
    char buf[128];
    char *c = cstr(s, n, buf, sizeof buf);
    if (!c) return UPF_NUM_RANGE;
    errno = 0;
    char *end;
    double v = strtod(c, &end);
    int full = *end == '\0';
    if (c != buf) upf_free(c);
    if (!full || end == c) return UPF_NUM_SYNTAX;
    if (!isfinite(v)) return UPF_NUM_RANGE;
    *out = v;
    return UPF_NUM_OK;
}

/* ---- fast path ---- */

upf_num_result upf_num_parse_i64(const char *s, size_t n, int64_t *out)
{
    *out = 0;
    trim(&s, &n);
    const char *p = s, *e = s + n;
    int neg = 0;
    if (p < e && (*p == '+' || *p == '-')) neg = *p++ == '-';
    if (p == e) return UPF_NUM_SYNTAX;
    uint64_t v = 0;
    int over = 0;
    for (; p < e; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (d > 9) return UPF_NUM_SYNTAX;
        if (v > (UINT64_MAX - d) / 10) over = 1;
        else v = v * 10 + d;
    }
    if (over) return UPF_NUM_RANGE;
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1) return UPF_NUM_RANGE;
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX) return UPF_NUM_RANGE;
        *out = (int64_t)v;
    }
    return UPF_NUM_OK;
}

static const double pow10_exact[23] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

#define TWO53 (UINT64_C(1) << 53)

upf_num_result upf_num_parse_f64(const char *s, size_t n, double *out)
{
    *out = 0;
    trim(&s, &n);
    const char *p = s, *e = s + n;
    int neg = 0;
    if (p < e && (*p == '+' || *p == '-')) neg = *p++ == '-';
    uint64_t m = 0;
    int nd = 0, any = 0, dropped = 0;
    int64_t e10 = 0;
    for (; p < e && is_digit(*p); p++) {
        unsigned d = (unsigned)(*p - '0');
        any = 1;
        if (m == 0 && d == 0) continue;
        if (nd < 19) {
            m = m * 10 + d;
            nd++;
        } else {
            e10++;
            dropped |= d != 0;
        }
    }
    if (p < e && *p == '.') {
        for (p++; p < e && is_digit(*p); p++) {
            unsigned d = (unsigned)(*p - '0');
            any = 1;
            if (m == 0 && d == 0) {
                e10--;
                continue;
            }
            if (nd < 19) {
                m = m * 10 + d;
                nd++;
                e10--;
            } else {
                dropped |= d != 0;
            }
        }
    }
    if (!any) return UPF_NUM_SYNTAX;
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0;
        if (p < e && (*p == '+' || *p == '-')) eneg = *p++ == '-';
        if (p == e || !is_digit(*p)) return UPF_NUM_SYNTAX;
        int64_t x = 0;
        for (; p < e && is_digit(*p); p++)
            if (x < 100000000) x = x * 10 + (*p - '0');
        e10 += eneg ? -x : x;
    }
    if (p != e) return UPF_NUM_SYNTAX;
    if (m == 0) {
        *out = neg ? -0.0 : 0.0;
        return UPF_NUM_OK;
    }
    if (!dropped && m <= TWO53) {
        double d;
        int exact = 1;
        if (e10 >= 0 && e10 <= 22) {
            d = (double)m * pow10_exact[e10];
        } else if (e10 < 0 && e10 >= -22) {
            d = (double)m / pow10_exact[-e10];
        } else if (e10 > 22 && e10 <= 22 + 15) {
            /* 1234e25 = 1234000e22: move zeros into the mantissa while it stays exact. */
            uint64_t mm = m;
            for (int64_t k = e10; k > 22 && exact; k--) {
                if (mm > TWO53 / 10) exact = 0;
                else mm *= 10;
            }
            d = (double)mm * 1e22;
        } else {
            exact = 0;
            d = 0;
        }
        if (exact) {
            *out = neg ? -d : d;
            return UPF_NUM_OK;
        }
    }
    /* Long mantissas and large exponents: the syntax is already checked,
     * strtod does the correctly rounded conversion. */
    return upf_num_parse_f64_ref(s, n, out);
}

int upf_num_canonical_u62(const char *s, size_t n, uint64_t *out)
{
    if (n == 0 || n > 18 || (s[0] == '0' && n > 1)) return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > 9) return 0;
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}
