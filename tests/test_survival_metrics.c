/* test_survival_metrics.c - the survival metrics against goldens from an
 * independent script (tests/golden/survival_metrics_golden.py) and a hand
 * calculation, the fast C-index and AUC against their O(n^2) references on
 * random data with ties, edge cases and allocation failures. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../eval/survival_metrics.h"
#include "../model/rng.h"
#include "testutil.h"

/* Output of tests/golden/survival_metrics_golden.py */
static const double golden_cindex[4] = {0.9699453551912568, 177, 1, 183};
static const double golden_km_s30 = 0.64037037037037048;
static const double golden_km_s30_left = 0.6896296296296297;
static const double golden_km_g30 = 0.78079814921920199;
static const double golden_brier30 = 0.11446601003086421;
static const double golden_calib4[8] = {0.17500000000000002, 0, 0.35666666666666669, 0.16666666666666663,
                                        0.505, 0.25, 0.73333333333333339, 1};
static const double golden_ece4 = 0.22166666666666668;
static const double golden_auc30 = 0.96875;
static const double golden_median_err[3] = {5.4285714285714288, 5, -3}; /* n = 14 */

static const double TIME[24] = {5, 10, 10, 10, 12, 15, 20, 20, 22, 25, 30, 30,
                                31, 33, 35, 40, 41, 45, 50, 52, 55, 60, 60, 70};
static const uint8_t EVENT[24] = {1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1, 0, 0};
static const double SCORE[24] = {8, 12, 30, 12, 15, 25, 18, 22, 40, 20, 35, 28,
                                 25, 45, 30, 33, 50, 38, 60, 41, 70, 44, 44, 80};
static const double SURV30[24] = {.10, .20, .55, .25, .30, .50, .35, .40, .70, .40, .60, .52,
                                  .45, .75, .55, .58, .80, .62, .85, .66, .90, .70, .70, .95};

START_TEST(test_cindex_golden)
{
    upf_cindex c, r;
    upf_err e;
    ck_assert_int_eq(upf_surv_cindex(TIME, EVENT, SCORE, 24, &c, &e), UPF_OK);
    ck_assert_int_eq(upf_surv_cindex_ref(TIME, EVENT, SCORE, 24, &r, &e), UPF_OK);
    double got[4] = {c.value, c.concordant, c.tied, c.comparable};
    upf_ck_arrays_close(got, golden_cindex, 4, 1e-15, 0);
    ck_assert_mem_eq(&c, &r, sizeof c);
}
END_TEST

START_TEST(test_cindex_by_hand)
{
    /* times 1(event) 2(censored) 2(event) 3(event); scores 1, 5, 2, 2.
     * comparable: (0,1) (0,2) (0,3) conc x3; (2,1): tie in time, 2 event & 1
     * censored: conc (2 < 5); (2,3): conc? score 2 == 2: tied; total 5 pairs,
     * 4 concordant, 1 tied: C = 4.5 / 5 = 0.9 */
    double t[4] = {1, 2, 2, 3}, s[4] = {1, 5, 2, 2};
    uint8_t ev[4] = {1, 0, 1, 1};
    upf_cindex c;
    upf_err e;
    ck_assert_int_eq(upf_surv_cindex(t, ev, s, 4, &c, &e), UPF_OK);
    ck_assert_double_eq(c.comparable, 5.0);
    ck_assert_double_eq(c.concordant, 4.0);
    ck_assert_double_eq(c.tied, 1.0);
    ck_assert_double_eq_tol(c.value, 0.9, 1e-15);
    /* reversing the scores mirrors C */
    double neg[4] = {-1, -5, -2, -2};
    ck_assert_int_eq(upf_surv_cindex(t, ev, neg, 4, &c, &e), UPF_OK);
    ck_assert_double_eq_tol(c.value, 0.1, 1e-15);
    /* all censored: nothing comparable */
    uint8_t none[4] = {0, 0, 0, 0};
    ck_assert_int_eq(upf_surv_cindex(t, none, s, 4, &c, &e), UPF_ERR_DATA);
    ck_assert_double_eq(c.value, 0.0);
    s[2] = NAN;
    ck_assert_int_eq(upf_surv_cindex(t, ev, s, 4, &c, &e), UPF_ERR_ARG);
}
END_TEST

