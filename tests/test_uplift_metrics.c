/* test_uplift_metrics.c - the uplift metrics (eval/uplift_metrics.h):
 * hand-computed cases (ties, an empty control group, all treated), goldens
 * from tests/golden/uplift_golden.py (numpy re-implementations of
 * scikit-uplift's and causalml's definitions; those libraries cannot be
 * installed here), the fast sweep against the plain reference on random
 * data with ties and bootstrap weights, bins, balance, the bootstrap helpers,
 * bad input and allocation failures. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../eval/uplift_metrics.h"
#include "../model/rng.h"
#include "testutil.h"

/* ---- output of tests/golden/uplift_golden.py (verbatim) ---- */
static const double A_Y[40] = {0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 0, 1, 0, 1, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0};
static const double A_S[40] = {0, 0, 0.40000000000000002, 0.29999999999999999, -1, -0.40000000000000002, 0.40000000000000002, -0.40000000000000002, 0.5, 0.5, 0.80000000000000004, 0.5, -0.40000000000000002, 0.69999999999999996, 0.29999999999999999, 1, 0.59999999999999998, 0.69999999999999996, 0.20000000000000001, 0.5, 0.59999999999999998, 0.90000000000000002, -0.90000000000000002, 0.20000000000000001, -0.10000000000000001, 0.40000000000000002, 0.59999999999999998, 0.10000000000000001, 0.5, 1, -0.10000000000000001, -0.20000000000000001, 0.90000000000000002, 0.40000000000000002, -0.29999999999999999, 0.20000000000000001, 0.69999999999999996, -0.10000000000000001, 0.40000000000000002, -0.59999999999999998};
static const uint8_t A_T[40] = {1, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1, 1, 1, 0};
/* scikit-uplift: qini_auc_score, uplift_auc_score, uplift_at_k overall [0.1, 0.2, 0.3, 0.5], by_group [0.1, 0.2, 0.3, 0.5] */
static const double A_SKLIFT[10] = {0.29633842719780212, 0.27929744995114186, 0.5, 0.25, 0.22857142857142854, 0.375, 1, 0.16666666666666669, 0.29999999999999999, 0.32954545454545453};
/* scikit-uplift uplift_by_percentile(bins=10, std=True): n_t, n_c, rate_t, rate_c, uplift, std_uplift */
static const double A_DECILES[60] = {2, 2, 1, 0.5, 0.5, 0.35355339059327379, 2, 2, 0, 0, 0, 0, 3, 1, 0.33333333333333331, 0, 0.33333333333333331, 0.27216552697590868, 2, 2, 0.5, 0, 0.5, 0.35355339059327379, 3, 1, 0.66666666666666663, 0, 0.66666666666666663, 0.27216552697590868, 1, 3, 0, 0, 0, 0, 4, 0, 0.75, NAN, NAN, NAN, 3, 1, 0, 0, 0, 0, 2, 2, 0, 0.5, -0.5, 0.35355339059327379, 1, 3, 0, 0.33333333333333331, -0.33333333333333331, 0.27216552697590868};
static const double B_Y[60] = {1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0};
static const double B_S[60] = {0.8676666666666667, 0.017666666666666667, 0.10100000000000001, 0.80100000000000005, 0.71766666666666667, 0.13433333333333333, 0.33433333333333332, 0.76766666666666672, 0.81766666666666665, 0.21766666666666667, 0.751, 0.70099999999999996, 0.23433333333333334, 0.36766666666666664, 0.40100000000000002, 0.43433333333333335, 0.95099999999999996, 0.78433333333333333, 0.20100000000000001, 0.26766666666666666, 0.251, 0.18433333333333332, 0.66766666666666663, 0.93433333333333335, 0.96766666666666667, 0.30099999999999999, 0.56766666666666665, 0.034333333333333334, 0.28433333333333333, 0.151, 0.08433333333333333, 0.41766666666666669, 0.501, 0.6343333333333333, 0.6176666666666667, 0.067666666666666667, 0.65100000000000002, 0.31766666666666665, 0.85099999999999998, 0.45100000000000001, 0.051000000000000004, 0.55100000000000005, 0.83433333333333337, 0.60099999999999998, 0.35099999999999998, 0.53433333333333333, 0.91766666666666663, 0.8843333333333333, 0.98433333333333328, 0.001, 0.58433333333333337, 0.68433333333333335, 0.16766666666666666, 0.38433333333333336, 0.11766666666666667, 0.46766666666666667, 0.73433333333333328, 0.48433333333333334, 0.51766666666666672, 0.90100000000000002};
static const uint8_t B_T[60] = {1, 0, 1, 0, 1, 1, 1, 1, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 1, 0, 1, 0, 0};
/* scikit-uplift: qini_auc_score, uplift_auc_score, uplift_at_k overall [0.1, 0.2, 0.3, 0.5], by_group [0.1, 0.2, 0.3, 0.5] */
static const double B_SKLIFT[10] = {0.29806171316591012, 0.36146884315842559, 0.5, 0.75, 0.7142857142857143, 0.73333333333333328, 0.5, 0.59999999999999998, 0.75, 0.7857142857142857};
/* causalml: qini_score(normalize=False), auuc_score(normalize=True) */
static const double B_CAUSALML[2] = {1.9142308173153835, 0.65886944152951354};
/* scikit-uplift uplift_by_percentile(bins=10, std=True): n_t, n_c, rate_t, rate_c, uplift, std_uplift */
static const double B_DECILES[60] = {2, 4, 0.5, 0, 0.5, 0.35355339059327379, 2, 4, 1, 0, 1, 0, 3, 3, 0.66666666666666663, 0, 0.66666666666666663, 0.27216552697590868, 4, 2, 0.75, 0, 0.75, 0.21650635094610965, 4, 2, 0.75, 0, 0.75, 0.21650635094610965, 2, 4, 0.5, 0, 0.5, 0.35355339059327379, 4, 2, 0.25, 0, 0.25, 0.21650635094610965, 2, 4, 0.5, 0.25, 0.25, 0.41457809879442503, 3, 3, 0.33333333333333331, 0.33333333333333331, 0, 0.38490017945975052, 3, 3, 0, 0, 0, 0};

