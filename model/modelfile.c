/* modelfile.c - the validating .upf reader (upf_model_*): maps the file (or
 * reads it into an aligned buffer), checks everything, then hands out
 * borrowed views. Immutable after open; any number of threads may read it.
 *
 * Reader order (STYLE.md section 10; each failure names the path, the section
 * and the absolute byte offset):
 *   1. size >= 64, magic, byte order, major version, header_size/alignment,
 *      header CRC, incompat flags, file_size == actual size, kind;
 *   2. section table: bounds, CRC, each section aligned, inside the file and
 *      not overlapping another; unknown REQUIRED sections refused; every byte
 *      outside the header, table and sections is zero padding;
 *   3. CRCs of META, TENSOR_INDEX, STRINGS (and unknown sections); META parsed
 *      with every length bounded, keys sorted and unique, values well-formed;
 *   4. tensors: dtype, ndim, checked element counts, sizes, aligned ranges
 *      inside TENSOR_DATA, no overlaps, unique names, finite scales;
 *   5. TENSOR_DATA CRC (unless UPF_OPEN_SKIP_DATA_CRC);
 *   6. the kind's required tensors, shapes and metadata (kinds.c).
 * Fields are read with upf_rd_u*le (byte arithmetic); file bytes are never
 * cast to structs. All arithmetic on file values is overflow-checked.
 */
#define _DEFAULT_SOURCE /* MAP_PRIVATE et al. under -std=c11 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32.h"
#include "f16.h"
#include "internal.h"
#include "quant.h"

/* ---- error messages: "<path>: <where>: <what>" ---- */

