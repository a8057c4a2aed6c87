/* h5_read.c - reads a whole dataset file (schema v1, datasets/README.md) into
 * a upf_dataset.
 *
 * Every dataset is checked for class, rank, length and storage before a byte
 * is read, then read by hyperslab in blocks of whole chunks straight into its
 * final array (no intermediate copies; integer and float widths other than
 * ours are converted by HDF5). Lengths that index other arrays (attr_ptr's
 * last entry, user_ptr) are bounded here; everything else is checked by
 * upf_dataset_validate at the end. Optional parts that are absent stay NULL.
 */
#include <string.h>

#include "h5_internal.h"

typedef struct rd {
    hid_t file;
    const char *path;
    upf_err *err;
} rd;

static upf_status nomem(rd *r, const char *name, size_t n)
{
    return upf_err_set(r->err, UPF_ERR_NOMEM, "%s: %s: out of memory for %zu rows", r->path, name, n);
}

/* Reads the column name into a new array (*out owned). want_n < 0: any length. */
static upf_status column(rd *r, const char *name, upf_h5_class cls, int64_t want_n, const char *why, hid_t memtype,
                         size_t elem, void **out, size_t *n_out)
{
    hid_t d = -1;
    size_t n = 0, bytes;
    void *p = NULL;
    *out = NULL;
    upf_status st = upf_h5_open_column(r->file, r->path, name, cls, want_n, why, 0, &d, &n, r->err);
    if (st) return st;
    if (cls == UPF_H5_CODE) {
        int events = strcmp(name, "/events/type") == 0;
        st = upf_h5_check_codes(d, events ? upf_event_type_name : upf_item_event_kind_name,
                                events ? UPF_EV_TYPE_COUNT : UPF_IE_KIND_COUNT, r->path, name, r->err);
        if (st) goto done;
    }
    if (upf_mul_size(n, elem, &bytes) || !(p = upf_malloc(bytes))) {
        st = nomem(r, name, n);
        goto done;
    }
    upf_advise_huge(p, bytes);
    if ((st = upf_h5_read_column(d, memtype, n, elem, p, r->path, name, r->err))) goto done;
    *out = p;
    p = NULL;
    if (n_out) *n_out = n;
done:
    upf_free(p);
    H5Dclose(d);
    return st;
}

static upf_status opt_column(rd *r, const char *name, upf_h5_class cls, int64_t want_n, const char *why, hid_t memtype,
                             size_t elem, void **out)
{
    *out = NULL;
    int ex = upf_h5_exists(r->file, name);
    if (ex < 0) return upf_h5_fail(r->err, UPF_ERR_FORMAT, r->path, name, "cannot look up");
    return ex ? column(r, name, cls, want_n, why, memtype, elem, out, NULL) : UPF_OK;
}

static upf_status enum_column(rd *r, const char *name, int64_t want_n, const char *why, hid_t (*make)(int), uint8_t **out)
{
    hid_t mt = make(0);
    if (mt < 0) return upf_h5_fail(r->err, UPF_ERR_FORMAT, r->path, name, "cannot make the enum type");
    /* Integer datasets (a hand-made file) are read as plain uint8 codes. */
    hid_t d = H5Dopen2(r->file, name, H5P_DEFAULT), t = d >= 0 ? H5Dget_type(d) : -1;
    int is_enum = t >= 0 && H5Tget_class(t) == H5T_ENUM;
    if (t >= 0) H5Tclose(t);
    if (d >= 0) H5Dclose(d);
    H5Eclear2(H5E_DEFAULT);
    upf_status st = column(r, name, UPF_H5_CODE, want_n, why, is_enum ? mt : H5T_NATIVE_UINT8, 1, (void **)out, NULL);
    H5Tclose(mt);
    return st;
}

static int group_exists(rd *r, const char *name) { return upf_h5_exists(r->file, name); }

