/* rank_eval.c - full-catalogue ranking evaluation: the fast blocked evaluator
 * (sgemm tiles + per-user top-k heaps + exact rank counts, pthreads over user
 * blocks) and the plain reference (one user, all scores, full sort).
 *
 * Legend: U users, I items, D dim, K heap size (largest cut-off), Ub x Ib the
 * tile (users x items) whose scores live in one cache-sized buffer.
 * Not here: metric definitions (metrics.c), files and commands (cli_*.c).
 */
#include "rank_eval.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define DEFAULT_BLOCK_USERS 256
#define DEFAULT_BLOCK_ITEMS 1024
#define MAX_THREADS 256
#define DNAN ((double)NAN)

upf_rank_eval_params upf_rank_eval_params_default(void)
{
    upf_rank_eval_params p;
    memset(&p, 0, sizeof p);
    p.gain = UPF_GAIN_EXP;
    p.discount = UPF_DISCOUNT_LOG2;
    p.empty = UPF_EMPTY_SKIP;
    p.exclude_train = 1;
    p.graded = 1;
    p.threads = 1;
    p.head_share = 0.8;
    return p;
}

upf_status upf_rank_eval_params_check(const upf_rank_eval_params *p, upf_err *err)
{
    if (!p->metrics || p->n_metrics == 0) return upf_err_set(err, UPF_ERR_ARG, "no metrics requested");
    for (size_t i = 0; i < p->n_metrics; i++) {
        upf_metric_spec s = p->metrics[i];
        if (s.kind <= UPF_METRIC_NONE || s.kind >= UPF_METRIC_KIND_COUNT)
            return upf_err_set(err, UPF_ERR_ARG, "metric %zu: unknown kind %d", i, (int)s.kind);
        char name[UPF_METRIC_NAME_MAX];
        upf_metric_spec chk;
        upf_metric_spec_name(s, name, sizeof name);
        if (upf_metric_spec_parse(name, &chk, err) != UPF_OK) return UPF_ERR_ARG;
    }
    if ((unsigned)p->gain >= UPF_GAIN_COUNT) return upf_err_set(err, UPF_ERR_ARG, "gain %d: expected exp or linear", (int)p->gain);
    if ((unsigned)p->discount >= UPF_DISCOUNT_COUNT)
        return upf_err_set(err, UPF_ERR_ARG, "discount %d: expected log2 or trec", (int)p->discount);
    if ((unsigned)p->empty >= UPF_EMPTY_COUNT)
        return upf_err_set(err, UPF_ERR_ARG, "empty %d: expected skip, zero or one", (int)p->empty);
    if (p->threads < 1 || p->threads > MAX_THREADS)
        return upf_err_set(err, UPF_ERR_ARG, "threads %zu: expected 1..%d", p->threads, MAX_THREADS);
    if (!(p->head_share > 0 && p->head_share <= 1))
        return upf_err_set(err, UPF_ERR_ARG, "head share %g: expected a value in (0, 1]", p->head_share);
    if (p->block_users > (1u << 16) || p->block_items > (1u << 24))
        return upf_err_set(err, UPF_ERR_ARG, "block size %zu x %zu: too large", p->block_users, p->block_items);
    return UPF_OK;
}

/* ---- shared by both evaluators: checks, user selection, aggregation ---- */

typedef struct eval_ctx {
    const upf_scorer *s;
    const upf_csr *train, *test;
    const upf_rank_eval_params *p;
    size_t n_users, n_items, nm; /* nm: metrics */
    size_t K;                    /* heap size: the largest cut-off, at most I */
    int need_full;               /* some metric needs every relevant item's rank */
    upf_item_pop pop;            /* when long_tail or novelty is asked */
    int32_t *ranked;             /* (n_ranked) users with a relevant candidate, ascending */
    size_t n_ranked;
    int32_t *empty;              /* (n_empty) users in the mask without one, ascending */
    size_t n_empty;
    size_t max_rel;              /* the most relevant candidates of one user */
    double *vals;                /* (n_ranked, nm) per-user values */
    uint32_t *cov;               /* (I) the best rank at which an item was listed; UINT32_MAX: never */
} eval_ctx;

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static upf_status check_csr(const upf_csr *m, const char *what, upf_err *err)
{
    if (m->n_rows && !m->ptr) return upf_err_set(err, UPF_ERR_ARG, "%s: no row pointers", what);
    if (!m->ptr) return UPF_OK;
    if (m->ptr[0] != 0) return upf_err_set(err, UPF_ERR_DATA, "%s: row pointer 0 is %lld (expected 0)", what, (long long)m->ptr[0]);
    for (size_t u = 0; u < m->n_rows; u++) {
        int64_t a = m->ptr[u], b = m->ptr[u + 1];
        if (b < a) return upf_err_set(err, UPF_ERR_DATA, "%s: row %zu: pointers decrease (%lld > %lld)", what, u, (long long)a, (long long)b);
        for (int64_t e = a; e < b; e++) {
            int32_t j = m->idx[e];
            if (j < 0 || (size_t)j >= m->n_cols)
                return upf_err_set(err, UPF_ERR_DATA, "%s: row %zu: item %d outside 0..%zu", what, u, (int)j, m->n_cols - 1);
            if (e > a && m->idx[e - 1] >= j)
                return upf_err_set(err, UPF_ERR_DATA, "%s: row %zu: items not strictly ascending (%d then %d)", what, u, (int)m->idx[e - 1], (int)j);
        }
    }
    return UPF_OK;
}

