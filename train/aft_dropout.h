/* aft_dropout.h - the dropout component of the AFT family's expected
 * purchases within H, from a BG/NBD fit on the same purchases before the
 * cutoff (train/btyd.h): per row, the probability that the customer stays
 * after each further purchase, E[1 - p | alive, x] = (b + x)/(a + b + x), for
 * the defective renewal count (model/lifetime.h upf_aft_expected_count_stay),
 * and P(alive) at the cutoff (reported, the rejected alternative; LIFETIME.md).
 * Not the AFT fit, not serving. Entry points: upf_aft_dropout_lookup,
 * upf_aft_dropout_fit.
 */
#ifndef UPF_AFT_DROPOUT_H
#define UPF_AFT_DROPOUT_H

#include <stddef.h>
#include <stdint.h>

#include "../datasets/dataset.h"
#include "../model/base.h"
#include "btyd.h"

/* For each user[i]: stay[i] = (b + x)/(a + b + x) (BG/NBD; MBG/NBD counts the
 * first purchase too: (b + x + 1)/(a + b + x + 1)) and, when p_alive is not
 * NULL, p_alive[i] = P(alive | x, t_x, T), with (x, t_x, T) the user's row of
 * the summary s. A user absent from s (no purchase before the calibration
 * end) gets x = 0 and P(alive) 1. s->customer must be ascending (as the
 * builder makes it). UPF_ERR_ARG for NULL arguments with n > 0; outputs
 * zeroed on failure. */
upf_status upf_aft_dropout_lookup(const upf_btyd_summary *s, const upf_bgnbd_params *bg,
                                  const int32_t *user /* (n) */, size_t n, double *stay /* (n) */,
                                  double *p_alive /* (n) or NULL */, upf_err *err);

/* Fits BG/NBD (weeks, same-day purchases merged) on the dataset's purchases
 * on the days before cutoff (unix s, a UTC midnight) and fills stay and
 * p_alive as upf_aft_dropout_lookup. *fit (may be NULL) receives the
 * parameters. Errors of the summary and the fit pass through (UPF_ERR_DATA:
 * no purchase before the cutoff); outputs zeroed on failure. */
upf_status upf_aft_dropout_fit(const upf_dataset *ds, int64_t cutoff, const int32_t *user /* (n) */, size_t n,
                               double *stay /* (n) */, double *p_alive /* (n) or NULL */, upf_bgnbd_params *fit,
                               upf_err *err);

#endif
