/* lifetime_features.c - user and user x item covariates at a cutoff, and the
 * right-censored labels after it (definitions in lifetime_features.h).
 * Sections: helpers, user columns, user rows, labels, buy-again pairs.
 */
#include "lifetime_features.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY 86400.0

static int64_t day_of(int64_t t) { return t / 86400 - (t % 86400 != 0 && t < 0); }

upf_lt_feature_params upf_lt_feature_params_default(void)
{
    upf_lt_feature_params p;
    memset(&p, 0, sizeof p);
    p.n_windows = 3;
    p.windows_days[0] = 7;
    p.windows_days[1] = 30;
    p.windows_days[2] = 90;
    p.trend_days = 30;
    p.entropy_field = "category";
    p.user_attrs = 1;
    p.max_user_attrs = 32;
    return p;
}

upf_ba_params upf_ba_params_default(void)
{
    upf_ba_params p = {0, 0.1, 5};
    return p;
}

void upf_lt_features_free(upf_lt_features *f)
{
    if (!f) return;
    for (size_t j = 0; f->names && j < f->n_cols; j++) upf_free(f->names[j]);
    upf_free(f->names);
    upf_free(f->user);
    upf_free(f->item);
    upf_free(f->X);
    upf_free(f->recency);
    upf_free(f->elapsed);
    upf_free(f->label);
    upf_free(f->event);
    upf_free(f->n_within);
    upf_free(f->label_bound);
    memset(f, 0, sizeof *f);
}

/* ---- helpers ---- */

typedef struct name_list {
    size_t n, cap;
    char **v;
} name_list;

static upf_status names_add(name_list *l, const char *name)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 32;
        char **v = upf_realloc(l->v, cap * sizeof *v);
        if (!v) return UPF_ERR_NOMEM;
        l->v = v;
        l->cap = cap;
    }
    if (!(l->v[l->n] = upf_strdup(name))) return UPF_ERR_NOMEM;
    l->n++;
    return UPF_OK;
}

static void names_free(name_list *l)
{
    for (size_t j = 0; j < l->n; j++) upf_free(l->v[j]);
    upf_free(l->v);
    memset(l, 0, sizeof *l);
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return x < y ? -1 : x > y;
}

/* Shannon entropy (nats) of the multiset v[0..n) of attribute indices; sorts v. */
static double entropy_of(int32_t *v, size_t n)
{
    if (n == 0) return 0.0;
    qsort(v, n, sizeof *v, cmp_i32);
    double h = 0.0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && v[j] == v[i]) j++;
        double p = (double)(j - i) / (double)n;
        h -= p * log(p);
        i = j;
    }
    return h;
}

/* Which item attributes feed the category mix: those named "<field>=..." or,
 * with no field, any "name=value". (n_attrs) flags. */
static uint8_t *entropy_attr_mask(const upf_attrs *a, const char *field)
{
    size_t n = a->names.n;
    uint8_t *m = upf_calloc(n ? n : 1, 1);
    if (!m) return NULL;
    size_t fl = field ? strlen(field) : 0;
    for (size_t k = 0; k < n; k++) {
        const char *s = upf_strings_get(&a->names, k);
        m[k] = fl ? strncmp(s, field, fl) == 0 && s[fl] == '=' : strchr(s, '=') != NULL;
    }
    return m;
}

uint32_t upf_lt_types_before(const upf_dataset *ds, int64_t cutoff)
{
    uint32_t m = 0;
    for (int64_t e = 0; e < ds->n_events; e++)
        if (ds->ev_time[e] < cutoff && ds->ev_type[e] < UPF_EV_TYPE_COUNT) m |= 1u << ds->ev_type[e];
    return m & ~1u;
}

/* ---- user columns ---- */

enum { C_RECENCY, C_FREQUENCY, C_MONETARY, C_TENURE, C_IPI_MEAN, C_IPI_SD, C_IPI_LAST, C_HAS_IPI, C_TREND,
       C_ENTROPY, C_FIXED_COUNT };

static const char *const fixed_names[C_FIXED_COUNT] = {
    "log_recency", "log_frequency", "log_monetary", "log_tenure", "ipi_mean", "ipi_sd",
    "ipi_last",    "has_interval",  "trend",        "category_entropy"};

typedef struct user_layout {
    uint32_t types;          /* event types with activity columns */
    size_t n_types;
    size_t col_activity;     /* first activity column: type-major, then window */
    size_t col_age, col_signup; /* (value, has) pairs, or SIZE_MAX */
    size_t col_attrs;        /* first user attribute column */
    size_t n_attr_cols;
    int32_t *attr_of_col;    /* (n_attr_cols) attribute index */
    int32_t *col_of_attr;    /* (n_user_attrs) column offset or -1 */
    size_t n_cols;
} user_layout;

typedef struct attr_count {
    int32_t attr;
    int64_t count;
} attr_count;

