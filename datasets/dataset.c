/* dataset.c - the in-memory dataset: freeing, the structural validator that
 * the builder and the HDF5 reader share, enum names and attribute lookup.
 *
 * The validator is one pass over each array (O(n), no allocation), so the
 * reader can afford it on every load. It checks structure, not meaning: a
 * rating of 11 on a 1-5 scale passes; an event whose user index does not own
 * its row does not. Messages name the HDF5 dataset and the row.
 */
#include "dataset.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* ---- names ---- */

static const char *const event_type_names[UPF_EV_TYPE_COUNT] = {
    [UPF_EV_NONE] = "none",   [UPF_EV_VIEW] = "view",     [UPF_EV_CART] = "cart",
    [UPF_EV_PURCHASE] = "purchase", [UPF_EV_SEARCH] = "search", [UPF_EV_RATING] = "rating",
    [UPF_EV_RETURN] = "return", [UPF_EV_TAG] = "tag",
};

static const char *const item_event_kind_names[UPF_IE_KIND_COUNT] = {
    [UPF_IE_NONE] = "none",     [UPF_IE_PRICE] = "price",       [UPF_IE_STOCK] = "stock",
    [UPF_IE_LISTED] = "listed", [UPF_IE_DELISTED] = "delisted",
};

const char *upf_event_type_name(int type)
{
    if (type <= UPF_EV_NONE || type >= UPF_EV_TYPE_COUNT) return "none";
    return event_type_names[type];
}

int upf_event_type_from_name(const char *name)
{
    if (!name) return UPF_EV_NONE;
    for (int t = 1; t < UPF_EV_TYPE_COUNT; t++)
        if (strcmp(name, event_type_names[t]) == 0) return t;
    return UPF_EV_NONE;
}

const char *upf_item_event_kind_name(int kind)
{
    if (kind <= UPF_IE_NONE || kind >= UPF_IE_KIND_COUNT) return "none";
    return item_event_kind_names[kind];
}

int upf_item_event_kind_from_name(const char *name)
{
    if (!name) return UPF_IE_NONE;
    for (int k = 1; k < UPF_IE_KIND_COUNT; k++)
        if (strcmp(name, item_event_kind_names[k]) == 0) return k;
    return UPF_IE_NONE;
}

int32_t upf_attrs_find(const upf_attrs *a, const char *name)
{
    if (!a || !name || !a->names.off) return -1;
    for (size_t i = 0; i < a->names.n && i <= INT32_MAX; i++)
        if (strcmp(upf_strings_get(&a->names, i), name) == 0) return (int32_t)i;
    return -1;
}

/* ---- freeing ---- */

void upf_strings_free(upf_strings *s)
{
    if (!s) return;
    upf_free(s->off);
    upf_free(s->data);
    memset(s, 0, sizeof *s);
}

void upf_attrs_free(upf_attrs *a)
{
    if (!a) return;
    upf_free(a->ptr);
    upf_free(a->index);
    upf_free(a->value);
    upf_strings_free(&a->names);
    memset(a, 0, sizeof *a);
}

void upf_campaign_free(upf_campaign *c)
{
    if (!c) return;
    upf_free(c->name);
    upf_free(c->user);
    upf_free(c->arm);
    upf_free(c->propensity);
    upf_free(c->time);
    upf_strings_free(&c->arm_names);
    for (size_t k = 0; k < c->n_outcomes; k++) {
        if (c->outcome_names) upf_free(c->outcome_names[k]);
        if (c->outcome) upf_free(c->outcome[k]);
    }
    upf_free(c->outcome_names);
    upf_free(c->outcome);
    memset(c, 0, sizeof *c);
}

void upf_messages_free(upf_messages *m)
{
    if (!m) return;
    upf_free(m->user);
    upf_free(m->time);
    upf_free(m->trigger);
    upf_free(m->item);
    upf_free(m->arm);
    upf_strings_free(&m->trigger_names);
    memset(m, 0, sizeof *m);
}

