/* test_codecs.c - CRC-32 (known answer, table, fast vs bitwise), float16 (all
 * 65,536 patterns, rounding edges, random floats against a brute-force
 * nearest), I8S (crafted blocks: zero, +-max, ties, clamping, underflow;
 * error bound), and the scoring kernels (AVX2 vs reference, bit for bit). */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../model/crc32.h"
#include "../model/crc32_table.inc"
#include "../model/f16.h"
#include "../model/kernels.h"
#include "../model/quant.h"
#include "../model/rng.h"
#include "../model/score.h"
#include "modeltest.h"
#include "testutil.h"

/* ---- CRC-32 ---- */

START_TEST(test_crc32_known)
{
    ck_assert_uint_eq(upf_crc32(0, "123456789", 9), 0xCBF43926u);
    ck_assert_uint_eq(upf_crc32_ref(0, "123456789", 9), 0xCBF43926u);
    ck_assert_uint_eq(upf_crc32(0, "", 0), 0u);
    ck_assert_uint_eq(upf_crc32(0, NULL, 0), 0u);
    /* zlib.crc32(b"The quick brown fox jumps over the lazy dog") */
    ck_assert_uint_eq(upf_crc32(0, "The quick brown fox jumps over the lazy dog", 43), 0x414FA339u);
    /* continuation: crc(a||b) from crc(a) */
    ck_assert_uint_eq(upf_crc32(upf_crc32(0, "12345", 5), "6789", 4), 0xCBF43926u);
}
END_TEST

START_TEST(test_crc32_table)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
        UPF_REQUIRE(upf_crc32_tab[0][i] == c);
        for (int t = 1; t < 8; t++) {
            c = (c >> 8) ^ upf_crc32_tab[0][c & 0xFF];
            UPF_REQUIRE(upf_crc32_tab[t][i] == c);
        }
    }
}
END_TEST

START_TEST(test_crc32_fast_vs_ref)
{
    upf_rng r;
    upf_rng_seed(&r, 1, 0);
    unsigned char buf[1100];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (unsigned char)upf_rng_next(&r);
    for (int trial = 0; trial < 400; trial++) {
        size_t off = upf_rng_below(&r, 16), n = upf_rng_below(&r, 1000);
        uint32_t seed = trial % 3 ? upf_rng_u32(&r) : 0;
        UPF_REQUIRE(upf_crc32(seed, buf + off, n) == upf_crc32_ref(seed, buf + off, n));
    }
}
END_TEST

/* ---- float16 ---- */

/* Independent decoding: (-1)^s 2^(e-15) (1 + m/1024), subnormals m 2^-24. */
static double f16_value(uint16_t h)
{
    int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? (double)NAN : (double)INFINITY) : ldexp(1024 + m, e - 25);
    return s ? -v : v;
}

START_TEST(test_f16_all_patterns)
{
    for (uint32_t h = 0; h < 65536; h++) {
        float f = upf_f16_to_f32((uint16_t)h);
        double want = f16_value((uint16_t)h);
        if (isnan(want)) {
            UPF_CHECK(isnan(f), "0x%04x should decode to NaN", h);
        } else {
            UPF_CHECK((double)f == want && !!signbit(f) == !!signbit(want), "0x%04x -> %g, want %g", h, (double)f, want);
        }
        UPF_CHECK(upf_f32_to_f16(f) == h, "0x%04x does not round-trip (got 0x%04x)", h, upf_f32_to_f16(f));
    }
}
END_TEST

static float next_up(float x) { return nextafterf(x, INFINITY); }
static float next_down(float x) { return nextafterf(x, -INFINITY); }

