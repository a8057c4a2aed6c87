/* ranker_model.c - the ranker's parameter block: layout, init, vector
 * composition from id and attribute parts, and back-propagation of vector
 * gradients to those parts. Plain loops only; batched scoring with BLAS lives
 * in ranker_loss.c. Entry points: upf_ranker_model_create / _init /
 * upf_ranker_user_vec / upf_ranker_item_vec / upf_ranker_*_backward. */
#include "ranker_model.h"

#include <math.h>
#include <string.h>

/* ---- layout ---- */

/* Appends a view of n floats at *off (16-float aligned) and returns its offset,
 * or SIZE_MAX when n is 0 (the view is then NULL). *ok turns 0 on overflow. */
static size_t take(size_t *off, size_t n, int *ok)
{
    if (n == 0) return SIZE_MAX;
    size_t at = *off, end;
    if (upf_add_size(at, n, &end) || end > SIZE_MAX - 16) {
        *ok = 0;
        return SIZE_MAX;
    }
    *off = UPF_ALIGN_UP(end, 16);
    return at;
}

typedef struct layout {
    size_t user_id, item_id, user_attr, item_attr, item_bias, attr_bias, total;
} layout;

static int compute_layout(const upf_ranker_shape *s, layout *l)
{
    int ok = 1;
    size_t off = 0, n;
    n = 0;
    if (s->use_user_id && upf_mul_size(s->n_users, s->dim, &n)) return 0;
    l->user_id = take(&off, n, &ok);
    n = 0;
    if (s->use_item_id && upf_mul_size(s->n_items, s->dim, &n)) return 0;
    l->item_id = take(&off, n, &ok);
    if (upf_mul_size(s->n_user_attrs, s->dim, &n)) return 0;
    l->user_attr = take(&off, n, &ok);
    if (upf_mul_size(s->n_item_attrs, s->dim, &n)) return 0;
    l->item_attr = take(&off, n, &ok);
    l->item_bias = take(&off, s->use_item_id ? s->n_items : 0, &ok);
    l->attr_bias = take(&off, s->n_item_attrs, &ok);
    l->total = off;
    return ok;
}

size_t upf_ranker_block_len(const upf_ranker_shape *s)
{
    layout l;
    if (!compute_layout(s, &l)) return 0;
    return l.total;
}

void upf_ranker_views(const upf_ranker_shape *s, float *base, upf_ranker_view *v)
{
    layout l;
    memset(v, 0, sizeof *v);
    if (!base || !compute_layout(s, &l)) return;
#define VIEW(f) v->f = l.f == SIZE_MAX ? NULL : base + l.f
    VIEW(user_id);
    VIEW(item_id);
    VIEW(user_attr);
    VIEW(item_attr);
    VIEW(item_bias);
    VIEW(attr_bias);
#undef VIEW
}

/* ---- lifecycle ---- */

upf_status upf_ranker_model_create(const upf_ranker_shape *s, const upf_csr *user_feat,
                                   const upf_csr *item_feat, upf_ranker_model **out, upf_err *err)
{
    upf_status st = UPF_OK;
    upf_ranker_model *m = NULL;
    *out = NULL;
    if (!s || s->n_users == 0 || s->n_items == 0 || s->dim == 0)
        return upf_err_set(err, UPF_ERR_ARG, "ranker model: empty shape (users %zu, items %zu, dim %zu)",
                           s ? s->n_users : 0, s ? s->n_items : 0, s ? s->dim : 0);
    if (s->n_items > INT32_MAX || s->n_users > INT32_MAX)
        return upf_err_set(err, UPF_ERR_ARG, "ranker model: %zu users x %zu items exceeds int32 indices",
                           s->n_users, s->n_items);
    if (s->n_user_attrs && (!user_feat || user_feat->n_rows != s->n_users || user_feat->n_cols != s->n_user_attrs))
        return upf_err_set(err, UPF_ERR_ARG, "ranker model: user features must be (%zu, %zu)", s->n_users,
                           s->n_user_attrs);
    if (s->n_item_attrs && (!item_feat || item_feat->n_rows != s->n_items || item_feat->n_cols != s->n_item_attrs))
        return upf_err_set(err, UPF_ERR_ARG, "ranker model: item features must be (%zu, %zu)", s->n_items,
                           s->n_item_attrs);
    if (!s->use_user_id && s->n_user_attrs == 0)
        return upf_err_set(err, UPF_ERR_ARG, "ranker model: user_id is off and there are no user attributes");
    if (!s->use_item_id && s->n_item_attrs == 0)
        return upf_err_set(err, UPF_ERR_ARG, "ranker model: item_id is off and there are no item attributes");
    size_t n = upf_ranker_block_len(s), bytes;
    if (n == 0 || upf_mul_size(n, sizeof(float), &bytes))
        return upf_err_set(err, UPF_ERR_ARG, "ranker model: parameter block size overflows");
    if (!(m = upf_calloc(1, sizeof *m))) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "ranker model: out of memory");
        goto done;
    }
    m->shape = *s;
    m->n_params = n;
    if (!(m->block = upf_malloc_aligned(bytes))) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "ranker model: out of memory for %zu parameters", n);
        goto done;
    }
    upf_advise_huge(m->block, bytes); /* before the first touch */
    memset(m->block, 0, bytes);
    upf_ranker_views(s, m->block, &m->p);
    m->user_feat = s->n_user_attrs ? user_feat : NULL;
    m->item_feat = s->n_item_attrs ? item_feat : NULL;
    *out = m;
    m = NULL;
