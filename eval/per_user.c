/* per_user.c - the per_user.csv table: building it column by column, writing
 * it atomically, and reading it back with file:line:column errors. */
#include "per_user.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../model/json.h"
#include "../model/outfile.h"

#define DNAN ((double)NAN)

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

void upf_per_user_free(upf_per_user *t)
{
    if (!t) return;
    for (size_t i = 0; t->users && i < t->n_users; i++) upf_free(t->users[i]);
    for (size_t m = 0; t->metrics && m < t->n_metrics; m++) upf_free(t->metrics[m]);
    upf_free(t->users);
    upf_free(t->metrics);
    upf_free(t->values);
    upf_free(t->slot_);
    memset(t, 0, sizeof *t);
}

long upf_per_user_column(const upf_per_user *t, const char *metric)
{
    for (size_t m = 0; m < t->n_metrics; m++)
        if (strcmp(t->metrics[m], metric) == 0) return (long)m;
    return -1;
}

long upf_per_user_row(const upf_per_user *t, const char *user)
{
    if (t->slot_ && t->n_slot_) {
        size_t h = (size_t)hash_str(user) & (t->n_slot_ - 1);
        while (t->slot_[h] != SIZE_MAX) {
            if (strcmp(t->users[t->slot_[h]], user) == 0) return (long)t->slot_[h];
            h = (h + 1) & (t->n_slot_ - 1);
        }
        return -1;
    }
    for (size_t i = 0; i < t->n_users; i++)
        if (strcmp(t->users[i], user) == 0) return (long)i;
    return -1;
}

static upf_status index_rows(upf_per_user *t, size_t need, upf_err *err)
{
    if (2 * need <= t->n_slot_) return UPF_OK;
    size_t ns = 64;
    while (ns < 2 * need) ns *= 2;
    size_t *slot = upf_malloc(ns * sizeof *slot);
    if (!slot) return upf_err_set(err, UPF_ERR_NOMEM, "per-user table: out of memory");
    for (size_t i = 0; i < ns; i++) slot[i] = SIZE_MAX;
    for (size_t r = 0; r < t->n_users; r++) {
        size_t h = (size_t)hash_str(t->users[r]) & (ns - 1);
        while (slot[h] != SIZE_MAX) h = (h + 1) & (ns - 1);
        slot[h] = r;
    }
    upf_free(t->slot_);
    t->slot_ = slot;
    t->n_slot_ = ns;
    return UPF_OK;
}

/* Appends a row for user (NaN values); the index must have room. */
static upf_status add_row(upf_per_user *t, const char *user, size_t *cap_rows, upf_err *err)
{
    if (t->n_users == *cap_rows) {
        size_t nc = *cap_rows ? 2 * *cap_rows : 64, cells, bytes;
        if (upf_mul_size(nc, t->n_metrics ? t->n_metrics : 1, &cells) || upf_mul_size(cells, sizeof(double), &bytes))
            return upf_err_set(err, UPF_ERR_NOMEM, "per-user table: too many rows");
        char **u = upf_realloc(t->users, nc * sizeof *u);
        if (!u) return upf_err_set(err, UPF_ERR_NOMEM, "per-user table: out of memory");
        t->users = u;
        double *v = upf_realloc(t->values, bytes);
        if (!v) return upf_err_set(err, UPF_ERR_NOMEM, "per-user table: out of memory");
        t->values = v;
        *cap_rows = nc;
    }
    char *id = upf_strdup(user);
    if (!id) return upf_err_set(err, UPF_ERR_NOMEM, "per-user table: out of memory");
    size_t r = t->n_users++;
    t->users[r] = id;
    for (size_t m = 0; m < t->n_metrics; m++) t->values[r * t->n_metrics + m] = DNAN;
    size_t h = (size_t)hash_str(id) & (t->n_slot_ - 1);
    while (t->slot_[h] != SIZE_MAX) h = (h + 1) & (t->n_slot_ - 1);
    t->slot_[h] = r;
    return UPF_OK;
}

