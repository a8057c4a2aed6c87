/* test_interactions.c - the interaction matrix and the splits: building from
 * events (type mask, min_rating, grades, time bounds, dedupe keeping the max
 * grade and the first time), copy / has / transpose, and the three splits
 * (exact counts, nothing lost or duplicated, determinism, per-user
 * independence, edge cases, the temporal boundary second), bad parameters
 * and allocation failures. MovieLens 100K counts behind UPF_CHECK_DATA. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../datasets/dataset.h"
#include "../datasets/interactions.h"
#include "testutil.h"

/* u0: view i0 @10, purchase i0 @20 (grade 3, first time 10), cart i1 @15,
 *     rating 2 of i2 @30 (below min_rating 3 when set), search @40
 * u1: rating 5 of i2 @5, rating 4 of i2 @50 (max grade 1, first time 5),
 *     return i1 @60
 * u2: nothing
 * u3: view i3 @100, view i1 @200, purchase i3 @300 */
static upf_dataset *small_ds(void)
{
    upf_builder *b = NULL;
    upf_dataset *ds = NULL;
    upf_err err;
    ck_assert_int_eq(upf_builder_create(&b, &err), UPF_OK);
    int32_t u[4], it[4];
    char id[8];
    for (int k = 0; k < 4; k++) {
        snprintf(id, sizeof id, "u%d", k);
        u[k] = upf_builder_user(b, id, strlen(id));
        snprintf(id, sizeof id, "i%d", k);
        it[k] = upf_builder_item(b, id, strlen(id));
    }
    int32_t q = upf_builder_query(b, "mugs", 4);
    upf_builder_event(b, u[0], it[0], 20, UPF_EV_PURCHASE, 9.0f, -1);
    upf_builder_event(b, u[0], it[0], 10, UPF_EV_VIEW, 0, -1);
    upf_builder_event(b, u[0], it[1], 15, UPF_EV_CART, 1, -1);
    upf_builder_event(b, u[0], it[2], 30, UPF_EV_RATING, 2, -1);
    upf_builder_event(b, u[0], -1, 40, UPF_EV_SEARCH, 0, q);
    upf_builder_event(b, u[1], it[2], 5, UPF_EV_RATING, 5, -1);
    upf_builder_event(b, u[1], it[2], 50, UPF_EV_RATING, 4, -1);
    upf_builder_event(b, u[1], it[1], 60, UPF_EV_RETURN, 3, -1);
    upf_builder_event(b, u[3], it[3], 100, UPF_EV_VIEW, 0, -1);
    upf_builder_event(b, u[3], it[1], 200, UPF_EV_VIEW, 0, -1);
    upf_builder_event(b, u[3], it[3], 300, UPF_EV_PURCHASE, 1, -1);
    ck_assert_int_eq(upf_builder_finish(b, &ds, &err), UPF_OK);
    return ds;
}

static void expect_row(const upf_csr *m, size_t u, int n, const int32_t *idx, const float *val, const int64_t *time)
{
    ck_assert_int_eq(m->ptr[u + 1] - m->ptr[u], n);
    for (int k = 0; k < n; k++) {
        int64_t e = m->ptr[u] + k;
        ck_assert_int_eq(m->idx[e], idx[k]);
        if (val) ck_assert(m->val[e] == val[k]);
        if (time) ck_assert_int_eq(m->time[e], time[k]);
    }
}

START_TEST(test_build_default)
{
    upf_dataset *ds = small_ds();
    upf_interaction_params p = upf_interaction_params_default();
    upf_csr m;
    upf_err err;
    ck_assert_int_eq(upf_interactions_build(ds, &p, &m, &err), UPF_OK);
    ck_assert_uint_eq(m.n_rows, 4);
    ck_assert_uint_eq(m.n_cols, 4);
    expect_row(&m, 0, 3, (const int32_t[]){ 0, 1, 2 }, (const float[]){ 3, 2, 1 }, (const int64_t[]){ 10, 15, 30 });
    expect_row(&m, 1, 1, (const int32_t[]){ 2 }, (const float[]){ 1 }, (const int64_t[]){ 5 }); /* return not counted */
    expect_row(&m, 2, 0, NULL, NULL, NULL);
    expect_row(&m, 3, 2, (const int32_t[]){ 1, 3 }, (const float[]){ 1, 3 }, (const int64_t[]){ 200, 100 });
    ck_assert_int_eq(upf_csr_nnz(&m), 6);
    upf_csr_free(&m);
    upf_csr_free(&m); /* a zeroed struct is fine */
    upf_dataset_free(ds);
}
END_TEST