#define TOL 1e-12

static upf_uplift_params params4(void)
{
    upf_uplift_params p;
    memset(&p, 0, sizeof p);
    p.n_k = 4;
    p.k[0] = 0.1;
    p.k[1] = 0.2;
    p.k[2] = 0.3;
    p.k[3] = 0.5;
    return p;
}

/* Hand case: four users, two of them tied.
 *   row  score  t  y
 *    0   0.1    1  1
 *    1   0.5    0  0
 *    2   0.5    1  0
 *    3   0.9    0  1
 * Score order: row 3, then the tie group {1, 2}, then row 0.
 *   after row 3:     N 1, N_t 0, N_c 1, Y_t 0, Y_c 1: Q = 0 - 1*0/1 = 0,    U = (0 - 1) * 1 = -1
 *   after {1, 2}:    N 3, N_t 1, N_c 2, Y_t 0, Y_c 1: Q = 0 - 1*1/2 = -0.5, U = (0 - 1/2) * 3 = -1.5
 *   after row 0:     N 4, N_t 2, N_c 2, Y_t 1, Y_c 1: Q = 1 - 1 = 0,        U = 0
 * A(Q) = 1*(0+0)/2 + 2*(0-0.5)/2 + 1*(-0.5+0)/2 = -0.75; random line ends at 0.
 * Oracle y(2t-1): row 0 -> 1, rows 1, 2 -> 0 (tied), row 3 -> -1:
 *   Q* = 1 (N 1), 1 - 0 = 1 (N 3), 0 (N 4); A(Q*) = 0.5 + 2 + 0.5 = 3.
 * qini_coefficient = -0.75 / 3 = -0.25; qini_area = -0.75 / 5 = -0.15.
 * A(U) = 1*(0-1)/2 + 2*(-1-1.5)/2 + 1*(-1.5+0)/2 = -3.75.
 * Perfect uplift: control responders 1, treated non-responders 1, not >, so
 * the summand is t: scores 3, 2, 1, 0 for rows 0..3; U* = 1, 2, 1.5, 0 at
 * N = 1..4, A(U*) = 0.5 + 1.5 + 1.75 + 0.75 = 4.5; auuc = -3.75 / 4.5.
 * auuc_gain: U(N) = 0, undefined (NaN). ate = 1/2 - 1/2 = 0.
 * Positions (ties by index descending): 3, 2, 1, 0.
 *   uplift@50% overall: rows 3 (c, y 1), 2 (t, y 0): 0 - 1 = -1
 *   uplift@75% overall: rows 3, 2, 1: treated {2}: 0; control {3, 1}: 0.5 -> -0.5
 *   uplift@50% by group: first treated (2, y 0), first control (3, y 1): -1
 *   uplift@25% overall: one row, no treated one: NaN */
