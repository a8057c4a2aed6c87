/* family_bgnbd.c - the `bgnbd` model family: BG/NBD (Fader, Hardie & Lee
 * 2005) fitted on a calibration period, judged on the holdout after it, with
 * Pareto/NBD and Gamma-Gamma spend alongside (train/btyd.h), exported as
 * UPF_KIND_LIFETIME_BGNBD.
 *
 * metrics.json: r, alpha, a, b, log_likelihood at the top (the model's own
 * figures), the data summary and holdout accuracy beside them, the BTYD
 * frequency table under holdout_table, and pareto_nbd / gamma_gamma sections.
 * Artifacts: holdout_table.csv, customers.csv (per customer P(alive) and
 * forecasts).
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../model/kinds.h"
#include "btyd.h"
#include "family.h"
#include "lifetime_report.h"

typedef struct bgnbd_params {
    int64_t calibration_end; /* model.calibration_end (date) */
    int variant;             /* model.variant: 0 bgnbd, 1 mbgnbd */
    double holdout;          /* model.holdout (time units) */
    int time_unit;           /* model.time_unit: 0 weeks, 1 days */
    int merge_same_day;      /* model.merge_same_day */
    int gamma_gamma;         /* model.gamma_gamma */
    int pareto_nbd;          /* model.pareto_nbd */
    int64_t buckets;         /* eval.frequency_buckets */
} bgnbd_params;

static const char *const unit_choices[] = {"weeks", "days", NULL};
static const char *const variant_choices[] = {"bgnbd", "mbgnbd", NULL};

#define OFF(f) offsetof(bgnbd_params, f)

static const upf_cfg_key bgnbd_keys[] = {
    {"model.calibration_end", UPF_CFG_DATE, OFF(calibration_end), 0, 0, NULL, NULL,
     "last day of the calibration period (purchases on that day count); customers whose first purchase is "
     "later are left out",
     0},
    {"model.variant", UPF_CFG_ENUM, OFF(variant), 0, 0, "bgnbd", variant_choices,
     "bgnbd: customers may drop out after each repeat purchase (Fader, Hardie & Lee 2005); mbgnbd: also right "
     "after the first one (Batislam, Denizel & Filiztekin 2007)",
     0},
    {"model.holdout", UPF_CFG_DOUBLE, OFF(holdout), 0, 1e6, "39", NULL,
     "length of the holdout period after calibration_end, in model.time_unit (whole days)", 0},
    {"model.time_unit", UPF_CFG_ENUM, OFF(time_unit), 0, 0, "weeks", unit_choices,
     "time unit of t_x, T and the parameters (alpha is a rate per unit)", 0},
    {"model.merge_same_day", UPF_CFG_BOOL, OFF(merge_same_day), 0, 0, "true", NULL,
     "purchases of one customer on one UTC day are one transaction (the BTYD convention)", 0},
    {"model.gamma_gamma", UPF_CFG_BOOL, OFF(gamma_gamma), 0, 0, "true", NULL,
     "also fit Gamma-Gamma spend on the customers with repeat purchases (expected value)", 0},
    {"model.pareto_nbd", UPF_CFG_BOOL, OFF(pareto_nbd), 0, 0, "true", NULL,
     "also fit Pareto/NBD and report it beside BG/NBD", 0},
    {"eval.frequency_buckets", UPF_CFG_INT, OFF(buckets), 2, 100, "8", NULL,
     "rows of the holdout table by calibration frequency: 0, 1, ..., buckets-1 and more", 0},
    {NULL, UPF_CFG_NONE, 0, 0, 0, NULL, NULL, NULL, 0},
};

