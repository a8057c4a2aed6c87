/* bench_lifetime.c - throughput and quality of the AFT fits on generated
 * data, for tests/bench/bench_lifetime.sh (which runs XGBoost's
 * survival:aft on the very same files and scores it with `cindex` here, so
 * both are judged by the same C-index code).
 *
 *   bench_lifetime gen DIR N D SEED   writes DIR/{train,test}.{x,t,e}: raw float32 (n, D)
 *                                     features, float64 times, uint8 events
 *   bench_lifetime fit DIR METHOD [EPOCHS]   METHOD adam|newton; prints one JSON line
 *   bench_lifetime cindex DIR FILE    C-index of FILE's float64 predicted times on the test rows
 *
 * The data: x ~ N(0, I), log T = 2.5 + x.beta + 0.8 W (W extreme value,
 * beta_j = 0.4 (-1)^j / sqrt(1 + j/4)), censored by an independent uniform
 * time in [5, 60]: a Weibull AFT model is the true one. Split 80/20 by row.
 * Figures only; no assertions.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../eval/survival_metrics.h"
#include "../../model/rng.h"
#include "../../train/aft.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void write_all(const char *dir, const char *name, const void *p, size_t bytes)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, bytes, f) != bytes) {
        fprintf(stderr, "bench_lifetime: cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
}

static void *read_all(const char *dir, const char *name, size_t *bytes)
{
    char path[4096];
    snprintf(path, sizeof path, "%s%s%s", dir ? dir : "", dir ? "/" : "", name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "bench_lifetime: cannot read %s\n", path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *p = malloc((size_t)n + 1);
    if (!p || fread(p, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "bench_lifetime: short read %s\n", path);
        exit(1);
    }
    fclose(f);
    *bytes = (size_t)n;
    return p;
}

static int gen(const char *dir, size_t n, size_t d, uint64_t seed)
{
    upf_rng r;
    upf_rng_seed(&r, seed, 0);
    float *X = malloc(n * d * sizeof *X);
    double *t = malloc(n * sizeof *t);
    uint8_t *e = malloc(n);
    for (size_t i = 0; i < n; i++) {
        double eta = 2.5;
        for (size_t j = 0; j < d; j++) {
            float v = (float)upf_rng_normal(&r);
            X[i * d + j] = v;
            eta += (double)v * 0.4 * (j % 2 ? -1.0 : 1.0) / sqrt(1.0 + (double)j / 4.0);
        }
        /* W standard minimum extreme value: log(Exp(1)) */
        double tt = exp(eta + 0.8 * log(upf_rng_exponential(&r)));
        double c = 5.0 + 55.0 * upf_rng_uniform(&r);
        e[i] = tt <= c;
        t[i] = tt <= c ? tt : c;
    }
    size_t ntr = n * 4 / 5, nte = n - ntr;
    write_all(dir, "train.x", X, ntr * d * sizeof *X);
    write_all(dir, "train.t", t, ntr * sizeof *t);
    write_all(dir, "train.e", e, ntr);
    write_all(dir, "test.x", X + ntr * d, nte * d * sizeof *X);
    write_all(dir, "test.t", t + ntr, nte * sizeof *t);
    write_all(dir, "test.e", e + ntr, nte);
    char meta[64];
    int k = snprintf(meta, sizeof meta, "%zu %zu %zu\n", ntr, nte, d);
    write_all(dir, "shape.txt", meta, (size_t)k);
    free(X);
    free(t);
    free(e);
    return 0;
}

static void load_split(const char *dir, const char *which, size_t d, float **X, double **t, uint8_t **e, size_t *n)
{
    char name[64];
    size_t bx, bt, be;
    snprintf(name, sizeof name, "%s.x", which);
    *X = read_all(dir, name, &bx);
    snprintf(name, sizeof name, "%s.t", which);
    *t = read_all(dir, name, &bt);
    snprintf(name, sizeof name, "%s.e", which);
    *e = read_all(dir, name, &be);
    *n = be;
    if (bx != be * d * sizeof(float) || bt != be * sizeof(double)) {
        fprintf(stderr, "bench_lifetime: %s files disagree\n", which);
        exit(1);
    }
}

static size_t read_d(const char *dir)
{
    size_t b;
    char *s = read_all(dir, "shape.txt", &b);
    s[b] = '\0';
    size_t ntr, nte, d;
    if (sscanf(s, "%zu %zu %zu", &ntr, &nte, &d) != 3) exit(1);
    free(s);
    return d;
}

