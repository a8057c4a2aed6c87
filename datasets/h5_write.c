/* h5_write.c - writes a upf_dataset as an HDF5 file of schema v1
 * (datasets/README.md), atomically: everything goes to a temporary name
 * beside the target (registered for removal on a signal), and only a file
 * that HDF5 closed without error is renamed over the target.
 *
 * Row datasets are chunked (opts.chunk_rows) and, when asked, shuffled and
 * deflated; strings are fixed-length UTF-8 (NUL-padded) and written in blocks
 * so no full copy of a string table is made. Object timestamps are off, so
 * the same dataset always gives the same bytes.
 */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../model/outfile.h"
#include "h5_internal.h"

typedef struct wr {
    hid_t file;
    const char *path; /* the final name, for messages */
    const upf_h5_write_opts *o;
    upf_err *err;
} wr;

upf_h5_write_opts upf_h5_write_opts_default(void)
{
    upf_h5_write_opts o;
    o.deflate = 1;
    o.deflate_events = 0;
    o.chunk_rows = (size_t)1 << 18;
    return o;
}

static upf_status wfail(wr *w, const char *obj, const char *what)
{
    return upf_h5_fail(w->err, UPF_ERR_IO, w->path, obj, "%s", what);
}

static upf_status make_group(wr *w, const char *name, int track_order, hid_t *out)
{
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    *out = -1;
    if (gcpl < 0 || H5Pset_obj_track_times(gcpl, 0) < 0 ||
        (track_order && H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) < 0) ||
        (*out = H5Gcreate2(w->file, name, H5P_DEFAULT, gcpl, H5P_DEFAULT)) < 0) {
        if (gcpl >= 0) H5Pclose(gcpl);
        return wfail(w, name, "cannot create the group");
    }
    H5Pclose(gcpl);
    return UPF_OK;
}

/* Creates dataset name (absolute) of n rows. level: deflate level, 0 none. */
static upf_status create_dset(wr *w, const char *name, hid_t ftype, size_t n, size_t chunk_rows, int level, hid_t *out)
{
    upf_status st = UPF_OK;
    hid_t sp = -1, dcpl = -1;
    hsize_t dim = n;
    *out = -1;
    if ((sp = H5Screate_simple(1, &dim, NULL)) < 0 || (dcpl = H5Pcreate(H5P_DATASET_CREATE)) < 0 ||
        H5Pset_obj_track_times(dcpl, 0) < 0) {
        st = wfail(w, name, "cannot set up the dataset");
        goto done;
    }
    if (n > 0) {
        hsize_t chunk = chunk_rows < n ? chunk_rows : n;
        if (chunk < 1) chunk = 1;
        if (H5Pset_chunk(dcpl, 1, &chunk) < 0 ||
            (level > 0 && H5Tget_size(ftype) > 1 && H5Tget_class(ftype) != H5T_STRING && H5Pset_shuffle(dcpl) < 0) ||
            (level > 0 && H5Pset_deflate(dcpl, (unsigned)level) < 0)) {
            st = wfail(w, name, "cannot set chunking or compression");
            goto done;
        }
    }
    if ((*out = H5Dcreate2(w->file, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT)) < 0) st = wfail(w, name, "cannot create the dataset");
done:
    if (dcpl >= 0) H5Pclose(dcpl);
    if (sp >= 0) H5Sclose(sp);
    return st;
}

static upf_status write_rows(wr *w, hid_t d, const char *name, hid_t mtype, size_t row0, size_t n, const void *data)
{
    upf_status st = UPF_OK;
    hid_t fs = -1, ms = -1;
    hsize_t start = row0, count = n;
    if (n == 0) return UPF_OK;
    if ((fs = H5Dget_space(d)) < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count, NULL) < 0 ||
        (ms = H5Screate_simple(1, &count, NULL)) < 0 || H5Dwrite(d, mtype, ms, fs, H5P_DEFAULT, data) < 0)
        st = wfail(w, name, "cannot write (disk full?)");
    if (ms >= 0) H5Sclose(ms);
    if (fs >= 0) H5Sclose(fs);
    return st;
}

