/* uplift_report.c - held-out evaluation of uplift models with bootstrap
 * intervals, policy value, bins, balance and the run's CSV / SVG artifacts
 * (see uplift_report.h). Legend: n held-out rows, A arms (with the
 * control), M models (the model first, then baselines), B replicates, F
 * flat figures per (model, arm) (UPF_UPLIFT_N_FLAT), G curve grid points.
 */
#include "uplift_report.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../eval/svg_chart.h"
#include "../eval/uplift_metrics.h"
#include "../model/rng.h"
#include "lifetime_report.h"
#include "uplift_glm.h"
#include "uplift_model.h"

#define GRID 201 /* curve points: 0%, 0.5%, ..., 100% of the targeted rows */

void upf_ur_sanitize(const char *name, char *out, size_t n)
{
    size_t j = 0;
    for (; name && name[j] && j + 1 < n; j++) {
        unsigned char ch = (unsigned char)name[j];
        int keep = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
        out[j] = keep ? (char)ch : '_';
    }
    out[j] = '\0';
}

upf_status upf_ur_metric_ci(upf_run *run, const char *path, double value, double lo, double hi, upf_err *err)
{
    char p[256];
    upf_status st = upf_run_metric(run, path, value);
    if (!st && !(isnan(lo) && isnan(hi) && isnan(value))) {
        snprintf(p, sizeof p, "%s_ci.ci_low", path);
        st = upf_run_metric(run, p, lo);
        snprintf(p, sizeof p, "%s_ci.ci_high", path);
        if (!st) st = upf_run_metric(run, p, hi);
    }
    if (st) return upf_err_set(err, st, "metrics: %s: %s", path, upf_status_str(st));
    return UPF_OK;
}

/* the name of flat figure f for cut-offs k (n_k) */
static void flat_name(size_t f, const upf_ur_params *p, char *out, size_t n)
{
    static const char *const fixed[5] = {"qini_coefficient", "qini_area", "auuc", "auuc_gain", "ate"};
    if (f < 5) {
        snprintf(out, n, "%s", fixed[f]);
        return;
    }
    size_t j = (f - 5) % p->n_k;
    int by_group = f - 5 >= p->n_k;
    snprintf(out, n, "uplift@%gpct%s", p->k[j] * 100.0, by_group ? "_by_group" : "");
}

/* ---- the evaluation ---- */

typedef struct arm_rows {
    size_t n;
    size_t *idx;     /* (n) rows of the control and this arm */
    uint8_t *t;      /* (n) */
    double *y;       /* (n) */
    double *w;       /* (n) scratch: this replicate's weights */
} arm_rows;

static upf_status write_text(upf_run *run, const char *name, upf_sbuf *b, upf_err *err)
{
    upf_status st = upf_sbuf_artifact(run, name, b, err);
    upf_sbuf_free(b);
    return st;
}