static int cmp_attr_count(const void *pa, const void *pb)
{
    const attr_count *a = pa, *b = pb;
    if (a->count != b->count) return a->count > b->count ? -1 : 1;
    return a->attr < b->attr ? -1 : a->attr > b->attr;
}

static upf_status user_layout_build(const upf_dataset *ds, const upf_lt_feature_params *p, user_layout *L,
                                    name_list *names)
{
    upf_status st = UPF_OK;
    memset(L, 0, sizeof *L);
    L->col_age = L->col_signup = SIZE_MAX;
    for (int c = 0; c < C_FIXED_COUNT && !p->attrs_only; c++)
        if ((st = names_add(names, fixed_names[c])) != UPF_OK) return st;
    L->types = p->attrs_only ? 0u : (p->types ? p->types : upf_lt_types_before(ds, p->cutoff)) & ~1u;
    L->col_activity = names->n;
    for (int t = 1; t < UPF_EV_TYPE_COUNT; t++) {
        if (!(L->types & (1u << t))) continue;
        L->n_types++;
        for (size_t w = 0; w < p->n_windows; w++) {
            char buf[64];
            snprintf(buf, sizeof buf, "n_%s_%gd", upf_event_type_name(t), p->windows_days[w]);
            if ((st = names_add(names, buf)) != UPF_OK) return st;
        }
    }
    if (ds->user_birthday && !p->attrs_only) {
        L->col_age = names->n;
        if ((st = names_add(names, "age_years")) || (st = names_add(names, "has_age"))) return st;
    }
    if (ds->user_signup && !p->attrs_only) {
        L->col_signup = names->n;
        if ((st = names_add(names, "log_signup_days")) || (st = names_add(names, "has_signup"))) return st;
    }
    L->col_attrs = names->n;
    const upf_attrs *ua = &ds->user_attrs;
    size_t na = ua->names.n;
    if (p->user_attrs && ua->n_rows == ds->n_users && na > 0 && p->max_user_attrs > 0) {
        attr_count *ac = upf_calloc(na, sizeof *ac);
        L->col_of_attr = upf_malloc(na * sizeof *L->col_of_attr);
        if (!ac || !L->col_of_attr) {
            upf_free(ac);
            return UPF_ERR_NOMEM;
        }
        for (size_t k = 0; k < na; k++) {
            ac[k].attr = (int32_t)k;
            L->col_of_attr[k] = -1;
        }
        for (int64_t k = 0; k < ua->ptr[ua->n_rows]; k++) ac[ua->index[k]].count++;
        qsort(ac, na, sizeof *ac, cmp_attr_count);
        size_t m = 0;
        while (m < na && m < p->max_user_attrs && ac[m].count > 0) m++;
        /* reference coding: the levels of a "field=value" attribute sum to one
         * for users who have the field, so the most common level of each field
         * with two or more kept levels is left out (the intercept carries it) */
        uint8_t *drop = upf_calloc(m ? m : 1, 1);
        L->attr_of_col = upf_malloc((m ? m : 1) * sizeof *L->attr_of_col);
        if (!drop || !L->attr_of_col) {
            upf_free(drop);
            upf_free(ac);
            return UPF_ERR_NOMEM;
        }
        for (size_t c = 0; c < m; c++) {
            const char *nc = upf_strings_get(&ua->names, (size_t)ac[c].attr), *eq = strchr(nc, '=');
            size_t fl = eq ? (size_t)(eq - nc) : 0, levels = 0, first = c;
            if (!eq) continue;
            for (size_t k = 0; k < m; k++) {
                const char *nk = upf_strings_get(&ua->names, (size_t)ac[k].attr);
                if (strncmp(nk, nc, fl + 1) == 0) {
                    if (levels == 0) first = k;
                    levels++;
                }
            }
            if (levels >= 2 && first == c) drop[c] = 1;
        }
        size_t kept = 0;
        for (size_t c = 0; c < m; c++) {
            if (drop[c]) continue;
            L->attr_of_col[kept] = ac[c].attr;
            L->col_of_attr[ac[c].attr] = (int32_t)kept;
            kept++;
            char buf[256];
            snprintf(buf, sizeof buf, "user_%s", upf_strings_get(&ua->names, (size_t)ac[c].attr));
            if ((st = names_add(names, buf)) != UPF_OK) {
                upf_free(drop);
                upf_free(ac);
                return st;
            }
        }
        upf_free(drop);
        L->n_attr_cols = kept;
        upf_free(ac);
    }
    L->n_cols = names->n;
    return UPF_OK;
}

static void user_layout_free(user_layout *L)
{
    upf_free(L->attr_of_col);
    upf_free(L->col_of_attr);
    memset(L, 0, sizeof *L);
}

/* ---- user rows ---- */

typedef struct ibuf {
    size_t n, cap;
    int32_t *v;
} ibuf;

