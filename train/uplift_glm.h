/* uplift_glm.h - the generalized linear models behind the uplift family:
 * weighted logistic regression (binary outcomes) and linear least squares
 * (continuous outcomes such as spend), with an L2 penalty.
 *
 * Objective (minimized), W = sum of row weights:
 *   J(theta) = (1/W) sum_i w_i l(y_i, eta_i) + (l2/2) |beta|^2,
 *   eta_i = x_i . beta + b          (b, the intercept, is not penalized)
 *   logistic: l = softplus(eta) - y eta   (branchy softplus, stable for any eta)
 *   linear:   l = (eta - y)^2 / 2
 * Dividing by W keeps l2 comparable across data sizes and row weightings.
 *
 * Two fits of the same objective: mini-batch Adam (Kingma & Ba 2015) whose
 * batches are scored by BLAS (cblas_sgemv for X_b beta and X_b' r), seeded
 * row shuffles, single-threaded and deterministic; and a full-batch
 * Newton / IRLS method in double precision (Hessian X'DX/W + l2 I by
 * cblas_dsyrk, Cholesky solve, step halving; it stops on gtol or when the
 * Newton decrement falls below the double resolution of J) that reaches the
 * exact optimum
 * on small data, used as the check that Adam gets there and available as an
 * optimizer. Parameters are one block theta (d + 1): beta_1..beta_d, then b.
 * Entry points: upf_glm_loss (reference objective and gradient),
 * upf_glm_batch_grad / _ref (the BLAS kernel and its plain loops),
 * upf_glm_fit_adam, upf_glm_fit_newton, upf_glm_predict.
 */
#ifndef UPF_UPLIFT_GLM_H
#define UPF_UPLIFT_GLM_H

#include <stddef.h>
#include <stdint.h>

#include "../model/base.h"

typedef enum upf_glm_link {
    UPF_GLM_LOGISTIC = 0, /* y in {0, 1}; prediction sigmoid(eta) */
    UPF_GLM_LINEAR = 1    /* y real; prediction eta */
} upf_glm_link;

typedef struct upf_glm_data {
    size_t n, d;          /* rows, features (the intercept is implicit) */
    const float *X;       /* (n, d) row-major, standardized by the caller */
    const float *y;       /* (n) outcome */
    const float *w;       /* (n) row weights >= 0, or NULL for 1 */
} upf_glm_data;

typedef struct upf_glm_params {
    int link;             /* upf_glm_link */
    double l2;            /* >= 0, penalty (l2/2)|beta|^2 */
    size_t epochs;        /* Adam passes over the rows, >= 1 */
    size_t batch;         /* rows per mini-batch, >= 1 */
    double lr;            /* Adam step, > 0, decayed as lr / sqrt(1 + epoch) */
    double beta1, beta2, eps; /* Adam moments */
    uint64_t seed;        /* row shuffles */
    size_t max_iter;      /* Newton iterations, >= 1 */
    double gtol;          /* Newton: converged when max |grad J| <= gtol */
} upf_glm_params;

/* logistic, l2 1e-4, 20 epochs of 512, lr 0.05, Adam 0.9 / 0.999 / 1e-8,
 * seed 1, Newton 50 iterations to 1e-9. */
upf_glm_params upf_glm_params_default(void);
upf_status upf_glm_params_check(const upf_glm_params *p, upf_err *err);

typedef struct upf_glm_fit_info {
    double objective;     /* J at the returned theta (double, whole data) */
    double grad_max;      /* max |grad J| there */
    size_t iterations;    /* Adam steps or Newton iterations */
    int converged;        /* Newton: gtol met; Adam: 0 */
} upf_glm_fit_info;

/* J(theta) by plain loops in double (the reference objective); grad (d+1)
 * receives its gradient when not NULL. NaN when some y is not 0/1 under the
 * logistic link or W is 0. */
double upf_glm_loss(const upf_glm_data *D, int link, double l2, const double *theta, double *grad);

/* The BLAS kernel of one mini-batch of b rows: eta = X_b beta + b (sgemv),
 * r_i = w_i dl/deta_i, grad (d+1) = (X_b' r, sum r) (sgemv, transposed).
 * Returns sum_i w_i l_i (double), no penalty, no division by W. scratch:
 * 2b + 2d floats. theta is double; the kernel works in float with double
 * sums of the losses. */
double upf_glm_batch_grad(int link, size_t b, size_t d, const float *X /* (b, d) */, const float *y /* (b) */,
                          const float *w /* (b) or NULL */, const double *theta, double *grad /* (d+1) */,
                          float *scratch);
/* The same by plain loops in double (the reference). */
double upf_glm_batch_grad_ref(int link, size_t b, size_t d, const float *X, const float *y, const float *w,
                              const double *theta, double *grad);

/* Called after each Adam epoch with the epoch's mean objective over its
 * batches; a non-OK return stops training with that status. */
typedef upf_status (*upf_glm_epoch_fn)(void *ctx, size_t epoch, double objective, upf_err *err);

/* Mini-batch Adam from theta (in/out, d+1). UPF_ERR_NUMERIC when the loss
 * stops being finite (epoch and step in the message), UPF_ERR_INTERRUPTED,
 * UPF_ERR_NOMEM, UPF_ERR_ARG for bad params or data (theta unchanged then). */
upf_status upf_glm_fit_adam(const upf_glm_data *D, const upf_glm_params *p, double *theta, upf_glm_epoch_fn on_epoch,
                            void *ctx, upf_glm_fit_info *info, upf_err *err);

/* Full-batch Newton / IRLS from theta (in/out). Needs l2 > 0 or a design of
 * full rank (UPF_ERR_NUMERIC otherwise). Same failure rules. */
upf_status upf_glm_fit_newton(const upf_glm_data *D, const upf_glm_params *p, double *theta, upf_glm_fit_info *info,
                              upf_err *err);

/* Predictions for n rows: eta (n) and, when mean != NULL, the mean
 * (sigmoid(eta) or eta). X (n, d) standardized. BLAS sgemv in blocks. */
void upf_glm_predict(int link, size_t n, size_t d, const float *X, const double *theta, double *eta, double *mean);

/* Stable sigmoid and softplus (branch on the sign). */
double upf_glm_sigmoid(double eta);
double upf_glm_softplus(double eta);

#endif