static upf_status bgnbd_check(const void *vp, const upf_config *cfg, upf_err *err)
{
    const bgnbd_params *p = vp;
    (void)cfg;
    if (p->calibration_end == UPF_CFG_DATE_UNSET)
        return upf_err_set(err, UPF_ERR_CONFIG, "model.calibration_end: expected a date, got nothing");
    double unit = p->time_unit ? 1.0 : 7.0, days = p->holdout * unit;
    if (fabs(days - round(days)) > 1e-9)
        return upf_err_set(err, UPF_ERR_CONFIG, "model.holdout: expected whole days, got %g %s = %g days", p->holdout,
                           unit_choices[p->time_unit], days);
    return UPF_OK;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0->tv_nsec);
}

/* Mean absolute and root mean squared error of forecasts against x_star. */
static void holdout_errors(const upf_btyd_summary *s, const double *f, double *mae, double *rmse, double *total)
{
    double a = 0.0, q = 0.0, t = 0.0;
    for (size_t i = 0; i < s->n; i++) {
        double d = f[i] - s->x_star[i];
        a += fabs(d);
        q += d * d;
        t += f[i];
    }
    *mae = a / (double)s->n;
    *rmse = sqrt(q / (double)s->n);
    *total = t;
}

#define METRIC(path, v)                                                                                          \
    do {                                                                                                         \
        if ((st = upf_run_metric(run, (path), (v))) != UPF_OK) {                                                 \
            upf_err_set(err, st, "metrics: %s: %s", (path), upf_status_str(st));                                 \
            goto done;                                                                                           \
        }                                                                                                        \
    } while (0)

