/* bench_ranker.c - the ranker's development and benchmark harness.
 *
 *   bench_ranker quality U.DATA [--seed S] [--split FILE] [key=value ...]
 *       MovieLens 100K under ../shared/BENCH.md's protocol: ratings >= 4, a
 *       per-user random 80/20 split (our rng, or FILE with "user item is_test"
 *       lines to reuse another tool's split), validation carved from train for
 *       early stopping, refit on all of train for the best epoch count, then
 *       NDCG@10 on test by a plain full-catalogue reference evaluator.
 *   bench_ranker throughput USERS ITEMS EVENTS THREADS [uniform] [key=value ...]
 *       pairwise BPR updates/s at dim 64 on a generated model, negative check on;
 *       items Zipf-like (1/(rank+10)), or uniform.
 * Figures only, never assertions. Not part of the product.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "../../train/ranker_loss.h"
#include "../../train/ranker_sampler.h"
#include "../../train/ranker_train.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- data ---- */

typedef struct pair { int32_t u, i; int8_t test, rating; } pair;

static int cmp_pair(const void *a, const void *b)
{
    const pair *x = a, *y = b;
    if (x->u != y->u) return x->u < y->u ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* CSR of the pairs with flag == want (or all when want < 0). */
static void build_csr(const pair *p, size_t n, size_t U, size_t I, int want, upf_csr *m)
{
    memset(m, 0, sizeof *m);
    m->n_rows = U;
    m->n_cols = I;
    m->ptr = calloc(U + 1, sizeof *m->ptr);
    size_t k = 0;
    for (size_t e = 0; e < n; e++)
        if (want < 0 || p[e].test == want) m->ptr[p[e].u + 1]++, k++;
    for (size_t u = 0; u < U; u++) m->ptr[u + 1] += m->ptr[u];
    m->idx = malloc((k + 1) * sizeof *m->idx);
    m->val = malloc((k + 1) * sizeof *m->val);
    k = 0;
    for (size_t e = 0; e < n; e++)
        if (want < 0 || p[e].test == want) {
            m->idx[k] = p[e].i;
            m->val[k++] = (float)p[e].rating;
        }
}

static void free_csr(upf_csr *m)
{
    free(m->ptr);
    free(m->idx);
    free(m->val);
    memset(m, 0, sizeof *m);
}

/* Per-user random split of the pairs with test == 0: a user with n >= 2 gives
 * max(1, round(frac * n)) to `to` (pairs sorted by user). */
static void split_pairs(pair *p, size_t n, double frac, uint64_t seed, int8_t to)
{
    upf_rng r;
    upf_rng_seed(&r, seed, 0x53504C54u);
    size_t a = 0;
    int32_t *tmp = malloc(n * sizeof *tmp);
    while (a < n) {
        size_t b = a;
        while (b < n && p[b].u == p[a].u) b++;
        size_t m = 0;
        for (size_t e = a; e < b; e++)
            if (p[e].test == 0) tmp[m++] = (int32_t)e;
        if (m >= 2) {
            upf_rng_shuffle_i32(&r, tmp, m);
            size_t k = (size_t)llround(frac * (double)m);
            if (k < 1) k = 1;
            for (size_t q = 0; q < k; q++) p[tmp[q]].test = to;
        }
        a = b;
    }
    free(tmp);
}

/* ---- the reference evaluator: NDCG@10, full catalogue, train excluded,
 * ties by lower item index, binary gain, users without test items skipped ---- */
static double ndcg_at(const upf_ranker_model *m, const upf_csr *train, const upf_csr *test, size_t K)
{
    const size_t U = m->shape.n_users, I = m->shape.n_items, D = m->shape.dim;
    float *UV = malloc(U * D * sizeof(float)), *IV = malloc(I * D * sizeof(float)), *b = malloc(I * sizeof(float));
    float *S = malloc(I * sizeof(float));
    upf_ranker_user_matrix(m, UV);
    upf_ranker_item_matrix(m, IV, b);
    double total = 0.0;
    size_t n_users = 0;
    int32_t top[64];
    for (size_t u = 0; u < U; u++) {
        if (test->ptr[u + 1] == test->ptr[u]) continue;
        upf_score_batch(UV + u * D, IV, b, 1, I, D, S);
        for (int64_t e = train->ptr[u]; e < train->ptr[u + 1]; e++) S[train->idx[e]] = -INFINITY;
        size_t n = 0;
        for (size_t i = 0; i < I; i++) {
            if (S[i] == -INFINITY) continue;
            if (n < K) top[n++] = (int32_t)i;
            else if (S[i] > S[top[n - 1]]) top[n - 1] = (int32_t)i;
            else continue;
            for (size_t q = n - 1; q > 0 && S[top[q]] > S[top[q - 1]]; q--) {
                int32_t t = top[q];
                top[q] = top[q - 1];
                top[q - 1] = t;
            }
        }
        const int32_t *row = test->idx + test->ptr[u];
        int64_t len = test->ptr[u + 1] - test->ptr[u];
        double dcg = 0.0, idcg = 0.0;
        for (size_t r = 0; r < n; r++)
            if (upf_row_has(row, len, top[r])) dcg += 1.0 / log2((double)r + 2.0);
        for (size_t r = 0; r < K && (int64_t)r < len; r++) idcg += 1.0 / log2((double)r + 2.0);
        total += dcg / idcg;
        n_users++;
    }
    free(UV);
    free(IV);
    free(b);
    free(S);
    return n_users ? total / (double)n_users : 0.0;
}

static float *rating_weights(const upf_csr *m, double w5)
{
    if (!(w5 > 0)) return NULL;
    int64_t nnz = upf_csr_nnz(m);
    float *w = malloc((size_t)(nnz + 1) * sizeof *w);
    for (int64_t e = 0; e < nnz; e++) w[e] = m->val[e] >= 5.0f ? (float)w5 : 1.0f;
    return w;
}

typedef struct vctx { const upf_csr *train, *valid; int verbose; } vctx;

static upf_status validate(void *ctx, const upf_ranker_model *m, double *value, upf_err *err)
{
    (void)err;
    vctx *v = ctx;
    *value = ndcg_at(m, v->train, v->valid, 10);
    return UPF_OK;
}

static upf_status epoch_end(void *ctx, const upf_ranker_model *m, uint32_t epoch, double loss, double valid,
                            int is_best, upf_err *err)
{
    (void)m;
    (void)err;
    vctx *v = ctx;
    if (v->verbose) fprintf(stderr, "epoch %u loss %.5f valid %.4f%s\n", epoch, loss, valid, is_best ? " *" : "");
    return UPF_OK;
}

/* ---- hyper-parameters from key=value arguments ---- */

typedef struct hp {
    upf_ranker_train_params t;
    size_t dim;
    int history, user_id, genres, demo;
    const char *dir; /* u.data's folder, for u.item / u.user */
    int verbose;
    int refit;
    double refit_scale;
    int nested;
    double w5; /* weight of a 5-star positive (4-star: 1); 0: all 1 */
} hp;

static int set_hp(hp *h, const char *kv)
{
    const char *eq = strchr(kv, '=');
    if (!eq) return -1;
    size_t n = (size_t)(eq - kv);
    const char *v = eq + 1;
    double x = atof(v);
#define K(name) (n == strlen(name) && strncmp(kv, name, n) == 0)
    if (K("loss")) h->t.loss = strcmp(v, "bpr") == 0 ? UPF_RANKER_BPR : strcmp(v, "warp") == 0 ? UPF_RANKER_WARP : UPF_RANKER_SOFTMAX;
    else if (K("opt")) h->t.opt.kind = strcmp(v, "sgd") == 0 ? UPF_OPT_SGD : strcmp(v, "adagrad") == 0 ? UPF_OPT_ADAGRAD : UPF_OPT_ADAM;
    else if (K("lr")) h->t.opt.lr_init = x;
    else if (K("l2")) h->t.opt.l2 = x;
    else if (K("epochs")) h->t.epochs = (uint32_t)x;
    else if (K("patience")) h->t.patience = (uint32_t)x;
    else if (K("batch")) h->t.batch_users = (uint32_t)x;
    else if (K("neg")) h->t.n_negatives = (uint32_t)x;
    else if (K("pop")) h->t.neg_dist = x > 0 ? UPF_NEG_POPULARITY : UPF_NEG_UNIFORM;
    else if (K("tau")) h->t.tau = x;
    else if (K("drop")) h->t.user_attr_dropout = x;
    else if (K("ema")) h->t.ema = x;
    else if (K("id_drop")) h->t.user_id_dropout = x;
    else if (K("init")) h->t.init_std = x;
    else if (K("seed")) h->t.seed = (uint64_t)x;
    else if (K("threads")) h->t.threads = (uint32_t)x;
    else if (K("dim")) h->dim = (size_t)x;
    else if (K("history")) h->history = (int)x;
    else if (K("user_id")) h->user_id = (int)x;
    else if (K("genres")) h->genres = (int)x;
    else if (K("demo")) h->demo = (int)x;
    else if (K("verbose")) h->verbose = (int)x;
    else if (K("check")) h->t.check_negatives = (int)x;
    else if (K("refit")) h->refit = (int)x;
    else if (K("refit_scale")) h->refit_scale = x;
    else if (K("nested")) h->nested = (int)x;
    else if (K("w5")) h->w5 = x;
    else if (K("cosine")) h->t.opt.schedule = x > 0 ? UPF_LR_COSINE : UPF_LR_CONSTANT;
    else return -1;
#undef K
    return 0;
}

/* Item genres (u.item's 19 flags) as an item feature matrix. */
static int load_genres(const char *dir, size_t I, upf_csr *out)
{
    char path[4096], line[4096];
    snprintf(path, sizeof path, "%s/u.item", dir);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    float *x = calloc(I * 19, sizeof *x);
    while (fgets(line, sizeof line, f)) {
        long id = atol(line);
        char *p = line;
        int bars = 0;
        while (*p && bars < 5) bars += *p++ == '|';
        for (int g = 0; g < 19 && *p; g++) {
            if (id >= 1 && (size_t)id <= I && *p == '1') x[(size_t)(id - 1) * 19 + g] = 1.0f;
            while (*p && *p != '|') p++;
            if (*p) p++;
        }
    }
    fclose(f);
    memset(out, 0, sizeof *out);
    out->n_rows = I;
    out->n_cols = 19;
    out->ptr = calloc(I + 1, sizeof *out->ptr);
    out->idx = malloc(I * 19 * sizeof *out->idx);
    out->val = malloc(I * 19 * sizeof *out->val);
    size_t k = 0;
    for (size_t i = 0; i < I; i++) {
        float n = 0;
        for (int g = 0; g < 19; g++) n += x[i * 19 + g];
        for (int g = 0; g < 19; g++)
            if (x[i * 19 + g] > 0) out->idx[k] = g, out->val[k++] = 1.0f / sqrtf(n);
        out->ptr[i + 1] = (int64_t)k;
    }
    free(x);
    return 0;
}

/* Demographics (u.user): age band (7), gender (2), occupation (21) one-hots, each 1/sqrt(3). */
static int load_demo(const char *dir, size_t U, upf_csr *out)
{
    static const char *const occ[] = { "administrator", "artist", "doctor", "educator", "engineer", "entertainment",
                                       "executive", "healthcare", "homemaker", "lawyer", "librarian", "marketing",
                                       "none", "other", "programmer", "retired", "salesman", "scientist", "student",
                                       "technician", "writer" };
    char path[4096], line[512];
    snprintf(path, sizeof path, "%s/u.user", dir);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    memset(out, 0, sizeof *out);
    out->n_rows = U;
    out->n_cols = 30;
    out->ptr = calloc(U + 1, sizeof *out->ptr);
    out->idx = malloc(U * 3 * sizeof *out->idx);
    out->val = malloc(U * 3 * sizeof *out->val);
    int32_t *cols = calloc(U * 3, sizeof *cols);
    for (size_t k = 0; k < U * 3; k++) cols[k] = -1;
    while (fgets(line, sizeof line, f)) {
        long id = atol(line);
        if (id < 1 || (size_t)id > U) continue;
        char *a = strchr(line, '|'), *g = a ? strchr(a + 1, '|') : NULL, *o = g ? strchr(g + 1, '|') : NULL;
        if (!o) continue;
        int age = atoi(a + 1);
        int band = age < 18 ? 0 : age < 25 ? 1 : age < 35 ? 2 : age < 45 ? 3 : age < 50 ? 4 : age < 56 ? 5 : 6;
        int gen = g[1] == 'F' ? 8 : 7;
        int oc = 13;
        for (int q = 0; q < 21; q++)
            if (strncmp(o + 1, occ[q], strlen(occ[q])) == 0 && o[1 + strlen(occ[q])] == '|') oc = q;
        size_t u = (size_t)(id - 1);
        cols[u * 3] = band, cols[u * 3 + 1] = gen, cols[u * 3 + 2] = 9 + oc;
    }
    fclose(f);
    size_t k = 0;
    for (size_t u = 0; u < U; u++) {
        for (int q = 0; q < 3; q++)
            if (cols[u * 3 + q] >= 0) out->idx[k] = cols[u * 3 + q], out->val[k++] = 1.0f / sqrtf(3.0f);
        out->ptr[u + 1] = (int64_t)k;
    }
    free(cols);
    return 0;
}

typedef struct feats { upf_csr hist, demo, user, item; } feats;

static void free_feats(feats *f)
{
    upf_free(f->hist.ptr), upf_free(f->hist.idx), upf_free(f->hist.val);
    upf_free(f->user.ptr), upf_free(f->user.idx), upf_free(f->user.val);
    free_csr(&f->demo);
    free_csr(&f->item);
    memset(f, 0, sizeof *f);
}

static upf_ranker_model *make_model(const hp *h, const upf_csr *train, feats *fe)
{
    upf_err err;
    upf_ranker_shape s = { train->n_rows, train->n_cols, 0, 0, h->dim, h->user_id, 1 };
    memset(fe, 0, sizeof *fe);
    if (h->history && upf_ranker_history_features(train, &fe->hist, &err) != UPF_OK) return NULL;
    if (h->demo && load_demo(h->dir, train->n_rows, &fe->demo)) return NULL;
    if (h->genres && load_genres(h->dir, train->n_cols, &fe->item)) return NULL;
    if (h->history || h->demo) {
        if (upf_csr_hstack(h->demo ? &fe->demo : NULL, h->history ? &fe->hist : NULL, &fe->user, &err) != UPF_OK)
            return NULL;
        s.n_user_attrs = fe->user.n_cols;
    }
    if (h->genres) s.n_item_attrs = fe->item.n_cols;
    upf_ranker_model *m = NULL;
    if (upf_ranker_model_create(&s, s.n_user_attrs ? &fe->user : NULL, h->genres ? &fe->item : NULL, &m, &err) !=
        UPF_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return NULL;
    }
    upf_ranker_model_init(m, h->t.init_std, h->t.seed);
    return m;
}

static int quality(int argc, char **argv)
{
    const char *path = argv[2], *split_file = NULL;
    static char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    else snprintf(dir, sizeof dir, ".");
    uint64_t seed = 42;
    hp h;
    memset(&h, 0, sizeof h);
    h.t = upf_ranker_train_params_default();
    h.dim = 64;
    h.user_id = 1;
    h.refit = 1;
    h.dir = dir;
    for (int a = 3; a < argc; a++) {
        if (strcmp(argv[a], "--seed") == 0 && a + 1 < argc) seed = strtoull(argv[++a], NULL, 10);
        else if (strcmp(argv[a], "--split") == 0 && a + 1 < argc) split_file = argv[++a];
        else if (set_hp(&h, argv[a])) {
            fprintf(stderr, "unknown argument %s\n", argv[a]);
            return 2;
        }
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return 1;
    }
    size_t n = 0, cap = 1 << 17, U = 0, I = 1682;
    pair *p = malloc(cap * sizeof *p);
    long uu, ii, rr, tt;
    while (fscanf(f, "%ld %ld %ld %ld", &uu, &ii, &rr, &tt) == 4) {
        if (rr < 4) continue;
        if (n == cap) p = realloc(p, (cap *= 2) * sizeof *p);
        p[n].u = (int32_t)(uu - 1);
        p[n].i = (int32_t)(ii - 1);
        p[n].test = 0;
        p[n].rating = (int8_t)rr;
        if ((size_t)uu > U) U = (size_t)uu;
        if ((size_t)ii > I) I = (size_t)ii;
        n++;
    }
    fclose(f);
    qsort(p, n, sizeof *p, cmp_pair);
    if (split_file) {
        FILE *g = fopen(split_file, "r");
        if (!g) {
            perror(split_file);
            return 1;
        }
        long a, b, c;
        while (fscanf(g, "%ld %ld %ld", &a, &b, &c) == 3) {
            pair key = { (int32_t)a, (int32_t)b, 0, 0 };
            pair *hit = bsearch(&key, p, n, sizeof *p, cmp_pair);
            if (hit) hit->test = (int8_t)c;
        }
        fclose(g);
    } else {
        split_pairs(p, n, 0.2, seed, 1);
    }
    /* validation carved from train: flag 2 */
    split_pairs(p, n, 0.2, seed + 1000, 2);
    if (h.nested) {
        /* one level down, for choosing rules without the test split: the test
         * pairs vanish, the validation pairs become the test, and a new
         * validation split is carved from what is left */
        size_t k = 0;
        for (size_t e = 0; e < n; e++)
            if (p[e].test != 1) p[k] = p[e], p[k].test = p[e].test == 2 ? 1 : 0, k++;
        n = k;
        split_pairs(p, n, 0.2, seed + 2000, 2);
    }
    upf_csr all_train, test, fit, valid;
    build_csr(p, n, U, I, 1, &test);
    build_csr(p, n, U, I, 2, &valid);
    for (size_t e = 0; e < n; e++) p[e].test = p[e].test == 2 ? 0 : p[e].test == 1 ? 1 : 0;
    build_csr(p, n, U, I, 0, &all_train);
    for (size_t e = 0; e < n; e++) p[e].test = p[e].test; /* unchanged */
    /* fit = all_train minus valid */
    {
        pair *q = malloc(n * sizeof *q);
        memcpy(q, p, n * sizeof *q);
        size_t k = 0;
        for (size_t e = 0; e < n; e++)
            if (q[e].test == 0 && !upf_row_has(valid.idx + valid.ptr[q[e].u], valid.ptr[q[e].u + 1] - valid.ptr[q[e].u], q[e].i))
                q[k++] = q[e];
        for (size_t e = 0; e < k; e++) q[e].test = 0;
        build_csr(q, k, U, I, 0, &fit);
        free(q);
    }
    fprintf(stderr, "pairs %zu: fit %lld valid %lld train %lld test %lld\n", n, (long long)upf_csr_nnz(&fit),
            (long long)upf_csr_nnz(&valid), (long long)upf_csr_nnz(&all_train), (long long)upf_csr_nnz(&test));
    upf_err err;
    feats hist;
    upf_ranker_model *m = make_model(&h, &fit, &hist);
    vctx vc = { &fit, &valid, h.verbose };
    upf_ranker_hooks hooks = { validate, epoch_end, &vc };
    upf_ranker_train_result res;
    double t0 = now_s();
    float *wfit = rating_weights(&fit, h.w5);
    if (upf_ranker_train(m, &fit, wfit, &h.t, &hooks, &res, &err) != UPF_OK) {
        fprintf(stderr, "train: %s\n", err.msg);
        return 1;
    }
    double t1 = now_s();
    free(wfit);
    double test_nofit = ndcg_at(m, &all_train, &test, 10);
    upf_ranker_model_free(m);
    free_feats(&hist);
    double test_ndcg = test_nofit;
    double t2 = t1, t3 = t1;
    if (h.refit) {
        upf_ranker_train_params t = h.t;
        t.epochs = res.best_epoch ? res.best_epoch : res.epochs_run;
        if (h.refit_scale > 0) t.epochs = (uint32_t)lround(t.epochs * h.refit_scale);
        t.patience = 0;
        m = make_model(&h, &all_train, &hist);
        upf_ranker_train_result r2;
        t2 = now_s();
        float *wall = rating_weights(&all_train, h.w5);
        if (upf_ranker_train(m, &all_train, wall, &t, NULL, &r2, &err) != UPF_OK) {
            fprintf(stderr, "refit: %s\n", err.msg);
            return 1;
        }
        t3 = now_s();
        free(wall);
        test_ndcg = ndcg_at(m, &all_train, &test, 10);
        upf_ranker_model_free(m);
        free_feats(&hist);
    }
    printf("seed %llu valid %.4f best_epoch %u test_ndcg@10 %.4f (no refit %.4f) train %.2fs refit %.2fs\n",
           (unsigned long long)seed, res.best_valid, res.best_epoch, test_ndcg, test_nofit, t1 - t0, t3 - t2);
    free(p);
    free_csr(&all_train);
    free_csr(&test);
    free_csr(&fit);
    free_csr(&valid);
    return 0;
}


/* ---- throughput ---- */

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* U users with about E/U distinct items each, items drawn with a Zipf-like
 * skew (alias over 1/(rank+10)) so the popular rows are shared as in real data. */
static void synth_events(size_t U, size_t I, size_t E, int uniform, upf_csr *m)
{
    double *w = malloc(I * sizeof *w);
    for (size_t i = 0; i < I; i++) w[i] = uniform ? 1.0 : 1.0 / ((double)i + 10.0);
    upf_alias a;
    upf_err err;
    upf_alias_build(w, I, &a, &err);
    free(w);
    upf_rng r;
    upf_rng_seed(&r, 1, 2);
    memset(m, 0, sizeof *m);
    m->n_rows = U;
    m->n_cols = I;
    m->ptr = calloc(U + 1, sizeof *m->ptr);
    m->idx = malloc(E * sizeof *m->idx);
    size_t per = E / U, k = 0;
    for (size_t u = 0; u < U; u++) {
        size_t start = k;
        for (size_t q = 0; q < per; q++) m->idx[k++] = upf_alias_draw(&a, &r);
        qsort(m->idx + start, per, sizeof(int32_t), cmp_i32);
        size_t w2 = start;
        for (size_t q = start; q < k; q++)
            if (q == start || m->idx[q] != m->idx[q - 1]) m->idx[w2++] = m->idx[q];
        k = w2;
        m->ptr[u + 1] = (int64_t)k;
    }
    upf_alias_free(&a);
}

static double max_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

/* The in-run peer: the plain loop BENCH.md's "19-20M updates/s per thread in
 * cache" describes (users in index order, one uniform negative without a
 * check, float sigmoid, no prefetch, no loss), over the same events and model
 * on one thread, so the trainer's rate can be read as a ratio to what this
 * machine gives a plain loop right now. Built with the project's flags (no
 * -ffast-math), its float dot is one serial chain of adds: BENCH.md's plain
 * loop figure was likely built with reassociation allowed. Returns updates
 * per cpu-second. */
static double plain_loop_rate(const upf_csr *tr, float *P, float *Q, float *bias, size_t d)
{
    upf_rng r;
    upf_rng_seed(&r, 9, 0);
    const uint32_t I = (uint32_t)tr->n_cols;
    const float lr = 0.05f, l2 = 1e-4f;
    struct timespec c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    uint64_t n = 0;
    for (size_t u = 0; u < tr->n_rows; u++) {
        float *pu = P + u * d;
        for (int64_t e = tr->ptr[u]; e < tr->ptr[u + 1]; e++, n++) {
            const size_t i = (size_t)tr->idx[e], j = upf_rng_below(&r, I);
            float *qi = Q + i * d, *qj = Q + j * d;
            float x = bias[i] - bias[j];
            for (size_t k = 0; k < d; k++) x += pu[k] * (qi[k] - qj[k]);
            const float g = 1.0f / (1.0f + expf(x)); /* sigmoid(-x) */
            for (size_t k = 0; k < d; k++) {
                const float pk = pu[k], a = qi[k], b = qj[k];
                pu[k] += lr * (g * (a - b) - l2 * pk);
                qi[k] += lr * (g * pk - l2 * a);
                qj[k] += lr * (-g * pk - l2 * b);
            }
            bias[i] += lr * (g - l2 * bias[i]);
            bias[j] += lr * (-g - l2 * bias[j]);
        }
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    double cpu = (double)(c1.tv_sec - c0.tv_sec) + 1e-9 * (double)(c1.tv_nsec - c0.tv_nsec);
    return cpu > 0 ? (double)n / cpu : 0.0;
}

/* One epoch of the fast loop's build `fast` (1: chosen at run time, AVX2
 * where present; 2: portable) over every user in index order; updates per
 * cpu-second. Run one after the other on the same model and events, so the
 * ratio of the two builds is read off one process on a shared machine. */
static double build_rate(upf_ranker_model *m, const upf_csr *tr, const upf_ranker_train_params *p, int fast)
{
    upf_pair_ctx *c = NULL;
    upf_err err;
    int32_t *users = malloc(tr->n_rows * sizeof *users);
    if (!users || upf_pair_ctx_create(m, tr, NULL, p, &c, &err) != UPF_OK) {
        free(users);
        return 0.0;
    }
    for (size_t u = 0; u < tr->n_rows; u++) users[u] = (int32_t)u;
    upf_rng r;
    upf_rng_seed(&r, 11, 0);
    struct timespec c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    (void)upf_pair_epoch(c, m, &r, users, tr->n_rows, 0, 1, fast);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    double cpu = (double)(c1.tv_sec - c0.tv_sec) + 1e-9 * (double)(c1.tv_nsec - c0.tv_nsec);
    upf_pair_ctx_free(c);
    free(users);
    return cpu > 0 ? (double)upf_csr_nnz(tr) / cpu : 0.0;
}

static int throughput(int argc, char **argv)
{
    if (argc < 6) return 2;
    size_t U = strtoull(argv[2], NULL, 10), I = strtoull(argv[3], NULL, 10), E = strtoull(argv[4], NULL, 10);
    uint32_t threads = (uint32_t)strtoul(argv[5], NULL, 10);
    hp h;
    memset(&h, 0, sizeof h);
    h.t = upf_ranker_train_params_default();
    h.t.loss = UPF_RANKER_BPR;
    h.t.opt.kind = UPF_OPT_SGD;
    h.t.opt.lr_init = 0.05;
    h.t.opt.l2 = 1e-4;
    h.t.n_negatives = 1;
    h.t.epochs = 1;
    h.t.check_negatives = 1;
    h.dim = 64;
    int uniform = 0;
    for (int a = 6; a < argc; a++)
        if (strcmp(argv[a], "uniform") == 0) {
            uniform = 1; /* items drawn uniformly instead of Zipf-like */
        } else if (set_hp(&h, argv[a])) {
            fprintf(stderr, "unknown argument %s\n", argv[a]);
            return 2;
        }
    h.t.threads = threads;
    upf_csr tr;
    double t0 = now_s();
    synth_events(U, I, E, uniform, &tr);
    double t1 = now_s();
    upf_ranker_shape s = { U, I, 0, 0, h.dim, 1, 1 };
    upf_ranker_model *m = NULL;
    upf_err err;
    if (upf_ranker_model_create(&s, NULL, NULL, &m, &err) != UPF_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    upf_ranker_model_init(m, 0.01, 1);
    double model_mb = (double)m->n_params * 4.0 / 1048576.0;
    double events_mb = (double)upf_csr_nnz(&tr) * (4.0 + 4.0) / 1048576.0 + (double)(U + 1) * 8.0 / 1048576.0;
    /* warm-up pass over a slice (page faults, caches), then the timed epoch */
    upf_ranker_train_result res;
    if (upf_ranker_train(m, &tr, NULL, &h.t, NULL, &res, &err) != UPF_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    struct timespec c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    if (upf_ranker_train(m, &tr, NULL, &h.t, NULL, &res, &err) != UPF_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    double cpu = (double)(c1.tv_sec - c0.tv_sec) + 1e-9 * (double)(c1.tv_nsec - c0.tv_nsec);
    const double rate_cpu = (double)res.updates / cpu, rate_wall = (double)res.updates / res.seconds;
    printf("cpu-time rate: %.2fM updates/s per busy thread (%.0f%% of %u threads busy)\n", rate_cpu / 1e6,
           100.0 * cpu / res.seconds / threads, threads);
    if (threads == 1) {
        double plain = plain_loop_rate(&tr, m->p.user_id, m->p.item_id, m->p.item_bias, h.dim);
        printf("plain loop (same events and model, no check, no prefetch; cpu time): %.2fM updates/s; "
               "trainer / plain %.2f\n", plain / 1e6, rate_cpu / plain);
        double best = build_rate(m, &tr, &h.t, 1), portable = build_rate(m, &tr, &h.t, 2);
        printf("fast loop builds, one epoch each, users in index order (cpu time): run-time choice %.2fM/s, portable %.2fM/s; ratio %.2f\n",
               best / 1e6, portable / 1e6, portable > 0 ? best / portable : 0.0);
    }
    /* BENCH.md's figures for this size and thread count, and the target */
    const int big = model_mb > 1024.0;
    const double bench_md = big ? (threads == 1 ? 5.15e6 : 9.7e6) : (threads == 1 ? 19.5e6 : 38e6);
    const double target = big ? (threads == 2 ? 8e6 : 0) : 15e6 * threads;
    printf("ratios: wall %.2fM/s is %.2fx BENCH.md (%.1fM/s)", rate_wall / 1e6, rate_wall / bench_md, bench_md / 1e6);
    if (target > 0) printf(", %.2fx the target (%.0fM/s)", rate_wall / target, target / 1e6);
    printf("; cpu-time rate x threads %.2fx BENCH.md\n", rate_cpu * threads / bench_md);
    printf("users %zu items %zu (%s) events %lld dim %zu threads %u loss %s opt %s: %.2fM updates/s (%.1f ns/update), "
           "model %.0f MB, events %.0f MB, peak RSS %.0f MB (gen %.1fs)\n",
           U, I, uniform ? "uniform" : "zipf", (long long)upf_csr_nnz(&tr), h.dim, threads, upf_ranker_loss_name(h.t.loss),
           upf_opt_kind_name(h.t.opt.kind), (double)res.updates / res.seconds / 1e6,
           res.seconds * 1e9 / (double)res.updates, model_mb, events_mb, max_rss_mb(), t1 - t0);
    upf_ranker_model_free(m);
    free_csr(&tr);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "quality") == 0) return quality(argc, argv);
    if (argc >= 6 && strcmp(argv[1], "throughput") == 0) return throughput(argc, argv);
    fprintf(stderr, "usage: bench_ranker quality U.DATA [--seed S] [--split FILE] [key=value ...]\n"
                    "       bench_ranker throughput USERS ITEMS EVENTS THREADS [key=value ...]\n");
    return 2;
}
