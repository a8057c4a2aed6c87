/* lifetime_features.h - covariates for the lifetime models, computed for each
 * user (or user x item pair) at a cutoff time from the events strictly
 * before it, and the right-censored labels after it.
 *
 * No leakage by construction: the builders read a user's events in time
 * order and stop at the first event with time >= cutoff; labels read only
 * [cutoff, cutoff + window). A "purchase day" (order) is a UTC day with at
 * least one PURCHASE event of the user (or of the user and item): same-day
 * lines merge, as in the BTYD conventions. Times are in days.
 *
 * User columns (raw values; log1p for counts, amounts and durations):
 *   log_recency       log1p(days since the last purchase day; tenure without purchases)
 *   log_frequency     log1p(purchase days)
 *   log_monetary      log1p(mean spend per purchase day)
 *   log_tenure        log1p(days since the first event)
 *   ipi_mean, ipi_sd, ipi_last   log1p of the inter-purchase intervals' mean,
 *                     standard deviation and last value (days; 0 with < 2 purchase days)
 *   has_interval      1 with >= 2 purchase days
 *   n_<type>_<W>d     log1p(events of that type in [cutoff - W days, cutoff)),
 *                     for each type in `types` and each window
 *   trend             (a - b) / (a + b), a = events in the last trend_days,
 *                     b = in the trend_days before (0 when both are 0)
 *   category_entropy  Shannon entropy (nats) of the attribute mix of purchased
 *                     items (all interacted items without purchases); field
 *                     `entropy_field` ("category=...") or every "field=value"
 *   age_years, log_signup_days   when the dataset has birthdays / signups
 *   user attributes   numeric ones as is, "field=value" ones as 0/1, the
 *                     max_user_attrs most common (when user_attrs is on);
 *                     for a field with two or more kept levels the most
 *                     common level is the reference and has no column
 * No column is a linear function of others ("overdue" = log_recency -
 * ipi_mean would be, whenever there is an interval): the AFT fit sees a
 * design of full rank up to the user attributes' one-hot levels.
 * Entry points: upf_lt_features_build, upf_lt_gaps_build,
 * upf_lt_gaps_heldout, upf_lt_labels, upf_ba_pairs_build.
 */
#ifndef UPF_LIFETIME_FEATURES_H
#define UPF_LIFETIME_FEATURES_H

#include <stddef.h>
#include <stdint.h>

#include "../datasets/dataset.h"
#include "../model/base.h"

#define UPF_LT_MAX_WINDOWS 8

typedef struct upf_lt_feature_params {
    int64_t cutoff;               /* unix s; events with time < cutoff are read */
    size_t n_windows;             /* activity windows, 0..UPF_LT_MAX_WINDOWS */
    double windows_days[UPF_LT_MAX_WINDOWS]; /* (n_windows) > 0, e.g. 7, 30, 90 */
    double trend_days;            /* > 0 */
    const char *entropy_field;    /* borrowed; "" or NULL = every "field=value" attribute */
    int user_attrs;               /* 1: add user attributes as columns */
    size_t max_user_attrs;        /* cap on user attribute columns */
    int all_users;                /* 0: users with a purchase before cutoff; 1: any event before it */
    int attrs_only;               /* 1: only the user attribute columns (the interval model's rows) */
    uint32_t types;               /* bitmask (1 << upf_event_type) of activity column types; 0 = the
                                     types seen before the cutoff (pass the training cutoff's mask
                                     when building test rows so the columns agree) */
} upf_lt_feature_params;

/* The event types seen before the cutoff, as a bitmask. */
uint32_t upf_lt_types_before(const upf_dataset *ds, int64_t cutoff);

/* windows 7, 30, 90; trend 30 days; entropy over "category"; user attributes
 * on, at most 32; purchasers only. cutoff must be set. */
upf_lt_feature_params upf_lt_feature_params_default(void);

typedef struct upf_lt_features {
    size_t n_rows, n_cols;
    int32_t *user;        /* (n_rows) dataset user index */
    int32_t *item;        /* (n_rows) item index for user x item rows, NULL for user rows */
    float *X;             /* (n_rows, n_cols) raw values, row-major */
    char **names;         /* (n_cols) column names (owned) */
    double *recency;      /* (n_rows) days since the last purchase day (of the item), < 0 if none */
    double *elapsed;      /* (n_rows) days since the last purchase's exact time, < 0 if none; user rows only */
    double *label;        /* (n_rows) the gap in days, for gap rows only (else NULL) */
    uint8_t *event;       /* (n_rows) held-out gap rows: 1 the gap closed, 0 censored (else NULL) */
    double *n_within;     /* (n_rows) held-out gap rows: purchases in the horizon after the gap's start */
    double *label_bound;  /* (n_rows) training gap rows: days from the gap's start to the cutoff, the longest
                             gap that could have been seen (its right-truncation bound) */
} upf_lt_features;

