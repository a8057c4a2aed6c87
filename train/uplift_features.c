/* uplift_features.c - campaign users' covariates: attribute columns and
 * lifetime history features at the send time (see uplift_features.h).
 */
#include "uplift_features.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifetime_features.h"

upf_uplift_feature_params upf_uplift_feature_params_default(void)
{
    upf_uplift_feature_params p;
    memset(&p, 0, sizeof p);
    p.user_attrs = 1;
    p.max_user_attrs = 64;
    p.history = 2;
    p.cutoff = UPF_TIME_MISSING;
    p.n_windows = 3;
    p.windows_days[0] = 7;
    p.windows_days[1] = 30;
    p.windows_days[2] = 90;
    return p;
}

void upf_uplift_features_free(upf_uplift_features *f)
{
    if (!f) return;
    for (size_t j = 0; f->names && j < f->d; j++) upf_free(f->names[j]);
    upf_free(f->names);
    upf_free(f->X);
    memset(f, 0, sizeof *f);
}

typedef struct attr_count {
    size_t count;
    int32_t index;
} attr_count;

static int cmp_count(const void *a, const void *b)
{
    const attr_count *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

upf_status upf_uplift_features_build(const upf_dataset *ds, const int32_t *users, size_t n,
                                     const upf_uplift_feature_params *p, upf_uplift_features *out, upf_err *err)
{
    memset(out, 0, sizeof *out);
    upf_status st = UPF_OK;
    const upf_attrs *A = &ds->user_attrs;
    size_t n_attrs = A->n_rows ? A->names.n : 0, n_sel = 0, d_hist = 0, d = 0, cells = 0;
    attr_count *cnt = NULL;
    int32_t *col_of = NULL, *hist_row = NULL;
    double *item_val = NULL; /* (n_item_fields, n_items) NaN where the item has no value */
    upf_lt_features lf;
    memset(&lf, 0, sizeof lf);
    for (size_t r = 0; r < n; r++)
        if (users[r] < 0 || (size_t)users[r] >= ds->n_users)
            return upf_err_set(err, UPF_ERR_ARG, "uplift features: row %zu: user %d outside 0..%zu", r, users[r],
                               ds->n_users);

    /* ---- attributes: the most common among the rows ---- */
    if (p->user_attrs && n_attrs > 0 && p->max_user_attrs > 0) {
        cnt = upf_calloc(n_attrs, sizeof *cnt);
        col_of = upf_malloc(n_attrs * sizeof *col_of);
        if (!cnt || !col_of) goto nomem;
        for (size_t a = 0; a < n_attrs; a++) cnt[a].index = (int32_t)a;
        for (size_t r = 0; r < n; r++) {
            size_t u = (size_t)users[r];
            if (u >= A->n_rows) continue;
            for (int64_t e = A->ptr[u]; e < A->ptr[u + 1]; e++) cnt[A->index[e]].count++;
        }
        qsort(cnt, n_attrs, sizeof *cnt, cmp_count);
        for (size_t a = 0; a < n_attrs; a++) col_of[a] = -1;
        for (size_t a = 0; a < n_attrs && n_sel < p->max_user_attrs && cnt[a].count > 0; a++)
            col_of[cnt[a].index] = (int32_t)n_sel++;
    }

    /* ---- history at the cutoff ---- */
    if (p->history != 0 && p->cutoff != UPF_TIME_MISSING && ds->n_events > 0) {
        upf_lt_feature_params fp = upf_lt_feature_params_default();
        fp.cutoff = p->cutoff;
        fp.n_windows = p->n_windows < UPF_LT_MAX_WINDOWS ? p->n_windows : UPF_LT_MAX_WINDOWS;
        for (size_t w = 0; w < fp.n_windows; w++) fp.windows_days[w] = p->windows_days[w];
        fp.user_attrs = 0;
        fp.all_users = 1;
        upf_err e2;
        upf_status s2 = upf_lt_features_build(ds, &fp, &lf, &e2);
        if (s2 == UPF_OK) {
            d_hist = lf.n_cols + 1; /* + has_history */
        } else if (s2 == UPF_ERR_DATA && p->history == 2) {
            upf_log(UPF_LOG_INFO, "uplift features: no event history before the send time (%s)", e2.msg);
        } else {
            *err = e2;
            upf_err_prefix(err, "uplift features (history)");
            st = s2;
            goto done;
        }
    } else if (p->history == 1) {
        st = upf_err_set(err, UPF_ERR_DATA, "uplift features: features.history is on but the %s",
                         ds->n_events == 0 ? "dataset has no events" : "campaign has no send time");
        goto done;
    }
    if (d_hist) {
        hist_row = upf_malloc(ds->n_users * sizeof *hist_row);
        if (!hist_row) goto nomem;
        for (size_t u = 0; u < ds->n_users; u++) hist_row[u] = -1;
        for (size_t r = 0; r < lf.n_rows; r++) hist_row[lf.user[r]] = (int32_t)r;
    }

    /* ---- numeric item attribute fields over the users' items before the cutoff ---- */
    size_t d_item = 0;
    if (p->n_item_fields && p->cutoff != UPF_TIME_MISSING && ds->n_events > 0 && ds->item_attrs.n_rows) {
        d_item = 2 * p->n_item_fields;
        if (!(item_val = upf_malloc(ds->n_items * p->n_item_fields * sizeof *item_val))) goto nomem;
        const upf_attrs *IA = &ds->item_attrs;
        for (size_t f = 0; f < p->n_item_fields; f++) {
            size_t L = strlen(p->item_fields[f]);
            double *v = item_val + f * ds->n_items;
            for (size_t i = 0; i < ds->n_items; i++) {
                v[i] = (double)NAN;
                if (i >= IA->n_rows) continue;
                for (int64_t e = IA->ptr[i]; e < IA->ptr[i + 1]; e++) {
                    const char *nm = upf_strings_get(&IA->names, (size_t)IA->index[e]);
                    if (strncmp(nm, p->item_fields[f], L) == 0 && nm[L] == '=') {
                        char *end = NULL;
                        double x = strtod(nm + L + 1, &end);
                        if (end && *end == '\0' && end != nm + L + 1) v[i] = x;
                    }
                }
            }
        }
    }
    d = n_sel + d_hist + d_item;
    if (upf_mul_size(n, d ? d : 1, &cells)) {
        st = upf_err_set(err, UPF_ERR_ARG, "uplift features: %zu rows x %zu columns overflow", n, d);
        goto done;
    }
    out->X = upf_calloc(cells, sizeof *out->X);
    out->names = upf_calloc(d ? d : 1, sizeof *out->names);
    if (!out->X || !out->names) goto nomem;
    out->n = n;
    out->d = d;
    for (size_t a = 0; a < n_attrs; a++)
        if (col_of && col_of[a] >= 0 && !(out->names[col_of[a]] = upf_strdup(upf_strings_get(&A->names, a)))) goto nomem;
    for (size_t j = 0; j + 1 < d_hist; j++)
        if (!(out->names[n_sel + j] = upf_strdup(lf.names[j]))) goto nomem;
    if (d_hist && !(out->names[n_sel + d_hist - 1] = upf_strdup("has_history"))) goto nomem;
    for (size_t f = 0; f < p->n_item_fields && d_item; f++)
        for (int k = 0; k < 2; k++) {
            char nm[300];
            snprintf(nm, sizeof nm, "%s_%s", p->item_fields[f], k ? "viewed" : "bought");
            if (!(out->names[n_sel + d_hist + 2 * f + (size_t)k] = upf_strdup(nm))) goto nomem;
        }
    for (size_t r = 0; r < n; r++) {
        size_t u = (size_t)users[r];
        float *x = out->X + r * d;
        if (col_of && u < A->n_rows)
            for (int64_t e = A->ptr[u]; e < A->ptr[u + 1]; e++)
                if (col_of[A->index[e]] >= 0) x[col_of[A->index[e]]] = A->value[e];
        if (d_hist && hist_row[u] >= 0) {
            memcpy(x + n_sel, lf.X + (size_t)hist_row[u] * lf.n_cols, lf.n_cols * sizeof *x);
            x[n_sel + d_hist - 1] = 1.0f;
        }
        for (size_t f = 0; f < p->n_item_fields && d_item; f++) {
            const double *v = item_val + f * ds->n_items;
            double s2[2] = {0, 0}, c2[2] = {0, 0};
            for (int64_t e = ds->user_ptr[u]; e < ds->user_ptr[u + 1] && ds->ev_time[e] < p->cutoff; e++) {
                int32_t it = ds->ev_item[e];
                int ty = ds->ev_type[e];
                if (it < 0 || isnan(v[it])) continue;
                int k = ty == UPF_EV_PURCHASE ? 0 : (ty == UPF_EV_VIEW || ty == UPF_EV_CART) ? 1 : -1;
                if (k < 0) continue;
                s2[k] += v[it];
                c2[k] += 1.0;
            }
            for (int k = 0; k < 2; k++) x[n_sel + d_hist + 2 * f + (size_t)k] = c2[k] > 0 ? (float)(s2[k] / c2[k]) : NAN;
        }
    }
    /* users without such items: the mean of those with one (a neutral value after centering) */
    for (size_t j = n_sel + d_hist; j < d; j++) {
        double sum = 0, have = 0;
        for (size_t r = 0; r < n; r++)
            if (!isnan(out->X[r * d + j])) {
                sum += (double)out->X[r * d + j];
                have += 1;
            }
        float fill = have > 0 ? (float)(sum / have) : 0.0f;
        for (size_t r = 0; r < n; r++)
            if (isnan(out->X[r * d + j])) out->X[r * d + j] = fill;
    }
    goto done;
nomem:
    st = upf_err_set(err, UPF_ERR_NOMEM, "uplift features: out of memory (%zu rows)", n);
done:
    if (st) upf_uplift_features_free(out);
    upf_free(cnt);
    upf_free(col_of);
    upf_free(hist_row);
    upf_free(item_val);
    upf_lt_features_free(&lf);
    return st;
}