/* A numeric column: n elements of elem bytes, memory type mtype, file type ftype. */
static upf_status put_column(wr *w, const char *name, hid_t ftype, hid_t mtype, size_t elem, const void *data, size_t n,
                             int level)
{
    hid_t d = -1;
    upf_status st = create_dset(w, name, ftype, n, w->o->chunk_rows, level, &d);
    if (st) return st;
    size_t block = w->o->chunk_rows * ((UPF_H5_BLOCK_ROWS + w->o->chunk_rows - 1) / w->o->chunk_rows);
    for (size_t r = 0; r < n && !st; r += block) {
        if (upf_interrupted()) {
            st = upf_err_set(w->err, UPF_ERR_INTERRUPTED, "%s: %s: interrupted", w->path, name);
            break;
        }
        size_t m = n - r < block ? n - r : block;
        st = write_rows(w, d, name, mtype, r, m, (const char *)data + r * elem);
    }
    if (H5Dclose(d) < 0 && !st) st = wfail(w, name, "cannot close the dataset (disk full?)");
    return st;
}

static upf_status put_i32(wr *w, const char *name, const int32_t *v, size_t n, int level)
{
    return put_column(w, name, H5T_STD_I32LE, H5T_NATIVE_INT32, sizeof *v, v, n, level);
}
static upf_status put_i64(wr *w, const char *name, const int64_t *v, size_t n, int level)
{
    return put_column(w, name, H5T_STD_I64LE, H5T_NATIVE_INT64, sizeof *v, v, n, level);
}
static upf_status put_i16(wr *w, const char *name, const int16_t *v, size_t n, int level)
{
    return put_column(w, name, H5T_STD_I16LE, H5T_NATIVE_INT16, sizeof *v, v, n, level);
}
static upf_status put_u8(wr *w, const char *name, const uint8_t *v, size_t n, int level)
{
    return put_column(w, name, H5T_STD_U8LE, H5T_NATIVE_UINT8, sizeof *v, v, n, level);
}
static upf_status put_f32(wr *w, const char *name, const float *v, size_t n, int level)
{
    return put_column(w, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, sizeof *v, v, n, level);
}

static upf_status put_enum(wr *w, const char *name, hid_t (*make)(int), const uint8_t *v, size_t n, int level)
{
    hid_t ft = make(1), mt = make(0);
    upf_status st = (ft < 0 || mt < 0) ? wfail(w, name, "cannot make the enum type")
                                       : put_column(w, name, ft, mt, sizeof *v, v, n, level);
    if (ft >= 0) H5Tclose(ft);
    if (mt >= 0) H5Tclose(mt);
    return st;
}

/* Fixed-length UTF-8 strings, as long as the longest (at least 1 byte). */
static upf_status put_strings(wr *w, const char *name, const upf_strings *s, int level)
{
    upf_status st = UPF_OK;
    size_t n = s->n, size = 1;
    for (size_t i = 0; i < n; i++) {
        size_t len = (size_t)(s->off[i + 1] - s->off[i] - 1);
        if (len > size) size = len;
    }
    hid_t t = upf_h5_str_fixed(size), d = -1;
    char *buf = NULL;
    if (t < 0) return wfail(w, name, "cannot make the string type");
    size_t chunk = (1u << 20) / size;
    if (chunk < 1) chunk = 1;
    if ((st = create_dset(w, name, t, n, chunk, level, &d))) goto done;
    size_t block = chunk * (((4u << 20) / size + chunk - 1) / chunk);
    if (block > n) block = n;
    size_t bytes;
    if (n && (upf_mul_size(block, size, &bytes) || !(buf = upf_malloc(bytes)))) {
        st = upf_err_set(w->err, UPF_ERR_NOMEM, "%s: %s: out of memory for a block of strings", w->path, name);
        goto done;
    }
    for (size_t r = 0; r < n && !st; r += block) {
        size_t m = n - r < block ? n - r : block;
        memset(buf, 0, m * size);
        for (size_t k = 0; k < m; k++) {
            size_t i = r + k;
            memcpy(buf + k * size, s->data + s->off[i], (size_t)(s->off[i + 1] - s->off[i] - 1));
        }
        st = write_rows(w, d, name, t, r, m, buf);
    }
done:
    upf_free(buf);
    if (d >= 0 && H5Dclose(d) < 0 && !st) st = wfail(w, name, "cannot close the dataset (disk full?)");
    H5Tclose(t);
    return st;
}

static upf_status put_str_attr(wr *w, hid_t obj, const char *obj_name, const char *attr, const char *val)
{
    upf_status st = UPF_OK;
    hid_t t = upf_h5_str_fixed(strlen(val)), sp = H5Screate(H5S_SCALAR), a = -1;
    if (t < 0 || sp < 0 || (a = H5Acreate2(obj, attr, t, sp, H5P_DEFAULT, H5P_DEFAULT)) < 0 || H5Awrite(a, t, val) < 0)
        st = upf_h5_fail(w->err, UPF_ERR_IO, w->path, obj_name, "cannot write attribute %s", attr);
    if (a >= 0) H5Aclose(a);
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    return st;
}

