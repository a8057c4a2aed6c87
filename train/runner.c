/* runner.c - one experiment from config to finished run directory: load and
 * check the config and its gates (before any training), prepare the
 * directory (INCOMPLETE first), load the data, call the family, check the
 * gates, write metrics.json and per_user.csv, remove INCOMPLETE last.
 * Also the run-context accessors families use, interactions on demand and
 * model saving (upf_run_* in family.h).
 * Not here: the directory, marker and checkpoints (run_dir.c), gates
 * (run_gates.c), ranking evaluation (runner_eval.c), data (runner_data.c),
 * metrics and files (run_metrics.c), logging (run_log.c).
 */
#define _DEFAULT_SOURCE /* sysconf */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gates.h"
#include "runner_internal.h"

void upf_runner_opts_init(upf_runner_opts *o)
{
    memset(o, 0, sizeof *o);
    o->progress = -1;
}

const upf_family *upf_family_find(const char *name)
{
    for (size_t i = 0; upf_families[i]; i++)
        if (strcmp(upf_families[i]->name, name) == 0) return upf_families[i];
    return NULL;
}

int upf_metric_lower_is_better(const char *metric)
{
    static const char *const lower[] = { "loss", "brier", "rmse", "mae", "error", "log_loss", "nll", "seconds",
                                         "perplexity", NULL };
    for (size_t i = 0; lower[i]; i++)
        if (strstr(metric, lower[i])) return 1;
    return 0;
}

/* ---- accessors ---- */

const upf_config *upf_run_config(const upf_run *run) { return run->cfg; }
const upf_dataset *upf_run_dataset(const upf_run *run) { return run->ds; }
const char *upf_run_dir(const upf_run *run) { return run->dir; }
uint64_t upf_run_seed(const upf_run *run) { return (uint64_t)run->cfg->train_seed; }
int upf_run_threads(const upf_run *run) { return run->threads; }
int upf_run_eval_threads(const upf_run *run) { return run->eval_threads; }
int upf_run_resuming(const upf_run *run) { return run->resuming; }

void upf_run_progress(upf_run *run, const char *phase, double done, double total, const char *unit)
{
    run_log_progress(&run->log, phase, done, total, unit);
}

/* ---- interactions ---- */

