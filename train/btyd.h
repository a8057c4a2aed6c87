/* btyd.h - "buy till you die" customer-base models without covariates:
 * the calibration/holdout summary of a purchase log, and maximum-likelihood
 * fits of BG/NBD, Pareto/NBD and Gamma-Gamma spend (the per-customer formulas
 * are in model/lifetime.h, shared with the serving runtime).
 *
 * Conventions (those of Fader & Hardie's papers and the BTYD R package):
 * time is counted in days at UTC day granularity; purchases on the same day
 * merge into one transaction whose value is their sum (merge_same_day); a
 * customer's clock starts at the first purchase, which is not counted:
 * x = repeat transactions in calibration, t_x = time of the last one (0 when
 * x = 0), T = time from the first purchase to the end of calibration, all in
 * `unit_days` units (7: weeks). The calibration covers days up to and
 * including `cal_end`; the holdout the next holdout_days days.
 * Fits optimize the logs of the parameters (Nelder-Mead, then BFGS).
 * Entry points: upf_btyd_summary_build, upf_btyd_summary_from_dataset,
 * upf_bgnbd_fit, upf_pnbd_fit, upf_gg_fit, upf_btyd_holdout_table.
 */
#ifndef UPF_BTYD_H
#define UPF_BTYD_H

#include <stddef.h>
#include <stdint.h>

#include "../datasets/dataset.h"
#include "../eval/survival_metrics.h"
#include "../model/base.h"
#include "../model/lifetime.h"

/* One purchase: who, when, how much. */
typedef struct upf_btyd_txn {
    int32_t customer; /* any id >= 0 */
    int64_t time;     /* unix seconds */
    double value;     /* spend (>= 0) */
} upf_btyd_txn;

typedef struct upf_btyd_params {
    int64_t cal_end;      /* unix s of the last calibration day (its 00:00 UTC or any instant in it) */
    int64_t holdout_days; /* length of the holdout after cal_end, >= 0 */
    double unit_days;     /* the model's time unit in days (7 = weeks), > 0 */
    int merge_same_day;   /* 1: one transaction per customer and day */
} upf_btyd_params;

/* cal_end 0 (must be set), holdout 0, weeks, merging on. */
upf_btyd_params upf_btyd_params_default(void);

/* The summary: one row per customer whose first purchase is on or before
 * cal_end, in ascending customer id. */
typedef struct upf_btyd_summary {
    size_t n;              /* customers */
    int32_t *customer;     /* (n) the id given in the transactions */
    double *x;             /* (n) repeat transactions in calibration */
    double *t_x;           /* (n) time of the last repeat transaction (units), 0 if x = 0 */
    double *T;             /* (n) time from first purchase to the end of calibration (units) */
    double *x_star;        /* (n) transactions in the holdout */
    double *v_star;        /* (n) spend in the holdout */
    double *m_x;           /* (n) mean value of the repeat calibration transactions, 0 if x = 0 */
    double *first_value;   /* (n) value of the first transaction */
    double t_star;         /* holdout length (units) */
    size_t n_late;         /* customers skipped: first purchase after cal_end */
    size_t n_merged;       /* purchases folded into an earlier one on the same day */
    double repeat_total;   /* sum of x */
    double holdout_total;  /* sum of x_star */
    double holdout_value;  /* sum of v_star */
    size_t n_zero;         /* customers with x = 0 */
} upf_btyd_summary;

void upf_btyd_summary_free(upf_btyd_summary *s); /* frees members, zeroes; accepts a zeroed struct */

/* Builds the summary from transactions in any order (the array is not
 * modified). Transactions after the holdout are ignored. UPF_ERR_ARG for a
 * negative customer id or value or bad params, UPF_ERR_DATA when no customer
 * starts before cal_end, UPF_ERR_NOMEM. On failure *out is zeroed. */
upf_status upf_btyd_summary_build(const upf_btyd_txn *txn, size_t n_txn, const upf_btyd_params *p,
                                  upf_btyd_summary *out, upf_err *err);

/* The same from a dataset's PURCHASE events (value = revenue), customers being
 * dataset user indices. */
upf_status upf_btyd_summary_from_dataset(const upf_dataset *ds, const upf_btyd_params *p, upf_btyd_summary *out,
                                         upf_err *err);

/* ---- fits ---- */

typedef struct upf_btyd_fit_info {
    double log_likelihood; /* at the estimate, summed over customers */
    size_t iterations;     /* optimizer iterations, all stages */
    size_t evaluations;    /* likelihood evaluations */
    int converged;         /* 1 when BFGS met its gradient or step tolerance */
    double grad_max;       /* max |d LL / d log theta| at the estimate */
    double se[4];          /* standard errors of the natural parameters (inverse observed
                              information, delta method); NaN when it is not positive definite */
} upf_btyd_fit_info;

/* Sum of the BG/NBD log-likelihood over the summary, and (when grad is not
 * NULL) its gradient with respect to (log r, log alpha, log a, log b). */
double upf_bgnbd_loglik(const upf_btyd_summary *s, const upf_bgnbd_params *p, double *grad /* (4) or NULL */);
/* Maximum likelihood of BG/NBD (mbg 0) or MBG/NBD (mbg 1) from the start
 * r = alpha = a = b = 1 (the BTYD package's), in log parameters: Nelder-
 * Mead to get near, BFGS with the analytic gradient to land (gradient below
 * 1e-9 per customer). */
upf_status upf_bgnbd_fit(const upf_btyd_summary *s, int mbg, upf_bgnbd_params *out, upf_btyd_fit_info *info,
                         upf_err *err);

/* Pareto/NBD: the log-likelihood (status: a 2F1 failure) and its fit (Nelder-
 * Mead, then BFGS on central-difference gradients). */
upf_status upf_pnbd_loglik(const upf_btyd_summary *s, const upf_pnbd_params *p, double *out);
upf_status upf_pnbd_fit(const upf_btyd_summary *s, upf_pnbd_params *out, upf_btyd_fit_info *info, upf_err *err);

/* Gamma-Gamma on the customers with x > 0 and m_x > 0 (counted in *n_used). */
double upf_gg_loglik(const upf_btyd_summary *s, const upf_gg_params *g, double *grad /* (3) or NULL */);
upf_status upf_gg_fit(const upf_btyd_summary *s, upf_gg_params *out, upf_btyd_fit_info *info, size_t *n_used,
                      upf_err *err);

/* ---- holdout evaluation ---- */

/* Actual vs expected holdout transactions by calibration frequency (the BTYD
 * 0..7+ table with n_buckets 8; eval/survival_metrics.h has the definition).
 * expected[i] is each customer's model forecast for the holdout. */
void upf_btyd_holdout_table(const upf_btyd_summary *s, const double *expected /* (s->n) */, size_t n_buckets,
                            upf_freq_bucket *out /* (n_buckets) */);

/* Each customer's BG/NBD (or Pareto/NBD) forecast of holdout transactions,
 * E[Y(t_star) | x, t_x, T], into out (s->n). */
upf_status upf_bgnbd_forecast(const upf_btyd_summary *s, const upf_bgnbd_params *p, double *out, upf_err *err);
upf_status upf_pnbd_forecast(const upf_btyd_summary *s, const upf_pnbd_params *p, double *out, upf_err *err);

#endif