static upf_status put_attrs(wr *w, const char *group, const char *prefix, const upf_attrs *a)
{
    upf_status st;
    char name[512];
    if (a->n_rows == 0) return UPF_OK;
    size_t nnz = (size_t)a->ptr[a->n_rows];
    snprintf(name, sizeof name, "%s/%s_ptr", group, prefix);
    if ((st = put_i64(w, name, a->ptr, a->n_rows + 1, w->o->deflate))) return st;
    snprintf(name, sizeof name, "%s/%s_index", group, prefix);
    if ((st = put_i32(w, name, a->index, nnz, w->o->deflate))) return st;
    snprintf(name, sizeof name, "%s/%s_value", group, prefix);
    if ((st = put_f32(w, name, a->value, nnz, w->o->deflate))) return st;
    snprintf(name, sizeof name, "%s/%s_names", group, prefix);
    return put_strings(w, name, &a->names, w->o->deflate);
}

static upf_status write_users_items(wr *w, const upf_dataset *ds)
{
    upf_status st;
    hid_t g = -1;
    int z = w->o->deflate;
    if ((st = make_group(w, "/users", 0, &g))) return st;
    H5Gclose(g);
    if ((st = put_strings(w, "/users/id", &ds->user_ids, z))) return st;
    if (ds->user_signup && (st = put_i64(w, "/users/signup", ds->user_signup, ds->n_users, z))) return st;
    if (ds->user_birthday && (st = put_i64(w, "/users/birthday", ds->user_birthday, ds->n_users, z))) return st;
    if ((st = put_attrs(w, "/users", "attr", &ds->user_attrs))) return st;
    if ((st = make_group(w, "/items", 0, &g))) return st;
    H5Gclose(g);
    if ((st = put_strings(w, "/items/id", &ds->item_ids, z))) return st;
    if (ds->item_price && (st = put_f32(w, "/items/price", ds->item_price, ds->n_items, z))) return st;
    if (ds->item_added && (st = put_i64(w, "/items/added", ds->item_added, ds->n_items, z))) return st;
    if (ds->item_in_stock && (st = put_u8(w, "/items/in_stock", ds->item_in_stock, ds->n_items, z))) return st;
    if ((st = put_attrs(w, "/items", "attr", &ds->item_attrs))) return st;
    if ((st = make_group(w, "/queries", 0, &g))) return st;
    H5Gclose(g);
    return put_strings(w, "/queries/text", &ds->queries, z);
}

static upf_status write_events(wr *w, const upf_dataset *ds)
{
    upf_status st;
    hid_t g = -1;
    size_t n = (size_t)ds->n_events;
    int z = w->o->deflate_events < 0 ? w->o->deflate : w->o->deflate_events;
    if ((st = make_group(w, "/events", 0, &g))) return st;
    H5Gclose(g);
    if ((st = put_i32(w, "/events/user", ds->ev_user, n, z))) return st;
    if ((st = put_i32(w, "/events/item", ds->ev_item, n, z))) return st;
    if ((st = put_i64(w, "/events/time", ds->ev_time, n, z))) return st;
    if ((st = put_enum(w, "/events/type", upf_h5_event_type_enum, ds->ev_type, n, z))) return st;
    if ((st = put_f32(w, "/events/value", ds->ev_value, n, z))) return st;
    if (ds->ev_query && (st = put_i32(w, "/events/query", ds->ev_query, n, z))) return st;
    return put_i64(w, "/events/user_ptr", ds->user_ptr, ds->n_users + 1, w->o->deflate);
}

static upf_status write_item_events(wr *w, const upf_dataset *ds)
{
    upf_status st;
    hid_t g = -1;
    const upf_item_events *ie = &ds->item_events;
    int z = w->o->deflate;
    if (ie->n == 0) return UPF_OK;
    if ((st = make_group(w, "/item_events", 0, &g))) return st;
    H5Gclose(g);
    if ((st = put_i32(w, "/item_events/item", ie->item, ie->n, z))) return st;
    if ((st = put_i64(w, "/item_events/time", ie->time, ie->n, z))) return st;
    if ((st = put_enum(w, "/item_events/kind", upf_h5_item_kind_enum, ie->kind, ie->n, z))) return st;
    return put_f32(w, "/item_events/value", ie->value, ie->n, z);
}

