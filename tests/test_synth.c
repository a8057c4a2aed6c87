/* test_synth.c - the synthetic shop: parameters and counts, determinism, and
 * that the planted structure is really in the data and recoverable with
 * simple statistics (preferences, cold items, item state, intervals, dropout,
 * campaign uplift by segment, logging propensities and clicks), the truth
 * file round trip, allocation failures, and the command's usage errors.
 *
 * Statistical checks use fixed seeds and tolerances of 4 standard errors, so
 * they are deterministic and would fail if the planted effect were missing.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../datasets/h5_io.h"
#include "../datasets/synth.h"
#include "../datasets/synth_internal.h"
#include "../model/json.h"
#include "testutil.h"

/* ---- shared shops (built once per test case, before the fork) ---- */

static upf_dataset *shop;
static upf_synth_truth *truth;

static upf_synth_params small_params(void)
{
    upf_synth_params p = upf_synth_params_default();
    p.n_users = 4000;
    p.n_items = 800;
    p.seed = 11;
    p.n_impressions = 4000;
    return p;
}

static void build_shop(const upf_synth_params *p)
{
    upf_err err;
    upf_status st = upf_synth_generate(p, &shop, &truth, &err);
    if (st != UPF_OK) {
        fprintf(stderr, "synth fixture: %s\n", err.msg);
        abort();
    }
}

static void shop_setup(void)
{
    upf_synth_params p = small_params();
    build_shop(&p);
}

/* A shop with only Weibull renewals: no consumables, no campaign. */
static void renewal_setup(void)
{
    upf_synth_params p = small_params();
    p.n_users = 10000;
    p.rebuy_prob = 0.0;
    p.campaign_arms = 0;
    p.n_impressions = 0;
    p.browse_ratio = 0.5;
    build_shop(&p);
}

/* A bigger campaign for tight uplift estimates. */
static void campaign_setup(void)
{
    upf_synth_params p = small_params();
    p.n_users = 30000;
    p.n_items = 600;
    p.browse_ratio = 0.0;
    p.n_impressions = 0;
    build_shop(&p);
}

static void shop_teardown(void)
{
    upf_dataset_free(shop);
    upf_synth_truth_free(truth);
    shop = NULL;
    truth = NULL;
}

/* ---- helpers ---- */

/* An assertion for hot loops: Check's ck_assert writes a record per call (a
 * system call each), this one only on failure. */
#define REQUIRE(cond)                                                 \
    do {                                                              \
        if (!(cond)) ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #cond); \
    } while (0)

static double stock_at(const upf_dataset *ds, int32_t item, int64_t t, float *price)
{
    const upf_item_events *ie = &ds->item_events;
    /* item events are sorted by (item, time): binary search the item's block */
    size_t lo = 0, hi = ie->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ie->item[mid] < item) lo = mid + 1;
        else hi = mid;
    }
    double stock = -1.0;
    for (size_t e = lo; e < ie->n && ie->item[e] == item && ie->time[e] <= t; e++) {
        if (ie->kind[e] == UPF_IE_STOCK) stock = ie->value[e];
        if (ie->kind[e] == UPF_IE_PRICE && price) *price = ie->value[e];
    }
    return stock;
}

static int in_window(const upf_synth_truth *t, size_t u, int64_t time)
{
    return t->n_arms && t->user_arm[u] >= 0 && time >= t->campaign_time && time < t->campaign_time + t->campaign_window;
}

/* ---- parameters ---- */

START_TEST(test_params)
{
    upf_synth_params d = upf_synth_params_default();
    upf_err err;
    ck_assert_int_eq(upf_synth_params_check(&d, &err), UPF_OK);
    ck_assert_uint_eq(d.n_users, 20000);
    ck_assert_uint_eq(d.n_items, 5000);
    upf_synth_params p;
#define EXPECT_BAD(stmt, field)                                                                  \
    do {                                                                                         \
        p = d;                                                                                   \
        stmt;                                                                                    \
        upf_dataset *ds = (upf_dataset *)&p;                                                     \
        upf_synth_truth *tr = (upf_synth_truth *)&p;                                             \
        ck_assert_int_eq(upf_synth_generate(&p, &ds, &tr, &err), UPF_ERR_ARG);                   \
        ck_assert_ptr_null(ds);                                                                  \
        ck_assert_ptr_null(tr);                                                                  \
        ck_assert_msg(strstr(err.msg, field) != NULL, "'%s' does not name %s", err.msg, field); \
    } while (0)
    EXPECT_BAD(p.n_users = 0, "n_users");
    EXPECT_BAD(p.n_items = 10, "n_items");
    EXPECT_BAD(p.n_days = 3, "n_days");
    EXPECT_BAD(p.n_categories = 41, "n_categories");
    EXPECT_BAD(p.n_brands = 5, "n_brands");
    EXPECT_BAD(p.dim = 0, "dim");
    EXPECT_BAD(p.affinity = NAN, "affinity");
    EXPECT_BAD(p.new_item_share = 0.7; p.cold_item_share = 0.5, "cold_item_share");
    EXPECT_BAD(p.interval_shape = 0.0, "interval_shape");
    EXPECT_BAD(p.dropout_a = 0.0, "dropout_a");
    EXPECT_BAD(p.search_prob = 1.5, "search_prob");
    EXPECT_BAD(p.campaign_arms = 3, "campaign_arms");
    EXPECT_BAD(p.campaign_day = 360, "campaign_day");
    EXPECT_BAD(p.n_positions = 4, "n_positions");
    EXPECT_BAD(p.n_candidates = 2, "n_candidates");
    EXPECT_BAD(p.logging_temperature = -1, "logging_temperature");
#undef EXPECT_BAD
}
END_TEST

/* ---- structure and counts ---- */

