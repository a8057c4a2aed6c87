/* bench_eval.c - full-catalogue NDCG@10 with upf_rank_evaluate, against the
 * OpenBLAS sgemm peak measured in the same run.
 *
 * Usage: bench_eval [USERS ITEMS DIM [TILE_USERS TILE_ITEMS]]
 * (default 100000 50000 64). Prints, for one and two threads: a plain large
 * sgemm's GFLOP/s (the peak), the evaluation's seconds, its scoring part
 * (time inside sgemm) and the share of peak both reach; the peak is timed
 * before and after each evaluation and the larger figure kept. Figures only: it
 * asserts nothing. Data: random factors, 20 training items (excluded) and 5
 * test items per user. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../eval/rank_eval.h"
#include "../../model/rng.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* GFLOP/s of C = A B^T with A (m, k), B (n, k): best of 3. */
static double sgemm_gflops(size_t m, size_t n, size_t k, int threads)
{
    float *a = upf_malloc_aligned(m * k * sizeof *a), *b = upf_malloc_aligned(n * k * sizeof *b);
    float *c = upf_malloc_aligned(m * n * sizeof *c);
    upf_rng r;
    upf_rng_seed(&r, 1, 0);
    for (size_t i = 0; i < m * k; i++) a[i] = upf_rng_uniformf(&r) - 0.5f;
    for (size_t i = 0; i < n * k; i++) b[i] = upf_rng_uniformf(&r) - 0.5f;
    openblas_set_num_threads(threads);
    double best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)k, 1.0f, a, (int)k, b, (int)k, 0.0f,
                    c, (int)n);
        double t = now() - t0;
        if (t < best) best = t;
    }
    openblas_set_num_threads(1);
    upf_free_aligned(a);
    upf_free_aligned(b);
    upf_free_aligned(c);
    return 2.0 * (double)m * (double)n * (double)k / best * 1e-9;
}

/* n_per distinct random items per row, ascending. */
static upf_csr random_rows(upf_rng *r, size_t n_rows, size_t n_cols, size_t n_per, const upf_csr *avoid)
{
    upf_csr m;
    memset(&m, 0, sizeof m);
    m.n_rows = n_rows;
    m.n_cols = n_cols;
    m.ptr = upf_calloc(n_rows + 1, sizeof *m.ptr);
    m.idx = upf_calloc(n_rows * n_per + 1, sizeof *m.idx);
    m.val = upf_calloc(n_rows * n_per + 1, sizeof *m.val);
    size_t e = 0;
    for (size_t u = 0; u < n_rows; u++) {
        size_t start = e;
        while (e - start < n_per) {
            int32_t j = (int32_t)upf_rng_below(r, (uint32_t)n_cols);
            int dup = 0;
            for (size_t q = start; q < e; q++) dup |= m.idx[q] == j;
            if (avoid)
                for (int64_t q = avoid->ptr[u]; q < avoid->ptr[u + 1]; q++) dup |= avoid->idx[q] == j;
            if (!dup) m.idx[e++] = j;
        }
        for (size_t a = start + 1; a < e; a++) /* insertion sort of the row */
            for (size_t b = a; b > start && m.idx[b] < m.idx[b - 1]; b--) {
                int32_t t = m.idx[b];
                m.idx[b] = m.idx[b - 1];
                m.idx[b - 1] = t;
            }
        for (size_t q = start; q < e; q++) m.val[q] = 1.0f;
        m.ptr[u + 1] = (int64_t)e;
    }
    return m;
}

static void free_rows(upf_csr *m)
{
    upf_free(m->ptr);
    upf_free(m->idx);
    upf_free(m->val);
}

