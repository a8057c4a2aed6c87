/* test_ope.c - off-policy evaluation (eval/ope.h): hand-computed IPS, SNIPS,
 * DM and DR on two-context logs (with and without clipping), the scorer glue
 * (slates, candidates, cross-fitted reward table) on a hand-computed log,
 * refusals (zero propensity, empty logs, anonymous contexts with a
 * personalized scorer), allocation failures, and on a generated shop with a
 * known logging policy: every interval covers the target's true value
 * (upf_synth_slate_value over the contexts) and DR varies less than IPS.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../datasets/synth.h"
#include "../eval/ope.h"
#include "../model/json.h"
#include "../train/runner.h"
#include "testutil.h"

/* ---- the hand case ----
 * Two contexts, two positions each (position, reward, mu, pi, qhat):
 *   c0: (0, 1, 0.50, 1, 0.4)  (1, 0, 0.25, 0, 0.1)     dm_0 = 0.6
 *   c1: (0, 0, 0.20, 1, 0.3)  (1, 1, 0.40, 1, 0.2)     dm_1 = 0.5
 * IPS terms: c0 = 1/0.5 = 2; c1 = 0/0.2 + 1/0.4 = 2.5 -> IPS 2.25,
 *   se = sd(2, 2.5)/sqrt(2) = sqrt(0.125/2) = 0.25.
 * SNIPS: position 0: sum w y = 2, sum w = 2 + 5 = 7, n_0/n = 1 -> 2/7;
 *   position 1: 2.5/2.5 = 1 -> 9/7.
 * DM = (0.6 + 0.5)/2 = 0.55.
 * DR: c0 = 0.6 + 2 (1 - 0.4) = 1.8; c1 = 0.5 + 5 (0 - 0.3) + 2.5 (1 - 0.2) = 1.0 -> 1.4.
 * Logged: (1 + 1)/2 = 1.  Weights 2, 5, 2.5: ESS = 9.5^2 / 35.25, max 5.
 * Clip 0.45: c1's propensities become 0.45 (w = 20/9 twice):
 *   IPS = (2 + 20/9)/2 = 19/9; DR = (1.8 + 0.5 + (20/9)(-0.3 + 0.8))/2 = (2.3 + 10/9)/2.
 */
static const size_t H_START[3] = { 0, 2, 4 };
static const int16_t H_POS[4] = { 0, 1, 0, 1 };
static const float H_Y[4] = { 1, 0, 0, 1 };
static const float H_MU[4] = { 0.5f, 0.25f, 0.2f, 0.4f };
static const double H_PI[4] = { 1, 0, 1, 1 };
static const double H_Q[4] = { 0.4, 0.1, 0.3, 0.2 };
static const double H_DM[2] = { 0.6, 0.5 };

static upf_ope_input hand_input(void)
{
    upf_ope_input in = { 4, 2, H_START, H_POS, H_Y, H_MU, H_PI, H_Q, H_DM };
    return in;
}

START_TEST(test_hand_case)
{
    upf_ope_input in = hand_input();
    upf_ope_params p = upf_ope_params_default();
    p.n_boot = 0;
    upf_ope_result r;
    upf_err e;
    ck_assert_int_eq(upf_ope_estimate(&in, &p, &r, &e), UPF_OK);
    /* float propensities: 0.2f and 0.4f are not exact, hence 1e-7 */
    ck_assert_double_eq_tol(r.ips.value, 2.25, 1e-6);
    ck_assert_double_eq_tol(r.ips.se, 0.25, 1e-6);
    ck_assert_double_eq_tol(r.snips.value, 9.0 / 7.0, 1e-6);
    ck_assert_double_eq_tol(r.dm.value, 0.55, 1e-12);
    ck_assert_double_eq_tol(r.dr.value, 1.4, 1e-6);
    ck_assert_double_eq_tol(r.logged.value, 1.0, 1e-12);
    ck_assert_double_eq_tol(r.ess, 9.5 * 9.5 / 35.25, 1e-5);
    ck_assert_double_eq_tol(r.max_weight, 5.0, 1e-6);
    ck_assert_uint_eq(r.n_matched, 3);
    ck_assert_uint_eq(r.n_clipped, 0);
    ck_assert_uint_eq(r.n_positions, 2);
    ck_assert_uint_eq(r.n_contexts, 2);
    ck_assert(isnan(r.ips.lo) && isnan(r.ips.hi)); /* no bootstrap, no interval */
    /* without a reward model: no DM/DR, the rest unchanged */
    in.qhat = NULL;
    in.dm = NULL;
    ck_assert_int_eq(upf_ope_estimate(&in, &p, &r, &e), UPF_OK);
    ck_assert(isnan(r.dr.value) && isnan(r.dm.value));
    ck_assert_double_eq_tol(r.ips.value, 2.25, 1e-6);
}
END_TEST

