/* synth.c - the generator's driver: parameters (defaults, checks, automatic
 * values), the order of the stages (catalogue, users, events, impressions), and
 * the assembly of the stages' arrays into a upf_dataset without copying or
 * sorting: users are simulated in index order, so the events come out sorted.
 *
 * Not here: the stages themselves (synth_*.c) and any file I/O.
 * Entry points: upf_synth_params_default, upf_synth_params_check,
 * upf_synth_generate.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "synth_internal.h"

upf_synth_params upf_synth_params_default(void)
{
    upf_synth_params p;
    memset(&p, 0, sizeof p);
    p.seed = 42;
    p.n_users = 20000;
    p.n_items = 5000;
    p.n_days = 365;
    p.start = 1704067200; /* 2024-01-01T00:00:00Z: a leap year, so leap-day birthdays and events occur */
    p.n_categories = 40;
    p.n_brands = 0;
    p.dim = 8;
    p.n_styles = 12;
    p.affinity = 1.5;
    p.brand_affinity = 1.0;
    p.zipf = 1.0;
    p.new_item_share = 0.15;
    p.cold_item_share = 0.05;
    p.cold_days = 0;
    p.delist_share = 0.03;
    p.sale_rate = 1.0;
    p.stockout_rate = 1.0;
    p.new_user_share = 0.5;
    p.history_days = 365;
    p.interval_days = 30.0;
    p.interval_shape = 1.5;
    p.interval_frailty = 0.25;
    p.dropout_a = 1.0;
    p.dropout_b = 9.0;
    p.rebuy_prob = 0.7;
    p.birthday_share = 0.7;
    p.browse_ratio = 2.0;
    p.views_per_session = 2.0;
    p.search_prob = 0.35;
    p.cart_abandon_prob = 0.25;
    p.campaign_share = 1.0;
    p.campaign_arms = 2;
    p.campaign_day = -1;
    p.campaign_window = 14;
    p.effect = 1.0;
    p.coupon_discount = 0.2;
    p.n_impressions = 10000;
    p.n_positions = 3;
    p.n_candidates = 40;
    p.logging_temperature = 2.0;
    p.click_bias = -2.5;
    return p;
}

#define CHECK_RANGE(field, lo, hi)                                                                          \
    do {                                                                                                    \
        if (!((double)p->field >= (lo) && (double)p->field <= (hi)))                                        \
            return upf_err_set(err, UPF_ERR_ARG, "synth: %s: expected a value in [%.10g, %.10g] (got %.10g)", #field, \
                               (double)(lo), (double)(hi), (double)p->field);                               \
    } while (0)

