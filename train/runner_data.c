/* runner_data.c - the dataset of a run: the HDF5 file of data.path, a
 * synthetic shop generated in memory (data.source synth), or a dataset the
 * caller already holds (tests, sweeps). A relative data.path is looked up from
 * the working directory first, then from the config file's folder (and, on
 * --resume, at the absolute path the interrupted run recorded).
 */
#define _DEFAULT_SOURCE /* realpath */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../datasets/h5_io.h"
#include "../datasets/synth.h"
#include "runner_internal.h"

static char *absolute(const char *path)
{
    char buf[PATH_MAX];
    if (realpath(path, buf)) return upf_strdup(buf);
    return upf_strdup(path);
}

/* The "# upfunnel data import ..." line in the config's comments, if any (buf). */
static void import_hint(const char *config, char *buf, size_t n)
{
    buf[0] = '\0';
    FILE *f = fopen(config, "rb");
    if (!f) return;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        const char *p = line;
        if (*p != '#') continue;
        while (*p == '#' || *p == ' ' || *p == '$') p++;
        if (strncmp(p, "upfunnel data import", 20) == 0 || strncmp(p, "./upfunnel data import", 22) == 0) {
            snprintf(buf, n, "%s", p);
            buf[strcspn(buf, "\r\n")] = '\0';
            break;
        }
    }
    fclose(f);
}

upf_status run_resolve_data(upf_run *run, const char *hint_abs_path, upf_err *err)
{
    const upf_config *c = run->cfg;
    upf_free(run->data_desc);
    run->data_desc = NULL;
    if (run->opts->dataset) {
        run->data_desc = upf_strdup(run->opts->dataset_desc ? run->opts->dataset_desc : "<in memory>");
    } else if (c->data_source == 1) {
        char d[200];
        snprintf(d, sizeof d, "synth(users=%lld, items=%lld, seed=%lld)", (long long)c->data_synth_users,
                 (long long)c->data_synth_items, (long long)c->data_synth_seed);
        run->data_desc = upf_strdup(d);
    } else {
        const char *p = c->data_path;
        char cand[3][PATH_MAX];
        size_t n = 0;
        snprintf(cand[n++], PATH_MAX, "%s", p);
        if (p[0] != '/') {
            const char *slash = strrchr(c->file, '/');
            if (slash) snprintf(cand[n++], PATH_MAX, "%.*s/%s", (int)(slash - c->file), c->file, p);
        }
        if (hint_abs_path && hint_abs_path[0] == '/') snprintf(cand[n++], PATH_MAX, "%s", hint_abs_path);
        for (size_t i = 0; i < n && !run->data_desc; i++)
            if (access(cand[i], R_OK) == 0 && !(run->data_desc = absolute(cand[i])))
                return upf_err_set(err, UPF_ERR_NOMEM, "out of memory");
        if (!run->data_desc) {
            char tried[2 * PATH_MAX + 64];
            if (n > 1) snprintf(tried, sizeof tried, " (looked for %s and %s)", cand[0], cand[1]);
            else tried[0] = '\0';
            char how[1100];
            import_hint(c->file, how, sizeof how);
            return upf_config_key_error(run->loaded, err, "data.path", "no dataset file %s%s; create it with %s%s%s", p,
                                        tried, how[0] ? "`" : "", how[0] ? how : "`upfunnel data import` or "
                                        "`upfunnel data synth`", how[0] ? "`" : "");
        }
        return UPF_OK;
    }
    return run->data_desc ? UPF_OK : upf_err_set(err, UPF_ERR_NOMEM, "out of memory");
}

upf_status run_load_data(upf_run *run, upf_err *err)
{
    const upf_config *c = run->cfg;
    double t0 = run_now();
    upf_status st = UPF_OK;
    if (run->opts->dataset) {
        run->ds = run->opts->dataset;
    } else if (c->data_source == 1) {
        upf_synth_params p = upf_synth_params_default();
        p.n_users = (uint64_t)c->data_synth_users;
        p.n_items = (uint64_t)c->data_synth_items;
        p.seed = (uint64_t)c->data_synth_seed;
        if (p.n_categories > p.n_items) p.n_categories = (uint32_t)p.n_items;
        upf_log(UPF_LOG_INFO, "data: generating a synthetic shop (%llu users, %llu items, seed %llu)",
                (unsigned long long)p.n_users, (unsigned long long)p.n_items, (unsigned long long)p.seed);
        upf_synth_truth *truth = NULL; /* kept for eval.ope: the true value of the model's slates */
        st = upf_synth_generate(&p, &run->ds_owned, c->eval_ope_enabled ? &truth : NULL, err);
        run->ope_truth = truth;
        run->ope_truth_tried = 1;
        if (st) upf_err_prefix(err, "data.source synth");
        run->ds = run->ds_owned;
    } else {
        upf_log(UPF_LOG_INFO, "data: reading %s", run->data_desc);
        st = upf_dataset_read(run->data_desc, &run->ds_owned, err);
        run->ds = run->ds_owned;
    }
    if (st) return st;
    run->t_load = run_now() - t0;
    upf_log(UPF_LOG_INFO, "data: %zu users, %zu items, %lld events (%.2f s)", run->ds->n_users, run->ds->n_items,
            (long long)run->ds->n_events, run->t_load);
    return UPF_OK;
}
