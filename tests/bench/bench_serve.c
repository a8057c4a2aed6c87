/* bench_serve.c - serving latency and throughput: top-10 over N items
 * (default 100,000) at dim D (default 64) for one known user per request,
 * with the item factors stored as f32, f16 and int8. Prints p50/p99 latency on
 * one thread, requests per second on one and two threads, file bytes per item
 * and open time; writes bench_f32.upf into --out for the numpy peer in
 * bench_serve.sh. Figures, never assertions.
 * Usage: bench_serve [--items N] [--dim D] [--queries Q] [--out DIR]
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../model/kernels.h"
#include "../../model/rng.h"
#include "../../model/upfserve.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct worker {
    const upf_model *m;
    int32_t n_users;
    double seconds;
    long done;
    uint64_t seed;
} worker;

static void *work(void *p)
{
    worker *w = p;
    upf_scratch *s;
    upf_err err;
    if (upf_scratch_create(w->m, &s, &err)) return NULL;
    upf_rng r;
    upf_rng_seed(&r, w->seed, 1);
    upf_hit hits[10];
    size_t n;
    double end = now_s() + w->seconds;
    while (now_s() < end)
        for (int i = 0; i < 16; i++) {
            upf_user_query q = upf_user_query_default();
            q.user = (int32_t)upf_rng_below(&r, (uint32_t)w->n_users);
            upf_serve_topk(w->m, &q, NULL, 10, s, hits, &n, &err);
            w->done++;
        }
    upf_scratch_free(s);
    return NULL;
}

static double throughput(const upf_model *m, int32_t n_users, int threads, double seconds)
{
    pthread_t t[8];
    worker w[8];
    for (int i = 0; i < threads; i++) {
        w[i] = (worker){ m, n_users, seconds, 0, (uint64_t)i + 1 };
        pthread_create(&t[i], NULL, work, &w[i]);
    }
    long total = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        total += w[i].done;
    }
    return (double)total / seconds;
}

int main(int argc, char **argv)
{
    size_t n_items = 100000, dim = 64, queries = 3000;
    int32_t n_users = 1000;
    const char *out = getenv("BENCH_TMP") ? getenv("BENCH_TMP") : "/tmp";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--items")) n_items = strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--dim")) dim = strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--queries")) queries = strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--out")) out = argv[i + 1];
    }
    float *itf = malloc(n_items * dim * sizeof(float)), *uf = malloc((size_t)n_users * dim * sizeof(float));
    float *bias = malloc(n_items * sizeof(float));
    char **ids = malloc(n_items * sizeof *ids);
    upf_rng r;
    upf_rng_seed(&r, 42, 0);
    for (size_t i = 0; i < n_items * dim; i++) itf[i] = (float)upf_rng_normal(&r) * 0.1f;
    for (size_t i = 0; i < (size_t)n_users * dim; i++) uf[i] = (float)upf_rng_normal(&r);
    for (size_t i = 0; i < n_items; i++) {
        bias[i] = (float)upf_rng_normal(&r) * 0.05f;
        ids[i] = malloc(16);
        snprintf(ids[i], 16, "%zu", i); /* numeric item ids, as most shops have */
    }
    static const upf_dtype stores[3] = { UPF_DTYPE_F32, UPF_DTYPE_F16, UPF_DTYPE_I8S };
    static const char *names[3] = { "f32", "f16", "int8" };
    printf("top-10 over %zu items, dim %zu, one known user per request (%zu requests per row)\n", n_items, dim, queries);
    double load = -1;
    FILE *lf = fopen("/proc/loadavg", "r");
    if (lf) {
        if (fscanf(lf, "%lf", &load) != 1) load = -1;
        fclose(lf);
    }
    printf("load average %.2f (wall-clock figures suffer when it exceeds the core count; cpu = the thread's CPU time)\n", load);
    printf("%-5s %11s %10s %9s %8s %8s %8s %8s %8s %8s %11s %11s\n", "dtype", "file bytes", "bytes/item", "vs dim+8",
           "open ms", "p50 us", "p99 us", "mean us", "cpu p50", "cpu p99", "req/s 1thr", "req/s 2thr");
    for (int d = 0; d < 3; d++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/bench_%s.upf", out, names[d]);
        upf_mw *w;
        upf_err err;
        upf_mw_create(&w, UPF_KIND_RANKER, &err);
        upf_mw_meta_u64(w, UPF_M_DIM, dim);
        upf_mw_meta_str_array(w, UPF_M_ITEM_IDS, (const char *const *)ids, n_items);
        upf_mw_tensor_f32(w, UPF_T_ITEM_BIAS, bias, 1, (const uint64_t[]){ n_items }, UPF_DTYPE_F32);
        upf_mw_tensor_f32(w, UPF_T_ITEM_FACTORS, itf, 2, (const uint64_t[]){ n_items, dim }, stores[d]);
        upf_mw_tensor_f32(w, UPF_T_USER_FACTORS, uf, 2, (const uint64_t[]){ (uint64_t)n_users, dim }, stores[d]);
        if (upf_mw_write(w, path, &err)) {
            fprintf(stderr, "bench_serve: %s\n", err.msg);
            return 1;
        }
        upf_mw_free(w);
        upf_model *m;
        double t0 = now_s();
        if (upf_model_open(path, 0, &m, &err)) {
            fprintf(stderr, "bench_serve: %s\n", err.msg);
            return 1;
        }
        double open_ms = (now_s() - t0) * 1e3;
        upf_file_info fi;
        upf_model_file_info(m, &fi);
        upf_scratch *s;
        upf_scratch_create(m, &s, &err);
        double *lat = malloc(queries * sizeof *lat), *cpu = malloc(queries * sizeof *cpu);
        upf_hit hits[10];
        size_t n;
        upf_rng qr;
        upf_rng_seed(&qr, 7, 0);
        for (size_t i = 0; i < 200; i++) { /* warm up: page in the mapping, train the caches */
            upf_user_query q = upf_user_query_default();
            q.user = (int32_t)upf_rng_below(&qr, (uint32_t)n_users);
            upf_serve_topk(m, &q, NULL, 10, s, hits, &n, &err);
        }
        double sum = 0;
        for (size_t i = 0; i < queries; i++) {
            upf_user_query q = upf_user_query_default();
            q.user = (int32_t)upf_rng_below(&qr, (uint32_t)n_users);
            double a = now_s(), c = cpu_s();
            upf_serve_topk(m, &q, NULL, 10, s, hits, &n, &err);
            lat[i] = (now_s() - a) * 1e6;
            cpu[i] = (cpu_s() - c) * 1e6;
            sum += lat[i];
        }
        qsort(lat, queries, sizeof *lat, cmp_double);
        qsort(cpu, queries, sizeof *cpu, cmp_double);
        size_t i99 = (size_t)(0.99 * (double)(queries - 1));
        double p50 = lat[queries / 2], p99 = lat[i99];
        double q1 = throughput(m, n_users, 1, 1.0), q2 = throughput(m, n_users, 2, 1.0);
        double bpi = (double)fi.file_size / (double)n_items;
        printf("%-5s %11llu %10.1f %8.3fx %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f %11.0f %11.0f\n", names[d],
               (unsigned long long)fi.file_size, bpi, bpi / (double)(dim + 8), open_ms, p50, p99, sum / (double)queries,
               cpu[queries / 2], cpu[i99], q1, q2);
        free(lat);
        free(cpu);
        upf_scratch_free(s);
        upf_model_close(m);
    }
    double id_bytes = 0;
    for (size_t i = 0; i < n_items; i++) id_bytes += (double)strlen(ids[i]) + 1;
    printf("kernels: %s. A file holds per item its factors, bias (4 bytes), int8 scale (4) and id (decimal, %.1f\n"
           "bytes with its NUL), plus %d users' factors (%.1f int8 bytes per item) and the metadata.\n",
           upf_kern_cpu_level() ? "avx2" : "reference", id_bytes / (double)n_items, n_users,
           (double)n_users * (double)(dim + 4) / (double)n_items);
    for (size_t i = 0; i < n_items; i++) free(ids[i]);
    free(ids);
    free(itf);
    free(uf);
    free(bias);
    return 0;
}
