/* serve.c - the serving runtime for rankers and co-occurrence models: id
 * lookups, per-thread scratch, user vectors, top-k (fast: block kernels plus a
 * bounded heap; reference: one item at a time plus sorted insertion) and
 * re-ranking. Allocation-free after upf_scratch_*; the model is only read.
 * Lifetime and uplift scoring are in serve_lifetime.c.
 * Legend: D dim, B rows per kernel block, K cutoff.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "internal.h"
#include "upfserve.h"

#define BLOCK 256
#define SCRATCH_MAGIC 0x55504653435241ull /* "UPFSCRA" */

struct upf_scratch {
    uint64_t magic;
    const upf_model *m;
    void *owned;           /* upf_scratch_create's allocation, or NULL */
    float *uvec;           /* (D) user vector */
    double *acc;           /* (D) its double accumulator */
    float *row;            /* (D) a decoded row; kernel tmp */
    int16_t *uq;           /* (D) the user vector quantized for I8S items */
    float *block;          /* (B) block scores */
    uint64_t *excl;        /* (ceil(n_items / 64)) excluded items */
    uint64_t *seen;        /* cooccur: (ceil(n_items / 64)) items touched; all zero between calls */
    float *dense;          /* cooccur: (n_items) accumulated scores; all zero between calls */
    int32_t *touched;      /* cooccur: (n_items) touched items in first-touch order */
};

/* ---- ids and shape ---- */

int32_t upf_serve_item_index(const upf_model *m, const char *id, size_t len)
{
    return m ? upf_idmap_find(&m->ks.items, m, id, len) : -1;
}
int32_t upf_serve_user_index(const upf_model *m, const char *id, size_t len)
{
    return m ? upf_idmap_find(&m->ks.users, m, id, len) : -1;
}
int32_t upf_serve_attr_index(const upf_model *m, const char *name, size_t len)
{
    return m ? upf_idmap_find(&m->ks.attrs, m, name, len) : -1;
}
int32_t upf_serve_feature_index(const upf_model *m, const char *name, size_t len)
{
    return m ? upf_idmap_find(&m->ks.features, m, name, len) : -1;
}

const char *upf_serve_item_id(const upf_model *m, int32_t i, size_t *len)
{
    *len = 0;
    if (!m || !m->ks.items.ent || i < 0 || (uint32_t)i >= m->ks.items.ent->str_count) return NULL;
    const char *s;
    upf_meta_str_elem(m, m->ks.items.ent, (size_t)i, &s, len);
    return s;
}

void upf_serve_shape_get(const upf_model *m, upf_serve_shape *out)
{
    memset(out, 0, sizeof *out);
    const upf_kind_state *ks = &m->ks;
    out->n_items = ks->n_items;
    out->n_users = ks->n_users;
    out->n_attrs = ks->n_attrs;
    out->dim = ks->dim;
    out->item_dtype = ks->has_item_factors ? ks->item_factors.dtype : 0;
    out->has_item_flags = ks->has_item_flags;
    out->n_features = ks->n_features;
    out->n_arms = ks->n_arms;
}

upf_user_query upf_user_query_default(void)
{
    upf_user_query q;
    memset(&q, 0, sizeof q);
    q.user = -1;
    return q;
}

/* ---- scratch ---- */

static int is_item_kind(const upf_model *m)
{
    return m->info.kind == UPF_KIND_RANKER || m->info.kind == UPF_KIND_COOCCUR;
}

/* Carves the scratch's arrays out of mem (or only sums their sizes when mem is NULL). */
static size_t scratch_layout(const upf_model *m, void *mem, upf_scratch *s)
{
    size_t D = m->ks.dim, n = is_item_kind(m) ? (size_t)m->ks.n_items : 0, words = (n + 63) / 64;
    int co = m->info.kind == UPF_KIND_COOCCUR;
    size_t sizes[9] = { D * sizeof(float), D * sizeof(double), D * sizeof(float), BLOCK * sizeof(float),
                        words * 8, co ? words * 8 : 0, co ? n * sizeof(float) : 0, co ? n * sizeof(int32_t) : 0,
                        D * sizeof(int16_t) };
    void **dst[9] = { (void **)&s->uvec, (void **)&s->acc, (void **)&s->row, (void **)&s->block,
                      (void **)&s->excl, (void **)&s->seen, (void **)&s->dense, (void **)&s->touched,
                      (void **)&s->uq };
    size_t off = UPF_ALIGN_UP(sizeof(upf_scratch), 64);
    for (int i = 0; i < 9; i++) {
        if (mem) *dst[i] = sizes[i] ? (char *)mem + off : NULL;
        off += UPF_ALIGN_UP(sizes[i], 64);
    }
    return off;
}

