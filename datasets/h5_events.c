/* h5_events.c - streams /events of a dataset file in blocks of rows, for
 * files larger than memory: memory is one block of each column, whatever
 * the file's size. Each block is validated as it arrives (indices in range,
 * known types, and the (user, time) order carried across blocks); the ids,
 * attributes and the rest of the file are not loaded.
 */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "h5_internal.h"

enum { C_USER, C_ITEM, C_TIME, C_TYPE, C_VALUE, C_QUERY, N_COLS };

static const char *const col_names[N_COLS] = {
    "/events/user", "/events/item", "/events/time", "/events/type", "/events/value", "/events/query",
};

struct upf_h5_events {
    hid_t file;
    hid_t dset[N_COLS]; /* C_QUERY: -1 when absent */
    hid_t type_mem;     /* memory type of /events/type */
    char *path;
    int64_t n, pos;
    size_t n_users, n_items, n_queries, block;
    int32_t *user, *item, *query;
    int64_t *time;
    uint8_t *type;
    float *value;
    int32_t last_user; /* of the previous block's last row, -1 before the first */
    int64_t last_time;
};

void upf_h5_events_close(upf_h5_events *it)
{
    if (!it) return;
    for (int c = 0; c < N_COLS; c++)
        if (it->dset[c] >= 0) H5Dclose(it->dset[c]);
    if (it->type_mem >= 0) H5Tclose(it->type_mem);
    if (it->file >= 0) H5Fclose(it->file);
    upf_free(it->user);
    upf_free(it->item);
    upf_free(it->query);
    upf_free(it->time);
    upf_free(it->type);
    upf_free(it->value);
    upf_free(it->path);
    upf_free(it);
}

static upf_status length_of(upf_h5_events *it, const char *name, size_t *n, upf_err *err)
{
    hid_t d = -1;
    upf_status st = upf_h5_open_column(it->file, it->path, name, UPF_H5_STRING, -1, NULL, UPF_H5_CACHE_DEFAULT, &d, n, err);
    if (d >= 0) H5Dclose(d);
    return st;
}

upf_status upf_h5_events_open(const char *path, size_t block_rows, upf_h5_events **out, upf_err *err)
{
    upf_status st;
    size_t n = 0;
    *out = NULL;
    upf_h5_events *it = upf_calloc(1, sizeof *it);
    if (!it) return upf_err_set(err, UPF_ERR_NOMEM, "%s: out of memory", path);
    it->file = -1;
    it->type_mem = -1;
    it->last_user = -1;
    for (int c = 0; c < N_COLS; c++) it->dset[c] = -1;
    if (!(it->path = upf_strdup(path))) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "%s: out of memory", path);
        goto fail;
    }
    if ((st = upf_h5_open_dataset_file(path, &it->file, err))) goto fail;
    if ((st = length_of(it, "/users/id", &it->n_users, err)) || (st = length_of(it, "/items/id", &it->n_items, err))) goto fail;
    int ex = upf_h5_exists(it->file, "/queries/text");
    if (ex > 0 && (st = length_of(it, "/queries/text", &it->n_queries, err))) goto fail;
    /* The block size first (from /events/user's chunks): blocks of whole
     * chunks read without a chunk cache, smaller blocks need one. */
    hid_t probe = -1;
    if ((st = upf_h5_open_column(it->file, path, col_names[C_USER], UPF_H5_INT, -1, NULL, UPF_H5_CACHE_DEFAULT, &probe, &n, err)))
        goto fail;
    size_t whole = upf_h5_block_rows(probe, 1);
    H5Dclose(probe);
    it->block = block_rows ? block_rows : UPF_H5_BLOCK_ROWS;
    if (it->block >= whole) it->block = it->block / whole * whole;
    size_t cache = it->block % whole == 0 ? 0 : UPF_H5_CACHE_DEFAULT;
    static const upf_h5_class cls[N_COLS] = { UPF_H5_INT, UPF_H5_INT, UPF_H5_INT, UPF_H5_CODE, UPF_H5_FLOAT, UPF_H5_INT };
    for (int c = 0; c < N_COLS; c++) {
        if (c == C_QUERY) {
            int q = upf_h5_exists(it->file, col_names[c]);
            if (q < 0) {
                st = upf_h5_fail(err, UPF_ERR_FORMAT, path, col_names[c], "cannot look up");
                goto fail;
            }
            if (!q) continue;
        }
        size_t m = 0;
        if ((st = upf_h5_open_column(it->file, path, col_names[c], cls[c], c == C_USER ? -1 : (int64_t)n, "as /events/user", cache,
                                     &it->dset[c], &m, err)))
            goto fail;
        if (c == C_USER) n = m;
    }
    if ((st = upf_h5_check_codes(it->dset[C_TYPE], upf_event_type_name, UPF_EV_TYPE_COUNT, path, col_names[C_TYPE], err))) goto fail;
    hid_t t = H5Dget_type(it->dset[C_TYPE]);
    int is_enum = t >= 0 && H5Tget_class(t) == H5T_ENUM;
    if (t >= 0) H5Tclose(t);
    if (is_enum) {
        if ((it->type_mem = upf_h5_event_type_enum(0)) < 0) {
            st = upf_h5_fail(err, UPF_ERR_FORMAT, path, col_names[C_TYPE], "cannot make the enum type");
            goto fail;
        }
    } else if ((it->type_mem = H5Tcopy(H5T_NATIVE_UINT8)) < 0) {
        st = upf_h5_fail(err, UPF_ERR_FORMAT, path, col_names[C_TYPE], "cannot make the type");
        goto fail;
    }
    it->n = (int64_t)n;
    size_t b = it->block;
    it->user = upf_malloc(b * sizeof *it->user);
    it->item = upf_malloc(b * sizeof *it->item);
    it->time = upf_malloc(b * sizeof *it->time);
    it->type = upf_malloc(b * sizeof *it->type);
    it->value = upf_malloc(b * sizeof *it->value);
    if (it->dset[C_QUERY] >= 0) it->query = upf_malloc(b * sizeof *it->query);
    if (!it->user || !it->item || !it->time || !it->type || !it->value || (it->dset[C_QUERY] >= 0 && !it->query)) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "%s: out of memory for a block of %zu events", path, b);
        goto fail;
    }
    *out = it;
    return UPF_OK;
