/* synth_events.c - what each generated user does, in time order: purchase
 * occasions from a Weibull renewal process (scale from the AFT model), buy-again
 * rebuys of consumables at item-specific intervals, browse-only sessions, the
 * funnel inside a session (search -> views -> cart -> purchase), stock-outs,
 * BG/NBD-style dropout after every purchase occasion, and the randomized
 * campaign that replaces the user's purchases in its outcome window.
 *
 * Not here: the impression log (synth_policy.c). Formulas: SYNTH.md "Events"
 * and "Campaign". Entry point: syn_events_build. Users are simulated in blocks
 * (on one or more threads), each user from its own random stream; blocks are
 * appended in user order and search strings interned in event order, so the
 * output is the same for any number of threads.
 */
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "synth_internal.h"

#define FIRST_PURCHASE_DAYS 3.0 /* mean delay from signup to the first purchase occasion */
#define REBUY_KEEP 0.85         /* P(a rebuy cycle continues after each rebuy) */
#define REBUY_SHAPE 8.0         /* rebuy gap = tau_i m_u G/8, G ~ Gamma(8): cv 0.35 */
#define MAX_REBUYS 8            /* rebuy cycles a user keeps at once */
#define SECOND_CART_PROB 0.15   /* P(a purchase session also carts an alternative) */
#define OOS_RETRY_DAYS 3.0      /* a rebuy of an out-of-stock item is retried 1..4 days later */
#define DRAW_TRIES 32           /* rejection draws for an item listed at the time */
#define STOCK_TRIES 8           /* draws for an in-stock substitute */
#define REVIEW_PROB 0.5         /* P(a rebuy views the item page before carting) */

typedef struct rebuy {
    int32_t item;
    double due; /* unix s */
} rebuy;

/* A block of users simulated together: its events (query = index into the
 * block's own strings) and, per user, where its events start. */
#define BLOCK_USERS 1024

typedef struct block {
    size_t u0, u1;      /* users [u0, u1) */
    syn_evbuf ev;
    syn_strtab queries;
    int64_t start[BLOCK_USERS]; /* user u0 + k owns block events [start[k], start[k+1] or ev.n) */
    long skipped;       /* draws that found nothing listed */
    int state;          /* 0 free, 1 being simulated, 2 ready to append */
    upf_status st;
    upf_err err;
} block;

typedef struct user_sim {
    syn_ctx *c;
    block *blk;         /* where events go */
    size_t u;
    upf_rng r;
    syn_pref pref;      /* all items */
    syn_pref wpref;     /* campaign-window items */
    int64_t last_t;     /* time of the last emitted event */
    int64_t t_w0, t_w1; /* the campaign window when the user is in the campaign, else 0, 0 */
    rebuy rb[MAX_REBUYS];
    int n_rb;
    int fail;           /* an allocation failed */
} user_sim;

/* ---- emitting ---- */

static void emit(user_sim *s, int64_t t, int32_t item, int type, float value, int32_t query)
{
    syn_evbuf *e = &s->blk->ev;
    if (s->fail) return;
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap + e->cap / 2 : 65536;
        void *p;
#define GROW(f)                                               \
    if (!(p = upf_realloc(e->f, cap * sizeof *e->f))) {       \
        s->fail = 1;                                          \
        return;                                               \
    }                                                         \
    e->f = p;
        GROW(user) GROW(item) GROW(query) GROW(time) GROW(type) GROW(value)
#undef GROW
        e->cap = cap;
    }
    if (t < s->last_t) t = s->last_t;
    if (t >= s->c->t->t_end) t = s->c->t->t_end - 1; /* a session at the very end stays inside */
    e->user[e->n] = (int32_t)s->u;
    e->item[e->n] = item;
    e->query[e->n] = query;
    e->time[e->n] = t;
    e->type[e->n] = (uint8_t)type;
    e->value[e->n] = value;
    e->n++;
    s->last_t = t;
}

/* The clock inside a session: 10..90 s per step. */
static int64_t step(user_sim *s) { return s->last_t + 10 + (int64_t)upf_rng_below(&s->r, 81); }

