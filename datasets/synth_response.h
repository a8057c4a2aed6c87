/* synth_response.h - the planted response of each synthetic user to each
 * lifecycle trigger, and the oracle that scores a message plan with it.
 *
 * The response is a pure function of the truth (upf_synth_truth), the
 * dataset it generated and a seed; it changes nothing in the generated data,
 * so every existing output of `upfunnel data synth` stays byte-identical. The
 * formulas (SYNTH.md "Planted trigger response"):
 *   sens(u, k)  = 1 + 0.7 N(0, 1), drawn from upf_rng stream u of seed ^ RESP;
 *                 negative for ~8% of (user, trigger) pairs (messages annoy them)
 *   f(u, i)     = sigmoid(2 (s_ui - 1)), s_ui = (a_u(i) - mean_u a) / sd_u a, the
 *                 user's standardized true affinity; times 0.2 when the item is
 *                 durable (rebuy 0) and the user bought it before the message
 *   buy again:  f *= exp(-|since_ui - tau_i m_u| / (0.5 tau_i m_u)) (timing)
 *   win-back:   x *= min(2, 0.2 + since_u / lambda_u) (at-risk users respond more)
 *   alive:      1 before user_death, else 0.25 (win-back) or 0.05 (other triggers)
 *   value(m)    = alive * sens(u, k) * base_k * x * (1 - prod_i (1 - f(u, i))) *
 *                 0.5^(messages to u in the plan during the 7 days before m)
 * the expected incremental purchases the message causes. A plan's value is
 * the sum; the "no message" plan is worth 0.
 * Entry points: upf_synth_response_create, upf_synth_response_free,
 * upf_synth_plan_value.
 */
#ifndef UPF_SYNTH_RESPONSE_H
#define UPF_SYNTH_RESPONSE_H

#include <stddef.h>
#include <stdint.h>

#include "../model/base.h"
#include "dataset.h"
#include "synth.h"
#include "trigger_kinds.h"

typedef struct upf_synth_response {
    const upf_synth_truth *truth; /* borrowed */
    const upf_dataset *ds;        /* borrowed: the generated history (for since/owned) */
    size_t n_users, n_items;
    float *sens;                  /* (n_users, UPF_TRIG_COUNT) */
    float *aff_mean, *aff_sd;     /* (n_users) of a_u(i) over the catalogue */
    double base[UPF_TRIG_COUNT];  /* base_k: incremental purchases of a perfect message */
} upf_synth_response;

/* Draws the per-user sensitivities and the affinity moments (O(users * items
 * * dim)). truth and ds are borrowed and must outlive the response; ds must be
 * the dataset generated with truth. *out NULL on failure. */
upf_status upf_synth_response_create(const upf_synth_truth *truth, const upf_dataset *ds, uint64_t seed,
                                     upf_synth_response **out, upf_err *err);
void upf_synth_response_free(upf_synth_response *r); /* accepts NULL */

/* The true expected incremental purchases of one message, ignoring fatigue. */
double upf_synth_message_value(const upf_synth_response *r, const upf_trig_msg *m);

/* The true expected incremental purchases of the plan msgs[0..n) (any order;
 * fatigue counts earlier messages of the same user in the plan): total, and
 * per trigger into per_trigger (UPF_TRIG_COUNT) when not NULL. UPF_ERR_ARG for
 * a user, item or trigger out of range. */
upf_status upf_synth_plan_value(const upf_synth_response *r, const upf_trig_msg *msgs, size_t n, double *total,
                                double *per_trigger, upf_err *err);

#endif
