/* trigger_models.c - trains the models a trigger plan uses on the events
 * before a cutoff (contracts in trigger_models.h): the ranker, the win-back
 * churn model (Weibull AFT on user features, or BG/NBD), item repurchase
 * gaps, per-trigger uplift from logged messages. Logs, never prints.
 * Entry points: upf_trig_models_train / _free and the scorers.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../datasets/interactions.h"
#include "aft.h"
#include "btyd.h"
#include "lifetime_features.h"
#include "ranker_train.h"
#include "trigger_models.h"

#define DAY UPF_TRIG_DAY
#define POOL_DAYS 30

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int64_t day_of(int64_t t) { return t >= 0 ? t / DAY : -((-t + DAY - 1) / DAY); }

upf_trig_model_params upf_trig_model_params_default(void)
{
    upf_trig_model_params p;
    memset(&p, 0, sizeof p);
    p.use_ranker = 1;
    p.ranker_dim = 32;
    p.ranker_epochs = 20;
    p.ranker_lr = 0.01;
    p.ranker_l2 = 1e-4;
    p.use_bgnbd = 1;
    p.use_uplift = 1;
    p.uplift_min_rows = 100;
    p.attribution_days = 7;
    p.pool_size = 500;
    p.retrain_days = 7;
    p.use_buy_again_aft = 0;
    p.buy_again_window_days = 60;
    p.use_winback_aft = 1;
    p.winback_window_days = 30;
    p.seed = 1;
    return p;
}

void upf_trig_models_free(upf_trig_models *m)
{
    if (!m) return;
    upf_ranker_model_free(m->ranker);
    upf_free(m->item_vec), upf_free(m->item_bias), upf_free(m->pool);
    upf_free(m->bg_x), upf_free(m->bg_tx), upf_free(m->bg_T), upf_free(m->wb_eta);
    upf_free(m->item_gap_days);
    upf_free(m->ba_ptr), upf_free(m->ba_item), upf_free(m->ba_eta);
    upf_free(m);
}

/* ---- ranker ---- */

static upf_status train_ranker(const upf_dataset *ds, const upf_trig_model_params *p, int64_t cutoff,
                               upf_trig_models *m, upf_err *err)
{
    upf_interaction_params ip = upf_interaction_params_default();
    ip.types = (1u << UPF_EV_PURCHASE) | (1u << UPF_EV_CART) | (1u << UPF_EV_VIEW);
    ip.time_end = cutoff;
    upf_csr train;
    memset(&train, 0, sizeof train);
    upf_status st = upf_interactions_build(ds, &ip, &train, err);
    if (st) return st;
    if (upf_csr_nnz(&train) == 0) {
        upf_log(UPF_LOG_WARN, "triggers: no interactions before the cutoff: the ranker is off");
        upf_csr_free(&train);
        return UPF_OK;
    }
    upf_ranker_shape s = { ds->n_users, ds->n_items, 0, 0, (size_t)p->ranker_dim, 1, 1 };
    upf_ranker_model *rm = NULL;
    if ((st = upf_ranker_model_create(&s, NULL, NULL, &rm, err))) goto done;
    upf_ranker_model_init(rm, 0.01, p->seed);
    upf_ranker_train_params tp = upf_ranker_train_params_default();
    tp.loss = UPF_RANKER_SOFTMAX;
    tp.epochs = (uint32_t)p->ranker_epochs;
    tp.patience = 0;
    tp.opt.lr_init = p->ranker_lr;
    tp.opt.l2 = p->ranker_l2;
    tp.n_negatives = (uint32_t)p->ranker_negatives;
    tp.seed = p->seed;
    tp.threads = 1;
    upf_ranker_train_result res;
    if ((st = upf_ranker_train(rm, &train, NULL, &tp, NULL, &res, err))) goto done;
    m->dim = s.dim;
    size_t n_vec;
    if (upf_mul_size(ds->n_items, s.dim, &n_vec)) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "triggers: item matrix too large");
        goto done;
    }
    m->item_vec = upf_malloc(n_vec * sizeof *m->item_vec);
    m->item_bias = upf_malloc(ds->n_items * sizeof *m->item_bias);
    if (!m->item_vec || !m->item_bias) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "triggers: out of memory");
        goto done;
    }
    upf_ranker_item_matrix(rm, m->item_vec, m->item_bias);
    m->ranker = rm;
    rm = NULL;
    upf_log(UPF_LOG_INFO, "triggers: ranker trained on %lld pairs (%u epochs, loss %.4f)", (long long)upf_csr_nnz(&train),
            res.epochs_run, res.final_loss);
