/* uplift_metrics.c - Qini / uplift curves and the figures derived from them,
 * bins, balance and bootstrap helpers (definitions in uplift_metrics.h).
 *
 * The fast path sorts the rows once for the model's score and once for each
 * oracle score, marks the ends of tie groups, and then evaluates any
 * weighting (the bootstrap's multiplicities) in one O(n) sweep per curve.
 * The reference (upf_uplift_metrics_ref) recomputes every point by summing
 * over all rows at each distinct threshold and shares no code with the
 * sweep. Legend: n rows, G tie groups.
 */
#include "uplift_metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- argument checks and sorting ---- */

static upf_status check_rows(const double *score, const double *y, const uint8_t *t, const double *w, size_t n,
                             upf_err *err)
{
    if (n == 0) return upf_err_set(err, UPF_ERR_ARG, "uplift metrics: no rows");
    if (!score || !y || !t) return upf_err_set(err, UPF_ERR_ARG, "uplift metrics: NULL score, outcome or treatment");
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(score[i])) return upf_err_set(err, UPF_ERR_ARG, "uplift metrics: row %zu: score is not finite", i);
        if (!isfinite(y[i])) return upf_err_set(err, UPF_ERR_ARG, "uplift metrics: row %zu: outcome is not finite", i);
        if (t[i] > 1) return upf_err_set(err, UPF_ERR_ARG, "uplift metrics: row %zu: treatment %u (expected 0 or 1)", i, t[i]);
        if (w && !(w[i] >= 0.0 && isfinite(w[i])))
            return upf_err_set(err, UPF_ERR_ARG, "uplift metrics: row %zu: weight %g (expected finite >= 0)", i, w[i]);
    }
    return UPF_OK;
}

static upf_status check_params(const upf_uplift_params *p, upf_err *err)
{
    if (!p) return UPF_OK;
    if (p->n_k > UPF_UPLIFT_MAX_K)
        return upf_err_set(err, UPF_ERR_ARG, "uplift metrics: %zu cut-offs (at most %d)", p->n_k, UPF_UPLIFT_MAX_K);
    for (size_t j = 0; j < p->n_k; j++)
        if (!(p->k[j] > 0.0 && p->k[j] <= 1.0))
            return upf_err_set(err, UPF_ERR_ARG, "uplift metrics: cut-off %g (expected a fraction in (0, 1])", p->k[j]);
    return UPF_OK;
}

typedef struct sort_key {
    double s;
    size_t i;
} sort_key;

/* score descending, then row index descending: a total, deterministic order,
 * the one of numpy's argsort(kind="mergesort")[::-1] that scikit-uplift uses */
static int cmp_desc(const void *a, const void *b)
{
    const sort_key *x = a, *y = b;
    if (x->s > y->s) return -1;
    if (x->s < y->s) return 1;
    return (x->i < y->i) - (x->i > y->i);
}

/* ord (n): rows by s descending, index descending; end (n): 1 where a tie
 * group ends. keys (n) scratch. */
static void sort_rows(const double *s, size_t n, sort_key *keys, size_t *ord, uint8_t *end)
{
    for (size_t i = 0; i < n; i++) {
        keys[i].s = s[i];
        keys[i].i = i;
    }
    qsort(keys, n, sizeof *keys, cmp_desc);
    for (size_t r = 0; r < n; r++) {
        ord[r] = keys[r].i;
        end[r] = (uint8_t)(r + 1 == n || keys[r + 1].s != keys[r].s);
    }
}

/* ---- flatten ---- */

void upf_uplift_metrics_flatten(const upf_uplift_metrics *m, size_t n_k, double *out)
{
    out[0] = m->qini_coefficient;
    out[1] = m->qini_area;
    out[2] = m->auuc;
    out[3] = m->auuc_gain;
    out[4] = m->ate;
    for (size_t j = 0; j < n_k; j++) {
        out[5 + j] = m->at_k[j];
        out[5 + n_k + j] = m->at_k_group[j];
    }
}

