/* test_metrics.c - the metric contract of eval/metrics.h: hand-computed
 * golden cases for every metric (ties, all relevant, no relevant, k larger
 * than the list, graded relevance), the dense and sparse forms agreeing on
 * random lists, names and parsing, item popularity (head boundary, novelty). */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../eval/metrics.h"
#include "../model/rng.h"
#include "testutil.h"

#define TOL 1e-12
#define L2(x) log2((double)(x))

static upf_metric_spec S(upf_metric_kind k, uint32_t cut)
{
    upf_metric_spec s = { k, cut };
    return s;
}

/* Binary list: ranks 1..5 hold rel 0 1 0 1 1; |R| = 4 (one relevant item is
 * never ranked). Ideal: four 1s. */
static const double bin_rel[] = { 0, 1, 0, 1, 1 };
static const double bin_ideal[] = { 1, 1, 1, 1 };

START_TEST(test_binary_list)
{
    /* ndcg@3 = DCG (1/log2 3) / IDCG (1 + 1/log2 3 + 1/log2 4) = 0.6309298/2.1309298 */
    double idcg3 = 1 + 1 / L2(3) + 1 / L2(4);
    ck_assert_double_eq_tol(upf_ndcg_at_k(bin_rel, 5, bin_ideal, 4, 3, UPF_GAIN_EXP, UPF_DISCOUNT_LOG2),
                            (1 / L2(3)) / idcg3, TOL);
    ck_assert_double_eq_tol(upf_ndcg_at_k(bin_rel, 5, bin_ideal, 4, 3, UPF_GAIN_EXP, UPF_DISCOUNT_LOG2), 0.29608191, 1e-8);
    /* ndcg@10, list of 5: DCG = 1/log2 3 + 1/log2 5 + 1/log2 6; IDCG over 4 ones */
    double dcg = 1 / L2(3) + 1 / L2(5) + 1 / L2(6), idcg = 1 + 1 / L2(3) + 1 / L2(4) + 1 / L2(5);
    ck_assert_double_eq_tol(upf_ndcg_at_k(bin_rel, 5, bin_ideal, 4, 10, UPF_GAIN_EXP, UPF_DISCOUNT_LOG2), dcg / idcg, TOL);
    ck_assert_double_eq_tol(upf_ndcg_at_k(bin_rel, 5, bin_ideal, 4, 0, UPF_GAIN_EXP, UPF_DISCOUNT_LOG2), dcg / idcg, TOL);
    /* recall@3 = 1/4, recall@5 = 3/4; capped: 1/min(3,4) = 1/3, 3/min(5,4) = 3/4 */
    ck_assert_double_eq_tol(upf_recall_at_k(bin_rel, 5, 4, 3), 0.25, TOL);
    ck_assert_double_eq_tol(upf_recall_at_k(bin_rel, 5, 4, 5), 0.75, TOL);
    ck_assert_double_eq_tol(upf_recall_capped_at_k(bin_rel, 5, 4, 3), 1.0 / 3, TOL);
    ck_assert_double_eq_tol(upf_recall_capped_at_k(bin_rel, 5, 4, 5), 0.75, TOL);
    /* precision@3 = 1/3; precision@10 = 3/10 (divides by k though only 5 are ranked) */
    ck_assert_double_eq_tol(upf_precision_at_k(bin_rel, 5, 4, 3), 1.0 / 3, TOL);
    ck_assert_double_eq_tol(upf_precision_at_k(bin_rel, 5, 4, 10), 0.3, TOL);
    /* AP: hits at ranks 2, 4, 5 give P = 1/2, 2/4, 3/5; sum 1.6.
     * map@5 = 1.6 / min(5, 4) = 0.4; map_cut@5 = 1.6 / 4 = 0.4;
     * map@3 = (1/2) / min(3, 4) = 1/6; map_cut@3 = (1/2) / 4 = 0.125; map (no k) = 1.6 / 4 */
    ck_assert_double_eq_tol(upf_ap_at_k(bin_rel, 5, 4, 5, 1), 0.4, TOL);
    ck_assert_double_eq_tol(upf_ap_at_k(bin_rel, 5, 4, 5, 0), 0.4, TOL);
    ck_assert_double_eq_tol(upf_ap_at_k(bin_rel, 5, 4, 3, 1), 1.0 / 6, TOL);
    ck_assert_double_eq_tol(upf_ap_at_k(bin_rel, 5, 4, 3, 0), 0.125, TOL);
    ck_assert_double_eq_tol(upf_ap_at_k(bin_rel, 5, 4, 0, 1), 0.4, TOL);
    /* first relevant at rank 2: rr = 1/2, rr@1 = 0; hit@1 = 0, hit@2 = 1 */
    ck_assert_double_eq_tol(upf_rr_at_k(bin_rel, 5, 4, 0), 0.5, TOL);
    ck_assert_double_eq_tol(upf_rr_at_k(bin_rel, 5, 4, 1), 0.0, TOL);
    ck_assert_double_eq_tol(upf_hit_at_k(bin_rel, 5, 4, 1), 0.0, TOL);
    ck_assert_double_eq_tol(upf_hit_at_k(bin_rel, 5, 4, 2), 1.0, TOL);
}
END_TEST

