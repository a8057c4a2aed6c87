/* run_metrics.c - what a run records: metrics (dotted paths, nested in
 * metrics.json), per-user values (per_user.csv), curves (curves.csv) and other
 * artifacts. metrics.json puts the model's own figures first, then baselines
 * and segments as the family recorded them, then "gates" and "run".
 * Not thread-safe: families call these from their main thread.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../model/json.h"
#include "../model/outfile.h"
#include "runner_internal.h"

/* ---- the metric store ---- */

void ms_free(metric_store *m)
{
    for (size_t i = 0; i < m->n; i++) {
        upf_free(m->e[i].path);
        upf_free(m->e[i].s);
    }
    upf_free(m->e);
    memset(m, 0, sizeof *m);
}

const metric_entry *ms_get(const metric_store *m, const char *path)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->e[i].path, path) == 0) return &m->e[i];
    return NULL;
}

/* "a.b" under "a" (a value cannot also be a section) */
static int nests(const char *outer, const char *inner)
{
    size_t n = strlen(outer);
    return strncmp(outer, inner, n) == 0 && inner[n] == '.';
}

upf_status ms_set(metric_store *m, const char *path, double v, const char *s)
{
    if (!path || !*path || path[0] == '.' || path[strlen(path) - 1] == '.' || strstr(path, "..")) return UPF_ERR_ARG;
    for (size_t i = 0; i < m->n; i++) {
        metric_entry *e = &m->e[i];
        if (strcmp(e->path, path) == 0) {
            char *ns = NULL;
            if (s && !(ns = upf_strdup(s))) return UPF_ERR_NOMEM;
            upf_free(e->s);
            e->s = ns;
            e->is_str = s != NULL;
            e->v = v;
            return UPF_OK;
        }
        if (nests(e->path, path) || nests(path, e->path)) return UPF_ERR_ARG;
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        metric_entry *ne = upf_realloc(m->e, cap * sizeof *ne);
        if (!ne) return UPF_ERR_NOMEM;
        m->e = ne;
        m->cap = cap;
    }
    metric_entry e = { upf_strdup(path), s != NULL, v, s ? upf_strdup(s) : NULL };
    if (!e.path || (s && !e.s)) {
        upf_free(e.path);
        upf_free(e.s);
        return UPF_ERR_NOMEM;
    }
    m->e[m->n++] = e;
    return UPF_OK;
}

upf_status upf_run_metric(upf_run *run, const char *path, double value)
{
    return ms_set(&run->metrics, path, value, NULL);
}

upf_status upf_run_metric_str(upf_run *run, const char *path, const char *value)
{
    return ms_set(&run->metrics, path, 0, value ? value : "");
}

upf_status upf_run_metric_get(const upf_run *run, const char *path, double *value)
{
    const metric_entry *e = ms_get(&run->metrics, path);
    if (!e || e->is_str) {
        *value = 0;
        return UPF_ERR_ARG;
    }
    *value = e->v;
    return UPF_OK;
}

/* ---- per-user values (eval/per_user.h writes per_user.csv) ---- */

const char *const *run_user_ids(upf_run *run)
{
    if (!run->user_ids && run->ds) {
        size_t n = run->ds->n_users;
        if (!(run->user_ids = upf_malloc((n ? n : 1) * sizeof *run->user_ids))) return NULL;
        for (size_t u = 0; u < n; u++) run->user_ids[u] = upf_strings_get(&run->ds->user_ids, u);
    }
    return run->user_ids;
}

upf_status upf_run_per_user(upf_run *run, const char *metric, const int32_t *users, const double *values, size_t n)
{
    size_t n_users = run->ds ? run->ds->n_users : 0;
    if (!metric || !*metric) return UPF_ERR_ARG;
    for (size_t i = 0; i < n; i++)
        if (users[i] < 0 || (size_t)users[i] >= n_users) return UPF_ERR_ARG;
    const char *const *ids = run_user_ids(run);
    if (!ids) return UPF_ERR_NOMEM;
    upf_err err;
    return upf_per_user_add(&run->per_user, metric, users, values, n, ids, &err);
}