size_t upf_scratch_size(const upf_model *m)
{
    upf_scratch dummy;
    return scratch_layout(m, NULL, &dummy) + 64; /* + slack to align caller memory */
}

upf_status upf_scratch_init(const upf_model *m, void *mem, size_t size, upf_scratch **out, upf_err *err)
{
    *out = NULL;
    if (!m || !mem) return upf_err_set(err, UPF_ERR_ARG, "scratch: NULL model or memory");
    size_t need = upf_scratch_size(m);
    if (size < need) return upf_err_set(err, UPF_ERR_ARG, "scratch: %zu bytes given, %zu needed", size, need);
    char *base = (char *)mem + ((64 - (uintptr_t)mem % 64) % 64);
    memset(base, 0, need - 64);
    upf_scratch *s = (upf_scratch *)(void *)base;
    scratch_layout(m, base, s);
    s->magic = SCRATCH_MAGIC;
    s->m = m;
    *out = s;
    return UPF_OK;
}

upf_status upf_scratch_create(const upf_model *m, upf_scratch **out, upf_err *err)
{
    *out = NULL;
    if (!m) return upf_err_set(err, UPF_ERR_ARG, "scratch: NULL model");
    size_t n = upf_scratch_size(m);
    void *mem = upf_malloc_aligned(n);
    if (!mem) return upf_err_set(err, UPF_ERR_NOMEM, "scratch: out of memory for %zu bytes", n);
    upf_status st = upf_scratch_init(m, mem, n, out, err);
    if (st) {
        upf_free_aligned(mem);
        return st;
    }
    (*out)->owned = mem;
    return UPF_OK;
}

void upf_scratch_free(upf_scratch *s)
{
    if (s && s->magic == SCRATCH_MAGIC) {
        void *mem = s->owned;
        s->magic = 0;
        upf_free_aligned(mem);
    }
}

/* ---- request checks ---- */

static upf_status check_common(const upf_model *m, const upf_user_query *q, upf_scratch *s, upf_err *err)
{
    if (!m || !q || !s) return upf_err_set(err, UPF_ERR_ARG, "serve: NULL model, query or scratch");
    if (s->magic != SCRATCH_MAGIC || s->m != m)
        return upf_err_set(err, UPF_ERR_ARG, "serve: the scratch was not initialised for this model");
    if (!is_item_kind(m))
        return upf_err_set(err, UPF_ERR_ARG, "serve: a %s model does not rank items", upf_kind_name(m->info.kind));
    const upf_kind_state *ks = &m->ks;
    if ((q->n_attrs && !q->attrs) || (q->n_recent && !q->recent))
        return upf_err_set(err, UPF_ERR_ARG, "serve: NULL attribute or recent-item array");
    if (m->info.kind == UPF_KIND_COOCCUR && (q->user >= 0 || q->n_attrs))
        return upf_err_set(err, UPF_ERR_ARG, "serve: a cooccur model scores from recent items only");
    if (q->user >= ks->n_users || q->user < -1)
        return upf_err_set(err, UPF_ERR_ARG, "serve: user %d out of range [0, %d)%s", q->user, ks->n_users,
                           ks->n_users ? "" : " (the model has no user_factors)");
    for (size_t a = 0; a < q->n_attrs; a++)
        if (q->attrs[a] < 0 || q->attrs[a] >= ks->n_attrs)
            return upf_err_set(err, UPF_ERR_ARG, "serve: attribute %d out of range [0, %d)", q->attrs[a], ks->n_attrs);
    for (size_t r = 0; r < q->n_recent; r++)
        if (q->recent[r] < 0 || q->recent[r] >= ks->n_items)
            return upf_err_set(err, UPF_ERR_ARG, "serve: recent item %d out of range [0, %d)", q->recent[r],
                               ks->n_items);
    return UPF_OK;
}