static upf_status ibuf_push(ibuf *b, int32_t x)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 256;
        int32_t *v = upf_realloc(b->v, cap * sizeof *v);
        if (!v) return UPF_ERR_NOMEM;
        b->v = v;
        b->cap = cap;
    }
    b->v[b->n++] = x;
    return UPF_OK;
}

/* Fills row x (n_cols) for user u; returns 0 when the user does not qualify. */
static int user_row(const upf_dataset *ds, const upf_lt_feature_params *p, const user_layout *L,
                    const uint8_t *emask, int32_t u, float *x, double *recency_out, double *elapsed_out, ibuf *attrs,
                    upf_status *st)
{
    int64_t c = p->cutoff, b = ds->user_ptr[u], e_end = ds->user_ptr[u + 1];
    int64_t e = b;
    while (e < e_end && ds->ev_time[e] < c) e++; /* [b, e): the events before the cutoff */
    if (e == b) return 0;
    size_t n_days = 0, n_ipi = 0;
    int64_t last_day = 0, prev_day = 0;
    double spend = 0.0, ipi_sum = 0.0, ipi_sq = 0.0, ipi_last = 0.0;
    double trend_a = 0.0, trend_b = 0.0;
    int64_t last_t = 0;
    int any_purchase = 0;
    for (int64_t k = b; k < e; k++)
        if (ds->ev_type[k] == UPF_EV_PURCHASE) any_purchase = 1;
    if (!any_purchase && !p->all_users) return 0;
    memset(x, 0, L->n_cols * sizeof *x);
    attrs->n = 0;
    double tw = p->trend_days * DAY;
    for (int64_t k = b; k < e; k++) {
        int64_t t = ds->ev_time[k];
        int type = ds->ev_type[k];
        double age = (double)(c - t); /* seconds before the cutoff, > 0 */
        if (type > 0 && type < UPF_EV_TYPE_COUNT && (L->types & (1u << type))) {
            size_t ti = 0;
            for (int q = 1; q < type; q++) ti += (L->types >> q) & 1u;
            for (size_t w = 0; w < p->n_windows; w++)
                if (age <= p->windows_days[w] * DAY) x[L->col_activity + ti * p->n_windows + w] += 1.0f;
        }
        if (age <= tw) trend_a += 1.0;
        else if (age <= 2.0 * tw) trend_b += 1.0;
        int counts_for_mix = any_purchase ? type == UPF_EV_PURCHASE : 1;
        int32_t it = ds->ev_item[k];
        if (counts_for_mix && it >= 0 && emask && ds->item_attrs.n_rows > (size_t)it)
            for (int64_t a = ds->item_attrs.ptr[it]; a < ds->item_attrs.ptr[it + 1]; a++)
                if (emask[ds->item_attrs.index[a]] && (*st = ibuf_push(attrs, ds->item_attrs.index[a])) != UPF_OK)
                    return 0;
        if (type != UPF_EV_PURCHASE) continue;
        last_t = t;
        double v = ds->ev_value ? (double)ds->ev_value[k] : 0.0;
        if (isfinite(v) && v > 0.0) spend += v;
        int64_t d = day_of(t);
        if (n_days > 0 && d != prev_day) {
            double gap = (double)(d - prev_day);
            ipi_sum += gap;
            ipi_sq += gap * gap;
            ipi_last = gap;
            n_ipi++;
        }
        if (n_days == 0 || d != prev_day) n_days++;
        prev_day = last_day = d;
    }
    double tenure = (double)(c - ds->ev_time[b]) / DAY;
    double recency = n_days ? (double)(c - last_day * 86400) / DAY : tenure;
    /* recency runs from the start of the last purchase day, so it is >= 0 and a
     * purchase earlier on the cutoff's own day gives less than one day */
    *recency_out = n_days ? recency : -1.0;
    *elapsed_out = n_days ? (double)(c - last_t) / DAY : -1.0;
    double ipi_mean = n_ipi ? ipi_sum / (double)n_ipi : 0.0;
    double ipi_var = n_ipi ? fmax(ipi_sq / (double)n_ipi - ipi_mean * ipi_mean, 0.0) : 0.0;
    if (p->attrs_only) goto attrs;
    x[C_RECENCY] = (float)log1p(recency);
    x[C_FREQUENCY] = (float)log1p((double)n_days);
    x[C_MONETARY] = (float)log1p(n_days ? spend / (double)n_days : 0.0);
    x[C_TENURE] = (float)log1p(tenure);
    x[C_IPI_MEAN] = (float)log1p(ipi_mean);
    x[C_IPI_SD] = (float)log1p(sqrt(ipi_var));
    x[C_IPI_LAST] = (float)log1p(ipi_last);
    x[C_HAS_IPI] = n_ipi ? 1.0f : 0.0f;
    x[C_TREND] = trend_a + trend_b > 0.0 ? (float)((trend_a - trend_b) / (trend_a + trend_b)) : 0.0f;
    x[C_ENTROPY] = (float)entropy_of(attrs->v, attrs->n);
    for (size_t k = L->col_activity; k < L->col_activity + L->n_types * p->n_windows; k++) x[k] = (float)log1p((double)x[k]);
    if (L->col_age != SIZE_MAX && ds->user_birthday[u] != UPF_TIME_MISSING) {
        x[L->col_age] = (float)((double)(c - ds->user_birthday[u]) / (365.2425 * DAY));
        x[L->col_age + 1] = 1.0f;
    }
    if (L->col_signup != SIZE_MAX && ds->user_signup[u] != UPF_TIME_MISSING && ds->user_signup[u] < c) {
        x[L->col_signup] = (float)log1p((double)(c - ds->user_signup[u]) / DAY);
        x[L->col_signup + 1] = 1.0f;
    }
attrs:;
    const upf_attrs *ua = &ds->user_attrs;
    for (int64_t a = L->n_attr_cols ? ua->ptr[u] : 0; L->n_attr_cols && a < ua->ptr[u + 1]; a++) {
        int32_t col = L->col_of_attr[ua->index[a]];
        if (col >= 0) x[L->col_attrs + (size_t)col] = ua->value[a];
    }
    return 1;
}