START_TEST(test_hand_case_clipped)
{
    upf_ope_input in = hand_input();
    upf_ope_params p = upf_ope_params_default();
    p.n_boot = 0;
    p.clip = 0.45;
    upf_ope_result r;
    upf_err e;
    ck_assert_int_eq(upf_ope_estimate(&in, &p, &r, &e), UPF_OK);
    ck_assert_double_eq_tol(r.ips.value, 19.0 / 9.0, 1e-9);
    ck_assert_double_eq_tol(r.dr.value, (2.3 + 10.0 / 9.0) / 2.0, 1e-9);
    ck_assert_uint_eq(r.n_clipped, 2);
    ck_assert_double_eq_tol(r.max_weight, 20.0 / 9.0, 1e-9);
    /* SNIPS: position 0: 2 / (2 + 20/9); position 1: 1 */
    ck_assert_double_eq_tol(r.snips.value, 2.0 / (2.0 + 20.0 / 9.0) + 1.0, 1e-9);
    /* a clip below every propensity changes nothing */
    p.clip = 0.1;
    ck_assert_int_eq(upf_ope_estimate(&in, &p, &r, &e), UPF_OK);
    ck_assert_double_eq_tol(r.ips.value, 2.25, 1e-6);
    ck_assert_uint_eq(r.n_clipped, 0);
}
END_TEST

START_TEST(test_bootstrap_interval)
{
    upf_ope_input in = hand_input();
    upf_ope_params p = upf_ope_params_default();
    p.n_boot = 400;
    p.seed = 7;
    upf_ope_result a, b;
    upf_err e;
    ck_assert_int_eq(upf_ope_estimate(&in, &p, &a, &e), UPF_OK);
    ck_assert_int_eq(upf_ope_estimate(&in, &p, &b, &e), UPF_OK);
    /* reproducible from the seed */
    ck_assert(a.ips.lo == b.ips.lo && a.ips.hi == b.ips.hi && a.dr.lo == b.dr.lo && a.snips.hi == b.snips.hi);
    /* two contexts: every resample's IPS is 2, 2.25 or 2.5 (terms 2 and 2.5) */
    ck_assert_double_eq_tol(a.ips.lo, 2.0, 1e-6);
    ck_assert_double_eq_tol(a.ips.hi, 2.5, 1e-6);
    /* DR terms 1.8 and 1.0 */
    ck_assert_double_eq_tol(a.dr.lo, 1.0, 1e-6);
    ck_assert_double_eq_tol(a.dr.hi, 1.8, 1e-6);
    ck_assert(a.snips.se > 0);
    ck_assert(a.logged.lo == 1.0 && a.logged.hi == 1.0);
}
END_TEST

