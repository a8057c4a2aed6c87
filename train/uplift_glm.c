/* uplift_glm.c - weighted logistic / linear regression with L2: the
 * reference objective, the BLAS mini-batch kernel and its plain loops, Adam,
 * and full-batch Newton / IRLS (definitions in uplift_glm.h).
 * Legend: n rows, d features, b rows in a batch, P = d + 1 parameters.
 */
#include "uplift_glm.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "../model/rng.h"
#include "minimize.h"

upf_glm_params upf_glm_params_default(void)
{
    upf_glm_params p;
    memset(&p, 0, sizeof p);
    p.link = UPF_GLM_LOGISTIC;
    p.l2 = 1e-4;
    p.epochs = 20;
    p.batch = 512;
    p.lr = 0.05;
    p.beta1 = 0.9;
    p.beta2 = 0.999;
    p.eps = 1e-8;
    p.seed = 1;
    p.max_iter = 50;
    p.gtol = 1e-9;
    return p;
}

upf_status upf_glm_params_check(const upf_glm_params *p, upf_err *err)
{
    if (p->link != UPF_GLM_LOGISTIC && p->link != UPF_GLM_LINEAR)
        return upf_err_set(err, UPF_ERR_ARG, "glm: link %d (expected logistic 0 or linear 1)", p->link);
    if (!(p->l2 >= 0.0) || !isfinite(p->l2)) return upf_err_set(err, UPF_ERR_ARG, "glm: l2 %g (expected >= 0)", p->l2);
    if (p->epochs < 1 || p->batch < 1) return upf_err_set(err, UPF_ERR_ARG, "glm: epochs and batch must be >= 1");
    if (!(p->lr > 0.0) || !isfinite(p->lr)) return upf_err_set(err, UPF_ERR_ARG, "glm: lr %g (expected > 0)", p->lr);
    if (!(p->beta1 >= 0.0 && p->beta1 < 1.0) || !(p->beta2 >= 0.0 && p->beta2 < 1.0) || !(p->eps > 0.0))
        return upf_err_set(err, UPF_ERR_ARG, "glm: Adam moments must lie in [0, 1) and eps > 0");
    if (p->max_iter < 1 || !(p->gtol >= 0.0)) return upf_err_set(err, UPF_ERR_ARG, "glm: max_iter >= 1, gtol >= 0");
    return UPF_OK;
}

static upf_status check_data(const upf_glm_data *D, int link, upf_err *err)
{
    if (!D || D->n == 0 || !D->y || (D->d > 0 && !D->X))
        return upf_err_set(err, UPF_ERR_ARG, "glm: no rows (or NULL arrays)");
    if (D->n > INT32_MAX || D->d > INT32_MAX) return upf_err_set(err, UPF_ERR_ARG, "glm: %zu rows too many for BLAS", D->n);
    double wsum = 0.0;
    for (size_t i = 0; i < D->n; i++) {
        double y = (double)D->y[i], w = D->w ? (double)D->w[i] : 1.0;
        if (!isfinite(y) || (link == UPF_GLM_LOGISTIC && y != 0.0 && y != 1.0))
            return upf_err_set(err, UPF_ERR_ARG, "glm: row %zu: outcome %g (expected %s)", i, y,
                               link == UPF_GLM_LOGISTIC ? "0 or 1" : "a finite number");
        if (!(w >= 0.0) || !isfinite(w)) return upf_err_set(err, UPF_ERR_ARG, "glm: row %zu: weight %g", i, w);
        wsum += w;
    }
    if (!(wsum > 0.0)) return upf_err_set(err, UPF_ERR_ARG, "glm: the row weights sum to 0");
    return UPF_OK;
}

double upf_glm_sigmoid(double eta)
{
    if (eta >= 0.0) return 1.0 / (1.0 + exp(-eta));
    double e = exp(eta);
    return e / (1.0 + e);
}

double upf_glm_softplus(double eta)
{
    return eta > 0.0 ? eta + log1p(exp(-eta)) : log1p(exp(eta));
}

