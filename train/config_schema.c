/* config_schema.c - the table of the common config keys and the typed
 * conversion of YAML nodes into struct fields against a key row.
 *
 * Every value check a single key can make lives here (type, range, choices,
 * dates, duplicates in lists); checks across keys live in config.c
 * (common) and in each family's `check`. The table below is the source of
 * truth for configs/README.md ("Common keys"); a test keeps them in agreement.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../model/json.h"
#include "config_internal.h"

/* ---- the common keys ---- */

static const char *const source_choices[] = { "file", "synth", NULL };
static const char *const event_choices[] = { "view", "cart", "purchase", "search", "rating", "return", "tag", NULL };
static const char *const split_choices[] = { "random", "last_n", "temporal", NULL };
static const char *const metric_choices[] = { "ndcg", "recall", "precision", "map", "mrr", "auc",
                                              "hit_rate", "coverage", "long_tail", "novelty", NULL };
static const char *const gain_choices[] = { "exp", "linear", NULL };
static const char *const empty_choices[] = { "skip", "zero", "one", NULL };
static const char *const baseline_choices[] = { "popularity", "popularity_decay", "cooccur", NULL };
static const char *const segment_choices[] = { "cold_items", "activity", "new_returning", NULL };
static const char *const dtype_choices[] = { "f32", "f16", "int8", NULL };

const char *const upf_config_sections[] = { "data", "split", "features", "model", "train",
                                            "eval", "export", "gates", NULL };

#define OFF(f) offsetof(upf_config, f)
#define INF INFINITY