/* Graded list: ranks hold rel 3 0 2 1; ideal 3 2 1. */
START_TEST(test_graded_list)
{
    const double rel[] = { 3, 0, 2, 1 }, ideal[] = { 3, 2, 1 };
    /* exp gain 7, 3, 1. DCG@4 = 7/1 + 3/log2 4 + 1/log2 5; IDCG = 7 + 3/log2 3 + 1/log2 4 */
    double dcg = 7 + 3 / L2(4) + 1 / L2(5), idcg = 7 + 3 / L2(3) + 1 / L2(4);
    ck_assert_double_eq_tol(upf_ndcg_at_k(rel, 4, ideal, 3, 4, UPF_GAIN_EXP, UPF_DISCOUNT_LOG2), dcg / idcg, TOL);
    ck_assert_double_eq_tol(dcg / idcg, 0.95080133, 1e-8);
    /* linear gain 3, 2, 1: DCG = 3 + 2/2 + 1/log2 5; IDCG = 3 + 2/log2 3 + 1/2 */
    dcg = 3 + 2 / L2(4) + 1 / L2(5);
    idcg = 3 + 2 / L2(3) + 0.5;
    ck_assert_double_eq_tol(upf_ndcg_at_k(rel, 4, ideal, 3, 4, UPF_GAIN_LINEAR, UPF_DISCOUNT_LOG2), dcg / idcg, TOL);
    /* trec discount (1, 1, 1/log2 3, 1/log2 4), linear gain:
     * DCG = 3 + 0 + 2/log2 3 + 1/2; IDCG = 3 + 2 + 1/log2 3 */
    dcg = 3 + 2 / L2(3) + 0.5;
    idcg = 5 + 1 / L2(3);
    ck_assert_double_eq_tol(upf_ndcg_at_k(rel, 4, ideal, 3, 0, UPF_GAIN_LINEAR, UPF_DISCOUNT_TREC), dcg / idcg, TOL);
    /* ndcg@1: 7/7 = 1 (the best item is first) */
    ck_assert_double_eq_tol(upf_ndcg_at_k(rel, 4, ideal, 3, 1, UPF_GAIN_EXP, UPF_DISCOUNT_LOG2), 1.0, TOL);
    /* ndcg@2 exp: DCG 7; IDCG 7 + 3/log2 3 */
    ck_assert_double_eq_tol(upf_ndcg_at_k(rel, 4, ideal, 3, 2, UPF_GAIN_EXP, UPF_DISCOUNT_LOG2), 7 / (7 + 3 / L2(3)), TOL);
    /* a fractional grade: 2^0.5 - 1 */
    ck_assert_double_eq_tol(upf_metric_gain(0.5, UPF_GAIN_EXP), sqrt(2.0) - 1, TOL);
    ck_assert_double_eq_tol(upf_metric_gain(-1, UPF_GAIN_LINEAR), 0.0, TOL);
    /* binary relevance recall/precision count grades > 0 alike */
    ck_assert_double_eq_tol(upf_recall_at_k(rel, 4, 3, 3), 2.0 / 3, TOL);
    ck_assert_double_eq_tol(upf_precision_at_k(rel, 4, 3, 2), 0.5, TOL);
}
END_TEST

