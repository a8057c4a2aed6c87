/* synth_truth.c - the ground truth in memory: freeing it, its JSON document
 * (parameters, coefficient tables, segment summaries, logging policy and
 * scalar truths; no per-user arrays), and the oracle functions that compute
 * true choice and click probabilities from it.
 *
 * Not here: the HDF5 truth file (h5_synth_truth.c). Entry points:
 * upf_synth_truth_free, upf_synth_truth_write_json, upf_synth_affinity,
 * upf_synth_choice_probs, upf_synth_category_probs, upf_synth_click_prob,
 * upf_synth_slate_value.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "../model/json.h"
#include "../model/outfile.h"
#include "synth_internal.h"

void upf_synth_truth_free(upf_synth_truth *t)
{
    if (!t) return;
    for (size_t k = 0; t->category_names && k < t->n_categories; k++) upf_free(t->category_names[k]);
    for (size_t k = 0; t->brand_names && k < t->n_brands; k++) upf_free(t->brand_names[k]);
    for (size_t k = 0; t->arm_names && k < t->n_arms; k++) upf_free(t->arm_names[k]);
    void *arrays[] = {
        t->category_names, t->category_rebuy_days, t->category_vec, t->brand_names, t->brand_category,
        t->brand_style, t->style_vec, t->item_category, t->item_brand, t->item_band, t->item_popularity, t->item_base_price,
        t->item_rebuy_days, t->item_added, t->item_removed, t->user_region, t->user_age_band, t->user_channel,
        t->region_taste, t->age_taste, t->user_taste, t->user_price_sens, t->user_scale_days, t->user_dropout,
        t->user_rebuy_factor, t->user_death, t->user_occasions, t->arm_names, t->user_arm, t->user_alive_at_send,
        t->user_segment, t->user_conv_prob, t->user_revenue_mean, t->candidates, t->position_bias,
        t->logging_prop, t->context_user, t->context_time, t->context_relevance,
    };
    for (size_t k = 0; k < sizeof arrays / sizeof arrays[0]; k++) upf_free(arrays[k]);
    memset(t, 0, sizeof *t);
    upf_free(t);
}

/* ---- parameters <-> JSON, one table ---- */

enum { P_U64, P_U32, P_I32, P_I64, P_F64 };

static const struct {
    const char *name;
    int type;
    size_t off;
} param_defs[] = {
#define U64(f) { #f, P_U64, offsetof(upf_synth_params, f) }
#define U32(f) { #f, P_U32, offsetof(upf_synth_params, f) }
#define I32(f) { #f, P_I32, offsetof(upf_synth_params, f) }
#define I64(f) { #f, P_I64, offsetof(upf_synth_params, f) }
#define F64(f) { #f, P_F64, offsetof(upf_synth_params, f) }
    U64(seed), U64(n_users), U64(n_items), U32(n_days), I64(start),
    U32(n_categories), U32(n_brands), U32(dim), U32(n_styles), F64(affinity), F64(brand_affinity), F64(zipf),
    F64(new_item_share), F64(cold_item_share), U32(cold_days), F64(delist_share), F64(sale_rate), F64(stockout_rate),
    F64(new_user_share), U32(history_days), F64(interval_days), F64(interval_shape), F64(interval_frailty),
    F64(bgnbd_r), F64(bgnbd_alpha),
    F64(dropout_a), F64(dropout_b), F64(rebuy_prob), F64(birthday_share),
    F64(browse_ratio), F64(views_per_session), F64(search_prob), F64(cart_abandon_prob),
    F64(campaign_share), U32(campaign_arms), I32(campaign_day), U32(campaign_window), F64(effect), F64(coupon_discount),
    U64(n_impressions), U32(n_positions), U32(n_candidates), F64(logging_temperature), F64(click_bias),
#undef U64
#undef U32
#undef I32
#undef I64
#undef F64
};
#define N_PARAM_DEFS (sizeof param_defs / sizeof param_defs[0])

