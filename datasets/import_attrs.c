/* import_attrs.c - the generic mapping of attribute files: one row per user
 * or item, an id column plus categorical, numeric, multi-valued and text
 * columns (--attr-cols "genre:multi,price:num,title:text"). */
#include "import.h"

#include <stdio.h>
#include <string.h>

#include "internal.h"

void upf_attr_cols_free(upf_attr_col *c, size_t n)
{
    if (!c) return;
    for (size_t i = 0; i < n; i++) {
        upf_free(c[i].col);
        upf_free(c[i].name);
    }
    upf_free(c);
}

static char *dup_n(const char *s, size_t n)
{
    char *d = upf_malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

upf_status upf_attr_cols_parse(const char *spec, upf_attr_col **out, size_t *n, upf_err *err)
{
    *out = NULL;
    *n = 0;
    size_t cap = 1;
    for (const char *s = spec; *s; s++) cap += *s == ',';
    upf_attr_col *c = upf_calloc(cap, sizeof *c);
    if (!c) return upf_err_set(err, UPF_ERR_NOMEM, "out of memory");
    size_t k = 0;
    const char *p = spec;
    while (*p) {
        const char *end = strchr(p, ',');
        if (!end) end = p + strlen(p);
        const char *colon = memchr(p, ':', (size_t)(end - p));
        const char *cend = colon ? colon : end;
        if (cend == p) goto bad;
        c[k].kind = UPF_ATTR_CAT;
        c[k].sep = '|';
        if (colon) {
            const char *kind = colon + 1;
            size_t kl = (size_t)(end - kind);
            if (kl == 3 && !strncmp(kind, "cat", 3)) c[k].kind = UPF_ATTR_CAT;
            else if (kl == 3 && !strncmp(kind, "num", 3)) c[k].kind = UPF_ATTR_NUM;
            else if (kl == 4 && !strncmp(kind, "text", 4)) c[k].kind = UPF_ATTR_TEXT;
            else if (kl >= 5 && !strncmp(kind, "multi", 5) && (kl == 5 || (kl == 7 && kind[5] == '='))) {
                c[k].kind = UPF_ATTR_MULTI;
                if (kl == 7) c[k].sep = kind[6];
            } else {
                goto bad;
            }
        }
        c[k].col = dup_n(p, (size_t)(cend - p));
        if (!c[k].col) {
            upf_attr_cols_free(c, k);
            return upf_err_set(err, UPF_ERR_NOMEM, "out of memory");
        }
        k++;
        p = *end ? end + 1 : end;
        continue;
    bad:
        upf_attr_cols_free(c, k);
        return upf_err_set(err, UPF_ERR_ARG,
                           "--attr-cols: expected COL[:cat|:num|:multi[=SEP]|:text] entries separated by commas, got \"%.*s\"",
                           (int)(end - p), p);
    }
    if (k == 0) {
        upf_free(c);
        return upf_err_set(err, UPF_ERR_ARG, "--attr-cols: empty");
    }
    *out = c;
    *n = k;
    return UPF_OK;
}

/* Rows already given attributes in this file, by user/item index. */
typedef struct seen_set {
    uint8_t *bit;
    size_t cap;
} seen_set;

static int seen_test_set(seen_set *s, int32_t i)
{
    size_t k = (size_t)i >> 3;
    if (k >= s->cap) {
        size_t ncap = s->cap ? s->cap : 1024;
        while (ncap <= k) ncap *= 2;
        uint8_t *n = upf_realloc(s->bit, ncap);
        if (!n) return -1;
        memset(n + s->cap, 0, ncap - s->cap);
        s->bit = n;
        s->cap = ncap;
    }
    uint8_t m = (uint8_t)(1u << (i & 7));
    int was = (s->bit[k] & m) != 0;
    s->bit[k] |= m;
    return was;
}

static upf_status add_cells(upf_import *im, const upf_attr_mapping *m, const upf_csv *r, const upf_csv_field *f,
                            const size_t *cols, int32_t row, upf_err *rowerr, upf_err *err, int *bad)
{
    char *conv = NULL;
    upf_status st = UPF_OK;
    *bad = 0;
    for (size_t j = 0; j < m->n_cols; j++) {
        const upf_attr_col *ac = &m->cols[j];
        const upf_csv_field *cell = &f[cols[j]];
        const char *p = cell->p;
        size_t n = cell->len;
        if (n == 0) continue;
        if (m->latin1) {
            upf_free(conv);
            conv = upf_malloc(2 * n + 1);
            if (!conv) {
                st = upf_err_set(err, UPF_ERR_NOMEM, "out of memory");
                goto done;
            }
            n = upf_latin1_to_utf8(p, n, conv);
            p = conv;
        } else if (!upf_utf8_valid(p, n, NULL)) {
            upf_field_error(r, cell, ac->name, "UTF-8 text (is the file Latin-1?)", rowerr);
            *bad = 1;
            goto done;
        }
        switch (ac->kind) {
        case UPF_ATTR_NUM: {
            float v;
            if (upf_field_f32(r, cell, ac->name, &v, rowerr)) {
                *bad = 1;
                goto done;
            }
            st = upf_import_num_attr(im, m->is_item, row, ac->name, v, err);
            break;
        }
        case UPF_ATTR_MULTI: {
            size_t s = 0;
            while (s <= n && !st) {
                size_t e = s;
                while (e < n && p[e] != ac->sep) e++;
                size_t a = s, b = e;
                while (a < b && (p[a] == ' ' || p[a] == '\t')) a++;
                while (b > a && (p[b - 1] == ' ' || p[b - 1] == '\t')) b--;
                int dup = 0;
                /* the same value twice in one cell counts once */
                for (size_t q = 0; q < a && !dup && b > a;) {
                    size_t qe = q;
                    while (qe < n && p[qe] != ac->sep) qe++;
                    size_t qa = q, qb = qe;
                    while (qa < qb && (p[qa] == ' ' || p[qa] == '\t')) qa++;
                    while (qb > qa && (p[qb - 1] == ' ' || p[qb - 1] == '\t')) qb--;
                    dup = qb - qa == b - a && memcmp(p + qa, p + a, b - a) == 0;
                    q = qe + 1;
                }
                if (b > a && !dup) st = upf_import_cat_attr(im, m->is_item, row, ac->name, p + a, b - a, err);
                s = e + 1;
            }
            break;
        }
        case UPF_ATTR_TEXT: st = upf_import_text_attr(im, m->is_item, row, "token", p, n, err); break;
        case UPF_ATTR_CAT:
        default: st = upf_import_cat_attr(im, m->is_item, row, ac->name, p, n, err); break;
        }
        if (st) goto done;
    }
done:
    upf_free(conv);
    return st;
}

upf_status upf_import_attrs_csv(upf_import *im, const char *path, const upf_attr_mapping *m, upf_err *err)
{
    upf_status st = UPF_OK;
    upf_csv *r = NULL;
    upf_err rowerr;
    upf_err_clear(&rowerr);
    seen_set seen = { NULL, 0 };
    size_t *cols = NULL;
    upf_attr_col *named = NULL;
    upf_attr_mapping mm = *m;
    if ((st = upf_import_open_csv(path, &m->csv, &r, err))) return st;
    size_t ck = 0, maxcol = 0;
    if ((st = upf_import_column(r, m->key_col, &ck, &maxcol, err))) goto done;
    cols = upf_calloc(m->n_cols ? m->n_cols : 1, sizeof *cols);
    named = upf_calloc(m->n_cols ? m->n_cols : 1, sizeof *named);
    if (!cols || !named) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t j = 0; j < m->n_cols; j++) {
        if ((st = upf_import_column(r, m->cols[j].col, &cols[j], &maxcol, err))) goto done;
        named[j] = m->cols[j];
        if (!named[j].name) {
            const char *h = upf_csv_header_name(r, cols[j]);
            named[j].name = (char *)(h && *h ? h : m->cols[j].col);
        }
    }
    mm.cols = named;
    int rc;
    uint64_t rows_before = im->st.rows;
    while ((rc = upf_import_next_row(im, r, &st, err)) == 1) {
        size_t nf;
        const upf_csv_field *f = upf_csv_row(r, &nf);
        int32_t row;
        const char *reason = NULL;
        if (nf < maxcol) {
            reason = "missing column";
            upf_row_short(r, nf, maxcol, "row", &rowerr);
        } else {
            st = m->is_item ? upf_field_item(im, r, &f[ck], "id", m->key_kind, &row, &rowerr)
                            : upf_field_user(im, r, &f[ck], "id", m->key_kind, &row, &rowerr);
            if (st == UPF_ERR_FORMAT) reason = "bad id";
            else if (st) {
                *err = rowerr;
                goto done;
            }
        }
        if (!reason) {
            int was = seen_test_set(&seen, row);
            if (was < 0) {
                st = upf_err_set(err, UPF_ERR_NOMEM, "out of memory");
                goto done;
            }
            if (was) {
                upf_import_skip(im, "repeated id in an attribute file");
                continue;
            }
            int bad = 0;
            if ((st = add_cells(im, &mm, r, f, cols, row, &rowerr, err, &bad))) goto done;
            if (bad) reason = "bad attribute";
        }
        if (reason) {
            if ((st = upf_import_bad_row(im, reason, &rowerr))) {
                *err = rowerr;
                goto done;
            }
            continue;
        }
        im->st.attr_rows++;
    }
    if (rc == 0 && im->st.rows == rows_before)
        st = upf_import_no_rows(r, err);
done:
    upf_free(seen.bit);
    upf_free(cols);
    upf_free(named);
    upf_import_close_csv(im, r);
    return st;
}
