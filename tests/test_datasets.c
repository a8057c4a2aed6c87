/* test_datasets.c - the in-memory dataset: enum names, time formatting,
 * UTF-8 checks, the builder (interning, ordering, attributes, optional
 * fields, campaigns, messages, impressions, sticky errors, allocation
 * failure at every point) and every rule of upf_dataset_validate. */
#include <check.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../datasets/dataset.h"
#include "../datasets/internal.h"
#include "ds_fixture.h"
#include "testutil.h"

START_TEST(test_enum_names)
{
    for (int t = 1; t < UPF_EV_TYPE_COUNT; t++) ck_assert_int_eq(upf_event_type_from_name(upf_event_type_name(t)), t);
    ck_assert_str_eq(upf_event_type_name(UPF_EV_PURCHASE), "purchase");
    ck_assert_str_eq(upf_event_type_name(0), "none");
    ck_assert_str_eq(upf_event_type_name(99), "none");
    ck_assert_int_eq(upf_event_type_from_name("wishlist"), UPF_EV_NONE);
    ck_assert_int_eq(upf_event_type_from_name(NULL), UPF_EV_NONE);
    for (int k = 1; k < UPF_IE_KIND_COUNT; k++) ck_assert_int_eq(upf_item_event_kind_from_name(upf_item_event_kind_name(k)), k);
    ck_assert_str_eq(upf_item_event_kind_name(UPF_IE_STOCK), "stock");
    ck_assert_str_eq(upf_item_event_kind_name(-1), "none");
}
END_TEST

START_TEST(test_iso_time)
{
    char buf[32];
    /* Hand-checked: 951782400 = 2000-02-29 (leap day of a /400 year); -1 is the
     * last second of 1969; 253402300799 is the last second of 9999. */
    upf_format_iso_time(0, buf, sizeof buf);
    ck_assert_str_eq(buf, "1970-01-01T00:00:00Z");
    upf_format_iso_time(951782400, buf, sizeof buf);
    ck_assert_str_eq(buf, "2000-02-29T00:00:00Z");
    upf_format_iso_time(-1, buf, sizeof buf);
    ck_assert_str_eq(buf, "1969-12-31T23:59:59Z");
    upf_format_iso_time(1700000000, buf, sizeof buf);
    ck_assert_str_eq(buf, "2023-11-14T22:13:20Z");
    upf_format_iso_time(253402300799LL, buf, sizeof buf);
    ck_assert_str_eq(buf, "9999-12-31T23:59:59Z");
    upf_format_iso_time(UPF_TIME_MISSING, buf, sizeof buf);
    ck_assert_str_eq(buf, "NaT");
}
END_TEST

START_TEST(test_utf8)
{
    size_t at = 0;
    ck_assert(upf_utf8_valid("plain", 5, &at));
    ck_assert(upf_utf8_valid("Zo\xc3\xab \xf0\x9f\x98\x80", 9, &at));
    ck_assert(!upf_utf8_valid("caf\xe9", 4, &at)); /* Latin-1 */
    ck_assert_uint_eq(at, 3);
    ck_assert(!upf_utf8_valid("\xc0\xaf", 2, &at));         /* overlong '/' */
    ck_assert(!upf_utf8_valid("\xed\xa0\x80", 3, &at));     /* surrogate */
    ck_assert(!upf_utf8_valid("\xf4\x90\x80\x80", 4, &at)); /* > U+10FFFF */
    ck_assert(!upf_utf8_valid("ab\xe2\x82", 4, &at));       /* truncated */
    ck_assert_uint_eq(at, 2);
    ck_assert(upf_h5_name_ok("visit"));
    ck_assert(!upf_h5_name_ok(""));
    ck_assert(!upf_h5_name_ok("a/b"));
    ck_assert(!upf_h5_name_ok("."));
    char longname[300];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    ck_assert(!upf_h5_name_ok(longname));
}
END_TEST

/* ---- the builder ---- */

