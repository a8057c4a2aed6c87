/* trigger_backtest.c - day-by-day replay of trigger planning and its
 * measurement (contracts in trigger_backtest.h), the data loader of a
 * triggers config, and the report. Entry points: upf_trig_load_data,
 * upf_trig_backtest, upf_trig_bt_print, upf_trig_bt_json.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../model/json.h"
#include "runner.h"
#include "trigger_backtest.h"

#define DAY UPF_TRIG_DAY

static int64_t day_of(int64_t t) { return t >= 0 ? t / DAY : -((-t + DAY - 1) / DAY); }

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- data ---- */

upf_status upf_trig_load_data(const upf_cfg_loaded *c, upf_dataset **ds, upf_synth_truth **truth, upf_err *err)
{
    *ds = NULL, *truth = NULL;
    const upf_config *cfg = upf_config_common(c);
    if (cfg->data_source == 1) {
        /* the runner's mapping of data.synth.* (runner_data.c), plus the truth */
        upf_synth_params p = upf_synth_params_default();
        p.n_users = (uint64_t)cfg->data_synth_users;
        p.n_items = (uint64_t)cfg->data_synth_items;
        p.seed = (uint64_t)cfg->data_synth_seed;
        if (p.n_categories > p.n_items) p.n_categories = (uint32_t)p.n_items;
        upf_log(UPF_LOG_INFO, "data: generating a synthetic shop (%llu users, %llu items, seed %llu)",
                (unsigned long long)p.n_users, (unsigned long long)p.n_items, (unsigned long long)p.seed);
        upf_status st = upf_synth_generate(&p, ds, truth, err);
        if (st) upf_err_prefix(err, "data.source synth");
        return st;
    }
    char *desc = NULL;
    upf_status st = upf_runner_load_data(cfg->file, NULL, 0, ds, &desc, err);
    upf_free(desc);
    return st;
}

/* ---- measuring one message on what happened after it ---- */

static void measure(const upf_dataset *ds, const upf_trig_msg *m, int64_t win, int *hit, int *conv, double *revenue)
{
    *hit = *conv = 0;
    *revenue = 0.0;
    int32_t u = m->user;
    for (int64_t e = upf_trig_prefix_end(ds, u, m->day); e < ds->user_ptr[u + 1]; e++) {
        if (ds->ev_time[e] >= m->day + win) break;
        if (ds->ev_type[e] != UPF_EV_PURCHASE) continue;
        *conv = 1;
        for (int32_t j = 0; j < m->n_items; j++)
            if (m->items[j] == ds->ev_item[e]) {
                *hit = 1;
                *revenue += (double)ds->ev_value[e];
                break;
            }
    }
}

static int64_t data_end(const upf_dataset *ds)
{
    int64_t t = INT64_MIN;
    for (int64_t e = 0; e < ds->n_events; e++)
        if (ds->ev_time[e] > t) t = ds->ev_time[e];
    return t;
}

