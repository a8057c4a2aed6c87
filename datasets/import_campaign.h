/* import_campaign.h - a campaign (randomized or logged treatment assignment
 * with outcomes) from any delimited file into a dataset builder: one row per
 * assigned user, a column with the arm, one or more outcome columns, and
 * optionally the user id, the assignment propensity, the assignment time and
 * user covariates (numeric columns as they are, categorical ones as
 * "column=value" attributes, the dataset's one-hot convention).
 *
 * Arms: the control (by its value, --control) is arm 0; the treatments
 * follow in the order given (arm_order) or in order of first appearance.
 * A user seen on several rows gets its attributes from the first one.
 * Not here: events (the generic event import) and presets (Hillstrom has
 * its own, `--preset hillstrom`; this is for your own files).
 * Entry points: upf_campaign_csv_opts_default, upf_campaign_import_csv.
 */
#ifndef UPF_IMPORT_CAMPAIGN_H
#define UPF_IMPORT_CAMPAIGN_H

#include <stddef.h>
#include <stdint.h>

#include "../model/base.h"
#include "csv.h"
#include "dataset.h"

typedef struct upf_campaign_csv_opts {
    const char *name;                   /* campaign name (an HDF5 group name) */
    const char *user_col;               /* column of user ids, or NULL: the row number (1, 2, ...) */
    const char *arm_col;                /* column naming each row's arm */
    const char *control;                /* the arm value of the control */
    const char *const *arm_order;       /* (n_arm_order) treatment values in arm order, or NULL */
    size_t n_arm_order;
    const char *const *outcome_cols;    /* (n_outcomes) numeric columns; their names become the outcome names */
    size_t n_outcomes;
    const char *propensity_col;         /* P(assigned arm | user), in (0, 1], or NULL */
    const char *time_col;               /* assignment time, or NULL */
    int time_format;                    /* upf_time_format for time_col */
    const char *const *num_cols;        /* (n_num) numeric user covariates */
    size_t n_num;
    const char *const *cat_cols;        /* (n_cat) categorical user covariates */
    size_t n_cat;
    upf_csv_opts csv;                   /* delimiter, header (required), quoting */
    int skip_bad_rows;                  /* 1: count malformed rows and go on; 0: the first one is an error */
} upf_campaign_csv_opts;

/* Comma-separated with a header, no optional columns, bad rows are errors. */
upf_campaign_csv_opts upf_campaign_csv_opts_default(void);

typedef struct upf_campaign_csv_stats {
    uint64_t rows;          /* data rows read */
    uint64_t kept;          /* campaign rows added */
    uint64_t bad;           /* malformed rows skipped (skip_bad_rows) */
    size_t n_arms;          /* with the control */
    uint64_t per_arm[64];   /* rows per arm (first 64 arms) */
    char first_bad[256];    /* message of the first skipped row */
} upf_campaign_csv_stats;

/* Reads path into builder b (users, their attributes, the campaign and its
 * rows). Errors name the file, line and column and quote the offending
 * text: a missing column, an arm value not in arm_order, no control row, a
 * non-numeric outcome, a propensity outside (0, 1], an unparseable time.
 * UPF_ERR_INTERRUPTED on Ctrl-C. stats may be NULL. */
upf_status upf_campaign_import_csv(upf_builder *b, const char *path, const upf_campaign_csv_opts *o,
                                   upf_campaign_csv_stats *stats, upf_err *err);

#endif
