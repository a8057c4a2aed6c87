/* family_ranker.c - the ranker as a model family: the hybrid factorization
 * model (ranker_model.h) trained by BPR, WARP or the mini-batch softmax
 * (ranker_train.h) on the run's training interactions, with user features
 * from the dataset's user attributes, attribute profiles (datasets/profiles.h,
 * temporal splits only) and the user's own history, and item features from
 * the dataset's item attributes.
 *
 * Validation: train.valid_frac carves a validation split out of the training
 * interactions (the same kind of split as the test split) for early stopping
 * by NDCG@train.valid_k; with train.refit the model is then retrained on all
 * training interactions for the best number of epochs. The test evaluation
 * (upf_run_eval_ranker) always sees the full training matrix, so training
 * items are excluded exactly as the protocol says.
 * Exports UPF_KIND_RANKER (model/kinds.h). Entry point: upf_family_ranker.
 */
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../datasets/profiles.h"
#include "../datasets/timeparse.h"
#include "../model/kinds.h"
#include "family.h"
#include "family_export.h"
#include "ranker_train.h"

typedef struct ranker_params {
    int64_t dim;             /* model.dim */
    int user_id, item_id;    /* model.user_id / model.item_id */
    double init_std;         /* model.init_std */
    int history;             /* features.history */
    int user_attrs;          /* features.user_attrs */
    int item_attrs;          /* features.item_attrs */
    int profiles;            /* features.profiles */
    double profile_half_life; /* features.profile_half_life_days */
    upf_cfg_map profile_weights; /* features.profile_weights */
    int normalize;           /* features.normalize */
    int loss;                /* train.loss: upf_ranker_loss */
    int64_t epochs, patience, eval_every, batch_users, negatives;
    int negative_sampling;   /* train.negative_sampling: upf_neg_dist */
    double popularity_alpha;
    int check_negatives;
    int optimizer;           /* train.optimizer: upf_opt_kind */
    double lr, lr_min;
    int lr_schedule;         /* upf_lr_schedule */
    int64_t warmup_steps;
    double l2, beta1, beta2, eps;
    double tau, user_attr_dropout, popularity_debias;
    upf_cfg_map event_weights; /* train.event_weights */
    upf_cfg_map rating_weights; /* train.rating_weights */
    double valid_frac;
    int64_t valid_k;
    int refit;
} ranker_params;

static const char *const loss_choices[] = { "bpr", "warp", "softmax", NULL };
static const char *const sampling_choices[] = { "uniform", "popularity", NULL };
static const char *const opt_choices[] = { "sgd", "adagrad", "adam", NULL };
static const char *const schedule_choices[] = { "constant", "linear", "cosine", NULL };