upf_status upf_synth_params_check(const upf_synth_params *p, upf_err *err)
{
    CHECK_RANGE(n_users, 1, (double)INT32_MAX - 1);
    CHECK_RANGE(n_categories, 2, UPF_SYNTH_MAX_CATEGORIES);
    if (p->n_items < p->n_categories || p->n_items > (uint64_t)INT32_MAX - 1)
        return upf_err_set(err, UPF_ERR_ARG, "synth: n_items: expected %u..%d (at least one item per category) (got %llu)",
                           p->n_categories, INT32_MAX - 1, (unsigned long long)p->n_items);
    CHECK_RANGE(n_days, 7, 36500);
    CHECK_RANGE(start, -2208988800.0 /* 1900-01-01 */, 253402214400.0 /* 9999-12-31 */);
    if (p->n_brands != 0 && (p->n_brands < p->n_categories || p->n_brands > UPF_SYNTH_MAX_BRANDS))
        return upf_err_set(err, UPF_ERR_ARG, "synth: n_brands: expected 0 (auto) or %u..%d (got %u)", p->n_categories,
                           UPF_SYNTH_MAX_BRANDS, p->n_brands);
    CHECK_RANGE(dim, 1, UPF_SYNTH_MAX_DIM);
    CHECK_RANGE(n_styles, 1, UPF_SYNTH_MAX_STYLES);
    CHECK_RANGE(affinity, 0, 10);
    CHECK_RANGE(brand_affinity, 0, 10);
    CHECK_RANGE(zipf, 0, 5);
    CHECK_RANGE(new_item_share, 0, 1);
    CHECK_RANGE(cold_item_share, 0, 1);
    if (p->new_item_share + p->cold_item_share > 1.0)
        return upf_err_set(err, UPF_ERR_ARG, "synth: new_item_share + cold_item_share: expected <= 1 (got %g)",
                           p->new_item_share + p->cold_item_share);
    CHECK_RANGE(cold_days, 0, p->n_days);
    CHECK_RANGE(delist_share, 0, 1);
    CHECK_RANGE(sale_rate, 0, 100);
    CHECK_RANGE(stockout_rate, 0, 100);
    CHECK_RANGE(new_user_share, 0, 1);
    CHECK_RANGE(history_days, 0, 36500);
    CHECK_RANGE(interval_days, 0.01, 36500);
    CHECK_RANGE(interval_shape, 0.1, 20);
    CHECK_RANGE(interval_frailty, 0, 3);
    CHECK_RANGE(bgnbd_r, 0, 1e3);
    if (p->bgnbd_r > 0) CHECK_RANGE(bgnbd_alpha, 1e-3, 1e6);
    CHECK_RANGE(dropout_a, 1e-6, 1e6);
    CHECK_RANGE(dropout_b, 1e-6, 1e6);
    CHECK_RANGE(rebuy_prob, 0, 1);
    CHECK_RANGE(birthday_share, 0, 1);
    CHECK_RANGE(browse_ratio, 0, 100);
    CHECK_RANGE(views_per_session, 0, 100);
    CHECK_RANGE(search_prob, 0, 1);
    CHECK_RANGE(cart_abandon_prob, 0, 1);
    CHECK_RANGE(campaign_share, 0, 1);
    CHECK_RANGE(campaign_arms, 0, UPF_SYNTH_MAX_ARMS);
    CHECK_RANGE(campaign_window, 1, p->n_days - 1);
    if (p->campaign_day != -1 &&
        (p->campaign_day < 0 || (int64_t)p->campaign_day + (int64_t)p->campaign_window > (int64_t)p->n_days))
        return upf_err_set(err, UPF_ERR_ARG,
                           "synth: campaign_day: expected -1 (auto) or 0..%lld so the %u-day window fits the range (got %d)",
                           (long long)p->n_days - (long long)p->campaign_window, p->campaign_window, p->campaign_day);
    CHECK_RANGE(effect, 0, 10);
    CHECK_RANGE(coupon_discount, 0, 0.99);
    CHECK_RANGE(n_impressions, 0, 1e9);
    CHECK_RANGE(n_positions, 1, UPF_SYNTH_MAX_POSITIONS);
    CHECK_RANGE(n_candidates, p->n_positions, 1000);
    if (p->n_impressions > 0 && p->n_candidates > p->n_items)
        return upf_err_set(err, UPF_ERR_ARG, "synth: n_candidates: expected at most n_items = %llu (got %u)",
                           (unsigned long long)p->n_items, p->n_candidates);
    CHECK_RANGE(logging_temperature, 0.01, 100);
    CHECK_RANGE(click_bias, -20, 20);
    return UPF_OK;
}

/* Automatic values resolved. */
static upf_synth_params resolve(const upf_synth_params *in)
{
    upf_synth_params p = *in;
    if (p.n_brands == 0) {
        uint64_t b = p.n_items / 16;
        if (b < p.n_categories) b = p.n_categories;
        if (b > UPF_SYNTH_MAX_BRANDS) b = UPF_SYNTH_MAX_BRANDS;
        p.n_brands = (uint32_t)b;
    }
    if (p.cold_days == 0) p.cold_days = p.n_days / 10 ? p.n_days / 10 : 1;
    if (p.bgnbd_r > 0) p.interval_shape = 1.0; /* BG/NBD: exponential gaps */
    if (p.campaign_day < 0) {
        int64_t day = (int64_t)p.n_days * 3 / 4;
        if (day + p.campaign_window > p.n_days) day = (int64_t)p.n_days - p.campaign_window;
        p.campaign_day = (int32_t)day;
    }
    return p;
}

/* ---- assembling the dataset ---- */

