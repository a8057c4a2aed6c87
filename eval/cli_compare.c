/* cli_compare.c - `upfunnel compare A B`: paired differences per metric over
 * the users (or queries) both runs scored, with a bootstrap interval, a
 * paired t-test and a randomization test (eval/paired.h).
 * A and B are run directories (their per_user.csv), per_user.csv files, or
 * TREC run files scored against --qrels. Entry point: upf_cmd_compare. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../model/json.h"
#include "../train/cli.h"
#include "../train/commands.h"
#include "metrics.h"
#include "paired.h"
#include "per_user.h"
#include "trec.h"

#define DEFAULT_TREC_METRICS "ndcg@10,recall@10,precision@10,map,mrr"

static void compare_help(void)
{
    fputs("usage: upfunnel compare A B [options]\n"
          "\n"
          "Paired comparison of two systems over the users (or queries) both scored:\n"
          "for each metric the mean of A, of B, the mean difference B - A, its\n"
          "bootstrap confidence interval, and two paired significance tests.\n"
          "\n"
          "  A, B   run directories written by 'upfunnel train' (their per_user.csv),\n"
          "         per_user.csv files, or TREC run files (then --qrels is required)\n"
          "\n"
          "options:\n"
          "  --metrics LIST     metrics to compare (default: every metric both have;\n"
          "                     TREC files: " DEFAULT_TREC_METRICS ")\n"
          "  --bootstrap N      bootstrap and randomization resamples (default 10000;\n"
          "                     0 skips both)\n"
          "  --seed S           seed of the resampling (default 42)\n"
          "  --alpha A          1 - confidence level of the interval (default 0.05)\n"
          "  --qrels FILE       judgments, when A and B are TREC run files\n"
          "  --gain, --discount, --ties, --empty, --compat trec_eval\n"
          "                     how TREC runs are scored (as in 'upfunnel eval')\n"
          "  --json             print JSON\n"
          "  -h, --help         this text\n"
          "\n"
          "Statistics (d = B - A per user): the interval is the percentile bootstrap\n"
          "of mean(d); the t-test is Student's paired t (two-sided); the\n"
          "randomization test flips the sign of each d at random (two-sided,\n"
          "p = (1 + hits) / (1 + resamples)). Users with no value in either run for a\n"
          "metric are left out of that metric's pairs. No correction is made for\n"
          "testing several metrics at once.\n"
          "\n"
          "examples:\n"
          "  upfunnel compare runs/bpr runs/warp\n"
          "  upfunnel compare runs/bpr runs/warp --metrics ndcg@10 --bootstrap 20000 --json\n"
          "  upfunnel compare bm25.run dense.run --qrels qrels.txt --metrics ndcg@10,map\n"
          "\n"
          "exit status: 0 success, 1 a file cannot be read or is malformed, 2 usage error.\n",
          stdout);
}

/* Loads one side into a per-user table; desc says what was read. */
static upf_status load_side(const char *arg, const upf_trec_file *qrels, const upf_trec_params *tp, upf_per_user *t,
                            char *desc, size_t desc_n, upf_err *err)
{
    struct stat sb;
    upf_status st;
    if (stat(arg, &sb) != 0) return upf_err_sys(err, UPF_ERR_IO, "%s: cannot open", arg);
    if (S_ISDIR(sb.st_mode)) {
        size_t n = strlen(arg) + sizeof "/per_user.csv";
        char *path = upf_malloc(n);
        if (!path) return upf_err_set(err, UPF_ERR_NOMEM, "out of memory");
        snprintf(path, n, "%s/per_user.csv", arg);
        st = upf_per_user_read(path, t, err);
        if (st == UPF_OK) snprintf(desc, desc_n, "%s (%zu users)", path, t->n_users);
        upf_free(path);
        return st;
    }
    if (!qrels) {
        st = upf_per_user_read(arg, t, err);
        if (st == UPF_OK) snprintf(desc, desc_n, "%s (%zu users)", arg, t->n_users);
        return st;
    }
    upf_trec_file *run = NULL;
    upf_trec_result res;
    int32_t *idx = NULL;
    double *col = NULL;
    memset(&res, 0, sizeof res);
    if ((st = upf_trec_run_read(arg, &run, err)) != UPF_OK || (st = upf_trec_evaluate(qrels, run, tp, &res, err)) != UPF_OK)
        goto done;
    idx = upf_calloc(res.n_queries + 1, sizeof *idx);
    col = upf_calloc(res.n_queries + 1, sizeof *col);
    if (!idx || !col) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t q = 0; q < res.n_queries; q++) idx[q] = (int32_t)q;
    for (size_t m = 0; m < res.n_metrics && st == UPF_OK; m++) {
        for (size_t q = 0; q < res.n_queries; q++) col[q] = res.per_query[q * res.n_metrics + m];
        st = upf_per_user_add(t, res.names[m], idx, col, res.n_queries, (const char *const *)res.query, err);
    }
    if (st == UPF_OK) snprintf(desc, desc_n, "%s (TREC run, %zu queries in the means)", arg, res.n_queries);
