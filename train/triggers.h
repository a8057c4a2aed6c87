/* triggers.h - lifecycle triggers: the rules (from the config's model.* keys),
 * who is eligible for which trigger on a day, and the candidate items each
 * trigger brings, as pure functions over the events before a cutoff.
 *
 * Time: every time is UTC. A plan for day D uses the events with time < D
 * 00:00:00 UTC (the cutoff): an event exactly at the cutoff second belongs to
 * day D and is not seen. "Day" of a time t is floor(t / 86400).
 * Birthdays and signup anniversaries compare UTC calendar month and day; a
 * Feb 29 date is celebrated on Feb 28 in non-leap years.
 * Not here: item ordering by models (trigger_models.c), the choice among
 * triggers and budgets (trigger_select.c), plans and back-tests.
 * Entry points: upf_trig_rules_default, upf_trig_missing, upf_trig_day_create,
 * upf_trig_eligible.
 */
#ifndef UPF_TRIGGERS_H
#define UPF_TRIGGERS_H

#include <stddef.h>
#include <stdint.h>

#include "../datasets/dataset.h"
#include "../datasets/trigger_kinds.h"
#include "../model/base.h"

#define UPF_TRIG_DAY 86400
#define UPF_TRIG_MAX_CAND 32 /* raw candidate items (or queries) a trigger keeps per user */

/* What chose a message's items and sent it. */
typedef enum upf_trig_source {
    UPF_TRIG_SRC_RULE = 0,   /* rules only: the user's own most recent items */
    UPF_TRIG_SRC_RANKER = 1, /* items ordered / filtered by the ranker */
    UPF_TRIG_SRC_LIFETIME = 2, /* timing from the lifetime models (BG/NBD risk, repurchase intervals) */
    UPF_TRIG_SRC_UPLIFT = 3, /* chosen by the per-trigger uplift estimate from message logs */
    UPF_TRIG_SRC_RANDOM = 4, /* the random baseline */
    UPF_TRIG_SRC_COUNT
} upf_trig_source;
const char *upf_trig_source_name(int s);

/* The rules of every trigger (one struct; the config fills it). Days are UTC days. */
typedef struct upf_trig_rules {
    int enabled[UPF_TRIG_COUNT];      /* 1: the trigger runs */
    int priority[UPF_TRIG_COUNT];     /* lower = preferred when no uplift estimate exists */
    int window_days[UPF_TRIG_COUNT];  /* abandon: the triggering event is at most this many days old;
                                         price drop, back in stock, new arrivals: the change is */
    int repeat_days[UPF_TRIG_COUNT];  /* the same trigger reaches a user at most once per this many days */
    int expiry_days;                  /* abandon reminders expire: last day = event day + expiry_days (14) */
    int follow_up_days;               /* follow-up: this many days after the last purchase (10), once */
    int quiet_days;                   /* no message while a purchase is this many days old or newer (2) */
    int budget_messages;              /* at most this many messages per user ... (2) */
    int budget_days;                  /* ... in any window of this many days (7) */
    int budget_adaptive;              /* 1: the window stretches to the user's median purchase interval */
    int n_items;                      /* items shown per message, 1..UPF_TRIG_MAX_ITEMS (4) */
    double affinity_quantile;         /* item-state triggers: keep items whose ranker score reaches this
                                         quantile of the user's scores over the candidate pool (0.97) */
    int affinity_history_days;        /* rules: item-state items the user viewed/carted/bought in this many days (90) */
    int buy_again_tolerance_days;     /* buy again: sent from predicted time - tolerance up to the predicted day (3) */
    int buy_again_rule_days;          /* rules: an item bought twice is due this many days after the last (30) */
    double buy_again_probability;     /* model: send when P(rebuy within tolerance + 1 days) reaches this (0.5) */
    double win_back_threshold;        /* model: churn risk within the horizon at least this (0.6) */
    int win_back_horizon_days;        /* the horizon H of that risk (30) */
    int win_back_min_days;            /* no win-back while the last purchase is newer than this (21) */
    int win_back_rule_days;           /* rules: no purchase for this many days (60) */
    int win_back_max_days;            /* nobody lapsed longer than this (365) */
} upf_trig_rules;

upf_trig_rules upf_trig_rules_default(void);

/* Data a trigger needs and the dataset lacks: writes "birthday needs
 * /users/birthday" style text for each enabled trigger whose field is absent
 * into missing[k] (NULL when the data is there). Returns how many are missing. */
size_t upf_trig_missing(const upf_dataset *ds, const upf_trig_rules *r, const char *missing[UPF_TRIG_COUNT]);

/* Day-level state shared by every user: the items whose state changed
 * (price drop, back in stock, new arrival) in each trigger's window before
 * the cutoff, newest change first. */
typedef struct upf_trig_day {
    int64_t cutoff;                   /* D 00:00 UTC */
    size_t n_changed[UPF_TRIG_COUNT]; /* used for the three item-state kinds */
    int32_t *changed[UPF_TRIG_COUNT]; /* (n_changed[k]) item indices */
    int64_t *changed_time[UPF_TRIG_COUNT]; /* (n_changed[k]) time of the change */
    uint8_t *changed_bits;            /* (n_items) bit k - UPF_TRIG_PRICE_DROP set when item changed for k */
} upf_trig_day;

upf_status upf_trig_day_create(const upf_dataset *ds, const upf_trig_rules *r, int64_t cutoff, upf_trig_day *out,
                               upf_err *err);
void upf_trig_day_free(upf_trig_day *d); /* zeroes; accepts a zeroed struct */

/* One user's eligibility for one trigger. */
typedef struct upf_trig_cand {
    int eligible;
    int64_t anchor;                   /* time of the event that qualifies (cart, view, search, purchase, change) */
    int n;                            /* raw candidates */
    int32_t items[UPF_TRIG_MAX_CAND]; /* items (search abandon: query indices), most recent first */
} upf_trig_cand;

/* Index one past the user's last event with time < cutoff (binary search). */
int64_t upf_trig_prefix_end(const upf_dataset *ds, int32_t user, int64_t cutoff);

/* Calendar rule shared by birthday and anniversary: 1 when `date` (unix s)
 * falls on the same UTC month and day as `day` (Feb 29 -> Feb 28 in a non-leap
 * year), and date is in an earlier year when require_earlier_year is set. */
int upf_trig_same_calendar_day(int64_t date, int64_t day, int require_earlier_year);

/* The rule eligibility of user u for trigger k on day d (rules-only view:
 * item-state triggers keep items the user viewed, carted or bought within
 * affinity_history_days; buy again uses buy_again_rule_days; win-back
 * win_back_rule_days). Model-based variants refine these in trigger_plan.c.
 * Reads only events before d->cutoff. */
void upf_trig_eligible(const upf_dataset *ds, const upf_trig_rules *r, const upf_trig_day *d, int32_t u, int k,
                       upf_trig_cand *out);

/* Items user u bought at least once before the cutoff, with the time of the
 * last purchase and the number of distinct purchase days, most recently
 * bought first (at most cap, cap <= 256). */
int upf_trig_purchased(const upf_dataset *ds, int32_t u, int64_t cutoff, int32_t *items, int64_t *last, int *count,
                       int cap);

/* Time of the user's last purchase before cutoff, or UPF_TIME_MISSING. */
int64_t upf_trig_last_purchase(const upf_dataset *ds, int32_t u, int64_t cutoff);

/* The user's most recent distinct items (any item event) before cutoff. */
int upf_trig_recent_items(const upf_dataset *ds, int32_t u, int64_t cutoff, int32_t *items, int cap);

#endif