const upf_cfg_key upf_config_keys[] = {
    { "data.source", UPF_CFG_ENUM, OFF(data_source), 0, 0, "file", source_choices,
      "where the events come from: an HDF5 dataset file, or a synthetic shop generated in memory", 0 },
    { "data.path", UPF_CFG_STRING, OFF(data_path), 0, 0, "\"\"", NULL,
      "HDF5 dataset (`upfunnel data import`/`synth`); relative to the working directory, "
      "else to the config file's folder; required when data.source is file", 0 },
    { "data.synth.users", UPF_CFG_INT, OFF(data_synth_users), 10, 1e8, "2000", NULL,
      "data.source synth: number of users", 0 },
    { "data.synth.items", UPF_CFG_INT, OFF(data_synth_items), 10, 1e7, "500", NULL,
      "data.source synth: number of items", 0 },
    { "data.synth.seed", UPF_CFG_INT, OFF(data_synth_seed), 0, INF, "1", NULL,
      "data.source synth: generator seed", 0 },
    { "data.events", UPF_CFG_STRING_LIST, OFF(data_events), 0, 0, "[purchase, cart, view, rating]", event_choices,
      "event types that count as interactions", 0 },
    { "data.min_rating", UPF_CFG_DOUBLE, OFF(data_min_rating), 0, 0, "0", NULL,
      "rating events count only when their value is at least this", 0 },
    { "data.grades", UPF_CFG_MAP, OFF(data_grades), 0, 0, "{}", NULL,
      "relevance grade per event type, e.g. {purchase: 3, cart: 2, view: 1}; a user-item pair keeps "
      "its highest grade; unnamed types keep purchase 3, cart 2, view 1, others 1", 0 },
    { "data.begin", UPF_CFG_DATE, OFF(data_begin), 0, 0, "null", NULL,
      "ignore events before this date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, UTC)", 0 },
    { "data.end", UPF_CFG_DATE, OFF(data_end), 0, 0, "null", NULL, "ignore events at or after this date", 0 },

    { "split.kind", UPF_CFG_ENUM, OFF(split_kind), 0, 0, "random", split_choices,
      "random per-user fraction, the last N per user by time, or a global temporal cutoff", 0 },
    { "split.test_frac", UPF_CFG_DOUBLE, OFF(split_test_frac), 0, 1, "0.2", NULL,
      "random: share of each user's interactions held out for test", UPF_CFG_MIN_EXCL | UPF_CFG_MAX_EXCL },
    { "split.last_n", UPF_CFG_INT, OFF(split_last_n), 1, 1e6, "1", NULL,
      "last_n: interactions per user held out for test", 0 },
    { "split.cutoff", UPF_CFG_DATE, OFF(split_cutoff), 0, 0, "null", NULL,
      "temporal: interactions first seen at or after this date go to test; required for temporal", 0 },
    { "split.min_entries", UPF_CFG_INT, OFF(split_min_entries), 1, 1e6, "2", NULL,
      "random/last_n: users with fewer interactions keep them all in train", 0 },
    { "split.seed", UPF_CFG_INT, OFF(split_seed), 0, INF, "42", NULL, "random: split seed", 0 },
    { "split.valid_frac", UPF_CFG_DOUBLE, OFF(split_valid_frac), 0, 1, "0", NULL,
      "share of train carved out (same kind of split) as validation for early stopping; 0: none",
      UPF_CFG_MAX_EXCL },

    { "model.family", UPF_CFG_STRING, OFF(model_family), 0, 0, NULL, NULL,
      "the model family; selects the family's keys (see below)", 0 },
    { "model.name", UPF_CFG_STRING, OFF(model_name), 0, 0, "\"\"", NULL,
      "name recorded in the model file (model.name); empty: the config file's name (resolved)", 0 },

    { "train.seed", UPF_CFG_INT, OFF(train_seed), 0, INF, "1", NULL,
      "seed of every random draw in training (recorded in the run and the model file)", 0 },
    { "train.threads", UPF_CFG_INT, OFF(train_threads), 0, 1024, "0", NULL,
      "threads for training (when not deterministic) and evaluation; 0: every online CPU", 0 },
    { "train.deterministic", UPF_CFG_BOOL, OFF(train_deterministic), 0, 0, "true", NULL,
      "train on one thread so the same seed and data give the same model byte for byte", 0 },

    { "eval.metrics", UPF_CFG_STRING_LIST, OFF(eval_metrics), 0, 0,
      "[ndcg, recall, precision, map, mrr, coverage, long_tail]", metric_choices,
      "ranking metrics to report, each at every cut-off in eval.k where it has one", 0 },
    { "eval.k", UPF_CFG_INT_LIST, OFF(eval_k), 1, 100000, "[10, 20]", NULL, "ranking cut-offs", 0 },
    { "eval.gain", UPF_CFG_ENUM, OFF(eval_gain), 0, 0, "exp", gain_choices,
      "NDCG gain: 2^rel - 1 (exp) or rel (linear); equal for binary relevance", 0 },
    { "eval.empty", UPF_CFG_ENUM, OFF(eval_empty), 0, 0, "skip", empty_choices,
      "users without a relevant test item: skipped (and counted), or scored 0 or 1", 0 },
    { "eval.exclude_train", UPF_CFG_BOOL, OFF(eval_exclude_train), 0, 0, "true", NULL,
      "never rank a user's training items", 0 },
    { "eval.baselines", UPF_CFG_STRING_LIST, OFF(eval_baselines), 0, 0, "[popularity]", baseline_choices,
      "baselines evaluated on the same split, reported as baseline_<name> in metrics.json", 0 },
    { "eval.segments", UPF_CFG_STRING_LIST, OFF(eval_segments), 0, 0, "[]", segment_choices,
      "extra reports: cold_items (test items without training events), activity (users by "
      "training interactions: low/mid/high), new_returning", 0 },
    { "eval.reference", UPF_CFG_STRING, OFF(eval_reference), 0, 0, "\"\"", NULL,
      "reference for gates written with `ref`: a run directory, a metrics.json or a .upf model", 0 },
    { "eval.primary", UPF_CFG_STRING, OFF(eval_primary), 0, 0, "\"\"", NULL,
      "metric that ranks sweep points; empty: ndcg@K for the first K in eval.k, else the "
      "family's first metric", 0 },
    { "eval.ope.enabled", UPF_CFG_BOOL, OFF(eval_ope_enabled), 0, 0, "false", NULL,
      "off-policy estimates (IPS, SNIPS, DR with intervals) of the model's top-P slates against the "
      "dataset's logged impressions, as ope.* in metrics.json (and baseline_<name>.ope.*)", 0 },
    { "eval.ope.clip", UPF_CFG_DOUBLE, OFF(eval_ope_clip), 0, 1, "0", NULL,
      "propensity floor: weights are pi / max(propensity, clip); 0: no clipping (unbiased)", 0 },
    { "eval.ope.bootstrap", UPF_CFG_INT, OFF(eval_ope_bootstrap), 0, 100000, "500", NULL,
      "bootstrap resamples of the contexts behind the ope.*_lo/_hi intervals; 0: none", 0 },
    { "eval.ope.level", UPF_CFG_DOUBLE, OFF(eval_ope_level), 0, 1, "0.95", NULL,
      "level of the ope.* intervals", UPF_CFG_MIN_EXCL | UPF_CFG_MAX_EXCL },
    { "eval.ope.prior", UPF_CFG_DOUBLE, OFF(eval_ope_prior), 0, 1e9, "10", NULL,
      "DR/DM reward table: pseudo-impressions shrinking an (item, position) click rate to its "
      "position's rate", 0 },

    { "export.enabled", UPF_CFG_BOOL, OFF(export_enabled), 0, 0, "true", NULL,
      "write model.upf into the run directory", 0 },
    { "export.dtype", UPF_CFG_ENUM, OFF(export_dtype), 0, 0, "f32", dtype_choices,
      "storage type `upfunnel export` uses when given no --dtype (model.upf is always f32)", 0 },
    { "export.timestamp", UPF_CFG_BOOL, OFF(export_timestamp), 0, 0, "true", NULL,
      "record provenance.created_unix in the model (SOURCE_DATE_EPOCH pins it); false: "
      "omit it", 0 },

    { "gates", UPF_CFG_MAP, OFF(gates), 0, 0, "{}", NULL,
      "quality gates, metric: \"OP BOUND\" with OP one of >=, >, <=, < and BOUND a number, "
      "ref, ref + x, ref - x or ref * x", 0 },
    { NULL, UPF_CFG_NONE, 0, 0, 0, NULL, NULL, NULL, 0 },
};

