/* f16.c - binary16 <-> binary32 conversions by integer manipulation.
 * Layouts: f32 s|e8|m23 (bias 127), f16 s|e5|m10 (bias 15). */
#include "f16.h"

#include <string.h>

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Rounds q + rem/2^shift to nearest, ties to even (q is the truncated result). */
static uint32_t round_rne(uint32_t q, uint32_t rem, uint32_t shift)
{
    uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1u))) q++;
    return q;
}

uint16_t upf_f32_to_f16(float f)
{
    uint32_t x = f32_bits(f);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t ax = x & 0x7FFFFFFFu;
    if (ax >= 0x7F800000u) { /* inf or NaN */
        if (ax == 0x7F800000u) return (uint16_t)(sign | 0x7C00u);
        uint32_t m = (ax >> 13) & 0x3FFu;
        if (m == 0) m = 0x200u; /* payload only in the low bits: keep it a (quiet) NaN */
        return (uint16_t)(sign | 0x7C00u | m);
    }
    /* 65520 = 0x477FF000 is halfway between 65504 (odd mantissa) and 2^16: ties to even -> inf */
    if (ax >= 0x477FF000u) return (uint16_t)(sign | 0x7C00u);
    uint32_t e = ax >> 23;
    if (e >= 113) { /* normal half: exponent 1..30 */
        uint32_t q = ((e - 112) << 10) | ((ax >> 13) & 0x3FFu);
        /* a carry out of the mantissa correctly bumps the exponent */
        return (uint16_t)(sign | round_rne(q, ax & 0x1FFFu, 13));
    }
    /* subnormal half (unit 2^-24) or zero: value = m * 2^(e - 150) */
    if (e < 102) return (uint16_t)sign; /* below 2^-25: rounds to zero */
    uint32_t m = (ax & 0x7FFFFFu) | 0x800000u;
    uint32_t shift = 126 - e; /* 14..24 */
    uint32_t q = m >> shift;
    /* q may round up to 0x400, which is exactly the smallest normal's encoding */
    return (uint16_t)(sign | round_rne(q, m & ((1u << shift) - 1u), shift));
}

float upf_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t e = (h >> 10) & 0x1Fu;
    uint32_t m = h & 0x3FFu;
    if (e == 31) return bits_f32(sign | 0x7F800000u | (m << 13));
    if (e != 0) return bits_f32(sign | ((e + 112) << 23) | (m << 13));
    if (m == 0) return bits_f32(sign);
    /* subnormal: m * 2^-24 with m's top bit at position p -> exponent p - 24 */
    uint32_t p = 9;
    while (!(m & (1u << p))) p--;
    return bits_f32(sign | ((p + 103) << 23) | ((m << (23 - p)) & 0x7FFFFFu));
}

void upf_f32_to_f16_n(const float *src, uint16_t *dst, size_t n)
{
    for (size_t i = 0; i < n; i++) dst[i] = upf_f32_to_f16(src[i]);
}

void upf_f16_to_f32_n(const uint16_t *src, float *dst, size_t n)
{
    for (size_t i = 0; i < n; i++) dst[i] = upf_f16_to_f32(src[i]);
}