static upf_status empty_like(const upf_csr *m, upf_csr *out, upf_err *err)
{
    memset(out, 0, sizeof *out);
    out->n_rows = m->n_rows;
    out->n_cols = m->n_cols;
    if (!(out->ptr = upf_calloc(m->n_rows + 1, sizeof *out->ptr)))
        return upf_err_set(err, UPF_ERR_NOMEM, "interactions: out of memory");
    return UPF_OK;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Validation split params: the same kind as the test split, carved from train. */
static upf_status valid_params(const upf_config *c, const upf_csr *train, upf_split_params *p, upf_err *err)
{
    *p = upf_config_split_params(c);
    if (p->kind == UPF_SPLIT_RANDOM) {
        p->test_frac = c->split_valid_frac;
        p->seed = (uint64_t)c->split_seed + 1;
    } else if (p->kind == UPF_SPLIT_TEMPORAL) {
        /* the cutoff that leaves valid_frac of the training entries after it */
        int64_t nnz = upf_csr_nnz(train);
        if (!train->time || nnz == 0) return upf_err_set(err, UPF_ERR_DATA, "split.valid_frac: no times to cut at");
        int64_t *t = upf_malloc((size_t)nnz * sizeof *t);
        if (!t) return upf_err_set(err, UPF_ERR_NOMEM, "interactions: out of memory");
        memcpy(t, train->time, (size_t)nnz * sizeof *t);
        qsort(t, (size_t)nnz, sizeof *t, cmp_i64);
        size_t at = (size_t)((double)nnz * (1.0 - c->split_valid_frac));
        if (at >= (size_t)nnz) at = (size_t)nnz - 1;
        p->cutoff = t[at];
        upf_free(t);
    }
    return UPF_OK;
}

upf_status upf_run_interactions(upf_run *run, const upf_csr **train, const upf_csr **valid, const upf_csr **test,
                                upf_err *err)
{
    if (!run->have_inter) {
        double t0 = run_now();
        upf_csr all, train_full;
        memset(&all, 0, sizeof all);
        memset(&train_full, 0, sizeof train_full);
        upf_interaction_params ip = upf_config_interaction_params(run->cfg);
        upf_split_params sp = upf_config_split_params(run->cfg);
        upf_status st = upf_interactions_build(run->ds, &ip, &all, err);
        if (!st) st = upf_split_csr(&all, &sp, &train_full, &run->test, err);
        upf_csr_free(&all);
        if (!st && run->cfg->split_valid_frac > 0) {
            upf_split_params vp;
            st = valid_params(run->cfg, &train_full, &vp, err);
            if (!st) st = upf_split_csr(&train_full, &vp, &run->train, &run->valid, err);
            upf_csr_free(&train_full);
        } else if (!st) {
            run->train = train_full; /* ownership moves */
            memset(&train_full, 0, sizeof train_full);
            st = empty_like(&run->train, &run->valid, err);
        }
        if (st) {
            upf_csr_free(&train_full);
            upf_csr_free(&run->train);
            upf_csr_free(&run->valid);
            upf_csr_free(&run->test);
            upf_err_prefix(err, "interactions");
            return st;
        }
        if (upf_csr_nnz(&run->train) == 0)
            return upf_err_set(err, UPF_ERR_DATA,
                               "interactions: no training interactions (check data.events, data.min_rating, "
                               "data.begin/end and the split)");
        run->have_inter = 1;
        run->t_inter += run_now() - t0;
        upf_log(UPF_LOG_INFO, "interactions: %lld train, %lld validation, %lld test (%s split)",
                (long long)upf_csr_nnz(&run->train), (long long)upf_csr_nnz(&run->valid),
                (long long)upf_csr_nnz(&run->test), upf_split_kind_name(sp.kind));
    }
    if (train) *train = &run->train;
    if (valid) *valid = &run->valid;
    if (test) *test = &run->test;
    return UPF_OK;
}

/* ---- the model ---- */

static int64_t pinned_time(void)
{
    const char *e = getenv("SOURCE_DATE_EPOCH");
    if (e && *e) {
        char *end;
        errno = 0;
        long long v = strtoll(e, &end, 10);
        if (!*end && !errno && v >= 0) return v;
    }
    return (int64_t)time(NULL);
}

upf_status upf_run_save_model(upf_run *run, upf_mw *w, upf_err *err)
{
    const upf_config *c = run->cfg;
    if (!c->export_enabled) {
        upf_log(UPF_LOG_INFO, "export.enabled is false: no model.upf");
        return UPF_OK;
    }
    double t0 = run_now();
    upf_status st = UPF_OK;
    int64_t tmin = INT64_MAX, tmax = INT64_MIN;
    for (int64_t e = 0; run->ds && e < run->ds->n_events; e++) {
        if (run->ds->ev_time[e] < tmin) tmin = run->ds->ev_time[e];
        if (run->ds->ev_time[e] > tmax) tmax = run->ds->ev_time[e];
    }
#define META(call)                                                                                          \
    do {                                                                                                    \
        if (!st && (st = (call)) != UPF_OK)                                                                 \
            upf_err_set(err, st, "model.upf: cannot add metadata (%s)", upf_status_str(st));                 \
    } while (0)
    META(upf_mw_meta_str(w, "model.family", run->family->name));
    META(upf_mw_meta_str(w, "model.name", c->model_name[0] ? c->model_name : c->name));
    META(upf_mw_meta_u64(w, "train.seed", (uint64_t)c->train_seed));
    META(upf_mw_meta_str(w, "train.config_yaml", upf_config_resolved_yaml(run->loaded)));
    META(upf_mw_meta_str(w, "data.path", run->data_desc ? run->data_desc : ""));
    if (tmin <= tmax) {
        META(upf_mw_meta_i64(w, "data.time_min", tmin));
        META(upf_mw_meta_i64(w, "data.time_max", tmax));
    }
    for (size_t i = 0; i < run->metrics.n && !st; i++) {
        const metric_entry *m = &run->metrics.e[i];
        if (m->is_str || !isfinite(m->v) || strstr(m->path, "baseline")) continue;
        char key[300];
        upf_metric_meta_key(m->path, key, sizeof key);
        META(upf_mw_meta_f64(w, key, m->v));
    }
    if (c->export_timestamp) META(upf_mw_meta_i64(w, "provenance.created_unix", pinned_time()));
#undef META
    if (!st) {
        char *path = upf_run_path(run, "model.upf");
        if (!path) return upf_err_set(err, UPF_ERR_NOMEM, "model.upf: out of memory");
        st = upf_mw_write(w, path, err);
        if (!st) upf_log(UPF_LOG_INFO, "model: %s", path);
        upf_free(path);
    }
    if (!st) run->model_saved = 1;
    run->t_save += run_now() - t0;
    return st;
}

/* ---- the closing summary ---- */

/* The model's top-level figures in a table beside each baseline's. */

/* The console table: top-level numeric figures, not per-segment or counts. */
static int shown_in_table(const metric_entry *e)
{
    return !e->is_str && !strchr(e->path, '.') && strncmp(e->path, "users_", 6) != 0;
}

/* Counts (customers, transactions) read as integers, figures with 4 decimals. */
static void print_value(FILE *f, int width, double v)
{
    if (v == floor(v) && fabs(v) >= 2 && fabs(v) < 1e15) fprintf(f, "%*.0f", width, v); /* 0 and 1 are figures */
    else fprintf(f, "%*.4f", width, v);
}

static void print_summary(const upf_run *run, const gate_set *gs, double secs, FILE *f)
{
    const metric_store *m = &run->metrics;
    const char *base[16];
    size_t base_len[16], n_base = 0;
    for (size_t i = 0; i < m->n && n_base < 16; i++) {
        const char *p = m->e[i].path;
        if (strncmp(p, "baseline_", 9) != 0) continue;
        size_t l = strcspn(p, ".");
        int seen = 0;
        for (size_t b = 0; b < n_base; b++) seen |= base_len[b] == l && strncmp(base[b], p, l) == 0;
        if (!seen) {
            base[n_base] = p;
            base_len[n_base++] = l;
        }
    }
    fprintf(f, "run: %s (%s, %.1f s)\n", run->dir, run->family->name, secs);
    int width = 14; /* the name column fits the longest name shown */
    for (size_t i = 0; i < m->n; i++)
        if (shown_in_table(&m->e[i]) && (int)strlen(m->e[i].path) > width) width = (int)strlen(m->e[i].path);
    int header = 0;
    for (size_t i = 0; i < m->n; i++) {
        const metric_entry *e = &m->e[i];
        if (!shown_in_table(e)) continue;
        if (!header) {
            fprintf(f, "  %-*s %10s", width, "metric", "model");
            for (size_t b = 0; b < n_base; b++) fprintf(f, " %*.*s", 18, (int)(base_len[b] - 9), base[b] + 9);
            fputc('\n', f);
            header = 1;
        }
        fprintf(f, "  %-*s ", width, e->path);
        print_value(f, 10, e->v);
        for (size_t b = 0; b < n_base; b++) {
            char path[300];
            snprintf(path, sizeof path, "%.*s.%s", (int)base_len[b], base[b], e->path);
            const metric_entry *be = ms_get(m, path);
            fputc(' ', f);
            if (be && !be->is_str) print_value(f, 18, be->v);
            else fprintf(f, "%18s", "-");
        }
        fputc('\n', f);
    }
    const metric_entry *ev = ms_get(m, "users_evaluated"), *sk = ms_get(m, "users_skipped");
    if (ev) fprintf(f, "  users: %.0f evaluated%s%.0f skipped (no test item)\n", ev->v, sk ? ", " : "", sk ? sk->v : 0.0);
    for (size_t i = 0; i < gs->n; i++) {
        const gate_result *r = &gs->r[i];
        if (r->missing) fprintf(f, "  gate %s %s: no such metric\n", r->metric, r->expr);
        else fprintf(f, "  gate %s %s: %.6g (bound %.6g) %s\n", r->metric, r->expr, r->value, r->bound,
                     r->holds ? "holds" : "FAILED");
    }
    fflush(f);
}

/* ---- the run ---- */

static int online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 1024 ? 1024 : (int)n;
}