static int32_t query_for(user_sim *s, int32_t item)
{
    const syn_ctx *c = s->c;
    const char *cat = c->t->category_names[c->t->item_category[item]];
    const char *brand = syn_item_brand(c, item);
    const char *adj = syn_item_adjective(c, item, (int)upf_rng_below(&s->r, 2));
    double u = upf_rng_uniform(&s->r);
    char buf[256];
    int n;
    if (u < 0.30) n = snprintf(buf, sizeof buf, "%s", cat);
    else if (u < 0.55) n = snprintf(buf, sizeof buf, "%s %s", brand, cat);
    else if (u < 0.80) n = snprintf(buf, sizeof buf, "%s %s", adj, cat);
    else if (u < 0.90) n = snprintf(buf, sizeof buf, "%s", brand);
    else n = snprintf(buf, sizeof buf, "%s %s %s", adj, brand, cat);
    int32_t q = syn_strtab_intern(&s->blk->queries, buf, (size_t)n);
    if (q < 0) s->fail = 1;
    return q;
}

static void emit_search(user_sim *s, int64_t t, int32_t item)
{
    int32_t q = query_for(s, item);
    if (q >= 0) emit(s, t, -1, UPF_EV_SEARCH, 0.0f, q);
}

/* ---- drawing items ---- */

/* An item listed at time t from the user's preferences (within a category if >= 0), or -1. */
static int32_t draw_listed(user_sim *s, int32_t category, int64_t t)
{
    for (int k = 0; k < DRAW_TRIES; k++) {
        const syn_item_entry *e = syn_pref_draw(s->c, &s->c->all, &s->pref, category, &s->r);
        if (!e) return -1;
        /* listed through the session (as syn_item_listed, from the entry's copy) */
        if (e->added <= t && (e->removed == UPF_TIME_MISSING || t + SYN_SESSION_SPAN < e->removed)) return e->item;
    }
    s->blk->skipped++;
    return -1;
}

/* In stock from now until the session is surely over. */
static int in_stock(const user_sim *s, int32_t item)
{
    return syn_item_in_stock(s->c, item, s->last_t, s->last_t + SYN_SESSION_SPAN);
}

static double weibull_days(user_sim *s)
{
    const upf_synth_truth *t = s->c->t;
    return (double)t->user_scale_days[s->u] * pow(upf_rng_exponential(&s->r), 1.0 / s->c->p.interval_shape);
}

/* A due time that falls in the user's campaign window moves past it. */
static double out_of_window(user_sim *s, double due)
{
    if (due >= (double)s->t_w0 && due < (double)s->t_w1) due = (double)s->t_w1 + upf_rng_uniform(&s->r) * 2.0 * SYN_DAY;
    return due;
}

static double rebuy_gap(user_sim *s, int32_t item)
{
    const upf_synth_truth *t = s->c->t;
    return (double)t->item_rebuy_days[item] * (double)t->user_rebuy_factor[s->u] *
           upf_rng_gamma(&s->r, REBUY_SHAPE) / REBUY_SHAPE * SYN_DAY;
}

/* After buying a consumable: maybe start a rebuy cycle for it. */
static void consider_rebuy(user_sim *s, int32_t item, int64_t t)
{
    const upf_synth_truth *t_ = s->c->t;
    if (t_->item_rebuy_days[item] <= 0.0f || s->c->p.rebuy_prob <= 0.0) return;
    double u = upf_rng_uniform(&s->r);
    for (int k = 0; k < s->n_rb; k++)
        if (s->rb[k].item == item) return;
    if (u >= s->c->p.rebuy_prob || s->n_rb == MAX_REBUYS) return;
    s->rb[s->n_rb].item = item;
    s->rb[s->n_rb].due = out_of_window(s, (double)t + rebuy_gap(s, item));
    s->n_rb++;
}

static void drop_rebuy(user_sim *s, int k) { s->rb[k] = s->rb[--s->n_rb]; }

static float quantity(user_sim *s) { return (float)(1 + upf_rng_poisson(&s->r, SYN_QTY_EXTRA)); }

/* ---- sessions; each returns 1 when it ended in a purchase ---- */

