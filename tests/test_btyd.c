/* test_btyd.c - BG/NBD, Pareto/NBD and Gamma-Gamma: special functions and
 * per-customer formulas against independent goldens, gradients against
 * finite differences, the calibration/holdout summary on crafted purchases,
 * parameter recovery on simulated customers, the optimizers, and (when the
 * public data is present) the published CDNOW estimates. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../model/lifetime.h"
#include "../model/rng.h"
#include "../train/btyd.h"
#include "../train/minimize.h"
#include "testutil.h"

/* ---- goldens: output of tests/golden/btyd_golden.py (decimal 40-digit 2F1,
 * the papers' gamma-function products, Gauss-Legendre for the Pareto/NBD
 * integral). Inputs are repeated here in the script's order. ---- */
static const double golden_log_2f1[5] = {
    0.083451860186492616, 3.3031163007492514, 0.32663425997828099,
    17.667768286407075, 132.65480369051878};
static const double golden_bgnbd_ll[12] = {
    -0.55381497532326873, -4.4449054261034737, -12.016978610777649,
    -20.557348374219988, -7.105409048190606, -33.547291289833417,
    -5.6756664285671974, -2.8941083216331056, -15.286097759340219,
    -25.117378947180526, -9.5463577648313951, -37.736253123671531};
static const double golden_bgnbd_palive[12] = {
    1, 0.27501355399428412, 0.55776765428786412,
    0.91231237237044049, 0.81204967766401215, 0.75377759380300324,
    1, 0.0005073083317540893, 0.091258369741965856,
    0.71356245240843708, 0.35897435897435898, 0.37364732836475628};
static const double golden_bgnbd_expected[12] = {
    0.1947861410464877, 0.32056223332349493, 1.4476471160700553,
    5.7008178530449776, 3.2501061490913572, 8.2174745151537234,
    0.64855783558425861, 0.00062342995234214861, 0.18841626396990399,
    2.9236540499686674, 0.81592012318438178, 2.6938424037515478};
static const double golden_mbgnbd_ll[12] = {
    -0.3863892600455423, -4.890849826246634, -12.238393600339519,
    -20.647469713396816, -7.3136028094932701, -33.606022660554764,
    -0.14787161416134209, -5.1701081393895629, -16.14826215805709,
    -25.447910537829923, -10.570862081345782, -37.928208828796876};
static const double golden_mbgnbd_palive[12] = {
    0.63748001630956364, 0.34882522979418235, 0.60725892614751709,
    0.92087888750693569, 0.84806100551808705, 0.76458068896830222,
    0.00054824061809394568, 0.0017733300983047622, 0.12454687995883032,
    0.74229504318678807, 0.48979591836734687, 0.38948871114376027};
static const double golden_mbgnbd_expected[12] = {
    0.12730164314285011, 0.41965437862574084, 1.6162958580353985,
    5.8690509923157865, 3.5706747074100118, 8.4243471111571644,
    0.00041345222053954905, 0.0025138991429739669, 0.28253912808754439,
    3.2403414372024315, 1.329450851553853, 2.9000340322842257};
static const double golden_pnbd_ll[18] = {
    -0.52104629408089043, -4.4276975245282522, -11.881701372978005,
    -20.273022878892334, -6.9437273843720115, -33.601306229453044,
    -0.58434136671188774, -4.0864924952959161, -11.800354507732251,
    -20.056441024515419, -6.7966672687885881, -33.604360248387799,
    -0.42620244894968495, -3.7935709007876679, -13.892302101225869,
    -22.01344543068992, -8.1378308595600473, -33.966178538266576};
static const double golden_gg_ll[3] = {-3.6862756451277363, -4.3212073487685245, -3.6262826598631932};
static const double golden_gg_expected[3] = {19.42436040044494, 39.527757750540729, 27.667825055094081};

static const double customers[6][3] = {{0, 0.0, 38.86}, {1, 2.0, 30.0},  {3, 20.5, 35.0},
                                       {7, 29.9, 30.0}, {2, 10.0, 10.0}, {15, 33.0, 38.0}};
static const upf_bgnbd_params bg_params[2] = {{0.2426, 4.4137, 0.7930, 2.4262, 0}, {1.3, 0.5, 2.5, 0.4, 0}};
static const upf_pnbd_params pn_params[3] = {
    {0.553, 10.578, 0.606, 11.669}, {1.2, 15.0, 0.4, 2.0}, {0.8, 3.0, 1.5, 3.0}};

/* ---- special functions ---- */

START_TEST(test_hyp2f1_golden)
{
    static const double args[5][4] = {
        {0.5, 1.5, 2.5, 0.25}, {3.2, 2.1, 4.2, 0.9}, {1.0, 1.0, 2.0, 0.5}, {12.0, 7.5, 3.5, 0.6}, {0.3, 40.0, 1.2, 0.97}};
    double got[5];
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(upf_log_hyp2f1(args[i][0], args[i][1], args[i][2], args[i][3], &got[i]), UPF_OK);
    upf_ck_arrays_close(got, golden_log_2f1, 5, 1e-13, 1e-13);
    /* 2F1(1, 1; 2; z) = -log(1-z)/z, by hand */
    double v = 0.0;
    ck_assert_int_eq(upf_log_hyp2f1(1.0, 1.0, 2.0, 0.5, &v), UPF_OK);
    ck_assert_double_eq_tol(exp(v), 2.0 * log(2.0), 1e-14);
    ck_assert_int_eq(upf_log_hyp2f1(1.0, 1.0, 2.0, 0.0, &v), UPF_OK);
    ck_assert_double_eq(v, 0.0);
}
END_TEST

