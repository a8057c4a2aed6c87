/* baselines.c - popularity counts and item-to-item co-occurrence neighbours
 * (definitions in baselines.h), with the co-occurrence scorer the evaluator
 * calls block by block.
 * The co-occurrence count of item j runs over the users who have j (the
 * transpose) and their items: O(sum over users of n_u^2) in all. Threads take
 * contiguous item ranges; each item's row depends on nothing else, so the
 * result is the same at any thread count.
 */
#include "baselines.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- popularity ---- */

upf_popularity_params upf_popularity_params_default(int decayed)
{
    upf_popularity_params p = { 0, decayed ? 30.0 : 0.0 };
    return p;
}

upf_status upf_popularity_scores(const upf_csr *train, const upf_popularity_params *p, float *scores,
                                 upf_err *err)
{
    size_t n_items = train->n_cols;
    upf_status st = UPF_OK;
    double *acc = upf_calloc(n_items ? n_items : 1, sizeof *acc);
    if (!acc) return upf_err_set(err, UPF_ERR_NOMEM, "popularity: out of memory (%zu items)", n_items);
    int64_t nnz = upf_csr_nnz(train), t_end = INT64_MIN;
    int decayed = p->half_life_days > 0;
    if (decayed) {
        if (!train->time && nnz > 0) {
            st = upf_err_set(err, UPF_ERR_DATA, "popularity_decay: the interactions carry no times");
            goto done;
        }
        for (int64_t e = 0; e < nnz; e++)
            if (train->time[e] > t_end) t_end = train->time[e];
    }
    double half_life_s = p->half_life_days * 86400.0;
    for (int64_t e = 0; e < nnz; e++) {
        double w = p->weighting == 1 ? (double)train->val[e] : 1.0;
        /* 2^(-age / half-life): age >= 0 because t_end is the last training time */
        if (decayed) w *= exp2(-(double)(t_end - train->time[e]) / half_life_s);
        acc[train->idx[e]] += w;
    }
    for (size_t i = 0; i < n_items; i++) scores[i] = (float)acc[i];
done:
    upf_free(acc);
    return st;
}

/* ---- co-occurrence ---- */

upf_cooccur_params upf_cooccur_params_default(void)
{
    upf_cooccur_params p = { 0, 0.5, 100, 1, 0 };
    return p;
}

void upf_cooccur_free(upf_cooccur_model *m)
{
    if (!m) return;
    upf_free(m->ptr);
    upf_free(m->idx);
    upf_free(m->sim);
    memset(m, 0, sizeof *m);
}

typedef struct cand {
    int32_t item;
    float sim;
} cand;

static int by_sim_desc(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if (x->sim != y->sim) return x->sim > y->sim ? -1 : 1;
    return (x->item > y->item) - (x->item < y->item);
}

static int by_item(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    return (x->item > y->item) - (x->item < y->item);
}

typedef struct co_job {
    const upf_csr *train, *items;   /* items: the transpose (items x users) */
    const upf_cooccur_params *p;
    const int64_t *n_users_of;       /* (n_items) users counted per item */
    const unsigned char *user_ok;    /* (n_users) 1 when the user counts */
    size_t begin, end;               /* item range */
    cand *out;                       /* kept neighbours, item after item */
    size_t n_out, cap_out;
    int64_t *row_len;                /* (end - begin) */
    upf_status st;
} co_job;