static int purchase_session(user_sim *s, double when, int visible)
{
    syn_ctx *c = s->c;
    int64_t t = (int64_t)when;
    if (t < s->last_t) t = s->last_t;
    int32_t i = draw_listed(s, -1, t);
    if (i < 0) return 0;
    if (!visible) { /* before the range: only the state (rebuys, dropout) matters */
        consider_rebuy(s, i, t);
        return 1;
    }
    int32_t cat = c->t->item_category[i];
    s->last_t = t;
    if (upf_rng_uniform(&s->r) < c->p.search_prob) emit_search(s, t, i);
    uint64_t n_alt = upf_rng_poisson(&s->r, c->p.views_per_session);
    for (uint64_t k = 0; k < n_alt; k++) {
        int32_t j = draw_listed(s, cat, t);
        if (j >= 0) emit(s, step(s), j, UPF_EV_VIEW, 0.0f, -1);
    }
    emit(s, step(s), i, UPF_EV_VIEW, 0.0f, -1);
    if (!in_stock(s, i)) { /* out of stock: a substitute from the category, or nothing */
        int32_t sub = -1;
        for (int k = 0; k < STOCK_TRIES && sub < 0; k++) {
            int32_t j = draw_listed(s, cat, s->last_t);
            if (j >= 0 && j != i && in_stock(s, j)) sub = j;
        }
        if (sub < 0) return 0;
        i = sub;
        emit(s, step(s), i, UPF_EV_VIEW, 0.0f, -1);
    }
    float qty = quantity(s);
    emit(s, step(s), i, UPF_EV_CART, qty, -1);
    if (upf_rng_uniform(&s->r) < SECOND_CART_PROB) {
        int32_t j = draw_listed(s, cat, s->last_t);
        if (j >= 0 && j != i && in_stock(s, j)) emit(s, step(s), j, UPF_EV_CART, 1.0f, -1);
    }
    int64_t tp = step(s);
    emit(s, tp, i, UPF_EV_PURCHASE, qty * syn_item_price(c, i, tp), -1);
    consider_rebuy(s, i, tp);
    return 1;
}

static int rebuy_session(user_sim *s, int k, int visible)
{
    syn_ctx *c = s->c;
    int32_t i = s->rb[k].item;
    int64_t t = (int64_t)s->rb[k].due;
    if (t < s->last_t) t = s->last_t;
    if (!syn_item_listed(c, i, t, t + SYN_SESSION_SPAN)) {
        drop_rebuy(s, k);
        return 0;
    }
    if (visible) {
        s->last_t = t;
        if (!in_stock(s, i)) {
            emit(s, t, i, UPF_EV_VIEW, 0.0f, -1);
            s->rb[k].due = out_of_window(s, (double)t + (1.0 + OOS_RETRY_DAYS * upf_rng_uniform(&s->r)) * SYN_DAY);
            return 0;
        }
        if (upf_rng_uniform(&s->r) < REVIEW_PROB) emit(s, t, i, UPF_EV_VIEW, 0.0f, -1);
        float qty = quantity(s);
        emit(s, step(s), i, UPF_EV_CART, qty, -1);
        t = step(s);
        emit(s, t, i, UPF_EV_PURCHASE, qty * syn_item_price(c, i, t), -1);
    }
    if (upf_rng_uniform(&s->r) < REBUY_KEEP) s->rb[k].due = out_of_window(s, (double)t + rebuy_gap(s, i));
    else drop_rebuy(s, k);
    return 1;
}

static void browse_session(user_sim *s, double when)
{
    syn_ctx *c = s->c;
    int64_t t = (int64_t)when;
    if (t < s->last_t) t = s->last_t;
    int32_t i = draw_listed(s, -1, t);
    if (i < 0) return;
    s->last_t = t;
    if (upf_rng_uniform(&s->r) < c->p.search_prob) emit_search(s, t, i);
    emit(s, step(s), i, UPF_EV_VIEW, 0.0f, -1);
    int32_t cat = c->t->item_category[i], last = i;
    uint64_t n_alt = upf_rng_poisson(&s->r, c->p.views_per_session);
    for (uint64_t k = 0; k < n_alt; k++) {
        int32_t j = draw_listed(s, cat, s->last_t);
        if (j >= 0) {
            emit(s, step(s), j, UPF_EV_VIEW, 0.0f, -1);
            last = j;
        }
    }
    if (upf_rng_uniform(&s->r) < c->p.cart_abandon_prob && in_stock(s, last))
        emit(s, step(s), last, UPF_EV_CART, 1.0f, -1);
}

/* The campaign's order: an item available and in stock through the window, at
 * the price of the send time less the arm's discount. Returns the revenue. */
