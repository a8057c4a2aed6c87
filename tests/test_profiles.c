/* test_profiles.c - the attribute-profile builder on crafted events: exact
 * decayed and type-weighted sums (hand-computed), no leakage from events at or
 * after the cutoff, normalization, bad parameters. */
#include <check.h>
#include <math.h>
#include <string.h>

#include "../datasets/profiles.h"
#include "testutil.h"

/* 2 users, 3 items; items' attributes: item 0 {a0:1}, item 1 {a0:1, a1:2}, item 2 {a2:1}.
 * user 0: view item 0 at day 0, purchase item 1 at day 10, purchase item 2 at day 20 (after cutoff)
 * user 1: cart item 2 at day 5, search (no item) at day 6. Cutoff = day 10 + 1 s. */
typedef struct fixture {
    int32_t ev_user[5], ev_item[5];
    int64_t ev_time[5], user_ptr[3];
    uint8_t ev_type[5];
    float ev_value[5];
    int64_t aptr[4], soff[4];
    int32_t aidx[4];
    float aval[4];
    char names[16];
    upf_dataset ds;
} fixture;

static void make(fixture *f)
{
    memset(f, 0, sizeof *f);
    const int64_t day = 86400;
    int32_t eu[5] = { 0, 0, 0, 1, 1 }, ei[5] = { 0, 1, 2, 2, -1 };
    int64_t et[5] = { 0, 10 * day, 20 * day, 5 * day, 6 * day };
    uint8_t ty[5] = { UPF_EV_VIEW, UPF_EV_PURCHASE, UPF_EV_PURCHASE, UPF_EV_CART, UPF_EV_SEARCH };
    memcpy(f->ev_user, eu, sizeof eu);
    memcpy(f->ev_item, ei, sizeof ei);
    memcpy(f->ev_time, et, sizeof et);
    memcpy(f->ev_type, ty, sizeof ty);
    f->user_ptr[0] = 0, f->user_ptr[1] = 3, f->user_ptr[2] = 5;
    int64_t ap[4] = { 0, 1, 3, 4 };
    int32_t ax[4] = { 0, 0, 1, 2 };
    float av[4] = { 1, 1, 2, 1 };
    memcpy(f->aptr, ap, sizeof ap);
    memcpy(f->aidx, ax, sizeof ax);
    memcpy(f->aval, av, sizeof av);
    memcpy(f->names, "a0\0a1\0a2\0", 9);
    f->soff[0] = 0, f->soff[1] = 3, f->soff[2] = 6, f->soff[3] = 9;
    upf_dataset *d = &f->ds;
    d->n_users = 2;
    d->n_items = 3;
    d->n_events = 5;
    d->ev_user = f->ev_user;
    d->ev_item = f->ev_item;
    d->ev_time = f->ev_time;
    d->ev_type = f->ev_type;
    d->ev_value = f->ev_value;
    d->user_ptr = f->user_ptr;
    d->item_attrs.n_rows = 3;
    d->item_attrs.ptr = f->aptr;
    d->item_attrs.index = f->aidx;
    d->item_attrs.value = f->aval;
    d->item_attrs.names.n = 3;
    d->item_attrs.names.off = f->soff;
    d->item_attrs.names.data = f->names;
}

static void release(upf_csr *m)
{
    upf_free(m->ptr);
    upf_free(m->idx);
    upf_free(m->val);
}