START_TEST(test_build_filters)
{
    upf_dataset *ds = small_ds();
    upf_csr m;
    upf_err err;
    /* ratings >= 3 only, binary */
    upf_interaction_params p = upf_interaction_params_default();
    p.types = 1u << UPF_EV_RATING;
    p.min_rating = 3;
    ck_assert_int_eq(upf_interactions_build(ds, &p, &m, &err), UPF_OK);
    ck_assert_int_eq(upf_csr_nnz(&m), 1);
    expect_row(&m, 1, 1, (const int32_t[]){ 2 }, (const float[]){ 1 }, (const int64_t[]){ 5 });
    upf_csr_free(&m);
    /* purchases and returns with custom grades, in [15, 300) */
    p = upf_interaction_params_default();
    p.types = (1u << UPF_EV_PURCHASE) | (1u << UPF_EV_RETURN) | (1u << UPF_EV_VIEW);
    p.grade[UPF_EV_RETURN] = 0.5f;
    p.time_begin = 15;
    p.time_end = 300;
    ck_assert_int_eq(upf_interactions_build(ds, &p, &m, &err), UPF_OK);
    expect_row(&m, 0, 1, (const int32_t[]){ 0 }, (const float[]){ 3 }, (const int64_t[]){ 20 });
    expect_row(&m, 1, 1, (const int32_t[]){ 1 }, (const float[]){ 0.5f }, (const int64_t[]){ 60 });
    expect_row(&m, 3, 2, (const int32_t[]){ 1, 3 }, (const float[]){ 1, 1 }, (const int64_t[]){ 200, 100 });
    upf_csr_free(&m);
    /* time_end is exclusive: [0, 10) keeps nothing of u0's item 0 */
    p = upf_interaction_params_default();
    p.time_begin = 0;
    p.time_end = 10;
    ck_assert_int_eq(upf_interactions_build(ds, &p, &m, &err), UPF_OK);
    ck_assert_int_eq(upf_csr_nnz(&m), 1); /* u1's rating at 5 */
    upf_csr_free(&m);
    upf_dataset_free(ds);
}
END_TEST

START_TEST(test_build_bad_params)
{
    upf_dataset *ds = small_ds();
    upf_csr m;
    upf_err err;
    upf_interaction_params p = upf_interaction_params_default();
    p.types = 0;
    ck_assert_int_eq(upf_interactions_build(ds, &p, &m, &err), UPF_ERR_ARG);
    ck_assert_ptr_null(m.ptr);
    p.types = 1u; /* bit 0 is "none" */
    ck_assert_int_eq(upf_interactions_build(ds, &p, &m, &err), UPF_ERR_ARG);
    p = upf_interaction_params_default();
    p.grade[UPF_EV_CART] = 0;
    ck_assert_int_eq(upf_interactions_build(ds, &p, &m, &err), UPF_ERR_ARG);
    ck_assert_msg(strstr(err.msg, "grade of cart events is 0"), "%s", err.msg);
    p = upf_interaction_params_default();
    p.time_begin = 5;
    p.time_end = 5;
    ck_assert_int_eq(upf_interactions_build(ds, &p, &m, &err), UPF_ERR_ARG);
    ck_assert_msg(strstr(err.msg, "is empty"), "%s", err.msg);
    upf_dataset_free(ds);
}
END_TEST