START_TEST(test_hyp2f1_domain)
{
    double v = 1.0;
    ck_assert_int_eq(upf_log_hyp2f1(1.0, 1.0, 2.0, 1.0, &v), UPF_ERR_ARG);
    ck_assert_double_eq(v, 0.0);
    ck_assert_int_eq(upf_log_hyp2f1(1.0, 1.0, 2.0, -0.1, &v), UPF_ERR_ARG);
    ck_assert_int_eq(upf_log_hyp2f1(-1.0, 1.0, 2.0, 0.1, &v), UPF_ERR_ARG);
    ck_assert_int_eq(upf_log_hyp2f1(1.0, 1.0, NAN, 0.1, &v), UPF_ERR_ARG);
    v = 1.0;
    /* about 40 / (1 - z) = 4e9 terms would be needed */
    ck_assert_int_eq(upf_log_hyp2f1(1.0, 1.0, 2.0, 1.0 - 1e-8, &v), UPF_ERR_NUMERIC);
    ck_assert_double_eq(v, 0.0);
    /* large values do not overflow: 2F1(a, b; b; z) = (1-z)^-a */
    ck_assert_int_eq(upf_log_hyp2f1(800.0, 3.0, 3.0, 0.9, &v), UPF_OK);
    ck_assert_double_eq_tol(v, -800.0 * log(0.1), 1e-9 * 800.0 * log(10.0));
}
END_TEST

START_TEST(test_digamma_known_values)
{
    const double euler = 0.57721566490153286, pi = 3.14159265358979324;
    ck_assert_double_eq_tol(upf_digamma(1.0), -euler, 1e-14);
    ck_assert_double_eq_tol(upf_digamma(0.5), -euler - 2.0 * log(2.0), 1e-14);
    /* psi(n) = H_{n-1} - gamma */
    double h = 0.0;
    for (int k = 1; k < 25; k++) h += 1.0 / k;
    ck_assert_double_eq_tol(upf_digamma(25.0), h - euler, 1e-14);
    ck_assert_double_eq_tol(upf_digamma(1e-6), -1e6 - euler + pi * pi / 6.0 * 1e-6, 1e-8);
    ck_assert_double_eq_tol(upf_trigamma(1.0), pi * pi / 6.0, 1e-13);
    ck_assert_double_eq_tol(upf_trigamma(0.5), pi * pi / 2.0, 1e-13);
    ck_assert(isnan(upf_digamma(0.0)));
    ck_assert(isnan(upf_trigamma(-1.0)));
    /* psi' is the derivative of psi */
    for (double x = 0.3; x < 40.0; x *= 1.9) {
        double fd = (upf_digamma(x + 1e-5) - upf_digamma(x - 1e-5)) / 2e-5;
        ck_assert_double_eq_tol(upf_trigamma(x), fd, 1e-6 * (1.0 + fabs(fd)));
    }
}
END_TEST

/* ---- BG/NBD ---- */

START_TEST(test_bgnbd_formulas_golden)
{
    double ll[12], pa[12], ex[12];
    for (int p = 0; p < 2; p++)
        for (int c = 0; c < 6; c++) {
            const double *cu = customers[c];
            ll[p * 6 + c] = upf_bgnbd_loglik1(&bg_params[p], cu[0], cu[1], cu[2]);
            pa[p * 6 + c] = upf_bgnbd_p_alive(&bg_params[p], cu[0], cu[1], cu[2]);
            ck_assert_int_eq(upf_bgnbd_expected(&bg_params[p], cu[0], cu[1], cu[2], 39.0, &ex[p * 6 + c]), UPF_OK);
        }
    upf_ck_arrays_close(ll, golden_bgnbd_ll, 12, 1e-12, 1e-12);
    upf_ck_arrays_close(pa, golden_bgnbd_palive, 12, 1e-14, 1e-12);
    upf_ck_arrays_close(ex, golden_bgnbd_expected, 12, 1e-13, 1e-11);
}
END_TEST

START_TEST(test_mbgnbd_formulas_golden)
{
    double ll[12], pa[12], ex[12];
    for (int p = 0; p < 2; p++)
        for (int c = 0; c < 6; c++) {
            const double *cu = customers[c];
            upf_bgnbd_params q = bg_params[p];
            q.mbg = 1;
            ll[p * 6 + c] = upf_bgnbd_loglik1(&q, cu[0], cu[1], cu[2]);
            pa[p * 6 + c] = upf_bgnbd_p_alive(&q, cu[0], cu[1], cu[2]);
            ck_assert_int_eq(upf_bgnbd_expected(&q, cu[0], cu[1], cu[2], 39.0, &ex[p * 6 + c]), UPF_OK);
        }
    upf_ck_arrays_close(ll, golden_mbgnbd_ll, 12, 1e-12, 1e-12);
    upf_ck_arrays_close(pa, golden_mbgnbd_palive, 12, 1e-14, 1e-12);
    upf_ck_arrays_close(ex, golden_mbgnbd_expected, 12, 1e-13, 1e-11);
}
END_TEST