void upf_uplift_metrics_unflatten(const double *flat, size_t n_k, upf_uplift_metrics *m)
{
    m->qini_coefficient = flat[0];
    m->qini_area = flat[1];
    m->auuc = flat[2];
    m->auuc_gain = flat[3];
    m->ate = flat[4];
    for (size_t j = 0; j < n_k; j++) {
        m->at_k[j] = flat[5 + j];
        m->at_k_group[j] = flat[5 + n_k + j];
    }
}

static void metrics_nan(upf_uplift_metrics *m)
{
    double nan = (double)NAN;
    m->qini_coefficient = m->qini_area = m->auuc = m->auuc_gain = m->ate = nan;
    for (size_t j = 0; j < UPF_UPLIFT_MAX_K; j++) m->at_k[j] = m->at_k_group[j] = nan;
}

/* ---- the curve ---- */

void upf_uplift_curve_free(upf_uplift_curve *c)
{
    if (!c) return;
    upf_free(c->n);
    upf_free(c->n_t);
    upf_free(c->n_c);
    upf_free(c->y_t);
    upf_free(c->y_c);
    upf_free(c->qini);
    upf_free(c->uplift);
    upf_free(c->score);
    memset(c, 0, sizeof *c);
}

static double qini_value(double yt, double yc, double nt, double nc)
{
    return yt - (nc > 0.0 ? yc * nt / nc : 0.0);
}

static double uplift_value(double yt, double yc, double nt, double nc)
{
    double a = nt > 0.0 ? yt / nt : 0.0, b = nc > 0.0 ? yc / nc : 0.0;
    return (a - b) * (nt + nc);
}

upf_status upf_uplift_curve_build(const double *score, const double *y, const uint8_t *t, const double *w, size_t n,
                                  upf_uplift_curve *out, upf_err *err)
{
    memset(out, 0, sizeof *out);
    upf_status st = check_rows(score, y, t, w, n, err);
    if (st) return st;
    sort_key *keys = upf_malloc(n * sizeof *keys);
    size_t *ord = upf_malloc(n * sizeof *ord);
    uint8_t *end = upf_malloc(n);
    size_t G = 0;
    if (!keys || !ord || !end) goto nomem;
    sort_rows(score, n, keys, ord, end);
    for (size_t r = 0; r < n; r++) G += end[r];
    upf_uplift_curve c;
    memset(&c, 0, sizeof c);
    c.n_points = G + 1;
    double **arrs[8] = {&c.n, &c.n_t, &c.n_c, &c.y_t, &c.y_c, &c.qini, &c.uplift, &c.score};
    for (int a = 0; a < 8; a++)
        if (!(*arrs[a] = upf_calloc(G + 1, sizeof(double)))) {
            upf_uplift_curve_free(&c);
            goto nomem;
        }
    c.score[0] = (double)NAN;
    double nt = 0, nc = 0, yt = 0, yc = 0;
    size_t g = 0;
    for (size_t r = 0; r < n; r++) {
        size_t i = ord[r];
        double wi = w ? w[i] : 1.0;
        if (t[i]) {
            nt += wi;
            yt += wi * y[i];
        } else {
            nc += wi;
            yc += wi * y[i];
        }
        if (end[r]) {
            g++;
            c.n[g] = nt + nc;
            c.n_t[g] = nt;
            c.n_c[g] = nc;
            c.y_t[g] = yt;
            c.y_c[g] = yc;
            c.qini[g] = qini_value(yt, yc, nt, nc);
            c.uplift[g] = uplift_value(yt, yc, nt, nc);
            c.score[g] = score[i];
        }
    }
    *out = c;
    upf_free(keys);
    upf_free(ord);
    upf_free(end);
    return UPF_OK;
nomem:
    upf_free(keys);
    upf_free(ord);
    upf_free(end);
    return upf_err_set(err, UPF_ERR_NOMEM, "uplift curve: out of memory for %zu rows", n);
}

/* ---- the fast path ---- */

enum { ORD_MODEL = 0, ORD_QINI_PERFECT = 1, ORD_UPLIFT_Y = 2, ORD_UPLIFT_T = 3, N_ORD = 4 };

