/* test_rank_eval.c - the catalogue evaluator of eval/rank_eval.h: a
 * hand-computed case (ties, exclusion, graded, empty users) through both
 * evaluators, the fast path against the reference on random data (shapes,
 * dims 0..64, ties forced by quantized scores, excluded items, empty users,
 * k beyond the catalogue, odd tiles, threads), callbacks, thread-count
 * invariance, and failure paths (bad input, NaN, allocation failure). */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../eval/rank_eval.h"
#include "../model/rng.h"
#include "testutil.h"

#define TOL 1e-12
#define L2(x) log2((double)(x))

/* ---- fixtures ---- */

/* A CSR from per-row item lists (ascending) and values; freed with csr_free. */
typedef struct row_spec {
    size_t n;
    int32_t idx[8];
    float val[8];
} row_spec;

static upf_csr csr_make(size_t n_rows, size_t n_cols, const row_spec *rows)
{
    upf_csr m;
    memset(&m, 0, sizeof m);
    m.n_rows = n_rows;
    m.n_cols = n_cols;
    size_t nnz = 0;
    for (size_t u = 0; u < n_rows; u++) nnz += rows ? rows[u].n : 0;
    m.ptr = calloc(n_rows + 1, sizeof *m.ptr);
    m.idx = calloc(nnz + 1, sizeof *m.idx);
    m.val = calloc(nnz + 1, sizeof *m.val);
    size_t e = 0;
    for (size_t u = 0; u < n_rows; u++) {
        for (size_t j = 0; rows && j < rows[u].n; j++, e++) m.idx[e] = rows[u].idx[j], m.val[e] = rows[u].val[j];
        m.ptr[u + 1] = (int64_t)e;
    }
    return m;
}

static void csr_release(upf_csr *m)
{
    free(m->ptr);
    free(m->idx);
    free(m->val);
    memset(m, 0, sizeof *m);
}

/* Hand case: 4 users x 6 items, bias-only scores (dim 0):
 *   bias 0.5 0.9 0.9 0.1 0.9 0.3  -> rank order 1, 2, 4, 0, 5, 3 (ties by index)
 *   train: u0 {2}, u2 {1}; test: u0 {3, 4} grade 1, u1 {2} grade 3, u2 {1} grade 1
 * u0 (2 excluded) ranks 1 4 0 5 3: relevant at ranks 2 and 5.
 * u1 ranks 1 2 4 0 5 3: the grade-3 item at rank 2.
 * u2's only test item is a training item: excluded, so u2 is empty; u3 has no test. */
static const float hand_bias[6] = { 0.5f, 0.9f, 0.9f, 0.1f, 0.9f, 0.3f };
static const row_spec hand_train[4] = { { 1, { 2 }, { 1 } }, { 0, { 0 }, { 0 } }, { 1, { 1 }, { 1 } }, { 0, { 0 }, { 0 } } };
static const row_spec hand_test[4] = { { 2, { 3, 4 }, { 1, 1 } }, { 1, { 2 }, { 3 } }, { 1, { 1 }, { 1 } }, { 0, { 0 }, { 0 } } };

typedef upf_status (*eval_fn)(const upf_scorer *, const upf_csr *, const upf_csr *, const upf_rank_eval_params *,
                              upf_rank_eval_result *, upf_err *);

