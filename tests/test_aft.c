/* test_aft.c - the AFT survival models: likelihood and MLE against an
 * independent golden, derivatives against finite differences, the BLAS paths
 * against their plain references, Adam against Newton on simulated data,
 * predictions (quantiles, renewal counts), failure paths, and (when the
 * public data is present) the Rossi reference fit. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../model/lifetime.h"
#include "../model/rng.h"
#include "../train/aft.h"
#include "testutil.h"

/* Output of tests/golden/aft_golden.py (hazard parametrization, complex-step
 * gradients, LM-damped Newton in numpy; no code shared with aft.c). */
static const double golden_weibull_theta[4] = {-0.99179734237368644, 0.29949671628975133, 2.989493279953908,
                                               -1.3629110186402755};
static const double golden_weibull_ll = -24.967641435651579;
static const double golden_weibull_ll_probe = -72.120126899632439;
static const double golden_loglogistic_theta[4] = {-0.97203461333872521, 0.26228117330358014, 2.8855265978121118,
                                                   -1.6029811814191148};
static const double golden_loglogistic_ll = -25.724974692860794;
static const double golden_loglogistic_ll_probe = -43.00377049883852;

static const double gX[14][2] = {{0.5, 1.0},  {-1.2, 0.0}, {0.3, 1.0}, {2.0, 0.0},  {-0.7, 1.0},
                                 {1.1, 1.0},  {0.0, 0.0},  {-1.5, 1.0}, {0.8, 0.0}, {1.7, 1.0},
                                 {-0.2, 0.0}, {0.9, 1.0},  {-1.0, 0.0}, {0.4, 1.0}};
static const double gT[14] = {12.0, 30.0, 7.5, 3.0, 45.0, 9.0, 20.0, 60.0, 5.0, 4.0, 25.0, 14.0, 38.0, 10.0};
static const uint8_t gE[14] = {1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0};

static upf_aft_data golden_data(void)
{
    upf_aft_data D = {14, 2, NULL, &gX[0][0], gT, gE, NULL, NULL};
    return D;
}

START_TEST(test_loglik_golden_probe)
{
    upf_aft_data D = golden_data();
    double probe[4] = {0.3, -0.4, 2.5, -0.2};
    ck_assert_double_eq_tol(upf_aft_loglik(&D, UPF_AFT_WEIBULL, 0.0, probe, NULL, NULL), golden_weibull_ll_probe,
                            1e-12);
    ck_assert_double_eq_tol(upf_aft_loglik(&D, UPF_AFT_LOGLOGISTIC, 0.0, probe, NULL, NULL),
                            golden_loglogistic_ll_probe, 1e-12);
}
END_TEST

START_TEST(test_newton_golden_mle)
{
    upf_aft_data D = golden_data();
    upf_aft_params p = upf_aft_params_default();
    upf_aft_fit_info info;
    upf_err e;
    for (int k = 0; k < 2; k++) {
        p.dist = k == 0 ? UPF_AFT_WEIBULL : UPF_AFT_LOGLOGISTIC;
        double th[4] = {0, 0, 0, 0};
        ck_assert_int_eq(upf_aft_fit_newton(&D, &p, th, &info, &e), UPF_OK);
        ck_assert(info.converged);
        upf_ck_arrays_close(th, k == 0 ? golden_weibull_theta : golden_loglogistic_theta, 4, 1e-8, 1e-8);
        ck_assert_double_eq_tol(info.log_likelihood, k == 0 ? golden_weibull_ll : golden_loglogistic_ll, 1e-10);
    }
}
END_TEST

/* random data: n rows, d features, Weibull times, ~30% censored */
static void random_data(size_t n, size_t d, uint64_t seed, float **X, double **t, uint8_t **ev, double **w)
{
    upf_rng r;
    upf_rng_seed(&r, seed, 0);
    *X = malloc((n * d + 1) * sizeof **X);
    *t = malloc(n * sizeof **t);
    *ev = malloc(n * sizeof **ev);
    *w = malloc(n * sizeof **w);
    for (size_t i = 0; i < n; i++) {
        double eta = 2.0;
        for (size_t j = 0; j < d; j++) {
            (*X)[i * d + j] = (float)upf_rng_normal(&r);
            eta += 0.3 * (double)(*X)[i * d + j] * (j % 2 ? -1.0 : 1.0);
        }
        double tt = exp(eta + 0.7 * log(upf_rng_exponential(&r)));
        double c = 5.0 + 40.0 * upf_rng_uniform(&r);
        (*ev)[i] = tt <= c;
        (*t)[i] = tt <= c ? tt : c;
        (*w)[i] = 0.5 + upf_rng_uniform(&r);
    }
}

