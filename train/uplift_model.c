/* uplift_model.c - two-model, interaction (Lo 2002) and class-transformation
 * uplift models over the GLMs of uplift_glm.c (definitions in
 * uplift_model.h). Each sub-model's rows are gathered into their own
 * contiguous matrix so the GLM's BLAS batches stay dense.
 * Legend: n rows, d features, A arms (with the control).
 */
#include "uplift_model.h"

#include <math.h>
#include <string.h>

#define MAX_ARMS 16

const char *upf_uplift_method_name(int method)
{
    static const char *const names[UPF_UPLIFT_M_COUNT] = {"two_model", "class_transform", "interaction"};
    return method >= 0 && method < UPF_UPLIFT_M_COUNT ? names[method] : "?";
}

void upf_uplift_model_free(upf_uplift_model *m)
{
    if (!m) return;
    upf_free(m->theta);
    memset(m, 0, sizeof *m);
}

typedef struct epoch_adapter {
    upf_uplift_epoch_fn fn;
    void *ctx;
    size_t row;
} epoch_adapter;

static upf_status adapt_epoch(void *vctx, size_t epoch, double objective, upf_err *err)
{
    epoch_adapter *a = vctx;
    return a->fn ? a->fn(a->ctx, a->row, epoch, objective, err) : UPF_OK;
}

static upf_status fit_one(const upf_glm_data *D, const upf_uplift_fit_params *p, int link, size_t row,
                          upf_uplift_epoch_fn on_epoch, void *ctx, double *theta, upf_err *err)
{
    upf_glm_params g = p->glm;
    g.link = link;
    g.seed = p->glm.seed + row;
    memset(theta, 0, (D->d + 1) * sizeof *theta);
    /* start the intercept at the weighted mean response: Adam then only has to learn the rest */
    double sy = 0.0, sw = 0.0;
    for (size_t i = 0; i < D->n; i++) {
        double w = D->w ? (double)D->w[i] : 1.0;
        sy += w * (double)D->y[i];
        sw += w;
    }
    double mean = sw > 0.0 ? sy / sw : 0.0;
    if (link == UPF_GLM_LINEAR) theta[D->d] = mean;
    else if (mean > 0.0 && mean < 1.0) theta[D->d] = log(mean / (1.0 - mean));
    epoch_adapter a = {on_epoch, ctx, row};
    upf_glm_fit_info info;
    upf_status st = p->optimizer == 1 ? upf_glm_fit_newton(D, &g, theta, &info, err)
                                      : upf_glm_fit_adam(D, &g, theta, adapt_epoch, &a, &info, err);
    if (st) upf_err_prefix(err, "%s row %zu", upf_uplift_method_name(p->method), row);
    return st;
}

