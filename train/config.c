/* config.c - loading an experiment config: read the file, parse it
 * (config_yaml.c), reject duplicate keys, apply --set overrides, pick the
 * family from model.family, walk the tree against the common and family key
 * tables (config_schema.c), check semantics across keys, and emit the
 * resolved YAML (config_emit.c). Also the helpers that turn sections into
 * library params. The sweep grid is in config_grid.c.
 * Entry points: upf_config_load(_opts), upf_config_grid.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "family.h"
#include "gates.h"

#define CFG_FILE_MAX (4u << 20)

typedef struct set_row {
    char *path;         /* owned: a key's path, or "gates.ndcg@10" for an entry of a mapping key */
    const cfg_node *node;
    char *where;        /* "FILE:LINE:COL" (owned) */
} set_row;

struct upf_cfg_loaded {
    upf_config cfg;
    const upf_family *family;
    void *params;            /* (family->params_size) */
    char *resolved;
    cfg_src *srcs;
    cfg_node *root;
    set_row *set;            /* keys written in the file or by --set */
    size_t n_set, cap_set;
};

/* ---- small helpers ---- */

static const upf_family *const *families_or_default(const upf_family *const *f)
{
    return f ? f : upf_families;
}

static upf_status read_file(const char *path, char **out, size_t *len, upf_err *err)
{
    *out = NULL;
    *len = 0;
    upf_status st = UPF_OK;
    char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return upf_err_sys(err, UPF_ERR_IO, "%s: cannot open the config", path);
    size_t cap = 4096, n = 0;
    if (!(buf = upf_malloc(cap))) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    for (;;) {
        if (n + 1 >= cap) {
            if (cap >= CFG_FILE_MAX) {
                st = upf_err_set(err, UPF_ERR_CONFIG, "%s: expected a config under %u bytes, got a larger file", path,
                                 CFG_FILE_MAX);
                goto done;
            }
            char *nb = upf_realloc(buf, cap * 2);
            if (!nb) {
                st = upf_err_set(err, UPF_ERR_NOMEM, "%s: out of memory", path);
                goto done;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - 1 - n, f);
        n += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        st = upf_err_sys(err, UPF_ERR_IO, "%s: read failed", path);
        goto done;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    buf = NULL;
done:
    upf_free(buf);
    fclose(f);
    return st;
}

/* "configs/quickstart.yaml" -> "quickstart" */
static char *config_name(const char *file)
{
    const char *b = strrchr(file, '/');
    b = b ? b + 1 : file;
    size_t n = strlen(b);
    if (n > 5 && strcmp(b + n - 5, ".yaml") == 0) n -= 5;
    else if (n > 4 && strcmp(b + n - 4, ".yml") == 0) n -= 4;
    char *s = upf_malloc(n + 1);
    if (s) {
        memcpy(s, b, n);
        s[n] = '\0';
    }
    return s;
}

static int is_section(const char *name)
{
    for (size_t i = 0; upf_config_sections[i]; i++)
        if (strcmp(upf_config_sections[i], name) == 0) return 1;
    return 0;
}

/* The row for path in the common table or the family's (*base set), or NULL. */
static const upf_cfg_key *find_row(const upf_family *fam, upf_config *cfg, void *params, const char *path,
                                   void **base)
{
    const upf_cfg_key *k = cfg_find_key(upf_config_keys, path);
    if (k) {
        *base = cfg;
        return k;
    }
    if (fam && (k = cfg_find_key(fam->keys, path))) {
        *base = params;
        return k;
    }
    return NULL;
}

/* 1 when some row of the tables lies below prefix ("data.synth" for data.synth.users). */
static int has_rows_below(const upf_cfg_key *keys, const char *prefix)
{
    size_t n = strlen(prefix);
    for (const upf_cfg_key *k = keys; k && k->path; k++)
        if (strncmp(k->path, prefix, n) == 0 && k->path[n] == '.') return 1;
    return 0;
}

/* The row of a MAP key that `path` lies inside ("gates" for "gates.ndcg@10")
 * in the common table or any family's, or NULL. */
static const upf_cfg_key *map_row_above(const upf_family *const *fams, const char *path, size_t *prefix_len)
{
    for (size_t f = 0; ; f++) {
        const upf_cfg_key *keys = f == 0 ? upf_config_keys : fams[f - 1] ? fams[f - 1]->keys : NULL;
        if (f > 0 && !fams[f - 1]) break;
        for (const upf_cfg_key *k = keys; k && k->path; k++) {
            size_t n = strlen(k->path);
            if (k->type == UPF_CFG_MAP && strncmp(path, k->path, n) == 0 && path[n] == '.') {
                *prefix_len = n;
                return k;
            }
        }
    }
    return NULL;
}

/* ---- duplicate keys ---- */

static upf_status check_duplicates(const cfg_node *n, const char *prefix, upf_err *err)
{
    if (!n || n->kind == CFG_SCALAR) return UPF_OK;
    for (size_t i = 0; i < n->n; i++) {
        char path[512];
        if (n->kind == CFG_MAP) {
            snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", n->keys[i]->text);
            for (size_t j = 0; j < i; j++)
                if (strcmp(n->keys[j]->text, n->keys[i]->text) == 0)
                    return cfg_error_node(err, n->keys[i], path, "duplicate key (first at line %zu)",
                                          n->keys[j]->line);
        } else {
            snprintf(path, sizeof path, "%s", prefix);
        }
        upf_status st = check_duplicates(n->items[i], path, err);
        if (st) return st;
    }
    return UPF_OK;
}

/* ---- overrides ---- */

/* Parses the value text of an override; text that is not YAML (">= 0.3")
 * becomes a string. */
static upf_status parse_override_value(const cfg_src *src, cfg_node **out, upf_err *err)
{
    *out = NULL;
    upf_err tmp;
    upf_status st = cfg_yaml_parse(src, out, &tmp);
    if (st == UPF_ERR_NOMEM) return upf_err_set(err, st, "%s: out of memory", src->name);
    if (st == UPF_OK && *out && (*out)->kind != CFG_MAP) return UPF_OK;
    cfg_node_free(*out);
    *out = NULL;
    cfg_node *n = cfg_node_new(CFG_SCALAR, src, 1, 1);
    if (!n || !(n->text = upf_strdup(src->text))) {
        cfg_node_free(n);
        return upf_err_set(err, UPF_ERR_NOMEM, "%s: out of memory", src->name);
    }
    n->len = strlen(n->text);
    /* an empty value reads as null; anything else that did not parse is a quoted string */
    n->plain = n->len == 0 || st == UPF_OK;
    *out = n;
    return UPF_OK;
}

static upf_status apply_override(cfg_src **srcs, cfg_node **root, const char *text,
                                 const upf_family *const *fams, upf_err *err)
{
    char name[600];
    snprintf(name, sizeof name, "--set %s", text);
    const char *eq = strchr(text, '=');
    size_t klen = eq ? (size_t)(eq - text) : 0;
    if (!eq || klen == 0) {
        cfg_src tmp = { (char *)name, (char *)"", 0, 6, 1, NULL };
        return cfg_error_at(err, &tmp, 1, 1, NULL, "expected key.path=value, got \"%s\"", text);
    }
    const char *val = eq + 1;
    cfg_src *src = cfg_src_add(srcs, name, val, strlen(val), 6 + klen + 1, 1);
    if (!src) return upf_err_set(err, UPF_ERR_NOMEM, "--set: out of memory");
    char key[512];
    if (klen >= sizeof key) return cfg_error_at(err, src, 1, 1, NULL, "expected a shorter key path");
    memcpy(key, text, klen);
    key[klen] = '\0';
    cfg_node *value = NULL;
    upf_status st = parse_override_value(src, &value, err);
    if (st) return st;
    if (!*root && !(*root = cfg_node_new(CFG_MAP, src, 1, 1))) {
        cfg_node_free(value);
        return upf_err_set(err, UPF_ERR_NOMEM, "--set: out of memory");
    }
    /* segments: split on dots, except inside the key of a mapping-typed row */
    size_t map_prefix = 0;
    const upf_cfg_key *mrow = map_row_above(fams, key, &map_prefix);
    cfg_node *cur = *root;
    char *seg = key;
    for (;;) {
        char *dot = strchr(seg, '.');
        if (mrow && (size_t)(seg - key) > map_prefix) dot = NULL; /* the rest is one map key */
        if (dot) *dot = '\0';
        if (!*seg) {
            cfg_node_free(value);
            return cfg_error_at(err, src, 1, 1, NULL, "expected key.path=value, got an empty key segment in \"%s\"",
                                text);
        }
        long i = cfg_map_index(cur, seg);
        if (!dot) {
            if (i >= 0) {
                cfg_node_free(cur->items[i]);
                cur->items[i] = value;
                return UPF_OK;
            }
            cfg_node *k = cfg_node_new(CFG_SCALAR, src, 1, 1);
            if (!k || !(k->text = upf_strdup(seg))) {
                cfg_node_free(k);
                cfg_node_free(value);
                return upf_err_set(err, UPF_ERR_NOMEM, "--set: out of memory");
            }
            k->len = strlen(seg);
            k->plain = 1;
            return cfg_node_push(cur, k, value) ? upf_err_set(err, UPF_ERR_NOMEM, "--set: out of memory") : UPF_OK;
        }
        if (i >= 0 && cur->items[i]->kind == CFG_MAP) {
            cur = cur->items[i];
        } else {
            cfg_node *m = cfg_node_new(CFG_MAP, src, 1, 1);
            if (!m) {
                cfg_node_free(value);
                return upf_err_set(err, UPF_ERR_NOMEM, "--set: out of memory");
            }
            if (i >= 0) {
                cfg_node_free(cur->items[i]);
                cur->items[i] = m;
            } else {
                cfg_node *k = cfg_node_new(CFG_SCALAR, src, 1, 1);
                if (!k || !(k->text = upf_strdup(seg))) {
                    cfg_node_free(k);
                    cfg_node_free(m);
                    cfg_node_free(value);
                    return upf_err_set(err, UPF_ERR_NOMEM, "--set: out of memory");
                }
                k->len = strlen(seg);
                k->plain = 1;
                if (cfg_node_push(cur, k, m)) {
                    cfg_node_free(value);
                    return upf_err_set(err, UPF_ERR_NOMEM, "--set: out of memory");
                }
            }
            cur = m;
        }
        seg = dot + 1;
    }
}

/* Reads the file (or text), parses it, checks duplicates and applies overrides (config_internal.h). */
upf_status cfg_load_tree(const upf_cfg_load_opts *o, const upf_family *const *fams, cfg_src **srcs,
                            cfg_node **root, upf_err *err)
{
    *root = NULL;
    char *text = NULL;
    size_t len = 0;
    upf_status st;
    const char *name = o->path ? o->path : o->text_name ? o->text_name : "<string>";
    if (o->path) {
        if ((st = read_file(o->path, &text, &len, err))) return st;
    } else if (o->text) {
        len = strlen(o->text);
    } else {
        return upf_err_set(err, UPF_ERR_ARG, "config: neither a path nor a text given");
    }
    cfg_src *src = cfg_src_add(srcs, name, o->path ? text : o->text, len, 0, 0);
    upf_free(text);
    if (!src) return upf_err_set(err, UPF_ERR_NOMEM, "%s: out of memory", name);
    if ((st = cfg_yaml_parse(src, root, err))) return st;
    if (*root && (*root)->kind != CFG_MAP && !cfg_node_is_null(*root)) {
        char got[120];
        cfg_node_describe(*root, got, sizeof got);
        return cfg_error_node(err, *root, NULL, "expected a mapping of sections (data, split, model, ...), got %s",
                              got);
    }
    if (*root && (*root)->kind != CFG_MAP) {
        cfg_node_free(*root);
        *root = NULL;
    }
    if (!*root && !(*root = cfg_node_new(CFG_MAP, src, 1, 1))) return upf_err_set(err, UPF_ERR_NOMEM, "out of memory");
    if ((st = check_duplicates(*root, "", err))) return st;
    for (size_t i = 0; i < o->n_overrides; i++)
        if ((st = apply_override(srcs, root, o->overrides[i], fams, err))) return st;
    return UPF_OK;
}

/* ---- the schema walk ---- */

typedef struct walker {
    upf_cfg_loaded *L;
    unsigned char *common_set; /* per row of upf_config_keys */
    unsigned char *family_set; /* per row of the family's table */
} walker;

static upf_status record_set(upf_cfg_loaded *L, const char *path, const cfg_node *n)
{
    if (L->n_set == L->cap_set) {
        size_t cap = L->cap_set ? L->cap_set * 2 : 32;
        set_row *s = upf_realloc(L->set, cap * sizeof *s);
        if (!s) return UPF_ERR_NOMEM;
        L->set = s;
        L->cap_set = cap;
    }
    char where[700];
    cfg_node_where(n, where, sizeof where);
    char *w = upf_strdup(where), *p = upf_strdup(path);
    if (!w || !p) {
        upf_free(w);
        upf_free(p);
        return UPF_ERR_NOMEM;
    }
    L->set[L->n_set++] = (set_row){ p, n, w };
    return UPF_OK;
}

static const set_row *find_set(const upf_cfg_loaded *L, const char *path)
{
    for (size_t i = L->n_set; i-- > 0;)
        if (strcmp(L->set[i].path, path) == 0) return &L->set[i];
    return NULL;
}

/* Candidate names for the next segment below prefix (for "did you mean"). */
static size_t next_segments(const upf_cfg_key *const *tables, size_t n_tables, const char *prefix, const char **out,
                            size_t max, char (*store)[64])
{
    size_t n = 0, pl = strlen(prefix);
    if (!pl)
        for (size_t i = 0; upf_config_sections[i] && n < max; i++) out[n++] = upf_config_sections[i];
    for (size_t t = 0; t < n_tables; t++)
        for (const upf_cfg_key *k = tables[t]; k && k->path; k++) {
            if (pl && !(strncmp(k->path, prefix, pl) == 0 && k->path[pl] == '.')) continue;
            const char *s = k->path + (pl ? pl + 1 : 0);
            size_t sl = strcspn(s, ".");
            if (sl >= 64) continue;
            int dup = 0;
            for (size_t j = 0; j < n; j++)
                if (strlen(out[j]) == sl && strncmp(out[j], s, sl) == 0) dup = 1;
            if (dup || n >= max) continue;
            memcpy(store[n], s, sl);
            store[n][sl] = '\0';
            out[n] = store[n];
            n++;
        }
    return n;
}

static upf_status unknown_key(walker *w, const upf_family *const *fams, const cfg_node *key, const char *prefix,
                              const char *full, upf_err *err)
{
    const upf_cfg_key *tables[2] = { upf_config_keys, w->L->family->keys };
    const char *cands[128];
    char store[128][64];
    size_t n = next_segments(tables, 2, prefix, cands, 128, store);
    const char *near = cfg_closest(key->text, cands, n);
    /* a key of another family? */
    for (size_t f = 0; fams[f]; f++)
        if (fams[f] != w->L->family && cfg_find_key(fams[f]->keys, full))
            return cfg_error_node(err, key, full, "unknown key for model.family %s (it belongs to family %s)",
                                  w->L->family->name, fams[f]->name);
    if (near) return cfg_error_node(err, key, full, "unknown key (did you mean %s?)", near);
    char list[600];
    size_t off = 0;
    list[0] = '\0';
    for (size_t i = 0; i < n && off < sizeof list; i++)
        off += (size_t)snprintf(list + off, sizeof list - off, "%s%s", i ? ", " : "", cands[i]);
    return cfg_error_node(err, key, full, "unknown key; expected one of: %s", n ? list : "(none here)");
}

static upf_status walk(walker *w, const upf_family *const *fams, const cfg_node *map, const char *prefix,
                       upf_err *err)
{
    upf_cfg_loaded *L = w->L;
    for (size_t i = 0; i < map->n; i++) {
        const cfg_node *key = map->keys[i], *val = map->items[i];
        char full[512];
        snprintf(full, sizeof full, "%s%s%s", prefix, *prefix ? "." : "", key->text);
        void *base = NULL;
        const upf_cfg_key *row = find_row(L->family, &L->cfg, L->params, full, &base);
        if (row) {
            upf_status st = cfg_set_value(row, base, val, err);
            if (st) return st;
            if (base == (void *)&L->cfg) w->common_set[row - upf_config_keys] = 1;
            else w->family_set[row - L->family->keys] = 1;
            if (record_set(L, row->path, val)) return upf_err_set(err, UPF_ERR_NOMEM, "config: out of memory");
            for (size_t j = 0; row->type == UPF_CFG_MAP && val->kind == CFG_MAP && j < val->n; j++) {
                char entry[600];
                snprintf(entry, sizeof entry, "%s.%s", row->path, val->keys[j]->text);
                if (record_set(L, entry, val->items[j])) return upf_err_set(err, UPF_ERR_NOMEM, "config: out of memory");
            }
            continue;
        }
        int section = (!*prefix && is_section(full)) || has_rows_below(upf_config_keys, full) ||
                      has_rows_below(L->family->keys, full);
        if (!section) return unknown_key(w, fams, key, prefix, full, err);
        if (cfg_node_is_null(val)) continue;
        if (val->kind != CFG_MAP) {
            char got[120];
            cfg_node_describe(val, got, sizeof got);
            return cfg_error_node(err, val, full, "expected a mapping (a section of keys), got %s", got);
        }
        upf_status st = walk(w, fams, val, full, err);
        if (st) return st;
    }
    return UPF_OK;
}

/* Defaults of one table into base. */
static upf_status fill_defaults(cfg_src **srcs, const upf_cfg_key *keys, void *base, upf_err *err)
{
    for (const upf_cfg_key *k = keys; k && k->path; k++) {
        if (!k->def) continue;
        char name[300];
        snprintf(name, sizeof name, "default of %s", k->path);
        cfg_src *src = cfg_src_add(srcs, name, k->def, strlen(k->def), 0, 0);
        if (!src) return upf_err_set(err, UPF_ERR_NOMEM, "config: out of memory");
        cfg_node *n = NULL;
        upf_status st = cfg_yaml_parse(src, &n, err);
        if (st == UPF_OK && !n) {
            n = cfg_node_new(CFG_SCALAR, src, 1, 1);
            if (!n || !(n->text = upf_strdup(""))) st = upf_err_set(err, UPF_ERR_NOMEM, "config: out of memory");
            else n->plain = 1;
        }
        if (st == UPF_OK) st = cfg_set_value(k, base, n, err);
        cfg_node_free(n);
        if (st) return st;
    }
    return UPF_OK;
}

static upf_status missing_required(const upf_cfg_loaded *L, const upf_cfg_key *k, upf_err *err)
{
    /* point at the section when it is in the file, else at the top */
    char sec[128];
    snprintf(sec, sizeof sec, "%.*s", (int)strcspn(k->path, "."), k->path);
    const cfg_node *at = cfg_map_get(L->root, sec);
    if (!at || cfg_node_is_null(at)) at = L->root;
    return cfg_error_at(err, at->src, at->line, at->col, k->path, "missing required key (%s)", k->doc);
}

/* An error about a key: at its position when the file (or --set) wrote it. */
static upf_status key_verror(const upf_cfg_loaded *L, upf_err *err, const char *path, const char *fmt, va_list ap)
{
    char what[UPF_ERR_MSG_MAX];
    vsnprintf(what, sizeof what, fmt, ap);
    const set_row *s = find_set(L, path);
    if (s) return cfg_error_node(err, s->node, path, "%s", what);
    return upf_err_set(err, UPF_ERR_CONFIG, "%s: %s: %s", L->cfg.file, path, what);
}

static upf_status key_error(const upf_cfg_loaded *L, upf_err *err, const char *path, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static upf_status key_error(const upf_cfg_loaded *L, upf_err *err, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    upf_status st = key_verror(L, err, path, fmt, ap);
    va_end(ap);
    return st;
}

upf_status upf_config_key_error(const upf_cfg_loaded *c, upf_err *err, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    upf_status st = key_verror(c, err, path, fmt, ap);
    va_end(ap);
    return st;
}

/* Re-anchors a family check's message "key.path: what" at the key's position. */
static upf_status relocate(const upf_cfg_loaded *L, upf_err *err)
{
    char msg[UPF_ERR_MSG_MAX];
    snprintf(msg, sizeof msg, "%s", err->msg);
    size_t pl = strcspn(msg, ": ");
    if (msg[pl] != ':' || pl == 0 || pl >= 256) {
        upf_err_prefix(err, "%s", L->cfg.file);
        err->status = UPF_ERR_CONFIG;
        return UPF_ERR_CONFIG;
    }
    char path[256];
    memcpy(path, msg, pl);
    path[pl] = '\0';
    const char *rest = msg + pl + 1;
    while (*rest == ' ') rest++;
    return key_error(L, err, path, "%s", rest);
}

static int has_string(const upf_cfg_strings *s, const char *v)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], v) == 0) return 1;
    return 0;
}

