/* import.c - the import context: bad-row policy, statistics, field
 * conversions with located messages, id interning and attributes (see
 * import.h).
 *
 * Dense integer ids: most public logs number users and items 1..N. Their
 * canonical decimal text ("17850", never "017850") maps one to one to the
 * number, so a plain array from number to builder index answers repeats
 * without hashing the text; the builder still interns the text once, so the
 * dataset is the same with or without the cache. The array grows only while
 * it stays within 4 x the ids seen + 4M entries (16 MB). The event loop
 * (import_csv.c) parses rows in batches and prefetches their entries, so the
 * random accesses of a batch overlap instead of stalling one by one.
 */
#include "import.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "numparse.h"
#include "internal.h"

upf_import_opts upf_import_opts_default(void)
{
    upf_import_opts o;
    memset(&o, 0, sizeof o);
    o.show_bad = 5;
    o.threads = 1;
    return o;
}

void upf_import_init(upf_import *im, upf_builder *b, const upf_import_opts *o)
{
    memset(im, 0, sizeof *im);
    im->b = b;
    im->o = o ? *o : upf_import_opts_default();
}

void upf_import_release(upf_import *im)
{
    if (!im) return;
    upf_free(im->users.idx);
    upf_free(im->items.idx);
    im->users.idx = im->items.idx = NULL;
    im->users.cap = im->items.cap = 0;
}

/* ---- policy and statistics ---- */

static void count_reason(upf_import *im, const char *reason)
{
    upf_import_stats *s = &im->st;
    s->skipped++;
    size_t i = 0;
    while (i < s->n_reasons && strcmp(s->reason[i], reason) != 0) i++;
    if (i == s->n_reasons) {
        if (s->n_reasons < UPF_IMPORT_MAX_REASONS - 1) {
            snprintf(s->reason[i], sizeof s->reason[i], "%s", reason);
            s->n_reasons++;
        } else { /* the last slot collects the rest */
            i = UPF_IMPORT_MAX_REASONS - 1;
            snprintf(s->reason[i], sizeof s->reason[i], "other");
            s->n_reasons = UPF_IMPORT_MAX_REASONS;
        }
    }
    s->reason_count[i]++;
}

upf_status upf_import_bad_row(upf_import *im, const char *reason, upf_err *rowerr)
{
    if (!im->o.skip_bad_rows) return rowerr->status ? rowerr->status : UPF_ERR_FORMAT;
    count_reason(im, reason);
    if (im->shown_bad < im->o.show_bad) {
        im->shown_bad++;
        upf_log(UPF_LOG_WARN, "skipped: %s", rowerr->msg);
    }
    upf_err_clear(rowerr);
    return UPF_OK;
}

void upf_import_skip(upf_import *im, const char *reason) { count_reason(im, reason); }

uint64_t upf_import_skipped(const upf_import_stats *s, const char *reason)
{
    for (size_t i = 0; i < s->n_reasons; i++)
        if (strcmp(s->reason[i], reason) == 0) return s->reason_count[i];
    return 0;
}

upf_status upf_import_poll(upf_import *im, upf_err *err)
{
    (void)im;
    if (upf_interrupted()) return upf_err_set(err, UPF_ERR_INTERRUPTED, "import interrupted; no output written");
    return UPF_OK;
}

/* ---- located messages ---- */

/* The field's text for a message: at most 60 bytes, control bytes escaped. */
static void show_text(const char *p, size_t n, char *buf, size_t cap)
{
    size_t k = 0, i = 0;
    for (; i < n && k + 8 < cap && i < 60; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '"' || c == '\\') {
            buf[k++] = '\\';
            buf[k++] = (char)c;
        } else if (c == '\n') {
            buf[k++] = '\\';
            buf[k++] = 'n';
        } else if (c == '\t') {
            buf[k++] = '\\';
            buf[k++] = 't';
        } else if (c < 0x20 || c == 0x7f) {
            k += (size_t)snprintf(buf + k, cap - k, "\\x%02x", c);
        } else {
            buf[k++] = (char)c;
        }
    }
    if (i < n && k + 4 < cap) {
        memcpy(buf + k, "...", 3);
        k += 3;
    }
    buf[k] = '\0';
}

