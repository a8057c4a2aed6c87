/* h5_synth_truth.c - the synthetic shop's ground truth as an HDF5 file
 * (layout in SYNTH.md "Truth file"): one group per part, native types,
 * chunked and compressed arrays, the parameters as a JSON attribute. Written
 * to a temporary name and renamed; no timestamps, so the bytes are a pure
 * function of the truth. The reader checks the format, version, every rank,
 * shape and type class before it trusts an array.
 *
 * Not here: the dataset file (h5_io.c). Entry points: upf_synth_truth_write,
 * upf_synth_truth_read.
 */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../model/json.h"
#include "../model/outfile.h"
#include "synth_internal.h"

/* ---- HDF5 error text ---- */

static herr_t innermost(unsigned n, const H5E_error2_t *e, void *data)
{
    (void)n;
    char *buf = data;
    if (e->desc && e->desc[0]) snprintf(buf, 256, "%s", e->desc); /* keep the last (innermost) */
    return 0;
}

static upf_status h5_fail(upf_err *err, upf_status s, const char *path, const char *what)
{
    char inner[256] = "";
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost, inner);
    H5Eclear2(H5E_DEFAULT);
    if (inner[0]) return upf_err_set(err, s, "%s: %s (%s)", path, what, inner);
    return upf_err_set(err, s, "%s: %s", path, what);
}

/* ---- writing ---- */

typedef struct wctx {
    const char *path; /* for messages: the final name */
    upf_err *err;
    upf_status st;
} wctx;

static hid_t w_group(wctx *w, hid_t loc, const char *name)
{
    if (w->st) return H5I_INVALID_HID;
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE), g = H5I_INVALID_HID;
    if (gcpl >= 0 && H5Pset_obj_track_times(gcpl, 0) >= 0) g = H5Gcreate2(loc, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    if (gcpl >= 0) H5Pclose(gcpl);
    if (g < 0) {
        char what[128];
        snprintf(what, sizeof what, "cannot create group %s", name);
        w->st = h5_fail(w->err, UPF_ERR_IO, w->path, what);
    }
    return g;
}

/* A dataset of rank 1 or 2 (dims[0] rows); chunked and compressed when large. */
static void w_array(wctx *w, hid_t loc, const char *name, hid_t type, int rank, hsize_t d0, hsize_t d1, const void *data)
{
    if (w->st) return;
    hsize_t dims[2] = { d0, d1 }, chunk[2] = { d0, d1 };
    hid_t space = H5Screate_simple(rank, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE), ds = H5I_INVALID_HID;
    hsize_t total = rank == 2 ? d0 * d1 : d0;
    int ok = space >= 0 && dcpl >= 0 && H5Pset_obj_track_times(dcpl, 0) >= 0;
    if (ok && total >= 4096) {
        hsize_t row = rank == 2 && d1 ? d1 : 1, rows = (65536 + row - 1) / row;
        chunk[0] = rows < d0 ? rows : d0;
        ok = H5Pset_chunk(dcpl, rank, chunk) >= 0 && H5Pset_shuffle(dcpl) >= 0 && H5Pset_deflate(dcpl, 4) >= 0;
    }
    if (ok) ds = H5Dcreate2(loc, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    ok = ds >= 0 && (total == 0 || H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    if (ds >= 0) H5Dclose(ds);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (space >= 0) H5Sclose(space);
    if (!ok) {
        char what[160];
        snprintf(what, sizeof what, "cannot write dataset %s", name);
        w->st = h5_fail(w->err, UPF_ERR_IO, w->path, what);
    }
}

static hid_t vlen_str_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t >= 0 && (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0)) {
        H5Tclose(t);
        return H5I_INVALID_HID;
    }
    return t;
}

static void w_strings(wctx *w, hid_t loc, const char *name, char *const *list, size_t n)
{
    if (w->st) return;
    hid_t t = vlen_str_type();
    if (t < 0) {
        w->st = h5_fail(w->err, UPF_ERR_IO, w->path, "cannot make a string type");
        return;
    }
    w_array(w, loc, name, t, 1, n, 0, list);
    H5Tclose(t);
}

