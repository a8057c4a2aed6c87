/* test_serve.c - the serving runtime: float32 scores equal score.h's bit for
 * bit (the trainer's function), the fast top-k equals the reference for every
 * dtype and filter, f16/int8 stay within their stated error bounds, user
 * vectors from profiles, popularity (dim 0), co-occurrence, many threads on
 * one handle, error paths, and the lifetime and uplift formulas against hand
 * calculations, exact special cases, Monte Carlo and published figures. */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../model/f16.h"
#include "../model/quant.h"
#include "../model/rng.h"
#include "modeltest.h"
#include "testutil.h"

/* ---- a random ranker ---- */

typedef struct rk {
    size_t ni, nu, na, dim;
    float *itf, *uf, *af, *bias; /* (ni, dim), (nu, dim), (na, dim), (ni) */
    uint8_t *flags;              /* (ni) */
    char **ids, **uids, **anames;
} rk;

static char **make_ids(const char *prefix, size_t n)
{
    char **v = malloc((n ? n : 1) * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        v[i] = malloc(32);
        snprintf(v[i], 32, "%s%zu", prefix, i);
    }
    return v;
}

static void free_ids(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

static void rk_make(rk *r, size_t ni, size_t nu, size_t na, size_t dim, uint64_t seed, int ties)
{
    upf_rng g;
    upf_rng_seed(&g, seed, 0);
    r->ni = ni, r->nu = nu, r->na = na, r->dim = dim;
    r->itf = malloc((ni * dim + 1) * sizeof(float));
    r->uf = malloc((nu * dim + 1) * sizeof(float));
    r->af = malloc((na * dim + 1) * sizeof(float));
    r->bias = malloc(ni * sizeof(float));
    r->flags = malloc(ni);
    for (size_t i = 0; i < ni * dim; i++) r->itf[i] = (float)upf_rng_normal(&g) * 0.3f;
    for (size_t i = 0; i < nu * dim; i++) r->uf[i] = (float)upf_rng_normal(&g);
    for (size_t i = 0; i < na * dim; i++) r->af[i] = (float)upf_rng_normal(&g) * 0.5f;
    for (size_t i = 0; i < ni; i++) {
        r->bias[i] = (float)upf_rng_normal(&g) * 0.1f;
        r->flags[i] = upf_rng_below(&g, 10) < 7;
    }
    if (ties) /* every third item copies item 0: equal scores */
        for (size_t i = 3; i < ni; i += 3) {
            memcpy(r->itf + i * dim, r->itf, dim * sizeof(float));
            r->bias[i] = r->bias[0];
        }
    r->ids = make_ids("i", ni);
    r->uids = make_ids("u", nu);
    r->anames = make_ids("attr=", na);
}

static void rk_free(rk *r)
{
    free(r->itf);
    free(r->uf);
    free(r->af);
    free(r->bias);
    free(r->flags);
    free_ids(r->ids, r->ni);
    free_ids(r->uids, r->nu);
    free_ids(r->anames, r->na);
}

static upf_model *rk_model(const rk *r, upf_dtype store, unsigned flags, double recent_weight, unsigned char **buf)
{
    upf_mw *w;
    upf_err err;
    ck_assert_int_eq(upf_mw_create(&w, UPF_KIND_RANKER, &err), UPF_OK);
    upf_mw_meta_u64(w, UPF_M_DIM, r->dim);
    upf_mw_meta_str_array(w, UPF_M_ITEM_IDS, (const char *const *)r->ids, r->ni);
    upf_mw_tensor_f32(w, UPF_T_ITEM_BIAS, r->bias, 1, (const uint64_t[]){ r->ni }, UPF_DTYPE_F32);
    upf_mw_tensor_u8(w, UPF_T_ITEM_FLAGS, r->flags, 1, (const uint64_t[]){ r->ni });
    if (r->dim) {
        upf_mw_tensor_f32(w, UPF_T_ITEM_FACTORS, r->itf, 2, (const uint64_t[]){ r->ni, r->dim }, store);
        upf_mw_tensor_f32(w, UPF_T_USER_FACTORS, r->uf, 2, (const uint64_t[]){ r->nu, r->dim }, store);
        upf_mw_tensor_f32(w, UPF_T_USER_ATTR_FACTORS, r->af, 2, (const uint64_t[]){ r->na, r->dim }, store);
        upf_mw_meta_str_array(w, UPF_M_USER_IDS, (const char *const *)r->uids, r->nu);
        upf_mw_meta_str_array(w, UPF_M_USER_ATTR_NAMES, (const char *const *)r->anames, r->na);
    }
    if (recent_weight != 1.0) upf_mw_meta_f64(w, UPF_M_RECENT_WEIGHT, recent_weight);
    size_t n;
    *buf = upf_test_write(w, &n);
    upf_mw_free(w);
    return upf_test_open(*buf, n, flags);
}

/* All items' direct scores for user vector u, through score.h. */
static void direct_scores(const rk *r, const float *u, float *out)
{
    for (size_t i = 0; i < r->ni; i++) out[i] = upf_score_f32(r->bias[i], u, r->itf + i * r->dim, r->dim);
}

static int cmp_best_first(const void *a, const void *b, void *ctx)
{
    const float *s = ctx;
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    if (s[x] != s[y]) return s[x] > s[y] ? -1 : 1;
    return x < y ? -1 : x > y;
}

static int same_hits(const upf_hit *a, const upf_hit *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i].item != b[i].item || memcmp(&a[i].score, &b[i].score, 4) != 0) return 0;
    return 1;
}

/* ---- float32: the runtime's score is score.h's, bit for bit ---- */

START_TEST(test_f32_parity_bit_exact)
{
    static const size_t dims[] = { 64, 13, 1 };
    for (size_t di = 0; di < 3; di++) {
        rk r;
        rk_make(&r, 3001, 12, 5, dims[di], 100 + di, 0);
        unsigned char *buf;
        upf_model *m = rk_model(&r, UPF_DTYPE_F32, 0, 1.0, &buf);
        upf_scratch *s;
        upf_err err;
        ck_assert_int_eq(upf_scratch_create(m, &s, &err), UPF_OK);
        float *all = malloc(r.ni * sizeof(float));
        int32_t *order = malloc(r.ni * sizeof(int32_t));
        upf_hit hits[60];
        for (size_t u = 0; u < r.nu; u++) {
            upf_user_query q = upf_user_query_default();
            q.user = (int32_t)u;
            size_t nh;
            ck_assert_int_eq(upf_serve_topk(m, &q, NULL, 60, s, hits, &nh, &err), UPF_OK);
            ck_assert_uint_eq(nh, 60);
            direct_scores(&r, r.uf + u * r.dim, all);
            for (size_t i = 0; i < r.ni; i++) order[i] = (int32_t)i;
            upf_heapsort(order, r.ni, sizeof *order, cmp_best_first, all);
            for (size_t k = 0; k < nh; k++) {
                UPF_REQUIRE(hits[k].item == order[k]);
                UPF_CHECK(memcmp(&hits[k].score, &all[order[k]], 4) == 0, "user %zu rank %zu: %a vs %a", u, k,
                              (double)hits[k].score, (double)all[order[k]]);
            }
            /* re-ranking a given list */
            int32_t items[7] = { 5, 0, (int32_t)r.ni - 1, 5, 77, 1000, 3 };
            float sc[7];
            ck_assert_int_eq(upf_serve_score_items(m, &q, items, 7, s, sc, &err), UPF_OK);
            for (int k = 0; k < 7; k++) UPF_REQUIRE(memcmp(&sc[k], &all[items[k]], 4) == 0);
        }
        free(all);
        free(order);
        upf_scratch_free(s);
        upf_model_close(m);
        free(buf);
        rk_free(&r);
    }
}
END_TEST

