/* base.h - the status codes, error context, checked sizes and allocation hooks
 * that every upfunnel module shares.
 *
 * Owns: upf_status, upf_err, upf_malloc/upf_free (with a fault-injection switch
 * for tests), overflow-checked size arithmetic, the log hook, the version, and
 * the registry of temporary output files that a signal handler removes.
 * Deliberately not here: anything that touches HDF5, YAML or BLAS. This header
 * belongs to model/, the bottom layer (libc and libm only), so the serving
 * runtime can use it too.
 */
#ifndef UPF_BASE_H
#define UPF_BASE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UPF_VERSION_MAJOR 0
#define UPF_VERSION_MINOR 1
#define UPF_VERSION_PATCH 0
const char *upf_version_string(void); /* "0.1.0"; static text */

/* ---- status and error context ---- */

/* Serialized nowhere, but kept stable anyway: exit codes map from it. */
typedef enum upf_status {
    UPF_OK = 0,
    UPF_ERR_ARG,     /* a caller passed an invalid argument (usage error) */
    UPF_ERR_NOMEM,   /* an allocation failed */
    UPF_ERR_IO,      /* open/read/write/rename failed; sys_errno says why */
    UPF_ERR_FORMAT,  /* input is not in the expected format */
    UPF_ERR_CORRUPT, /* input has the right format but fails a checksum/bound */
    UPF_ERR_VERSION, /* input is from a newer, unsupported format version */
    UPF_ERR_CONFIG,  /* an experiment config is invalid */
    UPF_ERR_DATA,    /* data is well-formed but unusable (empty, inconsistent) */
    UPF_ERR_NUMERIC, /* NaN/Inf or a failed numerical method */
    UPF_ERR_GATE,    /* a quality gate did not hold */
    UPF_ERR_INTERRUPTED, /* stopped by a signal (Ctrl-C) */
    UPF_STATUS_COUNT
} upf_status;

#define UPF_ERR_MSG_MAX 1024

/* Error context: the first failure's status and a message "where: what
 * (expected vs actual)". Functions that fail fill it; callers may pass NULL. */
typedef struct upf_err {
    upf_status status;
    int sys_errno;              /* errno at the failure, 0 if none */
    char msg[UPF_ERR_MSG_MAX];  /* NUL-terminated */
} upf_err;

const char *upf_status_str(upf_status s); /* static text, never NULL */

/* Fill e (may be NULL) with s and a printf-style message; returns s. */
upf_status upf_err_set(upf_err *e, upf_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Like upf_err_set, and records errno and appends strerror(errno). */
upf_status upf_err_sys(upf_err *e, upf_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Prepend "prefix: " to an existing message (adds context on the way up). */
void upf_err_prefix(upf_err *e, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void upf_err_clear(upf_err *e);

/* Process exit code for a status: 0 ok, 2 usage/config, 3 gate, 1 otherwise. */
int upf_status_exit_code(upf_status s);

/* ---- checked size arithmetic ---- */

/* *out = a*b; returns 0, or -1 (and *out = 0) on overflow. */
int upf_mul_size(size_t a, size_t b, size_t *out);
/* *out = a+b; returns 0, or -1 (and *out = 0) on overflow. */
int upf_add_size(size_t a, size_t b, size_t *out);

#define UPF_ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((size_t)(a) - 1))

/* ---- allocation ---- */

/* All allocations go through these so tests can make the Nth one fail.
 * upf_malloc(0) returns a unique non-NULL pointer. upf_free(NULL) is a no-op. */
void *upf_malloc(size_t n);
void *upf_calloc(size_t n, size_t size); /* zeroed; NULL on overflow */
void *upf_realloc(void *p, size_t n);
/* n bytes aligned to 64 (model blocks, mmap-compatible); free with upf_free_aligned. */
void *upf_malloc_aligned(size_t n);
void upf_free(void *p);
void upf_free_aligned(void *p);
char *upf_strdup(const char *s);

/* Test hook: the nth allocation from now (1-based) and every later one fail;
 * 0 switches failure off. Returns the number of allocations since the last call.
 * Process-wide; meant for single-threaded tests only. */
long upf_alloc_fail_after(long nth);

/* Asks the kernel to back the 2 MiB-aligned interior of [p, p + n) with
 * transparent huge pages (Linux, best effort; no-op for small blocks or
 * without MADV_HUGEPAGE). Filling hundreds of MB of fresh memory otherwise
 * costs one page fault per 4 KiB, and random row updates over a model of tens
 * of MB miss the TLB on most rows. Call before the first touch. */
void upf_advise_huge(void *p, size_t n);

/* ---- logging ---- */

typedef enum upf_log_level {
    UPF_LOG_DEBUG = 0, UPF_LOG_INFO, UPF_LOG_WARN, UPF_LOG_ERROR
} upf_log_level;
typedef void (*upf_log_fn)(upf_log_level level, const char *msg, void *user);

/* Libraries never print; they call upf_log, which goes to the hook the host set
 * (none by default: messages are dropped). Not thread-safe to change while in use. */
void upf_set_log(upf_log_fn fn, void *user);
void upf_log(upf_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ---- interruption ---- */

/* Set asynchronously by the command layer's SIGINT/SIGTERM handler; long loops
 * poll it and stop with UPF_ERR_INTERRUPTED. Libraries only read it. */
int upf_interrupted(void);
void upf_set_interrupted(int on);

#ifdef __cplusplus
}
#endif
#endif