void upf_impressions_free(upf_impressions *im)
{
    if (!im) return;
    upf_free(im->user);
    upf_free(im->time);
    upf_free(im->item);
    upf_free(im->position);
    upf_free(im->reward);
    upf_free(im->propensity);
    upf_attrs_free(&im->context);
    upf_free(im->policy);
    memset(im, 0, sizeof *im);
}

void upf_item_events_free(upf_item_events *ie)
{
    if (!ie) return;
    upf_free(ie->item);
    upf_free(ie->time);
    upf_free(ie->kind);
    upf_free(ie->value);
    memset(ie, 0, sizeof *ie);
}

void upf_dataset_free(upf_dataset *ds)
{
    if (!ds) return;
    upf_strings_free(&ds->user_ids);
    upf_free(ds->user_signup);
    upf_free(ds->user_birthday);
    upf_attrs_free(&ds->user_attrs);
    upf_strings_free(&ds->item_ids);
    upf_free(ds->item_price);
    upf_free(ds->item_added);
    upf_free(ds->item_in_stock);
    upf_attrs_free(&ds->item_attrs);
    upf_free(ds->ev_user);
    upf_free(ds->ev_item);
    upf_free(ds->ev_time);
    upf_free(ds->ev_type);
    upf_free(ds->ev_value);
    upf_free(ds->ev_query);
    upf_free(ds->user_ptr);
    upf_strings_free(&ds->queries);
    upf_item_events_free(&ds->item_events);
    for (size_t c = 0; c < ds->n_campaigns; c++)
        if (ds->campaigns) upf_campaign_free(&ds->campaigns[c]);
    upf_free(ds->campaigns);
    upf_messages_free(&ds->messages);
    upf_impressions_free(&ds->impressions);
    upf_free(ds->source);
    upf_free(ds->created);
    upf_free(ds);
}

/* ---- validation ---- */

#define BAD(...) upf_err_set(err, UPF_ERR_DATA, __VA_ARGS__)

static upf_status check_strings(const upf_strings *s, const char *where, upf_err *err)
{
    if (s->n == 0) {
        if (s->off && s->off[0] != 0) return BAD("%s: empty string table with offset %" PRId64 " (expected 0)", where, s->off[0]);
        return UPF_OK;
    }
    if (!s->off || !s->data) return BAD("%s: %zu strings but no storage", where, s->n);
    if (s->off[0] != 0) return BAD("%s: first offset is %" PRId64 " (expected 0)", where, s->off[0]);
    for (size_t i = 0; i < s->n; i++) {
        int64_t a = s->off[i], b = s->off[i + 1];
        if (b <= a) return BAD("%s: row %zu: offsets %" PRId64 " then %" PRId64 " (expected increasing)", where, i, a, b);
        if (memchr(s->data + a, '\0', (size_t)(b - a)) != s->data + b - 1)
            return BAD("%s: row %zu: string of %" PRId64 " bytes is not NUL-terminated exactly at its end", where, i, b - a - 1);
    }
    return UPF_OK;
}