struct upf_uplift_eval {
    size_t n;
    double *y;          /* (n) */
    uint8_t *t;         /* (n) */
    int binary;         /* every y is 0 or 1 */
    size_t *ord[N_ORD]; /* (n) each */
    uint8_t *end[N_ORD];/* (n) each */
};

void upf_uplift_eval_free(upf_uplift_eval *e)
{
    if (!e) return;
    upf_free(e->y);
    upf_free(e->t);
    for (int k = 0; k < N_ORD; k++) {
        upf_free(e->ord[k]);
        upf_free(e->end[k]);
    }
    upf_free(e);
}

size_t upf_uplift_eval_n(const upf_uplift_eval *e) { return e ? e->n : 0; }

upf_status upf_uplift_eval_create(const double *score, const double *y, const uint8_t *t, size_t n,
                                  upf_uplift_eval **out, upf_err *err)
{
    *out = NULL;
    upf_status st = check_rows(score, y, t, NULL, n, err);
    if (st) return st;
    upf_uplift_eval *e = upf_calloc(1, sizeof *e);
    sort_key *keys = upf_malloc(n * sizeof *keys);
    double *s = upf_malloc(n * sizeof *s);
    if (!e || !keys || !s) goto nomem;
    e->n = n;
    e->y = upf_malloc(n * sizeof *e->y);
    e->t = upf_malloc(n);
    if (!e->y || !e->t) goto nomem;
    memcpy(e->y, y, n * sizeof *y);
    memcpy(e->t, t, n);
    e->binary = 1;
    for (size_t i = 0; i < n; i++)
        if (y[i] != 0.0 && y[i] != 1.0) e->binary = 0;
    for (int k = 0; k < N_ORD; k++) {
        if (!(e->ord[k] = upf_malloc(n * sizeof(size_t))) || !(e->end[k] = upf_malloc(n))) goto nomem;
        const double *sk = score;
        if (k == ORD_QINI_PERFECT) {
            for (size_t i = 0; i < n; i++) s[i] = t[i] ? y[i] : -y[i];
            sk = s;
        } else if (k == ORD_UPLIFT_Y || k == ORD_UPLIFT_T) {
            /* scikit-uplift's perfect uplift score 2 [y == t] + summand */
            for (size_t i = 0; i < n; i++) {
                double eq = (y[i] == (double)t[i]) ? 2.0 : 0.0;
                s[i] = eq + (k == ORD_UPLIFT_Y ? y[i] : (double)t[i]);
            }
            sk = s;
        }
        sort_rows(sk, n, keys, e->ord[k], e->end[k]);
    }
    upf_free(keys);
    upf_free(s);
    *out = e;
    return UPF_OK;
nomem:
    upf_free(keys);
    upf_free(s);
    upf_uplift_eval_free(e);
    return upf_err_set(err, UPF_ERR_NOMEM, "uplift metrics: out of memory for %zu rows", n);
}

typedef struct sweep_out {
    double area_q, area_u; /* trapezoids over x = N */
    double q_end, u_end, n_end;
} sweep_out;

static void sweep(const upf_uplift_eval *e, int k, const double *w, sweep_out *o)
{
    const size_t *ord = e->ord[k];
    const uint8_t *end = e->end[k];
    double nt = 0, nc = 0, yt = 0, yc = 0, x0 = 0, q0 = 0, u0 = 0, aq = 0, au = 0;
    for (size_t r = 0; r < e->n; r++) {
        size_t i = ord[r];
        double wi = w ? w[i] : 1.0;
        if (e->t[i]) {
            nt += wi;
            yt += wi * e->y[i];
        } else {
            nc += wi;
            yc += wi * e->y[i];
        }
        if (end[r]) {
            double x = nt + nc, q = qini_value(yt, yc, nt, nc), u = uplift_value(yt, yc, nt, nc);
            aq += (x - x0) * (q + q0) * 0.5;
            au += (x - x0) * (u + u0) * 0.5;
            x0 = x;
            q0 = q;
            u0 = u;
        }
    }
    o->area_q = aq;
    o->area_u = au;
    o->q_end = q0;
    o->u_end = u0;
    o->n_end = x0;
}

