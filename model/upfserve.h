/* upfserve.h - libupfserve, the serving runtime: open a .upf model file and
 * score with it. libc and libm only; link with `pkg-config --libs upfserve`.
 *
 * Open once (upf_model_open in modelfile.h: mmap, full validation), then call
 * the functions below from any number of threads: a model is immutable after
 * open. Scoring never allocates: top-k functions take a per-thread scratch
 * (upf_scratch_*) and caller-owned output arrays. Nothing here prints, exits,
 * keeps global state or depends on the locale. What each kind stores is in
 * kinds.h. Scores of float32 models are score.h's bit for bit; float16 and
 * int8 (I8S, scored against the user vector quantized to int16) stay within
 * the bounds stated in model/README.md "Accuracy".
 *
 * Indices are int32 positions in the model's id lists (items.ids, users.ids,
 * user_attrs.names, features.names); upf_serve_*_index map ids to them.
 * Version: UPF_VERSION_MAJOR/MINOR/PATCH (base.h) and upf_version_string().
 */
#ifndef UPF_UPFSERVE_H
#define UPF_UPFSERVE_H

#include <stddef.h>
#include <stdint.h>

#include "base.h"
#include "kinds.h"
#include "modelfile.h"
#include "score.h"

#ifdef __cplusplus
extern "C" {
#endif

#define UPF_SERVE_API_VERSION 1 /* bumped when a declaration below changes */

/* ---- ids and sizes ---- */

/* Index of an id (len bytes, need not be NUL-terminated), or -1 when the model
 * has no such id (or no id list of that kind). */
int32_t upf_serve_item_index(const upf_model *m, const char *id, size_t len);
int32_t upf_serve_user_index(const upf_model *m, const char *id, size_t len);
int32_t upf_serve_attr_index(const upf_model *m, const char *name, size_t len);
int32_t upf_serve_feature_index(const upf_model *m, const char *name, size_t len);
/* The id of item i (borrowed, not NUL-terminated), or NULL when out of range. */
const char *upf_serve_item_id(const upf_model *m, int32_t i, size_t *len);

typedef struct upf_serve_shape {
    int32_t n_items, n_users, n_attrs; /* ranker, cooccur (n_items only) */
    size_t dim;                        /* ranker: 0 for a bias-only (popularity) model */
    uint32_t item_dtype;               /* ranker: dtype of item_factors, 0 when dim is 0 */
    int has_item_flags;
    size_t n_features;                 /* lifetime_aft, uplift */
    size_t n_arms;                     /* uplift */
} upf_serve_shape;
void upf_serve_shape_get(const upf_model *m, upf_serve_shape *out);

/* ---- scratch ---- */

typedef struct upf_scratch upf_scratch;

/* Bytes of scratch one thread needs for this model. */
size_t upf_scratch_size(const upf_model *m);
/* Prepares caller memory (>= upf_scratch_size bytes, any alignment) as a
 * scratch for m; *out points into mem. One scratch per thread at a time. */
upf_status upf_scratch_init(const upf_model *m, void *mem, size_t size, upf_scratch **out, upf_err *err);
/* Or let the library allocate it (free with upf_scratch_free; accepts NULL). */
upf_status upf_scratch_create(const upf_model *m, upf_scratch **out, upf_err *err);
void upf_scratch_free(upf_scratch *s);

/* ---- rankers (and co-occurrence) ---- */

typedef struct upf_hit {
    int32_t item;          /* item index */
    float score;
} upf_hit;

#define UPF_ITEM_IN_STOCK 0x01u /* item_flags bit 0 */

typedef struct upf_filter {
    const int32_t *exclude;   /* (n_exclude) items never returned: bought, shown, in the cart; borrowed */
    size_t n_exclude;         /* indices outside [0, n_items) are ignored */
    uint32_t require_flags;   /* return only items whose item_flags have all these bits (UPF_ITEM_IN_STOCK);
                                 UPF_ERR_ARG when non-zero and the model has no item_flags */
} upf_filter;

/* Who is being scored. Any combination of the parts; the user vector is
 *   user_factors[user] (user >= 0)
 *   + sum_a w_a * user_attr_factors[attrs[a]]       (w_a = attr_weights[a], or 1 when NULL)
 *   + ranker.recent_weight * mean_r item_factors[recent[r]]
 * summed in double in that order and rounded to float once (a known user
 * alone gives exactly user_factors[user]). No part at all gives the zero
 * vector: items rank by item_bias (popularity). Co-occurrence models use
 * `recent` only: score(i) = sum_r sim(recent[r], i). */
typedef struct upf_user_query {
    int32_t user;              /* user index, or -1 */
    const int32_t *attrs;      /* (n_attrs) user attribute indices; borrowed */
    const float *attr_weights; /* (n_attrs) or NULL */
    size_t n_attrs;
    const int32_t *recent;     /* (n_recent) item indices, e.g. the session's views; borrowed */
    size_t n_recent;
} upf_user_query;

upf_user_query upf_user_query_default(void); /* user -1, no attributes, no recent items */

/* The k best items for q after the filter, best first: higher score first,
 * ties by lower item index; NaN scores never returned. out has room for k
 * hits; *n_out = min(k, eligible items). Co-occurrence models return only
 * items with a neighbour in `recent`. Errors (UPF_ERR_ARG: bad index, wrong
 * kind, small scratch) leave *n_out = 0. Allocation-free; thread-safe with one
 * scratch per thread. */
upf_status upf_serve_topk(const upf_model *m, const upf_user_query *q, const upf_filter *f, size_t k,
                          upf_scratch *s, upf_hit *out, size_t *n_out, upf_err *err);

/* Scores of the given items (n) for q, in the given order (re-ranking): out (n). */
upf_status upf_serve_score_items(const upf_model *m, const upf_user_query *q, const int32_t *items, size_t n,
                                 upf_scratch *s, float *out, upf_err *err);

/* Ranker: the user vector of q (dim floats) as defined above. */
upf_status upf_serve_user_vector(const upf_model *m, const upf_user_query *q, upf_scratch *s, float *out,
                                 upf_err *err);

/* Reference implementation of upf_serve_topk (scores every item with the
 * reference kernels and sorts): the fast path's yardstick in tests. */
upf_status upf_serve_topk_ref(const upf_model *m, const upf_user_query *q, const upf_filter *f, size_t k,
                              upf_scratch *s, upf_hit *out, size_t *n_out, upf_err *err);

/* ---- lifetime: survival AFT (kinds.h UPF_KIND_LIFETIME_AFT; days) ---- */

typedef struct upf_aft_query {
    const double *x;       /* (n_features) raw features in features.names order */
    size_t n_x;
    double horizon_days;   /* H; <= 0: the model's aft.horizon_days */
    double elapsed_days;   /* time since the last purchase with none since (>= 0): answers are conditional
                              on T > elapsed. Only for models with aft.time_origin "last_purchase"
                              (interval target); "cutoff" models (user, user_item) already count
                              recency as a feature: pass 0, or recency is counted twice */
    const double *probs;   /* (n_probs) quantile levels in (0, 1), or NULL */
    size_t n_probs;
} upf_aft_query;

typedef struct upf_aft_result {
    double eta, sigma;           /* log T = eta + sigma W */
    double horizon_days;         /* the H used */
    double p_no_purchase;        /* churn risk: P(no purchase within H | T > elapsed) */
    double expected_purchases;   /* purchases within H: renewal process, intervals i.i.d. as T (the first
                                    one conditional on elapsed); numerical, relative error < 1e-3 */
    double median_days;          /* days from now until P(purchased) = 1/2: the buy-again due date */
    double mean_days;            /* E[T] (unconditional); +inf when it does not exist */
} upf_aft_result;

/* quantiles (n_probs) receive the days from now at which P(purchased since
 * now) reaches probs[i]. UPF_ERR_ARG on a wrong n_x, non-finite x, bad probs. */
upf_status upf_serve_aft(const upf_model *m, const upf_aft_query *q, upf_aft_result *out, double *quantiles,
                         upf_err *err);

/* ---- lifetime: BG/NBD (Fader, Hardie & Lee 2005; weeks) ---- */

typedef struct upf_bgnbd_result {
    double p_alive;              /* P(still active | x, t_x, T) */
    double expected_purchases;   /* E[purchases in (T, T + t] | x, t_x, T] */
    double expected_avg_spend;   /* Gamma-Gamma E[M | x, m_x]; NaN without gamma_gamma.* or monetary */
} upf_bgnbd_result;

/* x repeat purchases, the last at t_x, observed for T (0 <= t_x <= T; t_x is
 * ignored when x is 0); t the horizon; monetary the mean spend of the x
 * purchases (NaN when unknown). */
upf_status upf_serve_bgnbd(const upf_model *m, double x, double t_x, double T, double t, double monetary,
                           upf_bgnbd_result *out, upf_err *err);

/* ---- uplift (kinds.h UPF_KIND_UPLIFT) ---- */

/* x (n_features) raw features. p (n_arms): response probability per arm
 * (the expected outcome under uplift.link "identity"; NaN for
 * class_transform models); uplift (n_arms): p_k - p_0, or the class
 * transformation's direct estimate (uplift[0] = 0). Either output may be
 * NULL. */
upf_status upf_serve_uplift(const upf_model *m, const double *x, size_t n_x, double *p, double *uplift,
                            upf_err *err);

#ifdef __cplusplus
}
#endif
#endif