/* group/prefix_{ptr,index,value,names}: all four or none. */
static upf_status read_attrs(rd *r, const char *group, const char *prefix, size_t n_rows, upf_attrs *a)
{
    upf_status st;
    char pn[300], in[300], vn[300], nn[300], why[64];
    size_t nnz = 0, nv = 0;
    memset(a, 0, sizeof *a);
    snprintf(pn, sizeof pn, "%s/%s_ptr", group, prefix);
    snprintf(in, sizeof in, "%s/%s_index", group, prefix);
    snprintf(vn, sizeof vn, "%s/%s_value", group, prefix);
    snprintf(nn, sizeof nn, "%s/%s_names", group, prefix);
    int e[4] = { group_exists(r, pn), group_exists(r, in), group_exists(r, vn), group_exists(r, nn) };
    if (e[0] < 0 || e[1] < 0 || e[2] < 0 || e[3] < 0) return upf_h5_fail(r->err, UPF_ERR_FORMAT, r->path, pn, "cannot look up");
    if (!e[0] && !e[1] && !e[2] && !e[3]) return UPF_OK;
    if (!(e[0] && e[1] && e[2] && e[3]))
        return upf_err_set(r->err, UPF_ERR_FORMAT, "%s: %s/%s_*: expected all of %s_ptr, _index, _value and _names, or none", r->path,
                           group, prefix, prefix);
    snprintf(why, sizeof why, "one more than the %zu rows", n_rows);
    if ((st = column(r, pn, UPF_H5_INT, (int64_t)n_rows + 1, why, H5T_NATIVE_INT64, sizeof *a->ptr, (void **)&a->ptr, NULL))) goto fail;
    if ((st = column(r, in, UPF_H5_INT, -1, NULL, H5T_NATIVE_INT32, sizeof *a->index, (void **)&a->index, &nnz))) goto fail;
    snprintf(why, sizeof why, "as %s_index", prefix);
    if ((st = column(r, vn, UPF_H5_FLOAT, (int64_t)nnz, why, H5T_NATIVE_FLOAT, sizeof *a->value, (void **)&a->value, &nv))) goto fail;
    if ((st = upf_h5_read_strings(r->file, r->path, nn, -1, NULL, &a->names, r->err))) goto fail;
    if (a->ptr[n_rows] != (int64_t)nnz) {
        st = upf_err_set(r->err, UPF_ERR_FORMAT, "%s: %s: last entry %lld (expected %zu, the length of %s_index)", r->path, pn,
                         (long long)a->ptr[n_rows], nnz, prefix);
        goto fail;
    }
    a->n_rows = n_rows;
    return UPF_OK;
fail:
    upf_attrs_free(a);
    return st;
}

static upf_status read_users_items(rd *r, upf_dataset *ds)
{
    upf_status st;
    if ((st = upf_h5_read_strings(r->file, r->path, "/users/id", -1, NULL, &ds->user_ids, r->err))) return st;
    ds->n_users = ds->user_ids.n;
    int64_t nu = (int64_t)ds->n_users;
    if ((st = opt_column(r, "/users/signup", UPF_H5_INT, nu, "one per user", H5T_NATIVE_INT64, 8, (void **)&ds->user_signup))) return st;
    if ((st = opt_column(r, "/users/birthday", UPF_H5_INT, nu, "one per user", H5T_NATIVE_INT64, 8, (void **)&ds->user_birthday)))
        return st;
    if ((st = read_attrs(r, "/users", "attr", ds->n_users, &ds->user_attrs))) return st;

    if ((st = upf_h5_read_strings(r->file, r->path, "/items/id", -1, NULL, &ds->item_ids, r->err))) return st;
    ds->n_items = ds->item_ids.n;
    int64_t ni = (int64_t)ds->n_items;
    if ((st = opt_column(r, "/items/price", UPF_H5_FLOAT, ni, "one per item", H5T_NATIVE_FLOAT, 4, (void **)&ds->item_price))) return st;
    if ((st = opt_column(r, "/items/added", UPF_H5_INT, ni, "one per item", H5T_NATIVE_INT64, 8, (void **)&ds->item_added))) return st;
    if ((st = opt_column(r, "/items/in_stock", UPF_H5_INT, ni, "one per item", H5T_NATIVE_UINT8, 1, (void **)&ds->item_in_stock)))
        return st;
    if ((st = read_attrs(r, "/items", "attr", ds->n_items, &ds->item_attrs))) return st;

    int ex = group_exists(r, "/queries/text");
    if (ex < 0) return upf_h5_fail(r->err, UPF_ERR_FORMAT, r->path, "/queries/text", "cannot look up");
    if (ex) return upf_h5_read_strings(r->file, r->path, "/queries/text", -1, NULL, &ds->queries, r->err);
    upf_strbuf empty = { 0 };
    if (upf_strbuf_take(&empty, &ds->queries)) return nomem(r, "/queries/text", 0);
    return UPF_OK;
}

