/* family.h - how a model family plugs into the experiment runner.
 *
 * A family (ranker, popularity, cooccur, aft, bgnbd, uplift, ...) provides a
 * params struct with a key table (config.h) and a `run` function that trains,
 * evaluates and exports inside a run directory. The runner owns everything
 * around it: config loading, the dataset, the run directory, metrics.json,
 * curves, the log, checkpoints, gates and the exit code. Families never print;
 * they report through the upf_run helpers below and upf_log.
 *
 * A ranking family's run is, in order: upf_run_interactions, train (polling
 * upf_interrupted(), saving checkpoints, adding curve rows), then
 * upf_run_eval_ranker (its own figures, the configured baselines and
 * segments), then upf_run_save_model (after evaluation, so eval.* metrics ride
 * along in the file).
 *
 * Registry: train/families.c lists every family (one line each).
 */
#ifndef UPF_FAMILY_H
#define UPF_FAMILY_H

#include <stddef.h>
#include <stdio.h>

#include "../datasets/dataset.h"
#include "../datasets/interactions.h"
#include "../eval/rank_eval.h"
#include "../model/base.h"
#include "../model/modelfile.h"
#include "config.h"

typedef struct upf_run upf_run;

typedef struct upf_family {
    const char *name;                 /* the value of model.family */
    const char *summary;              /* one line for --help and configs/README.md */
    const upf_cfg_key *keys;          /* the family's table (path NULL ends it); offsets into its params */
    size_t params_size;               /* sizeof the family's params struct */
    /* Semantic checks across keys, after defaults are filled (the liblinear
     * check_parameter pattern); NULL when the table's ranges suffice. Write
     * messages as "key.path: expected ..., got ..." and the loader adds the
     * key's file:line:col. */
    upf_status (*check)(const void *params, const upf_config *cfg, upf_err *err);
    /* Train, evaluate and export. Called with the dataset loaded. Return
     * UPF_ERR_INTERRUPTED when upf_interrupted() stopped it, UPF_ERR_NUMERIC
     * on NaN/Inf (after saving no model). */
    upf_status (*run)(upf_run *run, const void *params, upf_err *err);
} upf_family;

/* Families, in registry order; NULL-terminated. */
extern const upf_family *const upf_families[];
const upf_family *upf_family_find(const char *name);

/* ---- the run context a family works in ---- */

const upf_config *upf_run_config(const upf_run *run);
const upf_dataset *upf_run_dataset(const upf_run *run);
const char *upf_run_dir(const upf_run *run);
uint64_t upf_run_seed(const upf_run *run);
int upf_run_threads(const upf_run *run);     /* training threads: 1 when train.deterministic */
int upf_run_eval_threads(const upf_run *run); /* evaluation threads (deterministic at any count) */
int upf_run_resuming(const upf_run *run);    /* 1 under `train --resume` */

/* The interaction matrix of the data section, split per the split section:
 * train, validation (empty when split.valid_frac is 0, else carved from
 * train with the same kind of split) and test. Built once and cached; the
 * pointers are borrowed until the run ends. Any output may be NULL. */
upf_status upf_run_interactions(upf_run *run, const upf_csr **train, const upf_csr **valid,
                                const upf_csr **test, upf_err *err);

/* Metrics. path is dotted: "ndcg@10" at the top (the model's own figures),
 * "baseline_popularity.ndcg@10", "cold_items.recall@20", "bgnbd.r". Setting a
 * path twice replaces the value. Non-finite values are recorded as null. */
upf_status upf_run_metric(upf_run *run, const char *path, double value);
upf_status upf_run_metric_str(upf_run *run, const char *path, const char *value);
/* A number recorded earlier; UPF_ERR_ARG when absent. */
upf_status upf_run_metric_get(const upf_run *run, const char *path, double *value);
/* Per-user values of a metric (saved to per_user.csv for `upfunnel compare`). */
upf_status upf_run_per_user(upf_run *run, const char *metric, const int32_t *users, const double *values,
                            size_t n);

/* Ranking evaluation through the project's evaluator on the test split, as
 * the eval section says (metrics, cut-offs, gain, empty users, exclusion of
 * training items): the model's figures at the top of metrics.json with
 * per-user values, the eval.segments under their own keys, and every
 * eval.baselines entry under baseline_<name> (computed once per run). The
 * scorer is borrowed for the call; score_block callbacks must be thread-safe. */
upf_status upf_run_eval_ranker(upf_run *run, const upf_scorer *model, upf_err *err);

/* Off-policy estimates (eval/ope.h) of the scorer's top-P slates against log
 * (NULL: the dataset's impressions) with the eval.ope.* settings, whether or
 * not eval.ope.enabled: ope.{ips,snips,dr,dm,logged}{,_lo,_hi,_se} and the
 * counts in metrics.json, plus ope.true_value when the log is the dataset's
 * and a generated shop's truth describes it. upf_run_eval_ranker calls it
 * (for the model and each baseline) when eval.ope.enabled. */
upf_status upf_run_eval_ope(upf_run *run, const upf_scorer *s, const upf_impressions *log, upf_err *err);

/* Curves: appends a row to curves.csv (the header comes from the first call;
 * later calls must use the same columns). E.g. {"epoch","loss","ndcg@10"}. */
upf_status upf_run_curve(upf_run *run, const char *const *columns, const double *values, size_t n);
/* Any other artifact in the run directory (CSV, SVG), written atomically. */
upf_status upf_run_artifact(upf_run *run, const char *name, const void *data, size_t n, upf_err *err);
/* A full path inside the run directory (owned by the caller). */
char *upf_run_path(const upf_run *run, const char *name);

/* Progress: a bar with rate and time left on a terminal, plain timestamped
 * lines otherwise. Cheap to call often; it rate-limits itself. */
void upf_run_progress(upf_run *run, const char *phase, double done, double total, const char *unit);

/* Checkpoints: an opaque blob saved atomically in the run directory (the
 * family decides its layout, e.g. a .upf writer buffer). load returns
 * UPF_ERR_ARG when there is none. The loaded buffer is owned by the caller
 * (upf_free). Saving also remembers how many curve rows exist, so a resumed
 * run continues curves.csv from the checkpoint. */
upf_status upf_run_checkpoint_save(upf_run *run, const void *data, size_t n, upf_err *err);
upf_status upf_run_checkpoint_load(upf_run *run, void **data, size_t *n, upf_err *err);

/* The model: the family fills a writer of its kind; the runner adds the common
 * metadata (model.family, model.name, train.seed, train.config_yaml, data
 * range and path, eval.* metrics recorded so far, provenance.created_unix) and
 * writes model.upf in the run directory as float32, atomically. The writer
 * stays owned by the family. `upfunnel export` re-encodes it. */
upf_status upf_run_save_model(upf_run *run, upf_mw *w, upf_err *err);

#endif