done:
    upf_free(idx);
    upf_free(col);
    upf_trec_result_free(&res);
    upf_trec_free(run);
    return st;
}

int upf_cmd_compare(int argc, char **argv)
{
    const char *cmd = "compare", *metrics = NULL, *qrels_path = NULL, *v = NULL, *side[2] = { NULL, NULL };
    int json = 0, rc = UPF_EXIT_OK;
    upf_paired_params pp = upf_paired_params_default();
    upf_trec_params tp = upf_trec_params_default();
    upf_metric_spec *specs = NULL;
    size_t n_specs = 0, n_side = 0;
    upf_trec_file *qrels = NULL;
    upf_per_user t[2];
    char **names = NULL;
    size_t n_names = 0;
    double *va = NULL, *vb = NULL;
    upf_paired_result *res = NULL;
    char desc[2][4200];
    upf_err err;
    memset(t, 0, sizeof t);
    if (upf_arg_wants_help(argc, argv)) {
        compare_help();
        return UPF_EXIT_OK;
    }
    for (int i = 1; i < argc; i++) {
        int got;
        if ((got = upf_arg_value(argc, argv, &i, cmd, "--metrics", &metrics))) {
            if (got < 0) return UPF_EXIT_USAGE;
        } else if ((got = upf_arg_value(argc, argv, &i, cmd, "--qrels", &qrels_path))) {
            if (got < 0) return UPF_EXIT_USAGE;
        } else if ((got = upf_arg_value(argc, argv, &i, cmd, "--bootstrap", &v))) {
            uint64_t n;
            if (got < 0) return UPF_EXIT_USAGE;
            if (upf_parse_u64(v, &n) || n > 100000000u)
                return upf_cli_usage_error(cmd, "--bootstrap: expected a count in 0..100000000, got \"%s\"", v);
            pp.n_resamples = (size_t)n;
        } else if ((got = upf_arg_value(argc, argv, &i, cmd, "--seed", &v))) {
            if (got < 0) return UPF_EXIT_USAGE;
            if (upf_parse_u64(v, &pp.seed)) return upf_cli_usage_error(cmd, "--seed: expected an integer >= 0, got \"%s\"", v);
        } else if ((got = upf_arg_value(argc, argv, &i, cmd, "--alpha", &v))) {
            if (got < 0) return UPF_EXIT_USAGE;
            if (upf_parse_double(v, &pp.alpha) || !(pp.alpha > 0 && pp.alpha < 1))
                return upf_cli_usage_error(cmd, "--alpha: expected a number in (0, 1), got \"%s\"", v);
        } else if ((got = upf_arg_value(argc, argv, &i, cmd, "--gain", &v))) {
            if (got < 0) return UPF_EXIT_USAGE;
            int g = upf_gain_parse(v);
            if (g < 0) return upf_cli_usage_error(cmd, "--gain: expected exp or linear, got \"%s\"", v);
            tp.gain = (upf_gain)g;
        } else if ((got = upf_arg_value(argc, argv, &i, cmd, "--discount", &v))) {
            if (got < 0) return UPF_EXIT_USAGE;
            int d = upf_discount_parse(v);
            if (d < 0) return upf_cli_usage_error(cmd, "--discount: expected log2 or trec, got \"%s\"", v);
            tp.discount = (upf_discount)d;
        } else if ((got = upf_arg_value(argc, argv, &i, cmd, "--ties", &v))) {
            if (got < 0) return UPF_EXIT_USAGE;
            if (strcmp(v, "asc") && strcmp(v, "desc")) return upf_cli_usage_error(cmd, "--ties: expected asc or desc, got \"%s\"", v);
            tp.ties_desc = strcmp(v, "desc") == 0;
        } else if ((got = upf_arg_value(argc, argv, &i, cmd, "--empty", &v))) {
            if (got < 0) return UPF_EXIT_USAGE;
            int e = upf_empty_parse(v);
            if (e < 0) return upf_cli_usage_error(cmd, "--empty: expected skip, zero or one, got \"%s\"", v);
            tp.empty = (upf_empty_policy)e;
        } else if ((got = upf_arg_value(argc, argv, &i, cmd, "--compat", &v))) {
            if (got < 0) return UPF_EXIT_USAGE;
            if (strcmp(v, "trec_eval")) return upf_cli_usage_error(cmd, "--compat: expected trec_eval, got \"%s\"", v);
            tp.gain = UPF_GAIN_LINEAR;
            tp.discount = UPF_DISCOUNT_TREC;
            tp.ties_desc = 1;
            tp.empty = UPF_EMPTY_ZERO;
        } else if (upf_arg_is(argv, i, "--json")) {
            json = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return upf_cli_usage_error(cmd, "unknown option \"%s\"", argv[i]);
        } else if (n_side < 2) {
            side[n_side++] = argv[i];
        } else {
            return upf_cli_usage_error(cmd, "expected two runs, got a third: \"%s\"", argv[i]);
        }
    }
    if (n_side != 2) return upf_cli_usage_error(cmd, "expected two runs A and B");
    if (metrics || qrels_path) {
        const char *list = metrics ? metrics : DEFAULT_TREC_METRICS;
        if (upf_metric_specs_parse(list, &specs, &n_specs, &err) != UPF_OK) return upf_cli_usage_error(cmd, "--metrics: %s", err.msg);
    }
    if (qrels_path) {
        for (size_t m = 0; m < n_specs; m++)
            if (!upf_metric_is_relevance(specs[m].kind)) {
                rc = upf_cli_usage_error(cmd, "--metrics: %s needs a catalogue; TREC files have none", upf_metric_kind_name(specs[m].kind));
                goto done;
            }
        tp.metrics = specs;
        tp.n_metrics = n_specs;
        if (upf_trec_qrels_read(qrels_path, &qrels, &err) != UPF_OK) {
            rc = upf_cli_fail(&err);
            goto done;
        }
    }
    for (int s = 0; s < 2; s++)
        if (load_side(side[s], qrels, &tp, &t[s], desc[s], sizeof desc[s], &err) != UPF_OK) {
            rc = upf_cli_fail(&err);
            goto done;
        }
    /* the metrics to compare */
    names = upf_calloc(t[0].n_metrics + n_specs + 1, sizeof *names);
    if (!names) {
        rc = upf_cli_fail(&(upf_err){ UPF_ERR_NOMEM, 0, "out of memory" });
        goto done;
    }
    if (specs) {
        for (size_t m = 0; m < n_specs; m++) {
            char name[UPF_METRIC_NAME_MAX];
            upf_metric_spec_name(specs[m], name, sizeof name);
            for (int s = 0; s < 2; s++)
                if (upf_per_user_column(&t[s], name) < 0) {
                    upf_cli_error("%s: has no per-user values of %s", side[s], name);
                    rc = UPF_EXIT_FAIL;
                    goto done;
                }
            names[n_names++] = t[0].metrics[upf_per_user_column(&t[0], name)];
        }
    } else {
        for (size_t m = 0; m < t[0].n_metrics; m++)
            if (upf_per_user_column(&t[1], t[0].metrics[m]) >= 0) names[n_names++] = t[0].metrics[m];
        if (!n_names) {
            upf_cli_error("%s and %s have no metric in common", side[0], side[1]);
            rc = UPF_EXIT_FAIL;
            goto done;
        }
    }
    va = upf_calloc(t[0].n_users + 1, sizeof *va);
    vb = upf_calloc(t[0].n_users + 1, sizeof *vb);
    res = upf_calloc(n_names, sizeof *res);
    if (!va || !vb || !res) {
        rc = upf_cli_fail(&(upf_err){ UPF_ERR_NOMEM, 0, "out of memory" });
        goto done;
    }
    size_t common = 0;
    for (size_t r = 0; r < t[0].n_users; r++) common += upf_per_user_row(&t[1], t[0].users[r]) >= 0;
    for (size_t m = 0; m < n_names; m++) {
        long ca = upf_per_user_column(&t[0], names[m]), cb = upf_per_user_column(&t[1], names[m]);
        size_t n = 0;
        for (size_t r = 0; r < t[0].n_users; r++) {
            long rb = upf_per_user_row(&t[1], t[0].users[r]);
            if (rb < 0) continue;
            double a = t[0].values[r * t[0].n_metrics + (size_t)ca], b = t[1].values[(size_t)rb * t[1].n_metrics + (size_t)cb];
            if (isnan(a) || isnan(b)) continue;
            va[n] = a;
            vb[n++] = b;
        }
        pp.stream = m;
        if (upf_paired_compare(va, vb, n, &pp, &res[m], &err) != UPF_OK) {
            rc = upf_cli_fail(&err);
            goto done;
        }
    }
    if (json) {
        upf_json_writer w;
        upf_jw_init(&w, stdout, 1);
        upf_jw_object(&w, NULL);
        upf_jw_str(&w, "a", side[0]);
        upf_jw_str(&w, "b", side[1]);
        upf_jw_int(&w, "users_a", (int64_t)t[0].n_users);
        upf_jw_int(&w, "users_b", (int64_t)t[1].n_users);
        upf_jw_int(&w, "users_common", (int64_t)common);
        upf_jw_object(&w, "metrics");
        for (size_t m = 0; m < n_names; m++) {
            upf_jw_object(&w, names[m]);
            upf_jw_int(&w, "n", (int64_t)res[m].n);
            upf_jw_num(&w, "a", res[m].mean_a);
            upf_jw_num(&w, "b", res[m].mean_b);
            upf_jw_num(&w, "diff", res[m].diff);
            upf_jw_num(&w, "ci_low", res[m].ci_low);
            upf_jw_num(&w, "ci_high", res[m].ci_high);
            upf_jw_num(&w, "t", res[m].t);
            upf_jw_num(&w, "p_ttest", res[m].p_t);
            upf_jw_num(&w, "p_randomization", res[m].p_rand);
            upf_jw_end(&w);
        }
        upf_jw_end(&w);
        upf_jw_object(&w, "options");
        upf_jw_int(&w, "bootstrap", (int64_t)pp.n_resamples);
        upf_jw_int(&w, "seed", (int64_t)pp.seed);
        upf_jw_num(&w, "alpha", pp.alpha);
        upf_jw_str(&w, "interval", "percentile bootstrap of mean(b - a)");
        upf_jw_str(&w, "tests", "paired t (two-sided); sign-flip randomization (two-sided)");
        upf_jw_end(&w);
        upf_jw_end(&w);
        upf_jw_finish(&w);
    } else {
        size_t wname = 6;
        for (size_t m = 0; m < n_names; m++) wname = strlen(names[m]) > wname ? strlen(names[m]) : wname;
        printf("A: %s\nB: %s\n%zu users in both (%zu only in A, %zu only in B)\n\n", desc[0], desc[1], common,
               t[0].n_users - common, t[1].n_users - common);
        printf("%-*s %7s %10s %10s %11s  %-25s %10s %10s\n", (int)wname, "metric", "n", "A", "B", "B - A",
               "bootstrap interval", "t-test p", "random. p");
        for (size_t m = 0; m < n_names; m++) {
            const upf_paired_result *x = &res[m];
            char ci[64];
            if (isnan(x->ci_low)) snprintf(ci, sizeof ci, "-");
            else snprintf(ci, sizeof ci, "[%+.6f, %+.6f]", x->ci_low, x->ci_high);
            printf("%-*s %7zu %10.6f %10.6f %+11.6f  %-25s %10.4g %10.4g\n", (int)wname, names[m], x->n, x->mean_a,
                   x->mean_b, x->diff, ci, x->p_t, x->p_rand);
        }
        printf("\n%.4g%% percentile bootstrap of mean(B - A) and sign-flip randomization test, %zu resamples each, "
               "seed %llu; paired t-test two-sided\n",
               100 * (1 - pp.alpha), pp.n_resamples, (unsigned long long)pp.seed);
    }
    if (fflush(stdout) != 0) {
        upf_cli_error("stdout: write failed");
        rc = UPF_EXIT_FAIL;
    }
done:
    upf_free(specs);
    upf_free(names);
    upf_free(va);
    upf_free(vb);
    upf_free(res);
    upf_trec_free(qrels);
    upf_per_user_free(&t[0]);
    upf_per_user_free(&t[1]);
    return rc;
}
