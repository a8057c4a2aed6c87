/* cli_split.c - `upfunnel data split`: builds a dataset's interaction matrix
 * (event types, min rating, grades) and splits it with the library splits
 * (random per user, last N per user, temporal), then writes train and test
 * as TSV with the original ids (PREFIX.train.tsv, PREFIX.test.tsv) and the
 * test part as TREC qrels (PREFIX.test.qrels) for `upfunnel eval` and other
 * tools. All outputs are written to temporaries and renamed only when every
 * one is complete. Entry point: upf_cmd_data_split.
 */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../model/json.h"
#include "../model/outfile.h"
#include "../train/cli.h"
#include "../train/commands.h"
#include "dataset.h"
#include "h5_io.h"
#include "interactions.h"

static const char split_help[] =
    "NAME\n"
    "    upfunnel data split - split a dataset's interactions into train and test files\n"
    "\n"
    "SYNOPSIS\n"
    "    upfunnel data split IN.h5 -o PREFIX [--kind random|last_n|temporal]\n"
    "                        [--test-frac F] [--last-n N] [--cutoff DATE] [--min-entries N]\n"
    "                        [--seed S] [--events TYPE,...] [--min-rating R]\n"
    "                        [--grades TYPE=G,...] [--json]\n"
    "\n"
    "DESCRIPTION\n"
    "    Builds the user x item interaction matrix of IN.h5 exactly as the trainer and\n"
    "    the evaluator do: events of the chosen types (ratings only when >= R) become\n"
    "    one entry per (user, item) pair, graded with the highest grade among its\n"
    "    events and timed by its first event. Then splits the entries:\n"
    "      random    per user, max(1, round(F x n)) of the user's n entries go to test,\n"
    "                drawn with the seed (the draw of a user depends only on the seed\n"
    "                and that user); users with fewer than --min-entries entries keep\n"
    "                all in train\n"
    "      last_n    per user, the N entries with the latest times go to test (at\n"
    "                equal times the higher item index counts as later); users with\n"
    "                fewer than --min-entries entries keep all in train\n"
    "      temporal  entries whose first event is at or after the cutoff go to test\n"
    "    and writes, with the original user and item ids:\n"
    "      PREFIX.train.tsv   header \"user<TAB>item<TAB>grade<TAB>time\", one entry per\n"
    "                         line, users in file order, items ascending by index;\n"
    "                         time is unix seconds (the pair's first event)\n"
    "      PREFIX.test.tsv    the same for the test entries\n"
    "      PREFIX.test.qrels  TREC qrels \"user 0 item grade\" of the test entries, the\n"
    "                         input of `upfunnel eval --qrels` (skipped with a note when\n"
    "                         an id contains white space)\n"
    "    and a one-line summary (or --json) on standard output. The files appear only\n"
    "    when all of them are complete; an error or Ctrl-C leaves none behind.\n"
    "    pandas: pd.read_csv(\"PREFIX.train.tsv\", sep=\"\\t\", dtype={\"user\": str, \"item\": str})\n"
    "\n"
    "OPTIONS\n"
    "    -o, --output PREFIX   output prefix (required); \"runs/ml\" writes runs/ml.train.tsv ...\n"
    "    --kind K              random (default), last_n or temporal\n"
    "    --test-frac F         random: share of each user's entries in test, 0 < F < 1\n"
    "                          (default 0.2)\n"
    "    --last-n N            last_n: entries per user in test, >= 1 (default 1)\n"
    "    --cutoff DATE         temporal (required there): YYYY-MM-DD (00:00 UTC),\n"
    "                          YYYY-MM-DDTHH:MM:SS[Z] (UTC) or unix seconds\n"
    "    --min-entries N       random and last_n: users with fewer entries keep all in\n"
    "                          train (default 2 for random, N+1 for last_n, so every\n"
    "                          split user keeps at least one training entry)\n"
    "    --seed S              random: the seed, an unsigned integer (default 42)\n"
    "    --events T,...        event types that count: view, cart, purchase, search,\n"
    "                          rating, return, tag (default view,cart,purchase,rating)\n"
    "    --min-rating R        rating events count only when value >= R (default 0)\n"
    "    --grades T=G,...      grade per type, > 0 (defaults purchase=3, cart=2, view=1,\n"
    "                          rating=1, return=1, tag=1); a pair keeps its highest\n"
    "    --json                print the summary as one JSON object\n"
    "    -h, --help            this text\n"
    "\n"
    "EXAMPLES\n"
    "    # the MovieLens protocol of BENCH.md: ratings >= 4, per-user 80/20, seed 42\n"
    "    upfunnel data split data/ml100k.h5 --events rating --min-rating 4 -o runs/ml\n"
    "    # leave the last purchase of each customer out\n"
    "    upfunnel data split data/retail.h5 --kind last_n --events purchase -o runs/r\n"
    "    # everything from December 2011 on is test\n"
    "    upfunnel data split data/retail.h5 --kind temporal --cutoff 2011-12-01 -o runs/t\n"
    "\n"
    "EXIT STATUS\n"
    "    0 success; 1 the input cannot be read or an output cannot be written;\n"
    "    2 usage error.\n";

