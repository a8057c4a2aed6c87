/* metrics.c - the ranking metric definitions of metrics.h: names and parsing,
 * the dense reference functions over a ranked list, the sparse (hits) form
 * the fast evaluator uses, and item popularity for long tail and novelty.
 * Sums are in double; the dense and sparse forms are kept equal by a test. */
#include "metrics.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- names ---- */

static const char *const kind_names[UPF_METRIC_KIND_COUNT] = {
    [UPF_METRIC_NONE] = "none",
    [UPF_METRIC_NDCG] = "ndcg",
    [UPF_METRIC_RECALL] = "recall",
    [UPF_METRIC_RECALL_CAPPED] = "recall_capped",
    [UPF_METRIC_PRECISION] = "precision",
    [UPF_METRIC_MAP] = "map",
    [UPF_METRIC_MAP_CUT] = "map_cut",
    [UPF_METRIC_MRR] = "mrr",
    [UPF_METRIC_HIT_RATE] = "hit_rate",
    [UPF_METRIC_AUC] = "auc",
    [UPF_METRIC_COVERAGE] = "coverage",
    [UPF_METRIC_LONG_TAIL] = "long_tail",
    [UPF_METRIC_NOVELTY] = "novelty",
};

static const struct { const char *alias; upf_metric_kind kind; } kind_aliases[] = {
    { "hit", UPF_METRIC_HIT_RATE },  { "hr", UPF_METRIC_HIT_RATE },    { "hits", UPF_METRIC_HIT_RATE },
    { "tail", UPF_METRIC_LONG_TAIL }, { "recall_cap", UPF_METRIC_RECALL_CAPPED },
};

/* k rule per kind: 1 required, 0 optional (absent = whole list), -1 forbidden. */
static int kind_k_rule(upf_metric_kind k)
{
    switch (k) {
    case UPF_METRIC_NDCG:
    case UPF_METRIC_MAP:
    case UPF_METRIC_MRR: return 0;
    case UPF_METRIC_AUC: return -1;
    default: return 1;
    }
}

static const char *const gain_names[UPF_GAIN_COUNT] = { "exp", "linear" };
static const char *const discount_names[UPF_DISCOUNT_COUNT] = { "log2", "trec" };
static const char *const empty_names[UPF_EMPTY_COUNT] = { "skip", "zero", "one" };

static int find_name(const char *const *names, int n, const char *s)
{
    for (int i = 0; s && i < n; i++)
        if (strcmp(names[i], s) == 0) return i;
    return -1;
}

const char *upf_gain_name(upf_gain g) { return (unsigned)g < UPF_GAIN_COUNT ? gain_names[g] : "?"; }
const char *upf_discount_name(upf_discount d)
{
    return (unsigned)d < UPF_DISCOUNT_COUNT ? discount_names[d] : "?";
}
const char *upf_empty_name(upf_empty_policy e) { return (unsigned)e < UPF_EMPTY_COUNT ? empty_names[e] : "?"; }
int upf_gain_parse(const char *s) { return find_name(gain_names, UPF_GAIN_COUNT, s); }
int upf_discount_parse(const char *s) { return find_name(discount_names, UPF_DISCOUNT_COUNT, s); }
int upf_empty_parse(const char *s) { return find_name(empty_names, UPF_EMPTY_COUNT, s); }

const char *upf_metric_kind_name(upf_metric_kind k)
{
    return (unsigned)k < UPF_METRIC_KIND_COUNT ? kind_names[k] : "?";
}

upf_metric_kind upf_metric_kind_parse(const char *name)
{
    int i = find_name(kind_names, UPF_METRIC_KIND_COUNT, name);
    if (i > 0) return (upf_metric_kind)i;
    for (size_t a = 0; name && a < sizeof kind_aliases / sizeof kind_aliases[0]; a++)
        if (strcmp(kind_aliases[a].alias, name) == 0) return kind_aliases[a].kind;
    return UPF_METRIC_NONE;
}

int upf_metric_is_relevance(upf_metric_kind k) { return k > UPF_METRIC_NONE && k <= UPF_METRIC_AUC; }

int upf_metric_is_catalogue(upf_metric_kind k)
{
    return k == UPF_METRIC_COVERAGE || k == UPF_METRIC_LONG_TAIL || k == UPF_METRIC_NOVELTY;
}

int upf_metric_needs_full_ranks(upf_metric_spec s)
{
    return s.kind == UPF_METRIC_AUC || (upf_metric_is_relevance(s.kind) && s.k == 0);
}