/* ---- fast == reference, every dtype, filters, ties ---- */

START_TEST(test_fast_equals_reference)
{
    rk r;
    rk_make(&r, 1537, 6, 4, 24, 7, 1);
    upf_rng g;
    upf_rng_seed(&g, 77, 0);
    static const upf_dtype stores[] = { UPF_DTYPE_F32, UPF_DTYPE_F16, UPF_DTYPE_I8S };
    static const size_t ks[] = { 0, 1, 10, 100, 1600 };
    for (int st = 0; st < 3; st++)
        for (unsigned fl = 0; fl <= UPF_OPEN_REF_KERNELS; fl += UPF_OPEN_REF_KERNELS) {
            unsigned char *buf;
            upf_model *m = rk_model(&r, stores[st], fl, 0.5, &buf);
            upf_scratch *s;
            upf_err err;
            ck_assert_int_eq(upf_scratch_create(m, &s, &err), UPF_OK);
            upf_hit *a = malloc(1600 * sizeof *a), *b = malloc(1600 * sizeof *b);
            for (int trial = 0; trial < 12; trial++) {
                upf_user_query q = upf_user_query_default();
                int32_t attrs[2] = { 1, 3 }, recent[3] = { 4, 900, 4 }, excl[50];
                float aw[2] = { 0.5f, -2.0f };
                q.user = trial % 4 == 3 ? -1 : (int32_t)(trial % 6);
                if (trial % 3 == 1) q.attrs = attrs, q.attr_weights = aw, q.n_attrs = 2;
                if (trial % 4 == 2) q.recent = recent, q.n_recent = 3;
                for (int e = 0; e < 50; e++) excl[e] = (int32_t)upf_rng_below(&g, 1600) - 30; /* some out of range */
                upf_filter f = { excl, (size_t)(trial % 2) * 50, trial % 3 == 0 ? UPF_ITEM_IN_STOCK : 0 };
                for (size_t ki = 0; ki < 5; ki++) {
                    size_t na, nb;
                    ck_assert_int_eq(upf_serve_topk(m, &q, &f, ks[ki], s, a, &na, &err), UPF_OK);
                    ck_assert_int_eq(upf_serve_topk_ref(m, &q, &f, ks[ki], s, b, &nb, &err), UPF_OK);
                    UPF_REQUIRE(na == nb);
                    UPF_CHECK(same_hits(a, b, na), "dtype %d flags %u trial %d k %zu", stores[st], fl, trial, ks[ki]);
                    for (size_t k = 0; k < na; k++) {
                        if (f.require_flags) UPF_REQUIRE(r.flags[a[k].item] & 1);
                        for (size_t e = 0; e < f.n_exclude; e++) UPF_REQUIRE(a[k].item != excl[e]);
                        if (k) UPF_REQUIRE(a[k - 1].score > a[k].score ||
                                           (a[k - 1].score == a[k].score && a[k - 1].item < a[k].item));
                    }
                    if (ks[ki] > 1000 && !f.n_exclude && !f.require_flags) ck_assert_uint_eq(na, r.ni);
                }
            }
            free(a);
            free(b);
            upf_scratch_free(s);
            upf_model_close(m);
            free(buf);
        }
    rk_free(&r);
}
END_TEST

/* Equal scores are ordered by item index, in the fast path as in the reference. */
START_TEST(test_ties_by_index)
{
    rk r;
    rk_make(&r, 300, 2, 1, 8, 3, 1);
    unsigned char *buf;
    upf_model *m = rk_model(&r, UPF_DTYPE_I8S, 0, 1.0, &buf);
    upf_scratch *s;
    upf_err err;
    ck_assert_int_eq(upf_scratch_create(m, &s, &err), UPF_OK);
    upf_user_query q = upf_user_query_default();
    q.user = 0;
    upf_hit h[300];
    size_t n;
    ck_assert_int_eq(upf_serve_topk(m, &q, NULL, 300, s, h, &n, &err), UPF_OK);
    size_t tied = 0;
    for (size_t k = 1; k < n; k++)
        if (h[k].score == h[k - 1].score) {
            UPF_REQUIRE(h[k - 1].item < h[k].item);
            tied++;
        }
    ck_assert_uint_ge(tied, 99); /* items 0, 3, 6, ... share a score */
    upf_scratch_free(s);
    upf_model_close(m);
    free(buf);
    rk_free(&r);
}
END_TEST

/* ---- f16 / int8 tolerance ----
 * Stated bounds, per (user u, item v) score, against float32:
 *   f16:  |d| <= 2^-11 sum_d |u_d v_d| + 2^-25 sum_d |u_d|                  (+ float rounding)
 *   int8: |d| <= (max|v| / 254) sum_d |u_d| + (max|u| / 65534) sum_d |v_d|
 *                + D (max|u| / 32767) (max|v| / 127) / 4                    (+ float rounding)
 * i.e. half a unit in the last place of each stored element (and, for int8,
 * of the int16 user vector), propagated through the dot product; "float
 * rounding" is 1e-6 sum_d |u_d v_d| here. */
