/* triggers.c - rule eligibility of every lifecycle trigger over the events
 * before a cutoff (contracts and the time rules in triggers.h). Pure
 * functions of the dataset; the planner refines them with models.
 * Entry points: upf_trig_rules_default, upf_trig_missing, upf_trig_day_create,
 * upf_trig_eligible and the small history helpers.
 */
#include <stdlib.h>
#include <string.h>

#include "triggers.h"

#define DAY UPF_TRIG_DAY

static int64_t day_of(int64_t t) { return t >= 0 ? t / DAY : -((-t + DAY - 1) / DAY); }

const char *upf_trig_source_name(int s)
{
    static const char *const n[UPF_TRIG_SRC_COUNT] = { "rule", "ranker", "lifetime", "uplift", "random" };
    return s >= 0 && s < UPF_TRIG_SRC_COUNT ? n[s] : "none";
}

upf_trig_rules upf_trig_rules_default(void)
{
    upf_trig_rules r;
    memset(&r, 0, sizeof r);
    /* priorities: the closer to a purchase decision, the earlier */
    static const int prio[UPF_TRIG_COUNT] = { 0, 3, 2, 6, 4, 9, 5, 7, 10, 1, 8 };
    static const int window[UPF_TRIG_COUNT] = { 14, 3, 3, 0, 0, 0, 7, 7, 7, 0, 0 };
    static const int repeat[UPF_TRIG_COUNT] = { 3, 7, 7, 365, 365, 365, 7, 7, 14, 30, 30 };
    for (int k = 0; k < UPF_TRIG_COUNT; k++)
        r.enabled[k] = 1, r.priority[k] = prio[k], r.window_days[k] = window[k], r.repeat_days[k] = repeat[k];
    r.expiry_days = 14;
    r.follow_up_days = 10;
    r.quiet_days = 2;
    r.budget_messages = 2;
    r.budget_days = 7;
    r.budget_adaptive = 1;
    r.n_items = 4;
    r.affinity_quantile = 0.97;
    r.affinity_history_days = 90;
    r.buy_again_tolerance_days = 3;
    r.buy_again_rule_days = 30;
    r.buy_again_probability = 0.5;
    r.win_back_threshold = 0.6;
    r.win_back_horizon_days = 30;
    r.win_back_min_days = 21;
    r.win_back_rule_days = 60;
    r.win_back_max_days = 365;
    return r;
}

/* ---- missing data ---- */

size_t upf_trig_missing(const upf_dataset *ds, const upf_trig_rules *r, const char *missing[UPF_TRIG_COUNT])
{
    int64_t by_type[UPF_EV_TYPE_COUNT] = { 0 };
    for (int64_t e = 0; e < ds->n_events; e++)
        if (ds->ev_type[e] < UPF_EV_TYPE_COUNT) by_type[ds->ev_type[e]]++;
    int64_t by_kind[UPF_IE_KIND_COUNT] = { 0 };
    for (size_t e = 0; e < ds->item_events.n; e++)
        if (ds->item_events.kind[e] < UPF_IE_KIND_COUNT) by_kind[ds->item_events.kind[e]]++;
    int birthdays = 0, signups = 0, added = 0;
    for (size_t u = 0; ds->user_birthday && u < ds->n_users && !birthdays; u++)
        birthdays = ds->user_birthday[u] != UPF_TIME_MISSING;
    for (size_t u = 0; ds->user_signup && u < ds->n_users && !signups; u++)
        signups = ds->user_signup[u] != UPF_TIME_MISSING;
    for (size_t i = 0; ds->item_added && i < ds->n_items && !added; i++) added = ds->item_added[i] != UPF_TIME_MISSING;
    const char *need[UPF_TRIG_COUNT] = {
        by_type[UPF_EV_CART] ? NULL : "cart events (/events/type = cart)",
        by_type[UPF_EV_VIEW] ? NULL : "view events (/events/type = view)",
        by_type[UPF_EV_SEARCH] && ds->ev_query && ds->queries.n ? NULL : "search events with /events/query and /queries/text",
        by_type[UPF_EV_PURCHASE] ? NULL : "purchase events (/events/type = purchase)",
        birthdays ? NULL : "/users/birthday",
        signups ? NULL : "/users/signup",
        by_kind[UPF_IE_PRICE] ? NULL : "price history (/item_events kind = price)",
        by_kind[UPF_IE_STOCK] ? NULL : "stock history (/item_events kind = stock)",
        by_kind[UPF_IE_LISTED] || added ? NULL : "listing dates (/item_events kind = listed, or /items/added)",
        by_type[UPF_EV_PURCHASE] ? NULL : "purchase events (/events/type = purchase)",
        by_type[UPF_EV_PURCHASE] ? NULL : "purchase events (/events/type = purchase)",
    };
    size_t n = 0;
    for (int k = 0; k < UPF_TRIG_COUNT; k++) {
        missing[k] = r->enabled[k] ? need[k] : NULL;
        n += missing[k] != NULL;
    }
    return n;
}