/* A random matrix: row u has (u * 7) % 23 entries over 60 columns, times spread. */
static void random_csr(upf_csr *m, size_t rows)
{
    m->n_rows = rows;
    m->n_cols = 60;
    m->ptr = upf_calloc(rows + 1, sizeof *m->ptr);
    size_t nnz = 0;
    for (size_t u = 0; u < rows; u++) nnz += (u * 7) % 23;
    m->idx = upf_malloc(nnz * sizeof *m->idx + 1);
    m->val = upf_malloc(nnz * sizeof *m->val + 1);
    m->time = upf_malloc(nnz * sizeof *m->time + 1);
    size_t w = 0;
    for (size_t u = 0; u < rows; u++) {
        size_t n = (u * 7) % 23;
        for (size_t k = 0; k < n; k++, w++) {
            m->idx[w] = (int32_t)(k * 2 + u % 2);
            m->val[w] = (float)(1 + (u + k) % 3);
            m->time[w] = (int64_t)((u * 31 + k * 17) % 101);
        }
        m->ptr[u + 1] = (int64_t)w;
    }
}

START_TEST(test_copy_has_transpose)
{
    upf_csr m, c, t, tt;
    upf_err err;
    random_csr(&m, 50);
    ck_assert_int_eq(upf_csr_copy(&m, &c, &err), UPF_OK);
    ck_assert_int_eq(upf_csr_nnz(&c), upf_csr_nnz(&m));
    ck_assert(memcmp(c.idx, m.idx, (size_t)upf_csr_nnz(&m) * 4) == 0);
    ck_assert(memcmp(c.time, m.time, (size_t)upf_csr_nnz(&m) * 8) == 0);
    for (size_t u = 0; u < m.n_rows; u++)
        for (int32_t j = -1; j <= 60; j++) {
            int want = 0;
            for (int64_t k = m.ptr[u]; k < m.ptr[u + 1]; k++) want |= m.idx[k] == j;
            ck_assert_int_eq(upf_csr_has(&m, u, j), want);
        }
    ck_assert_int_eq(upf_csr_has(&m, 50, 0), 0);
    ck_assert_int_eq(upf_csr_transpose(&m, &t, &err), UPF_OK);
    ck_assert_uint_eq(t.n_rows, 60);
    ck_assert_uint_eq(t.n_cols, 50);
    for (size_t j = 0; j < t.n_rows; j++)
        for (int64_t k = t.ptr[j]; k < t.ptr[j + 1]; k++) {
            if (k > t.ptr[j]) ck_assert_int_lt(t.idx[k - 1], t.idx[k]);
            ck_assert(upf_csr_has(&m, (size_t)t.idx[k], (int32_t)j));
        }
    ck_assert_int_eq(upf_csr_transpose(&t, &tt, &err), UPF_OK);
    ck_assert(memcmp(tt.ptr, m.ptr, (m.n_rows + 1) * 8) == 0);
    ck_assert(memcmp(tt.idx, m.idx, (size_t)upf_csr_nnz(&m) * 4) == 0);
    ck_assert(memcmp(tt.val, m.val, (size_t)upf_csr_nnz(&m) * 4) == 0);
    ck_assert(memcmp(tt.time, m.time, (size_t)upf_csr_nnz(&m) * 8) == 0);
    upf_csr_free(&c);
    m.idx[3] = 99; /* out of range */
    ck_assert_int_eq(upf_csr_transpose(&m, &c, &err), UPF_ERR_ARG);
    ck_assert_ptr_null(c.ptr);
    upf_csr_free(&m);
    upf_csr_free(&t);
    upf_csr_free(&tt);
}
END_TEST

/* train and test partition all: same shape, each entry in exactly one, with
 * its value and time, indices ascending in both. */
