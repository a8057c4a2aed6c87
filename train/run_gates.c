/* run_gates.c - a run's quality gates: parsed and checked against the
 * config before training (a ranking metric the eval section will not compute,
 * an unreadable reference, a reference without the metric: config errors),
 * then checked after the run, every gate reported (gates.h has the grammar).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gates.h"
#include "runner_internal.h"

/* ---- gates ---- */


void run_gates_free(gate_set *gs)
{
    upf_free(gs->g);
    upf_free(gs->r);
    upf_ref_free(gs->ref);
    memset(gs, 0, sizeof *gs);
}

static int has_str(const upf_cfg_strings *s, const char *v)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], v) == 0) return 1;
    return 0;
}

static int has_k(const upf_cfg_ints *k, int64_t v)
{
    for (size_t i = 0; i < k->n; i++)
        if (k->v[i] == v) return 1;
    return 0;
}

/* A config error about gates.METRIC, at its position in the config. */
static upf_status gate_error(const upf_run *run, const char *metric, upf_err *err, const char *what_in)
{
    char path[300], what[UPF_ERR_MSG_MAX];
    snprintf(what, sizeof what, "%s", what_in);
    snprintf(path, sizeof path, "gates.%s", metric);
    return upf_config_key_error(run->loaded, err, path, "%s", what);
}

/* Why the eval section will not produce metric ("[segment.]name@k" for a
 * ranking metric name) into what (empty when it will, or cannot tell). */
static void unproduced(const upf_config *c, const char *metric, char *what, size_t n)
{
    static const char *const ranking[] = { "ndcg", "recall", "precision", "map", "mrr", "auc",
                                           "hit_rate", "coverage", "long_tail", "novelty", NULL };
    what[0] = '\0';
    const char *m = strrchr(metric, '.');
    m = m ? m + 1 : metric;
    char name[64];
    size_t nl = strcspn(m, "@");
    if (nl >= sizeof name) return;
    memcpy(name, m, nl);
    name[nl] = '\0';
    int is_ranking = 0;
    for (size_t r = 0; ranking[r]; r++) is_ranking |= strcmp(ranking[r], name) == 0;
    if (!is_ranking) return;
    if (!has_str(&c->eval_metrics, name)) {
        snprintf(what, n, "the run will not compute %s: add it to eval.metrics", name);
        return;
    }
    if (m[nl] == '@') {
        char *end;
        long long k = strtoll(m + nl + 1, &end, 10);
        if (*end || !has_k(&c->eval_k, k))
            snprintf(what, n, "the run will not compute %s: add the cut-off %s to eval.k", m, m + nl + 1);
    }
}

/* Parses the gates, opens the reference, and refuses before training what
 * can be known wrong: a ranking metric the eval section will not compute
 * (in a gate or as eval.primary), a reference without the metric. */
upf_status run_gates_prepare(upf_run *run, gate_set *gs, upf_err *err)
{
    const upf_config *c = run->cfg;
    char what[300];
    memset(gs, 0, sizeof *gs);
    if (c->eval_primary[0]) {
        unproduced(c, c->eval_primary, what, sizeof what);
        if (what[0]) return upf_config_key_error(run->loaded, err, "eval.primary", "%s", what);
    }
    if (!c->gates.n) return UPF_OK;
    gs->g = upf_calloc(c->gates.n, sizeof *gs->g);
    gs->r = upf_calloc(c->gates.n, sizeof *gs->r);
    if (!gs->g || !gs->r) return upf_err_set(err, UPF_ERR_NOMEM, "gates: out of memory");
    gs->n = c->gates.n;
    int needs_ref = 0;
    for (size_t i = 0; i < gs->n; i++) {
        upf_status st = upf_gate_parse(c->gates.keys[i], c->gates.values[i], &gs->g[i], err);
        if (st) return gate_error(run, c->gates.keys[i], err, err->msg);
        needs_ref |= gs->g[i].kind != UPF_GATE_ABSOLUTE;
        unproduced(c, gs->g[i].metric, what, sizeof what);
        if (what[0]) return gate_error(run, gs->g[i].metric, err, what);
    }
    if (needs_ref) {
        upf_status st = upf_ref_open(c->eval_reference, &gs->ref, err);
        if (st == UPF_ERR_NOMEM) return st;
        if (st) {
            char why[UPF_ERR_MSG_MAX];
            snprintf(why, sizeof why, "%s", err->msg);
            return upf_config_key_error(run->loaded, err, "eval.reference", "%s", why);
        }
        for (size_t i = 0; i < gs->n; i++) {
            if (gs->g[i].kind == UPF_GATE_ABSOLUTE) continue;
            double v;
            if (upf_ref_value(gs->ref, gs->g[i].metric, &v) != UPF_OK) {
                char why[600];
                snprintf(why, sizeof why, "the reference %s has no %s", upf_ref_path(gs->ref), gs->g[i].metric);
                return gate_error(run, gs->g[i].metric, err, why);
            }
            gs->r[i].ref = v;
            gs->r[i].has_ref = 1;
        }
    }
    return UPF_OK;
}

