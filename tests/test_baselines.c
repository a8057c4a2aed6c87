/* test_baselines.c - popularity and co-occurrence against hand-computed
 * values on tiny matrices, the co-occurrence scorer's block path against its
 * plain reference, and thread-count independence. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../model/rng.h"
#include "../train/baselines.h"
#include "testutil.h"

/* A CSR from dense rows: m[u][i] = grade (0: absent), times t[u][i]. */
static void csr_from_dense(upf_csr *c, size_t rows, size_t cols, const float *m, const int64_t *t)
{
    memset(c, 0, sizeof *c);
    c->n_rows = rows;
    c->n_cols = cols;
    c->ptr = upf_calloc(rows + 1, sizeof *c->ptr);
    c->idx = upf_malloc(rows * cols * sizeof *c->idx + 4);
    c->val = upf_malloc(rows * cols * sizeof *c->val + 4);
    c->time = t ? upf_malloc(rows * cols * sizeof *c->time + 8) : NULL;
    int64_t k = 0;
    for (size_t u = 0; u < rows; u++) {
        for (size_t i = 0; i < cols; i++)
            if (m[u * cols + i] > 0) {
                c->idx[k] = (int32_t)i;
                c->val[k] = m[u * cols + i];
                if (t) c->time[k] = t[u * cols + i];
                k++;
            }
        c->ptr[u + 1] = k;
    }
}

static void csr_release(upf_csr *c)
{
    upf_free(c->ptr);
    upf_free(c->idx);
    upf_free(c->val);
    upf_free(c->time);
    memset(c, 0, sizeof *c);
}

/* 4 users x 4 items */
static const float M[16] = {
    1, 1, 0, 0, /* u0: items 0, 1 */
    1, 1, 1, 0, /* u1: 0, 1, 2 */
    3, 0, 1, 0, /* u2: 0 (grade 3), 2 */
    0, 0, 0, 2, /* u3: 3 */
};

START_TEST(test_popularity_counts)
{
    upf_csr c;
    int64_t day = 86400;
    const int64_t T[16] = { 0, 10 * day, 0, 0, 20 * day, 20 * day, 10 * day, 0, 30 * day, 0, 0, 0, 0, 0, 0, 30 * day };
    csr_from_dense(&c, 4, 4, M, T);
    float s[4];
    upf_err err;
    upf_popularity_params p = upf_popularity_params_default(0);
    ck_assert_int_eq(upf_popularity_scores(&c, &p, s, &err), UPF_OK);
    ck_assert(s[0] == 3 && s[1] == 2 && s[2] == 2 && s[3] == 1);
    p.weighting = 1; /* sum of grades */
    ck_assert_int_eq(upf_popularity_scores(&c, &p, s, &err), UPF_OK);
    ck_assert(s[0] == 5 && s[1] == 2 && s[2] == 2 && s[3] == 2);
    /* half-life 10 days, t_end = day 30: weights 2^-(30 - t)/10 */
    p = upf_popularity_params_default(1);
    p.half_life_days = 10;
    ck_assert_int_eq(upf_popularity_scores(&c, &p, s, &err), UPF_OK);
    ck_assert_double_eq_tol(s[0], 0.125 + 0.5 + 1.0, 1e-6);
    ck_assert_double_eq_tol(s[1], 0.25 + 0.5, 1e-6);
    ck_assert_double_eq_tol(s[2], 0.25 + 0.125, 1e-6);
    ck_assert_double_eq_tol(s[3], 1.0, 1e-6);
    /* decay needs times */
    upf_free(c.time);
    c.time = NULL;
    ck_assert_int_eq(upf_popularity_scores(&c, &p, s, &err), UPF_ERR_DATA);
    csr_release(&c);
}
END_TEST

START_TEST(test_cooccur_hand)
{
    upf_csr c;
    csr_from_dense(&c, 4, 4, M, NULL);
    upf_err err;
    upf_cooccur_model m;
    upf_cooccur_params p = upf_cooccur_params_default();
    ck_assert_int_eq(upf_cooccur_build(&c, &p, 1, &m, &err), UPF_OK);
    /* n = (3, 2, 2, 1); c(0,1) = 2, c(0,2) = 2, c(1,2) = 1; item 3 has none */
    ck_assert_uint_eq(m.n_items, 4);
    ck_assert_int_eq(m.ptr[1] - m.ptr[0], 2);
    ck_assert_int_eq(m.idx[0], 1);
    ck_assert_int_eq(m.idx[1], 2);
    ck_assert_double_eq_tol(m.sim[0], 2 / sqrt(6.0), 1e-6);
    ck_assert_double_eq_tol(m.sim[1], 2 / sqrt(6.0), 1e-6);
    ck_assert_int_eq(m.ptr[2] - m.ptr[1], 2); /* item 1: 0 and 2 */
    ck_assert_int_eq(m.idx[m.ptr[1] + 1], 2);
    ck_assert_double_eq_tol(m.sim[m.ptr[1] + 1], 1 / sqrt(4.0), 1e-6);
    ck_assert_int_eq(m.ptr[4] - m.ptr[3], 0);
    /* scores: u3 has item 3 only, no neighbours -> zeros; u0 = sim(0,.) + sim(1,.) */
    double ref[4];
    upf_cooccur_score_user_ref(&m, &c, 0, ref);
    ck_assert_double_eq_tol(ref[2], 2 / sqrt(6.0) + 0.5, 1e-6);
    ck_assert_double_eq_tol(ref[0], 2 / sqrt(6.0), 1e-6);
    upf_cooccur_free(&m);

    /* conditional probability with alpha 0: c / n(j) */
    p.similarity = 1;
    p.alpha = 0;
    ck_assert_int_eq(upf_cooccur_build(&c, &p, 1, &m, &err), UPF_OK);
    ck_assert_double_eq_tol(m.sim[0], 2.0 / 3.0, 1e-6);
    ck_assert_double_eq_tol(m.sim[m.ptr[1]], 1.0, 1e-6); /* c(1,0) / n(1) = 2/2 */
    upf_cooccur_free(&m);

    /* top-1 keeps the most similar (ties: the lower item), min_count 2 drops c = 1 */
    p = upf_cooccur_params_default();
    p.neighbors = 1;
    ck_assert_int_eq(upf_cooccur_build(&c, &p, 1, &m, &err), UPF_OK);
    ck_assert_int_eq(m.ptr[1], 1);
    ck_assert_int_eq(m.idx[0], 1);
    upf_cooccur_free(&m);
    p = upf_cooccur_params_default();
    p.min_count = 2;
    ck_assert_int_eq(upf_cooccur_build(&c, &p, 1, &m, &err), UPF_OK);
    ck_assert_int_eq(m.ptr[2] - m.ptr[1], 1); /* item 1 keeps only 0 */
    upf_cooccur_free(&m);
    /* max_user_items 2 leaves u1 out: c(0,1) = 1, c(0,2) = 1, c(1,2) = 0 */
    p = upf_cooccur_params_default();
    p.max_user_items = 2;
    ck_assert_int_eq(upf_cooccur_build(&c, &p, 1, &m, &err), UPF_OK);
    ck_assert_int_eq(m.ptr[2] - m.ptr[1], 1);
    ck_assert_double_eq_tol(m.sim[0], 1 / sqrt(2.0 * 1.0), 1e-6); /* n(0) = 2, n(1) = 1 */
    upf_cooccur_free(&m);
    csr_release(&c);
}
END_TEST