START_TEST(test_quantized_tolerance)
{
    rk r;
    rk_make(&r, 2000, 8, 1, 64, 31, 0);
    unsigned char *b16, *b8, *b32;
    upf_model *m16 = rk_model(&r, UPF_DTYPE_F16, 0, 1.0, &b16), *m8 = rk_model(&r, UPF_DTYPE_I8S, 0, 1.0, &b8);
    upf_model *m32 = rk_model(&r, UPF_DTYPE_F32, 0, 1.0, &b32);
    upf_scratch *s16, *s8, *s32;
    upf_err err;
    upf_scratch_create(m16, &s16, &err);
    upf_scratch_create(m8, &s8, &err);
    upf_scratch_create(m32, &s32, &err);
    int32_t *items = malloc(r.ni * sizeof(int32_t));
    float *a = malloc(r.ni * 4), *b = malloc(r.ni * 4), *c = malloc(r.ni * 4);
    for (size_t i = 0; i < r.ni; i++) items[i] = (int32_t)i;
    double worst16 = 0, worst8 = 0, mean8 = 0;
    for (size_t u = 0; u < r.nu; u++) {
        /* the quantized models use the quantized user vectors: compare from a profile of stored f32 vectors */
        upf_user_query q = upf_user_query_default();
        q.user = (int32_t)u;
        ck_assert_int_eq(upf_serve_score_items(m32, &q, items, r.ni, s32, a, &err), UPF_OK);
        float u16[64], u8[64];
        ck_assert_int_eq(upf_serve_user_vector(m16, &q, s16, u16, &err), UPF_OK);
        ck_assert_int_eq(upf_serve_user_vector(m8, &q, s8, u8, &err), UPF_OK);
        ck_assert_int_eq(upf_serve_score_items(m16, &q, items, r.ni, s16, b, &err), UPF_OK);
        ck_assert_int_eq(upf_serve_score_items(m8, &q, items, r.ni, s8, c, &err), UPF_OK);
        for (size_t i = 0; i < r.ni; i++) {
            const float *v = r.itf + i * 64;
            /* reference scores with each model's own user vector and the float32 items */
            float ref16 = upf_score_f32(r.bias[i], u16, v, 64), ref8 = upf_score_f32(r.bias[i], u8, v, 64);
            double suv16 = 0, su16 = 0, suv8 = 0, su8 = 0, sv = 0, vmax = 0, umax = 0;
            for (int d = 0; d < 64; d++) {
                suv16 += fabs((double)u16[d] * (double)v[d]);
                su16 += fabs((double)u16[d]);
                suv8 += fabs((double)u8[d] * (double)v[d]);
                su8 += fabs((double)u8[d]);
                sv += fabs((double)v[d]);
                vmax = fmax(vmax, fabs((double)v[d]));
                umax = fmax(umax, fabs((double)u8[d]));
            }
            double d16 = fabs((double)b[i] - (double)ref16), d8 = fabs((double)c[i] - (double)ref8);
            double t16 = ldexp(suv16, -11) + ldexp(su16, -25) + 1e-6 * suv16;
            double t8 = vmax / 254.0 * su8 + umax / 65534.0 * sv + 64.0 * (umax / 32767.0) * (vmax / 127.0) / 4.0 +
                        1e-6 * suv8;
            UPF_CHECK(d16 <= t16, "f16 user %zu item %zu: |%g - %g| > %g", u, i, (double)b[i], (double)ref16, t16);
            UPF_CHECK(d8 <= t8, "int8 user %zu item %zu: |%g - %g| > %g", u, i, (double)c[i], (double)ref8, t8);
            worst16 = fmax(worst16, d16 / t16);
            worst8 = fmax(worst8, d8 / t8);
            mean8 += d8 / t8;
        }
    }
    /* the bounds are not vacuous: the worst case uses a fair share of them */
    ck_assert_double_gt(worst16, 0.05);
    ck_assert_double_gt(worst8, 0.05);
    free(items);
    free(a);
    free(b);
    free(c);
    upf_scratch_free(s16);
    upf_scratch_free(s8);
    upf_scratch_free(s32);
    upf_model_close(m16);
    upf_model_close(m8);
    upf_model_close(m32);
    free(b16);
    free(b8);
    free(b32);
    rk_free(&r);
}
END_TEST

/* ---- profiles ---- */

START_TEST(test_profile_vector)
{
    rk r;
    rk_make(&r, 500, 3, 6, 19, 5, 0);
    unsigned char *buf;
    upf_model *m = rk_model(&r, UPF_DTYPE_F32, 0, 0.75, &buf);
    upf_scratch *s;
    upf_err err;
    ck_assert_int_eq(upf_scratch_create(m, &s, &err), UPF_OK);
    int32_t attrs[3] = { 5, 0, 5 }, recent[4] = { 10, 499, 10, 3 };
    float aw[3] = { 1.5f, -0.25f, 0.5f }, got[19], want[19];
    upf_user_query q = { 2, attrs, aw, 3, recent, 4 };
    ck_assert_int_eq(upf_serve_user_vector(m, &q, s, got, &err), UPF_OK);
    for (size_t d = 0; d < 19; d++) {
        double acc = -0.0;
        acc += (double)r.uf[2 * 19 + d];
        for (int a = 0; a < 3; a++) acc += (double)aw[a] * (double)r.af[(size_t)attrs[a] * 19 + d];
        for (int k = 0; k < 4; k++) acc += 0.75 / 4 * (double)r.itf[(size_t)recent[k] * 19 + d];
        want[d] = (float)acc;
    }
    ck_assert(memcmp(got, want, sizeof got) == 0);
    /* top-k for the profile scores with that vector, bit for bit */
    upf_hit h[5];
    size_t n;
    ck_assert_int_eq(upf_serve_topk(m, &q, NULL, 5, s, h, &n, &err), UPF_OK);
    for (size_t k = 0; k < n; k++) {
        float e = upf_score_f32(r.bias[h[k].item], want, r.itf + (size_t)h[k].item * 19, 19);
        ck_assert(memcmp(&e, &h[k].score, 4) == 0);
    }
    /* a known user alone is exactly the stored row; nothing at all ranks by bias */
    upf_user_query k1 = upf_user_query_default();
    k1.user = 1;
    ck_assert_int_eq(upf_serve_user_vector(m, &k1, s, got, &err), UPF_OK);
    ck_assert(memcmp(got, r.uf + 19, sizeof got) == 0);
    upf_user_query none = upf_user_query_default();
    ck_assert_int_eq(upf_serve_topk(m, &none, NULL, 5, s, h, &n, &err), UPF_OK);
    float bmax = -INFINITY;
    for (size_t i = 0; i < r.ni; i++) bmax = fmaxf(bmax, r.bias[i]);
    ck_assert(h[0].score == bmax);
    /* ids */
    ck_assert_int_eq(upf_serve_item_index(m, "i499", 4), 499);
    ck_assert_int_eq(upf_serve_item_index(m, "i4990", 5), -1);
    ck_assert_int_eq(upf_serve_user_index(m, "u2", 2), 2);
    ck_assert_int_eq(upf_serve_attr_index(m, "attr=5", 6), 5);
    size_t len;
    const char *id = upf_serve_item_id(m, 42, &len);
    ck_assert(len == 3 && memcmp(id, "i42", 3) == 0);
    ck_assert_ptr_null(upf_serve_item_id(m, 500, &len));
    upf_scratch_free(s);
    upf_model_close(m);
    free(buf);
    rk_free(&r);
}
END_TEST

