/* aft_dropout.c - BG/NBD dropout per AFT row: the probability of staying
 * after a purchase (the defective renewal count) and P(alive); see
 * aft_dropout.h and LIFETIME.md ("Expected purchases within H"). Not the
 * BG/NBD fit (btyd.c). Entry points: upf_aft_dropout_lookup, upf_aft_dropout_fit.
 */
#include "aft_dropout.h"

#include <string.h>

upf_status upf_aft_dropout_lookup(const upf_btyd_summary *s, const upf_bgnbd_params *bg, const int32_t *user, size_t n,
                                  double *stay, double *p_alive, upf_err *err)
{
    if (n == 0) return UPF_OK;
    if (!s || !bg || !user || !stay || (s->n && (!s->customer || !s->x || !s->t_x || !s->T))) {
        if (stay) memset(stay, 0, n * sizeof *stay);
        if (p_alive) memset(p_alive, 0, n * sizeof *p_alive);
        return upf_err_set(err, UPF_ERR_ARG, "aft_dropout: NULL argument");
    }
    double extra = bg->mbg ? 1.0 : 0.0; /* MBG/NBD: the first purchase is a dropout chance too */
    for (size_t i = 0; i < n; i++) {
        size_t lo = 0, hi = s->n; /* binary search in the ascending customer ids */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (s->customer[mid] < user[i]) lo = mid + 1;
            else hi = mid;
        }
        int found = lo < s->n && s->customer[lo] == user[i];
        double x = found ? s->x[lo] : 0.0;
        /* the dropout chances survived so far: p | alive ~ Beta(a, b + x) */
        stay[i] = (bg->b + x + extra) / (bg->a + bg->b + x + extra);
        if (p_alive) p_alive[i] = found ? upf_bgnbd_p_alive(bg, x, s->t_x[lo], s->T[lo]) : 1.0;
    }
    return UPF_OK;
}

upf_status upf_aft_dropout_fit(const upf_dataset *ds, int64_t cutoff, const int32_t *user, size_t n, double *stay,
                               double *p_alive, upf_bgnbd_params *fit, upf_err *err)
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
    if (st == UPF_OK) st = upf_aft_dropout_lookup(&s, &bg, user, n, stay, p_alive, err);
    if (st != UPF_OK && n) {
        if (stay) memset(stay, 0, n * sizeof *stay);
        if (p_alive) memset(p_alive, 0, n * sizeof *p_alive);
    }
    if (fit) {
        if (st == UPF_OK) *fit = bg;
        else memset(fit, 0, sizeof *fit);
    }
    upf_btyd_summary_free(&s);
    return st;
}
