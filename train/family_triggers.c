/* family_triggers.c - `model.family: triggers`: the keys of lifecycle
 * trigger configs (rules per trigger, budgets, the models behind the plan,
 * the back-test's window) and, under `upfunnel train`, a back-test over
 * eval.from .. eval.to recorded in metrics.json. The planning itself lives in
 * trigger_*.c; `upfunnel triggers plan|backtest` (cli_triggers.c) is the
 * usual entry. Entry points: upf_family_triggers, upf_trig_settings_from_config.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../datasets/synth.h"
#include "family.h"
#include "trigger_backtest.h"

typedef struct triggers_params {
    upf_cfg_strings triggers;  /* model.triggers */
    upf_cfg_strings priority;  /* model.priority */
    upf_cfg_map windows;       /* model.window_days */
    upf_cfg_map repeats;       /* model.repeat_days */
    int64_t expiry_days, follow_up_days, quiet_days;
    int64_t budget_messages, budget_days;
    int budget_adaptive;
    int64_t items;
    double affinity_quantile;
    int64_t affinity_history_days;
    int64_t buy_again_tolerance, buy_again_rule_days;
    double buy_again_probability;
    int buy_again_model;
    int64_t buy_again_window;
    int winback_model;
    int64_t winback_window;
    double win_back_threshold;
    int64_t win_back_horizon, win_back_min_days, win_back_rule_days, win_back_max_days;
    int ranker, bgnbd, uplift;
    int64_t dim, epochs, negatives;
    double lr, l2;
    int64_t uplift_min_rows, pool, retrain_days;
    int64_t attribution_days;
    int64_t from, to;
    int random;
    int64_t response_seed;
} triggers_params;

static const char *const trigger_choices[] = {
    "cart_abandon", "browse_abandon", "search_abandon", "follow_up", "birthday", "anniversary",
    "price_drop", "back_in_stock", "new_arrivals", "buy_again", "win_back", NULL,
};

static const char *const buy_again_choices[] = { "aft", "gaps", NULL };
static const char *const winback_choices[] = { "aft", "bgnbd", NULL };