static upf_status check_common(const upf_cfg_loaded *L, upf_err *err)
{
    const upf_config *c = &L->cfg;
    if (c->data_source == 0 && !c->data_path[0])
        return key_error(L, err, "data.path", "missing required key (data.source is file: the HDF5 dataset to read)");
    if (c->data_source == 1 && c->data_path[0])
        return key_error(L, err, "data.path", "expected no path with data.source synth (the data is generated in memory)");
    if (c->data_begin != UPF_CFG_DATE_UNSET && c->data_end != UPF_CFG_DATE_UNSET && c->data_end <= c->data_begin)
        return key_error(L, err, "data.end", "expected a date after data.begin");
    if (c->data_events.n == 0) return key_error(L, err, "data.events", "expected at least one event type, got []");
    static const char *const event_names[] = { "view", "cart", "purchase", "search", "rating", "return", "tag" };
    for (size_t i = 0; i < c->data_grades.n; i++) {
        char path[300];
        snprintf(path, sizeof path, "data.grades.%s", c->data_grades.keys[i]);
        int known = 0;
        for (size_t e = 0; e < 7; e++) known |= strcmp(event_names[e], c->data_grades.keys[i]) == 0;
        const set_row *s = find_set(L, "data.grades");
        const cfg_node *at = s ? cfg_map_get(s->node, c->data_grades.keys[i]) : NULL;
        if (!known) {
            const char *near = cfg_closest(c->data_grades.keys[i], event_names, 7);
            if (at) {
                char hint[64] = "";
                if (near) snprintf(hint, sizeof hint, " (did you mean %s?)", near);
                long idx = cfg_map_index(s->node, c->data_grades.keys[i]);
                return cfg_error_node(err, s->node->keys[idx], path, "expected an event type name, got \"%s\"%s",
                                      c->data_grades.keys[i], hint);
            }
            return key_error(L, err, "data.grades", "expected event type names as keys, got \"%s\"", c->data_grades.keys[i]);
        }
        char *end;
        double g = strtod(c->data_grades.values[i], &end);
        if (*end || !(g > 0) || g > 1e6) {
            if (at) return cfg_error_node(err, at, path, "expected a number in (0, 1e6], got \"%s\"", at->text);
            return key_error(L, err, "data.grades", "expected numbers in (0, 1e6] as grades");
        }
    }
    if (c->split_kind == UPF_SPLIT_TEMPORAL - 1 && c->split_cutoff == UPF_CFG_DATE_UNSET)
        return key_error(L, err, "split.cutoff", "missing required key (split.kind is temporal: the test period's first day)");
    if (c->split_kind != UPF_SPLIT_TEMPORAL - 1 && c->split_cutoff != UPF_CFG_DATE_UNSET)
        return key_error(L, err, "split.cutoff", "expected no cutoff with split.kind %s (only temporal uses it)",
                         c->split_kind == 0 ? "random" : "last_n");
    if (c->eval_k.n == 0) return key_error(L, err, "eval.k", "expected at least one cut-off, got []");
    for (size_t i = 0; i < c->gates.n; i++) {
        upf_gate g;
        upf_err ge;
        char path[300];
        snprintf(path, sizeof path, "gates.%s", c->gates.keys[i]);
        const set_row *s = find_set(L, "gates");
        const cfg_node *at = s ? cfg_map_get(s->node, c->gates.keys[i]) : NULL;
        if (upf_gate_parse(c->gates.keys[i], c->gates.values[i], &g, &ge)) {
            if (at) return cfg_error_node(err, at, path, "%s", ge.msg);
            return key_error(L, err, "gates", "%s: %s", c->gates.keys[i], ge.msg);
        }
        if (g.kind != UPF_GATE_ABSOLUTE && !c->eval_reference[0]) {
            if (at) return cfg_error_node(err, at, path, "expected eval.reference to be set: the gate compares with `ref`");
            return key_error(L, err, "gates", "expected eval.reference to be set: a gate compares with `ref`");
        }
    }
    return UPF_OK;
}