START_TEST(test_f16_rounding_edges)
{
    /* every pair of adjacent positive finite halves: the midpoint ties to the
     * even one; a hair below goes down, a hair above goes up */
    for (uint32_t h = 0; h < 0x7BFF; h++) {
        for (int neg = 0; neg < 2; neg++) {
            uint16_t lo = (uint16_t)(h | (neg ? 0x8000u : 0)), hi = (uint16_t)((h + 1) | (neg ? 0x8000u : 0));
            float mid = (float)((f16_value(lo) + f16_value(hi)) / 2); /* exact in float */
            uint16_t even = (h & 1) ? hi : lo;
            UPF_CHECK(upf_f32_to_f16(mid) == even, "midpoint of 0x%04x/0x%04x -> 0x%04x", lo, hi,
                          upf_f32_to_f16(mid));
            float toward_lo = neg ? next_up(mid) : next_down(mid), toward_hi = neg ? next_down(mid) : next_up(mid);
            UPF_REQUIRE(upf_f32_to_f16(toward_lo) == lo);
            UPF_REQUIRE(upf_f32_to_f16(toward_hi) == hi);
        }
    }
    ck_assert_uint_eq(upf_f32_to_f16(65504.0f), 0x7BFF);
    ck_assert_uint_eq(upf_f32_to_f16(next_down(65520.0f)), 0x7BFF);
    ck_assert_uint_eq(upf_f32_to_f16(65520.0f), 0x7C00); /* tie with 2^16: to even -> inf */
    ck_assert_uint_eq(upf_f32_to_f16(-65520.0f), 0xFC00);
    ck_assert_uint_eq(upf_f32_to_f16(1e30f), 0x7C00);
    ck_assert_uint_eq(upf_f32_to_f16(INFINITY), 0x7C00);
    ck_assert_uint_eq(upf_f32_to_f16(-INFINITY), 0xFC00);
    ck_assert_uint_eq(upf_f32_to_f16(0x1p-24f), 0x0001);
    ck_assert_uint_eq(upf_f32_to_f16(0x1p-25f), 0x0000); /* tie with 0: to even */
    ck_assert_uint_eq(upf_f32_to_f16(next_up(0x1p-25f)), 0x0001);
    ck_assert_uint_eq(upf_f32_to_f16(0x1p-26f), 0x0000);
    ck_assert_uint_eq(upf_f32_to_f16(-0.0f), 0x8000);
    ck_assert_uint_eq(upf_f32_to_f16(1e-40f), 0x0000); /* float subnormal */
    ck_assert_uint_eq(upf_f32_to_f16(0x1.ffcp-15f), 0x0400); /* rounds up into the smallest normal */
    ck_assert_uint_eq(upf_f32_to_f16(1.0f), 0x3C00);
    uint16_t qn = upf_f32_to_f16(NAN);
    ck_assert((qn & 0x7C00) == 0x7C00 && (qn & 0x3FF));
    float snan;
    uint32_t sbits = 0x7F800001u; /* payload only in bits the half cannot keep */
    memcpy(&snan, &sbits, 4);
    uint16_t hn = upf_f32_to_f16(snan);
    ck_assert((hn & 0x7C00) == 0x7C00 && (hn & 0x3FF)); /* still a NaN, not inf */
}
END_TEST

START_TEST(test_f16_random_vs_bruteforce)
{
    upf_rng r;
    upf_rng_seed(&r, 7, 0);
    for (int i = 0; i < 200000; i++) {
        uint32_t bits = upf_rng_u32(&r);
        /* bias toward the half's range: exponents 100..145 */
        bits = (bits & 0x807FFFFFu) | ((100u + upf_rng_below(&r, 46)) << 23);
        float f;
        memcpy(&f, &bits, 4);
        uint16_t got = upf_f32_to_f16(f);
        /* brute force: the nearest of the two halves around |f|, ties to even */
        double a = fabs((double)f);
        uint16_t best = 0;
        if (a >= 65520.0) best = 0x7C00;
        else {
            uint16_t lo = 0;
            for (int step = 1 << 14; step; step >>= 1)
                if (lo + step <= 0x7BFF && f16_value((uint16_t)(lo + step)) <= a) lo = (uint16_t)(lo + step);
            uint16_t hi = (uint16_t)(lo + 1);
            double dl = a - f16_value(lo), dh = f16_value(hi) - a;
            best = dl < dh ? lo : dh < dl ? hi : (lo & 1) ? hi : lo;
        }
        if (f < 0) best |= 0x8000;
        UPF_CHECK(got == best, "%a -> 0x%04x, want 0x%04x", (double)f, got, best);
    }
}
END_TEST