/* loss of one row and its derivative in eta */
static double row_loss(int link, double y, double eta, double *dl)
{
    if (link == UPF_GLM_LINEAR) {
        *dl = eta - y;
        return 0.5 * (eta - y) * (eta - y);
    }
    *dl = upf_glm_sigmoid(eta) - y;
    return upf_glm_softplus(eta) - y * eta;
}

/* ---- the reference objective ---- */

double upf_glm_loss(const upf_glm_data *D, int link, double l2, const double *theta, double *grad)
{
    size_t d = D->d;
    double wsum = 0.0, sum = 0.0;
    if (grad) memset(grad, 0, (d + 1) * sizeof *grad);
    for (size_t i = 0; i < D->n; i++) {
        double w = D->w ? (double)D->w[i] : 1.0, y = (double)D->y[i], eta = theta[d], dl;
        if (link == UPF_GLM_LOGISTIC && y != 0.0 && y != 1.0) return (double)NAN;
        const float *x = D->X + i * d;
        for (size_t j = 0; j < d; j++) eta += (double)x[j] * theta[j];
        sum += w * row_loss(link, y, eta, &dl);
        wsum += w;
        if (grad) {
            for (size_t j = 0; j < d; j++) grad[j] += w * dl * (double)x[j];
            grad[d] += w * dl;
        }
    }
    if (!(wsum > 0.0)) return (double)NAN;
    double pen = 0.0;
    for (size_t j = 0; j < d; j++) pen += theta[j] * theta[j];
    if (grad) {
        for (size_t j = 0; j <= d; j++) grad[j] /= wsum;
        for (size_t j = 0; j < d; j++) grad[j] += l2 * theta[j];
    }
    return sum / wsum + 0.5 * l2 * pen;
}

/* ---- the mini-batch kernel ---- */

double upf_glm_batch_grad(int link, size_t b, size_t d, const float *X, const float *y, const float *w,
                          const double *theta, double *grad, float *scratch)
{
    float *eta = scratch, *r = scratch + b, *bf = scratch + 2 * b, *gf = bf + d;
    double loss = 0.0, g0 = 0.0;
    for (size_t j = 0; j < d; j++) bf[j] = (float)theta[j];
    if (d > 0) cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)b, (int)d, 1.0f, X, (int)d, bf, 1, 0.0f, eta, 1);
    else memset(eta, 0, b * sizeof *eta);
    for (size_t i = 0; i < b; i++) {
        double wi = w ? (double)w[i] : 1.0, dl;
        loss += wi * row_loss(link, (double)y[i], (double)eta[i] + theta[d], &dl);
        r[i] = (float)(wi * dl);
        g0 += wi * dl;
    }
    if (d > 0) cblas_sgemv(CblasRowMajor, CblasTrans, (int)b, (int)d, 1.0f, X, (int)d, r, 1, 0.0f, gf, 1);
    for (size_t j = 0; j < d; j++) grad[j] = (double)gf[j];
    grad[d] = g0;
    return loss;
}

double upf_glm_batch_grad_ref(int link, size_t b, size_t d, const float *X, const float *y, const float *w,
                              const double *theta, double *grad)
{
    double loss = 0.0;
    memset(grad, 0, (d + 1) * sizeof *grad);
    for (size_t i = 0; i < b; i++) {
        double eta = theta[d], wi = w ? (double)w[i] : 1.0, dl;
        for (size_t j = 0; j < d; j++) eta += (double)X[i * d + j] * theta[j];
        loss += wi * row_loss(link, (double)y[i], eta, &dl);
        for (size_t j = 0; j < d; j++) grad[j] += wi * dl * (double)X[i * d + j];
        grad[d] += wi * dl;
    }
    return loss;
}

/* ---- Adam ---- */

