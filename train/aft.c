/* aft.c - Weibull and log-logistic AFT likelihoods, the damped Newton fit
 * (exact MLE), mini-batch Adam with BLAS-scored batches, standardization and
 * per-row predictions (see aft.h for the model and conventions).
 * Legend: n rows, d features, P = d + 2 parameters (beta_1..d, beta_0, log sigma),
 * b rows in a batch or block.
 * Sections: per-row terms, reference likelihood, blocked BLAS likelihood,
 * Newton, Adam, standardization, predictions.
 */
#include "aft.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "../model/rng.h"
#include "minimize.h"

upf_aft_params upf_aft_params_default(void)
{
    upf_aft_params p;
    memset(&p, 0, sizeof p);
    p.dist = UPF_AFT_WEIBULL;
    p.l2 = 0.0;
    p.max_iter = 100;
    p.gtol = 1e-10;
    p.epochs = 20;
    p.batch = 1024;
    p.lr = 0.01;
    p.beta1 = 0.9;
    p.beta2 = 0.999;
    p.eps = 1e-8;
    p.seed = 42;
    return p;
}

upf_status upf_aft_params_check(const upf_aft_params *p, upf_err *err)
{
    if (p->dist != UPF_AFT_WEIBULL && p->dist != UPF_AFT_LOGLOGISTIC)
        return upf_err_set(err, UPF_ERR_ARG, "aft: distribution must be weibull or loglogistic (got %d)", p->dist);
    if (!(p->l2 >= 0.0)) return upf_err_set(err, UPF_ERR_ARG, "aft: l2 must be >= 0 (got %g)", p->l2);
    if (p->max_iter < 1) return upf_err_set(err, UPF_ERR_ARG, "aft: max_iter must be >= 1");
    if (!(p->gtol >= 0.0)) return upf_err_set(err, UPF_ERR_ARG, "aft: gtol must be >= 0 (got %g)", p->gtol);
    if (p->batch < 1) return upf_err_set(err, UPF_ERR_ARG, "aft: batch must be >= 1");
    if (!(p->lr > 0.0)) return upf_err_set(err, UPF_ERR_ARG, "aft: lr must be > 0 (got %g)", p->lr);
    if (!(p->beta1 >= 0.0 && p->beta1 < 1.0) || !(p->beta2 >= 0.0 && p->beta2 < 1.0) || !(p->eps > 0.0))
        return upf_err_set(err, UPF_ERR_ARG, "aft: Adam needs 0 <= beta1, beta2 < 1 and eps > 0 (got %g, %g, %g)",
                           p->beta1, p->beta2, p->eps);
    return UPF_OK;
}

/* ---- per-row terms ---- */

/* log-likelihood of W at z (density for events, survival for censored rows),
 * and its first and second derivatives in z. */
static inline double w_terms(int dist, double z, int event, double *g, double *h)
{
    if (dist == UPF_AFT_WEIBULL) {
        double ez = exp(z);
        *g = event ? 1.0 - ez : -ez;
        *h = -ez;
        return event ? z - ez : -ez;
    }
    /* logistic: s = sigmoid(z), softplus branchy on the sign */
    double e = exp(-fabs(z));
    double s = z >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
    double sp = (z > 0.0 ? z : 0.0) + log1p(e); /* softplus(z) */
    *g = event ? 1.0 - 2.0 * s : -s;
    *h = (event ? -2.0 : -1.0) * s * (1.0 - s);
    return event ? z - 2.0 * sp : -sp; /* log f = z - 2 softplus(z) */
}

/* -log F(z), the right-truncation term (F = 1 - S of W), and its first and
 * second derivatives in z; h >= 0 (both CDFs are log-concave). Weibull:
 * u = e^z, -log F = -log(-expm1(-u)), d/dz log F = u / expm1(u); logistic:
 * -log F = softplus(-z). */
static inline double trunc_terms(int dist, double z, double *g, double *h)
{
    if (dist == UPF_AFT_WEIBULL) {
        double u = exp(z);
        if (u > 700.0) { /* F = 1 to double precision */
            *g = *h = 0.0;
            return 0.0;
        }
        double a = u / expm1(u), b = u / -expm1(-u); /* a = (log F)', b = a e^u */
        *g = -a;
        *h = a * (b - 1.0);
        return -log(-expm1(-u));
    }
    double e = exp(-fabs(z));
    double s = z >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e); /* sigmoid(z) = F */
    *g = -(1.0 - s);
    *h = s * (1.0 - s);
    return (z < 0.0 ? -z : 0.0) + log1p(e); /* softplus(-z) */
}

