/* family_uplift.c - the `uplift` model family: does messaging a user change
 * what they do? On a randomized campaign of the dataset (/campaigns/NAME):
 * the arms' response rates (exact, from all rows), a split of the rows
 * stratified by arm (split.test_frac, split.seed), covariates from user
 * attributes and event histories (uplift_features.h), an uplift model
 * (uplift_model.h: two_model, class_transform or interaction on logistic or
 * linear regression) and two baselines (random scores; a response model
 * that ignores the treatment), evaluated on the held-out rows with
 * bootstrap intervals (uplift_report.h), covariate balance, the truth of a
 * generated campaign when there is one, and the UPF_KIND_UPLIFT export.
 * Artifacts: qini.csv, uplift_curve.csv, deciles.csv, balance.csv,
 * predictions.csv, coefficients.csv, qini.svg, uplift_by_decile.svg.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../datasets/synth.h"
#include "../eval/uplift_metrics.h"
#include "../model/kinds.h"
#include "../model/rng.h"
#include "aft.h"
#include "family.h"
#include "lifetime_report.h"
#include "uplift_features.h"
#include "uplift_glm.h"
#include "uplift_model.h"
#include "uplift_report.h"

typedef struct uplift_params {
    int method;               /* model.method */
    char *campaign;           /* model.campaign ("" = the only one) */
    char *outcome;            /* model.outcome ("" = the first) */
    upf_cfg_strings arms;     /* model.arms (treatment arms; [] = all) */
    int link;                 /* model.link: 0 auto, 1 logistic, 2 linear */
    int user_attrs;           /* features.user_attrs */
    int64_t max_user_attrs;   /* features.max_user_attrs */
    int history;              /* features.history: 0 auto, 1 on, 2 off */
    upf_cfg_doubles windows;  /* features.windows */
    upf_cfg_strings item_fields; /* features.item_fields */
    int optimizer;            /* train.optimizer: 0 adam, 1 newton */
    int64_t epochs;           /* train.epochs */
    int64_t batch_size;       /* train.batch_size */
    double lr;                /* train.lr */
    double l2;                /* train.l2 */
    int64_t bootstrap;        /* eval.bootstrap */
    double ci_level;          /* eval.ci_level */
    upf_cfg_doubles uplift_k; /* eval.uplift_k */
    int64_t bins;             /* eval.bins */
    char *truth;              /* eval.truth */
} uplift_params;

static const char *const method_choices[] = {"two_model", "class_transform", "interaction", NULL};
static const char *const link_choices[] = {"auto", "logistic", "linear", NULL};
static const char *const history_choices[] = {"auto", "on", "off", NULL};
static const char *const optimizer_choices[] = {"adam", "newton", NULL};

#define OFF(f) offsetof(uplift_params, f)

