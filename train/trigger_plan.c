/* trigger_plan.c - one day of lifecycle messages (contracts in
 * trigger_plan.h): eligibility per user and trigger, items per mode,
 * constraints, choice. Single-threaded and deterministic for a seed.
 * Entry points: upf_trig_planner_create / _free, upf_trig_plan_day,
 * upf_trig_msg_why, upf_trig_msgs_free.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../model/rng.h"
#include "trigger_plan.h"

#define DAY UPF_TRIG_DAY
#define POP_DAYS 30
#define MAX_CHANGED 256   /* newest item-state changes a user is scored against */
#define MAX_SEARCH 1000   /* items matching a search that are scored */
#define AFF_SAMPLE 100    /* pool items that set a user's affinity threshold */

static int64_t day_of(int64_t t) { return t >= 0 ? t / DAY : -((-t + DAY - 1) / DAY); }

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void upf_trig_msgs_free(upf_trig_msgs *m)
{
    upf_free(m->v);
    memset(m, 0, sizeof *m);
}

static upf_status msgs_push(upf_trig_msgs *m, const upf_trig_msg *x)
{
    if (m->n == m->cap) {
        size_t nc = m->cap ? 2 * m->cap : 1024, bytes;
        if (upf_mul_size(nc, sizeof *m->v, &bytes)) return UPF_ERR_NOMEM;
        upf_trig_msg *v = upf_realloc(m->v, bytes);
        if (!v) return UPF_ERR_NOMEM;
        m->v = v, m->cap = nc;
    }
    m->v[m->n++] = *x;
    return UPF_OK;
}

/* ---- planner setup: category per item, token index ---- */

void upf_trig_planner_free(upf_trig_planner *p)
{
    if (!p) return;
    upf_free(p->item_cat), upf_free(p->pop), upf_free(p->pop_order), upf_free(p->scratch);
    upf_csr_free(&p->tokens);
    upf_free(p);
}

upf_status upf_trig_planner_create(const upf_dataset *ds, const upf_trig_rules *r, upf_trig_planner **out,
                                   upf_err *err)
{
    *out = NULL;
    upf_trig_planner *p = upf_calloc(1, sizeof *p);
    size_t ni = ds->n_items ? ds->n_items : 1;
    if (!p) return upf_err_set(err, UPF_ERR_NOMEM, "triggers: out of memory");
    p->ds = ds, p->rules = *r;
    p->item_cat = upf_malloc(ni * sizeof *p->item_cat);
    p->pop = upf_calloc(ni, sizeof *p->pop);
    p->pop_order = upf_malloc(ni * sizeof *p->pop_order);
    p->scratch = upf_malloc(ni * sizeof *p->scratch);
    if (!p->item_cat || !p->pop || !p->pop_order || !p->scratch) goto nomem;
    const upf_attrs *a = &ds->item_attrs;
    size_t n_names = a->names.n;
    uint8_t *is_cat = upf_calloc(n_names ? n_names : 1, 1), *is_tok = upf_calloc(n_names ? n_names : 1, 1);
    if (!is_cat || !is_tok) {
        upf_free(is_cat), upf_free(is_tok);
        goto nomem;
    }
    for (size_t j = 0; j < n_names; j++) {
        const char *nm = upf_strings_get(&a->names, j);
        is_cat[j] = strncmp(nm, "category=", 9) == 0;
        is_tok[j] = strncmp(nm, "token=", 6) == 0;
    }
    for (size_t i = 0; i < ds->n_items; i++) {
        p->item_cat[i] = -1;
        for (int64_t q = a->n_rows ? a->ptr[i] : 0; a->n_rows && q < a->ptr[i + 1]; q++)
            if (is_cat[a->index[q]]) {
                p->item_cat[i] = a->index[q];
                break;
            }
    }
    /* tokens: attribute -> items (CSR over attribute names) */
    p->tokens.n_rows = n_names, p->tokens.n_cols = ds->n_items;
    p->tokens.ptr = upf_calloc(n_names + 1, sizeof *p->tokens.ptr);
    int64_t nnz = 0;
    if (!p->tokens.ptr) goto nomem_attr;
    for (size_t i = 0; a->n_rows && i < ds->n_items; i++)
        for (int64_t q = a->ptr[i]; q < a->ptr[i + 1]; q++)
            if (is_tok[a->index[q]]) p->tokens.ptr[a->index[q] + 1]++, nnz++;
    for (size_t j = 0; j < n_names; j++) p->tokens.ptr[j + 1] += p->tokens.ptr[j];
    p->tokens.idx = upf_malloc((size_t)(nnz ? nnz : 1) * sizeof *p->tokens.idx);
    int64_t *fill = upf_malloc((n_names + 1) * sizeof *fill);
    if (!p->tokens.idx || !fill) {
        upf_free(fill);
        goto nomem_attr;
    }
    memcpy(fill, p->tokens.ptr, (n_names + 1) * sizeof *fill);
    for (size_t i = 0; a->n_rows && i < ds->n_items; i++)
        for (int64_t q = a->ptr[i]; q < a->ptr[i + 1]; q++)
            if (is_tok[a->index[q]]) p->tokens.idx[fill[a->index[q]]++] = (int32_t)i;
    upf_free(fill), upf_free(is_cat), upf_free(is_tok);
    *out = p;
    return UPF_OK;
nomem_attr:
    upf_free(is_cat), upf_free(is_tok);
nomem:
    upf_trig_planner_free(p);
    return upf_err_set(err, UPF_ERR_NOMEM, "triggers: out of memory");
}

