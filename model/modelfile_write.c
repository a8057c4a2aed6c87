/* modelfile_write.c - the .upf writer (upf_mw_*): collects metadata and
 * tensors, computes the whole layout, then writes header, section table, META,
 * TENSOR_INDEX, STRINGS and TENSOR_DATA in that order.
 *
 * Deterministic: tensors in the order added, metadata sorted by key, zero
 * padding, no timestamps. Float tensors are encoded (F16, I8S) while writing,
 * in two passes over the data: the first computes TENSOR_DATA's CRC (needed in
 * the section table before the data), the second writes. Nothing of the
 * caller's is copied but keys, names and metadata values.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "crc32.h"
#include "f16.h"
#include "internal.h"
#include "outfile.h"
#include "quant.h"

typedef struct mw_meta {
    char *key;
    size_t key_len;
    uint32_t vtype, flags;
    uint8_t *val;          /* owned encoded value */
    size_t len;
} mw_meta;

typedef struct mw_tensor {
    char *name;
    uint32_t store;        /* dtype written */
    int from_f32;          /* 1: data is float, encoded to `store` while writing */
    const void *data;      /* borrowed */
    const float *scales;   /* raw I8S: borrowed (rows, n_blocks) */
    uint32_t q_block;
    uint32_t ndim;
    uint64_t dims[4];
    uint64_t n_elems, rows, inner, n_blocks;
    uint64_t data_off, data_size, scale_off, scale_size; /* layout, relative to TENSOR_DATA */
    uint32_t name_off;
} mw_tensor;

struct upf_mw {
    uint32_t kind;
    mw_meta *meta;
    size_t n_meta, cap_meta;
    mw_tensor *t;
    size_t n_t, cap_t;
    upf_err first;         /* first failure of an add call (status UPF_OK: none) */
};

#define MW_MAX_NAME 255u

/* Records the first failure and returns its status. */
static upf_status mw_fail(upf_mw *w, upf_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static upf_status mw_fail(upf_mw *w, upf_status st, const char *fmt, ...)
{
    if (w && w->first.status == UPF_OK) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->first.msg, sizeof w->first.msg, fmt, ap);
        va_end(ap);
        w->first.status = st;
    }
    return st;
}

upf_status upf_mw_create(upf_mw **out, uint32_t kind, upf_err *err)
{
    *out = NULL;
    if (kind == UPF_KIND_NONE) return upf_err_set(err, UPF_ERR_ARG, "model writer: kind 0 is invalid");
    upf_mw *w = upf_calloc(1, sizeof *w);
    if (!w) return upf_err_set(err, UPF_ERR_NOMEM, "model writer: out of memory");
    w->kind = kind;
    *out = w;
    return UPF_OK;
}

void upf_mw_free(upf_mw *w)
{
    if (!w) return;
    for (size_t i = 0; i < w->n_meta; i++) {
        upf_free(w->meta[i].key);
        upf_free(w->meta[i].val);
    }
    for (size_t i = 0; i < w->n_t; i++) upf_free(w->t[i].name);
    upf_free(w->meta);
    upf_free(w->t);
    upf_free(w);
}

/* ---- metadata ---- */

static mw_meta *mw_find_meta(upf_mw *w, const char *key)
{
    for (size_t i = 0; i < w->n_meta; i++)
        if (strcmp(w->meta[i].key, key) == 0) return &w->meta[i];
    return NULL;
}

