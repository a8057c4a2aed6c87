/* config_emit.c - the resolved config as canonical YAML: every key of the
 * common and family tables with its value (defaults filled in), sections in
 * a fixed order, keys in table order, nested by their dots, scalars plain
 * when that is unambiguous and double-quoted otherwise. Loading the text
 * again yields the same config and the same text (a test checks it).
 * Not here: emitting arbitrary YAML (only what the schema types can hold).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../model/json.h"
#include "config_internal.h"

/* ---- growing buffer ---- */

void cfg_buf_put(cfg_buf *b, const char *s, size_t n)
{
    if (b->failed) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1) cap *= 2;
        char *p = upf_realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void cfg_buf_puts(cfg_buf *b, const char *s) { cfg_buf_put(b, s, strlen(s)); }

void cfg_buf_printf(cfg_buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return;
    }
    if ((size_t)n < sizeof tmp) {
        cfg_buf_put(b, tmp, (size_t)n);
        return;
    }
    char *big = upf_malloc((size_t)n + 1);
    if (!big) {
        b->failed = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    cfg_buf_put(b, big, (size_t)n);
    upf_free(big);
}

/* ---- scalars ---- */

/* Plain is safe when the text cannot read as anything but this string, in
 * libyaml and in YAML 1.1/1.2 readers (PyYAML): no indicators, no number,
 * boolean or null look-alikes. */
static int plain_safe(const char *s)
{
    static const char *const reserved[] = { "true", "false", "null", "yes", "no", "on", "off", "y", "n", NULL };
    if (!*s) return 0;
    unsigned char c0 = (unsigned char)s[0];
    if (!((c0 >= 'a' && c0 <= 'z') || (c0 >= 'A' && c0 <= 'Z') || c0 == '_' || c0 == '/')) return 0;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '/' || c == '@' || c == '-' || c == '+'))
            return 0;
    }
    for (size_t i = 0; reserved[i]; i++) {
        size_t k = 0;
        while (reserved[i][k] && s[k] && (s[k] | 0x20) == reserved[i][k]) k++;
        if (!reserved[i][k] && !s[k]) return 0;
    }
    return 1;
}

static void emit_quoted(cfg_buf *b, const char *s)
{
    cfg_buf_put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': cfg_buf_puts(b, "\\\""); break;
        case '\\': cfg_buf_puts(b, "\\\\"); break;
        case '\n': cfg_buf_puts(b, "\\n"); break;
        case '\t': cfg_buf_puts(b, "\\t"); break;
        case '\r': cfg_buf_puts(b, "\\r"); break;
        default:
            if (*p < 0x20 || *p == 0x7f) cfg_buf_printf(b, "\\x%02x", *p);
            else cfg_buf_put(b, (const char *)p, 1);
        }
    }
    cfg_buf_put(b, "\"", 1);
}

void cfg_emit_string(cfg_buf *b, const char *s)
{
    if (plain_safe(s)) cfg_buf_puts(b, s);
    else emit_quoted(b, s);
}

static void emit_double(cfg_buf *b, double v)
{
    char num[40];
    upf_json_format_num(num, sizeof num, v);
    cfg_buf_puts(b, num);
}

void cfg_emit_node_flow(cfg_buf *b, const cfg_node *n)
{
    if (n->kind == CFG_SCALAR) {
        if (n->plain) cfg_buf_put(b, n->text, n->len);
        else emit_quoted(b, n->text);
        return;
    }
    cfg_buf_puts(b, n->kind == CFG_SEQ ? "[" : "{");
    for (size_t i = 0; i < n->n; i++) {
        if (i) cfg_buf_puts(b, ", ");
        if (n->kind == CFG_MAP) {
            cfg_emit_node_flow(b, n->keys[i]);
            cfg_buf_puts(b, ": ");
        }
        cfg_emit_node_flow(b, n->items[i]);
    }
    cfg_buf_puts(b, n->kind == CFG_SEQ ? "]" : "}");
}

/* The value of row k in base, on the current line (after "key: "); maps
 * continue on indented lines. */