static upf_status strings_fixed(upf_strings *s, size_t n, char prefix, upf_err *err)
{
    int width = 1;
    for (size_t x = n > 1 ? n - 1 : 0; x >= 10; x /= 10) width++;
    size_t len = (size_t)width + 2; /* prefix, digits, NUL */
    s->n = n;
    s->off = upf_malloc((n + 1) * sizeof *s->off);
    s->data = upf_malloc(n * len + 1);
    if (!s->off || !s->data) return upf_err_set(err, UPF_ERR_NOMEM, "synth: out of memory (%zu ids)", n);
    for (size_t i = 0; i < n; i++) {
        s->off[i] = (int64_t)(i * len);
        snprintf(s->data + i * len, len, "%c%0*zu", prefix, width, i);
    }
    s->off[n] = (int64_t)(n * len);
    s->data[n * len] = '\0';
    return UPF_OK;
}

static upf_status strings_list(upf_strings *s, const char *const *list, size_t n, upf_err *err)
{
    syn_strtab tab;
    memset(&tab, 0, sizeof tab);
    for (size_t i = 0; i < n; i++)
        if (syn_strtab_intern(&tab, list[i], strlen(list[i])) != (int32_t)i) {
            syn_strtab_free(&tab);
            return upf_err_set(err, UPF_ERR_NOMEM, "synth: out of memory (names)");
        }
    return syn_strtab_take(&tab, s, err);
}

static int32_t intern_attr(syn_strtab *tab, const char *field, const char *value)
{
    char buf[256];
    int n = snprintf(buf, sizeof buf, "%s=%s", field, value);
    return syn_strtab_intern(tab, buf, (size_t)n);
}

static upf_status user_attrs(const syn_ctx *c, upf_attrs *a, upf_err *err)
{
    const upf_synth_truth *t = c->t;
    syn_strtab tab;
    memset(&tab, 0, sizeof tab);
    size_t n = t->n_users;
    a->n_rows = n;
    a->ptr = upf_malloc((n + 1) * sizeof *a->ptr);
    a->index = upf_malloc((n ? 3 * n : 1) * sizeof *a->index);
    a->value = upf_malloc((n ? 3 * n : 1) * sizeof *a->value);
    if (!a->ptr || !a->index || !a->value) goto nomem;
    for (size_t k = 0; k < UPF_SYNTH_N_REGIONS; k++)
        if (intern_attr(&tab, "region", syn_region_names[k]) < 0) goto nomem;
    for (size_t k = 0; k < UPF_SYNTH_N_AGE_BANDS; k++)
        if (intern_attr(&tab, "age_band", syn_age_names[k]) < 0) goto nomem;
    for (size_t k = 0; k < UPF_SYNTH_N_CHANNELS; k++)
        if (intern_attr(&tab, "channel", syn_channel_names[k]) < 0) goto nomem;
    for (size_t u = 0; u < n; u++) {
        a->ptr[u] = (int64_t)(3 * u);
        a->index[3 * u] = t->user_region[u];
        a->index[3 * u + 1] = UPF_SYNTH_N_REGIONS + t->user_age_band[u];
        a->index[3 * u + 2] = UPF_SYNTH_N_REGIONS + UPF_SYNTH_N_AGE_BANDS + t->user_channel[u];
        a->value[3 * u] = a->value[3 * u + 1] = a->value[3 * u + 2] = 1.0f;
    }
    a->ptr[n] = (int64_t)(3 * n);
    return syn_strtab_take(&tab, &a->names, err);
nomem:
    syn_strtab_free(&tab);
    return upf_err_set(err, UPF_ERR_NOMEM, "synth: out of memory (user attributes)");
}

/* Appends index k to row [row0, *nnz) unless it is already there. */
static void add_attr(upf_attrs *a, int64_t row0, int64_t *nnz, int32_t k)
{
    for (int64_t j = row0; j < *nnz; j++)
        if (a->index[j] == k) return;
    a->index[*nnz] = k;
    a->value[*nnz] = 1.0f;
    (*nnz)++;
}

#define MAX_ITEM_ATTRS 12 /* category, brand, band, up to 6 category words, brand token, 2 adjectives */