void upf_metric_spec_name(upf_metric_spec s, char *buf, size_t n)
{
    if (s.k) snprintf(buf, n, "%s@%u", upf_metric_kind_name(s.kind), (unsigned)s.k);
    else snprintf(buf, n, "%s", upf_metric_kind_name(s.kind));
}

#define UPF_METRIC_K_MAX 1000000u

upf_status upf_metric_spec_parse(const char *text, upf_metric_spec *out, upf_err *err)
{
    char name[UPF_METRIC_NAME_MAX];
    out->kind = UPF_METRIC_NONE;
    out->k = 0;
    const char *at = strchr(text, '@');
    size_t len = at ? (size_t)(at - text) : strlen(text);
    if (len == 0 || len >= sizeof name)
        return upf_err_set(err, UPF_ERR_ARG, "metric \"%s\": expected a name like ndcg@10", text);
    memcpy(name, text, len);
    name[len] = '\0';
    upf_metric_kind kind = upf_metric_kind_parse(name);
    if (kind == UPF_METRIC_NONE)
        return upf_err_set(err, UPF_ERR_ARG,
                           "metric \"%s\": unknown name \"%s\" (expected ndcg, recall, recall_capped, precision, "
                           "map, map_cut, mrr, hit_rate, auc, coverage, long_tail or novelty)",
                           text, name);
    uint32_t k = 0;
    if (at) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(at + 1, &end, 10);
        if (at[1] < '0' || at[1] > '9' || *end || errno || v < 1 || v > UPF_METRIC_K_MAX)
            return upf_err_set(err, UPF_ERR_ARG, "metric \"%s\": expected a cut-off in 1..%u after '@'", text,
                               UPF_METRIC_K_MAX);
        k = (uint32_t)v;
    }
    int rule = kind_k_rule(kind);
    if (rule == 1 && !k)
        return upf_err_set(err, UPF_ERR_ARG, "metric \"%s\": %s needs a cut-off, e.g. %s@10", text,
                           upf_metric_kind_name(kind), upf_metric_kind_name(kind));
    if (rule == -1 && k)
        return upf_err_set(err, UPF_ERR_ARG, "metric \"%s\": %s takes no cut-off (it ranks the whole list)",
                           text, upf_metric_kind_name(kind));
    out->kind = kind;
    out->k = k;
    return UPF_OK;
}

static int spec_eq(upf_metric_spec a, upf_metric_spec b) { return a.kind == b.kind && a.k == b.k; }