START_TEST(test_builder_full_fixture)
{
    upf_dataset *ds = NULL;
    upf_err err = { 0 };
    ck_assert_int_eq(fix_build_full(&ds, &err), UPF_OK);
    ck_assert_ptr_nonnull(ds);
    ck_assert_uint_eq(ds->n_users, 4);
    ck_assert_uint_eq(ds->n_items, 4);
    ck_assert_int_eq(ds->n_events, 10);
    /* ids in order of first sight, UTF-8 and the empty id intact */
    ck_assert_str_eq(upf_strings_get(&ds->user_ids, 2), "Zo\xc3\xab \xf0\x9f\x98\x80");
    ck_assert_str_eq(upf_strings_get(&ds->user_ids, 3), "");
    ck_assert_str_eq(upf_strings_get(&ds->item_ids, 2), "\xc3\x9f-item");
    /* events sorted by (user, time, input order) */
    static const int64_t ptr[] = { 0, 4, 7, 10, 10 };
    for (int u = 0; u <= 4; u++) ck_assert_int_eq(ds->user_ptr[u], ptr[u]);
    static const int64_t times[] = { 150, 200, 250, 250, 100, 300, 300, -86400, 50, 60 };
    static const int32_t items[] = { -1, 0, 0, 3, 0, 1, 2, 0, 2, 1 };
    static const uint8_t types[] = { UPF_EV_SEARCH, UPF_EV_VIEW, UPF_EV_PURCHASE, UPF_EV_RETURN, UPF_EV_VIEW,
                                     UPF_EV_PURCHASE, UPF_EV_CART, UPF_EV_VIEW, UPF_EV_RATING, UPF_EV_TAG };
    for (int i = 0; i < 10; i++) {
        ck_assert_int_eq(ds->ev_time[i], times[i]);
        ck_assert_int_eq(ds->ev_item[i], items[i]);
        ck_assert_int_eq(ds->ev_type[i], types[i]);
    }
    ck_assert_ptr_nonnull(ds->ev_query);
    ck_assert_int_eq(ds->ev_query[0], 0);
    ck_assert_int_eq(ds->ev_query[9], 1);
    ck_assert_int_eq(ds->ev_query[1], -1);
    /* optional fields: set rows keep their value, the others the missing marker */
    ck_assert_ptr_nonnull(ds->user_signup);
    ck_assert_int_eq(ds->user_signup[1], 1000);
    ck_assert_int_eq(ds->user_signup[0], UPF_TIME_MISSING);
    ck_assert_int_eq(ds->user_signup[3], UPF_TIME_MISSING);
    ck_assert_int_eq(ds->user_birthday[2], -315619200);
    ck_assert(isnan(ds->item_price[0]));
    ck_assert(ds->item_price[1] == 9.75f);
    ck_assert_int_eq(ds->item_added[2], 5000);
    ck_assert_int_eq(ds->item_added[3], UPF_TIME_MISSING);
    ck_assert_uint_eq(ds->item_in_stock[0], 0);
    ck_assert_uint_eq(ds->item_in_stock[1], 1);
    /* attributes: alice's genre=Comedy summed to 2; names index ascending within a row */
    const upf_attrs *ua = &ds->user_attrs;
    ck_assert_uint_eq(ua->n_rows, 4);
    ck_assert_uint_eq(ua->names.n, 2);
    int32_t comedy = upf_attrs_find(ua, "genre=Comedy"), age = upf_attrs_find(ua, "age");
    ck_assert_int_eq(comedy, 0);
    ck_assert_int_eq(age, 1);
    ck_assert_int_eq(upf_attrs_find(ua, "genre=Drama"), -1);
    ck_assert_int_eq(ua->ptr[1] - ua->ptr[0], 2);
    ck_assert_int_eq(ua->index[0], comedy);
    ck_assert(ua->value[0] == 2.0f);
    ck_assert_int_eq(ua->index[1], age);
    ck_assert(ua->value[1] == 34.0f);
    ck_assert_int_eq(ua->ptr[2] - ua->ptr[1], 1);
    ck_assert_int_eq(ua->ptr[4], 3);
    const upf_attrs *ia = &ds->item_attrs;
    ck_assert_int_eq(ia->ptr[3] - ia->ptr[2], 2); /* item 2: token=café (0) then brand=acme (1) */
    ck_assert_int_eq(ia->index[ia->ptr[2]], 0);
    ck_assert_int_eq(ia->index[ia->ptr[2] + 1], 1);
    /* item events sorted by (item, time) */
    const upf_item_events *ie = &ds->item_events;
    ck_assert_uint_eq(ie->n, 4);
    ck_assert_int_eq(ie->item[0], 0);
    ck_assert_int_eq(ie->time[0], 10);
    ck_assert_int_eq(ie->time[1], 300);
    ck_assert_int_eq(ie->item[2], 1);
    ck_assert_int_eq(ie->time[2], 100);
    ck_assert_uint_eq(ie->kind[3], UPF_IE_PRICE);
    /* campaigns */
    ck_assert_uint_eq(ds->n_campaigns, 2);
    const upf_campaign *c = &ds->campaigns[0];
    ck_assert_str_eq(c->name, "hillstrom");
    ck_assert_uint_eq(c->n, 3);
    ck_assert_uint_eq(c->arm_names.n, 3);
    ck_assert_str_eq(upf_strings_get(&c->arm_names, 1), "Mens E-Mail");
    ck_assert_ptr_nonnull(c->propensity);
    ck_assert_ptr_null(c->time); /* every row gave UPF_TIME_MISSING */
    ck_assert_uint_eq(c->n_outcomes, 3);
    ck_assert_str_eq(c->outcome_names[2], "spend");
    ck_assert(c->outcome[2][1] == 29.99f);
    ck_assert_int_eq(c->arm[2], 2);
    ck_assert_uint_eq(ds->campaigns[1].n, 0);
    ck_assert_ptr_null(ds->campaigns[1].propensity);
    /* messages and impressions */
    ck_assert_uint_eq(ds->messages.n, 3);
    ck_assert_uint_eq(ds->messages.trigger_names.n, 2);
    ck_assert_uint_eq(ds->messages.trigger[2], 0);
    ck_assert_uint_eq(ds->impressions.n, 3);
    ck_assert_str_eq(ds->impressions.policy, "random");
    ck_assert_uint_eq(ds->impressions.context.n_rows, 3);
    ck_assert_int_eq(ds->impressions.context.ptr[3], 3);
    ck_assert_int_eq(ds->impressions.context.ptr[2] - ds->impressions.context.ptr[1], 0);
    ck_assert_str_eq(ds->created, "2024-01-02T03:04:05Z");
    ck_assert_int_eq(upf_dataset_validate(ds, &err), UPF_OK);
    upf_dataset_free(ds);
    upf_dataset_free(NULL);
}
END_TEST

