/* preset_cdnow.c - the CDNOW transaction logs (Fader & Hardie): every
 * purchase of the 23,570 customers who first bought in Q1 1997, to mid 1998.
 *
 * Whitespace-separated, CRLF. The layout is detected from the first data
 * row: 4 columns is the master file (customer id, YYYYMMDD, number of CDs,
 * dollars), 5 the 1/10 sample (master id, sample id, YYYYMMDD, CDs,
 * dollars). A first line that does not start with a digit is a header and is
 * skipped. Users are the master customer ids as written ("00004"), so the
 * same customer has the same id in both files.
 * Every row is one PURCHASE event at 00:00 UTC of its day, value = dollars.
 * Same-day purchases are NOT merged here (the BG/NBD code merges them, as
 * Fader & Hardie do). The logs name no product; the schema needs an item per
 * purchase, so every event refers to the one item "cd". The number of CDs is
 * checked but not stored (schema v1 has one value per event).
 * Expected: master 23570 users and 69659 events; sample 2357 and 6919.
 */
#include <stdio.h>
#include <string.h>

#include "presets.h"

#define CDNOW_ITEM "cd"

upf_status upf_preset_cdnow(upf_import *im, const char *const *inputs, size_t n, upf_err *err)
{
    upf_input_files files;
    upf_status st = upf_inputs_expand(inputs, n, &files, err);
    if (st) return st;
    upf_csv *r = NULL;
    upf_err rowerr;
    upf_err_clear(&rowerr);
    if (files.n != 1) {
        st = upf_err_set(err, UPF_ERR_ARG,
                         "--preset cdnow: expected one file (CDNOW_master.txt or CDNOW_sample.txt), got %zu", files.n);
        goto done;
    }
    const char *path = files.path[0];
    upf_csv_opts o = upf_csv_opts_default();
    o.delim_kind = UPF_CSV_DELIM_WHITESPACE;
    o.quote = 0;
    o.header = 0;
    if ((st = upf_import_open_csv(path, &o, &r, err))) goto done;
    int32_t item;
    if ((st = upf_import_item_text(im, CDNOW_ITEM, strlen(CDNOW_ITEM), &item, err))) goto done;
    size_t layout = 0; /* 4 master, 5 sample */
    uint64_t rows = 0;
    int rc;
    while ((rc = upf_import_next_row(im, r, &st, err)) == 1) {
        size_t nf;
        const upf_csv_field *f = upf_csv_row(r, &nf);
        if (layout == 0) {
            if (f[0].len == 0 || f[0].p[0] < '0' || f[0].p[0] > '9') {
                im->st.rows--; /* the header line is not a data row */
                continue;
            }
            if (nf != 4 && nf != 5) {
                st = upf_err_set(err, UPF_ERR_FORMAT,
                                 "%s:%lld:1: expected 4 columns (master: id date cds dollars) or 5 (sample: id "
                                 "sample_id date cds dollars), got %zu",
                                 path, (long long)upf_csv_line(r), nf);
                goto done;
            }
            layout = nf;
            upf_log(UPF_LOG_INFO, "%s: CDNOW %s layout (%zu columns)", path, nf == 4 ? "master" : "sample", nf);
        }
        rows++;
        const char *reason = NULL;
        size_t d = layout - 3; /* date column */
        int64_t t, cds;
        float dollars;
        int32_t user;
        if (nf != layout) {
            reason = "wrong column count";
            upf_err_set(&rowerr, UPF_ERR_FORMAT, "%s:%lld:1: row: expected %zu columns like the first row, got %zu",
                        path, (long long)upf_csv_line(r), layout, nf);
        } else if (upf_field_time(r, &f[d], "date", UPF_TIME_YYYYMMDD, &t, &rowerr)) {
            reason = "bad date";
        } else if (upf_field_i64(r, &f[d + 1], "cds", &cds, &rowerr)) {
            reason = "bad cd count";
        } else if (cds < 0) {
            reason = "bad cd count";
            upf_field_error(r, &f[d + 1], "cds", "a number of CDs >= 0", &rowerr);
        } else if (upf_field_f32(r, &f[d + 2], "dollars", &dollars, &rowerr)) {
            reason = "bad dollars";
        } else if ((st = upf_field_user(im, r, &f[0], "customer", UPF_ID_INT, &user, &rowerr))) {
            if (st != UPF_ERR_FORMAT) goto fatal;
            reason = "bad customer id";
        }
        if (reason) {
            if ((st = upf_import_bad_row(im, reason, &rowerr))) goto fatal;
            continue;
        }
        if ((st = upf_import_event(im, user, item, t, UPF_EV_PURCHASE, dollars, -1, err))) goto done;
    }
    if (rc == 0 && rows == 0) st = upf_import_no_rows(r, err);
    goto done;
fatal:
    *err = rowerr;
done:
    upf_import_close_csv(im, r);
    upf_input_files_free(&files);
    return st;
}
