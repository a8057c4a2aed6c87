/* import.h - what every importer shares: an import context around the dataset
 * builder that applies the bad-row policy, keeps the statistics of the
 * summary, interns ids (with a fast path for dense integer ids), and converts
 * CSV fields to numbers, times and ids with "file:line:column: field:
 * expected ..., got "..."" messages.
 *
 * The generic CSV mapping (upf_import_events_csv, upf_import_attrs_csv) and
 * the presets (presets.h) are built on it; the command is cli_import.c.
 * Not here: HDF5 (h5_io.c writes the finished dataset). Not thread-safe.
 */
#ifndef UPF_IMPORT_H
#define UPF_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "../model/base.h"
#include "csv.h"
#include "dataset.h"
#include "timeparse.h"

/* ---- context, policy and statistics ---- */

typedef struct upf_import_opts {
    int skip_bad_rows;   /* 1: a malformed row is counted and skipped; 0: it ends the import */
    size_t show_bad;     /* how many skipped-row messages to log (default 5) */
    size_t max_ids;      /* most distinct users (and items) allowed; 0: INT32_MAX (ids are int32) */
    int threads;         /* 2: event files are parsed on a second thread while ids are interned
                            (same dataset as with 1); 1 (default): one thread */
    /* Called every 2^20 rows with the rows read so far (from the reading
     * thread), e.g. for a progress line; NULL: none. */
    void (*progress)(uint64_t rows, void *user);
    void *progress_user;
} upf_import_opts;

upf_import_opts upf_import_opts_default(void);

#define UPF_IMPORT_MAX_REASONS 24
#define UPF_IMPORT_MAX_FILES 4096

typedef struct upf_import_stats {
    uint64_t rows;                                /* data rows read, all files (headers excluded) */
    uint64_t bytes;                               /* input bytes read */
    uint64_t skipped;                             /* rows skipped, all reasons */
    uint64_t events_by_type[UPF_EV_TYPE_COUNT];   /* events added, by upf_event_type */
    uint64_t item_events;                         /* item state changes added */
    uint64_t campaign_rows;
    uint64_t impressions;
    uint64_t attr_rows;                           /* attribute-file rows applied */
    size_t n_reasons;
    char reason[UPF_IMPORT_MAX_REASONS][64];      /* why rows were skipped ("bad time", "no customer id") */
    uint64_t reason_count[UPF_IMPORT_MAX_REASONS];
    size_t n_files;
} upf_import_stats;

/* A cache from dense integer ids to builder indices (see import.c). */
typedef struct upf_idcache {
    int32_t *idx;   /* (cap) builder index + 1, 0 = not cached */
    size_t cap;
} upf_idcache;

typedef struct upf_import {
    upf_builder *b;          /* borrowed */
    upf_import_opts o;
    upf_import_stats st;
    upf_idcache users, items;
    size_t shown_bad;        /* skipped-row messages logged so far */
    uint64_t reserve_bytes;  /* size of the event file being read, until its events are reserved */
} upf_import;

/* Starts an import into b (borrowed). */
void upf_import_init(upf_import *im, upf_builder *b, const upf_import_opts *o);
void upf_import_release(upf_import *im);

/* A malformed row: with skip_bad_rows, counts it under `reason`, logs its
 * message (the first show_bad of them) and returns UPF_OK so the caller skips
 * the row; otherwise returns rowerr's status (its message stays in rowerr). */
upf_status upf_import_bad_row(upf_import *im, const char *reason, upf_err *rowerr);
/* A row skipped by design (e.g. no customer id): counted, never an error. */
void upf_import_skip(upf_import *im, const char *reason);
/* Count of rows skipped for `reason` (0 when none). */
uint64_t upf_import_skipped(const upf_import_stats *s, const char *reason);

/* UPF_ERR_INTERRUPTED (with a message) when Ctrl-C was pressed; polled every
 * 65536 rows by the loops. */
upf_status upf_import_poll(upf_import *im, upf_err *err);

/* Opens a CSV for an importer: like upf_csv_open, and a file without even a
 * header line (when one is expected) is UPF_ERR_DATA "empty file". */
upf_status upf_import_open_csv(const char *path, const upf_csv_opts *o, upf_csv **r, upf_err *err);
/* The next data row of r: 1 a row (counted in stats), 0 the end, -1 stop with
 * *st set (err filled). Malformed CSV rows go through the bad-row policy;
 * polls for Ctrl-C. */
int upf_import_next_row(upf_import *im, upf_csv *r, upf_status *st, upf_err *err);
/* UPF_ERR_DATA "PATH: empty file" or "PATH: no data rows after the header",
 * for a file that gave no rows. */
