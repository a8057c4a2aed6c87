/* rng.h - the one random number generator of the project: xoshiro256**
 * (Blackman & Vigna 2018) seeded through splitmix64.
 *
 * Every random draw in upfunnel comes from an explicit upf_rng passed in; there
 * is no global generator. Parallel workers derive independent streams from
 * (seed, stream id), so a run is a pure function of its seed and thread count.
 * Hot-path draws are static inline; distributions live in rng.c.
 */
#ifndef UPF_RNG_H
#define UPF_RNG_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct upf_rng {
    uint64_t s[4];
} upf_rng;

static inline uint64_t upf_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Seed a stream. Different `stream` values give independent sequences for the
 * same seed (per-thread or per-purpose generators). Any seed is valid, 0 too. */
static inline void upf_rng_seed(upf_rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xD1B54A32D192ED03ull + 0x8CB92BA72F3D8DD7ull);
    for (int i = 0; i < 4; i++) r->s[i] = upf_splitmix64(&x);
}

static inline uint64_t upf_rng_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t upf_rng_next(upf_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = upf_rng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = upf_rng_rotl(s[3], 45);
    return result;
}

static inline uint32_t upf_rng_u32(upf_rng *r) { return (uint32_t)(upf_rng_next(r) >> 32); }

/* Uniform integer in [0, n), n >= 1, unbiased (Lemire 2019, multiply-shift with rejection). */
static inline uint32_t upf_rng_below(upf_rng *r, uint32_t n)
{
    uint64_t m = (uint64_t)upf_rng_u32(r) * n;
    uint32_t lo = (uint32_t)m;
    if (lo < n) {
        uint32_t t = (uint32_t)(-n) % n;
        while (lo < t) {
            m = (uint64_t)upf_rng_u32(r) * n;
            lo = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

/* Uniform integer in [0, n) for 64-bit ranges, n >= 1, unbiased. */
uint64_t upf_rng_below64(upf_rng *r, uint64_t n);

/* Uniform double in [0, 1) with 53 random bits. */
static inline double upf_rng_uniform(upf_rng *r)
{
    return (double)(upf_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform float in [0, 1) with 24 random bits. */
static inline float upf_rng_uniformf(upf_rng *r)
{
    return (float)(upf_rng_next(r) >> 40) * 0x1.0p-24f;
}

double upf_rng_normal(upf_rng *r);                 /* N(0, 1), Marsaglia polar */
double upf_rng_exponential(upf_rng *r);            /* Exp(1) */
double upf_rng_gamma(upf_rng *r, double shape);    /* Gamma(shape, 1), shape > 0 (Marsaglia & Tsang 2000) */
double upf_rng_beta(upf_rng *r, double a, double b);
uint64_t upf_rng_poisson(upf_rng *r, double mean); /* mean >= 0 */
/* In-place Fisher-Yates shuffle of n int32 values. */
void upf_rng_shuffle_i32(upf_rng *r, int32_t *v, uint64_t n);

#ifdef __cplusplus
}
#endif
#endif
