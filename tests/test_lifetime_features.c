/* test_lifetime_features.c - features at a cutoff on crafted data: values by
 * hand, no leakage (events at and after the cutoff change nothing), labels,
 * buy-again pairs, bad input and allocation failures.
 * The datasets are filled by hand (struct fields), independent of the
 * builder, and freed by free_ds. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../train/lifetime_features.h"
#include "testutil.h"

#define DAY 86400
#define T0 1262304000 /* 2010-01-01T00:00:00Z */

typedef struct ev {
    int32_t user, item;
    double day; /* days after T0 */
    int type;
    float value;
} ev;

static void set_strings(upf_strings *s, const char *const *v, size_t n)
{
    s->n = n;
    s->off = calloc(n + 1, sizeof *s->off);
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += strlen(v[i]) + 1;
    s->data = malloc(total ? total : 1);
    for (size_t i = 0; i < n; i++) {
        strcpy(s->data + s->off[i], v[i]);
        s->off[i + 1] = s->off[i] + (int64_t)strlen(v[i]) + 1;
    }
}

/* events must be sorted by (user, time) */
static upf_dataset *make_ds(const ev *e, size_t n, size_t n_users)
{
    upf_dataset *ds = calloc(1, sizeof *ds);
    ds->n_users = n_users;
    ds->n_items = 4;
    ds->n_events = (int64_t)n;
    ds->ev_user = calloc(n + 1, sizeof *ds->ev_user);
    ds->ev_item = calloc(n + 1, sizeof *ds->ev_item);
    ds->ev_time = calloc(n + 1, sizeof *ds->ev_time);
    ds->ev_type = calloc(n + 1, 1);
    ds->ev_value = calloc(n + 1, sizeof *ds->ev_value);
    ds->user_ptr = calloc(n_users + 1, sizeof *ds->user_ptr);
    for (size_t i = 0; i < n; i++) {
        ds->ev_user[i] = e[i].user;
        ds->ev_item[i] = e[i].item;
        ds->ev_time[i] = T0 + (int64_t)llround(e[i].day * DAY);
        ds->ev_type[i] = (uint8_t)e[i].type;
        ds->ev_value[i] = e[i].value;
        ds->user_ptr[e[i].user + 1]++;
    }
    for (size_t u = 0; u < n_users; u++) ds->user_ptr[u + 1] += ds->user_ptr[u];
    /* items: 0 and 2 are category=a, 1 is category=b, 2 also has token=x, 3 has none */
    static const char *const inames[3] = {"category=a", "category=b", "token=x"};
    set_strings(&ds->item_attrs.names, inames, 3);
    ds->item_attrs.n_rows = 4;
    ds->item_attrs.ptr = calloc(5, sizeof *ds->item_attrs.ptr);
    static const int64_t iptr[5] = {0, 1, 2, 4, 4};
    static const int32_t iidx[4] = {0, 1, 0, 2};
    memcpy(ds->item_attrs.ptr, iptr, sizeof iptr);
    ds->item_attrs.index = malloc(sizeof iidx);
    memcpy(ds->item_attrs.index, iidx, sizeof iidx);
    ds->item_attrs.value = malloc(4 * sizeof(float));
    for (int k = 0; k < 4; k++) ds->item_attrs.value[k] = 1.0f;
    /* users: user 0 gender=f and age 31; user 1 gender=m */
    static const char *const unames[3] = {"gender=f", "gender=m", "age"};
    set_strings(&ds->user_attrs.names, unames, 3);
    ds->user_attrs.n_rows = n_users;
    ds->user_attrs.ptr = calloc(n_users + 1, sizeof *ds->user_attrs.ptr);
    ds->user_attrs.index = malloc(3 * sizeof(int32_t));
    ds->user_attrs.value = malloc(3 * sizeof(float));
    ds->user_attrs.index[0] = 0;
    ds->user_attrs.value[0] = 1.0f;
    ds->user_attrs.index[1] = 2;
    ds->user_attrs.value[1] = 31.0f;
    ds->user_attrs.index[2] = 1;
    ds->user_attrs.value[2] = 1.0f;
    for (size_t u = 0; u < n_users; u++) ds->user_attrs.ptr[u + 1] = u == 0 ? 2 : u == 1 ? 3 : 3;
    return ds;
}

