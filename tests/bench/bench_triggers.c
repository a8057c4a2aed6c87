/* bench_triggers.c - time to plan one day of lifecycle messages, per trigger,
 * for tests/bench/bench_triggers.sh.
 *
 *   bench_triggers USERS ITEMS EVENTS_PER_USER [SEED]
 *
 * Builds a shop directly in memory (no generator, so a million users take
 * seconds): each user has about EVENTS_PER_USER views, carts and purchases
 * over the 180 days before the planned day (items skewed towards the head),
 * 70% have a birthday, all a signup date; 3% of the items dropped their
 * price, 2% came back in stock and 1% were listed in the last week. The
 * models are random (a ranker of dim 32, BG/NBD with fixed parameters,
 * repurchase gaps for a fifth of the items): training is not timed here, the
 * planning around them is. Prints the planning time of the rules-only and
 * the model plan, in total and per trigger. Figures only; no assertions.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../model/rng.h"
#include "../../train/trigger_plan.h"

#define DAYS 86400
#define D0 1710028800LL /* 2024-03-10T00:00:00Z */

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static upf_dataset *make_shop(size_t U, size_t I, size_t E, uint64_t seed)
{
    upf_dataset *ds = upf_calloc(1, sizeof *ds);
    upf_rng r;
    upf_rng_seed(&r, seed, 0);
    ds->n_users = U, ds->n_items = I;
    ds->user_ptr = upf_malloc((U + 1) * sizeof *ds->user_ptr);
    int64_t cap = (int64_t)(U * (2 * E + 1)), n = 0;
    ds->ev_user = upf_malloc((size_t)cap * sizeof *ds->ev_user);
    ds->ev_item = upf_malloc((size_t)cap * sizeof *ds->ev_item);
    ds->ev_time = upf_malloc((size_t)cap * sizeof *ds->ev_time);
    ds->ev_type = upf_malloc((size_t)cap);
    ds->ev_value = upf_malloc((size_t)cap * sizeof *ds->ev_value);
    ds->user_birthday = upf_malloc(U * sizeof *ds->user_birthday);
    ds->user_signup = upf_malloc(U * sizeof *ds->user_signup);
    int64_t times[4096];
    for (size_t u = 0; u < U; u++) {
        ds->user_ptr[u] = n;
        size_t k = (size_t)upf_rng_below(&r, (uint32_t)(2 * E + 1));
        if (k > 4096) k = 4096;
        for (size_t j = 0; j < k; j++) times[j] = D0 - 1 - (int64_t)upf_rng_below(&r, 180 * DAYS);
        qsort(times, k, sizeof *times, cmp_i64);
        for (size_t j = 0; j < k; j++, n++) {
            double x = upf_rng_uniform(&r);
            ds->ev_user[n] = (int32_t)u;
            ds->ev_item[n] = (int32_t)((double)I * x * x * x);
            ds->ev_time[n] = times[j];
            uint32_t t = upf_rng_below(&r, 10);
            ds->ev_type[n] = t < 6 ? UPF_EV_VIEW : t < 8 ? UPF_EV_CART : UPF_EV_PURCHASE;
            ds->ev_value[n] = 10.0f;
        }
        ds->user_birthday[u] = upf_rng_uniform(&r) < 0.7 ? -(int64_t)upf_rng_below(&r, 20000) * DAYS : UPF_TIME_MISSING;
        ds->user_signup[u] = D0 - (int64_t)upf_rng_below(&r, 1000) * DAYS - 1;
    }
    ds->user_ptr[U] = n;
    ds->n_events = n;
    /* item state: price drops, back in stock, listings in the last week */
    upf_item_events *ie = &ds->item_events;
    ie->item = upf_malloc(3 * I * sizeof *ie->item);
    ie->time = upf_malloc(3 * I * sizeof *ie->time);
    ie->kind = upf_malloc(3 * I);
    ie->value = upf_malloc(3 * I * sizeof *ie->value);
    size_t m = 0;
    for (size_t i = 0; i < I; i++) {
        double x = upf_rng_uniform(&r);
        int64_t t = D0 - 1 - (int64_t)upf_rng_below(&r, 7 * DAYS);
        if (x < 0.03) {
            ie->item[m] = (int32_t)i, ie->time[m] = t - 30 * DAYS, ie->kind[m] = UPF_IE_PRICE, ie->value[m++] = 10.0f;
            ie->item[m] = (int32_t)i, ie->time[m] = t, ie->kind[m] = UPF_IE_PRICE, ie->value[m++] = 8.0f;
        } else if (x < 0.05) {
            ie->item[m] = (int32_t)i, ie->time[m] = t - 10 * DAYS, ie->kind[m] = UPF_IE_STOCK, ie->value[m++] = 0.0f;
            ie->item[m] = (int32_t)i, ie->time[m] = t, ie->kind[m] = UPF_IE_STOCK, ie->value[m++] = 5.0f;
        } else if (x < 0.06) {
            ie->item[m] = (int32_t)i, ie->time[m] = t, ie->kind[m] = UPF_IE_LISTED, ie->value[m++] = 0.0f;
        }
    }
    ie->n = m;
    return ds;
}