#define OFF(f) offsetof(ranker_params, f)
static const upf_cfg_key ranker_keys[] = {
    { "model.dim", UPF_CFG_INT, OFF(dim), 1, 4096, "64", NULL, "embedding dimension", 0 },
    { "model.user_id", UPF_CFG_BOOL, OFF(user_id), 0, 0, "true", NULL,
      "a free vector per user (false: users are their attributes only)", 0 },
    { "model.item_id", UPF_CFG_BOOL, OFF(item_id), 0, 0, "true", NULL,
      "a free vector and bias per item (false: items are their attributes only, for cold start)", 0 },
    { "model.init_std", UPF_CFG_DOUBLE, OFF(init_std), 0, 10, "0.01", NULL,
      "standard deviation of the normal initialization of every embedding", 0 },
    { "features.history", UPF_CFG_BOOL, OFF(history), 0, 0, "false", NULL,
      "user attributes from the user's training items, 1/sqrt(n) each (SVD++/FISM-style asymmetric factors)", 0 },
    { "features.user_attrs", UPF_CFG_BOOL, OFF(user_attrs), 0, 0, "false", NULL,
      "use the dataset's user attributes (demographics, ...) as user attributes", 0 },
    { "features.item_attrs", UPF_CFG_BOOL, OFF(item_attrs), 0, 0, "false", NULL,
      "use the dataset's item attributes (category, brand, price band, tokens, genres)", 0 },
    { "features.profiles", UPF_CFG_BOOL, OFF(profiles), 0, 0, "false", NULL,
      "user attributes from attribute profiles at the split cutoff (temporal splits only)", 0 },
    { "features.profile_half_life_days", UPF_CFG_DOUBLE, OFF(profile_half_life), 0, INFINITY, "30", NULL,
      "profiles: an event this many days before the cutoff weighs half", UPF_CFG_MIN_EXCL },
    { "features.profile_weights", UPF_CFG_MAP, OFF(profile_weights), 0, 0, "{}", NULL,
      "profiles: weight per event type, e.g. {purchase: 1, cart: 0.5, view: 0.2} (unnamed types keep these; rating 1)",
      0 },
    { "features.normalize", UPF_CFG_BOOL, OFF(normalize), 0, 0, "true", NULL,
      "scale each source of a row (dataset attributes, profiles, history; item attributes) to unit L2 norm", 0 },
    { "train.loss", UPF_CFG_ENUM, OFF(loss), 0, 0, "softmax", loss_choices,
      "bpr (Rendle 2009), warp (Weston 2011) or softmax (mini-batch multinomial over all or sampled items)", 0 },
    { "train.epochs", UPF_CFG_INT, OFF(epochs), 1, 1000000, "100", NULL, "maximum passes over the data", 0 },
    { "train.patience", UPF_CFG_INT, OFF(patience), 0, 1000000, "10", NULL,
      "validations without improvement before stopping early; 0: never stop early", 0 },
    { "train.eval_every", UPF_CFG_INT, OFF(eval_every), 1, 1000000, "2", NULL, "epochs between validations", 0 },
    { "train.batch_users", UPF_CFG_INT, OFF(batch_users), 1, 1000000, "128", NULL, "softmax: users per mini-batch",
      0 },
    { "train.negatives", UPF_CFG_INT, OFF(negatives), 0, 100000000, "0", NULL,
      "bpr: negatives per positive (0 = 1); warp: cap on draws (0 = 100); softmax: sampled items per batch, 0 = all",
      0 },
    { "train.negative_sampling", UPF_CFG_ENUM, OFF(negative_sampling), 0, 0, "uniform", sampling_choices,
      "negatives drawn uniformly or in proportion to count^popularity_alpha (alias method), from items with training positives", 0 },
    { "train.popularity_alpha", UPF_CFG_DOUBLE, OFF(popularity_alpha), 0, 2, "0.75", NULL,
      "exponent of popularity sampling", 0 },
    { "train.check_negatives", UPF_CFG_BOOL, OFF(check_negatives), 0, 0, "true", NULL,
      "redraw a negative that is one of the user's training items (binary search in the sorted row)", 0 },
    { "train.optimizer", UPF_CFG_ENUM, OFF(optimizer), 0, 0, "adam", opt_choices, "sgd, adagrad or adam", 0 },
    { "train.lr", UPF_CFG_DOUBLE, OFF(lr), 0, 1e6, "0.002", NULL, "learning rate at step 0", UPF_CFG_MIN_EXCL },
    { "train.lr_min", UPF_CFG_DOUBLE, OFF(lr_min), 0, 1e6, "0", NULL, "linear/cosine: the rate at the last step", 0 },
    { "train.lr_schedule", UPF_CFG_ENUM, OFF(lr_schedule), 0, 0, "constant", schedule_choices,
      "learning-rate schedule over all steps (a pure function of the step)", 0 },
    { "train.warmup_steps", UPF_CFG_INT, OFF(warmup_steps), 0, 1e9, "0", NULL,
      "steps of linear warm-up from 0 to train.lr", 0 },
    { "train.l2", UPF_CFG_DOUBLE, OFF(l2), 0, 1e6, "0.02", NULL,
      "L2 penalty added to the gradient of every parameter row a step touches", 0 },
    { "train.beta1", UPF_CFG_DOUBLE, OFF(beta1), 0, 1, "0.9", NULL, "adam: first-moment decay", UPF_CFG_MAX_EXCL },
    { "train.beta2", UPF_CFG_DOUBLE, OFF(beta2), 0, 1, "0.999", NULL, "adam: second-moment decay", UPF_CFG_MAX_EXCL },
    { "train.eps", UPF_CFG_DOUBLE, OFF(eps), 0, 1, "1e-8", NULL, "adam/adagrad: denominator guard", UPF_CFG_MIN_EXCL },
    { "train.tau", UPF_CFG_DOUBLE, OFF(tau), 0, 1e6, "1", NULL, "softmax: temperature", UPF_CFG_MIN_EXCL },
    { "train.user_attr_dropout", UPF_CFG_DOUBLE, OFF(user_attr_dropout), 0, 1, "0", NULL,
      "softmax: drop each user attribute with this probability per step (denoising), keeping the row's norm",
      UPF_CFG_MAX_EXCL },
    { "train.popularity_debias", UPF_CFG_DOUBLE, OFF(popularity_debias), 0, 10, "0", NULL,
      "softmax: train on score + this * log(item popularity share) (logit adjustment), so the model leans to the long tail",
      0 },
    { "train.event_weights", UPF_CFG_MAP, OFF(event_weights), 0, 0, "{}", NULL,
      "weight of a positive by its event type (the type whose data.grades grade it has), e.g. {purchase: 1, view: 0.3}",
      0 },
    { "train.rating_weights", UPF_CFG_MAP, OFF(rating_weights), 0, 0, "{}", NULL,
      "weight of a positive by its rating (the largest rating event of the pair before the split), e.g. {4: 1, 5: 1.5}; "
      "other values weigh 1",
      0 },
    { "train.valid_frac", UPF_CFG_DOUBLE, OFF(valid_frac), 0, 1, "0", NULL,
      "share of the training interactions held out (same kind of split) for early stopping; 0: none",
      UPF_CFG_MAX_EXCL },
    { "train.valid_k", UPF_CFG_INT, OFF(valid_k), 1, 100000, "10", NULL, "early stopping watches NDCG at this cut-off",
      0 },
    { "train.refit", UPF_CFG_BOOL, OFF(refit), 0, 0, "true", NULL,
      "after early stopping, retrain on all training interactions for the best number of epochs", 0 },
    { NULL, UPF_CFG_NONE, 0, 0, 0, NULL, NULL, NULL, 0 },
};
#undef OFF

/* ---- checks ---- */

static int event_type_index(const char *name)
{
    static const char *const names[] = { "none", "view", "cart", "purchase", "search", "rating", "return", "tag" };
    for (int t = 1; t < 8; t++)
        if (strcmp(names[t], name) == 0) return t;
    return 0;
}

static upf_status parse_type_map(const upf_cfg_map *m, const char *key, float *out, upf_err *err)
{
    for (size_t i = 0; i < m->n; i++) {
        int t = event_type_index(m->keys[i]);
        if (!t || t >= UPF_EV_TYPE_COUNT)
            return upf_err_set(err, UPF_ERR_CONFIG, "%s: expected event type names as keys, got \"%s\"", key,
                               m->keys[i]);
        char *end;
        double v = strtod(m->values[i], &end);
        if (end == m->values[i] || *end || !(v >= 0) || !isfinite(v))
            return upf_err_set(err, UPF_ERR_CONFIG, "%s.%s: expected a number >= 0, got \"%s\"", key, m->keys[i],
                               m->values[i]);
        out[t] = (float)v;
    }
    return UPF_OK;
}