/* Widens the table by one NaN column named metric. */
static upf_status add_column(upf_per_user *t, const char *metric, size_t cap_rows, upf_err *err)
{
    size_t nm = t->n_metrics + 1, cells;
    if (upf_mul_size(cap_rows ? cap_rows : 1, nm, &cells)) return upf_err_set(err, UPF_ERR_NOMEM, "per-user table: too large");
    double *v = upf_malloc(cells * sizeof *v);
    char **names = upf_realloc(t->metrics, nm * sizeof *names);
    char *name = upf_strdup(metric);
    if (names) t->metrics = names;
    if (!v || !names || !name) {
        upf_free(v);
        upf_free(name);
        return upf_err_set(err, UPF_ERR_NOMEM, "per-user table: out of memory");
    }
    for (size_t r = 0; r < t->n_users; r++) {
        for (size_t m = 0; m < t->n_metrics; m++) v[r * nm + m] = t->values[r * t->n_metrics + m];
        v[r * nm + t->n_metrics] = DNAN;
    }
    upf_free(t->values);
    t->values = v;
    t->metrics[t->n_metrics] = name;
    t->n_metrics = nm;
    return UPF_OK;
}

/* Row capacity is not stored: keep the buffers exactly n_users long between
 * calls so capacity == n_users on entry. */
upf_status upf_per_user_add(upf_per_user *t, const char *metric, const int32_t *users, const double *values,
                            size_t n, const char *const *user_ids, upf_err *err)
{
    upf_status st;
    size_t cap_rows = t->n_users;
    char buf[32];
    if (!metric || !*metric || strpbrk(metric, ",\"\r\n"))
        return upf_err_set(err, UPF_ERR_ARG, "per-user table: metric name \"%s\" is empty or holds a comma, quote or line break",
                           metric ? metric : "");
    if ((st = index_rows(t, t->n_users + n, err)) != UPF_OK) return st;
    long col = upf_per_user_column(t, metric);
    if (col < 0) {
        if ((st = add_column(t, metric, cap_rows, err)) != UPF_OK) return st;
        col = (long)t->n_metrics - 1;
    }
    for (size_t i = 0; i < n; i++) {
        const char *id = user_ids ? user_ids[users[i]] : buf;
        if (!user_ids) snprintf(buf, sizeof buf, "%d", (int)users[i]);
        long r = upf_per_user_row(t, id);
        if (r < 0) {
            if ((st = add_row(t, id, &cap_rows, err)) != UPF_OK) return st;
            r = (long)t->n_users - 1;
        }
        t->values[(size_t)r * t->n_metrics + (size_t)col] = values[i];
    }
    /* shrink to fit so that capacity == n_users next time */
    if (cap_rows != t->n_users && t->n_users) {
        char **u = upf_realloc(t->users, t->n_users * sizeof *u);
        if (u) t->users = u;
        double *v = upf_realloc(t->values, t->n_users * t->n_metrics * sizeof *v);
        if (v) t->values = v;
        if (!u || !v) return upf_err_set(err, UPF_ERR_NOMEM, "per-user table: out of memory");
    }
    return UPF_OK;
}

upf_status upf_per_user_from_rank_eval(upf_per_user *t, const upf_rank_eval_result *r, const char *const *user_ids,
                                       upf_err *err)
{
    upf_status st = UPF_OK;
    double *col = upf_calloc(r->n_users_per_user ? r->n_users_per_user : 1, sizeof *col);
    if (!col) return upf_err_set(err, UPF_ERR_NOMEM, "per-user table: out of memory");
    for (size_t m = 0; m < r->n_metrics && st == UPF_OK; m++) {
        if (r->specs[m].kind == UPF_METRIC_COVERAGE) continue;
        for (size_t i = 0; i < r->n_users_per_user; i++) col[i] = r->per_user[i * r->n_metrics + m];
        st = upf_per_user_add(t, r->names[m], r->per_user_user, col, r->n_users_per_user, user_ids, err);
    }
    upf_free(col);
    return st;
}

/* ---- writing ---- */

static void put_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