START_TEST(test_counts_and_shape)
{
    const upf_dataset *ds = shop;
    upf_synth_params p = small_params();
    ck_assert_uint_eq(ds->n_users, p.n_users);
    ck_assert_uint_eq(ds->n_items, p.n_items);
    ck_assert_uint_eq(truth->n_users, p.n_users);
    ck_assert_str_eq(upf_strings_get(&ds->user_ids, 0), "u0000");
    ck_assert_str_eq(upf_strings_get(&ds->item_ids, 799), "i799");
    REQUIRE((ds->user_ptr[0]) == (0));
    REQUIRE((ds->user_ptr[ds->n_users]) == (ds->n_events));
    ck_assert_int_gt(ds->n_events, 100000);
    int64_t by_type[UPF_EV_TYPE_COUNT] = { 0 };
    size_t silent = 0;
    for (size_t u = 0; u < ds->n_users; u++) {
        silent += ds->user_ptr[u] == ds->user_ptr[u + 1];
        for (int64_t e = ds->user_ptr[u]; e < ds->user_ptr[u + 1]; e++) {
            REQUIRE((ds->ev_user[e]) == ((int32_t)u));
            if (e > ds->user_ptr[u]) REQUIRE((ds->ev_time[e]) >= (ds->ev_time[e - 1]));
            REQUIRE((ds->ev_time[e]) >= (truth->t_start));
            REQUIRE((ds->ev_time[e]) < (truth->t_end));
            REQUIRE((ds->ev_time[e]) >= (ds->user_signup[u]));
            int ty = ds->ev_type[e];
            by_type[ty]++;
            if (ty == UPF_EV_SEARCH) {
                REQUIRE((ds->ev_item[e]) == (-1));
                REQUIRE(ds->ev_query[e] >= 0 && (size_t)ds->ev_query[e] < ds->queries.n);
            } else {
                REQUIRE(ty == UPF_EV_VIEW || ty == UPF_EV_CART || ty == UPF_EV_PURCHASE);
                REQUIRE(ds->ev_item[e] >= 0 && (size_t)ds->ev_item[e] < ds->n_items);
                REQUIRE((ds->ev_query[e]) == (-1));
            }
            if (ty == UPF_EV_CART) REQUIRE(ds->ev_value[e] >= 1.0f && ds->ev_value[e] == floorf(ds->ev_value[e]));
            if (ty == UPF_EV_PURCHASE) REQUIRE(ds->ev_value[e] > 0.0f);
        }
    }
    /* the funnel narrows: views > carts > purchases, and searches exist */
    ck_assert_int_gt(by_type[UPF_EV_VIEW], by_type[UPF_EV_CART]);
    ck_assert_int_gt(by_type[UPF_EV_CART], by_type[UPF_EV_PURCHASE]);
    ck_assert_int_gt(by_type[UPF_EV_SEARCH], by_type[UPF_EV_PURCHASE] / 4);
    REQUIRE((silent) < (ds->n_users / 2)); /* some users never buy in the range; most do */
    ck_assert_uint_gt(silent, 0);
    /* attributes: three per user; category, brand, band and tokens per item */
    ck_assert_uint_eq(ds->user_attrs.n_rows, ds->n_users);
    REQUIRE((ds->user_attrs.ptr[ds->n_users]) == (3 * (int64_t)ds->n_users));
    REQUIRE(upf_attrs_find(&ds->user_attrs, "region=north") >= 0);
    REQUIRE(upf_attrs_find(&ds->user_attrs, "age_band=65+") >= 0);
    REQUIRE(upf_attrs_find(&ds->user_attrs, "channel=email") >= 0);
    REQUIRE(upf_attrs_find(&ds->item_attrs, "category=coffee") >= 0);
    REQUIRE(upf_attrs_find(&ds->item_attrs, "price_band=4") >= 0);
    REQUIRE(upf_attrs_find(&ds->item_attrs, "token=organic") >= 0);
    for (size_t u = 0; u < ds->n_users; u++)
        for (int64_t j = ds->user_attrs.ptr[u] + 1; j < ds->user_attrs.ptr[u + 1]; j++)
            REQUIRE(ds->user_attrs.index[j] > ds->user_attrs.index[j - 1]);
    for (size_t i = 0; i < ds->n_items; i++) {
        int has_cat = 0, has_brand = 0, has_band = 0;
        for (int64_t j = ds->item_attrs.ptr[i]; j < ds->item_attrs.ptr[i + 1]; j++) {
            if (j > ds->item_attrs.ptr[i]) REQUIRE(ds->item_attrs.index[j] > ds->item_attrs.index[j - 1]);
            const char *name = upf_strings_get(&ds->item_attrs.names, (size_t)ds->item_attrs.index[j]);
            has_cat += strncmp(name, "category=", 9) == 0;
            has_brand += strncmp(name, "brand=", 6) == 0;
            has_band += strncmp(name, "price_band=", 11) == 0;
        }
        REQUIRE(has_cat == 1 && has_brand == 1 && has_band == 1);
        REQUIRE(truth->item_band[i] < UPF_SYNTH_BANDS);
    }
    /* brands nest in categories; items' price bands are quintiles within the category */
    for (size_t i = 0; i < truth->n_items; i++)
        REQUIRE((truth->brand_category[truth->item_brand[i]]) == (truth->item_category[i]));
    ck_assert_uint_eq(truth->n_categories, 40);
    ck_assert_uint_eq(truth->n_brands, 50); /* auto: 800 / 16 */
    /* signups for everyone, birthdays for about birthday_share, at 00:00 UTC */
    size_t born = 0;
    for (size_t u = 0; u < ds->n_users; u++) {
        REQUIRE((ds->user_signup[u]) != (UPF_TIME_MISSING));
        if (ds->user_birthday[u] == UPF_TIME_MISSING) continue;
        born++;
        REQUIRE((ds->user_birthday[u] % SYN_DAY) == (0));
    }
    double share = (double)born / (double)ds->n_users, se = sqrt(0.7 * 0.3 / (double)ds->n_users);
    ck_assert_msg(fabs(share - 0.7) < 4 * se, "birthday share %g", share);
    ck_assert_str_eq(ds->created, "2024-12-31T00:00:00Z");
}
END_TEST

START_TEST(test_queries_match_item_tokens)
{
    const upf_dataset *ds = shop;
    for (size_t q = 0; q < ds->queries.n; q++) {
        char buf[256], name[300];
        snprintf(buf, sizeof buf, "%s", upf_strings_get(&ds->queries, q));
        for (char *w = strtok(buf, " "); w; w = strtok(NULL, " ")) {
            snprintf(name, sizeof name, "token=%s", w);
            ck_assert_msg(upf_attrs_find(&ds->item_attrs, name) >= 0, "query '%s': no item has token %s",
                          upf_strings_get(&ds->queries, q), w);
        }
    }
    /* a search is followed, in the same session, by a view of an item carrying its tokens */
    size_t checked = 0, matched = 0;
    for (int64_t e = 0; e + 1 < ds->n_events && checked < 2000; e++) {
        if (ds->ev_type[e] != UPF_EV_SEARCH) continue;
        checked++;
        int found = 0;
        for (int64_t f = e + 1; f < ds->n_events && ds->ev_user[f] == ds->ev_user[e] && !found &&
                                ds->ev_time[f] - ds->ev_time[e] < 3600;
             f++) {
            if (ds->ev_type[f] != UPF_EV_VIEW) continue;
            char buf[256], name[300];
            snprintf(buf, sizeof buf, "%s", upf_strings_get(&ds->queries, (size_t)ds->ev_query[e]));
            int all = 1;
            for (char *w = strtok(buf, " "); w && all; w = strtok(NULL, " ")) {
                snprintf(name, sizeof name, "token=%s", w);
                int32_t k = upf_attrs_find(&ds->item_attrs, name), has = 0;
                for (int64_t j = ds->item_attrs.ptr[ds->ev_item[f]]; j < ds->item_attrs.ptr[ds->ev_item[f] + 1]; j++)
                    has |= ds->item_attrs.index[j] == k;
                all &= has;
            }
            found = all;
        }
        matched += found;
    }
    ck_assert_uint_gt(checked, 500);
    ck_assert_uint_eq(matched, checked);
}
END_TEST

/* ---- determinism ---- */

static void assert_same_dataset(const upf_dataset *a, const upf_dataset *b)
{
    ck_assert_int_eq(a->n_events, b->n_events);
    size_t n = (size_t)a->n_events;
    ck_assert(memcmp(a->ev_user, b->ev_user, n * sizeof *a->ev_user) == 0);
    ck_assert(memcmp(a->ev_item, b->ev_item, n * sizeof *a->ev_item) == 0);
    ck_assert(memcmp(a->ev_time, b->ev_time, n * sizeof *a->ev_time) == 0);
    ck_assert(memcmp(a->ev_type, b->ev_type, n) == 0);
    ck_assert(memcmp(a->ev_value, b->ev_value, n * sizeof *a->ev_value) == 0);
    ck_assert(memcmp(a->ev_query, b->ev_query, n * sizeof *a->ev_query) == 0);
    ck_assert_uint_eq(a->queries.n, b->queries.n);
    ck_assert(memcmp(a->queries.data, b->queries.data, (size_t)a->queries.off[a->queries.n]) == 0);
    ck_assert_uint_eq(a->item_events.n, b->item_events.n);
    ck_assert(memcmp(a->item_events.time, b->item_events.time, a->item_events.n * sizeof(int64_t)) == 0);
    ck_assert(memcmp(a->item_events.value, b->item_events.value, a->item_events.n * sizeof(float)) == 0);
    ck_assert(memcmp(a->user_birthday, b->user_birthday, a->n_users * sizeof(int64_t)) == 0);
    ck_assert_uint_eq(a->impressions.n, b->impressions.n);
    ck_assert(memcmp(a->impressions.reward, b->impressions.reward, a->impressions.n * sizeof(float)) == 0);
    ck_assert_uint_eq(a->n_campaigns, b->n_campaigns);
    if (a->n_campaigns)
        ck_assert(memcmp(a->campaigns[0].outcome[1], b->campaigns[0].outcome[1], a->campaigns[0].n * sizeof(float)) == 0);
    ck_assert_str_eq(a->created, b->created);
    ck_assert_str_eq(a->source, b->source);
}