/* Popularity: a ranker with dim 0 ranks by bias, ties by index. */
START_TEST(test_popularity_dim0)
{
    rk r;
    rk_make(&r, 50, 0, 0, 0, 9, 0);
    for (size_t i = 0; i < 50; i++) r.bias[i] = (float)(i % 5);
    r.bias[7] = -0.0f;
    unsigned char *buf;
    upf_model *m = rk_model(&r, UPF_DTYPE_F32, 0, 1.0, &buf);
    upf_scratch *s;
    upf_err err;
    ck_assert_int_eq(upf_scratch_create(m, &s, &err), UPF_OK);
    upf_user_query q = upf_user_query_default();
    upf_hit h[12], ref[12];
    size_t n, nr;
    ck_assert_int_eq(upf_serve_topk(m, &q, NULL, 12, s, h, &n, &err), UPF_OK);
    ck_assert_int_eq(upf_serve_topk_ref(m, &q, NULL, 12, s, ref, &nr, &err), UPF_OK);
    ck_assert(n == 12 && nr == 12 && same_hits(h, ref, n));
    static const int32_t want[12] = { 4, 9, 14, 19, 24, 29, 34, 39, 44, 49, 3, 8 };
    for (int k = 0; k < 12; k++) ck_assert_int_eq(h[k].item, want[k]);
    float z = upf_score_f32(-0.0f, NULL, NULL, 0), sc;
    int32_t seven = 7;
    ck_assert_int_eq(upf_serve_score_items(m, &q, &seven, 1, s, &sc, &err), UPF_OK);
    ck_assert(memcmp(&sc, &z, 4) == 0);
    q.user = 0; /* no user_factors */
    ck_assert_int_eq(upf_serve_topk(m, &q, NULL, 12, s, h, &n, &err), UPF_ERR_ARG);
    ck_assert_uint_eq(n, 0);
    upf_scratch_free(s);
    upf_model_close(m);
    free(buf);
    rk_free(&r);
}
END_TEST

START_TEST(test_serve_errors)
{
    rk r;
    rk_make(&r, 40, 2, 2, 8, 1, 0);
    unsigned char *b1, *b2;
    upf_model *m = rk_model(&r, UPF_DTYPE_F32, 0, 1.0, &b1), *m2 = rk_model(&r, UPF_DTYPE_I8S, 0, 1.0, &b2);
    upf_scratch *s, *s2;
    upf_err err;
    ck_assert_int_eq(upf_scratch_create(m, &s, &err), UPF_OK);
    ck_assert_int_eq(upf_scratch_create(m2, &s2, &err), UPF_OK);
    upf_hit h[4];
    size_t n = 9;
    upf_user_query q = upf_user_query_default();
    q.user = 2;
    ck_assert_int_eq(upf_serve_topk(m, &q, NULL, 4, s, h, &n, &err), UPF_ERR_ARG);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "user 2"));
    q.user = 0;
    ck_assert_int_eq(upf_serve_topk(m, &q, NULL, 4, s2, h, &n, &err), UPF_ERR_ARG); /* another model's scratch */
    int32_t bad = 40;
    upf_user_query qa = { -1, &bad, NULL, 1, NULL, 0 }, qr = { -1, NULL, NULL, 0, &bad, 1 };
    ck_assert_int_eq(upf_serve_topk(m, &qa, NULL, 4, s, h, &n, &err), UPF_ERR_ARG);
    ck_assert_int_eq(upf_serve_topk(m, &qr, NULL, 4, s, h, &n, &err), UPF_ERR_ARG);
    float sc;
    ck_assert_int_eq(upf_serve_score_items(m, &q, &bad, 1, s, &sc, &err), UPF_ERR_ARG);
    upf_aft_result ar;
    upf_aft_query aq = { 0 };
    ck_assert_int_eq(upf_serve_aft(m, &aq, &ar, NULL, &err), UPF_ERR_ARG);
    upf_bgnbd_result br;
    ck_assert_int_eq(upf_serve_bgnbd(m, 1, 1, 2, 1, NAN, &br, &err), UPF_ERR_ARG);
    ck_assert_int_eq(upf_serve_uplift(m, NULL, 0, NULL, NULL, &err), UPF_ERR_ARG);
    /* scratch from caller memory: too small, then enough and unaligned */
    size_t need = upf_scratch_size(m);
    char *mem = malloc(need + 1);
    upf_scratch *cs;
    ck_assert_int_eq(upf_scratch_init(m, mem + 1, need - 1, &cs, &err), UPF_ERR_ARG);
    ck_assert_ptr_null(cs);
    ck_assert_int_eq(upf_scratch_init(m, mem + 1, need, &cs, &err), UPF_OK);
    ck_assert_int_eq(upf_serve_topk(m, &q, NULL, 4, cs, h, &n, &err), UPF_OK);
    ck_assert_uint_eq(n, 4);
    free(mem);
    upf_scratch_free(NULL);
    upf_scratch_free(s);
    upf_scratch_free(s2);
    upf_model_close(m);
    upf_model_close(m2);
    free(b1);
    free(b2);
    /* item flags required from a model without them */
    size_t gn;
    unsigned char *g = upf_test_golden("v1_cooccur_tiny.upf", &gn);
    m = upf_test_open(g, gn, 0);
    ck_assert_int_eq(upf_scratch_create(m, &s, &err), UPF_OK);
    upf_filter f = { NULL, 0, UPF_ITEM_IN_STOCK };
    int32_t rec = 0;
    upf_user_query qc = { -1, NULL, NULL, 0, &rec, 1 };
    ck_assert_int_eq(upf_serve_topk(m, &qc, &f, 4, s, h, &n, &err), UPF_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err.msg, "item_flags"));
    qc.user = 0;
    ck_assert_int_eq(upf_serve_topk(m, &qc, NULL, 4, s, h, &n, &err), UPF_ERR_ARG);
    upf_scratch_free(s);
    upf_model_close(m);
    free(g);
    rk_free(&r);
}
END_TEST

/* ---- many threads, one handle ---- */

typedef struct thr {
    const upf_model *m;
    const upf_hit *want; /* (n_users, 10) */
    size_t n_users, rounds;
    int failures;
} thr;

static void *thread_main(void *p)
{
    thr *t = p;
    upf_scratch *s;
    upf_err err;
    if (upf_scratch_create(t->m, &s, &err)) {
        t->failures++;
        return NULL;
    }
    upf_hit h[10];
    for (size_t r = 0; r < t->rounds; r++)
        for (size_t u = 0; u < t->n_users; u++) {
            upf_user_query q = upf_user_query_default();
            q.user = (int32_t)((u + r) % t->n_users);
            size_t n;
            if (upf_serve_topk(t->m, &q, NULL, 10, s, h, &n, &err) || n != 10 ||
                !same_hits(h, t->want + (size_t)q.user * 10, 10))
                t->failures++;
        }
    upf_scratch_free(s);
    return NULL;
}

