/* synth_internal.h - what the generator's files share (synth*.c only): the
 * generation context, string interning, the hierarchical item sampler, item
 * state lookups and the event buffer. Not a public header.
 */
#ifndef UPF_SYNTH_INTERNAL_H
#define UPF_SYNTH_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include "../model/rng.h"
#include "dataset.h"
#include "synth.h"

#define SYN_DAY 86400
#define SYN_NONE INT64_MAX /* "no such time" inside the simulation */
#define SYN_QTY_EXTRA 0.25 /* units per order line: 1 + Poisson(0.25) */
#define SYN_SESSION_SPAN 3600 /* an item must stay listed (and in stock) this long to be bought */
#define SYN_SEND_HOUR 10   /* the campaign is sent at 10:00 UTC of its day */

/* Independent random streams: (purpose << 40) | index. A user's draws depend
 * on its own stream only, so users could be simulated in any order. */
enum {
    SYN_STREAM_CATALOG = 1,   /* categories, brands, items, group tastes */
    SYN_STREAM_ITEM = 2,      /* per item: its price and stock history */
    SYN_STREAM_USER = 3,      /* per user: covariates and latent parameters */
    SYN_STREAM_EVENTS = 4,    /* per user: the event history */
    SYN_STREAM_CAMPAIGN = 5,  /* per user: campaign assignment */
    SYN_STREAM_IMPRESS = 6,   /* the logged impressions */
};

static inline void syn_rng(upf_rng *r, uint64_t seed, uint64_t purpose, uint64_t index)
{
    upf_rng_seed(r, seed, (purpose << 40) | index);
}

/* ---- string interning (queries, attribute names) ---- */

typedef struct syn_strtab {
    size_t n, cap;        /* strings */
    int64_t *off;         /* (cap + 1) */
    char *data;           /* (data_cap) */
    size_t data_len, data_cap;
    int32_t *slots;       /* (n_slots) open addressing, -1 = empty */
    size_t n_slots;
} syn_strtab;

/* Index of s[0..len) (inserted when new), or -1 on allocation failure. */
int32_t syn_strtab_intern(syn_strtab *t, const char *s, size_t len);
/* Moves the strings into out (owned by out afterwards); t is emptied. */
upf_status syn_strtab_take(syn_strtab *t, upf_strings *out, upf_err *err);
/* Empties the table, keeping its memory. */
void syn_strtab_reset(syn_strtab *t);
void syn_strtab_free(syn_strtab *t);

/* ---- hierarchical choice tables ----
 * Items of a subset grouped by (category, brand style) -> price band -> brand
 * -> item. A user's weight of an item factors as exp(z.C_c) exp(z.D_s)
 * exp(-gamma band) w_i, so a draw needs the user's weights of the groups only
 * (n_categories * n_styles, whatever the number of brands): group, band,
 * then brand and item by static popularity masses. */
/* A brand with mass in a (group, band): cumulative mass within the (group,
 * band), and its items of that band: item entries [lo, hi). */
typedef struct syn_brand_entry {
    double cum;
    int32_t lo, hi;
} syn_brand_entry;

/* An item in its cell (brand, band), with what a draw checks next to it. */
typedef struct syn_item_entry {
    double cum;      /* cumulative w within the cell */
    int64_t added;   /* listing time */
    int64_t removed; /* delisting time or UPF_TIME_MISSING */
    int32_t item;
    int32_t pad;
} syn_item_entry;

typedef struct syn_choice {
    size_t n_groups;          /* n_categories * n_styles; group g = c * n_styles + s */
    double *group_mass;       /* (n_groups, BANDS) sum of w_i over the group's items in the band */
    double *group_value;      /* (n_groups, BANDS) sum of w_i * price_i, or NULL */
    int64_t *gb_ptr;          /* (n_groups * BANDS + 1) into gb */
    syn_brand_entry *gb;      /* brands by (group, band), those with mass there only */
    syn_item_entry *items;    /* (n) by cell (brand, band), item order within a cell */
    double total;             /* sum of all masses */
} syn_choice;

/* A user's sampling state for one choice table. */
typedef struct syn_pref {
    double *group_cum;                /* (n_groups) cumulative group weight */
    double band_exp[UPF_SYNTH_BANDS]; /* exp(-gamma_u * k) */
} syn_pref;

/* ---- the generation context ---- */

typedef struct syn_evbuf {
    size_t n, cap;
    int32_t *user, *item, *query;
    int64_t *time;
    uint8_t *type;
    float *value;
} syn_evbuf;

