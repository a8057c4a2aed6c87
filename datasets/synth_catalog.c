/* synth_catalog.c - the generated catalogue: categories, brands nested in
 * categories, items with log-normal prices, price bands, description tokens,
 * Zipf popularity, listing and delisting dates, item price and stock histories,
 * and the hierarchical sampler that draws items from a user's preferences.
 *
 * Not here: users and their events (synth_users.c, synth_events.c). Formulas:
 * SYNTH.md "Catalogue". Entry points: syn_catalog_build, syn_choice_build,
 * syn_pref_setup / syn_pref_draw, the syn_item_* state lookups.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "synth_internal.h"

/* name, median list price, base rebuy interval in days (0 = durable). Ordered
 * so that any prefix mixes durable and consumable categories. */
static const struct {
    const char *name;
    double median_price;
    double rebuy_days;
} category_table[UPF_SYNTH_MAX_CATEGORIES] = {
    { "coffee", 12, 30 },         { "running shoes", 90, 0 },   { "headphones", 80, 0 },
    { "books", 15, 0 },           { "pet food", 25, 30 },       { "jackets", 120, 0 },
    { "kitchenware", 30, 0 },     { "smartphones", 450, 0 },    { "shampoo", 8, 45 },
    { "t-shirts", 20, 0 },        { "board games", 35, 0 },     { "tea", 9, 40 },
    { "jeans", 60, 0 },           { "lamps", 45, 0 },           { "laptops", 900, 0 },
    { "diapers", 30, 21 },        { "toys", 25, 0 },            { "watches", 150, 0 },
    { "bedding", 60, 0 },         { "vitamins", 18, 45 },       { "sneakers", 70, 0 },
    { "cookware", 70, 0 },        { "tablets", 350, 0 },        { "snacks", 5, 14 },
    { "dresses", 55, 0 },         { "gardening tools", 35, 0 }, { "cameras", 500, 0 },
    { "cleaning supplies", 10, 40 }, { "backpacks", 50, 0 },    { "video games", 50, 0 },
    { "furniture", 250, 0 },      { "razor blades", 15, 50 },   { "sunglasses", 80, 0 },
    { "perfume", 60, 0 },         { "bicycles", 400, 0 },       { "printer ink", 35, 75 },
    { "jewelry", 110, 0 },        { "fitness equipment", 120, 0 }, { "makeup", 22, 0 },
    { "skincare", 28, 0 },
};

const char *const syn_adjectives[] = {
    "organic", "classic", "premium", "eco",     "compact", "deluxe", "original", "sport",
    "vintage", "modern",  "light",   "rugged",  "mini",    "xl",     "wireless", "natural",
    "soft",    "bold",    "fresh",   "smart",   "slim",    "pro",    "basic",    "family",
    "travel",  "urban",   "studio",  "daily",   "ultra",   "essential",
};
const size_t syn_n_adjectives = sizeof syn_adjectives / sizeof syn_adjectives[0];

static const char *const syllables[30] = {
    "ka", "lo", "mi", "ra", "ven", "to", "za", "nu", "pel", "dor", "fi", "sa", "bri", "mo", "tex",
    "lu", "gar", "ne", "vo", "quin", "ar", "bel", "cor", "dan", "el", "fen", "gil", "hal", "ix", "jor",
};

/* Constants of the catalogue (SYNTH.md documents each). */
#define CAT_SIZE_EXPONENT 0.6   /* category size weights rank^-0.6 */
#define BRAND_SIZE_EXPONENT 0.8 /* brand share within a category rank^-0.8 */
#define BRAND_PREMIUM_SD 0.3    /* log-price premium of a brand */
#define ITEM_PRICE_SD 0.3       /* log-price noise of an item */
#define REBUY_SD 0.25           /* log-sd of item rebuy intervals around the category's */
#define OLD_ITEM_EXTRA_DAYS 365 /* old items were listed up to history_days + this before start */
#define PRICE_CHANGE_PER_DAY (1.0 / 365.0) /* permanent price changes */
#define PRICE_CHANGE_SD 0.08
#define SALE_MIN_CUT 0.10
#define SALE_MAX_CUT 0.40
#define SALE_MIN_DAYS 3.0
#define SALE_MAX_DAYS 21.0
#define STOCKOUT_MIN_DAYS 2.0
#define STOCKOUT_MAX_DAYS 20.0

/* ---- small growable arrays ---- */