static upf_status read_events(rd *r, upf_dataset *ds)
{
    upf_status st;
    size_t n = 0;
    if ((st = column(r, "/events/user", UPF_H5_INT, -1, NULL, H5T_NATIVE_INT32, 4, (void **)&ds->ev_user, &n))) return st;
    ds->n_events = (int64_t)n;
    int64_t ne = (int64_t)n;
    const char *why = "as /events/user";
    if ((st = column(r, "/events/item", UPF_H5_INT, ne, why, H5T_NATIVE_INT32, 4, (void **)&ds->ev_item, NULL))) return st;
    if ((st = column(r, "/events/time", UPF_H5_INT, ne, why, H5T_NATIVE_INT64, 8, (void **)&ds->ev_time, NULL))) return st;
    if ((st = enum_column(r, "/events/type", ne, why, upf_h5_event_type_enum, &ds->ev_type))) return st;
    if ((st = column(r, "/events/value", UPF_H5_FLOAT, ne, why, H5T_NATIVE_FLOAT, 4, (void **)&ds->ev_value, NULL))) return st;
    if ((st = opt_column(r, "/events/query", UPF_H5_INT, ne, why, H5T_NATIVE_INT32, 4, (void **)&ds->ev_query))) return st;
    return column(r, "/events/user_ptr", UPF_H5_INT, (int64_t)ds->n_users + 1, "one more than the users", H5T_NATIVE_INT64, 8,
                  (void **)&ds->user_ptr, NULL);
}

static upf_status read_item_events(rd *r, upf_dataset *ds)
{
    upf_status st;
    upf_item_events *ie = &ds->item_events;
    int ex = group_exists(r, "/item_events");
    if (ex <= 0) return ex < 0 ? upf_h5_fail(r->err, UPF_ERR_FORMAT, r->path, "/item_events", "cannot look up") : UPF_OK;
    size_t n = 0;
    if ((st = column(r, "/item_events/item", UPF_H5_INT, -1, NULL, H5T_NATIVE_INT32, 4, (void **)&ie->item, &n))) return st;
    ie->n = n;
    const char *why = "as /item_events/item";
    if ((st = column(r, "/item_events/time", UPF_H5_INT, (int64_t)n, why, H5T_NATIVE_INT64, 8, (void **)&ie->time, NULL))) return st;
    if ((st = enum_column(r, "/item_events/kind", (int64_t)n, why, upf_h5_item_kind_enum, &ie->kind))) return st;
    return column(r, "/item_events/value", UPF_H5_FLOAT, (int64_t)n, why, H5T_NATIVE_FLOAT, 4, (void **)&ie->value, NULL);
}