static float campaign_session(user_sim *s, double when, int arm)
{
    syn_ctx *c = s->c;
    const upf_synth_truth *t = c->t;
    int64_t ts = (int64_t)when;
    if (ts < s->last_t) ts = s->last_t;
    const syn_item_entry *e = syn_pref_draw(c, &c->window, &s->wpref, -1, &s->r);
    if (!e) return 0.0f; /* cannot happen: the window table has mass (checked) */
    int32_t i = e->item;
    s->last_t = ts;
    emit(s, ts, i, UPF_EV_VIEW, 0.0f, -1);
    float qty = quantity(s);
    emit(s, step(s), i, UPF_EV_CART, qty, -1);
    float value = (float)((double)qty * (double)syn_item_price(c, i, t->campaign_time) * (1.0 - t->arm_discount[arm]));
    int64_t tp = step(s);
    emit(s, tp, i, UPF_EV_PURCHASE, value, -1);
    consider_rebuy(s, i, tp);
    return value;
}

/* ---- the campaign's potential outcomes ---- */

static double logit(double p) { return log(p) - log1p(-p); }
static double sigmoid(double x) { return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x)); }

/* At the send time, for a user still active: P(conversion | arm) and
 * E[revenue | arm] (SYNTH.md "Campaign"), then the realized outcome. Returns
 * the time of the campaign order, or SYN_NONE. */
static double campaign_outcome(user_sim *s)
{
    syn_ctx *c = s->c;
    upf_synth_truth *t = c->t;
    size_t na = t->n_arms, u = s->u;
    double mean_days = (double)t->user_scale_days[u] * tgamma(1.0 + 1.0 / c->p.interval_shape);
    double p0 = -expm1(-(double)c->p.campaign_window / mean_days);
    if (p0 < 1e-9) p0 = 1e-9;
    if (p0 > 1.0 - 1e-9) p0 = 1.0 - 1e-9;
    syn_pref_setup(c, &c->window, u, &s->wpref);
    double value = syn_pref_mean_value(c, &c->window, &s->wpref) * t->expected_quantity;
    for (size_t a = 0; a < na; a++) {
        double pa = a ? sigmoid(logit(p0) + c->p.effect * t->user_segment[u * na + a]) : p0;
        t->user_conv_prob[u * na + a] = (float)pa;
        t->user_revenue_mean[u * na + a] = (float)(pa * (1.0 - t->arm_discount[a]) * value);
    }
    int arm = t->user_arm[u];
    t->user_alive_at_send[u] = 1;
    /* the order's session (three steps) must end inside the window */
    if (upf_rng_uniform(&s->r) < (double)t->user_conv_prob[u * na + (size_t)arm])
        return (double)t->campaign_time + upf_rng_uniform(&s->r) * (double)(t->campaign_window - 600);
    return (double)SYN_NONE;
}

/* ---- one user ---- */