static void hand_case(eval_fn fn)
{
    upf_csr tr = csr_make(4, 6, hand_train), te = csr_make(4, 6, hand_test);
    upf_scorer sc;
    memset(&sc, 0, sizeof sc);
    sc.item_bias = hand_bias;
    upf_metric_spec *ms;
    size_t nm;
    upf_err e;
    ck_assert_int_eq(upf_metric_specs_parse("ndcg@3,recall@3,precision@3,map@3,mrr,auc,ndcg,coverage@2,long_tail@2,novelty@2,hit_rate@1",
                                            &ms, &nm, &e), UPF_OK);
    upf_rank_eval_params p = upf_rank_eval_params_default();
    p.metrics = ms;
    p.n_metrics = nm;
    p.per_user = 1;
    upf_rank_eval_result r;
    ck_assert_int_eq(fn(&sc, &tr, &te, &p, &r, &e), UPF_OK);
    ck_assert_uint_eq(r.n_users_ranked, 2);
    ck_assert_uint_eq(r.n_users_empty, 2);
    /* u0: ndcg@3 = (1/log2 3) / (1 + 1/log2 3); u1: (7/log2 3) / 7 */
    double n0 = (1 / L2(3)) / (1 + 1 / L2(3)), n1 = 1 / L2(3);
    ck_assert_double_eq_tol(upf_rank_eval_get(&r, "ndcg@3"), (n0 + n1) / 2, TOL);
    /* recall@3: 1/2 and 1/1; precision@3: 1/3 both; map@3: (1/2)/min(3,2), (1/2)/1 */
    ck_assert_double_eq_tol(upf_rank_eval_get(&r, "recall@3"), 0.75, TOL);
    ck_assert_double_eq_tol(upf_rank_eval_get(&r, "precision@3"), 1.0 / 3, TOL);
    ck_assert_double_eq_tol(upf_rank_eval_get(&r, "map@3"), (0.25 + 0.5) / 2, TOL);
    ck_assert_double_eq_tol(upf_rank_eval_get(&r, "mrr"), 0.5, TOL);
    ck_assert_double_eq_tol(upf_rank_eval_get(&r, "hit_rate@1"), 0.0, TOL);
    /* auc u0: item 4 (0.9) ties non-relevant item 1 (1/2), item 3 (0.1) loses to
     * all 3 non-relevant: 1 - 3.5/6. u1: item 2 ties items 1 and 4 of 5: 1 - 1/5 */
    ck_assert_double_eq_tol(upf_rank_eval_get(&r, "auc"), ((1 - 3.5 / 6) + 0.8) / 2, TOL);
    /* whole-list ndcg u0: (1/log2 3 + 1/log2 6) / (1 + 1/log2 3); u1 as ndcg@3 */
    ck_assert_double_eq_tol(upf_rank_eval_get(&r, "ndcg"), ((1 / L2(3) + 1 / L2(6)) / (1 + 1 / L2(3)) + n1) / 2, TOL);
    /* coverage@2: {1, 4} and {1, 2} -> 3 of 6 items */
    ck_assert_double_eq_tol(upf_rank_eval_get(&r, "coverage@2"), 0.5, TOL);
    /* train counts: items 1 and 2 once each; head (80% of 2) = {1, 2}.
     * long_tail@2: u0 {1, 4} -> 1/2, u1 {1, 2} -> 0. novelty: every info is
     * -log2(1/2) = 1 (item 4, never seen, counts as 1) */
    ck_assert_double_eq_tol(upf_rank_eval_get(&r, "long_tail@2"), 0.25, TOL);
    ck_assert_double_eq_tol(upf_rank_eval_get(&r, "novelty@2"), 1.0, TOL);
    /* per-user table: users 0 and 1 only (empty users are skipped) */
    ck_assert_uint_eq(r.n_users_per_user, 2);
    ck_assert_int_eq(r.per_user_user[1], 1);
    ck_assert_double_eq_tol(r.per_user[0 * nm + 0], n0, TOL);
    ck_assert(isnan(r.per_user[1 * nm + 7])); /* coverage has no per-user value */
    upf_rank_eval_result_free(&r);

    /* empty: zero and one count u2 and u3 with 0 or 1 */
    p.empty = UPF_EMPTY_ZERO;
    ck_assert_int_eq(fn(&sc, &tr, &te, &p, &r, &e), UPF_OK);
    ck_assert_double_eq_tol(upf_rank_eval_get(&r, "ndcg@3"), (n0 + n1) / 4, TOL);
    ck_assert_uint_eq(r.n_values[0], 4);
    ck_assert_uint_eq(r.n_users_per_user, 4);
    ck_assert_double_eq_tol(r.per_user[3 * nm + 0], 0.0, TOL);
    ck_assert(isnan(r.per_user[3 * nm + 9])); /* novelty: u3 was never ranked */
    ck_assert_double_eq_tol(upf_rank_eval_get(&r, "novelty@2"), 1.0, TOL);
    upf_rank_eval_result_free(&r);
    p.empty = UPF_EMPTY_ONE;
    ck_assert_int_eq(fn(&sc, &tr, &te, &p, &r, &e), UPF_OK);
    ck_assert_double_eq_tol(upf_rank_eval_get(&r, "ndcg@3"), (n0 + n1 + 2) / 4, TOL);
    upf_rank_eval_result_free(&r);

    /* exclude_train off: u0 ranks 1 2 4 0 5 3 (rel at 3 and 6); u2's item 1 is first */
    p.empty = UPF_EMPTY_SKIP;
    p.exclude_train = 0;
    ck_assert_int_eq(fn(&sc, &tr, &te, &p, &r, &e), UPF_OK);
    ck_assert_uint_eq(r.n_users_ranked, 3);
    ck_assert_double_eq_tol(upf_rank_eval_get(&r, "ndcg@3"), (0.5 / (1 + 1 / L2(3)) + n1 + 1.0) / 3, TOL);
    upf_rank_eval_result_free(&r);

    /* linear gain changes nothing for u1 alone (one relevant item) but graded=0 too */
    p.exclude_train = 1;
    p.gain = UPF_GAIN_LINEAR;
    p.graded = 0;
    ck_assert_int_eq(fn(&sc, &tr, &te, &p, &r, &e), UPF_OK);
    ck_assert_double_eq_tol(upf_rank_eval_get(&r, "ndcg@3"), (n0 + n1) / 2, TOL);
    ck_assert(isnan(upf_rank_eval_get(&r, "ndcg@99")));
    upf_rank_eval_result_free(&r);
    upf_free(ms);
    csr_release(&tr);
    csr_release(&te);
}