static const double H_S[4] = {0.1, 0.5, 0.5, 0.9};
static const double H_Y[4] = {1, 0, 0, 1};
static const uint8_t H_T[4] = {1, 0, 1, 0};

START_TEST(test_hand_case_with_ties)
{
    upf_uplift_params p;
    memset(&p, 0, sizeof p);
    p.n_k = 3;
    p.k[0] = 0.5;
    p.k[1] = 0.75;
    p.k[2] = 0.25;
    upf_uplift_metrics m, r;
    upf_err e;
    ck_assert_int_eq(upf_uplift_metrics_compute(H_S, H_Y, H_T, NULL, 4, &p, &m, &e), UPF_OK);
    ck_assert_double_eq_tol(m.qini_coefficient, -0.25, TOL);
    ck_assert_double_eq_tol(m.qini_area, -0.15, TOL);
    ck_assert_double_eq_tol(m.auuc, -3.75 / 4.5, TOL);
    ck_assert(isnan(m.auuc_gain));
    ck_assert_double_eq_tol(m.ate, 0.0, TOL);
    ck_assert_double_eq_tol(m.at_k[0], -1.0, TOL);
    ck_assert_double_eq_tol(m.at_k[1], -0.5, TOL);
    ck_assert(isnan(m.at_k[2]));
    ck_assert_double_eq_tol(m.at_k_group[0], -1.0, TOL);
    ck_assert_double_eq(m.n_t, 2.0);
    ck_assert_double_eq(m.n_c, 2.0);
    ck_assert_int_eq(upf_uplift_metrics_ref(H_S, H_Y, H_T, NULL, 4, &p, &r, &e), UPF_OK);
    double a[UPF_UPLIFT_N_FLAT(3)], b[UPF_UPLIFT_N_FLAT(3)];
    upf_uplift_metrics_flatten(&m, 3, a);
    upf_uplift_metrics_flatten(&r, 3, b);
    upf_ck_arrays_close(a, b, UPF_UPLIFT_N_FLAT(3), TOL, 0);

    upf_uplift_curve c;
    ck_assert_int_eq(upf_uplift_curve_build(H_S, H_Y, H_T, NULL, 4, &c, &e), UPF_OK);
    ck_assert_uint_eq(c.n_points, 4); /* origin + 3 groups: the tie enters at once */
    const double xs[4] = {0, 1, 3, 4}, qs[4] = {0, 0, -0.5, 0}, us[4] = {0, -1, -1.5, 0};
    upf_ck_arrays_close(c.n, xs, 4, TOL, 0);
    upf_ck_arrays_close(c.qini, qs, 4, TOL, 0);
    upf_ck_arrays_close(c.uplift, us, 4, TOL, 0);
    ck_assert(isnan(c.score[0]));
    ck_assert_double_eq(c.score[2], 0.5);
    upf_uplift_curve_free(&c);
    upf_uplift_curve_free(&c); /* idempotent */
    /* the curve at fractions of N = 4: x = 0, 1, 2 (inside the tie group), 3, 4 */
    upf_uplift_eval *ev;
    ck_assert_int_eq(upf_uplift_eval_create(H_S, H_Y, H_T, 4, &ev, &e), UPF_OK);
    const double fr[6] = {0, 0.25, 0.5, 0.75, 1.0, 1.0};
    double qa[6], ua[6];
    const double qw[6] = {0, 0, -0.25, -0.5, 0, 0}, uw[6] = {0, -1, -1.25, -1.5, 0, 0};
    upf_uplift_eval_curve_at(ev, NULL, fr, 6, qa, ua);
    upf_ck_arrays_close(qa, qw, 6, TOL, 0);
    upf_ck_arrays_close(ua, uw, 6, TOL, 0);
    upf_uplift_eval_free(ev);
}
END_TEST

