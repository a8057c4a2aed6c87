/* bench_datasets.c - throughput of the dataset layer on a generated shop.
 *
 *   bench_datasets gen OUT.h5 [EVENTS [DEFLATE_EVENTS [DEFLATE [CHUNK_ROWS]]]]
 *       builds EVENTS events (default 10M) through the builder, in global time
 *       order as a shop's log arrives, and writes them; prints build and
 *       write rates and the file size.
 *   bench_datasets read IN.h5 [REPEAT]   loads it with upf_dataset_read
 *       REPEAT times (default 3): the first load and the best, wall and CPU
 *       seconds, peak RSS after the first load and the arrays' own size.
 *   bench_datasets iter IN.h5     streams /events with the block iterator.
 * One line per measurement, "key value" pairs, for bench_datasets.sh.
 * Figures only; nothing is asserted.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "../../datasets/dataset.h"
#include "../../datasets/h5_io.h"
#include "../../model/rng.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0; /* ru_maxrss is in KiB on Linux */
}

static size_t strings_bytes(const upf_strings *s) { return s->n ? (s->n + 1) * 8 + (size_t)s->off[s->n] : 0; }

static size_t attrs_bytes(const upf_attrs *a)
{
    return a->n_rows ? (a->n_rows + 1) * 8 + (size_t)a->ptr[a->n_rows] * 8 + strings_bytes(&a->names) : 0;
}

/* Bytes of the dataset's own arrays (what a perfect loader must hold). */
static size_t dataset_bytes(const upf_dataset *ds)
{
    size_t n = (size_t)ds->n_events;
    size_t b = n * (4 + 4 + 8 + 1 + 4) + (ds->ev_query ? n * 4 : 0) + (ds->n_users + 1) * 8;
    b += strings_bytes(&ds->user_ids) + strings_bytes(&ds->item_ids) + strings_bytes(&ds->queries);
    b += attrs_bytes(&ds->user_attrs) + attrs_bytes(&ds->item_attrs);
    if (ds->item_price) b += ds->n_items * 4;
    return b;
}

static int fail(const upf_err *err)
{
    fprintf(stderr, "bench_datasets: %s\n", err->msg);
    return 1;
}

static int gen(const char *path, int64_t n_events, const upf_h5_write_opts *o)
{
    upf_err err;
    upf_builder *b = NULL;
    upf_dataset *ds = NULL;
    const size_t n_users = (size_t)(n_events / 20 > 0 ? n_events / 20 : 1), n_items = 100000;
    char id[32];
    double t0 = now();
    if (upf_builder_create(&b, &err)) return fail(&err);
    upf_builder_reserve(b, n_events);
    for (size_t u = 0; u < n_users; u++) {
        int len = snprintf(id, sizeof id, "customer-%zu", u * 7919 % 100000007);
        upf_builder_user(b, id, (size_t)len);
    }
    for (size_t i = 0; i < n_items; i++) {
        int len = snprintf(id, sizeof id, "SKU%06zu", i);
        int32_t j = upf_builder_item(b, id, (size_t)len);
        snprintf(id, sizeof id, "category=%zu", i % 97);
        upf_builder_item_attr(b, j, id, 1.0f);
        upf_builder_item_price(b, j, (float)(1 + i % 500) * 0.99f);
    }
    /* A log in global time order: random users, popularity-skewed items
     * (a squared uniform gives a long tail), mostly views. */
    upf_rng r;
    upf_rng_seed(&r, 42, 0);
    int64_t t = 1600000000;
    for (int64_t e = 0; e < n_events; e++) {
        t += (int64_t)upf_rng_below(&r, 3);
        int32_t u = (int32_t)upf_rng_below(&r, (uint32_t)n_users);
        double x = upf_rng_uniform(&r);
        int32_t i = (int32_t)(x * x * (double)n_items);
        uint32_t k = upf_rng_below(&r, 100);
        int type = k < 80 ? UPF_EV_VIEW : k < 93 ? UPF_EV_CART : k < 99 ? UPF_EV_PURCHASE : UPF_EV_RETURN;
        float v = type == UPF_EV_PURCHASE || type == UPF_EV_RETURN ? (float)(1 + i % 500) * 0.99f : type == UPF_EV_CART ? 1.0f : 0.0f;
        upf_builder_event(b, u, i, t, type, v, -1);
    }
    upf_builder_set_source(b, "bench_datasets gen");
    upf_builder_set_created(b, "2024-01-01T00:00:00Z");
    double t1 = now();
    if (upf_builder_finish(b, &ds, &err)) return fail(&err);
    double t2 = now();
    if (upf_dataset_write_opts(ds, path, o, &err)) return fail(&err);
    double t3 = now();
    struct stat st;
    stat(path, &st);
    printf("gen events %" PRId64 " users %zu items %zu add_s %.3f finish_s %.3f build_rows_per_s %.0f write_s %.3f "
           "write_rows_per_s %.0f file_mb %.1f bytes_per_event %.2f arrays_mb %.1f peak_rss_mb %.1f\n",
           n_events, n_users, n_items, t1 - t0, t2 - t1, (double)n_events / (t2 - t0), t3 - t2, (double)n_events / (t3 - t2),
           (double)st.st_size / 1048576.0, (double)st.st_size / (double)n_events, (double)dataset_bytes(ds) / 1048576.0,
           peak_rss_mb());
    upf_dataset_free(ds);
    return 0;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec * 1e-6;
}

