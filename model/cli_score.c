/* cli_score.c - `upfunnel score --model MODEL.upf`: JSON-lines requests on
 * standard input, one JSON-lines answer per request on standard output, in
 * order. A bad request gets an {"error": ...} line and the stream goes on.
 * The request schema depends on the model kind (see the help text and
 * model/FORMAT.md); "id" is echoed back. Built on the public runtime API
 * (upfserve.h) exactly as a production scorer would use it.
 */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../train/cli.h"
#include "../train/commands.h"
#include "json.h"
#include "upfserve.h"

static const char score_help[] =
    "usage: upfunnel score --model MODEL.upf [--k N] [--no-data-crc]\n"
    "\n"
    "Answers scoring requests with a .upf model: one JSON object per line on\n"
    "standard input, one JSON answer per line on standard output, in order and\n"
    "flushed after each line (so it works as a co-process). A request that\n"
    "cannot be answered gets {\"error\": \"...\", \"line\": N} and the stream goes\n"
    "on. Every request may carry \"id\" (any JSON value), echoed in its answer.\n"
    "\n"
    "ranker models (items for a user):\n"
    "  {\"user\":\"123\",\"k\":10,\"exclude\":[\"i1\"],\"in_stock_only\":true}\n"
    "      top k for a known user, never the excluded items (already bought,\n"
    "      in the cart), only items in stock when asked (item_flags bit 0)\n"
    "  {\"attrs\":{\"genre=Comedy\":1,\"price=low\":0.5},\"recent\":[\"i9\"],\"k\":5}\n"
    "      a user described by attribute weights (a list of names means\n"
    "      weight 1) and/or recently viewed items: anonymous visitors and\n"
    "      profiles updated in real time; may be combined with \"user\"\n"
    "  {\"user\":\"123\",\"items\":[\"a\",\"b\",\"c\"]}\n"
    "      re-ranking: the scores of the given items, best first\n"
    "  \"exclude_recent\" (default true) keeps the recent items out of the\n"
    "  results. Answer: {\"items\":[{\"item\":\"i3\",\"score\":1.25},...]}; ids the\n"
    "  model does not know are listed under \"unknown\" (an unknown \"user\" is\n"
    "  an error). No user, attrs or recent items ranks by popularity (bias).\n"
    "cooccur models (bought together): {\"recent\":[\"i9\",\"i4\"],\"k\":5} and the\n"
    "  same \"exclude\", \"in_stock_only\", \"items\" fields.\n"
    "lifetime_aft models (churn, repurchase timing; days):\n"
    "  {\"features\":{\"recency\":3,\"frequency\":5},\"horizon\":30,\"elapsed\":10,\n"
    "   \"quantiles\":[0.5,0.9]}\n"
    "      features by name (all of the model's, see `upfunnel inspect`) or\n"
    "      \"x\":[...] in order; horizon defaults to the model's; elapsed is the\n"
    "      time since the last purchase (default 0), for models whose\n"
    "      aft.time_origin is last_purchase only: cutoff models already have\n"
    "      recency among their features (leave it 0). Answer: churn_probability\n"
    "      = P(no purchase within horizon), p_purchase, expected_purchases,\n"
    "      due_in_days (median time to the next purchase: the buy-again date),\n"
    "      mean_interval_days, quantiles {\"0.5\": days, ...}, eta, sigma\n"
    "lifetime_bgnbd models (weeks): {\"x\":2,\"t_x\":30.4,\"T\":38.9,\"t\":39,\"monetary\":35}\n"
    "      x repeat purchases, the last at t_x, customer for T; horizon t\n"
    "      (default 52). Answer: p_alive, expected_purchases, and with\n"
    "      monetary (and a Gamma-Gamma model) expected_avg_spend\n"
    "uplift models: {\"features\":{...}} or {\"x\":[...]}. Answer: {\"arms\":[{\"arm\":\n"
    "      \"control\",\"p\":0.1},{\"arm\":\"email\",\"p\":0.18,\"uplift\":0.08}],\"best_arm\":\"email\"}\n"
    "\n"
    "options:\n"
    "  --model FILE     the model (required); validated completely at start\n"
    "  --k N            default k for top-k requests (default 10)\n"
    "  --no-data-crc    skip the tensor data CRC at start (very large models)\n"
    "  -h, --help       this text\n"
    "\n"
    "example:\n"
    "  echo '{\"user\":\"42\",\"k\":3}' | upfunnel score --model ml100k_int8.upf\n"
    "\n"
    "exit status: 0 every request was answered; 1 the model could not be\n"
    "opened, output failed, or some request got an error answer (after all\n"
    "lines were answered); 2 usage error.\n";

