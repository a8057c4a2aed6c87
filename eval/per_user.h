/* per_user.h - per_user.csv: each user's metric values from one run, the file
 * `upfunnel compare` pairs between runs (format: eval/README.md).
 *
 * Format v1: RFC 4180 CSV, UTF-8, '\n' line ends (the reader also takes
 * "\r\n"). Header "user,<metric>,<metric>..." (first column literally
 * "user", metric names as in metrics.json: "ndcg@10"); then one row per user:
 * the user's id (the dataset's original id, or the decimal user index when
 * no ids are known), then each value as the shortest decimal that reads back
 * to the same double, or an empty field when the user has no value. Fields
 * holding a comma, quote or line break are quoted, quotes doubled. Users and
 * metric names are unique. Written atomically (model/outfile.h).
 * Entry points: upf_per_user_add + upf_per_user_write (the runner),
 * upf_per_user_from_rank_eval, upf_per_user_read.
 */
#ifndef UPF_PER_USER_H
#define UPF_PER_USER_H

#include <stddef.h>
#include <stdint.h>

#include "../model/base.h"
#include "rank_eval.h"

typedef struct upf_per_user {
    size_t n_users, n_metrics;
    char **users;      /* (n_users) ids, owned */
    char **metrics;    /* (n_metrics) names, owned */
    double *values;    /* (n_users, n_metrics) row-major; NaN: no value */
    /* private: id -> row index (open addressing), rebuilt as rows are added */
    size_t *slot_;
    size_t n_slot_;
} upf_per_user;

/* Adds (or replaces) the column `metric` for n users: users[i] is a user
 * index, named user_ids[users[i]] when user_ids is given, else its decimal
 * index. New users get rows (NaN in the other columns); users not listed keep
 * NaN in this column. t starts zeroed. On failure t is left as it was before
 * the call, except for a partially added column filled with NaN. */
upf_status upf_per_user_add(upf_per_user *t, const char *metric, const int32_t *users, const double *values,
                            size_t n, const char *const *user_ids, upf_err *err);
/* Every per-user metric of an evaluation (coverage, which has no per-user
 * value, is left out). r must come from params.per_user = 1. */
upf_status upf_per_user_from_rank_eval(upf_per_user *t, const upf_rank_eval_result *r, const char *const *user_ids,
                                       upf_err *err);
/* Writes t to path atomically. */
upf_status upf_per_user_write(const char *path, const upf_per_user *t, upf_err *err);
/* Reads a file; errors name "path:line:column" (UPF_ERR_FORMAT) or the
 * system's reason (UPF_ERR_IO). On failure *out is zeroed. */
upf_status upf_per_user_read(const char *path, upf_per_user *out, upf_err *err);
/* Column of a metric, or -1. */
long upf_per_user_column(const upf_per_user *t, const char *metric);
/* Row of a user id, or -1. */
long upf_per_user_row(const upf_per_user *t, const char *user);
void upf_per_user_free(upf_per_user *t); /* accepts a zeroed struct */

#endif