done:
    upf_ranker_model_free(rm);
    upf_csr_free(&train);
    return st;
}

void upf_trig_user_vec(const upf_trig_models *m, int32_t u, float *out)
{
    if (m->ranker) upf_ranker_user_vec(m->ranker, (size_t)u, out);
}

float upf_trig_score_vec(const upf_trig_models *m, const float *uv, int32_t i)
{
    if (!m->ranker) return 0.0f;
    return m->item_bias[i] + upf_ranker_dot(uv, m->item_vec + (size_t)i * m->dim, m->dim);
}

/* ---- candidate pool: the most interacted items of the last POOL_DAYS days ---- */

static const double *pool_count;
static int by_count_desc(const void *a, const void *b)
{
    int32_t i = *(const int32_t *)a, j = *(const int32_t *)b;
    if (pool_count[i] != pool_count[j]) return pool_count[i] > pool_count[j] ? -1 : 1;
    return i < j ? -1 : i > j;
}

static upf_status build_pool(const upf_dataset *ds, const upf_trig_model_params *p, int64_t cutoff, upf_trig_models *m,
                             upf_err *err)
{
    double *cnt = upf_calloc(ds->n_items ? ds->n_items : 1, sizeof *cnt);
    int32_t *ord = upf_malloc((ds->n_items ? ds->n_items : 1) * sizeof *ord);
    if (!cnt || !ord) {
        upf_free(cnt), upf_free(ord);
        return upf_err_set(err, UPF_ERR_NOMEM, "triggers: out of memory");
    }
    int64_t from = cutoff - (int64_t)POOL_DAYS * DAY;
    for (int64_t e = 0; e < ds->n_events; e++)
        if (ds->ev_item[e] >= 0 && ds->ev_time[e] >= from && ds->ev_time[e] < cutoff) cnt[ds->ev_item[e]] += 1.0;
    size_t n = 0;
    for (size_t i = 0; i < ds->n_items; i++)
        if (cnt[i] > 0) ord[n++] = (int32_t)i;
    pool_count = cnt; /* not reentrant; models are trained one at a time */
    qsort(ord, n, sizeof *ord, by_count_desc);
    m->n_pool = n < (size_t)p->pool_size ? n : (size_t)p->pool_size;
    m->pool = ord;
    upf_free(cnt);
    return UPF_OK;
}

/* ---- BG/NBD ---- */

static upf_status fit_bgnbd(const upf_dataset *ds, int64_t cutoff, upf_trig_models *m, upf_err *err)
{
    size_t n_txn = 0;
    for (int64_t e = 0; e < ds->n_events; e++) n_txn += ds->ev_type[e] == UPF_EV_PURCHASE && ds->ev_time[e] < cutoff;
    m->bg_x = upf_malloc((ds->n_users ? ds->n_users : 1) * sizeof *m->bg_x);
    m->bg_tx = upf_malloc((ds->n_users ? ds->n_users : 1) * sizeof *m->bg_tx);
    m->bg_T = upf_malloc((ds->n_users ? ds->n_users : 1) * sizeof *m->bg_T);
    upf_btyd_txn *txn = upf_malloc((n_txn ? n_txn : 1) * sizeof *txn);
    if (!m->bg_x || !m->bg_tx || !m->bg_T || !txn) {
        upf_free(txn);
        return upf_err_set(err, UPF_ERR_NOMEM, "triggers: out of memory");
    }
    for (size_t u = 0; u < ds->n_users; u++) m->bg_T[u] = -1.0f;
    size_t k = 0;
    for (int64_t e = 0; e < ds->n_events; e++)
        if (ds->ev_type[e] == UPF_EV_PURCHASE && ds->ev_time[e] < cutoff)
            txn[k++] = (upf_btyd_txn){ ds->ev_user[e], ds->ev_time[e], ds->ev_value[e] > 0 ? (double)ds->ev_value[e] : 0.0 };
    upf_btyd_params bp = upf_btyd_params_default();
    bp.cal_end = cutoff - 1;
    bp.holdout_days = 0;
    bp.unit_days = 7.0;
    upf_btyd_summary s;
    upf_err e2;
    upf_status st = n_txn ? upf_btyd_summary_build(txn, n_txn, &bp, &s, &e2) : UPF_ERR_DATA;
    upf_free(txn);
    if (st == UPF_ERR_NOMEM) return upf_err_set(err, st, "%s", e2.msg);
    if (st) {
        upf_log(UPF_LOG_WARN, "triggers: BG/NBD is off (no purchases before the cutoff)");
        return UPF_OK;
    }
    upf_btyd_fit_info info;
    st = s.n >= 20 ? upf_bgnbd_fit(&s, 0, &m->bgnbd, &info, &e2) : UPF_ERR_DATA;
    if (st == UPF_ERR_NOMEM || st == UPF_ERR_INTERRUPTED) {
        upf_btyd_summary_free(&s);
        return upf_err_set(err, st, "%s", e2.msg);
    }
    if (st) {
        upf_log(UPF_LOG_WARN, "triggers: BG/NBD fit failed (%zu customers): win-back falls back to its rule",
                s.n);
    } else {
        for (size_t j = 0; j < s.n; j++) {
            int32_t u = s.customer[j];
            /* the summary's T counts to the start of its last day (D - 1, the BTYD
             * convention: a purchase that day has t_x = T); as of the planned
             * day D 00:00 the customer has been silent one more day */
            m->bg_x[u] = (float)s.x[j], m->bg_tx[u] = (float)s.t_x[j];
            m->bg_T[u] = (float)(s.T[j] + 1.0 / bp.unit_days);
        }
        m->has_bgnbd = 1;
        m->bg_unit_days = bp.unit_days;
        upf_log(UPF_LOG_INFO, "triggers: BG/NBD on %zu customers: r %.3g alpha %.3g a %.3g b %.3g", s.n, m->bgnbd.r,
                m->bgnbd.alpha, m->bgnbd.a, m->bgnbd.b);
    }
    upf_btyd_summary_free(&s);
    return UPF_OK;
}

