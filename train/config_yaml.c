/* config_yaml.c - YAML text to a small node tree that keeps every node's
 * source position, through libyaml's document API (yaml_parser_load).
 *
 * A first pass over libyaml's events refuses what the document API would
 * silently resolve or drop: anchors, aliases, explicit tags and a second
 * document. Duplicate keys are left to the schema walk (config.c), which
 * knows the key paths. Also here: the error formatter that quotes the source
 * line with a caret. Not here: anything about the schema.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config_internal.h"

#define CFG_MAX_DEPTH 64

/* ---- nodes ---- */

cfg_node *cfg_node_new(cfg_kind kind, const cfg_src *src, size_t line, size_t col)
{
    cfg_node *n = upf_calloc(1, sizeof *n);
    if (!n) return NULL;
    n->kind = kind;
    n->src = src;
    n->line = line;
    n->col = col;
    return n;
}

void cfg_node_free(cfg_node *n)
{
    if (!n) return;
    for (size_t i = 0; i < n->n; i++) {
        cfg_node_free(n->items[i]);
        if (n->keys) cfg_node_free(n->keys[i]);
    }
    upf_free(n->items);
    upf_free(n->keys);
    upf_free(n->text);
    upf_free(n);
}

upf_status cfg_node_push(cfg_node *parent, cfg_node *key, cfg_node *value)
{
    if (parent->n == parent->cap) {
        size_t cap = parent->cap ? parent->cap * 2 : 8, bytes;
        if (upf_mul_size(cap, sizeof(cfg_node *), &bytes)) goto fail;
        cfg_node **items = upf_realloc(parent->items, bytes);
        if (!items) goto fail;
        parent->items = items;
        if (parent->kind == CFG_MAP) {
            cfg_node **keys = upf_realloc(parent->keys, bytes);
            if (!keys) goto fail;
            parent->keys = keys;
        }
        parent->cap = cap;
    }
    parent->items[parent->n] = value;
    if (parent->kind == CFG_MAP) parent->keys[parent->n] = key;
    parent->n++;
    return UPF_OK;
fail:
    cfg_node_free(key);
    cfg_node_free(value);
    return UPF_ERR_NOMEM;
}

long cfg_map_index(const cfg_node *map, const char *key)
{
    if (!map || map->kind != CFG_MAP) return -1;
    for (size_t i = 0; i < map->n; i++)
        if (map->keys[i]->kind == CFG_SCALAR && strcmp(map->keys[i]->text, key) == 0) return (long)i;
    return -1;
}

cfg_node *cfg_map_get(const cfg_node *map, const char *key)
{
    long i = cfg_map_index(map, key);
    return i < 0 ? NULL : map->items[i];
}

int cfg_node_is_null(const cfg_node *n)
{
    return n && n->kind == CFG_SCALAR && n->plain &&
           (n->len == 0 || strcmp(n->text, "~") == 0 || strcmp(n->text, "null") == 0 ||
            strcmp(n->text, "Null") == 0 || strcmp(n->text, "NULL") == 0);
}

/* ---- sources ---- */

cfg_src *cfg_src_add(cfg_src **list, const char *name, const char *text, size_t len, size_t col_base,
                     int is_override)
{
    cfg_src *s = upf_calloc(1, sizeof *s);
    if (!s) return NULL;
    s->name = upf_strdup(name);
    s->text = upf_malloc(len + 1);
    if (!s->name || !s->text) {
        upf_free(s->name);
        upf_free(s->text);
        upf_free(s);
        return NULL;
    }
    memcpy(s->text, text, len);
    s->text[len] = '\0';
    s->len = len;
    s->col_base = col_base;
    s->is_override = is_override;
    s->next = *list;
    *list = s;
    return s;
}

void cfg_src_free_all(cfg_src *list)
{
    while (list) {
        cfg_src *next = list->next;
        upf_free(list->name);
        upf_free(list->text);
        upf_free(list);
        list = next;
    }
}

/* ---- errors ---- */

/* The text of line `line` (1-based) of src, as [*start, *start + *len). */
static int src_line(const cfg_src *src, size_t line, const char **start, size_t *len)
{
    if (src->is_override) {
        *start = src->name;
        *len = strlen(src->name);
        return 1;
    }
    const char *p = src->text, *end = src->text + src->len;
    for (size_t l = 1; l < line && p < end; l++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) return 0;
        p = nl + 1;
    }
    if (p > end) return 0;
    const char *e = p;
    while (e < end && *e != '\n' && *e != '\r') e++;
    *start = p;
    *len = (size_t)(e - p);
    return 1;
}

void cfg_node_where(const cfg_node *n, char *buf, size_t size)
{
    if (n->src->is_override) snprintf(buf, size, "%s", n->src->name);
    else snprintf(buf, size, "%s:%zu:%zu", n->src->name, n->line, n->col);
}

