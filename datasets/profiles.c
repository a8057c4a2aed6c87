/* profiles.c - the attribute-profile builder (see profiles.h). One pass over
 * each user's events with a dense accumulator over attributes and a list of
 * the attributes touched, so the cost is the events times their items'
 * attribute counts, plus a sort of each user's touched list. */
#include "profiles.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

upf_profile_params upf_profile_params_default(void)
{
    upf_profile_params p;
    memset(&p, 0, sizeof p);
    p.cutoff = INT64_MAX;
    p.half_life_days = 30.0;
    p.type_weight[UPF_EV_PURCHASE] = 1.0f;
    p.type_weight[UPF_EV_CART] = 0.5f;
    p.type_weight[UPF_EV_VIEW] = 0.2f;
    p.type_weight[UPF_EV_RATING] = 1.0f;
    p.normalize = 1;
    return p;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static void release(upf_csr *m)
{
    upf_free(m->ptr);
    upf_free(m->idx);
    upf_free(m->val);
    memset(m, 0, sizeof *m);
}

upf_status upf_profiles_build(const upf_dataset *ds, const upf_profile_params *p, upf_csr *out, upf_err *err)
{
    upf_status st = UPF_OK;
    double *acc = NULL;
    int32_t *touched = NULL;
    memset(out, 0, sizeof *out);
    if (!(p->half_life_days > 0) || !isfinite(p->half_life_days))
        return upf_err_set(err, UPF_ERR_ARG, "profiles: half_life_days must be > 0 (got %g)", p->half_life_days);
    for (int t = 0; t < UPF_EV_TYPE_COUNT; t++)
        if (!(p->type_weight[t] >= 0.0f))
            return upf_err_set(err, UPF_ERR_ARG, "profiles: weight of event type %d must be >= 0 (got %g)", t,
                               (double)p->type_weight[t]);
    const upf_attrs *ia = &ds->item_attrs;
    const size_t A = ia->n_rows ? ia->names.n : 0, U = ds->n_users;
    const double half_life_s = p->half_life_days * 86400.0;
    size_t cap = 1024, nnz = 0;
    out->ptr = upf_calloc(U + 1, sizeof *out->ptr);
    out->idx = upf_malloc(cap * sizeof *out->idx);
    out->val = upf_malloc(cap * sizeof *out->val);
    acc = upf_calloc(A ? A : 1, sizeof *acc);
    touched = upf_malloc((A ? A : 1) * sizeof *touched);
    if (!out->ptr || !out->idx || !out->val || !acc || !touched) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "profiles: out of memory (%zu users, %zu attributes)", U, A);
        goto done;
    }
    out->n_rows = U;
    out->n_cols = A;
    for (size_t u = 0; u < U && A; u++) {
        size_t n_t = 0;
        for (int64_t e = ds->user_ptr[u]; e < ds->user_ptr[u + 1]; e++) {
            int32_t i = ds->ev_item[e];
            int64_t t = ds->ev_time[e];
            uint8_t type = ds->ev_type[e];
            if (i < 0 || t >= p->cutoff || type >= UPF_EV_TYPE_COUNT || p->type_weight[type] == 0.0f) continue;
            if ((size_t)i >= ia->n_rows) continue;
            /* exp2 of a non-positive age: 1 at the cutoff, 1/2 one half-life before */
            double w = (double)p->type_weight[type] * exp2(-((double)p->cutoff - (double)t) / half_life_s);
            if (p->cutoff == INT64_MAX) w = (double)p->type_weight[type];
            for (int64_t k = ia->ptr[i]; k < ia->ptr[i + 1]; k++) {
                int32_t a = ia->index[k];
                if (acc[a] == 0.0) touched[n_t++] = a;
                acc[a] += w * (double)ia->value[k];
                if (acc[a] == 0.0) acc[a] = 1e-300; /* stays marked as touched */
            }
        }
        qsort(touched, n_t, sizeof *touched, cmp_i32);
        double norm = 0.0;
        for (size_t k = 0; k < n_t; k++) norm += acc[touched[k]] * acc[touched[k]];
        norm = p->normalize && norm > 0 ? 1.0 / sqrt(norm) : 1.0;
        if (nnz + n_t > cap) {
            while (nnz + n_t > cap) cap *= 2;
            int32_t *ni = upf_realloc(out->idx, cap * sizeof *ni);
            if (ni) out->idx = ni;
            float *nv = upf_realloc(out->val, cap * sizeof *nv);
            if (nv) out->val = nv;
            if (!ni || !nv) {
                st = upf_err_set(err, UPF_ERR_NOMEM, "profiles: out of memory for %zu entries", cap);
                goto done;
            }
        }
        for (size_t k = 0; k < n_t; k++) {
            int32_t a = touched[k];
            float v = (float)(acc[a] * norm);
            acc[a] = 0.0;
            if (!(v > 0.0f)) continue; /* negative attribute values cancelling out */
            out->idx[nnz] = a;
            out->val[nnz++] = v;
        }
        out->ptr[u + 1] = (int64_t)nnz;
    }
done:
    upf_free(acc);
    upf_free(touched);
    if (st != UPF_OK) release(out);
    return st;
}