upf_status upf_per_user_write(const char *path, const upf_per_user *t, upf_err *err)
{
    upf_outfile o;
    upf_status st = upf_outfile_open(&o, path, err);
    if (st != UPF_OK) return st;
    fputs("user", o.f);
    for (size_t m = 0; m < t->n_metrics; m++) {
        fputc(',', o.f);
        put_field(o.f, t->metrics[m]);
    }
    fputc('\n', o.f);
    char num[40];
    for (size_t r = 0; r < t->n_users; r++) {
        put_field(o.f, t->users[r]);
        for (size_t m = 0; m < t->n_metrics; m++) {
            fputc(',', o.f);
            double v = t->values[r * t->n_metrics + m];
            if (isfinite(v)) {
                upf_json_format_num(num, sizeof num, v);
                fputs(num, o.f);
            }
        }
        fputc('\n', o.f);
    }
    return upf_outfile_commit(&o, err);
}

/* ---- reading ---- */

typedef struct csv_reader {
    FILE *f;
    const char *path;
    size_t line, col; /* position of the field being read (1-based) */
    char *buf;
    size_t len, cap;
} csv_reader;

/* Reads one field into r->buf. *end_row: the field ended its row; *eof: no
 * field (end of file before it). Returns UPF_OK or a format/IO error. */
static upf_status csv_field(csv_reader *r, int *end_row, int *eof, upf_err *err)
{
    int c = fgetc(r->f), quoted = 0;
    r->len = 0;
    *end_row = 0;
    *eof = 0;
    if (c == EOF) {
        *eof = 1;
        return ferror(r->f) ? upf_err_sys(err, UPF_ERR_IO, "%s: read failed", r->path) : UPF_OK;
    }
    if (c == '"') {
        quoted = 1;
        c = fgetc(r->f);
    }
    for (;; c = fgetc(r->f)) {
        if (quoted) {
            if (c == EOF) return upf_err_set(err, UPF_ERR_FORMAT, "%s:%zu:%zu: quoted field not closed", r->path, r->line, r->col);
            if (c == '"') {
                c = fgetc(r->f);
                if (c != '"') {
                    quoted = 0;
                    if (c != ',' && c != '\n' && c != '\r' && c != EOF)
                        return upf_err_set(err, UPF_ERR_FORMAT, "%s:%zu:%zu: expected ',' or a line end after a quoted field",
                                           r->path, r->line, r->col);
                } else if (c == '\n') {
                    r->line++;
                }
            } else if (c == '\n') {
                r->line++;
            }
        }
        if (!quoted) {
            if (c == ',' || c == '\n' || c == EOF) break;
            if (c == '\r') {
                int d = fgetc(r->f);
                if (d == '\n' || d == EOF) {
                    c = '\n';
                    break;
                }
                ungetc(d, r->f);
            }
        }
        if (c == '\0') return upf_err_set(err, UPF_ERR_FORMAT, "%s:%zu:%zu: NUL byte", r->path, r->line, r->col);
        if (r->len + 1 >= r->cap) {
            size_t nc = r->cap ? 2 * r->cap : 64;
            char *nb = upf_realloc(r->buf, nc);
            if (!nb) return upf_err_set(err, UPF_ERR_NOMEM, "%s: out of memory", r->path);
            r->buf = nb;
            r->cap = nc;
        }
        r->buf[r->len++] = (char)c;
    }
    if (!r->buf && !(r->buf = upf_malloc(64))) return upf_err_set(err, UPF_ERR_NOMEM, "%s: out of memory", r->path);
    if (!r->cap) r->cap = 64;
    r->buf[r->len] = '\0';
    *end_row = c != ',';
    return UPF_OK;
}

