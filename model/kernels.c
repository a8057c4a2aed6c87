/* kernels.c - reference and AVX2 scoring kernels (see kernels.h), and the
 * CPUID check that picks them. Legend: D dim, N rows, r row index.
 * The AVX2 float kernels keep score.h's lane order exactly: lane j of a
 * 256-bit accumulator is lane j of the canonical sum; four rows run side by
 * side and are reduced together through a 4x4 transpose. Multiply and add
 * stay separate instructions (no FMA), as in the reference. The int8 kernel
 * sums exact integers, so its order does not matter. */
#include "kernels.h"

#include <math.h>
#include <string.h>

#include "f16.h"
#include "score.h"

/* ---- reference kernels ---- */

static void kern_f32_ref(const upf_kern_args *a, size_t first, size_t n, float *out)
{
    const float *rows = a->rows;
    for (size_t i = 0; i < n; i++) {
        size_t r = first + i;
        out[i] = upf_score_f32(a->bias[r], a->u, rows + r * a->dim, a->dim);
    }
}

static void kern_f16_ref(const upf_kern_args *a, size_t first, size_t n, float *out)
{
    const uint16_t *rows = a->rows;
    for (size_t i = 0; i < n; i++) {
        size_t r = first + i;
        upf_f16_to_f32_n(rows + r * a->dim, a->tmp, a->dim);
        out[i] = upf_score_f32(a->bias[r], a->u, a->tmp, a->dim);
    }
}

void upf_kern_quant_user(const float *u, size_t D, int16_t *q, float *scale)
{
    float amax = 0.0f;
    int finite = 1;
    for (size_t d = 0; d < D; d++) {
        finite &= isfinite(u[d]) != 0;
        amax = fabsf(u[d]) > amax ? fabsf(u[d]) : amax;
    }
    if (!finite) { /* a NaN or infinite user vector (a hostile file): every score is NaN, as in float */
        memset(q, 0, D * sizeof *q);
        *scale = (float)NAN;
        return;
    }
    float s = amax / 32767.0f;
    *scale = s;
    for (size_t d = 0; d < D; d++) {
        float v = s == 0.0f ? 0.0f : roundf(u[d] / s);
        q[d] = (int16_t)(v > 32767.0f ? 32767.0f : v < -32767.0f ? -32767.0f : v);
    }
}

/* Integer dot product in int64: exact for any D. */
static void kern_i8_ref(const upf_kern_args *a, size_t first, size_t n, float *out)
{
    const int8_t *rows = a->rows;
    for (size_t i = 0; i < n; i++) {
        size_t r = first + i;
        const int8_t *q = rows + r * a->dim;
        int64_t dot = 0;
        for (size_t d = 0; d < a->dim; d++) dot += (int64_t)a->uq[d] * q[d];
        out[i] = a->bias[r] + a->scales[r] * (a->u_scale * (float)dot);
    }
}

/* Blocked I8S: decode q * scale, then the f32 score. One implementation serves
 * both levels (files written by upfunnel use q_block == D). */
static void kern_i8_blocked(const upf_kern_args *a, size_t first, size_t n, float *out)
{
    const int8_t *rows = a->rows;
    size_t nb = a->dim / a->q_block + (a->dim % a->q_block != 0);
    for (size_t i = 0; i < n; i++) {
        size_t r = first + i;
        const int8_t *q = rows + r * a->dim;
        const float *s = a->scales + r * nb;
        for (size_t d = 0; d < a->dim; d++) a->tmp[d] = (float)q[d] * s[d / a->q_block];
        out[i] = upf_score_f32(a->bias[r], a->u, a->tmp, a->dim);
    }
}

/* ---- AVX2 + F16C kernels (x86 with GCC or clang) ---- */

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define UPF_KERN_X86 1
#include <cpuid.h>
#include <immintrin.h>

#define TGT __attribute__((target("avx2,f16c")))

/* Lane masks for a tail of t < 8 elements: load from mask_src + 8 - t. */
static const int32_t mask_src[16] = { -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0 };

TGT static inline __m256i tail_mask(size_t t)
{
    return _mm256_loadu_si256((const __m256i *)(const void *)(mask_src + 8 - t));
}

