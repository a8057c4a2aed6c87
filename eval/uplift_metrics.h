/* uplift_metrics.h - evaluation of uplift models on randomized treatment /
 * control data: Qini and uplift curves, Qini coefficient and area, AUUC in two
 * normalizations, uplift@k% (overall and by group), uplift by bin (deciles)
 * with standard errors, covariate balance (standardized mean differences,
 * AUC of a propensity model) and the seeded, arm-stratified percentile
 * bootstrap behind every confidence interval.
 *
 * Pure functions over arrays; nothing here fits a model. Libraries differ in
 * these definitions, so every one is stated below (see eval/README.md
 * "Uplift metrics" for the comparison with scikit-uplift and causalml, and
 * tests/golden/uplift_golden.py for a numpy reimplementation of both).
 * Entry points: upf_uplift_eval_create + upf_uplift_eval_metrics (fast path,
 * reusable under bootstrap weights), upf_uplift_curve_build, the one-shot
 * upf_uplift_metrics_compute, upf_uplift_by_bin, upf_uplift_metrics_ref (the
 * plain O(n * groups) reference), upf_uplift_smd, upf_uplift_auc,
 * upf_bootstrap_counts, upf_percentile_ci.
 *
 * Shapes: n rows (users of one treatment arm and of the control).
 *
 * ---- The contract ----
 * Inputs per row i: score s_i (predicted uplift; higher is targeted first),
 * outcome y_i (binary 0/1 or continuous), treatment t_i (1 treated, 0
 * control), weight w_i >= 0 (1 normally; multiplicities under the
 * bootstrap). Sums below are weighted: N_t = sum w t, Y_t = sum w y t, etc.
 *
 * Order and ties. Rows are sorted by score, descending. All rows with the
 * same score form one group and enter together: the curves are evaluated
 * at group boundaries only (x = N(g), the weight targeted after group g,
 * with the origin (0, 0) first) and are linear in between, which is the
 * expectation over random orders inside a group of the Qini numerator.
 * This is scikit-uplift's rule (np.diff of the sorted scores); causalml
 * does not group ties (pandas sort order decides).
 *
 * Qini curve (Radcliffe 2007):   Q(g) = Y_t(g) - Y_c(g) * N_t(g) / N_c(g),
 *   with the control term 0 while N_c(g) = 0 (scikit-uplift; causalml
 *   interpolates those first points instead).
 * Uplift curve:                  U(g) = (Y_t(g)/N_t(g) - Y_c(g)/N_c(g)) * N(g),
 *   each ratio 0 while its denominator is 0 (scikit-uplift uplift_curve;
 *   causalml get_cumgain).
 * Areas are trapezoids over x = N (users, not fractions).
 * Random: the straight line from (0, 0) to (N, Q(N)) (resp. U(N)), the
 *   expectation of a random targeting order.
 *
 * qini_coefficient = (A(Q) - A(random)) / (A(Q*) - A(random)), Q* the Qini
 *   curve of the oracle score y (2t - 1): treated responders first, control
 *   responders last. scikit-uplift qini_auc_score(negative_effect=True).
 *   0 is random, 1 perfect; can be negative. For a continuous outcome the
 *   same oracle score is used (scikit-uplift accepts binary outcomes only).
 * qini_area = (A(Q) - A(random)) / (N + 1): the area between the model's
 *   Qini curve and random, unnormalized, per targeted user (outcome units).
 *   causalml qini_score(normalize=False): its mean over k = 0..N of
 *   Q(k) - k Q(N) / N equals this exactly (both ends are 0), when the
 *   scores are distinct and the first row is a control row.
 * auuc = (A(U) - A(random)) / (A(U*) - A(random)), U* the uplift curve of
 *   scikit-uplift's perfect score 2 [y = t] + (y if C_r > T_n else t),
 *   C_r the weight of control responders, T_n of treated non-responders.
 *   scikit-uplift uplift_auc_score. Binary outcomes only (NaN otherwise).
 * auuc_gain = (sum over k = 0..N of U(k)) / (|U(N)| (N + 1)): causalml
 *   auuc_score(normalize=True), the mean cumulative gain normalized by the
 *   final gain; about 0.5 for a random order when the total effect is
 *   positive. Computed as (A(U) + U(N)/2) / (|U(N)| (N + 1)); NaN when U(N) = 0.
 * ate = Y_t/N_t - Y_c/N_c over all rows.
 * Positions: where a cut-off falls inside a tie group (uplift@k, bins), rows
 *   are taken by row index descending among equal scores: the order of
 *   numpy's argsort(kind="mergesort")[::-1] that scikit-uplift uses.
 * uplift@k (overall): the first floor(k N) rows in score order (a boundary
 *   row with weight > 1 enters in part),
 *   then mean y of their treated minus mean y of their control rows.
 *   scikit-uplift uplift_at_k(strategy='overall') (int(n k)); NaN when the
 *   top rows hold no treated or no control weight.
 * uplift@k (by_group): the first floor(k N_t) treated rows and the first
 *   floor(k N_c) control rows, each in score order; difference of means.
 *   scikit-uplift strategy='by_group'.
 * Both groups are needed: when N_t = 0 or N_c = 0 every figure is NaN
 *   ("all treated" has no uplift; scikit-uplift returns numbers there).
 *
 * Bins (upf_uplift_by_bin): rows in score order (positions as above) split into
 *   `bins` consecutive parts of sizes ceil/floor (n / bins), the first
 *   n mod bins parts one larger (numpy array_split, scikit-uplift
 *   uplift_by_percentile(strategy='overall')). Per bin: treated / control
 *   counts and means; standard errors sqrt(var / n) with the population
 *   variance (p (1 - p) / n for a binary outcome, as scikit-uplift), the
 *   uplift's sqrt(se_t^2 + se_c^2). An empty group gives NaN mean, se and
 *   uplift (a decile with no control users has no uplift).
 *
 * Balance: SMD_j = (m_t - m_c) / sqrt((v_t + v_c) / 2), v the sample
 *   variance (n - 1) for a covariate with more than two distinct values and
 *   m (1 - m) for a 0/1 covariate (causalml get_std_diffs); 0 when both
 *   variances are 0 and the means agree, NaN with fewer than 2 rows a group.
 *   upf_uplift_auc: the Mann-Whitney AUC of a score against 0/1 labels, ties
 *   counting 1/2.
 *
 * Bootstrap: upf_bootstrap_counts draws, within each stratum (the arm), as
 *   many rows with replacement as the stratum has, returning multiplicities;
 *   the statistic is recomputed with those weights (the model's scores stay
 *   fixed: this is the sampling error of the evaluation, not of training).
 *   upf_percentile_ci: the (1-level)/2 and (1+level)/2 quantiles of the
 *   finite replicates (linear interpolation between order statistics,
 *   numpy's default); NaN when fewer than 2 are finite.
 */