/* ---- I8S ---- */

START_TEST(test_i8s_blocks)
{
    int8_t q[8];
    float s;
    const float zero[4] = { 0, 0, -0.0f, 0 };
    upf_quant_i8s_block(zero, 4, q, &s);
    ck_assert(s == 0.0f);
    for (int i = 0; i < 4; i++) ck_assert_int_eq(q[i], 0);
    const float pm[3] = { 2.54f, -2.54f, 0.0f };
    upf_quant_i8s_block(pm, 3, q, &s);
    ck_assert(s == 2.54f / 127.0f);
    ck_assert_int_eq(q[0], 127);
    ck_assert_int_eq(q[1], -127);
    ck_assert_int_eq(q[2], 0);
    /* scale 1: x/scale lands on .5 exactly -> half away from zero */
    const float ties[5] = { 127.0f, 2.5f, -2.5f, 0.5f, -0.49f };
    upf_quant_i8s_block(ties, 5, q, &s);
    ck_assert(s == 1.0f);
    ck_assert_int_eq(q[1], 3);
    ck_assert_int_eq(q[2], -3);
    ck_assert_int_eq(q[3], 1);
    ck_assert_int_eq(q[4], 0);
    /* max|x| so small that max/127 underflows to 0: scale 0, q 0, no division by zero */
    const float tiny[2] = { 1e-45f, -1e-45f };
    upf_quant_i8s_block(tiny, 2, q, &s);
    ck_assert(s == 0.0f);
    ck_assert_int_eq(q[0], 0);
    ck_assert_int_eq(q[1], 0);
    ck_assert_uint_eq(upf_quant_n_blocks(10, 4), 3);
    ck_assert_uint_eq(upf_quant_n_blocks(8, 4), 2);
    ck_assert_uint_eq(upf_quant_n_blocks(0, 4), 0);
}
END_TEST

START_TEST(test_i8s_error_bound)
{
    upf_rng r;
    upf_rng_seed(&r, 3, 0);
    enum { ROWS = 20, INNER = 37, QB = 8 };
    float x[ROWS * INNER], y[ROWS * INNER], sc[ROWS * 5];
    int8_t q[ROWS * INNER];
    for (int i = 0; i < ROWS * INNER; i++) x[i] = (float)upf_rng_normal(&r) * (float)(1 + i % 7);
    upf_quant_i8s(x, ROWS, INNER, QB, q, sc);
    upf_dequant_i8s(q, sc, ROWS, INNER, QB, y);
    for (int rr = 0; rr < ROWS; rr++)
        for (int d = 0; d < INNER; d++) {
            float s = sc[rr * 5 + d / QB];
            /* |x - q s| <= s/2, plus float rounding of x/s and of q*s */
            UPF_CHECK(fabsf(x[rr * INNER + d] - y[rr * INNER + d]) <= 0.5f * s * (1 + 1e-5f) + 1e-6f * fabsf(x[rr * INNER + d]),
                          "row %d col %d: %g vs %g (scale %g)", rr, d, (double)x[rr * INNER + d], (double)y[rr * INNER + d], (double)s);
        }
}
END_TEST

/* ---- kernels ---- */

START_TEST(test_score_dot_is_a_dot)
{
    upf_rng r;
    upf_rng_seed(&r, 11, 0);
    for (size_t n = 0; n < 70; n++) {
        float a[70], b[70];
        double exact = 0, mag = 0;
        for (size_t i = 0; i < n; i++) {
            a[i] = (float)upf_rng_normal(&r);
            b[i] = (float)upf_rng_normal(&r);
            exact += (double)a[i] * (double)b[i];
            mag += fabs((double)a[i] * (double)b[i]);
        }
        float d = upf_score_dot_f32(a, b, n);
        UPF_REQUIRE(fabs((double)d - exact) <= 1e-6 * mag + 1e-30);
        UPF_REQUIRE(upf_score_f32(0.5f, a, b, n) == 0.5f + d);
    }
}
END_TEST