START_TEST(test_refusals)
{
    upf_ope_input in = hand_input();
    upf_ope_params p = upf_ope_params_default();
    p.n_boot = 10;
    upf_ope_result r;
    upf_err e;
    /* zero propensity: refused, clipped or not */
    float mu[4] = { 0.5f, 0.0f, 0.2f, 0.4f };
    in.propensity = mu;
    ck_assert_int_eq(upf_ope_estimate(&in, &p, &r, &e), UPF_ERR_DATA);
    ck_assert_ptr_nonnull(strstr(e.msg, "row 1"));
    ck_assert(isnan(r.ips.value));
    p.clip = 0.3;
    ck_assert_int_eq(upf_ope_estimate(&in, &p, &r, &e), UPF_ERR_DATA);
    mu[1] = (float)NAN;
    ck_assert_int_eq(upf_ope_estimate(&in, &p, &r, &e), UPF_ERR_DATA);
    mu[1] = 1.5f;
    ck_assert_int_eq(upf_ope_estimate(&in, &p, &r, &e), UPF_ERR_DATA);
    /* a target probability outside [0, 1] */
    in = hand_input();
    double pi[4] = { 1, 0, 1.5, 1 };
    in.target = pi;
    ck_assert_int_eq(upf_ope_estimate(&in, &p, &r, &e), UPF_ERR_DATA);
    /* an empty log */
    in = hand_input();
    size_t zero = 0;
    upf_ope_input empty = { 0, 0, &zero, NULL, NULL, NULL, NULL, NULL, NULL };
    ck_assert_int_eq(upf_ope_estimate(&empty, &p, &r, &e), UPF_ERR_DATA);
    ck_assert_ptr_nonnull(strstr(e.msg, "empty"));
    /* qhat without dm */
    in.dm = NULL;
    ck_assert_int_eq(upf_ope_estimate(&in, &p, &r, &e), UPF_ERR_ARG);
    /* bad params */
    in = hand_input();
    p = upf_ope_params_default();
    p.clip = -0.1;
    ck_assert_int_eq(upf_ope_estimate(&in, &p, &r, &e), UPF_ERR_ARG);
    p = upf_ope_params_default();
    p.level = 1.0;
    ck_assert_int_eq(upf_ope_estimate(&in, &p, &r, &e), UPF_ERR_ARG);
    /* a negative position */
    int16_t pos[4] = { 0, -1, 0, 1 };
    p = upf_ope_params_default();
    in.position = pos;
    ck_assert_int_eq(upf_ope_estimate(&in, &p, &r, &e), UPF_ERR_DATA);
}
END_TEST

/* ---- the scorer glue, by hand ----
 * Items 0..3, item 3 never logged (so never a candidate, despite its score).
 * Item-only scores 0.1, 0.9, 0.5, 5.0 -> every slate is [1, 2].
 *   c0 (user 0, t 10): item 1 at 0 (y 1, mu .5), item 0 at 1 (y 1, mu .25)
 *   c1 (user 1, t 20): item 2 at 0 (y 0, mu .25), item 2 at 1 (y 1, mu .5)
 * Matches: c0 row 0 (w 2, y 1) and c1 row 1 (w 2, y 1): IPS = (2 + 2)/2 = 2,
 *   SNIPS = 1 + 1 = 2, logged = 3/2.
 * Reward table (prior 0, folds 2: c0 in fold 0, c1 in fold 1):
 *   for c0, from c1: (2,0) = 0/1, (2,1) = 1/1; unseen cells = position CTR (0, 1)
 *     dm_0 = q(1,0) + q(2,1) = 0 + 1 = 1; DR_0 = 1 + 2 (1 - q(1,0) = 0) = 3
 *   for c1, from c0: (1,0) = 1/1, (0,1) = 1/1; position CTRs 1 and 1
 *     dm_1 = q(1,0) + q(2,1) = 1 + 1 = 2; DR_1 = 2 + 2 (1 - 1) = 2
 *   DM = 1.5, DR = 2.5.
 */
