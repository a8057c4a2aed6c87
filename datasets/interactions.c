/* interactions.c - the user x item interaction matrix (CSR) built from a
 * dataset's events, its transpose and copy, and the train/test splits that
 * trainer and evaluator share (definitions in interactions.h and
 * datasets/README.md "Splits").
 *
 * Building is O(events + entries log entries-per-user): one pass counts the
 * qualifying events, a second dedupes each user's pairs with per-item marks
 * (events are in time order within a user, so a pair's first event is its
 * earliest) and sorts the user's distinct items. Splits decide each entry's
 * side in one pass per user; RANDOM draws from a stream seeded by (seed,
 * user), so a user's split does not depend on other users.
 */
#include "interactions.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../model/rng.h"

void upf_csr_free(upf_csr *m)
{
    if (!m) return;
    upf_free(m->ptr);
    upf_free(m->idx);
    upf_free(m->val);
    upf_free(m->time);
    memset(m, 0, sizeof *m);
}

/* Allocates ptr (n_rows+1, zeroed) and nnz-long idx, val and (with_time) time. */
static upf_status csr_alloc(upf_csr *m, size_t n_rows, size_t n_cols, size_t nnz, int with_time, upf_err *err)
{
    memset(m, 0, sizeof *m);
    m->n_rows = n_rows;
    m->n_cols = n_cols;
    m->ptr = upf_calloc(n_rows + 1, sizeof *m->ptr);
    m->idx = upf_malloc(nnz * sizeof *m->idx);
    m->val = upf_malloc(nnz * sizeof *m->val);
    if (with_time) m->time = upf_malloc(nnz * sizeof *m->time);
    if (!m->ptr || !m->idx || !m->val || (with_time && !m->time)) {
        upf_csr_free(m);
        return upf_err_set(err, UPF_ERR_NOMEM, "interactions: out of memory for %zu x %zu with %zu entries", n_rows, n_cols, nnz);
    }
    return UPF_OK;
}

upf_status upf_csr_copy(const upf_csr *src, upf_csr *dst, upf_err *err)
{
    size_t nnz = (size_t)upf_csr_nnz(src);
    upf_status st = csr_alloc(dst, src->n_rows, src->n_cols, nnz, src->time != NULL, err);
    if (st) return st;
    if (src->ptr) memcpy(dst->ptr, src->ptr, (src->n_rows + 1) * sizeof *dst->ptr);
    if (nnz) {
        memcpy(dst->idx, src->idx, nnz * sizeof *dst->idx);
        memcpy(dst->val, src->val, nnz * sizeof *dst->val);
        if (src->time) memcpy(dst->time, src->time, nnz * sizeof *dst->time);
    }
    return UPF_OK;
}

int upf_csr_has(const upf_csr *m, size_t u, int32_t j)
{
    if (!m->ptr || u >= m->n_rows) return 0;
    int64_t lo = m->ptr[u], hi = m->ptr[u + 1];
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (m->idx[mid] < j) lo = mid + 1;
        else hi = mid;
    }
    return lo < m->ptr[u + 1] && m->idx[lo] == j;
}

upf_status upf_csr_transpose(const upf_csr *m, upf_csr *out, upf_err *err)
{
    size_t nnz = (size_t)upf_csr_nnz(m);
    upf_status st = csr_alloc(out, m->n_cols, m->n_rows, nnz, m->time != NULL, err);
    if (st) return st;
    for (size_t k = 0; k < nnz; k++) {
        int32_t j = m->idx[k];
        if (j < 0 || (size_t)j >= m->n_cols) {
            upf_csr_free(out);
            return upf_err_set(err, UPF_ERR_ARG, "transpose: entry %zu: column %" PRId32 " is outside [0, %zu)", k, j, m->n_cols);
        }
        out->ptr[j + 1]++;
    }
    for (size_t j = 0; j < m->n_cols; j++) out->ptr[j + 1] += out->ptr[j];
    /* Rows are visited in order, so each output row's indices ascend. The
     * cursor reuses ptr shifted by one and is shifted back at the end. */
    for (size_t u = 0; u < m->n_rows; u++)
        for (int64_t k = m->ptr[u]; k < m->ptr[u + 1]; k++) {
            int32_t j = m->idx[k];
            int64_t w = out->ptr[j]++;
            out->idx[w] = (int32_t)u;
            out->val[w] = m->val[k];
            if (m->time) out->time[w] = m->time[k];
        }
    memmove(out->ptr + 1, out->ptr, m->n_cols * sizeof *out->ptr);
    out->ptr[0] = 0;
    return UPF_OK;
}

