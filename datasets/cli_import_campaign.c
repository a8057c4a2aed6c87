/* cli_import_campaign.c - `upfunnel data import --campaign NAME --csv FILE
 * ...`: a campaign file (one row per assigned user: arm, outcomes, optional
 * user id, propensity, time and covariates) into a new dataset file. The
 * command table sends `data import` here when --campaign is among its
 * arguments (train/main.c); everything else about `data import` is
 * datasets/cli_import.c's. Library: datasets/import_campaign.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../train/cli.h"
#include "../train/commands.h"
#include "h5_io.h"
#include "import_campaign.h"
#include "timeparse.h"

static const char *const usage_text =
    "usage: upfunnel data import --campaign NAME --csv FILE --arm COL --control VALUE\n"
    "                            --outcome COL[,COL...] -o OUT.h5 [options]\n"
    "\n"
    "Imports a campaign -- a randomized (or logged) assignment of users to a\n"
    "control and one or more treatment arms, with each user's outcomes -- from a\n"
    "delimited file with a header row into a new upfunnel dataset: the users,\n"
    "their covariates as user attributes, and /campaigns/NAME with one row per\n"
    "user (arm 0 the control). `upfunnel train` with model.family uplift models it.\n"
    "\n"
    "Required:\n"
    "  --campaign NAME        the campaign's name (/campaigns/NAME)\n"
    "  --csv FILE             the input file (\"-\": stdin)\n"
    "  --arm COL              column naming each row's arm\n"
    "  --control VALUE        the arm value of the control group\n"
    "  --outcome COLS         comma-separated numeric outcome columns (0/1 for binary\n"
    "                         outcomes such as visit or conversion, any number for\n"
    "                         continuous ones such as spend); the names are kept\n"
    "  -o, --output OUT.h5    the dataset file to write (written to a temporary name,\n"
    "                         renamed at the end)\n"
    "\n"
    "Options:\n"
    "  --user COL             column of user ids (default: none; users are the row\n"
    "                         numbers 1, 2, ...)\n"
    "  --arm-order V1,V2,...  the treatment arms' values in arm order 1, 2, ...\n"
    "                         (default: order of first appearance); any other value\n"
    "                         is an error\n"
    "  --propensity COL       P(assigned arm | user) in (0, 1] per row (default: none;\n"
    "                         an empty field is unknown)\n"
    "  --time COL             assignment (send) time per row (default: none); with it\n"
    "                         the uplift family can build event-history covariates\n"
    "  --time-format F        auto, unix, unix_ms, iso, yyyymmdd, mdy, dd-mon-yyyy\n"
    "                         (default: auto)\n"
    "  --num-attrs COLS       comma-separated numeric covariates: user attribute COL\n"
    "                         with the value (0 left out, the sparse convention)\n"
    "  --cat-attrs COLS       comma-separated categorical covariates: attribute\n"
    "                         COL=VALUE with weight 1 (one-hot)\n"
    "  --delimiter D          , (default), tab, ';', '|', or any 1-7 byte string\n"
    "  --skip-bad-rows        count malformed rows, show the first, and go on\n"
    "                         (default: the first one is an error)\n"
    "  -q, --quiet            no summary\n"
    "  -h, --help             this text\n"
    "\n"
    "A user on several rows gets its covariates from the first. Errors name the\n"
    "file, line and column and quote the text.\n"
    "\n"
    "Example (Kevin Hillstrom's e-mail challenge, by columns; `--preset hillstrom`\n"
    "does the same):\n"
    "  upfunnel data import --campaign hillstrom --csv hillstrom.csv --arm segment \\\n"
    "      --control 'No E-Mail' --arm-order 'Mens E-Mail,Womens E-Mail' \\\n"
    "      --outcome visit,conversion,spend --num-attrs recency,history,mens,womens,newbie \\\n"
    "      --cat-attrs history_segment,zip_code,channel -o data/hillstrom.h5\n"
    "\n"
    "Exit status: 0 written; 1 a runtime failure (bad row, I/O; no file left\n"
    "behind); 2 a usage error.\n";

/* Splits a comma-separated list in place into v (at most cap items). */
static size_t split_list(char *s, const char **v, size_t cap)
{
    size_t n = 0;
    for (char *p = s; p && *p && n < cap;) {
        char *c = strchr(p, ',');
        if (c) *c = '\0';
        if (*p) v[n++] = p;
        p = c ? c + 1 : NULL;
    }
    return n;
}

