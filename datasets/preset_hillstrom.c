/* preset_hillstrom.c - Kevin Hillstrom's MineThatData e-mail challenge
 * (2008): 64,000 customers randomized to a men's e-mail, a women's e-mail or
 * no e-mail, with two weeks of outcomes.
 *
 * One campaign "hillstrom": arm 0 "No E-Mail" (control), 1 "Mens E-Mail",
 * 2 "Womens E-Mail"; outcomes visit, conversion, spend (columns of the same
 * names). Users are the row numbers 1..64000 (the file has no customer id).
 * User attributes from the covariates: numbers recency, history, mens,
 * womens, newbie (zeros left out, the sparse convention); categories
 * "history_segment=...", "zip_code=...", "channel=...".
 * Propensity is left unknown (NaN): the file does not carry it. The
 * publisher describes an equal three-way random split, so 1/3 is the design
 * value, but the arms came out 21,306 / 21,307 / 21,387; a user who wants
 * the design value sets it in the uplift config. No events, no items, no
 * assignment time. Expected: 64000 users; visit rates Mens 0.182757, Womens
 * 0.151400, No E-Mail 0.106167.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "presets.h"
#include "internal.h"

static const char *const arm_names[3] = { "No E-Mail", "Mens E-Mail", "Womens E-Mail" };
static const char *const outcome_names[3] = { "visit", "conversion", "spend" };
static const char *const num_cols[5] = { "recency", "history", "mens", "womens", "newbie" };
static const char *const cat_cols[3] = { "history_segment", "zip_code", "channel" };

upf_status upf_preset_hillstrom(upf_import *im, const char *const *inputs, size_t n, upf_err *err)
{
    upf_input_files files;
    upf_status st = upf_inputs_expand(inputs, n, &files, err);
    if (st) return st;
    upf_csv *r = NULL;
    upf_err rowerr;
    upf_err_clear(&rowerr);
    const char *path = NULL;
    for (size_t i = 0; i < files.n; i++) {
        const char *base = upf_path_base(files.path[i]);
        size_t bl = strlen(base);
        if (files.n > 1 && !(bl > 4 && strcmp(base + bl - 4, ".csv") == 0)) continue;
        if (path) {
            st = upf_err_set(err, UPF_ERR_ARG, "--preset hillstrom: expected one CSV, got %s and %s", path, files.path[i]);
            goto done;
        }
        path = files.path[i];
    }
    if (!path) {
        st = upf_err_set(err, UPF_ERR_ARG, "--preset hillstrom: no .csv file among the inputs");
        goto done;
    }
    upf_csv_opts o = upf_csv_opts_default();
    if ((st = upf_import_open_csv(path, &o, &r, err))) goto done;
    size_t cseg, cout[3], cnum[5], ccat[3], maxcol = 0;
    if ((st = upf_csv_column(r, "segment", &cseg, err))) goto done;
    maxcol = cseg + 1;
    for (int i = 0; i < 3; i++) {
        if ((st = upf_csv_column(r, outcome_names[i], &cout[i], err)) || (st = upf_csv_column(r, cat_cols[i], &ccat[i], err)))
            goto done;
        if (cout[i] + 1 > maxcol) maxcol = cout[i] + 1;
        if (ccat[i] + 1 > maxcol) maxcol = ccat[i] + 1;
    }
    for (int i = 0; i < 5; i++) {
        if ((st = upf_csv_column(r, num_cols[i], &cnum[i], err))) goto done;
        if (cnum[i] + 1 > maxcol) maxcol = cnum[i] + 1;
    }
    int camp = upf_builder_campaign(im->b, "hillstrom", arm_names, 3, outcome_names, 3);
    if (camp < 0) {
        st = upf_builder_status(im->b, err);
        if (!st) st = upf_err_set(err, UPF_ERR_NOMEM, "declaring the campaign failed");
        goto done;
    }
    uint64_t rowno = 0;
    int rc;
    while ((rc = upf_import_next_row(im, r, &st, err)) == 1) {
        size_t nf;
        const upf_csv_field *f = upf_csv_row(r, &nf);
        const char *reason = NULL;
        float outcome[3], num[5];
        int arm = -1;
        rowno++; /* the user id: position among the data rows, skipped rows included */
        if (nf < maxcol) {
            reason = "missing column";
            upf_row_short(r, nf, maxcol, "row", &rowerr);
        } else {
            for (int a = 0; a < 3; a++)
                if (strcmp(f[cseg].p, arm_names[a]) == 0) arm = a;
            if (arm < 0) {
                reason = "bad segment";
                upf_field_error(r, &f[cseg], "segment", "Mens E-Mail, Womens E-Mail or No E-Mail", &rowerr);
            }
        }
        for (int i = 0; i < 3 && !reason; i++)
            if (upf_field_f32(r, &f[cout[i]], outcome_names[i], &outcome[i], &rowerr)) reason = "bad outcome";
        for (int i = 0; i < 5 && !reason; i++)
            if (upf_field_f32(r, &f[cnum[i]], num_cols[i], &num[i], &rowerr)) reason = "bad covariate";
        for (int i = 0; i < 3 && !reason; i++)
            if (!upf_utf8_valid(f[ccat[i]].p, f[ccat[i]].len, NULL)) {
                reason = "bad covariate";
                upf_field_error(r, &f[ccat[i]], cat_cols[i], "UTF-8 text", &rowerr);
            }
        if (reason) {
            if ((st = upf_import_bad_row(im, reason, &rowerr))) goto fatal;
            continue;
        }
        char id[32];
        int idn = snprintf(id, sizeof id, "%llu", (unsigned long long)rowno);
        int32_t user;
        if ((st = upf_import_user_text(im, id, (size_t)idn, &user, err))) goto done;
        if ((st = upf_builder_campaign_row(im->b, camp, user, arm, NAN, UPF_TIME_MISSING, outcome))) {
            st = upf_import_builder_error(im, st, path, err);
            goto done;
        }
        im->st.campaign_rows++;
        for (int i = 0; i < 5; i++)
            if (num[i] != 0.0f && (st = upf_import_num_attr(im, 0, user, num_cols[i], num[i], err))) goto done;
        for (int i = 0; i < 3; i++)
            if (f[ccat[i]].len &&
                (st = upf_import_cat_attr(im, 0, user, cat_cols[i], f[ccat[i]].p, f[ccat[i]].len, err)))
                goto done;
    }
    if (rc == 0 && rowno == 0) st = upf_import_no_rows(r, err);
    goto done;
fatal:
    *err = rowerr;
done:
    upf_import_close_csv(im, r);
    upf_input_files_free(&files);
    return st;
}