static void free_ds(upf_dataset *ds)
{
    free(ds->ev_user);
    free(ds->ev_item);
    free(ds->ev_time);
    free(ds->ev_type);
    free(ds->ev_value);
    free(ds->user_ptr);
    free(ds->item_attrs.names.off);
    free(ds->item_attrs.names.data);
    free(ds->item_attrs.ptr);
    free(ds->item_attrs.index);
    free(ds->item_attrs.value);
    free(ds->user_attrs.names.off);
    free(ds->user_attrs.names.data);
    free(ds->user_attrs.ptr);
    free(ds->user_attrs.index);
    free(ds->user_attrs.value);
    free(ds);
}

/* Before the cutoff (day 12): user 0 buys on days 0, 3 (two lines), 10 and
 * views on days 11, 11.5; user 1 only views; user 2 buys item 3 once (day 5). */
static const ev BEFORE[] = {
    {0, 0, 0.0, UPF_EV_PURCHASE, 10.0f}, {0, 1, 3.0, UPF_EV_PURCHASE, 20.0f}, {0, 0, 3.2, UPF_EV_PURCHASE, 5.0f},
    {0, 2, 10.0, UPF_EV_PURCHASE, 30.0f}, {0, 3, 11.0, UPF_EV_VIEW, 0.0f},   {0, 1, 11.5, UPF_EV_VIEW, 0.0f},
    {1, 2, 4.0, UPF_EV_VIEW, 0.0f},       {2, 3, 5.0, UPF_EV_PURCHASE, 8.0f},
};
#define CUTOFF_DAY 12.0

static int has_col(const upf_lt_features *f, const char *name)
{
    for (size_t j = 0; j < f->n_cols; j++)
        if (strcmp(f->names[j], name) == 0) return 1;
    return 0;
}

static size_t col(const upf_lt_features *f, const char *name)
{
    for (size_t j = 0; j < f->n_cols; j++)
        if (strcmp(f->names[j], name) == 0) return j;
    ck_abort_msg("no column %s", name);
    return 0;
}

static upf_lt_feature_params params(void)
{
    upf_lt_feature_params p = upf_lt_feature_params_default();
    p.cutoff = T0 + (int64_t)(CUTOFF_DAY * DAY);
    p.n_windows = 2;
    p.windows_days[0] = 7;
    p.windows_days[1] = 30;
    p.trend_days = 5;
    return p;
}

START_TEST(test_user_features_by_hand)
{
    upf_dataset *ds = make_ds(BEFORE, sizeof BEFORE / sizeof BEFORE[0], 3);
    upf_lt_feature_params p = params();
    upf_lt_features f;
    upf_err e;
    ck_assert_int_eq(upf_lt_features_build(ds, &p, &f, &e), UPF_OK);
    /* purchasers only: users 0 and 2 */
    ck_assert_uint_eq(f.n_rows, 2);
    ck_assert_int_eq(f.user[0], 0);
    ck_assert_int_eq(f.user[1], 2);
    const float *x = f.X;
    /* purchase days 0, 3, 10: intervals 3 and 7 (mean 5, sd 2, last 7); recency 2 */
    ck_assert_double_eq_tol((double)x[col(&f, "log_recency")], log1p(2.0), 1e-6);
    ck_assert_double_eq_tol((double)x[col(&f, "log_frequency")], log1p(3.0), 1e-6);
    ck_assert_double_eq_tol((double)x[col(&f, "log_monetary")], log1p(65.0 / 3.0), 1e-6);
    ck_assert_double_eq_tol((double)x[col(&f, "log_tenure")], log1p(12.0), 1e-6);
    ck_assert_double_eq_tol((double)x[col(&f, "ipi_mean")], log1p(5.0), 1e-6);
    ck_assert_double_eq_tol((double)x[col(&f, "ipi_sd")], log1p(2.0), 1e-6);
    ck_assert_double_eq_tol((double)x[col(&f, "ipi_last")], log1p(7.0), 1e-6);
    ck_assert_double_eq((double)x[col(&f, "has_interval")], 1.0);
    /* views in the last 7 days: 2; purchases: day 10 only (7 days), all 4 lines (30 days) */
    ck_assert_double_eq_tol((double)x[col(&f, "n_view_7d")], log1p(2.0), 1e-6);
    ck_assert_double_eq_tol((double)x[col(&f, "n_purchase_7d")], log1p(1.0), 1e-6);
    ck_assert_double_eq_tol((double)x[col(&f, "n_purchase_30d")], log1p(4.0), 1e-6);
    /* trend over 5 days: [7, 12) has 3 events, [2, 7) has 2 */
    ck_assert_double_eq_tol((double)x[col(&f, "trend")], 0.2, 1e-6);
    /* purchased items' categories a, b, a, a (token=x is another field) */
    ck_assert_double_eq_tol((double)x[col(&f, "category_entropy")], -(0.75 * log(0.75) + 0.25 * log(0.25)), 1e-6);
    /* user attributes: age 31 as a number; gender is reference-coded: f and m
     * are equally common, f has the lower index, so f is the reference */
    ck_assert_double_eq((double)x[col(&f, "user_age")], 31.0);
    ck_assert_double_eq((double)x[col(&f, "user_gender=m")], 0.0);
    ck_assert(!has_col(&f, "user_gender=f"));
    ck_assert_double_eq_tol(f.elapsed[0], 2.0, 1e-9);
    ck_assert_double_eq_tol(f.recency[0], 2.0, 1e-12);
    /* user 2: one purchase day, no interval, no views column entries */
    const float *y = f.X + f.n_cols;
    ck_assert_double_eq((double)y[col(&f, "has_interval")], 0.0);
    ck_assert_double_eq_tol((double)y[col(&f, "log_recency")], log1p(7.0), 1e-6);
    upf_lt_features_free(&f);
    /* all users: user 1 joins with no purchase (recency = tenure 8 days) */
    p.all_users = 1;
    ck_assert_int_eq(upf_lt_features_build(ds, &p, &f, &e), UPF_OK);
    ck_assert_uint_eq(f.n_rows, 3);
    ck_assert_double_eq_tol((double)f.X[f.n_cols + col(&f, "log_recency")], log1p(8.0), 1e-6);
    ck_assert_double_eq(f.recency[1], -1.0);
    upf_lt_features_free(&f);
    free_ds(ds);
}
END_TEST