/* Checks every gate; all are reported. Returns UPF_ERR_CONFIG when a gate's
 * metric was not produced, UPF_ERR_GATE when one failed. */
upf_status run_gates_check(upf_run *run, gate_set *gs, upf_err *err)
{
    upf_status st = UPF_OK;
    char msg[UPF_ERR_MSG_MAX];
    size_t off = 0;
    msg[0] = '\0';
    for (size_t i = 0; i < gs->n; i++) {
        const upf_gate *g = &gs->g[i];
        gate_result *r = &gs->r[i];
        snprintf(r->metric, sizeof r->metric, "%s", g->metric);
        snprintf(r->expr, sizeof r->expr, "%s", g->expr);
        r->bound = upf_gate_bound(g, r->ref);
        double v;
        if (upf_run_metric_get(run, g->metric, &v) != UPF_OK) {
            r->missing = 1;
            r->value = NAN;
            upf_log(UPF_LOG_INFO, "gate %s %s: the run produced no %s", g->metric, g->expr, g->metric);
            if (st != UPF_ERR_CONFIG) {
                /* list what there is, so the fix is obvious */
                char have[400];
                size_t h = 0;
                have[0] = '\0';
                for (size_t m = 0; m < run->metrics.n && h < sizeof have; m++)
                    if (!run->metrics.e[m].is_str && !strstr(run->metrics.e[m].path, "."))
                        h += (size_t)snprintf(have + h, sizeof have - h, "%s%s", h ? ", " : "", run->metrics.e[m].path);
                char what[700];
                snprintf(what, sizeof what, "the run produced no metric %s (it has: %s)", g->metric,
                         have[0] ? have : "none");
                gate_error(run, g->metric, err, what);
                st = UPF_ERR_CONFIG;
            }
            continue;
        }
        r->value = v;
        r->holds = upf_gate_holds(g, v, r->bound);
        char bound_text[80];
        if (r->has_ref) snprintf(bound_text, sizeof bound_text, "%.6g (ref %.6g)", r->bound, r->ref);
        else snprintf(bound_text, sizeof bound_text, "%.6g", r->bound);
        upf_log(UPF_LOG_INFO, "gate %s %s: %s = %.6g, bound %s: %s", g->metric, g->expr,
                g->metric, v, bound_text, r->holds ? "holds" : "FAILED");
        if (!r->holds) {
            if (off < sizeof msg)
                off += (size_t)snprintf(msg + off, sizeof msg - off, "%sgate %s %s failed: %s = %.6g, bound %s",
                                        off ? "\n" : "", g->metric, g->expr, g->metric, v, bound_text);
        }
    }
    size_t failed = 0;
    for (size_t i = 0; i < gs->n; i++) failed += !gs->r[i].holds && !gs->r[i].missing;
    if (st == UPF_OK && failed) st = upf_err_set(err, UPF_ERR_GATE, "%s", msg);
    return st;
}