/* Rating -> weight pairs from train.rating_weights (n <= cap). */
static upf_status parse_rating_map(const upf_cfg_map *m, double *rating, double *weight, size_t *n, upf_err *err)
{
    *n = 0;
    for (size_t i = 0; i < m->n; i++) {
        char *end;
        double r = strtod(m->keys[i], &end);
        if (end == m->keys[i] || *end || !isfinite(r))
            return upf_err_set(err, UPF_ERR_CONFIG, "train.rating_weights: expected ratings (numbers) as keys, got \"%s\"",
                               m->keys[i]);
        double w = strtod(m->values[i], &end);
        if (end == m->values[i] || *end || !(w >= 0) || !isfinite(w))
            return upf_err_set(err, UPF_ERR_CONFIG, "train.rating_weights.%s: expected a number >= 0, got \"%s\"",
                               m->keys[i], m->values[i]);
        if (rating) rating[*n] = r, weight[*n] = w;
        (*n)++;
    }
    return UPF_OK;
}

static upf_status ranker_check(const void *vp, const upf_config *cfg, upf_err *err)
{
    const ranker_params *p = vp;
    float w[UPF_EV_TYPE_COUNT];
    upf_status st;
    if ((st = parse_type_map(&p->event_weights, "train.event_weights", w, err))) return st;
    if ((st = parse_type_map(&p->profile_weights, "features.profile_weights", w, err))) return st;
    size_t n_r;
    if ((st = parse_rating_map(&p->rating_weights, NULL, NULL, &n_r, err))) return st;
    if (p->profiles && cfg->split_kind + 1 != UPF_SPLIT_TEMPORAL)
        return upf_err_set(err, UPF_ERR_CONFIG,
                           "features.profiles: expected split.kind temporal (profiles are built at the split cutoff; "
                           "a random split would let test events into them), got %s",
                           upf_split_kind_name((upf_split_kind)(cfg->split_kind + 1)));
    if (p->valid_frac > 0 && cfg->split_valid_frac > 0)
        return upf_err_set(err, UPF_ERR_CONFIG,
                           "train.valid_frac: expected 0 when split.valid_frac is set (the ranker carves its own "
                           "validation split), got %g",
                           p->valid_frac);
    if (!p->user_id && !p->history && !p->user_attrs && !p->profiles)
        return upf_err_set(err, UPF_ERR_CONFIG,
                           "model.user_id: expected true when no user features are on (features.history, "
                           "features.user_attrs, features.profiles), got false");
    if (!p->item_id && !p->item_attrs)
        return upf_err_set(err, UPF_ERR_CONFIG,
                           "model.item_id: expected true when features.item_attrs is false, got false");
    if (p->lr_min > p->lr) return upf_err_set(err, UPF_ERR_CONFIG, "train.lr_min: expected <= train.lr, got %g", p->lr_min);
    return UPF_OK;
}

/* ---- features ---- */

typedef struct feats {
    upf_csr user;    /* (U, A_user) owned: stacked user attributes */
    upf_csr item;    /* (I, A_item) owned */
    size_t n_dataset_user, n_profile, n_history; /* column blocks of user, in this order */
} feats;

static void feats_free(feats *f)
{
    upf_csr_free(&f->user);
    upf_csr_free(&f->item);
    memset(f, 0, sizeof *f);
}

/* A borrowed CSR view of dataset attributes (n_rows rows). */
static upf_csr attrs_view(const upf_attrs *a, size_t n_rows)
{
    upf_csr m;
    memset(&m, 0, sizeof m);
    if (!a->n_rows || a->n_rows != n_rows) return m;
    m.n_rows = a->n_rows;
    m.n_cols = a->names.n;
    m.ptr = a->ptr;
    m.idx = a->index;
    m.val = a->value;
    return m;
}

/* Scales columns [c0, c1) of m so each has max |value| 1: numeric attributes
 * (age, price) get the scale of the categorical ones (value 1). */
static upf_status scale_columns(upf_csr *m, size_t c0, size_t c1, upf_err *err)
{
    if (c1 <= c0) return UPF_OK;
    double *mx = upf_calloc(c1 - c0, sizeof *mx);
    if (!mx) return upf_err_set(err, UPF_ERR_NOMEM, "features: out of memory");
    int64_t nnz = upf_csr_nnz(m);
    for (int64_t e = 0; e < nnz; e++) {
        size_t c = (size_t)m->idx[e];
        if (c >= c0 && c < c1 && fabs((double)m->val[e]) > mx[c - c0]) mx[c - c0] = fabs((double)m->val[e]);
    }
    for (int64_t e = 0; e < nnz; e++) {
        size_t c = (size_t)m->idx[e];
        if (c >= c0 && c < c1 && mx[c - c0] > 0) m->val[e] = (float)((double)m->val[e] / mx[c - c0]);
    }
    upf_free(mx);
    return UPF_OK;
}

/* Scales, in each row, the entries of columns [c0, c1) to unit L2 norm. */
static void normalize_block(upf_csr *m, size_t c0, size_t c1)
{
    for (size_t r = 0; r < m->n_rows; r++) {
        double s = 0.0;
        for (int64_t e = m->ptr[r]; e < m->ptr[r + 1]; e++)
            if ((size_t)m->idx[e] >= c0 && (size_t)m->idx[e] < c1) s += (double)m->val[e] * (double)m->val[e];
        if (!(s > 0)) continue;
        float inv = (float)(1.0 / sqrt(s));
        for (int64_t e = m->ptr[r]; e < m->ptr[r + 1]; e++)
            if ((size_t)m->idx[e] >= c0 && (size_t)m->idx[e] < c1) m->val[e] *= inv;
    }
}

/* User and item features for a model trained on `train`; attribute profiles
 * from the events before profile_cutoff (the split cutoff, or the validation
 * cutoff while early stopping: the validation period must not leak into the
 * profiles it is judged with). */