START_TEST(test_builder_interning)
{
    upf_builder *b = NULL;
    upf_err err;
    ck_assert_int_eq(upf_builder_create(&b, &err), UPF_OK);
    char id[32];
    /* Enough ids to grow the hash table several times. */
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < 5000; i++) {
            snprintf(id, sizeof id, "user-%d", i);
            ck_assert_int_eq(upf_builder_user(b, id, strlen(id)), i);
        }
    ck_assert_uint_eq(upf_builder_n_users(b), 5000);
    ck_assert_int_eq(upf_builder_find_user(b, "user-4999", 9), 4999);
    ck_assert_int_eq(upf_builder_find_user(b, "user-5000", 9), -1);
    ck_assert_int_eq(upf_builder_find_item(b, "user-1", 6), -1); /* separate tables */
    ck_assert_int_eq(upf_builder_user(b, "user-1x", 6), 1);      /* len counts, not the NUL */
    ck_assert_int_eq(upf_builder_item(b, "a", 1), 0);
    ck_assert_int_eq(upf_builder_item(b, "a\xc3\xa9", 3), 1);
    ck_assert_int_eq(upf_builder_item(b, "a", 1), 0);
    ck_assert_uint_eq(upf_builder_n_items(b), 2);
    ck_assert_int_eq(upf_builder_status(b, &err), UPF_OK);
    upf_builder_free(b);
}
END_TEST

/* Events in random order come out sorted by (user, time, input order), with
 * nothing lost: the multiset of (user, item, time, value) is unchanged. */