START_TEST(test_bgnbd_expected_near_a_one)
{
    /* (1 - G)/(a - 1) is 0/0 at a = 1: the value must be continuous there */
    upf_bgnbd_params p = {0.5, 3.0, 1.0, 2.0, 0};
    double at1 = 0.0, lo = 0.0, hi = 0.0;
    ck_assert_int_eq(upf_bgnbd_expected(&p, 2.0, 10.0, 20.0, 30.0, &at1), UPF_OK);
    p.a = 1.0 - 1e-3;
    ck_assert_int_eq(upf_bgnbd_expected(&p, 2.0, 10.0, 20.0, 30.0, &lo), UPF_OK);
    p.a = 1.0 + 1e-3;
    ck_assert_int_eq(upf_bgnbd_expected(&p, 2.0, 10.0, 20.0, 30.0, &hi), UPF_OK);
    ck_assert(isfinite(at1) && at1 > 0.0);
    ck_assert_double_eq_tol(at1, 0.5 * (lo + hi), 1e-6 * at1);
    /* E[X(t)] for a new customer is eq. (10) at x = 0, T = 0, t_x = 0 */
    p.a = 0.793;
    double e_new = 0.0, e_cond = 0.0;
    ck_assert_int_eq(upf_bgnbd_expected_new(&p, 52.0, &e_new), UPF_OK);
    ck_assert_int_eq(upf_bgnbd_expected(&p, 0.0, 0.0, 0.0, 52.0, &e_cond), UPF_OK);
    ck_assert_double_eq_tol(e_new, e_cond, 1e-14);
    ck_assert_int_eq(upf_bgnbd_expected(&p, 0.0, 0.0, 0.0, -1.0, &e_cond), UPF_ERR_ARG);
}
END_TEST

/* ---- Pareto/NBD ---- */

START_TEST(test_pnbd_loglik_golden)
{
    double ll[18];
    for (int p = 0; p < 3; p++)
        for (int c = 0; c < 6; c++)
            ck_assert_int_eq(upf_pnbd_loglik1(&pn_params[p], customers[c][0], customers[c][1], customers[c][2],
                                              &ll[p * 6 + c]),
                             UPF_OK);
    upf_ck_arrays_close(ll, golden_pnbd_ll, 18, 1e-11, 1e-11);
}
END_TEST

START_TEST(test_pnbd_2f1_matches_quadrature)
{
    /* the 2F1 path against its plain reference, over a spread of parameters
     * that includes alpha >> beta (z near 1: the quadrature fallback), alpha
     * == beta and t_x == T */
    upf_rng rng;
    upf_rng_seed(&rng, 7, 0);
    double worst = 0.0;
    for (int i = 0; i < 400; i++) {
        upf_pnbd_params p = {exp(4.0 * upf_rng_uniform(&rng) - 2.0), exp(8.0 * upf_rng_uniform(&rng) - 3.0),
                             exp(4.0 * upf_rng_uniform(&rng) - 2.0), exp(8.0 * upf_rng_uniform(&rng) - 3.0)};
        if (i % 50 == 0) p.beta = p.alpha;
        if (i % 37 == 0) p.beta = p.alpha * 1e-4;
        double x = (double)upf_rng_below(&rng, 30), T = 1.0 + 77.0 * upf_rng_uniform(&rng);
        double tx = x > 0.0 ? T * upf_rng_uniform(&rng) : 0.0;
        if (i % 13 == 0 && x > 0.0) tx = T;
        double a = 0.0, b = 0.0;
        ck_assert_int_eq(upf_pnbd_loglik1(&p, x, tx, T, &a), UPF_OK);
        ck_assert_int_eq(upf_pnbd_loglik1_ref(&p, x, tx, T, &b), UPF_OK);
        double d = fabs(a - b) / (1.0 + fabs(b));
        if (d > worst) worst = d;
    }
    ck_assert_msg(worst < 1e-11, "worst relative difference %g", worst);
}
END_TEST