/* Takes ownership of val (even on failure). */
static upf_status mw_add_meta(upf_mw *w, const char *key, uint32_t vtype, uint32_t flags, uint8_t *val, size_t len)
{
    upf_status st = UPF_OK;
    char *k = NULL;
    if (!w || !key) {
        upf_free(val);
        return mw_fail(w, UPF_ERR_ARG, "model writer: NULL writer or key");
    }
    size_t kl = strlen(key);
    if (!upf_meta_key_valid((const uint8_t *)key, kl)) {
        st = mw_fail(w, UPF_ERR_ARG, "model writer: metadata key '%.64s' is not 1..255 printable ASCII bytes", key);
        goto done;
    }
    if (mw_find_meta(w, key)) {
        st = mw_fail(w, UPF_ERR_ARG, "model writer: metadata key '%s' added twice", key);
        goto done;
    }
    if (len > UINT32_MAX) {
        st = mw_fail(w, UPF_ERR_ARG, "model writer: metadata '%s': value of %zu bytes exceeds 4 GiB", key, len);
        goto done;
    }
    if (w->n_meta == w->cap_meta) {
        size_t cap = w->cap_meta ? 2 * w->cap_meta : 16, bytes;
        if (upf_mul_size(cap, sizeof *w->meta, &bytes)) {
            st = mw_fail(w, UPF_ERR_NOMEM, "model writer: too many metadata entries");
            goto done;
        }
        mw_meta *nm = upf_realloc(w->meta, bytes);
        if (!nm) {
            st = mw_fail(w, UPF_ERR_NOMEM, "model writer: out of memory");
            goto done;
        }
        w->meta = nm;
        w->cap_meta = cap;
    }
    if (!(k = upf_strdup(key))) {
        st = mw_fail(w, UPF_ERR_NOMEM, "model writer: out of memory");
        goto done;
    }
    w->meta[w->n_meta++] = (mw_meta){ k, kl, vtype, flags, val, len };
    return UPF_OK;
done:
    upf_free(val);
    return st;
}

static uint8_t *mw_val(upf_mw *w, size_t n)
{
    uint8_t *v = upf_malloc(n);
    if (!v) mw_fail(w, UPF_ERR_NOMEM, "model writer: out of memory");
    return v;
}

upf_status upf_mw_meta_u64(upf_mw *w, const char *key, uint64_t v)
{
    uint8_t *b = mw_val(w, 8);
    if (!b) return UPF_ERR_NOMEM;
    upf_wr_u64le(b, v);
    return mw_add_meta(w, key, UPF_META_U64, 0, b, 8);
}

upf_status upf_mw_meta_i64(upf_mw *w, const char *key, int64_t v)
{
    uint8_t *b = mw_val(w, 8);
    if (!b) return UPF_ERR_NOMEM;
    upf_wr_u64le(b, (uint64_t)v);
    return mw_add_meta(w, key, UPF_META_I64, 0, b, 8);
}

static uint64_t f64_bits(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return u;
}

upf_status upf_mw_meta_f64(upf_mw *w, const char *key, double v)
{
    uint8_t *b = mw_val(w, 8);
    if (!b) return UPF_ERR_NOMEM;
    upf_wr_u64le(b, f64_bits(v));
    return mw_add_meta(w, key, UPF_META_F64, 0, b, 8);
}

upf_status upf_mw_meta_str(upf_mw *w, const char *key, const char *v)
{
    if (!v) return mw_fail(w, UPF_ERR_ARG, "model writer: metadata '%s': NULL string", key ? key : "?");
    size_t n = strlen(v);
    if (!upf_utf8_valid((const uint8_t *)v, n))
        return mw_fail(w, UPF_ERR_ARG, "model writer: metadata '%s': string is not valid UTF-8", key ? key : "?");
    uint8_t *b = mw_val(w, n);
    if (!b) return UPF_ERR_NOMEM;
    memcpy(b, v, n);
    return mw_add_meta(w, key, UPF_META_STR, 0, b, n);
}

upf_status upf_mw_meta_bool(upf_mw *w, const char *key, int v)
{
    uint8_t *b = mw_val(w, 1);
    if (!b) return UPF_ERR_NOMEM;
    b[0] = v ? 1 : 0;
    return mw_add_meta(w, key, UPF_META_BOOL, 0, b, 1);
}

upf_status upf_mw_meta_f64_array(upf_mw *w, const char *key, const double *v, size_t n)
{
    size_t bytes;
    if ((n && !v) || upf_mul_size(n, 8, &bytes))
        return mw_fail(w, UPF_ERR_ARG, "model writer: metadata '%s': bad array", key ? key : "?");
    uint8_t *b = mw_val(w, bytes);
    if (!b) return UPF_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) upf_wr_u64le(b + 8 * i, f64_bits(v[i]));
    return mw_add_meta(w, key, UPF_META_F64_ARRAY, 0, b, bytes);
}

