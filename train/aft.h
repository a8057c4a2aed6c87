/* aft.h - accelerated failure time survival models with covariates:
 *   log T = x.beta + beta_0 + sigma W,
 * W standard extreme-value (Weibull) or logistic (log-logistic), fitted to
 * right-censored times (time to the next purchase, censored at the end of the
 * observation window) by maximum likelihood.
 *
 * Two fits: a full-batch damped Newton method in double precision that
 * reaches the exact MLE (small data, reference fits), and mini-batch Adam
 * whose batches are scored with BLAS (cblas_sgemv for X_b.beta and X_b'g) for
 * large data. The per-row likelihood (and its derivatives in z) is the
 * stable form: Weibull log S = -e^z, log f = z - e^z; log-logistic log S =
 * -softplus(z), log f = -softplus(z) - softplus(-z); events add -log sigma -
 * log t so the value is the density of T (R survreg / lifelines convention).
 *
 * Right-truncated rows (upf_aft_data.trunc) divide by F(trunc): the
 * interval model's gaps are only seen when they closed before the cutoff.
 *
 * Parameters are one block theta (d + 2): beta_1..beta_d, beta_0 (intercept),
 * log sigma. Features are used as given: standardize them first
 * (upf_aft_standardize) so the optimizers see a well-scaled problem.
 * Entry points: upf_aft_loglik, upf_aft_fit_newton, upf_aft_fit_adam,
 * upf_aft_batch_grad(_ref), upf_aft_standardize, upf_aft_predict.
 */
#ifndef UPF_AFT_H
#define UPF_AFT_H

#include <stddef.h>
#include <stdint.h>

#include "../model/base.h"
#include "../model/lifetime.h"

/* The data: exactly one of Xf / Xd is set. */
typedef struct upf_aft_data {
    size_t n, d;            /* rows, features (the intercept is implicit) */
    const float *Xf;        /* (n, d) row-major, or NULL */
    const double *Xd;       /* (n, d) row-major, or NULL */
    const double *time;     /* (n) observed time > 0 (event or censoring) */
    const uint8_t *event;   /* (n) 1 = event observed, 0 = right-censored */
    const double *weight;   /* (n) row weights >= 0, or NULL for all 1 */
    const double *trunc;    /* (n) right-truncation bounds, or NULL: row i could only be observed because its
                               time is <= trunc[i] (a gap seen only when it closed before the cutoff), so it
                               contributes log f(t) - log F(trunc) (or log S(t) - log F(trunc) when censored);
                               +inf = not truncated. Newton and the reference likelihood; Adam refuses it. */
} upf_aft_data;

typedef struct upf_aft_params {
    int dist;          /* upf_aft_dist */
    double l2;         /* ridge penalty l2/2 * |beta_1..d|^2 (not intercept, not sigma), >= 0 */
    /* Newton */
    size_t max_iter;   /* Newton iterations, >= 1 (default 100) */
    double gtol;       /* converged when max |gradient| <= gtol * sum of weights (default 1e-10) */
    /* Adam (Kingma & Ba 2015) */
    size_t epochs;     /* passes over the data (default 20) */
    size_t batch;      /* rows per mini-batch (default 1024) */
    double lr;         /* step size (default 0.01), decayed as lr / sqrt(1 + epoch) */
    double beta1, beta2, eps; /* Adam moments (0.9, 0.999, 1e-8) */
    uint64_t seed;     /* shuffling of the rows each epoch */
} upf_aft_params;

upf_aft_params upf_aft_params_default(void); /* Weibull, l2 0, the defaults above */
/* The first invalid field as a message (the liblinear check_parameter pattern). */
upf_status upf_aft_params_check(const upf_aft_params *p, upf_err *err);

typedef struct upf_aft_fit_info {
    double log_likelihood; /* unpenalized, at the returned theta, whole data */
    size_t iterations;     /* Newton iterations or Adam steps */
    int converged;         /* Newton: gradient tolerance met; Adam: always 0 */
    double grad_max;       /* max |d LL / d theta| (penalized) at the end */
} upf_aft_fit_info;

