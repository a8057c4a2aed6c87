/* json.c - JSON writer and DOM reader (see json.h for the contract). */
#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- writer ---- */

void upf_jw_init(upf_json_writer *w, FILE *f, int pretty)
{
    memset(w, 0, sizeof *w);
    w->f = f;
    w->pretty = pretty;
}

static void jw_indent(upf_json_writer *w)
{
    if (!w->pretty) return;
    fputc('\n', w->f);
    for (int i = 0; i < w->depth; i++) fputs("  ", w->f);
}

void upf_json_write_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        default:
            if (*p < 0x20) fprintf(f, "\\u%04x", *p);
            else fputc(*p, f);
        }
    }
    fputc('"', f);
}

/* Separator, indentation and key before a value. */
static void jw_pre(upf_json_writer *w, const char *key)
{
    if (w->depth > 0) {
        if (w->has_items[w->depth]) fputc(',', w->f);
        w->has_items[w->depth] = 1;
        jw_indent(w);
    }
    if (key) {
        upf_json_write_string(w->f, key);
        fputs(w->pretty ? ": " : ":", w->f);
    }
}

static void jw_open(upf_json_writer *w, const char *key, char c)
{
    jw_pre(w, key);
    fputc(c, w->f);
    if (w->depth < UPF_JSON_MAX_DEPTH) w->depth++;
    w->has_items[w->depth] = 0;
    w->closer[w->depth] = c == '{' ? '}' : ']';
}

void upf_jw_object(upf_json_writer *w, const char *key) { jw_open(w, key, '{'); }
void upf_jw_array(upf_json_writer *w, const char *key) { jw_open(w, key, '['); }

void upf_jw_end(upf_json_writer *w)
{
    if (w->depth == 0) return;
    int had = w->has_items[w->depth];
    char c = w->closer[w->depth];
    w->depth--;
    if (had) jw_indent(w);
    fputc(c, w->f);
}

void upf_json_format_num(char *buf, size_t n, double v)
{
    if (!isfinite(v)) {
        snprintf(buf, n, "null");
        return;
    }
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(buf, n, "%.0f", v);
        if (strcmp(buf, "-0") == 0) snprintf(buf, n, "0");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) return;
    }
}

void upf_jw_num(upf_json_writer *w, const char *key, double val)
{
    char buf[40];
    jw_pre(w, key);
    upf_json_format_num(buf, sizeof buf, val);
    fputs(buf, w->f);
}

void upf_jw_int(upf_json_writer *w, const char *key, int64_t val)
{
    jw_pre(w, key);
    fprintf(w->f, "%lld", (long long)val);
}

void upf_jw_str(upf_json_writer *w, const char *key, const char *val)
{
    jw_pre(w, key);
    if (val) upf_json_write_string(w->f, val);
    else fputs("null", w->f);
}

void upf_jw_bool(upf_json_writer *w, const char *key, int val)
{
    jw_pre(w, key);
    fputs(val ? "true" : "false", w->f);
}

void upf_jw_null(upf_json_writer *w, const char *key)
{
    jw_pre(w, key);
    fputs("null", w->f);
}

void upf_jw_finish(upf_json_writer *w) { fputc('\n', w->f); }

/* ---- reader ---- */

typedef struct jparser {
    const char *s;
    size_t n, i;
    int depth;
    upf_err *err;
} jparser;

static upf_status jp_fail(jparser *p, const char *expected)
{
    char got[24];
    if (p->i >= p->n) snprintf(got, sizeof got, "end of input");
    else {
        unsigned char c = (unsigned char)p->s[p->i];
        if (c >= 0x20 && c < 0x7f) snprintf(got, sizeof got, "'%c'", c);
        else snprintf(got, sizeof got, "byte 0x%02x", c);
    }
    return upf_err_set(p->err, UPF_ERR_FORMAT, "byte %zu: expected %s, got %s", p->i, expected, got);
}

static void jp_ws(jparser *p)
{
    while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r'))
        p->i++;
}

static upf_status jp_value(jparser *p, upf_json **out);

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int jp_hex4(jparser *p, unsigned *cp)
{
    if (p->n - p->i < 4) return -1;
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hexval(p->s[p->i + (size_t)k]);
        if (h < 0) return -1;
        v = v * 16 + (unsigned)h;
    }
    p->i += 4;
    *cp = v;
    return 0;
}

