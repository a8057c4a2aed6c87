/* timeparse.c - timestamp formats to unix seconds with our own calendar
 * arithmetic (see timeparse.h). Parsers read fixed shapes left to right and
 * report the first offending byte; none of them allocates. */
#include "timeparse.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const format_names[UPF_TIME_FORMAT_COUNT] = {
    [UPF_TIME_AUTO] = "auto", [UPF_TIME_UNIX] = "unix", [UPF_TIME_UNIX_MS] = "unix_ms",
    [UPF_TIME_ISO] = "iso", [UPF_TIME_YYYYMMDD] = "yyyymmdd", [UPF_TIME_MDY] = "mdy",
    [UPF_TIME_DMONY] = "dd-mon-yyyy",
};

static const char *const format_expect[UPF_TIME_FORMAT_COUNT] = {
    [UPF_TIME_AUTO] = "a timestamp (unix seconds, ISO-8601, M/D/YYYY or DD-Mon-YYYY)",
    [UPF_TIME_UNIX] = "unix seconds",
    [UPF_TIME_UNIX_MS] = "unix milliseconds",
    [UPF_TIME_ISO] = "an ISO-8601 date (YYYY-MM-DD[ HH:MM[:SS]][Z|+HH:MM])",
    [UPF_TIME_YYYYMMDD] = "a date YYYYMMDD",
    [UPF_TIME_MDY] = "a date M/D/YYYY[ H:MM[:SS]]",
    [UPF_TIME_DMONY] = "a date DD-Mon-YYYY",
};

int upf_time_format_from_name(const char *name)
{
    for (int i = 0; i < UPF_TIME_FORMAT_COUNT; i++)
        if (strcmp(name, format_names[i]) == 0) return i;
    if (strcmp(name, "iso8601") == 0) return UPF_TIME_ISO;
    if (strcmp(name, "ms") == 0) return UPF_TIME_UNIX_MS;
    return -1;
}

const char *upf_time_format_name(upf_time_format f)
{
    return (unsigned)f < UPF_TIME_FORMAT_COUNT ? format_names[f] : "?";
}

const char *upf_time_format_expect(upf_time_format f)
{
    return (unsigned)f < UPF_TIME_FORMAT_COUNT ? format_expect[f] : "a timestamp";
}

/* ---- calendar ---- */

