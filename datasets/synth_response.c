/* synth_response.c - the planted response of synthetic users to lifecycle
 * triggers and the oracle value of a message plan (formulas in
 * synth_response.h and SYNTH.md). Reads the truth and the generated history;
 * writes nothing. Entry points: upf_synth_response_create / _free,
 * upf_synth_message_value, upf_synth_plan_value.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../model/rng.h"
#include "synth_response.h"

#define RESP_SEED 0x7472696767657273ull /* "triggers": a stream family apart from the generator's */
#define DAY 86400.0
#define FATIGUE_DAYS 7

/* base_k: incremental purchases of a message whose items all fit perfectly */
static const double base_table[UPF_TRIG_COUNT] = {
    0.30, /* cart_abandon */
    0.12, /* browse_abandon */
    0.12, /* search_abandon */
    0.06, /* follow_up */
    0.10, /* birthday */
    0.06, /* anniversary */
    0.10, /* price_drop */
    0.10, /* back_in_stock */
    0.05, /* new_arrivals */
    0.15, /* buy_again */
    0.08, /* win_back */
};

void upf_synth_response_free(upf_synth_response *r)
{
    if (!r) return;
    upf_free(r->sens);
    upf_free(r->aff_mean);
    upf_free(r->aff_sd);
    upf_free(r);
}

upf_status upf_synth_response_create(const upf_synth_truth *truth, const upf_dataset *ds, uint64_t seed,
                                     upf_synth_response **out, upf_err *err)
{
    *out = NULL;
    if (!truth || !ds || ds->n_users != truth->n_users || ds->n_items != truth->n_items)
        return upf_err_set(err, UPF_ERR_ARG, "synth response: the dataset (%zu users, %zu items) is not the truth's",
                           ds ? ds->n_users : 0, ds ? ds->n_items : 0);
    upf_synth_response *r = upf_calloc(1, sizeof *r);
    size_t n_sens;
    if (!r || upf_mul_size(truth->n_users, UPF_TRIG_COUNT, &n_sens)) goto nomem;
    r->truth = truth, r->ds = ds, r->n_users = truth->n_users, r->n_items = truth->n_items;
    memcpy(r->base, base_table, sizeof r->base);
    r->sens = upf_calloc(n_sens ? n_sens : 1, sizeof *r->sens);
    r->aff_mean = upf_calloc(r->n_users ? r->n_users : 1, sizeof *r->aff_mean);
    r->aff_sd = upf_calloc(r->n_users ? r->n_users : 1, sizeof *r->aff_sd);
    if (!r->sens || !r->aff_mean || !r->aff_sd) goto nomem;
    for (size_t u = 0; u < r->n_users; u++) {
        if ((u & 1023) == 0 && upf_interrupted()) {
            upf_synth_response_free(r);
            return upf_err_set(err, UPF_ERR_INTERRUPTED, "synth response: interrupted");
        }
        upf_rng g;
        upf_rng_seed(&g, seed ^ RESP_SEED, u);
        for (size_t k = 0; k < UPF_TRIG_COUNT; k++) r->sens[u * UPF_TRIG_COUNT + k] = (float)(1.0 + 0.7 * upf_rng_normal(&g));
        double s = 0.0, s2 = 0.0; /* Welford would be overkill: affinities are O(10) */
        for (size_t i = 0; i < r->n_items; i++) {
            double a = upf_synth_affinity(truth, u, i);
            s += a, s2 += a * a;
        }
        double n = (double)(r->n_items ? r->n_items : 1), m = s / n, v = s2 / n - m * m;
        r->aff_mean[u] = (float)m;
        r->aff_sd[u] = (float)(v > 1e-12 ? sqrt(v) : 1.0);
    }
    *out = r;
    return UPF_OK;
nomem:
    upf_synth_response_free(r);
    return upf_err_set(err, UPF_ERR_NOMEM, "synth response: out of memory");
}

static double sigmoid(double x) { return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x)); }

/* Days since the user's last purchase before `day` (any item when item < 0), or -1. */
static double since_purchase(const upf_dataset *ds, int32_t u, int32_t item, int64_t day)
{
    for (int64_t e = ds->user_ptr[u + 1] - 1; e >= ds->user_ptr[u]; e--) {
        if (ds->ev_time[e] >= day || ds->ev_type[e] != UPF_EV_PURCHASE) continue;
        if (item < 0 || ds->ev_item[e] == item) return (double)(day - ds->ev_time[e]) / DAY;
    }
    return -1.0;
}

