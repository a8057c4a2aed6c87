/* minimize.c - Nelder-Mead with restarts, BFGS with a strong-Wolfe line search,
 * central-difference gradients and a Cholesky SPD solve (see minimize.h).
 * Dense and tiny by design: every vector has the few parameters of a model.
 */
#include "minimize.h"

#include <math.h>
#include <string.h>

upf_min_params upf_min_params_default(void)
{
    upf_min_params p = {5000, 20, 1e-14, 1e-10, 1e-8, 0.5};
    return p;
}

/* Non-finite values sort after everything. */
static double sanitize(double v) { return isfinite(v) ? v : (double)INFINITY; }

/* ---- Nelder-Mead ---- */

static size_t nm_run(upf_min_fn f, void *ctx, size_t n, double *sim /* (n+1, n) */, double *fv /* (n+1) */,
                     double *work /* (4n) */, const upf_min_params *p, size_t *evals, int *converged)
{
    double *cen = work, *xr = work + n, *xe = work + 2 * n, *xc = work + 3 * n;
    size_t it = 0;
    *converged = 0;
    for (; it < p->max_iter; it++) {
        if (upf_interrupted()) break;
        /* order: best first (insertion sort; n is small) */
        for (size_t i = 1; i <= n; i++)
            for (size_t j = i; j > 0 && fv[j] < fv[j - 1]; j--) {
                double t = fv[j];
                fv[j] = fv[j - 1];
                fv[j - 1] = t;
                for (size_t k = 0; k < n; k++) {
                    t = sim[j * n + k];
                    sim[j * n + k] = sim[(j - 1) * n + k];
                    sim[(j - 1) * n + k] = t;
                }
            }
        double diam = 0.0;
        for (size_t i = 1; i <= n; i++)
            for (size_t k = 0; k < n; k++) {
                double d = fabs(sim[i * n + k] - sim[k]);
                if (d > diam) diam = d;
            }
        if (isfinite(fv[n]) && fv[n] - fv[0] <= p->ftol * (fabs(fv[0]) + 1e-300) && diam <= p->xtol) {
            *converged = 1;
            break;
        }
        for (size_t k = 0; k < n; k++) {
            double s = 0.0;
            for (size_t i = 0; i < n; i++) s += sim[i * n + k];
            cen[k] = s / (double)n;
        }
        double *worst = sim + n * n;
        for (size_t k = 0; k < n; k++) xr[k] = cen[k] + (cen[k] - worst[k]);
        double fr = sanitize(f(xr, ctx));
        (*evals)++;
        if (fr < fv[0]) {
            for (size_t k = 0; k < n; k++) xe[k] = cen[k] + 2.0 * (cen[k] - worst[k]);
            double fe = sanitize(f(xe, ctx));
            (*evals)++;
            if (fe < fr) {
                memcpy(worst, xe, n * sizeof *xe);
                fv[n] = fe;
            } else {
                memcpy(worst, xr, n * sizeof *xr);
                fv[n] = fr;
            }
            continue;
        }
        if (fr < fv[n - 1]) {
            memcpy(worst, xr, n * sizeof *xr);
            fv[n] = fr;
            continue;
        }
        int outside = fr < fv[n];
        for (size_t k = 0; k < n; k++)
            xc[k] = outside ? cen[k] + 0.5 * (xr[k] - cen[k]) : cen[k] + 0.5 * (worst[k] - cen[k]);
        double fc = sanitize(f(xc, ctx));
        (*evals)++;
        if ((outside && fc <= fr) || (!outside && fc < fv[n])) {
            memcpy(worst, xc, n * sizeof *xc);
            fv[n] = fc;
            continue;
        }
        /* shrink toward the best vertex */
        for (size_t i = 1; i <= n; i++) {
            for (size_t k = 0; k < n; k++) sim[i * n + k] = sim[k] + 0.5 * (sim[i * n + k] - sim[k]);
            fv[i] = sanitize(f(sim + i * n, ctx));
            (*evals)++;
        }
    }
    return it;
}

