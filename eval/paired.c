/* paired.c - paired differences: bootstrap interval, t-test, randomization
 * test (definitions in paired.h). The incomplete beta is evaluated by its
 * continued fraction with the modified Lentz method. */
#include "paired.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../model/rng.h"

#define DNAN ((double)NAN)

upf_paired_params upf_paired_params_default(void)
{
    upf_paired_params p;
    p.n_resamples = 10000;
    p.alpha = 0.05;
    p.seed = 42;
    p.stream = 0;
    return p;
}

/* Continued fraction for I_x(a, b) (valid for x < (a + 1) / (a + b + 2)). */
static double betacf(double a, double b, double x)
{
    const double tiny = 1e-300, eps = 1e-16;
    double qab = a + b, qap = a + 1.0, qam = a - 1.0;
    double c = 1.0, d = 1.0 - qab * x / qap;
    if (fabs(d) < tiny) d = tiny;
    d = 1.0 / d;
    double h = d;
    for (int m = 1; m <= 10000; m++) {
        double m2 = 2.0 * m, aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1.0 + aa / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1.0 + aa / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1.0) < eps) break;
    }
    return h;
}

double upf_betainc(double a, double b, double x)
{
    if (!(a > 0) || !(b > 0) || !(x >= 0) || !(x <= 1)) return DNAN;
    if (x == 0 || x == 1) return x;
    double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    if (x < (a + 1.0) / (a + b + 2.0)) return exp(lbt) * betacf(a, b, x) / a;
    return 1.0 - exp(lbt) * betacf(b, a, 1.0 - x) / b;
}

double upf_student_t_sf2(double t, double df)
{
    if (isnan(t) || !(df > 0)) return DNAN;
    if (isinf(t)) return 0.0;
    return upf_betainc(0.5 * df, 0.5, df / (df + t * t));
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* numpy's default ("linear") quantile of sorted v (n >= 1). */
static double quantile_sorted(const double *v, size_t n, double q)
{
    double h = (double)(n - 1) * q;
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= n) return v[n - 1];
    return v[lo] + (h - (double)lo) * (v[lo + 1] - v[lo]);
}

upf_status upf_paired_compare(const double *a, const double *b, size_t n, const upf_paired_params *p,
                              upf_paired_result *out, upf_err *err)
{
    upf_status st = UPF_OK;
    double *d = NULL, *means = NULL;
    out->n = n;
    out->mean_a = out->mean_b = out->diff = out->ci_low = out->ci_high = out->t = out->p_t = out->p_rand = DNAN;
    if (!(p->alpha > 0 && p->alpha < 1)) return upf_err_set(err, UPF_ERR_ARG, "alpha %g: expected a value in (0, 1)", p->alpha);
    if (n == 0) return UPF_OK;
    d = upf_calloc(n, sizeof *d);
    means = upf_calloc(p->n_resamples ? p->n_resamples : 1, sizeof *means);
    if (!d || !means) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "paired test: out of memory for %zu pairs", n);
        goto done;
    }
    double sa = 0, sb = 0, sd = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(a[i]) || !isfinite(b[i])) {
            st = upf_err_set(err, UPF_ERR_ARG, "paired test: pair %zu is not finite (%g, %g)", i, a[i], b[i]);
            goto done;
        }
        d[i] = b[i] - a[i];
        sa += a[i];
        sb += b[i];
        sd += d[i];
    }
    double mean = sd / (double)n;
    out->mean_a = sa / (double)n;
    out->mean_b = sb / (double)n;
    out->diff = mean;
    if (n >= 2) {
        double ss = 0;
        for (size_t i = 0; i < n; i++) ss += (d[i] - mean) * (d[i] - mean);
        double sdev = sqrt(ss / (double)(n - 1));
        if (sdev > 0) {
            out->t = mean / (sdev / sqrt((double)n));
            out->p_t = upf_student_t_sf2(out->t, (double)(n - 1));
        } else {
            out->t = mean == 0 ? 0.0 : copysign((double)INFINITY, mean);
            out->p_t = mean == 0 ? 1.0 : 0.0;
        }
    }
    if (p->n_resamples) {
        upf_rng rng;
        upf_rng_seed(&rng, p->seed, p->stream);
        for (size_t r = 0; r < p->n_resamples; r++) {
            double s = 0;
            for (size_t i = 0; i < n; i++) s += d[upf_rng_below64(&rng, n)];
            means[r] = s / (double)n;
        }
        qsort(means, p->n_resamples, sizeof *means, cmp_double);
        out->ci_low = quantile_sorted(means, p->n_resamples, p->alpha / 2);
        out->ci_high = quantile_sorted(means, p->n_resamples, 1 - p->alpha / 2);
        /* sign flips; a relative slack keeps exact ties (all-zero flips) counted */
        double obs = fabs(mean), slack = 1e-12 * (obs > 0 ? obs : 1);
        size_t hits = 0;
        for (size_t r = 0; r < p->n_resamples; r++) {
            double s = 0;
            for (size_t i = 0; i < n; i += 64) {
                uint64_t bits = upf_rng_next(&rng);
                for (size_t j = i; j < n && j < i + 64; j++, bits >>= 1) s += (bits & 1) ? d[j] : -d[j];
            }
            hits += fabs(s / (double)n) >= obs - slack;
        }
        out->p_rand = (1.0 + (double)hits) / (1.0 + (double)p->n_resamples);
    }
done:
    upf_free(d);
    upf_free(means);
    return st;
}