/* ---- request helpers ---- */

typedef struct req {
    const upf_model *m;
    upf_scratch *s;
    char err[512];         /* the request's error, if any */
    int32_t *buf;          /* scratch index arrays (owned) */
    size_t cap;
} req;

static int rfail(req *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static int rfail(req *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof r->err, fmt, ap);
    va_end(ap);
    return -1;
}

static int32_t *ibuf(req *r, size_t n)
{
    if (n > r->cap) {
        int32_t *b = realloc(r->buf, n * sizeof *b);
        if (!b) return NULL;
        r->buf = b;
        r->cap = n;
    }
    return r->buf;
}

static const upf_json *field(const upf_json *o, const char *k, upf_json_type t, req *r, int *bad)
{
    const upf_json *v = upf_json_get(o, k);
    if (v && v->type != t) {
        static const char *const tn[] = { "null", "a boolean", "a number", "a string", "an array", "an object" };
        rfail(r, "\"%s\": expected %s", k, tn[t]);
        *bad = 1;
        return NULL;
    }
    return v;
}

/* Shortest decimal that reads back as the same float, as a double for the writer. */
static double float_num(float f)
{
    char b[32];
    for (int p = 6; p <= 9; p++) {
        snprintf(b, sizeof b, "%.*g", p, (double)f);
        if (strtof(b, NULL) == f) break;
    }
    return strtod(b, NULL);
}

static void emit_id(upf_json_writer *w, const upf_json *id)
{
    if (!id) return;
    switch (id->type) {
    case UPF_JSON_STR: upf_jw_str(w, "id", id->str); break;
    case UPF_JSON_NUM: upf_jw_num(w, "id", id->num); break;
    case UPF_JSON_BOOL: upf_jw_bool(w, "id", id->boolean); break;
    default: upf_jw_null(w, "id");
    }
}

/* Item ids -> indices. Unknown ids go to the writer's "unknown" list when
 * report is set, and are dropped. Returns the count kept. */
static size_t map_items(req *r, const upf_json *arr, int32_t *out, const upf_json **unknown, size_t *n_unknown)
{
    size_t k = 0;
    for (size_t i = 0; i < arr->len; i++) {
        const upf_json *e = arr->items[i];
        int32_t idx = -1;
        if (e->type == UPF_JSON_STR) idx = upf_serve_item_index(r->m, e->str, e->len);
        if (idx < 0) {
            if (unknown) unknown[(*n_unknown)++] = e;
            continue;
        }
        out[k++] = idx;
    }
    return k;
}

static void emit_unknown(upf_json_writer *w, const upf_json **u, size_t n)
{
    if (!n) return;
    upf_jw_array(w, "unknown");
    for (size_t i = 0; i < n; i++)
        if (u[i]->type == UPF_JSON_STR) upf_jw_str(w, NULL, u[i]->str);
        else upf_jw_null(w, NULL);
    upf_jw_end(w);
}

static void emit_item(upf_json_writer *w, const upf_model *m, int32_t item, float score)
{
    size_t len;
    const char *id = upf_serve_item_id(m, item, &len);
    char buf[512];
    snprintf(buf, sizeof buf, "%.*s", (int)len, id ? id : "");
    upf_jw_object(w, NULL);
    upf_jw_str(w, "item", buf);
    upf_jw_num(w, "score", float_num(score));
    upf_jw_end(w);
}

typedef struct scored {
    int32_t item, pos;
    float score;
} scored;

static int scored_cmp(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return x->pos - y->pos;
}

/* ---- per kind ---- */