upf_status upf_min_nelder_mead(upf_min_fn f, void *ctx, size_t n, double *x, const upf_min_params *p,
                               upf_min_result *res, upf_err *err)
{
    upf_status st = UPF_OK;
    double *sim = NULL, *fv = NULL, *work = NULL;
    memset(res, 0, sizeof *res);
    size_t nsim = 0;
    if (n == 0 || upf_mul_size(n + 1, n, &nsim) != 0) return upf_err_set(err, UPF_ERR_ARG, "nelder-mead: n = %zu", n);
    sim = upf_malloc(nsim * sizeof *sim);
    fv = upf_malloc((n + 1) * sizeof *fv);
    work = upf_malloc(4 * n * sizeof *work);
    if (!sim || !fv || !work) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "nelder-mead: out of memory");
        goto done;
    }
    double best = sanitize(f(x, ctx));
    res->evals = 1;
    if (!isfinite(best)) {
        st = upf_err_set(err, UPF_ERR_NUMERIC, "nelder-mead: objective is not finite at the starting point");
        goto done;
    }
    for (size_t round = 0; round <= p->max_restarts; round++) {
        memcpy(sim, x, n * sizeof *x);
        fv[0] = best;
        for (size_t i = 1; i <= n; i++) {
            memcpy(sim + i * n, x, n * sizeof *x);
            sim[i * n + (i - 1)] += p->step;
            fv[i] = sanitize(f(sim + i * n, ctx));
            res->evals++;
        }
        int conv = 0;
        res->iters += nm_run(f, ctx, n, sim, fv, work, p, &res->evals, &conv);
        if (upf_interrupted()) {
            st = upf_err_set(err, UPF_ERR_INTERRUPTED, "nelder-mead: interrupted");
            goto done;
        }
        size_t ib = 0;
        for (size_t i = 1; i <= n; i++)
            if (fv[i] < fv[ib]) ib = i;
        double gain = best - fv[ib];
        if (fv[ib] <= best) {
            memcpy(x, sim + ib * n, n * sizeof *x);
            best = fv[ib];
        }
        res->converged = conv;
        if (!(gain > p->ftol * (fabs(best) + 1e-300))) break;
    }
    res->f = best;
done:
    upf_free(sim);
    upf_free(fv);
    upf_free(work);
    return st;
}

/* ---- BFGS ---- */

typedef struct ls_ctx {
    upf_min_fg fg;
    void *ctx;
    size_t n;
    const double *x0, *dir;
    double *xt, *gt; /* trial point and its gradient */
    size_t evals;
} ls_ctx;

/* phi(t) = f(x0 + t d) and phi'(t) = g(x0 + t d).d */
static double ls_eval(ls_ctx *c, double t, double *dphi)
{
    for (size_t k = 0; k < c->n; k++) c->xt[k] = c->x0[k] + t * c->dir[k];
    double v = sanitize(c->fg(c->xt, c->gt, c->ctx));
    c->evals++;
    double d = 0.0;
    for (size_t k = 0; k < c->n; k++) d += c->gt[k] * c->dir[k];
    *dphi = isfinite(v) && isfinite(d) ? d : (double)INFINITY;
    if (!isfinite(*dphi)) v = INFINITY;
    return v;
}

/* Interpolating minimizer of the cubic through (a, fa, da), (b, fb, db),
 * safeguarded into the middle of [a, b]; bisection when the cubic fails. */
static double cubic_min(double a, double fa, double da, double b, double fb, double db)
{
    double lo = a < b ? a : b, hi = a < b ? b : a, w = hi - lo;
    double d1 = da + db - 3.0 * (fa - fb) / (a - b);
    double disc = d1 * d1 - da * db;
    double t = 0.5 * (a + b);
    if (isfinite(fb) && disc >= 0.0) {
        double d2 = (b > a ? 1.0 : -1.0) * sqrt(disc);
        double den = db - da + 2.0 * d2;
        if (den != 0.0) t = b - (b - a) * (db + d2 - d1) / den;
    }
    if (!(t > lo + 0.1 * w && t < hi - 0.1 * w)) t = 0.5 * (a + b);
    return t;
}

/* Zoom phase (Nocedal & Wright algorithm 3.6) on the bracket (lo, hi), lo
 * being the end with sufficient decrease. Returns the accepted step, or the
 * best sufficient-decrease step seen (possibly 0). */
static double ls_zoom(ls_ctx *c, double f0, double d0, double lo, double flo, double dlo, double hi, double fhi,
                      double dhi, double *ft)
{
    const double c1 = 1e-4, c2 = 0.9;
    for (int j = 0; j < 60; j++) {
        double tj = isfinite(fhi) ? cubic_min(lo, flo, dlo, hi, fhi, dhi) : 0.5 * (lo + hi);
        double dj = 0.0;
        double fj = ls_eval(c, tj, &dj);
        if (!isfinite(fj) || fj > f0 + c1 * tj * d0 || fj >= flo) {
            hi = tj;
            fhi = fj;
            dhi = dj;
        } else {
            if (fabs(dj) <= -c2 * d0) {
                *ft = fj;
                return tj;
            }
            if (dj * (hi - lo) >= 0.0) {
                hi = lo;
                fhi = flo;
                dhi = dlo;
            }
            lo = tj;
            flo = fj;
            dlo = dj;
        }
        if (fabs(hi - lo) < 1e-16 * (fabs(lo) + 1e-300)) break;
    }
    if (!(lo > 0.0)) return 0.0;
    double dd = 0.0;
    *ft = ls_eval(c, lo, &dd); /* leave xt/gt at the returned point */
    return lo;
}