upf_status upf_import_no_rows(const upf_csv *r, upf_err *err);
/* Adds r's bytes to the statistics and closes it; accepts NULL. */
void upf_import_close_csv(upf_import *im, upf_csv *r);
/* The year of a title ending in "(1995)" (trailing blanks allowed): 1 and
 * *year, or 0. */
int upf_title_year(const char *title, size_t n, int *year);

/* ---- field conversions ---- */

/* How an id column is read. */
typedef enum upf_id_kind {
    UPF_ID_STRING = 0,     /* any non-empty UTF-8 text, kept as is */
    UPF_ID_INT = 1,        /* a base-10 integer within int64; kept as written */
    UPF_ID_INT_FLOAT = 2,  /* an integral number such as "17850.0"; stored as "17850" */
    UPF_ID_LATIN1 = 3      /* any non-empty ISO-8859-1 text, converted to UTF-8 */
} upf_id_kind;

/* Each conversion returns UPF_OK, or UPF_ERR_FORMAT with err =
 * "path:line:col: name: expected WHAT, got "TEXT"" (outputs zero). */
upf_status upf_field_i64(const upf_csv *r, const upf_csv_field *f, const char *name, int64_t *out, upf_err *err);
upf_status upf_field_f64(const upf_csv *r, const upf_csv_field *f, const char *name, double *out, upf_err *err);
/* A finite number within float range. */
upf_status upf_field_f32(const upf_csv *r, const upf_csv_field *f, const char *name, float *out, upf_err *err);
upf_status upf_field_time(const upf_csv *r, const upf_csv_field *f, const char *name, upf_time_format fmt,
                          int64_t *out, upf_err *err);
/* Fails with "expected WHAT" for a field that does not meet the caller's own rule. */
upf_status upf_field_error(const upf_csv *r, const upf_csv_field *f, const char *name, const char *what,
                           upf_err *err);
/* A row with fewer fields than the mapping needs: `name` is the field (or
 * row kind) in column `need` (1-based). */
upf_status upf_row_short(const upf_csv *r, size_t have, size_t need, const char *name, upf_err *err);

/* Interns the id in field f as a user / an item. UPF_ERR_FORMAT for a bad id
 * (row error), UPF_ERR_DATA for too many distinct ids, UPF_ERR_NOMEM. */
upf_status upf_field_user(upf_import *im, const upf_csv *r, const upf_csv_field *f, const char *name,
                          upf_id_kind kind, int32_t *out, upf_err *err);
upf_status upf_field_item(upf_import *im, const upf_csv *r, const upf_csv_field *f, const char *name,
                          upf_id_kind kind, int32_t *out, upf_err *err);
/* Validates the id in f as `kind` and gives the text it is stored under
 * (*out: f's own bytes, or buf for converted ids; buf needs 32 bytes, and
 * 2 * f->len + 1 for UPF_ID_LATIN1). Row errors as above. */
upf_status upf_field_id_text(const upf_csv *r, const upf_csv_field *f, const char *name, upf_id_kind kind,
                             char *buf, size_t cap, const char **out, size_t *n_out, upf_err *err);
/* The index of the id whose canonical decimal text is v (see
 * upf_num_canonical_u62), interning it on first sight; and a prefetch hint
 * for the cache entry of v, for loops that resolve ids in batches. */
upf_status upf_import_id_u62(upf_import *im, int is_item, uint64_t v, int32_t *out, upf_err *err);
void upf_import_prefetch_id(const upf_import *im, int is_item, uint64_t v);
/* Interns an id given as text (already validated), e.g. a row number. */
upf_status upf_import_user_text(upf_import *im, const char *id, size_t len, int32_t *out, upf_err *err);
upf_status upf_import_item_text(upf_import *im, const char *id, size_t len, int32_t *out, upf_err *err);

/* After a builder call failed with st: err gets the builder's own message
 * (prefixed with `what`) and the status is returned. */
upf_status upf_import_builder_error(upf_import *im, upf_status st, const char *what, upf_err *err);

/* Adds an event and counts it. */
upf_status upf_import_event(upf_import *im, int32_t user, int32_t item, int64_t time, int type, float value,
                            int32_t query, upf_err *err);

/* ---- attributes ---- */

/* Adds the categorical attribute "field=value" (value bytes as given, cut to
 * 200 bytes at a UTF-8 boundary) with weight 1. */
upf_status upf_import_cat_attr(upf_import *im, int is_item, int32_t row, const char *field, const char *value,
                               size_t len, upf_err *err);
/* Adds a numeric attribute "field" with the given value. */
upf_status upf_import_num_attr(upf_import *im, int is_item, int32_t row, const char *field, float value,
                               upf_err *err);
