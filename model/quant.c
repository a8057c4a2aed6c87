/* quant.c - I8S block quantization and decoding (see quant.h for the rules). */
#include "quant.h"

#include <math.h>

size_t upf_quant_n_blocks(size_t inner, size_t q_block)
{
    return q_block ? inner / q_block + (inner % q_block != 0) : 0;
}

void upf_quant_i8s_block(const float *x, size_t n, int8_t *q, float *scale)
{
    float amax = 0.0f;
    for (size_t i = 0; i < n; i++) {
        float a = fabsf(x[i]);
        if (a > amax) amax = a;
    }
    float s = amax / 127.0f;
    *scale = s;
    for (size_t i = 0; i < n; i++) {
        if (s == 0.0f) { /* all-zero block, or max|x| so small that the scale underflows */
            q[i] = 0;
            continue;
        }
        float v = roundf(x[i] / s);
        if (v > 127.0f) v = 127.0f;
        if (v < -127.0f) v = -127.0f;
        q[i] = (int8_t)v;
    }
}

void upf_quant_i8s(const float *x, size_t rows, size_t inner, size_t q_block, int8_t *q, float *scales)
{
    size_t nb = upf_quant_n_blocks(inner, q_block);
    for (size_t r = 0; r < rows; r++)
        for (size_t b = 0; b < nb; b++) {
            size_t off = b * q_block, len = inner - off < q_block ? inner - off : q_block;
            upf_quant_i8s_block(x + r * inner + off, len, q + r * inner + off, scales + r * nb + b);
        }
}

void upf_dequant_i8s(const int8_t *q, const float *scales, size_t rows, size_t inner, size_t q_block,
                     float *out)
{
    size_t nb = upf_quant_n_blocks(inner, q_block);
    for (size_t r = 0; r < rows; r++)
        for (size_t d = 0; d < inner; d++)
            out[r * inner + d] = (float)q[r * inner + d] * scales[r * nb + d / q_block];
}