#define CMD "data split"

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int parse_cutoff(const char *s, int64_t *out)
{
    int y, mo, d, h = 0, mi = 0, se = 0, n = 0;
    if (strchr(s, '-') && s[0] != '-') {
        if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3) return -1;
        const char *rest = s + n;
        if (*rest == 'T' || *rest == ' ') {
            int m2 = 0;
            if (sscanf(rest + 1, "%2d:%2d:%2d%n", &h, &mi, &se, &m2) != 3) return -1;
            rest += 1 + m2;
        }
        if (*rest == 'Z') rest++;
        if (*rest) return -1;
        static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || se > 59 || h < 0 ||
            mi < 0 || se < 0)
            return -1;
        *out = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se;
        return 0;
    }
    return upf_parse_i64(s, out);
}

static int parse_types(const char *list, uint32_t *mask)
{
    char buf[256];
    *mask = 0;
    if (strlen(list) >= sizeof buf) return -1;
    strcpy(buf, list);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        int t = upf_event_type_from_name(tok);
        if (!t) {
            upf_cli_usage_error(CMD, "--events: unknown event type '%s' (expected view, cart, purchase, search, rating, return or tag)", tok);
            return -1;
        }
        *mask |= 1u << t;
    }
    if (!*mask) {
        upf_cli_usage_error(CMD, "--events: no event type given");
        return -1;
    }
    return 0;
}

static int parse_grades(const char *list, float *grade)
{
    char buf[256];
    if (strlen(list) >= sizeof buf) return -1;
    strcpy(buf, list);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        char *eq = strchr(tok, '=');
        double g;
        if (!eq) return upf_cli_usage_error(CMD, "--grades: '%s' is not TYPE=GRADE", tok), -1;
        *eq = '\0';
        int t = upf_event_type_from_name(tok);
        if (!t) return upf_cli_usage_error(CMD, "--grades: unknown event type '%s'", tok), -1;
        if (upf_parse_double(eq + 1, &g) || !(g > 0) || g > 1e30)
            return upf_cli_usage_error(CMD, "--grades: grade of %s is '%s' (expected a number > 0)", tok, eq + 1), -1;
        grade[t] = (float)g;
    }
    return 0;
}

/* 1 when some id of the table contains one of the bytes in bad; *row = it. */
static int ids_contain(const upf_strings *s, const char *bad, int empty_bad, size_t *row)
{
    for (size_t i = 0; i < s->n; i++) {
        const char *id = upf_strings_get(s, i);
        if ((empty_bad && !*id) || strpbrk(id, bad)) {
            *row = i;
            return 1;
        }
    }
    return 0;
}