/* ---- type names and ranges ---- */

const char *upf_cfg_type_name(upf_cfg_type t)
{
    switch (t) {
    case UPF_CFG_BOOL: return "bool";
    case UPF_CFG_INT: return "integer";
    case UPF_CFG_DOUBLE: return "number";
    case UPF_CFG_STRING: return "string";
    case UPF_CFG_ENUM: return "enum";
    case UPF_CFG_DATE: return "date";
    case UPF_CFG_INT_LIST: return "list of integers";
    case UPF_CFG_DOUBLE_LIST: return "list of numbers";
    case UPF_CFG_STRING_LIST: return "list of strings";
    case UPF_CFG_MAP: return "mapping";
    default: return "none";
    }
}

int cfg_type_is_scalar(upf_cfg_type t)
{
    return t == UPF_CFG_BOOL || t == UPF_CFG_INT || t == UPF_CFG_DOUBLE || t == UPF_CFG_STRING ||
           t == UPF_CFG_ENUM || t == UPF_CFG_DATE;
}

int cfg_type_is_list(upf_cfg_type t)
{
    return t == UPF_CFG_INT_LIST || t == UPF_CFG_DOUBLE_LIST || t == UPF_CFG_STRING_LIST;
}

static int is_numeric(upf_cfg_type t)
{
    return t == UPF_CFG_INT || t == UPF_CFG_DOUBLE || t == UPF_CFG_INT_LIST || t == UPF_CFG_DOUBLE_LIST;
}

static int bounded(const upf_cfg_key *k) { return !(k->min == 0 && k->max == 0); }

void upf_cfg_key_range(const upf_cfg_key *k, char *buf, size_t n)
{
    char lo[40], hi[40];
    buf[0] = '\0';
    if (!is_numeric(k->type) || !bounded(k)) return;
    upf_json_format_num(lo, sizeof lo, k->min);
    upf_json_format_num(hi, sizeof hi, k->max);
    int has_lo = isfinite(k->min), has_hi = isfinite(k->max);
    int xlo = (k->flags & UPF_CFG_MIN_EXCL) != 0, xhi = (k->flags & UPF_CFG_MAX_EXCL) != 0;
    if (has_lo && has_hi) snprintf(buf, n, "%c%s, %s%c", xlo ? '(' : '[', lo, hi, xhi ? ')' : ']');
    else if (has_lo) snprintf(buf, n, "%s %s", xlo ? ">" : ">=", lo);
    else if (has_hi) snprintf(buf, n, "%s %s", xhi ? "<" : "<=", hi);
}

