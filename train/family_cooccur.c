/* family_cooccur.c - item-to-item co-occurrence ("bought together") as a
 * model family: neighbour lists from the training matrix (baselines.h),
 * scored for a user as the sum of the neighbours of the user's training
 * items, exported as UPF_KIND_COOCCUR (neighbours ascending by item index).
 */
#include <stddef.h>
#include <string.h>

#include "../model/kinds.h"
#include "baselines.h"
#include "family.h"
#include "family_export.h"

static const char *const similarity_choices[] = { "cosine", "conditional", NULL };

static const upf_cfg_key cooccur_keys[] = {
    { "model.similarity", UPF_CFG_ENUM, offsetof(upf_cooccur_params, similarity), 0, 0, "cosine",
      similarity_choices,
      "normalisation of co-occurrence counts: c/sqrt(n_j n_i) (cosine) or c/(n_j n_i^alpha) (conditional)", 0 },
    { "model.alpha", UPF_CFG_DOUBLE, offsetof(upf_cooccur_params, alpha), 0, 1, "0.5", NULL,
      "conditional: damping of popular neighbours (0: plain P(i given j))", 0 },
    { "model.neighbors", UPF_CFG_INT, offsetof(upf_cooccur_params, neighbors), 1, 100000, "100", NULL,
      "neighbours kept per item (the most similar)", 0 },
    { "model.min_count", UPF_CFG_INT, offsetof(upf_cooccur_params, min_count), 1, 1e9, "1", NULL,
      "users two items must share before they count as neighbours", 0 },
    { "model.max_user_items", UPF_CFG_INT, offsetof(upf_cooccur_params, max_user_items), 0, 1e9, "0", NULL,
      "users with more training items are left out of the counts (bulk buyers, bots); 0: no limit", 0 },
    { NULL, UPF_CFG_NONE, 0, 0, 0, NULL, NULL, NULL, 0 },
};

static upf_status cooccur_run(upf_run *run, const void *vp, upf_err *err)
{
    const upf_cooccur_params *p = vp;
    const upf_csr *train;
    upf_status st = upf_run_interactions(run, &train, NULL, NULL, err);
    if (st) return st;
    upf_cooccur_model m;
    upf_mw *w = NULL;
    upf_run_progress(run, "cooccur", 0, 1, "pass");
    if ((st = upf_cooccur_build(train, p, upf_run_eval_threads(run), &m, err))) return st;
    upf_run_progress(run, "cooccur", 1, 1, "pass");
    int64_t nnz = m.ptr[m.n_items];
    upf_log(UPF_LOG_INFO, "cooccur: %lld neighbour pairs, %.1f per item", (long long)nnz,
            m.n_items ? (double)nnz / (double)m.n_items : 0.0);
    upf_cooccur_scorer_ctx ctx = { &m, train };
    upf_scorer s = upf_cooccur_scorer(&ctx);
    if ((st = upf_run_eval_ranker(run, &s, err))) goto done;
    if (!upf_run_config(run)->export_enabled) goto done;
    if ((st = upf_mw_create(&w, UPF_KIND_COOCCUR, err))) goto done;
    uint64_t dptr[1] = { m.n_items + 1 }, dnnz[1] = { (uint64_t)nnz };
    if ((st = upf_mw_tensor_i64(w, UPF_T_NEIGHBOR_PTR, m.ptr, 1, dptr)) ||
        (st = upf_mw_tensor_i32(w, UPF_T_NEIGHBOR_IDX, m.idx, 1, dnnz)) ||
        (st = upf_mw_tensor_f32(w, UPF_T_NEIGHBOR_SIM, m.sim, 1, dnnz, UPF_DTYPE_F32)) ||
        (st = upf_mw_meta_str(w, "cooccur.similarity", similarity_choices[p->similarity])) ||
        (st = upf_mw_meta_u64(w, "cooccur.neighbors", (uint64_t)p->neighbors))) {
        upf_err_set(err, st, "model.upf: %s", upf_status_str(st));
        goto done;
    }
    if ((st = upf_export_item_ids(run, w, err))) goto done;
    st = upf_run_save_model(run, w, err);
done:
    upf_mw_free(w);
    upf_cooccur_free(&m);
    return st;
}

const upf_family upf_family_cooccur = {
    "cooccur",
    "item-to-item co-occurrence (\"bought together\"): a user's score for an item sums its similarity to "
    "the user's items",
    cooccur_keys,
    sizeof(upf_cooccur_params),
    NULL,
    cooccur_run,
};
