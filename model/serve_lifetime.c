/* serve_lifetime.c - scoring for the lifetime and uplift kinds: survival AFT
 * (churn risk, interval quantiles, buy-again due dates, expected purchases by
 * renewal theory), BG/NBD (P(alive), expected purchases; Gamma-Gamma spend)
 * and per-arm uplift. All double precision, allocation-free, thread-safe.
 * References: Kalbfleisch & Prentice (2002) ch. 2 for AFT models; Fader,
 * Hardie & Lee (2005) "Counting your customers the easy way", eqs. (11), (10);
 * Fader, Hardie & Lee (2005) "RFM and CLV", for Gamma-Gamma; Xie (1989) for
 * the Riemann-Stieltjes renewal-function scheme.
 */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "upfserve.h"

/* ---- AFT ---- */

#define RENEWAL_STEPS 512
#define UPF_PI 3.14159265358979323846

static double softplus(double z) { return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z)); }

/* log S(t) of T with log T = eta + sigma W. */
static double aft_log_surv(int dist, double eta, double sigma, double t)
{
    if (t <= 0.0) return 0.0;
    double z = (log(t) - eta) / sigma;
    return dist == UPF_AFT_WEIBULL ? -exp(z) : -softplus(z);
}

/* The t with log S(t) = L (L < 0). */
static double aft_inv_log_surv(int dist, double eta, double sigma, double L)
{
    double c = -L, z;
    if (dist == UPF_AFT_WEIBULL) z = log(c);
    else z = c + log(-expm1(-c)); /* inverse softplus, stable for small and large c */
    return exp(eta + sigma * z);
}

static double aft_cdf(int dist, double eta, double sigma, double t)
{
    return -expm1(aft_log_surv(dist, eta, sigma, t));
}

/* Expected renewals in (0, H] when the first interval has the residual law
 * of T given T > e and later ones the law of T. M is the ordinary renewal
 * function on the grid t_n = n H / G: M(t) = F(t) + int_0^t M(t - s) dF(s),
 * with M(t - s) at interval midpoints taken as the mean of the two ends
 * (second-order accurate, implicit in M_n through the first interval). */
static double aft_expected_purchases(int dist, double eta, double sigma, double e, double H)
{
    enum { G = RENEWAL_STEPS };
    double F[G + 1], M[G + 1];
    double h = H / G;
    for (int n = 0; n <= G; n++) F[n] = aft_cdf(dist, eta, sigma, n * h);
    M[0] = 0.0;
    double d1 = F[1] - F[0];
    for (int n = 1; n <= G; n++) {
        double s = F[n] + 0.5 * d1 * M[n - 1];
        for (int j = 2; j <= n; j++) s += 0.5 * (F[j] - F[j - 1]) * (M[n - j] + M[n - j + 1]);
        M[n] = s / (1.0 - 0.5 * d1);
    }
    double lse = aft_log_surv(dist, eta, sigma, e), prev = 0.0, total = 0.0;
    for (int j = 1; j <= G; j++) {
        double Fe = -expm1(aft_log_surv(dist, eta, sigma, e + j * h) - lse);
        total += (Fe - prev) * (1.0 + 0.5 * (M[G - j] + M[G - j + 1]));
        prev = Fe;
    }
    return total;
}