START_TEST(test_cooccur_threads_and_blocks)
{
    /* random 300 x 500 matrix */
    size_t U = 300, I = 500;
    float *d = calloc(U * I, sizeof *d);
    upf_rng r;
    upf_rng_seed(&r, 9, 0);
    for (size_t u = 0; u < U; u++)
        for (int k = 0; k < 12; k++) d[u * I + (upf_rng_below(&r, (uint32_t)(I / 3)) * (1 + u % 3)) % I] = 1;
    upf_csr c;
    csr_from_dense(&c, U, I, d, NULL);
    upf_err err;
    upf_cooccur_params p = upf_cooccur_params_default();
    p.neighbors = 20;
    upf_cooccur_model a, b;
    ck_assert_int_eq(upf_cooccur_build(&c, &p, 1, &a, &err), UPF_OK);
    ck_assert_int_eq(upf_cooccur_build(&c, &p, 3, &b, &err), UPF_OK);
    ck_assert_int_eq(a.ptr[I], b.ptr[I]);
    ck_assert_int_eq(memcmp(a.ptr, b.ptr, (I + 1) * sizeof *a.ptr), 0);
    ck_assert_int_eq(memcmp(a.idx, b.idx, (size_t)a.ptr[I] * sizeof *a.idx), 0);
    ck_assert_int_eq(memcmp(a.sim, b.sim, (size_t)a.ptr[I] * sizeof *a.sim), 0);
    for (size_t j = 0; j < I; j++) {
        ck_assert_int_le(a.ptr[j + 1] - a.ptr[j], 20);
        for (int64_t e = a.ptr[j] + 1; e < a.ptr[j + 1]; e++) ck_assert_int_lt(a.idx[e - 1], a.idx[e]);
    }
    /* the block scorer equals the reference on a few users and an odd item window */
    upf_cooccur_scorer_ctx ctx = { &a, &c };
    upf_scorer s = upf_cooccur_scorer(&ctx);
    int32_t users[3] = { 0, 17, 299 };
    float out[3 * 123];
    ck_assert_int_eq(s.score_block(s.ctx, users, 3, 200, 323, out), UPF_OK);
    double *ref = malloc(I * sizeof *ref), got[123], want[123];
    for (int k = 0; k < 3; k++) {
        upf_cooccur_score_user_ref(&a, &c, (size_t)users[k], ref);
        for (int i = 0; i < 123; i++) {
            got[i] = out[k * 123 + i];
            want[i] = ref[200 + i];
        }
        upf_ck_arrays_close(got, want, 123, 1e-6, 1e-6);
    }
    free(ref);
    upf_cooccur_free(&a);
    upf_cooccur_free(&b);
    csr_release(&c);
    free(d);
}
END_TEST

START_TEST(test_cooccur_alloc_failures)
{
    upf_csr c;
    csr_from_dense(&c, 4, 4, M, NULL);
    upf_cooccur_params p = upf_cooccur_params_default();
    upf_status st = UPF_ERR_NOMEM;
    for (long n = 1; n < 200 && st == UPF_ERR_NOMEM; n++) {
        upf_cooccur_model m;
        upf_err err;
        upf_alloc_fail_after(n);
        st = upf_cooccur_build(&c, &p, 1, &m, &err);
        upf_alloc_fail_after(0);
        if (st == UPF_OK) upf_cooccur_free(&m);
        else ck_assert_msg(st == UPF_ERR_NOMEM && m.ptr == NULL, "allocation %ld: %s", n, upf_status_str(st));
    }
    ck_assert_int_eq(st, UPF_OK);
    csr_release(&c);
}
END_TEST

Suite *baselines_suite(void)
{
    Suite *s = suite_create("baselines");
    TCase *t = tcase_create("baselines");
    tcase_add_test(t, test_popularity_counts);
    tcase_add_test(t, test_cooccur_hand);
    tcase_add_test(t, test_cooccur_threads_and_blocks);
    tcase_add_test(t, test_cooccur_alloc_failures);
    suite_add_tcase(s, t);
    return s;
}