START_TEST(test_fast_paths_match_references_random)
{
    upf_rng r;
    upf_rng_seed(&r, 99, 0);
    for (int rep = 0; rep < 30; rep++) {
        size_t n = 1 + upf_rng_below(&r, 300);
        double *t = malloc(n * sizeof *t), *s = malloc(n * sizeof *s);
        uint8_t *ev = malloc(n);
        for (size_t i = 0; i < n; i++) {
            t[i] = (double)(1 + upf_rng_below(&r, 20)); /* many ties */
            s[i] = (double)upf_rng_below(&r, rep % 2 ? 5 : 1000) / 10.0;
            ev[i] = upf_rng_uniform(&r) < 0.6;
        }
        upf_cindex a, b;
        upf_err e;
        upf_status sa = upf_surv_cindex(t, ev, s, n, &a, &e), sb = upf_surv_cindex_ref(t, ev, s, n, &b, &e);
        ck_assert_int_eq(sa, sb);
        ck_assert_double_eq(a.comparable, b.comparable);
        ck_assert_double_eq(a.concordant, b.concordant);
        ck_assert_double_eq(a.tied, b.tied);
        double u = 0.0, v = 0.0;
        size_t np, nn;
        sa = upf_surv_churn_auc(t, ev, s, n, 10.0, &u, &np, &nn, &e);
        sb = upf_surv_churn_auc_ref(t, ev, s, n, 10.0, &v, &e);
        ck_assert_int_eq(sa, sb);
        ck_assert_double_eq_tol(u, v, 1e-12);
        free(t);
        free(s);
        free(ev);
    }
}
END_TEST

START_TEST(test_kaplan_meier)
{
    upf_km km, g;
    upf_err e;
    ck_assert_int_eq(upf_km_build(TIME, EVENT, 24, 0, &km, &e), UPF_OK);
    ck_assert_int_eq(upf_km_build(TIME, EVENT, 24, 1, &g, &e), UPF_OK);
    ck_assert_double_eq_tol(upf_km_eval(&km, 30.0, 0), golden_km_s30, 1e-15);
    ck_assert_double_eq_tol(upf_km_eval(&km, 30.0, 1), golden_km_s30_left, 1e-15);
    ck_assert_double_eq_tol(upf_km_eval(&g, 30.0, 0), golden_km_g30, 1e-15);
    ck_assert_double_eq(upf_km_eval(&km, 4.9, 0), 1.0);
    /* by hand: S(5) = 23/24; S(10) = 23/24 * (1 - 2/23) */
    ck_assert_double_eq_tol(upf_km_eval(&km, 5.0, 0), 23.0 / 24.0, 1e-15);
    ck_assert_double_eq_tol(upf_km_eval(&km, 10.0, 0), 23.0 / 24.0 * 21.0 / 23.0, 1e-15);
    upf_km_free(&km);
    upf_km_free(&g);
    upf_km_free(&g);
}
END_TEST

