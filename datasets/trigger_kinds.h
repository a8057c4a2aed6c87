/* trigger_kinds.h - the lifecycle trigger kinds and the planned message, shared
 * by the trigger planner (train/triggers.h) and the synthetic shop's planted
 * response (datasets/synth_response.h), so a plan can be scored by either.
 *
 * Not here: eligibility rules (train/triggers.c), the response model
 * (datasets/synth_response.c). Entry points: upf_trigger_name,
 * upf_trigger_from_name.
 */
#ifndef UPF_TRIGGER_KINDS_H
#define UPF_TRIGGER_KINDS_H

#include <stdint.h>

/* Serialized by name (plans, configs, /messages/trigger_names), never by number. */
typedef enum upf_trigger_kind {
    UPF_TRIG_CART_ABANDON = 0,   /* items carted and not bought */
    UPF_TRIG_BROWSE_ABANDON = 1, /* items viewed, nothing bought since */
    UPF_TRIG_SEARCH_ABANDON = 2, /* searched, nothing bought since */
    UPF_TRIG_FOLLOW_UP = 3,      /* N days after the last purchase, once */
    UPF_TRIG_BIRTHDAY = 4,       /* the user's birthday (UTC calendar date) */
    UPF_TRIG_ANNIVERSARY = 5,    /* the anniversary of the signup date */
    UPF_TRIG_PRICE_DROP = 6,     /* an item with affinity got cheaper */
    UPF_TRIG_BACK_IN_STOCK = 7,  /* an item with affinity is back in stock */
    UPF_TRIG_NEW_ARRIVALS = 8,   /* newly listed items with affinity */
    UPF_TRIG_BUY_AGAIN = 9,      /* a rebought item is due */
    UPF_TRIG_WIN_BACK = 10,      /* the user is likely lapsing */
    UPF_TRIG_COUNT
} upf_trigger_kind;

#define UPF_TRIG_MAX_ITEMS 8 /* items one message can show */

/* One planned (or sent) message. day is the unix second of 00:00 UTC of the
 * send day; items[0..n_items) are item indices, best first. */
typedef struct upf_trig_msg {
    int32_t user;
    int32_t n_items;
    int64_t day;
    int32_t trigger;                    /* upf_trigger_kind */
    int32_t items[UPF_TRIG_MAX_ITEMS];
    float score;                        /* the selection value that chose it */
    int32_t source;                     /* upf_trig_source (train/triggers.h) */
    int64_t anchor;                     /* time of the event that qualified, or INT64_MIN */
} upf_trig_msg;

/* "cart_abandon", ...; "none" when out of range. */
const char *upf_trigger_name(int kind);
/* The kind of a name, or -1. */
int upf_trigger_from_name(const char *name);

#endif
