/* test_triggers.c - lifecycle triggers: golden eligibility of every trigger on
 * crafted tiny histories (edges: a purchase exactly at the cutoff second, the
 * expiry day, leap-day birthdays, the window ends), the quiet period, the
 * budget and repeat limits, missing data named by field, the planted synth
 * response (fatigue, sign), the plan files, the CLI's usage errors, and the
 * model plan beating rules only on TRUE incremental purchases of a small
 * generated shop. Times are UTC; the unix constants below were computed with
 * Python's calendar.timegm. Never reads ../shared/data.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../datasets/synth.h"
#include "../datasets/synth_response.h"
#include "../train/trigger_backtest.h"
#include "../train/trigger_io.h"
#include "../train/trigger_plan.h"
#include "../train/triggers.h"
#include "testutil.h"

#define DAYS 86400
#define D0 1710028800LL       /* 2024-03-10T00:00:00Z: the planned day */
#define FEB29_2024 1709164800LL
#define FEB28_2023 1677542400LL
#define MAR01_2023 1677628800LL
#define FEB28_2024 1709078400LL
#define BORN_LEAP 951782400LL /* 2000-02-29 */
#define BORN_MAR10 952646400LL /* 2000-03-10 */
#define SIGNUP_2023 1678406400LL /* 2023-03-10 */

/* ---- a crafted history ---- */

static int32_t U(upf_builder *b, const char *id) { return upf_builder_user(b, id, strlen(id)); }
static int32_t I(upf_builder *b, const char *id) { return upf_builder_item(b, id, strlen(id)); }

static upf_dataset *build(void (*fill)(upf_builder *b))
{
    upf_builder *b = NULL;
    upf_err err;
    ck_assert_int_eq(upf_builder_create(&b, &err), UPF_OK);
    fill(b);
    upf_dataset *ds = NULL;
    ck_assert_msg(upf_builder_finish(b, &ds, &err) == UPF_OK, "%s", err.msg);
    return ds;
}

static upf_trig_cand elig(const upf_dataset *ds, const upf_trig_rules *r, int64_t day, const char *user, int k)
{
    upf_trig_day d;
    upf_err err;
    ck_assert_int_eq(upf_trig_day_create(ds, r, day, &d, &err), UPF_OK);
    int32_t u = -1;
    for (size_t j = 0; j < ds->n_users; j++)
        if (strcmp(upf_strings_get(&ds->user_ids, j), user) == 0) u = (int32_t)j;
    ck_assert_int_ge(u, 0);
    upf_trig_cand c;
    upf_trig_eligible(ds, r, &d, u, k, &c);
    upf_trig_day_free(&d);
    return c;
}

static const char *item_id(const upf_dataset *ds, int32_t i) { return upf_strings_get(&ds->item_ids, (size_t)i); }

/* ---- cart abandon ---- */

static void fill_cart(upf_builder *b)
{
    int32_t a = U(b, "ann"), c = U(b, "cut"), e = U(b, "exp"), x = U(b, "bef");
    int32_t A = I(b, "A"), B = I(b, "B"), C = I(b, "C");
    /* ann: carts A and C, buys C afterwards (and B, never carted) */
    upf_builder_event(b, a, C, D0 - 2 * DAYS, UPF_EV_CART, 1, -1);
    upf_builder_event(b, a, A, D0 - DAYS + 36000, UPF_EV_CART, 1, -1);
    upf_builder_event(b, a, C, D0 - DAYS + 40000, UPF_EV_PURCHASE, 5, -1);
    upf_builder_event(b, a, B, D0 - DAYS + 40000, UPF_EV_PURCHASE, 5, -1);
    /* cut: carts A, buys it exactly at the cutoff second (belongs to the planned day) */
    upf_builder_event(b, c, A, D0 - DAYS, UPF_EV_CART, 1, -1);
    upf_builder_event(b, c, A, D0, UPF_EV_PURCHASE, 5, -1);
    /* bef: carts A, buys it one second before the cutoff */
    upf_builder_event(b, x, A, D0 - DAYS, UPF_EV_CART, 1, -1);
    upf_builder_event(b, x, A, D0 - 1, UPF_EV_PURCHASE, 5, -1);
    /* exp: carted B on the last second of the day 14 days before the planned day */
    upf_builder_event(b, e, B, D0 - 14 * DAYS + DAYS - 1, UPF_EV_CART, 1, -1);
}

START_TEST(test_cart_abandon)
{
    upf_dataset *ds = build(fill_cart);
    upf_trig_rules r = upf_trig_rules_default();
    upf_trig_cand c = elig(ds, &r, D0, "ann", UPF_TRIG_CART_ABANDON);
    ck_assert_int_eq(c.eligible, 1);
    ck_assert_int_eq(c.n, 1); /* C was bought after its cart */
    ck_assert_str_eq(item_id(ds, c.items[0]), "A");
    ck_assert_int_eq(c.anchor, D0 - DAYS + 36000);
    /* the purchase at the cutoff second is not before the cutoff: still abandoned */
    c = elig(ds, &r, D0, "cut", UPF_TRIG_CART_ABANDON);
    ck_assert_int_eq(c.eligible, 1);
    /* ... and it counts on the next day */
    c = elig(ds, &r, D0 + DAYS, "cut", UPF_TRIG_CART_ABANDON);
    ck_assert_int_eq(c.eligible, 0);
    c = elig(ds, &r, D0, "bef", UPF_TRIG_CART_ABANDON);
    ck_assert_int_eq(c.eligible, 0);
    upf_dataset_free(ds);
}
END_TEST

START_TEST(test_expiry_day)
{
    upf_dataset *ds = build(fill_cart);
    upf_trig_rules r = upf_trig_rules_default();
    ck_assert_int_eq(r.expiry_days, 14);
    /* carted on day D0 - 14: its 14th day after is the last reminder day */
    ck_assert_int_eq(elig(ds, &r, D0, "exp", UPF_TRIG_CART_ABANDON).eligible, 1);
    ck_assert_int_eq(elig(ds, &r, D0 + DAYS, "exp", UPF_TRIG_CART_ABANDON).eligible, 0);
    r.expiry_days = 13;
    ck_assert_int_eq(elig(ds, &r, D0, "exp", UPF_TRIG_CART_ABANDON).eligible, 0);
    /* an event of the planned day itself is never seen */
    ck_assert_int_eq(elig(ds, &r, D0 - 14 * DAYS, "exp", UPF_TRIG_CART_ABANDON).eligible, 0);
    ck_assert_int_eq(elig(ds, &r, D0 - 13 * DAYS, "exp", UPF_TRIG_CART_ABANDON).eligible, 1);
    upf_dataset_free(ds);
}
END_TEST

/* ---- browse and search abandon ---- */

static void fill_browse(upf_builder *b)
{
    int32_t v = U(b, "viewer"), p = U(b, "buyer"), o = U(b, "old"), s = U(b, "searcher");
    int32_t A = I(b, "A"), B = I(b, "B"), S1 = I(b, "S1"), S2 = I(b, "S2"), S3 = I(b, "S3");
    upf_builder_item_attr(b, S1, "token=red", 1), upf_builder_item_attr(b, S1, "token=shoes", 1);
    upf_builder_item_attr(b, S2, "token=shoes", 1);
    upf_builder_item_attr(b, S3, "token=blue", 1);
    upf_builder_event(b, v, A, D0 - 2 * DAYS, UPF_EV_VIEW, 0, -1);
    upf_builder_event(b, v, B, D0 - DAYS, UPF_EV_VIEW, 0, -1);
    upf_builder_event(b, p, A, D0 - 2 * DAYS, UPF_EV_VIEW, 0, -1);
    upf_builder_event(b, p, B, D0 - DAYS, UPF_EV_PURCHASE, 3, -1);
    upf_builder_event(b, o, A, D0 - 4 * DAYS, UPF_EV_VIEW, 0, -1);
    int32_t q = upf_builder_query(b, "Red Shoes", 9);
    upf_builder_event(b, s, -1, D0 - DAYS, UPF_EV_SEARCH, 0, q);
    /* popularity for the rules' order of search matches: S2 above S1 */
    upf_builder_event(b, o, S2, D0 - 20 * DAYS, UPF_EV_VIEW, 0, -1);
    upf_builder_event(b, v, S2, D0 - 20 * DAYS, UPF_EV_VIEW, 0, -1);
    upf_builder_event(b, p, S1, D0 - 20 * DAYS, UPF_EV_VIEW, 0, -1);
}