static void emit_value(cfg_buf *b, const upf_cfg_key *k, const void *base, int indent)
{
    const char *f = (const char *)base + k->offset;
    char date[40];
    switch (k->type) {
    case UPF_CFG_BOOL: cfg_buf_puts(b, *(const int *)(const void *)f ? "true" : "false"); break;
    case UPF_CFG_INT: cfg_buf_printf(b, "%lld", (long long)*(const int64_t *)(const void *)f); break;
    case UPF_CFG_DOUBLE: emit_double(b, *(const double *)(const void *)f); break;
    case UPF_CFG_STRING: {
        const char *s = *(char *const *)(const void *)f;
        cfg_emit_string(b, s ? s : "");
        break;
    }
    case UPF_CFG_ENUM: cfg_buf_puts(b, k->choices[*(const int *)(const void *)f]); break;
    case UPF_CFG_DATE: {
        int64_t t = *(const int64_t *)(const void *)f;
        if (t == UPF_CFG_DATE_UNSET) cfg_buf_puts(b, "null");
        else {
            cfg_format_date(t, date, sizeof date);
            cfg_buf_puts(b, date);
        }
        break;
    }
    case UPF_CFG_INT_LIST: {
        const upf_cfg_ints *l = (const upf_cfg_ints *)(const void *)f;
        cfg_buf_puts(b, "[");
        for (size_t i = 0; i < l->n; i++) cfg_buf_printf(b, "%s%lld", i ? ", " : "", (long long)l->v[i]);
        cfg_buf_puts(b, "]");
        break;
    }
    case UPF_CFG_DOUBLE_LIST: {
        const upf_cfg_doubles *l = (const upf_cfg_doubles *)(const void *)f;
        cfg_buf_puts(b, "[");
        for (size_t i = 0; i < l->n; i++) {
            if (i) cfg_buf_puts(b, ", ");
            emit_double(b, l->v[i]);
        }
        cfg_buf_puts(b, "]");
        break;
    }
    case UPF_CFG_STRING_LIST: {
        const upf_cfg_strings *l = (const upf_cfg_strings *)(const void *)f;
        cfg_buf_puts(b, "[");
        for (size_t i = 0; i < l->n; i++) {
            if (i) cfg_buf_puts(b, ", ");
            cfg_emit_string(b, l->v[i]);
        }
        cfg_buf_puts(b, "]");
        break;
    }
    case UPF_CFG_MAP: {
        const upf_cfg_map *m = (const upf_cfg_map *)(const void *)f;
        if (!m->n) {
            cfg_buf_puts(b, "{}");
            break;
        }
        for (size_t i = 0; i < m->n; i++) {
            cfg_buf_printf(b, "\n%*s", indent + 2, "");
            cfg_emit_string(b, m->keys[i]);
            cfg_buf_puts(b, ": ");
            cfg_emit_string(b, m->values[i]);
        }
        break;
    }
    default: cfg_buf_puts(b, "null"); break;
    }
}

/* 1 when the value goes on the following lines (a non-empty mapping). */
static int map_continues(const upf_cfg_key *k, const void *base)
{
    return k->type == UPF_CFG_MAP && ((const upf_cfg_map *)(const void *)((const char *)base + k->offset))->n > 0;
}

/* ---- nesting by dots ---- */

typedef struct row_ref {
    const upf_cfg_key *k;
    const void *base;
    const char *rest; /* path after the current prefix */
} row_ref;

/* Emits rows[0..n) (all sharing the prefix already printed) at `indent`,
 * grouping rows by their next path segment in order of first appearance. */
static void emit_group(cfg_buf *b, row_ref *rows, size_t n, int indent)
{
    unsigned char done_mark[1024];
    if (n > sizeof done_mark) n = sizeof done_mark;
    memset(done_mark, 0, n);
    for (size_t i = 0; i < n; i++) {
        if (done_mark[i]) continue;
        const char *seg = rows[i].rest, *dot = strchr(seg, '.');
        size_t seg_len = dot ? (size_t)(dot - seg) : strlen(seg);
        cfg_buf_printf(b, "%*s%.*s:", indent, "", (int)seg_len, seg);
        if (!dot) {
            done_mark[i] = 1;
            if (!map_continues(rows[i].k, rows[i].base)) cfg_buf_puts(b, " ");
            emit_value(b, rows[i].k, rows[i].base, indent);
            cfg_buf_puts(b, "\n");
            continue;
        }
        cfg_buf_puts(b, "\n");
        /* gather every row under seg (in order) and emit them one level deeper */
        row_ref sub[1024];
        size_t m = 0;
        for (size_t j = i; j < n; j++) {
            if (done_mark[j]) continue;
            const char *r = rows[j].rest;
            if (strncmp(r, seg, seg_len) == 0 && r[seg_len] == '.') {
                sub[m] = rows[j];
                sub[m].rest = r + seg_len + 1;
                m++;
                done_mark[j] = 1;
            }
        }
        emit_group(b, sub, m, indent + 2);
    }
}

upf_status cfg_emit_yaml(const cfg_table *tables, size_t n_tables, const char *header, char **out, upf_err *err)
{
    *out = NULL;
    cfg_buf b = { NULL, 0, 0, 0 };
    if (header) cfg_buf_puts(&b, header);
    for (size_t s = 0; upf_config_sections[s]; s++) {
        const char *sec = upf_config_sections[s];
        size_t sl = strlen(sec);
        row_ref rows[1024];
        size_t n = 0;
        const upf_cfg_key *whole = NULL;
        const void *whole_base = NULL;
        for (size_t t = 0; t < n_tables; t++)
            for (const upf_cfg_key *k = tables[t].keys; k && k->path; k++) {
                if (strcmp(k->path, sec) == 0) {
                    whole = k;
                    whole_base = tables[t].base;
                } else if (strncmp(k->path, sec, sl) == 0 && k->path[sl] == '.' && n < 1024) {
                    rows[n].k = k;
                    rows[n].base = tables[t].base;
                    rows[n].rest = k->path + sl + 1;
                    n++;
                }
            }
        if (whole) {
            cfg_buf_printf(&b, "%s:%s", sec, map_continues(whole, whole_base) ? "" : " ");
            emit_value(&b, whole, whole_base, 0);
            cfg_buf_puts(&b, "\n");
        } else if (n) {
            cfg_buf_printf(&b, "%s:\n", sec);
            emit_group(&b, rows, n, 2);
        }
    }
    if (b.failed || !b.p) {
        upf_free(b.p);
        return upf_err_set(err, UPF_ERR_NOMEM, "resolved config: out of memory");
    }
    *out = b.p;
    return UPF_OK;
}
