/* test_base.c - status strings, checked sizes, allocation failure injection,
 * the RNG's determinism and distributions, atomic output files, JSON. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../model/base.h"
#include "../model/json.h"
#include "../model/outfile.h"
#include "../model/rng.h"
#include "testutil.h"

START_TEST(test_status_strings)
{
    for (int s = 0; s < UPF_STATUS_COUNT; s++) ck_assert_ptr_nonnull(upf_status_str((upf_status)s));
    ck_assert_str_eq(upf_status_str((upf_status)999), "unknown status");
    ck_assert_int_eq(upf_status_exit_code(UPF_OK), 0);
    ck_assert_int_eq(upf_status_exit_code(UPF_ERR_CONFIG), 2);
    ck_assert_int_eq(upf_status_exit_code(UPF_ERR_GATE), 3);
    ck_assert_int_eq(upf_status_exit_code(UPF_ERR_IO), 1);
    upf_err e;
    ck_assert_int_eq(upf_err_set(&e, UPF_ERR_FORMAT, "x.h5: /events/user: expected %s", "int32"), UPF_ERR_FORMAT);
    ck_assert_str_eq(e.msg, "x.h5: /events/user: expected int32");
    upf_err_prefix(&e, "import");
    ck_assert_str_eq(e.msg, "import: x.h5: /events/user: expected int32");
    ck_assert_int_eq(upf_err_set(NULL, UPF_ERR_IO, "ignored"), UPF_ERR_IO);
}
END_TEST

START_TEST(test_checked_sizes)
{
    size_t out = 7;
    ck_assert_int_eq(upf_mul_size(SIZE_MAX / 2, 3, &out), -1);
    ck_assert_uint_eq(out, 0);
    ck_assert_int_eq(upf_mul_size(1u << 20, 1u << 10, &out), 0);
    ck_assert_uint_eq(out, (size_t)1 << 30);
    ck_assert_int_eq(upf_mul_size(0, SIZE_MAX, &out), 0);
    ck_assert_uint_eq(out, 0);
    ck_assert_int_eq(upf_add_size(SIZE_MAX, 1, &out), -1);
    ck_assert_int_eq(upf_add_size(3, 4, &out), 0);
    ck_assert_uint_eq(out, 7);
    ck_assert_uint_eq(UPF_ALIGN_UP((size_t)65, 64), 128);
    ck_assert_uint_eq(UPF_ALIGN_UP((size_t)64, 64), 64);
}
END_TEST

START_TEST(test_alloc_fault_injection)
{
    upf_alloc_fail_after(2);
    void *a = upf_malloc(8);
    void *b = upf_malloc(8);
    void *c = upf_calloc(2, 8);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_null(b);
    ck_assert_ptr_null(c);
    ck_assert_int_eq(upf_alloc_fail_after(0), 3);
    void *d = upf_malloc_aligned(100);
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq((uintptr_t)d % 64, 0);
    ck_assert_ptr_null(upf_calloc(SIZE_MAX / 2, 4));
    upf_free(a);
    upf_free_aligned(d);
}
END_TEST

START_TEST(test_rng_deterministic_streams)
{
    upf_rng a, b, c;
    upf_rng_seed(&a, 42, 0);
    upf_rng_seed(&b, 42, 0);
    upf_rng_seed(&c, 42, 1);
    int same_c = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = upf_rng_next(&a), y = upf_rng_next(&b), z = upf_rng_next(&c);
        ck_assert_uint_eq(x, y);
        same_c += x == z;
    }
    ck_assert_int_lt(same_c, 2);
}
END_TEST

START_TEST(test_rng_below_is_uniform)
{
    /* Chi-square over 7 buckets, 70,000 draws: the 0.999 quantile for 6 dof is 22.5. */
    upf_rng r;
    upf_rng_seed(&r, 1, 0);
    long counts[7] = { 0 };
    for (int i = 0; i < 70000; i++) {
        uint32_t v = upf_rng_below(&r, 7);
        ck_assert_uint_lt(v, 7);
        counts[v]++;
    }
    double chi = 0;
    for (int k = 0; k < 7; k++) chi += (counts[k] - 10000.0) * (counts[k] - 10000.0) / 10000.0;
    ck_assert_double_lt(chi, 22.5);
    for (int i = 0; i < 1000; i++) ck_assert_uint_lt(upf_rng_below64(&r, 5000000000ull), 5000000000ull);
}
END_TEST

START_TEST(test_rng_distribution_moments)
{
    /* Sample means within 5 standard errors of the truth. */
    upf_rng r;
    upf_rng_seed(&r, 3, 0);
    const int n = 200000;
    double sn = 0, sn2 = 0, sg = 0, sp = 0, se = 0, su = 0;
    int out_of_range = 0; /* counted, not ck_assert'ed: Check reports every passing assertion to its parent */
    for (int i = 0; i < n; i++) {
        double z = upf_rng_normal(&r);
        sn += z;
        sn2 += z * z;
        sg += upf_rng_gamma(&r, 0.5);
        sp += (double)upf_rng_poisson(&r, 42.5);
        se += upf_rng_exponential(&r);
        double u = upf_rng_uniform(&r);
        out_of_range += !(u >= 0.0 && u < 1.0);
        su += u;
    }
    ck_assert_int_eq(out_of_range, 0);
    ck_assert_double_lt(fabs(sn / n), 5 * sqrt(1.0 / n));
    ck_assert_double_lt(fabs(sn2 / n - 1.0), 5 * sqrt(2.0 / n));
    ck_assert_double_lt(fabs(sg / n - 0.5), 5 * sqrt(0.5 / n));
    ck_assert_double_lt(fabs(sp / n - 42.5), 5 * sqrt(42.5 / n));
    ck_assert_double_lt(fabs(se / n - 1.0), 5 * sqrt(1.0 / n));
    ck_assert_double_lt(fabs(su / n - 0.5), 5 * sqrt(1.0 / 12 / n));
}
END_TEST

