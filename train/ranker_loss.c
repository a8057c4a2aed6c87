/* ranker_loss.c - pairwise loss coefficients (BPR, WARP) and the mini-batch
 * softmax with its gradients, fast (sgemm) and reference (plain loops).
 * Softmax rows are reduced in double; scores and gradients stay float.
 * Entry points in ranker_loss.h. */
#include "ranker_loss.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

double upf_warp_weight(uint64_t k)
{
    /* H_k; for large k use the asymptotic series (error < 1e-12 for k > 64). */
    if (k <= 64) {
        double h = 0.0;
        for (uint64_t r = k; r >= 1; r--) h += 1.0 / (double)r;
        return h;
    }
    double x = (double)k;
    return log(x) + 0.57721566490153286 + 1.0 / (2.0 * x) - 1.0 / (12.0 * x * x) + 1.0 / (120.0 * x * x * x * x);
}

double upf_pair_loss_at(upf_pair_loss kind, double x, double w, double warp_l, double *c)
{
    if (kind == UPF_PAIR_WARP) {
        double h = 1.0 - x;
        if (h <= 0) {
            *c = 0.0;
            return 0.0;
        }
        *c = -w * warp_l;
        return w * warp_l * h;
    }
    return upf_bpr_at(x, w, c);
}

/* ---- batched scoring ---- */

void upf_score_batch(const float *U, const float *V, const float *bias, size_t B, size_t C, size_t D, float *S)
{
    if (bias)
        for (size_t b = 0; b < B; b++) memcpy(S + b * C, bias, C * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)C, (int)D, 1.0f, U, (int)D, V, (int)D,
                bias ? 1.0f : 0.0f, S, (int)C);
}

void upf_score_batch_ref(const float *U, const float *V, const float *bias, size_t B, size_t C, size_t D,
                         float *S)
{
    for (size_t b = 0; b < B; b++)
        for (size_t c = 0; c < C; c++) {
            double s = bias ? (double)bias[c] : 0.0;
            for (size_t k = 0; k < D; k++) s += (double)U[b * D + k] * (double)V[c * D + k];
            S[b * C + c] = (float)s;
        }
}

/* Turns row b of S (scores) into dL/dz * scale / tau in place, returns the row's loss.
 * dL/dz_c = n_b * p_c - y_c with n_b = sum_c y_c. One exp per element: the
 * exponentials (of non-positive arguments) are kept in the row between passes;
 * sums are in double. */
static double softmax_row(float *s, const float *logq, const float *y, size_t C, float tau, float scale)
{
    double n = 0.0, sum = 0.0, lin = 0.0;
    for (size_t c = 0; c < C; c++) n += (double)y[c];
    if (n <= 0) {
        memset(s, 0, C * sizeof(float));
        return 0.0;
    }
    const float inv_tau = 1.0f / tau;
    float mx = -INFINITY;
    for (size_t c = 0; c < C; c++) {
        float z = (s[c] - (logq ? logq[c] : 0.0f)) * inv_tau;
        s[c] = z;
        if (z > mx) mx = z;
        if (y[c] != 0.0f) lin += (double)y[c] * (double)z; /* masked candidates (z = -inf) have y = 0 */
    }
    for (size_t c = 0; c < C; c++) {
        float e = expf(s[c] - mx);
        s[c] = e;
        sum += (double)e;
    }
    const double g = (double)scale * (double)inv_tau, inv_sum = 1.0 / sum;
    for (size_t c = 0; c < C; c++) s[c] = (float)(g * (n * ((double)s[c] * inv_sum) - (double)y[c]));
    return n * ((double)mx + log(sum)) - lin;
}

void upf_softmax_batch(const float *U, const float *V, const float *bias, const float *logq, const float *Y,
                       size_t B, size_t C, size_t D, float tau, float scale, float *S, float *gU, float *gV,
                       float *gb, double *loss)
{
    upf_score_batch(U, V, bias, B, C, D, S);
    double total = 0.0;
    for (size_t b = 0; b < B; b++) total += softmax_row(S + b * C, logq, Y + b * C, C, tau, scale);
    *loss = total;
    /* gU = dZ V (B,D); gV = dZ^T U (C,D); gb = column sums of dZ. */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, (int)D, (int)C, 1.0f, S, (int)C, V, (int)D, 0.0f,
                gU, (int)D);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)C, (int)D, (int)B, 1.0f, S, (int)C, U, (int)D, 0.0f,
                gV, (int)D);
    if (gb) {
        memset(gb, 0, C * sizeof(float));
        for (size_t b = 0; b < B; b++) {
            const float *row = S + b * C;
            for (size_t c = 0; c < C; c++) gb[c] += row[c];
        }
    }
}

void upf_softmax_batch_ref(const float *U, const float *V, const float *bias, const float *logq, const float *Y,
                           size_t B, size_t C, size_t D, float tau, float scale, float *S, float *gU, float *gV,
                           float *gb, double *loss)
{
    upf_score_batch_ref(U, V, bias, B, C, D, S);
    double total = 0.0;
    for (size_t b = 0; b < B; b++) total += softmax_row(S + b * C, logq, Y + b * C, C, tau, scale);
    *loss = total;
    for (size_t b = 0; b < B; b++)
        for (size_t k = 0; k < D; k++) {
            double a = 0.0;
            for (size_t c = 0; c < C; c++) a += (double)S[b * C + c] * (double)V[c * D + k];
            gU[b * D + k] = (float)a;
        }
    for (size_t c = 0; c < C; c++) {
        for (size_t k = 0; k < D; k++) {
            double a = 0.0;
            for (size_t b = 0; b < B; b++) a += (double)S[b * C + c] * (double)U[b * D + k];
            gV[c * D + k] = (float)a;
        }
        if (gb) {
            double a = 0.0;
            for (size_t b = 0; b < B; b++) a += (double)S[b * C + c];
            gb[c] = (float)a;
        }
    }
}
