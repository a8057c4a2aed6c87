/* trigger_models.h - the models behind a trigger plan, trained on the events
 * before a cutoff: the ranker (which items, and affinity for item-state
 * triggers), BG/NBD or a Weibull AFT (churn risk within H for win-back), repurchase intervals
 * (buy again), and the per-trigger uplift estimated from logged messages with
 * a hold-out arm.
 *
 * The ranker, the AFT and BG/NBD are the families' own trainers
 * (upf_ranker_train, upf_aft_fit_newton, upf_bgnbd_fit) called on the prefix. The repurchase interval of (user,
 * item) is the user's own mean gap shrunk towards the item's median gap over
 * every user (empirical Bayes with prior weight 2 gaps). The uplift of a
 * trigger is the difference of the purchase rates within the attribution
 * window between sent and held-out messages (difference in means), used only
 * when both arms have at least uplift_min_rows messages.
 * Entry points: upf_trig_model_params_default, upf_trig_models_train,
 * upf_trig_models_free, upf_trig_score, upf_trig_churn_risk, upf_trig_rebuy_days.
 */
#ifndef UPF_TRIGGER_MODELS_H
#define UPF_TRIGGER_MODELS_H

#include <stddef.h>
#include <stdint.h>

#include "../datasets/dataset.h"
#include "../model/lifetime.h"
#include "ranker_model.h"
#include "triggers.h"

typedef struct upf_trig_model_params {
    int use_ranker;          /* 1: train the ranker (else items come from the rules) */
    int ranker_dim;          /* embedding dimension (32) */
    int ranker_epochs;       /* softmax epochs (20) */
    double ranker_lr;        /* Adam learning rate (0.01) */
    double ranker_l2;        /* L2 (0.0001) */
    int ranker_negatives;    /* softmax candidates per batch, 0 = the whole catalogue (0) */
    int use_bgnbd;           /* 1: fit BG/NBD for win-back (else the rule's recency) */
    int use_uplift;          /* 1: estimate per-trigger uplift from /messages when a hold-out exists */
    int uplift_min_rows;     /* messages needed in each arm (100) */
    int attribution_days;    /* a purchase within this many days of a message counts (7) */
    int pool_size;           /* candidate pool: most interacted items of the last 30 days (500) */
    int retrain_days;        /* back-test: retrain every this many days (7) */
    int use_buy_again_aft;   /* 1: buy-again timing from the lifetime family's AFT on user x item pairs
                                (upf_ba_pairs_build), 0 (default): the shrunk gaps only */
    int buy_again_window_days; /* the AFT learns from the pairs this many days before the cutoff (60) */
    int use_winback_aft;     /* 1: win-back churn risk from the lifetime family's Weibull AFT on the user
                                features (upf_lt_features_build) instead of BG/NBD (default 1) */
    int winback_window_days; /* the win-back AFT learns the time to the next purchase from a reference
                                cutoff this many days earlier, censored there (30) */
    uint64_t seed;
} upf_trig_model_params;

upf_trig_model_params upf_trig_model_params_default(void);

typedef struct upf_trig_models {
    int64_t cutoff;                 /* trained on events before this */
    size_t n_users, n_items;
    /* ranker (NULL when off or when the prefix has no interactions) */
    upf_ranker_model *ranker;
    size_t dim;
    float *item_vec;                /* (n_items, dim) */
    float *item_bias;               /* (n_items) */
    int32_t *pool;                  /* (n_pool) candidate items, most interacted first */
    size_t n_pool;
    /* BG/NBD (has_bgnbd 0 when off or the fit failed) */
    int has_bgnbd;
    upf_bgnbd_params bgnbd;
    double bg_unit_days;
    float *bg_x, *bg_tx, *bg_T;     /* (n_users) summary per user, T as of the cutoff (units); bg_T < 0: no purchase */
    /* win-back AFT (has_wb 0 when off or the fit failed) */
    int has_wb;
    int wb_dist;                    /* upf_aft_dist (Weibull) */
    double wb_sigma;
    float *wb_eta;                  /* (n_users) log-time location of the time from the cutoff to the user's
                                       next purchase; NaN: no purchase before the cutoff */
    /* repurchase */
    float *item_gap_days;           /* (n_items) median gap between purchases of the item, NaN: < 3 gaps */
    int has_ba;                     /* buy-again AFT fitted */
    int ba_dist;                    /* upf_aft_dist (Weibull) */
    double ba_sigma;
    size_t ba_n;                    /* pairs at the cutoff */
    int64_t *ba_ptr;                /* (n_users+1) user u owns pairs [ba_ptr[u], ba_ptr[u+1]) */
    int32_t *ba_item;               /* (ba_n) */
    float *ba_eta;                  /* (ba_n) log-time location of the time from the cutoff to the next purchase */
    /* uplift per trigger */
    int has_uplift[UPF_TRIG_COUNT];
    double uplift[UPF_TRIG_COUNT];  /* P(purchase | sent) - P(purchase | held out) */
    double seconds_ranker, seconds_bgnbd, seconds_other;
} upf_trig_models;

/* Trains every enabled model on ds's events before cutoff. A model that cannot
 * be fitted (no data) is left off with a warning (upf_log), not an error.
 * *out owned by the caller (upf_trig_models_free); NULL on failure. */
upf_status upf_trig_models_train(const upf_dataset *ds, const upf_trig_model_params *p, int64_t cutoff,
                                 upf_trig_models **out, upf_err *err);
void upf_trig_models_free(upf_trig_models *m); /* accepts NULL */

/* The user's vector (m->dim floats) for upf_trig_score_vec. */
void upf_trig_user_vec(const upf_trig_models *m, int32_t u, float *out);
/* Ranker score of item i for a user vector uv; 0 without a ranker. */
float upf_trig_score_vec(const upf_trig_models *m, const float *uv, int32_t i);

/* P(no purchase within horizon_days after `now` | history before the
 * training cutoff and silence since). With the win-back AFT (has_wb):
 * S(e + h) / S(e) of the user's law, e = days from the cutoff to `now`.
 * Else under BG/NBD: 1 - p + p ((alpha + T) / (alpha + T + h))^(r + x),
 * p = P(alive) at T (exact: BG/NBD drops a customer only right after a
 * purchase), T counting to `now`. NaN when both are off or the user has no
 * purchase before the cutoff. */
double upf_trig_churn_risk(const upf_trig_models *m, int32_t u, double horizon_days, int64_t now);

/* Buy again by the AFT: P(user u buys item i within h days after `now` |
 * not bought between the cutoff and now), from the pair's AFT law conditioned
 * on the days elapsed since the cutoff. NaN when there is no AFT or no such
 * pair (then the caller uses upf_trig_rebuy_days). */
double upf_trig_rebuy_prob(const upf_trig_models *m, int32_t u, int32_t i, int64_t now, double h_days);

/* Predicted days between the user's purchases of each of items[0..n) (n <=
 * 256) into out: (sum of the user's own gaps + 2 * item median) / (n gaps +
 * 2); the user's mean alone when the item has no median; NaN when neither
 * exists. One pass over the user's events before cutoff. */
void upf_trig_rebuy_days(const upf_trig_models *m, const upf_dataset *ds, int32_t u, int64_t cutoff,
                         const int32_t *items, int n, double *out);

#endif
