/* lifetime.c - closed forms of the lifetime models (see lifetime.h): the
 * Gauss 2F1 series, digamma/trigamma, AFT laws and renewal counts, BG/NBD,
 * Pareto/NBD and Gamma-Gamma likelihoods and predictions.
 * Deliberately not here: any fitting or data handling.
 * Sections: special functions, quadrature, AFT, BG/NBD, Pareto/NBD, Gamma-Gamma.
 */
#include "lifetime.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* ---- special functions ---- */

upf_status upf_log_hyp2f1(double a, double b, double c, double z, double *out)
{
    *out = 0.0;
    if (!(a > 0.0) || !(b > 0.0) || !(c > 0.0) || !(z >= 0.0) || !(z < 1.0) || !isfinite(a) ||
        !isfinite(b) || !isfinite(c))
        return UPF_ERR_ARG;
    if (z == 0.0) return UPF_OK;
    /* Terms t_n are positive; keep sum and term scaled by exp(-shift) so that
     * huge values (large a, b and z near 1) do not overflow. */
    double sum = 1.0, comp = 0.0, term = 1.0, shift = 0.0;
    /* Beyond n0 the ratio (a+n)(b+n)z/((c+n)(n+1)) is monotone and tends to z. */
    double n0 = 2.0 * (a + b + c) + 4.0;
    for (long n = 0; n < UPF_HYP2F1_MAX_TERMS; n++) {
        double dn = (double)n;
        double ratio = (a + dn) * (b + dn) / ((c + dn) * (dn + 1.0)) * z;
        term *= ratio;
        double y = term - comp; /* Kahan-compensated sum */
        double t = sum + y;
        comp = (t - sum) - y;
        sum = t;
        if (sum > 1e280) {
            sum *= 1e-280;
            term *= 1e-280;
            comp *= 1e-280;
            shift += 280.0 * log(10.0);
        }
        if (dn + 1.0 >= n0) {
            double next = (a + dn + 1.0) * (b + dn + 1.0) / ((c + dn + 1.0) * (dn + 2.0)) * z;
            double m = next > z ? next : z;
            if (m < 1.0 && term * m / (1.0 - m) <= 1e-17 * sum) {
                *out = log(sum) + shift;
                return UPF_OK;
            }
        }
    }
    return UPF_ERR_NUMERIC;
}

double upf_digamma(double x)
{
    if (!(x > 0.0)) return NAN;
    double acc = 0.0;
    while (x < 10.0) {
        acc -= 1.0 / x;
        x += 1.0;
    }
    double x2 = 1.0 / (x * x);
    /* psi(x) ~ log x - 1/(2x) - sum B_2k / (2k x^2k) */
    double series =
        x2 * (1.0 / 12 - x2 * (1.0 / 120 - x2 * (1.0 / 252 - x2 * (1.0 / 240 - x2 * (1.0 / 132 - x2 * (691.0 / 32760 - x2 / 12))))));
    return acc + log(x) - 0.5 / x - series;
}

double upf_trigamma(double x)
{
    if (!(x > 0.0)) return NAN;
    double acc = 0.0;
    while (x < 10.0) {
        acc += 1.0 / (x * x);
        x += 1.0;
    }
    double ix = 1.0 / x, x2 = ix * ix;
    /* psi'(x) ~ 1/x + 1/(2x^2) + sum B_2k / x^(2k+1) */
    double series = ix * x2 * (1.0 / 6 - x2 * (1.0 / 30 - x2 * (1.0 / 42 - x2 * (1.0 / 30 - x2 * (5.0 / 66 - x2 * (691.0 / 2730 - x2 * 7.0 / 6))))));
    return acc + ix + 0.5 * x2 + series;
}

/* log(exp(u) + exp(v)) without overflow; -inf + -inf gives -inf. */
static double log_add_exp(double u, double v)
{
    if (u == -(double)INFINITY) return v;
    if (v == -(double)INFINITY) return u;
    return u > v ? u + log1p(exp(v - u)) : v + log1p(exp(u - v));
}

/* log(exp(u) - exp(v)) for v <= u; -inf when v >= u. */
static double log_sub_exp(double u, double v)
{
    if (!(v < u)) return -(double)INFINITY;
    double d = v - u;
    /* log(1 - e^d): expm1 near 0, log1p far from it (Maechler 2012) */
    return u + (d > -0.6931471805599453 ? log(-expm1(d)) : log1p(-exp(d)));
}

