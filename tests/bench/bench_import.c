/* bench_import.c - figures for the CSV importer (run by bench_import.sh).
 *
 *   bench_import gen FILE ROWS   write an event CSV: user,item,time,type,value
 *                                (header; ids with a long-tailed popularity,
 *                                increasing unix times, view/cart/purchase)
 *   bench_import parse FILE      read FILE three ways and print rows/s for each:
 *                                tokenize only; tokenize + the fast number
 *                                parsers; tokenize + the strtoll/strtod
 *                                references (the plain way)
 * Deterministic (upf_rng, seed 1). Prints wall and CPU figures (the machine is
 * shared: CPU time is the steadier one), asserts nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../datasets/csv.h"
#include "../../datasets/numparse.h"
#include "../../datasets/timeparse.h"
#include "../../model/rng.h"

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A long-tailed id in [1, n]: the square of a uniform draw favours small ids. */
static uint64_t skewed(upf_rng *r, uint64_t n)
{
    double u = upf_rng_uniform(r);
    return 1 + (uint64_t)(u * u * u * (double)n) % n;
}

static int gen(const char *path, long rows)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        return 1;
    }
    static char buf[1 << 20];
    setvbuf(f, buf, _IOFBF, sizeof buf);
    upf_rng r;
    upf_rng_seed(&r, 1, 0);
    fputs("user,item,time,type,value\n", f);
    int64_t t = 1500000000;
    for (long i = 0; i < rows; i++) {
        uint64_t user = skewed(&r, 1000000), item = skewed(&r, 200000);
        t += (int64_t)upf_rng_below(&r, 7);
        uint32_t k = upf_rng_below(&r, 100);
        if (k < 80)
            fprintf(f, "%llu,%llu,%lld,view,1\n", (unsigned long long)user, (unsigned long long)item, (long long)t);
        else if (k < 95)
            fprintf(f, "%llu,%llu,%lld,cart,%u\n", (unsigned long long)user, (unsigned long long)item, (long long)t,
                    1 + upf_rng_below(&r, 3));
        else
            fprintf(f, "%llu,%llu,%lld,purchase,%u.%02u\n", (unsigned long long)user, (unsigned long long)item,
                    (long long)t, 1 + upf_rng_below(&r, 200), upf_rng_below(&r, 100));
    }
    if (fclose(f)) {
        perror(path);
        return 1;
    }
    return 0;
}

/* mode 0: tokenize; 1: + fast parsers; 2: + references. */
static int parse(const char *path, int mode, double *secs, double *cpu, long *rows_out, double *checksum)
{
    upf_csv *r = NULL;
    upf_err err;
    upf_csv_opts o = upf_csv_opts_default();
    double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    if (upf_csv_open(path, &o, &r, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    long rows = 0;
    double sum = 0;
    int rc;
    while ((rc = upf_csv_next(r, &err)) == 1) {
        size_t nf;
        const upf_csv_field *f = upf_csv_row(r, &nf);
        rows++;
        if (nf < 5) continue;
        int64_t a, b, t;
        double v;
        if (mode == 1) {
            upf_num_parse_i64(f[0].p, f[0].len, &a);
            upf_num_parse_i64(f[1].p, f[1].len, &b);
            upf_time_parse(f[2].p, f[2].len, UPF_TIME_UNIX, &t, NULL);
            upf_num_parse_f64(f[4].p, f[4].len, &v);
            sum += (double)(a + b + t) + v;
        } else if (mode == 2) {
            upf_num_parse_i64_ref(f[0].p, f[0].len, &a);
            upf_num_parse_i64_ref(f[1].p, f[1].len, &b);
            upf_num_parse_i64_ref(f[2].p, f[2].len, &t);
            upf_num_parse_f64_ref(f[4].p, f[4].len, &v);
            sum += (double)(a + b + t) + v;
        } else {
            sum += (double)f[3].len;
        }
    }
    upf_csv_close(r);
    if (rc < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    *secs = clock_s(CLOCK_MONOTONIC) - t0;
    *cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    *rows_out = rows;
    *checksum = sum;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "gen")) return gen(argv[2], atol(argv[3]));
    if (argc == 3 && !strcmp(argv[1], "parse")) {
        static const char *const names[3] = { "tokenize only", "tokenize + fast number parsing",
                                              "tokenize + strtoll/strtod (reference)" };
        double sums[3];
        for (int m = 0; m < 3; m++) {
            double s, cpu;
            long rows;
            if (parse(argv[2], m, &s, &cpu, &rows, &sums[m])) return 1;
            printf("%-40s wall %6.2f s %6.2fM rows/s   cpu %6.2f s %6.2fM rows/s\n", names[m], s,
                   (double)rows / s / 1e6, cpu, (double)rows / cpu / 1e6);
        }
        if (sums[1] != sums[2]) printf("warning: fast and reference parsers disagree (%.17g vs %.17g)\n", sums[1], sums[2]);
        return 0;
    }
    fprintf(stderr, "usage: bench_import gen FILE ROWS | bench_import parse FILE\n");
    return 2;
}
