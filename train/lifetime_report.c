/* lifetime_report.c - text buffers for CSV artifacts, dates, and the shared
 * frequency-table metrics of the lifetime families (see lifetime_report.h). */
#include "lifetime_report.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void upf_sbuf_printf(upf_sbuf *b, const char *fmt, ...)
{
    if (b->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->n;
        int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? room : 0, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->failed = 1;
            return;
        }
        if (b->p && (size_t)k < room) {
            b->n += (size_t)k;
            return;
        }
        size_t cap = b->cap ? b->cap : 4096;
        while (cap - b->n <= (size_t)k) cap *= 2;
        char *p = upf_realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
}

void upf_sbuf_csv_field(upf_sbuf *b, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        upf_sbuf_printf(b, "%s", s);
        return;
    }
    upf_sbuf_printf(b, "\"");
    for (const char *c = s; *c; c++) upf_sbuf_printf(b, *c == '"' ? "\"\"" : "%c", *c);
    upf_sbuf_printf(b, "\"");
}

void upf_sbuf_free(upf_sbuf *b)
{
    upf_free(b->p);
    memset(b, 0, sizeof *b);
}

upf_status upf_sbuf_artifact(upf_run *run, const char *name, const upf_sbuf *b, upf_err *err)
{
    if (b->failed) return upf_err_set(err, UPF_ERR_NOMEM, "%s: out of memory", name);
    return upf_run_artifact(run, name, b->p ? b->p : "", b->n, err);
}

void upf_format_day(int64_t t, char *buf, size_t n)
{
    /* civil from days (Hinnant's algorithm), proleptic Gregorian, UTC */
    int64_t z = t / 86400 - (t % 86400 != 0 && t < 0) + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
    snprintf(buf, n, "%04lld-%02lld-%02lld", (long long)(y + (m <= 2)), (long long)m, (long long)d);
}

upf_status upf_record_frequency_table(upf_run *run, const char *prefix, const upf_freq_bucket *b, size_t n_buckets,
                                      double *weighted_mae)
{
    upf_status st = UPF_OK;
    double num = 0.0, den = 0.0;
    for (size_t k = 0; k < n_buckets && st == UPF_OK; k++) {
        char path[160];
        const char *plus = k + 1 == n_buckets ? "+" : "";
        snprintf(path, sizeof path, "%s.%zu%s.customers", prefix, k, plus);
        st = upf_run_metric(run, path, (double)b[k].n);
        snprintf(path, sizeof path, "%s.%zu%s.actual", prefix, k, plus);
        if (st == UPF_OK) st = upf_run_metric(run, path, b[k].n ? b[k].actual_mean : (double)NAN);
        snprintf(path, sizeof path, "%s.%zu%s.expected", prefix, k, plus);
        if (st == UPF_OK) st = upf_run_metric(run, path, b[k].n ? b[k].expected_mean : (double)NAN);
        num += (double)b[k].n * fabs(b[k].actual_mean - b[k].expected_mean);
        den += (double)b[k].n;
    }
    *weighted_mae = den > 0.0 ? num / den : 0.0;
    return st;
}