upf_status upf_ur_evaluate(upf_run *run, const upf_ur_rows *R, const upf_ur_model *models, size_t n_models,
                           const upf_ur_params *p, upf_err *err)
{
    upf_status st = UPF_OK;
    size_t n = R->n, A = R->n_arms, K = A - 1, M = n_models, F = UPF_UPLIFT_N_FLAT(p->n_k), B = p->bootstrap;
    if (A < 2 || M == 0 || n == 0) return upf_err_set(err, UPF_ERR_ARG, "uplift report: nothing to evaluate");
    arm_rows *ar = upf_calloc(K, sizeof *ar);
    upf_uplift_eval **ev = upf_calloc(M * K, sizeof *ev);
    double *point = upf_malloc(M * (K + 1) * F * sizeof *point);           /* (M, K + 1, F); K: the mean */
    double *reps = upf_malloc((B ? B : 1) * M * (K + 1) * F * sizeof *reps); /* (B, M, K + 1, F) */
    double *counts = upf_malloc(n * sizeof *counts), *score = upf_malloc(n * sizeof *score);
    double *vals = upf_malloc((B ? B : 1) * sizeof *vals);
    double *grid = upf_malloc(GRID * sizeof *grid);
    double *curve = upf_malloc(M * K * 2 * GRID * sizeof *curve);           /* (M, K, 2, G) qini, uplift */
    double *band = upf_malloc((B ? B : 1) * K * GRID * sizeof *band);        /* (B, K, G) model's Qini */
    double *pol = upf_malloc((B + 1) * (A + 2) * sizeof *pol);              /* (B + 1, A + 2) */
    int32_t *strat = upf_malloc(n * sizeof *strat), *idx_scr = upf_malloc(n * sizeof *idx_scr);
    size_t *ss = upf_malloc((A + 1) * sizeof *ss);
    int16_t *best = upf_malloc(n * sizeof *best);
    upf_sbuf csv = {NULL, 0, 0, 0};
    char *svg = NULL;
    size_t svg_len = 0;
    if (!ar || !ev || !point || !reps || !counts || !score || !vals || !grid || !curve || !band || !pol || !strat ||
        !idx_scr || !ss || !best) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "uplift report: out of memory (%zu rows)", n);
        goto done;
    }
    for (size_t g = 0; g < GRID; g++) grid[g] = (double)g / (double)(GRID - 1);
    double q[16] = {0}; /* arm shares among the held-out rows */
    for (size_t i = 0; i < n; i++) {
        strat[i] = R->arm[i];
        q[R->arm[i]] += 1.0 / (double)n;
    }

    /* ---- rows and evaluators per arm ---- */
    for (size_t k = 0; k < K; k++) {
        arm_rows *a = &ar[k];
        for (size_t i = 0; i < n; i++) a->n += R->arm[i] == 0 || (size_t)R->arm[i] == k + 1;
        a->idx = upf_malloc((a->n ? a->n : 1) * sizeof *a->idx);
        a->t = upf_malloc(a->n ? a->n : 1);
        a->y = upf_malloc((a->n ? a->n : 1) * sizeof *a->y);
        a->w = upf_malloc((a->n ? a->n : 1) * sizeof *a->w);
        if (!a->idx || !a->t || !a->y || !a->w) {
            st = upf_err_set(err, UPF_ERR_NOMEM, "uplift report: out of memory");
            goto done;
        }
        size_t j = 0;
        for (size_t i = 0; i < n; i++)
            if (R->arm[i] == 0 || (size_t)R->arm[i] == k + 1) {
                a->idx[j] = i;
                a->t[j] = R->arm[i] != 0;
                a->y[j++] = R->y[i];
            }
        if (a->n == 0) {
            st = upf_err_set(err, UPF_ERR_DATA, "uplift report: arm %s has no held-out rows", R->arm_names[k + 1]);
            goto done;
        }
        for (size_t m = 0; m < M; m++) {
            for (size_t r = 0; r < a->n; r++) score[r] = models[m].uplift[a->idx[r] * A + k + 1];
            if ((st = upf_uplift_eval_create(score, a->y, a->t, a->n, &ev[m * K + k], err))) goto done;
        }
    }

    /* ---- the point estimates, then the replicates ---- */
    upf_uplift_params up;
    memset(&up, 0, sizeof up);
    up.n_k = p->n_k;
    memcpy(up.k, p->k, p->n_k * sizeof *up.k);
    upf_uplift_best_arm(models[0].uplift, n, A, best);
    upf_rng rng;
    upf_rng_seed(&rng, p->seed, 0x424f4f54u /* "BOOT" */);
    for (size_t b = 0; b <= B; b++) { /* b = B: the point estimate (weights 1) */
        if (b < B) {
            if ((b & 15) == 0 && upf_interrupted()) {
                st = upf_err_set(err, UPF_ERR_INTERRUPTED, "uplift report: interrupted in the bootstrap");
                goto done;
            }
            upf_bootstrap_counts(&rng, strat, n, A, counts, idx_scr, ss);
            upf_run_progress(run, "bootstrap", (double)b, (double)B, "replicate");
        } else {
            for (size_t i = 0; i < n; i++) counts[i] = 1.0;
        }
        double *dst = b < B ? reps + b * M * (K + 1) * F : point;
        for (size_t m = 0; m < M; m++) {
            double *mean = dst + (m * (K + 1) + K) * F;
            for (size_t f = 0; f < F; f++) mean[f] = 0.0;
            for (size_t k = 0; k < K; k++) {
                arm_rows *a = &ar[k];
                for (size_t r = 0; r < a->n; r++) a->w[r] = counts[a->idx[r]];
                upf_uplift_metrics mm;
                if ((st = upf_uplift_eval_metrics(ev[m * K + k], a->w, &up, &mm, err))) goto done;
                double *fl = dst + (m * (K + 1) + k) * F;
                upf_uplift_metrics_flatten(&mm, p->n_k, fl);
                for (size_t f = 0; f < F; f++) mean[f] += fl[f] / (double)K;
                if (m == 0 && b < B) upf_uplift_eval_curve_at(ev[k], a->w, grid, GRID, band + (b * K + k) * GRID, NULL);
                if (b == B)
                    upf_uplift_eval_curve_at(ev[m * K + k], NULL, grid, GRID, curve + ((m * K + k) * 2) * GRID,
                                             curve + ((m * K + k) * 2 + 1) * GRID);
            }
        }
        /* policy values (self-normalized IPS on the randomized rows) */
        double *pv = pol + b * (A + 2);
        double num = 0, den = 0, sum_a[16] = {0}, cnt_a[16] = {0};
        for (size_t i = 0; i < n; i++) {
            size_t a = (size_t)R->arm[i];
            sum_a[a] += counts[i] * R->y[i];
            cnt_a[a] += counts[i];
            if (best[i] == R->arm[i]) {
                num += counts[i] * R->y[i] / q[a];
                den += counts[i] / q[a];
            }
        }
        pv[0] = den > 0 ? num / den : (double)NAN;
        double best_single = -INFINITY;
        for (size_t a = 0; a < A; a++) {
            pv[1 + a] = cnt_a[a] > 0 ? sum_a[a] / cnt_a[a] : (double)NAN;
            if (pv[1 + a] > best_single) best_single = pv[1 + a];
        }
        pv[A + 1] = pv[0] - best_single;
    }
    upf_run_progress(run, "bootstrap", (double)B, (double)B, "replicate");

    /* ---- metrics ---- */
    {
        char path[256], fname[64], arm[128];
        for (size_t m = 0; m < M; m++) {
            char prefix[96];
            if (models[m].name[0]) snprintf(prefix, sizeof prefix, "baseline_%s.", models[m].name);
            else prefix[0] = '\0';
            for (size_t kk = 0; kk <= K; kk++) {
                size_t k = kk == 0 ? K : kk - 1; /* the mean over arms first: the headline leads metrics.json */
                if (k < K) upf_ur_sanitize(R->arm_names[k + 1], arm, sizeof arm);
                for (size_t f = 0; f < F; f++) {
                    double lo = NAN, hi = NAN;
                    if (B) {
                        for (size_t b = 0; b < B; b++) vals[b] = reps[(b * M + m) * (K + 1) * F + k * F + f];
                        upf_percentile_ci(vals, B, p->level, &lo, &hi);
                    }
                    flat_name(f, p, fname, sizeof fname);
                    if (k == K) snprintf(path, sizeof path, "%s%s", prefix, fname);
                    else snprintf(path, sizeof path, "%sby_arm.%s.%s", prefix, arm, fname);
                    if ((st = upf_ur_metric_ci(run, path, point[(m * (K + 1) + k) * F + f], lo, hi, err))) goto done;
                }
            }
        }
        /* policy */
        for (size_t j = 0; j < A + 2; j++) {
            double lo = NAN, hi = NAN;
            if (B) {
                for (size_t b = 0; b < B; b++) vals[b] = pol[b * (A + 2) + j];
                upf_percentile_ci(vals, B, p->level, &lo, &hi);
            }
            if (j == 0) snprintf(path, sizeof path, "policy.best_arm");
            else if (j == A + 1) snprintf(path, sizeof path, "policy.gain_vs_best_single");
            else {
                upf_ur_sanitize(R->arm_names[j - 1], arm, sizeof arm);
                snprintf(path, sizeof path, "policy.all.%s", arm);
            }
            if ((st = upf_ur_metric_ci(run, path, pol[B * (A + 2) + j], lo, hi, err))) goto done;
        }
        size_t share[16] = {0};
        for (size_t i = 0; i < n; i++) share[best[i]]++;
        for (size_t a = 0; a < A; a++) {
            upf_ur_sanitize(R->arm_names[a], arm, sizeof arm);
            snprintf(path, sizeof path, "policy.share.%s", arm);
            if ((st = upf_run_metric(run, path, (double)share[a] / (double)n))) {
                upf_err_set(err, st, "metrics: %s", path);
                goto done;
            }
        }
    }

    /* ---- curves: CSV with the model's bootstrap band, and the chart ---- */
    {
        double *lo = upf_malloc(K * GRID * sizeof *lo), *hi = upf_malloc(K * GRID * sizeof *hi);
        double *xs = upf_malloc(GRID * sizeof *xs), *rnd = upf_malloc(K * GRID * sizeof *rnd);
        if (!lo || !hi || !xs || !rnd) {
            upf_free(lo);
            upf_free(hi);
            upf_free(xs);
            upf_free(rnd);
            st = upf_err_set(err, UPF_ERR_NOMEM, "uplift report: out of memory");
            goto done;
        }
        for (size_t k = 0; k < K; k++)
            for (size_t g = 0; g < GRID; g++) {
                lo[k * GRID + g] = hi[k * GRID + g] = NAN;
                if (B) {
                    for (size_t b = 0; b < B; b++) vals[b] = band[(b * K + k) * GRID + g];
                    upf_percentile_ci(vals, B, p->level, &lo[k * GRID + g], &hi[k * GRID + g]);
                }
                rnd[k * GRID + g] = curve[(k * 2) * GRID + GRID - 1] * grid[g];
            }
        for (size_t g = 0; g < GRID; g++) xs[g] = 100.0 * grid[g];
        for (int which = 0; which < 2 && !st; which++) {
            upf_sbuf_printf(&csv, "model,arm,fraction,rows,%s,%s_random%s\n", which ? "uplift" : "qini",
                            which ? "uplift" : "qini", which ? "" : ",qini_ci_low,qini_ci_high");
            for (size_t m = 0; m < M; m++)
                for (size_t k = 0; k < K; k++) {
                    const double *c = curve + ((m * K + k) * 2 + (size_t)which) * GRID;
                    for (size_t g = 0; g < GRID; g++) {
                        upf_sbuf_csv_field(&csv, models[m].name[0] ? models[m].name : "model");
                        upf_sbuf_printf(&csv, ",");
                        upf_sbuf_csv_field(&csv, R->arm_names[k + 1]);
                        upf_sbuf_printf(&csv, ",%.4f,%.1f,%.9g,%.9g", grid[g], grid[g] * (double)ar[k].n, c[g],
                                        c[GRID - 1] * grid[g]);
                        if (!which) {
                            if (m == 0) upf_sbuf_printf(&csv, ",%.9g,%.9g", lo[k * GRID + g], hi[k * GRID + g]);
                            else upf_sbuf_printf(&csv, ",,");
                        }
                        upf_sbuf_printf(&csv, "\n");
                    }
                }
            st = write_text(run, which ? "uplift_curve.csv" : "qini.csv", &csv, err);
        }
        /* qini.svg: per arm the model with its band, the baselines, the random line */
        if (!st) {
            upf_svg_series ser[64];
            char labels[64][160];
            size_t ns = 0;
            static const char *const colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};
            for (size_t k = 0; k < K && ns + M + 1 <= 64; k++) {
                const char *col = colors[k % 6];
                /* the model (solid, with its band) and the first baseline (dotted); a
                 * random-score baseline is left to the CSV: the random line is its expectation */
                for (size_t m = 0; m < M && m < 2; m++) {
                    if (m > 0 && strcmp(models[m].name, "random") == 0) continue;
                    snprintf(labels[ns], sizeof labels[ns], "%s: %s", R->arm_names[k + 1],
                             m == 0 ? "model (band: bootstrap CI)" : models[m].name);
                    upf_svg_series s = {labels[ns], xs, curve + ((m * K + k) * 2) * GRID, GRID,
                                        m == 0 && B ? lo + k * GRID : NULL, m == 0 && B ? hi + k * GRID : NULL,
                                        m == 0 ? 0 : 2, col};
                    ser[ns++] = s;
                }
                snprintf(labels[ns], sizeof labels[ns], "%s: random targeting", R->arm_names[k + 1]);
                upf_svg_series s = {labels[ns], xs, rnd + k * GRID, GRID, NULL, NULL, 1, col};
                ser[ns++] = s;
            }
            char title[200], ylabel[200];
            snprintf(title, sizeof title, "Qini curves (held-out, %s)", p->outcome ? p->outcome : "outcome");
            snprintf(ylabel, sizeof ylabel, "Qini: incremental %s", p->outcome ? p->outcome : "outcome");
            upf_svg_frame fr = {title, "users targeted, by predicted uplift (%)", ylabel, 0, 0};
            if (!(st = upf_svg_line_chart(&fr, ser, ns, &svg, &svg_len, err)))
                st = upf_run_artifact(run, "qini.svg", svg, svg_len, err);
            upf_free(svg);
            svg = NULL;
        }
        upf_free(lo);
        upf_free(hi);
        upf_free(xs);
        upf_free(rnd);
        if (st) goto done;
    }

    /* ---- bins ---- */
    if (p->bins > 0) {
        size_t nb = p->bins;
        upf_uplift_bin *bins = upf_malloc(M * K * nb * sizeof *bins);
        double *val = upf_malloc(K * nb * sizeof *val), *elo = upf_malloc(K * nb * sizeof *elo),
               *ehi = upf_malloc(K * nb * sizeof *ehi);
        char **cats = upf_calloc(nb, sizeof *cats);
        if (!bins || !val || !elo || !ehi || !cats) {
            st = upf_err_set(err, UPF_ERR_NOMEM, "uplift report: out of memory");
        } else {
            upf_sbuf_printf(&csv, "model,arm,bin,rows,treated,control,score_max,score_min,mean_treated,mean_control,"
                                  "uplift,se_uplift\n");
            for (size_t m = 0; m < M && !st; m++)
                for (size_t k = 0; k < K && !st; k++) {
                    arm_rows *a = &ar[k];
                    upf_uplift_bin *bk = bins + (m * K + k) * nb;
                    if (a->n < nb) {
                        for (size_t j = 0; j < nb; j++) memset(&bk[j], 0, sizeof bk[j]);
                        continue;
                    }
                    for (size_t r = 0; r < a->n; r++) score[r] = models[m].uplift[a->idx[r] * A + k + 1];
                    if ((st = upf_uplift_by_bin(score, a->y, a->t, a->n, nb, bk, err))) break;
                    for (size_t j = 0; j < nb; j++) {
                        upf_sbuf_csv_field(&csv, models[m].name[0] ? models[m].name : "model");
                        upf_sbuf_printf(&csv, ",");
                        upf_sbuf_csv_field(&csv, R->arm_names[k + 1]);
                        upf_sbuf_printf(&csv, ",%zu,%zu,%zu,%zu,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g\n", j + 1, bk[j].n,
                                        bk[j].n_t, bk[j].n_c, bk[j].score_max, bk[j].score_min, bk[j].mean_t,
                                        bk[j].mean_c, bk[j].uplift, bk[j].se_uplift);
                        if (m == 0) {
                            char path[256], arm[128];
                            upf_ur_sanitize(R->arm_names[k + 1], arm, sizeof arm);
                            const char *leaf[4] = {"uplift", "se", "n_treated", "n_control"};
                            double v[4] = {bk[j].uplift, bk[j].se_uplift, (double)bk[j].n_t, (double)bk[j].n_c};
                            for (int l = 0; l < 4 && !st; l++) {
                                snprintf(path, sizeof path, "by_arm.%s.decile.%zu.%s", arm, j + 1, leaf[l]);
                                if ((st = upf_run_metric(run, path, v[l]))) upf_err_set(err, st, "metrics: %s", path);
                            }
                            double z = 1.959963984540054; /* normal 97.5% quantile: the whiskers are +-1.96 SE */
                            val[k * nb + j] = bk[j].uplift;
                            elo[k * nb + j] = bk[j].uplift - z * bk[j].se_uplift;
                            ehi[k * nb + j] = bk[j].uplift + z * bk[j].se_uplift;
                        }
                    }
                }
            if (!st) st = write_text(run, "deciles.csv", &csv, err);
            if (!st && ar[0].n >= nb) {
                for (size_t j = 0; j < nb && !st; j++) {
                    char c[24];
                    snprintf(c, sizeof c, "%zu", j + 1);
                    if (!(cats[j] = upf_strdup(c))) st = upf_err_set(err, UPF_ERR_NOMEM, "out of memory");
                }
                char title[200], ylabel[200];
                snprintf(title, sizeof title, "Uplift by %s of predicted uplift (held-out; whiskers 95%% CI)",
                         nb == 10 ? "decile" : "bin");
                snprintf(ylabel, sizeof ylabel, "uplift in %s (treated - control)", p->outcome ? p->outcome : "outcome");
                upf_svg_frame fr = {title, nb == 10 ? "decile (1 = highest predicted uplift)" : "bin", ylabel, 0, 0};
                const char *groups[16];
                for (size_t k = 0; k < K && k < 16; k++) groups[k] = R->arm_names[k + 1];
                if (!st &&
                    !(st = upf_svg_bar_chart(&fr, (const char *const *)cats, nb, groups, K < 16 ? K : 16, val, elo, ehi,
                                             &svg, &svg_len, err)))
                    st = upf_run_artifact(run, "uplift_by_decile.svg", svg, svg_len, err);
                upf_free(svg);
                svg = NULL;
            }
        }
        for (size_t j = 0; cats && j < nb; j++) upf_free(cats[j]);
        upf_free(cats);
        upf_free(bins);
        upf_free(val);
        upf_free(elo);
        upf_free(ehi);
        if (st) goto done;
    }