static void w_attr(wctx *w, hid_t loc, const char *name, hid_t type, const void *v)
{
    if (w->st) return;
    hid_t space = H5Screate(H5S_SCALAR), a = H5I_INVALID_HID;
    if (space >= 0) a = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    int ok = a >= 0 && H5Awrite(a, type, v) >= 0;
    if (a >= 0) H5Aclose(a);
    if (space >= 0) H5Sclose(space);
    if (!ok) {
        char what[160];
        snprintf(what, sizeof what, "cannot write attribute %s", name);
        w->st = h5_fail(w->err, UPF_ERR_IO, w->path, what);
    }
}

static void w_attr_str(wctx *w, hid_t loc, const char *name, const char *s)
{
    if (w->st) return;
    hid_t t = vlen_str_type();
    if (t < 0) {
        w->st = h5_fail(w->err, UPF_ERR_IO, w->path, "cannot make a string type");
        return;
    }
    w_attr(w, loc, name, t, &s);
    H5Tclose(t);
}

static void close_group(hid_t *g)
{
    if (*g >= 0) H5Gclose(*g);
    *g = H5I_INVALID_HID;
}

static void write_all(wctx *w, hid_t f, const upf_synth_truth *t, const char *json)
{
    hid_t g = H5I_INVALID_HID;
    int version = UPF_SYNTH_TRUTH_VERSION;
    w_attr_str(w, f, "format", UPF_SYNTH_TRUTH_FORMAT);
    w_attr(w, f, "version", H5T_NATIVE_INT, &version);
    w_attr_str(w, f, "params_json", json);
    w_attr(w, f, "t_start", H5T_NATIVE_INT64, &t->t_start);
    w_attr(w, f, "t_end", H5T_NATIVE_INT64, &t->t_end);

    size_t K = t->dim, nu = t->n_users, ni = t->n_items, na = t->n_arms;
    g = w_group(w, f, "catalog");
    w_strings(w, g, "category_names", t->category_names, t->n_categories);
    w_array(w, g, "category_rebuy_days", H5T_NATIVE_FLOAT, 1, t->n_categories, 0, t->category_rebuy_days);
    w_array(w, g, "category_vec", H5T_NATIVE_FLOAT, 2, t->n_categories, K, t->category_vec);
    w_strings(w, g, "brand_names", t->brand_names, t->n_brands);
    w_array(w, g, "brand_category", H5T_NATIVE_INT32, 1, t->n_brands, 0, t->brand_category);
    w_array(w, g, "brand_style", H5T_NATIVE_UINT8, 1, t->n_brands, 0, t->brand_style);
    w_array(w, g, "style_vec", H5T_NATIVE_FLOAT, 2, t->n_styles, K, t->style_vec);
    w_array(w, g, "item_category", H5T_NATIVE_INT32, 1, ni, 0, t->item_category);
    w_array(w, g, "item_brand", H5T_NATIVE_INT32, 1, ni, 0, t->item_brand);
    w_array(w, g, "item_band", H5T_NATIVE_UINT8, 1, ni, 0, t->item_band);
    w_array(w, g, "item_popularity", H5T_NATIVE_FLOAT, 1, ni, 0, t->item_popularity);
    w_array(w, g, "item_base_price", H5T_NATIVE_FLOAT, 1, ni, 0, t->item_base_price);
    w_array(w, g, "item_rebuy_days", H5T_NATIVE_FLOAT, 1, ni, 0, t->item_rebuy_days);
    w_array(w, g, "item_added", H5T_NATIVE_INT64, 1, ni, 0, t->item_added);
    w_array(w, g, "item_removed", H5T_NATIVE_INT64, 1, ni, 0, t->item_removed);
    close_group(&g);

    g = w_group(w, f, "users");
    w_attr(w, g, "aft_intercept", H5T_NATIVE_DOUBLE, &t->aft_intercept);
    w_array(w, g, "aft_region", H5T_NATIVE_DOUBLE, 1, UPF_SYNTH_N_REGIONS, 0, t->aft_region);
    w_array(w, g, "aft_age_band", H5T_NATIVE_DOUBLE, 1, UPF_SYNTH_N_AGE_BANDS, 0, t->aft_age);
    w_array(w, g, "aft_channel", H5T_NATIVE_DOUBLE, 1, UPF_SYNTH_N_CHANNELS, 0, t->aft_channel);
    w_array(w, g, "region_taste", H5T_NATIVE_FLOAT, 2, UPF_SYNTH_N_REGIONS, K, t->region_taste);
    w_array(w, g, "age_taste", H5T_NATIVE_FLOAT, 2, UPF_SYNTH_N_AGE_BANDS, K, t->age_taste);
    w_array(w, g, "region", H5T_NATIVE_UINT8, 1, nu, 0, t->user_region);
    w_array(w, g, "age_band", H5T_NATIVE_UINT8, 1, nu, 0, t->user_age_band);
    w_array(w, g, "channel", H5T_NATIVE_UINT8, 1, nu, 0, t->user_channel);
    w_array(w, g, "taste", H5T_NATIVE_FLOAT, 2, nu, K, t->user_taste);
    w_array(w, g, "price_sensitivity", H5T_NATIVE_FLOAT, 1, nu, 0, t->user_price_sens);
    w_array(w, g, "scale_days", H5T_NATIVE_FLOAT, 1, nu, 0, t->user_scale_days);
    w_array(w, g, "dropout", H5T_NATIVE_FLOAT, 1, nu, 0, t->user_dropout);
    w_array(w, g, "rebuy_factor", H5T_NATIVE_FLOAT, 1, nu, 0, t->user_rebuy_factor);
    w_array(w, g, "death", H5T_NATIVE_INT64, 1, nu, 0, t->user_death);
    w_array(w, g, "occasions", H5T_NATIVE_INT32, 1, nu, 0, t->user_occasions);
    close_group(&g);

    g = w_group(w, f, "campaign");
    w_attr(w, g, "time", H5T_NATIVE_INT64, &t->campaign_time);
    w_attr(w, g, "window", H5T_NATIVE_INT64, &t->campaign_window);
    w_attr(w, g, "propensity", H5T_NATIVE_DOUBLE, &t->arm_propensity);
    w_attr(w, g, "expected_quantity", H5T_NATIVE_DOUBLE, &t->expected_quantity);
    if (na) {
        w_strings(w, g, "arm_names", t->arm_names, na);
        w_array(w, g, "arm_discount", H5T_NATIVE_DOUBLE, 1, na, 0, t->arm_discount);
        w_array(w, g, "arm", H5T_NATIVE_INT16, 1, nu, 0, t->user_arm);
        w_array(w, g, "alive_at_send", H5T_NATIVE_UINT8, 1, nu, 0, t->user_alive_at_send);
        w_array(w, g, "segment", H5T_NATIVE_INT8, 2, nu, na, t->user_segment);
        w_array(w, g, "conversion_prob", H5T_NATIVE_FLOAT, 2, nu, na, t->user_conv_prob);
        w_array(w, g, "revenue_mean", H5T_NATIVE_FLOAT, 2, nu, na, t->user_revenue_mean);
    }
    close_group(&g);

    g = w_group(w, f, "logging");
    w_attr(w, g, "logging_value", H5T_NATIVE_DOUBLE, &t->logging_value);
    w_attr(w, g, "oracle_value", H5T_NATIVE_DOUBLE, &t->oracle_value);
    if (t->n_contexts) {
        w_array(w, g, "candidates", H5T_NATIVE_INT32, 1, t->n_candidates, 0, t->candidates);
        w_array(w, g, "position_bias", H5T_NATIVE_FLOAT, 1, t->n_positions, 0, t->position_bias);
        w_array(w, g, "propensity", H5T_NATIVE_DOUBLE, 2, t->n_candidates, t->n_positions, t->logging_prop);
        w_array(w, g, "context_user", H5T_NATIVE_INT32, 1, t->n_contexts, 0, t->context_user);
        w_array(w, g, "context_time", H5T_NATIVE_INT64, 1, t->n_contexts, 0, t->context_time);
        w_array(w, g, "relevance", H5T_NATIVE_FLOAT, 2, t->n_contexts, t->n_candidates, t->context_relevance);
    }
    close_group(&g);
}