static int fit(const char *dir, const char *method, size_t epochs)
{
    size_t d = read_d(dir), ntr, nte;
    float *X, *Xt;
    double *t, *tt;
    uint8_t *e, *et;
    load_split(dir, "train", d, &X, &t, &e, &ntr);
    load_split(dir, "test", d, &Xt, &tt, &et, &nte);
    upf_aft_params p = upf_aft_params_default();
    p.dist = UPF_AFT_WEIBULL;
    p.epochs = epochs;
    p.batch = 4096;
    p.lr = 0.02;
    p.seed = 1;
    double *theta = calloc(d + 2, sizeof *theta);
    upf_aft_data D = {ntr, d, X, NULL, t, e, NULL, NULL};
    upf_aft_fit_info info;
    upf_err err;
    double t0 = now();
    upf_status st = strcmp(method, "newton") == 0 ? upf_aft_fit_newton(&D, &p, theta, &info, &err)
                                                 : upf_aft_fit_adam(&D, &p, theta, NULL, NULL, &info, &err);
    double secs = now() - t0;
    if (st != UPF_OK) {
        fprintf(stderr, "bench_lifetime: %s\n", err.msg);
        return 1;
    }
    double *pred = malloc(nte * sizeof *pred);
    t0 = now();
    for (size_t i = 0; i < nte; i++) {
        upf_aft_prediction pr;
        upf_aft_predict(UPF_AFT_WEIBULL, d, Xt + i * d, theta, 30.0, 0, NULL, &pr);
        pred[i] = pr.median;
    }
    double pred_s = now() - t0;
    upf_cindex ci;
    if (upf_surv_cindex(tt, et, pred, nte, &ci, &err) != UPF_OK) {
        fprintf(stderr, "bench_lifetime: %s\n", err.msg);
        return 1;
    }
    double rows = strcmp(method, "newton") == 0 ? (double)ntr * (double)(info.iterations + 1) : (double)ntr * (double)epochs;
    printf("{\"method\": \"%s\", \"rows\": %zu, \"features\": %zu, \"seconds\": %.3f, \"samples_per_s\": %.0f, "
           "\"iterations\": %zu, \"train_loglik_per_row\": %.6f, \"sigma\": %.4f, \"c_index\": %.5f, "
           "\"predict_rows_per_s\": %.0f}\n",
           method, ntr, d, secs, rows / secs, info.iterations, info.log_likelihood / (double)ntr, exp(theta[d + 1]),
           ci.value, (double)nte / pred_s);
    free(X);
    free(t);
    free(e);
    free(Xt);
    free(tt);
    free(et);
    free(theta);
    free(pred);
    return 0;
}

static int cindex(const char *dir, const char *file)
{
    size_t d = read_d(dir), nte, bp;
    float *Xt;
    double *tt;
    uint8_t *et;
    load_split(dir, "test", d, &Xt, &tt, &et, &nte);
    double *pred = read_all(NULL, file, &bp);
    if (bp != nte * sizeof(double)) {
        fprintf(stderr, "bench_lifetime: %s has %zu bytes for %zu rows\n", file, bp, nte);
        return 1;
    }
    upf_cindex ci;
    upf_err err;
    if (upf_surv_cindex(tt, et, pred, nte, &ci, &err) != UPF_OK) {
        fprintf(stderr, "bench_lifetime: %s\n", err.msg);
        return 1;
    }
    printf("%.5f\n", ci.value);
    free(Xt);
    free(tt);
    free(et);
    free(pred);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 6 && strcmp(argv[1], "gen") == 0)
        return gen(argv[2], strtoull(argv[3], NULL, 10), strtoull(argv[4], NULL, 10), strtoull(argv[5], NULL, 10));
    if (argc >= 4 && strcmp(argv[1], "fit") == 0)
        return fit(argv[2], argv[3], argc >= 5 ? strtoull(argv[4], NULL, 10) : 5);
    if (argc >= 4 && strcmp(argv[1], "cindex") == 0) return cindex(argv[2], argv[3]);
    fprintf(stderr, "usage: bench_lifetime gen DIR N D SEED | fit DIR adam|newton [EPOCHS] | cindex DIR PRED.f64\n");
    return 2;
}
