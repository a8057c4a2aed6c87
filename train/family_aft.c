/* family_aft.c - the `aft` model family: time to the next purchase (of any
 * item: model.target user; of an item the customer buys repeatedly:
 * user_item, "buy again") as a Weibull or log-logistic AFT model with the
 * covariates of train/lifetime_features.h, exported as UPF_KIND_LIFETIME_AFT.
 *
 * Temporal design, with C = model.cutoff and W = model.window_days:
 *   test rows: features from events before C, labels from [C, C + W);
 *   training rows: the same at cutoffs C - W - k * cutoff_step_days, k = 0 ..
 *   train_cutoffs - 1, so no training label reaches past C. The interval
 *   target trains on the completed gaps between purchases before C (those
 *   starting at least W before C) with the user attributes as covariates,
 *   each divided by F(C - start) (a gap is only seen when it closed before C:
 *   right truncation; Newton only), and
 *   is tested on held-out gaps: each customer's first purchase in
 *   [C, C + W - H) and the time to the next one, censored at C + W
 *   (upf_lt_gaps_heldout). The open gap at C is not a test row: a customer
 *   who dropped out never closes it, which an interval model does not claim
 *   to know (BG/NBD does).
 * Evaluation on the test rows at horizon H = model.horizon_days: C-index,
 * IPCW Brier score, calibration groups, churn AUC, median-time error, expected
 * vs actual purchases within H; baselines (Kaplan-Meier, recency, or for the
 * interval target the customer's last gap; for buy again also the overdue and
 * frequency heuristics) under baseline_*.
 * Artifacts: predictions.csv, calibration.csv, coefficients.csv and, for
 * user_item, buy_again.csv (each customer's ranked list with due dates).
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "../eval/survival_metrics.h"
#include "../model/kinds.h"
#include "../model/lifetime.h"
#include "aft.h"
#include "aft_dropout.h"
#include "aft_gap.h"
#include "family.h"
#include "lifetime_features.h"
#include "lifetime_report.h"

typedef struct aft_params {
    int64_t cutoff;           /* model.cutoff (date) */
    int distribution;         /* model.distribution: 0 weibull, 1 loglogistic */
    int target;               /* model.target: 0 user, 1 user_item */
    double horizon_days;      /* model.horizon_days */
    double window_days;       /* model.window_days */
    int64_t train_cutoffs;    /* model.train_cutoffs */
    double cutoff_step_days;  /* model.cutoff_step_days */
    double min_repeat_share;  /* model.min_repeat_share (user_item) */
    int64_t min_buyers;       /* model.min_buyers (user_item) */
    upf_cfg_doubles windows;  /* features.windows */
    double trend_days;        /* features.trend_days */
    char *entropy_field;      /* features.entropy_field */
    int user_attrs;           /* features.user_attrs */
    int64_t max_user_attrs;   /* features.max_user_attrs */
    int population;           /* features.population: 0 purchasers, 1 active */
    int optimizer;            /* train.optimizer: 0 newton, 1 adam */
    int64_t epochs;           /* train.epochs */
    int64_t batch_size;       /* train.batch_size */
    double lr;                /* train.lr */
    double l2;                /* train.l2 */
    int64_t max_iter;         /* train.max_iter */
    int64_t renewal_grid;     /* eval.renewal_grid */
    int expected_mode;        /* eval.expected_purchases: 0 renewal, 1 renewal_dropout, 2 gap_renewal,
                                 3 gap_renewal_dropout */
    int64_t calibration_groups; /* eval.calibration_groups */
    int64_t buy_again_k;      /* eval.buy_again_k */
    double buy_again_day;     /* eval.buy_again_day */
} aft_params;

static const char *const dist_choices[] = {"weibull", "loglogistic", NULL};
static const char *const target_choices[] = {"user", "user_item", "interval", NULL};
static const char *const population_choices[] = {"purchasers", "active", NULL};
static const char *const optimizer_choices[] = {"newton", "adam", NULL};
static const char *const expected_choices[] = {"renewal", "renewal_dropout", "gap_renewal", "gap_renewal_dropout", NULL};

#define OFF(f) offsetof(aft_params, f)