static upf_status check_feature_params(const upf_dataset *ds, const upf_lt_feature_params *p, upf_err *err)
{
    if (!ds || !ds->user_ptr) return upf_err_set(err, UPF_ERR_ARG, "lifetime features: no dataset");
    if (p->n_windows > UPF_LT_MAX_WINDOWS)
        return upf_err_set(err, UPF_ERR_ARG, "lifetime features: at most %d windows (got %zu)", UPF_LT_MAX_WINDOWS,
                           p->n_windows);
    for (size_t w = 0; w < p->n_windows; w++)
        if (!(p->windows_days[w] > 0.0))
            return upf_err_set(err, UPF_ERR_ARG, "lifetime features: window %zu must be > 0 days (got %g)", w,
                               p->windows_days[w]);
    if (!(p->trend_days > 0.0))
        return upf_err_set(err, UPF_ERR_ARG, "lifetime features: trend_days must be > 0 (got %g)", p->trend_days);
    return UPF_OK;
}

upf_status upf_lt_features_build(const upf_dataset *ds, const upf_lt_feature_params *p, upf_lt_features *out,
                                 upf_err *err)
{
    upf_status st = UPF_OK;
    user_layout L;
    name_list names = {0, 0, NULL};
    ibuf attrs = {0, 0, NULL};
    uint8_t *emask = NULL;
    float *row = NULL;
    memset(out, 0, sizeof *out);
    memset(&L, 0, sizeof L);
    if ((st = check_feature_params(ds, p, err)) != UPF_OK) return st;
    if ((st = user_layout_build(ds, p, &L, &names)) != UPF_OK) goto nomem;
    if (ds->item_attrs.n_rows > 0 && !(emask = entropy_attr_mask(&ds->item_attrs, p->entropy_field))) goto nomem;
    size_t d = L.n_cols, nu = ds->n_users, cells = 0;
    if (upf_mul_size(nu ? nu : 1, d, &cells)) {
        st = upf_err_set(err, UPF_ERR_ARG, "lifetime features: %zu users x %zu columns overflows", nu, d);
        goto done;
    }
    /* one pass: rows are written densely; the arrays are sized for every user and shrink at the end */
    out->X = upf_malloc(cells * sizeof *out->X);
    out->user = upf_malloc((nu ? nu : 1) * sizeof *out->user);
    out->recency = upf_malloc((nu ? nu : 1) * sizeof *out->recency);
    out->elapsed = upf_malloc((nu ? nu : 1) * sizeof *out->elapsed);
    row = upf_malloc((d ? d : 1) * sizeof *row);
    if (!out->X || !out->user || !out->recency || !out->elapsed || !row) goto nomem;
    size_t n = 0;
    for (size_t u = 0; u < nu; u++) {
        double rec = 0.0, ela = 0.0;
        if (!user_row(ds, p, &L, emask, (int32_t)u, row, &rec, &ela, &attrs, &st)) {
            if (st != UPF_OK) goto nomem;
            continue;
        }
        memcpy(out->X + n * d, row, d * sizeof *row);
        out->user[n] = (int32_t)u;
        out->recency[n] = rec;
        out->elapsed[n] = ela;
        n++;
    }
    if (n == 0) {
        st = upf_err_set(err, UPF_ERR_DATA, "lifetime features: no user has %s before the cutoff",
                         p->all_users ? "an event" : "a purchase");
        goto done;
    }
    out->n_rows = n;
    out->n_cols = d;
    out->names = names.v;
    names.v = NULL;
    names.n = 0;
    goto done;
nomem:
    st = upf_err_set(err, UPF_ERR_NOMEM, "lifetime features: out of memory");
done:
    if (st != UPF_OK) upf_lt_features_free(out);
    names_free(&names);
    user_layout_free(&L);
    upf_free(attrs.v);
    upf_free(emask);
    upf_free(row);
    return st;
}