static upf_status build_feats(upf_run *run, const ranker_params *p, const upf_csr *train, int64_t profile_cutoff,
                              feats *f, upf_err *err)
{
    const upf_dataset *ds = upf_run_dataset(run);
    upf_status st = UPF_OK;
    upf_csr ua, prof, hist, tmp, tmp2;
    memset(f, 0, sizeof *f);
    memset(&prof, 0, sizeof prof);
    memset(&hist, 0, sizeof hist);
    memset(&tmp, 0, sizeof tmp);
    memset(&tmp2, 0, sizeof tmp2);
    ua = p->user_attrs ? attrs_view(&ds->user_attrs, train->n_rows) : (upf_csr){ 0 };
    if (p->profiles) {
        upf_profile_params pp = upf_profile_params_default();
        pp.cutoff = profile_cutoff;
        pp.half_life_days = p->profile_half_life;
        if ((st = parse_type_map(&p->profile_weights, "features.profile_weights", pp.type_weight, err))) goto done;
        if ((st = upf_profiles_build(ds, &pp, &prof, err))) goto done;
        int64_t y;
        unsigned mo, dd;
        int64_t secs = profile_cutoff % 86400 < 0 ? profile_cutoff % 86400 + 86400 : profile_cutoff % 86400;
        upf_civil_from_days((profile_cutoff - secs) / 86400, &y, &mo, &dd);
        upf_log(UPF_LOG_INFO, "ranker: attribute profiles from the events before %04lld-%02u-%02uT%02lld:%02lld:%02lldZ",
                (long long)y, mo, dd, (long long)(secs / 3600), (long long)(secs / 60 % 60), (long long)(secs % 60));
    }
    if (p->history && (st = upf_ranker_history_features(train, &hist, err))) goto done;
    if ((st = upf_csr_hstack(ua.ptr ? &ua : NULL, prof.ptr ? &prof : NULL, &tmp, err))) goto done;
    if ((st = upf_csr_hstack(tmp.ptr ? &tmp : NULL, hist.ptr ? &hist : NULL, &f->user, err))) goto done;
    f->n_dataset_user = ua.ptr ? ua.n_cols : 0;
    f->n_profile = prof.ptr ? prof.n_cols : 0;
    f->n_history = hist.ptr ? hist.n_cols : 0;
    if (f->user.ptr && (st = scale_columns(&f->user, 0, f->n_dataset_user, err))) goto done;
    if (p->normalize && f->user.ptr) { /* each source on its own: dataset attributes, profiles, history */
        size_t b1 = f->n_dataset_user, b2 = b1 + f->n_profile, b3 = b2 + f->n_history;
        normalize_block(&f->user, 0, b1);
        normalize_block(&f->user, b1, b2);
        normalize_block(&f->user, b2, b3);
    }
    if (p->item_attrs) {
        upf_csr ia = attrs_view(&ds->item_attrs, train->n_cols);
        if (!ia.ptr || ia.n_cols == 0) {
            st = upf_err_set(err, UPF_ERR_DATA, "features.item_attrs: the dataset has no item attributes");
            goto done;
        }
        if ((st = upf_csr_hstack(&ia, NULL, &f->item, err))) goto done;
        if ((st = scale_columns(&f->item, 0, f->item.n_cols, err))) goto done;
        if (p->normalize) normalize_block(&f->item, 0, f->item.n_cols);
    }
done:
    upf_csr_free(&prof);
    upf_csr_free(&hist);
    upf_csr_free(&tmp);
    upf_csr_free(&tmp2);
    if (st) feats_free(f);
    return st;
}

