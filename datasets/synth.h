/* synth.h - the synthetic shop: a generated event history with planted
 * structure (attribute preferences, long-tail popularity, cold items, a
 * purchase funnel with searches, Weibull repurchase intervals with covariates,
 * BG/NBD-style dropout, buy-again consumables, item price and stock histories,
 * a randomized campaign with a heterogeneous effect, logged impressions from a
 * known stochastic policy) and the ground truth that later models must recover.
 *
 * Deliberately not here: file formats (h5_synth_truth.c writes and reads the
 * truth; h5_io.c the dataset) and the planted response to lifecycle triggers.
 * Every formula is in datasets/SYNTH.md. Entry points: upf_synth_params_default,
 * upf_synth_generate, upf_synth_truth_write / _read / _write_json, and the
 * oracle functions (upf_synth_affinity, upf_synth_choice_probs, ...).
 */
#ifndef UPF_SYNTH_H
#define UPF_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "../model/base.h"
#include "dataset.h"

#define UPF_SYNTH_TRUTH_FORMAT "upfunnel-synth-truth"
#define UPF_SYNTH_TRUTH_VERSION 1
#define UPF_SYNTH_BANDS 5         /* price bands per category (quintiles) */
#define UPF_SYNTH_MAX_CATEGORIES 40
#define UPF_SYNTH_MAX_BRANDS 27000
#define UPF_SYNTH_MAX_DIM 64
#define UPF_SYNTH_MAX_STYLES 64
#define UPF_SYNTH_MAX_POSITIONS 3 /* exact Plackett-Luce marginals up to 3 slots */
#define UPF_SYNTH_MAX_ARMS 2      /* treatment arms besides the control */
#define UPF_SYNTH_MAX_THREADS 64
#define UPF_SYNTH_N_REGIONS 6
#define UPF_SYNTH_N_AGE_BANDS 6
#define UPF_SYNTH_N_CHANNELS 5

/* Generator options. Fields are read-only for the generator; 0 in a field
 * documented "0 = auto" is resolved in the truth's copy. */
typedef struct upf_synth_params {
    uint64_t seed;              /* any value; the output is a pure function of the params */
    uint64_t n_users;           /* >= 1 (every user exists in the output, with or without events) */
    uint64_t n_items;           /* >= n_categories */
    uint32_t n_days;            /* length of the simulated range, 7..36500 */
    int64_t start;              /* unix s of the range's first second (00:00 UTC), default 2024-01-01 */

    /* catalogue */
    uint32_t n_categories;      /* 2..UPF_SYNTH_MAX_CATEGORIES, default 40 */
    uint32_t n_brands;          /* 0 = auto: n_items/16 clamped to [n_categories, 27000] */
    uint32_t dim;               /* latent taste dimension K, 1..64, default 8 */
    uint32_t n_styles;          /* latent brand styles (brands share one's vector), 1..64, default 12 */
    double affinity;            /* sd of category affinities, >= 0, default 1.5 */
    double brand_affinity;      /* sd of brand (style) affinities, >= 0, default 1 */
    double zipf;                /* popularity exponent s of w = rank^-s, >= 0, default 1.0 */
    double new_item_share;      /* items listed uniformly during the range, default 0.15 */
    double cold_item_share;     /* items listed in the last cold_days, default 0.05 */
    uint32_t cold_days;         /* 0 = auto: n_days/10 (at least 1) */
    double delist_share;        /* items withdrawn during the range, default 0.03 */
    double sale_rate;           /* temporary price drops per item per 90 days, default 1 */
    double stockout_rate;       /* stock-outs per item per 180 days, default 1 */

    /* users and their lifetime */
    double new_user_share;      /* users signing up during the range, default 0.5 */
    uint32_t history_days;      /* older users signed up in [start - history_days, start), default 365 */
    double interval_days;       /* mean inter-purchase interval at the baseline covariates, default 30 */
    double interval_shape;      /* Weibull shape k, > 0, default 1.5 (1 in BG/NBD mode) */
    double interval_frailty;    /* sd of the per-user log-scale frailty, >= 0, default 0.25 */
    double bgnbd_r;             /* > 0: pure BG/NBD instead of the AFT model: Poisson purchases with */
    double bgnbd_alpha;         /* rate ~ Gamma(shape r, rate alpha days); shape is then 1. Default 0 */
    double dropout_a;           /* per-purchase dropout p ~ Beta(a, b); a > 0, default 1 */
    double dropout_b;           /* b > 0, default 9; dropout_a = 0 is refused, use a tiny a for none */
    double rebuy_prob;          /* P(a consumable purchase starts a rebuy cycle), 0 disables, default 0.7 */
    double birthday_share;      /* users with a known birthday, default 0.7 */

    /* sessions */
    double browse_ratio;        /* browse-only sessions per purchase occasion, >= 0, default 2 */
    double views_per_session;   /* mean views of alternatives per session, >= 0, default 2 */
    double search_prob;         /* P(a session starts with a search), default 0.35 */
    double cart_abandon_prob;   /* P(a browse session carts an item), default 0.25 */

    /* campaign /campaigns/synth */
    double campaign_share;      /* users (signed up before the send) in the campaign, default 1 */
    uint32_t campaign_arms;     /* treatment arms 0..2 (0: no campaign), default 2 */
    int32_t campaign_day;       /* send day from start; -1 = auto (3/4 of the range) */
    uint32_t campaign_window;   /* days the outcome is measured over, >= 1, default 14 */
    double effect;              /* treatment effect size on the logit scale, >= 0, default 1 */
    double coupon_discount;     /* price cut of the coupon arm, [0, 1), default 0.2 */

    /* logged impressions */
    uint64_t n_impressions;     /* logged slates (contexts); rows = slates * positions; default 10000 */
    uint32_t n_positions;       /* slots per slate, 1..3, default 3 */
    uint32_t n_candidates;      /* items the logging policy chooses from, >= n_positions, default 40 */
    double logging_temperature; /* Plackett-Luce logits = log(w)/temperature, > 0, default 2 */
    double click_bias;          /* logit offset of the click model, default -2.5 */
} upf_synth_params;

