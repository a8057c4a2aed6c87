/* gates.h - quality gates: "metric: OP BOUND" checks that make `train` exit 3
 * when a run falls below them, and the reference a relative gate compares with.
 *
 * Grammar (whitespace optional):  OP NUMBER | OP ref [(+|-|*) NUMBER]
 * with OP one of >=, >, <=, <. "ref" is the same metric in eval.reference: a
 * run directory (its metrics.json), a metrics.json file, or a .upf model whose
 * metadata holds eval.* metrics (upf_metric_meta_key names them).
 * Entry points: upf_gate_parse, upf_gate_bound, upf_gate_holds, upf_ref_*.
 */
#ifndef UPF_GATES_H
#define UPF_GATES_H

#include <stddef.h>

#include "../model/base.h"

typedef enum upf_gate_op { UPF_GATE_GE = 1, UPF_GATE_GT, UPF_GATE_LE, UPF_GATE_LT } upf_gate_op;

typedef enum upf_gate_bound_kind {
    UPF_GATE_ABSOLUTE = 0, /* bound = c */
    UPF_GATE_REF_PLUS,     /* bound = ref + c (c negative for "ref - x") */
    UPF_GATE_REF_TIMES     /* bound = ref * c */
} upf_gate_bound_kind;

typedef struct upf_gate {
    char metric[128];          /* "ndcg@10", "cold_items.recall@20" */
    upf_gate_op op;
    upf_gate_bound_kind kind;
    double c;
    char expr[128];            /* as written, for messages */
} upf_gate;

/* Parses one gate. UPF_ERR_CONFIG with "expected ..., got ..." (no position:
 * the config loader adds it). */
upf_status upf_gate_parse(const char *metric, const char *expr, upf_gate *out, upf_err *err);
const char *upf_gate_op_str(upf_gate_op op); /* ">=" ... */
double upf_gate_bound(const upf_gate *g, double ref);
/* 1 when value satisfies the gate against bound; NaN never does. */
int upf_gate_holds(const upf_gate *g, double value, double bound);

/* ---- references ---- */

typedef struct upf_ref upf_ref; /* opaque: metrics of a reference run or model */

/* Opens a reference: a directory holding metrics.json, a .json file, or a
 * .upf model. *out owned by the caller (upf_ref_free). */
upf_status upf_ref_open(const char *path, upf_ref **out, upf_err *err);
void upf_ref_free(upf_ref *r);
/* The reference's value of metric; UPF_ERR_ARG when it has none. */
upf_status upf_ref_value(const upf_ref *r, const char *metric, double *out);
const char *upf_ref_path(const upf_ref *r);

/* The model-file metadata key of a metric: "ndcg@10" -> "eval.ndcg_at_10",
 * "cold_items.recall@20" -> "eval.cold_items.recall_at_20"; characters other
 * than [a-z0-9_.] become '_'. */
void upf_metric_meta_key(const char *metric, char *buf, size_t n);

#endif
