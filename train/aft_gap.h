/* aft_gap.h - the gap law behind the AFT family's `gap_renewal` expected
 * purchases: an AFT on the purchase-to-purchase gaps before the cutoff (the
 * interval target's rows and right-truncated fit, train/lifetime_features.h
 * upf_lt_gaps_build), evaluated per test row's user. Not the first-purchase
 * law (family_aft.c), not serving. Entry point: upf_aft_gap_fit.
 */
#ifndef UPF_AFT_GAP_H
#define UPF_AFT_GAP_H

#include <stddef.h>
#include <stdint.h>

#include "../datasets/dataset.h"
#include "../model/base.h"

/* Fits the `dist` AFT (upf_aft_dist) by Newton on the completed gaps of the
 * purchases before cutoff (unix s) whose start is at least margin_days before
 * it, right-truncated at the cutoff, with the user-attribute columns
 * (user_attrs, max_user_attrs as the feature builder), and fills eta[i], the
 * gap law's log-time location for user[i] (the intercept alone for a user
 * the attribute rows do not hold), and *sigma. UPF_ERR_DATA: no gap before
 * the cutoff; fit errors pass through; outputs zeroed on failure. */
upf_status upf_aft_gap_fit(const upf_dataset *ds, int64_t cutoff, double margin_days, int dist, int user_attrs,
                           size_t max_user_attrs, const int32_t *user /* (n) */, size_t n, double *eta /* (n) */,
                           double *sigma, upf_err *err);

#endif