/* where: "/users/attr" -> messages "/users/attr_ptr: ..." */
static upf_status check_attrs(const upf_attrs *a, size_t n_rows, const char *where, const char *rows_name,
                              upf_err *err)
{
    char names_where[128];
    snprintf(names_where, sizeof names_where, "%s_names", where);
    upf_status st = check_strings(&a->names, names_where, err);
    if (st) return st;
    if (a->n_rows == 0) {
        if (a->ptr && a->ptr[0] != 0) return BAD("%s_ptr: no rows but ptr[0] = %" PRId64, where, a->ptr[0]);
        return UPF_OK;
    }
    if (a->n_rows != n_rows)
        return BAD("%s_ptr: %zu rows (expected 0 or %zu, one per %s)", where, a->n_rows, n_rows, rows_name);
    if (!a->ptr) return BAD("%s_ptr: missing", where);
    if (a->ptr[0] != 0) return BAD("%s_ptr: ptr[0] = %" PRId64 " (expected 0)", where, a->ptr[0]);
    int64_t nnz = a->ptr[a->n_rows];
    if (nnz > 0 && (!a->index || !a->value)) return BAD("%s_index: missing for %" PRId64 " entries", where, nnz);
    /* The whole ptr first: with ptr[0] = 0 and no step back, every row lies
     * inside [0, nnz), the arrays' length, before any entry is read. */
    for (size_t r = 0; r < a->n_rows; r++)
        if (a->ptr[r + 1] < a->ptr[r])
            return BAD("%s_ptr: row %zu: ptr goes back from %" PRId64 " to %" PRId64, where, r, a->ptr[r], a->ptr[r + 1]);
    for (size_t r = 0; r < a->n_rows; r++) {
        int64_t b = a->ptr[r], e = a->ptr[r + 1];
        for (int64_t k = b; k < e; k++) {
            int32_t j = a->index[k];
            if (j < 0 || (size_t)j >= a->names.n)
                return BAD("%s_index: entry %" PRId64 " (%s %zu): %" PRId32 " is outside [0, %zu)", where, k, rows_name, r, j,
                           a->names.n);
            if (k > b && j <= a->index[k - 1])
                return BAD("%s_index: entry %" PRId64 " (%s %zu): %" PRId32 " after %" PRId32
                           " (expected strictly increasing within a row)",
                           where, k, rows_name, r, j, a->index[k - 1]);
            if (!isfinite(a->value[k]))
                return BAD("%s_value: entry %" PRId64 " (%s %zu): %g is not finite", where, k, rows_name, r, (double)a->value[k]);
        }
    }
    return UPF_OK;
}

static upf_status check_events(const upf_dataset *ds, upf_err *err)
{
    int64_t n = ds->n_events;
    if (n < 0) return BAD("/events: %" PRId64 " events", n);
    if (!ds->user_ptr) {
        if (ds->n_users || n) return BAD("/events/user_ptr: missing");
        return UPF_OK;
    }
    if (n > 0 && (!ds->ev_user || !ds->ev_item || !ds->ev_time || !ds->ev_type || !ds->ev_value))
        return BAD("/events: %" PRId64 " events but a column (user, item, time, type or value) is missing", n);
    if (ds->user_ptr[0] != 0) return BAD("/events/user_ptr: row 0: %" PRId64 " (expected 0)", ds->user_ptr[0]);
    if (ds->user_ptr[ds->n_users] != n)
        return BAD("/events/user_ptr: row %zu (the last): %" PRId64 " (expected the number of events, %" PRId64 ")",
                   ds->n_users, ds->user_ptr[ds->n_users], n);
    int has_queries = ds->ev_query != NULL;
    for (size_t u = 0; u < ds->n_users; u++) {
        int64_t b = ds->user_ptr[u], e = ds->user_ptr[u + 1];
        if (e < b || e > n)
            return BAD("/events/user_ptr: row %zu: %" PRId64 " after %" PRId64 " (expected non-decreasing, <= %" PRId64 ")",
                       u + 1, e, b, n);
        for (int64_t i = b; i < e; i++) {
            if (ds->ev_user[i] != (int32_t)u)
                return BAD("/events/user: row %" PRId64 ": user %" PRId32 " (expected %zu: user_ptr gives this row to user %zu,"
                           " events must be sorted by user)",
                           i, ds->ev_user[i], u, u);
            int64_t t = ds->ev_time[i];
            if (t == UPF_TIME_MISSING) return BAD("/events/time: row %" PRId64 " (user %zu): missing time", i, u);
            if (i > b && t < ds->ev_time[i - 1])
                return BAD("/events/time: row %" PRId64 " (user %zu): %" PRId64 " is before the previous event's %" PRId64
                           " (expected sorted by (user, time))",
                           i, u, t, ds->ev_time[i - 1]);
            int type = ds->ev_type[i];
            if (type <= UPF_EV_NONE || type >= UPF_EV_TYPE_COUNT)
                return BAD("/events/type: row %" PRId64 " (user %zu): %d is not an event type (expected 1..%d)", i, u, type,
                           UPF_EV_TYPE_COUNT - 1);
            int32_t j = ds->ev_item[i];
            if (j < -1 || (j >= 0 && (size_t)j >= ds->n_items))
                return BAD("/events/item: row %" PRId64 " (user %zu): %" PRId32 " is outside [-1, %zu)", i, u, j, ds->n_items);
            if (j == -1 && type != UPF_EV_SEARCH)
                return BAD("/events/item: row %" PRId64 " (user %zu): -1 (no item) on a %s event (only search events may lack an item)",
                           i, u, upf_event_type_name(type));
            if (!isfinite(ds->ev_value[i]))
                return BAD("/events/value: row %" PRId64 " (user %zu): %g is not finite", i, u, (double)ds->ev_value[i]);
            if (has_queries) {
                int32_t q = ds->ev_query[i];
                if (q < -1 || (q >= 0 && (size_t)q >= ds->queries.n))
                    return BAD("/events/query: row %" PRId64 " (user %zu): %" PRId32 " is outside [-1, %zu)", i, u, q,
                               ds->queries.n);
            }
        }
    }
    return UPF_OK;
}