done:
    upf_sbuf_free(&csv);
    for (size_t k = 0; ar && k < K; k++) {
        upf_free(ar[k].idx);
        upf_free(ar[k].t);
        upf_free(ar[k].y);
        upf_free(ar[k].w);
    }
    for (size_t j = 0; ev && j < M * K; j++) upf_uplift_eval_free(ev[j]);
    upf_free(ar);
    upf_free(ev);
    upf_free(point);
    upf_free(reps);
    upf_free(counts);
    upf_free(score);
    upf_free(vals);
    upf_free(grid);
    upf_free(curve);
    upf_free(band);
    upf_free(pol);
    upf_free(strat);
    upf_free(idx_scr);
    upf_free(ss);
    upf_free(best);
    return st;
}

/* ---- balance ---- */

upf_status upf_ur_balance(upf_run *run, const float *X, size_t n, size_t d, const char *const *names,
                          const int16_t *arm, const uint8_t *is_test, size_t n_arms, const char *const *arm_names,
                          const upf_ur_params *p, upf_err *err)
{
    upf_status st = UPF_OK;
    upf_sbuf csv = {NULL, 0, 0, 0};
    size_t cells = 0;
    if (upf_mul_size(n, d ? d : 1, &cells)) return upf_err_set(err, UPF_ERR_ARG, "balance: too many rows");
    float *Xs = upf_malloc(cells * sizeof *Xs), *ys = upf_malloc((n ? n : 1) * sizeof *ys);
    uint8_t *t = upf_malloc(n ? n : 1);
    double *sc = upf_malloc((n ? n : 1) * sizeof *sc), *w = upf_malloc((n ? n : 1) * sizeof *w);
    double *vals = upf_malloc((p->bootstrap ? p->bootstrap : 1) * sizeof *vals), *theta = upf_calloc(d + 1, sizeof *theta);
    int32_t *strat = upf_malloc((n ? n : 1) * sizeof *strat), *scr = upf_malloc((n ? n : 1) * sizeof *scr);
    size_t ss[3];
    if (!Xs || !ys || !t || !sc || !w || !vals || !theta || !strat || !scr) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "balance: out of memory");
        goto done;
    }
    upf_sbuf_printf(&csv, "arm,feature,smd\n");
    upf_rng rng;
    upf_rng_seed(&rng, p->seed, 0x42414c31u /* "BAL1" */);
    for (size_t k = 1; k < n_arms; k++) {
        char a[128], path[256];
        upf_ur_sanitize(arm_names[k], a, sizeof a);
        /* SMD on every row of the pair */
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (arm[i] == 0 || (size_t)arm[i] == k) {
                if (d) memcpy(Xs + m * d, X + i * d, d * sizeof *Xs);
                t[m++] = arm[i] != 0;
            }
        double max_abs = 0.0;
        size_t over = 0;
        for (size_t j = 0; j < d; j++) {
            double s = upf_uplift_smd(Xs + j, d, t, m);
            upf_sbuf_csv_field(&csv, arm_names[k]);
            upf_sbuf_printf(&csv, ",");
            upf_sbuf_csv_field(&csv, names[j]);
            upf_sbuf_printf(&csv, ",%.6g\n", s);
            if (isfinite(s)) {
                max_abs = fmax(max_abs, fabs(s));
                over += fabs(s) > 0.1;
            }
        }
        snprintf(path, sizeof path, "balance.%s.max_abs_smd", a);
        if ((st = upf_run_metric(run, path, max_abs))) goto metric_fail;
        snprintf(path, sizeof path, "balance.%s.smd_over_0.1", a);
        if ((st = upf_run_metric(run, path, (double)over))) goto metric_fail;
        /* propensity model: fitted on the pair's training rows, AUC on its held-out rows */
        size_t ntr = 0;
        for (size_t i = 0; i < n; i++)
            if ((arm[i] == 0 || (size_t)arm[i] == k) && !is_test[i]) {
                if (d) memcpy(Xs + ntr * d, X + i * d, d * sizeof *Xs);
                ys[ntr++] = arm[i] != 0 ? 1.0f : 0.0f;
            }
        upf_glm_params gp = upf_glm_params_default();
        gp.l2 = 1e-3;
        upf_glm_data D = {ntr, d, Xs, ys, NULL};
        memset(theta, 0, (d + 1) * sizeof *theta);
        upf_glm_fit_info info;
        if (ntr == 0 || (st = upf_glm_fit_newton(&D, &gp, theta, &info, err))) {
            if (ntr == 0) st = upf_err_set(err, UPF_ERR_DATA, "balance: no training rows for arm %s", arm_names[k]);
            goto done;
        }
        size_t nte = 0;
        for (size_t i = 0; i < n; i++)
            if ((arm[i] == 0 || (size_t)arm[i] == k) && is_test[i]) {
                if (d) memcpy(Xs + nte * d, X + i * d, d * sizeof *Xs);
                t[nte] = arm[i] != 0;
                strat[nte++] = arm[i] != 0;
            }
        upf_glm_predict(UPF_GLM_LOGISTIC, nte, d, Xs, theta, sc, NULL);
        double auc = NAN, lo = NAN, hi = NAN;
        if ((st = upf_uplift_auc(sc, t, NULL, nte, &auc, err))) goto done;
        for (size_t b = 0; b < p->bootstrap; b++) {
            upf_bootstrap_counts(&rng, strat, nte, 2, w, scr, ss);
            if ((st = upf_uplift_auc(sc, t, w, nte, &vals[b], err))) goto done;
        }
        if (p->bootstrap) upf_percentile_ci(vals, p->bootstrap, p->level, &lo, &hi);
        snprintf(path, sizeof path, "balance.%s.propensity_auc", a);
        if ((st = upf_ur_metric_ci(run, path, auc, lo, hi, err))) goto done;
        upf_log(UPF_LOG_INFO, "uplift: balance %s vs control: max |SMD| %.4f (%zu over 0.1), propensity AUC %.4f [%.4f, %.4f]",
                arm_names[k], max_abs, over, auc, lo, hi);
    }
    st = upf_sbuf_artifact(run, "balance.csv", &csv, err);
    goto done;
metric_fail:
    upf_err_set(err, st, "metrics: balance: %s", upf_status_str(st));
done:
    upf_sbuf_free(&csv);
    upf_free(Xs);
    upf_free(ys);
    upf_free(t);
    upf_free(sc);
    upf_free(w);
    upf_free(vals);
    upf_free(theta);
    upf_free(strat);
    upf_free(scr);
    return st;
}