START_TEST(test_browse_search)
{
    upf_dataset *ds = build(fill_browse);
    upf_trig_rules r = upf_trig_rules_default();
    upf_trig_cand c = elig(ds, &r, D0, "viewer", UPF_TRIG_BROWSE_ABANDON);
    ck_assert_int_eq(c.eligible, 1);
    ck_assert_int_eq(c.n, 2);
    ck_assert_str_eq(item_id(ds, c.items[0]), "B"); /* most recent first */
    ck_assert_str_eq(item_id(ds, c.items[1]), "A");
    ck_assert_int_eq(elig(ds, &r, D0, "buyer", UPF_TRIG_BROWSE_ABANDON).eligible, 0);
    /* window 3 days: a view 4 days old is out, 4 days brings it in */
    ck_assert_int_eq(elig(ds, &r, D0, "old", UPF_TRIG_BROWSE_ABANDON).eligible, 0);
    r.window_days[UPF_TRIG_BROWSE_ABANDON] = 4;
    ck_assert_int_eq(elig(ds, &r, D0, "old", UPF_TRIG_BROWSE_ABANDON).eligible, 1);
    r = upf_trig_rules_default();
    c = elig(ds, &r, D0, "searcher", UPF_TRIG_SEARCH_ABANDON);
    ck_assert_int_eq(c.eligible, 1);
    ck_assert_int_eq(c.n, 1);
    ck_assert_str_eq(upf_strings_get(&ds->queries, (size_t)c.items[0]), "Red Shoes");

    /* the rules' search message: items matching a token, by recent popularity */
    upf_trig_planner *pl = NULL;
    upf_trig_state st;
    upf_err err;
    for (int k = 0; k < UPF_TRIG_COUNT; k++) r.enabled[k] = k == UPF_TRIG_SEARCH_ABANDON;
    ck_assert_int_eq(upf_trig_planner_create(ds, &r, &pl, &err), UPF_OK);
    ck_assert_int_eq(upf_trig_state_create(ds->n_users, &st, &err), UPF_OK);
    upf_trig_msgs msgs = { 0 };
    upf_trig_stats stats;
    memset(&stats, 0, sizeof stats);
    ck_assert_int_eq(upf_trig_plan_day(pl, UPF_TRIG_MODE_RULES, NULL, D0, &st, 1, &msgs, &stats, &err), UPF_OK);
    ck_assert_uint_eq(msgs.n, 1);
    ck_assert_int_eq(msgs.v[0].n_items, 2);
    ck_assert_str_eq(item_id(ds, msgs.v[0].items[0]), "S2");
    ck_assert_str_eq(item_id(ds, msgs.v[0].items[1]), "S1");
    upf_trig_msgs_free(&msgs);
    upf_trig_state_free(&st);
    upf_trig_planner_free(pl);
    upf_dataset_free(ds);
}
END_TEST

/* ---- follow-up, buy again, win-back ---- */

static void fill_purchases(upf_builder *b)
{
    int32_t f = U(b, "f10"), g = U(b, "f9"), r = U(b, "rebuy"), w = U(b, "w60"), y = U(b, "w59");
    int32_t A = I(b, "A"), B = I(b, "B");
    upf_builder_event(b, f, A, D0 - 10 * DAYS + 3600, UPF_EV_PURCHASE, 1, -1);
    upf_builder_event(b, f, B, D0 - 10 * DAYS + 7200, UPF_EV_PURCHASE, 1, -1);
    upf_builder_event(b, g, A, D0 - 9 * DAYS, UPF_EV_PURCHASE, 1, -1);
    upf_builder_event(b, r, A, D0 - 60 * DAYS, UPF_EV_PURCHASE, 1, -1);
    upf_builder_event(b, r, A, D0 - 30 * DAYS + 100, UPF_EV_PURCHASE, 1, -1);
    upf_builder_event(b, r, A, D0 - 30 * DAYS + 200, UPF_EV_PURCHASE, 1, -1); /* same day: one purchase */
    upf_builder_event(b, w, B, D0 - 60 * DAYS, UPF_EV_PURCHASE, 1, -1);
    upf_builder_event(b, y, B, D0 - 59 * DAYS, UPF_EV_PURCHASE, 1, -1);
}

START_TEST(test_follow_up_buy_again_win_back)
{
    upf_dataset *ds = build(fill_purchases);
    upf_trig_rules r = upf_trig_rules_default();
    upf_trig_cand c = elig(ds, &r, D0, "f10", UPF_TRIG_FOLLOW_UP);
    ck_assert_int_eq(c.eligible, 1);
    ck_assert_int_eq(c.n, 2);
    ck_assert_int_eq(elig(ds, &r, D0, "f9", UPF_TRIG_FOLLOW_UP).eligible, 0);
    ck_assert_int_eq(elig(ds, &r, D0 + DAYS, "f9", UPF_TRIG_FOLLOW_UP).eligible, 1);
    ck_assert_int_eq(elig(ds, &r, D0 + DAYS, "f10", UPF_TRIG_FOLLOW_UP).eligible, 0); /* once */
    /* bought on two days, last 30 days ago: due today (rule 30 days), and up to 3 days late */
    c = elig(ds, &r, D0, "rebuy", UPF_TRIG_BUY_AGAIN);
    ck_assert_int_eq(c.eligible, 1);
    ck_assert_str_eq(item_id(ds, c.items[0]), "A");
    ck_assert_int_eq(elig(ds, &r, D0 - DAYS, "rebuy", UPF_TRIG_BUY_AGAIN).eligible, 0);
    ck_assert_int_eq(elig(ds, &r, D0 + 3 * DAYS, "rebuy", UPF_TRIG_BUY_AGAIN).eligible, 1);
    ck_assert_int_eq(elig(ds, &r, D0 + 4 * DAYS, "rebuy", UPF_TRIG_BUY_AGAIN).eligible, 0);
    /* one purchase day only (f10 bought A once): never due under the rule */
    ck_assert_int_eq(elig(ds, &r, D0 + 20 * DAYS, "f10", UPF_TRIG_BUY_AGAIN).eligible, 0);
    ck_assert_int_eq(elig(ds, &r, D0, "w60", UPF_TRIG_WIN_BACK).eligible, 1);
    ck_assert_int_eq(elig(ds, &r, D0, "w59", UPF_TRIG_WIN_BACK).eligible, 0);
    r.win_back_max_days = 59;
    ck_assert_int_eq(elig(ds, &r, D0, "w60", UPF_TRIG_WIN_BACK).eligible, 0);
    /* purchases counted by day */
    int32_t items[4];
    int64_t last[4];
    int count[4];
    int n = upf_trig_purchased(ds, 2, D0, items, last, count, 4);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(count[0], 2);
    ck_assert_int_eq(last[0], D0 - 30 * DAYS + 200);
    upf_dataset_free(ds);
}
END_TEST

/* ---- birthdays and anniversaries ---- */

static void fill_dates(upf_builder *b)
{
    int32_t l = U(b, "leap"), m = U(b, "march"), s = U(b, "signup"), n = U(b, "new"), x = U(b, "nobirthday");
    upf_builder_user_birthday(b, l, BORN_LEAP);
    upf_builder_user_birthday(b, m, BORN_MAR10);
    upf_builder_user_signup(b, s, SIGNUP_2023);
    upf_builder_user_signup(b, n, D0 - 3600);
    (void)x;
}

START_TEST(test_birthday_anniversary)
{
    upf_dataset *ds = build(fill_dates);
    upf_trig_rules r = upf_trig_rules_default();
    ck_assert_int_eq(elig(ds, &r, D0, "march", UPF_TRIG_BIRTHDAY).eligible, 1);
    ck_assert_int_eq(elig(ds, &r, D0 + DAYS, "march", UPF_TRIG_BIRTHDAY).eligible, 0);
    ck_assert_int_eq(elig(ds, &r, D0, "nobirthday", UPF_TRIG_BIRTHDAY).eligible, 0);
    /* Feb 29 birthdays: Feb 28 in non-leap years, Feb 29 in leap years */
    ck_assert_int_eq(elig(ds, &r, FEB28_2023, "leap", UPF_TRIG_BIRTHDAY).eligible, 1);
    ck_assert_int_eq(elig(ds, &r, MAR01_2023, "leap", UPF_TRIG_BIRTHDAY).eligible, 0);
    ck_assert_int_eq(elig(ds, &r, FEB29_2024, "leap", UPF_TRIG_BIRTHDAY).eligible, 1);
    ck_assert_int_eq(elig(ds, &r, FEB28_2024, "leap", UPF_TRIG_BIRTHDAY).eligible, 0);
    ck_assert_int_eq(upf_trig_same_calendar_day(BORN_LEAP, FEB28_2023 + 86399, 0), 1);
    /* anniversary: a later year only */
    ck_assert_int_eq(elig(ds, &r, D0, "signup", UPF_TRIG_ANNIVERSARY).eligible, 1);
    ck_assert_int_eq(elig(ds, &r, SIGNUP_2023 + DAYS, "signup", UPF_TRIG_ANNIVERSARY).eligible, 0);
    ck_assert_int_eq(elig(ds, &r, D0, "new", UPF_TRIG_ANNIVERSARY).eligible, 0);
    upf_dataset_free(ds);
}
END_TEST