upf_status upf_synth_truth_write(const upf_synth_truth *t, const char *path, upf_err *err)
{
    wctx w = { path, err, UPF_OK };
    char *json = NULL, *tmp = NULL;
    size_t json_len = 0;
    hid_t f = H5I_INVALID_HID;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    FILE *mem = open_memstream(&json, &json_len);
    if (!mem) return upf_err_sys(err, UPF_ERR_NOMEM, "%s: cannot format the parameters", path);
    syn_truth_json(t, mem);
    if (fclose(mem) != 0 || !json) {
        free(json);
        return upf_err_sys(err, UPF_ERR_NOMEM, "%s: cannot format the parameters", path);
    }
    if (!(tmp = upf_tmp_name(path))) {
        free(json);
        return upf_err_set(err, UPF_ERR_NOMEM, "%s: out of memory", path);
    }
    upf_tmp_register(tmp);
    f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) w.st = h5_fail(err, UPF_ERR_IO, path, "cannot create the file");
    else write_all(&w, f, t, json);
    if (f >= 0 && H5Fclose(f) < 0 && !w.st) w.st = h5_fail(err, UPF_ERR_IO, path, "cannot close the file (disk full?)");
    if (!w.st && upf_interrupted()) w.st = upf_err_set(err, UPF_ERR_INTERRUPTED, "%s: interrupted", path);
    if (!w.st) w.st = upf_commit_rename(tmp, path, err);
    else {
        remove(tmp);
        upf_tmp_unregister(tmp);
    }
    free(json);
    upf_free(tmp);
    return w.st;
}

