/* config_internal.h - what the config loader's files share (not a public
 * header): the YAML node tree with source positions (config_yaml.c), value
 * conversion against a key row (config_schema.c), canonical emission
 * (config_emit.c) and the error formatter that prints a source line and a
 * caret under the offending spot.
 */
#ifndef UPF_CONFIG_INTERNAL_H
#define UPF_CONFIG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* ---- the node tree ---- */

/* Where a node came from: a file, a string, a --set override or a default. */
typedef struct cfg_src {
    char *name;      /* "configs/x.yaml", "<string>", "--set" */
    char *text;      /* the whole source text (NUL-terminated) */
    size_t len;
    size_t col_base; /* added to columns (a --set value sits after "key=") */
    int is_override; /* errors say "--set TEXT" instead of FILE:LINE:COL */
    struct cfg_src *next; /* sources of one load form a list (owned) */
} cfg_src;

typedef enum cfg_kind { CFG_SCALAR = 1, CFG_SEQ, CFG_MAP } cfg_kind;

typedef struct cfg_node {
    cfg_kind kind;
    const cfg_src *src;  /* borrowed from the load's source list */
    size_t line, col;    /* 1-based */
    char *text;          /* SCALAR: value (NUL-terminated; may hold \0: see len) */
    size_t len;
    int plain;           /* SCALAR: written without quotes (plain style) */
    size_t n;            /* SEQ: items; MAP: pairs */
    size_t cap;
    struct cfg_node **items; /* SEQ: (n) items; MAP: (n) values */
    struct cfg_node **keys;  /* MAP: (n) key scalars */
} cfg_node;

void cfg_node_free(cfg_node *n);
cfg_node *cfg_node_new(cfg_kind kind, const cfg_src *src, size_t line, size_t col);
/* Appends (key, value) to a map, or value to a seq (key NULL). Takes ownership. */
upf_status cfg_node_push(cfg_node *parent, cfg_node *key, cfg_node *value);
/* The value under key in a map, or NULL. */
cfg_node *cfg_map_get(const cfg_node *map, const char *key);
/* Index of key in a map, or -1. */
long cfg_map_index(const cfg_node *map, const char *key);
/* 1 when the node is a plain empty or null scalar ("", "~", "null"). */
int cfg_node_is_null(const cfg_node *n);

/* Creates a source (copies name and text) and links it at the head of *list. */
cfg_src *cfg_src_add(cfg_src **list, const char *name, const char *text, size_t len, size_t col_base,
                     int is_override);
void cfg_src_free_all(cfg_src *list);

/* Parses YAML text into a tree. One document; anchors, aliases and tags are
 * refused. An empty document gives *out = NULL with UPF_OK. Errors carry the
 * position and a caret. */
upf_status cfg_yaml_parse(const cfg_src *src, cfg_node **out, upf_err *err);

/* Reads a config (file or text), parses it, refuses duplicate keys and
 * applies the overrides; the tree (*root, never NULL on success) and its
 * sources (*srcs) are owned by the caller. fams: for the override paths that
 * enter a mapping-typed key (config.c). */
struct upf_family;
upf_status cfg_load_tree(const upf_cfg_load_opts *o, const struct upf_family *const *fams, cfg_src **srcs,
                         cfg_node **root, upf_err *err);

/* ---- errors ---- */

/* Formats "WHERE: PATH: what" + source line + caret into err (UPF_ERR_CONFIG).
 * WHERE is FILE:LINE:COL for files, "--set TEXT" for overrides; path may be NULL. */
upf_status cfg_error_at(upf_err *err, const cfg_src *src, size_t line, size_t col, const char *path,
                        const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;
upf_status cfg_error_node(upf_err *err, const cfg_node *n, const char *path, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/* A short rendering of a node for "got ...": "\"fast\"", "a list", "a mapping". */
void cfg_node_describe(const cfg_node *n, char *buf, size_t size);
/* Writes "FILE:LINE:COL" (or "--set TEXT") into buf. */
void cfg_node_where(const cfg_node *n, char *buf, size_t size);

/* ---- schema helpers (config_schema.c) ---- */

/* Sets the field of k inside base from node n (scalar, seq or map as the type
 * wants). Replaces (and frees) any previous value. Errors name path and the
 * node's position. */
upf_status cfg_set_value(const upf_cfg_key *k, void *base, const cfg_node *n, upf_err *err);
/* Frees the owned members (strings, lists, maps) of every row of keys in base. */
void cfg_free_fields(const upf_cfg_key *keys, void *base);
/* The closest name to `got` among cands (n), or NULL when none is close. */
const char *cfg_closest(const char *got, const char *const *cands, size_t n);
/* The row with exactly this path, or NULL. */
const upf_cfg_key *cfg_find_key(const upf_cfg_key *keys, const char *path);
/* 1 when the node type is a scalar kind (BOOL, INT, DOUBLE, STRING, ENUM, DATE). */
int cfg_type_is_scalar(upf_cfg_type t);
int cfg_type_is_list(upf_cfg_type t);
/* Parses a date "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SS[Z]" into unix seconds. 0 on success. */
int cfg_parse_date(const char *s, int64_t *out);
void cfg_format_date(int64_t t, char *buf, size_t n);

/* ---- emission (config_emit.c) ---- */

/* Canonical YAML of the values in (keys, base) pairs: sections in
 * upf_config_sections order, keys in table order, nested by dots. Owned by
 * the caller (upf_free). */
typedef struct cfg_table { const upf_cfg_key *keys; const void *base; } cfg_table;
upf_status cfg_emit_yaml(const cfg_table *tables, size_t n_tables, const char *header, char **out,
                         upf_err *err);
/* A scalar as YAML text (plain when safe, double-quoted otherwise) into a
 * growing buffer; and a node as flow YAML (overrides for grid points). */
typedef struct cfg_buf { char *p; size_t n, cap; int failed; } cfg_buf;
void cfg_buf_put(cfg_buf *b, const char *s, size_t n);
void cfg_buf_puts(cfg_buf *b, const char *s);
void cfg_buf_printf(cfg_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void cfg_emit_string(cfg_buf *b, const char *s);
void cfg_emit_node_flow(cfg_buf *b, const cfg_node *n);

#endif
