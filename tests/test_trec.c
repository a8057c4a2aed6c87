/* test_trec.c - TREC qrels/run scoring (eval/trec.h) and `upfunnel eval`:
 * agreement with scikit-learn's ndcg_score (binary and graded, no ties) and
 * with trec_eval's ndcg_cut/map/P/recall/recip_rank on graded qrels with ties
 * (expected values from tests/golden/eval_golden.py, pasted below), a
 * hand-computed tie/byte-order case, query bookkeeping, file errors that name
 * file:line, and the command end to end. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../eval/rank_eval.h"
#include "../eval/trec.h"
#include "../model/json.h"
#include "testutil.h"

#define TOL 1e-12
#define L2(x) log2((double)(x))

/* ---- the output of tests/golden/eval_golden.py (seed 20261123), verbatim ---- */
static const int golden_a_rel[8][10] = {
    { 1, 1, 0, 0, 0, 1, 0, 1, 0, 0 },
    { 0, 1, 0, 0, 0, 0, 1, 0, 0, 0 },
    { 1, 0, 1, 0, 1, 1, 0, 0, 0, 1 },
    { 1, 1, 1, 0, 0, 0, 0, 0, 0, 1 },
    { 0, 1, 1, 1, 1, 0, 1, 0, 0, 1 },
    { 0, 1, 0, 0, 0, 1, 0, 1, 0, 1 },
    { 1, 0, 0, 0, 1, 0, 0, 1, 0, 1 },
    { 1, 0, 0, 0, 0, 1, 0, 0, 0, 0 },
};
static const double golden_a_score[8][10] = {
    { 0.753, 0.190, 0.030, 0.670, 0.075, 0.103, 0.434, 0.668, 0.278, 0.744 },
    { 0.776, 0.278, 0.051, 0.482, 0.842, 0.884, 0.775, 0.578, 0.240, 0.200 },
    { 0.378, 0.906, 0.596, 0.667, 0.901, 0.429, 0.402, 0.741, 0.048, 0.550 },
    { 0.404, 0.506, 0.688, 0.808, 0.721, 0.227, 0.274, 0.015, 0.818, 0.432 },
    { 0.710, 0.928, 0.482, 0.458, 0.572, 0.713, 0.695, 0.650, 0.918, 0.175 },
    { 0.243, 0.347, 0.167, 0.733, 0.716, 0.650, 0.301, 0.257, 0.937, 0.895 },
    { 0.631, 0.018, 0.413, 0.229, 0.045, 0.920, 0.850, 0.508, 0.072, 0.228 },
    { 0.338, 0.829, 0.362, 0.219, 0.817, 0.331, 0.467, 0.610, 0.153, 0.566 },
};
#define GOLDEN_A_NDCG3 0.2206700796235777 /* sklearn ndcg_score(k=3) */
#define GOLDEN_A_NDCG5 0.33973988207540795 /* sklearn ndcg_score(k=5) */
#define GOLDEN_A_NDCG10 0.6265718753650024 /* sklearn ndcg_score(k=10) */
static const int golden_b_rel[8][10] = {
    { 1, 2, 3, 3, 3, 0, 0, 2, 3, 0 },
    { 3, 3, 2, 1, 0, 0, 0, 0, 1, 3 },
    { 3, 3, 0, 0, 2, 2, 0, 3, 1, 0 },
    { 1, 0, 2, 3, 0, 1, 1, 3, 0, 2 },
    { 3, 2, 1, 0, 0, 1, 0, 2, 3, 0 },
    { 2, 0, 2, 0, 0, 3, 0, 2, 1, 0 },
    { 2, 1, 3, 1, 0, 0, 3, 0, 2, 0 },
    { 1, 0, 2, 2, 0, 2, 0, 3, 0, 1 },
};
static const double golden_b_score[8][10] = {
    { 0.984, 0.321, 0.130, 0.122, 0.896, 0.342, 0.192, 0.332, 0.518, 0.613 },
    { 0.058, 0.692, 0.794, 0.093, 0.277, 0.969, 0.220, 0.442, 0.625, 0.784 },
    { 0.768, 0.297, 0.794, 0.424, 0.563, 0.582, 0.139, 0.190, 0.967, 0.587 },
    { 0.259, 0.368, 0.310, 0.247, 0.331, 0.669, 0.405, 0.629, 0.659, 0.889 },
    { 0.746, 0.183, 0.883, 0.934, 0.232, 0.121, 0.169, 0.158, 0.796, 0.690 },
    { 0.113, 0.733, 0.649, 0.003, 0.854, 0.028, 0.508, 0.498, 0.528, 0.132 },
    { 0.045, 0.789, 0.711, 0.746, 0.395, 0.678, 0.446, 0.998, 0.142, 0.431 },
    { 0.696, 0.568, 0.121, 0.399, 0.156, 0.923, 0.663, 0.412, 0.715, 0.566 },
};
#define GOLDEN_B_NDCG3 0.36759564417507357 /* sklearn ndcg_score(k=3) */
#define GOLDEN_B_NDCG5 0.4387087780206278 /* sklearn ndcg_score(k=5) */
#define GOLDEN_B_NDCG10 0.6924051884125646 /* sklearn ndcg_score(k=10) */
static const char golden_c_qrels[] =
    "q0 0 d22 0\nq0 0 d19 2\nq0 0 d11 1\nq0 0 d32 1\nq0 0 d39 0\nq0 0 d24 0\nq0 0 d16 0\nq0 0 x0 2\n"
    "q1 0 d9 3\nq1 0 d21 1\nq1 0 d19 3\nq1 0 d4 1\nq1 0 d31 0\nq1 0 d37 1\nq1 0 d36 3\nq1 0 x1 2\n"
    "q2 0 d35 1\nq2 0 d1 3\nq2 0 d37 1\nq2 0 d34 1\nq2 0 d30 1\nq2 0 d36 3\nq2 0 d39 0\nq2 0 x2 2\n"
    "q3 0 d2 0\nq3 0 d6 0\nq3 0 d13 0\nq3 0 d29 0\nq3 0 d21 0\nq3 0 d16 0\nq3 0 d1 0\nq3 0 x3 0\n"
    "q4 0 d14 1\nq4 0 d32 1\nq4 0 d36 2\nq4 0 d18 0\nq4 0 d22 0\nq4 0 d37 1\nq4 0 d15 1\nq4 0 x4 2\n"
    "q5 0 d14 2\nq5 0 d5 0\nq5 0 d7 3\nq5 0 d16 1\nq5 0 d30 3\nq5 0 d3 2\nq5 0 d2 3\nq5 0 x5 2\n"
    "q6 0 d18 0\nq6 0 d23 1\nq6 0 d1 0\nq6 0 d29 3\nq6 0 d32 1\nq6 0 d37 3\nq6 0 d33 0\nq6 0 x6 2\n"
    "q7 0 d38 0\nq7 0 d14 0\nq7 0 d28 0\nq7 0 d20 0\nq7 0 d31 0\nq7 0 d5 0\nq7 0 d27 0\nq7 0 x7 0\n"
    ;