static upf_status fail(const upf_model *m, upf_err *err, upf_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static upf_status fail(const upf_model *m, upf_err *err, upf_status st, const char *fmt, ...)
{
    char msg[UPF_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return upf_err_set(err, st, "%s: %s", m->path, msg);
}

#define SECT_FMT "section '%s' (type %u) at offset %llu"
#define SECT_ARGS(s) upf_section_type_name((s)->type), (s)->type, (unsigned long long)(s)->offset
#define ULL(x) ((unsigned long long)(x))

/* ---- step 1: header ---- */

static upf_status check_header(upf_model *m, unsigned flags, upf_err *err)
{
    const uint8_t *b = m->base;
    size_t n = m->size;
    if (n < UPF_HEADER_SIZE) {
        int looks = n > 0 && memcmp(b, UPF_MAGIC, n < 8 ? n : 8) == 0;
        return fail(m, err, looks ? UPF_ERR_CORRUPT : UPF_ERR_FORMAT,
                    "file size %zu bytes is smaller than the 64-byte header (%s)", n,
                    looks ? "truncated" : "not a .upf model file");
    }
    if (memcmp(b, UPF_MAGIC, 8) != 0) {
        if (memcmp(b, "\x89UPF\n", 5) == 0 || memcmp(b, "\x89UPF\r\r\n", 7) == 0)
            return fail(m, err, UPF_ERR_CORRUPT, "header at offset 0: magic damaged by a text-mode (CRLF) transfer");
        return fail(m, err, UPF_ERR_FORMAT, "header at offset 0: bad magic %02x %02x %02x %02x (not a .upf model "
                    "file; expected 89 55 50 46 0d 0a 1a 0a)", b[0], b[1], b[2], b[3]);
    }
    uint32_t bom = upf_rd_u32le(b + UPF_H_BYTE_ORDER);
    if (bom != UPF_BYTE_ORDER_MARK)
        return fail(m, err, UPF_ERR_FORMAT, "header at offset 8: byte order mark 0x%08x (expected 0x01020304 "
                    "stored little-endian)%s", bom, bom == 0x04030201u ? ": written big-endian" : "");
    upf_file_info *h = &m->info;
    h->ver_major = upf_rd_u16le(b + UPF_H_VER_MAJOR);
    h->ver_minor = upf_rd_u16le(b + UPF_H_VER_MINOR);
    if (h->ver_major == 0)
        return fail(m, err, UPF_ERR_FORMAT, "header at offset 12: format major version 0 was never released");
    if (h->ver_major > UPF_FILE_VERSION_MAJOR)
        return fail(m, err, UPF_ERR_VERSION, "header at offset 12: format version %u.%u is newer than this "
                    "reader (major %u); upgrade libupfserve", h->ver_major, h->ver_minor, UPF_FILE_VERSION_MAJOR);
    h->kind = upf_rd_u32le(b + UPF_H_KIND);
    h->incompat_flags = upf_rd_u32le(b + UPF_H_INCOMPAT);
    h->header_size = upf_rd_u32le(b + UPF_H_HEADER_SIZE);
    h->alignment = upf_rd_u32le(b + UPF_H_ALIGNMENT);
    h->file_size = upf_rd_u64le(b + UPF_H_FILE_SIZE);
    h->sect_offset = upf_rd_u64le(b + UPF_H_SECT_OFFSET);
    h->sect_count = upf_rd_u32le(b + UPF_H_SECT_COUNT);
    h->sect_entry_size = upf_rd_u32le(b + UPF_H_SECT_ENTRY_SIZE);
    h->sect_table_crc = upf_rd_u32le(b + UPF_H_SECT_TABLE_CRC);
    h->header_crc = upf_rd_u32le(b + UPF_H_HEADER_CRC);
    if (h->header_size < UPF_HEADER_SIZE)
        return fail(m, err, UPF_ERR_FORMAT, "header at offset 24: header_size %u (expected >= 64)", h->header_size);
    if (h->alignment < UPF_ALIGNMENT || h->alignment > UPF_MAX_ALIGNMENT || (h->alignment & (h->alignment - 1)))
        return fail(m, err, UPF_ERR_FORMAT, "header at offset 28: alignment %u (expected a power of two in "
                    "[64, %u])", h->alignment, UPF_MAX_ALIGNMENT);
    uint32_t crc = upf_crc32(0, b, UPF_H_HEADER_CRC);
    if (crc != h->header_crc)
        return fail(m, err, UPF_ERR_CORRUPT, "header at offset 60: header CRC-32 mismatch (stored %08x, "
                    "computed %08x over bytes [0, 60))", h->header_crc, crc);
    if (h->incompat_flags)
        return fail(m, err, UPF_ERR_VERSION, "header at offset 20: incompatible feature flags 0x%08x that this "
                    "reader does not support", h->incompat_flags);
    if (h->file_size != n)
        return fail(m, err, UPF_ERR_CORRUPT, "header at offset 32: file size is %zu bytes but the header says %llu "
                    "(%s)", n, ULL(h->file_size), n < h->file_size ? "truncated" : "data appended");
    if (h->header_size > n)
        return fail(m, err, UPF_ERR_FORMAT, "header at offset 24: header_size %u exceeds the file size %zu",
                    h->header_size, n);
    if (h->kind == UPF_KIND_NONE)
        return fail(m, err, UPF_ERR_FORMAT, "header at offset 16: model kind 0 is invalid");
    if (h->kind >= UPF_KIND_COUNT && !(flags & UPF_OPEN_ANY_KIND))
        return fail(m, err, UPF_ERR_VERSION, "header at offset 16: model kind %u is unknown to this reader "
                    "(a newer file?)", h->kind);
    return UPF_OK;
}

/* ---- step 2: section table ---- */

typedef struct range {
    uint64_t begin, end;
    const char *what;
} range;

static int range_cmp(const void *a, const void *b, void *ctx)
{
    (void)ctx;
    const range *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* Sorts ranges, refuses overlaps, and checks that the bytes between them
 * (from lo to hi) are zero. `where` names the space in messages. */
static upf_status check_ranges(const upf_model *m, range *r, size_t n, uint64_t lo, uint64_t hi, const char *where,
                               upf_err *err)
{
    upf_heapsort(r, n, sizeof *r, range_cmp, NULL);
    uint64_t cur = lo;
    for (size_t i = 0; i <= n; i++) {
        uint64_t next = i < n ? r[i].begin : hi;
        if (i < n && i > 0 && r[i].begin < r[i - 1].end)
            return fail(m, err, UPF_ERR_FORMAT, "%s: %s [%llu, %llu) overlaps %s [%llu, %llu)", where, r[i].what,
                        ULL(r[i].begin), ULL(r[i].end), r[i - 1].what, ULL(r[i - 1].begin), ULL(r[i - 1].end));
        for (uint64_t p = cur; p < next; p++)
            if (m->base[p])
                return fail(m, err, UPF_ERR_CORRUPT, "%s: byte at offset %llu is 0x%02x in padding (expected 0)",
                            where, ULL(p), m->base[p]);
        if (i < n && r[i].end > cur) cur = r[i].end;
    }
    return UPF_OK;
}

static upf_status check_sections(upf_model *m, unsigned flags, upf_err *err)
{
    upf_file_info *h = &m->info;
    (void)flags;
    if (h->sect_offset % h->alignment || h->sect_offset < h->header_size)
        return fail(m, err, UPF_ERR_FORMAT, "header at offset 40: section table offset %llu (expected a multiple "
                    "of %u at or after the %u-byte header)", ULL(h->sect_offset), h->alignment, h->header_size);
    if (h->sect_entry_size < UPF_SECT_ENTRY_SIZE || h->sect_entry_size > UPF_MAX_SECT_ENTRY || h->sect_entry_size % 8)
        return fail(m, err, UPF_ERR_FORMAT, "header at offset 52: section entry size %u (expected a multiple of 8 "
                    "in [64, %u])", h->sect_entry_size, UPF_MAX_SECT_ENTRY);
    if (h->sect_count < 1 || h->sect_count > UPF_MAX_SECTIONS)
        return fail(m, err, UPF_ERR_FORMAT, "header at offset 48: section count %u (expected 1..%u)", h->sect_count,
                    UPF_MAX_SECTIONS);
    uint64_t tbytes = (uint64_t)h->sect_count * h->sect_entry_size; /* < 2^24: no overflow */
    if (h->sect_offset > m->size || tbytes > m->size - h->sect_offset)
        return fail(m, err, UPF_ERR_CORRUPT, "section table at offset %llu: %u entries of %u bytes run past the end "
                    "of the file (size %zu)", ULL(h->sect_offset), h->sect_count, h->sect_entry_size, m->size);
    const uint8_t *tab = m->base + h->sect_offset;
    uint32_t crc = upf_crc32(0, tab, (size_t)tbytes);
    if (crc != h->sect_table_crc)
        return fail(m, err, UPF_ERR_CORRUPT, "section table at offset %llu (%llu bytes): CRC-32 mismatch (header "
                    "says %08x, computed %08x)", ULL(h->sect_offset), ULL(tbytes), h->sect_table_crc, crc);
    if (!(m->sects = upf_calloc(h->sect_count, sizeof *m->sects)))
        return fail(m, err, UPF_ERR_NOMEM, "out of memory");
    range *rg = upf_calloc((size_t)h->sect_count + 2, sizeof *rg);
    if (!rg) return fail(m, err, UPF_ERR_NOMEM, "out of memory");
    upf_status st = UPF_OK;
    size_t nr = 0;
    rg[nr++] = (range){ 0, h->header_size, "the header" };
    rg[nr++] = (range){ h->sect_offset, h->sect_offset + tbytes, "the section table" };
    for (uint32_t i = 0; i < h->sect_count; i++) {
        const uint8_t *e = tab + (size_t)i * h->sect_entry_size;
        uint64_t eoff = h->sect_offset + (uint64_t)i * h->sect_entry_size;
        upf_sect *s = &m->sects[i];
        s->type = upf_rd_u32le(e + UPF_S_TYPE);
        s->flags = upf_rd_u32le(e + UPF_S_FLAGS);
        s->offset = upf_rd_u64le(e + UPF_S_OFFSET);
        s->size = upf_rd_u64le(e + UPF_S_SIZE);
        s->crc = upf_rd_u32le(e + UPF_S_CRC);
        s->count = upf_rd_u32le(e + UPF_S_COUNT);
        int ended = 0;
        for (int k = 0; k < 16; k++) {
            uint8_t c = e[UPF_S_NAME + k];
            if (c == 0) ended = 1;
            else if (ended || c < 0x20 || c > 0x7E) {
                st = fail(m, err, UPF_ERR_FORMAT, "section table entry %u at offset %llu: name byte %d is 0x%02x "
                          "(expected printable ASCII, then NUL padding)", i, ULL(eoff + UPF_S_NAME + (uint64_t)k), k, c);
                goto done;
            }
            s->name[k] = (char)c;
        }
        if (s->type == 0) {
            st = fail(m, err, UPF_ERR_FORMAT, "section table entry %u at offset %llu: section type 0 is invalid", i,
                      ULL(eoff));
            goto done;
        }
        if (s->offset % h->alignment) {
            st = fail(m, err, UPF_ERR_FORMAT, SECT_FMT ": offset is not a multiple of the alignment %u", SECT_ARGS(s),
                      h->alignment);
            goto done;
        }
        if (s->offset > m->size || s->size > m->size - s->offset) {
            st = fail(m, err, UPF_ERR_CORRUPT, SECT_FMT ": size %llu runs past the end of the file (size %zu)",
                      SECT_ARGS(s), ULL(s->size), m->size);
            goto done;
        }
        const upf_sect **slot = s->type == UPF_SECT_META ? &m->meta_s
                                : s->type == UPF_SECT_TENSOR_INDEX ? &m->index_s
                                : s->type == UPF_SECT_TENSOR_DATA ? &m->data_s
                                : s->type == UPF_SECT_STRINGS ? &m->strings_s
                                                                : NULL;
        if (slot) {
            if (*slot) {
                st = fail(m, err, UPF_ERR_FORMAT, SECT_FMT ": a second '%s' section (the first is at offset %llu)",
                          SECT_ARGS(s), upf_section_type_name(s->type), ULL((*slot)->offset));
                goto done;
            }
            *slot = s;
        } else if (s->flags & UPF_SECT_FLAG_REQUIRED) {
            st = fail(m, err, UPF_ERR_VERSION, "section '%s' (type 0x%08x) at offset %llu is REQUIRED but unknown to "
                      "this reader (a newer file?)", s->name, s->type, ULL(s->offset));
            goto done;
        }
        if (s->size) rg[nr++] = (range){ s->offset, s->offset + s->size, "a section" };
    }
    static const uint32_t need[] = { UPF_SECT_META, UPF_SECT_TENSOR_INDEX, UPF_SECT_STRINGS, UPF_SECT_TENSOR_DATA };
    const upf_sect *have[] = { m->meta_s, m->index_s, m->strings_s, m->data_s };
    for (int k = 0; k < 4; k++)
        if (!have[k]) {
            st = fail(m, err, UPF_ERR_FORMAT, "section table at offset %llu: no '%s' section (type %u)",
                      ULL(h->sect_offset), upf_section_type_name(need[k]), need[k]);
            goto done;
        }
    st = check_ranges(m, rg, nr, 0, m->size, "file layout", err);
done:
    upf_free(rg);
    return st;
}

static upf_status check_crc(const upf_model *m, const upf_sect *s, upf_err *err)
{
    uint32_t crc = upf_crc32(0, m->base + s->offset, (size_t)s->size);
    if (crc != s->crc)
        return fail(m, err, UPF_ERR_CORRUPT, SECT_FMT ": CRC-32 mismatch over %llu bytes (table says %08x, "
                    "computed %08x)", SECT_ARGS(s), ULL(s->size), s->crc, crc);
    return UPF_OK;
}

/* ---- step 3: META ---- */

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

/* Validates one value of a known vtype; returns a static description of the
 * problem or NULL. *n_str receives a STR_ARRAY's element count. */
static const char *check_value(uint8_t vtype, const uint8_t *v, uint32_t len, uint64_t *n_str)
{
    switch (vtype) {
    case UPF_META_U64:
    case UPF_META_I64:
    case UPF_META_F64: return len == 8 ? NULL : "value length is not 8";
    case UPF_META_BOOL:
        if (len != 1) return "bool value length is not 1";
        return v[0] <= 1 ? NULL : "bool value is not 0 or 1";
    case UPF_META_STR: return upf_utf8_valid(v, len) ? NULL : "string is not valid UTF-8 (or has control bytes)";
    case UPF_META_F64_ARRAY: return len % 8 == 0 ? NULL : "f64 array length is not a multiple of 8";
    case UPF_META_STR_ARRAY: {
        if (len < 8) return "string array shorter than its 8-byte count";
        uint64_t n = upf_rd_u64le(v);
        if (n > len - 8) return "string array count exceeds its bytes";
        if (n == 0) return len == 8 ? NULL : "empty string array with trailing bytes";
        if (v[len - 1] != 0) return "string array does not end with NUL";
        uint64_t seen = 0;
        uint32_t start = 8;
        for (uint32_t i = 8; i < len; i++)
            if (v[i] == 0) {
                if (!upf_utf8_valid(v + start, i - start)) return "string array element is not valid UTF-8";
                seen++;
                start = i + 1;
            }
        if (seen != n) return "string array count disagrees with its NUL terminators";
        *n_str = n;
        return NULL;
    }
    default: return NULL;
    }
}

static upf_status parse_meta(upf_model *m, upf_err *err)
{
    const upf_sect *s = m->meta_s;
    const uint8_t *p = m->base + s->offset;
    uint64_t size = s->size;
    if (s->count > size / 16)
        return fail(m, err, UPF_ERR_FORMAT, SECT_FMT ": count %u entries cannot fit in %llu bytes", SECT_ARGS(s),
                    s->count, ULL(size));
    if (size % 8)
        return fail(m, err, UPF_ERR_FORMAT, SECT_FMT ": size %llu is not a multiple of 8", SECT_ARGS(s), ULL(size));
    if (!(m->meta = upf_calloc((size_t)s->count + 1, sizeof *m->meta))) return fail(m, err, UPF_ERR_NOMEM, "out of memory");
    uint64_t pos = 0, total_str = 0;
    size_t i = 0;
    while (pos < size) {
        uint64_t at = s->offset + pos;
        if (i >= s->count)
            return fail(m, err, UPF_ERR_FORMAT, SECT_FMT ": entry at offset %llu is beyond the %u entries the table "
                        "announces", SECT_ARGS(s), ULL(at), s->count);
        if (size - pos < 8)
            return fail(m, err, UPF_ERR_CORRUPT, SECT_FMT ": entry %zu at offset %llu: header runs past the section "
                        "end", SECT_ARGS(s), i, ULL(at));
        const uint8_t *e = p + pos;
        upf_meta_ent *me = &m->meta[i];
        me->key_len = upf_rd_u16le(e);
        me->vtype = e[2];
        me->flags = e[3];
        me->val_len = upf_rd_u32le(e + 4);
        me->key = e + 8;
        uint64_t kpad = UPF_ALIGN_UP((uint64_t)me->key_len, 8);
        if (me->key_len == 0 || kpad > size - pos - 8)
            return fail(m, err, UPF_ERR_FORMAT, SECT_FMT ": entry %zu at offset %llu: key length %u (expected 1..%llu)",
                        SECT_ARGS(s), i, ULL(at), me->key_len, ULL(size - pos - 8));
        uint64_t vstart = pos + 8 + kpad;
        if (me->val_len > size - vstart)
            return fail(m, err, UPF_ERR_FORMAT, SECT_FMT ": entry %zu at offset %llu: value length %u runs past the "
                        "section end (%llu bytes left)", SECT_ARGS(s), i, ULL(at), me->val_len, ULL(size - vstart));
        uint64_t vend = vstart + me->val_len, next = UPF_ALIGN_UP(vend, 8);
        if (next > size)
            return fail(m, err, UPF_ERR_FORMAT, SECT_FMT ": entry %zu at offset %llu: value padding runs past the "
                        "section end", SECT_ARGS(s), i, ULL(at));
        me->val = p + vstart;
        if (!upf_meta_key_valid(me->key, me->key_len))
            return fail(m, err, UPF_ERR_FORMAT, SECT_FMT ": entry %zu at offset %llu: key is not printable ASCII",
                        SECT_ARGS(s), i, ULL(at));
        if (!all_zero(e + 8 + me->key_len, (size_t)(kpad - me->key_len)) || !all_zero(p + vend, (size_t)(next - vend)))
            return fail(m, err, UPF_ERR_CORRUPT, SECT_FMT ": entry %zu ('%.*s') at offset %llu: nonzero padding",
                        SECT_ARGS(s), i, (int)me->key_len, (const char *)me->key, ULL(at));
        if (i > 0) {
            const upf_meta_ent *pv = &m->meta[i - 1];
            int c = upf_key_cmp(pv->key, pv->key_len, me->key, me->key_len);
            if (c >= 0)
                return fail(m, err, UPF_ERR_FORMAT, SECT_FMT ": entry %zu at offset %llu: key '%.*s' %s", SECT_ARGS(s),
                            i, ULL(at), (int)me->key_len, (const char *)me->key,
                            c == 0 ? "appears twice" : "is out of order (keys must be sorted)");
        }
        int known_type = me->vtype >= UPF_META_U64 && me->vtype <= UPF_META_STR_ARRAY;
        if (me->flags & UPF_META_FLAG_CRITICAL) {
            if (!known_type)
                return fail(m, err, UPF_ERR_VERSION, SECT_FMT ": entry '%.*s' at offset %llu is CRITICAL with value "
                            "type %u unknown to this reader", SECT_ARGS(s), (int)me->key_len, (const char *)me->key,
                            ULL(at), me->vtype);
            if (!upf_kind_key_known(m->info.kind, me->key, me->key_len))
                return fail(m, err, UPF_ERR_VERSION, SECT_FMT ": key '%.*s' at offset %llu is CRITICAL and unknown to "
                            "this reader", SECT_ARGS(s), (int)me->key_len, (const char *)me->key, ULL(at));
        }
        if (known_type) {
            uint64_t n_str = 0;
            const char *why = check_value(me->vtype, me->val, me->val_len, &n_str);
            if (why)
                return fail(m, err, UPF_ERR_FORMAT, SECT_FMT ": entry '%.*s' at offset %llu: %s", SECT_ARGS(s),
                            (int)me->key_len, (const char *)me->key, ULL(at), why);
            if (me->vtype == UPF_META_STR_ARRAY) {
                me->str_first = (uint32_t)total_str;
                me->str_count = (uint32_t)n_str; /* n_str < val_len < 2^32 */
                total_str += n_str + 1;
            }
        }
        i++;
        pos = next;
    }
    if (i != s->count)
        return fail(m, err, UPF_ERR_FORMAT, SECT_FMT ": %zu entries found, the table says %u", SECT_ARGS(s), i,
                    s->count);
    m->n_meta = i;
    if (total_str > UINT32_MAX) return fail(m, err, UPF_ERR_FORMAT, SECT_FMT ": too many strings", SECT_ARGS(s));
    if (!(m->str_off = upf_calloc((size_t)total_str + 1, sizeof *m->str_off)))
        return fail(m, err, UPF_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < m->n_meta; k++) {
        const upf_meta_ent *me = &m->meta[k];
        if (me->vtype != UPF_META_STR_ARRAY || me->str_count == 0) continue;
        uint32_t *o = m->str_off + me->str_first, c = 0;
        o[c++] = 8;
        for (uint32_t b = 8; b < me->val_len; b++)
            if (me->val[b] == 0) o[c++] = b + 1; /* element j spans [o[j], o[j+1] - 1) */
    }
    return UPF_OK;
}

/* ---- step 4: STRINGS and TENSOR_INDEX ---- */

typedef struct name_sort_ctx {
    const upf_tensor_view *t;
} name_sort_ctx;

static int name_cmp(const void *a, const void *b, void *ctx)
{
    const name_sort_ctx *c = ctx;
    return strcmp(c->t[*(const uint32_t *)a].name, c->t[*(const uint32_t *)b].name);
}

static upf_status parse_tensors(upf_model *m, upf_err *err)
{
    const upf_sect *si = m->index_s, *ss = m->strings_s, *sd = m->data_s;
    const uint8_t *str = m->base + ss->offset;
    upf_status st = UPF_OK;
    uint32_t *starts = NULL;
    range *rg = NULL;
    /* STRINGS: `count` NUL-terminated, non-empty UTF-8 strings filling the section */
    if (ss->size > UINT32_MAX)
        return fail(m, err, UPF_ERR_FORMAT, SECT_FMT ": %llu bytes exceed 4 GiB", SECT_ARGS(ss), ULL(ss->size));
    if (ss->count > ss->size / 2 || (ss->size && str[ss->size - 1] != 0))
        return fail(m, err, UPF_ERR_FORMAT, SECT_FMT ": %u strings do not fit its %llu bytes, or the last is not "
                    "NUL-terminated", SECT_ARGS(ss), ss->count, ULL(ss->size));
    if (!(starts = upf_calloc((size_t)ss->count + 1, sizeof *starts))) return fail(m, err, UPF_ERR_NOMEM, "out of memory");
    uint32_t ns = 0, begin = 0;
    for (uint32_t b = 0; b < ss->size; b++) {
        if (str[b]) continue;
        if (b == begin || !upf_utf8_valid(str + begin, b - begin) || ns >= ss->count) {
            st = fail(m, err, UPF_ERR_FORMAT, SECT_FMT ": string at offset %llu is empty, not UTF-8, or beyond the %u "
                      "announced", SECT_ARGS(ss), ULL(ss->offset + begin), ss->count);
            goto done;
        }
        starts[ns++] = begin;
        begin = b + 1;
    }
    if (ns != ss->count) {
        st = fail(m, err, UPF_ERR_FORMAT, SECT_FMT ": %u strings found, the table says %u", SECT_ARGS(ss), ns, ss->count);
        goto done;
    }
    /* TENSOR_INDEX: count records of 64 bytes */
    if (si->size != (uint64_t)si->count * UPF_TENSOR_REC_SIZE) {
        st = fail(m, err, UPF_ERR_FORMAT, SECT_FMT ": size %llu is not %u records of 64 bytes", SECT_ARGS(si),
                  ULL(si->size), si->count);
        goto done;
    }
    m->n_tensors = si->count;
    if (!(m->tensors = upf_calloc(m->n_tensors + 1, sizeof *m->tensors)) ||
        !(m->tensor_by_name = upf_calloc(m->n_tensors + 1, sizeof *m->tensor_by_name)) ||
        !(rg = upf_calloc(2 * m->n_tensors + 1, sizeof *rg))) {
        st = fail(m, err, UPF_ERR_NOMEM, "out of memory");
        goto done;
    }
    size_t nr = 0;
    uint32_t align = m->info.alignment;
    for (size_t i = 0; i < m->n_tensors; i++) {
        const uint8_t *r = m->base + si->offset + i * UPF_TENSOR_REC_SIZE;
        unsigned long long at = ULL(si->offset + i * UPF_TENSOR_REC_SIZE);
        upf_tensor_view *t = &m->tensors[i];
        uint64_t doff = upf_rd_u64le(r + UPF_T_DATA_OFFSET), dsize = upf_rd_u64le(r + UPF_T_DATA_SIZE);
        uint64_t soff = upf_rd_u64le(r + UPF_T_SCALE_OFFSET);
        uint32_t noff = upf_rd_u32le(r + UPF_T_NAME_OFFSET);
        uint32_t dtype = r[UPF_T_DTYPE], ndim = r[UPF_T_NDIM], qb = upf_rd_u16le(r + UPF_T_Q_BLOCK);
        /* the name must start one of the strings (binary search over starts) */
        size_t lo = 0, hi = ns;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (starts[mid] < noff) lo = mid + 1;
            else hi = mid;
        }
        if (lo >= ns || starts[lo] != noff) {
            st = fail(m, err, UPF_ERR_FORMAT, "section 'tensor_index' at offset %llu: tensor %zu at offset %llu: "
                      "name offset %u does not start a string in the %llu-byte strings section", ULL(si->offset), i,
                      at, noff, ULL(ss->size));
            goto done;
        }
        t->name = (const char *)str + noff;
#define TFAIL(status, ...)                                                                                   \
    do {                                                                                                     \
        char what_[320];                                                                                     \
        snprintf(what_, sizeof what_, __VA_ARGS__);                                                          \
        st = fail(m, err, status, "section 'tensor_index' at offset %llu: tensor %zu '%.64s' at offset %llu: %s", \
                  ULL(si->offset), i, t->name, at, what_);                                                   \
        goto done;                                                                                           \
    } while (0)
        size_t esz = upf_dtype_size(dtype);
        if (!esz) TFAIL(UPF_ERR_FORMAT, "dtype %u is unknown", dtype);
        if (ndim < 1 || ndim > 4) TFAIL(UPF_ERR_FORMAT, "ndim %u (expected 1..4)", ndim);
        t->dtype = dtype;
        t->ndim = ndim;
        uint64_t n = 1;
        for (uint32_t d = 0; d < 4; d++) {
            uint64_t v = upf_rd_u64le(r + UPF_T_DIMS + 8 * d);
            t->dims[d] = v;
            if (d >= ndim) {
                if (v) TFAIL(UPF_ERR_FORMAT, "dims[%u] = %llu beyond ndim %u (expected 0)", d, ULL(v), ndim);
                continue;
            }
            if (v && n > UINT64_MAX / v) TFAIL(UPF_ERR_FORMAT, "element count overflows 64 bits");
            n *= v;
        }
        if (n > SIZE_MAX / 8 || n * esz != dsize)
            TFAIL(UPF_ERR_FORMAT, "data size %llu bytes (expected %llu elements x %zu bytes)", ULL(dsize), ULL(n), esz);
        t->n_elems = n;
        if (doff % align || doff > sd->size || dsize > sd->size - doff)
            TFAIL(UPF_ERR_FORMAT, "data [%llu, +%llu) is misaligned or outside the %llu-byte tensor_data section",
                  ULL(doff), ULL(dsize), ULL(sd->size));
        t->data = m->base + sd->offset + doff;
        if (dsize) rg[nr++] = (range){ doff, doff + dsize, "tensor data" };
        if (dtype == UPF_DTYPE_I8S) {
            uint64_t inner = t->dims[ndim - 1], rows = inner ? n / inner : 0;
            if (qb < 1) TFAIL(UPF_ERR_FORMAT, "I8S with q_block 0");
            uint64_t nb = inner / qb + (inner % qb != 0), sbytes;
            if (rows && nb > UINT64_MAX / 4 / rows) TFAIL(UPF_ERR_FORMAT, "scale size overflows");
            sbytes = rows * nb * 4;
            if (soff % align || soff > sd->size || sbytes > sd->size - soff)
                TFAIL(UPF_ERR_FORMAT, "scales [%llu, +%llu) are misaligned or outside the %llu-byte tensor_data "
                      "section", ULL(soff), ULL(sbytes), ULL(sd->size));
            t->scales = (const float *)(const void *)(m->base + sd->offset + soff);
            t->q_block = qb;
            if (sbytes) rg[nr++] = (range){ soff, soff + sbytes, "tensor scales" };
            const uint8_t *sp = m->base + sd->offset + soff;
            for (uint64_t k = 0; k < rows * nb; k++) {
                uint32_t u = upf_rd_u32le(sp + 4 * k);
                float f;
                memcpy(&f, &u, 4);
                if (!(f >= 0.0f) || !isfinite(f))
                    TFAIL(UPF_ERR_FORMAT, "scale %llu is %g (expected finite and >= 0)", ULL(k), (double)f);
            }
        } else if (qb || soff) {
            TFAIL(UPF_ERR_FORMAT, "q_block %u / scale_offset %llu set on a %s tensor (expected 0)", qb, ULL(soff),
                  upf_dtype_name(dtype));
        }
#undef TFAIL
        m->tensor_by_name[i] = (uint32_t)i;
    }
    name_sort_ctx ctx = { m->tensors };
    upf_heapsort(m->tensor_by_name, m->n_tensors, sizeof *m->tensor_by_name, name_cmp, &ctx);
    for (size_t i = 1; i < m->n_tensors; i++) {
        uint32_t a = m->tensor_by_name[i - 1], b = m->tensor_by_name[i];
        if (strcmp(m->tensors[a].name, m->tensors[b].name) == 0) {
            st = fail(m, err, UPF_ERR_FORMAT, "section 'tensor_index' at offset %llu: tensors %u and %u are both "
                      "named '%.64s'", ULL(si->offset), a < b ? a : b, a < b ? b : a, m->tensors[a].name);
            goto done;
        }
    }
    char where[96];
    snprintf(where, sizeof where, "section 'tensor_data' at offset %llu", ULL(sd->offset));
    /* check_ranges works on absolute offsets: shift by the section start */
    for (size_t k = 0; k < nr; k++) {
        rg[k].begin += sd->offset;
        rg[k].end += sd->offset;
    }
    st = check_ranges(m, rg, nr, sd->offset, sd->offset + sd->size, where, err);
done:
    upf_free(starts);
    upf_free(rg);
    return st;
}

/* ---- open ---- */

static int host_is_little_endian(void)
{
    const uint16_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 1;
}

static upf_status model_parse(upf_model *m, unsigned flags, upf_err *err)
{
    upf_status st;
    m->flags = flags;
    if (!host_is_little_endian())
        return fail(m, err, UPF_ERR_FORMAT, "this reader runs on little-endian hosts only");
    if ((st = check_header(m, flags, err))) return st;
    if ((st = check_sections(m, flags, err))) return st;
    for (uint32_t i = 0; i < m->info.sect_count; i++) {
        const upf_sect *s = &m->sects[i];
        if (s->type == UPF_SECT_TENSOR_DATA && (flags & UPF_OPEN_SKIP_DATA_CRC)) continue;
        if (s->type != UPF_SECT_TENSOR_DATA && (st = check_crc(m, s, err))) return st;
    }
    if ((st = parse_meta(m, err))) return st;
    if ((st = parse_tensors(m, err))) return st;
    m->info.data_crc_checked = !(flags & UPF_OPEN_SKIP_DATA_CRC);
    if (m->info.data_crc_checked && (st = check_crc(m, m->data_s, err))) return st;
    if (m->info.kind < UPF_KIND_COUNT && (st = upf_kind_check(m, err))) return st;
    upf_kernels_init(&m->kern, (flags & UPF_OPEN_REF_KERNELS) ? UPF_KERN_REF : UPF_KERN_AVX2);
    m->info.kernels = m->kern.name;
    return UPF_OK;
}

static upf_model *model_new(const char *path, upf_err *err)
{
    upf_model *m = upf_calloc(1, sizeof *m);
    if (m && !(m->path = upf_strdup(path))) {
        upf_free(m);
        m = NULL;
    }
    if (!m) upf_err_set(err, UPF_ERR_NOMEM, "%s: out of memory", path);
    return m;
}

void upf_model_close(upf_model *m)
{
    if (!m) return;
    upf_kind_state_free(&m->ks);
    if (m->map) munmap(m->map, m->size);
    upf_free_aligned(m->owned);
    upf_free(m->sects);
    upf_free(m->meta);
    upf_free(m->str_off);
    upf_free(m->tensors);
    upf_free(m->tensor_by_name);
    upf_free(m->path);
    upf_free(m);
}

upf_status upf_model_open(const char *path, unsigned flags, upf_model **out, upf_err *err)
{
    *out = NULL;
    if (!path) return upf_err_set(err, UPF_ERR_ARG, "model open: NULL path");
    upf_model *m = model_new(path, err);
    if (!m) return UPF_ERR_NOMEM;
    upf_status st = UPF_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0) {
        st = upf_err_sys(err, UPF_ERR_IO, "%s: cannot open", path);
        goto done;
    }
    if (fstat(fd, &sb) != 0) {
        st = upf_err_sys(err, UPF_ERR_IO, "%s: cannot stat", path);
        goto done;
    }
    if (!S_ISREG(sb.st_mode)) {
        st = upf_err_set(err, UPF_ERR_IO, "%s: not a regular file", path);
        goto done;
    }
    if ((uint64_t)sb.st_size > SIZE_MAX / 2) {
        st = upf_err_set(err, UPF_ERR_IO, "%s: file of %lld bytes is too large", path, (long long)sb.st_size);
        goto done;
    }
    m->size = (size_t)sb.st_size;
    if (m->size && !(flags & UPF_OPEN_NO_MMAP)) {
        void *p = mmap(NULL, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p != MAP_FAILED) {
            m->map = p;
            m->base = p;
            m->info.mapped = 1;
        }
    }
    if (!m->base) { /* no mmap (or asked not to): read into a 64-byte-aligned buffer */
        if (!(m->owned = upf_malloc_aligned(m->size))) {
            st = upf_err_set(err, UPF_ERR_NOMEM, "%s: out of memory for %zu bytes", path, m->size);
            goto done;
        }
        size_t got = 0;
        while (got < m->size) {
            ssize_t r = read(fd, (char *)m->owned + got, m->size - got);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) {
                st = upf_err_sys(err, UPF_ERR_IO, "%s: read failed at offset %zu of %zu", path, got, m->size);
                goto done;
            }
            got += (size_t)r;
        }
        m->base = m->owned;
    }
    close(fd);
    fd = -1;
    st = model_parse(m, flags, err);
done:
    if (fd >= 0) close(fd);
    if (st) {
        upf_model_close(m);
        return st;
    }
    *out = m;
    return UPF_OK;
}

