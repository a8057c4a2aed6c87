/* kinds.c - the table of what each model kind stores (kinds.h) and the checks
 * that run at open: required tensors and metadata with their types, shapes
 * that agree with each other, and values the runtime will index with
 * (co-occurrence neighbours) or divide by (feature scales). Also fills the
 * model's serving state (views, parameters, id maps).
 * Not here: scoring (serve*.c) or format-level checks (modelfile.c).
 */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "kinds.h"

#define DT(x) (1u << UPF_DTYPE_##x)
#define FLOATS (DT(F32) | DT(F16) | DT(I8S))

static const upf_kind_tensor_spec ranker_tensors[] = {
    { UPF_T_ITEM_BIAS, DT(F32), UPF_KIND_REQUIRED },
    { UPF_T_ITEM_FACTORS, FLOATS, UPF_KIND_OPTIONAL }, /* required when ranker.dim > 0 */
    { UPF_T_USER_FACTORS, FLOATS, UPF_KIND_OPTIONAL },
    { UPF_T_USER_ATTR_FACTORS, FLOATS, UPF_KIND_OPTIONAL },
    { UPF_T_ITEM_FLAGS, DT(U8), UPF_KIND_OPTIONAL },
    { NULL, 0, 0 },
};
static const upf_kind_meta_spec ranker_meta[] = {
    { UPF_M_DIM, UPF_META_U64, UPF_KIND_REQUIRED },
    { UPF_M_RECENT_WEIGHT, UPF_META_F64, UPF_KIND_OPTIONAL },
    { UPF_M_ITEM_IDS, UPF_META_STR_ARRAY, UPF_KIND_REQUIRED },
    { UPF_M_USER_IDS, UPF_META_STR_ARRAY, UPF_KIND_OPTIONAL },
    { UPF_M_USER_ATTR_NAMES, UPF_META_STR_ARRAY, UPF_KIND_OPTIONAL },
    { NULL, 0, 0 },
};
static const upf_kind_tensor_spec cooccur_tensors[] = {
    { UPF_T_NEIGHBOR_PTR, DT(I64), UPF_KIND_REQUIRED },
    { UPF_T_NEIGHBOR_IDX, DT(I32), UPF_KIND_REQUIRED },
    { UPF_T_NEIGHBOR_SIM, DT(F32), UPF_KIND_REQUIRED },
    { UPF_T_ITEM_FLAGS, DT(U8), UPF_KIND_OPTIONAL },
    { NULL, 0, 0 },
};
static const upf_kind_meta_spec cooccur_meta[] = {
    { UPF_M_ITEM_IDS, UPF_META_STR_ARRAY, UPF_KIND_REQUIRED },
    { NULL, 0, 0 },
};
static const upf_kind_tensor_spec no_tensors[] = { { NULL, 0, 0 } };
static const upf_kind_meta_spec aft_meta[] = {
    { UPF_M_AFT_DIST, UPF_META_STR, UPF_KIND_REQUIRED },
    { UPF_M_AFT_BETA, UPF_META_F64_ARRAY, UPF_KIND_REQUIRED },
    { UPF_M_AFT_LOG_SIGMA, UPF_META_F64, UPF_KIND_REQUIRED },
    { UPF_M_AFT_FEATURES, UPF_META_STR_ARRAY, UPF_KIND_REQUIRED },
    { UPF_M_AFT_CENTER, UPF_META_F64_ARRAY, UPF_KIND_REQUIRED },
    { UPF_M_AFT_SCALE, UPF_META_F64_ARRAY, UPF_KIND_REQUIRED },
    { UPF_M_AFT_HORIZON, UPF_META_F64, UPF_KIND_REQUIRED },
    { UPF_M_AFT_TARGET, UPF_META_STR, UPF_KIND_OPTIONAL },
    { NULL, 0, 0 },
};
static const upf_kind_meta_spec bgnbd_meta[] = {
    { UPF_M_BGNBD_R, UPF_META_F64, UPF_KIND_REQUIRED },
    { UPF_M_BGNBD_ALPHA, UPF_META_F64, UPF_KIND_REQUIRED },
    { UPF_M_BGNBD_A, UPF_META_F64, UPF_KIND_REQUIRED },
    { UPF_M_BGNBD_B, UPF_META_F64, UPF_KIND_REQUIRED },
    { UPF_M_GG_P, UPF_META_F64, UPF_KIND_OPTIONAL },
    { UPF_M_GG_Q, UPF_META_F64, UPF_KIND_OPTIONAL },
    { UPF_M_GG_GAMMA, UPF_META_F64, UPF_KIND_OPTIONAL },
    { NULL, 0, 0 },
};
static const upf_kind_tensor_spec uplift_tensors[] = {
    { UPF_T_UPLIFT_WEIGHTS, DT(F32), UPF_KIND_REQUIRED },
    { NULL, 0, 0 },
};
static const upf_kind_meta_spec uplift_meta[] = {
    { UPF_M_UPLIFT_METHOD, UPF_META_STR, UPF_KIND_REQUIRED },
    { UPF_M_UPLIFT_ARMS, UPF_META_STR_ARRAY, UPF_KIND_REQUIRED },
    { UPF_M_UPLIFT_OUTCOME, UPF_META_STR, UPF_KIND_OPTIONAL },
    { UPF_M_AFT_FEATURES, UPF_META_STR_ARRAY, UPF_KIND_REQUIRED },
    { UPF_M_AFT_CENTER, UPF_META_F64_ARRAY, UPF_KIND_REQUIRED },
    { UPF_M_AFT_SCALE, UPF_META_F64_ARRAY, UPF_KIND_REQUIRED },
    { NULL, 0, 0 },
};
/* Keys every kind may carry (kinds.h "Common metadata"); eval.* is open-ended. */
static const upf_kind_meta_spec common_meta[] = {
    { "model.family", UPF_META_STR, 0 }, { "model.name", UPF_META_STR, 0 },
    { "train.seed", UPF_META_U64, 0 }, { "train.config_yaml", UPF_META_STR, 0 },
    { "train.epochs", UPF_META_U64, 0 }, { "train.final_loss", UPF_META_F64, 0 },
    { "data.time_min", UPF_META_I64, 0 }, { "data.time_max", UPF_META_I64, 0 },
    { "data.path", UPF_META_STR, 0 }, { "provenance.created_unix", UPF_META_I64, 0 },
    { "provenance.git_rev", UPF_META_STR, 0 }, { UPF_M_EXPORT_DTYPE, UPF_META_STR, 0 },
    { UPF_M_EXPORT_SOURCE_CRC, UPF_META_U64, 0 }, { UPF_M_EXPORT_SOURCE_SIZE, UPF_META_U64, 0 },
    { NULL, 0, 0 },
};

