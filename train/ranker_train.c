/* ranker_train.c - the ranker's training loops (see ranker_train.h).
 *
 * Sections: features helpers; per-sample pairwise updates (reference loop and
 * the prefetching fast loop for id-only SGD); the mini-batch softmax step; the
 * epoch driver with validation, early stopping, divergence and interruption.
 * Legend: U users, I items, D dim, B users per batch, C candidates.
 */
#include "ranker_train.h"

#include <math.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "ranker_loss.h"
#include "ranker_sampler.h"

/* the sample loops' small helpers: inlined into each build of the fast loop */
#if defined(__GNUC__)
#define UPF_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define UPF_ALWAYS_INLINE inline
#endif

upf_ranker_train_params upf_ranker_train_params_default(void)
{
    upf_ranker_train_params p;
    memset(&p, 0, sizeof p);
    p.loss = UPF_RANKER_SOFTMAX;
    p.epochs = 100;
    p.patience = 10;
    p.eval_every = 2;
    p.batch_users = 128;
    p.n_negatives = 0;
    p.neg_dist = UPF_NEG_UNIFORM;
    p.pop_alpha = 0.75;
    p.check_negatives = 1;
    p.tau = 1.0;
    p.user_attr_dropout = 0.0;
    p.init_std = 0.05;
    p.opt = upf_opt_params_default();
    p.seed = 0;
    p.threads = 1;
    return p;
}

