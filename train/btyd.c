/* btyd.c - calibration/holdout summaries and maximum-likelihood fits of
 * BG/NBD, Pareto/NBD and Gamma-Gamma (see btyd.h for the conventions).
 * Sections: summary, BG/NBD, Pareto/NBD, Gamma-Gamma, holdout table.
 */
#include "btyd.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "minimize.h"

#define DAY_SECONDS 86400

upf_btyd_params upf_btyd_params_default(void)
{
    upf_btyd_params p = {0, 0, 7.0, 1};
    return p;
}

/* ---- summary ---- */

void upf_btyd_summary_free(upf_btyd_summary *s)
{
    if (!s) return;
    upf_free(s->customer);
    upf_free(s->x);
    upf_free(s->t_x);
    upf_free(s->T);
    upf_free(s->x_star);
    upf_free(s->v_star);
    upf_free(s->m_x);
    upf_free(s->first_value);
    memset(s, 0, sizeof *s);
}

typedef struct day_txn {
    int32_t customer;
    int64_t day;
    double value;
    size_t order; /* input position: a stable, deterministic sort */
} day_txn;

static int cmp_day_txn(const void *pa, const void *pb)
{
    const day_txn *a = pa, *b = pb;
    if (a->customer != b->customer) return a->customer < b->customer ? -1 : 1;
    if (a->day != b->day) return a->day < b->day ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

static upf_status summary_alloc(upf_btyd_summary *s, size_t n)
{
    s->customer = upf_malloc(n * sizeof *s->customer);
    s->x = upf_calloc(n, sizeof *s->x);
    s->t_x = upf_calloc(n, sizeof *s->t_x);
    s->T = upf_calloc(n, sizeof *s->T);
    s->x_star = upf_calloc(n, sizeof *s->x_star);
    s->v_star = upf_calloc(n, sizeof *s->v_star);
    s->m_x = upf_calloc(n, sizeof *s->m_x);
    s->first_value = upf_calloc(n, sizeof *s->first_value);
    if (!s->customer || !s->x || !s->t_x || !s->T || !s->x_star || !s->v_star || !s->m_x || !s->first_value)
        return UPF_ERR_NOMEM;
    return UPF_OK;
}

upf_status upf_btyd_summary_build(const upf_btyd_txn *txn, size_t n_txn, const upf_btyd_params *p,
                                  upf_btyd_summary *out, upf_err *err)
{
    upf_status st = UPF_OK;
    day_txn *d = NULL;
    memset(out, 0, sizeof *out);
    if (!(p->unit_days > 0.0) || p->holdout_days < 0)
        return upf_err_set(err, UPF_ERR_ARG, "btyd summary: unit_days must be > 0 and holdout_days >= 0 (got %g, %lld)",
                           p->unit_days, (long long)p->holdout_days);
    if (n_txn == 0) return upf_err_set(err, UPF_ERR_DATA, "btyd summary: no purchases");
    size_t bytes = 0;
    if (upf_mul_size(n_txn, sizeof *d, &bytes) != 0 || !(d = upf_malloc(bytes))) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "btyd summary: out of memory for %zu purchases", n_txn);
        goto done;
    }
    for (size_t i = 0; i < n_txn; i++) {
        if (txn[i].customer < 0 || !(txn[i].value >= 0.0)) {
            st = upf_err_set(err, UPF_ERR_ARG, "btyd summary: purchase %zu: customer %d, value %g (expected >= 0)", i,
                             (int)txn[i].customer, txn[i].value);
            goto done;
        }
        d[i].customer = txn[i].customer;
        d[i].day = floor_div(txn[i].time, DAY_SECONDS);
        d[i].value = txn[i].value;
        d[i].order = i;
    }
    qsort(d, n_txn, sizeof *d, cmp_day_txn);
    size_t n_cust = 0;
    for (size_t i = 0; i < n_txn; i++)
        if (i == 0 || d[i].customer != d[i - 1].customer) n_cust++;
    if ((st = summary_alloc(out, n_cust)) != UPF_OK) {
        st = upf_err_set(err, st, "btyd summary: out of memory for %zu customers", n_cust);
        goto done;
    }
    int64_t cal_day = floor_div(p->cal_end, DAY_SECONDS), hold_day = cal_day + p->holdout_days;
    double unit = p->unit_days;
    out->t_star = (double)p->holdout_days / unit;
    size_t k = 0;
    for (size_t i = 0; i < n_txn;) {
        size_t j = i;
        while (j < n_txn && d[j].customer == d[i].customer) j++;
        int64_t first = d[i].day;
        if (first > cal_day) {
            out->n_late++;
            i = j;
            continue;
        }
        double x = 0.0, xs = 0.0, vs = 0.0, spend = 0.0, first_value = 0.0;
        int64_t last = first;
        for (size_t q = i; q < j;) {
            /* one transaction: a day's purchases when merging, else one row */
            size_t e = q + 1;
            double v = d[q].value;
            if (p->merge_same_day)
                while (e < j && d[e].day == d[q].day) {
                    v += d[e].value;
                    out->n_merged++;
                    e++;
                }
            if (q == i) {
                first_value = v;
            } else if (d[q].day <= cal_day) {
                x += 1.0;
                spend += v;
                last = d[q].day;
            } else if (d[q].day <= hold_day) {
                xs += 1.0;
                vs += v;
            }
            q = e;
        }
        out->customer[k] = d[i].customer;
        out->x[k] = x;
        out->t_x[k] = (double)(last - first) / unit;
        out->T[k] = (double)(cal_day - first) / unit;
        out->x_star[k] = xs;
        out->v_star[k] = vs;
        out->m_x[k] = x > 0.0 ? spend / x : 0.0;
        out->first_value[k] = first_value;
        out->repeat_total += x;
        out->holdout_total += xs;
        out->holdout_value += vs;
        out->n_zero += x == 0.0;
        k++;
        i = j;
    }
    out->n = k;
    if (k == 0) st = upf_err_set(err, UPF_ERR_DATA, "btyd summary: no customer made a first purchase by the end of calibration");