static void run_free(upf_run *run)
{
    run_eval_free(run);
    upf_csr_free(&run->train);
    upf_csr_free(&run->valid);
    upf_csr_free(&run->test);
    ms_free(&run->metrics);
    upf_per_user_free(&run->per_user);
    upf_free(run->user_ids);
    if (run->curves) fclose(run->curves);
    for (size_t i = 0; i < run->n_curve_cols; i++) upf_free(run->curve_cols ? run->curve_cols[i] : NULL);
    upf_free(run->curve_cols);
    upf_dataset_free(run->ds_owned);
    upf_free(run->data_desc);
    upf_free(run->dir);
    upf_config_free(run->loaded);
}

upf_status upf_runner_load_data(const char *config_path, const char *const *overrides, size_t n_overrides,
                                upf_dataset **out, char **desc, upf_err *err)
{
    *out = NULL;
    *desc = NULL;
    upf_runner_opts o;
    upf_runner_opts_init(&o);
    upf_run run;
    memset(&run, 0, sizeof run);
    run.opts = &o;
    upf_cfg_load_opts lo = { config_path, NULL, NULL, overrides, n_overrides, NULL };
    upf_status st = upf_config_load_opts(&lo, &run.loaded, err);
    if (!st) {
        run.cfg = upf_config_common(run.loaded);
        st = run_resolve_data(&run, NULL, err);
    }
    if (!st) st = run_load_data(&run, err);
    if (!st) {
        *out = run.ds_owned;
        *desc = run.data_desc;
        run.ds_owned = NULL;
        run.data_desc = NULL;
    }
    upf_dataset_free(run.ds_owned);
    upf_free(run.data_desc);
    upf_config_free(run.loaded);
    return st;
}

