/* runner.h - one experiment, end to end: config -> dataset -> family run ->
 * gates -> run directory. `upfunnel train` and `upfunnel sweep` drive it; tests
 * call it in-process (with their own families and datasets).
 *
 * The run directory (see configs/README.md "Run directory"):
 *   INCOMPLETE     written first, removed last: the reason a run did not finish
 *   config.yaml    the resolved config (every key; --resume reads it)
 *   train.log      plain timestamped log lines (appended on --resume)
 *   metrics.json   the model's figures, baseline_*, segments, gates, run info
 *   curves.csv     per-epoch rows, when the family records them
 *   per_user.csv   per-user metric values for `upfunnel compare`
 *   model.upf      the model (float32), when export.enabled
 *   checkpoint.bin the family's last good state (removed when the run finishes)
 */
#ifndef UPF_RUNNER_H
#define UPF_RUNNER_H

#include <stddef.h>
#include <stdio.h>

#include "family.h"

typedef struct upf_runner_opts {
    const char *config_path;           /* the experiment (NULL under resume_dir) */
    const char *const *overrides;      /* (n_overrides) "key.path=value", applied in order */
    size_t n_overrides;
    const char *out_dir;               /* NULL: runs/<config name>-<UTC yyyymmdd-hhmmss> */
    const char *resume_dir;            /* continue this interrupted run with its own config */
    int quiet;                         /* stderr: warnings and errors only, no progress */
    int json_log;                      /* stderr log lines as JSON objects */
    int progress;                      /* -1: a bar when stderr is a terminal; 0 never; 1 always */
    const upf_family *const *families; /* NULL: the registry (upf_families) */
    const upf_dataset *dataset;        /* borrowed; when set, used instead of data.* (tests, sweeps) */
    const char *dataset_desc;          /* what `dataset` is, for metrics.json ("<in memory>" if NULL) */
    FILE *summary;                     /* where the closing summary goes (stdout); NULL: nowhere */
} upf_runner_opts;

void upf_runner_opts_init(upf_runner_opts *o); /* zeroes o and sets progress = -1 */

typedef struct upf_runner_result {
    char dir[4096];          /* the run directory; "" when none was made */
    char primary[128];       /* the primary metric (eval.primary or the headline), "" if none */
    double primary_value;    /* NaN when the run has no such metric */
    int higher_is_better;    /* the primary metric's direction (loss, brier, error...: 0) */
    size_t gates_total, gates_failed;
    double seconds;          /* wall time of the whole run */
} upf_runner_result;

/* Runs one experiment. Returns UPF_OK when the run finished and every gate
 * held; UPF_ERR_GATE when it finished (complete directory, model written) but
 * a gate failed (err lists every failed gate, one per line); UPF_ERR_CONFIG or
 * UPF_ERR_ARG when the config, the flags or a gate's metric/reference is wrong
 * (detected before training when possible); any other status when the run
 * stopped (Ctrl-C: UPF_ERR_INTERRUPTED; NaN: UPF_ERR_NUMERIC): its directory
 * then holds INCOMPLETE with the reason and the last checkpoint, never a
 * half-written file. res is filled as far as the run got. */
upf_status upf_runner_run(const upf_runner_opts *o, upf_runner_result *res, upf_err *err);

/* Loads the dataset the data section of a config (with overrides) describes,
 * as a run would, for callers that run several configs on the same data
 * (sweeps pass it as opts.dataset). *out (upf_dataset_free) and *desc (the
 * absolute path or "synth(...)", upf_free) are owned by the caller. */
upf_status upf_runner_load_data(const char *config_path, const char *const *overrides, size_t n_overrides,
                                upf_dataset **out, char **desc, upf_err *err);

/* 1 when a lower value of the metric is better (loss, brier, rmse, error, ...). */
int upf_metric_lower_is_better(const char *metric);

#endif