START_TEST(test_builder_ordering_large)
{
    const size_t nu = 997, ni = 211;
    const int64_t n = 200000;
    upf_dataset *ds = NULL;
    upf_err err;
    ck_assert_int_eq(fix_build_plain(nu, ni, n, &ds, &err), UPF_OK);
    ck_assert_int_eq(ds->n_events, n);
    /* Regenerate the input stream to compare per-user sums and first-seen order. */
    double *sum_in = calloc(nu, sizeof *sum_in), *sum_out = calloc(nu, sizeof *sum_out);
    uint64_t x = 12345;
    for (int64_t e = 0; e < n; e++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        int32_t u = (int32_t)((x >> 33) % nu), i = (int32_t)((x >> 17) % ni);
        sum_in[u] += (double)i * 1e-3 + (double)((int64_t)(x >> 40) % 100000) + (double)(e % 7) * 1e6;
    }
    for (size_t u = 0; u < nu; u++)
        for (int64_t k = ds->user_ptr[u]; k < ds->user_ptr[u + 1]; k++) {
            ck_assert_int_eq(ds->ev_user[k], (int32_t)u);
            if (k > ds->user_ptr[u]) ck_assert_int_le(ds->ev_time[k - 1], ds->ev_time[k]);
            sum_out[u] += (double)ds->ev_item[k] * 1e-3 + (double)ds->ev_time[k] + (double)ds->ev_value[k] * 1e6;
        }
    for (size_t u = 0; u < nu; u++) ck_assert_double_eq_tol(sum_in[u], sum_out[u], 1e-6 * fabs(sum_in[u]) + 1e-6);
    free(sum_in);
    free(sum_out);
    upf_dataset_free(ds);
}
END_TEST

START_TEST(test_builder_stable_ties)
{
    upf_builder *b = NULL;
    upf_err err;
    upf_dataset *ds = NULL;
    ck_assert_int_eq(upf_builder_create(&b, &err), UPF_OK);
    int32_t u0 = upf_builder_user(b, "a", 1), u1 = upf_builder_user(b, "b", 1);
    int32_t i0 = upf_builder_item(b, "x", 1);
    /* Same (user, time) rows must keep input order: values 0..5 in order. */
    upf_builder_event(b, u1, i0, 7, UPF_EV_VIEW, 0, -1);
    upf_builder_event(b, u0, i0, 7, UPF_EV_VIEW, 1, -1);
    upf_builder_event(b, u1, i0, 7, UPF_EV_VIEW, 2, -1);
    upf_builder_event(b, u0, i0, 3, UPF_EV_VIEW, 3, -1);
    upf_builder_event(b, u0, i0, 7, UPF_EV_VIEW, 4, -1);
    upf_builder_event(b, u1, i0, 7, UPF_EV_VIEW, 5, -1);
    ck_assert_int_eq(upf_builder_n_events(b), 6);
    ck_assert_int_eq(upf_builder_finish(b, &ds, &err), UPF_OK);
    static const float want[] = { 3, 1, 4, 0, 2, 5 };
    for (int k = 0; k < 6; k++) ck_assert(ds->ev_value[k] == want[k]);
    ck_assert_ptr_null(ds->ev_query); /* no query ever added */
    ck_assert_ptr_null(ds->user_signup);
    ck_assert_ptr_null(ds->item_price);
    ck_assert_uint_eq(ds->user_attrs.n_rows, 0);
    ck_assert_uint_eq(ds->n_campaigns, 0);
    upf_dataset_free(ds);
}
END_TEST

START_TEST(test_builder_empty)
{
    upf_builder *b = NULL;
    upf_err err;
    upf_dataset *ds = NULL;
    ck_assert_int_eq(upf_builder_create(&b, &err), UPF_OK);
    ck_assert_int_eq(upf_builder_finish(b, &ds, &err), UPF_OK);
    ck_assert_uint_eq(ds->n_users, 0);
    ck_assert_int_eq(ds->n_events, 0);
    ck_assert_ptr_nonnull(ds->user_ptr);
    ck_assert_int_eq(ds->user_ptr[0], 0);
    ck_assert_ptr_nonnull(ds->user_ids.off);
    ck_assert_ptr_nonnull(ds->created);
    ck_assert_int_eq(upf_dataset_validate(ds, &err), UPF_OK);
    upf_dataset_free(ds);
}
END_TEST

/* Each bad call fails with UPF_ERR_ARG and a message naming the problem;
 * the error sticks and finish reports it with *out = NULL. */
typedef struct bad_call {
    int which;
    const char *msg;
} bad_call;