/* ---- item state: price drop, back in stock, new arrivals ---- */

static void fill_items(upf_builder *b)
{
    int32_t u = U(b, "fan"), v = U(b, "stranger");
    int32_t P = I(b, "P"), S = I(b, "S"), N = I(b, "N"), Q = I(b, "Q");
    upf_builder_item_event(b, P, D0 - 30 * DAYS, UPF_IE_PRICE, 10.0f);
    upf_builder_item_event(b, P, D0 - 2 * DAYS, UPF_IE_PRICE, 8.0f);
    upf_builder_item_event(b, Q, D0 - 30 * DAYS, UPF_IE_PRICE, 10.0f);
    upf_builder_item_event(b, Q, D0 - 2 * DAYS, UPF_IE_PRICE, 12.0f); /* a rise is no drop */
    upf_builder_item_event(b, S, D0 - 5 * DAYS, UPF_IE_STOCK, 0.0f);
    upf_builder_item_event(b, S, D0 - DAYS, UPF_IE_STOCK, 3.0f);
    upf_builder_item_event(b, N, D0 - 3 * DAYS, UPF_IE_LISTED, 0.0f);
    upf_builder_item_event(b, P, D0, UPF_IE_PRICE, 5.0f); /* at the cutoff: unseen */
    upf_builder_event(b, u, P, D0 - 40 * DAYS, UPF_EV_VIEW, 0, -1);
    upf_builder_event(b, u, Q, D0 - 40 * DAYS, UPF_EV_VIEW, 0, -1);
    upf_builder_event(b, u, S, D0 - 10 * DAYS, UPF_EV_CART, 1, -1);
    upf_builder_event(b, u, N, D0 - DAYS, UPF_EV_VIEW, 0, -1);
    upf_builder_event(b, v, Q, D0 - DAYS, UPF_EV_VIEW, 0, -1);
}

START_TEST(test_item_state)
{
    upf_dataset *ds = build(fill_items);
    upf_trig_rules r = upf_trig_rules_default();
    upf_trig_day d;
    upf_err err;
    ck_assert_int_eq(upf_trig_day_create(ds, &r, D0, &d, &err), UPF_OK);
    ck_assert_uint_eq(d.n_changed[UPF_TRIG_PRICE_DROP], 1);
    ck_assert_str_eq(item_id(ds, d.changed[UPF_TRIG_PRICE_DROP][0]), "P");
    ck_assert_uint_eq(d.n_changed[UPF_TRIG_BACK_IN_STOCK], 1);
    ck_assert_uint_eq(d.n_changed[UPF_TRIG_NEW_ARRIVALS], 1);
    upf_trig_day_free(&d);
    ck_assert_int_eq(elig(ds, &r, D0, "fan", UPF_TRIG_PRICE_DROP).eligible, 1);
    ck_assert_int_eq(elig(ds, &r, D0, "fan", UPF_TRIG_BACK_IN_STOCK).eligible, 1);
    ck_assert_int_eq(elig(ds, &r, D0, "fan", UPF_TRIG_NEW_ARRIVALS).eligible, 1);
    ck_assert_int_eq(elig(ds, &r, D0, "stranger", UPF_TRIG_PRICE_DROP).eligible, 0);
    /* the drop is 2 days old: outside a 1-day window */
    r.window_days[UPF_TRIG_PRICE_DROP] = 1;
    ck_assert_int_eq(elig(ds, &r, D0, "fan", UPF_TRIG_PRICE_DROP).eligible, 0);
    /* the rule's interest window: the view of P is 40 days old */
    r = upf_trig_rules_default();
    r.affinity_history_days = 30;
    ck_assert_int_eq(elig(ds, &r, D0, "fan", UPF_TRIG_PRICE_DROP).eligible, 0);
    upf_dataset_free(ds);
}
END_TEST

/* ---- quiet period, budget, repeat ---- */

static void fill_quiet(upf_builder *b)
{
    int32_t q = U(b, "quiet"), o = U(b, "open");
    int32_t A = I(b, "A"), B = I(b, "B");
    upf_builder_event(b, q, A, D0 - 3 * DAYS, UPF_EV_CART, 1, -1);
    upf_builder_event(b, q, B, D0 - 2 * DAYS + 5, UPF_EV_PURCHASE, 1, -1);
    upf_builder_event(b, o, A, D0 - 3 * DAYS, UPF_EV_CART, 1, -1);
    upf_builder_event(b, o, B, D0 - 3 * DAYS + 5, UPF_EV_PURCHASE, 1, -1);
}

static size_t plan_rules(const upf_dataset *ds, const upf_trig_rules *r, upf_trig_state *st, int64_t day,
                         upf_trig_stats *stats, upf_trig_msgs *msgs)
{
    upf_trig_planner *pl = NULL;
    upf_err err;
    ck_assert_int_eq(upf_trig_planner_create(ds, r, &pl, &err), UPF_OK);
    size_t before = msgs->n;
    ck_assert_int_eq(upf_trig_plan_day(pl, UPF_TRIG_MODE_RULES, NULL, day, st, 1, msgs, stats, &err), UPF_OK);
    upf_trig_planner_free(pl);
    return msgs->n - before;
}

START_TEST(test_quiet_budget_repeat)
{
    upf_dataset *ds = build(fill_quiet);
    upf_trig_rules r = upf_trig_rules_default();
    for (int k = 0; k < UPF_TRIG_COUNT; k++) r.enabled[k] = k == UPF_TRIG_CART_ABANDON;
    r.budget_adaptive = 0;
    upf_trig_state st;
    upf_err err;
    ck_assert_int_eq(upf_trig_state_create(ds->n_users, &st, &err), UPF_OK);
    upf_trig_msgs msgs = { 0 };
    upf_trig_stats stats;
    memset(&stats, 0, sizeof stats);
    /* quiet: bought 2 days ago (day D0 - 2); quiet_days 2 means until day D0 - 1 */
    ck_assert_uint_eq(plan_rules(ds, &r, &st, D0 - DAYS, &stats, &msgs), 1); /* only "open" */
    ck_assert_int_eq(stats.why[UPF_TRIG_CART_ABANDON][UPF_TRIG_WHY_QUIET], 1);
    ck_assert_str_eq(upf_strings_get(&ds->user_ids, (size_t)msgs.v[0].user), "open");
    /* day D0: quiet is over for "quiet"; "open" was messaged yesterday: repeat 3 days */
    memset(&stats, 0, sizeof stats);
    ck_assert_uint_eq(plan_rules(ds, &r, &st, D0, &stats, &msgs), 1);
    ck_assert_int_eq(stats.why[UPF_TRIG_CART_ABANDON][UPF_TRIG_WHY_REPEAT], 1);
    /* budget: 1 message per 7 days; "open" got one on D0 - 1 */
    r.budget_messages = 1;
    r.repeat_days[UPF_TRIG_CART_ABANDON] = 1;
    memset(&stats, 0, sizeof stats);
    ck_assert_uint_eq(plan_rules(ds, &r, &st, D0 + DAYS, &stats, &msgs), 0);
    ck_assert_int_eq(stats.why[UPF_TRIG_CART_ABANDON][UPF_TRIG_WHY_BUDGET], 2);
    /* the window has passed on day D0 - 1 + 7 for "open" */
    memset(&stats, 0, sizeof stats);
    ck_assert_uint_eq(plan_rules(ds, &r, &st, D0 + 6 * DAYS, &stats, &msgs), 1);
    ck_assert_uint_eq(upf_trig_budget_used(&st, 1, D0 + 6 * DAYS, 7), 1);
    upf_trig_msgs_free(&msgs);
    upf_trig_state_free(&st);
    upf_dataset_free(ds);
}
END_TEST