START_TEST(test_hand_case_ref) { hand_case(upf_rank_evaluate_ref); }
END_TEST

START_TEST(test_hand_case_fast) { hand_case(upf_rank_evaluate); }
END_TEST

/* ---- random agreement ---- */

typedef struct rnd_case {
    size_t n_users, n_items, dim;
    float *uv, *iv, *bias;
    upf_csr train, test;
} rnd_case;

/* Random subset of [0, n) of size m, ascending, into out. */
static size_t rnd_subset(upf_rng *r, size_t n, size_t m, int32_t *out, uint8_t *mark)
{
    memset(mark, 0, n);
    size_t got = 0;
    if (m > n) m = n;
    while (got < m) {
        size_t j = upf_rng_below(r, (uint32_t)n);
        if (!mark[j]) mark[j] = 1, got++;
    }
    size_t o = 0;
    for (size_t j = 0; j < n; j++)
        if (mark[j]) out[o++] = (int32_t)j;
    return o;
}

static void rnd_make(upf_rng *r, rnd_case *c)
{
    memset(c, 0, sizeof *c);
    c->n_users = 1 + upf_rng_below(r, 40);
    c->n_items = 1 + upf_rng_below(r, upf_rng_below(r, 4) ? 200 : 12);
    c->dim = upf_rng_below(r, 5) == 0 ? 0 : upf_rng_below(r, 65);
    /* quarter steps keep every product and sum exact in float, so sgemm and
     * the plain loop agree bit for bit and ties are real */
    c->uv = malloc((c->n_users * c->dim + 1) * sizeof(float));
    c->iv = malloc((c->n_items * c->dim + 1) * sizeof(float));
    for (size_t i = 0; i < c->n_users * c->dim; i++) c->uv[i] = 0.25f * (float)((int)upf_rng_below(r, 5) - 2);
    for (size_t i = 0; i < c->n_items * c->dim; i++) c->iv[i] = 0.25f * (float)((int)upf_rng_below(r, 5) - 2);
    if (upf_rng_below(r, 2)) {
        c->bias = malloc(c->n_items * sizeof(float));
        for (size_t i = 0; i < c->n_items; i++) c->bias[i] = 0.25f * (float)((int)upf_rng_below(r, 9) - 4);
    }
    int64_t *tp = calloc(c->n_users + 1, sizeof *tp), *sp = calloc(c->n_users + 1, sizeof *sp);
    int32_t *ti = malloc(c->n_users * c->n_items * sizeof *ti + 4), *si = malloc(c->n_users * c->n_items * sizeof *si + 4);
    float *tv = malloc(c->n_users * c->n_items * sizeof *tv + 4), *sv = malloc(c->n_users * c->n_items * sizeof *sv + 4);
    uint8_t *mark = malloc(c->n_items);
    size_t nt = 0, ns = 0;
    for (size_t u = 0; u < c->n_users; u++) {
        size_t mt = upf_rng_below(r, 20) == 0 ? c->n_items : upf_rng_below(r, (uint32_t)(c->n_items < 30 ? c->n_items : 30) + 1);
        nt += rnd_subset(r, c->n_items, mt, ti + nt, mark);
        for (size_t e = (size_t)tp[u]; e < nt; e++) tv[e] = 1.0f;
        tp[u + 1] = (int64_t)nt;
        size_t ms = upf_rng_below(r, 6) == 0 ? 0 : upf_rng_below(r, (uint32_t)(c->n_items < 10 ? c->n_items : 10) + 1);
        size_t s0 = ns;
        ns += rnd_subset(r, c->n_items, ms, si + ns, mark);
        for (size_t e = s0; e < ns; e++) {
            static const float grades[] = { 1, 1, 2, 3, 0.5f };
            sv[e] = grades[upf_rng_below(r, 5)];
        }
        sp[u + 1] = (int64_t)ns;
    }
    free(mark);
    c->train = (upf_csr){ c->n_users, c->n_items, tp, ti, tv, NULL };
    c->test = (upf_csr){ c->n_users, c->n_items, sp, si, sv, NULL };
}