/* ---- win-back: the lifetime family's AFT on user features ---- */

/* Standardizes the training rows, fits a Weibull/log-logistic AFT by Newton
 * with a little ridge (activity counts and intervals are nearly collinear)
 * and standardizes the scoring rows the same way. A fit that fails for a
 * numerical reason is not an error: the caller falls back (*fitted = 0, a
 * warning naming the fallback); out of memory and interruption are. *dist is
 * the law fitted (upf_aft_dist). */
static upf_status fit_ridge_aft(upf_lt_features *tr, upf_lt_features *now, double *time, uint8_t *event,
                                double *center, double *scale, double *theta, const char *what,
                                const char *fallback, int *fitted, int *dist, upf_err *err)
{
    size_t n = tr->n_rows, d = tr->n_cols;
    *fitted = 0;
    upf_aft_standardize(tr->X, n, d, center, scale);
    upf_aft_data D = { n, d, tr->X, NULL, time, event, NULL, NULL };
    upf_aft_params ap = upf_aft_params_default();
    ap.l2 = 1.0;
    *dist = ap.dist;
    upf_aft_fit_info info;
    upf_err e2;
    upf_status st = upf_aft_fit_newton(&D, &ap, theta, &info, &e2);
    if (st == UPF_ERR_NOMEM || st == UPF_ERR_INTERRUPTED) return upf_err_set(err, st, "%s", e2.msg);
    if (st) {
        upf_log(UPF_LOG_WARN, "triggers: %s fit failed (%s); %s", what, e2.msg, fallback);
        return UPF_OK;
    }
    upf_aft_apply_standardize(now->X, now->n_rows, d, center, scale);
    *fitted = 1;
    return UPF_OK;
}

/* Learns log T = x.beta + beta_0 + sigma W for T = days from a reference
 * cutoff (cutoff - window) to the user's next purchase (censored at the
 * window), on the user features of upf_lt_features_build at that reference
 * (users with a purchase before it); then scores every purchaser as of the
 * cutoff. Long silences lower the hazard through recency and the activity
 * counts, which is how dropout shows up here: no BG/NBD structure assumed.
 * No rows or no fit: off with a warning (then BG/NBD, if on, or the rule). */
