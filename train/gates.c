/* gates.c - parsing and checking quality gates, and reading the reference
 * run or model that relative gates ("ref - 0.005") compare with.
 * Not here: deciding the exit code or printing (runner.c, cli_train.c).
 */
#include "gates.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../model/json.h"
#include "../model/modelfile.h"

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t') p++;
    return p;
}

/* A number at p (no sign handling beyond strtod's); 0 on success. */
static int number_at(const char **p, double *out)
{
    const char *s = *p;
    if (!(isdigit((unsigned char)*s) || *s == '.' || ((*s == '-' || *s == '+') && (isdigit((unsigned char)s[1]) || s[1] == '.'))))
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno == ERANGE || !isfinite(v)) return -1;
    *out = v;
    *p = end;
    return 0;
}

upf_status upf_gate_parse(const char *metric, const char *expr, upf_gate *out, upf_err *err)
{
    memset(out, 0, sizeof *out);
    size_t ml = strlen(metric);
    if (ml == 0 || ml >= sizeof out->metric)
        return upf_err_set(err, UPF_ERR_CONFIG, "expected a metric name (1 to %zu characters), got \"%s\"",
                           sizeof out->metric - 1, metric);
    for (const char *m = metric; *m; m++)
        if (!(isalnum((unsigned char)*m) || *m == '_' || *m == '@' || *m == '.' || *m == '-'))
            return upf_err_set(err, UPF_ERR_CONFIG, "expected a metric name like ndcg@10, got \"%s\"", metric);
    memcpy(out->metric, metric, ml + 1);
    snprintf(out->expr, sizeof out->expr, "%s", expr);
    const char *p = skip_ws(expr);
    if (p[0] == '>' && p[1] == '=') out->op = UPF_GATE_GE, p += 2;
    else if (p[0] == '<' && p[1] == '=') out->op = UPF_GATE_LE, p += 2;
    else if (p[0] == '>') out->op = UPF_GATE_GT, p += 1;
    else if (p[0] == '<') out->op = UPF_GATE_LT, p += 1;
    else goto bad;
    p = skip_ws(p);
    if (strncmp(p, "ref", 3) == 0 && !isalnum((unsigned char)p[3]) && p[3] != '_') {
        p = skip_ws(p + 3);
        out->kind = UPF_GATE_REF_PLUS;
        out->c = 0;
        if (*p == '+' || *p == '-' || *p == '*') {
            char sign = *p;
            p = skip_ws(p + 1);
            double v;
            if (*p == '+' || *p == '-' || number_at(&p, &v)) goto bad;
            if (sign == '*') out->kind = UPF_GATE_REF_TIMES, out->c = v;
            else out->c = sign == '-' ? -v : v;
        }
    } else {
        out->kind = UPF_GATE_ABSOLUTE;
        if (number_at(&p, &out->c)) goto bad;
    }
    p = skip_ws(p);
    if (*p) goto bad;
    return UPF_OK;
bad:
    {
        char shown[100];
        snprintf(shown, sizeof shown, "%s", expr);
        memset(out, 0, sizeof *out);
        return upf_err_set(err, UPF_ERR_CONFIG,
                           "expected \"OP BOUND\" (OP one of >=, >, <=, <; BOUND a number, ref, ref + x, ref - x or "
                           "ref * x), got \"%s\"",
                           shown);
    }
}

const char *upf_gate_op_str(upf_gate_op op)
{
    switch (op) {
    case UPF_GATE_GE: return ">=";
    case UPF_GATE_GT: return ">";
    case UPF_GATE_LE: return "<=";
    case UPF_GATE_LT: return "<";
    default: return "?";
    }
}

double upf_gate_bound(const upf_gate *g, double ref)
{
    switch (g->kind) {
    case UPF_GATE_REF_PLUS: return ref + g->c;
    case UPF_GATE_REF_TIMES: return ref * g->c;
    default: return g->c;
    }
}

int upf_gate_holds(const upf_gate *g, double value, double bound)
{
    if (isnan(value) || isnan(bound)) return 0;
    switch (g->op) {
    case UPF_GATE_GE: return value >= bound;
    case UPF_GATE_GT: return value > bound;
    case UPF_GATE_LE: return value <= bound;
    case UPF_GATE_LT: return value < bound;
    default: return 0;
    }
}