/* Strong-Wolfe line search (algorithm 3.5); returns the accepted step (0
 * when none) with c->xt / c->gt holding that point and *ft its value. */
static double line_search(ls_ctx *c, double f0, double d0, double t1, double *ft)
{
    const double c1 = 1e-4, c2 = 0.9;
    double tp = 0.0, fp = f0, dp = d0, t = t1;
    for (int i = 0; i < 40; i++) {
        double dt = 0.0;
        double f = ls_eval(c, t, &dt);
        if (!isfinite(f) || f > f0 + c1 * t * d0 || (i > 0 && f >= fp))
            return ls_zoom(c, f0, d0, tp, fp, dp, t, f, dt, ft);
        if (fabs(dt) <= -c2 * d0) {
            *ft = f;
            return t;
        }
        if (dt >= 0.0) return ls_zoom(c, f0, d0, t, f, dt, tp, fp, dp, ft);
        tp = t;
        fp = f;
        dp = dt;
        t *= 2.0;
    }
    return 0.0;
}

upf_status upf_min_bfgs(upf_min_fg fg, void *ctx, size_t n, double *x, const upf_min_params *p,
                        upf_min_result *res, upf_err *err)
{
    upf_status st = UPF_OK;
    double *H = NULL, *g = NULL, *d = NULL, *xt = NULL, *gt = NULL, *s = NULL, *y = NULL, *Hy = NULL;
    memset(res, 0, sizeof *res);
    size_t nn = 0;
    if (n == 0 || upf_mul_size(n, n, &nn) != 0) return upf_err_set(err, UPF_ERR_ARG, "bfgs: n = %zu", n);
    H = upf_malloc(nn * sizeof *H);
    g = upf_malloc(n * sizeof *g);
    d = upf_malloc(n * sizeof *d);
    xt = upf_malloc(n * sizeof *xt);
    gt = upf_malloc(n * sizeof *gt);
    s = upf_malloc(n * sizeof *s);
    y = upf_malloc(n * sizeof *y);
    Hy = upf_malloc(n * sizeof *Hy);
    if (!H || !g || !d || !xt || !gt || !s || !y || !Hy) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "bfgs: out of memory");
        goto done;
    }
    double f = sanitize(fg(x, g, ctx));
    res->evals = 1;
    if (!isfinite(f)) {
        st = upf_err_set(err, UPF_ERR_NUMERIC, "bfgs: objective is not finite at the starting point");
        goto done;
    }
    memset(H, 0, nn * sizeof *H);
    for (size_t i = 0; i < n; i++) H[i * n + i] = 1.0;
    int scaled = 0;
    for (size_t it = 0; it < p->max_iter; it++) {
        res->iters = it;
        if (upf_interrupted()) {
            st = upf_err_set(err, UPF_ERR_INTERRUPTED, "bfgs: interrupted");
            goto done;
        }
        double gmax = 0.0;
        for (size_t i = 0; i < n; i++)
            if (fabs(g[i]) > gmax) gmax = fabs(g[i]);
        if (gmax <= p->gtol) {
            res->converged = 1;
            break;
        }
        double d0 = 0.0;
        for (size_t i = 0; i < n; i++) {
            double v = 0.0;
            for (size_t k = 0; k < n; k++) v -= H[i * n + k] * g[k];
            d[i] = v;
            d0 += v * g[i];
        }
        if (!(d0 < 0.0)) { /* not a descent direction: restart from steepest descent */
            memset(H, 0, nn * sizeof *H);
            for (size_t i = 0; i < n; i++) H[i * n + i] = 1.0;
            d0 = 0.0;
            for (size_t i = 0; i < n; i++) {
                d[i] = -g[i];
                d0 -= g[i] * g[i];
            }
            scaled = 0;
        }
        ls_ctx lc = {fg, ctx, n, x, d, xt, gt, 0};
        double ft = f;
        double t0 = scaled ? 1.0 : fmin(1.0, 1.0 / sqrt(-d0));
        double t = line_search(&lc, f, d0, t0, &ft);
        res->evals += lc.evals;
        if (!(t > 0.0) || !(ft <= f)) {
            /* no acceptable step: converged as far as the line search can tell */
            res->converged = gmax <= 1e3 * p->gtol;
            break;
        }
        double step = 0.0, sy = 0.0, yy = 0.0;
        for (size_t i = 0; i < n; i++) {
            s[i] = xt[i] - x[i];
            y[i] = gt[i] - g[i];
            if (fabs(s[i]) > step) step = fabs(s[i]);
            sy += s[i] * y[i];
            yy += y[i] * y[i];
        }
        double df = f - ft;
        memcpy(x, xt, n * sizeof *x);
        memcpy(g, gt, n * sizeof *g);
        f = ft;
        if (df <= p->ftol * (fabs(f) + 1e-300) && step <= p->xtol) {
            res->converged = 1;
            break;
        }
        if (sy > 1e-300) {
            if (!scaled) {
                for (size_t i = 0; i < n; i++)
                    for (size_t k = 0; k < n; k++) H[i * n + k] = i == k ? sy / yy : 0.0;
                scaled = 1;
            }
            /* H+ = (I - rho s y') H (I - rho y s') + rho s s' */
            double rho = 1.0 / sy, yHy = 0.0;
            for (size_t i = 0; i < n; i++) {
                double v = 0.0;
                for (size_t k = 0; k < n; k++) v += H[i * n + k] * y[k];
                Hy[i] = v;
                yHy += y[i] * v;
            }
            for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < n; k++)
                    H[i * n + k] += rho * ((1.0 + rho * yHy) * s[i] * s[k] - Hy[i] * s[k] - s[i] * Hy[k]);
        }
    }
    res->f = f;