static upf_status check_scorer(const upf_scorer *s, size_t n_users, size_t n_items, upf_err *err)
{
    if (s->score_block) return UPF_OK;
    if (s->dim && (!s->user_vecs || !s->item_vecs))
        return upf_err_set(err, UPF_ERR_ARG, "scorer: dim %zu but no user or item vectors", s->dim);
    if (s->dim > 65536) return upf_err_set(err, UPF_ERR_ARG, "scorer: dim %zu too large", s->dim);
    size_t nu, ni;
    if (upf_mul_size(n_users, s->dim, &nu) || upf_mul_size(n_items, s->dim, &ni))
        return upf_err_set(err, UPF_ERR_ARG, "scorer: %zu x %zu vectors overflow", n_users, s->dim);
    for (size_t i = 0; i < nu; i++)
        if (!isfinite(s->user_vecs[i]))
            return upf_err_set(err, UPF_ERR_NUMERIC, "scorer: user %zu: component %zu is %g", i / s->dim, i % s->dim, (double)s->user_vecs[i]);
    for (size_t i = 0; i < ni; i++)
        if (!isfinite(s->item_vecs[i]))
            return upf_err_set(err, UPF_ERR_NUMERIC, "scorer: item %zu: component %zu is %g", i / s->dim, i % s->dim, (double)s->item_vecs[i]);
    for (size_t i = 0; s->item_bias && i < n_items; i++)
        if (!isfinite(s->item_bias[i])) return upf_err_set(err, UPF_ERR_NUMERIC, "scorer: item %zu: bias is %g", i, (double)s->item_bias[i]);
    return UPF_OK;
}

/* The relevant candidates of user u: test items with a grade > 0 that are not
 * excluded, ascending. Writes up to cap items (NULL arrays: count only). */
static size_t relevant_of(const eval_ctx *c, size_t u, int32_t *item, double *grade)
{
    const upf_csr *te = c->test, *tr = c->train;
    int64_t a = te->ptr[u], b = te->ptr[u + 1];
    int64_t ta = tr->ptr ? tr->ptr[u] : 0, tb = tr->ptr ? tr->ptr[u + 1] : 0;
    size_t m = 0;
    for (int64_t e = a; e < b; e++) {
        int32_t j = te->idx[e];
        double g = te->val ? (double)te->val[e] : 1.0;
        if (!(g > 0)) continue;
        if (c->p->exclude_train) {
            while (ta < tb && tr->idx[ta] < j) ta++;
            if (ta < tb && tr->idx[ta] == j) continue;
        }
        if (item) item[m] = j;
        if (grade) grade[m] = c->p->graded ? g : 1.0;
        m++;
    }
    return m;
}

static size_t n_candidates(const eval_ctx *c, size_t u)
{
    if (!c->p->exclude_train || !c->train->ptr) return c->n_items;
    return c->n_items - (size_t)(c->train->ptr[u + 1] - c->train->ptr[u]);
}

static void ctx_free(eval_ctx *c)
{
    upf_item_pop_free(&c->pop);
    upf_free(c->ranked);
    upf_free(c->empty);
    upf_free(c->vals);
    upf_free(c->cov);
    memset(c, 0, sizeof *c);
}

static upf_status ctx_setup(eval_ctx *c, const upf_scorer *s, const upf_csr *train, const upf_csr *test,
                            const upf_rank_eval_params *p, upf_err *err)
{
    upf_status st;
    memset(c, 0, sizeof *c);
    c->s = s;
    c->train = train;
    c->test = test;
    c->p = p;
    if (!s || !train || !test || !p) return upf_err_set(err, UPF_ERR_ARG, "rank eval: NULL argument");
    if ((st = upf_rank_eval_params_check(p, err)) != UPF_OK) return st;
    if (train->n_rows != test->n_rows || train->n_cols != test->n_cols)
        return upf_err_set(err, UPF_ERR_ARG, "rank eval: train is %zu x %zu but test is %zu x %zu", train->n_rows,
                           train->n_cols, test->n_rows, test->n_cols);
    if (test->n_cols > (size_t)INT32_MAX || test->n_rows > (size_t)INT32_MAX)
        return upf_err_set(err, UPF_ERR_ARG, "rank eval: %zu x %zu is beyond int32 indices", test->n_rows, test->n_cols);
    if ((st = check_csr(train, "train", err)) != UPF_OK || (st = check_csr(test, "test", err)) != UPF_OK) return st;
    c->n_users = test->n_rows;
    c->n_items = test->n_cols;
    c->nm = p->n_metrics;
    if ((st = check_scorer(s, c->n_users, c->n_items, err)) != UPF_OK) return st;
    int need_pop = 0;
    for (size_t i = 0; i < p->n_metrics; i++) {
        upf_metric_spec m = p->metrics[i];
        if (m.k > c->K) c->K = m.k;
        if (upf_metric_needs_full_ranks(m)) c->need_full = 1;
        if (m.kind == UPF_METRIC_LONG_TAIL || m.kind == UPF_METRIC_NOVELTY) need_pop = 1;
    }
    if (c->K > c->n_items) c->K = c->n_items;
    if (need_pop) {
        st = p->item_count ? upf_item_pop_build(p->item_count, c->n_items, p->head_share, &c->pop, err)
                           : upf_item_pop_from_csr(train, p->head_share, &c->pop, err);
        if (st != UPF_OK) goto fail;
    }
    size_t n_sel = 0;
    for (size_t u = 0; u < c->n_users; u++) n_sel += !p->user_mask || p->user_mask[u];
    c->ranked = upf_calloc(n_sel ? n_sel : 1, sizeof *c->ranked);
    c->empty = upf_calloc(n_sel ? n_sel : 1, sizeof *c->empty);
    c->cov = upf_malloc((c->n_items ? c->n_items : 1) * sizeof *c->cov);
    if (!c->ranked || !c->empty || !c->cov) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "rank eval: out of memory for %zu users", n_sel);
        goto fail;
    }
    for (size_t i = 0; i < c->n_items; i++) c->cov[i] = UINT32_MAX;
    for (size_t u = 0; u < c->n_users; u++) {
        if (p->user_mask && !p->user_mask[u]) continue;
        size_t m = relevant_of(c, u, NULL, NULL);
        if (m) {
            c->ranked[c->n_ranked++] = (int32_t)u;
            if (m > c->max_rel) c->max_rel = m;
        } else {
            c->empty[c->n_empty++] = (int32_t)u;
        }
    }
    size_t nv;
    if (upf_mul_size(c->n_ranked ? c->n_ranked : 1, c->nm, &nv) || !(c->vals = upf_calloc(nv, sizeof *c->vals))) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "rank eval: out of memory for %zu x %zu values", c->n_ranked, c->nm);
        goto fail;
    }
    return UPF_OK;