/* Loads the file `repeat` times; reports the first load (fresh memory, as a
 * training run sees it) and the best one, in wall and CPU seconds. */
static int read_all(const char *path, int repeat)
{
    upf_err err;
    double rss0 = peak_rss_mb(), first = 0, best = 1e30, first_cpu = 0, best_cpu = 1e30, arrays = 0;
    int64_t n = 0;
    for (int k = 0; k < repeat; k++) {
        upf_dataset *ds = NULL;
        double t0 = now(), c0 = cpu_s();
        if (upf_dataset_read(path, &ds, &err)) return fail(&err);
        double wall = now() - t0, cpu = cpu_s() - c0;
        if (k == 0) first = wall, first_cpu = cpu, arrays = (double)dataset_bytes(ds) / 1048576.0;
        if (wall < best) best = wall;
        if (cpu < best_cpu) best_cpu = cpu;
        n = ds->n_events;
        upf_dataset_free(ds);
        if (k == 0) printf("read_first peak_rss_mb %.1f arrays_mb %.1f base_rss_mb %.1f\n", peak_rss_mb(), arrays, rss0);
    }
    printf("read events %" PRId64 " first_s %.3f first_cpu_s %.3f best_s %.3f best_cpu_s %.3f rows_per_s %.0f rows_per_cpu_s %.0f\n", n,
           first, first_cpu, best, best_cpu, (double)n / best, (double)n / best_cpu);
    return 0;
}

static int iter(const char *path)
{
    upf_err err;
    upf_h5_events *it = NULL;
    double rss0 = peak_rss_mb(), t0 = now(), c0 = cpu_s();
    if (upf_h5_events_open(path, 0, &it, &err)) return fail(&err);
    upf_event_block blk;
    int64_t rows = 0;
    double sum = 0;
    for (;;) {
        if (upf_h5_events_next(it, &blk, &err)) return fail(&err);
        if (!blk.n) break;
        rows += blk.n;
        sum += (double)blk.value[blk.n - 1];
    }
    upf_h5_events_close(it);
    double t1 = now();
    printf("iter events %" PRId64 " s %.3f cpu_s %.3f rows_per_s %.0f peak_rss_mb %.1f base_rss_mb %.1f check %.1f\n", rows, t1 - t0,
           cpu_s() - c0, (double)rows / (t1 - t0), peak_rss_mb(), rss0, sum);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "gen") == 0) {
        upf_h5_write_opts o = upf_h5_write_opts_default();
        int64_t n = argc > 3 ? atoll(argv[3]) : 10000000;
        if (argc > 4) o.deflate_events = atoi(argv[4]);
        if (argc > 5) o.deflate = atoi(argv[5]);
        if (argc > 6) o.chunk_rows = (size_t)atoll(argv[6]);
        return gen(argv[2], n, &o);
    }
    if (argc >= 3 && strcmp(argv[1], "read") == 0) return read_all(argv[2], argc > 3 ? atoi(argv[3]) : 3);
    if (argc == 3 && strcmp(argv[1], "iter") == 0) return iter(argv[2]);
    fprintf(stderr, "usage: bench_datasets gen OUT.h5 [EVENTS [DEFLATE_EVENTS [DEFLATE [CHUNK_ROWS]]]]\n"
                    "       bench_datasets read IN.h5 [REPEAT] | iter IN.h5\n");
    return 2;
}
