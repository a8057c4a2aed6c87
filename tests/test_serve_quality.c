/* test_serve_quality.c - ranking quality survives export: NDCG@10 of the
 * float16 and int8 copies of a model within 0.5% (relative) of float32,
 * ranking through the runtime with the user's training items excluded.
 * Generated data (planted low-rank preferences, always run) and, with
 * UPF_CHECK_DATA=1 and the data present, MovieLens-100k with a PureSVD model
 * (Cremonesi, Koren & Turrin 2010: rank-64 item factors from the training
 * matrix, user vector = the user's row times them), built here with OpenBLAS.
 * NDCG@10 as in DESIGN.md: binary gain, discount log2(rank + 1), users without
 * a test item skipped. */
#include <cblas.h>
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../model/rng.h"
#include "modeltest.h"
#include "testutil.h"

typedef struct split {
    size_t n_users, n_items;
    int32_t **train, **test;   /* per user: item lists */
    size_t *n_train, *n_test;
} split;

static void split_free(split *s)
{
    for (size_t u = 0; u < s->n_users; u++) {
        free(s->train[u]);
        free(s->test[u]);
    }
    free(s->train);
    free(s->test);
    free(s->n_train);
    free(s->n_test);
}

/* A ranker with zero biases from U (n_users, D) and V (n_items, D). */
static upf_model *factor_model(const float *U, const float *V, size_t nu, size_t ni, size_t D, upf_dtype store,
                               unsigned char **buf)
{
    char **ids = malloc(ni * sizeof *ids), **uids = malloc(nu * sizeof *uids);
    for (size_t i = 0; i < ni; i++) {
        ids[i] = malloc(16);
        snprintf(ids[i], 16, "%zu", i + 1);
    }
    for (size_t u = 0; u < nu; u++) {
        uids[u] = malloc(16);
        snprintf(uids[u], 16, "%zu", u + 1);
    }
    float *bias = calloc(ni, sizeof *bias);
    upf_mw *w;
    upf_err err;
    upf_mw_create(&w, UPF_KIND_RANKER, &err);
    upf_mw_meta_u64(w, UPF_M_DIM, D);
    upf_mw_meta_str_array(w, UPF_M_ITEM_IDS, (const char *const *)ids, ni);
    upf_mw_meta_str_array(w, UPF_M_USER_IDS, (const char *const *)uids, nu);
    upf_mw_tensor_f32(w, UPF_T_ITEM_BIAS, bias, 1, (const uint64_t[]){ ni }, UPF_DTYPE_F32);
    upf_mw_tensor_f32(w, UPF_T_ITEM_FACTORS, V, 2, (const uint64_t[]){ ni, D }, store);
    upf_mw_tensor_f32(w, UPF_T_USER_FACTORS, U, 2, (const uint64_t[]){ nu, D }, store);
    size_t n;
    *buf = upf_test_write(w, &n);
    upf_mw_free(w);
    for (size_t i = 0; i < ni; i++) free(ids[i]);
    for (size_t u = 0; u < nu; u++) free(uids[u]);
    free(ids);
    free(uids);
    free(bias);
    return upf_test_open(*buf, n, 0);
}

/* Mean NDCG@10 over users with test items, through upf_serve_topk. */
static double ndcg10(const upf_model *m, const split *sp)
{
    upf_scratch *s;
    upf_err err;
    ck_assert_int_eq(upf_scratch_create(m, &s, &err), UPF_OK);
    double sum = 0;
    size_t users = 0;
    char *is_test = calloc(sp->n_items, 1);
    for (size_t u = 0; u < sp->n_users; u++) {
        if (!sp->n_test[u]) continue;
        upf_user_query q = upf_user_query_default();
        q.user = (int32_t)u;
        upf_filter f = { sp->train[u], sp->n_train[u], 0 };
        upf_hit h[10];
        size_t nh;
        ck_assert_int_eq(upf_serve_topk(m, &q, &f, 10, s, h, &nh, &err), UPF_OK);
        for (size_t k = 0; k < sp->n_test[u]; k++) is_test[sp->test[u][k]] = 1;
        double dcg = 0, idcg = 0;
        for (size_t r = 0; r < nh; r++)
            if (is_test[h[r].item]) dcg += 1.0 / log2((double)r + 2.0);
        for (size_t r = 0; r < 10 && r < sp->n_test[u]; r++) idcg += 1.0 / log2((double)r + 2.0);
        for (size_t k = 0; k < sp->n_test[u]; k++) is_test[sp->test[u][k]] = 0;
        sum += dcg / idcg;
        users++;
    }
    free(is_test);
    upf_scratch_free(s);
    return sum / (double)users;
}

