/* config.h - experiment configs: YAML (libyaml document API) validated against
 * schema tables into typed structs.
 *
 * A key is described once, in a upf_cfg_key table row: its dotted path, type,
 * range, default and documentation. The common sections (data, split, eval,
 * export, gates, and the shared train keys) fill upf_config; each model family
 * brings its own table (model.* and family-specific train.* / features.* /
 * eval.* keys) that fills the family's own params struct (see family.h).
 * configs/README.md documents every row of every table, and a test keeps them
 * in agreement (`upfunnel train --keys` prints the rows as markdown).
 *
 * Errors: "FILE:LINE:COL: key.path: expected ..., got ..." followed by the
 * source line and a caret (1-based positions). Unknown keys (with the closest
 * known key suggested), duplicate keys, anchors/aliases/tags, wrong types,
 * out-of-range values and missing required keys are all UPF_ERR_CONFIG.
 * Entry points: upf_config_load / upf_config_load_opts, upf_config_grid.
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
    UPF_CFG_DOUBLE,      /* double; integers accepted */
    UPF_CFG_STRING,      /* char * (owned by the config; never NULL after loading, "" when empty) */
    UPF_CFG_ENUM,        /* int: index into choices */
    UPF_CFG_DATE,        /* int64_t unix seconds; YAML "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ";
                            null (or default "") = unset, stored as UPF_CFG_DATE_UNSET */
    UPF_CFG_INT_LIST,    /* upf_cfg_ints; a single scalar reads as a list of one */
    UPF_CFG_DOUBLE_LIST, /* upf_cfg_doubles; likewise */
    UPF_CFG_STRING_LIST, /* upf_cfg_strings; likewise; choices (if any) restrict the elements */
    UPF_CFG_MAP,         /* upf_cfg_map: string keys -> scalar text (gates, grades, weights) */
    UPF_CFG_TYPE_COUNT
} upf_cfg_type;

#define UPF_CFG_DATE_UNSET INT64_MIN

typedef struct upf_cfg_ints { size_t n; int64_t *v; } upf_cfg_ints;         /* v: (n) */
typedef struct upf_cfg_doubles { size_t n; double *v; } upf_cfg_doubles;    /* v: (n) */
typedef struct upf_cfg_strings { size_t n; char **v; } upf_cfg_strings;     /* v: (n) */
typedef struct upf_cfg_map { size_t n; char **keys; char **values; } upf_cfg_map; /* (n) each, file order */

/* upf_cfg_key.flags */
#define UPF_CFG_MIN_EXCL 1u /* the minimum is exclusive (value > min) */
#define UPF_CFG_MAX_EXCL 2u /* the maximum is exclusive (value < max) */

typedef struct upf_cfg_key {
    const char *path;             /* "model.dim"; sections are implied by the dots */
    upf_cfg_type type;
    size_t offset;                /* offsetof() into the target struct */
    double min, max;              /* numeric range, inclusive unless flags say otherwise (lists:
                                     per element); min == max == 0 means unbounded; use
                                     -INFINITY / INFINITY for a one-sided range */
    const char *def;              /* default as YAML text; NULL = required */
    const char *const *choices;   /* ENUM / STRING_LIST: NULL-terminated names (NULL: any string) */
    const char *doc;              /* one line for configs/README.md and --help */
    unsigned flags;               /* UPF_CFG_MIN_EXCL | UPF_CFG_MAX_EXCL */
} upf_cfg_key;

/* ---- the common sections ---- */

typedef struct upf_config {
    char *file;                   /* path the config came from (or "<string>") */
    char *name;                   /* config file's base name without .yaml ("quickstart") */

    /* data: which events count as interactions for rankers */
    int data_source;              /* data.source: 0 file, 1 synth (generated in memory) */
    char *data_path;              /* data.path: HDF5 dataset; relative paths resolve against the
                                     working directory, then the config file's folder */
    upf_cfg_strings data_events;  /* data.events: event type names counted as interactions */
    double data_min_rating;       /* data.min_rating: RATING events count when value >= this */
    upf_cfg_map data_grades;      /* data.grades: relevance grade per event type name */
    int64_t data_begin;           /* data.begin (date): events before it are ignored; UPF_CFG_DATE_UNSET */
    int64_t data_end;             /* data.end (date): events at or after it are ignored; UPF_CFG_DATE_UNSET */
    int64_t data_synth_users;     /* data.synth.users */
    int64_t data_synth_items;     /* data.synth.items */
    int64_t data_synth_seed;      /* data.synth.seed */

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
    int64_t train_threads;        /* train.threads: 0 = every online CPU */
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
    char *eval_primary;           /* eval.primary: metric that ranks sweeps ("" = family's headline) */

    /* export */
    int export_enabled;           /* export.enabled */
    int export_dtype;             /* export.dtype: 0 f32, 1 f16, 2 int8 (default of `upfunnel export`) */
    int export_timestamp;         /* export.timestamp: record provenance.created_unix */

    /* gates: metric name -> expression (">= 0.30", ">= ref - 0.005", "<= 0.2") */
    upf_cfg_map gates;

    /* model family (selects the family's key table) */
    char *model_family;           /* model.family */
    char *model_name;             /* model.name ("" = the config's name) */

    /* eval.ope: off-policy estimates against the dataset's logged impressions (eval/ope.h) */
    int eval_ope_enabled;         /* eval.ope.enabled */
    double eval_ope_clip;         /* eval.ope.clip: propensity floor, 0 = none */
    int64_t eval_ope_bootstrap;   /* eval.ope.bootstrap: resamples, 0 = no intervals */
    double eval_ope_level;        /* eval.ope.level: interval level */
    double eval_ope_prior;        /* eval.ope.prior: reward-table shrinkage (pseudo-impressions) */
} upf_config;