static void check_partition(const upf_csr *all, const upf_csr *tr, const upf_csr *te)
{
    ck_assert_uint_eq(tr->n_rows, all->n_rows);
    ck_assert_uint_eq(te->n_cols, all->n_cols);
    ck_assert_int_eq(upf_csr_nnz(tr) + upf_csr_nnz(te), upf_csr_nnz(all));
    for (size_t u = 0; u < all->n_rows; u++) {
        int64_t a = tr->ptr[u], b = te->ptr[u];
        for (int64_t k = all->ptr[u]; k < all->ptr[u + 1]; k++) {
            int in_tr = a < tr->ptr[u + 1] && tr->idx[a] == all->idx[k];
            int in_te = b < te->ptr[u + 1] && te->idx[b] == all->idx[k];
            ck_assert_msg(in_tr + in_te == 1, "row %zu item %d in train %d test %d", u, all->idx[k], in_tr, in_te);
            const upf_csr *m = in_tr ? tr : te;
            int64_t e = in_tr ? a++ : b++;
            ck_assert(m->val[e] == all->val[k]);
            ck_assert_int_eq(m->time[e], all->time[k]);
        }
        ck_assert_int_eq(a, tr->ptr[u + 1]);
        ck_assert_int_eq(b, te->ptr[u + 1]);
    }
}

START_TEST(test_split_random_counts)
{
    upf_csr all, tr, te;
    upf_err err;
    random_csr(&all, 200);
    upf_split_params p = upf_split_params_default();
    ck_assert_int_eq(p.kind, UPF_SPLIT_RANDOM);
    ck_assert_int_eq(upf_split_csr(&all, &p, &tr, &te, &err), UPF_OK);
    check_partition(&all, &tr, &te);
    /* Hand-computed: n = 1 stays in train (min_entries 2); n = 2, 3, 4, 7
     * give 1 (max(1, round(0.4)), round(0.6), round(0.8), round(1.4)); n = 8
     * gives 2 (round(1.6)); n = 22 gives 4 (round(4.4)); n = 13 gives 3. */
    static const size_t want[][2] = { { 0, 0 }, { 1, 0 }, { 2, 1 }, { 3, 1 }, { 4, 1 }, { 7, 1 }, { 8, 2 }, { 13, 3 }, { 22, 4 } };
    for (size_t u = 0; u < all.n_rows; u++) {
        size_t n = (size_t)(all.ptr[u + 1] - all.ptr[u]), got = (size_t)(te.ptr[u + 1] - te.ptr[u]);
        for (size_t k = 0; k < sizeof want / sizeof want[0]; k++)
            if (want[k][0] == n) ck_assert_msg(got == want[k][1], "n %zu: %zu in test, want %zu", n, got, want[k][1]);
        size_t expect = n < 2 ? 0 : (size_t)fmax(1.0, round(0.2 * (double)n));
        ck_assert_uint_eq(got, expect);
    }
    upf_csr tr2, te2;
    ck_assert_int_eq(upf_split_csr(&all, &p, &tr2, &te2, &err), UPF_OK); /* deterministic */
    ck_assert(memcmp(te.idx, te2.idx, (size_t)upf_csr_nnz(&te) * 4) == 0);
    upf_csr_free(&tr2);
    upf_csr_free(&te2);
    p.seed = 43; /* another seed, another split (same counts) */
    ck_assert_int_eq(upf_split_csr(&all, &p, &tr2, &te2, &err), UPF_OK);
    ck_assert_int_eq(upf_csr_nnz(&te2), upf_csr_nnz(&te));
    ck_assert(memcmp(te.idx, te2.idx, (size_t)upf_csr_nnz(&te) * 4) != 0);
    upf_csr_free(&tr2);
    upf_csr_free(&te2);
    upf_csr_free(&tr);
    upf_csr_free(&te);
    upf_csr_free(&all);
}
END_TEST

/* A user's random split depends on (seed, user) only: emptying other rows
 * does not change it. And every position is drawn about equally often. */