START_TEST(test_scorer_hand_case)
{
    int32_t user[4] = { 0, 0, 1, 1 }, item[4] = { 1, 0, 2, 2 };
    int64_t time[4] = { 10, 10, 20, 20 };
    int16_t pos[4] = { 0, 1, 0, 1 };
    float y[4] = { 1, 1, 0, 1 }, mu[4] = { 0.5f, 0.25f, 0.25f, 0.5f };
    upf_impressions log;
    memset(&log, 0, sizeof log);
    log.n = 4;
    log.user = user;
    log.time = time;
    log.item = item;
    log.position = pos;
    log.reward = y;
    log.propensity = mu;
    float bias[4] = { 0.1f, 0.9f, 0.5f, 5.0f };
    upf_scorer s;
    memset(&s, 0, sizeof s);
    s.item_bias = bias;
    upf_ope_params p = upf_ope_params_default();
    p.prior = 0;
    p.n_boot = 0;
    upf_ope_result r;
    upf_err e;
    ck_assert_int_eq(upf_ope_eval_scorer(&log, &s, 2, 4, &p, &r, &e), UPF_OK);
    ck_assert_uint_eq(r.n_contexts, 2);
    ck_assert_uint_eq(r.n_matched, 2);
    ck_assert_double_eq_tol(r.ips.value, 2.0, 1e-12);
    ck_assert_double_eq_tol(r.snips.value, 2.0, 1e-12);
    ck_assert_double_eq_tol(r.logged.value, 1.5, 1e-12);
    ck_assert_double_eq_tol(r.dm.value, 1.5, 1e-12);
    ck_assert_double_eq_tol(r.dr.value, 2.5, 1e-12);

    /* bias + factor: user 1 scores 0.1, 0.9, 2.5, 5.0 -> slate [2, 1] */
    float uv[2] = { 0, 2 }, iv[4] = { 0, 0, 1, 0 };
    upf_scorer f;
    memset(&f, 0, sizeof f);
    f.dim = 1;
    f.item_bias = bias;
    f.user_vecs = uv;
    f.item_vecs = iv;
    ck_assert_int_eq(upf_ope_eval_scorer(&log, &f, 2, 4, &p, &r, &e), UPF_OK);
    /* c0 as before (w 2, y 1); c1: slate [2, 1]: row 0 (item 2 at 0, w 4) matches, y 0 */
    ck_assert_uint_eq(r.n_matched, 2);
    ck_assert_double_eq_tol(r.ips.value, 1.0, 1e-12);

    /* anonymous contexts: fine for an item-only scorer, refused for a personalized one */
    int32_t anon[4] = { -1, -1, -1, -1 };
    log.user = anon;
    ck_assert_int_eq(upf_ope_eval_scorer(&log, &s, 2, 4, &p, &r, &e), UPF_OK);
    ck_assert_double_eq_tol(r.ips.value, 2.0, 1e-12);
    ck_assert_int_eq(upf_ope_eval_scorer(&log, &f, 2, 4, &p, &r, &e), UPF_ERR_DATA);
    ck_assert_ptr_nonnull(strstr(e.msg, "personalized"));
    log.user = user;
    /* an item out of range, an empty log */
    ck_assert_int_eq(upf_ope_eval_scorer(&log, &s, 2, 2, &p, &r, &e), UPF_ERR_DATA);
    log.n = 0;
    ck_assert_int_eq(upf_ope_eval_scorer(&log, &s, 2, 4, &p, &r, &e), UPF_ERR_DATA);
    ck_assert(isnan(r.ips.value));
    log.n = 4;
    /* a zero propensity in the log */
    mu[3] = 0.0f;
    ck_assert_int_eq(upf_ope_eval_scorer(&log, &s, 2, 4, &p, &r, &e), UPF_ERR_DATA);
    mu[3] = 0.5f;

    /* allocation failures: NOMEM at every step, never a leak (ASan) */
    p.n_boot = 20;
    for (long k = 1;; k++) {
        upf_alloc_fail_after(k);
        upf_status st = upf_ope_eval_scorer(&log, &s, 2, 4, &p, &r, &e);
        upf_alloc_fail_after(0);
        if (st == UPF_OK) break;
        ck_assert_int_eq(st, UPF_ERR_NOMEM);
        ck_assert(isnan(r.ips.value));
        ck_assert(k < 100);
    }
}
END_TEST

/* ---- a generated shop with a known logging policy ---- */

static upf_dataset *shop;
static upf_synth_truth *truth;

