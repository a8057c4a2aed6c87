/* ope.c - off-policy estimates of a ranking policy's value from logged
 * impressions (item-position IPS, per-position self-normalized IPS, direct
 * method, doubly robust) with bootstrap intervals, and the scorer glue
 * (contexts, candidates, top-P slates, cross-fitted reward table).
 *
 * Not here: the definitions (ope.h states them), reading logs, training.
 * Entry points: upf_ope_estimate, upf_ope_eval_scorer, upf_ope_contexts.
 */
#include "ope.h"

#include <math.h>
#include <string.h>

#include "../model/rng.h"
#include "uplift_metrics.h"

#define SCORE_BLOCK_USERS 256

upf_ope_params upf_ope_params_default(void)
{
    upf_ope_params p;
    memset(&p, 0, sizeof p);
    p.clip = 0.0;
    p.level = 0.95;
    p.n_boot = 500;
    p.seed = 1;
    p.folds = 2;
    p.prior = 10.0;
    return p;
}

static void figure_nan(upf_ope_figure *f) { f->value = f->lo = f->hi = f->se = (double)NAN; }

static void result_nan(upf_ope_result *out)
{
    memset(out, 0, sizeof *out);
    figure_nan(&out->ips);
    figure_nan(&out->snips);
    figure_nan(&out->dm);
    figure_nan(&out->dr);
    figure_nan(&out->logged);
}

static upf_status check_params(const upf_ope_params *p, upf_err *err)
{
    if (!(p->clip >= 0.0 && p->clip <= 1.0))
        return upf_err_set(err, UPF_ERR_ARG, "ope: clip: expected a propensity floor in [0, 1], got %g", p->clip);
    if (!(p->level > 0.0 && p->level < 1.0))
        return upf_err_set(err, UPF_ERR_ARG, "ope: level: expected a value in (0, 1), got %g", p->level);
    if (p->folds < 2) return upf_err_set(err, UPF_ERR_ARG, "ope: folds: expected >= 2, got %zu", p->folds);
    if (!(p->prior >= 0.0 && isfinite(p->prior)))
        return upf_err_set(err, UPF_ERR_ARG, "ope: prior: expected a finite value >= 0, got %g", p->prior);
    return UPF_OK;
}

/* Per-context terms, shared by the point estimates and every replicate. */
typedef struct terms {
    size_t n_ctx, P;
    double *ips, *dr, *dm, *logged; /* (n_ctx) */
    double *a, *b;                  /* (n_ctx, P) sum of w y and of w at position k */
    uint8_t *h;                     /* (n_ctx, P) context logs position k */
} terms;

/* Weighted means under multiplicities m (NULL: all 1): ips, snips, dm, dr, logged. */
static void compute(const terms *t, const double *m, int with_dr, double *v /* (5) */)
{
    double M = 0.0, ips = 0.0, dr = 0.0, dm = 0.0, lg = 0.0;
    double A[UPF_OPE_MAX_POSITIONS] = { 0 }, B[UPF_OPE_MAX_POSITIONS] = { 0 }, H[UPF_OPE_MAX_POSITIONS] = { 0 };
    for (size_t c = 0; c < t->n_ctx; c++) {
        double w = m ? m[c] : 1.0;
        if (w == 0.0) continue;
        M += w;
        ips += w * t->ips[c];
        lg += w * t->logged[c];
        if (with_dr) {
            dr += w * t->dr[c];
            dm += w * t->dm[c];
        }
        for (size_t k = 0; k < t->P; k++) {
            A[k] += w * t->a[c * t->P + k];
            B[k] += w * t->b[c * t->P + k];
            H[k] += w * t->h[c * t->P + k];
        }
    }
    double sn = 0.0;
    for (size_t k = 0; k < t->P; k++)
        if (B[k] > 0.0) sn += (H[k] / M) * (A[k] / B[k]);
    v[0] = ips / M;
    v[1] = sn;
    v[2] = with_dr ? dm / M : (double)NAN;
    v[3] = with_dr ? dr / M : (double)NAN;
    v[4] = lg / M;
}

