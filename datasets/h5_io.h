/* h5_io.h - reading and writing upfunnel dataset files (HDF5, schema v1; the
 * layout is in datasets/README.md), and streaming a file's events in blocks.
 *
 * Writing goes to a temporary name beside the target and is renamed at the
 * end: a failure or a signal never leaves a half-written file under the final
 * name. Reading streams every dataset by hyperslab in row blocks straight into
 * the destination arrays, then validates (upf_dataset_validate). Files that are
 * not HDF5, not upfunnel datasets, from a newer format version, or that hold
 * datasets of the wrong class, rank or length, or with external or virtual
 * storage, are refused. Errors read "PATH: /events/time: what (innermost HDF5
 * message)"; HDF5's own stack printing is switched off.
 *
 * This header does not include hdf5.h. Not thread-safe (HDF5 serial build).
 */
#ifndef UPF_H5_IO_H
#define UPF_H5_IO_H

#include <stddef.h>
#include <stdint.h>

#include "dataset.h"

typedef struct upf_h5_write_opts {
    int deflate;        /* 0: no compression; 1..9: shuffle + deflate at this level */
    int deflate_events; /* the same for the hot columns of /events; -1: as deflate */
    size_t chunk_rows;  /* rows per chunk of the row datasets, >= 1 */
} upf_h5_write_opts;

/* The measured defaults (see datasets/README.md "Chunks and compression"). */
upf_h5_write_opts upf_h5_write_opts_default(void);

/* Writes ds to path atomically (temporary + rename). ds must validate. On
 * failure nothing exists under path that was not there before (an existing
 * file at path is left untouched) and the temporary is removed. */
upf_status upf_dataset_write(const upf_dataset *ds, const char *path, upf_err *err);
upf_status upf_dataset_write_opts(const upf_dataset *ds, const char *path, const upf_h5_write_opts *opts, upf_err *err);

/* Reads a whole dataset file. On success *out is owned by the caller
 * (upf_dataset_free); on failure *out = NULL. Polls upf_interrupted() between
 * blocks (UPF_ERR_INTERRUPTED). */
upf_status upf_dataset_read(const char *path, upf_dataset **out, upf_err *err);

/* ---- streaming /events for files larger than memory ---- */

typedef struct upf_h5_events upf_h5_events;

/* One block of consecutive events, rows [row0, row0 + n). The arrays are
 * borrowed: valid until the next call to upf_h5_events_next or _close. */
typedef struct upf_event_block {
    int64_t row0;
    int64_t n;          /* 0 at the end */
    const int32_t *user;  /* (n) */
    const int32_t *item;  /* (n) */
    const int64_t *time;  /* (n) */
    const uint8_t *type;  /* (n) */
    const float *value;   /* (n) */
    const int32_t *query; /* (n), or NULL when the file has no /events/query */
} upf_event_block;

/* Opens path for block reads of block_rows events (0: a default of about
 * 1M rows, rounded to whole chunks). Checks the format, version, types and
 * lengths up front; each block is validated as it is read (ranges, and the
 * (user, time) order across blocks). *out owned; NULL on failure. */
upf_status upf_h5_events_open(const char *path, size_t block_rows, upf_h5_events **out, upf_err *err);
/* Totals from the file's dataset shapes. Any pointer may be NULL. */
void upf_h5_events_sizes(const upf_h5_events *it, int64_t *n_events, size_t *n_users, size_t *n_items);
/* The next block; blk->n == 0 after the last one. */
upf_status upf_h5_events_next(upf_h5_events *it, upf_event_block *blk, upf_err *err);
void upf_h5_events_close(upf_h5_events *it); /* accepts NULL */

#endif