/* ---- gap rows (the interval model) ---- */

upf_status upf_lt_gaps_build(const upf_dataset *ds, const upf_lt_feature_params *p, double margin_days,
                             upf_lt_features *out, upf_err *err)
{
    upf_status st = UPF_OK;
    user_layout L;
    name_list names = {0, 0, NULL};
    ibuf attrs = {0, 0, NULL};
    float *row = NULL;
    memset(out, 0, sizeof *out);
    memset(&L, 0, sizeof L);
    if ((st = check_feature_params(ds, p, err)) != UPF_OK) return st;
    if (!(margin_days >= 0.0))
        return upf_err_set(err, UPF_ERR_ARG, "lifetime gaps: margin_days must be >= 0 (got %g)", margin_days);
    upf_lt_feature_params q = *p;
    q.attrs_only = 1;
    if ((st = user_layout_build(ds, &q, &L, &names)) != UPF_OK) goto nomem;
    int64_t start_before = p->cutoff - (int64_t)llround(margin_days * DAY);
    /* count first: the gaps between distinct purchase times, starting before start_before */
    size_t n = 0;
    for (size_t u = 0; u < ds->n_users; u++) {
        int64_t prev = INT64_MIN;
        for (int64_t k = ds->user_ptr[u]; k < ds->user_ptr[u + 1] && ds->ev_time[k] < p->cutoff; k++) {
            if (ds->ev_type[k] != UPF_EV_PURCHASE || ds->ev_time[k] == prev) continue;
            n += prev != INT64_MIN && prev < start_before;
            prev = ds->ev_time[k];
        }
    }
    if (n == 0) {
        st = upf_err_set(err, UPF_ERR_DATA, "lifetime gaps: no purchase is followed by another before the cutoff");
        goto done;
    }
    size_t d = L.n_cols, cells = 0;
    if (upf_mul_size(n, d ? d : 1, &cells)) goto nomem;
    out->X = upf_malloc(cells * sizeof *out->X);
    out->user = upf_malloc(n * sizeof *out->user);
    out->recency = upf_malloc(n * sizeof *out->recency);
    out->label = upf_malloc(n * sizeof *out->label);
    out->label_bound = upf_malloc(n * sizeof *out->label_bound);
    row = upf_malloc((d ? d : 1) * sizeof *row);
    if (!out->X || !out->user || !out->recency || !out->label || !out->label_bound || !row) goto nomem;
    size_t r = 0;
    for (size_t u = 0; u < ds->n_users; u++) {
        int64_t prev = INT64_MIN;
        int have_row = 0;
        for (int64_t k = ds->user_ptr[u]; k < ds->user_ptr[u + 1] && ds->ev_time[k] < p->cutoff; k++) {
            if (ds->ev_type[k] != UPF_EV_PURCHASE || ds->ev_time[k] == prev) continue;
            if (prev != INT64_MIN && prev < start_before) {
                if (!have_row) {
                    double rec = 0.0, ela = 0.0;
                    user_row(ds, &q, &L, NULL, (int32_t)u, row, &rec, &ela, &attrs, &st);
                    if (st != UPF_OK) goto nomem;
                    have_row = 1;
                }
                memcpy(out->X + r * d, row, d * sizeof *row);
                out->user[r] = (int32_t)u;
                out->label[r] = (double)(ds->ev_time[k] - prev) / DAY;
                out->label_bound[r] = (double)(p->cutoff - prev) / DAY;
                out->recency[r] = -1.0;
                r++;
            }
            prev = ds->ev_time[k];
        }
    }
    out->n_rows = r;
    out->n_cols = d;
    out->names = names.v;
    names.v = NULL;
    names.n = 0;
    goto done;
nomem:
    st = upf_err_set(err, UPF_ERR_NOMEM, "lifetime gaps: out of memory");
done:
    if (st != UPF_OK) upf_lt_features_free(out);
    names_free(&names);
    user_layout_free(&L);
    upf_free(attrs.v);
    upf_free(row);
    return st;
}