upf_status upf_trig_backtest(const upf_dataset *ds, const upf_synth_truth *truth, const upf_trig_settings *s,
                             int64_t from, int64_t to, upf_trig_bt *out, upf_err *err)
{
    memset(out, 0, sizeof *out);
    from = day_of(from) * DAY, to = day_of(to) * DAY;
    if (to < from) return upf_err_set(err, UPF_ERR_ARG, "triggers: --to is before --from");
    out->from = from, out->to = to, out->attribution_days = s->attribution_days;
    upf_trig_missing(ds, &s->rules, out->missing);
    upf_trig_rules rules = s->rules;
    for (int k = 0; k < UPF_TRIG_COUNT; k++)
        if (out->missing[k]) {
            upf_log(UPF_LOG_WARN, "triggers: %s is off: no data: it needs %s", upf_trigger_name(k), out->missing[k]);
            rules.enabled[k] = 0;
        }
    int64_t win = (int64_t)s->attribution_days * DAY;
    out->truncated_window = to + win > data_end(ds) + 1;
    upf_trig_planner *pl = NULL;
    upf_trig_models *models = NULL;
    upf_synth_response *resp = NULL;
    upf_trig_state state[UPF_TRIG_MODE_COUNT];
    upf_trig_msgs all[UPF_TRIG_MODE_COUNT], audience;
    memset(state, 0, sizeof state), memset(all, 0, sizeof all), memset(&audience, 0, sizeof audience);
    uint16_t *seen[UPF_TRIG_MODE_COUNT] = { NULL };
    upf_status st = upf_trig_planner_create(ds, &rules, &pl, err);
    int n_modes = s->random_baseline ? UPF_TRIG_MODE_COUNT : UPF_TRIG_MODE_RANDOM;
    for (int md = 0; !st && md < n_modes; md++) {
        st = upf_trig_state_create(ds->n_users, &state[md], err);
        if (!st) upf_trig_state_load_messages(&state[md], ds, from);
        seen[md] = upf_calloc(ds->n_users ? ds->n_users : 1, sizeof *seen[md]);
        if (!st && !seen[md]) st = upf_err_set(err, UPF_ERR_NOMEM, "triggers: out of memory");
    }
    if (!st && truth) st = upf_synth_response_create(truth, ds, s->response_seed, &resp, err);
    int64_t trained_at = INT64_MIN;
    for (int64_t day = from; !st && day <= to; day += DAY) {
        if (trained_at == INT64_MIN || (day - trained_at) / DAY >= s->models.retrain_days) {
            double t0 = now_s();
            upf_trig_models_free(models);
            models = NULL;
            st = upf_trig_models_train(ds, &s->models, day, &models, err);
            if (st) break;
            trained_at = day;
            out->retrains++;
            out->seconds_models += now_s() - t0;
        }
        for (int md = 0; md < n_modes && !st; md++) {
            double t0 = now_s();
            size_t before = all[md].n;
            pl->audience = md == UPF_TRIG_MODE_MODEL ? &audience : NULL;
            size_t aud_before = audience.n;
            st = upf_trig_plan_day(pl, (upf_trig_mode)md, models, day, &state[md], s->models.seed, &all[md],
                                   &out->plan[md].stats, err);
            out->seconds_plan[md] += now_s() - t0;
            if (st) break;
            out->plan[md].ran = 1;
            t0 = now_s();
            upf_trig_bt_plan *bp = &out->plan[md];
            for (size_t j = before; j < all[md].n; j++) {
                const upf_trig_msg *m = &all[md].v[j];
                int hit, conv;
                double rev;
                measure(ds, m, win, &hit, &conv, &rev);
                bp->hits[m->trigger] += hit, bp->conversions[m->trigger] += conv, bp->revenue[m->trigger] += rev;
                uint16_t bit = (uint16_t)(1u << m->trigger);
                if (!seen[md][m->user]) bp->users_messaged++;
                if (!(seen[md][m->user] & bit)) bp->users_messaged_k[m->trigger]++;
                seen[md][m->user] |= bit;
            }
            if (md == UPF_TRIG_MODE_MODEL) {
                /* no message: every eligible (user, trigger) and what the user bought anyway */
                int32_t prev_user = -1;
                for (size_t j = aud_before; j < audience.n; j++) {
                    const upf_trig_msg *m = &audience.v[j];
                    int hit, conv;
                    double rev;
                    upf_trig_msg probe = *m;
                    probe.n_items = 0;
                    measure(ds, &probe, win, &hit, &conv, &rev);
                    out->none_audience[m->trigger]++, out->none_conversions[m->trigger] += conv;
                    if (m->user != prev_user) out->none_audience_total++, out->none_conversions_total += conv;
                    prev_user = m->user;
                }
                audience.n = 0; /* only the counts are kept */
            }
            out->seconds_eval += now_s() - t0;
        }
    }
    if (pl) pl->audience = NULL;
    for (int md = 0; !st && resp && md < n_modes; md++) {
        out->plan[md].has_truth = 1;
        st = upf_synth_plan_value(resp, all[md].v, all[md].n, &out->plan[md].true_total, out->plan[md].true_k, err);
    }
    upf_synth_response_free(resp);
    upf_trig_models_free(models);
    upf_trig_planner_free(pl);
    upf_trig_msgs_free(&audience);
    for (int md = 0; md < UPF_TRIG_MODE_COUNT; md++) {
        upf_trig_state_free(&state[md]);
        upf_trig_msgs_free(&all[md]);
        upf_free(seen[md]);
    }
    return st;
}

/* ---- report ---- */

static void ymd(int64_t t, char *buf, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tmv;
    gmtime_r(&tt, &tmv);
    strftime(buf, n, "%Y-%m-%d", &tmv);
}

static double ratio(double a, double b) { return b > 0 ? a / b : 0.0; }