static double clt_se(const double *x, size_t n)
{
    if (n < 2) return (double)NAN;
    double mean = 0.0, ss = 0.0;
    for (size_t i = 0; i < n; i++) mean += x[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++) ss += (x[i] - mean) * (x[i] - mean);
    return sqrt(ss / (double)(n - 1) / (double)n);
}

static double sd_of(const double *x, size_t n)
{
    double se = clt_se(x, n);
    return se * sqrt((double)n);
}

static upf_status check_input(const upf_ope_input *in, size_t *P_out, upf_err *err)
{
    if (!in->ctx_start || (in->n && (!in->position || !in->reward || !in->propensity || !in->target)))
        return upf_err_set(err, UPF_ERR_ARG, "ope: missing input arrays");
    if ((in->qhat == NULL) != (in->dm == NULL))
        return upf_err_set(err, UPF_ERR_ARG, "ope: qhat and dm go together (got only one)");
    if (in->n_ctx == 0 || in->n == 0)
        return upf_err_set(err, UPF_ERR_DATA, "ope: the log is empty (expected at least one context, got %zu rows)",
                           in->n);
    if (in->ctx_start[0] != 0 || in->ctx_start[in->n_ctx] != in->n)
        return upf_err_set(err, UPF_ERR_ARG, "ope: contexts must cover rows 0..%zu", in->n);
    for (size_t c = 0; c < in->n_ctx; c++)
        if (in->ctx_start[c + 1] < in->ctx_start[c])
            return upf_err_set(err, UPF_ERR_ARG, "ope: context %zu ends before it starts", c);
    size_t P = 0;
    for (size_t r = 0; r < in->n; r++) {
        double mu = (double)in->propensity[r], pi = in->target[r];
        if (!(mu > 0.0 && mu <= 1.0))
            return upf_err_set(err, UPF_ERR_DATA,
                               "ope: row %zu: propensity expected in (0, 1], got %g (the logging policy could not "
                               "have shown this item; clipping does not repair a corrupt log)",
                               r, mu);
        if (!(pi >= 0.0 && pi <= 1.0))
            return upf_err_set(err, UPF_ERR_DATA, "ope: row %zu: target probability expected in [0, 1], got %g", r,
                               pi);
        if (!isfinite(in->reward[r]))
            return upf_err_set(err, UPF_ERR_DATA, "ope: row %zu: reward is not finite", r);
        if (in->qhat && !isfinite(in->qhat[r]))
            return upf_err_set(err, UPF_ERR_DATA, "ope: row %zu: reward model value is not finite", r);
        if (in->position[r] < 0 || in->position[r] >= UPF_OPE_MAX_POSITIONS)
            return upf_err_set(err, UPF_ERR_DATA, "ope: row %zu: position expected in [0, %d), got %d", r,
                               UPF_OPE_MAX_POSITIONS, (int)in->position[r]);
        if ((size_t)in->position[r] + 1 > P) P = (size_t)in->position[r] + 1;
    }
    if (in->dm)
        for (size_t c = 0; c < in->n_ctx; c++)
            if (!isfinite(in->dm[c]))
                return upf_err_set(err, UPF_ERR_DATA, "ope: context %zu: direct-method value is not finite", c);
    *P_out = P;
    return UPF_OK;
}