/* uplift@k over rows in order ord: overall (group = 0) or by group (1) */
static double at_k(const upf_uplift_eval *e, const double *w, double k, int by_group, double N, double Nt, double Nc)
{
    const size_t *ord = e->ord[ORD_MODEL];
    double need_all = floor(k * N), need_t = floor(k * Nt), need_c = floor(k * Nc);
    double nt = 0, nc = 0, yt = 0, yc = 0, taken = 0;
    for (size_t r = 0; r < e->n; r++) {
        size_t i = ord[r];
        double wi = w ? w[i] : 1.0, take;
        if (!by_group) {
            if (taken >= need_all) break;
            take = fmin(wi, need_all - taken);
            taken += take;
        } else if (e->t[i]) {
            take = fmin(wi, need_t - nt);
        } else {
            take = fmin(wi, need_c - nc);
        }
        if (take <= 0.0) continue;
        if (e->t[i]) {
            nt += take;
            yt += take * e->y[i];
        } else {
            nc += take;
            yc += take * e->y[i];
        }
    }
    if (nt <= 0.0 || nc <= 0.0) return (double)NAN;
    return yt / nt - yc / nc;
}

upf_status upf_uplift_eval_metrics(const upf_uplift_eval *e, const double *w, const upf_uplift_params *p,
                                   upf_uplift_metrics *out, upf_err *err)
{
    memset(out, 0, sizeof *out);
    metrics_nan(out);
    if (!e) return upf_err_set(err, UPF_ERR_ARG, "uplift metrics: NULL evaluator");
    upf_status st = check_params(p, err);
    if (st) return st;
    double N = 0, Nt = 0, Nc = 0, Yt = 0, Yc = 0, cr = 0, tn = 0;
    for (size_t i = 0; i < e->n; i++) {
        double wi = w ? w[i] : 1.0;
        if (!(wi >= 0.0 && isfinite(wi)))
            return upf_err_set(err, UPF_ERR_ARG, "uplift metrics: row %zu: weight %g (expected finite >= 0)", i, wi);
        N += wi;
        if (e->t[i]) {
            Nt += wi;
            Yt += wi * e->y[i];
            if (e->y[i] == 0.0) tn += wi;
        } else {
            Nc += wi;
            Yc += wi * e->y[i];
            if (e->y[i] == 1.0) cr += wi;
        }
    }
    out->n_t = Nt;
    out->n_c = Nc;
    if (Nt <= 0.0 || Nc <= 0.0) return UPF_OK;
    out->ate = Yt / Nt - Yc / Nc;
    sweep_out m, pq, pu;
    sweep(e, ORD_MODEL, w, &m);
    sweep(e, ORD_QINI_PERFECT, w, &pq);
    double rand_q = 0.5 * m.n_end * m.q_end, rand_u = 0.5 * m.n_end * m.u_end;
    double dq = pq.area_q - rand_q;
    out->qini_coefficient = dq != 0.0 ? (m.area_q - rand_q) / dq : (double)NAN;
    out->qini_area = (m.area_q - rand_q) / (N + 1.0);
    if (e->binary) {
        sweep(e, cr > tn ? ORD_UPLIFT_Y : ORD_UPLIFT_T, w, &pu);
        double du = pu.area_u - rand_u;
        out->auuc = du != 0.0 ? (m.area_u - rand_u) / du : (double)NAN;
    }
    out->auuc_gain = m.u_end != 0.0 ? (m.area_u + 0.5 * m.u_end) / (fabs(m.u_end) * (N + 1.0)) : (double)NAN;
    for (size_t j = 0; p && j < p->n_k; j++) {
        out->at_k[j] = at_k(e, w, p->k[j], 0, N, Nt, Nc);
        out->at_k_group[j] = at_k(e, w, p->k[j], 1, N, Nt, Nc);
    }
    return UPF_OK;
}