static int grow(void **p, size_t elem, size_t cap)
{
    void *q = upf_realloc(*p, cap * elem);
    if (!q) return -1;
    *p = q;
    return 0;
}

static float round_price(double x)
{
    if (x >= 10.0) return (float)(floor(x) + 0.99);
    double c = round(x * 100.0) / 100.0;
    return (float)(c < 0.5 ? 0.5 : c);
}

/* ---- brand names: a bijection from index to syllable strings ---- */

static char *brand_name(uint32_t b, uint32_t n_brands)
{
    uint32_t n_syl = n_brands <= 900 ? 2 : 3, space = n_syl == 2 ? 900 : 27000;
    uint32_t h = (uint32_t)(((uint64_t)b * 7919u + 101u) % space); /* 7919 is prime, coprime to 2^a 3^b 5^c */
    char buf[16];
    size_t len = 0;
    for (uint32_t k = 0; k < n_syl; k++) {
        const char *s = syllables[h % 30];
        h /= 30;
        size_t sl = strlen(s);
        memcpy(buf + len, s, sl);
        len += sl;
    }
    buf[len] = '\0';
    return upf_strdup(buf);
}

/* ---- choice tables ---- */

static size_t first_greater(const double *a, size_t lo, size_t hi, double x)
{
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] > x) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

/* Index in [lo, hi) drawn from cumulative weights a (base = weight before lo). */
static size_t pick_cum(const double *a, size_t lo, size_t hi, double base, double u)
{
    double x = base + u * (a[hi - 1] - base);
    size_t k = first_greater(a, lo, hi, x);
    if (k < hi) return k;
    /* rounding put x at the top: take the last index with positive weight */
    k = hi - 1;
    while (k > lo && a[k] == a[k - 1]) k--;
    return k;
}

/* Index in [lo, hi) of an array of structs whose double `cum` is cumulative. */
#define PICK_ENTRY(arr, lo, hi, u, out)                          \
    do {                                                         \
        size_t lo_ = (lo), hi_ = (hi);                           \
        double x_ = (u) * (arr)[hi_ - 1].cum;                    \
        while (lo_ < hi_) {                                      \
            size_t mid_ = lo_ + (hi_ - lo_) / 2;                 \
            if ((arr)[mid_].cum > x_) hi_ = mid_;                \
            else lo_ = mid_ + 1;                                 \
        }                                                        \
        if (lo_ == (hi)) /* rounding: the last positive entry */ \
            for (lo_ = (hi) - 1; lo_ > (lo) && (arr)[lo_].cum == (arr)[lo_ - 1].cum; lo_--) \
                ;                                                \
        (out) = lo_;                                             \
    } while (0)