static void rnd_free(rnd_case *c)
{
    free(c->uv);
    free(c->iv);
    free(c->bias);
    csr_release(&c->train);
    csr_release(&c->test);
}

static upf_scorer rnd_scorer(const rnd_case *c)
{
    upf_scorer s;
    memset(&s, 0, sizeof s);
    s.dim = c->dim;
    s.user_vecs = c->dim ? c->uv : NULL;
    s.item_vecs = c->dim ? c->iv : NULL;
    s.item_bias = c->bias;
    return s;
}

static size_t rnd_metrics(upf_rng *r, size_t n_items, int with_full, upf_metric_spec *out)
{
    static const upf_metric_kind cut_kinds[] = { UPF_METRIC_NDCG, UPF_METRIC_RECALL, UPF_METRIC_RECALL_CAPPED,
                                                 UPF_METRIC_PRECISION, UPF_METRIC_MAP, UPF_METRIC_MAP_CUT,
                                                 UPF_METRIC_MRR, UPF_METRIC_HIT_RATE, UPF_METRIC_COVERAGE,
                                                 UPF_METRIC_LONG_TAIL, UPF_METRIC_NOVELTY };
    size_t n = 0;
    for (size_t q = 0; q < sizeof cut_kinds / sizeof cut_kinds[0]; q++) {
        uint32_t k = 1 + upf_rng_below(r, (uint32_t)n_items + 6); /* sometimes beyond the catalogue */
        out[n++] = (upf_metric_spec){ cut_kinds[q], k };
    }
    out[n++] = (upf_metric_spec){ UPF_METRIC_NDCG, 1 };
    if (with_full) {
        out[n++] = (upf_metric_spec){ UPF_METRIC_AUC, 0 };
        out[n++] = (upf_metric_spec){ UPF_METRIC_MRR, 0 };
        out[n++] = (upf_metric_spec){ UPF_METRIC_NDCG, 0 };
        out[n++] = (upf_metric_spec){ UPF_METRIC_MAP, 0 };
    }
    return n;
}