#define OFF(f) offsetof(triggers_params, f)
#define INF INFINITY
static const upf_cfg_key triggers_keys[] = {
    { "model.triggers", UPF_CFG_STRING_LIST, OFF(triggers), 0, 0, "[]", trigger_choices,
      "the triggers that run; [] = every one (a trigger whose data is missing is reported by name and stays off)", 0 },
    { "model.priority", UPF_CFG_STRING_LIST, OFF(priority), 0, 0, "[]", trigger_choices,
      "preference among a user's eligible triggers without an uplift estimate, first = preferred; unlisted ones follow "
      "in the default order cart_abandon, buy_again, search_abandon, browse_abandon, birthday, price_drop, follow_up, "
      "back_in_stock, win_back, anniversary, new_arrivals", 0 },
    { "model.window_days", UPF_CFG_MAP, OFF(windows), 0, 0, "{}", NULL,
      "per trigger, days the qualifying event or item change may be old, e.g. {browse_abandon: 3}; defaults: cart 14, browse 3, search 3, price_drop 7, back_in_stock 7, new_arrivals 7", 0 },
    { "model.repeat_days", UPF_CFG_MAP, OFF(repeats), 0, 0, "{}", NULL,
      "per trigger, the same trigger reaches a user at most once per this many days (365: once a year); defaults: abandon 3/7/7, follow_up/birthday/anniversary 365, item changes 7/7/14, buy_again and win_back 30", 0 },
    { "model.expiry_days", UPF_CFG_INT, OFF(expiry_days), 1, 365, "14", NULL,
      "abandon reminders expire: the last reminder day is the event's UTC day plus this", 0 },
    { "model.follow_up_days", UPF_CFG_INT, OFF(follow_up_days), 1, 365, "10", NULL,
      "follow-up: sent this many UTC days after the user's last purchase, once", 0 },
    { "model.quiet_days", UPF_CFG_INT, OFF(quiet_days), 0, 365, "2", NULL,
      "no message while the user's last purchase is fewer than this many UTC days old", 0 },
    { "model.budget.messages", UPF_CFG_INT, OFF(budget_messages), 1, 16, "2", NULL,
      "message budget: at most this many messages per user ...", 0 },
    { "model.budget.days", UPF_CFG_INT, OFF(budget_days), 1, 365, "7", NULL, "... in any window of this many days", 0 },
    { "model.budget.adaptive", UPF_CFG_BOOL, OFF(budget_adaptive), 0, 0, "true", NULL,
      "stretch the budget window to the user's median interval between purchase days (at most 4x budget.days)", 0 },
    { "model.items", UPF_CFG_INT, OFF(items), 1, 8, "4", NULL, "items shown per message", 0 },
    { "model.affinity_quantile", UPF_CFG_DOUBLE, OFF(affinity_quantile), 0, 1, "0.97", NULL,
      "price drop, back in stock, new arrivals: keep items whose ranker score reaches this quantile of the user's scores over the candidate pool", 0 },
    { "model.affinity_history_days", UPF_CFG_INT, OFF(affinity_history_days), 1, 3650, "90", NULL,
      "item changes reach users active in this many days; rules only: items the user viewed, carted or bought in them", 0 },
    { "model.buy_again.tolerance_days", UPF_CFG_INT, OFF(buy_again_tolerance), 0, 365, "3", NULL,
      "buy again: sendable from the predicted repurchase day up to this many days after it", 0 },
    { "model.buy_again.rule_days", UPF_CFG_INT, OFF(buy_again_rule_days), 1, 3650, "30", NULL,
      "rules only: an item bought on two days or more is due this many days after its last purchase", 0 },
    { "model.buy_again.probability", UPF_CFG_DOUBLE, OFF(buy_again_probability), 0, 1, "0.5", NULL,
      "buy again with the AFT: send when P(rebuy within tolerance_days + 1 days, given none since the cutoff) reaches this", 0 },
    { "model.win_back.threshold", UPF_CFG_DOUBLE, OFF(win_back_threshold), 0, 1, "0.6", NULL,
      "win-back: the churn model's risk of no purchase within the horizon (train.winback_model) at least this", 0 },
    { "model.win_back.horizon_days", UPF_CFG_INT, OFF(win_back_horizon), 1, 3650, "30", NULL,
      "win-back: the horizon H of that risk", 0 },
    { "model.win_back.min_days", UPF_CFG_INT, OFF(win_back_min_days), 0, 3650, "21", NULL,
      "win-back: never while the last purchase is newer than this many days", 0 },
    { "model.win_back.rule_days", UPF_CFG_INT, OFF(win_back_rule_days), 1, 3650, "60", NULL,
      "rules only (and without a churn model): win-back after this many days without a purchase", 0 },
    { "model.win_back.max_days", UPF_CFG_INT, OFF(win_back_max_days), 1, 36500, "365", NULL,
      "nobody lapsed longer than this many days gets a win-back", 0 },
    { "train.ranker", UPF_CFG_BOOL, OFF(ranker), 0, 0, "true", NULL,
      "train the ranker (softmax, id embeddings) on views, carts and purchases before the planned day", 0 },
    { "train.dim", UPF_CFG_INT, OFF(dim), 1, 1024, "32", NULL, "ranker embedding dimension", 0 },
    { "train.epochs", UPF_CFG_INT, OFF(epochs), 1, 10000, "20", NULL, "ranker epochs per (re)training", 0 },
    { "train.negatives", UPF_CFG_INT, OFF(negatives), 0, 100000000, "0", NULL,
      "ranker softmax candidates per mini-batch (sampled, plus the batch's positives); 0: the whole catalogue", 0 },
    { "train.lr", UPF_CFG_DOUBLE, OFF(lr), 0, 10, "0.01", NULL, "ranker Adam learning rate", UPF_CFG_MIN_EXCL },
    { "train.l2", UPF_CFG_DOUBLE, OFF(l2), 0, 10, "0.0001", NULL, "ranker L2 penalty", 0 },
    { "train.buy_again_model", UPF_CFG_ENUM, OFF(buy_again_model), 0, 0, "gaps", buy_again_choices,
      "buy-again timing: gaps (each user's mean gap on the item shrunk to the item's median gap) or aft (the lifetime family's Weibull AFT on user x item pairs, gaps where it has no pair)", 0 },
    { "train.buy_again_window_days", UPF_CFG_INT, OFF(buy_again_window), 7, 3650, "60", NULL,
      "the AFT learns the time to the next purchase of each pair over this many days before the cutoff (censored there)", 0 },
    { "train.winback_model", UPF_CFG_ENUM, OFF(winback_model), 0, 0, "aft", winback_choices,
      "win-back churn risk P(no purchase within model.win_back.horizon_days): aft (the lifetime family's Weibull AFT on each user's features at the cutoff: recency, frequency, intervals, activity, attributes) or bgnbd (BG/NBD in weeks)", 0 },
    { "train.winback_window_days", UPF_CFG_INT, OFF(winback_window), 7, 3650, "30", NULL,
      "aft: learns the time to each user's next purchase from a reference cutoff this many days earlier (censored at the cutoff)", 0 },
    { "train.bgnbd", UPF_CFG_BOOL, OFF(bgnbd), 0, 0, "true", NULL,
      "fit BG/NBD (weeks) for the win-back churn risk (with winback_model bgnbd, or when the AFT cannot be fitted); false with bgnbd: win-back by its rule", 0 },
    { "train.uplift", UPF_CFG_BOOL, OFF(uplift), 0, 0, "true", NULL,
      "choose among triggers by their uplift measured on /messages with a hold-out arm, where it exists", 0 },
    { "train.uplift_min_rows", UPF_CFG_INT, OFF(uplift_min_rows), 1, 100000000, "100", NULL,
      "messages needed in each arm (sent, held out) before a trigger's uplift is used", 0 },
    { "train.pool", UPF_CFG_INT, OFF(pool), 1, 100000, "500", NULL,
      "candidate pool of recommendations: the items most interacted with in the 30 days before the planned day", 0 },
    { "train.retrain_days", UPF_CFG_INT, OFF(retrain_days), 1, 3650, "7", NULL,
      "back-test: retrain every model every this many days (on the events before that day)", 0 },
    { "eval.attribution_days", UPF_CFG_INT, OFF(attribution_days), 1, 365, "7", NULL,
      "a purchase within this many days of a message counts for it (hit: a shown item; conversion: any)", 0 },
    { "eval.from", UPF_CFG_DATE, OFF(from), 0, 0, "", NULL,
      "first back-test day (UTC); `triggers backtest --from` overrides it", 0 },
    { "eval.to", UPF_CFG_DATE, OFF(to), 0, 0, "", NULL, "last back-test day (UTC), inclusive; --to overrides it", 0 },
    { "eval.random", UPF_CFG_BOOL, OFF(random), 0, 0, "true", NULL,
      "also back-test a random plan (a random eligible trigger, random candidate items)", 0 },
    { "eval.response_seed", UPF_CFG_INT, OFF(response_seed), 0, INF, "1", NULL,
      "generated data: seed of the planted per-user response to each trigger (TRUE incremental purchases)", 0 },
    { NULL, 0, 0, 0, 0, NULL, NULL, NULL, 0 },
};