/* Row element loaders: 8 values from p (full) or t < 8 values (tail, rest 0). */
TGT static inline __m256 ld_f32(const void *p, size_t d) { return _mm256_loadu_ps((const float *)p + d); }
TGT static inline __m256 ld_f32_tail(const void *p, size_t d, size_t t)
{
    return _mm256_maskload_ps((const float *)p + d, tail_mask(t));
}
TGT static inline __m256 ld_f16(const void *p, size_t d)
{
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)((const uint16_t *)p + d)));
}
TGT static inline __m256 ld_f16_tail(const void *p, size_t d, size_t t)
{
    uint16_t b[8] = { 0 };
    memcpy(b, (const uint16_t *)p + d, t * sizeof *b);
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)b));
}
/* (t0 + t2) + (t1 + t3) with t_j = l_j + l_{j+4}, for one accumulator. */
TGT static inline float reduce1(__m256 acc)
{
    __m128 t = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    __m128 s = _mm_add_ps(t, _mm_movehl_ps(t, t));               /* (t0+t2, t1+t3, ...) */
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)));  /* (t0+t2) + (t1+t3) */
}

/* The same for four rows at once: lane r of the result is row r's dot. */
TGT static inline __m128 reduce4(__m256 a0, __m256 a1, __m256 a2, __m256 a3)
{
    __m128 t0 = _mm_add_ps(_mm256_castps256_ps128(a0), _mm256_extractf128_ps(a0, 1));
    __m128 t1 = _mm_add_ps(_mm256_castps256_ps128(a1), _mm256_extractf128_ps(a1, 1));
    __m128 t2 = _mm_add_ps(_mm256_castps256_ps128(a2), _mm256_extractf128_ps(a2, 1));
    __m128 t3 = _mm_add_ps(_mm256_castps256_ps128(a3), _mm256_extractf128_ps(a3, 1));
    _MM_TRANSPOSE4_PS(t0, t1, t2, t3); /* t_j now holds lane j of rows 0..3 */
    return _mm_add_ps(_mm_add_ps(t0, t2), _mm_add_ps(t1, t3));
}

/* One kernel body per float element type, expanded by a macro so the two stay
 * identical apart from the loader. ESZ: element bytes. */
#define UPF_AVX2_KERNEL(NAME, LD, LD_TAIL, ESZ)                                                  \
    TGT static void NAME(const upf_kern_args *a, size_t first, size_t n, float *out)                     \
    {                                                                                                    \
        const size_t D = a->dim, full = D & ~(size_t)7, t = D - full;                                    \
        const char *rows = a->rows;                                                                      \
        const float *u = a->u;                                                                           \
        __m256 ut = t ? _mm256_maskload_ps(u + full, tail_mask(t)) : _mm256_setzero_ps();                \
        size_t i = 0;                                                                                    \
        for (; i + 4 <= n; i += 4) {                                                                     \
            size_t r = first + i;                                                                        \
            const char *p0 = rows + r * D * ESZ, *p1 = p0 + D * ESZ, *p2 = p1 + D * ESZ,                 \
                       *p3 = p2 + D * ESZ;                                                               \
            __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;                                  \
            for (size_t d = 0; d < full; d += 8) {                                                       \
                __m256 uu = _mm256_loadu_ps(u + d);                                                      \
                a0 = _mm256_add_ps(a0, _mm256_mul_ps(uu, LD(p0, d)));                                    \
                a1 = _mm256_add_ps(a1, _mm256_mul_ps(uu, LD(p1, d)));                                    \
                a2 = _mm256_add_ps(a2, _mm256_mul_ps(uu, LD(p2, d)));                                    \
                a3 = _mm256_add_ps(a3, _mm256_mul_ps(uu, LD(p3, d)));                                    \
            }                                                                                            \
            if (t) {                                                                                     \
                a0 = _mm256_add_ps(a0, _mm256_mul_ps(ut, LD_TAIL(p0, full, t)));                         \
                a1 = _mm256_add_ps(a1, _mm256_mul_ps(ut, LD_TAIL(p1, full, t)));                         \
                a2 = _mm256_add_ps(a2, _mm256_mul_ps(ut, LD_TAIL(p2, full, t)));                         \
                a3 = _mm256_add_ps(a3, _mm256_mul_ps(ut, LD_TAIL(p3, full, t)));                         \
            }                                                                                            \
            __m128 dot = reduce4(a0, a1, a2, a3);                                                        \
            _mm_storeu_ps(out + i, _mm_add_ps(_mm_loadu_ps(a->bias + r), dot));                          \
        }                                                                                                \
        for (; i < n; i++) {                                                                             \
            size_t r = first + i;                                                                        \
            const char *p0 = rows + r * D * ESZ;                                                         \
            __m256 a0 = _mm256_setzero_ps();                                                             \
            for (size_t d = 0; d < full; d += 8)                                                         \
                a0 = _mm256_add_ps(a0, _mm256_mul_ps(_mm256_loadu_ps(u + d), LD(p0, d)));                \
            if (t) a0 = _mm256_add_ps(a0, _mm256_mul_ps(ut, LD_TAIL(p0, full, t)));                      \
            out[i] = a->bias[r] + reduce1(a0);                                                           \
        }                                                                                                \
    }