/* Right truncation by hand: one row, no covariates, eta 0, sigma 1.
 * Weibull: T ~ Exp(1), f(1) = e^-1, F(2) = 1 - e^-2:
 *   log f(1) - log F(2) = -1 - log(0.8646647167633873) = -0.8545865...
 * log-logistic: S(t) = 1/(1+t), f(1) = 1/4, F(2) = 2/3:
 *   log(1/4) - log(2/3) = -0.9808292530117262
 * censored at 1 (Weibull): log S(1) - log F(2) = the same as the event row
 * above plus log 1 = -0.8545865... (the density of Exp(1) equals its survival). */
START_TEST(test_truncation_by_hand)
{
    double t = 1.0, tb = 2.0, th[2] = {0.0, 0.0};
    uint8_t ev1 = 1, ev0 = 0;
    upf_aft_data D = {1, 0, NULL, NULL, &t, &ev1, NULL, &tb};
    double w = -1.0 - log(1.0 - exp(-2.0));
    ck_assert_double_eq_tol(upf_aft_loglik(&D, UPF_AFT_WEIBULL, 0.0, th, NULL, NULL), w, 1e-14);
    ck_assert_double_eq_tol(upf_aft_loglik(&D, UPF_AFT_LOGLOGISTIC, 0.0, th, NULL, NULL), -0.9808292530117262, 1e-14);
    D.event = &ev0;
    ck_assert_double_eq_tol(upf_aft_loglik(&D, UPF_AFT_WEIBULL, 0.0, th, NULL, NULL), w, 1e-14);
    /* an infinite bound is no truncation; a bound <= 0 is refused */
    tb = INFINITY;
    ck_assert_double_eq_tol(upf_aft_loglik(&D, UPF_AFT_WEIBULL, 0.0, th, NULL, NULL), -1.0, 1e-14);
    tb = -1.0;
    ck_assert(isinf(upf_aft_loglik(&D, UPF_AFT_WEIBULL, 0.0, th, NULL, NULL)));
    /* Adam refuses truncated rows */
    float xf = 0.0f;
    tb = 2.0;
    upf_aft_data Df = {1, 1, &xf, NULL, &t, &ev1, NULL, &tb};
    upf_aft_params p = upf_aft_params_default();
    double th3[3] = {0};
    upf_aft_fit_info info;
    upf_err err;
    ck_assert_int_eq(upf_aft_fit_adam(&Df, &p, th3, NULL, NULL, &info, &err), UPF_ERR_ARG);
}
END_TEST

/* Gaps seen only when they closed before an observation end (start uniform
 * in [0, 150) days, so the bound is 150 - start): the plain fit leans to
 * short gaps and shrinks the slope; dividing by F(bound) recovers it. */
START_TEST(test_truncation_recovers_slope)
{
    upf_rng r;
    upf_rng_seed(&r, 77, 0);
    size_t cap = 40000, n = 0;
    float *X = malloc(cap * sizeof *X);
    double *t = malloc(cap * sizeof *t), *tb = malloc(cap * sizeof *tb);
    uint8_t *ev = malloc(cap);
    for (size_t k = 0; k < cap; k++) {
        double x = upf_rng_normal(&r), s = 150.0 * upf_rng_uniform(&r);
        /* Weibull AFT: log T = 3.5 + 0.5 x + 0.5 log E, E ~ Exp(1) (W = log E is minimum extreme value) */
        double tt = exp(3.5 + 0.5 * x + 0.5 * log(upf_rng_exponential(&r)));
        if (tt > 150.0 - s) continue; /* not closed yet: never seen */
        X[n] = (float)x;
        t[n] = tt;
        tb[n] = 150.0 - s;
        ev[n] = 1;
        n++;
    }
    ck_assert(n > 20000);
    upf_aft_params p = upf_aft_params_default();
    upf_aft_fit_info info;
    upf_err err;
    double plain[3] = {0}, fixed[3] = {0};
    upf_aft_data D = {n, 1, X, NULL, t, ev, NULL, NULL};
    ck_assert_int_eq(upf_aft_fit_newton(&D, &p, plain, &info, &err), UPF_OK);
    D.trunc = tb;
    ck_assert_int_eq(upf_aft_fit_newton(&D, &p, fixed, &info, &err), UPF_OK);
    ck_assert(info.converged);
    ck_assert_msg(plain[0] < 0.45, "untruncated fit: slope %.4f, planted 0.5", plain[0]);
    ck_assert_msg(fabs(fixed[0] - 0.5) < 0.03, "truncated fit: slope %.4f, planted 0.5", fixed[0]);
    ck_assert_msg(fabs(exp(fixed[2]) - 0.5) < 0.03, "truncated fit: sigma %.4f, planted 0.5", exp(fixed[2]));
    free(X);
    free(t);
    free(tb);
    free(ev);
}
END_TEST