START_TEST(test_no_leakage)
{
    /* the same history plus events at the cutoff instant and after it,
     * including a new event type (search), new purchases, a user who only
     * appears after the cutoff */
    ev all[32];
    size_t n = 0;
    static const ev extra[] = {
        {0, 1, CUTOFF_DAY, UPF_EV_PURCHASE, 99.0f}, {0, 0, 13.0, UPF_EV_SEARCH, 0.0f},
        {0, 3, 20.0, UPF_EV_PURCHASE, 50.0f},       {1, 1, CUTOFF_DAY, UPF_EV_CART, 1.0f},
        {1, 1, 15.0, UPF_EV_PURCHASE, 7.0f},        {2, 0, 12.5, UPF_EV_VIEW, 0.0f},
        {3, 2, 14.0, UPF_EV_PURCHASE, 5.0f},
    };
    /* merge, keeping (user, time) order */
    size_t a = 0, b = 0, na = sizeof BEFORE / sizeof BEFORE[0], nb = sizeof extra / sizeof extra[0];
    while (a < na || b < nb) {
        int take_a = b == nb || (a < na && (BEFORE[a].user < extra[b].user ||
                                            (BEFORE[a].user == extra[b].user && BEFORE[a].day <= extra[b].day)));
        all[n++] = take_a ? BEFORE[a++] : extra[b++];
    }
    upf_dataset *d1 = make_ds(BEFORE, na, 4), *d2 = make_ds(all, n, 4);
    upf_lt_feature_params p = params();
    for (int all_users = 0; all_users < 2; all_users++) {
        p.all_users = all_users;
        upf_lt_features f1, f2;
        upf_err e;
        ck_assert_int_eq(upf_lt_features_build(d1, &p, &f1, &e), UPF_OK);
        ck_assert_int_eq(upf_lt_features_build(d2, &p, &f2, &e), UPF_OK);
        ck_assert_uint_eq(f1.n_rows, f2.n_rows);
        ck_assert_uint_eq(f1.n_cols, f2.n_cols);
        for (size_t j = 0; j < f1.n_cols; j++) ck_assert_str_eq(f1.names[j], f2.names[j]);
        ck_assert_mem_eq(f1.user, f2.user, f1.n_rows * sizeof *f1.user);
        ck_assert_mem_eq(f1.X, f2.X, f1.n_rows * f1.n_cols * sizeof *f1.X);
        ck_assert_mem_eq(f1.recency, f2.recency, f1.n_rows * sizeof *f1.recency);
        upf_lt_features_free(&f1);
        upf_lt_features_free(&f2);
    }
    /* buy-again pairs: likewise */
    upf_ba_params bp = upf_ba_params_default();
    bp.cutoff = p.cutoff;
    bp.min_buyers = 1;
    bp.min_repeat_share = 0.0;
    upf_lt_features g1, g2;
    upf_err e;
    ck_assert_int_eq(upf_ba_pairs_build(d1, &bp, &g1, &e), UPF_OK);
    ck_assert_int_eq(upf_ba_pairs_build(d2, &bp, &g2, &e), UPF_OK);
    ck_assert_uint_eq(g1.n_rows, g2.n_rows);
    ck_assert_mem_eq(g1.X, g2.X, g1.n_rows * g1.n_cols * sizeof *g1.X);
    ck_assert_mem_eq(g1.item, g2.item, g1.n_rows * sizeof *g1.item);
    upf_lt_features_free(&g1);
    upf_lt_features_free(&g2);

    /* and the labels see exactly the future: user 0 buys at the cutoff instant
     * (day 0 after it: 0.5), user 2 never within 30 days (censored) */
    int32_t users[3] = {0, 1, 2};
    double t[3], np[3];
    uint8_t evt[3];
    upf_lt_labels(d2, users, NULL, 3, p.cutoff, 30.0, t, evt, np);
    ck_assert_double_eq(t[0], 0.5);
    ck_assert_int_eq(evt[0], 1);
    ck_assert_double_eq(np[0], 2.0); /* days 12 and 20 */
    ck_assert_double_eq(t[1], 3.5);
    ck_assert_int_eq(evt[1], 1);
    ck_assert_double_eq(t[2], 30.0);
    ck_assert_int_eq(evt[2], 0);
    /* a window too short to see day 20 and the item-specific label */
    int32_t items[1] = {3};
    upf_lt_labels(d2, users, items, 1, p.cutoff, 5.0, t, evt, NULL);
    ck_assert_double_eq(t[0], 5.0);
    ck_assert_int_eq(evt[0], 0);
    upf_lt_labels(d2, users, items, 1, p.cutoff, 30.0, t, evt, NULL);
    ck_assert_double_eq(t[0], 8.5);
    free_ds(d1);
    free_ds(d2);
}
END_TEST