START_TEST(test_split_random_independent_uniform)
{
    upf_csr all, tr, te, tr2, te2;
    upf_err err;
    random_csr(&all, 200);
    upf_split_params p = upf_split_params_default();
    ck_assert_int_eq(upf_split_csr(&all, &p, &tr, &te, &err), UPF_OK);
    upf_csr part;
    ck_assert_int_eq(upf_csr_copy(&all, &part, &err), UPF_OK);
    /* keep rows 10 and 150 only: drop the others' entries */
    int64_t w = 0;
    for (size_t u = 0; u < part.n_rows; u++) {
        int64_t b = all.ptr[u], e = all.ptr[u + 1];
        if (u == 10 || u == 150)
            for (int64_t k = b; k < e; k++, w++) part.idx[w] = all.idx[k], part.val[w] = all.val[k], part.time[w] = all.time[k];
        part.ptr[u + 1] = w;
    }
    ck_assert_int_eq(upf_split_csr(&part, &p, &tr2, &te2, &err), UPF_OK);
    for (size_t u = 10; u <= 150; u += 140) {
        ck_assert_int_eq(te2.ptr[u + 1] - te2.ptr[u], te.ptr[u + 1] - te.ptr[u]);
        ck_assert(memcmp(te2.idx + te2.ptr[u], te.idx + te.ptr[u], (size_t)(te.ptr[u + 1] - te.ptr[u]) * 4) == 0);
    }
    upf_csr_free(&tr2);
    upf_csr_free(&te2);
    upf_csr_free(&part);
    /* Uniformity: over 4000 users of 10 entries each, each position goes to
     * test with p = 0.2: expected 800, sd 25.3; allow 5 sd. */
    upf_csr big = { 0 };
    big.n_rows = 4000;
    big.n_cols = 10;
    big.ptr = upf_calloc(4001, 8);
    big.idx = upf_malloc(40000 * 4);
    big.val = upf_malloc(40000 * 4);
    for (int u = 0; u < 4000; u++) {
        for (int k = 0; k < 10; k++) big.idx[u * 10 + k] = k, big.val[u * 10 + k] = 1;
        big.ptr[u + 1] = (u + 1) * 10;
    }
    ck_assert_int_eq(upf_split_csr(&big, &p, &tr2, &te2, &err), UPF_OK);
    int count[10] = { 0 };
    for (int64_t k = 0; k < upf_csr_nnz(&te2); k++) count[te2.idx[k]]++;
    for (int k = 0; k < 10; k++) ck_assert_msg(abs(count[k] - 800) < 127, "position %d drawn %d times", k, count[k]);
    ck_assert_ptr_null(te2.time);
    upf_csr_free(&tr2);
    upf_csr_free(&te2);
    upf_csr_free(&big);
    upf_csr_free(&tr);
    upf_csr_free(&te);
    upf_csr_free(&all);
}
END_TEST

START_TEST(test_split_edges)
{
    upf_csr all = { 0 }, tr, te;
    upf_err err;
    /* rows: empty, one entry, two entries */
    all.n_rows = 3;
    all.n_cols = 5;
    all.ptr = upf_calloc(4, 8);
    all.idx = upf_malloc(3 * 4);
    all.val = upf_malloc(3 * 4);
    all.time = upf_malloc(3 * 8);
    all.ptr[1] = 0, all.ptr[2] = 1, all.ptr[3] = 3;
    all.idx[0] = 4, all.idx[1] = 0, all.idx[2] = 3;
    all.val[0] = all.val[1] = all.val[2] = 1;
    all.time[0] = 100, all.time[1] = 200, all.time[2] = 100;
    upf_split_params p = upf_split_params_default();
    ck_assert_int_eq(upf_split_csr(&all, &p, &tr, &te, &err), UPF_OK);
    ck_assert_int_eq(upf_csr_nnz(&te), 1); /* the 2-entry user gives max(1, round(0.4)) = 1 */
    ck_assert_int_eq(te.ptr[3] - te.ptr[2], 1);
    upf_csr_free(&tr), upf_csr_free(&te);
    p.min_entries = 1; /* now the single entry goes to test: all of that user in test */
    ck_assert_int_eq(upf_split_csr(&all, &p, &tr, &te, &err), UPF_OK);
    ck_assert_int_eq(te.ptr[2] - te.ptr[1], 1);
    ck_assert_int_eq(tr.ptr[2] - tr.ptr[1], 0);
    upf_csr_free(&tr), upf_csr_free(&te);
    p.min_entries = 2;
    p.test_frac = 0.9; /* round(1.8) = 2: all of the 2-entry user in test */
    ck_assert_int_eq(upf_split_csr(&all, &p, &tr, &te, &err), UPF_OK);
    ck_assert_int_eq(te.ptr[3] - te.ptr[2], 2);
    ck_assert_int_eq(upf_csr_nnz(&tr), 1);
    check_partition(&all, &tr, &te);
    upf_csr_free(&tr), upf_csr_free(&te);
    /* an all-empty matrix */
    upf_csr none = { 0 };
    none.n_rows = 2;
    none.ptr = upf_calloc(3, 8);
    ck_assert_int_eq(upf_split_csr(&none, &p, &tr, &te, &err), UPF_OK);
    ck_assert_int_eq(upf_csr_nnz(&tr) + upf_csr_nnz(&te), 0);
    upf_csr_free(&tr), upf_csr_free(&te), upf_csr_free(&none);
    upf_csr_free(&all);
}
END_TEST