/* ---- validation carve ---- */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Splits train into fit and valid like the test split; *cutoff: the
 * validation cutoff of a temporal split (else the split's own cutoff). */
static upf_status carve_valid(const upf_config *cfg, double frac, const upf_csr *train, upf_csr *fit, upf_csr *valid,
                              int64_t *cutoff, upf_err *err)
{
    upf_split_params sp = upf_config_split_params(cfg);
    *cutoff = cfg->split_cutoff;
    if (sp.kind == UPF_SPLIT_RANDOM) {
        sp.test_frac = frac;
        sp.seed = (uint64_t)cfg->split_seed + 1;
    } else if (sp.kind == UPF_SPLIT_TEMPORAL) {
        int64_t nnz = upf_csr_nnz(train);
        if (!train->time || nnz == 0) return upf_err_set(err, UPF_ERR_DATA, "train.valid_frac: no times to cut at");
        int64_t *t = upf_malloc((size_t)nnz * sizeof *t);
        if (!t) return upf_err_set(err, UPF_ERR_NOMEM, "train.valid_frac: out of memory");
        memcpy(t, train->time, (size_t)nnz * sizeof *t);
        qsort(t, (size_t)nnz, sizeof *t, cmp_i64);
        size_t at = (size_t)((double)nnz * (1.0 - frac));
        if (at >= (size_t)nnz) at = (size_t)nnz - 1;
        sp.cutoff = t[at];
        *cutoff = sp.cutoff;
        upf_free(t);
    }
    return upf_split_csr(train, &sp, fit, valid, err);
}

/* ---- hooks ---- */

typedef struct run_ctx {
    upf_run *run;
    const ranker_params *p;
    const upf_csr *fit, *valid; /* validation: rank valid items, excluding fit */
    float *uvec, *ivec, *ibias; /* scratch (U, D), (I, D), (I) */
    const char *phase;
    uint32_t total_epochs;
} run_ctx;

static upf_status model_scorer(const upf_ranker_model *m, float *uvec, float *ivec, float *ibias, upf_scorer *s)
{
    upf_ranker_user_matrix(m, uvec);
    upf_ranker_item_matrix(m, ivec, ibias);
    memset(s, 0, sizeof *s);
    s->dim = m->shape.dim;
    s->user_vecs = uvec;
    s->item_vecs = ivec;
    s->item_bias = ibias;
    return UPF_OK;
}

static upf_status hook_validate(void *vctx, const upf_ranker_model *m, double *value, upf_err *err)
{
    run_ctx *c = vctx;
    upf_scorer s;
    model_scorer(m, c->uvec, c->ivec, c->ibias, &s);
    upf_metric_spec spec = { UPF_METRIC_NDCG, (uint32_t)c->p->valid_k };
    upf_rank_eval_params ep = upf_rank_eval_params_default();
    ep.metrics = &spec;
    ep.n_metrics = 1;
    ep.graded = 0;
    ep.threads = (size_t)upf_run_eval_threads(c->run);
    upf_rank_eval_result r;
    upf_status st = upf_rank_evaluate(&s, c->fit, c->valid, &ep, &r, err);
    if (st) return st;
    *value = r.values[0];
    upf_rank_eval_result_free(&r);
    return UPF_OK;
}

static upf_status hook_epoch(void *vctx, const upf_ranker_model *m, uint32_t epoch, double loss, double valid,
                             int is_best, upf_err *err)
{
    run_ctx *c = vctx;
    (void)is_best;
    char vname[48];
    snprintf(vname, sizeof vname, "valid_ndcg@%lld", (long long)c->p->valid_k);
    const char *cols[4] = { "phase", "epoch", "loss", vname };
    double vals[4] = { strcmp(c->phase, "fit") == 0 ? 0.0 : 1.0, (double)epoch, loss, valid };
    upf_status st = upf_run_curve(c->run, cols, vals, 4);
    if (st) return upf_err_set(err, st, "curves.csv: %s", upf_status_str(st));
    /* the last finite state, for a crash or a divergence in a later epoch */
    if ((st = upf_run_checkpoint_save(c->run, m->block, m->n_params * sizeof(float), err))) return st;
    upf_run_progress(c->run, c->phase, epoch, c->total_epochs, "epoch");
    return UPF_OK;
}

/* ---- cold items ranked among themselves ---- */

/* The runner's cold_items segment ranks the whole catalogue; a new item then
 * competes with every warm one. Shops show new arrivals in their own slot, so
 * the question there is how well the model orders the cold items among
 * themselves: warm items are pushed to the bottom (-FLT_MAX, a finite score)
 * and only cold test items count. Reported as cold_ranking.*, beside the same
 * figures for the items in index order (what popularity gives items with no
 * counts) as cold_ranking.baseline_item_order.*. */
typedef struct cold_ctx {
    const float *uvec, *ivec, *ibias; /* NULL uvec: the item-order reference (every cold score 0) */
    size_t dim;
    const uint8_t *warm;              /* (I) */
} cold_ctx;

static upf_status cold_score_block(void *vctx, const int32_t *users, size_t n_users, int32_t item_begin,
                                   int32_t item_end, float *out)
{
    const cold_ctx *c = vctx;
    const size_t w = (size_t)(item_end - item_begin);
    for (size_t r = 0; r < n_users; r++)
        for (int32_t i = item_begin; i < item_end; i++) {
            float s = -FLT_MAX;
            if (!c->warm[i])
                s = c->uvec ? upf_score_f32(c->ibias[i], c->uvec + (size_t)users[r] * c->dim, c->ivec + (size_t)i * c->dim,
                                            c->dim)
                            : 0.0f;
            out[r * w + (size_t)(i - item_begin)] = s;
        }
    return UPF_OK;
}

static upf_status eval_cold_ranking(upf_run *run, const upf_csr *train, const upf_csr *test, const float *uvec,
                                    const float *ivec, const float *ibias, size_t dim, upf_err *err)
{
    const upf_config *cfg = upf_run_config(run);
    upf_status st = UPF_OK;
    uint8_t *warm = NULL;
    upf_metric_spec *specs = NULL;
    size_t n_specs = 0;
    if ((st = upf_metric_specs_grid((const char *const *)cfg->eval_metrics.v, cfg->eval_metrics.n, cfg->eval_k.v,
                                    cfg->eval_k.n, &specs, &n_specs, err)))
        return st;
    if (!(warm = upf_calloc(train->n_cols ? train->n_cols : 1, 1))) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "cold_ranking: out of memory");
        goto done;
    }
    for (int64_t e = 0; e < upf_csr_nnz(train); e++) warm[train->idx[e]] = 1;
    for (int pass = 0; pass < 2 && !st; pass++) {
        cold_ctx c = { pass ? NULL : uvec, ivec, ibias, dim, warm };
        upf_scorer s;
        memset(&s, 0, sizeof s);
        s.score_block = cold_score_block;
        s.ctx = &c;
        upf_rank_eval_params ep = upf_rank_eval_params_default();
        ep.metrics = specs;
        ep.n_metrics = n_specs;
        ep.gain = cfg->eval_gain == 1 ? UPF_GAIN_LINEAR : UPF_GAIN_EXP;
        ep.threads = (size_t)upf_run_eval_threads(run);
        upf_rank_eval_result r;
        /* test restricted to cold items: the warm test items are no targets */
        upf_csr cold_test;
        memset(&cold_test, 0, sizeof cold_test);
        int64_t nnz = upf_csr_nnz(test), k = 0;
        cold_test.n_rows = test->n_rows;
        cold_test.n_cols = test->n_cols;
        cold_test.ptr = upf_calloc(test->n_rows + 1, sizeof *cold_test.ptr);
        cold_test.idx = upf_malloc((size_t)(nnz ? nnz : 1) * sizeof *cold_test.idx);
        cold_test.val = upf_malloc((size_t)(nnz ? nnz : 1) * sizeof *cold_test.val);
        if (!cold_test.ptr || !cold_test.idx || !cold_test.val) {
            upf_csr_free(&cold_test);
            st = upf_err_set(err, UPF_ERR_NOMEM, "cold_ranking: out of memory");
            break;
        }
        for (size_t u = 0; u < test->n_rows; u++) {
            for (int64_t e = test->ptr[u]; e < test->ptr[u + 1]; e++)
                if (!warm[test->idx[e]]) cold_test.idx[k] = test->idx[e], cold_test.val[k++] = test->val[e];
            cold_test.ptr[u + 1] = k;
        }
        st = upf_rank_evaluate(&s, train, &cold_test, &ep, &r, err);
        upf_csr_free(&cold_test);
        if (st) break;
        const char *prefix = pass ? "cold_ranking.baseline_item_order." : "cold_ranking.";
        char path[256];
        for (size_t q = 0; q < r.n_metrics; q++) {
            snprintf(path, sizeof path, "%s%s", prefix, r.names[q]);
            upf_run_metric(run, path, r.values[q]);
        }
        snprintf(path, sizeof path, "%susers_evaluated", prefix);
        upf_run_metric(run, path, (double)r.n_users_ranked);
        upf_rank_eval_result_free(&r);
    }