double upf_synth_message_value(const upf_synth_response *r, const upf_trig_msg *m)
{
    const upf_synth_truth *t = r->truth;
    size_t u = (size_t)m->user;
    int k = m->trigger;
    double alive = (t->user_death[u] == UPF_TIME_MISSING || m->day < t->user_death[u]) ? 1.0
                   : k == UPF_TRIG_WIN_BACK                                           ? 0.25
                                                                                      : 0.05;
    double x = 1.0;
    if (k == UPF_TRIG_WIN_BACK) {
        double since = since_purchase(r->ds, m->user, -1, m->day);
        double lam = (double)t->user_scale_days[u];
        double risk = since < 0 ? 1.0 : 0.2 + since / (lam > 0 ? lam : 1.0);
        x = risk < 2.0 ? risk : 2.0;
    }
    double none = 1.0; /* P(no shown item works) */
    for (int32_t j = 0; j < m->n_items && j < UPF_TRIG_MAX_ITEMS; j++) {
        int32_t i = m->items[j];
        double s = (upf_synth_affinity(t, u, (size_t)i) - (double)r->aff_mean[u]) / (double)r->aff_sd[u];
        double f = sigmoid(2.0 * (s - 1.0));
        double tau = (double)t->item_rebuy_days[i] * (double)t->user_rebuy_factor[u];
        double since_i = since_purchase(r->ds, m->user, i, m->day);
        if (tau <= 0.0 && since_i >= 0.0) f *= 0.2; /* a durable item the user already owns */
        if (k == UPF_TRIG_BUY_AGAIN && tau > 0.0)
            f *= since_i < 0.0 ? 0.3 : exp(-fabs(since_i - tau) / (0.5 * tau));
        none *= 1.0 - f;
    }
    return alive * (double)r->sens[u * UPF_TRIG_COUNT + (size_t)k] * r->base[k] * x * (1.0 - none);
}

static const upf_trig_msg *sort_base;
static int by_user_day(const void *a, const void *b)
{
    const upf_trig_msg *x = &sort_base[*(const size_t *)a], *y = &sort_base[*(const size_t *)b];
    if (x->user != y->user) return x->user < y->user ? -1 : 1;
    if (x->day != y->day) return x->day < y->day ? -1 : 1;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    return i < j ? -1 : i > j;
}

upf_status upf_synth_plan_value(const upf_synth_response *r, const upf_trig_msg *msgs, size_t n, double *total,
                                double *per_trigger, upf_err *err)
{
    *total = 0.0;
    if (per_trigger)
        for (int k = 0; k < UPF_TRIG_COUNT; k++) per_trigger[k] = 0.0;
    for (size_t j = 0; j < n; j++) {
        const upf_trig_msg *m = &msgs[j];
        if (m->user < 0 || (size_t)m->user >= r->n_users || m->trigger < 0 || m->trigger >= UPF_TRIG_COUNT ||
            m->n_items < 0 || m->n_items > UPF_TRIG_MAX_ITEMS)
            return upf_err_set(err, UPF_ERR_ARG, "synth response: message %zu: user %d or trigger %d out of range", j,
                               (int)m->user, (int)m->trigger);
        for (int32_t i = 0; i < m->n_items; i++)
            if (m->items[i] < 0 || (size_t)m->items[i] >= r->n_items)
                return upf_err_set(err, UPF_ERR_ARG, "synth response: message %zu: item %d out of range", j,
                                   (int)m->items[i]);
    }
    size_t *ord = upf_malloc((n ? n : 1) * sizeof *ord);
    if (!ord) return upf_err_set(err, UPF_ERR_NOMEM, "synth response: out of memory");
    for (size_t j = 0; j < n; j++) ord[j] = j;
    sort_base = msgs; /* qsort has no context argument; this function is not reentrant */
    qsort(ord, n, sizeof *ord, by_user_day);
    double sum = 0.0;
    for (size_t a = 0; a < n; a++) {
        const upf_trig_msg *m = &msgs[ord[a]];
        int recent = 0;
        for (size_t b = a; b-- > 0;) {
            const upf_trig_msg *p = &msgs[ord[b]];
            if (p->user != m->user || p->day <= m->day - (int64_t)FATIGUE_DAYS * 86400) break;
            recent++;
        }
        double v = upf_synth_message_value(r, m) * ldexp(1.0, -recent);
        sum += v;
        if (per_trigger) per_trigger[m->trigger] += v;
    }
    upf_free(ord);
    *total = sum;
    return UPF_OK;
}