START_TEST(test_threads_one_handle)
{
    rk r;
    rk_make(&r, 5000, 16, 1, 32, 12, 0);
    unsigned char *buf;
    upf_model *m = rk_model(&r, UPF_DTYPE_I8S, 0, 1.0, &buf);
    upf_hit want[16 * 10];
    upf_scratch *s;
    upf_err err;
    ck_assert_int_eq(upf_scratch_create(m, &s, &err), UPF_OK);
    for (int32_t u = 0; u < 16; u++) {
        upf_user_query q = upf_user_query_default();
        q.user = u;
        size_t n;
        ck_assert_int_eq(upf_serve_topk_ref(m, &q, NULL, 10, s, want + u * 10, &n, &err), UPF_OK);
    }
    upf_scratch_free(s);
    enum { T = 6 };
    pthread_t tid[T];
    thr t[T];
    for (int i = 0; i < T; i++) {
        t[i] = (thr){ m, want, 16, 8, 0 };
        ck_assert_int_eq(pthread_create(&tid[i], NULL, thread_main, &t[i]), 0);
    }
    for (int i = 0; i < T; i++) {
        pthread_join(tid[i], NULL);
        ck_assert_int_eq(t[i].failures, 0);
    }
    upf_model_close(m);
    free(buf);
    rk_free(&r);
}
END_TEST

/* ---- co-occurrence ---- */

START_TEST(test_cooccur_tiny_by_hand)
{
    size_t gn;
    unsigned char *g = upf_test_golden("v1_cooccur_tiny.upf", &gn);
    upf_model *m = upf_test_open(g, gn, 0);
    upf_scratch *s;
    upf_err err;
    ck_assert_int_eq(upf_scratch_create(m, &s, &err), UPF_OK);
    /* p -> q .5, r .25;  q -> p .5;  r -> none;  s -> p 1, r .125 */
    int32_t rec[2] = { 0, 3 };
    upf_user_query q = { -1, NULL, NULL, 0, rec, 2 };
    upf_hit h[4];
    size_t n;
    ck_assert_int_eq(upf_serve_topk(m, &q, NULL, 4, s, h, &n, &err), UPF_OK);
    ck_assert_uint_eq(n, 3); /* s itself has no incoming neighbour here */
    ck_assert(h[0].item == 0 && h[0].score == 1.0f);
    ck_assert(h[1].item == 1 && h[1].score == 0.5f);
    ck_assert(h[2].item == 2 && h[2].score == 0.375f);
    int32_t ex = 0;
    upf_filter f = { &ex, 1, 0 };
    ck_assert_int_eq(upf_serve_topk(m, &q, &f, 4, s, h, &n, &err), UPF_OK);
    ck_assert(n == 2 && h[0].item == 1);
    int32_t items[4] = { 3, 2, 1, 0 };
    float sc[4];
    ck_assert_int_eq(upf_serve_score_items(m, &q, items, 4, s, sc, &err), UPF_OK);
    ck_assert(sc[0] == 0.0f && sc[1] == 0.375f && sc[2] == 0.5f && sc[3] == 1.0f);
    /* the scratch is clean again: a query with r alone touches nothing */
    int32_t only_r = 2;
    upf_user_query qr = { -1, NULL, NULL, 0, &only_r, 1 };
    ck_assert_int_eq(upf_serve_topk(m, &qr, NULL, 4, s, h, &n, &err), UPF_OK);
    ck_assert_uint_eq(n, 0);
    upf_scratch_free(s);
    upf_model_close(m);
    free(g);
}
END_TEST

START_TEST(test_cooccur_fast_equals_reference)
{
    enum { NI = 700, PER = 12 };
    upf_rng g;
    upf_rng_seed(&g, 44, 0);
    int64_t ptr[NI + 1];
    int32_t *idx = malloc(NI * PER * sizeof(int32_t));
    float *sim = malloc(NI * PER * sizeof(float));
    uint8_t flags[NI];
    size_t nnz = 0;
    ptr[0] = 0;
    for (int i = 0; i < NI; i++) {
        int k = (int)upf_rng_below(&g, PER + 1);
        for (int j = 0; j < k; j++) {
            idx[nnz] = (int32_t)upf_rng_below(&g, NI);
            sim[nnz++] = (float)(upf_rng_below(&g, 8)) / 8.0f; /* coarse values: many ties */
        }
        ptr[i + 1] = (int64_t)nnz;
        flags[i] = (uint8_t)upf_rng_below(&g, 2);
    }
    char **ids = make_ids("c", NI);
    upf_mw *w;
    upf_err err;
    upf_mw_create(&w, UPF_KIND_COOCCUR, &err);
    upf_mw_meta_str_array(w, UPF_M_ITEM_IDS, (const char *const *)ids, NI);
    upf_mw_tensor_i64(w, UPF_T_NEIGHBOR_PTR, ptr, 1, (const uint64_t[]){ NI + 1 });
    upf_mw_tensor_i32(w, UPF_T_NEIGHBOR_IDX, idx, 1, (const uint64_t[]){ nnz });
    upf_mw_tensor_f32(w, UPF_T_NEIGHBOR_SIM, sim, 1, (const uint64_t[]){ nnz }, UPF_DTYPE_F32);
    upf_mw_tensor_u8(w, UPF_T_ITEM_FLAGS, flags, 1, (const uint64_t[]){ NI });
    size_t n;
    unsigned char *buf = upf_test_write(w, &n);
    upf_model *m = upf_test_open(buf, n, 0);
    upf_scratch *s;
    ck_assert_int_eq(upf_scratch_create(m, &s, &err), UPF_OK);
    upf_hit a[NI], b[NI];
    for (int trial = 0; trial < 60; trial++) {
        int32_t rec[6], ex[5];
        size_t nr = 1 + upf_rng_below(&g, 6);
        for (size_t k = 0; k < nr; k++) rec[k] = (int32_t)upf_rng_below(&g, NI);
        for (int k = 0; k < 5; k++) ex[k] = (int32_t)upf_rng_below(&g, NI);
        upf_user_query q = { -1, NULL, NULL, 0, rec, nr };
        upf_filter f = { ex, (size_t)(trial % 2) * 5, trial % 3 == 0 ? UPF_ITEM_IN_STOCK : 0 };
        size_t k = trial % 4 == 0 ? NI : 1 + upf_rng_below(&g, 20), na, nb;
        ck_assert_int_eq(upf_serve_topk(m, &q, &f, k, s, a, &na, &err), UPF_OK);
        ck_assert_int_eq(upf_serve_topk_ref(m, &q, &f, k, s, b, &nb, &err), UPF_OK);
        ck_assert_uint_eq(na, nb);
        ck_assert_msg(same_hits(a, b, na), "trial %d", trial);
    }
    upf_scratch_free(s);
    upf_model_close(m);
    upf_mw_free(w);
    free(buf);
    free(idx);
    free(sim);
    free_ids(ids, NI);
}
END_TEST

