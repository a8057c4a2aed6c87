/* uplift_features.h - covariates of campaign users for the uplift models:
 * the users' attributes (the dataset's CSR: a numeric attribute as its
 * value, a categorical "field=value" attribute as a 0/1 column, i.e. one-hot
 * by construction) and, when the users have event histories, the lifetime
 * features of train/lifetime_features.h computed at the campaign's send time
 * from the events strictly before it (no leakage), plus a has_history flag,
 * and the mean of numeric item attributes (a price band: price
 * sensitivity) over the items each user bought or looked at before it.
 *
 * Raw values here; the family standardizes them on the training rows
 * (upf_aft_standardize) and records center and scale in the model file.
 * Not here: feature selection beyond "the most common attributes" and any
 * transformation of numeric attributes.
 * Entry points: upf_uplift_features_build, upf_uplift_features_free.
 */
#ifndef UPF_UPLIFT_FEATURES_H
#define UPF_UPLIFT_FEATURES_H

#include <stddef.h>
#include <stdint.h>

#include "../datasets/dataset.h"
#include "../model/base.h"

typedef struct upf_uplift_feature_params {
    int user_attrs;            /* 1: attribute columns */
    size_t max_user_attrs;     /* at most this many, the most common among the rows first (ties: attribute index) */
    int history;               /* 0 off, 1 on (error without events before the cutoff), 2 auto (on when any row's user has one) */
    int64_t cutoff;            /* history: events with time < cutoff; UPF_TIME_MISSING: history off */
    size_t n_windows;          /* history activity windows (days), at most 8 */
    double windows_days[8];
    const char *const *item_fields; /* (n_item_fields) item attribute fields with numeric values
                                       ("price_band=3"): per field two columns, <field>_bought and
                                       <field>_viewed, the mean value over the items the user bought /
                                       viewed or carted before the cutoff (users without one get the
                                       mean of those with one); needs the cutoff */
    size_t n_item_fields;
} upf_uplift_feature_params;

upf_uplift_feature_params upf_uplift_feature_params_default(void); /* attrs on, 64; history auto; 7, 30, 90 days */

typedef struct upf_uplift_features {
    size_t n, d;     /* rows (as given), columns */
    float *X;        /* (n, d) raw values */
    char **names;    /* (d) column names (owned) */
} upf_uplift_features;

void upf_uplift_features_free(upf_uplift_features *f); /* accepts a zeroed struct */

/* One row per entry of users (n), in that order (a user may repeat).
 * UPF_ERR_DATA when history is on and no user has events before the
 * cutoff; UPF_ERR_NOMEM. *out zeroed on failure. */
upf_status upf_uplift_features_build(const upf_dataset *ds, const int32_t *users, size_t n,
                                     const upf_uplift_feature_params *p, upf_uplift_features *out, upf_err *err);

#endif