static const float *sort_pop;
static int by_pop_desc(const void *a, const void *b)
{
    int32_t i = *(const int32_t *)a, j = *(const int32_t *)b;
    if (sort_pop[i] != sort_pop[j]) return sort_pop[i] > sort_pop[j] ? -1 : 1;
    return (i > j) - (i < j);
}

static void day_popularity(upf_trig_planner *p, int64_t cutoff)
{
    const upf_dataset *ds = p->ds;
    memset(p->pop, 0, ds->n_items * sizeof *p->pop);
    int64_t from = cutoff - (int64_t)POP_DAYS * DAY;
    for (int64_t e = 0; e < ds->n_events; e++)
        if (ds->ev_item[e] >= 0 && ds->ev_time[e] >= from && ds->ev_time[e] < cutoff) p->pop[ds->ev_item[e]] += 1.0f;
    size_t n = 0;
    for (size_t i = 0; i < ds->n_items; i++)
        if (p->pop[i] > 0) p->pop_order[n++] = (int32_t)i;
    sort_pop = p->pop; /* not reentrant: one planner plans one day at a time */
    qsort(p->pop_order, n, sizeof *p->pop_order, by_pop_desc);
    p->n_pop = n;
}

/* ---- item choice ---- */

typedef struct scored { int32_t item; float s; } scored;
static int by_score_desc(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (x->s != y->s) return x->s > y->s ? -1 : 1;
    return (x->item > y->item) - (x->item < y->item);
}

/* Moves the best min(want, n) of buf[0..n) to the front, best first (the
 * by_score_desc order); O(n * want), which beats sorting for a few items. */
static size_t topk(scored *buf, size_t n, size_t want)
{
    size_t k = 0;
    for (size_t j = 0; j < n; j++) {
        scored x = buf[j];
        if (k == want && by_score_desc(&x, &buf[k - 1]) >= 0) continue;
        size_t p = k < want ? k++ : k - 1;
        while (p > 0 && by_score_desc(&x, &buf[p - 1]) < 0) buf[p] = buf[p - 1], p--;
        buf[p] = x;
    }
    return k;
}

static double sigmoid(double x) { return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x)); }

static int contains(const int32_t *v, int n, int32_t x)
{
    for (int i = 0; i < n; i++)
        if (v[i] == x) return 1;
    return 0;
}

/* Per-user working set (one user at a time). */
typedef struct user_ctx {
    int32_t u;
    int64_t cutoff;
    int have_vec, have_thr;
    float vec[4096 / sizeof(float)];
    float thr;           /* affinity threshold */
    int32_t bought[64];  /* items bought before (exclusions of recommendations) */
    int n_bought;
} user_ctx;