START_TEST(test_derivatives_finite_differences)
{
    float *X;
    double *t, *w;
    uint8_t *ev;
    size_t n = 60, d = 3, P = d + 2;
    random_data(n, d, 3, &X, &t, &ev, &w);
    /* right-truncation bounds: none, at the time itself, a little and far above it */
    double tb[60];
    for (size_t i = 0; i < n; i++)
        tb[i] = i % 4 == 0 ? (double)INFINITY : i % 4 == 1 ? t[i] : i % 4 == 2 ? 1.7 * t[i] : 1e6 * t[i];
    upf_aft_data D = {n, d, X, NULL, t, ev, w, NULL};
    double th[5] = {0.2, -0.1, 0.05, 1.8, -0.3}, g[5], H[25], gp[5], gm[5];
    for (int variant = 0; variant < 4; variant++) {
        int dist = variant % 2 ? UPF_AFT_LOGLOGISTIC : UPF_AFT_WEIBULL;
        D.trunc = variant >= 2 ? tb : NULL;
        upf_aft_loglik(&D, dist, 0.7, th, g, H);
        for (size_t k = 0; k < P; k++) {
            double h = 1e-6, tp[5], tm[5];
            memcpy(tp, th, sizeof tp);
            memcpy(tm, th, sizeof tm);
            tp[k] += h;
            tm[k] -= h;
            double fd = (upf_aft_loglik(&D, dist, 0.7, tp, gp, NULL) - upf_aft_loglik(&D, dist, 0.7, tm, gm, NULL)) /
                        (2.0 * h);
            ck_assert_msg(fabs(fd - g[k]) <= 1e-6 * (1.0 + fabs(fd)), "%s%s grad[%zu]: %.10g vs fd %.10g",
                          upf_aft_dist_name(dist), D.trunc ? " truncated" : "", k, g[k], fd);
            for (size_t j = 0; j < P; j++) {
                double hfd = (gp[j] - gm[j]) / (2.0 * h);
                ck_assert_msg(fabs(hfd - H[k * P + j]) <= 1e-5 * (1.0 + fabs(hfd)), "%s%s hess[%zu][%zu]: %.10g vs %.10g",
                              upf_aft_dist_name(dist), D.trunc ? " truncated" : "", k, j, H[k * P + j], hfd);
            }
        }
    }
    free(X);
    free(t);
    free(ev);
    free(w);
}
END_TEST

START_TEST(test_blas_paths_match_reference)
{
    static const size_t shapes[][2] = {{1, 1}, {7, 0}, {300, 13}, {1500, 4}, {513, 30}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t n = shapes[s][0], d = shapes[s][1], P = d + 2;
        float *X;
        double *t, *w;
        uint8_t *ev;
        random_data(n, d, 100 + s, &X, &t, &ev, &w);
        double *th = calloc(P, sizeof *th), *g1 = calloc(P, sizeof *g1), *g2 = calloc(P, sizeof *g2);
        double *H1 = calloc(P * P, sizeof *H1), *H2 = calloc(P * P, sizeof *H2);
        float *scratch = malloc((2 * n + 2 * d) * sizeof *scratch);
        for (size_t j = 0; j < d; j++) th[j] = 0.1 * (double)(j % 5) - 0.2;
        th[d] = 2.0;
        th[d + 1] = -0.4;
        for (int dist = UPF_AFT_WEIBULL; dist <= UPF_AFT_LOGLOGISTIC; dist++) {
            double a = upf_aft_batch_grad(dist, n, d, X, t, ev, w, th, g1, scratch);
            double b = upf_aft_batch_grad_ref(dist, n, d, X, t, ev, w, th, g2);
            /* sgemv accumulates in float */
            ck_assert_double_eq_tol(a, b, 1e-5 * fabs(b));
            upf_ck_arrays_close(g1, g2, P, 1e-3, 1e-4);
            upf_aft_data D = {n, d, X, NULL, t, ev, w, NULL};
            double *tb = malloc(n * sizeof *tb);
            for (size_t i = 0; i < n; i++) tb[i] = i % 3 == 0 ? (double)INFINITY : (1.0 + 0.5 * (double)(i % 5)) * t[i];
            for (int tr = 0; tr < 2; tr++) {
                D.trunc = tr ? tb : NULL;
                double l1 = upf_aft_loglik(&D, dist, 0.3, th, g1, H1), l2 = 0.0;
                ck_assert_int_eq(upf_aft_loglik_fast(&D, dist, 0.3, th, g2, H2, &l2), UPF_OK);
                ck_assert_double_eq_tol(l1, l2, 1e-10 * fabs(l1));
                upf_ck_arrays_close(g2, g1, P, 1e-9, 1e-10);
                upf_ck_arrays_close(H2, H1, P * P, 1e-9, 1e-10);
            }
            free(tb);
        }
        free(X);
        free(t);
        free(ev);
        free(w);
        free(th);
        free(g1);
        free(g2);
        free(H1);
        free(H2);
        free(scratch);
    }
}
END_TEST