static void params_json(upf_json_writer *w, const upf_synth_params *p)
{
    const char *base = (const char *)p;
    upf_jw_object(w, "params");
    for (size_t k = 0; k < N_PARAM_DEFS; k++) {
        const void *f = base + param_defs[k].off;
        uint64_t u64;
        uint32_t u32;
        int32_t i32;
        int64_t i64;
        double f64;
        switch (param_defs[k].type) {
        case P_U64: /* seeds above 2^53 would lose digits as JSON numbers: write those as strings */
            memcpy(&u64, f, sizeof u64);
            if (u64 >> 53) {
                char buf[32];
                snprintf(buf, sizeof buf, "%llu", (unsigned long long)u64);
                upf_jw_str(w, param_defs[k].name, buf);
            } else {
                upf_jw_int(w, param_defs[k].name, (int64_t)u64);
            }
            break;
        case P_U32: memcpy(&u32, f, sizeof u32); upf_jw_int(w, param_defs[k].name, u32); break;
        case P_I32: memcpy(&i32, f, sizeof i32); upf_jw_int(w, param_defs[k].name, i32); break;
        case P_I64: memcpy(&i64, f, sizeof i64); upf_jw_int(w, param_defs[k].name, i64); break;
        default: memcpy(&f64, f, sizeof f64); upf_jw_num(w, param_defs[k].name, f64); break;
        }
    }
    upf_jw_end(w);
}

upf_status syn_params_from_json(const upf_json *obj, upf_synth_params *out, upf_err *err)
{
    upf_synth_params p;
    memset(&p, 0, sizeof p);
    if (!obj || obj->type != UPF_JSON_OBJ) return upf_err_set(err, UPF_ERR_FORMAT, "params: expected an object");
    char *base = (char *)&p;
    for (size_t k = 0; k < N_PARAM_DEFS; k++) {
        const char *name = param_defs[k].name;
        const upf_json *v = upf_json_get(obj, name);
        void *f = base + param_defs[k].off;
        if (!v) return upf_err_set(err, UPF_ERR_FORMAT, "params.%s: missing", name);
        if (param_defs[k].type == P_U64 && v->type == UPF_JSON_STR) {
            uint64_t u = 0;
            for (const char *c = v->str; *c; c++) {
                if (*c < '0' || *c > '9' || u > (UINT64_MAX - 9) / 10)
                    return upf_err_set(err, UPF_ERR_FORMAT, "params.%s: expected an unsigned integer (got \"%s\")", name, v->str);
                u = u * 10 + (uint64_t)(*c - '0');
            }
            memcpy(f, &u, sizeof u);
            continue;
        }
        if (v->type != UPF_JSON_NUM) return upf_err_set(err, UPF_ERR_FORMAT, "params.%s: expected a number", name);
        double x = v->num;
        int integral = param_defs[k].type != P_F64;
        if (integral && (x != floor(x) || !(fabs(x) <= 9007199254740992.0)))
            return upf_err_set(err, UPF_ERR_FORMAT, "params.%s: expected an integer (got %g)", name, x);
        switch (param_defs[k].type) {
        case P_U64: {
            if (x < 0) return upf_err_set(err, UPF_ERR_FORMAT, "params.%s: expected >= 0 (got %g)", name, x);
            uint64_t u = (uint64_t)x;
            memcpy(f, &u, sizeof u);
            break;
        }
        case P_U32: {
            if (x < 0 || x > UINT32_MAX) return upf_err_set(err, UPF_ERR_FORMAT, "params.%s: out of range (got %g)", name, x);
            uint32_t u = (uint32_t)x;
            memcpy(f, &u, sizeof u);
            break;
        }
        case P_I32: {
            if (x < INT32_MIN || x > INT32_MAX) return upf_err_set(err, UPF_ERR_FORMAT, "params.%s: out of range (got %g)", name, x);
            int32_t i = (int32_t)x;
            memcpy(f, &i, sizeof i);
            break;
        }
        case P_I64: {
            int64_t i = (int64_t)x;
            memcpy(f, &i, sizeof i);
            break;
        }
        default: memcpy(f, &x, sizeof x); break;
        }
    }
    upf_status st = upf_synth_params_check(&p, err);
    if (st != UPF_OK) return st;
    *out = p;
    return UPF_OK;
}

/* ---- the JSON document ---- */

static void num_array(upf_json_writer *w, const char *key, const double *v, size_t n)
{
    upf_jw_array(w, key);
    for (size_t k = 0; k < n; k++) upf_jw_num(w, NULL, v[k]);
    upf_jw_end(w);
}

static void float_array(upf_json_writer *w, const char *key, const float *v, size_t n)
{
    upf_jw_array(w, key);
    for (size_t k = 0; k < n; k++) upf_jw_num(w, NULL, v[k]);
    upf_jw_end(w);
}

static void coef_table(upf_json_writer *w, const char *key, const double *v, const char *const *names, size_t n)
{
    upf_jw_object(w, key);
    for (size_t k = 0; k < n; k++) upf_jw_num(w, names[k], v[k]);
    upf_jw_end(w);
}