static upf_status read_campaign(rd *r, const char *cname, upf_campaign *c)
{
    upf_status st;
    char base[300], name[700], why[320];
    char **links = NULL;
    size_t n_links = 0, n = 0;
    upf_strings on = { 0 };
    snprintf(base, sizeof base, "/campaigns/%s", cname);
    if (!(c->name = upf_strdup(cname))) return nomem(r, base, 0);
    snprintf(name, sizeof name, "%s/user", base);
    if ((st = column(r, name, UPF_H5_INT, -1, NULL, H5T_NATIVE_INT32, 4, (void **)&c->user, &n))) return st;
    c->n = n;
    snprintf(why, sizeof why, "as %s/user", base);
    snprintf(name, sizeof name, "%s/treatment", base);
    if ((st = column(r, name, UPF_H5_INT, (int64_t)n, why, H5T_NATIVE_INT16, 2, (void **)&c->arm, NULL))) return st;
    snprintf(name, sizeof name, "%s/arm_names", base);
    if ((st = upf_h5_read_strings(r->file, r->path, name, -1, NULL, &c->arm_names, r->err))) return st;
    snprintf(name, sizeof name, "%s/propensity", base);
    if ((st = opt_column(r, name, UPF_H5_FLOAT, (int64_t)n, why, H5T_NATIVE_FLOAT, 4, (void **)&c->propensity))) return st;
    snprintf(name, sizeof name, "%s/time", base);
    if ((st = opt_column(r, name, UPF_H5_INT, (int64_t)n, why, H5T_NATIVE_INT64, 8, (void **)&c->time))) return st;

    /* Outcome order: outcome_names when present (our writer), else the
     * outcome_* links by name (a file made by hand). */
    snprintf(name, sizeof name, "%s/outcome_names", base);
    int ex = group_exists(r, name);
    if (ex < 0) return upf_h5_fail(r->err, UPF_ERR_FORMAT, r->path, name, "cannot look up");
    size_t n_out = 0;
    if (ex) {
        if ((st = upf_h5_read_strings(r->file, r->path, name, -1, NULL, &on, r->err))) return st;
        n_out = on.n;
    } else {
        if ((st = upf_h5_list_group(r->file, base, r->path, &links, &n_links, r->err))) return st;
        for (size_t i = 0; i < n_links; i++) n_out += strncmp(links[i], "outcome_", 8) == 0;
    }
    if (n_out) {
        c->outcome_names = upf_calloc(n_out, sizeof *c->outcome_names);
        c->outcome = upf_calloc(n_out, sizeof *c->outcome);
        if (!c->outcome_names || !c->outcome) {
            st = nomem(r, base, n_out);
            goto done;
        }
        c->n_outcomes = n_out;
    }
    for (size_t k = 0, i = 0; k < n_out; k++) {
        const char *oname;
        if (ex) {
            oname = upf_strings_get(&on, k);
        } else {
            while (strncmp(links[i], "outcome_", 8) != 0) i++;
            oname = links[i++] + 8;
        }
        if (!(c->outcome_names[k] = upf_strdup(oname))) {
            st = nomem(r, base, n_out);
            goto done;
        }
        snprintf(name, sizeof name, "%s/outcome_%s", base, oname);
        if ((st = column(r, name, UPF_H5_FLOAT, (int64_t)n, why, H5T_NATIVE_FLOAT, 4, (void **)&c->outcome[k], NULL))) goto done;
    }
done:
    upf_strings_free(&on);
    for (size_t i = 0; i < n_links; i++) upf_free(links[i]);
    upf_free(links);
    return st;
}

static upf_status read_campaigns(rd *r, upf_dataset *ds)
{
    upf_status st = UPF_OK;
    char **names = NULL;
    size_t n = 0;
    int ex = group_exists(r, "/campaigns");
    if (ex <= 0) return ex < 0 ? upf_h5_fail(r->err, UPF_ERR_FORMAT, r->path, "/campaigns", "cannot look up") : UPF_OK;
    if ((st = upf_h5_list_group(r->file, "/campaigns", r->path, &names, &n, r->err))) return st;
    if (n) {
        if (!(ds->campaigns = upf_calloc(n, sizeof *ds->campaigns))) st = nomem(r, "/campaigns", n);
        else ds->n_campaigns = n;
    }
    for (size_t i = 0; i < n && !st; i++) st = read_campaign(r, names[i], &ds->campaigns[i]);
    for (size_t i = 0; i < n; i++) upf_free(names[i]);
    upf_free(names);
    return st;
}

