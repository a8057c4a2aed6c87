/* lifetime.h - the closed-form mathematics of the lifetime models, shared by
 * the trainers (train/aft.c, train/btyd.c) and the serving runtime: AFT
 * distributions (survival, quantiles, expected purchases by a renewal
 * equation), BG/NBD, Pareto/NBD and Gamma-Gamma per-customer likelihoods and
 * predictions, and the special functions they need (Gauss 2F1, digamma).
 *
 * Not here: fitting (train/aft.c, train/btyd.c) and data handling. libc and
 * libm only; every function is pure and thread-safe (glibc's lgamma writes
 * the global signgam; our arguments are positive, so the value is always +1
 * and the race is benign).
 */
#ifndef UPF_LIFETIME_H
#define UPF_LIFETIME_H

#include <stddef.h>

#include "base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- special functions ---- */

/* log 2F1(a, b; c; z), the Gauss hypergeometric function, for a, b, c > 0 and
 * 0 <= z < 1, where every term of the series sum (a)_n (b)_n / ((c)_n n!) z^n
 * is positive, so summing it (compensated, rescaled against overflow) loses no
 * precision to cancellation. The sum stops when a rigorous bound on the tail
 * (the term ratios are eventually monotone toward z) falls below 1e-17 of the
 * sum. UPF_ERR_ARG outside the domain; UPF_ERR_NUMERIC when more than
 * UPF_HYP2F1_MAX_TERMS terms would be needed (z within ~1e-6 of 1). *out is
 * 0 on failure. */
#define UPF_HYP2F1_MAX_TERMS 20000000L
upf_status upf_log_hyp2f1(double a, double b, double c, double z, double *out);

/* digamma psi(x) = d/dx log Gamma(x), x > 0 (recurrence up to x >= 10, then
 * the asymptotic series; absolute error < 1e-14). NaN for x <= 0. */
double upf_digamma(double x);
/* trigamma psi'(x), x > 0, same method. NaN for x <= 0. */
double upf_trigamma(double x);

/* ---- accelerated failure time models: log T = eta + sigma * W ----
 * eta = x.beta (the linear predictor, in log time units), sigma > 0.
 * Weibull: W is the standard minimum extreme-value law, P(W > w) = exp(-e^w);
 * log-logistic: W is standard logistic, P(W > w) = 1 / (1 + e^w).
 * Serialized names: "weibull", "loglogistic". */
typedef enum upf_aft_dist {
    UPF_AFT_DIST_NONE = 0,
    UPF_AFT_WEIBULL = 1,
    UPF_AFT_LOGLOGISTIC = 2,
    UPF_AFT_DIST_COUNT
} upf_aft_dist;

const char *upf_aft_dist_name(int dist);          /* "weibull", ...; "none" if invalid */
int upf_aft_dist_from_name(const char *name);     /* 0 (NONE) if unknown */

/* log P(W > w), log f_W(w), and the derivatives of each with respect to w
 * (d1: first, d2: second); stable for any finite w (branchy softplus). */
double upf_aft_w_log_surv(int dist, double w);
double upf_aft_w_log_pdf(int dist, double w);
/* The quantile of W: P(W <= w) = p, 0 < p < 1. */
double upf_aft_w_quantile(int dist, double p);

/* P(T > t) for t > 0 (1 for t <= 0). */
double upf_aft_survival(int dist, double eta, double sigma, double t);
/* log P(T > t), stable far into the tail. */
double upf_aft_log_survival(int dist, double eta, double sigma, double t);
/* The p-quantile of T, 0 < p < 1: exp(eta + sigma * Q_W(p)). */
double upf_aft_quantile(int dist, double eta, double sigma, double p);

/* The t with log P(T > t) = L, L < 0 (the inverse of upf_aft_log_survival). */
double upf_aft_inv_log_survival(int dist, double eta, double sigma, double L);

/* Conditional on no event for `elapsed` time (the interval model, asked
 * elapsed days after the last purchase): P(T > elapsed + t | T > elapsed) in
 * logs, and the time from now until that conditional probability falls to
 * 1 - p. elapsed 0 gives the unconditional values. */
double upf_aft_cond_log_survival(int dist, double eta, double sigma, double elapsed, double t);
double upf_aft_cond_quantile(int dist, double eta, double sigma, double elapsed, double p);