/* f32, f16 and int8 copies of (U, V): NDCG@10 of each, and the relative gaps checked. */
static void check_parity(const char *what, const float *U, const float *V, const split *sp, size_t D, double min_f32)
{
    static const upf_dtype stores[3] = { UPF_DTYPE_F32, UPF_DTYPE_F16, UPF_DTYPE_I8S };
    double nd[3];
    for (int k = 0; k < 3; k++) {
        unsigned char *buf;
        upf_model *m = factor_model(U, V, sp->n_users, sp->n_items, D, stores[k], &buf);
        nd[k] = ndcg10(m, sp);
        upf_model_close(m);
        free(buf);
    }
    fprintf(stderr, "%s: NDCG@10 f32 %.4f, f16 %.4f (%+.3f%%), int8 %.4f (%+.3f%%)\n", what, nd[0], nd[1],
            100 * (nd[1] / nd[0] - 1), nd[2], 100 * (nd[2] / nd[0] - 1));
    ck_assert_msg(nd[0] > min_f32, "%s: the float32 model ranks too poorly (%g) for the comparison to mean much", what, nd[0]);
    ck_assert_msg(fabs(nd[1] / nd[0] - 1) <= 0.005, "%s: f16 NDCG@10 %g vs f32 %g", what, nd[1], nd[0]);
    ck_assert_msg(fabs(nd[2] / nd[0] - 1) <= 0.005, "%s: int8 NDCG@10 %g vs f32 %g", what, nd[2], nd[0]);
}

/* Generated data: users and items with planted 24-dim preferences and item
 * popularity; each user's 30 positives are drawn without replacement from
 * softmax(true score) (Gumbel top-k), 24 for training and 6 for test; the
 * "trained" model is the truth plus noise. */
START_TEST(test_ndcg_parity_generated)
{
    enum { NU = 800, NI = 3000, D = 24, POS = 30, TR = 24 };
    upf_rng r;
    upf_rng_seed(&r, 2024, 0);
    float *Ut = malloc(NU * D * sizeof(float)), *Vt = malloc(NI * D * sizeof(float)), *pop = malloc(NI * sizeof(float));
    for (size_t i = 0; i < NU * D; i++) Ut[i] = (float)upf_rng_normal(&r) * 0.5f;
    for (size_t i = 0; i < NI * D; i++) Vt[i] = (float)upf_rng_normal(&r) * 0.5f;
    for (size_t i = 0; i < NI; i++) pop[i] = (float)upf_rng_normal(&r);
    split sp = { NU, NI, calloc(NU, sizeof(int32_t *)), calloc(NU, sizeof(int32_t *)), calloc(NU, sizeof(size_t)),
                 calloc(NU, sizeof(size_t)) };
    double *key = malloc(NI * sizeof(double));
    int32_t *idx = malloc(NI * sizeof(int32_t));
    for (size_t u = 0; u < NU; u++) {
        for (size_t i = 0; i < NI; i++) {
            double s = (double)pop[i];
            for (size_t d = 0; d < D; d++) s += (double)Ut[u * D + d] * (double)Vt[i * D + d];
            key[i] = s - log(upf_rng_exponential(&r)); /* + Gumbel noise */
            idx[i] = (int32_t)i;
        }
        for (size_t k = 0; k < POS; k++) { /* partial selection of the POS largest keys */
            size_t best = k;
            for (size_t i = k + 1; i < NI; i++)
                if (key[idx[i]] > key[idx[best]]) best = i;
            int32_t t = idx[k];
            idx[k] = idx[best];
            idx[best] = t;
        }
        upf_rng_shuffle_i32(&r, idx, POS);
        sp.train[u] = malloc(TR * sizeof(int32_t));
        sp.test[u] = malloc((POS - TR) * sizeof(int32_t));
        memcpy(sp.train[u], idx, TR * sizeof(int32_t));
        memcpy(sp.test[u], idx + TR, (POS - TR) * sizeof(int32_t));
        sp.n_train[u] = TR;
        sp.n_test[u] = POS - TR;
    }
    /* the model: truth plus noise; popularity as a 25th dimension */
    enum { DM = D + 1 };
    float *U = malloc(NU * DM * sizeof(float)), *V = malloc(NI * DM * sizeof(float));
    for (size_t u = 0; u < NU; u++) {
        for (size_t d = 0; d < D; d++) U[u * DM + d] = Ut[u * D + d] + (float)upf_rng_normal(&r) * 0.15f;
        U[u * DM + D] = 1.0f;
    }
    for (size_t i = 0; i < NI; i++) {
        for (size_t d = 0; d < D; d++) V[i * DM + d] = Vt[i * D + d] + (float)upf_rng_normal(&r) * 0.15f;
        V[i * DM + D] = pop[i];
    }
    check_parity("generated data", U, V, &sp, DM, 0.05);
    split_free(&sp);
    free(Ut);
    free(Vt);
    free(pop);
    free(key);
    free(idx);
    free(U);
    free(V);
}
END_TEST