static upf_status read_messages(rd *r, upf_dataset *ds)
{
    upf_status st;
    upf_messages *m = &ds->messages;
    int ex = group_exists(r, "/messages");
    if (ex <= 0) return ex < 0 ? upf_h5_fail(r->err, UPF_ERR_FORMAT, r->path, "/messages", "cannot look up") : UPF_OK;
    size_t n = 0;
    if ((st = column(r, "/messages/user", UPF_H5_INT, -1, NULL, H5T_NATIVE_INT32, 4, (void **)&m->user, &n))) return st;
    m->n = n;
    const char *why = "as /messages/user";
    if ((st = column(r, "/messages/time", UPF_H5_INT, (int64_t)n, why, H5T_NATIVE_INT64, 8, (void **)&m->time, NULL))) return st;
    if ((st = column(r, "/messages/trigger", UPF_H5_INT, (int64_t)n, why, H5T_NATIVE_UINT8, 1, (void **)&m->trigger, NULL))) return st;
    if ((st = column(r, "/messages/item", UPF_H5_INT, (int64_t)n, why, H5T_NATIVE_INT32, 4, (void **)&m->item, NULL))) return st;
    if ((st = column(r, "/messages/arm", UPF_H5_INT, (int64_t)n, why, H5T_NATIVE_INT16, 2, (void **)&m->arm, NULL))) return st;
    return upf_h5_read_strings(r->file, r->path, "/messages/trigger_names", -1, NULL, &m->trigger_names, r->err);
}

static upf_status read_impressions(rd *r, upf_dataset *ds)
{
    upf_status st;
    upf_impressions *im = &ds->impressions;
    hid_t g = -1;
    int ex = group_exists(r, "/impressions");
    if (ex <= 0) return ex < 0 ? upf_h5_fail(r->err, UPF_ERR_FORMAT, r->path, "/impressions", "cannot look up") : UPF_OK;
    if ((g = H5Gopen2(r->file, "/impressions", H5P_DEFAULT)) < 0)
        return upf_h5_fail(r->err, UPF_ERR_FORMAT, r->path, "/impressions", "cannot open as a group");
    st = upf_h5_read_str_attr(g, "policy", r->path, "/impressions", &im->policy, r->err);
    H5Gclose(g);
    if (st) return st;
    size_t n = 0;
    if ((st = column(r, "/impressions/user", UPF_H5_INT, -1, NULL, H5T_NATIVE_INT32, 4, (void **)&im->user, &n))) return st;
    im->n = n;
    const char *why = "as /impressions/user";
    if ((st = column(r, "/impressions/time", UPF_H5_INT, (int64_t)n, why, H5T_NATIVE_INT64, 8, (void **)&im->time, NULL))) return st;
    if ((st = column(r, "/impressions/item", UPF_H5_INT, (int64_t)n, why, H5T_NATIVE_INT32, 4, (void **)&im->item, NULL))) return st;
    if ((st = column(r, "/impressions/position", UPF_H5_INT, (int64_t)n, why, H5T_NATIVE_INT16, 2, (void **)&im->position, NULL)))
        return st;
    if ((st = column(r, "/impressions/reward", UPF_H5_FLOAT, (int64_t)n, why, H5T_NATIVE_FLOAT, 4, (void **)&im->reward, NULL)))
        return st;
    if ((st = column(r, "/impressions/propensity", UPF_H5_FLOAT, (int64_t)n, why, H5T_NATIVE_FLOAT, 4, (void **)&im->propensity,
                     NULL)))
        return st;
    return read_attrs(r, "/impressions", "context", n, &im->context);
}

upf_status upf_dataset_read(const char *path, upf_dataset **out, upf_err *err)
{
    upf_status st;
    upf_dataset *ds = NULL;
    rd r = { -1, path, err };
    *out = NULL;
    if (!path) return upf_err_set(err, UPF_ERR_ARG, "read: NULL path");
    if ((st = upf_h5_open_dataset_file(path, &r.file, err))) return st;
    if (!(ds = upf_calloc(1, sizeof *ds))) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    if ((st = upf_h5_read_str_attr(r.file, "source", path, NULL, &ds->source, err))) goto done;
    if ((st = upf_h5_read_str_attr(r.file, "created", path, NULL, &ds->created, err))) goto done;
    if ((st = read_users_items(&r, ds)) || (st = read_events(&r, ds)) || (st = read_item_events(&r, ds)) ||
        (st = read_campaigns(&r, ds)) || (st = read_messages(&r, ds)) || (st = read_impressions(&r, ds)))
        goto done;
    if ((st = upf_dataset_validate(ds, err))) {
        upf_err_prefix(err, "%s", path);
        goto done;
    }
    *out = ds;
    ds = NULL;
done:
    upf_dataset_free(ds);
    if (r.file >= 0) H5Fclose(r.file);
    return st;
}
