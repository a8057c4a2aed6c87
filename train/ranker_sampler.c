/* ranker_sampler.c - Walker/Vose alias tables and item popularity weights.
 * See ranker_sampler.h. */
#include "ranker_sampler.h"

#include <math.h>
#include <string.h>

upf_status upf_alias_build(const double *w, size_t n, upf_alias *a, upf_err *err)
{
    upf_status st = UPF_OK;
    size_t *small = NULL, *large = NULL;
    double *q = NULL;
    memset(a, 0, sizeof *a);
    if (n == 0 || n > INT32_MAX) return upf_err_set(err, UPF_ERR_ARG, "alias table: %zu outcomes (expected 1..2^31-1)", n);
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!(w[i] >= 0) || !isfinite(w[i]))
            return upf_err_set(err, UPF_ERR_ARG, "alias table: weight %zu is %g (expected finite >= 0)", i, w[i]);
        sum += w[i];
    }
    if (!(sum > 0)) return upf_err_set(err, UPF_ERR_ARG, "alias table: weights sum to 0");
    a->prob = upf_malloc(n * sizeof *a->prob);
    a->alias = upf_malloc(n * sizeof *a->alias);
    a->p = upf_malloc(n * sizeof *a->p);
    q = upf_malloc(n * sizeof *q);
    small = upf_malloc(n * sizeof *small);
    large = upf_malloc(n * sizeof *large);
    if (!a->prob || !a->alias || !a->p || !q || !small || !large) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "alias table: out of memory for %zu outcomes", n);
        goto done;
    }
    a->n = n;
    size_t ns = 0, nl = 0;
    for (size_t i = 0; i < n; i++) {
        a->p[i] = w[i] / sum;
        q[i] = a->p[i] * (double)n;
        a->alias[i] = (int32_t)i;
        if (q[i] < 1.0) small[ns++] = i;
        else large[nl++] = i;
    }
    while (ns && nl) {
        size_t s = small[--ns], l = large[--nl];
        a->prob[s] = (float)q[s];
        a->alias[s] = (int32_t)l;
        q[l] = (q[l] + q[s]) - 1.0;
        if (q[l] < 1.0) small[ns++] = l;
        else large[nl++] = l;
    }
    while (nl) a->prob[large[--nl]] = 1.0f;
    while (ns) a->prob[small[--ns]] = 1.0f; /* rounding leftovers */
done:
    upf_free(q);
    upf_free(small);
    upf_free(large);
    if (st != UPF_OK) upf_alias_free(a);
    return st;
}

void upf_alias_free(upf_alias *a)
{
    if (!a) return;
    upf_free(a->prob);
    upf_free(a->alias);
    upf_free(a->p);
    memset(a, 0, sizeof *a);
}

int32_t upf_alias_draw_ref(const upf_alias *a, upf_rng *r)
{
    double x = upf_rng_uniform(r), c = 0.0;
    for (size_t i = 0; i < a->n; i++) {
        c += a->p[i];
        if (x < c) return (int32_t)i;
    }
    return (int32_t)(a->n - 1);
}

void upf_item_popularity(const upf_csr *train, double alpha, double *out)
{
    for (size_t i = 0; i < train->n_cols; i++) out[i] = 0.0;
    int64_t nnz = upf_csr_nnz(train);
    for (int64_t e = 0; e < nnz; e++) out[train->idx[e]] += 1.0;
    for (size_t i = 0; i < train->n_cols; i++) out[i] = out[i] > 0 ? pow(out[i], alpha) : 0.0;
}
