/* dataset.h - the in-memory upfunnel dataset (schema v1) and the builder that
 * importers and the generator fill.
 *
 * A upf_dataset mirrors the HDF5 file layout of ../DESIGN.md "Dataset file"
 * one to one (see datasets/README.md for the on-disk names). Every array is
 * owned by the dataset and freed by upf_dataset_free. Optional parts are NULL
 * (arrays) or have n == 0 (tables). Index types follow STYLE.md: int32 for user
 * and item indices, int64 for event rows and offsets.
 *
 * Entry points: upf_builder_* (build from rows, any order), upf_dataset_read /
 * upf_dataset_write (HDF5, in h5_io.c), upf_dataset_free.
 */
#ifndef UPF_DATASET_H
#define UPF_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "../model/base.h"

#define UPF_DATASET_FORMAT "upfunnel-dataset"
#define UPF_DATASET_VERSION 1

/* A missing timestamp (signup, birthday, added date). Same bit pattern as
 * pandas' NaT, so it reads naturally from Python. */
#define UPF_TIME_MISSING INT64_MIN

/* Event types, stored as the HDF5 enum /events/type. Serialized: numbers are
 * never renumbered or reused. */
typedef enum upf_event_type {
    UPF_EV_NONE = 0,     /* invalid */
    UPF_EV_VIEW = 1,     /* product page view / click on a product */
    UPF_EV_CART = 2,     /* add to cart; value = quantity */
    UPF_EV_PURCHASE = 3, /* value = revenue of the line (quantity * unit price) */
    UPF_EV_SEARCH = 4,   /* item = -1, query = index into queries; value unused */
    UPF_EV_RATING = 5,   /* value = the rating */
    UPF_EV_RETURN = 6,   /* cancellation or return; value = revenue refunded (>= 0) */
    UPF_EV_TAG = 7,      /* user tagged the item; query = the tag text */
    UPF_EV_TYPE_COUNT
} upf_event_type;

const char *upf_event_type_name(int type);        /* "view", ...; "none" if invalid */
int upf_event_type_from_name(const char *name);   /* 0 (UPF_EV_NONE) if unknown */

/* Item state changes (price, stock, listing), the HDF5 enum /item_events/kind. */
typedef enum upf_item_event_kind {
    UPF_IE_NONE = 0,
    UPF_IE_PRICE = 1,    /* value = new unit price */
    UPF_IE_STOCK = 2,    /* value = units in stock (0 = out of stock) */
    UPF_IE_LISTED = 3,   /* item became available (new arrival); value unused */
    UPF_IE_DELISTED = 4, /* item withdrawn; value unused */
    UPF_IE_KIND_COUNT
} upf_item_event_kind;

const char *upf_item_event_kind_name(int kind);   /* "price", ...; "none" if invalid */
int upf_item_event_kind_from_name(const char *name); /* 0 (UPF_IE_NONE) if unknown */

/* A table of n strings in one blob: string i is data + off[i], NUL-terminated,
 * of length off[i+1] - off[i] - 1. */
typedef struct upf_strings {
    size_t n;
    int64_t *off; /* (n+1) */
    char *data;   /* (off[n]) */
} upf_strings;

static inline const char *upf_strings_get(const upf_strings *s, size_t i) { return s->data + s->off[i]; }

/* Sparse attributes (CSR) of users or items. Attribute names are "field=value"
 * ("genre=Comedy", "brand=acme", "price_band=3", "token=mug") or a bare field
 * name for numeric attributes ("age", "history"), whose value is the number. */
typedef struct upf_attrs {
    size_t n_rows;     /* users or items; 0 when the dataset has no attributes */
    int64_t *ptr;      /* (n_rows+1) */
    int32_t *index;    /* (nnz) index into names */
    float *value;      /* (nnz) weight, 1 for categorical attributes */
    upf_strings names; /* (n_attrs) */
} upf_attrs;

/* A randomized (or logged) campaign: one row per assigned user. */
typedef struct upf_campaign {
    char *name;               /* group name under /campaigns */
    size_t n;                 /* rows */
    int32_t *user;            /* (n) index into users */
    int16_t *arm;             /* (n) 0 = control, 1.. = treatments; HDF5 name: treatment */
    float *propensity;        /* (n) P(this arm | user) at assignment, or NULL if unknown */
    int64_t *time;            /* (n) assignment time, or NULL */
    upf_strings arm_names;    /* (n_arms); arm 0 is the control */
    size_t n_outcomes;
    char **outcome_names;     /* (n_outcomes) "visit", "conversion", "spend" */
    float **outcome;          /* (n_outcomes) arrays of (n); HDF5: outcome_<name> */
} upf_campaign;