upf_status upf_glm_fit_adam(const upf_glm_data *D, const upf_glm_params *p, double *theta, upf_glm_epoch_fn on_epoch,
                            void *ctx, upf_glm_fit_info *info, upf_err *err)
{
    upf_status st = UPF_OK;
    upf_glm_fit_info scratch_info;
    if (!info) info = &scratch_info;
    memset(info, 0, sizeof *info);
    if ((st = upf_glm_params_check(p, err)) || (st = check_data(D, p->link, err))) return st;
    size_t n = D->n, d = D->d, P = d + 1, b = p->batch < n ? p->batch : n, xb_n = 0;
    if (upf_mul_size(b, d ? d : 1, &xb_n)) return upf_err_set(err, UPF_ERR_ARG, "glm adam: batch too large");
    int32_t *idx = upf_malloc(n * sizeof *idx);
    float *Xb = upf_malloc(xb_n * sizeof *Xb), *yb = upf_malloc(b * sizeof *yb), *wb = upf_malloc(b * sizeof *wb);
    float *fs = upf_malloc((2 * b + 2 * d) * sizeof *fs);
    double *blk = upf_malloc(4 * P * sizeof *blk);
    if (!idx || !Xb || !yb || !wb || !fs || !blk) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "glm adam: out of memory (%zu rows, batch %zu)", n, b);
        goto done;
    }
    /* one block: parameters, Adam moments, gradient */
    double *th = blk, *m = th + P, *v = m + P, *g = v + P;
    memcpy(th, theta, P * sizeof *th);
    memset(m, 0, 2 * P * sizeof *m);
    for (size_t i = 0; i < n; i++) idx[i] = (int32_t)i;
    upf_rng rng;
    upf_rng_seed(&rng, p->seed, 0x474c4d31u /* "GLM1" */);
    size_t step = 0;
    double last = (double)NAN;
    for (size_t ep = 0; ep < p->epochs; ep++) {
        upf_rng_shuffle_i32(&rng, idx, n);
        double lr = p->lr / sqrt(1.0 + (double)ep), ep_loss = 0.0, ep_w = 0.0;
        for (size_t s0 = 0; s0 < n; s0 += b) {
            if ((step & 63) == 0 && upf_interrupted()) {
                st = upf_err_set(err, UPF_ERR_INTERRUPTED, "glm adam: interrupted at epoch %zu", ep + 1);
                goto done;
            }
            size_t bb = s0 + b <= n ? b : n - s0;
            double wsum = 0.0;
            for (size_t r = 0; r < bb; r++) {
                size_t i = (size_t)idx[s0 + r];
                if (d) memcpy(Xb + r * d, D->X + i * d, d * sizeof *Xb);
                yb[r] = D->y[i];
                wb[r] = D->w ? D->w[i] : 1.0f;
                wsum += (double)wb[r];
            }
            if (!(wsum > 0.0)) continue; /* a batch of zero-weight rows teaches nothing */
            double loss = upf_glm_batch_grad(p->link, bb, d, Xb, yb, wb, th, g, fs);
            if (!isfinite(loss)) {
                st = upf_err_set(err, UPF_ERR_NUMERIC, "glm adam: loss not finite at epoch %zu, step %zu (last finite %g)",
                                 ep + 1, step + 1, last);
                goto done;
            }
            ep_loss += loss;
            ep_w += wsum;
            step++;
            double bc1 = 1.0 - pow(p->beta1, (double)step), bc2 = 1.0 - pow(p->beta2, (double)step);
            for (size_t j = 0; j < P; j++) {
                double gj = g[j] / wsum + (j < d ? p->l2 * th[j] : 0.0);
                m[j] = p->beta1 * m[j] + (1.0 - p->beta1) * gj;
                v[j] = p->beta2 * v[j] + (1.0 - p->beta2) * gj * gj;
                th[j] -= lr * (m[j] / bc1) / (sqrt(v[j] / bc2) + p->eps);
            }
        }
        double pen = 0.0;
        for (size_t j = 0; j < d; j++) pen += th[j] * th[j];
        last = ep_loss / ep_w + 0.5 * p->l2 * pen;
        if (on_epoch && (st = on_epoch(ctx, ep, last, err)) != UPF_OK) goto done;
    }
    memcpy(theta, th, P * sizeof *th);
    info->objective = upf_glm_loss(D, p->link, p->l2, th, g);
    for (size_t j = 0; j < P; j++) info->grad_max = fmax(info->grad_max, fabs(g[j]));
    info->iterations = step;