START_TEST(test_brier_calibration_auc_median_golden)
{
    upf_err e;
    double bs = 0.0;
    ck_assert_int_eq(upf_surv_brier(TIME, EVENT, SURV30, 24, 30.0, &bs, &e), UPF_OK);
    ck_assert_double_eq_tol(bs, golden_brier30, 1e-15);
    upf_calib_group g[4];
    double ece = 0.0, got[8];
    ck_assert_int_eq(upf_surv_calibration(TIME, EVENT, SURV30, 24, 30.0, 4, g, &ece, &e), UPF_OK);
    for (int k = 0; k < 4; k++) {
        ck_assert_uint_eq(g[k].n, 6);
        got[2 * k] = g[k].predicted;
        got[2 * k + 1] = g[k].observed;
    }
    upf_ck_arrays_close(got, golden_calib4, 8, 1e-15, 0);
    ck_assert_double_eq_tol(ece, golden_ece4, 1e-15);
    double auc = 0.0;
    size_t np = 0, nn = 0;
    ck_assert_int_eq(upf_surv_churn_auc(TIME, EVENT, SURV30, 24, 30.0, &auc, &np, &nn, &e), UPF_OK);
    ck_assert_double_eq_tol(auc, golden_auc30, 1e-15);
    ck_assert_uint_eq(np, 12); /* times > 30 */
    ck_assert_uint_eq(nn, 8);  /* events at <= 30 */
    upf_median_error me;
    ck_assert_int_eq(upf_surv_median_error(TIME, EVENT, SCORE, 24, &me, &e), UPF_OK);
    ck_assert_uint_eq(me.n, 14);
    double m[3] = {me.mae, me.median_ae, me.bias};
    upf_ck_arrays_close(m, golden_median_err, 3, 1e-14, 0);
}
END_TEST

START_TEST(test_brier_perfect_and_edges)
{
    /* uncensored data and a perfect 0/1 prediction: Brier 0; the constant 1/2: 1/4 */
    double t[4] = {1, 2, 5, 6}, perfect[4] = {0, 0, 1, 1}, half[4] = {.5, .5, .5, .5}, bs = 1.0;
    uint8_t ev[4] = {1, 1, 1, 1};
    upf_err e;
    ck_assert_int_eq(upf_surv_brier(t, ev, perfect, 4, 3.0, &bs, &e), UPF_OK);
    ck_assert_double_eq(bs, 0.0);
    ck_assert_int_eq(upf_surv_brier(t, ev, half, 4, 3.0, &bs, &e), UPF_OK);
    ck_assert_double_eq_tol(bs, 0.25, 1e-15);
    /* rows censored before the horizon contribute 0; the one beyond it is
     * weighted by 1/G(5.5) = 1/((3/4)(2/3)(1/2)) = 4: BS = (1/2)^2 * 4 / 4 */
    uint8_t cens[4] = {0, 0, 0, 1};
    ck_assert_int_eq(upf_surv_brier(t, cens, half, 4, 5.5, &bs, &e), UPF_OK);
    ck_assert_double_eq_tol(bs, 0.25, 1e-15);
    ck_assert_int_eq(upf_surv_brier(t, cens, half, 0, 5.5, &bs, &e), UPF_ERR_DATA);
    /* calibration needs enough rows; AUC needs both classes */
    upf_calib_group g[10];
    double ece = 1.0, auc = 1.0;
    size_t np, nn;
    ck_assert_int_eq(upf_surv_calibration(t, ev, half, 4, 3.0, 10, g, &ece, &e), UPF_ERR_DATA);
    ck_assert_int_eq(upf_surv_churn_auc(t, ev, half, 4, 100.0, &auc, &np, &nn, &e), UPF_ERR_DATA);
    ck_assert_double_eq(auc, 0.0);
    upf_median_error me;
    uint8_t none[4] = {0, 0, 0, 0};
    ck_assert_int_eq(upf_surv_median_error(t, none, t, 4, &me, &e), UPF_ERR_DATA);
}
END_TEST

START_TEST(test_frequency_table)
{
    double x[6] = {0, 1, 3, 7, 2, 15}, act[6] = {0, 1, 2, 0, 1, 2}, ex[6] = {0.5, 1, 2, 3, 4, 5};
    upf_freq_bucket b[8];
    upf_surv_frequency_table(x, act, ex, 6, 8, b);
    ck_assert_uint_eq(b[0].n, 1);
    ck_assert_uint_eq(b[7].n, 2); /* 7 and 15 */
    ck_assert_uint_eq(b[5].n, 0);
    ck_assert_double_eq(b[7].actual_mean, 1.0);
    ck_assert_double_eq(b[7].expected_mean, 4.0);
    ck_assert_double_eq(b[3].expected_mean, 2.0);
}
END_TEST