int main(int argc, char **argv)
{
    size_t NU = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000, NI = argc > 2 ? strtoul(argv[2], NULL, 10) : 50000;
    size_t D = argc > 3 ? strtoul(argv[3], NULL, 10) : 64;
    size_t tu = argc > 4 ? strtoul(argv[4], NULL, 10) : 0, ti = argc > 5 ? strtoul(argv[5], NULL, 10) : 0;
    upf_rng r;
    upf_rng_seed(&r, 42, 0);
    float *uv = upf_malloc_aligned(NU * D * sizeof *uv), *iv = upf_malloc_aligned(NI * D * sizeof *iv);
    float *bias = upf_malloc(NI * sizeof *bias);
    for (size_t i = 0; i < NU * D; i++) uv[i] = (float)(0.1 * upf_rng_normal(&r));
    for (size_t i = 0; i < NI * D; i++) iv[i] = (float)(0.1 * upf_rng_normal(&r));
    for (size_t i = 0; i < NI; i++) bias[i] = (float)(0.01 * upf_rng_normal(&r));
    upf_csr train = random_rows(&r, NU, NI, 20, NULL), test = random_rows(&r, NU, NI, 5, &train);
    upf_scorer sc = { D, uv, iv, bias, NULL, NULL };
    upf_metric_spec ndcg = { UPF_METRIC_NDCG, 10 };
    double flops = 2.0 * (double)NU * (double)NI * (double)D;

    printf("full-catalogue ndcg@10: %zu users x %zu items, dim %zu, 20 train items excluded and 5 test items per user\n",
           NU, NI, D);
    printf("%-8s %12s %12s %10s %10s %12s %12s %10s\n", "threads", "peak GF/s", "peak K=D", "eval s", "score s",
           "eval GF/s", "score GF/s", "score/peak");
    double ndcg_val[2] = { 0, 0 };
    for (int threads = 1; threads <= 2; threads++) {
        /* peak: a plain large square sgemm and one of the same inner dimension,
         * timed before and after the evaluation (the machine is shared, so the
         * larger figure is taken: the share reported is the conservative one) */
        double peak_sq = sgemm_gflops(2048, 2048, 2048, threads);
        double peak_k = sgemm_gflops(4096, 4096, D ? D : 1, threads);
        upf_rank_eval_params p = upf_rank_eval_params_default();
        p.metrics = &ndcg;
        p.n_metrics = 1;
        p.threads = (size_t)threads;
        p.block_users = tu;
        p.block_items = ti;
        upf_rank_eval_result res;
        upf_err err;
        if (upf_rank_evaluate(&sc, &train, &test, &p, &res, &err) != UPF_OK) {
            fprintf(stderr, "bench_eval: %s\n", err.msg);
            return 1;
        }
        double after_sq = sgemm_gflops(2048, 2048, 2048, threads), after_k = sgemm_gflops(4096, 4096, D ? D : 1, threads);
        peak_sq = after_sq > peak_sq ? after_sq : peak_sq;
        peak_k = after_k > peak_k ? after_k : peak_k;
        double peak = peak_sq > peak_k ? peak_sq : peak_k;
        double gf = flops / res.seconds_total * 1e-9, gs = flops / res.seconds_scoring * 1e-9;
        printf("%-8d %12.1f %12.1f %10.2f %10.2f %12.1f %12.1f %9.0f%%\n", threads, peak_sq, peak_k, res.seconds_total,
               res.seconds_scoring, gf, gs, 100.0 * gs / peak);
        printf("         (whole evaluation at %.0f%% of peak; ndcg@10 = %.6f over %zu users)\n", 100.0 * gf / peak,
               res.values[0], res.n_users_ranked);
        ndcg_val[threads - 1] = res.values[0];
        upf_rank_eval_result_free(&res);
    }
    printf("same ndcg@10 with 1 and 2 threads: %s\n", ndcg_val[0] == ndcg_val[1] ? "yes (bit for bit)" : "NO");
    /* the reference on a slice, for the speed-up */
    size_t Us = NU < 300 ? NU : 300;
    upf_csr tr_s = train, te_s = test;
    tr_s.n_rows = te_s.n_rows = Us;
    upf_rank_eval_params p = upf_rank_eval_params_default();
    p.metrics = &ndcg;
    p.n_metrics = 1;
    upf_rank_eval_result a, b;
    upf_err err;
    if (upf_rank_evaluate_ref(&sc, &tr_s, &te_s, &p, &a, &err) != UPF_OK ||
        upf_rank_evaluate(&sc, &tr_s, &te_s, &p, &b, &err) != UPF_OK) {
        fprintf(stderr, "bench_eval: %s\n", err.msg);
        return 1;
    }
    printf("reference (one user, full sort) on %zu users: %.2f s = %.0f us/user; fast, 1 thread: %.0f us/user (x%.0f)\n",
           Us, a.seconds_total, 1e6 * a.seconds_total / (double)Us, 1e6 * b.seconds_total / (double)Us,
           a.seconds_total / b.seconds_total);
    printf("reference and fast ndcg@10 on the slice differ by %.2g\n", a.values[0] - b.values[0]);
    upf_rank_eval_result_free(&a);
    upf_rank_eval_result_free(&b);
    free_rows(&train);
    free_rows(&test);
    upf_free_aligned(uv);
    upf_free_aligned(iv);
    upf_free(bias);
    return 0;
}
