/* test_modelfile.c - the .upf writer and reader: round trips of every dtype
 * and metadata type, determinism, byte equality with the committed fixtures
 * written by an independent Python writer, old-version fixtures, truncation at
 * every length, every byte flipped, hostile values (each refused with the
 * right status), kind checks, allocation failures, and a seeded mutation fuzz
 * that re-seals CRCs to reach the checks behind them. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../model/f16.h"
#include "../model/quant.h"
#include "../model/rng.h"
#include "modeltest.h"
#include "testutil.h"

/* ---- builders mirroring tests/golden/make_upf_golden.py ---- */

static upf_mw *build_ranker_tiny(void)
{
    upf_mw *w;
    upf_err err;
    ck_assert_int_eq(upf_mw_create(&w, UPF_KIND_RANKER, &err), UPF_OK);
    static const char *ids[] = { "a", "b", "\xc3\xa9t\xc3\xa9" }, *uids[] = { "u0", "u1" };
    static const double arr[] = { 1.5, -2.0, 1e300 };
    static const float bias[] = { 0.5f, -1.25f, 0.0f };
    static const float itf[] = { 1.0f, -0.5f, 0.25f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 3.0f, 2.0f, -1.0f, 0.3f };
    static const float uf[] = { 0.5f, 1.0f, -2.0f, 0.1f, 1.0f, 0.0f, 0.0f, -1.0f };
    static const uint8_t flags[] = { 1, 0, 1 };
    static const int32_t ti32[] = { -7, 2147483647 };
    static const int64_t ti64[] = { -9007199254740993LL, 3 };
    /* added out of order on purpose: the writer sorts keys */
    ck_assert_int_eq(upf_mw_meta_str(w, "model.family", "ranker"), UPF_OK);
    ck_assert_int_eq(upf_mw_meta_u64(w, "ranker.dim", 4), UPF_OK);
    ck_assert_int_eq(upf_mw_meta_str_array(w, "items.ids", ids, 3), UPF_OK);
    ck_assert_int_eq(upf_mw_meta_str_array(w, "users.ids", uids, 2), UPF_OK);
    ck_assert_int_eq(upf_mw_meta_u64(w, "train.seed", 42), UPF_OK);
    ck_assert_int_eq(upf_mw_meta_i64(w, "data.time_min", -5), UPF_OK);
    ck_assert_int_eq(upf_mw_meta_f64(w, "eval.ndcg_at_10", 0.25), UPF_OK);
    ck_assert_int_eq(upf_mw_meta_bool(w, "test.flag", 7), UPF_OK);
    ck_assert_int_eq(upf_mw_meta_f64_array(w, "test.array", arr, 3), UPF_OK);
    ck_assert_int_eq(upf_mw_meta_str_array(w, "test.empty", NULL, 0), UPF_OK);
    ck_assert_int_eq(upf_mw_tensor_f32(w, "item_bias", bias, 1, (const uint64_t[]){ 3 }, UPF_DTYPE_F32), UPF_OK);
    ck_assert_int_eq(upf_mw_tensor_f32(w, "item_factors", itf, 2, (const uint64_t[]){ 3, 4 }, UPF_DTYPE_I8S), UPF_OK);
    ck_assert_int_eq(upf_mw_tensor_f32(w, "user_factors", uf, 2, (const uint64_t[]){ 2, 4 }, UPF_DTYPE_F16), UPF_OK);
    ck_assert_int_eq(upf_mw_tensor_u8(w, "item_flags", flags, 1, (const uint64_t[]){ 3 }), UPF_OK);
    ck_assert_int_eq(upf_mw_tensor_i32(w, "test_i32", ti32, 1, (const uint64_t[]){ 2 }), UPF_OK);
    ck_assert_int_eq(upf_mw_tensor_i64(w, "test_i64", ti64, 2, (const uint64_t[]){ 1, 2 }), UPF_OK);
    return w;
}

static upf_mw *build_aft_tiny(void)
{
    upf_mw *w;
    upf_err err;
    ck_assert_int_eq(upf_mw_create(&w, UPF_KIND_LIFETIME_AFT, &err), UPF_OK);
    static const char *names[] = { "recency", "frequency" };
    ck_assert_int_eq(upf_mw_meta_str(w, UPF_M_AFT_DIST, "weibull"), UPF_OK);
    ck_assert_int_eq(upf_mw_meta_f64_array(w, UPF_M_AFT_BETA, (const double[]){ 0.5, -0.25, 3.0 }, 3), UPF_OK);
    ck_assert_int_eq(upf_mw_meta_f64(w, UPF_M_AFT_LOG_SIGMA, -0.5), UPF_OK);
    ck_assert_int_eq(upf_mw_meta_f64(w, UPF_M_AFT_HORIZON, 30.0), UPF_OK);
    ck_assert_int_eq(upf_mw_meta_str(w, UPF_M_AFT_TARGET, "user"), UPF_OK);
    ck_assert_int_eq(upf_mw_meta_str_array(w, UPF_M_AFT_FEATURES, names, 2), UPF_OK);
    ck_assert_int_eq(upf_mw_meta_f64_array(w, UPF_M_AFT_CENTER, (const double[]){ 10.0, 2.0 }, 2), UPF_OK);
    ck_assert_int_eq(upf_mw_meta_f64_array(w, UPF_M_AFT_SCALE, (const double[]){ 5.0, 1.5 }, 2), UPF_OK);
    ck_assert_int_eq(upf_mw_meta_str(w, "model.family", "aft"), UPF_OK);
    return w;
}

/* ---- golden ---- */

static void expect_same_bytes(upf_mw *w, const char *fixture)
{
    size_t n, gn;
    unsigned char *b = upf_test_write(w, &n), *g = upf_test_golden(fixture, &gn);
    ck_assert_msg(n == gn, "%s: writer gives %zu bytes, the fixture has %zu", fixture, n, gn);
    for (size_t i = 0; i < n; i++)
        UPF_CHECK(b[i] == g[i], "%s: first difference at byte %zu (writer 0x%02x, fixture 0x%02x)", fixture, i,
                      b[i], g[i]);
    free(b);
    free(g);
}

START_TEST(test_golden_bytes)
{
    upf_mw *w = build_ranker_tiny();
    expect_same_bytes(w, "v1_ranker_tiny.upf");
    upf_mw_free(w);
    w = build_aft_tiny();
    expect_same_bytes(w, "v1_aft_tiny.upf");
    upf_mw_free(w);
}
END_TEST