START_TEST(test_pnbd_predictions)
{
    const upf_pnbd_params *p = &pn_params[0];
    double alive = 0.0, e = 0.0;
    /* no repeat purchase... */
    ck_assert_int_eq(upf_pnbd_p_alive(p, 0.0, 0.0, 30.0, &alive), UPF_OK);
    ck_assert(alive > 0.0 && alive < 1.0);
    /* ...and a purchase at the very end: surely alive */
    ck_assert_int_eq(upf_pnbd_p_alive(p, 3.0, 30.0, 30.0, &alive), UPF_OK);
    ck_assert_double_eq(alive, 1.0);
    /* alive for sure: E[Y(t)] = (r+x)/(alpha+T) * (beta+T)/(s-1) * (1 - ((beta+T)/(beta+T+t))^(s-1)) */
    ck_assert_int_eq(upf_pnbd_expected(p, 3.0, 30.0, 30.0, 39.0, &e), UPF_OK);
    double hand = (p->r + 3.0) / (p->alpha + 30.0) * (p->beta + 30.0) / (p->s - 1.0) *
                  (1.0 - pow((p->beta + 30.0) / (p->beta + 30.0 + 39.0), p->s - 1.0));
    ck_assert_double_eq_tol(e, hand, 1e-12 * hand);
    /* the s -> 1 limit */
    upf_pnbd_params q = {0.5, 10.0, 1.0, 12.0};
    double e1 = 0.0, elo = 0.0, ehi = 0.0;
    ck_assert_int_eq(upf_pnbd_expected(&q, 2.0, 10.0, 20.0, 30.0, &e1), UPF_OK);
    q.s = 1.0 - 1e-6;
    ck_assert_int_eq(upf_pnbd_expected(&q, 2.0, 10.0, 20.0, 30.0, &elo), UPF_OK);
    q.s = 1.0 + 1e-6;
    ck_assert_int_eq(upf_pnbd_expected(&q, 2.0, 10.0, 20.0, 30.0, &ehi), UPF_OK);
    ck_assert_double_eq_tol(e1, 0.5 * (elo + ehi), 1e-8 * e1);
    /* bad input */
    q.r = -1.0;
    ck_assert_int_eq(upf_pnbd_loglik1(&q, 1.0, 1.0, 2.0, &e), UPF_ERR_ARG);
    ck_assert_double_eq(e, 0.0);
    q.r = 1.0;
    ck_assert_int_eq(upf_pnbd_loglik1(&q, 1.0, 3.0, 2.0, &e), UPF_ERR_ARG); /* t_x > T */
}
END_TEST

/* ---- Gamma-Gamma ---- */

START_TEST(test_gg_formulas_golden)
{
    static const double spend[3][2] = {{1, 12.5}, {4, 40.0}, {9, 27.3}};
    upf_gg_params g = {6.25, 3.74, 15.44};
    double ll[3], ex[3];
    for (int i = 0; i < 3; i++) {
        ll[i] = upf_gg_loglik1(&g, spend[i][0], spend[i][1]);
        ex[i] = upf_gg_expected_spend(&g, spend[i][0], spend[i][1]);
    }
    upf_ck_arrays_close(ll, golden_gg_ll, 3, 1e-12, 1e-12);
    upf_ck_arrays_close(ex, golden_gg_expected, 3, 1e-12, 1e-12);
    ck_assert_double_eq_tol(upf_gg_expected_spend(&g, 0.0, 0.0), 6.25 * 15.44 / 2.74, 1e-12);
    g.q = 0.9;
    ck_assert(isnan(upf_gg_expected_spend(&g, 2.0, 10.0)));
}
END_TEST

/* ---- gradients by finite differences ---- */

static upf_btyd_summary tiny_summary(void)
{
    static double x[6], tx[6], T[6], xs[6], m[6];
    for (int i = 0; i < 6; i++) {
        x[i] = customers[i][0];
        tx[i] = customers[i][1];
        T[i] = customers[i][2];
        xs[i] = (double)(i % 3);
        m[i] = x[i] > 0.0 ? 10.0 + 7.0 * i : 0.0;
    }
    upf_btyd_summary s;
    memset(&s, 0, sizeof s);
    s.n = 6;
    s.x = x;
    s.t_x = tx;
    s.T = T;
    s.x_star = xs;
    s.m_x = m;
    s.t_star = 39.0;
    return s;
}

START_TEST(test_bgnbd_gradient)
{
    upf_btyd_summary s = tiny_summary();
    for (int k = 0; k < 4; k++) {
        int mbg = k >= 2;
        double th[4] = {log(bg_params[k % 2].r), log(bg_params[k % 2].alpha), log(bg_params[k % 2].a), log(bg_params[k % 2].b)};
        double g[4];
        upf_bgnbd_params p = {exp(th[0]), exp(th[1]), exp(th[2]), exp(th[3]), mbg};
        upf_bgnbd_loglik(&s, &p, g);
        for (int i = 0; i < 4; i++) {
            double h = 1e-6, tp[4], tm[4];
            memcpy(tp, th, sizeof tp);
            memcpy(tm, th, sizeof tm);
            tp[i] += h;
            tm[i] -= h;
            upf_bgnbd_params pp = {exp(tp[0]), exp(tp[1]), exp(tp[2]), exp(tp[3]), mbg};
            upf_bgnbd_params pm = {exp(tm[0]), exp(tm[1]), exp(tm[2]), exp(tm[3]), mbg};
            double fd = (upf_bgnbd_loglik(&s, &pp, NULL) - upf_bgnbd_loglik(&s, &pm, NULL)) / (2.0 * h);
            ck_assert_msg(fabs(fd - g[i]) <= 1e-6 * (1.0 + fabs(fd)), "param %d: analytic %.10g vs fd %.10g", i, g[i],
                          fd);
        }
    }
}
END_TEST