/* ---- the day's item state changes ---- */

void upf_trig_day_free(upf_trig_day *d)
{
    for (int k = 0; k < UPF_TRIG_COUNT; k++) upf_free(d->changed[k]), upf_free(d->changed_time[k]);
    upf_free(d->changed_bits);
    memset(d, 0, sizeof *d);
}

static int64_t *sort_time;
static int by_time_desc(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    if (sort_time[i] != sort_time[j]) return sort_time[i] > sort_time[j] ? -1 : 1;
    return i < j ? -1 : i > j;
}

static upf_status push(upf_trig_day *d, int k, size_t *cap, int32_t item, int64_t t)
{
    if (d->n_changed[k] == cap[k]) {
        size_t nc = cap[k] ? 2 * cap[k] : 64;
        int32_t *a = upf_realloc(d->changed[k], nc * sizeof *a);
        if (!a) return UPF_ERR_NOMEM;
        d->changed[k] = a;
        int64_t *b = upf_realloc(d->changed_time[k], nc * sizeof *b);
        if (!b) return UPF_ERR_NOMEM;
        d->changed_time[k] = b;
        cap[k] = nc;
    }
    d->changed[k][d->n_changed[k]] = item;
    d->changed_time[k][d->n_changed[k]++] = t;
    d->changed_bits[item] |= (uint8_t)(1u << (k - UPF_TRIG_PRICE_DROP));
    return UPF_OK;
}

