/* aft_alive.h - the dropout component of the AFT family's expected purchases
 * within H: each row's customer's BG/NBD P(alive) at the cutoff, from a
 * BG/NBD fit on the same purchases before the cutoff (train/btyd.h).
 * E[N(H)] = P(alive) x renewal expectation (eval.expected_purchases
 * renewal_alive); not the AFT fit itself, not serving (model/serve_lifetime.c
 * serves the renewal figure). Entry points: upf_aft_alive_lookup,
 * upf_aft_alive_fit.
 */
#ifndef UPF_AFT_ALIVE_H
#define UPF_AFT_ALIVE_H

#include <stddef.h>
#include <stdint.h>

#include "../datasets/dataset.h"
#include "../model/base.h"
#include "btyd.h"

/* out[i] = P(alive | x, t_x, T) of user[i] in the summary s under bg; 1 for a
 * user absent from s (no purchase before the calibration end: BG/NBD has no
 * clock for them yet). s->customer must be ascending (as the builder makes
 * it). UPF_ERR_ARG for NULL arrays with n > 0; out zeroed on failure. */
upf_status upf_aft_alive_lookup(const upf_btyd_summary *s, const upf_bgnbd_params *bg, const int32_t *user /* (n) */,
                                size_t n, double *out /* (n) */, upf_err *err);

/* Fits BG/NBD (weeks, same-day purchases merged) on the dataset's purchases
 * on the days before cutoff (unix s, a UTC midnight) and fills out as
 * upf_aft_alive_lookup. *fit (may be NULL) receives the parameters. Errors of
 * the summary and the fit pass through (UPF_ERR_DATA: no purchase before the
 * cutoff); out zeroed on failure. */
upf_status upf_aft_alive_fit(const upf_dataset *ds, int64_t cutoff, const int32_t *user /* (n) */, size_t n,
                             double *out /* (n) */, upf_bgnbd_params *fit, upf_err *err);

#endif