START_TEST(test_determinism)
{
    upf_synth_params p = small_params();
    p.n_users = 800;
    p.n_items = 300;
    p.n_impressions = 500;
    upf_dataset *a = NULL, *b = NULL, *c = NULL;
    upf_synth_truth *ta = NULL, *tb = NULL;
    upf_err err;
    ck_assert_int_eq(upf_synth_generate(&p, &a, &ta, &err), UPF_OK);
    ck_assert_int_eq(upf_synth_generate(&p, &b, &tb, &err), UPF_OK);
    assert_same_dataset(a, b);
    ck_assert(memcmp(ta->user_taste, tb->user_taste, ta->n_users * ta->dim * sizeof(float)) == 0);
    ck_assert(memcmp(ta->user_death, tb->user_death, ta->n_users * sizeof(int64_t)) == 0);
    ck_assert(memcmp(ta->user_conv_prob, tb->user_conv_prob, ta->n_users * ta->n_arms * sizeof(float)) == 0);
    /* any number of threads gives the same shop (several blocks of users) */
    upf_synth_params q = p;
    q.n_users = 2600;
    upf_dataset *m1 = NULL, *m3 = NULL;
    upf_synth_truth *tm1 = NULL, *tm3 = NULL;
    ck_assert_int_eq(upf_synth_generate_mt(&q, 1, &m1, &tm1, &err), UPF_OK);
    ck_assert_int_eq(upf_synth_generate_mt(&q, 3, &m3, &tm3, &err), UPF_OK);
    assert_same_dataset(m1, m3);
    ck_assert(memcmp(tm1->user_death, tm3->user_death, q.n_users * sizeof(int64_t)) == 0);
    ck_assert(memcmp(tm1->user_occasions, tm3->user_occasions, q.n_users * sizeof(int32_t)) == 0);
    ck_assert(memcmp(tm1->user_revenue_mean, tm3->user_revenue_mean, q.n_users * tm1->n_arms * sizeof(float)) == 0);
    upf_dataset_free(m1);
    upf_dataset_free(m3);
    upf_synth_truth_free(tm1);
    upf_synth_truth_free(tm3);
    /* another seed gives another shop */
    p.seed++;
    ck_assert_int_eq(upf_synth_generate(&p, &c, NULL, &err), UPF_OK);
    ck_assert(c->n_events != a->n_events ||
              memcmp(c->ev_item, a->ev_item, (size_t)a->n_events * sizeof *a->ev_item) != 0);
    /* the truth file is byte-identical when written twice */
    char *dir = upf_test_tmpdir(), p1[4200], p2[4200];
    snprintf(p1, sizeof p1, "%s/a.truth.h5", dir);
    snprintf(p2, sizeof p2, "%s/b.truth.h5", dir);
    ck_assert_int_eq(upf_synth_truth_write(ta, p1, &err), UPF_OK);
    ck_assert_int_eq(upf_synth_truth_write(tb, p2, &err), UPF_OK);
    FILE *f1 = fopen(p1, "rb"), *f2 = fopen(p2, "rb");
    ck_assert(f1 && f2);
    int x, y;
    long n = 0;
    do {
        x = fgetc(f1);
        y = fgetc(f2);
        ck_assert_msg(x == y, "truth files differ at byte %ld", n);
        n++;
    } while (x != EOF);
    fclose(f1);
    fclose(f2);
    ck_assert_int_gt(n, 1000);
    upf_test_rmdir(dir);
    upf_dataset_free(a);
    upf_dataset_free(b);
    upf_dataset_free(c);
    upf_synth_truth_free(ta);
    upf_synth_truth_free(tb);
}
END_TEST

/* ---- item state: listing, stock, prices ---- */

START_TEST(test_cold_items_and_listing)
{
    const upf_dataset *ds = shop;
    const upf_synth_truth *t = truth;
    int64_t cold_from = t->t_end - (int64_t)t->params.cold_days * SYN_DAY;
    size_t n_cold = 0, cold_with_events = 0, removed = 0;
    size_t *after = calloc(ds->n_items, sizeof *after);
    ck_assert_ptr_nonnull(after);
    for (int64_t e = 0; e < ds->n_events; e++) {
        int32_t i = ds->ev_item[e];
        if (i < 0) continue;
        ck_assert_msg(ds->ev_time[e] >= t->item_added[i], "item %d has an event before its listing", i);
        ck_assert_msg(t->item_removed[i] == UPF_TIME_MISSING || ds->ev_time[e] < t->item_removed[i],
                      "item %d has an event after its delisting", i);
        after[i]++;
    }
    for (size_t i = 0; i < ds->n_items; i++) {
        REQUIRE((ds->item_added[i]) == (t->item_added[i]));
        removed += t->item_removed[i] != UPF_TIME_MISSING;
        if (t->item_added[i] >= cold_from) {
            n_cold++;
            cold_with_events += after[i] > 0;
        }
    }
    free(after);
    /* about cold_item_share of the items, and the head of them does get events after listing */
    double se = sqrt(0.05 * 0.95 / (double)ds->n_items);
    ck_assert_msg(fabs((double)n_cold / (double)ds->n_items - 0.05) < 4 * se + 0.01, "cold items %zu", n_cold);
    ck_assert_uint_gt(cold_with_events, n_cold / 4);
    ck_assert_uint_gt(removed, 0);
}
END_TEST

START_TEST(test_item_events_and_purchases)
{
    const upf_dataset *ds = shop;
    const upf_synth_truth *t = truth;
    const upf_item_events *ie = &ds->item_events;
    size_t listed = 0, drops = 0, stockouts = 0, restocks = 0, delisted = 0;
    for (size_t e = 0; e < ie->n; e++) {
        if (e) REQUIRE(ie->item[e] > ie->item[e - 1] || (ie->item[e] == ie->item[e - 1] && ie->time[e] >= ie->time[e - 1]));
        int first = e == 0 || ie->item[e] != ie->item[e - 1];
        if (first) REQUIRE((ie->kind[e]) == (UPF_IE_LISTED));
        if (first) REQUIRE((ie->time[e]) == (t->item_added[ie->item[e]]));
        listed += ie->kind[e] == UPF_IE_LISTED;
        delisted += ie->kind[e] == UPF_IE_DELISTED;
        if (ie->kind[e] == UPF_IE_STOCK && !first && ie->value[e] == 0.0f) stockouts++;
        if (ie->kind[e] == UPF_IE_STOCK && ie->value[e] > 0.0f && ie->time[e] > t->item_added[ie->item[e]]) restocks++;
        if (ie->kind[e] == UPF_IE_PRICE) {
            /* a drop: lower than the item's previous price */
            for (size_t f = e; f-- > 0 && ie->item[f] == ie->item[e];)
                if (ie->kind[f] == UPF_IE_PRICE) {
                    drops += ie->value[e] < ie->value[f];
                    break;
                }
        }
    }
    ck_assert_uint_eq(listed, ds->n_items);
    ck_assert_uint_gt(delisted, 0);
    ck_assert_uint_gt(drops, ds->n_items);      /* about 4 sales a year per item */
    ck_assert_uint_gt(stockouts, ds->n_items);  /* about 2 a year */
    ck_assert_uint_ge(stockouts, restocks);
    ck_assert_uint_gt(restocks, stockouts / 2);
    /* every purchase: in stock, at qty x the price of the moment (campaign orders aside) */
    size_t checked = 0;
    for (int64_t e = 0; e < ds->n_events; e++) {
        if (ds->ev_type[e] != UPF_EV_PURCHASE) continue;
        float price = NAN;
        double stock = stock_at(ds, ds->ev_item[e], ds->ev_time[e], &price);
        ck_assert_msg(stock > 0.0, "purchase %lld while out of stock", (long long)e);
        if (in_window(t, (size_t)ds->ev_user[e], ds->ev_time[e])) continue;
        double qty = (double)ds->ev_value[e] / (double)price;
        ck_assert_msg(fabs(qty - round(qty)) < 1e-3 && qty >= 0.999, "purchase %lld: value %g at price %g", (long long)e,
                      (double)ds->ev_value[e], (double)price);
        checked++;
    }
    ck_assert_uint_gt(checked, 10000);
    /* the end-of-range item fields agree with the histories */
    for (size_t i = 0; i < ds->n_items; i++) {
        float price = NAN;
        double stock = stock_at(ds, (int32_t)i, t->t_end, &price);
        REQUIRE(ds->item_price[i] == price);
        if (t->item_removed[i] == UPF_TIME_MISSING) REQUIRE((ds->item_in_stock[i]) == (stock > 0.0));
        else REQUIRE((ds->item_in_stock[i]) == (0));
    }
}
END_TEST