upf_status upf_field_error(const upf_csv *r, const upf_csv_field *f, const char *name, const char *what,
                           upf_err *err)
{
    char text[256];
    show_text(f->p, f->len, text, sizeof text);
    return upf_err_set(err, UPF_ERR_FORMAT, "%s:%lld:%lld: %s: expected %s, got \"%s\"", upf_csv_path(r),
                       (long long)f->line, (long long)f->col, name, what, text);
}

upf_status upf_row_short(const upf_csv *r, size_t have, size_t need, const char *name, upf_err *err)
{
    size_t nf;
    const upf_csv_field *f = upf_csv_row(r, &nf);
    int64_t line = upf_csv_line(r), col = 1;
    if (nf > 0) { /* where the missing field would start */
        line = f[nf - 1].line;
        col = f[nf - 1].col + (int64_t)f[nf - 1].len + 1;
    }
    return upf_err_set(err, UPF_ERR_FORMAT, "%s:%lld:%lld: %s: expected a field in column %zu, got a row of %zu field%s",
                       upf_csv_path(r), (long long)line, (long long)col, name, need, have, have == 1 ? "" : "s");
}

upf_status upf_field_i64(const upf_csv *r, const upf_csv_field *f, const char *name, int64_t *out, upf_err *err)
{
    upf_num_result rc = upf_num_parse_i64(f->p, f->len, out);
    if (rc == UPF_NUM_OK) return UPF_OK;
    return upf_field_error(r, f, name, rc == UPF_NUM_RANGE ? "an integer within int64" : "an integer", err);
}

upf_status upf_field_f64(const upf_csv *r, const upf_csv_field *f, const char *name, double *out, upf_err *err)
{
    upf_num_result rc = upf_num_parse_f64(f->p, f->len, out);
    if (rc == UPF_NUM_OK) return UPF_OK;
    return upf_field_error(r, f, name, rc == UPF_NUM_RANGE ? "a finite number" : "a number", err);
}

upf_status upf_field_f32(const upf_csv *r, const upf_csv_field *f, const char *name, float *out, upf_err *err)
{
    double d;
    *out = 0;
    upf_num_result rc = upf_num_parse_f64(f->p, f->len, &d);
    if (rc == UPF_NUM_OK && fabs(d) <= (double)FLT_MAX) {
        *out = (float)d;
        return UPF_OK;
    }
    return upf_field_error(r, f, name, rc == UPF_NUM_SYNTAX ? "a number" : "a number within float32 range", err);
}

upf_status upf_field_time(const upf_csv *r, const upf_csv_field *f, const char *name, upf_time_format fmt,
                          int64_t *out, upf_err *err)
{
    upf_time_error te;
    if (upf_time_parse(f->p, f->len, fmt, out, &te) == 0) return UPF_OK;
    char text[256];
    show_text(f->p, f->len, text, sizeof text);
    return upf_err_set(err, UPF_ERR_FORMAT, "%s:%lld:%lld: %s: expected %s, got \"%s\" (%s)", upf_csv_path(r),
                       (long long)f->line, (long long)f->col, name, upf_time_format_expect(fmt), text, te.what);
}

/* ---- ids ---- */

static int32_t cache_get(const upf_idcache *c, uint64_t v) { return v < c->cap ? c->idx[v] - 1 : -1; }

/* Remembers v -> index when the array can cover v without growing beyond a
 * small multiple of the number of ids; otherwise the hash path serves v. */
static void cache_put(upf_idcache *c, uint64_t v, int32_t index, size_t n_ids)
{
    if (v >= c->cap) {
        uint64_t limit = 4 * (uint64_t)n_ids + (UINT64_C(1) << 22);
        if (v >= limit) return;
        size_t ncap = c->cap ? c->cap : 1024;
        while (ncap <= v) ncap *= 2;
        size_t bytes;
        if (upf_mul_size(ncap, sizeof(int32_t), &bytes)) return;
        int32_t *n = upf_realloc(c->idx, bytes);
        if (!n) return; /* the cache is an optimisation only */
        memset(n + c->cap, 0, (ncap - c->cap) * sizeof(int32_t));
        c->idx = n;
        c->cap = ncap;
    }
    c->idx[v] = index + 1;
}