static const bad_call bad_calls[] = {
    { 0, "user 7 was never added" },
    { 1, "item -1 on a view event" },
    { 2, "type 9" },
    { 3, "missing time" },
    { 4, "value nan is not finite" },
    { 5, "query 3 was never added" },
    { 6, "is not valid UTF-8 (byte 0xE9 at offset 3)" },
    { 7, "contains a NUL byte" },
    { 8, "campaign \"c\" declared twice" },
    { 9, "outcome name \"a/b\" is not usable" },
    { 10, "arm 2 (expected 0..1)" },
    { 11, "impression context \"k\" before any impression" },
    { 12, "propensity 1.5" },
    { 13, "empty name" },
    { 14, "more than 256 distinct triggers" },
    { 15, "kind 0" },
    { 16, "outcome name \"names\" is not usable" },
    { 17, "message 0: arm 2" },
};

START_TEST(test_builder_bad_calls)
{
    const bad_call *bc = &bad_calls[_i];
    upf_builder *b = NULL;
    upf_err err;
    upf_dataset *ds = (upf_dataset *)&err; /* must be reset to NULL */
    ck_assert_int_eq(upf_builder_create(&b, &err), UPF_OK);
    int32_t u = upf_builder_user(b, "u", 1), i = upf_builder_item(b, "i", 1);
    const char *arms[] = { "control", "treated" }, *outs[] = { "a/b" }, *outs_names[] = { "names" };
    int c = upf_builder_campaign(b, "c", arms, 2, NULL, 0);
    ck_assert_int_eq(c, 0);
    upf_status st = UPF_OK;
    char name[32];
    switch (bc->which) {
    case 0: st = upf_builder_event(b, 7, i, 1, UPF_EV_VIEW, 0, -1); break;
    case 1: st = upf_builder_event(b, u, -1, 1, UPF_EV_VIEW, 0, -1); break;
    case 2: st = upf_builder_event(b, u, i, 1, 9, 0, -1); break;
    case 3: st = upf_builder_event(b, u, i, UPF_TIME_MISSING, UPF_EV_VIEW, 0, -1); break;
    case 4: st = upf_builder_event(b, u, i, 1, UPF_EV_RATING, NAN, -1); break;
    case 5: st = upf_builder_event(b, u, -1, 1, UPF_EV_SEARCH, 0, 3); break;
    case 6: st = upf_builder_user(b, "caf\xe9", 4) < 0 ? upf_builder_status(b, NULL) : UPF_OK; break;
    case 7: st = upf_builder_item(b, "a\0b", 3) < 0 ? upf_builder_status(b, NULL) : UPF_OK; break;
    case 8: st = upf_builder_campaign(b, "c", arms, 2, NULL, 0) < 0 ? upf_builder_status(b, NULL) : UPF_OK; break;
    case 9: st = upf_builder_campaign(b, "d", arms, 2, outs, 1) < 0 ? upf_builder_status(b, NULL) : UPF_OK; break;
    case 10: st = upf_builder_campaign_row(b, c, u, 2, NAN, UPF_TIME_MISSING, NULL); break;
    case 11: st = upf_builder_impression_context(b, "k", 1); break;
    case 12: st = upf_builder_impression(b, u, 1, i, 0, 1, 1.5f); break;
    case 13: st = upf_builder_user_attr(b, u, "", 1); break;
    case 14:
        for (int k = 0; k <= 256 && !st; k++) {
            snprintf(name, sizeof name, "t%d", k);
            st = upf_builder_message(b, u, 1, name, -1, 1);
        }
        break;
    case 15: st = upf_builder_item_event(b, i, 1, 0, 0); break;
    case 16: st = upf_builder_campaign(b, "d", arms, 2, outs_names, 1) < 0 ? upf_builder_status(b, NULL) : UPF_OK; break;
    case 17: st = upf_builder_message(b, u, 1, "x", -1, 2); break;
    }
    ck_assert_int_eq(st, UPF_ERR_ARG);
    ck_assert_int_eq(upf_builder_status(b, &err), UPF_ERR_ARG);
    ck_assert_msg(strstr(err.msg, bc->msg), "message \"%s\" lacks \"%s\"", err.msg, bc->msg);
    /* sticky: a valid call now fails too */
    ck_assert_int_eq(upf_builder_event(b, u, i, 1, UPF_EV_VIEW, 0, -1), UPF_ERR_ARG);
    ck_assert_int_lt(upf_builder_user(b, "v", 1), 0);
    upf_err_clear(&err);
    ck_assert_int_eq(upf_builder_finish(b, &ds, &err), UPF_ERR_ARG);
    ck_assert_ptr_null(ds);
    ck_assert_msg(strstr(err.msg, bc->msg), "finish message \"%s\" lacks \"%s\"", err.msg, bc->msg);
}
END_TEST