/* ---- references ---- */

struct upf_ref {
    char *path;
    upf_json *json;
    upf_model *model;
};

void upf_metric_meta_key(const char *metric, char *buf, size_t n)
{
    size_t k = (size_t)snprintf(buf, n, "eval.");
    for (const char *m = metric; *m && k + 4 < n; m++) {
        unsigned char c = (unsigned char)*m;
        if (c == '@') {
            memcpy(buf + k, "_at_", 4);
            k += 4;
        } else {
            buf[k++] = (char)((isalnum(c) || c == '.' || c == '_') ? tolower(c) : '_');
        }
    }
    if (k < n) buf[k] = '\0';
}

void upf_ref_free(upf_ref *r)
{
    if (!r) return;
    upf_json_free(r->json);
    upf_model_close(r->model);
    upf_free(r->path);
    upf_free(r);
}

upf_status upf_ref_open(const char *path, upf_ref **out, upf_err *err)
{
    *out = NULL;
    upf_status st = UPF_OK;
    upf_ref *r = upf_calloc(1, sizeof *r);
    if (!r) return upf_err_set(err, UPF_ERR_NOMEM, "eval.reference: out of memory");
    struct stat sb;
    if (stat(path, &sb) != 0) {
        st = upf_err_sys(err, UPF_ERR_CONFIG, "%s: cannot read it", path);
        goto done;
    }
    size_t n = strlen(path);
    if (S_ISDIR(sb.st_mode)) {
        if (!(r->path = upf_malloc(n + 16))) goto nomem;
        snprintf(r->path, n + 16, "%s/metrics.json", path);
    } else if (!(r->path = upf_strdup(path))) {
        goto nomem;
    }
    if (!S_ISDIR(sb.st_mode) && n > 4 && strcmp(path + n - 4, ".upf") == 0) {
        st = upf_model_open(r->path, 0, &r->model, err);
    } else {
        st = upf_json_parse_file(r->path, &r->json, err);
        if (st == UPF_OK && r->json->type != UPF_JSON_OBJ)
            st = upf_err_set(err, UPF_ERR_CONFIG, "%s: expected a JSON object of metrics", r->path);
    }
    if (st) {
        if (st != UPF_ERR_NOMEM) err->status = st = UPF_ERR_CONFIG;
        goto done;
    }
    *out = r;
    return UPF_OK;
nomem:
    st = upf_err_set(err, UPF_ERR_NOMEM, "eval.reference: out of memory");
done:
    upf_ref_free(r);
    return st;
}

const char *upf_ref_path(const upf_ref *r) { return r->path; }

/* metrics.json nests dotted names: "cold_items.ndcg@10" -> {"cold_items": {"ndcg@10": x}}. */
static const upf_json *json_metric(const upf_json *obj, const char *metric)
{
    const upf_json *v = upf_json_get(obj, metric);
    if (v) return v;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", metric);
    const upf_json *cur = obj;
    for (char *seg = buf; cur && seg;) {
        char *dot = strchr(seg, '.');
        if (dot) *dot = '\0';
        cur = cur->type == UPF_JSON_OBJ ? upf_json_get(cur, seg) : NULL;
        seg = dot ? dot + 1 : NULL;
    }
    return cur;
}

upf_status upf_ref_value(const upf_ref *r, const char *metric, double *out)
{
    *out = 0;
    if (r->model) {
        char key[300];
        upf_metric_meta_key(metric, key, sizeof key);
        return upf_model_meta_f64(r->model, key, out) == UPF_OK ? UPF_OK : UPF_ERR_ARG;
    }
    const upf_json *v = json_metric(r->json, metric);
    if (!v) {
        const upf_json *test = upf_json_get(r->json, "test");
        if (test && test->type == UPF_JSON_OBJ) v = json_metric(test, metric);
    }
    if (!v || v->type != UPF_JSON_NUM) return UPF_ERR_ARG;
    *out = v->num;
    return UPF_OK;
}