/* The truncation bound of row i, or 0 when the row is not truncated. */
static inline double row_trunc(const upf_aft_data *D, size_t i)
{
    return D->trunc && isfinite(D->trunc[i]) ? D->trunc[i] : 0.0;
}

static inline double row_x(const upf_aft_data *D, size_t i, size_t j)
{
    return D->Xd ? D->Xd[i * D->d + j] : (double)D->Xf[i * D->d + j];
}

/* ---- reference likelihood: plain loops in double ---- */

double upf_aft_loglik(const upf_aft_data *D, int dist, double l2, const double *theta, double *grad, double *hess)
{
    size_t d = D->d, P = d + 2;
    double ls = theta[d + 1], sigma = exp(ls), b0 = theta[d], ll = 0.0;
    if (grad) memset(grad, 0, P * sizeof *grad);
    if (hess) memset(hess, 0, P * P * sizeof *hess);
    for (size_t i = 0; i < D->n; i++) {
        double w = D->weight ? D->weight[i] : 1.0;
        if (!(D->time[i] > 0.0)) return -(double)INFINITY;
        double eta = b0;
        for (size_t j = 0; j < d; j++) eta += row_x(D, i, j) * theta[j];
        double lt = log(D->time[i]), z = (lt - eta) / sigma, g = 0.0, h = 0.0;
        int ev = D->event[i] != 0;
        double li = w_terms(dist, z, ev, &g, &h);
        if (ev) li -= ls + lt;
        /* truncation: one more term of the same form in its own z */
        double tb = row_trunc(D, i), zt = 0.0, gt = 0.0, ht = 0.0;
        if (D->trunc && !(tb >= 0.0)) return -(double)INFINITY;
        if (tb > 0.0) {
            zt = (log(tb) - eta) / sigma;
            li += trunc_terms(dist, zt, &gt, &ht);
        }
        ll += w * li;
        if (grad) {
            double cb = -w * (g + gt) / sigma;
            for (size_t j = 0; j < d; j++) grad[j] += cb * row_x(D, i, j);
            grad[d] += cb;
            grad[d + 1] += w * (-g * z - (double)ev - gt * zt);
        }
        if (hess) {
            double hb = w * (h + ht) / (sigma * sigma), hs = w * (h * z + g + ht * zt + gt) / sigma;
            for (size_t j = 0; j <= d; j++) {
                double xj = j < d ? row_x(D, i, j) : 1.0;
                for (size_t k = 0; k <= d; k++) hess[j * P + k] += hb * xj * (k < d ? row_x(D, i, k) : 1.0);
                hess[j * P + d + 1] += hs * xj;
                hess[(d + 1) * P + j] += hs * xj;
            }
            hess[(d + 1) * P + d + 1] += w * (h * z * z + g * z + ht * zt * zt + gt * zt);
        }
    }
    if (l2 > 0.0)
        for (size_t j = 0; j < d; j++) {
            ll -= 0.5 * l2 * theta[j] * theta[j];
            if (grad) grad[j] -= l2 * theta[j];
            if (hess) hess[j * P + j] -= l2;
        }
    return isfinite(ll) ? ll : -(double)INFINITY;
}

/* ---- blocked likelihood with BLAS (Newton's workhorse) ---- */

#define AFT_BLOCK 512

typedef struct blas_ws {
    double *xb;   /* (AFT_BLOCK, d+1): block rows with a trailing 1 */
    double *ab;   /* (AFT_BLOCK, d+1): rows scaled by sqrt(-h w)/sigma, for dsyrk */
    double *at;   /* (AFT_BLOCK, d+1): rows scaled by sqrt(h_trunc w)/sigma (truncated data only) */
    double *eta;  /* (AFT_BLOCK) */
    double *cv;   /* (AFT_BLOCK) per-row coefficient for the gradient */
    double *sv;   /* (AFT_BLOCK) per-row coefficient for the beta-sigma cross term */
    double *hbb;  /* (d+1, d+1) */
} blas_ws;

/* Same value and derivatives as upf_aft_loglik, computed block by block with
 * dgemv (eta, gradient, cross term) and dsyrk (the beta-beta Hessian block;
 * -h >= 0 for both laws, so the rows can be scaled by sqrt(-h w)). */