fail:
    ctx_free(c);
    return st;
}

/* Means (in user order, so the thread count never changes a bit), coverage,
 * counts and the per-user table. */
static upf_status ctx_finish(eval_ctx *c, upf_rank_eval_result *out, upf_err *err)
{
    const upf_rank_eval_params *p = c->p;
    size_t nm = c->nm;
    upf_status st = UPF_OK;
    memset(out, 0, sizeof *out);
    out->n_metrics = nm;
    out->specs = upf_calloc(nm, sizeof *out->specs);
    out->names = upf_calloc(nm, sizeof *out->names);
    out->values = upf_calloc(nm, sizeof *out->values);
    out->n_values = upf_calloc(nm, sizeof *out->n_values);
    if (!out->specs || !out->names || !out->values || !out->n_values) goto nomem;
    double fill = p->empty == UPF_EMPTY_ONE ? 1.0 : 0.0;
    for (size_t m = 0; m < nm; m++) {
        upf_metric_spec s = p->metrics[m];
        out->specs[m] = s;
        upf_metric_spec_name(s, out->names[m], UPF_METRIC_NAME_MAX);
        double sum = 0.0;
        size_t n = 0;
        if (s.kind == UPF_METRIC_COVERAGE) {
            size_t seen = 0;
            for (size_t i = 0; i < c->n_items; i++) seen += c->cov[i] <= s.k;
            n = c->n_ranked;
            out->values[m] = n && c->n_items ? (double)seen / (double)c->n_items : DNAN;
            out->n_values[m] = n;
            continue;
        }
        for (size_t r = 0; r < c->n_ranked; r++) {
            double v = c->vals[r * nm + m];
            if (!isnan(v)) sum += v, n++;
        }
        if (upf_metric_is_relevance(s.kind) && p->empty != UPF_EMPTY_SKIP) {
            sum += fill * (double)c->n_empty;
            n += c->n_empty;
        }
        out->values[m] = n ? sum / (double)n : DNAN;
        out->n_values[m] = n;
    }
    out->n_users_ranked = c->n_ranked;
    out->n_users_empty = c->n_empty;
    if (p->per_user) {
        size_t n_rows = c->n_ranked + (p->empty != UPF_EMPTY_SKIP ? c->n_empty : 0), cells;
        if (upf_mul_size(n_rows ? n_rows : 1, nm, &cells)) goto nomem;
        out->per_user_user = upf_calloc(n_rows ? n_rows : 1, sizeof *out->per_user_user);
        out->per_user = upf_calloc(cells, sizeof *out->per_user);
        if (!out->per_user_user || !out->per_user) goto nomem;
        size_t a = 0, b = 0, o = 0, nb = p->empty != UPF_EMPTY_SKIP ? c->n_empty : 0;
        while (a < c->n_ranked || b < nb) {
            int take_ranked = b >= nb || (a < c->n_ranked && c->ranked[a] < c->empty[b]);
            double *row = out->per_user + o * nm;
            if (take_ranked) {
                out->per_user_user[o] = c->ranked[a];
                for (size_t m = 0; m < nm; m++)
                    row[m] = p->metrics[m].kind == UPF_METRIC_COVERAGE ? DNAN : c->vals[a * nm + m];
                a++;
            } else {
                out->per_user_user[o] = c->empty[b];
                for (size_t m = 0; m < nm; m++) row[m] = upf_metric_is_relevance(p->metrics[m].kind) ? fill : DNAN;
                b++;
            }
            o++;
        }
        out->n_users_per_user = n_rows;
    }
    return UPF_OK;
nomem:
    st = upf_err_set(err, UPF_ERR_NOMEM, "rank eval: out of memory for the result");
    upf_rank_eval_result_free(out);
    return st;
}

void upf_rank_eval_result_free(upf_rank_eval_result *r)
{
    if (!r) return;
    upf_free(r->specs);
    upf_free(r->names);
    upf_free(r->values);
    upf_free(r->n_values);
    upf_free(r->per_user_user);
    upf_free(r->per_user);
    memset(r, 0, sizeof *r);
}

double upf_rank_eval_get(const upf_rank_eval_result *r, const char *name)
{
    for (size_t m = 0; r && m < r->n_metrics; m++)
        if (strcmp(r->names[m], name) == 0) return r->values[m];
    return DNAN;
}

/* ---- small sorts ---- */

typedef struct scored {
    float s;
    int32_t i;
} scored;