START_TEST(test_buy_again_pairs)
{
    /* user 0 bought item 0 on days 0 and 3, items 1 and 2 once; user 2 item 3 once */
    upf_dataset *ds = make_ds(BEFORE, sizeof BEFORE / sizeof BEFORE[0], 3);
    upf_ba_params bp = upf_ba_params_default();
    bp.cutoff = T0 + 12 * DAY;
    bp.min_buyers = 1;
    bp.min_repeat_share = 0.5; /* only item 0 (1 of 1 buyers repeats) */
    upf_lt_features f;
    upf_err e;
    ck_assert_int_eq(upf_ba_pairs_build(ds, &bp, &f, &e), UPF_OK);
    ck_assert_uint_eq(f.n_rows, 1);
    ck_assert_int_eq(f.user[0], 0);
    ck_assert_int_eq(f.item[0], 0);
    const float *x = f.X;
    ck_assert_double_eq_tol((double)x[col(&f, "log_count")], log1p(2.0), 1e-6);
    ck_assert_double_eq_tol((double)x[col(&f, "log_since")], log1p(9.0), 1e-6);
    ck_assert_double_eq_tol((double)x[col(&f, "own_ipi")], log1p(3.0), 1e-6);
    ck_assert_double_eq_tol((double)x[col(&f, "item_ipi")], log1p(3.0), 1e-6);
    ck_assert_double_eq_tol((double)x[col(&f, "item_repeat")], 1.0, 1e-6);
    ck_assert_double_eq_tol((double)x[col(&f, "user_frequency")], log1p(3.0), 1e-6);
    ck_assert_double_eq_tol((double)x[col(&f, "user_items")], log1p(3.0), 1e-6);
    ck_assert_double_eq_tol(f.recency[0], 9.0, 1e-12);
    upf_lt_features_free(&f);
    /* nothing repeatable */
    bp.min_buyers = 5;
    ck_assert_int_eq(upf_ba_pairs_build(ds, &bp, &f, &e), UPF_ERR_DATA);
    ck_assert_ptr_null(f.X);
    free_ds(ds);
}
END_TEST