done:
    upf_free(d);
    if (st != UPF_OK) {
        if (st == UPF_ERR_NOMEM && err && err->status != UPF_ERR_NOMEM)
            upf_err_set(err, st, "btyd summary: out of memory");
        upf_btyd_summary_free(out);
    }
    return st;
}

upf_status upf_btyd_summary_from_dataset(const upf_dataset *ds, const upf_btyd_params *p, upf_btyd_summary *out,
                                         upf_err *err)
{
    memset(out, 0, sizeof *out);
    size_t n = 0;
    for (int64_t e = 0; e < ds->n_events; e++) n += ds->ev_type[e] == UPF_EV_PURCHASE;
    if (n == 0) return upf_err_set(err, UPF_ERR_DATA, "btyd summary: the dataset has no purchase events");
    upf_btyd_txn *t = upf_malloc(n * sizeof *t);
    if (!t) return upf_err_set(err, UPF_ERR_NOMEM, "btyd summary: out of memory for %zu purchases", n);
    size_t k = 0;
    for (int64_t e = 0; e < ds->n_events; e++) {
        if (ds->ev_type[e] != UPF_EV_PURCHASE) continue;
        double v = ds->ev_value ? (double)ds->ev_value[e] : 0.0;
        t[k].customer = ds->ev_user[e];
        t[k].time = ds->ev_time[e];
        t[k].value = isfinite(v) && v > 0.0 ? v : 0.0; /* a refund line is not negative spend here */
        k++;
    }
    upf_status st = upf_btyd_summary_build(t, n, p, out, err);
    upf_free(t);
    return st;
}

/* ---- customer groups: identical (x, t_x, T) rows share one likelihood term ---- */

typedef struct btyd_groups {
    size_t n;
    double *x, *t_x, *T, *w; /* (n) each; w = customers in the group */
    int mbg;                 /* BG/NBD fits: the variant */
} btyd_groups;

typedef struct xtt_row {
    double x, t_x, T;
} xtt_row;