START_TEST(test_outfile_commit_and_abort)
{
    char *dir = upf_test_tmpdir();
    char path[4200], tmp_glob[4300];
    snprintf(path, sizeof path, "%s/out.txt", dir);
    upf_outfile o;
    upf_err err;
    ck_assert_int_eq(upf_outfile_open(&o, path, &err), UPF_OK);
    fputs("hello", o.f);
    struct stat st;
    ck_assert_int_ne(stat(path, &st), 0); /* nothing under the final name yet */
    ck_assert_int_eq(upf_outfile_commit(&o, &err), UPF_OK);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq((int)st.st_size, 5);

    ck_assert_int_eq(upf_outfile_open(&o, path, &err), UPF_OK);
    fputs("partial", o.f);
    upf_outfile_abort(&o);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq((int)st.st_size, 5); /* the old content survives an abort */
    snprintf(tmp_glob, sizeof tmp_glob, "test -z \"$(ls -A '%s' | grep tmp)\"", dir);
    ck_assert_int_eq(system(tmp_glob), 0);

    char bad[4300];
    snprintf(bad, sizeof bad, "%s/no/such/dir/x", dir);
    ck_assert_int_eq(upf_write_file_atomic(bad, "x", 1, &err), UPF_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, "no/such/dir"));
    upf_test_rmdir(dir);
}
END_TEST

START_TEST(test_json_round_trip)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    upf_json_writer w;
    upf_jw_init(&w, f, 1);
    upf_jw_object(&w, NULL);
    upf_jw_num(&w, "ndcg@10", 0.1 + 0.2);
    upf_jw_int(&w, "users", 943);
    upf_jw_str(&w, "name", "tab\there \"q\" \xc3\xa9");
    upf_jw_num(&w, "nan", NAN);
    upf_jw_array(&w, "list");
    upf_jw_num(&w, NULL, -1.5e-300);
    upf_jw_bool(&w, NULL, 1);
    upf_jw_end(&w);
    upf_jw_object(&w, "empty");
    upf_jw_end(&w);
    upf_jw_end(&w);
    upf_jw_finish(&w);
    fclose(f);

    upf_json *j = NULL;
    upf_err err;
    ck_assert_msg(upf_json_parse(buf, len, &j, &err) == UPF_OK, "%s\n%s", err.msg, buf);
    ck_assert(upf_json_get(j, "ndcg@10")->num == 0.1 + 0.2);
    ck_assert(upf_json_get(j, "users")->num == 943);
    ck_assert_str_eq(upf_json_get(j, "name")->str, "tab\there \"q\" \xc3\xa9");
    ck_assert_int_eq(upf_json_get(j, "nan")->type, UPF_JSON_NULL);
    const upf_json *l = upf_json_get(j, "list");
    ck_assert_uint_eq(l->len, 2);
    ck_assert(l->items[0]->num == -1.5e-300);
    ck_assert_int_eq(upf_json_get(j, "empty")->type, UPF_JSON_OBJ);
    upf_json_free(j);
    free(buf);
}
END_TEST

START_TEST(test_json_errors_name_the_offset)
{
    static const struct { const char *text; const char *want; } cases[] = {
        { "{\"a\":1,\"a\":2}", "byte 7: duplicate key \"a\"" },
        { "[1,2", "byte 4: expected ',' or ']', got end of input" },
        { "{\"a\" 1}", "byte 5: expected ':'" },
        { "\"\\ud800x\"", "low surrogate" },
        { "01", "byte 1: expected end of input" },
        { "[1] x", "byte 4: expected end of input after the value" },
        { "nul", "byte 0: expected a value" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        upf_json *j = (upf_json *)1;
        upf_err err;
        ck_assert_int_eq(upf_json_parse(cases[i].text, strlen(cases[i].text), &j, &err), UPF_ERR_FORMAT);
        ck_assert_ptr_null(j);
        ck_assert_msg(strstr(err.msg, cases[i].want), "case %zu: '%s' lacks '%s'", i, err.msg, cases[i].want);
    }
    upf_json *j;
    upf_err err;
    const char *ok = "{\"s\":\"\\u00e9\\ud83d\\ude00\",\"n\":[-0.5e2,true,null]}";
    ck_assert_int_eq(upf_json_parse(ok, strlen(ok), &j, &err), UPF_OK);
    ck_assert_str_eq(upf_json_get(j, "s")->str, "\xc3\xa9\xf0\x9f\x98\x80");
    ck_assert(upf_json_path(j, "n")->items[0]->num == -50.0);
    upf_json_free(j);
}
END_TEST

START_TEST(test_json_nesting_limit)
{
    char deep[200];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    upf_json *j;
    upf_err err;
    ck_assert_int_eq(upf_json_parse(deep, 200, &j, &err), UPF_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "nesting"));
}
END_TEST

Suite *base_suite(void)
{
    Suite *s = suite_create("base");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_status_strings);
    tcase_add_test(tc, test_checked_sizes);
    tcase_add_test(tc, test_alloc_fault_injection);
    tcase_add_test(tc, test_rng_deterministic_streams);
    tcase_add_test(tc, test_rng_below_is_uniform);
    tcase_add_test(tc, test_rng_distribution_moments);
    tcase_add_test(tc, test_outfile_commit_and_abort);
    tcase_add_test(tc, test_json_round_trip);
    tcase_add_test(tc, test_json_errors_name_the_offset);
    tcase_add_test(tc, test_json_nesting_limit);
    suite_add_tcase(s, tc);
    return s;
}