/* Expected number of purchases in (0, horizon], treating the time to the next
 * purchase and every later gap as independent draws from this AFT law with
 * the covariates frozen (an ordinary renewal process): the renewal function
 * m(H) = F(H) + int_0^H m(H - u) dF(u), solved on `grid` equal steps with the
 * Riemann-Stieltjes midpoint rule (Xie 1989), O(grid^2). The approximation
 * ignores that recency and frequency change after each purchase.
 * scratch: 2 * (grid + 1) doubles. Returns 0 for horizon <= 0 or grid 0. */
double upf_aft_expected_count(int dist, double eta, double sigma, double horizon, size_t grid,
                              double *scratch /* (2 * (grid+1)) */);
/* The same with dropout after each purchase: the first purchase follows the
 * AFT law, and after every purchase the customer stays (buys again at all)
 * with probability `stay` in [0, 1] (clamped; NaN is 0), else never buys
 * again: a defective renewal process whose later gaps have the improper law
 * stay * F. E N(H) = sum_k stay^(k-1) F^{*k}(H) solves m = F + stay F * m, on
 * the same grid. stay 1 is upf_aft_expected_count, bit for bit; with an
 * exponential law of rate l, E N(H) = (1 - exp(-l (1-stay) H)) / (1 - stay). */
double upf_aft_expected_count_stay(int dist, double eta, double sigma, double horizon, double stay, size_t grid,
                                   double *scratch /* (2 * (grid+1)) */);
/* Expected purchases in (0, horizon] when the first purchase and the later
 * gaps follow different AFT laws: the first purchase the law (eta1, sigma1)
 * of the time from the cutoff, every later gap the law (eta_g, sigma_g) of
 * the time between two purchases, and after each purchase the customer buys
 * again at all with probability `stay` (clamped to [0, 1]; NaN is 0; 1:
 * nobody leaves). With M the defective renewal count of the gap law,
 * M = stay G + stay G * M,
 *   E N(H) = int_0^H (1 + M(H - u)) dF1(u),
 * both on `grid` equal steps with the midpoint rule of
 * upf_aft_expected_count_stay. Same laws and stay 1 give
 * upf_aft_expected_count. Exponential laws of rates a (first) and b (gaps),
 * stay 1: E N(H) = (1 - e^{-aH}) + b (H - (1 - e^{-aH})/a).
 * scratch: 2 * (grid + 1) doubles. Returns 0 for horizon <= 0 or grid 0. */
double upf_aft_expected_count_gap(int dist, double eta1, double sigma1, double eta_g, double sigma_g, double horizon,
                                  double stay, size_t grid, double *scratch /* (2 * (grid+1)) */);
/* The same when the first gap is already `elapsed` old: the first purchase
 * follows the conditional law above, later gaps the unconditional one:
 *   E N(H) = int_0^H (1 + m(H - u)) dF_e(u), F_e the conditional CDF,
 * on the same grid (midpoint values of m). scratch: 2 * (grid + 1) doubles. */
double upf_aft_expected_count_elapsed(int dist, double eta, double sigma, double elapsed, double horizon, size_t grid,
                                      double *scratch /* (2 * (grid+1)) */);

/* ---- BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy
 * way"). A customer is (x, t_x, T): x repeat transactions, the last at t_x,
 * observed over (0, T], times since the first purchase.
 * BG/NBD lets a customer drop out only after a repeat purchase; the MBG/NBD
 * variant (Batislam, Denizel & Filiztekin 2007, mbg = 1) also right after the
 * first one. Every formula below takes both: the dropout part then counts
 * x + 1 chances, i.e. b + x becomes b + x + 1 in the Beta terms, and the
 * "died after the last purchase" term exists for x = 0 too. ---- */
typedef struct upf_bgnbd_params {
    double r, alpha;  /* Gamma(r, alpha) purchase rates, > 0 */
    double a, b;      /* Beta(a, b) dropout probability after each purchase, > 0 */
    int mbg;          /* 0: BG/NBD, 1: MBG/NBD */
} upf_bgnbd_params;

/* log L(r, alpha, a, b | x, t_x, T), eq. (6) of the paper in log space:
 * log A1 + log(exp(log A3) + [x > 0] exp(log A4)) by log-sum-exp (MBG/NBD:
 * Batislam et al. eq. (5), the A4 term for every x). */
double upf_bgnbd_loglik1(const upf_bgnbd_params *p, double x, double t_x, double T);
/* P(alive | x, t_x, T) = 1 / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x));
 * MBG/NBD: 1 / (1 + a/(b+x) (...)^(r+x)) for every x. */