/* ---- preferences ---- */

static double pearson(const double *x, const double *y, size_t n)
{
    double mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0;
    for (size_t k = 0; k < n; k++) mx += x[k], my += y[k];
    mx /= (double)n, my /= (double)n;
    for (size_t k = 0; k < n; k++) {
        sxx += (x[k] - mx) * (x[k] - mx);
        syy += (y[k] - my) * (y[k] - my);
        sxy += (x[k] - mx) * (y[k] - my);
    }
    return sxy / sqrt(sxx * syy);
}

/* Correlation over (user, category) of the user's purchase share minus the
 * category's mean share with the true P(category | user) minus its mean;
 * `shift` pairs each user with another user's truth (a null model). */
static double share_correlation(size_t shift)
{
    const upf_dataset *ds = shop;
    const upf_synth_truth *t = truth;
    size_t nc = t->n_categories, nu = ds->n_users;
    double *share = calloc(nu * nc, sizeof *share), *prob = calloc(nu * nc, sizeof *prob);
    double *mean_s = calloc(nc, sizeof *mean_s), *mean_p = calloc(nc, sizeof *mean_p);
    double *x = calloc(nu * nc, sizeof *x), *y = calloc(nu * nc, sizeof *y);
    ck_assert(share && prob && mean_s && mean_p && x && y);
    size_t users = 0, n = 0;
    upf_err err;
    for (size_t u = 0; u < nu; u++) {
        double total = 0;
        for (int64_t e = ds->user_ptr[u]; e < ds->user_ptr[u + 1]; e++)
            if (ds->ev_type[e] == UPF_EV_PURCHASE) {
                share[users * nc + (size_t)t->item_category[ds->ev_item[e]]] += 1.0;
                total += 1.0;
            }
        if (total < 8) {
            memset(share + users * nc, 0, nc * sizeof *share);
            continue;
        }
        for (size_t c = 0; c < nc; c++) share[users * nc + c] /= total;
        ck_assert_int_eq(upf_synth_category_probs(t, (u + shift) % nu, prob + users * nc, &err), UPF_OK);
        users++;
    }
    ck_assert_uint_gt(users, 500);
    for (size_t k = 0; k < users; k++)
        for (size_t c = 0; c < nc; c++) {
            mean_s[c] += share[k * nc + c] / (double)users;
            mean_p[c] += prob[k * nc + c] / (double)users;
        }
    for (size_t k = 0; k < users; k++)
        for (size_t c = 0; c < nc; c++, n++) {
            x[n] = share[k * nc + c] - mean_s[c];
            y[n] = prob[k * nc + c] - mean_p[c];
        }
    double r = pearson(x, y, n);
    free(share), free(prob), free(mean_s), free(mean_p), free(x), free(y);
    return r;
}

START_TEST(test_preferences_recoverable)
{
    double r = share_correlation(0), r_null = share_correlation(1);
    ck_assert_msg(r > 0.5, "purchase shares vs true category probabilities: r = %g", r);
    ck_assert_msg(fabs(r_null) < 0.1, "another user's truth should not predict: r = %g", r_null);
    /* the oracle's probabilities are a distribution over listed items */
    upf_err err;
    double *pr = malloc(truth->n_items * sizeof *pr), s = 0;
    ck_assert_ptr_nonnull(pr);
    int64_t mid = (truth->t_start + truth->t_end) / 2;
    ck_assert_int_eq(upf_synth_choice_probs(truth, 7, mid, pr, &err), UPF_OK);
    for (size_t i = 0; i < truth->n_items; i++) {
        s += pr[i];
        if (truth->item_added[i] > mid) ck_assert(pr[i] == 0.0);
    }
    ck_assert_double_eq_tol(s, 1.0, 1e-9);
    ck_assert_int_eq(upf_synth_choice_probs(truth, truth->n_users, mid, pr, &err), UPF_ERR_ARG);
    free(pr);
    /* user covariates shift tastes: users of a region agree more with the region's taste */
    double same = 0, other = 0;
    size_t K = truth->dim;
    for (size_t u = 0; u < truth->n_users; u++) {
        size_t r0 = truth->user_region[u], r1 = (r0 + 1) % UPF_SYNTH_N_REGIONS;
        for (size_t d = 0; d < K; d++) {
            same += (double)truth->user_taste[u * K + d] * (double)truth->region_taste[r0 * K + d];
            other += (double)truth->user_taste[u * K + d] * (double)truth->region_taste[r1 * K + d];
        }
    }
    ck_assert_msg(same > other + 0.1 * (double)truth->n_users, "region tastes: %g vs %g", same, other);
}
END_TEST

/* ---- lifetime: intervals and dropout ---- */

START_TEST(test_intervals_match_weibull)
{
    const upf_dataset *ds = shop;
    const upf_synth_truth *t = truth;
    double k = t->params.interval_shape;
    double sum = 0, sum2 = 0, above = 0, n = 0;
    /* per user, the first gap starting in the first 120 days: the end of the
     * range cannot cut it (P(T > 245 days) is nil), and no user weighs more */
    double band_sum[UPF_SYNTH_N_AGE_BANDS] = { 0 }, band_sum2[UPF_SYNTH_N_AGE_BANDS] = { 0 };
    double band_n[UPF_SYNTH_N_AGE_BANDS] = { 0 };
    for (size_t u = 0; u < ds->n_users; u++) {
        double scale = (double)t->user_scale_days[u] * SYN_DAY;
        int64_t prev = INT64_MIN;
        int first = 1;
        for (int64_t e = ds->user_ptr[u]; e < ds->user_ptr[u + 1]; e++) {
            if (ds->ev_type[e] != UPF_EV_PURCHASE) continue;
            if (prev != INT64_MIN) {
                double g = (double)(ds->ev_time[e] - prev);
                /* a gap that starts early enough cannot be cut by the end of the range */
                if ((double)prev <= (double)t->t_end - 6.0 * scale) {
                    double x = pow(g / scale, k);
                    sum += x, sum2 += x * x, above += x > 1.0, n += 1.0;
                }
                if (first && prev < t->t_start + 120 * SYN_DAY) {
                    int b = t->user_age_band[u];
                    double lg = log(g / SYN_DAY);
                    band_sum[b] += lg, band_sum2[b] += lg * lg, band_n[b] += 1.0;
                    first = 0;
                }
            }
            prev = ds->ev_time[e];
        }
    }
    ck_assert_double_gt(n, 5000);
    /* (gap / scale_u)^k ~ Exp(1): mean 1, P(> 1) = 1/e */
    double mean = sum / n, se = sqrt((sum2 / n - mean * mean) / n);
    ck_assert_msg(fabs(mean - 1.0) < 4 * se + 0.01, "E[(g/scale)^k] = %g (se %g) over %g gaps", mean, se, n);
    double frac = above / n, se2 = sqrt(exp(-1.0) * (1 - exp(-1.0)) / n);
    ck_assert_msg(fabs(frac - exp(-1.0)) < 4 * se2 + 0.01, "P(x > 1) = %g", frac);
    /* the AFT coefficients show in the raw gaps: age band 18-24 vs 55-64 */
    double m0 = band_sum[0] / band_n[0], m4 = band_sum[4] / band_n[4];
    double v0 = band_sum2[0] / band_n[0] - m0 * m0, v4 = band_sum2[4] / band_n[4] - m4 * m4;
    double d_emp = m0 - m4, d_true = t->aft_age[0] - t->aft_age[4];
    double se3 = sqrt(v0 / band_n[0] + v4 / band_n[4]);
    ck_assert_double_gt(band_n[0], 300);
    ck_assert_msg(fabs(d_emp - d_true) < 4 * se3, "log-gap difference %g vs planted %g (se %g)", d_emp, d_true, se3);
    ck_assert_msg(d_emp > 4 * se3, "the age effect on intervals does not show: %g (se %g)", d_emp, se3);
}
END_TEST