static upf_status check_user_item_arrays(const upf_dataset *ds, upf_err *err)
{
    if (ds->item_in_stock)
        for (size_t i = 0; i < ds->n_items; i++)
            if (ds->item_in_stock[i] > 1)
                return BAD("/items/in_stock: row %zu: %u (expected 0 or 1)", i, (unsigned)ds->item_in_stock[i]);
    if (ds->item_price)
        for (size_t i = 0; i < ds->n_items; i++)
            if (isinf(ds->item_price[i])) return BAD("/items/price: row %zu: infinite (expected a number or NaN)", i);
    return UPF_OK;
}

static upf_status check_item_events(const upf_dataset *ds, upf_err *err)
{
    const upf_item_events *ie = &ds->item_events;
    if (ie->n == 0) return UPF_OK;
    if (!ie->item || !ie->time || !ie->kind || !ie->value)
        return BAD("/item_events: %zu rows but a column (item, time, kind or value) is missing", ie->n);
    for (size_t r = 0; r < ie->n; r++) {
        int32_t j = ie->item[r];
        if (j < 0 || (size_t)j >= ds->n_items)
            return BAD("/item_events/item: row %zu: %" PRId32 " is outside [0, %zu)", r, j, ds->n_items);
        if (ie->time[r] == UPF_TIME_MISSING) return BAD("/item_events/time: row %zu: missing time", r);
        if (ie->kind[r] <= UPF_IE_NONE || ie->kind[r] >= UPF_IE_KIND_COUNT)
            return BAD("/item_events/kind: row %zu: %u is not an item event kind (expected 1..%d)", r, (unsigned)ie->kind[r],
                       UPF_IE_KIND_COUNT - 1);
        if (r > 0 && (j < ie->item[r - 1] || (j == ie->item[r - 1] && ie->time[r] < ie->time[r - 1])))
            return BAD("/item_events: row %zu: (item %" PRId32 ", time %" PRId64 ") after (item %" PRId32 ", time %" PRId64
                       ") (expected sorted by (item, time))",
                       r, j, ie->time[r], ie->item[r - 1], ie->time[r - 1]);
    }
    return UPF_OK;
}