static int cmp_xtt(const void *pa, const void *pb)
{
    const xtt_row *a = pa, *b = pb;
    if (a->x != b->x) return a->x < b->x ? -1 : 1;
    if (a->T != b->T) return a->T < b->T ? -1 : 1;
    if (a->t_x != b->t_x) return a->t_x < b->t_x ? -1 : 1;
    return 0;
}

static void groups_free(btyd_groups *g)
{
    upf_free(g->x);
    memset(g, 0, sizeof *g);
}

static upf_status groups_build(const upf_btyd_summary *s, btyd_groups *g)
{
    memset(g, 0, sizeof *g);
    xtt_row *rows = upf_malloc(s->n * sizeof *rows);
    double *block = upf_malloc(4 * s->n * sizeof *block);
    if (!rows || !block) {
        upf_free(rows);
        upf_free(block);
        return UPF_ERR_NOMEM;
    }
    for (size_t i = 0; i < s->n; i++) {
        rows[i].x = s->x[i];
        rows[i].t_x = s->t_x[i];
        rows[i].T = s->T[i];
    }
    qsort(rows, s->n, sizeof *rows, cmp_xtt);
    g->x = block;
    g->t_x = block + s->n;
    g->T = block + 2 * s->n;
    g->w = block + 3 * s->n;
    for (size_t i = 0; i < s->n; i++) {
        if (g->n && cmp_xtt(&rows[i], &rows[i - 1]) == 0) {
            g->w[g->n - 1] += 1.0;
            continue;
        }
        g->x[g->n] = rows[i].x;
        g->t_x[g->n] = rows[i].t_x;
        g->T[g->n] = rows[i].T;
        g->w[g->n] = 1.0;
        g->n++;
    }
    upf_free(rows);
    return UPF_OK;
}

/* ---- shared fitting machinery ---- */

/* Hessian of f (minimized, log-parameter space) by central differences of an
 * analytic or numeric gradient; then the delta-method standard errors of the
 * natural parameters exp(theta). */
typedef double (*grad_fn)(const double *theta, double *grad, void *ctx);

static void standard_errors(grad_fn fg, void *ctx, size_t n, const double *theta, double *se)
{
    double H[16], tp[4], gp[4], gm[4];
    for (size_t i = 0; i < n; i++) se[i] = (double)NAN;
    for (size_t i = 0; i < n; i++) {
        double h = 1e-5 * (1.0 + fabs(theta[i]));
        memcpy(tp, theta, n * sizeof *tp);
        tp[i] = theta[i] + h;
        fg(tp, gp, ctx);
        tp[i] = theta[i] - h;
        fg(tp, gm, ctx);
        for (size_t j = 0; j < n; j++) H[i * n + j] = (gp[j] - gm[j]) / (2.0 * h);
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) H[i * n + j] = H[j * n + i] = 0.5 * (H[i * n + j] + H[j * n + i]);
    if (upf_min_spd_inverse(H, n) != UPF_OK) return;
    for (size_t i = 0; i < n; i++) se[i] = H[i * n + i] > 0.0 ? exp(theta[i]) * sqrt(H[i * n + i]) : (double)NAN;
}

/* Nelder-Mead to get near, then BFGS to land; theta in/out (log parameters). */
static upf_status fit_two_stage(upf_min_fn f, grad_fn fg, void *ctx, size_t n, double *theta, size_t n_obs,
                                upf_btyd_fit_info *info, const char *what, upf_err *err)
{
    upf_min_params op = upf_min_params_default();
    upf_min_result r1, r2;
    /* Nelder-Mead only has to get near: BFGS does the polishing */
    op.ftol = 1e-9;
    op.xtol = 1e-4;
    op.max_restarts = 2;
    upf_status st = upf_min_nelder_mead(f, ctx, n, theta, &op, &r1, err);
    if (st != UPF_OK) {
        upf_err_prefix(err, "%s", what);
        return st;
    }
    op = upf_min_params_default();
    op.gtol = 1e-9 * (double)(n_obs ? n_obs : 1);
    op.ftol = 1e-16;
    op.xtol = 1e-12;
    op.max_iter = 500;
    st = upf_min_bfgs(fg, ctx, n, theta, &op, &r2, err);
    if (st != UPF_OK) {
        upf_err_prefix(err, "%s", what);
        return st;
    }
    double g[4];
    fg(theta, g, ctx);
    info->grad_max = 0.0;
    for (size_t i = 0; i < n; i++)
        if (fabs(g[i]) > info->grad_max) info->grad_max = fabs(g[i]);
    info->log_likelihood = -r2.f;
    info->iterations = r1.iters + r2.iters;
    info->evaluations = r1.evals + r2.evals;
    info->converged = r2.converged;
    standard_errors(fg, ctx, n, theta, info->se);
    return UPF_OK;
}

