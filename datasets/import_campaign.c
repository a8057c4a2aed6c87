/* import_campaign.c - a campaign from a delimited file into a builder (see
 * import_campaign.h). One pass: users and their attributes go to the builder
 * at once; the campaign rows are buffered (arm index, outcomes, propensity,
 * time) until every arm value is known, then declared and added in file order.
 */
#include "import_campaign.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "numparse.h"
#include "timeparse.h"

#define MAX_ARMS 64

upf_campaign_csv_opts upf_campaign_csv_opts_default(void)
{
    upf_campaign_csv_opts o;
    memset(&o, 0, sizeof o);
    o.csv = upf_csv_opts_default();
    o.time_format = UPF_TIME_AUTO;
    return o;
}

typedef struct rowbuf {
    size_t n, cap, n_out;
    int32_t *user;
    int16_t *arm;
    float *prop;
    int64_t *time;
    float *out; /* (cap, n_out) */
} rowbuf;

static void rowbuf_free(rowbuf *r)
{
    upf_free(r->user);
    upf_free(r->arm);
    upf_free(r->prop);
    upf_free(r->time);
    upf_free(r->out);
    memset(r, 0, sizeof *r);
}

static int rowbuf_grow(rowbuf *r)
{
    if (r->n < r->cap) return 0;
    size_t cap = r->cap ? r->cap * 2 : 4096, no = r->n_out ? r->n_out : 1;
    int32_t *u = upf_realloc(r->user, cap * sizeof *u);
    if (u) r->user = u;
    int16_t *a = upf_realloc(r->arm, cap * sizeof *a);
    if (a) r->arm = a;
    float *p = upf_realloc(r->prop, cap * sizeof *p);
    if (p) r->prop = p;
    int64_t *t = upf_realloc(r->time, cap * sizeof *t);
    if (t) r->time = t;
    float *o = upf_realloc(r->out, cap * no * sizeof *o);
    if (o) r->out = o;
    if (!u || !a || !p || !t || !o) return -1;
    r->cap = cap;
    return 0;
}

/* Column indices of names (n). */
static upf_status find_cols(upf_csv *r, const char *const *names, size_t n, size_t *idx, upf_err *err)
{
    for (size_t j = 0; j < n; j++) {
        upf_status st = upf_csv_column(r, names[j], &idx[j], err);
        if (st) return st;
    }
    return UPF_OK;
}

/* A row-level error: "path:line:col: what (got "text")". */
static upf_status field_error(upf_err *err, const char *path, const upf_csv_field *f, const char *what)
{
    char shown[64];
    size_t n = f->len < sizeof shown - 4 ? f->len : sizeof shown - 4;
    memcpy(shown, f->p, n);
    shown[n] = '\0';
    if (n < f->len) strcat(shown, "...");
    return upf_err_set(err, UPF_ERR_DATA, "%s:%lld:%lld: %s, got \"%s\"", path, (long long)f->line, (long long)f->col, what,
                       shown);
}