static upf_status error_vat(upf_err *err, const cfg_src *src, size_t line, size_t col, const char *path,
                            const char *fmt, va_list ap)
{
    if (!err) return UPF_ERR_CONFIG;
    char what[512];
    vsnprintf(what, sizeof what, fmt, ap);
    char where[300];
    if (src->is_override) snprintf(where, sizeof where, "%s", src->name);
    else snprintf(where, sizeof where, "%s:%zu:%zu", src->name, line, col);
    const char *ls;
    size_t ll;
    int have_line = src_line(src, line, &ls, &ll);
    size_t caret = (src->is_override ? src->col_base : 0) + (col ? col - 1 : 0);
    char shown[256], pad[256];
    size_t k = 0, p = 0, chars = 0;
    if (have_line) {
        /* columns count characters: UTF-8 continuation bytes do not advance */
        for (size_t i = 0; i < ll && k + 1 < sizeof shown; i++) {
            unsigned char c = (unsigned char)ls[i];
            shown[k++] = (char)c;
            if ((c & 0xC0) == 0x80) continue;
            if (chars < caret && p + 1 < sizeof pad) pad[p++] = c == '\t' ? '\t' : ' ';
            chars++;
        }
        while (chars < caret && p + 1 < sizeof pad) {
            pad[p++] = ' ';
            chars++;
        }
    }
    shown[k] = '\0';
    pad[p] = '\0';
    if (have_line)
        upf_err_set(err, UPF_ERR_CONFIG, "%s: %s%s%s\n    %s\n    %s^", where, path ? path : "",
                    path ? ": " : "", what, shown, pad);
    else
        upf_err_set(err, UPF_ERR_CONFIG, "%s: %s%s%s", where, path ? path : "", path ? ": " : "", what);
    return UPF_ERR_CONFIG;
}

upf_status cfg_error_at(upf_err *err, const cfg_src *src, size_t line, size_t col, const char *path,
                        const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_vat(err, src, line, col, path, fmt, ap);
    va_end(ap);
    return UPF_ERR_CONFIG;
}

upf_status cfg_error_node(upf_err *err, const cfg_node *n, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_vat(err, n->src, n->line, n->col, path, fmt, ap);
    va_end(ap);
    return UPF_ERR_CONFIG;
}

static int looks_numeric(const char *s)
{
    char *end;
    if (!*s) return 0;
    (void)strtod(s, &end);
    return *end == '\0';
}

void cfg_node_describe(const cfg_node *n, char *buf, size_t size)
{
    if (!n) snprintf(buf, size, "nothing");
    else if (n->kind == CFG_SEQ) snprintf(buf, size, "a list");
    else if (n->kind == CFG_MAP) snprintf(buf, size, "a mapping");
    else if (cfg_node_is_null(n)) snprintf(buf, size, "%s", n->len ? n->text : "nothing");
    else if (n->plain && looks_numeric(n->text)) snprintf(buf, size, "%.60s", n->text);
    else {
        /* quote and shorten: "got \"fast\"" */
        size_t k = 0;
        if (size < 8) {
            if (size) buf[0] = '\0';
            return;
        }
        buf[k++] = '"';
        for (size_t i = 0; i < n->len && k + 5 < size; i++) {
            char c = n->text[i];
            buf[k++] = (c == '\n' || c == '\t' || c == '\0') ? ' ' : c;
            if (i + 1 < n->len && k + 5 >= size) {
                memcpy(buf + k, "...", 3);
                k += 3;
                break;
            }
        }
        buf[k++] = '"';
        buf[k] = '\0';
    }
}

/* ---- parsing ---- */

static upf_status parser_error(const yaml_parser_t *p, const cfg_src *src, upf_err *err)
{
    if (p->error == YAML_MEMORY_ERROR) return upf_err_set(err, UPF_ERR_NOMEM, "%s: out of memory", src->name);
    const char *problem = p->problem ? p->problem : "syntax error";
    size_t line = p->problem_mark.line + 1, col = p->problem_mark.column + 1;
    if (p->context)
        return cfg_error_at(err, src, line, col, NULL, "YAML syntax error: %s %s (line %zu, column %zu)", problem,
                            p->context, (size_t)p->context_mark.line + 1, (size_t)p->context_mark.column + 1);
    return cfg_error_at(err, src, line, col, NULL, "YAML syntax error: %s", problem);
}