upf_status upf_mw_meta_str_array(upf_mw *w, const char *key, const char *const *v, size_t n)
{
    const char *k = key ? key : "?";
    size_t bytes = 8;
    if (n && !v) return mw_fail(w, UPF_ERR_ARG, "model writer: metadata '%s': NULL array", k);
    for (size_t i = 0; i < n; i++) {
        if (!v[i]) return mw_fail(w, UPF_ERR_ARG, "model writer: metadata '%s': element %zu is NULL", k, i);
        size_t l = strlen(v[i]);
        if (!upf_utf8_valid((const uint8_t *)v[i], l))
            return mw_fail(w, UPF_ERR_ARG, "model writer: metadata '%s': element %zu is not valid UTF-8", k, i);
        if (upf_add_size(bytes, l, &bytes) || upf_add_size(bytes, 1, &bytes))
            return mw_fail(w, UPF_ERR_ARG, "model writer: metadata '%s': array too large", k);
    }
    uint8_t *b = mw_val(w, bytes);
    if (!b) return UPF_ERR_NOMEM;
    upf_wr_u64le(b, (uint64_t)n);
    size_t pos = 8;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(v[i]);
        memcpy(b + pos, v[i], l + 1);
        pos += l + 1;
    }
    return mw_add_meta(w, key, UPF_META_STR_ARRAY, 0, b, bytes);
}

upf_status upf_mw_meta_raw(upf_mw *w, const char *key, uint32_t vtype, uint32_t flags, const void *val, size_t len)
{
    if (vtype == 0 || vtype > 255 || flags > 255)
        return mw_fail(w, UPF_ERR_ARG, "model writer: metadata '%s': vtype %u / flags %u out of range",
                       key ? key : "?", vtype, flags);
    if (len && !val) return mw_fail(w, UPF_ERR_ARG, "model writer: metadata '%s': NULL value", key ? key : "?");
    uint8_t *b = mw_val(w, len);
    if (!b) return UPF_ERR_NOMEM;
    if (len) memcpy(b, val, len);
    return mw_add_meta(w, key, vtype, flags, b, len);
}

upf_status upf_mw_meta_set_flags(upf_mw *w, const char *key, uint32_t flags)
{
    if (!w || !key) return mw_fail(w, UPF_ERR_ARG, "model writer: NULL writer or key");
    mw_meta *e = mw_find_meta(w, key);
    if (!e) return mw_fail(w, UPF_ERR_ARG, "model writer: set flags: no metadata key '%s'", key);
    if (flags > 255) return mw_fail(w, UPF_ERR_ARG, "model writer: metadata '%s': flags %u out of range", key, flags);
    e->flags = flags;
    return UPF_OK;
}

/* ---- tensors ---- */

static upf_status mw_add_tensor(upf_mw *w, const char *name, uint32_t store, int from_f32, uint32_t ndim,
                                const uint64_t *dims, const void *data, const float *scales, uint32_t q_block)
{
    if (!w || !name) return mw_fail(w, UPF_ERR_ARG, "model writer: NULL writer or tensor name");
    size_t nl = strlen(name);
    if (nl == 0 || nl > MW_MAX_NAME || !upf_utf8_valid((const uint8_t *)name, nl))
        return mw_fail(w, UPF_ERR_ARG, "model writer: tensor name '%.64s' must be 1..255 bytes of UTF-8", name);
    for (size_t i = 0; i < w->n_t; i++)
        if (strcmp(w->t[i].name, name) == 0)
            return mw_fail(w, UPF_ERR_ARG, "model writer: tensor '%s' added twice", name);
    if (ndim < 1 || ndim > 4 || !dims)
        return mw_fail(w, UPF_ERR_ARG, "model writer: tensor '%s': ndim %u (expected 1..4)", name, ndim);
    size_t esz = upf_dtype_size(store);
    if (!esz) return mw_fail(w, UPF_ERR_ARG, "model writer: tensor '%s': invalid dtype %u", name, store);
    mw_tensor t;
    memset(&t, 0, sizeof t);
    t.store = store;
    t.from_f32 = from_f32;
    t.data = data;
    t.ndim = ndim;
    size_t n = 1, bytes;
    for (uint32_t d = 0; d < ndim; d++) {
        t.dims[d] = dims[d];
        if (dims[d] > SIZE_MAX || upf_mul_size(n, (size_t)dims[d], &n))
            return mw_fail(w, UPF_ERR_ARG, "model writer: tensor '%s': element count overflows", name);
    }
    if (upf_mul_size(n, esz, &bytes) || upf_mul_size(n, 4, &bytes))
        return mw_fail(w, UPF_ERR_ARG, "model writer: tensor '%s': byte size overflows", name);
    if (n && !data) return mw_fail(w, UPF_ERR_ARG, "model writer: tensor '%s': NULL data", name);
    t.n_elems = n;
    t.inner = dims[ndim - 1];
    t.rows = t.inner ? n / t.inner : 0;
    if (store == UPF_DTYPE_I8S) {
        if (from_f32) q_block = t.inner == 0 ? 1 : t.inner <= 65535 ? (uint32_t)t.inner : 32768u;
        if (q_block < 1 || q_block > 65535)
            return mw_fail(w, UPF_ERR_ARG, "model writer: tensor '%s': q_block %u (expected 1..65535)", name, q_block);
        t.q_block = q_block;
        t.n_blocks = upf_quant_n_blocks((size_t)t.inner, q_block);
        t.scales = scales;
        if (!from_f32 && t.rows * t.n_blocks != 0 && !scales)
            return mw_fail(w, UPF_ERR_ARG, "model writer: tensor '%s': I8S without scales", name);
    } else if (q_block || scales) {
        return mw_fail(w, UPF_ERR_ARG, "model writer: tensor '%s': scales/q_block given for a non-I8S dtype", name);
    }
    if (w->n_t == w->cap_t) {
        size_t cap = w->cap_t ? 2 * w->cap_t : 8, nb;
        if (upf_mul_size(cap, sizeof *w->t, &nb)) return mw_fail(w, UPF_ERR_NOMEM, "model writer: too many tensors");
        mw_tensor *nt = upf_realloc(w->t, nb);
        if (!nt) return mw_fail(w, UPF_ERR_NOMEM, "model writer: out of memory");
        w->t = nt;
        w->cap_t = cap;
    }
    if (!(t.name = upf_strdup(name))) return mw_fail(w, UPF_ERR_NOMEM, "model writer: out of memory");
    w->t[w->n_t++] = t;
    return UPF_OK;
}