static upf_status intern(upf_import *im, int is_item, const char *id, size_t len, int32_t *out, upf_err *err)
{
    upf_idcache *c = is_item ? &im->items : &im->users;
    uint64_t v;
    int canon = upf_num_canonical_u62(id, len, &v);
    if (canon) {
        int32_t k = cache_get(c, v);
        if (k >= 0) {
            *out = k;
            return UPF_OK;
        }
    }
    size_t before = is_item ? upf_builder_n_items(im->b) : upf_builder_n_users(im->b);
    size_t max = im->o.max_ids ? im->o.max_ids : (size_t)INT32_MAX;
    int32_t k = is_item ? upf_builder_item(im->b, id, len) : upf_builder_user(im->b, id, len);
    if (k < 0) {
        *out = -1;
        return upf_err_set(err, UPF_ERR_NOMEM, "out of memory interning %s ids (%zu so far)", is_item ? "item" : "user",
                           before);
    }
    if ((size_t)k >= max) {
        *out = -1;
        return upf_err_set(err, UPF_ERR_DATA, "more than %zu distinct %s ids (indices are int32)", max,
                           is_item ? "item" : "user");
    }
    if (canon) cache_put(c, v, k, before + 1);
    *out = k;
    return UPF_OK;
}

upf_status upf_import_user_text(upf_import *im, const char *id, size_t len, int32_t *out, upf_err *err)
{
    return intern(im, 0, id, len, out, err);
}

upf_status upf_import_item_text(upf_import *im, const char *id, size_t len, int32_t *out, upf_err *err)
{
    return intern(im, 1, id, len, out, err);
}

upf_status upf_field_id_text(const upf_csv *r, const upf_csv_field *f, const char *name, upf_id_kind kind,
                             char *buf, size_t cap, const char **out, size_t *n_out, upf_err *err)
{
    const char *p = f->p;
    size_t n = f->len;
    *out = NULL;
    *n_out = 0;
    if (n == 0) return upf_field_error(r, f, name, "an id", err);
    switch (kind) {
    case UPF_ID_INT: {
        int64_t v;
        upf_num_result rc = upf_num_parse_i64(p, n, &v);
        if (rc != UPF_NUM_OK)
            return upf_field_error(r, f, name, rc == UPF_NUM_RANGE ? "an integer id within int64" : "an integer id",
                                   err);
        while (n && (*p == ' ' || *p == '\t')) p++, n--;
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
        break;
    }
    case UPF_ID_INT_FLOAT: {
        double d;
        if (upf_num_parse_f64(p, n, &d) != UPF_NUM_OK || d != floor(d) || fabs(d) >= 9007199254740992.0)
            return upf_field_error(r, f, name, "an integer id (such as 17850 or 17850.0)", err);
        if (cap < 32) return upf_err_set(err, UPF_ERR_ARG, "id buffer too small");
        n = (size_t)snprintf(buf, cap, "%lld", (long long)d);
        p = buf;
        break;
    }
    case UPF_ID_LATIN1:
        if (cap < 2 * n + 1) return upf_err_set(err, UPF_ERR_ARG, "id buffer too small");
        n = upf_latin1_to_utf8(p, n, buf);
        p = buf;
        break;
    case UPF_ID_STRING:
    default: {
        int ascii = 1;
        for (size_t i = 0; i < n && ascii; i++) ascii = (unsigned char)p[i] < 0x80;
        if (!ascii && !upf_utf8_valid(p, n, NULL))
            return upf_field_error(r, f, name, "an id in UTF-8 (is the file Latin-1?)", err);
        break;
    }
    }
    *out = p;
    *n_out = n;
    return UPF_OK;
}

static upf_status field_id(upf_import *im, int is_item, const upf_csv *r, const upf_csv_field *f, const char *name,
                           upf_id_kind kind, int32_t *out, upf_err *err)
{
    char small[512];
    char *buf = small;
    size_t cap = sizeof small;
    *out = -1;
    if (kind == UPF_ID_LATIN1 && 2 * f->len + 1 > cap) {
        cap = 2 * f->len + 1;
        if (!(buf = upf_malloc(cap))) return upf_err_set(err, UPF_ERR_NOMEM, "out of memory");
    }
    const char *p;
    size_t n;
    upf_status st = upf_field_id_text(r, f, name, kind, buf, cap, &p, &n, err);
    if (!st) st = intern(im, is_item, p, n, out, err);
    if (buf != small) upf_free(buf);
    return st;
}

void upf_import_prefetch_id(const upf_import *im, int is_item, uint64_t v)
{
    const upf_idcache *c = is_item ? &im->items : &im->users;
#if defined(__GNUC__)
    if (v < c->cap) __builtin_prefetch(&c->idx[v]);
#else
    (void)c;
    (void)v;
#endif
}

