/* ranker_loss.h - the ranker's losses and their gradients.
 *
 * Pairwise (per sample, plain loops; the trainer applies the updates):
 *   BPR  (Rendle et al. 2009): loss = w * softplus(-(s_ui - s_uj))
 *   WARP (Weston, Bengio & Usunier 2011): loss = w * L(rank) * max(0, 1 - s_ui + s_uj),
 *        L(k) = sum_{r=1..k} 1/r, rank estimated as floor((I-1) / trials) from the
 *        number of uniform draws needed to find a violating negative (capped).
 * Both reduce to a coefficient c = dloss/d(s_ui - s_uj); see upf_pair_coef.
 *
 * Mini-batch (scores from sgemm): a multinomial / sampled softmax over a
 * candidate set, one row per user (Liang et al. 2018 "Variational autoencoders
 * for collaborative filtering", the multinomial likelihood; Jean et al. 2015 and
 * Bengio & Senecal 2008 for sampled softmax; Yi et al. 2019 for in-batch
 * negatives with the log-Q correction):
 *   z_uc = (s_uc - logq_c) / tau,   loss_u = -sum_c y_uc * log softmax(z_u)_c
 * With the full catalogue as candidates and logq = 0 this is the exact full
 * softmax. logq_c = +inf masks candidate c out (probability 0; its y must be 0). Legend: B users in the batch, C candidates, D dim.
 */
#ifndef UPF_RANKER_LOSS_H
#define UPF_RANKER_LOSS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "../model/base.h"

/* Stable softplus log(1 + e^x), branchy (no overflow, no cancellation). */
static inline double upf_softplus(double x)
{
    return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}
/* Logistic sigmoid, stable on both tails. */
static inline double upf_sigmoid(double x)
{
    if (x >= 0) return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

typedef enum upf_pair_loss { UPF_PAIR_BPR = 0, UPF_PAIR_WARP = 1 } upf_pair_loss;

/* BPR's loss w * softplus(-x) and c = dloss/dx = -w * sigmoid(-x) from one
 * exp and one log1p (the hot loop's form; equal to upf_pair_loss_at). */
static inline double upf_bpr_at(double x, double w, double *c)
{
    double e = exp(-fabs(x)); /* in (0, 1] */
    double s = x >= 0 ? e / (1.0 + e) : 1.0 / (1.0 + e); /* sigmoid(-x) */
    *c = -w * s;
    return w * ((x < 0 ? -x : 0.0) + log1p(e));
}

/* WARP's rank weight L(k) = H_k (harmonic number), k >= 1; L(0) = 0. */
double upf_warp_weight(uint64_t k);

/* Loss and its derivative c = dloss/dx at x = s_ui - s_uj for one pair with
 * weight w (warp_l: L(rank) for WARP, ignored for BPR). */
double upf_pair_loss_at(upf_pair_loss kind, double x, double w, double warp_l, double *c);

/* ---- mini-batch softmax ---- */

/* Loss and gradients of the batch (see the header comment):
 *   U (B, D) user vectors; V (C, D) candidate vectors; bias (C) or NULL;
 *   logq (C) or NULL; Y (B, C) target weights (>= 0; rows summing to 0 add nothing).
 * Outputs: S (B, C) scratch (holds the softmax on return); gU (B, D); gV (C, D);
 *   gb (C) (or NULL when bias is NULL); *loss the batch loss (double). Gradients
 *   are of the summed loss times `scale` (e.g. 1/B). Uses OpenBLAS sgemm. */
void upf_softmax_batch(const float *U, const float *V, const float *bias, const float *logq, const float *Y,
                       size_t B, size_t C, size_t D, float tau, float scale, float *S, float *gU, float *gV,
                       float *gb, double *loss);
/* The same with plain loops (the reference the tests compare against). */
void upf_softmax_batch_ref(const float *U, const float *V, const float *bias, const float *logq, const float *Y,
                           size_t B, size_t C, size_t D, float tau, float scale, float *S, float *gU, float *gV,
                           float *gb, double *loss);

/* Scores S (B, C) = U V^T + bias, by sgemm and by plain loops. */
void upf_score_batch(const float *U, const float *V, const float *bias, size_t B, size_t C, size_t D, float *S);
void upf_score_batch_ref(const float *U, const float *V, const float *bias, size_t B, size_t C, size_t D,
                         float *S);

#endif