/* log-likelihood of the data at theta (plain loops, double; the reference),
 * minus the l2 penalty when l2 > 0. When grad (d+2) / hess ((d+2)^2,
 * row-major) are not NULL they receive the derivatives of that penalized
 * value. Returns -inf when some row's likelihood underflows or a time is not
 * > 0. */
double upf_aft_loglik(const upf_aft_data *D, int dist, double l2, const double *theta, double *grad, double *hess);

/* The same value and derivatives by the blocked BLAS path Newton uses
 * (dgemv for eta and the gradient, dsyrk for the Hessian); allocates its
 * workspace. UPF_ERR_NOMEM leaves *ll = 0. */
upf_status upf_aft_loglik_fast(const upf_aft_data *D, int dist, double l2, const double *theta, double *grad,
                               double *hess, double *ll);

/* Damped Newton from theta (in/out; all zeros is a fine start: the intercept
 * then starts at the weighted mean of log t): Levenberg damping when -H is
 * not positive definite, backtracking on the likelihood. Hessian blocks by
 * cblas_dsyrk. UPF_ERR_NUMERIC when no finite likelihood can be found,
 * UPF_ERR_INTERRUPTED, UPF_ERR_NOMEM. theta is unchanged on failure. */
upf_status upf_aft_fit_newton(const upf_aft_data *D, const upf_aft_params *p, double *theta /* (d+2) */,
                              upf_aft_fit_info *info, upf_err *err);

/* Called after each Adam epoch with the mean penalized negative
 * log-likelihood per row over that epoch's batches; a non-OK return stops
 * training with that status. */
typedef upf_status (*upf_aft_epoch_fn)(void *ctx, size_t epoch, double train_nll, const double *theta,
                                       upf_err *err);

/* Mini-batch Adam from theta (in/out), requires D->Xf. Deterministic for a
 * seed. UPF_ERR_NUMERIC when the loss stops being finite (with the epoch and
 * step). */
upf_status upf_aft_fit_adam(const upf_aft_data *D, const upf_aft_params *p, double *theta, upf_aft_epoch_fn on_epoch,
                            void *ctx, upf_aft_fit_info *info, upf_err *err);

/* The gradient of the mini-batch's summed negative log-likelihood at theta
 * over rows X (b, d) float with time/event/weight slices: the BLAS path
 * (sgemv twice) and its plain-loop reference. scratch: 2b + 2d floats.
 * Returns the batch's summed negative log-likelihood (unpenalized). */
double upf_aft_batch_grad(int dist, size_t b, size_t d, const float *X /* (b, d) */, const double *time,
                          const uint8_t *event, const double *weight, const double *theta, double *grad /* (d+2) */,
                          float *scratch);
double upf_aft_batch_grad_ref(int dist, size_t b, size_t d, const float *X, const double *time,
                              const uint8_t *event, const double *weight, const double *theta, double *grad);

/* Standardizes the columns of X in place with their weighted mean and
 * standard deviation over the rows (double accumulation) and returns them;
 * a constant column keeps scale 1 (and becomes all zeros). */
void upf_aft_standardize(float *X /* (n, d) */, size_t n, size_t d, double *center /* (d) */,
                         double *scale /* (d) */);
/* Applies a given center/scale to other rows (test data, serving). */
void upf_aft_apply_standardize(float *X /* (n, d) */, size_t n, size_t d, const double *center, const double *scale);

/* ---- predictions for one row (x already standardized) ---- */

typedef struct upf_aft_prediction {
    double eta;           /* x.beta + beta_0 (log time) */
    double p_none;        /* P(no event within horizon) = S(horizon) */
    double median;        /* time with S = 1/2 */
    double q10, q90;      /* 10% and 90% quantiles of T */
    double expected;      /* expected events within horizon (renewal approximation, model/lifetime.h) */
} upf_aft_prediction;

/* grid: steps for the renewal equation (0 skips `expected`); scratch:
 * 2 * (grid + 1) doubles. */
void upf_aft_predict(int dist, size_t d, const float *x /* (d) */, const double *theta, double horizon, size_t grid,
                     double *scratch, upf_aft_prediction *out);

#endif