/* ---- lifetime: AFT ---- */

static upf_model *aft_model(const char *dist, double log_sigma, double b_x, double b0, double horizon, unsigned char **buf)
{
    upf_mw *w;
    upf_err err;
    upf_mw_create(&w, UPF_KIND_LIFETIME_AFT, &err);
    static const char *names[] = { "recency" };
    upf_mw_meta_str(w, UPF_M_AFT_DIST, dist);
    upf_mw_meta_f64_array(w, UPF_M_AFT_BETA, (const double[]){ b_x, b0 }, 2);
    upf_mw_meta_f64(w, UPF_M_AFT_LOG_SIGMA, log_sigma);
    upf_mw_meta_f64(w, UPF_M_AFT_HORIZON, horizon);
    upf_mw_meta_str_array(w, UPF_M_AFT_FEATURES, names, 1);
    upf_mw_meta_f64_array(w, UPF_M_AFT_CENTER, (const double[]){ 10.0 }, 1);
    upf_mw_meta_f64_array(w, UPF_M_AFT_SCALE, (const double[]){ 4.0 }, 1);
    size_t n;
    *buf = upf_test_write(w, &n);
    upf_mw_free(w);
    return upf_test_open(*buf, n, 0);
}

/* Weibull with sigma = 1 is exponential: every answer is known in closed form. */
START_TEST(test_aft_exponential_exact)
{
    unsigned char *buf;
    upf_model *m = aft_model("weibull", 0.0, 0.4, log(20.0), 30.0, &buf);
    double x = 18.0; /* z = (18 - 10) / 4 = 2; eta = 0.8 + log 20 */
    double lam = exp(-(0.8 + log(20.0)));
    double probs[3] = { 0.1, 0.5, 0.9 }, qs[3];
    for (int e = 0; e < 2; e++) {
        upf_aft_query q = { &x, 1, 0.0, e ? 17.5 : 0.0, probs, 3 };
        upf_aft_result r;
        upf_err err;
        ck_assert_int_eq(upf_serve_aft(m, &q, &r, qs, &err), UPF_OK);
        ck_assert_double_eq_tol(r.eta, 0.8 + log(20.0), 1e-12);
        ck_assert_double_eq_tol(r.sigma, 1.0, 1e-15);
        ck_assert(r.horizon_days == 30.0);
        ck_assert_double_eq_tol(r.p_no_purchase, exp(-lam * 30.0), 1e-12); /* memoryless: same after elapsed time */
        for (int k = 0; k < 3; k++) ck_assert_double_eq_tol(qs[k], -log1p(-probs[k]) / lam, 1e-9);
        ck_assert_double_eq_tol(r.median_days, log(2.0) / lam, 1e-9);
        ck_assert_double_eq_tol(r.mean_days, 1.0 / lam, 1e-9);
        /* Poisson process: lambda H purchases; the renewal scheme's stated accuracy is 1e-3 relative */
        ck_assert_double_le(fabs(r.expected_purchases - lam * 30.0), 1e-3 * lam * 30.0);
    }
    upf_model_close(m);
    free(buf);
}
END_TEST

START_TEST(test_aft_loglogistic_conditional)
{
    unsigned char *buf;
    upf_model *m = aft_model("loglogistic", log(0.5), -0.3, log(15.0), 60.0, &buf);
    double x = 6.0, eta = -0.3 * -1.0 + log(15.0), sigma = 0.5;
    double probs[2] = { 0.25, 0.8 }, qs[2];
    upf_aft_query q = { &x, 1, 20.0, 12.0, probs, 2 };
    upf_aft_result r;
    upf_err err;
    ck_assert_int_eq(upf_serve_aft(m, &q, &r, qs, &err), UPF_OK);
    /* S(t) = 1 / (1 + (t / e^eta)^(1/sigma)) */
#define S(t) (1.0 / (1.0 + pow((t) / exp(eta), 1.0 / sigma)))
    ck_assert_double_eq_tol(r.eta, eta, 1e-12);
    ck_assert_double_eq_tol(r.p_no_purchase, S(32.0) / S(12.0), 1e-12);
    for (int k = 0; k < 2; k++) ck_assert_double_eq_tol(S(12.0 + qs[k]) / S(12.0), 1.0 - probs[k], 1e-9);
    ck_assert_double_eq_tol(S(12.0 + r.median_days) / S(12.0), 0.5, 1e-9);
    ck_assert_double_eq_tol(r.mean_days, exp(eta) * 3.14159265358979323846 * sigma / sin(3.14159265358979323846 * sigma), 1e-9);
#undef S
    /* the model's horizon when none is given; bad inputs */
    upf_aft_query q2 = { &x, 1, 0, 0, NULL, 0 };
    ck_assert_int_eq(upf_serve_aft(m, &q2, &r, NULL, &err), UPF_OK);
    ck_assert(r.horizon_days == 60.0);
    q2.elapsed_days = -1;
    ck_assert_int_eq(upf_serve_aft(m, &q2, &r, NULL, &err), UPF_ERR_ARG);
    q2.elapsed_days = 0;
    q2.n_x = 2;
    ck_assert_int_eq(upf_serve_aft(m, &q2, &r, NULL, &err), UPF_ERR_ARG);
    upf_model_close(m);
    free(buf);
}
END_TEST

/* Expected purchases against a Monte Carlo renewal process, for increasing
 * (sigma 0.5) and decreasing (sigma 1.5) hazards, fresh and after an elapsed time. */