done:
    upf_free(warm);
    upf_free(specs);
    return st;
}

/* ---- export ---- */

static upf_status export_model(upf_run *run, const upf_ranker_model *m, const feats *f, const float *uvec,
                               const float *ivec, const float *ibias, const upf_ranker_train_params *tp,
                               const upf_ranker_train_result *res, upf_err *err)
{
    const upf_dataset *ds = upf_run_dataset(run);
    upf_mw *w = NULL;
    const char **names = NULL;
    char *blob = NULL;
    upf_status st;
    const size_t D = m->shape.dim, U = m->shape.n_users, I = m->shape.n_items, A = m->shape.n_user_attrs;
    if ((st = upf_mw_create(&w, UPF_KIND_RANKER, err))) return st;
    uint64_t di[2] = { I, D }, db[1] = { I }, du[2] = { U, D }, da[2] = { A, D };
    if ((st = upf_mw_tensor_f32(w, UPF_T_ITEM_FACTORS, ivec, 2, di, UPF_DTYPE_F32)) ||
        (st = upf_mw_tensor_f32(w, UPF_T_ITEM_BIAS, ibias, 1, db, UPF_DTYPE_F32)) ||
        (st = upf_mw_tensor_f32(w, UPF_T_USER_FACTORS, uvec, 2, du, UPF_DTYPE_F32)) ||
        (A && (st = upf_mw_tensor_f32(w, UPF_T_USER_ATTR_FACTORS, m->p.user_attr, 2, da, UPF_DTYPE_F32))) ||
        (st = upf_mw_meta_u64(w, UPF_M_DIM, D)) || (st = upf_mw_meta_str(w, "ranker.loss", upf_ranker_loss_name(tp->loss))) ||
        (st = upf_mw_meta_u64(w, "train.epochs", res->epochs_run)) ||
        (st = upf_mw_meta_f64(w, "train.final_loss", res->final_loss))) {
        upf_err_set(err, st, "model.upf: %s", upf_status_str(st));
        goto done;
    }
    if ((st = upf_export_item_ids(run, w, err))) goto done;
    /* user ids, and user attribute names: dataset names, "profile:<item attr>", "history:<item id>" */
    if (U == ds->n_users) {
        names = upf_malloc((U ? U : 1) * sizeof *names);
        if (!names) {
            st = upf_err_set(err, UPF_ERR_NOMEM, "model.upf: out of memory");
            goto done;
        }
        for (size_t u = 0; u < U; u++) names[u] = upf_strings_get(&ds->user_ids, u);
        if ((st = upf_mw_meta_str_array(w, UPF_M_USER_IDS, names, U))) {
            upf_err_set(err, st, "model.upf: users.ids: %s", upf_status_str(st));
            goto done;
        }
        upf_free(names);
        names = NULL;
    }
    if (A) {
        size_t len = 0;
        for (size_t a = 0; a < f->n_dataset_user; a++) len += strlen(upf_strings_get(&ds->user_attrs.names, a)) + 1;
        for (size_t a = 0; a < f->n_profile; a++) len += strlen(upf_strings_get(&ds->item_attrs.names, a)) + 9;
        for (size_t a = 0; a < f->n_history; a++) len += strlen(upf_strings_get(&ds->item_ids, a)) + 9;
        names = upf_malloc(A * sizeof *names);
        blob = upf_malloc(len + 1);
        if (!names || !blob) {
            st = upf_err_set(err, UPF_ERR_NOMEM, "model.upf: out of memory");
            goto done;
        }
        size_t k = 0, off = 0;
        for (size_t a = 0; a < f->n_dataset_user; a++, k++)
            names[k] = blob + off, off += (size_t)sprintf(blob + off, "%s", upf_strings_get(&ds->user_attrs.names, a)) + 1;
        for (size_t a = 0; a < f->n_profile; a++, k++)
            names[k] = blob + off,
            off += (size_t)sprintf(blob + off, "profile:%s", upf_strings_get(&ds->item_attrs.names, a)) + 1;
        for (size_t a = 0; a < f->n_history; a++, k++)
            names[k] = blob + off, off += (size_t)sprintf(blob + off, "history:%s", upf_strings_get(&ds->item_ids, a)) + 1;
        if ((st = upf_mw_meta_str_array(w, UPF_M_USER_ATTR_NAMES, names, A))) {
            upf_err_set(err, st, "model.upf: user_attrs.names: %s", upf_status_str(st));
            goto done;
        }
    }
    st = upf_run_save_model(run, w, err);
done:
    upf_free(names);
    upf_free(blob);
    upf_mw_free(w);
    return st;
}

/* ---- run ---- */