upf_status upf_import_id_u62(upf_import *im, int is_item, uint64_t v, int32_t *out, upf_err *err)
{
    int32_t k = cache_get(is_item ? &im->items : &im->users, v);
    if (k >= 0) {
        *out = k;
        return UPF_OK;
    }
    char text[24], *e = text + sizeof text, *p = e;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return intern(im, is_item, p, (size_t)(e - p), out, err);
}

upf_status upf_field_user(upf_import *im, const upf_csv *r, const upf_csv_field *f, const char *name,
                          upf_id_kind kind, int32_t *out, upf_err *err)
{
    return field_id(im, 0, r, f, name, kind, out, err);
}

upf_status upf_field_item(upf_import *im, const upf_csv *r, const upf_csv_field *f, const char *name,
                          upf_id_kind kind, int32_t *out, upf_err *err)
{
    return field_id(im, 1, r, f, name, kind, out, err);
}

upf_status upf_import_builder_error(upf_import *im, upf_status st, const char *what, upf_err *err)
{
    upf_err be;
    upf_err_clear(&be);
    if (upf_builder_status(im->b, &be) && be.msg[0]) {
        if (err) {
            *err = be;
            upf_err_prefix(err, "%s", what);
        }
        return be.status;
    }
    return upf_err_set(err, st, "%s: %s", what, upf_status_str(st));
}

upf_status upf_import_event(upf_import *im, int32_t user, int32_t item, int64_t time, int type, float value,
                            int32_t query, upf_err *err)
{
    upf_status st = upf_builder_event(im->b, user, item, time, type, value, query);
    if (st) return upf_import_builder_error(im, st, "adding an event", err);
    if (type > 0 && type < UPF_EV_TYPE_COUNT) im->st.events_by_type[type]++;
    return UPF_OK;
}

/* ---- attributes ---- */

static size_t utf8_cut(const char *s, size_t n, size_t max)
{
    if (n <= max) return n;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80) max--;
    return max;
}

static upf_status add_attr(upf_import *im, int is_item, int32_t row, const char *name, float value, upf_err *err)
{
    upf_status st = is_item ? upf_builder_item_attr(im->b, row, name, value)
                            : upf_builder_user_attr(im->b, row, name, value);
    if (st) return upf_import_builder_error(im, st, "adding an attribute", err);
    return UPF_OK;
}

upf_status upf_import_cat_attr(upf_import *im, int is_item, int32_t row, const char *field, const char *value,
                               size_t len, upf_err *err)
{
    char name[320];
    size_t fl = strlen(field);
    if (fl > 100) fl = 100;
    len = utf8_cut(value, len, 200);
    memcpy(name, field, fl);
    name[fl] = '=';
    memcpy(name + fl + 1, value, len);
    name[fl + 1 + len] = '\0';
    return add_attr(im, is_item, row, name, 1.0f, err);
}

upf_status upf_import_num_attr(upf_import *im, int is_item, int32_t row, const char *field, float value,
                               upf_err *err)
{
    return add_attr(im, is_item, row, field, value, err);
}

/* Length of the UTF-8 sequence at s when it is a symbol or punctuation that
 * separates words (U+00A0-U+00BF such as the pound sign, U+00D7, U+00F7,
 * general punctuation U+2000-U+206F such as dashes and curly quotes), else 0. */
static size_t symbol_len(const unsigned char *s, size_t n)
{
    if (n >= 2 && s[0] == 0xC2 && s[1] >= 0x80 && s[1] <= 0xBF) return 2;
    if (n >= 2 && s[0] == 0xC3 && (s[1] == 0x97 || s[1] == 0xB7)) return 2;
    if (n >= 3 && s[0] == 0xE2 && (s[1] == 0x80 || s[1] == 0x81)) return 3;
    return 0;
}

