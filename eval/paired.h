/* paired.h - paired comparison of two systems over the same users: the mean
 * difference, a percentile bootstrap confidence interval, a paired t-test and
 * a paired randomization (sign-flip) test (Smucker, Allan & Carterette 2007,
 * "A comparison of statistical significance tests for IR evaluation", CIKM).
 *
 * d_i = b_i - a_i over the n pairs.
 * - bootstrap: n_resamples means of n pairs drawn with replacement; the
 *   interval is their (alpha/2, 1 - alpha/2) quantiles, linear interpolation
 *   between order statistics (numpy's default quantile method).
 * - t-test: t = mean(d) / (sd(d) / sqrt(n)), sd with n - 1, two-sided p from
 *   Student's t with n - 1 degrees of freedom (regularized incomplete beta).
 *   sd = 0: p = 1 when mean(d) = 0, else 0. n < 2: NaN.
 * - randomization: each resample flips the sign of every d_i with
 *   probability 1/2; two-sided p = (1 + #{|mean*| >= |mean(d)|}) / (1 + R).
 * Randomness: one upf_rng stream per call, seeded from params.seed and
 * params.stream; the same inputs and seed give the same figures.
 * Entry points: upf_paired_compare, upf_student_t_sf2.
 */
#ifndef UPF_PAIRED_H
#define UPF_PAIRED_H

#include <stddef.h>
#include <stdint.h>

#include "../model/base.h"

typedef struct upf_paired_params {
    size_t n_resamples; /* bootstrap and randomization resamples, >= 1 (default 10000); 0: skip both */
    double alpha;       /* 1 - confidence level, in (0, 1) (default 0.05) */
    uint64_t seed;      /* default 42 */
    uint64_t stream;    /* e.g. the metric's index, so each metric has its own draws */
} upf_paired_params;

upf_paired_params upf_paired_params_default(void);

typedef struct upf_paired_result {
    size_t n;           /* pairs */
    double mean_a, mean_b;
    double diff;        /* mean(b - a) */
    double ci_low, ci_high; /* bootstrap interval of diff (NaN when skipped or n = 0) */
    double t, p_t;      /* paired t statistic and two-sided p */
    double p_rand;      /* randomization test two-sided p (NaN when skipped) */
} upf_paired_result;

/* a, b: (n) paired values (finite). On failure *out is filled with NaN. */
upf_status upf_paired_compare(const double *a, const double *b, size_t n, const upf_paired_params *p,
                              upf_paired_result *out, upf_err *err);

/* Two-sided tail of Student's t: P(|T| >= |t|) with df > 0 degrees of freedom. */
double upf_student_t_sf2(double t, double df);
/* Regularized incomplete beta I_x(a, b), a, b > 0, x in [0, 1]. */
double upf_betainc(double a, double b, double x);

#endif