static const char golden_c_run[] =
    "q0 Q0 d24 0 2.0 golden\nq0 Q0 d11 0 2.0 golden\nq0 Q0 d37 0 0.5 golden\nq0 Q0 d35 0 0.5 golden\nq0 Q0 d22 0 0.5 golden\nq0 Q0 d23 0 1.5 golden\nq0 Q0 d32 0 0.5 golden\nq0 Q0 d19 0 2.0 golden\nq0 Q0 d39 0 1.0 golden\nq0 Q0 d16 0 1.5 golden\n"
    "q1 Q0 d37 0 1.0 golden\nq1 Q0 d19 0 1.5 golden\nq1 Q0 d38 0 1.5 golden\nq1 Q0 d21 0 1.0 golden\nq1 Q0 d31 0 0.5 golden\nq1 Q0 d20 0 0.5 golden\nq1 Q0 d9 0 0.5 golden\nq1 Q0 d36 0 1.5 golden\nq1 Q0 d35 0 2.0 golden\nq1 Q0 d4 0 2.0 golden\n"
    "q2 Q0 d30 0 1.0 golden\nq2 Q0 d7 0 0.5 golden\nq2 Q0 d37 0 1.5 golden\nq2 Q0 d1 0 1.5 golden\nq2 Q0 d3 0 0.5 golden\nq2 Q0 d14 0 1.0 golden\nq2 Q0 d35 0 1.0 golden\nq2 Q0 d39 0 1.5 golden\nq2 Q0 d34 0 2.0 golden\nq2 Q0 d36 0 1.5 golden\n"
    "q3 Q0 d4 0 0.5 golden\nq3 Q0 d1 0 2.0 golden\nq3 Q0 d13 0 0.5 golden\nq3 Q0 d6 0 1.5 golden\nq3 Q0 d16 0 1.0 golden\nq3 Q0 d2 0 1.0 golden\nq3 Q0 d29 0 2.0 golden\nq3 Q0 d24 0 1.5 golden\nq3 Q0 d21 0 0.5 golden\nq3 Q0 d36 0 1.5 golden\n"
    "q4 Q0 d32 0 1.0 golden\nq4 Q0 d18 0 1.0 golden\nq4 Q0 d15 0 1.0 golden\nq4 Q0 d25 0 1.0 golden\nq4 Q0 d12 0 1.0 golden\nq4 Q0 d37 0 1.0 golden\nq4 Q0 d21 0 2.0 golden\nq4 Q0 d22 0 0.5 golden\nq4 Q0 d14 0 1.5 golden\nq4 Q0 d36 0 0.5 golden\n"
    "q5 Q0 d37 0 0.5 golden\nq5 Q0 d26 0 0.5 golden\nq5 Q0 d7 0 2.0 golden\nq5 Q0 d16 0 2.0 golden\nq5 Q0 d31 0 1.5 golden\nq5 Q0 d5 0 2.0 golden\nq5 Q0 d14 0 2.0 golden\nq5 Q0 d30 0 0.5 golden\nq5 Q0 d2 0 2.0 golden\nq5 Q0 d3 0 1.0 golden\n"
    "q6 Q0 d37 0 1.0 golden\nq6 Q0 d23 0 0.5 golden\nq6 Q0 d26 0 1.5 golden\nq6 Q0 d16 0 0.5 golden\nq6 Q0 d29 0 2.0 golden\nq6 Q0 d1 0 0.5 golden\nq6 Q0 d4 0 1.5 golden\nq6 Q0 d18 0 0.5 golden\nq6 Q0 d32 0 2.0 golden\nq6 Q0 d33 0 1.0 golden\n"
    "q7 Q0 d31 0 1.5 golden\nq7 Q0 d6 0 1.0 golden\nq7 Q0 d5 0 0.5 golden\nq7 Q0 d20 0 1.5 golden\nq7 Q0 d38 0 0.5 golden\nq7 Q0 d7 0 2.0 golden\nq7 Q0 d27 0 2.0 golden\nq7 Q0 d22 0 1.0 golden\nq7 Q0 d14 0 1.0 golden\nq7 Q0 d28 0 0.5 golden\n"
    ;