/* Fixtures of released versions stay readable with the same values, forever. */
START_TEST(test_golden_v1_fixtures)
{
    size_t n;
    unsigned char *b = upf_test_golden("v1_ranker_tiny.upf", &n);
    upf_model *m = upf_test_open(b, n, 0);
    uint16_t maj, min;
    upf_model_version(m, &maj, &min);
    ck_assert_uint_eq(maj, 1);
    ck_assert_uint_eq(min, 0);
    ck_assert_uint_eq(upf_model_kind(m), UPF_KIND_RANKER);
    uint64_t u;
    int64_t i64;
    double f;
    int bl;
    const char *s;
    size_t len;
    ck_assert_int_eq(upf_model_meta_u64(m, "train.seed", &u), UPF_OK);
    ck_assert_uint_eq(u, 42);
    ck_assert_int_eq(upf_model_meta_i64(m, "data.time_min", &i64), UPF_OK);
    ck_assert_int_eq(i64, -5);
    ck_assert_int_eq(upf_model_meta_f64(m, "eval.ndcg_at_10", &f), UPF_OK);
    ck_assert(f == 0.25);
    ck_assert_int_eq(upf_model_meta_bool(m, "test.flag", &bl), UPF_OK);
    ck_assert_int_eq(bl, 1);
    ck_assert_int_eq(upf_model_meta_str_at(m, "items.ids", 2, &s, &len), UPF_OK);
    ck_assert(len == 5 && memcmp(s, "\xc3\xa9t\xc3\xa9", 5) == 0);
    const double *arr;
    ck_assert_int_eq(upf_model_meta_f64_array(m, "test.array", &arr, &len), UPF_OK);
    ck_assert(len == 3 && arr[0] == 1.5 && arr[1] == -2.0 && arr[2] == 1e300);
    upf_meta_type t;
    ck_assert_int_eq(upf_model_meta_count(m, "test.empty", &t, &len), UPF_OK);
    ck_assert(t == UPF_META_STR_ARRAY && len == 0);
    upf_tensor_view v;
    float x[12];
    ck_assert_int_eq(upf_model_tensor(m, "item_factors", &v, NULL), UPF_OK);
    ck_assert(v.dtype == UPF_DTYPE_I8S && v.q_block == 4 && v.dims[0] == 3 && v.dims[1] == 4);
    ck_assert_int_eq(upf_tensor_read_f32(&v, 0, 12, x), UPF_OK);
    ck_assert(x[0] == 1.0f && x[4] == 0.0f && v.scales[1] == 0.0f && x[8] == 3.0f);
    ck_assert(((const int8_t *)v.data)[11] == 13); /* 0.3 / (3/127) = 12.7 -> 13 */
    ck_assert_int_eq(upf_model_tensor(m, "user_factors", &v, NULL), UPF_OK);
    ck_assert_int_eq(upf_tensor_read_f32(&v, 0, 8, x), UPF_OK);
    ck_assert(x[3] == upf_f16_to_f32(upf_f32_to_f16(0.1f)) && x[2] == -2.0f);
    double d2[2];
    ck_assert_int_eq(upf_model_tensor(m, "test_i64", &v, NULL), UPF_OK);
    ck_assert_int_eq(upf_tensor_read_f64(&v, 0, 2, d2), UPF_OK);
    ck_assert(d2[1] == 3.0 && ((const int64_t *)v.data)[0] == -9007199254740993LL);
    upf_model_close(m);
    free(b);

    /* the other kinds */
    b = upf_test_golden("v1_aft_tiny.upf", &n);
    m = upf_test_open(b, n, 0);
    ck_assert_int_eq(upf_model_meta_f64(m, UPF_M_AFT_LOG_SIGMA, &f), UPF_OK);
    ck_assert(f == -0.5);
    upf_model_close(m);
    free(b);
    b = upf_test_golden("v1_bgnbd_tiny.upf", &n);
    m = upf_test_open(b, n, 0);
    ck_assert_int_eq(upf_model_meta_f64(m, UPF_M_GG_Q, &f), UPF_OK);
    ck_assert(f == 3.74);
    upf_model_close(m);
    free(b);
    b = upf_test_golden("v1_uplift_tiny.upf", &n);
    m = upf_test_open(b, n, 0);
    ck_assert_int_eq(upf_model_meta_str_at(m, UPF_M_UPLIFT_ARMS, 1, &s, &len), UPF_OK);
    ck_assert(len == 5 && memcmp(s, "email", 5) == 0);
    upf_model_close(m);
    free(b);
    b = upf_test_golden("v1_cooccur_tiny.upf", &n);
    m = upf_test_open(b, n, 0);
    ck_assert_int_eq(upf_model_tensor(m, UPF_T_NEIGHBOR_SIM, &v, NULL), UPF_OK);
    ck_assert(v.n_elems == 5 && ((const float *)v.data)[3] == 1.0f);
    upf_model_close(m);
    free(b);
}
END_TEST

/* ---- round trips ---- */

