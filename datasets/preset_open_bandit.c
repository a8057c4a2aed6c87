/* preset_open_bandit.c - the Open Bandit Dataset (ZOZO; Saito et al. 2020):
 * impressions logged by a known policy, with the policy's propensities.
 *
 * INPUT is a campaign folder (<policy>/<campaign>, e.g. random/men) or its
 * log CSV; item_context.csv in the same folder is read too when present.
 * - item_context.csv: each item_id is an item; item_feature_* columns become
 *   item attributes, numeric when the column's first value is a number
 *   ("item_feature_0" = value), else categorical ("item_feature_1=<hash>").
 * - the log (columns by name): one impression per row: time = timestamp
 *   (ISO-8601), item = item_id, position = position - 1 (0-based), reward =
 *   click, propensity = propensity_score. The log has no user identity, so
 *   user = -1; the user_feature_* columns become categorical context features
 *   ("user_feature_0=<hash>") and user-item_affinity_* numeric ones (zeros
 *   left out).
 * - policy = the folder above the campaign folder when it is "random" or
 *   "bts" (as published), else "unknown".
 * No events. Expected (small version): 10000 impressions per campaign.
 */
#define _DEFAULT_SOURCE /* realpath */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "presets.h"
#include "internal.h"

static upf_status read_items(upf_import *im, const char *path, upf_err *err)
{
    upf_status st = UPF_OK;
    upf_csv *r = NULL;
    upf_err rowerr;
    upf_err_clear(&rowerr);
    int *numeric = NULL;
    upf_csv_opts o = upf_csv_opts_default();
    if ((st = upf_import_open_csv(path, &o, &r, err))) return st;
    size_t cid, nh = upf_csv_header_count(r);
    if ((st = upf_csv_column(r, "item_id", &cid, err))) goto done;
    numeric = upf_calloc(nh, sizeof *numeric);
    if (!numeric) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t j = 0; j < nh; j++) numeric[j] = -1; /* -1 undecided, 0 categorical, 1 numeric; 2 not a feature */
    for (size_t j = 0; j < nh; j++)
        if (strncmp(upf_csv_header_name(r, j), "item_feature_", 13) != 0) numeric[j] = 2;
    int rc;
    while ((rc = upf_import_next_row(im, r, &st, err)) == 1) {
        size_t nf;
        const upf_csv_field *f = upf_csv_row(r, &nf);
        const char *reason = NULL;
        int32_t item;
        if (nf < nh) {
            reason = "missing column";
            upf_row_short(r, nf, nh, "item_context row", &rowerr);
        } else if ((st = upf_field_item(im, r, &f[cid], "item_id", UPF_ID_INT, &item, &rowerr))) {
            if (st != UPF_ERR_FORMAT) goto fatal;
            reason = "bad item id";
        }
        if (reason) {
            if ((st = upf_import_bad_row(im, reason, &rowerr))) goto fatal;
            continue;
        }
        for (size_t j = 0; j < nh; j++) {
            if (numeric[j] == 2 || f[j].len == 0) continue;
            double v;
            int is_num = upf_field_f64(r, &f[j], upf_csv_header_name(r, j), &v, &rowerr) == UPF_OK;
            if (numeric[j] < 0) numeric[j] = is_num;
            if (numeric[j] == 1) {
                if (!is_num) {
                    st = upf_err_set(err, UPF_ERR_FORMAT, "%s", rowerr.msg);
                    goto done;
                }
                st = upf_import_num_attr(im, 1, item, upf_csv_header_name(r, j), (float)v, err);
            } else {
                st = upf_import_cat_attr(im, 1, item, upf_csv_header_name(r, j), f[j].p, f[j].len, err);
            }
            if (st) goto done;
        }
        im->st.attr_rows++;
    }
    goto done;
fatal:
    *err = rowerr;
done:
    upf_free(numeric);
    upf_import_close_csv(im, r);
    return st;
}

typedef struct log_cols {
    size_t time, item, pos, click, prop, max;
} log_cols;