/* "an integer in [1, 10]", "a number > 0", "one of: a, b" */
static void expected_text(const upf_cfg_key *k, char *buf, size_t n)
{
    char range[100];
    upf_cfg_key_range(k, range, sizeof range);
    const char *what = "a value";
    switch (k->type) {
    case UPF_CFG_BOOL: what = "true or false"; break;
    case UPF_CFG_INT: case UPF_CFG_INT_LIST: what = "an integer"; break;
    case UPF_CFG_DOUBLE: case UPF_CFG_DOUBLE_LIST: what = "a number"; break;
    case UPF_CFG_STRING: case UPF_CFG_STRING_LIST: what = "a string"; break;
    case UPF_CFG_DATE: what = "a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)"; break;
    case UPF_CFG_MAP: what = "a mapping"; break;
    default: break;
    }
    if ((k->type == UPF_CFG_ENUM || k->type == UPF_CFG_STRING_LIST) && k->choices) {
        size_t off = (size_t)snprintf(buf, n, "one of ");
        for (size_t i = 0; k->choices[i] && off < n; i++)
            off += (size_t)snprintf(buf + off, n - off, "%s%s", i ? ", " : "", k->choices[i]);
        return;
    }
    if (range[0] && (range[0] == '[' || range[0] == '('))
        snprintf(buf, n, "%s in %s", what, range);
    else if (range[0])
        snprintf(buf, n, "%s %s", what, range);
    else
        snprintf(buf, n, "%s", what);
}

/* ---- suggestions ---- */

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) return (size_t)-1;
    size_t prev[64], cur[64];
    for (size_t j = 0; j <= lb; j++) prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (lb + 1) * sizeof *prev);
    }
    return prev[lb];
}

const char *cfg_closest(const char *got, const char *const *cands, size_t n)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1, len = strlen(got);
    size_t limit = len <= 3 ? 1 : len <= 8 ? 2 : 3;
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(got, cands[i]);
        if (d < best_d) {
            best_d = d;
            best = cands[i];
        }
    }
    return best_d <= limit ? best : NULL;
}

const upf_cfg_key *cfg_find_key(const upf_cfg_key *keys, const char *path)
{
    for (const upf_cfg_key *k = keys; k && k->path; k++)
        if (strcmp(k->path, path) == 0) return k;
    return NULL;
}

/* ---- dates ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int64_t y, int64_t m)
{
    static const int dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 ? 28 + leap : dm[m - 1];
}

static int digits(const char *s, int n, int64_t *out)
{
    int64_t v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int cfg_parse_date(const char *s, int64_t *out)
{
    int64_t y, mo, d, h = 0, mi = 0, se = 0;
    size_t n = strlen(s);
    if (n < 10 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) return -1;
    if (n > 10) {
        if ((s[10] != 'T' && s[10] != ' ') || n < 19 || digits(s + 11, 2, &h) || s[13] != ':' ||
            digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &se))
            return -1;
        if (h > 23 || mi > 59 || se > 59) return -1;
        if (!(n == 19 || (n == 20 && s[19] == 'Z'))) return -1;
    }
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    return 0;
}

void cfg_format_date(int64_t t, char *buf, size_t n)
{
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t secs = t - days * 86400;
    /* civil_from_days (H. Hinnant) */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1, m = mp + (mp < 10 ? 3 : -9);
    y += m <= 2;
    if (secs == 0)
        snprintf(buf, n, "%04lld-%02lld-%02lld", (long long)y, (long long)m, (long long)d);
    else
        snprintf(buf, n, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ", (long long)y, (long long)m, (long long)d,
                 (long long)(secs / 3600), (long long)(secs / 60 % 60), (long long)(secs % 60));
}

/* ---- conversion ---- */

static int in_range(const upf_cfg_key *k, double v)
{
    if (!bounded(k)) return 1;
    if (k->flags & UPF_CFG_MIN_EXCL ? !(v > k->min) : !(v >= k->min)) return 0;
    if (k->flags & UPF_CFG_MAX_EXCL ? !(v < k->max) : !(v <= k->max)) return 0;
    return 1;
}