static void *co_work(void *arg)
{
    co_job *J = arg;
    const upf_csr *tr = J->train, *it = J->items;
    size_t n_items = tr->n_cols;
    uint32_t *count = upf_calloc(n_items ? n_items : 1, sizeof *count);
    int32_t *touched = upf_malloc((n_items ? n_items : 1) * sizeof *touched);
    cand *c = upf_malloc((n_items ? n_items : 1) * sizeof *c);
    if (!count || !touched || !c) {
        J->st = UPF_ERR_NOMEM;
        goto done;
    }
    for (size_t j = J->begin; j < J->end; j++) {
        if ((j & 255) == 0 && upf_interrupted()) {
            J->st = UPF_ERR_INTERRUPTED;
            goto done;
        }
        size_t n_touched = 0;
        for (int64_t e = it->ptr[j]; e < it->ptr[j + 1]; e++) {
            int32_t u = it->idx[e];
            if (!J->user_ok[u]) continue;
            for (int64_t f = tr->ptr[u]; f < tr->ptr[u + 1]; f++) {
                int32_t i = tr->idx[f];
                if ((size_t)i == j) continue;
                if (count[i]++ == 0) touched[n_touched++] = i;
            }
        }
        size_t m = 0;
        double nj = (double)J->n_users_of[j];
        for (size_t t = 0; t < n_touched; t++) {
            int32_t i = touched[t];
            uint32_t cji = count[i];
            count[i] = 0;
            if ((int64_t)cji < J->p->min_count) continue;
            double ni = (double)J->n_users_of[i], s;
            if (J->p->similarity == 0) s = (double)cji / sqrt(nj * ni);
            else s = (double)cji / (nj * pow(ni, J->p->alpha));
            c[m].item = i;
            c[m].sim = (float)s;
            m++;
        }
        size_t keep = m;
        if ((int64_t)m > J->p->neighbors) {
            qsort(c, m, sizeof *c, by_sim_desc);
            keep = (size_t)J->p->neighbors;
        }
        qsort(c, keep, sizeof *c, by_item);
        if (J->n_out + keep > J->cap_out) {
            size_t cap = J->cap_out ? J->cap_out : 1024;
            while (cap < J->n_out + keep) cap *= 2;
            cand *o = upf_realloc(J->out, cap * sizeof *o);
            if (!o) {
                J->st = UPF_ERR_NOMEM;
                goto done;
            }
            J->out = o;
            J->cap_out = cap;
        }
        memcpy(J->out + J->n_out, c, keep * sizeof *c);
        J->n_out += keep;
        J->row_len[j - J->begin] = (int64_t)keep;
    }
done:
    upf_free(count);
    upf_free(touched);
    upf_free(c);
    return NULL;
}

upf_status upf_cooccur_build(const upf_csr *train, const upf_cooccur_params *p, int threads,
                             upf_cooccur_model *out, upf_err *err)
{
    memset(out, 0, sizeof *out);
    upf_status st = UPF_OK;
    size_t n_items = train->n_cols, n_users = train->n_rows;
    upf_csr items;
    memset(&items, 0, sizeof items);
    int64_t *n_users_of = NULL;
    unsigned char *user_ok = NULL;
    co_job *jobs = NULL;
    if (threads < 1) threads = 1;
    if (threads > 256) threads = 256;
    if ((size_t)threads > n_items / 64 + 1) threads = (int)(n_items / 64 + 1);
    if ((st = upf_csr_transpose(train, &items, err))) return st;
    n_users_of = upf_calloc(n_items ? n_items : 1, sizeof *n_users_of);
    user_ok = upf_malloc(n_users ? n_users : 1);
    jobs = upf_calloc((size_t)threads, sizeof *jobs);
    out->ptr = upf_calloc(n_items + 1, sizeof *out->ptr);
    if (!n_users_of || !user_ok || !jobs || !out->ptr) goto nomem;
    for (size_t u = 0; u < n_users; u++) {
        int64_t len = train->ptr[u + 1] - train->ptr[u];
        user_ok[u] = p->max_user_items <= 0 || len <= p->max_user_items;
    }
    for (size_t j = 0; j < n_items; j++)
        for (int64_t e = items.ptr[j]; e < items.ptr[j + 1]; e++) n_users_of[j] += user_ok[items.idx[e]];
    /* contiguous item ranges of about equal work (pairs counted) */
    double total = 0;
    for (size_t j = 0; j < n_items; j++)
        for (int64_t e = items.ptr[j]; e < items.ptr[j + 1]; e++) {
            int32_t u = items.idx[e];
            total += (double)(train->ptr[u + 1] - train->ptr[u]);
        }
    size_t j0 = 0;
    double acc = 0;
    for (int t = 0; t < threads; t++) {
        size_t j1 = j0;
        double target = total * (t + 1) / threads;
        while (j1 < n_items && (acc < target || t == threads - 1)) {
            for (int64_t e = items.ptr[j1]; e < items.ptr[j1 + 1]; e++) {
                int32_t u = items.idx[e];
                acc += (double)(train->ptr[u + 1] - train->ptr[u]);
            }
            j1++;
        }
        jobs[t] = (co_job){ train, &items, p, n_users_of, user_ok, j0, j1, NULL, 0, 0, NULL, UPF_OK };
        if (!(jobs[t].row_len = upf_calloc(j1 - j0 + 1, sizeof(int64_t)))) goto nomem;
        j0 = j1;
    }
    if (threads == 1) {
        co_work(&jobs[0]);
    } else {
        pthread_t tid[256];
        unsigned char started[256] = { 0 };
        for (int t = 1; t < threads; t++) {
            started[t] = pthread_create(&tid[t], NULL, co_work, &jobs[t]) == 0;
            if (!started[t]) co_work(&jobs[t]); /* no thread to be had: do it here */
        }
        co_work(&jobs[0]);
        for (int t = 1; t < threads; t++)
            if (started[t]) pthread_join(tid[t], NULL);
    }
    size_t nnz = 0;
    for (int t = 0; t < threads; t++) {
        if (jobs[t].st == UPF_ERR_NOMEM) goto nomem;
        if (jobs[t].st) {
            st = upf_err_set(err, jobs[t].st, "cooccur: interrupted");
            goto done;
        }
        nnz += jobs[t].n_out;
    }
    out->idx = upf_malloc((nnz ? nnz : 1) * sizeof *out->idx);
    out->sim = upf_malloc((nnz ? nnz : 1) * sizeof *out->sim);
    if (!out->idx || !out->sim) goto nomem;
    size_t k = 0;
    for (int t = 0; t < threads; t++) {
        for (size_t j = jobs[t].begin; j < jobs[t].end; j++) out->ptr[j + 1] = out->ptr[j] + jobs[t].row_len[j - jobs[t].begin];
        for (size_t e = 0; e < jobs[t].n_out; e++, k++) {
            out->idx[k] = jobs[t].out[e].item;
            out->sim[k] = jobs[t].out[e].sim;
        }
    }
    out->n_items = n_items;
    goto done;
nomem:
    st = upf_err_set(err, UPF_ERR_NOMEM, "cooccur: out of memory (%zu items)", n_items);
done:
    if (jobs)
        for (int t = 0; t < threads; t++) {
            upf_free(jobs[t].out);
            upf_free(jobs[t].row_len);
        }
    upf_free(jobs);
    upf_free(n_users_of);
    upf_free(user_ok);
    upf_csr_free(&items);
    if (st) upf_cooccur_free(out);
    return st;
}