done:
    upf_free(H);
    upf_free(g);
    upf_free(d);
    upf_free(xt);
    upf_free(gt);
    upf_free(s);
    upf_free(y);
    upf_free(Hy);
    return st;
}

double upf_min_num_grad(upf_min_fn f, void *ctx, size_t n, const double *x, double h, double *grad, double *scratch)
{
    memcpy(scratch, x, n * sizeof *x);
    for (size_t i = 0; i < n; i++) {
        double hi = h * (1.0 + fabs(x[i]));
        scratch[i] = x[i] + hi;
        double fp = f(scratch, ctx);
        scratch[i] = x[i] - hi;
        double fm = f(scratch, ctx);
        scratch[i] = x[i];
        grad[i] = (fp - fm) / (2.0 * hi);
    }
    return f(x, ctx);
}

/* ---- Cholesky ---- */

static upf_status cholesky(double *a, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        double dsum = a[j * n + j];
        for (size_t k = 0; k < j; k++) dsum -= a[j * n + k] * a[j * n + k];
        if (!(dsum > 0.0) || !isfinite(dsum)) return UPF_ERR_NUMERIC;
        double l = sqrt(dsum);
        a[j * n + j] = l;
        for (size_t i = j + 1; i < n; i++) {
            double v = a[i * n + j];
            for (size_t k = 0; k < j; k++) v -= a[i * n + k] * a[j * n + k];
            a[i * n + j] = v / l;
        }
    }
    return UPF_OK;
}

static void chol_solve(const double *l, double *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double v = b[i];
        for (size_t k = 0; k < i; k++) v -= l[i * n + k] * b[k];
        b[i] = v / l[i * n + i];
    }
    for (size_t i = n; i-- > 0;) {
        double v = b[i];
        for (size_t k = i + 1; k < n; k++) v -= l[k * n + i] * b[k];
        b[i] = v / l[i * n + i];
    }
}

upf_status upf_min_spd_solve(double *a, double *b, size_t n)
{
    upf_status st = cholesky(a, n);
    if (st == UPF_OK) chol_solve(a, b, n);
    return st;
}

upf_status upf_min_spd_inverse(double *a, size_t n)
{
    size_t nn = 0;
    if (upf_mul_size(n, n, &nn) != 0) return UPF_ERR_ARG;
    double *l = upf_malloc((nn + n) * sizeof *l);
    if (!l) return UPF_ERR_NOMEM;
    double *col = l + nn;
    memcpy(l, a, nn * sizeof *a);
    upf_status st = cholesky(l, n);
    if (st == UPF_OK)
        for (size_t j = 0; j < n; j++) {
            for (size_t i = 0; i < n; i++) col[i] = i == j ? 1.0 : 0.0;
            chol_solve(l, col, n);
            for (size_t i = 0; i < n; i++) a[i * n + j] = col[i];
        }
    upf_free(l);
    return st;
}
