/* ds_fixture.h - test fixtures for the dataset suites: a small dataset that
 * uses every part of schema v1 (UTF-8 ids, an empty id, queries, attributes
 * with repeats, optional user/item fields, item events, two campaigns (one
 * without rows), messages, impressions with context), built through the
 * builder from rows given out of order; and a deep equality check that names
 * the first field that differs. Static inline only (shared by test files).
 */
#ifndef UPF_TEST_DS_FIXTURE_H
#define UPF_TEST_DS_FIXTURE_H

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../datasets/dataset.h"

#define FIX_ID(b, kind, s) upf_builder_##kind((b), (s), strlen(s))

/* Builds the full fixture. Every builder call's status is ignored on purpose:
 * errors are sticky and finish reports the first, which is what the
 * allocation-failure test relies on. */
static inline upf_status fix_build_full(upf_dataset **out, upf_err *err)
{
    upf_builder *b = NULL;
    upf_status st = upf_builder_create(&b, err);
    if (st) return st;
    int32_t alice = FIX_ID(b, user, "alice");
    int32_t bob = FIX_ID(b, user, "bob");
    int32_t zoe = FIX_ID(b, user, "Zo\xc3\xab \xf0\x9f\x98\x80"); /* "Zoë 😀" */
    int32_t empty = FIX_ID(b, user, "");
    int32_t i1 = FIX_ID(b, item, "i1");
    int32_t i2 = FIX_ID(b, item, "i2");
    int32_t i3 = FIX_ID(b, item, "\xc3\x9f-item"); /* "ß-item" */
    int32_t i4 = FIX_ID(b, item, "i4");
    int32_t q1 = upf_builder_query(b, "red shoes", 9);
    int32_t q2 = upf_builder_query(b, "caf\xc3\xa9 au lait", 13);
    /* events out of order; two of bob's share a time (input order must hold) */
    upf_builder_event(b, bob, i2, 300, UPF_EV_PURCHASE, 19.5f, -1);
    upf_builder_event(b, alice, i1, 200, UPF_EV_VIEW, 0.0f, -1);
    upf_builder_event(b, bob, i1, 100, UPF_EV_VIEW, 0.0f, -1);
    upf_builder_event(b, alice, -1, 150, UPF_EV_SEARCH, 0.0f, q1);
    upf_builder_event(b, zoe, i3, 50, UPF_EV_RATING, 4.5f, -1);
    upf_builder_event(b, bob, i3, 300, UPF_EV_CART, 2.0f, -1);
    upf_builder_event(b, alice, i1, 250, UPF_EV_PURCHASE, 10.0f, -1);
    upf_builder_event(b, zoe, i2, 60, UPF_EV_TAG, 0.0f, q2);
    upf_builder_event(b, alice, i4, 250, UPF_EV_RETURN, 10.0f, -1);
    upf_builder_event(b, zoe, i1, -86400, UPF_EV_VIEW, 0.0f, -1); /* before 1970 */
    /* optional fields, for some rows only */
    upf_builder_user_signup(b, bob, 1000);
    upf_builder_user_birthday(b, zoe, -315619200); /* 1960-01-01 */
    upf_builder_item_price(b, i2, 9.75f);
    upf_builder_item_added(b, i3, 5000);
    upf_builder_item_stock(b, i1, 0);
    /* attributes, with a repeated (row, name) pair that must be summed */
    upf_builder_user_attr(b, alice, "genre=Comedy", 1.0f);
    upf_builder_user_attr(b, alice, "age", 34.0f);
    upf_builder_user_attr(b, bob, "genre=Comedy", 1.0f);
    upf_builder_user_attr(b, alice, "genre=Comedy", 1.0f);
    upf_builder_item_attr(b, i3, "token=caf\xc3\xa9", 1.0f);
    upf_builder_item_attr(b, i1, "brand=acme", 1.0f);
    upf_builder_item_attr(b, i3, "brand=acme", 1.0f);
    /* item state over time, out of order */
    upf_builder_item_event(b, i2, 400, UPF_IE_PRICE, 8.5f);
    upf_builder_item_event(b, i1, 300, UPF_IE_STOCK, 0.0f);
    upf_builder_item_event(b, i2, 100, UPF_IE_LISTED, 0.0f);
    upf_builder_item_event(b, i1, 10, UPF_IE_DELISTED, 0.0f);
    /* campaigns: a randomized one and one declared without rows */
    const char *arms[] = { "No E-Mail", "Mens E-Mail", "Womens E-Mail" };
    const char *outs[] = { "visit", "conversion", "spend" };
    int c = upf_builder_campaign(b, "hillstrom", arms, 3, outs, 3);
    const float o1[] = { 1, 0, 0 }, o2[] = { 1, 1, 29.99f }, o3[] = { 0, 0, 0 };
    upf_builder_campaign_row(b, c, alice, 1, 1.0f / 3, UPF_TIME_MISSING, o1);
    upf_builder_campaign_row(b, c, bob, 0, 1.0f / 3, UPF_TIME_MISSING, o2);
    upf_builder_campaign_row(b, c, zoe, 2, 1.0f / 3, UPF_TIME_MISSING, o3);
    const char *arms2[] = { "control", "treated" };
    const char *outs2[] = { "revenue" };
    upf_builder_campaign(b, "empty one", arms2, 2, outs2, 1);
    /* messages and impressions */
    upf_builder_message(b, alice, 500, "cart_abandon", i1, 1);
    upf_builder_message(b, bob, 510, "birthday", -1, 0);
    upf_builder_message(b, empty, 520, "cart_abandon", i2, 1);
    upf_builder_impression(b, alice, 600, i2, 0, 1.0f, 0.25f);
    upf_builder_impression_context(b, "device=mobile", 1.0f);
    upf_builder_impression_context(b, "hour", 13.0f);
    upf_builder_impression(b, -1, 601, i3, 2, 0.0f, 0.25f);
    upf_builder_impression(b, bob, 602, i4, 1, 0.0f, 0.5f);
    upf_builder_impression_context(b, "device=desktop", 1.0f);
    upf_builder_set_policy(b, "random");
    upf_builder_set_source(b, "test fixture \xe2\x80\x94 every part");
    upf_builder_set_created(b, "2024-01-02T03:04:05Z");
    (void)i4;
    return upf_builder_finish(b, out, err);
}