START_TEST(test_all_relevant_and_none)
{
    const double all[] = { 1, 1, 1 }, sc[] = { 3, 2, 1 }, none[] = { 0, 0, 0 };
    /* all relevant: perfect everywhere; precision@5 = 3/5; auc has no pair */
    ck_assert_double_eq_tol(upf_ndcg_at_k(all, 3, all, 3, 5, UPF_GAIN_EXP, UPF_DISCOUNT_LOG2), 1.0, TOL);
    ck_assert_double_eq_tol(upf_recall_at_k(all, 3, 3, 2), 2.0 / 3, TOL);
    ck_assert_double_eq_tol(upf_recall_capped_at_k(all, 3, 3, 2), 1.0, TOL);
    ck_assert_double_eq_tol(upf_precision_at_k(all, 3, 3, 5), 0.6, TOL);
    ck_assert_double_eq_tol(upf_ap_at_k(all, 3, 3, 0, 1), 1.0, TOL);
    ck_assert_double_eq_tol(upf_ap_at_k(all, 3, 3, 2, 1), 1.0, TOL);        /* (1 + 1) / min(2, 3) */
    ck_assert_double_eq_tol(upf_ap_at_k(all, 3, 3, 2, 0), 2.0 / 3, TOL);    /* (1 + 1) / 3 */
    ck_assert(isnan(upf_auc_ranked(all, sc, 3, 0)));
    /* no relevant item: every relevance metric is undefined (the empty policy decides) */
    ck_assert(isnan(upf_ndcg_at_k(none, 3, NULL, 0, 3, UPF_GAIN_EXP, UPF_DISCOUNT_LOG2)));
    ck_assert(isnan(upf_recall_at_k(none, 3, 0, 3)));
    ck_assert(isnan(upf_precision_at_k(none, 3, 0, 3)));
    ck_assert(isnan(upf_ap_at_k(none, 3, 0, 3, 1)));
    ck_assert(isnan(upf_rr_at_k(none, 3, 0, 0)));
    ck_assert(isnan(upf_hit_at_k(none, 3, 0, 3)));
    ck_assert(isnan(upf_auc_ranked(none, sc, 3, 0)));
    /* relevant items exist but none is ranked: 0, not undefined */
    const double one[] = { 1 };
    ck_assert_double_eq_tol(upf_ndcg_at_k(none, 3, one, 1, 3, UPF_GAIN_EXP, UPF_DISCOUNT_LOG2), 0.0, TOL);
    ck_assert_double_eq_tol(upf_rr_at_k(none, 3, 1, 0), 0.0, TOL);
    /* empty list, k larger than it */
    ck_assert_double_eq_tol(upf_precision_at_k(none, 0, 1, 10), 0.0, TOL);
    ck_assert_double_eq_tol(upf_ndcg_at_k(none, 0, one, 1, 10, UPF_GAIN_EXP, UPF_DISCOUNT_LOG2), 0.0, TOL);
}
END_TEST

START_TEST(test_auc_ties)
{
    /* scores 0.9 0.8 0.8 0.5 0.5, rel 1 0 1 0 0. Relevant@0.9 beats the 3
     * non-relevant items; relevant@0.8 ties one (1/2) and beats two.
     * wrong = 0.5 of 2 x 3 pairs: auc = 1 - 0.5/6 = 0.916667 */
    const double rel[] = { 1, 0, 1, 0, 0 }, sc[] = { 0.9, 0.8, 0.8, 0.5, 0.5 };
    ck_assert_double_eq_tol(upf_auc_ranked(rel, sc, 5, 0), 1 - 0.5 / 6, TOL);
    /* one more relevant item outside the list loses to all 3: 1 - 3.5/9 */
    ck_assert_double_eq_tol(upf_auc_ranked(rel, sc, 5, 1), 1 - 3.5 / 9, TOL);
    /* every score tied: each pair counts 1/2 */
    const double flat[] = { 1, 1, 1, 1, 1 };
    ck_assert_double_eq_tol(upf_auc_ranked(rel, flat, 5, 0), 0.5, TOL);
    /* from counts: the same first case */
    ck_assert_double_eq_tol(upf_auc_from_counts(0.5, 2, 3), 1 - 0.5 / 6, TOL);
    ck_assert(isnan(upf_auc_from_counts(0, 2, 0)));
}
END_TEST