/* ---- building from events ---- */

upf_interaction_params upf_interaction_params_default(void)
{
    upf_interaction_params p;
    memset(&p, 0, sizeof p);
    p.types = (1u << UPF_EV_VIEW) | (1u << UPF_EV_CART) | (1u << UPF_EV_PURCHASE) | (1u << UPF_EV_RATING);
    p.min_rating = 0.0f;
    p.grade[UPF_EV_VIEW] = 1.0f;
    p.grade[UPF_EV_CART] = 2.0f;
    p.grade[UPF_EV_PURCHASE] = 3.0f;
    p.grade[UPF_EV_RATING] = 1.0f;
    p.grade[UPF_EV_RETURN] = 1.0f;
    p.grade[UPF_EV_TAG] = 1.0f;
    p.time_begin = INT64_MIN;
    p.time_end = INT64_MAX;
    return p;
}

static int qualifies(const upf_dataset *ds, const upf_interaction_params *p, int64_t i)
{
    int t = ds->ev_type[i];
    if (!(p->types & (1u << t)) || ds->ev_item[i] < 0) return 0;
    if (ds->ev_time[i] < p->time_begin || ds->ev_time[i] >= p->time_end) return 0;
    return t != UPF_EV_RATING || ds->ev_value[i] >= p->min_rating;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

upf_status upf_interactions_build(const upf_dataset *ds, const upf_interaction_params *p, upf_csr *out, upf_err *err)
{
    upf_status st = UPF_OK;
    int32_t *mark = NULL, *items = NULL;
    float *grade = NULL;
    int64_t *first = NULL;
    memset(out, 0, sizeof *out);
    if (!ds || !p) return upf_err_set(err, UPF_ERR_ARG, "interactions: NULL argument");
    if (p->types == 0 || (p->types & ~(((1u << UPF_EV_TYPE_COUNT) - 1) & ~1u)))
        return upf_err_set(err, UPF_ERR_ARG, "interactions: event type mask 0x%x (expected a non-empty set of bits 1..%d)", p->types,
                           UPF_EV_TYPE_COUNT - 1);
    for (int t = 1; t < UPF_EV_TYPE_COUNT; t++)
        if ((p->types & (1u << t)) && t != UPF_EV_SEARCH && !(p->grade[t] > 0.0f && isfinite(p->grade[t])))
            return upf_err_set(err, UPF_ERR_ARG, "interactions: grade of %s events is %g (expected a finite number > 0)",
                               upf_event_type_name(t), (double)p->grade[t]);
    if (isnan(p->min_rating)) return upf_err_set(err, UPF_ERR_ARG, "interactions: min_rating is NaN");
    if (p->time_begin >= p->time_end)
        return upf_err_set(err, UPF_ERR_ARG, "interactions: time range [%" PRId64 ", %" PRId64 ") is empty", p->time_begin, p->time_end);

    size_t nu = ds->n_users, ni = ds->n_items, total = 0, max_user = 0;
    for (size_t u = 0; u < nu; u++) {
        size_t c = 0;
        for (int64_t i = ds->user_ptr[u]; i < ds->user_ptr[u + 1]; i++) c += (size_t)qualifies(ds, p, i);
        total += c;
        if (c > max_user) max_user = c;
    }
    if ((st = csr_alloc(out, nu, ni, total, 1, err))) return st;
    mark = upf_malloc(ni * sizeof *mark);
    grade = upf_malloc(ni * sizeof *grade);
    first = upf_malloc(ni * sizeof *first);
    items = upf_malloc(max_user * sizeof *items);
    if (!mark || !grade || !first || !items) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "interactions: out of memory for %zu items", ni);
        goto done;
    }
    for (size_t j = 0; j < ni; j++) mark[j] = -1;
    int64_t w = 0;
    for (size_t u = 0; u < nu; u++) {
        size_t n = 0;
        for (int64_t i = ds->user_ptr[u]; i < ds->user_ptr[u + 1]; i++) {
            if (!qualifies(ds, p, i)) continue;
            int32_t j = ds->ev_item[i];
            float g = p->grade[ds->ev_type[i]];
            if (mark[j] != (int32_t)u) {
                mark[j] = (int32_t)u;
                grade[j] = g;
                first[j] = ds->ev_time[i]; /* events ascend in time within a user */
                items[n++] = j;
            } else if (g > grade[j]) {
                grade[j] = g;
            }
        }
        qsort(items, n, sizeof *items, cmp_i32);
        for (size_t k = 0; k < n; k++, w++) {
            out->idx[w] = items[k];
            out->val[w] = grade[items[k]];
            out->time[w] = first[items[k]];
        }
        out->ptr[u + 1] = w;
    }
    /* Best-effort shrink from the event count to the distinct pairs. */
    if ((size_t)w < total) {
        int32_t *a = upf_realloc(out->idx, (size_t)w * sizeof *a + 1);
        if (a) out->idx = a;
        float *b = upf_realloc(out->val, (size_t)w * sizeof *b + 1);
        if (b) out->val = b;
        int64_t *c = upf_realloc(out->time, (size_t)w * sizeof *c + 1);
        if (c) out->time = c;
    }