upf_status syn_choice_build(const syn_ctx *c, const uint8_t *keep, const float *price, syn_choice *out,
                            upf_err *err)
{
    const upf_synth_truth *t = c->t;
    size_t nb = t->n_brands, S = t->n_styles, n_groups = t->n_categories * S;
    size_t n_cells = nb * UPF_SYNTH_BANDS, n_gb = n_groups * UPF_SYNTH_BANDS, n = 0;
    int64_t *cell_ptr = NULL, *group_ptr = NULL;
    int32_t *brands = NULL;
    double *cell_mass = NULL;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < t->n_items; i++) n += !keep || keep[i];
    out->n_groups = n_groups;
    out->group_mass = upf_calloc(n_gb, sizeof *out->group_mass);
    out->gb_ptr = upf_calloc(n_gb + 1, sizeof *out->gb_ptr);
    out->gb = upf_malloc(n_cells * sizeof *out->gb);
    out->items = upf_malloc((n ? n : 1) * sizeof *out->items);
    if (price) out->group_value = upf_calloc(n_gb, sizeof *out->group_value);
    cell_ptr = upf_calloc(n_cells + 1, sizeof *cell_ptr);
    group_ptr = upf_calloc(n_groups + 1, sizeof *group_ptr);
    brands = upf_malloc(nb * sizeof *brands);
    cell_mass = upf_calloc(n_cells, sizeof *cell_mass);
    if (!out->group_mass || !out->gb_ptr || !out->gb || !out->items || (price && !out->group_value) || !cell_ptr ||
        !group_ptr || !brands || !cell_mass) {
        upf_free(cell_ptr);
        upf_free(group_ptr);
        upf_free(brands);
        upf_free(cell_mass);
        syn_choice_free(out);
        return upf_err_set(err, UPF_ERR_NOMEM, "synth: out of memory (choice tables, %zu items)", n);
    }
    /* items by cell (brand, band), in item order within a cell */
    for (size_t i = 0; i < t->n_items; i++)
        if (!keep || keep[i]) cell_ptr[(size_t)t->item_brand[i] * UPF_SYNTH_BANDS + t->item_band[i] + 1]++;
    for (size_t k = 0; k < n_cells; k++) cell_ptr[k + 1] += cell_ptr[k];
    for (size_t i = 0; i < t->n_items; i++) {
        if (keep && !keep[i]) continue;
        size_t cell = (size_t)t->item_brand[i] * UPF_SYNTH_BANDS + t->item_band[i];
        syn_item_entry *e = &out->items[cell_ptr[cell]++]; /* cell_ptr[cell] ends at the next cell's start */
        e->item = (int32_t)i;
        e->added = t->item_added[i];
        e->removed = t->item_removed[i];
        e->pad = 0;
    }
    for (size_t k = n_cells; k > 0; k--) cell_ptr[k] = cell_ptr[k - 1]; /* shift back to starts */
    cell_ptr[0] = 0;
    for (size_t cell = 0; cell < n_cells; cell++) {
        double sum = 0.0, v = 0.0;
        for (int64_t j = cell_ptr[cell]; j < cell_ptr[cell + 1]; j++) {
            int32_t i = out->items[j].item;
            sum += (double)t->item_popularity[i];
            if (price) v += (double)t->item_popularity[i] * (double)price[i];
            out->items[j].cum = sum;
        }
        size_t b = cell / UPF_SYNTH_BANDS, k = cell % UPF_SYNTH_BANDS;
        size_t g = (size_t)t->brand_category[b] * S + t->brand_style[b];
        cell_mass[cell] = sum;
        out->group_mass[g * UPF_SYNTH_BANDS + k] += sum;
        if (price) out->group_value[g * UPF_SYNTH_BANDS + k] += v;
        out->total += sum;
    }
    /* brands by group (brand order within), then per (group, band) those with mass */
    for (size_t b = 0; b < nb; b++) group_ptr[(size_t)t->brand_category[b] * S + t->brand_style[b] + 1]++;
    for (size_t g = 0; g < n_groups; g++) group_ptr[g + 1] += group_ptr[g];
    for (size_t b = 0; b < nb; b++) brands[group_ptr[(size_t)t->brand_category[b] * S + t->brand_style[b]]++] = (int32_t)b;
    for (size_t g = n_groups; g > 0; g--) group_ptr[g] = group_ptr[g - 1];
    group_ptr[0] = 0;
    size_t m = 0;
    for (size_t g = 0; g < n_groups; g++)
        for (size_t k = 0; k < UPF_SYNTH_BANDS; k++) {
            double sum = 0.0;
            out->gb_ptr[g * UPF_SYNTH_BANDS + k] = (int64_t)m;
            for (int64_t j = group_ptr[g]; j < group_ptr[g + 1]; j++) {
                size_t cell = (size_t)brands[j] * UPF_SYNTH_BANDS + k;
                if (!(cell_mass[cell] > 0.0)) continue;
                out->gb[m].cum = sum += cell_mass[cell];
                out->gb[m].lo = (int32_t)cell_ptr[cell];
                out->gb[m].hi = (int32_t)cell_ptr[cell + 1];
                m++;
            }
        }
    out->gb_ptr[n_gb] = (int64_t)m;
    upf_free(cell_ptr);
    upf_free(group_ptr);
    upf_free(brands);
    upf_free(cell_mass);
    return UPF_OK;
}

void syn_choice_free(syn_choice *ch)
{
    upf_free(ch->group_mass);
    upf_free(ch->group_value);
    upf_free(ch->gb_ptr);
    upf_free(ch->gb);
    upf_free(ch->items);
    memset(ch, 0, sizeof *ch);
}

static double dot(const float *a, const float *b, size_t n)
{
    double s = 0.0;
    for (size_t k = 0; k < n; k++) s += (double)a[k] * (double)b[k];
    return s;
}