upf_status upf_model_open_buffer(const void *data, size_t n, unsigned flags, upf_model **out, upf_err *err)
{
    *out = NULL;
    if (!data && n) return upf_err_set(err, UPF_ERR_ARG, "model open: NULL buffer");
    upf_model *m = model_new("<buffer>", err);
    if (!m) return UPF_ERR_NOMEM;
    m->size = n;
    if (data && ((uintptr_t)data % UPF_ALIGNMENT) == 0) {
        m->base = data;
    } else {
        if (!(m->owned = upf_malloc_aligned(n))) {
            upf_model_close(m);
            return upf_err_set(err, UPF_ERR_NOMEM, "<buffer>: out of memory for %zu bytes", n);
        }
        if (n) memcpy(m->owned, data, n);
        m->base = m->owned;
    }
    upf_status st = model_parse(m, flags, err);
    if (st) {
        upf_model_close(m);
        return st;
    }
    *out = m;
    return UPF_OK;
}

/* ---- accessors ---- */

uint32_t upf_model_kind(const upf_model *m) { return m ? m->info.kind : 0; }

void upf_model_version(const upf_model *m, uint16_t *major, uint16_t *minor)
{
    if (major) *major = m ? m->info.ver_major : 0;
    if (minor) *minor = m ? m->info.ver_minor : 0;
}

