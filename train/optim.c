/* optim.c - SGD, Adagrad and Adam updates over float ranges and the
 * learning-rate schedule (a pure function of the step). See optim.h. */
#include "optim.h"

#include <math.h>

upf_opt_params upf_opt_params_default(void)
{
    upf_opt_params p = { 0 };
    p.kind = UPF_OPT_ADAM;
    p.schedule = UPF_LR_CONSTANT;
    p.lr_init = 1e-3;
    p.lr_min = 0.0;
    p.beta1 = 0.9;
    p.beta2 = 0.999;
    p.eps = 1e-8;
    return p;
}

const char *upf_opt_kind_name(upf_opt_kind k)
{
    static const char *const n[] = { "sgd", "adagrad", "adam" };
    return (unsigned)k < UPF_OPT_KIND_COUNT ? n[k] : "unknown";
}

const char *upf_lr_schedule_name(upf_lr_schedule s)
{
    static const char *const n[] = { "constant", "linear", "cosine" };
    return (unsigned)s < UPF_LR_SCHEDULE_COUNT ? n[s] : "unknown";
}

double upf_lr_at(const upf_opt_params *p, uint64_t step, uint64_t total_steps)
{
    if (total_steps == 0) total_steps = 1;
    if (p->warmup && step < p->warmup) return p->lr_init * (double)(step + 1) / (double)p->warmup;
    double frac = (double)step / (double)total_steps;
    if (frac > 1.0) frac = 1.0;
    switch (p->schedule) {
    case UPF_LR_LINEAR:
        return p->lr_init + (p->lr_min - p->lr_init) * frac;
    case UPF_LR_COSINE:
        return p->lr_min + 0.5 * (p->lr_init - p->lr_min) * (1.0 + cos(3.14159265358979323846 * frac));
    default:
        return p->lr_init;
    }
}

upf_opt_step upf_opt_step_at(const upf_opt_params *p, double lr, uint64_t t)
{
    upf_opt_step o = { 0 };
    o.kind = p->kind;
    o.l2 = (float)p->l2;
    o.beta1 = (float)p->beta1;
    o.beta2 = (float)p->beta2;
    o.eps = (float)p->eps;
    o.lr = (float)lr;
    o.eps_hat = o.eps;
    if (p->kind == UPF_OPT_ADAM) {
        if (t == 0) t = 1;
        /* Kingma & Ba 2015, section 2 (the "efficient version" before Algorithm 1's
         * last line): lr_t = lr * sqrt(1-b2^t) / (1-b1^t), eps_hat = eps * sqrt(1-b2^t). */
        double c2 = sqrt(-expm1((double)t * log(p->beta2 > 0 ? p->beta2 : 1e-300)));
        double c1 = -expm1((double)t * log(p->beta1 > 0 ? p->beta1 : 1e-300));
        if (p->beta2 <= 0) c2 = 1.0;
        if (p->beta1 <= 0) c1 = 1.0;
        o.lr = (float)(lr * c2 / c1);
        o.eps_hat = (float)(p->eps * c2);
    }
    return o;
}

void upf_opt_update(const upf_opt_step *o, float *param, float *s1, float *s2, const float *g, size_t n)
{
    const float lr = o->lr, l2 = o->l2;
    switch (o->kind) {
    case UPF_OPT_SGD:
        for (size_t k = 0; k < n; k++) param[k] -= lr * (g[k] + l2 * param[k]);
        break;
    case UPF_OPT_ADAGRAD:
        for (size_t k = 0; k < n; k++) {
            float gk = g[k] + l2 * param[k];
            s1[k] += gk * gk;
            param[k] -= lr * gk / (sqrtf(s1[k]) + o->eps);
        }
        break;
    case UPF_OPT_ADAM: {
        const float b1 = o->beta1, b2 = o->beta2;
        for (size_t k = 0; k < n; k++) {
            float gk = g[k] + l2 * param[k];
            s1[k] = b1 * s1[k] + (1.0f - b1) * gk;
            s2[k] = b2 * s2[k] + (1.0f - b2) * gk * gk;
            param[k] -= lr * s1[k] / (sqrtf(s2[k]) + o->eps_hat);
        }
        break;
    }
    default:
        break;
    }
}
