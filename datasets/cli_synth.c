/* cli_synth.c - `upfunnel data synth`: generate a shop with planted structure
 * and write it (OUT.h5) with its ground truth beside it (OUT.truth.h5 and
 * OUT.truth.json). The options map one to one onto upf_synth_params through
 * the table below, which also prints the --help defaults.
 *
 * Not here: the generator (synth*.c) and the file writers (h5_*.c).
 * Entry point: upf_cmd_data_synth.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../model/json.h"
#include "../train/cli.h"
#include "../train/commands.h"
#include "h5_io.h"
#include "synth.h"
#include "synth_internal.h"

enum { O_U64, O_U32, O_I32, O_F64, O_DATE };

static const struct opt {
    const char *flag;
    const char *field; /* the upf_synth_params field, as params_check names it */
    int type;
    size_t off;
    const char *arg;
    const char *help;
} opts[] = {
    { "--users", "n_users", O_U64, offsetof(upf_synth_params, n_users), "N", "users (all exist in the output, events or not)" },
    { "--items", "n_items", O_U64, offsetof(upf_synth_params, n_items), "N", "items" },
    { "--days", "n_days", O_U32, offsetof(upf_synth_params, n_days), "D", "length of the simulated range in days" },
    { "--seed", "seed", O_U64, offsetof(upf_synth_params, seed), "S", "random seed" },
    { "--start", "start", O_DATE, offsetof(upf_synth_params, start), "YYYY-MM-DD", "first day of the range (UTC)" },
    { "--categories", "n_categories", O_U32, offsetof(upf_synth_params, n_categories), "N", "categories, 2..40" },
    { "--brands", "n_brands", O_U32, offsetof(upf_synth_params, n_brands), "N", "brands nested in categories (0: items/16)" },
    { "--brand-styles", "n_styles", O_U32, offsetof(upf_synth_params, n_styles), "S", "latent brand styles (a style's brands share a taste)" },
    { "--dim", "dim", O_U32, offsetof(upf_synth_params, dim), "K", "dimension of the latent tastes" },
    { "--affinity", "affinity", O_F64, offsetof(upf_synth_params, affinity), "X", "strength of category preferences (sd of affinities)" },
    { "--brand-affinity", "brand_affinity", O_F64, offsetof(upf_synth_params, brand_affinity), "X", "strength of brand preferences" },
    { "--zipf", "zipf", O_F64, offsetof(upf_synth_params, zipf), "S", "popularity exponent: w = rank^-S" },
    { "--new-items", "new_item_share", O_F64, offsetof(upf_synth_params, new_item_share), "F", "share of items listed during the range" },
    { "--cold-items", "cold_item_share", O_F64, offsetof(upf_synth_params, cold_item_share), "F", "share of items listed in the last --cold-days" },
    { "--cold-days", "cold_days", O_U32, offsetof(upf_synth_params, cold_days), "D", "the cold window at the end (0: days/10)" },
    { "--delist", "delist_share", O_F64, offsetof(upf_synth_params, delist_share), "F", "share of items withdrawn during the range" },
    { "--sale-rate", "sale_rate", O_F64, offsetof(upf_synth_params, sale_rate), "X", "temporary price drops per item per 90 days" },
    { "--stockout-rate", "stockout_rate", O_F64, offsetof(upf_synth_params, stockout_rate), "X", "stock-outs per item per 180 days" },
    { "--new-users", "new_user_share", O_F64, offsetof(upf_synth_params, new_user_share), "F", "share of users signing up during the range" },
    { "--history-days", "history_days", O_U32, offsetof(upf_synth_params, history_days), "D", "older users signed up up to D days before the start" },
    { "--interval", "interval_days", O_F64, offsetof(upf_synth_params, interval_days), "DAYS", "mean days between purchases (baseline covariates)" },
    { "--shape", "interval_shape", O_F64, offsetof(upf_synth_params, interval_shape), "K", "Weibull shape of the intervals" },
    { "--frailty", "interval_frailty", O_F64, offsetof(upf_synth_params, interval_frailty), "SD", "sd of the per-user log-scale frailty" },
    { "--bgnbd-r", "bgnbd_r", O_F64, offsetof(upf_synth_params, bgnbd_r), "R", "> 0: pure BG/NBD, rate ~ Gamma(R, --bgnbd-alpha)" },
    { "--bgnbd-alpha", "bgnbd_alpha", O_F64, offsetof(upf_synth_params, bgnbd_alpha), "A", "(in days; replaces the AFT model and --shape)" },
    { "--dropout-a", "dropout_a", O_F64, offsetof(upf_synth_params, dropout_a), "A", "dropout after each purchase: p ~ Beta(A, B)" },
    { "--dropout-b", "dropout_b", O_F64, offsetof(upf_synth_params, dropout_b), "B", "(mean dropout A/(A+B); larger B, weaker dropout)" },
    { "--rebuy", "rebuy_prob", O_F64, offsetof(upf_synth_params, rebuy_prob), "F", "P(a consumable purchase starts rebuys); 0: none" },
    { "--birthdays", "birthday_share", O_F64, offsetof(upf_synth_params, birthday_share), "F", "share of users with a known birthday" },
    { "--browse", "browse_ratio", O_F64, offsetof(upf_synth_params, browse_ratio), "X", "browse-only sessions per purchase occasion" },
    { "--views", "views_per_session", O_F64, offsetof(upf_synth_params, views_per_session), "X", "mean views of alternatives per session" },
    { "--search", "search_prob", O_F64, offsetof(upf_synth_params, search_prob), "F", "P(a session starts with a search)" },
    { "--cart-abandon", "cart_abandon_prob", O_F64, offsetof(upf_synth_params, cart_abandon_prob), "F", "P(a browse session leaves an item in the cart)" },
    { "--arms", "campaign_arms", O_U32, offsetof(upf_synth_params, campaign_arms), "N", "campaign treatment arms: 0 none, 1 email, 2 +coupon" },
    { "--campaign-share", "campaign_share", O_F64, offsetof(upf_synth_params, campaign_share), "F", "share of signed-up users in the campaign" },
    { "--campaign-day", "campaign_day", O_I32, offsetof(upf_synth_params, campaign_day), "D", "send day from the start (-1: 3/4 of the range)" },
    { "--window", "campaign_window", O_U32, offsetof(upf_synth_params, campaign_window), "D", "days over which the campaign's outcomes count" },
    { "--effect", "effect", O_F64, offsetof(upf_synth_params, effect), "X", "effect on the logit scale: +X/0/-X by segment" },
    { "--coupon", "coupon_discount", O_F64, offsetof(upf_synth_params, coupon_discount), "F", "price cut of the coupon arm" },
    { "--impressions", "n_impressions", O_U64, offsetof(upf_synth_params, n_impressions), "N", "logged slates (0: no impression log)" },
    { "--positions", "n_positions", O_U32, offsetof(upf_synth_params, n_positions), "P", "slots per slate, 1..3" },
    { "--candidates", "n_candidates", O_U32, offsetof(upf_synth_params, n_candidates), "M", "items the logging policy chooses from" },
    { "--logging-temp", "logging_temperature", O_F64, offsetof(upf_synth_params, logging_temperature), "T", "logging policy: Plackett-Luce on popularity^(1/T)" },
    { "--click-bias", "click_bias", O_F64, offsetof(upf_synth_params, click_bias), "X", "logit offset of the click model" },
};
#define N_OPTS (sizeof opts / sizeof opts[0])