static double loglik_blas(const upf_aft_data *D, int dist, double l2, const double *theta, double *grad,
                          double *hess, blas_ws *ws)
{
    size_t d = D->d, P = d + 2, q = d + 1;
    double ls = theta[d + 1], sigma = exp(ls), ll = 0.0, gs = 0.0, hss = 0.0;
    if (grad) memset(grad, 0, P * sizeof *grad);
    if (hess) {
        memset(hess, 0, P * P * sizeof *hess);
        memset(ws->hbb, 0, q * q * sizeof *ws->hbb);
    }
    double *gq = grad, *cross = hess ? hess + (d + 1) * P : NULL; /* temporarily the last row */
    for (size_t i0 = 0; i0 < D->n; i0 += AFT_BLOCK) {
        size_t b = D->n - i0 < AFT_BLOCK ? D->n - i0 : AFT_BLOCK;
        for (size_t i = 0; i < b; i++) {
            for (size_t j = 0; j < d; j++) ws->xb[i * q + j] = row_x(D, i0 + i, j);
            ws->xb[i * q + d] = 1.0;
        }
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)b, (int)q, 1.0, ws->xb, (int)q, theta, 1, 0.0, ws->eta, 1);
        for (size_t i = 0; i < b; i++) {
            size_t r = i0 + i;
            double w = D->weight ? D->weight[r] : 1.0;
            if (!(D->time[r] > 0.0)) return -(double)INFINITY;
            double lt = log(D->time[r]), z = (lt - ws->eta[i]) / sigma, g = 0.0, h = 0.0;
            int ev = D->event[r] != 0;
            double li = w_terms(dist, z, ev, &g, &h);
            if (ev) li -= ls + lt;
            double tb = row_trunc(D, r), zt = 0.0, gt = 0.0, ht = 0.0;
            if (D->trunc && !(tb >= 0.0)) return -(double)INFINITY;
            if (tb > 0.0) {
                zt = (log(tb) - ws->eta[i]) / sigma;
                li += trunc_terms(dist, zt, &gt, &ht);
            }
            ll += w * li;
            ws->cv[i] = -w * (g + gt) / sigma;
            gs += w * (-g * z - (double)ev - gt * zt);
            /* the beta-beta block: -h >= 0 and h_trunc >= 0 go to two rank-b updates of opposite signs */
            double sh = sqrt(-h * w) / sigma, st = sqrt(ht * w) / sigma;
            for (size_t j = 0; hess && j < q; j++) ws->ab[i * q + j] = sh * ws->xb[i * q + j];
            for (size_t j = 0; hess && D->trunc && j < q; j++) ws->at[i * q + j] = st * ws->xb[i * q + j];
            ws->sv[i] = w * (h * z + g + ht * zt + gt) / sigma;
            hss += w * (h * z * z + g * z + ht * zt * zt + gt * zt);
        }
        if (grad)
            cblas_dgemv(CblasRowMajor, CblasTrans, (int)b, (int)q, 1.0, ws->xb, (int)q, ws->cv, 1, 1.0, gq, 1);
        if (hess) {
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)q, (int)b, -1.0, ws->ab, (int)q, 1.0, ws->hbb,
                        (int)q);
            if (D->trunc)
                cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)q, (int)b, 1.0, ws->at, (int)q, 1.0, ws->hbb,
                            (int)q);
            cblas_dgemv(CblasRowMajor, CblasTrans, (int)b, (int)q, 1.0, ws->xb, (int)q, ws->sv, 1, 1.0, cross, 1);
        }
    }
    if (grad) grad[d + 1] = gs;
    if (hess) {
        for (size_t j = 0; j < q; j++) {
            for (size_t k = j; k < q; k++) hess[j * P + k] = hess[k * P + j] = ws->hbb[j * q + k];
            hess[j * P + d + 1] = cross[j];
        }
        for (size_t j = 0; j < q; j++) hess[(d + 1) * P + j] = hess[j * P + d + 1];
        hess[(d + 1) * P + d + 1] = hss;
    }
    if (l2 > 0.0)
        for (size_t j = 0; j < d; j++) {
            ll -= 0.5 * l2 * theta[j] * theta[j];
            if (grad) grad[j] -= l2 * theta[j];
            if (hess) hess[j * P + j] -= l2;
        }
    return isfinite(ll) ? ll : -(double)INFINITY;
}