START_TEST(test_missing_data)
{
    upf_dataset *ds = build(fill_quiet);
    upf_trig_rules r = upf_trig_rules_default();
    const char *missing[UPF_TRIG_COUNT];
    size_t n = upf_trig_missing(ds, &r, missing);
    ck_assert_ptr_null(missing[UPF_TRIG_CART_ABANDON]);
    ck_assert_ptr_null(missing[UPF_TRIG_BUY_AGAIN]);
    ck_assert_ptr_nonnull(strstr(missing[UPF_TRIG_BIRTHDAY], "/users/birthday"));
    ck_assert_ptr_nonnull(strstr(missing[UPF_TRIG_ANNIVERSARY], "/users/signup"));
    ck_assert_ptr_nonnull(strstr(missing[UPF_TRIG_BROWSE_ABANDON], "view"));
    ck_assert_ptr_nonnull(strstr(missing[UPF_TRIG_PRICE_DROP], "price"));
    ck_assert_uint_eq(n, 7); /* browse, search, birthday, anniversary, price, stock, listing */
    r.enabled[UPF_TRIG_BIRTHDAY] = 0;
    ck_assert_uint_eq(upf_trig_missing(ds, &r, missing), 6);
    ck_assert_ptr_null(missing[UPF_TRIG_BIRTHDAY]);
    upf_dataset_free(ds);
}
END_TEST

/* ---- uplift by trigger from logged messages with a hold-out ---- */

static void fill_messages(upf_builder *b)
{
    int32_t A = I(b, "A");
    char id[16];
    /* users 0..399: cart_abandon messages, 200 sent (160 buy within 7 days), 200 held out (40 buy);
     * users 400..799: browse_abandon, 200 sent (20 buy), 200 held out (60 buy) */
    for (int u = 0; u < 800; u++) {
        snprintf(id, sizeof id, "u%03d", u);
        int32_t x = U(b, id);
        int cart = u < 400, sent = (u % 400) < 200, j = (u % 400) % 200;
        int buys = cart ? (sent ? j < 160 : j < 40) : (sent ? j < 20 : j < 60);
        upf_builder_message(b, x, D0 - 30 * DAYS, cart ? "cart_abandon" : "browse_abandon", A, sent);
        upf_builder_event(b, x, A, D0 - 40 * DAYS, UPF_EV_PURCHASE, 1, -1);
        if (buys) upf_builder_event(b, x, A, D0 - 30 * DAYS + 3 * DAYS, UPF_EV_PURCHASE, 1, -1);
        else upf_builder_event(b, x, A, D0 - 30 * DAYS + 8 * DAYS, UPF_EV_PURCHASE, 1, -1); /* after the window */
    }
}

START_TEST(test_uplift_by_trigger)
{
    upf_dataset *ds = build(fill_messages);
    upf_trig_model_params mp = upf_trig_model_params_default();
    mp.use_ranker = 0, mp.use_bgnbd = 0;
    upf_trig_models *m = NULL;
    upf_err err;
    ck_assert_int_eq(upf_trig_models_train(ds, &mp, D0, &m, &err), UPF_OK);
    ck_assert_int_eq(m->has_uplift[UPF_TRIG_CART_ABANDON], 1);
    ck_assert_double_eq_tol(m->uplift[UPF_TRIG_CART_ABANDON], 0.8 - 0.2, 1e-12);
    ck_assert_int_eq(m->has_uplift[UPF_TRIG_BROWSE_ABANDON], 1);
    ck_assert_double_eq_tol(m->uplift[UPF_TRIG_BROWSE_ABANDON], 0.1 - 0.3, 1e-12);
    ck_assert_int_eq(m->has_uplift[UPF_TRIG_WIN_BACK], 0);
    upf_trig_rules r = upf_trig_rules_default();
    int src = -1;
    /* a measured gain outranks every priority; a measured loss is never sent */
    double v = upf_trig_value(&r, m, UPF_TRIG_CART_ABANDON, 0.5, &src);
    ck_assert_int_eq(src, UPF_TRIG_SRC_UPLIFT);
    ck_assert_double_eq_tol(v, UPF_TRIG_COUNT + 1 + 0.6, 1e-12);
    ck_assert(upf_trig_value(&r, m, UPF_TRIG_BROWSE_ABANDON, 0.5, &src) < 0);
    src = -1;
    ck_assert(upf_trig_value(&r, m, UPF_TRIG_WIN_BACK, 0.5, &src) < v);
    ck_assert_int_eq(src, -1);
    upf_trig_models_free(m);
    /* too few rows in an arm: no estimate */
    mp.uplift_min_rows = 201;
    ck_assert_int_eq(upf_trig_models_train(ds, &mp, D0, &m, &err), UPF_OK);
    ck_assert_int_eq(m->has_uplift[UPF_TRIG_CART_ABANDON], 0);
    upf_trig_models_free(m);
    /* the sent messages count against the budget and the repeat limits */
    upf_trig_state st;
    ck_assert_int_eq(upf_trig_state_create(ds->n_users, &st, &err), UPF_OK);
    upf_trig_state_load_messages(&st, ds, D0);
    ck_assert_int_eq(upf_trig_budget_used(&st, 0, D0 - 25 * DAYS, 7), 1);
    ck_assert_int_eq(upf_trig_budget_used(&st, 300, D0 - 25 * DAYS, 7), 0); /* held out: not sent */
    upf_trig_state_free(&st);
    upf_dataset_free(ds);
}
END_TEST

/* ---- churn risk (golden from the closed form, computed by hand in Python:
 * p = 1 / (1 + a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)), none = ((alpha+T)/(alpha+T+h))^(r+x),
 * risk = 1 - p + p none; r 2, alpha 3, a 1, b 3, x 2, t_x 4, T 10 weeks, h 30 days) ---- */

START_TEST(test_churn_risk_golden)
{
    upf_trig_models *m = upf_calloc(1, sizeof *m);
    m->cutoff = D0, m->n_users = 1, m->has_bgnbd = 1, m->bg_unit_days = 7.0;
    m->bgnbd = (upf_bgnbd_params){ 2.0, 3.0, 1.0, 3.0, 0 };
    m->bg_x = upf_malloc(sizeof(float)), m->bg_tx = upf_malloc(sizeof(float)), m->bg_T = upf_malloc(sizeof(float));
    m->bg_x[0] = 2.0f, m->bg_tx[0] = 4.0f, m->bg_T[0] = 10.0f;
    ck_assert_double_eq_tol(upf_trig_churn_risk(m, 0, 30.0, D0), 0.8288586209304141, 1e-12);
    /* two silent weeks later, T = 12 */
    ck_assert_double_eq_tol(upf_trig_churn_risk(m, 0, 30.0, D0 + 14 * DAYS), 0.8988956615715447, 1e-12);
    m->bg_T[0] = -1.0f; /* no purchase before the cutoff */
    ck_assert(isnan(upf_trig_churn_risk(m, 0, 30.0, D0)));
    upf_trig_models_free(m);
}
END_TEST

/* ---- the BG/NBD summary as of the planned day: T counts whole days from
 * the first purchase day to day D (a purchase on D - 1 leaves one silent day) ---- */

static void fill_bgnbd_days(upf_builder *b)
{
    int32_t a = I(b, "A");
    char id[16];
    for (int i = 0; i < 40; i++) { /* a varied population so the fit has something to fit */
        snprintf(id, sizeof id, "c%d", i);
        int32_t u = U(b, id);
        int64_t first = D0 - (int64_t)(70 + i) * DAYS + 3600;
        upf_builder_event(b, u, a, first, UPF_EV_PURCHASE, 1, -1);
        for (int k = 1; k <= i % 4; k++)
            upf_builder_event(b, u, a, first + (int64_t)(k * (9 + i % 7)) * DAYS, UPF_EV_PURCHASE, 1, -1);
    }
    int32_t y = U(b, "yesterday");
    upf_builder_event(b, y, a, D0 - 14 * DAYS + 100, UPF_EV_PURCHASE, 1, -1);
    upf_builder_event(b, y, a, D0 - DAYS + 100, UPF_EV_PURCHASE, 1, -1);
}