static int ascii_alnum(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

void upf_text_tokens(const char *text, size_t len, void (*fn)(const char *tok, size_t n, void *user), void *user)
{
    const unsigned char *t = (const unsigned char *)text;
    char seen[64][48];
    size_t n_seen = 0, i = 0;
    while (i < len) {
        while (i < len && !ascii_alnum(t[i])) { /* separators */
            size_t k = t[i] >= 0x80 ? symbol_len(t + i, len - i) : 1;
            if (k == 0) break;
            i += k;
        }
        size_t s = i;
        int letters = 0;
        while (i < len) {
            if (ascii_alnum(t[i])) {
                letters |= !(t[i] >= '0' && t[i] <= '9');
            } else if (t[i] >= 0x80 && !symbol_len(t + i, len - i)) {
                letters = 1;
            } else {
                break;
            }
            i++;
        }
        size_t n = i - s;
        if (n < 2 || !letters) continue;
        char tok[48];
        n = utf8_cut(text + s, n, sizeof tok - 1);
        for (size_t k = 0; k < n; k++) {
            unsigned char c = t[s + k];
            tok[k] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        tok[n] = '\0';
        int dup = 0;
        for (size_t k = 0; k < n_seen && !dup; k++) dup = strcmp(seen[k], tok) == 0;
        if (dup) continue;
        if (n_seen < 64) memcpy(seen[n_seen++], tok, n + 1);
        fn(tok, n, user);
    }
}

typedef struct tok_ctx {
    upf_import *im;
    int is_item;
    int32_t row;
    const char *prefix;
    upf_err *err;
    upf_status st;
} tok_ctx;

static void add_token(const char *tok, size_t n, void *user)
{
    tok_ctx *t = user;
    if (t->st) return;
    t->st = upf_import_cat_attr(t->im, t->is_item, t->row, t->prefix, tok, n, t->err);
}

upf_status upf_import_text_attr(upf_import *im, int is_item, int32_t row, const char *prefix, const char *text,
                                size_t len, upf_err *err)
{
    tok_ctx t = { im, is_item, row, prefix, err, UPF_OK };
    upf_text_tokens(text, len, add_token, &t);
    return t.st;
}

int upf_title_year(const char *title, size_t n, int *year)
{
    while (n > 0 && (title[n - 1] == ' ' || title[n - 1] == '\t')) n--;
    if (n < 6 || title[n - 1] != ')' || title[n - 6] != '(') return 0;
    int y = 0;
    for (size_t i = n - 5; i < n - 1; i++) {
        if (title[i] < '0' || title[i] > '9') return 0;
        y = y * 10 + (title[i] - '0');
    }
    *year = y;
    return 1;
}

void upf_import_close_csv(upf_import *im, upf_csv *r)
{
    if (!r) return;
    im->st.bytes += upf_csv_bytes(r);
    im->st.n_files++;
    upf_csv_close(r);
}

/* ---- string set ---- */

struct upf_strset_slot {
    uint64_t hash; /* 0 = empty */
    size_t off, len;
};

static uint64_t hash_bytes(const void *key, size_t n)
{
    const unsigned char *p = key;
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a, then a final mix */
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h ? h : 1;
}

int upf_strset_add(upf_strset *s, const void *key, size_t n)
{
    if (2 * (s->n + 1) > s->cap) {
        size_t ncap = s->cap ? 2 * s->cap : 1024, bytes;
        if (upf_mul_size(ncap, sizeof *s->slot, &bytes)) return -1;
        struct upf_strset_slot *ns = upf_calloc(ncap, sizeof *ns);
        if (!ns) return -1;
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->slot[i].hash) continue;
            size_t j = s->slot[i].hash & (ncap - 1);
            while (ns[j].hash) j = (j + 1) & (ncap - 1);
            ns[j] = s->slot[i];
        }
        upf_free(s->slot);
        s->slot = ns;
        s->cap = ncap;
    }
    uint64_t h = hash_bytes(key, n);
    size_t j = h & (s->cap - 1);
    for (; s->slot[j].hash; j = (j + 1) & (s->cap - 1))
        if (s->slot[j].hash == h && s->slot[j].len == n && memcmp(s->blob + s->slot[j].off, key, n) == 0) return 0;
    if (s->blob_len + n > s->blob_cap) {
        size_t ncap = s->blob_cap ? s->blob_cap : 4096;
        while (ncap < s->blob_len + n) ncap *= 2;
        char *nb = upf_realloc(s->blob, ncap);
        if (!nb) return -1;
        s->blob = nb;
        s->blob_cap = ncap;
    }
    memcpy(s->blob + s->blob_len, key, n);
    s->slot[j].hash = h;
    s->slot[j].off = s->blob_len;
    s->slot[j].len = n;
    s->blob_len += n;
    s->n++;
    return 1;
}

void upf_strset_free(upf_strset *s)
{
    if (!s) return;
    upf_free(s->slot);
    upf_free(s->blob);
    memset(s, 0, sizeof *s);
}
