/* kernels.h - block scoring kernels of the serving runtime: the scores of a
 * run of item rows against one user vector, for item tensors stored as F32,
 * F16 or I8S. Legend: D dense dim (row length), N rows in the call.
 *
 *   F32:  out[i] = bias[r] + dot(u, rows[r])                 (r = first + i)
 *   F16:  out[i] = bias[r] + dot(u, f16_to_f32(rows[r]))
 *   I8S:  out[i] = bias[r] + scale[r] * dot(u, (float)q[r])  (q_block == D)
 *   I8S blocked (q_block < D): out[i] = bias[r] + dot(u, q[r] * scale[r][block])
 * where dot is score.h's canonical order. Two implementations of each: the
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
} upf_kern_args;

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