static upf_status check_filter(const upf_model *m, const upf_filter *f, upf_err *err)
{
    if (!f) return UPF_OK;
    if (f->n_exclude && !f->exclude) return upf_err_set(err, UPF_ERR_ARG, "serve: NULL exclude array");
    if (f->require_flags && !m->ks.has_item_flags)
        return upf_err_set(err, UPF_ERR_ARG, "serve: item flags 0x%x required but the model has no item_flags",
                           f->require_flags);
    if (f->require_flags > 0xFFu)
        return upf_err_set(err, UPF_ERR_ARG, "serve: require_flags 0x%x beyond the 8 flag bits", f->require_flags);
    return UPF_OK;
}

/* ---- user vectors ---- */

static void acc_row(const upf_model *m, upf_scratch *s, const upf_tensor_view *t, int32_t r, double w)
{
    size_t D = m->ks.dim;
    upf_tensor_read_f32(t, (uint64_t)r * D, D, s->row);
    for (size_t d = 0; d < D; d++) s->acc[d] += w * (double)s->row[d];
}

/* double -> float without undefined behaviour beyond the float range:
 * overflow gives +-inf, as IEEE 754 rounding would. */
static float to_float(double x)
{
    if (x > (double)FLT_MAX) return (float)INFINITY;
    if (x < -(double)FLT_MAX) return -(float)INFINITY;
    return (float)x; /* NaN stays NaN */
}

/* Fills s->uvec from q (query already checked). */
static void build_uvec(const upf_model *m, const upf_user_query *q, upf_scratch *s)
{
    const upf_kind_state *ks = &m->ks;
    size_t D = ks->dim;
    /* -0.0 is the additive identity for every double, so a known user alone
     * comes out exactly as stored */
    for (size_t d = 0; d < D; d++) s->acc[d] = -0.0;
    if (q->user >= 0) acc_row(m, s, &ks->user_factors, q->user, 1.0);
    for (size_t a = 0; a < q->n_attrs; a++)
        acc_row(m, s, &ks->user_attr, q->attrs[a], q->attr_weights ? (double)q->attr_weights[a] : 1.0);
    if (q->n_recent) {
        double w = (double)ks->recent_weight / (double)q->n_recent;
        for (size_t r = 0; r < q->n_recent; r++) acc_row(m, s, &ks->item_factors, q->recent[r], w);
    }
    for (size_t d = 0; d < D; d++) s->uvec[d] = to_float(s->acc[d]);
}

upf_status upf_serve_user_vector(const upf_model *m, const upf_user_query *q, upf_scratch *s, float *out,
                                 upf_err *err)
{
    upf_status st = check_common(m, q, s, err);
    if (st) return st;
    if (m->info.kind != UPF_KIND_RANKER) return upf_err_set(err, UPF_ERR_ARG, "serve: user vectors are for rankers");
    build_uvec(m, q, s);
    memcpy(out, s->uvec, m->ks.dim * sizeof *out);
    return UPF_OK;
}

/* ---- block scoring ---- */

static void kern_args(const upf_model *m, upf_scratch *s, upf_kern_args *a, upf_kern_fn *fn, int ref)
{
    const upf_kind_state *ks = &m->ks;
    upf_kernels kref;
    const upf_kernels *k = &m->kern;
    if (ref) {
        upf_kernels_init(&kref, UPF_KERN_REF);
        k = &kref;
    }
    memset(a, 0, sizeof *a);
    a->u = s->uvec;
    a->bias = ks->item_bias.data;
    a->dim = ks->dim;
    a->tmp = s->row;
    *fn = NULL; /* dim 0: bias only */
    if (!ks->dim) return;
    a->rows = ks->item_factors.data;
    a->scales = ks->item_factors.scales;
    a->q_block = ks->item_factors.q_block;
    switch (ks->item_factors.dtype) {
    case UPF_DTYPE_F32: *fn = k->f32; break;
    case UPF_DTYPE_F16: *fn = k->f16; break;
    default:
        if (ks->item_factors.q_block == ks->dim) {
            upf_kern_quant_user(s->uvec, ks->dim, s->uq, &a->u_scale);
            a->uq = s->uq;
            *fn = k->i8;
        } else {
            *fn = k->i8_blocked;
        }
    }
}

static void score_rows(const upf_kern_args *a, upf_kern_fn fn, size_t first, size_t n, float *out)
{
    if (fn) {
        fn(a, first, n, out);
        return;
    }
    for (size_t i = 0; i < n; i++) out[i] = a->bias[first + i] + 0.0f; /* == upf_score_f32(bias, -, -, 0) */
}

/* ---- top-k ---- */