#define GOLDEN_C_NDCG_CUT_5 0.39120500788184764 /* trec_eval ndcg_cut_5 (re-implemented) */
#define GOLDEN_C_NDCG_CUT_10 0.4553590073969619 /* trec_eval ndcg_cut_10 (re-implemented) */
#define GOLDEN_C_MAP 0.43485071806500375 /* trec_eval map (re-implemented) */
#define GOLDEN_C_P_5 0.47500000000000003 /* trec_eval P_5 (re-implemented) */
#define GOLDEN_C_RECALL_5 0.3964285714285714 /* trec_eval recall_5 (re-implemented) */
#define GOLDEN_C_RECIP_RANK 0.625 /* trec_eval recip_rank (re-implemented) */
/* ---- end of the script's output ---- */

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

static char *join(const char *dir, const char *name)
{
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

/* Writes golden case a or b as TREC files: every document judged (0 or the
 * grade), doc ids "d<j>". */
static void write_ab(const char *dir, const int rel[][10], const double score[][10])
{
    char *qp = join(dir, "qrels.txt"), *rp = join(dir, "run.txt");
    FILE *q = fopen(qp, "w"), *r = fopen(rp, "w");
    ck_assert(q && r);
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 10; j++) {
            fprintf(q, "q%d 0 d%d %d\n", i, j, rel[i][j]);
            fprintf(r, "q%d Q0 d%d %d %.3f tag\n", i, j, 99 - j, score[i][j]);
        }
    fclose(q);
    fclose(r);
    free(qp);
    free(rp);
}

