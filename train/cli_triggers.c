/* cli_triggers.c - `upfunnel triggers plan|backtest`: plans one day of
 * lifecycle messages from a triggers config, or replays planning over a range
 * of days and reports it against rules only, random and no message.
 * Entry point: upf_cmd_triggers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../datasets/timeparse.h"
#include "../model/outfile.h"
#include "cli.h"
#include "commands.h"
#include "trigger_backtest.h"
#include "trigger_io.h"

#define MAX_SETS 64

static void usage_top(FILE *f)
{
    fputs("usage: upfunnel triggers plan CONFIG --day YYYY-MM-DD -o PLAN [options]\n"
          "       upfunnel triggers backtest CONFIG [--from YYYY-MM-DD] [--to YYYY-MM-DD] [options]\n"
          "\n"
          "Lifecycle triggers: which customers get a message on a day, from which trigger\n"
          "(cart, browse and search abandon, follow-up, birthday, signup anniversary, price\n"
          "drop, back in stock, new arrivals, buy again, win-back), showing which items.\n"
          "A config with `model.family: triggers` (configs/README.md) sets the rules, the\n"
          "budget and the models; `plan` writes one day's messages, `backtest` replays\n"
          "planning day by day over history and measures it.\n"
          "\n"
          "Times are UTC. A plan for day D reads only the events before D 00:00:00 UTC;\n"
          "the models (ranker, churn risk (AFT or BG/NBD), repurchase intervals, uplift from\n"
          "/messages with a hold-out) are trained from the config on those events.\n"
          "\n"
          "Run `upfunnel triggers plan --help` or `upfunnel triggers backtest --help`.\n"
          "\n"
          "Exit status: 0 ok, 1 runtime failure, 2 usage or config error.\n",
          f);
}

static void usage_plan(FILE *f)
{
    fputs("usage: upfunnel triggers plan CONFIG --day YYYY-MM-DD -o PLAN [--set key.path=value]... [--rules-only]\n"
          "\n"
          "Plans the messages of one day (UTC) using only the data before that day:\n"
          "trains the models of the config on the events before D 00:00:00 UTC, finds\n"
          "every user's eligible triggers, picks their items, applies the quiet period,\n"
          "repeat limits and message budget, and keeps the best trigger per user.\n"
          "Every message says why: trigger, score, items, and the rule or model behind it.\n"
          "Triggers whose data is missing (no birthdays, no carts) are named on stderr\n"
          "with the field they need.\n"
          "\n"
          "Options:\n"
          "  --day YYYY-MM-DD      the day to plan (required)\n"
          "  -o, --out PLAN        output name: writes PLAN.jsonl (one JSON object per\n"
          "                        message: user, day, trigger, score, source, items,\n"
          "                        why; original ids) and PLAN.h5 (/messages as in the\n"
          "                        dataset schema plus /plan: items, scores, sources);\n"
          "                        a trailing .jsonl or .h5 on PLAN is dropped (required)\n"
          "  --set key.path=value  override a config key (repeatable)\n"
          "  --rules-only          plan without models (the back-test's rules baseline)\n"
          "  -h, --help            this text\n"
          "\n"
          "Files are written to a temporary name and renamed: an interrupted run leaves\n"
          "no partial plan.\n"
          "\n"
          "Example:\n"
          "  upfunnel triggers plan configs/synth_triggers.yaml --day 2024-03-15 -o plans/2024-03-15\n"
          "\n"
          "Exit status: 0 ok, 1 runtime failure, 2 usage or config error.\n",
          f);
}

static void usage_backtest(FILE *f)
{
    fputs("usage: upfunnel triggers backtest CONFIG [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--json FILE]\n"
          "                                   [--set key.path=value]...\n"
          "\n"
          "Replays trigger planning day by day from --from to --to (inclusive, UTC): each\n"
          "day uses only the events before it (models retrained every train.retrain_days\n"
          "days), then the plan is scored on what happened in the following\n"
          "eval.attribution_days days. Reported per trigger and in total: audience\n"
          "(users eligible), messages sent, suppressed (by quiet period, repeat limit,\n"
          "budget, a better trigger, or no model value), hit rate (a shown item bought\n"
          "within the window), conversions (any purchase in the window), revenue of the\n"
          "shown items bought, messages per user. Baselines in the same run: rules only\n"
          "(no models, the user's most recent items), random (eval.random) and no message\n"
          "(the audience's own purchase rate).\n"
          "\n"
          "On observational history these are hit rates, not causal effects: the users\n"
          "may have bought anyway. On generated data (data.source: synth) the report adds\n"
          "the TRUE incremental purchases of each plan under the shop's planted response\n"
          "to each trigger (datasets/SYNTH.md).\n"
          "\n"
          "Options:\n"
          "  --from YYYY-MM-DD     first day (default: eval.from of the config; required\n"
          "                        when the config has none)\n"
          "  --to YYYY-MM-DD       last day, inclusive (default: eval.to; required likewise)\n"
          "  --json FILE           also write the figures as JSON (atomically)\n"
          "  --set key.path=value  override a config key (repeatable)\n"
          "  -h, --help            this text\n"
          "\n"
          "Example:\n"
          "  upfunnel triggers backtest configs/synth_triggers.yaml --from 2024-03-01 --to 2024-03-31\n"
          "\n"
          "Exit status: 0 ok, 1 runtime failure, 2 usage or config error.\n",
          f);
}

static int parse_day(const char *s, int64_t *out)
{
    unsigned y, m, d;
    char tail;
    if (!s || sscanf(s, "%4u-%2u-%2u%c", &y, &m, &d, &tail) != 3 || strlen(s) != 10 || m < 1 || m > 12 || d < 1 ||
        d > 31)
        return -1;
    int64_t days = upf_days_from_civil((int64_t)y, m, d);
    /* reject Feb 30 and friends: the day must round-trip */
    int64_t next = upf_days_from_civil((int64_t)y, m, 1) + (int64_t)d - 1;
    if (days != next) return -1;
    unsigned mm = m == 12 ? 1 : m + 1, yy = m == 12 ? y + 1 : y;
    if (days >= upf_days_from_civil((int64_t)yy, mm, 1)) return -1;
    *out = days * 86400;
    return 0;
}