static const upf_cfg_key uplift_keys[] = {
    {"model.method", UPF_CFG_ENUM, OFF(method), 0, 0, "two_model", method_choices,
     "two_model: a response model per arm; class_transform: the propensity-weighted class variable (binary) or the "
     "transformed outcome (continuous); interaction: one model with treatment x feature terms (Lo 2002)",
     0},
    {"model.campaign", UPF_CFG_STRING, OFF(campaign), 0, 0, "\"\"", NULL,
     "the campaign (/campaigns/NAME) to model; empty: the dataset's only campaign", 0},
    {"model.outcome", UPF_CFG_STRING, OFF(outcome), 0, 0, "\"\"", NULL,
     "the outcome to model (visit, conversion, spend, ...); empty: the campaign's first", 0},
    {"model.arms", UPF_CFG_STRING_LIST, OFF(arms), 0, 0, "[]", NULL,
     "treatment arms to model, by name (the control, arm 0, always comes along); []: every arm", 0},
    {"model.link", UPF_CFG_ENUM, OFF(link), 0, 0, "auto", link_choices,
     "logistic regression (0/1 outcomes) or linear regression (continuous); auto: logistic when every value is 0 or 1",
     0},
    {"features.user_attrs", UPF_CFG_BOOL, OFF(user_attrs), 0, 0, "true", NULL,
     "user attributes as covariates: numeric ones as they are, field=value ones as 0/1 columns", 0},
    {"features.max_user_attrs", UPF_CFG_INT, OFF(max_user_attrs), 0, 100000, "64", NULL,
     "at most this many attribute columns, the most common among the campaign's users first", 0},
    {"features.history", UPF_CFG_ENUM, OFF(history), 0, 0, "auto", history_choices,
     "event-history covariates (recency, frequency, spend, activity windows, ...) at the send time, from events "
     "before it; auto: when the campaign has a send time and its users have events",
     0},
    {"features.windows", UPF_CFG_DOUBLE_LIST, OFF(windows), 0, 3650, "[7, 30, 90]", NULL,
     "history: activity windows in days (at most 8)", UPF_CFG_MIN_EXCL},
    {"features.item_fields", UPF_CFG_STRING_LIST, OFF(item_fields), 0, 0, "[]", NULL,
     "item attribute fields with numeric values (price_band=3): per field the mean over the items each user bought, "
     "and over those viewed or carted, before the send (price sensitivity for a coupon); needs a send time",
     0},
    {"train.optimizer", UPF_CFG_ENUM, OFF(optimizer), 0, 0, "adam", optimizer_choices,
     "adam: mini-batch Adam with BLAS-scored batches; newton: full-batch Newton/IRLS to the exact optimum (small d)",
     0},
    {"train.epochs", UPF_CFG_INT, OFF(epochs), 1, 100000, "20", NULL, "adam: passes over each model's rows", 0},
    {"train.batch_size", UPF_CFG_INT, OFF(batch_size), 1, 1e7, "512", NULL, "adam: rows per mini-batch", 0},
    {"train.lr", UPF_CFG_DOUBLE, OFF(lr), 0, 10, "0.05", NULL, "adam: step size, decayed as lr / sqrt(1 + epoch)",
     UPF_CFG_MIN_EXCL},
    {"train.l2", UPF_CFG_DOUBLE, OFF(l2), 0, 1e6, "0.0001", NULL,
     "ridge penalty (l2/2) sum beta_j^2 on the standardized feature weights (not the intercepts), the loss being a mean "
     "over rows",
     0},
    {"eval.bootstrap", UPF_CFG_INT, OFF(bootstrap), 0, 100000, "200", NULL,
     "bootstrap replicates (held-out rows resampled within each arm) behind every interval; 0: none", 0},
    {"eval.ci_level", UPF_CFG_DOUBLE, OFF(ci_level), 0, 1, "0.95", NULL, "confidence level of the percentile intervals",
     UPF_CFG_MIN_EXCL | UPF_CFG_MAX_EXCL},
    {"eval.uplift_k", UPF_CFG_DOUBLE_LIST, OFF(uplift_k), 0, 1, "[0.1, 0.2, 0.3]", NULL,
     "uplift@k: fractions of the held-out users targeted (at most 8)", UPF_CFG_MIN_EXCL},
    {"eval.bins", UPF_CFG_INT, OFF(bins), 0, 1000, "10", NULL,
     "uplift by bin of predicted uplift (10: deciles) with standard errors; 0: none", 0},
    {"eval.truth", UPF_CFG_STRING, OFF(truth), 0, 0, "\"\"", NULL,
     "a generated campaign's truth file (upfunnel data synth: OUT.truth.h5) to compare estimated with true uplift; "
     "empty: next to data.path, or regenerated for data.source synth",
     0},
    {NULL, UPF_CFG_NONE, 0, 0, 0, NULL, NULL, NULL, 0},
};

static upf_status uplift_check(const void *vp, const upf_config *cfg, upf_err *err)
{
    const uplift_params *p = vp;
    if (cfg->split_kind + 1 != UPF_SPLIT_RANDOM)
        return upf_err_set(err, UPF_ERR_CONFIG,
                           "split.kind: expected random (the uplift family splits the campaign's rows at random "
                           "within each arm), got %s",
                           upf_split_kind_name((upf_split_kind)(cfg->split_kind + 1)));
    if (p->uplift_k.n > UPF_UPLIFT_MAX_K)
        return upf_err_set(err, UPF_ERR_CONFIG, "eval.uplift_k: expected at most %d cut-offs, got %zu", UPF_UPLIFT_MAX_K,
                           p->uplift_k.n);
    if (p->windows.n > 8)
        return upf_err_set(err, UPF_ERR_CONFIG, "features.windows: expected at most 8 windows, got %zu", p->windows.n);
    return UPF_OK;
}

/* ---- helpers ---- */

#define METRIC(path, v)                                                                                          \
    do {                                                                                                         \
        if ((st = upf_run_metric(run, (path), (v))) != UPF_OK) {                                                 \
            upf_err_set(err, st, "metrics: %s: %s", (path), upf_status_str(st));                                 \
            goto done;                                                                                           \
        }                                                                                                        \
    } while (0)

typedef struct epoch_ctx {
    upf_run *run;
    size_t epochs;
} epoch_ctx;

static upf_status on_epoch(void *vctx, size_t row, size_t epoch, double obj, upf_err *err)
{
    epoch_ctx *c = vctx;
    static const char *const cols[3] = {"model_row", "epoch", "train_loss"};
    double v[3] = {(double)row, (double)(epoch + 1), obj};
    upf_status st = upf_run_curve(c->run, cols, v, 3);
    if (st != UPF_OK) return upf_err_set(err, st, "curves.csv: %s", upf_status_str(st));
    upf_run_progress(c->run, "uplift fit", (double)(epoch + 1), (double)c->epochs, "epoch");
    return UPF_OK;
}

/* The truth of a generated campaign: from eval.truth, the file next to
 * data.path, or by regenerating data.source synth. NULL (and a log line)
 * when there is none or it does not match the dataset. */