/* ---- quadrature: adaptive Gauss-Kronrod 7/15 (QUADPACK qk15 nodes) ---- */

static const double gk_x[8] = {
    0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
    0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
    0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
    0.207784955007898467600689403773245, 0.0};
static const double gk_wk[8] = {
    0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
    0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
    0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
    0.204432940075298892414161999234649, 0.209482141084727828012999174891714};
static const double gk_wg[4] = {0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
                                0.381830050505118944950369775488975, 0.417959183673469387755102040816327};

typedef double (*quad_fn)(double x, const void *ctx);

static void gk15(quad_fn f, const void *ctx, double lo, double hi, double *val, double *errest)
{
    double mid = 0.5 * (lo + hi), half = 0.5 * (hi - lo);
    double fc = f(mid, ctx);
    double rk = fc * gk_wk[7], rg = fc * gk_wg[3];
    for (int j = 0; j < 7; j++) {
        double dx = half * gk_x[j];
        double s = f(mid - dx, ctx) + f(mid + dx, ctx);
        rk += gk_wk[j] * s;
        if (j % 2 == 1) rg += gk_wg[j / 2] * s;
    }
    *val = rk * half;
    *errest = fabs((rk - rg) * half);
}

#define QUAD_MAX_INTERVALS 128

/* Integral of a positive f over [lo, hi] to relative accuracy rtol by
 * bisecting the interval with the largest error estimate. The estimate
 * |K15 - G7| cannot fall below the rounding of the integrand, so intervals
 * whose estimate is at 50 ulps of their value count as converged. */
static upf_status quad_adaptive(quad_fn f, const void *ctx, double lo, double hi, double rtol, double *out)
{
    double a[QUAD_MAX_INTERVALS], b[QUAD_MAX_INTERVALS], v[QUAD_MAX_INTERVALS], e[QUAD_MAX_INTERVALS];
    size_t n = 1;
    a[0] = lo;
    b[0] = hi;
    gk15(f, ctx, lo, hi, &v[0], &e[0]);
    for (;;) {
        double total = 0.0, err = 0.0;
        size_t worst = 0;
        for (size_t i = 0; i < n; i++) {
            total += v[i];
            err += e[i];
            if (e[i] > e[worst]) worst = i;
        }
        if (err <= rtol * fabs(total) || e[worst] <= 50.0 * DBL_EPSILON * fabs(v[worst])) {
#ifdef QUAD_HOOK
            QUAD_HOOK(n, 1);
#endif
            *out = total;
            return UPF_OK;
        }
        if (n + 1 > QUAD_MAX_INTERVALS) {
#ifdef QUAD_HOOK
            QUAD_HOOK(n, 0);
#endif
            *out = total;
            return err <= 1e-9 * fabs(total) ? UPF_OK : UPF_ERR_NUMERIC;
        }
        double m = 0.5 * (a[worst] + b[worst]);
        a[n] = m;
        b[n] = b[worst];
        b[worst] = m;
        gk15(f, ctx, a[worst], b[worst], &v[worst], &e[worst]);
        gk15(f, ctx, a[n], b[n], &v[n], &e[n]);
        n++;
    }
}

/* ---- accelerated failure time laws ---- */

static const char *const aft_dist_names[UPF_AFT_DIST_COUNT] = {"none", "weibull", "loglogistic"};

const char *upf_aft_dist_name(int dist)
{
    return dist > 0 && dist < UPF_AFT_DIST_COUNT ? aft_dist_names[dist] : "none";
}

int upf_aft_dist_from_name(const char *name)
{
    for (int d = 1; name && d < UPF_AFT_DIST_COUNT; d++)
        if (strcmp(name, aft_dist_names[d]) == 0) return d;
    return UPF_AFT_DIST_NONE;
}

/* log(1 + e^w), branchy so neither side overflows or loses digits. */
static double softplus(double w) { return w > 0.0 ? w + log1p(exp(-w)) : log1p(exp(w)); }

double upf_aft_w_log_surv(int dist, double w)
{
    if (dist == UPF_AFT_WEIBULL) return -exp(w);
    if (dist == UPF_AFT_LOGLOGISTIC) return -softplus(w);
    return NAN;
}