upf_status upf_lt_gaps_heldout(const upf_dataset *ds, const upf_lt_feature_params *p, double span_days,
                               double window_days, double horizon_days, upf_lt_features *out, upf_err *err)
{
    upf_status st = UPF_OK;
    user_layout L;
    name_list names = {0, 0, NULL};
    ibuf attrs = {0, 0, NULL};
    memset(out, 0, sizeof *out);
    memset(&L, 0, sizeof L);
    if ((st = check_feature_params(ds, p, err)) != UPF_OK) return st;
    if (!(span_days > 0.0) || !(window_days >= span_days) || !(horizon_days >= 0.0) ||
        !(horizon_days <= window_days - span_days) || window_days > 36500.0)
        return upf_err_set(err, UPF_ERR_ARG,
                           "lifetime held-out gaps: need 0 < span_days (%g) <= window_days (%g) and 0 <= horizon_days "
                           "(%g) <= window_days - span_days",
                           span_days, window_days, horizon_days);
    upf_lt_feature_params q = *p;
    q.attrs_only = 1;
    q.all_users = 1;
    if ((st = user_layout_build(ds, &q, &L, &names)) != UPF_OK) goto nomem;
    int64_t span_end = p->cutoff + (int64_t)llround(span_days * DAY);
    int64_t end = p->cutoff + (int64_t)llround(window_days * DAY), hz = (int64_t)llround(horizon_days * DAY);
    /* k0[u]: the first purchase in [cutoff, span_end) (found twice: count, then fill) */
    size_t n = 0;
    for (int pass = 0; pass < 2; pass++) {
        size_t r = 0;
        for (size_t u = 0; u < ds->n_users; u++) {
            int64_t k = ds->user_ptr[u], k_end = ds->user_ptr[u + 1], prev = INT64_MIN;
            for (; k < k_end && ds->ev_time[k] < p->cutoff; k++)
                if (ds->ev_type[k] == UPF_EV_PURCHASE) prev = ds->ev_time[k];
            while (k < k_end && ds->ev_time[k] < span_end && ds->ev_type[k] != UPF_EV_PURCHASE) k++;
            if (k == k_end || ds->ev_time[k] >= span_end) continue;
            if (pass == 0) {
                n++;
                continue;
            }
            int64_t s = ds->ev_time[k], next = INT64_MIN;
            double within = 0.0;
            int64_t last = s;
            for (int64_t j = k + 1; j < k_end && ds->ev_time[j] < end; j++) {
                if (ds->ev_type[j] != UPF_EV_PURCHASE || ds->ev_time[j] == last) continue;
                if (next == INT64_MIN) next = ds->ev_time[j];
                if (ds->ev_time[j] - s <= hz) within += 1.0;
                last = ds->ev_time[j];
            }
            float *x = out->X + r * L.n_cols;
            double rec = 0.0, ela = 0.0;
            upf_lt_feature_params qs = q;
            qs.cutoff = s + 1; /* the user's events up to s (attribute columns only) */
            memset(x, 0, L.n_cols * sizeof *x);
            user_row(ds, &qs, &L, NULL, (int32_t)u, x, &rec, &ela, &attrs, &st);
            if (st != UPF_OK) goto nomem;
            out->user[r] = (int32_t)u;
            out->event[r] = next != INT64_MIN;
            out->label[r] = (double)((next != INT64_MIN ? next : end) - s) / DAY;
            out->recency[r] = prev != INT64_MIN ? (double)(s - prev) / DAY : -1.0;
            out->n_within[r] = within;
            r++;
        }
        if (pass == 1) break;
        if (n == 0) {
            st = upf_err_set(err, UPF_ERR_DATA, "lifetime held-out gaps: no purchase in the %g days after the cutoff",
                             span_days);
            goto done;
        }
        size_t d = L.n_cols, cells = 0;
        if (upf_mul_size(n, d ? d : 1, &cells)) goto nomem;
        out->X = upf_malloc(cells * sizeof *out->X);
        out->user = upf_malloc(n * sizeof *out->user);
        out->recency = upf_malloc(n * sizeof *out->recency);
        out->label = upf_malloc(n * sizeof *out->label);
        out->event = upf_malloc(n);
        out->n_within = upf_malloc(n * sizeof *out->n_within);
        if (!out->X || !out->user || !out->recency || !out->label || !out->event || !out->n_within) goto nomem;
    }
    out->n_rows = n;
    out->n_cols = L.n_cols;
    out->names = names.v;
    names.v = NULL;
    names.n = 0;
    goto done;
nomem:
    st = upf_err_set(err, UPF_ERR_NOMEM, "lifetime held-out gaps: out of memory");
done:
    if (st != UPF_OK) upf_lt_features_free(out);
    names_free(&names);
    user_layout_free(&L);
    upf_free(attrs.v);
    return st;
}

/* ---- labels ---- */

void upf_lt_labels(const upf_dataset *ds, const int32_t *user, const int32_t *item, size_t n, int64_t cutoff,
                   double window_days, double *time, uint8_t *event, double *n_purchases)
{
    int64_t c_day = day_of(cutoff), end = cutoff + (int64_t)(window_days * DAY);
    for (size_t r = 0; r < n; r++) {
        int32_t u = user[r];
        int64_t e = ds->user_ptr[u], e_end = ds->user_ptr[u + 1];
        /* binary search for the first event at or after the cutoff */
        int64_t lo = e, hi = e_end;
        while (lo < hi) {
            int64_t mid = lo + (hi - lo) / 2;
            if (ds->ev_time[mid] < cutoff) lo = mid + 1;
            else hi = mid;
        }
        time[r] = window_days;
        event[r] = 0;
        double days = 0.0;
        int64_t prev = INT64_MIN;
        for (int64_t k = lo; k < e_end && ds->ev_time[k] < end; k++) {
            if (ds->ev_type[k] != UPF_EV_PURCHASE || (item && ds->ev_item[k] != item[r])) continue;
            int64_t d = day_of(ds->ev_time[k]);
            if (!event[r]) {
                time[r] = fmin((double)(d - c_day) + 0.5, window_days);
                event[r] = 1;
            }
            if (d != prev) days += 1.0;
            prev = d;
        }
        if (n_purchases) n_purchases[r] = days;
    }
}