static upf_status item_attrs(const syn_ctx *c, upf_attrs *a, upf_err *err)
{
    const upf_synth_truth *t = c->t;
    syn_strtab tab;
    memset(&tab, 0, sizeof tab);
    size_t n = t->n_items, cap;
    if (upf_mul_size(n, MAX_ITEM_ATTRS, &cap)) return upf_err_set(err, UPF_ERR_NOMEM, "synth: too many items");
    a->n_rows = n;
    a->ptr = upf_malloc((n + 1) * sizeof *a->ptr);
    a->index = upf_malloc((cap ? cap : 1) * sizeof *a->index);
    a->value = upf_malloc((cap ? cap : 1) * sizeof *a->value);
    if (!a->ptr || !a->index || !a->value) goto nomem;
    int64_t nnz = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t row0 = nnz;
        const char *cat = t->category_names[t->item_category[i]];
        char band[4];
        snprintf(band, sizeof band, "%u", (unsigned)t->item_band[i]);
        int32_t k;
        a->ptr[i] = row0;
        if ((k = intern_attr(&tab, "category", cat)) < 0) goto nomem;
        add_attr(a, row0, &nnz, k);
        if ((k = intern_attr(&tab, "brand", syn_item_brand(c, (int32_t)i))) < 0) goto nomem;
        add_attr(a, row0, &nnz, k);
        if ((k = intern_attr(&tab, "price_band", band)) < 0) goto nomem;
        add_attr(a, row0, &nnz, k);
        /* description tokens: the category's words, the brand, two adjectives */
        char words[128];
        snprintf(words, sizeof words, "%s", cat);
        int n_words = 0;
        for (char *w = words; *w && n_words < 6; n_words++) {
            char *sp = strchr(w, ' ');
            if (sp) *sp = '\0';
            if ((k = intern_attr(&tab, "token", w)) < 0) goto nomem;
            add_attr(a, row0, &nnz, k);
            if (!sp) break;
            w = sp + 1;
        }
        if ((k = intern_attr(&tab, "token", syn_item_brand(c, (int32_t)i))) < 0) goto nomem;
        add_attr(a, row0, &nnz, k);
        for (int j = 0; j < 2; j++) {
            if ((k = intern_attr(&tab, "token", syn_item_adjective(c, (int32_t)i, j))) < 0) goto nomem;
            add_attr(a, row0, &nnz, k);
        }
        /* attribute indices ascend within a row (the schema's CSR rule) */
        for (int64_t x = row0 + 1; x < nnz; x++)
            for (int64_t y = x; y > row0 && a->index[y - 1] > a->index[y]; y--) {
                int32_t tmp = a->index[y];
                a->index[y] = a->index[y - 1];
                a->index[y - 1] = tmp;
            }
    }
    a->ptr[n] = nnz;
    return syn_strtab_take(&tab, &a->names, err);
nomem:
    syn_strtab_free(&tab);
    return upf_err_set(err, UPF_ERR_NOMEM, "synth: out of memory (item attributes)");
}

/* Shrinks an array to its final length (never fails: keeps the larger block). */
static void *fit(void *p, size_t bytes)
{
    void *q = upf_realloc(p, bytes ? bytes : 1);
    return q ? q : p;
}

static void *take(void *pp)
{
    void **p = pp, *x = *p;
    *p = NULL;
    return x;
}