static upf_status fit_winback_aft(const upf_dataset *ds, const upf_trig_model_params *p, int64_t cutoff,
                                  upf_trig_models *m, upf_err *err)
{
    upf_lt_features tr, now;
    memset(&tr, 0, sizeof tr), memset(&now, 0, sizeof now);
    double *time = NULL, *center = NULL, *scale = NULL, *theta = NULL;
    uint8_t *event = NULL;
    upf_err e2;
    int64_t ref = cutoff - (int64_t)p->winback_window_days * DAY;
    upf_lt_feature_params fp = upf_lt_feature_params_default();
    fp.cutoff = ref;
    fp.types = upf_lt_types_before(ds, cutoff);
    upf_status st = upf_lt_features_build(ds, &fp, &tr, &e2);
    if (st == UPF_OK && tr.n_rows < 50) st = UPF_ERR_DATA;
    if (st == UPF_OK) {
        fp.cutoff = cutoff;
        st = upf_lt_features_build(ds, &fp, &now, &e2);
        if (st == UPF_OK && now.n_cols != tr.n_cols) st = UPF_ERR_DATA;
        for (size_t k = 0; st == UPF_OK && k < tr.n_cols; k++)
            if (strcmp(tr.names[k], now.names[k]) != 0) st = UPF_ERR_DATA;
    }
    if (st) {
        upf_lt_features_free(&tr), upf_lt_features_free(&now);
        if (st == UPF_ERR_NOMEM) return upf_err_set(err, st, "%s", e2.msg);
        upf_log(UPF_LOG_WARN, "triggers: win-back AFT is off (fewer than 50 purchasers %d days before the cutoff); "
                              "BG/NBD or the rule decides", p->winback_window_days);
        return UPF_OK;
    }
    size_t n = tr.n_rows, d = tr.n_cols;
    time = upf_malloc(n * sizeof *time);
    event = upf_malloc(n);
    center = upf_malloc((d + 1) * sizeof *center);
    scale = upf_malloc((d + 1) * sizeof *scale);
    theta = upf_calloc(d + 2, sizeof *theta);
    m->wb_eta = upf_malloc((ds->n_users ? ds->n_users : 1) * sizeof *m->wb_eta);
    if (!time || !event || !center || !scale || !theta || !m->wb_eta) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "triggers: out of memory");
        goto done;
    }
    upf_lt_labels(ds, tr.user, NULL, n, ref, (double)p->winback_window_days, time, event, NULL);
    int fitted = 0;
    st = fit_ridge_aft(&tr, &now, time, event, center, scale, theta, "win-back AFT", "BG/NBD or the rule decides",
                       &fitted, &m->wb_dist, err);
    if (st || !fitted) goto done;
    for (size_t u = 0; u < ds->n_users; u++) m->wb_eta[u] = NAN;
    for (size_t j = 0; j < now.n_rows; j++) {
        double eta = theta[d];
        for (size_t k = 0; k < d; k++) eta += theta[k] * (double)now.X[j * d + k];
        m->wb_eta[now.user[j]] = (float)eta;
    }
    m->wb_sigma = exp(theta[d + 1]);
    m->has_wb = 1;
    size_t n_ev = 0;
    for (size_t j = 0; j < n; j++) n_ev += event[j];
    upf_log(UPF_LOG_INFO, "triggers: win-back AFT on %zu users (%zu bought within %d days), sigma %.3f; %zu scored", n,
            n_ev, p->winback_window_days, m->wb_sigma, now.n_rows);
done:
    if (st) upf_free(m->wb_eta), m->wb_eta = NULL;
    upf_free(time), upf_free(event), upf_free(center), upf_free(scale), upf_free(theta);
    upf_lt_features_free(&tr), upf_lt_features_free(&now);
    return st;
}

double upf_trig_churn_risk(const upf_trig_models *m, int32_t u, double horizon_days, int64_t now)
{
    if (m->has_wb) {
        double eta = (double)m->wb_eta[u];
        if (isnan(eta)) return NAN;
        double elapsed = now > m->cutoff ? (double)(now - m->cutoff) / UPF_TRIG_DAY : 0.0;
        return exp(upf_aft_cond_log_survival(m->wb_dist, eta, m->wb_sigma, elapsed, horizon_days));
    }
    if (!m->has_bgnbd || m->bg_T[u] < 0.0f) return NAN;
    /* the summary is as of the training cutoff; the customer has been silent since */
    double extra = now > m->cutoff ? (double)(now - m->cutoff) / (UPF_TRIG_DAY * m->bg_unit_days) : 0.0;
    double x = m->bg_x[u], tx = m->bg_tx[u], T = (double)m->bg_T[u] + extra, h = horizon_days / m->bg_unit_days;
    const upf_bgnbd_params *p = &m->bgnbd;
    double pa = upf_bgnbd_p_alive(p, x, tx, T);
    /* BG/NBD drops a customer only right after a purchase, so an alive customer
     * stays alive until the next one: P(none in h | alive) = E[exp(-lambda h)]
     * under the posterior Gamma(r + x, alpha + T) */
    double none_alive = exp((p->r + x) * (log(p->alpha + T) - log(p->alpha + T + h)));
    return 1.0 - pa + pa * none_alive;
}