upf_status upf_mw_tensor_f32(upf_mw *w, const char *name, const float *data, uint32_t ndim, const uint64_t *dims,
                             upf_dtype store)
{
    if (store != UPF_DTYPE_F32 && store != UPF_DTYPE_F16 && store != UPF_DTYPE_I8S)
        return mw_fail(w, UPF_ERR_ARG, "model writer: tensor '%s': float data stored as dtype %u (expected F32, F16 "
                       "or I8S)", name ? name : "?", (unsigned)store);
    return mw_add_tensor(w, name, store, 1, ndim, dims, data, NULL, 0);
}

upf_status upf_mw_tensor_i32(upf_mw *w, const char *name, const int32_t *data, uint32_t ndim, const uint64_t *dims)
{
    return mw_add_tensor(w, name, UPF_DTYPE_I32, 0, ndim, dims, data, NULL, 0);
}

upf_status upf_mw_tensor_i64(upf_mw *w, const char *name, const int64_t *data, uint32_t ndim, const uint64_t *dims)
{
    return mw_add_tensor(w, name, UPF_DTYPE_I64, 0, ndim, dims, data, NULL, 0);
}

upf_status upf_mw_tensor_u8(upf_mw *w, const char *name, const uint8_t *data, uint32_t ndim, const uint64_t *dims)
{
    return mw_add_tensor(w, name, UPF_DTYPE_U8, 0, ndim, dims, data, NULL, 0);
}

upf_status upf_mw_tensor_raw(upf_mw *w, const char *name, upf_dtype dtype, uint32_t ndim, const uint64_t *dims,
                             const void *data, const float *scales, uint32_t q_block)
{
    return mw_add_tensor(w, name, dtype, 0, ndim, dims, data, scales, q_block);
}

/* ---- layout ---- */

typedef struct mw_layout {
    uint8_t *meta;         /* encoded sections (owned) */
    size_t meta_size;
    uint8_t *index;
    size_t index_size;
    uint8_t *strings;
    size_t strings_size;
    uint64_t meta_off, index_off, strings_off, data_off, data_size, file_size;
    uint32_t data_crc;
} mw_layout;

static void layout_free(mw_layout *l)
{
    upf_free(l->meta);
    upf_free(l->index);
    upf_free(l->strings);
    memset(l, 0, sizeof *l);
}

static int meta_cmp(const void *a, const void *b, void *ctx)
{
    (void)ctx;
    const mw_meta *x = *(const mw_meta *const *)a, *y = *(const mw_meta *const *)b;
    return upf_key_cmp((const uint8_t *)x->key, x->key_len, (const uint8_t *)y->key, y->key_len);
}

