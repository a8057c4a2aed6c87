/* preset_movielens_latest.c - MovieLens "latest" and "latest-small"
 * (GroupLens; CSV, UTF-8, header rows, RFC 4180 quoting).
 *
 * movies.csv (movieId, title, genres) -> every movie as an item (unrated ones
 * too), "genre=<name>" per '|'-separated genre ("(no genres listed)" gives
 * none), `added` = January 1 of the year in the title when there is one.
 * ratings.csv (userId, movieId, rating, timestamp) -> RATING events, value =
 * the rating (0.5-5). tags.csv (userId, movieId, tag, timestamp) -> TAG
 * events whose query is the tag as typed, and the tag's word tokens as item
 * attributes "tag=<token>" (weight 1 however often the token was used).
 * links.csv is not needed. Expected (latest-small): 610 users, 9742 items,
 * 100836 ratings, 3683 tags.
 */
#include <stdio.h>
#include <string.h>

#include "presets.h"
#include "internal.h"

static upf_status read_movies(upf_import *im, const char *path, upf_err *err)
{
    upf_status st = UPF_OK;
    upf_csv *r = NULL;
    upf_err rowerr;
    upf_err_clear(&rowerr);
    upf_csv_opts o = upf_csv_opts_default();
    if ((st = upf_import_open_csv(path, &o, &r, err))) return st;
    size_t cid, ctitle, cgen, maxcol = 0;
    if ((st = upf_csv_column(r, "movieId", &cid, err)) || (st = upf_csv_column(r, "title", &ctitle, err)) ||
        (st = upf_csv_column(r, "genres", &cgen, err)))
        goto done;
    maxcol = cid > ctitle ? cid : ctitle;
    maxcol = (maxcol > cgen ? maxcol : cgen) + 1;
    int rc;
    while ((rc = upf_import_next_row(im, r, &st, err)) == 1) {
        size_t nf;
        const upf_csv_field *f = upf_csv_row(r, &nf);
        const char *reason = NULL;
        int32_t item;
        if (nf < maxcol) {
            reason = "missing column";
            upf_row_short(r, nf, maxcol, "movies.csv row", &rowerr);
        } else if ((st = upf_field_item(im, r, &f[cid], "movieId", UPF_ID_INT, &item, &rowerr))) {
            if (st != UPF_ERR_FORMAT) goto fatal;
            reason = "bad item id";
        } else if (!upf_utf8_valid(f[cgen].p, f[cgen].len, NULL)) {
            reason = "bad genres";
            upf_field_error(r, &f[cgen], "genres", "UTF-8 text", &rowerr);
        }
        if (reason) {
            if ((st = upf_import_bad_row(im, reason, &rowerr))) goto fatal;
            continue;
        }
        int year;
        if (upf_title_year(f[ctitle].p, f[ctitle].len, &year) &&
            (st = upf_builder_item_added(im->b, item, upf_days_from_civil(year, 1, 1) * 86400))) {
            st = upf_import_builder_error(im, st, path, err);
            goto done;
        }
        const char *g = f[cgen].p, *end = g + f[cgen].len;
        while (g < end) {
            const char *bar = memchr(g, '|', (size_t)(end - g));
            const char *e = bar ? bar : end;
            if (e > g && !(e - g == 18 && memcmp(g, "(no genres listed)", 18) == 0) &&
                (st = upf_import_cat_attr(im, 1, item, "genre", g, (size_t)(e - g), err)))
                goto done;
            g = bar ? bar + 1 : end;
        }
        im->st.attr_rows++;
    }
    goto done;
fatal:
    *err = rowerr;
done:
    upf_import_close_csv(im, r);
    return st;
}

static upf_status read_ratings(upf_import *im, const char *path, upf_err *err)
{
    upf_event_mapping m;
    memset(&m, 0, sizeof m);
    m.csv = upf_csv_opts_default();
    m.user_col = "userId";
    m.item_col = "movieId";
    m.value_col = "rating";
    m.time_col = "timestamp";
    m.event_type = UPF_EV_RATING;
    m.time_fmt = UPF_TIME_UNIX;
    m.user_kind = m.item_kind = UPF_ID_INT;
    return upf_import_events_csv(im, path, &m, err);
}

typedef struct tag_ctx {
    upf_import *im;
    upf_strset *seen;
    int32_t item;
    upf_err *err;
    upf_status st;
} tag_ctx;