/* ---- repurchase gaps ---- */

typedef struct pair64 { int32_t item; int32_t day; } pair64;
static int by_item_day(const void *a, const void *b)
{
    const pair64 *x = a, *y = b;
    if (x->item != y->item) return x->item < y->item ? -1 : 1;
    return (x->day > y->day) - (x->day < y->day);
}
static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static upf_status item_gaps(const upf_dataset *ds, int64_t cutoff, upf_trig_models *m, upf_err *err)
{
    size_t n = 0;
    for (int64_t e = 0; e < ds->n_events; e++)
        n += ds->ev_type[e] == UPF_EV_PURCHASE && ds->ev_item[e] >= 0 && ds->ev_time[e] < cutoff;
    pair64 *pp = upf_malloc((n ? n : 1) * sizeof *pp);
    pair64 *gaps = upf_malloc((n ? n : 1) * sizeof *gaps); /* (item, gap days) */
    float *buf = upf_malloc((n ? n : 1) * sizeof *buf);
    m->item_gap_days = upf_malloc((ds->n_items ? ds->n_items : 1) * sizeof *m->item_gap_days);
    if (!pp || !gaps || !buf || !m->item_gap_days) {
        upf_free(pp), upf_free(gaps), upf_free(buf);
        return upf_err_set(err, UPF_ERR_NOMEM, "triggers: out of memory");
    }
    size_t n_gaps = 0;
    for (size_t u = 0; u < ds->n_users; u++) {
        size_t k = 0;
        for (int64_t e = ds->user_ptr[u]; e < ds->user_ptr[u + 1] && ds->ev_time[e] < cutoff; e++)
            if (ds->ev_type[e] == UPF_EV_PURCHASE && ds->ev_item[e] >= 0)
                pp[k++] = (pair64){ ds->ev_item[e], (int32_t)day_of(ds->ev_time[e]) };
        qsort(pp, k, sizeof *pp, by_item_day);
        for (size_t j = 1; j < k; j++)
            if (pp[j].item == pp[j - 1].item && pp[j].day > pp[j - 1].day)
                gaps[n_gaps++] = (pair64){ pp[j].item, pp[j].day - pp[j - 1].day };
    }
    qsort(gaps, n_gaps, sizeof *gaps, by_item_day);
    for (size_t i = 0; i < ds->n_items; i++) m->item_gap_days[i] = NAN;
    for (size_t a = 0, b; a < n_gaps; a = b) {
        for (b = a; b < n_gaps && gaps[b].item == gaps[a].item; b++) buf[b - a] = (float)gaps[b].day;
        size_t c = b - a;
        if (c < 3) continue;
        qsort(buf, c, sizeof *buf, cmp_float);
        m->item_gap_days[gaps[a].item] = c % 2 ? buf[c / 2] : 0.5f * (buf[c / 2 - 1] + buf[c / 2]);
    }
    upf_free(pp), upf_free(gaps), upf_free(buf);
    return UPF_OK;
}

void upf_trig_rebuy_days(const upf_trig_models *m, const upf_dataset *ds, int32_t u, int64_t cutoff,
                         const int32_t *items, int n, double *out)
{
    double sum[256];
    int cnt[256];
    int64_t next_day[256];
    if (n > 256) n = 256;
    for (int j = 0; j < n; j++) sum[j] = 0.0, cnt[j] = 0, next_day[j] = INT64_MIN;
    for (int64_t e = upf_trig_prefix_end(ds, u, cutoff) - 1; e >= ds->user_ptr[u]; e--) {
        if (ds->ev_type[e] != UPF_EV_PURCHASE) continue;
        int j = 0;
        while (j < n && items[j] != ds->ev_item[e]) j++;
        if (j == n) continue;
        int64_t d = day_of(ds->ev_time[e]);
        if (next_day[j] != INT64_MIN && d < next_day[j]) sum[j] += (double)(next_day[j] - d), cnt[j]++;
        if (next_day[j] == INT64_MIN || d < next_day[j]) next_day[j] = d;
    }
    for (int j = 0; j < n; j++) {
        double prior = m->item_gap_days ? (double)m->item_gap_days[items[j]] : (double)NAN;
        if (isnan(prior)) out[j] = cnt[j] ? sum[j] / cnt[j] : (double)NAN;
        else out[j] = (sum[j] + 2.0 * prior) / (cnt[j] + 2.0);
    }
}