static int answer_items(req *r, const upf_json *q, upf_json_writer *w, size_t default_k)
{
    const upf_model *m = r->m;
    int bad = 0;
    const upf_json *user = field(q, "user", UPF_JSON_STR, r, &bad), *attrs = upf_json_get(q, "attrs");
    const upf_json *recent = field(q, "recent", UPF_JSON_ARR, r, &bad), *excl = field(q, "exclude", UPF_JSON_ARR, r, &bad);
    const upf_json *items = field(q, "items", UPF_JSON_ARR, r, &bad), *kj = field(q, "k", UPF_JSON_NUM, r, &bad);
    const upf_json *stock = field(q, "in_stock_only", UPF_JSON_BOOL, r, &bad);
    const upf_json *exrec = field(q, "exclude_recent", UPF_JSON_BOOL, r, &bad);
    if (bad) return -1;
    if (attrs && attrs->type != UPF_JSON_OBJ && attrs->type != UPF_JSON_ARR)
        return rfail(r, "\"attrs\": expected an object {name: weight} or an array of names");
    upf_serve_shape sh;
    upf_serve_shape_get(m, &sh);
    size_t k = default_k;
    if (kj) {
        if (!(kj->num >= 0) || kj->num != floor(kj->num)) return rfail(r, "\"k\": expected a whole number >= 0");
        k = kj->num > (double)sh.n_items ? (size_t)sh.n_items : (size_t)kj->num;
    }
    size_t n_rec = recent ? recent->len : 0, n_ex = excl ? excl->len : 0, n_it = items ? items->len : 0;
    size_t n_attr = attrs ? attrs->len : 0, total = n_rec * 2 + n_ex + n_it + n_attr + 1;
    int32_t *b = ibuf(r, total);
    float *aw = malloc((n_attr + 1) * sizeof *aw);
    const upf_json **unknown = malloc((n_rec + n_it + 1) * sizeof *unknown);
    upf_hit *hits = malloc((k + 1) * sizeof *hits);
    scored *sc = malloc((n_it + 1) * sizeof *sc);
    float *scores = malloc((n_it + 1) * sizeof *scores);
    int rc = -1;
    if (!b || !aw || !unknown || !hits || !sc || !scores) {
        rfail(r, "out of memory");
        goto done;
    }
    size_t n_unknown = 0;
    upf_user_query uq = upf_user_query_default();
    if (user) {
        uq.user = upf_serve_user_index(m, user->str, user->len);
        if (uq.user < 0) {
            rfail(r, "unknown user '%.200s'%s", user->str, sh.n_users ? "" : " (the model has no user factors)");
            goto done;
        }
    }
    int32_t *ai = b, *ri = b + n_attr, *ei = ri + n_rec, *ii = ei + n_ex + n_rec;
    for (size_t i = 0; i < n_attr; i++) {
        const char *name = attrs->type == UPF_JSON_OBJ ? attrs->keys[i] : NULL;
        const upf_json *v = attrs->items[i];
        if (attrs->type == UPF_JSON_ARR) {
            if (v->type != UPF_JSON_STR) {
                rfail(r, "\"attrs\": expected attribute names");
                goto done;
            }
            name = v->str;
            aw[i] = 1.0f;
        } else {
            if (v->type != UPF_JSON_NUM || !(fabs(v->num) <= (double)FLT_MAX)) {
                rfail(r, "\"attrs\": the weight of '%.200s' must be a finite float", name);
                goto done;
            }
            aw[i] = (float)v->num;
        }
        ai[i] = upf_serve_attr_index(m, name, strlen(name));
        if (ai[i] < 0) {
            rfail(r, "unknown attribute '%.200s'%s", name, sh.n_attrs ? "" : " (the model has no user attributes)");
            goto done;
        }
    }
    uq.attrs = ai;
    uq.attr_weights = aw;
    uq.n_attrs = n_attr;
    if (recent) {
        uq.recent = ri;
        uq.n_recent = map_items(r, recent, ri, unknown, &n_unknown);
    }
    if (items) {
        size_t n = map_items(r, items, ii, unknown, &n_unknown);
        upf_err e;
        if (upf_serve_score_items(m, &uq, ii, n, r->s, scores, &e) != UPF_OK) {
            rfail(r, "%s", e.msg);
            goto done;
        }
        for (size_t i = 0; i < n; i++) sc[i] = (scored){ ii[i], (int32_t)i, scores[i] };
        qsort(sc, n, sizeof *sc, scored_cmp);
        upf_jw_array(w, "items");
        for (size_t i = 0; i < n; i++) emit_item(w, m, sc[i].item, sc[i].score);
        upf_jw_end(w);
        emit_unknown(w, unknown, n_unknown);
        rc = 0;
        goto done;
    }
    size_t ne = excl ? map_items(r, excl, ei, NULL, NULL) : 0;
    if (!exrec || exrec->boolean)
        for (size_t i = 0; i < uq.n_recent; i++) ei[ne++] = ri[i];
    upf_filter f = { ei, ne, stock && stock->boolean ? UPF_ITEM_IN_STOCK : 0 };
    size_t nh;
    upf_err e;
    if (upf_serve_topk(m, &uq, &f, k, r->s, hits, &nh, &e) != UPF_OK) {
        rfail(r, "%s", e.msg);
        goto done;
    }
    upf_jw_array(w, "items");
    for (size_t i = 0; i < nh; i++) emit_item(w, m, hits[i].item, hits[i].score);
    upf_jw_end(w);
    emit_unknown(w, unknown, n_unknown);
    rc = 0;
done:
    free(aw);
    free(unknown);
    free(hits);
    free(sc);
    free(scores);
    return rc;
}