fail:
    upf_h5_events_close(it);
    return st;
}

void upf_h5_events_sizes(const upf_h5_events *it, int64_t *n_events, size_t *n_users, size_t *n_items)
{
    if (n_events) *n_events = it->n;
    if (n_users) *n_users = it->n_users;
    if (n_items) *n_items = it->n_items;
}

#define BAD(col, ...) upf_err_set(err, UPF_ERR_DATA, "%s: " col ": row %" PRId64 ": " __VA_ARGS__)

static upf_status check_block(upf_h5_events *it, size_t m, upf_err *err)
{
    const char *p = it->path;
    for (size_t k = 0; k < m; k++) {
        int64_t row = it->pos + (int64_t)k;
        int32_t u = it->user[k], j = it->item[k];
        int64_t t = it->time[k];
        int type = it->type[k];
        if (u < 0 || (size_t)u >= it->n_users) return BAD("/events/user", "%" PRId32 " is outside [0, %zu)", p, row, u, it->n_users);
        if (u < it->last_user)
            return BAD("/events/user", "user %" PRId32 " after user %" PRId32 " (expected sorted by (user, time))", p, row, u, it->last_user);
        if (t == UPF_TIME_MISSING) return BAD("/events/time", "missing time", p, row);
        if (u == it->last_user && t < it->last_time)
            return BAD("/events/time", "%" PRId64 " is before the previous event's %" PRId64 " (expected sorted by (user, time))", p, row,
                       t, it->last_time);
        if (type <= UPF_EV_NONE || type >= UPF_EV_TYPE_COUNT)
            return BAD("/events/type", "%d is not an event type (expected 1..%d)", p, row, type, UPF_EV_TYPE_COUNT - 1);
        if (j < -1 || (j >= 0 && (size_t)j >= it->n_items))
            return BAD("/events/item", "%" PRId32 " is outside [-1, %zu)", p, row, j, it->n_items);
        if (j == -1 && type != UPF_EV_SEARCH)
            return BAD("/events/item", "-1 (no item) on a %s event (only search events may lack an item)", p, row, upf_event_type_name(type));
        if (!isfinite(it->value[k])) return BAD("/events/value", "%g is not finite", p, row, (double)it->value[k]);
        if (it->query && (it->query[k] < -1 || (it->query[k] >= 0 && (size_t)it->query[k] >= it->n_queries)))
            return BAD("/events/query", "%" PRId32 " is outside [-1, %zu)", p, row, it->query[k], it->n_queries);
        it->last_user = u;
        it->last_time = t;
    }
    return UPF_OK;
}

upf_status upf_h5_events_next(upf_h5_events *it, upf_event_block *blk, upf_err *err)
{
    upf_status st;
    memset(blk, 0, sizeof *blk);
    blk->row0 = it->pos;
    if (it->pos >= it->n) return UPF_OK;
    if (upf_interrupted()) return upf_err_set(err, UPF_ERR_INTERRUPTED, "%s: /events: interrupted", it->path);
    size_t m = (size_t)(it->n - it->pos) < it->block ? (size_t)(it->n - it->pos) : it->block;
    size_t r0 = (size_t)it->pos;
    const char *p = it->path;
    if ((st = upf_h5_read_rows(it->dset[C_USER], H5T_NATIVE_INT32, r0, m, it->user, p, col_names[C_USER], err)) ||
        (st = upf_h5_read_rows(it->dset[C_ITEM], H5T_NATIVE_INT32, r0, m, it->item, p, col_names[C_ITEM], err)) ||
        (st = upf_h5_read_rows(it->dset[C_TIME], H5T_NATIVE_INT64, r0, m, it->time, p, col_names[C_TIME], err)) ||
        (st = upf_h5_read_rows(it->dset[C_TYPE], it->type_mem, r0, m, it->type, p, col_names[C_TYPE], err)) ||
        (st = upf_h5_read_rows(it->dset[C_VALUE], H5T_NATIVE_FLOAT, r0, m, it->value, p, col_names[C_VALUE], err)) ||
        (it->query && (st = upf_h5_read_rows(it->dset[C_QUERY], H5T_NATIVE_INT32, r0, m, it->query, p, col_names[C_QUERY], err))))
        return st;
    if ((st = check_block(it, m, err))) return st;
    blk->n = (int64_t)m;
    blk->user = it->user;
    blk->item = it->item;
    blk->time = it->time;
    blk->type = it->type;
    blk->value = it->value;
    blk->query = it->query;
    it->pos += (int64_t)m;
    return UPF_OK;
}