/* a ranks before b: higher score, then lower item index. */
static int hit_better(const upf_hit *a, const upf_hit *b)
{
    return a->score > b->score || (a->score == b->score && a->item < b->item);
}

static int hit_cmp_best_first(const void *x, const void *y, void *ctx)
{
    (void)ctx;
    const upf_hit *a = x, *b = y;
    return hit_better(a, b) ? -1 : hit_better(b, a) ? 1 : 0;
}

/* Min-heap on "better": the root is the worst hit kept. */
static void heap_sift_down(upf_hit *h, size_t n, size_t i)
{
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) return;
        if (c + 1 < n && hit_better(&h[c], &h[c + 1])) c++;
        if (!hit_better(&h[i], &h[c])) return;
        upf_hit t = h[i];
        h[i] = h[c];
        h[c] = t;
        i = c;
    }
}

static void heap_push(upf_hit *h, size_t *n, upf_hit x)
{
    size_t i = (*n)++;
    h[i] = x;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!hit_better(&h[p], &h[i])) return;
        upf_hit t = h[p];
        h[p] = h[i];
        h[i] = t;
        i = p;
    }
}

static void set_exclusions(const upf_model *m, upf_scratch *s, const upf_filter *f)
{
    size_t words = ((size_t)m->ks.n_items + 63) / 64;
    memset(s->excl, 0, words * 8);
    if (!f) return;
    for (size_t i = 0; i < f->n_exclude; i++) {
        int32_t it = f->exclude[i];
        if (it >= 0 && it < m->ks.n_items) s->excl[(size_t)it / 64] |= 1ull << ((size_t)it % 64);
    }
}

static int eligible(const upf_model *m, const upf_scratch *s, const upf_filter *f, int32_t i)
{
    if (s->excl[(size_t)i / 64] >> ((size_t)i % 64) & 1u) return 0;
    if (f && f->require_flags) {
        uint8_t fl = ((const uint8_t *)m->ks.item_flags.data)[i];
        if ((fl & f->require_flags) != f->require_flags) return 0;
    }
    return 1;
}

/* Co-occurrence: scatter sum_r sim(recent[r], .) into s->dense; returns the
 * number of touched items (listed in s->touched). */
static size_t cooccur_accumulate(const upf_model *m, const upf_user_query *q, upf_scratch *s)
{
    const upf_kind_state *ks = &m->ks;
    size_t nt = 0;
    for (size_t r = 0; r < q->n_recent; r++) {
        int32_t j = q->recent[r];
        for (int64_t k = ks->nb_ptr[j]; k < ks->nb_ptr[j + 1]; k++) {
            int32_t i = ks->nb_idx[k];
            uint64_t bit = 1ull << ((size_t)i % 64);
            if (!(s->seen[(size_t)i / 64] & bit)) {
                s->seen[(size_t)i / 64] |= bit;
                s->touched[nt++] = i;
            }
            s->dense[i] += ks->nb_sim[k];
        }
    }
    return nt;
}

static void cooccur_reset(upf_scratch *s, size_t nt)
{
    for (size_t t = 0; t < nt; t++) {
        int32_t i = s->touched[t];
        s->dense[i] = 0.0f;
        s->seen[(size_t)i / 64] = 0;
    }
}

upf_status upf_serve_topk(const upf_model *m, const upf_user_query *q, const upf_filter *f, size_t k,
                          upf_scratch *s, upf_hit *out, size_t *n_out, upf_err *err)
{
    *n_out = 0;
    upf_status st = check_common(m, q, s, err);
    if (st || (st = check_filter(m, f, err))) return st;
    if (k && !out) return upf_err_set(err, UPF_ERR_ARG, "serve: NULL output array");
    set_exclusions(m, s, f);
    size_t c = 0;
    if (m->info.kind == UPF_KIND_COOCCUR) {
        size_t nt = cooccur_accumulate(m, q, s);
        for (size_t t = 0; t < nt && k; t++) {
            int32_t i = s->touched[t];
            upf_hit h = { i, s->dense[i] };
            if (h.score != h.score || !eligible(m, s, f, i)) continue;
            if (c < k) heap_push(out, &c, h);
            else if (hit_better(&h, &out[0])) {
                out[0] = h;
                heap_sift_down(out, c, 0);
            }
        }
        cooccur_reset(s, nt);
    } else if (k) {
        upf_kern_args a;
        upf_kern_fn fn;
        if (m->ks.dim) build_uvec(m, q, s);
        kern_args(m, s, &a, &fn, 0);
        size_t n = (size_t)m->ks.n_items;
        for (size_t b0 = 0; b0 < n; b0 += BLOCK) {
            size_t nb = n - b0 < BLOCK ? n - b0 : BLOCK;
            score_rows(&a, fn, b0, nb, s->block);
            for (size_t j = 0; j < nb; j++) {
                float sc = s->block[j];
                int32_t i = (int32_t)(b0 + j);
                if (c < k) {
                    if (sc == sc && eligible(m, s, f, i)) heap_push(out, &c, (upf_hit){ i, sc });
                } else if (sc > out[0].score && eligible(m, s, f, i)) {
                    /* items arrive in increasing index, so an equal score never wins */
                    out[0] = (upf_hit){ i, sc };
                    heap_sift_down(out, c, 0);
                }
            }
        }
    }
    upf_heapsort(out, c, sizeof *out, hit_cmp_best_first, NULL);
    *n_out = c;
    return UPF_OK;
}