START_TEST(test_roundtrip_all_types)
{
    upf_mw *w;
    upf_err err;
    ck_assert_int_eq(upf_mw_create(&w, 200, &err), UPF_OK); /* an unknown kind: no kind rules */
    enum { R = 7, C = 70 };
    static float x[R * C];
    upf_rng r;
    upf_rng_seed(&r, 9, 0);
    for (int i = 0; i < R * C; i++) x[i] = (float)upf_rng_normal(&r) * 3.0f;
    x[5 * C + 1] = 0.0f;
    for (int c = 0; c < C; c++) x[6 * C + c] = 0.0f; /* an all-zero row */
    int8_t q[R * C];
    float sc[R * 3];
    upf_quant_i8s(x, R, C, 32, q, sc);
    uint8_t u8[5] = { 0, 1, 2, 254, 255 };
    int32_t i32[3] = { INT32_MIN, 0, INT32_MAX };
    int64_t i64[2] = { INT64_MIN, INT64_MAX };
    const char *strs[] = { "", "x", "a\tb", "\xe2\x82\xac", "" };
    ck_assert_int_eq(upf_mw_tensor_f32(w, "f32", x, 2, (const uint64_t[]){ R, C }, UPF_DTYPE_F32), UPF_OK);
    ck_assert_int_eq(upf_mw_tensor_f32(w, "f16", x, 3, (const uint64_t[]){ R, 2, 35 }, UPF_DTYPE_F16), UPF_OK);
    ck_assert_int_eq(upf_mw_tensor_f32(w, "i8s", x, 2, (const uint64_t[]){ R, C }, UPF_DTYPE_I8S), UPF_OK);
    ck_assert_int_eq(upf_mw_tensor_raw(w, "i8s_blocked", UPF_DTYPE_I8S, 2, (const uint64_t[]){ R, C }, q, sc, 32), UPF_OK);
    ck_assert_int_eq(upf_mw_tensor_u8(w, "u8", u8, 1, (const uint64_t[]){ 5 }), UPF_OK);
    ck_assert_int_eq(upf_mw_tensor_i32(w, "i32", i32, 4, (const uint64_t[]){ 1, 1, 1, 3 }), UPF_OK);
    ck_assert_int_eq(upf_mw_tensor_i64(w, "i64", i64, 1, (const uint64_t[]){ 2 }), UPF_OK);
    ck_assert_int_eq(upf_mw_tensor_f32(w, "empty", NULL, 2, (const uint64_t[]){ 0, 4 }, UPF_DTYPE_I8S), UPF_OK);
    ck_assert_int_eq(upf_mw_meta_u64(w, "m.u64", UINT64_MAX), UPF_OK);
    ck_assert_int_eq(upf_mw_meta_i64(w, "m.i64", INT64_MIN), UPF_OK);
    ck_assert_int_eq(upf_mw_meta_f64(w, "m.nan", NAN), UPF_OK);
    ck_assert_int_eq(upf_mw_meta_f64(w, "m.negzero", -0.0), UPF_OK);
    ck_assert_int_eq(upf_mw_meta_f64(w, "m.inf", -INFINITY), UPF_OK);
    ck_assert_int_eq(upf_mw_meta_str(w, "m.str", "h\xc3\xa9llo\nworld"), UPF_OK);
    ck_assert_int_eq(upf_mw_meta_str(w, "m.emptystr", ""), UPF_OK);
    ck_assert_int_eq(upf_mw_meta_bool(w, "m.false", 0), UPF_OK);
    ck_assert_int_eq(upf_mw_meta_f64_array(w, "m.arr", (const double[]){ 1, 2, 3, 4, 5 }, 5), UPF_OK);
    ck_assert_int_eq(upf_mw_meta_f64_array(w, "m.arr0", NULL, 0), UPF_OK);
    ck_assert_int_eq(upf_mw_meta_str_array(w, "m.strs", strs, 5), UPF_OK);
    ck_assert_int_eq(upf_mw_meta_raw(w, "m.future", 42, 0, "\x01\x02\x03", 3), UPF_OK);
    size_t n;
    unsigned char *b = upf_test_write(w, &n);
    ck_assert_uint_eq(n % 1, 0);
    upf_model *m = NULL;
    ck_assert_int_eq(upf_model_open_buffer(b, n, 0, &m, &err), UPF_ERR_VERSION); /* kind 200 unknown */
    m = upf_test_open(b, n, UPF_OPEN_ANY_KIND);
    upf_tensor_view v;
    float y[R * C], z[R * C];
    ck_assert_int_eq(upf_model_tensor(m, "f32", &v, NULL), UPF_OK);
    ck_assert_int_eq(upf_tensor_read_f32(&v, 0, R * C, y), UPF_OK);
    ck_assert(memcmp(x, y, sizeof x) == 0);
    ck_assert_int_eq((uintptr_t)v.data % 64, 0);
    ck_assert_int_eq(upf_model_tensor(m, "f16", &v, NULL), UPF_OK);
    ck_assert(v.ndim == 3 && v.dims[2] == 35 && v.dims[3] == 0);
    ck_assert_int_eq(upf_tensor_read_f32(&v, 0, R * C, y), UPF_OK);
    for (int i = 0; i < R * C; i++) UPF_REQUIRE(y[i] == upf_f16_to_f32(upf_f32_to_f16(x[i])));
    ck_assert_int_eq(upf_model_tensor(m, "i8s", &v, NULL), UPF_OK);
    ck_assert_uint_eq(v.q_block, C);
    ck_assert_int_eq(upf_tensor_read_f32(&v, 0, R * C, y), UPF_OK);
    int8_t q2[R * C];
    float sc2[R];
    upf_quant_i8s(x, R, C, C, q2, sc2);
    upf_dequant_i8s(q2, sc2, R, C, C, z);
    ck_assert(memcmp(y, z, sizeof y) == 0);
    ck_assert(v.scales[6] == 0.0f);
    ck_assert_int_eq(upf_model_tensor(m, "i8s_blocked", &v, NULL), UPF_OK);
    ck_assert_uint_eq(v.q_block, 32);
    ck_assert_int_eq(upf_tensor_read_f32(&v, 0, R * C, y), UPF_OK);
    upf_dequant_i8s(q, sc, R, C, 32, z);
    ck_assert(memcmp(y, z, sizeof y) == 0);
    double d[5];
    ck_assert_int_eq(upf_model_tensor(m, "u8", &v, NULL), UPF_OK);
    ck_assert_int_eq(upf_tensor_read_f64(&v, 0, 5, d), UPF_OK);
    ck_assert(d[4] == 255.0 && d[3] == 254.0);
    ck_assert_int_eq(upf_tensor_read_f32(&v, 0, 1, y), UPF_ERR_ARG); /* not a float tensor */
    ck_assert_int_eq(upf_tensor_read_f64(&v, 4, 2, d), UPF_ERR_ARG); /* out of range */
    ck_assert_int_eq(upf_model_tensor(m, "i32", &v, NULL), UPF_OK);
    ck_assert(v.ndim == 4 && ((const int32_t *)v.data)[0] == INT32_MIN && ((const int32_t *)v.data)[2] == INT32_MAX);
    ck_assert_int_eq(upf_model_tensor(m, "i64", &v, NULL), UPF_OK);
    ck_assert(((const int64_t *)v.data)[0] == INT64_MIN && ((const int64_t *)v.data)[1] == INT64_MAX);
    ck_assert_int_eq(upf_model_tensor(m, "empty", &v, NULL), UPF_OK);
    ck_assert(v.n_elems == 0 && v.dims[0] == 0);
    ck_assert_int_eq(upf_model_tensor(m, "nope", &v, &err), UPF_ERR_ARG);
    ck_assert_ptr_null(v.data);
    ck_assert_uint_eq(upf_model_n_tensors(m), 8);
    ck_assert_int_eq(upf_model_tensor_at(m, 1, &v), UPF_OK);
    ck_assert_str_eq(v.name, "f16"); /* file order = order added */

    uint64_t u;
    int64_t i;
    double f;
    int bl;
    const char *s;
    size_t len;
    ck_assert_int_eq(upf_model_meta_u64(m, "m.u64", &u), UPF_OK);
    ck_assert(u == UINT64_MAX);
    ck_assert_int_eq(upf_model_meta_i64(m, "m.i64", &i), UPF_OK);
    ck_assert(i == INT64_MIN);
    ck_assert_int_eq(upf_model_meta_f64(m, "m.nan", &f), UPF_OK);
    ck_assert(isnan(f));
    ck_assert_int_eq(upf_model_meta_f64(m, "m.negzero", &f), UPF_OK);
    ck_assert(f == 0.0 && signbit(f));
    ck_assert_int_eq(upf_model_meta_f64(m, "m.inf", &f), UPF_OK);
    ck_assert(isinf(f) && f < 0);
    ck_assert_int_eq(upf_model_meta_str(m, "m.str", &s, &len), UPF_OK);
    ck_assert(len == 12 && memcmp(s, "h\xc3\xa9llo\nworld", 12) == 0);
    ck_assert_int_eq(upf_model_meta_str(m, "m.emptystr", &s, &len), UPF_OK);
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(upf_model_meta_bool(m, "m.false", &bl), UPF_OK);
    ck_assert_int_eq(bl, 0);
    const double *arr;
    ck_assert_int_eq(upf_model_meta_f64_array(m, "m.arr", &arr, &len), UPF_OK);
    ck_assert(len == 5 && arr[4] == 5.0 && (uintptr_t)arr % 8 == 0);
    ck_assert_int_eq(upf_model_meta_f64_array(m, "m.arr0", &arr, &len), UPF_OK);
    ck_assert_uint_eq(len, 0);
    for (size_t k = 0; k < 5; k++) {
        ck_assert_int_eq(upf_model_meta_str_at(m, "m.strs", k, &s, &len), UPF_OK);
        ck_assert(len == strlen(strs[k]) && memcmp(s, strs[k], len) == 0);
    }
    ck_assert_int_eq(upf_model_meta_str_at(m, "m.strs", 5, &s, &len), UPF_ERR_ARG);
    ck_assert_ptr_null(s);
    /* absent key or wrong type: UPF_ERR_ARG and zeroed output */
    u = 5;
    ck_assert_int_eq(upf_model_meta_u64(m, "m.i64", &u), UPF_ERR_ARG);
    ck_assert_uint_eq(u, 0);
    ck_assert_int_eq(upf_model_meta_str(m, "absent", &s, &len), UPF_ERR_ARG);
    ck_assert(s == NULL && len == 0);
    /* the unknown value type is kept and skipped */
    upf_meta_type t;
    ck_assert_int_eq(upf_model_meta_count(m, "m.future", &t, &len), UPF_OK);
    ck_assert_int_eq(t, 42);
    /* sorted order */
    ck_assert_uint_eq(upf_model_n_meta(m), 12);
    const char *prev = "", *key;
    size_t prev_len = 0, kl;
    for (size_t k = 0; k < upf_model_n_meta(m); k++) {
        ck_assert_int_eq(upf_model_meta_at(m, k, &key, &kl, &t), UPF_OK);
        ck_assert(k == 0 || upf_key_cmp((const uint8_t *)prev, prev_len, (const uint8_t *)key, kl) < 0);
        prev = key;
        prev_len = kl;
    }
    upf_meta_raw raw;
    ck_assert_int_eq(upf_model_meta_raw_at(m, 0, &raw), UPF_OK);
    ck_assert(raw.key_len == 5 && memcmp(raw.key, "m.arr", 5) == 0 && raw.val_len == 40);
    upf_model_close(m);
    free(b);
    upf_mw_free(w);
}
END_TEST

START_TEST(test_deterministic_and_file)
{
    upf_mw *w1 = build_ranker_tiny(), *w2 = build_ranker_tiny();
    size_t n1, n2;
    unsigned char *b1 = upf_test_write(w1, &n1), *b2 = upf_test_write(w2, &n2);
    ck_assert(n1 == n2 && memcmp(b1, b2, n1) == 0);
    /* the same writer twice */
    unsigned char *b3 = upf_test_write(w1, &n2);
    ck_assert(n1 == n2 && memcmp(b1, b3, n1) == 0);
    char *dir = upf_test_tmpdir(), path[4200];
    snprintf(path, sizeof path, "%s/m.upf", dir);
    upf_err err;
    ck_assert_int_eq(upf_mw_write(w1, path, &err), UPF_OK);
    size_t fn;
    unsigned char *fb = upf_test_slurp(path, &fn);
    ck_assert(fn == n1 && memcmp(fb, b1, n1) == 0);
    /* mmap and read paths give the same model */
    upf_model *m1, *m2;
    ck_assert_int_eq(upf_model_open(path, 0, &m1, &err), UPF_OK);
    ck_assert_int_eq(upf_model_open(path, UPF_OPEN_NO_MMAP, &m2, &err), UPF_OK);
    upf_file_info i1, i2;
    upf_model_file_info(m1, &i1);
    upf_model_file_info(m2, &i2);
    ck_assert_int_eq(i1.mapped, 1);
    ck_assert_int_eq(i2.mapped, 0);
    ck_assert(i1.file_size == n1 && i1.data_crc_checked == 1);
    upf_tensor_view v1, v2;
    ck_assert_int_eq(upf_model_tensor(m1, "item_bias", &v1, NULL), UPF_OK);
    ck_assert_int_eq(upf_model_tensor(m2, "item_bias", &v2, NULL), UPF_OK);
    ck_assert(memcmp(v1.data, v2.data, 12) == 0 && (uintptr_t)v2.data % 64 == 0);
    upf_model_close(m1);
    upf_model_close(m2);
    /* no temporaries left behind */
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 1", dir);
    ck_assert_int_eq(system(cmd), 0);
    /* errors on open */
    snprintf(path, sizeof path, "%s/absent.upf", dir);
    upf_model *m = (upf_model *)(uintptr_t)1;
    ck_assert_int_eq(upf_model_open(path, 0, &m, &err), UPF_ERR_IO);
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(err.msg, "absent.upf"));
    ck_assert_int_eq(upf_model_open(dir, 0, &m, &err), UPF_ERR_IO);
    snprintf(path, sizeof path, "%s/empty.upf", dir);
    FILE *f = fopen(path, "wb");
    fclose(f);
    ck_assert_int_eq(upf_model_open(path, 0, &m, &err), UPF_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "size"));
    upf_test_rmdir(dir);
    free(fb);
    free(b1);
    free(b2);
    free(b3);
    upf_mw_free(w1);
    upf_mw_free(w2);
}
END_TEST

