/* preset_movielens100k.c - MovieLens 100K (GroupLens, ml-100k).
 *
 * u.data (tab: user, item, rating, unix time) -> RATING events, value = the
 * rating. u.item ('|', ISO-8859-1, no quoting: id, title, release date, video
 * date, URL, 19 genre flags) -> every movie as an item, "genre=<name>"
 * attributes (names from u.genre when given, else the documented 19), and
 * `added` = the release date (DD-Mon-YYYY), else January 1 of the title's
 * year. u.user ('|': id, age, gender, occupation, zip) -> user attributes
 * "age_band=25-34" (the MovieLens 1M bands), "gender=M", "occupation=...".
 * Catalogue files are read before u.data, so item and user indices follow
 * their id order. Expected: 943 users, 1682 items, 100000 events.
 */
#include <stdio.h>
#include <string.h>

#include "presets.h"

#define N_GENRES 19

static const char *const default_genres[N_GENRES] = {
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama", "Fantasy",
    "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
};

static upf_csv_opts pipe_opts(void)
{
    upf_csv_opts o = upf_csv_opts_default();
    o.delim[0] = '|';
    o.header = 0;
    o.quote = 0; /* titles may start with a quote character */
    return o;
}

/* u.genre: "name|index" lines. */
static upf_status read_genres(upf_import *im, const char *path, char names[N_GENRES][64], upf_err *err)
{
    upf_status st = UPF_OK;
    upf_csv *r = NULL;
    upf_err rowerr;
    upf_csv_opts o = pipe_opts();
    if ((st = upf_import_open_csv(path, &o, &r, err))) return st;
    int rc;
    while ((rc = upf_import_next_row(im, r, &st, err)) == 1) {
        size_t nf;
        const upf_csv_field *f = upf_csv_row(r, &nf);
        int64_t k;
        if (nf < 2) {
            st = upf_row_short(r, nf, 2, "genre", err);
            goto done;
        }
        if (upf_field_i64(r, &f[1], "genre index", &k, &rowerr) || k < 0 || k >= N_GENRES) {
            st = upf_field_error(r, &f[1], "genre index", "a genre index from 0 to 18", err);
            goto done;
        }
        char utf8[128];
        size_t n = f[0].len < 60 ? f[0].len : 60;
        upf_latin1_to_utf8(f[0].p, n, utf8);
        snprintf(names[k], 64, "%s", utf8);
    }
done:
    upf_import_close_csv(im, r);
    return st;
}

static upf_status read_items(upf_import *im, const char *path, char genres[N_GENRES][64], upf_err *err)
{
    upf_status st = UPF_OK;
    upf_csv *r = NULL;
    upf_err rowerr;
    upf_err_clear(&rowerr);
    upf_csv_opts o = pipe_opts();
    if ((st = upf_import_open_csv(path, &o, &r, err))) return st;
    int rc;
    while ((rc = upf_import_next_row(im, r, &st, err)) == 1) {
        size_t nf;
        const upf_csv_field *f = upf_csv_row(r, &nf);
        const char *reason = NULL;
        int32_t item;
        int64_t added = UPF_TIME_MISSING;
        if (nf < 5 + N_GENRES) {
            reason = "missing column";
            upf_row_short(r, nf, 5 + N_GENRES, "u.item row", &rowerr);
        } else if ((st = upf_field_item(im, r, &f[0], "item", UPF_ID_INT, &item, &rowerr))) {
            if (st != UPF_ERR_FORMAT) goto fatal;
            reason = "bad item id";
        } else if (f[2].len && upf_field_time(r, &f[2], "release date", UPF_TIME_DMONY, &added, &rowerr)) {
            reason = "bad release date";
        }
        for (int g = 0; !reason && g < N_GENRES; g++) {
            const upf_csv_field *x = &f[5 + g];
            if (x->len != 1 || (x->p[0] != '0' && x->p[0] != '1')) {
                reason = "bad genre flag";
                upf_field_error(r, x, genres[g], "a genre flag 0 or 1", &rowerr);
            }
        }
        if (reason) {
            if ((st = upf_import_bad_row(im, reason, &rowerr))) goto fatal;
            continue;
        }
        int year;
        if (added == UPF_TIME_MISSING && upf_title_year(f[1].p, f[1].len, &year))
            added = upf_days_from_civil(year, 1, 1) * 86400;
        if (added != UPF_TIME_MISSING && (st = upf_builder_item_added(im->b, item, added))) {
            st = upf_import_builder_error(im, st, path, err);
            goto done;
        }
        for (int g = 0; g < N_GENRES; g++)
            if (f[5 + g].p[0] == '1' && (st = upf_import_cat_attr(im, 1, item, "genre", genres[g], strlen(genres[g]), err)))
                goto done;
        im->st.attr_rows++;
    }
    goto done;
fatal:
    *err = rowerr;
done:
    upf_import_close_csv(im, r);
    return st;
}