START_TEST(test_list_metrics_by_hand)
{
    /* group 7: scores 0.9 (rel), 0.5, 0.7 (rel), 0.1 -> ranks: 0.9, 0.7, 0.5, 0.1
     *   k = 2: h = 2, recall 1, precision 1, ndcg 1
     * group 8: scores 0.2 (rel), 0.8 -> rank 2 is relevant
     *   k = 2: h = 1, recall 1, precision 1/2, ndcg = (1/log2 3) / 1
     * group 9: no relevant row: not counted */
    int32_t g[8] = {7, 7, 7, 7, 8, 8, 9, 9};
    double s[8] = {0.9, 0.5, 0.7, 0.1, 0.2, 0.8, 0.3, 0.4};
    uint8_t rel[8] = {1, 0, 1, 0, 1, 0, 0, 0};
    upf_list_metrics m;
    upf_err e;
    ck_assert_int_eq(upf_surv_list_metrics(g, s, rel, 8, 2, &m, &e), UPF_OK);
    ck_assert_uint_eq(m.n_groups, 2);
    ck_assert_double_eq_tol(m.hit_rate, 1.0, 1e-15);
    ck_assert_double_eq_tol(m.recall, 1.0, 1e-15);
    ck_assert_double_eq_tol(m.precision, 0.75, 1e-15);
    ck_assert_double_eq_tol(m.ndcg, 0.5 * (1.0 + 1.0 / log2(3.0)), 1e-15);
    /* k = 1: group 7 hits (0.9), group 8 misses */
    ck_assert_int_eq(upf_surv_list_metrics(g, s, rel, 8, 1, &m, &e), UPF_OK);
    ck_assert_double_eq_tol(m.hit_rate, 0.5, 1e-15);
    ck_assert_double_eq_tol(m.recall, 0.25, 1e-15);
    ck_assert_int_eq(upf_surv_list_metrics(g + 6, s + 6, rel + 6, 2, 1, &m, &e), UPF_ERR_DATA);
    ck_assert_int_eq(upf_surv_list_metrics(g, s, rel, 8, 0, &m, &e), UPF_ERR_ARG);
}
END_TEST

START_TEST(test_allocation_failures)
{
    upf_err e;
    for (int which = 0; which < 5; which++)
        for (long k = 1;; k++) {
            upf_alloc_fail_after(k);
            upf_status st;
            upf_cindex c;
            upf_calib_group g[4];
            double v = 0.0, ece = 0.0;
            size_t np, nn;
            upf_median_error me;
            switch (which) {
            case 0: st = upf_surv_cindex(TIME, EVENT, SCORE, 24, &c, &e); break;
            case 1: st = upf_surv_brier(TIME, EVENT, SURV30, 24, 30.0, &v, &e); break;
            case 2: st = upf_surv_calibration(TIME, EVENT, SURV30, 24, 30.0, 4, g, &ece, &e); break;
            case 3: st = upf_surv_churn_auc(TIME, EVENT, SURV30, 24, 30.0, &v, &np, &nn, &e); break;
            default: st = upf_surv_median_error(TIME, EVENT, SCORE, 24, &me, &e); break;
            }
            upf_alloc_fail_after(0);
            if (st == UPF_OK) break;
            ck_assert_int_eq(st, UPF_ERR_NOMEM);
            ck_assert(k < 40);
        }
}
END_TEST

Suite *survival_metrics_suite(void)
{
    Suite *s = suite_create("survival_metrics");
    TCase *tc = tcase_create("metrics");
    tcase_add_test(tc, test_cindex_golden);
    tcase_add_test(tc, test_cindex_by_hand);
    tcase_add_test(tc, test_fast_paths_match_references_random);
    tcase_add_test(tc, test_kaplan_meier);
    tcase_add_test(tc, test_brier_calibration_auc_median_golden);
    tcase_add_test(tc, test_brier_perfect_and_edges);
    tcase_add_test(tc, test_frequency_table);
    tcase_add_test(tc, test_list_metrics_by_hand);
    tcase_add_test(tc, test_allocation_failures);
    suite_add_tcase(s, tc);
    return s;
}
