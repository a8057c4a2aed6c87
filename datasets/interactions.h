/* interactions.h - the user x item interaction matrix (CSR) that rankers train
 * on and the evaluator judges against, and the splits that divide it.
 *
 * One definition serves trainer and evaluator so both see the same train/test
 * partition. Building: events are filtered by type (and rating threshold),
 * every (user, item) pair becomes one entry whose grade is the largest grade
 * among its events and whose time is its first event's time. Splits act on
 * those entries: random per-user fraction (seeded), leave-last-N per user (by
 * time), or temporal (entries first seen at or after a cutoff go to test).
 */
#ifndef UPF_INTERACTIONS_H
#define UPF_INTERACTIONS_H

#include <stdint.h>

#include "dataset.h"

/* Sparse matrix, rows = users, columns = items. Within a row, idx ascends. */
typedef struct upf_csr {
    size_t n_rows, n_cols;
    int64_t *ptr;  /* (n_rows+1) */
    int32_t *idx;  /* (nnz) column (item) index */
    float *val;    /* (nnz) grade / weight (> 0) */
    int64_t *time; /* (nnz) first event time of the pair, or NULL */
} upf_csr;

static inline int64_t upf_csr_nnz(const upf_csr *m) { return m->ptr ? m->ptr[m->n_rows] : 0; }

/* Frees the members and zeroes the struct; accepts a zeroed struct. */
void upf_csr_free(upf_csr *m);
/* Deep copy. */
upf_status upf_csr_copy(const upf_csr *src, upf_csr *dst, upf_err *err);
/* Is item j in row u? Binary search, O(log row length). */
int upf_csr_has(const upf_csr *m, size_t u, int32_t j);
/* The transpose (items x users), with values and times carried along. */
upf_status upf_csr_transpose(const upf_csr *m, upf_csr *out, upf_err *err);

typedef struct upf_interaction_params {
    uint32_t types;            /* bitmask over upf_event_type: (1u << UPF_EV_PURCHASE) | ... */
    float min_rating;          /* RATING events count only when value >= min_rating */
    float grade[UPF_EV_TYPE_COUNT]; /* grade of each type; a pair keeps its maximum */
    int64_t time_begin;        /* events with time >= time_begin ... */
    int64_t time_end;          /* ... and time < time_end (INT64_MIN/INT64_MAX: no bound) */
} upf_interaction_params;

/* Purchases, carts, views and ratings all count; grades purchase 3, cart 2,
 * view 1, rating 1 (and return 1, tag 1 for masks that add them); min_rating
 * 0; no time bounds. */
upf_interaction_params upf_interaction_params_default(void);

/* out (owned, upf_csr_free; zeroed on failure): n_users x n_items with
 * times. Events without an item (search) never count. UPF_ERR_ARG for an
 * empty or invalid type mask, a grade <= 0 of a counted type, an empty time
 * range. */
upf_status upf_interactions_build(const upf_dataset *ds, const upf_interaction_params *p,
                                  upf_csr *out, upf_err *err);

typedef enum upf_split_kind {
    UPF_SPLIT_NONE = 0,
    UPF_SPLIT_RANDOM = 1,   /* per user, a random test_frac of entries (seeded) */
    UPF_SPLIT_LAST_N = 2,   /* per user, the last_n entries by time */
    UPF_SPLIT_TEMPORAL = 3, /* entries with time >= cutoff */
    UPF_SPLIT_KIND_COUNT
} upf_split_kind;

typedef struct upf_split_params {
    upf_split_kind kind;
    double test_frac;     /* RANDOM: in (0,1); a user with n >= min_entries entries gives
                             max(1, round(test_frac * n)) to test */
    uint32_t last_n;      /* LAST_N: >= 1 */
    int64_t cutoff;       /* TEMPORAL: unix seconds */
    uint32_t min_entries; /* RANDOM/LAST_N: users with fewer entries keep all in train (default 2) */
    uint64_t seed;        /* RANDOM */
} upf_split_params;

upf_split_params upf_split_params_default(void); /* RANDOM, 0.2, min_entries 2, seed 42 */
const char *upf_split_kind_name(upf_split_kind k);

/* Partitions every entry of `all` into train or test (same shape as all,
 * values and times carried; both owned, zeroed on failure). RANDOM: round()
 * is half away from zero, the count is capped at n, and the draw of user u
 * comes from upf_rng_seed(seed, u) alone. LAST_N: min(last_n, n) entries of
 * the latest times, the higher item index counting as later at equal times.
 * TEMPORAL: time >= cutoff is test. LAST_N and TEMPORAL need all->time.
 * Deterministic for a given seed. */
upf_status upf_split_csr(const upf_csr *all, const upf_split_params *p, upf_csr *train, upf_csr *test,
                         upf_err *err);

#endif
