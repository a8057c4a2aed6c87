/* ranker_sampler.h - negative sampling for the ranker: uniform or
 * popularity-proportional (count^alpha, Walker's alias method: O(1) per draw,
 * Vose 1991), and the cheap check that a drawn item is not one of the user's
 * positives (binary search in the sorted CSR row).
 * The alias table is immutable after build and may be shared by threads; each
 * thread draws from its own upf_rng.
 */
#ifndef UPF_RANKER_SAMPLER_H
#define UPF_RANKER_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "../datasets/interactions.h"
#include "../model/base.h"
#include "../model/rng.h"

typedef struct upf_alias {
    size_t n;       /* outcomes */
    float *prob;    /* (n) acceptance probability of the own outcome */
    int32_t *alias; /* (n) the other outcome of each bucket */
    double *p;      /* (n) the normalized target distribution (for logQ and tests) */
} upf_alias;

/* Builds the table for weights w (n >= 1, w >= 0, sum > 0). On failure a is zeroed. */
upf_status upf_alias_build(const double *w, size_t n, upf_alias *a, upf_err *err);
void upf_alias_free(upf_alias *a); /* accepts a zeroed struct */

static inline int32_t upf_alias_draw(const upf_alias *a, upf_rng *r)
{
    uint64_t x = upf_rng_next(r);
    uint32_t k = (uint32_t)(((x >> 32) * (uint64_t)a->n) >> 32); /* bucket from the high half */
    float f = (float)(x & 0xFFFFFF) * 0x1.0p-24f;                /* coin from the low 24 bits */
    return f < a->prob[k] ? (int32_t)k : a->alias[k];
}

/* The reference draw: inverse CDF by linear scan over p (tests only). */
int32_t upf_alias_draw_ref(const upf_alias *a, upf_rng *r);

/* Is item j among the len entries of a sorted row? Branch-free binary search
 * (the comparison becomes a conditional move, so the mispredictions of a
 * plain search on random negatives disappear). */
static inline int upf_row_has(const int32_t *row, int64_t len, int32_t j)
{
    if (len <= 0) return 0;
    const int32_t *b = row;
    while (len > 1) {
        int64_t half = len >> 1;
        b = b[half] <= j ? b + half : b;
        len -= half;
    }
    return *b == j;
}

/* The plain reference: linear scan. */
static inline int upf_row_has_ref(const int32_t *row, int64_t len, int32_t j)
{
    for (int64_t k = 0; k < len; k++)
        if (row[k] == j) return 1;
    return 0;
}

/* Item popularity weights count^alpha from a train matrix, 0 for items
 * without training entries (never drawn); out (n_cols). */
void upf_item_popularity(const upf_csr *train, double alpha, double *out);

#endif