START_TEST(test_gg_gradient)
{
    upf_btyd_summary s = tiny_summary();
    double th[3] = {log(6.25), log(3.74), log(15.44)}, g[3];
    upf_gg_params gp = {exp(th[0]), exp(th[1]), exp(th[2])};
    upf_gg_loglik(&s, &gp, g);
    for (int i = 0; i < 3; i++) {
        double h = 1e-6, tp[3], tm[3];
        memcpy(tp, th, sizeof tp);
        memcpy(tm, th, sizeof tm);
        tp[i] += h;
        tm[i] -= h;
        upf_gg_params pp = {exp(tp[0]), exp(tp[1]), exp(tp[2])}, pm = {exp(tm[0]), exp(tm[1]), exp(tm[2])};
        double fd = (upf_gg_loglik(&s, &pp, NULL) - upf_gg_loglik(&s, &pm, NULL)) / (2.0 * h);
        ck_assert_msg(fabs(fd - g[i]) <= 1e-6 * (1.0 + fabs(fd)), "param %d: analytic %.10g vs fd %.10g", i, g[i], fd);
    }
}
END_TEST

/* ---- the summary ---- */

#define DAY 86400
#define JAN1_1997 852076800 /* 1997-01-01T00:00:00Z */

START_TEST(test_summary_crafted)
{
    /* calibration ends on day 100 (inclusive), holdout 14 days, weeks */
    const int64_t d0 = JAN1_1997;
    upf_btyd_txn t[] = {
        /* customer 5: first on day 2 (two rows merge), repeats on day 9 and 100, holdout day 101 and 114, 115 ignored */
        {5, d0 + 2 * DAY + 3600, 10.0},  {5, d0 + 2 * DAY + 7200, 5.0},   {5, d0 + 9 * DAY, 20.0},
        {5, d0 + 100 * DAY + 86399, 30.0}, {5, d0 + 101 * DAY, 1.0},       {5, d0 + 114 * DAY + 10, 1.0},
        {5, d0 + 115 * DAY, 1.0},
        /* customer 2: one purchase on day 30 */
        {2, d0 + 30 * DAY + 100, 7.5},
        /* customer 9: starts in the holdout: skipped */
        {9, d0 + 105 * DAY, 3.0},
        /* customer 3: first purchase on day 100 itself, a same-day second row, a holdout purchase */
        {3, d0 + 100 * DAY, 4.0},        {3, d0 + 100 * DAY + 50, 6.0},   {3, d0 + 103 * DAY, 2.0},
    };
    upf_btyd_params p = upf_btyd_params_default();
    p.cal_end = d0 + 100 * DAY;
    p.holdout_days = 14;
    upf_btyd_summary s;
    upf_err e;
    ck_assert_int_eq(upf_btyd_summary_build(t, sizeof t / sizeof t[0], &p, &s, &e), UPF_OK);
    ck_assert_uint_eq(s.n, 3);
    ck_assert_uint_eq(s.n_late, 1);
    ck_assert_uint_eq(s.n_merged, 2);
    ck_assert_double_eq(s.t_star, 2.0);
    /* ascending customer id: 2, 3, 5 */
    ck_assert_int_eq(s.customer[0], 2);
    ck_assert_int_eq(s.customer[1], 3);
    ck_assert_int_eq(s.customer[2], 5);
    double x[3] = {0, 0, 2}, tx[3] = {0, 0, 98.0 / 7.0}, T[3] = {70.0 / 7.0, 0.0, 98.0 / 7.0};
    double xs[3] = {0, 1, 2}, m[3] = {0, 0, 25.0}, fv[3] = {7.5, 10.0, 15.0};
    upf_ck_arrays_close(s.x, x, 3, 0, 0);
    upf_ck_arrays_close(s.t_x, tx, 3, 1e-15, 0);
    upf_ck_arrays_close(s.T, T, 3, 1e-15, 0);
    upf_ck_arrays_close(s.x_star, xs, 3, 0, 0);
    upf_ck_arrays_close(s.m_x, m, 3, 1e-15, 0);
    upf_ck_arrays_close(s.first_value, fv, 3, 1e-15, 0);
    ck_assert_double_eq(s.repeat_total, 2.0);
    ck_assert_double_eq(s.holdout_total, 3.0);
    ck_assert_double_eq(s.holdout_value, 4.0);
    ck_assert_double_eq(s.v_star[1], 2.0);
    ck_assert_uint_eq(s.n_zero, 2);
    upf_btyd_summary_free(&s);

    /* without merging, same-day rows are separate transactions at t = 0 */
    p.merge_same_day = 0;
    ck_assert_int_eq(upf_btyd_summary_build(t, sizeof t / sizeof t[0], &p, &s, &e), UPF_OK);
    ck_assert_double_eq(s.x[1], 1.0);
    ck_assert_double_eq(s.t_x[1], 0.0);
    ck_assert_double_eq(s.x[2], 3.0);
    upf_btyd_summary_free(&s);
    upf_btyd_summary_free(&s); /* twice is harmless */
}
END_TEST