START_TEST(test_profiles_exact_and_no_leakage)
{
    fixture f;
    make(&f);
    upf_profile_params p = upf_profile_params_default();
    const int64_t day = 86400;
    p.cutoff = 10 * day + 1;
    p.half_life_days = 10.0;
    p.normalize = 0;
    upf_csr out;
    upf_err err;
    ck_assert_int_eq(upf_profiles_build(&f.ds, &p, &out, &err), UPF_OK);
    ck_assert_int_eq(out.n_rows, 2);
    ck_assert_int_eq(out.n_cols, 3);
    /* user 0: a0 = 0.2 * 2^-(10d+1s)/10d + 1 * 2^(-1s/10d); a1 = 2 * 2^(-1s/10d); item 2 is after the cutoff */
    double h = 10.0 * 86400.0;
    double a0 = 0.2 * exp2(-(10.0 * 86400.0 + 1.0) / h) + exp2(-1.0 / h), a1 = 2.0 * exp2(-1.0 / h);
    ck_assert_int_eq(out.ptr[1], 2);
    ck_assert_int_eq(out.idx[0], 0);
    ck_assert_int_eq(out.idx[1], 1);
    ck_assert_double_eq_tol((double)out.val[0], a0, 1e-6);
    ck_assert_double_eq_tol((double)out.val[1], a1, 1e-6);
    /* user 1: cart of item 2 at day 5, weight 0.5 * 2^-(5d+1s)/10d; the search has no item */
    ck_assert_int_eq(out.ptr[2], 3);
    ck_assert_int_eq(out.idx[2], 2);
    ck_assert_double_eq_tol((double)out.val[2], 0.5 * exp2(-(5.0 * 86400.0 + 1.0) / h), 1e-6);
    release(&out);
    /* moving the purchase of item 2 to any time >= cutoff changes nothing */
    f.ev_time[2] = p.cutoff;
    ck_assert_int_eq(upf_profiles_build(&f.ds, &p, &out, &err), UPF_OK);
    ck_assert_int_eq(out.ptr[1], 2);
    release(&out);
    /* a cutoff before everything: empty rows */
    p.cutoff = 0;
    ck_assert_int_eq(upf_profiles_build(&f.ds, &p, &out, &err), UPF_OK);
    ck_assert_int_eq(out.ptr[2], 0);
    release(&out);
}
END_TEST

START_TEST(test_profiles_normalized_and_bad_params)
{
    fixture f;
    make(&f);
    upf_profile_params p = upf_profile_params_default(); /* all events, no decay, normalized */
    upf_csr out;
    upf_err err;
    ck_assert_int_eq(upf_profiles_build(&f.ds, &p, &out, &err), UPF_OK);
    /* user 0: a0 = 0.2 + 1, a1 = 2, a2 = 1 -> divided by the norm */
    double n = sqrt(1.2 * 1.2 + 4.0 + 1.0);
    ck_assert_double_eq_tol((double)out.val[0], 1.2 / n, 1e-6);
    ck_assert_double_eq_tol((double)out.val[1], 2.0 / n, 1e-6);
    ck_assert_double_eq_tol((double)out.val[2], 1.0 / n, 1e-6);
    ck_assert_double_eq_tol((double)out.val[3], 1.0, 1e-6);
    release(&out);
    p.half_life_days = 0;
    ck_assert_int_eq(upf_profiles_build(&f.ds, &p, &out, &err), UPF_ERR_ARG);
    ck_assert_ptr_null(out.ptr);
    p = upf_profile_params_default();
    p.type_weight[UPF_EV_VIEW] = -1.0f;
    ck_assert_int_eq(upf_profiles_build(&f.ds, &p, &out, &err), UPF_ERR_ARG);
    /* allocation failures: NOMEM and zeroed output, never a crash */
    p = upf_profile_params_default();
    for (long nth = 1; nth < 8; nth++) {
        upf_alloc_fail_after(nth);
        upf_status st = upf_profiles_build(&f.ds, &p, &out, &err);
        upf_alloc_fail_after(0);
        if (st == UPF_OK) {
            release(&out);
            break;
        }
        ck_assert_int_eq(st, UPF_ERR_NOMEM);
        ck_assert_ptr_null(out.ptr);
    }
}
END_TEST

Suite *profiles_suite(void)
{
    Suite *s = suite_create("profiles");
    TCase *t = tcase_create("build");
    tcase_add_test(t, test_profiles_exact_and_no_leakage);
    tcase_add_test(t, test_profiles_normalized_and_bad_params);
    suite_add_tcase(s, t);
    return s;
}