static upf_synth_truth *load_truth(upf_run *run, const uplift_params *p, const upf_campaign *c)
{
    const upf_config *cfg = upf_run_config(run);
    const upf_dataset *ds = upf_run_dataset(run);
    upf_synth_truth *t = NULL;
    upf_err e;
    char path[4096] = "";
    if (p->truth[0]) {
        snprintf(path, sizeof path, "%s", p->truth);
    } else if (cfg->data_source == 1) {
        if (strcmp(c->name, "synth") != 0) return NULL;
        upf_synth_params sp = upf_synth_params_default();
        sp.n_users = (uint64_t)cfg->data_synth_users;
        sp.n_items = (uint64_t)cfg->data_synth_items;
        sp.seed = (uint64_t)cfg->data_synth_seed;
        if (sp.n_categories > sp.n_items) sp.n_categories = (uint32_t)sp.n_items;
        upf_dataset *again = NULL;
        upf_log(UPF_LOG_INFO, "uplift: regenerating the synthetic shop for its truth");
        if (upf_synth_generate(&sp, &again, &t, &e) != UPF_OK) {
            upf_log(UPF_LOG_WARN, "uplift: no truth: %s", e.msg);
            return NULL;
        }
        upf_dataset_free(again);
    } else {
        const char *dp = cfg->data_path;
        size_t L = strlen(dp);
        if (L > 3 && strcmp(dp + L - 3, ".h5") == 0) snprintf(path, sizeof path, "%.*s.truth.h5", (int)(L - 3), dp);
        if (!path[0] || access(path, R_OK) != 0) return NULL;
    }
    if (!t && upf_synth_truth_read(path, &t, &e) != UPF_OK) {
        upf_log(UPF_LOG_WARN, "uplift: eval.truth %s: %s", path, e.msg);
        return NULL;
    }
    int ok = t->n_users == ds->n_users && t->n_arms == c->arm_names.n && t->user_arm;
    for (size_t i = 0; ok && i < c->n; i++) ok = t->user_arm[c->user[i]] == c->arm[i];
    if (!ok) {
        upf_log(UPF_LOG_WARN, "uplift: the truth %s does not describe this campaign; no comparison with the truth",
                path[0] ? path : "(regenerated)");
        upf_synth_truth_free(t);
        return NULL;
    }
    upf_log(UPF_LOG_INFO, "uplift: comparing with the planted truth%s%s", path[0] ? " in " : "", path);
    return t;
}

static double pearson(const double *a, const double *b, size_t n)
{
    double ma = 0, mb = 0, saa = 0, sbb = 0, sab = 0;
    for (size_t i = 0; i < n; i++) {
        ma += a[i];
        mb += b[i];
    }
    ma /= (double)n;
    mb /= (double)n;
    for (size_t i = 0; i < n; i++) {
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
        sab += (a[i] - ma) * (b[i] - mb);
    }
    return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : (double)NAN;
}

/* ---- the run ---- */