static upf_status bgnbd_run(upf_run *run, const void *vp, upf_err *err)
{
    const bgnbd_params *p = vp;
    const upf_dataset *ds = upf_run_dataset(run);
    upf_status st = UPF_OK;
    upf_btyd_summary s;
    double *fc_bg = NULL, *fc_pn = NULL, *spend = NULL, *abs_err = NULL, *p_alive = NULL;
    int32_t *users = NULL;
    upf_freq_bucket *tab = NULL, *tab_pn = NULL;
    upf_sbuf csv = {NULL, 0, 0, 0};
    upf_mw *w = NULL;
    memset(&s, 0, sizeof s);

    upf_btyd_params bp = upf_btyd_params_default();
    bp.cal_end = p->calibration_end;
    bp.unit_days = p->time_unit ? 1.0 : 7.0;
    bp.holdout_days = (int64_t)llround(p->holdout * bp.unit_days);
    bp.merge_same_day = p->merge_same_day;
    if ((st = upf_btyd_summary_from_dataset(ds, &bp, &s, err)) != UPF_OK) goto done;
    upf_log(UPF_LOG_INFO,
            "bgnbd: %zu customers, %.0f repeat transactions in calibration (%zu without), %.0f in the holdout; "
            "%zu purchases merged into same-day transactions, %zu customers start after calibration",
            s.n, s.repeat_total, s.n_zero, s.holdout_total, s.n_merged, s.n_late);
    size_t n = s.n, nb = (size_t)p->buckets;
    fc_bg = upf_calloc(n, sizeof *fc_bg);
    fc_pn = upf_calloc(n, sizeof *fc_pn);
    spend = upf_calloc(n, sizeof *spend);
    abs_err = upf_calloc(n, sizeof *abs_err);
    p_alive = upf_calloc(n, sizeof *p_alive);
    users = upf_calloc(n, sizeof *users);
    tab = upf_calloc(nb, sizeof *tab);
    tab_pn = upf_calloc(nb, sizeof *tab_pn);
    if (!fc_bg || !fc_pn || !spend || !abs_err || !p_alive || !users || !tab || !tab_pn) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "bgnbd: out of memory for %zu customers", n);
        goto done;
    }

    /* ---- BG/NBD ---- */
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    upf_run_progress(run, "bgnbd fit", 0, 1, "fit");
    upf_bgnbd_params bg;
    upf_btyd_fit_info fi;
    if ((st = upf_bgnbd_fit(&s, p->variant, &bg, &fi, err)) != UPF_OK) goto done;
    double fit_s = seconds_since(&t0);
    upf_run_progress(run, "bgnbd fit", 1, 1, "fit");
    upf_log(UPF_LOG_INFO, "%s: r %.6f alpha %.6f a %.6f b %.6f, log-likelihood %.4f (%zu iterations, %.3f s)",
            variant_choices[p->variant], bg.r, bg.alpha, bg.a, bg.b, fi.log_likelihood, fi.iterations, fit_s);
    METRIC("r", bg.r);
    METRIC("alpha", bg.alpha);
    METRIC("a", bg.a);
    METRIC("b", bg.b);
    METRIC("log_likelihood", fi.log_likelihood);
    METRIC("standard_errors.r", fi.se[0]);
    METRIC("standard_errors.alpha", fi.se[1]);
    METRIC("standard_errors.a", fi.se[2]);
    METRIC("standard_errors.b", fi.se[3]);
    METRIC("fit.iterations", (double)fi.iterations);
    METRIC("fit.converged", (double)fi.converged);
    METRIC("fit.gradient_max", fi.grad_max);
    METRIC("fit.seconds", fit_s);
    METRIC("customers", (double)s.n);
    METRIC("repeat_transactions", s.repeat_total);
    METRIC("customers_without_repeat", (double)s.n_zero);
    METRIC("customers_after_calibration", (double)s.n_late);
    METRIC("merged_same_day", (double)s.n_merged);
    METRIC("holdout.length", s.t_star);
    METRIC("holdout.transactions", s.holdout_total);

    if ((st = upf_bgnbd_forecast(&s, &bg, fc_bg, err)) != UPF_OK) goto done;
    double mae, rmse, total, tab_mae;
    holdout_errors(&s, fc_bg, &mae, &rmse, &total);
    METRIC("holdout.expected_transactions", total);
    METRIC("holdout.mae", mae);
    METRIC("holdout.rmse", rmse);
    upf_btyd_holdout_table(&s, fc_bg, nb, tab);
    if ((st = upf_record_frequency_table(run, "holdout_table", tab, nb, &tab_mae)) != UPF_OK) {
        upf_err_set(err, st, "metrics: holdout_table: %s", upf_status_str(st));
        goto done;
    }
    METRIC("holdout.table_mae", tab_mae);
    for (size_t i = 0; i < n; i++) {
        p_alive[i] = upf_bgnbd_p_alive(&bg, s.x[i], s.t_x[i], s.T[i]);
        abs_err[i] = fabs(fc_bg[i] - s.x_star[i]);
        users[i] = s.customer[i];
    }
    if ((st = upf_run_per_user(run, "holdout_abs_error", users, abs_err, n)) != UPF_OK) {
        upf_err_set(err, st, "per_user: %s", upf_status_str(st));
        goto done;
    }

    /* ---- Pareto/NBD ---- */
    upf_pnbd_params pn = {0, 0, 0, 0};
    if (p->pareto_nbd) {
        clock_gettime(CLOCK_MONOTONIC, &t0);
        upf_run_progress(run, "pareto/nbd fit", 0, 1, "fit");
        upf_btyd_fit_info pi;
        if ((st = upf_pnbd_fit(&s, &pn, &pi, err)) != UPF_OK) goto done;
        double pfit_s = seconds_since(&t0);
        upf_run_progress(run, "pareto/nbd fit", 1, 1, "fit");
        upf_log(UPF_LOG_INFO, "pareto/nbd: r %.6f alpha %.6f s %.6f beta %.6f, log-likelihood %.4f (%.3f s)", pn.r,
                pn.alpha, pn.s, pn.beta, pi.log_likelihood, pfit_s);
        if (pn.s > 1e4 && pn.beta > 1e4)
            upf_log(UPF_LOG_WARN,
                    "pareto/nbd: s %.3g and beta %.3g: the fit sits at the boundary where dropout rates do not vary "
                    "(every customer drops out at rate s/beta = %.4g per unit)",
                    pn.s, pn.beta, pn.s / pn.beta);
        METRIC("pareto_nbd.r", pn.r);
        METRIC("pareto_nbd.alpha", pn.alpha);
        METRIC("pareto_nbd.s", pn.s);
        METRIC("pareto_nbd.beta", pn.beta);
        METRIC("pareto_nbd.log_likelihood", pi.log_likelihood);
        METRIC("pareto_nbd.standard_errors.r", pi.se[0]);
        METRIC("pareto_nbd.standard_errors.alpha", pi.se[1]);
        METRIC("pareto_nbd.standard_errors.s", pi.se[2]);
        METRIC("pareto_nbd.standard_errors.beta", pi.se[3]);
        METRIC("pareto_nbd.fit.seconds", pfit_s);
        METRIC("pareto_nbd.fit.converged", (double)pi.converged);
        if ((st = upf_pnbd_forecast(&s, &pn, fc_pn, err)) != UPF_OK) goto done;
        holdout_errors(&s, fc_pn, &mae, &rmse, &total);
        METRIC("pareto_nbd.holdout.expected_transactions", total);
        METRIC("pareto_nbd.holdout.mae", mae);
        METRIC("pareto_nbd.holdout.rmse", rmse);
        upf_btyd_holdout_table(&s, fc_pn, nb, tab_pn);
        if ((st = upf_record_frequency_table(run, "pareto_nbd.holdout_table", tab_pn, nb, &tab_mae)) != UPF_OK) {
            upf_err_set(err, st, "metrics: pareto_nbd.holdout_table: %s", upf_status_str(st));
            goto done;
        }
        METRIC("pareto_nbd.holdout.table_mae", tab_mae);
    }

    /* ---- Gamma-Gamma ---- */
    upf_gg_params gg = {0, 0, 0};
    int have_gg = 0;
    if (p->gamma_gamma) {
        upf_btyd_fit_info gi;
        size_t used = 0;
        if ((st = upf_gg_fit(&s, &gg, &gi, &used, err)) != UPF_OK) goto done;
        have_gg = 1;
        upf_log(UPF_LOG_INFO, "gamma-gamma: p %.4f q %.4f gamma %.4f on %zu customers", gg.p, gg.q, gg.gamma, used);
        METRIC("gamma_gamma.p", gg.p);
        METRIC("gamma_gamma.q", gg.q);
        METRIC("gamma_gamma.gamma", gg.gamma);
        METRIC("gamma_gamma.log_likelihood", gi.log_likelihood);
        METRIC("gamma_gamma.customers", (double)used);
        METRIC("gamma_gamma.standard_errors.p", gi.se[0]);
        METRIC("gamma_gamma.standard_errors.q", gi.se[1]);
        METRIC("gamma_gamma.standard_errors.gamma", gi.se[2]);
        double pop = upf_gg_expected_spend(&gg, 0.0, 0.0), value = 0.0;
        METRIC("gamma_gamma.mean_spend", pop);
        for (size_t i = 0; i < n; i++) {
            spend[i] = upf_gg_expected_spend(&gg, s.x[i], s.m_x[i]);
            value += fc_bg[i] * spend[i];
        }
        /* expected holdout value: BG/NBD transactions times the expected spend per transaction */
        METRIC("gamma_gamma.holdout.expected_value", value);
        METRIC("gamma_gamma.holdout.value", s.holdout_value);
    }

    /* ---- artifacts ---- */
    upf_sbuf_printf(&csv, "x,customers,actual,bgnbd%s\n", p->pareto_nbd ? ",pareto_nbd" : "");
    for (size_t k = 0; k < nb; k++) {
        upf_sbuf_printf(&csv, "%zu%s,%zu,%.6f,%.6f", k, k + 1 == nb ? "+" : "", tab[k].n, tab[k].actual_mean,
                        tab[k].expected_mean);
        if (p->pareto_nbd) upf_sbuf_printf(&csv, ",%.6f", tab_pn[k].expected_mean);
        upf_sbuf_printf(&csv, "\n");
    }
    if ((st = upf_sbuf_artifact(run, "holdout_table.csv", &csv, err)) != UPF_OK) goto done;
    upf_sbuf_free(&csv);
    upf_sbuf_printf(&csv, "customer,x,t_x,T,holdout_actual,p_alive,bgnbd_expected%s%s\n",
                    p->pareto_nbd ? ",pareto_nbd_expected" : "", have_gg ? ",expected_spend" : "");
    for (size_t i = 0; i < n; i++) {
        upf_sbuf_csv_field(&csv, upf_strings_get(&ds->user_ids, (size_t)s.customer[i]));
        upf_sbuf_printf(&csv, ",%.0f,%.6g,%.6g,%.0f,%.6f,%.6f", s.x[i], s.t_x[i], s.T[i], s.x_star[i], p_alive[i],
                        fc_bg[i]);
        if (p->pareto_nbd) upf_sbuf_printf(&csv, ",%.6f", fc_pn[i]);
        if (have_gg) upf_sbuf_printf(&csv, ",%.4f", spend[i]);
        upf_sbuf_printf(&csv, "\n");
    }
    if ((st = upf_sbuf_artifact(run, "customers.csv", &csv, err)) != UPF_OK) goto done;

    /* ---- model ---- */
    if (!upf_run_config(run)->export_enabled) goto done;
    if ((st = upf_mw_create(&w, UPF_KIND_LIFETIME_BGNBD, err)) != UPF_OK) goto done;
    if ((st = upf_mw_meta_f64(w, UPF_M_BGNBD_R, bg.r)) || (st = upf_mw_meta_f64(w, UPF_M_BGNBD_ALPHA, bg.alpha)) ||
        (st = upf_mw_meta_f64(w, UPF_M_BGNBD_A, bg.a)) || (st = upf_mw_meta_f64(w, UPF_M_BGNBD_B, bg.b)) ||
        (st = upf_mw_meta_f64(w, UPF_M_BGNBD_UNIT_DAYS, bp.unit_days)) ||
        (p->variant && ((st = upf_mw_meta_str(w, UPF_M_BGNBD_VARIANT, "mbgnbd")) ||
                        (st = upf_mw_meta_set_flags(w, UPF_M_BGNBD_VARIANT, UPF_META_CRITICAL)))) ||
        (st = upf_mw_meta_i64(w, UPF_M_BGNBD_CAL_END, p->calibration_end)) ||
        (have_gg && ((st = upf_mw_meta_f64(w, UPF_M_GG_P, gg.p)) || (st = upf_mw_meta_f64(w, UPF_M_GG_Q, gg.q)) ||
                     (st = upf_mw_meta_f64(w, UPF_M_GG_GAMMA, gg.gamma)))) ||
        (p->pareto_nbd &&
         ((st = upf_mw_meta_f64(w, UPF_M_PNBD_R, pn.r)) || (st = upf_mw_meta_f64(w, UPF_M_PNBD_ALPHA, pn.alpha)) ||
          (st = upf_mw_meta_f64(w, UPF_M_PNBD_S, pn.s)) || (st = upf_mw_meta_f64(w, UPF_M_PNBD_BETA, pn.beta))))) {
        upf_err_set(err, st, "model.upf: %s", upf_status_str(st));
        goto done;
    }
    st = upf_run_save_model(run, w, err);
done:
    upf_mw_free(w);
    upf_sbuf_free(&csv);
    upf_btyd_summary_free(&s);
    upf_free(fc_bg);
    upf_free(fc_pn);
    upf_free(spend);
    upf_free(abs_err);
    upf_free(p_alive);
    upf_free(users);
    upf_free(tab);
    upf_free(tab_pn);
    return st;
}

const upf_family upf_family_bgnbd = {
    "bgnbd",
    "BG/NBD customer-base model (P(alive), expected purchases) with Pareto/NBD and Gamma-Gamma spend, "
    "fitted on a calibration period and judged on the holdout",
    bgnbd_keys,
    sizeof(bgnbd_params),
    bgnbd_check,
    bgnbd_run,
};