/* The defaults above (20000 users, 5000 items, 365 days from 2024-01-01, seed 42). */
upf_synth_params upf_synth_params_default(void);

/* The first violated rule, "synth: <field>: expected ... (got ...)". */
upf_status upf_synth_params_check(const upf_synth_params *p, upf_err *err);

/* The planted ground truth. All arrays are owned by the truth (freed by
 * upf_synth_truth_free). Times are unix seconds, UPF_TIME_MISSING where none.
 * Rows of (n, k) arrays are row-major. */
typedef struct upf_synth_truth {
    upf_synth_params params;    /* effective parameters (auto values resolved) */
    int64_t t_start, t_end;     /* simulated range [t_start, t_end) */

    /* catalogue */
    size_t n_categories, n_brands, n_styles, n_items, dim;
    char **category_names;      /* (n_categories) */
    float *category_rebuy_days; /* (n_categories) base rebuy interval, 0 = durable */
    float *category_vec;        /* (n_categories, dim) C_c */
    char **brand_names;         /* (n_brands) */
    int32_t *brand_category;    /* (n_brands) */
    uint8_t *brand_style;       /* (n_brands) s_b */
    float *style_vec;           /* (n_styles, dim) D_s: a brand's taste vector is its style's */
    int32_t *item_category;     /* (n_items) */
    int32_t *item_brand;        /* (n_items) */
    uint8_t *item_band;         /* (n_items) price band 0..4 within the category */
    float *item_popularity;     /* (n_items) w_i = rank^-zipf */
    float *item_base_price;     /* (n_items) list price at listing */
    float *item_rebuy_days;     /* (n_items) tau_i, 0 for durable items */
    int64_t *item_added;        /* (n_items) listing time */
    int64_t *item_removed;      /* (n_items) delisting time or UPF_TIME_MISSING */

    /* users: preferences */
    size_t n_users;
    uint8_t *user_region;       /* (n_users) 0..5 */
    uint8_t *user_age_band;     /* (n_users) 0..5 */
    uint8_t *user_channel;      /* (n_users) 0..4 */
    float *region_taste;        /* (UPF_SYNTH_N_REGIONS, dim) taste shift R_r of a region */
    float *age_taste;           /* (UPF_SYNTH_N_AGE_BANDS, dim) taste shift A_g of an age band */
    float *user_taste;          /* (n_users, dim) z_u = R_region + A_age + N(0, I) */
    float *user_price_sens;     /* (n_users) gamma_u, utility -gamma_u per price band */
    /* users: lifetime */
    double aft_intercept;       /* log of the baseline Weibull scale, in days */
    double aft_region[UPF_SYNTH_N_REGIONS];     /* AFT coefficients on log scale */
    double aft_age[UPF_SYNTH_N_AGE_BANDS];
    double aft_channel[UPF_SYNTH_N_CHANNELS];
    float *user_scale_days;     /* (n_users) Weibull scale lambda_u in days */
    float *user_dropout;        /* (n_users) per-purchase dropout probability p_u */
    float *user_rebuy_factor;   /* (n_users) multiplier m_u of item rebuy intervals */
    int64_t *user_death;        /* (n_users) time the user became inactive, or UPF_TIME_MISSING */
    int32_t *user_occasions;    /* (n_users) purchase occasions inside the range */

    /* campaign (n_arms = 0 when there is none) */
    size_t n_arms;              /* arms including the control */
    char **arm_names;           /* (n_arms) "control", "email", "coupon" */
    double arm_propensity;      /* P(each arm | in campaign) = 1/n_arms */
    double arm_discount[UPF_SYNTH_MAX_ARMS + 1]; /* price cut per arm */
    int64_t campaign_time;      /* send time */
    int64_t campaign_window;    /* seconds */
    double expected_quantity;   /* E[units per order line] */
    int16_t *user_arm;          /* (n_users) arm, -1 when not in the campaign */
    uint8_t *user_alive_at_send;/* (n_users) 1 when active at the send time */
    int8_t *user_segment;       /* (n_users, n_arms) planted segment -1/0/+1; column 0 is 0 */
    float *user_conv_prob;      /* (n_users, n_arms) P(conversion | arm); CATE_a = [a] - [0] */
    float *user_revenue_mean;   /* (n_users, n_arms) E[revenue | arm] */

    /* logged impressions */
    size_t n_positions, n_candidates, n_contexts;
    int32_t *candidates;        /* (n_candidates) item indices */
    float *position_bias;       /* (n_positions) theta_k, examination probability */
    double *logging_prop;       /* (n_candidates, n_positions) P(candidate at position) */
    int32_t *context_user;      /* (n_contexts) */
    int64_t *context_time;      /* (n_contexts) */
    float *context_relevance;   /* (n_contexts, n_candidates) rho: P(click | examined) */
    double logging_value;       /* true expected clicks per slate of the logging policy */
    double oracle_value;        /* ... of the best slate (candidates by rho, descending) */
} upf_synth_truth;