/* Features by name ({"name": value}) or in order ("x": [...]) into x (n). */
static int read_features(req *r, const upf_json *q, double *x, size_t n)
{
    const upf_json *fo = upf_json_get(q, "features"), *xa = upf_json_get(q, "x");
    if ((fo != NULL) == (xa != NULL)) return rfail(r, "give the features as \"features\" {name: value} or \"x\" [values]");
    if (xa) {
        if (xa->type != UPF_JSON_ARR || xa->len != n) return rfail(r, "\"x\": expected an array of %zu numbers", n);
        for (size_t i = 0; i < n; i++) {
            if (xa->items[i]->type != UPF_JSON_NUM) return rfail(r, "\"x\"[%zu]: expected a number", i);
            x[i] = xa->items[i]->num;
        }
        return 0;
    }
    if (fo->type != UPF_JSON_OBJ) return rfail(r, "\"features\": expected an object {name: value}");
    for (size_t i = 0; i < n; i++) x[i] = NAN;
    for (size_t i = 0; i < fo->len; i++) {
        int32_t j = upf_serve_feature_index(r->m, fo->keys[i], strlen(fo->keys[i]));
        if (j < 0) return rfail(r, "unknown feature '%.200s'", fo->keys[i]);
        if (fo->items[i]->type != UPF_JSON_NUM) return rfail(r, "feature '%.200s': expected a number", fo->keys[i]);
        x[j] = fo->items[i]->num;
    }
    for (size_t i = 0; i < n; i++)
        if (isnan(x[i])) {
            const char *name;
            size_t len;
            upf_model_meta_str_at(r->m, UPF_M_AFT_FEATURES, i, &name, &len);
            return rfail(r, "feature '%.*s' is missing (the model needs all %zu)", (int)len, name, n);
        }
    return 0;
}

static int num_field(req *r, const upf_json *q, const char *k, double dflt, double *out, int required)
{
    const upf_json *v = upf_json_get(q, k);
    if (!v) {
        if (required) return rfail(r, "\"%s\" is required", k);
        *out = dflt;
        return 0;
    }
    if (v->type != UPF_JSON_NUM) return rfail(r, "\"%s\": expected a number", k);
    *out = v->num;
    return 0;
}

static int answer_aft(req *r, const upf_json *q, upf_json_writer *w)
{
    upf_serve_shape sh;
    upf_serve_shape_get(r->m, &sh);
    double *x = malloc((sh.n_features + 1) * sizeof *x), probs[32], qs[32];
    int rc = -1;
    upf_aft_query aq;
    memset(&aq, 0, sizeof aq);
    if (!x || read_features(r, q, x, sh.n_features) || num_field(r, q, "horizon", 0, &aq.horizon_days, 0) ||
        num_field(r, q, "elapsed", 0, &aq.elapsed_days, 0))
        goto done;
    const upf_json *qa = upf_json_get(q, "quantiles");
    if (qa) {
        if (qa->type != UPF_JSON_ARR || qa->len > 32) {
            rfail(r, "\"quantiles\": expected an array of at most 32 levels in (0, 1)");
            goto done;
        }
        for (size_t i = 0; i < qa->len; i++) {
            if (qa->items[i]->type != UPF_JSON_NUM) {
                rfail(r, "\"quantiles\"[%zu]: expected a number", i);
                goto done;
            }
            probs[i] = qa->items[i]->num;
        }
        aq.probs = probs;
        aq.n_probs = qa->len;
    }
    aq.x = x;
    aq.n_x = sh.n_features;
    upf_aft_result res;
    upf_err e;
    if (upf_serve_aft(r->m, &aq, &res, qs, &e)) {
        rfail(r, "%s", e.msg);
        goto done;
    }
    upf_jw_num(w, "churn_probability", res.p_no_purchase);
    upf_jw_num(w, "p_purchase", 1.0 - res.p_no_purchase);
    upf_jw_num(w, "horizon_days", res.horizon_days);
    upf_jw_num(w, "expected_purchases", res.expected_purchases);
    upf_jw_num(w, "due_in_days", res.median_days);
    upf_jw_num(w, "mean_interval_days", res.mean_days);
    if (aq.n_probs) {
        upf_jw_object(w, "quantiles");
        for (size_t i = 0; i < aq.n_probs; i++) {
            char key[32];
            snprintf(key, sizeof key, "%g", probs[i]);
            upf_jw_num(w, key, qs[i]);
        }
        upf_jw_end(w);
    }
    upf_jw_num(w, "eta", res.eta);
    upf_jw_num(w, "sigma", res.sigma);
    rc = 0;
done:
    free(x);
    return rc;
}

