/* trec.c - TREC qrels/run parsing (every error names file:line) and the
 * per-query evaluation with the dense definitions of metrics.c.
 * Queries are kept sorted by id (byte order) so the join is a merge walk. */
#include "trec.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DNAN ((double)NAN)

typedef struct trec_entry {
    char *doc;
    double value; /* relevance (qrels) or score (run) */
    size_t line;
} trec_entry;

typedef struct trec_query {
    char *id;
    trec_entry *e;
    size_t n, cap;
} trec_query;

struct upf_trec_file {
    int is_run;
    char *path;
    trec_query *q; /* (n_q) sorted by id after reading */
    size_t n_q, cap_q;
    size_t n_lines;
    /* open-addressing map id -> index into q (while reading) */
    size_t *slot;
    size_t n_slot;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static upf_status grow(void **p, size_t *cap, size_t need, size_t elem, upf_err *err)
{
    if (need <= *cap) return UPF_OK;
    size_t nc = *cap ? *cap : 8, bytes;
    while (nc < need) nc *= 2;
    if (upf_mul_size(nc, elem, &bytes)) return upf_err_set(err, UPF_ERR_NOMEM, "too many entries");
    void *np = upf_realloc(*p, bytes);
    if (!np) return upf_err_set(err, UPF_ERR_NOMEM, "out of memory (%zu entries)", nc);
    *p = np;
    *cap = nc;
    return UPF_OK;
}

static upf_status rehash(upf_trec_file *f, upf_err *err)
{
    size_t ns = f->n_slot ? 2 * f->n_slot : 64;
    size_t *slot = upf_malloc(ns * sizeof *slot);
    if (!slot) return upf_err_set(err, UPF_ERR_NOMEM, "out of memory for the query table");
    for (size_t i = 0; i < ns; i++) slot[i] = SIZE_MAX;
    for (size_t qi = 0; qi < f->n_q; qi++) {
        size_t h = (size_t)hash_str(f->q[qi].id) & (ns - 1);
        while (slot[h] != SIZE_MAX) h = (h + 1) & (ns - 1);
        slot[h] = qi;
    }
    upf_free(f->slot);
    f->slot = slot;
    f->n_slot = ns;
    return UPF_OK;
}

static upf_status query_of(upf_trec_file *f, const char *id, trec_query **out, upf_err *err)
{
    upf_status st;
    if (2 * (f->n_q + 1) > f->n_slot && (st = rehash(f, err)) != UPF_OK) return st;
    size_t h = (size_t)hash_str(id) & (f->n_slot - 1);
    while (f->slot[h] != SIZE_MAX) {
        if (strcmp(f->q[f->slot[h]].id, id) == 0) {
            *out = &f->q[f->slot[h]];
            return UPF_OK;
        }
        h = (h + 1) & (f->n_slot - 1);
    }
    if ((st = grow((void **)&f->q, &f->cap_q, f->n_q + 1, sizeof *f->q, err)) != UPF_OK) return st;
    trec_query *q = &f->q[f->n_q];
    memset(q, 0, sizeof *q);
    if (!(q->id = upf_strdup(id))) return upf_err_set(err, UPF_ERR_NOMEM, "out of memory");
    f->slot[h] = f->n_q++;
    *out = q;
    return UPF_OK;
}

void upf_trec_free(upf_trec_file *f)
{
    if (!f) return;
    for (size_t i = 0; i < f->n_q; i++) {
        for (size_t j = 0; j < f->q[i].n; j++) upf_free(f->q[i].e[j].doc);
        upf_free(f->q[i].e);
        upf_free(f->q[i].id);
    }
    upf_free(f->q);
    upf_free(f->slot);
    upf_free(f->path);
    upf_free(f);
}

size_t upf_trec_n_queries(const upf_trec_file *f) { return f ? f->n_q : 0; }
size_t upf_trec_n_lines(const upf_trec_file *f) { return f ? f->n_lines : 0; }

static int cmp_query_id(const void *a, const void *b)
{
    return strcmp(((const trec_query *)a)->id, ((const trec_query *)b)->id);
}

static int cmp_entry_doc(const void *a, const void *b)
{
    const trec_entry *x = a, *y = b;
    int c = strcmp(x->doc, y->doc);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

static upf_status parse_number(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno == ERANGE || !isfinite(v)) return UPF_ERR_FORMAT;
    *out = v;
    return UPF_OK;
}

static upf_status trec_read(const char *path, int is_run, upf_trec_file **out, upf_err *err)
{
    upf_status st = UPF_OK;
    FILE *fp = NULL;
    char *line = NULL;
    size_t line_cap = 0, lineno = 0;
    upf_trec_file *f = NULL;
    const size_t want = is_run ? 6 : 4;
    const char *what = is_run ? "query Q0 doc rank score tag" : "query iteration doc relevance";
    *out = NULL;
    if (!(f = upf_calloc(1, sizeof *f)) || !(f->path = upf_strdup(path))) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    f->is_run = is_run;
    if (!(fp = fopen(path, "r"))) {
        st = upf_err_sys(err, UPF_ERR_IO, "%s: cannot open", path);
        goto done;
    }
    ssize_t len;
    errno = 0;
    while ((len = getline(&line, &line_cap, fp)) >= 0) {
        lineno++;
        if ((size_t)len != strlen(line)) {
            st = upf_err_set(err, UPF_ERR_FORMAT, "%s:%zu: a NUL byte inside the line (not a text file?)", path, lineno);
            goto done;
        }
        char *fields[7], *save = NULL;
        size_t nf = 0;
        for (char *tok = strtok_r(line, " \t\r\n\v\f", &save); tok; tok = strtok_r(NULL, " \t\r\n\v\f", &save)) {
            if (nf < 7) fields[nf] = tok;
            nf++;
        }
        if (nf == 0 || fields[0][0] == '#') continue;
        if (nf != want) {
            st = upf_err_set(err, UPF_ERR_FORMAT, "%s:%zu: expected %zu fields (%s), got %zu", path, lineno, want, what, nf);
            goto done;
        }
        double v;
        const char *num = is_run ? fields[4] : fields[3];
        if (parse_number(num, &v) != UPF_OK) {
            st = upf_err_set(err, UPF_ERR_FORMAT, "%s:%zu: %s \"%s\" is not a finite number", path, lineno,
                             is_run ? "score (field 5)" : "relevance (field 4)", num);
            goto done;
        }
        trec_query *q = NULL;
        if ((st = query_of(f, fields[0], &q, err)) != UPF_OK) goto done;
        if ((st = grow((void **)&q->e, &q->cap, q->n + 1, sizeof *q->e, err)) != UPF_OK) goto done;
        trec_entry *e = &q->e[q->n];
        if (!(e->doc = upf_strdup(fields[2]))) {
            st = upf_err_set(err, UPF_ERR_NOMEM, "%s:%zu: out of memory", path, lineno);
            goto done;
        }
        e->value = v;
        e->line = lineno;
        q->n++;
        f->n_lines++;
    }
    if (ferror(fp)) {
        st = upf_err_sys(err, UPF_ERR_IO, "%s: read failed after line %zu", path, lineno);
        goto done;
    }
    qsort(f->q, f->n_q, sizeof *f->q, cmp_query_id);
    upf_free(f->slot);
    f->slot = NULL;
    f->n_slot = 0;
    for (size_t i = 0; i < f->n_q; i++) {
        trec_query *q = &f->q[i];
        qsort(q->e, q->n, sizeof *q->e, cmp_entry_doc);
        for (size_t j = 1; j < q->n; j++)
            if (strcmp(q->e[j].doc, q->e[j - 1].doc) == 0) {
                st = upf_err_set(err, UPF_ERR_FORMAT, "%s:%zu: document %s appears twice for query %s (first at line %zu)",
                                 path, q->e[j].line, q->e[j].doc, q->id, q->e[j - 1].line);
                goto done;
            }
    }
    *out = f;
    f = NULL;
done:
    free(line); /* getline's buffer comes from libc malloc */
    if (fp) fclose(fp);
    upf_trec_free(f);
    return st;
}

upf_status upf_trec_qrels_read(const char *path, upf_trec_file **out, upf_err *err) { return trec_read(path, 0, out, err); }
upf_status upf_trec_run_read(const char *path, upf_trec_file **out, upf_err *err) { return trec_read(path, 1, out, err); }

upf_trec_params upf_trec_params_default(void)
{
    upf_trec_params p;
    memset(&p, 0, sizeof p);
    p.gain = UPF_GAIN_EXP;
    p.discount = UPF_DISCOUNT_LOG2;
    p.empty = UPF_EMPTY_SKIP;
    return p;
}

/* ---- evaluation ---- */

/* Rank order: score descending, then document id in byte order (ascending,
 * or descending as trec_eval). A merge sort, so the tie rule needs no global. */
static int ranks_before(const trec_entry *x, const trec_entry *y, int ties_desc)
{
    if (x->value != y->value) return x->value > y->value;
    int c = strcmp(x->doc, y->doc);
    return ties_desc ? c > 0 : c < 0;
}

static void sort_ranked(trec_entry *v, trec_entry *tmp, size_t n, int ties_desc)
{
    if (n < 2) return;
    size_t h = n / 2, a = 0, b = h, o = 0;
    sort_ranked(v, tmp, h, ties_desc);
    sort_ranked(v + h, tmp, n - h, ties_desc);
    while (a < h && b < n) tmp[o++] = ranks_before(&v[b], &v[a], ties_desc) ? v[b++] : v[a++];
    while (a < h) tmp[o++] = v[a++];
    while (b < n) tmp[o++] = v[b++];
    memcpy(v, tmp, n * sizeof *v);
}

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

static const trec_query *find_query(const upf_trec_file *f, const char *id)
{
    size_t lo = 0, hi = f->n_q;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(f->q[mid].id, id);
        if (c == 0) return &f->q[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

static double judged(const trec_query *q, const char *doc, int *found)
{
    size_t lo = 0, hi = q->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(q->e[mid].doc, doc);
        if (c == 0) {
            *found = 1;
            return q->e[mid].value;
        }
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    *found = 0;
    return 0.0;
}

void upf_trec_result_free(upf_trec_result *r)
{
    if (!r) return;
    for (size_t i = 0; r->query && i < r->n_queries; i++) upf_free(r->query[i]);
    upf_free(r->query);
    upf_free(r->names);
    upf_free(r->values);
    upf_free(r->n_values);
    upf_free(r->per_query);
    memset(r, 0, sizeof *r);
}

double upf_trec_get(const upf_trec_result *r, const char *name)
{
    for (size_t m = 0; r && m < r->n_metrics; m++)
        if (strcmp(r->names[m], name) == 0) return r->values[m];
    return DNAN;
}

upf_status upf_trec_evaluate(const upf_trec_file *qrels, const upf_trec_file *run, const upf_trec_params *p,
                             upf_trec_result *out, upf_err *err)
{
    upf_status st = UPF_OK;
    trec_entry *ranked = NULL, *tmp = NULL;
    double *rel = NULL, *score = NULL, *ideal = NULL;
    size_t nm = p->n_metrics, max_run = 1, max_q = 1;
    memset(out, 0, sizeof *out);
    if (!qrels || !run || qrels->is_run || !run->is_run) return upf_err_set(err, UPF_ERR_ARG, "trec: expected a qrels and a run file");
    if (!p->metrics || !nm) return upf_err_set(err, UPF_ERR_ARG, "trec: no metrics requested");
    for (size_t m = 0; m < nm; m++)
        if (!upf_metric_is_relevance(p->metrics[m].kind)) {
            char name[UPF_METRIC_NAME_MAX];
            upf_metric_spec_name(p->metrics[m], name, sizeof name);
            return upf_err_set(err, UPF_ERR_ARG, "%s: needs a catalogue and item popularity, which TREC files do not have "
                               "(it is reported inside runs)", name);
        }
    if ((unsigned)p->gain >= UPF_GAIN_COUNT || (unsigned)p->discount >= UPF_DISCOUNT_COUNT || (unsigned)p->empty >= UPF_EMPTY_COUNT)
        return upf_err_set(err, UPF_ERR_ARG, "trec: gain, discount or empty policy out of range");
    for (size_t i = 0; i < run->n_q; i++) max_run = run->q[i].n > max_run ? run->q[i].n : max_run;
    for (size_t i = 0; i < qrels->n_q; i++) max_q = qrels->q[i].n > max_q ? qrels->q[i].n : max_q;
    size_t rows = qrels->n_q + 1, cells;
    ranked = upf_calloc(max_run, sizeof *ranked);
    tmp = upf_calloc(max_run, sizeof *tmp);
    rel = upf_calloc(max_run, sizeof *rel);
    score = upf_calloc(max_run, sizeof *score);
    ideal = upf_calloc(max_q, sizeof *ideal);
    out->names = upf_calloc(nm, sizeof *out->names);
    out->values = upf_calloc(nm, sizeof *out->values);
    out->n_values = upf_calloc(nm, sizeof *out->n_values);
    out->query = upf_calloc(rows, sizeof *out->query);
    if (upf_mul_size(rows, nm, &cells) || !ranked || !tmp || !rel || !score || !ideal || !out->names || !out->values ||
        !out->n_values || !out->query || !(out->per_query = upf_calloc(cells, sizeof *out->per_query))) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "trec: out of memory for %zu queries", qrels->n_q);
        goto done;
    }
    out->n_metrics = nm;
    for (size_t m = 0; m < nm; m++) upf_metric_spec_name(p->metrics[m], out->names[m], UPF_METRIC_NAME_MAX);
    for (size_t i = 0; i < run->n_q; i++) out->n_unjudged += find_query(qrels, run->q[i].id) == NULL;
    double *sum = out->values; /* accumulate in place, divide at the end */
    for (size_t qi = 0; qi < qrels->n_q; qi++) {
        const trec_query *qj = &qrels->q[qi], *qr = find_query(run, qj->id);
        size_t n_rel = 0, n = 0, rel_ranked = 0;
        for (size_t j = 0; j < qj->n; j++)
            if (qj->e[j].value > 0) ideal[n_rel++] = qj->e[j].value;
        qsort(ideal, n_rel, sizeof *ideal, cmp_desc);
        if (!qr) {
            out->n_missing_run++;
            if (!p->complete) continue;
        } else {
            n = qr->n;
            memcpy(ranked, qr->e, n * sizeof *ranked);
            sort_ranked(ranked, tmp, n, p->ties_desc);
            for (size_t r = 0; r < n; r++) {
                int found;
                double g = judged(qj, ranked[r].doc, &found);
                rel[r] = g > 0 ? g : 0.0;
                rel_ranked += g > 0;
                score[r] = ranked[r].value;
            }
        }
        double *row = out->per_query + out->n_queries * nm;
        if (n_rel == 0) {
            out->n_empty++;
            if (p->empty == UPF_EMPTY_SKIP) continue;
            for (size_t m = 0; m < nm; m++) row[m] = p->empty == UPF_EMPTY_ONE ? 1.0 : 0.0;
        } else {
            out->n_evaluated++;
            for (size_t m = 0; m < nm; m++) {
                upf_metric_spec s = p->metrics[m];
                row[m] = s.kind == UPF_METRIC_AUC ? upf_auc_ranked(rel, score, n, n_rel - rel_ranked)
                                                  : upf_dense_metric(rel, n, ideal, n_rel, s, p->gain, p->discount);
            }
        }
        if (!(out->query[out->n_queries] = upf_strdup(qj->id))) {
            st = upf_err_set(err, UPF_ERR_NOMEM, "trec: out of memory");
            goto done;
        }
        for (size_t m = 0; m < nm; m++)
            if (!isnan(row[m])) sum[m] += row[m], out->n_values[m]++;
        out->n_queries++;
    }
    for (size_t m = 0; m < nm; m++) out->values[m] = out->n_values[m] ? sum[m] / (double)out->n_values[m] : DNAN;
done:
    upf_free(ranked);
    upf_free(tmp);
    upf_free(rel);
    upf_free(score);
    upf_free(ideal);
    if (st != UPF_OK) upf_trec_result_free(out);
    return st;
}
