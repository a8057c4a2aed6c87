/* h5_internal.h - HDF5 helpers shared by h5_read.c, h5_write.c and
 * h5_events.c (the only files that include hdf5.h): error reporting with the
 * innermost HDF5 message, the file types of the schema, opening and checking
 * a file and its datasets, and block-wise column and string reads.
 *
 * Error messages: "PATH: OBJECT: what (innermost HDF5 message)".
 */
#ifndef UPF_H5_INTERNAL_H
#define UPF_H5_INTERNAL_H

#include <hdf5.h>

#include "h5_io.h"
#include "internal.h"

/* Rows per block of the streaming reads and writes when the dataset's chunk
 * size does not say otherwise. */
#define UPF_H5_BLOCK_ROWS ((size_t)1 << 20)

/* Switches HDF5's automatic error printing off (idempotent; every entry point
 * calls it). */
void upf_h5_quiet(void);

/* Sets err to "path: obj: fmt... (innermost HDF5 message)", the parenthesis
 * only when HDF5's error stack holds a message. obj may be NULL. Returns st. */
upf_status upf_h5_fail(upf_err *err, upf_status st, const char *path, const char *obj, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* ---- types (each returns a new type id to close, or -1) ---- */

hid_t upf_h5_event_type_enum(int file); /* file: little-endian u8 base; else native */
hid_t upf_h5_item_kind_enum(int file);
hid_t upf_h5_str_fixed(size_t size);    /* UTF-8, NUL-padded, size >= 1 */
hid_t upf_h5_str_vlen(void);            /* UTF-8, variable length */

/* ---- reading ---- */

/* Opens path read-only after checking that it exists, is HDF5, carries
 * format = "upfunnel-dataset" and a version this build reads. */
upf_status upf_h5_open_dataset_file(const char *path, hid_t *file, upf_err *err);

/* 1 when every component of abs_path (e.g. "/campaigns/x/user") exists as a
 * link, 0 when one does not, -1 on an HDF5 error. */
int upf_h5_exists(hid_t file, const char *abs_path);

typedef enum upf_h5_class {
    UPF_H5_INT,     /* integer */
    UPF_H5_FLOAT,   /* floating point */
    UPF_H5_CODE,    /* enum, or integer holding the enum's numbers */
    UPF_H5_STRING,  /* fixed or variable-length string */
} upf_h5_class;

/* Opens the 1-D dataset name and checks its class, rank and storage
 * (external and virtual storage are refused). *n = its length. When
 * want_n >= 0 the length must equal it (want_what names the reason).
 * cache_bytes: the chunk cache; 0 for reads of whole chunks in order (an
 * unfiltered chunk then goes straight from the file into the destination,
 * without a copy through the cache), UPF_H5_CACHE_DEFAULT otherwise. */
#define UPF_H5_CACHE_DEFAULT H5D_CHUNK_CACHE_NBYTES_DEFAULT
upf_status upf_h5_open_column(hid_t file, const char *path, const char *name, upf_h5_class cls, int64_t want_n,
                              const char *want_what, size_t cache_bytes, hid_t *dset, size_t *n, upf_err *err);

/* Rows per block for a dataset: a whole number of chunks near target rows. */
size_t upf_h5_block_rows(hid_t dset, size_t target);

/* Reads rows [row0, row0+n) of dset as memtype into dst (one hyperslab). */
upf_status upf_h5_read_rows(hid_t dset, hid_t memtype, size_t row0, size_t n, void *dst, const char *path,
                            const char *name, upf_err *err);

/* Reads a whole column of n elements of elem bytes into dst (caller-owned),
 * block by block, polling upf_interrupted(). */
upf_status upf_h5_read_column(hid_t dset, hid_t memtype, size_t n, size_t elem, void *dst, const char *path,
                              const char *name, upf_err *err);

/* For an enum dataset, checks that every member is name_of(v) = v for some
 * v in [1, count) (numbers are never reused across versions, so a name this
 * build does not know means a newer writer); integer datasets pass. */
upf_status upf_h5_check_codes(hid_t dset, const char *(*name_of)(int), int count, const char *path, const char *name,
                              upf_err *err);

/* Opens, checks and reads the string dataset name (fixed or variable length)
 * into out (owned). want_n as in upf_h5_open_column. */
upf_status upf_h5_read_strings(hid_t file, const char *path, const char *name, int64_t want_n, const char *want_what,
                               upf_strings *out, upf_err *err);

/* Reads the scalar string attribute attr of obj into *out (owned, upf_free);
 * *out = NULL when absent. */
upf_status upf_h5_read_str_attr(hid_t obj, const char *attr, const char *path, const char *obj_name, char **out,
                                upf_err *err);

/* Names of the links in a group, in creation order when the group tracks it,
 * else by name. *names owned (each and the array: upf_free). */
upf_status upf_h5_list_group(hid_t file, const char *group, const char *path, char ***names, size_t *n, upf_err *err);

#endif