double syn_pref_setup(const syn_ctx *c, const syn_choice *ch, size_t user, syn_pref *pref)
{
    const upf_synth_truth *t = c->t;
    const float *z = t->user_taste + user * t->dim;
    size_t nc = t->n_categories, S = t->n_styles;
    double ec[UPF_SYNTH_MAX_CATEGORIES], es[UPF_SYNTH_MAX_STYLES], top_c = -HUGE_VAL, top_s = -HUGE_VAL;
    for (size_t k = 0; k < UPF_SYNTH_BANDS; k++) pref->band_exp[k] = exp(-(double)t->user_price_sens[user] * (double)k);
    for (size_t cat = 0; cat < nc; cat++) {
        ec[cat] = dot(z, t->category_vec + cat * t->dim, t->dim);
        if (ec[cat] > top_c) top_c = ec[cat];
    }
    for (size_t st = 0; st < S; st++) {
        es[st] = dot(z, t->style_vec + st * t->dim, t->dim);
        if (es[st] > top_s) top_s = es[st];
    }
    /* shifted by the top utilities: no overflow, same distribution */
    for (size_t cat = 0; cat < nc; cat++) ec[cat] = exp(ec[cat] - top_c);
    for (size_t st = 0; st < S; st++) es[st] = exp(es[st] - top_s);
    double sum = 0.0;
    for (size_t g = 0; g < ch->n_groups; g++) {
        const double *m = ch->group_mass + g * UPF_SYNTH_BANDS;
        double mg = 0.0;
        for (size_t k = 0; k < UPF_SYNTH_BANDS; k++) mg += pref->band_exp[k] * m[k];
        sum += ec[g / S] * es[g % S] * mg;
        pref->group_cum[g] = sum;
    }
    return sum;
}

double syn_pref_mean_value(const syn_ctx *c, const syn_choice *ch, const syn_pref *pref)
{
    (void)c;
    double num = 0.0, den = 0.0, prev = 0.0;
    for (size_t g = 0; g < ch->n_groups; g++) {
        double wg = pref->group_cum[g] - prev, mg = 0.0, vg = 0.0;
        prev = pref->group_cum[g];
        for (size_t k = 0; k < UPF_SYNTH_BANDS; k++) {
            mg += pref->band_exp[k] * ch->group_mass[g * UPF_SYNTH_BANDS + k];
            vg += pref->band_exp[k] * ch->group_value[g * UPF_SYNTH_BANDS + k];
        }
        if (mg > 0.0 && wg > 0.0) { /* wg = (user factor) * mg: the value's share is vg / mg */
            num += wg * vg / mg;
            den += wg;
        }
    }
    return den > 0.0 ? num / den : 0.0;
}

const syn_item_entry *syn_pref_draw(const syn_ctx *c, const syn_choice *ch, const syn_pref *pref, int32_t category,
                                    upf_rng *r)
{
    size_t S = c->t->n_styles, g0 = 0, g1 = ch->n_groups;
    if (category >= 0) {
        g0 = (size_t)category * S;
        g1 = g0 + S;
    }
    double base = g0 ? pref->group_cum[g0 - 1] : 0.0;
    if (!(pref->group_cum[g1 - 1] > base)) return NULL;
    size_t g = pick_cum(pref->group_cum, g0, g1, base, upf_rng_uniform(r));
    const double *m = ch->group_mass + g * UPF_SYNTH_BANDS;
    double w[UPF_SYNTH_BANDS], sum = 0.0;
    for (size_t k = 0; k < UPF_SYNTH_BANDS; k++) w[k] = sum += pref->band_exp[k] * m[k];
    if (!(sum > 0.0)) return NULL;
    size_t gk = g * UPF_SYNTH_BANDS + pick_cum(w, 0, UPF_SYNTH_BANDS, 0.0, upf_rng_uniform(r));
    size_t lo = (size_t)ch->gb_ptr[gk], hi = (size_t)ch->gb_ptr[gk + 1], j;
    if (hi <= lo) return NULL;
    PICK_ENTRY(ch->gb, lo, hi, upf_rng_uniform(r), j);
    const syn_brand_entry *be = &ch->gb[j];
    PICK_ENTRY(ch->items, (size_t)be->lo, (size_t)be->hi, upf_rng_uniform(r), j);
    return &ch->items[j];
}

/* ---- item state lookups ---- */

int syn_item_listed(const syn_ctx *c, int32_t item, int64_t t0, int64_t t1)
{
    int64_t removed = c->t->item_removed[item];
    return c->t->item_added[item] <= t0 && (removed == UPF_TIME_MISSING || t1 < removed);
}