static upf_status simulate_user(user_sim *s, upf_err *err)
{
    syn_ctx *c = s->c;
    upf_synth_truth *t = c->t;
    const upf_synth_params *p = &c->p;
    size_t u = s->u;
    const double none = (double)SYN_NONE, end = (double)t->t_end, start = (double)t->t_start;
    syn_rng(&s->r, p->seed, SYN_STREAM_EVENTS, u);
    syn_pref_setup(c, &c->all, u, &s->pref);
    s->last_t = INT64_MIN;
    s->n_rb = 0;
    int arm = t->user_arm[u];
    s->t_w0 = s->t_w1 = 0;
    if (arm >= 0) { /* from an hour before the send, so no session spills a natural purchase into it */
        s->t_w0 = t->campaign_time - SYN_SESSION_SPAN;
        s->t_w1 = t->campaign_time + t->campaign_window;
    }

    double signup = (double)c->user_signup[u];
    double mean_days = (double)t->user_scale_days[u] * tgamma(1.0 + 1.0 / p->interval_shape);
    double t_occ = signup + upf_rng_exponential(&s->r) * FIRST_PURCHASE_DAYS * SYN_DAY;
    double browse_gap = p->browse_ratio > 0.0 ? mean_days / p->browse_ratio * SYN_DAY : 0.0;
    double t_browse = browse_gap > 0.0 ? (signup > start ? signup : start) + upf_rng_exponential(&s->r) * browse_gap : none;
    double t_camp = arm >= 0 ? (double)s->t_w0 : none, t_order = none;
    int32_t occasions = 0;

    for (;;) {
        int k_rb = -1;
        double t_rb = none;
        for (int k = 0; k < s->n_rb; k++)
            if (s->rb[k].due < t_rb) t_rb = s->rb[k].due, k_rb = k;
        double tn = t_occ;
        if (t_browse < tn) tn = t_browse;
        if (t_rb < tn) tn = t_rb;
        if (t_order < tn) tn = t_order;
        if (t_camp != none && t_camp <= tn) { /* the send comes first on ties */
            t_camp = none;
            t_order = campaign_outcome(s);
            while (t_occ < (double)s->t_w1) t_occ += weibull_days(s) * SYN_DAY; /* the window replaces them */
            for (int k = 0; k < s->n_rb; k++) s->rb[k].due = out_of_window(s, s->rb[k].due);
            continue;
        }
        if (tn >= end) break;
        int bought = 0, visible = tn >= start;
        if (tn == t_order) {
            float value = campaign_session(s, t_order, arm);
            c->camp_conv[u] = 1.0f;
            c->camp_rev[u] = value;
            t_order = none;
            bought = 1;
        } else if (tn == t_rb) {
            bought = rebuy_session(s, k_rb, visible);
        } else if (tn == t_occ) {
            bought = purchase_session(s, t_occ, visible);
            t_occ += weibull_days(s) * SYN_DAY;
        } else {
            browse_session(s, t_browse);
            t_browse += upf_rng_exponential(&s->r) * browse_gap;
        }
        if (s->fail) return upf_err_set(err, UPF_ERR_NOMEM, "synth: out of memory (events of user %zu)", u);
        if (bought) {
            occasions += visible;
            if (upf_rng_uniform(&s->r) < (double)t->user_dropout[u]) {
                t->user_death[u] = visible ? s->last_t : (int64_t)tn;
                break;
            }
        }
    }
    t->user_occasions[u] = occasions;
    return UPF_OK;
}

/* ---- blocks and threads ---- */

static upf_status simulate_block(user_sim *s, block *b)
{
    b->ev.n = 0;
    syn_strtab_reset(&b->queries);
    b->skipped = 0;
    b->st = UPF_OK;
    s->blk = b;
    s->fail = 0;
    if (upf_interrupted())
        return b->st = upf_err_set(&b->err, UPF_ERR_INTERRUPTED, "synth: interrupted at user %zu of %zu", b->u0,
                                   s->c->t->n_users);
    for (size_t u = b->u0; u < b->u1; u++) {
        b->start[u - b->u0] = (int64_t)b->ev.n;
        s->u = u;
        if ((b->st = simulate_user(s, &b->err)) != UPF_OK) break;
    }
    return b->st;
}

/* Appends a simulated block to the context's events, interning its search
 * strings in event order. */
static upf_status append_block(syn_ctx *c, block *b, int32_t **map, size_t *map_cap, upf_err *err)
{
    syn_evbuf *g = &c->ev, *e = &b->ev;
    size_t need = g->n + e->n;
    if (need > g->cap) {
        size_t cap = g->cap ? g->cap + g->cap / 2 : 65536;
        if (cap < need) cap = need;
        void *p;
#define GROW(f)                                                                                      \
    if (!(p = upf_realloc(g->f, cap * sizeof *g->f)))                                               \
        return upf_err_set(err, UPF_ERR_NOMEM, "synth: out of memory (%zu events)", need);          \
    g->f = p;
        GROW(user) GROW(item) GROW(query) GROW(time) GROW(type) GROW(value)
#undef GROW
        g->cap = cap;
    }
    if (b->queries.n > *map_cap) {
        int32_t *m = upf_realloc(*map, b->queries.n * sizeof *m);
        if (!m) return upf_err_set(err, UPF_ERR_NOMEM, "synth: out of memory (queries)");
        *map = m;
        *map_cap = b->queries.n;
    }
    for (size_t k = 0; k < b->queries.n; k++) (*map)[k] = -1;
    for (size_t u = b->u0; u < b->u1; u++) c->user_ptr[u] = (int64_t)g->n + b->start[u - b->u0];
    memcpy(g->user + g->n, e->user, e->n * sizeof *e->user);
    memcpy(g->item + g->n, e->item, e->n * sizeof *e->item);
    memcpy(g->time + g->n, e->time, e->n * sizeof *e->time);
    memcpy(g->type + g->n, e->type, e->n * sizeof *e->type);
    memcpy(g->value + g->n, e->value, e->n * sizeof *e->value);
    for (size_t j = 0; j < e->n; j++) {
        int32_t q = e->query[j];
        if (q >= 0) {
            if ((*map)[q] < 0) {
                const syn_strtab *lq = &b->queries;
                (*map)[q] = syn_strtab_intern(&c->queries, lq->data + lq->off[q], (size_t)(lq->off[q + 1] - lq->off[q] - 1));
                if ((*map)[q] < 0) return upf_err_set(err, UPF_ERR_NOMEM, "synth: out of memory (queries)");
            }
            q = (*map)[q];
        }
        g->query[g->n + j] = q;
    }
    g->n = need;
    c->skipped_sessions += b->skipped;
    return UPF_OK;
}

