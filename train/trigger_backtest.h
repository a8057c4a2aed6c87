/* trigger_backtest.h - replays lifecycle planning day by day over history and
 * measures it: per trigger and in total, audience, messages sent and
 * suppressed (by reason), hit rate (a shown item bought within the
 * attribution window), conversions (any purchase in the window), revenue of
 * the shown items bought, messages per user; for the model plan, rules only,
 * a random plan, and no message (the audience's own purchase rate). On
 * observational history these are hit rates, not causal effects. With the
 * planted response of a synthetic shop, also the TRUE incremental purchases
 * of each plan (datasets/synth_response.h).
 * Entry points: upf_trig_settings (config -> settings), upf_trig_backtest,
 * upf_trig_bt_print, upf_trig_bt_free.
 */
#ifndef UPF_TRIGGER_BACKTEST_H
#define UPF_TRIGGER_BACKTEST_H

#include <stdio.h>

#include "../datasets/synth_response.h"
#include "config.h"
#include "trigger_plan.h"

/* Everything the config says about triggers (model.*, train.*, eval.* of
 * `model.family: triggers`). */
typedef struct upf_trig_settings {
    upf_trig_rules rules;
    upf_trig_model_params models;
    int attribution_days;     /* eval.attribution_days */
    int64_t from, to;         /* eval.from / eval.to (UPF_CFG_DATE_UNSET when absent) */
    int random_baseline;      /* eval.random */
    uint64_t response_seed;   /* eval.response_seed: the planted response of generated data */
} upf_trig_settings;

/* Fills s from a config whose model.family is triggers (UPF_ERR_CONFIG otherwise). */
upf_status upf_trig_settings_from_config(const upf_cfg_loaded *c, upf_trig_settings *s, upf_err *err);

/* The dataset of a triggers config: the file, or for data.source synth the
 * generated shop with its truth (*truth NULL for files). Both owned by the caller. */
upf_status upf_trig_load_data(const upf_cfg_loaded *c, upf_dataset **ds, upf_synth_truth **truth, upf_err *err);

/* One plan's results over the range. */
typedef struct upf_trig_bt_plan {
    int ran;
    upf_trig_stats stats;
    int64_t hits[UPF_TRIG_COUNT], conversions[UPF_TRIG_COUNT];
    double revenue[UPF_TRIG_COUNT];
    int64_t users_messaged;                 /* distinct users with >= 1 message */
    int64_t users_messaged_k[UPF_TRIG_COUNT];
    int has_truth;
    double true_total, true_k[UPF_TRIG_COUNT]; /* TRUE expected incremental purchases */
} upf_trig_bt_plan;

typedef struct upf_trig_bt {
    int64_t from, to;                       /* day starts, inclusive */
    int attribution_days;
    const char *missing[UPF_TRIG_COUNT];    /* data a trigger lacks (static text), NULL when present */
    upf_trig_bt_plan plan[UPF_TRIG_MODE_COUNT];
    /* no message: the model plan's audience and its own purchases in the window */
    int64_t none_audience[UPF_TRIG_COUNT], none_conversions[UPF_TRIG_COUNT];
    int64_t none_audience_total, none_conversions_total;
    int retrains;
    double seconds_models, seconds_plan[UPF_TRIG_MODE_COUNT], seconds_eval;
    int truncated_window;                   /* 1 when the attribution window runs past the data */
} upf_trig_bt;

/* Replays [from, to] (days, UTC; from <= to): each day trains (every
 * retrain_days) and plans on the events before it, then scores the plan on
 * the events after. truth NULL: no TRUE figures. Polls upf_interrupted(). */
upf_status upf_trig_backtest(const upf_dataset *ds, const upf_synth_truth *truth, const upf_trig_settings *s,
                             int64_t from, int64_t to, upf_trig_bt *out, upf_err *err);

/* The human report (the per-trigger tables, the baselines, the caveat). */
void upf_trig_bt_print(FILE *f, const upf_trig_bt *bt, const char *title);
/* The figures as a JSON document. */
void upf_trig_bt_json(FILE *f, const upf_trig_bt *bt);

#endif