static upf_trig_models *make_models(const upf_dataset *ds, uint64_t seed)
{
    upf_trig_models *m = upf_calloc(1, sizeof *m);
    upf_err err;
    upf_ranker_shape s = { ds->n_users, ds->n_items, 0, 0, 32, 1, 1 };
    if (upf_ranker_model_create(&s, NULL, NULL, &m->ranker, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        exit(1);
    }
    upf_ranker_model_init(m->ranker, 0.3, seed);
    m->dim = 32, m->cutoff = D0, m->n_users = ds->n_users, m->n_items = ds->n_items;
    m->item_vec = upf_malloc(ds->n_items * 32 * sizeof *m->item_vec);
    m->item_bias = upf_malloc(ds->n_items * sizeof *m->item_bias);
    upf_ranker_item_matrix(m->ranker, m->item_vec, m->item_bias);
    m->n_pool = ds->n_items < 500 ? ds->n_items : 500;
    m->pool = upf_malloc(m->n_pool * sizeof *m->pool);
    for (size_t j = 0; j < m->n_pool; j++) m->pool[j] = (int32_t)j; /* the head of the skewed items */
    m->has_bgnbd = 1, m->bg_unit_days = 7.0;
    m->bgnbd = (upf_bgnbd_params){ 1.0, 10.0, 0.5, 5.0, 0 };
    m->bg_x = upf_malloc(ds->n_users * sizeof *m->bg_x);
    m->bg_tx = upf_malloc(ds->n_users * sizeof *m->bg_tx);
    m->bg_T = upf_malloc(ds->n_users * sizeof *m->bg_T);
    upf_rng r;
    upf_rng_seed(&r, seed, 1);
    for (size_t u = 0; u < ds->n_users; u++) {
        m->bg_x[u] = (float)upf_rng_below(&r, 5), m->bg_T[u] = 26.0f, m->bg_tx[u] = (float)(upf_rng_uniform(&r) * 26.0);
    }
    m->item_gap_days = upf_malloc(ds->n_items * sizeof *m->item_gap_days);
    for (size_t i = 0; i < ds->n_items; i++) m->item_gap_days[i] = i % 5 == 0 ? 30.0f : NAN;
    return m;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_triggers USERS ITEMS EVENTS_PER_USER [SEED]\n");
        return 2;
    }
    size_t U = strtoull(argv[1], NULL, 10), I = strtoull(argv[2], NULL, 10), E = strtoull(argv[3], NULL, 10);
    uint64_t seed = argc > 4 ? strtoull(argv[4], NULL, 10) : 1;
    double t0 = now();
    upf_dataset *ds = make_shop(U, I, E, seed);
    upf_trig_models *m = make_models(ds, seed);
    printf("shop: %zu users, %zu items, %lld events, %zu item changes (built in %.2f s, not counted)\n", U, I,
           (long long)ds->n_events, ds->item_events.n, now() - t0);
    upf_trig_rules rules = upf_trig_rules_default();
    rules.enabled[UPF_TRIG_SEARCH_ABANDON] = 0; /* no queries in this shop */
    upf_err err;
    for (int mode = UPF_TRIG_MODE_RULES; mode >= UPF_TRIG_MODE_MODEL; mode--) {
        upf_trig_planner *pl = NULL;
        upf_trig_state st;
        double a = now();
        if (upf_trig_planner_create(ds, &rules, &pl, &err) || upf_trig_state_create(U, &st, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        pl->timing = 1;
        double b = now();
        upf_trig_msgs msgs = { 0 };
        upf_trig_stats stats;
        memset(&stats, 0, sizeof stats);
        if (upf_trig_plan_day(pl, (upf_trig_mode)mode, m, D0, &st, seed, &msgs, &stats, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        double c = now();
        printf("\nplan one day, %s: %.2f s (setup %.2f s, plan %.2f s, %.0f users/s), %zu messages\n",
               mode == UPF_TRIG_MODE_MODEL ? "model plan" : "rules only", c - a, b - a, c - b, (double)U / (c - b),
               msgs.n);
        printf("  %-15s %10s %10s %9s\n", "trigger", "audience", "sent", "seconds");
        for (int k = 0; k < UPF_TRIG_COUNT; k++)
            printf("  %-15s %10lld %10lld %9.3f\n", upf_trigger_name(k), (long long)stats.audience[k],
                   (long long)stats.sent[k], stats.seconds[k]);
        upf_trig_msgs_free(&msgs);
        upf_trig_state_free(&st);
        upf_trig_planner_free(pl);
    }
    upf_trig_models_free(m);
    upf_dataset_free(ds);
    return 0;
}