typedef struct common_args {
    const char *config;
    const char *sets[MAX_SETS];
    size_t n_sets;
} common_args;

static upf_status load(const common_args *a, upf_cfg_loaded **cfg, upf_trig_settings *s, upf_dataset **ds,
                       upf_synth_truth **truth, upf_err *err)
{
    *cfg = NULL, *ds = NULL, *truth = NULL;
    upf_status st = upf_config_load(a->config, NULL, a->sets, a->n_sets, cfg, err);
    if (!st) st = upf_trig_settings_from_config(*cfg, s, err);
    if (!st) st = upf_trig_load_data(*cfg, ds, truth, err);
    return st;
}

static void report_missing(const upf_dataset *ds, const upf_trig_rules *r)
{
    const char *missing[UPF_TRIG_COUNT];
    if (!upf_trig_missing(ds, r, missing)) return;
    for (int k = 0; k < UPF_TRIG_COUNT; k++)
        if (missing[k]) fprintf(stderr, "upfunnel: warning: trigger %s is off: no data: it needs %s\n", upf_trigger_name(k), missing[k]);
}

static int cmd_plan(int argc, char **argv)
{
    const char *cmd = "triggers plan", *day_s = NULL, *out = NULL;
    common_args a = { 0 };
    int rules_only = 0;
    if (upf_arg_wants_help(argc, argv)) {
        usage_plan(stdout);
        return UPF_EXIT_OK;
    }
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
        if ((r = upf_arg_value(argc, argv, &i, cmd, "--day", &day_s))) {
            if (r < 0) return UPF_EXIT_USAGE;
        } else if ((r = upf_arg_value(argc, argv, &i, cmd, "--out", &out)) || (r = upf_arg_value(argc, argv, &i, cmd, "-o", &out))) {
            if (r < 0) return UPF_EXIT_USAGE;
        } else if ((r = upf_arg_value(argc, argv, &i, cmd, "--set", &v))) {
            if (r < 0) return UPF_EXIT_USAGE;
            if (a.n_sets == MAX_SETS) return upf_cli_usage_error(cmd, "at most %d --set options", MAX_SETS);
            a.sets[a.n_sets++] = v;
        } else if (upf_arg_is(argv, i, "--rules-only")) {
            rules_only = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return upf_cli_usage_error(cmd, "unknown option %s", argv[i]);
        } else if (!a.config) {
            a.config = argv[i];
        } else {
            return upf_cli_usage_error(cmd, "unexpected argument %s (expected one CONFIG)", argv[i]);
        }
    }
    if (!a.config) return upf_cli_usage_error(cmd, "missing CONFIG");
    int64_t day;
    if (!day_s) return upf_cli_usage_error(cmd, "missing --day YYYY-MM-DD");
    if (parse_day(day_s, &day)) return upf_cli_usage_error(cmd, "--day: expected YYYY-MM-DD, got %s", day_s);
    if (!out || !*out) return upf_cli_usage_error(cmd, "missing -o PLAN");
    size_t ol = strlen(out);
    char *base = upf_malloc(ol + 8), *jp = upf_malloc(ol + 8), *hp = upf_malloc(ol + 8);
    if (!base || !jp || !hp) {
        upf_free(base), upf_free(jp), upf_free(hp);
        upf_cli_error("out of memory");
        return UPF_EXIT_FAIL;
    }
    memcpy(base, out, ol + 1);
    if (ol > 6 && strcmp(base + ol - 6, ".jsonl") == 0) base[ol - 6] = '\0';
    else if (ol > 3 && strcmp(base + ol - 3, ".h5") == 0) base[ol - 3] = '\0';
    snprintf(jp, ol + 8, "%s.jsonl", base);
    snprintf(hp, ol + 8, "%s.h5", base);

    upf_err err;
    upf_err_clear(&err);
    upf_cfg_loaded *cfg = NULL;
    upf_dataset *ds = NULL;
    upf_synth_truth *truth = NULL;
    upf_trig_settings s;
    upf_trig_planner *pl = NULL;
    upf_trig_models *models = NULL;
    upf_trig_state state;
    memset(&state, 0, sizeof state);
    upf_trig_msgs msgs = { 0 };
    upf_trig_stats stats;
    memset(&stats, 0, sizeof stats);
    if (upf_cli_make_parent(jp)) {
        upf_free(base), upf_free(jp), upf_free(hp);
        return UPF_EXIT_FAIL;
    }
    upf_status st = load(&a, &cfg, &s, &ds, &truth, &err);
    if (!st) {
        report_missing(ds, &s.rules);
        const char *missing[UPF_TRIG_COUNT];
        upf_trig_missing(ds, &s.rules, missing);
        for (int k = 0; k < UPF_TRIG_COUNT; k++)
            if (missing[k]) s.rules.enabled[k] = 0;
        st = upf_trig_planner_create(ds, &s.rules, &pl, &err);
    }
    if (!st && !rules_only) st = upf_trig_models_train(ds, &s.models, day, &models, &err);
    if (!st) st = upf_trig_state_create(ds->n_users, &state, &err);
    if (!st) {
        upf_trig_state_load_messages(&state, ds, day);
        st = upf_trig_plan_day(pl, rules_only ? UPF_TRIG_MODE_RULES : UPF_TRIG_MODE_MODEL, models, day, &state,
                               s.models.seed, &msgs, &stats, &err);
    }
    if (!st) st = upf_trig_plan_write(ds, msgs.v, msgs.n, jp, hp, &err);
    int rc = UPF_EXIT_OK;
    if (st) {
        rc = upf_cli_fail(&err);
    } else {
        printf("plan for %s (UTC; events before %s 00:00:00Z): %zu messages -> %s, %s\n", day_s, day_s, msgs.n, jp, hp);
        printf("  %-15s %9s %8s %10s\n", "trigger", "audience", "sent", "suppressed");
        int64_t ta = 0, ts = 0;
        for (int k = 0; k < UPF_TRIG_COUNT; k++) {
            printf("  %-15s %9lld %8lld %10lld\n", upf_trigger_name(k), (long long)stats.audience[k],
                   (long long)stats.sent[k], (long long)(stats.audience[k] - stats.sent[k]));
            ta += stats.audience[k], ts += stats.sent[k];
        }
        printf("  %-15s %9lld %8lld %10lld\n", "total", (long long)ta, (long long)ts, (long long)(ta - ts));
    }
    upf_trig_msgs_free(&msgs);
    upf_trig_state_free(&state);
    upf_trig_models_free(models);
    upf_trig_planner_free(pl);
    upf_synth_truth_free(truth);
    upf_dataset_free(ds);
    upf_config_free(cfg);
    upf_free(base), upf_free(jp), upf_free(hp);
    return rc;
}

