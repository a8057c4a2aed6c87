/* pending_stubs.c - TEMPORARY weak stand-ins for the interaction functions of
 * datasets/interactions.h (not yet implemented on branch `datasets`), so the
 * runner links and its tests run before they land. The real (strong) definitions
 * replace these at link time; this file is deleted at the merge. They follow
 * the contract in interactions.h, not necessarily its exact random draws. */
#include <stdlib.h>
#include <string.h>

#include "../datasets/dataset.h"
#include "../datasets/interactions.h"
#include "../model/rng.h"

#define WEAK __attribute__((weak))

WEAK void upf_csr_free(upf_csr *m)
{
    if (!m) return;
    upf_free(m->ptr);
    upf_free(m->idx);
    upf_free(m->val);
    upf_free(m->time);
    memset(m, 0, sizeof *m);
}

static upf_status csr_alloc(upf_csr *m, size_t rows, size_t cols, int64_t nnz, int with_time)
{
    memset(m, 0, sizeof *m);
    m->n_rows = rows;
    m->n_cols = cols;
    size_t n = (size_t)(nnz > 0 ? nnz : 1);
    m->ptr = upf_calloc(rows + 1, sizeof *m->ptr);
    m->idx = upf_malloc(n * sizeof *m->idx);
    m->val = upf_malloc(n * sizeof *m->val);
    if (with_time) m->time = upf_malloc(n * sizeof *m->time);
    if (!m->ptr || !m->idx || !m->val || (with_time && !m->time)) {
        upf_csr_free(m);
        return UPF_ERR_NOMEM;
    }
    return UPF_OK;
}

WEAK upf_status upf_csr_transpose(const upf_csr *m, upf_csr *out, upf_err *err)
{
    int64_t nnz = upf_csr_nnz(m);
    if (csr_alloc(out, m->n_cols, m->n_rows, nnz, m->time != NULL))
        return upf_err_set(err, UPF_ERR_NOMEM, "transpose: out of memory");
    for (int64_t e = 0; e < nnz; e++) out->ptr[m->idx[e] + 1]++;
    for (size_t c = 0; c < m->n_cols; c++) out->ptr[c + 1] += out->ptr[c];
    int64_t *next = upf_malloc((m->n_cols + 1) * sizeof *next);
    if (!next) {
        upf_csr_free(out);
        return upf_err_set(err, UPF_ERR_NOMEM, "transpose: out of memory");
    }
    memcpy(next, out->ptr, (m->n_cols + 1) * sizeof *next);
    for (size_t r = 0; r < m->n_rows; r++)
        for (int64_t e = m->ptr[r]; e < m->ptr[r + 1]; e++) {
            int64_t k = next[m->idx[e]]++;
            out->idx[k] = (int32_t)r;
            out->val[k] = m->val[e];
            if (out->time) out->time[k] = m->time[e];
        }
    upf_free(next);
    return UPF_OK;
}

WEAK const char *upf_split_kind_name(upf_split_kind k)
{
    switch (k) {
    case UPF_SPLIT_RANDOM: return "random";
    case UPF_SPLIT_LAST_N: return "last_n";
    case UPF_SPLIT_TEMPORAL: return "temporal";
    default: return "none";
    }
}

typedef struct entry {
    int32_t item;
    float grade;
    int64_t time;
} entry;

static int by_item_time(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->item != y->item) return x->item < y->item ? -1 : 1;
    return (x->time > y->time) - (x->time < y->time);
}