/* Rank order: higher score first, then lower index. */
static int cmp_rank(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (x->s != y->s) return x->s > y->s ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

static int cmp_double_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

static float plain_score(const upf_scorer *s, size_t u, size_t i)
{
    float acc = 0.0f;
    const float *a = s->user_vecs + u * s->dim, *b = s->item_vecs + i * s->dim;
    for (size_t d = 0; d < s->dim; d++) acc += a[d] * b[d];
    if (s->item_bias) acc += s->item_bias[i];
    return acc;
}

static upf_status callback_scores(const upf_scorer *s, int32_t u, size_t begin, size_t end, float *out, upf_err *err)
{
    upf_status st = s->score_block(s->ctx, &u, 1, (int32_t)begin, (int32_t)end, out);
    if (st != UPF_OK) return upf_err_set(err, st, "scorer: user %d: score_block failed (%s)", (int)u, upf_status_str(st));
    for (size_t i = 0; i < end - begin; i++)
        if (isnan(out[i])) return upf_err_set(err, UPF_ERR_NUMERIC, "scorer: user %d, item %zu: score is NaN", (int)u, begin + i);
    return UPF_OK;
}

/* ---- the reference ---- */

upf_status upf_rank_evaluate_ref(const upf_scorer *s, const upf_csr *train, const upf_csr *test,
                                 const upf_rank_eval_params *p, upf_rank_eval_result *out, upf_err *err)
{
    eval_ctx c;
    upf_status st;
    float *score = NULL;
    scored *cand = NULL;
    double *rel = NULL, *sc = NULL, *ideal = NULL, *grade = NULL;
    int32_t *items = NULL, *relitem = NULL;
    double t0 = now_seconds();
    memset(out, 0, sizeof *out);
    if ((st = ctx_setup(&c, s, train, test, p, err)) != UPF_OK) return st;
    size_t ni = c.n_items ? c.n_items : 1, nr = c.max_rel ? c.max_rel : 1;
    score = upf_calloc(ni, sizeof *score);
    cand = upf_calloc(ni, sizeof *cand);
    rel = upf_calloc(ni, sizeof *rel);
    sc = upf_calloc(ni, sizeof *sc);
    items = upf_calloc(ni, sizeof *items);
    relitem = upf_calloc(nr, sizeof *relitem);
    grade = upf_calloc(nr, sizeof *grade);
    ideal = upf_calloc(nr, sizeof *ideal);
    if (!score || !cand || !rel || !sc || !items || !relitem || !grade || !ideal) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "rank eval: out of memory for %zu items", c.n_items);
        goto done;
    }
    for (size_t r = 0; r < c.n_ranked; r++) {
        if (upf_interrupted()) {
            st = upf_err_set(err, UPF_ERR_INTERRUPTED, "rank eval: interrupted at user %zu of %zu", r, c.n_ranked);
            goto done;
        }
        size_t u = (size_t)c.ranked[r];
        size_t m = relevant_of(&c, u, relitem, grade);
        if (s->score_block) {
            if ((st = callback_scores(s, (int32_t)u, 0, c.n_items, score, err)) != UPF_OK) goto done;
        } else {
            for (size_t i = 0; i < c.n_items; i++) score[i] = plain_score(s, u, i);
        }
        /* candidates: every item but the excluded ones */
        size_t n = 0;
        int64_t ta = train->ptr ? train->ptr[u] : 0, tb = train->ptr ? train->ptr[u + 1] : 0;
        for (size_t i = 0; i < c.n_items; i++) {
            if (p->exclude_train) {
                while (ta < tb && (size_t)train->idx[ta] < i) ta++;
                if (ta < tb && (size_t)train->idx[ta] == i) continue;
            }
            cand[n].s = score[i];
            cand[n].i = (int32_t)i;
            n++;
        }
        qsort(cand, n, sizeof *cand, cmp_rank);
        for (size_t k = 0; k < n; k++) {
            items[k] = cand[k].i;
            sc[k] = cand[k].s;
            rel[k] = 0.0;
            size_t lo = 0, hi = m; /* binary search among the relevant items */
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (relitem[mid] < cand[k].i) lo = mid + 1;
                else hi = mid;
            }
            if (lo < m && relitem[lo] == cand[k].i) rel[k] = grade[lo];
            if (k < c.K && c.cov[cand[k].i] > k + 1) c.cov[cand[k].i] = (uint32_t)(k + 1);
        }
        memcpy(ideal, grade, m * sizeof *ideal);
        qsort(ideal, m, sizeof *ideal, cmp_double_desc);
        double *row = c.vals + r * c.nm;
        for (size_t q = 0; q < c.nm; q++) {
            upf_metric_spec ms = p->metrics[q];
            if (ms.kind == UPF_METRIC_AUC) row[q] = upf_auc_ranked(rel, sc, n, 0);
            else if (ms.kind == UPF_METRIC_LONG_TAIL) row[q] = upf_long_tail_at_k(items, n, ms.k, &c.pop);
            else if (ms.kind == UPF_METRIC_NOVELTY) row[q] = upf_novelty_at_k(items, n, ms.k, &c.pop);
            else if (ms.kind == UPF_METRIC_COVERAGE) row[q] = DNAN;
            else row[q] = upf_dense_metric(rel, n, ideal, m, ms, p->gain, p->discount);
        }
    }
    st = ctx_finish(&c, out, err);
    if (st == UPF_OK) out->seconds_total = now_seconds() - t0;
done:
    upf_free(score);
    upf_free(cand);
    upf_free(rel);
    upf_free(sc);
    upf_free(items);
    upf_free(relitem);
    upf_free(grade);
    upf_free(ideal);
    ctx_free(&c);
    return st;
}

/* ---- the fast path: kernels ---- */

/* Bounded heap of the K best (score, item) seen so far; the root is the entry
 * that ranks last (lowest score, then highest index). */