static const upf_cfg_key aft_keys[] = {
    {"model.cutoff", UPF_CFG_DATE, OFF(cutoff), 0, 0, NULL, NULL,
     "the test cutoff: features from the events before it, labels from [cutoff, cutoff + window_days); "
     "training snapshots lie window_days and more before it",
     0},
    {"model.distribution", UPF_CFG_ENUM, OFF(distribution), 0, 0, "weibull", dist_choices,
     "law of W in log T = x.beta + sigma W: Weibull (extreme value) or log-logistic (logistic)", 0},
    {"model.target", UPF_CFG_ENUM, OFF(target), 0, 0, "user", target_choices,
     "time to a customer's next purchase from the cutoff (user), to the next purchase of each item they buy "
     "repeatedly (user_item, buy again), or the gap between two purchases of an active customer (interval: "
     "trained on the gaps completed before the cutoff, tested on each customer's first purchase in the first "
     "window_days - horizon_days after it and the time to the next; horizon_days < window_days)",
     0},
    {"model.horizon_days", UPF_CFG_DOUBLE, OFF(horizon_days), 0, 3650, "30", NULL,
     "H of P(no purchase within H days), the Brier score, churn AUC, calibration and expected purchases",
     UPF_CFG_MIN_EXCL},
    {"model.window_days", UPF_CFG_DOUBLE, OFF(window_days), 0, 3650, "90", NULL,
     "label window after each cutoff: a purchase in it is an event, none is censored at its end; >= horizon_days",
     UPF_CFG_MIN_EXCL},
    {"model.train_cutoffs", UPF_CFG_INT, OFF(train_cutoffs), 1, 100, "1", NULL,
     "training snapshots: at cutoff - window_days - k * cutoff_step_days, k = 0 .. train_cutoffs - 1", 0},
    {"model.cutoff_step_days", UPF_CFG_DOUBLE, OFF(cutoff_step_days), 0, 3650, "30", NULL,
     "days between training snapshots", UPF_CFG_MIN_EXCL},
    {"model.min_repeat_share", UPF_CFG_DOUBLE, OFF(min_repeat_share), 0, 1, "0.1", NULL,
     "user_item: keep items that at least this share of their buyers bought on two or more days", 0},
    {"model.min_buyers", UPF_CFG_INT, OFF(min_buyers), 1, 1e9, "5", NULL,
     "user_item: keep items with at least this many buyers before the cutoff", 0},
    {"features.windows", UPF_CFG_DOUBLE_LIST, OFF(windows), 0, 3650, "[7, 30, 90]", NULL,
     "activity windows in days: events of each type in the last W days", UPF_CFG_MIN_EXCL},
    {"features.trend_days", UPF_CFG_DOUBLE, OFF(trend_days), 0, 3650, "30", NULL,
     "trend: events in the last trend_days against the trend_days before", UPF_CFG_MIN_EXCL},
    {"features.entropy_field", UPF_CFG_STRING, OFF(entropy_field), 0, 0, "category", NULL,
     "item attribute field of the category mix entropy (\"field=value\" attributes); \"\": every field", 0},
    {"features.user_attrs", UPF_CFG_BOOL, OFF(user_attrs), 0, 0, "true", NULL,
     "add user attributes (numeric as is, field=value as 0/1) as covariates", 0},
    {"features.max_user_attrs", UPF_CFG_INT, OFF(max_user_attrs), 0, 10000, "32", NULL,
     "at most this many user attributes, the most common first", 0},
    {"features.population", UPF_CFG_ENUM, OFF(population), 0, 0, "purchasers", population_choices,
     "user target: customers with a purchase before the cutoff, or every user with any event", 0},
    {"train.optimizer", UPF_CFG_ENUM, OFF(optimizer), 0, 0, "newton", optimizer_choices,
     "newton: full-batch damped Newton to the exact maximum likelihood; adam: mini-batch Adam (large data; not "
     "for target interval)",
     0},
    {"train.epochs", UPF_CFG_INT, OFF(epochs), 1, 100000, "20", NULL, "adam: passes over the training rows", 0},
    {"train.batch_size", UPF_CFG_INT, OFF(batch_size), 1, 1e7, "1024", NULL, "adam: rows per mini-batch", 0},
    {"train.lr", UPF_CFG_DOUBLE, OFF(lr), 0, 10, "0.01", NULL, "adam: step size, decayed as lr / sqrt(1 + epoch)",
     UPF_CFG_MIN_EXCL},
    {"train.l2", UPF_CFG_DOUBLE, OFF(l2), 0, 1e9, "1", NULL,
     "ridge penalty: l2/2 times the sum of the squared weights of the standardized features (not the intercept or "
     "sigma); 0 gives the plain maximum likelihood, which one-hot attribute levels make singular",
     0},
    {"train.max_iter", UPF_CFG_INT, OFF(max_iter), 1, 10000, "100", NULL, "newton: iterations at most", 0},
    {"eval.renewal_grid", UPF_CFG_INT, OFF(renewal_grid), 0, 100000, "100", NULL,
     "steps of the renewal equation behind expected purchases within H (0: skip them)", 0},
    {"eval.expected_purchases", UPF_CFG_ENUM, OFF(expected_mode), 0, 0, "renewal_dropout", expected_choices,
     "expected purchases within H: renewal (every gap i.i.d. as the AFT law, nobody leaves), renewal_dropout "
     "(after each purchase the customer leaves with the BG/NBD dropout probability, BG/NBD fitted on the "
     "purchases before the cutoff), gap_renewal (the first purchase on the AFT law, every later gap on the law of "
     "purchase-to-purchase gaps, an AFT fitted on the gaps before the cutoff) or gap_renewal_dropout (both); "
     "targets user and user_item, the interval target uses renewal",
     0},
    {"eval.calibration_groups", UPF_CFG_INT, OFF(calibration_groups), 2, 1000, "10", NULL,
     "calibration: groups of equal size by predicted risk (10: deciles)", 0},
    {"eval.buy_again_k", UPF_CFG_INT, OFF(buy_again_k), 1, 10000, "10", NULL,
     "user_item: length of each customer's buy-again list", 0},
    {"eval.buy_again_day", UPF_CFG_DOUBLE, OFF(buy_again_day), 0, 3650, "0", NULL,
     "user_item: the list is for this many days after the cutoff, ranking P(rebuy within H days of it)", 0},
    {NULL, UPF_CFG_NONE, 0, 0, 0, NULL, NULL, NULL, 0},
};

static upf_status aft_check(const void *vp, const upf_config *cfg, upf_err *err)
{
    const aft_params *p = vp;
    (void)cfg;
    if (p->cutoff == UPF_CFG_DATE_UNSET)
        return upf_err_set(err, UPF_ERR_CONFIG, "model.cutoff: expected a date (the test cutoff), got nothing");
    if (p->horizon_days > p->window_days)
        return upf_err_set(err, UPF_ERR_CONFIG, "model.horizon_days: expected <= model.window_days (%g), got %g",
                           p->window_days, p->horizon_days);
    if (p->windows.n > UPF_LT_MAX_WINDOWS)
        return upf_err_set(err, UPF_ERR_CONFIG, "features.windows: expected at most %d windows, got %zu",
                           UPF_LT_MAX_WINDOWS, p->windows.n);
    if (p->target == 2 && !(p->horizon_days < p->window_days))
        return upf_err_set(err, UPF_ERR_CONFIG,
                           "model.horizon_days: expected < model.window_days (%g) for target interval (the test gaps "
                           "start in the first window_days - horizon_days days), got %g",
                           p->window_days, p->horizon_days);
    if (p->target == 2 && p->optimizer == 1)
        return upf_err_set(err, UPF_ERR_CONFIG,
                           "train.optimizer: expected newton for target interval (its gaps are right-truncated at the "
                           "cutoff, which only the Newton fit models), got adam");
    if (p->target == 1 && p->buy_again_day + p->horizon_days > p->window_days)
        return upf_err_set(err, UPF_ERR_CONFIG,
                           "eval.buy_again_day: expected buy_again_day + horizon_days <= window_days (%g), got %g",
                           p->window_days, p->buy_again_day + p->horizon_days);
    return UPF_OK;
}

/* ---- rows: features + labels at one or more cutoffs ---- */

