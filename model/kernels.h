/* kernels.h - block scoring kernels of the serving runtime: the scores of a
 * run of item rows against one user vector, for item tensors stored as F32,
 * F16 or I8S. Legend: D dense dim (row length), N rows in the call.
 *
 *   F32:  out[i] = bias[r] + dot(u, rows[r])                 (r = first + i)
 *   F16:  out[i] = bias[r] + dot(u, f16_to_f32(rows[r]))
 *   I8S:  out[i] = bias[r] + scale[r] * (u_scale * (float)sum_d uq[d] q[r][d])  (q_block == D)
 *   I8S blocked (q_block < D): out[i] = bias[r] + dot(u, q[r] * scale[r][block])
 * where dot is score.h's canonical order. For per-row I8S the user vector is
 * quantized once per query to int16 (upf_kern_quant_user) and the dot product
 * is an exact integer sum, so every summation order gives the same bits. Two implementations of each: the
 * reference (plain loops over score.h) and, on x86-64, AVX2/F16C kernels
 * chosen at run time from CPUID (no -march flags needed). Both give the same
 * bits; tests check it. Kernels never allocate and are thread-safe as long as
 * each thread has its own `tmp`.
 */
#ifndef UPF_KERNELS_H
#define UPF_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct upf_kern_args {
    const float *u;        /* (D) user vector */
    const void *rows;      /* (n_rows, D): float, uint16_t (f16) or int8_t */
    const float *scales;   /* I8S: (n_rows, n_blocks); else NULL */
    const float *bias;     /* (n_rows) */
    size_t dim;            /* D >= 1 */
    size_t q_block;        /* I8S block length; else 0 */
    float *tmp;            /* (D) scratch for the reference kernels */
    const int16_t *uq;     /* per-row I8S: (D) the quantized user vector */
    float u_scale;         /* per-row I8S: its scale */
} upf_kern_args;

/* Quantizes a user vector for the I8S kernels: scale = max|u| / 32767 (0 for
 * a zero vector), q = round(u / scale) (half away from zero), |u - q scale| <=
 * scale / 2. A vector with a NaN or infinity gets scale NaN (NaN scores). The integer dot with an int8 row is exact for D <= 4096 in
 * int32 (longer rows take the int64 reference path). */
void upf_kern_quant_user(const float *u, size_t D, int16_t *q, float *scale);

typedef void (*upf_kern_fn)(const upf_kern_args *a, size_t first, size_t n, float *out);

typedef enum upf_kern_level {
    UPF_KERN_REF = 0,   /* portable C */
    UPF_KERN_AVX2 = 1,  /* x86-64 with AVX2 and F16C */
    UPF_KERN_LEVEL_COUNT
} upf_kern_level;

typedef struct upf_kernels {
    upf_kern_fn f32, f16, i8, i8_blocked;
    int level;             /* upf_kern_level actually selected */
    const char *name;      /* "reference" or "avx2" */
} upf_kernels;

/* The best level this CPU supports. */
int upf_kern_cpu_level(void);
/* Fills k with the kernels of `level`, lowered to what the CPU supports. */
void upf_kernels_init(upf_kernels *k, int level);

#ifdef __cplusplus
}
#endif
#endif