/* ---- reading ---- */

typedef struct rctx {
    const char *path;
    upf_err *err;
    upf_status st;
} rctx;

/* Reads dataset loc/name into a new buffer after checking its rank, its
 * dimensions (d1 = 0 for rank 1) and its type class. */
static void *r_array(rctx *r, hid_t loc, const char *name, hid_t mem, H5T_class_t cls, hsize_t d0, hsize_t d1)
{
    if (r->st) return NULL;
    int rank = d1 ? 2 : 1;
    hid_t ds = H5I_INVALID_HID, space = H5I_INVALID_HID, ft = H5I_INVALID_HID;
    void *buf = NULL;
    char what[200];
    if ((ds = H5Dopen2(loc, name, H5P_DEFAULT)) < 0) {
        snprintf(what, sizeof what, "missing dataset %s", name);
        r->st = h5_fail(r->err, UPF_ERR_FORMAT, r->path, what);
        goto done;
    }
    space = H5Dget_space(ds);
    ft = H5Dget_type(ds);
    hsize_t dims[2] = { 0, 0 };
    int got_rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    if (got_rank != rank || H5Sget_simple_extent_dims(space, dims, NULL) < 0 || dims[0] != d0 ||
        (rank == 2 && dims[1] != d1)) {
        r->st = upf_err_set(r->err, UPF_ERR_FORMAT, "%s: %s: expected shape (%llu%s%llu) (got rank %d, (%llu, %llu))",
                            r->path, name, (unsigned long long)d0, rank == 2 ? ", " : "",
                            rank == 2 ? (unsigned long long)d1 : 0ull, got_rank, (unsigned long long)dims[0],
                            (unsigned long long)dims[1]);
        goto done;
    }
    if (ft < 0 || H5Tget_class(ft) != cls) {
        snprintf(what, sizeof what, "%s has the wrong type class", name);
        r->st = upf_err_set(r->err, UPF_ERR_FORMAT, "%s: %s", r->path, what);
        goto done;
    }
    size_t n, bytes;
    if (upf_mul_size((size_t)d0, rank == 2 ? (size_t)d1 : 1, &n) || upf_mul_size(n, H5Tget_size(mem), &bytes)) {
        r->st = upf_err_set(r->err, UPF_ERR_FORMAT, "%s: %s: too large", r->path, name);
        goto done;
    }
    if (!(buf = upf_malloc(bytes ? bytes : 1))) {
        r->st = upf_err_set(r->err, UPF_ERR_NOMEM, "%s: out of memory reading %s", r->path, name);
        goto done;
    }
    if (n && H5Dread(ds, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        snprintf(what, sizeof what, "cannot read %s", name);
        r->st = h5_fail(r->err, UPF_ERR_CORRUPT, r->path, what);
        upf_free(buf);
        buf = NULL;
    }
done:
    if (ft >= 0) H5Tclose(ft);
    if (space >= 0) H5Sclose(space);
    if (ds >= 0) H5Dclose(ds);
    return buf;
}

/* Variable-length strings into owned copies. */
static char **r_strings(rctx *r, hid_t loc, const char *name, size_t n)
{
    if (r->st) return NULL;
    hid_t t = vlen_str_type();
    char **raw = t >= 0 ? r_array(r, loc, name, t, H5T_STRING, n, 0) : NULL;
    char **out = NULL;
    if (raw) {
        out = upf_calloc(n ? n : 1, sizeof *out);
        for (size_t k = 0; out && k < n; k++)
            if (!(out[k] = upf_strdup(raw[k] ? raw[k] : ""))) {
                for (size_t j = 0; j < k; j++) upf_free(out[j]);
                upf_free(out);
                out = NULL;
            }
        if (!out) r->st = upf_err_set(r->err, UPF_ERR_NOMEM, "%s: out of memory reading %s", r->path, name);
        hsize_t dims[1] = { n };
        hid_t space = H5Screate_simple(1, dims, NULL);
        if (space >= 0) {
            H5Dvlen_reclaim(t, space, H5P_DEFAULT, raw);
            H5Sclose(space);
        }
        upf_free(raw);
    } else if (!r->st) {
        r->st = h5_fail(r->err, UPF_ERR_IO, r->path, "cannot make a string type");
    }
    if (t >= 0) H5Tclose(t);
    return out;
}

static void r_attr(rctx *r, hid_t loc, const char *name, hid_t mem, H5T_class_t cls, void *out)
{
    if (r->st) return;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT), ft = H5I_INVALID_HID, space = H5I_INVALID_HID;
    int ok = a >= 0 && (ft = H5Aget_type(a)) >= 0 && H5Tget_class(ft) == cls && (space = H5Aget_space(a)) >= 0 &&
             H5Sget_simple_extent_npoints(space) == 1 && H5Aread(a, mem, out) >= 0;
    if (space >= 0) H5Sclose(space);
    if (ft >= 0) H5Tclose(ft);
    if (a >= 0) H5Aclose(a);
    if (!ok) {
        char what[160];
        snprintf(what, sizeof what, "missing or malformed attribute %s", name);
        r->st = h5_fail(r->err, UPF_ERR_FORMAT, r->path, what);
    }
}