typedef struct rowset {
    size_t n, d;
    float *X;          /* (n, d) */
    int32_t *user;     /* (n) */
    int32_t *item;     /* (n) or NULL */
    double *time;      /* (n) days from the cutoff */
    uint8_t *event;    /* (n) */
    double *recency;   /* (n) */
    double *elapsed;   /* (n) days since the last purchase (test rows of the interval target) */
    double *trunc;     /* (n) right-truncation bounds in days (training gap rows of the interval target) */
    double *n_h;       /* (n) purchase days within the horizon (test rows) */
    float *raw;        /* (n, d) unstandardized copy (test rows, for the heuristics) */
    char **names;      /* (d) borrowed from the first build (owned by the rowset) */
} rowset;

static void rowset_free(rowset *r)
{
    for (size_t j = 0; r->names && j < r->d; j++) upf_free(r->names[j]);
    upf_free(r->names);
    upf_free(r->X);
    upf_free(r->user);
    upf_free(r->item);
    upf_free(r->time);
    upf_free(r->event);
    upf_free(r->recency);
    upf_free(r->elapsed);
    upf_free(r->trunc);
    upf_free(r->n_h);
    upf_free(r->raw);
    memset(r, 0, sizeof *r);
}

static upf_status build_at(const upf_dataset *ds, const aft_params *p, int64_t cutoff, uint32_t types,
                           upf_lt_features *f, upf_err *err)
{
    if (p->target == 1) {
        upf_ba_params bp = upf_ba_params_default();
        bp.cutoff = cutoff;
        bp.min_repeat_share = p->min_repeat_share;
        bp.min_buyers = (size_t)p->min_buyers;
        return upf_ba_pairs_build(ds, &bp, f, err);
    }
    upf_lt_feature_params fp = upf_lt_feature_params_default();
    fp.cutoff = cutoff;
    fp.n_windows = p->windows.n;
    for (size_t w = 0; w < p->windows.n; w++) fp.windows_days[w] = p->windows.v[w];
    fp.trend_days = p->trend_days;
    fp.entropy_field = p->entropy_field;
    fp.user_attrs = p->user_attrs;
    fp.max_user_attrs = (size_t)p->max_user_attrs;
    fp.all_users = p->population == 1 && p->target == 0;
    fp.attrs_only = p->target == 2;
    fp.types = types;
    return upf_lt_features_build(ds, &fp, f, err);
}

/* Appends the rows of f (labels at cutoff) to r; takes the names the first time. */
static upf_status rowset_append(rowset *r, upf_lt_features *f, const upf_dataset *ds, int64_t cutoff, double window,
                                upf_err *err)
{
    if (r->names && f->n_cols != r->d)
        return upf_err_set(err, UPF_ERR_DATA, "aft: the cutoffs give %zu and %zu feature columns", r->d, f->n_cols);
    size_t n = r->n + f->n_rows, d = f->n_cols, cells = 0;
    if (upf_mul_size(n, d ? d : 1, &cells)) return upf_err_set(err, UPF_ERR_NOMEM, "aft: %zu rows overflow", n);
    float *X = upf_realloc(r->X, cells * sizeof *X);
    if (X) r->X = X;
    int32_t *u = upf_realloc(r->user, n * sizeof *u);
    if (u) r->user = u;
    int32_t *it = f->item ? upf_realloc(r->item, n * sizeof *it) : NULL;
    if (it) r->item = it;
    double *t = upf_realloc(r->time, n * sizeof *t);
    if (t) r->time = t;
    uint8_t *e = upf_realloc(r->event, n ? n : 1);
    if (e) r->event = e;
    double *rc = upf_realloc(r->recency, n * sizeof *rc);
    if (rc) r->recency = rc;
    double *el = f->elapsed ? upf_realloc(r->elapsed, n * sizeof *el) : NULL;
    if (el) r->elapsed = el;
    double *tb = f->label_bound ? upf_realloc(r->trunc, n * sizeof *tb) : NULL;
    if (tb) r->trunc = tb;
    if (!X || !u || (f->item && !it) || !t || !e || !rc || (f->elapsed && !el) || (f->label_bound && !tb))
        return upf_err_set(err, UPF_ERR_NOMEM, "aft: out of memory for %zu rows", n);
    memcpy(r->X + r->n * d, f->X, f->n_rows * d * sizeof *X);
    memcpy(r->user + r->n, f->user, f->n_rows * sizeof *u);
    if (f->item) memcpy(r->item + r->n, f->item, f->n_rows * sizeof *it);
    memcpy(r->recency + r->n, f->recency, f->n_rows * sizeof *rc);
    if (f->elapsed) memcpy(r->elapsed + r->n, f->elapsed, f->n_rows * sizeof *el);
    if (f->label_bound) memcpy(r->trunc + r->n, f->label_bound, f->n_rows * sizeof *tb);
    if (f->label) { /* gap rows: completed ones are observed; held-out ones carry their own events */
        memcpy(r->time + r->n, f->label, f->n_rows * sizeof *t);
        if (f->event) memcpy(r->event + r->n, f->event, f->n_rows);
        else memset(r->event + r->n, 1, f->n_rows);
    } else {
        upf_lt_labels(ds, f->user, f->item, f->n_rows, cutoff, window, r->time + r->n, r->event + r->n, NULL);
    }
    if (!r->names) {
        r->names = f->names;
        f->names = NULL;
        r->d = d;
    }
    r->n = n;
    return UPF_OK;
}

/* ---- training ---- */

typedef struct epoch_ctx {
    upf_run *run;
    size_t epochs;
} epoch_ctx;

static upf_status on_epoch(void *vctx, size_t epoch, double nll, const double *theta, upf_err *err)
{
    (void)theta;
    epoch_ctx *c = vctx;
    static const char *const cols[2] = {"epoch", "train_nll"};
    double v[2] = {(double)(epoch + 1), nll};
    upf_status st = upf_run_curve(c->run, cols, v, 2);
    if (st != UPF_OK) return upf_err_set(err, st, "curves.csv: %s", upf_status_str(st));
    upf_run_progress(c->run, "aft adam", (double)(epoch + 1), (double)c->epochs, "epoch");
    return UPF_OK;
}

#define METRIC(path, v)                                                                                          \
    do {                                                                                                         \
        if ((st = upf_run_metric(run, (path), (v))) != UPF_OK) {                                                 \
            upf_err_set(err, st, "metrics: %s: %s", (path), upf_status_str(st));                                 \
            goto done;                                                                                           \
        }                                                                                                        \
    } while (0)