/* ---- BG/NBD ---- */

static double bgnbd_ll(size_t n, const double *xs, const double *txs, const double *Ts, const double *ws,
                       const upf_bgnbd_params *p, double *grad)
{
    double r = p->r, al = p->alpha, a = p->a, b = p->b, mb = p->mbg ? 1.0 : 0.0;
    double ll = 0.0, gr = 0.0, gal = 0.0, ga = 0.0, gb = 0.0;
    double dg_r = grad ? upf_digamma(r) : 0.0, dg_ab = grad ? upf_digamma(a + b) : 0.0,
           dg_b = grad ? upf_digamma(b) : 0.0;
    for (size_t i = 0; i < n; i++) {
        double x = xs[i], tx = txs[i], T = Ts[i], w = ws ? ws[i] : 1.0, xb = x + mb;
        ll += w * upf_bgnbd_loglik1(p, x, tx, T);
        if (!grad) continue;
        /* d/d theta of A1 + beta ratio + log(e^A3 + [xb>0] e^A4) */
        double a3 = -(r + x) * log(al + T), w3 = 1.0, w4 = 0.0;
        if (xb > 0.0) {
            double a4 = log(a) - log(b + xb - 1.0) - (r + x) * log(al + tx);
            double m = a3 > a4 ? a3 : a4;
            double l = m + log(exp(a3 - m) + exp(a4 - m));
            w3 = exp(a3 - l);
            w4 = exp(a4 - l);
        }
        double dg_abx = upf_digamma(a + b + xb);
        gr += w * (upf_digamma(r + x) - dg_r + log(al) - w3 * log(al + T) - (xb > 0.0 ? w4 * log(al + tx) : 0.0));
        gal += w * (r / al - w3 * (r + x) / (al + T) - (xb > 0.0 ? w4 * (r + x) / (al + tx) : 0.0));
        ga += w * (dg_ab - dg_abx + (xb > 0.0 ? w4 / a : 0.0));
        gb += w * (dg_ab + upf_digamma(b + xb) - dg_b - dg_abx - (xb > 0.0 ? w4 / (b + xb - 1.0) : 0.0));
    }
    if (grad) { /* chain rule to log parameters */
        grad[0] = gr * r;
        grad[1] = gal * al;
        grad[2] = ga * a;
        grad[3] = gb * b;
    }
    return ll;
}

double upf_bgnbd_loglik(const upf_btyd_summary *s, const upf_bgnbd_params *p, double *grad)
{
    return bgnbd_ll(s->n, s->x, s->t_x, s->T, NULL, p, grad);
}

static upf_bgnbd_params bgnbd_from_theta(const double *th, int mbg)
{
    upf_bgnbd_params p = {exp(th[0]), exp(th[1]), exp(th[2]), exp(th[3]), mbg};
    return p;
}

static double bgnbd_neg_ll(const double *th, void *ctx)
{
    const btyd_groups *g = ctx;
    upf_bgnbd_params p = bgnbd_from_theta(th, g->mbg);
    return -bgnbd_ll(g->n, g->x, g->t_x, g->T, g->w, &p, NULL);
}

static double bgnbd_neg_ll_grad(const double *th, double *grad, void *ctx)
{
    const btyd_groups *gr = ctx;
    upf_bgnbd_params p = bgnbd_from_theta(th, gr->mbg);
    double *g = grad;
    double v = -bgnbd_ll(gr->n, gr->x, gr->t_x, gr->T, gr->w, &p, g);
    for (int i = 0; i < 4; i++) g[i] = -g[i];
    return v;
}