typedef struct epoch_log {
    size_t n;
    double last;
} epoch_log;

static upf_status on_epoch(void *ctx, size_t epoch, double nll, const double *theta, upf_err *err)
{
    (void)theta;
    (void)err;
    epoch_log *l = ctx;
    l->n = epoch + 1;
    l->last = nll;
    return UPF_OK;
}

START_TEST(test_adam_approaches_newton)
{
    size_t n = 20000, d = 6, P = d + 2;
    float *X;
    double *t, *w;
    uint8_t *ev;
    random_data(n, d, 11, &X, &t, &ev, &w);
    upf_aft_data D = {n, d, X, NULL, t, ev, NULL, NULL};
    upf_aft_params p = upf_aft_params_default();
    p.dist = UPF_AFT_WEIBULL;
    p.epochs = 15;
    p.batch = 256;
    p.lr = 0.02;
    double tn[8] = {0}, ta[8] = {0}, tb[8] = {0};
    upf_aft_fit_info in, ia, ib;
    upf_err e;
    ck_assert_int_eq(upf_aft_fit_newton(&D, &p, tn, &in, &e), UPF_OK);
    epoch_log log = {0, 0};
    ck_assert_int_eq(upf_aft_fit_adam(&D, &p, ta, on_epoch, &log, &ia, &e), UPF_OK);
    ck_assert_uint_eq(log.n, 15);
    ck_assert_uint_eq(ia.iterations, 15 * ((n + 255) / 256));
    /* the planted effects are +-0.3, sigma 0.7 */
    for (size_t j = 0; j < d; j++) ck_assert_double_eq_tol(tn[j], j % 2 ? -0.3 : 0.3, 0.03);
    ck_assert_double_eq_tol(exp(tn[d + 1]), 0.7, 0.03);
    for (size_t j = 0; j < P; j++) ck_assert_msg(fabs(ta[j] - tn[j]) < 0.02, "theta[%zu]: adam %g newton %g", j, ta[j], tn[j]);
    ck_assert(ia.log_likelihood <= in.log_likelihood + 1e-9);
    ck_assert(ia.log_likelihood >= in.log_likelihood - 1e-3 * fabs(in.log_likelihood));
    ck_assert_double_eq_tol(log.last, -ia.log_likelihood / (double)n, 0.01);
    /* the same seed gives the same bits */
    ck_assert_int_eq(upf_aft_fit_adam(&D, &p, tb, NULL, NULL, &ib, &e), UPF_OK);
    ck_assert_mem_eq(ta, tb, P * sizeof *ta);
    free(X);
    free(t);
    free(ev);
    free(w);
}
END_TEST

