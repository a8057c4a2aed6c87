/* trigger_plan.h - plans one day of lifecycle messages: every user's
 * eligible triggers (triggers.h), their items (the user's own items under
 * the rules; the ranker's order, affinity filters, BG/NBD risk and repurchase
 * timing under the models), the choice among them and the constraints
 * (trigger_select.h). Three modes: the model plan, "rules only" (no models,
 * the user's most recent items) and a random plan (a random eligible trigger,
 * random candidate items), which the back-test compares.
 * Not here: files (trigger_io.c), replay over days (trigger_backtest.c).
 * Entry points: upf_trig_planner_create / _free, upf_trig_plan_day,
 * upf_trig_msg_why.
 */
#ifndef UPF_TRIGGER_PLAN_H
#define UPF_TRIGGER_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "../datasets/interactions.h"
#include "trigger_models.h"
#include "trigger_select.h"
#include "triggers.h"

typedef enum upf_trig_mode {
    UPF_TRIG_MODE_MODEL = 0,
    UPF_TRIG_MODE_RULES = 1,
    UPF_TRIG_MODE_RANDOM = 2,
    UPF_TRIG_MODE_COUNT
} upf_trig_mode;

/* A growing list of messages. */
typedef struct upf_trig_msgs {
    size_t n, cap;
    upf_trig_msg *v; /* (n) */
} upf_trig_msgs;
void upf_trig_msgs_free(upf_trig_msgs *m); /* zeroes */

/* Counts of one planned day (or summed over days). */
typedef struct upf_trig_stats {
    int64_t audience[UPF_TRIG_COUNT];                   /* users eligible */
    int64_t sent[UPF_TRIG_COUNT];
    int64_t why[UPF_TRIG_COUNT][UPF_TRIG_WHY_COUNT];    /* eligible users by outcome (why[k][0] = sent) */
    double seconds[UPF_TRIG_COUNT];                     /* eligibility + items, when timing is on */
} upf_trig_stats;

typedef struct upf_trig_planner {
    const upf_dataset *ds;  /* borrowed */
    upf_trig_rules rules;
    int32_t *item_cat;      /* (n_items) index of the item's first "category=" attribute, -1 */
    upf_csr tokens;         /* (n_attrs, n_items): items of each "token=" attribute (others empty) */
    float *pop;             /* (n_items) interactions in the 30 days before the planned day */
    int32_t *pop_order;     /* (n_pop) items by pop, descending */
    size_t n_pop;
    int timing;             /* 1: fill upf_trig_stats.seconds */
    upf_trig_msgs *audience; /* when not NULL: one entry (user, day, trigger, no items) per eligible pair */
    int32_t *scratch;       /* (n_items) */
} upf_trig_planner;

upf_status upf_trig_planner_create(const upf_dataset *ds, const upf_trig_rules *r, upf_trig_planner **out,
                                   upf_err *err);
void upf_trig_planner_free(upf_trig_planner *p); /* accepts NULL */

/* Plans the day starting at `day` (00:00 UTC; only events before it are
 * read): appends the messages to out (sorted by user), adds the counts to
 * stats, and records sent messages in state. models is required in model
 * mode (a model that is off falls back to the rule) and ignored otherwise;
 * seed drives the random mode only. Polls upf_interrupted(). */
upf_status upf_trig_plan_day(upf_trig_planner *p, upf_trig_mode mode, const upf_trig_models *models, int64_t day,
                             upf_trig_state *state, uint64_t seed, upf_trig_msgs *out, upf_trig_stats *stats,
                             upf_err *err);

/* One line saying why a message was planned ("cart_abandon: carted
 * 2024-03-02T10:00:00Z, not bought; items: as carted (rule)"). */
void upf_trig_msg_why(const upf_trig_msg *m, char *buf, size_t n);

#endif
