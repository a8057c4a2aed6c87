/* base.c - status strings, error context, checked sizes, allocation hooks, log hook.
 * The only process-wide state in the tree lives here: the log hook, the
 * allocation-failure switch (tests) and the interrupt flag (signal handler). */
#define _DEFAULT_SOURCE /* madvise, MADV_HUGEPAGE */
#include "base.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

const char *upf_version_string(void) { return "0.1.0"; }

static const char *const status_text[UPF_STATUS_COUNT] = {
    [UPF_OK] = "ok",
    [UPF_ERR_ARG] = "invalid argument",
    [UPF_ERR_NOMEM] = "out of memory",
    [UPF_ERR_IO] = "I/O error",
    [UPF_ERR_FORMAT] = "bad format",
    [UPF_ERR_CORRUPT] = "corrupt input",
    [UPF_ERR_VERSION] = "unsupported version",
    [UPF_ERR_CONFIG] = "config error",
    [UPF_ERR_DATA] = "unusable data",
    [UPF_ERR_NUMERIC] = "numerical failure",
    [UPF_ERR_GATE] = "quality gate failed",
    [UPF_ERR_INTERRUPTED] = "interrupted",
};

const char *upf_status_str(upf_status s)
{
    if ((unsigned)s >= UPF_STATUS_COUNT) return "unknown status";
    return status_text[s];
}

int upf_status_exit_code(upf_status s)
{
    switch (s) {
    case UPF_OK: return 0;
    case UPF_ERR_ARG:
    case UPF_ERR_CONFIG: return 2;
    case UPF_ERR_GATE: return 3;
    default: return 1;
    }
}

static void err_vset(upf_err *e, upf_status s, int sys, const char *fmt, va_list ap)
{
    e->status = s;
    e->sys_errno = sys;
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
}

upf_status upf_err_set(upf_err *e, upf_status s, const char *fmt, ...)
{
    if (!e) return s;
    va_list ap;
    va_start(ap, fmt);
    err_vset(e, s, 0, fmt, ap);
    va_end(ap);
    return s;
}

upf_status upf_err_sys(upf_err *e, upf_status s, const char *fmt, ...)
{
    int sys = errno;
    if (!e) return s;
    va_list ap;
    va_start(ap, fmt);
    err_vset(e, s, sys, fmt, ap);
    va_end(ap);
    size_t n = strlen(e->msg);
    if (sys && n < sizeof e->msg)
        snprintf(e->msg + n, sizeof e->msg - n, ": %s", strerror(sys));
    return s;
}

void upf_err_prefix(upf_err *e, const char *fmt, ...)
{
    if (!e) return;
    char head[UPF_ERR_MSG_MAX], old[UPF_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    snprintf(e->msg, sizeof e->msg, "%s: %s", head, old);
}

void upf_err_clear(upf_err *e)
{
    if (!e) return;
    e->status = UPF_OK;
    e->sys_errno = 0;
    e->msg[0] = '\0';
}

/* ---- checked sizes ---- */

int upf_mul_size(size_t a, size_t b, size_t *out)
{
    if (a && b > SIZE_MAX / a) { *out = 0; return -1; }
    *out = a * b;
    return 0;
}

int upf_add_size(size_t a, size_t b, size_t *out)
{
    if (b > SIZE_MAX - a) { *out = 0; return -1; }
    *out = a + b;
    return 0;
}

/* ---- allocation with fault injection ---- */

/* Relaxed atomics: threads may allocate while a test counts; the counts need
 * no ordering, only freedom from data races. */
static atomic_long alloc_count;   /* allocations since the last upf_alloc_fail_after */
static atomic_long alloc_fail_at; /* 0: never fail; else fail from this count on */

long upf_alloc_fail_after(long nth)
{
    long n = atomic_exchange(&alloc_count, 0);
    atomic_store(&alloc_fail_at, nth);
    return n;
}

static int alloc_should_fail(void)
{
    long c = atomic_fetch_add_explicit(&alloc_count, 1, memory_order_relaxed) + 1;
    long at = atomic_load_explicit(&alloc_fail_at, memory_order_relaxed);
    return at > 0 && c >= at;
}

void *upf_malloc(size_t n)
{
    if (alloc_should_fail()) return NULL;
    return malloc(n ? n : 1);
}

void *upf_calloc(size_t n, size_t size)
{
    size_t total;
    if (upf_mul_size(n, size, &total)) return NULL;
    if (alloc_should_fail()) return NULL;
    return calloc(total ? total : 1, 1);
}

void *upf_realloc(void *p, size_t n)
{
    if (alloc_should_fail()) return NULL;
    return realloc(p, n ? n : 1);
}

void *upf_malloc_aligned(size_t n)
{
    if (alloc_should_fail()) return NULL;
    void *p = NULL;
    size_t sz = UPF_ALIGN_UP(n ? n : 1, 64);
    if (sz < n) return NULL;
    if (posix_memalign(&p, 64, sz)) return NULL;
    return p;
}

void upf_free(void *p) { free(p); }
void upf_free_aligned(void *p) { free(p); }

char *upf_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = upf_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* ---- logging ---- */

static upf_log_fn log_fn;
static void *log_user;

void upf_set_log(upf_log_fn fn, void *user)
{
    log_fn = fn;
    log_user = user;
}

void upf_log(upf_log_level level, const char *fmt, ...)
{
    if (!log_fn) return;
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    log_fn(level, buf, log_user);
}

/* ---- interruption ---- */

static volatile sig_atomic_t interrupted_flag;

int upf_interrupted(void) { return interrupted_flag != 0; }
void upf_set_interrupted(int on) { interrupted_flag = on ? 1 : 0; }

void upf_advise_huge(void *p, size_t n)
{
#if defined(MADV_HUGEPAGE)
    const uintptr_t huge = (uintptr_t)2 << 20;
    if (!p || n < 2 * huge) return;
    uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1), e = ((uintptr_t)p + n) & ~(huge - 1);
    if (e > a) (void)madvise((void *)a, (size_t)(e - a), MADV_HUGEPAGE);
#else
    (void)p;
    (void)n;
#endif
}
