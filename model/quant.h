/* quant.h - the I8S codec: int8 values with one f32 scale per block of q_block
 * elements along the innermost dimension (STYLE.md section 10).
 *
 * Per block: scale = max|x| / 127, q = round(x / scale) (half away from zero)
 * clamped to [-127, 127]; decode is q * scale. An all-zero block (or one whose
 * scale underflows to 0) stores scale 0 and q = 0: never a division by zero.
 * Inputs must be finite (the writer checks). Scoring kernels over I8S rows are
 * in kernels.h.
 */
#ifndef UPF_QUANT_H
#define UPF_QUANT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UPF_I8S_QMAX 127

/* Number of scale blocks per row: ceil(inner / q_block); 0 when inner is 0. q_block >= 1. */
size_t upf_quant_n_blocks(size_t inner, size_t q_block);

/* One block: q (n) and *scale from x (n). */
void upf_quant_i8s_block(const float *x, size_t n, int8_t *q, float *scale);

/* A (rows, inner) matrix: q (rows, inner), scales (rows, n_blocks). */
void upf_quant_i8s(const float *x, size_t rows, size_t inner, size_t q_block, int8_t *q, float *scales);

/* Decode: out (rows, inner) = q * scale of the element's block (float multiply). */
void upf_dequant_i8s(const int8_t *q, const float *scales, size_t rows, size_t inner, size_t q_block,
                     float *out);

#ifdef __cplusplus
}
#endif
#endif