static int ranks_after(float sa, int32_t ia, float sb, int32_t ib)
{
    return sa < sb || (sa == sb && ia > ib);
}

static void heap_sift_down(float *hs, int32_t *hi, size_t n, size_t at)
{
    float s = hs[at];
    int32_t it = hi[at];
    for (;;) {
        size_t l = 2 * at + 1, w = at;
        float ws = s;
        int32_t wi = it;
        if (l < n && ranks_after(hs[l], hi[l], ws, wi)) w = l, ws = hs[l], wi = hi[l];
        if (l + 1 < n && ranks_after(hs[l + 1], hi[l + 1], ws, wi)) w = l + 1;
        if (w == at) break;
        hs[at] = hs[w];
        hi[at] = hi[w];
        at = w;
    }
    hs[at] = s;
    hi[at] = it;
}

static void heap_push(float *hs, int32_t *hi, size_t *n, float s, int32_t it)
{
    size_t at = (*n)++;
    while (at) {
        size_t up = (at - 1) / 2;
        if (!ranks_after(s, it, hs[up], hi[up])) break;
        hs[at] = hs[up];
        hi[at] = hi[up];
        at = up;
    }
    hs[at] = s;
    hi[at] = it;
}

/* Offers row[0..n) (items base..base+n, ascending, NaN = excluded) to the
 * heap. Items arrive in ascending index, so a newcomer tied with the root
 * ranks after it: only a strictly higher score enters once the heap is full. */
static void heap_scan(float *hs, int32_t *hi, size_t *hn, size_t K, const float *row, size_t n, int32_t base)
{
    size_t c = 0;
    while (*hn < K && c < n) {
        if (row[c] == row[c]) heap_push(hs, hi, hn, row[c], base + (int32_t)c);
        c++;
    }
    if (*hn < K) return;
    float thr = hs[0];
#if defined(__SSE2__)
    for (; c + 16 <= n; c += 16) {
        __m128 t = _mm_set1_ps(thr);
        __m128 m = _mm_or_ps(_mm_or_ps(_mm_cmpgt_ps(_mm_loadu_ps(row + c), t), _mm_cmpgt_ps(_mm_loadu_ps(row + c + 4), t)),
                             _mm_or_ps(_mm_cmpgt_ps(_mm_loadu_ps(row + c + 8), t), _mm_cmpgt_ps(_mm_loadu_ps(row + c + 12), t)));
        if (!_mm_movemask_ps(m)) continue;
        for (size_t q = c; q < c + 16; q++)
            if (row[q] > thr) {
                hs[0] = row[q];
                hi[0] = base + (int32_t)q;
                heap_sift_down(hs, hi, K, 0);
                thr = hs[0];
            }
    }
#endif
    for (; c < n; c++)
        if (row[c] > thr) {
            hs[0] = row[c];
            hi[0] = base + (int32_t)c;
            heap_sift_down(hs, hi, K, 0);
            thr = hs[0];
        }
}

/* Counts entries of row[0..n) above t and equal to t (NaN counts as neither). */
static void count_above(const float *row, size_t n, float t, uint64_t *gt, uint64_t *eq)
{
    size_t c = 0;
    uint64_t g = 0, e = 0;
#if defined(__SSE2__)
    __m128 tv = _mm_set1_ps(t);
    while (c + 4 <= n) {
        __m128i ga = _mm_setzero_si128(), ea = _mm_setzero_si128();
        size_t stop = c + 4 * 4096 < n ? c + 4 * 4096 : n; /* lanes stay far from overflow */
        for (; c + 4 <= stop; c += 4) {
            __m128 v = _mm_loadu_ps(row + c);
            ga = _mm_sub_epi32(ga, _mm_castps_si128(_mm_cmpgt_ps(v, tv)));
            ea = _mm_sub_epi32(ea, _mm_castps_si128(_mm_cmpeq_ps(v, tv)));
        }
        int32_t lg[4], le[4];
        _mm_storeu_si128((__m128i *)(void *)lg, ga);
        _mm_storeu_si128((__m128i *)(void *)le, ea);
        g += (uint64_t)lg[0] + (uint64_t)lg[1] + (uint64_t)lg[2] + (uint64_t)lg[3];
        e += (uint64_t)le[0] + (uint64_t)le[1] + (uint64_t)le[2] + (uint64_t)le[3];
    }
#endif
    for (; c < n; c++) {
        g += row[c] > t;
        e += row[c] == t;
    }
    *gt += g;
    *eq += e;
}

/* ---- the fast path: workers ---- */

typedef struct rel_slot {
    int32_t item;
    float s;      /* plain score (the reference's) */
    double grade;
    uint64_t gt;  /* non-relevant candidates scoring above */
    uint64_t eqb; /* ... tied and of lower index */
    uint64_t eqa; /* ... tied and of higher index */
} rel_slot;

typedef struct worker {
    eval_ctx *c;
    size_t Ub, Ib, rel_cap;
    atomic_size_t *next_block;
    atomic_int *stop;
    int32_t *users;    /* (Ub) */
    float *A;          /* (Ub, D) gathered user vectors */
    float *C;          /* (Ub, Ib) the score tile */
    float *hs;         /* (Ub, K) heaps */
    int32_t *hi;       /* (Ub, K) */
    size_t *hn;        /* (Ub) */
    int64_t *tpos;     /* (Ub) cursor into the user's train row */
    size_t *roff;      /* (Ub + 1) offsets into rel */
    size_t *rpos;      /* (Ub) cursor into the user's relevant items */
    rel_slot *rel;     /* (rel_cap) */
    scored *top;       /* (K) */
    int32_t *topi;     /* (K) */
    rel_slot *rsort;   /* (max_rel) */
    size_t *hrank;     /* (max(K, max_rel)) */
    double *hgrade;    /* (max(K, max_rel)) */
    double *ideal;     /* (max_rel) */
    uint32_t *cov;     /* (I) */
    double t_score;
    upf_status st;
    upf_err err;
} worker;