/* Every kernel level agrees with the reference bit for bit, over dims with
 * and without a tail, row counts with and without a remainder of 4. */
START_TEST(test_kernels_match_reference)
{
    upf_kernels ref, best;
    upf_kernels_init(&ref, UPF_KERN_REF);
    upf_kernels_init(&best, UPF_KERN_AVX2);
    if (best.level == UPF_KERN_REF) fprintf(stderr, "note: no AVX2 on this CPU; comparing reference with itself\n");
    upf_rng r;
    upf_rng_seed(&r, 5, 0);
    static const size_t dims[] = { 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100 };
    enum { N = 41 };
    for (size_t di = 0; di < sizeof dims / sizeof dims[0]; di++) {
        size_t D = dims[di];
        float *rows = malloc(N * D * sizeof(float)), *u = malloc(D * sizeof(float)), *tmp = malloc(D * sizeof(float));
        uint16_t *h = malloc(N * D * sizeof(uint16_t));
        int8_t *q = malloc(N * D);
        float bias[N], scales[N * 8], o1[N], o2[N];
        for (size_t i = 0; i < N * D; i++) {
            rows[i] = (float)upf_rng_normal(&r);
            h[i] = upf_f32_to_f16(rows[i]);
        }
        for (size_t d = 0; d < D; d++) u[d] = (float)upf_rng_normal(&r);
        for (size_t i = 0; i < N; i++) bias[i] = (float)upf_rng_normal(&r);
        upf_quant_i8s(rows, N, D, D, q, scales);
        int16_t uq[100];
        float us;
        upf_kern_quant_user(u, D, uq, &us);
        upf_kern_args a = { u, rows, NULL, bias, D, 0, tmp, uq, us };
        for (int kind = 0; kind < 3; kind++) {
            upf_kern_fn fr = kind == 0 ? ref.f32 : kind == 1 ? ref.f16 : ref.i8;
            upf_kern_fn fb = kind == 0 ? best.f32 : kind == 1 ? best.f16 : best.i8;
            a.rows = kind == 0 ? (const void *)rows : kind == 1 ? (const void *)h : (const void *)q;
            a.scales = kind == 2 ? scales : NULL;
            a.q_block = kind == 2 ? D : 0;
            for (size_t first = 0; first < 3; first++)
                for (size_t n = 0; n + first <= N; n += 1 + n / 3) {
                    fr(&a, first, n, o1);
                    fb(&a, first, n, o2);
                    for (size_t i = 0; i < n; i++)
                        UPF_CHECK(memcmp(&o1[i], &o2[i], 4) == 0, "kind %d D %zu row %zu: %a vs %a", kind, D,
                                      first + i, (double)o1[i], (double)o2[i]);
                }
            /* the reference is score.h applied to the decoded row */
            fr(&a, 0, N, o1);
            for (size_t i = 0; i < N; i++) {
                float row[100];
                for (size_t d = 0; d < D; d++)
                    row[d] = kind == 0 ? rows[i * D + d] : kind == 1 ? upf_f16_to_f32(h[i * D + d]) : (float)q[i * D + d];
                int64_t idot = 0;
                for (size_t d = 0; d < D; d++) idot += (int64_t)uq[d] * q[i * D + d];
                float want = kind == 2 ? bias[i] + scales[i] * (us * (float)idot) : upf_score_f32(bias[i], u, row, D);
                UPF_REQUIRE(memcmp(&want, &o1[i], 4) == 0);
            }
        }
        /* blocked I8S: decode q * scale, then the f32 score */
        if (D >= 4) {
            size_t qb = D / 3 + 1, nb = upf_quant_n_blocks(D, qb);
            float *bs = malloc(N * nb * sizeof(float));
            upf_quant_i8s(rows, N, D, qb, q, bs);
            upf_kern_args b = { u, q, bs, bias, D, qb, tmp, NULL, 0.0f };
            ref.i8_blocked(&b, 0, N, o1);
            for (size_t i = 0; i < N; i++) {
                float row[100];
                upf_dequant_i8s(q + i * D, bs + i * nb, 1, D, qb, row);
                float want = upf_score_f32(bias[i], u, row, D);
                UPF_REQUIRE(memcmp(&want, &o1[i], 4) == 0);
            }
            free(bs);
        }
        free(rows);
        free(u);
        free(tmp);
        free(h);
        free(q);
    }
}
END_TEST