static upf_status write_campaigns(wr *w, const upf_dataset *ds)
{
    upf_status st;
    hid_t g = -1;
    int z = w->o->deflate;
    char name[700];
    if (ds->n_campaigns == 0) return UPF_OK;
    /* Creation order is tracked so campaigns read back in the order written. */
    if ((st = make_group(w, "/campaigns", 1, &g))) return st;
    H5Gclose(g);
    for (size_t i = 0; i < ds->n_campaigns; i++) {
        const upf_campaign *c = &ds->campaigns[i];
        char base[400];
        snprintf(base, sizeof base, "/campaigns/%s", c->name);
        if ((st = make_group(w, base, 0, &g))) return st;
        H5Gclose(g);
        snprintf(name, sizeof name, "%s/user", base);
        if ((st = put_i32(w, name, c->user, c->n, z))) return st;
        snprintf(name, sizeof name, "%s/treatment", base);
        if ((st = put_i16(w, name, c->arm, c->n, z))) return st;
        snprintf(name, sizeof name, "%s/arm_names", base);
        if ((st = put_strings(w, name, &c->arm_names, z))) return st;
        if (c->propensity) {
            snprintf(name, sizeof name, "%s/propensity", base);
            if ((st = put_f32(w, name, c->propensity, c->n, z))) return st;
        }
        if (c->time) {
            snprintf(name, sizeof name, "%s/time", base);
            if ((st = put_i64(w, name, c->time, c->n, z))) return st;
        }
        /* outcome_names keeps the declared order; h5py lists links by name. */
        upf_strbuf sb = { 0 };
        upf_strings on = { 0 };
        for (size_t k = 0; k < c->n_outcomes; k++)
            if (upf_strbuf_append(&sb, c->outcome_names[k], strlen(c->outcome_names[k]))) {
                upf_strbuf_free(&sb);
                return upf_err_set(w->err, UPF_ERR_NOMEM, "%s: out of memory", w->path);
            }
        if (upf_strbuf_take(&sb, &on)) {
            upf_strbuf_free(&sb);
            return upf_err_set(w->err, UPF_ERR_NOMEM, "%s: out of memory", w->path);
        }
        snprintf(name, sizeof name, "%s/outcome_names", base);
        st = put_strings(w, name, &on, z);
        upf_strings_free(&on);
        if (st) return st;
        for (size_t k = 0; k < c->n_outcomes; k++) {
            snprintf(name, sizeof name, "%s/outcome_%s", base, c->outcome_names[k]);
            if ((st = put_f32(w, name, c->outcome[k], c->n, z))) return st;
        }
    }
    return UPF_OK;
}

static upf_status write_messages(wr *w, const upf_dataset *ds)
{
    upf_status st;
    hid_t g = -1;
    const upf_messages *m = &ds->messages;
    int z = w->o->deflate;
    if (m->n == 0) return UPF_OK;
    if ((st = make_group(w, "/messages", 0, &g))) return st;
    H5Gclose(g);
    if ((st = put_i32(w, "/messages/user", m->user, m->n, z))) return st;
    if ((st = put_i64(w, "/messages/time", m->time, m->n, z))) return st;
    if ((st = put_u8(w, "/messages/trigger", m->trigger, m->n, z))) return st;
    if ((st = put_i32(w, "/messages/item", m->item, m->n, z))) return st;
    if ((st = put_i16(w, "/messages/arm", m->arm, m->n, z))) return st;
    return put_strings(w, "/messages/trigger_names", &m->trigger_names, z);
}

static upf_status write_impressions(wr *w, const upf_dataset *ds)
{
    upf_status st;
    hid_t g = -1;
    const upf_impressions *im = &ds->impressions;
    int z = w->o->deflate;
    if (im->n == 0 && !im->policy) return UPF_OK;
    if ((st = make_group(w, "/impressions", 0, &g))) return st;
    if (im->policy) st = put_str_attr(w, g, "/impressions", "policy", im->policy);
    H5Gclose(g);
    if (st) return st;
    if ((st = put_i32(w, "/impressions/user", im->user, im->n, z))) return st;
    if ((st = put_i64(w, "/impressions/time", im->time, im->n, z))) return st;
    if ((st = put_i32(w, "/impressions/item", im->item, im->n, z))) return st;
    if ((st = put_i16(w, "/impressions/position", im->position, im->n, z))) return st;
    if ((st = put_f32(w, "/impressions/reward", im->reward, im->n, z))) return st;
    if ((st = put_f32(w, "/impressions/propensity", im->propensity, im->n, z))) return st;
    return put_attrs(w, "/impressions", "context", &im->context);
}

