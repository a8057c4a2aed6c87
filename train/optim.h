/* optim.h - first-order optimizers over float rows (SGD, Adagrad, Adam) and
 * the learning-rate schedule, shared by the trainers.
 *
 * State mirrors the parameter block (STYLE.md section 5): s1 is Adagrad's
 * sum of squares or Adam's first moment, s2 Adam's second moment; updates act
 * on any contiguous range, so row-sparse (lazy) updates and dense sweeps use
 * the same code. L2 is added to the gradient (coupled) before the update.
 * References: Duchi, Hazan & Singer 2011 (Adagrad); Kingma & Ba 2015 (Adam).
 */
#ifndef UPF_OPTIM_H
#define UPF_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "../model/base.h"

typedef enum upf_opt_kind {
    UPF_OPT_SGD = 0,
    UPF_OPT_ADAGRAD = 1,
    UPF_OPT_ADAM = 2,
    UPF_OPT_KIND_COUNT
} upf_opt_kind;

typedef enum upf_lr_schedule {
    UPF_LR_CONSTANT = 0, /* lr_init throughout */
    UPF_LR_LINEAR = 1,   /* lr_init -> lr_min linearly over total steps */
    UPF_LR_COSINE = 2,   /* lr_init -> lr_min on a half cosine over total steps */
    UPF_LR_SCHEDULE_COUNT
} upf_lr_schedule;

typedef struct upf_opt_params {
    upf_opt_kind kind;
    upf_lr_schedule schedule;
    double lr_init;       /* > 0 */
    double lr_min;        /* >= 0, <= lr_init: the floor of linear/cosine */
    uint64_t warmup;      /* steps of linear warm-up from 0 (0: none) */
    double beta1, beta2;  /* Adam moments, in [0, 1) */
    double eps;           /* Adam/Adagrad denominator guard, > 0 */
    double l2;            /* coupled L2 penalty added to the gradient, >= 0 */
} upf_opt_params;

upf_opt_params upf_opt_params_default(void); /* Adam, constant 1e-3, betas 0.9/0.999, eps 1e-8, l2 0 */
const char *upf_opt_kind_name(upf_opt_kind k);
const char *upf_lr_schedule_name(upf_lr_schedule s);

/* The learning rate at step (0-based) of total_steps (>= 1): a pure function. */
double upf_lr_at(const upf_opt_params *p, uint64_t step, uint64_t total_steps);

/* Precomputed per-step constants, so the per-row loop stays lean. */
typedef struct upf_opt_step {
    upf_opt_kind kind;
    float lr;     /* this step's rate (for Adam: times the bias correction sqrt(1-b2^t)/(1-b1^t)) */
    float l2;
    float beta1, beta2, eps;
    float eps_hat; /* Adam: eps * sqrt(1-b2^t), so the corrected denominator is exact */
} upf_opt_step;

/* Constants for update number t (1-based) at rate lr. */
upf_opt_step upf_opt_step_at(const upf_opt_params *p, double lr, uint64_t t);

/* param[k] -= update(g[k] + l2 * param[k]) for k < n; s1/s2 may be NULL when
 * the kind does not use them. The plain reference loop; no vectorization tricks. */
void upf_opt_update(const upf_opt_step *o, float *param, float *s1, float *s2, const float *g, size_t n);

#endif