/* The survival metrics of one set of predictions under prefix ("" = the model). */
static upf_status record_survival(upf_run *run, const char *prefix, const rowset *te, const double *score,
                                  const double *surv_h, double H, size_t groups, double *ece_out, upf_err *err)
{
    upf_status st = UPF_OK;
    char path[128];
    upf_cindex ci;
    if ((st = upf_surv_cindex(te->time, te->event, score, te->n, &ci, err)) != UPF_OK) return st;
    snprintf(path, sizeof path, "%sc_index", prefix);
    METRIC(path, ci.value);
    double auc = 0.0;
    size_t np = 0, nn = 0;
    upf_err e2;
    if (upf_surv_churn_auc(te->time, te->event, surv_h, te->n, H, &auc, &np, &nn, &e2) == UPF_OK) {
        snprintf(path, sizeof path, "%sauc_churn", prefix);
        METRIC(path, auc);
    }
    if (!surv_h || !ece_out) return UPF_OK;
    double bs = 0.0;
    if ((st = upf_surv_brier(te->time, te->event, surv_h, te->n, H, &bs, err)) != UPF_OK) return st;
    snprintf(path, sizeof path, "%sbrier", prefix);
    METRIC(path, bs);
    upf_calib_group cg[1000];
    double ece = 0.0;
    if (te->n >= groups && upf_surv_calibration(te->time, te->event, surv_h, te->n, H, groups, cg, &ece, &e2) == UPF_OK) {
        snprintf(path, sizeof path, "%scalibration_error", prefix);
        METRIC(path, ece);
    }
    *ece_out = ece;
done:
    return st;
}