static void opt_default(const struct opt *o, const upf_synth_params *d, char *buf, size_t n)
{
    const char *f = (const char *)d + o->off;
    uint64_t u64;
    uint32_t u32;
    int32_t i32;
    int64_t i64;
    double f64;
    switch (o->type) {
    case O_U64: memcpy(&u64, f, sizeof u64); snprintf(buf, n, "%llu", (unsigned long long)u64); break;
    case O_U32: memcpy(&u32, f, sizeof u32); snprintf(buf, n, "%u", u32); break;
    case O_I32: memcpy(&i32, f, sizeof i32); snprintf(buf, n, "%d", i32); break;
    case O_DATE: memcpy(&i64, f, sizeof i64); syn_format_iso(i64, buf, n); if (n > 10) buf[10] = '\0'; break;
    default: memcpy(&f64, f, sizeof f64); snprintf(buf, n, "%g", f64); break;
    }
}

static void usage(FILE *f)
{
    upf_synth_params d = upf_synth_params_default();
    fputs("usage: upfunnel data synth -o OUT.h5 [--users N] [--items N] [--days D]\n"
          "                             [--seed S] [--start YYYY-MM-DD] [options]\n"
          "\n"
          "Generates a shop's event history with planted structure that models must\n"
          "recover, and writes it as an upfunnel dataset (OUT.h5) with its ground truth\n"
          "beside it: OUT.truth.h5 (every array) and OUT.truth.json (parameters,\n"
          "coefficients, segment and policy summaries). datasets/SYNTH.md documents\n"
          "every formula and field.\n"
          "\n"
          "What is planted: items with category, brand, price band and description\n"
          "tokens, Zipf popularity, cold items listed at the end; users with region,\n"
          "age band and signup channel that shift their latent category/brand tastes\n"
          "and price sensitivity; choice P(i|u) ~ w_i exp(z_u.(C_c+D_b) - g_u band_i);\n"
          "sessions search -> view -> cart -> purchase; Weibull repurchase intervals\n"
          "whose scale follows an AFT model on the covariates; dropout after each\n"
          "purchase with p_u ~ Beta(a, b); buy-again consumables; price drops,\n"
          "stock-outs and new arrivals as item events; signups and birthdays; a\n"
          "randomized campaign /campaigns/synth (control, email, coupon) whose effect\n"
          "is +, 0 or - by segment; logged impressions of a known stochastic policy\n"
          "with propensities and position-biased clicks.\n"
          "\n"
          "The output is a pure function of the options (byte-identical files for the\n"
          "same options; the file's `created` attribute is the end of the range).\n"
          "\n"
          "options:\n"
          "  -o, --output FILE        the dataset to write (required); the truth goes\n"
          "                           to FILE without .h5 plus .truth.h5 / .truth.json\n"
          "  --no-truth               do not write the truth files\n"
          "  --threads N              simulate users on N threads; the output is the\n"
          "                           same for every N (default 1)\n"
          "  --json                   print the summary as JSON\n"
          "  -q, --quiet              print nothing on success\n",
          f);
    for (size_t k = 0; k < N_OPTS; k++) {
        char left[64], def[40];
        snprintf(left, sizeof left, "%s %s", opts[k].flag, opts[k].arg);
        opt_default(&opts[k], &d, def, sizeof def);
        if (strlen(opts[k].help) + strlen(def) + 38 <= 80)
            fprintf(f, "  %-24s %s (default %s)\n", left, opts[k].help, def);
        else
            fprintf(f, "  %-24s %s\n  %-24s (default %s)\n", left, opts[k].help, "", def);
    }
    fputs("\n"
          "examples:\n"
          "  upfunnel data synth -o data/shop.h5           # 20k users, 5k items, 2024\n"
          "  upfunnel data synth -o s.h5 --users 2000 --items 500 --seed 7\n"
          "  upfunnel data synth -o big.h5 --users 170000 --items 50000   # ~10M events\n"
          "  upfunnel data synth -o clean.h5 --rebuy 0 --arms 0   # Weibull renewals only\n"
          "\n"
          "exit status: 0 success, 1 runtime failure (I/O, memory), 2 usage error.\n",
          f);
}