static upf_trec_result trec_run_case(const char *dir, const char *metrics, upf_trec_params p)
{
    char *qp = join(dir, "qrels.txt"), *rp = join(dir, "run.txt");
    upf_trec_file *q = NULL, *r = NULL;
    upf_metric_spec *ms;
    size_t nm;
    upf_err e;
    upf_trec_result res;
    ck_assert_int_eq(upf_metric_specs_parse(metrics, &ms, &nm, &e), UPF_OK);
    ck_assert_msg(upf_trec_qrels_read(qp, &q, &e) == UPF_OK, "%s", e.msg);
    ck_assert_msg(upf_trec_run_read(rp, &r, &e) == UPF_OK, "%s", e.msg);
    p.metrics = ms;
    p.n_metrics = nm;
    ck_assert_msg(upf_trec_evaluate(q, r, &p, &res, &e) == UPF_OK, "%s", e.msg);
    upf_trec_free(q);
    upf_trec_free(r);
    upf_free(ms);
    free(qp);
    free(rp);
    return res;
}

START_TEST(test_sklearn_binary)
{
    char *dir = upf_test_tmpdir();
    write_ab(dir, golden_a_rel, golden_a_score);
    for (int g = 0; g < 2; g++) { /* binary: exp and linear gain agree */
        upf_trec_params p = upf_trec_params_default();
        p.gain = (upf_gain)g;
        upf_trec_result r = trec_run_case(dir, "ndcg@3,ndcg@5,ndcg@10", p);
        ck_assert_uint_eq(r.n_evaluated, 8);
        ck_assert_double_eq_tol(upf_trec_get(&r, "ndcg@3"), GOLDEN_A_NDCG3, TOL);
        ck_assert_double_eq_tol(upf_trec_get(&r, "ndcg@5"), GOLDEN_A_NDCG5, TOL);
        ck_assert_double_eq_tol(upf_trec_get(&r, "ndcg@10"), GOLDEN_A_NDCG10, TOL);
        upf_trec_result_free(&r);
    }
    upf_test_rmdir(dir);
}
END_TEST

START_TEST(test_sklearn_graded_linear)
{
    char *dir = upf_test_tmpdir();
    write_ab(dir, golden_b_rel, golden_b_score);
    upf_trec_params p = upf_trec_params_default();
    p.gain = UPF_GAIN_LINEAR;
    upf_trec_result r = trec_run_case(dir, "ndcg@3,ndcg@5,ndcg@10", p);
    ck_assert_double_eq_tol(upf_trec_get(&r, "ndcg@3"), GOLDEN_B_NDCG3, TOL);
    ck_assert_double_eq_tol(upf_trec_get(&r, "ndcg@5"), GOLDEN_B_NDCG5, TOL);
    ck_assert_double_eq_tol(upf_trec_get(&r, "ndcg@10"), GOLDEN_B_NDCG10, TOL);
    upf_trec_result_free(&r);
    upf_test_rmdir(dir);
}
END_TEST

/* The catalogue evaluator on golden case a (queries as users, documents as
 * items, nothing excluded) gives sklearn's figures too, fast and reference. */