START_TEST(test_gap_rows)
{
    /* user 0: purchase times 0, 3, 3.2, 10 (days): gaps 3, 0.2, 6.8; user 2 one purchase */
    upf_dataset *ds = make_ds(BEFORE, sizeof BEFORE / sizeof BEFORE[0], 3);
    upf_lt_feature_params p = params();
    upf_lt_features f;
    upf_err e;
    ck_assert_int_eq(upf_lt_gaps_build(ds, &p, 0.0, &f, &e), UPF_OK);
    ck_assert_uint_eq(f.n_rows, 3);
    double want[3] = {3.0, 0.2, 6.8}, bound[3] = {12.0, 9.0, 8.8}; /* bound: from each gap's start to the cutoff */
    upf_ck_arrays_close(f.label, want, 3, 1e-9, 0);
    upf_ck_arrays_close(f.label_bound, bound, 3, 1e-9, 0);
    ck_assert_int_eq(f.user[2], 0);
    /* columns are the attributes only: gender=m and age */
    ck_assert_uint_eq(f.n_cols, 2);
    ck_assert_double_eq((double)f.X[col(&f, "user_age")], 31.0);
    upf_lt_features_free(&f);
    /* a margin of 9 days keeps the gaps starting before day 3: only 0 -> 3 */
    ck_assert_int_eq(upf_lt_gaps_build(ds, &p, 9.0, &f, &e), UPF_OK);
    ck_assert_uint_eq(f.n_rows, 1);
    ck_assert_double_eq_tol(f.label[0], 3.0, 1e-9);
    upf_lt_features_free(&f);
    ck_assert_int_eq(upf_lt_gaps_build(ds, &p, 20.0, &f, &e), UPF_ERR_DATA);
    ck_assert_int_eq(upf_lt_gaps_build(ds, &p, -1.0, &f, &e), UPF_ERR_ARG);
    free_ds(ds);
}
END_TEST

START_TEST(test_heldout_gaps)
{
    /* cutoff day 12; test gaps start in [12, 17) (span 5), followed to day 32
     * (window 20), horizon 10. By hand:
     *   user 0: last purchase before the cutoff day 10; buys day 14 (two lines,
     *     one timestamp), 16 and 30: gap 14 -> 16 = 2 days, event; within
     *     (14, 24]: day 16 only = 1; previous gap 10 -> 14 = 4
     *   user 1: first purchase day 13, none after: censored at 32 - 13 = 19; no previous gap
     *   user 2: bought day 5; buys at the cutoff instant (day 12) and day 37,
     *     past the window: censored at 20; previous gap 7
     *   user 3: buys day 20 only, after the span: no row */
    static const ev E[] = {
        {0, 0, 0.0, UPF_EV_PURCHASE, 10.0f},  {0, 1, 3.0, UPF_EV_PURCHASE, 20.0f},
        {0, 2, 10.0, UPF_EV_PURCHASE, 30.0f}, {0, 1, 14.0, UPF_EV_PURCHASE, 1.0f},
        {0, 2, 14.0, UPF_EV_PURCHASE, 1.0f},  {0, 3, 15.0, UPF_EV_VIEW, 0.0f},
        {0, 0, 16.0, UPF_EV_PURCHASE, 1.0f},  {0, 0, 30.0, UPF_EV_PURCHASE, 1.0f},
        {1, 2, 4.0, UPF_EV_VIEW, 0.0f},       {1, 2, 13.0, UPF_EV_PURCHASE, 2.0f},
        {1, 1, 15.0, UPF_EV_VIEW, 0.0f},      {2, 3, 5.0, UPF_EV_PURCHASE, 8.0f},
        {2, 3, 12.0, UPF_EV_PURCHASE, 8.0f},  {2, 3, 37.0, UPF_EV_PURCHASE, 8.0f},
        {3, 1, 20.0, UPF_EV_PURCHASE, 3.0f},
    };
    upf_dataset *ds = make_ds(E, sizeof E / sizeof E[0], 4);
    upf_lt_feature_params p = params();
    upf_lt_features f, g;
    upf_err e;
    ck_assert_int_eq(upf_lt_gaps_heldout(ds, &p, 5.0, 20.0, 10.0, &f, &e), UPF_OK);
    ck_assert_uint_eq(f.n_rows, 3);
    const int32_t want_user[3] = {0, 1, 2};
    const double want_label[3] = {2.0, 19.0, 20.0}, want_within[3] = {1.0, 0.0, 0.0}, want_rec[3] = {4.0, -1.0, 7.0};
    const uint8_t want_event[3] = {1, 0, 0};
    ck_assert_mem_eq(f.user, want_user, sizeof want_user);
    ck_assert_mem_eq(f.event, want_event, sizeof want_event);
    upf_ck_arrays_close(f.label, want_label, 3, 1e-9, 0);
    upf_ck_arrays_close(f.n_within, want_within, 3, 0.0, 0);
    upf_ck_arrays_close(f.recency, want_rec, 3, 1e-9, 0);
    /* the columns and their layout are those of the training gaps */
    ck_assert_int_eq(upf_lt_gaps_build(ds, &p, 0.0, &g, &e), UPF_OK);
    ck_assert_uint_eq(f.n_cols, g.n_cols);
    for (size_t j = 0; j < f.n_cols; j++) ck_assert_str_eq(f.names[j], g.names[j]);
    ck_assert_double_eq((double)f.X[col(&f, "user_age")], 31.0);
    ck_assert_double_eq((double)f.X[f.n_cols + col(&f, "user_gender=m")], 1.0);
    ck_assert_double_eq((double)f.X[2 * f.n_cols + col(&f, "user_gender=m")], 0.0);
    upf_lt_features_free(&g);
    upf_lt_features_free(&f);
    /* bad spans, and a span nobody buys in */
    ck_assert_int_eq(upf_lt_gaps_heldout(ds, &p, 0.0, 20.0, 10.0, &f, &e), UPF_ERR_ARG);
    ck_assert_int_eq(upf_lt_gaps_heldout(ds, &p, 5.0, 20.0, 16.0, &f, &e), UPF_ERR_ARG);
    ck_assert_int_eq(upf_lt_gaps_heldout(ds, &p, 25.0, 20.0, 0.0, &f, &e), UPF_ERR_ARG);
    ck_assert_ptr_null(f.X);
    p.cutoff = T0 + 100 * DAY;
    ck_assert_int_eq(upf_lt_gaps_heldout(ds, &p, 5.0, 20.0, 10.0, &f, &e), UPF_ERR_DATA);
    /* allocation failures at every step leave a zeroed result */
    p = params();
    for (long k = 1;; k++) {
        upf_alloc_fail_after(k);
        upf_status st = upf_lt_gaps_heldout(ds, &p, 5.0, 20.0, 10.0, &f, &e);
        upf_alloc_fail_after(0);
        if (st == UPF_OK) {
            ck_assert_uint_eq(f.n_rows, 3);
            upf_lt_features_free(&f);
            break;
        }
        ck_assert_int_eq(st, UPF_ERR_NOMEM);
        ck_assert_ptr_null(f.X);
        ck_assert_ptr_null(f.event);
        ck_assert(k < 200);
    }
    free_ds(ds);
}
END_TEST