START_TEST(test_writer_errors)
{
    upf_mw *w;
    upf_err err;
    float nanv[2] = { 1.0f, NAN }, big[2] = { 1.0f, 70000.0f };
    ck_assert_int_eq(upf_mw_create(&w, 0, &err), UPF_ERR_ARG);
    ck_assert_ptr_null(w);
    ck_assert_int_eq(upf_mw_create(&w, UPF_KIND_RANKER, &err), UPF_OK);
    ck_assert_int_eq(upf_mw_meta_u64(w, "a.b", 1), UPF_OK);
    ck_assert_int_eq(upf_mw_meta_u64(w, "a.b", 2), UPF_ERR_ARG);           /* duplicate */
    ck_assert_int_eq(upf_mw_meta_u64(w, "has space", 2), UPF_ERR_ARG);     /* bad key */
    ck_assert_int_eq(upf_mw_meta_u64(w, "", 2), UPF_ERR_ARG);
    ck_assert_int_eq(upf_mw_meta_str(w, "bad.utf8", "\xff\xfe"), UPF_ERR_ARG);
    ck_assert_int_eq(upf_mw_meta_str_array(w, "bad.arr", (const char *const[]){ "ok", "\xc3" }, 2), UPF_ERR_ARG);
    ck_assert_int_eq(upf_mw_tensor_f32(w, "t", nanv, 1, (const uint64_t[]){ 2 }, UPF_DTYPE_F32), UPF_OK);
    ck_assert_int_eq(upf_mw_tensor_f32(w, "t", nanv, 1, (const uint64_t[]){ 2 }, UPF_DTYPE_F32), UPF_ERR_ARG);
    ck_assert_int_eq(upf_mw_tensor_f32(w, "t5", nanv, 5, (const uint64_t[]){ 1, 1, 1, 1, 2 }, UPF_DTYPE_F32), UPF_ERR_ARG);
    ck_assert_int_eq(upf_mw_tensor_f32(w, "ti", nanv, 1, (const uint64_t[]){ 2 }, UPF_DTYPE_I32), UPF_ERR_ARG);
    ck_assert_int_eq(upf_mw_tensor_f32(w, "big", nanv, 2, (const uint64_t[]){ UINT64_MAX, 3 }, UPF_DTYPE_F32), UPF_ERR_ARG);
    ck_assert_int_eq(upf_mw_tensor_raw(w, "rq", UPF_DTYPE_I8S, 1, (const uint64_t[]){ 2 }, "ab", NULL, 2), UPF_ERR_ARG);
    /* the first failure is what write reports */
    void *buf = (void *)1;
    size_t n = 9;
    ck_assert_int_eq(upf_mw_write_buffer(w, &buf, &n, &err), UPF_ERR_ARG);
    ck_assert(buf == NULL && n == 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "added twice"));
    upf_mw_free(w);
    /* non-finite values are refused when written */
    ck_assert_int_eq(upf_mw_create(&w, UPF_KIND_RANKER, &err), UPF_OK);
    ck_assert_int_eq(upf_mw_tensor_f32(w, "t", nanv, 1, (const uint64_t[]){ 2 }, UPF_DTYPE_I8S), UPF_OK);
    ck_assert_int_eq(upf_mw_write_buffer(w, &buf, &n, &err), UPF_ERR_NUMERIC);
    ck_assert_ptr_nonnull(strstr(err.msg, "'t'"));
    upf_mw_free(w);
    ck_assert_int_eq(upf_mw_create(&w, UPF_KIND_RANKER, &err), UPF_OK);
    ck_assert_int_eq(upf_mw_tensor_f32(w, "t", big, 1, (const uint64_t[]){ 2 }, UPF_DTYPE_F16), UPF_OK);
    ck_assert_int_eq(upf_mw_write_buffer(w, &buf, &n, &err), UPF_ERR_NUMERIC);
    ck_assert_ptr_nonnull(strstr(err.msg, "float16"));
    /* a failed file write leaves nothing behind */
    char *dir = upf_test_tmpdir(), path[4200];
    snprintf(path, sizeof path, "%s/m.upf", dir);
    ck_assert_int_eq(upf_mw_write(w, path, &err), UPF_ERR_NUMERIC);
    struct stat st;
    ck_assert_int_ne(stat(path, &st), 0);
    snprintf(path, sizeof path, "%s/no/such/dir/m.upf", dir);
    upf_mw_free(w);
    w = build_ranker_tiny();
    ck_assert_int_eq(upf_mw_write(w, path, &err), UPF_ERR_IO);
    upf_mw_free(w);
    upf_test_rmdir(dir);
}
END_TEST

/* ---- corruption ---- */

/* Every prefix of a valid file is refused with a message naming a size, an
 * offset or a section. */
START_TEST(test_truncation_every_length)
{
    const char *fixtures[] = { "v1_ranker_tiny.upf", "v1_cooccur_tiny.upf" };
    for (size_t f = 0; f < 2; f++) {
        size_t n;
        unsigned char *g = upf_test_golden(fixtures[f], &n);
        for (size_t len = 0; len < n; len++) {
            unsigned char *b = upf_test_aligned_copy(g, len);
            upf_err err;
            const char *msg = upf_test_refuse(b, len, 0, 0, &err);
            UPF_CHECK(err.status == UPF_ERR_FORMAT || err.status == UPF_ERR_CORRUPT, "len %zu: %s", len, msg);
            UPF_CHECK(strstr(msg, "size") || strstr(msg, "offset"), "len %zu: %s", len, msg);
            free(b);
        }
        free(g);
    }
}
END_TEST

/* Every byte of the file is covered by a CRC or must be zero padding, so any
 * single-byte change anywhere is refused (header and table included). */
START_TEST(test_flip_every_byte)
{
    size_t n;
    unsigned char *g = upf_test_golden("v1_ranker_tiny.upf", &n);
    unsigned char *b = upf_test_aligned_copy(g, n);
    static const unsigned char masks[] = { 0x01, 0x80, 0xFF, 0x10 };
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < sizeof masks; k++) {
            b[i] ^= masks[k];
            upf_err err;
            const char *msg = upf_test_refuse(b, n, 0, 0, &err);
            if (i < 64 + 256)
                UPF_CHECK(strstr(msg, "header") || strstr(msg, "section table"), "byte %zu: %s", i, msg);
            b[i] ^= masks[k];
        }
    /* with UPF_OPEN_SKIP_DATA_CRC a changed tensor value goes unnoticed (by design) */
    size_t at = upf_test_tensor_data(b, "item_bias");
    b[at] ^= 0x01;
    upf_model *m = upf_test_open(b, n, UPF_OPEN_SKIP_DATA_CRC);
    upf_file_info fi;
    upf_model_file_info(m, &fi);
    ck_assert_int_eq(fi.data_crc_checked, 0);
    upf_model_close(m);
    upf_err err;
    const char *msg = upf_test_refuse(b, n, 0, UPF_ERR_CORRUPT, &err);
    ck_assert_ptr_nonnull(strstr(msg, "tensor_data"));
    free(b);
    free(g);
}
END_TEST

