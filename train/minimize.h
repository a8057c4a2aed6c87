/* minimize.h - small dense minimizers for maximum-likelihood fits with a handful
 * of parameters (BG/NBD, Pareto/NBD, Gamma-Gamma, AFT polishing): Nelder-Mead
 * with restarts, and BFGS with a strong-Wolfe line search.
 *
 * Both minimize. Objectives return +inf or NaN outside their domain; the
 * methods treat that as "worse than anything" and back off. Not here:
 * stochastic optimizers (train/aft.c has Adam) and anything large-scale.
 * Entry points: upf_min_nelder_mead, upf_min_bfgs, upf_min_num_grad.
 */
#ifndef UPF_MINIMIZE_H
#define UPF_MINIMIZE_H

#include <stddef.h>

#include "../model/base.h"

/* f(x) to minimize; x has n elements. */
typedef double (*upf_min_fn)(const double *x, void *ctx);
/* f(x) and its gradient (written to grad, n elements). */
typedef double (*upf_min_fg)(const double *x, double *grad, void *ctx);

typedef struct upf_min_params {
    size_t max_iter;   /* iterations (NM: per restart), >= 1 */
    size_t max_restarts; /* NM: restarts from the best vertex until no improvement, >= 0 */
    double ftol;       /* relative change of f that counts as converged, >= 0 */
    double xtol;       /* NM: simplex diameter; BFGS: step length, absolute, >= 0 */
    double gtol;       /* BFGS: max |gradient| that counts as converged, >= 0 */
    double step;       /* NM: initial simplex edge, > 0 */
} upf_min_params;

/* max_iter 5000, max_restarts 20, ftol 1e-14, xtol 1e-10, gtol 1e-8, step 0.5 */
upf_min_params upf_min_params_default(void);

typedef struct upf_min_result {
    double f;          /* objective at the returned x */
    size_t iters;      /* iterations over all restarts */
    size_t evals;      /* objective evaluations */
    int converged;     /* 1 when a tolerance was met, 0 when max_iter ran out */
} upf_min_result;

/* Nelder-Mead (Lagarias et al. 1998 coefficients 1, 2, 1/2, 1/2) from x,
 * restarted from the best vertex with a fresh simplex until a restart no
 * longer improves f by ftol. x (n) is replaced by the best point. Fails
 * (UPF_ERR_NUMERIC) when f is not finite at the start; UPF_ERR_NOMEM;
 * UPF_ERR_INTERRUPTED when upf_interrupted() is set. */
upf_status upf_min_nelder_mead(upf_min_fn f, void *ctx, size_t n, double *x, const upf_min_params *p,
                               upf_min_result *res, upf_err *err);

/* BFGS on the inverse Hessian with a strong-Wolfe line search (Nocedal &
 * Wright 2006, algorithms 3.5-3.6, c1 1e-4, c2 0.9), H0 scaled by y's/y'y
 * after the first step. Stops when max |g| <= gtol, or when the relative
 * decrease of f over a step is below ftol and the step is below xtol.
 * Same failure rules as Nelder-Mead. */
upf_status upf_min_bfgs(upf_min_fg fg, void *ctx, size_t n, double *x, const upf_min_params *p,
                        upf_min_result *res, upf_err *err);

/* Central-difference gradient of f at x with steps h*(1+|x_i|); n evals*2.
 * Returns f(x). */
double upf_min_num_grad(upf_min_fn f, void *ctx, size_t n, const double *x, double h,
                        double *grad /* (n) */, double *scratch /* (n) */);

/* Inverts a symmetric positive definite n x n matrix in place (Cholesky).
 * UPF_ERR_NUMERIC when it is not positive definite. */
upf_status upf_min_spd_inverse(double *a /* (n, n), row-major */, size_t n);
/* Solves A x = b for SPD A (n x n) by Cholesky; a is overwritten by the
 * factor. UPF_ERR_NUMERIC when A is not positive definite. */
upf_status upf_min_spd_solve(double *a /* (n, n) */, double *b /* (n) in: rhs, out: x */, size_t n);

#endif