/* Splits text into word tokens and adds "prefix=token" once per distinct
 * token. Words are runs of ASCII letters and digits and of non-ASCII UTF-8
 * characters other than common symbols and punctuation (pound sign, dashes,
 * curly quotes); ASCII is lowercased; a token needs 2 bytes and a non-digit
 * (so "12" and "t" in "SET OF 12 T-LIGHT" are dropped). */
upf_status upf_import_text_attr(upf_import *im, int is_item, int32_t row, const char *prefix, const char *text,
                                size_t len, upf_err *err);
/* Calls fn(tok, len, user) for each distinct token of text (rules above). */
void upf_text_tokens(const char *text, size_t len, void (*fn)(const char *tok, size_t n, void *user), void *user);

/* A set of byte strings (e.g. "item index + token" pairs already added). */
typedef struct upf_strset {
    struct upf_strset_slot *slot; /* (cap) open addressing */
    size_t cap, n;
    char *blob;                   /* (blob_len) keys back to back */
    size_t blob_len, blob_cap;
} upf_strset;

/* Adds key[0..n): 1 when it was new, 0 when present, -1 out of memory. */
int upf_strset_add(upf_strset *s, const void *key, size_t n);
void upf_strset_free(upf_strset *s); /* leaves a zeroed, reusable set */

/* ---- the generic CSV mapping ---- */

#define UPF_TYPE_SKIP (-1) /* a type-map target meaning "drop the row" */

typedef struct upf_type_map_entry {
    char *text;    /* value in the type column; "*" matches any other value */
    int type;      /* upf_event_type, or UPF_TYPE_SKIP */
} upf_type_map_entry;

typedef struct upf_event_mapping {
    upf_csv_opts csv;
    const char *user_col;     /* header name or 1-based number */
    const char *item_col;     /* NULL: events without items (item -1) */
    const char *time_col;
    const char *type_col;     /* NULL: every row has event_type */
    const char *value_col;    /* NULL: value 1 */
    int event_type;           /* when type_col is NULL */
    upf_type_map_entry *type_map; /* (n_type_map); empty: the column holds type names (view, cart, ...) */
    size_t n_type_map;
    upf_time_format time_fmt;
    upf_id_kind user_kind, item_kind;
} upf_event_mapping;

/* Parses "buy=purchase,view=view,refund=return,*=skip" (targets are event
 * type names or "skip"). Entries are owned by *out (free with
 * upf_type_map_free). */
upf_status upf_type_map_parse(const char *spec, upf_type_map_entry **out, size_t *n, upf_err *err);
void upf_type_map_free(upf_type_map_entry *m, size_t n);

/* Reads one event CSV into the import. */
upf_status upf_import_events_csv(upf_import *im, const char *path, const upf_event_mapping *m, upf_err *err);

typedef enum upf_attr_kind {
    UPF_ATTR_CAT = 0,   /* "col=value", weight 1 */
    UPF_ATTR_NUM = 1,   /* "col" with the number (empty cells skipped) */
    UPF_ATTR_MULTI = 2, /* several categorical values split by sep ("Action|Comedy") */
    UPF_ATTR_TEXT = 3   /* word tokens as "token=word" */
} upf_attr_kind;

typedef struct upf_attr_col {
    char *col;          /* header name or 1-based number */
    char *name;         /* attribute field name (default: the header name) */
    int kind;           /* upf_attr_kind */
    char sep;           /* UPF_ATTR_MULTI */
} upf_attr_col;

typedef struct upf_attr_mapping {
    upf_csv_opts csv;
    const char *key_col;      /* the id column */
    upf_id_kind key_kind;
    int is_item;              /* 1: item attributes; 0: user attributes */
    upf_attr_col *cols;       /* (n_cols) */
    size_t n_cols;
    int latin1;               /* cells are ISO-8859-1 */
} upf_attr_mapping;

/* Parses "genre:multi=|,price:num,description:text,brand" (kinds cat, num,
 * multi[=SEP] (default '|'), text). Owned by *out (upf_attr_cols_free). */
upf_status upf_attr_cols_parse(const char *spec, upf_attr_col **out, size_t *n, upf_err *err);
void upf_attr_cols_free(upf_attr_col *c, size_t n);

/* Reads an attribute CSV: every key becomes a user/item (so catalogue items
 * without events are kept) and gets the mapped attributes. A key seen twice
 * keeps the attributes of its first row (the repeat is skipped and counted). */
upf_status upf_import_attrs_csv(upf_import *im, const char *path, const upf_attr_mapping *m, upf_err *err);

#endif