static upf_status write_entries(upf_outfile *o, const upf_csr *m, const upf_dataset *ds, int qrels, upf_err *err)
{
    char num[64];
    if (!qrels) fputs("user\titem\tgrade\ttime\n", o->f);
    for (size_t u = 0; u < m->n_rows; u++) {
        if ((u & 4095) == 0 && upf_interrupted()) return upf_err_set(err, UPF_ERR_INTERRUPTED, "%s: interrupted", o->path);
        const char *uid = upf_strings_get(&ds->user_ids, u);
        for (int64_t k = m->ptr[u]; k < m->ptr[u + 1]; k++) {
            const char *iid = upf_strings_get(&ds->item_ids, (size_t)m->idx[k]);
            upf_json_format_num(num, sizeof num, (double)m->val[k]);
            if (qrels) fprintf(o->f, "%s 0 %s %s\n", uid, iid, num);
            else fprintf(o->f, "%s\t%s\t%s\t%" PRId64 "\n", uid, iid, num, m->time[k]);
        }
    }
    if (ferror(o->f)) return upf_err_sys(err, UPF_ERR_IO, "%s: write failed", o->path);
    return UPF_OK;
}

static void join(char *dst, size_t n, const char *prefix, const char *suffix) { snprintf(dst, n, "%s%s", prefix, suffix); }

