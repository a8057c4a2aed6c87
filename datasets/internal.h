/* internal.h - helpers shared inside datasets/ (not a public header): freeing
 * the parts of a dataset, a growable string blob in the upf_strings layout,
 * UTF-8 and HDF5-name checks, and the stable (key, time) ordering that the
 * builder uses for events and item events.
 *
 * Nothing here touches HDF5; the HDF5 internals live in h5_internal.h.
 */
#ifndef UPF_DATASETS_INTERNAL_H
#define UPF_DATASETS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "dataset.h"

/* The UTF-8 check is upf_ds_utf8_valid (model/ has its own upf_utf8_valid);
 * the old name stays usable inside datasets/ (the importers call it). */
#define upf_utf8_valid upf_ds_utf8_valid

/* ---- freeing parts (each accepts a zeroed struct and zeroes it) ---- */

void upf_strings_free(upf_strings *s);
void upf_attrs_free(upf_attrs *a);
void upf_campaign_free(upf_campaign *c);
void upf_messages_free(upf_messages *m);
void upf_impressions_free(upf_impressions *im);
void upf_item_events_free(upf_item_events *ie);

/* ---- growable string blob (the upf_strings layout) ---- */

typedef struct upf_strbuf {
    char *data;      /* (cap) NUL-terminated strings back to back */
    size_t len, cap; /* bytes used / allocated */
    int64_t *off;    /* (off_cap) off[i] = start of string i; off[n] == len */
    size_t n, off_cap;
} upf_strbuf;

/* Reserve room for n_more strings and bytes_more bytes (NULs included).
 * Returns 0, or -1 on allocation failure or overflow (the buffer is unchanged). */
int upf_strbuf_reserve(upf_strbuf *sb, size_t n_more, size_t bytes_more);
/* Append s[0..len) and a NUL; 0 or -1 (allocation failure). */
int upf_strbuf_append(upf_strbuf *sb, const char *s, size_t len);
/* Move the contents into *out (shrunk to size when possible; off is always
 * allocated, with off[0] = 0). Returns 0, or -1 when the first allocation of
 * an empty buffer fails. sb is zeroed either way on success. */
int upf_strbuf_take(upf_strbuf *sb, upf_strings *out);
void upf_strbuf_free(upf_strbuf *sb);

/* ---- checks ---- */

/* 1 when s[0..len) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF);
 * otherwise 0 and *bad_at = the offset of the first bad byte. */
int upf_ds_utf8_valid(const char *s, size_t len, size_t *bad_at);
/* 1 when name can be an HDF5 link name in our files (campaign and outcome
 * names): 1..UPF_H5_NAME_MAX bytes of valid UTF-8, no '/', not ".". */
#define UPF_H5_NAME_MAX 255
int upf_h5_name_ok(const char *name);

/* ---- ordering ---- */

/* Stable ordering of n rows by (key, time, input order). key[i] in [0, n_keys).
 * Fills ptr (n_keys+1, caller-allocated) with each key's row range and sets
 * *order (owned, n entries, order[k] = source row of the k-th sorted row), or
 * *order = NULL when the rows are already sorted. time may be NULL (key only).
 * Temporary memory: n_keys int64 plus the longest unsorted key's rows x 16 bytes. */
upf_status upf_order_by_key_time(const int32_t *key, const int64_t *time, int64_t n, size_t n_keys,
                                 int64_t *ptr, int64_t **order, upf_err *err);

/* col[k] = col[order[k]] for a column of n elements of elem_size bytes, using
 * scratch (n * elem_size bytes). */
void upf_apply_order(void *col, size_t elem_size, const int64_t *order, int64_t n, void *scratch);


/* ISO-8601 UTC ("2024-05-01T10:00:00Z") of a unix time into buf (>= 32 bytes). */
void upf_format_iso_time(int64_t t, char *buf, size_t n);

#endif