/* The sparse form equals the dense form on random lists with random cut-offs. */
START_TEST(test_sparse_matches_dense)
{
    upf_rng r;
    upf_rng_seed(&r, 7, 0);
    double rel[64], ideal[64], hgrade[64];
    size_t hrank[64];
    upf_metric_kind kinds[] = { UPF_METRIC_NDCG, UPF_METRIC_RECALL, UPF_METRIC_RECALL_CAPPED, UPF_METRIC_PRECISION,
                                UPF_METRIC_MAP, UPF_METRIC_MAP_CUT, UPF_METRIC_MRR, UPF_METRIC_HIT_RATE };
    for (int trial = 0; trial < 600; trial++) {
        size_t n = upf_rng_below(&r, 40), n_rel = 0, nh = 0, extra = upf_rng_below(&r, 4);
        for (size_t i = 0; i < n; i++) {
            rel[i] = upf_rng_below(&r, 3) ? 0.0 : (double)(1 + upf_rng_below(&r, 3)) * (upf_rng_below(&r, 2) ? 1 : 0.5);
            if (rel[i] > 0) ideal[n_rel++] = rel[i], hrank[nh] = i + 1, hgrade[nh++] = rel[i];
        }
        for (size_t e = 0; e < extra; e++) ideal[n_rel++] = (double)(1 + upf_rng_below(&r, 3));
        for (size_t i = 1; i < n_rel; i++) /* insertion sort, descending */
            for (size_t j = i; j > 0 && ideal[j] > ideal[j - 1]; j--) {
                double t = ideal[j];
                ideal[j] = ideal[j - 1];
                ideal[j - 1] = t;
            }
        upf_rank_hits h = { nh, hrank, hgrade, n_rel, ideal };
        for (size_t q = 0; q < sizeof kinds / sizeof kinds[0]; q++)
            for (uint32_t k = 0; k < 45; k += 1 + upf_rng_below(&r, 6)) {
                if (k == 0 && kinds[q] != UPF_METRIC_NDCG && kinds[q] != UPF_METRIC_MAP && kinds[q] != UPF_METRIC_MRR)
                    continue;
                for (int g = 0; g < 2; g++) {
                    double a = upf_dense_metric(rel, n, ideal, n_rel, S(kinds[q], k), (upf_gain)g, (upf_discount)g);
                    double b = upf_hits_metric(&h, S(kinds[q], k), (upf_gain)g, (upf_discount)g);
                    ck_assert_msg((isnan(a) && isnan(b)) || fabs(a - b) <= 1e-12, "%s@%u trial %d: dense %.17g sparse %.17g",
                                  upf_metric_kind_name(kinds[q]), k, trial, a, b);
                }
            }
    }
}
END_TEST

