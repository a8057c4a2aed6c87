/* testutil.h - helpers shared by the Check suites: array comparison with
 * absolute+relative tolerance that reports the worst element, scratch
 * directories, and the location of the optional public data sets.
 * Static inline only (one header, many test files). */
#ifndef UPF_TESTUTIL_H
#define UPF_TESTUTIL_H

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Fails the test unless |a[i]-b[i]| <= atol + rtol*|b[i]| for every i; the
 * message names the worst index and shows the first few pairs. */
#define upf_ck_arrays_close(a, b, n, atol, rtol) \
    upf_check_arrays_close_((a), (b), (n), (atol), (rtol), __FILE__, __LINE__)

static inline void upf_check_arrays_close_(const double *a, const double *b, size_t n, double atol,
                                           double rtol, const char *file, int line)
{
    size_t worst = 0, bad = 0;
    double worst_excess = -1.0;
    for (size_t i = 0; i < n; i++) {
        double diff = fabs(a[i] - b[i]), tol = atol + rtol * fabs(b[i]);
        int is_bad = !(diff <= tol) && !(isnan(a[i]) && isnan(b[i]));
        if (is_bad) bad++;
        if (is_bad && (diff - tol > worst_excess || isnan(diff))) {
            worst_excess = isnan(diff) ? (double)INFINITY : diff - tol;
            worst = i;
        }
    }
    if (bad) {
        char msg[512];
        int off = snprintf(msg, sizeof msg, "%s:%d: %zu of %zu elements differ; worst [%zu] %.17g vs %.17g; first:",
                           file, line, bad, n, worst, a[worst], b[worst]);
        for (size_t i = 0; i < n && i < 4 && off > 0 && (size_t)off < sizeof msg; i++)
            off += snprintf(msg + off, sizeof msg - (size_t)off, " (%.9g, %.9g)", a[i], b[i]);
        ck_abort_msg("%s", msg);
    }
}

/* A fresh scratch directory under $TMPDIR (or /tmp); the caller removes it
 * with upf_test_rmdir. Returns a static-lifetime buffer owned by the caller. */
static inline char *upf_test_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *dir = malloc(4096);
    ck_assert_ptr_nonnull(dir);
    snprintf(dir, 4096, "%s/upf-test-XXXXXX", base && *base ? base : "/tmp");
    ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp failed");
    return dir;
}

static inline void upf_test_rmdir(char *dir)
{
    if (!dir) return;
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", dir);
    free(dir);
}

/* The public data sets folder ($UPF_SHARED_DATA or ../shared/data), or NULL
 * when it is absent; tests that need it skip (pass with a note) then. */
static inline const char *upf_test_data_dir(void)
{
    const char *d = getenv("UPF_SHARED_DATA");
    if (!d || !*d) d = "../shared/data";
    return access(d, R_OK) == 0 ? d : NULL;
}

/* The upfunnel binary of the variant under test (set by the Makefile). */
static inline const char *upf_test_bin(void)
{
    const char *b = getenv("UPF_BIN");
    return b && *b ? b : "./upfunnel";
}

#endif
