/* kinds.h - what each model kind stores: the tensor and metadata names that
 * trainers write and the runtime reads. One table of truth for both sides;
 * model/kinds.c checks a file's contents against it at open.
 *
 * Common metadata (every kind):
 *   model.family (STR)        config's model.family, e.g. "ranker", "popularity", "aft"
 *   train.seed (U64), train.config_yaml (STR: the resolved config),
 *   data.time_min / data.time_max (I64, unix s), data.path (STR),
 *   eval.<metric> (F64)       headline metrics at export, e.g. eval.ndcg_at_10
 *   provenance.created_unix (I64, optional; tests pin or omit it)
 */
#ifndef UPF_KINDS_H
#define UPF_KINDS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- UPF_KIND_RANKER: score(u, i) = item_bias[i] + dot(user_vec(u), item_factors[i]) ----
 * Popularity baselines export as a ranker with dim 0 (bias only).
 * A known user's vector is user_factors[u] (id part plus attributes, summed at
 * export). A user described by an attribute profile gets
 *   sum_a w_a * user_attr_factors[a]
 * and recent items add mean(item_factors[recent]) * ranker.recent_weight. */
#define UPF_T_ITEM_FACTORS "item_factors"           /* F32/F16/I8S (n_items, dim) */
#define UPF_T_ITEM_BIAS "item_bias"                 /* F32 (n_items) */
#define UPF_T_USER_FACTORS "user_factors"           /* F32/F16/I8S (n_users, dim), optional */
#define UPF_T_USER_ATTR_FACTORS "user_attr_factors" /* F32/F16/I8S (n_user_attrs, dim), optional */
#define UPF_T_ITEM_FLAGS "item_flags"               /* U8 (n_items), optional: bit0 in stock */
#define UPF_M_DIM "ranker.dim"                      /* U64 */
#define UPF_M_RECENT_WEIGHT "ranker.recent_weight"  /* F64, default 1 */
#define UPF_M_ITEM_IDS "items.ids"                  /* STR_ARRAY (n_items) original ids */
#define UPF_M_USER_IDS "users.ids"                  /* STR_ARRAY (n_users), optional */
#define UPF_M_USER_ATTR_NAMES "user_attrs.names"    /* STR_ARRAY (n_user_attrs), optional */

/* ---- UPF_KIND_COOCCUR: score(recent items R, i) = sum_{j in R} sim[j][i] ----
 * Top neighbours per item, CSR over items. */
#define UPF_T_NEIGHBOR_PTR "neighbor_ptr"           /* I64 (n_items+1) */
#define UPF_T_NEIGHBOR_IDX "neighbor_idx"           /* I32 (nnz) */
#define UPF_T_NEIGHBOR_SIM "neighbor_sim"           /* F32 (nnz) */

/* ---- UPF_KIND_LIFETIME_AFT: log T = x.beta + sigma * W ----
 * x is the standardized feature vector ((raw - center) / scale) with a trailing
 * 1 for the intercept; W is standard extreme-value (Weibull) or logistic
 * (log-logistic). Time unit: days. */
#define UPF_M_AFT_DIST "aft.distribution"           /* STR "weibull" | "loglogistic" */
#define UPF_M_AFT_BETA "aft.beta"                   /* F64_ARRAY (n_features + 1), intercept last */
#define UPF_M_AFT_LOG_SIGMA "aft.log_sigma"         /* F64 */
#define UPF_M_AFT_FEATURES "features.names"         /* STR_ARRAY (n_features) */
#define UPF_M_AFT_CENTER "features.center"          /* F64_ARRAY (n_features) */
#define UPF_M_AFT_SCALE "features.scale"            /* F64_ARRAY (n_features), > 0 */
#define UPF_M_AFT_HORIZON "aft.horizon_days"        /* F64 > 0: the default H of P(no purchase within H) */
#define UPF_M_AFT_TARGET "aft.target"               /* STR "user" | "user_item" (buy-again) | "interval" (the gap
                                                       between purchases: ask with elapsed days), optional: "user" */

/* ---- UPF_KIND_LIFETIME_BGNBD: Fader, Hardie & Lee (2005); time unit weeks ---- */
#define UPF_M_BGNBD_R "bgnbd.r"                     /* F64 */
#define UPF_M_BGNBD_ALPHA "bgnbd.alpha"             /* F64 */
#define UPF_M_BGNBD_A "bgnbd.a"                     /* F64 */
#define UPF_M_BGNBD_B "bgnbd.b"                     /* F64 */
#define UPF_M_GG_P "gamma_gamma.p"                  /* F64, optional */
#define UPF_M_GG_Q "gamma_gamma.q"                  /* F64, optional */
#define UPF_M_GG_GAMMA "gamma_gamma.gamma"          /* F64, optional */
#define UPF_M_BGNBD_UNIT_DAYS "bgnbd.time_unit_days"  /* F64, optional: days per time unit (7 = weeks) */
#define UPF_M_BGNBD_CAL_END "bgnbd.calibration_end"  /* I64, optional: unix s of the last calibration day */
#define UPF_M_BGNBD_VARIANT "bgnbd.variant"          /* STR "mbgnbd", CRITICAL, only for MBG/NBD models (Batislam
                                                        et al. 2007: dropout also after the first purchase);
                                                        absent = BG/NBD. A reader that scores BG/NBD only must
                                                        refuse such a file, which CRITICAL makes it do. */