static void shop_setup(void)
{
    upf_synth_params p = upf_synth_params_default();
    p.n_users = 1500;
    p.n_items = 300;
    p.n_days = 120;
    p.seed = 23;
    p.campaign_arms = 0;
    p.n_impressions = 8000;
    upf_err err;
    if (upf_synth_generate(&p, &shop, &truth, &err) != UPF_OK) {
        fprintf(stderr, "ope fixture: %s\n", err.msg);
        abort();
    }
}

static void shop_teardown(void)
{
    upf_dataset_free(shop);
    upf_synth_truth_free(truth);
    shop = NULL;
    truth = NULL;
}

/* the oracle's scores: the users' true affinities (a callback scorer) */
static upf_status oracle_block(void *ctx, const int32_t *users, size_t n_users, int32_t b, int32_t e, float *out)
{
    const upf_synth_truth *t = ctx;
    size_t w = (size_t)(e - b);
    for (size_t r = 0; r < n_users; r++)
        for (int32_t i = b; i < e; i++)
            out[r * w + (size_t)(i - b)] = (float)upf_synth_affinity(t, (size_t)users[r], (size_t)i);
    return UPF_OK;
}

/* The target's true value, with the slates rebuilt here from the truth's candidates. */
static double true_value(const upf_synth_truth *t, const upf_scorer *s)
{
    size_t M = t->n_candidates, P = t->n_positions;
    float *sc = malloc(M * sizeof *sc);
    ck_assert_ptr_nonnull(sc);
    double v = 0;
    for (size_t q = 0; q < t->n_contexts; q++) {
        int32_t u = t->context_user[q];
        for (size_t j = 0; j < M; j++) {
            int32_t it = t->candidates[j];
            if (s->score_block) s->score_block(s->ctx, &u, 1, it, it + 1, &sc[j]);
            else sc[j] = s->item_bias[it];
        }
        int32_t slate[UPF_SYNTH_MAX_POSITIONS];
        size_t used[UPF_SYNTH_MAX_POSITIONS];
        for (size_t k = 0; k < P; k++) {
            size_t best = M;
            for (size_t j = 0; j < M; j++) {
                int taken = 0;
                for (size_t l = 0; l < k; l++) taken |= used[l] == j;
                if (!taken && (best == M || sc[j] > sc[best])) best = j;
            }
            used[k] = best;
            slate[k] = t->candidates[best];
        }
        v += upf_synth_slate_value(t, q, slate);
    }
    free(sc);
    return v / (double)t->n_contexts;
}

static void check_covers(const char *what, const upf_ope_figure *f, double truth_value)
{
    ck_assert_msg(f->lo <= truth_value && truth_value <= f->hi, "%s: [%.4f, %.4f] misses the true value %.4f", what,
                  f->lo, f->hi, truth_value);
}

START_TEST(test_generated_truth)
{
    const upf_impressions *log = &shop->impressions;
    upf_ope_params p = upf_ope_params_default();
    p.n_boot = 300;
    upf_ope_result r;
    upf_err e;
    /* two targets: the oracle (true affinities) and popularity (item-only) */
    upf_scorer oracle;
    memset(&oracle, 0, sizeof oracle);
    oracle.score_block = oracle_block;
    oracle.ctx = truth;
    upf_scorer pop;
    memset(&pop, 0, sizeof pop);
    pop.item_bias = truth->item_popularity;
    const upf_scorer *targets[2] = { &oracle, &pop };
    const char *names[2] = { "oracle", "popularity" };
    for (int i = 0; i < 2; i++) {
        double v = true_value(truth, targets[i]);
        ck_assert_int_eq(upf_ope_eval_scorer(log, targets[i], shop->n_users, shop->n_items, &p, &r, &e), UPF_OK);
        ck_assert_uint_eq(r.n_contexts, truth->n_contexts);
        fprintf(stderr, "%s: true %.4f ips %.4f [%.4f, %.4f] snips %.4f [%.4f, %.4f] dr %.4f [%.4f, %.4f] se %.4f/%.4f\n",
                names[i], v, r.ips.value, r.ips.lo, r.ips.hi, r.snips.value, r.snips.lo, r.snips.hi, r.dr.value,
                r.dr.lo, r.dr.hi, r.ips.se, r.dr.se);
        check_covers("ips", &r.ips, v);
        check_covers("snips", &r.snips, v);
        check_covers("dr", &r.dr, v);
        /* doubly robust: lower variance than IPS, by the CLT and the bootstrap */
        ck_assert_msg(r.dr.se < r.ips.se, "%s: dr se %.4f, ips se %.4f", names[i], r.dr.se, r.ips.se);
        ck_assert(r.dr.hi - r.dr.lo < r.ips.hi - r.ips.lo);
        /* the on-policy figure recovers the logging policy's value */
        check_covers("logged", &r.logged, truth->logging_value);
        if (i == 0) ck_assert_double_eq_tol(v, truth->oracle_value, 1e-9);
    }
}
END_TEST

