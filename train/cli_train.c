/* cli_train.c - `upfunnel train`: the command-line face of the runner
 * (runner.h). Parses flags into runner options (--seed and --threads become
 * overrides, so the resolved config records them), runs, prints the summary
 * and maps the status to the exit code. `--keys` prints the config key tables
 * as the markdown rows of configs/README.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "runner.h"

static void usage(FILE *f)
{
    fputs("usage: upfunnel train CONFIG [--set key.path=value]... [--out DIR] [--threads N]\n"
          "                      [--seed S] [--quiet] [--json-log] [--no-progress]\n"
          "       upfunnel train --resume DIR [--quiet] [--json-log]\n"
          "       upfunnel train --keys [FAMILY]\n"
          "\n"
          "Runs the experiment a YAML config describes: loads the dataset, builds the\n"
          "train/test split, trains the model family of model.family, evaluates it with\n"
          "its baselines (eval.baselines) on the same split, checks the quality gates\n"
          "and writes a run directory:\n"
          "\n"
          "  config.yaml    the resolved config: every key, defaults filled in\n"
          "  metrics.json   the model's figures at the top (\"ndcg@10\": ...), each\n"
          "                 baseline under baseline_<name>, segments, gates, run info\n"
          "  curves.csv     per-epoch curves (families that train in epochs)\n"
          "  per_user.csv   per-user metric values, for `upfunnel compare`\n"
          "  model.upf      the model (float32; `upfunnel export` re-encodes it)\n"
          "  train.log      the log, plain timestamped lines\n"
          "\n"
          "A run that stops early (Ctrl-C, a crash, a NaN) leaves the file INCOMPLETE\n"
          "with the reason and the family's last checkpoint, never a half-written file;\n"
          "`upfunnel train --resume DIR` continues it with the directory's own config.\n"
          "Every key is documented in configs/README.md; an unknown key, a wrong type or\n"
          "an out-of-range value is reported as FILE:LINE:COL with the line and a caret.\n"
          "\n"
          "options:\n"
          "  --set key.path=value  override a key (YAML value: 64, [10, 20], \"text\");\n"
          "                        repeatable, applied in order after the file\n"
          "  --out DIR             the run directory (default runs/<config name>-<UTC time>);\n"
          "                        a finished run there is replaced, an unfinished one is\n"
          "                        refused (resume it or choose another directory)\n"
          "  --threads N           same as --set train.threads=N (0: every CPU; training\n"
          "                        uses one thread while train.deterministic is true)\n"
          "  --seed S              same as --set train.seed=S\n"
          "  --resume DIR          continue the unfinished run in DIR from its checkpoint\n"
          "  --quiet               print only warnings, errors and the final figures\n"
          "  --json-log            log lines on stderr as JSON objects (train.log stays plain)\n"
          "  --no-progress         no progress bar even on a terminal\n"
          "  --keys [FAMILY]       print the config keys (common, or FAMILY's) as markdown\n"
          "  -h, --help            this text\n"
          "\n"
          "examples:\n"
          "  upfunnel train configs/quickstart.yaml --out runs/quickstart\n"
          "  upfunnel train configs/ml100k_popularity.yaml --set eval.k=[5,10] --seed 7\n"
          "  upfunnel train configs/quickstart.yaml --set 'gates.ndcg@10=>= ref - 0.005' \\\n"
          "      --set eval.reference=runs/quickstart     # fail if worse than last time\n"
          "  upfunnel train --resume runs/quickstart\n"
          "\n"
          "exit status: 0 finished and every gate held; 1 runtime failure (the run is\n"
          "left INCOMPLETE); 2 usage or config error (nothing was trained); 3 the run\n"
          "finished but a quality gate failed (each failed gate is printed).\n",
          f);
}

/* ---- --keys: markdown rows for configs/README.md ---- */

static void key_rows(FILE *f, const upf_cfg_key *keys)
{
    fputs("| key | type | range | default | meaning |\n|---|---|---|---|---|\n", f);
    for (const upf_cfg_key *k = keys; k && k->path; k++) {
        char range[512]; /* long choice lists (the 11 trigger names) must not be cut */
        upf_cfg_key_range(k, range, sizeof range);
        if (k->choices) {
            size_t off = 0;
            for (size_t i = 0; k->choices[i] && off < sizeof range; i++)
                off += (size_t)snprintf(range + off, sizeof range - off, "%s%s", i ? ", " : "", k->choices[i]);
        }
        fprintf(f, "| `%s` | %s | %s | %s | %s |\n", k->path, upf_cfg_type_name(k->type), range[0] ? range : "-",
                k->def ? (k->def[0] ? k->def : "\"\"") : "required", k->doc);
    }
}

static int print_keys(const char *family)
{
    if (!family) {
        printf("### Common keys\n\n");
        key_rows(stdout, upf_config_keys);
        for (size_t i = 0; upf_families[i]; i++) {
            printf("\n### model.family: %s\n\n%s.\n\n", upf_families[i]->name, upf_families[i]->summary);
            key_rows(stdout, upf_families[i]->keys);
        }
        return UPF_EXIT_OK;
    }
    const upf_family *fam = upf_family_find(family);
    if (!fam) return upf_cli_usage_error("train", "--keys: no model family named '%s'", family);
    printf("### model.family: %s\n\n%s.\n\n", fam->name, fam->summary);
    key_rows(stdout, fam->keys);
    return UPF_EXIT_OK;
}

