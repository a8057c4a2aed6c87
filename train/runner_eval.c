/* runner_eval.c - ranking evaluation inside a run: the model's figures, the
 * eval.segments, and the eval.baselines, all through the project's evaluator
 * (eval/rank_eval.h) on the same split and with the same settings, so every
 * model is reported next to its baselines.
 *
 * Segments (keys in metrics.json):
 *   cold_items.*            test items without any training interaction only
 *   activity.{low,mid,high}.*  users by training interactions, in tertiles of
 *                           the evaluated users (thresholds recorded)
 *   new_returning.{new,returning}.*  users without / with training interactions
 * Off-policy (eval.ope.enabled; eval/ope.h): the scorer's top-P slates against
 * the dataset's logged impressions, under ope.* (and baseline_<name>.ope.*).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../datasets/synth.h"
#include "../eval/ope.h"
#include "../eval/rank_eval.h"
#include "baselines.h"
#include "runner_internal.h"

void run_eval_free(upf_run *run)
{
    upf_synth_truth_free(run->ope_truth);
    run->ope_truth = NULL;
}

/* The planted truth of a generated shop (kept from data.source synth, or
 * DATA.truth.h5 next to data.path), or NULL. Loaded once per run. */
static const upf_synth_truth *ope_truth(upf_run *run)
{
    if (!run->ope_truth_tried) {
        run->ope_truth_tried = 1;
        const char *dp = run->data_desc ? run->data_desc : "";
        size_t L = strlen(dp);
        char path[4096];
        if (run->cfg->data_source == 0 && L > 3 && L < sizeof path - 16 && strcmp(dp + L - 3, ".h5") == 0) {
            snprintf(path, sizeof path, "%.*s.truth.h5", (int)(L - 3), dp);
            upf_synth_truth *t = NULL;
            upf_err e;
            if (access(path, R_OK) == 0) {
                if (upf_synth_truth_read(path, &t, &e) == UPF_OK) run->ope_truth = t;
                else upf_log(UPF_LOG_WARN, "eval.ope: %s: %s (no true values)", path, e.msg);
            }
        }
    }
    return run->ope_truth;
}

/* The true value of s's slates when the truth describes this log, else NaN. */
static double ope_true_value(upf_run *run, const upf_scorer *s, double *logging, upf_err *err)
{
    *logging = (double)NAN;
    const upf_synth_truth *t = ope_truth(run);
    if (!t) return (double)NAN;
    const upf_dataset *ds = upf_run_dataset(run);
    const upf_impressions *im = &ds->impressions;
    int32_t *slates = NULL;
    size_t n_ctx = 0, P = 0;
    if (upf_ope_slates(im, s, ds->n_users, ds->n_items, &slates, &n_ctx, &P, err)) return (double)NAN;
    int ok = t->n_contexts == n_ctx && t->n_positions == P && t->n_users == ds->n_users && im->n == n_ctx * P;
    for (size_t c = 0; ok && c < n_ctx; c++) ok = t->context_user[c] == im->user[c * P];
    double v = 0.0;
    for (size_t c = 0; ok && c < n_ctx; c++) {
        double x = upf_synth_slate_value(t, c, slates + c * P);
        ok = x >= 0.0;
        v += x;
    }
    upf_free(slates);
    if (!ok) {
        upf_log(UPF_LOG_WARN, "eval.ope: the generated truth does not describe this impression log; no true values");
        return (double)NAN;
    }
    *logging = t->logging_value;
    return v / (double)n_ctx;
}

typedef struct eval_setup {
    const upf_csr *train, *test;
    upf_metric_spec *specs;
    size_t n_specs;
    upf_rank_eval_params params;
} eval_setup;