START_TEST(test_bgnbd_summary_days)
{
    upf_dataset *ds = build(fill_bgnbd_days);
    upf_trig_model_params mp = upf_trig_model_params_default();
    mp.use_ranker = 0, mp.use_winback_aft = 0, mp.use_uplift = 0;
    upf_trig_models *m = NULL;
    upf_err err;
    ck_assert_msg(upf_trig_models_train(ds, &mp, D0, &m, &err) == UPF_OK, "%s", err.msg);
    ck_assert_int_eq(m->has_bgnbd, 1);
    ck_assert_int_eq(m->has_wb, 0);
    int32_t y = -1, c0 = -1;
    for (size_t u = 0; u < ds->n_users; u++) {
        if (strcmp(upf_strings_get(&ds->user_ids, u), "yesterday") == 0) y = (int32_t)u;
        if (strcmp(upf_strings_get(&ds->user_ids, u), "c0") == 0) c0 = (int32_t)u;
    }
    /* "yesterday": first purchase 14 days before D, the last on D - 1: x 1, t_x 13 days, T 14 days */
    ck_assert_double_eq_tol(m->bg_x[y], 1.0, 1e-6);
    ck_assert_double_eq_tol(m->bg_tx[y], 13.0 / 7.0, 1e-6);
    ck_assert_double_eq_tol(m->bg_T[y], 14.0 / 7.0, 1e-6);
    /* "c0": one purchase 70 days before D: x 0, t_x 0, T 10 weeks */
    ck_assert_double_eq_tol(m->bg_x[c0], 0.0, 1e-6);
    ck_assert_double_eq_tol(m->bg_T[c0], 10.0, 1e-6);
    upf_trig_models_free(m);
    upf_dataset_free(ds);
}
END_TEST

/* ---- win-back AFT risk: S(e + h) / S(e) of a Weibull, by hand in Python:
 * exp(-(t / exp(eta))^(1 / sigma)) with eta 3, sigma 0.5, h 30 days: e = 0
 * gives exp(-(30/e^3)^2) = 0.10743417344692785; e = 14 days gives
 * exp(-(44/e^3)^2 + (14/e^3)^2) = 0.013392923783033644 ---- */

START_TEST(test_churn_risk_aft_golden)
{
    upf_trig_models *m = upf_calloc(1, sizeof *m);
    m->cutoff = D0, m->n_users = 2, m->has_wb = 1, m->wb_dist = UPF_AFT_WEIBULL, m->wb_sigma = 0.5;
    m->wb_eta = upf_malloc(2 * sizeof(float));
    m->wb_eta[0] = 3.0f, m->wb_eta[1] = NAN;
    ck_assert_double_eq_tol(upf_trig_churn_risk(m, 0, 30.0, D0), 0.10743417344692785, 1e-12);
    ck_assert_double_eq_tol(upf_trig_churn_risk(m, 0, 30.0, D0 + 14 * DAYS), 0.013392923783033644, 1e-12);
    ck_assert(isnan(upf_trig_churn_risk(m, 1, 30.0, D0))); /* no purchase before the cutoff */
    /* the AFT wins over a BG/NBD that is also there */
    m->has_bgnbd = 1;
    ck_assert_double_eq_tol(upf_trig_churn_risk(m, 0, 30.0, D0), 0.10743417344692785, 1e-12);
    upf_trig_models_free(m);
}
END_TEST

/* ---- win-back eligibility follows the threshold on the model's risk ---- */

static void fill_lapsed(upf_builder *b)
{
    int32_t hi = U(b, "high_risk"), lo = U(b, "low_risk"), fresh = U(b, "fresh");
    int32_t a = I(b, "A");
    upf_builder_event(b, hi, a, D0 - 30 * DAYS, UPF_EV_PURCHASE, 1, -1);
    upf_builder_event(b, lo, a, D0 - 40 * DAYS, UPF_EV_PURCHASE, 1, -1);
    upf_builder_event(b, fresh, a, D0 - 10 * DAYS, UPF_EV_PURCHASE, 1, -1); /* under min_days 21 */
}

static size_t plan_win_back(const upf_dataset *ds, const upf_trig_rules *r, const upf_trig_models *m,
                            upf_trig_stats *stats, upf_trig_msgs *msgs)
{
    upf_trig_planner *pl = NULL;
    upf_trig_state st;
    upf_err err;
    ck_assert_int_eq(upf_trig_state_create(ds->n_users, &st, &err), UPF_OK);
    ck_assert_int_eq(upf_trig_planner_create(ds, r, &pl, &err), UPF_OK);
    memset(stats, 0, sizeof *stats);
    size_t before = msgs->n;
    ck_assert_msg(upf_trig_plan_day(pl, UPF_TRIG_MODE_MODEL, m, D0, &st, 1, msgs, stats, &err) == UPF_OK, "%s",
                  err.msg);
    upf_trig_planner_free(pl);
    upf_trig_state_free(&st);
    return msgs->n - before;
}

START_TEST(test_win_back_threshold)
{
    upf_dataset *ds = build(fill_lapsed);
    upf_trig_rules r = upf_trig_rules_default();
    for (int k = 0; k < UPF_TRIG_COUNT; k++) r.enabled[k] = k == UPF_TRIG_WIN_BACK;
    upf_trig_models *m = upf_calloc(1, sizeof *m);
    m->cutoff = D0, m->n_users = ds->n_users, m->n_items = ds->n_items;
    m->has_wb = 1, m->wb_dist = UPF_AFT_WEIBULL, m->wb_sigma = 0.5;
    m->wb_eta = upf_malloc(ds->n_users * sizeof(float));
    /* risks within 30 days (Weibull, closed form as above): exp(-(30/e^5)^2) = 0.9599635761156647,
     * exp(-(30/e^2.5)^2) = 0.0023247278532096704 */
    m->wb_eta[0] = 5.0f, m->wb_eta[1] = 2.5f, m->wb_eta[2] = 5.0f;
    upf_trig_msgs msgs = { 0 };
    upf_trig_stats stats;
    r.win_back_threshold = 0.6;
    ck_assert_uint_eq(plan_win_back(ds, &r, m, &stats, &msgs), 1);
    ck_assert_str_eq(upf_strings_get(&ds->user_ids, (size_t)msgs.v[0].user), "high_risk");
    ck_assert_int_eq(msgs.v[0].trigger, UPF_TRIG_WIN_BACK);
    ck_assert_double_eq_tol(msgs.v[0].score, 0.9599635761156647, 1e-6);
    ck_assert_int_eq(stats.audience[UPF_TRIG_WIN_BACK], 2); /* "fresh" is under min_days */
    ck_assert_int_eq(stats.why[UPF_TRIG_WIN_BACK][UPF_TRIG_WHY_NO_VALUE], 1);
    /* just above the high risk: nobody; just under the low one: both */
    r.win_back_threshold = 0.9599635761156647 + 1e-6;
    ck_assert_uint_eq(plan_win_back(ds, &r, m, &stats, &msgs), 0);
    ck_assert_int_eq(stats.why[UPF_TRIG_WIN_BACK][UPF_TRIG_WHY_NO_VALUE], 2);
    r.win_back_threshold = 0.0023247278532096704 - 1e-6;
    ck_assert_uint_eq(plan_win_back(ds, &r, m, &stats, &msgs), 2);
    /* "fresh" (10 days since its purchase) comes in once min_days allows it */
    r.win_back_min_days = 5;
    ck_assert_uint_eq(plan_win_back(ds, &r, m, &stats, &msgs), 3);
    upf_trig_msgs_free(&msgs);
    upf_trig_models_free(m);
    upf_dataset_free(ds);
}
END_TEST

/* ---- allocation failures: every allocation of the planner may fail, cleanly ---- */

START_TEST(test_alloc_failures)
{
    upf_dataset *ds = build(fill_purchases);
    upf_trig_rules r = upf_trig_rules_default();
    upf_trig_model_params mp = upf_trig_model_params_default();
    mp.use_ranker = 0;
    int done = 0;
    for (long nth = 1; nth < 5000 && !done; nth++) {
        upf_err err;
        upf_trig_planner *pl = NULL;
        upf_trig_models *m = NULL;
        upf_trig_state st;
        memset(&st, 0, sizeof st);
        upf_trig_msgs msgs = { 0 };
        upf_trig_stats stats;
        memset(&stats, 0, sizeof stats);
        upf_alloc_fail_after(nth);
        upf_status s = upf_trig_planner_create(ds, &r, &pl, &err);
        if (!s) s = upf_trig_models_train(ds, &mp, D0, &m, &err);
        if (!s) s = upf_trig_state_create(ds->n_users, &st, &err);
        if (!s) s = upf_trig_plan_day(pl, UPF_TRIG_MODE_MODEL, m, D0, &st, 1, &msgs, &stats, &err);
        upf_alloc_fail_after(0);
        ck_assert_msg(s == UPF_OK || s == UPF_ERR_NOMEM, "allocation %ld: %s", nth, err.msg);
        done = s == UPF_OK;
        upf_trig_msgs_free(&msgs);
        upf_trig_state_free(&st);
        upf_trig_models_free(m);
        upf_trig_planner_free(pl);
    }
    ck_assert(done);
    upf_dataset_free(ds);
}
END_TEST