static upf_status blas_ws_alloc(blas_ws *ws, size_t d, double **block)
{
    size_t q = d + 1, bq = 0, qq = 0, need = 0, bytes = 0;
    *block = NULL;
    if (upf_mul_size(AFT_BLOCK, q, &bq) || upf_mul_size(q, q, &qq) || upf_add_size(3 * bq, qq, &need) ||
        upf_add_size(need, 3 * AFT_BLOCK, &need) || upf_mul_size(need, sizeof(double), &bytes))
        return UPF_ERR_ARG;
    double *b = upf_malloc(bytes);
    if (!b) return UPF_ERR_NOMEM;
    ws->xb = b;
    ws->ab = b + bq;
    ws->at = ws->ab + bq;
    ws->eta = ws->at + bq;
    ws->cv = ws->eta + AFT_BLOCK;
    ws->sv = ws->cv + AFT_BLOCK;
    ws->hbb = ws->sv + AFT_BLOCK;
    *block = b;
    return UPF_OK;
}

upf_status upf_aft_loglik_fast(const upf_aft_data *D, int dist, double l2, const double *theta, double *grad,
                               double *hess, double *ll)
{
    blas_ws ws;
    double *block = NULL;
    *ll = 0.0;
    upf_status st = blas_ws_alloc(&ws, D->d, &block);
    if (st != UPF_OK) return st;
    *ll = loglik_blas(D, dist, l2, theta, grad, hess, &ws);
    upf_free(block);
    return UPF_OK;
}

/* ---- Newton ---- */