/* Unbiasedness and variance over independent logs: 16 shops (seeds 100..115,
 * 3000 slates each), the oracle and popularity as targets. The mean error of
 * IPS and DR over the shops must be within 3 standard errors of 0 (SNIPS and
 * DR are consistent, not unbiased: 3.5), and the spread of DR's errors below
 * IPS's. One log's estimates of similar policies share its noise (seed 5 of
 * the config test below runs 2.6 se high for every popular slate), which is
 * why a single-log coverage check alone proves little. */
START_TEST(test_generated_replicates)
{
    enum { R = 16 };
    double err_ips[2][R], err_sn[2][R], err_dr[2][R];
    for (int rep = 0; rep < R; rep++) {
        upf_synth_params sp = upf_synth_params_default();
        sp.n_users = 600;
        sp.n_items = 200;
        sp.n_days = 90;
        sp.seed = 100 + (uint64_t)rep;
        sp.campaign_arms = 0;
        sp.n_impressions = 3000;
        upf_dataset *ds = NULL;
        upf_synth_truth *t = NULL;
        upf_err e;
        ck_assert_msg(upf_synth_generate(&sp, &ds, &t, &e) == UPF_OK, "%s", e.msg);
        upf_scorer oracle, pop;
        memset(&oracle, 0, sizeof oracle);
        oracle.score_block = oracle_block;
        oracle.ctx = t;
        memset(&pop, 0, sizeof pop);
        pop.item_bias = t->item_popularity;
        const upf_scorer *targets[2] = { &oracle, &pop };
        upf_ope_params p = upf_ope_params_default();
        p.n_boot = 0;
        for (int i = 0; i < 2; i++) {
            upf_ope_result r;
            ck_assert_int_eq(upf_ope_eval_scorer(&ds->impressions, targets[i], ds->n_users, ds->n_items, &p, &r, &e),
                             UPF_OK);
            double v = true_value(t, targets[i]);
            err_ips[i][rep] = r.ips.value - v;
            err_sn[i][rep] = r.snips.value - v;
            err_dr[i][rep] = r.dr.value - v;
        }
        upf_dataset_free(ds);
        upf_synth_truth_free(t);
    }
    for (int i = 0; i < 2; i++) {
        double m[3] = { 0 }, ss[3] = { 0 };
        const double *x[3] = { err_ips[i], err_sn[i], err_dr[i] };
        for (int k = 0; k < 3; k++) {
            for (int rep = 0; rep < R; rep++) m[k] += x[k][rep] / R;
            for (int rep = 0; rep < R; rep++) ss[k] += (x[k][rep] - m[k]) * (x[k][rep] - m[k]) / (R - 1);
        }
        for (int k = 0; k < 3; k++) {
            double se = sqrt(ss[k] / R), lim = k == 0 ? 3.0 : 3.5;
            ck_assert_msg(fabs(m[k]) < lim * se, "target %d estimator %d: mean error %.4f, se %.4f", i, k, m[k], se);
        }
        fprintf(stderr, "replicates target %d: mean err ips %.4f snips %.4f dr %.4f; sd ips %.4f snips %.4f dr %.4f\n", i, m[0], m[1], m[2], sqrt(ss[0]), sqrt(ss[1]), sqrt(ss[2]));
        ck_assert_msg(ss[2] < ss[0], "target %d: DR error variance %.5f, IPS %.5f", i, ss[2], ss[0]);
    }
}
END_TEST