void upf_lt_features_free(upf_lt_features *f); /* frees members, zeroes; accepts a zeroed struct */

/* One row per qualifying user, ascending user index. UPF_ERR_ARG for bad
 * params, UPF_ERR_DATA when no user qualifies, UPF_ERR_NOMEM. On failure
 * *out is zeroed. */
upf_status upf_lt_features_build(const upf_dataset *ds, const upf_lt_feature_params *p, upf_lt_features *out,
                                 upf_err *err);

/* Gap rows for the interval model: one row per completed gap between two
 * purchases (distinct timestamps; lines of one basket share one) of a user,
 * both before the cutoff, the first one at least margin_days before it (so
 * gaps up to margin_days long are not cut off by the cutoff: without it the
 * sample would favour short gaps). label = the gap in days; columns: the
 * user attributes only (as in attrs_only), so the same columns describe the
 * user at any time. The user's open gap at the cutoff is not a row: with
 * dropout it may never close (the BG/NBD family models that part). */
/* label_bound = days from the gap's start to the cutoff: the sample is
 * right-truncated there, which the interval fit takes into account. */
upf_status upf_lt_gaps_build(const upf_dataset *ds, const upf_lt_feature_params *p, double margin_days,
                             upf_lt_features *out, upf_err *err);

/* Held-out gap rows (the interval model's test set, from events at or
 * after the cutoff only): for each user with a purchase in [cutoff, cutoff +
 * span_days), s = the first one; label = days from s to the user's next
 * purchase (a later distinct timestamp) before cutoff + window_days, event 1;
 * none: censored at cutoff + window_days - s, event 0. Every row is followed
 * for at least window_days - span_days. n_within = purchases (distinct
 * timestamps) in (s, s + horizon_days]; horizon_days <= window_days -
 * span_days keeps that inside the window. recency = the user's previous gap,
 * the one that ended at s, in days (-1 when s is the first purchase):
 * the "next gap like the last" heuristic. Columns: the user attributes, laid
 * out as upf_lt_gaps_build lays them out for the same params, so the rows
 * score with a model fitted on those. UPF_ERR_ARG for bad spans,
 * UPF_ERR_DATA when no user buys in the span. */
upf_status upf_lt_gaps_heldout(const upf_dataset *ds, const upf_lt_feature_params *p, double span_days,
                               double window_days, double horizon_days, upf_lt_features *out, upf_err *err);

/* Labels for rows (user, and item when item != NULL): time from the cutoff
 * to the first purchase (of that item) in [cutoff, cutoff + window_days),
 * counted in days at the middle of its UTC day (day k after the cutoff's day
 * gives k + 0.5) with event 1; otherwise window_days with event 0 (censored).
 * n_purchases (optional) receives the purchase days in the window. */
void upf_lt_labels(const upf_dataset *ds, const int32_t *user, const int32_t *item, size_t n, int64_t cutoff,
                   double window_days, double *time /* (n) */, uint8_t *event /* (n) */,
                   double *n_purchases /* (n) or NULL */);

/* ---- buy again: user x item pairs ---- */

typedef struct upf_ba_params {
    int64_t cutoff;               /* unix s */
    double min_repeat_share;      /* items kept when this share of their buyers bought them on >= 2 days */
    size_t min_buyers;            /* ... and they have at least this many buyers before the cutoff */
} upf_ba_params;

upf_ba_params upf_ba_params_default(void); /* share 0.1, 5 buyers */

/* Pair columns:
 *   log_count        log1p(purchase days of the item by the user)
 *   log_since        log1p(days since the user last bought the item)
 *   own_ipi          log1p(the user's mean interval on the item; 0 with one purchase day)
 *   has_own_ipi      1 when the user bought it on >= 2 days
 *   item_ipi         log1p(median interval between purchase days of the item over all users)
 *   item_repeat      share of the item's buyers with >= 2 purchase days
 *   item_buyers      log1p(buyers)
 *   user_frequency   log1p(the user's purchase days, any item)
 *   user_recency     log1p(days since the user's last purchase day)
 *   user_items       log1p(distinct items the user bought)
 * One row per pair (user, repeatable item bought before the cutoff),
 * ascending by user then item. */
upf_status upf_ba_pairs_build(const upf_dataset *ds, const upf_ba_params *p, upf_lt_features *out, upf_err *err);

#endif