/* ---- scoring ---- */

static int64_t lower_bound(const int32_t *v, int64_t lo, int64_t hi, int32_t x)
{
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (v[mid] < x) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static upf_status cooccur_score_block(void *vctx, const int32_t *users, size_t n_users, int32_t item_begin,
                                      int32_t item_end, float *out)
{
    const upf_cooccur_scorer_ctx *ctx = vctx;
    const upf_cooccur_model *m = ctx->model;
    const upf_csr *tr = ctx->train;
    size_t w = (size_t)(item_end - item_begin);
    for (size_t r = 0; r < n_users; r++) {
        float *row = out + r * w;
        memset(row, 0, w * sizeof *row);
        int32_t u = users[r];
        if (u < 0 || (size_t)u >= tr->n_rows) continue;
        for (int64_t f = tr->ptr[u]; f < tr->ptr[u + 1]; f++) {
            int32_t j = tr->idx[f];
            if ((size_t)j >= m->n_items) continue;
            for (int64_t e = lower_bound(m->idx, m->ptr[j], m->ptr[j + 1], item_begin);
                 e < m->ptr[j + 1] && m->idx[e] < item_end; e++)
                row[m->idx[e] - item_begin] += m->sim[e];
        }
    }
    return UPF_OK;
}

upf_scorer upf_cooccur_scorer(upf_cooccur_scorer_ctx *ctx)
{
    upf_scorer s;
    memset(&s, 0, sizeof s);
    s.score_block = cooccur_score_block;
    s.ctx = ctx;
    return s;
}

void upf_cooccur_score_user_ref(const upf_cooccur_model *m, const upf_csr *train, size_t user, double *out)
{
    for (size_t i = 0; i < m->n_items; i++) out[i] = 0;
    for (int64_t f = train->ptr[user]; f < train->ptr[user + 1]; f++) {
        int32_t j = train->idx[f];
        for (int64_t e = m->ptr[j]; e < m->ptr[j + 1]; e++) out[m->idx[e]] += (double)m->sim[e];
    }
}