START_TEST(test_predictions)
{
    double scratch[2 * 401];
    /* Weibull with sigma 1 is exponential with mean e^eta: a Poisson process */
    double eta = log(20.0);
    ck_assert_double_eq_tol(upf_aft_survival(UPF_AFT_WEIBULL, eta, 1.0, 30.0), exp(-1.5), 1e-15);
    ck_assert_double_eq_tol(upf_aft_quantile(UPF_AFT_WEIBULL, eta, 1.0, 0.5), 20.0 * log(2.0), 1e-12);
    ck_assert_double_eq_tol(upf_aft_expected_count(UPF_AFT_WEIBULL, eta, 1.0, 90.0, 400, scratch), 4.5, 2e-4);
    /* log-logistic: the median is e^eta; quantiles invert the survival */
    ck_assert_double_eq_tol(upf_aft_quantile(UPF_AFT_LOGLOGISTIC, 2.0, 0.5, 0.5), exp(2.0), 1e-12);
    for (int dist = UPF_AFT_WEIBULL; dist <= UPF_AFT_LOGLOGISTIC; dist++)
        for (double q = 0.05; q < 1.0; q += 0.1) {
            double tq = upf_aft_quantile(dist, 1.3, 0.8, q);
            ck_assert_double_eq_tol(upf_aft_survival(dist, 1.3, 0.8, tq), 1.0 - q, 1e-12);
        }
    /* far tails stay finite in logs */
    ck_assert_double_eq_tol(upf_aft_log_survival(UPF_AFT_LOGLOGISTIC, 0.0, 1.0, exp(700.0)), -700.0, 1e-9);
    ck_assert(upf_aft_log_survival(UPF_AFT_WEIBULL, 0.0, 1.0, exp(-800.0)) > -1e-300);
    ck_assert_double_eq(upf_aft_survival(UPF_AFT_WEIBULL, 0.0, 1.0, 0.0), 1.0);
    ck_assert_double_eq(upf_aft_expected_count(UPF_AFT_WEIBULL, 0.0, 1.0, 0.0, 10, scratch), 0.0);
    /* the renewal count grows with the horizon and never exceeds it over the shortest gaps */
    double prev = 0.0;
    for (double h = 10.0; h <= 200.0; h += 10.0) {
        double m = upf_aft_expected_count(UPF_AFT_LOGLOGISTIC, log(30.0), 0.4, h, 200, scratch);
        ck_assert(m > prev);
        prev = m;
    }
    /* the row-level wrapper */
    float x[2] = {1.0f, -1.0f};
    double th[4] = {0.5, 0.25, 2.0, 0.0};
    upf_aft_prediction pr;
    upf_aft_predict(UPF_AFT_WEIBULL, 2, x, th, 30.0, 400, scratch, &pr);
    ck_assert_double_eq_tol(pr.eta, 2.25, 1e-12);
    ck_assert_double_eq_tol(pr.p_none, exp(-30.0 / exp(2.25)), 1e-12);
    ck_assert_double_eq_tol(pr.median, exp(2.25) * log(2.0), 1e-12);
    ck_assert(pr.q10 < pr.median && pr.median < pr.q90);
    ck_assert_double_eq_tol(pr.expected, 30.0 / exp(2.25), 1e-3);
    ck_assert_int_eq(upf_aft_dist_from_name("loglogistic"), UPF_AFT_LOGLOGISTIC);
    ck_assert_int_eq(upf_aft_dist_from_name("cox"), UPF_AFT_DIST_NONE);
    ck_assert_str_eq(upf_aft_dist_name(UPF_AFT_WEIBULL), "weibull");
}
END_TEST

START_TEST(test_standardize)
{
    float X[4 * 3] = {1, 5, 100, 2, 5, 200, 3, 5, 300, 4, 5, 400};
    double c[3], s[3];
    upf_aft_standardize(X, 4, 3, c, s);
    ck_assert_double_eq_tol(c[0], 2.5, 1e-12);
    ck_assert_double_eq_tol(s[0], sqrt(1.25), 1e-12);
    ck_assert_double_eq(s[1], 1.0); /* constant column */
    for (int i = 0; i < 4; i++) ck_assert_double_eq((double)X[i * 3 + 1], 0.0);
    ck_assert_double_eq_tol((double)X[2], -150.0 / sqrt(12500.0), 1e-6);
}
END_TEST

