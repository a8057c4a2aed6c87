/* baselines.h - the baseline rankers every model is compared with, usable as
 * families (family_popularity.c, family_cooccur.c) and by the runner's
 * eval.baselines (runner_eval.c).
 *
 * popularity: score(u, i) = sum over training entries (v, i) of w, with w = 1
 *   (users) or the entry's grade, times 2^(-(t_end - t) / half_life) for the
 *   time-decayed variant (t_end: the last training time).
 * cooccur ("bought together", item-based top-N, Deshpande & Karypis 2004):
 *   c(j, i) = users with both j and i in train; n(j) = users with j;
 *   cosine sim(j, i) = c / sqrt(n(j) n(i)); conditional probability
 *   sim(j, i) = c / (n(j) n(i)^alpha). Each item keeps its top-N neighbours;
 *   score(u, i) = sum over u's training items j of sim(j, i).
 */
#ifndef UPF_BASELINES_H
#define UPF_BASELINES_H

#include <stddef.h>
#include <stdint.h>

#include "../datasets/interactions.h"
#include "../eval/rank_eval.h"
#include "../model/base.h"

typedef struct upf_popularity_params {
    int weighting;          /* model.weighting: 0 users (count of training users), 1 grades (sum of grades) */
    double half_life_days;  /* model.half_life_days: > 0 for the decayed variant; 0 = all-time */
} upf_popularity_params;

upf_popularity_params upf_popularity_params_default(int decayed); /* users; 0 or 30 days */

/* scores (n_items): popularity of each item in train (train->n_cols items).
 * The decayed variant needs train->time. */
upf_status upf_popularity_scores(const upf_csr *train, const upf_popularity_params *p, float *scores,
                                 upf_err *err);

typedef struct upf_cooccur_params {
    int similarity;         /* model.similarity: 0 cosine, 1 conditional */
    double alpha;           /* model.alpha: conditional's popularity damping, [0, 1] */
    int64_t neighbors;      /* model.neighbors: kept per item, >= 1 */
    int64_t min_count;      /* model.min_count: co-occurrences needed to keep a pair, >= 1 */
    int64_t max_user_items; /* model.max_user_items: users with more training items are left out of the
                               counts (bulk buyers); 0 = no limit */
} upf_cooccur_params;

upf_cooccur_params upf_cooccur_params_default(void); /* cosine, 0.5, 100, 1, 0 */

/* Item-to-item neighbours, CSR over items; within a row, neighbours ascend by
 * item index (so a block of items is one binary search away). */
typedef struct upf_cooccur_model {
    size_t n_items;
    int64_t *ptr;  /* (n_items+1) */
    int32_t *idx;  /* (nnz) */
    float *sim;    /* (nnz) */
} upf_cooccur_model;

/* Builds the neighbour lists from train on `threads` threads (the result does
 * not depend on the thread count). Polls upf_interrupted(). */
upf_status upf_cooccur_build(const upf_csr *train, const upf_cooccur_params *p, int threads,
                             upf_cooccur_model *out, upf_err *err);
void upf_cooccur_free(upf_cooccur_model *m);

/* A scorer over (model, train): score(u, i) = sum_{j in train(u)} sim(j, i).
 * ctx must outlive the scorer's use. */
typedef struct upf_cooccur_scorer_ctx {
    const upf_cooccur_model *model;
    const upf_csr *train;
} upf_cooccur_scorer_ctx;
upf_scorer upf_cooccur_scorer(upf_cooccur_scorer_ctx *ctx);

/* Reference scoring of one user against every item (plain loops), for tests. */
void upf_cooccur_score_user_ref(const upf_cooccur_model *m, const upf_csr *train, size_t user,
                                double *out /* (n_items) */);

#endif
