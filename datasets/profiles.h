/* profiles.h - semantic attribute profiles: for each user at a cutoff time,
 * time-decayed and event-weighted affinities to item attributes (category,
 * brand, price band, tokens, genres), built from events strictly before the
 * cutoff, so a profile never sees the period it is evaluated on.
 *
 *   affinity(u, a) = sum over u's events e with item i, time t < cutoff:
 *                    w_type(e) * 2^(-(cutoff - t) / half_life) * x_ia
 * (x_ia: item i's value of attribute a), then optionally L2-normalized per
 * user. The ranker feeds the result in as user attributes (one column per
 * item attribute). Entry points: upf_profile_params_default, upf_profiles_build.
 */
#ifndef UPF_PROFILES_H
#define UPF_PROFILES_H

#include <stdint.h>

#include "dataset.h"
#include "interactions.h"

typedef struct upf_profile_params {
    int64_t cutoff;                          /* unix s: only events with time < cutoff count */
    double half_life_days;                   /* > 0: an event this old weighs half */
    float type_weight[UPF_EV_TYPE_COUNT];    /* per event type, >= 0; 0 ignores the type */
    int normalize;                           /* 1: scale each non-empty row to unit L2 norm */
} upf_profile_params;

/* cutoff INT64_MAX (all events), half-life 30 days, purchase 1, cart 0.5,
 * view 0.2, rating 1, other types 0, normalize 1. */
upf_profile_params upf_profile_params_default(void);

/* Builds the profiles (n_users, n_item_attrs) into out: rows ascend by
 * attribute, values > 0, time NULL. Needs ds->item_attrs (a dataset without
 * item attributes gives an all-empty matrix). On failure out is zeroed.
 * out's arrays come from upf_malloc (free with upf_csr_free). */
upf_status upf_profiles_build(const upf_dataset *ds, const upf_profile_params *p, upf_csr *out, upf_err *err);

#endif
