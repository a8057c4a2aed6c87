/* survival_metrics.c - C-index (Fenwick tree and O(n^2) reference), Kaplan-
 * Meier, IPCW Brier score, calibration groups, churn AUC (rank sum and
 * pairwise reference), median-time error and the BTYD frequency table. The
 * definitions are in survival_metrics.h.
 */
#include "survival_metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- sorting helpers (qsort with a context through a static-free key) ---- */

typedef struct keyed {
    double key;
    size_t idx;
} keyed;

static int cmp_keyed(const void *pa, const void *pb)
{
    const keyed *a = pa, *b = pb;
    if (a->key != b->key) return a->key < b->key ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static keyed *sorted_by(const double *v, size_t n, int descending)
{
    keyed *k = upf_malloc((n ? n : 1) * sizeof *k);
    if (!k) return NULL;
    for (size_t i = 0; i < n; i++) {
        k[i].key = descending ? -v[i] : v[i];
        k[i].idx = i;
    }
    qsort(k, n, sizeof *k, cmp_keyed);
    return k;
}

static upf_status check_inputs(const double *time, const double *pred, size_t n, const char *what, upf_err *err)
{
    for (size_t i = 0; i < n; i++)
        if (isnan(time[i]) || isnan(pred[i]))
            return upf_err_set(err, UPF_ERR_ARG, "%s: row %zu: NaN %s", what, i, isnan(time[i]) ? "time" : "prediction");
    return UPF_OK;
}

/* ---- C-index ---- */

upf_status upf_surv_cindex_ref(const double *time, const uint8_t *event, const double *score, size_t n,
                               upf_cindex *out, upf_err *err)
{
    memset(out, 0, sizeof *out);
    upf_status st = check_inputs(time, score, n, "c-index", err);
    if (st != UPF_OK) return st;
    double conc = 0.0, tied = 0.0, comp = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!event[i]) continue;
        for (size_t j = 0; j < n; j++) {
            if (j == i) continue;
            int ok = time[i] < time[j] || (time[i] == time[j] && !event[j]);
            if (!ok) continue;
            comp += 1.0;
            if (score[i] < score[j]) conc += 1.0;
            else if (score[i] == score[j]) tied += 1.0;
        }
    }
    if (comp == 0.0) return upf_err_set(err, UPF_ERR_DATA, "c-index: no comparable pair (%zu rows)", n);
    out->value = (conc + 0.5 * tied) / comp;
    out->concordant = conc;
    out->tied = tied;
    out->comparable = comp;
    return UPF_OK;
}

/* Fenwick tree over score ranks 1..m: counts of inserted rows. */
static void fw_add(uint64_t *t, size_t m, size_t r)
{
    for (; r <= m; r += r & (~r + 1)) t[r]++;
}

static uint64_t fw_sum(const uint64_t *t, size_t r)
{
    uint64_t s = 0;
    for (; r > 0; r -= r & (~r + 1)) s += t[r];
    return s;
}

upf_status upf_surv_cindex(const double *time, const uint8_t *event, const double *score, size_t n, upf_cindex *out,
                           upf_err *err)
{
    upf_status st = UPF_OK;
    keyed *bys = NULL, *byt = NULL;
    size_t *rank = NULL;
    uint64_t *fw = NULL;
    memset(out, 0, sizeof *out);
    if ((st = check_inputs(time, score, n, "c-index", err)) != UPF_OK) return st;
    bys = sorted_by(score, n, 0);
    byt = sorted_by(time, n, 1);
    rank = upf_malloc((n ? n : 1) * sizeof *rank);
    fw = upf_calloc(n + 1, sizeof *fw);
    if (!bys || !byt || !rank || !fw) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "c-index: out of memory for %zu rows", n);
        goto done;
    }
    size_t m = 0;
    for (size_t k = 0; k < n; k++) {
        if (k == 0 || bys[k].key != bys[k - 1].key) m++;
        rank[bys[k].idx] = m;
    }
    uint64_t conc = 0, tied = 0, comp = 0, inserted = 0;
    for (size_t g0 = 0; g0 < n;) {
        size_t g1 = g0;
        while (g1 < n && byt[g1].key == byt[g0].key) g1++;
        /* censored rows at this time are outlasting the events at this time */
        for (size_t k = g0; k < g1; k++)
            if (!event[byt[k].idx]) {
                fw_add(fw, m, rank[byt[k].idx]);
                inserted++;
            }
        for (size_t k = g0; k < g1; k++) {
            size_t i = byt[k].idx;
            if (!event[i]) continue;
            uint64_t le = fw_sum(fw, rank[i]), lt = fw_sum(fw, rank[i] - 1);
            conc += inserted - le;
            tied += le - lt;
            comp += inserted;
        }
        for (size_t k = g0; k < g1; k++)
            if (event[byt[k].idx]) {
                fw_add(fw, m, rank[byt[k].idx]);
                inserted++;
            }
        g0 = g1;
    }
    if (comp == 0) {
        st = upf_err_set(err, UPF_ERR_DATA, "c-index: no comparable pair (%zu rows)", n);
        goto done;
    }
    out->concordant = (double)conc;
    out->tied = (double)tied;
    out->comparable = (double)comp;
    out->value = ((double)conc + 0.5 * (double)tied) / (double)comp;