static upf_status type_error(const upf_cfg_key *k, const cfg_node *n, upf_err *err, const char *hint)
{
    char exp[400], got[120];
    expected_text(k, exp, sizeof exp);
    cfg_node_describe(n, got, sizeof got);
    if (n && n->kind == CFG_SCALAR && !n->plain && !cfg_node_is_null(n) &&
        (k->type == UPF_CFG_INT || k->type == UPF_CFG_DOUBLE || k->type == UPF_CFG_BOOL ||
         k->type == UPF_CFG_INT_LIST || k->type == UPF_CFG_DOUBLE_LIST))
        hint = hint ? hint : " (a quoted string: remove the quotes)";
    return cfg_error_node(err, n, k->path, "expected %s, got %s%s", exp, got, hint ? hint : "");
}

static upf_status parse_int(const upf_cfg_key *k, const cfg_node *n, int64_t *out, upf_err *err)
{
    if (n->kind != CFG_SCALAR || !n->plain || cfg_node_is_null(n)) return type_error(k, n, err, NULL);
    char *end;
    errno = 0;
    const char *s = n->text;
    if (!(isdigit((unsigned char)s[0]) || ((s[0] == '-' || s[0] == '+') && isdigit((unsigned char)s[1]))))
        return type_error(k, n, err, NULL);
    long long v = strtoll(s, &end, 10);
    if (*end || errno == ERANGE) return type_error(k, n, err, errno == ERANGE ? " (out of range)" : NULL);
    if (!in_range(k, (double)v)) return type_error(k, n, err, NULL);
    *out = v;
    return UPF_OK;
}

static upf_status parse_double(const upf_cfg_key *k, const cfg_node *n, double *out, upf_err *err)
{
    if (n->kind != CFG_SCALAR || !n->plain || cfg_node_is_null(n)) return type_error(k, n, err, NULL);
    const char *s = n->text;
    if (!(isdigit((unsigned char)s[0]) || s[0] == '.' ||
          ((s[0] == '-' || s[0] == '+') && (isdigit((unsigned char)s[1]) || s[1] == '.'))))
        return type_error(k, n, err, NULL);
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno == ERANGE || !isfinite(v)) return type_error(k, n, err, NULL);
    if (!in_range(k, v)) return type_error(k, n, err, NULL);
    *out = v;
    return UPF_OK;
}

static upf_status check_string(const upf_cfg_key *k, const cfg_node *n, upf_err *err)
{
    if (n->kind != CFG_SCALAR) return type_error(k, n, err, NULL);
    if (strlen(n->text) != n->len) return cfg_error_node(err, n, k->path, "expected a string, got a NUL byte in it");
    return UPF_OK;
}

static upf_status choice_index(const upf_cfg_key *k, const cfg_node *n, int *out, upf_err *err)
{
    if (n->kind != CFG_SCALAR || cfg_node_is_null(n)) return type_error(k, n, err, NULL);
    size_t nc = 0;
    for (; k->choices[nc]; nc++)
        if (strcmp(k->choices[nc], n->text) == 0) {
            *out = (int)nc;
            return UPF_OK;
        }
    const char *near = cfg_closest(n->text, k->choices, nc);
    char hint[100] = "";
    if (near) snprintf(hint, sizeof hint, " (did you mean %s?)", near);
    return type_error(k, n, err, hint);
}

static void free_strings(upf_cfg_strings *s)
{
    for (size_t i = 0; i < s->n; i++) upf_free(s->v[i]);
    upf_free(s->v);
    s->v = NULL;
    s->n = 0;
}

static void free_map(upf_cfg_map *m)
{
    for (size_t i = 0; i < m->n; i++) {
        upf_free(m->keys[i]);
        upf_free(m->values[i]);
    }
    upf_free(m->keys);
    upf_free(m->values);
    m->keys = m->values = NULL;
    m->n = 0;
}