/* Patches a u32/u64/u16/u8 at off, re-seals, and expects `want`. */
typedef struct patch {
    const char *what;
    size_t off;
    int width;              /* 1, 2, 4 or 8 */
    uint64_t value;
    upf_status want;        /* UPF_OK: must still open */
    const char *needle;     /* expected in the message, or NULL */
    unsigned flags;
} patch;

static void run_patches(const unsigned char *g, size_t n, const patch *p, size_t np)
{
    for (size_t i = 0; i < np; i++) {
        unsigned char *b = upf_test_aligned_copy(g, n);
        switch (p[i].width) {
        case 1: b[p[i].off] = (uint8_t)p[i].value; break;
        case 2: upf_wr_u16le(b + p[i].off, (uint16_t)p[i].value); break;
        case 4: upf_wr_u32le(b + p[i].off, (uint32_t)p[i].value); break;
        default: upf_wr_u64le(b + p[i].off, p[i].value); break;
        }
        upf_test_reseal(b, n);
        upf_model *m = NULL;
        upf_err err;
        upf_status st = upf_model_open_buffer(b, n, p[i].flags, &m, &err);
        ck_assert_msg(st == p[i].want, "%s: status %s, want %s (%s)", p[i].what, upf_status_str(st),
                      upf_status_str(p[i].want), st ? err.msg : "");
        if (st) {
            ck_assert_ptr_null(m);
            if (p[i].needle) ck_assert_msg(strstr(err.msg, p[i].needle), "%s: '%s' not in: %s", p[i].what, p[i].needle, err.msg);
        }
        upf_model_close(m);
        free(b);
    }
}

START_TEST(test_hostile_header_and_table)
{
    size_t n;
    unsigned char *g = upf_test_golden("v1_ranker_tiny.upf", &n);
    size_t meta = upf_test_sect_entry(g, 1), strs = upf_test_sect_entry(g, 4), data = upf_test_sect_entry(g, 3);
    uint64_t meta_off = upf_rd_u64le(g + meta + 8);
    const patch p[] = {
        { "major 2", 12, 2, 2, UPF_ERR_VERSION, "newer", 0 },
        { "major 0", 12, 2, 0, UPF_ERR_FORMAT, "version 0", 0 },
        { "minor 7 is fine", 14, 2, 7, UPF_OK, NULL, 0 },
        { "incompat flag", 20, 4, 1, UPF_ERR_VERSION, "incompatible", 0 },
        { "alignment 48", 28, 4, 48, UPF_ERR_FORMAT, "alignment", 0 },
        { "alignment 128", 28, 4, 128, UPF_ERR_FORMAT, "multiple", 0 },
        { "alignment huge", 28, 4, 1u << 31, UPF_ERR_FORMAT, "alignment", 0 },
        { "header_size 32", 24, 4, 32, UPF_ERR_FORMAT, "header_size", 0 },
        { "header_size 128 overlaps the table", 24, 4, 128, UPF_ERR_FORMAT, "section table", 0 },
        { "header_size huge", 24, 4, 0xFFFFFFFFu, UPF_ERR_FORMAT, "header", 0 },
        { "section count huge", 48, 4, 0xFFFFFFFFu, UPF_ERR_FORMAT, "section count", 0 },
        { "section count 0", 48, 4, 0, UPF_ERR_FORMAT, "section count", 0 },
        { "entry size 65", 52, 4, 65, UPF_ERR_FORMAT, "entry size", 0 },
        { "entry size huge", 52, 4, 0xFFFFFFF0u, UPF_ERR_FORMAT, "entry size", 0 },
        { "table offset misaligned", 40, 8, 65, UPF_ERR_FORMAT, "offset", 0 },
        { "table offset past the end", 40, 8, 1ull << 62, UPF_ERR_CORRUPT, "past the end", 0 },
        { "table offset near the end", 40, 8, (n / 64) * 64, UPF_ERR_CORRUPT, "past the end", 0 },
        { "file size", 32, 8, n + 64, UPF_ERR_CORRUPT, "size", 0 },
        { "kind 0", 16, 4, 0, UPF_ERR_FORMAT, "kind 0", 0 },
        { "kind unknown", 16, 4, 77, UPF_ERR_VERSION, "kind 77", 0 },
        { "kind unknown, any kind", 16, 4, 77, UPF_OK, NULL, UPF_OPEN_ANY_KIND },
        { "byte order", 8, 4, 0x04030201u, UPF_ERR_FORMAT, "big-endian", 0 },
        { "section past the end", meta + 8, 8, UPF_ALIGN_UP(n, 64) + 64, UPF_ERR_CORRUPT, "past the end", 0 },
        { "section size huge", meta + 16, 8, 1ull << 63, UPF_ERR_CORRUPT, "past the end", 0 },
        { "section misaligned", meta + 8, 8, meta_off + 8, UPF_ERR_FORMAT, "multiple of the alignment", 0 },
        { "sections overlap", strs + 8, 8, meta_off, UPF_ERR_FORMAT, "overlaps", 0 },
        { "section over the header", strs + 8, 8, 0, UPF_ERR_FORMAT, "overlaps", 0 },
        { "section type 0", strs, 4, 0, UPF_ERR_FORMAT, "type 0", 0 },
        { "unknown required section", strs, 4, 0x80000001u, UPF_ERR_VERSION, "REQUIRED", 0 },
        { "duplicate section", strs, 4, 1, UPF_ERR_FORMAT, "second", 0 },
        { "unknown optional section, strings missing", strs + 4, 4, 0, UPF_OK, NULL, 0 }, /* flags only: still fine */
        { "section name not ASCII", strs + 32, 1, 0xC3, UPF_ERR_FORMAT, "name", 0 },
        { "section count disagrees", meta + 28, 4, 99, UPF_ERR_FORMAT, "count", 0 },
        { "strings count disagrees", strs + 28, 4, 5, UPF_ERR_FORMAT, "strings", 0 },
        { "data size shrunk", data + 16, 8, 8, UPF_ERR_CORRUPT, "padding", 0 },
        { "nonzero padding", upf_rd_u64le(g + data + 8) - 1, 1, 0x55, UPF_ERR_CORRUPT, "padding", 0 },
    };
    run_patches(g, n, p, sizeof p / sizeof p[0]);
    free(g);
}
END_TEST