static void block_free(block *b)
{
    upf_free(b->ev.user);
    upf_free(b->ev.item);
    upf_free(b->ev.query);
    upf_free(b->ev.time);
    upf_free(b->ev.type);
    upf_free(b->ev.value);
    syn_strtab_free(&b->queries);
}

static int sim_init(user_sim *s, syn_ctx *c)
{
    memset(s, 0, sizeof *s);
    s->c = c;
    s->pref.group_cum = upf_malloc(c->all.n_groups * sizeof(double));
    s->wpref.group_cum = upf_malloc(c->all.n_groups * sizeof(double));
    return s->pref.group_cum && s->wpref.group_cum ? 0 : -1;
}

static void sim_free(user_sim *s)
{
    upf_free(s->pref.group_cum);
    upf_free(s->wpref.group_cum);
}

/* The pipeline: workers take blocks in order and simulate them into free
 * slots; the calling thread appends ready slots in block order. */
typedef struct pipeline {
    syn_ctx *c;
    block *slots;
    size_t n_slots, n_blocks;
    size_t next_take, next_append; /* blocks */
    int stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} pipeline;

static void block_range(const pipeline *pl, size_t j, block *b)
{
    size_t nu = pl->c->t->n_users;
    b->u0 = j * BLOCK_USERS;
    b->u1 = b->u0 + BLOCK_USERS < nu ? b->u0 + BLOCK_USERS : nu;
}

static void *worker(void *arg)
{
    pipeline *pl = arg;
    user_sim s;
    int ok = sim_init(&s, pl->c) == 0;
    pthread_mutex_lock(&pl->mu);
    for (;;) {
        /* a block may start when its slot has been appended (freed) */
        while (!pl->stop && pl->next_take < pl->n_blocks && pl->next_take >= pl->next_append + pl->n_slots)
            pthread_cond_wait(&pl->cv, &pl->mu);
        if (pl->stop || pl->next_take >= pl->n_blocks) break;
        size_t j = pl->next_take++;
        block *b = &pl->slots[j % pl->n_slots];
        b->state = 1;
        block_range(pl, j, b);
        pthread_mutex_unlock(&pl->mu);
        if (ok) simulate_block(&s, b);
        else b->st = upf_err_set(&b->err, UPF_ERR_NOMEM, "synth: out of memory (worker)");
        pthread_mutex_lock(&pl->mu);
        b->state = 2;
        pthread_cond_broadcast(&pl->cv);
    }
    pthread_mutex_unlock(&pl->mu);
    sim_free(&s);
    return NULL;
}