/* A string attribute (owned copy). */
static char *r_attr_str(rctx *r, hid_t loc, const char *name)
{
    char *raw = NULL, *out = NULL;
    hid_t t = vlen_str_type();
    if (t < 0) {
        if (!r->st) r->st = h5_fail(r->err, UPF_ERR_IO, r->path, "cannot make a string type");
        return NULL;
    }
    r_attr(r, loc, name, t, H5T_STRING, &raw);
    if (!r->st && !(out = upf_strdup(raw ? raw : "")))
        r->st = upf_err_set(r->err, UPF_ERR_NOMEM, "%s: out of memory", r->path);
    if (raw) H5free_memory(raw);
    H5Tclose(t);
    return out;
}

static hid_t r_group(rctx *r, hid_t f, const char *name)
{
    if (r->st) return H5I_INVALID_HID;
    hid_t g = H5Gopen2(f, name, H5P_DEFAULT);
    if (g < 0) {
        char what[128];
        snprintf(what, sizeof what, "missing group /%s", name);
        r->st = h5_fail(r->err, UPF_ERR_FORMAT, r->path, what);
    }
    return g;
}

static void copy_fixed(rctx *r, hid_t loc, const char *name, double *dst, size_t n)
{
    double *v = r_array(r, loc, name, H5T_NATIVE_DOUBLE, H5T_FLOAT, n, 0);
    if (v) memcpy(dst, v, n * sizeof *v);
    upf_free(v);
}