/* ---- buy again: the lifetime family's AFT on user x item pairs ---- */

/* Learns log T = x.beta + beta_0 + sigma W for T = days from a reference
 * cutoff (cutoff - window) to the pair's next purchase (censored at the
 * window), on the pair features of upf_ba_pairs_build; then scores the pairs
 * as of the cutoff. No pairs or no fit: the AFT stays off (a warning). */
static upf_status fit_buy_again(const upf_dataset *ds, const upf_trig_model_params *p, int64_t cutoff,
                                upf_trig_models *m, upf_err *err)
{
    upf_lt_features tr, now;
    memset(&tr, 0, sizeof tr), memset(&now, 0, sizeof now);
    double *time = NULL, *center = NULL, *scale = NULL, *theta = NULL;
    uint8_t *event = NULL;
    upf_err e2;
    upf_ba_params bp = upf_ba_params_default();
    double W = (double)p->buy_again_window_days;
    bp.cutoff = cutoff - (int64_t)p->buy_again_window_days * DAY;
    upf_status st = upf_ba_pairs_build(ds, &bp, &tr, &e2);
    if (st == UPF_OK && tr.n_rows < 50) st = UPF_ERR_DATA;
    if (st == UPF_OK) {
        bp.cutoff = cutoff;
        st = upf_ba_pairs_build(ds, &bp, &now, &e2);
        if (st == UPF_OK && now.n_cols != tr.n_cols) st = UPF_ERR_DATA;
    }
    if (st) {
        upf_lt_features_free(&tr), upf_lt_features_free(&now);
        if (st == UPF_ERR_NOMEM) return upf_err_set(err, st, "%s", e2.msg);
        upf_log(UPF_LOG_WARN, "triggers: buy-again AFT is off (too few repeatable user x item pairs); repurchase "
                              "gaps decide");
        return UPF_OK;
    }
    size_t n = tr.n_rows, d = tr.n_cols;
    time = upf_malloc(n * sizeof *time);
    event = upf_malloc(n);
    center = upf_malloc((d + 1) * sizeof *center);
    scale = upf_malloc((d + 1) * sizeof *scale);
    theta = upf_calloc(d + 2, sizeof *theta);
    m->ba_ptr = upf_calloc(ds->n_users + 1, sizeof *m->ba_ptr);
    m->ba_item = upf_malloc((now.n_rows ? now.n_rows : 1) * sizeof *m->ba_item);
    m->ba_eta = upf_malloc((now.n_rows ? now.n_rows : 1) * sizeof *m->ba_eta);
    if (!time || !event || !center || !scale || !theta || !m->ba_ptr || !m->ba_item || !m->ba_eta) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "triggers: out of memory");
        goto done;
    }
    upf_lt_labels(ds, tr.user, tr.item, n, cutoff - (int64_t)p->buy_again_window_days * DAY, W, time, event, NULL);
    int fitted = 0;
    st = fit_ridge_aft(&tr, &now, time, event, center, scale, theta, "buy-again AFT", "repurchase gaps decide",
                       &fitted, &m->ba_dist, err);
    if (st || !fitted) goto done;
    for (size_t j = 0; j < now.n_rows; j++) {
        double eta = theta[d];
        for (size_t k = 0; k < d; k++) eta += theta[k] * (double)now.X[j * d + k];
        m->ba_item[j] = now.item[j];
        m->ba_eta[j] = (float)eta;
        m->ba_ptr[now.user[j] + 1]++;
    }
    for (size_t u = 0; u < ds->n_users; u++) m->ba_ptr[u + 1] += m->ba_ptr[u];
    m->ba_n = now.n_rows;
    m->ba_sigma = exp(theta[d + 1]);
    m->has_ba = 1;
    size_t n_ev = 0;
    for (size_t j = 0; j < n; j++) n_ev += event[j];
    upf_log(UPF_LOG_INFO, "triggers: buy-again AFT on %zu pairs (%zu with a repurchase), sigma %.3f; %zu pairs scored",
            n, n_ev, m->ba_sigma, now.n_rows);