START_TEST(test_names_and_parsing)
{
    upf_metric_spec s;
    upf_err e;
    char buf[UPF_METRIC_NAME_MAX];
    ck_assert_int_eq(upf_metric_spec_parse("ndcg@10", &s, &e), UPF_OK);
    ck_assert_int_eq(s.kind, UPF_METRIC_NDCG);
    ck_assert_uint_eq(s.k, 10);
    upf_metric_spec_name(s, buf, sizeof buf);
    ck_assert_str_eq(buf, "ndcg@10");
    ck_assert_int_eq(upf_metric_spec_parse("hr@5", &s, &e), UPF_OK);
    upf_metric_spec_name(s, buf, sizeof buf);
    ck_assert_str_eq(buf, "hit_rate@5");
    ck_assert_int_eq(upf_metric_spec_parse("mrr", &s, &e), UPF_OK);
    ck_assert_uint_eq(s.k, 0);
    ck_assert_int_eq(upf_metric_spec_parse("auc@10", &s, &e), UPF_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(e.msg, "no cut-off"));
    ck_assert_int_eq(upf_metric_spec_parse("recall", &s, &e), UPF_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(e.msg, "needs a cut-off"));
    ck_assert_int_eq(upf_metric_spec_parse("ndcg@0", &s, &e), UPF_ERR_ARG);
    ck_assert_int_eq(upf_metric_spec_parse("ndcg@1x", &s, &e), UPF_ERR_ARG);
    ck_assert_int_eq(upf_metric_spec_parse("ndcg@-3", &s, &e), UPF_ERR_ARG);
    ck_assert_int_eq(upf_metric_spec_parse("bleu@4", &s, &e), UPF_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(e.msg, "unknown"));
    upf_metric_spec *v = NULL;
    size_t n = 9;
    ck_assert_int_eq(upf_metric_specs_parse("ndcg@10, recall@20,auc", &v, &n, &e), UPF_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(v[1].kind, UPF_METRIC_RECALL);
    ck_assert_uint_eq(v[1].k, 20);
    upf_free(v);
    ck_assert_int_eq(upf_metric_specs_parse("ndcg@10,ndcg@10", &v, &n, &e), UPF_ERR_ARG);
    ck_assert_ptr_null(v);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(upf_metric_specs_parse("ndcg@10,", &v, &n, &e), UPF_ERR_ARG);
    const char *names[] = { "ndcg", "auc", "mrr", "precision@3" };
    const int64_t ks[] = { 5, 10 };
    ck_assert_int_eq(upf_metric_specs_grid(names, 4, ks, 2, &v, &n, &e), UPF_OK);
    ck_assert_uint_eq(n, 6); /* ndcg@5 ndcg@10 auc mrr@5 mrr@10 precision@3 */
    upf_metric_spec_name(v[3], buf, sizeof buf);
    ck_assert_str_eq(buf, "mrr@5");
    upf_free(v);
    const int64_t bad[] = { 0 };
    ck_assert_int_eq(upf_metric_specs_grid(names, 1, bad, 1, &v, &n, &e), UPF_ERR_ARG);
    ck_assert_int_eq(upf_gain_parse("linear"), UPF_GAIN_LINEAR);
    ck_assert_int_eq(upf_gain_parse("log"), -1);
    ck_assert_int_eq(upf_empty_parse("one"), UPF_EMPTY_ONE);
    ck_assert_int_eq(upf_discount_parse("trec"), UPF_DISCOUNT_TREC);
    ck_assert_str_eq(upf_empty_name(UPF_EMPTY_ZERO), "zero");
}
END_TEST

START_TEST(test_item_popularity)
{
    upf_item_pop p;
    upf_err e;
    /* counts 10 5 3 2 0, total 20; 80% = 16: 10 -> 15 -> 18 crosses at item 2,
     * which belongs to the head: head {0,1,2}, tail {3,4}. */
    const double c[] = { 10, 5, 3, 2, 0 };
    ck_assert_int_eq(upf_item_pop_build(c, 5, 0.8, &p, &e), UPF_OK);
    ck_assert_uint_eq(p.n_head, 3);
    ck_assert_int_eq(p.is_tail[2], 0);
    ck_assert_int_eq(p.is_tail[3], 1);
    ck_assert_int_eq(p.is_tail[4], 1);
    /* info: -log2(10/20) = 1, -log2(5/20) = 2, item 4 counts as 1: -log2(1/20) */
    ck_assert_double_eq_tol(p.info[0], 1.0, TOL);
    ck_assert_double_eq_tol(p.info[1], 2.0, TOL);
    ck_assert_double_eq_tol(p.info[4], log2(20.0), TOL);
    const int32_t list[] = { 4, 0, 3, 1 };
    /* long_tail@2: {4, 0} -> 1/2; @10 on 4 items: {4, 3} of 4 -> 1/2; novelty@2 = (log2 20 + 1) / 2 */
    ck_assert_double_eq_tol(upf_long_tail_at_k(list, 4, 2, &p), 0.5, TOL);
    ck_assert_double_eq_tol(upf_long_tail_at_k(list, 4, 10, &p), 0.5, TOL);
    ck_assert_double_eq_tol(upf_novelty_at_k(list, 4, 2, &p), (log2(20.0) + 1) / 2, TOL);
    ck_assert(isnan(upf_novelty_at_k(list, 0, 2, &p)));
    upf_item_pop_free(&p);
    /* equal counts: the boundary falls by index. 2 2 2 2, share 0.5: need 4 of 8 -> head {0, 1} */
    const double eq[] = { 2, 2, 2, 2 };
    ck_assert_int_eq(upf_item_pop_build(eq, 4, 0.5, &p, &e), UPF_OK);
    ck_assert_uint_eq(p.n_head, 2);
    ck_assert_int_eq(p.is_tail[1], 0);
    ck_assert_int_eq(p.is_tail[2], 1);
    upf_item_pop_free(&p);
    /* errors: zero total, negative count, bad share; output zeroed */
    const double z[] = { 0, 0 }, neg[] = { 1, -1 };
    ck_assert_int_eq(upf_item_pop_build(z, 2, 0.8, &p, &e), UPF_ERR_DATA);
    ck_assert_ptr_null(p.info);
    ck_assert_int_eq(upf_item_pop_build(neg, 2, 0.8, &p, &e), UPF_ERR_DATA);
    ck_assert_int_eq(upf_item_pop_build(c, 5, 1.5, &p, &e), UPF_ERR_ARG);
    /* allocation failure at each step */
    for (long nth = 1;; nth++) {
        upf_alloc_fail_after(nth);
        upf_status st = upf_item_pop_build(c, 5, 0.8, &p, &e);
        upf_alloc_fail_after(0);
        if (st == UPF_OK) {
            upf_item_pop_free(&p);
            break;
        }
        ck_assert_int_eq(st, UPF_ERR_NOMEM);
        ck_assert_ptr_null(p.info);
    }
}
END_TEST

Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_binary_list);
    tcase_add_test(tc, test_graded_list);
    tcase_add_test(tc, test_all_relevant_and_none);
    tcase_add_test(tc, test_auc_ties);
    tcase_add_test(tc, test_sparse_matches_dense);
    tcase_add_test(tc, test_names_and_parsing);
    tcase_add_test(tc, test_item_popularity);
    suite_add_tcase(s, tc);
    return s;
}