/* The table of the common keys (NULL-terminated by a row with path NULL). */
extern const upf_cfg_key upf_config_keys[];

/* Names of the top-level sections, in canonical order; NULL-terminated. */
extern const char *const upf_config_sections[];

/* ---- loading ---- */

/* One override from the command line: "key.path=value" (value is YAML text;
 * a list "[32, 64]" is allowed where sweeps expand lists). Kept for callers
 * that pass a struct array; the loaders take plain strings. */
typedef struct upf_cfg_override { const char *text; } upf_cfg_override;

typedef struct upf_cfg_loaded upf_cfg_loaded; /* opaque: parsed config + family params */

struct upf_family;

typedef struct upf_cfg_load_opts {
    const char *path;                   /* file to read, or NULL to read `text` */
    const char *text;                   /* YAML text when path is NULL */
    const char *text_name;              /* name for errors when reading text ("<string>") */
    const char *const *overrides;       /* (n_overrides) "key.path=value", applied in order */
    size_t n_overrides;
    const struct upf_family *const *families; /* NULL-terminated; NULL = upf_families */
} upf_cfg_load_opts;

/* Parses and validates a config file (or a string when path is NULL and text
 * is given), applies overrides, fills defaults, and checks semantics (the
 * common check, then the family's `check`). On success *out owns the config
 * and the family's params; on failure *out is NULL and err holds one message
 * (UPF_ERR_CONFIG, or UPF_ERR_IO / UPF_ERR_NOMEM). */
upf_status upf_config_load(const char *path, const char *text, const char *const *overrides,
                           size_t n_overrides, upf_cfg_loaded **out, upf_err *err);
upf_status upf_config_load_opts(const upf_cfg_load_opts *opts, upf_cfg_loaded **out, upf_err *err);
void upf_config_free(upf_cfg_loaded *c); /* accepts NULL */

const upf_config *upf_config_common(const upf_cfg_loaded *c);
const void *upf_config_family_params(const upf_cfg_loaded *c);
const struct upf_family *upf_config_family(const upf_cfg_loaded *c);
/* The resolved config as canonical YAML (every key, defaults filled). Owned
 * by c. Loading it again gives the same config (and the same text). */
const char *upf_config_resolved_yaml(const upf_cfg_loaded *c);
/* "FILE:LINE:COL" of the value of key `path` as written (file or --set), or
 * NULL when the key took its default. Owned by c. */
const char *upf_config_where(const upf_cfg_loaded *c, const char *path);

/* A config error about key `path` (UPF_ERR_CONFIG): "FILE:LINE:COL: path: what"
 * with the source line and a caret when the file or a --set wrote the key
 * (mapping entries too: "gates.ndcg@10"), else "FILE: path: what". For checks
 * made after loading (the runner's gates, references). */
upf_status upf_config_key_error(const upf_cfg_loaded *c, upf_err *err, const char *path, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* ---- sweeps ---- */

/* Keys given as a YAML list where the schema wants a scalar (or a list of
 * lists for a list key) expand into a grid: the cartesian product of the axes,
 * the first axis varying slowest. */
typedef struct upf_cfg_grid {
    size_t n_axes;
    char **axis_paths;     /* (n_axes) "model.dim" */
    size_t n_points;       /* >= 1; 1 with no axes */
    char ***point_sets;    /* (n_points, n_axes) overrides "model.dim=32" that pin the point */
    char **point_labels;   /* (n_points) "dim=32 lr=0.05" ("" with no axes) */
} upf_cfg_grid;

/* Reads the config (and the overrides, which may themselves hold lists) and
 * returns its grid. Does not validate the points: load each with its
 * point_sets appended to the overrides. At most UPF_CFG_GRID_MAX points. */
#define UPF_CFG_GRID_MAX 10000
upf_status upf_config_grid(const char *path, const char *const *overrides, size_t n_overrides,
                           upf_cfg_grid *grid, upf_err *err);
void upf_cfg_grid_free(upf_cfg_grid *grid); /* accepts a zeroed grid */

/* ---- helpers ---- */

/* Helpers for families: interaction and split params from the common sections. */
upf_interaction_params upf_config_interaction_params(const upf_config *c);
upf_split_params upf_config_split_params(const upf_config *c);

/* The headline metric: eval.primary, or ndcg@K for the first K in eval.k when
 * ndcg is among eval.metrics, or "" when neither applies. Static or owned by c. */
const char *upf_config_primary(const upf_config *c, char *buf, size_t n);

/* The type's name as configs/README.md writes it ("integer", "list of numbers"). */
const char *upf_cfg_type_name(upf_cfg_type t);
/* A key row's range as text ("> 0", "[1, 4096]", "" when unbounded). */
void upf_cfg_key_range(const upf_cfg_key *k, char *buf, size_t n);

#endif