START_TEST(test_summary_errors)
{
    upf_btyd_txn t[2] = {{1, JAN1_1997, 5.0}, {1, JAN1_1997 + DAY, -1.0}};
    upf_btyd_params p = upf_btyd_params_default();
    p.cal_end = JAN1_1997 + 10 * DAY;
    upf_btyd_summary s;
    upf_err e;
    ck_assert_int_eq(upf_btyd_summary_build(t, 2, &p, &s, &e), UPF_ERR_ARG);
    ck_assert_ptr_null(s.x);
    ck_assert_uint_eq(s.n, 0);
    ck_assert_ptr_nonnull(strstr(e.msg, "purchase 1"));
    ck_assert_int_eq(upf_btyd_summary_build(t, 0, &p, &s, &e), UPF_ERR_DATA);
    t[1].value = 1.0;
    p.cal_end = JAN1_1997 - DAY; /* everyone starts after calibration */
    ck_assert_int_eq(upf_btyd_summary_build(t, 2, &p, &s, &e), UPF_ERR_DATA);
    ck_assert_ptr_null(s.x);
    p.unit_days = 0.0;
    ck_assert_int_eq(upf_btyd_summary_build(t, 2, &p, &s, &e), UPF_ERR_ARG);
    /* allocation failure at every step: NOMEM, zeroed output, no leak */
    p = upf_btyd_params_default();
    p.cal_end = JAN1_1997 + 10 * DAY;
    for (long k = 1;; k++) {
        upf_alloc_fail_after(k);
        upf_status st = upf_btyd_summary_build(t, 2, &p, &s, &e);
        upf_alloc_fail_after(0);
        if (st == UPF_OK) {
            upf_btyd_summary_free(&s);
            break;
        }
        ck_assert_int_eq(st, UPF_ERR_NOMEM);
        ck_assert_ptr_null(s.x);
        ck_assert(k < 50);
    }
}
END_TEST

START_TEST(test_holdout_table)
{
    upf_btyd_summary s = tiny_summary(); /* x = 0, 1, 3, 7, 2, 15; x_star = 0, 1, 2, 0, 1, 2 */
    double expected[6] = {0.5, 1.0, 2.0, 3.0, 4.0, 5.0};
    upf_freq_bucket b[4];
    upf_btyd_holdout_table(&s, expected, 4, b); /* buckets 0, 1, 2, 3+ */
    ck_assert_uint_eq(b[0].n, 1);
    ck_assert_uint_eq(b[1].n, 1);
    ck_assert_uint_eq(b[2].n, 1);
    ck_assert_uint_eq(b[3].n, 3);
    ck_assert_double_eq_tol(b[3].actual_mean, (2.0 + 0.0 + 2.0) / 3.0, 1e-15);
    ck_assert_double_eq_tol(b[3].expected_mean, (2.0 + 3.0 + 5.0) / 3.0, 1e-15);
    ck_assert_double_eq(b[2].expected_mean, 4.0);
}
END_TEST

/* ---- recovery on simulated customers ---- */

/* BG/NBD's story: rate lambda ~ Gamma(r, alpha), dropout p ~ Beta(a, b);
 * Poisson purchases; after each, the customer leaves with probability p. */
static void simulate_bgnbd(const upf_bgnbd_params *p, size_t n, double T, upf_rng *rng, upf_btyd_summary *s)
{
    /* MBG/NBD: the first purchase (at 0) is a dropout chance too */
    memset(s, 0, sizeof *s);
    s->n = n;
    s->x = calloc(n, sizeof *s->x);
    s->t_x = calloc(n, sizeof *s->t_x);
    s->T = calloc(n, sizeof *s->T);
    for (size_t i = 0; i < n; i++) {
        double lam = upf_rng_gamma(rng, p->r) / p->alpha, drop = upf_rng_beta(rng, p->a, p->b);
        double t = 0.0, x = 0.0, tx = 0.0;
        int dead = p->mbg && upf_rng_uniform(rng) < drop;
        while (!dead) {
            t += upf_rng_exponential(rng) / lam;
            if (t > T) break;
            x += 1.0;
            tx = t;
            if (upf_rng_uniform(rng) < drop) break;
        }
        s->x[i] = x;
        s->t_x[i] = tx;
        s->T[i] = T;
    }
}