#define PAD8(x) UPF_ALIGN_UP((size_t)(x), 8)

static upf_status layout_meta(upf_mw *w, mw_layout *l, upf_err *err)
{
    upf_status st = UPF_OK;
    const mw_meta **order = upf_malloc(w->n_meta * sizeof *order + 1);
    if (!order) return upf_err_set(err, UPF_ERR_NOMEM, "model writer: out of memory");
    size_t total = 0;
    for (size_t i = 0; i < w->n_meta; i++) {
        order[i] = &w->meta[i];
        size_t e = 8 + PAD8(w->meta[i].key_len);
        if (upf_add_size(total, e, &total) || upf_add_size(total, PAD8(w->meta[i].len), &total)) {
            st = upf_err_set(err, UPF_ERR_ARG, "model writer: metadata too large");
            goto done;
        }
    }
    upf_heapsort(order, w->n_meta, sizeof *order, meta_cmp, NULL);
    if (!(l->meta = upf_calloc(total ? total : 1, 1))) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "model writer: out of memory");
        goto done;
    }
    l->meta_size = total;
    size_t p = 0;
    for (size_t i = 0; i < w->n_meta; i++) {
        const mw_meta *e = order[i];
        upf_wr_u16le(l->meta + p, (uint16_t)e->key_len);
        l->meta[p + 2] = (uint8_t)e->vtype;
        l->meta[p + 3] = (uint8_t)e->flags;
        upf_wr_u32le(l->meta + p + 4, (uint32_t)e->len);
        memcpy(l->meta + p + 8, e->key, e->key_len);
        p += 8 + PAD8(e->key_len);
        if (e->len) memcpy(l->meta + p, e->val, e->len);
        p += PAD8(e->len);
    }
done:
    upf_free(order);
    return st;
}

static upf_status layout(upf_mw *w, mw_layout *l, upf_err *err)
{
    memset(l, 0, sizeof *l);
    upf_status st = layout_meta(w, l, err);
    if (st) return st;
    /* STRINGS: tensor names, NUL-terminated, in tensor order */
    size_t sbytes = 0;
    for (size_t i = 0; i < w->n_t; i++) {
        w->t[i].name_off = (uint32_t)sbytes;
        sbytes += strlen(w->t[i].name) + 1;
    }
    l->strings_size = sbytes;
    l->index_size = w->n_t * UPF_TENSOR_REC_SIZE;
    if (!(l->strings = upf_calloc(sbytes ? sbytes : 1, 1)) || !(l->index = upf_calloc(l->index_size + 1, 1))) {
        layout_free(l);
        return upf_err_set(err, UPF_ERR_NOMEM, "model writer: out of memory");
    }
    /* TENSOR_DATA: each tensor's values, then (I8S) its scales, each aligned */
    uint64_t cur = 0;
    for (size_t i = 0; i < w->n_t; i++) {
        mw_tensor *t = &w->t[i];
        memcpy(l->strings + t->name_off, t->name, strlen(t->name) + 1);
        t->data_off = UPF_ALIGN_UP(cur, UPF_ALIGNMENT);
        t->data_size = t->n_elems * upf_dtype_size(t->store);
        cur = t->data_off + t->data_size;
        t->scale_off = t->scale_size = 0;
        if (t->store == UPF_DTYPE_I8S) {
            t->scale_off = UPF_ALIGN_UP(cur, UPF_ALIGNMENT);
            t->scale_size = t->rows * t->n_blocks * 4;
            cur = t->scale_off + t->scale_size;
        }
        uint8_t *r = l->index + i * UPF_TENSOR_REC_SIZE;
        upf_wr_u64le(r + UPF_T_DATA_OFFSET, t->data_off);
        upf_wr_u64le(r + UPF_T_DATA_SIZE, t->data_size);
        upf_wr_u64le(r + UPF_T_SCALE_OFFSET, t->scale_off);
        for (uint32_t d = 0; d < 4; d++) upf_wr_u64le(r + UPF_T_DIMS + 8 * d, d < t->ndim ? t->dims[d] : 0);
        upf_wr_u32le(r + UPF_T_NAME_OFFSET, t->name_off);
        r[UPF_T_DTYPE] = (uint8_t)t->store;
        r[UPF_T_NDIM] = (uint8_t)t->ndim;
        upf_wr_u16le(r + UPF_T_Q_BLOCK, (uint16_t)t->q_block);
    }
    l->data_size = cur;
    l->meta_off = UPF_HEADER_SIZE + 4 * UPF_SECT_ENTRY_SIZE;
    l->index_off = UPF_ALIGN_UP(l->meta_off + l->meta_size, UPF_ALIGNMENT);
    l->strings_off = UPF_ALIGN_UP(l->index_off + l->index_size, UPF_ALIGNMENT);
    l->data_off = UPF_ALIGN_UP(l->strings_off + l->strings_size, UPF_ALIGNMENT);
    l->file_size = l->data_off + l->data_size;
    if (l->file_size > SIZE_MAX / 2) {
        layout_free(l);
        return upf_err_set(err, UPF_ERR_ARG, "model writer: file of %llu bytes is too large",
                           (unsigned long long)l->file_size);
    }
    return UPF_OK;
}