static const float *uvec(const upf_trig_models *m, user_ctx *c)
{
    if (!c->have_vec) upf_trig_user_vec(m, c->u, c->vec), c->have_vec = 1;
    return c->vec;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static float threshold(const upf_trig_planner *p, const upf_trig_models *m, user_ctx *c)
{
    if (c->have_thr) return c->thr;
    const float *v = uvec(m, c);
    float s[AFF_SAMPLE];
    size_t n = m->n_pool < AFF_SAMPLE ? m->n_pool : AFF_SAMPLE;
    /* an even spread over the pool (most to least interacted) */
    for (size_t j = 0; j < n; j++) s[j] = upf_trig_score_vec(m, v, m->pool[j * m->n_pool / n]);
    qsort(s, n, sizeof *s, cmp_float);
    size_t q = (size_t)floor(p->rules.affinity_quantile * (double)(n ? n - 1 : 0));
    c->thr = n ? s[q] : INFINITY;
    c->have_thr = 1;
    return c->thr;
}

/* Orders cand[0..n) by the ranker and keeps the best `want`; returns the mean sigmoid score. */
static double rank_items(const upf_trig_models *m, user_ctx *c, scored *buf, const int32_t *cand, int n, int32_t *out,
                         int *n_out, int want)
{
    const float *v = uvec(m, c);
    for (int j = 0; j < n; j++) buf[j].item = cand[j], buf[j].s = upf_trig_score_vec(m, v, cand[j]);
    /* candidates may repeat: keep a few spares for the duplicates skipped below */
    size_t nk = topk(buf, (size_t)n, (size_t)want * 2 + 8);
    double s = 0.0;
    int k = 0;
    for (size_t j = 0; j < nk && k < want; j++) {
        if (contains(out, k, buf[j].item)) continue;
        out[k++] = buf[j].item, s += sigmoid(buf[j].s);
    }
    *n_out = k;
    return k ? s / k : 0.0;
}

/* 1 when the user already owns item i: bought before and not an item people
 * rebuy (no median repurchase gap), so recommending it again is wasted. */
static int owned(const upf_trig_models *m, const user_ctx *c, int32_t i)
{
    return contains(c->bought, c->n_bought, i) && !(m->item_gap_days && m->item_gap_days[i] == m->item_gap_days[i]);
}

/* The best `want` pool items the user does not own (the model's recommendations). */
static double top_pool(const upf_trig_models *m, user_ctx *c, scored *buf, int32_t *out, int *n_out, int want)
{
    const float *v = uvec(m, c);
    size_t n = 0;
    for (size_t j = 0; j < m->n_pool; j++) {
        int32_t i = m->pool[j];
        if (owned(m, c, i)) continue;
        buf[n].item = i, buf[n].s = upf_trig_score_vec(m, v, i), n++;
    }
    n = topk(buf, n, (size_t)want);
    double s = 0.0;
    int k = 0;
    for (size_t j = 0; j < n && k < want; j++) out[k++] = buf[j].item, s += sigmoid(buf[j].s);
    *n_out = k;
    return k ? s / k : 0.0;
}

/* Items matching the tokens of the search queries cand->items (query indices). */
static int search_matches(const upf_trig_planner *p, const upf_trig_cand *cand, int32_t *out, int cap)
{
    const upf_dataset *ds = p->ds;
    int n = 0;
    for (int q = 0; q < cand->n && n < cap; q++) {
        const char *s = upf_strings_get(&ds->queries, (size_t)cand->items[q]);
        char tok[128];
        while (*s && n < cap) {
            size_t l = 0;
            while (*s && !isalnum((unsigned char)*s)) s++;
            while (*s && isalnum((unsigned char)*s)) {
                if (l < sizeof tok - 7) tok[l++] = (char)tolower((unsigned char)*s);
                s++;
            }
            if (!l) break;
            char name[140];
            snprintf(name, sizeof name, "token=%.*s", (int)l, tok);
            int32_t a = upf_attrs_find(&ds->item_attrs, name);
            if (a < 0 || (size_t)a >= p->tokens.n_rows) continue;
            for (int64_t j = p->tokens.ptr[a]; j < p->tokens.ptr[a + 1] && n < cap; j++)
                if (!contains(out, n < 64 ? n : 64, p->tokens.idx[j])) out[n++] = p->tokens.idx[j];
        }
    }
    return n;
}

/* ---- one user ---- */

typedef struct option {
    int ok;
    double value;
    upf_trig_msg msg;
} option;

static upf_status plan_user(upf_trig_planner *p, upf_trig_mode mode, const upf_trig_models *m, const upf_trig_day *dd,
                            int32_t u, upf_trig_state *st, upf_rng *rng, scored *buf, upf_trig_msgs *out,
                            upf_trig_stats *stats)
{
    const upf_dataset *ds = p->ds;
    const upf_trig_rules *r = &p->rules;
    int64_t cutoff = dd->cutoff, today = day_of(cutoff);
    int model = mode == UPF_TRIG_MODE_MODEL;
    user_ctx c;
    c.u = u, c.cutoff = cutoff, c.have_vec = c.have_thr = 0;
    int64_t lastb[64];
    int cntb[64];
    c.n_bought = upf_trig_purchased(ds, u, cutoff, c.bought, lastb, cntb, 64);
    option opt[UPF_TRIG_COUNT];
    int reason[UPF_TRIG_COUNT];
    int any = 0;
    for (int k = 0; k < UPF_TRIG_COUNT; k++) {
        opt[k].ok = 0;
        reason[k] = -1;
        if (!r->enabled[k]) continue;
        double t0 = p->timing ? now_s() : 0.0;
        upf_trig_cand cand;
        upf_trig_msg *msg = &opt[k].msg;
        memset(msg, 0, sizeof *msg);
        msg->user = u, msg->day = cutoff, msg->trigger = k, msg->source = model ? UPF_TRIG_SRC_RANKER : UPF_TRIG_SRC_RULE;
        if (mode == UPF_TRIG_MODE_RANDOM) msg->source = UPF_TRIG_SRC_RANDOM;
        double score = 1.0;
        int no_value = 0;
        int use_ranker = model && m && m->ranker;
        /* ---- eligibility (model variants where a model replaces a rule) ---- */
        if (model && m && k == UPF_TRIG_WIN_BACK && (m->has_bgnbd || m->has_wb)) {
            memset(&cand, 0, sizeof cand);
            int64_t last = c.n_bought ? lastb[0] : upf_trig_last_purchase(ds, u, cutoff);
            if (last != UPF_TIME_MISSING) {
                int64_t since = today - day_of(last);
                if (since >= r->win_back_min_days && since <= r->win_back_max_days) {
                    double risk = upf_trig_churn_risk(m, u, (double)r->win_back_horizon_days, cutoff);
                    cand.eligible = 1, cand.anchor = last;
                    if (!(risk >= r->win_back_threshold)) no_value = 1;
                    score = isnan(risk) ? 0.0 : risk;
                    msg->source = UPF_TRIG_SRC_LIFETIME;
                }
            }
        } else if (model && m && k == UPF_TRIG_BUY_AGAIN) {
            memset(&cand, 0, sizeof cand);
            double gap[64];
            upf_trig_rebuy_days(m, ds, u, cutoff, c.bought, c.n_bought, gap);
            double best = 0.0;
            for (int j = 0; j < c.n_bought && cand.n < UPF_TRIG_MAX_CAND; j++) {
                /* the AFT where it knows the pair and nothing was bought since its cutoff */
                double pr = lastb[j] < m->cutoff
                                ? upf_trig_rebuy_prob(m, u, c.bought[j], cutoff, 1.0 + r->buy_again_tolerance_days)
                                : (double)NAN;
                if (!isnan(pr)) {
                    if (pr < r->buy_again_probability) continue;
                    if (pr > best) best = pr;
                } else {
                    double g = gap[j];
                    if (!(g >= 1.0)) continue;
                    int64_t due = day_of(lastb[j]) + (int64_t)floor(g + 0.5);
                    if (due > today || due < today - r->buy_again_tolerance_days) continue;
                }
                if (!cand.eligible) cand.eligible = 1, cand.anchor = lastb[j];
                cand.items[cand.n++] = c.bought[j];
            }
            msg->source = UPF_TRIG_SRC_LIFETIME;
        } else if (use_ranker && k >= UPF_TRIG_PRICE_DROP && k <= UPF_TRIG_NEW_ARRIVALS) {
            memset(&cand, 0, sizeof cand);
            /* only users active within affinity_history_days are considered */
            int64_t end = upf_trig_prefix_end(ds, u, cutoff);
            if (dd->n_changed[k] && end > ds->user_ptr[u] &&
                ds->ev_time[end - 1] >= cutoff - (int64_t)r->affinity_history_days * DAY) {
                float thr = threshold(p, m, &c);
                const float *v = uvec(m, &c);
                size_t nb = 0;
                int64_t newest = UPF_TIME_MISSING;
                for (size_t j = 0; j < dd->n_changed[k] && j < MAX_CHANGED; j++) {
                    int32_t i = dd->changed[k][j];
                    if (owned(m, &c, i)) continue;
                    float s = upf_trig_score_vec(m, v, i);
                    if (s < thr) continue;
                    buf[nb].item = i, buf[nb].s = s, nb++;
                    if (newest == UPF_TIME_MISSING) newest = dd->changed_time[k][j]; /* newest first */
                }
                if (nb) {
                    qsort(buf, nb, sizeof *buf, by_score_desc);
                    cand.eligible = 1, cand.anchor = newest;
                    for (size_t j = 0; j < nb && cand.n < UPF_TRIG_MAX_CAND; j++) cand.items[cand.n++] = buf[j].item;
                }
            }
        } else {
            upf_trig_eligible(ds, r, dd, u, k, &cand);
        }
        if (!cand.eligible) {
            if (p->timing) stats->seconds[k] += now_s() - t0;
            continue;
        }
        stats->audience[k]++;
        msg->anchor = cand.anchor;
        if (p->audience && msgs_push(p->audience, msg)) return UPF_ERR_NOMEM;
        if (upf_trig_repeat_blocked(st, r, u, k, cutoff)) {
            reason[k] = UPF_TRIG_WHY_REPEAT;
            if (p->timing) stats->seconds[k] += now_s() - t0;
            continue;
        }
        /* ---- items ---- */
        int want = r->n_items;
        int32_t *items = msg->items;
        int ni = 0;
        if (mode == UPF_TRIG_MODE_RANDOM) {
            int32_t pool[UPF_TRIG_MAX_CAND * 4];
            int np = 0;
            if (k == UPF_TRIG_SEARCH_ABANDON) np = search_matches(p, &cand, pool, (int)(sizeof pool / sizeof *pool));
            else if (cand.n) {
                for (int j = 0; j < cand.n; j++) pool[np++] = cand.items[j];
            } else {
                size_t lim = p->n_pop < 500 ? p->n_pop : 500;
                for (int j = 0; j < want * 4 && lim; j++) {
                    int32_t i = p->pop_order[upf_rng_below(rng, (uint32_t)lim)];
                    if (!contains(pool, np, i)) pool[np++] = i;
                }
            }
            upf_rng_shuffle_i32(rng, pool, (uint64_t)np);
            for (int j = 0; j < np && ni < want; j++) items[ni++] = pool[j];
        } else if (k == UPF_TRIG_CART_ABANDON || (!use_ranker && cand.n && k != UPF_TRIG_SEARCH_ABANDON)) {
            /* cart abandon shows the carted items as they are; rules show the trigger's own items */
            for (int j = 0; j < cand.n && ni < want; j++) items[ni++] = cand.items[j];
            if (msg->source == UPF_TRIG_SRC_RANKER) msg->source = UPF_TRIG_SRC_RULE;
        } else if (k == UPF_TRIG_SEARCH_ABANDON) {
            int32_t match[MAX_SEARCH];
            int nm = search_matches(p, &cand, match, MAX_SEARCH);
            if (use_ranker) score = rank_items(m, &c, buf, match, nm, items, &ni, want);
            else {
                /* rules: matches by recent popularity */
                for (int j = 0; j < nm; j++) buf[j].item = match[j], buf[j].s = p->pop[match[j]];
                qsort(buf, (size_t)nm, sizeof *buf, by_score_desc);
                for (int j = 0; j < nm && ni < want; j++) items[ni++] = buf[j].item;
            }
        } else if (use_ranker && k == UPF_TRIG_BROWSE_ABANDON) {
            /* around what was viewed: the viewed items and pool items of their categories */
            int32_t *cands = p->scratch;
            int nc = 0;
            for (int j = 0; j < cand.n; j++) cands[nc++] = cand.items[j];
            for (size_t j = 0; j < m->n_pool; j++) {
                int32_t i = m->pool[j], ci = p->item_cat[i];
                /* distinct items only, so cands never outgrows the catalogue (p->scratch) */
                if (ci < 0 || contains(cand.items, cand.n, i)) continue;
                for (int q = 0; q < cand.n; q++)
                    if (p->item_cat[cand.items[q]] == ci) {
                        cands[nc++] = i;
                        break;
                    }
            }
            score = rank_items(m, &c, buf, cands, nc, items, &ni, want);
        } else if (use_ranker && cand.n) {
            /* item-state (already ranked), buy again, follow-up's bought items are replaced by recommendations */
            if (k == UPF_TRIG_FOLLOW_UP) score = top_pool(m, &c, buf, items, &ni, want);
            else score = rank_items(m, &c, buf, cand.items, cand.n, items, &ni, want);
        } else if (use_ranker) {
            double s = top_pool(m, &c, buf, items, &ni, want);
            if (msg->source != UPF_TRIG_SRC_LIFETIME) score = s;
        } else {
            /* rules, triggers without items of their own: the user's most recent items */
            ni = upf_trig_recent_items(ds, u, cutoff, items, want);
        }
        msg->n_items = ni;
        if (p->timing) stats->seconds[k] += now_s() - t0;
        if (ni == 0 || no_value) {
            reason[k] = UPF_TRIG_WHY_NO_VALUE;
            continue;
        }
        /* ---- value ---- */
        int src = msg->source;
        if (mode == UPF_TRIG_MODE_RANDOM) opt[k].value = upf_rng_uniform(rng);
        else opt[k].value = upf_trig_value(r, model ? m : NULL, k, score, &src);
        if (opt[k].value < 0) {
            reason[k] = UPF_TRIG_WHY_NO_VALUE;
            continue;
        }
        msg->source = src;
        msg->score = (float)score;
        opt[k].ok = 1;
        any = 1;
    }
    int best = -1;
    if (any) {
        int64_t lastp = c.n_bought ? lastb[0] : UPF_TIME_MISSING;
        /* the latest purchase of any item (bought[] is by item; take the newest) */
        for (int j = 1; j < c.n_bought; j++)
            if (lastb[j] > lastp) lastp = lastb[j];
        int quiet = lastp != UPF_TIME_MISSING && today - day_of(lastp) < r->quiet_days;
        int budget = 0;
        if (!quiet) {
            int w = upf_trig_budget_window(ds, r, u, cutoff);
            budget = upf_trig_budget_used(st, u, cutoff, w) >= r->budget_messages;
        }
        for (int k = 0; k < UPF_TRIG_COUNT; k++) {
            if (!opt[k].ok) continue;
            if (quiet) reason[k] = UPF_TRIG_WHY_QUIET;
            else if (budget) reason[k] = UPF_TRIG_WHY_BUDGET;
            else if (best < 0 || opt[k].value > opt[best].value) best = k;
        }
        for (int k = 0; k < UPF_TRIG_COUNT; k++)
            if (opt[k].ok && !quiet && !budget) reason[k] = k == best ? UPF_TRIG_WHY_SENT : UPF_TRIG_WHY_OUTRANKED;
    }
    for (int k = 0; k < UPF_TRIG_COUNT; k++)
        if (reason[k] >= 0) stats->why[k][reason[k]]++;
    if (best < 0) return UPF_OK;
    stats->sent[best]++;
    upf_trig_state_record(st, u, best, cutoff);
    return msgs_push(out, &opt[best].msg);
}

upf_status upf_trig_plan_day(upf_trig_planner *p, upf_trig_mode mode, const upf_trig_models *models, int64_t day,
                             upf_trig_state *state, uint64_t seed, upf_trig_msgs *out, upf_trig_stats *stats,
                             upf_err *err)
{
    const upf_dataset *ds = p->ds;
    int64_t cutoff = day_of(day) * DAY;
    if (mode == UPF_TRIG_MODE_MODEL && !models)
        return upf_err_set(err, UPF_ERR_ARG, "triggers: the model plan needs trained models");
    if (models && models->dim > sizeof ((user_ctx *)0)->vec / sizeof(float))
        return upf_err_set(err, UPF_ERR_ARG, "triggers: ranker dim %zu above 1024", models->dim);
    upf_trig_day dd;
    upf_status st = upf_trig_day_create(ds, &p->rules, cutoff, &dd, err);
    if (st) return st;
    day_popularity(p, cutoff);
    size_t nbuf = ds->n_items > MAX_SEARCH ? ds->n_items : MAX_SEARCH;
    scored *buf = upf_malloc(nbuf * sizeof *buf);
    if (!buf) {
        upf_trig_day_free(&dd);
        return upf_err_set(err, UPF_ERR_NOMEM, "triggers: out of memory");
    }
    for (size_t u = 0; u < ds->n_users; u++) {
        if ((u & 4095) == 0 && upf_interrupted()) {
            st = upf_err_set(err, UPF_ERR_INTERRUPTED, "triggers: interrupted");
            break;
        }
        upf_rng rng;
        upf_rng_seed(&rng, seed ^ (uint64_t)day_of(cutoff) * 0x9E3779B97F4A7C15ull, u);
        if ((st = plan_user(p, mode, models, &dd, (int32_t)u, state, &rng, buf, out, stats))) {
            st = upf_err_set(err, st, "triggers: out of memory");
            break;
        }
    }
    upf_free(buf);
    upf_trig_day_free(&dd);
    return st;
}

/* ---- explanations ---- */

static void iso(int64_t t, char *buf, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tmv;
    gmtime_r(&tt, &tmv);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tmv);
}