static const upf_kind_spec specs[] = {
    { UPF_KIND_RANKER, "ranker", ranker_tensors, ranker_meta },
    { UPF_KIND_LIFETIME_AFT, "lifetime_aft", no_tensors, aft_meta },
    { UPF_KIND_LIFETIME_BGNBD, "lifetime_bgnbd", no_tensors, bgnbd_meta },
    { UPF_KIND_UPLIFT, "uplift", uplift_tensors, uplift_meta },
    { UPF_KIND_COOCCUR, "cooccur", cooccur_tensors, cooccur_meta },
};

const upf_kind_spec *upf_kind_spec_find(uint32_t kind)
{
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
        if (specs[i].kind == kind) return &specs[i];
    return NULL;
}

int upf_kind_tensor_allows(uint32_t kind, const char *name, uint32_t dtype)
{
    const upf_kind_spec *k = upf_kind_spec_find(kind);
    if (!k || dtype >= 32) return 0;
    for (const upf_kind_tensor_spec *t = k->tensors; t->name; t++)
        if (strcmp(t->name, name) == 0) return (t->dtypes >> dtype) & 1u;
    return 0;
}

static int key_in(const upf_kind_meta_spec *t, const uint8_t *key, size_t len)
{
    for (; t->key; t++)
        if (strlen(t->key) == len && memcmp(t->key, key, len) == 0) return 1;
    return 0;
}