static upf_status uplift_run(upf_run *run, const void *vp, upf_err *err)
{
    const uplift_params *p = vp;
    const upf_dataset *ds = upf_run_dataset(run);
    const upf_config *cfg = upf_run_config(run);
    upf_status st = UPF_OK;
    const upf_campaign *c = NULL;
    upf_uplift_features feat;
    upf_uplift_model model, resp_model;
    upf_synth_truth *truth = NULL;
    memset(&feat, 0, sizeof feat);
    memset(&model, 0, sizeof model);
    memset(&resp_model, 0, sizeof resp_model);
    size_t *rows = NULL, *perm = NULL;
    uint8_t *is_test = NULL;
    int16_t *arm_all = NULL, *arm_tr = NULL, *arm_te = NULL, *amap = NULL;
    float *y_tr = NULL, *X_tr = NULL, *X_te = NULL, *prop_tr = NULL;
    double *y_te = NULL, *up = NULL, *up_resp = NULL, *up_rand = NULL, *resp = NULL, *scr = NULL, *center = NULL,
           *scale = NULL;
    int32_t *users = NULL;
    char **arm_names = NULL, **arm_paths = NULL;
    float *wts = NULL;
    upf_sbuf csv = {NULL, 0, 0, 0};
    upf_mw *w = NULL;
    size_t A0 = 0;

    /* ---- the campaign, outcome, arms ---- */
    if (ds->n_campaigns == 0) {
        st = upf_err_set(err, UPF_ERR_DATA, "uplift: the dataset has no campaign (import one with `upfunnel data import "
                                            "--preset hillstrom` or `--campaign`, or generate one with `data synth`)");
        goto done;
    }
    if (p->campaign[0]) {
        for (size_t i = 0; i < ds->n_campaigns; i++)
            if (strcmp(ds->campaigns[i].name, p->campaign) == 0) c = &ds->campaigns[i];
        if (!c) {
            char list[512] = "";
            for (size_t i = 0; i < ds->n_campaigns; i++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", ds->campaigns[i].name);
            st = upf_err_set(err, UPF_ERR_CONFIG, "model.campaign: no campaign %s in the dataset (it has: %s)", p->campaign,
                             list);
            goto done;
        }
    } else if (ds->n_campaigns == 1) {
        c = &ds->campaigns[0];
    } else {
        st = upf_err_set(err, UPF_ERR_CONFIG, "model.campaign: the dataset has %zu campaigns; name one", ds->n_campaigns);
        goto done;
    }
    size_t oi = 0;
    if (p->outcome[0]) {
        oi = SIZE_MAX;
        for (size_t j = 0; j < c->n_outcomes; j++)
            if (strcmp(c->outcome_names[j], p->outcome) == 0) oi = j;
        if (oi == SIZE_MAX) {
            char list[512] = "";
            for (size_t j = 0; j < c->n_outcomes; j++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", j ? ", " : "", c->outcome_names[j]);
            st = upf_err_set(err, UPF_ERR_CONFIG, "model.outcome: campaign %s has no outcome %s (it has: %s)", c->name,
                             p->outcome, list);
            goto done;
        }
    }
    if (c->n_outcomes == 0 || c->n == 0) {
        st = upf_err_set(err, UPF_ERR_DATA, "uplift: campaign %s has no %s", c->name, c->n ? "outcome" : "rows");
        goto done;
    }
    const char *oname = c->outcome_names[oi];
    const float *Y = c->outcome[oi];
    A0 = c->arm_names.n;
    /* arm map: dataset arm -> model arm (0 control, 1.. the selected treatments), -1 dropped */
    amap = upf_malloc(A0 * sizeof *amap);
    arm_names = upf_calloc(A0, sizeof *arm_names);
    arm_paths = upf_calloc(A0, sizeof *arm_paths);
    if (!amap || !arm_names || !arm_paths) goto nomem;
    size_t A = 1;
    amap[0] = 0;
    arm_names[0] = (char *)upf_strings_get(&c->arm_names, 0);
    for (size_t a = 1; a < A0; a++) {
        const char *nm = upf_strings_get(&c->arm_names, a);
        int take = p->arms.n == 0;
        for (size_t j = 0; j < p->arms.n; j++) take |= strcmp(p->arms.v[j], nm) == 0;
        amap[a] = take ? (int16_t)A : -1;
        if (take) arm_names[A++] = (char *)nm;
    }
    for (size_t j = 0; j < p->arms.n; j++) {
        int found = 0;
        for (size_t a = 1; a < A0; a++) found |= strcmp(p->arms.v[j], upf_strings_get(&c->arm_names, a)) == 0;
        if (!found) {
            st = upf_err_set(err, UPF_ERR_CONFIG, "model.arms: campaign %s has no treatment arm %s", c->name, p->arms.v[j]);
            goto done;
        }
    }
    if (A < 2 || A > 16) {
        st = upf_err_set(err, UPF_ERR_DATA, "uplift: campaign %s: %zu arms with the control (expected 2..16)", c->name, A);
        goto done;
    }
    for (size_t a = 0; a < A; a++) {
        char buf[128];
        upf_ur_sanitize(arm_names[a], buf, sizeof buf);
        if (!(arm_paths[a] = upf_strdup(buf))) goto nomem;
    }

    /* ---- response rates per arm, every outcome, exactly from the rows ---- */
    {
        for (size_t a = 0; a < A0; a++) {
            size_t na = 0;
            for (size_t i = 0; i < c->n; i++) na += (size_t)c->arm[i] == a;
            char path[256], ap[128], line[1024];
            upf_ur_sanitize(upf_strings_get(&c->arm_names, a), ap, sizeof ap);
            snprintf(path, sizeof path, "response.%s.users", ap);
            METRIC(path, (double)na);
            int off = snprintf(line, sizeof line, "uplift: campaign %s, arm %s%s: %zu users", c->name,
                               upf_strings_get(&c->arm_names, a), a == 0 ? " (control)" : "", na);
            for (size_t j = 0; j < c->n_outcomes; j++) {
                double s = 0.0;
                for (size_t i = 0; i < c->n; i++)
                    if ((size_t)c->arm[i] == a) s += (double)c->outcome[j][i];
                double rate = na ? s / (double)na : (double)NAN;
                snprintf(path, sizeof path, "response.%s.%s", ap, c->outcome_names[j]);
                METRIC(path, rate);
                if (off > 0 && (size_t)off < sizeof line)
                    off += snprintf(line + off, sizeof line - (size_t)off, ", %s %.6f", c->outcome_names[j], rate);
            }
            upf_log(UPF_LOG_INFO, "%s", line);
        }
    }

    /* ---- link ---- */
    int binary = 1;
    for (size_t i = 0; i < c->n && binary; i++) binary = Y[i] == 0.0f || Y[i] == 1.0f;
    int link = p->link == 1 ? UPF_GLM_LOGISTIC : p->link == 2 ? UPF_GLM_LINEAR : binary ? UPF_GLM_LOGISTIC : UPF_GLM_LINEAR;
    if (link == UPF_GLM_LOGISTIC && !binary) {
        st = upf_err_set(err, UPF_ERR_CONFIG, "model.link: logistic needs a 0/1 outcome, %s has other values", oname);
        goto done;
    }

    /* ---- rows kept and the split, stratified by arm ---- */
    size_t n = 0;
    rows = upf_malloc(c->n * sizeof *rows);
    perm = upf_malloc(c->n * sizeof *perm);
    is_test = upf_calloc(c->n, 1);
    arm_all = upf_malloc(c->n * sizeof *arm_all);
    users = upf_malloc(c->n * sizeof *users);
    if (!rows || !perm || !is_test || !arm_all || !users) goto nomem;
    for (size_t i = 0; i < c->n; i++)
        if (c->arm[i] >= 0 && (size_t)c->arm[i] < A0 && amap[c->arm[i]] >= 0) {
            rows[n] = i;
            arm_all[n] = amap[c->arm[i]];
            users[n] = c->user[i];
            n++;
        }
    size_t n_te = 0, n_tr = 0;
    {
        upf_rng rng;
        upf_rng_seed(&rng, (uint64_t)cfg->split_seed, 0x53504c54u /* "SPLT" */);
        for (size_t a = 0; a < A; a++) {
            size_t m = 0;
            for (size_t r = 0; r < n; r++)
                if ((size_t)arm_all[r] == a) perm[m++] = r;
            for (size_t i = m; i > 1; i--) { /* Fisher-Yates */
                size_t j = (size_t)upf_rng_below64(&rng, i), t = perm[i - 1];
                perm[i - 1] = perm[j];
                perm[j] = t;
            }
            size_t mt = (size_t)llround(cfg->split_test_frac * (double)m);
            if (m >= 2 && mt == 0) mt = 1;
            if (mt >= m && m >= 2) mt = m - 1;
            for (size_t j = 0; j < mt; j++) is_test[perm[j]] = 1;
        }
        for (size_t r = 0; r < n; r++) n_te += is_test[r];
        n_tr = n - n_te;
    }
    upf_log(UPF_LOG_INFO, "uplift: outcome %s (%s), %zu arms, %zu rows: %zu training, %zu held out (stratified by arm)",
            oname, link == UPF_GLM_LOGISTIC ? "logistic" : "linear", A, n, n_tr, n_te);
    if (n_tr == 0 || n_te == 0) {
        st = upf_err_set(err, UPF_ERR_DATA, "uplift: campaign %s is too small to split (%zu rows)", c->name, n);
        goto done;
    }

    /* ---- covariates ---- */
    {
        upf_uplift_feature_params fp = upf_uplift_feature_params_default();
        fp.user_attrs = p->user_attrs;
        fp.max_user_attrs = (size_t)p->max_user_attrs;
        fp.history = p->history == 0 ? 2 : p->history == 1 ? 1 : 0;
        fp.n_windows = p->windows.n;
        for (size_t j = 0; j < p->windows.n; j++) fp.windows_days[j] = p->windows.v[j];
        fp.item_fields = (const char *const *)p->item_fields.v;
        fp.n_item_fields = p->item_fields.n;
        fp.cutoff = UPF_TIME_MISSING;
        if (c->time)
            for (size_t r = 0; r < n; r++) {
                int64_t t = c->time[rows[r]];
                if (t != UPF_TIME_MISSING && (fp.cutoff == UPF_TIME_MISSING || t < fp.cutoff)) fp.cutoff = t;
            }
        if ((st = upf_uplift_features_build(ds, users, n, &fp, &feat, err))) goto done;
    }
    size_t d = feat.d;
    upf_log(UPF_LOG_INFO, "uplift: %zu covariates", d);
    if (d == 0) upf_log(UPF_LOG_WARN, "uplift: no covariates: every user gets the same predicted uplift");
    size_t cells_tr = 0, cells_te = 0;
    if (upf_mul_size(n_tr, d ? d : 1, &cells_tr) || upf_mul_size(n_te, d ? d : 1, &cells_te)) {
        st = upf_err_set(err, UPF_ERR_ARG, "uplift: too many rows");
        goto done;
    }
    X_tr = upf_malloc(cells_tr * sizeof *X_tr);
    X_te = upf_malloc(cells_te * sizeof *X_te);
    y_tr = upf_malloc(n_tr * sizeof *y_tr);
    y_te = upf_malloc(n_te * sizeof *y_te);
    arm_tr = upf_malloc(n_tr * sizeof *arm_tr);
    arm_te = upf_malloc(n_te * sizeof *arm_te);
    prop_tr = c->propensity ? upf_malloc(n_tr * sizeof *prop_tr) : NULL;
    center = upf_malloc((d ? d : 1) * sizeof *center);
    scale = upf_malloc((d ? d : 1) * sizeof *scale);
    if (!X_tr || !X_te || !y_tr || !y_te || !arm_tr || !arm_te || (c->propensity && !prop_tr) || !center || !scale)
        goto nomem;
    {
        size_t a = 0, b = 0;
        for (size_t r = 0; r < n; r++) {
            const float *x = feat.X + r * d;
            float yv = Y[rows[r]];
            if (is_test[r]) {
                if (d) memcpy(X_te + b * d, x, d * sizeof *x);
                y_te[b] = (double)yv;
                arm_te[b++] = arm_all[r];
            } else {
                if (d) memcpy(X_tr + a * d, x, d * sizeof *x);
                y_tr[a] = yv;
                if (prop_tr) prop_tr[a] = isfinite(c->propensity[rows[r]]) ? c->propensity[rows[r]] : 0.0f;
                arm_tr[a++] = arm_all[r];
            }
        }
    }
    if (prop_tr) { /* only a complete propensity column is used */
        int complete = 1;
        for (size_t r = 0; r < n && complete; r++) complete = isfinite(c->propensity[rows[r]]) && c->propensity[rows[r]] > 0.0f;
        if (!complete) {
            upf_free(prop_tr);
            prop_tr = NULL;
        }
    }
    upf_aft_standardize(X_tr, n_tr, d, center, scale);
    upf_aft_apply_standardize(X_te, n_te, d, center, scale);
    upf_aft_apply_standardize(feat.X, n, d, center, scale); /* for the balance checks */

    /* ---- the model and the response baseline ---- */
    upf_uplift_fit_params fp;
    memset(&fp, 0, sizeof fp);
    fp.method = p->method;
    fp.optimizer = p->optimizer;
    fp.glm = upf_glm_params_default();
    fp.glm.link = link;
    fp.glm.l2 = p->l2;
    fp.glm.epochs = (size_t)p->epochs;
    fp.glm.batch = (size_t)p->batch_size;
    fp.glm.lr = p->lr;
    fp.glm.seed = upf_run_seed(run);
    upf_uplift_rows UR = {n_tr, d, A, X_tr, arm_tr, y_tr, prop_tr};
    epoch_ctx ec = {run, (size_t)p->epochs};
    upf_log(UPF_LOG_INFO, "uplift: fitting %s (%s)", upf_uplift_method_name(p->method), optimizer_choices[p->optimizer]);
    if ((st = upf_uplift_fit(&UR, &fp, p->optimizer == 0 ? on_epoch : NULL, &ec, &model, err))) goto done;
    {
        /* response baseline: one model of y on x over all arms, the treatment ignored;
         * its prediction is the score of every arm */
        upf_glm_params gp = fp.glm;
        upf_glm_data D = {n_tr, d, X_tr, y_tr, NULL};
        double *th = upf_calloc(d + 1, sizeof *th);
        if (!th) goto nomem;
        upf_glm_fit_info info;
        st = p->optimizer == 1 ? upf_glm_fit_newton(&D, &gp, th, &info, err)
                               : upf_glm_fit_adam(&D, &gp, th, NULL, NULL, &info, err);
        if (st) {
            upf_free(th);
            upf_err_prefix(err, "uplift: response baseline");
            goto done;
        }
        resp_model.theta = th;
        resp_model.d = d;
        resp_model.link = link;
    }
    up = upf_malloc(n_te * A * sizeof *up);
    up_resp = upf_malloc(n_te * A * sizeof *up_resp);
    up_rand = upf_malloc(n_te * A * sizeof *up_rand);
    resp = upf_malloc(n_te * A * sizeof *resp);
    scr = upf_malloc(2 * (n_te > n ? n_te : n) * sizeof *scr);
    if (!up || !up_resp || !up_rand || !resp || !scr) goto nomem;
    upf_uplift_predict(&model, X_te, n_te, resp, up, scr);
    upf_glm_predict(link, n_te, d, X_te, resp_model.theta, scr, scr + n_te);
    {
        upf_rng rng;
        upf_rng_seed(&rng, upf_run_seed(run), 0x524e4431u /* "RND1" */);
        for (size_t i = 0; i < n_te; i++)
            for (size_t a = 0; a < A; a++) {
                up_resp[i * A + a] = a ? scr[n_te + i] : 0.0;
                up_rand[i * A + a] = a ? upf_rng_uniform(&rng) : 0.0;
            }
    }

    /* ---- evaluation ---- */
    upf_ur_params rp;
    memset(&rp, 0, sizeof rp);
    rp.bootstrap = (size_t)p->bootstrap;
    rp.level = p->ci_level;
    rp.n_k = p->uplift_k.n;
    for (size_t j = 0; j < rp.n_k; j++) rp.k[j] = p->uplift_k.v[j];
    rp.bins = (size_t)p->bins;
    rp.seed = upf_run_seed(run);
    rp.outcome = oname;
    {
        upf_ur_rows RR = {n_te, A, arm_te, y_te, (const char *const *)arm_names};
        upf_ur_model models[3] = {{"", up}, {"response", up_resp}, {"random", up_rand}};
        if ((st = upf_ur_evaluate(run, &RR, models, 3, &rp, err))) goto done;
        double q = NAN, lo = NAN, hi = NAN;
        upf_run_metric_get(run, "qini_coefficient", &q);
        upf_run_metric_get(run, "qini_coefficient_ci.ci_low", &lo);
        upf_run_metric_get(run, "qini_coefficient_ci.ci_high", &hi);
        upf_log(UPF_LOG_INFO, "uplift: held-out Qini coefficient %.4f [%.4f, %.4f] (mean over %zu treatment arm%s)", q, lo,
                hi, A - 1, A > 2 ? "s" : "");
        for (size_t a = 1; a < A; a++) {
            char path[256];
            snprintf(path, sizeof path, "by_arm.%s.qini_coefficient", arm_paths[a]);
            upf_run_metric_get(run, path, &q);
            snprintf(path, sizeof path, "by_arm.%s.qini_coefficient_ci.ci_low", arm_paths[a]);
            upf_run_metric_get(run, path, &lo);
            snprintf(path, sizeof path, "by_arm.%s.qini_coefficient_ci.ci_high", arm_paths[a]);
            upf_run_metric_get(run, path, &hi);
            upf_log(UPF_LOG_INFO, "uplift:   %s: Qini coefficient %.4f [%.4f, %.4f]", arm_names[a], q, lo, hi);
        }
    }
    METRIC("train.rows", (double)n_tr);
    METRIC("test.rows", (double)n_te);
    METRIC("train.features", (double)d);
    if (model.method == UPF_UPLIFT_M_CLASS_TRANSFORM)
        for (size_t a = 1; a < A; a++) {
            char path[256];
            snprintf(path, sizeof path, "train.assignment_probability.%s", arm_paths[a]);
            METRIC(path, model.e[a]);
        }
    if ((st = upf_ur_balance(run, feat.X, n, d, (const char *const *)feat.names, arm_all, is_test, A,
                             (const char *const *)arm_names, &rp, err)))
        goto done;

    /* ---- the truth of a generated campaign ---- */
    truth = load_truth(run, p, c);
    if (truth) {
        const float *tv = strcmp(oname, "conversion") == 0 ? truth->user_conv_prob
                          : strcmp(oname, "revenue") == 0  ? truth->user_revenue_mean
                                                           : NULL;
        if (!tv) upf_log(UPF_LOG_WARN, "uplift: the truth has no expectation of outcome %s", oname);
        double *te_true = upf_malloc(n_te * sizeof *te_true), *te_est = upf_malloc(n_te * sizeof *te_est);
        if (!te_true || !te_est) {
            upf_free(te_true);
            upf_free(te_est);
            goto nomem;
        }
        size_t TA = truth->n_arms;
        for (size_t a = 1; tv && a < A; a++) {
            size_t ta = 0; /* the dataset arm of model arm a */
            for (size_t k = 0; k < A0; k++)
                if (amap[k] == (int16_t)a) ta = k;
            size_t m = 0, b = 0;
            double mt = 0, me = 0, sq = 0;
            for (size_t r = 0; r < n; r++) {
                if (!is_test[r]) continue;
                size_t u = (size_t)users[r];
                double tau = (double)tv[u * TA + ta] - (double)tv[u * TA];
                te_true[m] = tau;
                te_est[m] = up[b * A + a];
                mt += tau;
                me += te_est[m];
                sq += (te_est[m] - tau) * (te_est[m] - tau);
                m++;
                b++;
            }
            char path[256];
            snprintf(path, sizeof path, "truth.%s.true_mean_uplift", arm_paths[a]);
            METRIC(path, mt / (double)m);
            snprintf(path, sizeof path, "truth.%s.estimated_mean_uplift", arm_paths[a]);
            METRIC(path, me / (double)m);
            snprintf(path, sizeof path, "truth.%s.corr", arm_paths[a]);
            double r_ = pearson(te_est, te_true, m);
            METRIC(path, r_);
            snprintf(path, sizeof path, "truth.%s.rmse", arm_paths[a]);
            METRIC(path, sqrt(sq / (double)m));
            /* the true uplift of the users the model ranks in its top 30% */
            double *key = upf_malloc(m * sizeof *key);
            if (!key) {
                upf_free(te_true);
                upf_free(te_est);
                goto nomem;
            }
            memcpy(key, te_est, m * sizeof *key);
            double lo_q, hi_q;
            upf_percentile_ci(key, m, 0.4, &lo_q, &hi_q); /* hi_q: the 70th percentile of the estimates */
            upf_free(key);
            double top = 0, ntop = 0;
            for (size_t i = 0; i < m; i++)
                if (te_est[i] >= hi_q) {
                    top += te_true[i];
                    ntop += 1;
                }
            snprintf(path, sizeof path, "truth.%s.true_uplift_top30", arm_paths[a]);
            METRIC(path, ntop > 0 ? top / ntop : (double)NAN);
            upf_log(UPF_LOG_INFO,
                    "uplift: truth %s: true mean uplift %.4f, estimated %.4f; corr(estimated, true CATE) %.3f, RMSE "
                    "%.4f; true uplift of the model's top 30%%: %.4f",
                    arm_names[a], mt / (double)m, me / (double)m, r_, sqrt(sq / (double)m), ntop > 0 ? top / ntop : (double)NAN);
        }
        upf_free(te_true);
        upf_free(te_est);
    }

    /* ---- artifacts: predictions and coefficients ---- */
    {
        int16_t *best = upf_malloc(n_te * sizeof *best);
        if (!best) goto nomem;
        upf_uplift_best_arm(up, n_te, A, best);
        upf_sbuf_printf(&csv, "user,arm,%s", oname);
        for (size_t a = 1; a < A; a++) {
            upf_sbuf_printf(&csv, ",");
            char h[200];
            snprintf(h, sizeof h, "uplift_%s", arm_names[a]);
            upf_sbuf_csv_field(&csv, h);
        }
        upf_sbuf_printf(&csv, ",best_arm\n");
        size_t b = 0;
        for (size_t r = 0; r < n; r++) {
            if (!is_test[r]) continue;
            upf_sbuf_csv_field(&csv, upf_strings_get(&ds->user_ids, (size_t)users[r]));
            upf_sbuf_printf(&csv, ",");
            upf_sbuf_csv_field(&csv, arm_names[arm_te[b]]);
            upf_sbuf_printf(&csv, ",%.9g", y_te[b]);
            for (size_t a = 1; a < A; a++) upf_sbuf_printf(&csv, ",%.6g", up[b * A + a]);
            upf_sbuf_printf(&csv, ",");
            upf_sbuf_csv_field(&csv, arm_names[best[b]]);
            upf_sbuf_printf(&csv, "\n");
            b++;
        }
        upf_free(best);
        if ((st = upf_sbuf_artifact(run, "predictions.csv", &csv, err))) goto done;
        upf_sbuf_free(&csv);
        upf_sbuf_printf(&csv, "row,feature,center,scale,weight\n");
        for (size_t k = 0; k < model.n_rows; k++)
            for (size_t j = 0; j <= d; j++) {
                upf_sbuf_printf(&csv, "%zu,", k);
                upf_sbuf_csv_field(&csv, j < d ? feat.names[j] : "(intercept)");
                upf_sbuf_printf(&csv, ",%.9g,%.9g,%.9g\n", j < d ? center[j] : 0.0, j < d ? scale[j] : 1.0,
                                model.theta[k * (d + 1) + j]);
            }
        if ((st = upf_sbuf_artifact(run, "coefficients.csv", &csv, err))) goto done;
        upf_sbuf_free(&csv);
    }

    /* ---- the model file ---- */
    if (!cfg->export_enabled) goto done;
    wts = upf_malloc(model.n_rows * (d + 1) * sizeof *wts);
    if (!wts) goto nomem;
    for (size_t j = 0; j < model.n_rows * (d + 1); j++) wts[j] = (float)model.theta[j];
    if ((st = upf_mw_create(&w, UPF_KIND_UPLIFT, err))) goto done;
    {
        uint64_t dims[2] = {model.n_rows, d + 1};
        if ((st = upf_mw_meta_str(w, UPF_M_UPLIFT_METHOD, upf_uplift_method_name(model.method))) ||
            (st = upf_mw_meta_str_array(w, UPF_M_UPLIFT_ARMS, (const char *const *)arm_names, A)) ||
            (st = upf_mw_meta_str(w, UPF_M_UPLIFT_OUTCOME, oname)) ||
            (st = upf_mw_meta_str_array(w, UPF_M_AFT_FEATURES, (const char *const *)feat.names, d)) ||
            (st = upf_mw_meta_f64_array(w, UPF_M_AFT_CENTER, center, d)) ||
            (st = upf_mw_meta_f64_array(w, UPF_M_AFT_SCALE, scale, d)) ||
            (st = upf_mw_tensor_f32(w, UPF_T_UPLIFT_WEIGHTS, wts, 2, dims, UPF_DTYPE_F32))) {
            upf_err_set(err, st, "model.upf: %s", upf_status_str(st));
            goto done;
        }
        if (link == UPF_GLM_LINEAR &&
            ((st = upf_mw_meta_str(w, UPF_M_UPLIFT_LINK, "identity")) ||
             (st = upf_mw_meta_set_flags(w, UPF_M_UPLIFT_LINK, UPF_META_CRITICAL)))) {
            upf_err_set(err, st, "model.upf: %s", upf_status_str(st));
            goto done;
        }
    }
    st = upf_run_save_model(run, w, err);
    goto done;
nomem:
    st = upf_err_set(err, UPF_ERR_NOMEM, "uplift: out of memory");
done:
    upf_mw_free(w);
    upf_sbuf_free(&csv);
    upf_uplift_features_free(&feat);
    upf_uplift_model_free(&model);
    upf_free(resp_model.theta);
    upf_synth_truth_free(truth);
    upf_free(rows);
    upf_free(perm);
    upf_free(is_test);
    upf_free(arm_all);
    upf_free(arm_tr);
    upf_free(arm_te);
    upf_free(amap);
    upf_free(y_tr);
    upf_free(X_tr);
    upf_free(X_te);
    upf_free(prop_tr);
    upf_free(y_te);
    upf_free(up);
    upf_free(up_resp);
    upf_free(up_rand);
    upf_free(resp);
    upf_free(scr);
    upf_free(center);
    upf_free(scale);
    upf_free(users);
    upf_free(wts);
    upf_free(arm_names);
    for (size_t a = 0; arm_paths && a < A0; a++) upf_free(arm_paths[a]);
    upf_free(arm_paths);
    return st;
}

const upf_family upf_family_uplift = {
    "uplift",
    "uplift models on a randomized campaign (two-model, class transformation, treatment interactions) with Qini/AUUC "
    "and bootstrap intervals on held-out users",
    uplift_keys,
    sizeof(uplift_params),
    uplift_check,
    uplift_run,
};
