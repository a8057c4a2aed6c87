/* trigger_io.c - a planned day as JSON lines and HDF5 (trigger_io.h).
 * HDF5 layout: /messages/{user int32, time int64, trigger uint8, item int32
 * (first shown item), arm int16 (1 = send)} and /messages/trigger_names
 * (fixed-length strings) as in the dataset schema; /plan/{items int32 (n, 8),
 * n_items int32, score float32, source uint8}, /plan/source_names, and
 * /plan/user_id (original ids). Root attribute format = "upfunnel-plan".
 */
#include <hdf5.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../model/json.h"
#include "../model/outfile.h"
#include "trigger_io.h"

static upf_status write_jsonl(const upf_dataset *ds, const upf_trig_msg *msgs, size_t n, const char *path,
                              upf_err *err)
{
    upf_outfile o;
    upf_status st = upf_outfile_open(&o, path, err);
    if (st) return st;
    char why[512], day[16];
    for (size_t j = 0; j < n; j++) {
        const upf_trig_msg *m = &msgs[j];
        time_t tt = (time_t)m->day;
        struct tm tmv;
        gmtime_r(&tt, &tmv);
        strftime(day, sizeof day, "%Y-%m-%d", &tmv);
        upf_trig_msg_why(m, why, sizeof why);
        fputs("{\"user\":", o.f);
        upf_json_write_string(o.f, upf_strings_get(&ds->user_ids, (size_t)m->user));
        fprintf(o.f, ",\"day\":\"%s\",\"trigger\":\"%s\",\"score\":%.6g,\"source\":\"%s\",\"items\":[", day,
                upf_trigger_name(m->trigger), (double)m->score, upf_trig_source_name(m->source));
        for (int32_t i = 0; i < m->n_items; i++) {
            if (i) fputc(',', o.f);
            upf_json_write_string(o.f, upf_strings_get(&ds->item_ids, (size_t)m->items[i]));
        }
        fputs("],\"why\":", o.f);
        upf_json_write_string(o.f, why);
        fputs("}\n", o.f);
    }
    return upf_outfile_commit(&o, err);
}

/* ---- HDF5 ---- */

static int put(hid_t g, const char *name, hid_t ftype, hid_t mtype, int rank, const hsize_t *dims, const void *v)
{
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    if (sp < 0) return -1;
    hid_t d = H5Dcreate2(g, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int rc = d < 0 || (dims[0] > 0 && H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) ? -1 : 0;
    if (d >= 0) H5Dclose(d);
    H5Sclose(sp);
    return rc;
}

/* n strings (get(i)) as fixed-length NUL-padded strings. */
static int put_strs(hid_t g, const char *name, size_t n, const char *(*get)(const void *, size_t), const void *ctx)
{
    size_t w = 1;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(get(ctx, i));
        if (l > w) w = l;
    }
    size_t bytes;
    if (upf_mul_size(n ? n : 1, w, &bytes)) return -1;
    char *buf = upf_calloc(bytes, 1);
    if (!buf) return -1;
    for (size_t i = 0; i < n; i++) memcpy(buf + i * w, get(ctx, i), strlen(get(ctx, i)));
    hid_t t = H5Tcopy(H5T_C_S1);
    int rc = -1;
    if (t >= 0 && H5Tset_size(t, w) >= 0 && H5Tset_strpad(t, H5T_STR_NULLPAD) >= 0 && H5Tset_cset(t, H5T_CSET_UTF8) >= 0) {
        hsize_t dims[1] = { n };
        rc = put(g, name, t, t, 1, dims, buf);
    }
    if (t >= 0) H5Tclose(t);
    upf_free(buf);
    return rc;
}

static const char *trig_name(const void *ctx, size_t i) { (void)ctx; return upf_trigger_name((int)i); }
static const char *src_name(const void *ctx, size_t i) { (void)ctx; return upf_trig_source_name((int)i); }
typedef struct uid_ctx { const upf_dataset *ds; const upf_trig_msg *m; } uid_ctx;
static const char *user_id(const void *ctx, size_t i)
{
    const uid_ctx *c = ctx;
    return upf_strings_get(&c->ds->user_ids, (size_t)c->m[i].user);
}