static void assert_results_close(const upf_rank_eval_result *a, const upf_rank_eval_result *b, double tol, int trial)
{
    ck_assert_uint_eq(a->n_metrics, b->n_metrics);
    ck_assert_uint_eq(a->n_users_ranked, b->n_users_ranked);
    ck_assert_uint_eq(a->n_users_empty, b->n_users_empty);
    for (size_t m = 0; m < a->n_metrics; m++) {
        ck_assert_str_eq(a->names[m], b->names[m]);
        ck_assert_uint_eq(a->n_values[m], b->n_values[m]);
        double x = a->values[m], y = b->values[m];
        ck_assert_msg((isnan(x) && isnan(y)) || fabs(x - y) <= tol, "trial %d: %s fast %.17g ref %.17g", trial,
                      a->names[m], x, y);
    }
    ck_assert_uint_eq(a->n_users_per_user, b->n_users_per_user);
    for (size_t i = 0; i < a->n_users_per_user; i++) {
        ck_assert_int_eq(a->per_user_user[i], b->per_user_user[i]);
        for (size_t m = 0; m < a->n_metrics; m++) {
            double x = a->per_user[i * a->n_metrics + m], y = b->per_user[i * a->n_metrics + m];
            ck_assert_msg((isnan(x) && isnan(y)) || fabs(x - y) <= tol, "trial %d user %d: %s fast %.17g ref %.17g",
                          trial, (int)a->per_user_user[i], a->names[m], x, y);
        }
    }
}

START_TEST(test_fast_matches_reference)
{
    upf_rng r;
    upf_rng_seed(&r, 2024, 0);
    for (int trial = 0; trial < 400; trial++) {
        rnd_case c;
        rnd_make(&r, &c);
        upf_scorer sc = rnd_scorer(&c);
        upf_metric_spec ms[32];
        upf_rank_eval_params p = upf_rank_eval_params_default();
        p.metrics = ms;
        p.n_metrics = rnd_metrics(&r, c.n_items, trial % 2, ms);
        p.gain = (upf_gain)upf_rng_below(&r, 2);
        p.discount = (upf_discount)upf_rng_below(&r, 2);
        p.empty = (upf_empty_policy)upf_rng_below(&r, 3);
        p.exclude_train = upf_rng_below(&r, 4) != 0;
        p.graded = upf_rng_below(&r, 3) != 0;
        p.per_user = 1;
        p.threads = 1 + upf_rng_below(&r, 3);
        p.block_users = 1 + upf_rng_below(&r, 9);
        p.block_items = 1 + upf_rng_below(&r, 50);
        upf_rank_eval_result a, b;
        upf_err ea, eb;
        upf_status sa = upf_rank_evaluate(&sc, &c.train, &c.test, &p, &a, &ea);
        upf_status sb = upf_rank_evaluate_ref(&sc, &c.train, &c.test, &p, &b, &eb);
        ck_assert_msg(sa == sb, "trial %d: fast %s (%s), ref %s (%s)", trial, upf_status_str(sa), ea.msg,
                      upf_status_str(sb), eb.msg);
        if (sa == UPF_OK) assert_results_close(&a, &b, 1e-9, trial);
        else ck_assert_int_eq(sa, UPF_ERR_DATA); /* only: no training interactions for novelty */
        upf_rank_eval_result_free(&a);
        upf_rank_eval_result_free(&b);
        rnd_free(&c);
    }
}
END_TEST

/* A callback scorer computing the same quantized scores. */
static upf_status cb_score(void *ctx, const int32_t *users, size_t n_users, int32_t ib, int32_t ie, float *out)
{
    const rnd_case *c = ctx;
    for (size_t r = 0; r < n_users; r++)
        for (int32_t i = ib; i < ie; i++) {
            float acc = 0.0f;
            for (size_t d = 0; d < c->dim; d++) acc += c->uv[(size_t)users[r] * c->dim + d] * c->iv[(size_t)i * c->dim + d];
            if (c->bias) acc += c->bias[i];
            out[r * (size_t)(ie - ib) + (size_t)(i - ib)] = acc;
        }
    return UPF_OK;
}