static upf_status setup(upf_run *run, eval_setup *e, upf_err *err)
{
    memset(e, 0, sizeof *e);
    const upf_config *c = run->cfg;
    upf_status st = upf_run_interactions(run, &e->train, NULL, &e->test, err);
    if (st) return st;
    st = upf_metric_specs_grid((const char *const *)c->eval_metrics.v, c->eval_metrics.n, c->eval_k.v, c->eval_k.n,
                               &e->specs, &e->n_specs, err);
    if (st) {
        upf_err_prefix(err, "eval.metrics");
        return st == UPF_ERR_NOMEM ? st : (err->status = UPF_ERR_CONFIG);
    }
    e->params = upf_rank_eval_params_default();
    e->params.metrics = e->specs;
    e->params.n_metrics = e->n_specs;
    e->params.gain = c->eval_gain == 1 ? UPF_GAIN_LINEAR : UPF_GAIN_EXP;
    e->params.empty = c->eval_empty == 1 ? UPF_EMPTY_ZERO : c->eval_empty == 2 ? UPF_EMPTY_ONE : UPF_EMPTY_SKIP;
    e->params.exclude_train = c->eval_exclude_train;
    e->params.threads = (size_t)(run->eval_threads > 256 ? 256 : run->eval_threads);
    return UPF_OK;
}

/* Records a result's means under prefix ("" for the model's own figures). */
static upf_status record(upf_run *run, const char *prefix, const upf_rank_eval_result *r)
{
    char path[300];
    upf_status st = UPF_OK;
    for (size_t m = 0; m < r->n_metrics && !st; m++) {
        snprintf(path, sizeof path, "%s%s", prefix, r->names[m]);
        st = upf_run_metric(run, path, r->values[m]);
    }
    snprintf(path, sizeof path, "%susers_evaluated", prefix);
    if (!st) st = upf_run_metric(run, path, (double)r->n_users_ranked);
    snprintf(path, sizeof path, "%s%s", prefix,
             run->cfg->eval_empty == 0 ? "users_skipped" : "users_empty");
    if (!st) st = upf_run_metric(run, path, (double)r->n_users_empty);
    return st;
}

static upf_status evaluate(upf_run *run, const eval_setup *e, const upf_scorer *s, const upf_csr *test,
                           const uint8_t *mask, int per_user, const char *prefix, upf_err *err)
{
    upf_rank_eval_params p = e->params;
    p.user_mask = mask;
    p.per_user = per_user;
    upf_rank_eval_result r;
    double t0 = run_now();
    upf_status st = upf_rank_evaluate(s, e->train, test, &p, &r, err);
    run->t_eval += run_now() - t0;
    if (st) {
        upf_err_prefix(err, "evaluating %s", *prefix ? prefix : "the model");
        return st;
    }
    st = record(run, prefix, &r);
    if (!st) {
        /* one line per pass, so a long evaluation shows where it is */
        char prim[128];
        upf_config_primary(run->cfg, prim, sizeof prim);
        double v = prim[0] ? upf_rank_eval_get(&r, prim) : (double)NAN;
        char label[200];
        snprintf(label, sizeof label, "%.*s", (int)(strlen(prefix) ? strlen(prefix) - 1 : 0), prefix);
        if (isnan(v))
            upf_log(UPF_LOG_INFO, "eval %s: %zu users ranked (%.2f s)", *label ? label : "model", r.n_users_ranked,
                    r.seconds_total);
        else
            upf_log(UPF_LOG_INFO, "eval %s: %s %.4f over %zu users (%.2f s)", *label ? label : "model", prim, v,
                    r.n_users_ranked, r.seconds_total);
    }
    if (st) {
        upf_rank_eval_result_free(&r);
        return upf_err_set(err, st, "recording the metrics of %s: %s", *prefix ? prefix : "the model",
                           upf_status_str(st));
    }
    if (per_user) {
        const char *const *ids = run_user_ids(run);
        st = ids ? upf_per_user_from_rank_eval(&run->per_user, &r, ids, err)
                 : upf_err_set(err, UPF_ERR_NOMEM, "per-user values: out of memory");
    }
    upf_rank_eval_result_free(&r);
    return st;
}