/* A pure BG/NBD shop: Poisson purchases, rates from Gamma(r, alpha). */
static void bgnbd_setup(void)
{
    upf_synth_params p = small_params();
    p.n_users = 8000;
    p.rebuy_prob = 0.0;
    p.campaign_arms = 0;
    p.n_impressions = 0;
    p.browse_ratio = 0.0;
    p.bgnbd_r = 2.0;
    p.bgnbd_alpha = 60.0; /* mean rate 1/30 per day */
    build_shop(&p);
}

START_TEST(test_bgnbd_rates)
{
    const upf_dataset *ds = shop;
    const upf_synth_truth *t = truth;
    ck_assert(t->params.interval_shape == 1.0);
    double r = t->params.bgnbd_r, alpha = t->params.bgnbd_alpha, sum = 0, sum2 = 0, n = 0;
    for (size_t u = 0; u < t->n_users; u++) sum += 1.0 / (double)t->user_scale_days[u];
    double mean_rate = sum / (double)t->n_users, se_rate = sqrt(r) / alpha / sqrt((double)t->n_users);
    ck_assert_msg(fabs(mean_rate - r / alpha) < 4 * se_rate, "mean rate %g vs r/alpha %g", mean_rate, r / alpha);
    sum = 0;
    for (size_t u = 0; u < ds->n_users; u++) { /* gaps / scale_u ~ Exp(1) */
        double scale = (double)t->user_scale_days[u] * SYN_DAY;
        int64_t prev = INT64_MIN;
        for (int64_t e = ds->user_ptr[u]; e < ds->user_ptr[u + 1]; e++) {
            if (ds->ev_type[e] != UPF_EV_PURCHASE) continue;
            if (prev != INT64_MIN && (double)prev <= (double)t->t_end - 12.0 * scale) {
                double x = (double)(ds->ev_time[e] - prev) / scale;
                sum += x, sum2 += x * x, n += 1;
            }
            prev = ds->ev_time[e];
        }
    }
    ck_assert_double_gt(n, 3000);
    double mean = sum / n, se = sqrt((sum2 / n - mean * mean) / n);
    ck_assert_msg(fabs(mean - 1.0) < 4 * se + 0.01, "E[gap / scale] = %g (se %g)", mean, se);
}
END_TEST

START_TEST(test_dropout)
{
    const upf_dataset *ds = shop;
    const upf_synth_truth *t = truth;
    double deaths = 0, expected = 0, var = 0;
    size_t dead = 0;
    for (size_t u = 0; u < ds->n_users; u++) {
        int32_t purchases = 0;
        int64_t last = INT64_MIN, last_any = INT64_MIN;
        for (int64_t e = ds->user_ptr[u]; e < ds->user_ptr[u + 1]; e++) {
            last_any = ds->ev_time[e];
            if (ds->ev_type[e] == UPF_EV_PURCHASE) purchases++, last = ds->ev_time[e];
        }
        /* one purchase event per occasion: the truth's count is the data's */
        REQUIRE((purchases) == (t->user_occasions[u]));
        int64_t death = t->user_death[u];
        if (death == UPF_TIME_MISSING) continue;
        dead++;
        if (death < t->t_start) {
            REQUIRE((purchases) == (0));
            continue;
        }
        /* inactive right after a purchase: that purchase is the last event */
        REQUIRE((last) == (death));
        REQUIRE((last_any) == (death));
        deaths += 1.0;
    }
    /* every occasion in the range is a Bernoulli(p_u) trial for dropout */
    for (size_t u = 0; u < ds->n_users; u++) {
        double p = (double)t->user_dropout[u], m = t->user_occasions[u];
        expected += p * m;
        var += p * (1 - p) * m;
    }
    ck_assert_msg(fabs(deaths - expected) < 4 * sqrt(var), "dropouts %g vs expected %g (sd %g)", deaths, expected,
                  sqrt(var));
    ck_assert_uint_gt(dead, ds->n_users / 5);
    ck_assert_double_gt(deaths, 500);
}
END_TEST

/* ---- campaign ---- */

START_TEST(test_campaign_uplift_by_segment)
{
    const upf_dataset *ds = shop;
    const upf_synth_truth *t = truth;
    ck_assert_uint_eq(ds->n_campaigns, 1);
    const upf_campaign *c = &ds->campaigns[0];
    ck_assert_str_eq(c->name, "synth");
    ck_assert_uint_eq(c->arm_names.n, 3);
    ck_assert_str_eq(upf_strings_get(&c->arm_names, 0), "control");
    ck_assert_str_eq(upf_strings_get(&c->arm_names, 2), "coupon");
    ck_assert_uint_eq(c->n_outcomes, 2);
    ck_assert_str_eq(c->outcome_names[0], "conversion");
    ck_assert_str_eq(c->outcome_names[1], "revenue");
    size_t na = t->n_arms, rows = 0;
    for (size_t u = 0; u < ds->n_users; u++) rows += t->user_arm[u] >= 0;
    ck_assert_uint_eq(c->n, rows);
    /* outcomes agree with the events: conversion = a purchase in the window */
    for (size_t r = 0; r < c->n; r++) {
        size_t u = (size_t)c->user[r];
        REQUIRE((c->arm[r]) == (t->user_arm[u]));
        ck_assert_double_eq_tol(c->propensity[r], 1.0 / 3.0, 1e-6);
        REQUIRE((c->time[r]) == (t->campaign_time));
        int bought = 0;
        float value = 0;
        for (int64_t e = ds->user_ptr[u]; e < ds->user_ptr[u + 1]; e++)
            if (ds->ev_type[e] == UPF_EV_PURCHASE && in_window(t, u, ds->ev_time[e])) bought++, value = ds->ev_value[e];
        REQUIRE((bought) == ((int)c->outcome[0][r]));
        REQUIRE(c->outcome[1][r] == value);
        if (!t->user_alive_at_send[u]) REQUIRE(t->user_conv_prob[u * na + 1] == 0.0f);
    }
    /* empirical uplift by planted segment vs the truth's mean CATE */
    for (size_t a = 1; a < na; a++)
        for (int s = -1; s <= 1; s++) {
            double y[2] = { 0 }, m[2] = { 0 }, cate = 0;
            size_t n_seg = 0;
            for (size_t r = 0; r < c->n; r++) {
                size_t u = (size_t)c->user[r];
                if (t->user_segment[u * na + a] != s) continue;
                cate += (double)t->user_conv_prob[u * na + a] - (double)t->user_conv_prob[u * na];
                n_seg++;
                int g = c->arm[r] == 0 ? 0 : c->arm[r] == (int)a ? 1 : -1;
                if (g < 0) continue;
                y[g] += (double)c->outcome[0][r];
                m[g] += 1;
            }
            cate /= (double)n_seg;
            double p1 = y[1] / m[1], p0 = y[0] / m[0], emp = p1 - p0;
            double se = sqrt(p1 * (1 - p1) / m[1] + p0 * (1 - p0) / m[0]);
            ck_assert_msg(fabs(emp - cate) < 4 * se, "arm %zu segment %+d: uplift %g vs true %g (se %g)", a, s, emp, cate, se);
            if (s != 0) ck_assert_msg(s * emp > 3 * se, "arm %zu segment %+d: uplift %g not significant", a, s, emp);
            if (s == 0) REQUIRE(cate == 0.0);
        }
}
END_TEST

/* ---- impressions ---- */

/* Brute force over ordered slates: the reference for syn_pl_marginals. */
static void pl_reference(const double *v, size_t n, size_t P, double *out)
{
    double V = 0;
    for (size_t j = 0; j < n; j++) V += v[j];
    memset(out, 0, n * P * sizeof *out);
    for (size_t a = 0; a < n; a++) {
        double pa = v[a] / V;
        out[a * P] += pa;
        if (P < 2) continue;
        for (size_t b = 0; b < n; b++) {
            if (b == a) continue;
            double pb = pa * v[b] / (V - v[a]);
            out[b * P + 1] += pb;
            if (P < 3) continue;
            for (size_t c = 0; c < n; c++) {
                if (c == a || c == b) continue;
                out[c * P + 2] += pb * v[c] / (V - v[a] - v[b]);
            }
        }
    }
}