START_TEST(test_aft_renewal_monte_carlo)
{
    static const double log_sigmas[2] = { -0.6931471805599453, 0.4054651081081644 };
    upf_rng g;
    upf_rng_seed(&g, 99, 0);
    for (int c = 0; c < 2; c++)
        for (int e = 0; e < 2; e++) {
            unsigned char *buf;
            upf_model *m = aft_model("weibull", log_sigmas[c], 0.0, log(10.0), 60.0, &buf);
            double x = 10.0, sigma = exp(log_sigmas[c]), elapsed = e ? 8.0 : 0.0;
            upf_aft_query q = { &x, 1, 60.0, elapsed, NULL, 0 };
            upf_aft_result r;
            upf_err err;
            ck_assert_int_eq(upf_serve_aft(m, &q, &r, NULL, &err), UPF_OK);
            /* T = 10 exp(sigma W), W = log E: P(T > t) = exp(-(t/10)^(1/sigma)) */
            enum { REPS = 100000 };
            double sum = 0, sum2 = 0;
            for (int rep = 0; rep < REPS; rep++) {
                double t, first;
                do first = 10.0 * exp(sigma * log(upf_rng_exponential(&g)));
                while (first <= elapsed);   /* the residual law given T > elapsed, by rejection */
                t = first - elapsed;
                int k = 0;
                while (t <= 60.0) {
                    k++;
                    t += 10.0 * exp(sigma * log(upf_rng_exponential(&g)));
                }
                sum += k;
                sum2 += (double)k * k;
            }
            double mean = sum / REPS, se = sqrt((sum2 / REPS - mean * mean) / REPS);
            ck_assert_msg(fabs(r.expected_purchases - mean) < 4 * se + 2e-3 * mean,
                          "sigma %g elapsed %g: %g vs Monte Carlo %g (se %g)", sigma, elapsed, r.expected_purchases,
                          mean, se);
            upf_model_close(m);
            free(buf);
        }
}
END_TEST

/* ---- lifetime: BG/NBD ---- */

static upf_model *bgnbd_model(double r, double al, double a, double b, int gg, unsigned char **buf)
{
    upf_mw *w;
    upf_err err;
    upf_mw_create(&w, UPF_KIND_LIFETIME_BGNBD, &err);
    upf_mw_meta_f64(w, UPF_M_BGNBD_R, r);
    upf_mw_meta_f64(w, UPF_M_BGNBD_ALPHA, al);
    upf_mw_meta_f64(w, UPF_M_BGNBD_A, a);
    upf_mw_meta_f64(w, UPF_M_BGNBD_B, b);
    if (gg) {
        upf_mw_meta_f64(w, UPF_M_GG_P, 6.25);
        upf_mw_meta_f64(w, UPF_M_GG_Q, 3.74);
        upf_mw_meta_f64(w, UPF_M_GG_GAMMA, 15.44);
    }
    size_t n;
    *buf = upf_test_write(w, &n);
    upf_mw_free(w);
    return upf_test_open(*buf, n, 0);
}

START_TEST(test_bgnbd_published_and_reference)
{
    unsigned char *buf;
    upf_err err;
    upf_bgnbd_result r;
    /* Fader, Hardie & Lee (2005), section 5: 1.226 purchases in the next 39 weeks */
    upf_model *m = bgnbd_model(0.243, 4.414, 0.793, 2.426, 0, &buf);
    ck_assert_int_eq(upf_serve_bgnbd(m, 2, 30.43, 38.86, 39, NAN, &r, &err), UPF_OK);
    ck_assert_double_eq_tol(r.expected_purchases, 1.226, 5e-4);
    ck_assert(isnan(r.expected_avg_spend));
    upf_model_close(m);
    free(buf);
    /* tests/golden/lifetime_golden.py (scipy hyp2f1), CDNOW parameters of BENCH.md */
    m = bgnbd_model(0.2426, 4.4137, 0.7930, 2.4262, 1, &buf);
    static const double cases[4][6] = {
        { 2, 30.43, 38.86, 39, 0.72660663665403846, 1.2258954857111442 },
        { 0, 0, 38.86, 39, 1.0, 0.19478614104649017 },
        { 7, 35.0, 38.86, 52, 0.84377522906520819, 5.5204264092928286 },
        { 1, 2.0, 38.86, 200, 0.22200845210721834, 0.75809783985285761 },
    };
    for (int k = 0; k < 4; k++) {
        ck_assert_int_eq(upf_serve_bgnbd(m, cases[k][0], cases[k][1], cases[k][2], cases[k][3], 35.0, &r, &err), UPF_OK);
        ck_assert_double_eq_tol(r.p_alive, cases[k][4], 1e-12);
        ck_assert_double_eq_tol(r.expected_purchases, cases[k][5], 1e-9 * cases[k][5]);
    }
    /* Gamma-Gamma, by hand: p (gamma + x m) / (p x + q - 1) with x = 1, m = 35 */
    ck_assert_double_eq_tol(r.expected_avg_spend, 6.25 * (15.44 + 35.0) / (6.25 + 3.74 - 1.0), 1e-12);
    ck_assert_int_eq(upf_serve_bgnbd(m, 2, 0, 38.86, 0, NAN, &r, &err), UPF_OK);
    ck_assert(r.expected_purchases == 0.0);
    ck_assert_int_eq(upf_serve_bgnbd(m, 2, 40, 38.86, 10, NAN, &r, &err), UPF_ERR_ARG); /* t_x > T */
    ck_assert_int_eq(upf_serve_bgnbd(m, 1.5, 4, 38.86, 10, NAN, &r, &err), UPF_ERR_ARG);
    upf_model_close(m);
    free(buf);
}
END_TEST

/* ---- uplift ---- */

static upf_model *uplift_model(const char *method, size_t rows, const float *wts, unsigned char **buf)
{
    upf_mw *w;
    upf_err err;
    upf_mw_create(&w, UPF_KIND_UPLIFT, &err);
    static const char *arms[] = { "control", "email", "sms" }, *names[] = { "spend", "visits" };
    upf_mw_meta_str(w, UPF_M_UPLIFT_METHOD, method);
    upf_mw_meta_str_array(w, UPF_M_UPLIFT_ARMS, arms, strcmp(method, "class_transform") ? 3 : 2);
    upf_mw_meta_str_array(w, UPF_M_AFT_FEATURES, names, 2);
    upf_mw_meta_f64_array(w, UPF_M_AFT_CENTER, (const double[]){ 100.0, 3.0 }, 2);
    upf_mw_meta_f64_array(w, UPF_M_AFT_SCALE, (const double[]){ 50.0, 2.0 }, 2);
    upf_mw_tensor_f32(w, UPF_T_UPLIFT_WEIGHTS, wts, 2, (const uint64_t[]){ rows, 3 }, UPF_DTYPE_F32);
    size_t n;
    *buf = upf_test_write(w, &n);
    upf_mw_free(w);
    return upf_test_open(*buf, n, 0);
}