#ifndef UPF_UPLIFT_METRICS_H
#define UPF_UPLIFT_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "../model/base.h"
#include "../model/rng.h"

#define UPF_UPLIFT_MAX_K 8 /* uplift@k cut-offs per call */

typedef struct upf_uplift_params {
    size_t n_k;                        /* cut-offs, 0..UPF_UPLIFT_MAX_K */
    double k[UPF_UPLIFT_MAX_K];        /* (n_k) fractions in (0, 1], e.g. 0.1, 0.2, 0.3 */
} upf_uplift_params;

typedef struct upf_uplift_metrics {
    double qini_coefficient;           /* normalized by the perfect curve (scikit-uplift) */
    double qini_area;                  /* area between model and random / (N + 1) (causalml, unnormalized) */
    double auuc;                       /* normalized by the perfect uplift curve (scikit-uplift); binary y */
    double auuc_gain;                  /* mean normalized cumulative gain (causalml auuc_score) */
    double ate;                        /* mean y treated - mean y control, all rows */
    double n_t, n_c;                   /* weight of treated and control rows */
    double at_k[UPF_UPLIFT_MAX_K];     /* (n_k) uplift@k overall */
    double at_k_group[UPF_UPLIFT_MAX_K]; /* (n_k) uplift@k by group */
} upf_uplift_metrics;

/* The number of doubles upf_uplift_metrics_flatten writes for n_k cut-offs. */
#define UPF_UPLIFT_N_FLAT(n_k) (5 + 2 * (n_k))
/* qini_coefficient, qini_area, auuc, auuc_gain, ate, at_k[0..n_k),
 * at_k_group[0..n_k) into out (UPF_UPLIFT_N_FLAT(n_k)); the inverse fills a
 * struct from such an array (n_t, n_c untouched). */
void upf_uplift_metrics_flatten(const upf_uplift_metrics *m, size_t n_k, double *out);
void upf_uplift_metrics_unflatten(const double *flat, size_t n_k, upf_uplift_metrics *m);

/* ---- the curve ---- */

typedef struct upf_uplift_curve {
    size_t n_points;   /* distinct scores + 1 (the origin first) */
    double *n;         /* (n_points) weight targeted: the x axis */
    double *n_t, *n_c; /* (n_points) treated / control weight targeted */
    double *y_t, *y_c; /* (n_points) outcome sums of those */
    double *qini;      /* (n_points) Q */
    double *uplift;    /* (n_points) U */
    double *score;     /* (n_points) the score of the group ending there (NaN at the origin) */
} upf_uplift_curve;