static upf_status golden_scores(void *ctx, const int32_t *users, size_t n_users, int32_t ib, int32_t ie, float *out)
{
    (void)ctx;
    for (size_t r = 0; r < n_users; r++)
        for (int32_t i = ib; i < ie; i++) out[r * (size_t)(ie - ib) + (size_t)(i - ib)] = (float)golden_a_score[users[r]][i];
    return UPF_OK;
}

START_TEST(test_sklearn_through_rank_eval)
{
    int64_t ptr[9] = { 0 }, nnz = 0;
    int32_t idx[80];
    float val[80];
    for (int u = 0; u < 8; u++) {
        for (int j = 0; j < 10; j++)
            if (golden_a_rel[u][j]) idx[nnz] = j, val[nnz++] = 1.0f;
        ptr[u + 1] = nnz;
    }
    int64_t zero[9] = { 0 };
    upf_csr test = { 8, 10, ptr, idx, val, NULL }, train = { 8, 10, zero, idx, val, NULL };
    upf_scorer sc;
    memset(&sc, 0, sizeof sc);
    sc.score_block = golden_scores;
    upf_metric_spec ms[3] = { { UPF_METRIC_NDCG, 3 }, { UPF_METRIC_NDCG, 5 }, { UPF_METRIC_NDCG, 10 } };
    upf_rank_eval_params p = upf_rank_eval_params_default();
    p.metrics = ms;
    p.n_metrics = 3;
    p.block_items = 4;
    upf_rank_eval_result r;
    upf_err e;
    for (int f = 0; f < 2; f++) {
        ck_assert_int_eq((f ? upf_rank_evaluate_ref : upf_rank_evaluate)(&sc, &train, &test, &p, &r, &e), UPF_OK);
        ck_assert_double_eq_tol(upf_rank_eval_get(&r, "ndcg@3"), GOLDEN_A_NDCG3, 1e-12);
        ck_assert_double_eq_tol(upf_rank_eval_get(&r, "ndcg@5"), GOLDEN_A_NDCG5, 1e-12);
        ck_assert_double_eq_tol(upf_rank_eval_get(&r, "ndcg@10"), GOLDEN_A_NDCG10, 1e-12);
        upf_rank_eval_result_free(&r);
    }
}
END_TEST

START_TEST(test_trec_eval_compat)
{
    char *dir = upf_test_tmpdir(), *qp = join(dir, "qrels.txt"), *rp = join(dir, "run.txt");
    write_text(qp, golden_c_qrels);
    write_text(rp, golden_c_run);
    upf_trec_params p = upf_trec_params_default(); /* what --compat trec_eval sets */
    p.gain = UPF_GAIN_LINEAR;
    p.discount = UPF_DISCOUNT_TREC;
    p.ties_desc = 1;
    p.empty = UPF_EMPTY_ZERO;
    upf_trec_result r = trec_run_case(dir, "ndcg@5,ndcg@10,map,precision@5,recall@5,mrr", p);
    ck_assert_uint_eq(r.n_evaluated + r.n_empty, 8);
    ck_assert_uint_eq(r.n_empty, 2);
    ck_assert_double_eq_tol(upf_trec_get(&r, "ndcg@5"), GOLDEN_C_NDCG_CUT_5, TOL);
    ck_assert_double_eq_tol(upf_trec_get(&r, "ndcg@10"), GOLDEN_C_NDCG_CUT_10, TOL);
    ck_assert_double_eq_tol(upf_trec_get(&r, "map"), GOLDEN_C_MAP, TOL);
    ck_assert_double_eq_tol(upf_trec_get(&r, "precision@5"), GOLDEN_C_P_5, TOL);
    ck_assert_double_eq_tol(upf_trec_get(&r, "recall@5"), GOLDEN_C_RECALL_5, TOL);
    ck_assert_double_eq_tol(upf_trec_get(&r, "mrr"), GOLDEN_C_RECIP_RANK, TOL);
    upf_trec_result_free(&r);
    /* the contract's defaults differ from trec_eval on this case (discount, ties) */
    r = trec_run_case(dir, "ndcg@5", upf_trec_params_default());
    ck_assert(fabs(upf_trec_get(&r, "ndcg@5") - GOLDEN_C_NDCG_CUT_5) > 1e-3);
    upf_trec_result_free(&r);
    free(qp);
    free(rp);
    upf_test_rmdir(dir);
}
END_TEST