START_TEST(test_split_last_n)
{
    upf_csr all, tr, te;
    upf_err err;
    random_csr(&all, 120);
    upf_split_params p = upf_split_params_default();
    p.kind = UPF_SPLIT_LAST_N;
    p.last_n = 2;
    p.min_entries = 3;
    ck_assert_int_eq(upf_split_csr(&all, &p, &tr, &te, &err), UPF_OK);
    check_partition(&all, &tr, &te);
    for (size_t u = 0; u < all.n_rows; u++) {
        int64_t n = all.ptr[u + 1] - all.ptr[u], nt = te.ptr[u + 1] - te.ptr[u];
        ck_assert_int_eq(nt, n < 3 ? 0 : 2);
        /* every test entry is at least as late as every train entry; at equal
         * times the higher item index counts as later */
        for (int64_t a = te.ptr[u]; a < te.ptr[u + 1]; a++)
            for (int64_t b = tr.ptr[u]; b < tr.ptr[u + 1] && n >= 3; b++)
                ck_assert(te.time[a] > tr.time[b] || (te.time[a] == tr.time[b] && te.idx[a] > tr.idx[b]));
    }
    upf_csr_free(&tr), upf_csr_free(&te);
    p.last_n = 50; /* more than any row: all of an eligible row goes to test */
    ck_assert_int_eq(upf_split_csr(&all, &p, &tr, &te, &err), UPF_OK);
    for (size_t u = 0; u < all.n_rows; u++) {
        int64_t n = all.ptr[u + 1] - all.ptr[u];
        ck_assert_int_eq(te.ptr[u + 1] - te.ptr[u], n < 3 ? 0 : n);
    }
    upf_csr_free(&tr), upf_csr_free(&te);
    /* ties: two entries at the same time, last_n 1 takes the higher item */
    upf_csr tie = { 0 };
    tie.n_rows = 1, tie.n_cols = 9;
    tie.ptr = upf_calloc(2, 8);
    tie.idx = upf_malloc(3 * 4), tie.val = upf_malloc(3 * 4), tie.time = upf_malloc(3 * 8);
    tie.ptr[1] = 3;
    tie.idx[0] = 2, tie.idx[1] = 5, tie.idx[2] = 7;
    tie.time[0] = 9, tie.time[1] = 9, tie.time[2] = 3;
    tie.val[0] = tie.val[1] = tie.val[2] = 1;
    p.last_n = 1;
    p.min_entries = 2;
    ck_assert_int_eq(upf_split_csr(&tie, &p, &tr, &te, &err), UPF_OK);
    ck_assert_int_eq(upf_csr_nnz(&te), 1);
    ck_assert_int_eq(te.idx[0], 5);
    upf_csr_free(&tr), upf_csr_free(&te), upf_csr_free(&tie);
    upf_csr_free(&all);
}
END_TEST