static const char *age_band(int64_t age)
{
    if (age < 18) return "under-18";
    if (age <= 24) return "18-24";
    if (age <= 34) return "25-34";
    if (age <= 44) return "35-44";
    if (age <= 49) return "45-49";
    if (age <= 55) return "50-55";
    return "56+";
}

static upf_status read_users(upf_import *im, const char *path, upf_err *err)
{
    upf_status st = UPF_OK;
    upf_csv *r = NULL;
    upf_err rowerr;
    upf_err_clear(&rowerr);
    upf_csv_opts o = pipe_opts();
    if ((st = upf_import_open_csv(path, &o, &r, err))) return st;
    int rc;
    while ((rc = upf_import_next_row(im, r, &st, err)) == 1) {
        size_t nf;
        const upf_csv_field *f = upf_csv_row(r, &nf);
        const char *reason = NULL;
        int32_t user;
        int64_t age = 0;
        if (nf < 4) {
            reason = "missing column";
            upf_row_short(r, nf, 4, "u.user row", &rowerr);
        } else if ((st = upf_field_user(im, r, &f[0], "user", UPF_ID_INT, &user, &rowerr))) {
            if (st != UPF_ERR_FORMAT) goto fatal;
            reason = "bad user id";
        } else if (upf_field_i64(r, &f[1], "age", &age, &rowerr)) {
            reason = "bad age";
        } else if (age < 0 || age > 150) {
            reason = "bad age";
            upf_field_error(r, &f[1], "age", "an age from 0 to 150", &rowerr);
        }
        if (reason) {
            if ((st = upf_import_bad_row(im, reason, &rowerr))) goto fatal;
            continue;
        }
        const char *band = age_band(age);
        if ((st = upf_import_cat_attr(im, 0, user, "age_band", band, strlen(band), err))) goto done;
        if (f[2].len && (st = upf_import_cat_attr(im, 0, user, "gender", f[2].p, f[2].len, err))) goto done;
        if (f[3].len && (st = upf_import_cat_attr(im, 0, user, "occupation", f[3].p, f[3].len, err))) goto done;
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
    m.csv.delim[0] = '\t';
    m.csv.header = 0;
    m.user_col = "1";
    m.item_col = "2";
    m.value_col = "3";
    m.time_col = "4";
    m.event_type = UPF_EV_RATING;
    m.time_fmt = UPF_TIME_UNIX;
    m.user_kind = m.item_kind = UPF_ID_INT;
    return upf_import_events_csv(im, path, &m, err);
}

upf_status upf_preset_movielens100k(upf_import *im, const char *const *inputs, size_t n, upf_err *err)
{
    static const char *const names[] = { "u.data", "u.item", "u.user", "u.genre" };
    static const int required[] = { 1, 0, 0, 0 };
    const char *found[4];
    char genres[N_GENRES][64];
    upf_input_files files;
    upf_status st = upf_inputs_expand(inputs, n, &files, err);
    if (st) return st;
    if ((st = upf_inputs_pick(&files, !upf_inputs_have_dir(inputs, n), "movielens100k", names, required, 4, found, err)))
        goto done;
    for (int g = 0; g < N_GENRES; g++) snprintf(genres[g], sizeof genres[g], "%s", default_genres[g]);
    if (found[3] && (st = read_genres(im, found[3], genres, err))) goto done;
    if (found[1] && (st = read_items(im, found[1], genres, err))) goto done;
    if (found[2] && (st = read_users(im, found[2], err))) goto done;
    st = read_ratings(im, found[0], err);
done:
    upf_input_files_free(&files);
    return st;
}