START_TEST(test_bad_input_and_alloc_failures)
{
    upf_dataset *ds = make_ds(BEFORE, sizeof BEFORE / sizeof BEFORE[0], 3);
    upf_lt_feature_params p = params();
    upf_lt_features f;
    upf_err e;
    p.windows_days[1] = 0.0;
    ck_assert_int_eq(upf_lt_features_build(ds, &p, &f, &e), UPF_ERR_ARG);
    ck_assert_ptr_null(f.X);
    p = params();
    p.cutoff = T0; /* nobody has a purchase before */
    ck_assert_int_eq(upf_lt_features_build(ds, &p, &f, &e), UPF_ERR_DATA);
    p = params();
    for (int which = 0; which < 3; which++)
        for (long k = 1;; k++) {
            upf_alloc_fail_after(k);
            upf_ba_params bp = upf_ba_params_default();
            bp.cutoff = p.cutoff;
            bp.min_buyers = 1;
            upf_status st = which == 2   ? upf_lt_gaps_build(ds, &p, 1.0, &f, &e)
                            : which == 1 ? upf_ba_pairs_build(ds, &bp, &f, &e)
                                         : upf_lt_features_build(ds, &p, &f, &e);
            upf_alloc_fail_after(0);
            if (st == UPF_OK) {
                upf_lt_features_free(&f);
                break;
            }
            ck_assert_int_eq(st, UPF_ERR_NOMEM);
            ck_assert_ptr_null(f.X);
            ck_assert(k < 200);
        }
    free_ds(ds);
}
END_TEST

Suite *lifetime_features_suite(void)
{
    Suite *s = suite_create("lifetime_features");
    TCase *tc = tcase_create("features");
    tcase_add_test(tc, test_user_features_by_hand);
    tcase_add_test(tc, test_no_leakage);
    tcase_add_test(tc, test_buy_again_pairs);
    tcase_add_test(tc, test_gap_rows);
    tcase_add_test(tc, test_heldout_gaps);
    tcase_add_test(tc, test_bad_input_and_alloc_failures);
    suite_add_tcase(s, tc);
    return s;
}