/* ---- generated data: the planted response and the model plan ---- */

static upf_synth_params small_shop(void)
{
    upf_synth_params p = upf_synth_params_default();
    p.n_users = 1500;
    p.n_items = 400;
    p.n_days = 120;
    p.n_categories = 20;
    p.seed = 11;
    p.n_impressions = 100;
    return p;
}

START_TEST(test_response_fatigue_and_sign)
{
    upf_synth_params p = small_shop();
    p.n_users = 200;
    upf_dataset *ds = NULL;
    upf_synth_truth *t = NULL;
    upf_err err;
    ck_assert_int_eq(upf_synth_generate(&p, &ds, &t, &err), UPF_OK);
    upf_synth_response *r = NULL;
    ck_assert_int_eq(upf_synth_response_create(t, ds, 3, &r, &err), UPF_OK);
    /* a user with positive and one with negative sensitivity to birthdays */
    int32_t pos = -1, neg = -1;
    for (size_t u = 0; u < t->n_users; u++) {
        float s = r->sens[u * UPF_TRIG_COUNT + UPF_TRIG_BIRTHDAY];
        if (s > 0.5f && pos < 0 && (t->user_death[u] == UPF_TIME_MISSING)) pos = (int32_t)u;
        if (s < 0.0f && neg < 0) neg = (int32_t)u;
    }
    ck_assert_int_ge(pos, 0);
    ck_assert_int_ge(neg, 0);
    upf_trig_msg m;
    memset(&m, 0, sizeof m);
    m.user = pos, m.day = t->t_start + 60 * DAYS, m.trigger = UPF_TRIG_BIRTHDAY, m.n_items = 1, m.items[0] = 0;
    double v = upf_synth_message_value(r, &m);
    ck_assert(v > 0.0);
    /* the same message twice in a day: the second is worth half (fatigue 0.5^1) */
    upf_trig_msg two[2] = { m, m };
    double total, per[UPF_TRIG_COUNT];
    ck_assert_int_eq(upf_synth_plan_value(r, two, 2, &total, per, &err), UPF_OK);
    ck_assert_double_eq_tol(total, 1.5 * v, 1e-12);
    ck_assert_double_eq_tol(per[UPF_TRIG_BIRTHDAY], 1.5 * v, 1e-12);
    /* 7 days apart: no fatigue */
    two[1].day += 7 * DAYS;
    ck_assert_int_eq(upf_synth_plan_value(r, two, 2, &total, NULL, &err), UPF_OK);
    ck_assert_double_eq_tol(total, v + upf_synth_message_value(r, &two[1]), 1e-12);
    m.user = neg;
    ck_assert(upf_synth_message_value(r, &m) <= 0.0);
    /* no items, no effect; a bad item is refused */
    m.n_items = 0;
    ck_assert_double_eq(upf_synth_message_value(r, &m), 0.0);
    m.n_items = 1, m.items[0] = (int32_t)t->n_items;
    ck_assert_int_eq(upf_synth_plan_value(r, &m, 1, &total, NULL, &err), UPF_ERR_ARG);
    upf_synth_response_free(r);
    upf_synth_truth_free(t);
    upf_dataset_free(ds);
}
END_TEST

START_TEST(test_buy_again_aft)
{
    upf_synth_params p = small_shop();
    upf_dataset *ds = NULL;
    upf_synth_truth *t = NULL;
    upf_err err;
    ck_assert_int_eq(upf_synth_generate(&p, &ds, &t, &err), UPF_OK);
    upf_trig_model_params mp = upf_trig_model_params_default();
    mp.use_ranker = 0, mp.use_bgnbd = 0, mp.use_buy_again_aft = 1;
    int64_t cutoff = t->t_start + 100 * DAYS;
    upf_trig_models *m = NULL;
    ck_assert_msg(upf_trig_models_train(ds, &mp, cutoff, &m, &err) == UPF_OK, "%s", err.msg);
    ck_assert_int_eq(m->has_ba, 1);
    ck_assert_uint_gt(m->ba_n, 50);
    ck_assert(m->ba_sigma > 0.0 && isfinite(m->ba_sigma));
    /* the first scored pair: a probability, growing with the horizon */
    int32_t u = -1;
    for (size_t j = 0; j < ds->n_users && u < 0; j++)
        if (m->ba_ptr[j + 1] > m->ba_ptr[j]) u = (int32_t)j;
    ck_assert_int_ge(u, 0);
    int32_t i = m->ba_item[m->ba_ptr[u]];
    double p1 = upf_trig_rebuy_prob(m, u, i, cutoff, 1.0), p7 = upf_trig_rebuy_prob(m, u, i, cutoff + 5 * DAYS, 7.0);
    double p30 = upf_trig_rebuy_prob(m, u, i, cutoff + 5 * DAYS, 30.0);
    ck_assert(p1 >= 0.0 && p1 <= 1.0);
    ck_assert(p7 <= p30);
    /* an item the user has no pair for */
    int32_t other = -1;
    for (int32_t k = 0; k < (int32_t)ds->n_items && other < 0; k++) {
        int found = 0;
        for (int64_t j = m->ba_ptr[u]; j < m->ba_ptr[u + 1]; j++) found |= m->ba_item[j] == k;
        if (!found) other = k;
    }
    ck_assert(isnan(upf_trig_rebuy_prob(m, u, other, cutoff, 1.0)));
    upf_trig_models_free(m);
    upf_synth_truth_free(t);
    upf_dataset_free(ds);
}
END_TEST

/* The win-back AFT fitted on a generated shop: calibrated (its mean risk of
 * no purchase within 30 days, over the users lapsed 21 days or more, is
 * within 0.1 of the share that did not buy) and it ranks (the lapsed users
 * who did not buy have the higher mean risk). */
START_TEST(test_win_back_aft_fitted)
{
    upf_synth_params p = small_shop();
    upf_dataset *ds = NULL;
    upf_synth_truth *t = NULL;
    upf_err err;
    ck_assert_int_eq(upf_synth_generate(&p, &ds, &t, &err), UPF_OK);
    upf_trig_model_params mp = upf_trig_model_params_default();
    mp.use_ranker = 0, mp.use_bgnbd = 0;
    ck_assert_int_eq(mp.use_winback_aft, 1); /* the default */
    int64_t cutoff = t->t_start + 85 * DAYS;
    upf_trig_models *m = NULL;
    ck_assert_msg(upf_trig_models_train(ds, &mp, cutoff, &m, &err) == UPF_OK, "%s", err.msg);
    ck_assert_int_eq(m->has_wb, 1);
    ck_assert_int_eq(m->has_bgnbd, 0);
    ck_assert(m->wb_sigma > 0.0 && isfinite(m->wb_sigma));
    double sum_risk = 0.0, n = 0.0, none = 0.0, risk_none = 0.0, risk_bought = 0.0;
    for (size_t u = 0; u < ds->n_users; u++) {
        int64_t last = upf_trig_last_purchase(ds, (int32_t)u, cutoff);
        double risk = upf_trig_churn_risk(m, (int32_t)u, 30.0, cutoff);
        if (last == UPF_TIME_MISSING) {
            ck_assert(isnan(risk));
            continue;
        }
        ck_assert(risk >= 0.0 && risk <= 1.0);
        ck_assert(upf_trig_churn_risk(m, (int32_t)u, 30.0, cutoff + 7 * DAYS) <= 1.0);
        if (cutoff / DAYS - last / DAYS < 21) continue;
        int bought = 0;
        for (int64_t e = ds->user_ptr[u]; e < ds->user_ptr[u + 1]; e++)
            bought |= ds->ev_type[e] == UPF_EV_PURCHASE && ds->ev_time[e] >= cutoff && ds->ev_time[e] < cutoff + 30 * DAYS;
        sum_risk += risk, n += 1.0, none += !bought;
        if (bought) risk_bought += risk;
        else risk_none += risk;
    }
    if (getenv("UPF_TRIG_DEBUG"))
        fprintf(stderr, "win-back AFT: %g lapsed users, mean risk %.3f, no purchase %.3f; risk %.3f vs %.3f\n", n,
                sum_risk / n, none / n, risk_none / none, risk_bought / (n - none));
    ck_assert(n >= 50.0 && none > 0.0 && none < n);
    ck_assert_msg(fabs(sum_risk / n - none / n) < 0.1, "mean risk %.3f vs no purchase %.3f (%g users)", sum_risk / n,
                  none / n, n);
    ck_assert_msg(risk_none / none > risk_bought / (n - none), "risk %.3f (no purchase) vs %.3f (bought)",
                  risk_none / none, risk_bought / (n - none));
    upf_trig_models_free(m);
    upf_synth_truth_free(t);
    upf_dataset_free(ds);
}
END_TEST