void syn_truth_json(const upf_synth_truth *t, FILE *f)
{
    upf_json_writer w;
    char when[32];
    upf_jw_init(&w, f, 1);
    upf_jw_object(&w, NULL);
    upf_jw_str(&w, "format", UPF_SYNTH_TRUTH_FORMAT);
    upf_jw_int(&w, "version", UPF_SYNTH_TRUTH_VERSION);
    upf_jw_str(&w, "documentation", "datasets/SYNTH.md");
    params_json(&w, &t->params);

    upf_jw_object(&w, "range");
    syn_format_iso(t->t_start, when, sizeof when);
    upf_jw_str(&w, "start", when);
    syn_format_iso(t->t_end, when, sizeof when);
    upf_jw_str(&w, "end", when);
    upf_jw_int(&w, "t_start", t->t_start);
    upf_jw_int(&w, "t_end", t->t_end);
    upf_jw_end(&w);

    upf_jw_object(&w, "catalog");
    upf_jw_int(&w, "n_categories", (int64_t)t->n_categories);
    upf_jw_int(&w, "n_brands", (int64_t)t->n_brands);
    upf_jw_int(&w, "n_styles", (int64_t)t->n_styles);
    upf_jw_int(&w, "n_items", (int64_t)t->n_items);
    upf_jw_int(&w, "dim", (int64_t)t->dim);
    upf_jw_int(&w, "price_bands", UPF_SYNTH_BANDS);
    upf_jw_array(&w, "categories");
    for (size_t c = 0; c < t->n_categories; c++) {
        size_t n = 0, cold = 0;
        for (size_t i = 0; i < t->n_items; i++)
            if ((size_t)t->item_category[i] == c) {
                n++;
                cold += t->item_added[i] >= t->t_end - (int64_t)t->params.cold_days * SYN_DAY;
            }
        upf_jw_object(&w, NULL);
        upf_jw_str(&w, "name", t->category_names[c]);
        upf_jw_num(&w, "rebuy_days", t->category_rebuy_days[c]);
        upf_jw_int(&w, "items", (int64_t)n);
        upf_jw_int(&w, "cold_items", (int64_t)cold);
        float_array(&w, "vector", t->category_vec + c * t->dim, t->dim);
        upf_jw_end(&w);
    }
    upf_jw_end(&w);
    upf_jw_end(&w);

    upf_jw_object(&w, "users");
    upf_jw_int(&w, "n_users", (int64_t)t->n_users);
    size_t dead = 0, dead_before = 0, no_events = 0;
    double mean_p = 0.0;
    for (size_t u = 0; u < t->n_users; u++) {
        dead += t->user_death[u] != UPF_TIME_MISSING;
        dead_before += t->user_death[u] != UPF_TIME_MISSING && t->user_death[u] < t->t_start;
        no_events += t->user_occasions[u] == 0;
        mean_p += (double)t->user_dropout[u];
    }
    upf_jw_int(&w, "inactive_by_end", (int64_t)dead);
    upf_jw_int(&w, "inactive_before_start", (int64_t)dead_before);
    upf_jw_int(&w, "without_purchases_in_range", (int64_t)no_events);
    upf_jw_object(&w, "interval");
    if (t->params.bgnbd_r > 0) {
        upf_jw_str(&w, "model", "BG/NBD: exponential gaps, rate (per day) ~ Gamma(shape r, rate alpha); scale_days = 1/rate");
        upf_jw_num(&w, "r", t->params.bgnbd_r);
        upf_jw_num(&w, "alpha_days", t->params.bgnbd_alpha);
    } else {
        upf_jw_str(&w, "model", "Weibull AFT: log(scale_days) = intercept + region + age_band + channel + frailty_sd * N(0,1)");
    }
    upf_jw_num(&w, "shape", t->params.interval_shape);
    upf_jw_num(&w, "intercept", t->aft_intercept);
    upf_jw_num(&w, "frailty_sd", t->params.interval_frailty);
    coef_table(&w, "region", t->aft_region, syn_region_names, UPF_SYNTH_N_REGIONS);
    coef_table(&w, "age_band", t->aft_age, syn_age_names, UPF_SYNTH_N_AGE_BANDS);
    coef_table(&w, "channel", t->aft_channel, syn_channel_names, UPF_SYNTH_N_CHANNELS);
    upf_jw_end(&w);
    upf_jw_object(&w, "dropout");
    upf_jw_str(&w, "model", "after every purchase occasion the user becomes inactive with p_u ~ Beta(a, b)");
    upf_jw_num(&w, "a", t->params.dropout_a);
    upf_jw_num(&w, "b", t->params.dropout_b);
    upf_jw_num(&w, "mean_p", t->n_users ? mean_p / (double)t->n_users : 0.0);
    upf_jw_end(&w);
    upf_jw_end(&w);

    upf_jw_object(&w, "campaign");
    upf_jw_int(&w, "arms", (int64_t)t->n_arms);
    if (t->n_arms) {
        upf_jw_str(&w, "name", "synth");
        syn_format_iso(t->campaign_time, when, sizeof when);
        upf_jw_str(&w, "send_time", when);
        upf_jw_int(&w, "window_days", t->campaign_window / SYN_DAY);
        upf_jw_num(&w, "effect_logit", t->params.effect);
        upf_jw_num(&w, "expected_quantity", t->expected_quantity);
        upf_jw_array(&w, "arm");
        static const char *const rules[UPF_SYNTH_MAX_ARMS + 1] = {
            "control",
            "+1: channel organic or email and age_band under 45; -1: channel social; 0: otherwise",
            "+1: price sensitivity gamma_u > 0.4; -1: gamma_u < 0.15; 0: otherwise",
        };
        for (size_t a = 0; a < t->n_arms; a++) {
            upf_jw_object(&w, NULL);
            upf_jw_str(&w, "name", t->arm_names[a]);
            upf_jw_num(&w, "propensity", t->arm_propensity);
            upf_jw_num(&w, "discount", t->arm_discount[a]);
            upf_jw_str(&w, "segment_rule", rules[a]);
            if (a) {
                /* the true mean effects over the campaign's users, overall and by segment */
                double sum = 0.0, rsum = 0.0, seg_sum[3] = { 0 }, seg_n[3] = { 0 };
                size_t n = 0;
                for (size_t u = 0; u < t->n_users; u++) {
                    if (t->user_arm[u] < 0) continue;
                    double cate = (double)t->user_conv_prob[u * t->n_arms + a] - (double)t->user_conv_prob[u * t->n_arms];
                    int s = t->user_segment[u * t->n_arms + a] + 1;
                    sum += cate;
                    rsum += (double)t->user_revenue_mean[u * t->n_arms + a] - (double)t->user_revenue_mean[u * t->n_arms];
                    seg_sum[s] += cate;
                    seg_n[s] += 1.0;
                    n++;
                }
                upf_jw_num(&w, "mean_cate_conversion", n ? sum / (double)n : 0.0);
                upf_jw_num(&w, "mean_cate_revenue", n ? rsum / (double)n : 0.0);
                upf_jw_object(&w, "segments");
                static const char *const seg_names[3] = { "-1", "0", "+1" };
                for (int s = 0; s < 3; s++) {
                    upf_jw_object(&w, seg_names[s]);
                    upf_jw_int(&w, "users", (int64_t)seg_n[s]);
                    upf_jw_num(&w, "mean_cate_conversion", seg_n[s] > 0 ? seg_sum[s] / seg_n[s] : 0.0);
                    upf_jw_end(&w);
                }
                upf_jw_end(&w);
            }
            upf_jw_end(&w);
        }
        upf_jw_end(&w);
    }
    upf_jw_end(&w);

    upf_jw_object(&w, "impressions");
    upf_jw_int(&w, "contexts", (int64_t)t->n_contexts);
    upf_jw_int(&w, "positions", (int64_t)t->n_positions);
    upf_jw_int(&w, "candidates", (int64_t)t->n_candidates);
    if (t->n_contexts) {
        upf_jw_str(&w, "click_model", "P(click) = position_bias[k] * sigmoid(click_bias + affinity(u, i))");
        upf_jw_num(&w, "click_bias", t->params.click_bias);
        float_array(&w, "position_bias", t->position_bias, t->n_positions);
        upf_jw_num(&w, "logging_temperature", t->params.logging_temperature);
        upf_jw_num(&w, "logging_value", t->logging_value);
        upf_jw_num(&w, "oracle_value", t->oracle_value);
        upf_jw_array(&w, "candidate_items");
        for (size_t j = 0; j < t->n_candidates; j++) upf_jw_int(&w, NULL, t->candidates[j]);
        upf_jw_end(&w);
        upf_jw_array(&w, "propensity");
        for (size_t j = 0; j < t->n_candidates; j++) num_array(&w, NULL, t->logging_prop + j * t->n_positions, t->n_positions);
        upf_jw_end(&w);
    }
    upf_jw_end(&w);
    upf_jw_end(&w);
    upf_jw_finish(&w);
}