static size_t utf8_put(char *d, unsigned cp)
{
    if (cp < 0x80) { d[0] = (char)cp; return 1; }
    if (cp < 0x800) { d[0] = (char)(0xC0 | (cp >> 6)); d[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        d[0] = (char)(0xE0 | (cp >> 12)); d[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        d[2] = (char)(0x80 | (cp & 0x3F)); return 3;
    }
    d[0] = (char)(0xF0 | (cp >> 18)); d[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    d[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); d[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Parses a string literal at p->i (which is '"'); *out owned, *len its length. */
static upf_status jp_string(jparser *p, char **out, size_t *len)
{
    *out = NULL;
    size_t start = ++p->i, end = start;
    while (end < p->n && p->s[end] != '"') end += (p->s[end] == '\\') ? 2 : 1;
    if (end >= p->n) { p->i = p->n; return jp_fail(p, "closing '\"'"); }
    /* Escapes only shrink the text (\uXXXX = 6 bytes -> at most 4), so end-start+1 suffices. */
    char *d = upf_malloc(end - start + 1);
    if (!d) return upf_err_set(p->err, UPF_ERR_NOMEM, "json string");
    size_t k = 0;
    while (p->i < end) {
        unsigned char c = (unsigned char)p->s[p->i];
        if (c < 0x20) { upf_free(d); return jp_fail(p, "no control character in a string"); }
        if (c != '\\') { d[k++] = (char)c; p->i++; continue; }
        p->i++;
        char e = p->s[p->i++];
        switch (e) {
        case '"': d[k++] = '"'; break;
        case '\\': d[k++] = '\\'; break;
        case '/': d[k++] = '/'; break;
        case 'b': d[k++] = '\b'; break;
        case 'f': d[k++] = '\f'; break;
        case 'n': d[k++] = '\n'; break;
        case 'r': d[k++] = '\r'; break;
        case 't': d[k++] = '\t'; break;
        case 'u': {
            unsigned cp;
            if (jp_hex4(p, &cp)) { upf_free(d); return jp_fail(p, "4 hex digits after \\u"); }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (p->i + 2 > end || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u') {
                    upf_free(d);
                    return jp_fail(p, "a low surrogate after a high surrogate");
                }
                p->i += 2;
                if (jp_hex4(p, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
                    upf_free(d);
                    return jp_fail(p, "a low surrogate (\\uDC00-\\uDFFF)");
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                upf_free(d);
                return jp_fail(p, "no lone low surrogate");
            }
            k += utf8_put(d + k, cp);
            break;
        }
        default:
            p->i--;
            upf_free(d);
            return jp_fail(p, "a valid escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u)");
        }
    }
    p->i = end + 1;
    d[k] = '\0';
    *out = d;
    *len = k;
    return UPF_OK;
}

static upf_status jp_number(jparser *p, double *out)
{
    size_t j = p->i;
    if (j < p->n && p->s[j] == '-') j++;
    if (j >= p->n || p->s[j] < '0' || p->s[j] > '9') { p->i = j; return jp_fail(p, "a digit"); }
    if (p->s[j] == '0') j++;
    else while (j < p->n && p->s[j] >= '0' && p->s[j] <= '9') j++;
    if (j < p->n && p->s[j] == '.') {
        j++;
        if (j >= p->n || p->s[j] < '0' || p->s[j] > '9') { p->i = j; return jp_fail(p, "a digit after '.'"); }
        while (j < p->n && p->s[j] >= '0' && p->s[j] <= '9') j++;
    }
    if (j < p->n && (p->s[j] == 'e' || p->s[j] == 'E')) {
        j++;
        if (j < p->n && (p->s[j] == '+' || p->s[j] == '-')) j++;
        if (j >= p->n || p->s[j] < '0' || p->s[j] > '9') { p->i = j; return jp_fail(p, "a digit in the exponent"); }
        while (j < p->n && p->s[j] >= '0' && p->s[j] <= '9') j++;
    }
    char buf[64];
    size_t len = j - p->i;
    if (len >= sizeof buf) return jp_fail(p, "a number shorter than 64 characters");
    memcpy(buf, p->s + p->i, len);
    buf[len] = '\0';
    *out = strtod(buf, NULL);
    p->i = j;
    return UPF_OK;
}

static upf_status jp_push(upf_json *j, upf_json *child, char *key, size_t *cap, upf_err *err)
{
    if (j->len == *cap) {
        size_t nc = *cap ? *cap * 2 : 4;
        upf_json **ni = upf_realloc(j->items, nc * sizeof *ni);
        if (!ni) return upf_err_set(err, UPF_ERR_NOMEM, "json container");
        j->items = ni;
        if (j->type == UPF_JSON_OBJ) {
            char **nk = upf_realloc(j->keys, nc * sizeof *nk);
            if (!nk) return upf_err_set(err, UPF_ERR_NOMEM, "json keys");
            j->keys = nk;
        }
        *cap = nc;
    }
    j->items[j->len] = child;
    if (j->type == UPF_JSON_OBJ) j->keys[j->len] = key;
    j->len++;
    return UPF_OK;
}

static upf_status jp_container(jparser *p, upf_json *j)
{
    int is_obj = j->type == UPF_JSON_OBJ;
    char close = is_obj ? '}' : ']';
    size_t cap = 0;
    if (++p->depth > UPF_JSON_MAX_DEPTH) return jp_fail(p, "nesting of at most 64 levels");
    p->i++;
    jp_ws(p);
    if (p->i < p->n && p->s[p->i] == close) { p->i++; p->depth--; return UPF_OK; }
    for (;;) {
        char *key = NULL;
        size_t klen;
        upf_status st;
        jp_ws(p);
        if (is_obj) {
            if (p->i >= p->n || p->s[p->i] != '"') return jp_fail(p, "a member name in quotes");
            size_t at = p->i;
            if ((st = jp_string(p, &key, &klen))) return st;
            for (size_t k = 0; k < j->len; k++)
                if (strcmp(j->keys[k], key) == 0) {
                    upf_free(key);
                    p->i = at;
                    return upf_err_set(p->err, UPF_ERR_FORMAT, "byte %zu: duplicate key \"%s\"", at, j->keys[k]);
                }
            jp_ws(p);
            if (p->i >= p->n || p->s[p->i] != ':') { upf_free(key); return jp_fail(p, "':'"); }
            p->i++;
        }
        upf_json *child = NULL;
        if ((st = jp_value(p, &child))) { upf_free(key); return st; }
        if ((st = jp_push(j, child, key, &cap, p->err))) { upf_json_free(child); upf_free(key); return st; }
        jp_ws(p);
        if (p->i < p->n && p->s[p->i] == ',') { p->i++; continue; }
        if (p->i < p->n && p->s[p->i] == close) { p->i++; p->depth--; return UPF_OK; }
        return jp_fail(p, is_obj ? "',' or '}'" : "',' or ']'");
    }
}

static int jp_lit(jparser *p, const char *lit)
{
    size_t l = strlen(lit);
    if (p->n - p->i >= l && memcmp(p->s + p->i, lit, l) == 0) { p->i += l; return 1; }
    return 0;
}

static upf_status jp_value(jparser *p, upf_json **out)
{
    *out = NULL;
    jp_ws(p);
    if (p->i >= p->n) return jp_fail(p, "a value");
    upf_json *j = upf_calloc(1, sizeof *j);
    if (!j) return upf_err_set(p->err, UPF_ERR_NOMEM, "json value");
    upf_status st = UPF_OK;
    char c = p->s[p->i];
    if (c == '{') { j->type = UPF_JSON_OBJ; st = jp_container(p, j); }
    else if (c == '[') { j->type = UPF_JSON_ARR; st = jp_container(p, j); }
    else if (c == '"') { j->type = UPF_JSON_STR; st = jp_string(p, &j->str, &j->len); }
    else if (c == '-' || (c >= '0' && c <= '9')) { j->type = UPF_JSON_NUM; st = jp_number(p, &j->num); }
    else if (jp_lit(p, "true")) { j->type = UPF_JSON_BOOL; j->boolean = 1; }
    else if (jp_lit(p, "false")) { j->type = UPF_JSON_BOOL; }
    else if (jp_lit(p, "null")) { j->type = UPF_JSON_NULL; }
    else st = jp_fail(p, "a value (object, array, string, number, true, false, null)");
    if (st) { upf_json_free(j); return st; }
    *out = j;
    return UPF_OK;
}

upf_status upf_json_parse(const char *text, size_t n, upf_json **out, upf_err *err)
{
    jparser p = { text, n, 0, 0, err };
    upf_json *j = NULL;
    *out = NULL;
    upf_status st = jp_value(&p, &j);
    if (st) return st;
    jp_ws(&p);
    if (p.i != p.n) { upf_json_free(j); return jp_fail(&p, "end of input after the value"); }
    *out = j;
    return UPF_OK;
}

upf_status upf_json_parse_file(const char *path, upf_json **out, upf_err *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return upf_err_sys(err, UPF_ERR_IO, "%s: cannot open", path);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    upf_status st = UPF_OK;
    for (;;) {
        if (len + 65536 > cap) {
            size_t nc = cap ? cap * 2 : 65536;
            char *nb = upf_realloc(buf, nc);
            if (!nb) { st = upf_err_set(err, UPF_ERR_NOMEM, "%s: reading", path); goto done; }
            buf = nb;
            cap = nc;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    if (ferror(f)) { st = upf_err_sys(err, UPF_ERR_IO, "%s: read failed", path); goto done; }
    st = upf_json_parse(buf, len, out, err);
    if (st) upf_err_prefix(err, "%s", path);
done:
    upf_free(buf);
    fclose(f);
    return st;
}

void upf_json_free(upf_json *j)
{
    if (!j) return;
    for (size_t k = 0; k < j->len && j->items; k++) {
        upf_json_free(j->items[k]);
        if (j->keys) upf_free(j->keys[k]);
    }
    upf_free(j->items);
    upf_free(j->keys);
    upf_free(j->str);
    upf_free(j);
}

const upf_json *upf_json_get(const upf_json *obj, const char *key)
{
    if (!obj || obj->type != UPF_JSON_OBJ) return NULL;
    for (size_t k = 0; k < obj->len; k++)
        if (strcmp(obj->keys[k], key) == 0) return obj->items[k];
    return NULL;
}

const upf_json *upf_json_path(const upf_json *obj, const char *path)
{
    char part[256];
    const char *p = path;
    while (obj && *p) {
        const char *dot = strchr(p, '.');
        size_t l = dot ? (size_t)(dot - p) : strlen(p);
        if (l >= sizeof part) return NULL;
        memcpy(part, p, l);
        part[l] = '\0';
        obj = upf_json_get(obj, part);
        p += l + (dot ? 1 : 0);
    }
    return obj;
}