/* The same users in the perfect order: the model's curve is the oracle's. */
START_TEST(test_hand_case_perfect)
{
    const double s[4] = {0.9, 0.5, 0.5, 0.1};
    upf_uplift_metrics m;
    upf_err e;
    ck_assert_int_eq(upf_uplift_metrics_compute(s, H_Y, H_T, NULL, 4, NULL, &m, &e), UPF_OK);
    /* Q = 1 (N 1), 1 (N 3), 0 (N 4): A = 3 = A(Q*) */
    ck_assert_double_eq_tol(m.qini_coefficient, 1.0, TOL);
    ck_assert_double_eq_tol(m.qini_area, 3.0 / 5.0, TOL);
}
END_TEST

static void check_golden(const double *y, const double *s, const uint8_t *t, size_t n, const double *sk,
                         const double *cm, const double *dec)
{
    upf_uplift_params p = params4();
    upf_uplift_metrics m;
    upf_err e;
    ck_assert_int_eq(upf_uplift_metrics_compute(s, y, t, NULL, n, &p, &m, &e), UPF_OK);
    /* scikit-uplift: Qini coefficient and AUUC to rounding; uplift@k exact ratios */
    ck_assert_double_eq_tol(m.qini_coefficient, sk[0], 1e-12);
    ck_assert_double_eq_tol(m.auuc, sk[1], 1e-12);
    upf_ck_arrays_close(m.at_k, sk + 2, 4, 1e-12, 0);
    upf_ck_arrays_close(m.at_k_group, sk + 6, 4, 1e-12, 0);
    if (cm) {
        ck_assert_double_eq_tol(m.qini_area, cm[0], 1e-12);
        ck_assert_double_eq_tol(m.auuc_gain, cm[1], 1e-12);
    }
    upf_uplift_bin b[10];
    ck_assert_int_eq(upf_uplift_by_bin(s, y, t, n, 10, b, &e), UPF_OK);
    for (int d = 0; d < 10; d++) {
        const double *g = dec + 6 * d;
        double got[6] = {(double)b[d].n_t, (double)b[d].n_c, b[d].mean_t, b[d].mean_c, b[d].uplift, b[d].se_uplift};
        upf_ck_arrays_close(got, g, 6, 1e-12, 0);
    }
}

START_TEST(test_golden_scikit_uplift_ties)
{
    check_golden(A_Y, A_S, A_T, 40, A_SKLIFT, NULL, A_DECILES);
    /* case A's seventh decile has no control user: its uplift is NaN */
    upf_uplift_bin b[10];
    upf_err e;
    ck_assert_int_eq(upf_uplift_by_bin(A_S, A_Y, A_T, 40, 10, b, &e), UPF_OK);
    ck_assert_uint_eq(b[6].n_c, 0);
    ck_assert(isnan(b[6].uplift) && isnan(b[6].mean_c) && isnan(b[6].se_uplift));
    ck_assert(!isnan(b[6].mean_t));
}
END_TEST

START_TEST(test_golden_both_libraries)
{
    check_golden(B_Y, B_S, B_T, 60, B_SKLIFT, B_CAUSALML, B_DECILES);
}
END_TEST

/* Random data with heavy ties and random integer (bootstrap-like) weights:
 * the sweep equals the plain reference. */