/* Reference: every item scored alone with the reference kernels (or, for
 * co-occurrence, by scanning the neighbour lists per item), kept in a sorted
 * array by insertion. O(n_items * k); for tests. */
upf_status upf_serve_topk_ref(const upf_model *m, const upf_user_query *q, const upf_filter *f, size_t k,
                              upf_scratch *s, upf_hit *out, size_t *n_out, upf_err *err)
{
    *n_out = 0;
    upf_status st = check_common(m, q, s, err);
    if (st || (st = check_filter(m, f, err))) return st;
    if (k && !out) return upf_err_set(err, UPF_ERR_ARG, "serve: NULL output array");
    set_exclusions(m, s, f);
    const upf_kind_state *ks = &m->ks;
    upf_kern_args a;
    upf_kern_fn fn = NULL;
    if (m->info.kind == UPF_KIND_RANKER) {
        if (ks->dim) build_uvec(m, q, s);
        kern_args(m, s, &a, &fn, 1);
    }
    size_t c = 0;
    for (int32_t i = 0; i < ks->n_items && k; i++) {
        float sc = 0.0f;
        int hit = 1;
        if (m->info.kind == UPF_KIND_COOCCUR) {
            hit = 0;
            for (size_t r = 0; r < q->n_recent; r++)
                for (int64_t e = ks->nb_ptr[q->recent[r]]; e < ks->nb_ptr[q->recent[r] + 1]; e++)
                    if (ks->nb_idx[e] == i) {
                        sc += ks->nb_sim[e];
                        hit = 1;
                    }
        } else {
            score_rows(&a, fn, (size_t)i, 1, &sc);
        }
        if (!hit || sc != sc || !eligible(m, s, f, i)) continue;
        upf_hit h = { i, sc };
        size_t pos = c;
        while (pos > 0 && hit_better(&h, &out[pos - 1])) pos--;
        if (pos >= k) continue;
        size_t last = c < k ? c : k - 1;
        memmove(out + pos + 1, out + pos, (last - pos) * sizeof *out);
        out[pos] = h;
        if (c < k) c++;
    }
    *n_out = c;
    return UPF_OK;
}

upf_status upf_serve_score_items(const upf_model *m, const upf_user_query *q, const int32_t *items, size_t n,
                                 upf_scratch *s, float *out, upf_err *err)
{
    upf_status st = check_common(m, q, s, err);
    if (st) return st;
    if (n && (!items || !out)) return upf_err_set(err, UPF_ERR_ARG, "serve: NULL item or output array");
    for (size_t i = 0; i < n; i++)
        if (items[i] < 0 || items[i] >= m->ks.n_items)
            return upf_err_set(err, UPF_ERR_ARG, "serve: item %d (position %zu) out of range [0, %d)", items[i], i,
                               m->ks.n_items);
    if (m->info.kind == UPF_KIND_COOCCUR) {
        size_t nt = cooccur_accumulate(m, q, s);
        for (size_t i = 0; i < n; i++) out[i] = s->dense[items[i]];
        cooccur_reset(s, nt);
        return UPF_OK;
    }
    upf_kern_args a;
    upf_kern_fn fn;
    if (m->ks.dim) build_uvec(m, q, s);
    kern_args(m, s, &a, &fn, 0);
    for (size_t i = 0; i < n; i++) score_rows(&a, fn, (size_t)items[i], 1, &out[i]);
    return UPF_OK;
}