/* ---- output ---- */

/* Bytes go to a FILE, a memory buffer, or nowhere (the CRC pass). */
typedef struct sink {
    FILE *f;
    uint8_t *buf;
    uint64_t pos;
    uint32_t crc;
    int failed;
} sink;

static void sink_put(sink *s, const void *p, size_t n)
{
    if (!n) return;
    s->crc = upf_crc32(s->crc, p, n);
    if (s->f && fwrite(p, 1, n, s->f) != n) s->failed = 1;
    if (s->buf) memcpy(s->buf + s->pos, p, n);
    s->pos += n;
}

static void sink_pad_to(sink *s, uint64_t pos)
{
    static const uint8_t zeros[256];
    while (s->pos < pos) {
        uint64_t k = pos - s->pos;
        sink_put(s, zeros, k < sizeof zeros ? (size_t)k : sizeof zeros);
    }
}

#define STAGE 16384

/* Writes tensor t's values (and scales) at its layout offsets relative to base. */
static upf_status emit_tensor(const mw_tensor *t, sink *s, uint64_t base, upf_err *err)
{
    uint8_t stage[STAGE];
    sink_pad_to(s, base + t->data_off);
    if (!t->from_f32) {
        sink_put(s, t->data, (size_t)t->data_size); /* raw: stored as given (little-endian) */
        if (t->store == UPF_DTYPE_I8S) {
            sink_pad_to(s, base + t->scale_off);
            sink_put(s, t->scales, (size_t)t->scale_size);
        }
        return UPF_OK;
    }
    const float *x = t->data;
    if (t->store == UPF_DTYPE_F32 || t->store == UPF_DTYPE_F16) {
        size_t per = STAGE / upf_dtype_size(t->store);
        for (uint64_t i0 = 0; i0 < t->n_elems; i0 += per) {
            size_t k = t->n_elems - i0 < per ? (size_t)(t->n_elems - i0) : per;
            for (size_t j = 0; j < k; j++) {
                float v = x[i0 + j];
                if (!isfinite(v))
                    return upf_err_set(err, UPF_ERR_NUMERIC, "model writer: tensor '%s': element %llu is %g "
                                       "(expected a finite value)", t->name, (unsigned long long)(i0 + j), (double)v);
                if (t->store == UPF_DTYPE_F32) {
                    uint32_t u;
                    memcpy(&u, &v, 4);
                    upf_wr_u32le(stage + 4 * j, u);
                } else {
                    uint16_t h = upf_f32_to_f16(v);
                    if ((h & 0x7C00u) == 0x7C00u)
                        return upf_err_set(err, UPF_ERR_NUMERIC, "model writer: tensor '%s': element %llu = %g "
                                           "overflows float16 (max %g)", t->name, (unsigned long long)(i0 + j),
                                           (double)v, (double)UPF_F16_MAX);
                    upf_wr_u16le(stage + 2 * j, h);
                }
            }
            sink_put(s, stage, k * upf_dtype_size(t->store));
            if (upf_interrupted()) return upf_err_set(err, UPF_ERR_INTERRUPTED, "model writer: interrupted");
        }
        return UPF_OK;
    }
    /* I8S: q row by row and block by block, then the scales */
    float sc;
    for (uint64_t r = 0; r < t->rows; r++) {
        for (uint64_t b = 0; b < t->n_blocks; b++) {
            size_t off = (size_t)(b * t->q_block), len = (size_t)(t->inner - off < t->q_block ? t->inner - off : t->q_block);
            const float *xb = x + r * t->inner + off;
            for (size_t j = 0; j < len; j++)
                if (!isfinite(xb[j]))
                    return upf_err_set(err, UPF_ERR_NUMERIC, "model writer: tensor '%s': element (%llu, %zu) is %g "
                                       "(expected a finite value)", t->name, (unsigned long long)r, off + j, (double)xb[j]);
            for (size_t j0 = 0; j0 < len; j0 += STAGE) {
                size_t k = len - j0 < STAGE ? len - j0 : STAGE;
                if (j0 == 0 && k == len) {
                    upf_quant_i8s_block(xb, len, (int8_t *)stage, &sc);
                } else { /* a block longer than the stage: same scale for every piece */
                    float amax = 0.0f;
                    for (size_t j = 0; j < len; j++) amax = fabsf(xb[j]) > amax ? fabsf(xb[j]) : amax;
                    sc = amax / 127.0f;
                    for (size_t j = 0; j < k; j++) {
                        float v = sc == 0.0f ? 0.0f : roundf(xb[j0 + j] / sc);
                        v = v > 127.0f ? 127.0f : v < -127.0f ? -127.0f : v;
                        stage[j] = (uint8_t)(int8_t)v;
                    }
                }
                sink_put(s, stage, k);
            }
        }
        if ((r & 1023) == 0 && upf_interrupted())
            return upf_err_set(err, UPF_ERR_INTERRUPTED, "model writer: interrupted");
    }
    sink_pad_to(s, base + t->scale_off);
    for (uint64_t r = 0; r < t->rows; r++)
        for (uint64_t b = 0; b < t->n_blocks; b++) {
            size_t off = (size_t)(b * t->q_block), len = (size_t)(t->inner - off < t->q_block ? t->inner - off : t->q_block);
            const float *xb = x + r * t->inner + off;
            float amax = 0.0f;
            for (size_t j = 0; j < len; j++) amax = fabsf(xb[j]) > amax ? fabsf(xb[j]) : amax;
            sc = amax / 127.0f;
            uint32_t u;
            memcpy(&u, &sc, 4);
            uint8_t le[4];
            upf_wr_u32le(le, u);
            sink_put(s, le, 4);
        }
    return UPF_OK;
}