typedef struct syn_ctx {
    upf_synth_params p;          /* effective */
    upf_synth_truth *t;          /* being filled (owned by the caller) */
    uint8_t *item_adj;           /* (n_items, 2) adjective indices */
    int64_t *user_signup;        /* (n_users) */
    int64_t *user_birthday;      /* (n_users) */
    syn_choice all;              /* every item */
    syn_choice window;           /* campaign: items available and in stock all window */
    /* item events (sorted by item, time), ie_ptr indexes them */
    size_t n_ie, cap_ie;
    int32_t *ie_item;
    int64_t *ie_time;
    uint8_t *ie_kind;
    float *ie_value;
    int64_t *ie_ptr;             /* (n_items + 1) */
    float *item_end_price;       /* (n_items) */
    uint8_t *item_end_stock;     /* (n_items) */
    syn_strtab queries;
    syn_evbuf ev;
    int64_t *user_ptr;           /* (n_users + 1) */
    /* campaign outcomes per user (rows written when user_arm >= 0) */
    float *camp_conv, *camp_rev; /* (n_users) */
    /* impressions */
    size_t n_imp;
    int32_t *imp_user, *imp_item;
    int64_t *imp_time;
    int16_t *imp_pos;
    float *imp_reward, *imp_prop;
    long skipped_sessions;       /* draws that found no available item */
} syn_ctx;

/* Names of the covariate levels (SYNTH.md) and of the category table. */
extern const char *const syn_region_names[UPF_SYNTH_N_REGIONS];
extern const char *const syn_age_names[UPF_SYNTH_N_AGE_BANDS];
extern const char *const syn_channel_names[UPF_SYNTH_N_CHANNELS];
extern const char *const syn_adjectives[];
extern const size_t syn_n_adjectives;

/* synth_catalog.c */
upf_status syn_catalog_build(syn_ctx *c, upf_err *err);
upf_status syn_choice_build(const syn_ctx *c, const uint8_t *keep /* (n_items) or NULL */,
                            const float *price /* (n_items) or NULL */, syn_choice *out, upf_err *err);
void syn_choice_free(syn_choice *ch);
/* Fills pref from the user's taste for a choice table; returns the total weight. */
double syn_pref_setup(const syn_ctx *c, const syn_choice *ch, size_t user, syn_pref *pref);
/* Expected price under the user's choice distribution on ch (needs group_value). */
double syn_pref_mean_value(const syn_ctx *c, const syn_choice *ch, const syn_pref *pref);
/* One item from the user's distribution (category c >= 0: restricted to it);
 * NULL if the distribution is empty. */
const syn_item_entry *syn_pref_draw(const syn_ctx *c, const syn_choice *ch, const syn_pref *pref, int32_t category,
                                    upf_rng *r);
/* Listed during all of [t0, t1]: added <= t0 and not removed before t1. */
int syn_item_listed(const syn_ctx *c, int32_t item, int64_t t0, int64_t t1);
/* In stock at t0 and no stock-out starting in (t0, t1]. */
int syn_item_in_stock(const syn_ctx *c, int32_t item, int64_t t0, int64_t t1);
float syn_item_price(const syn_ctx *c, int32_t item, int64_t t);
/* The item's tokens for queries: its category words, brand, adjectives. */
const char *syn_item_brand(const syn_ctx *c, int32_t item);
const char *syn_item_adjective(const syn_ctx *c, int32_t item, int which);

/* synth_users.c */
upf_status syn_users_build(syn_ctx *c, upf_err *err);

/* synth_events.c: n_threads 0 or 1 runs inline; the output does not depend on it. */
upf_status syn_events_build(syn_ctx *c, unsigned n_threads, upf_err *err);

/* synth_policy.c */
upf_status syn_impressions_build(syn_ctx *c, upf_err *err);
/* Exact marginals P(candidate j at position k) of Plackett-Luce sampling
 * without replacement with weights v (n), for positions < n_pos (<= 3).
 * out: (n, n_pos). */
void syn_pl_marginals(const double *v, size_t n, size_t n_pos, double *out);

/* synth_truth.c: the JSON document of the truth (params, tables, scalars),
 * written to f; and the params back from its "params" object. */
struct upf_json;
void syn_truth_json(const upf_synth_truth *t, FILE *f);
upf_status syn_params_from_json(const struct upf_json *params, upf_synth_params *out, upf_err *err);

/* synth_util.c */
int64_t syn_days_from_civil(int64_t y, unsigned m, unsigned d);
void syn_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);
int syn_is_leap(int64_t y);
/* "YYYY-MM-DDTHH:MM:SSZ" into buf (>= 32 bytes). */
void syn_format_iso(int64_t t, char *buf, size_t n);
/* Parses YYYY-MM-DD into unix seconds at 00:00 UTC; 0 on success. */
int syn_parse_date(const char *s, int64_t *out);

#endif