static upf_status push_spec(upf_metric_spec **v, size_t *n, size_t *cap, upf_metric_spec s, const char *text,
                            upf_err *err)
{
    for (size_t i = 0; i < *n; i++)
        if (spec_eq((*v)[i], s)) return upf_err_set(err, UPF_ERR_ARG, "metric \"%s\" is listed twice", text);
    if (*n == *cap) {
        size_t nc = *cap ? 2 * *cap : 8, bytes;
        if (upf_mul_size(nc, sizeof **v, &bytes)) return upf_err_set(err, UPF_ERR_NOMEM, "too many metrics");
        upf_metric_spec *nv = upf_realloc(*v, bytes);
        if (!nv) return upf_err_set(err, UPF_ERR_NOMEM, "out of memory for the metric list");
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = s;
    return UPF_OK;
}

upf_status upf_metric_specs_parse(const char *list, upf_metric_spec **out, size_t *n, upf_err *err)
{
    upf_status st = UPF_OK;
    upf_metric_spec *v = NULL;
    size_t nv = 0, cap = 0;
    char tok[UPF_METRIC_NAME_MAX + 16];
    *out = NULL;
    *n = 0;
    const char *p = list;
    for (;;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        while (len && (*p == ' ' || *p == '\t')) p++, len--;
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t')) len--;
        if (len == 0) {
            st = upf_err_set(err, UPF_ERR_ARG, "metrics \"%s\": empty name in the list", list);
            goto done;
        }
        if (len >= sizeof tok) {
            st = upf_err_set(err, UPF_ERR_ARG, "metrics \"%s\": name too long", list);
            goto done;
        }
        memcpy(tok, p, len);
        tok[len] = '\0';
        upf_metric_spec s;
        if ((st = upf_metric_spec_parse(tok, &s, err)) != UPF_OK) goto done;
        if ((st = push_spec(&v, &nv, &cap, s, tok, err)) != UPF_OK) goto done;
        if (!e) break;
        p = e + 1;
    }
    *out = v;
    *n = nv;
    v = NULL;
done:
    upf_free(v);
    return st;
}

upf_status upf_metric_specs_grid(const char *const *names, size_t n_names, const int64_t *ks, size_t n_ks,
                                 upf_metric_spec **out, size_t *n, upf_err *err)
{
    upf_status st = UPF_OK;
    upf_metric_spec *v = NULL;
    size_t nv = 0, cap = 0;
    char tok[UPF_METRIC_NAME_MAX + 32];
    *out = NULL;
    *n = 0;
    if (n_names == 0) {
        st = upf_err_set(err, UPF_ERR_ARG, "no metrics requested");
        goto done;
    }
    for (size_t i = 0; i < n_names; i++) {
        upf_metric_spec s;
        const char *name = names[i];
        upf_metric_kind kind = upf_metric_kind_parse(name);
        if (strchr(name, '@') || kind == UPF_METRIC_NONE || kind_k_rule(kind) == -1 ||
            (kind_k_rule(kind) == 0 && n_ks == 0)) {
            if ((st = upf_metric_spec_parse(name, &s, err)) != UPF_OK) goto done;
            if ((st = push_spec(&v, &nv, &cap, s, name, err)) != UPF_OK) goto done;
            continue;
        }
        if (n_ks == 0) {
            st = upf_err_set(err, UPF_ERR_ARG, "metric %s needs a cut-off and no cut-offs are given", name);
            goto done;
        }
        for (size_t j = 0; j < n_ks; j++) {
            if (ks[j] < 1 || ks[j] > (int64_t)UPF_METRIC_K_MAX) {
                st = upf_err_set(err, UPF_ERR_ARG, "cut-off %lld: expected 1..%u", (long long)ks[j],
                                 UPF_METRIC_K_MAX);
                goto done;
            }
            snprintf(tok, sizeof tok, "%s@%lld", name, (long long)ks[j]);
            if ((st = upf_metric_spec_parse(tok, &s, err)) != UPF_OK) goto done;
            if ((st = push_spec(&v, &nv, &cap, s, tok, err)) != UPF_OK) goto done;
        }
    }
    *out = v;
    *n = nv;
    v = NULL;
done:
    upf_free(v);
    return st;
}

/* ---- gain and discount ---- */

double upf_metric_gain(double grade, upf_gain g)
{
    if (!(grade > 0)) return 0.0;
    return g == UPF_GAIN_LINEAR ? grade : expm1(grade * 0.693147180559945309417232121458176568); /* 2^grade - 1 without cancellation */
}

double upf_metric_discount(size_t rank, upf_discount d)
{
    if (d == UPF_DISCOUNT_TREC) return rank <= 1 ? 1.0 : 1.0 / log2((double)rank);
    return 1.0 / log2((double)rank + 1.0);
}

/* ---- dense reference definitions ---- */

static size_t cut(size_t n, size_t k) { return k && k < n ? k : n; }

double upf_dcg_at_k(const double *rel, size_t n, size_t k, upf_gain g, upf_discount d)
{
    double s = 0.0;
    for (size_t r = 1; r <= cut(n, k); r++)
        if (rel[r - 1] > 0) s += upf_metric_gain(rel[r - 1], g) * upf_metric_discount(r, d);
    return s;
}

double upf_ndcg_at_k(const double *rel, size_t n, const double *ideal, size_t n_rel, size_t k, upf_gain g,
                     upf_discount d)
{
    double idcg = upf_dcg_at_k(ideal, n_rel, k, g, d);
    if (!(idcg > 0)) return NAN;
    return upf_dcg_at_k(rel, n, k, g, d) / idcg;
}

static size_t hits_within(const double *rel, size_t n, size_t k)
{
    size_t h = 0;
    for (size_t r = 0; r < cut(n, k); r++) h += rel[r] > 0;
    return h;
}

double upf_recall_at_k(const double *rel, size_t n, size_t n_rel, size_t k)
{
    if (!n_rel) return NAN;
    return (double)hits_within(rel, n, k) / (double)n_rel;
}

double upf_recall_capped_at_k(const double *rel, size_t n, size_t n_rel, size_t k)
{
    if (!n_rel) return NAN;
    return (double)hits_within(rel, n, k) / (double)(k && k < n_rel ? k : n_rel);
}

double upf_precision_at_k(const double *rel, size_t n, size_t n_rel, size_t k)
{
    if (!n_rel) return NAN;
    size_t denom = k ? k : n;
    return denom ? (double)hits_within(rel, n, k) / (double)denom : 0.0;
}

double upf_ap_at_k(const double *rel, size_t n, size_t n_rel, size_t k, int capped)
{
    if (!n_rel) return NAN;
    double s = 0.0;
    size_t h = 0;
    for (size_t r = 1; r <= cut(n, k); r++)
        if (rel[r - 1] > 0) s += (double)++h / (double)r;
    return s / (double)(capped && k && k < n_rel ? k : n_rel);
}

double upf_rr_at_k(const double *rel, size_t n, size_t n_rel, size_t k)
{
    if (!n_rel) return NAN;
    for (size_t r = 1; r <= cut(n, k); r++)
        if (rel[r - 1] > 0) return 1.0 / (double)r;
    return 0.0;
}

double upf_hit_at_k(const double *rel, size_t n, size_t n_rel, size_t k)
{
    if (!n_rel) return NAN;
    return hits_within(rel, n, k) ? 1.0 : 0.0;
}

double upf_auc_ranked(const double *rel, const double *score, size_t n, size_t n_rel_unranked)
{
    size_t n_pos = n_rel_unranked, n_neg = 0;
    double wrong = 0.0;
    /* Walk groups of equal score; every relevant item loses to the
     * non-relevant items above its group and half-loses to those in it. */
    for (size_t i = 0; i < n;) {
        size_t j = i, pos = 0, neg = 0;
        while (j < n && score[j] == score[i]) {
            if (rel[j] > 0) pos++;
            else neg++;
            j++;
        }
        wrong += (double)pos * ((double)n_neg + 0.5 * (double)neg);
        n_pos += pos;
        n_neg += neg;
        i = j;
    }
    wrong += (double)n_rel_unranked * (double)n_neg;
    return upf_auc_from_counts(wrong, n_pos, n_neg);
}

double upf_dense_metric(const double *rel, size_t n, const double *ideal, size_t n_rel, upf_metric_spec s,
                        upf_gain g, upf_discount d)
{
    switch (s.kind) {
    case UPF_METRIC_NDCG: return upf_ndcg_at_k(rel, n, ideal, n_rel, s.k, g, d);
    case UPF_METRIC_RECALL: return upf_recall_at_k(rel, n, n_rel, s.k);
    case UPF_METRIC_RECALL_CAPPED: return upf_recall_capped_at_k(rel, n, n_rel, s.k);
    case UPF_METRIC_PRECISION: return upf_precision_at_k(rel, n, n_rel, s.k);
    case UPF_METRIC_MAP: return upf_ap_at_k(rel, n, n_rel, s.k, 1);
    case UPF_METRIC_MAP_CUT: return upf_ap_at_k(rel, n, n_rel, s.k, 0);
    case UPF_METRIC_MRR: return upf_rr_at_k(rel, n, n_rel, s.k);
    case UPF_METRIC_HIT_RATE: return upf_hit_at_k(rel, n, n_rel, s.k);
    default: return NAN;
    }
}

/* ---- sparse form ---- */

double upf_hits_metric(const upf_rank_hits *h, upf_metric_spec s, upf_gain g, upf_discount d)
{
    if (!h->n_rel) return NAN;
    size_t kk = s.k ? s.k : SIZE_MAX, m = 0;
    while (m < h->n && h->rank[m] <= kk) m++; /* hits within the cut-off */
    switch (s.kind) {
    case UPF_METRIC_NDCG: {
        double idcg = upf_dcg_at_k(h->ideal, h->n_rel, s.k, g, d), dcg = 0.0;
        if (!(idcg > 0)) return NAN;
        for (size_t i = 0; i < m; i++) dcg += upf_metric_gain(h->grade[i], g) * upf_metric_discount(h->rank[i], d);
        return dcg / idcg;
    }
    case UPF_METRIC_RECALL: return (double)m / (double)h->n_rel;
    case UPF_METRIC_RECALL_CAPPED: return (double)m / (double)(s.k && s.k < h->n_rel ? s.k : h->n_rel);
    case UPF_METRIC_PRECISION: return (double)m / (double)s.k; /* k >= 1 by the spec rules */
    case UPF_METRIC_MAP:
    case UPF_METRIC_MAP_CUT: {
        double sum = 0.0;
        for (size_t i = 0; i < m; i++) sum += (double)(i + 1) / (double)h->rank[i];
        size_t denom = s.kind == UPF_METRIC_MAP && s.k && s.k < h->n_rel ? s.k : h->n_rel;
        return sum / (double)denom;
    }
    case UPF_METRIC_MRR: return m ? 1.0 / (double)h->rank[0] : 0.0;
    case UPF_METRIC_HIT_RATE: return m ? 1.0 : 0.0;
    default: return NAN;
    }
}

double upf_auc_from_counts(double wrong, size_t n_rel, size_t n_nonrel)
{
    if (!n_rel || !n_nonrel) return NAN;
    return 1.0 - wrong / ((double)n_rel * (double)n_nonrel);
}

/* ---- item popularity ---- */

/* Stable counting order without globals: merge sort on (count desc, index asc). */
static void sort_by_pop(size_t *idx, size_t *tmp, size_t n, const double *count)
{
    if (n < 2) return;
    size_t h = n / 2;
    sort_by_pop(idx, tmp, h, count);
    sort_by_pop(idx + h, tmp, n - h, count);
    size_t a = 0, b = h, o = 0;
    while (a < h && b < n) {
        size_t i = idx[a], j = idx[b];
        int take_a = count[i] > count[j] || (count[i] == count[j] && i < j);
        tmp[o++] = take_a ? idx[a++] : idx[b++];
    }
    while (a < h) tmp[o++] = idx[a++];
    while (b < n) tmp[o++] = idx[b++];
    memcpy(idx, tmp, n * sizeof *idx);
}

upf_status upf_item_pop_build(const double *count, size_t n_items, double head_share, upf_item_pop *out,
                              upf_err *err)
{
    upf_status st = UPF_OK;
    size_t *idx = NULL, *tmp = NULL;
    memset(out, 0, sizeof *out);
    if (!(head_share > 0 && head_share <= 1))
        return upf_err_set(err, UPF_ERR_ARG, "head share %g: expected a value in (0, 1]", head_share);
    double total = 0.0;
    for (size_t i = 0; i < n_items; i++) {
        if (!(count[i] >= 0) || !isfinite(count[i]))
            return upf_err_set(err, UPF_ERR_DATA, "item %zu: popularity %g (expected a finite count >= 0)", i,
                               count[i]);
        total += count[i];
    }
    if (!(total > 0))
        return upf_err_set(err, UPF_ERR_DATA,
                           "no training interactions: long_tail and novelty need item popularity");
    idx = upf_calloc(n_items ? n_items : 1, sizeof *idx);
    tmp = upf_calloc(n_items ? n_items : 1, sizeof *tmp);
    out->is_tail = upf_calloc(n_items ? n_items : 1, 1);
    out->info = upf_calloc(n_items ? n_items : 1, sizeof *out->info);
    if (!idx || !tmp || !out->is_tail || !out->info) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "out of memory for item popularity (%zu items)", n_items);
        goto done;
    }
    for (size_t i = 0; i < n_items; i++) idx[i] = i;
    sort_by_pop(idx, tmp, n_items, count);
    double need = head_share * total, cum = 0.0;
    size_t n_head = 0;
    /* The head is the shortest prefix reaching the share; the item that
     * crosses the line is in it. */
    while (n_head < n_items && cum < need) cum += count[idx[n_head++]];
    for (size_t i = 0; i < n_items; i++) out->is_tail[i] = 1;
    for (size_t r = 0; r < n_head; r++) out->is_tail[idx[r]] = 0;
    for (size_t i = 0; i < n_items; i++) out->info[i] = -log2((count[i] >= 1 ? count[i] : 1.0) / total);
    out->n_items = n_items;
    out->total = total;
    out->n_head = n_head;