upf_status upf_bgnbd_fit(const upf_btyd_summary *s, int mbg, upf_bgnbd_params *out, upf_btyd_fit_info *info,
                         upf_err *err)
{
    memset(out, 0, sizeof *out);
    memset(info, 0, sizeof *info);
    if (s->n == 0) return upf_err_set(err, UPF_ERR_DATA, "bgnbd fit: no customers");
    btyd_groups g;
    if (groups_build(s, &g) != UPF_OK) return upf_err_set(err, UPF_ERR_NOMEM, "bgnbd fit: out of memory");
    g.mbg = mbg != 0;
    double theta[4] = {0.0, 0.0, 0.0, 0.0};
    upf_status st = fit_two_stage(bgnbd_neg_ll, bgnbd_neg_ll_grad, &g, 4, theta, s->n, info, "bgnbd fit", err);
    groups_free(&g);
    if (st == UPF_OK) *out = bgnbd_from_theta(theta, mbg != 0);
    else memset(info, 0, sizeof *info);
    return st;
}

upf_status upf_bgnbd_forecast(const upf_btyd_summary *s, const upf_bgnbd_params *p, double *out, upf_err *err)
{
    for (size_t i = 0; i < s->n; i++) {
        upf_status st = upf_bgnbd_expected(p, s->x[i], s->t_x[i], s->T[i], s->t_star, &out[i]);
        if (st != UPF_OK)
            return upf_err_set(err, st, "bgnbd forecast: customer %d (x %g, t_x %g, T %g): %s", (int)s->customer[i],
                               s->x[i], s->t_x[i], s->T[i], upf_status_str(st));
    }
    return UPF_OK;
}

/* ---- Pareto/NBD ---- */

static upf_status pnbd_ll(size_t n, const double *xs, const double *txs, const double *Ts, const double *ws,
                          const upf_pnbd_params *p, double *out)
{
    double ll = 0.0;
    *out = 0.0;
    for (size_t i = 0; i < n; i++) {
        double v = 0.0;
        upf_status st = upf_pnbd_loglik1(p, xs[i], txs[i], Ts[i], &v);
        if (st != UPF_OK) return st;
        ll += (ws ? ws[i] : 1.0) * v;
    }
    *out = ll;
    return UPF_OK;
}

upf_status upf_pnbd_loglik(const upf_btyd_summary *s, const upf_pnbd_params *p, double *out)
{
    return pnbd_ll(s->n, s->x, s->t_x, s->T, NULL, p, out);
}

static upf_pnbd_params pnbd_from_theta(const double *th)
{
    upf_pnbd_params p = {exp(th[0]), exp(th[1]), exp(th[2]), exp(th[3])};
    return p;
}

static double pnbd_neg_ll(const double *th, void *ctx)
{
    const btyd_groups *g = ctx;
    upf_pnbd_params p = pnbd_from_theta(th);
    double ll = 0.0;
    if (pnbd_ll(g->n, g->x, g->t_x, g->T, g->w, &p, &ll) != UPF_OK) return (double)INFINITY;
    return -ll;
}

static double pnbd_neg_ll_grad(const double *th, double *g, void *ctx)
{
    double scratch[4];
    return upf_min_num_grad(pnbd_neg_ll, ctx, 4, th, 1e-6, g, scratch);
}

upf_status upf_pnbd_fit(const upf_btyd_summary *s, upf_pnbd_params *out, upf_btyd_fit_info *info, upf_err *err)
{
    memset(out, 0, sizeof *out);
    memset(info, 0, sizeof *info);
    if (s->n == 0) return upf_err_set(err, UPF_ERR_DATA, "pareto/nbd fit: no customers");
    btyd_groups g;
    if (groups_build(s, &g) != UPF_OK) return upf_err_set(err, UPF_ERR_NOMEM, "pareto/nbd fit: out of memory");
    double theta[4] = {0.0, 0.0, 0.0, 0.0};
    upf_status st = fit_two_stage(pnbd_neg_ll, pnbd_neg_ll_grad, &g, 4, theta, s->n, info, "pareto/nbd fit", err);
    groups_free(&g);
    if (st == UPF_OK) *out = pnbd_from_theta(theta);
    else memset(info, 0, sizeof *info);
    return st;
}

