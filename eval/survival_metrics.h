/* survival_metrics.h - offline metrics for survival / churn predictions:
 * Harrell's C-index, IPCW Brier score at a horizon, calibration by risk
 * decile, AUC of churn within a horizon, the error of the predicted median
 * time, and the BTYD-style table of actual vs expected holdout purchases by
 * calibration frequency. Pure functions over arrays (time, event, prediction);
 * no model code. Each definition below is the contract.
 *
 * Inputs everywhere: time[i] > 0 is the observed time (event or censoring),
 * event[i] is 1 when the event (a purchase) was observed at time[i], 0 when
 * the row is right-censored there. "Churn within H" means no event in (0, H].
 * Entry points: upf_surv_cindex (+ _ref), upf_km_*, upf_surv_brier,
 * upf_surv_calibration, upf_surv_churn_auc (+ _ref), upf_surv_median_error,
 * upf_surv_frequency_table, upf_surv_list_metrics.
 */
#ifndef UPF_SURVIVAL_METRICS_H
#define UPF_SURVIVAL_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "../model/base.h"

/* ---- Harrell's C-index ----
 * score[i]: any prediction where HIGHER means LONGER survival (predicted
 * median time, or -risk). A pair (i, j) is comparable when the one with the
 * shorter time had the event: t_i < t_j and event_i = 1, or t_i == t_j with
 * event_i = 1 and event_j = 0 (the censored one is known to outlast). Pairs
 * with equal times and both events, or where the shorter time is censored,
 * are not comparable. A comparable pair is concordant when score_i < score_j,
 * and counts 1/2 when score_i == score_j.
 *   C = (concordant + tied / 2) / comparable.
 * O(n log n) (sort by time, Fenwick tree over score ranks). UPF_ERR_DATA when
 * no pair is comparable; UPF_ERR_ARG for a NaN score or time. */
typedef struct upf_cindex {
    double value;       /* C in [0, 1]; 0.5 = random, 1 = perfectly ordered */
    double concordant;  /* comparable pairs ordered as observed */
    double tied;        /* comparable pairs with equal scores */
    double comparable;  /* comparable pairs */
} upf_cindex;

upf_status upf_surv_cindex(const double *time, const uint8_t *event, const double *score, size_t n, upf_cindex *out,
                           upf_err *err);
/* The same by the O(n^2) definition (the reference the tests compare to). */
upf_status upf_surv_cindex_ref(const double *time, const uint8_t *event, const double *score, size_t n,
                               upf_cindex *out, upf_err *err);

/* ---- Kaplan-Meier ----
 * S(t) = prod over distinct event times u <= t of (1 - d_u / r_u), with r_u
 * the rows whose time is >= u. With censoring_as_event set it estimates the
 * censoring survival G instead (rows with event 0 are the "events"); at tied
 * times events are taken to come before censorings in both cases (the usual
 * convention: a row censored at u was still at risk of the event at u). */
typedef struct upf_km {
    size_t n;          /* distinct jump times */
    double *time;      /* (n) ascending */
    double *surv;      /* (n) S just after time[k] */
} upf_km;

upf_status upf_km_build(const double *time, const uint8_t *event, size_t n, int censoring_as_event, upf_km *out,
                        upf_err *err);
/* S(t) (left = 0) or the left limit S(t-) (left = 1). */
double upf_km_eval(const upf_km *km, double t, int left);
void upf_km_free(upf_km *km); /* accepts a zeroed struct */

/* ---- Brier score at horizon H, inverse probability of censoring weights
 * (Graf et al. 1999) ----
 * surv_h[i] = predicted P(T_i > H). With G the Kaplan-Meier estimate of the
 * censoring distribution over the same rows:
 *   BS(H) = 1/n sum_i [ 1{t_i <= H, event_i} S_i(H)^2 / G(t_i-)
 *                     + 1{t_i > H} (1 - S_i(H))^2 / G(H) ]
 * rows censored at or before H contribute 0 (their weight is carried by the
 * others). UPF_ERR_DATA when G reaches 0 where it is needed. */
upf_status upf_surv_brier(const double *time, const uint8_t *event, const double *surv_h, size_t n, double horizon,
                          double *out, upf_err *err);