static upf_status read_log(upf_import *im, const char *path, upf_err *err)
{
    upf_status st = UPF_OK;
    upf_csv *r = NULL;
    upf_err rowerr;
    upf_err_clear(&rowerr);
    uint8_t *kind = NULL; /* per column: 0 other, 1 user feature (categorical), 2 affinity (numeric) */
    upf_csv_opts o = upf_csv_opts_default();
    log_cols c;
    if ((st = upf_import_open_csv(path, &o, &r, err))) return st;
    size_t nh = upf_csv_header_count(r);
    if ((st = upf_csv_column(r, "timestamp", &c.time, err)) || (st = upf_csv_column(r, "item_id", &c.item, err)) ||
        (st = upf_csv_column(r, "position", &c.pos, err)) || (st = upf_csv_column(r, "click", &c.click, err)) ||
        (st = upf_csv_column(r, "propensity_score", &c.prop, err)))
        goto done;
    kind = upf_calloc(nh, 1);
    if (!kind) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t j = 0; j < nh; j++) {
        const char *h = upf_csv_header_name(r, j);
        if (!strncmp(h, "user_feature_", 13)) kind[j] = 1;
        else if (!strncmp(h, "user-item_affinity_", 19)) kind[j] = 2;
    }
    int rc;
    while ((rc = upf_import_next_row(im, r, &st, err)) == 1) {
        size_t nf;
        const upf_csv_field *f = upf_csv_row(r, &nf);
        const char *reason = NULL;
        int64_t t = 0, pos = 0;
        float click = 0, prop = 0;
        int32_t item = -1;
        if (nf < nh) {
            reason = "missing column";
            upf_row_short(r, nf, nh, "row", &rowerr);
        } else if (upf_field_time(r, &f[c.time], "timestamp", UPF_TIME_ISO, &t, &rowerr)) {
            reason = "bad time";
        } else if (upf_field_i64(r, &f[c.pos], "position", &pos, &rowerr)) {
            reason = "bad position";
        } else if (pos < 1 || pos > 32767) {
            reason = "bad position";
            upf_field_error(r, &f[c.pos], "position", "a position from 1 (as published; stored 0-based)", &rowerr);
        } else if (upf_field_f32(r, &f[c.click], "click", &click, &rowerr)) {
            reason = "bad click";
        } else if (upf_field_f32(r, &f[c.prop], "propensity_score", &prop, &rowerr)) {
            reason = "bad propensity";
        } else if (!(prop > 0 && prop <= 1)) {
            reason = "bad propensity";
            upf_field_error(r, &f[c.prop], "propensity_score", "a probability in (0, 1]", &rowerr);
        } else if ((st = upf_field_item(im, r, &f[c.item], "item_id", UPF_ID_INT, &item, &rowerr))) {
            if (st != UPF_ERR_FORMAT) goto fatal;
            reason = "bad item id";
        }
        for (size_t j = 0; j < nh && !reason; j++) {
            double v;
            if (kind[j] == 2 && f[j].len && upf_field_f64(r, &f[j], upf_csv_header_name(r, j), &v, &rowerr))
                reason = "bad affinity";
            if (kind[j] == 1 && !upf_utf8_valid(f[j].p, f[j].len, NULL)) {
                reason = "bad user feature";
                upf_field_error(r, &f[j], upf_csv_header_name(r, j), "UTF-8 text", &rowerr);
            }
        }
        if (reason) {
            if ((st = upf_import_bad_row(im, reason, &rowerr))) goto fatal;
            continue;
        }
        if ((st = upf_builder_impression(im->b, -1, t, item, (int)(pos - 1), click, prop))) goto builder_fail;
        im->st.impressions++;
        for (size_t j = 0; j < nh; j++) {
            if (kind[j] == 1 && f[j].len) {
                char name[320];
                snprintf(name, sizeof name, "%s=%.*s", upf_csv_header_name(r, j), (int)(f[j].len < 200 ? f[j].len : 200),
                         f[j].p);
                st = upf_builder_impression_context(im->b, name, 1.0f);
            } else if (kind[j] == 2 && f[j].len) {
                double v;
                upf_field_f64(r, &f[j], "affinity", &v, &rowerr);
                if (v != 0) st = upf_builder_impression_context(im->b, upf_csv_header_name(r, j), (float)v);
            }
            if (st) goto builder_fail;
        }
    }
    goto done;
builder_fail:
    st = upf_import_builder_error(im, st, path, err);
    goto done;
fatal:
    *err = rowerr;
done:
    upf_free(kind);
    upf_import_close_csv(im, r);
    return st;
}

/* "random" or "bts" from <policy>/<campaign>/<log>.csv, else "unknown". */
static void policy_of(const char *log_path, char *out, size_t cap)
{
    char real[PATH_MAX];
    snprintf(out, cap, "unknown");
    if (!realpath(log_path, real)) return;
    char *slash = strrchr(real, '/');
    for (int up = 0; up < 2 && slash; up++) {
        *slash = '\0';
        slash = strrchr(real, '/');
    }
    const char *name = slash ? slash + 1 : real;
    if (!strcmp(name, "random") || !strcmp(name, "bts")) snprintf(out, cap, "%s", name);
}

upf_status upf_preset_open_bandit(upf_import *im, const char *const *inputs, size_t n, upf_err *err)
{
    upf_input_files files;
    upf_status st = upf_inputs_expand(inputs, n, &files, err);
    if (st) return st;
    const char *log = NULL, *items = NULL;
    char *sibling = NULL;
    for (size_t i = 0; i < files.n; i++) {
        const char *base = upf_path_base(files.path[i]);
        size_t bl = strlen(base);
        if (!strcmp(base, "item_context.csv")) {
            items = files.path[i];
        } else if (bl > 4 && !strcmp(base + bl - 4, ".csv")) {
            if (log) {
                st = upf_err_set(err, UPF_ERR_ARG, "--preset open-bandit: expected one log CSV, got %s and %s", log,
                                 files.path[i]);
                goto done;
            }
            log = files.path[i];
        }
    }
    if (!log) {
        st = upf_err_set(err, UPF_ERR_ARG,
                         "--preset open-bandit: no log CSV among the inputs (expected a folder such as random/men, "
                         "or its men.csv)");
        goto done;
    }
    if (!items) { /* the log's folder usually holds item_context.csv */
        size_t dl = (size_t)(upf_path_base(log) - log);
        sibling = upf_malloc(dl + sizeof "item_context.csv");
        if (!sibling) {
            st = upf_err_set(err, UPF_ERR_NOMEM, "out of memory");
            goto done;
        }
        snprintf(sibling, dl + sizeof "item_context.csv", "%.*sitem_context.csv", (int)dl, log);
        if (access(sibling, R_OK) == 0) items = sibling;
    }
    char policy[64];
    policy_of(log, policy, sizeof policy);
    if (!strcmp(policy, "unknown"))
        upf_log(UPF_LOG_WARN, "%s: the logging policy is not in the path (random/... or bts/...); recorded as unknown", log);
    if ((st = upf_builder_set_policy(im->b, policy))) {
        st = upf_import_builder_error(im, st, "setting the policy", err);
        goto done;
    }
    if (items && (st = read_items(im, items, err))) goto done;
    st = read_log(im, log, err);
done:
    upf_free(sibling);
    upf_input_files_free(&files);
    return st;
}