static upf_status check_campaign(const upf_dataset *ds, size_t ci, upf_err *err)
{
    const upf_campaign *c = &ds->campaigns[ci];
    if (!c->name || !upf_h5_name_ok(c->name))
        return BAD("/campaigns: campaign %zu: name \"%s\" is not usable as a group name (1..255 bytes of UTF-8, no '/')", ci,
                   c->name ? c->name : "(null)");
    for (size_t k = 0; k < ci; k++)
        if (strcmp(ds->campaigns[k].name, c->name) == 0) return BAD("/campaigns/%s: the name appears twice", c->name);
    char where[300];
    snprintf(where, sizeof where, "/campaigns/%s/arm_names", c->name);
    upf_status st = check_strings(&c->arm_names, where, err);
    if (st) return st;
    if (c->arm_names.n < 1 || c->arm_names.n > INT16_MAX)
        return BAD("/campaigns/%s/arm_names: %zu arms (expected 1..%d; arm 0 is the control)", c->name, c->arm_names.n,
                   INT16_MAX);
    if (c->n > 0 && (!c->user || !c->arm)) return BAD("/campaigns/%s: %zu rows but user or treatment is missing", c->name, c->n);
    if (c->n_outcomes > 0 && (!c->outcome_names || !c->outcome))
        return BAD("/campaigns/%s: %zu outcomes but their names or arrays are missing", c->name, c->n_outcomes);
    for (size_t k = 0; k < c->n_outcomes; k++) {
        const char *on = c->outcome_names[k];
        if (!on || !upf_h5_name_ok(on) || strcmp(on, "names") == 0)
            return BAD("/campaigns/%s: outcome %zu: name \"%s\" is not usable (1..255 bytes of UTF-8, no '/', not \"names\")",
                       c->name, k, on ? on : "(null)");
        for (size_t l = 0; l < k; l++)
            if (strcmp(c->outcome_names[l], on) == 0)
                return BAD("/campaigns/%s: outcome \"%s\" appears twice", c->name, on);
        if (c->n > 0 && !c->outcome[k]) return BAD("/campaigns/%s/outcome_%s: missing", c->name, on);
    }
    for (size_t r = 0; r < c->n; r++) {
        if (c->user[r] < 0 || (size_t)c->user[r] >= ds->n_users)
            return BAD("/campaigns/%s/user: row %zu: %" PRId32 " is outside [0, %zu)", c->name, r, c->user[r], ds->n_users);
        if (c->arm[r] < 0 || (size_t)c->arm[r] >= c->arm_names.n)
            return BAD("/campaigns/%s/treatment: row %zu: %d is outside [0, %zu)", c->name, r, (int)c->arm[r], c->arm_names.n);
        if (c->propensity) {
            float p = c->propensity[r];
            if (!isnan(p) && !(p >= 0.0f && p <= 1.0f))
                return BAD("/campaigns/%s/propensity: row %zu: %g (expected in [0, 1], or NaN when unknown)", c->name, r,
                           (double)p);
        }
    }
    return UPF_OK;
}

static upf_status check_messages(const upf_dataset *ds, upf_err *err)
{
    const upf_messages *m = &ds->messages;
    upf_status st = check_strings(&m->trigger_names, "/messages/trigger_names", err);
    if (st) return st;
    if (m->n == 0) return UPF_OK;
    if (!m->user || !m->time || !m->trigger || !m->item || !m->arm)
        return BAD("/messages: %zu rows but a column (user, time, trigger, item or arm) is missing", m->n);
    for (size_t r = 0; r < m->n; r++) {
        if (m->user[r] < 0 || (size_t)m->user[r] >= ds->n_users)
            return BAD("/messages/user: row %zu: %" PRId32 " is outside [0, %zu)", r, m->user[r], ds->n_users);
        if (m->time[r] == UPF_TIME_MISSING) return BAD("/messages/time: row %zu: missing time", r);
        if (m->trigger[r] >= m->trigger_names.n)
            return BAD("/messages/trigger: row %zu: %u is outside [0, %zu)", r, (unsigned)m->trigger[r], m->trigger_names.n);
        if (m->item[r] < -1 || (m->item[r] >= 0 && (size_t)m->item[r] >= ds->n_items))
            return BAD("/messages/item: row %zu: %" PRId32 " is outside [-1, %zu)", r, m->item[r], ds->n_items);
        if (m->arm[r] != 0 && m->arm[r] != 1)
            return BAD("/messages/arm: row %zu: %d (expected 0 = held out or 1 = sent)", r, (int)m->arm[r]);
    }
    return UPF_OK;
}