static upf_status campaign(syn_ctx *c, upf_campaign *cp, upf_err *err)
{
    const upf_synth_truth *t = c->t;
    static const char *const outcome_names[2] = { "conversion", "revenue" };
    size_t n = 0;
    for (size_t u = 0; u < t->n_users; u++) n += t->user_arm[u] >= 0;
    cp->name = upf_strdup("synth");
    cp->n = n;
    cp->user = upf_malloc((n ? n : 1) * sizeof *cp->user);
    cp->arm = upf_malloc((n ? n : 1) * sizeof *cp->arm);
    cp->propensity = upf_malloc((n ? n : 1) * sizeof *cp->propensity);
    cp->time = upf_malloc((n ? n : 1) * sizeof *cp->time);
    cp->outcome_names = upf_calloc(2, sizeof *cp->outcome_names);
    cp->outcome = upf_calloc(2, sizeof *cp->outcome);
    if (!cp->name || !cp->user || !cp->arm || !cp->propensity || !cp->time || !cp->outcome_names || !cp->outcome)
        goto nomem;
    cp->n_outcomes = 2;
    for (size_t k = 0; k < 2; k++) {
        cp->outcome_names[k] = upf_strdup(outcome_names[k]);
        cp->outcome[k] = upf_malloc((n ? n : 1) * sizeof *cp->outcome[k]);
        if (!cp->outcome_names[k] || !cp->outcome[k]) goto nomem;
    }
    size_t row = 0;
    for (size_t u = 0; u < t->n_users; u++) {
        if (t->user_arm[u] < 0) continue;
        cp->user[row] = (int32_t)u;
        cp->arm[row] = t->user_arm[u];
        cp->propensity[row] = (float)t->arm_propensity;
        cp->time[row] = t->campaign_time;
        cp->outcome[0][row] = c->camp_conv[u];
        cp->outcome[1][row] = c->camp_rev[u];
        row++;
    }
    return strings_list(&cp->arm_names, (const char *const *)t->arm_names, t->n_arms, err);
nomem:
    return upf_err_set(err, UPF_ERR_NOMEM, "synth: out of memory (campaign)");
}

static upf_status assemble(syn_ctx *c, upf_dataset *ds, upf_err *err)
{
    upf_synth_truth *t = c->t;
    upf_status st;
    char buf[512], when[32];

    ds->n_users = t->n_users;
    if ((st = strings_fixed(&ds->user_ids, t->n_users, 'u', err)) != UPF_OK) return st;
    ds->user_signup = take(&c->user_signup);
    ds->user_birthday = take(&c->user_birthday);
    if ((st = user_attrs(c, &ds->user_attrs, err)) != UPF_OK) return st;

    ds->n_items = t->n_items;
    if ((st = strings_fixed(&ds->item_ids, t->n_items, 'i', err)) != UPF_OK) return st;
    ds->item_price = take(&c->item_end_price);
    ds->item_in_stock = take(&c->item_end_stock);
    ds->item_added = upf_malloc(t->n_items * sizeof *ds->item_added);
    if (!ds->item_added) return upf_err_set(err, UPF_ERR_NOMEM, "synth: out of memory (items)");
    memcpy(ds->item_added, t->item_added, t->n_items * sizeof *ds->item_added);
    if ((st = item_attrs(c, &ds->item_attrs, err)) != UPF_OK) return st;

    syn_evbuf *e = &c->ev;
    size_t n = e->n;
    ds->n_events = (int64_t)n;
    ds->ev_user = fit(take(&e->user), n * sizeof *ds->ev_user);
    ds->ev_item = fit(take(&e->item), n * sizeof *ds->ev_item);
    ds->ev_time = fit(take(&e->time), n * sizeof *ds->ev_time);
    ds->ev_type = fit(take(&e->type), n * sizeof *ds->ev_type);
    ds->ev_value = fit(take(&e->value), n * sizeof *ds->ev_value);
    ds->ev_query = fit(take(&e->query), n * sizeof *ds->ev_query);
    if (!n && (!ds->ev_user || !ds->ev_item || !ds->ev_time || !ds->ev_type || !ds->ev_value || !ds->ev_query)) {
        /* no events at all (a tiny shop): still non-NULL arrays */
        upf_free(ds->ev_user), upf_free(ds->ev_item), upf_free(ds->ev_time);
        upf_free(ds->ev_type), upf_free(ds->ev_value), upf_free(ds->ev_query);
        ds->ev_user = upf_malloc(1), ds->ev_item = upf_malloc(1), ds->ev_time = upf_malloc(1);
        ds->ev_type = upf_malloc(1), ds->ev_value = upf_malloc(1), ds->ev_query = upf_malloc(1);
        if (!ds->ev_user || !ds->ev_item || !ds->ev_time || !ds->ev_type || !ds->ev_value || !ds->ev_query)
            return upf_err_set(err, UPF_ERR_NOMEM, "synth: out of memory (events)");
    }
    ds->user_ptr = take(&c->user_ptr);
    if ((st = syn_strtab_take(&c->queries, &ds->queries, err)) != UPF_OK) return st;

    upf_item_events *ie = &ds->item_events;
    ie->n = c->n_ie;
    ie->item = fit(take(&c->ie_item), c->n_ie * sizeof *ie->item);
    ie->time = fit(take(&c->ie_time), c->n_ie * sizeof *ie->time);
    ie->kind = fit(take(&c->ie_kind), c->n_ie * sizeof *ie->kind);
    ie->value = fit(take(&c->ie_value), c->n_ie * sizeof *ie->value);

    if (t->n_arms) {
        ds->campaigns = upf_calloc(1, sizeof *ds->campaigns);
        if (!ds->campaigns) return upf_err_set(err, UPF_ERR_NOMEM, "synth: out of memory (campaign)");
        ds->n_campaigns = 1;
        if ((st = campaign(c, &ds->campaigns[0], err)) != UPF_OK) return st;
    }

    if (c->n_imp) {
        upf_impressions *im = &ds->impressions;
        im->n = c->n_imp;
        im->user = take(&c->imp_user);
        im->time = take(&c->imp_time);
        im->item = take(&c->imp_item);
        im->position = take(&c->imp_pos);
        im->reward = take(&c->imp_reward);
        im->propensity = take(&c->imp_prop);
        snprintf(buf, sizeof buf, "plackett-luce(popularity^(1/%g), %zu candidates, %zu positions)",
                 c->p.logging_temperature, t->n_candidates, t->n_positions);
        if (!(im->policy = upf_strdup(buf))) return upf_err_set(err, UPF_ERR_NOMEM, "synth: out of memory");
    }

    syn_format_iso(t->t_start, when, sizeof when);
    snprintf(buf, sizeof buf, "upfunnel data synth: seed %llu, %zu users, %zu items, %u days from %.10s",
             (unsigned long long)c->p.seed, t->n_users, t->n_items, c->p.n_days, when);
    ds->source = upf_strdup(buf);
    /* the file is a pure function of the parameters: "created" is the end of
     * the simulated range, not the wall clock */
    syn_format_iso(t->t_end, when, sizeof when);
    ds->created = upf_strdup(when);
    if (!ds->source || !ds->created) return upf_err_set(err, UPF_ERR_NOMEM, "synth: out of memory");
    return UPF_OK;
}