START_TEST(test_fast_matches_reference)
{
    upf_rng rng;
    upf_rng_seed(&rng, 99, 0);
    upf_uplift_params p = params4();
    p.n_k = 5;
    p.k[4] = 1.0;
    for (int rep = 0; rep < 40; rep++) {
        size_t n = 1 + upf_rng_below(&rng, 120);
        double *s = malloc(n * sizeof *s), *y = malloc(n * sizeof *y), *w = malloc(n * sizeof *w);
        uint8_t *t = malloc(n);
        int levels = 1 + (int)upf_rng_below(&rng, 12), cont = rep % 4 == 3;
        for (size_t i = 0; i < n; i++) {
            s[i] = (double)upf_rng_below(&rng, (uint32_t)levels) / 7.0;
            t[i] = (uint8_t)(upf_rng_uniform(&rng) < 0.4);
            y[i] = cont ? floor(upf_rng_uniform(&rng) * 50.0) / 4.0 : (double)(upf_rng_uniform(&rng) < 0.3 + 0.2 * t[i]);
            w[i] = (double)upf_rng_below(&rng, 3);
        }
        for (int weighted = 0; weighted < 2; weighted++) {
            upf_uplift_metrics a, b;
            upf_err e;
            ck_assert_int_eq(upf_uplift_metrics_compute(s, y, t, weighted ? w : NULL, n, &p, &a, &e), UPF_OK);
            ck_assert_int_eq(upf_uplift_metrics_ref(s, y, t, weighted ? w : NULL, n, &p, &b, &e), UPF_OK);
            double fa[UPF_UPLIFT_N_FLAT(5)], fb[UPF_UPLIFT_N_FLAT(5)];
            upf_uplift_metrics_flatten(&a, 5, fa);
            upf_uplift_metrics_flatten(&b, 5, fb);
            upf_ck_arrays_close(fa, fb, UPF_UPLIFT_N_FLAT(5), 1e-9, 1e-9);
            ck_assert_double_eq(a.n_t, b.n_t);
            if (cont) ck_assert(isnan(a.auuc)); /* binary outcomes only */
            /* the curve at the boundaries' own fractions is the curve */
            upf_uplift_curve c;
            upf_uplift_eval *ev;
            ck_assert_int_eq(upf_uplift_curve_build(s, y, t, weighted ? w : NULL, n, &c, &e), UPF_OK);
            ck_assert_int_eq(upf_uplift_eval_create(s, y, t, n, &ev, &e), UPF_OK);
            double N = c.n[c.n_points - 1];
            if (N > 0 && a.n_t > 0 && a.n_c > 0) {
                double *fr = malloc(c.n_points * sizeof *fr), *q = malloc(c.n_points * sizeof *q);
                size_t m = 0;
                for (size_t g = 0; g < c.n_points; g++)
                    if (g == 0 || c.n[g] > c.n[g - 1]) fr[m++] = c.n[g] / N; /* skip zero-weight groups */
                upf_uplift_eval_curve_at(ev, weighted ? w : NULL, fr, m, q, NULL);
                for (size_t g = 0, k = 0; g < c.n_points; g++)
                    if (g == 0 || c.n[g] > c.n[g - 1]) {
                        ck_assert_double_eq_tol(q[k], c.qini[g], 1e-9 * (1 + fabs(c.qini[g])));
                        k++;
                    }
                free(fr);
                free(q);
            }
            upf_uplift_eval_free(ev);
            upf_uplift_curve_free(&c);
        }
        free(s);
        free(y);
        free(w);
        free(t);
    }
}
END_TEST

/* A weight of 2 is the row counted twice: the curve-based figures of a
 * weighted sample equal those of the sample with the row duplicated. */
START_TEST(test_weights_are_multiplicities)
{
    double s[9], y[9], w[8];
    uint8_t t[9];
    for (int i = 0; i < 8; i++) {
        s[i] = B_S[i];
        y[i] = B_Y[i];
        t[i] = B_T[i];
        w[i] = 1;
    }
    t[3] = 1; /* both groups present */
    t[4] = 0;
    w[5] = 2;
    s[8] = s[5];
    y[8] = y[5];
    t[8] = t[5];
    upf_uplift_metrics a, b;
    upf_err e;
    ck_assert_int_eq(upf_uplift_metrics_compute(s, y, t, w, 8, NULL, &a, &e), UPF_OK);
    ck_assert_int_eq(upf_uplift_metrics_compute(s, y, t, NULL, 9, NULL, &b, &e), UPF_OK);
    ck_assert_double_eq_tol(a.qini_coefficient, b.qini_coefficient, 1e-12);
    ck_assert_double_eq_tol(a.qini_area, b.qini_area, 1e-12);
    ck_assert_double_eq_tol(a.auuc, b.auuc, 1e-12);
    ck_assert_double_eq_tol(a.auuc_gain, b.auuc_gain, 1e-12);
    ck_assert_double_eq_tol(a.ate, b.ate, 1e-12);
}
END_TEST

