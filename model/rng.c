/* rng.c - non-uniform distributions on top of upf_rng. Exact methods only (no
 * approximations that would bias planted ground truth): Marsaglia polar normals,
 * Marsaglia-Tsang gamma, Knuth's multiplicative Poisson with large means split
 * into chunks. */
#include "rng.h"

#include <math.h>

uint64_t upf_rng_below64(upf_rng *r, uint64_t n)
{
    if (n <= UINT32_MAX) return upf_rng_below(r, (uint32_t)n);
    uint64_t limit = UINT64_MAX - (UINT64_MAX % n) - 1; /* largest multiple of n, minus one */
    uint64_t x;
    do x = upf_rng_next(r);
    while (x > limit);
    return x % n;
}

double upf_rng_normal(upf_rng *r)
{
    double u, v, s;
    do {
        u = 2.0 * upf_rng_uniform(r) - 1.0;
        v = 2.0 * upf_rng_uniform(r) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    return u * sqrt(-2.0 * log(s) / s);
}

double upf_rng_exponential(upf_rng *r)
{
    return -log1p(-upf_rng_uniform(r)); /* 1-u in (0,1], never log(0) */
}

double upf_rng_gamma(upf_rng *r, double shape)
{
    if (shape < 1.0) {
        /* Gamma(a) = Gamma(a+1) * U^(1/a) */
        double u = upf_rng_uniform(r);
        while (u == 0.0) u = upf_rng_uniform(r);
        return upf_rng_gamma(r, shape + 1.0) * pow(u, 1.0 / shape);
    }
    double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x, v;
        do {
            x = upf_rng_normal(r);
            v = 1.0 + c * x;
        } while (v <= 0.0);
        v = v * v * v;
        double u = upf_rng_uniform(r);
        if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
        if (u > 0.0 && log(u) < 0.5 * x * x + d * (1.0 - v + log(v))) return d * v;
    }
}

double upf_rng_beta(upf_rng *r, double a, double b)
{
    double x = upf_rng_gamma(r, a), y = upf_rng_gamma(r, b);
    return x / (x + y);
}

uint64_t upf_rng_poisson(upf_rng *r, double mean)
{
    uint64_t k = 0;
    /* Split large means into chunks of 30 so exp(-chunk) never underflows;
     * a sum of independent Poissons is Poisson. */
    while (mean > 30.0) {
        mean -= 30.0;
        k += upf_rng_poisson(r, 30.0);
    }
    double limit = exp(-mean), p = upf_rng_uniform(r);
    while (p > limit) {
        k++;
        p *= upf_rng_uniform(r);
    }
    return k;
}

void upf_rng_shuffle_i32(upf_rng *r, int32_t *v, uint64_t n)
{
    for (uint64_t i = n; i > 1; i--) {
        uint64_t j = upf_rng_below64(r, i);
        int32_t t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}