static upf_status write_h5(const upf_dataset *ds, const upf_trig_msg *msgs, size_t n, const char *path, upf_err *err)
{
    char *tmp = upf_tmp_name(path);
    if (!tmp) return upf_err_set(err, UPF_ERR_NOMEM, "%s: out of memory", path);
    upf_tmp_register(tmp);
    size_t nn = n ? n : 1, n_items;
    int32_t *user = upf_malloc(nn * sizeof *user), *item = upf_malloc(nn * sizeof *item);
    int32_t *nit = upf_malloc(nn * sizeof *nit);
    int64_t *tm = upf_malloc(nn * sizeof *tm);
    uint8_t *trig = upf_malloc(nn), *src = upf_malloc(nn);
    int16_t *arm = upf_malloc(nn * sizeof *arm);
    float *score = upf_malloc(nn * sizeof *score);
    int32_t *items = upf_mul_size(nn, UPF_TRIG_MAX_ITEMS, &n_items) ? NULL : upf_malloc(n_items * sizeof *items);
    upf_status st = UPF_OK;
    hid_t f = -1, g = -1, p = -1;
    if (!user || !item || !nit || !tm || !trig || !src || !arm || !score || !items) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    for (size_t j = 0; j < n; j++) {
        const upf_trig_msg *m = &msgs[j];
        user[j] = m->user, tm[j] = m->day, trig[j] = (uint8_t)m->trigger, arm[j] = 1, nit[j] = m->n_items;
        item[j] = m->n_items ? m->items[0] : -1, score[j] = m->score, src[j] = (uint8_t)m->source;
        for (int i = 0; i < UPF_TRIG_MAX_ITEMS; i++) items[j * UPF_TRIG_MAX_ITEMS + (size_t)i] = i < m->n_items ? m->items[i] : -1;
    }
    f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) {
        st = upf_err_set(err, UPF_ERR_IO, "%s: cannot create the file", path);
        goto done;
    }
    g = H5Gcreate2(f, "messages", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    p = H5Gcreate2(f, "plan", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t d1[1] = { n }, d2[2] = { n, UPF_TRIG_MAX_ITEMS };
    uid_ctx uc = { ds, msgs };
    if (g < 0 || p < 0 || put(g, "user", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, d1, user) ||
        put(g, "time", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, d1, tm) ||
        put(g, "trigger", H5T_STD_U8LE, H5T_NATIVE_UINT8, 1, d1, trig) ||
        put(g, "item", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, d1, item) ||
        put(g, "arm", H5T_STD_I16LE, H5T_NATIVE_INT16, 1, d1, arm) ||
        put_strs(g, "trigger_names", UPF_TRIG_COUNT, trig_name, NULL) ||
        put(p, "items", H5T_STD_I32LE, H5T_NATIVE_INT32, 2, d2, items) ||
        put(p, "n_items", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, d1, nit) ||
        put(p, "score", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, d1, score) ||
        put(p, "source", H5T_STD_U8LE, H5T_NATIVE_UINT8, 1, d1, src) ||
        put_strs(p, "source_names", UPF_TRIG_SRC_COUNT, src_name, NULL) || put_strs(p, "user_id", n, user_id, &uc)) {
        st = upf_err_set(err, UPF_ERR_IO, "%s: cannot write the plan", path);
        goto done;
    }
    {
        hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR);
        const char *fmt = "upfunnel-plan";
        H5Tset_size(t, strlen(fmt));
        hid_t a = H5Acreate2(f, "format", t, sp, H5P_DEFAULT, H5P_DEFAULT);
        if (a < 0 || H5Awrite(a, t, fmt) < 0) st = upf_err_set(err, UPF_ERR_IO, "%s: cannot write the plan", path);
        if (a >= 0) H5Aclose(a);
        H5Sclose(sp), H5Tclose(t);
    }
done:
    if (p >= 0) H5Gclose(p);
    if (g >= 0) H5Gclose(g);
    if (f >= 0 && H5Fclose(f) < 0 && !st) st = upf_err_set(err, UPF_ERR_IO, "%s: cannot close the file", path);
    upf_free(user), upf_free(item), upf_free(nit), upf_free(tm), upf_free(trig), upf_free(src), upf_free(arm);
    upf_free(score), upf_free(items);
    if (!st) st = upf_commit_rename(tmp, path, err);
    else remove(tmp), upf_tmp_unregister(tmp);
    upf_free(tmp);
    return st;
}

upf_status upf_trig_plan_write(const upf_dataset *ds, const upf_trig_msg *msgs, size_t n, const char *jsonl_path,
                               const char *h5_path, upf_err *err)
{
    upf_status st = UPF_OK;
    if (jsonl_path) st = write_jsonl(ds, msgs, n, jsonl_path, err);
    if (!st && h5_path) st = write_h5(ds, msgs, n, h5_path, err);
    return st;
}
