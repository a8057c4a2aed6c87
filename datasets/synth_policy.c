/* synth_policy.c - logged impressions for off-policy evaluation: a fixed set
 * of candidate items, a stochastic logging policy (Plackett-Luce on flattened
 * popularity, sampled without replacement into positions 0..P-1) with its exact
 * per-position propensities, and clicks from a position-based model driven by
 * the users' true affinities.
 *
 * Not here: the user histories (synth_events.c). Formulas: SYNTH.md
 * "Impressions". Entry points: syn_impressions_build, syn_pl_marginals.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "synth_internal.h"

#define CONTEXT_TRIES 64

void syn_pl_marginals(const double *v, size_t n, size_t n_pos, double *out)
{
    double V = 0.0;
    for (size_t j = 0; j < n; j++) V += v[j];
    for (size_t j = 0; j < n; j++) {
        double p0 = v[j] / V, p1 = 0.0, p2 = 0.0;
        if (n_pos > 1)
            for (size_t i = 0; i < n; i++) {
                if (i == j) continue;
                double first = v[i] / V, rest = V - v[i];
                p1 += first * v[j] / rest;
                if (n_pos > 2)
                    for (size_t l = 0; l < n; l++) {
                        if (l == i || l == j) continue;
                        p2 += first * (v[l] / rest) * v[j] / (rest - v[l]);
                    }
            }
        out[j * n_pos] = p0;
        if (n_pos > 1) out[j * n_pos + 1] = p1;
        if (n_pos > 2) out[j * n_pos + 2] = p2;
    }
}

typedef struct ctx_key {
    int64_t time;
    int32_t user;
    uint32_t order;
} ctx_key;

static int cmp_ctx(const void *a, const void *b)
{
    const ctx_key *x = a, *y = b;
    if (x->time != y->time) return x->time < y->time ? -1 : 1;
    return (x->order > y->order) - (x->order < y->order);
}

static double sigmoid(double x) { return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x)); }

upf_status syn_impressions_build(syn_ctx *c, upf_err *err)
{
    upf_synth_truth *t = c->t;
    const upf_synth_params *p = &c->p;
    size_t M = p->n_candidates, P = p->n_positions, n_ctx = (size_t)p->n_impressions;
    upf_status st = UPF_OK;
    double *key = NULL, *v = NULL;
    ctx_key *ck = NULL;
    uint8_t *taken = NULL;
    upf_rng r;
    syn_rng(&r, p->seed, SYN_STREAM_IMPRESS, 0);

    /* candidates: M items listed for the whole range, drawn without
     * replacement proportional to popularity (Efraimidis-Spirakis keys) */
    t->n_candidates = M;
    t->n_positions = P;
    t->n_contexts = n_ctx;
    t->candidates = upf_malloc(M * sizeof *t->candidates);
    t->position_bias = upf_malloc(P * sizeof *t->position_bias);
    t->logging_prop = upf_malloc(M * P * sizeof *t->logging_prop);
    key = upf_malloc(M * sizeof *key);
    v = upf_malloc(M * sizeof *v);
    taken = upf_malloc(M);
    if (!t->candidates || !t->position_bias || !t->logging_prop || !key || !v || !taken) goto nomem;
    size_t n_cand = 0;
    for (size_t i = 0; i < t->n_items; i++) {
        double u = upf_rng_uniform(&r);
        if (!(t->item_added[i] < t->t_start && t->item_removed[i] == UPF_TIME_MISSING)) continue;
        double k = log1p(-u) / (double)t->item_popularity[i]; /* log of u^(1/w); larger is better */
        size_t pos = n_cand < M ? n_cand++ : M;
        if (pos == M) {
            if (k <= key[M - 1]) continue;
            pos = M - 1;
        }
        while (pos > 0 && key[pos - 1] < k) { /* insertion: keys stay descending */
            key[pos] = key[pos - 1];
            t->candidates[pos] = t->candidates[pos - 1];
            pos--;
        }
        key[pos] = k;
        t->candidates[pos] = (int32_t)i;
    }
    if (n_cand < M) {
        st = upf_err_set(err, UPF_ERR_ARG,
                         "synth: --candidates: only %zu items are listed for the whole range (need %zu); "
                         "use fewer candidates or more items",
                         n_cand, M);
        goto done;
    }
    /* ascending item order, so the table reads naturally */
    for (size_t a = 1; a < M; a++)
        for (size_t b = a; b > 0 && t->candidates[b - 1] > t->candidates[b]; b--) {
            int32_t x = t->candidates[b];
            t->candidates[b] = t->candidates[b - 1];
            t->candidates[b - 1] = x;
        }
    for (size_t j = 0; j < M; j++) v[j] = exp(log((double)t->item_popularity[t->candidates[j]]) / p->logging_temperature);
    syn_pl_marginals(v, M, P, t->logging_prop);
    for (size_t k = 0; k < P; k++) t->position_bias[k] = (float)(1.0 / log2((double)k + 2.0));

    /* contexts: a user active at a random time of the range, in time order */
    t->context_user = upf_malloc((n_ctx ? n_ctx : 1) * sizeof *t->context_user);
    t->context_time = upf_malloc((n_ctx ? n_ctx : 1) * sizeof *t->context_time);
    t->context_relevance = upf_malloc((n_ctx ? n_ctx : 1) * M * sizeof *t->context_relevance);
    ck = upf_malloc((n_ctx ? n_ctx : 1) * sizeof *ck);
    size_t n_rows = n_ctx * P;
    c->n_imp = n_rows;
    c->imp_user = upf_malloc((n_rows ? n_rows : 1) * sizeof *c->imp_user);
    c->imp_item = upf_malloc((n_rows ? n_rows : 1) * sizeof *c->imp_item);
    c->imp_time = upf_malloc((n_rows ? n_rows : 1) * sizeof *c->imp_time);
    c->imp_pos = upf_malloc((n_rows ? n_rows : 1) * sizeof *c->imp_pos);
    c->imp_reward = upf_malloc((n_rows ? n_rows : 1) * sizeof *c->imp_reward);
    c->imp_prop = upf_malloc((n_rows ? n_rows : 1) * sizeof *c->imp_prop);
    if (!t->context_user || !t->context_time || !t->context_relevance || !ck || !c->imp_user || !c->imp_item ||
        !c->imp_time || !c->imp_pos || !c->imp_reward || !c->imp_prop)
        goto nomem;
    double range = (double)(t->t_end - t->t_start);
    for (size_t q = 0; q < n_ctx; q++) {
        int32_t u = 0;
        int64_t when = t->t_start;
        int found = 0;
        for (int k = 0; k < CONTEXT_TRIES && !found; k++) {
            u = (int32_t)upf_rng_below64(&r, t->n_users);
            int64_t lo = c->user_signup[u] > t->t_start ? c->user_signup[u] : t->t_start;
            int64_t hi = t->user_death[u] != UPF_TIME_MISSING && t->user_death[u] < t->t_end ? t->user_death[u] : t->t_end;
            double x = upf_rng_uniform(&r);
            if (hi > lo) {
                when = lo + (int64_t)(x * (double)(hi - lo));
                found = 1;
            }
        }
        if (!found) when = t->t_start + (int64_t)(upf_rng_uniform(&r) * range); /* nobody active: any user */
        ck[q] = (ctx_key){ when, u, (uint32_t)q };
    }
    qsort(ck, n_ctx, sizeof *ck, cmp_ctx);
    double logging = 0.0, oracle = 0.0;
    for (size_t q = 0; q < n_ctx; q++) {
        if ((q & 4095) == 0 && upf_interrupted()) {
            st = upf_err_set(err, UPF_ERR_INTERRUPTED, "synth: interrupted in the impression log");
            goto done;
        }
        size_t u = (size_t)ck[q].user;
        t->context_user[q] = ck[q].user;
        t->context_time[q] = ck[q].time;
        float *rho = t->context_relevance + q * M;
        for (size_t j = 0; j < M; j++) rho[j] = (float)sigmoid(p->click_bias + upf_synth_affinity(t, u, (size_t)t->candidates[j]));
        /* the true values: logging policy in expectation, and the best slate */
        double best[UPF_SYNTH_MAX_POSITIONS] = { 0 };
        for (size_t j = 0; j < M; j++) {
            for (size_t k = 0; k < P; k++) logging += t->logging_prop[j * P + k] * (double)t->position_bias[k] * (double)rho[j];
            double x = (double)rho[j];
            for (size_t k = 0; k < P; k++) /* keep the P largest, descending */
                if (x > best[k]) {
                    double y = best[k];
                    best[k] = x;
                    x = y;
                }
        }
        for (size_t k = 0; k < P; k++) oracle += (double)t->position_bias[k] * best[k];
        /* the logged slate: Plackett-Luce without replacement */
        memset(taken, 0, M);
        double left = 0.0;
        for (size_t j = 0; j < M; j++) left += v[j];
        for (size_t k = 0; k < P; k++) {
            double x = upf_rng_uniform(&r) * left, s = 0.0;
            size_t pick = M;
            for (size_t j = 0; j < M; j++) {
                if (taken[j]) continue;
                pick = j;
                if (x < (s += v[j])) break;
            }
            taken[pick] = 1;
            left -= v[pick];
            size_t row = q * P + k;
            c->imp_user[row] = ck[q].user;
            c->imp_time[row] = ck[q].time;
            c->imp_item[row] = t->candidates[pick];
            c->imp_pos[row] = (int16_t)k;
            c->imp_prop[row] = (float)t->logging_prop[pick * P + k];
            c->imp_reward[row] = upf_rng_uniform(&r) < (double)t->position_bias[k] * (double)rho[pick] ? 1.0f : 0.0f;
        }
    }
    t->logging_value = n_ctx ? logging / (double)n_ctx : 0.0;
    t->oracle_value = n_ctx ? oracle / (double)n_ctx : 0.0;
    goto done;

nomem:
    st = upf_err_set(err, UPF_ERR_NOMEM, "synth: out of memory (impression log)");
done:
    upf_free(key);
    upf_free(v);
    upf_free(ck);
    upf_free(taken);
    return st;
}
