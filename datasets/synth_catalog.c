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

upf_status syn_choice_build(const syn_ctx *c, const uint8_t *keep, const float *price, syn_choice *out,
                            upf_err *err)
{
    const upf_synth_truth *t = c->t;
    size_t n_cells = t->n_brands * UPF_SYNTH_BANDS, n = 0;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < t->n_items; i++) n += !keep || keep[i];
    out->cell_mass = upf_calloc(n_cells, sizeof *out->cell_mass);
    out->cell_ptr = upf_calloc(n_cells + 1, sizeof *out->cell_ptr);
    out->items = upf_malloc((n ? n : 1) * sizeof *out->items);
    out->cum = upf_malloc((n ? n : 1) * sizeof *out->cum);
    if (price) out->cell_value = upf_calloc(n_cells, sizeof *out->cell_value);
    if (!out->cell_mass || !out->cell_ptr || !out->items || !out->cum || (price && !out->cell_value)) {
        syn_choice_free(out);
        return upf_err_set(err, UPF_ERR_NOMEM, "synth: out of memory (choice tables, %zu items)", n);
    }
    for (size_t i = 0; i < t->n_items; i++)
        if (!keep || keep[i]) out->cell_ptr[(size_t)t->item_brand[i] * UPF_SYNTH_BANDS + t->item_band[i] + 1]++;
    for (size_t k = 0; k < n_cells; k++) out->cell_ptr[k + 1] += out->cell_ptr[k];
    /* fill cells in item order */
    int64_t *cursor = upf_malloc((n_cells ? n_cells : 1) * sizeof *cursor);
    if (!cursor) {
        syn_choice_free(out);
        return upf_err_set(err, UPF_ERR_NOMEM, "synth: out of memory (choice tables)");
    }
    memcpy(cursor, out->cell_ptr, n_cells * sizeof *cursor);
    for (size_t i = 0; i < t->n_items; i++) {
        if (keep && !keep[i]) continue;
        size_t cell = (size_t)t->item_brand[i] * UPF_SYNTH_BANDS + t->item_band[i];
        out->items[cursor[cell]++] = (int32_t)i;
    }
    upf_free(cursor);
    for (size_t k = 0; k < n_cells; k++) {
        double s = 0.0, v = 0.0;
        for (int64_t j = out->cell_ptr[k]; j < out->cell_ptr[k + 1]; j++) {
            int32_t i = out->items[j];
            s += (double)t->item_popularity[i];
            if (price) v += (double)t->item_popularity[i] * (double)price[i];
            out->cum[j] = s;
        }
        out->cell_mass[k] = s;
        if (price) out->cell_value[k] = v;
        out->total += s;
    }
    return UPF_OK;
}

void syn_choice_free(syn_choice *ch)
{
    upf_free(ch->cell_mass);
    upf_free(ch->cell_value);
    upf_free(ch->cell_ptr);
    upf_free(ch->items);
    upf_free(ch->cum);
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
    double zc[UPF_SYNTH_MAX_CATEGORIES], top = -HUGE_VAL;
    for (size_t k = 0; k < UPF_SYNTH_BANDS; k++) pref->band_exp[k] = exp(-(double)t->user_price_sens[user] * (double)k);
    for (size_t cat = 0; cat < t->n_categories; cat++) zc[cat] = dot(z, t->category_vec + cat * t->dim, t->dim);
    for (size_t b = 0; b < t->n_brands; b++) {
        double u = zc[t->brand_category[b]] + dot(z, t->brand_vec + b * t->dim, t->dim);
        pref->brand_cum[b] = u;
        if (u > top) top = u;
    }
    double s = 0.0;
    for (size_t b = 0; b < t->n_brands; b++) {
        const double *m = ch->cell_mass + b * UPF_SYNTH_BANDS;
        double mb = 0.0;
        for (size_t k = 0; k < UPF_SYNTH_BANDS; k++) mb += pref->band_exp[k] * m[k];
        s += exp(pref->brand_cum[b] - top) * mb; /* shifted by the top utility: no overflow */
        pref->brand_cum[b] = s;
    }
    return s;
}

double syn_pref_mean_value(const syn_ctx *c, const syn_choice *ch, const syn_pref *pref)
{
    const upf_synth_truth *t = c->t;
    double num = 0.0, den = 0.0, prev = 0.0;
    for (size_t b = 0; b < t->n_brands; b++) {
        double wb = pref->brand_cum[b] - prev, mb = 0.0, vb = 0.0;
        prev = pref->brand_cum[b];
        for (size_t k = 0; k < UPF_SYNTH_BANDS; k++) {
            mb += pref->band_exp[k] * ch->cell_mass[b * UPF_SYNTH_BANDS + k];
            vb += pref->band_exp[k] * ch->cell_value[b * UPF_SYNTH_BANDS + k];
        }
        if (mb > 0.0 && wb > 0.0) {
            num += wb * vb / mb;
            den += wb;
        }
    }
    return den > 0.0 ? num / den : 0.0;
}

