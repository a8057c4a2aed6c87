/* synth_users.c - the generated customers: covariates (region, age band,
 * signup channel), signup dates and birthdays, latent tastes that depend on
 * the covariates, price sensitivity, Weibull repurchase scales from an AFT
 * model, BG/NBD-style dropout probabilities, and campaign assignment with the
 * planted effect segments.
 *
 * Not here: what users do (synth_events.c). Formulas: SYNTH.md "Users".
 * Entry point: syn_users_build.
 */
#include <math.h>
#include <string.h>

#include "synth_internal.h"

const char *const syn_region_names[UPF_SYNTH_N_REGIONS] = { "north", "south", "east", "west", "central", "coast" };
const char *const syn_age_names[UPF_SYNTH_N_AGE_BANDS] = { "18-24", "25-34", "35-44", "45-54", "55-64", "65+" };
const char *const syn_channel_names[UPF_SYNTH_N_CHANNELS] = { "organic", "paid_search", "social", "email",
                                                              "referral" };

static const double region_share[UPF_SYNTH_N_REGIONS] = { 0.25, 0.20, 0.18, 0.15, 0.12, 0.10 };
static const double age_share[UPF_SYNTH_N_AGE_BANDS] = { 0.12, 0.26, 0.24, 0.18, 0.12, 0.08 };
static const double channel_share[UPF_SYNTH_N_CHANNELS] = { 0.35, 0.20, 0.20, 0.15, 0.10 };
static const int age_lo[UPF_SYNTH_N_AGE_BANDS] = { 18, 25, 35, 45, 55, 65 };
static const int age_hi[UPF_SYNTH_N_AGE_BANDS] = { 24, 34, 44, 54, 64, 84 };

/* AFT coefficients of log(Weibull scale): positive = longer intervals. */
static const double aft_region[UPF_SYNTH_N_REGIONS] = { 0.0, 0.15, -0.10, 0.05, -0.20, 0.10 };
static const double aft_age[UPF_SYNTH_N_AGE_BANDS] = { 0.30, 0.10, 0.0, -0.10, -0.15, 0.05 };
static const double aft_channel[UPF_SYNTH_N_CHANNELS] = { 0.0, 0.20, -0.25, 0.10, -0.10 };

#define GROUP_TASTE_SD 0.7   /* sd of the region and age-band taste shifts */
#define PRICE_SENS_BASE 0.3  /* gamma_u = base + age shift + sd * N(0,1) */
#define PRICE_SENS_SD 0.2
static const double price_sens_age[UPF_SYNTH_N_AGE_BANDS] = { 0.20, 0.10, 0.0, -0.05, -0.10, -0.15 };
#define REBUY_FACTOR_SD 0.2  /* m_u = exp(sd * N(0,1)) */
#define COUPON_HI 0.4        /* coupon segment +1 when gamma_u > 0.4 */
#define COUPON_LO 0.15       /* ... -1 when gamma_u < 0.15 */

static size_t pick(upf_rng *r, const double *share, size_t n)
{
    double u = upf_rng_uniform(r), s = 0.0;
    for (size_t k = 0; k + 1 < n; k++)
        if (u < (s += share[k])) return k;
    return n - 1;
}

/* Planted segment of arm a (1: email, 2: coupon): +1 responds, 0 does not, -1 is put off. */
static int8_t segment(int arm, int age, int channel, double price_sens)
{
    if (arm == 1) {
        if (channel == 2) return -1; /* social */
        if ((channel == 0 || channel == 3) && age <= 2) return 1; /* organic or email, under 45 */
        return 0;
    }
    if (price_sens > COUPON_HI) return 1;
    if (price_sens < COUPON_LO) return -1;
    return 0;
}