START_TEST(test_callback_and_threads)
{
    upf_rng r;
    upf_rng_seed(&r, 99, 0);
    for (int trial = 0; trial < 40; trial++) {
        rnd_case c;
        rnd_make(&r, &c);
        upf_scorer fac = rnd_scorer(&c), cb;
        memset(&cb, 0, sizeof cb);
        cb.score_block = cb_score;
        cb.ctx = &c;
        upf_metric_spec ms[32];
        upf_rank_eval_params p = upf_rank_eval_params_default();
        p.metrics = ms;
        p.n_metrics = rnd_metrics(&r, c.n_items, 1, ms);
        p.per_user = 1;
        p.block_users = 3;
        p.block_items = 17;
        upf_rank_eval_result a, b, d;
        upf_err e;
        upf_status s1 = upf_rank_evaluate(&fac, &c.train, &c.test, &p, &a, &e);
        upf_status s2 = upf_rank_evaluate(&cb, &c.train, &c.test, &p, &b, &e);
        p.threads = 3;
        upf_status s3 = upf_rank_evaluate(&fac, &c.train, &c.test, &p, &d, &e);
        ck_assert_int_eq(s1, s2);
        ck_assert_int_eq(s1, s3);
        if (s1 == UPF_OK) {
            assert_results_close(&a, &b, 1e-12, trial);
            /* the thread count changes no bit */
            for (size_t m = 0; m < a.n_metrics; m++)
                ck_assert(memcmp(&a.values[m], &d.values[m], sizeof(double)) == 0);
        }
        upf_rank_eval_result_free(&a);
        upf_rank_eval_result_free(&b);
        upf_rank_eval_result_free(&d);
        rnd_free(&c);
    }
}
END_TEST

/* ---- failure paths ---- */

static upf_status cb_fail(void *ctx, const int32_t *users, size_t n_users, int32_t ib, int32_t ie, float *out)
{
    (void)ctx, (void)users, (void)n_users, (void)ib, (void)ie, (void)out;
    return UPF_ERR_IO;
}

static upf_status cb_nan(void *ctx, const int32_t *users, size_t n_users, int32_t ib, int32_t ie, float *out)
{
    (void)ctx, (void)users;
    for (size_t q = 0; q < n_users * (size_t)(ie - ib); q++) out[q] = q == 1 ? NAN : 1.0f;
    return UPF_OK;
}

static void assert_zeroed(const upf_rank_eval_result *r)
{
    ck_assert_ptr_null(r->values);
    ck_assert_ptr_null(r->names);
    ck_assert_uint_eq(r->n_metrics, 0);
}