int upf_cmd_data_split(int argc, char **argv)
{
    const char *in = NULL, *prefix = NULL, *v = NULL;
    upf_split_params sp = upf_split_params_default();
    upf_interaction_params ip = upf_interaction_params_default();
    int json = 0, have_cutoff = 0, have_min = 0, r;
    if (upf_arg_wants_help(argc, argv)) {
        fputs(split_help, stdout);
        return UPF_EXIT_OK;
    }
    for (int i = 1; i < argc; i++) {
        if ((r = upf_arg_value(argc, argv, &i, CMD, "--output", &v)) || (r = upf_arg_value(argc, argv, &i, CMD, "-o", &v))) {
            if (r < 0) return UPF_EXIT_USAGE;
            prefix = v;
        } else if ((r = upf_arg_value(argc, argv, &i, CMD, "--kind", &v))) {
            if (r < 0) return UPF_EXIT_USAGE;
            if (strcmp(v, "random") == 0) sp.kind = UPF_SPLIT_RANDOM;
            else if (strcmp(v, "last_n") == 0) sp.kind = UPF_SPLIT_LAST_N;
            else if (strcmp(v, "temporal") == 0) sp.kind = UPF_SPLIT_TEMPORAL;
            else return upf_cli_usage_error(CMD, "--kind: '%s' (expected random, last_n or temporal)", v);
        } else if ((r = upf_arg_value(argc, argv, &i, CMD, "--test-frac", &v))) {
            if (r < 0) return UPF_EXIT_USAGE;
            if (upf_parse_double(v, &sp.test_frac) || !(sp.test_frac > 0 && sp.test_frac < 1))
                return upf_cli_usage_error(CMD, "--test-frac: '%s' (expected a number in (0, 1))", v);
        } else if ((r = upf_arg_value(argc, argv, &i, CMD, "--last-n", &v))) {
            uint64_t n;
            if (r < 0) return UPF_EXIT_USAGE;
            if (upf_parse_u64(v, &n) || n < 1 || n > UINT32_MAX - 1)
                return upf_cli_usage_error(CMD, "--last-n: '%s' (expected an integer >= 1)", v);
            sp.last_n = (uint32_t)n;
        } else if ((r = upf_arg_value(argc, argv, &i, CMD, "--min-entries", &v))) {
            uint64_t n;
            if (r < 0) return UPF_EXIT_USAGE;
            if (upf_parse_u64(v, &n) || n > UINT32_MAX) return upf_cli_usage_error(CMD, "--min-entries: '%s' (expected an integer >= 0)", v);
            sp.min_entries = (uint32_t)n;
            have_min = 1;
        } else if ((r = upf_arg_value(argc, argv, &i, CMD, "--cutoff", &v))) {
            if (r < 0) return UPF_EXIT_USAGE;
            if (parse_cutoff(v, &sp.cutoff))
                return upf_cli_usage_error(CMD, "--cutoff: '%s' (expected YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or unix seconds)", v);
            have_cutoff = 1;
        } else if ((r = upf_arg_value(argc, argv, &i, CMD, "--seed", &v))) {
            if (r < 0) return UPF_EXIT_USAGE;
            if (upf_parse_u64(v, &sp.seed)) return upf_cli_usage_error(CMD, "--seed: '%s' (expected an unsigned integer)", v);
        } else if ((r = upf_arg_value(argc, argv, &i, CMD, "--events", &v))) {
            if (r < 0 || parse_types(v, &ip.types)) return UPF_EXIT_USAGE;
        } else if ((r = upf_arg_value(argc, argv, &i, CMD, "--grades", &v))) {
            if (r < 0 || parse_grades(v, ip.grade)) return UPF_EXIT_USAGE;
        } else if ((r = upf_arg_value(argc, argv, &i, CMD, "--min-rating", &v))) {
            double x;
            if (r < 0) return UPF_EXIT_USAGE;
            if (upf_parse_double(v, &x)) return upf_cli_usage_error(CMD, "--min-rating: '%s' (expected a number)", v);
            ip.min_rating = (float)x;
        } else if (upf_arg_is(argv, i, "--json")) {
            json = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return upf_cli_usage_error(CMD, "unknown option %s", argv[i]);
        } else if (in) {
            return upf_cli_usage_error(CMD, "one input at a time (got %s and %s)", in, argv[i]);
        } else {
            in = argv[i];
        }
    }
    if (!in) return upf_cli_usage_error(CMD, "which dataset? (upfunnel data split IN.h5 -o PREFIX)");
    if (!prefix || !*prefix) return upf_cli_usage_error(CMD, "-o PREFIX is required (the outputs are PREFIX.train.tsv, ...)");
    if (sp.kind == UPF_SPLIT_TEMPORAL && !have_cutoff) return upf_cli_usage_error(CMD, "--kind temporal needs --cutoff DATE");
    if (sp.kind == UPF_SPLIT_LAST_N && !have_min) sp.min_entries = sp.last_n + 1;

    int rc = UPF_EXIT_FAIL;
    upf_err err;
    upf_err_clear(&err);
    upf_dataset *ds = NULL;
    upf_csr all = { 0 }, train = { 0 }, test = { 0 };
    upf_outfile out[3];
    memset(out, 0, sizeof out);
    char names[3][4200];
    size_t bad_row = 0;
    if (upf_dataset_read(in, &ds, &err) || upf_interactions_build(ds, &ip, &all, &err) ||
        upf_split_csr(&all, &sp, &train, &test, &err)) {
        rc = upf_cli_fail(&err);
        goto done;
    }
    if (ids_contain(&ds->user_ids, "\t\n\r", 0, &bad_row)) {
        upf_cli_error("%s: /users/id: row %zu: the id contains a tab or a line break, which TSV cannot hold", in, bad_row);
        goto done;
    }
    if (ids_contain(&ds->item_ids, "\t\n\r", 0, &bad_row)) {
        upf_cli_error("%s: /items/id: row %zu: the id contains a tab or a line break, which TSV cannot hold", in, bad_row);
        goto done;
    }
    int qrels = !ids_contain(&ds->user_ids, " \t\n\r\v\f", 1, &bad_row) && !ids_contain(&ds->item_ids, " \t\n\r\v\f", 1, &bad_row);
    join(names[0], sizeof names[0], prefix, ".train.tsv");
    join(names[1], sizeof names[1], prefix, ".test.tsv");
    join(names[2], sizeof names[2], prefix, ".test.qrels");
    for (int f = 0; f < 2 + qrels; f++) {
        if (upf_outfile_open(&out[f], names[f], &err)) {
            rc = upf_cli_fail(&err);
            goto done;
        }
        setvbuf(out[f].f, NULL, _IOFBF, 1 << 20);
    }
    if (write_entries(&out[0], &train, ds, 0, &err) || write_entries(&out[1], &test, ds, 0, &err) ||
        (qrels && write_entries(&out[2], &test, ds, 1, &err))) {
        rc = upf_cli_fail(&err);
        goto done;
    }
    /* All written: rename them in. A rename that still fails takes the
     * ones already renamed with it, so no partial set of outputs remains. */
    for (int f = 0; f < 2 + qrels; f++)
        if (upf_outfile_commit(&out[f], &err)) {
            for (int g = 0; g < f; g++) remove(names[g]);
            rc = upf_cli_fail(&err);
            goto done;
        }

    size_t users_with_test = 0;
    for (size_t u = 0; u < test.n_rows; u++) users_with_test += test.ptr[u + 1] > test.ptr[u];
    if (json) {
        upf_json_writer w;
        upf_jw_init(&w, stdout, 1);
        upf_jw_object(&w, NULL);
        upf_jw_str(&w, "input", in);
        upf_jw_str(&w, "kind", upf_split_kind_name(sp.kind));
        if (sp.kind == UPF_SPLIT_RANDOM) upf_jw_num(&w, "test_frac", sp.test_frac), upf_jw_int(&w, "seed", (int64_t)sp.seed);
        if (sp.kind == UPF_SPLIT_LAST_N) upf_jw_int(&w, "last_n", sp.last_n);
        if (sp.kind == UPF_SPLIT_TEMPORAL) upf_jw_int(&w, "cutoff", sp.cutoff);
        if (sp.kind != UPF_SPLIT_TEMPORAL) upf_jw_int(&w, "min_entries", sp.min_entries);
        upf_jw_int(&w, "users", (int64_t)all.n_rows);
        upf_jw_int(&w, "items", (int64_t)all.n_cols);
        upf_jw_int(&w, "entries", upf_csr_nnz(&all));
        upf_jw_int(&w, "train", upf_csr_nnz(&train));
        upf_jw_int(&w, "test", upf_csr_nnz(&test));
        upf_jw_int(&w, "users_with_test", (int64_t)users_with_test);
        upf_jw_object(&w, "files");
        upf_jw_str(&w, "train", names[0]);
        upf_jw_str(&w, "test", names[1]);
        upf_jw_str(&w, "qrels", qrels ? names[2] : NULL);
        upf_jw_end(&w);
        upf_jw_end(&w);
        upf_jw_finish(&w);
    } else {
        char params[128];
        if (sp.kind == UPF_SPLIT_RANDOM)
            snprintf(params, sizeof params, "test_frac %g, seed %" PRIu64 ", min_entries %u", sp.test_frac, sp.seed, sp.min_entries);
        else if (sp.kind == UPF_SPLIT_LAST_N) snprintf(params, sizeof params, "last_n %u, min_entries %u", sp.last_n, sp.min_entries);
        else snprintf(params, sizeof params, "cutoff %" PRId64, sp.cutoff);
        printf("split %s (%s) of %s: %" PRId64 " entries, %zu users x %zu items -> train %" PRId64 ", test %" PRId64
               " (%zu users with test entries); wrote %s, %s%s%s%s\n",
               upf_split_kind_name(sp.kind), params, in, upf_csr_nnz(&all), all.n_rows, all.n_cols, upf_csr_nnz(&train),
               upf_csr_nnz(&test), users_with_test, names[0], names[1], qrels ? ", " : "", qrels ? names[2] : "",
               qrels ? "" : " (no qrels: an id contains white space or is empty)");
    }
    rc = UPF_EXIT_OK;
done:
    for (int f = 0; f < 3; f++) upf_outfile_abort(&out[f]);
    upf_csr_free(&all);
    upf_csr_free(&train);
    upf_csr_free(&test);
    upf_dataset_free(ds);
    return rc;
}