static upf_status map_days(const upf_cfg_map *m, const char *key, int *out, upf_err *err)
{
    for (size_t j = 0; j < m->n; j++) {
        int k = upf_trigger_from_name(m->keys[j]);
        if (k < 0) return upf_err_set(err, UPF_ERR_CONFIG, "%s.%s: expected a trigger name, got %s", key, m->keys[j], m->keys[j]);
        char *end = NULL;
        long v = strtol(m->values[j], &end, 10);
        if (!end || *end || end == m->values[j] || v < 0 || v > 36500)
            return upf_err_set(err, UPF_ERR_CONFIG, "%s.%s: expected whole days in [0, 36500], got %s", key, m->keys[j],
                               m->values[j]);
        if (out) out[k] = (int)v;
    }
    return UPF_OK;
}

static upf_status triggers_check(const void *params, const upf_config *cfg, upf_err *err)
{
    (void)cfg;
    const triggers_params *p = params;
    upf_status st = map_days(&p->windows, "model.window_days", NULL, err);
    if (!st) st = map_days(&p->repeats, "model.repeat_days", NULL, err);
    if (!st && p->from != UPF_CFG_DATE_UNSET && p->to != UPF_CFG_DATE_UNSET && p->to < p->from)
        st = upf_err_set(err, UPF_ERR_CONFIG, "eval.to: expected a day on or after eval.from");
    return st;
}