static upf_status emit_data(const upf_mw *w, sink *s, uint64_t base, upf_err *err)
{
    for (size_t i = 0; i < w->n_t; i++) {
        upf_status st = emit_tensor(&w->t[i], s, base, err);
        if (st) return st;
    }
    return UPF_OK;
}

static void put_sect(uint8_t *e, uint32_t type, uint64_t off, uint64_t size, uint32_t crc, uint32_t count,
                     const char *name)
{
    memset(e, 0, UPF_SECT_ENTRY_SIZE);
    upf_wr_u32le(e + UPF_S_TYPE, type);
    upf_wr_u32le(e + UPF_S_FLAGS, UPF_SECT_FLAG_REQUIRED);
    upf_wr_u64le(e + UPF_S_OFFSET, off);
    upf_wr_u64le(e + UPF_S_SIZE, size);
    upf_wr_u32le(e + UPF_S_CRC, crc);
    upf_wr_u32le(e + UPF_S_COUNT, count);
    memcpy(e + UPF_S_NAME, name, strlen(name));
}

/* Writes the whole file into s (header, table, sections). */
static upf_status emit_file(const upf_mw *w, const mw_layout *l, sink *s, upf_err *err)
{
    uint8_t head[UPF_HEADER_SIZE + 4 * UPF_SECT_ENTRY_SIZE];
    memset(head, 0, sizeof head);
    uint8_t *tab = head + UPF_HEADER_SIZE;
    put_sect(tab, UPF_SECT_META, l->meta_off, l->meta_size, upf_crc32(0, l->meta, l->meta_size),
             (uint32_t)w->n_meta, "meta");
    put_sect(tab + 64, UPF_SECT_TENSOR_INDEX, l->index_off, l->index_size, upf_crc32(0, l->index, l->index_size),
             (uint32_t)w->n_t, "tensor_index");
    put_sect(tab + 128, UPF_SECT_STRINGS, l->strings_off, l->strings_size,
             upf_crc32(0, l->strings, l->strings_size), (uint32_t)w->n_t, "strings");
    put_sect(tab + 192, UPF_SECT_TENSOR_DATA, l->data_off, l->data_size, l->data_crc, (uint32_t)w->n_t,
             "tensor_data");
    memcpy(head + UPF_H_MAGIC, UPF_MAGIC, 8);
    upf_wr_u32le(head + UPF_H_BYTE_ORDER, UPF_BYTE_ORDER_MARK);
    upf_wr_u16le(head + UPF_H_VER_MAJOR, UPF_FILE_VERSION_MAJOR);
    upf_wr_u16le(head + UPF_H_VER_MINOR, UPF_FILE_VERSION_MINOR);
    upf_wr_u32le(head + UPF_H_KIND, w->kind);
    upf_wr_u32le(head + UPF_H_INCOMPAT, 0);
    upf_wr_u32le(head + UPF_H_HEADER_SIZE, UPF_HEADER_SIZE);
    upf_wr_u32le(head + UPF_H_ALIGNMENT, UPF_ALIGNMENT);
    upf_wr_u64le(head + UPF_H_FILE_SIZE, l->file_size);
    upf_wr_u64le(head + UPF_H_SECT_OFFSET, UPF_HEADER_SIZE);
    upf_wr_u32le(head + UPF_H_SECT_COUNT, 4);
    upf_wr_u32le(head + UPF_H_SECT_ENTRY_SIZE, UPF_SECT_ENTRY_SIZE);
    upf_wr_u32le(head + UPF_H_SECT_TABLE_CRC, upf_crc32(0, tab, 4 * UPF_SECT_ENTRY_SIZE));
    upf_wr_u32le(head + UPF_H_HEADER_CRC, upf_crc32(0, head, UPF_H_HEADER_CRC));
    sink_put(s, head, sizeof head);
    sink_put(s, l->meta, l->meta_size);
    sink_pad_to(s, l->index_off);
    sink_put(s, l->index, l->index_size);
    sink_pad_to(s, l->strings_off);
    sink_put(s, l->strings, l->strings_size);
    sink_pad_to(s, l->data_off);
    return emit_data(w, s, l->data_off, err);
}