upf_status upf_uplift_fit(const upf_uplift_rows *R, const upf_uplift_fit_params *p, upf_uplift_epoch_fn on_epoch,
                          void *ctx, upf_uplift_model *out, upf_err *err)
{
    memset(out, 0, sizeof *out);
    upf_status st = UPF_OK;
    if (!R || !p || R->n == 0 || !R->arm || !R->y || (R->d && !R->X))
        return upf_err_set(err, UPF_ERR_ARG, "uplift fit: no rows");
    if (R->n_arms < 2 || R->n_arms > MAX_ARMS)
        return upf_err_set(err, UPF_ERR_ARG, "uplift fit: %zu arms (expected 2..%d with the control)", R->n_arms, MAX_ARMS);
    if (p->method < 0 || p->method >= UPF_UPLIFT_M_COUNT)
        return upf_err_set(err, UPF_ERR_ARG, "uplift fit: method %d", p->method);
    if ((st = upf_glm_params_check(&p->glm, err))) return st;
    size_t n = R->n, d = R->d, A = R->n_arms, cnt[MAX_ARMS] = {0};
    double psum[MAX_ARMS] = {0};
    int link = p->glm.link;
    for (size_t i = 0; i < n; i++) {
        if (R->arm[i] < 0 || (size_t)R->arm[i] >= A)
            return upf_err_set(err, UPF_ERR_ARG, "uplift fit: row %zu: arm %d (expected 0..%zu)", i, R->arm[i], A - 1);
        cnt[R->arm[i]]++;
        if (R->propensity) psum[R->arm[i]] += (double)R->propensity[i];
        double y = (double)R->y[i];
        if (!isfinite(y) || (link == UPF_GLM_LOGISTIC && y != 0.0 && y != 1.0))
            return upf_err_set(err, UPF_ERR_ARG, "uplift fit: row %zu: outcome %g (expected %s)", i, y,
                               link == UPF_GLM_LOGISTIC ? "0 or 1" : "a finite number");
    }
    for (size_t k = 0; k < A; k++)
        if (cnt[k] == 0) return upf_err_set(err, UPF_ERR_DATA, "uplift fit: arm %zu has no training rows", k);

    upf_uplift_model m;
    memset(&m, 0, sizeof m);
    m.method = p->method;
    m.link = link;
    m.n_arms = A;
    m.d = d;
    m.n_rows = p->method == UPF_UPLIFT_M_CLASS_TRANSFORM ? A - 1 : A;
    float *Xs = NULL, *ys = NULL, *ws = NULL;
    double *th2 = NULL;
    size_t cells = 0, d2 = d;
    if (p->method == UPF_UPLIFT_M_INTERACTION) d2 = d + (A - 1) * (d + 1);
    if (upf_mul_size(n, d2 ? d2 : 1, &cells))
        return upf_err_set(err, UPF_ERR_ARG, "uplift fit: %zu rows x %zu features overflow", n, d2);
    m.theta = upf_calloc(m.n_rows * (d + 1), sizeof *m.theta);
    Xs = upf_malloc(cells * sizeof *Xs);
    ys = upf_malloc(n * sizeof *ys);
    ws = upf_malloc(n * sizeof *ws);
    th2 = upf_calloc(d2 + 1, sizeof *th2);
    if (!m.theta || !Xs || !ys || !ws || !th2) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "uplift fit: out of memory (%zu rows, %zu features)", n, d2);
        goto done;
    }

    if (p->method == UPF_UPLIFT_M_TWO_MODEL) {
        for (size_t k = 0; k < A; k++) {
            size_t nk = 0;
            for (size_t i = 0; i < n; i++) {
                if ((size_t)R->arm[i] != k) continue;
                if (d) memcpy(Xs + nk * d, R->X + i * d, d * sizeof *Xs);
                ys[nk++] = R->y[i];
            }
            upf_glm_data D = {nk, d, Xs, ys, NULL};
            if ((st = fit_one(&D, p, link, k, on_epoch, ctx, m.theta + k * (d + 1), err))) goto done;
        }
    } else if (p->method == UPF_UPLIFT_M_INTERACTION) {
        for (size_t i = 0; i < n; i++) {
            float *row = Xs + i * d2;
            memset(row, 0, d2 * sizeof *row);
            if (d) memcpy(row, R->X + i * d, d * sizeof *row);
            size_t k = (size_t)R->arm[i];
            if (k > 0) {
                float *blk = row + d + (k - 1) * (d + 1);
                if (d) memcpy(blk, R->X + i * d, d * sizeof *blk);
                blk[d] = 1.0f;
            }
            ys[i] = R->y[i];
        }
        upf_glm_data D = {n, d2, Xs, ys, NULL};
        if ((st = fit_one(&D, p, link, 0, on_epoch, ctx, th2, err))) goto done;
        memcpy(m.theta, th2, d * sizeof *th2);
        m.theta[d] = th2[d2];
        for (size_t k = 1; k < A; k++) memcpy(m.theta + k * (d + 1), th2 + d + (k - 1) * (d + 1), (d + 1) * sizeof *th2);
    } else {
        for (size_t k = 1; k < A; k++) {
            double e = R->propensity && psum[k] > 0.0 && psum[0] > 0.0
                           ? (psum[k] / (double)cnt[k]) / (psum[k] / (double)cnt[k] + psum[0] / (double)cnt[0])
                           : (double)cnt[k] / (double)(cnt[k] + cnt[0]);
            if (!(e > 0.0 && e < 1.0)) {
                st = upf_err_set(err, UPF_ERR_DATA, "uplift fit: arm %zu: assignment probability %g (expected in (0, 1))",
                                 k, e);
                goto done;
            }
            m.e[k] = e;
            size_t nk = 0;
            for (size_t i = 0; i < n; i++) {
                size_t a = (size_t)R->arm[i];
                if (a != k && a != 0) continue;
                double t = a == k ? 1.0 : 0.0, y = (double)R->y[i];
                if (d) memcpy(Xs + nk * d, R->X + i * d, d * sizeof *Xs);
                if (link == UPF_GLM_LOGISTIC) {
                    ys[nk] = (float)(y * t + (1.0 - y) * (1.0 - t));
                    ws[nk] = (float)(t > 0.0 ? 0.5 / e : 0.5 / (1.0 - e));
                } else {
                    ys[nk] = (float)(y * (t - e) / (e * (1.0 - e)));
                    ws[nk] = 1.0f;
                }
                nk++;
            }
            upf_glm_data D = {nk, d, Xs, ys, ws};
            if ((st = fit_one(&D, p, link, k - 1, on_epoch, ctx, m.theta + (k - 1) * (d + 1), err))) goto done;
        }
    }
    *out = m;
    m.theta = NULL;
