/* timeparse.h - timestamps in the shapes public event logs use, to unix
 * seconds (UTC), with our own civil-calendar arithmetic: no timegm, mktime,
 * TZ or locale, so the result never depends on the machine.
 *
 * Formats: unix seconds (optional fraction, floored), unix milliseconds
 * (floored to seconds), ISO-8601 (YYYY-MM-DD, optional 'T' or ' ' time
 * HH:MM[:SS[.fraction]], optional 'Z' / +-HH[:MM] / +-HHMM offset; the
 * fraction is floored), YYYYMMDD, M/D/YYYY [H:MM[:SS]] (US, as UCI's Online
 * Retail), and DD-Mon-YYYY (MovieLens 100K release dates). Times without an
 * offset are taken as UTC. Impossible dates (2011-02-30, 24:00) are errors.
 * Calendar: proleptic Gregorian, years 0000-9999.
 * Entry points: upf_time_parse, upf_time_format_from_name, upf_days_from_civil.
 */
#ifndef UPF_TIMEPARSE_H
#define UPF_TIMEPARSE_H

#include <stddef.h>
#include <stdint.h>

typedef enum upf_time_format {
    UPF_TIME_AUTO = 0,     /* by shape: digits -> unix, '-' -> iso, '/' -> mdy, letters -> dd-mon-yyyy */
    UPF_TIME_UNIX = 1,     /* 881250949, 881250949.25 */
    UPF_TIME_UNIX_MS = 2,  /* 1659304800025 */
    UPF_TIME_ISO = 3,      /* 2011-12-09 12:50:00, 2019-11-24T00:00:17.967364+00:00 */
    UPF_TIME_YYYYMMDD = 4, /* 19970101 */
    UPF_TIME_MDY = 5,      /* 12/1/2010 8:26 */
    UPF_TIME_DMONY = 6,    /* 01-Jan-1995 */
    UPF_TIME_FORMAT_COUNT
} upf_time_format;

/* Name as on the command line ("unix", "unix_ms", "iso", "yyyymmdd", "mdy",
 * "dd-mon-yyyy", "auto"); -1 when unknown. */
int upf_time_format_from_name(const char *name);
const char *upf_time_format_name(upf_time_format f);
/* What a value of the format looks like, for "expected ..." messages. */
const char *upf_time_format_expect(upf_time_format f);

/* Why a parse failed: byte offset into the text and a short reason
 * ("February 2011 has 28 days"). */
typedef struct upf_time_error {
    size_t offset;
    char what[96];
} upf_time_error;

/* Parses s[0..n) (surrounding blanks ignored). Returns 0 and *out = unix
 * seconds, or -1 with *out = 0 and e (may be NULL) filled. */
int upf_time_parse(const char *s, size_t n, upf_time_format fmt, int64_t *out, upf_time_error *e);

/* Days since 1970-01-01 of a proleptic Gregorian date (m 1-12, d 1-31; not
 * validated here). H. Hinnant, "chrono-compatible low-level date algorithms". */
int64_t upf_days_from_civil(int64_t y, unsigned m, unsigned d);
/* The inverse: date of a day count. */
void upf_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);
/* Days in month m of year y (Gregorian leap rule). */
unsigned upf_days_in_month(int64_t y, unsigned m);

#endif