upf_status upf_trig_day_create(const upf_dataset *ds, const upf_trig_rules *r, int64_t cutoff, upf_trig_day *out,
                               upf_err *err)
{
    memset(out, 0, sizeof *out);
    out->cutoff = cutoff;
    size_t cap[UPF_TRIG_COUNT] = { 0 };
    out->changed_bits = upf_calloc(ds->n_items ? ds->n_items : 1, 1);
    if (!out->changed_bits) goto nomem;
    const upf_item_events *ie = &ds->item_events;
    int64_t from[UPF_TRIG_COUNT];
    for (int k = 0; k < UPF_TRIG_COUNT; k++) from[k] = cutoff - (int64_t)r->window_days[k] * DAY;
    int listed_events = 0;
    for (size_t e = 0; e < ie->n; e++) listed_events |= ie->kind[e] == UPF_IE_LISTED;
    /* item events are sorted by (item, time): carry the previous price and stock per item */
    for (size_t e = 0; e < ie->n;) {
        int32_t item = ie->item[e];
        float prev_price = -1.0f, prev_stock = -1.0f;
        int64_t t_drop = UPF_TIME_MISSING, t_back = UPF_TIME_MISSING, t_new = UPF_TIME_MISSING;
        for (; e < ie->n && ie->item[e] == item; e++) {
            int64_t t = ie->time[e];
            if (t >= cutoff) continue;
            switch (ie->kind[e]) {
            case UPF_IE_PRICE:
                if (t >= from[UPF_TRIG_PRICE_DROP] && prev_price > 0.0f && ie->value[e] < prev_price) t_drop = t;
                else if (ie->value[e] > prev_price && t_drop != UPF_TIME_MISSING) t_drop = UPF_TIME_MISSING; /* ended */
                prev_price = ie->value[e];
                break;
            case UPF_IE_STOCK:
                if (t >= from[UPF_TRIG_BACK_IN_STOCK] && prev_stock == 0.0f && ie->value[e] > 0.0f) t_back = t;
                else if (ie->value[e] <= 0.0f) t_back = UPF_TIME_MISSING; /* out again */
                prev_stock = ie->value[e];
                break;
            case UPF_IE_LISTED:
                if (t >= from[UPF_TRIG_NEW_ARRIVALS]) t_new = t;
                break;
            case UPF_IE_DELISTED: t_drop = t_back = t_new = UPF_TIME_MISSING; break;
            default: break;
            }
        }
        if (item < 0 || (size_t)item >= ds->n_items) continue;
        if (r->enabled[UPF_TRIG_PRICE_DROP] && t_drop != UPF_TIME_MISSING &&
            push(out, UPF_TRIG_PRICE_DROP, cap, item, t_drop))
            goto nomem;
        if (r->enabled[UPF_TRIG_BACK_IN_STOCK] && t_back != UPF_TIME_MISSING &&
            push(out, UPF_TRIG_BACK_IN_STOCK, cap, item, t_back))
            goto nomem;
        if (r->enabled[UPF_TRIG_NEW_ARRIVALS] && t_new != UPF_TIME_MISSING &&
            push(out, UPF_TRIG_NEW_ARRIVALS, cap, item, t_new))
            goto nomem;
    }
    if (!listed_events && ds->item_added && r->enabled[UPF_TRIG_NEW_ARRIVALS])
        for (size_t i = 0; i < ds->n_items; i++) {
            int64_t t = ds->item_added[i];
            if (t != UPF_TIME_MISSING && t < cutoff && t >= from[UPF_TRIG_NEW_ARRIVALS] &&
                push(out, UPF_TRIG_NEW_ARRIVALS, cap, (int32_t)i, t))
                goto nomem;
        }
    /* newest change first */
    for (int k = UPF_TRIG_PRICE_DROP; k <= UPF_TRIG_NEW_ARRIVALS; k++) {
        size_t n = out->n_changed[k];
        if (n < 2) continue;
        size_t *ord = upf_malloc(n * sizeof *ord);
        int32_t *it = upf_malloc(n * sizeof *it);
        int64_t *tt = upf_malloc(n * sizeof *tt);
        if (!ord || !it || !tt) {
            upf_free(ord), upf_free(it), upf_free(tt);
            goto nomem;
        }
        for (size_t j = 0; j < n; j++) ord[j] = j;
        sort_time = out->changed_time[k]; /* not reentrant, like the rest of the planner's day setup */
        qsort(ord, n, sizeof *ord, by_time_desc);
        for (size_t j = 0; j < n; j++) it[j] = out->changed[k][ord[j]], tt[j] = out->changed_time[k][ord[j]];
        upf_free(ord), upf_free(out->changed[k]), upf_free(out->changed_time[k]);
        out->changed[k] = it, out->changed_time[k] = tt;
    }
    return UPF_OK;
nomem:
    upf_trig_day_free(out);
    return upf_err_set(err, UPF_ERR_NOMEM, "triggers: out of memory");
}

/* ---- per-user history helpers ---- */