done:
    upf_free(m.theta);
    upf_free(Xs);
    upf_free(ys);
    upf_free(ws);
    upf_free(th2);
    return st;
}

void upf_uplift_predict(const upf_uplift_model *m, const float *X, size_t n, double *resp, double *uplift,
                        double *scratch)
{
    size_t A = m->n_arms, d = m->d;
    double *eta0 = scratch, *eta = scratch + n;
    double nan = (double)NAN;
    if (m->method == UPF_UPLIFT_M_CLASS_TRANSFORM) {
        for (size_t i = 0; resp && i < n * A; i++) resp[i] = nan;
        for (size_t k = 1; k < A; k++) {
            upf_glm_predict(m->link, n, d, X, m->theta + (k - 1) * (d + 1), eta, NULL);
            for (size_t i = 0; uplift && i < n; i++) {
                uplift[i * A] = 0.0;
                uplift[i * A + k] = m->link == UPF_GLM_LOGISTIC ? 2.0 * upf_glm_sigmoid(eta[i]) - 1.0 : eta[i];
            }
        }
        return;
    }
    upf_glm_predict(m->link, n, d, X, m->theta, eta0, NULL);
    for (size_t k = 0; k < A; k++) {
        if (k > 0) upf_glm_predict(m->link, n, d, X, m->theta + k * (d + 1), eta, NULL);
        for (size_t i = 0; i < n; i++) {
            double e = k == 0 ? eta0[i] : m->method == UPF_UPLIFT_M_INTERACTION ? eta0[i] + eta[i] : eta[i];
            double pk = m->link == UPF_GLM_LOGISTIC ? upf_glm_sigmoid(e) : e;
            double p0 = m->link == UPF_GLM_LOGISTIC ? upf_glm_sigmoid(eta0[i]) : eta0[i];
            if (resp) resp[i * A + k] = pk;
            if (uplift) uplift[i * A + k] = k == 0 ? 0.0 : pk - p0;
        }
    }
}

void upf_uplift_best_arm(const double *uplift, size_t n, size_t n_arms, int16_t *best)
{
    for (size_t i = 0; i < n; i++) {
        size_t b = 0;
        double v = 0.0;
        for (size_t k = 1; k < n_arms; k++)
            if (uplift[i * n_arms + k] > v) {
                v = uplift[i * n_arms + k];
                b = k;
            }
        best[i] = (int16_t)b;
    }
}