START_TEST(test_all_treated_and_degenerate)
{
    const double s[3] = {3, 2, 1}, y[3] = {1, 0, 1};
    const uint8_t t1[3] = {1, 1, 1}, t0[3] = {0, 0, 0};
    upf_uplift_params p = params4();
    upf_uplift_metrics m;
    upf_err e;
    for (int g = 0; g < 2; g++) {
        ck_assert_int_eq(upf_uplift_metrics_compute(s, y, g ? t1 : t0, NULL, 3, &p, &m, &e), UPF_OK);
        ck_assert(isnan(m.qini_coefficient) && isnan(m.qini_area) && isnan(m.auuc) && isnan(m.auuc_gain));
        ck_assert(isnan(m.ate) && isnan(m.at_k[3]) && isnan(m.at_k_group[3]));
        ck_assert_double_eq((g ? m.n_t : m.n_c), 3.0);
    }
    /* no responder at all: the perfect curve is the random line, no coefficient */
    const double y0[3] = {0, 0, 0};
    const uint8_t t[3] = {1, 0, 1};
    ck_assert_int_eq(upf_uplift_metrics_compute(s, y0, t, NULL, 3, &p, &m, &e), UPF_OK);
    ck_assert(isnan(m.qini_coefficient) && isnan(m.auuc));
    ck_assert_double_eq(m.qini_area, 0.0);
    ck_assert_double_eq(m.ate, 0.0);
    /* bins: one bin per row; the control-less ones have NaN uplift */
    upf_uplift_bin b[3];
    ck_assert_int_eq(upf_uplift_by_bin(s, y, t, 3, 3, b, &e), UPF_OK);
    ck_assert(isnan(b[0].uplift) && isnan(b[1].uplift) && isnan(b[2].uplift));
    ck_assert_uint_eq(b[0].n_t, 1);
    ck_assert_uint_eq(b[1].n_c, 1);
    ck_assert(isnan(b[0].mean_c) && isnan(b[1].mean_t));
}
END_TEST

START_TEST(test_bad_input)
{
    const double s[2] = {1, 2}, y[2] = {0, 1}, w[2] = {1, -1}, bad[2] = {NAN, 1};
    const uint8_t t[2] = {0, 1}, t2[2] = {0, 2};
    upf_uplift_metrics m;
    upf_uplift_curve c;
    upf_uplift_eval *ev = (upf_uplift_eval *)&m;
    upf_uplift_bin b[2];
    upf_err e;
    ck_assert_int_eq(upf_uplift_metrics_compute(s, y, t, NULL, 0, NULL, &m, &e), UPF_ERR_ARG);
    ck_assert(isnan(m.qini_coefficient));
    ck_assert_int_eq(upf_uplift_metrics_compute(s, y, t2, NULL, 2, NULL, &m, &e), UPF_ERR_ARG);
    ck_assert(strstr(e.msg, "row 1") != NULL);
    ck_assert_int_eq(upf_uplift_metrics_compute(s, y, t, w, 2, NULL, &m, &e), UPF_ERR_ARG);
    ck_assert_int_eq(upf_uplift_metrics_compute(bad, y, t, NULL, 2, NULL, &m, &e), UPF_ERR_ARG);
    ck_assert_int_eq(upf_uplift_metrics_compute(s, bad, t, NULL, 2, NULL, &m, &e), UPF_ERR_ARG);
    ck_assert_int_eq(upf_uplift_curve_build(s, y, t, w, 2, &c, &e), UPF_ERR_ARG);
    ck_assert(c.n == NULL && c.n_points == 0);
    ck_assert_int_eq(upf_uplift_eval_create(s, y, t2, 2, &ev, &e), UPF_ERR_ARG);
    ck_assert_ptr_null(ev);
    upf_uplift_params p = params4();
    p.k[1] = 1.5;
    ck_assert_int_eq(upf_uplift_metrics_compute(s, y, t, NULL, 2, &p, &m, &e), UPF_ERR_ARG);
    p = params4();
    p.n_k = UPF_UPLIFT_MAX_K + 1;
    ck_assert_int_eq(upf_uplift_metrics_ref(s, y, t, NULL, 2, &p, &m, &e), UPF_ERR_ARG);
    ck_assert_int_eq(upf_uplift_by_bin(s, y, t, 2, 3, b, &e), UPF_ERR_ARG);
    ck_assert_int_eq(upf_uplift_by_bin(s, y, t, 2, 0, b, &e), UPF_ERR_ARG);
    ck_assert_int_eq(upf_uplift_eval_metrics(NULL, NULL, NULL, &m, &e), UPF_ERR_ARG);
    ck_assert_uint_eq(upf_uplift_eval_n(NULL), 0);
    upf_uplift_eval_free(NULL);
    upf_uplift_curve_free(NULL);
}
END_TEST