int upf_kind_key_known(uint32_t kind, const uint8_t *key, size_t len)
{
    if (key_in(common_meta, key, len) || (len > 5 && memcmp(key, "eval.", 5) == 0)) return 1;
    const upf_kind_spec *k = upf_kind_spec_find(kind);
    return k && key_in(k->meta, key, len);
}

/* ---- helpers ---- */

#define ULL(x) ((unsigned long long)(x))

static upf_status kfail(const upf_model *m, upf_err *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static upf_status kfail(const upf_model *m, upf_err *err, const char *fmt, ...)
{
    char msg[UPF_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return upf_err_set(err, UPF_ERR_FORMAT, "%s: %s model: %s", m->path, upf_kind_name(m->info.kind), msg);
}

static int tensor_get(const upf_model *m, const char *name, upf_tensor_view *v)
{
    return upf_model_tensor(m, name, v, NULL) == UPF_OK;
}

static const char *shape_str(const upf_tensor_view *v, char *buf, size_t n)
{
    int off = snprintf(buf, n, "(");
    for (uint32_t d = 0; d < v->ndim && off > 0 && (size_t)off < n; d++)
        off += snprintf(buf + off, n - (size_t)off, d ? ", %llu" : "%llu", ULL(v->dims[d]));
    if (off > 0 && (size_t)off < n) snprintf(buf + off, n - (size_t)off, ")");
    return buf;
}

/* Tensor `name` must have ndim dims equal to want (0 in want: any, stored to got). */
static upf_status want_shape(const upf_model *m, const upf_tensor_view *v, uint32_t ndim, const uint64_t *want,
                             const char *expect, upf_err *err)
{
    int ok = v->ndim == ndim;
    for (uint32_t d = 0; ok && d < ndim; d++) ok = want[d] == UINT64_MAX || v->dims[d] == want[d];
    if (ok) return UPF_OK;
    char b[96];
    return kfail(m, err, "tensor '%s' has shape %s (expected %s)", v->name, shape_str(v, b, sizeof b), expect);
}

static upf_status f64_pos(const upf_model *m, const char *key, double *v, int required, double dflt, upf_err *err)
{
    if (upf_model_meta_f64(m, key, v) != UPF_OK) {
        if (required) return kfail(m, err, "metadata '%s' (F64) is missing", key);
        *v = dflt;
        return UPF_OK;
    }
    if (!isfinite(*v) || !(*v > 0.0)) return kfail(m, err, "metadata '%s' = %g (expected finite and > 0)", key, *v);
    return UPF_OK;
}

static int str_is(const upf_model *m, const char *key, const char *want)
{
    const char *s;
    size_t n;
    return upf_model_meta_str(m, key, &s, &n) == UPF_OK && n == strlen(want) && memcmp(s, want, n) == 0;
}

static size_t str_array_count(const upf_model *m, const char *key)
{
    const upf_meta_ent *e = upf_model_find_meta(m, key);
    return e && e->vtype == UPF_META_STR_ARRAY ? e->str_count : 0;
}

/* The table pass: presence and types. */
static upf_status check_table(const upf_model *m, const upf_kind_spec *k, upf_err *err)
{
    for (const upf_kind_tensor_spec *t = k->tensors; t->name; t++) {
        upf_tensor_view v;
        if (!tensor_get(m, t->name, &v)) {
            if (t->required) return kfail(m, err, "required tensor '%s' is missing", t->name);
            continue;
        }
        if (!((t->dtypes >> v.dtype) & 1u))
            return kfail(m, err, "tensor '%s' is stored as %s, which this kind does not allow", t->name,
                         upf_dtype_name(v.dtype));
    }
    for (const upf_kind_meta_spec *s = k->meta; s->key; s++) {
        const upf_meta_ent *e = upf_model_find_meta(m, s->key);
        if (!e) {
            if (s->required) return kfail(m, err, "required metadata '%s' is missing", s->key);
            continue;
        }
        if (e->vtype != s->vtype)
            return kfail(m, err, "metadata '%s' has value type %u (expected %u)", s->key, e->vtype, s->vtype);
    }
    return UPF_OK;
}

/* features.names / center / scale, shared by AFT and uplift. */
static upf_status check_features(upf_model *m, upf_err *err)
{
    upf_kind_state *ks = &m->ks;
    size_t nc, ns;
    ks->n_features = str_array_count(m, UPF_M_AFT_FEATURES);
    upf_model_meta_f64_array(m, UPF_M_AFT_CENTER, &ks->center, &nc);
    upf_model_meta_f64_array(m, UPF_M_AFT_SCALE, &ks->scale, &ns);
    if (nc != ks->n_features || ns != ks->n_features)
        return kfail(m, err, "features.center has %zu and features.scale %zu values (expected %zu, one per "
                     "features.names)", nc, ns, ks->n_features);
    for (size_t i = 0; i < ks->n_features; i++)
        if (!isfinite(ks->center[i]) || !isfinite(ks->scale[i]) || !(ks->scale[i] > 0.0))
            return kfail(m, err, "feature %zu: center %g, scale %g (expected finite, scale > 0)", i, ks->center[i],
                         ks->scale[i]);
    return upf_idmap_build(&ks->features, m, upf_model_find_meta(m, UPF_M_AFT_FEATURES), "feature name", err);
}

/* ---- per kind ---- */

static upf_status check_ranker(upf_model *m, upf_err *err)
{
    upf_kind_state *ks = &m->ks;
    uint64_t dim;
    upf_model_meta_u64(m, UPF_M_DIM, &dim);
    if (dim > (1u << 20)) return kfail(m, err, "ranker.dim = %llu (expected <= %u)", ULL(dim), 1u << 20);
    ks->dim = (size_t)dim;
    tensor_get(m, UPF_T_ITEM_BIAS, &ks->item_bias);
    if (ks->item_bias.ndim != 1 || ks->item_bias.dims[0] < 1 || ks->item_bias.dims[0] > INT32_MAX)
        return kfail(m, err, "tensor 'item_bias' must be 1-D with 1..%d items", INT32_MAX);
    ks->n_items = (int32_t)ks->item_bias.dims[0];
    uint64_t ni = (uint64_t)ks->n_items;
    char expect[96];
    upf_status st;
    ks->has_item_factors = tensor_get(m, UPF_T_ITEM_FACTORS, &ks->item_factors);
    ks->has_user_factors = tensor_get(m, UPF_T_USER_FACTORS, &ks->user_factors);
    ks->has_user_attr = tensor_get(m, UPF_T_USER_ATTR_FACTORS, &ks->user_attr);
    ks->has_item_flags = tensor_get(m, UPF_T_ITEM_FLAGS, &ks->item_flags);
    if (dim == 0 && (ks->has_item_factors || ks->has_user_factors || ks->has_user_attr))
        return kfail(m, err, "ranker.dim is 0 (bias only) but factor tensors are present");
    if (dim > 0) {
        if (!ks->has_item_factors) return kfail(m, err, "required tensor 'item_factors' is missing (ranker.dim > 0)");
        snprintf(expect, sizeof expect, "(n_items = %llu, ranker.dim = %llu)", ULL(ni), ULL(dim));
        if ((st = want_shape(m, &ks->item_factors, 2, (const uint64_t[]){ ni, dim }, expect, err))) return st;
    }
    if (ks->has_user_factors) {
        snprintf(expect, sizeof expect, "(n_users, ranker.dim = %llu)", ULL(dim));
        if ((st = want_shape(m, &ks->user_factors, 2, (const uint64_t[]){ UINT64_MAX, dim }, expect, err))) return st;
        if (ks->user_factors.dims[0] > INT32_MAX) return kfail(m, err, "more than %d users", INT32_MAX);
        ks->n_users = (int32_t)ks->user_factors.dims[0];
    }
    if (ks->has_user_attr) {
        snprintf(expect, sizeof expect, "(n_user_attrs, ranker.dim = %llu)", ULL(dim));
        if ((st = want_shape(m, &ks->user_attr, 2, (const uint64_t[]){ UINT64_MAX, dim }, expect, err))) return st;
        if (ks->user_attr.dims[0] > INT32_MAX) return kfail(m, err, "more than %d user attributes", INT32_MAX);
        ks->n_attrs = (int32_t)ks->user_attr.dims[0];
    }
    if (ks->has_item_flags) {
        snprintf(expect, sizeof expect, "(n_items = %llu)", ULL(ni));
        if ((st = want_shape(m, &ks->item_flags, 1, (const uint64_t[]){ ni }, expect, err))) return st;
    }
    if (str_array_count(m, UPF_M_ITEM_IDS) != ni)
        return kfail(m, err, "items.ids has %zu ids (expected n_items = %llu)", str_array_count(m, UPF_M_ITEM_IDS),
                     ULL(ni));
    if (upf_model_find_meta(m, UPF_M_USER_IDS) && str_array_count(m, UPF_M_USER_IDS) != (size_t)ks->n_users)
        return kfail(m, err, "users.ids has %zu ids (expected n_users = %d from 'user_factors')",
                     str_array_count(m, UPF_M_USER_IDS), ks->n_users);
    if (upf_model_find_meta(m, UPF_M_USER_ATTR_NAMES) && str_array_count(m, UPF_M_USER_ATTR_NAMES) != (size_t)ks->n_attrs)
        return kfail(m, err, "user_attrs.names has %zu names (expected n_user_attrs = %d from 'user_attr_factors')",
                     str_array_count(m, UPF_M_USER_ATTR_NAMES), ks->n_attrs);
    double rw;
    if (upf_model_meta_f64(m, UPF_M_RECENT_WEIGHT, &rw) != UPF_OK) rw = 1.0;
    if (!(fabs(rw) <= (double)FLT_MAX)) return kfail(m, err, "ranker.recent_weight = %g (expected a finite float)", rw);
    ks->recent_weight = (float)rw;
    if ((st = upf_idmap_build(&ks->items, m, upf_model_find_meta(m, UPF_M_ITEM_IDS), "item id", err))) return st;
    if ((st = upf_idmap_build(&ks->users, m, upf_model_find_meta(m, UPF_M_USER_IDS), "user id", err))) return st;
    return upf_idmap_build(&ks->attrs, m, upf_model_find_meta(m, UPF_M_USER_ATTR_NAMES), "attribute name", err);
}

static upf_status check_cooccur(upf_model *m, upf_err *err)
{
    upf_kind_state *ks = &m->ks;
    upf_tensor_view p, x, s;
    tensor_get(m, UPF_T_NEIGHBOR_PTR, &p);
    tensor_get(m, UPF_T_NEIGHBOR_IDX, &x);
    tensor_get(m, UPF_T_NEIGHBOR_SIM, &s);
    if (p.ndim != 1 || p.dims[0] < 2 || p.dims[0] - 1 > INT32_MAX)
        return kfail(m, err, "tensor 'neighbor_ptr' must be 1-D with n_items + 1 entries (n_items >= 1)");
    ks->n_items = (int32_t)(p.dims[0] - 1);
    uint64_t nnz = x.dims[0];
    if (x.ndim != 1 || s.ndim != 1 || s.dims[0] != nnz)
        return kfail(m, err, "tensors 'neighbor_idx' and 'neighbor_sim' must be 1-D of equal length (nnz)");
    const uint8_t *pp = p.data;
    uint64_t prev = 0;
    for (uint64_t i = 0; i < p.dims[0]; i++) {
        uint64_t v = upf_rd_u64le(pp + 8 * i);
        if ((i == 0 && v != 0) || v < prev || v > nnz || (i == p.dims[0] - 1 && v != nnz))
            return kfail(m, err, "neighbor_ptr[%llu] = %lld (expected non-decreasing from 0 to nnz = %llu)", ULL(i),
                         (long long)v, ULL(nnz));
        prev = v;
    }
    const uint8_t *xp = x.data, *sp = s.data;
    for (uint64_t k = 0; k < nnz; k++) {
        int32_t j = (int32_t)upf_rd_u32le(xp + 4 * k);
        uint32_t u = upf_rd_u32le(sp + 4 * k);
        float f;
        memcpy(&f, &u, 4);
        if (j < 0 || j >= ks->n_items || !isfinite(f))
            return kfail(m, err, "neighbour %llu: item %d, similarity %g (expected an item in [0, %d) and a finite "
                         "similarity)", ULL(k), j, (double)f, ks->n_items);
    }
    ks->nb_ptr = (const int64_t *)p.data;
    ks->nb_idx = (const int32_t *)x.data;
    ks->nb_sim = (const float *)s.data;
    ks->has_item_flags = tensor_get(m, UPF_T_ITEM_FLAGS, &ks->item_flags);
    if (ks->has_item_flags && (ks->item_flags.ndim != 1 || ks->item_flags.dims[0] != (uint64_t)ks->n_items))
        return kfail(m, err, "tensor 'item_flags' must have n_items = %d entries", ks->n_items);
    if (str_array_count(m, UPF_M_ITEM_IDS) != (size_t)ks->n_items)
        return kfail(m, err, "items.ids has %zu ids (expected n_items = %d)", str_array_count(m, UPF_M_ITEM_IDS),
                     ks->n_items);
    return upf_idmap_build(&ks->items, m, upf_model_find_meta(m, UPF_M_ITEM_IDS), "item id", err);
}

static upf_status check_aft(upf_model *m, upf_err *err)
{
    upf_kind_state *ks = &m->ks;
    upf_status st;
    if (str_is(m, UPF_M_AFT_DIST, "weibull")) ks->aft_dist = UPF_AFT_WEIBULL;
    else if (str_is(m, UPF_M_AFT_DIST, "loglogistic")) ks->aft_dist = UPF_AFT_LOGLOGISTIC;
    else return kfail(m, err, "aft.distribution must be \"weibull\" or \"loglogistic\"");
    if (upf_model_find_meta(m, UPF_M_AFT_TARGET) && !str_is(m, UPF_M_AFT_TARGET, "user") &&
        !str_is(m, UPF_M_AFT_TARGET, "user_item"))
        return kfail(m, err, "aft.target must be \"user\" or \"user_item\"");
    if ((st = check_features(m, err))) return st;
    size_t nb;
    upf_model_meta_f64_array(m, UPF_M_AFT_BETA, &ks->beta, &nb);
    if (nb != ks->n_features + 1)
        return kfail(m, err, "aft.beta has %zu values (expected n_features + 1 = %zu, intercept last)", nb,
                     ks->n_features + 1);
    for (size_t i = 0; i < nb; i++)
        if (!isfinite(ks->beta[i])) return kfail(m, err, "aft.beta[%zu] = %g (expected finite)", i, ks->beta[i]);
    upf_model_meta_f64(m, UPF_M_AFT_LOG_SIGMA, &ks->log_sigma);
    if (!isfinite(ks->log_sigma) || fabs(ks->log_sigma) > 20.0)
        return kfail(m, err, "aft.log_sigma = %g (expected finite, |log_sigma| <= 20)", ks->log_sigma);
    return f64_pos(m, UPF_M_AFT_HORIZON, &ks->horizon, 1, 0.0, err);
}

static upf_status check_bgnbd(upf_model *m, upf_err *err)
{
    upf_kind_state *ks = &m->ks;
    upf_status st;
    if ((st = f64_pos(m, UPF_M_BGNBD_R, &ks->bg_r, 1, 0, err)) || (st = f64_pos(m, UPF_M_BGNBD_ALPHA, &ks->bg_alpha, 1, 0, err)) ||
        (st = f64_pos(m, UPF_M_BGNBD_A, &ks->bg_a, 1, 0, err)) || (st = f64_pos(m, UPF_M_BGNBD_B, &ks->bg_b, 1, 0, err)))
        return st;
    int np = upf_model_find_meta(m, UPF_M_GG_P) != NULL, nq = upf_model_find_meta(m, UPF_M_GG_Q) != NULL,
        ng = upf_model_find_meta(m, UPF_M_GG_GAMMA) != NULL;
    if (np + nq + ng == 0) return UPF_OK;
    if (np + nq + ng != 3) return kfail(m, err, "gamma_gamma.p, .q and .gamma must be given together");
    if ((st = f64_pos(m, UPF_M_GG_P, &ks->gg_p, 1, 0, err)) || (st = f64_pos(m, UPF_M_GG_Q, &ks->gg_q, 1, 0, err)) ||
        (st = f64_pos(m, UPF_M_GG_GAMMA, &ks->gg_gamma, 1, 0, err)))
        return st;
    ks->has_gg = 1;
    return UPF_OK;
}

static upf_status check_uplift(upf_model *m, upf_err *err)
{
    upf_kind_state *ks = &m->ks;
    upf_status st;
    if (str_is(m, UPF_M_UPLIFT_METHOD, "two_model")) ks->uplift_method = UPF_UPLIFT_TWO_MODEL;
    else if (str_is(m, UPF_M_UPLIFT_METHOD, "class_transform")) ks->uplift_method = UPF_UPLIFT_CLASS_TRANSFORM;
    else if (str_is(m, UPF_M_UPLIFT_METHOD, "interaction")) ks->uplift_method = UPF_UPLIFT_INTERACTION;
    else return kfail(m, err, "uplift.method must be \"two_model\", \"class_transform\" or \"interaction\"");
    if ((st = check_features(m, err))) return st;
    ks->n_arms = str_array_count(m, UPF_M_UPLIFT_ARMS);
    if (ks->n_arms < 2) return kfail(m, err, "uplift.arms has %zu arms (expected >= 2, arm 0 the control)", ks->n_arms);
    upf_tensor_view w;
    tensor_get(m, UPF_T_UPLIFT_WEIGHTS, &w);
    size_t rows = ks->uplift_method == UPF_UPLIFT_CLASS_TRANSFORM ? 1 : ks->n_arms;
    if (ks->uplift_method == UPF_UPLIFT_CLASS_TRANSFORM && ks->n_arms != 2)
        return kfail(m, err, "class_transform needs exactly 2 arms, uplift.arms has %zu", ks->n_arms);
    char expect[96];
    snprintf(expect, sizeof expect, "(%zu rows for method %s, n_features + 1 = %zu)", rows,
             ks->uplift_method == UPF_UPLIFT_CLASS_TRANSFORM ? "class_transform" : "with one row per arm",
             ks->n_features + 1);
    if ((st = want_shape(m, &w, 2, (const uint64_t[]){ rows, ks->n_features + 1 }, expect, err))) return st;
    ks->n_rows = rows;
    ks->uplift_w = (const float *)w.data;
    for (uint64_t k = 0; k < w.n_elems; k++)
        if (!isfinite(ks->uplift_w[k])) return kfail(m, err, "uplift_weights element %llu is not finite", ULL(k));
    return UPF_OK;
}

upf_status upf_kind_check(upf_model *m, upf_err *err)
{
    const upf_kind_spec *k = upf_kind_spec_find(m->info.kind);
    if (!k) return UPF_OK; /* unknown kinds are opened only under UPF_OPEN_ANY_KIND */
    upf_status st = check_table(m, k, err);
    if (st) return st;
    switch (k->kind) {
    case UPF_KIND_RANKER: return check_ranker(m, err);
    case UPF_KIND_COOCCUR: return check_cooccur(m, err);
    case UPF_KIND_LIFETIME_AFT: return check_aft(m, err);
    case UPF_KIND_LIFETIME_BGNBD: return check_bgnbd(m, err);
    case UPF_KIND_UPLIFT: return check_uplift(m, err);
    default: return UPF_OK;
    }
}

void upf_kind_state_free(upf_kind_state *ks)
{
    upf_idmap_free(&ks->items);
    upf_idmap_free(&ks->users);
    upf_idmap_free(&ks->attrs);
    upf_idmap_free(&ks->features);
}
