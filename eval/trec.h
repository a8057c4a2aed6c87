/* trec.h - TREC qrels and run files, judged with the metrics of metrics.h so
 * any system's output is scored by the same code as upfunnel's own models.
 *
 * qrels: "query iteration doc relevance" per line (4 fields; iteration is
 * ignored; relevance a number, > 0 relevant, <= 0 judged non-relevant).
 * run:   "query Q0 doc rank score tag" per line (6 fields; Q0, rank and tag
 * are ignored). Fields are separated by spaces or tabs; blank lines and lines
 * starting with '#' are skipped; a document twice in one query is an error.
 * A query's documents are ranked by score descending, ties by document id in
 * byte order ascending (trec_eval breaks ties descending: ties_desc = 1).
 * Not here: printing (eval/cli_eval.c). Entry points: upf_trec_qrels_read,
 * upf_trec_run_read, upf_trec_evaluate.
 */
#ifndef UPF_TREC_H
#define UPF_TREC_H

#include <stddef.h>

#include "../model/base.h"
#include "metrics.h"

typedef struct upf_trec_file upf_trec_file; /* opaque: a parsed qrels or run file */

/* Parse a file. Errors name "path:line" (UPF_ERR_FORMAT), or the path and
 * the system's reason (UPF_ERR_IO). On success *out is owned (upf_trec_free). */
upf_status upf_trec_qrels_read(const char *path, upf_trec_file **out, upf_err *err);
upf_status upf_trec_run_read(const char *path, upf_trec_file **out, upf_err *err);
void upf_trec_free(upf_trec_file *f);
size_t upf_trec_n_queries(const upf_trec_file *f);
size_t upf_trec_n_lines(const upf_trec_file *f); /* data lines read */

typedef struct upf_trec_params {
    const upf_metric_spec *metrics; /* (n_metrics) borrowed; relevance metrics only */
    size_t n_metrics;
    upf_gain gain;          /* default exp */
    upf_discount discount;  /* default log2 */
    upf_empty_policy empty; /* judged queries without a relevant document: skip (default), zero, one */
    int ties_desc;          /* 1: ties by document id descending (trec_eval); default 0 */
    int complete;           /* 1: judged queries missing from the run count, with an empty
                               ranking (trec_eval -c); default 0: they are left out */
} upf_trec_params;

upf_trec_params upf_trec_params_default(void);

typedef struct upf_trec_result {
    size_t n_metrics;
    char (*names)[UPF_METRIC_NAME_MAX]; /* (n_metrics) owned */
    double *values;         /* (n_metrics) means over queries with a value */
    size_t *n_values;       /* (n_metrics) queries in each mean */
    size_t n_evaluated;     /* judged queries with a relevant document that were ranked */
    size_t n_empty;         /* judged queries without a relevant document (skipped or filled) */
    size_t n_unjudged;      /* queries in the run without any judgment: left out */
    size_t n_missing_run;   /* judged queries absent from the run: left out, or scored (complete) */
    size_t n_queries;       /* rows of the per-query table: every query in a mean */
    char **query;           /* (n_queries) ids in byte order, owned */
    double *per_query;      /* (n_queries, n_metrics) row-major; NaN: no value */
} upf_trec_result;

/* Scores run against qrels. UPF_ERR_ARG for a catalogue metric (coverage,
 * long_tail, novelty: a TREC file has no catalogue). On failure *out is zeroed. */
upf_status upf_trec_evaluate(const upf_trec_file *qrels, const upf_trec_file *run, const upf_trec_params *p,
                             upf_trec_result *out, upf_err *err);
double upf_trec_get(const upf_trec_result *r, const char *name); /* NaN when absent */
void upf_trec_result_free(upf_trec_result *r);                  /* accepts a zeroed struct */

#endif