upf_status upf_pnbd_forecast(const upf_btyd_summary *s, const upf_pnbd_params *p, double *out, upf_err *err)
{
    for (size_t i = 0; i < s->n; i++) {
        upf_status st = upf_pnbd_expected(p, s->x[i], s->t_x[i], s->T[i], s->t_star, &out[i]);
        if (st != UPF_OK)
            return upf_err_set(err, st, "pareto/nbd forecast: customer %d (x %g, t_x %g, T %g): %s",
                               (int)s->customer[i], s->x[i], s->t_x[i], s->T[i], upf_status_str(st));
    }
    return UPF_OK;
}

/* ---- Gamma-Gamma ---- */

double upf_gg_loglik(const upf_btyd_summary *s, const upf_gg_params *g, double *grad)
{
    double ll = 0.0, gp = 0.0, gq = 0.0, gg = 0.0;
    double P = g->p, q = g->q, ga = g->gamma;
    double dg_q = grad ? upf_digamma(q) : 0.0;
    for (size_t i = 0; i < s->n; i++) {
        double x = s->x[i], m = s->m_x[i];
        if (!(x > 0.0) || !(m > 0.0)) continue;
        ll += upf_gg_loglik1(g, x, m);
        if (!grad) continue;
        double px = P * x, dg_pxq = upf_digamma(px + q), lgm = log(ga + m * x);
        gp += x * (dg_pxq - upf_digamma(px) + log(m) + log(x) - lgm);
        gq += dg_pxq - dg_q + log(ga) - lgm;
        gg += q / ga - (px + q) / (ga + m * x);
    }
    if (grad) {
        grad[0] = gp * P;
        grad[1] = gq * q;
        grad[2] = gg * ga;
    }
    return ll;
}

static upf_gg_params gg_from_theta(const double *th)
{
    upf_gg_params g = {exp(th[0]), exp(th[1]), exp(th[2])};
    return g;
}

static double gg_neg_ll(const double *th, void *ctx)
{
    upf_gg_params g = gg_from_theta(th);
    return -upf_gg_loglik(ctx, &g, NULL);
}

static double gg_neg_ll_grad(const double *th, double *grad, void *ctx)
{
    upf_gg_params g = gg_from_theta(th);
    double v = -upf_gg_loglik(ctx, &g, grad);
    for (int i = 0; i < 3; i++) grad[i] = -grad[i];
    return v;
}

upf_status upf_gg_fit(const upf_btyd_summary *s, upf_gg_params *out, upf_btyd_fit_info *info, size_t *n_used,
                      upf_err *err)
{
    memset(out, 0, sizeof *out);
    memset(info, 0, sizeof *info);
    *n_used = 0;
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++) n += s->x[i] > 0.0 && s->m_x[i] > 0.0;
    if (n == 0) return upf_err_set(err, UPF_ERR_DATA, "gamma-gamma fit: no customer has a repeat purchase with spend > 0");
    double theta[3] = {0.0, 0.0, 0.0};
    upf_status st = fit_two_stage(gg_neg_ll, gg_neg_ll_grad, (void *)s, 3, theta, n, info, "gamma-gamma fit", err);
    if (st == UPF_OK) {
        *out = gg_from_theta(theta);
        *n_used = n;
        info->se[3] = (double)NAN;
    } else {
        memset(info, 0, sizeof *info);
    }
    return st;
}

/* ---- holdout table ---- */

void upf_btyd_holdout_table(const upf_btyd_summary *s, const double *expected, size_t n_buckets,
                            upf_freq_bucket *out)
{
    upf_surv_frequency_table(s->x, s->x_star, expected, s->n, n_buckets, out);
}