void upf_uplift_eval_curve_at(const upf_uplift_eval *e, const double *w, const double *frac, size_t m, double *qini,
                              double *uplift)
{
    double N = 0, Nt = 0, Nc = 0;
    for (size_t i = 0; i < e->n; i++) {
        double wi = w ? w[i] : 1.0;
        N += wi;
        if (e->t[i]) Nt += wi;
        else Nc += wi;
    }
    if (!(Nt > 0.0 && Nc > 0.0)) {
        for (size_t j = 0; j < m; j++) {
            if (qini) qini[j] = (double)NAN;
            if (uplift) uplift[j] = (double)NAN;
        }
        return;
    }
    const size_t *ord = e->ord[ORD_MODEL];
    const uint8_t *end = e->end[ORD_MODEL];
    double nt = 0, nc = 0, yt = 0, yc = 0, x0 = 0, q0 = 0, u0 = 0;
    size_t j = 0, r = 0;
    while (j < m) {
        double target = frac[j] * N;
        if (target <= x0 || r >= e->n) { /* at or before the last boundary reached */
            double q = q0, u = u0;
            if (qini) qini[j] = q;
            if (uplift) uplift[j] = u;
            j++;
            continue;
        }
        /* advance to the next group boundary */
        for (; r < e->n; r++) {
            size_t i = ord[r];
            double wi = w ? w[i] : 1.0;
            if (e->t[i]) {
                nt += wi;
                yt += wi * e->y[i];
            } else {
                nc += wi;
                yc += wi * e->y[i];
            }
            if (end[r]) {
                r++;
                break;
            }
        }
        double x1 = nt + nc, q1 = qini_value(yt, yc, nt, nc), u1 = uplift_value(yt, yc, nt, nc);
        while (j < m && frac[j] * N <= x1) {
            double f = x1 > x0 ? (frac[j] * N - x0) / (x1 - x0) : 1.0;
            if (qini) qini[j] = q0 + f * (q1 - q0);
            if (uplift) uplift[j] = u0 + f * (u1 - u0);
            j++;
        }
        x0 = x1;
        q0 = q1;
        u0 = u1;
    }
}

upf_status upf_uplift_metrics_compute(const double *score, const double *y, const uint8_t *t, const double *w,
                                      size_t n, const upf_uplift_params *p, upf_uplift_metrics *out, upf_err *err)
{
    memset(out, 0, sizeof *out);
    metrics_nan(out);
    upf_uplift_eval *e = NULL;
    upf_status st = check_rows(score, y, t, w, n, err);
    if (!st) st = check_params(p, err);
    if (!st) st = upf_uplift_eval_create(score, y, t, n, &e, err);
    if (!st) st = upf_uplift_eval_metrics(e, w, p, out, err);
    upf_uplift_eval_free(e);
    return st;
}

/* ---- the reference ---- */

/* Area of the curve of one score by summing over all rows at each distinct
 * threshold (plain loops); also the end values. thr (n) scratch. */
static void ref_areas(const double *s, const double *y, const uint8_t *t, const double *w, size_t n, double *thr,
                      double *area_q, double *area_u, double *q_end, double *u_end, double *n_end)
{
    size_t G = 0;
    for (size_t i = 0; i < n; i++) {
        int seen = 0;
        for (size_t g = 0; g < G; g++)
            if (thr[g] == s[i]) seen = 1;
        if (!seen) thr[G++] = s[i];
    }
    /* points in order of decreasing threshold: selection, O(G^2) */
    for (size_t a = 0; a < G; a++)
        for (size_t b = a + 1; b < G; b++)
            if (thr[b] > thr[a]) {
                double tmp = thr[a];
                thr[a] = thr[b];
                thr[b] = tmp;
            }
    double x0 = 0, q0 = 0, u0 = 0, aq = 0, au = 0;
    for (size_t g = 0; g < G; g++) {
        double nt = 0, nc = 0, yt = 0, yc = 0;
        for (size_t i = 0; i < n; i++) {
            if (!(s[i] >= thr[g])) continue;
            double wi = w ? w[i] : 1.0;
            if (t[i]) {
                nt += wi;
                yt += wi * y[i];
            } else {
                nc += wi;
                yc += wi * y[i];
            }
        }
        double x = nt + nc;
        double q = yt - (nc > 0 ? yc * nt / nc : 0.0);
        double u = ((nt > 0 ? yt / nt : 0.0) - (nc > 0 ? yc / nc : 0.0)) * x;
        aq += (x - x0) * (q + q0) / 2.0;
        au += (x - x0) * (u + u0) / 2.0;
        x0 = x;
        q0 = q;
        u0 = u;
    }
    *area_q = aq;
    *area_u = au;
    *q_end = q0;
    *u_end = u0;
    *n_end = x0;
}

