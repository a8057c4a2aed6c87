/* internal.h - what the files of model/ share and the public headers do not show: byte
 * loads/stores (little-endian, through byte arithmetic, never by casting file
 * bytes to structs), the format's constants, the parsed model struct, UTF-8
 * and key checks, a small heapsort, the id hash maps and the per-kind serving
 * state. Not installed; not for code outside model/.
 */
#ifndef UPF_MODEL_INTERNAL_H
#define UPF_MODEL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "base.h"
#include "kernels.h"
#include "modelfile.h"

/* ---- little-endian loads and stores ---- */

static inline uint16_t upf_rd_u16le(const uint8_t *p) { return (uint16_t)(p[0] | (unsigned)p[1] << 8); }
static inline uint32_t upf_rd_u32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t upf_rd_u64le(const uint8_t *p)
{
    return (uint64_t)upf_rd_u32le(p) | (uint64_t)upf_rd_u32le(p + 4) << 32;
}
static inline void upf_wr_u16le(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void upf_wr_u32le(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void upf_wr_u64le(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- format constants (STYLE.md section 10, model/FORMAT.md) ---- */

#define UPF_MAGIC "\x89UPF\r\n\x1a\n"
#define UPF_BYTE_ORDER_MARK 0x01020304u
#define UPF_HEADER_SIZE 64u
#define UPF_ALIGNMENT 64u
#define UPF_SECT_ENTRY_SIZE 64u
#define UPF_TENSOR_REC_SIZE 64u
#define UPF_MAX_ALIGNMENT (1u << 20)
#define UPF_MAX_SECT_ENTRY 4096u
#define UPF_MAX_SECTIONS 4096u

/* Section types (serialized; never renumbered). */
#define UPF_SECT_META 1u
#define UPF_SECT_TENSOR_INDEX 2u
#define UPF_SECT_TENSOR_DATA 3u
#define UPF_SECT_STRINGS 4u
#define UPF_SECT_FLAG_REQUIRED 1u

#define UPF_META_FLAG_CRITICAL 1u

/* Header field offsets. */
enum {
    UPF_H_MAGIC = 0, UPF_H_BYTE_ORDER = 8, UPF_H_VER_MAJOR = 12, UPF_H_VER_MINOR = 14, UPF_H_KIND = 16,
    UPF_H_INCOMPAT = 20, UPF_H_HEADER_SIZE = 24, UPF_H_ALIGNMENT = 28, UPF_H_FILE_SIZE = 32,
    UPF_H_SECT_OFFSET = 40, UPF_H_SECT_COUNT = 48, UPF_H_SECT_ENTRY_SIZE = 52, UPF_H_SECT_TABLE_CRC = 56,
    UPF_H_HEADER_CRC = 60
};
/* Section entry field offsets. */
enum { UPF_S_TYPE = 0, UPF_S_FLAGS = 4, UPF_S_OFFSET = 8, UPF_S_SIZE = 16, UPF_S_CRC = 24, UPF_S_COUNT = 28,
       UPF_S_NAME = 32, UPF_S_RESERVED = 48 };
/* Tensor record field offsets. */
enum { UPF_T_DATA_OFFSET = 0, UPF_T_DATA_SIZE = 8, UPF_T_SCALE_OFFSET = 16, UPF_T_DIMS = 24,
       UPF_T_NAME_OFFSET = 56, UPF_T_DTYPE = 60, UPF_T_NDIM = 61, UPF_T_Q_BLOCK = 62 };

/* Bytes per element of a dtype; 0 for an unknown dtype. */
size_t upf_dtype_size(uint32_t dtype);
const char *upf_section_type_name(uint32_t type); /* "meta", ...; "unknown" */

/* ---- checks shared by the reader and the writer ---- */

/* 1 when s[0..n) is well-formed UTF-8 without NUL or other C0 control bytes
 * other than tab, newline and carriage return. */
/* Renamed at link level: datasets/strings.c has its own upf_utf8_valid (another
 * signature); both were merged into the runner branch (integration fix). */
#define upf_utf8_valid upf_model_utf8_valid
int upf_utf8_valid(const uint8_t *s, size_t n);
/* 1 when a metadata key is 1..255 bytes of printable ASCII (0x21..0x7E). */
int upf_meta_key_valid(const uint8_t *s, size_t n);
/* Byte-wise key order: <0, 0, >0 like memcmp, shorter first on a common prefix. */
int upf_key_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn);

/* In-place heapsort of n elements of `size` bytes (no allocation). */
void upf_heapsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *, void *), void *ctx);

