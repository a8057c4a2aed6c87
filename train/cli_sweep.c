/* cli_sweep.c - `upfunnel sweep`: a grid of runs from one config. Any key
 * written as a list where the schema wants a single value (model.dim: [32,
 * 64]) is an axis; each point of the cartesian product is a run in its own
 * sub-directory; summary.csv and a printed table rank the points by the
 * primary metric (eval.primary, else the headline metric).
 * Every point's config is validated before the first one runs.
 */
#define _DEFAULT_SOURCE /* gmtime_r */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../model/outfile.h"
#include "cli.h"
#include "commands.h"
#include "runner.h"

static void usage(FILE *f)
{
    fputs("usage: upfunnel sweep CONFIG [--set key.path=value]... [--out DIR] [--threads N]\n"
          "                      [--seed S] [--quiet] [--json-log] [--no-progress]\n"
          "\n"
          "Runs a grid of experiments. Every key of CONFIG (or of a --set) given as a\n"
          "list where the schema expects one value becomes an axis of the grid:\n"
          "\n"
          "  model:\n"
          "    neighbors: [20, 50, 100]        # 3 values\n"
          "    similarity: [cosine, conditional]  # x 2 = 6 runs\n"
          "\n"
          "(a list-valued key such as eval.k sweeps when given a list of lists). Each\n"
          "point runs as `upfunnel train` would, into DIR/pNN_<label>/, after every\n"
          "point's config has been checked. DIR/summary.csv and the printed table rank\n"
          "the points by the primary metric: eval.primary, else ndcg@10 (or ndcg at the\n"
          "first cut-off), else the family's first figure; lower is better for names\n"
          "with loss, error, brier, rmse or mae.\n"
          "\n"
          "options:\n"
          "  --set key.path=value  override a key; a list value adds an axis ([32,64])\n"
          "  --out DIR             the sweep directory (default runs/sweep-<name>-<UTC time>)\n"
          "  --threads N, --seed S as for `upfunnel train` (the same for every point)\n"
          "  --quiet               only the ranked table and errors\n"
          "  --json-log            log lines as JSON objects\n"
          "  --no-progress         no progress bars\n"
          "  -h, --help            this text\n"
          "\n"
          "examples:\n"
          "  upfunnel sweep configs/ml100k_cooccur.yaml --set 'model.neighbors=[20,50,200]'\n"
          "  upfunnel sweep configs/quickstart.yaml --set 'model.family=[popularity,cooccur]' \\\n"
          "      --out runs/families\n"
          "\n"
          "exit status: 0 every point ran and at least one held its gates (or there are\n"
          "none); 1 a point failed to run; 2 usage or config error (nothing ran); 3 every\n"
          "point failed a quality gate.\n",
          f);
}

typedef struct point {
    size_t index;
    char dir[4096];
    upf_status st;
    upf_runner_result res;
} point;

static int by_primary(const void *a, const void *b)
{
    const point *x = a, *y = b;
    int xn = x->st != UPF_OK && x->st != UPF_ERR_GATE, yn = y->st != UPF_OK && y->st != UPF_ERR_GATE;
    double xv = x->res.primary_value, yv = y->res.primary_value;
    xn |= isnan(xv);
    yn |= isnan(yv);
    if (xn != yn) return xn - yn;
    if (!xn && xv != yv) {
        int hib = x->res.higher_is_better;
        return (hib ? xv < yv : xv > yv) ? 1 : -1;
    }
    return (x->index > y->index) - (x->index < y->index);
}

/* "dim=32 lr=0.05" -> "dim-32_lr-0.05" (safe as a directory name) */
static void sanitize(const char *label, char *out, size_t n)
{
    size_t k = 0;
    for (const char *p = label; *p && k + 1 < n && k < 80; p++) {
        char c = *p;
        if (c == '=') c = '-';
        else if (c == ' ') c = '_';
        else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                   c == '-' || c == '_'))
            continue;
        out[k++] = c;
    }
    out[k] = '\0';
}

static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static const char *point_status(const point *p)
{
    switch (p->st) {
    case UPF_OK: return "ok";
    case UPF_ERR_GATE: return "gate_failed";
    case UPF_ERR_INTERRUPTED: return "interrupted";
    default: return "failed";
    }
}

/* --threads/--seed as an override "key=v"; nonzero (rc set) on a bad value. */
static int flag_override(const char *v, const char *flag, const char *key, int64_t max, char **slot,
                         const char **ov, size_t *n_ov, int *rc)
{
    int64_t n;
    if (upf_parse_i64(v, &n) || n < 0 || n > max) {
        *rc = upf_cli_usage_error("sweep", "%s: expected an integer in [0, %lld], got '%s'", flag, (long long)max, v);
        return -1;
    }
    upf_free(*slot);
    size_t len = strlen(v) + strlen(key) + 2;
    if (!(*slot = upf_malloc(len))) {
        upf_cli_error("out of memory");
        *rc = UPF_EXIT_FAIL;
        return -1;
    }
    snprintf(*slot, len, "%s=%s", key, v);
    ov[(*n_ov)++] = *slot;
    return 0;
}