/* ---- from a config: eval.ope on a ranking family ---- */

static double metric(const upf_json *doc, const char *path)
{
    const upf_json *j = upf_json_path(doc, path);
    ck_assert_msg(j && j->type == UPF_JSON_NUM, "metrics.json: %s missing", path);
    return j->num;
}

START_TEST(test_runner_config)
{
    char *dir = upf_test_tmpdir();
    char cfg[4096], out[4096], mpath[4200];
    snprintf(cfg, sizeof cfg, "%s/ope.yaml", dir);
    snprintf(out, sizeof out, "%s/run", dir);
    FILE *f = fopen(cfg, "w");
    ck_assert_ptr_nonnull(f);
    fputs("data:\n  source: synth\n  synth:\n    users: 800\n    items: 200\n    seed: 7\n"
          "model:\n  family: popularity\n"
          "eval:\n  metrics: [ndcg]\n  k: [10]\n  baselines: []\n"
          "  ope:\n    enabled: true\n    bootstrap: 400\n    clip: 0.001\n"
          "export:\n  enabled: false\n",
          f);
    fclose(f);
    upf_runner_opts o;
    upf_runner_opts_init(&o);
    o.config_path = cfg;
    o.out_dir = out;
    o.quiet = 1;
    o.progress = 0;
    upf_runner_result res;
    upf_err e;
    ck_assert_msg(upf_runner_run(&o, &res, &e) == UPF_OK, "%s", e.msg);
    snprintf(mpath, sizeof mpath, "%s/metrics.json", out);
    upf_json *doc = NULL;
    ck_assert_msg(upf_json_parse_file(mpath, &doc, &e) == UPF_OK, "%s", e.msg);
    double tv = metric(doc, "ope.true_value");
    const char *est[3] = { "ips", "snips", "dr" };
    for (int i = 0; i < 3; i++) {
        char lo[64], hi[64];
        snprintf(lo, sizeof lo, "ope.%s_lo", est[i]);
        snprintf(hi, sizeof hi, "ope.%s_hi", est[i]);
        ck_assert_msg(metric(doc, lo) <= tv && tv <= metric(doc, hi), "%s: [%g, %g] misses %g", est[i],
                      metric(doc, lo), metric(doc, hi), tv);
    }
    ck_assert_double_eq(metric(doc, "ope.contexts"), 10000);
    ck_assert(metric(doc, "ope.matched") > 0);
    ck_assert(metric(doc, "ope.logged_lo") <= metric(doc, "ope.true_logged"));
    ck_assert(metric(doc, "ope.true_logged") <= metric(doc, "ope.logged_hi"));
    upf_json_free(doc);
    upf_test_rmdir(dir);
}
END_TEST

/* eval.ope on a dataset without impressions: a data error, not a silent skip */
START_TEST(test_runner_no_impressions)
{
    upf_synth_params sp = upf_synth_params_default();
    sp.n_users = 300;
    sp.n_items = 100;
    sp.n_days = 60;
    sp.campaign_arms = 0;
    sp.n_impressions = 0;
    upf_dataset *ds = NULL;
    upf_err e;
    ck_assert_msg(upf_synth_generate(&sp, &ds, NULL, &e) == UPF_OK, "%s", e.msg);
    char *dir = upf_test_tmpdir();
    char cfg[4096], out[4096];
    snprintf(cfg, sizeof cfg, "%s/ope.yaml", dir);
    snprintf(out, sizeof out, "%s/run", dir);
    FILE *f = fopen(cfg, "w");
    ck_assert_ptr_nonnull(f);
    fputs("data:\n  source: synth\nmodel:\n  family: popularity\neval:\n  baselines: []\n  ope:\n    enabled: true\n", f);
    fclose(f);
    upf_runner_opts o;
    upf_runner_opts_init(&o);
    o.config_path = cfg;
    o.out_dir = out;
    o.quiet = 1;
    o.progress = 0;
    o.dataset = ds;
    upf_runner_result res;
    ck_assert_int_eq(upf_runner_run(&o, &res, &e), UPF_ERR_DATA);
    ck_assert_ptr_nonnull(strstr(e.msg, "impressions"));
    upf_dataset_free(ds);
    upf_test_rmdir(dir);
}
END_TEST