int upf_cmd_data_import_campaign(int argc, char **argv)
{
    const char *cmd = "data import";
    if (upf_arg_wants_help(argc, argv)) {
        fputs(usage_text, stdout);
        return UPF_EXIT_OK;
    }
    upf_campaign_csv_opts o = upf_campaign_csv_opts_default();
    const char *csv = NULL, *out = NULL, *outcomes = NULL, *order = NULL, *nums = NULL, *cats = NULL, *tf = NULL,
               *delim = NULL;
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        int k;
        const char *v;
#define OPT(flag, dst)                                                                                           \
    if ((k = upf_arg_value(argc, argv, &i, cmd, flag, &v)) != 0) {                                               \
        if (k < 0) return UPF_EXIT_USAGE;                                                                        \
        dst = v;                                                                                                 \
        continue;                                                                                                \
    }
        OPT("--campaign", o.name)
        OPT("--csv", csv)
        OPT("--arm", o.arm_col)
        OPT("--control", o.control)
        OPT("--outcome", outcomes)
        OPT("--output", out)
        OPT("-o", out)
        OPT("--user", o.user_col)
        OPT("--arm-order", order)
        OPT("--propensity", o.propensity_col)
        OPT("--time", o.time_col)
        OPT("--time-format", tf)
        OPT("--num-attrs", nums)
        OPT("--cat-attrs", cats)
        OPT("--delimiter", delim)
#undef OPT
        if (upf_arg_is(argv, i, "--skip-bad-rows")) o.skip_bad_rows = 1;
        else if (upf_arg_is(argv, i, "-q") || upf_arg_is(argv, i, "--quiet")) quiet = 1;
        else return upf_cli_usage_error(cmd, "unexpected argument '%s' (a campaign import reads --csv FILE)", argv[i]);
    }
    const char *missing = !o.name ? "--campaign" : !csv ? "--csv" : !o.arm_col ? "--arm" : !o.control ? "--control"
                          : !outcomes ? "--outcome" : !out ? "-o" : NULL;
    if (missing) return upf_cli_usage_error(cmd, "a campaign import needs %s", missing);
    if (tf && (o.time_format = upf_time_format_from_name(tf)) < 0)
        return upf_cli_usage_error(cmd, "--time-format: unknown format '%s'", tf);
    upf_err err;
    if (delim && upf_csv_set_delim(&o.csv, delim, &err)) return upf_cli_usage_error(cmd, "--delimiter: %s", err.msg);
    /* the lists, split in copies of the arguments */
    char *lists[4] = {outcomes ? upf_strdup(outcomes) : NULL, order ? upf_strdup(order) : NULL,
                      nums ? upf_strdup(nums) : NULL, cats ? upf_strdup(cats) : NULL};
    const char *ov[64], *av[63], *nv[1024], *cv[1024];
    o.n_outcomes = split_list(lists[0], ov, 64);
    o.outcome_cols = ov;
    o.n_arm_order = split_list(lists[1], av, 63);
    o.arm_order = order ? av : NULL;
    o.n_num = split_list(lists[2], nv, 1024);
    o.num_cols = nv;
    o.n_cat = split_list(lists[3], cv, 1024);
    o.cat_cols = cv;
    int rc = UPF_EXIT_OK;
    upf_builder *b = NULL;
    upf_dataset *ds = NULL;
    upf_campaign_csv_stats stats;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (o.n_outcomes == 0) {
        rc = upf_cli_usage_error(cmd, "--outcome: expected one or more column names");
        goto done;
    }
    if (upf_builder_create(&b, &err) || upf_campaign_import_csv(b, csv, &o, &stats, &err)) {
        rc = upf_cli_fail(&err);
        goto done;
    }
    char src[1024];
    snprintf(src, sizeof src, "upfunnel data import --campaign %s --csv %s", o.name, csv);
    upf_builder_set_source(b, src);
    upf_status st = upf_builder_finish(b, &ds, &err);
    b = NULL;
    if (st || upf_dataset_write(ds, out, &err)) {
        rc = upf_cli_fail(&err);
        goto done;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (!quiet) {
        double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        printf("import: campaign %s: %llu rows (%llu skipped), %zu users, %zu arms:", o.name,
               (unsigned long long)stats.rows, (unsigned long long)stats.bad, ds->n_users, stats.n_arms);
        const upf_campaign *c = &ds->campaigns[0];
        for (size_t a = 0; a < stats.n_arms && a < 64; a++)
            printf("%s %s %llu", a ? "," : "", upf_strings_get(&c->arm_names, a), (unsigned long long)stats.per_arm[a]);
        printf("\nimport: wrote %s in %.2f s\n", out, secs);
        if (stats.bad) printf("import: first skipped row: %s\n", stats.first_bad);
    }
done:
    upf_builder_free(b);
    upf_dataset_free(ds);
    for (int j = 0; j < 4; j++) upf_free(lists[j]);
    return rc;
}