WEAK upf_status upf_interactions_build(const upf_dataset *ds, const upf_interaction_params *p, upf_csr *out,
                                       upf_err *err)
{
    memset(out, 0, sizeof *out);
    size_t max_row = 0;
    for (size_t u = 0; u < ds->n_users; u++) {
        size_t n = (size_t)(ds->user_ptr[u + 1] - ds->user_ptr[u]);
        if (n > max_row) max_row = n;
    }
    entry *buf = upf_malloc((max_row ? max_row : 1) * sizeof *buf);
    if (!buf || csr_alloc(out, ds->n_users, ds->n_items, ds->n_events, 1)) {
        upf_free(buf);
        upf_csr_free(out);
        return upf_err_set(err, UPF_ERR_NOMEM, "interactions: out of memory");
    }
    int64_t k = 0;
    for (size_t u = 0; u < ds->n_users; u++) {
        size_t n = 0;
        for (int64_t e = ds->user_ptr[u]; e < ds->user_ptr[u + 1]; e++) {
            int t = ds->ev_type[e];
            if (ds->ev_item[e] < 0 || t <= 0 || t >= UPF_EV_TYPE_COUNT || !(p->types & (1u << t))) continue;
            if (ds->ev_time[e] < p->time_begin || ds->ev_time[e] >= p->time_end) continue;
            if (t == UPF_EV_RATING && !(ds->ev_value[e] >= p->min_rating)) continue;
            buf[n++] = (entry){ ds->ev_item[e], p->grade[t], ds->ev_time[e] };
        }
        qsort(buf, n, sizeof *buf, by_item_time);
        for (size_t i = 0; i < n;) {
            size_t j = i;
            float g = buf[i].grade;
            while (j < n && buf[j].item == buf[i].item) {
                if (buf[j].grade > g) g = buf[j].grade;
                j++;
            }
            out->idx[k] = buf[i].item;
            out->val[k] = g;
            out->time[k] = buf[i].time;
            k++;
            i = j;
        }
        out->ptr[u + 1] = k;
    }
    upf_free(buf);
    return UPF_OK;
}

typedef struct pos {
    int64_t key;
    int64_t e;
} pos;

static int by_key(const void *a, const void *b)
{
    const pos *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return (x->e > y->e) - (x->e < y->e);
}

WEAK upf_status upf_split_csr(const upf_csr *all, const upf_split_params *p, upf_csr *train, upf_csr *test,
                              upf_err *err)
{
    int64_t nnz = upf_csr_nnz(all);
    uint8_t *is_test = upf_calloc((size_t)(nnz > 0 ? nnz : 1), 1);
    size_t max_row = 0;
    for (size_t u = 0; u < all->n_rows; u++)
        if ((size_t)(all->ptr[u + 1] - all->ptr[u]) > max_row) max_row = (size_t)(all->ptr[u + 1] - all->ptr[u]);
    pos *order = upf_malloc((max_row ? max_row : 1) * sizeof *order);
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    if (!is_test || !order) {
        upf_free(is_test);
        upf_free(order);
        return upf_err_set(err, UPF_ERR_NOMEM, "split: out of memory");
    }
    for (size_t u = 0; u < all->n_rows; u++) {
        int64_t b = all->ptr[u], n = all->ptr[u + 1] - b;
        if (p->kind == UPF_SPLIT_TEMPORAL) {
            for (int64_t e = b; e < b + n; e++) is_test[e] = all->time && all->time[e] >= p->cutoff;
            continue;
        }
        if (n < (int64_t)p->min_entries || n < 2) continue;
        int64_t n_test;
        if (p->kind == UPF_SPLIT_RANDOM) {
            upf_rng r;
            upf_rng_seed(&r, p->seed, u);
            for (int64_t i = 0; i < n; i++) order[i] = (pos){ (int64_t)(upf_rng_next(&r) >> 1), b + i };
            n_test = (int64_t)(p->test_frac * (double)n + 0.5);
        } else {
            for (int64_t i = 0; i < n; i++) order[i] = (pos){ all->time ? -all->time[b + i] : -i, b + i };
            n_test = p->last_n;
        }
        if (n_test < 1) n_test = 1;
        if (n_test > n - 1) n_test = n - 1;
        qsort(order, (size_t)n, sizeof *order, by_key);
        for (int64_t i = 0; i < n_test; i++) is_test[order[i].e] = 1;
    }
    int64_t n_test_all = 0;
    for (int64_t e = 0; e < nnz; e++) n_test_all += is_test[e];
    upf_status st = UPF_OK;
    if (csr_alloc(train, all->n_rows, all->n_cols, nnz - n_test_all, all->time != NULL) ||
        csr_alloc(test, all->n_rows, all->n_cols, n_test_all, all->time != NULL)) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "split: out of memory");
        upf_csr_free(train);
        upf_csr_free(test);
        goto done;
    }
    int64_t a = 0, t = 0;
    for (size_t u = 0; u < all->n_rows; u++) {
        for (int64_t e = all->ptr[u]; e < all->ptr[u + 1]; e++) {
            upf_csr *m = is_test[e] ? test : train;
            int64_t *k = is_test[e] ? &t : &a;
            m->idx[*k] = all->idx[e];
            m->val[*k] = all->val[e];
            if (m->time) m->time[*k] = all->time[e];
            (*k)++;
        }
        train->ptr[u + 1] = a;
        test->ptr[u + 1] = t;
    }
done:
    upf_free(is_test);
    upf_free(order);
    return st;
}