static void plan_table(FILE *f, const upf_trig_bt_plan *p, const upf_trig_bt *bt, const char *name)
{
    fprintf(f, "\nplan: %s\n", name);
    fprintf(f, "  %-15s %9s %8s %10s %8s %11s %12s %9s  %s\n", "trigger", "audience", "sent", "suppressed", "hit_rate",
            "conversions", "revenue", "msgs/user", "suppressed by quiet/repeat/budget/outranked/no_value");
    int64_t ta = 0, ts = 0, th = 0, tc = 0, tw[UPF_TRIG_WHY_COUNT] = { 0 };
    double tr = 0.0;
    for (int k = 0; k < UPF_TRIG_COUNT; k++) {
        const int64_t *w = p->stats.why[k];
        int64_t sup = p->stats.audience[k] - p->stats.sent[k];
        if (bt->missing[k]) {
            fprintf(f, "  %-15s %9s  (no data: needs %s)\n", upf_trigger_name(k), "-", bt->missing[k]);
            continue;
        }
        fprintf(f, "  %-15s %9lld %8lld %10lld %8.4f %11lld %12.2f %9.2f  %lld/%lld/%lld/%lld/%lld\n",
                upf_trigger_name(k), (long long)p->stats.audience[k], (long long)p->stats.sent[k], (long long)sup,
                ratio((double)p->hits[k], (double)p->stats.sent[k]), (long long)p->conversions[k], p->revenue[k],
                ratio((double)p->stats.sent[k], (double)p->users_messaged_k[k]), (long long)w[1], (long long)w[2],
                (long long)w[3], (long long)w[4], (long long)w[5]);
        ta += p->stats.audience[k], ts += p->stats.sent[k], th += p->hits[k], tc += p->conversions[k], tr += p->revenue[k];
        for (int r = 0; r < UPF_TRIG_WHY_COUNT; r++) tw[r] += w[r];
    }
    fprintf(f, "  %-15s %9lld %8lld %10lld %8.4f %11lld %12.2f %9.2f  %lld/%lld/%lld/%lld/%lld\n", "total",
            (long long)ta, (long long)ts, (long long)(ta - ts), ratio((double)th, (double)ts), (long long)tc, tr,
            ratio((double)ts, (double)p->users_messaged), (long long)tw[1], (long long)tw[2], (long long)tw[3],
            (long long)tw[4], (long long)tw[5]);
}

static const char *const plan_names[UPF_TRIG_MODE_COUNT] = {
    "model (ranker items, churn-risk win-back, repurchase timing, uplift where logged)",
    "rules only (no models, most recent items)",
    "random (a random eligible trigger, random candidate items)",
};
static const char *const plan_keys[UPF_TRIG_MODE_COUNT] = { "model", "rules_only", "random" };

void upf_trig_bt_print(FILE *f, const upf_trig_bt *bt, const char *title)
{
    char a[16], b[16];
    ymd(bt->from, a, sizeof a), ymd(bt->to, b, sizeof b);
    int64_t days = (bt->to - bt->from) / DAY + 1;
    fprintf(f, "upfunnel triggers backtest: %s, %s .. %s (%lld days, UTC), attribution window %d days\n", title, a, b,
            (long long)days, bt->attribution_days);
    fprintf(f, "NOTE: on observational history these are hit rates (a shown item bought within the window), not "
               "causal effects:\n      the users may have bought anyway. Only the TRUE figures of generated data "
               "measure what a plan causes.\n");
    if (bt->truncated_window)
        fprintf(f, "NOTE: the attribution window of the last days runs past the end of the data (fewer hits there).\n");
    int any_missing = 0;
    for (int k = 0; k < UPF_TRIG_COUNT; k++)
        if (bt->missing[k]) {
            if (!any_missing) fprintf(f, "missing data (trigger off):\n");
            fprintf(f, "  %s needs %s\n", upf_trigger_name(k), bt->missing[k]);
            any_missing = 1;
        }
    fprintf(f, "models: retrained %d times (%.2f s); planning %.2f s model, %.2f s rules, %.2f s random\n", bt->retrains,
            bt->seconds_models, bt->seconds_plan[0], bt->seconds_plan[1], bt->seconds_plan[2]);
    for (int md = 0; md < UPF_TRIG_MODE_COUNT; md++)
        if (bt->plan[md].ran) plan_table(f, &bt->plan[md], bt, plan_names[md]);
    fprintf(f, "\nno message (baseline): the model plan's audience and what it bought anyway within %d days\n",
            bt->attribution_days);
    fprintf(f, "  %-15s %9s %11s %9s\n", "trigger", "audience", "conversions", "rate");
    for (int k = 0; k < UPF_TRIG_COUNT; k++) {
        if (bt->missing[k]) continue;
        fprintf(f, "  %-15s %9lld %11lld %9.4f\n", upf_trigger_name(k), (long long)bt->none_audience[k],
                (long long)bt->none_conversions[k], ratio((double)bt->none_conversions[k], (double)bt->none_audience[k]));
    }
    fprintf(f, "  %-15s %9lld %11lld %9.4f  (users eligible on a day, counted once per day)\n", "total",
            (long long)bt->none_audience_total, (long long)bt->none_conversions_total,
            ratio((double)bt->none_conversions_total, (double)bt->none_audience_total));
    if (bt->plan[0].has_truth) {
        fprintf(f, "\nTRUE incremental purchases (the generated shop's planted response to each message):\n");
        for (int md = 0; md < UPF_TRIG_MODE_COUNT; md++)
            if (bt->plan[md].ran) {
                int64_t sent = 0;
                for (int k = 0; k < UPF_TRIG_COUNT; k++) sent += bt->plan[md].stats.sent[k];
                fprintf(f, "  %-12s %10.2f  (%lld messages, %.4f per message)\n", plan_keys[md],
                        bt->plan[md].true_total, (long long)sent, ratio(bt->plan[md].true_total, (double)sent));
            }
        fprintf(f, "  %-12s %10.2f\n", "no_message", 0.0);
        fprintf(f, "  by trigger:     %10s %10s %10s\n", "model", "rules_only", "random");
        for (int k = 0; k < UPF_TRIG_COUNT; k++)
            fprintf(f, "    %-15s %10.2f %10.2f %10.2f\n", upf_trigger_name(k), bt->plan[0].true_k[k], bt->plan[1].true_k[k],
                    bt->plan[2].ran ? bt->plan[2].true_k[k] : 0.0);
        fprintf(f, "  total: model - rules_only = %+.2f incremental purchases\n",
                bt->plan[0].true_total - bt->plan[1].true_total);
    }
}