/* A dataset with users, items and events only (no optional part). */
static inline upf_status fix_build_plain(size_t n_users, size_t n_items, int64_t n_events, upf_dataset **out, upf_err *err)
{
    upf_builder *b = NULL;
    upf_status st = upf_builder_create(&b, err);
    if (st) return st;
    char id[32];
    for (size_t u = 0; u < n_users; u++) {
        snprintf(id, sizeof id, "u%zu", u);
        FIX_ID(b, user, id);
    }
    for (size_t i = 0; i < n_items; i++) {
        snprintf(id, sizeof id, "item-%zu", i);
        FIX_ID(b, item, id);
    }
    uint64_t x = 12345;
    for (int64_t e = 0; e < n_events && n_users && n_items; e++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        int32_t u = (int32_t)((x >> 33) % n_users), i = (int32_t)((x >> 17) % n_items);
        upf_builder_event(b, u, i, (int64_t)(x >> 40) % 100000, 1 + (int)((x >> 8) % 3), (float)(e % 7), -1);
    }
    upf_builder_set_created(b, "2024-01-01T00:00:00Z");
    return upf_builder_finish(b, out, err);
}

/* ---- deep equality: returns NULL when equal, else the first field that differs ---- */

static inline int fix_mem_eq(const void *a, const void *b, size_t n)
{
    if (n == 0) return 1;
    if (!a || !b) return a == b;
    return memcmp(a, b, n) == 0;
}

static inline int fix_strings_eq(const upf_strings *a, const upf_strings *b)
{
    if (a->n != b->n) return 0;
    if (a->n == 0) return 1;
    return fix_mem_eq(a->off, b->off, (a->n + 1) * sizeof *a->off) && fix_mem_eq(a->data, b->data, (size_t)a->off[a->n]);
}

static inline int fix_attrs_eq(const upf_attrs *a, const upf_attrs *b)
{
    if (a->n_rows != b->n_rows) return 0;
    if (a->n_rows == 0) return 1;
    size_t nnz = (size_t)a->ptr[a->n_rows];
    return fix_mem_eq(a->ptr, b->ptr, (a->n_rows + 1) * 8) && fix_mem_eq(a->index, b->index, nnz * 4) &&
           fix_mem_eq(a->value, b->value, nnz * 4) && fix_strings_eq(&a->names, &b->names);
}

static inline int fix_opt_eq(const void *a, const void *b, size_t bytes)
{
    if (!a || !b) return a == b;
    return fix_mem_eq(a, b, bytes);
}

static inline int fix_str_eq(const char *a, const char *b)
{
    if (!a || !b) return a == b;
    return strcmp(a, b) == 0;
}

#define FIX_CHECK(cond, what) \
    do {                      \
        if (!(cond)) return what; \
    } while (0)

