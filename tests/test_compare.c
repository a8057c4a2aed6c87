/* test_compare.c - per_user.csv (eval/per_user.h), the paired statistics of
 * eval/paired.h against scipy (values from tests/golden/eval_golden.py, case
 * d, pasted below), and `upfunnel compare` end to end. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../eval/paired.h"
#include "../eval/per_user.h"
#include "../model/json.h"
#include "testutil.h"

/* ---- the output of tests/golden/eval_golden.py, case d, verbatim ---- */
/* case d (tests/test_compare.c) */
static const double golden_d_a[12] = { 0.243, 0.283, 0.66, 0.259, 0.714, 0.311, 0.66, 0.9, 0.79, 0.33, 0.531, 0.07 };
static const double golden_d_b[12] = { 0.07, 0.362, 0.618, 0.414, 0.946, 0.408, 0.735, 0.986, 0.804, 0.314, 0.634, 0.135 };
#define GOLDEN_D_T 1.9013481033785296 /* scipy.stats.ttest_rel(b, a).statistic */
#define GOLDEN_D_P 0.08375909766956544 /* ... .pvalue (two-sided) */
#define GOLDEN_D_P_EXACT_FLIP 0.083984375 /* exact sign-flip p over 2^12 flips */
/* betainc(0.5, 0.5, 0.3) = 0.3690101195655454 (scipy.special) */
/* betainc(2.0, 3.0, 0.7) = 0.9163 (scipy.special) */
/* betainc(10.0, 0.5, 0.9) = 0.15164090963470997 (scipy.special) */
/* betainc(0.3, 40.0, 0.01) = 0.7757445280124504 (scipy.special) */
#define GOLDEN_D_T_SF 0.040992218585752874 /* 2 * scipy.stats.t.sf(2.5, df=7) */
/* ---- end of the script's output ---- */

START_TEST(test_betainc_and_t)
{
    ck_assert_double_eq_tol(upf_betainc(0.5, 0.5, 0.3), 0.3690101195655454, 1e-13);
    ck_assert_double_eq_tol(upf_betainc(2.0, 3.0, 0.7), 0.9163, 1e-13);
    ck_assert_double_eq_tol(upf_betainc(10.0, 0.5, 0.9), 0.15164090963470997, 1e-13);
    ck_assert_double_eq_tol(upf_betainc(0.3, 40.0, 0.01), 0.7757445280124504, 1e-13);
    ck_assert_double_eq_tol(upf_student_t_sf2(2.5, 7), GOLDEN_D_T_SF, 1e-13);
    ck_assert_double_eq_tol(upf_student_t_sf2(-2.5, 7), GOLDEN_D_T_SF, 1e-13);
    ck_assert_double_eq_tol(upf_student_t_sf2(0, 3), 1.0, 1e-15);
    ck_assert(isnan(upf_betainc(-1, 1, 0.5)));
    ck_assert(isnan(upf_student_t_sf2(1, 0)));
}
END_TEST

START_TEST(test_paired_against_scipy)
{
    upf_paired_params p = upf_paired_params_default();
    upf_paired_result r;
    upf_err e;
    p.n_resamples = 200000;
    ck_assert_int_eq(upf_paired_compare(golden_d_a, golden_d_b, 12, &p, &r, &e), UPF_OK);
    ck_assert_uint_eq(r.n, 12);
    ck_assert_double_eq_tol(r.t, GOLDEN_D_T, 1e-12);
    ck_assert_double_eq_tol(r.p_t, GOLDEN_D_P, 1e-12);
    /* Monte Carlo around the exact flip p: 200k draws give a standard error
     * of sqrt(p (1 - p) / 2e5) = 0.0006; allow 5 of them */
    ck_assert_double_eq_tol(r.p_rand, GOLDEN_D_P_EXACT_FLIP, 0.003);
    double mean = 0;
    for (int i = 0; i < 12; i++) mean += (golden_d_b[i] - golden_d_a[i]) / 12;
    ck_assert_double_eq_tol(r.diff, mean, 1e-15);
    ck_assert(r.ci_low < mean && mean < r.ci_high);
    /* the bootstrap interval of a mean of 12 is roughly +-2 standard errors */
    ck_assert(r.ci_high - r.ci_low > 0.03 && r.ci_high - r.ci_low < 0.2);
    /* same seed, same figures; another seed, another interval */
    upf_paired_result r2;
    ck_assert_int_eq(upf_paired_compare(golden_d_a, golden_d_b, 12, &p, &r2, &e), UPF_OK);
    ck_assert(r2.ci_low == r.ci_low && r2.p_rand == r.p_rand);
    p.seed = 7;
    ck_assert_int_eq(upf_paired_compare(golden_d_a, golden_d_b, 12, &p, &r2, &e), UPF_OK);
    ck_assert(r2.ci_low != r.ci_low);
    /* identical systems: no difference, p = 1 */
    ck_assert_int_eq(upf_paired_compare(golden_d_a, golden_d_a, 12, &p, &r, &e), UPF_OK);
    ck_assert(r.p_t == 1.0);
    ck_assert(r.p_rand == 1.0);
    /* one pair: no test; zero pairs: all NaN; bad alpha */
    ck_assert_int_eq(upf_paired_compare(golden_d_a, golden_d_b, 1, &p, &r, &e), UPF_OK);
    ck_assert(isnan(r.p_t));
    ck_assert_int_eq(upf_paired_compare(golden_d_a, golden_d_b, 0, &p, &r, &e), UPF_OK);
    ck_assert(isnan(r.diff));
    p.alpha = 1.5;
    ck_assert_int_eq(upf_paired_compare(golden_d_a, golden_d_b, 12, &p, &r, &e), UPF_ERR_ARG);
}
END_TEST