void upf_trig_bt_json(FILE *f, const upf_trig_bt *bt)
{
    upf_json_writer w;
    upf_jw_init(&w, f, 1);
    upf_jw_object(&w, NULL);
    char a[16], b[16];
    ymd(bt->from, a, sizeof a), ymd(bt->to, b, sizeof b);
    upf_jw_str(&w, "from", a);
    upf_jw_str(&w, "to", b);
    upf_jw_int(&w, "attribution_days", bt->attribution_days);
    upf_jw_str(&w, "caveat", "observational hit rates, not causal effects; true_incremental only on generated data");
    upf_jw_object(&w, "missing");
    for (int k = 0; k < UPF_TRIG_COUNT; k++)
        if (bt->missing[k]) upf_jw_str(&w, upf_trigger_name(k), bt->missing[k]);
    upf_jw_end(&w);
    for (int md = 0; md < UPF_TRIG_MODE_COUNT; md++) {
        const upf_trig_bt_plan *p = &bt->plan[md];
        if (!p->ran) continue;
        upf_jw_object(&w, plan_keys[md]);
        int64_t ts = 0, th = 0, tc = 0, ta = 0;
        double tr = 0;
        for (int k = 0; k < UPF_TRIG_COUNT; k++) {
            upf_jw_object(&w, upf_trigger_name(k));
            upf_jw_int(&w, "audience", p->stats.audience[k]);
            upf_jw_int(&w, "sent", p->stats.sent[k]);
            upf_jw_int(&w, "suppressed", p->stats.audience[k] - p->stats.sent[k]);
            for (int r = 1; r < UPF_TRIG_WHY_COUNT; r++)
                upf_jw_int(&w, upf_trig_reason_name(r), p->stats.why[k][r]);
            upf_jw_num(&w, "hit_rate", ratio((double)p->hits[k], (double)p->stats.sent[k]));
            upf_jw_int(&w, "conversions", p->conversions[k]);
            upf_jw_num(&w, "revenue", p->revenue[k]);
            if (p->has_truth) upf_jw_num(&w, "true_incremental", p->true_k[k]);
            upf_jw_end(&w);
            ts += p->stats.sent[k], th += p->hits[k], tc += p->conversions[k], tr += p->revenue[k];
            ta += p->stats.audience[k];
        }
        upf_jw_object(&w, "total");
        upf_jw_int(&w, "audience", ta);
        upf_jw_int(&w, "sent", ts);
        upf_jw_int(&w, "suppressed", ta - ts);
        upf_jw_num(&w, "hit_rate", ratio((double)th, (double)ts));
        upf_jw_int(&w, "conversions", tc);
        upf_jw_num(&w, "revenue", tr);
        upf_jw_num(&w, "messages_per_user", ratio((double)ts, (double)p->users_messaged));
        if (p->has_truth) upf_jw_num(&w, "true_incremental", p->true_total);
        upf_jw_end(&w);
        upf_jw_end(&w);
    }
    upf_jw_object(&w, "no_message");
    upf_jw_int(&w, "audience", bt->none_audience_total);
    upf_jw_int(&w, "conversions", bt->none_conversions_total);
    upf_jw_num(&w, "conversion_rate", ratio((double)bt->none_conversions_total, (double)bt->none_audience_total));
    if (bt->plan[0].has_truth) upf_jw_num(&w, "true_incremental", 0.0);
    upf_jw_end(&w);
    upf_jw_end(&w);
    upf_jw_finish(&w);
}