/* ---- buy again ---- */

typedef struct uid_row {
    int32_t user, item;
    int64_t day;
} uid_row;

static int cmp_uid(const void *pa, const void *pb)
{
    const uid_row *a = pa, *b = pb;
    if (a->user != b->user) return a->user < b->user ? -1 : 1;
    if (a->item != b->item) return a->item < b->item ? -1 : 1;
    return a->day < b->day ? -1 : a->day > b->day;
}

static int cmp_f64(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return a < b ? -1 : a > b;
}

enum { P_COUNT, P_SINCE, P_OWN_IPI, P_HAS_OWN, P_ITEM_IPI, P_ITEM_REPEAT, P_ITEM_BUYERS, P_USER_FREQ, P_USER_REC,
       P_USER_ITEMS, P_COLS };

static const char *const pair_names[P_COLS] = {"log_count",   "log_since",   "own_ipi",        "has_own_ipi",
                                               "item_ipi",    "item_repeat", "item_buyers",    "user_frequency",
                                               "user_recency", "user_items"};

upf_status upf_ba_pairs_build(const upf_dataset *ds, const upf_ba_params *p, upf_lt_features *out, upf_err *err)
{
    upf_status st = UPF_OK;
    uid_row *r = NULL;
    size_t *buyers = NULL, *repeaters = NULL, *ipi_ptr = NULL, *ipi_fill = NULL, *n_ud = NULL, *n_ui = NULL;
    double *ipi = NULL, *item_med = NULL;
    int64_t *u_last = NULL;
    memset(out, 0, sizeof *out);
    if (!ds || !ds->user_ptr) return upf_err_set(err, UPF_ERR_ARG, "buy-again pairs: no dataset");
    if (!(p->min_repeat_share >= 0.0 && p->min_repeat_share <= 1.0))
        return upf_err_set(err, UPF_ERR_ARG, "buy-again pairs: min_repeat_share must be in [0, 1] (got %g)",
                           p->min_repeat_share);
    size_t n = 0, ni = ds->n_items, nu = ds->n_users;
    for (size_t u = 0; u < nu; u++)
        for (int64_t k = ds->user_ptr[u]; k < ds->user_ptr[u + 1] && ds->ev_time[k] < p->cutoff; k++)
            n += ds->ev_type[k] == UPF_EV_PURCHASE && ds->ev_item[k] >= 0;
    if (n == 0) return upf_err_set(err, UPF_ERR_DATA, "buy-again pairs: no purchase of an item before the cutoff");
    r = upf_malloc(n * sizeof *r);
    buyers = upf_calloc(ni + 1, sizeof *buyers);
    repeaters = upf_calloc(ni + 1, sizeof *repeaters);
    ipi_ptr = upf_calloc(ni + 1, sizeof *ipi_ptr);
    ipi_fill = upf_calloc(ni + 1, sizeof *ipi_fill);
    item_med = upf_calloc(ni + 1, sizeof *item_med);
    n_ud = upf_calloc(nu + 1, sizeof *n_ud);
    n_ui = upf_calloc(nu + 1, sizeof *n_ui);
    u_last = upf_calloc(nu + 1, sizeof *u_last);
    if (!r || !buyers || !repeaters || !ipi_ptr || !ipi_fill || !item_med || !n_ud || !n_ui || !u_last) goto nomem;
    size_t k = 0;
    for (size_t u = 0; u < nu; u++) {
        int64_t prev = INT64_MIN;
        for (int64_t e = ds->user_ptr[u]; e < ds->user_ptr[u + 1] && ds->ev_time[e] < p->cutoff; e++) {
            if (ds->ev_type[e] != UPF_EV_PURCHASE) continue;
            int64_t d = day_of(ds->ev_time[e]);
            if (d != prev) n_ud[u]++; /* the user's purchase days, any item */
            prev = u_last[u] = d;
            if (ds->ev_item[e] < 0) continue;
            r[k].user = (int32_t)u;
            r[k].item = ds->ev_item[e];
            r[k].day = d;
            k++;
        }
    }
    qsort(r, n, sizeof *r, cmp_uid);
    /* pass 1: per (user, item) groups -> item buyers, repeaters, interval counts */
    size_t n_int = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i, days = 0;
        for (; j < n && r[j].user == r[i].user && r[j].item == r[i].item; j++) days += j == i || r[j].day != r[j - 1].day;
        buyers[r[i].item]++;
        repeaters[r[i].item] += days >= 2;
        ipi_ptr[r[i].item + 1] += days - 1;
        n_int += days - 1;
        n_ui[r[i].user]++;
        i = j;
    }
    for (size_t it = 0; it < ni; it++) ipi_ptr[it + 1] += ipi_ptr[it];
    if (!(ipi = upf_malloc((n_int ? n_int : 1) * sizeof *ipi))) goto nomem;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        for (; j < n && r[j].user == r[i].user && r[j].item == r[i].item; j++)
            if (r[j].day != r[j - 1].day) ipi[ipi_ptr[r[i].item] + ipi_fill[r[i].item]++] = (double)(r[j].day - r[j - 1].day);
        i = j;
    }
    for (size_t it = 0; it < ni; it++) {
        size_t a = ipi_ptr[it], b = ipi_ptr[it + 1];
        if (b == a) continue;
        qsort(ipi + a, b - a, sizeof *ipi, cmp_f64);
        item_med[it] = (b - a) % 2 ? ipi[a + (b - a) / 2] : 0.5 * (ipi[a + (b - a) / 2 - 1] + ipi[a + (b - a) / 2]);
    }
    /* pass 2: rows for repeatable items */
    size_t n_rows = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && r[j].user == r[i].user && r[j].item == r[i].item) j++;
        int32_t it = r[i].item;
        n_rows += buyers[it] >= p->min_buyers && buyers[it] > 0 &&
                  (double)repeaters[it] >= p->min_repeat_share * (double)buyers[it];
        i = j;
    }
    if (n_rows == 0) {
        st = upf_err_set(err, UPF_ERR_DATA,
                         "buy-again pairs: no item is bought again by %g of at least %zu buyers before the cutoff",
                         p->min_repeat_share, p->min_buyers);
        goto done;
    }
    size_t cells = 0;
    if (upf_mul_size(n_rows, P_COLS, &cells)) goto nomem;
    out->X = upf_malloc(cells * sizeof *out->X);
    out->user = upf_malloc(n_rows * sizeof *out->user);
    out->item = upf_malloc(n_rows * sizeof *out->item);
    out->recency = upf_malloc(n_rows * sizeof *out->recency);
    out->names = upf_calloc(P_COLS, sizeof *out->names);
    if (!out->X || !out->user || !out->item || !out->recency || !out->names) goto nomem;
    out->n_cols = P_COLS;
    for (size_t c = 0; c < P_COLS; c++)
        if (!(out->names[c] = upf_strdup(pair_names[c]))) goto nomem;
    double c_days = (double)p->cutoff / DAY;
    size_t row = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i, days = 1;
        for (j = i + 1; j < n && r[j].user == r[i].user && r[j].item == r[i].item; j++) days += r[j].day != r[j - 1].day;
        int32_t it = r[i].item, u = r[i].user;
        int keep = buyers[it] >= p->min_buyers && buyers[it] > 0 &&
                   (double)repeaters[it] >= p->min_repeat_share * (double)buyers[it];
        if (keep) {
            float *x = out->X + row * P_COLS;
            double since = c_days - (double)r[j - 1].day; /* from the start of the last purchase day */
            double own = days >= 2 ? (double)(r[j - 1].day - r[i].day) / (double)(days - 1) : 0.0;
            x[P_COUNT] = (float)log1p((double)days);
            x[P_SINCE] = (float)log1p(since);
            x[P_OWN_IPI] = (float)log1p(own);
            x[P_HAS_OWN] = days >= 2 ? 1.0f : 0.0f;
            x[P_ITEM_IPI] = (float)log1p(item_med[it]);
            x[P_ITEM_REPEAT] = (float)((double)repeaters[it] / (double)buyers[it]);
            x[P_ITEM_BUYERS] = (float)log1p((double)buyers[it]);
            x[P_USER_FREQ] = (float)log1p((double)n_ud[u]);
            x[P_USER_REC] = (float)log1p(c_days - (double)u_last[u]);
            x[P_USER_ITEMS] = (float)log1p((double)n_ui[u]);
            out->user[row] = u;
            out->item[row] = it;
            out->recency[row] = since;
            row++;
        }
        i = j;
    }
    out->n_rows = row;
    goto done;
nomem:
    st = upf_err_set(err, UPF_ERR_NOMEM, "buy-again pairs: out of memory");
done:
    if (st != UPF_OK) upf_lt_features_free(out);
    upf_free(r);
    upf_free(buyers);
    upf_free(repeaters);
    upf_free(ipi_ptr);
    upf_free(ipi_fill);
    upf_free(ipi);
    upf_free(item_med);
    upf_free(n_ud);
    upf_free(n_ui);
    upf_free(u_last);
    return st;
}
