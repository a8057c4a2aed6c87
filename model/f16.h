/* f16.h - IEEE 754 binary16 ("half") conversions, our own code so results do
 * not depend on the compiler or the CPU.
 *
 * f32 -> f16 rounds to nearest, ties to even (overflow gives +-inf; NaN stays
 * NaN, keeping the top mantissa bits); f16 -> f32 is exact. Every one of the
 * 65,536 bit patterns round-trips f16 -> f32 -> f16 unchanged (tests check all).
 * Integer arithmetic only: no dependence on the FPU's rounding mode or on
 * flush-to-zero.
 */
#ifndef UPF_F16_H
#define UPF_F16_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UPF_F16_MAX 65504.0f /* largest finite half */

uint16_t upf_f32_to_f16(float f);
float upf_f16_to_f32(uint16_t h);

/* Bulk forms: dst (n) from src (n). */
void upf_f32_to_f16_n(const float *src, uint16_t *dst, size_t n);
void upf_f16_to_f32_n(const uint16_t *src, float *dst, size_t n);

#ifdef __cplusplus
}
#endif
#endif
