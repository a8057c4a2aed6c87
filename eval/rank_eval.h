/* rank_eval.h - full-catalogue ranking evaluation (the contract in
 * ../DESIGN.md "Metric definitions"; each metric is defined in eval/metrics.h).
 *
 * Every user with test items is ranked against the whole catalogue, excluding
 * the user's training items unless told otherwise; ties in score are broken
 * by item index, ascending. Two implementations: the reference (one user at a
 * time, full sort) and the fast path (users and items in blocks, scores from
 * sgemm, a bounded top-k heap per user, threads over user blocks). A test
 * keeps them equal to 1e-9.
 *
 * Entry points: upf_rank_eval_params_default, upf_rank_evaluate (fast),
 * upf_rank_evaluate_ref (reference), upf_rank_eval_get, upf_rank_eval_result_free.
 * Scores must be finite: factor inputs are checked, callback blocks too.
 */
#ifndef UPF_RANK_EVAL_H
#define UPF_RANK_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "../datasets/interactions.h"
#include "../model/base.h"
#include "metrics.h"

/* Something that scores users against items. Either a factor model
 *   score(u, i) = item_bias[i] + dot(user_vecs[u], item_vecs[i])
 * (dim may be 0: bias only, as for popularity), or a callback. */
typedef struct upf_scorer {
    size_t dim;
    const float *user_vecs;   /* (n_users, dim) row-major, or NULL when dim is 0 */
    const float *item_vecs;   /* (n_items, dim) row-major, or NULL when dim is 0 */
    const float *item_bias;   /* (n_items) or NULL */
    /* Callback form (used when non-NULL): fill out[r * (item_end - item_begin) + c]
     * with the score of users[r] for item item_begin + c. Must be thread-safe. */
    upf_status (*score_block)(void *ctx, const int32_t *users, size_t n_users, int32_t item_begin,
                              int32_t item_end, float *out);
    void *ctx;
} upf_scorer;

/* What to evaluate and how. Pass by value; start from the defaults. */
typedef struct upf_rank_eval_params {
    const upf_metric_spec *metrics; /* (n_metrics) borrowed; see metrics.h for names */
    size_t n_metrics;               /* >= 1 */
    upf_gain gain;                  /* NDCG gain: exp (2^rel - 1, default) or linear */
    upf_discount discount;          /* NDCG discount: log2 (1/log2(r+1), default) or trec */
    upf_empty_policy empty;         /* users without a relevant candidate: skip (default), zero, one */
    int exclude_train;              /* 1 (default): a user's training items are not ranked, and a
                                       test item also in train is no target */
    int graded;                     /* 1 (default): an item's grade is its test value; 0: every test item 1 */
    size_t threads;                 /* worker threads, 1..256 (default 1); results do not depend on it */
    int per_user;                   /* 1: keep each user's values in the result (default 0) */
    const double *item_count;       /* (n_items) interactions per item for long_tail/novelty; NULL
                                       (default): entries per column of train */
    double head_share;              /* long tail: the head holds this share of interactions (0.8) */
    const uint8_t *user_mask;       /* (n_users) nonzero: evaluate the user; NULL (default): all */
    size_t block_users;             /* fast path tile: users per block (0: automatic) */
    size_t block_items;             /* fast path tile: items per block (0: automatic) */
} upf_rank_eval_params;

/* exp gain, log2 discount, skip empty users, exclude train, graded, 1 thread,
 * no per-user values, head share 0.8; metrics NULL (the caller sets them). */
upf_rank_eval_params upf_rank_eval_params_default(void);
/* The first violated rule as UPF_ERR_ARG. */
upf_status upf_rank_eval_params_check(const upf_rank_eval_params *p, upf_err *err);

typedef struct upf_rank_eval_result {
    size_t n_metrics;
    upf_metric_spec *specs;   /* (n_metrics) owned copy of params.metrics */
    char (*names)[UPF_METRIC_NAME_MAX]; /* (n_metrics) "ndcg@10", owned */
    double *values;           /* (n_metrics) means over users with a value; NaN when none */
    size_t *n_values;         /* (n_metrics) users that contributed to each mean */
    size_t n_users_ranked;    /* users with at least one relevant candidate (ranked) */
    size_t n_users_empty;     /* users in the mask without one: skipped, or scored by params.empty */
    size_t n_users_per_user;  /* rows of per_user (0 unless params.per_user) */
    int32_t *per_user_user;   /* (n_users_per_user) user index, ascending */
    double *per_user;         /* (n_users_per_user, n_metrics) row-major; NaN: no value (coverage) */
    double seconds_total;     /* wall time of the call */
    double seconds_scoring;   /* fast path: time in sgemm/score_block, summed over threads / threads */
} upf_rank_eval_result;

/* The fast evaluator: users in blocks x items in blocks, scores from
 * cblas_sgemm (or score_block) into a cache-sized buffer, a bounded top-k heap
 * per user (k = the largest cut-off), exact counts above each relevant item
 * when auc or a whole-list metric is asked; pthreads split the user blocks and
 * OpenBLAS is held at one thread meanwhile (restored on return).
 * train and test: same shape (n_users, n_items), rows with ascending unique
 * items; train may have no entries. The scorer must cover n_users x n_items.
 * On success *out owns its arrays (upf_rank_eval_result_free); on failure it
 * is zeroed. Polls upf_interrupted() (UPF_ERR_INTERRUPTED). Not reentrant
 * with other BLAS users in the process (the OpenBLAS thread count is global). */
upf_status upf_rank_evaluate(const upf_scorer *s, const upf_csr *train, const upf_csr *test,
                             const upf_rank_eval_params *p, upf_rank_eval_result *out, upf_err *err);
/* The reference: one user at a time, every score by a plain loop (or
 * score_block for one user), a full sort, the dense definitions of metrics.h.
 * Same contract and results (to rounding) as upf_rank_evaluate; params.threads
 * and the block sizes are ignored. */
upf_status upf_rank_evaluate_ref(const upf_scorer *s, const upf_csr *train, const upf_csr *test,
                                 const upf_rank_eval_params *p, upf_rank_eval_result *out, upf_err *err);

/* The mean of the metric named `name` ("ndcg@10"), NaN when absent. */
double upf_rank_eval_get(const upf_rank_eval_result *r, const char *name);
void upf_rank_eval_result_free(upf_rank_eval_result *r); /* accepts a zeroed struct */

#endif