static void free_field(const upf_cfg_key *k, void *base)
{
    char *f = (char *)base + k->offset;
    switch (k->type) {
    case UPF_CFG_STRING: {
        char **s = (char **)(void *)f;
        upf_free(*s);
        *s = NULL;
        break;
    }
    case UPF_CFG_INT_LIST: {
        upf_cfg_ints *l = (upf_cfg_ints *)(void *)f;
        upf_free(l->v);
        l->v = NULL;
        l->n = 0;
        break;
    }
    case UPF_CFG_DOUBLE_LIST: {
        upf_cfg_doubles *l = (upf_cfg_doubles *)(void *)f;
        upf_free(l->v);
        l->v = NULL;
        l->n = 0;
        break;
    }
    case UPF_CFG_STRING_LIST: free_strings((upf_cfg_strings *)(void *)f); break;
    case UPF_CFG_MAP: free_map((upf_cfg_map *)(void *)f); break;
    default: break;
    }
}

void cfg_free_fields(const upf_cfg_key *keys, void *base)
{
    if (!base) return;
    for (const upf_cfg_key *k = keys; k && k->path; k++) free_field(k, base);
}

static upf_status nomem(upf_err *err, const upf_cfg_key *k)
{
    return upf_err_set(err, UPF_ERR_NOMEM, "%s: out of memory", k->path);
}

static upf_status set_list(const upf_cfg_key *k, char *f, const cfg_node *n, upf_err *err)
{
    if (n->kind == CFG_MAP) return type_error(k, n, err, NULL);
    /* a scalar reads as a list of one: `items` then points at the local `self` */
    const cfg_node *self = n;
    size_t cnt = cfg_node_is_null(n) ? 0 : n->kind == CFG_SEQ ? n->n : 1;
    const cfg_node *const *items = n->kind == CFG_SEQ ? (const cfg_node *const *)n->items : &self;
    for (size_t i = 0; i < cnt; i++)
        if (items[i]->kind != CFG_SCALAR)
            return cfg_error_node(err, items[i], k->path,
                                  "expected a %s, got %s inside the list (a list of lists makes a sweep grid: "
                                  "run `upfunnel sweep`)",
                                  upf_cfg_type_name(k->type), items[i]->kind == CFG_SEQ ? "a list" : "a mapping");
    upf_status st = UPF_OK;
    if (k->type == UPF_CFG_INT_LIST) {
        int64_t *v = upf_calloc(cnt ? cnt : 1, sizeof *v);
        if (!v) return nomem(err, k);
        for (size_t i = 0; i < cnt && !st; i++) {
            st = parse_int(k, items[i], &v[i], err);
            for (size_t j = 0; j < i && !st; j++)
                if (v[j] == v[i]) st = cfg_error_node(err, items[i], k->path, "expected distinct values, got %lld twice",
                                                      (long long)v[i]);
        }
        if (st) {
            upf_free(v);
            return st;
        }
        free_field(k, f - k->offset);
        upf_cfg_ints *l = (upf_cfg_ints *)(void *)f;
        l->v = v;
        l->n = cnt;
    } else if (k->type == UPF_CFG_DOUBLE_LIST) {
        double *v = upf_calloc(cnt ? cnt : 1, sizeof *v);
        if (!v) return nomem(err, k);
        for (size_t i = 0; i < cnt && !st; i++) st = parse_double(k, items[i], &v[i], err);
        if (st) {
            upf_free(v);
            return st;
        }
        free_field(k, f - k->offset);
        upf_cfg_doubles *l = (upf_cfg_doubles *)(void *)f;
        l->v = v;
        l->n = cnt;
    } else {
        upf_cfg_strings s = { 0, NULL };
        s.v = upf_calloc(cnt ? cnt : 1, sizeof *s.v);
        if (!s.v) return nomem(err, k);
        for (size_t i = 0; i < cnt && !st; i++) {
            int idx;
            if ((st = check_string(k, items[i], err))) break;
            if (cfg_node_is_null(items[i])) {
                st = type_error(k, items[i], err, NULL);
                break;
            }
            if (k->choices && (st = choice_index(k, items[i], &idx, err))) break;
            for (size_t j = 0; j < s.n && !st; j++)
                if (strcmp(s.v[j], items[i]->text) == 0)
                    st = cfg_error_node(err, items[i], k->path, "expected distinct values, got %s twice", s.v[j]);
            if (st) break;
            if (!(s.v[s.n] = upf_strdup(items[i]->text))) st = nomem(err, k);
            else s.n++;
        }
        if (st) {
            free_strings(&s);
            return st;
        }
        free_field(k, f - k->offset);
        *(upf_cfg_strings *)(void *)f = s;
    }
    return UPF_OK;
}