done:
    upf_free(bys);
    upf_free(byt);
    upf_free(rank);
    upf_free(fw);
    return st;
}

/* ---- Kaplan-Meier ---- */

void upf_km_free(upf_km *km)
{
    if (!km) return;
    upf_free(km->time);
    upf_free(km->surv);
    memset(km, 0, sizeof *km);
}

upf_status upf_km_build(const double *time, const uint8_t *event, size_t n, int censoring_as_event, upf_km *out,
                        upf_err *err)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n; i++)
        if (isnan(time[i])) return upf_err_set(err, UPF_ERR_ARG, "kaplan-meier: row %zu: NaN time", i);
    keyed *k = sorted_by(time, n, 0);
    out->time = upf_malloc((n ? n : 1) * sizeof *out->time);
    out->surv = upf_malloc((n ? n : 1) * sizeof *out->surv);
    if (!k || !out->time || !out->surv) {
        upf_free(k);
        upf_km_free(out);
        return upf_err_set(err, UPF_ERR_NOMEM, "kaplan-meier: out of memory for %zu rows", n);
    }
    double s = 1.0;
    for (size_t g0 = 0; g0 < n;) {
        size_t g1 = g0, n_ev = 0;
        while (g1 < n && k[g1].key == k[g0].key) {
            n_ev += event[k[g1].idx] != 0;
            g1++;
        }
        size_t at_risk = n - g0, d = censoring_as_event ? (g1 - g0) - n_ev : n_ev;
        /* events come first at a tie: they leave the censoring risk set */
        if (censoring_as_event) at_risk -= n_ev;
        if (d > 0 && at_risk > 0) {
            s *= 1.0 - (double)d / (double)at_risk;
            out->time[out->n] = k[g0].key;
            out->surv[out->n] = s;
            out->n++;
        }
        g0 = g1;
    }
    upf_free(k);
    return UPF_OK;
}

double upf_km_eval(const upf_km *km, double t, int left)
{
    /* the last jump at or before t (strictly before for the left limit) */
    size_t lo = 0, hi = km->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (left ? km->time[mid] < t : km->time[mid] <= t) lo = mid + 1;
        else hi = mid;
    }
    return lo == 0 ? 1.0 : km->surv[lo - 1];
}

/* ---- Brier score ---- */

upf_status upf_surv_brier(const double *time, const uint8_t *event, const double *surv_h, size_t n, double horizon,
                          double *out, upf_err *err)
{
    *out = 0.0;
    upf_status st = check_inputs(time, surv_h, n, "brier", err);
    if (st != UPF_OK) return st;
    if (n == 0) return upf_err_set(err, UPF_ERR_DATA, "brier: no rows");
    upf_km g;
    if ((st = upf_km_build(time, event, n, 1, &g, err)) != UPF_OK) return st;
    double gh = upf_km_eval(&g, horizon, 0), sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        double s = surv_h[i];
        if (time[i] <= horizon && event[i]) {
            double w = upf_km_eval(&g, time[i], 1);
            if (!(w > 0.0)) {
                st = upf_err_set(err, UPF_ERR_DATA, "brier: censoring survival is 0 before row %zu's time %g", i,
                                 time[i]);
                break;
            }
            sum += s * s / w;
        } else if (time[i] > horizon) {
            if (!(gh > 0.0)) {
                st = upf_err_set(err, UPF_ERR_DATA, "brier: censoring survival is 0 at the horizon %g", horizon);
                break;
            }
            sum += (1.0 - s) * (1.0 - s) / gh;
        }
    }
    upf_km_free(&g);
    if (st == UPF_OK) *out = sum / (double)n;
    return st;
}

/* ---- calibration ---- */