void upf_model_file_info(const upf_model *m, upf_file_info *out) { *out = m->info; }

size_t upf_model_n_sections(const upf_model *m) { return m->info.sect_count; }

upf_status upf_model_section_at(const upf_model *m, size_t i, upf_section_info *out)
{
    memset(out, 0, sizeof *out);
    if (i >= m->info.sect_count) return UPF_ERR_ARG;
    const upf_sect *s = &m->sects[i];
    out->type = s->type;
    out->flags = s->flags;
    out->offset = s->offset;
    out->size = s->size;
    out->crc32 = s->crc;
    out->count = s->count;
    memcpy(out->name, s->name, sizeof out->name);
    out->name[16] = '\0';
    return UPF_OK;
}

size_t upf_model_n_tensors(const upf_model *m) { return m->n_tensors; }

upf_status upf_model_tensor_at(const upf_model *m, size_t i, upf_tensor_view *out)
{
    if (i >= m->n_tensors) {
        memset(out, 0, sizeof *out);
        return UPF_ERR_ARG;
    }
    *out = m->tensors[i];
    return UPF_OK;
}

upf_status upf_model_tensor(const upf_model *m, const char *name, upf_tensor_view *out, upf_err *err)
{
    memset(out, 0, sizeof *out);
    size_t lo = 0, hi = m->n_tensors;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(m->tensors[m->tensor_by_name[mid]].name, name);
        if (c == 0) {
            *out = m->tensors[m->tensor_by_name[mid]];
            return UPF_OK;
        }
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return upf_err_set(err, UPF_ERR_ARG, "%s: no tensor named '%s'", m->path, name);
}