/* uplift@k by ranks: row i's rank counts rows before it (higher score, or the
 * same score and a higher index), weighted. */
static double ref_at_k(const double *s, const double *y, const uint8_t *t, const double *w, size_t n, double k,
                       int by_group, double N, double Nt, double Nc)
{
    double nt = 0, nc = 0, yt = 0, yc = 0;
    for (size_t i = 0; i < n; i++) {
        double before = 0.0, wi = w ? w[i] : 1.0;
        for (size_t j = 0; j < n; j++) {
            if (by_group && t[j] != t[i]) continue;
            if (s[j] > s[i] || (s[j] == s[i] && j > i)) before += w ? w[j] : 1.0;
        }
        double cap = by_group ? floor(k * (t[i] ? Nt : Nc)) : floor(k * N);
        double take = fmin(wi, cap - before);
        if (take <= 0.0) continue;
        if (t[i]) {
            nt += take;
            yt += take * y[i];
        } else {
            nc += take;
            yc += take * y[i];
        }
    }
    if (nt <= 0.0 || nc <= 0.0) return (double)NAN;
    return yt / nt - yc / nc;
}

upf_status upf_uplift_metrics_ref(const double *score, const double *y, const uint8_t *t, const double *w, size_t n,
                                  const upf_uplift_params *p, upf_uplift_metrics *out, upf_err *err)
{
    memset(out, 0, sizeof *out);
    metrics_nan(out);
    upf_status st = check_rows(score, y, t, w, n, err);
    if (!st) st = check_params(p, err);
    if (st) return st;
    double *thr = upf_malloc(n * sizeof *thr), *s2 = upf_malloc(n * sizeof *s2);
    if (!thr || !s2) {
        upf_free(thr);
        upf_free(s2);
        return upf_err_set(err, UPF_ERR_NOMEM, "uplift metrics (reference): out of memory");
    }
    double N = 0, Nt = 0, Nc = 0, Yt = 0, Yc = 0, cr = 0, tn = 0;
    int binary = 1;
    for (size_t i = 0; i < n; i++) {
        double wi = w ? w[i] : 1.0;
        N += wi;
        if (y[i] != 0.0 && y[i] != 1.0) binary = 0;
        if (t[i]) {
            Nt += wi;
            Yt += wi * y[i];
            tn += y[i] == 0.0 ? wi : 0.0;
        } else {
            Nc += wi;
            Yc += wi * y[i];
            cr += y[i] == 1.0 ? wi : 0.0;
        }
    }
    out->n_t = Nt;
    out->n_c = Nc;
    if (Nt > 0.0 && Nc > 0.0) {
        out->ate = Yt / Nt - Yc / Nc;
        double aq, au, qe, ue, ne, paq, pau, pqe, pue, pne;
        ref_areas(score, y, t, w, n, thr, &aq, &au, &qe, &ue, &ne);
        for (size_t i = 0; i < n; i++) s2[i] = t[i] ? y[i] : -y[i];
        ref_areas(s2, y, t, w, n, thr, &paq, &pau, &pqe, &pue, &pne);
        double rq = ne * qe / 2.0, ru = ne * ue / 2.0;
        out->qini_coefficient = paq - rq != 0.0 ? (aq - rq) / (paq - rq) : (double)NAN;
        out->qini_area = (aq - rq) / (N + 1.0);
        if (binary) {
            for (size_t i = 0; i < n; i++)
                s2[i] = 2.0 * (y[i] == (double)t[i]) + (cr > tn ? y[i] : (double)t[i]);
            ref_areas(s2, y, t, w, n, thr, &paq, &pau, &pqe, &pue, &pne);
            out->auuc = pau - ru != 0.0 ? (au - ru) / (pau - ru) : (double)NAN;
        }
        out->auuc_gain = ue != 0.0 ? (au + ue / 2.0) / (fabs(ue) * (N + 1.0)) : (double)NAN;
        for (size_t j = 0; p && j < p->n_k; j++) {
            out->at_k[j] = ref_at_k(score, y, t, w, n, p->k[j], 0, N, Nt, Nc);
            out->at_k_group[j] = ref_at_k(score, y, t, w, n, p->k[j], 1, N, Nt, Nc);
        }
    }
    upf_free(thr);
    upf_free(s2);
    return UPF_OK;
}