/* CSV field: quoted when it holds a comma, quote or newline. */
static void csv_field(FILE *f, const char *s)
{
    if (strpbrk(s, ",\"\n\r") == NULL) {
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

upf_status run_write_per_user(upf_run *run, upf_err *err)
{
    if (run->per_user.n_metrics == 0) return UPF_OK;
    char *path = upf_run_path(run, "per_user.csv");
    if (!path) return upf_err_set(err, UPF_ERR_NOMEM, "per_user.csv: out of memory");
    upf_status st = upf_per_user_write(path, &run->per_user, err);
    upf_free(path);
    return st;
}

/* ---- curves and artifacts ---- */

upf_status upf_run_curve(upf_run *run, const char *const *columns, const double *values, size_t n)
{
    if (!n) return UPF_ERR_ARG;
    if (!run->curve_cols) {
        char *path = upf_run_path(run, "curves.csv");
        if (!path) return UPF_ERR_NOMEM;
        /* on resume the file already holds the rows up to the checkpoint */
        run->curves = fopen(path, run->curve_rows > 0 ? "ab" : "wb");
        upf_free(path);
        if (!run->curves) return UPF_ERR_IO;
        if (!(run->curve_cols = upf_calloc(n, sizeof(char *)))) return UPF_ERR_NOMEM;
        for (size_t i = 0; i < n; i++)
            if (!(run->curve_cols[i] = upf_strdup(columns[i]))) return UPF_ERR_NOMEM;
        run->n_curve_cols = n;
        if (run->curve_rows == 0) {
            for (size_t i = 0; i < n; i++) {
                if (i) fputc(',', run->curves);
                csv_field(run->curves, columns[i]);
            }
            fputc('\n', run->curves);
        }
    } else {
        if (n != run->n_curve_cols) return UPF_ERR_ARG;
        for (size_t i = 0; i < n; i++)
            if (strcmp(columns[i], run->curve_cols[i]) != 0) return UPF_ERR_ARG;
    }
    char num[40];
    for (size_t i = 0; i < n; i++) {
        if (i) fputc(',', run->curves);
        if (isfinite(values[i])) {
            upf_json_format_num(num, sizeof num, values[i]);
            fputs(num, run->curves);
        } else {
            fputs(isnan(values[i]) ? "nan" : values[i] > 0 ? "inf" : "-inf", run->curves);
        }
    }
    fputc('\n', run->curves);
    /* each row reaches the disk: an interrupted run keeps its curves */
    if (fflush(run->curves) != 0) return UPF_ERR_IO;
    run->curve_rows++;
    return UPF_OK;
}

char *upf_run_path(const upf_run *run, const char *name)
{
    size_t n = strlen(run->dir) + strlen(name) + 2;
    char *p = upf_malloc(n);
    if (p) snprintf(p, n, "%s/%s", run->dir, name);
    return p;
}

upf_status upf_run_artifact(upf_run *run, const char *name, const void *data, size_t n, upf_err *err)
{
    if (!name || !*name || strchr(name, '/') || name[0] == '.')
        return upf_err_set(err, UPF_ERR_ARG, "artifact: expected a plain file name, got \"%s\"", name ? name : "");
    char *path = upf_run_path(run, name);
    if (!path) return upf_err_set(err, UPF_ERR_NOMEM, "artifact: out of memory");
    upf_status st = upf_write_file_atomic(path, data, n, err);
    upf_free(path);
    return st;
}

/* ---- metrics.json ---- */

/* Writes entries idx[0..n) whose paths share the prefix already opened,
 * grouped by their next segment in order of first appearance. */
static void write_group(upf_json_writer *w, const metric_store *m, const size_t *idx, const size_t *skip, size_t n)
{
    unsigned char *done = upf_calloc(n ? n : 1, 1);
    size_t *sub = upf_malloc((n ? n : 1) * sizeof *sub), *subskip = upf_malloc((n ? n : 1) * sizeof *subskip);
    if (!done || !sub || !subskip) goto out;
    for (size_t i = 0; i < n; i++) {
        if (done[i]) continue;
        const metric_entry *e = &m->e[idx[i]];
        const char *rest = e->path + skip[i], *dot = strchr(rest, '.');
        if (!dot) {
            done[i] = 1;
            if (e->is_str) upf_jw_str(w, rest, e->s);
            else upf_jw_num(w, rest, e->v);
            continue;
        }
        size_t seg = (size_t)(dot - rest), k = 0;
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)seg, rest);
        for (size_t j = i; j < n; j++) {
            const char *r = m->e[idx[j]].path + skip[j];
            if (!done[j] && strncmp(r, rest, seg) == 0 && r[seg] == '.') {
                sub[k] = idx[j];
                subskip[k] = skip[j] + seg + 1;
                k++;
                done[j] = 1;
            }
        }
        upf_jw_object(w, name);
        write_group(w, m, sub, subskip, k);
        upf_jw_end(w);
    }
out:
    upf_free(done);
    upf_free(sub);
    upf_free(subskip);
}