static upf_status pick_family(const upf_cfg_loaded *L, const upf_family *const *fams, const upf_family **out,
                              upf_err *err)
{
    *out = NULL;
    const cfg_node *model = cfg_map_get(L->root, "model");
    const cfg_node *fam = model && model->kind == CFG_MAP ? cfg_map_get(model, "family") : NULL;
    const char *names[64];
    size_t n = 0;
    char list[800];
    size_t off = 0;
    list[0] = '\0';
    for (; fams[n] && n < 64; n++) {
        names[n] = fams[n]->name;
        off += (size_t)snprintf(list + off, off < sizeof list ? sizeof list - off : 0, "%s%s", n ? ", " : "",
                                fams[n]->name);
    }
    if (!fam || cfg_node_is_null(fam)) {
        const cfg_node *at = model && !cfg_node_is_null(model) ? model : L->root;
        return cfg_error_at(err, at->src, at->line, at->col, "model.family", "missing required key (one of %s)", list);
    }
    if (fam->kind != CFG_SCALAR) {
        char got[120];
        cfg_node_describe(fam, got, sizeof got);
        return cfg_error_node(err, fam, "model.family", "expected one of %s, got %s%s", list, got,
                              fam->kind == CFG_SEQ ? " (a list of families makes a sweep grid: run `upfunnel sweep`)"
                                                   : "");
    }
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], fam->text) == 0) {
            *out = fams[i];
            return UPF_OK;
        }
    const char *near = cfg_closest(fam->text, names, n);
    char hint[100] = "";
    if (near) snprintf(hint, sizeof hint, " (did you mean %s?)", near);
    return cfg_error_node(err, fam, "model.family", "expected one of %s, got \"%s\"%s", list, fam->text, hint);
}