static void add_tag_token(const char *tok, size_t n, void *user)
{
    tag_ctx *t = user;
    if (t->st) return;
    char key[64];
    memcpy(key, &t->item, sizeof t->item);
    memcpy(key + sizeof t->item, tok, n);
    int added = upf_strset_add(t->seen, key, sizeof t->item + n);
    if (added < 0) t->st = upf_err_set(t->err, UPF_ERR_NOMEM, "out of memory");
    else if (added) t->st = upf_import_cat_attr(t->im, 1, t->item, "tag", tok, n, t->err);
}

static upf_status read_tags(upf_import *im, const char *path, upf_err *err)
{
    upf_status st = UPF_OK;
    upf_csv *r = NULL;
    upf_err rowerr;
    upf_err_clear(&rowerr);
    upf_strset seen;
    memset(&seen, 0, sizeof seen);
    upf_csv_opts o = upf_csv_opts_default();
    if ((st = upf_import_open_csv(path, &o, &r, err))) return st;
    size_t cu, ci, ctag, ct;
    if ((st = upf_csv_column(r, "userId", &cu, err)) || (st = upf_csv_column(r, "movieId", &ci, err)) ||
        (st = upf_csv_column(r, "tag", &ctag, err)) || (st = upf_csv_column(r, "timestamp", &ct, err)))
        goto done;
    size_t maxcol = cu;
    if (ci > maxcol) maxcol = ci;
    if (ctag > maxcol) maxcol = ctag;
    if (ct > maxcol) maxcol = ct;
    maxcol++;
    int rc;
    while ((rc = upf_import_next_row(im, r, &st, err)) == 1) {
        size_t nf;
        const upf_csv_field *f = upf_csv_row(r, &nf);
        const char *reason = NULL;
        int32_t user, item;
        int64_t t;
        if (nf < maxcol) {
            reason = "missing column";
            upf_row_short(r, nf, maxcol, "tags.csv row", &rowerr);
        } else if (upf_field_time(r, &f[ct], "timestamp", UPF_TIME_UNIX, &t, &rowerr)) {
            reason = "bad time";
        } else if (!upf_utf8_valid(f[ctag].p, f[ctag].len, NULL)) {
            reason = "bad tag";
            upf_field_error(r, &f[ctag], "tag", "UTF-8 text", &rowerr);
        } else if ((st = upf_field_user(im, r, &f[cu], "userId", UPF_ID_INT, &user, &rowerr)) ||
                   (st = upf_field_item(im, r, &f[ci], "movieId", UPF_ID_INT, &item, &rowerr))) {
            if (st != UPF_ERR_FORMAT) goto fatal;
            reason = "bad id";
        }
        if (reason) {
            if ((st = upf_import_bad_row(im, reason, &rowerr))) goto fatal;
            continue;
        }
        int32_t q = upf_builder_query(im->b, f[ctag].p, f[ctag].len);
        if (q < 0) {
            st = upf_builder_status(im->b, err);
            if (!st) st = upf_err_set(err, UPF_ERR_NOMEM, "out of memory adding a tag");
            goto done;
        }
        if ((st = upf_import_event(im, user, item, t, UPF_EV_TAG, 1.0f, q, err))) goto done;
        tag_ctx tc = { im, &seen, item, err, UPF_OK };
        upf_text_tokens(f[ctag].p, f[ctag].len, add_tag_token, &tc);
        if ((st = tc.st)) goto done;
    }
    goto done;
fatal:
    *err = rowerr;
done:
    upf_strset_free(&seen);
    upf_import_close_csv(im, r);
    return st;
}

upf_status upf_preset_movielens_latest(upf_import *im, const char *const *inputs, size_t n, upf_err *err)
{
    static const char *const names[] = { "ratings.csv", "movies.csv", "tags.csv", "links.csv" };
    static const int required[] = { 1, 0, 0, 0 };
    const char *found[4];
    upf_input_files files;
    upf_status st = upf_inputs_expand(inputs, n, &files, err);
    if (st) return st;
    if ((st = upf_inputs_pick(&files, !upf_inputs_have_dir(inputs, n), "movielens-latest", names, required, 4, found,
                              err)))
        goto done;
    if (found[1] && (st = read_movies(im, found[1], err))) goto done;
    if ((st = read_ratings(im, found[0], err))) goto done;
    if (found[2] && (st = read_tags(im, found[2], err))) goto done;
done:
    upf_input_files_free(&files);
    return st;
}