static int cmp_rel_rank(const void *a, const void *b)
{
    const rel_slot *x = a, *y = b;
    if (x->s != y->s) return x->s > y->s ? -1 : 1;
    return (x->item > y->item) - (x->item < y->item);
}

static void finish_user(worker *w, size_t r, size_t pos)
{
    eval_ctx *c = w->c;
    const upf_rank_eval_params *p = c->p;
    size_t u = (size_t)w->users[r], K = c->K, n_top = w->hn[r];
    rel_slot *rel = w->rel + w->roff[r];
    size_t m = w->roff[r + 1] - w->roff[r];
    /* top list in rank order */
    for (size_t t = 0; t < n_top; t++) w->top[t].s = w->hs[r * K + t], w->top[t].i = w->hi[r * K + t];
    qsort(w->top, n_top, sizeof *w->top, cmp_rank);
    for (size_t t = 0; t < n_top; t++) {
        int32_t it = w->top[t].i;
        w->topi[t] = it;
        if (w->cov[it] > t + 1) w->cov[it] = (uint32_t)(t + 1);
    }
    for (size_t j = 0; j < m; j++) w->ideal[j] = rel[j].grade;
    qsort(w->ideal, m, sizeof *w->ideal, cmp_double_desc);
    upf_rank_hits h = { 0, w->hrank, w->hgrade, m, w->ideal };
    double auc = DNAN;
    if (c->need_full) {
        size_t n_cand = n_candidates(c, u), n_nonrel = n_cand - m;
        double wrong = 0.0;
        memcpy(w->rsort, rel, m * sizeof *rel);
        qsort(w->rsort, m, sizeof *w->rsort, cmp_rel_rank);
        for (size_t j = 0; j < m; j++) {
            const rel_slot *x = &w->rsort[j];
            w->hrank[j] = 1 + (size_t)x->gt + (size_t)x->eqb + j;
            w->hgrade[j] = x->grade;
            wrong += (double)x->gt + 0.5 * (double)(x->eqb + x->eqa);
        }
        h.n = m;
        auc = upf_auc_from_counts(wrong, m, n_nonrel);
    } else {
        for (size_t t = 0; t < n_top; t++) {
            size_t lo = 0, hi = m;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (rel[mid].item < w->topi[t]) lo = mid + 1;
                else hi = mid;
            }
            if (lo < m && rel[lo].item == w->topi[t]) {
                w->hrank[h.n] = t + 1;
                w->hgrade[h.n] = rel[lo].grade;
                h.n++;
            }
        }
    }
    double *row = c->vals + pos * c->nm;
    for (size_t q = 0; q < c->nm; q++) {
        upf_metric_spec ms = p->metrics[q];
        if (ms.kind == UPF_METRIC_AUC) row[q] = auc;
        else if (ms.kind == UPF_METRIC_LONG_TAIL) row[q] = upf_long_tail_at_k(w->topi, n_top, ms.k, &c->pop);
        else if (ms.kind == UPF_METRIC_NOVELTY) row[q] = upf_novelty_at_k(w->topi, n_top, ms.k, &c->pop);
        else if (ms.kind == UPF_METRIC_COVERAGE) row[q] = DNAN;
        else row[q] = upf_hits_metric(&h, ms, p->gain, p->discount);
    }
}

static upf_status score_tile(worker *w, size_t nu, size_t ib, size_t nb)
{
    const upf_scorer *s = w->c->s;
    double t0 = now_seconds();
    if (s->score_block) {
        upf_status st = s->score_block(s->ctx, w->users, nu, (int32_t)ib, (int32_t)(ib + nb), w->C);
        if (st != UPF_OK) return upf_err_set(&w->err, st, "scorer: score_block failed for items %zu..%zu (%s)", ib, ib + nb - 1, upf_status_str(st));
        for (size_t q = 0; q < nu * nb; q++)
            if (isnan(w->C[q]))
                return upf_err_set(&w->err, UPF_ERR_NUMERIC, "scorer: user %d, item %zu: score is NaN", (int)w->users[q / nb], ib + q % nb);
    } else {
        float beta = 0.0f;
        if (s->item_bias) {
            for (size_t r = 0; r < nu; r++) memcpy(w->C + r * nb, s->item_bias + ib, nb * sizeof *w->C);
            beta = 1.0f;
        } else if (!s->dim) {
            memset(w->C, 0, nu * nb * sizeof *w->C);
        }
        if (s->dim)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nu, (int)nb, (int)s->dim, 1.0f, w->A, (int)s->dim,
                        s->item_vecs + ib * s->dim, (int)s->dim, beta, w->C, (int)nb);
    }
    w->t_score += now_seconds() - t0;
    return UPF_OK;
}