static int set_opt(const struct opt *o, const char *val, upf_synth_params *p)
{
    char *f = (char *)p + o->off;
    uint64_t u;
    int64_t i;
    double x;
    switch (o->type) {
    case O_U64:
        if (upf_parse_u64(val, &u)) return -1;
        memcpy(f, &u, sizeof u);
        return 0;
    case O_U32: {
        if (upf_parse_u64(val, &u) || u > UINT32_MAX) return -1;
        uint32_t v = (uint32_t)u;
        memcpy(f, &v, sizeof v);
        return 0;
    }
    case O_I32: {
        if (upf_parse_i64(val, &i) || i < INT32_MIN || i > INT32_MAX) return -1;
        int32_t v = (int32_t)i;
        memcpy(f, &v, sizeof v);
        return 0;
    }
    case O_DATE:
        if (syn_parse_date(val, &i)) return -1;
        memcpy(f, &i, sizeof i);
        return 0;
    default:
        if (upf_parse_double(val, &x)) return -1;
        memcpy(f, &x, sizeof x);
        return 0;
    }
}

/* OUT.h5 -> OUT.truth.h5 / OUT.truth.json (owned). */
static char *truth_path(const char *out, const char *suffix)
{
    size_t n = strlen(out);
    if (n > 3 && strcmp(out + n - 3, ".h5") == 0) n -= 3;
    else if (n > 5 && strcmp(out + n - 5, ".hdf5") == 0) n -= 5;
    size_t len = n + strlen(suffix) + 1;
    char *p = upf_malloc(len);
    if (p) snprintf(p, len, "%.*s%s", (int)n, out, suffix);
    return p;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void summary(const upf_dataset *ds, const upf_synth_truth *t, const char *out, const char *th5,
                    const char *tjson, double t_gen, double t_write, int json)
{
    int64_t by_type[UPF_EV_TYPE_COUNT] = { 0 };
    for (int64_t e = 0; e < ds->n_events; e++) by_type[ds->ev_type[e] < UPF_EV_TYPE_COUNT ? ds->ev_type[e] : 0]++;
    size_t silent = 0;
    for (size_t u = 0; u < ds->n_users; u++) silent += ds->user_ptr[u] == ds->user_ptr[u + 1];
    double rate = t_gen > 0 ? (double)ds->n_events / t_gen : 0.0;
    if (json) {
        upf_json_writer w;
        upf_jw_init(&w, stdout, 1);
        upf_jw_object(&w, NULL);
        upf_jw_str(&w, "output", out);
        upf_jw_str(&w, "truth_h5", th5);
        upf_jw_str(&w, "truth_json", tjson);
        upf_jw_int(&w, "users", (int64_t)ds->n_users);
        upf_jw_int(&w, "users_without_events", (int64_t)silent);
        upf_jw_int(&w, "items", (int64_t)ds->n_items);
        upf_jw_int(&w, "events", ds->n_events);
        upf_jw_object(&w, "events_by_type");
        for (int k = 1; k < UPF_EV_TYPE_COUNT; k++)
            if (by_type[k]) upf_jw_int(&w, upf_event_type_name(k), by_type[k]);
        upf_jw_end(&w);
        upf_jw_int(&w, "item_events", (int64_t)ds->item_events.n);
        upf_jw_int(&w, "queries", (int64_t)ds->queries.n);
        upf_jw_int(&w, "campaign_users", ds->n_campaigns ? (int64_t)ds->campaigns[0].n : 0);
        upf_jw_int(&w, "impressions", (int64_t)ds->impressions.n);
        upf_jw_num(&w, "generate_seconds", t_gen);
        upf_jw_num(&w, "write_seconds", t_write);
        upf_jw_num(&w, "events_per_second", rate);
        upf_jw_end(&w);
        upf_jw_finish(&w);
        return;
    }
    printf("synth: %zu users (%zu without events), %zu items, %lld events (%lld views, %lld carts, %lld purchases, "
           "%lld searches)\n",
           ds->n_users, silent, ds->n_items, (long long)ds->n_events, (long long)by_type[UPF_EV_VIEW],
           (long long)by_type[UPF_EV_CART], (long long)by_type[UPF_EV_PURCHASE], (long long)by_type[UPF_EV_SEARCH]);
    printf("synth: %zu item events, %zu queries, campaign of %zu users in %zu arms, %zu impressions\n",
           ds->item_events.n, ds->queries.n, ds->n_campaigns ? ds->campaigns[0].n : 0, t->n_arms, ds->impressions.n);
    printf("synth: wrote %s%s%s%s%s in %.2f s (generate %.2f s at %.2fM events/s, write %.2f s)\n", out,
           th5 ? ", " : "", th5 ? th5 : "", tjson ? ", " : "", tjson ? tjson : "", t_gen + t_write, t_gen, rate / 1e6,
           t_write);
}

int upf_cmd_data_synth(int argc, char **argv)
{
    const char *cmd = "data synth", *out = NULL;
    upf_synth_params p = upf_synth_params_default();
    int no_truth = 0, json = 0, quiet = 0;
    unsigned n_threads = 1;
    if (upf_arg_wants_help(argc, argv)) {
        usage(stdout);
        return UPF_EXIT_OK;
    }
    for (int i = 1; i < argc; i++) {
        const char *val = NULL;
        int r;
        if ((r = upf_arg_value(argc, argv, &i, cmd, "-o", &val)) != 0 ||
            (r = upf_arg_value(argc, argv, &i, cmd, "--output", &val)) != 0) {
            if (r < 0) return UPF_EXIT_USAGE;
            out = val;
            continue;
        }
        if (upf_arg_is(argv, i, "--no-truth")) {
            no_truth = 1;
            continue;
        }
        if ((r = upf_arg_value(argc, argv, &i, cmd, "--threads", &val)) != 0) {
            uint64_t n;
            if (r < 0) return UPF_EXIT_USAGE;
            if (upf_parse_u64(val, &n) || n < 1 || n > UPF_SYNTH_MAX_THREADS)
                return upf_cli_usage_error(cmd, "--threads: expected 1..%d, got '%s'", UPF_SYNTH_MAX_THREADS, val);
            n_threads = (unsigned)n;
            continue;
        }
        if (upf_arg_is(argv, i, "--json")) {
            json = 1;
            continue;
        }
        if (upf_arg_is(argv, i, "-q") || upf_arg_is(argv, i, "--quiet")) {
            quiet = 1;
            continue;
        }
        size_t k;
        for (k = 0; k < N_OPTS; k++) {
            r = upf_arg_value(argc, argv, &i, cmd, opts[k].flag, &val);
            if (r < 0) return UPF_EXIT_USAGE;
            if (r > 0) break;
        }
        if (k == N_OPTS) return upf_cli_usage_error(cmd, "unknown option '%s'", argv[i]);
        if (set_opt(&opts[k], val, &p))
            return upf_cli_usage_error(cmd, "%s: expected %s, got '%s'", opts[k].flag,
                                       opts[k].type == O_DATE ? "a date YYYY-MM-DD"
                                       : opts[k].type == O_F64 ? "a number"
                                       : opts[k].type == O_I32 ? "an integer"
                                                               : "a non-negative integer",
                                       val);
    }
    if (!out) return upf_cli_usage_error(cmd, "no output file: give -o OUT.h5");
    upf_err err;
    upf_err_clear(&err);
    if (upf_synth_params_check(&p, &err) != UPF_OK) { /* name the option, not the field */
        const char *flag = NULL, *rest = err.msg;
        for (size_t k = 0; k < N_OPTS && !flag; k++) {
            size_t n = strlen(opts[k].field);
            if (strncmp(err.msg, "synth: ", 7) == 0 && strncmp(err.msg + 7, opts[k].field, n) == 0 && err.msg[7 + n] == ':')
                flag = opts[k].flag, rest = err.msg + 7 + n;
        }
        return flag ? upf_cli_usage_error(cmd, "%s%s", flag, rest) : upf_cli_usage_error(cmd, "%s", err.msg);
    }
    int mk = upf_cli_make_parent(out); /* before the minutes of generation, not after */
    if (mk) return mk;

    char *th5 = no_truth ? NULL : truth_path(out, ".truth.h5");
    char *tjson = no_truth ? NULL : truth_path(out, ".truth.json");
    upf_dataset *ds = NULL;
    upf_synth_truth *t = NULL;
    int rc = UPF_EXIT_OK;
    if (!no_truth && (!th5 || !tjson)) {
        upf_err_set(&err, UPF_ERR_NOMEM, "out of memory");
        rc = upf_cli_fail(&err);
        goto done;
    }
    double t0 = now_s();
    if (upf_synth_generate_mt(&p, n_threads, &ds, &t, &err) != UPF_OK) {
        rc = upf_cli_fail(&err);
        goto done;
    }
    double t1 = now_s();
    if (upf_dataset_write(ds, out, &err) != UPF_OK ||
        (!no_truth && (upf_synth_truth_write(t, th5, &err) != UPF_OK || upf_synth_truth_write_json(t, tjson, &err) != UPF_OK))) {
        rc = upf_cli_fail(&err);
        goto done;
    }
    double t2 = now_s();
    if (!quiet) summary(ds, t, out, th5, tjson, t1 - t0, t2 - t1, json);
done:
    upf_dataset_free(ds);
    upf_synth_truth_free(t);
    upf_free(th5);
    upf_free(tjson);
    return rc;
}