int syn_item_in_stock(const syn_ctx *c, int32_t item, int64_t t0, int64_t t1)
{
    int in_stock = 0;
    for (int64_t e = c->ie_ptr[item]; e < c->ie_ptr[item + 1] && c->ie_time[e] <= t1; e++) {
        if (c->ie_kind[e] != UPF_IE_STOCK) continue;
        if (c->ie_time[e] <= t0) in_stock = c->ie_value[e] > 0.0f;
        else if (c->ie_value[e] <= 0.0f) return 0;
    }
    return in_stock;
}

float syn_item_price(const syn_ctx *c, int32_t item, int64_t t)
{
    float price = c->t->item_base_price[item];
    for (int64_t e = c->ie_ptr[item]; e < c->ie_ptr[item + 1] && c->ie_time[e] <= t; e++)
        if (c->ie_kind[e] == UPF_IE_PRICE) price = c->ie_value[e];
    return price;
}

const char *syn_item_brand(const syn_ctx *c, int32_t item) { return c->t->brand_names[c->t->item_brand[item]]; }

const char *syn_item_adjective(const syn_ctx *c, int32_t item, int which)
{
    return syn_adjectives[c->item_adj[(size_t)item * 2 + (size_t)which]];
}

/* ---- item histories ---- */

typedef struct ie_rec {
    int64_t time;
    uint8_t kind;
    float value;
} ie_rec;

typedef struct ie_vec {
    ie_rec *v;
    size_t n, cap;
} ie_vec;

static int ie_push(ie_vec *a, int64_t time, int kind, float value)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        if (grow((void **)&a->v, sizeof *a->v, cap)) return -1;
        a->cap = cap;
    }
    a->v[a->n++] = (ie_rec){ time, (uint8_t)kind, value };
    return 0;
}

static int ie_append(syn_ctx *c, int32_t item, const ie_rec *r)
{
    if (c->n_ie == c->cap_ie) {
        size_t cap = c->cap_ie ? c->cap_ie + c->cap_ie / 2 : 4096;
        if (grow((void **)&c->ie_item, sizeof *c->ie_item, cap) || grow((void **)&c->ie_time, sizeof *c->ie_time, cap) ||
            grow((void **)&c->ie_kind, sizeof *c->ie_kind, cap) || grow((void **)&c->ie_value, sizeof *c->ie_value, cap))
            return -1;
        c->cap_ie = cap;
    }
    c->ie_item[c->n_ie] = item;
    c->ie_time[c->n_ie] = r->time;
    c->ie_kind[c->n_ie] = r->kind;
    c->ie_value[c->n_ie] = r->value;
    c->n_ie++;
    return 0;
}

/* One item's state history: listing, initial price and stock, then sales,
 * permanent price changes and stock-outs inside the simulated range. */
static int item_history(syn_ctx *c, int32_t i, ie_vec *prices, ie_vec *stock)
{
    const upf_synth_truth *t = c->t;
    const upf_synth_params *p = &c->p;
    upf_rng r;
    syn_rng(&r, p->seed, SYN_STREAM_ITEM, (uint64_t)i);
    int64_t added = t->item_added[i], removed = t->item_removed[i];
    int64_t begin = added > t->t_start ? added : t->t_start;
    int64_t end = removed != UPF_TIME_MISSING ? removed : t->t_end;
    float price = t->item_base_price[i];
    prices->n = stock->n = 0;
    if (ie_push(prices, added, UPF_IE_PRICE, price)) return -1;
    if (ie_push(stock, added, UPF_IE_STOCK, (float)(20 + upf_rng_below(&r, 181)))) return -1;

    double sale_per_day = p->sale_rate / 90.0, rate = sale_per_day + PRICE_CHANGE_PER_DAY;
    double tt = (double)begin;
    for (;;) {
        tt += upf_rng_exponential(&r) / rate * SYN_DAY;
        if (tt >= (double)end) break;
        if (upf_rng_uniform(&r) * rate < sale_per_day) {
            double cut = SALE_MIN_CUT + (SALE_MAX_CUT - SALE_MIN_CUT) * upf_rng_uniform(&r);
            double days = SALE_MIN_DAYS + (SALE_MAX_DAYS - SALE_MIN_DAYS) * upf_rng_uniform(&r);
            if (ie_push(prices, (int64_t)tt, UPF_IE_PRICE, round_price((double)price * (1.0 - cut)))) return -1;
            tt += days * SYN_DAY;
            if (tt >= (double)end) break;
            if (ie_push(prices, (int64_t)tt, UPF_IE_PRICE, price)) return -1;
        } else {
            price = round_price((double)price * exp(PRICE_CHANGE_SD * upf_rng_normal(&r)));
            if (ie_push(prices, (int64_t)tt, UPF_IE_PRICE, price)) return -1;
        }
    }
    if (p->stockout_rate > 0.0) {
        double gap_days = 180.0 / p->stockout_rate;
        tt = (double)begin;
        for (;;) {
            tt += upf_rng_exponential(&r) * gap_days * SYN_DAY;
            if (tt >= (double)end) break;
            if (ie_push(stock, (int64_t)tt, UPF_IE_STOCK, 0.0f)) return -1;
            tt += (STOCKOUT_MIN_DAYS + (STOCKOUT_MAX_DAYS - STOCKOUT_MIN_DAYS) * upf_rng_uniform(&r)) * SYN_DAY;
            if (tt >= (double)end) break;
            if (ie_push(stock, (int64_t)tt, UPF_IE_STOCK, (float)(20 + upf_rng_below(&r, 181)))) return -1;
        }
    }
    /* merge: listing first, then by time (price before stock on ties) */
    ie_rec listed = { added, UPF_IE_LISTED, 0.0f };
    if (ie_append(c, i, &listed)) return -1;
    size_t a = 0, b = 0;
    while (a < prices->n || b < stock->n) {
        const ie_rec *next = (b >= stock->n || (a < prices->n && prices->v[a].time <= stock->v[b].time))
                                 ? &prices->v[a++] : &stock->v[b++];
        if (ie_append(c, i, next)) return -1;
    }
    if (removed != UPF_TIME_MISSING) {
        ie_rec gone = { removed, UPF_IE_DELISTED, 0.0f };
        if (ie_append(c, i, &gone)) return -1;
    }
    c->item_end_price[i] = prices->v[prices->n - 1].value;
    c->item_end_stock[i] = removed == UPF_TIME_MISSING && stock->v[stock->n - 1].value > 0.0f;
    return 0;
}