/* Layout plus the CRC pass over TENSOR_DATA (which also finds bad values). */
static upf_status prepare(upf_mw *w, mw_layout *l, upf_err *err)
{
    if (!w) return upf_err_set(err, UPF_ERR_ARG, "model writer: NULL writer");
    if (w->first.status) return upf_err_set(err, w->first.status, "%s", w->first.msg);
    upf_status st = layout(w, l, err);
    if (st) return st;
    sink crc = { 0 };
    if ((st = emit_data(w, &crc, 0, err))) {
        layout_free(l);
        return st;
    }
    l->data_crc = crc.crc;
    return UPF_OK;
}

upf_status upf_mw_write(upf_mw *w, const char *path, upf_err *err)
{
    mw_layout l;
    upf_outfile o;
    memset(&o, 0, sizeof o);
    upf_status st = prepare(w, &l, err);
    if (st) return st;
    if ((st = upf_outfile_open(&o, path, err))) goto done;
    sink s = { .f = o.f };
    if ((st = emit_file(w, &l, &s, err))) goto done;
    if (s.failed || s.pos != l.file_size) {
        st = upf_err_sys(err, UPF_ERR_IO, "%s: write failed", path);
        goto done;
    }
    st = upf_outfile_commit(&o, err);
done:
    if (st) upf_outfile_abort(&o);
    layout_free(&l);
    return st;
}

upf_status upf_mw_write_buffer(upf_mw *w, void **out, size_t *n, upf_err *err)
{
    *out = NULL;
    *n = 0;
    mw_layout l;
    upf_status st = prepare(w, &l, err);
    if (st) return st;
    uint8_t *buf = upf_malloc_aligned((size_t)l.file_size);
    if (!buf) {
        layout_free(&l);
        return upf_err_set(err, UPF_ERR_NOMEM, "model writer: out of memory for %llu bytes",
                           (unsigned long long)l.file_size);
    }
    sink s = { .buf = buf };
    st = emit_file(w, &l, &s, err);
    if (!st) {
        *out = buf;
        *n = (size_t)l.file_size;
    } else {
        upf_free_aligned(buf);
    }
    layout_free(&l);
    return st;
}