double upf_aft_w_log_pdf(int dist, double w)
{
    if (dist == UPF_AFT_WEIBULL) return w - exp(w);
    if (dist == UPF_AFT_LOGLOGISTIC) return -softplus(w) - softplus(-w);
    return NAN;
}

double upf_aft_w_quantile(int dist, double p)
{
    if (!(p > 0.0 && p < 1.0)) return (double)NAN;
    if (dist == UPF_AFT_WEIBULL) return log(-log1p(-p));
    if (dist == UPF_AFT_LOGLOGISTIC) return log(p) - log1p(-p);
    return NAN;
}

double upf_aft_log_survival(int dist, double eta, double sigma, double t)
{
    if (!(t > 0.0)) return 0.0;
    return upf_aft_w_log_surv(dist, (log(t) - eta) / sigma);
}

double upf_aft_survival(int dist, double eta, double sigma, double t)
{
    return exp(upf_aft_log_survival(dist, eta, sigma, t));
}

double upf_aft_quantile(int dist, double eta, double sigma, double p)
{
    return exp(eta + sigma * upf_aft_w_quantile(dist, p));
}

double upf_aft_inv_log_survival(int dist, double eta, double sigma, double L)
{
    if (!(L < 0.0)) return L == 0.0 ? 0.0 : (double)NAN;
    double w;
    if (dist == UPF_AFT_WEIBULL) w = log(-L);
    else if (dist == UPF_AFT_LOGLOGISTIC) w = log(expm1(-L)); /* -softplus(w) = L */
    else return (double)NAN;
    return exp(eta + sigma * w);
}

double upf_aft_cond_log_survival(int dist, double eta, double sigma, double elapsed, double t)
{
    return upf_aft_log_survival(dist, eta, sigma, elapsed + t) - upf_aft_log_survival(dist, eta, sigma, elapsed);
}

double upf_aft_cond_quantile(int dist, double eta, double sigma, double elapsed, double p)
{
    if (!(p > 0.0 && p < 1.0)) return (double)NAN;
    double le = upf_aft_log_survival(dist, eta, sigma, elapsed);
    double t = upf_aft_inv_log_survival(dist, eta, sigma, le + log1p(-p)) - elapsed;
    return t > 0.0 ? t : 0.0;
}

double upf_aft_expected_count_stay(int dist, double eta, double sigma, double horizon, double stay, size_t grid,
                                   double *scratch)
{
    if (!(horizon > 0.0) || grid == 0) return 0.0;
    if (!(stay >= 0.0)) stay = 0.0; /* NaN too */
    if (stay > 1.0) stay = 1.0;
    double *m = scratch, *F = scratch + grid + 1, h = horizon / (double)grid, q = stay;
    for (size_t k = 0; k <= grid; k++) F[k] = k ? -expm1(upf_aft_log_survival(dist, eta, sigma, (double)k * h)) : 0.0;
    /* m_k = F_k + q sum_{j=1..k} (m_{k-j} + m_{k-j+1})/2 * (F_j - F_{j-1}); the j = 1
     * term holds m_k itself, so it moves to the left-hand side. q = 1 is the
     * ordinary renewal function (multiplying by 1.0 is exact). */
    m[0] = 0.0;
    for (size_t k = 1; k <= grid; k++) {
        double acc = 0.5 * m[k - 1] * F[1];
        for (size_t j = 2; j <= k; j++) acc += 0.5 * (m[k - j] + m[k - j + 1]) * (F[j] - F[j - 1]);
        m[k] = (F[k] + q * acc) / (1.0 - q * 0.5 * F[1]);
    }
    return m[grid];
}

double upf_aft_expected_count(int dist, double eta, double sigma, double horizon, size_t grid, double *scratch)
{
    return upf_aft_expected_count_stay(dist, eta, sigma, horizon, 1.0, grid, scratch);
}

double upf_aft_expected_count_gap(int dist, double eta1, double sigma1, double eta_g, double sigma_g, double horizon,
                                  double stay, size_t grid, double *scratch)
{
    if (!(horizon > 0.0) || grid == 0) return 0.0;
    if (!(stay >= 0.0)) stay = 0.0; /* NaN too */
    if (stay > 1.0) stay = 1.0;
    /* m = G + stay G * m on the grid (scratch[0..grid]); M = stay m counts the purchases after one */
    upf_aft_expected_count_stay(dist, eta_g, sigma_g, horizon, stay, grid, scratch);
    const double *m = scratch;
    double h = horizon / (double)grid, prev = 0.0, total = 0.0;
    for (size_t j = 1; j <= grid; j++) {
        double f1 = -expm1(upf_aft_log_survival(dist, eta1, sigma1, (double)j * h));
        total += (f1 - prev) * (1.0 + stay * 0.5 * (m[grid - j] + m[grid - j + 1]));
        prev = f1;
    }
    return total;
}