START_TEST(test_split_temporal)
{
    upf_csr all, tr, te;
    upf_err err;
    random_csr(&all, 80);
    upf_split_params p = upf_split_params_default();
    p.kind = UPF_SPLIT_TEMPORAL;
    p.cutoff = 50; /* entries at exactly 50 go to test, 49 to train */
    ck_assert_int_eq(upf_split_csr(&all, &p, &tr, &te, &err), UPF_OK);
    check_partition(&all, &tr, &te);
    int at_cutoff = 0, before = 0;
    for (int64_t k = 0; k < upf_csr_nnz(&te); k++) {
        ck_assert_int_ge(te.time[k], 50);
        at_cutoff += te.time[k] == 50;
    }
    for (int64_t k = 0; k < upf_csr_nnz(&tr); k++) {
        ck_assert_int_lt(tr.time[k], 50);
        before += tr.time[k] == 49;
    }
    ck_assert_int_gt(at_cutoff, 0); /* the boundary is exercised on both sides */
    ck_assert_int_gt(before, 0);
    upf_csr_free(&tr), upf_csr_free(&te);
    upf_csr_free(&all);
}
END_TEST

START_TEST(test_split_bad_params)
{
    upf_csr all, tr, te;
    upf_err err;
    random_csr(&all, 10);
    upf_split_params p = upf_split_params_default();
    p.test_frac = 0;
    ck_assert_int_eq(upf_split_csr(&all, &p, &tr, &te, &err), UPF_ERR_ARG);
    p.test_frac = 1;
    ck_assert_int_eq(upf_split_csr(&all, &p, &tr, &te, &err), UPF_ERR_ARG);
    p.test_frac = NAN;
    ck_assert_int_eq(upf_split_csr(&all, &p, &tr, &te, &err), UPF_ERR_ARG);
    ck_assert_msg(strstr(err.msg, "test_frac"), "%s", err.msg);
    p = upf_split_params_default();
    p.kind = UPF_SPLIT_LAST_N;
    p.last_n = 0;
    ck_assert_int_eq(upf_split_csr(&all, &p, &tr, &te, &err), UPF_ERR_ARG);
    p.kind = UPF_SPLIT_NONE;
    ck_assert_int_eq(upf_split_csr(&all, &p, &tr, &te, &err), UPF_ERR_ARG);
    ck_assert_ptr_null(tr.ptr);
    ck_assert_ptr_null(te.ptr);
    upf_free(all.time);
    all.time = NULL;
    p.kind = UPF_SPLIT_TEMPORAL;
    ck_assert_int_eq(upf_split_csr(&all, &p, &tr, &te, &err), UPF_ERR_ARG);
    ck_assert_msg(strstr(err.msg, "needs entry times"), "%s", err.msg);
    ck_assert_str_eq(upf_split_kind_name(UPF_SPLIT_LAST_N), "last_n");
    ck_assert_str_eq(upf_split_kind_name((upf_split_kind)9), "none");
    upf_csr_free(&all);
}
END_TEST

START_TEST(test_alloc_failures)
{
    upf_dataset *ds = small_ds();
    upf_interaction_params ip = upf_interaction_params_default();
    upf_csr all;
    upf_err err;
    long n;
    for (n = 1; n < 1000; n++) {
        upf_alloc_fail_after(n);
        upf_status st = upf_interactions_build(ds, &ip, &all, &err);
        upf_alloc_fail_after(0);
        if (st == UPF_OK) break;
        ck_assert_int_eq(st, UPF_ERR_NOMEM);
        ck_assert_ptr_null(all.ptr);
    }
    ck_assert_int_lt(n, 1000);
    for (int kind = UPF_SPLIT_RANDOM; kind <= UPF_SPLIT_TEMPORAL; kind++) {
        upf_split_params p = upf_split_params_default();
        p.kind = (upf_split_kind)kind;
        upf_csr tr, te;
        for (n = 1; n < 1000; n++) {
            upf_alloc_fail_after(n);
            upf_status st = upf_split_csr(&all, &p, &tr, &te, &err);
            upf_alloc_fail_after(0);
            if (st == UPF_OK) break;
            ck_assert_int_eq(st, UPF_ERR_NOMEM);
            ck_assert_ptr_null(tr.ptr);
            ck_assert_ptr_null(te.ptr);
        }
        ck_assert_int_lt(n, 1000);
        upf_csr_free(&tr), upf_csr_free(&te);
    }
    upf_csr copy, t;
    for (n = 1; n < 100; n++) {
        upf_alloc_fail_after(n);
        upf_status st = upf_csr_copy(&all, &copy, &err);
        upf_status st2 = upf_csr_transpose(&all, &t, &err);
        upf_alloc_fail_after(0);
        if (st == UPF_OK) upf_csr_free(&copy);
        if (st2 == UPF_OK) upf_csr_free(&t);
        if (st == UPF_OK && st2 == UPF_OK) break;
    }
    upf_csr_free(&all);
    upf_dataset_free(ds);
}
END_TEST