/* test restricted to items without training interactions */
static upf_status cold_test(const upf_csr *train, const upf_csr *test, upf_csr *out, upf_err *err)
{
    memset(out, 0, sizeof *out);
    size_t n_items = train->n_cols;
    uint8_t *seen = upf_calloc(n_items ? n_items : 1, 1);
    if (!seen) return upf_err_set(err, UPF_ERR_NOMEM, "cold items: out of memory");
    for (int64_t e = 0; e < upf_csr_nnz(train); e++) seen[train->idx[e]] = 1;
    int64_t nnz = 0;
    for (int64_t e = 0; e < upf_csr_nnz(test); e++) nnz += !seen[test->idx[e]];
    out->n_rows = test->n_rows;
    out->n_cols = test->n_cols;
    out->ptr = upf_calloc(test->n_rows + 1, sizeof *out->ptr);
    out->idx = upf_malloc((size_t)(nnz ? nnz : 1) * sizeof *out->idx);
    out->val = upf_malloc((size_t)(nnz ? nnz : 1) * sizeof *out->val);
    if (test->time) out->time = upf_malloc((size_t)(nnz ? nnz : 1) * sizeof *out->time);
    if (!out->ptr || !out->idx || !out->val || (test->time && !out->time)) {
        upf_free(seen);
        upf_csr_free(out);
        return upf_err_set(err, UPF_ERR_NOMEM, "cold items: out of memory");
    }
    int64_t k = 0;
    for (size_t u = 0; u < test->n_rows; u++) {
        for (int64_t e = test->ptr[u]; e < test->ptr[u + 1]; e++) {
            if (seen[test->idx[e]]) continue;
            out->idx[k] = test->idx[e];
            out->val[k] = test->val[e];
            if (out->time) out->time[k] = test->time[e];
            k++;
        }
        out->ptr[u + 1] = k;
    }
    upf_free(seen);
    return UPF_OK;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Evaluates s on every configured segment under prefix. */
static upf_status segments(upf_run *run, const eval_setup *e, const upf_scorer *s, const char *prefix, upf_err *err)
{
    const upf_config *c = run->cfg;
    upf_status st = UPF_OK;
    size_t n_users = e->train->n_rows;
    char pre[300];
    for (size_t i = 0; i < c->eval_segments.n && !st; i++) {
        const char *seg = c->eval_segments.v[i];
        if (strcmp(seg, "cold_items") == 0) {
            upf_csr cold;
            if ((st = cold_test(e->train, e->test, &cold, err))) return st;
            snprintf(pre, sizeof pre, "%scold_items.", prefix);
            if (upf_csr_nnz(&cold) == 0) {
                snprintf(pre, sizeof pre, "%scold_items.users_evaluated", prefix);
                st = upf_run_metric(run, pre, 0);
                if (!*prefix) upf_log(UPF_LOG_INFO, "cold_items: no test item lacks training interactions");
            } else {
                st = evaluate(run, e, s, &cold, NULL, 0, pre, err);
            }
            upf_csr_free(&cold);
            continue;
        }
        uint8_t *mask = upf_calloc(n_users ? n_users : 1, 1);
        int64_t *len = upf_malloc((n_users ? n_users : 1) * sizeof *len);
        if (!mask || !len) {
            upf_free(mask);
            upf_free(len);
            return upf_err_set(err, UPF_ERR_NOMEM, "segments: out of memory");
        }
        if (strcmp(seg, "activity") == 0) {
            /* tertiles of training interactions among users with test items */
            size_t m = 0;
            for (size_t u = 0; u < n_users; u++)
                if (e->test->ptr[u + 1] > e->test->ptr[u]) len[m++] = e->train->ptr[u + 1] - e->train->ptr[u];
            qsort(len, m, sizeof *len, cmp_i64);
            int64_t t1 = m ? len[m / 3] : 0, t2 = m ? len[(2 * m) / 3] : 0;
            static const char *const names[3] = { "low", "mid", "high" };
            for (int b = 0; b < 3 && !st; b++) {
                for (size_t u = 0; u < n_users; u++) {
                    int64_t l = e->train->ptr[u + 1] - e->train->ptr[u];
                    int bucket = l < t1 ? 0 : l < t2 ? 1 : 2;
                    mask[u] = bucket == b;
                }
                snprintf(pre, sizeof pre, "%sactivity.%s.", prefix, names[b]);
                st = evaluate(run, e, s, e->test, mask, 0, pre, err);
                if (!st && !*prefix) {
                    char key[300];
                    snprintf(key, sizeof key, "activity.%s.min_train_items", names[b]);
                    st = upf_run_metric(run, key, (double)(b == 0 ? 0 : b == 1 ? t1 : t2));
                }
            }
        } else if (strcmp(seg, "new_returning") == 0) {
            static const char *const names[2] = { "new", "returning" };
            for (int b = 0; b < 2 && !st; b++) {
                for (size_t u = 0; u < n_users; u++) mask[u] = (e->train->ptr[u + 1] > e->train->ptr[u]) == b;
                snprintf(pre, sizeof pre, "%snew_returning.%s.", prefix, names[b]);
                st = evaluate(run, e, s, e->test, mask, 0, pre, err);
            }
        }
        upf_free(mask);
        upf_free(len);
    }
    return st;
}

/* Off-policy estimates of s against log (NULL: the dataset's impressions),
 * under <prefix>ope. */
static upf_status ope_record(upf_run *run, const upf_scorer *s, const upf_impressions *log, const char *prefix,
                             upf_err *err)
{
    const upf_config *c = run->cfg;
    const upf_dataset *ds = upf_run_dataset(run);
    int whole = log == NULL || log == &ds->impressions;
    if (!log) log = &ds->impressions;
    if (log->n == 0)
        return upf_err_set(err, UPF_ERR_DATA,
                           "eval.ope: the dataset has no logged impressions (/impressions); "
                           "generate them (data synth --impressions) or import a log (--preset open_bandit)");
    upf_ope_params p = upf_ope_params_default();
    p.clip = c->eval_ope_clip;
    p.n_boot = (size_t)c->eval_ope_bootstrap;
    p.level = c->eval_ope_level;
    p.prior = c->eval_ope_prior;
    p.seed = (uint64_t)c->train_seed;
    upf_ope_result r;
    char label[120];
    snprintf(label, sizeof label, "%.*s", (int)(*prefix ? strlen(prefix) - 1 : 5), *prefix ? prefix : "model");
    double t0 = run_now();
    upf_status st = upf_ope_eval_scorer(log, s, ds->n_users, ds->n_items, &p, &r, err);
    run->t_eval += run_now() - t0;
    if (st) {
        upf_err_prefix(err, "eval.ope (%s)", *prefix ? prefix : "the model");
        return st;
    }
    const struct {
        const char *name;
        const upf_ope_figure *f;
    } figs[] = { { "ips", &r.ips }, { "snips", &r.snips }, { "dr", &r.dr }, { "dm", &r.dm }, { "logged", &r.logged } };
    char path[300];
    for (size_t i = 0; i < sizeof figs / sizeof figs[0] && !st; i++) {
        static const char *const sfx[4] = { "", "_lo", "_hi", "_se" };
        double v[4] = { figs[i].f->value, figs[i].f->lo, figs[i].f->hi, figs[i].f->se };
        for (int j = 0; j < 4 && !st; j++) {
            snprintf(path, sizeof path, "%sope.%s%s", prefix, figs[i].name, sfx[j]);
            st = upf_run_metric(run, path, v[j]);
        }
    }
    const struct {
        const char *name;
        double v;
    } counts[] = { { "contexts", (double)r.n_contexts }, { "positions", (double)r.n_positions },
                   { "matched", (double)r.n_matched },   { "clipped", (double)r.n_clipped },
                   { "ess", r.ess },                     { "max_weight", r.max_weight } };
    for (size_t i = 0; i < sizeof counts / sizeof counts[0] && !st; i++) {
        snprintf(path, sizeof path, "%sope.%s", prefix, counts[i].name);
        st = upf_run_metric(run, path, counts[i].v);
    }
    if (st) return upf_err_set(err, st, "recording the ope metrics: %s", upf_status_str(st));
    double true_logging = (double)NAN, truth = whole ? ope_true_value(run, s, &true_logging, err) : (double)NAN;
    if (!isnan(truth)) {
        snprintf(path, sizeof path, "%sope.true_value", prefix);
        st = upf_run_metric(run, path, truth);
        snprintf(path, sizeof path, "%sope.true_logged", prefix);
        if (!st) st = upf_run_metric(run, path, true_logging);
        if (st) return upf_err_set(err, st, "recording the ope metrics: %s", upf_status_str(st));
        upf_log(UPF_LOG_INFO, "ope %s: true value %.4f (planted), logging policy %.4f", label, truth, true_logging);
    }
    upf_log(UPF_LOG_INFO,
            "ope %s: ips %.4f [%.4f, %.4f], snips %.4f, dr %.4f [%.4f, %.4f] per slate (logging policy %.4f); "
            "%zu of %zu rows match, ess %.0f",
            label, r.ips.value, r.ips.lo, r.ips.hi, r.snips.value, r.dr.value, r.dr.lo, r.dr.hi,
            r.logged.value, r.n_matched, r.n_rows, r.ess);
    return UPF_OK;
}

static upf_status ope(upf_run *run, const upf_scorer *s, const char *prefix, upf_err *err)
{
    return run->cfg->eval_ope_enabled ? ope_record(run, s, NULL, prefix, err) : UPF_OK;
}

upf_status upf_run_eval_ope(upf_run *run, const upf_scorer *s, const upf_impressions *log, upf_err *err)
{
    return ope_record(run, s, log, "", err);
}

/* One baseline through the same protocol, under baseline_<name>. */
static upf_status baseline(upf_run *run, const eval_setup *e, const char *name, upf_err *err)
{
    upf_status st = UPF_OK;
    char prefix[100];
    snprintf(prefix, sizeof prefix, "baseline_%s.", name);
    size_t n_items = e->train->n_cols;
    if (strcmp(name, "popularity") == 0 || strcmp(name, "popularity_decay") == 0) {
        upf_popularity_params p = upf_popularity_params_default(name[10] == '_');
        float *counts = upf_malloc((n_items ? n_items : 1) * sizeof *counts);
        if (!counts) return upf_err_set(err, UPF_ERR_NOMEM, "%s: out of memory", name);
        st = upf_popularity_scores(e->train, &p, counts, err);
        upf_scorer s;
        memset(&s, 0, sizeof s);
        s.item_bias = counts;
        if (!st) st = evaluate(run, e, &s, e->test, NULL, 0, prefix, err);
        if (!st) st = segments(run, e, &s, prefix, err);
        if (!st) st = ope(run, &s, prefix, err);
        upf_free(counts);
    } else if (strcmp(name, "cooccur") == 0) {
        upf_cooccur_params p = upf_cooccur_params_default();
        upf_cooccur_model m;
        double t0 = run_now();
        st = upf_cooccur_build(e->train, &p, run->eval_threads, &m, err);
        run->t_eval += run_now() - t0;
        if (st) return st;
        upf_cooccur_scorer_ctx ctx = { &m, e->train };
        upf_scorer s = upf_cooccur_scorer(&ctx);
        st = evaluate(run, e, &s, e->test, NULL, 0, prefix, err);
        if (!st) st = segments(run, e, &s, prefix, err);
        if (!st) st = ope(run, &s, prefix, err);
        upf_cooccur_free(&m);
    } else {
        return upf_err_set(err, UPF_ERR_CONFIG, "eval.baselines: unknown baseline %s", name);
    }
    return st;
}

upf_status upf_run_eval_ranker(upf_run *run, const upf_scorer *model, upf_err *err)
{
    eval_setup e;
    upf_status st = setup(run, &e, err);
    if (st) goto done;
    upf_log(UPF_LOG_INFO, "evaluating on %lld test interactions (%zu metrics, %d thread%s)",
            (long long)upf_csr_nnz(e.test), e.n_specs, run->eval_threads, run->eval_threads == 1 ? "" : "s");
    if ((st = evaluate(run, &e, model, e.test, NULL, 1, "", err))) goto done;
    if ((st = segments(run, &e, model, "", err))) goto done;
    if ((st = ope(run, model, "", err))) goto done;
    if (!run->baselines_done) {
        for (size_t i = 0; i < run->cfg->eval_baselines.n && !st; i++) {
            st = baseline(run, &e, run->cfg->eval_baselines.v[i], err);
            if (upf_interrupted() && !st) st = upf_err_set(err, UPF_ERR_INTERRUPTED, "interrupted");
        }
        run->baselines_done = !st;
    }
done:
    upf_free(e.specs);
    return st;
}
