/* ope.h - off-policy evaluation of ranking policies from logged impressions:
 * IPS, self-normalized IPS and doubly robust estimates of a new policy's
 * expected reward per context (slate), with propensity clipping and seeded
 * bootstrap intervals; and the glue that turns any upf_scorer's top-P slate
 * over the logged candidates into a target policy.
 *
 * Not here: reading the log (datasets/dataset.h upf_impressions), training.
 * Entry points: upf_ope_params_default, upf_ope_estimate (the estimators over
 * prepared arrays), upf_ope_eval_scorer (a scorer's slates against a log), upf_ope_slates.
 *
 * ---- The contract ----
 * Slates are scored with the item-position model of Li, Kim, Kveton, Muthukrishnan,
 * Vinay and Wen, "Offline Evaluation of Ranking Policies with Click Models"
 * (KDD 2018), their "IP" estimator: the reward of an impression depends on
 * the context, the item and its position only (no interaction between the
 * slots, e.g. the position-based click model), so a slate's value is the sum
 * over its positions of E[r | ctx, item, position], and each logged row
 * (item a at position k in context x) is reweighted by
 *     w = pi(a at k | x) / max(mu(a at k | x), clip)
 * where mu is the logging policy's marginal propensity of that item at that
 * position (stored per row) and pi the target's. Unbiased (clip = 0) when the
 * model holds and mu > 0 wherever pi > 0; it is biased when clicks depend on
 * the other items of the slate (cascades).
 *
 * Contexts are the units: rows of one context are consecutive; n = contexts.
 * For context c, with rows r in c, positions k(r), rewards y_r, weights w_r:
 *   V_ips   = (1/n) sum_c sum_{r in c} w_r y_r
 *   V_snips = sum_k (n_k/n) * (sum_{r at k} w_r y_r) / (sum_{r at k} w_r)
 *             n_k = contexts logging position k; self-normalized per position
 *             (E[sum_{r at k} w_r] = n_k when pi fills slot k); a position
 *             whose weights sum to 0 contributes 0.
 *   V_dm    = (1/n) sum_c dm_c,  dm_c = sum over the positions logged in c of
 *             sum_a pi(a at k | c) qhat(c, a, k)   (the direct method)
 *   V_dr    = (1/n) sum_c [dm_c + sum_{r in c} w_r (y_r - qhat_r)]
 *             (Dudik, Langford and Li 2011, per position)
 *   V_log   = (1/n) sum_c sum_{r in c} y_r   (the logging policy, on-policy)
 * Intervals: percentile bootstrap over contexts (n_boot resamples of n
 * contexts with replacement, seeded; eval/uplift_metrics.h
 * upf_percentile_ci), at `level`. se: the CLT standard error sd(terms)/sqrt(n)
 * of the per-context terms of IPS, DR, DM and the log (for SNIPS: the
 * bootstrap standard deviation).
 * Refusals (UPF_ERR_DATA): no contexts, a propensity outside (0, 1] or not
 * finite (a logged row the logging policy could not have shown is corrupt;
 * clipping does not hide it), a target probability outside [0, 1], a
 * non-finite reward or qhat, a position outside [0, UPF_OPE_MAX_POSITIONS).
 */
#ifndef UPF_OPE_H
#define UPF_OPE_H

#include <stddef.h>
#include <stdint.h>

#include "../datasets/dataset.h"
#include "../model/base.h"
#include "rank_eval.h"

#define UPF_OPE_MAX_POSITIONS 64

typedef struct upf_ope_params {
    double clip;       /* propensity floor: w = pi / max(mu, clip); 0 (default): none; [0, 1] */
    double level;      /* interval level, (0, 1), default 0.95 */
    size_t n_boot;     /* bootstrap resamples, default 500; 0: no intervals (lo = hi = NaN) */
    uint64_t seed;     /* bootstrap seed, default 1 */
    size_t folds;      /* upf_ope_eval_scorer: cross-fitting folds of the reward model, >= 2 (default 2) */
    double prior;      /* upf_ope_eval_scorer: pseudo-impressions shrinking an (item, position) cell's
                          CTR to its position's CTR, >= 0 (default 10) */
} upf_ope_params;

upf_ope_params upf_ope_params_default(void);

/* Prepared log and target. ctx_start (n_ctx + 1): rows of context c are
 * [ctx_start[c], ctx_start[c + 1]), ctx_start[0] = 0, ctx_start[n_ctx] = n. */
typedef struct upf_ope_input {
    size_t n;                  /* rows */
    size_t n_ctx;              /* contexts */
    const size_t *ctx_start;   /* (n_ctx + 1) */
    const int16_t *position;   /* (n) 0-based slot */
    const float *reward;       /* (n) */
    const float *propensity;   /* (n) mu of the logged item at its position */
    const double *target;      /* (n) pi of the logged item at its position */
    const double *qhat;        /* (n) reward model at the logged row, or NULL: no DM/DR */
    const double *dm;          /* (n_ctx) dm_c as above; NULL exactly when qhat is NULL */
} upf_ope_input;

typedef struct upf_ope_figure {
    double value, lo, hi, se; /* lo/hi NaN without bootstrap; NaN value: not computed */
} upf_ope_figure;

typedef struct upf_ope_result {
    upf_ope_figure ips, snips, dm, dr, logged;
    size_t n_rows, n_contexts, n_positions;
    size_t n_matched;      /* rows with pi > 0 */
    size_t n_clipped;      /* rows with pi > 0 whose propensity was raised to clip */
    double max_weight;     /* largest w */
    double ess;            /* effective sample size of the row weights, (sum w)^2 / sum w^2; 0 when no match */
} upf_ope_result;

/* The estimates above. out is zeroed (values NaN) on failure. */
upf_status upf_ope_estimate(const upf_ope_input *in, const upf_ope_params *p, upf_ope_result *out, upf_err *err);

/* A scorer's deterministic top-P slates evaluated against a log.
 * Contexts: maximal runs of consecutive rows with the same (user, time).
 * Candidates: the distinct items of the log. Target: for each context, the
 * candidates sorted by the scorer's score for the context's user
 * (descending, ties by item index ascending), the first P filling positions
 * 0..P-1 (P = largest logged position + 1); pi = 1 for a row whose item is
 * the target's at its position, else 0. A context without a user (-1) is
 * scored with user 0 when the scorer has dim 0 and no callback (item bias
 * only: the same for every user) and refused otherwise.
 * Reward model for DM/DR: qhat(a, k) = (clicks(a, k) + prior * ctr(k)) /
 * (shown(a, k) + prior), counted on the other folds' contexts (context c is
 * in fold c mod folds), ctr(k) the position's CTR there.
 * n_users/n_items bound the log's indices (refused when out of range). */
upf_status upf_ope_eval_scorer(const upf_impressions *log, const upf_scorer *s, size_t n_users, size_t n_items,
                               const upf_ope_params *p, upf_ope_result *out, upf_err *err);

/* The target's slates of upf_ope_eval_scorer: *slates (n_ctx, P) item
 * indices, -1 where there are fewer candidates than positions; owned by the
 * caller (upf_free). With a truth, upf_synth_slate_value gives their value. */
upf_status upf_ope_slates(const upf_impressions *log, const upf_scorer *s, size_t n_users, size_t n_items,
                          int32_t **slates, size_t *n_ctx, size_t *P, upf_err *err);

/* The contexts of a log as above: *starts (n_ctx + 1), owned by the caller. */
upf_status upf_ope_contexts(const upf_impressions *log, size_t **starts, size_t *n_ctx, upf_err *err);

#endif
