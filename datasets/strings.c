/* strings.c - the growable string blob behind upf_strings (used by the builder
 * and the HDF5 reader), the UTF-8 and HDF5-name checks.
 * Growth doubles with checked sizes; a failed growth leaves the blob intact.
 */
#include <string.h>

#include "internal.h"

static int grow_bytes(upf_strbuf *sb, size_t need)
{
    if (need <= sb->cap) return 0;
    size_t cap = sb->cap ? sb->cap : 256;
    while (cap < need) {
        if (upf_mul_size(cap, 2, &cap)) return -1;
    }
    char *p = upf_realloc(sb->data, cap);
    if (!p) return -1;
    sb->data = p;
    sb->cap = cap;
    return 0;
}

static int grow_offsets(upf_strbuf *sb, size_t need)
{
    if (need <= sb->off_cap) return 0;
    size_t cap = sb->off_cap ? sb->off_cap : 64, bytes;
    while (cap < need) {
        if (upf_mul_size(cap, 2, &cap)) return -1;
    }
    if (upf_mul_size(cap, sizeof(int64_t), &bytes)) return -1;
    int64_t *p = upf_realloc(sb->off, bytes);
    if (!p) return -1;
    if (!sb->off) p[0] = 0;
    sb->off = p;
    sb->off_cap = cap;
    return 0;
}

int upf_strbuf_reserve(upf_strbuf *sb, size_t n_more, size_t bytes_more)
{
    size_t need_off, need_bytes;
    if (upf_add_size(sb->n, n_more, &need_off) || upf_add_size(need_off, 1, &need_off)) return -1;
    if (upf_add_size(sb->len, bytes_more, &need_bytes)) return -1;
    if (grow_offsets(sb, need_off)) return -1;
    return grow_bytes(sb, need_bytes);
}

int upf_strbuf_append(upf_strbuf *sb, const char *s, size_t len)
{
    size_t bytes;
    if (upf_add_size(len, 1, &bytes)) return -1;
    if (upf_strbuf_reserve(sb, 1, bytes)) return -1;
    if (len) memcpy(sb->data + sb->len, s, len);
    sb->data[sb->len + len] = '\0';
    sb->len += bytes;
    sb->n++;
    sb->off[sb->n] = (int64_t)sb->len;
    return 0;
}

int upf_strbuf_take(upf_strbuf *sb, upf_strings *out)
{
    memset(out, 0, sizeof *out);
    if (!sb->off && grow_offsets(sb, 1)) return -1;
    /* Shrinking is best effort: on failure the larger block stays valid. */
    if (sb->off_cap > sb->n + 1) {
        int64_t *p = upf_realloc(sb->off, (sb->n + 1) * sizeof(int64_t));
        if (p) sb->off = p;
    }
    if (sb->data && sb->cap > sb->len) {
        char *p = upf_realloc(sb->data, sb->len ? sb->len : 1);
        if (p) sb->data = p;
    }
    out->n = sb->n;
    out->off = sb->off;
    out->data = sb->data;
    memset(sb, 0, sizeof *sb);
    return 0;
}

void upf_strbuf_free(upf_strbuf *sb)
{
    if (!sb) return;
    upf_free(sb->data);
    upf_free(sb->off);
    memset(sb, 0, sizeof *sb);
}

int upf_ds_utf8_valid(const char *str, size_t len, size_t *bad_at)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
        if (c >= 0xC2 && c <= 0xDF) need = 1;
        else if (c == 0xE0) need = 2, lo = 0xA0;
        else if (c >= 0xE1 && c <= 0xEC) need = 2;
        else if (c == 0xED) need = 2, hi = 0x9F; /* no surrogates */
        else if (c >= 0xEE && c <= 0xEF) need = 2;
        else if (c == 0xF0) need = 3, lo = 0x90;
        else if (c >= 0xF1 && c <= 0xF3) need = 3;
        else if (c == 0xF4) need = 3, hi = 0x8F; /* <= U+10FFFF */
        else goto bad;
        if (len - i <= need) goto bad;
        if (s[i + 1] < lo || s[i + 1] > hi) goto bad;
        for (size_t k = 2; k <= need; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF) goto bad;
        i += need + 1;
    }
    return 1;
bad:
    if (bad_at) *bad_at = i;
    return 0;
}

int upf_h5_name_ok(const char *name)
{
    if (!name || !*name || strlen(name) > UPF_H5_NAME_MAX || strchr(name, '/') || strcmp(name, ".") == 0) return 0;
    return upf_ds_utf8_valid(name, strlen(name), NULL);
}