/* Event pass: anchors, aliases, tags and extra documents are errors. */
static upf_status prescan(const cfg_src *src, upf_err *err)
{
    yaml_parser_t p;
    yaml_event_t ev;
    upf_status st = UPF_OK;
    int docs = 0, done = 0;
    if (!yaml_parser_initialize(&p)) return upf_err_set(err, UPF_ERR_NOMEM, "%s: out of memory", src->name);
    yaml_parser_set_input_string(&p, (const unsigned char *)src->text, src->len);
    while (!done) {
        if (!yaml_parser_parse(&p, &ev)) {
            st = parser_error(&p, src, err);
            break;
        }
        size_t line = ev.start_mark.line + 1, col = ev.start_mark.column + 1;
        const yaml_char_t *anchor = NULL, *tag = NULL;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT: done = 1; break;
        case YAML_DOCUMENT_START_EVENT:
            if (++docs > 1)
                st = cfg_error_at(err, src, line, col, NULL,
                                  "expected one YAML document, got a second one (remove the '---')");
            if (ev.data.document_start.tag_directives.start != ev.data.document_start.tag_directives.end)
                st = cfg_error_at(err, src, line, col, NULL, "expected no %%TAG directives: tags are not allowed");
            break;
        case YAML_ALIAS_EVENT:
            st = cfg_error_at(err, src, line, col, NULL,
                              "expected a value, got an alias (*%s): anchors and aliases are not allowed",
                              (const char *)ev.data.alias.anchor);
            break;
        case YAML_SCALAR_EVENT:
            anchor = ev.data.scalar.anchor;
            tag = ev.data.scalar.tag;
            break;
        case YAML_SEQUENCE_START_EVENT:
            anchor = ev.data.sequence_start.anchor;
            tag = ev.data.sequence_start.tag;
            break;
        case YAML_MAPPING_START_EVENT:
            anchor = ev.data.mapping_start.anchor;
            tag = ev.data.mapping_start.tag;
            break;
        default: break;
        }
        if (st == UPF_OK && anchor)
            st = cfg_error_at(err, src, line, col, NULL,
                              "expected a value, got an anchor (&%s): anchors and aliases are not allowed",
                              (const char *)anchor);
        if (st == UPF_OK && tag)
            st = cfg_error_at(err, src, line, col, NULL, "expected a value, got a tag (%s): tags are not allowed",
                              (const char *)tag);
        yaml_event_delete(&ev);
        if (st != UPF_OK) break;
    }
    yaml_parser_delete(&p);
    return st;
}

static upf_status convert(yaml_document_t *doc, yaml_node_t *yn, const cfg_src *src, int depth, cfg_node **out,
                          upf_err *err)
{
    *out = NULL;
    size_t line = yn->start_mark.line + 1, col = yn->start_mark.column + 1;
    if (depth > CFG_MAX_DEPTH)
        return cfg_error_at(err, src, line, col, NULL, "expected at most %d levels of nesting", CFG_MAX_DEPTH);
    upf_status st = UPF_OK;
    cfg_node *n = NULL;
    switch (yn->type) {
    case YAML_SCALAR_NODE:
        n = cfg_node_new(CFG_SCALAR, src, line, col);
        if (!n) goto nomem;
        n->text = upf_malloc(yn->data.scalar.length + 1);
        if (!n->text) goto nomem;
        memcpy(n->text, yn->data.scalar.value, yn->data.scalar.length);
        n->text[yn->data.scalar.length] = '\0';
        n->len = yn->data.scalar.length;
        n->plain = yn->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        break;
    case YAML_SEQUENCE_NODE:
        n = cfg_node_new(CFG_SEQ, src, line, col);
        if (!n) goto nomem;
        for (yaml_node_item_t *it = yn->data.sequence.items.start; it < yn->data.sequence.items.top; it++) {
            cfg_node *c;
            if ((st = convert(doc, yaml_document_get_node(doc, *it), src, depth + 1, &c, err))) goto fail;
            if (cfg_node_push(n, NULL, c)) goto nomem;
        }
        break;
    case YAML_MAPPING_NODE:
        n = cfg_node_new(CFG_MAP, src, line, col);
        if (!n) goto nomem;
        for (yaml_node_pair_t *pr = yn->data.mapping.pairs.start; pr < yn->data.mapping.pairs.top; pr++) {
            cfg_node *k = NULL, *v = NULL;
            if ((st = convert(doc, yaml_document_get_node(doc, pr->key), src, depth + 1, &k, err))) goto fail;
            if (k->kind != CFG_SCALAR) {
                st = cfg_error_node(err, k, NULL, "expected a key name, got %s",
                                    k->kind == CFG_SEQ ? "a list" : "a mapping");
                cfg_node_free(k);
                goto fail;
            }
            if ((st = convert(doc, yaml_document_get_node(doc, pr->value), src, depth + 1, &v, err))) {
                cfg_node_free(k);
                goto fail;
            }
            if (cfg_node_push(n, k, v)) goto nomem;
        }
        break;
    default: return cfg_error_at(err, src, line, col, NULL, "expected a value, got an empty node");
    }
    *out = n;
    return UPF_OK;
nomem:
    st = upf_err_set(err, UPF_ERR_NOMEM, "%s: out of memory", src->name);
fail:
    cfg_node_free(n);
    return st;
}

upf_status cfg_yaml_parse(const cfg_src *src, cfg_node **out, upf_err *err)
{
    *out = NULL;
    upf_status st = prescan(src, err);
    if (st) return st;
    yaml_parser_t p;
    yaml_document_t doc;
    int have_doc = 0;
    if (!yaml_parser_initialize(&p)) return upf_err_set(err, UPF_ERR_NOMEM, "%s: out of memory", src->name);
    yaml_parser_set_input_string(&p, (const unsigned char *)src->text, src->len);
    if (!yaml_parser_load(&p, &doc)) {
        st = parser_error(&p, src, err);
        goto done;
    }
    have_doc = 1;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root) st = convert(&doc, root, src, 0, out, err);
done:
    if (have_doc) yaml_document_delete(&doc);
    yaml_parser_delete(&p);
    return st;
}