START_TEST(test_pl_marginals)
{
    double v[7] = { 5, 1, 0.25, 3, 3, 0.5, 2 }, fast[21], ref[21];
    for (size_t P = 1; P <= 3; P++) {
        syn_pl_marginals(v, 7, P, fast);
        pl_reference(v, 7, P, ref);
        upf_ck_arrays_close(fast, ref, 7 * P, 1e-15, 1e-12);
        for (size_t k = 0; k < P; k++) {
            double s = 0;
            for (size_t j = 0; j < 7; j++) s += fast[j * P + k];
            ck_assert_double_eq_tol(s, 1.0, 1e-12);
        }
    }
    /* hand-computed: weights 2, 1, 1 -> P(first at 0) = 1/2, at 1 = 2 * 1/4 * 2/3 = 1/3 */
    double w[3] = { 2, 1, 1 }, o[9];
    syn_pl_marginals(w, 3, 3, o);
    ck_assert_double_eq_tol(o[0], 0.5, 1e-15);
    ck_assert_double_eq_tol(o[1], 1.0 / 3.0, 1e-15);
    ck_assert_double_eq_tol(o[2], 1.0 / 6.0, 1e-15);
}
END_TEST

START_TEST(test_impressions)
{
    const upf_dataset *ds = shop;
    const upf_synth_truth *t = truth;
    const upf_impressions *im = &ds->impressions;
    size_t P = t->n_positions, M = t->n_candidates, nx = t->n_contexts;
    ck_assert_uint_eq(im->n, nx * P);
    ck_assert_ptr_nonnull(im->policy);
    /* the policy's marginals: each position's propensities sum to 1 */
    for (size_t k = 0; k < P; k++) {
        double s = 0;
        for (size_t j = 0; j < M; j++) s += t->logging_prop[j * P + k];
        ck_assert_double_eq_tol(s, 1.0, 1e-9);
    }
    double *count = calloc(M * P, sizeof *count), clicks[3] = { 0 }, expect[3] = { 0 }, var[3] = { 0 };
    ck_assert_ptr_nonnull(count);
    /* IPS estimate of the oracle slate's clicks, position by position */
    double ips = 0, ips2 = 0, best_value = 0;
    for (size_t q = 0; q < nx; q++) {
        int32_t best[3] = { -1, -1, -1 };
        const float *rho = t->context_relevance + q * M;
        for (size_t k = 0; k < P; k++) { /* the k-th most relevant candidate */
            int32_t arg = -1;
            for (size_t j = 0; j < M; j++) {
                int used = 0;
                for (size_t l = 0; l < k; l++) used |= best[l] == (int32_t)j;
                if (!used && (arg < 0 || rho[j] > rho[arg])) arg = (int32_t)j;
            }
            best[k] = arg;
        }
        double x = 0;
        for (size_t k = 0; k < P; k++) {
            size_t r = q * P + k;
            REQUIRE((im->position[r]) == ((int16_t)k));
            REQUIRE((im->user[r]) == (t->context_user[q]));
            REQUIRE((im->time[r]) == (t->context_time[q]));
            size_t j = 0;
            while (j < M && t->candidates[j] != im->item[r]) j++;
            REQUIRE((j) < (M));
            for (size_t l = 0; l < k; l++) REQUIRE((im->item[q * P + l]) != (im->item[r]));
            ck_assert_double_eq_tol(im->propensity[r], t->logging_prop[j * P + k], 1e-7);
            count[j * P + k] += 1;
            double pc = upf_synth_click_prob(t, q, j, k);
            clicks[k] += (double)im->reward[r];
            expect[k] += pc;
            var[k] += pc * (1 - pc);
            if ((int32_t)j == best[k]) x += (double)im->reward[r] / t->logging_prop[j * P + k];
        }
        ips += x, ips2 += x * x;
        if (q > 0) REQUIRE((t->context_time[q]) >= (t->context_time[q - 1]));
        int32_t slate[3];
        for (size_t k = 0; k < P; k++) slate[k] = t->candidates[best[k]];
        best_value += upf_synth_slate_value(t, q, slate);
        if (q == 0) { /* an item that is not a candidate, or twice the same item: no value */
            int32_t odd[3] = { slate[0], slate[0], slate[0] };
            if (P > 1) REQUIRE(upf_synth_slate_value(t, q, odd) < 0);
            odd[0] = -5;
            REQUIRE(upf_synth_slate_value(t, q, odd) < 0);
        }
    }
    ck_assert_double_eq_tol(best_value / (double)nx, t->oracle_value, 1e-9);
    /* items land in positions as often as the propensities say */
    for (size_t j = 0; j < M; j++)
        for (size_t k = 0; k < P; k++) {
            double pj = t->logging_prop[j * P + k], se = sqrt(pj * (1 - pj) / (double)nx);
            ck_assert_msg(fabs(count[j * P + k] / (double)nx - pj) < 4.5 * se + 1e-9, "candidate %zu at %zu: %g vs %g", j, k,
                          count[j * P + k] / (double)nx, pj);
        }
    /* clicks follow the position-based model */
    for (size_t k = 0; k < P; k++)
        ck_assert_msg(fabs(clicks[k] - expect[k]) < 4 * sqrt(var[k]), "position %zu: %g clicks vs %g", k, clicks[k], expect[k]);
    REQUIRE(clicks[0] / expect[0] > 0.8 && clicks[0] > clicks[2]);
    /* IPS recovers the oracle policy's true value */
    double mean = ips / (double)nx, se = sqrt((ips2 / (double)nx - mean * mean) / (double)nx);
    ck_assert_msg(fabs(mean - t->oracle_value) < 4 * se, "IPS %g vs true %g (se %g)", mean, t->oracle_value, se);
    ck_assert_double_gt(t->oracle_value, 1.5 * t->logging_value);
    free(count);
}
END_TEST

/* ---- truth file ---- */