START_TEST(test_bgnbd_recovers_simulated)
{
    int mbg = _i;
    upf_rng rng;
    upf_rng_seed(&rng, 20050101 + (uint64_t)mbg, 0);
    upf_bgnbd_params truth = {0.8, 5.0, 0.6, 3.0, mbg}, est;
    upf_btyd_summary s;
    simulate_bgnbd(&truth, 20000, 52.0, &rng, &s);
    upf_btyd_fit_info info;
    upf_err e;
    ck_assert_int_eq(upf_bgnbd_fit(&s, mbg, &est, &info, &e), UPF_OK);
    ck_assert_int_eq(est.mbg, mbg);
    double got[4] = {est.r, est.alpha, est.a, est.b}, want[4] = {truth.r, truth.alpha, truth.a, truth.b};
    for (int i = 0; i < 4; i++)
        ck_assert_msg(fabs(got[i] - want[i]) <= 4.0 * info.se[i], "param %d: %g vs truth %g (se %g)", i, got[i],
                      want[i], info.se[i]);
    ck_assert(info.converged);
    /* at the optimum the remaining decrease g'H^-1 g / 2 is below the rounding
     * noise of a 20,000-term sum; the gradient is 1e-7 per customer there */
    ck_assert_msg(info.grad_max < 1e-7 * 20000, "gradient %g at the optimum", info.grad_max);
    /* the fit is a maximum: nudging any parameter lowers the likelihood */
    for (int i = 0; i < 4; i++) {
        upf_bgnbd_params q = est;
        double *f = i == 0 ? &q.r : i == 1 ? &q.alpha : i == 2 ? &q.a : &q.b;
        *f *= 1.001;
        ck_assert(upf_bgnbd_loglik(&s, &q, NULL) < info.log_likelihood);
    }
    free(s.x);
    free(s.t_x);
    free(s.T);
}
END_TEST

/* ---- optimizers ---- */

static double rosen(const double *x, void *ctx)
{
    (void)ctx;
    return 100.0 * (x[1] - x[0] * x[0]) * (x[1] - x[0] * x[0]) + (1.0 - x[0]) * (1.0 - x[0]);
}

static double rosen_grad(const double *x, double *g, void *ctx)
{
    g[0] = -400.0 * x[0] * (x[1] - x[0] * x[0]) - 2.0 * (1.0 - x[0]);
    g[1] = 200.0 * (x[1] - x[0] * x[0]);
    return rosen(x, ctx);
}

START_TEST(test_optimizers_rosenbrock)
{
    upf_min_params p = upf_min_params_default();
    upf_min_result r;
    upf_err e;
    double x[2] = {-1.2, 1.0};
    ck_assert_int_eq(upf_min_nelder_mead(rosen, NULL, 2, x, &p, &r, &e), UPF_OK);
    ck_assert_double_eq_tol(x[0], 1.0, 1e-6);
    ck_assert_double_eq_tol(x[1], 1.0, 1e-6);
    x[0] = -1.2;
    x[1] = 1.0;
    ck_assert_int_eq(upf_min_bfgs(rosen_grad, NULL, 2, x, &p, &r, &e), UPF_OK);
    ck_assert(r.converged);
    ck_assert_double_eq_tol(x[0], 1.0, 1e-7);
    ck_assert_double_eq_tol(x[1], 1.0, 1e-7);
    ck_assert(r.f < 1e-14);
    /* numeric gradient agrees with the analytic one */
    double g[2], gn[2], scratch[2], pt[2] = {0.3, -0.7};
    rosen_grad(pt, g, NULL);
    upf_min_num_grad(rosen, NULL, 2, pt, 1e-6, gn, scratch);
    upf_ck_arrays_close(gn, g, 2, 1e-6, 1e-7);
    /* a start outside the domain is an error */
    double bad[2] = {NAN, 0.0};
    ck_assert_int_eq(upf_min_nelder_mead(rosen, NULL, 2, bad, &p, &r, &e), UPF_ERR_NUMERIC);
    ck_assert_int_eq(upf_min_bfgs(rosen_grad, NULL, 2, bad, &p, &r, &e), UPF_ERR_NUMERIC);
    /* SPD solve and inverse */
    double A[4] = {4.0, 2.0, 2.0, 3.0}, b[2] = {2.0, 1.0};
    ck_assert_int_eq(upf_min_spd_solve(A, b, 2), UPF_OK);
    ck_assert_double_eq_tol(b[0], 0.5, 1e-15);
    ck_assert_double_eq_tol(b[1], 0.0, 1e-15);
    double Ai[4] = {4.0, 2.0, 2.0, 3.0};
    ck_assert_int_eq(upf_min_spd_inverse(Ai, 2), UPF_OK);
    ck_assert_double_eq_tol(Ai[0], 3.0 / 8.0, 1e-15);
    ck_assert_double_eq_tol(Ai[1], -2.0 / 8.0, 1e-15);
    double N[4] = {1.0, 2.0, 2.0, 1.0};
    ck_assert_int_eq(upf_min_spd_inverse(N, 2), UPF_ERR_NUMERIC);
}
END_TEST

/* ---- the published CDNOW estimates (skips without ../shared/data) ---- */

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1, doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Reads CDNOW_sample.txt (master id, sample id, YYYYMMDD, CDs, dollars)
 * straight from text: this test checks the models, not the importer. */
static size_t read_cdnow_sample(const char *path, upf_btyd_txn **out)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = 0, cap = 8192;
    upf_btyd_txn *t = malloc(cap * sizeof *t);
    char line[256];
    while (fgets(line, sizeof line, f)) {
        long id, sid, date;
        double cds, val;
        if (sscanf(line, "%ld %ld %ld %lf %lf", &id, &sid, &date, &cds, &val) != 5) continue;
        if (n == cap) t = realloc(t, (cap *= 2) * sizeof *t);
        t[n].customer = (int32_t)sid;
        t[n].time = days_from_civil(date / 10000, (date / 100) % 100, date % 100) * DAY;
        t[n].value = val;
        n++;
    }
    fclose(f);
    *out = t;
    return n;
}