void upf_trig_msg_why(const upf_trig_msg *m, char *buf, size_t n)
{
    char at[32] = "?";
    if (m->anchor != INT64_MIN) iso(m->anchor, at, sizeof at);
    /* what qualified, then the anchor time */
    static const char *const what[UPF_TRIG_COUNT] = {
        "carted, not bought since", "viewed, nothing bought since", "searched, nothing bought since",
        "last purchase", "birthday (Feb 29 is kept on Feb 28 in non-leap years); born",
        "signup anniversary; signed up", "price dropped; seen", "back in stock; seen", "newly listed; seen",
        "due for a repurchase; last bought", "lapsing; last purchase",
    };
    static const char *const items[UPF_TRIG_SRC_COUNT] = {
        "rule: the trigger's own or the user's most recent items, priority order",
        "ranker: items by the user's ranker score, priority order",
        "lifetime: timing from churn risk (AFT or BG/NBD) or repurchase intervals, items by ranker score",
        "uplift: measured uplift of the trigger from logged messages with a hold-out",
        "random baseline",
    };
    snprintf(buf, n, "%s: %s %s; %s", upf_trigger_name(m->trigger),
             m->trigger >= 0 && m->trigger < UPF_TRIG_COUNT ? what[m->trigger] : "?", at,
             m->source >= 0 && m->source < UPF_TRIG_SRC_COUNT ? items[m->source] : "?");
}