static upf_status do_block(worker *w, size_t b)
{
    eval_ctx *c = w->c;
    const upf_scorer *s = c->s;
    const upf_csr *tr = c->train;
    size_t first = b * w->Ub, nu = c->n_ranked - first < w->Ub ? c->n_ranked - first : w->Ub, K = c->K;
    upf_status st;
    w->roff[0] = 0;
    for (size_t r = 0; r < nu; r++) {
        size_t u = (size_t)c->ranked[first + r];
        w->users[r] = (int32_t)u;
        if (s->dim && !s->score_block) memcpy(w->A + r * s->dim, s->user_vecs + u * s->dim, s->dim * sizeof *w->A);
        w->hn[r] = 0;
        w->tpos[r] = c->p->exclude_train && tr->ptr ? tr->ptr[u] : 0;
        w->rpos[r] = 0;
        /* relevant candidates, straight into the slots */
        const upf_csr *te = c->test;
        size_t m = 0;
        int64_t ta = tr->ptr ? tr->ptr[u] : 0, tb = tr->ptr ? tr->ptr[u + 1] : 0;
        rel_slot *rel = w->rel + w->roff[r];
        for (int64_t e = te->ptr[u]; e < te->ptr[u + 1]; e++) {
            int32_t j = te->idx[e];
            double g = te->val ? (double)te->val[e] : 1.0;
            if (!(g > 0)) continue;
            if (c->p->exclude_train) {
                while (ta < tb && tr->idx[ta] < j) ta++;
                if (ta < tb && tr->idx[ta] == j) continue;
            }
            rel_slot *x = &rel[m++];
            x->item = j;
            x->grade = c->p->graded ? g : 1.0;
            x->gt = x->eqb = x->eqa = 0;
            x->s = 0.0f;
            if (c->need_full) {
                if (s->score_block) {
                    if ((st = callback_scores(s, (int32_t)u, (size_t)j, (size_t)j + 1, &x->s, &w->err)) != UPF_OK) return st;
                } else {
                    x->s = plain_score(s, u, (size_t)j);
                }
            }
        }
        w->roff[r + 1] = w->roff[r] + m;
    }
    for (size_t ib = 0; ib < c->n_items; ib += w->Ib) {
        size_t nb = c->n_items - ib < w->Ib ? c->n_items - ib : w->Ib, ie = ib + nb;
        if ((st = score_tile(w, nu, ib, nb)) != UPF_OK) return st;
        for (size_t r = 0; r < nu; r++) {
            float *row = w->C + r * nb;
            size_t u = (size_t)w->users[r];
            if (c->p->exclude_train && tr->ptr) {
                int64_t te_ = tr->ptr[u + 1];
                while (w->tpos[r] < te_ && (size_t)tr->idx[w->tpos[r]] < ie) row[(size_t)tr->idx[w->tpos[r]++] - ib] = NAN;
            }
            if (K) heap_scan(w->hs + r * K, w->hi + r * K, &w->hn[r], K, row, nb, (int32_t)ib);
            if (!c->need_full) continue;
            rel_slot *rel = w->rel + w->roff[r];
            size_t m = w->roff[r + 1] - w->roff[r];
            /* relevant items leave the tile so the counts see non-relevant ones only */
            while (w->rpos[r] < m && (size_t)rel[w->rpos[r]].item < ie) row[(size_t)rel[w->rpos[r]++].item - ib] = NAN;
            for (size_t j = 0; j < m; j++) {
                rel_slot *x = &rel[j];
                size_t it = (size_t)x->item;
                if (it >= ie) count_above(row, nb, x->s, &x->gt, &x->eqb);
                else if (it < ib) count_above(row, nb, x->s, &x->gt, &x->eqa);
                else {
                    count_above(row, it - ib, x->s, &x->gt, &x->eqb);
                    count_above(row + (it - ib) + 1, ie - it - 1, x->s, &x->gt, &x->eqa);
                }
            }
        }
    }
    for (size_t r = 0; r < nu; r++) finish_user(w, r, first + r);
    return UPF_OK;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    size_t n_blocks = (w->c->n_ranked + w->Ub - 1) / w->Ub;
    for (;;) {
        if (atomic_load(w->stop)) break;
        size_t b = atomic_fetch_add(w->next_block, 1);
        if (b >= n_blocks) break;
        if (upf_interrupted()) {
            w->st = upf_err_set(&w->err, UPF_ERR_INTERRUPTED, "rank eval: interrupted after %zu of %zu user blocks", b, n_blocks);
        } else {
            w->st = do_block(w, b);
        }
        if (w->st != UPF_OK) {
            atomic_store(w->stop, 1);
            break;
        }
    }
    return NULL;
}

static void worker_free(worker *w)
{
    upf_free(w->users);
    upf_free_aligned(w->A);
    upf_free_aligned(w->C);
    upf_free(w->hs);
    upf_free(w->hi);
    upf_free(w->hn);
    upf_free(w->tpos);
    upf_free(w->roff);
    upf_free(w->rpos);
    upf_free(w->rel);
    upf_free(w->top);
    upf_free(w->topi);
    upf_free(w->rsort);
    upf_free(w->hrank);
    upf_free(w->hgrade);
    upf_free(w->ideal);
    upf_free(w->cov);
}

static void *alloc_n(size_t n, size_t size)
{
    return upf_calloc(n ? n : 1, size);
}