/* SMD by hand. x = (1, 2, 3) treated, (2, 4) control... continuous:
 *   m_t 2, v_t 1; m_c 3, v_c 2; SMD = (2 - 3) / sqrt(1.5).
 * A 0/1 covariate: treated (1, 1, 0, 0): p 0.5; control (1, 0, 0, 0): p .25:
 *   SMD = 0.25 / sqrt((0.25 + 0.1875) / 2). */
START_TEST(test_balance)
{
    const float x[5] = {1, 2, 3, 2, 4};
    const uint8_t t[5] = {1, 1, 1, 0, 0};
    ck_assert_double_eq_tol(upf_uplift_smd(x, 1, t, 5), -1.0 / sqrt(1.5), 1e-12);
    const float xb[8] = {1, 1, 0, 0, 1, 0, 0, 0};
    const uint8_t tb[8] = {1, 1, 1, 1, 0, 0, 0, 0};
    ck_assert_double_eq_tol(upf_uplift_smd(xb, 1, tb, 8), 0.25 / sqrt((0.25 + 0.1875) / 2.0), 1e-12);
    /* strided (a column of a row-major matrix), constant column, too few rows */
    const float m2[10] = {9, 1, 9, 2, 9, 3, 9, 2, 9, 4};
    ck_assert_double_eq_tol(upf_uplift_smd(m2 + 1, 2, t, 5), -1.0 / sqrt(1.5), 1e-12);
    ck_assert_double_eq(upf_uplift_smd(m2, 2, t, 5), 0.0);
    ck_assert(isnan(upf_uplift_smd(x, 1, t, 4))); /* one control row */
    /* AUC: scores 0.9 (1), 0.5 (0), 0.5 (1), 0.1 (0): pairs (pos, neg):
     * (.9,.5) 1, (.9,.1) 1, (.5,.5) 1/2, (.5,.1) 1 -> 3.5 / 4 */
    const double sc[4] = {0.9, 0.5, 0.5, 0.1};
    const uint8_t lab[4] = {1, 0, 1, 0}, none[4] = {0, 0, 0, 0};
    double auc;
    upf_err e;
    ck_assert_int_eq(upf_uplift_auc(sc, lab, NULL, 4, &auc, &e), UPF_OK);
    ck_assert_double_eq_tol(auc, 0.875, 1e-12);
    /* weights: the positive at 0.5 counted twice: pairs 2 + 2*(1/2 + 1) = 5 of 2*3 */
    const double wa[4] = {1, 1, 2, 1};
    ck_assert_int_eq(upf_uplift_auc(sc, lab, wa, 4, &auc, &e), UPF_OK);
    ck_assert_double_eq_tol(auc, 5.0 / 6.0, 1e-12);
    ck_assert_int_eq(upf_uplift_auc(sc, none, NULL, 4, &auc, &e), UPF_OK);
    ck_assert(isnan(auc));
}
END_TEST