static upf_status run_threads(syn_ctx *c, unsigned n_threads, size_t n_blocks, upf_err *err)
{
    pipeline pl;
    memset(&pl, 0, sizeof pl);
    pl.c = c;
    pl.n_blocks = n_blocks;
    pl.n_slots = 2 * (size_t)n_threads;
    upf_status st = UPF_OK;
    int32_t *map = NULL;
    size_t map_cap = 0, started = 0;
    pthread_t tid[UPF_SYNTH_MAX_THREADS];
    if (!(pl.slots = upf_calloc(pl.n_slots, sizeof *pl.slots)))
        return upf_err_set(err, UPF_ERR_NOMEM, "synth: out of memory (blocks)");
    pthread_mutex_init(&pl.mu, NULL);
    pthread_cond_init(&pl.cv, NULL);
    for (; started < n_threads; started++)
        if (pthread_create(&tid[started], NULL, worker, &pl) != 0) break;
    if (started == 0) st = upf_err_set(err, UPF_ERR_IO, "synth: cannot start a thread");
    pthread_mutex_lock(&pl.mu);
    while (st == UPF_OK && pl.next_append < n_blocks) {
        block *b = &pl.slots[pl.next_append % pl.n_slots];
        while (b->state != 2 || !(pl.next_append < pl.next_take)) pthread_cond_wait(&pl.cv, &pl.mu);
        pthread_mutex_unlock(&pl.mu);
        if (b->st != UPF_OK) {
            st = b->st;
            if (err) *err = b->err;
        } else {
            st = append_block(c, b, &map, &map_cap, err);
        }
        pthread_mutex_lock(&pl.mu);
        b->state = 0;
        pl.next_append++;
        if (st != UPF_OK) pl.stop = 1;
        pthread_cond_broadcast(&pl.cv);
    }
    pl.stop = 1;
    pthread_cond_broadcast(&pl.cv);
    pthread_mutex_unlock(&pl.mu);
    for (size_t k = 0; k < started; k++) pthread_join(tid[k], NULL);
    for (size_t k = 0; k < pl.n_slots; k++) block_free(&pl.slots[k]);
    upf_free(pl.slots);
    upf_free(map);
    pthread_cond_destroy(&pl.cv);
    pthread_mutex_destroy(&pl.mu);
    return st;
}

static upf_status run_inline(syn_ctx *c, size_t n_blocks, upf_err *err)
{
    user_sim s;
    block *b = upf_calloc(1, sizeof *b);
    int32_t *map = NULL;
    size_t map_cap = 0;
    upf_status st = UPF_OK;
    if (!b || sim_init(&s, c)) {
        if (b) sim_free(&s);
        upf_free(b);
        return upf_err_set(err, UPF_ERR_NOMEM, "synth: out of memory (%zu users)", c->t->n_users);
    }
    for (size_t j = 0; j < n_blocks && st == UPF_OK; j++) {
        b->u0 = j * BLOCK_USERS;
        b->u1 = b->u0 + BLOCK_USERS < c->t->n_users ? b->u0 + BLOCK_USERS : c->t->n_users;
        if ((st = simulate_block(&s, b)) != UPF_OK) {
            if (err) *err = b->err;
        } else {
            st = append_block(c, b, &map, &map_cap, err);
        }
    }
    sim_free(&s);
    block_free(b);
    upf_free(b);
    upf_free(map);
    return st;
}

upf_status syn_events_build(syn_ctx *c, unsigned n_threads, upf_err *err)
{
    upf_synth_truth *t = c->t;
    size_t nu = t->n_users, n_blocks = (nu + BLOCK_USERS - 1) / BLOCK_USERS;
    upf_status st;
    c->user_ptr = upf_calloc(nu + 1, sizeof *c->user_ptr);
    c->camp_conv = upf_calloc(nu, sizeof *c->camp_conv);
    c->camp_rev = upf_calloc(nu, sizeof *c->camp_rev);
    if (!c->user_ptr || !c->camp_conv || !c->camp_rev)
        return upf_err_set(err, UPF_ERR_NOMEM, "synth: out of memory (%zu users)", nu);
    if (n_threads > UPF_SYNTH_MAX_THREADS) n_threads = UPF_SYNTH_MAX_THREADS;
    if (n_threads > n_blocks) n_threads = (unsigned)n_blocks;
    st = n_threads > 1 ? run_threads(c, n_threads, n_blocks, err) : run_inline(c, n_blocks, err);
    if (st != UPF_OK) return st;
    c->user_ptr[nu] = (int64_t)c->ev.n;
    /* alive at the send: set by campaign_outcome for campaign users; for the
     * others, signed up before it and not inactive before it */
    for (size_t u = 0; u < nu && t->n_arms; u++)
        if (t->user_arm[u] < 0)
            t->user_alive_at_send[u] = c->user_signup[u] < t->campaign_time &&
                                       (t->user_death[u] == UPF_TIME_MISSING || t->user_death[u] >= t->campaign_time);
    for (size_t u = 0; u < nu && t->n_arms; u++)
        if (t->user_arm[u] >= 0 && !t->user_alive_at_send[u])
            for (size_t a = 0; a < t->n_arms; a++) {
                t->user_conv_prob[u * t->n_arms + a] = 0.0f;
                t->user_revenue_mean[u * t->n_arms + a] = 0.0f;
            }
    return UPF_OK;
}
