/* uplift_model.h - uplift models on the GLMs of uplift_glm.h: per arm k of a
 * campaign (arm 0 the control) the uplift tau_k(x) = E[y | x, k] - E[y | x, 0].
 *
 * Methods (uplift.method in the model file, model.method in configs):
 *   two_model       one response model per arm, fitted on that arm's rows;
 *                   tau_k = m_k(x) - m_0(x) (the "T-learner").
 *   interaction     one model on all rows with treatment x feature terms
 *                   (Lo 2002): eta = x.b0 + c0 + sum_k [arm = k] (x.b_k + c_k);
 *                   m_0 = g(x.b0 + c0), m_k = g(x.b0 + c0 + x.b_k + c_k).
 *   class_transform per treatment arm k, on the rows of arms 0 and k, with
 *                   e_k = the assignment probability of k within that pair:
 *                   binary y: the class variable z = y t + (1 - y)(1 - t)
 *                   (Jaskowski & Jaroszewicz 2012), fitted by logistic
 *                   regression with row weights 1/(2 e_k) (treated) and
 *                   1/(2 (1 - e_k)) (control), so the weighted assignment is
 *                   balanced and tau_k = 2 P(z = 1 | x) - 1 holds for any
 *                   treatment share (the paper assumes 1/2);
 *                   continuous y: the transformed outcome
 *                   y* = y (t - e_k) / (e_k (1 - e_k)) (Athey & Imbens 2015),
 *                   E[y* | x] = tau_k(x), fitted by least squares.
 *                   No per-arm response; e_k comes from the campaign's
 *                   propensity column (the mean stored propensity of each
 *                   arm: pi_k / (pi_k + pi_0)) or, without one, from the
 *                   arms' shares of the training rows.
 * g is the logistic function for binary outcomes and the identity (linear
 * regression) for continuous ones. Weights are one block theta
 * (n_rows, d + 1), each row beta then the intercept, the layout of kinds.h
 * UPF_KIND_UPLIFT: two_model and interaction n_rows = n_arms (interaction:
 * row 0 the base, row k the arm's terms); class_transform n_rows =
 * n_arms - 1 (row k - 1 for arm k).
 * Entry points: upf_uplift_fit, upf_uplift_predict, upf_uplift_model_free.
 */
#ifndef UPF_UPLIFT_MODEL_H
#define UPF_UPLIFT_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "../model/base.h"
#include "uplift_glm.h"

typedef enum upf_uplift_method {
    UPF_UPLIFT_M_TWO_MODEL = 0,
    UPF_UPLIFT_M_CLASS_TRANSFORM = 1,
    UPF_UPLIFT_M_INTERACTION = 2,
    UPF_UPLIFT_M_COUNT
} upf_uplift_method;

const char *upf_uplift_method_name(int method); /* "two_model", ...; "?" if invalid */

typedef struct upf_uplift_fit_params {
    int method;               /* upf_uplift_method */
    int optimizer;            /* 0 Adam, 1 Newton */
    upf_glm_params glm;       /* link, l2, Adam settings, seed (each sub-model gets seed + its row) */
} upf_uplift_fit_params;

typedef struct upf_uplift_model {
    int method;               /* upf_uplift_method */
    int link;                 /* upf_glm_link */
    size_t n_arms, d, n_rows; /* arms with the control; features; rows of theta */
    double *theta;            /* (n_rows, d + 1) owned */
    double e[16];             /* class_transform: e_k per arm (index k), else 0 */
} upf_uplift_model;

/* The training rows: X (n, d) standardized, arm (n) in 0..n_arms-1, y (n),
 * propensity (n) of the row's own arm or NULL. */
typedef struct upf_uplift_rows {
    size_t n, d, n_arms;
    const float *X;
    const int16_t *arm;
    const float *y;
    const float *propensity;
} upf_uplift_rows;

/* Called after each Adam epoch of each sub-model (row = the theta row). */
typedef upf_status (*upf_uplift_epoch_fn)(void *ctx, size_t row, size_t epoch, double objective, upf_err *err);

/* Fits *out (zeroed on failure). 2 <= n_arms <= 16; every arm needs rows
 * (UPF_ERR_DATA otherwise); the logistic link needs 0/1 outcomes. */
upf_status upf_uplift_fit(const upf_uplift_rows *R, const upf_uplift_fit_params *p, upf_uplift_epoch_fn on_epoch,
                          void *ctx, upf_uplift_model *out, upf_err *err);
void upf_uplift_model_free(upf_uplift_model *m); /* frees theta, zeroes; accepts a zeroed struct */

/* For n rows X (n, d): resp (n, n_arms) the predicted response per arm (NaN
 * for class_transform) and uplift (n, n_arms), column 0 = 0; either may be
 * NULL. scratch: 2n doubles. */
void upf_uplift_predict(const upf_uplift_model *m, const float *X, size_t n, double *resp, double *uplift,
                        double *scratch);

/* The best arm per row: argmax_k uplift[k] with the control (0) unless some
 * arm's uplift is > 0; ties to the lower arm. */
void upf_uplift_best_arm(const double *uplift /* (n, n_arms) */, size_t n, size_t n_arms, int16_t *best /* (n) */);

#endif