/* ---- calibration by risk group ----
 * Rows are sorted by predicted risk 1 - surv_h[i] (ties by index) and cut into
 * n_groups groups of sizes differing by at most one (group g holds ranks
 * [g n / G, (g+1) n / G)). Per group: the mean predicted risk and the
 * observed risk 1 - KM_group(H) (Kaplan-Meier within the group, so censored
 * rows count correctly). *ece = sum_g (n_g / n) |predicted_g - observed_g|. */
typedef struct upf_calib_group {
    size_t n;
    double predicted;  /* mean of 1 - S_i(H) */
    double observed;   /* 1 - Kaplan-Meier S(H) of the group */
} upf_calib_group;

upf_status upf_surv_calibration(const double *time, const uint8_t *event, const double *surv_h, size_t n,
                                double horizon, size_t n_groups, upf_calib_group *groups /* (n_groups) */,
                                double *ece, upf_err *err);

/* ---- AUC of churn within H ----
 * Positives: rows with t_i > H (no event in (0, H], whatever event_i says);
 * negatives: rows with an event at t_i <= H; rows censored at t_i <= H are
 * left out (their label is unknown). Score: surv_h[i] = predicted P(no event
 * within H), higher = more likely to churn. AUC = P(score_pos > score_neg)
 * + P(equal)/2 over all positive-negative pairs (Mann-Whitney, average ranks
 * for ties), O(n log n). UPF_ERR_DATA when a class is empty. */
upf_status upf_surv_churn_auc(const double *time, const uint8_t *event, const double *surv_h, size_t n,
                              double horizon, double *auc, size_t *n_pos, size_t *n_neg, upf_err *err);
upf_status upf_surv_churn_auc_ref(const double *time, const uint8_t *event, const double *surv_h, size_t n,
                                  double horizon, double *auc, upf_err *err);

/* ---- error of the predicted median time ----
 * Over rows whose event is observed (event_i = 1): e_i = pred_median_i - t_i.
 * mae = mean |e|, median_ae = median |e| (mean of the two middle values for
 * an even count), bias = mean e. Units are those of time. UPF_ERR_DATA when
 * no event is observed. */
typedef struct upf_median_error {
    size_t n;          /* rows with an observed event */
    double mae;
    double median_ae;
    double bias;
} upf_median_error;

upf_status upf_surv_median_error(const double *time, const uint8_t *event, const double *pred_median, size_t n,
                                 upf_median_error *out, upf_err *err);

/* ---- BTYD table: actual vs expected holdout purchases by calibration
 * frequency ----
 * Bucket k < n_buckets-1 holds the customers with x == k repeat purchases in
 * calibration, the last bucket those with x >= n_buckets-1 (0..7+ for 8).
 * Per bucket: customers, mean actual and mean expected holdout purchases. */
typedef struct upf_freq_bucket {
    size_t n;
    double actual_mean;
    double expected_mean;
} upf_freq_bucket;

void upf_surv_frequency_table(const double *x, const double *actual, const double *expected, size_t n,
                              size_t n_buckets, upf_freq_bucket *out /* (n_buckets) */);

/* ---- buy-again lists: per-user candidate sets ranked by a score ----
 * Rows are (group, score, relevant) with each group's rows contiguous (a
 * group is a user; rows are that user's candidate items). Within a group the
 * rows are ranked by score descending, ties by row order. Only groups with at
 * least one relevant row count (n_groups). With R = relevant rows of a group
 * and h = relevant rows in the top k:
 *   hit_rate@k = mean [h > 0], recall@k = mean h / |R|,
 *   precision@k = mean h / min(k, group size),
 *   ndcg@k = mean DCG / IDCG, binary gains, discount log2(rank + 1), IDCG over
 *   min(k, |R|) relevant rows. */
typedef struct upf_list_metrics {
    size_t n_groups;   /* groups with a relevant row */
    double hit_rate, recall, precision, ndcg;
} upf_list_metrics;

upf_status upf_surv_list_metrics(const int32_t *group, const double *score, const uint8_t *relevant, size_t n,
                                 size_t k, upf_list_metrics *out, upf_err *err);

#endif