START_TEST(test_hostile_meta_and_tensors)
{
    size_t n;
    unsigned char *g = upf_test_golden("v1_ranker_tiny.upf", &n);
    size_t flag = upf_test_meta_entry(g, "test.flag"), arr = upf_test_meta_entry(g, "test.array");
    size_t ids = upf_test_meta_entry(g, "items.ids"), fam = upf_test_meta_entry(g, "model.family");
    size_t empty = upf_test_meta_entry(g, "test.empty");
    size_t rb = upf_test_tensor_rec(g, "item_bias"), rf = upf_test_tensor_rec(g, "item_factors");
    size_t ru = upf_test_tensor_rec(g, "user_factors");
    uint64_t rb_data = upf_rd_u64le(g + rb), strings = upf_test_sect_offset(g, 4);
    uint32_t uf_name = upf_rd_u32le(g + ru + 56);
    ck_assert(flag && arr && ids && fam && empty && rb && rf && ru);
    const patch p[] = {
        /* META */
        { "key length 0", flag, 2, 0, UPF_ERR_FORMAT, "key length", 0 },
        { "key length huge", flag, 2, 0xFFFF, UPF_ERR_FORMAT, "key length", 0 },
        { "value length huge", arr + 4, 4, 0xFFFFFFF0u, UPF_ERR_FORMAT, "value length", 0 },
        { "value length off", arr + 4, 4, 23, UPF_ERR_CORRUPT, "padding", 0 },
        { "f64 array of 6 bytes", fam + 2, 1, UPF_META_F64_ARRAY, UPF_ERR_FORMAT, "multiple of 8", 0 },
        { "duplicate key", empty + 8 + 5, 8, 0x7961727261ull, UPF_ERR_FORMAT, "appears twice", 0 }, /* test.empty -> test.array */
        { "unsorted key", fam + 8, 1, 'z', UPF_ERR_FORMAT, "out of order", 0 },
        { "bool 2", flag + 8 + 16, 1, 2, UPF_ERR_FORMAT, "bool", 0 },
        { "key not printable", flag + 9, 1, 0x01, UPF_ERR_FORMAT, "printable", 0 },
        { "string array count", ids + 8 + 16, 8, 4, UPF_ERR_FORMAT, "string array", 0 },
        { "string array count huge", ids + 8 + 16, 8, UINT64_MAX, UPF_ERR_FORMAT, "string array", 0 },
        { "string not UTF-8", ids + 8 + 16 + 8 + 4, 1, 0xFF, UPF_ERR_FORMAT, "UTF-8", 0 },
        { "critical unknown key", flag + 3, 1, 1, UPF_ERR_VERSION, "CRITICAL", 0 },
        { "critical known key", fam + 3, 1, 1, UPF_OK, NULL, 0 },
        { "unknown value type, skipped", flag + 2, 1, 99, UPF_OK, NULL, 0 },
        { "unknown value type, critical", flag + 2, 2, 99 | (1 << 8), UPF_ERR_VERSION, "value type 99", 0 },
        { "meta padding", fam + 8 + 12, 1, 'x', UPF_ERR_CORRUPT, "padding", 0 },
        /* TENSOR_INDEX */
        { "dtype 0", rb + 60, 1, 0, UPF_ERR_FORMAT, "dtype 0", 0 },
        { "dtype 9", rb + 60, 1, 9, UPF_ERR_FORMAT, "dtype 9", 0 },
        { "ndim 0", rb + 61, 1, 0, UPF_ERR_FORMAT, "ndim", 0 },
        { "ndim 5", rb + 61, 1, 5, UPF_ERR_FORMAT, "ndim", 0 },
        { "dims beyond ndim", rb + 32, 8, 1, UPF_ERR_FORMAT, "beyond ndim", 0 },
        { "dims overflow", rf + 24, 8, 1ull << 62, UPF_ERR_FORMAT, "overflow", 0 },
        { "dims disagree with size", rf + 24, 8, 4, UPF_ERR_FORMAT, "data size", 0 },
        { "data misaligned", rb, 8, rb_data + 4, UPF_ERR_FORMAT, "misaligned", 0 },
        { "data past the section", rb, 8, 1ull << 40, UPF_ERR_FORMAT, "outside", 0 },
        { "data overlaps", ru, 8, rb_data, UPF_ERR_FORMAT, "overlaps", 0 },
        { "scales past the section", rf + 16, 8, 1ull << 40, UPF_ERR_FORMAT, "scales", 0 },
        { "q_block 0", rf + 62, 2, 0, UPF_ERR_FORMAT, "q_block 0", 0 },
        { "q_block on f32", rb + 62, 2, 4, UPF_ERR_FORMAT, "q_block", 0 },
        { "name mid-string", rb + 56, 4, 2, UPF_ERR_FORMAT, "name offset", 0 },
        { "name past the end", rb + 56, 4, 0xFFFFFFF0u, UPF_ERR_FORMAT, "name offset", 0 },
        { "duplicate names", strings + uf_name, 1, 'i', UPF_ERR_FORMAT, NULL, 0 }, /* user_factors -> iser_factors: kind check */
        { "kind check: item_bias as f16", rb + 60, 1, UPF_DTYPE_F16, UPF_ERR_FORMAT, NULL, 0 },
    };
    run_patches(g, n, p, sizeof p / sizeof p[0]);

    /* two tensors named alike: rename test_i32 to test_i64 in STRINGS */
    unsigned char *b = upf_test_aligned_copy(g, n);
    size_t r32 = upf_test_tensor_rec(b, "test_i32");
    b[strings + upf_rd_u32le(b + r32 + 56) + 6] = '6';
    b[strings + upf_rd_u32le(b + r32 + 56) + 7] = '4';
    upf_test_reseal(b, n);
    upf_err err;
    ck_assert_ptr_nonnull(strstr(upf_test_refuse(b, n, 0, UPF_ERR_FORMAT, &err), "both named 'test_i64'"));
    free(b);
    /* a negative I8S scale */
    b = upf_test_aligned_copy(g, n);
    size_t sc = upf_test_sect_offset(b, 3) + (size_t)upf_rd_u64le(b + rf + 16);
    upf_wr_u32le(b + sc + 4, 0xBF800000u); /* -1.0f */
    upf_test_reseal(b, n);
    ck_assert_ptr_nonnull(strstr(upf_test_refuse(b, n, 0, UPF_ERR_FORMAT, &err), "scale"));
    free(b);
    free(g);
}
END_TEST

/* A file with the section table moved to the end and a fifth, unknown section. */
static unsigned char *with_extra_section(const unsigned char *g, size_t n, uint32_t type, uint32_t flags, size_t *out_n)
{
    size_t pay = UPF_ALIGN_UP(n, 64), tab = pay + 64, total = tab + 5 * 64;
    unsigned char *b = calloc(1, total);
    memcpy(b, g, n);
    memcpy(b + tab, g + 64, 4 * 64);
    memset(b + 64, 0, 4 * 64);           /* the old table becomes padding */
    memset(b + pay, 0x5A, 64);           /* the unknown section's payload */
    unsigned char *e = b + tab + 4 * 64;
    upf_wr_u32le(e, type);
    upf_wr_u32le(e + 4, flags);
    upf_wr_u64le(e + 8, pay);
    upf_wr_u64le(e + 16, 64);
    memcpy(e + 32, "x.private", 9);
    upf_wr_u64le(b + 32, total);
    upf_wr_u64le(b + 40, tab);
    upf_wr_u32le(b + 48, 5);
    upf_test_reseal(b, total);
    *out_n = total;
    return b;
}

START_TEST(test_unknown_sections)
{
    size_t n, xn;
    unsigned char *g = upf_test_golden("v1_ranker_tiny.upf", &n);
    unsigned char *b = with_extra_section(g, n, 0x80000007u, 0, &xn);
    unsigned char *a = upf_test_aligned_copy(b, xn);
    upf_model *m = upf_test_open(a, xn, 0);
    ck_assert_uint_eq(upf_model_n_sections(m), 5);
    upf_section_info si;
    ck_assert_int_eq(upf_model_section_at(m, 4, &si), UPF_OK);
    ck_assert_str_eq(si.name, "x.private");
    upf_model_close(m);
    free(a);
    free(b);
    b = with_extra_section(g, n, 0x80000007u, 1, &xn);
    upf_err err;
    ck_assert_ptr_nonnull(strstr(upf_test_refuse(b, xn, 0, UPF_ERR_VERSION, &err), "x.private"));
    free(b);
    b = with_extra_section(g, n, 1, 0, &xn);
    upf_test_refuse(b, xn, 0, UPF_ERR_FORMAT, &err);
    free(b);
    free(g);
}
END_TEST

START_TEST(test_critical_meta_written)
{
    upf_mw *w = build_ranker_tiny();
    ck_assert_int_eq(upf_mw_meta_raw(w, "zz.needed", UPF_META_U64, UPF_META_CRITICAL, "\1\0\0\0\0\0\0\0", 8), UPF_OK);
    size_t n;
    unsigned char *b = upf_test_write(w, &n);
    upf_err err;
    ck_assert_ptr_nonnull(strstr(upf_test_refuse(b, n, 0, UPF_ERR_VERSION, &err), "zz.needed"));
    free(b);
    upf_mw_free(w);
    w = build_ranker_tiny();
    ck_assert_int_eq(upf_mw_meta_set_flags(w, "train.seed", UPF_META_CRITICAL), UPF_OK); /* known: fine */
    ck_assert_int_eq(upf_mw_meta_set_flags(w, "absent.key", UPF_META_CRITICAL), UPF_ERR_ARG);
    upf_mw_free(w);
}
END_TEST

/* ---- kind checks ---- */