upf_status upf_synth_truth_write_json(const upf_synth_truth *t, const char *path, upf_err *err)
{
    upf_outfile o;
    upf_status st = upf_outfile_open(&o, path, err);
    if (st != UPF_OK) return st;
    syn_truth_json(t, o.f);
    return upf_outfile_commit(&o, err);
}

/* ---- oracles ---- */

double upf_synth_affinity(const upf_synth_truth *t, size_t user, size_t item)
{
    const float *z = t->user_taste + user * t->dim;
    const float *cv = t->category_vec + (size_t)t->item_category[item] * t->dim;
    const float *bv = t->style_vec + (size_t)t->brand_style[t->item_brand[item]] * t->dim;
    double s = 0.0;
    for (size_t k = 0; k < t->dim; k++) s += (double)z[k] * ((double)cv[k] + (double)bv[k]);
    return s - (double)t->user_price_sens[user] * (double)t->item_band[item];
}

static int listed_at(const upf_synth_truth *t, size_t i, int64_t time)
{
    if (time == UPF_TIME_MISSING) return 1;
    return t->item_added[i] <= time && (t->item_removed[i] == UPF_TIME_MISSING || time < t->item_removed[i]);
}

upf_status upf_synth_choice_probs(const upf_synth_truth *t, size_t user, int64_t time, double *out, upf_err *err)
{
    if (user >= t->n_users) return upf_err_set(err, UPF_ERR_ARG, "synth truth: user %zu out of range (%zu users)", user, t->n_users);
    double top = -HUGE_VAL, sum = 0.0;
    for (size_t i = 0; i < t->n_items; i++) {
        out[i] = listed_at(t, i, time) ? log((double)t->item_popularity[i]) + upf_synth_affinity(t, user, i) : -HUGE_VAL;
        if (out[i] > top) top = out[i];
    }
    if (top == -HUGE_VAL) {
        memset(out, 0, t->n_items * sizeof *out);
        return upf_err_set(err, UPF_ERR_DATA, "synth truth: no item is listed at time %lld", (long long)time);
    }
    for (size_t i = 0; i < t->n_items; i++) sum += out[i] = out[i] == -HUGE_VAL ? 0.0 : exp(out[i] - top);
    for (size_t i = 0; i < t->n_items; i++) out[i] /= sum;
    return UPF_OK;
}