void upf_config_free(upf_cfg_loaded *L)
{
    if (!L) return;
    cfg_free_fields(upf_config_keys, &L->cfg);
    upf_free(L->cfg.file);
    upf_free(L->cfg.name);
    if (L->family && L->params) cfg_free_fields(L->family->keys, L->params);
    upf_free(L->params);
    upf_free(L->resolved);
    for (size_t i = 0; i < L->n_set; i++) {
        upf_free(L->set[i].where);
        upf_free(L->set[i].path);
    }
    upf_free(L->set);
    cfg_node_free(L->root);
    cfg_src_free_all(L->srcs);
    upf_free(L);
}

upf_status upf_config_load_opts(const upf_cfg_load_opts *o, upf_cfg_loaded **out, upf_err *err)
{
    *out = NULL;
    upf_status st = UPF_OK;
    walker w = { NULL, NULL, NULL };
    const upf_family *const *fams = families_or_default(o->families);
    upf_cfg_loaded *L = upf_calloc(1, sizeof *L);
    if (!L) return upf_err_set(err, UPF_ERR_NOMEM, "config: out of memory");
    w.L = L;
    const char *file = o->path ? o->path : o->text_name ? o->text_name : "<string>";
    if (!(L->cfg.file = upf_strdup(file)) || !(L->cfg.name = config_name(file))) goto nomem;
    if ((st = cfg_load_tree(o, fams, &L->srcs, &L->root, err))) goto fail;
    if ((st = pick_family(L, fams, &L->family, err))) goto fail;
    if (!(L->params = upf_calloc(1, L->family->params_size ? L->family->params_size : 1))) goto nomem;
    size_t n_common = 0, n_fam = 0;
    while (upf_config_keys[n_common].path) n_common++;
    while (L->family->keys && L->family->keys[n_fam].path) n_fam++;
    if (!(w.common_set = upf_calloc(n_common + 1, 1)) || !(w.family_set = upf_calloc(n_fam + 1, 1))) goto nomem;
    if ((st = fill_defaults(&L->srcs, upf_config_keys, &L->cfg, err))) goto fail;
    if ((st = fill_defaults(&L->srcs, L->family->keys, L->params, err))) goto fail;
    if ((st = walk(&w, fams, L->root, "", err))) goto fail;
    for (size_t i = 0; i < n_common; i++)
        if (!upf_config_keys[i].def && !w.common_set[i]) {
            st = missing_required(L, &upf_config_keys[i], err);
            goto fail;
        }
    for (size_t i = 0; i < n_fam; i++)
        if (!L->family->keys[i].def && !w.family_set[i]) {
            st = missing_required(L, &L->family->keys[i], err);
            goto fail;
        }
    if ((st = check_common(L, err))) goto fail;
    /* resolve the name now, so a resumed run (reading config.yaml) keeps it */
    if (!L->cfg.model_name[0]) {
        upf_free(L->cfg.model_name);
        if (!(L->cfg.model_name = upf_strdup(L->cfg.name))) goto nomem;
    }
    if (L->family->check) {
        upf_err fe;
        upf_err_clear(&fe);
        if (L->family->check(L->params, &L->cfg, &fe)) {
            if (fe.status == UPF_ERR_NOMEM) {
                st = upf_err_set(err, UPF_ERR_NOMEM, "%s", fe.msg);
                goto fail;
            }
            if (err) *err = fe;
            upf_err scratch;
            st = relocate(L, err ? err : &scratch);
            goto fail;
        }
    }
    {
        cfg_table tables[2] = { { upf_config_keys, &L->cfg }, { L->family->keys, L->params } };
        /* no file name or time in the text: the same config resolves to the same bytes */
        char header[600];
        snprintf(header, sizeof header,
                 "# Resolved config: every key, defaults filled in (configs/README.md).\n"
                 "# upfunnel %s; `upfunnel train` reads it back as it is.\n",
                 upf_version_string());
        if ((st = cfg_emit_yaml(tables, 2, header, &L->resolved, err))) goto fail;
    }
    upf_free(w.common_set);
    upf_free(w.family_set);
    *out = L;
    return UPF_OK;
nomem:
    st = upf_err_set(err, UPF_ERR_NOMEM, "config: out of memory");
fail:
    upf_free(w.common_set);
    upf_free(w.family_set);
    upf_config_free(L);
    return st;
}