double upf_aft_expected_count_elapsed(int dist, double eta, double sigma, double elapsed, double horizon, size_t grid,
                                      double *scratch)
{
    if (!(elapsed > 0.0)) return upf_aft_expected_count(dist, eta, sigma, horizon, grid, scratch);
    if (!(horizon > 0.0) || grid == 0) return 0.0;
    upf_aft_expected_count(dist, eta, sigma, horizon, grid, scratch); /* m on the grid in scratch[0..grid] */
    const double *m = scratch;
    double h = horizon / (double)grid, le = upf_aft_log_survival(dist, eta, sigma, elapsed), prev = 0.0, total = 0.0;
    for (size_t j = 1; j <= grid; j++) {
        double fe = -expm1(upf_aft_log_survival(dist, eta, sigma, elapsed + (double)j * h) - le);
        total += (fe - prev) * (1.0 + 0.5 * (m[grid - j] + m[grid - j + 1]));
        prev = fe;
    }
    return total;
}

/* ---- BG/NBD ---- */

double upf_bgnbd_loglik1(const upf_bgnbd_params *p, double x, double t_x, double T)
{
    double r = p->r, al = p->alpha, a = p->a, b = p->b, xb = x + (p->mbg ? 1.0 : 0.0);
    /* A1: the NBD part common to both terms; the beta ratio B(a, b+xb)/B(a, b),
     * xb the dropout chances survived (x; x + 1 for MBG/NBD) */
    double a1 = lgamma(r + x) - lgamma(r) + r * log(al);
    double beta_ratio = lgamma(a + b) + lgamma(b + xb) - lgamma(b) - lgamma(a + b + xb);
    double a3 = -(r + x) * log(al + T);
    double l = a3;
    if (xb > 0.0) {
        /* B(a+1, b+xb-1)/B(a, b+xb) = a/(b+xb-1): died after the last purchase */
        double a4 = log(a) - log(b + xb - 1.0) - (r + x) * log(al + t_x);
        l = log_add_exp(a3, a4);
    }
    return a1 + beta_ratio + l;
}

double upf_bgnbd_p_alive(const upf_bgnbd_params *p, double x, double t_x, double T)
{
    double xb = x + (p->mbg ? 1.0 : 0.0);
    if (!(xb > 0.0)) return 1.0;
    double lr = log(p->a) - log(p->b + xb - 1.0) + (p->r + x) * (log(p->alpha + T) - log(p->alpha + t_x));
    /* 1 / (1 + e^lr) */
    return lr > 0.0 ? exp(-lr) / (1.0 + exp(-lr)) : 1.0 / (1.0 + exp(lr));
}

/* (a+b+x-1)/(a-1) * (1 - G), G = ((al+T)/(al+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; t/(al+T+t)). */
static upf_status bgnbd_numerator(double r, double al, double a, double b, double x, double T, double t,
                                  double *out)
{
    *out = 0.0;
    double c = a + b + x - 1.0;
    double z = t / (al + T + t);
    double lf = 0.0;
    upf_status st = upf_log_hyp2f1(r + x, b + x, c, z, &lf);
    if (st != UPF_OK) return st;
    double lg = (r + x) * (log(al + T) - log(al + T + t)) + lf;
    *out = c / (a - 1.0) * -expm1(lg);
    return UPF_OK;
}

static upf_status bgnbd_numerator_any_a(const upf_bgnbd_params *p, double x, double T, double t, double *out)
{
    const double h = 1e-5;
    /* an alive customer's dropout probability is Beta(a, b + xb): the future
     * is a BG/NBD process from now with b' = b + (xb - x) */
    double b = p->b + (p->mbg ? 1.0 : 0.0);
    if (fabs(p->a - 1.0) >= h) return bgnbd_numerator(p->r, p->alpha, p->a, b, x, T, t, out);
    double lo = 0.0, hi = 0.0;
    upf_status st = bgnbd_numerator(p->r, p->alpha, 1.0 - h, b, x, T, t, &lo);
    if (st == UPF_OK) st = bgnbd_numerator(p->r, p->alpha, 1.0 + h, b, x, T, t, &hi);
    /* linear interpolation between the two sides, at the actual a */
    *out = st == UPF_OK ? lo + (hi - lo) * (p->a - (1.0 - h)) / (2.0 * h) : 0.0;
    return st;
}