upf_status upf_aft_fit_newton(const upf_aft_data *D, const upf_aft_params *p, double *theta, upf_aft_fit_info *info,
                              upf_err *err)
{
    upf_status st = UPF_OK;
    memset(info, 0, sizeof *info);
    if ((st = upf_aft_params_check(p, err)) != UPF_OK) return st;
    if (D->n == 0 || (!D->Xf && !D->Xd && D->d > 0))
        return upf_err_set(err, UPF_ERR_ARG, "aft newton: no rows or no features (n %zu, d %zu)", D->n, D->d);
    size_t d = D->d, P = d + 2, pp = 0, need = 0;
    double *block = NULL, *wsblock = NULL;
    blas_ws ws;
    if (upf_mul_size(P, P, &pp) || upf_add_size(4 * P, 2 * pp, &need) || need > SIZE_MAX / sizeof(double))
        return upf_err_set(err, UPF_ERR_ARG, "aft newton: %zu features is too many", d);
    block = upf_malloc(need * sizeof(double));
    if (!block || (st = blas_ws_alloc(&ws, d, &wsblock)) != UPF_OK) {
        st = upf_err_set(err, st == UPF_ERR_ARG ? UPF_ERR_ARG : UPF_ERR_NOMEM,
                         "aft newton: out of memory for %zu features", d);
        goto done;
    }
    double *th = block, *trial = th + P, *g = trial + P, *step = g + P, *H = step + P, *A = H + pp;
    memcpy(th, theta, P * sizeof *th);
    int all_zero = 1;
    for (size_t j = 0; j < P; j++) all_zero &= th[j] == 0.0;
    double wsum = 0.0;
    if (all_zero) { /* intercept at the weighted mean of log t, sigma 1 */
        double s = 0.0;
        for (size_t i = 0; i < D->n; i++) {
            double w = D->weight ? D->weight[i] : 1.0;
            s += w * log(D->time[i] > 0.0 ? D->time[i] : 1.0);
            wsum += w;
        }
        th[d] = wsum > 0.0 ? s / wsum : 0.0;
    } else {
        for (size_t i = 0; i < D->n; i++) wsum += D->weight ? D->weight[i] : 1.0;
    }
    double ll = loglik_blas(D, p->dist, p->l2, th, g, H, &ws);
    if (!isfinite(ll)) {
        st = upf_err_set(err, UPF_ERR_NUMERIC, "aft newton: the likelihood is not finite at the start "
                                               "(check that every time is > 0)");
        goto done;
    }
    for (size_t it = 0; it < p->max_iter; it++) {
        info->iterations = it;
        if (upf_interrupted()) {
            st = upf_err_set(err, UPF_ERR_INTERRUPTED, "aft newton: interrupted at iteration %zu", it);
            goto done;
        }
        double gmax = 0.0, dmax = 0.0;
        for (size_t j = 0; j < P; j++) {
            if (fabs(g[j]) > gmax) gmax = fabs(g[j]);
            if (-H[j * P + j] > dmax) dmax = -H[j * P + j];
        }
        info->grad_max = gmax;
        if (gmax <= p->gtol * (wsum > 0.0 ? wsum : 1.0)) {
            info->converged = 1;
            break;
        }
        /* solve (-H + mu I) step = g, raising mu until positive definite */
        double mu = 0.0;
        for (int tries = 0;; tries++) {
            for (size_t j = 0; j < pp; j++) A[j] = -H[j];
            for (size_t j = 0; j < P; j++) A[j * P + j] += mu;
            memcpy(step, g, P * sizeof *step);
            if (upf_min_spd_solve(A, step, P) == UPF_OK) break;
            mu = mu == 0.0 ? 1e-10 * (dmax > 0.0 ? dmax : 1.0) : mu * 10.0;
            if (tries > 40) {
                st = upf_err_set(err, UPF_ERR_NUMERIC, "aft newton: the Hessian cannot be regularized at iteration %zu",
                                 it);
                goto done;
            }
        }
        double slope = 0.0;
        for (size_t j = 0; j < P; j++) slope += g[j] * step[j];
        double t = 1.0, ll_new = -(double)INFINITY;
        for (int k = 0; k < 60; k++, t *= 0.5) {
            for (size_t j = 0; j < P; j++) trial[j] = th[j] + t * step[j];
            ll_new = loglik_blas(D, p->dist, p->l2, trial, NULL, NULL, &ws);
            if (isfinite(ll_new) && ll_new >= ll + 1e-4 * t * slope) break;
        }
        if (!(isfinite(ll_new) && ll_new >= ll)) {
            /* no ascent left at double precision: as converged as it gets */
            info->converged = gmax <= 1e3 * p->gtol * (wsum > 0.0 ? wsum : 1.0);
            break;
        }
        double moved = 0.0;
        for (size_t j = 0; j < P; j++) moved = fmax(moved, fabs(trial[j] - th[j]));
        memcpy(th, trial, P * sizeof *th);
        double gain = ll_new - ll;
        ll = loglik_blas(D, p->dist, p->l2, th, g, H, &ws);
        info->iterations = it + 1;
        if (gain <= 1e-15 * fabs(ll) && moved <= 1e-12) {
            info->converged = 1;
            break;
        }
    }
    info->grad_max = 0.0;
    for (size_t j = 0; j < P; j++) info->grad_max = fmax(info->grad_max, fabs(g[j]));
    info->log_likelihood = p->l2 > 0.0 ? loglik_blas(D, p->dist, 0.0, th, NULL, NULL, &ws) : ll;
    memcpy(theta, th, P * sizeof *th);
done:
    if (st != UPF_OK) memset(info, 0, sizeof *info);
    upf_free(block);
    upf_free(wsblock);
    return st;
}

/* ---- mini-batch gradient: BLAS and reference ---- */

double upf_aft_batch_grad(int dist, size_t b, size_t d, const float *X, const double *time, const uint8_t *event,
                          const double *weight, const double *theta, double *grad, float *scratch)
{
    float *eta = scratch, *cv = scratch + b, *bf = scratch + 2 * b, *gf = bf + d;
    double ls = theta[d + 1], sigma = exp(ls), nll = 0.0, g0 = 0.0, gs = 0.0;
    for (size_t j = 0; j < d; j++) bf[j] = (float)theta[j];
    if (d > 0) cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)b, (int)d, 1.0f, X, (int)d, bf, 1, 0.0f, eta, 1);
    else memset(eta, 0, b * sizeof *eta);
    for (size_t i = 0; i < b; i++) {
        double w = weight ? weight[i] : 1.0;
        double lt = log(time[i]), z = (lt - (double)eta[i] - theta[d]) / sigma, g = 0.0, h = 0.0;
        int ev = event[i] != 0;
        double li = w_terms(dist, z, ev, &g, &h);
        if (ev) li -= ls + lt;
        nll -= w * li;
        double c = w * g / sigma; /* d(-l)/d eta */
        cv[i] = (float)c;
        g0 += c;
        gs += w * (g * z + (double)ev);
    }
    if (d > 0) cblas_sgemv(CblasRowMajor, CblasTrans, (int)b, (int)d, 1.0f, X, (int)d, cv, 1, 0.0f, gf, 1);
    for (size_t j = 0; j < d; j++) grad[j] = (double)gf[j];
    grad[d] = g0;
    grad[d + 1] = gs;
    return nll;
}