static int cmd_backtest(int argc, char **argv)
{
    const char *cmd = "triggers backtest", *from_s = NULL, *to_s = NULL, *json = NULL;
    common_args a = { 0 };
    if (upf_arg_wants_help(argc, argv)) {
        usage_backtest(stdout);
        return UPF_EXIT_OK;
    }
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
        if ((r = upf_arg_value(argc, argv, &i, cmd, "--from", &from_s)) ||
            (r = upf_arg_value(argc, argv, &i, cmd, "--to", &to_s)) ||
            (r = upf_arg_value(argc, argv, &i, cmd, "--json", &json))) {
            if (r < 0) return UPF_EXIT_USAGE;
        } else if ((r = upf_arg_value(argc, argv, &i, cmd, "--set", &v))) {
            if (r < 0) return UPF_EXIT_USAGE;
            if (a.n_sets == MAX_SETS) return upf_cli_usage_error(cmd, "at most %d --set options", MAX_SETS);
            a.sets[a.n_sets++] = v;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return upf_cli_usage_error(cmd, "unknown option %s", argv[i]);
        } else if (!a.config) {
            a.config = argv[i];
        } else {
            return upf_cli_usage_error(cmd, "unexpected argument %s (expected one CONFIG)", argv[i]);
        }
    }
    if (!a.config) return upf_cli_usage_error(cmd, "missing CONFIG");
    int64_t from = UPF_CFG_DATE_UNSET, to = UPF_CFG_DATE_UNSET;
    if (from_s && parse_day(from_s, &from)) return upf_cli_usage_error(cmd, "--from: expected YYYY-MM-DD, got %s", from_s);
    if (to_s && parse_day(to_s, &to)) return upf_cli_usage_error(cmd, "--to: expected YYYY-MM-DD, got %s", to_s);

    upf_err err;
    upf_err_clear(&err);
    upf_cfg_loaded *cfg = NULL;
    upf_dataset *ds = NULL;
    upf_synth_truth *truth = NULL;
    upf_trig_settings s;
    upf_trig_bt bt;
    memset(&bt, 0, sizeof bt);
    upf_status st = upf_config_load(a.config, NULL, a.sets, a.n_sets, &cfg, &err);
    if (!st) st = upf_trig_settings_from_config(cfg, &s, &err);
    if (!st) {
        if (from == UPF_CFG_DATE_UNSET) from = s.from;
        if (to == UPF_CFG_DATE_UNSET) to = s.to;
        if (from == UPF_CFG_DATE_UNSET || to == UPF_CFG_DATE_UNSET) {
            upf_config_free(cfg);
            return upf_cli_usage_error(cmd, "missing --from/--to (the config has no eval.from/eval.to)");
        }
        if (to < from) {
            upf_config_free(cfg);
            return upf_cli_usage_error(cmd, "--to is before --from");
        }
        st = upf_trig_load_data(cfg, &ds, &truth, &err);
    }
    if (!st) st = upf_trig_backtest(ds, truth, &s, from, to, &bt, &err);
    int rc = UPF_EXIT_OK;
    if (!st && json && upf_cli_make_parent(json)) {
        upf_synth_truth_free(truth);
        upf_dataset_free(ds);
        upf_config_free(cfg);
        return UPF_EXIT_FAIL;
    }
    if (!st && json) {
        upf_outfile o;
        if (!(st = upf_outfile_open(&o, json, &err))) {
            upf_trig_bt_json(o.f, &bt);
            st = upf_outfile_commit(&o, &err);
        }
    }
    if (st) rc = upf_cli_fail(&err);
    else upf_trig_bt_print(stdout, &bt, a.config);
    upf_synth_truth_free(truth);
    upf_dataset_free(ds);
    upf_config_free(cfg);
    return rc;
}

int upf_cmd_triggers(int argc, char **argv)
{
    if (argc < 2 || upf_arg_is(argv, 1, "--help") || upf_arg_is(argv, 1, "-h")) {
        usage_top(argc < 2 ? stderr : stdout);
        return argc < 2 ? UPF_EXIT_USAGE : UPF_EXIT_OK;
    }
    if (strcmp(argv[1], "plan") == 0) return cmd_plan(argc - 1, argv + 1);
    if (strcmp(argv[1], "backtest") == 0) return cmd_backtest(argc - 1, argv + 1);
    upf_cli_error("triggers: unknown sub-command %s (expected plan or backtest)", argv[1]);
    return UPF_EXIT_USAGE;
}