static upf_status open_status(upf_mw *w, upf_err *err)
{
    size_t n;
    unsigned char *b = upf_test_write(w, &n);
    upf_model *m = NULL;
    upf_status st = upf_model_open_buffer(b, n, 0, &m, err);
    upf_model_close(m);
    free(b);
    upf_mw_free(w);
    return st;
}

START_TEST(test_kind_rules)
{
    upf_err err;
    upf_mw *w;
    static const float f[12] = { 0 };
    static const char *ids3[] = { "a", "b", "c" }, *dup[] = { "a", "b", "a" };
    /* ranker: missing bias */
    upf_mw_create(&w, UPF_KIND_RANKER, &err);
    upf_mw_meta_u64(w, UPF_M_DIM, 0);
    upf_mw_meta_str_array(w, UPF_M_ITEM_IDS, ids3, 3);
    ck_assert_int_eq(open_status(w, &err), UPF_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "item_bias"));
    /* ranker: id count */
    upf_mw_create(&w, UPF_KIND_RANKER, &err);
    upf_mw_meta_u64(w, UPF_M_DIM, 0);
    upf_mw_meta_str_array(w, UPF_M_ITEM_IDS, ids3, 2);
    upf_mw_tensor_f32(w, UPF_T_ITEM_BIAS, f, 1, (const uint64_t[]){ 3 }, UPF_DTYPE_F32);
    ck_assert_int_eq(open_status(w, &err), UPF_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "items.ids"));
    /* ranker: duplicate ids */
    upf_mw_create(&w, UPF_KIND_RANKER, &err);
    upf_mw_meta_u64(w, UPF_M_DIM, 0);
    upf_mw_meta_str_array(w, UPF_M_ITEM_IDS, dup, 3);
    upf_mw_tensor_f32(w, UPF_T_ITEM_BIAS, f, 1, (const uint64_t[]){ 3 }, UPF_DTYPE_F32);
    ck_assert_int_eq(open_status(w, &err), UPF_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "appears twice"));
    /* ranker: factor shape */
    upf_mw_create(&w, UPF_KIND_RANKER, &err);
    upf_mw_meta_u64(w, UPF_M_DIM, 4);
    upf_mw_meta_str_array(w, UPF_M_ITEM_IDS, ids3, 3);
    upf_mw_tensor_f32(w, UPF_T_ITEM_BIAS, f, 1, (const uint64_t[]){ 3 }, UPF_DTYPE_F32);
    upf_mw_tensor_f32(w, UPF_T_ITEM_FACTORS, f, 2, (const uint64_t[]){ 4, 3 }, UPF_DTYPE_F32);
    ck_assert_int_eq(open_status(w, &err), UPF_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "(4, 3)"));
    /* ranker: dim > 0 without item factors */
    upf_mw_create(&w, UPF_KIND_RANKER, &err);
    upf_mw_meta_u64(w, UPF_M_DIM, 4);
    upf_mw_meta_str_array(w, UPF_M_ITEM_IDS, ids3, 3);
    upf_mw_tensor_f32(w, UPF_T_ITEM_BIAS, f, 1, (const uint64_t[]){ 3 }, UPF_DTYPE_F32);
    ck_assert_int_eq(open_status(w, &err), UPF_ERR_FORMAT);
    /* ranker: dim stored as the wrong type */
    upf_mw_create(&w, UPF_KIND_RANKER, &err);
    upf_mw_meta_i64(w, UPF_M_DIM, 0);
    upf_mw_meta_str_array(w, UPF_M_ITEM_IDS, ids3, 3);
    upf_mw_tensor_f32(w, UPF_T_ITEM_BIAS, f, 1, (const uint64_t[]){ 3 }, UPF_DTYPE_F32);
    ck_assert_int_eq(open_status(w, &err), UPF_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "value type"));
    /* cooccur: neighbour out of range; ptr not monotone */
    static const int64_t ptr_ok[] = { 0, 1, 2 }, ptr_bad[] = { 0, 2, 1 };
    static const int32_t idx_bad[] = { 1, 5 }, idx_ok[] = { 1, 0 };
    static const char *ids2[] = { "x", "y" };
    for (int t = 0; t < 2; t++) {
        upf_mw_create(&w, UPF_KIND_COOCCUR, &err);
        upf_mw_meta_str_array(w, UPF_M_ITEM_IDS, ids2, 2);
        upf_mw_tensor_i64(w, UPF_T_NEIGHBOR_PTR, t ? ptr_bad : ptr_ok, 1, (const uint64_t[]){ 3 });
        upf_mw_tensor_i32(w, UPF_T_NEIGHBOR_IDX, t ? idx_ok : idx_bad, 1, (const uint64_t[]){ 2 });
        upf_mw_tensor_f32(w, UPF_T_NEIGHBOR_SIM, f, 1, (const uint64_t[]){ 2 }, UPF_DTYPE_F32);
        ck_assert_int_eq(open_status(w, &err), UPF_ERR_FORMAT);
        ck_assert_ptr_nonnull(strstr(err.msg, t ? "neighbor_ptr" : "neighbour 1"));
    }
    /* AFT: a zero scale; an unknown distribution */
    for (int t = 0; t < 2; t++) {
        upf_mw_create(&w, UPF_KIND_LIFETIME_AFT, &err);
        upf_mw_meta_str(w, UPF_M_AFT_DIST, t ? "gompertz" : "weibull");
        upf_mw_meta_f64_array(w, UPF_M_AFT_BETA, (const double[]){ 0.5, 3.0 }, 2);
        upf_mw_meta_f64(w, UPF_M_AFT_LOG_SIGMA, 0.0);
        upf_mw_meta_f64(w, UPF_M_AFT_HORIZON, 30.0);
        upf_mw_meta_str_array(w, UPF_M_AFT_FEATURES, ids2, 1);
        upf_mw_meta_f64_array(w, UPF_M_AFT_CENTER, (const double[]){ 1.0 }, 1);
        upf_mw_meta_f64_array(w, UPF_M_AFT_SCALE, (const double[]){ t ? 1.0 : 0.0 }, 1);
        ck_assert_int_eq(open_status(w, &err), UPF_ERR_FORMAT);
        ck_assert_ptr_nonnull(strstr(err.msg, t ? "distribution" : "scale"));
    }
    /* uplift: rows disagree with arms */
    upf_mw_create(&w, UPF_KIND_UPLIFT, &err);
    upf_mw_meta_str(w, UPF_M_UPLIFT_METHOD, "two_model");
    upf_mw_meta_str_array(w, UPF_M_UPLIFT_ARMS, ids3, 3);
    upf_mw_meta_str_array(w, UPF_M_AFT_FEATURES, ids2, 1);
    upf_mw_meta_f64_array(w, UPF_M_AFT_CENTER, (const double[]){ 1.0 }, 1);
    upf_mw_meta_f64_array(w, UPF_M_AFT_SCALE, (const double[]){ 1.0 }, 1);
    upf_mw_tensor_f32(w, UPF_T_UPLIFT_WEIGHTS, f, 2, (const uint64_t[]){ 2, 2 }, UPF_DTYPE_F32);
    ck_assert_int_eq(open_status(w, &err), UPF_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "uplift_weights"));
    /* BG/NBD: a negative parameter */
    upf_mw_create(&w, UPF_KIND_LIFETIME_BGNBD, &err);
    upf_mw_meta_f64(w, UPF_M_BGNBD_R, 0.2);
    upf_mw_meta_f64(w, UPF_M_BGNBD_ALPHA, -4.0);
    upf_mw_meta_f64(w, UPF_M_BGNBD_A, 0.8);
    upf_mw_meta_f64(w, UPF_M_BGNBD_B, 2.4);
    ck_assert_int_eq(open_status(w, &err), UPF_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "bgnbd.alpha"));
    ck_assert_int_eq(upf_kind_tensor_allows(UPF_KIND_RANKER, UPF_T_ITEM_FACTORS, UPF_DTYPE_I8S), 1);
    ck_assert_int_eq(upf_kind_tensor_allows(UPF_KIND_RANKER, UPF_T_ITEM_BIAS, UPF_DTYPE_I8S), 0);
    ck_assert_int_eq(upf_kind_tensor_allows(UPF_KIND_RANKER, "other", UPF_DTYPE_F32), 0);
}
END_TEST