done:
    upf_free(mark);
    upf_free(grade);
    upf_free(first);
    upf_free(items);
    if (st) upf_csr_free(out);
    return st;
}

/* ---- splits ---- */

upf_split_params upf_split_params_default(void)
{
    upf_split_params p;
    memset(&p, 0, sizeof p);
    p.kind = UPF_SPLIT_RANDOM;
    p.test_frac = 0.2;
    p.last_n = 1;
    p.cutoff = 0;
    p.min_entries = 2;
    p.seed = 42;
    return p;
}

const char *upf_split_kind_name(upf_split_kind k)
{
    switch (k) {
    case UPF_SPLIT_RANDOM: return "random";
    case UPF_SPLIT_LAST_N: return "last_n";
    case UPF_SPLIT_TEMPORAL: return "temporal";
    default: return "none";
    }
}

typedef struct time_pos {
    int64_t time;
    int32_t idx; /* column: the tie-break among equal times */
    uint32_t pos;
} time_pos;

static int cmp_time_pos(const void *a, const void *b)
{
    const time_pos *x = a, *y = b;
    if (x->time != y->time) return x->time < y->time ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

/* Entries a user with n entries sends to test under RANDOM / LAST_N. */
static size_t n_test_of(const upf_split_params *p, size_t n)
{
    if (n == 0 || n < p->min_entries) return 0;
    size_t k;
    if (p->kind == UPF_SPLIT_RANDOM) {
        double r = round(p->test_frac * (double)n);
        k = r < 1.0 ? 1 : (size_t)r;
    } else {
        k = p->last_n;
    }
    return k < n ? k : n;
}

upf_status upf_split_csr(const upf_csr *all, const upf_split_params *p, upf_csr *train, upf_csr *test, upf_err *err)
{
    upf_status st = UPF_OK;
    uint8_t *is_test = NULL;
    uint32_t *perm = NULL;
    time_pos *tp = NULL;
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    if (!all || !p) return upf_err_set(err, UPF_ERR_ARG, "split: NULL argument");
    switch (p->kind) {
    case UPF_SPLIT_RANDOM:
        if (!(p->test_frac > 0.0 && p->test_frac < 1.0))
            return upf_err_set(err, UPF_ERR_ARG, "split: test_frac %g (expected in (0, 1))", p->test_frac);
        break;
    case UPF_SPLIT_LAST_N:
        if (p->last_n < 1) return upf_err_set(err, UPF_ERR_ARG, "split: last_n 0 (expected >= 1)");
        /* fall through */
    case UPF_SPLIT_TEMPORAL:
        if (!all->time && upf_csr_nnz(all) > 0)
            return upf_err_set(err, UPF_ERR_ARG, "split: a %s split needs entry times (the matrix has none)", upf_split_kind_name(p->kind));
        break;
    default: return upf_err_set(err, UPF_ERR_ARG, "split: kind %d (expected random, last_n or temporal)", (int)p->kind);
    }
    size_t nnz = (size_t)upf_csr_nnz(all), max_row = 0;
    for (size_t u = 0; u < all->n_rows; u++) {
        if (all->ptr[u + 1] < all->ptr[u]) return upf_err_set(err, UPF_ERR_ARG, "split: row %zu: ptr goes back", u);
        size_t len = (size_t)(all->ptr[u + 1] - all->ptr[u]);
        if (len > max_row) max_row = len;
    }
    if (max_row > UINT32_MAX) return upf_err_set(err, UPF_ERR_ARG, "split: a row of %zu entries", max_row);
    is_test = upf_calloc(nnz ? nnz : 1, 1);
    if (p->kind == UPF_SPLIT_RANDOM) perm = upf_malloc((max_row ? max_row : 1) * sizeof *perm);
    if (p->kind == UPF_SPLIT_LAST_N) tp = upf_malloc((max_row ? max_row : 1) * sizeof *tp);
    if (!is_test || (p->kind == UPF_SPLIT_RANDOM && !perm) || (p->kind == UPF_SPLIT_LAST_N && !tp)) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "split: out of memory for %zu entries", nnz);
        goto done;
    }
    size_t n_test = 0;
    for (size_t u = 0; u < all->n_rows; u++) {
        int64_t b = all->ptr[u];
        size_t n = (size_t)(all->ptr[u + 1] - b);
        if (p->kind == UPF_SPLIT_TEMPORAL) {
            for (size_t k = 0; k < n; k++) is_test[b + (int64_t)k] = all->time[b + (int64_t)k] >= p->cutoff;
        } else if (p->kind == UPF_SPLIT_RANDOM) {
            size_t k_test = n_test_of(p, n);
            if (!k_test) continue;
            /* Partial Fisher-Yates: the first k_test of a uniform permutation. */
            upf_rng r;
            upf_rng_seed(&r, p->seed, (uint64_t)u);
            for (size_t k = 0; k < n; k++) perm[k] = (uint32_t)k;
            for (size_t k = 0; k < k_test; k++) {
                size_t j = k + upf_rng_below(&r, (uint32_t)(n - k));
                uint32_t t = perm[k];
                perm[k] = perm[j];
                perm[j] = t;
                is_test[b + (int64_t)perm[k]] = 1;
            }
        } else {
            size_t k_test = n_test_of(p, n);
            if (!k_test) continue;
            for (size_t k = 0; k < n; k++) {
                tp[k].time = all->time[b + (int64_t)k];
                tp[k].idx = all->idx[b + (int64_t)k];
                tp[k].pos = (uint32_t)k;
            }
            qsort(tp, n, sizeof *tp, cmp_time_pos);
            for (size_t k = n - k_test; k < n; k++) is_test[b + (int64_t)tp[k].pos] = 1;
        }
    }
    for (size_t k = 0; k < nnz; k++) n_test += is_test[k];
    int with_time = all->time != NULL;
    if ((st = csr_alloc(train, all->n_rows, all->n_cols, nnz - n_test, with_time, err)) ||
        (st = csr_alloc(test, all->n_rows, all->n_cols, n_test, with_time, err)))
        goto done;
    int64_t wa = 0, wb = 0;
    for (size_t u = 0; u < all->n_rows; u++) {
        for (int64_t k = all->ptr[u]; k < all->ptr[u + 1]; k++) {
            upf_csr *m = is_test[k] ? test : train;
            int64_t *w = is_test[k] ? &wb : &wa;
            m->idx[*w] = all->idx[k];
            m->val[*w] = all->val[k];
            if (with_time) m->time[*w] = all->time[k];
            (*w)++;
        }
        train->ptr[u + 1] = wa;
        test->ptr[u + 1] = wb;
    }
done:
    upf_free(is_test);
    upf_free(perm);
    upf_free(tp);
    if (st) {
        upf_csr_free(train);
        upf_csr_free(test);
    }
    return st;
}