double upf_bgnbd_p_alive(const upf_bgnbd_params *p, double x, double t_x, double T);
/* E[Y(t) | x, t_x, T], the expected transactions in (T, T+t], eq. (10). Near
 * a = 1 the factor (1 - G)/(a - 1) is 0/0: within |a-1| < 1e-5 it is the mean
 * of the values at a = 1 +- 1e-5 (error O(1e-10)). */
upf_status upf_bgnbd_expected(const upf_bgnbd_params *p, double x, double t_x, double T, double t,
                              double *out);
/* E[X(t)], transactions of a new customer in (0, t], eq. (9) (eq. (10) at x
 * = t_x = T = 0, which covers MBG/NBD too). */
upf_status upf_bgnbd_expected_new(const upf_bgnbd_params *p, double t, double *out);

/* ---- Pareto/NBD (Schmittlein, Morrison & Colombo 1987), in the form of
 * Fader, Hardie & Lee's note "A note on implementing the Pareto/NBD model"
 * (2005): lifetime Exp(mu), mu ~ Gamma(s, beta). ---- */
typedef struct upf_pnbd_params {
    double r, alpha;  /* Gamma(r, alpha) purchase rates, > 0 */
    double s, beta;   /* Gamma(s, beta) dropout rates, > 0 */
} upf_pnbd_params;

/* The two parts of the likelihood, in logs:
 *   L = exp(log_k) * (exp(log_end) + exp(log_mid)), where
 *   log_k   = lgamma(r+x) - lgamma(r) + r log alpha + s log beta,
 *   log_end = -(r+x) log(alpha+T) - s log(beta+T)   (alive at T),
 *   log_mid = log(s/(r+s+x)) + log(A0)              (died in (t_x, T]),
 * with A0 the difference of two 2F1 terms; it is formed as
 * log F1 + log1p(-exp(log F2 - log F1)), so t_x == T gives -inf, not NaN. */
upf_status upf_pnbd_log_parts(const upf_pnbd_params *p, double x, double t_x, double T, double *log_k,
                              double *log_end, double *log_mid);
upf_status upf_pnbd_loglik1(const upf_pnbd_params *p, double x, double t_x, double T, double *out);
/* The same likelihood with A0 from its integral form,
 *   A0 = int_{t_x}^{T} (alpha+tau)^-(r+x) (beta+tau)^-(s+1) dtau * (r+s+x),
 * by adaptive Gauss-Kronrod (7/15) quadrature: the plain reference the tests
 * compare the 2F1 path against. */
upf_status upf_pnbd_loglik1_ref(const upf_pnbd_params *p, double x, double t_x, double T, double *out);
/* P(alive | x, t_x, T) = exp(log_end) / (exp(log_end) + exp(log_mid)). */
upf_status upf_pnbd_p_alive(const upf_pnbd_params *p, double x, double t_x, double T, double *out);
/* E[Y(t) | x, t_x, T] = (r+x)(beta+T) / ((alpha+T)(s-1)) *
 *   (1 - ((beta+T)/(beta+T+t))^(s-1)) * P(alive), with the s -> 1 limit
 * (beta+T) log((beta+T+t)/(beta+T)) taken through expm1/log1p. */
upf_status upf_pnbd_expected(const upf_pnbd_params *p, double x, double t_x, double T, double t,
                             double *out);

/* ---- Gamma-Gamma spend (Fader, Hardie & Lee 2005, "RFM and CLV"; Fader &
 * Hardie 2013, "The Gamma-Gamma model of monetary value"). A customer is
 * (x, m): x >= 1 repeat transactions with mean value m > 0. ---- */
typedef struct upf_gg_params {
    double p, q, gamma; /* > 0; the mean spend per transaction is p*gamma/(q-1) for q > 1 */
} upf_gg_params;

/* log of the density of the mean spend m given x:
 *   lgamma(px+q) - lgamma(px) - lgamma(q) + q log gamma + (px-1) log m
 *   + px log x - (px+q) log(gamma + m x). */
double upf_gg_loglik1(const upf_gg_params *g, double x, double m);
/* E[M | x, m] = (q-1)/(px+q-1) * p gamma/(q-1) + px/(px+q-1) * m, for q > 1;
 * customers with x = 0 get the population mean p gamma/(q-1). NaN for q <= 1. */
double upf_gg_expected_spend(const upf_gg_params *g, double x, double m);

#ifdef __cplusplus
}
#endif
#endif