double upf_aft_batch_grad_ref(int dist, size_t b, size_t d, const float *X, const double *time, const uint8_t *event,
                              const double *weight, const double *theta, double *grad)
{
    upf_aft_data D = {b, d, X, NULL, time, event, weight, NULL};
    double ll = upf_aft_loglik(&D, dist, 0.0, theta, grad, NULL);
    for (size_t j = 0; j < d + 2; j++) grad[j] = -grad[j];
    return -ll;
}

/* ---- Adam ---- */

upf_status upf_aft_fit_adam(const upf_aft_data *D, const upf_aft_params *p, double *theta, upf_aft_epoch_fn on_epoch,
                            void *ctx, upf_aft_fit_info *info, upf_err *err)
{
    upf_status st = UPF_OK;
    memset(info, 0, sizeof *info);
    if ((st = upf_aft_params_check(p, err)) != UPF_OK) return st;
    if (D->n == 0 || !D->Xf || D->n > UINT32_MAX)
        return upf_err_set(err, UPF_ERR_ARG, "aft adam: needs 1..2^32-1 rows of float features (n %zu)", D->n);
    if (D->trunc)
        return upf_err_set(err, UPF_ERR_ARG, "aft adam: right-truncated rows need the Newton fit (trunc is set)");
    size_t d = D->d, P = d + 2, b = p->batch < D->n ? p->batch : D->n;
    uint32_t *idx = NULL;
    float *Xb = NULL, *fs = NULL;
    double *dbuf = NULL;
    size_t xb_n = 0;
    if (upf_mul_size(b, d ? d : 1, &xb_n)) return upf_err_set(err, UPF_ERR_ARG, "aft adam: batch too large");
    idx = upf_malloc(D->n * sizeof *idx);
    Xb = upf_malloc(xb_n * sizeof *Xb);
    fs = upf_malloc((2 * b + 2 * d) * sizeof *fs);
    dbuf = upf_malloc((3 * b + 5 * P) * sizeof *dbuf);
    if (!idx || !Xb || !fs || !dbuf) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "aft adam: out of memory (%zu rows, batch %zu)", D->n, b);
        goto done;
    }
    double *tb = dbuf, *wb = tb + b, *th = wb + b, *m = th + P, *v = m + P, *g = v + P, *best = g + P;
    uint8_t *eb = (uint8_t *)(dbuf + 2 * b + 5 * P); /* b bytes inside the third b doubles */
    memcpy(th, theta, P * sizeof *th);
    memset(m, 0, 2 * P * sizeof *m);
    double wsum = 0.0, lsum = 0.0;
    for (size_t i = 0; i < D->n; i++) {
        double w = D->weight ? D->weight[i] : 1.0;
        wsum += w;
        lsum += w * log(D->time[i] > 0.0 ? D->time[i] : 1.0);
        idx[i] = (uint32_t)i;
    }
    int all_zero = 1;
    for (size_t j = 0; j < P; j++) all_zero &= th[j] == 0.0;
    if (all_zero && wsum > 0.0) th[d] = lsum / wsum;
    upf_rng rng;
    upf_rng_seed(&rng, p->seed, 0x41465431u /* "AFT1" */);
    size_t step = 0;
    double last_finite = NAN;
    for (size_t ep = 0; ep < p->epochs; ep++) {
        for (size_t i = D->n; i > 1; i--) { /* Fisher-Yates */
            size_t j = (size_t)upf_rng_below64(&rng, i);
            uint32_t t = idx[i - 1];
            idx[i - 1] = idx[j];
            idx[j] = t;
        }
        double lr = p->lr / sqrt(1.0 + (double)ep), ep_nll = 0.0, ep_w = 0.0;
        for (size_t s0 = 0; s0 < D->n; s0 += b) {
            if (upf_interrupted()) {
                st = upf_err_set(err, UPF_ERR_INTERRUPTED, "aft adam: interrupted at epoch %zu step %zu", ep, step);
                goto done;
            }
            size_t bb = D->n - s0 < b ? D->n - s0 : b;
            double bw = 0.0;
            for (size_t i = 0; i < bb; i++) {
                size_t r = idx[s0 + i];
                memcpy(Xb + i * d, D->Xf + r * d, d * sizeof *Xb);
                tb[i] = D->time[r] > 0.0 ? D->time[r] : (double)NAN;
                eb[i] = D->event[r];
                wb[i] = D->weight ? D->weight[r] : 1.0;
                bw += wb[i];
            }
            double nll = upf_aft_batch_grad(p->dist, bb, d, Xb, tb, eb, wb, th, g, fs);
            if (!isfinite(nll)) {
                st = upf_err_set(err, UPF_ERR_NUMERIC,
                                 "aft adam: loss is not finite at epoch %zu step %zu (last finite mean loss %g)", ep,
                                 step, last_finite);
                goto done;
            }
            ep_nll += nll;
            ep_w += bw;
            last_finite = nll / (bw > 0.0 ? bw : 1.0);
            step++;
            double c1 = 1.0 - pow(p->beta1, (double)step), c2 = 1.0 - pow(p->beta2, (double)step);
            double inv = bw > 0.0 ? 1.0 / bw : 0.0;
            for (size_t j = 0; j < P; j++) {
                double gj = g[j] * inv + (j < d ? p->l2 * th[j] / wsum : 0.0);
                m[j] = p->beta1 * m[j] + (1.0 - p->beta1) * gj;
                v[j] = p->beta2 * v[j] + (1.0 - p->beta2) * gj * gj;
                th[j] -= lr * (m[j] / c1) / (sqrt(v[j] / c2) + p->eps);
            }
            /* keep sigma in a range where exp(z) stays finite for any sane data */
            th[d + 1] = fmin(fmax(th[d + 1], -8.0), 5.0);
        }
        double pen = 0.0;
        for (size_t j = 0; j < d; j++) pen += 0.5 * p->l2 * th[j] * th[j];
        if (on_epoch && (st = on_epoch(ctx, ep, (ep_nll + pen) / (ep_w > 0.0 ? ep_w : 1.0), th, err)) != UPF_OK)
            goto done;
    }
    memcpy(best, th, P * sizeof *th);
    {
        upf_aft_data Dl = *D;
        double ll = upf_aft_loglik(&Dl, p->dist, 0.0, best, g, NULL);
        info->log_likelihood = ll;
        info->grad_max = 0.0;
        for (size_t j = 0; j < P; j++) info->grad_max = fmax(info->grad_max, fabs(g[j]));
    }
    info->iterations = step;
    memcpy(theta, th, P * sizeof *th);