static upf_status settings_from_params(const triggers_params *p, const upf_config *cfg, upf_trig_settings *s,
                                      upf_err *err);

upf_status upf_trig_settings_from_config(const upf_cfg_loaded *c, upf_trig_settings *s, upf_err *err)
{
    memset(s, 0, sizeof *s);
    const upf_config *cfg = upf_config_common(c);
    if (strcmp(cfg->model_family, "triggers") != 0)
        return upf_config_key_error(c, err, "model.family", "expected triggers, got %s", cfg->model_family);
    return settings_from_params(upf_config_family_params(c), cfg, s, err);
}

static upf_status settings_from_params(const triggers_params *p, const upf_config *cfg, upf_trig_settings *s,
                                      upf_err *err)
{
    upf_trig_rules *r = &s->rules;
    *r = upf_trig_rules_default();
    if (p->triggers.n) {
        for (int k = 0; k < UPF_TRIG_COUNT; k++) r->enabled[k] = 0;
        for (size_t j = 0; j < p->triggers.n; j++) r->enabled[upf_trigger_from_name(p->triggers.v[j])] = 1;
    }
    /* the listed order first, then the rest in the default order */
    int rank = 0, placed[UPF_TRIG_COUNT] = { 0 };
    for (size_t j = 0; j < p->priority.n; j++) {
        int k = upf_trigger_from_name(p->priority.v[j]);
        if (!placed[k]) r->priority[k] = rank++, placed[k] = 1;
    }
    upf_trig_rules d = upf_trig_rules_default();
    for (int q = 0; q < UPF_TRIG_COUNT; q++)
        for (int k = 0; k < UPF_TRIG_COUNT; k++)
            if (d.priority[k] == q && !placed[k]) r->priority[k] = rank++, placed[k] = 1;
    upf_status st = map_days(&p->windows, "model.window_days", r->window_days, err);
    if (!st) st = map_days(&p->repeats, "model.repeat_days", r->repeat_days, err);
    if (st) return st;
    r->expiry_days = (int)p->expiry_days;
    r->follow_up_days = (int)p->follow_up_days;
    r->quiet_days = (int)p->quiet_days;
    r->budget_messages = (int)p->budget_messages;
    r->budget_days = (int)p->budget_days;
    r->budget_adaptive = p->budget_adaptive;
    r->n_items = (int)p->items;
    r->affinity_quantile = p->affinity_quantile;
    r->affinity_history_days = (int)p->affinity_history_days;
    r->buy_again_tolerance_days = (int)p->buy_again_tolerance;
    r->buy_again_rule_days = (int)p->buy_again_rule_days;
    r->buy_again_probability = p->buy_again_probability;
    r->win_back_threshold = p->win_back_threshold;
    r->win_back_horizon_days = (int)p->win_back_horizon;
    r->win_back_min_days = (int)p->win_back_min_days;
    r->win_back_rule_days = (int)p->win_back_rule_days;
    r->win_back_max_days = (int)p->win_back_max_days;
    upf_trig_model_params *m = &s->models;
    *m = upf_trig_model_params_default();
    m->use_ranker = p->ranker, m->use_bgnbd = p->bgnbd, m->use_uplift = p->uplift;
    m->ranker_dim = (int)p->dim, m->ranker_epochs = (int)p->epochs, m->ranker_lr = p->lr, m->ranker_l2 = p->l2;
    m->ranker_negatives = (int)p->negatives;
    m->uplift_min_rows = (int)p->uplift_min_rows, m->pool_size = (int)p->pool, m->retrain_days = (int)p->retrain_days;
    m->attribution_days = (int)p->attribution_days;
    m->use_buy_again_aft = p->buy_again_model == 0;
    m->buy_again_window_days = (int)p->buy_again_window;
    m->use_winback_aft = p->winback_model == 0;
    m->winback_window_days = (int)p->winback_window;
    m->seed = (uint64_t)cfg->train_seed;
    s->attribution_days = (int)p->attribution_days;
    s->from = p->from, s->to = p->to;
    s->random_baseline = p->random;
    s->response_seed = (uint64_t)p->response_seed;
    return UPF_OK;
}

/* ---- `upfunnel train` on a triggers config: the back-test into metrics.json ---- */

static const char *const mode_keys[UPF_TRIG_MODE_COUNT] = { "model", "rules_only", "random" };