done:
    upf_ranker_model_free(m);
    return st;
}

void upf_ranker_model_free(upf_ranker_model *m)
{
    if (!m) return;
    upf_free_aligned(m->block);
    upf_free(m);
}

void upf_ranker_model_init(upf_ranker_model *m, double init_std, uint64_t seed)
{
    const upf_ranker_shape *s = &m->shape;
    upf_rng r;
    upf_rng_seed(&r, seed, 0x52414E4Bu); /* "RANK": the init stream */
    memset(m->block, 0, m->n_params * sizeof(float));
    float *parts[4] = { m->p.user_id, m->p.item_id, m->p.user_attr, m->p.item_attr };
    size_t rows[4] = { s->n_users, s->n_items, s->n_user_attrs, s->n_item_attrs };
    for (int k = 0; k < 4; k++) {
        if (!parts[k]) continue;
        size_t n = rows[k] * s->dim;
        for (size_t j = 0; j < n; j++) parts[k][j] = (float)(init_std * upf_rng_normal(&r));
    }
}

/* ---- composition ---- */

void upf_ranker_user_vec(const upf_ranker_model *m, size_t u, float *out)
{
    const size_t d = m->shape.dim;
    if (m->p.user_id) memcpy(out, m->p.user_id + u * d, d * sizeof(float));
    else memset(out, 0, d * sizeof(float));
    const upf_csr *f = m->user_feat;
    if (!f) return;
    for (int64_t e = f->ptr[u]; e < f->ptr[u + 1]; e++) {
        const float x = f->val[e], *a = m->p.user_attr + (size_t)f->idx[e] * d;
        for (size_t k = 0; k < d; k++) out[k] += x * a[k];
    }
}

float upf_ranker_item_vec(const upf_ranker_model *m, size_t i, float *out)
{
    const size_t d = m->shape.dim;
    float b = 0.0f;
    if (m->p.item_id) {
        memcpy(out, m->p.item_id + i * d, d * sizeof(float));
        b = m->p.item_bias[i];
    } else {
        memset(out, 0, d * sizeof(float));
    }
    const upf_csr *f = m->item_feat;
    if (!f) return b;
    for (int64_t e = f->ptr[i]; e < f->ptr[i + 1]; e++) {
        const size_t a = (size_t)f->idx[e];
        const float x = f->val[e], *row = m->p.item_attr + a * d;
        for (size_t k = 0; k < d; k++) out[k] += x * row[k];
        b += x * m->p.attr_bias[a];
    }
    return b;
}

void upf_ranker_user_matrix(const upf_ranker_model *m, float *out)
{
    for (size_t u = 0; u < m->shape.n_users; u++) upf_ranker_user_vec(m, u, out + u * m->shape.dim);
}

void upf_ranker_item_matrix(const upf_ranker_model *m, float *vecs, float *bias)
{
    for (size_t i = 0; i < m->shape.n_items; i++) {
        float b = upf_ranker_item_vec(m, i, vecs + i * m->shape.dim);
        if (bias) bias[i] = b;
    }
}

/* ---- backward ---- */

void upf_ranker_user_backward(const upf_ranker_model *m, const upf_ranker_view *gv, size_t u,
                              const float *g, float scale)
{
    const size_t d = m->shape.dim;
    if (gv->user_id) {
        float *r = gv->user_id + u * d;
        for (size_t k = 0; k < d; k++) r[k] += scale * g[k];
    }
    const upf_csr *f = m->user_feat;
    if (!f) return;
    for (int64_t e = f->ptr[u]; e < f->ptr[u + 1]; e++) {
        const float x = scale * f->val[e];
        float *r = gv->user_attr + (size_t)f->idx[e] * d;
        for (size_t k = 0; k < d; k++) r[k] += x * g[k];
    }
}

void upf_ranker_item_backward(const upf_ranker_model *m, const upf_ranker_view *gv, size_t i,
                              const float *g, float gb, float scale)
{
    const size_t d = m->shape.dim;
    if (gv->item_id) {
        float *r = gv->item_id + i * d;
        for (size_t k = 0; k < d; k++) r[k] += scale * g[k];
        gv->item_bias[i] += scale * gb;
    }
    const upf_csr *f = m->item_feat;
    if (!f) return;
    for (int64_t e = f->ptr[i]; e < f->ptr[i + 1]; e++) {
        const size_t a = (size_t)f->idx[e];
        const float x = scale * f->val[e];
        float *r = gv->item_attr + a * d;
        for (size_t k = 0; k < d; k++) r[k] += x * g[k];
        gv->attr_bias[a] += x * gb;
    }
}

int upf_ranker_model_finite(const upf_ranker_model *m, const char **where)
{
    static const char *const names[6] = { "user_id", "item_id", "user_attr", "item_attr", "item_bias", "attr_bias" };
    const upf_ranker_shape *s = &m->shape;
    const float *parts[6] = { m->p.user_id, m->p.item_id, m->p.user_attr, m->p.item_attr, m->p.item_bias, m->p.attr_bias };
    size_t lens[6] = { s->n_users * s->dim, s->n_items * s->dim, s->n_user_attrs * s->dim,
                       s->n_item_attrs * s->dim, s->n_items, s->n_item_attrs };
    for (int k = 0; k < 6; k++) {
        if (!parts[k]) continue;
        for (size_t j = 0; j < lens[k]; j++)
            if (!isfinite(parts[k][j])) {
                if (where) *where = names[k];
                return 0;
            }
    }
    if (where) *where = NULL;
    return 1;
}