upf_status upf_serve_aft(const upf_model *m, const upf_aft_query *q, upf_aft_result *out, double *quantiles,
                         upf_err *err)
{
    memset(out, 0, sizeof *out);
    if (!m || !q) return upf_err_set(err, UPF_ERR_ARG, "aft: NULL model or query");
    if (m->info.kind != UPF_KIND_LIFETIME_AFT)
        return upf_err_set(err, UPF_ERR_ARG, "aft: the model is a %s model", upf_kind_name(m->info.kind));
    const upf_kind_state *ks = &m->ks;
    if (q->n_x != ks->n_features || (q->n_x && !q->x))
        return upf_err_set(err, UPF_ERR_ARG, "aft: %zu features given, the model has %zu", q->n_x, ks->n_features);
    for (size_t i = 0; i < q->n_x; i++)
        if (!isfinite(q->x[i])) return upf_err_set(err, UPF_ERR_ARG, "aft: feature %zu is not finite", i);
    double H = q->horizon_days > 0 ? q->horizon_days : ks->horizon, e = q->elapsed_days;
    if (!isfinite(H) || !isfinite(e) || e < 0)
        return upf_err_set(err, UPF_ERR_ARG, "aft: horizon %g / elapsed %g days (expected finite, elapsed >= 0)", H, e);
    if (q->n_probs && (!q->probs || !quantiles)) return upf_err_set(err, UPF_ERR_ARG, "aft: NULL quantile arrays");
    for (size_t i = 0; i < q->n_probs; i++)
        if (!(q->probs[i] > 0.0 && q->probs[i] < 1.0))
            return upf_err_set(err, UPF_ERR_ARG, "aft: quantile level %g (expected in (0, 1))", q->probs[i]);
    int dist = ks->aft_dist;
    double eta = upf_score_linear_std(q->x, ks->center, ks->scale, ks->beta, ks->n_features);
    double sigma = exp(ks->log_sigma);
    double lse = aft_log_surv(dist, eta, sigma, e);
    out->eta = eta;
    out->sigma = sigma;
    out->horizon_days = H;
    out->p_no_purchase = exp(aft_log_surv(dist, eta, sigma, e + H) - lse);
    /* days from now until P(purchase since now) = p: S(e + t) = (1 - p) S(e) */
    double t50 = aft_inv_log_surv(dist, eta, sigma, lse + log1p(-0.5)) - e;
    out->median_days = t50 > 0 ? t50 : 0.0;
    for (size_t i = 0; i < q->n_probs; i++) {
        double t = aft_inv_log_surv(dist, eta, sigma, lse + log1p(-q->probs[i])) - e;
        quantiles[i] = t > 0 ? t : 0.0;
    }
    if (dist == UPF_AFT_WEIBULL) out->mean_days = exp(eta + lgamma(1.0 + sigma));
    else out->mean_days = sigma < 1.0 ? exp(eta) * (UPF_PI * sigma) / sin(UPF_PI * sigma) : (double)INFINITY;
    out->expected_purchases = aft_expected_purchases(dist, eta, sigma, e, H);
    if (!isfinite(out->p_no_purchase) || !isfinite(out->expected_purchases))
        return upf_err_set(err, UPF_ERR_NUMERIC, "aft: non-finite prediction (eta %g, sigma %g)", eta, sigma);
    return UPF_OK;
}

/* ---- BG/NBD ---- */

/* Gauss hypergeometric 2F1(a, b; c; z) for 0 <= z < 1 by its power series. */
static int hyp2f1(double a, double b, double c, double z, double *out)
{
    double term = 1.0, sum = 1.0;
    for (long n = 0; n < 2000000; n++) {
        term *= (a + (double)n) * (b + (double)n) / ((c + (double)n) * (double)(n + 1)) * z;
        sum += term;
        if (fabs(term) <= 1e-16 * fabs(sum)) {
            *out = sum;
            return isfinite(sum) ? 0 : -1;
        }
    }
    return -1;
}