int64_t upf_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void upf_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned upf_days_in_month(int64_t y, unsigned m)
{
    static const unsigned dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (m < 1 || m > 12) return 0;
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* ---- scanning helpers ---- */

typedef struct scan {
    const char *s, *p, *e;
    upf_time_error *err;
} scan;

static int is_digit(char c) { return (unsigned)(c - '0') < 10u; }

static int fail(scan *sc, const char *at, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static int fail(scan *sc, const char *at, const char *fmt, ...)
{
    if (sc->err) {
        sc->err->offset = (size_t)(at - sc->s);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(sc->err->what, sizeof sc->err->what, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Exactly k digits (k fixed) or, with kmin < k, between kmin and k digits. */
static int digits(scan *sc, int kmin, int kmax, int *out, const char *name)
{
    int v = 0, k = 0;
    const char *start = sc->p;
    while (k < kmax && sc->p < sc->e && is_digit(*sc->p)) {
        v = v * 10 + (*sc->p - '0');
        sc->p++;
        k++;
    }
    if (k < kmin) {
        if (kmin == kmax) return fail(sc, start, "expected %d-digit %s", kmin, name);
        return fail(sc, start, "expected %d to %d digits of %s", kmin, kmax, name);
    }
    *out = v;
    return 0;
}

static int lit(scan *sc, char c, const char *after)
{
    if (sc->p < sc->e && *sc->p == c) {
        sc->p++;
        return 0;
    }
    if (sc->p == sc->e) return fail(sc, sc->p, "text ends after %s (expected '%c')", after, c);
    return fail(sc, sc->p, "expected '%c' after %s, got '%c'", c, after, *sc->p);
}

static int check_date(scan *sc, const char *at, int y, int m, int d)
{
    static const char *const months[12] = { "January", "February", "March", "April", "May", "June", "July",
                                            "August", "September", "October", "November", "December" };
    if (m < 1 || m > 12) return fail(sc, at, "month %d is not 1-12", m);
    unsigned dim = upf_days_in_month(y, (unsigned)m);
    if (d < 1 || (unsigned)d > dim) return fail(sc, at, "%s %04d has %u days, not day %d", months[m - 1], y, dim, d);
    return 0;
}

static int check_time(scan *sc, const char *at, int h, int mi, int s)
{
    if (h > 23) return fail(sc, at, "hour %d is not 0-23", h);
    if (mi > 59) return fail(sc, at, "minute %d is not 0-59", mi);
    if (s > 59) return fail(sc, at, "second %d is not 0-59", s);
    return 0;
}

static int64_t civil_seconds(int y, int m, int d, int h, int mi, int s)
{
    return upf_days_from_civil(y, (unsigned)m, (unsigned)d) * 86400 + h * 3600 + mi * 60 + s;
}

static int at_end(scan *sc)
{
    if (sc->p == sc->e) return 0;
    return fail(sc, sc->p, "unexpected '%c' after the timestamp", *sc->p);
}

/* ---- formats ---- */

/* [+-]digits[.digits], scaled by `unit` (1 or 1000) and floored to seconds. */
static int parse_unix(scan *sc, int64_t unit, int64_t *out)
{
    const char *p = sc->p;
    int neg = 0;
    if (p < sc->e && (*p == '+' || *p == '-')) neg = *p++ == '-';
    if (p == sc->e || !is_digit(*p)) return fail(sc, p, "expected digits");
    uint64_t v = 0;
    for (; p < sc->e && is_digit(*p); p++) {
        unsigned dg = (unsigned)(*p - '0');
        if (v > (UINT64_C(1) << 62) / 10) return fail(sc, sc->p, "number out of range");
        v = v * 10 + dg;
    }
    int frac_nonzero = 0;
    if (p < sc->e && *p == '.') {
        p++;
        if (p == sc->e || !is_digit(*p)) return fail(sc, p, "expected digits after '.'");
        for (; p < sc->e && is_digit(*p); p++) frac_nonzero |= *p != '0';
    }
    sc->p = p;
    if (at_end(sc)) return -1;
    int64_t x = neg ? -(int64_t)v : (int64_t)v;
    if (neg && frac_nonzero) x -= 1; /* floor of a negative value with a fraction */
    int64_t q = x / unit, r = x % unit;
    if (r < 0) q -= 1;
    *out = q;
    return 0;
}

/* Optional "Z", "+HH", "+HH:MM" or "+HHMM"; *off in seconds east of UTC. */
static int parse_offset(scan *sc, int *off)
{
    *off = 0;
    if (sc->p == sc->e) return 0;
    if (*sc->p == 'Z' || *sc->p == 'z') {
        sc->p++;
        return 0;
    }
    if (*sc->p != '+' && *sc->p != '-') return at_end(sc);
    const char *at = sc->p;
    int sign = *sc->p++ == '-' ? -1 : 1, h = 0, mi = 0;
    if (digits(sc, 2, 2, &h, "offset hours")) return -1;
    if (sc->p < sc->e && *sc->p == ':') {
        sc->p++;
        if (digits(sc, 2, 2, &mi, "offset minutes")) return -1;
    } else if (sc->p < sc->e && is_digit(*sc->p)) {
        if (digits(sc, 2, 2, &mi, "offset minutes")) return -1;
    }
    if (h > 23 || mi > 59) return fail(sc, at, "offset %.*s is out of range", (int)(sc->p - at), at);
    *off = sign * (h * 3600 + mi * 60);
    return 0;
}

/* "HH:MM[:SS[.frac]]" */
static int parse_hms(scan *sc, int hmin_digits, int *h, int *mi, int *s)
{
    const char *at = sc->p;
    *s = 0;
    if (digits(sc, hmin_digits, 2, h, "hour") || lit(sc, ':', "the hour") || digits(sc, 2, 2, mi, "minute"))
        return -1;
    if (sc->p < sc->e && *sc->p == ':') {
        sc->p++;
        if (digits(sc, 2, 2, s, "second")) return -1;
        if (sc->p < sc->e && (*sc->p == '.' || *sc->p == ',')) {
            sc->p++;
            if (sc->p == sc->e || !is_digit(*sc->p)) return fail(sc, sc->p, "expected digits of the fraction");
            while (sc->p < sc->e && is_digit(*sc->p)) sc->p++;
        }
    }
    return check_time(sc, at, *h, *mi, *s);
}

static int parse_iso(scan *sc, int64_t *out)
{
    int y = 0, m = 0, d = 0, h = 0, mi = 0, s = 0, off = 0;
    const char *at = sc->p;
    if (digits(sc, 4, 4, &y, "year") || lit(sc, '-', "the year") || digits(sc, 2, 2, &m, "month") ||
        lit(sc, '-', "the month") || digits(sc, 2, 2, &d, "day"))
        return -1;
    if (check_date(sc, at, y, m, d)) return -1;
    if (sc->p < sc->e && (*sc->p == 'T' || *sc->p == 't' || *sc->p == ' ')) {
        sc->p++;
        if (parse_hms(sc, 2, &h, &mi, &s) || parse_offset(sc, &off)) return -1;
    }
    if (at_end(sc)) return -1;
    *out = civil_seconds(y, m, d, h, mi, s) - off;
    return 0;
}

static int parse_yyyymmdd(scan *sc, int64_t *out)
{
    int y = 0, m = 0, d = 0;
    const char *at = sc->p;
    if (digits(sc, 4, 4, &y, "year") || digits(sc, 2, 2, &m, "month") || digits(sc, 2, 2, &d, "day")) return -1;
    if (at_end(sc) || check_date(sc, at, y, m, d)) return -1;
    *out = civil_seconds(y, m, d, 0, 0, 0);
    return 0;
}

static int parse_mdy(scan *sc, int64_t *out)
{
    int y = 0, m = 0, d = 0, h = 0, mi = 0, s = 0;
    const char *at = sc->p;
    if (digits(sc, 1, 2, &m, "month") || lit(sc, '/', "the month") || digits(sc, 1, 2, &d, "day") ||
        lit(sc, '/', "the day") || digits(sc, 4, 4, &y, "year"))
        return -1;
    if (check_date(sc, at, y, m, d)) return -1;
    if (sc->p < sc->e && *sc->p == ' ') {
        while (sc->p < sc->e && *sc->p == ' ') sc->p++;
        if (parse_hms(sc, 1, &h, &mi, &s)) return -1;
    }
    if (at_end(sc)) return -1;
    *out = civil_seconds(y, m, d, h, mi, s);
    return 0;
}

static int parse_dmony(scan *sc, int64_t *out)
{
    static const char mon[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    int y = 0, m = 0, d = 0;
    const char *at = sc->p;
    if (digits(sc, 1, 2, &d, "day") || lit(sc, '-', "the day")) return -1;
    if (sc->e - sc->p < 3) return fail(sc, sc->p, "expected a month name (Jan-Dec)");
    char lc[3];
    for (int i = 0; i < 3; i++) lc[i] = (char)(sc->p[i] | 0x20);
    for (int i = 0; i < 12; i++)
        if (memcmp(lc, mon + 3 * i, 3) == 0) m = i + 1;
    if (!m) return fail(sc, sc->p, "expected a month name (Jan-Dec), got '%.3s'", sc->p);
    sc->p += 3;
    if (lit(sc, '-', "the month") || digits(sc, 4, 4, &y, "year")) return -1;
    if (at_end(sc) || check_date(sc, at, y, m, d)) return -1;
    *out = civil_seconds(y, m, d, 0, 0, 0);
    return 0;
}

static upf_time_format detect(const char *p, const char *e)
{
    const char *q = p;
    if (q < e && (*q == '+' || *q == '-')) q++;
    while (q < e && is_digit(*q)) q++;
    if (q == e || *q == '.') return UPF_TIME_UNIX;
    if (*q == '/') return UPF_TIME_MDY;
    if (*q == '-' && q - p == 4) return UPF_TIME_ISO;
    if (*q == '-') return UPF_TIME_DMONY;
    return UPF_TIME_ISO; /* its messages are the most helpful for text */
}

int upf_time_parse(const char *s, size_t n, upf_time_format fmt, int64_t *out, upf_time_error *e)
{
    *out = 0;
    scan sc = { s, s, s + n, e };
    while (sc.p < sc.e && (*sc.p == ' ' || *sc.p == '\t')) sc.p++;
    while (sc.e > sc.p && (sc.e[-1] == ' ' || sc.e[-1] == '\t')) sc.e--;
    if (sc.p == sc.e) return fail(&sc, sc.p, "empty");
    if (fmt == UPF_TIME_AUTO) fmt = detect(sc.p, sc.e);
    int64_t t = 0;
    int rc;
    switch (fmt) {
    case UPF_TIME_UNIX: rc = parse_unix(&sc, 1, &t); break;
    case UPF_TIME_UNIX_MS: rc = parse_unix(&sc, 1000, &t); break;
    case UPF_TIME_ISO: rc = parse_iso(&sc, &t); break;
    case UPF_TIME_YYYYMMDD: rc = parse_yyyymmdd(&sc, &t); break;
    case UPF_TIME_MDY: rc = parse_mdy(&sc, &t); break;
    case UPF_TIME_DMONY: rc = parse_dmony(&sc, &t); break;
    default: rc = fail(&sc, sc.p, "unknown time format"); break;
    }
    if (rc) return -1;
    *out = t;
    return 0;
}
