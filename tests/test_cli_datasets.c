/* test_cli_datasets.c - `upfunnel data info`, `data split` and `data synth` end to
 * end through the built command (UPF_BIN): text and JSON summaries (the keys
 * the acceptance checks read, arm rates to six decimals), split outputs and
 * their counts, atomic outputs on failure, usage errors and exit codes. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../datasets/dataset.h"
#include "../datasets/h5_io.h"
#include "../model/json.h"
#include "ds_fixture.h"
#include "testutil.h"

static char *tmpdir;
static char path[4300];

static void setup(void)
{
    tmpdir = upf_test_tmpdir();
    snprintf(path, sizeof path, "%s/ds.h5", tmpdir);
}

static void teardown(void)
{
    upf_test_rmdir(tmpdir);
    tmpdir = NULL;
}

/* Runs "UPF_BIN args > out 2> err"; returns the exit status; *out_text and
 * *err_text (malloc'd) receive the outputs. */
static int run(const char *args, char **out_text, char **err_text)
{
    char cmd[9000], o[4400], e[4400];
    snprintf(o, sizeof o, "%s/stdout", tmpdir);
    snprintf(e, sizeof e, "%s/stderr", tmpdir);
    snprintf(cmd, sizeof cmd, "%s %s >'%s' 2>'%s'", upf_test_bin(), args, o, e);
    int st = system(cmd);
    ck_assert_msg(st != -1 && WIFEXITED(st), "could not run %s", cmd);
    const char *files[2] = { o, e };
    char **texts[2] = { out_text, err_text };
    for (int k = 0; k < 2; k++) {
        if (!texts[k]) continue;
        FILE *f = fopen(files[k], "rb");
        ck_assert_ptr_nonnull(f);
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        char *t = malloc((size_t)n + 1);
        ck_assert_uint_eq(fread(t, 1, (size_t)n, f), (size_t)n);
        t[n] = '\0';
        fclose(f);
        *texts[k] = t;
    }
    return WEXITSTATUS(st);
}

static void write_fixture(upf_dataset *ds)
{
    upf_err err;
    ck_assert_msg(upf_dataset_write(ds, path, &err) == UPF_OK, "%s", err.msg);
}

/* A campaign with Hillstrom's arm sizes and visit counts: rates by hand,
 * 3894 / 21307 = 0.1827568..., 3238 / 21387 = 0.1514003..., 2262 / 21306 =
 * 0.1061672... so six decimals read 0.182757, 0.151400, 0.106167. */
static void write_campaign_fixture(void)
{
    upf_builder *b = NULL;
    upf_dataset *ds = NULL;
    upf_err err;
    ck_assert_int_eq(upf_builder_create(&b, &err), UPF_OK);
    const char *arms[] = { "No E-Mail", "Mens E-Mail", "Womens E-Mail" }, *outs[] = { "visit", "conversion", "spend" };
    int c = upf_builder_campaign(b, "hillstrom", arms, 3, outs, 3);
    static const int rows[3] = { 21306, 21307, 21387 }, visits[3] = { 2262, 3894, 3238 };
    char id[32];
    int uid = 0;
    for (int a = 0; a < 3; a++)
        for (int r = 0; r < rows[a]; r++) {
            snprintf(id, sizeof id, "c%d", uid++);
            int32_t u = upf_builder_user(b, id, strlen(id));
            float o[3] = { r < visits[a] ? 1.0f : 0.0f, 0.0f, 0.0f };
            upf_builder_campaign_row(b, c, u, a, NAN, UPF_TIME_MISSING, o);
        }
    ck_assert_int_eq(upf_builder_finish(b, &ds, &err), UPF_OK);
    write_fixture(ds);
    upf_dataset_free(ds);
}

START_TEST(test_info_text_campaign_rates)
{
    write_campaign_fixture();
    char args[4400], *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "data info '%s'", path);
    ck_assert_int_eq(run(args, &out, &err), 0);
    ck_assert_msg(strstr(out, "users      64000"), "%s", out);
    ck_assert_msg(strstr(out, "0.182757"), "%s", out);
    ck_assert_msg(strstr(out, "0.151400"), "%s", out);
    ck_assert_msg(strstr(out, "0.106167"), "%s", out);
    ck_assert_msg(strstr(out, "Mens E-Mail"), "%s", out);
    free(out);
    free(err);
}
END_TEST