/* Allocation failure at every allocation of a full build: UPF_ERR_NOMEM,
 * nothing returned, nothing leaked (ASan checks the leaks under make san). */
START_TEST(test_builder_alloc_failures)
{
    long n;
    int failures = 0;
    for (n = 1; n < 100000; n++) {
        upf_dataset *ds = NULL;
        upf_err err = { 0 };
        upf_alloc_fail_after(n);
        upf_status st = fix_build_full(&ds, &err);
        upf_alloc_fail_after(0);
        if (st == UPF_OK) {
            ck_assert_ptr_nonnull(ds);
            upf_dataset_free(ds);
            break;
        }
        ck_assert_msg(st == UPF_ERR_NOMEM, "allocation %ld: status %d (%s)", n, st, err.msg);
        ck_assert_ptr_null(ds);
        ck_assert_msg(strstr(err.msg, "out of memory"), "allocation %ld: message \"%s\"", n, err.msg);
        failures++;
    }
    ck_assert_int_gt(failures, 50); /* the fixture allocates at many points */
    ck_assert_int_lt(n, 100000);
}
END_TEST

/* Large inputs that need sorting also fail cleanly (the ordering buffers). */
START_TEST(test_builder_alloc_failures_sorting)
{
    long n;
    for (n = 1; n < 10000; n++) {
        upf_dataset *ds = NULL;
        upf_err err = { 0 };
        upf_alloc_fail_after(n);
        upf_status st = fix_build_plain(50, 20, 3000, &ds, &err);
        upf_alloc_fail_after(0);
        if (st == UPF_OK) {
            upf_dataset_free(ds);
            break;
        }
        ck_assert_msg(st == UPF_ERR_NOMEM, "allocation %ld: status %d (%s)", n, st, err.msg);
        ck_assert_ptr_null(ds);
    }
    ck_assert_int_lt(n, 10000);
}
END_TEST

/* ---- validation: every rule, one corruption at a time ---- */

typedef struct corruption {
    const char *msg;
} corruption;

static const char *const corrupt_msgs[] = {
    "/events/time: row 1 (user 0): 100 is before the previous event's 150",
    "/events/user_ptr: row 4 (the last): 9 (expected the number of events, 10)",
    "/events/item: row 1 (user 0): 4 is outside [-1, 4)",
    "/events/item: row 1 (user 0): -1 (no item) on a view event",
    "/events/type: row 2 (user 0): 0 is not an event type",
    "/events/value: row 3 (user 0): nan is not finite",
    "/events/query: row 0 (user 0): 2 is outside [-1, 2)",
    "/events/user: row 4: user 0 (expected 1",
    "/users/attr_index: entry 0 (user 0): 2 is outside [0, 2)",
    "/users/attr_index: entry 1 (user 0): 0 after 0 (expected strictly increasing",
    "/items/attr_value: entry 0 (item 0): inf is not finite",
    "/campaigns/hillstrom/treatment: row 1: 3 is outside [0, 3)",
    "/campaigns/hillstrom/propensity: row 0: 2 (expected in [0, 1]",
    "/campaigns/hillstrom/user: row 2: -1 is outside [0, 4)",
    "/messages/arm: row 0: 2 (expected 0 = held out or 1 = sent)",
    "/messages/trigger: row 1: 5 is outside [0, 2)",
    "/impressions/propensity: row 2: 0 (expected in (0, 1]",
    "/impressions/item: row 0: -1 is outside [0, 4)",
    "/item_events: row 1: (item 0, time 5) after (item 0, time 10)",
    "/item_events/kind: row 0: 9 is not an item event kind",
    "/users/id: row 1: string of 3 bytes is not NUL-terminated",
    "/items/id: 3 ids for 4 items",
    "/users/attr_ptr: row 1: ptr goes back from 2 to 1",
    "/items/in_stock: row 2: 7 (expected 0 or 1)",
    "/campaigns: campaign 1: name \"a/b\" is not usable",
    "/campaigns/hillstrom: outcome \"visit\" appears twice",
    "/events/time: row 5 (user 1): missing time",
    "/impressions/context_ptr: 2 rows (expected 0 or 3, one per impression)",
};