const char *upf_ranker_loss_name(upf_ranker_loss l)
{
    static const char *const n[] = { "bpr", "warp", "softmax" };
    return (unsigned)l < UPF_RANKER_LOSS_COUNT ? n[l] : "unknown";
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- feature helpers ---- */

/* Frees a CSR built here (the datasets module's upf_csr_free does the same;
 * kept local so this file links without it). */
static void csr_release(upf_csr *m)
{
    upf_free(m->ptr);
    upf_free(m->idx);
    upf_free(m->val);
    upf_free(m->time);
    memset(m, 0, sizeof *m);
}

upf_status upf_ranker_history_features(const upf_csr *train, upf_csr *out, upf_err *err)
{
    memset(out, 0, sizeof *out);
    int64_t nnz = upf_csr_nnz(train);
    out->ptr = upf_malloc((train->n_rows + 1) * sizeof *out->ptr);
    out->idx = upf_malloc((size_t)nnz * sizeof *out->idx);
    out->val = upf_malloc((size_t)nnz * sizeof *out->val);
    if (!out->ptr || !out->idx || !out->val) {
        csr_release(out);
        return upf_err_set(err, UPF_ERR_NOMEM, "history features: out of memory for %lld entries", (long long)nnz);
    }
    out->n_rows = train->n_rows;
    out->n_cols = train->n_cols;
    memcpy(out->ptr, train->ptr, (train->n_rows + 1) * sizeof *out->ptr);
    memcpy(out->idx, train->idx, (size_t)nnz * sizeof *out->idx);
    for (size_t u = 0; u < train->n_rows; u++) {
        int64_t n = train->ptr[u + 1] - train->ptr[u];
        float x = n > 0 ? (float)(1.0 / sqrt((double)n)) : 0.0f;
        for (int64_t e = train->ptr[u]; e < train->ptr[u + 1]; e++) out->val[e] = x;
    }
    return UPF_OK;
}

upf_status upf_csr_hstack(const upf_csr *a, const upf_csr *b, upf_csr *out, upf_err *err)
{
    memset(out, 0, sizeof *out);
    const upf_csr *parts[2] = { a && a->ptr && a->n_cols ? a : NULL, b && b->ptr && b->n_cols ? b : NULL };
    if (!parts[0] && !parts[1]) return UPF_OK; /* nothing to stack: out stays empty (ptr NULL) */
    size_t rows = parts[0] ? parts[0]->n_rows : parts[1]->n_rows;
    if (parts[0] && parts[1] && parts[0]->n_rows != parts[1]->n_rows)
        return upf_err_set(err, UPF_ERR_ARG, "hstack: %zu rows vs %zu rows", parts[0]->n_rows, parts[1]->n_rows);
    int64_t nnz = (parts[0] ? upf_csr_nnz(parts[0]) : 0) + (parts[1] ? upf_csr_nnz(parts[1]) : 0);
    out->ptr = upf_malloc((rows + 1) * sizeof *out->ptr);
    out->idx = upf_malloc((size_t)nnz * sizeof *out->idx);
    out->val = upf_malloc((size_t)nnz * sizeof *out->val);
    if (!out->ptr || !out->idx || !out->val) {
        csr_release(out);
        return upf_err_set(err, UPF_ERR_NOMEM, "hstack: out of memory");
    }
    out->n_rows = rows;
    out->n_cols = (parts[0] ? parts[0]->n_cols : 0) + (parts[1] ? parts[1]->n_cols : 0);
    int64_t k = 0;
    out->ptr[0] = 0;
    for (size_t r = 0; r < rows; r++) {
        int32_t shift = 0;
        for (int q = 0; q < 2; q++) {
            const upf_csr *m = parts[q];
            if (!m) continue;
            for (int64_t e = m->ptr[r]; e < m->ptr[r + 1]; e++) {
                out->idx[k] = m->idx[e] + shift;
                out->val[k++] = m->val ? m->val[e] : 1.0f;
            }
            shift += (int32_t)m->n_cols;
        }
        out->ptr[r + 1] = k;
    }
    return UPF_OK;
}

/* ---- per-sample pairwise updates ---- */

/* Items with at least one training positive. Only they serve as negatives
 * (and softmax candidates): an item never seen in training has no evidence
 * against it, so pushing its id part down would only teach the model to bury
 * new items; cold items are ranked by their attributes instead. */
static upf_status warm_items(const upf_csr *train, int32_t **out, size_t *n_out, upf_err *err)
{
    *out = NULL;
    *n_out = 0;
    uint8_t *seen = upf_calloc(train->n_cols ? train->n_cols : 1, 1);
    int32_t *w = upf_malloc((train->n_cols ? train->n_cols : 1) * sizeof *w);
    if (!seen || !w) {
        upf_free(seen);
        upf_free(w);
        return upf_err_set(err, UPF_ERR_NOMEM, "ranker: out of memory");
    }
    int64_t nnz = upf_csr_nnz(train);
    for (int64_t e = 0; e < nnz; e++) seen[train->idx[e]] = 1;
    size_t n = 0;
    for (size_t i = 0; i < train->n_cols; i++)
        if (seen[i]) w[n++] = (int32_t)i;
    upf_free(seen);
    *out = w;
    *n_out = n;
    return UPF_OK;
}

struct upf_pair_ctx {
    const upf_csr *train;
    const float *pos_weight;
    upf_alias alias;     /* popularity negatives, when asked for */
    upf_ranker_train_params p;
    upf_ranker_view s1, s2; /* optimizer state views (NULL parts for SGD) */
    float *state;           /* owned block behind s1 and s2 */
    size_t n_params;
    size_t n_items;
    int32_t *warm;  /* (n_warm) items with training positives: the negatives */
    size_t n_warm;
    int all_warm;   /* warm[k] == k for every item: draw the index directly */
};

upf_status upf_pair_ctx_create(const upf_ranker_model *m, const upf_csr *train, const float *pos_weight,
                               const upf_ranker_train_params *p, upf_pair_ctx **out, upf_err *err)
{
    upf_status st = UPF_OK;
    upf_pair_ctx *c = NULL;
    double *w = NULL;
    *out = NULL;
    if (!(c = upf_calloc(1, sizeof *c))) return upf_err_set(err, UPF_ERR_NOMEM, "ranker: out of memory");
    c->train = train;
    c->pos_weight = pos_weight;
    c->p = *p;
    c->n_items = m->shape.n_items;
    if ((st = warm_items(train, &c->warm, &c->n_warm, err))) goto done;
    c->all_warm = c->n_warm == train->n_cols;
    if (p->neg_dist == UPF_NEG_POPULARITY) {
        if (!(w = upf_malloc(train->n_cols * sizeof *w))) {
            st = upf_err_set(err, UPF_ERR_NOMEM, "ranker: out of memory");
            goto done;
        }
        upf_item_popularity(train, p->pop_alpha, w);
        if ((st = upf_alias_build(w, train->n_cols, &c->alias, err)) != UPF_OK) goto done;
    }
    int n_state = p->opt.kind == UPF_OPT_ADAM ? 2 : p->opt.kind == UPF_OPT_ADAGRAD ? 1 : 0;
    c->n_params = m->n_params;
    if (n_state) {
        size_t bytes;
        if (upf_mul_size(m->n_params, sizeof(float) * (size_t)n_state, &bytes) ||
            !(c->state = upf_malloc_aligned(bytes))) {
            st = upf_err_set(err, UPF_ERR_NOMEM, "ranker: out of memory for optimizer state (%zu floats x %d)",
                             m->n_params, n_state);
            goto done;
        }
        upf_advise_huge(c->state, bytes);
        memset(c->state, 0, bytes);
        upf_ranker_views(&m->shape, c->state, &c->s1);
        if (n_state == 2) upf_ranker_views(&m->shape, c->state + m->n_params, &c->s2);
    }
    *out = c;
    c = NULL;
done:
    upf_free(w);
    upf_pair_ctx_free(c);
    return st;
}

void upf_pair_ctx_free(upf_pair_ctx *c)
{
    if (!c) return;
    upf_alias_free(&c->alias);
    upf_free_aligned(c->state);
    upf_free(c->warm);
    upf_free(c);
}

static UPF_ALWAYS_INLINE int32_t draw_negative(const upf_pair_ctx *c, upf_rng *r)
{
    if (c->p.neg_dist == UPF_NEG_POPULARITY) return upf_alias_draw(&c->alias, r);
    /* the same draw either way; the direct index saves a random read of warm[] */
    const uint32_t k = upf_rng_below(r, (uint32_t)c->n_warm);
    return c->all_warm ? (int32_t)k : c->warm[k];
}

/* A negative for user u: redrawn (at most 16 times) while it is a positive. */
static UPF_ALWAYS_INLINE int32_t draw_checked(const upf_pair_ctx *c, upf_rng *r, size_t u)
{
    int32_t j = draw_negative(c, r);
    if (!c->p.check_negatives) return j;
    const int32_t *row = c->train->idx + c->train->ptr[u];
    int64_t len = c->train->ptr[u + 1] - c->train->ptr[u];
    for (int t = 0; t < 16 && upf_row_has(row, len, j); t++) j = draw_negative(c, r);
    return j;
}

/* Applies the optimizer to `n` floats of part `param` at offset off, gradient g. */
static inline void opt_rows(const upf_opt_step *o, float *param, float *s1, float *s2, size_t off, const float *g,
                            size_t n)
{
    upf_opt_update(o, param + off, s1 ? s1 + off : NULL, s2 ? s2 + off : NULL, g, n);
}

/* Applies the per-sample gradient of user vector gu to u's parts. */
static void apply_user(const upf_pair_ctx *c, upf_ranker_model *m, const upf_opt_step *o, size_t u, const float *gu,
                       float *tmp)
{
    const size_t d = m->shape.dim;
    if (m->p.user_id) opt_rows(o, m->p.user_id, c->s1.user_id, c->s2.user_id, u * d, gu, d);
    const upf_csr *f = m->user_feat;
    if (!f) return;
    for (int64_t e = f->ptr[u]; e < f->ptr[u + 1]; e++) {
        for (size_t k = 0; k < d; k++) tmp[k] = f->val[e] * gu[k];
        opt_rows(o, m->p.user_attr, c->s1.user_attr, c->s2.user_attr, (size_t)f->idx[e] * d, tmp, d);
    }
}

static void apply_item(const upf_pair_ctx *c, upf_ranker_model *m, const upf_opt_step *o, size_t i, const float *gv,
                       float gb, float *tmp)
{
    const size_t d = m->shape.dim;
    if (m->p.item_id) {
        opt_rows(o, m->p.item_id, c->s1.item_id, c->s2.item_id, i * d, gv, d);
        opt_rows(o, m->p.item_bias, c->s1.item_bias, c->s2.item_bias, i, &gb, 1);
    }
    const upf_csr *f = m->item_feat;
    if (!f) return;
    for (int64_t e = f->ptr[i]; e < f->ptr[i + 1]; e++) {
        const size_t a = (size_t)f->idx[e];
        const float x = f->val[e], xb = x * gb;
        for (size_t k = 0; k < d; k++) tmp[k] = x * gv[k];
        opt_rows(o, m->p.item_attr, c->s1.item_attr, c->s2.item_attr, a * d, tmp, d);
        opt_rows(o, m->p.attr_bias, c->s1.attr_bias, c->s2.attr_bias, a, &xb, 1);
    }
}

/* The reference loop: any model, any optimizer, BPR or WARP. Visits the
 * positives of users[0..n_users) in order; negatives come from rn. */
static double pair_epoch_ref(upf_pair_ctx *c, upf_ranker_model *m, upf_rng *rn, const int32_t *users,
                             size_t n_users, uint64_t step0, uint64_t total_steps, float *scratch)
{
    const size_t d = m->shape.dim;
    const upf_csr *tr = c->train;
    float *uv = scratch, *vi = scratch + d, *vj = scratch + 2 * d, *g = scratch + 3 * d, *tmp = scratch + 4 * d,
          *gu = scratch + 5 * d, *uo = scratch + 6 * d;
    const int warp = c->p.loss == UPF_RANKER_WARP;
    const uint32_t n_neg = c->p.n_negatives ? c->p.n_negatives : 1;
    double total = 0.0;
    uint64_t s = 0;
    for (size_t k = 0; k < n_users; k++) {
        const size_t u = (size_t)users[k];
        for (int64_t e = tr->ptr[u]; e < tr->ptr[u + 1]; e++, s++) {
            const int32_t i = tr->idx[e];
            const float w = c->pos_weight ? c->pos_weight[e] : 1.0f;
            double lr = upf_lr_at(&c->p.opt, step0 + s, total_steps);
            upf_opt_step o = upf_opt_step_at(&c->p.opt, lr, step0 + s + 1);
            upf_ranker_user_vec(m, u, uv);
            float bi = upf_ranker_item_vec(m, (size_t)i, vi);
            float si = bi + upf_ranker_dot(uv, vi, d);
            uint32_t reps = warp ? 1 : n_neg;
            for (uint32_t q = 0; q < reps; q++) {
                int32_t j = -1;
                float sj = 0.0f;
                double warp_l = 0.0;
                if (warp) {
                    uint32_t t;
                    for (t = 1; t <= n_neg; t++) {
                        int32_t cand = draw_checked(c, rn, u);
                        float bc = upf_ranker_item_vec(m, (size_t)cand, vj);
                        float sc = bc + upf_ranker_dot(uv, vj, d);
                        if (sc > si - 1.0f) {
                            j = cand;
                            sj = sc;
                            break;
                        }
                    }
                    if (j < 0) continue; /* no violator within the cap: no update */
                    warp_l = upf_warp_weight((uint64_t)((c->n_warm - 1) / t));
                } else {
                    j = draw_checked(c, rn, u);
                    if (q > 0) { /* earlier negatives moved the parameters */
                        upf_ranker_user_vec(m, u, uv);
                        bi = upf_ranker_item_vec(m, (size_t)i, vi);
                        si = bi + upf_ranker_dot(uv, vi, d);
                    }
                    float bj = upf_ranker_item_vec(m, (size_t)j, vj);
                    sj = bj + upf_ranker_dot(uv, vj, d);
                }
                double cf;
                total += upf_pair_loss_at(warp ? UPF_PAIR_WARP : UPF_PAIR_BPR, (double)si - (double)sj, w, warp_l, &cf);
                if (cf == 0.0) continue;
                const float cc = (float)cf;
                memcpy(uo, uv, d * sizeof(float));
                for (size_t q2 = 0; q2 < d; q2++) gu[q2] = cc * (vi[q2] - vj[q2]);
                apply_user(c, m, &o, u, gu, tmp);
                for (size_t q2 = 0; q2 < d; q2++) g[q2] = cc * uo[q2];
                apply_item(c, m, &o, (size_t)i, g, cc, tmp);
                for (size_t q2 = 0; q2 < d; q2++) g[q2] = -cc * uo[q2];
                apply_item(c, m, &o, (size_t)j, g, -cc, tmp);
            }
        }
    }
    return total;
}

/* The fast loop: id-only model, plain SGD, BPR with one negative. The
 * positives are walked user by user (the user's row and its positives stay in
 * cache); a cursor PF_DIST samples ahead draws each sample's negative (the
 * check reads the user's own, cached, row) and prefetches the item rows, and
 * the next users' rows are prefetched as the cursor reaches them. Negatives
 * come from rn in sample order and the arithmetic is the reference's, in the
 * same order, so both loops produce identical parameters.
 *
 * Two builds of the same body: a portable one (4-float GCC vectors, SSE2 on
 * x86-64) and, on x86 with GCC/Clang, one compiled for AVX2 and chosen at run
 * time (__builtin_cpu_supports). The AVX2 build keeps the canonical dot's
 * eight lanes in one 8-float vector (lane j sums k = j mod 8, in order) and
 * updates 8 floats per step with separate multiplies and adds (no FMA:
 * -ffp-contract=off and the target is "avx2" only), so its results are the
 * portable build's, bit for bit; it only halves the instruction count. */
#ifndef PF_DIST
#define PF_DIST 8
#endif
#define PF_RING 16 /* > PF_DIST, a power of two */

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define UPF_PAIR_AVX2 1
typedef float pair_v8 __attribute__((vector_size(32)));
#endif

typedef struct pf_slot {
    size_t u;
    int32_t i, j;
    float w;
} pf_slot;

static inline void prefetch_row(const float *r, size_t d)
{
    for (size_t k = 0; k < d; k += 16) __builtin_prefetch(r + k, 1);
}

/* si = pu . qi and sj = pu . qj in the canonical order (upf_ranker_dot). */
static UPF_ALWAYS_INLINE void dot2(const float *pu, const float *qi, const float *qj, size_t d, float *si, float *sj,
                                   int w8)
{
#ifdef UPF_PAIR_AVX2
    if (w8 && d % 8 == 0) {
        pair_v8 ai = { 0 }, aj = { 0 }, x, y, z;
        for (size_t k = 0; k < d; k += 8) {
            memcpy(&x, pu + k, sizeof x);
            memcpy(&y, qi + k, sizeof y);
            memcpy(&z, qj + k, sizeof z);
            ai += x * y;
            aj += x * z;
        }
        float li[8], lj[8];
        memcpy(li, &ai, sizeof li);
        memcpy(lj, &aj, sizeof lj);
        const float t0 = li[0] + li[4], t1 = li[1] + li[5], t2 = li[2] + li[6], t3 = li[3] + li[7];
        const float u0 = lj[0] + lj[4], u1 = lj[1] + lj[5], u2 = lj[2] + lj[6], u3 = lj[3] + lj[7];
        *si = (t0 + t2) + (t1 + t3);
        *sj = (u0 + u2) + (u1 + u3);
        return;
    }
#endif
    (void)w8;
    *si = upf_ranker_dot(pu, qi, d);
    *sj = upf_ranker_dot(pu, qj, d);
}

/* The SGD step of the three rows (the reference's arithmetic per element). */
static UPF_ALWAYS_INLINE void sgd_rows(float *pu, float *qi, float *qj, size_t d, float lr, float cc, float l2, int w8)
{
    size_t k = 0;
#ifdef UPF_PAIR_AVX2
    if (w8) {
        for (; k + 8 <= d; k += 8) {
            pair_v8 pk, gi, gj;
            memcpy(&pk, pu + k, sizeof pk);
            memcpy(&gi, qi + k, sizeof gi);
            memcpy(&gj, qj + k, sizeof gj);
            pair_v8 np = pk - lr * (cc * (gi - gj) + l2 * pk);
            pair_v8 ni = gi - lr * (cc * pk + l2 * gi);
            pair_v8 nj = gj - lr * (-cc * pk + l2 * gj);
            memcpy(pu + k, &np, sizeof np);
            memcpy(qi + k, &ni, sizeof ni);
            memcpy(qj + k, &nj, sizeof nj);
        }
    }
#endif
#ifdef UPF_HAVE_V4
    for (; k + 4 <= d; k += 4) {
        upf_v4 pk, gi, gj;
        memcpy(&pk, pu + k, sizeof pk);
        memcpy(&gi, qi + k, sizeof gi);
        memcpy(&gj, qj + k, sizeof gj);
        upf_v4 np = pk - lr * (cc * (gi - gj) + l2 * pk);
        upf_v4 ni = gi - lr * (cc * pk + l2 * gi);
        upf_v4 nj = gj - lr * (-cc * pk + l2 * gj);
        memcpy(pu + k, &np, sizeof np);
        memcpy(qi + k, &ni, sizeof ni);
        memcpy(qj + k, &nj, sizeof nj);
    }
#endif
    (void)w8;
    for (; k < d; k++) {
        const float pk = pu[k], gi = qi[k], gj = qj[k];
        pu[k] = pk - lr * (cc * (gi - gj) + l2 * pk);
        qi[k] = gi - lr * (cc * pk + l2 * gi);
        qj[k] = gj - lr * (-cc * pk + l2 * gj);
    }
}

static UPF_ALWAYS_INLINE double pair_epoch_fast_body(upf_pair_ctx *c, upf_ranker_model *m, upf_rng *rn,
                                                     const int32_t *users, size_t n_users, uint64_t step0,
                                                     uint64_t total_steps, int w8)
{
    const size_t d = m->shape.dim;
    const int64_t *ptr = c->train->ptr;
    const int32_t *idx = c->train->idx;
    const float *pw = c->pos_weight;
    float *P = m->p.user_id, *Q = m->p.item_id, *bias = m->p.item_bias;
    const float l2 = (float)c->p.opt.l2;
    const int constant_lr = c->p.opt.schedule == UPF_LR_CONSTANT && c->p.opt.warmup == 0;
    const float lr_const = (float)c->p.opt.lr_init;
    pf_slot ring[PF_RING];
    double total = 0.0, lin = 0.0, prod = 1.0;
    /* the ahead cursor: user position ka, entry ea (end eend) */
    size_t ka = 0;
    int64_t ea = 0, eend = 0;
    uint64_t filled = 0, done = 0;
    for (;;) {
        /* fill the ring up to PF_DIST samples ahead */
        while (filled - done < PF_DIST) {
            while (ea == eend && ka < n_users) {
                size_t u = (size_t)users[ka++];
                ea = ptr[u];
                eend = ptr[u + 1];
                if (ka + 1 < n_users) {
                    size_t un = (size_t)users[ka + 1];
                    prefetch_row(P + un * d, d);
                    __builtin_prefetch(ptr + un);
                    __builtin_prefetch(idx + ptr[(size_t)users[ka]]);
                }
            }
            if (ea == eend) break;
            pf_slot *sl = &ring[filled & (PF_RING - 1)];
            sl->u = (size_t)users[ka - 1];
            sl->i = idx[ea];
            sl->w = pw ? pw[ea] : 1.0f;
            sl->j = draw_checked(c, rn, sl->u);
            prefetch_row(Q + (size_t)sl->i * d, d);
            prefetch_row(Q + (size_t)sl->j * d, d);
            __builtin_prefetch(bias + sl->i, 1);
            __builtin_prefetch(bias + sl->j, 1);
            ea++;
            filled++;
        }
        if (done == filled) break;
        const pf_slot *sl = &ring[done & (PF_RING - 1)];
        const uint64_t t = done++;
        const size_t u = sl->u;
        const int32_t i = sl->i, j = sl->j;
        float *pu = P + u * d, *qi = Q + (size_t)i * d, *qj = Q + (size_t)j * d;
        float di, dj;
        dot2(pu, qi, qj, d, &di, &dj, w8);
        const float si = bias[i] + di, sj = bias[j] + dj;
        /* upf_bpr_at's arithmetic for the coefficient; the loss's log1p(e)
         * terms of unit-weight samples are summed as log(prod(1 + e)), one
         * log per few hundred samples instead of one log1p each (the sum
         * agrees to about 1e-13 relative; non-finite scores still make it NaN) */
        const double x = (double)si - (double)sj, wd = (double)sl->w;
        const double e = exp(-fabs(x));
        const double cf = -wd * (x >= 0 ? e / (1.0 + e) : 1.0 / (1.0 + e));
        lin += x < 0 ? -wd * x : 0.0;
        if (wd == 1.0) {
            prod *= 1.0 + e;
            if (prod > 0x1p900) total += log(prod), prod = 1.0;
        } else {
            total += wd * log1p(e);
        }
        if (cf == 0.0) continue;
        const float lr = constant_lr ? lr_const : (float)upf_lr_at(&c->p.opt, step0 + t, total_steps);
        const float cc = (float)cf;
        sgd_rows(pu, qi, qj, d, lr, cc, l2, w8);
        bias[i] -= lr * (cc + l2 * bias[i]);
        bias[j] -= lr * (-cc + l2 * bias[j]);
    }
    return total + log(prod) + lin;
}

static double pair_epoch_fast(upf_pair_ctx *c, upf_ranker_model *m, upf_rng *rn, const int32_t *users,
                              size_t n_users, uint64_t step0, uint64_t total_steps)
{
    return pair_epoch_fast_body(c, m, rn, users, n_users, step0, total_steps, 0);
}

#ifdef UPF_PAIR_AVX2
__attribute__((target("avx2"))) static double pair_epoch_fast_avx2(upf_pair_ctx *c, upf_ranker_model *m,
                                                                   upf_rng *rn, const int32_t *users, size_t n_users,
                                                                   uint64_t step0, uint64_t total_steps)
{
    return pair_epoch_fast_body(c, m, rn, users, n_users, step0, total_steps, 1);
}
#endif

static int fast_path_ok(const upf_pair_ctx *c, const upf_ranker_model *m)
{
    return c->p.loss == UPF_RANKER_BPR && c->p.opt.kind == UPF_OPT_SGD && m->p.user_id && m->p.item_id &&
           !m->user_feat && !m->item_feat && c->p.n_negatives <= 1;
}

double upf_pair_epoch(upf_pair_ctx *c, upf_ranker_model *m, upf_rng *r, const int32_t *users, size_t n_users,
                      uint64_t step0, uint64_t total_steps, int fast)
{
    if (fast && fast_path_ok(c, m)) {
#ifdef UPF_PAIR_AVX2
        if (fast == 1 && __builtin_cpu_supports("avx2"))
            return pair_epoch_fast_avx2(c, m, r, users, n_users, step0, total_steps);
#endif
        return pair_epoch_fast(c, m, r, users, n_users, step0, total_steps);
    }
    float scratch[7 * 1024];
    float *buf = m->shape.dim <= 1024 ? scratch : upf_malloc(7 * m->shape.dim * sizeof(float));
    if (!buf) return NAN;
    double t = pair_epoch_ref(c, m, r, users, n_users, step0, total_steps, buf);
    if (buf != scratch) upf_free(buf);
    return t;
}

/* ---- mini-batch softmax ---- */

typedef struct sm_ctx {
    const upf_csr *train;
    const float *pos_weight;
    upf_ranker_train_params p;
    size_t B, Cmax, D;
    float *grad;            /* (n_params) gradient block, zero between steps */
    upf_ranker_view gv;
    float *state;           /* optimizer state: s1 then s2 */
    upf_ranker_view s1, s2;
    float *U, *gU;          /* (B, D) */
    float *V, *gV;          /* (Cmax, D) */
    float *bias, *gb, *logq; /* (Cmax) */
    float *Y, *S;           /* (B, Cmax) */
    int32_t *cand;          /* (Cmax) candidate items */
    int32_t *cand_pos;      /* (I) slot of an item among the candidates, -1 if absent */
    float *uval;            /* (nnz of user features) effective values after dropout */
    uint8_t *umark, *imark; /* (A_user), (A_item) attribute rows touched this step */
    int32_t *ulist, *ilist; /* touched attribute rows */
    size_t n_ulist, n_ilist;
    int32_t *users;         /* (n_active) users with positives, shuffled per epoch */
    size_t n_active;
    upf_alias alias;        /* sampled candidates */
    double *pop;            /* (I) empirical popularity share of train entries */
    uint8_t *cold;          /* (I) 1: no training positive (never a candidate) */
    float id_scale;         /* the last sm_user_vec's user-id dropout factor */
    float *id_scales;       /* (B) per batch row */
    float *mask;            /* (I) full mode: +inf for cold items, else 0; NULL when none is cold */
} sm_ctx;

static void sm_free(sm_ctx *c)
{
    upf_free_aligned(c->grad);
    upf_free_aligned(c->state);
    upf_free_aligned(c->U);
    upf_free_aligned(c->gU);
    upf_free_aligned(c->V);
    upf_free_aligned(c->gV);
    upf_free(c->bias);
    upf_free(c->gb);
    upf_free(c->logq);
    upf_free_aligned(c->Y);
    upf_free_aligned(c->S);
    upf_free(c->cand);
    upf_free(c->cand_pos);
    upf_free(c->uval);
    upf_free(c->umark);
    upf_free(c->imark);
    upf_free(c->ulist);
    upf_free(c->ilist);
    upf_free(c->users);
    upf_alias_free(&c->alias);
    upf_free(c->pop);
    upf_free(c->cold);
    upf_free(c->mask);
    upf_free(c->id_scales);
    memset(c, 0, sizeof *c);
}

static void *alloc_floats(size_t a, size_t b, int *ok)
{
    size_t n, bytes;
    if (upf_mul_size(a, b, &n) || upf_mul_size(n ? n : 1, sizeof(float), &bytes)) {
        *ok = 0;
        return NULL;
    }
    void *p = upf_malloc_aligned(bytes);
    if (!p) *ok = 0;
    else memset(p, 0, bytes);
    return p;
}

static upf_status sm_create(sm_ctx *c, const upf_ranker_model *m, const upf_csr *train, const float *pos_weight,
                            const upf_ranker_train_params *p, upf_err *err)
{
    memset(c, 0, sizeof *c);
    const upf_ranker_shape *s = &m->shape;
    int ok = 1;
    c->train = train;
    c->pos_weight = pos_weight;
    c->p = *p;
    c->D = s->dim;
    c->B = p->batch_users;
    size_t max_pos = 0;
    for (size_t u = 0; u < train->n_rows; u++) {
        size_t n = (size_t)(train->ptr[u + 1] - train->ptr[u]);
        if (n) c->n_active++;
    }
    for (size_t u = 0; u < train->n_rows; u++) {
        size_t n = (size_t)(train->ptr[u + 1] - train->ptr[u]);
        if (n > max_pos) max_pos = n;
    }
    if (p->n_negatives == 0 || p->n_negatives >= s->n_items) c->Cmax = s->n_items;
    else {
        size_t cm = p->n_negatives + c->B * max_pos;
        c->Cmax = cm < s->n_items ? cm : s->n_items;
    }
    int n_state = p->opt.kind == UPF_OPT_ADAM ? 2 : p->opt.kind == UPF_OPT_ADAGRAD ? 1 : 0;
    c->grad = alloc_floats(m->n_params, 1, &ok);
    if (n_state) c->state = alloc_floats(m->n_params, (size_t)n_state, &ok);
    c->U = alloc_floats(c->B, c->D, &ok);
    c->gU = alloc_floats(c->B, c->D, &ok);
    c->V = alloc_floats(c->Cmax, c->D, &ok);
    c->gV = alloc_floats(c->Cmax, c->D, &ok);
    c->Y = alloc_floats(c->B, c->Cmax, &ok);
    c->S = alloc_floats(c->B, c->Cmax, &ok);
    c->bias = upf_calloc(c->Cmax, sizeof *c->bias);
    c->gb = upf_calloc(c->Cmax, sizeof *c->gb);
    c->logq = upf_calloc(c->Cmax, sizeof *c->logq);
    c->cand = upf_calloc(c->Cmax, sizeof *c->cand);
    c->cand_pos = upf_malloc(s->n_items * sizeof *c->cand_pos);
    c->users = upf_malloc((c->n_active ? c->n_active : 1) * sizeof *c->users);
    c->id_scales = upf_malloc(c->B * sizeof *c->id_scales);
    if (!c->id_scales) ok = 0;
    c->pop = upf_calloc(s->n_items, sizeof *c->pop);
    if (m->user_feat) {
        c->uval = upf_calloc((size_t)upf_csr_nnz(m->user_feat) + 1, sizeof *c->uval);
        c->umark = upf_calloc(s->n_user_attrs, 1);
        c->ulist = upf_malloc(s->n_user_attrs * sizeof *c->ulist);
        if (!c->uval || !c->umark || !c->ulist) ok = 0;
    }
    if (m->item_feat) {
        c->imark = upf_calloc(s->n_item_attrs, 1);
        c->ilist = upf_malloc(s->n_item_attrs * sizeof *c->ilist);
        if (!c->imark || !c->ilist) ok = 0;
    }
    if (!ok || !c->bias || !c->gb || !c->logq || !c->cand || !c->cand_pos || !c->users || !c->pop) {
        sm_free(c);
        return upf_err_set(err, UPF_ERR_NOMEM, "ranker softmax: out of memory (batch %zu x %zu candidates)", c->B,
                           c->Cmax);
    }
    upf_ranker_views(s, c->grad, &c->gv);
    if (n_state) upf_ranker_views(s, c->state, &c->s1);
    if (n_state == 2) upf_ranker_views(s, c->state + m->n_params, &c->s2);
    for (size_t i = 0; i < s->n_items; i++) c->cand_pos[i] = -1;
    size_t k = 0;
    for (size_t u = 0; u < train->n_rows; u++)
        if (train->ptr[u + 1] > train->ptr[u]) c->users[k++] = (int32_t)u;
    int64_t nnz = upf_csr_nnz(train);
    for (int64_t e = 0; e < nnz; e++) c->pop[train->idx[e]] += 1.0 / (double)nnz;
    if (!(c->cold = upf_calloc(s->n_items, 1))) {
        sm_free(c);
        return upf_err_set(err, UPF_ERR_NOMEM, "ranker softmax: out of memory");
    }
    size_t n_cold = 0;
    for (size_t i = 0; i < s->n_items; i++) n_cold += c->cold[i] = c->pop[i] == 0.0;
    if ((n_cold || p->pop_debias > 0) && c->Cmax == s->n_items) {
        if (!(c->mask = upf_malloc(s->n_items * sizeof *c->mask))) {
            sm_free(c);
            return upf_err_set(err, UPF_ERR_NOMEM, "ranker softmax: out of memory");
        }
        /* z = s - mask: cold items out; with debiasing, + beta * log(share) */
        for (size_t i = 0; i < s->n_items; i++)
            c->mask[i] = c->cold[i] ? INFINITY : (float)(-p->pop_debias * log(c->pop[i]));
    }
    /* the sampler exists whenever sm_step samples: also when the candidate
     * budget (negatives + batch positives) reaches the catalogue */
    if (c->Cmax < s->n_items || (p->n_negatives > 0 && p->n_negatives < s->n_items)) {
        double *w = upf_malloc(s->n_items * sizeof *w);
        if (!w) {
            sm_free(c);
            return upf_err_set(err, UPF_ERR_NOMEM, "ranker softmax: out of memory");
        }
        if (p->neg_dist == UPF_NEG_POPULARITY) upf_item_popularity(train, p->pop_alpha, w);
        else
            for (size_t i = 0; i < s->n_items; i++) w[i] = c->cold[i] ? 0.0 : 1.0;
        upf_status st = upf_alias_build(w, s->n_items, &c->alias, err);
        upf_free(w);
        if (st != UPF_OK) {
            sm_free(c);
            return st;
        }
    }
    return UPF_OK;
}

/* User u's vector with attribute dropout: values kept with probability 1-p,
 * rescaled so the row's L2 norm is unchanged (all dropped: no attributes). */
static void sm_user_vec(sm_ctx *c, const upf_ranker_model *m, size_t u, upf_rng *r, float *out)
{
    const size_t d = c->D;
    c->id_scale = 1.0f;
    if (m->p.user_id && c->p.user_id_dropout > 0)
        c->id_scale = upf_rng_uniform(r) < c->p.user_id_dropout ? 0.0f : (float)(1.0 / (1.0 - c->p.user_id_dropout));
    if (m->p.user_id && c->id_scale == 1.0f) memcpy(out, m->p.user_id + u * d, d * sizeof(float));
    else if (m->p.user_id)
        for (size_t k = 0; k < d; k++) out[k] = c->id_scale * m->p.user_id[u * d + k];
    else memset(out, 0, d * sizeof(float));
    const upf_csr *f = m->user_feat;
    if (!f) return;
    const double drop = c->p.user_attr_dropout;
    double all = 0.0, kept = 0.0;
    for (int64_t e = f->ptr[u]; e < f->ptr[u + 1]; e++) {
        float x = f->val[e];
        all += (double)x * (double)x;
        if (drop > 0 && upf_rng_uniform(r) < drop) x = 0.0f;
        kept += (double)x * (double)x;
        c->uval[e] = x;
    }
    float scale = kept > 0 ? (float)sqrt(all / kept) : 0.0f;
    for (int64_t e = f->ptr[u]; e < f->ptr[u + 1]; e++) {
        const float x = c->uval[e] * scale;
        c->uval[e] = x;
        if (x == 0.0f) continue;
        const float *a = m->p.user_attr + (size_t)f->idx[e] * d;
        for (size_t k = 0; k < d; k++) out[k] += x * a[k];
    }
}

static inline void touch(uint8_t *mark, int32_t *list, size_t *n, int32_t a)
{
    if (!mark[a]) {
        mark[a] = 1;
        list[(*n)++] = a;
    }
}

/* One optimizer step on the batch users[0..B). Returns the batch loss. */
static double sm_step(sm_ctx *c, upf_ranker_model *m, const int32_t *users, size_t B, upf_rng *r,
                      const upf_opt_step *o)
{
    const size_t D = c->D, I = m->shape.n_items;
    const upf_csr *tr = c->train;
    const int full = c->Cmax == I && (c->p.n_negatives == 0 || c->p.n_negatives >= I);
    for (size_t b = 0; b < B; b++) {
        sm_user_vec(c, m, (size_t)users[b], r, c->U + b * D);
        c->id_scales[b] = c->id_scale;
    }
    /* candidates */
    size_t C = 0;
    const float *V = c->V, *bias = c->bias;
    const float *logq = NULL;
    if (full) {
        C = I;
        if (!m->item_feat && m->p.item_id) {
            V = m->p.item_id;
            bias = m->p.item_bias;
        } else {
            upf_ranker_item_matrix(m, c->V, c->bias);
        }
        for (size_t i = 0; i < I; i++) c->cand[i] = (int32_t)i;
        logq = c->mask;
    } else {
        size_t n_pos = 0;
        for (size_t b = 0; b < B; b++) {
            size_t u = (size_t)users[b];
            for (int64_t e = tr->ptr[u]; e < tr->ptr[u + 1]; e++) {
                n_pos++;
                int32_t i = tr->idx[e];
                if (c->cand_pos[i] < 0 && C < c->Cmax) {
                    c->cand_pos[i] = (int32_t)C;
                    c->cand[C++] = i;
                }
            }
        }
        for (uint32_t k = 0; k < c->p.n_negatives && C < c->Cmax; k++) {
            int32_t i = upf_alias_draw(&c->alias, r);
            if (c->cand_pos[i] < 0) {
                c->cand_pos[i] = (int32_t)C;
                c->cand[C++] = i;
            }
        }
        /* log-Q correction: expected draws of each candidate from the sampler plus
         * its expected appearances as an in-batch positive (Yi et al. 2019). */
        for (size_t k = 0; k < C; k++) {
            int32_t i = c->cand[k];
            double q = (double)c->p.n_negatives * c->alias.p[i] + (double)n_pos * c->pop[i];
            c->logq[k] = (float)(log(q > 1e-30 ? q : 1e-30) - c->p.pop_debias * log(c->pop[i]));
            c->bias[k] = upf_ranker_item_vec(m, (size_t)i, c->V + k * D);
        }
        logq = c->logq;
    }
    /* targets */
    memset(c->Y, 0, B * C * sizeof(float));
    for (size_t b = 0; b < B; b++) {
        size_t u = (size_t)users[b];
        float *y = c->Y + b * C;
        for (int64_t e = tr->ptr[u]; e < tr->ptr[u + 1]; e++) {
            int32_t i = tr->idx[e];
            int32_t slot = full ? i : c->cand_pos[i];
            if (slot >= 0) y[slot] += c->pos_weight ? c->pos_weight[e] : 1.0f;
        }
    }
    double loss;
    upf_softmax_batch(c->U, V, bias, logq, c->Y, B, C, D, (float)c->p.tau, 1.0f / (float)B, c->S, c->gU, c->gV,
                      c->gb, &loss);
    /* user side: id rows directly, attribute rows accumulated */
    c->n_ulist = c->n_ilist = 0;
    const upf_csr *uf = m->user_feat;
    for (size_t b = 0; b < B; b++) {
        size_t u = (size_t)users[b];
        const float *g = c->gU + b * D;
        if (m->p.user_id && c->id_scales[b] != 0.0f) {
            if (c->id_scales[b] != 1.0f) { /* chain rule through the dropout scale (gU row is not reused) */
                float *gs = c->gU + b * D;
                for (size_t k = 0; k < D; k++) gs[k] *= c->id_scales[b];
            }
            upf_opt_update(o, m->p.user_id + u * D, c->s1.user_id ? c->s1.user_id + u * D : NULL,
                           c->s2.user_id ? c->s2.user_id + u * D : NULL, g, D);
            if (c->id_scales[b] != 1.0f) {
                float *gs = c->gU + b * D;
                for (size_t k = 0; k < D; k++) gs[k] /= c->id_scales[b];
            }
        }
        if (!uf) continue;
        for (int64_t e = uf->ptr[u]; e < uf->ptr[u + 1]; e++) {
            const float x = c->uval[e];
            if (x == 0.0f) continue;
            int32_t a = uf->idx[e];
            float *gr = c->gv.user_attr + (size_t)a * D;
            for (size_t k = 0; k < D; k++) gr[k] += x * g[k];
            touch(c->umark, c->ulist, &c->n_ulist, a);
        }
    }
    /* item side */
    const upf_csr *itf = m->item_feat;
    for (size_t k = 0; k < C; k++) {
        size_t i = (size_t)c->cand[k];
        if (c->cold[i]) continue; /* masked out: no gradient, no update */
        const float *g = c->gV + k * D;
        const float gb = c->gb[k];
        if (m->p.item_id) {
            upf_opt_update(o, m->p.item_id + i * D, c->s1.item_id ? c->s1.item_id + i * D : NULL,
                           c->s2.item_id ? c->s2.item_id + i * D : NULL, g, D);
            upf_opt_update(o, m->p.item_bias + i, c->s1.item_bias ? c->s1.item_bias + i : NULL,
                           c->s2.item_bias ? c->s2.item_bias + i : NULL, &gb, 1);
        }
        if (itf) {
            for (int64_t e = itf->ptr[i]; e < itf->ptr[i + 1]; e++) {
                int32_t a = itf->idx[e];
                const float x = itf->val[e];
                float *gr = c->gv.item_attr + (size_t)a * D;
                for (size_t q = 0; q < D; q++) gr[q] += x * g[q];
                c->gv.attr_bias[a] += x * gb;
                touch(c->imark, c->ilist, &c->n_ilist, a);
            }
        }
        if (!full) c->cand_pos[i] = -1;
    }
    for (size_t t = 0; t < c->n_ulist; t++) {
        size_t a = (size_t)c->ulist[t];
        upf_opt_update(o, m->p.user_attr + a * D, c->s1.user_attr ? c->s1.user_attr + a * D : NULL,
                       c->s2.user_attr ? c->s2.user_attr + a * D : NULL, c->gv.user_attr + a * D, D);
        memset(c->gv.user_attr + a * D, 0, D * sizeof(float));
        c->umark[a] = 0;
    }
    for (size_t t = 0; t < c->n_ilist; t++) {
        size_t a = (size_t)c->ilist[t];
        upf_opt_update(o, m->p.item_attr + a * D, c->s1.item_attr ? c->s1.item_attr + a * D : NULL,
                       c->s2.item_attr ? c->s2.item_attr + a * D : NULL, c->gv.item_attr + a * D, D);
        upf_opt_update(o, m->p.attr_bias + a, c->s1.attr_bias ? c->s1.attr_bias + a : NULL,
                       c->s2.attr_bias ? c->s2.attr_bias + a : NULL, c->gv.attr_bias + a, 1);
        memset(c->gv.item_attr + a * D, 0, D * sizeof(float));
        c->gv.attr_bias[a] = 0.0f;
        c->imark[a] = 0;
    }
    return loss;
}

/* ---- the driver ---- */

typedef struct hog_arg {
    upf_pair_ctx *c;
    upf_ranker_model *m;
    upf_rng rng;
    const int32_t *users;
    size_t n_users;
    uint64_t step0, total;
    double loss;
} hog_arg;

static void *hog_main(void *v)
{
    hog_arg *a = v;
    a->loss = upf_pair_epoch(a->c, a->m, &a->rng, a->users, a->n_users, a->step0, a->total, 1);
    return NULL;
}

static upf_status check_params(const upf_ranker_model *m, const upf_csr *train, const upf_ranker_train_params *p,
                               upf_err *err)
{
    if (train->n_rows != m->shape.n_users || train->n_cols != m->shape.n_items)
        return upf_err_set(err, UPF_ERR_ARG, "ranker: train matrix is %zu x %zu, model %zu users x %zu items",
                           train->n_rows, train->n_cols, m->shape.n_users, m->shape.n_items);
    if (upf_csr_nnz(train) <= 0) return upf_err_set(err, UPF_ERR_DATA, "ranker: the train matrix has no entries");
    if ((unsigned)p->loss >= UPF_RANKER_LOSS_COUNT) return upf_err_set(err, UPF_ERR_ARG, "ranker: unknown loss");
    if (p->epochs < 1 || p->eval_every < 1)
        return upf_err_set(err, UPF_ERR_ARG, "ranker: epochs and eval_every must be >= 1");
    if (p->loss == UPF_RANKER_SOFTMAX && p->batch_users < 1)
        return upf_err_set(err, UPF_ERR_ARG, "ranker: batch_users must be >= 1");
    if (!(p->tau > 0)) return upf_err_set(err, UPF_ERR_ARG, "ranker: tau must be > 0 (got %g)", p->tau);
    if (!(p->user_attr_dropout >= 0 && p->user_attr_dropout < 1))
        return upf_err_set(err, UPF_ERR_ARG, "ranker: user_attr_dropout must be in [0, 1) (got %g)",
                           p->user_attr_dropout);
    if (!(p->opt.lr_init > 0)) return upf_err_set(err, UPF_ERR_ARG, "ranker: lr must be > 0");
    if (!(p->pop_debias >= 0 && p->pop_debias <= 10))
        return upf_err_set(err, UPF_ERR_ARG, "ranker: pop_debias must be in [0, 10] (got %g)", p->pop_debias);
    if (!(p->user_id_dropout >= 0 && p->user_id_dropout < 1))
        return upf_err_set(err, UPF_ERR_ARG, "ranker: user_id_dropout must be in [0, 1) (got %g)", p->user_id_dropout);
    if (!(p->ema >= 0 && p->ema < 1)) return upf_err_set(err, UPF_ERR_ARG, "ranker: ema must be in [0, 1) (got %g)", p->ema);
    if (p->threads < 1) return upf_err_set(err, UPF_ERR_ARG, "ranker: threads must be >= 1");
    return UPF_OK;
}

upf_status upf_ranker_train(upf_ranker_model *m, const upf_csr *train, const float *pos_weight,
                            const upf_ranker_train_params *p, const upf_ranker_hooks *h,
                            upf_ranker_train_result *res, upf_err *err)
{
    upf_status st;
    upf_pair_ctx *pc = NULL;
    sm_ctx sm;
    float *good = NULL;
    hog_arg *args = NULL;
    pthread_t *tids = NULL;
    int32_t *users = NULL;
    size_t n_active = 0;
    float *ema = NULL;
    upf_ranker_hooks none = { 0 };
    double t0 = now_s();
    memset(&sm, 0, sizeof sm);
    memset(res, 0, sizeof *res);
    res->best_valid = NAN;
    if (!h) h = &none;
    if ((st = check_params(m, train, p, err)) != UPF_OK) return st;
    /* Items without training positives are never negatives or candidates;
     * their id part starts (and stays) at zero, so they score by attributes. */
    if (m->p.item_id) {
        const int64_t nz = upf_csr_nnz(train);
        uint8_t *seen = upf_calloc(m->shape.n_items, 1);
        if (!seen) return upf_err_set(err, UPF_ERR_NOMEM, "ranker: out of memory");
        for (int64_t e = 0; e < nz; e++) seen[train->idx[e]] = 1;
        for (size_t i = 0; i < m->shape.n_items; i++)
            if (!seen[i]) {
                memset(m->p.item_id + i * m->shape.dim, 0, m->shape.dim * sizeof(float));
                m->p.item_bias[i] = 0.0f;
            }
        upf_free(seen);
    }
    const int softmax = p->loss == UPF_RANKER_SOFTMAX;
    const int64_t nnz = upf_csr_nnz(train);
    if (softmax) st = sm_create(&sm, m, train, pos_weight, p, err);
    else st = upf_pair_ctx_create(m, train, pos_weight, p, &pc, err);
    if (st != UPF_OK) goto done;
    if (!softmax) {
        if (!(users = upf_malloc(train->n_rows * sizeof *users))) {
            st = upf_err_set(err, UPF_ERR_NOMEM, "ranker: out of memory");
            goto done;
        }
        for (size_t u = 0; u < train->n_rows; u++)
            if (train->ptr[u + 1] > train->ptr[u]) users[n_active++] = (int32_t)u;
    }
    /* With validation, a copy of the best parameters (the model early stopping
     * returns, and the state a divergence restores). Without, no copy: peak
     * memory stays model + optimizer state + events, and the last good state
     * is the caller's checkpoint of the last finite epoch (epoch_end hook). */
    size_t bytes = m->n_params * sizeof(float);
    if (h->validate) {
        if (!(good = upf_malloc_aligned(bytes))) {
            st = upf_err_set(err, UPF_ERR_NOMEM, "ranker: out of memory for the best-model copy (%zu bytes)", bytes);
            goto done;
        }
        memcpy(good, m->block, bytes);
    }
    /* The moving average and a model viewing it (what validation and the
     * hooks see when ema is on). */
    upf_ranker_model avg_view = *m;
    const upf_ranker_model *seen = m;
    if (softmax && p->ema > 0) {
        if (!(ema = upf_malloc_aligned(bytes))) {
            st = upf_err_set(err, UPF_ERR_NOMEM, "ranker: out of memory for the moving average (%zu bytes)", bytes);
            goto done;
        }
        memcpy(ema, m->block, bytes);
        avg_view.block = ema;
        upf_ranker_views(&m->shape, ema, &avg_view.p);
        seen = &avg_view;
    }
    uint32_t good_epoch = 0;
    const uint32_t T = softmax ? 1 : p->threads;
    if (T > 1) {
        args = upf_calloc(T, sizeof *args);
        tids = upf_calloc(T, sizeof *tids);
        if (!args || !tids) {
            st = upf_err_set(err, UPF_ERR_NOMEM, "ranker: out of memory");
            goto done;
        }
    }
    const uint64_t steps_per_epoch = softmax ? (sm.n_active + p->batch_users - 1) / p->batch_users : (uint64_t)nnz;
    const uint64_t total_steps = steps_per_epoch * p->epochs;
    uint64_t step = 0;
    upf_rng rng;
    upf_rng_seed(&rng, p->seed, 1);
    uint32_t since_best = 0;
    for (uint32_t ep = 1; ep <= p->epochs; ep++) {
        if (upf_interrupted()) {
            st = upf_err_set(err, UPF_ERR_INTERRUPTED, "ranker: interrupted in epoch %u", ep);
            goto done;
        }
        double loss = 0.0;
        uint64_t ep_step = 0;
        if (softmax) {
            upf_rng_shuffle_i32(&rng, sm.users, sm.n_active);
            for (size_t s = 0; s < sm.n_active; s += p->batch_users, step++, ep_step++) {
                size_t B = sm.n_active - s < p->batch_users ? sm.n_active - s : p->batch_users;
                double lr = upf_lr_at(&p->opt, step, total_steps);
                upf_opt_step o = upf_opt_step_at(&p->opt, lr, step + 1);
                double l = sm_step(&sm, m, sm.users + s, B, &rng, &o);
                if (ema) {
                    const float a = (float)p->ema, b = 1.0f - a;
                    for (size_t k = 0; k < m->n_params; k++) ema[k] = a * ema[k] + b * m->block[k];
                }
                if (!isfinite(l)) {
                    if (good) memcpy(m->block, good, bytes);
                    st = upf_err_set(err, UPF_ERR_NUMERIC,
                                     "ranker: loss is %g at epoch %u step %llu (last finite batch loss sum %g); %s "
                                     "(epoch %u)",
                                     l, ep, (unsigned long long)ep_step, loss,
                                     good ? "the model is restored to its last good state"
                                          : "the last good checkpoint is the one saved after the last finite epoch",
                                     good_epoch);
                    goto done;
                }
                loss += l;
                res->updates += B;
                if ((ep_step & 63) == 63 && upf_interrupted()) break;
            }
            loss /= (double)nnz;
        } else {
            upf_rng_shuffle_i32(&rng, users, n_active);
            if (T == 1) {
                loss = upf_pair_epoch(pc, m, &rng, users, n_active, step, total_steps, 1);
            } else {
                /* Hogwild (Recht et al. 2011): threads update shared rows without
                 * locks, each over a slice of the shuffled users with about the
                 * same number of positives. */
                size_t k = 0;
                uint64_t before = 0;
                for (uint32_t t = 0; t < T; t++) {
                    size_t k0 = k;
                    uint64_t want = (uint64_t)nnz * (t + 1) / T, got = before;
                    while (k < n_active && (got < want || t + 1 == T)) {
                        got += (uint64_t)(train->ptr[users[k] + 1] - train->ptr[users[k]]);
                        k++;
                    }
                    args[t].c = pc;
                    args[t].m = m;
                    upf_rng_seed(&args[t].rng, p->seed, 2 + (uint64_t)ep * T + t);
                    args[t].users = users + k0;
                    args[t].n_users = k - k0;
                    args[t].step0 = step + before;
                    args[t].total = total_steps;
                    before = got;
                }
                uint32_t started = 0;
                for (; started < T; started++)
                    if (pthread_create(&tids[started], NULL, hog_main, &args[started]) != 0) break;
                for (uint32_t t = 0; t < started; t++) {
                    pthread_join(tids[t], NULL);
                    loss += args[t].loss;
                }
                if (started < T) {
                    st = upf_err_set(err, UPF_ERR_IO, "ranker: could not start worker thread %u of %u", started, T);
                    goto done;
                }
            }
            loss /= (double)nnz;
            step += (uint64_t)nnz;
            res->updates += (uint64_t)nnz;
        }
        const char *bad = NULL;
        if (!isfinite(loss) || !upf_ranker_model_finite(seen, &bad)) {
            if (good) memcpy(m->block, good, bytes);
            st = upf_err_set(err, UPF_ERR_NUMERIC, "ranker: %s is not finite after epoch %u (step %llu); %s (epoch %u)",
                             bad ? bad : "the loss", ep, (unsigned long long)step,
                             good ? "the model is restored to its last good state"
                                  : "the last good checkpoint is the one saved after the last finite epoch",
                             good_epoch);
            goto done;
        }
        res->epochs_run = ep;
        res->final_loss = loss;
        double valid = NAN;
        int is_best = 0;
        if (h->validate && (ep % p->eval_every == 0 || ep == p->epochs)) {
            if ((st = h->validate(h->ctx, seen, &valid, err)) != UPF_OK) goto done;
            if (!(valid <= res->best_valid) || isnan(res->best_valid)) {
                if (isnan(res->best_valid) || valid > res->best_valid) {
                    res->best_valid = valid;
                    res->best_epoch = ep;
                    is_best = 1;
                    since_best = 0;
                    memcpy(good, seen->block, bytes);
                    good_epoch = ep;
                }
            }
            if (!is_best) since_best++;
        } else if (!h->validate) {
            good_epoch = ep;
        }
        if (h->epoch_end && (st = h->epoch_end(h->ctx, seen, ep, loss, valid, is_best, err)) != UPF_OK) goto done;
        if (upf_interrupted()) {
            st = upf_err_set(err, UPF_ERR_INTERRUPTED, "ranker: interrupted after epoch %u", ep);
            goto done;
        }
        if (h->validate && p->patience && since_best >= p->patience) break;
    }
    if (h->validate && res->best_epoch) memcpy(m->block, good, bytes);
    else if (ema) memcpy(m->block, ema, bytes);
done:
    res->seconds = now_s() - t0;
    upf_free(args);
    upf_free(tids);
    upf_free(users);
    upf_free_aligned(ema);
    upf_free_aligned(good);
    sm_free(&sm);
    upf_pair_ctx_free(pc);
    return st;
}