/* Generates the shop. On success *out (owned, upf_dataset_free) holds a
 * validated dataset and *truth (owned, upf_synth_truth_free) its ground truth;
 * truth may be NULL when not wanted. On failure both are NULL. Runs on the
 * calling thread; the output is a pure function of the params. Polls
 * upf_interrupted() (UPF_ERR_INTERRUPTED). Not thread-safe with respect to the
 * allocation-failure test hook only. */
upf_status upf_synth_generate(const upf_synth_params *p, upf_dataset **out, upf_synth_truth **truth,
                              upf_err *err);
/* The same with the users simulated on n_threads threads (0 or 1: the calling
 * thread only). The output is identical for every thread count. */
upf_status upf_synth_generate_mt(const upf_synth_params *p, unsigned n_threads, upf_dataset **out,
                                 upf_synth_truth **truth, upf_err *err);

void upf_synth_truth_free(upf_synth_truth *t); /* accepts NULL */

/* HDF5 truth file (layout in SYNTH.md), written atomically; deterministic bytes. */
upf_status upf_synth_truth_write(const upf_synth_truth *t, const char *path, upf_err *err);
/* Reads a truth file; on failure *out = NULL. */
upf_status upf_synth_truth_read(const char *path, upf_synth_truth **out, upf_err *err);
/* The parameters, coefficient tables and scalar truths as JSON (no per-user
 * arrays), written atomically. */
upf_status upf_synth_truth_write_json(const upf_synth_truth *t, const char *path, upf_err *err);

/* ---- oracles (pure functions of the truth) ---- */

/* Affinity a_u(i) = z_u . (C_c + D_s(b)) - gamma_u * band_i (c, b: the item's category and brand). */
double upf_synth_affinity(const upf_synth_truth *t, size_t user, size_t item);

/* out[i] = P(user chooses item i at time `time`): proportional to
 * w_i exp(a_u(i)) over the items listed at that time (time = UPF_TIME_MISSING:
 * the whole catalogue); 0 for the others. out: (n_items). */
upf_status upf_synth_choice_probs(const upf_synth_truth *t, size_t user, int64_t time, double *out,
                                  upf_err *err);

/* P(category c | user) over the whole catalogue. out: (n_categories). */
upf_status upf_synth_category_probs(const upf_synth_truth *t, size_t user, double *out, upf_err *err);

/* True click probability theta_k * rho(context, candidate j) of candidate j
 * shown at position k in logged context c. */
double upf_synth_click_prob(const upf_synth_truth *t, size_t context, size_t candidate, size_t position);

/* True expected clicks of showing items slate[0..n_positions) (item indices,
 * each must be a candidate) in context c; -1 if an item is not a candidate. */
double upf_synth_slate_value(const upf_synth_truth *t, size_t context, const int32_t *slate);

#endif