upf_status upf_surv_calibration(const double *time, const uint8_t *event, const double *surv_h, size_t n,
                                double horizon, size_t n_groups, upf_calib_group *groups, double *ece, upf_err *err)
{
    upf_status st = UPF_OK;
    keyed *k = NULL;
    double *gt = NULL;
    uint8_t *ge = NULL;
    *ece = 0.0;
    memset(groups, 0, n_groups * sizeof *groups);
    if ((st = check_inputs(time, surv_h, n, "calibration", err)) != UPF_OK) return st;
    if (n_groups == 0 || n < n_groups)
        return upf_err_set(err, UPF_ERR_DATA, "calibration: %zu rows cannot fill %zu groups", n, n_groups);
    k = sorted_by(surv_h, n, 1); /* descending survival = ascending risk */
    gt = upf_malloc(n * sizeof *gt);
    ge = upf_malloc(n * sizeof *ge);
    if (!k || !gt || !ge) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "calibration: out of memory for %zu rows", n);
        goto done;
    }
    for (size_t g = 0; g < n_groups; g++) {
        size_t a = g * n / n_groups, b = (g + 1) * n / n_groups;
        double pred = 0.0;
        for (size_t r = a; r < b; r++) {
            size_t i = k[r].idx;
            pred += 1.0 - surv_h[i];
            gt[r - a] = time[i];
            ge[r - a] = event[i];
        }
        upf_km km;
        if ((st = upf_km_build(gt, ge, b - a, 0, &km, err)) != UPF_OK) goto done;
        groups[g].n = b - a;
        groups[g].predicted = pred / (double)(b - a);
        groups[g].observed = 1.0 - upf_km_eval(&km, horizon, 0);
        upf_km_free(&km);
        *ece += (double)(b - a) / (double)n * fabs(groups[g].predicted - groups[g].observed);
    }
done:
    if (st != UPF_OK) {
        *ece = 0.0;
        memset(groups, 0, n_groups * sizeof *groups);
    }
    upf_free(k);
    upf_free(gt);
    upf_free(ge);
    return st;
}

/* ---- churn AUC ---- */

upf_status upf_surv_churn_auc_ref(const double *time, const uint8_t *event, const double *surv_h, size_t n,
                                  double horizon, double *auc, upf_err *err)
{
    *auc = 0.0;
    upf_status st = check_inputs(time, surv_h, n, "churn auc", err);
    if (st != UPF_OK) return st;
    double wins = 0.0, pairs = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!(time[i] > horizon)) continue;
        for (size_t j = 0; j < n; j++) {
            if (!(time[j] <= horizon && event[j])) continue;
            pairs += 1.0;
            wins += surv_h[i] > surv_h[j] ? 1.0 : surv_h[i] == surv_h[j] ? 0.5 : 0.0;
        }
    }
    if (pairs == 0.0) return upf_err_set(err, UPF_ERR_DATA, "churn auc: needs both churners and buyers");
    *auc = wins / pairs;
    return UPF_OK;
}

upf_status upf_surv_churn_auc(const double *time, const uint8_t *event, const double *surv_h, size_t n,
                              double horizon, double *auc, size_t *n_pos, size_t *n_neg, upf_err *err)
{
    *auc = 0.0;
    *n_pos = *n_neg = 0;
    upf_status st = check_inputs(time, surv_h, n, "churn auc", err);
    if (st != UPF_OK) return st;
    keyed *k = upf_malloc((n ? n : 1) * sizeof *k);
    if (!k) return upf_err_set(err, UPF_ERR_NOMEM, "churn auc: out of memory for %zu rows", n);
    size_t m = 0, np = 0, nn = 0;
    for (size_t i = 0; i < n; i++) {
        int pos = time[i] > horizon, neg = time[i] <= horizon && event[i];
        if (!pos && !neg) continue;
        k[m].key = surv_h[i];
        k[m].idx = pos; /* the label rides in idx; ties are ranked together below */
        np += (size_t)pos;
        nn += (size_t)neg;
        m++;
    }
    if (np == 0 || nn == 0) {
        upf_free(k);
        return upf_err_set(err, UPF_ERR_DATA, "churn auc: needs both churners and buyers (%zu and %zu)", np, nn);
    }
    qsort(k, m, sizeof *k, cmp_keyed);
    double rank_sum = 0.0;
    for (size_t g0 = 0; g0 < m;) {
        size_t g1 = g0, pos = 0;
        while (g1 < m && k[g1].key == k[g0].key) pos += k[g1++].idx;
        double avg = 0.5 * ((double)g0 + 1.0 + (double)g1); /* average of ranks g0+1 .. g1 */
        rank_sum += avg * (double)pos;
        g0 = g1;
    }
    upf_free(k);
    double u = rank_sum - 0.5 * (double)np * ((double)np + 1.0);
    *auc = u / ((double)np * (double)nn);
    *n_pos = np;
    *n_neg = nn;
    return UPF_OK;
}

