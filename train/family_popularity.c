/* family_popularity.c - the popularity baselines as model families:
 * `popularity` (all-time counts of the training matrix) and
 * `popularity_decay` (counts with a half-life, at the last training time).
 * Both export a UPF_KIND_RANKER of dim 0: score(u, i) = item_bias[i].
 * Definitions in baselines.h.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "../model/kinds.h"
#include "baselines.h"
#include "family.h"
#include "family_export.h"

static const char *const weighting_choices[] = { "users", "grades", NULL };

#define WEIGHTING_ROW                                                                                          \
    { "model.weighting", UPF_CFG_ENUM, offsetof(upf_popularity_params, weighting), 0, 0, "users",             \
      weighting_choices, "count each training user of an item once (users) or sum their relevance grades",    \
      0 }

static const upf_cfg_key popularity_keys[] = {
    WEIGHTING_ROW,
    { NULL, UPF_CFG_NONE, 0, 0, 0, NULL, NULL, NULL, 0 },
};

static const upf_cfg_key popularity_decay_keys[] = {
    WEIGHTING_ROW,
    { "model.half_life_days", UPF_CFG_DOUBLE, offsetof(upf_popularity_params, half_life_days), 0, INFINITY, "30",
      NULL, "an interaction's weight halves for every this many days between it and the last training time",
      UPF_CFG_MIN_EXCL },
    { NULL, UPF_CFG_NONE, 0, 0, 0, NULL, NULL, NULL, 0 },
};

upf_status upf_export_item_ids(upf_run *run, upf_mw *w, upf_err *err)
{
    const upf_dataset *ds = upf_run_dataset(run);
    const char **ids = upf_malloc((ds->n_items ? ds->n_items : 1) * sizeof *ids);
    if (!ids) return upf_err_set(err, UPF_ERR_NOMEM, "items.ids: out of memory");
    for (size_t i = 0; i < ds->n_items; i++) ids[i] = upf_strings_get(&ds->item_ids, i);
    upf_status st = upf_mw_meta_str_array(w, UPF_M_ITEM_IDS, ids, ds->n_items);
    upf_free(ids);
    if (st) return upf_err_set(err, st, "items.ids: %s", upf_status_str(st));
    return UPF_OK;
}

static upf_status popularity_run(upf_run *run, const void *vp, upf_err *err)
{
    const upf_popularity_params *p = vp;
    const upf_csr *train;
    upf_status st = upf_run_interactions(run, &train, NULL, NULL, err);
    if (st) return st;
    size_t n_items = train->n_cols;
    float *counts = upf_malloc((n_items ? n_items : 1) * sizeof *counts);
    upf_mw *w = NULL;
    if (!counts) return upf_err_set(err, UPF_ERR_NOMEM, "popularity: out of memory");
    if ((st = upf_popularity_scores(train, p, counts, err))) goto done;
    upf_run_progress(run, "popularity", 1, 1, "pass");
    upf_scorer s;
    memset(&s, 0, sizeof s);
    s.item_bias = counts;
    if ((st = upf_run_eval_ranker(run, &s, err))) goto done;
    if (!upf_run_config(run)->export_enabled) goto done;
    if ((st = upf_mw_create(&w, UPF_KIND_RANKER, err))) goto done;
    uint64_t dims[1] = { n_items };
    if ((st = upf_mw_tensor_f32(w, UPF_T_ITEM_BIAS, counts, 1, dims, UPF_DTYPE_F32)) ||
        (st = upf_mw_meta_u64(w, UPF_M_DIM, 0)) ||
        (st = upf_mw_meta_str(w, "popularity.weighting", weighting_choices[p->weighting])) ||
        (p->half_life_days > 0 && (st = upf_mw_meta_f64(w, "popularity.half_life_days", p->half_life_days)))) {
        upf_err_set(err, st, "model.upf: %s", upf_status_str(st));
        goto done;
    }
    if ((st = upf_export_item_ids(run, w, err))) goto done;
    st = upf_run_save_model(run, w, err);
done:
    upf_mw_free(w);
    upf_free(counts);
    return st;
}

const upf_family upf_family_popularity = {
    "popularity",
    "items ranked by how many training users have them (the baseline every model must beat)",
    popularity_keys,
    sizeof(upf_popularity_params),
    NULL,
    popularity_run,
};

const upf_family upf_family_popularity_decay = {
    "popularity_decay",
    "popularity with recent interactions weighted up (exponential decay with a half-life)",
    popularity_decay_keys,
    sizeof(upf_popularity_params),
    NULL,
    popularity_run,
};
