/* json.h - a small JSON writer (streaming, to a FILE) and reader (a DOM tree),
 * enough for metrics.json, --json outputs, JSON-lines requests and run logs.
 *
 * Writer: numbers print with the shortest "%.Ng" that reads back to the same
 * double, so figures survive a round trip; NaN and Inf print as null.
 * Reader: RFC 8259 with \uXXXX escapes (surrogate pairs included); nesting is
 * limited to UPF_JSON_MAX_DEPTH; errors say the byte offset. Not streaming.
 */
#ifndef UPF_JSON_H
#define UPF_JSON_H

#include <stdint.h>
#include <stdio.h>

#include "base.h"

#ifdef __cplusplus
extern "C" {
#endif

#define UPF_JSON_MAX_DEPTH 64

/* ---- writer ---- */

typedef struct upf_json_writer {
    FILE *f;                                  /* borrowed */
    int pretty;                               /* 1: two-space indent and newlines */
    int depth;
    unsigned char has_items[UPF_JSON_MAX_DEPTH + 1]; /* per level: a value was written */
    char closer[UPF_JSON_MAX_DEPTH + 1];             /* per level: '}' or ']' */
} upf_json_writer;

void upf_jw_init(upf_json_writer *w, FILE *f, int pretty);
/* `key` is the member name inside an object, NULL inside an array or at the top. */
void upf_jw_object(upf_json_writer *w, const char *key);
void upf_jw_array(upf_json_writer *w, const char *key);
void upf_jw_end(upf_json_writer *w);      /* closes the innermost object/array */
void upf_jw_str(upf_json_writer *w, const char *key, const char *val); /* NULL -> null */
void upf_jw_num(upf_json_writer *w, const char *key, double val);
void upf_jw_int(upf_json_writer *w, const char *key, int64_t val);
void upf_jw_bool(upf_json_writer *w, const char *key, int val);
void upf_jw_null(upf_json_writer *w, const char *key);
/* Ends the document with a newline (after the top value is closed). */
void upf_jw_finish(upf_json_writer *w);
/* Writes s as a JSON string literal, quotes included. */
void upf_json_write_string(FILE *f, const char *s);
/* Formats v as the shortest round-trip decimal into buf (>= 32 bytes); "null" if not finite. */
void upf_json_format_num(char *buf, size_t n, double v);

/* ---- reader ---- */

typedef enum upf_json_type {
    UPF_JSON_NULL = 0, UPF_JSON_BOOL, UPF_JSON_NUM, UPF_JSON_STR, UPF_JSON_ARR, UPF_JSON_OBJ
} upf_json_type;

typedef struct upf_json upf_json;
struct upf_json {
    upf_json_type type;
    int boolean;          /* BOOL */
    double num;           /* NUM */
    char *str;            /* STR: NUL-terminated UTF-8 (may contain \0 escapes: see len) */
    size_t len;           /* STR: byte length; ARR/OBJ: number of children */
    upf_json **items;     /* ARR/OBJ: children (len) */
    char **keys;          /* OBJ: member names (len), in document order */
};

/* Parse text[0..n). On success *out is owned by the caller (upf_json_free).
 * Duplicate object keys are an error. On failure *out = NULL and err says
 * "byte OFFSET: expected ..., got ...". */
upf_status upf_json_parse(const char *text, size_t n, upf_json **out, upf_err *err);
/* Parse a whole file (error messages are prefixed with the path). */
upf_status upf_json_parse_file(const char *path, upf_json **out, upf_err *err);
void upf_json_free(upf_json *j);

/* Lookups return borrowed pointers or NULL. */
const upf_json *upf_json_get(const upf_json *obj, const char *key);
/* Dotted path through objects, e.g. "test.ndcg@10" (a key containing '.' is
 * not reachable this way; use upf_json_get). */
const upf_json *upf_json_path(const upf_json *obj, const char *path);

#ifdef __cplusplus
}
#endif
#endif