/* MovieLens-100k: ratings >= 4 are positives; per-user 80/20 split (seed 42). */
START_TEST(test_ndcg_parity_movielens)
{
    const char *data = upf_test_data_dir();
    if (!getenv("UPF_CHECK_DATA") || !data) {
        fprintf(stderr, "note: MovieLens NDCG parity skipped (needs UPF_CHECK_DATA=1 and %s)\n",
                data ? "the data" : "../shared/data");
        return;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/movielens-100k/ml-100k/u.data", data);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "note: %s absent: MovieLens NDCG parity skipped\n", path);
        return;
    }
    enum { NU = 943, NI = 1682, D = 64 };
    int32_t (*pairs)[2] = malloc(100000 * sizeof *pairs);
    size_t np = 0;
    int uu, ii, rating;
    long ts;
    while (np < 100000 && fscanf(f, "%d %d %d %ld", &uu, &ii, &rating, &ts) == 4)
        if (rating >= 4 && uu >= 1 && uu <= NU && ii >= 1 && ii <= NI) {
            pairs[np][0] = uu - 1;
            pairs[np][1] = ii - 1;
            np++;
        }
    fclose(f);
    split sp = { NU, NI, calloc(NU, sizeof(int32_t *)), calloc(NU, sizeof(int32_t *)), calloc(NU, sizeof(size_t)),
                 calloc(NU, sizeof(size_t)) };
    size_t *cnt = calloc(NU, sizeof *cnt);
    for (size_t k = 0; k < np; k++) cnt[pairs[k][0]]++;
    int32_t **items = calloc(NU, sizeof *items);
    size_t *fill = calloc(NU, sizeof *fill);
    for (size_t u = 0; u < NU; u++) items[u] = malloc((cnt[u] + 1) * sizeof(int32_t));
    for (size_t k = 0; k < np; k++) items[pairs[k][0]][fill[pairs[k][0]]++] = pairs[k][1];
    upf_rng r;
    upf_rng_seed(&r, 42, 0);
    float *X = calloc((size_t)NU * NI, sizeof(float));
    for (size_t u = 0; u < NU; u++) {
        upf_rng_shuffle_i32(&r, items[u], cnt[u]);
        size_t ntr = cnt[u] < 2 ? cnt[u] : cnt[u] - cnt[u] / 5;
        sp.train[u] = malloc((ntr + 1) * sizeof(int32_t));
        sp.test[u] = malloc((cnt[u] - ntr + 1) * sizeof(int32_t));
        memcpy(sp.train[u], items[u], ntr * sizeof(int32_t));
        memcpy(sp.test[u], items[u] + ntr, (cnt[u] - ntr) * sizeof(int32_t));
        sp.n_train[u] = ntr;
        sp.n_test[u] = cnt[u] - ntr;
        for (size_t k = 0; k < ntr; k++) X[u * NI + (size_t)sp.train[u][k]] = 1.0f;
    }
    /* PureSVD: the top-64 eigenvectors Q of G = X^T X by subspace iteration */
    float *G = malloc((size_t)NI * NI * sizeof(float)), *Q = malloc((size_t)NI * D * sizeof(float));
    float *Z = malloc((size_t)NI * D * sizeof(float)), *U = malloc((size_t)NU * D * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, NI, NI, NU, 1.0f, X, NI, X, NI, 0.0f, G, NI);
    for (size_t i = 0; i < (size_t)NI * D; i++) Q[i] = (float)upf_rng_normal(&r);
    for (int it = 0; it < 25; it++) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, NI, D, NI, 1.0f, G, NI, Q, D, 0.0f, Z, D);
        for (size_t c = 0; c < D; c++) { /* modified Gram-Schmidt on the columns, in double */
            for (size_t p = 0; p < c; p++) {
                double dot = 0;
                for (size_t i = 0; i < NI; i++) dot += (double)Z[i * D + c] * (double)Z[i * D + p];
                for (size_t i = 0; i < NI; i++) Z[i * D + c] -= (float)(dot * (double)Z[i * D + p]);
            }
            double nrm = 0;
            for (size_t i = 0; i < NI; i++) nrm += (double)Z[i * D + c] * (double)Z[i * D + c];
            nrm = sqrt(nrm);
            for (size_t i = 0; i < NI; i++) Z[i * D + c] = (float)((double)Z[i * D + c] / nrm);
        }
        memcpy(Q, Z, (size_t)NI * D * sizeof(float));
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, NU, D, NI, 1.0f, X, NI, Q, D, 0.0f, U, D);
    check_parity("MovieLens-100k PureSVD-64", U, Q, &sp, D, 0.15);
    for (size_t u = 0; u < NU; u++) free(items[u]);
    free(items);
    free(fill);
    free(cnt);
    free(pairs);
    free(X);
    free(G);
    free(Q);
    free(Z);
    free(U);
    split_free(&sp);
}
END_TEST

Suite *serve_quality_suite(void)
{
    Suite *s = suite_create("serve_quality");
    TCase *tc = tcase_create("ndcg_parity");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_ndcg_parity_generated);
    tcase_add_test(tc, test_ndcg_parity_movielens);
    suite_add_tcase(s, tc);
    return s;
}
