/* trigger_select.h - the choice among a user's eligible triggers and the
 * constraints around it: a message budget per user (at most budget_messages
 * in any budget_days window, stretched to the user's median purchase interval
 * when budget_adaptive), a quiet period after a purchase, and per-trigger
 * repeat limits, over a history of sent messages (logged /messages with arm
 * 1 and the messages planned so far).
 * Not here: eligibility (triggers.h), items (trigger_plan.c).
 * Entry points: upf_trig_state_create / _free / _record / _load_messages,
 * upf_trig_value, upf_trig_budget_window, upf_trig_budget_used.
 */
#ifndef UPF_TRIGGER_SELECT_H
#define UPF_TRIGGER_SELECT_H

#include <stddef.h>
#include <stdint.h>

#include "trigger_models.h"
#include "triggers.h"

#define UPF_TRIG_RING 16 /* sent-message days kept per user (budget_messages <= this) */

/* Why an eligible user got no message of a trigger. */
typedef enum upf_trig_reason {
    UPF_TRIG_WHY_SENT = 0,
    UPF_TRIG_WHY_QUIET = 1,     /* a purchase within quiet_days */
    UPF_TRIG_WHY_REPEAT = 2,    /* the same trigger reached the user within repeat_days */
    UPF_TRIG_WHY_BUDGET = 3,    /* the user's message budget is spent */
    UPF_TRIG_WHY_OUTRANKED = 4, /* another trigger won */
    UPF_TRIG_WHY_NO_VALUE = 5,  /* the model saw no affinity, risk or uplift */
    UPF_TRIG_WHY_COUNT
} upf_trig_reason;
const char *upf_trig_reason_name(int r);

/* Messages sent so far, per user. */
typedef struct upf_trig_state {
    size_t n_users;
    int64_t *last_day;   /* (n_users, UPF_TRIG_COUNT) day start of the last message of each trigger, or UPF_TIME_MISSING */
    int64_t *ring;       /* (n_users, UPF_TRIG_RING) day starts of the latest messages, UPF_TIME_MISSING when empty */
    uint8_t *ring_pos;   /* (n_users) next slot */
} upf_trig_state;

upf_status upf_trig_state_create(size_t n_users, upf_trig_state *out, upf_err *err);
void upf_trig_state_free(upf_trig_state *s); /* zeroes; accepts a zeroed struct */
void upf_trig_state_record(upf_trig_state *s, int32_t u, int k, int64_t day);
/* Records the dataset's sent messages (arm > 0) with time < cutoff whose
 * trigger name is a known kind. */
void upf_trig_state_load_messages(upf_trig_state *s, const upf_dataset *ds, int64_t cutoff);

/* 1 when trigger k reached u on a day within repeat_days before `day`. */
int upf_trig_repeat_blocked(const upf_trig_state *s, const upf_trig_rules *r, int32_t u, int k, int64_t day);
/* The budget window in days for user u: budget_days, or with budget_adaptive
 * the median of the user's gaps between purchase days before cutoff, clamped
 * to [budget_days, 4 budget_days]. */
int upf_trig_budget_window(const upf_dataset *ds, const upf_trig_rules *r, int32_t u, int64_t cutoff);
/* Messages u received in the `window` days before `day`. */
int upf_trig_budget_used(const upf_trig_state *s, int32_t u, int64_t day, int window);

/* Selection value of trigger k for a candidate message: with an uplift
 * estimate (models with has_uplift[k]) UPF_TRIG_COUNT + 1 + uplift * (0.5 +
 * item_score) when the uplift is positive (a measured gain outranks every
 * priority), -1 (do not send) when it is not (source uplift); otherwise the priority rank (UPF_TRIG_COUNT - priority) plus the item score
 * in [0, 1) as a tie-break. */
double upf_trig_value(const upf_trig_rules *r, const upf_trig_models *m, int k, double item_score, int *source);

#endif