static void read_all(rctx *r, hid_t f, upf_synth_truth *t)
{
    hid_t g = H5I_INVALID_HID;
    char *format = r_attr_str(r, f, "format"), *json = NULL;
    int version = 0;
    if (!r->st && strcmp(format, UPF_SYNTH_TRUTH_FORMAT) != 0)
        r->st = upf_err_set(r->err, UPF_ERR_FORMAT, "%s: not a synthetic-shop truth file (format \"%s\", expected \"%s\")",
                            r->path, format, UPF_SYNTH_TRUTH_FORMAT);
    upf_free(format);
    r_attr(r, f, "version", H5T_NATIVE_INT, H5T_INTEGER, &version);
    if (!r->st && version > UPF_SYNTH_TRUTH_VERSION)
        r->st = upf_err_set(r->err, UPF_ERR_VERSION, "%s: truth file version %d is newer than this upfunnel (%d)", r->path,
                            version, UPF_SYNTH_TRUTH_VERSION);
    json = r_attr_str(r, f, "params_json");
    if (!r->st) {
        upf_json *doc = NULL;
        upf_err e;
        if (upf_json_parse(json, strlen(json), &doc, &e) != UPF_OK ||
            syn_params_from_json(upf_json_get(doc, "params"), &t->params, &e) != UPF_OK)
            r->st = upf_err_set(r->err, UPF_ERR_FORMAT, "%s: params_json: %s", r->path, e.msg);
        upf_json_free(doc);
    }
    upf_free(json);
    r_attr(r, f, "t_start", H5T_NATIVE_INT64, H5T_INTEGER, &t->t_start);
    r_attr(r, f, "t_end", H5T_NATIVE_INT64, H5T_INTEGER, &t->t_end);
    if (r->st) return;

    const upf_synth_params *p = &t->params;
    size_t K = t->dim = p->dim, nu = t->n_users = (size_t)p->n_users, ni = t->n_items = (size_t)p->n_items;
    size_t nc = t->n_categories = p->n_categories, nb = t->n_brands = p->n_brands;
    t->n_styles = p->n_styles;
    size_t na = t->n_arms = p->campaign_arms ? p->campaign_arms + 1 : 0;
    if (nb == 0) {
        r->st = upf_err_set(r->err, UPF_ERR_FORMAT, "%s: params_json: n_brands is not resolved", r->path);
        return;
    }
    g = r_group(r, f, "catalog");
    t->category_names = r_strings(r, g, "category_names", nc);
    t->category_rebuy_days = r_array(r, g, "category_rebuy_days", H5T_NATIVE_FLOAT, H5T_FLOAT, nc, 0);
    t->category_vec = r_array(r, g, "category_vec", H5T_NATIVE_FLOAT, H5T_FLOAT, nc, K);
    t->brand_names = r_strings(r, g, "brand_names", nb);
    t->brand_category = r_array(r, g, "brand_category", H5T_NATIVE_INT32, H5T_INTEGER, nb, 0);
    t->brand_style = r_array(r, g, "brand_style", H5T_NATIVE_UINT8, H5T_INTEGER, nb, 0);
    t->style_vec = r_array(r, g, "style_vec", H5T_NATIVE_FLOAT, H5T_FLOAT, t->n_styles, K);
    t->item_category = r_array(r, g, "item_category", H5T_NATIVE_INT32, H5T_INTEGER, ni, 0);
    t->item_brand = r_array(r, g, "item_brand", H5T_NATIVE_INT32, H5T_INTEGER, ni, 0);
    t->item_band = r_array(r, g, "item_band", H5T_NATIVE_UINT8, H5T_INTEGER, ni, 0);
    t->item_popularity = r_array(r, g, "item_popularity", H5T_NATIVE_FLOAT, H5T_FLOAT, ni, 0);
    t->item_base_price = r_array(r, g, "item_base_price", H5T_NATIVE_FLOAT, H5T_FLOAT, ni, 0);
    t->item_rebuy_days = r_array(r, g, "item_rebuy_days", H5T_NATIVE_FLOAT, H5T_FLOAT, ni, 0);
    t->item_added = r_array(r, g, "item_added", H5T_NATIVE_INT64, H5T_INTEGER, ni, 0);
    t->item_removed = r_array(r, g, "item_removed", H5T_NATIVE_INT64, H5T_INTEGER, ni, 0);
    close_group(&g);
    /* indices from the file are checked before the oracles may use them */
    for (size_t b = 0; !r->st && b < nb; b++)
        if (t->brand_category[b] < 0 || (size_t)t->brand_category[b] >= nc || t->brand_style[b] >= t->n_styles)
            r->st = upf_err_set(r->err, UPF_ERR_CORRUPT, "%s: brand %zu: category %d or style %u out of range", r->path, b,
                                t->brand_category[b], (unsigned)t->brand_style[b]);
    for (size_t i = 0; !r->st && i < ni; i++)
        if (t->item_category[i] < 0 || (size_t)t->item_category[i] >= nc || t->item_brand[i] < 0 ||
            (size_t)t->item_brand[i] >= nb || t->item_band[i] >= UPF_SYNTH_BANDS)
            r->st = upf_err_set(r->err, UPF_ERR_CORRUPT, "%s: item %zu has an out-of-range category, brand or band",
                                r->path, i);

    g = r_group(r, f, "users");
    r_attr(r, g, "aft_intercept", H5T_NATIVE_DOUBLE, H5T_FLOAT, &t->aft_intercept);
    copy_fixed(r, g, "aft_region", t->aft_region, UPF_SYNTH_N_REGIONS);
    copy_fixed(r, g, "aft_age_band", t->aft_age, UPF_SYNTH_N_AGE_BANDS);
    copy_fixed(r, g, "aft_channel", t->aft_channel, UPF_SYNTH_N_CHANNELS);
    t->region_taste = r_array(r, g, "region_taste", H5T_NATIVE_FLOAT, H5T_FLOAT, UPF_SYNTH_N_REGIONS, K);
    t->age_taste = r_array(r, g, "age_taste", H5T_NATIVE_FLOAT, H5T_FLOAT, UPF_SYNTH_N_AGE_BANDS, K);
    t->user_region = r_array(r, g, "region", H5T_NATIVE_UINT8, H5T_INTEGER, nu, 0);
    t->user_age_band = r_array(r, g, "age_band", H5T_NATIVE_UINT8, H5T_INTEGER, nu, 0);
    t->user_channel = r_array(r, g, "channel", H5T_NATIVE_UINT8, H5T_INTEGER, nu, 0);
    t->user_taste = r_array(r, g, "taste", H5T_NATIVE_FLOAT, H5T_FLOAT, nu, K);
    t->user_price_sens = r_array(r, g, "price_sensitivity", H5T_NATIVE_FLOAT, H5T_FLOAT, nu, 0);
    t->user_scale_days = r_array(r, g, "scale_days", H5T_NATIVE_FLOAT, H5T_FLOAT, nu, 0);
    t->user_dropout = r_array(r, g, "dropout", H5T_NATIVE_FLOAT, H5T_FLOAT, nu, 0);
    t->user_rebuy_factor = r_array(r, g, "rebuy_factor", H5T_NATIVE_FLOAT, H5T_FLOAT, nu, 0);
    t->user_death = r_array(r, g, "death", H5T_NATIVE_INT64, H5T_INTEGER, nu, 0);
    t->user_occasions = r_array(r, g, "occasions", H5T_NATIVE_INT32, H5T_INTEGER, nu, 0);
    close_group(&g);

    g = r_group(r, f, "campaign");
    r_attr(r, g, "time", H5T_NATIVE_INT64, H5T_INTEGER, &t->campaign_time);
    r_attr(r, g, "window", H5T_NATIVE_INT64, H5T_INTEGER, &t->campaign_window);
    r_attr(r, g, "propensity", H5T_NATIVE_DOUBLE, H5T_FLOAT, &t->arm_propensity);
    r_attr(r, g, "expected_quantity", H5T_NATIVE_DOUBLE, H5T_FLOAT, &t->expected_quantity);
    if (na) {
        t->arm_names = r_strings(r, g, "arm_names", na);
        copy_fixed(r, g, "arm_discount", t->arm_discount, na);
        t->user_arm = r_array(r, g, "arm", H5T_NATIVE_INT16, H5T_INTEGER, nu, 0);
        t->user_alive_at_send = r_array(r, g, "alive_at_send", H5T_NATIVE_UINT8, H5T_INTEGER, nu, 0);
        t->user_segment = r_array(r, g, "segment", H5T_NATIVE_INT8, H5T_INTEGER, nu, na);
        t->user_conv_prob = r_array(r, g, "conversion_prob", H5T_NATIVE_FLOAT, H5T_FLOAT, nu, na);
        t->user_revenue_mean = r_array(r, g, "revenue_mean", H5T_NATIVE_FLOAT, H5T_FLOAT, nu, na);
    }
    close_group(&g);

    g = r_group(r, f, "logging");
    r_attr(r, g, "logging_value", H5T_NATIVE_DOUBLE, H5T_FLOAT, &t->logging_value);
    r_attr(r, g, "oracle_value", H5T_NATIVE_DOUBLE, H5T_FLOAT, &t->oracle_value);
    if (p->n_impressions) {
        size_t M = t->n_candidates = p->n_candidates, P = t->n_positions = p->n_positions;
        size_t nx = t->n_contexts = (size_t)p->n_impressions;
        t->candidates = r_array(r, g, "candidates", H5T_NATIVE_INT32, H5T_INTEGER, M, 0);
        t->position_bias = r_array(r, g, "position_bias", H5T_NATIVE_FLOAT, H5T_FLOAT, P, 0);
        t->logging_prop = r_array(r, g, "propensity", H5T_NATIVE_DOUBLE, H5T_FLOAT, M, P);
        t->context_user = r_array(r, g, "context_user", H5T_NATIVE_INT32, H5T_INTEGER, nx, 0);
        t->context_time = r_array(r, g, "context_time", H5T_NATIVE_INT64, H5T_INTEGER, nx, 0);
        t->context_relevance = r_array(r, g, "relevance", H5T_NATIVE_FLOAT, H5T_FLOAT, nx, M);
        for (size_t j = 0; !r->st && j < M; j++)
            if (t->candidates[j] < 0 || (size_t)t->candidates[j] >= ni)
                r->st = upf_err_set(r->err, UPF_ERR_CORRUPT, "%s: candidate %zu out of range", r->path, j);
    }
    close_group(&g);
}

upf_status upf_synth_truth_read(const char *path, upf_synth_truth **out, upf_err *err)
{
    rctx r = { path, err, UPF_OK };
    upf_synth_truth *t = NULL;
    hid_t f = H5I_INVALID_HID;
    *out = NULL;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (!(t = upf_calloc(1, sizeof *t))) return upf_err_set(err, UPF_ERR_NOMEM, "%s: out of memory", path);
    if (H5Fis_hdf5(path) <= 0) {
        r.st = h5_fail(err, UPF_ERR_FORMAT, path, "not an HDF5 file (or cannot be opened)");
        goto done;
    }
    if ((f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0) {
        r.st = h5_fail(err, UPF_ERR_IO, path, "cannot open");
        goto done;
    }
    read_all(&r, f, t);
done:
    if (f >= 0) H5Fclose(f);
    if (r.st) {
        upf_synth_truth_free(t);
        return r.st;
    }
    *out = t;
    return UPF_OK;
}