/* Hand case: q1 ranks d10 and d9 tied at 1.0, then d2 at 0.5; qrels d9 1, d2 2.
 * Byte order puts "d10" before "d9". q2 is in the run only, q3 in the qrels
 * only (with a relevant document), q4 judged without a relevant document. */
static const char hand_qrels[] = "q1 0 d9 1\nq1 0 d2 2\nq1 0 d7 0\nq3 0 d1 1\nq4 0 d1 0\n";
static const char hand_run[] = "# a comment\nq1 Q0 d9 1 1.0 t\nq1\tQ0\td2 2 0.5 t\r\n\nq1 Q0 d10 3 1.0 t\n"
                               "q2 Q0 d1 1 3 t\nq4 Q0 d1 1 3 t\n";

START_TEST(test_hand_ties_and_bookkeeping)
{
    char *dir = upf_test_tmpdir(), *qp = join(dir, "qrels.txt"), *rp = join(dir, "run.txt");
    write_text(qp, hand_qrels);
    write_text(rp, hand_run);
    upf_trec_params p = upf_trec_params_default();
    upf_trec_result r = trec_run_case(dir, "ndcg@3,recall@1,mrr,auc", p);
    /* ascending ties: d10 d9 d2 -> rel 0 1 2; exp gains 1 and 3:
     * DCG = 1/log2 3 + 3/log2 4; IDCG = 3 + 1/log2 3 */
    ck_assert_double_eq_tol(upf_trec_get(&r, "ndcg@3"), (1 / L2(3) + 1.5) / (3 + 1 / L2(3)), TOL);
    ck_assert_double_eq_tol(upf_trec_get(&r, "mrr"), 0.5, TOL);
    /* auc: d9 ties the only non-relevant d10 (1/2), d2 loses to it: 1 - 1.5/2 */
    ck_assert_double_eq_tol(upf_trec_get(&r, "auc"), 0.25, TOL);
    ck_assert_uint_eq(r.n_evaluated, 1);
    ck_assert_uint_eq(r.n_empty, 1);       /* q4 */
    ck_assert_uint_eq(r.n_unjudged, 1);    /* q2 */
    ck_assert_uint_eq(r.n_missing_run, 1); /* q3 */
    ck_assert_uint_eq(r.n_queries, 1);
    ck_assert_str_eq(r.query[0], "q1");
    upf_trec_result_free(&r);
    /* descending ties (trec_eval): d9 d10 d2: DCG = 1 + 3/log2 4 */
    p.ties_desc = 1;
    r = trec_run_case(dir, "ndcg@3,recall@1", p);
    ck_assert_double_eq_tol(upf_trec_get(&r, "ndcg@3"), 2.5 / (3 + 1 / L2(3)), TOL);
    ck_assert_double_eq_tol(upf_trec_get(&r, "recall@1"), 0.5, TOL);
    upf_trec_result_free(&r);
    /* complete + empty one: q3 scores 0 (nothing ranked), q4 scores 1 */
    p.ties_desc = 0;
    p.complete = 1;
    p.empty = UPF_EMPTY_ONE;
    r = trec_run_case(dir, "mrr", p);
    ck_assert_uint_eq(r.n_queries, 3);
    ck_assert_double_eq_tol(upf_trec_get(&r, "mrr"), (0.5 + 0 + 1) / 3, TOL);
    upf_trec_result_free(&r);
    free(qp);
    free(rp);
    upf_test_rmdir(dir);
}
END_TEST