START_TEST(test_cdnow_sample_published)
{
    const char *dir = upf_test_data_dir();
    if (!dir) return; /* skipped: no public data */
    char path[4096];
    snprintf(path, sizeof path, "%s/cdnow/CDNOW_sample.txt", dir);
    upf_btyd_txn *t = NULL;
    size_t n = read_cdnow_sample(path, &t);
    if (n == 0) return;
    ck_assert_uint_eq(n, 6919);
    upf_btyd_params p = upf_btyd_params_default();
    p.cal_end = days_from_civil(1997, 9, 30) * DAY;
    p.holdout_days = 273; /* 39 weeks */
    upf_btyd_summary s;
    upf_err e;
    ck_assert_int_eq(upf_btyd_summary_build(t, n, &p, &s, &e), UPF_OK);
    free(t);
    /* Fader, Hardie & Lee (2005) / BTYD: 2,357 customers, 2,457 repeat
     * transactions, 1,411 with none, 1,882 in the holdout */
    ck_assert_uint_eq(s.n, 2357);
    ck_assert_double_eq(s.repeat_total, 2457.0);
    ck_assert_uint_eq(s.n_zero, 1411);
    ck_assert_double_eq(s.holdout_total, 1882.0);

    upf_bgnbd_params bg;
    upf_btyd_fit_info fi;
    ck_assert_int_eq(upf_bgnbd_fit(&s, 0, &bg, &fi, &e), UPF_OK);
    /* published r 0.2426, alpha 4.4137, a 0.7930, b 2.4262, LL -9582.43 (the
     * paper's Excel fit; BTYD's optimum is 0.2426, 4.4136, 0.7929, 2.4259) */
    ck_assert_double_eq_tol(bg.r, 0.2426, 5e-5);
    ck_assert_double_eq_tol(bg.alpha, 4.4137, 2e-4);
    ck_assert_double_eq_tol(bg.a, 0.7930, 2e-4);
    ck_assert_double_eq_tol(bg.b, 2.4262, 5e-4);
    ck_assert_double_eq_tol(fi.log_likelihood, -9582.43, 5e-3);

    upf_pnbd_params pn;
    ck_assert_int_eq(upf_pnbd_fit(&s, &pn, &fi, &e), UPF_OK);
    /* published r 0.553, alpha 10.578, s 0.606, beta 11.669, LL -9594.98 */
    ck_assert_double_eq_tol(pn.r, 0.553, 5e-4);
    ck_assert_double_eq_tol(pn.alpha, 10.578, 5e-4);
    ck_assert_double_eq_tol(pn.s, 0.606, 5e-4);
    ck_assert_double_eq_tol(pn.beta, 11.669, 5e-4);
    ck_assert_double_eq_tol(fi.log_likelihood, -9594.98, 5e-3);

    upf_gg_params gg;
    size_t used = 0;
    ck_assert_int_eq(upf_gg_fit(&s, &gg, &fi, &used, &e), UPF_OK);
    /* published p 6.25, q 3.74, gamma 15.44 on the 946 repeat customers */
    ck_assert_uint_eq(used, 946);
    ck_assert_double_eq_tol(gg.p, 6.25, 5e-3);
    ck_assert_double_eq_tol(gg.q, 3.74, 5e-3);
    ck_assert_double_eq_tol(gg.gamma, 15.44, 5e-3);
    upf_btyd_summary_free(&s);
}
END_TEST

Suite *btyd_suite(void)
{
    Suite *s = suite_create("btyd");
    TCase *tc = tcase_create("formulas");
    tcase_add_test(tc, test_hyp2f1_golden);
    tcase_add_test(tc, test_hyp2f1_domain);
    tcase_add_test(tc, test_digamma_known_values);
    tcase_add_test(tc, test_bgnbd_formulas_golden);
    tcase_add_test(tc, test_mbgnbd_formulas_golden);
    tcase_add_test(tc, test_bgnbd_expected_near_a_one);
    tcase_add_test(tc, test_pnbd_loglik_golden);
    tcase_add_test(tc, test_pnbd_2f1_matches_quadrature);
    tcase_add_test(tc, test_pnbd_predictions);
    tcase_add_test(tc, test_gg_formulas_golden);
    tcase_add_test(tc, test_bgnbd_gradient);
    tcase_add_test(tc, test_gg_gradient);
    suite_add_tcase(s, tc);
    TCase *td = tcase_create("summary");
    tcase_add_test(td, test_summary_crafted);
    tcase_add_test(td, test_summary_errors);
    tcase_add_test(td, test_holdout_table);
    suite_add_tcase(s, td);
    TCase *tf = tcase_create("fits");
    tcase_set_timeout(tf, 60);
    tcase_add_test(tf, test_optimizers_rosenbrock);
    tcase_add_loop_test(tf, test_bgnbd_recovers_simulated, 0, 2); /* BG/NBD, MBG/NBD */
    tcase_add_test(tf, test_cdnow_sample_published);
    suite_add_tcase(s, tf);
    return s;
}