static upf_status worker_alloc(worker *w, eval_ctx *c, size_t Ub, size_t Ib, size_t rel_cap, upf_err *err)
{
    size_t K = c->K, D = c->s->score_block ? 0 : c->s->dim, a_n, c_n, h_n, fin = K > c->max_rel ? K : c->max_rel;
    if (upf_mul_size(Ub, D ? D : 1, &a_n) || upf_mul_size(a_n, sizeof(float), &a_n) || upf_mul_size(Ub, Ib, &c_n) ||
        upf_mul_size(c_n, sizeof(float), &c_n) || upf_mul_size(Ub, K ? K : 1, &h_n))
        return upf_err_set(err, UPF_ERR_NOMEM, "rank eval: tile %zu x %zu overflows", Ub, Ib);
    w->c = c;
    w->Ub = Ub;
    w->Ib = Ib;
    w->rel_cap = rel_cap;
    w->users = alloc_n(Ub, sizeof *w->users);
    w->A = upf_malloc_aligned(a_n);
    w->C = upf_malloc_aligned(c_n);
    w->hs = alloc_n(h_n, sizeof *w->hs);
    w->hi = alloc_n(h_n, sizeof *w->hi);
    w->hn = alloc_n(Ub, sizeof *w->hn);
    w->tpos = alloc_n(Ub, sizeof *w->tpos);
    w->roff = alloc_n(Ub + 1, sizeof *w->roff);
    w->rpos = alloc_n(Ub, sizeof *w->rpos);
    w->rel = alloc_n(rel_cap, sizeof *w->rel);
    w->top = alloc_n(K, sizeof *w->top);
    w->topi = alloc_n(K, sizeof *w->topi);
    w->rsort = alloc_n(c->max_rel, sizeof *w->rsort);
    w->hrank = alloc_n(fin, sizeof *w->hrank);
    w->hgrade = alloc_n(fin, sizeof *w->hgrade);
    w->ideal = alloc_n(c->max_rel, sizeof *w->ideal);
    w->cov = upf_malloc((c->n_items ? c->n_items : 1) * sizeof *w->cov);
    if (!w->users || !w->A || !w->C || !w->hs || !w->hi || !w->hn || !w->tpos || !w->roff || !w->rpos || !w->rel ||
        !w->top || !w->topi || !w->rsort || !w->hrank || !w->hgrade || !w->ideal || !w->cov)
        return upf_err_set(err, UPF_ERR_NOMEM, "rank eval: out of memory for a %zu x %zu tile", Ub, Ib);
    for (size_t i = 0; i < c->n_items; i++) w->cov[i] = UINT32_MAX;
    return UPF_OK;
}

upf_status upf_rank_evaluate(const upf_scorer *s, const upf_csr *train, const upf_csr *test,
                             const upf_rank_eval_params *p, upf_rank_eval_result *out, upf_err *err)
{
    eval_ctx c;
    upf_status st;
    worker *ws = NULL;
    pthread_t *tids = NULL;
    size_t n_workers = 0, n_started = 0;
    double t0 = now_seconds(), t_score = 0.0;
#if defined(OPENBLAS_VERSION)
    int blas_threads = openblas_get_num_threads();
#endif
    memset(out, 0, sizeof *out);
    if ((st = ctx_setup(&c, s, train, test, p, err)) != UPF_OK) return st;
    size_t Ub = p->block_users ? p->block_users : DEFAULT_BLOCK_USERS;
    size_t Ib = p->block_items ? p->block_items : DEFAULT_BLOCK_ITEMS;
    if (Ib > c.n_items) Ib = c.n_items ? c.n_items : 1;
    size_t n_blocks = (c.n_ranked + Ub - 1) / Ub;
    /* the most relevant slots one block needs */
    size_t rel_cap = 1;
    for (size_t b = 0; b < n_blocks; b++) {
        size_t sum = 0;
        for (size_t r = b * Ub; r < c.n_ranked && r < (b + 1) * Ub; r++) sum += relevant_of(&c, (size_t)c.ranked[r], NULL, NULL);
        if (sum > rel_cap) rel_cap = sum;
    }
    n_workers = p->threads < n_blocks ? p->threads : (n_blocks ? n_blocks : 1);
    ws = upf_calloc(n_workers, sizeof *ws);
    tids = upf_calloc(n_workers, sizeof *tids);
    if (!ws || !tids) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "rank eval: out of memory for %zu workers", n_workers);
        goto done;
    }
    atomic_size_t next_block;
    atomic_int stop;
    atomic_init(&next_block, 0);
    atomic_init(&stop, 0);
    for (size_t t = 0; t < n_workers; t++) {
        if ((st = worker_alloc(&ws[t], &c, Ub, Ib, rel_cap, err)) != UPF_OK) goto done;
        ws[t].next_block = &next_block;
        ws[t].stop = &stop;
    }
#if defined(OPENBLAS_VERSION)
    openblas_set_num_threads(1);
#endif
    if (n_workers == 1) {
        worker_main(&ws[0]);
    } else {
        for (; n_started < n_workers; n_started++)
            if (pthread_create(&tids[n_started], NULL, worker_main, &ws[n_started]) != 0) {
                atomic_store(&stop, 1);
                st = upf_err_set(err, UPF_ERR_IO, "rank eval: could not start thread %zu of %zu", n_started + 1, n_workers);
                break;
            }
        for (size_t t = 0; t < n_started; t++) pthread_join(tids[t], NULL);
    }
#if defined(OPENBLAS_VERSION)
    openblas_set_num_threads(blas_threads);
#endif
    if (st != UPF_OK) goto done;
    for (size_t t = 0; t < n_workers; t++)
        if (ws[t].st != UPF_OK) {
            st = ws[t].st;
            if (err) *err = ws[t].err;
            goto done;
        }
    for (size_t t = 0; t < n_workers; t++) {
        t_score += ws[t].t_score;
        for (size_t i = 0; i < c.n_items; i++)
            if (ws[t].cov[i] < c.cov[i]) c.cov[i] = ws[t].cov[i];
    }
    if ((st = ctx_finish(&c, out, err)) != UPF_OK) goto done;
    out->seconds_scoring = t_score / (double)n_workers;
    out->seconds_total = now_seconds() - t0;
done:
    for (size_t t = 0; ws && t < n_workers; t++) worker_free(&ws[t]);
    upf_free(ws);
    upf_free(tids);
    ctx_free(&c);
    return st;
}