upf_status upf_bgnbd_expected(const upf_bgnbd_params *p, double x, double t_x, double T, double t, double *out)
{
    *out = 0.0;
    if (!(t > 0.0)) return t == 0.0 ? UPF_OK : UPF_ERR_ARG;
    if (!(p->a + p->b + x + (p->mbg ? 1.0 : 0.0) - 1.0 > 0.0)) return UPF_ERR_ARG;
    double num = 0.0;
    upf_status st = bgnbd_numerator_any_a(p, x, T, t, &num);
    if (st != UPF_OK) return st;
    *out = num * upf_bgnbd_p_alive(p, x, t_x, T);
    return UPF_OK;
}

upf_status upf_bgnbd_expected_new(const upf_bgnbd_params *p, double t, double *out)
{
    /* eq. (9) is eq. (10) at x = t_x = T = 0 */
    return upf_bgnbd_expected(p, 0.0, 0.0, 0.0, t, out);
}

/* ---- Pareto/NBD ---- */

static int pnbd_params_ok(const upf_pnbd_params *p, double x, double t_x, double T)
{
    return p->r > 0.0 && p->alpha > 0.0 && p->s > 0.0 && p->beta > 0.0 && isfinite(p->r) &&
           isfinite(p->alpha) && isfinite(p->s) && isfinite(p->beta) && x >= 0.0 && t_x >= 0.0 && T >= t_x;
}

typedef struct pnbd_integrand {
    double rx, s1, a0, b0; /* (1 + u/a0)^-rx (1 + u/b0)^-s1, a0 = alpha + t_x, b0 = beta + t_x */
} pnbd_integrand;

/* The integrand relative to its value at tau = t_x, in u = tau - t_x: the
 * exponent is formed from log1p of small ratios, so it carries no rounding
 * noise of the size of the (possibly huge) exponents themselves. */
static double pnbd_g(double u, const void *ctx)
{
    const pnbd_integrand *g = ctx;
    return exp(-g->rx * log1p(u / g->a0) - g->s1 * log1p(u / g->b0));
}

/* log A0 by quadrature of its integral form (see lifetime.h). */
static upf_status pnbd_log_a0_quad(const upf_pnbd_params *p, double x, double t_x, double T, double *out)
{
    *out = -(double)INFINITY;
    if (!(T > t_x)) return UPF_OK;
    pnbd_integrand g = {p->r + x, p->s + 1.0, p->alpha + t_x, p->beta + t_x};
    double log_g0 = -g.rx * log(g.a0) - g.s1 * log(g.b0);
    double v = 0.0;
    upf_status st = quad_adaptive(pnbd_g, &g, 0.0, T - t_x, 1e-14, &v);
    if (st != UPF_OK) return st;
    *out = log(v) + log_g0 + log(p->r + p->s + x);
    return UPF_OK;
}

/* log A0 from the 2F1 terms of Fader, Hardie & Lee's note, eq. (3):
 * F(t) = 2F1(r+s+x, b1; r+s+x+1; |alpha-beta|/(max+t)) / (max+t)^(r+s+x). */
static upf_status pnbd_log_a0_2f1(const upf_pnbd_params *p, double x, double t_x, double T, double *out)
{
    *out = -(double)INFINITY;
    if (!(T > t_x)) return UPF_OK;
    double ab = p->alpha >= p->beta ? p->alpha : p->beta;
    double diff = fabs(p->alpha - p->beta);
    double b1 = p->alpha >= p->beta ? p->s + 1.0 : p->r + x;
    double a1 = p->r + p->s + x;
    double z1 = diff / (ab + t_x), z2 = diff / (ab + T);
    /* Near z = 1 the series needs ~ 40/(1-z) terms; the integral does not care. */
    if (z1 > 0.95) return pnbd_log_a0_quad(p, x, t_x, T, out);
    double l1 = 0.0, l2 = 0.0;
    upf_status st = upf_log_hyp2f1(a1, b1, a1 + 1.0, z1, &l1);
    if (st == UPF_OK) st = upf_log_hyp2f1(a1, b1, a1 + 1.0, z2, &l2);
    if (st != UPF_OK) return st;
    double lf1 = l1 - a1 * log(ab + t_x), lf2 = l2 - a1 * log(ab + T);
    *out = log_sub_exp(lf1, lf2);
    return UPF_OK;
}

