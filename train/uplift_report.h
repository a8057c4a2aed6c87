/* uplift_report.h - the evaluation half of the uplift family (not a public
 * header): held-out uplift metrics per treatment arm for the model and its
 * baselines with a joint, arm-stratified bootstrap, the targeting policy's
 * value, uplift by bin, covariate balance, and the run directory's artifacts
 * (qini.csv, uplift_curve.csv, deciles.csv, balance.csv, qini.svg,
 * uplift_by_decile.svg). Metric definitions: eval/uplift_metrics.h.
 *
 * metrics.json paths it writes (X a metric, a an arm name, "_ci" an object
 * {ci_low, ci_high} at the configured level):
 *   X, X_ci                        the model, averaged over treatment arms
 *   by_arm.a.X, by_arm.a.X_ci      the model per treatment arm
 *   by_arm.a.decile.K.{uplift,se,n_treated,n_control}
 *   baseline_<name>.X(_ci), baseline_<name>.by_arm.a.X(_ci)
 *   policy.best_arm(_ci)           the model's targeting policy (best arm per
 *                                  user, control when no uplift is > 0):
 *                                  mean outcome, self-normalized IPS over the
 *                                  held-out rows whose arm it would choose,
 *                                  each weighted 1 / (its arm's share)
 *   policy.all.<a>(_ci)            everyone in arm a: that arm's mean outcome
 *   policy.gain_vs_best_single(_ci) best_arm - the best policy.all
 *   policy.share.<a>               share of users the policy sends to arm a
 * with X in qini_coefficient, qini_area, auuc, auuc_gain, ate,
 * uplift@Kpct and uplift@Kpct_by_group (K percent of the users targeted).
 * Arm names are sanitized (upf_ur_sanitize) so every path can be gated.
 */
#ifndef UPF_UPLIFT_REPORT_H
#define UPF_UPLIFT_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "../model/base.h"
#include "family.h"

typedef struct upf_ur_model {
    const char *name;        /* "" for the model itself, else the baseline's name ("random", "response") */
    const double *uplift;    /* (n, n_arms) predicted uplift per arm, column 0 ignored */
} upf_ur_model;

typedef struct upf_ur_params {
    size_t bootstrap;        /* replicates (0: no intervals) */
    double level;            /* e.g. 0.95 */
    size_t n_k;              /* uplift@k cut-offs */
    double k[8];             /* fractions */
    size_t bins;             /* deciles: 10 */
    uint64_t seed;           /* bootstrap stream */
    const char *outcome;     /* for labels */
} upf_ur_params;

/* The held-out rows: arm (n) in 0..n_arms-1, y (n). */
typedef struct upf_ur_rows {
    size_t n, n_arms;
    const int16_t *arm;
    const double *y;
    const char *const *arm_names; /* (n_arms), sanitized for metric paths */
} upf_ur_rows;

/* Evaluates models[0] (the model) and the baselines, records the metrics and
 * writes the artifacts. */
upf_status upf_ur_evaluate(upf_run *run, const upf_ur_rows *R, const upf_ur_model *models, size_t n_models,
                           const upf_ur_params *p, upf_err *err);

/* Balance of the campaign's assignment: per treatment arm and covariate the
 * SMD against the control (all rows given), and the held-out AUC of a
 * logistic model of the arm on the covariates fitted on the training rows
 * (with a bootstrap interval). X (n, d) standardized; is_test (n) 1 for
 * held-out rows. Writes balance.csv and balance.* metrics. */
upf_status upf_ur_balance(upf_run *run, const float *X, size_t n, size_t d, const char *const *names,
                          const int16_t *arm, const uint8_t *is_test, size_t n_arms, const char *const *arm_names,
                          const upf_ur_params *p, upf_err *err);

/* Records value under path and, when lo/hi are finite or the interval was
 * asked for, path_ci.ci_low / .ci_high. */
upf_status upf_ur_metric_ci(upf_run *run, const char *path, double value, double lo, double hi, upf_err *err);

/* A copy of name usable inside a dotted metric path and a gate: every byte
 * but ASCII letters, digits, '-' and '_' becomes '_' ("Mens E-Mail" ->
 * "Mens_E-Mail"). */
void upf_ur_sanitize(const char *name, char *out, size_t n);

#endif