START_TEST(test_bootstrap_helpers)
{
    int32_t strat[10] = {0, 1, 0, 1, 1, 2, 0, 5, 1, 1}; /* 5: outside n_strata (left out) */
    double c1[10], c2[10];
    int32_t idx[10];
    size_t ss[4];
    upf_rng r1, r2;
    upf_rng_seed(&r1, 3, 0);
    upf_rng_seed(&r2, 3, 0);
    for (int rep = 0; rep < 20; rep++) {
        upf_bootstrap_counts(&r1, strat, 10, 3, c1, idx, ss);
        upf_bootstrap_counts(&r2, strat, 10, 3, c2, idx, ss);
        upf_ck_arrays_close(c1, c2, 10, 0, 0); /* same seed, same resample */
        double per[3] = {0, 0, 0};
        for (int i = 0; i < 10; i++) {
            if (strat[i] < 3) per[strat[i]] += c1[i];
            else ck_assert_double_eq(c1[i], 0.0);
        }
        ck_assert_double_eq(per[0], 3); /* each stratum keeps its size */
        ck_assert_double_eq(per[1], 5);
        ck_assert_double_eq(per[2], 1);
        ck_assert_double_eq(c1[5], 1);
    }
    /* percentiles as numpy.percentile(range(101), [2.5, 97.5]) = 2.5, 97.5 */
    double v[103];
    for (int i = 0; i <= 100; i++) v[i] = 100 - i;
    v[101] = NAN;
    v[102] = INFINITY;
    double lo, hi;
    upf_percentile_ci(v, 103, 0.95, &lo, &hi);
    ck_assert_double_eq_tol(lo, 2.5, 1e-12);
    ck_assert_double_eq_tol(hi, 97.5, 1e-12);
    double one[1] = {1};
    upf_percentile_ci(one, 1, 0.95, &lo, &hi);
    ck_assert(isnan(lo) && isnan(hi));
}
END_TEST

START_TEST(test_allocation_failures)
{
    upf_uplift_params p = params4();
    for (int which = 0; which < 5; which++)
        for (long k = 1;; k++) {
            upf_err e;
            upf_uplift_metrics m;
            upf_uplift_curve c;
            upf_uplift_bin b[10];
            double auc;
            upf_alloc_fail_after(k);
            upf_status st;
            switch (which) {
            case 0: st = upf_uplift_metrics_compute(B_S, B_Y, B_T, NULL, 60, &p, &m, &e); break;
            case 1: st = upf_uplift_curve_build(B_S, B_Y, B_T, NULL, 60, &c, &e); break;
            case 2: st = upf_uplift_by_bin(B_S, B_Y, B_T, 60, 10, b, &e); break;
            case 3: st = upf_uplift_metrics_ref(B_S, B_Y, B_T, NULL, 60, &p, &m, &e); break;
            default: st = upf_uplift_auc(B_S, B_T, NULL, 60, &auc, &e); break;
            }
            upf_alloc_fail_after(0);
            if (st == UPF_OK) {
                if (which == 1) upf_uplift_curve_free(&c);
                break;
            }
            ck_assert_int_eq(st, UPF_ERR_NOMEM);
            if (which == 0) ck_assert(isnan(m.qini_coefficient));
            if (which == 1) ck_assert(c.n == NULL);
            ck_assert(k < 40);
        }
}
END_TEST

Suite *uplift_metrics_suite(void)
{
    Suite *s = suite_create("uplift_metrics");
    TCase *tc = tcase_create("metrics");
    tcase_add_test(tc, test_hand_case_with_ties);
    tcase_add_test(tc, test_hand_case_perfect);
    tcase_add_test(tc, test_golden_scikit_uplift_ties);
    tcase_add_test(tc, test_golden_both_libraries);
    tcase_add_test(tc, test_fast_matches_reference);
    tcase_add_test(tc, test_weights_are_multiplicities);
    tcase_add_test(tc, test_all_treated_and_degenerate);
    tcase_add_test(tc, test_bad_input);
    tcase_add_test(tc, test_balance);
    tcase_add_test(tc, test_bootstrap_helpers);
    tcase_add_test(tc, test_allocation_failures);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}