START_TEST(test_uplift_methods)
{
    static const float wts[9] = { 0.5f, -0.25f, -2.0f, 0.75f, 0.5f, -1.5f, -0.5f, 0.0f, -1.0f };
    double x[2] = { 150.0, 1.0 }; /* z = (1, -1) */
    double eta[3] = { 0.5 + 0.25 - 2.0, 0.75 - 0.5 - 1.5, -0.5 - 1.0 };
    double p[3], u[3];
    upf_err err;
    unsigned char *buf;
    upf_model *m = uplift_model("two_model", 3, wts, &buf);
    ck_assert_int_eq(upf_serve_uplift(m, x, 2, p, u, &err), UPF_OK);
    for (int k = 0; k < 3; k++) {
        ck_assert_double_eq_tol(p[k], 1.0 / (1.0 + exp(-eta[k])), 1e-15);
        ck_assert_double_eq_tol(u[k], p[k] - p[0], 1e-15);
    }
    ck_assert_int_eq(upf_serve_uplift(m, x, 1, p, u, &err), UPF_ERR_ARG);
    upf_model_close(m);
    free(buf);
    m = uplift_model("interaction", 3, wts, &buf);
    ck_assert_int_eq(upf_serve_uplift(m, x, 2, p, u, &err), UPF_OK);
    ck_assert_double_eq_tol(p[0], 1.0 / (1.0 + exp(-eta[0])), 1e-15);
    ck_assert_double_eq_tol(p[2], 1.0 / (1.0 + exp(-(eta[0] + eta[2]))), 1e-15);
    upf_model_close(m);
    free(buf);
    m = uplift_model("class_transform", 1, wts, &buf);
    ck_assert_int_eq(upf_serve_uplift(m, x, 2, p, u, &err), UPF_OK);
    ck_assert(isnan(p[0]) && isnan(p[1]) && u[0] == 0.0);
    ck_assert_double_eq_tol(u[1], 2.0 / (1.0 + exp(-eta[0])) - 1.0, 1e-15);
    upf_model_close(m);
    free(buf);
    /* the v1 fixture */
    size_t gn;
    unsigned char *g = upf_test_golden("v1_uplift_tiny.upf", &gn);
    m = upf_test_open(g, gn, 0);
    double xs = 150.0;
    ck_assert_int_eq(upf_serve_uplift(m, &xs, 1, p, u, &err), UPF_OK);
    ck_assert_double_eq_tol(p[0], 1.0 / (1.0 + exp(1.5)), 1e-15);
    ck_assert_double_eq_tol(u[1], 1.0 / (1.0 + exp(0.75)) - 1.0 / (1.0 + exp(1.5)), 1e-15);
    upf_model_close(m);
    free(g);
}
END_TEST

/* A file whose (CRC-valid) factors hold NaN and infinity: the runtime must
 * neither crash nor invoke undefined behaviour (the fuzzer found the int16
 * quantization of such a user vector), and never returns a NaN score. */
START_TEST(test_nonfinite_factors)
{
    rk r;
    rk_make(&r, 64, 3, 1, 8, 5, 0);
    static const upf_dtype stores[3] = { UPF_DTYPE_F32, UPF_DTYPE_F16, UPF_DTYPE_I8S };
    for (int st = 0; st < 3; st++) {
        unsigned char *buf;
        upf_model *m0 = rk_model(&r, stores[st], 0, 1.0, &buf);
        upf_model_close(m0);
        /* poison user 1 (NaN) and user 2 (inf) in place, then re-seal the CRCs */
        size_t uf = upf_test_tensor_data(buf, UPF_T_USER_FACTORS), rec = upf_test_tensor_rec(buf, UPF_T_USER_FACTORS);
        size_t n = (size_t)upf_rd_u64le(buf + 32), esz = stores[st] == UPF_DTYPE_F32 ? 4 : stores[st] == UPF_DTYPE_F16 ? 2 : 1;
        if (stores[st] == UPF_DTYPE_F32) {
            upf_wr_u32le(buf + uf + 1 * 8 * esz, 0x7FC00000u);
            upf_wr_u32le(buf + uf + 2 * 8 * esz + 4, 0x7F800000u);
        } else if (stores[st] == UPF_DTYPE_F16) {
            upf_wr_u16le(buf + uf + 1 * 8 * esz, 0x7E00u);
            upf_wr_u16le(buf + uf + 2 * 8 * esz + 2, 0x7C00u);
        } else { /* I8S: the scales must stay finite (checked at open); a huge one overflows the profile sum */
            size_t sc = upf_test_sect_offset(buf, 3) + (size_t)upf_rd_u64le(buf + rec + 16);
            upf_wr_u32le(buf + sc + 4 * 1, 0x7F7FFFFFu); /* FLT_MAX */
        }
        upf_test_reseal(buf, n);
        upf_model *m = upf_test_open(buf, n, 0);
        upf_scratch *s;
        upf_err err;
        ck_assert_int_eq(upf_scratch_create(m, &s, &err), UPF_OK);
        for (int32_t u = 0; u < 3; u++) {
            int32_t attrs[1] = { 0 };
            float w[1] = { 3e38f };
            upf_user_query q = { u, attrs, w, 1, NULL, 0 }; /* the attribute pushes the sum past FLT_MAX */
            upf_hit h[64], hr[64];
            size_t nh, nr;
            ck_assert_int_eq(upf_serve_topk(m, &q, NULL, 64, s, h, &nh, &err), UPF_OK);
            ck_assert_int_eq(upf_serve_topk_ref(m, &q, NULL, 64, s, hr, &nr, &err), UPF_OK);
            ck_assert_uint_eq(nh, nr);
            ck_assert(same_hits(h, hr, nh));
            for (size_t k = 0; k < nh; k++) ck_assert(!isnan(h[k].score));
        }
        upf_scratch_free(s);
        upf_model_close(m);
        free(buf);
    }
    rk_free(&r);
}
END_TEST

Suite *serve_suite(void)
{
    Suite *s = suite_create("serve");
    TCase *tc = tcase_create("ranker");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_f32_parity_bit_exact);
    tcase_add_test(tc, test_fast_equals_reference);
    tcase_add_test(tc, test_ties_by_index);
    tcase_add_test(tc, test_quantized_tolerance);
    tcase_add_test(tc, test_profile_vector);
    tcase_add_test(tc, test_popularity_dim0);
    tcase_add_test(tc, test_serve_errors);
    tcase_add_test(tc, test_threads_one_handle);
    tcase_add_test(tc, test_nonfinite_factors);
    suite_add_tcase(s, tc);
    tc = tcase_create("cooccur");
    tcase_add_test(tc, test_cooccur_tiny_by_hand);
    tcase_add_test(tc, test_cooccur_fast_equals_reference);
    suite_add_tcase(s, tc);
    tc = tcase_create("lifetime");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_aft_exponential_exact);
    tcase_add_test(tc, test_aft_loglogistic_conditional);
    tcase_add_test(tc, test_aft_renewal_monte_carlo);
    tcase_add_test(tc, test_bgnbd_published_and_reference);
    tcase_add_test(tc, test_uplift_methods);
    suite_add_tcase(s, tc);
    return s;
}