upf_status upf_ope_estimate(const upf_ope_input *in, const upf_ope_params *p, upf_ope_result *out, upf_err *err)
{
    result_nan(out);
    upf_status st = check_params(p, err);
    size_t P = 0, n = in->n_ctx, nP = 0;
    if (!st) st = check_input(in, &P, err);
    if (st) return st;
    terms t;
    memset(&t, 0, sizeof t);
    double *m = NULL, *rep = NULL;
    int with_dr = in->qhat != NULL;
    t.n_ctx = n;
    t.P = P;
    if (upf_mul_size(n, P, &nP)) return upf_err_set(err, UPF_ERR_NOMEM, "ope: %zu contexts: size overflow", n);
    t.ips = upf_calloc(n, sizeof *t.ips);
    t.dr = upf_calloc(n, sizeof *t.dr);
    t.dm = upf_calloc(n, sizeof *t.dm);
    t.logged = upf_calloc(n, sizeof *t.logged);
    t.a = upf_calloc(nP, sizeof *t.a);
    t.b = upf_calloc(nP, sizeof *t.b);
    t.h = upf_calloc(nP, 1);
    if (!t.ips || !t.dr || !t.dm || !t.logged || !t.a || !t.b || !t.h) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "ope: out of memory (%zu contexts)", n);
        goto done;
    }
    double sw = 0.0, sw2 = 0.0;
    size_t matched = 0, clipped = 0;
    double max_w = 0.0;
    for (size_t c = 0; c < n; c++) {
        double ips = 0.0, corr = 0.0, lg = 0.0;
        for (size_t r = in->ctx_start[c]; r < in->ctx_start[c + 1]; r++) {
            double y = (double)in->reward[r], mu = (double)in->propensity[r], pi = in->target[r];
            size_t k = (size_t)in->position[r];
            lg += y;
            t.h[c * P + k] = 1;
            if (pi <= 0.0) continue;
            matched++;
            if (mu < p->clip) {
                mu = p->clip;
                clipped++;
            }
            double w = pi / mu;
            if (w > max_w) max_w = w;
            sw += w;
            sw2 += w * w;
            ips += w * y;
            t.a[c * P + k] += w * y;
            t.b[c * P + k] += w;
            if (with_dr) corr += w * (y - in->qhat[r]);
        }
        t.ips[c] = ips;
        t.logged[c] = lg;
        if (with_dr) {
            t.dm[c] = in->dm[c];
            t.dr[c] = in->dm[c] + corr;
        }
    }
    double v[5];
    compute(&t, NULL, with_dr, v);
    out->ips.value = v[0];
    out->snips.value = v[1];
    out->dm.value = v[2];
    out->dr.value = v[3];
    out->logged.value = v[4];
    out->ips.se = clt_se(t.ips, n);
    out->logged.se = clt_se(t.logged, n);
    if (with_dr) {
        out->dm.se = clt_se(t.dm, n);
        out->dr.se = clt_se(t.dr, n);
    }
    out->n_rows = in->n;
    out->n_contexts = n;
    out->n_positions = P;
    out->n_matched = matched;
    out->n_clipped = clipped;
    out->max_weight = max_w;
    out->ess = sw2 > 0.0 ? sw * sw / sw2 : 0.0;

    if (p->n_boot > 0) {
        size_t B = p->n_boot, B5;
        if (upf_mul_size(B, 5, &B5)) {
            st = upf_err_set(err, UPF_ERR_NOMEM, "ope: %zu resamples: size overflow", B);
            goto done;
        }
        m = upf_malloc(n * sizeof *m);
        rep = upf_malloc(B5 * sizeof *rep);
        if (!m || !rep) {
            st = upf_err_set(err, UPF_ERR_NOMEM, "ope: out of memory (bootstrap)");
            goto done;
        }
        upf_rng rng;
        upf_rng_seed(&rng, p->seed, 0x09e);
        for (size_t b = 0; b < B; b++) {
            if ((b & 31) == 0 && upf_interrupted()) {
                st = upf_err_set(err, UPF_ERR_INTERRUPTED, "ope: interrupted in the bootstrap");
                goto done;
            }
            memset(m, 0, n * sizeof *m);
            for (size_t i = 0; i < n; i++) m[upf_rng_below64(&rng, n)] += 1.0;
            compute(&t, m, with_dr, v);
            for (int j = 0; j < 5; j++) rep[(size_t)j * B + b] = v[j];
        }
        upf_ope_figure *f[5] = { &out->ips, &out->snips, &out->dm, &out->dr, &out->logged };
        for (int j = 0; j < 5; j++) {
            if (!with_dr && (j == 2 || j == 3)) continue;
            double *x = rep + (size_t)j * B;
            if (j == 1) out->snips.se = sd_of(x, B);
            upf_percentile_ci(x, B, p->level, &f[j]->lo, &f[j]->hi);
        }
    }
done:
    upf_free(t.ips);
    upf_free(t.dr);
    upf_free(t.dm);
    upf_free(t.logged);
    upf_free(t.a);
    upf_free(t.b);
    upf_free(t.h);
    upf_free(m);
    upf_free(rep);
    if (st) result_nan(out);
    return st;
}

/* ---- scorer glue ---- */

