/* rank_eval.h - full-catalogue ranking evaluation (the contract in
 * ../DESIGN.md "Metric definitions"; each metric is defined in eval/metrics.h).
 *
 * Every user with test items is ranked against the whole catalogue, excluding
 * the user's training items unless told otherwise; ties in score are broken
 * by item index, ascending. Two implementations: the reference (one user at a
 * time, full sort) and the fast path (users and items in blocks, scores from
 * sgemm, a bounded top-k heap per user, threads over user blocks). A test
 * keeps them equal to 1e-9.
 */
#ifndef UPF_RANK_EVAL_H
#define UPF_RANK_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "../datasets/interactions.h"
#include "../model/base.h"

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

#endif
