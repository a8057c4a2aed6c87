/* score.h - the canonical scoring arithmetic, shared by trainers and the
 * serving runtime so that a float32 model scores bit for bit the same in both.
 *
 * The dot product has a fixed evaluation order that SIMD can reproduce
 * exactly: eight float lanes, lane j summing a[d]*b[d] for d = j (mod 8) in
 * increasing d (multiply, then add: never fused), then
 *   t_j = l_j + l_{j+4} (j < 4);  dot = (t_0 + t_2) + (t_1 + t_3).
 * The runtime's AVX2 kernels compute exactly this (model/kernels.c), and a
 * test checks them against these functions bit for bit. Build with
 * -ffp-contract=off (the Makefile does): a compiler that fuses a*b+c into an
 * FMA changes the last bits.
 * Also here: the standardized linear predictor of the lifetime and uplift
 * models (x - center) / scale . beta + intercept, accumulated in double.
 */
#ifndef UPF_SCORE_H
#define UPF_SCORE_H

#include <math.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UPF_SCORE_LANES 8

/* dot(a, b) over n floats in the canonical order above. */
static inline float upf_score_dot_f32(const float *a, const float *b, size_t n)
{
    float l[UPF_SCORE_LANES] = { 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f };
    size_t d = 0;
    for (; d + UPF_SCORE_LANES <= n; d += UPF_SCORE_LANES)
        for (size_t j = 0; j < UPF_SCORE_LANES; j++) l[j] += a[d + j] * b[d + j];
    for (size_t j = 0; d + j < n; j++) l[j] += a[d + j] * b[d + j];
    float t0 = l[0] + l[4], t1 = l[1] + l[5], t2 = l[2] + l[6], t3 = l[3] + l[7];
    return (t0 + t2) + (t1 + t3);
}

/* The ranker's score: bias + dot(user_vec, item_vec), both (n). This is THE
 * score of a (user, item) pair; trainers evaluate and report with it. */
static inline float upf_score_f32(float bias, const float *user_vec, const float *item_vec, size_t n)
{
    return bias + upf_score_dot_f32(user_vec, item_vec, n);
}

/* Linear predictor over standardized features:
 *   sum_i ((x[i] - center[i]) / scale[i]) * w[i]  +  w[n]   (intercept last)
 * accumulated in double in increasing i. x, center, scale (n); w (n + 1). */
static inline double upf_score_linear_std(const double *x, const double *center, const double *scale,
                                          const double *w, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += ((x[i] - center[i]) / scale[i]) * w[i];
    return s + w[n];
}

/* The same with float weights (uplift_weights rows are F32). */
static inline double upf_score_linear_std_f32w(const double *x, const double *center, const double *scale,
                                               const float *w, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += ((x[i] - center[i]) / scale[i]) * (double)w[i];
    return s + (double)w[n];
}

/* Logistic function without overflow for any finite z. */
static inline double upf_score_sigmoid(double z)
{
    if (z >= 0.0) return 1.0 / (1.0 + exp(-z));
    double e = exp(z);
    return e / (1.0 + e);
}

#ifdef __cplusplus
}
#endif
#endif