upf_status upf_config_load(const char *path, const char *text, const char *const *overrides, size_t n_overrides,
                           upf_cfg_loaded **out, upf_err *err)
{
    upf_cfg_load_opts o = { path, text, NULL, overrides, n_overrides, NULL };
    return upf_config_load_opts(&o, out, err);
}

const upf_config *upf_config_common(const upf_cfg_loaded *c) { return &c->cfg; }
const void *upf_config_family_params(const upf_cfg_loaded *c) { return c->params; }
const upf_family *upf_config_family(const upf_cfg_loaded *c) { return c->family; }
const char *upf_config_resolved_yaml(const upf_cfg_loaded *c) { return c->resolved; }

const char *upf_config_where(const upf_cfg_loaded *c, const char *path)
{
    const set_row *s = find_set(c, path);
    return s ? s->where : NULL;
}

/* ---- params for the libraries ---- */

upf_interaction_params upf_config_interaction_params(const upf_config *c)
{
    static const char *const names[] = { "view", "cart", "purchase", "search", "rating", "return", "tag" };
    upf_interaction_params p;
    memset(&p, 0, sizeof p);
    for (int t = 0; t < UPF_EV_TYPE_COUNT; t++) p.grade[t] = 1.0f;
    p.grade[UPF_EV_PURCHASE] = 3.0f;
    p.grade[UPF_EV_CART] = 2.0f;
    p.grade[UPF_EV_VIEW] = 1.0f;
    for (size_t i = 0; i < c->data_events.n; i++)
        for (int t = 0; t < 7; t++)
            if (strcmp(c->data_events.v[i], names[t]) == 0) p.types |= 1u << (t + 1);
    for (size_t i = 0; i < c->data_grades.n; i++)
        for (int t = 0; t < 7; t++)
            if (strcmp(c->data_grades.keys[i], names[t]) == 0) p.grade[t + 1] = (float)strtod(c->data_grades.values[i], NULL);
    p.min_rating = (float)c->data_min_rating;
    p.time_begin = c->data_begin == UPF_CFG_DATE_UNSET ? INT64_MIN : c->data_begin;
    p.time_end = c->data_end == UPF_CFG_DATE_UNSET ? INT64_MAX : c->data_end;
    return p;
}

upf_split_params upf_config_split_params(const upf_config *c)
{
    upf_split_params p;
    memset(&p, 0, sizeof p);
    p.kind = (upf_split_kind)(c->split_kind + 1);
    p.test_frac = c->split_test_frac;
    p.last_n = (uint32_t)c->split_last_n;
    p.cutoff = c->split_cutoff == UPF_CFG_DATE_UNSET ? 0 : c->split_cutoff;
    p.min_entries = (uint32_t)c->split_min_entries;
    p.seed = (uint64_t)c->split_seed;
    return p;
}

const char *upf_config_primary(const upf_config *c, char *buf, size_t n)
{
    if (c->eval_primary[0]) snprintf(buf, n, "%s", c->eval_primary);
    else if (has_string(&c->eval_metrics, "ndcg") && c->eval_k.n) {
        /* ndcg@10 when 10 is a cut-off, else the first cut-off */
        int64_t k = c->eval_k.v[0];
        for (size_t i = 0; i < c->eval_k.n; i++)
            if (c->eval_k.v[i] == 10) k = 10;
        snprintf(buf, n, "ndcg@%lld", (long long)k);
    } else if (n) buf[0] = '\0';
    return buf;
}