done:
    if (st) memset(info, 0, sizeof *info);
    upf_free(idx);
    upf_free(Xb);
    upf_free(yb);
    upf_free(wb);
    upf_free(fs);
    upf_free(blk);
    return st;
}

/* ---- Newton / IRLS ---- */

/* J, gradient (P) and Hessian (P x P, row-major, full) in double, by blocks
 * of rows: eta by dgemv, the Hessian's feature block by dsyrk on sqrt(h) x. */
static double newton_terms(const upf_glm_data *D, int link, double l2, const double *th, double *g, double *H,
                           double *xb /* (blk, P) */, double *eta /* (blk) */, size_t blk, double wsum)
{
    size_t n = D->n, d = D->d, P = d + 1;
    double sum = 0.0;
    memset(g, 0, P * sizeof *g);
    if (H) memset(H, 0, P * P * sizeof *H);
    for (size_t r0 = 0; r0 < n; r0 += blk) {
        size_t bb = r0 + blk <= n ? blk : n - r0;
        for (size_t r = 0; r < bb; r++) {
            const float *x = D->X + (r0 + r) * d;
            for (size_t j = 0; j < d; j++) xb[r * P + j] = (double)x[j];
            xb[r * P + d] = 1.0;
        }
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)bb, (int)P, 1.0, xb, (int)P, th, 1, 0.0, eta, 1);
        for (size_t r = 0; r < bb; r++) {
            size_t i = r0 + r;
            double w = D->w ? (double)D->w[i] : 1.0, dl;
            sum += w * row_loss(link, (double)D->y[i], eta[r], &dl);
            double h = link == UPF_GLM_LINEAR ? 1.0 : upf_glm_sigmoid(eta[r]) * (1.0 - upf_glm_sigmoid(eta[r]));
            double c = w * dl / wsum, s = sqrt(w * h / wsum);
            for (size_t j = 0; j < P; j++) {
                g[j] += c * xb[r * P + j];
                xb[r * P + j] *= s; /* the row of sqrt(w h / W) x for the Hessian */
            }
        }
        if (H) cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)P, (int)bb, 1.0, xb, (int)P, 1.0, H, (int)P);
    }
    double pen = 0.0;
    for (size_t j = 0; j < d; j++) {
        pen += th[j] * th[j];
        g[j] += l2 * th[j];
        if (H) H[j * P + j] += l2;
    }
    if (H)
        for (size_t a = 0; a < P; a++)
            for (size_t c = 0; c < a; c++) H[a * P + c] = H[c * P + a];
    return sum / wsum + 0.5 * l2 * pen;
}