/* Prints the lines of a multi-line message as separate errors. */
static void print_error_lines(const upf_err *err)
{
    const char *m = err->msg;
    /* config errors carry a source line and a caret: print them as one message */
    if (err->status != UPF_ERR_GATE) {
        upf_cli_error("%s", m[0] ? m : upf_status_str(err->status));
        return;
    }
    while (*m) {
        size_t n = strcspn(m, "\n");
        upf_cli_error("%.*s", (int)n, m);
        m += n;
        if (*m) m++;
    }
}

int upf_cmd_train(int argc, char **argv)
{
    if (upf_arg_wants_help(argc, argv)) {
        usage(stdout);
        return UPF_EXIT_OK;
    }
    upf_runner_opts o;
    upf_runner_opts_init(&o);
    const char **ov = upf_calloc((size_t)argc + 2, sizeof *ov);
    char *seed_ov = NULL, *threads_ov = NULL;
    size_t n_ov = 0;
    int rc = UPF_EXIT_USAGE;
    if (!ov) {
        upf_cli_error("out of memory");
        return UPF_EXIT_FAIL;
    }
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if ((r = upf_arg_value(argc, argv, &i, "train", "--set", &v))) {
            if (r < 0) goto done;
            ov[n_ov++] = v;
        } else if ((r = upf_arg_value(argc, argv, &i, "train", "--out", &v))) {
            if (r < 0) goto done;
            o.out_dir = v;
        } else if ((r = upf_arg_value(argc, argv, &i, "train", "--resume", &v))) {
            if (r < 0) goto done;
            o.resume_dir = v;
        } else if ((r = upf_arg_value(argc, argv, &i, "train", "--threads", &v))) {
            int64_t n;
            if (r < 0) goto done;
            if (upf_parse_i64(v, &n) || n < 0 || n > 1024) {
                rc = upf_cli_usage_error("train", "--threads: expected an integer in [0, 1024], got '%s'", v);
                goto done;
            }
            upf_free(threads_ov);
            if (!(threads_ov = upf_malloc(strlen(v) + 32))) goto nomem;
            snprintf(threads_ov, strlen(v) + 32, "train.threads=%s", v);
            ov[n_ov++] = threads_ov;
        } else if ((r = upf_arg_value(argc, argv, &i, "train", "--seed", &v))) {
            uint64_t s;
            if (r < 0) goto done;
            if (upf_parse_u64(v, &s) || s > (uint64_t)INT64_MAX) {
                rc = upf_cli_usage_error("train", "--seed: expected a non-negative integer, got '%s'", v);
                goto done;
            }
            upf_free(seed_ov);
            if (!(seed_ov = upf_malloc(strlen(v) + 32))) goto nomem;
            snprintf(seed_ov, strlen(v) + 32, "train.seed=%s", v);
            ov[n_ov++] = seed_ov;
        } else if (upf_arg_is(argv, i, "--keys")) {
            rc = print_keys(i + 1 < argc ? argv[i + 1] : NULL);
            goto done;
        } else if (upf_arg_is(argv, i, "--quiet") || upf_arg_is(argv, i, "-q")) {
            o.quiet = 1;
        } else if (upf_arg_is(argv, i, "--json-log")) {
            o.json_log = 1;
        } else if (upf_arg_is(argv, i, "--no-progress")) {
            o.progress = 0;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            rc = upf_cli_usage_error("train", "unknown option '%s'", argv[i]);
            goto done;
        } else if (!o.config_path) {
            o.config_path = argv[i];
        } else {
            rc = upf_cli_usage_error("train", "expected one config file, got a second: '%s'", argv[i]);
            goto done;
        }
    }
    if (o.resume_dir && o.config_path) {
        rc = upf_cli_usage_error("train", "--resume continues with the run's own config: give no CONFIG");
        goto done;
    }
    if (o.resume_dir && o.out_dir) {
        rc = upf_cli_usage_error("train", "--resume writes into its own directory: give no --out");
        goto done;
    }
    if (!o.resume_dir && !o.config_path) {
        rc = upf_cli_usage_error("train", "expected a config file (e.g. configs/quickstart.yaml)");
        goto done;
    }
    o.overrides = ov;
    o.n_overrides = n_ov;
    o.summary = stdout;
    upf_cli_setup_log(o.quiet ? UPF_LOG_WARN : UPF_LOG_INFO, o.json_log);
    upf_runner_result res;
    upf_err err;
    upf_err_clear(&err);
    upf_status st = upf_runner_run(&o, &res, &err);
    upf_cli_setup_log(o.quiet ? UPF_LOG_WARN : UPF_LOG_INFO, o.json_log);
    if (st) print_error_lines(&err);
    rc = upf_status_exit_code(st);
    goto done;
nomem:
    upf_cli_error("out of memory");
    rc = UPF_EXIT_FAIL;
done:
    upf_free(seed_ov);
    upf_free(threads_ov);
    upf_free(ov);
    return rc;
}