static char *path_in(const char *dir, const char *name)
{
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(test_per_user_round_trip)
{
    char *dir = upf_test_tmpdir(), *path = path_in(dir, "per_user.csv");
    upf_per_user t, back;
    upf_err e;
    memset(&t, 0, sizeof t);
    const char *ids[] = { "alice", "bob, jr.", "carol \"cc\"", "dave" };
    const int32_t u1[] = { 0, 1, 2 }, u2[] = { 3, 1 };
    const double v1[] = { 0.1, 1.0 / 3, 0.0 }, v2[] = { 0.5, NAN };
    ck_assert_int_eq(upf_per_user_add(&t, "ndcg@10", u1, v1, 3, ids, &e), UPF_OK);
    ck_assert_int_eq(upf_per_user_add(&t, "recall@20", u2, v2, 2, ids, &e), UPF_OK);
    ck_assert_uint_eq(t.n_users, 4);
    ck_assert_uint_eq(t.n_metrics, 2);
    ck_assert(isnan(t.values[0 * 2 + 1])); /* alice has no recall */
    ck_assert(isnan(t.values[3 * 2 + 0])); /* dave has no ndcg */
    ck_assert_int_eq(upf_per_user_add(&t, "bad,name", u1, v1, 1, ids, &e), UPF_ERR_ARG);
    ck_assert_int_eq(upf_per_user_write(path, &t, &e), UPF_OK);
    char buf[512];
    FILE *f = fopen(path, "r");
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    ck_assert_str_eq(buf, "user,ndcg@10,recall@20\nalice,0.1,\n\"bob, jr.\",0.3333333333333333,\n"
                          "\"carol \"\"cc\"\"\",0,\ndave,,0.5\n");
    ck_assert_int_eq(upf_per_user_read(path, &back, &e), UPF_OK);
    ck_assert_uint_eq(back.n_users, 4);
    ck_assert_str_eq(back.users[2], "carol \"cc\"");
    ck_assert(back.values[1 * 2 + 0] == 1.0 / 3); /* the shortest decimal reads back exactly */
    ck_assert_int_eq(upf_per_user_row(&back, "bob, jr."), 1);
    ck_assert_int_eq(upf_per_user_column(&back, "recall@20"), 1);
    upf_per_user_free(&back);
    /* indices as ids when none are known */
    upf_per_user_free(&t);
    ck_assert_int_eq(upf_per_user_add(&t, "auc", u1, v1, 3, NULL, &e), UPF_OK);
    ck_assert_str_eq(t.users[2], "2");
    upf_per_user_free(&t);
    /* CRLF line ends are read too */
    write_text(path, "user,m\r\nx,1\r\ny,2\r\n");
    ck_assert_int_eq(upf_per_user_read(path, &back, &e), UPF_OK);
    ck_assert_uint_eq(back.n_users, 2);
    ck_assert_double_eq_tol(back.values[1], 2.0, 0.5);
    upf_per_user_free(&back);
    free(path);
    upf_test_rmdir(dir);
}
END_TEST

static void expect_bad(const char *dir, const char *text, const char *needle)
{
    char *path = path_in(dir, "bad.csv");
    upf_per_user t;
    upf_err e;
    write_text(path, text);
    ck_assert_int_eq(upf_per_user_read(path, &t, &e), UPF_ERR_FORMAT);
    ck_assert_msg(strstr(e.msg, needle) != NULL, "\"%s\" lacks \"%s\"", e.msg, needle);
    ck_assert_ptr_null(t.users);
    free(path);
}

START_TEST(test_per_user_errors)
{
    char *dir = upf_test_tmpdir();
    expect_bad(dir, "", "bad.csv:1:1: empty file");
    expect_bad(dir, "id,ndcg@10\n", "bad.csv:1:1: expected the header to start with \"user\"");
    expect_bad(dir, "user,a,a\n", "bad.csv:1:3: metric name \"a\"");
    expect_bad(dir, "user,a\nx,1\nx,2\n", "bad.csv:3:1: user \"x\" appears twice");
    expect_bad(dir, "user,a,b\nx,1\n", "bad.csv:2: expected 3 fields, got 2");
    expect_bad(dir, "user,a\nx,1,2\n", "bad.csv:2: expected 2 fields, got more");
    expect_bad(dir, "user,a\nx,zero\n", "bad.csv:2:2: a: \"zero\" is not a finite number");
    expect_bad(dir, "user,a\n\"x,1\n", "quoted field not closed");
    upf_per_user t;
    upf_err e;
    ck_assert_int_eq(upf_per_user_read("/nonexistent/per_user.csv", &t, &e), UPF_ERR_IO);
    /* allocation failure while building and reading */
    char *path = path_in(dir, "ok.csv");
    write_text(path, "user,a,b\nx,1,2\ny,,3\n");
    for (long nth = 1;; nth++) {
        upf_alloc_fail_after(nth);
        upf_status st = upf_per_user_read(path, &t, &e);
        upf_alloc_fail_after(0);
        if (st == UPF_OK) {
            upf_per_user_free(&t);
            break;
        }
        ck_assert_int_eq(st, UPF_ERR_NOMEM);
    }
    const int32_t u[] = { 0, 1 };
    const double v[] = { 1, 2 };
    for (long nth = 1;; nth++) {
        memset(&t, 0, sizeof t);
        upf_alloc_fail_after(nth);
        upf_status st = upf_per_user_add(&t, "m", u, v, 2, NULL, &e);
        upf_alloc_fail_after(0);
        upf_per_user_free(&t);
        if (st == UPF_OK) break;
        ck_assert_int_eq(st, UPF_ERR_NOMEM);
    }
    free(path);
    upf_test_rmdir(dir);
}
END_TEST

/* The runner's path: an evaluation's per-user values into the table. */
START_TEST(test_per_user_from_rank_eval)
{
    const float bias[4] = { 0.4f, 0.3f, 0.2f, 0.1f };
    int64_t tp[4] = { 0, 0, 0, 0 }, sp[4] = { 0, 1, 1, 3 };
    int32_t si[3] = { 1, 0, 3 };
    float sv[3] = { 1, 1, 1 };
    upf_csr train = { 3, 4, tp, si, sv, NULL }, test = { 3, 4, sp, si, sv, NULL };
    upf_scorer sc = { 0, NULL, NULL, bias, NULL, NULL };
    upf_metric_spec ms[2] = { { UPF_METRIC_MRR, 0 }, { UPF_METRIC_COVERAGE, 2 } };
    upf_rank_eval_params p = upf_rank_eval_params_default();
    p.metrics = ms;
    p.n_metrics = 2;
    p.per_user = 1;
    upf_rank_eval_result r;
    upf_err e;
    ck_assert_int_eq(upf_rank_evaluate(&sc, &train, &test, &p, &r, &e), UPF_OK);
    upf_per_user t;
    memset(&t, 0, sizeof t);
    const char *ids[] = { "u-a", "u-b", "u-c" };
    ck_assert_int_eq(upf_per_user_from_rank_eval(&t, &r, ids, &e), UPF_OK);
    ck_assert_uint_eq(t.n_metrics, 1); /* coverage has no per-user value */
    ck_assert_str_eq(t.metrics[0], "mrr");
    ck_assert_uint_eq(t.n_users, 2); /* u-b has no test item: skipped */
    ck_assert_str_eq(t.users[0], "u-a");
    ck_assert_double_eq_tol(t.values[0], 0.5, 1e-15);  /* item 1 ranks second */
    ck_assert_double_eq_tol(t.values[1], 1.0, 1e-15);  /* items 0 and 3: item 0 first */
    upf_per_user_free(&t);
    upf_rank_eval_result_free(&r);
}
END_TEST

static int run_cmd(const char *cmd, const char *out)
{
    char buf[8192];
    snprintf(buf, sizeof buf, "%s > '%s' 2>&1", cmd, out);
    int st = system(buf);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(test_command)
{
    char *dir = upf_test_tmpdir(), *ra = path_in(dir, "a"), *rb = path_in(dir, "b"), *out = path_in(dir, "out.json");
    ck_assert_int_eq(mkdir(ra, 0755), 0);
    ck_assert_int_eq(mkdir(rb, 0755), 0);
    /* run a has users 0..11, run b users 1..12: 11 in common */
    upf_per_user ta, tb;
    upf_err e;
    memset(&ta, 0, sizeof ta);
    memset(&tb, 0, sizeof tb);
    int32_t ua[12], ub[12];
    double vb[12];
    for (int i = 0; i < 12; i++) ua[i] = i, ub[i] = i + 1, vb[i] = i < 11 ? golden_d_b[i + 1] : 0.5;
    ck_assert_int_eq(upf_per_user_add(&ta, "ndcg@10", ua, golden_d_a, 12, NULL, &e), UPF_OK);
    ck_assert_int_eq(upf_per_user_add(&tb, "ndcg@10", ub, vb, 12, NULL, &e), UPF_OK);
    ck_assert_int_eq(upf_per_user_add(&tb, "auc", ub, vb, 12, NULL, &e), UPF_OK);
    char *pa = path_in(ra, "per_user.csv"), *pb = path_in(rb, "per_user.csv");
    ck_assert_int_eq(upf_per_user_write(pa, &ta, &e), UPF_OK);
    ck_assert_int_eq(upf_per_user_write(pb, &tb, &e), UPF_OK);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s compare '%s' '%s' --bootstrap 2000 --seed 3 --json", upf_test_bin(), ra, rb);
    ck_assert_int_eq(run_cmd(cmd, out), 0);
    upf_json *j;
    ck_assert_msg(upf_json_parse_file(out, &j, &e) == UPF_OK, "%s", e.msg);
    ck_assert_double_eq_tol(upf_json_get(j, "users_common")->num, 11, 0.5);
    const upf_json *m = upf_json_get(upf_json_get(j, "metrics"), "ndcg@10");
    ck_assert_ptr_nonnull(m);
    ck_assert_ptr_null(upf_json_get(upf_json_get(j, "metrics"), "auc")); /* only in b */
    /* pairs are users 1..11: a = golden_d_a[1..11], b = golden_d_b[1..11] */
    upf_paired_params p = upf_paired_params_default();
    p.n_resamples = 0;
    upf_paired_result r;
    ck_assert_int_eq(upf_paired_compare(golden_d_a + 1, golden_d_b + 1, 11, &p, &r, &e), UPF_OK);
    ck_assert_double_eq_tol(upf_json_get(m, "n")->num, 11, 0.5);
    ck_assert_double_eq_tol(upf_json_get(m, "diff")->num, r.diff, 1e-15);
    ck_assert_double_eq_tol(upf_json_get(m, "p_ttest")->num, r.p_t, 1e-15);
    upf_json_free(j);
    /* text form, a missing metric, usage errors */
    snprintf(cmd, sizeof cmd, "%s compare '%s' '%s'", upf_test_bin(), ra, rb);
    ck_assert_int_eq(run_cmd(cmd, out), 0);
    snprintf(cmd, sizeof cmd, "%s compare '%s' '%s' --metrics auc", upf_test_bin(), ra, rb);
    ck_assert_int_eq(run_cmd(cmd, out), 1);
    snprintf(cmd, sizeof cmd, "%s compare '%s'", upf_test_bin(), ra);
    ck_assert_int_eq(run_cmd(cmd, out), 2);
    snprintf(cmd, sizeof cmd, "%s compare '%s' '%s' --bootstrap many", upf_test_bin(), ra, rb);
    ck_assert_int_eq(run_cmd(cmd, out), 2);
    snprintf(cmd, sizeof cmd, "%s compare '%s' '%s/nowhere'", upf_test_bin(), ra, dir);
    ck_assert_int_eq(run_cmd(cmd, out), 1);
    upf_per_user_free(&ta);
    upf_per_user_free(&tb);
    free(pa);
    free(pb);
    free(ra);
    free(rb);
    free(out);
    upf_test_rmdir(dir);
}
END_TEST

Suite *compare_suite(void)
{
    Suite *s = suite_create("compare");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_betainc_and_t);
    tcase_add_test(tc, test_paired_against_scipy);
    tcase_add_test(tc, test_per_user_round_trip);
    tcase_add_test(tc, test_per_user_errors);
    tcase_add_test(tc, test_per_user_from_rank_eval);
    tcase_add_test(tc, test_command);
    suite_add_tcase(s, tc);
    return s;
}