upf_status run_write_metrics(upf_run *run, const gate_result *gates, size_t n_gates, const char *status_text,
                             double seconds_total, upf_err *err)
{
    char *path = upf_run_path(run, "metrics.json");
    if (!path) return upf_err_set(err, UPF_ERR_NOMEM, "metrics.json: out of memory");
    upf_outfile o;
    upf_status st = upf_outfile_open(&o, path, err);
    upf_free(path);
    if (st) return st;
    const metric_store *m = &run->metrics;
    size_t *idx = upf_malloc((m->n ? m->n : 1) * sizeof *idx), *skip = upf_calloc(m->n ? m->n : 1, sizeof *skip);
    if (!idx || !skip) {
        upf_free(idx);
        upf_free(skip);
        upf_outfile_abort(&o);
        return upf_err_set(err, UPF_ERR_NOMEM, "metrics.json: out of memory");
    }
    for (size_t i = 0; i < m->n; i++) idx[i] = i;
    upf_json_writer w;
    upf_jw_init(&w, o.f, 1);
    upf_jw_object(&w, NULL);
    write_group(&w, m, idx, skip, m->n);
    upf_free(idx);
    upf_free(skip);

    upf_jw_array(&w, "gates");
    for (size_t i = 0; i < n_gates; i++) {
        const gate_result *g = &gates[i];
        upf_jw_object(&w, NULL);
        upf_jw_str(&w, "metric", g->metric);
        upf_jw_str(&w, "condition", g->expr);
        if (g->missing) upf_jw_null(&w, "value");
        else upf_jw_num(&w, "value", g->value);
        upf_jw_num(&w, "bound", g->bound);
        if (g->has_ref) upf_jw_num(&w, "ref", g->ref);
        upf_jw_bool(&w, "pass", g->holds);
        upf_jw_end(&w);
    }
    upf_jw_end(&w);

    const upf_config *c = run->cfg;
    char stamp[40];
    upf_jw_object(&w, "run");
    upf_jw_str(&w, "status", status_text);
    upf_jw_str(&w, "config", c->file);
    upf_jw_str(&w, "family", run->family->name);
    upf_jw_int(&w, "seed", c->train_seed);
    upf_jw_int(&w, "threads", run->threads);
    upf_jw_int(&w, "eval_threads", run->eval_threads);
    upf_jw_str(&w, "data", run->data_desc ? run->data_desc : "");
    if (run->ds) {
        upf_jw_int(&w, "data_users", (int64_t)run->ds->n_users);
        upf_jw_int(&w, "data_items", (int64_t)run->ds->n_items);
        upf_jw_int(&w, "data_events", run->ds->n_events);
    }
    if (run->have_inter) {
        upf_jw_int(&w, "interactions_train", upf_csr_nnz(&run->train));
        upf_jw_int(&w, "interactions_valid", upf_csr_nnz(&run->valid));
        upf_jw_int(&w, "interactions_test", upf_csr_nnz(&run->test));
    }
    upf_jw_bool(&w, "resumed", run->resuming);
    run_utc_stamp(stamp, sizeof stamp, 0);
    upf_jw_str(&w, "finished", stamp);
    upf_jw_str(&w, "upfunnel", upf_version_string());
    upf_jw_object(&w, "seconds");
    upf_jw_num(&w, "load_data", run->t_load);
    upf_jw_num(&w, "interactions", run->t_inter);
    double train_s = seconds_total - run->t_load - run->t_inter - run->t_eval - run->t_save;
    upf_jw_num(&w, "train", train_s > 0 ? train_s : 0);
    upf_jw_num(&w, "eval", run->t_eval);
    upf_jw_num(&w, "save", run->t_save);
    upf_jw_num(&w, "total", seconds_total);
    upf_jw_end(&w);
    upf_jw_end(&w);
    upf_jw_end(&w);
    upf_jw_finish(&w);
    return upf_outfile_commit(&o, err);
}