static upf_ranker_train_params train_params(const ranker_params *p, uint64_t seed, int threads)
{
    upf_ranker_train_params t = upf_ranker_train_params_default();
    t.loss = (upf_ranker_loss)p->loss;
    t.epochs = (uint32_t)p->epochs;
    t.patience = (uint32_t)p->patience;
    t.eval_every = (uint32_t)p->eval_every;
    t.batch_users = (uint32_t)p->batch_users;
    t.n_negatives = (uint32_t)p->negatives;
    if (t.loss == UPF_RANKER_WARP && t.n_negatives == 0) t.n_negatives = 100;
    t.neg_dist = (upf_neg_dist)p->negative_sampling;
    t.pop_alpha = p->popularity_alpha;
    t.check_negatives = p->check_negatives;
    t.tau = p->tau;
    t.user_attr_dropout = p->user_attr_dropout;
    t.pop_debias = p->popularity_debias;
    t.init_std = p->init_std;
    t.opt.kind = (upf_opt_kind)p->optimizer;
    t.opt.schedule = (upf_lr_schedule)p->lr_schedule;
    t.opt.lr_init = p->lr;
    t.opt.lr_min = p->lr_min;
    t.opt.warmup = (uint64_t)p->warmup_steps;
    t.opt.l2 = p->l2;
    t.opt.beta1 = p->beta1;
    t.opt.beta2 = p->beta2;
    t.opt.eps = p->eps;
    t.seed = seed;
    t.threads = (uint32_t)(threads > 0 ? threads : 1);
    return t;
}

/* Positive weights: by event type (the type whose grade a pair has) times
 * by rating (the pair's largest RATING event value before the split cutoff). */
static upf_status positive_weights(upf_run *run, const ranker_params *p, const upf_csr *train, float **out,
                                   upf_err *err)
{
    const upf_config *cfg = upf_run_config(run);
    const upf_dataset *ds = upf_run_dataset(run);
    upf_status st = UPF_OK;
    float *w = NULL, *best = NULL;
    double *rv = NULL, *rw = NULL;
    *out = NULL;
    if (p->event_weights.n == 0 && p->rating_weights.n == 0) return UPF_OK;
    int64_t nnz = upf_csr_nnz(train);
    w = upf_malloc((size_t)(nnz ? nnz : 1) * sizeof *w);
    if (!w) return upf_err_set(err, UPF_ERR_NOMEM, "train weights: out of memory");
    for (int64_t e = 0; e < nnz; e++) w[e] = 1.0f;
    if (p->event_weights.n) {
        float tw[UPF_EV_TYPE_COUNT];
        for (int t = 0; t < UPF_EV_TYPE_COUNT; t++) tw[t] = 1.0f;
        if ((st = parse_type_map(&p->event_weights, "train.event_weights", tw, err))) goto done;
        upf_interaction_params ip = upf_config_interaction_params(cfg);
        for (int64_t e = 0; e < nnz; e++)
            for (int t = 1; t < UPF_EV_TYPE_COUNT; t++)
                if ((ip.types >> t & 1u) && ip.grade[t] == train->val[e]) {
                    w[e] = tw[t];
                    break;
                }
    }
    if (p->rating_weights.n) {
        size_t n_r = p->rating_weights.n;
        rv = upf_malloc(n_r * sizeof *rv);
        rw = upf_malloc(n_r * sizeof *rw);
        best = upf_malloc((size_t)(nnz ? nnz : 1) * sizeof *best);
        if (!rv || !rw || !best) {
            st = upf_err_set(err, UPF_ERR_NOMEM, "train.rating_weights: out of memory");
            goto done;
        }
        if ((st = parse_rating_map(&p->rating_weights, rv, rw, &n_r, err))) goto done;
        for (int64_t e = 0; e < nnz; e++) best[e] = -INFINITY;
        const int64_t cutoff = cfg->split_kind + 1 == UPF_SPLIT_TEMPORAL ? cfg->split_cutoff : INT64_MAX;
        for (size_t u = 0; u < train->n_rows && u < ds->n_users; u++) {
            const int32_t *row = train->idx + train->ptr[u];
            int64_t len = train->ptr[u + 1] - train->ptr[u];
            for (int64_t ev = ds->user_ptr[u]; ev < ds->user_ptr[u + 1]; ev++) {
                if (ds->ev_type[ev] != UPF_EV_RATING || ds->ev_time[ev] >= cutoff || ds->ev_item[ev] < 0) continue;
                int64_t lo = 0, hi = len;
                const int32_t j = ds->ev_item[ev];
                while (lo < hi) {
                    int64_t mid = lo + (hi - lo) / 2;
                    if (row[mid] < j) lo = mid + 1;
                    else hi = mid;
                }
                if (lo < len && row[lo] == j && ds->ev_value[ev] > best[train->ptr[u] + lo])
                    best[train->ptr[u] + lo] = ds->ev_value[ev];
            }
        }
        for (int64_t e = 0; e < nnz; e++)
            for (size_t q = 0; q < n_r; q++)
                if (fabs((double)best[e] - rv[q]) < 1e-6) {
                    w[e] *= (float)rw[q];
                    break;
                }
    }
    *out = w;
    w = NULL;
done:
    upf_free(w);
    upf_free(best);
    upf_free(rv);
    upf_free(rw);
    return st;
}