static upf_status check_impressions(const upf_dataset *ds, upf_err *err)
{
    const upf_impressions *im = &ds->impressions;
    upf_status st = check_attrs(&im->context, im->n, "/impressions/context", "impression", err);
    if (st) return st;
    if (im->n == 0) return UPF_OK;
    if (!im->user || !im->time || !im->item || !im->position || !im->reward || !im->propensity)
        return BAD("/impressions: %zu rows but a column (user, time, item, position, reward or propensity) is missing", im->n);
    for (size_t r = 0; r < im->n; r++) {
        if (im->user[r] < -1 || (im->user[r] >= 0 && (size_t)im->user[r] >= ds->n_users))
            return BAD("/impressions/user: row %zu: %" PRId32 " is outside [-1, %zu)", r, im->user[r], ds->n_users);
        if (im->time[r] == UPF_TIME_MISSING) return BAD("/impressions/time: row %zu: missing time", r);
        if (im->item[r] < 0 || (size_t)im->item[r] >= ds->n_items)
            return BAD("/impressions/item: row %zu: %" PRId32 " is outside [0, %zu)", r, im->item[r], ds->n_items);
        if (im->position[r] < 0) return BAD("/impressions/position: row %zu: %d (expected >= 0)", r, (int)im->position[r]);
        if (!isfinite(im->reward[r])) return BAD("/impressions/reward: row %zu: %g is not finite", r, (double)im->reward[r]);
        float p = im->propensity[r];
        if (!isnan(p) && !(p > 0.0f && p <= 1.0f))
            return BAD("/impressions/propensity: row %zu: %g (expected in (0, 1], or NaN when unknown)", r, (double)p);
    }
    return UPF_OK;
}

upf_status upf_dataset_validate(const upf_dataset *ds, upf_err *err)
{
    upf_status st;
    if (!ds) return upf_err_set(err, UPF_ERR_ARG, "dataset: NULL");
    if (ds->n_users > (size_t)INT32_MAX) return BAD("/users/id: %zu users (at most %d)", ds->n_users, INT32_MAX);
    if (ds->n_items > (size_t)INT32_MAX) return BAD("/items/id: %zu items (at most %d)", ds->n_items, INT32_MAX);
    if (ds->user_ids.n != ds->n_users)
        return BAD("/users/id: %zu ids for %zu users (expected one per user)", ds->user_ids.n, ds->n_users);
    if (ds->item_ids.n != ds->n_items)
        return BAD("/items/id: %zu ids for %zu items (expected one per item)", ds->item_ids.n, ds->n_items);
    if ((st = check_strings(&ds->user_ids, "/users/id", err))) return st;
    if ((st = check_strings(&ds->item_ids, "/items/id", err))) return st;
    if ((st = check_strings(&ds->queries, "/queries/text", err))) return st;
    if ((st = check_attrs(&ds->user_attrs, ds->n_users, "/users/attr", "user", err))) return st;
    if ((st = check_attrs(&ds->item_attrs, ds->n_items, "/items/attr", "item", err))) return st;
    if ((st = check_user_item_arrays(ds, err))) return st;
    if ((st = check_events(ds, err))) return st;
    if ((st = check_item_events(ds, err))) return st;
    if (ds->n_campaigns && !ds->campaigns) return BAD("/campaigns: %zu campaigns but no table", ds->n_campaigns);
    for (size_t c = 0; c < ds->n_campaigns; c++)
        if ((st = check_campaign(ds, c, err))) return st;
    if ((st = check_messages(ds, err))) return st;
    if ((st = check_impressions(ds, err))) return st;
    return UPF_OK;
}

/* ---- time formatting ---- */

/* Civil date from days since 1970-01-01 (proleptic Gregorian; H. Hinnant's
 * days_from_civil inverse), valid for the whole int64 second range / 86400. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

void upf_format_iso_time(int64_t t, char *buf, size_t n)
{
    if (t == UPF_TIME_MISSING) {
        snprintf(buf, n, "NaT");
        return;
    }
    int64_t days = t / 86400, secs = t % 86400;
    if (secs < 0) secs += 86400, days -= 1;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    snprintf(buf, n, "%04" PRId64 "-%02u-%02uT%02u:%02u:%02uZ", y, m, d, (unsigned)(secs / 3600), (unsigned)(secs / 60 % 60),
             (unsigned)(secs % 60));
}
