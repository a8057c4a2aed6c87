/* lifetime_report.h - small helpers the lifetime families share to write
 * their run artifacts (CSV tables built in memory, then written atomically
 * through upf_run_artifact) and to record the metric tables they share.
 * Internal to train/ (not a public header of the library).
 */
#ifndef UPF_LIFETIME_REPORT_H
#define UPF_LIFETIME_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "../eval/survival_metrics.h"
#include "../model/base.h"
#include "family.h"

/* A growable text buffer; a failed allocation sticks (failed = 1) and later
 * appends are ignored, so callers check once at the end. */
typedef struct upf_sbuf {
    char *p;       /* NUL-terminated text (owned) */
    size_t n, cap;
    int failed;
} upf_sbuf;

void upf_sbuf_printf(upf_sbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Appends s as one CSV field: quoted (with doubled quotes) when it holds a
 * comma, quote or line break. */
void upf_sbuf_csv_field(upf_sbuf *b, const char *s);
void upf_sbuf_free(upf_sbuf *b);

/* Writes the buffer as run artifact `name`; UPF_ERR_NOMEM when it failed. */
upf_status upf_sbuf_artifact(upf_run *run, const char *name, const upf_sbuf *b, upf_err *err);

/* "YYYY-MM-DD" (UTC) of a unix time; buf holds >= 16 bytes. */
void upf_format_day(int64_t t, char *buf, size_t n);

/* Records a frequency table under prefix: prefix.<k>.{customers,actual,expected}
 * (the last bucket's key is "<k>+"), and returns the mean absolute
 * difference between actual and expected weighted by customers. */
upf_status upf_record_frequency_table(upf_run *run, const char *prefix, const upf_freq_bucket *b, size_t n_buckets,
                                      double *weighted_mae);

#endif