/* MovieLens 100K under the BENCH.md protocol: ratings >= 4 are positives,
 * per-user random 80/20 with seed 42, users with fewer than 2 positives keep
 * all in train. Counts from tests/golden/ml100k_split_counts.py (pure Python
 * over u.data): 55375 positives, 942 users with a positive, 11079 in test. */
START_TEST(test_movielens_protocol_counts)
{
    const char *dir = upf_test_data_dir();
    if (!dir || !getenv("UPF_CHECK_DATA")) return; /* skipped: needs ../shared/data and UPF_CHECK_DATA=1 */
    char p[4200];
    snprintf(p, sizeof p, "%s/movielens-100k/ml-100k/u.data", dir);
    FILE *f = fopen(p, "r");
    if (!f) return;
    upf_builder *b = NULL;
    upf_dataset *ds = NULL;
    upf_err err;
    ck_assert_int_eq(upf_builder_create(&b, &err), UPF_OK);
    char us[32], is[32];
    long r, t;
    int rows = 0;
    while (fscanf(f, "%31s %31s %ld %ld", us, is, &r, &t) == 4) {
        int32_t u = upf_builder_user(b, us, strlen(us)), i = upf_builder_item(b, is, strlen(is));
        ck_assert_int_eq(upf_builder_event(b, u, i, t, UPF_EV_RATING, (float)r, -1), UPF_OK);
        rows++;
    }
    fclose(f);
    ck_assert_int_eq(rows, 100000);
    ck_assert_int_eq(upf_builder_finish(b, &ds, &err), UPF_OK);
    upf_interaction_params ip = upf_interaction_params_default();
    ip.types = 1u << UPF_EV_RATING;
    ip.min_rating = 4;
    upf_csr all, tr, te;
    ck_assert_int_eq(upf_interactions_build(ds, &ip, &all, &err), UPF_OK);
    ck_assert_int_eq(upf_csr_nnz(&all), 55375);
    int with_pos = 0;
    for (size_t u = 0; u < all.n_rows; u++) with_pos += all.ptr[u + 1] > all.ptr[u];
    ck_assert_int_eq(with_pos, 942);
    upf_split_params sp = upf_split_params_default();
    ck_assert_int_eq(upf_split_csr(&all, &sp, &tr, &te, &err), UPF_OK);
    ck_assert_int_eq(upf_csr_nnz(&te), 11079);
    ck_assert_int_eq(upf_csr_nnz(&tr), 44296);
    upf_csr_free(&all), upf_csr_free(&tr), upf_csr_free(&te);
    upf_dataset_free(ds);
}
END_TEST

Suite *interactions_suite(void)
{
    Suite *s = suite_create("interactions");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_build_default);
    tcase_add_test(tc, test_build_filters);
    tcase_add_test(tc, test_build_bad_params);
    tcase_add_test(tc, test_copy_has_transpose);
    tcase_add_test(tc, test_split_random_counts);
    tcase_add_test(tc, test_split_random_independent_uniform);
    tcase_add_test(tc, test_split_edges);
    tcase_add_test(tc, test_split_last_n);
    tcase_add_test(tc, test_split_temporal);
    tcase_add_test(tc, test_split_bad_params);
    tcase_add_test(tc, test_alloc_failures);
    tcase_add_test(tc, test_movielens_protocol_counts);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}