static upf_status aft_run(upf_run *run, const void *vp, upf_err *err)
{
    const aft_params *p = vp;
    const upf_dataset *ds = upf_run_dataset(run);
    const upf_config *cfg = upf_run_config(run);
    upf_status st = UPF_OK;
    rowset tr, te;
    upf_lt_features f;
    double *center = NULL, *scale = NULL, *theta = NULL, *scratch = NULL;
    double *surv = NULL, *med = NULL, *q10 = NULL, *q90 = NULL, *expct = NULL, *brier_term = NULL, *alt = NULL;
    double *alt_s = NULL, *cond = NULL;
    uint8_t *relevant = NULL;
    double *alive = NULL; /* (n) BG/NBD P(alive) per test row, 1 without it */
    double *stay = NULL;  /* (n) BG/NBD probability of staying after a purchase, 1 without it */
    double *gap_eta = NULL; /* (n) the gap law's log-time location per test row (gap_renewal) */
    upf_sbuf csv = {NULL, 0, 0, 0};
    upf_mw *w = NULL;
    upf_km km;
    memset(&tr, 0, sizeof tr);
    memset(&te, 0, sizeof te);
    memset(&f, 0, sizeof f);
    memset(&km, 0, sizeof km);
    int dist = p->distribution == 0 ? UPF_AFT_WEIBULL : UPF_AFT_LOGLOGISTIC;
    int64_t C = p->cutoff;
    double W = p->window_days, H = p->horizon_days;

    /* the test window must lie inside the data */
    int64_t t_max = INT64_MIN;
    for (int64_t e = 0; e < ds->n_events; e++)
        if (ds->ev_time[e] > t_max) t_max = ds->ev_time[e];
    int64_t last_day_end = (t_max / 86400 + 1) * 86400;
    if ((double)C + W * 86400.0 > (double)last_day_end) {
        char a[16], b[16];
        upf_format_day(C, a, sizeof a);
        upf_format_day(t_max, b, sizeof b);
        st = upf_err_set(err, UPF_ERR_DATA,
                         "model.cutoff %s + model.window_days %g runs past the last event (%s): the test labels would "
                         "be censored by the end of the data, not by the window",
                         a, W, b);
        goto done;
    }
    uint32_t types = upf_lt_types_before(ds, C);

    /* ---- rows ---- */
    upf_run_progress(run, "features", 0, (double)p->train_cutoffs + 1, "cutoff");
    if (p->target == 2) { /* the interval model: completed gaps before C, starting W before it */
        upf_lt_feature_params fp = upf_lt_feature_params_default();
        fp.cutoff = C;
        fp.user_attrs = p->user_attrs;
        fp.max_user_attrs = (size_t)p->max_user_attrs;
        if ((st = upf_lt_gaps_build(ds, &fp, W, &f, err)) != UPF_OK) goto done;
        if ((st = rowset_append(&tr, &f, ds, C, W, err)) != UPF_OK) goto done;
        upf_lt_features_free(&f);
    }
    for (int64_t k = 0; p->target != 2 && k < p->train_cutoffs; k++) {
        int64_t c = C - (int64_t)llround((W + (double)k * p->cutoff_step_days) * 86400.0);
        upf_err e2;
        upf_status s2 = build_at(ds, p, c, types, &f, &e2);
        if (s2 == UPF_ERR_DATA) { /* an early snapshot before any purchase: skip it */
            upf_log(UPF_LOG_WARN, "aft: training cutoff %lld: %s", (long long)k, e2.msg);
            continue;
        }
        if (s2 != UPF_OK) {
            st = s2;
            *err = e2;
            goto done;
        }
        if ((st = rowset_append(&tr, &f, ds, c, W, err)) != UPF_OK) goto done;
        upf_lt_features_free(&f);
        upf_run_progress(run, "features", (double)k + 1, (double)p->train_cutoffs + 1, "cutoff");
    }
    if (tr.n == 0) {
        st = upf_err_set(err, UPF_ERR_DATA, "aft: no training rows before model.cutoff - model.window_days");
        goto done;
    }
    if (p->target == 2) { /* held-out gaps: the first purchase of each user in [C, C + W - H) onwards */
        upf_lt_feature_params fp = upf_lt_feature_params_default();
        fp.cutoff = C;
        fp.user_attrs = p->user_attrs;
        fp.max_user_attrs = (size_t)p->max_user_attrs;
        if ((st = upf_lt_gaps_heldout(ds, &fp, W - H, W, H, &f, err)) != UPF_OK) goto done;
    } else if ((st = build_at(ds, p, C, types, &f, err)) != UPF_OK) {
        goto done;
    }
    if ((st = rowset_append(&te, &f, ds, C, W, err)) != UPF_OK) goto done;
    /* f stays until te.n_h is filled: held-out gap rows carry their counts (f.n_within) */
    for (size_t j = 0; j < tr.d; j++)
        if (strcmp(tr.names[j], te.names[j]) != 0) {
            st = upf_err_set(err, UPF_ERR_DATA, "aft: column %zu is %s in training and %s in test", j, tr.names[j],
                             te.names[j]);
            goto done;
        }
    size_t d = tr.d, P = d + 2, n = te.n;
    if (!(te.n_h = upf_malloc(n * sizeof *te.n_h)) || !(te.raw = upf_malloc(n * (d ? d : 1) * sizeof *te.raw))) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "aft: out of memory");
        goto done;
    }
    {
        double *tmp_t = upf_malloc(n * sizeof *tmp_t);
        uint8_t *tmp_e = upf_malloc(n);
        if (!tmp_t || !tmp_e) {
            upf_free(tmp_t);
            upf_free(tmp_e);
            st = upf_err_set(err, UPF_ERR_NOMEM, "aft: out of memory");
            goto done;
        }
        if (f.n_within) memcpy(te.n_h, f.n_within, n * sizeof *te.n_h);
        else upf_lt_labels(ds, te.user, te.item, n, C, H, tmp_t, tmp_e, te.n_h);
        upf_free(tmp_t);
        upf_free(tmp_e);
    }
    upf_lt_features_free(&f);
    memcpy(te.raw, te.X, n * d * sizeof *te.raw);
    size_t tr_events = 0, te_events = 0;
    for (size_t i = 0; i < tr.n; i++) tr_events += tr.event[i];
    for (size_t i = 0; i < n; i++) te_events += te.event[i];
    upf_log(UPF_LOG_INFO, "aft: %zu training rows (%zu events) at %lld cutoff(s), %zu test rows (%zu events), %zu features",
            tr.n, tr_events, (long long)p->train_cutoffs, n, te_events, d);

    /* ---- standardize and fit ---- */
    center = upf_malloc((d ? d : 1) * sizeof *center);
    scale = upf_malloc((d ? d : 1) * sizeof *scale);
    theta = upf_calloc(P, sizeof *theta);
    size_t grid = (size_t)p->renewal_grid;
    scratch = upf_malloc(2 * (grid + 1) * sizeof *scratch);
    if (!center || !scale || !theta || !scratch) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "aft: out of memory");
        goto done;
    }
    upf_aft_standardize(tr.X, tr.n, d, center, scale);
    upf_aft_apply_standardize(te.X, n, d, center, scale);
    upf_aft_params ap = upf_aft_params_default();
    ap.dist = dist;
    ap.l2 = p->l2;
    ap.max_iter = (size_t)p->max_iter;
    ap.epochs = (size_t)p->epochs;
    ap.batch = (size_t)p->batch_size;
    ap.lr = p->lr;
    ap.seed = upf_run_seed(run);
    upf_aft_data D = {tr.n, d, tr.X, NULL, tr.time, tr.event, NULL, tr.trunc}; /* trunc: interval target only */
    upf_aft_fit_info info;
    if (p->optimizer == 0) {
        upf_run_progress(run, "aft newton", 0, 1, "fit");
        st = upf_aft_fit_newton(&D, &ap, theta, &info, err);
        upf_run_progress(run, "aft newton", 1, 1, "fit");
    } else {
        epoch_ctx ec = {run, ap.epochs};
        st = upf_aft_fit_adam(&D, &ap, theta, on_epoch, &ec, &info, err);
    }
    if (st != UPF_OK) goto done;
    upf_log(UPF_LOG_INFO, "aft: %s fit, sigma %.4f, training log-likelihood %.4f (%zu %s)", dist_choices[p->distribution],
            exp(theta[d + 1]), info.log_likelihood, info.iterations, p->optimizer ? "steps" : "iterations");
    METRIC("train.log_likelihood", info.log_likelihood);
    METRIC("train.rows", (double)tr.n);
    METRIC("train.events", (double)tr_events);
    METRIC("train.iterations", (double)info.iterations);
    METRIC("train.converged", (double)info.converged);
    METRIC("sigma", exp(theta[d + 1]));

    /* ---- predictions on the test rows ---- */
    surv = upf_malloc(n * sizeof *surv);
    med = upf_malloc(n * sizeof *med);
    q10 = upf_malloc(n * sizeof *q10);
    q90 = upf_malloc(n * sizeof *q90);
    expct = upf_malloc(n * sizeof *expct);
    brier_term = upf_malloc(n * sizeof *brier_term);
    alt = upf_malloc(n * sizeof *alt);
    alt_s = upf_malloc(n * sizeof *alt_s);
    cond = upf_malloc(n * sizeof *cond);
    relevant = upf_malloc(n ? n : 1);
    alive = upf_malloc((n ? n : 1) * sizeof *alive);
    stay = upf_malloc((n ? n : 1) * sizeof *stay);
    if (!surv || !med || !q10 || !q90 || !expct || !brier_term || !alt || !alt_s || !cond || !relevant || !alive ||
        !stay) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "aft: out of memory for %zu predictions", n);
        goto done;
    }
    /* dropout from a BG/NBD fit on the same purchases (LIFETIME.md, "Expected purchases within H"): stay[i]
     * thins the renewals after each purchase; P(alive) x renewal is reported beside it as the rejected
     * alternative; eval.expected_purchases picks the figure of predictions.csv */
    int have_bg = 0;
    for (size_t i = 0; i < n; i++) stay[i] = alive[i] = 1.0;
    if (grid > 0 && p->target != 2) {
        upf_bgnbd_params bg;
        upf_err e3;
        upf_status s3 = upf_aft_dropout_fit(ds, C, te.user, n, stay, alive, &bg, &e3);
        if (s3 == UPF_OK) {
            have_bg = 1;
            upf_log(UPF_LOG_INFO, "aft: BG/NBD for dropout: r %.4f alpha %.4f a %.4f b %.4f", bg.r, bg.alpha, bg.a,
                    bg.b);
            METRIC("bgnbd.r", bg.r);
            METRIC("bgnbd.alpha", bg.alpha);
            METRIC("bgnbd.a", bg.a);
            METRIC("bgnbd.b", bg.b);
        } else if (p->expected_mode == 1 || p->expected_mode == 3) {
            st = s3;
            *err = e3;
            goto done;
        } else {
            upf_log(UPF_LOG_WARN, "aft: no BG/NBD dropout: %s", e3.msg);
            for (size_t i = 0; i < n; i++) stay[i] = alive[i] = 1.0;
        }
    }
    /* the gap law (LIFETIME.md, "Renewals on the gap law"): purchases after the first one renew on the law
     * of purchase-to-purchase gaps, not on the law of the time from the cutoff */
    int have_gap = 0;
    double gap_sigma = 0.0;
    if (grid > 0 && p->target != 2) {
        if (!(gap_eta = upf_malloc((n ? n : 1) * sizeof *gap_eta))) {
            st = upf_err_set(err, UPF_ERR_NOMEM, "aft: out of memory for %zu predictions", n);
            goto done;
        }
        upf_err e4;
        upf_status s4 = upf_aft_gap_fit(ds, C, W, dist, p->user_attrs, (size_t)p->max_user_attrs, te.user, n,
                                        gap_eta, &gap_sigma, &e4);
        if (s4 == UPF_OK) {
            have_gap = 1;
            upf_log(UPF_LOG_INFO, "aft: gap law for renewals: sigma %.4f", gap_sigma);
            METRIC("gap_law.sigma", gap_sigma);
        } else if (p->expected_mode >= 2) {
            st = s4;
            *err = e4;
            goto done;
        } else {
            upf_log(UPF_LOG_WARN, "aft: no gap law: %s", e4.msg);
        }
    }
    int use_drop = have_bg && p->expected_mode == 1;
    double gr_total = 0.0, gr_mae = 0.0, gd_total = 0.0, gd_mae = 0.0;
    double exp_total = 0.0, act_total = 0.0, exp_mae = 0.0, ren_total = 0.0, ren_mae = 0.0, al_total = 0.0,
           al_mae = 0.0, dr_total = 0.0, dr_mae = 0.0;
    for (size_t i = 0; i < n; i++) {
        if ((i & 1023) == 0 && upf_interrupted()) {
            st = upf_err_set(err, UPF_ERR_INTERRUPTED, "aft: interrupted while predicting");
            goto done;
        }
        upf_aft_prediction pr;
        /* the conditional law is for rows that ask from inside an open gap of the interval target
         * (none today: its test rows start at a purchase). The user and user_item targets measure
         * T from the cutoff, so their features' `elapsed` (days since the last purchase) is a
         * covariate there, never a condition: conditioning on T > elapsed counted it twice. */
        double el = p->target == 2 && te.elapsed && te.elapsed[i] > 0.0 ? te.elapsed[i] : 0.0;
        upf_aft_predict(dist, d, te.X + i * d, theta, H, el > 0.0 ? 0 : grid, scratch, &pr);
        if (el > 0.0) { /* conditional on the gap being el days old already */
            double sg = exp(theta[d + 1]);
            pr.p_none = exp(upf_aft_cond_log_survival(dist, pr.eta, sg, el, H));
            pr.median = upf_aft_cond_quantile(dist, pr.eta, sg, el, 0.5);
            pr.q10 = upf_aft_cond_quantile(dist, pr.eta, sg, el, 0.1);
            pr.q90 = upf_aft_cond_quantile(dist, pr.eta, sg, el, 0.9);
            pr.expected = grid ? upf_aft_expected_count_elapsed(dist, pr.eta, sg, el, H, grid, scratch) : 0.0;
        }
        surv[i] = pr.p_none;
        med[i] = pr.median;
        q10[i] = pr.q10;
        q90[i] = pr.q90;
        double e_al = alive[i] * pr.expected;
        double e_dr = pr.expected;
        if (have_bg && grid) e_dr = upf_aft_expected_count_stay(dist, pr.eta, exp(theta[d + 1]), H, stay[i], grid, scratch);
        double e_gr = 0.0, e_gd = 0.0;
        if (have_gap && grid) {
            double s1 = exp(theta[d + 1]);
            e_gr = upf_aft_expected_count_gap(dist, pr.eta, s1, gap_eta[i], gap_sigma, H, 1.0, grid, scratch);
            e_gd = have_bg ? upf_aft_expected_count_gap(dist, pr.eta, s1, gap_eta[i], gap_sigma, H, stay[i], grid,
                                                        scratch)
                           : e_gr;
        }
        expct[i] = p->expected_mode == 3 ? e_gd : p->expected_mode == 2 ? e_gr : use_drop ? e_dr : pr.expected;
        gr_total += e_gr;
        gr_mae += fabs(e_gr - te.n_h[i]);
        gd_total += e_gd;
        gd_mae += fabs(e_gd - te.n_h[i]);
        exp_total += expct[i];
        act_total += te.n_h[i];
        exp_mae += fabs(expct[i] - te.n_h[i]);
        ren_total += pr.expected;
        ren_mae += fabs(pr.expected - te.n_h[i]);
        al_total += e_al;
        al_mae += fabs(e_al - te.n_h[i]);
        dr_total += e_dr;
        dr_mae += fabs(e_dr - te.n_h[i]);
    }
    {
        upf_aft_data T = {n, d, te.X, NULL, te.time, te.event, NULL, NULL};
        METRIC("log_likelihood", upf_aft_loglik(&T, dist, 0.0, theta, NULL, NULL));
    }
    METRIC("test.rows", (double)n);
    METRIC("test.events", (double)te_events);
    METRIC("horizon_days", H);
    double ece = 0.0;
    if ((st = record_survival(run, "", &te, med, surv, H, (size_t)p->calibration_groups, &ece, err)) != UPF_OK) goto done;
    upf_median_error me;
    upf_err e2;
    if (upf_surv_median_error(te.time, te.event, med, n, &me, &e2) == UPF_OK) {
        METRIC("median_error.rows", (double)me.n);
        METRIC("median_error.mae_days", me.mae);
        METRIC("median_error.median_ae_days", me.median_ae);
        METRIC("median_error.bias_days", me.bias);
    }
    if (grid > 0) {
        METRIC("expected_purchases.total", exp_total);
        METRIC("expected_purchases.actual", act_total);
        METRIC("expected_purchases.mae", exp_mae / (double)n);
        METRIC("expected_purchases.renewal.total", ren_total);
        METRIC("expected_purchases.renewal.mae", ren_mae / (double)n);
        if (have_bg) {
            METRIC("expected_purchases.renewal_dropout.total", dr_total);
            METRIC("expected_purchases.renewal_dropout.mae", dr_mae / (double)n);
            METRIC("expected_purchases.renewal_alive.total", al_total);
            METRIC("expected_purchases.renewal_alive.mae", al_mae / (double)n);
        }
        if (have_gap) {
            METRIC("expected_purchases.gap_renewal.total", gr_total);
            METRIC("expected_purchases.gap_renewal.mae", gr_mae / (double)n);
        }
        if (have_gap && have_bg) {
            METRIC("expected_purchases.gap_renewal_dropout.total", gd_total);
            METRIC("expected_purchases.gap_renewal_dropout.mae", gd_mae / (double)n);
        }
    }
    /* per-row Brier terms (IPCW) for `upfunnel compare` */
    {
        upf_km g;
        if ((st = upf_km_build(te.time, te.event, n, 1, &g, err)) != UPF_OK) goto done;
        double gh = upf_km_eval(&g, H, 0);
        for (size_t i = 0; i < n; i++) {
            double s = surv[i], v = 0.0;
            if (te.time[i] <= H && te.event[i]) v = s * s / upf_km_eval(&g, te.time[i], 1);
            else if (te.time[i] > H && gh > 0.0) v = (1.0 - s) * (1.0 - s) / gh;
            brier_term[i] = v;
        }
        upf_km_free(&g);
        if (p->target != 1 && (st = upf_run_per_user(run, "brier_term", te.user, brier_term, n)) != UPF_OK) {
            upf_err_set(err, st, "per_user: %s", upf_status_str(st));
            goto done;
        }
    }
    {
        upf_sbuf_printf(&csv, "group,rows,predicted,observed\n");
        upf_calib_group cg[1000];
        double e_unused = 0.0;
        size_t G = (size_t)p->calibration_groups;
        if (n >= G && upf_surv_calibration(te.time, te.event, surv, n, H, G, cg, &e_unused, &e2) == UPF_OK)
            for (size_t g = 0; g < G; g++)
                upf_sbuf_printf(&csv, "%zu,%zu,%.6f,%.6f\n", g + 1, cg[g].n, cg[g].predicted, cg[g].observed);
        if ((st = upf_sbuf_artifact(run, "calibration.csv", &csv, err)) != UPF_OK) goto done;
        upf_sbuf_free(&csv);
    }

    /* ---- baselines ---- */
    /* Kaplan-Meier of the training labels: one survival curve for everyone */
    if ((st = upf_km_build(tr.time, tr.event, tr.n, 0, &km, err)) != UPF_OK) goto done;
    double km_h = upf_km_eval(&km, H, 0), e_km = 0.0;
    for (size_t i = 0; i < n; i++) alt_s[i] = km_h;
    for (size_t i = 0; i < n; i++) alt[i] = 0.0;
    if ((st = record_survival(run, "baseline_km.", &te, alt, alt_s, H, (size_t)p->calibration_groups, &e_km, err)) !=
        UPF_OK)
        goto done;
    if (p->target == 2) {
        /* last gap: the next gap as long as the one before it (the customer's
         * mean of the known ones where there is none) */
        double sum = 0.0, cnt = 0.0;
        for (size_t i = 0; i < n; i++)
            if (te.recency[i] >= 0.0) sum += te.recency[i], cnt += 1.0;
        for (size_t i = 0; i < n; i++) alt[i] = te.recency[i] >= 0.0 ? te.recency[i] : cnt > 0.0 ? sum / cnt : 0.0;
        if ((st = record_survival(run, "baseline_last_gap.", &te, alt, alt, H, 0, NULL, err)) != UPF_OK) goto done;
    } else {
        /* recency: longer since the last purchase, longer until the next */
        for (size_t i = 0; i < n; i++) alt[i] = te.recency[i];
        if ((st = record_survival(run, "baseline_recency.", &te, alt, alt, H, 0, NULL, err)) != UPF_OK) goto done;
    }

    /* ---- buy again ---- */
    if (p->target == 1) {
        double d0 = p->buy_again_day;
        size_t K = (size_t)p->buy_again_k, c_since = SIZE_MAX, c_own = SIZE_MAX, c_has = SIZE_MAX,
               c_item = SIZE_MAX, col_count = SIZE_MAX;
        for (size_t j = 0; j < d; j++) {
            if (strcmp(te.names[j], "log_since") == 0) c_since = j;
            if (strcmp(te.names[j], "own_ipi") == 0) c_own = j;
            if (strcmp(te.names[j], "has_own_ipi") == 0) c_has = j;
            if (strcmp(te.names[j], "item_ipi") == 0) c_item = j;
            if (strcmp(te.names[j], "log_count") == 0) col_count = j;
        }
        int have_over = c_since != SIZE_MAX && c_own != SIZE_MAX && c_has != SIZE_MAX && c_item != SIZE_MAX;
        double sigma = exp(theta[d + 1]);
        for (size_t i = 0; i < n; i++) {
            double eta = theta[d];
            for (size_t j = 0; j < d; j++) eta += (double)te.X[i * d + j] * theta[j];
            /* P(rebuy in [d0, d0 + H) | none before d0) = 1 - S(d0 + H) / S(d0) */
            double ls0 = upf_aft_log_survival(dist, eta, sigma, d0), ls1 = upf_aft_log_survival(dist, eta, sigma, d0 + H);
            cond[i] = -expm1(ls1 - ls0);
            double day = floor(te.time[i]);
            relevant[i] = te.event[i] && day >= d0 && day < d0 + H;
        }
        upf_list_metrics lm;
        char path[96];
        const char *names[3] = {"", "baseline_overdue.", "baseline_frequency."};
        for (int b = 0; b < 3; b++) {
            const double *sc = cond;
            if (b == 1) { /* overdue: log((1 + since) / (1 + own interval, else the item's)) */
                for (size_t i = 0; i < n; i++) {
                    const float *r = te.raw + i * d;
                    alt[i] = have_over ? (double)r[c_since] - (double)(r[c_has] > 0.5f ? r[c_own] : r[c_item]) : 0.0;
                }
                sc = alt;
            } else if (b == 2) { /* frequency: how often the customer bought the item */
                for (size_t i = 0; i < n; i++) alt[i] = col_count == SIZE_MAX ? 0.0 : (double)te.raw[i * d + col_count];
                sc = alt;
            }
            if (upf_surv_list_metrics(te.user, sc, relevant, n, K, &lm, &e2) != UPF_OK) break;
            snprintf(path, sizeof path, "%sbuy_again.hit_rate@%zu", names[b], K);
            METRIC(path, lm.hit_rate);
            snprintf(path, sizeof path, "%sbuy_again.recall@%zu", names[b], K);
            METRIC(path, lm.recall);
            snprintf(path, sizeof path, "%sbuy_again.precision@%zu", names[b], K);
            METRIC(path, lm.precision);
            snprintf(path, sizeof path, "%sbuy_again.ndcg@%zu", names[b], K);
            METRIC(path, lm.ndcg);
            if (b == 0) METRIC("buy_again.customers", (double)lm.n_groups);
        }
        /* each customer's list: the top K by the conditional probability, with due dates */
        upf_sbuf_printf(&csv, "customer,rank,item,p_rebuy,due_date,median_days,bought_in_window\n");
        for (size_t i = 0; i < n; i++) alt_s[i] = 0.0; /* 0: not yet listed (selection: lists are short) */
        for (size_t g0 = 0; g0 < n;) {
            size_t g1 = g0;
            while (g1 < n && te.user[g1] == te.user[g0]) g1++;
            for (size_t r = 0; r < K && r < g1 - g0; r++) {
                size_t best = SIZE_MAX;
                for (size_t i = g0; i < g1; i++)
                    if (alt_s[i] == 0.0 && (best == SIZE_MAX || cond[i] > cond[best])) best = i;
                alt_s[best] = 1.0;
                char due[16];
                upf_format_day(C + (int64_t)llround(med[best] * 86400.0), due, sizeof due);
                upf_sbuf_csv_field(&csv, upf_strings_get(&ds->user_ids, (size_t)te.user[best]));
                upf_sbuf_printf(&csv, ",%zu,", r + 1);
                upf_sbuf_csv_field(&csv, upf_strings_get(&ds->item_ids, (size_t)te.item[best]));
                upf_sbuf_printf(&csv, ",%.6f,%s,%.2f,%d\n", cond[best], due, med[best], relevant[best]);
            }
            g0 = g1;
        }
        if ((st = upf_sbuf_artifact(run, "buy_again.csv", &csv, err)) != UPF_OK) goto done;
        upf_sbuf_free(&csv);
    }

    /* ---- artifacts: predictions and coefficients ---- */
    upf_sbuf_printf(&csv, "customer,%stime_days,event,p_no_purchase,median_days,q10_days,q90_days,expected,actual\n",
                    p->target == 1 ? "item," : "");
    for (size_t i = 0; i < n; i++) {
        upf_sbuf_csv_field(&csv, upf_strings_get(&ds->user_ids, (size_t)te.user[i]));
        upf_sbuf_printf(&csv, ",");
        if (p->target == 1) {
            upf_sbuf_csv_field(&csv, upf_strings_get(&ds->item_ids, (size_t)te.item[i]));
            upf_sbuf_printf(&csv, ",");
        }
        upf_sbuf_printf(&csv, "%.1f,%d,%.6f,%.3f,%.3f,%.3f,%.4f,%.0f\n", te.time[i], te.event[i], surv[i], med[i], q10[i],
                        q90[i], expct[i], te.n_h[i]);
    }
    if ((st = upf_sbuf_artifact(run, "predictions.csv", &csv, err)) != UPF_OK) goto done;
    upf_sbuf_free(&csv);
    upf_sbuf_printf(&csv, "feature,center,scale,beta\n");
    for (size_t j = 0; j < d; j++) {
        upf_sbuf_csv_field(&csv, tr.names[j]);
        upf_sbuf_printf(&csv, ",%.9g,%.9g,%.9g\n", center[j], scale[j], theta[j]);
    }
    upf_sbuf_printf(&csv, "(intercept),0,1,%.9g\n(log_sigma),0,1,%.9g\n", theta[d], theta[d + 1]);
    if ((st = upf_sbuf_artifact(run, "coefficients.csv", &csv, err)) != UPF_OK) goto done;

    /* ---- model ---- */
    if (!cfg->export_enabled) goto done;
    if ((st = upf_mw_create(&w, UPF_KIND_LIFETIME_AFT, err)) != UPF_OK) goto done;
    if ((st = upf_mw_meta_str(w, UPF_M_AFT_DIST, upf_aft_dist_name(dist))) ||
        (st = upf_mw_meta_f64_array(w, UPF_M_AFT_BETA, theta, d + 1)) ||
        (st = upf_mw_meta_f64(w, UPF_M_AFT_LOG_SIGMA, theta[d + 1])) ||
        (st = upf_mw_meta_str_array(w, UPF_M_AFT_FEATURES, (const char *const *)tr.names, d)) ||
        (st = upf_mw_meta_f64_array(w, UPF_M_AFT_CENTER, center, d)) ||
        (st = upf_mw_meta_f64_array(w, UPF_M_AFT_SCALE, scale, d)) || (st = upf_mw_meta_f64(w, UPF_M_AFT_HORIZON, H)) ||
        (st = upf_mw_meta_str(w, UPF_M_AFT_TARGET, target_choices[p->target])) ||
        (st = upf_mw_meta_str(w, UPF_M_AFT_TIME_ORIGIN, p->target == 2 ? "last_purchase" : "cutoff")) ||
        (st = upf_mw_meta_f64(w, UPF_M_AFT_WINDOW, W))) {
        upf_err_set(err, st, "model.upf: %s", upf_status_str(st));
        goto done;
    }
    st = upf_run_save_model(run, w, err);
done:
    upf_mw_free(w);
    upf_sbuf_free(&csv);
    upf_km_free(&km);
    upf_lt_features_free(&f);
    rowset_free(&tr);
    rowset_free(&te);
    upf_free(center);
    upf_free(scale);
    upf_free(theta);
    upf_free(scratch);
    upf_free(surv);
    upf_free(med);
    upf_free(q10);
    upf_free(q90);
    upf_free(expct);
    upf_free(brier_term);
    upf_free(alt);
    upf_free(alt_s);
    upf_free(cond);
    upf_free(relevant);
    upf_free(alive);
    upf_free(stay);
    upf_free(gap_eta);
    return st;
}

const upf_family upf_family_aft = {
    "aft",
    "survival AFT (Weibull / log-logistic) of the time to the next purchase, per customer or per customer and "
    "item (buy again): churn risk, interval quantiles, expected purchases",
    aft_keys,
    sizeof(aft_params),
    aft_check,
    aft_run,
};