int64_t upf_trig_prefix_end(const upf_dataset *ds, int32_t user, int64_t cutoff)
{
    int64_t lo = ds->user_ptr[user], hi = ds->user_ptr[user + 1];
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (ds->ev_time[mid] < cutoff) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static int has(const int32_t *v, int n, int32_t x)
{
    for (int i = 0; i < n; i++)
        if (v[i] == x) return 1;
    return 0;
}

int64_t upf_trig_last_purchase(const upf_dataset *ds, int32_t u, int64_t cutoff)
{
    for (int64_t e = upf_trig_prefix_end(ds, u, cutoff) - 1; e >= ds->user_ptr[u]; e--)
        if (ds->ev_type[e] == UPF_EV_PURCHASE) return ds->ev_time[e];
    return UPF_TIME_MISSING;
}

int upf_trig_recent_items(const upf_dataset *ds, int32_t u, int64_t cutoff, int32_t *items, int cap)
{
    int n = 0;
    for (int64_t e = upf_trig_prefix_end(ds, u, cutoff) - 1; e >= ds->user_ptr[u] && n < cap; e--)
        if (ds->ev_item[e] >= 0 && !has(items, n, ds->ev_item[e])) items[n++] = ds->ev_item[e];
    return n;
}

/* A small open-addressing map item -> slot for the per-user scans (<= 256 items). */
#define HSLOTS 512
static int hfind(const int32_t *keys, const int16_t *val, int32_t item)
{
    uint32_t h = ((uint32_t)item * 2654435761u) & (HSLOTS - 1);
    while (keys[h] != -1) {
        if (keys[h] == item) return val[h];
        h = (h + 1) & (HSLOTS - 1);
    }
    return -1 - (int)h; /* not found: -1 - free slot */
}

int upf_trig_purchased(const upf_dataset *ds, int32_t u, int64_t cutoff, int32_t *items, int64_t *last, int *count,
                       int cap)
{
    int n = 0;
    int64_t seen_day[256]; /* earliest purchase day seen so far per item (the scan runs backwards) */
    int32_t keys[HSLOTS];
    int16_t val[HSLOTS];
    for (int h = 0; h < HSLOTS; h++) keys[h] = -1;
    if (cap > 256) cap = 256;
    for (int64_t e = upf_trig_prefix_end(ds, u, cutoff) - 1; e >= ds->user_ptr[u]; e--) {
        if (ds->ev_type[e] != UPF_EV_PURCHASE || ds->ev_item[e] < 0) continue;
        int64_t dd = day_of(ds->ev_time[e]);
        int j = hfind(keys, val, ds->ev_item[e]);
        if (j >= 0) {
            /* order lines of one day are one purchase */
            if (dd != seen_day[j]) count[j]++, seen_day[j] = dd;
            continue;
        }
        if (n == cap) continue;
        keys[-1 - j] = ds->ev_item[e], val[-1 - j] = (int16_t)n;
        items[n] = ds->ev_item[e], last[n] = ds->ev_time[e], count[n] = 1, seen_day[n] = dd, n++;
    }
    return n;
}

/* ---- calendar (UTC, proleptic Gregorian; Hinnant's civil_from_days) ---- */

static void civil(int64_t t, int64_t *y, int *m, int *d)
{
    int64_t z = day_of(t) + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int upf_trig_same_calendar_day(int64_t date, int64_t day, int require_earlier_year)
{
    int64_t y0, y1;
    int m0, d0, m1, d1;
    civil(date, &y0, &m0, &d0);
    civil(day, &y1, &m1, &d1);
    if (require_earlier_year && y0 >= y1) return 0;
    if (m0 == 2 && d0 == 29 && !leap(y1)) d0 = 28; /* a leap-day date is kept on Feb 28 */
    return m0 == m1 && d0 == d1;
}

/* ---- eligibility ---- */

static void abandon(const upf_dataset *ds, const upf_trig_rules *r, int64_t cutoff, int32_t u, int k,
                    upf_trig_cand *c)
{
    int type = k == UPF_TRIG_CART_ABANDON ? UPF_EV_CART : k == UPF_TRIG_BROWSE_ABANDON ? UPF_EV_VIEW : UPF_EV_SEARCH;
    int look = r->window_days[k] < r->expiry_days ? r->window_days[k] : r->expiry_days;
    int64_t first_day = day_of(cutoff) - look; /* the last reminder day is the event's day + look */
    int32_t bought[64];
    int n_bought = 0;
    for (int64_t e = upf_trig_prefix_end(ds, u, cutoff) - 1; e >= ds->user_ptr[u]; e--) {
        if (day_of(ds->ev_time[e]) < first_day) break;
        if (ds->ev_type[e] == UPF_EV_PURCHASE) {
            /* views and searches count only when nothing at all was bought after them */
            if (k != UPF_TRIG_CART_ABANDON) break;
            if (n_bought < 64 && !has(bought, n_bought, ds->ev_item[e])) bought[n_bought++] = ds->ev_item[e];
            continue;
        }
        if (ds->ev_type[e] != type) continue;
        int32_t x = k == UPF_TRIG_SEARCH_ABANDON ? (ds->ev_query ? ds->ev_query[e] : -1) : ds->ev_item[e];
        if (x < 0 || (k == UPF_TRIG_CART_ABANDON && has(bought, n_bought, x))) continue;
        if (has(c->items, c->n, x)) continue;
        if (!c->eligible) c->eligible = 1, c->anchor = ds->ev_time[e];
        if (c->n < UPF_TRIG_MAX_CAND) c->items[c->n++] = x;
    }
}

static void item_state(const upf_dataset *ds, const upf_trig_rules *r, const upf_trig_day *d, int32_t u, int k,
                       upf_trig_cand *c)
{
    if (!d->n_changed[k]) return;
    int64_t since = d->cutoff - (int64_t)r->affinity_history_days * DAY;
    uint8_t bit = (uint8_t)(1u << (k - UPF_TRIG_PRICE_DROP));
    for (int64_t e = upf_trig_prefix_end(ds, u, d->cutoff) - 1; e >= ds->user_ptr[u] && c->n < UPF_TRIG_MAX_CAND; e--) {
        if (ds->ev_time[e] < since) break;
        int32_t i = ds->ev_item[e];
        if (i < 0 || !(d->changed_bits[i] & bit) || has(c->items, c->n, i)) continue;
        /* interest: viewed, carted or bought (purchase-only shops have nothing else) */
        if (ds->ev_type[e] != UPF_EV_VIEW && ds->ev_type[e] != UPF_EV_CART && ds->ev_type[e] != UPF_EV_PURCHASE) continue;
        if (!c->eligible) c->eligible = 1, c->anchor = ds->ev_time[e];
        c->items[c->n++] = i;
    }
}

void upf_trig_eligible(const upf_dataset *ds, const upf_trig_rules *r, const upf_trig_day *d, int32_t u, int k,
                       upf_trig_cand *c)
{
    memset(c, 0, sizeof *c);
    c->anchor = UPF_TIME_MISSING;
    if (k < 0 || k >= UPF_TRIG_COUNT || !r->enabled[k]) return;
    int64_t cutoff = d->cutoff, today = day_of(cutoff);
    switch (k) {
    case UPF_TRIG_CART_ABANDON:
    case UPF_TRIG_BROWSE_ABANDON:
    case UPF_TRIG_SEARCH_ABANDON: abandon(ds, r, cutoff, u, k, c); return;
    case UPF_TRIG_FOLLOW_UP: {
        int64_t last = upf_trig_last_purchase(ds, u, cutoff);
        if (last == UPF_TIME_MISSING || day_of(last) != today - r->follow_up_days) return;
        c->eligible = 1, c->anchor = last;
        for (int64_t e = upf_trig_prefix_end(ds, u, cutoff) - 1; e >= ds->user_ptr[u] && c->n < UPF_TRIG_MAX_CAND; e--) {
            if (day_of(ds->ev_time[e]) < day_of(last)) break;
            if (ds->ev_type[e] == UPF_EV_PURCHASE && ds->ev_item[e] >= 0 && !has(c->items, c->n, ds->ev_item[e]))
                c->items[c->n++] = ds->ev_item[e];
        }
        return;
    }
    case UPF_TRIG_BIRTHDAY:
    case UPF_TRIG_ANNIVERSARY: {
        const int64_t *v = k == UPF_TRIG_BIRTHDAY ? ds->user_birthday : ds->user_signup;
        if (!v || v[u] == UPF_TIME_MISSING || v[u] >= cutoff) return;
        if (upf_trig_same_calendar_day(v[u], cutoff, k == UPF_TRIG_ANNIVERSARY)) c->eligible = 1, c->anchor = v[u];
        return;
    }
    case UPF_TRIG_PRICE_DROP:
    case UPF_TRIG_BACK_IN_STOCK:
    case UPF_TRIG_NEW_ARRIVALS: item_state(ds, r, d, u, k, c); return;
    case UPF_TRIG_BUY_AGAIN: {
        int32_t items[UPF_TRIG_MAX_CAND];
        int64_t last[UPF_TRIG_MAX_CAND];
        int count[UPF_TRIG_MAX_CAND];
        int n = upf_trig_purchased(ds, u, cutoff, items, last, count, UPF_TRIG_MAX_CAND);
        for (int j = 0; j < n; j++) {
            int64_t due = day_of(last[j]) + r->buy_again_rule_days;
            if (count[j] < 2 || due > today || due < today - r->buy_again_tolerance_days) continue;
            if (!c->eligible) c->eligible = 1, c->anchor = last[j];
            c->items[c->n++] = items[j];
        }
        return;
    }
    case UPF_TRIG_WIN_BACK: {
        int64_t last = upf_trig_last_purchase(ds, u, cutoff);
        if (last == UPF_TIME_MISSING) return;
        int64_t since = today - day_of(last);
        if (since >= r->win_back_rule_days && since <= r->win_back_max_days) c->eligible = 1, c->anchor = last;
        return;
    }
    default: return;
    }
}