static upf_status train_one(upf_run *run, const ranker_params *p, const upf_csr *train, int64_t profile_cutoff,
                            const upf_csr *valid, uint32_t epochs, int with_valid, const char *phase, upf_ranker_model **out_m, feats *f,
                            upf_ranker_train_result *res, float *uvec, float *ivec, float *ibias, upf_err *err)
{
    upf_status st;
    upf_ranker_model *m = NULL;
    float *pw = NULL;
    *out_m = NULL;
    if ((st = build_feats(run, p, train, profile_cutoff, f, err))) return st;
    upf_ranker_shape s = { train->n_rows, train->n_cols, f->user.ptr ? f->user.n_cols : 0,
                           f->item.ptr ? f->item.n_cols : 0, (size_t)p->dim, p->user_id, p->item_id };
    if ((st = upf_ranker_model_create(&s, f->user.ptr ? &f->user : NULL, f->item.ptr ? &f->item : NULL, &m, err)))
        goto done;
    upf_ranker_model_init(m, p->init_std, upf_run_seed(run));
    if ((st = positive_weights(run, p, train, &pw, err))) goto done;
    upf_ranker_train_params tp = train_params(p, upf_run_seed(run), upf_run_threads(run));
    tp.epochs = epochs;
    if (!with_valid) tp.patience = 0;
    run_ctx c = { run, p, train, valid, uvec, ivec, ibias, phase, epochs };
    upf_ranker_hooks h = { with_valid ? hook_validate : NULL, hook_epoch, &c };
    st = upf_ranker_train(m, train, pw, &tp, &h, res, err);
    if (st) goto done;
    *out_m = m;
    m = NULL;
done:
    upf_free(pw);
    upf_ranker_model_free(m);
    if (st) feats_free(f);
    return st;
}

static upf_status ranker_run(upf_run *run, const void *vp, upf_err *err)
{
    const ranker_params *p = vp;
    const upf_config *cfg = upf_run_config(run);
    const upf_csr *train, *test;
    upf_csr fit, valid;
    feats f;
    upf_ranker_model *m = NULL;
    float *uvec = NULL, *ivec = NULL, *ibias = NULL;
    upf_status st;
    memset(&fit, 0, sizeof fit);
    memset(&valid, 0, sizeof valid);
    memset(&f, 0, sizeof f);
    if ((st = upf_run_interactions(run, &train, NULL, &test, err))) return st;
    const size_t U = train->n_rows, I = train->n_cols, D = (size_t)p->dim;
    size_t nu, ni;
    if (upf_mul_size(U, D, &nu) || upf_mul_size(I, D, &ni))
        return upf_err_set(err, UPF_ERR_ARG, "model.dim: %zu users x %lld overflows", U, (long long)p->dim);
    uvec = upf_malloc_aligned(nu * sizeof(float));
    ivec = upf_malloc_aligned(ni * sizeof(float));
    ibias = upf_malloc((I ? I : 1) * sizeof(float));
    if (!uvec || !ivec || !ibias) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "ranker: out of memory for the scoring matrices");
        goto done;
    }
    upf_ranker_train_result res;
    memset(&res, 0, sizeof res);
    uint32_t epochs = (uint32_t)p->epochs;
    if (p->valid_frac > 0) {
        int64_t valid_cutoff;
        if ((st = carve_valid(cfg, p->valid_frac, train, &fit, &valid, &valid_cutoff, err))) goto done;
        upf_log(UPF_LOG_INFO, "ranker: %lld fit, %lld validation interactions", (long long)upf_csr_nnz(&fit),
                (long long)upf_csr_nnz(&valid));
        if ((st = train_one(run, p, &fit, valid_cutoff, &valid, epochs, 1, "fit", &m, &f, &res, uvec, ivec, ibias, err))) goto done;
        upf_run_metric(run, "train.best_epoch", res.best_epoch);
        upf_run_metric(run, "train.valid_ndcg", res.best_valid);
        upf_run_metric(run, "train.fit_seconds", res.seconds);
        upf_log(UPF_LOG_INFO, "ranker: best validation ndcg@%lld %.4f at epoch %u of %u", (long long)p->valid_k,
                res.best_valid, res.best_epoch, res.epochs_run);
        if (p->refit) {
            uint32_t best = res.best_epoch ? res.best_epoch : res.epochs_run;
            upf_ranker_model_free(m);
            m = NULL;
            feats_free(&f);
            if ((st = train_one(run, p, train, cfg->split_cutoff, NULL, best, 0, "refit", &m, &f, &res, uvec, ivec, ibias, err)))
                goto done;
        } else {
            /* keep the early-stopped model; its features (history, dataset
             * attributes) are rebuilt from all training interactions, with the
             * same columns, so the test users are described by everything known */
            feats_free(&f);
            if ((st = build_feats(run, p, train, cfg->split_cutoff, &f, err))) goto done;
            m->user_feat = f.user.ptr ? &f.user : NULL;
            m->item_feat = f.item.ptr ? &f.item : NULL;
        }
    } else if ((st = train_one(run, p, train, cfg->split_cutoff, NULL, epochs, 0, "fit", &m, &f, &res, uvec, ivec, ibias, err))) {
        goto done;
    }
    upf_run_metric(run, "train.epochs", res.epochs_run);
    upf_run_metric(run, "train.final_loss", res.final_loss);
    upf_run_metric(run, "train.seconds", res.seconds);
    if (res.seconds > 0) upf_run_metric(run, "train.updates_per_second", (double)res.updates / res.seconds);
    upf_scorer s;
    model_scorer(m, uvec, ivec, ibias, &s);
    if ((st = upf_run_eval_ranker(run, &s, err))) goto done;
    for (size_t q = 0; q < cfg->eval_segments.n; q++)
        if (strcmp(cfg->eval_segments.v[q], "cold_items") == 0 &&
            (st = eval_cold_ranking(run, train, test, uvec, ivec, ibias, D, err)))
            goto done;
    if (cfg->export_enabled) {
        upf_ranker_train_params tp = train_params(p, upf_run_seed(run), upf_run_threads(run));
        st = export_model(run, m, &f, uvec, ivec, ibias, &tp, &res, err);
    }
done:
    upf_ranker_model_free(m);
    feats_free(&f);
    upf_csr_free(&fit);
    upf_csr_free(&valid);
    upf_free_aligned(uvec);
    upf_free_aligned(ivec);
    upf_free(ibias);
    return st;
}

const upf_family upf_family_ranker = {
    "ranker",
    "hybrid factorization (ids + user and item attributes) trained by BPR, WARP or a mini-batch softmax",
    ranker_keys,
    sizeof(ranker_params),
    ranker_check,
    ranker_run,
};