/* Messages sent to users (and the hold-out), for trigger back-tests. */
typedef struct upf_messages {
    size_t n;
    int32_t *user;            /* (n) */
    int64_t *time;            /* (n) */
    uint8_t *trigger;         /* (n) index into trigger_names */
    int32_t *item;            /* (n) featured item or -1 */
    int16_t *arm;             /* (n) 0 = held out (not sent), 1 = sent */
    upf_strings trigger_names;
} upf_messages;

/* Logged impressions of a recommendation policy (off-policy evaluation). */
typedef struct upf_impressions {
    size_t n;
    int32_t *user;            /* (n) index into users, -1 when the log has no identity */
    int64_t *time;            /* (n) */
    int32_t *item;            /* (n) item shown */
    int16_t *position;        /* (n) slot, 0-based */
    float *reward;            /* (n) click 0/1 or value */
    float *propensity;        /* (n) logging policy's P(item at position | context) */
    upf_attrs context;        /* (n rows) context features of each impression, may be empty */
    char *policy;             /* logging policy name, e.g. "random" */
} upf_impressions;

/* Item state over time, sorted by (item, time). */
typedef struct upf_item_events {
    size_t n;
    int32_t *item;            /* (n) */
    int64_t *time;            /* (n) */
    uint8_t *kind;            /* (n) upf_item_event_kind */
    float *value;             /* (n) */
} upf_item_events;

typedef struct upf_dataset {
    /* users */
    size_t n_users;
    upf_strings user_ids;     /* (n_users) original ids */
    int64_t *user_signup;     /* (n_users) unix s, or NULL; UPF_TIME_MISSING per user */
    int64_t *user_birthday;   /* (n_users) unix s of the birth date 00:00 UTC, or NULL */
    upf_attrs user_attrs;

    /* items */
    size_t n_items;
    upf_strings item_ids;     /* (n_items) original ids */
    float *item_price;        /* (n_items) or NULL; NaN where unknown */
    int64_t *item_added;      /* (n_items) listing time, or NULL; UPF_TIME_MISSING per item */
    uint8_t *item_in_stock;   /* (n_items) 0/1, or NULL */
    upf_attrs item_attrs;

    /* events, sorted by (user, time, then input order) */
    int64_t n_events;
    int32_t *ev_user;         /* (n_events) */
    int32_t *ev_item;         /* (n_events) -1 where the event has no item (search) */
    int64_t *ev_time;         /* (n_events) unix seconds */
    uint8_t *ev_type;         /* (n_events) upf_event_type */
    float *ev_value;          /* (n_events) rating, quantity or revenue (per type) */
    int32_t *ev_query;        /* (n_events) index into queries or -1; NULL if no queries */
    int64_t *user_ptr;        /* (n_users+1) user u owns events [user_ptr[u], user_ptr[u+1]) */
    upf_strings queries;      /* search strings and tag texts as typed */

    upf_item_events item_events;
    size_t n_campaigns;
    upf_campaign *campaigns;  /* (n_campaigns) */
    upf_messages messages;
    upf_impressions impressions;

    char *source;             /* free text: importer and inputs */
    char *created;            /* ISO-8601 UTC time of import */
} upf_dataset;

/* Frees everything; accepts NULL. */
void upf_dataset_free(upf_dataset *ds);

/* Structural checks shared by the reader and the builder: sorted events,
 * user_ptr monotone and ending at n_events, indices in range, CSR pointers
 * consistent, campaign arrays complete. Returns the first violation. */
upf_status upf_dataset_validate(const upf_dataset *ds, upf_err *err);

/* Attribute index by exact name, or -1. */
int32_t upf_attrs_find(const upf_attrs *a, const char *name);

/* ---- builder ---- */