/* Builds the curve of score (n) with outcomes y (n), treatment t (n) and
 * weights w (n, NULL for 1). Owned arrays; upf_uplift_curve_free. On
 * failure (UPF_ERR_ARG: n = 0, NULL arrays, a negative or non-finite
 * weight, a non-finite score or outcome, t not 0/1; UPF_ERR_NOMEM) *out is
 * zeroed. */
upf_status upf_uplift_curve_build(const double *score, const double *y, const uint8_t *t, const double *w, size_t n,
                                  upf_uplift_curve *out, upf_err *err);
void upf_uplift_curve_free(upf_uplift_curve *c); /* frees members, zeroes; accepts a zeroed struct */

/* ---- the fast path: sort once, evaluate under many weightings ---- */

typedef struct upf_uplift_eval upf_uplift_eval;

/* Sorts the rows for the model's curve and for the oracle curves. The
 * arrays are copied. Same argument checks as upf_uplift_curve_build. */
upf_status upf_uplift_eval_create(const double *score, const double *y, const uint8_t *t, size_t n,
                                  upf_uplift_eval **out, upf_err *err);
void upf_uplift_eval_free(upf_uplift_eval *e);
size_t upf_uplift_eval_n(const upf_uplift_eval *e);

/* Every figure of upf_uplift_metrics under weights w (n rows in the order
 * given at create; NULL for 1). O(n). Thread-safe for a shared e. Fails
 * only for bad params (k outside (0, 1], n_k too large) or weights. */
upf_status upf_uplift_eval_metrics(const upf_uplift_eval *e, const double *w, const upf_uplift_params *p,
                                   upf_uplift_metrics *out, upf_err *err);

/* The model's Qini and uplift curves under weights w at the fractions
 * frac (m, ascending in [0, 1]) of the targeted weight N: linear between
 * group boundaries (exact at them). qini / uplift (m) may be NULL. O(n + m).
 * NaN everywhere when N_t or N_c is 0. */
void upf_uplift_eval_curve_at(const upf_uplift_eval *e, const double *w, const double *frac, size_t m, double *qini,
                              double *uplift);

/* One-shot: create, metrics, free. */
upf_status upf_uplift_metrics_compute(const double *score, const double *y, const uint8_t *t, const double *w,
                                      size_t n, const upf_uplift_params *p, upf_uplift_metrics *out, upf_err *err);

/* The reference: the same figures by plain loops, O(n * distinct scores),
 * no sorting of rows (each threshold sums over every row). For tests. */
upf_status upf_uplift_metrics_ref(const double *score, const double *y, const uint8_t *t, const double *w, size_t n,
                                  const upf_uplift_params *p, upf_uplift_metrics *out, upf_err *err);

/* ---- bins ---- */

typedef struct upf_uplift_bin {
    size_t n, n_t, n_c;                /* rows */
    double score_max, score_min;       /* scores in the bin */
    double mean_t, mean_c;             /* NaN for an empty group */
    double se_t, se_c;                 /* sqrt(population variance / count); NaN when empty */
    double uplift, se_uplift;          /* mean_t - mean_c and sqrt(se_t^2 + se_c^2); NaN if a group is empty */
} upf_uplift_bin;

/* out (bins) for 1 <= bins <= n; unweighted. UPF_ERR_ARG otherwise. */
upf_status upf_uplift_by_bin(const double *score, const double *y, const uint8_t *t, size_t n, size_t bins,
                             upf_uplift_bin *out, upf_err *err);

/* ---- balance ---- */

/* SMD of one covariate x (n) between t = 1 and t = 0 (definition above). */
double upf_uplift_smd(const float *x, size_t stride, const uint8_t *t, size_t n);
/* AUC of score (n) against label (n, 0/1) with row weights w (n, NULL for
 * 1; pairs count w_i w_j); NaN without both labels. Sorts a copy
 * (O(n log n)); UPF_ERR_NOMEM leaves *auc NaN. */
upf_status upf_uplift_auc(const double *score, const uint8_t *label, const double *w, size_t n, double *auc,
                          upf_err *err);

/* ---- bootstrap ---- */

/* counts (n): multiplicities of a resample that draws, in every stratum s
 * (stratum (n) in 0..n_strata-1), as many rows with replacement as the
 * stratum holds. Rows with stratum >= n_strata get 0. idx_scratch (n) is
 * caller scratch. Deterministic for a given rng state. */
void upf_bootstrap_counts(upf_rng *rng, const int32_t *stratum, size_t n, size_t n_strata, double *counts,
                          int32_t *idx_scratch, size_t *stratum_scratch /* (n_strata + 1) */);

/* Percentile interval of the finite values among v (n, reordered in place). */
void upf_percentile_ci(double *v, size_t n, double level, double *lo, double *hi);

#endif