/* ---- bins ---- */

upf_status upf_uplift_by_bin(const double *score, const double *y, const uint8_t *t, size_t n, size_t bins,
                             upf_uplift_bin *out, upf_err *err)
{
    upf_status st = check_rows(score, y, t, NULL, n, err);
    if (st) return st;
    if (bins == 0 || bins > n)
        return upf_err_set(err, UPF_ERR_ARG, "uplift by bin: %zu bins for %zu rows (expected 1..rows)", bins, n);
    sort_key *keys = upf_malloc(n * sizeof *keys);
    size_t *ord = upf_malloc(n * sizeof *ord);
    uint8_t *end = upf_malloc(n);
    if (!keys || !ord || !end) {
        upf_free(keys);
        upf_free(ord);
        upf_free(end);
        return upf_err_set(err, UPF_ERR_NOMEM, "uplift by bin: out of memory for %zu rows", n);
    }
    sort_rows(score, n, keys, ord, end);
    size_t base = n / bins, extra = n % bins, r = 0;
    for (size_t b = 0; b < bins; b++) {
        size_t len = base + (b < extra ? 1 : 0);
        upf_uplift_bin *o = &out[b];
        memset(o, 0, sizeof *o);
        double st_[2] = {0, 0}, sq[2] = {0, 0};
        size_t cnt[2] = {0, 0};
        o->n = len;
        o->score_max = score[ord[r]];
        o->score_min = score[ord[r + len - 1]];
        for (size_t q = r; q < r + len; q++) {
            size_t i = ord[q];
            cnt[t[i]]++;
            st_[t[i]] += y[i];
        }
        double mean[2], se[2];
        for (int g = 0; g < 2; g++) {
            mean[g] = cnt[g] ? st_[g] / (double)cnt[g] : (double)NAN;
        }
        for (size_t q = r; q < r + len; q++) {
            size_t i = ord[q];
            double d = y[i] - mean[t[i]];
            sq[t[i]] += d * d;
        }
        for (int g = 0; g < 2; g++) se[g] = cnt[g] ? sqrt(sq[g] / (double)cnt[g] / (double)cnt[g]) : (double)NAN;
        o->n_t = cnt[1];
        o->n_c = cnt[0];
        o->mean_t = mean[1];
        o->mean_c = mean[0];
        o->se_t = se[1];
        o->se_c = se[0];
        o->uplift = mean[1] - mean[0]; /* NaN when either is */
        o->se_uplift = sqrt(se[1] * se[1] + se[0] * se[0]);
        r += len;
    }
    upf_free(keys);
    upf_free(ord);
    upf_free(end);
    return UPF_OK;
}

/* ---- balance ---- */