/* ---- the driver ---- */

static void ctx_free(syn_ctx *c)
{
    upf_free(c->item_adj);
    upf_free(c->user_signup);
    upf_free(c->user_birthday);
    syn_choice_free(&c->all);
    syn_choice_free(&c->window);
    upf_free(c->ie_item);
    upf_free(c->ie_time);
    upf_free(c->ie_kind);
    upf_free(c->ie_value);
    upf_free(c->ie_ptr);
    upf_free(c->item_end_price);
    upf_free(c->item_end_stock);
    syn_strtab_free(&c->queries);
    upf_free(c->ev.user);
    upf_free(c->ev.item);
    upf_free(c->ev.query);
    upf_free(c->ev.time);
    upf_free(c->ev.type);
    upf_free(c->ev.value);
    upf_free(c->user_ptr);
    upf_free(c->camp_conv);
    upf_free(c->camp_rev);
    upf_free(c->imp_user);
    upf_free(c->imp_item);
    upf_free(c->imp_time);
    upf_free(c->imp_pos);
    upf_free(c->imp_reward);
    upf_free(c->imp_prop);
    memset(c, 0, sizeof *c);
}

static upf_status campaign_setup(syn_ctx *c, upf_err *err)
{
    upf_synth_truth *t = c->t;
    static const char *const names[UPF_SYNTH_MAX_ARMS + 1] = { "control", "email", "coupon" };
    t->campaign_time = t->t_start + (int64_t)c->p.campaign_day * SYN_DAY + SYN_SEND_HOUR * 3600;
    t->campaign_window = (int64_t)c->p.campaign_window * SYN_DAY;
    t->expected_quantity = 1.0 + SYN_QTY_EXTRA;
    if (c->p.campaign_arms == 0) return UPF_OK;
    t->n_arms = c->p.campaign_arms + 1;
    t->arm_propensity = 1.0 / (double)t->n_arms;
    t->arm_discount[2] = c->p.coupon_discount;
    t->arm_names = upf_calloc(t->n_arms, sizeof *t->arm_names);
    if (!t->arm_names) return upf_err_set(err, UPF_ERR_NOMEM, "synth: out of memory");
    for (size_t a = 0; a < t->n_arms; a++)
        if (!(t->arm_names[a] = upf_strdup(names[a]))) return upf_err_set(err, UPF_ERR_NOMEM, "synth: out of memory");
    return UPF_OK;
}