START_TEST(test_validate_rules)
{
    upf_dataset *ds = NULL;
    upf_err err;
    ck_assert_int_eq(fix_build_full(&ds, &err), UPF_OK);
    const char *want = corrupt_msgs[_i];
    /* Corrupt one thing; remember the old value through a generic slot. */
    switch (_i) {
    case 0: ds->ev_time[1] = 100; break;
    case 1: ds->user_ptr[4] = 9; break;
    case 2: ds->ev_item[1] = 4; break;
    case 3: ds->ev_item[1] = -1; break;
    case 4: ds->ev_type[2] = 0; break;
    case 5: ds->ev_value[3] = NAN; break;
    case 6: ds->ev_query[0] = 2; break;
    case 7: ds->ev_user[4] = 0; break;
    case 8: ds->user_attrs.index[0] = 2; break;
    case 9: ds->user_attrs.index[1] = 0; break;
    case 10: ds->item_attrs.value[0] = INFINITY; break;
    case 11: ds->campaigns[0].arm[1] = 3; break;
    case 12: ds->campaigns[0].propensity[0] = 2.0f; break;
    case 13: ds->campaigns[0].user[2] = -1; break;
    case 14: ds->messages.arm[0] = 2; break;
    case 15: ds->messages.trigger[1] = 5; break;
    case 16: ds->impressions.propensity[2] = 0.0f; break;
    case 17: ds->impressions.item[0] = -1; break;
    case 18: ds->item_events.time[1] = 5; break;
    case 19: ds->item_events.kind[0] = 9; break;
    case 20: ds->user_ids.data[ds->user_ids.off[2] - 1] = 'x'; break;
    case 21: ds->item_ids.n = 3; break;
    case 22: ds->user_attrs.ptr[1] = 2, ds->user_attrs.ptr[2] = 1; break;
    case 23: ds->item_in_stock[2] = 7; break;
    case 24: ds->campaigns[1].name[0] = 'a', ds->campaigns[1].name[1] = '/', ds->campaigns[1].name[2] = 'b',
             ds->campaigns[1].name[3] = '\0';
        break;
    case 25: strcpy(ds->campaigns[0].outcome_names[1], "visit"); break;
    case 26: ds->ev_time[5] = UPF_TIME_MISSING; break;
    case 27: ds->impressions.context.n_rows = 2; break;
    }
    upf_err_clear(&err);
    ck_assert_int_eq(upf_dataset_validate(ds, &err), UPF_ERR_DATA);
    ck_assert_msg(strstr(err.msg, want), "case %d: message \"%s\" lacks \"%s\"", _i, err.msg, want);
    if (_i == 21) ds->item_ids.n = 4; /* restore what the destructor relies on */
    if (_i == 27) ds->impressions.context.n_rows = 3;
    upf_dataset_free(ds);
}
END_TEST

START_TEST(test_validate_null)
{
    upf_err err;
    ck_assert_int_eq(upf_dataset_validate(NULL, &err), UPF_ERR_ARG);
    upf_dataset empty;
    memset(&empty, 0, sizeof empty);
    ck_assert_int_eq(upf_dataset_validate(&empty, &err), UPF_OK); /* no users, no events: valid */
    empty.n_events = 3;
    ck_assert_int_eq(upf_dataset_validate(&empty, &err), UPF_ERR_DATA);
    ck_assert_msg(strstr(err.msg, "/events/user_ptr: missing"), "%s", err.msg);
}
END_TEST

Suite *datasets_suite(void)
{
    Suite *s = suite_create("datasets");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_enum_names);
    tcase_add_test(tc, test_iso_time);
    tcase_add_test(tc, test_utf8);
    tcase_add_test(tc, test_builder_full_fixture);
    tcase_add_test(tc, test_builder_interning);
    tcase_add_test(tc, test_builder_ordering_large);
    tcase_add_test(tc, test_builder_stable_ties);
    tcase_add_test(tc, test_builder_empty);
    tcase_add_loop_test(tc, test_builder_bad_calls, 0, (int)(sizeof bad_calls / sizeof bad_calls[0]));
    tcase_add_test(tc, test_builder_alloc_failures);
    tcase_add_test(tc, test_builder_alloc_failures_sorting);
    tcase_add_loop_test(tc, test_validate_rules, 0, (int)(sizeof corrupt_msgs / sizeof corrupt_msgs[0]));
    tcase_add_test(tc, test_validate_null);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}