static void expect_read_error(const char *dir, int run, const char *text, const char *needle)
{
    char *path = join(dir, "bad.txt");
    upf_trec_file *f = (upf_trec_file *)1;
    upf_err e;
    write_text(path, text);
    upf_status st = run ? upf_trec_run_read(path, &f, &e) : upf_trec_qrels_read(path, &f, &e);
    ck_assert_int_eq(st, UPF_ERR_FORMAT);
    ck_assert_ptr_null(f);
    ck_assert_msg(strstr(e.msg, needle) != NULL, "message \"%s\" lacks \"%s\"", e.msg, needle);
    free(path);
}

START_TEST(test_file_errors)
{
    char *dir = upf_test_tmpdir();
    expect_read_error(dir, 0, "q1 0 d1 1\nq1 0 d2\n", "bad.txt:2: expected 4 fields");
    expect_read_error(dir, 0, "q1 0 d1 high\n", "bad.txt:1: relevance (field 4) \"high\"");
    expect_read_error(dir, 0, "q1 0 d1 1\nq2 0 d1 1\n\nq1 0 d1 2\n", "bad.txt:4: document d1 appears twice for query q1 (first at line 1)");
    expect_read_error(dir, 1, "q1 Q0 d1 1 0.5\n", "bad.txt:1: expected 6 fields");
    expect_read_error(dir, 1, "q1 Q0 d1 1 nan t\n", "score (field 5)");
    expect_read_error(dir, 1, "q1 Q0 d1 1 1e999 t\n", "score (field 5)");
    char *path = join(dir, "nul.txt");
    FILE *f = fopen(path, "wb");
    fwrite("q1 0 d\0 1\n", 1, 10, f);
    fclose(f);
    upf_trec_file *t;
    upf_err e;
    ck_assert_int_eq(upf_trec_qrels_read(path, &t, &e), UPF_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(e.msg, "nul.txt:1"));
    ck_assert_int_eq(upf_trec_qrels_read("/nonexistent/q.txt", &t, &e), UPF_ERR_IO);
    ck_assert_ptr_nonnull(strstr(e.msg, "/nonexistent/q.txt"));
    /* allocation failure while reading and evaluating */
    char *qp = join(dir, "q.txt"), *rp = join(dir, "r.txt");
    write_text(qp, hand_qrels);
    write_text(rp, hand_run);
    upf_metric_spec ms[2] = { { UPF_METRIC_NDCG, 3 }, { UPF_METRIC_AUC, 0 } };
    for (long nth = 1;; nth++) {
        upf_trec_file *q = NULL, *r = NULL;
        upf_trec_result res;
        upf_trec_params p = upf_trec_params_default();
        p.metrics = ms;
        p.n_metrics = 2;
        upf_alloc_fail_after(nth);
        upf_status st = upf_trec_qrels_read(qp, &q, &e);
        if (st == UPF_OK) st = upf_trec_run_read(rp, &r, &e);
        if (st == UPF_OK) st = upf_trec_evaluate(q, r, &p, &res, &e);
        upf_alloc_fail_after(0);
        upf_trec_free(q);
        upf_trec_free(r);
        if (st == UPF_OK) {
            upf_trec_result_free(&res);
            break;
        }
        ck_assert_int_eq(st, UPF_ERR_NOMEM);
    }
    /* a catalogue metric is refused */
    upf_trec_file *q = NULL, *r = NULL;
    ck_assert_int_eq(upf_trec_qrels_read(qp, &q, &e), UPF_OK);
    ck_assert_int_eq(upf_trec_run_read(rp, &r, &e), UPF_OK);
    upf_metric_spec cov = { UPF_METRIC_COVERAGE, 10 };
    upf_trec_params p = upf_trec_params_default();
    p.metrics = &cov;
    p.n_metrics = 1;
    upf_trec_result res;
    ck_assert_int_eq(upf_trec_evaluate(q, r, &p, &res, &e), UPF_ERR_ARG);
    ck_assert_ptr_null(res.values);
    upf_trec_free(q);
    upf_trec_free(r);
    free(qp);
    free(rp);
    free(path);
    upf_test_rmdir(dir);
}
END_TEST

/* ---- the command ---- */