/* Every allocation of the win-back AFT's training may fail, cleanly. */
START_TEST(test_alloc_failures_win_back_aft)
{
    upf_synth_params p = small_shop();
    p.n_users = 300, p.n_items = 100, p.n_days = 60, p.n_impressions = 0;
    upf_dataset *ds = NULL;
    upf_synth_truth *t = NULL;
    upf_err err;
    ck_assert_int_eq(upf_synth_generate(&p, &ds, &t, &err), UPF_OK);
    upf_trig_model_params mp = upf_trig_model_params_default();
    mp.use_ranker = 0, mp.use_bgnbd = 0, mp.use_uplift = 0;
    int64_t cutoff = t->t_start + 55 * DAYS;
    int done = 0;
    for (long nth = 1; nth < 5000 && !done; nth++) {
        upf_trig_models *m = NULL;
        upf_alloc_fail_after(nth);
        upf_status s = upf_trig_models_train(ds, &mp, cutoff, &m, &err);
        upf_alloc_fail_after(0);
        ck_assert_msg(s == UPF_OK || s == UPF_ERR_NOMEM, "allocation %ld: %s", nth, err.msg);
        if (s == UPF_OK) {
            ck_assert_int_eq(m->has_wb, 1); /* the path under test ran to the end */
            done = 1;
        } else {
            ck_assert_ptr_null(m);
        }
        upf_trig_models_free(m);
    }
    ck_assert(done);
    upf_synth_truth_free(t);
    upf_dataset_free(ds);
}
END_TEST

/* Regression: a sampled softmax whose candidate budget (negatives + batch
 * positives) reaches the catalogue used to draw from an unbuilt sampler. */
START_TEST(test_sampled_softmax_ranker)
{
    upf_synth_params p = small_shop();
    p.n_users = 300;
    upf_dataset *ds = NULL;
    upf_err err;
    ck_assert_int_eq(upf_synth_generate(&p, &ds, NULL, &err), UPF_OK);
    upf_trig_model_params mp = upf_trig_model_params_default();
    mp.use_bgnbd = 0, mp.ranker_epochs = 2, mp.ranker_negatives = 64;
    upf_trig_models *m = NULL;
    ck_assert_msg(upf_trig_models_train(ds, &mp, ds->ev_time[0] + 60 * DAYS, &m, &err) == UPF_OK, "%s", err.msg);
    ck_assert_ptr_nonnull(m->ranker);
    float v[32];
    upf_trig_user_vec(m, 0, v);
    ck_assert(isfinite(upf_trig_score_vec(m, v, 0)));
    upf_trig_models_free(m);
    upf_dataset_free(ds);
}
END_TEST

/* ---- no peeking: a plan on the full history equals the plan on the history cut at the day ---- */

/* A copy of ds keeping only events, item events and messages before cutoff
 * (the rest shared read-only: ids, attributes, fields; never freed here). */
static upf_dataset *cut(const upf_dataset *ds, int64_t cutoff)
{
    upf_dataset *c = upf_malloc(sizeof *c);
    *c = *ds;
    int64_t n = 0;
    for (int64_t e = 0; e < ds->n_events; e++) n += ds->ev_time[e] < cutoff;
    c->n_events = n;
    c->ev_user = upf_malloc((size_t)(n + 1) * sizeof *c->ev_user);
    c->ev_item = upf_malloc((size_t)(n + 1) * sizeof *c->ev_item);
    c->ev_time = upf_malloc((size_t)(n + 1) * sizeof *c->ev_time);
    c->ev_type = upf_malloc((size_t)(n + 1));
    c->ev_value = upf_malloc((size_t)(n + 1) * sizeof *c->ev_value);
    c->ev_query = ds->ev_query ? upf_malloc((size_t)(n + 1) * sizeof *c->ev_query) : NULL;
    c->user_ptr = upf_malloc((ds->n_users + 1) * sizeof *c->user_ptr);
    int64_t k = 0;
    for (size_t u = 0; u < ds->n_users; u++) {
        c->user_ptr[u] = k;
        for (int64_t e = ds->user_ptr[u]; e < ds->user_ptr[u + 1]; e++) {
            if (ds->ev_time[e] >= cutoff) continue;
            c->ev_user[k] = ds->ev_user[e], c->ev_item[k] = ds->ev_item[e], c->ev_time[k] = ds->ev_time[e];
            c->ev_type[k] = ds->ev_type[e], c->ev_value[k] = ds->ev_value[e];
            if (c->ev_query) c->ev_query[k] = ds->ev_query[e];
            k++;
        }
    }
    c->user_ptr[ds->n_users] = k;
    const upf_item_events *ie = &ds->item_events;
    size_t m = 0;
    for (size_t j = 0; j < ie->n; j++) m += ie->time[j] < cutoff;
    c->item_events.n = m;
    c->item_events.item = upf_malloc((m + 1) * sizeof(int32_t));
    c->item_events.time = upf_malloc((m + 1) * sizeof(int64_t));
    c->item_events.kind = upf_malloc(m + 1);
    c->item_events.value = upf_malloc((m + 1) * sizeof(float));
    m = 0;
    for (size_t j = 0; j < ie->n; j++)
        if (ie->time[j] < cutoff) {
            c->item_events.item[m] = ie->item[j], c->item_events.time[m] = ie->time[j];
            c->item_events.kind[m] = ie->kind[j], c->item_events.value[m++] = ie->value[j];
        }
    c->messages.n = 0; /* the generated shop has none */
    return c;
}

static void cut_free(upf_dataset *c)
{
    upf_free(c->ev_user), upf_free(c->ev_item), upf_free(c->ev_time), upf_free(c->ev_type), upf_free(c->ev_value);
    upf_free(c->ev_query), upf_free(c->user_ptr);
    upf_free(c->item_events.item), upf_free(c->item_events.time), upf_free(c->item_events.kind);
    upf_free(c->item_events.value);
    upf_free(c);
}

static void plan_once(const upf_dataset *ds, upf_trig_mode mode, int64_t day, upf_trig_msgs *out, upf_trig_stats *stats)
{
    upf_trig_rules r = upf_trig_rules_default();
    upf_trig_model_params mp = upf_trig_model_params_default();
    mp.ranker_epochs = 3;
    upf_trig_planner *pl = NULL;
    upf_trig_models *m = NULL;
    upf_trig_state st;
    upf_err err;
    ck_assert_int_eq(upf_trig_planner_create(ds, &r, &pl, &err), UPF_OK);
    if (mode == UPF_TRIG_MODE_MODEL) ck_assert_msg(upf_trig_models_train(ds, &mp, day, &m, &err) == UPF_OK, "%s", err.msg);
    ck_assert_int_eq(upf_trig_state_create(ds->n_users, &st, &err), UPF_OK);
    memset(stats, 0, sizeof *stats);
    ck_assert_int_eq(upf_trig_plan_day(pl, mode, m, day, &st, 5, out, stats, &err), UPF_OK);
    upf_trig_state_free(&st);
    upf_trig_models_free(m);
    upf_trig_planner_free(pl);
}

