/* aft_alive.c - BG/NBD P(alive) per AFT row: the dropout factor of the AFT
 * family's expected purchases within H (see aft_alive.h and LIFETIME.md for
 * why P(alive) x renewal). Not the BG/NBD fit (btyd.c).
 * Entry points: upf_aft_alive_lookup, upf_aft_alive_fit.
 */
#include "aft_alive.h"

#include <string.h>

upf_status upf_aft_alive_lookup(const upf_btyd_summary *s, const upf_bgnbd_params *bg, const int32_t *user, size_t n,
                                double *out, upf_err *err)
{
    if (n == 0) return UPF_OK;
    if (!s || !bg || !user || !out) {
        if (out) memset(out, 0, n * sizeof *out);
        return upf_err_set(err, UPF_ERR_ARG, "aft_alive: NULL argument");
    }
    for (size_t i = 0; i < n; i++) {
        size_t lo = 0, hi = s->n; /* binary search in the ascending customer ids */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (s->customer[mid] < user[i]) lo = mid + 1;
            else hi = mid;
        }
        out[i] = lo < s->n && s->customer[lo] == user[i] ? upf_bgnbd_p_alive(bg, s->x[lo], s->t_x[lo], s->T[lo]) : 1.0;
    }
    return UPF_OK;
}

upf_status upf_aft_alive_fit(const upf_dataset *ds, int64_t cutoff, const int32_t *user, size_t n, double *out,
                             upf_bgnbd_params *fit, upf_err *err)
{
    upf_btyd_summary s;
    memset(&s, 0, sizeof s);
    upf_bgnbd_params bg;
    memset(&bg, 0, sizeof bg);
    upf_btyd_params bp = upf_btyd_params_default();
    bp.cal_end = cutoff - 86400; /* the last whole day before the cutoff */
    bp.holdout_days = 0;
    upf_btyd_fit_info fi;
    upf_status st = upf_btyd_summary_from_dataset(ds, &bp, &s, err);
    if (st == UPF_OK) st = upf_bgnbd_fit(&s, 0, &bg, &fi, err);
    if (st == UPF_OK) st = upf_aft_alive_lookup(&s, &bg, user, n, out, err);
    if (st != UPF_OK && out && n) memset(out, 0, n * sizeof *out);
    if (fit) *fit = st == UPF_OK ? bg : (upf_bgnbd_params){0};
    upf_btyd_summary_free(&s);
    return st;
}