/* Collects rows in any order, interns string ids, and produces a sorted,
 * validated dataset. Users and items get indices in order of first sight.
 * Not thread-safe. Strings (ids, queries, names) must be valid UTF-8 without
 * NUL bytes. Errors are sticky: the first failed call (invalid argument,
 * allocation failure) is remembered, every later call fails with the same
 * status (functions returning int32_t/int return -1), upf_builder_status
 * gives the message, and finish reports it. Memory: the columns (doubling)
 * and hash tables of the ids; no allocation per row. */
typedef struct upf_builder upf_builder;

upf_status upf_builder_create(upf_builder **out, upf_err *err);
void upf_builder_free(upf_builder *b); /* accepts NULL */
/* UPF_OK, or the first failure (copied into err when err is not NULL). */
upf_status upf_builder_status(const upf_builder *b, upf_err *err);
/* Optional: room for n_events events up front (saves the doubling copies). */
upf_status upf_builder_reserve(upf_builder *b, int64_t n_events);

int32_t upf_builder_user(upf_builder *b, const char *id, size_t len);
int32_t upf_builder_item(upf_builder *b, const char *id, size_t len);
/* Existing index of an id, or -1 when never seen (does not insert). */
int32_t upf_builder_find_user(const upf_builder *b, const char *id, size_t len);
int32_t upf_builder_find_item(const upf_builder *b, const char *id, size_t len);
int32_t upf_builder_query(upf_builder *b, const char *text, size_t len);

upf_status upf_builder_event(upf_builder *b, int32_t user, int32_t item, int64_t time,
                             int type, float value, int32_t query);
/* name as in upf_attrs; a repeated (row, name) pair adds the values. */
upf_status upf_builder_user_attr(upf_builder *b, int32_t user, const char *name, float value);
upf_status upf_builder_item_attr(upf_builder *b, int32_t item, const char *name, float value);
upf_status upf_builder_user_signup(upf_builder *b, int32_t user, int64_t t);
upf_status upf_builder_user_birthday(upf_builder *b, int32_t user, int64_t t);
upf_status upf_builder_item_price(upf_builder *b, int32_t item, float price);
upf_status upf_builder_item_added(upf_builder *b, int32_t item, int64_t t);
upf_status upf_builder_item_stock(upf_builder *b, int32_t item, int in_stock);
upf_status upf_builder_item_event(upf_builder *b, int32_t item, int64_t time, int kind, float value);

/* Campaigns: declare once (arm 0 is the control), then add rows. Returns the
 * campaign's index or -1. outcome values come in the declared order. */
int upf_builder_campaign(upf_builder *b, const char *name, const char *const *arm_names, size_t n_arms,
                         const char *const *outcome_names, size_t n_outcomes);
upf_status upf_builder_campaign_row(upf_builder *b, int campaign, int32_t user, int arm,
                                    float propensity /* NaN: unknown */, int64_t time /* UPF_TIME_MISSING */,
                                    const float *outcomes);
upf_status upf_builder_message(upf_builder *b, int32_t user, int64_t time, const char *trigger,
                               int32_t item, int arm);
upf_status upf_builder_impression(upf_builder *b, int32_t user, int64_t time, int32_t item, int position,
                                  float reward, float propensity);
/* Context feature of the most recently added impression. */
upf_status upf_builder_impression_context(upf_builder *b, const char *name, float value);
upf_status upf_builder_set_policy(upf_builder *b, const char *policy);
upf_status upf_builder_set_source(upf_builder *b, const char *source);
/* ISO-8601 creation time to record; default: the time finish runs. */
upf_status upf_builder_set_created(upf_builder *b, const char *created);

size_t upf_builder_n_users(const upf_builder *b);
size_t upf_builder_n_items(const upf_builder *b);
int64_t upf_builder_n_events(const upf_builder *b);

/* Sorts events by (user, time, input order) and item events by (item, time,
 * input order), builds user_ptr and the CSR attribute tables (names ascending
 * within a row, repeated (row, name) values summed), validates, and hands the
 * result over (*out owned by the caller, NULL on failure). The builder is
 * consumed (freed) whether or not this succeeds. Fields never set stay NULL
 * (signup, birthday, price, added, in_stock); set for some rows only, the
 * others get UPF_TIME_MISSING, NaN (price) or 1 (in_stock). A campaign's
 * propensity (time) is NULL when every row gave NaN (UPF_TIME_MISSING). */
upf_status upf_builder_finish(upf_builder *b, upf_dataset **out, upf_err *err);

#endif
