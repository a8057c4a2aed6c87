/* modelfile.h - the .upf model file (format v1, see model/FORMAT.md and
 * ../STYLE.md section 10): a writer for trainers and a validating, mmap-based
 * reader for the runtime and tools.
 *
 * Writer: collect metadata and tensors, then upf_mw_write lays the file out
 * (header, section table, META, TENSOR_INDEX, STRINGS, TENSOR_DATA), writes it
 * to a temporary name and renames it. Output is deterministic: tensors in the
 * order added, metadata sorted by key, zero padding.
 * Reader: upf_model_open validates everything (bounds, alignment, CRCs, META
 * structure, tensor shapes per kind) before returning; afterwards the model is
 * immutable and may be shared by any number of threads.
 * libc and libm only.
 */
#ifndef UPF_MODELFILE_H
#define UPF_MODELFILE_H

#include <stddef.h>
#include <stdint.h>

#include "base.h"

#ifdef __cplusplus
extern "C" {
#endif

#define UPF_FILE_VERSION_MAJOR 1
#define UPF_FILE_VERSION_MINOR 0

/* Model kinds (header field `kind`). Serialized: never renumbered or reused. */
typedef enum upf_kind {
    UPF_KIND_NONE = 0,
    UPF_KIND_RANKER = 1,          /* hybrid factorization ranker (and popularity baseline) */
    UPF_KIND_LIFETIME_AFT = 2,    /* survival AFT: churn, interval quantiles, buy-again */
    UPF_KIND_LIFETIME_BGNBD = 3,  /* BG/NBD (+ Gamma-Gamma) customer-base model */
    UPF_KIND_UPLIFT = 4,          /* per-arm response / uplift model */
    UPF_KIND_COOCCUR = 5,         /* item-to-item co-occurrence ("bought together") */
    UPF_KIND_COUNT
} upf_kind;

const char *upf_kind_name(uint32_t kind); /* "ranker", ...; "unknown" otherwise */

/* Tensor element types (TENSOR_INDEX dtype). Serialized. */
typedef enum upf_dtype {
    UPF_DTYPE_NONE = 0,
    UPF_DTYPE_F32 = 1,
    UPF_DTYPE_F16 = 2,   /* IEEE binary16 */
    UPF_DTYPE_I8S = 3,   /* int8 with f32 scales per block of q_block along the innermost dim */
    UPF_DTYPE_I32 = 4,
    UPF_DTYPE_I64 = 5,
    UPF_DTYPE_U8 = 6,
    UPF_DTYPE_COUNT
} upf_dtype;

const char *upf_dtype_name(uint32_t dtype);

/* ---- writer ---- */

typedef struct upf_mw upf_mw;

upf_status upf_mw_create(upf_mw **out, uint32_t kind, upf_err *err);
void upf_mw_free(upf_mw *w);

/* Metadata; keys are dotted lower_snake_case, unique. Values are copied. */
upf_status upf_mw_meta_u64(upf_mw *w, const char *key, uint64_t v);
upf_status upf_mw_meta_i64(upf_mw *w, const char *key, int64_t v);
upf_status upf_mw_meta_f64(upf_mw *w, const char *key, double v);
upf_status upf_mw_meta_str(upf_mw *w, const char *key, const char *v);
upf_status upf_mw_meta_bool(upf_mw *w, const char *key, int v);
upf_status upf_mw_meta_f64_array(upf_mw *w, const char *key, const double *v, size_t n);
upf_status upf_mw_meta_str_array(upf_mw *w, const char *key, const char *const *v, size_t n);

/* Tensors. dims are outermost first, 1 <= ndim <= 4. The data pointer is
 * borrowed until upf_mw_write returns. Float tensors are stored as
 * `store` (F32, F16 or I8S; I8S quantizes per row, q_block = innermost dim). */
upf_status upf_mw_tensor_f32(upf_mw *w, const char *name, const float *data, uint32_t ndim,
                             const uint64_t *dims, upf_dtype store);
upf_status upf_mw_tensor_i32(upf_mw *w, const char *name, const int32_t *data, uint32_t ndim,
                             const uint64_t *dims);
upf_status upf_mw_tensor_i64(upf_mw *w, const char *name, const int64_t *data, uint32_t ndim,
                             const uint64_t *dims);
upf_status upf_mw_tensor_u8(upf_mw *w, const char *name, const uint8_t *data, uint32_t ndim,
                            const uint64_t *dims);

/* A tensor already encoded in its stored dtype (copied by export, and used by
 * tests). data holds n_elems * elem_size bytes, little-endian; for I8S,
 * scales holds (rows, ceil(inner / q_block)) floats and 1 <= q_block <= 65535;
 * otherwise scales is NULL and q_block 0. Borrowed until upf_mw_write returns. */
upf_status upf_mw_tensor_raw(upf_mw *w, const char *name, upf_dtype dtype, uint32_t ndim, const uint64_t *dims,
                             const void *data, const float *scales, uint32_t q_block);

/* A metadata entry given as its encoded value (see FORMAT.md): any vtype,
 * also ones this library does not know, with flags (bit0 CRITICAL). The value
 * is copied and not validated beyond its length; used by export to carry
 * entries over unchanged. */
upf_status upf_mw_meta_raw(upf_mw *w, const char *key, uint32_t vtype, uint32_t flags, const void *val,
                           size_t len);
/* Sets the flags of an entry added before (e.g. UPF_META_CRITICAL). */
upf_status upf_mw_meta_set_flags(upf_mw *w, const char *key, uint32_t flags);
#define UPF_META_CRITICAL 1u

/* Every upf_mw_* call above returns its status, and the first failure is also
 * kept: upf_mw_write then fails with that status and message, so a trainer
 * may check only the final call. */

/* Lays out and writes the file atomically (temporary name + rename). Writes
 * nothing when an earlier call failed. The same writer may be written twice. */
upf_status upf_mw_write(upf_mw *w, const char *path, upf_err *err);
/* The same bytes into memory: *out (n bytes, 64-byte aligned) is owned by the
 * caller and freed with upf_free_aligned. On failure *out is NULL, *n 0. */
upf_status upf_mw_write_buffer(upf_mw *w, void **out, size_t *n, upf_err *err);

/* ---- reader ---- */

typedef struct upf_model upf_model;

#define UPF_OPEN_SKIP_DATA_CRC 1u /* skip the TENSOR_DATA checksum (very large files) */
#define UPF_OPEN_NO_MMAP 2u       /* read into memory instead of mapping */
#define UPF_OPEN_ANY_KIND 4u      /* accept kinds this reader does not know (inspect); such a
                                     model has no serving functions */
#define UPF_OPEN_REF_KERNELS 8u   /* score with the reference kernels only (tests, debugging) */

/* Opens and fully validates a model file. On failure *out is NULL and err
 * names the file, the section and the byte offset of the first violation. */
upf_status upf_model_open(const char *path, unsigned flags, upf_model **out, upf_err *err);
/* Same, over a caller's buffer (used by the fuzzer and tests): borrowed for the
 * model's lifetime when 64-byte aligned, copied otherwise. */
upf_status upf_model_open_buffer(const void *data, size_t n, unsigned flags, upf_model **out, upf_err *err);
void upf_model_close(upf_model *m); /* accepts NULL */

uint32_t upf_model_kind(const upf_model *m);
void upf_model_version(const upf_model *m, uint16_t *major, uint16_t *minor);

/* The header as read, and how the file was opened. */
typedef struct upf_file_info {
    uint16_t ver_major, ver_minor;
    uint32_t kind, incompat_flags, header_size, alignment;
    uint64_t file_size, sect_offset;
    uint32_t sect_count, sect_entry_size, sect_table_crc, header_crc;
    int mapped;            /* 1: mmap; 0: read into memory or a caller's buffer */
    int data_crc_checked;  /* 0 under UPF_OPEN_SKIP_DATA_CRC */
    const char *kernels;   /* scoring kernels in use: "avx2" or "reference" */
} upf_file_info;
void upf_model_file_info(const upf_model *m, upf_file_info *out);

typedef struct upf_section_info {
    uint32_t type;         /* 1 META, 2 TENSOR_INDEX, 3 TENSOR_DATA, 4 STRINGS, other: unknown */
    uint32_t flags;        /* bit0 REQUIRED */
    uint64_t offset, size; /* absolute offset; payload bytes */
    uint32_t crc32, count;
    char name[17];         /* NUL-terminated copy of the entry's name */
} upf_section_info;
size_t upf_model_n_sections(const upf_model *m);
upf_status upf_model_section_at(const upf_model *m, size_t i, upf_section_info *out);

typedef struct upf_tensor_view {
    const char *name;      /* borrowed */
    uint32_t dtype;        /* upf_dtype */
    uint32_t ndim;
    uint64_t dims[4];      /* outermost first; unused dims 0 */
    uint64_t n_elems;
    const void *data;      /* borrowed; 64-byte aligned */
    const float *scales;   /* I8S: (rows, ceil(inner / q_block)); else NULL */
    uint32_t q_block;      /* I8S block length; else 0 */
} upf_tensor_view;

/* UPF_ERR_ARG (and a zeroed view) when the tensor is absent. */
upf_status upf_model_tensor(const upf_model *m, const char *name, upf_tensor_view *out, upf_err *err);
size_t upf_model_n_tensors(const upf_model *m);
upf_status upf_model_tensor_at(const upf_model *m, size_t i, upf_tensor_view *out);

/* Metadata lookups: UPF_ERR_ARG when the key is absent or has another type.
 * Returned pointers are borrowed (valid until close). Strings are not
 * NUL-terminated in the file: *len gives the length. */
typedef enum upf_meta_type {
    UPF_META_NONE = 0, UPF_META_U64 = 1, UPF_META_I64 = 2, UPF_META_F64 = 3, UPF_META_STR = 4,
    UPF_META_BOOL = 5, UPF_META_F64_ARRAY = 6, UPF_META_STR_ARRAY = 7
} upf_meta_type;

upf_status upf_model_meta_u64(const upf_model *m, const char *key, uint64_t *v);
upf_status upf_model_meta_i64(const upf_model *m, const char *key, int64_t *v);
upf_status upf_model_meta_f64(const upf_model *m, const char *key, double *v);
upf_status upf_model_meta_str(const upf_model *m, const char *key, const char **s, size_t *len);
upf_status upf_model_meta_bool(const upf_model *m, const char *key, int *v);
upf_status upf_model_meta_f64_array(const upf_model *m, const char *key, const double **v, size_t *n);
/* STR_ARRAY element i (0-based). */
upf_status upf_model_meta_str_at(const upf_model *m, const char *key, size_t i, const char **s, size_t *len);
upf_status upf_model_meta_count(const upf_model *m, const char *key, upf_meta_type *type, size_t *n);
size_t upf_model_n_meta(const upf_model *m);
/* Key and type of entry i, in file (sorted) order. */
upf_status upf_model_meta_at(const upf_model *m, size_t i, const char **key, size_t *key_len, upf_meta_type *type);
/* Entry i as stored: vtype may be one this library does not know (skipped
 * unless CRITICAL); val points at val_len encoded bytes (borrowed). */
typedef struct upf_meta_raw {
    const char *key;       /* borrowed, not NUL-terminated */
    size_t key_len;
    uint32_t vtype, flags;
    const void *val;
    size_t val_len;
} upf_meta_raw;
upf_status upf_model_meta_raw_at(const upf_model *m, size_t i, upf_meta_raw *out);

/* Decodes elements [first, first + n) of a tensor (flat, row-major) into out
 * (n): F32 as is, F16 exactly, I8S as q * scale; I32/I64/U8 converted (the
 * f64 form is exact for all but I64 beyond 2^53). UPF_ERR_ARG out of range or,
 * for the f32 form, on a non-float dtype. */
upf_status upf_tensor_read_f32(const upf_tensor_view *v, uint64_t first, size_t n, float *out);
upf_status upf_tensor_read_f64(const upf_tensor_view *v, uint64_t first, size_t n, double *out);

#ifdef __cplusplus
}
#endif
#endif