/* The campaign order's catalogue: items listed and in stock through the whole
 * window, priced as at the send time. */
static upf_status window_table(syn_ctx *c, upf_err *err)
{
    const upf_synth_truth *t = c->t;
    int64_t t0 = t->campaign_time, t1 = t->campaign_time + t->campaign_window + SYN_SESSION_SPAN;
    uint8_t *keep = upf_malloc(t->n_items);
    float *price = upf_malloc(t->n_items * sizeof *price);
    upf_status st = UPF_OK;
    if (!keep || !price) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "synth: out of memory (campaign catalogue)");
        goto done;
    }
    for (size_t i = 0; i < t->n_items; i++) {
        keep[i] = syn_item_listed(c, (int32_t)i, t0, t1) && syn_item_in_stock(c, (int32_t)i, t0, t1);
        price[i] = syn_item_price(c, (int32_t)i, t0);
    }
    if ((st = syn_choice_build(c, keep, price, &c->window, err)) != UPF_OK) goto done;
    if (!(c->window.total > 0.0))
        st = upf_err_set(err, UPF_ERR_DATA,
                         "synth: no item is listed and in stock through the campaign window; use more items or --arms 0");
done:
    upf_free(keep);
    upf_free(price);
    return st;
}

upf_status upf_synth_generate(const upf_synth_params *params, upf_dataset **out, upf_synth_truth **truth,
                              upf_err *err)
{
    return upf_synth_generate_mt(params, 1, out, truth, err);
}

upf_status upf_synth_generate_mt(const upf_synth_params *params, unsigned n_threads, upf_dataset **out,
                                 upf_synth_truth **truth, upf_err *err)
{
    upf_status st;
    syn_ctx c;
    upf_dataset *ds = NULL;
    memset(&c, 0, sizeof c);
    *out = NULL;
    if (truth) *truth = NULL;
    if ((st = upf_synth_params_check(params, err)) != UPF_OK) return st;
    c.p = resolve(params);
    if (!(c.t = upf_calloc(1, sizeof *c.t)) || !(ds = upf_calloc(1, sizeof *ds))) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "synth: out of memory");
        goto fail;
    }
    c.t->params = c.p;
    c.t->t_start = c.p.start;
    c.t->t_end = c.p.start + (int64_t)c.p.n_days * SYN_DAY;
    if ((st = campaign_setup(&c, err)) != UPF_OK) goto fail;
    if ((st = syn_catalog_build(&c, err)) != UPF_OK) goto fail;
    if ((st = syn_users_build(&c, err)) != UPF_OK) goto fail;
    if (c.t->n_arms && (st = window_table(&c, err)) != UPF_OK) goto fail;
    if ((st = syn_events_build(&c, n_threads, err)) != UPF_OK) goto fail;
    if (c.p.n_impressions && (st = syn_impressions_build(&c, err)) != UPF_OK) goto fail;
    if (c.skipped_sessions)
        upf_log(UPF_LOG_DEBUG, "synth: %ld item draws found nothing listed (sessions skipped)", c.skipped_sessions);
    if ((st = assemble(&c, ds, err)) != UPF_OK) goto fail;
    if ((st = upf_dataset_validate(ds, err)) != UPF_OK) {
        upf_err_prefix(err, "synth: the generated dataset is invalid (a bug)");
        goto fail;
    }
    upf_synth_truth *t = c.t;
    ctx_free(&c);
    *out = ds;
    if (truth) *truth = t;
    else upf_synth_truth_free(t);
    return UPF_OK;
fail:
    upf_synth_truth_free(c.t);
    ctx_free(&c);
    upf_dataset_free(ds);
    return st;
}