static int answer_bgnbd(req *r, const upf_json *q, upf_json_writer *w)
{
    double x = 0, tx = 0, T = 0, t = 52, mon = (double)NAN;
    if (num_field(r, q, "x", 0, &x, 1) || num_field(r, q, "T", 0, &T, 1) || num_field(r, q, "t_x", 0, &tx, x > 0) ||
        num_field(r, q, "t", 52, &t, 0) || num_field(r, q, "monetary", NAN, &mon, 0))
        return -1;
    upf_bgnbd_result res;
    upf_err e;
    if (upf_serve_bgnbd(r->m, x, tx, T, t, mon, &res, &e)) return rfail(r, "%s", e.msg);
    upf_jw_num(w, "p_alive", res.p_alive);
    upf_jw_num(w, "expected_purchases", res.expected_purchases);
    upf_jw_num(w, "t", t);
    if (!isnan(res.expected_avg_spend)) upf_jw_num(w, "expected_avg_spend", res.expected_avg_spend);
    return 0;
}

static int answer_uplift(req *r, const upf_json *q, upf_json_writer *w)
{
    upf_serve_shape sh;
    upf_serve_shape_get(r->m, &sh);
    double *x = malloc((sh.n_features + 1) * sizeof *x), *p = malloc(sh.n_arms * sizeof *p),
           *u = malloc(sh.n_arms * sizeof *u);
    int rc = -1;
    upf_err e;
    if (!x || !p || !u || read_features(r, q, x, sh.n_features)) goto done;
    if (upf_serve_uplift(r->m, x, sh.n_features, p, u, &e)) {
        rfail(r, "%s", e.msg);
        goto done;
    }
    size_t best = 0;
    upf_jw_array(w, "arms");
    for (size_t k = 0; k < sh.n_arms; k++) {
        const char *name;
        size_t len;
        upf_model_meta_str_at(r->m, UPF_M_UPLIFT_ARMS, k, &name, &len);
        char buf[256];
        snprintf(buf, sizeof buf, "%.*s", (int)len, name);
        upf_jw_object(w, NULL);
        upf_jw_str(w, "arm", buf);
        if (!isnan(p[k])) upf_jw_num(w, "p", p[k]);
        if (k) upf_jw_num(w, "uplift", u[k]);
        upf_jw_end(w);
        if (u[k] > u[best]) best = k;
    }
    upf_jw_end(w);
    const char *name;
    size_t len;
    upf_model_meta_str_at(r->m, UPF_M_UPLIFT_ARMS, best, &name, &len);
    char buf[256];
    snprintf(buf, sizeof buf, "%.*s", (int)len, name);
    upf_jw_str(w, "best_arm", buf);
    rc = 0;
done:
    free(x);
    free(p);
    free(u);
    return rc;
}

/* ---- the loop ---- */

