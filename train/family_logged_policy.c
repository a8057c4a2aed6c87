/* family_logged_policy.c - the `logged_policy` family: an item-only ranking policy
 * learned from the first part of a logged-impressions dataset (no events
 * needed: the Open Bandit logs, a generated shop's impressions) and evaluated
 * off-policy (eval/ope.h) on the rest of the log, later in time.
 *
 * Policies: ctr (items by their click rate on the learning part, shrunk to
 * the overall rate by model.prior pseudo-impressions) and shown (items by how
 * often the logging policy showed them: the logging policy's favourites as a
 * deterministic policy). Exported like popularity: UPF_KIND_RANKER of dim 0.
 * Not here: personalized policies (any ranking family with eval.ope.enabled).
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "../eval/ope.h"
#include "../model/kinds.h"
#include "family.h"
#include "family_export.h"

typedef struct logged_policy_params {
    int policy;         /* model.policy: 0 ctr, 1 shown */
    double prior;       /* model.prior */
    double learn_frac;  /* model.learn_frac */
} logged_policy_params;

static const char *const policy_choices[] = { "ctr", "shown", NULL };

#define OFF(f) offsetof(logged_policy_params, f)

static const upf_cfg_key logged_policy_keys[] = {
    { "model.policy", UPF_CFG_ENUM, OFF(policy), 0, 0, "ctr", policy_choices,
      "items ranked by their click rate on the learning part (ctr) or by how often the logging policy "
      "showed them (shown)", 0 },
    { "model.prior", UPF_CFG_DOUBLE, OFF(prior), 0, 1e12, "100", NULL,
      "ctr: pseudo-impressions at the overall click rate added to every item (shrinks rarely shown items)", 0 },
    { "model.learn_frac", UPF_CFG_DOUBLE, OFF(learn_frac), 0, 1, "0.5", NULL,
      "share of the log's contexts, earliest first, the policy is learned from; the rest is evaluated",
      UPF_CFG_MIN_EXCL | UPF_CFG_MAX_EXCL },
    { NULL, UPF_CFG_NONE, 0, 0, 0, NULL, NULL, NULL, 0 },
};

static upf_status logged_policy_run(upf_run *run, const void *vp, upf_err *err)
{
    const logged_policy_params *p = vp;
    const upf_dataset *ds = upf_run_dataset(run);
    const upf_impressions *log = &ds->impressions;
    size_t n_items = ds->n_items, *starts = NULL, n_ctx = 0;
    float *score = NULL;
    double *clk = NULL, *shw = NULL;
    upf_mw *w = NULL;
    upf_status st = UPF_OK;
    if (log->n == 0)
        return upf_err_set(err, UPF_ERR_DATA,
                           "model.family logged_policy: the dataset has no logged impressions (import a log with "
                           "--preset open_bandit, or generate one with data synth)");
    if ((st = upf_ope_contexts(log, &starts, &n_ctx, err))) return st;
    size_t cut = (size_t)floor(p->learn_frac * (double)n_ctx);
    if (cut == 0 || cut >= n_ctx) {
        st = upf_err_set(err, UPF_ERR_DATA,
                         "model.learn_frac: %g of %zu contexts leaves no context to %s", p->learn_frac, n_ctx,
                         cut == 0 ? "learn from" : "evaluate");
        goto done;
    }
    size_t row_cut = starts[cut];
    score = upf_malloc((n_items ? n_items : 1) * sizeof *score);
    clk = upf_calloc(n_items ? n_items : 1, sizeof *clk);
    shw = upf_calloc(n_items ? n_items : 1, sizeof *shw);
    if (!score || !clk || !shw) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "logged_policy: out of memory");
        goto done;
    }
    double all_clk = 0.0;
    for (size_t r = 0; r < row_cut; r++) {
        int32_t i = log->item[r];
        if (i < 0 || (size_t)i >= n_items) {
            st = upf_err_set(err, UPF_ERR_DATA, "impressions row %zu: item %d out of range", r, (int)i);
            goto done;
        }
        clk[i] += (double)log->reward[r];
        shw[i] += 1.0;
        all_clk += (double)log->reward[r];
    }
    double ctr = all_clk / (double)row_cut;
    for (size_t i = 0; i < n_items; i++)
        score[i] = (float)(p->policy == 1 ? shw[i]
                           : shw[i] + p->prior > 0.0 ? (clk[i] + p->prior * ctr) / (shw[i] + p->prior)
                                                     : ctr);
    upf_log(UPF_LOG_INFO, "logged_policy: %s learned from %zu contexts (%zu rows, CTR %.6f); evaluating on %zu",
            policy_choices[p->policy], cut, row_cut, ctr, n_ctx - cut);
    upf_impressions rest = *log;
    rest.n = log->n - row_cut;
    rest.user += row_cut;
    rest.time += row_cut;
    rest.item += row_cut;
    rest.position += row_cut;
    rest.reward += row_cut;
    rest.propensity += row_cut;
    memset(&rest.context, 0, sizeof rest.context);
    upf_scorer s;
    memset(&s, 0, sizeof s);
    s.item_bias = score;
    if ((st = upf_run_metric(run, "logged_policy.learn_contexts", (double)cut)) ||
        (st = upf_run_metric(run, "logged_policy.learn_ctr", ctr))) {
        upf_err_set(err, st, "metrics: %s", upf_status_str(st));
        goto done;
    }
    if ((st = upf_run_eval_ope(run, &s, &rest, err))) goto done;
    if (!upf_run_config(run)->export_enabled) goto done;
    if ((st = upf_mw_create(&w, UPF_KIND_RANKER, err))) goto done;
    uint64_t dims[1] = { n_items };
    if ((st = upf_mw_tensor_f32(w, UPF_T_ITEM_BIAS, score, 1, dims, UPF_DTYPE_F32)) ||
        (st = upf_mw_meta_u64(w, UPF_M_DIM, 0)) ||
        (st = upf_mw_meta_str(w, "logged_policy.policy", policy_choices[p->policy]))) {
        upf_err_set(err, st, "model.upf: %s", upf_status_str(st));
        goto done;
    }
    if ((st = upf_export_item_ids(run, w, err))) goto done;
    st = upf_run_save_model(run, w, err);
done:
    upf_mw_free(w);
    upf_free(starts);
    upf_free(score);
    upf_free(clk);
    upf_free(shw);
    return st;
}

const upf_family upf_family_logged_policy = {
    "logged_policy",
    "an item-only policy learned from the first part of a logged-impressions dataset (click rate or "
    "logging frequency), evaluated off-policy (IPS, SNIPS, DR) on the rest",
    logged_policy_keys,
    sizeof(logged_policy_params),
    NULL,
    logged_policy_run,
};