upf_status upf_synth_category_probs(const upf_synth_truth *t, size_t user, double *out, upf_err *err)
{
    if (user >= t->n_users) return upf_err_set(err, UPF_ERR_ARG, "synth truth: user %zu out of range (%zu users)", user, t->n_users);
    double top = -HUGE_VAL, sum = 0.0;
    for (size_t i = 0; i < t->n_items; i++) {
        double x = log((double)t->item_popularity[i]) + upf_synth_affinity(t, user, i);
        if (x > top) top = x;
    }
    for (size_t c = 0; c < t->n_categories; c++) out[c] = 0.0;
    for (size_t i = 0; i < t->n_items; i++) {
        double x = exp(log((double)t->item_popularity[i]) + upf_synth_affinity(t, user, i) - top);
        out[t->item_category[i]] += x;
        sum += x;
    }
    for (size_t c = 0; c < t->n_categories; c++) out[c] /= sum;
    return UPF_OK;
}

double upf_synth_click_prob(const upf_synth_truth *t, size_t context, size_t candidate, size_t position)
{
    return (double)t->position_bias[position] * (double)t->context_relevance[context * t->n_candidates + candidate];
}

double upf_synth_slate_value(const upf_synth_truth *t, size_t context, const int32_t *slate)
{
    double v = 0.0;
    for (size_t k = 0; k < t->n_positions; k++) {
        size_t lo = 0, hi = t->n_candidates;
        while (lo < hi) { /* candidates ascend */
            size_t mid = lo + (hi - lo) / 2;
            if (t->candidates[mid] < slate[k]) lo = mid + 1;
            else hi = mid;
        }
        if (lo == t->n_candidates || t->candidates[lo] != slate[k]) return -1.0;
        for (size_t j = 0; j < k; j++)
            if (slate[j] == slate[k]) return -1.0;
        v += upf_synth_click_prob(t, context, lo, k);
    }
    return v;
}