static upf_status pnbd_parts(const upf_pnbd_params *p, double x, double t_x, double T, int ref, double *log_k,
                             double *log_end, double *log_mid)
{
    *log_k = *log_end = *log_mid = 0.0;
    if (!pnbd_params_ok(p, x, t_x, T)) return UPF_ERR_ARG;
    double la0 = 0.0;
    upf_status st = ref ? pnbd_log_a0_quad(p, x, t_x, T, &la0) : pnbd_log_a0_2f1(p, x, t_x, T, &la0);
    if (st != UPF_OK) return st;
    *log_k = lgamma(p->r + x) - lgamma(p->r) + p->r * log(p->alpha) + p->s * log(p->beta);
    *log_end = -(p->r + x) * log(p->alpha + T) - p->s * log(p->beta + T);
    *log_mid = log(p->s) - log(p->r + p->s + x) + la0;
    return UPF_OK;
}

upf_status upf_pnbd_log_parts(const upf_pnbd_params *p, double x, double t_x, double T, double *log_k,
                              double *log_end, double *log_mid)
{
    return pnbd_parts(p, x, t_x, T, 0, log_k, log_end, log_mid);
}

upf_status upf_pnbd_loglik1(const upf_pnbd_params *p, double x, double t_x, double T, double *out)
{
    double k = 0.0, e = 0.0, m = 0.0;
    upf_status st = pnbd_parts(p, x, t_x, T, 0, &k, &e, &m);
    *out = st == UPF_OK ? k + log_add_exp(e, m) : 0.0;
    return st;
}

upf_status upf_pnbd_loglik1_ref(const upf_pnbd_params *p, double x, double t_x, double T, double *out)
{
    double k = 0.0, e = 0.0, m = 0.0;
    upf_status st = pnbd_parts(p, x, t_x, T, 1, &k, &e, &m);
    *out = st == UPF_OK ? k + log_add_exp(e, m) : 0.0;
    return st;
}

upf_status upf_pnbd_p_alive(const upf_pnbd_params *p, double x, double t_x, double T, double *out)
{
    double k = 0.0, e = 0.0, m = 0.0;
    upf_status st = pnbd_parts(p, x, t_x, T, 0, &k, &e, &m);
    *out = st == UPF_OK ? exp(e - log_add_exp(e, m)) : 0.0;
    return st;
}

upf_status upf_pnbd_expected(const upf_pnbd_params *p, double x, double t_x, double T, double t, double *out)
{
    *out = 0.0;
    if (!(t >= 0.0)) return UPF_ERR_ARG;
    double alive = 0.0;
    upf_status st = upf_pnbd_p_alive(p, x, t_x, T, &alive);
    if (st != UPF_OK) return st;
    /* (1 - ((beta+T)/(beta+T+t))^(s-1)) / (s-1) = -expm1(-(s-1) L) / (s-1), L = log1p(t/(beta+T)) */
    double L = log1p(t / (p->beta + T)), u = p->s - 1.0;
    double frac = fabs(u * L) < 1e-8 ? L * (1.0 - 0.5 * u * L) : -expm1(-u * L) / u;
    *out = (p->r + x) * (p->beta + T) / (p->alpha + T) * frac * alive;
    return UPF_OK;
}

/* ---- Gamma-Gamma ---- */

double upf_gg_loglik1(const upf_gg_params *g, double x, double m)
{
    double px = g->p * x;
    return lgamma(px + g->q) - lgamma(px) - lgamma(g->q) + g->q * log(g->gamma) + (px - 1.0) * log(m) +
           px * log(x) - (px + g->q) * log(g->gamma + m * x);
}

double upf_gg_expected_spend(const upf_gg_params *g, double x, double m)
{
    if (!(g->q > 1.0)) return NAN;
    double pop = g->p * g->gamma / (g->q - 1.0);
    if (!(x > 0.0)) return pop;
    double px = g->p * x, den = px + g->q - 1.0;
    return (g->q - 1.0) / den * pop + px / den * m;
}