upf_status upf_serve_bgnbd(const upf_model *m, double x, double t_x, double T, double t, double monetary,
                           upf_bgnbd_result *out, upf_err *err)
{
    memset(out, 0, sizeof *out);
    out->expected_avg_spend = (double)NAN;
    if (!m) return upf_err_set(err, UPF_ERR_ARG, "bgnbd: NULL model");
    if (m->info.kind != UPF_KIND_LIFETIME_BGNBD)
        return upf_err_set(err, UPF_ERR_ARG, "bgnbd: the model is a %s model", upf_kind_name(m->info.kind));
    if (!isfinite(x) || x < 0 || floor(x) != x || !isfinite(T) || T < 0 || !isfinite(t) || t < 0)
        return upf_err_set(err, UPF_ERR_ARG, "bgnbd: x = %g, T = %g, t = %g (expected a whole x >= 0, T >= 0, t >= 0)",
                           x, T, t);
    if (x == 0) t_x = 0;
    if (!isfinite(t_x) || t_x < 0 || t_x > T)
        return upf_err_set(err, UPF_ERR_ARG, "bgnbd: t_x = %g (expected 0 <= t_x <= T = %g)", t_x, T);
    const upf_kind_state *ks = &m->ks;
    double r = ks->bg_r, al = ks->bg_alpha, a = ks->bg_a, b = ks->bg_b;
    /* d = delta(x > 0) a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x); eq. (11): P(alive) = 1 / (1 + d) */
    double d = x > 0 ? a / (b + x - 1) * exp((r + x) * (log(al + T) - log(al + t_x))) : 0.0;
    out->p_alive = 1.0 / (1.0 + d);
    /* eq. (10) */
    if (t > 0) {
        if (fabs(a - 1.0) < 1e-9)
            return upf_err_set(err, UPF_ERR_NUMERIC, "bgnbd: a = %g: expected purchases are singular at a = 1", a);
        double h, z = t / (al + T + t);
        if (hyp2f1(r + x, b + x, a + b + x - 1, z, &h))
            return upf_err_set(err, UPF_ERR_NUMERIC, "bgnbd: hypergeometric series did not converge (z = %g)", z);
        double lead = (a + b + x - 1) / (a - 1);
        double tail = 1.0 - exp((r + x) * (log(al + T) - log(al + T + t))) * h;
        out->expected_purchases = lead * tail / (1.0 + d);
    }
    if (ks->has_gg && isfinite(monetary)) {
        double p = ks->gg_p, qq = ks->gg_q, g = ks->gg_gamma;
        double den = p * x + qq - 1.0;
        out->expected_avg_spend = den > 0 ? p * (g + x * monetary) / den : (double)NAN;
    }
    if (!isfinite(out->p_alive) || !isfinite(out->expected_purchases))
        return upf_err_set(err, UPF_ERR_NUMERIC, "bgnbd: non-finite prediction for x = %g, t_x = %g, T = %g", x, t_x, T);
    return UPF_OK;
}

/* ---- uplift ---- */

upf_status upf_serve_uplift(const upf_model *m, const double *x, size_t n_x, double *p, double *uplift, upf_err *err)
{
    if (!m) return upf_err_set(err, UPF_ERR_ARG, "uplift: NULL model");
    if (m->info.kind != UPF_KIND_UPLIFT)
        return upf_err_set(err, UPF_ERR_ARG, "uplift: the model is a %s model", upf_kind_name(m->info.kind));
    const upf_kind_state *ks = &m->ks;
    size_t A = ks->n_arms, F = ks->n_features;
    if (p) for (size_t k = 0; k < A; k++) p[k] = (double)NAN;
    if (uplift) for (size_t k = 0; k < A; k++) uplift[k] = (double)NAN;
    if (n_x != F || (F && !x)) return upf_err_set(err, UPF_ERR_ARG, "uplift: %zu features given, the model has %zu", n_x, F);
    for (size_t i = 0; i < n_x; i++)
        if (!isfinite(x[i])) return upf_err_set(err, UPF_ERR_ARG, "uplift: feature %zu is not finite", i);
    const float *w = ks->uplift_w;
    if (ks->uplift_method == UPF_UPLIFT_CLASS_TRANSFORM) {
        double pz = upf_score_sigmoid(upf_score_linear_std_f32w(x, ks->center, ks->scale, w, F));
        if (uplift) {
            uplift[0] = 0.0;
            uplift[1] = 2.0 * pz - 1.0;
        }
        return UPF_OK;
    }
    double eta0 = upf_score_linear_std_f32w(x, ks->center, ks->scale, w, F), p0 = upf_score_sigmoid(eta0);
    for (size_t k = 0; k < A; k++) {
        double pk = p0;
        if (k > 0) {
            double eta = upf_score_linear_std_f32w(x, ks->center, ks->scale, w + k * (F + 1), F);
            pk = upf_score_sigmoid(ks->uplift_method == UPF_UPLIFT_INTERACTION ? eta0 + eta : eta);
        }
        if (p) p[k] = pk;
        if (uplift) uplift[k] = pk - p0;
    }
    return UPF_OK;
}