START_TEST(test_failures)
{
    upf_aft_data D = golden_data();
    upf_aft_params p = upf_aft_params_default();
    upf_aft_fit_info info;
    upf_err e;
    double th[4] = {0, 0, 0, 0};
    p.dist = 7;
    ck_assert_int_eq(upf_aft_fit_newton(&D, &p, th, &info, &e), UPF_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(e.msg, "distribution"));
    p = upf_aft_params_default();
    p.lr = 0.0;
    ck_assert_int_eq(upf_aft_params_check(&p, &e), UPF_ERR_ARG);
    p = upf_aft_params_default();
    double bad_t[14];
    memcpy(bad_t, gT, sizeof bad_t);
    bad_t[3] = 0.0;
    upf_aft_data B = D;
    B.time = bad_t;
    ck_assert_int_eq(upf_aft_fit_newton(&B, &p, th, &info, &e), UPF_ERR_NUMERIC);
    ck_assert_double_eq(info.log_likelihood, 0.0);
    for (int i = 0; i < 4; i++) ck_assert_double_eq(th[i], 0.0); /* untouched */
    /* Adam wants float features and a finite loss */
    ck_assert_int_eq(upf_aft_fit_adam(&D, &p, th, NULL, NULL, &info, &e), UPF_ERR_ARG);
    float Xf[28];
    for (int i = 0; i < 28; i++) Xf[i] = (float)(&gX[0][0])[i];
    B.Xd = NULL;
    B.Xf = Xf;
    ck_assert_int_eq(upf_aft_fit_adam(&B, &p, th, NULL, NULL, &info, &e), UPF_ERR_NUMERIC);
    ck_assert_ptr_nonnull(strstr(e.msg, "epoch 0"));
    /* allocation failures: NOMEM and no leak, until it succeeds */
    D.Xd = NULL;
    D.Xf = Xf;
    for (int which = 0; which < 2; which++)
        for (long k = 1;; k++) {
            double t2[4] = {0, 0, 0, 0};
            upf_alloc_fail_after(k);
            upf_status st = which ? upf_aft_fit_adam(&D, &p, t2, NULL, NULL, &info, &e)
                                  : upf_aft_fit_newton(&D, &p, t2, &info, &e);
            upf_alloc_fail_after(0);
            if (st == UPF_OK) break;
            ck_assert_int_eq(st, UPF_ERR_NOMEM);
            ck_assert(k < 20);
        }
}
END_TEST

/* Rossi et al. (1980) recidivism, Weibull AFT on all seven covariates:
 * R survreg and lifelines give log-likelihood -679.917 and (fin, age, race,
 * wexp, mar, paro, prio, intercept) = (0.272, 0.041, -0.225, 0.107, 0.311,
 * 0.059, -0.066, 3.990), sigma 0.712 (lifelines rho 1.404). */
START_TEST(test_rossi_reference)
{
    const char *dir = upf_test_data_dir();
    if (!dir) return; /* skipped: no public data */
    char path[4096], line[256];
    snprintf(path, sizeof path, "%s/rossi/rossi.csv", dir);
    FILE *f = fopen(path, "r");
    if (!f) return;
    double X[432 * 7], t[432];
    uint8_t ev[432];
    size_t n = 0;
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    while (n < 432 && fgets(line, sizeof line, f)) {
        double v[9];
        if (sscanf(line, "%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
                   &v[7], &v[8]) != 9)
            continue;
        t[n] = v[0];
        ev[n] = (uint8_t)v[1];
        for (int j = 0; j < 7; j++) X[n * 7 + j] = v[2 + j];
        n++;
    }
    fclose(f);
    ck_assert_uint_eq(n, 432);
    upf_aft_data D = {n, 7, NULL, X, t, ev, NULL, NULL};
    upf_aft_params p = upf_aft_params_default();
    double th[9] = {0};
    upf_aft_fit_info info;
    upf_err e;
    ck_assert_int_eq(upf_aft_fit_newton(&D, &p, th, &info, &e), UPF_OK);
    ck_assert(info.converged);
    ck_assert_double_eq_tol(info.log_likelihood, -679.917, 5e-4);
    static const double ref[8] = {0.272, 0.041, -0.225, 0.107, 0.311, 0.059, -0.066, 3.990};
    for (int j = 0; j < 8; j++) ck_assert_double_eq_tol(th[j], ref[j], 6e-4);
    ck_assert_double_eq_tol(exp(th[8]), 0.712, 6e-4);
}
END_TEST

Suite *aft_suite(void)
{
    Suite *s = suite_create("aft");
    TCase *tc = tcase_create("model");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_loglik_golden_probe);
    tcase_add_test(tc, test_newton_golden_mle);
    tcase_add_test(tc, test_derivatives_finite_differences);
    tcase_add_test(tc, test_truncation_by_hand);
    tcase_add_test(tc, test_truncation_recovers_slope);
    tcase_add_test(tc, test_blas_paths_match_reference);
    tcase_add_test(tc, test_adam_approaches_newton);
    tcase_add_test(tc, test_predictions);
    tcase_add_test(tc, test_standardize);
    tcase_add_test(tc, test_failures);
    tcase_add_test(tc, test_rossi_reference);
    suite_add_tcase(s, tc);
    return s;
}