/* ---- the catalogue ---- */

typedef struct price_key {
    int32_t cat;
    float price;
    int32_t item;
} price_key;

static int cmp_price_key(const void *a, const void *b)
{
    const price_key *x = a, *y = b;
    if (x->cat != y->cat) return x->cat < y->cat ? -1 : 1;
    if (x->price != y->price) return x->price < y->price ? -1 : 1;
    return (x->item > y->item) - (x->item < y->item);
}

upf_status syn_catalog_build(syn_ctx *c, upf_err *err)
{
    upf_synth_truth *t = c->t;
    const upf_synth_params *p = &c->p;
    size_t nc = p->n_categories, nb = p->n_brands, ni = (size_t)p->n_items, K = p->dim;
    upf_status st = UPF_OK;
    double *cat_w = NULL, *brand_cum = NULL, *brand_premium = NULL;
    int32_t *perm = NULL, *brand_start = NULL; /* brands of category c: [brand_start[c], brand_start[c+1]) */
    price_key *keys = NULL;
    ie_vec prices = { 0 }, stock = { 0 };
    upf_rng r;
    syn_rng(&r, p->seed, SYN_STREAM_CATALOG, 0);

    t->n_categories = nc;
    t->n_brands = nb;
    t->n_items = ni;
    t->dim = K;
    size_t n_perm = nc > ni ? nc : ni;
    t->category_names = upf_calloc(nc, sizeof *t->category_names);
    t->category_rebuy_days = upf_calloc(nc, sizeof *t->category_rebuy_days);
    t->category_vec = upf_calloc(nc * K, sizeof *t->category_vec);
    t->brand_names = upf_calloc(nb, sizeof *t->brand_names);
    t->brand_category = upf_calloc(nb, sizeof *t->brand_category);
    t->n_styles = p->n_styles;
    t->brand_style = upf_calloc(nb, sizeof *t->brand_style);
    t->style_vec = upf_calloc(p->n_styles * K, sizeof *t->style_vec);
    t->item_category = upf_calloc(ni, sizeof *t->item_category);
    t->item_brand = upf_calloc(ni, sizeof *t->item_brand);
    t->item_band = upf_calloc(ni, sizeof *t->item_band);
    t->item_popularity = upf_calloc(ni, sizeof *t->item_popularity);
    t->item_base_price = upf_calloc(ni, sizeof *t->item_base_price);
    t->item_rebuy_days = upf_calloc(ni, sizeof *t->item_rebuy_days);
    t->item_added = upf_calloc(ni, sizeof *t->item_added);
    t->item_removed = upf_calloc(ni, sizeof *t->item_removed);
    brand_start = upf_calloc(nc + 1, sizeof *brand_start);
    c->item_adj = upf_calloc(ni * 2, sizeof *c->item_adj);
    c->ie_ptr = upf_calloc(ni + 1, sizeof *c->ie_ptr);
    c->item_end_price = upf_calloc(ni, sizeof *c->item_end_price);
    c->item_end_stock = upf_calloc(ni, sizeof *c->item_end_stock);
    cat_w = upf_calloc(nc, sizeof *cat_w);
    brand_cum = upf_calloc(nb, sizeof *brand_cum);
    brand_premium = upf_calloc(nb, sizeof *brand_premium);
    perm = upf_calloc(n_perm, sizeof *perm);
    keys = upf_calloc(ni, sizeof *keys);
    if (!t->category_names || !t->category_rebuy_days || !t->category_vec || !t->brand_names ||
        !t->brand_category || !t->brand_style || !t->style_vec || !t->item_category || !t->item_brand || !t->item_band ||
        !t->item_popularity || !t->item_base_price || !t->item_rebuy_days || !t->item_added ||
        !t->item_removed || !brand_start || !c->item_adj || !c->ie_ptr || !c->item_end_price ||
        !c->item_end_stock || !cat_w || !brand_cum || !brand_premium || !perm || !keys) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "synth: out of memory (catalogue of %zu items)", ni);
        goto done;
    }

    /* categories: names, rebuy intervals, taste vectors C_c ~ N(0, affinity^2/K) */
    double c_sd = p->affinity / sqrt((double)K), d_sd = p->brand_affinity / sqrt((double)K);
    for (size_t k = 0; k < nc; k++) {
        if (!(t->category_names[k] = upf_strdup(category_table[k].name))) goto nomem;
        t->category_rebuy_days[k] = (float)category_table[k].rebuy_days;
        for (size_t d = 0; d < K; d++) t->category_vec[k * K + d] = (float)(c_sd * upf_rng_normal(&r));
    }
    for (size_t k = 0; k < nc; k++) perm[k] = (int32_t)k;
    upf_rng_shuffle_i32(&r, perm, nc);
    double cat_sum = 0.0;
    for (size_t k = 0; k < nc; k++) cat_sum += cat_w[k] = pow((double)perm[k] + 1.0, -CAT_SIZE_EXPONENT);

    /* brands per category: one each, the rest by largest remainder of the size weights */
    {
        size_t left = nb - nc, given = 0;
        int32_t *count = perm; /* reuse: perm is refilled below */
        double best_frac[UPF_SYNTH_MAX_CATEGORIES];
        for (size_t k = 0; k < nc; k++) {
            double share = (double)left * cat_w[k] / cat_sum;
            count[k] = 1 + (int32_t)floor(share);
            best_frac[k] = share - floor(share);
            given += (size_t)count[k] - 1;
        }
        while (given < left) { /* hand out the remainder, largest fraction first */
            size_t arg = 0;
            for (size_t k = 1; k < nc; k++)
                if (best_frac[k] > best_frac[arg]) arg = k;
            count[arg]++;
            best_frac[arg] = -1.0;
            given++;
        }
        brand_start[0] = 0;
        for (size_t k = 0; k < nc; k++) brand_start[k + 1] = brand_start[k] + count[k];
    }
    for (size_t k = 0; k < nc; k++) {
        double s = 0.0;
        for (int32_t b = brand_start[k]; b < brand_start[k + 1]; b++) {
            t->brand_category[b] = (int32_t)k;
            brand_cum[b] = s += pow((double)(b - brand_start[k]) + 1.0, -BRAND_SIZE_EXPONENT);
        }
    }
    /* brand styles: D_s ~ N(0, brand_affinity^2/K), each brand one style */
    for (size_t k = 0; k < (size_t)p->n_styles * K; k++) t->style_vec[k] = (float)(d_sd * upf_rng_normal(&r));
    for (size_t b = 0; b < nb; b++) {
        if (!(t->brand_names[b] = brand_name((uint32_t)b, (uint32_t)nb))) goto nomem;
        t->brand_style[b] = (uint8_t)upf_rng_below(&r, p->n_styles);
        brand_premium[b] = BRAND_PREMIUM_SD * upf_rng_normal(&r);
    }

    /* items: category (the first nc items cover every category), brand, price */
    {
        double *cat_cum = cat_w; /* cumulative in place */
        for (size_t k = 1; k < nc; k++) cat_cum[k] += cat_cum[k - 1];
        for (size_t i = 0; i < ni; i++) {
            size_t k = i < nc ? i : pick_cum(cat_cum, 0, nc, 0.0, upf_rng_uniform(&r));
            size_t b0 = (size_t)brand_start[k], b1 = (size_t)brand_start[k + 1];
            size_t b = pick_cum(brand_cum, b0, b1, 0.0, upf_rng_uniform(&r));
            t->item_category[i] = (int32_t)k;
            t->item_brand[i] = (int32_t)b;
            double logp = log(category_table[k].median_price) + brand_premium[b] + ITEM_PRICE_SD * upf_rng_normal(&r);
            t->item_base_price[i] = round_price(exp(logp));
            if (category_table[k].rebuy_days > 0.0)
                t->item_rebuy_days[i] = (float)(category_table[k].rebuy_days * exp(REBUY_SD * upf_rng_normal(&r)));
            uint32_t a0 = upf_rng_below(&r, (uint32_t)syn_n_adjectives);
            uint32_t a1 = upf_rng_below(&r, (uint32_t)syn_n_adjectives - 1);
            if (a1 >= a0) a1++;
            c->item_adj[i * 2] = (uint8_t)a0;
            c->item_adj[i * 2 + 1] = (uint8_t)a1;
        }
    }
    /* price bands: quintiles of the list price within the category */
    for (size_t i = 0; i < ni; i++) keys[i] = (price_key){ t->item_category[i], t->item_base_price[i], (int32_t)i };
    qsort(keys, ni, sizeof *keys, cmp_price_key);
    for (size_t lo = 0; lo < ni;) {
        size_t hi = lo;
        while (hi < ni && keys[hi].cat == keys[lo].cat) hi++;
        for (size_t j = lo; j < hi; j++)
            t->item_band[keys[j].item] = (uint8_t)((j - lo) * UPF_SYNTH_BANDS / (hi - lo));
        lo = hi;
    }
    /* popularity: a random rank within the item's category, w = rank^-zipf
     * (each category has its head and its long tail) */
    {
        int32_t rank[UPF_SYNTH_MAX_CATEGORIES] = { 0 };
        for (size_t i = 0; i < ni; i++) perm[i] = (int32_t)i;
        upf_rng_shuffle_i32(&r, perm, ni);
        for (size_t k = 0; k < ni; k++) {
            int32_t i = perm[k];
            t->item_popularity[i] = (float)pow((double)++rank[t->item_category[i]], -p->zipf);
        }
    }

    /* listing and delisting */
    {
        double range = (double)(t->t_end - t->t_start), cold = (double)p->cold_days * SYN_DAY;
        double old_span = ((double)p->history_days + OLD_ITEM_EXTRA_DAYS) * SYN_DAY;
        for (size_t i = 0; i < ni; i++) {
            double u = upf_rng_uniform(&r), v = upf_rng_uniform(&r);
            int64_t added;
            if (u < p->cold_item_share) added = t->t_end - 1 - (int64_t)(v * (cold - 1.0));
            else if (u < p->cold_item_share + p->new_item_share) added = t->t_start + (int64_t)(v * (range - cold));
            else added = t->t_start - 1 - (int64_t)(v * old_span);
            t->item_added[i] = added;
            t->item_removed[i] = UPF_TIME_MISSING;
            double w = upf_rng_uniform(&r), x = upf_rng_uniform(&r);
            int64_t lo = (added > t->t_start ? added : t->t_start) + 7 * SYN_DAY;
            if (w < p->delist_share && lo < t->t_end) t->item_removed[i] = lo + (int64_t)(x * (double)(t->t_end - lo));
        }
    }
    /* state histories, item by item (each from its own stream) */
    for (size_t i = 0; i < ni; i++) {
        c->ie_ptr[i] = (int64_t)c->n_ie;
        if (item_history(c, (int32_t)i, &prices, &stock)) goto nomem;
    }
    c->ie_ptr[ni] = (int64_t)c->n_ie;
    st = syn_choice_build(c, NULL, NULL, &c->all, err);
    goto done;

nomem:
    st = upf_err_set(err, UPF_ERR_NOMEM, "synth: out of memory (catalogue of %zu items)", ni);
done:
    upf_free(cat_w);
    upf_free(brand_cum);
    upf_free(brand_premium);
    upf_free(perm);
    upf_free(brand_start);
    upf_free(keys);
    upf_free(prices.v);
    upf_free(stock.v);
    return st;
}