int upf_cmd_score(int argc, char **argv)
{
    const char *model = NULL, *val;
    size_t default_k = 10;
    unsigned flags = 0;
    if (upf_arg_wants_help(argc, argv)) {
        fputs(score_help, stdout);
        return UPF_EXIT_OK;
    }
    for (int i = 1; i < argc; i++) {
        int r;
        if ((r = upf_arg_value(argc, argv, &i, "score", "--model", &val))) {
            if (r < 0) return UPF_EXIT_USAGE;
            model = val;
        } else if ((r = upf_arg_value(argc, argv, &i, "score", "--k", &val))) {
            uint64_t k;
            if (r < 0) return UPF_EXIT_USAGE;
            if (upf_parse_u64(val, &k) || k > 1000000) return upf_cli_usage_error("score", "--k: expected 0..1000000, got '%s'", val);
            default_k = (size_t)k;
        } else if (upf_arg_is(argv, i, "--no-data-crc")) {
            flags |= UPF_OPEN_SKIP_DATA_CRC;
        } else {
            return upf_cli_usage_error("score", "unexpected argument '%s'", argv[i]);
        }
    }
    if (!model) return upf_cli_usage_error("score", "no model given (--model MODEL.upf)");
    upf_model *m = NULL;
    upf_err err;
    upf_err_clear(&err);
    if (upf_model_open(model, flags, &m, &err)) return upf_cli_fail(&err);
    req r;
    memset(&r, 0, sizeof r);
    r.m = m;
    uint32_t kind = upf_model_kind(m);
    if ((kind == UPF_KIND_RANKER || kind == UPF_KIND_COOCCUR) && upf_scratch_create(m, &r.s, &err)) {
        upf_model_close(m);
        return upf_cli_fail(&err);
    }
    char *line = NULL, *obuf = NULL;
    size_t cap = 0, lineno = 0, n_err = 0, osize = 0;
    ssize_t len;
    int status = UPF_EXIT_OK;
    while ((len = getline(&line, &cap, stdin)) >= 0) {
        lineno++;
        size_t l = (size_t)len;
        while (l && (line[l - 1] == '\n' || line[l - 1] == '\r' || line[l - 1] == ' ' || line[l - 1] == '\t')) l--;
        if (l == 0) continue;
        /* each answer is built in memory, so a request that fails half way
         * through is answered by a clean error line instead */
        FILE *mf = open_memstream(&obuf, &osize);
        if (!mf) {
            upf_cli_error("score: out of memory");
            status = UPF_EXIT_FAIL;
            break;
        }
        upf_json *q = NULL;
        upf_err pe;
        upf_json_writer w;
        upf_jw_init(&w, mf, 0);
        upf_jw_object(&w, NULL);
        r.err[0] = '\0';
        int rc;
        const upf_json *id = NULL;
        if (upf_json_parse(line, l, &q, &pe) != UPF_OK) {
            rc = rfail(&r, "invalid JSON: %s", pe.msg);
        } else if (q->type != UPF_JSON_OBJ) {
            rc = rfail(&r, "expected a JSON object per line");
        } else {
            id = upf_json_get(q, "id");
            emit_id(&w, id);
            switch (kind) {
            case UPF_KIND_RANKER:
            case UPF_KIND_COOCCUR: rc = answer_items(&r, q, &w, default_k); break;
            case UPF_KIND_LIFETIME_AFT: rc = answer_aft(&r, q, &w); break;
            case UPF_KIND_LIFETIME_BGNBD: rc = answer_bgnbd(&r, q, &w); break;
            case UPF_KIND_UPLIFT: rc = answer_uplift(&r, q, &w); break;
            default: rc = rfail(&r, "model kind %u cannot be scored", kind);
            }
        }
        upf_jw_end(&w);
        upf_jw_finish(&w);
        int mem_failed = fclose(mf) != 0;
        if (rc || mem_failed) {
            n_err++;
            upf_jw_init(&w, stdout, 0);
            upf_jw_object(&w, NULL);
            emit_id(&w, id);
            upf_jw_str(&w, "error", mem_failed ? "out of memory" : r.err);
            upf_jw_int(&w, "line", (int64_t)lineno);
            upf_jw_end(&w);
            upf_jw_finish(&w);
        } else {
            fwrite(obuf, 1, osize, stdout);
        }
        upf_json_free(q);
        if (fflush(stdout) != 0 || ferror(stdout)) {
            upf_cli_error("score: writing to standard output failed");
            status = UPF_EXIT_FAIL;
            break;
        }
    }
    free(line);
    free(obuf);
    free(r.buf);
    upf_scratch_free(r.s);
    upf_model_close(m);
    if (n_err && status == UPF_EXIT_OK) {
        upf_log(UPF_LOG_WARN, "score: %zu of the requests got an error answer", n_err);
        status = UPF_EXIT_FAIL;
    }
    return status;
}