START_TEST(test_info_json_keys)
{
    upf_dataset *ds = NULL;
    upf_err e;
    ck_assert_int_eq(fix_build_full(&ds, &e), UPF_OK);
    write_fixture(ds);
    upf_dataset_free(ds);
    char args[4400], *out = NULL;
    snprintf(args, sizeof args, "data info '%s' --json", path);
    ck_assert_int_eq(run(args, &out, NULL), 0);
    upf_json *j = NULL;
    ck_assert_msg(upf_json_parse(out, strlen(out), &j, &e) == UPF_OK, "%s\n%s", e.msg, out);
    ck_assert_int_eq((int)upf_json_get(j, "users")->num, 4);
    ck_assert_int_eq((int)upf_json_get(j, "items")->num, 4);
    ck_assert_int_eq((int)upf_json_get(j, "events")->num, 10);
    const upf_json *bt = upf_json_get(j, "events_by_type");
    ck_assert_int_eq(bt->type, UPF_JSON_OBJ);
    ck_assert_int_eq((int)upf_json_get(bt, "view")->num, 3);
    ck_assert_int_eq((int)upf_json_get(bt, "purchase")->num, 2);
    ck_assert_int_eq((int)upf_json_get(bt, "tag")->num, 1);
    ck_assert_int_eq((int)upf_json_get(j, "time_min")->num, -86400);
    ck_assert_int_eq((int)upf_json_get(j, "time_max")->num, 300);
    ck_assert_str_eq(upf_json_get(j, "time_min_iso")->str, "1969-12-31T00:00:00Z");
    ck_assert_int_eq((int)upf_json_get(j, "pairs")->num, 8);
    ck_assert_double_eq_tol(upf_json_get(j, "density")->num, 0.5, 1e-12);
    ck_assert_double_eq_tol(upf_json_path(j, "events_per_user.median")->num, 3.0, 1e-12);
    ck_assert_int_eq((int)upf_json_path(j, "user_attributes.names")->num, 2);
    ck_assert_int_eq((int)upf_json_path(j, "item_events.by_kind.price")->num, 1);
    const upf_json *camps = upf_json_get(j, "campaigns");
    ck_assert_uint_eq(camps->len, 2);
    const upf_json *arm0 = upf_json_get(camps->items[0], "arms")->items[0];
    ck_assert_str_eq(upf_json_get(arm0, "name")->str, "No E-Mail");
    ck_assert_double_eq_tol(upf_json_path(arm0, "rates.spend")->num, 29.99, 1e-5);
    ck_assert_double_eq_tol(upf_json_path(j, "impressions.ctr")->num, 1.0 / 3, 1e-12);
    ck_assert_int_eq((int)upf_json_path(j, "messages.held_out")->num, 1);
    ck_assert_int_eq((int)upf_json_path(j, "user_fields.signup")->num, 1);
    upf_json_free(j);
    free(out);
}
END_TEST

START_TEST(test_info_empty_and_errors)
{
    upf_builder *b = NULL;
    upf_dataset *ds = NULL;
    upf_err e;
    ck_assert_int_eq(upf_builder_create(&b, &e), UPF_OK);
    ck_assert_int_eq(upf_builder_finish(b, &ds, &e), UPF_OK);
    write_fixture(ds);
    upf_dataset_free(ds);
    char args[4400], *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "data info '%s' --json", path);
    ck_assert_int_eq(run(args, &out, NULL), 0);
    upf_json *j = NULL;
    ck_assert_int_eq(upf_json_parse(out, strlen(out), &j, &e), UPF_OK);
    ck_assert_int_eq(upf_json_get(j, "time_min")->type, UPF_JSON_NULL);
    upf_json_free(j);
    free(out);
    /* not a dataset: exit 1, one error line naming the file */
    snprintf(args, sizeof args, "data info '%s/stdout'", tmpdir);
    ck_assert_int_eq(run(args, NULL, &err), 1);
    ck_assert_msg(strstr(err, "upfunnel: error: ") && strstr(err, "not an HDF5 file"), "%s", err);
    free(err);
    ck_assert_int_eq(run("data info", NULL, &err), 2);
    ck_assert_msg(strstr(err, "which file?"), "%s", err);
    free(err);
    ck_assert_int_eq(run("data info x.h5 --bogus", NULL, &err), 2);
    free(err);
    ck_assert_int_eq(run("data info --help", &out, NULL), 0);
    ck_assert_msg(strstr(out, "SYNOPSIS") && strstr(out, "EXIT STATUS") && strstr(out, "--json"), "%s", out);
    free(out);
}
END_TEST

static int count_lines(const char *p)
{
    FILE *f = fopen(p, "r");
    if (!f) return -1;
    int n = 0, c;
    while ((c = fgetc(f)) != EOF) n += c == '\n';
    fclose(f);
    return n;
}

static int exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0;
}