/* The int16 user quantization, and the int8 kernel past 4096 dims (int64 path). */
START_TEST(test_kernels_int8_user_and_long_rows)
{
    int16_t q[5];
    float s;
    const float z[3] = { 0, -0.0f, 0 };
    upf_kern_quant_user(z, 3, q, &s);
    ck_assert(s == 0.0f && q[0] == 0 && q[2] == 0);
    const float u[5] = { 2.0f, -2.0f, 1.0f, 0.0f, 1e-30f };
    upf_kern_quant_user(u, 5, q, &s);
    ck_assert(s == 2.0f / 32767.0f);
    ck_assert(q[0] == 32767 && q[1] == -32767 && q[3] == 0 && q[4] == 0);
    ck_assert(abs(q[2] - 16384) <= 1); /* 1 / (2/32767) = 16383.5, rounded either way by the float division */
    enum { D = 4200, N = 6 };
    upf_rng r;
    upf_rng_seed(&r, 8, 0);
    float *uu = malloc(D * sizeof(float)), *rows = malloc(N * D * sizeof(float)), *tmp = malloc(D * sizeof(float));
    int8_t *qq = malloc(N * D);
    int16_t *uq = malloc(D * sizeof(int16_t));
    float sc[N], bias[N] = { 0 }, o1[N], o2[N], us;
    for (size_t i = 0; i < D; i++) uu[i] = 100.0f; /* the worst case for int32: every product at its maximum */
    for (size_t i = 0; i < N * D; i++) rows[i] = i % 7 ? 1.0f : (float)upf_rng_normal(&r);
    upf_quant_i8s(rows, N, D, D, qq, sc);
    upf_kern_quant_user(uu, D, uq, &us);
    upf_kernels ref, best;
    upf_kernels_init(&ref, UPF_KERN_REF);
    upf_kernels_init(&best, UPF_KERN_AVX2);
    upf_kern_args a = { uu, qq, sc, bias, D, D, tmp, uq, us };
    ref.i8(&a, 0, N, o1);
    best.i8(&a, 0, N, o2);
    for (int i = 0; i < N; i++) {
        ck_assert(memcmp(&o1[i], &o2[i], 4) == 0);
        double exact = 0; /* against the decoded row: only the user rounding and the float products remain */
        for (size_t d = 0; d < D; d++) exact += 100.0 * (double)((float)qq[i * D + d] * sc[i]);
        ck_assert_double_le(fabs((double)o1[i] - exact), 1e-5 * fabs(exact));
    }
    free(uu);
    free(rows);
    free(tmp);
    free(qq);
    free(uq);
}
END_TEST

Suite *codecs_suite(void)
{
    Suite *s = suite_create("codecs");
    TCase *tc = tcase_create("crc32");
    tcase_add_test(tc, test_crc32_known);
    tcase_add_test(tc, test_crc32_table);
    tcase_add_test(tc, test_crc32_fast_vs_ref);
    suite_add_tcase(s, tc);
    tc = tcase_create("f16");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_f16_all_patterns);
    tcase_add_test(tc, test_f16_rounding_edges);
    tcase_add_test(tc, test_f16_random_vs_bruteforce);
    suite_add_tcase(s, tc);
    tc = tcase_create("i8s");
    tcase_add_test(tc, test_i8s_blocks);
    tcase_add_test(tc, test_i8s_error_bound);
    suite_add_tcase(s, tc);
    tc = tcase_create("kernels");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_score_dot_is_a_dot);
    tcase_add_test(tc, test_kernels_match_reference);
    tcase_add_test(tc, test_kernels_int8_user_and_long_rows);
    suite_add_tcase(s, tc);
    return s;
}