double upf_uplift_smd(const float *x, size_t stride, const uint8_t *t, size_t n)
{
    double sum[2] = {0, 0}, cnt[2] = {0, 0};
    int binary = 1;
    for (size_t i = 0; i < n; i++) {
        double v = (double)x[i * stride];
        int g = t[i] ? 1 : 0;
        sum[g] += v;
        cnt[g] += 1.0;
        if (v != 0.0 && v != 1.0) binary = 0;
    }
    if (cnt[0] < 2 || cnt[1] < 2) return (double)NAN;
    double m[2] = {sum[0] / cnt[0], sum[1] / cnt[1]}, ss[2] = {0, 0};
    for (size_t i = 0; i < n; i++) {
        int g = t[i] ? 1 : 0;
        double d = (double)x[i * stride] - m[g];
        ss[g] += d * d;
    }
    double v0, v1;
    if (binary) {
        v0 = m[0] * (1.0 - m[0]);
        v1 = m[1] * (1.0 - m[1]);
    } else {
        v0 = ss[0] / (cnt[0] - 1.0);
        v1 = ss[1] / (cnt[1] - 1.0);
    }
    double pooled = sqrt((v0 + v1) / 2.0), diff = m[1] - m[0];
    if (pooled == 0.0) return diff == 0.0 ? 0.0 : (double)NAN;
    return diff / pooled;
}

upf_status upf_uplift_auc(const double *score, const uint8_t *label, const double *w, size_t n, double *auc,
                          upf_err *err)
{
    *auc = (double)NAN;
    sort_key *keys = upf_malloc((n ? n : 1) * sizeof *keys);
    if (!keys) return upf_err_set(err, UPF_ERR_NOMEM, "auc: out of memory for %zu rows", n);
    for (size_t i = 0; i < n; i++) {
        keys[i].s = score[i];
        keys[i].i = i;
    }
    qsort(keys, n, sizeof *keys, cmp_desc);
    /* walk from the highest score: each positive beats the negatives below it */
    double pos = 0, neg = 0, wins = 0;
    for (size_t r = 0; r < n;) {
        size_t r1 = r;
        double gp = 0, gn = 0;
        while (r1 < n && keys[r1].s == keys[r].s) {
            double wi = w ? w[keys[r1].i] : 1.0;
            if (label[keys[r1].i]) gp += wi;
            else gn += wi;
            r1++;
        }
        /* negatives in this group lose to every positive seen before, tie with the group's */
        wins += gn * pos + 0.5 * gn * gp;
        pos += gp;
        neg += gn;
        r = r1;
    }
    upf_free(keys);
    if (pos > 0 && neg > 0) *auc = wins / (pos * neg);
    return UPF_OK;
}

/* ---- bootstrap ---- */

void upf_bootstrap_counts(upf_rng *rng, const int32_t *stratum, size_t n, size_t n_strata, double *counts,
                          int32_t *idx_scratch, size_t *stratum_scratch)
{
    size_t *start = stratum_scratch;
    for (size_t s = 0; s <= n_strata; s++) start[s] = 0;
    for (size_t i = 0; i < n; i++) {
        counts[i] = 0.0;
        if (stratum[i] >= 0 && (size_t)stratum[i] < n_strata) start[stratum[i] + 1]++;
    }
    for (size_t s = 0; s < n_strata; s++) start[s + 1] += start[s];
    /* rows of each stratum in row order (counting sort); start[] ends as the next free slot */
    for (size_t i = 0; i < n; i++)
        if (stratum[i] >= 0 && (size_t)stratum[i] < n_strata) idx_scratch[start[stratum[i]]++] = (int32_t)i;
    size_t lo = 0;
    for (size_t s = 0; s < n_strata; s++) {
        size_t hi = start[s], m = hi - lo;
        for (size_t d = 0; d < m; d++) counts[idx_scratch[lo + upf_rng_below64(rng, m)]] += 1.0;
        lo = hi;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void upf_percentile_ci(double *v, size_t n, double level, double *lo, double *hi)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i])) v[m++] = v[i];
    *lo = *hi = (double)NAN;
    if (m < 2) return;
    qsort(v, m, sizeof *v, cmp_double);
    double q[2] = {(1.0 - level) / 2.0, (1.0 + level) / 2.0}, *o[2] = {lo, hi};
    for (int k = 0; k < 2; k++) {
        double pos = q[k] * (double)(m - 1);
        size_t a = (size_t)floor(pos);
        size_t b = a + 1 < m ? a + 1 : a;
        double f = pos - (double)a;
        *o[k] = v[a] + (v[b] - v[a]) * f;
    }
}