static upf_status write_root(wr *w, const upf_dataset *ds)
{
    upf_status st;
    hid_t t = -1, sp = -1, a = -1;
    if ((st = put_str_attr(w, w->file, NULL, "format", UPF_DATASET_FORMAT))) return st;
    int32_t v = UPF_DATASET_VERSION;
    if ((t = H5Tcopy(H5T_STD_I32LE)) < 0 || (sp = H5Screate(H5S_SCALAR)) < 0 ||
        (a = H5Acreate2(w->file, "version", t, sp, H5P_DEFAULT, H5P_DEFAULT)) < 0 || H5Awrite(a, H5T_NATIVE_INT32, &v) < 0)
        st = upf_h5_fail(w->err, UPF_ERR_IO, w->path, NULL, "cannot write the root attribute version");
    if (a >= 0) H5Aclose(a);
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    if (st) return st;
    if (ds->source && (st = put_str_attr(w, w->file, NULL, "source", ds->source))) return st;
    char now[32];
    if (!ds->created) upf_format_iso_time((int64_t)time(NULL), now, sizeof now);
    return put_str_attr(w, w->file, NULL, "created", ds->created ? ds->created : now);
}

upf_status upf_dataset_write_opts(const upf_dataset *ds, const char *path, const upf_h5_write_opts *opts, upf_err *err)
{
    upf_status st = UPF_OK;
    hid_t fapl = -1, fcpl = -1;
    char *tmp = NULL;
    upf_h5_quiet();
    if (!ds || !path || !opts) return upf_err_set(err, UPF_ERR_ARG, "write: NULL argument");
    if (opts->chunk_rows < 1 || opts->deflate < 0 || opts->deflate > 9 || opts->deflate_events < -1 || opts->deflate_events > 9)
        return upf_err_set(err, UPF_ERR_ARG, "%s: write options: chunk_rows %zu, deflate %d, deflate_events %d (expected >= 1, 0..9, -1..9)",
                           path, opts->chunk_rows, opts->deflate, opts->deflate_events);
    if ((st = upf_dataset_validate(ds, err))) {
        upf_err_prefix(err, "%s: refusing to write an invalid dataset", path);
        return st;
    }
    wr w = { -1, path, opts, err };
    if (!(tmp = upf_tmp_name(path))) return upf_err_set(err, UPF_ERR_NOMEM, "%s: out of memory", path);
    upf_tmp_register(tmp);
    if ((fapl = H5Pcreate(H5P_FILE_ACCESS)) < 0 || H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0 ||
        H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_V110) < 0 ||
        (fcpl = H5Pcreate(H5P_FILE_CREATE)) < 0 || H5Pset_obj_track_times(fcpl, 0) < 0) {
        st = upf_h5_fail(err, UPF_ERR_IO, path, NULL, "cannot set up HDF5 file creation");
        goto fail;
    }
    if ((w.file = H5Fcreate(tmp, H5F_ACC_TRUNC, fcpl, fapl)) < 0) {
        st = upf_h5_fail(err, UPF_ERR_IO, path, NULL, "cannot create the temporary file %s", tmp);
        goto fail;
    }
    if ((st = write_root(&w, ds)) || (st = write_users_items(&w, ds)) || (st = write_events(&w, ds)) ||
        (st = write_item_events(&w, ds)) || (st = write_campaigns(&w, ds)) || (st = write_messages(&w, ds)) ||
        (st = write_impressions(&w, ds)))
        goto fail;
    /* Flush first: a flush that fails (disk full) still leaves the file
     * closable after the fail path has freed its space. */
    if (H5Fflush(w.file, H5F_SCOPE_GLOBAL) < 0) {
        st = upf_h5_fail(err, UPF_ERR_IO, path, NULL, "cannot write the file (disk full?)");
        goto fail;
    }
    hid_t f = w.file;
    w.file = -1;
    if (H5Fclose(f) < 0) {
        st = upf_h5_fail(err, UPF_ERR_IO, path, NULL, "cannot finish the file (disk full?)");
        goto fail;
    }
    st = upf_commit_rename(tmp, path, err);
    goto done;
fail:
    if (w.file >= 0) {
        /* Give the space back before HDF5 tries to write its metadata. */
        if (truncate(tmp, 0) != 0) { /* best effort */ }
        H5Fclose(w.file);
    }
    unlink(tmp);
    upf_tmp_unregister(tmp);
done:
    if (fcpl >= 0) H5Pclose(fcpl);
    if (fapl >= 0) H5Pclose(fapl);
    upf_free(tmp);
    return st;
}

upf_status upf_dataset_write(const upf_dataset *ds, const char *path, upf_err *err)
{
    upf_h5_write_opts o = upf_h5_write_opts_default();
    return upf_dataset_write_opts(ds, path, &o, err);
}