static upf_status triggers_run(upf_run *run, const void *params, upf_err *err)
{
    const upf_config *cfg = upf_run_config(run);
    const upf_dataset *ds = upf_run_dataset(run);
    upf_trig_settings s;
    upf_status st = settings_from_params(params, cfg, &s, err);
    if (st) return st;
    if (s.from == UPF_CFG_DATE_UNSET || s.to == UPF_CFG_DATE_UNSET)
        return upf_err_set(err, UPF_ERR_CONFIG, "eval.from, eval.to: `upfunnel train` on a triggers config back-tests "
                                                "that range; set both (or use `upfunnel triggers backtest --from --to`)");
    /* generated data: the same shop again, for its truth (the runner keeps none) */
    upf_synth_truth *truth = NULL;
    upf_dataset *again = NULL;
    if (cfg->data_source == 1) {
        upf_synth_params sp = upf_synth_params_default();
        sp.n_users = (uint64_t)cfg->data_synth_users;
        sp.n_items = (uint64_t)cfg->data_synth_items;
        sp.seed = (uint64_t)cfg->data_synth_seed;
        if (sp.n_categories > sp.n_items) sp.n_categories = (uint32_t)sp.n_items;
        if ((st = upf_synth_generate(&sp, &again, &truth, err))) return st;
        ds = again;
    }
    upf_trig_bt bt;
    st = upf_trig_backtest(ds, truth, &s, s.from, s.to, &bt, err);
    for (int md = 0; !st && md < UPF_TRIG_MODE_COUNT; md++) {
        const upf_trig_bt_plan *p = &bt.plan[md];
        if (!p->ran) continue;
        int64_t sent = 0, hits = 0, conv = 0, aud = 0;
        double rev = 0.0;
        for (int k = 0; k < UPF_TRIG_COUNT; k++) {
            sent += p->stats.sent[k], hits += p->hits[k], conv += p->conversions[k], rev += p->revenue[k];
            aud += p->stats.audience[k];
            char path[96];
            snprintf(path, sizeof path, "%s.%s.sent", mode_keys[md], upf_trigger_name(k));
            upf_run_metric(run, path, (double)p->stats.sent[k]);
            snprintf(path, sizeof path, "%s.%s.hit_rate", mode_keys[md], upf_trigger_name(k));
            upf_run_metric(run, path, p->stats.sent[k] ? (double)p->hits[k] / (double)p->stats.sent[k] : 0.0);
        }
        char path[96];
        const char *names[] = { "audience", "sent", "suppressed", "hit_rate", "conversions", "revenue" };
        double vals[] = { (double)aud, (double)sent, (double)(aud - sent), sent ? (double)hits / (double)sent : 0.0,
                          (double)conv, rev };
        for (size_t j = 0; j < sizeof vals / sizeof vals[0]; j++) {
            snprintf(path, sizeof path, "%s.total.%s", mode_keys[md], names[j]);
            upf_run_metric(run, path, vals[j]);
        }
        if (p->has_truth) {
            snprintf(path, sizeof path, "%s.total.true_incremental", mode_keys[md]);
            upf_run_metric(run, path, p->true_total);
        }
    }
    if (!st) {
        upf_run_metric(run, "baseline_no_message.conversion_rate",
                       bt.none_audience_total ? (double)bt.none_conversions_total / (double)bt.none_audience_total : 0.0);
        char *buf = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&buf, &n);
        if (!f) st = upf_err_set(err, UPF_ERR_NOMEM, "triggers: out of memory");
        else {
            upf_trig_bt_print(f, &bt, cfg->file);
            fclose(f);
            st = upf_run_artifact(run, "backtest.txt", buf, n, err);
            free(buf); /* open_memstream's buffer comes from malloc */
        }
    }
    upf_synth_truth_free(truth);
    upf_dataset_free(again);
    return st;
}

const upf_family upf_family_triggers = {
    "triggers",
    "lifecycle triggers: who gets which message when (rules, ranker items, churn-risk win-back (AFT or BG/NBD), repurchase timing, "
    "uplift by trigger); `upfunnel triggers plan|backtest`, or `train` for a back-test of eval.from..eval.to",
    triggers_keys,
    sizeof(triggers_params),
    triggers_check,
    triggers_run,
};
