/* preset_otto.c - OTTO session logs (JSON lines; Normann et al. 2023):
 * {"session": S, "events": [{"aid": A, "ts": MS, "type": "clicks"}, ...]}.
 *
 * Each session is a user (id = the session number), each aid an item;
 * clicks -> VIEW, carts -> CART, orders -> PURCHASE; ts is unix
 * milliseconds, floored to seconds (the order of events within a second is
 * kept: events sort by (user, time, input order)). value = 1: the log counts
 * one article per event and carries no prices. Lines are parsed whole (a
 * session of the full data set is at most a few hundred KB).
 * Expected (otto-sample): 20 sessions, 862 events (800 clicks, 52 carts,
 * 10 orders).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../model/json.h"
#include "presets.h"

static int json_int(const upf_json *j, int64_t *out)
{
    if (!j || j->type != UPF_JSON_NUM || j->num != floor(j->num) || fabs(j->num) >= 9007199254740992.0) return -1;
    *out = (int64_t)j->num;
    return 0;
}

static int otto_type(const upf_json *j)
{
    if (!j || j->type != UPF_JSON_STR) return 0;
    if (!strcmp(j->str, "clicks")) return UPF_EV_VIEW;
    if (!strcmp(j->str, "carts")) return UPF_EV_CART;
    if (!strcmp(j->str, "orders")) return UPF_EV_PURCHASE;
    return 0;
}

/* One session line: UPF_ERR_FORMAT with rowerr for a bad line. */
static upf_status session(upf_import *im, const char *path, long long line, const char *text, size_t n,
                          upf_err *rowerr, upf_err *err)
{
    upf_json *j = NULL;
    upf_status st = upf_json_parse(text, n, &j, rowerr);
    if (st) {
        size_t at = 0;
        char msg[UPF_ERR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", rowerr->msg);
        if (sscanf(msg, "byte %zu", &at) != 1) at = 0;
        upf_err_set(rowerr, UPF_ERR_FORMAT, "%s:%lld:%zu: %s", path, line, at + 1, msg);
        return UPF_ERR_FORMAT;
    }
    int64_t sid;
    const upf_json *evs = upf_json_get(j, "events");
    if (j->type != UPF_JSON_OBJ || json_int(upf_json_get(j, "session"), &sid) || sid < 0) {
        st = upf_err_set(rowerr, UPF_ERR_FORMAT, "%s:%lld:1: session: expected an object with an integer \"session\"",
                         path, line);
        goto done;
    }
    if (!evs || evs->type != UPF_JSON_ARR) {
        st = upf_err_set(rowerr, UPF_ERR_FORMAT, "%s:%lld:1: events: expected an array of events", path, line);
        goto done;
    }
    /* validate the whole line before adding anything, so a skipped line leaves no trace */
    for (size_t k = 0; k < evs->len; k++) {
        const upf_json *e = evs->items[k];
        int64_t aid, ts;
        if (e->type != UPF_JSON_OBJ || json_int(upf_json_get(e, "aid"), &aid) || aid < 0 ||
            json_int(upf_json_get(e, "ts"), &ts) || !otto_type(upf_json_get(e, "type"))) {
            st = upf_err_set(rowerr, UPF_ERR_FORMAT,
                             "%s:%lld:1: events[%zu]: expected {\"aid\": integer, \"ts\": unix ms, \"type\": "
                             "clicks|carts|orders}",
                             path, line, k);
            goto done;
        }
    }
    char id[32];
    int idn = snprintf(id, sizeof id, "%lld", (long long)sid);
    int32_t user;
    if ((st = upf_import_user_text(im, id, (size_t)idn, &user, err))) goto done;
    for (size_t k = 0; k < evs->len; k++) {
        const upf_json *e = evs->items[k];
        int64_t aid = 0, ts = 0;
        json_int(upf_json_get(e, "aid"), &aid);
        json_int(upf_json_get(e, "ts"), &ts);
        int32_t item;
        idn = snprintf(id, sizeof id, "%lld", (long long)aid);
        if ((st = upf_import_item_text(im, id, (size_t)idn, &item, err))) goto done;
        int64_t t = ts / 1000 - (ts % 1000 < 0);
        if ((st = upf_import_event(im, user, item, t, otto_type(upf_json_get(e, "type")), 1.0f, -1, err))) goto done;
    }
done:
    upf_json_free(j);
    return st;
}

static upf_status read_file(upf_import *im, const char *path, upf_err *err)
{
    upf_status st = UPF_OK;
    upf_err rowerr;
    upf_err_clear(&rowerr);
    char *line = NULL;
    size_t cap = 0;
    long long lineno = 0, rows = 0;
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) return upf_err_sys(err, UPF_ERR_IO, "%s: cannot open", path);
    ssize_t n;
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
        if (n == 0) continue;
        rows++;
        im->st.rows++;
        im->st.bytes += (uint64_t)n;
        if ((rows & 0x3FF) == 0 && (st = upf_import_poll(im, err))) goto done;
        st = session(im, path, lineno, line, (size_t)n, &rowerr, err);
        if (st == UPF_ERR_FORMAT) {
            if ((st = upf_import_bad_row(im, "bad session line", &rowerr))) {
                *err = rowerr;
                goto done;
            }
        } else if (st) {
            goto done;
        }
    }
    if (ferror(f)) st = upf_err_sys(err, UPF_ERR_IO, "%s: read failed", path);
    else if (rows == 0) st = upf_err_set(err, UPF_ERR_DATA, "%s: no sessions (empty file)", path);
done:
    free(line);
    if (f != stdin) fclose(f);
    im->st.n_files++;
    return st;
}

upf_status upf_preset_otto(upf_import *im, const char *const *inputs, size_t n, upf_err *err)
{
    upf_input_files files;
    upf_status st = upf_inputs_expand(inputs, n, &files, err);
    if (st) return st;
    size_t used = 0;
    int dir = upf_inputs_have_dir(inputs, n);
    for (size_t i = 0; i < files.n && !st; i++) {
        const char *base = upf_path_base(files.path[i]);
        size_t bl = strlen(base);
        if (dir && !(bl > 6 && !strcmp(base + bl - 6, ".jsonl"))) continue;
        st = read_file(im, files.path[i], err);
        used++;
    }
    if (!st && !used) st = upf_err_set(err, UPF_ERR_ARG, "--preset otto: no .jsonl files among the inputs");
    upf_input_files_free(&files);
    return st;
}