const upf_meta_ent *upf_model_find_meta(const upf_model *m, const char *key)
{
    size_t kl = strlen(key), lo = 0, hi = m->n_meta;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const upf_meta_ent *e = &m->meta[mid];
        int c = upf_key_cmp(e->key, e->key_len, (const uint8_t *)key, kl);
        if (c == 0) return e;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

void upf_meta_str_elem(const upf_model *m, const upf_meta_ent *e, size_t i, const char **s, size_t *len)
{
    const uint32_t *o = m->str_off + e->str_first;
    *s = (const char *)e->val + o[i];
    *len = o[i + 1] - 1 - o[i];
}

static const upf_meta_ent *meta_typed(const upf_model *m, const char *key, uint8_t vtype)
{
    const upf_meta_ent *e = m && key ? upf_model_find_meta(m, key) : NULL;
    return e && e->vtype == vtype ? e : NULL;
}

upf_status upf_model_meta_u64(const upf_model *m, const char *key, uint64_t *v)
{
    const upf_meta_ent *e = meta_typed(m, key, UPF_META_U64);
    *v = e ? upf_rd_u64le(e->val) : 0;
    return e ? UPF_OK : UPF_ERR_ARG;
}

upf_status upf_model_meta_i64(const upf_model *m, const char *key, int64_t *v)
{
    const upf_meta_ent *e = meta_typed(m, key, UPF_META_I64);
    *v = e ? (int64_t)upf_rd_u64le(e->val) : 0;
    return e ? UPF_OK : UPF_ERR_ARG;
}

upf_status upf_model_meta_f64(const upf_model *m, const char *key, double *v)
{
    const upf_meta_ent *e = meta_typed(m, key, UPF_META_F64);
    uint64_t u = e ? upf_rd_u64le(e->val) : 0;
    memcpy(v, &u, sizeof *v);
    return e ? UPF_OK : UPF_ERR_ARG;
}

upf_status upf_model_meta_str(const upf_model *m, const char *key, const char **s, size_t *len)
{
    const upf_meta_ent *e = meta_typed(m, key, UPF_META_STR);
    *s = e ? (const char *)e->val : NULL;
    *len = e ? e->val_len : 0;
    return e ? UPF_OK : UPF_ERR_ARG;
}

upf_status upf_model_meta_bool(const upf_model *m, const char *key, int *v)
{
    const upf_meta_ent *e = meta_typed(m, key, UPF_META_BOOL);
    *v = e ? e->val[0] : 0;
    return e ? UPF_OK : UPF_ERR_ARG;
}

upf_status upf_model_meta_f64_array(const upf_model *m, const char *key, const double **v, size_t *n)
{
    const upf_meta_ent *e = meta_typed(m, key, UPF_META_F64_ARRAY);
    /* META starts 64-aligned and values 8-aligned within it, on a 64-aligned base */
    *v = e && e->val_len ? (const double *)(const void *)e->val : NULL;
    *n = e ? e->val_len / 8 : 0;
    return e ? UPF_OK : UPF_ERR_ARG;
}

upf_status upf_model_meta_str_at(const upf_model *m, const char *key, size_t i, const char **s, size_t *len)
{
    const upf_meta_ent *e = meta_typed(m, key, UPF_META_STR_ARRAY);
    *s = NULL;
    *len = 0;
    if (!e || i >= e->str_count) return UPF_ERR_ARG;
    upf_meta_str_elem(m, e, i, s, len);
    return UPF_OK;
}

upf_status upf_model_meta_count(const upf_model *m, const char *key, upf_meta_type *type, size_t *n)
{
    const upf_meta_ent *e = m && key ? upf_model_find_meta(m, key) : NULL;
    if (type) *type = e ? (upf_meta_type)e->vtype : UPF_META_NONE;
    if (n) {
        *n = 0;
        if (e) switch (e->vtype) {
            case UPF_META_STR: *n = e->val_len; break;
            case UPF_META_F64_ARRAY: *n = e->val_len / 8; break;
            case UPF_META_STR_ARRAY: *n = e->str_count; break;
            default: *n = 1;
            }
    }
    return e ? UPF_OK : UPF_ERR_ARG;
}

size_t upf_model_n_meta(const upf_model *m) { return m->n_meta; }

upf_status upf_model_meta_at(const upf_model *m, size_t i, const char **key, size_t *key_len, upf_meta_type *type)
{
    if (i >= m->n_meta) {
        *key = NULL;
        *key_len = 0;
        *type = UPF_META_NONE;
        return UPF_ERR_ARG;
    }
    *key = (const char *)m->meta[i].key;
    *key_len = m->meta[i].key_len;
    *type = (upf_meta_type)m->meta[i].vtype;
    return UPF_OK;
}

upf_status upf_model_meta_raw_at(const upf_model *m, size_t i, upf_meta_raw *out)
{
    memset(out, 0, sizeof *out);
    if (i >= m->n_meta) return UPF_ERR_ARG;
    const upf_meta_ent *e = &m->meta[i];
    out->key = (const char *)e->key;
    out->key_len = e->key_len;
    out->vtype = e->vtype;
    out->flags = e->flags;
    out->val = e->val;
    out->val_len = e->val_len;
    return UPF_OK;
}

/* ---- tensor decoding ---- */

static double elem_f64(const upf_tensor_view *v, uint64_t k)
{
    const uint8_t *p = v->data;
    switch (v->dtype) {
    case UPF_DTYPE_F32: {
        uint32_t u = upf_rd_u32le(p + 4 * k);
        float f;
        memcpy(&f, &u, 4);
        return (double)f;
    }
    case UPF_DTYPE_F16: return (double)upf_f16_to_f32(upf_rd_u16le(p + 2 * k));
    case UPF_DTYPE_I8S: {
        uint64_t inner = v->dims[v->ndim - 1];
        uint64_t nb = inner / v->q_block + (inner % v->q_block != 0);
        uint64_t row = k / inner, col = k % inner;
        return (double)((float)(int8_t)p[k] * v->scales[row * nb + col / v->q_block]);
    }
    case UPF_DTYPE_I32: return (double)(int32_t)upf_rd_u32le(p + 4 * k);
    case UPF_DTYPE_I64: return (double)(int64_t)upf_rd_u64le(p + 8 * k);
    case UPF_DTYPE_U8: return (double)p[k];
    default: return 0.0;
    }
}

upf_status upf_tensor_read_f64(const upf_tensor_view *v, uint64_t first, size_t n, double *out)
{
    if (!v || !v->data || first > v->n_elems || n > v->n_elems - first) return UPF_ERR_ARG;
    for (size_t i = 0; i < n; i++) out[i] = elem_f64(v, first + i);
    return UPF_OK;
}

upf_status upf_tensor_read_f32(const upf_tensor_view *v, uint64_t first, size_t n, float *out)
{
    if (!v || !v->data || first > v->n_elems || n > v->n_elems - first) return UPF_ERR_ARG;
    if (v->dtype != UPF_DTYPE_F32 && v->dtype != UPF_DTYPE_F16 && v->dtype != UPF_DTYPE_I8S) return UPF_ERR_ARG;
    for (size_t i = 0; i < n; i++) out[i] = (float)elem_f64(v, first + i); /* exact: the value is a float */
    return UPF_OK;
}