/* ---- the parsed model ---- */

typedef struct upf_meta_ent {
    const uint8_t *key;    /* borrowed from the file */
    const uint8_t *val;
    uint32_t val_len;
    uint16_t key_len;
    uint8_t vtype, flags;
    uint32_t str_first;    /* STR_ARRAY: index of its first element in model->str_off */
    uint32_t str_count;    /* STR_ARRAY: number of elements */
} upf_meta_ent;

typedef struct upf_sect {
    uint32_t type, flags, crc, count;
    uint64_t offset, size;
    char name[17];
} upf_sect;

/* Open-addressing map from a STR_ARRAY's strings to their indices. */
typedef struct upf_idmap {
    int32_t *slots;        /* (mask + 1), -1 empty; owned */
    uint32_t mask;
    const upf_meta_ent *ent; /* the STR_ARRAY; NULL when the map is empty */
} upf_idmap;

enum { UPF_AFT_WEIBULL = 1, UPF_AFT_LOGLOGISTIC = 2 };
enum { UPF_UPLIFT_TWO_MODEL = 1, UPF_UPLIFT_CLASS_TRANSFORM = 2, UPF_UPLIFT_INTERACTION = 3 };

typedef struct upf_kind_state {
    /* ranker and cooccur */
    int32_t n_items, n_users, n_attrs;
    size_t dim;
    float recent_weight;
    upf_tensor_view item_factors, item_bias, user_factors, user_attr, item_flags;
    int has_item_factors, has_user_factors, has_user_attr, has_item_flags;
    const int64_t *nb_ptr;   /* cooccur: (n_items + 1) */
    const int32_t *nb_idx;   /* cooccur: (nnz) */
    const float *nb_sim;     /* cooccur: (nnz) */
    upf_idmap items, users, attrs, features;
    /* lifetime and uplift (borrowed views into META, 8-byte aligned) */
    size_t n_features;
    const double *center, *scale;   /* (n_features) */
    const double *beta;             /* AFT: (n_features + 1) */
    double log_sigma, horizon;
    int aft_dist;
    double bg_r, bg_alpha, bg_a, bg_b, gg_p, gg_q, gg_gamma;
    int has_gg;
    int uplift_method;
    size_t n_arms, n_rows;
    const float *uplift_w;          /* (n_rows, n_features + 1) */
} upf_kind_state;

struct upf_model {
    const uint8_t *base;   /* the file's bytes (mapped, read or borrowed) */
    size_t size;
    void *map;             /* mmap base, or NULL */
    void *owned;           /* aligned buffer we read or copied into, or NULL */
    char *path;            /* for messages; owned */
    unsigned flags;
    upf_file_info info;
    upf_sect *sects;       /* (info.sect_count) */
    const upf_sect *meta_s, *index_s, *data_s, *strings_s;
    upf_meta_ent *meta;    /* (n_meta), file order (sorted by key) */
    size_t n_meta;
    uint32_t *str_off;     /* element start offsets within their STR_ARRAY value, then the end */
    upf_tensor_view *tensors; /* (n_tensors), file order */
    uint32_t *tensor_by_name; /* (n_tensors) indices sorted by name */
    size_t n_tensors;
    upf_kind_state ks;
    upf_kernels kern;
};

const upf_meta_ent *upf_model_find_meta(const upf_model *m, const char *key);
/* Element i of a STR_ARRAY entry. */
void upf_meta_str_elem(const upf_model *m, const upf_meta_ent *e, size_t i, const char **s, size_t *len);

/* Id maps (built at open; lookups are read-only and thread-safe). */
upf_status upf_idmap_build(upf_idmap *map, const upf_model *m, const upf_meta_ent *ent, const char *what,
                           upf_err *err);
void upf_idmap_free(upf_idmap *map);
int32_t upf_idmap_find(const upf_idmap *map, const upf_model *m, const char *s, size_t len);

/* kinds.c: 1 when `key` is known to this reader for `kind` (critical keys). */
int upf_kind_key_known(uint32_t kind, const uint8_t *key, size_t len);
/* kinds.c: checks the model's tensors and metadata against its kind and fills
 * m->ks. Messages start with the path. */
upf_status upf_kind_check(upf_model *m, upf_err *err);
void upf_kind_state_free(upf_kind_state *ks);

#endif