upf_status syn_users_build(syn_ctx *c, upf_err *err)
{
    upf_synth_truth *t = c->t;
    const upf_synth_params *p = &c->p;
    size_t nu = (size_t)p->n_users, K = t->dim, na = t->n_arms;
    upf_rng r;

    t->n_users = nu;
    t->region_taste = upf_calloc(UPF_SYNTH_N_REGIONS * K, sizeof *t->region_taste);
    t->age_taste = upf_calloc(UPF_SYNTH_N_AGE_BANDS * K, sizeof *t->age_taste);
    t->user_region = upf_calloc(nu, 1);
    t->user_age_band = upf_calloc(nu, 1);
    t->user_channel = upf_calloc(nu, 1);
    t->user_taste = upf_calloc(nu * K, sizeof *t->user_taste);
    t->user_price_sens = upf_calloc(nu, sizeof *t->user_price_sens);
    t->user_scale_days = upf_calloc(nu, sizeof *t->user_scale_days);
    t->user_dropout = upf_calloc(nu, sizeof *t->user_dropout);
    t->user_rebuy_factor = upf_calloc(nu, sizeof *t->user_rebuy_factor);
    t->user_death = upf_calloc(nu, sizeof *t->user_death);
    t->user_occasions = upf_calloc(nu, sizeof *t->user_occasions);
    t->user_arm = upf_calloc(nu, sizeof *t->user_arm);
    t->user_alive_at_send = upf_calloc(nu, 1);
    c->user_signup = upf_calloc(nu, sizeof *c->user_signup);
    c->user_birthday = upf_calloc(nu, sizeof *c->user_birthday);
    if (na) {
        t->user_segment = upf_calloc(nu * na, 1);
        t->user_conv_prob = upf_calloc(nu * na, sizeof *t->user_conv_prob);
        t->user_revenue_mean = upf_calloc(nu * na, sizeof *t->user_revenue_mean);
    }
    if (!t->region_taste || !t->age_taste || !t->user_region || !t->user_age_band || !t->user_channel ||
        !t->user_taste || !t->user_price_sens || !t->user_scale_days || !t->user_dropout ||
        !t->user_rebuy_factor || !t->user_death || !t->user_occasions || !t->user_arm ||
        !t->user_alive_at_send || !c->user_signup || !c->user_birthday ||
        (na && (!t->user_segment || !t->user_conv_prob || !t->user_revenue_mean)))
        return upf_err_set(err, UPF_ERR_NOMEM, "synth: out of memory (%zu users)", nu);

    syn_rng(&r, p->seed, SYN_STREAM_CATALOG, 1);
    for (size_t k = 0; k < UPF_SYNTH_N_REGIONS * K; k++) t->region_taste[k] = (float)(GROUP_TASTE_SD * upf_rng_normal(&r));
    for (size_t k = 0; k < UPF_SYNTH_N_AGE_BANDS * K; k++) t->age_taste[k] = (float)(GROUP_TASTE_SD * upf_rng_normal(&r));

    double k_shape = p->interval_shape;
    t->aft_intercept = log(p->interval_days / tgamma(1.0 + 1.0 / k_shape));
    memcpy(t->aft_region, aft_region, sizeof aft_region);
    memcpy(t->aft_age, aft_age, sizeof aft_age);
    memcpy(t->aft_channel, aft_channel, sizeof aft_channel);

    int64_t y0;
    unsigned m0, d0;
    syn_civil_from_days(t->t_start / SYN_DAY, &y0, &m0, &d0);
    double range = (double)(t->t_end - t->t_start);
    for (size_t u = 0; u < nu; u++) {
        syn_rng(&r, p->seed, SYN_STREAM_USER, u);
        int reg = (int)pick(&r, region_share, UPF_SYNTH_N_REGIONS);
        int age = (int)pick(&r, age_share, UPF_SYNTH_N_AGE_BANDS);
        int ch = (int)pick(&r, channel_share, UPF_SYNTH_N_CHANNELS);
        t->user_region[u] = (uint8_t)reg;
        t->user_age_band[u] = (uint8_t)age;
        t->user_channel[u] = (uint8_t)ch;
        float *z = t->user_taste + u * K;
        for (size_t d = 0; d < K; d++)
            z[d] = (float)((double)t->region_taste[(size_t)reg * K + d] + (double)t->age_taste[(size_t)age * K + d] +
                           upf_rng_normal(&r));
        double gamma = PRICE_SENS_BASE + price_sens_age[age] + PRICE_SENS_SD * upf_rng_normal(&r);
        t->user_price_sens[u] = (float)gamma;

        if (upf_rng_uniform(&r) < p->new_user_share) c->user_signup[u] = t->t_start + (int64_t)(upf_rng_uniform(&r) * range);
        else c->user_signup[u] = t->t_start - 1 - (int64_t)(upf_rng_uniform(&r) * (double)p->history_days * SYN_DAY);

        c->user_birthday[u] = UPF_TIME_MISSING;
        double bu = upf_rng_uniform(&r), by = upf_rng_uniform(&r), bd = upf_rng_uniform(&r);
        if (bu < p->birthday_share) {
            int64_t year = y0 - age_lo[age] - (int64_t)(by * (age_hi[age] - age_lo[age] + 1));
            int64_t n_days = 365 + syn_is_leap(year);
            c->user_birthday[u] = (syn_days_from_civil(year, 1, 1) + (int64_t)(bd * (double)n_days)) * SYN_DAY;
        }

        double log_scale = t->aft_intercept + aft_region[reg] + aft_age[age] + aft_channel[ch] +
                           p->interval_frailty * upf_rng_normal(&r);
        if (p->bgnbd_r > 0) /* BG/NBD: purchase rate lambda ~ Gamma(r, alpha), mean gap 1/lambda */
            log_scale = log(p->bgnbd_alpha) - log(upf_rng_gamma(&r, p->bgnbd_r));
        t->user_scale_days[u] = (float)exp(log_scale);
        t->user_dropout[u] = (float)upf_rng_beta(&r, p->dropout_a, p->dropout_b);
        t->user_rebuy_factor[u] = (float)exp(REBUY_FACTOR_SD * upf_rng_normal(&r));
        t->user_death[u] = UPF_TIME_MISSING;

        t->user_arm[u] = -1;
        if (na) {
            upf_rng rc;
            syn_rng(&rc, p->seed, SYN_STREAM_CAMPAIGN, u);
            double share = upf_rng_uniform(&rc);
            uint32_t arm = upf_rng_below(&rc, (uint32_t)na);
            if (c->user_signup[u] < t->campaign_time && share < p->campaign_share) t->user_arm[u] = (int16_t)arm;
            for (size_t a = 0; a < na; a++) {
                t->user_segment[u * na + a] = a ? segment((int)a, age, ch, gamma) : 0;
                t->user_conv_prob[u * na + a] = NAN;
                t->user_revenue_mean[u * na + a] = NAN;
            }
        }
    }
    return UPF_OK;
}