static inline const char *fix_diff(const upf_dataset *a, const upf_dataset *b)
{
    size_t nu = a->n_users, ni = a->n_items, n = (size_t)a->n_events;
    FIX_CHECK(nu == b->n_users && ni == b->n_items && a->n_events == b->n_events, "sizes");
    FIX_CHECK(fix_strings_eq(&a->user_ids, &b->user_ids), "user_ids");
    FIX_CHECK(fix_strings_eq(&a->item_ids, &b->item_ids), "item_ids");
    FIX_CHECK(fix_opt_eq(a->user_signup, b->user_signup, nu * 8), "user_signup");
    FIX_CHECK(fix_opt_eq(a->user_birthday, b->user_birthday, nu * 8), "user_birthday");
    FIX_CHECK(fix_opt_eq(a->item_price, b->item_price, ni * 4), "item_price");
    FIX_CHECK(fix_opt_eq(a->item_added, b->item_added, ni * 8), "item_added");
    FIX_CHECK(fix_opt_eq(a->item_in_stock, b->item_in_stock, ni), "item_in_stock");
    FIX_CHECK(fix_attrs_eq(&a->user_attrs, &b->user_attrs), "user_attrs");
    FIX_CHECK(fix_attrs_eq(&a->item_attrs, &b->item_attrs), "item_attrs");
    FIX_CHECK(fix_mem_eq(a->ev_user, b->ev_user, n * 4), "ev_user");
    FIX_CHECK(fix_mem_eq(a->ev_item, b->ev_item, n * 4), "ev_item");
    FIX_CHECK(fix_mem_eq(a->ev_time, b->ev_time, n * 8), "ev_time");
    FIX_CHECK(fix_mem_eq(a->ev_type, b->ev_type, n), "ev_type");
    FIX_CHECK(fix_mem_eq(a->ev_value, b->ev_value, n * 4), "ev_value");
    FIX_CHECK(fix_opt_eq(a->ev_query, b->ev_query, n * 4), "ev_query");
    FIX_CHECK(fix_mem_eq(a->user_ptr, b->user_ptr, (nu + 1) * 8), "user_ptr");
    FIX_CHECK(fix_strings_eq(&a->queries, &b->queries), "queries");
    const upf_item_events *x = &a->item_events, *y = &b->item_events;
    FIX_CHECK(x->n == y->n && fix_mem_eq(x->item, y->item, x->n * 4) && fix_mem_eq(x->time, y->time, x->n * 8) &&
                  fix_mem_eq(x->kind, y->kind, x->n) && fix_mem_eq(x->value, y->value, x->n * 4),
              "item_events");
    FIX_CHECK(a->n_campaigns == b->n_campaigns, "n_campaigns");
    for (size_t c = 0; c < a->n_campaigns; c++) {
        const upf_campaign *p = &a->campaigns[c], *q = &b->campaigns[c];
        FIX_CHECK(fix_str_eq(p->name, q->name) && p->n == q->n, "campaign name/n");
        FIX_CHECK(fix_mem_eq(p->user, q->user, p->n * 4) && fix_mem_eq(p->arm, q->arm, p->n * 2), "campaign user/arm");
        FIX_CHECK(fix_opt_eq(p->propensity, q->propensity, p->n * 4), "campaign propensity");
        FIX_CHECK(fix_opt_eq(p->time, q->time, p->n * 8), "campaign time");
        FIX_CHECK(fix_strings_eq(&p->arm_names, &q->arm_names), "campaign arm_names");
        FIX_CHECK(p->n_outcomes == q->n_outcomes, "campaign n_outcomes");
        for (size_t k = 0; k < p->n_outcomes; k++)
            FIX_CHECK(fix_str_eq(p->outcome_names[k], q->outcome_names[k]) && fix_mem_eq(p->outcome[k], q->outcome[k], p->n * 4),
                      "campaign outcome");
    }
    const upf_messages *m = &a->messages, *o = &b->messages;
    FIX_CHECK(m->n == o->n && fix_mem_eq(m->user, o->user, m->n * 4) && fix_mem_eq(m->time, o->time, m->n * 8) &&
                  fix_mem_eq(m->trigger, o->trigger, m->n) && fix_mem_eq(m->item, o->item, m->n * 4) &&
                  fix_mem_eq(m->arm, o->arm, m->n * 2) && fix_strings_eq(&m->trigger_names, &o->trigger_names),
              "messages");
    const upf_impressions *g = &a->impressions, *h = &b->impressions;
    FIX_CHECK(g->n == h->n && fix_mem_eq(g->user, h->user, g->n * 4) && fix_mem_eq(g->time, h->time, g->n * 8) &&
                  fix_mem_eq(g->item, h->item, g->n * 4) && fix_mem_eq(g->position, h->position, g->n * 2) &&
                  fix_mem_eq(g->reward, h->reward, g->n * 4) && fix_mem_eq(g->propensity, h->propensity, g->n * 4),
              "impressions");
    FIX_CHECK(fix_attrs_eq(&g->context, &h->context), "impressions context");
    FIX_CHECK(fix_str_eq(g->policy, h->policy), "impressions policy");
    FIX_CHECK(fix_str_eq(a->source, b->source), "source");
    FIX_CHECK(fix_str_eq(a->created, b->created), "created");
    return NULL;
}

#endif