static int run_cmd(const char *cmd, const char *out_path)
{
    char buf[8192];
    snprintf(buf, sizeof buf, "%s > '%s' 2>&1", cmd, out_path);
    int st = system(buf);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    char *b = calloc(1, 1 << 20);
    size_t n = fread(b, 1, (1 << 20) - 1, f);
    b[n] = '\0';
    fclose(f);
    return b;
}

START_TEST(test_command)
{
    char *dir = upf_test_tmpdir(), *qp = join(dir, "qrels.txt"), *rp = join(dir, "run.txt"), *op = join(dir, "out.txt");
    write_text(qp, golden_c_qrels);
    write_text(rp, golden_c_run);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s eval --qrels '%s' --run '%s' --metrics ndcg@5,map --compat trec_eval --json --per-query",
             upf_test_bin(), qp, rp);
    ck_assert_int_eq(run_cmd(cmd, op), 0);
    char *out = slurp(op);
    upf_json *j = NULL;
    upf_err e;
    ck_assert_msg(upf_json_parse(out, strlen(out), &j, &e) == UPF_OK, "%s: %s", e.msg, out);
    ck_assert_double_eq_tol(upf_json_get(j, "ndcg@5")->num, GOLDEN_C_NDCG_CUT_5, TOL);
    ck_assert_double_eq_tol(upf_json_get(j, "map")->num, GOLDEN_C_MAP, TOL);
    ck_assert_double_eq_tol(upf_json_path(j, "counts.empty")->num, 2, 0.5);
    ck_assert_ptr_nonnull(upf_json_path(j, "per_query.q0"));
    upf_json_free(j);
    free(out);
    /* text table */
    snprintf(cmd, sizeof cmd, "%s eval --qrels '%s' --run '%s'", upf_test_bin(), qp, rp);
    ck_assert_int_eq(run_cmd(cmd, op), 0);
    out = slurp(op);
    ck_assert_ptr_nonnull(strstr(out, "ndcg@10"));
    ck_assert_ptr_nonnull(strstr(out, "queries: 6 evaluated; 2 judged without a relevant document (left out)"));
    free(out);
    /* usage errors exit 2, file errors 1 with file:line */
    snprintf(cmd, sizeof cmd, "%s eval --qrels '%s' --run '%s' --gain cubic", upf_test_bin(), qp, rp);
    ck_assert_int_eq(run_cmd(cmd, op), 2);
    snprintf(cmd, sizeof cmd, "%s eval --qrels '%s'", upf_test_bin(), qp);
    ck_assert_int_eq(run_cmd(cmd, op), 2);
    snprintf(cmd, sizeof cmd, "%s eval --qrels '%s' --run '%s' --metrics novelty@10", upf_test_bin(), qp, rp);
    ck_assert_int_eq(run_cmd(cmd, op), 2);
    snprintf(cmd, sizeof cmd, "%s eval --qrels '%s' --run '%s'", upf_test_bin(), rp, rp);
    ck_assert_int_eq(run_cmd(cmd, op), 1);
    out = slurp(op);
    ck_assert_msg(strstr(out, "run.txt:1: expected 4 fields") != NULL, "%s", out);
    free(out);
    snprintf(cmd, sizeof cmd, "%s eval --help", upf_test_bin());
    ck_assert_int_eq(run_cmd(cmd, op), 0);
    out = slurp(op);
    ck_assert_ptr_nonnull(strstr(out, "exit status"));
    free(out);
    free(qp);
    free(rp);
    free(op);
    upf_test_rmdir(dir);
}
END_TEST

Suite *trec_suite(void)
{
    Suite *s = suite_create("trec");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_sklearn_binary);
    tcase_add_test(tc, test_sklearn_graded_linear);
    tcase_add_test(tc, test_sklearn_through_rank_eval);
    tcase_add_test(tc, test_trec_eval_compat);
    tcase_add_test(tc, test_hand_ties_and_bookkeeping);
    tcase_add_test(tc, test_file_errors);
    tcase_add_test(tc, test_command);
    suite_add_tcase(s, tc);
    return s;
}