upf_status upf_ope_contexts(const upf_impressions *log, size_t **starts, size_t *n_ctx, upf_err *err)
{
    *starts = NULL;
    *n_ctx = 0;
    size_t n = log->n, k = 0;
    size_t *s = upf_malloc((n + 1) * sizeof *s);
    if (!s) return upf_err_set(err, UPF_ERR_NOMEM, "ope: out of memory (%zu rows)", n);
    for (size_t r = 0; r < n; r++)
        if (r == 0 || log->user[r] != log->user[r - 1] || log->time[r] != log->time[r - 1]) s[k++] = r;
    s[k] = n;
    *starts = s;
    *n_ctx = k;
    return UPF_OK;
}

/* scores (n_rows_u, n_cand) of the distinct context users for the candidates */
static upf_status score_users(const upf_scorer *s, const int32_t *users, size_t n_u, const int32_t *cand,
                              size_t n_cand, float *out, upf_err *err)
{
    if (!s->score_block) {
        for (size_t i = 0; i < n_u; i++)
            for (size_t j = 0; j < n_cand; j++) {
                size_t it = (size_t)cand[j];
                double x = s->item_bias ? (double)s->item_bias[it] : 0.0;
                if (s->dim) {
                    const float *uv = s->user_vecs + (size_t)users[i] * s->dim, *iv = s->item_vecs + it * s->dim;
                    for (size_t d = 0; d < s->dim; d++) x += (double)uv[d] * (double)iv[d];
                }
                out[i * n_cand + j] = (float)x;
            }
        return UPF_OK;
    }
    float buf[SCORE_BLOCK_USERS];
    for (size_t u0 = 0; u0 < n_u; u0 += SCORE_BLOCK_USERS) {
        size_t nb = n_u - u0 < SCORE_BLOCK_USERS ? n_u - u0 : SCORE_BLOCK_USERS;
        if (upf_interrupted()) return upf_err_set(err, UPF_ERR_INTERRUPTED, "ope: interrupted while scoring");
        for (size_t j = 0; j < n_cand; j++) {
            upf_status st = s->score_block(s->ctx, users + u0, nb, cand[j], cand[j] + 1, buf);
            if (st) return upf_err_set(err, st, "ope: the scorer failed (%s)", upf_status_str(st));
            for (size_t i = 0; i < nb; i++) out[(u0 + i) * n_cand + j] = buf[i];
        }
    }
    return UPF_OK;
}

/* qhat(a, k) from the counts of every fold but f */
static double qtab(const double *clk, const double *shw, size_t folds, size_t f, size_t n_cand, size_t P, size_t j,
                   size_t k, double prior)
{
    size_t F = folds, cells = n_cand * P;
    double c = 0.0, s = 0.0, ck = 0.0, sk = 0.0;
    for (size_t g = 0; g < F; g++) {
        if (g == f) continue;
        c += clk[g * cells + j * P + k];
        s += shw[g * cells + j * P + k];
        for (size_t a = 0; a < n_cand; a++) {
            ck += clk[g * cells + a * P + k];
            sk += shw[g * cells + a * P + k];
        }
    }
    double ctr = sk > 0.0 ? ck / sk : 0.0;
    return s + prior > 0.0 ? (c + prior * ctr) / (s + prior) : ctr;
}

/* the log's checks shared by the slates and the estimates; *P = positions */
static upf_status check_log(const upf_impressions *log, const upf_scorer *s, size_t n_users, size_t n_items,
                            size_t *P, upf_err *err)
{
    size_t n = log->n;
    *P = 0;
    if (n == 0) return upf_err_set(err, UPF_ERR_DATA, "ope: the log has no impressions");
    if (!log->user || !log->time || !log->item || !log->position || !log->reward || !log->propensity)
        return upf_err_set(err, UPF_ERR_ARG, "ope: the log lacks an array");
    for (size_t r = 0; r < n; r++) {
        if (log->item[r] < 0 || (size_t)log->item[r] >= n_items)
            return upf_err_set(err, UPF_ERR_DATA, "ope: impression %zu: item expected in [0, %zu), got %d", r, n_items,
                               (int)log->item[r]);
        if (log->user[r] < -1 || (log->user[r] >= 0 && (size_t)log->user[r] >= n_users))
            return upf_err_set(err, UPF_ERR_DATA, "ope: impression %zu: user expected -1 or in [0, %zu), got %d", r,
                               n_users, (int)log->user[r]);
        if (log->user[r] < 0 && (s->score_block || s->dim))
            return upf_err_set(err, UPF_ERR_DATA,
                               "ope: impression %zu has no user, and the policy is personalized (only an item-only "
                               "scorer can rank anonymous contexts)",
                               r);
        if (log->position[r] < 0 || log->position[r] >= UPF_OPE_MAX_POSITIONS)
            return upf_err_set(err, UPF_ERR_DATA, "ope: impression %zu: position expected in [0, %d), got %d", r,
                               UPF_OPE_MAX_POSITIONS, (int)log->position[r]);
        if ((size_t)log->position[r] + 1 > *P) *P = (size_t)log->position[r] + 1;
    }
    return UPF_OK;
}