/* ---- median error ---- */

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return a < b ? -1 : a > b;
}

upf_status upf_surv_median_error(const double *time, const uint8_t *event, const double *pred_median, size_t n,
                                 upf_median_error *out, upf_err *err)
{
    memset(out, 0, sizeof *out);
    upf_status st = check_inputs(time, pred_median, n, "median error", err);
    if (st != UPF_OK) return st;
    double *e = upf_malloc((n ? n : 1) * sizeof *e);
    if (!e) return upf_err_set(err, UPF_ERR_NOMEM, "median error: out of memory for %zu rows", n);
    size_t m = 0;
    double sum_abs = 0.0, sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!event[i]) continue;
        double d = pred_median[i] - time[i];
        e[m++] = fabs(d);
        sum_abs += fabs(d);
        sum += d;
    }
    if (m == 0) {
        upf_free(e);
        return upf_err_set(err, UPF_ERR_DATA, "median error: no row has an observed event");
    }
    qsort(e, m, sizeof *e, cmp_double);
    out->n = m;
    out->mae = sum_abs / (double)m;
    out->bias = sum / (double)m;
    out->median_ae = m % 2 ? e[m / 2] : 0.5 * (e[m / 2 - 1] + e[m / 2]);
    upf_free(e);
    return UPF_OK;
}

/* ---- BTYD frequency table ---- */

void upf_surv_frequency_table(const double *x, const double *actual, const double *expected, size_t n,
                              size_t n_buckets, upf_freq_bucket *out)
{
    if (n_buckets == 0) return;
    memset(out, 0, n_buckets * sizeof *out);
    for (size_t i = 0; i < n; i++) {
        size_t k = x[i] >= (double)(n_buckets - 1) ? n_buckets - 1 : x[i] > 0.0 ? (size_t)x[i] : 0;
        out[k].n++;
        out[k].actual_mean += actual[i];
        out[k].expected_mean += expected[i];
    }
    for (size_t k = 0; k < n_buckets; k++)
        if (out[k].n) {
            out[k].actual_mean /= (double)out[k].n;
            out[k].expected_mean /= (double)out[k].n;
        }
}

/* ---- buy-again lists ---- */

upf_status upf_surv_list_metrics(const int32_t *group, const double *score, const uint8_t *relevant, size_t n,
                                 size_t k, upf_list_metrics *out, upf_err *err)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n; i++)
        if (isnan(score[i])) return upf_err_set(err, UPF_ERR_ARG, "list metrics: row %zu: NaN score", i);
    if (k == 0) return upf_err_set(err, UPF_ERR_ARG, "list metrics: k must be >= 1");
    keyed *rk = upf_malloc((n ? n : 1) * sizeof *rk);
    if (!rk) return upf_err_set(err, UPF_ERR_NOMEM, "list metrics: out of memory for %zu rows", n);
    double hit = 0.0, rec = 0.0, prec = 0.0, ndcg = 0.0;
    size_t groups = 0;
    for (size_t g0 = 0; g0 < n;) {
        size_t g1 = g0, n_rel = 0;
        while (g1 < n && group[g1] == group[g0]) n_rel += relevant[g1++] != 0;
        if (n_rel > 0) {
            size_t m = g1 - g0;
            for (size_t i = 0; i < m; i++) {
                rk[i].key = -score[g0 + i]; /* descending score, ties by row */
                rk[i].idx = g0 + i;
            }
            qsort(rk, m, sizeof *rk, cmp_keyed);
            size_t top = m < k ? m : k, h = 0;
            double dcg = 0.0, idcg = 0.0;
            for (size_t r = 0; r < top; r++)
                if (relevant[rk[r].idx]) {
                    h++;
                    dcg += 1.0 / log2((double)r + 2.0);
                }
            for (size_t r = 0; r < (n_rel < k ? n_rel : k); r++) idcg += 1.0 / log2((double)r + 2.0);
            hit += h > 0;
            rec += (double)h / (double)n_rel;
            prec += (double)h / (double)top;
            ndcg += dcg / idcg;
            groups++;
        }
        g0 = g1;
    }
    upf_free(rk);
    if (groups == 0) return upf_err_set(err, UPF_ERR_DATA, "list metrics: no group has a relevant row");
    out->n_groups = groups;
    out->hit_rate = hit / (double)groups;
    out->recall = rec / (double)groups;
    out->precision = prec / (double)groups;
    out->ndcg = ndcg / (double)groups;
    return UPF_OK;
}
