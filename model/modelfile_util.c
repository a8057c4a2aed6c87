/* modelfile_util.c - small pieces the .upf reader and writer share: names of
 * kinds, dtypes and sections, UTF-8 and key validation, key order, heapsort,
 * and the id hash maps built at open. */
#include <string.h>

#include "internal.h"

const char *upf_kind_name(uint32_t kind)
{
    switch (kind) {
    case UPF_KIND_RANKER: return "ranker";
    case UPF_KIND_LIFETIME_AFT: return "lifetime_aft";
    case UPF_KIND_LIFETIME_BGNBD: return "lifetime_bgnbd";
    case UPF_KIND_UPLIFT: return "uplift";
    case UPF_KIND_COOCCUR: return "cooccur";
    default: return "unknown";
    }
}

const char *upf_dtype_name(uint32_t dtype)
{
    switch (dtype) {
    case UPF_DTYPE_F32: return "f32";
    case UPF_DTYPE_F16: return "f16";
    case UPF_DTYPE_I8S: return "i8s";
    case UPF_DTYPE_I32: return "i32";
    case UPF_DTYPE_I64: return "i64";
    case UPF_DTYPE_U8: return "u8";
    default: return "unknown";
    }
}

size_t upf_dtype_size(uint32_t dtype)
{
    switch (dtype) {
    case UPF_DTYPE_F32: return 4;
    case UPF_DTYPE_F16: return 2;
    case UPF_DTYPE_I8S: return 1;
    case UPF_DTYPE_I32: return 4;
    case UPF_DTYPE_I64: return 8;
    case UPF_DTYPE_U8: return 1;
    default: return 0;
    }
}

const char *upf_section_type_name(uint32_t type)
{
    switch (type) {
    case UPF_SECT_META: return "meta";
    case UPF_SECT_TENSOR_INDEX: return "tensor_index";
    case UPF_SECT_TENSOR_DATA: return "tensor_data";
    case UPF_SECT_STRINGS: return "strings";
    default: return "unknown";
    }
}

int upf_utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return 0;
            i++;
            continue;
        }
        size_t len;
        uint32_t cp, min;
        if (c >= 0xC2 && c <= 0xDF) len = 2, cp = c & 0x1Fu, min = 0x80;
        else if (c >= 0xE0 && c <= 0xEF) len = 3, cp = c & 0x0Fu, min = 0x800;
        else if (c >= 0xF0 && c <= 0xF4) len = 4, cp = c & 0x07u, min = 0x10000;
        else return 0;
        if (n - i < len) return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0u) != 0x80u) return 0;
            cp = (cp << 6) | (s[i + k] & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        i += len;
    }
    return 1;
}

int upf_meta_key_valid(const uint8_t *s, size_t n)
{
    if (n < 1 || n > 255) return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7E) return 0;
    return 1;
}

int upf_key_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c) return c;
    return an < bn ? -1 : an > bn ? 1 : 0;
}

/* ---- heapsort (no allocation; swaps through a small stack buffer) ---- */

static void swap_bytes(unsigned char *a, unsigned char *b, size_t size)
{
    while (size--) {
        unsigned char t = *a;
        *a++ = *b;
        *b++ = t;
    }
}

static void sift_down(unsigned char *base, size_t root, size_t n, size_t size,
                      int (*cmp)(const void *, const void *, void *), void *ctx)
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n) return;
        if (child + 1 < n && cmp(base + child * size, base + (child + 1) * size, ctx) < 0) child++;
        if (cmp(base + root * size, base + child * size, ctx) >= 0) return;
        swap_bytes(base + root * size, base + child * size, size);
        root = child;
    }
}

void upf_heapsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *, void *), void *ctx)
{
    unsigned char *b = base;
    if (n < 2) return;
    for (size_t i = n / 2; i-- > 0;) sift_down(b, i, n, size, cmp, ctx);
    for (size_t end = n - 1; end > 0; end--) {
        swap_bytes(b, b + end * size, size);
        sift_down(b, 0, end, size, cmp, ctx);
    }
}

/* ---- id maps: open addressing with linear probing over FNV-1a ---- */

static uint32_t hash_bytes(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h ^ (h >> 15);
}

upf_status upf_idmap_build(upf_idmap *map, const upf_model *m, const upf_meta_ent *ent, const char *what,
                           upf_err *err)
{
    memset(map, 0, sizeof *map);
    if (!ent || ent->str_count == 0) return UPF_OK;
    size_t cap = 16;
    while (cap < 2 * (size_t)ent->str_count) cap *= 2;
    size_t bytes;
    if (upf_mul_size(cap, sizeof *map->slots, &bytes) || cap > UINT32_MAX)
        return upf_err_set(err, UPF_ERR_FORMAT, "%s: %s: too many ids", m->path, what);
    if (!(map->slots = upf_malloc(bytes))) return upf_err_set(err, UPF_ERR_NOMEM, "%s: out of memory", m->path);
    memset(map->slots, 0xFF, bytes);
    map->mask = (uint32_t)(cap - 1);
    map->ent = ent;
    for (uint32_t i = 0; i < ent->str_count; i++) {
        const char *s;
        size_t n;
        upf_meta_str_elem(m, ent, i, &s, &n);
        uint32_t h = hash_bytes(s, n) & map->mask;
        for (;;) {
            int32_t j = map->slots[h];
            if (j < 0) {
                map->slots[h] = (int32_t)i;
                break;
            }
            const char *t;
            size_t tn;
            upf_meta_str_elem(m, ent, (size_t)j, &t, &tn);
            if (tn == n && memcmp(s, t, n) == 0) {
                upf_status st = upf_err_set(err, UPF_ERR_FORMAT, "%s: metadata '%.*s': %s '%.*s' appears twice "
                                            "(elements %d and %u)", m->path, (int)ent->key_len,
                                            (const char *)ent->key, what, (int)(n > 64 ? 64 : n), s, j, i);
                upf_idmap_free(map);
                return st;
            }
            h = (h + 1) & map->mask;
        }
    }
    return UPF_OK;
}

void upf_idmap_free(upf_idmap *map)
{
    upf_free(map->slots);
    memset(map, 0, sizeof *map);
}

int32_t upf_idmap_find(const upf_idmap *map, const upf_model *m, const char *s, size_t len)
{
    if (!map->ent || !s) return -1;
    uint32_t h = hash_bytes(s, len) & map->mask;
    for (;;) {
        int32_t j = map->slots[h];
        if (j < 0) return -1;
        const char *t;
        size_t tn;
        upf_meta_str_elem(m, map->ent, (size_t)j, &t, &tn);
        if (tn == len && memcmp(s, t, len) == 0) return j;
        h = (h + 1) & map->mask;
    }
}