START_TEST(test_no_peeking)
{
    upf_synth_params p = small_shop();
    p.n_users = 400;
    upf_dataset *ds = NULL;
    upf_err err;
    ck_assert_int_eq(upf_synth_generate(&p, &ds, NULL, &err), UPF_OK);
    int64_t day = ds->ev_time[0] - ds->ev_time[0] % DAYS; /* any day start inside the range */
    for (int64_t e = 0; e < ds->n_events; e++)
        if (ds->ev_time[e] > day) day = ds->ev_time[e];
    day = day - day % DAYS - 30 * DAYS; /* 30 days before the last event's day */
    upf_dataset *c = cut(ds, day);
    ck_assert_int_lt(c->n_events, ds->n_events);
    for (int mode = UPF_TRIG_MODE_MODEL; mode <= UPF_TRIG_MODE_RANDOM; mode++) {
        upf_trig_msgs a = { 0 }, b = { 0 };
        upf_trig_stats sa, sb;
        plan_once(ds, (upf_trig_mode)mode, day, &a, &sa);
        plan_once(c, (upf_trig_mode)mode, day, &b, &sb);
        ck_assert_uint_gt(a.n, 10);
        ck_assert_uint_eq(a.n, b.n);
        for (size_t j = 0; j < a.n; j++) {
            ck_assert_int_eq(a.v[j].user, b.v[j].user);
            ck_assert_int_eq(a.v[j].trigger, b.v[j].trigger);
            ck_assert_int_eq(a.v[j].n_items, b.v[j].n_items);
            ck_assert_int_eq(memcmp(a.v[j].items, b.v[j].items, sizeof a.v[j].items), 0);
            ck_assert_msg(a.v[j].score == b.v[j].score, "mode %d message %zu", mode, j);
        }
        ck_assert_int_eq(memcmp(sa.audience, sb.audience, sizeof sa.audience), 0);
        upf_trig_msgs_free(&a), upf_trig_msgs_free(&b);
    }
    cut_free(c);
    upf_dataset_free(ds);
}
END_TEST

START_TEST(test_model_plan_beats_rules)
{
    upf_synth_params p = small_shop();
    upf_dataset *ds = NULL;
    upf_synth_truth *t = NULL;
    upf_err err;
    ck_assert_int_eq(upf_synth_generate(&p, &ds, &t, &err), UPF_OK);
    upf_trig_settings s;
    memset(&s, 0, sizeof s);
    s.rules = upf_trig_rules_default();
    s.models = upf_trig_model_params_default();
    s.models.ranker_epochs = 10;
    s.models.retrain_days = 14;
    s.attribution_days = 7;
    s.random_baseline = 1;
    s.response_seed = 1;
    upf_trig_bt bt;
    int64_t from = t->t_start + 90 * DAYS, to = from + 13 * DAYS;
    ck_assert_msg(upf_trig_backtest(ds, t, &s, from, to, &bt, &err) == UPF_OK, "%s", err.msg);
    ck_assert(bt.plan[0].has_truth);
    if (getenv("UPF_TRIG_DEBUG")) upf_trig_bt_print(stderr, &bt, "test");
    int64_t sent_model = 0, sent_rules = 0;
    for (int k = 0; k < UPF_TRIG_COUNT; k++) sent_model += bt.plan[0].stats.sent[k], sent_rules += bt.plan[1].stats.sent[k];
    ck_assert_int_gt(sent_model, 100);
    ck_assert_int_gt(sent_rules, 100);
    ck_assert_msg(bt.plan[0].true_total > bt.plan[1].true_total, "model %.2f vs rules %.2f", bt.plan[0].true_total,
                  bt.plan[1].true_total);
    ck_assert_msg(bt.plan[0].true_total > bt.plan[2].true_total, "model %.2f vs random %.2f", bt.plan[0].true_total,
                  bt.plan[2].true_total);
    /* every trigger has data in the generated shop */
    for (int k = 0; k < UPF_TRIG_COUNT; k++) ck_assert_msg(bt.missing[k] == NULL, "%s", upf_trigger_name(k));
    upf_synth_truth_free(t);
    upf_dataset_free(ds);
}
END_TEST

/* ---- plan files ---- */

START_TEST(test_plan_files)
{
    upf_dataset *ds = build(fill_cart);
    upf_trig_msg m[2];
    memset(m, 0, sizeof m);
    m[0].user = 0, m[0].day = D0, m[0].trigger = UPF_TRIG_CART_ABANDON, m[0].n_items = 1, m[0].items[0] = 0;
    m[0].anchor = D0 - DAYS, m[0].score = 1.0f;
    m[1] = m[0];
    m[1].user = 1, m[1].trigger = UPF_TRIG_WIN_BACK, m[1].source = UPF_TRIG_SRC_LIFETIME, m[1].n_items = 2, m[1].items[1] = 2;
    char *dir = upf_test_tmpdir();
    char jp[512], hp[512];
    snprintf(jp, sizeof jp, "%s/p.jsonl", dir);
    snprintf(hp, sizeof hp, "%s/p.h5", dir);
    upf_err err;
    ck_assert_int_eq(upf_trig_plan_write(ds, m, 2, jp, hp, &err), UPF_OK);
    FILE *f = fopen(jp, "r");
    ck_assert_ptr_nonnull(f);
    char line[2048];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_ptr_nonnull(strstr(line, "\"user\":\"ann\""));
    ck_assert_ptr_nonnull(strstr(line, "\"day\":\"2024-03-10\""));
    ck_assert_ptr_nonnull(strstr(line, "\"trigger\":\"cart_abandon\""));
    ck_assert_ptr_nonnull(strstr(line, "\"items\":[\"A\"]"));
    ck_assert_ptr_nonnull(strstr(line, "carted, not bought since 2024-03-09T00:00:00Z"));
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_ptr_nonnull(strstr(line, "\"source\":\"lifetime\""));
    ck_assert_ptr_null(fgets(line, sizeof line, f));
    fclose(f);
    FILE *h = fopen(hp, "rb");
    ck_assert_ptr_nonnull(h);
    unsigned char sig[8];
    ck_assert_uint_eq(fread(sig, 1, 8, h), 8);
    ck_assert_int_eq(memcmp(sig, "\x89HDF\r\n\x1a\n", 8), 0);
    fclose(h);
    /* a failed write leaves nothing behind */
    char bad[600];
    snprintf(bad, sizeof bad, "%s/no/such/dir/p.jsonl", dir);
    ck_assert_int_ne(upf_trig_plan_write(ds, m, 2, bad, NULL, &err), UPF_OK);
    upf_test_rmdir(dir);
    upf_dataset_free(ds);
}
END_TEST

/* ---- the command ---- */

static int run(const char *args)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s triggers %s >/dev/null 2>&1", upf_test_bin(), args);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

START_TEST(test_cli_usage)
{
    ck_assert_int_eq(run("--help"), 0);
    ck_assert_int_eq(run("plan --help"), 0);
    ck_assert_int_eq(run("backtest --help"), 0);
    ck_assert_int_eq(run(""), 2);
    ck_assert_int_eq(run("frobnicate"), 2);
    ck_assert_int_eq(run("plan configs/synth_triggers.yaml --day 2024-02-30 -o /tmp/x"), 2);
    ck_assert_int_eq(run("plan configs/synth_triggers.yaml -o /tmp/x"), 2);
    ck_assert_int_eq(run("backtest configs/synth_triggers.yaml --from 2024-03-05 --to 2024-03-01"), 2);
    ck_assert_int_eq(run("backtest configs/quickstart.yaml --from 2024-03-01 --to 2024-03-02"), 2);
    ck_assert_int_eq(run("backtest configs/synth_triggers.yaml --set model.window_days.nosuch=3"), 2);
}
END_TEST

Suite *triggers_suite(void)
{
    Suite *s = suite_create("triggers");
    TCase *tc = tcase_create("eligibility");
    tcase_add_test(tc, test_cart_abandon);
    tcase_add_test(tc, test_expiry_day);
    tcase_add_test(tc, test_browse_search);
    tcase_add_test(tc, test_follow_up_buy_again_win_back);
    tcase_add_test(tc, test_birthday_anniversary);
    tcase_add_test(tc, test_item_state);
    tcase_add_test(tc, test_quiet_budget_repeat);
    tcase_add_test(tc, test_missing_data);
    tcase_add_test(tc, test_plan_files);
    tcase_add_test(tc, test_uplift_by_trigger);
    tcase_add_test(tc, test_churn_risk_golden);
    tcase_add_test(tc, test_churn_risk_aft_golden);
    tcase_add_test(tc, test_bgnbd_summary_days);
    tcase_add_test(tc, test_win_back_threshold);
    tcase_add_test(tc, test_win_back_aft_fitted);
    tcase_add_test(tc, test_alloc_failures_win_back_aft);
    tcase_add_test(tc, test_alloc_failures);
    suite_add_tcase(s, tc);
    TCase *tg = tcase_create("generated");
    tcase_set_timeout(tg, 120);
    tcase_add_test(tg, test_response_fatigue_and_sign);
    tcase_add_test(tg, test_model_plan_beats_rules);
    tcase_add_test(tg, test_buy_again_aft);
    tcase_add_test(tg, test_sampled_softmax_ranker);
    tcase_add_test(tg, test_no_peeking);
    tcase_add_test(tg, test_cli_usage);
    suite_add_tcase(s, tg);
    return s;
}