/* ---- allocation failures ---- */

START_TEST(test_alloc_failure)
{
    size_t n;
    unsigned char *g = upf_test_golden("v1_ranker_tiny.upf", &n);
    unsigned char *a = upf_test_aligned_copy(g, n);
    char *dir = upf_test_tmpdir(), path[4200];
    snprintf(path, sizeof path, "%s/m.upf", dir);
    FILE *f = fopen(path, "wb");
    fwrite(g, 1, n, f);
    fclose(f);
    for (int variant = 0; variant < 3; variant++) {
        long fails = 0;
        for (long nth = 1;; nth++) {
            upf_model *m = (upf_model *)(uintptr_t)1;
            upf_err err;
            upf_alloc_fail_after(nth);
            upf_status st = variant == 0   ? upf_model_open_buffer(a, n, 0, &m, &err)
                            : variant == 1 ? upf_model_open_buffer(g + 0, n, 0, &m, &err) /* may copy */
                                           : upf_model_open(path, UPF_OPEN_NO_MMAP, &m, &err);
            upf_alloc_fail_after(0);
            if (st == UPF_OK) {
                upf_model_close(m);
                break;
            }
            ck_assert_msg(st == UPF_ERR_NOMEM, "variant %d, allocation %ld: %s", variant, nth, err.msg);
            ck_assert_ptr_null(m);
            fails++;
            ck_assert_int_lt(nth, 1000);
        }
        ck_assert_int_gt(fails, 3);
    }
    /* the writer too */
    for (long nth = 1;; nth++) {
        upf_alloc_fail_after(nth);
        upf_mw *w = NULL;
        upf_err err;
        upf_status st = upf_mw_create(&w, UPF_KIND_RANKER, &err);
        if (!st) {
            upf_mw_meta_u64(w, "a.b", 1);
            upf_mw_meta_str(w, "a.c", "x");
            upf_mw_tensor_f32(w, "t", (const float[]){ 1, 2 }, 1, (const uint64_t[]){ 2 }, UPF_DTYPE_I8S);
            void *buf;
            size_t bn;
            st = upf_mw_write_buffer(w, &buf, &bn, &err);
            if (!st) upf_free_aligned(buf);
        }
        upf_alloc_fail_after(0);
        upf_mw_free(w);
        if (st == UPF_OK) break;
        ck_assert_msg(st == UPF_ERR_NOMEM, "writer allocation %ld: %s", nth, err.msg);
        ck_assert_int_lt(nth, 1000);
    }
    upf_test_rmdir(dir);
    free(a);
    free(g);
}
END_TEST

/* ---- mutation fuzz (a deterministic, always-on cousin of `make fuzz`) ---- */

static void exercise(const upf_model *m)
{
    for (size_t i = 0; i < upf_model_n_tensors(m); i++) {
        upf_tensor_view v;
        upf_model_tensor_at(m, i, &v);
        double d[64];
        for (uint64_t k = 0; k < v.n_elems; k += 64) upf_tensor_read_f64(&v, k, v.n_elems - k < 64 ? (size_t)(v.n_elems - k) : 64, d);
    }
    for (size_t i = 0; i < upf_model_n_meta(m); i++) {
        upf_meta_raw raw;
        upf_model_meta_raw_at(m, i, &raw);
        char key[300];
        snprintf(key, sizeof key, "%.*s", (int)raw.key_len, raw.key);
        upf_meta_type t;
        size_t cnt;
        upf_model_meta_count(m, key, &t, &cnt);
        const char *s;
        size_t len;
        if (t == UPF_META_STR_ARRAY)
            for (size_t k = 0; k < cnt; k++) upf_model_meta_str_at(m, key, k, &s, &len);
    }
    upf_scratch *s;
    upf_err err;
    if (upf_scratch_create(m, &s, &err)) return;
    upf_serve_shape sh;
    upf_serve_shape_get(m, &sh);
    upf_hit hits[8];
    size_t nh;
    upf_user_query q = upf_user_query_default();
    int32_t recent[2] = { 0, sh.n_items - 1 };
    if (sh.n_users > 0) q.user = sh.n_users - 1;
    if (upf_model_kind(m) == UPF_KIND_COOCCUR) {
        q.user = -1;
        q.recent = recent;
        q.n_recent = sh.n_items > 0 ? 2 : 0;
    }
    upf_serve_topk(m, &q, NULL, 8, s, hits, &nh, &err);
    double x[4] = { 1, 2, 3, 4 }, p[8], up[8], qs[1];
    upf_aft_result ar;
    upf_aft_query aq = { x, sh.n_features, 0, 1, (const double[]){ 0.9 }, 1 };
    if (sh.n_features <= 4) {
        upf_serve_aft(m, &aq, &ar, qs, &err);
        if (sh.n_arms <= 8) upf_serve_uplift(m, x, sh.n_features, p, up, &err);
    }
    upf_bgnbd_result br;
    upf_serve_bgnbd(m, 2, 10, 20, 10, 5.0, &br, &err);
    upf_scratch_free(s);
}

START_TEST(test_mutation_fuzz)
{
    const char *seeds[] = { "v1_ranker_tiny.upf", "v1_cooccur_tiny.upf", "v1_aft_tiny.upf", "v1_uplift_tiny.upf",
                            "v1_bgnbd_tiny.upf" };
    upf_rng r;
    upf_rng_seed(&r, 2024, 0);
    long opened = 0, total = 0;
    for (size_t sdx = 0; sdx < 5; sdx++) {
        size_t n;
        unsigned char *g = upf_test_golden(seeds[sdx], &n);
        for (int it = 0; it < 3000; it++) {
            size_t len = n;
            if (upf_rng_below(&r, 8) == 0) len = upf_rng_below(&r, (uint32_t)n + 1);
            unsigned char *b = upf_test_aligned_copy(g, n);
            int nmut = 1 + (int)upf_rng_below(&r, 4);
            for (int k = 0; k < nmut && len; k++) {
                size_t at = upf_rng_below(&r, (uint32_t)len);
                switch (upf_rng_below(&r, 4)) {
                case 0: b[at] ^= (unsigned char)(1u << upf_rng_below(&r, 8)); break;
                case 1: b[at] = (unsigned char)upf_rng_next(&r); break;
                case 2: b[at] = upf_rng_below(&r, 2) ? 0xFF : 0x00; break;
                default: if (at + 8 <= len) upf_wr_u64le(b + at, upf_rng_below(&r, 2) ? upf_rng_next(&r) : upf_rng_below(&r, 300));
                }
            }
            if (upf_rng_below(&r, 4)) upf_test_reseal(b, len); /* get past the CRCs most of the time */
            upf_model *m = NULL;
            upf_err err;
            if (upf_model_open_buffer(b, len, UPF_OPEN_ANY_KIND, &m, &err) == UPF_OK) {
                opened++;
                exercise(m);
                upf_model_close(m);
            } else {
                UPF_REQUIRE(m == NULL);
                UPF_REQUIRE(err.msg[0]);
            }
            total++;
            free(b);
        }
        free(g);
    }
    ck_assert_int_gt(opened, 0); /* some mutations are harmless (e.g. a metadata value) */
    ck_assert_int_lt(opened, total);
}
END_TEST

Suite *modelfile_suite(void)
{
    Suite *s = suite_create("modelfile");
    TCase *tc = tcase_create("roundtrip");
    tcase_add_test(tc, test_golden_bytes);
    tcase_add_test(tc, test_golden_v1_fixtures);
    tcase_add_test(tc, test_roundtrip_all_types);
    tcase_add_test(tc, test_deterministic_and_file);
    tcase_add_test(tc, test_writer_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("corruption");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_truncation_every_length);
    tcase_add_test(tc, test_flip_every_byte);
    tcase_add_test(tc, test_hostile_header_and_table);
    tcase_add_test(tc, test_hostile_meta_and_tensors);
    tcase_add_test(tc, test_unknown_sections);
    tcase_add_test(tc, test_critical_meta_written);
    tcase_add_test(tc, test_kind_rules);
    tcase_add_test(tc, test_alloc_failure);
    tcase_add_test(tc, test_mutation_fuzz);
    suite_add_tcase(s, tc);
    return s;
}
