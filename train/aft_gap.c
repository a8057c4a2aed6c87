/* aft_gap.c - the gap law for `gap_renewal` expected purchases: the AFT on
 * purchase-to-purchase gaps (right-truncated at the cutoff) and its location
 * per user; see aft_gap.h and LIFETIME.md ("Expected purchases within H").
 * Not the renewal sums (model/lifetime.c). Entry point: upf_aft_gap_fit.
 */
#include "aft_gap.h"

#include <math.h>
#include <string.h>

#include "aft.h"
#include "lifetime_features.h"

upf_status upf_aft_gap_fit(const upf_dataset *ds, int64_t cutoff, double margin_days, int dist, int user_attrs,
                           size_t max_user_attrs, const int32_t *user, size_t n, double *eta, double *sigma,
                           upf_err *err)
{
    upf_lt_features g, a;
    memset(&g, 0, sizeof g);
    memset(&a, 0, sizeof a);
    double *center = NULL, *scale = NULL, *theta = NULL;
    if (sigma) *sigma = 0.0;
    if (!ds || (n && (!user || !eta)) || !sigma) {
        if (eta && n) memset(eta, 0, n * sizeof *eta);
        return upf_err_set(err, UPF_ERR_ARG, "aft_gap: NULL argument");
    }
    upf_lt_feature_params fp = upf_lt_feature_params_default();
    fp.cutoff = cutoff;
    fp.user_attrs = user_attrs;
    fp.max_user_attrs = max_user_attrs;
    upf_status st = upf_lt_gaps_build(ds, &fp, margin_days, &g, err);
    if (st != UPF_OK) goto done;
    size_t d = g.n_cols;
    center = upf_malloc((d ? d : 1) * sizeof *center);
    scale = upf_malloc((d ? d : 1) * sizeof *scale);
    theta = upf_calloc(d + 2, sizeof *theta);
    if (!center || !scale || !theta) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "aft_gap: out of memory");
        goto done;
    }
    upf_aft_standardize(g.X, g.n_rows, d, center, scale);
    upf_aft_params ap = upf_aft_params_default();
    ap.dist = dist;
    upf_aft_data D = {g.n_rows, d, g.X, NULL, g.label, NULL, NULL, g.label_bound};
    uint8_t *ev = upf_malloc(g.n_rows ? g.n_rows : 1);
    if (!ev) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "aft_gap: out of memory");
        goto done;
    }
    memset(ev, 1, g.n_rows); /* completed gaps: every row is observed */
    D.event = ev;
    upf_aft_fit_info info;
    st = upf_aft_fit_newton(&D, &ap, theta, &info, err);
    upf_free(ev);
    if (st != UPF_OK) goto done;
    *sigma = exp(theta[d + 1]);
    for (size_t i = 0; i < n; i++) eta[i] = theta[d];
    if (d > 0) { /* the users' attribute rows (the same columns at any time) */
        fp.attrs_only = 1;
        fp.all_users = 1;
        if ((st = upf_lt_features_build(ds, &fp, &a, err)) != UPF_OK) goto done;
        if (a.n_cols != d) {
            st = upf_err_set(err, UPF_ERR_DATA, "aft_gap: %zu attribute columns, the gaps have %zu", a.n_cols, d);
            goto done;
        }
        upf_aft_apply_standardize(a.X, a.n_rows, d, center, scale);
        for (size_t i = 0; i < n; i++) {
            size_t lo = 0, hi = a.n_rows; /* rows ascend by user */
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (a.user[mid] < user[i]) lo = mid + 1;
                else hi = mid;
            }
            if (lo < a.n_rows && a.user[lo] == user[i]) {
                double e = theta[d];
                for (size_t j = 0; j < d; j++) e += theta[j] * (double)a.X[lo * d + j];
                eta[i] = e;
            }
        }
    }
done:
    if (st != UPF_OK) {
        if (n && eta) memset(eta, 0, n * sizeof *eta);
        *sigma = 0.0;
    }
    upf_lt_features_free(&g);
    upf_lt_features_free(&a);
    upf_free(center);
    upf_free(scale);
    upf_free(theta);
    return st;
}