static const char *stop_status(upf_status st)
{
    switch (st) {
    case UPF_ERR_INTERRUPTED: return "interrupted";
    case UPF_ERR_NUMERIC: return "diverged";
    case UPF_ERR_NOMEM: return "out-of-memory";
    default: return "failed";
    }
}

upf_status upf_runner_run(const upf_runner_opts *o, upf_runner_result *res, upf_err *err)
{
    upf_runner_result scratch_res;
    if (!res) res = &scratch_res;
    memset(res, 0, sizeof *res);
    res->primary_value = NAN;
    res->higher_is_better = 1;
    double t0 = run_now();
    upf_run run;
    memset(&run, 0, sizeof run);
    run.opts = o;
    run.resume_curve_rows = -1;
    gate_set gates;
    memset(&gates, 0, sizeof gates);
    upf_status st = UPF_OK;
    int log_open = 0, dir_ready = 0;
    char cfg_path[4200];

    /* 1. the config and its gates: errors here leave nothing behind */
    if (o->resume_dir) {
        if (o->n_overrides)
            return upf_err_set(err, UPF_ERR_ARG, "--resume %s: uses the run's own config.yaml; drop --set/--seed/--threads",
                               o->resume_dir);
        snprintf(cfg_path, sizeof cfg_path, "%s/config.yaml", o->resume_dir);
    } else if (o->config_path) {
        snprintf(cfg_path, sizeof cfg_path, "%s", o->config_path);
    } else {
        return upf_err_set(err, UPF_ERR_ARG, "train: expected a config file");
    }
    upf_cfg_load_opts lo = { cfg_path, NULL, NULL, o->overrides, o->n_overrides, o->families };
    if ((st = upf_config_load_opts(&lo, &run.loaded, err))) goto done;
    run.cfg = upf_config_common(run.loaded);
    run.family = upf_config_family(run.loaded);
    run.eval_threads = run.cfg->train_threads > 0 ? (int)run.cfg->train_threads : online_cpus();
    run.threads = run.cfg->train_deterministic ? 1 : run.eval_threads;
    if ((st = run_gates_prepare(&run, &gates, err))) goto done;
    {
        char prim[128];
        upf_config_primary(run.cfg, prim, sizeof prim);
        snprintf(res->primary, sizeof res->primary, "%s", prim);
        res->higher_is_better = !upf_metric_lower_is_better(prim);
    }

    /* 2. the data's whereabouts (a missing file is a config error), then the
     * directory: INCOMPLETE first */
    char hint[4200] = "";
    if (o->resume_dir) run_marker_field(o->resume_dir, "data", hint, sizeof hint);
    if ((st = run_resolve_data(&run, hint[0] ? hint : NULL, err))) goto done;
    if (o->resume_dir) {
        if ((st = run_prepare_resume_dir(&run, o->resume_dir, err))) goto done;
    } else {
        char out[4096];
        if (o->out_dir) {
            snprintf(out, sizeof out, "%s", o->out_dir);
        } else {
            char stamp[40];
            run_utc_stamp(stamp, sizeof stamp, 1);
            snprintf(out, sizeof out, "runs/%s-%s", run.cfg->name, stamp);
        }
        if ((st = run_prepare_fresh_dir(&run, out, err))) goto done;
    }
    dir_ready = 1;
    snprintf(res->dir, sizeof res->dir, "%s", run.dir);
    {
        char *log_path = upf_run_path(&run, "train.log");
        int bar = o->progress > 0 || (o->progress < 0 && isatty(STDERR_FILENO));
        st = log_path ? run_log_open(&run.log, log_path, run.resuming, o->quiet, o->json_log, bar, err)
                      : upf_err_set(err, UPF_ERR_NOMEM, "out of memory");
        upf_free(log_path);
        if (st) goto done;
        log_open = 1;
        upf_set_log(run_log_hook, &run.log);
    }
    upf_log(UPF_LOG_INFO, "%s %s: model.family %s, seed %lld, %d training thread%s, %d evaluation thread%s -> %s",
            run.resuming ? "resuming" : "run", run.cfg->file, run.family->name, (long long)run.cfg->train_seed,
            run.threads, run.threads == 1 ? "" : "s", run.eval_threads, run.eval_threads == 1 ? "" : "s", run.dir);

    /* 3. data, 4. the family */
    if ((st = run_load_data(&run, err))) goto done;
    if ((st = run.family->run(&run, upf_config_family_params(run.loaded), err))) {
        if (upf_interrupted() && st != UPF_ERR_INTERRUPTED && st != UPF_ERR_NOMEM) st = err->status = UPF_ERR_INTERRUPTED;
        goto done;
    }
    if (run.curves) fflush(run.curves);

    /* 5. gates, files, INCOMPLETE last */
    upf_status gst = run_gates_check(&run, &gates, err);
    res->gates_total = gates.n;
    for (size_t i = 0; i < gates.n; i++) res->gates_failed += !gates.r[i].holds;
    double secs = run_now() - t0;
    upf_err ferr;
    upf_status fst = run_write_metrics(&run, gates.r, gates.n, "complete", secs, &ferr);
    if (!fst) fst = run_write_per_user(&run, &ferr);
    if (fst) {
        st = fst;
        *err = ferr;
        goto done;
    }
    run_remove_file(&run, RUN_CKPT);
    run_remove_file(&run, RUN_MARKER);
    double pv;
    if (res->primary[0] && upf_run_metric_get(&run, res->primary, &pv) == UPF_OK) res->primary_value = pv;
    else if (!run.cfg->eval_primary[0]) {
        /* no headline configured or produced: the family's first top-level figure */
        for (size_t i = 0; i < run.metrics.n; i++)
            if (!run.metrics.e[i].is_str && !strchr(run.metrics.e[i].path, '.') &&
                strncmp(run.metrics.e[i].path, "users_", 6) != 0) {
                snprintf(res->primary, sizeof res->primary, "%s", run.metrics.e[i].path);
                res->primary_value = run.metrics.e[i].v;
                res->higher_is_better = !upf_metric_lower_is_better(res->primary);
                break;
            }
    }
    upf_log(UPF_LOG_INFO, "run finished in %.1f s: %s", secs, run.dir);
    if (o->summary) print_summary(&run, &gates, secs, o->summary);
    st = gst;

done:
    res->seconds = run_now() - t0;
    if (st && dir_ready && st != UPF_ERR_GATE && !(st == UPF_ERR_CONFIG && res->gates_total)) {
        /* the run stopped: say why in the marker, keep the checkpoint */
        upf_err merr;
        if (log_open) run_log_file(&run.log, UPF_LOG_ERROR, err ? err->msg : upf_status_str(st));
        if (run_write_marker(&run, stop_status(st), err ? err->msg : upf_status_str(st), &merr) != UPF_OK)
            if (log_open) run_log_file(&run.log, UPF_LOG_ERROR, merr.msg);
        upf_log(UPF_LOG_INFO, "the run is incomplete; continue it with: upfunnel train --resume %s", run.dir);
    }
    if (log_open) {
        upf_set_log(NULL, NULL);
        run_log_close(&run.log);
    }
    run_gates_free(&gates);
    run_free(&run);
    return st;
}