START_TEST(test_failures)
{
    upf_csr tr = csr_make(4, 6, hand_train), te = csr_make(4, 6, hand_test), small = csr_make(3, 6, hand_test);
    upf_scorer sc;
    memset(&sc, 0, sizeof sc);
    sc.item_bias = hand_bias;
    upf_metric_spec ms[2] = { { UPF_METRIC_NDCG, 3 }, { UPF_METRIC_AUC, 0 } };
    upf_rank_eval_params p = upf_rank_eval_params_default();
    p.metrics = ms;
    p.n_metrics = 2;
    upf_rank_eval_result r;
    upf_err e;
    eval_fn fns[2] = { upf_rank_evaluate, upf_rank_evaluate_ref };
    for (int f = 0; f < 2; f++) {
        ck_assert_int_eq(fns[f](&sc, &tr, &small, &p, &r, &e), UPF_ERR_ARG);
        ck_assert_ptr_nonnull(strstr(e.msg, "4 x 6"));
        assert_zeroed(&r);
        /* unsorted row */
        te.idx[0] = 4, te.idx[1] = 3;
        ck_assert_int_eq(fns[f](&sc, &tr, &te, &p, &r, &e), UPF_ERR_DATA);
        ck_assert_ptr_nonnull(strstr(e.msg, "test: row 0"));
        te.idx[0] = 3, te.idx[1] = 4;
        /* item out of range */
        tr.idx[0] = 6;
        ck_assert_int_eq(fns[f](&sc, &tr, &te, &p, &r, &e), UPF_ERR_DATA);
        tr.idx[0] = 2;
        /* NaN bias */
        float bad[6];
        memcpy(bad, hand_bias, sizeof bad);
        bad[3] = NAN;
        sc.item_bias = bad;
        ck_assert_int_eq(fns[f](&sc, &tr, &te, &p, &r, &e), UPF_ERR_NUMERIC);
        ck_assert_ptr_nonnull(strstr(e.msg, "item 3"));
        sc.item_bias = hand_bias;
        /* dim without vectors */
        sc.dim = 4;
        ck_assert_int_eq(fns[f](&sc, &tr, &te, &p, &r, &e), UPF_ERR_ARG);
        sc.dim = 0;
        /* params */
        p.n_metrics = 0;
        ck_assert_int_eq(fns[f](&sc, &tr, &te, &p, &r, &e), UPF_ERR_ARG);
        p.n_metrics = 2;
        p.head_share = 0;
        ck_assert_int_eq(fns[f](&sc, &tr, &te, &p, &r, &e), UPF_ERR_ARG);
        p.head_share = 0.8;
        ms[0].k = 0; /* ndcg@0 is not a name; "ndcg" is k = 0 and fine, so use precision */
        ms[0].kind = UPF_METRIC_PRECISION;
        ck_assert_int_eq(fns[f](&sc, &tr, &te, &p, &r, &e), UPF_ERR_ARG);
        ms[0] = (upf_metric_spec){ UPF_METRIC_NDCG, 3 };
        /* callbacks: an error and a NaN */
        upf_scorer cb;
        memset(&cb, 0, sizeof cb);
        cb.score_block = cb_fail;
        ck_assert_int_eq(fns[f](&cb, &tr, &te, &p, &r, &e), UPF_ERR_IO);
        assert_zeroed(&r);
        cb.score_block = cb_nan;
        ck_assert_int_eq(fns[f](&cb, &tr, &te, &p, &r, &e), UPF_ERR_NUMERIC);
        /* interrupted */
        upf_set_interrupted(1);
        ck_assert_int_eq(fns[f](&sc, &tr, &te, &p, &r, &e), UPF_ERR_INTERRUPTED);
        upf_set_interrupted(0);
        assert_zeroed(&r);
    }
    csr_release(&tr);
    csr_release(&te);
    csr_release(&small);
}
END_TEST

START_TEST(test_alloc_failure)
{
    upf_rng rg;
    upf_rng_seed(&rg, 5, 0);
    rnd_case c;
    do {
        rnd_make(&rg, &c);
        if (upf_csr_nnz(&c.train) > 0 && upf_csr_nnz(&c.test) > 0 && c.dim > 0) break;
        rnd_free(&c);
    } while (1);
    upf_scorer sc = rnd_scorer(&c);
    upf_metric_spec ms[32];
    upf_rank_eval_params p = upf_rank_eval_params_default();
    p.metrics = ms;
    p.n_metrics = rnd_metrics(&rg, c.n_items, 1, ms);
    p.per_user = 1;
    p.threads = 2;
    eval_fn fns[2] = { upf_rank_evaluate, upf_rank_evaluate_ref };
    for (int f = 0; f < 2; f++)
        for (long nth = 1;; nth++) {
            upf_rank_eval_result r;
            upf_err e;
            upf_alloc_fail_after(nth);
            upf_status st = fns[f](&sc, &c.train, &c.test, &p, &r, &e);
            upf_alloc_fail_after(0);
            if (st == UPF_OK) {
                ck_assert_uint_gt(nth, 5);
                upf_rank_eval_result_free(&r);
                break;
            }
            ck_assert_msg(st == UPF_ERR_NOMEM, "allocation %ld: %s (%s)", nth, upf_status_str(st), e.msg);
            assert_zeroed(&r);
        }
    rnd_free(&c);
}
END_TEST

Suite *rank_eval_suite(void)
{
    Suite *s = suite_create("rank_eval");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_hand_case_ref);
    tcase_add_test(tc, test_hand_case_fast);
    tcase_add_test(tc, test_fast_matches_reference);
    tcase_add_test(tc, test_callback_and_threads);
    tcase_add_test(tc, test_failures);
    tcase_add_test(tc, test_alloc_failure);
    suite_add_tcase(s, tc);
    return s;
}