int upf_cmd_sweep(int argc, char **argv)
{
    if (upf_arg_wants_help(argc, argv)) {
        usage(stdout);
        return UPF_EXIT_OK;
    }
    const char *config = NULL, *out = NULL;
    int quiet = 0, json = 0, progress = -1, rc = UPF_EXIT_USAGE;
    size_t n_ov = 0;
    const char **ov = upf_calloc((size_t)argc + 64, sizeof *ov);
    char *extra[2] = { NULL, NULL };
    upf_cfg_grid grid;
    memset(&grid, 0, sizeof grid);
    point *pts = NULL;
    upf_dataset *data = NULL;
    char *data_desc = NULL;
    upf_err err;
    upf_err_clear(&err);
    if (!ov) {
        upf_cli_error("out of memory");
        return UPF_EXIT_FAIL;
    }
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if ((r = upf_arg_value(argc, argv, &i, "sweep", "--set", &v))) {
            if (r < 0) goto done;
            ov[n_ov++] = v;
        } else if ((r = upf_arg_value(argc, argv, &i, "sweep", "--out", &v))) {
            if (r < 0) goto done;
            out = v;
        } else if ((r = upf_arg_value(argc, argv, &i, "sweep", "--threads", &v))) {
            if (r < 0 || flag_override(v, "--threads", "train.threads", 1024, &extra[0], ov, &n_ov, &rc)) goto done;
        } else if ((r = upf_arg_value(argc, argv, &i, "sweep", "--seed", &v))) {
            if (r < 0 || flag_override(v, "--seed", "train.seed", INT64_MAX, &extra[1], ov, &n_ov, &rc)) goto done;
        } else if (upf_arg_is(argv, i, "--quiet") || upf_arg_is(argv, i, "-q")) {
            quiet = 1;
        } else if (upf_arg_is(argv, i, "--json-log")) {
            json = 1;
        } else if (upf_arg_is(argv, i, "--no-progress")) {
            progress = 0;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            rc = upf_cli_usage_error("sweep", "unknown option '%s'", argv[i]);
            goto done;
        } else if (!config) {
            config = argv[i];
        } else {
            rc = upf_cli_usage_error("sweep", "expected one config file, got a second: '%s'", argv[i]);
            goto done;
        }
    }
    if (!config) {
        rc = upf_cli_usage_error("sweep", "expected a config file");
        goto done;
    }
    upf_cli_setup_log(quiet ? UPF_LOG_WARN : UPF_LOG_INFO, json);
    upf_status st = upf_config_grid(config, ov, n_ov, &grid, &err);
    if (st) {
        rc = upf_cli_fail(&err);
        goto done;
    }
    /* every point's config is checked before anything runs */
    size_t base_n = n_ov;
    for (size_t p = 0; p < grid.n_points; p++) {
        for (size_t a = 0; a < grid.n_axes; a++) ov[base_n + a] = grid.point_sets[p][a];
        upf_cfg_loaded *c = NULL;
        st = upf_config_load(config, NULL, ov, base_n + grid.n_axes, &c, &err);
        upf_config_free(c);
        if (st) {
            if (grid.n_axes) upf_err_prefix(&err, "grid point %zu (%s)", p + 1, grid.point_labels[p]);
            rc = upf_cli_fail(&err);
            goto done;
        }
    }
    char dir[4096];
    if (out) {
        snprintf(dir, sizeof dir, "%s", out);
    } else {
        const char *b = strrchr(config, '/');
        b = b ? b + 1 : config;
        char stamp[32];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
        snprintf(dir, sizeof dir, "runs/sweep-%.*s-%s", (int)strcspn(b, "."), b, stamp);
    }
    if (upf_cli_mkdirs(dir, NULL) != 0) {
        upf_cli_error("%s: cannot create the sweep folder: %s", dir, strerror(errno));
        rc = UPF_EXIT_FAIL;
        goto done;
    }
    if (!(pts = upf_calloc(grid.n_points, sizeof *pts))) goto nomem;
    /* the data is read once when no axis touches the data section */
    int data_axis = 0;
    for (size_t a = 0; a < grid.n_axes; a++) data_axis |= strncmp(grid.axis_paths[a], "data.", 5) == 0;
    if (!data_axis && grid.n_points > 1) {
        for (size_t a = 0; a < grid.n_axes; a++) ov[base_n + a] = grid.point_sets[0][a];
        if ((st = upf_runner_load_data(config, ov, base_n + grid.n_axes, &data, &data_desc, &err))) {
            rc = upf_cli_fail(&err);
            goto done;
        }
    }
    int width = grid.n_points >= 100 ? 3 : 2;
    size_t n_failed = 0, n_gate = 0;
    for (size_t p = 0; p < grid.n_points; p++) {
        char label[200];
        sanitize(grid.point_labels[p], label, sizeof label);
        pts[p].index = p;
        snprintf(pts[p].dir, sizeof pts[p].dir, "%s/p%0*zu%s%s", dir, width, p + 1, label[0] ? "_" : "", label);
        for (size_t a = 0; a < grid.n_axes; a++) ov[base_n + a] = grid.point_sets[p][a];
        upf_runner_opts o;
        upf_runner_opts_init(&o);
        o.config_path = config;
        o.overrides = ov;
        o.n_overrides = base_n + grid.n_axes;
        o.out_dir = pts[p].dir;
        o.quiet = quiet;
        o.json_log = json;
        o.progress = progress;
        o.dataset = data;
        o.dataset_desc = data_desc;
        if (!quiet)
            fprintf(stderr, "== point %zu/%zu%s%s -> %s\n", p + 1, grid.n_points, grid.n_axes ? ": " : "",
                    grid.point_labels[p], pts[p].dir);
        upf_err perr;
        upf_err_clear(&perr);
        pts[p].st = upf_runner_run(&o, &pts[p].res, &perr);
        upf_cli_setup_log(quiet ? UPF_LOG_WARN : UPF_LOG_INFO, json);
        if (pts[p].st == UPF_ERR_GATE) n_gate++;
        else if (pts[p].st) {
            n_failed++;
            upf_cli_error("point %zu (%s): %s", p + 1, grid.point_labels[p], perr.msg);
            if (pts[p].st == UPF_ERR_INTERRUPTED || upf_interrupted()) {
                grid.n_points = p + 1; /* stop here; rank what ran */
                break;
            }
        }
    }
    qsort(pts, grid.n_points, sizeof *pts, by_primary);
    const char *primary = grid.n_points ? pts[0].res.primary : "";
    /* summary.csv */
    char path[4200];
    snprintf(path, sizeof path, "%s/summary.csv", dir);
    upf_outfile of;
    if ((st = upf_outfile_open(&of, path, &err))) {
        rc = upf_cli_fail(&err);
        goto done;
    }
    fputs("rank,point,", of.f);
    for (size_t a = 0; a < grid.n_axes; a++) {
        csv_field(of.f, grid.axis_paths[a]);
        fputc(',', of.f);
    }
    fputs("metric,value,status,gates_failed,seconds,dir\n", of.f);
    for (size_t r = 0; r < grid.n_points; r++) {
        const point *pt = &pts[r];
        fprintf(of.f, "%zu,%zu,", r + 1, pt->index + 1);
        for (size_t a = 0; a < grid.n_axes; a++) {
            const char *set = grid.point_sets[pt->index][a];
            csv_field(of.f, strchr(set, '=') + 1);
            fputc(',', of.f);
        }
        csv_field(of.f, pt->res.primary);
        if (isnan(pt->res.primary_value)) fputs(",,", of.f);
        else fprintf(of.f, ",%.10g,", pt->res.primary_value);
        fprintf(of.f, "%s,%zu,%.3f,", point_status(pt), pt->res.gates_failed, pt->res.seconds);
        csv_field(of.f, pt->dir);
        fputc('\n', of.f);
    }
    if ((st = upf_outfile_commit(&of, &err))) {
        rc = upf_cli_fail(&err);
        goto done;
    }
    /* the printed table */
    printf("sweep: %zu point%s, ranked by %s (%s is better) -> %s\n", grid.n_points, grid.n_points == 1 ? "" : "s",
           primary[0] ? primary : "(no metric)", grid.n_points && !pts[0].res.higher_is_better ? "lower" : "higher",
           path);
    printf("  %4s  %-40s %12s  %-11s %8s\n", "rank", "point", primary[0] ? primary : "value", "status", "seconds");
    for (size_t r = 0; r < grid.n_points; r++) {
        const point *pt = &pts[r];
        char v[32];
        if (isnan(pt->res.primary_value)) snprintf(v, sizeof v, "-");
        else snprintf(v, sizeof v, "%.4f", pt->res.primary_value);
        printf("  %4zu  %-40.40s %12s  %-11s %8.1f\n", r + 1, grid.n_axes ? grid.point_labels[pt->index] : "(single)",
               v, point_status(pt), pt->res.seconds);
    }
    if (n_failed) rc = UPF_EXIT_FAIL;
    else if (n_gate && n_gate == grid.n_points) rc = UPF_EXIT_GATE;
    else rc = UPF_EXIT_OK;
    goto done;
nomem:
    upf_cli_error("out of memory");
    rc = UPF_EXIT_FAIL;
done:
    upf_dataset_free(data);
    upf_free(data_desc);
    upf_free(pts);
    upf_cfg_grid_free(&grid);
    upf_free(extra[0]);
    upf_free(extra[1]);
    upf_free(ov);
    return rc;
}