static upf_status set_map(const upf_cfg_key *k, char *f, const cfg_node *n, upf_err *err)
{
    upf_cfg_map m = { 0, NULL, NULL };
    if (cfg_node_is_null(n)) goto store;
    if (n->kind != CFG_MAP) return type_error(k, n, err, NULL);
    m.keys = upf_calloc(n->n ? n->n : 1, sizeof *m.keys);
    m.values = upf_calloc(n->n ? n->n : 1, sizeof *m.values);
    if (!m.keys || !m.values) {
        free_map(&m);
        return nomem(err, k);
    }
    for (size_t i = 0; i < n->n; i++) {
        const cfg_node *key = n->keys[i], *val = n->items[i];
        char path[300];
        snprintf(path, sizeof path, "%s.%s", k->path, key->text);
        for (size_t j = 0; j < i; j++)
            if (strcmp(n->keys[j]->text, key->text) == 0) {
                free_map(&m);
                return cfg_error_node(err, key, path, "duplicate key (first at line %zu)", n->keys[j]->line);
            }
        if (val->kind != CFG_SCALAR || cfg_node_is_null(val)) {
            char got[120];
            cfg_node_describe(val, got, sizeof got);
            free_map(&m);
            return cfg_error_node(err, val, path, "expected a scalar value, got %s", got);
        }
        m.keys[i] = upf_strdup(key->text);
        m.values[i] = upf_strdup(val->text);
        m.n = i + 1;
        if (!m.keys[i] || !m.values[i]) {
            free_map(&m);
            return nomem(err, k);
        }
    }
store:
    free_field(k, f - k->offset);
    *(upf_cfg_map *)(void *)f = m;
    return UPF_OK;
}

upf_status cfg_set_value(const upf_cfg_key *k, void *base, const cfg_node *n, upf_err *err)
{
    char *f = (char *)base + k->offset;
    upf_status st;
    if (cfg_type_is_scalar(k->type) && n->kind != CFG_SCALAR)
        return type_error(k, n, err,
                          n->kind == CFG_SEQ ? " (a list of values makes a sweep grid: run `upfunnel sweep`)" : NULL);
    switch (k->type) {
    case UPF_CFG_BOOL:
        if (!n->plain || (strcmp(n->text, "true") != 0 && strcmp(n->text, "false") != 0))
            return type_error(k, n, err, NULL);
        *(int *)(void *)f = n->text[0] == 't';
        return UPF_OK;
    case UPF_CFG_INT: {
        int64_t v;
        if ((st = parse_int(k, n, &v, err))) return st;
        *(int64_t *)(void *)f = v;
        return UPF_OK;
    }
    case UPF_CFG_DOUBLE: {
        double v;
        if ((st = parse_double(k, n, &v, err))) return st;
        *(double *)(void *)f = v;
        return UPF_OK;
    }
    case UPF_CFG_STRING: {
        if ((st = check_string(k, n, err))) return st;
        char *s = upf_strdup(cfg_node_is_null(n) ? "" : n->text);
        if (!s) return nomem(err, k);
        free_field(k, base);
        *(char **)(void *)f = s;
        return UPF_OK;
    }
    case UPF_CFG_ENUM: {
        int v;
        if ((st = choice_index(k, n, &v, err))) return st;
        *(int *)(void *)f = v;
        return UPF_OK;
    }
    case UPF_CFG_DATE: {
        int64_t t = UPF_CFG_DATE_UNSET;
        if (!cfg_node_is_null(n) && cfg_parse_date(n->text, &t)) return type_error(k, n, err, NULL);
        *(int64_t *)(void *)f = t;
        return UPF_OK;
    }
    case UPF_CFG_INT_LIST:
    case UPF_CFG_DOUBLE_LIST:
    case UPF_CFG_STRING_LIST: return set_list(k, f, n, err);
    case UPF_CFG_MAP: return set_map(k, f, n, err);
    default: return upf_err_set(err, UPF_ERR_ARG, "%s: key row has no type", k->path);
    }
}