upf_status upf_ope_slates(const upf_impressions *log, const upf_scorer *s, size_t n_users, size_t n_items,
                          int32_t **slates, size_t *n_ctx_out, size_t *P_out, upf_err *err)
{
    *slates = NULL;
    *n_ctx_out = 0;
    *P_out = 0;
    size_t n = log->n, n_ctx = 0, n_cand = 0, n_u = 0, P = 0;
    size_t *starts = NULL;
    int32_t *mark = NULL, *cand = NULL, *users = NULL, *urow = NULL, *slate = NULL;
    float *scores = NULL;
    upf_status st = check_log(log, s, n_users, n_items, &P, err);
    if (st) return st;
    if ((st = upf_ope_contexts(log, &starts, &n_ctx, err))) return st;
    mark = upf_calloc(n_items ? n_items : 1, sizeof *mark);
    cand = upf_malloc((n_items ? n_items : 1) * sizeof *cand);
    urow = upf_malloc((n_users ? n_users : 1) * sizeof *urow);
    users = upf_malloc(n_ctx * sizeof *users);
    if (!mark || !cand || !urow || !users) goto nomem;
    for (size_t r = 0; r < n; r++) mark[log->item[r]] = 1;
    for (size_t i = 0; i < n_items; i++)
        if (mark[i]) cand[n_cand++] = (int32_t)i;
    /* distinct users of the contexts (anonymous contexts use row 0 of an item-only scorer) */
    for (size_t u = 0; u < (n_users ? n_users : 1); u++) urow[u] = -1;
    for (size_t c = 0; c < n_ctx; c++) {
        int32_t u = log->user[starts[c]];
        if (u < 0) u = 0;
        if (urow[u] < 0) {
            urow[u] = (int32_t)n_u;
            users[n_u++] = u;
        }
    }
    size_t nscore, nslate;
    if (upf_mul_size(n_u, n_cand, &nscore) || upf_mul_size(n_ctx, P, &nslate)) goto nomem;
    scores = upf_malloc(nscore * sizeof *scores);
    slate = upf_malloc(nslate * sizeof *slate);
    if (!scores || !slate) goto nomem;
    if ((st = score_users(s, users, n_u, cand, n_cand, scores, err))) goto done;
    for (size_t i = 0; i < nscore; i++)
        if (!isfinite(scores[i])) {
            st = upf_err_set(err, UPF_ERR_NUMERIC, "ope: the scorer gave a non-finite score (user %d, item %d)",
                             (int)users[i / n_cand], (int)cand[i % n_cand]);
            goto done;
        }
    /* top P candidates, ties by item index (candidates ascend) */
    for (size_t c = 0; c < n_ctx; c++) {
        int32_t u = log->user[starts[c]];
        const float *sc = scores + (size_t)urow[u < 0 ? 0 : u] * n_cand;
        int32_t *sl = slate + c * P;
        for (size_t k = 0; k < P; k++) {
            int32_t best = -1;
            for (size_t j = 0; j < n_cand; j++) {
                int used = 0;
                for (size_t l = 0; l < k && !used; l++) used = sl[l] == cand[j];
                if (!used && (best < 0 || sc[j] > sc[best])) best = (int32_t)j;
            }
            sl[k] = best < 0 ? -1 : cand[best]; /* -1 when fewer candidates than positions */
        }
    }
    *slates = slate;
    slate = NULL;
    *n_ctx_out = n_ctx;
    *P_out = P;
    goto done;
nomem:
    st = upf_err_set(err, UPF_ERR_NOMEM, "ope: out of memory (%zu impressions)", n);
done:
    upf_free(starts);
    upf_free(mark);
    upf_free(cand);
    upf_free(users);
    upf_free(urow);
    upf_free(slate);
    upf_free(scores);
    return st;
}