UPF_AVX2_KERNEL(kern_f32_avx2, ld_f32, ld_f32_tail, 4)
UPF_AVX2_KERNEL(kern_f16_avx2, ld_f16, ld_f16_tail, 2)

/* Sum of the eight int32 lanes of each of four accumulators: lane r = row r. */
TGT static inline __m128i hsum4_epi32(__m256i a0, __m256i a1, __m256i a2, __m256i a3)
{
    __m256i s = _mm256_hadd_epi32(_mm256_hadd_epi32(a0, a1), _mm256_hadd_epi32(a2, a3));
    return _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
}

/* int8 rows against the int16 user vector: 16 products per vpmaddwd. The
 * int32 lanes cannot overflow for D <= 4096 (|q_u q_v| <= 32767 * 127, two per
 * lane per step); longer rows go to the int64 reference. */
TGT static void kern_i8_avx2(const upf_kern_args *a, size_t first, size_t n, float *out)
{
    const size_t D = a->dim, full = D & ~(size_t)15, t = D - full;
    if (D > 4096) {
        kern_i8_ref(a, first, n, out);
        return;
    }
    const int8_t *rows = a->rows;
    const int16_t *uq = a->uq;
    int16_t ubuf[16] = { 0 };
    memcpy(ubuf, uq + full, t * sizeof *ubuf);
    const __m256i ut = _mm256_loadu_si256((const __m256i *)(const void *)ubuf);
    const __m128 us = _mm_set1_ps(a->u_scale);
    size_t i = 0;
#define LD16(p, d) _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)((p) + (d))))
    for (; i + 4 <= n; i += 4) {
        size_t r = first + i;
        const int8_t *p0 = rows + r * D, *p1 = p0 + D, *p2 = p1 + D, *p3 = p2 + D;
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
        for (size_t d = 0; d < full; d += 16) {
            __m256i uu = _mm256_loadu_si256((const __m256i *)(const void *)(uq + d));
            a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(LD16(p0, d), uu));
            a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(LD16(p1, d), uu));
            a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(LD16(p2, d), uu));
            a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(LD16(p3, d), uu));
        }
        if (t) {
            int8_t tb[4][16] = { { 0 } };
            memcpy(tb[0], p0 + full, t);
            memcpy(tb[1], p1 + full, t);
            memcpy(tb[2], p2 + full, t);
            memcpy(tb[3], p3 + full, t);
            a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(LD16(tb[0], 0), ut));
            a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(LD16(tb[1], 0), ut));
            a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(LD16(tb[2], 0), ut));
            a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(LD16(tb[3], 0), ut));
        }
        __m128 dot = _mm_cvtepi32_ps(hsum4_epi32(a0, a1, a2, a3));
        __m128 sc = _mm_mul_ps(_mm_loadu_ps(a->scales + r), _mm_mul_ps(us, dot));
        _mm_storeu_ps(out + i, _mm_add_ps(_mm_loadu_ps(a->bias + r), sc));
    }
#undef LD16
    if (i < n) kern_i8_ref(a, first + i, n - i, out + i); /* the last rows: same integers, same bits */
}

/* CPUID: AVX2 (leaf 7 EBX bit 5), AVX, F16C and OSXSAVE (leaf 1 ECX bits 28,
 * 29, 27), and the OS saving YMM state (XCR0 bits 1 and 2). */
static int cpu_has_avx2_f16c(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (!(c & (1u << 27)) || !(c & (1u << 28)) || !(c & (1u << 29))) return 0;
    unsigned xlo, xhi;
    __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
    (void)xhi;
    if ((xlo & 6u) != 6u) return 0;
    if (__get_cpuid_max(0, NULL) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    return (b & (1u << 5)) != 0;
}
#else
#define UPF_KERN_X86 0
#endif

/* ---- selection ---- */

int upf_kern_cpu_level(void)
{
#if UPF_KERN_X86
    if (cpu_has_avx2_f16c()) return UPF_KERN_AVX2;
#endif
    return UPF_KERN_REF;
}

void upf_kernels_init(upf_kernels *k, int level)
{
    int best = upf_kern_cpu_level();
    if (level > best) level = best;
    k->f32 = kern_f32_ref;
    k->f16 = kern_f16_ref;
    k->i8 = kern_i8_ref;
    k->i8_blocked = kern_i8_blocked;
    k->level = UPF_KERN_REF;
    k->name = "reference";
#if UPF_KERN_X86
    if (level >= UPF_KERN_AVX2) {
        k->f32 = kern_f32_avx2;
        k->f16 = kern_f16_avx2;
        k->i8 = kern_i8_avx2;
        k->level = UPF_KERN_AVX2;
        k->name = "avx2";
    }
#endif
}