upf_status upf_campaign_import_csv(upf_builder *b, const char *path, const upf_campaign_csv_opts *o,
                                   upf_campaign_csv_stats *stats, upf_err *err)
{
    upf_campaign_csv_stats scratch;
    if (!stats) stats = &scratch;
    memset(stats, 0, sizeof *stats);
    if (!b || !path || !o || !o->name || !o->arm_col || !o->control || o->n_outcomes == 0 || !o->outcome_cols)
        return upf_err_set(err, UPF_ERR_ARG, "campaign import: needs a name, an arm column, the control value and outcomes");
    if (!o->csv.header) return upf_err_set(err, UPF_ERR_ARG, "campaign import: the file needs a header row (columns by name)");
    if (o->n_arm_order + 1 > MAX_ARMS) return upf_err_set(err, UPF_ERR_ARG, "campaign import: at most %d arms", MAX_ARMS);
    if (o->n_outcomes > 64) return upf_err_set(err, UPF_ERR_ARG, "campaign import: at most 64 outcomes");
    upf_status st = UPF_OK;
    upf_csv *r = NULL;
    rowbuf rb;
    memset(&rb, 0, sizeof rb);
    rb.n_out = o->n_outcomes;
    size_t *ocol = upf_calloc(o->n_outcomes, sizeof *ocol), *ncol = upf_calloc(o->n_num + 1, sizeof *ncol),
           *ccol = upf_calloc(o->n_cat + 1, sizeof *ccol);
    char *arm_val[MAX_ARMS] = {NULL};
    size_t n_arms = 1;
    char *attr = NULL;
    size_t attr_cap = 0;
    if (!ocol || !ncol || !ccol) goto nomem;
    if (!(arm_val[0] = upf_strdup(o->control))) goto nomem;
    for (size_t j = 0; j < o->n_arm_order; j++) {
        if (strcmp(o->arm_order[j], o->control) == 0) {
            st = upf_err_set(err, UPF_ERR_ARG, "campaign import: arm order lists the control %s", o->control);
            goto done;
        }
        if (!(arm_val[n_arms++] = upf_strdup(o->arm_order[j]))) goto nomem;
    }
    if ((st = upf_csv_open(path, &o->csv, &r, err))) goto done;
    size_t c_arm, c_user = 0, c_prop = 0, c_time = 0;
    if ((st = upf_csv_column(r, o->arm_col, &c_arm, err)) || (o->user_col && (st = upf_csv_column(r, o->user_col, &c_user, err))) ||
        (o->propensity_col && (st = upf_csv_column(r, o->propensity_col, &c_prop, err))) ||
        (o->time_col && (st = upf_csv_column(r, o->time_col, &c_time, err))) ||
        (st = find_cols(r, o->outcome_cols, o->n_outcomes, ocol, err)) || (st = find_cols(r, o->num_cols, o->n_num, ncol, err)) ||
        (st = find_cols(r, o->cat_cols, o->n_cat, ccol, err)))
        goto done;
    size_t need = c_arm;
    if (o->user_col && c_user > need) need = c_user;
    if (o->propensity_col && c_prop > need) need = c_prop;
    if (o->time_col && c_time > need) need = c_time;
    for (size_t j = 0; j < o->n_outcomes; j++) need = ocol[j] > need ? ocol[j] : need;
    for (size_t j = 0; j < o->n_num; j++) need = ncol[j] > need ? ncol[j] : need;
    for (size_t j = 0; j < o->n_cat; j++) need = ccol[j] > need ? ccol[j] : need;

    for (;;) {
        upf_err rowerr;
        int k = upf_csv_next(r, &rowerr);
        if (k == 0) break;
        if (k == -2) {
            *err = rowerr;
            st = rowerr.status ? rowerr.status : UPF_ERR_IO;
            goto done;
        }
        if ((stats->rows & 4095) == 0 && upf_interrupted()) {
            st = upf_err_set(err, UPF_ERR_INTERRUPTED, "%s: interrupted at row %llu", path, (unsigned long long)stats->rows);
            goto done;
        }
        stats->rows++;
        size_t nf = 0;
        const upf_csv_field *f = k == 1 ? upf_csv_row(r, &nf) : NULL;
        /* ---- parse the row; a problem goes to rowerr ---- */
        upf_status rs = UPF_OK;
        double outv[64];
        float prop = NAN;
        int64_t t = UPF_TIME_MISSING;
        int arm = -1;
        if (k == -1) rs = rowerr.status ? rowerr.status : UPF_ERR_DATA;
        else if (nf <= need)
            rs = upf_err_set(&rowerr, UPF_ERR_DATA, "%s:%lld: %zu fields, expected at least %zu", path,
                             (long long)upf_csv_line(r), nf, need + 1);
        if (!rs) {
            const upf_csv_field *fa = &f[c_arm];
            for (size_t a = 0; a < n_arms && arm < 0; a++)
                if (strlen(arm_val[a]) == fa->len && memcmp(arm_val[a], fa->p, fa->len) == 0) arm = (int)a;
            if (arm < 0 && o->n_arm_order == 0 && n_arms < MAX_ARMS && fa->len > 0) {
                if (!(arm_val[n_arms] = upf_malloc(fa->len + 1))) goto nomem;
                memcpy(arm_val[n_arms], fa->p, fa->len);
                arm_val[n_arms][fa->len] = '\0';
                arm = (int)n_arms++;
            }
            if (arm < 0)
                rs = field_error(&rowerr, path, fa,
                                 o->n_arm_order ? "arm: expected the control or a value of --arm-order"
                                                : "arm: expected a non-empty value (at most 64 arms)");
        }
        for (size_t j = 0; !rs && j < o->n_outcomes && j < 64; j++) {
            const upf_csv_field *fo = &f[ocol[j]];
            if (upf_num_parse_f64(fo->p, fo->len, &outv[j]) != UPF_NUM_OK || !isfinite(outv[j]))
                rs = field_error(&rowerr, path, fo, "outcome: expected a number");
        }
        if (!rs && o->propensity_col) {
            double pv;
            const upf_csv_field *fp = &f[c_prop];
            if (fp->len == 0) prop = NAN; /* unknown for this row */
            else if (upf_num_parse_f64(fp->p, fp->len, &pv) != UPF_NUM_OK || !(pv > 0.0 && pv <= 1.0))
                rs = field_error(&rowerr, path, fp, "propensity: expected a probability in (0, 1]");
            else prop = (float)pv;
        }
        if (!rs && o->time_col) {
            const upf_csv_field *ft = &f[c_time];
            upf_time_error te;
            if (ft->len && upf_time_parse(ft->p, ft->len, (upf_time_format)o->time_format, &t, &te) != 0) {
                char what[160];
                snprintf(what, sizeof what, "time: %s (expected %s)", te.what,
                         upf_time_format_expect((upf_time_format)o->time_format));
                rs = field_error(&rowerr, path, ft, what);
            }
        }
        if (rs) {
            if (!o->skip_bad_rows) {
                *err = rowerr;
                st = rs;
                goto done;
            }
            if (stats->bad++ == 0) snprintf(stats->first_bad, sizeof stats->first_bad, "%s", rowerr.msg);
            continue;
        }
        /* ---- the user and, the first time, its attributes ---- */
        char rowid[32];
        const char *uid = rowid;
        size_t ulen;
        if (o->user_col) {
            uid = f[c_user].p;
            ulen = f[c_user].len;
        } else {
            ulen = (size_t)snprintf(rowid, sizeof rowid, "%llu", (unsigned long long)stats->rows);
        }
        int fresh = upf_builder_find_user(b, uid, ulen) < 0;
        int32_t u = upf_builder_user(b, uid, ulen);
        if (u < 0) goto builder_fail;
        if (fresh) {
            for (size_t j = 0; j < o->n_num; j++) {
                double v;
                const upf_csv_field *fn = &f[ncol[j]];
                if (fn->len == 0) continue;
                if (upf_num_parse_f64(fn->p, fn->len, &v) != UPF_NUM_OK || !isfinite(v)) {
                    st = field_error(err, path, fn, "numeric covariate: expected a number");
                    goto done;
                }
                if (v != 0.0 && upf_builder_user_attr(b, u, o->num_cols[j], (float)v)) goto builder_fail;
            }
            for (size_t j = 0; j < o->n_cat; j++) {
                const upf_csv_field *fc = &f[ccol[j]];
                if (fc->len == 0) continue;
                size_t L = strlen(upf_csv_header_name(r, ccol[j])) + fc->len + 2;
                if (L > attr_cap) {
                    char *q = upf_realloc(attr, L);
                    if (!q) goto nomem;
                    attr = q;
                    attr_cap = L;
                }
                snprintf(attr, attr_cap, "%s=%.*s", upf_csv_header_name(r, ccol[j]), (int)fc->len, fc->p);
                if (upf_builder_user_attr(b, u, attr, 1.0f)) goto builder_fail;
            }
        }
        if (rowbuf_grow(&rb)) goto nomem;
        rb.user[rb.n] = u;
        rb.arm[rb.n] = (int16_t)arm;
        rb.prop[rb.n] = prop;
        rb.time[rb.n] = t;
        for (size_t j = 0; j < o->n_outcomes; j++) rb.out[rb.n * rb.n_out + j] = (float)outv[j];
        rb.n++;
    }
    /* ---- the campaign ---- */
    uint64_t per[MAX_ARMS] = {0};
    for (size_t i = 0; i < rb.n; i++) per[rb.arm[i]]++;
    if (per[0] == 0) {
        st = upf_err_set(err, UPF_ERR_DATA, "%s: no row has the control value \"%s\" in column %s", path, o->control,
                         o->arm_col);
        goto done;
    }
    for (size_t a = 1; a < n_arms; a++)
        if (per[a] == 0) {
            st = upf_err_set(err, UPF_ERR_DATA, "%s: no row has arm \"%s\" (from --arm-order) in column %s", path,
                             arm_val[a], o->arm_col);
            goto done;
        }
    {
        const char *names[MAX_ARMS];
        for (size_t a = 0; a < n_arms; a++) names[a] = arm_val[a];
        int ci = upf_builder_campaign(b, o->name, names, n_arms, o->outcome_cols, o->n_outcomes);
        if (ci < 0) goto builder_fail;
        float ov[64];
        for (size_t i = 0; i < rb.n; i++) {
            for (size_t j = 0; j < o->n_outcomes; j++) ov[j] = rb.out[i * rb.n_out + j];
            if (upf_builder_campaign_row(b, ci, rb.user[i], rb.arm[i], rb.prop[i], rb.time[i], ov)) goto builder_fail;
        }
    }
    stats->kept = rb.n;
    stats->n_arms = n_arms;
    for (size_t a = 0; a < n_arms && a < 64; a++) stats->per_arm[a] = per[a];
    goto done;
builder_fail:
    st = upf_err_set(err, UPF_ERR_DATA, "%s: the dataset builder refused a row (details when the dataset is finished)", path);
    goto done;
nomem:
    st = upf_err_set(err, UPF_ERR_NOMEM, "%s: out of memory", path);
done:
    upf_csv_close(r);
    rowbuf_free(&rb);
    upf_free(ocol);
    upf_free(ncol);
    upf_free(ccol);
    upf_free(attr);
    for (size_t a = 0; a < MAX_ARMS; a++) upf_free(arm_val[a]);
    return st;
}