START_TEST(test_split_outputs)
{
    upf_dataset *ds = NULL;
    upf_err e;
    ck_assert_int_eq(fix_build_plain(300, 50, 6000, &ds, &e), UPF_OK);
    write_fixture(ds);
    upf_dataset_free(ds);
    char args[9000], *out = NULL, p[4400];
    snprintf(args, sizeof args, "data split '%s' -o '%s/s' --events view,cart --grades cart=5 --json", path, tmpdir);
    ck_assert_int_eq(run(args, &out, NULL), 0);
    upf_json *j = NULL;
    ck_assert_int_eq(upf_json_parse(out, strlen(out), &j, &e), UPF_OK);
    int train = (int)upf_json_get(j, "train")->num, test = (int)upf_json_get(j, "test")->num;
    ck_assert_int_eq(train + test, (int)upf_json_get(j, "entries")->num);
    ck_assert_int_gt(test, 0);
    upf_json_free(j);
    free(out);
    snprintf(p, sizeof p, "%s/s.train.tsv", tmpdir);
    ck_assert_int_eq(count_lines(p), train + 1);
    FILE *f = fopen(p, "r");
    char line[256];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_str_eq(line, "user\titem\tgrade\ttime\n");
    int saw5 = 0;
    while (fgets(line, sizeof line, f)) {
        char u[64], it[64];
        double g;
        long long t;
        ck_assert_int_eq(sscanf(line, "%63[^\t]\t%63[^\t]\t%lf\t%lld", u, it, &g, &t), 4);
        ck_assert(u[0] == 'u' && strncmp(it, "item-", 5) == 0);
        ck_assert(g == 1 || g == 5);
        saw5 |= g == 5;
    }
    fclose(f);
    ck_assert(saw5);
    snprintf(p, sizeof p, "%s/s.test.tsv", tmpdir);
    ck_assert_int_eq(count_lines(p), test + 1);
    snprintf(p, sizeof p, "%s/s.test.qrels", tmpdir);
    ck_assert_int_eq(count_lines(p), test);
    f = fopen(p, "r");
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    fclose(f);
    char u[64], zero[8], it[64];
    double g;
    ck_assert_int_eq(sscanf(line, "%63s %7s %63s %lf", u, zero, it, &g), 4);
    ck_assert_str_eq(zero, "0");
    /* the same seed twice gives the same files; the text summary names them */
    snprintf(args, sizeof args, "data split '%s' -o '%s/t' --events view,cart --grades cart=5", path, tmpdir);
    ck_assert_int_eq(run(args, &out, NULL), 0);
    ck_assert_msg(strstr(out, "split random (test_frac 0.2, seed 42, min_entries 2)") && strstr(out, "t.test.qrels"), "%s", out);
    free(out);
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "cmp -s '%s/s.test.tsv' '%s/t.test.tsv'", tmpdir, tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(test_split_kinds_and_errors)
{
    upf_dataset *ds = NULL;
    upf_err e;
    ck_assert_int_eq(fix_build_plain(40, 30, 900, &ds, &e), UPF_OK);
    write_fixture(ds);
    upf_dataset_free(ds);
    char args[9000], *out = NULL, *err = NULL;
    /* temporal at a date: times are 0..99999, so 1970-01-02 (86400) splits them */
    snprintf(args, sizeof args, "data split '%s' -o '%s/tm' --kind temporal --cutoff 1970-01-02 --json", path, tmpdir);
    ck_assert_int_eq(run(args, &out, NULL), 0);
    upf_json *j = NULL;
    ck_assert_int_eq(upf_json_parse(out, strlen(out), &j, &e), UPF_OK);
    ck_assert_int_eq((int)upf_json_get(j, "cutoff")->num, 86400);
    ck_assert_int_gt((int)upf_json_get(j, "test")->num, 0);
    ck_assert_int_gt((int)upf_json_get(j, "train")->num, 0);
    upf_json_free(j);
    free(out);
    /* last_n: one per user by default, min_entries defaults to N+1 */
    snprintf(args, sizeof args, "data split '%s' -o '%s/ln' --kind last_n --json", path, tmpdir);
    ck_assert_int_eq(run(args, &out, NULL), 0);
    ck_assert_int_eq(upf_json_parse(out, strlen(out), &j, &e), UPF_OK);
    ck_assert_int_eq((int)upf_json_get(j, "min_entries")->num, 2);
    ck_assert_int_eq((int)upf_json_get(j, "test")->num, (int)upf_json_get(j, "users_with_test")->num);
    upf_json_free(j);
    free(out);
    /* usage errors: exit 2, nothing written */
    const char *bad[] = {
        "--kind temporal",            /* no cutoff */
        "--kind sideways",            /* unknown kind */
        "--test-frac 1.5",            /* out of range */
        "--cutoff 2024-02-30 --kind temporal", /* no such date */
        "--events view,wishlist",     /* unknown type */
        "--grades cart=0",            /* grade must be > 0 */
        "--last-n 0 --kind last_n",
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        snprintf(args, sizeof args, "data split '%s' -o '%s/bad' %s", path, tmpdir, bad[k]);
        ck_assert_msg(run(args, NULL, &err) == 2, "'%s' did not give exit 2: %s", bad[k], err);
        ck_assert_msg(strstr(err, "upfunnel: error: "), "%s", err);
        free(err);
    }
    snprintf(args, sizeof args, "data split '%s'", path);
    ck_assert_int_eq(run(args, NULL, &err), 2);
    ck_assert_msg(strstr(err, "-o PREFIX is required"), "%s", err);
    free(err);
    /* an output directory that does not exist: exit 1, nothing left */
    snprintf(args, sizeof args, "data split '%s' -o '%s/no/such/p'", path, tmpdir);
    ck_assert_int_eq(run(args, NULL, &err), 1);
    free(err);
    char p[4400];
    snprintf(p, sizeof p, "%s/bad.train.tsv", tmpdir);
    ck_assert(!exists(p));
    ck_assert_int_eq(run("data split --help", &out, NULL), 0);
    ck_assert_msg(strstr(out, "EXAMPLES") && strstr(out, "--min-entries"), "%s", out);
    free(out);
}
END_TEST

/* A full disk while writing the outputs (RLIMIT_FSIZE through the shell's
 * ulimit): exit 1 and none of the three files exists. */
START_TEST(test_split_atomic)
{
    upf_dataset *ds = NULL;
    upf_err e;
    ck_assert_int_eq(fix_build_plain(2000, 400, 60000, &ds, &e), UPF_OK);
    write_fixture(ds);
    upf_dataset_free(ds);
    char args[9000];
    snprintf(args, sizeof args, "data split '%s' -o '%s/full' --events view,cart,purchase", path, tmpdir);
    char cmd[9500], o[4400];
    snprintf(o, sizeof o, "%s/out.txt", tmpdir);
    snprintf(cmd, sizeof cmd, "(ulimit -f 64; trap '' XFSZ; %s %s) >'%s' 2>&1", upf_test_bin(), args, o);
    int st = system(cmd);
    ck_assert(WIFEXITED(st));
    ck_assert_int_eq(WEXITSTATUS(st), 1);
    const char *sfx[] = { "train.tsv", "test.tsv", "test.qrels" };
    for (int k = 0; k < 3; k++) {
        char p[4400];
        snprintf(p, sizeof p, "%s/full.%s", tmpdir, sfx[k]);
        ck_assert_msg(!exists(p), "%s exists after a failed split", p);
    }
    FILE *f = fopen(o, "r");
    char line[600] = "";
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    fclose(f);
    ck_assert_msg(strstr(line, "upfunnel: error: ") && strstr(line, "full.train.tsv"), "%s", line);
}
END_TEST

/* `-o data/x.h5` in a fresh clone: synth makes the missing folders, and a
 * file standing where a folder must go is named in the error. */
START_TEST(test_synth_makes_output_folders)
{
    char args[4600], *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "data synth --users 200 --items 50 --no-truth -o '%s/a/b/shop.h5'", tmpdir);
    int rc = run(args, &out, &err);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
    free(out);
    free(err);
    char p[4400];
    struct stat sb;
    snprintf(p, sizeof p, "%s/a/b/shop.h5", tmpdir);
    ck_assert_int_eq(stat(p, &sb), 0);
    snprintf(args, sizeof args, "data synth --users 200 --items 50 --no-truth -o '%s/a/b/shop.h5/c/x.h5'", tmpdir);
    rc = run(args, &out, &err);
    ck_assert_int_eq(rc, 1);
    ck_assert_msg(strstr(err, "shop.h5/c: Not a directory") != NULL, "stderr: %s", err);
    free(out);
    free(err);
}
END_TEST

Suite *cli_datasets_suite(void)
{
    Suite *s = suite_create("cli_datasets");
    TCase *tc = tcase_create("commands");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_info_text_campaign_rates);
    tcase_add_test(tc, test_info_json_keys);
    tcase_add_test(tc, test_info_empty_and_errors);
    tcase_add_test(tc, test_split_outputs);
    tcase_add_test(tc, test_split_kinds_and_errors);
    tcase_add_test(tc, test_split_atomic);
    tcase_add_test(tc, test_synth_makes_output_folders);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return s;
}