upf_status upf_glm_fit_newton(const upf_glm_data *D, const upf_glm_params *p, double *theta, upf_glm_fit_info *info,
                              upf_err *err)
{
    upf_status st = UPF_OK;
    upf_glm_fit_info scratch_info;
    if (!info) info = &scratch_info;
    memset(info, 0, sizeof *info);
    if ((st = upf_glm_params_check(p, err)) || (st = check_data(D, p->link, err))) return st;
    size_t d = D->d, P = d + 1, blk = 256, hn = 0;
    if (upf_mul_size(P, P, &hn) || hn > ((size_t)1 << 26))
        return upf_err_set(err, UPF_ERR_ARG, "glm newton: %zu features are too many for a dense Hessian", d);
    double wsum = 0.0;
    for (size_t i = 0; i < D->n; i++) wsum += D->w ? (double)D->w[i] : 1.0;
    double *blkm = upf_malloc((2 * hn + 5 * P + blk * P + blk) * sizeof *blkm);
    if (!blkm) return upf_err_set(err, UPF_ERR_NOMEM, "glm newton: out of memory (%zu features)", d);
    double *H = blkm, *A = H + hn, *th = A + hn, *g = th + P, *step = g + P, *trial = step + P, *g2 = trial + P;
    double *xb = g2 + P, *eta = xb + blk * P;
    memcpy(th, theta, P * sizeof *th);
    double J = newton_terms(D, p->link, p->l2, th, g, H, xb, eta, blk, wsum);
    for (size_t it = 0; it < p->max_iter; it++) {
        if (upf_interrupted()) {
            st = upf_err_set(err, UPF_ERR_INTERRUPTED, "glm newton: interrupted at iteration %zu", it + 1);
            goto done;
        }
        if (!isfinite(J)) {
            st = upf_err_set(err, UPF_ERR_NUMERIC, "glm newton: objective not finite at iteration %zu", it + 1);
            goto done;
        }
        double gmax = 0.0;
        for (size_t j = 0; j < P; j++) gmax = fmax(gmax, fabs(g[j]));
        if (gmax <= p->gtol) {
            info->converged = 1;
            break;
        }
        memcpy(A, H, hn * sizeof *A);
        for (size_t j = 0; j < P; j++) step[j] = -g[j];
        if (upf_min_spd_solve(A, step, P) != UPF_OK) {
            st = upf_err_set(err, UPF_ERR_NUMERIC,
                             "glm newton: the Hessian is singular at iteration %zu (set l2 > 0 or drop collinear "
                             "features)",
                             it + 1);
            goto done;
        }
        double slope = 0.0, t = 1.0, J2 = (double)INFINITY;
        for (size_t j = 0; j < P; j++) slope += g[j] * step[j];
        /* Newton decrement (Boyd & Vandenberghe 9.5.1): once the predicted
         * decrease -slope/2 is below what J can resolve, a line search on J
         * decides nothing: take the full step (quadratic regime) and stop
         * when the decrease is negligible even for the gradient */
        if (-0.5 * slope <= 1e-12 * (1.0 + fabs(J))) {
            if (-0.5 * slope <= 1e-28 * (1.0 + fabs(J))) {
                info->converged = 1;
                break;
            }
            for (size_t j = 0; j < P; j++) th[j] += step[j];
            J = newton_terms(D, p->link, p->l2, th, g, H, xb, eta, blk, wsum);
            info->iterations = it + 1;
            continue;
        }
        for (int k = 0; k < 50; k++, t *= 0.5) {
            for (size_t j = 0; j < P; j++) trial[j] = th[j] + t * step[j];
            J2 = newton_terms(D, p->link, p->l2, trial, g2, NULL, xb, eta, blk, wsum);
            if (isfinite(J2) && J2 <= J + 1e-4 * t * slope) break;
        }
        if (!(isfinite(J2) && J2 <= J)) { /* no descent left at double precision */
            info->converged = gmax <= 1e3 * p->gtol;
            break;
        }
        memcpy(th, trial, P * sizeof *th);
        J = newton_terms(D, p->link, p->l2, th, g, H, xb, eta, blk, wsum);
        info->iterations = it + 1;
    }
    memcpy(theta, th, P * sizeof *th);
    info->objective = J;
    for (size_t j = 0; j < P; j++) info->grad_max = fmax(info->grad_max, fabs(g[j]));
done:
    if (st) memset(info, 0, sizeof *info);
    upf_free(blkm);
    return st;
}

void upf_glm_predict(int link, size_t n, size_t d, const float *X, const double *theta, double *eta, double *mean)
{
    enum { BLK = 1024 };
    float bf[1], ef[BLK];
    float *beta = d ? upf_malloc(d * sizeof *beta) : bf;
    if (!beta) { /* no memory for the float copy: plain loops */
        for (size_t i = 0; i < n; i++) {
            double e = theta[d];
            for (size_t j = 0; j < d; j++) e += (double)X[i * d + j] * theta[j];
            eta[i] = e;
        }
    } else {
        for (size_t j = 0; j < d; j++) beta[j] = (float)theta[j];
        for (size_t r0 = 0; r0 < n; r0 += BLK) {
            size_t bb = r0 + BLK <= n ? BLK : n - r0;
            if (d) cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)bb, (int)d, 1.0f, X + r0 * d, (int)d, beta, 1, 0.0f, ef, 1);
            for (size_t r = 0; r < bb; r++) eta[r0 + r] = (d ? (double)ef[r] : 0.0) + theta[d];
        }
        if (d) upf_free(beta);
    }
    if (mean)
        for (size_t i = 0; i < n; i++) mean[i] = link == UPF_GLM_LINEAR ? eta[i] : upf_glm_sigmoid(eta[i]);
}
