/* runner_internal.h - the run context (struct upf_run) and what the runner's
 * files share: the metric store (run_metrics.c), the log tee and progress
 * display (run_log.c), ranking evaluation with baselines and segments
 * (runner_eval.c), data loading (runner_data.c). Not a public header.
 */
#ifndef UPF_RUNNER_INTERNAL_H
#define UPF_RUNNER_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "../eval/per_user.h"
#include "gates.h"
#include "runner.h"

/* ---- metrics ---- */

typedef struct metric_entry {
    char *path;   /* dotted */
    int is_str;
    double v;
    char *s;
} metric_entry;

typedef struct metric_store {
    metric_entry *e;
    size_t n, cap;
} metric_store;

upf_status ms_set(metric_store *m, const char *path, double v, const char *s);
const metric_entry *ms_get(const metric_store *m, const char *path);
void ms_free(metric_store *m);


/* ---- log and progress ---- */

typedef struct run_log {
    FILE *file;           /* train.log (owned) */
    int quiet, json, bar; /* bar: draw a progress bar on stderr */
    pthread_mutex_t mu;
    int bar_visible;
    char phase[64];
    double phase_start, last_draw, last_line;
} run_log;

upf_status run_log_open(run_log *l, const char *path, int append, int quiet, int json, int bar, upf_err *err);
void run_log_close(run_log *l);
void run_log_hook(upf_log_level level, const char *msg, void *user);
/* A line for train.log only (errors the command prints itself). */
void run_log_file(run_log *l, upf_log_level level, const char *msg);
void run_log_progress(run_log *l, const char *phase, double done, double total, const char *unit);
/* Seconds on the monotonic clock. */
double run_now(void);
/* "2026-11-23T10:00:00Z" */
void run_utc_stamp(char *buf, size_t n, int compact);

/* ---- the run ---- */

struct upf_run {
    const upf_runner_opts *opts;
    upf_cfg_loaded *loaded;
    const upf_config *cfg;
    const upf_family *family;
    char *dir;
    const upf_dataset *ds;      /* borrowed from opts or == ds_owned */
    upf_dataset *ds_owned;
    char *data_desc;            /* absolute data path, or "synth(users=..,items=..,seed=..)" */
    int resuming;
    int threads, eval_threads;

    int have_inter;
    upf_csr train, valid, test;

    metric_store metrics;
    upf_per_user per_user;      /* the model's per-user values (eval/per_user.h) */
    const char **user_ids;      /* (n_users) borrowed from the dataset, built on first use */

    FILE *curves;
    char **curve_cols;
    size_t n_curve_cols;
    int64_t curve_rows;
    int64_t resume_curve_rows;  /* rows kept from the checkpoint on resume; -1 none */

    run_log log;

    double t_load, t_inter, t_eval, t_save;
    int baselines_done;
    int model_saved;
    void *ope_truth;            /* upf_synth_truth of a generated shop, for eval.ope (runner_eval.c) */
    int ope_truth_tried;
};

/* runner_data.c: where the data comes from (run->data_desc; a missing file is
 * a config error at data.path), before the run directory exists; then the
 * dataset itself (or opts->dataset). */
upf_status run_resolve_data(upf_run *run, const char *hint_abs_path, upf_err *err);
upf_status run_load_data(upf_run *run, upf_err *err);
/* runner_eval.c */
void run_eval_free(upf_run *run);
/* run_metrics.c: writes metrics.json (model figures, then gates and run info). */
typedef struct gate_result {
    char metric[128];
    char expr[128];
    double value, bound, ref;
    int has_ref, holds, missing;
} gate_result;
upf_status run_write_metrics(upf_run *run, const gate_result *gates, size_t n_gates, const char *status_text,
                             double seconds_total, upf_err *err);
upf_status run_write_per_user(upf_run *run, upf_err *err);
/* The dataset's user ids as a pointer array (built once). NULL on NOMEM. */
const char *const *run_user_ids(upf_run *run);

/* run_dir.c */
#define RUN_MARKER "INCOMPLETE"
#define RUN_CKPT "checkpoint.bin"
upf_status run_write_text(const upf_run *run, const char *name, const char *text, upf_err *err);
void run_remove_file(const upf_run *run, const char *name);
int run_file_exists(const char *dir, const char *name);
/* Writes INCOMPLETE: status (running, interrupted, diverged, failed), reason, how to resume. */
upf_status run_write_marker(const upf_run *run, const char *status, const char *reason, upf_err *err);
/* The value of "key: " in DIR's marker, or "" (buf). */
void run_marker_field(const char *dir, const char *key, char *buf, size_t n);
/* A fresh directory (INCOMPLETE, config.yaml) or an unfinished one to resume. */
upf_status run_prepare_fresh_dir(upf_run *run, const char *out, upf_err *err);
upf_status run_prepare_resume_dir(upf_run *run, const char *dir, upf_err *err);

/* run_gates.c */
typedef struct gate_set {
    upf_gate *g;
    gate_result *r;
    size_t n;
    upf_ref *ref;
} gate_set;
void run_gates_free(gate_set *gs);
upf_status run_gates_prepare(upf_run *run, gate_set *gs, upf_err *err);
/* UPF_ERR_CONFIG when a gate's metric was not produced, UPF_ERR_GATE when one failed. */
upf_status run_gates_check(upf_run *run, gate_set *gs, upf_err *err);

#endif