done:
    upf_free(idx);
    upf_free(tmp);
    if (st != UPF_OK) upf_item_pop_free(out);
    return st;
}

upf_status upf_item_pop_from_csr(const upf_csr *train, double head_share, upf_item_pop *out, upf_err *err)
{
    memset(out, 0, sizeof *out);
    double *count = upf_calloc(train->n_cols ? train->n_cols : 1, sizeof *count);
    if (!count) return upf_err_set(err, UPF_ERR_NOMEM, "out of memory for item counts (%zu items)", train->n_cols);
    int64_t nnz = upf_csr_nnz(train);
    for (int64_t e = 0; e < nnz; e++) {
        int32_t j = train->idx[e];
        if (j >= 0 && (size_t)j < train->n_cols) count[j] += 1.0;
    }
    upf_status st = upf_item_pop_build(count, train->n_cols, head_share, out, err);
    upf_free(count);
    return st;
}

void upf_item_pop_free(upf_item_pop *p)
{
    if (!p) return;
    upf_free(p->is_tail);
    upf_free(p->info);
    memset(p, 0, sizeof *p);
}

double upf_long_tail_at_k(const int32_t *items, size_t n, size_t k, const upf_item_pop *p)
{
    size_t m = cut(n, k), t = 0;
    if (!m) return NAN;
    for (size_t r = 0; r < m; r++) t += p->is_tail[items[r]];
    return (double)t / (double)m;
}

double upf_novelty_at_k(const int32_t *items, size_t n, size_t k, const upf_item_pop *p)
{
    size_t m = cut(n, k);
    if (!m) return NAN;
    double s = 0.0;
    for (size_t r = 0; r < m; r++) s += p->info[items[r]];
    return s / (double)m;
}
