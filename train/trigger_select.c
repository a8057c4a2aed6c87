/* trigger_select.c - budgets, quiet periods, repeat limits and the selection
 * value among triggers (contracts in trigger_select.h). */
#include <stdlib.h>
#include <string.h>

#include "trigger_select.h"

#define DAY UPF_TRIG_DAY

static int64_t day_of(int64_t t) { return t >= 0 ? t / DAY : -((-t + DAY - 1) / DAY); }

const char *upf_trig_reason_name(int r)
{
    static const char *const n[UPF_TRIG_WHY_COUNT] = { "sent", "quiet", "repeat", "budget", "outranked", "no_value" };
    return r >= 0 && r < UPF_TRIG_WHY_COUNT ? n[r] : "none";
}

upf_status upf_trig_state_create(size_t n_users, upf_trig_state *out, upf_err *err)
{
    memset(out, 0, sizeof *out);
    size_t a, b;
    if (upf_mul_size(n_users ? n_users : 1, UPF_TRIG_COUNT, &a) || upf_mul_size(n_users ? n_users : 1, UPF_TRIG_RING, &b))
        return upf_err_set(err, UPF_ERR_NOMEM, "triggers: too many users (%zu)", n_users);
    out->last_day = upf_malloc(a * sizeof *out->last_day);
    out->ring = upf_malloc(b * sizeof *out->ring);
    out->ring_pos = upf_calloc(n_users ? n_users : 1, 1);
    if (!out->last_day || !out->ring || !out->ring_pos) {
        upf_trig_state_free(out);
        return upf_err_set(err, UPF_ERR_NOMEM, "triggers: out of memory");
    }
    for (size_t i = 0; i < a; i++) out->last_day[i] = UPF_TIME_MISSING;
    for (size_t i = 0; i < b; i++) out->ring[i] = UPF_TIME_MISSING;
    out->n_users = n_users;
    return UPF_OK;
}

void upf_trig_state_free(upf_trig_state *s)
{
    upf_free(s->last_day), upf_free(s->ring), upf_free(s->ring_pos);
    memset(s, 0, sizeof *s);
}

void upf_trig_state_record(upf_trig_state *s, int32_t u, int k, int64_t day)
{
    int64_t d0 = day_of(day) * DAY;
    int64_t *l = &s->last_day[(size_t)u * UPF_TRIG_COUNT + (size_t)k];
    if (*l == UPF_TIME_MISSING || *l < d0) *l = d0;
    s->ring[(size_t)u * UPF_TRIG_RING + s->ring_pos[u]] = d0;
    s->ring_pos[u] = (uint8_t)((s->ring_pos[u] + 1) % UPF_TRIG_RING);
}

void upf_trig_state_load_messages(upf_trig_state *s, const upf_dataset *ds, int64_t cutoff)
{
    const upf_messages *m = &ds->messages;
    for (size_t j = 0; j < m->n; j++) {
        if (m->time[j] >= cutoff || (m->arm && m->arm[j] <= 0)) continue;
        if (m->user[j] < 0 || (size_t)m->user[j] >= s->n_users || m->trigger[j] >= m->trigger_names.n) continue;
        int k = upf_trigger_from_name(upf_strings_get(&m->trigger_names, m->trigger[j]));
        if (k >= 0) upf_trig_state_record(s, m->user[j], k, m->time[j]);
    }
}

int upf_trig_repeat_blocked(const upf_trig_state *s, const upf_trig_rules *r, int32_t u, int k, int64_t day)
{
    int64_t l = s->last_day[(size_t)u * UPF_TRIG_COUNT + (size_t)k];
    return l != UPF_TIME_MISSING && day_of(day) - day_of(l) < r->repeat_days[k];
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int upf_trig_budget_window(const upf_dataset *ds, const upf_trig_rules *r, int32_t u, int64_t cutoff)
{
    int w = r->budget_days;
    if (!r->budget_adaptive) return w;
    int64_t gaps[64], prev = INT64_MIN;
    int n = 0;
    for (int64_t e = upf_trig_prefix_end(ds, u, cutoff) - 1; e >= ds->user_ptr[u] && n < 64; e--) {
        if (ds->ev_type[e] != UPF_EV_PURCHASE) continue;
        int64_t d = day_of(ds->ev_time[e]);
        if (prev != INT64_MIN && d < prev) gaps[n++] = prev - d;
        if (prev == INT64_MIN || d < prev) prev = d;
    }
    if (n == 0) return w;
    qsort(gaps, (size_t)n, sizeof *gaps, cmp_i64);
    int64_t med = gaps[n / 2];
    if (med < w) return w;
    return med > 4 * (int64_t)w ? 4 * w : (int)med;
}

int upf_trig_budget_used(const upf_trig_state *s, int32_t u, int64_t day, int window)
{
    int64_t today = day_of(day);
    int c = 0;
    for (int j = 0; j < UPF_TRIG_RING; j++) {
        int64_t d = s->ring[(size_t)u * UPF_TRIG_RING + (size_t)j];
        if (d != UPF_TIME_MISSING && today - day_of(d) < window && day_of(d) <= today) c++;
    }
    return c;
}

double upf_trig_value(const upf_trig_rules *r, const upf_trig_models *m, int k, double item_score, int *source)
{
    if (m && m->has_uplift[k]) {
        /* a measured positive uplift outranks every priority; a measured
         * non-positive one is worth nothing (the caller suppresses it) */
        *source = UPF_TRIG_SRC_UPLIFT;
        return m->uplift[k] > 0 ? (double)(UPF_TRIG_COUNT + 1) + m->uplift[k] * (0.5 + item_score) : -1.0;
    }
    double s = item_score < 0 ? 0 : item_score >= 1 ? 0.999 : item_score;
    return (double)(UPF_TRIG_COUNT - r->priority[k]) + s;
}