#define SAME_ARRAY(a, b, field, n)                                                     \
    do {                                                                               \
        ck_assert_msg(((a)->field == NULL) == ((b)->field == NULL), "%s", #field);     \
        if ((a)->field) ck_assert_msg(memcmp((a)->field, (b)->field, (n) * sizeof *(a)->field) == 0, "%s", #field); \
    } while (0)

START_TEST(test_truth_roundtrip)
{
    const upf_synth_truth *a = truth;
    upf_synth_truth *b = NULL;
    upf_err err;
    char *dir = upf_test_tmpdir(), path[4200], jpath[4200], bad[4200];
    snprintf(path, sizeof path, "%s/s.truth.h5", dir);
    snprintf(jpath, sizeof jpath, "%s/s.truth.json", dir);
    ck_assert_int_eq(upf_synth_truth_write(a, path, &err), UPF_OK);
    ck_assert_int_eq(upf_synth_truth_write_json(a, jpath, &err), UPF_OK);
    ck_assert_int_eq(upf_synth_truth_read(path, &b, &err), UPF_OK);
    ck_assert(memcmp(&a->params, &b->params, sizeof a->params) == 0);
    ck_assert_int_eq(a->t_start, b->t_start);
    ck_assert_int_eq(a->t_end, b->t_end);
    ck_assert_uint_eq(a->n_brands, b->n_brands);
    ck_assert_uint_eq(a->n_arms, b->n_arms);
    ck_assert_uint_eq(a->n_contexts, b->n_contexts);
    ck_assert(a->aft_intercept == b->aft_intercept && a->campaign_time == b->campaign_time &&
              a->campaign_window == b->campaign_window && a->arm_propensity == b->arm_propensity &&
              a->expected_quantity == b->expected_quantity && a->logging_value == b->logging_value &&
              a->oracle_value == b->oracle_value);
    ck_assert(memcmp(a->aft_region, b->aft_region, sizeof a->aft_region) == 0);
    ck_assert(memcmp(a->aft_age, b->aft_age, sizeof a->aft_age) == 0);
    ck_assert(memcmp(a->aft_channel, b->aft_channel, sizeof a->aft_channel) == 0);
    ck_assert(memcmp(a->arm_discount, b->arm_discount, sizeof a->arm_discount) == 0);
    size_t nc = a->n_categories, nb = a->n_brands, ni = a->n_items, nu = a->n_users, K = a->dim, na = a->n_arms;
    for (size_t k = 0; k < nc; k++) ck_assert_str_eq(a->category_names[k], b->category_names[k]);
    for (size_t k = 0; k < nb; k++) ck_assert_str_eq(a->brand_names[k], b->brand_names[k]);
    for (size_t k = 0; k < na; k++) ck_assert_str_eq(a->arm_names[k], b->arm_names[k]);
    SAME_ARRAY(a, b, category_rebuy_days, nc);
    SAME_ARRAY(a, b, category_vec, nc * K);
    SAME_ARRAY(a, b, brand_category, nb);
    SAME_ARRAY(a, b, brand_style, nb);
    SAME_ARRAY(a, b, style_vec, a->n_styles * K);
    SAME_ARRAY(a, b, item_category, ni);
    SAME_ARRAY(a, b, item_brand, ni);
    SAME_ARRAY(a, b, item_band, ni);
    SAME_ARRAY(a, b, item_popularity, ni);
    SAME_ARRAY(a, b, item_base_price, ni);
    SAME_ARRAY(a, b, item_rebuy_days, ni);
    SAME_ARRAY(a, b, item_added, ni);
    SAME_ARRAY(a, b, item_removed, ni);
    SAME_ARRAY(a, b, region_taste, UPF_SYNTH_N_REGIONS * K);
    SAME_ARRAY(a, b, age_taste, UPF_SYNTH_N_AGE_BANDS * K);
    SAME_ARRAY(a, b, user_region, nu);
    SAME_ARRAY(a, b, user_age_band, nu);
    SAME_ARRAY(a, b, user_channel, nu);
    SAME_ARRAY(a, b, user_taste, nu * K);
    SAME_ARRAY(a, b, user_price_sens, nu);
    SAME_ARRAY(a, b, user_scale_days, nu);
    SAME_ARRAY(a, b, user_dropout, nu);
    SAME_ARRAY(a, b, user_rebuy_factor, nu);
    SAME_ARRAY(a, b, user_death, nu);
    SAME_ARRAY(a, b, user_occasions, nu);
    SAME_ARRAY(a, b, user_arm, nu);
    SAME_ARRAY(a, b, user_alive_at_send, nu);
    SAME_ARRAY(a, b, user_segment, nu * na);
    SAME_ARRAY(a, b, user_conv_prob, nu * na);
    SAME_ARRAY(a, b, user_revenue_mean, nu * na);
    SAME_ARRAY(a, b, candidates, a->n_candidates);
    SAME_ARRAY(a, b, position_bias, a->n_positions);
    SAME_ARRAY(a, b, logging_prop, a->n_candidates * a->n_positions);
    SAME_ARRAY(a, b, context_user, a->n_contexts);
    SAME_ARRAY(a, b, context_time, a->n_contexts);
    SAME_ARRAY(a, b, context_relevance, a->n_contexts * a->n_candidates);
    /* the oracles give the same answers from the file */
    ck_assert(upf_synth_affinity(a, 5, 7) == upf_synth_affinity(b, 5, 7));
    upf_synth_truth_free(b);

    /* the JSON file: parameters read back, summaries present */
    upf_json *doc = NULL;
    upf_synth_params p;
    ck_assert_int_eq(upf_json_parse_file(jpath, &doc, &err), UPF_OK);
    ck_assert_int_eq(syn_params_from_json(upf_json_get(doc, "params"), &p, &err), UPF_OK);
    ck_assert(memcmp(&p, &a->params, sizeof p) == 0);
    ck_assert_ptr_nonnull(upf_json_path(doc, "users.interval.intercept"));
    ck_assert_ptr_nonnull(upf_json_path(doc, "impressions.logging_value"));
    ck_assert(upf_json_path(doc, "users.dropout.a")->num == a->params.dropout_a);
    upf_json_free(doc);

    /* refusals: not HDF5, not a truth file, missing */
    snprintf(bad, sizeof bad, "%s/not.h5", dir);
    FILE *f = fopen(bad, "wb");
    ck_assert_ptr_nonnull(f);
    fputs("hello", f);
    fclose(f);
    b = (upf_synth_truth *)&p;
    ck_assert_int_eq(upf_synth_truth_read(bad, &b, &err), UPF_ERR_FORMAT);
    ck_assert_ptr_null(b);
    ck_assert_int_ne(upf_synth_truth_read("/nonexistent/x.truth.h5", &b, &err), UPF_OK);
    ck_assert_ptr_null(b);
    /* truncated: every prefix length class refuses without crashing */
    FILE *src = fopen(path, "rb");
    ck_assert_ptr_nonnull(src);
    fseek(src, 0, SEEK_END);
    long size = ftell(src);
    rewind(src);
    char *bytes = malloc((size_t)size);
    ck_assert_ptr_nonnull(bytes);
    ck_assert_uint_eq(fread(bytes, 1, (size_t)size, src), (size_t)size);
    fclose(src);
    long cuts[] = { 8, 512, size / 3, size / 2, size - 100 };
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        f = fopen(bad, "wb");
        fwrite(bytes, 1, (size_t)cuts[k], f);
        fclose(f);
        ck_assert_int_ne(upf_synth_truth_read(bad, &b, &err), UPF_OK);
        ck_assert_ptr_null(b);
    }
    free(bytes);
    upf_test_rmdir(dir);
}
END_TEST

/* ---- allocation failures ---- */

START_TEST(test_alloc_failures)
{
    upf_synth_params p = upf_synth_params_default();
    p.n_users = 60;
    p.n_items = 80;
    p.n_categories = 6;
    p.n_impressions = 30;
    p.n_candidates = 10;
    upf_err err;
    long n;
    for (n = 1;; n++) {
        upf_dataset *ds = (upf_dataset *)&p;
        upf_synth_truth *t = (upf_synth_truth *)&p;
        upf_alloc_fail_after(n);
        upf_status st = upf_synth_generate(&p, &ds, &t, &err);
        upf_alloc_fail_after(0);
        if (st == UPF_OK) {
            upf_dataset_free(ds);
            upf_synth_truth_free(t);
            break;
        }
        ck_assert_msg(st == UPF_ERR_NOMEM, "allocation %ld: %s", n, err.msg);
        ck_assert_ptr_null(ds);
        ck_assert_ptr_null(t);
    }
    ck_assert_int_gt(n, 50);
    /* with worker threads (three blocks of users): failures surface, nothing leaks */
    p.n_users = 2500;
    for (n = 1; n < 400; n += 7) {
        upf_dataset *ds = NULL;
        upf_synth_truth *t = NULL;
        upf_alloc_fail_after(n);
        upf_status st = upf_synth_generate_mt(&p, 2, &ds, &t, &err);
        upf_alloc_fail_after(0);
        if (st == UPF_OK) {
            upf_dataset_free(ds);
            upf_synth_truth_free(t);
            break;
        }
        ck_assert_msg(st == UPF_ERR_NOMEM, "allocation %ld: %s", n, err.msg);
        ck_assert_ptr_null(ds);
        ck_assert_ptr_null(t);
    }
}
END_TEST

/* ---- small helpers and the command ---- */

START_TEST(test_dates)
{
    ck_assert_int_eq(syn_days_from_civil(1970, 1, 1), 0);
    ck_assert_int_eq(syn_days_from_civil(2024, 1, 1), 19723);
    ck_assert_int_eq(syn_days_from_civil(2024, 3, 1) - syn_days_from_civil(2024, 2, 28), 2);
    int64_t y, t;
    unsigned m, d;
    syn_civil_from_days(syn_days_from_civil(2000, 2, 29), &y, &m, &d);
    ck_assert(y == 2000 && m == 2 && d == 29);
    syn_civil_from_days(-1, &y, &m, &d);
    ck_assert(y == 1969 && m == 12 && d == 31);
    ck_assert_int_eq(syn_parse_date("2024-02-29", &t), 0);
    ck_assert_int_eq(t, 1709164800);
    ck_assert_int_ne(syn_parse_date("2023-02-29", &t), 0);
    ck_assert_int_ne(syn_parse_date("2024-13-01", &t), 0);
    ck_assert_int_ne(syn_parse_date("2024-1-01", &t), 0);
    ck_assert_int_ne(syn_parse_date("2024-01-01x", &t), 0);
    char buf[32];
    syn_format_iso(1709164800 + 3661, buf, sizeof buf);
    ck_assert_str_eq(buf, "2024-02-29T01:01:01Z");
    syn_format_iso(-1, buf, sizeof buf);
    ck_assert_str_eq(buf, "1969-12-31T23:59:59Z");
}
END_TEST

static int run(const char *args)
{
    char cmd[4600];
    snprintf(cmd, sizeof cmd, "%s data synth %s >/dev/null 2>&1", upf_test_bin(), args);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int same_file(const char *a, const char *b)
{
    FILE *f1 = fopen(a, "rb"), *f2 = fopen(b, "rb");
    int same = f1 && f2, x, y;
    while (same) {
        x = fgetc(f1);
        y = fgetc(f2);
        same = x == y;
        if (x == EOF) break;
    }
    if (f1) fclose(f1);
    if (f2) fclose(f2);
    return same;
}

START_TEST(test_dataset_file)
{
    /* through the dataset writer and reader: the same shop back, byte-identical files */
    upf_synth_params p = small_params();
    p.n_users = 1500;
    p.n_items = 400;
    p.n_impressions = 300;
    upf_dataset *ds = NULL, *back = NULL;
    upf_err err;
    char *dir = upf_test_tmpdir(), p1[4200], p2[4200];
    snprintf(p1, sizeof p1, "%s/a.h5", dir);
    snprintf(p2, sizeof p2, "%s/b.h5", dir);
    ck_assert_int_eq(upf_synth_generate(&p, &ds, NULL, &err), UPF_OK);
    ck_assert_msg(upf_dataset_write(ds, p1, &err) == UPF_OK, "%s", err.msg);
    ck_assert_msg(upf_dataset_write(ds, p2, &err) == UPF_OK, "%s", err.msg);
    ck_assert_msg(same_file(p1, p2), "two writes of the same shop differ");
    ck_assert_msg(upf_dataset_read(p1, &back, &err) == UPF_OK, "%s", err.msg);
    ck_assert_uint_eq(back->n_users, p.n_users);
    ck_assert_uint_eq(back->n_items, p.n_items);
    assert_same_dataset(ds, back);
    ck_assert(memcmp(ds->user_ptr, back->user_ptr, (ds->n_users + 1) * sizeof(int64_t)) == 0);
    ck_assert_uint_eq(back->item_attrs.names.n, ds->item_attrs.names.n);
    ck_assert(memcmp(ds->item_attrs.index, back->item_attrs.index, (size_t)ds->item_attrs.ptr[ds->n_items] * sizeof(int32_t)) == 0);
    ck_assert_uint_eq(back->n_campaigns, 1);
    ck_assert(memcmp(ds->campaigns[0].propensity, back->campaigns[0].propensity, ds->campaigns[0].n * sizeof(float)) == 0);
    ck_assert(memcmp(ds->impressions.propensity, back->impressions.propensity, ds->impressions.n * sizeof(float)) == 0);
    upf_dataset_free(ds);
    upf_dataset_free(back);
    upf_test_rmdir(dir);
}
END_TEST

START_TEST(test_command_writes)
{
    char *dir = upf_test_tmpdir(), cmd[9000], path[4200];
    const char *args = "--users 700 --items 300 --impressions 200 --seed 3 -q";
    snprintf(cmd, sizeof cmd, "%s data synth -o %s/s.h5 %s && %s data synth -o %s/t.h5 %s --threads 3", upf_test_bin(), dir,
             args, upf_test_bin(), dir, args);
    ck_assert_int_eq(system(cmd), 0);
    const char *ext[3] = { ".h5", ".truth.h5", ".truth.json" };
    for (int k = 0; k < 3; k++) {
        char a[4300], b[4300];
        snprintf(a, sizeof a, "%s/s%s", dir, ext[k]);
        snprintf(b, sizeof b, "%s/t%s", dir, ext[k]);
        ck_assert_msg(same_file(a, b), "%s differs between runs (1 and 3 threads)", ext[k]);
    }
    /* every requested user exists, with or without events */
    upf_dataset *ds = NULL;
    upf_synth_truth *t = NULL;
    upf_err err;
    snprintf(path, sizeof path, "%s/s.h5", dir);
    ck_assert_msg(upf_dataset_read(path, &ds, &err) == UPF_OK, "%s", err.msg);
    ck_assert_uint_eq(ds->n_users, 700);
    snprintf(path, sizeof path, "%s/s.truth.h5", dir);
    ck_assert_msg(upf_synth_truth_read(path, &t, &err) == UPF_OK, "%s", err.msg);
    ck_assert_uint_eq(t->params.seed, 3);
    for (size_t u = 0; u < ds->n_users; u++) { /* the truth's occasions are the file's purchases */
        int32_t purchases = 0;
        for (int64_t e = ds->user_ptr[u]; e < ds->user_ptr[u + 1]; e++) purchases += ds->ev_type[e] == UPF_EV_PURCHASE;
        REQUIRE(purchases == t->user_occasions[u]);
    }
    upf_dataset_free(ds);
    upf_synth_truth_free(t);
    upf_test_rmdir(dir);
}
END_TEST

START_TEST(test_command_usage)
{
    ck_assert_int_eq(run("--help"), 0);
    ck_assert_int_eq(run(""), 2);
    ck_assert_int_eq(run("-o x.h5 --users 0"), 2);
    ck_assert_int_eq(run("-o x.h5 --users ten"), 2);
    ck_assert_int_eq(run("-o x.h5 --start 2024-02-30"), 2);
    ck_assert_int_eq(run("-o x.h5 --frobnicate 3"), 2);
    ck_assert_int_eq(run("-o x.h5 --seed"), 2);
    ck_assert_int_ne(access("x.h5", F_OK), 0);
}
END_TEST

Suite *synth_suite(void)
{
    Suite *s = suite_create("synth");
    TCase *tc = tcase_create("basics");
    tcase_add_test(tc, test_params);
    tcase_add_test(tc, test_determinism);
    tcase_add_test(tc, test_pl_marginals);
    tcase_add_test(tc, test_alloc_failures);
    tcase_add_test(tc, test_dates);
    tcase_add_test(tc, test_command_usage);
    tcase_add_test(tc, test_command_writes);
    tcase_add_test(tc, test_dataset_file);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);

    tc = tcase_create("shop");
    tcase_add_unchecked_fixture(tc, shop_setup, shop_teardown);
    tcase_add_test(tc, test_counts_and_shape);
    tcase_add_test(tc, test_queries_match_item_tokens);
    tcase_add_test(tc, test_cold_items_and_listing);
    tcase_add_test(tc, test_item_events_and_purchases);
    tcase_add_test(tc, test_preferences_recoverable);
    tcase_add_test(tc, test_dropout);
    tcase_add_test(tc, test_impressions);
    tcase_add_test(tc, test_truth_roundtrip);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);

    tc = tcase_create("renewals");
    tcase_add_unchecked_fixture(tc, renewal_setup, shop_teardown);
    tcase_add_test(tc, test_intervals_match_weibull);
    tcase_add_test(tc, test_dropout);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);

    tc = tcase_create("bgnbd");
    tcase_add_unchecked_fixture(tc, bgnbd_setup, shop_teardown);
    tcase_add_test(tc, test_bgnbd_rates);
    tcase_add_test(tc, test_dropout);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);

    tc = tcase_create("campaign");
    tcase_add_unchecked_fixture(tc, campaign_setup, shop_teardown);
    tcase_add_test(tc, test_campaign_uplift_by_segment);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}