done:
    upf_free(time), upf_free(event), upf_free(center), upf_free(scale), upf_free(theta);
    upf_lt_features_free(&tr), upf_lt_features_free(&now);
    return st;
}

double upf_trig_rebuy_prob(const upf_trig_models *m, int32_t u, int32_t i, int64_t now, double h_days)
{
    if (!m->has_ba) return NAN;
    for (int64_t j = m->ba_ptr[u]; j < m->ba_ptr[u + 1]; j++) {
        if (m->ba_item[j] != i) continue;
        double elapsed = now > m->cutoff ? (double)(now - m->cutoff) / UPF_TRIG_DAY : 0.0;
        return -expm1(upf_aft_cond_log_survival(m->ba_dist, (double)m->ba_eta[j], m->ba_sigma, elapsed, h_days));
    }
    return NAN;
}

/* ---- uplift per trigger from logged messages ---- */

static void uplift_from_messages(const upf_dataset *ds, const upf_trig_model_params *p, int64_t cutoff,
                                 upf_trig_models *m)
{
    const upf_messages *ms = &ds->messages;
    if (!ms->n || !ms->arm) return;
    double n[UPF_TRIG_COUNT][2] = { { 0 } }, y[UPF_TRIG_COUNT][2] = { { 0 } };
    int64_t win = (int64_t)p->attribution_days * DAY;
    for (size_t j = 0; j < ms->n; j++) {
        if (ms->time[j] + win > cutoff) continue; /* its outcome is not known yet */
        int k = ms->trigger[j] < ms->trigger_names.n ? upf_trigger_from_name(upf_strings_get(&ms->trigger_names, ms->trigger[j])) : -1;
        int32_t u = ms->user[j];
        if (k < 0 || u < 0 || (size_t)u >= ds->n_users) continue;
        int a = ms->arm[j] > 0;
        int bought = 0;
        for (int64_t e = upf_trig_prefix_end(ds, u, ms->time[j]); e < ds->user_ptr[u + 1] && !bought; e++) {
            if (ds->ev_time[e] >= ms->time[j] + win) break;
            bought = ds->ev_type[e] == UPF_EV_PURCHASE;
        }
        n[k][a] += 1.0, y[k][a] += bought;
    }
    for (int k = 0; k < UPF_TRIG_COUNT; k++) {
        if (n[k][0] < p->uplift_min_rows || n[k][1] < p->uplift_min_rows) continue;
        m->has_uplift[k] = 1;
        m->uplift[k] = y[k][1] / n[k][1] - y[k][0] / n[k][0];
        upf_log(UPF_LOG_INFO, "triggers: %s: uplift %.4f from %.0f sent / %.0f held out", upf_trigger_name(k),
                m->uplift[k], n[k][1], n[k][0]);
    }
}

/* ---- driver ---- */

upf_status upf_trig_models_train(const upf_dataset *ds, const upf_trig_model_params *p, int64_t cutoff,
                                 upf_trig_models **out, upf_err *err)
{
    *out = NULL;
    upf_trig_models *m = upf_calloc(1, sizeof *m);
    if (!m) return upf_err_set(err, UPF_ERR_NOMEM, "triggers: out of memory");
    m->cutoff = cutoff, m->n_users = ds->n_users, m->n_items = ds->n_items;
    upf_status st;
    double t0 = now_s();
    if ((st = build_pool(ds, p, cutoff, m, err))) goto fail;
    if (p->use_ranker && (st = train_ranker(ds, p, cutoff, m, err))) goto fail;
    double t1 = now_s();
    if (p->use_winback_aft && (st = fit_winback_aft(ds, p, cutoff, m, err))) goto fail;
    if (p->use_bgnbd && !m->has_wb && (st = fit_bgnbd(ds, cutoff, m, err))) goto fail;
    double t2 = now_s();
    if ((st = item_gaps(ds, cutoff, m, err))) goto fail;
    if (p->use_buy_again_aft && (st = fit_buy_again(ds, p, cutoff, m, err))) goto fail;
    if (p->use_uplift) uplift_from_messages(ds, p, cutoff, m);
    m->seconds_ranker = t1 - t0, m->seconds_bgnbd = t2 - t1, m->seconds_other = now_s() - t2;
    *out = m;
    return UPF_OK;
fail:
    upf_trig_models_free(m);
    return st;
}