upf_status upf_per_user_read(const char *path, upf_per_user *out, upf_err *err)
{
    upf_status st = UPF_OK;
    csv_reader r = { NULL, path, 1, 1, NULL, 0, 0 };
    upf_per_user t;
    memset(&t, 0, sizeof t);
    memset(out, 0, sizeof *out);
    size_t cap_rows = 0;
    double *row = NULL;
    char *id = NULL; /* the row's user id while the row is read */
    int end_row, eof;
    if (!(r.f = fopen(path, "rb"))) return upf_err_sys(err, UPF_ERR_IO, "%s: cannot open", path);
    /* header */
    for (size_t c = 0;; c++) {
        r.col = c + 1;
        if ((st = csv_field(&r, &end_row, &eof, err)) != UPF_OK) goto done;
        if (eof && c == 0) {
            st = upf_err_set(err, UPF_ERR_FORMAT, "%s:1:1: empty file (expected the header user,<metric>,...)", path);
            goto done;
        }
        if (c == 0) {
            if (strcmp(r.buf, "user") != 0) {
                st = upf_err_set(err, UPF_ERR_FORMAT, "%s:1:1: expected the header to start with \"user\", got \"%s\"", path, r.buf);
                goto done;
            }
        } else {
            if (!r.buf[0] || upf_per_user_column(&t, r.buf) >= 0) {
                st = upf_err_set(err, UPF_ERR_FORMAT, "%s:1:%zu: metric name \"%s\" is empty or repeated", path, r.col, r.buf);
                goto done;
            }
            if ((st = add_column(&t, r.buf, 0, err)) != UPF_OK) goto done;
        }
        if (end_row || eof) break;
    }
    r.line++;
    if (!(row = upf_calloc(t.n_metrics + 1, sizeof *row))) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    for (;;) {
        size_t line = r.line;
        size_t c = 0;
        upf_free(id);
        id = NULL;
        for (;; c++) {
            r.col = c + 1;
            if ((st = csv_field(&r, &end_row, &eof, err)) != UPF_OK) goto done;
            if (eof && c == 0) goto finished;
            if (c == 0 && end_row && r.len == 0) break; /* blank line */
            if (c > t.n_metrics) {
                st = upf_err_set(err, UPF_ERR_FORMAT, "%s:%zu: expected %zu fields, got more", path, line, t.n_metrics + 1);
                goto done;
            }
            if (c == 0) {
                if (!r.len) {
                    st = upf_err_set(err, UPF_ERR_FORMAT, "%s:%zu:1: empty user id", path, line);
                    goto done;
                }
                if (!(id = upf_strdup(r.buf))) {
                    st = upf_err_set(err, UPF_ERR_NOMEM, "%s: out of memory", path);
                    goto done;
                }
            } else if (!r.len) {
                row[c - 1] = DNAN;
            } else {
                char *endp;
                errno = 0;
                double v = strtod(r.buf, &endp);
                if (*endp || errno == ERANGE || !isfinite(v)) {
                    st = upf_err_set(err, UPF_ERR_FORMAT, "%s:%zu:%zu: %s: \"%s\" is not a finite number", path, line, r.col,
                                     t.metrics[c - 1], r.buf);
                    goto done;
                }
                row[c - 1] = v;
            }
            if (end_row || eof) break;
        }
        if (c == 0 && !id) {
            r.line++;
            continue;
        }
        if (c != t.n_metrics) {
            st = upf_err_set(err, UPF_ERR_FORMAT, "%s:%zu: expected %zu fields, got %zu", path, line, t.n_metrics + 1, c + 1);
            goto done;
        }
        if ((st = index_rows(&t, t.n_users + 1, err)) != UPF_OK) goto done;
        if (upf_per_user_row(&t, id) >= 0) {
            st = upf_err_set(err, UPF_ERR_FORMAT, "%s:%zu:1: user \"%s\" appears twice", path, line, id);
            goto done;
        }
        if ((st = add_row(&t, id, &cap_rows, err)) != UPF_OK) goto done;
        memcpy(t.values + (t.n_users - 1) * t.n_metrics, row, t.n_metrics * sizeof *row);
        r.line++;
        if (eof) break;
    }
finished:
    *out = t;
    memset(&t, 0, sizeof t);
done:
    upf_free(id);
    upf_free(row);
    upf_free(r.buf);
    fclose(r.f);
    upf_per_user_free(&t);
    return st;
}