upf_status upf_ope_eval_scorer(const upf_impressions *log, const upf_scorer *s, size_t n_users, size_t n_items,
                               const upf_ope_params *p, upf_ope_result *out, upf_err *err)
{
    result_nan(out);
    upf_status st = check_params(p, err);
    if (st) return st;
    size_t n = log->n, n_ctx = 0, n_ctx2 = 0, n_cand = 0, P = 0, F = p->folds;
    size_t *starts = NULL;
    int32_t *cidx = NULL, *slate = NULL;
    double *target = NULL, *qhat = NULL, *dm = NULL, *clk = NULL, *shw = NULL, *qt = NULL;
    if ((st = upf_ope_slates(log, s, n_users, n_items, &slate, &n_ctx, &P, err))) return st;
    if ((st = upf_ope_contexts(log, &starts, &n_ctx2, err))) goto done;
    cidx = upf_malloc((n_items ? n_items : 1) * sizeof *cidx);
    if (!cidx) goto nomem;
    for (size_t i = 0; i < n_items; i++) cidx[i] = -1;
    for (size_t r = 0; r < n; r++) cidx[log->item[r]] = 0;
    for (size_t i = 0; i < n_items; i++)
        if (cidx[i] == 0) cidx[i] = (int32_t)n_cand++;
    size_t cells = n_cand * P, ncells; /* n_cand * P <= n_items * 64 */
    if (upf_mul_size(cells, F, &ncells)) goto nomem;
    target = upf_malloc(n * sizeof *target);
    qhat = upf_malloc(n * sizeof *qhat);
    dm = upf_calloc(n_ctx, sizeof *dm);
    clk = upf_calloc(ncells, sizeof *clk);
    shw = upf_calloc(ncells, sizeof *shw);
    qt = upf_malloc(ncells * sizeof *qt);
    if (!target || !qhat || !dm || !clk || !shw || !qt) goto nomem;
    /* reward table per fold, then cross-fitted qhat and dm */
    for (size_t c = 0; c < n_ctx; c++)
        for (size_t r = starts[c]; r < starts[c + 1]; r++) {
            size_t cell = (c % F) * cells + (size_t)cidx[log->item[r]] * P + (size_t)log->position[r];
            clk[cell] += (double)log->reward[r];
            shw[cell] += 1.0;
        }
    for (size_t f = 0; f < F; f++)
        for (size_t j = 0; j < n_cand; j++)
            for (size_t k = 0; k < P; k++) qt[f * cells + j * P + k] = qtab(clk, shw, F, f, n_cand, P, j, k, p->prior);
    for (size_t c = 0; c < n_ctx; c++) {
        const int32_t *sl = slate + c * P;
        const double *q = qt + (c % F) * cells;
        uint64_t seen = 0;
        for (size_t r = starts[c]; r < starts[c + 1]; r++) {
            size_t k = (size_t)log->position[r], j = (size_t)cidx[log->item[r]];
            target[r] = sl[k] == log->item[r] ? 1.0 : 0.0;
            qhat[r] = q[j * P + k];
            if (!(seen >> k & 1u) && sl[k] >= 0) dm[c] += q[(size_t)cidx[sl[k]] * P + k];
            seen |= (uint64_t)1 << k;
        }
    }
    upf_ope_input in = { n, n_ctx, starts, log->position, log->reward, log->propensity, target, qhat, dm };
    st = upf_ope_estimate(&in, p, out, err);
    goto done;
nomem:
    st = upf_err_set(err, UPF_ERR_NOMEM, "ope: out of memory (%zu impressions)", n);
done:
    upf_free(starts);
    upf_free(cidx);
    upf_free(slate);
    upf_free(target);
    upf_free(qhat);
    upf_free(dm);
    upf_free(clk);
    upf_free(shw);
    upf_free(qt);
    if (st) result_nan(out);
    return st;
}