int32_t syn_pref_draw(const syn_ctx *c, const syn_choice *ch, const syn_pref *pref, int32_t category, upf_rng *r)
{
    const upf_synth_truth *t = c->t;
    size_t b0 = 0, b1 = t->n_brands;
    if (category >= 0) {
        b0 = (size_t)c->brand_start[category];
        b1 = (size_t)c->brand_start[category + 1];
    }
    double base = b0 ? pref->brand_cum[b0 - 1] : 0.0;
    if (b1 <= b0 || !(pref->brand_cum[b1 - 1] > base)) return -1;
    size_t b = pick_cum(pref->brand_cum, b0, b1, base, upf_rng_uniform(r));
    const double *m = ch->cell_mass + b * UPF_SYNTH_BANDS;
    double w[UPF_SYNTH_BANDS], s = 0.0;
    for (size_t k = 0; k < UPF_SYNTH_BANDS; k++) w[k] = s += pref->band_exp[k] * m[k];
    if (!(s > 0.0)) return -1;
    size_t band = pick_cum(w, 0, UPF_SYNTH_BANDS, 0.0, upf_rng_uniform(r));
    size_t cell = b * UPF_SYNTH_BANDS + band;
    size_t lo = (size_t)ch->cell_ptr[cell], hi = (size_t)ch->cell_ptr[cell + 1];
    if (hi <= lo) return -1;
    return ch->items[pick_cum(ch->cum, lo, hi, 0.0, upf_rng_uniform(r))];
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
    int32_t *perm = NULL;
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
    t->brand_vec = upf_calloc(nb * K, sizeof *t->brand_vec);
    t->item_category = upf_calloc(ni, sizeof *t->item_category);
    t->item_brand = upf_calloc(ni, sizeof *t->item_brand);
    t->item_band = upf_calloc(ni, sizeof *t->item_band);
    t->item_popularity = upf_calloc(ni, sizeof *t->item_popularity);
    t->item_base_price = upf_calloc(ni, sizeof *t->item_base_price);
    t->item_rebuy_days = upf_calloc(ni, sizeof *t->item_rebuy_days);
    t->item_added = upf_calloc(ni, sizeof *t->item_added);
    t->item_removed = upf_calloc(ni, sizeof *t->item_removed);
    c->brand_start = upf_calloc(nc + 1, sizeof *c->brand_start);
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
        !t->brand_category || !t->brand_vec || !t->item_category || !t->item_brand || !t->item_band ||
        !t->item_popularity || !t->item_base_price || !t->item_rebuy_days || !t->item_added ||
        !t->item_removed || !c->brand_start || !c->item_adj || !c->ie_ptr || !c->item_end_price ||
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
        c->brand_start[0] = 0;
        for (size_t k = 0; k < nc; k++) c->brand_start[k + 1] = c->brand_start[k] + count[k];
    }
    for (size_t k = 0; k < nc; k++) {
        double s = 0.0;
        for (int32_t b = c->brand_start[k]; b < c->brand_start[k + 1]; b++) {
            t->brand_category[b] = (int32_t)k;
            brand_cum[b] = s += pow((double)(b - c->brand_start[k]) + 1.0, -BRAND_SIZE_EXPONENT);
        }
    }
    for (size_t b = 0; b < nb; b++) {
        if (!(t->brand_names[b] = brand_name((uint32_t)b, (uint32_t)nb))) goto nomem;
        for (size_t d = 0; d < K; d++) t->brand_vec[b * K + d] = (float)(d_sd * upf_rng_normal(&r));
        brand_premium[b] = BRAND_PREMIUM_SD * upf_rng_normal(&r);
    }

    /* items: category (the first nc items cover every category), brand, price */
    {
        double *cat_cum = cat_w; /* cumulative in place */
        for (size_t k = 1; k < nc; k++) cat_cum[k] += cat_cum[k - 1];
        for (size_t i = 0; i < ni; i++) {
            size_t k = i < nc ? i : pick_cum(cat_cum, 0, nc, 0.0, upf_rng_uniform(&r));
            size_t b0 = (size_t)c->brand_start[k], b1 = (size_t)c->brand_start[k + 1];
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
    /* popularity: a random rank per item, w = rank^-zipf */
    for (size_t i = 0; i < ni; i++) perm[i] = (int32_t)i;
    upf_rng_shuffle_i32(&r, perm, ni);
    for (size_t i = 0; i < ni; i++) t->item_popularity[i] = (float)pow((double)perm[i] + 1.0, -p->zipf);

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
    upf_free(keys);
    upf_free(prices.v);
    upf_free(stock.v);
    return st;
}