/* the logged_policy family on an in-memory log: learn on the first half,
 * evaluate on the second; refusals of an empty learning part */
START_TEST(test_logged_policy_family)
{
    char *dir = upf_test_tmpdir();
    char cfg[4096], out[4096], mpath[4200];
    snprintf(cfg, sizeof cfg, "%s/lp.yaml", dir);
    snprintf(out, sizeof out, "%s/run", dir);
    FILE *f = fopen(cfg, "w");
    ck_assert_ptr_nonnull(f);
    fputs("data:\n  source: synth\nmodel:\n  family: logged_policy\n  policy: shown\n"
          "eval:\n  primary: ope.dr\n  ope:\n    bootstrap: 100\n",
          f);
    fclose(f);
    upf_runner_opts o;
    upf_runner_opts_init(&o);
    o.config_path = cfg;
    o.out_dir = out;
    o.quiet = 1;
    o.progress = 0;
    o.dataset = shop;
    upf_runner_result res;
    upf_err e;
    ck_assert_msg(upf_runner_run(&o, &res, &e) == UPF_OK, "%s", e.msg);
    ck_assert_str_eq(res.primary, "ope.dr");
    snprintf(mpath, sizeof mpath, "%s/metrics.json", out);
    upf_json *doc = NULL;
    ck_assert_msg(upf_json_parse_file(mpath, &doc, &e) == UPF_OK, "%s", e.msg);
    ck_assert_double_eq(metric(doc, "logged_policy.learn_contexts"), (double)(truth->n_contexts / 2));
    ck_assert_double_eq(metric(doc, "ope.contexts"), (double)(truth->n_contexts - truth->n_contexts / 2));
    /* the logging policy's favourites, shown most: matches well above a uniform policy's (1/M per slot) */
    ck_assert(metric(doc, "ope.matched") >
              1.3 * (double)truth->n_positions * metric(doc, "ope.contexts") / (double)truth->n_candidates);
    ck_assert(metric(doc, "ope.dr_lo") <= metric(doc, "ope.dr") && metric(doc, "ope.dr") <= metric(doc, "ope.dr_hi"));
    ck_assert_ptr_null(upf_json_path(doc, "ope.true_value")); /* a part of the log: no truth */
    upf_json_free(doc);
    /* a learning part without a context */
    f = fopen(cfg, "w");
    ck_assert_ptr_nonnull(f);
    fputs("data:\n  source: synth\nmodel:\n  family: logged_policy\n  learn_frac: 0.00001\n", f);
    fclose(f);
    snprintf(out, sizeof out, "%s/run2", dir);
    ck_assert_int_eq(upf_runner_run(&o, &res, &e), UPF_ERR_DATA);
    ck_assert_ptr_nonnull(strstr(e.msg, "learn_frac"));
    upf_test_rmdir(dir);
}
END_TEST

Suite *ope_suite(void)
{
    Suite *s = suite_create("ope");
    TCase *tc = tcase_create("hand");
    tcase_add_test(tc, test_hand_case);
    tcase_add_test(tc, test_hand_case_clipped);
    tcase_add_test(tc, test_bootstrap_interval);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_scorer_hand_case);
    suite_add_tcase(s, tc);
    TCase *gen = tcase_create("generated");
    tcase_add_unchecked_fixture(gen, shop_setup, shop_teardown);
    tcase_add_test(gen, test_generated_truth);
    tcase_add_test(gen, test_generated_replicates);
    tcase_add_test(gen, test_runner_config);
    tcase_add_test(gen, test_runner_no_impressions);
    tcase_add_test(gen, test_logged_policy_family);
    tcase_set_timeout(gen, 120);
    suite_add_tcase(s, gen);
    return s;
}
