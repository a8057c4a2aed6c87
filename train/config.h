/* config.h - experiment configs: YAML (libyaml document API) validated against
 * schema tables into typed structs.
 *
 * A key is described once, in a upf_cfg_key table row: its dotted path, type,
 * range, default and documentation. The common sections (data, split, eval,
 * export, gates, and the shared train keys) fill upf_config; each model family
 * brings its own table (model.* and family-specific train.* / features.* keys)
 * that fills the family's own params struct (see family.h). configs/README.md
 * documents every row of every table, and a test keeps them in agreement.
 *
 * Errors: "FILE:LINE:COL: key.path: expected ..., got ..." followed by the
 * source line and a caret (1-based positions). Unknown keys, duplicate keys,
 * anchors/aliases/tags, wrong types, out-of-range values and missing required
 * keys are all errors (UPF_ERR_CONFIG).
 */
#ifndef UPF_CONFIG_H
#define UPF_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "../datasets/interactions.h"
#include "../model/base.h"

/* ---- schema ---- */

typedef enum upf_cfg_type {
    UPF_CFG_NONE = 0,
    UPF_CFG_BOOL,        /* int: 0/1; YAML true|false only */
    UPF_CFG_INT,         /* int64_t */
    UPF_CFG_DOUBLE,      /* double */
    UPF_CFG_STRING,      /* char * (owned by the config) */
    UPF_CFG_ENUM,        /* int: index into choices */
    UPF_CFG_DATE,        /* int64_t unix seconds; YAML "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ" */
    UPF_CFG_INT_LIST,    /* upf_cfg_ints */
    UPF_CFG_DOUBLE_LIST, /* upf_cfg_doubles */
    UPF_CFG_STRING_LIST, /* upf_cfg_strings */
    UPF_CFG_MAP,         /* upf_cfg_map: string keys -> scalar text (gates, grades, weights) */
    UPF_CFG_TYPE_COUNT
} upf_cfg_type;

typedef struct upf_cfg_ints { size_t n; int64_t *v; } upf_cfg_ints;
typedef struct upf_cfg_doubles { size_t n; double *v; } upf_cfg_doubles;
typedef struct upf_cfg_strings { size_t n; char **v; } upf_cfg_strings;
typedef struct upf_cfg_map { size_t n; char **keys; char **values; } upf_cfg_map;

typedef struct upf_cfg_key {
    const char *path;             /* "model.dim"; sections are implied by the dots */
    upf_cfg_type type;
    size_t offset;                /* offsetof() into the target struct */
    double min, max;              /* numeric range, inclusive (lists: per element) */
    const char *def;              /* default as YAML text; NULL = required */
    const char *const *choices;   /* ENUM: NULL-terminated names */
    const char *doc;              /* one line for configs/README.md and --help */
} upf_cfg_key;

/* ---- the common sections ---- */

typedef struct upf_config {
    char *file;                   /* path the config came from (or "<string>") */

    /* data: which events count as interactions for rankers */
    char *data_path;              /* data.path: HDF5 dataset, relative to the config file's folder or absolute */
    upf_cfg_strings data_events;  /* data.events: event type names counted as interactions */
    double data_min_rating;       /* data.min_rating: RATING events count when value >= this */
    upf_cfg_map data_grades;      /* data.grades: relevance grade per event type name */

    /* split */
    int split_kind;               /* split.kind: upf_split_kind - 1 (random|last_n|temporal) */
    double split_test_frac;       /* split.test_frac */
    int64_t split_last_n;         /* split.last_n */
    int64_t split_cutoff;         /* split.cutoff (date) */
    int64_t split_min_entries;    /* split.min_entries */
    int64_t split_seed;           /* split.seed */
    double split_valid_frac;      /* split.valid_frac: validation carved from train (0: none) */

    /* train (shared by every family) */
    int64_t train_seed;           /* train.seed */
    int64_t train_threads;        /* train.threads */
    int train_deterministic;      /* train.deterministic: single-threaded, bit-reproducible */

    /* eval */
    upf_cfg_strings eval_metrics; /* eval.metrics: e.g. [ndcg, recall, precision, map, mrr, auc, hit_rate, coverage, long_tail, novelty] */
    upf_cfg_ints eval_k;          /* eval.k: cut-offs */
    int eval_gain;                /* eval.gain: 0 exp, 1 linear */
    int eval_empty;               /* eval.empty: 0 skip, 1 zero, 2 one */
    int eval_exclude_train;       /* eval.exclude_train */
    upf_cfg_strings eval_baselines; /* eval.baselines: popularity, popularity_decay, cooccur */
    upf_cfg_strings eval_segments;  /* eval.segments: cold_items, activity, new_returning */
    char *eval_reference;         /* eval.reference: run dir, metrics.json or .upf for "ref" gates */
    char *eval_primary;           /* eval.primary: metric that ranks sweeps and stops early */

    /* export */
    int export_enabled;           /* export.enabled */
    int export_dtype;             /* export.dtype: 0 f32, 1 f16, 2 int8 */

    /* gates: metric name -> expression (">= 0.30", ">= ref - 0.005", "<= 0.2") */
    upf_cfg_map gates;

    /* model family (selects the family's key table) */
    char *model_family;           /* model.family */
} upf_config;

/* The table of the common keys (NULL-terminated by a row with path NULL). */
extern const upf_cfg_key upf_config_keys[];

/* ---- loading ---- */

/* One override from the command line: "key.path=value" (value is YAML text;
 * a list "[32, 64]" is allowed where sweeps expand lists). */
typedef struct upf_cfg_override { const char *text; } upf_cfg_override;

typedef struct upf_cfg_loaded upf_cfg_loaded; /* opaque: parsed document + family params */

/* Parses and validates a config file (or a string when path is NULL and text
 * is given), applies overrides, fills defaults, and checks semantics.
 * On success *out owns the config and the family's params. */
upf_status upf_config_load(const char *path, const char *text, const char *const *overrides,
                           size_t n_overrides, upf_cfg_loaded **out, upf_err *err);
void upf_config_free(upf_cfg_loaded *c);

const upf_config *upf_config_common(const upf_cfg_loaded *c);
const void *upf_config_family_params(const upf_cfg_loaded *c);
/* The resolved config as canonical YAML (every key, defaults filled). Owned by c. */
const char *upf_config_resolved_yaml(const upf_cfg_loaded *c);

/* Sweeps: keys given as a YAML list where the schema wants a scalar expand into
 * a grid. Returns the number of points (1 when there is no list) and, for
 * point i, the overrides ("key=value") that pin it. */
upf_status upf_config_grid(const char *path, const char *const *overrides, size_t n_overrides,
                           size_t *n_points, char ***point_overrides /* (n_points) strings, owned */,
                           upf_err *err);

/* Helpers for families: interaction and split params from the common sections. */
upf_interaction_params upf_config_interaction_params(const upf_config *c);
upf_split_params upf_config_split_params(const upf_config *c);

#endif