done:
    if (st != UPF_OK) memset(info, 0, sizeof *info);
    upf_free(idx);
    upf_free(Xb);
    upf_free(fs);
    upf_free(dbuf);
    return st;
}

/* ---- standardization ---- */

void upf_aft_standardize(float *X, size_t n, size_t d, double *center, double *scale)
{
    for (size_t j = 0; j < d; j++) {
        double s = 0.0, ss = 0.0;
        for (size_t i = 0; i < n; i++) s += (double)X[i * d + j];
        double mean = n ? s / (double)n : 0.0;
        for (size_t i = 0; i < n; i++) {
            double e = (double)X[i * d + j] - mean;
            ss += e * e;
        }
        double sd = n ? sqrt(ss / (double)n) : 0.0;
        center[j] = mean;
        scale[j] = sd > 1e-12 * (1.0 + fabs(mean)) ? sd : 1.0;
    }
    upf_aft_apply_standardize(X, n, d, center, scale);
}

void upf_aft_apply_standardize(float *X, size_t n, size_t d, const double *center, const double *scale)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) X[i * d + j] = (float)(((double)X[i * d + j] - center[j]) / scale[j]);
}

/* ---- predictions ---- */

void upf_aft_predict(int dist, size_t d, const float *x, const double *theta, double horizon, size_t grid,
                     double *scratch, upf_aft_prediction *out)
{
    double eta = theta[d], sigma = exp(theta[d + 1]);
    for (size_t j = 0; j < d; j++) eta += (double)x[j] * theta[j];
    out->eta = eta;
    out->p_none = upf_aft_survival(dist, eta, sigma, horizon);
    out->median = upf_aft_quantile(dist, eta, sigma, 0.5);
    out->q10 = upf_aft_quantile(dist, eta, sigma, 0.1);
    out->q90 = upf_aft_quantile(dist, eta, sigma, 0.9);
    out->expected = grid ? upf_aft_expected_count(dist, eta, sigma, horizon, grid, scratch) : 0.0;
}
