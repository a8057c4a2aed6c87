/* csv.h - a streaming reader for delimited text (CSV, TSV, '|', '::',
 * whitespace-separated), RFC 4180 quoting included, that hands out one row at
 * a time as fields pointing into its read buffer.
 *
 * Handles: quoted fields with delimiters, doubled quotes and embedded newlines
 * (when a quote character is set); LF, CRLF and lone CR line ends; a UTF-8 BOM
 * at the start; blank lines (skipped); any bytes (Latin-1 passes through
 * unchanged; see upf_latin1_to_utf8). Every field knows the line and byte
 * column (1-based) where it starts, for "file:line:column" messages.
 * Not handled: comment lines, escape characters other than doubled quotes,
 * encodings other than ASCII-compatible ones, compressed input.
 *
 * Entry points: upf_csv_open / upf_csv_open_mem, upf_csv_next, upf_csv_close.
 */
#ifndef UPF_CSV_H
#define UPF_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "../model/base.h"

typedef enum upf_csv_delim_kind {
    UPF_CSV_DELIM_CHAR = 0,       /* one byte: ',', '\t', '|', ';' */
    UPF_CSV_DELIM_WHITESPACE = 1, /* runs of spaces and tabs; leading and trailing blanks ignored */
    UPF_CSV_DELIM_STRING = 2      /* a multi-byte separator such as "::" */
} upf_csv_delim_kind;

typedef struct upf_csv_opts {
    int delim_kind;     /* upf_csv_delim_kind */
    char delim[8];      /* CHAR: delim[0]; STRING: NUL-terminated, 2-7 bytes */
    int header;         /* 1: the first non-blank row names the columns */
    char quote;         /* '"' (RFC 4180), or 0: quotes are ordinary bytes */
    size_t buf_size;    /* initial read buffer in bytes; 0: 1 MiB (grows for longer rows) */
    size_t max_row;     /* longest row in bytes before it is refused; 0: 64 MiB */
} upf_csv_opts;

/* Comma, header row, '"' quotes, default sizes. */
upf_csv_opts upf_csv_opts_default(void);

/* Sets the delimiter from its command-line spelling: "," "tab" "\t" "|" ";"
 * "::" "whitespace" (or "ws", "space"), or any 1-7 byte string. Whitespace
 * mode switches quoting off. */
upf_status upf_csv_set_delim(upf_csv_opts *o, const char *spec, upf_err *err);

typedef struct upf_csv_field {
    const char *p;   /* borrowed until the next upf_csv_next; NUL-terminated; quotes removed */
    size_t len;      /* bytes, without the terminator */
    int64_t line;    /* 1-based line where the field starts */
    int64_t col;     /* 1-based byte column of its first byte (the opening quote if quoted) */
} upf_csv_field;

typedef struct upf_csv upf_csv;

/* Opens path for reading ("-" reads stdin). With opts->header the header row
 * is read here; an empty file is not an error here (header count 0).
 * On failure *out = NULL. */
upf_status upf_csv_open(const char *path, const upf_csv_opts *opts, upf_csv **out, upf_err *err);
/* Reads from memory (copied); name is used in messages. */
upf_status upf_csv_open_mem(const char *name, const char *data, size_t n, const upf_csv_opts *opts,
                            upf_csv **out, upf_err *err);
void upf_csv_close(upf_csv *r);

/* Next row: 1 when a row is ready (upf_csv_row), 0 at the end of input, -1
 * for a malformed row (err says "path:line:column: what"; the reader resumes
 * at the next line, so callers may count it and go on), -2 for a fatal error
 * (I/O, out of memory). */
int upf_csv_next(upf_csv *r, upf_err *err);

/* The current row's fields (n), valid until the next upf_csv_next. */
const upf_csv_field *upf_csv_row(const upf_csv *r, size_t *n);
/* Line where the current row starts (1-based). */
int64_t upf_csv_line(const upf_csv *r);
const char *upf_csv_path(const upf_csv *r);
/* Bytes consumed so far (for progress and throughput). */
uint64_t upf_csv_bytes(const upf_csv *r);

/* Header names (borrowed until close); count 0 without a header or when the
 * file is empty. */
size_t upf_csv_header_count(const upf_csv *r);
const char *upf_csv_header_name(const upf_csv *r, size_t i);

/* Resolves a column by header name (exact; then ASCII case-insensitive when
 * that is unique) or by 1-based number. *idx is 0-based. Without a header only
 * numbers work. Errors name the file and list the header. */
upf_status upf_csv_column(const upf_csv *r, const char *spec, size_t *idx, upf_err *err);

/* Latin-1 (ISO-8859-1) to UTF-8. dst needs 2*n+1 bytes; returns the length
 * written (NUL-terminated). */
size_t upf_latin1_to_utf8(const char *src, size_t n, char *dst);

#endif