#define UPF_M_PNBD_R "pareto_nbd.r"                 /* F64, optional: Pareto/NBD fitted beside BG/NBD */
#define UPF_M_PNBD_ALPHA "pareto_nbd.alpha"         /* F64, optional */
#define UPF_M_PNBD_S "pareto_nbd.s"                 /* F64, optional */
#define UPF_M_PNBD_BETA "pareto_nbd.beta"           /* F64, optional */
/* AFT, optional: where T counts from. "cutoff": the scoring time (the
 * features' cutoff), so queries use elapsed 0; "last_purchase" (target
 * interval): the customer's last purchase, so queries pass the days elapsed
 * since it. Labels were observed over window_days. */
#define UPF_M_AFT_TIME_ORIGIN "aft.time_origin"     /* STR "cutoff" | "last_purchase", optional */
#define UPF_M_AFT_WINDOW "aft.window_days"          /* F64, optional */

/* ---- UPF_KIND_UPLIFT: per arm a logistic response model ----
 * p_arm(x) = sigmoid(x . weights[arm]) with x standardized as for AFT (trailing
 * 1 for the intercept); uplift of arm k = p_k(x) - p_0(x). The
 * class-transformation model stores one row that predicts uplift directly
 * (uplift.method says which). By method:
 *   two_model:       n_rows = n_arms; p_k = sigmoid(x . w[k])
 *   interaction:     n_rows = n_arms; p_0 = sigmoid(x . w[0]),
 *                    p_k = sigmoid(x . w[0] + x . w[k]) (Lo 2002, one model
 *                    with treatment x feature terms)
 *   class_transform: n_rows = n_arms - 1 (row k - 1 for arm k); p = P(z = 1 | x)
 *                    for z = y t + (1 - y)(1 - t) (Jaskowski & Jaroszewicz
 *                    2012), trained on arms 0 and k with the assignment
 *                    balanced by row weights, so uplift_k = 2p - 1; no
 *                    per-arm p. (Files before the multi-arm form had
 *                    n_arms = 2 and one row: the same rule.)
 * uplift.link (optional): "logit" (the default: the rules above) or
 * "identity" for continuous outcomes (linear models): p_k is the linear
 * predictor itself (the expected outcome) and a class_transform row
 * predicts the uplift directly (the transformed outcome of Athey & Imbens
 * 2015). Written only for identity and flagged CRITICAL, so a reader that
 * predates it refuses the file instead of applying a sigmoid. */
#define UPF_T_UPLIFT_WEIGHTS "uplift_weights"       /* F32 (n_rows, n_features + 1) */
#define UPF_M_UPLIFT_METHOD "uplift.method"         /* STR "two_model" | "class_transform" | "interaction" */
#define UPF_M_UPLIFT_ARMS "uplift.arms"             /* STR_ARRAY (n_arms), arm 0 the control */
#define UPF_M_UPLIFT_OUTCOME "uplift.outcome"       /* STR */
#define UPF_M_UPLIFT_LINK "uplift.link"             /* STR "logit" | "identity", optional (CRITICAL when written) */
/* features.names / features.center / features.scale as for AFT */

/* ---- written by `upfunnel export` ---- */
#define UPF_M_EXPORT_DTYPE "export.dtype"           /* STR "f32" | "f16" | "int8" */
#define UPF_M_EXPORT_SOURCE_CRC "export.source_crc32" /* U64: CRC-32 of the whole source file */
#define UPF_M_EXPORT_SOURCE_SIZE "export.source_size" /* U64: its size in bytes */

/* ---- the table of truth (kinds.c) ---- */

#define UPF_KIND_REQUIRED 1
#define UPF_KIND_OPTIONAL 0

typedef struct upf_kind_tensor_spec {
    const char *name;
    uint32_t dtypes;       /* allowed stored dtypes: bit (1u << upf_dtype) */
    int required;          /* UPF_KIND_REQUIRED or UPF_KIND_OPTIONAL (ranker: factors required when dim > 0) */
} upf_kind_tensor_spec;

typedef struct upf_kind_meta_spec {
    const char *key;
    uint32_t vtype;        /* upf_meta_type */
    int required;
} upf_kind_meta_spec;

typedef struct upf_kind_spec {
    uint32_t kind;
    const char *name;                       /* as upf_kind_name */
    const upf_kind_tensor_spec *tensors;    /* ends with name NULL */
    const upf_kind_meta_spec *meta;         /* ends with key NULL */
} upf_kind_spec;

/* The spec of a kind, or NULL for an unknown kind. Static data. */
const upf_kind_spec *upf_kind_spec_find(uint32_t kind);
/* 1 when `kind` allows tensor `name` to be stored as `dtype`: export re-encodes
 * only such tensors (item_bias, say, stays F32). */
int upf_kind_tensor_allows(uint32_t kind, const char *name, uint32_t dtype);

#ifdef __cplusplus
}
#endif
#endif
