/* builder.c - collects a dataset's rows in any order and produces the sorted,
 * validated upf_dataset (see dataset.h "builder").
 *
 * Ids, query strings and attribute names are interned in open-addressing hash
 * tables over one string blob each (the blob becomes the upf_strings as is).
 * Rows go into parallel column arrays that grow by doubling; there is no
 * per-row allocation. finish() orders events by (user, time, input order) with
 * a counting pass on the user and a per-user sort on time (skipped where the
 * input is already in order), builds user_ptr and the attribute CSR tables
 * (repeated (row, name) pairs summed in input order, in double), and runs
 * upf_dataset_validate. Peak extra memory in finish: 16 bytes per event.
 *
 * Errors are sticky: the first failed call (bad argument or allocation) is
 * remembered, every later call fails with the same status, and finish reports
 * it. Nothing is printed.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dataset.h"
#include "internal.h"

/* ---- interning ---- */

typedef struct intern {
    upf_strbuf sb;   /* the strings, index = order of first sight */
    uint64_t *slots; /* (mask+1) 0 = empty, else (hash32 << 32) | (index + 1) */
    size_t mask;
} intern;

typedef struct optcol {
    void *p;     /* (cap) elements of elem bytes; NULL until first set */
    size_t cap;
    size_t elem;
} optcol;

typedef struct triples {
    int32_t *row, *name; /* (cap) */
    float *value;        /* (cap) */
    size_t n, cap;
} triples;

typedef struct bcamp {
    char *name;
    upf_strings arm_names;
    size_t n_outcomes;
    char **outcome_names; /* (n_outcomes) */
    size_t n, cap;
    int32_t *user;
    int16_t *arm;
    float *prop;
    int64_t *time;
    float **out; /* (n_outcomes) x (cap) */
    int any_prop, any_time;
} bcamp;

struct upf_builder {
    upf_err err; /* the first failure; status UPF_OK while none */
    intern users, items, queries;
    intern user_attr_names, item_attr_names, ctx_names, trigger_names;

    int64_t n_ev, cap_ev;
    int32_t *ev_user, *ev_item, *ev_query; /* ev_query NULL until a query is referenced */
    int64_t *ev_time;
    uint8_t *ev_type;
    float *ev_value;

    optcol signup, birthday, price, added, stock;
    triples user_attrs, item_attrs, ctx;

    size_t n_ie, cap_ie;
    int32_t *ie_item;
    int64_t *ie_time;
    uint8_t *ie_kind;
    float *ie_value;

    bcamp *camps;
    size_t n_camps, cap_camps;

    size_t n_msg, cap_msg;
    int32_t *msg_user, *msg_item;
    int64_t *msg_time;
    uint8_t *msg_trigger;
    int16_t *msg_arm;

    size_t n_imp, cap_imp;
    int32_t *imp_user, *imp_item;
    int64_t *imp_time;
    int16_t *imp_pos;
    float *imp_reward, *imp_prop;

    char *policy, *source, *created;
};

static const int64_t time_missing = UPF_TIME_MISSING;
static const float nan_f = NAN;
static const uint8_t in_stock_default = 1;

static upf_status fail(upf_builder *b, upf_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static upf_status fail(upf_builder *b, upf_status st, const char *fmt, ...)
{
    if (b->err.status == UPF_OK) {
        va_list ap;
        va_start(ap, fmt);
        b->err.status = st;
        b->err.sys_errno = 0;
        vsnprintf(b->err.msg, sizeof b->err.msg, fmt, ap);
        va_end(ap);
    }
    return b->err.status;
}

#define NOMEM(b, what) fail((b), UPF_ERR_NOMEM, "builder: out of memory (%s)", (what))

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ ((uint64_t)n * 0xBF58476D1CE4E5B9ull);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
        h ^= h >> 29;
        s += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, s, n);
    h = (h ^ w) * 0x94D049BB133111EBull;
    h ^= h >> 32;
    h *= 0xBF58476D1CE4E5B9ull;
    return h ^ (h >> 29);
}

static int intern_init(intern *t)
{
    if (t->slots) return 0;
    t->slots = upf_calloc(1024, sizeof *t->slots);
    if (!t->slots) return -1;
    t->mask = 1023;
    return 0;
}

static int intern_grow(intern *t)
{
    size_t size = (t->mask + 1) * 2, bytes;
    if (size - 1 > UINT32_MAX || upf_mul_size(size, sizeof *t->slots, &bytes)) return -1;
    uint64_t *s = upf_calloc(size, sizeof *s);
    if (!s) return -1;
    size_t mask = size - 1;
    for (size_t i = 0; i <= t->mask; i++) {
        uint64_t v = t->slots[i];
        if (!v) continue;
        size_t pos = (size_t)(v >> 32) & mask;
        while (s[pos]) pos = (pos + 1) & mask;
        s[pos] = v;
    }
    upf_free(t->slots);
    t->slots = s;
    t->mask = mask;
    return 0;
}

/* Index of s[0..len) or -1; *slot_out gets the slot to insert at when absent. */
static int32_t intern_lookup(const intern *t, const char *s, size_t len, uint32_t h32, size_t *slot_out)
{
    if (!t->slots) return -1;
    size_t pos = h32 & t->mask;
    for (;;) {
        uint64_t v = t->slots[pos];
        if (!v) break;
        if ((uint32_t)(v >> 32) == h32) {
            uint32_t idx = (uint32_t)v - 1;
            const int64_t *off = t->sb.off;
            if ((size_t)(off[idx + 1] - off[idx] - 1) == len && memcmp(t->sb.data + off[idx], s, len) == 0)
                return (int32_t)idx;
        }
        pos = (pos + 1) & t->mask;
    }
    if (slot_out) *slot_out = pos;
    return -1;
}

static int32_t intern_find(const intern *t, const char *s, size_t len)
{
    if (!s) return -1;
    return intern_lookup(t, s, len, (uint32_t)(hash_bytes(s, len) >> 32), NULL);
}

/* Interns s[0..len); returns its index, or -1 after recording the failure. */
static int32_t intern_add(upf_builder *b, intern *t, const char *s, size_t len, const char *what)
{
    if (b->err.status) return -1;
    if (!s) return fail(b, UPF_ERR_ARG, "builder: %s: NULL string", what), -1;
    if (intern_init(t)) return NOMEM(b, what), -1;
    uint32_t h32 = (uint32_t)(hash_bytes(s, len) >> 32);
    size_t slot = 0, bad = 0;
    int32_t idx = intern_lookup(t, s, len, h32, &slot);
    if (idx >= 0) return idx;
    if (memchr(s, '\0', len)) return fail(b, UPF_ERR_ARG, "builder: %s \"%.40s\" contains a NUL byte", what, s), -1;
    if (!upf_utf8_valid(s, len, &bad))
        return fail(b, UPF_ERR_ARG, "builder: %s \"%.*s\" is not valid UTF-8 (byte 0x%02X at offset %zu)", what,
                    (int)(len < 40 ? len : 40), s, (unsigned)(unsigned char)s[bad], bad),
               -1;
    if (t->sb.n >= (size_t)INT32_MAX) return fail(b, UPF_ERR_DATA, "builder: more than %d %ss", INT32_MAX, what), -1;
    /* Keep the load factor <= 0.7 so linear probes stay short. */
    if ((t->sb.n + 1) * 10 > (t->mask + 1) * 7) {
        if (intern_grow(t)) return NOMEM(b, what), -1;
        (void)intern_lookup(t, s, len, h32, &slot);
    }
    if (upf_strbuf_append(&t->sb, s, len)) return NOMEM(b, what), -1;
    idx = (int32_t)(t->sb.n - 1);
    t->slots[slot] = ((uint64_t)h32 << 32) | ((uint64_t)idx + 1);
    return idx;
}

static void intern_free(intern *t)
{
    upf_strbuf_free(&t->sb);
    upf_free(t->slots);
    t->slots = NULL;
    t->mask = 0;
}

/* ---- growable columns ---- */

static int grow(void **p, size_t elem, size_t new_cap)
{
    size_t bytes;
    if (upf_mul_size(new_cap, elem, &bytes)) return -1;
    void *q = upf_realloc(*p, bytes ? bytes : 1);
    if (!q) return -1;
    *p = q;
    upf_advise_huge(q, bytes);
    return 0;
}

/* Best-effort shrink to n elements (a failed shrink keeps the larger block). */
static void shrink(void **p, size_t elem, size_t n)
{
    if (!*p) return;
    size_t bytes = n * elem; /* <= the current size: cannot overflow */
    void *q = upf_realloc(*p, bytes ? bytes : 1);
    if (q) *p = q;
}

static size_t next_cap(size_t cap, size_t need, size_t first)
{
    size_t c = cap ? cap : first;
    while (c < need) {
        if (c > SIZE_MAX / 2) return 0;
        c *= 2;
    }
    return c;
}

static int optcol_set(optcol *c, size_t row, const void *val, const void *dflt)
{
    if (row >= c->cap) {
        size_t cap = next_cap(c->cap, row + 1, 64);
        if (!cap || grow(&c->p, c->elem, cap)) return -1;
        for (size_t i = c->cap; i < cap; i++) memcpy((char *)c->p + i * c->elem, dflt, c->elem);
        c->cap = cap;
    }
    memcpy((char *)c->p + row * c->elem, val, c->elem);
    return 0;
}

/* Extends to n rows (defaults) and hands the array over; NULL if never set. */
static int optcol_take(optcol *c, size_t n, const void *dflt, void **out)
{
    *out = NULL;
    if (!c->p) return 0;
    if (n > c->cap) {
        if (grow(&c->p, c->elem, n)) return -1;
        for (size_t i = c->cap; i < n; i++) memcpy((char *)c->p + i * c->elem, dflt, c->elem);
        c->cap = n;
    }
    shrink(&c->p, c->elem, n);
    *out = c->p;
    c->p = NULL;
    c->cap = 0;
    return 0;
}

static int triples_add(triples *t, int32_t row, int32_t name, float value)
{
    if (t->n == t->cap) {
        size_t cap = next_cap(t->cap, t->n + 1, 256);
        if (!cap || grow((void **)&t->row, sizeof *t->row, cap) || grow((void **)&t->name, sizeof *t->name, cap) ||
            grow((void **)&t->value, sizeof *t->value, cap))
            return -1;
        t->cap = cap;
    }
    t->row[t->n] = row;
    t->name[t->n] = name;
    t->value[t->n] = value;
    t->n++;
    return 0;
}

static void triples_free(triples *t)
{
    upf_free(t->row);
    upf_free(t->name);
    upf_free(t->value);
    memset(t, 0, sizeof *t);
}

/* ---- create / free ---- */

upf_status upf_builder_create(upf_builder **out, upf_err *err)
{
    *out = NULL;
    upf_builder *b = upf_calloc(1, sizeof *b);
    if (!b) return upf_err_set(err, UPF_ERR_NOMEM, "builder: out of memory");
    b->signup.elem = sizeof(int64_t);
    b->birthday.elem = sizeof(int64_t);
    b->added.elem = sizeof(int64_t);
    b->price.elem = sizeof(float);
    b->stock.elem = sizeof(uint8_t);
    *out = b;
    return UPF_OK;
}

static void bcamp_free(bcamp *c)
{
    upf_free(c->name);
    upf_strings_free(&c->arm_names);
    for (size_t k = 0; k < c->n_outcomes; k++) {
        if (c->outcome_names) upf_free(c->outcome_names[k]);
        if (c->out) upf_free(c->out[k]);
    }
    upf_free(c->outcome_names);
    upf_free(c->out);
    upf_free(c->user);
    upf_free(c->arm);
    upf_free(c->prop);
    upf_free(c->time);
    memset(c, 0, sizeof *c);
}

void upf_builder_free(upf_builder *b)
{
    if (!b) return;
    intern_free(&b->users);
    intern_free(&b->items);
    intern_free(&b->queries);
    intern_free(&b->user_attr_names);
    intern_free(&b->item_attr_names);
    intern_free(&b->ctx_names);
    intern_free(&b->trigger_names);
    upf_free(b->ev_user);
    upf_free(b->ev_item);
    upf_free(b->ev_query);
    upf_free(b->ev_time);
    upf_free(b->ev_type);
    upf_free(b->ev_value);
    upf_free(b->signup.p);
    upf_free(b->birthday.p);
    upf_free(b->price.p);
    upf_free(b->added.p);
    upf_free(b->stock.p);
    triples_free(&b->user_attrs);
    triples_free(&b->item_attrs);
    triples_free(&b->ctx);
    upf_free(b->ie_item);
    upf_free(b->ie_time);
    upf_free(b->ie_kind);
    upf_free(b->ie_value);
    for (size_t c = 0; c < b->n_camps; c++) bcamp_free(&b->camps[c]);
    upf_free(b->camps);
    upf_free(b->msg_user);
    upf_free(b->msg_item);
    upf_free(b->msg_time);
    upf_free(b->msg_trigger);
    upf_free(b->msg_arm);
    upf_free(b->imp_user);
    upf_free(b->imp_item);
    upf_free(b->imp_time);
    upf_free(b->imp_pos);
    upf_free(b->imp_reward);
    upf_free(b->imp_prop);
    upf_free(b->policy);
    upf_free(b->source);
    upf_free(b->created);
    upf_free(b);
}

upf_status upf_builder_status(const upf_builder *b, upf_err *err)
{
    if (!b) return upf_err_set(err, UPF_ERR_ARG, "builder: NULL");
    if (b->err.status && err) *err = b->err;
    return b->err.status;
}

/* ---- ids ---- */

int32_t upf_builder_user(upf_builder *b, const char *id, size_t len) { return intern_add(b, &b->users, id, len, "user id"); }
int32_t upf_builder_item(upf_builder *b, const char *id, size_t len) { return intern_add(b, &b->items, id, len, "item id"); }
int32_t upf_builder_query(upf_builder *b, const char *text, size_t len)
{
    return intern_add(b, &b->queries, text, len, "query");
}
int32_t upf_builder_find_user(const upf_builder *b, const char *id, size_t len) { return intern_find(&b->users, id, len); }
int32_t upf_builder_find_item(const upf_builder *b, const char *id, size_t len) { return intern_find(&b->items, id, len); }

size_t upf_builder_n_users(const upf_builder *b) { return b->users.sb.n; }
size_t upf_builder_n_items(const upf_builder *b) { return b->items.sb.n; }
int64_t upf_builder_n_events(const upf_builder *b) { return b->n_ev; }

/* ---- events ---- */

static int grow_events(upf_builder *b, int64_t need)
{
    if (need <= b->cap_ev) return 0;
    size_t cap = next_cap((size_t)b->cap_ev, (size_t)need, 4096);
    if (!cap || cap > (size_t)INT64_MAX) return -1;
    if (grow((void **)&b->ev_user, sizeof *b->ev_user, cap) || grow((void **)&b->ev_item, sizeof *b->ev_item, cap) ||
        grow((void **)&b->ev_time, sizeof *b->ev_time, cap) || grow((void **)&b->ev_type, sizeof *b->ev_type, cap) ||
        grow((void **)&b->ev_value, sizeof *b->ev_value, cap) ||
        (b->ev_query && grow((void **)&b->ev_query, sizeof *b->ev_query, cap)))
        return -1;
    b->cap_ev = (int64_t)cap;
    return 0;
}

upf_status upf_builder_reserve(upf_builder *b, int64_t n_events)
{
    if (b->err.status) return b->err.status;
    if (n_events < 0) return fail(b, UPF_ERR_ARG, "builder: reserve %" PRId64 " events", n_events);
    if (grow_events(b, n_events)) return fail(b, UPF_ERR_NOMEM, "builder: out of memory reserving %" PRId64 " events", n_events);
    return UPF_OK;
}

static int user_ok(const upf_builder *b, int32_t u) { return u >= 0 && (size_t)u < b->users.sb.n; }
static int item_ok(const upf_builder *b, int32_t i) { return i >= 0 && (size_t)i < b->items.sb.n; }

upf_status upf_builder_event(upf_builder *b, int32_t user, int32_t item, int64_t time, int type, float value,
                             int32_t query)
{
    if (b->err.status) return b->err.status;
    int64_t row = b->n_ev;
    if (!user_ok(b, user)) return fail(b, UPF_ERR_ARG, "builder: event %" PRId64 ": user %" PRId32 " was never added", row, user);
    if (type <= UPF_EV_NONE || type >= UPF_EV_TYPE_COUNT)
        return fail(b, UPF_ERR_ARG, "builder: event %" PRId64 ": type %d (expected 1..%d)", row, type, UPF_EV_TYPE_COUNT - 1);
    if (item == -1 ? type != UPF_EV_SEARCH : !item_ok(b, item))
        return fail(b, UPF_ERR_ARG, "builder: event %" PRId64 ": item %" PRId32 " on a %s event (expected an added item%s)", row,
                    item, upf_event_type_name(type), type == UPF_EV_SEARCH ? " or -1" : "");
    if (time == UPF_TIME_MISSING) return fail(b, UPF_ERR_ARG, "builder: event %" PRId64 ": missing time", row);
    if (!isfinite(value)) return fail(b, UPF_ERR_ARG, "builder: event %" PRId64 ": value %g is not finite", row, (double)value);
    if (query < -1 || (query >= 0 && (size_t)query >= b->queries.sb.n))
        return fail(b, UPF_ERR_ARG, "builder: event %" PRId64 ": query %" PRId32 " was never added", row, query);
    if (row == b->cap_ev && grow_events(b, row + 1)) return NOMEM(b, "events");
    if (query >= 0 && !b->ev_query) {
        if (grow((void **)&b->ev_query, sizeof *b->ev_query, (size_t)b->cap_ev)) return NOMEM(b, "event queries");
        for (int64_t i = 0; i < row; i++) b->ev_query[i] = -1;
    }
    b->ev_user[row] = user;
    b->ev_item[row] = item;
    b->ev_time[row] = time;
    b->ev_type[row] = (uint8_t)type;
    b->ev_value[row] = value;
    if (b->ev_query) b->ev_query[row] = query;
    b->n_ev = row + 1;
    return UPF_OK;
}

/* ---- attributes and per-row fields ---- */

static upf_status add_attr(upf_builder *b, triples *t, intern *names, int32_t row, const char *name, float value,
                           const char *what)
{
    if (b->err.status) return b->err.status;
    if (!name || !*name) return fail(b, UPF_ERR_ARG, "builder: %s attribute of row %" PRId32 ": empty name", what, row);
    if (!isfinite(value))
        return fail(b, UPF_ERR_ARG, "builder: %s attribute \"%s\" of row %" PRId32 ": value %g is not finite", what, name, row,
                    (double)value);
    int32_t j = intern_add(b, names, name, strlen(name), "attribute name");
    if (j < 0) return b->err.status;
    if (triples_add(t, row, j, value)) return NOMEM(b, "attributes");
    return UPF_OK;
}

upf_status upf_builder_user_attr(upf_builder *b, int32_t user, const char *name, float value)
{
    if (!b->err.status && !user_ok(b, user)) return fail(b, UPF_ERR_ARG, "builder: user attribute: user %" PRId32 " was never added", user);
    return add_attr(b, &b->user_attrs, &b->user_attr_names, user, name, value, "user");
}

upf_status upf_builder_item_attr(upf_builder *b, int32_t item, const char *name, float value)
{
    if (!b->err.status && !item_ok(b, item)) return fail(b, UPF_ERR_ARG, "builder: item attribute: item %" PRId32 " was never added", item);
    return add_attr(b, &b->item_attrs, &b->item_attr_names, item, name, value, "item");
}

static upf_status set_field(upf_builder *b, optcol *c, int32_t row, int is_user, const void *val, const void *dflt,
                            const char *what)
{
    if (b->err.status) return b->err.status;
    if (is_user ? !user_ok(b, row) : !item_ok(b, row))
        return fail(b, UPF_ERR_ARG, "builder: %s: %s %" PRId32 " was never added", what, is_user ? "user" : "item", row);
    if (optcol_set(c, (size_t)row, val, dflt)) return NOMEM(b, what);
    return UPF_OK;
}

upf_status upf_builder_user_signup(upf_builder *b, int32_t user, int64_t t)
{
    return set_field(b, &b->signup, user, 1, &t, &time_missing, "signup");
}

upf_status upf_builder_user_birthday(upf_builder *b, int32_t user, int64_t t)
{
    return set_field(b, &b->birthday, user, 1, &t, &time_missing, "birthday");
}

upf_status upf_builder_item_price(upf_builder *b, int32_t item, float price)
{
    if (!b->err.status && isinf(price))
        return fail(b, UPF_ERR_ARG, "builder: price of item %" PRId32 ": infinite (expected a number, or NaN when unknown)", item);
    return set_field(b, &b->price, item, 0, &price, &nan_f, "price");
}

upf_status upf_builder_item_added(upf_builder *b, int32_t item, int64_t t)
{
    return set_field(b, &b->added, item, 0, &t, &time_missing, "added");
}

upf_status upf_builder_item_stock(upf_builder *b, int32_t item, int in_stock)
{
    uint8_t v = in_stock ? 1 : 0;
    return set_field(b, &b->stock, item, 0, &v, &in_stock_default, "in_stock");
}

upf_status upf_builder_item_event(upf_builder *b, int32_t item, int64_t time, int kind, float value)
{
    if (b->err.status) return b->err.status;
    if (!item_ok(b, item)) return fail(b, UPF_ERR_ARG, "builder: item event %zu: item %" PRId32 " was never added", b->n_ie, item);
    if (time == UPF_TIME_MISSING) return fail(b, UPF_ERR_ARG, "builder: item event %zu: missing time", b->n_ie);
    if (kind <= UPF_IE_NONE || kind >= UPF_IE_KIND_COUNT)
        return fail(b, UPF_ERR_ARG, "builder: item event %zu: kind %d (expected 1..%d)", b->n_ie, kind, UPF_IE_KIND_COUNT - 1);
    if (isinf(value)) return fail(b, UPF_ERR_ARG, "builder: item event %zu: infinite value", b->n_ie);
    if (b->n_ie == b->cap_ie) {
        size_t cap = next_cap(b->cap_ie, b->n_ie + 1, 256);
        if (!cap || grow((void **)&b->ie_item, sizeof *b->ie_item, cap) || grow((void **)&b->ie_time, sizeof *b->ie_time, cap) ||
            grow((void **)&b->ie_kind, sizeof *b->ie_kind, cap) || grow((void **)&b->ie_value, sizeof *b->ie_value, cap))
            return NOMEM(b, "item events");
        b->cap_ie = cap;
    }
    b->ie_item[b->n_ie] = item;
    b->ie_time[b->n_ie] = time;
    b->ie_kind[b->n_ie] = (uint8_t)kind;
    b->ie_value[b->n_ie] = value;
    b->n_ie++;
    return UPF_OK;
}

/* ---- campaigns ---- */

int upf_builder_campaign(upf_builder *b, const char *name, const char *const *arm_names, size_t n_arms,
                         const char *const *outcome_names, size_t n_outcomes)
{
    if (b->err.status) return -1;
    if (!upf_h5_name_ok(name))
        return fail(b, UPF_ERR_ARG, "builder: campaign name \"%s\" is not usable as an HDF5 group name (1..255 bytes of UTF-8, no '/')",
                    name ? name : "(null)"),
               -1;
    for (size_t c = 0; c < b->n_camps; c++)
        if (strcmp(b->camps[c].name, name) == 0) return fail(b, UPF_ERR_ARG, "builder: campaign \"%s\" declared twice", name), -1;
    if (n_arms < 1 || n_arms > INT16_MAX || !arm_names)
        return fail(b, UPF_ERR_ARG, "builder: campaign \"%s\": %zu arms (expected 1..%d, arm 0 the control)", name, n_arms, INT16_MAX), -1;
    if (n_outcomes && !outcome_names) return fail(b, UPF_ERR_ARG, "builder: campaign \"%s\": outcome names missing", name), -1;
    for (size_t a = 0; a < n_arms; a++)
        if (!arm_names[a] || !upf_utf8_valid(arm_names[a], strlen(arm_names[a]), NULL))
            return fail(b, UPF_ERR_ARG, "builder: campaign \"%s\": arm %zu has no valid UTF-8 name", name, a), -1;
    for (size_t k = 0; k < n_outcomes; k++) {
        const char *on = outcome_names[k];
        if (!upf_h5_name_ok(on) || strcmp(on, "names") == 0)
            return fail(b, UPF_ERR_ARG, "builder: campaign \"%s\": outcome name \"%s\" is not usable (1..255 bytes of UTF-8, no '/', not \"names\")",
                        name, on ? on : "(null)"),
                   -1;
        for (size_t l = 0; l < k; l++)
            if (strcmp(outcome_names[l], on) == 0)
                return fail(b, UPF_ERR_ARG, "builder: campaign \"%s\": outcome \"%s\" declared twice", name, on), -1;
    }
    if (b->n_camps == b->cap_camps) {
        size_t cap = next_cap(b->cap_camps, b->n_camps + 1, 4);
        if (!cap || grow((void **)&b->camps, sizeof *b->camps, cap)) return NOMEM(b, "campaigns"), -1;
        b->cap_camps = cap;
    }
    bcamp *c = &b->camps[b->n_camps];
    memset(c, 0, sizeof *c);
    upf_strbuf sb = { 0 };
    int bad = !(c->name = upf_strdup(name));
    for (size_t a = 0; a < n_arms && !bad; a++) bad = upf_strbuf_append(&sb, arm_names[a], strlen(arm_names[a]));
    if (!bad) bad = upf_strbuf_take(&sb, &c->arm_names);
    if (!bad && n_outcomes) {
        c->outcome_names = upf_calloc(n_outcomes, sizeof *c->outcome_names);
        c->out = upf_calloc(n_outcomes, sizeof *c->out);
        bad = !c->outcome_names || !c->out;
        if (!bad) c->n_outcomes = n_outcomes;
        for (size_t k = 0; k < n_outcomes && !bad; k++) bad = !(c->outcome_names[k] = upf_strdup(outcome_names[k]));
    }
    if (bad) {
        upf_strbuf_free(&sb);
        bcamp_free(c);
        return NOMEM(b, "campaign"), -1;
    }
    return (int)b->n_camps++;
}

upf_status upf_builder_campaign_row(upf_builder *b, int campaign, int32_t user, int arm, float propensity, int64_t time,
                                    const float *outcomes)
{
    if (b->err.status) return b->err.status;
    if (campaign < 0 || (size_t)campaign >= b->n_camps)
        return fail(b, UPF_ERR_ARG, "builder: campaign %d was never declared", campaign);
    bcamp *c = &b->camps[campaign];
    if (!user_ok(b, user)) return fail(b, UPF_ERR_ARG, "builder: campaign \"%s\" row %zu: user %" PRId32 " was never added", c->name, c->n, user);
    if (arm < 0 || (size_t)arm >= c->arm_names.n)
        return fail(b, UPF_ERR_ARG, "builder: campaign \"%s\" row %zu: arm %d (expected 0..%zu)", c->name, c->n, arm, c->arm_names.n - 1);
    if (!isnan(propensity) && !(propensity >= 0.0f && propensity <= 1.0f))
        return fail(b, UPF_ERR_ARG, "builder: campaign \"%s\" row %zu: propensity %g (expected in [0, 1], or NaN)", c->name, c->n,
                    (double)propensity);
    if (c->n_outcomes && !outcomes) return fail(b, UPF_ERR_ARG, "builder: campaign \"%s\" row %zu: outcomes missing", c->name, c->n);
    for (size_t k = 0; k < c->n_outcomes; k++)
        if (isinf(outcomes[k]))
            return fail(b, UPF_ERR_ARG, "builder: campaign \"%s\" row %zu: outcome %s is infinite", c->name, c->n, c->outcome_names[k]);
    if (c->n == c->cap) {
        size_t cap = next_cap(c->cap, c->n + 1, 256);
        int bad = !cap || grow((void **)&c->user, sizeof *c->user, cap) || grow((void **)&c->arm, sizeof *c->arm, cap) ||
                  grow((void **)&c->prop, sizeof *c->prop, cap) || grow((void **)&c->time, sizeof *c->time, cap);
        for (size_t k = 0; k < c->n_outcomes && !bad; k++) bad = grow((void **)&c->out[k], sizeof **c->out, cap);
        if (bad) return NOMEM(b, "campaign rows");
        c->cap = cap;
    }
    c->user[c->n] = user;
    c->arm[c->n] = (int16_t)arm;
    c->prop[c->n] = propensity;
    c->time[c->n] = time;
    for (size_t k = 0; k < c->n_outcomes; k++) c->out[k][c->n] = outcomes[k];
    c->any_prop |= !isnan(propensity);
    c->any_time |= time != UPF_TIME_MISSING;
    c->n++;
    return UPF_OK;
}

/* ---- messages and impressions ---- */

upf_status upf_builder_message(upf_builder *b, int32_t user, int64_t time, const char *trigger, int32_t item, int arm)
{
    if (b->err.status) return b->err.status;
    if (!user_ok(b, user)) return fail(b, UPF_ERR_ARG, "builder: message %zu: user %" PRId32 " was never added", b->n_msg, user);
    if (time == UPF_TIME_MISSING) return fail(b, UPF_ERR_ARG, "builder: message %zu: missing time", b->n_msg);
    if (item != -1 && !item_ok(b, item))
        return fail(b, UPF_ERR_ARG, "builder: message %zu: item %" PRId32 " (expected an added item or -1)", b->n_msg, item);
    if (arm != 0 && arm != 1) return fail(b, UPF_ERR_ARG, "builder: message %zu: arm %d (expected 0 = held out, 1 = sent)", b->n_msg, arm);
    if (!trigger || !*trigger) return fail(b, UPF_ERR_ARG, "builder: message %zu: empty trigger name", b->n_msg);
    int32_t tr = intern_add(b, &b->trigger_names, trigger, strlen(trigger), "trigger name");
    if (tr < 0) return b->err.status;
    if (tr > UINT8_MAX) return fail(b, UPF_ERR_ARG, "builder: message %zu: more than %d distinct triggers", b->n_msg, UINT8_MAX + 1);
    if (b->n_msg == b->cap_msg) {
        size_t cap = next_cap(b->cap_msg, b->n_msg + 1, 256);
        if (!cap || grow((void **)&b->msg_user, sizeof *b->msg_user, cap) || grow((void **)&b->msg_item, sizeof *b->msg_item, cap) ||
            grow((void **)&b->msg_time, sizeof *b->msg_time, cap) || grow((void **)&b->msg_trigger, sizeof *b->msg_trigger, cap) ||
            grow((void **)&b->msg_arm, sizeof *b->msg_arm, cap))
            return NOMEM(b, "messages");
        b->cap_msg = cap;
    }
    b->msg_user[b->n_msg] = user;
    b->msg_time[b->n_msg] = time;
    b->msg_trigger[b->n_msg] = (uint8_t)tr;
    b->msg_item[b->n_msg] = item;
    b->msg_arm[b->n_msg] = (int16_t)arm;
    b->n_msg++;
    return UPF_OK;
}

upf_status upf_builder_impression(upf_builder *b, int32_t user, int64_t time, int32_t item, int position, float reward,
                                  float propensity)
{
    if (b->err.status) return b->err.status;
    size_t r = b->n_imp;
    if (user != -1 && !user_ok(b, user))
        return fail(b, UPF_ERR_ARG, "builder: impression %zu: user %" PRId32 " (expected an added user or -1)", r, user);
    if (time == UPF_TIME_MISSING) return fail(b, UPF_ERR_ARG, "builder: impression %zu: missing time", r);
    if (!item_ok(b, item)) return fail(b, UPF_ERR_ARG, "builder: impression %zu: item %" PRId32 " was never added", r, item);
    if (position < 0 || position > INT16_MAX)
        return fail(b, UPF_ERR_ARG, "builder: impression %zu: position %d (expected 0..%d)", r, position, INT16_MAX);
    if (!isfinite(reward)) return fail(b, UPF_ERR_ARG, "builder: impression %zu: reward %g is not finite", r, (double)reward);
    if (!isnan(propensity) && !(propensity > 0.0f && propensity <= 1.0f))
        return fail(b, UPF_ERR_ARG, "builder: impression %zu: propensity %g (expected in (0, 1], or NaN)", r, (double)propensity);
    if (r == b->cap_imp) {
        size_t cap = next_cap(b->cap_imp, r + 1, 256);
        if (!cap || grow((void **)&b->imp_user, sizeof *b->imp_user, cap) || grow((void **)&b->imp_item, sizeof *b->imp_item, cap) ||
            grow((void **)&b->imp_time, sizeof *b->imp_time, cap) || grow((void **)&b->imp_pos, sizeof *b->imp_pos, cap) ||
            grow((void **)&b->imp_reward, sizeof *b->imp_reward, cap) || grow((void **)&b->imp_prop, sizeof *b->imp_prop, cap))
            return NOMEM(b, "impressions");
        b->cap_imp = cap;
    }
    b->imp_user[r] = user;
    b->imp_time[r] = time;
    b->imp_item[r] = item;
    b->imp_pos[r] = (int16_t)position;
    b->imp_reward[r] = reward;
    b->imp_prop[r] = propensity;
    b->n_imp = r + 1;
    return UPF_OK;
}

upf_status upf_builder_impression_context(upf_builder *b, const char *name, float value)
{
    if (b->err.status) return b->err.status;
    if (b->n_imp == 0) return fail(b, UPF_ERR_ARG, "builder: impression context \"%s\" before any impression", name ? name : "");
    return add_attr(b, &b->ctx, &b->ctx_names, (int32_t)(b->n_imp - 1), name, value, "impression context");
}

static upf_status set_text(upf_builder *b, char **dst, const char *s, const char *what)
{
    if (b->err.status) return b->err.status;
    if (!s) return fail(b, UPF_ERR_ARG, "builder: %s: NULL", what);
    if (!upf_utf8_valid(s, strlen(s), NULL)) return fail(b, UPF_ERR_ARG, "builder: %s is not valid UTF-8", what);
    char *c = upf_strdup(s);
    if (!c) return NOMEM(b, what);
    upf_free(*dst);
    *dst = c;
    return UPF_OK;
}

upf_status upf_builder_set_policy(upf_builder *b, const char *policy) { return set_text(b, &b->policy, policy, "policy"); }
upf_status upf_builder_set_source(upf_builder *b, const char *source) { return set_text(b, &b->source, source, "source"); }
upf_status upf_builder_set_created(upf_builder *b, const char *created) { return set_text(b, &b->created, created, "created"); }

/* ---- finish ---- */

typedef struct name_row {
    int32_t name;
    int64_t src; /* input order: ties keep it, so sums are in input order */
} name_row;

static int cmp_name_row(const void *a, const void *b)
{
    const name_row *x = a, *y = b;
    if (x->name != y->name) return x->name < y->name ? -1 : 1;
    return (x->src > y->src) - (x->src < y->src);
}

/* Triples -> CSR with names ascending within a row and repeats summed. */
static upf_status build_attrs(triples *t, intern *names, size_t n_rows, upf_attrs *out, upf_err *err)
{
    upf_status st = UPF_OK;
    int64_t *order = NULL;
    name_row *buf = NULL;
    memset(out, 0, sizeof *out);
    if (t->n == 0 && names->sb.n == 0) return UPF_OK;
    size_t nnz = t->n;
    out->ptr = upf_malloc((n_rows + 1) * sizeof *out->ptr);
    out->index = upf_malloc(nnz * sizeof *out->index);
    out->value = upf_malloc(nnz * sizeof *out->value);
    if (!out->ptr || !out->index || !out->value) goto nomem;
    if ((st = upf_order_by_key_time(t->row, NULL, (int64_t)nnz, n_rows, out->ptr, &order, err))) goto done;
    size_t max_len = 0;
    for (size_t r = 0; r < n_rows; r++)
        if ((size_t)(out->ptr[r + 1] - out->ptr[r]) > max_len) max_len = (size_t)(out->ptr[r + 1] - out->ptr[r]);
    if (max_len && !(buf = upf_malloc(max_len * sizeof *buf))) goto nomem;
    int64_t w = 0, b0 = 0;
    for (size_t r = 0; r < n_rows; r++) {
        int64_t e = out->ptr[r + 1];
        size_t len = (size_t)(e - b0);
        for (size_t k = 0; k < len; k++) {
            int64_t src = order ? order[b0 + (int64_t)k] : b0 + (int64_t)k;
            buf[k].name = t->name[src];
            buf[k].src = src;
        }
        qsort(buf, len, sizeof *buf, cmp_name_row);
        for (size_t k = 0; k < len;) {
            double sum = 0;
            size_t l = k;
            for (; l < len && buf[l].name == buf[k].name; l++) sum += (double)t->value[buf[l].src];
            out->index[w] = buf[k].name;
            out->value[w] = (float)sum;
            w++;
            k = l;
        }
        b0 = e;
        out->ptr[r + 1] = w;
    }
    shrink((void **)&out->index, sizeof *out->index, (size_t)w);
    shrink((void **)&out->value, sizeof *out->value, (size_t)w);
    if (upf_strbuf_take(&names->sb, &out->names)) goto nomem;
    out->n_rows = n_rows;
    goto done;
nomem:
    st = upf_err_set(err, UPF_ERR_NOMEM, "builder: out of memory building attributes");
done:
    upf_free(buf);
    upf_free(order);
    if (st) upf_attrs_free(out);
    return st;
}

static upf_status finish_events(upf_builder *b, upf_dataset *ds, upf_err *err)
{
    upf_status st = UPF_OK;
    int64_t *order = NULL;
    void *scratch = NULL;
    int64_t n = b->n_ev;
    size_t nu = b->users.sb.n;
    ds->user_ptr = upf_malloc((nu + 1) * sizeof *ds->user_ptr);
    if (!ds->user_ptr) goto nomem;
    if (b->queries.sb.n && !b->ev_query) {
        if (grow((void **)&b->ev_query, sizeof *b->ev_query, (size_t)(n ? n : 1))) goto nomem;
        for (int64_t i = 0; i < n; i++) b->ev_query[i] = -1;
    }
    if ((st = upf_order_by_key_time(b->ev_user, b->ev_time, n, nu, ds->user_ptr, &order, err))) goto done;
    if (order) {
        if (!(scratch = upf_malloc((size_t)n * sizeof(int64_t)))) goto nomem;
        upf_advise_huge(scratch, (size_t)n * sizeof(int64_t));
        upf_apply_order(b->ev_user, sizeof *b->ev_user, order, n, scratch);
        upf_apply_order(b->ev_item, sizeof *b->ev_item, order, n, scratch);
        upf_apply_order(b->ev_time, sizeof *b->ev_time, order, n, scratch);
        upf_apply_order(b->ev_type, sizeof *b->ev_type, order, n, scratch);
        upf_apply_order(b->ev_value, sizeof *b->ev_value, order, n, scratch);
        if (b->ev_query) upf_apply_order(b->ev_query, sizeof *b->ev_query, order, n, scratch);
    }
    shrink((void **)&b->ev_user, sizeof *b->ev_user, (size_t)n);
    shrink((void **)&b->ev_item, sizeof *b->ev_item, (size_t)n);
    shrink((void **)&b->ev_time, sizeof *b->ev_time, (size_t)n);
    shrink((void **)&b->ev_type, sizeof *b->ev_type, (size_t)n);
    shrink((void **)&b->ev_value, sizeof *b->ev_value, (size_t)n);
    if (b->ev_query) shrink((void **)&b->ev_query, sizeof *b->ev_query, (size_t)n);
    if (n == 0 && !b->ev_user) {
        /* No event was ever added: give the columns a valid empty allocation. */
        if (grow_events(b, 1)) goto nomem;
    }
    ds->n_events = n;
    ds->ev_user = b->ev_user, b->ev_user = NULL;
    ds->ev_item = b->ev_item, b->ev_item = NULL;
    ds->ev_time = b->ev_time, b->ev_time = NULL;
    ds->ev_type = b->ev_type, b->ev_type = NULL;
    ds->ev_value = b->ev_value, b->ev_value = NULL;
    ds->ev_query = b->ev_query, b->ev_query = NULL;
    goto done;
nomem:
    st = upf_err_set(err, UPF_ERR_NOMEM, "builder: out of memory ordering %" PRId64 " events", n);
done:
    upf_free(scratch);
    upf_free(order);
    return st;
}

static upf_status finish_item_events(upf_builder *b, upf_dataset *ds, upf_err *err)
{
    upf_status st = UPF_OK;
    int64_t *order = NULL, *ptr = NULL;
    void *scratch = NULL;
    size_t n = b->n_ie;
    if (n == 0) return UPF_OK;
    if (!(ptr = upf_malloc((b->items.sb.n + 1) * sizeof *ptr))) goto nomem;
    if ((st = upf_order_by_key_time(b->ie_item, b->ie_time, (int64_t)n, b->items.sb.n, ptr, &order, err))) goto done;
    if (order) {
        if (!(scratch = upf_malloc(n * sizeof(int64_t)))) goto nomem;
        upf_apply_order(b->ie_item, sizeof *b->ie_item, order, (int64_t)n, scratch);
        upf_apply_order(b->ie_time, sizeof *b->ie_time, order, (int64_t)n, scratch);
        upf_apply_order(b->ie_kind, sizeof *b->ie_kind, order, (int64_t)n, scratch);
        upf_apply_order(b->ie_value, sizeof *b->ie_value, order, (int64_t)n, scratch);
    }
    upf_item_events *ie = &ds->item_events;
    ie->n = n;
    ie->item = b->ie_item, b->ie_item = NULL;
    ie->time = b->ie_time, b->ie_time = NULL;
    ie->kind = b->ie_kind, b->ie_kind = NULL;
    ie->value = b->ie_value, b->ie_value = NULL;
    shrink((void **)&ie->item, sizeof *ie->item, n);
    shrink((void **)&ie->time, sizeof *ie->time, n);
    shrink((void **)&ie->kind, sizeof *ie->kind, n);
    shrink((void **)&ie->value, sizeof *ie->value, n);
    goto done;
nomem:
    st = upf_err_set(err, UPF_ERR_NOMEM, "builder: out of memory ordering %zu item events", n);
done:
    upf_free(scratch);
    upf_free(order);
    upf_free(ptr);
    return st;
}

static upf_status finish_campaigns(upf_builder *b, upf_dataset *ds, upf_err *err)
{
    if (b->n_camps == 0) return UPF_OK;
    ds->campaigns = upf_calloc(b->n_camps, sizeof *ds->campaigns);
    if (!ds->campaigns) return upf_err_set(err, UPF_ERR_NOMEM, "builder: out of memory (campaigns)");
    ds->n_campaigns = b->n_camps;
    for (size_t i = 0; i < b->n_camps; i++) {
        bcamp *c = &b->camps[i];
        upf_campaign *d = &ds->campaigns[i];
        d->name = c->name, c->name = NULL;
        d->n = c->n;
        d->arm_names = c->arm_names;
        memset(&c->arm_names, 0, sizeof c->arm_names);
        d->n_outcomes = c->n_outcomes;
        d->outcome_names = c->outcome_names, c->outcome_names = NULL;
        d->outcome = c->out, c->out = NULL;
        c->n_outcomes = 0;
        d->user = c->user, c->user = NULL;
        d->arm = c->arm, c->arm = NULL;
        if (c->any_prop) d->propensity = c->prop, c->prop = NULL;
        if (c->any_time) d->time = c->time, c->time = NULL;
        /* Campaigns with no rows still get (empty) arrays, so n == 0 is never a NULL dereference. */
        int bad = (!d->user && grow((void **)&d->user, sizeof *d->user, 1)) || (!d->arm && grow((void **)&d->arm, sizeof *d->arm, 1));
        for (size_t k = 0; k < d->n_outcomes && !bad; k++)
            bad = !d->outcome[k] && grow((void **)&d->outcome[k], sizeof **d->outcome, 1);
        if (bad) return upf_err_set(err, UPF_ERR_NOMEM, "builder: out of memory (campaigns)");
        shrink((void **)&d->user, sizeof *d->user, d->n);
        shrink((void **)&d->arm, sizeof *d->arm, d->n);
        if (d->propensity) shrink((void **)&d->propensity, sizeof *d->propensity, d->n);
        if (d->time) shrink((void **)&d->time, sizeof *d->time, d->n);
        for (size_t k = 0; k < d->n_outcomes; k++) shrink((void **)&d->outcome[k], sizeof **d->outcome, d->n);
    }
    return UPF_OK;
}

static upf_status finish_messages(upf_builder *b, upf_dataset *ds, upf_err *err)
{
    upf_messages *m = &ds->messages;
    if (b->n_msg == 0) return UPF_OK;
    if (upf_strbuf_take(&b->trigger_names.sb, &m->trigger_names))
        return upf_err_set(err, UPF_ERR_NOMEM, "builder: out of memory (messages)");
    m->n = b->n_msg;
    m->user = b->msg_user, b->msg_user = NULL;
    m->time = b->msg_time, b->msg_time = NULL;
    m->trigger = b->msg_trigger, b->msg_trigger = NULL;
    m->item = b->msg_item, b->msg_item = NULL;
    m->arm = b->msg_arm, b->msg_arm = NULL;
    shrink((void **)&m->user, sizeof *m->user, m->n);
    shrink((void **)&m->time, sizeof *m->time, m->n);
    shrink((void **)&m->trigger, sizeof *m->trigger, m->n);
    shrink((void **)&m->item, sizeof *m->item, m->n);
    shrink((void **)&m->arm, sizeof *m->arm, m->n);
    return UPF_OK;
}

static upf_status finish_impressions(upf_builder *b, upf_dataset *ds, upf_err *err)
{
    upf_impressions *im = &ds->impressions;
    if (b->n_imp == 0 && !b->policy) return UPF_OK;
    upf_status st = build_attrs(&b->ctx, &b->ctx_names, b->n_imp, &im->context, err);
    if (st) return st;
    im->n = b->n_imp;
    im->policy = b->policy, b->policy = NULL;
    if (im->n == 0) return UPF_OK;
    im->user = b->imp_user, b->imp_user = NULL;
    im->time = b->imp_time, b->imp_time = NULL;
    im->item = b->imp_item, b->imp_item = NULL;
    im->position = b->imp_pos, b->imp_pos = NULL;
    im->reward = b->imp_reward, b->imp_reward = NULL;
    im->propensity = b->imp_prop, b->imp_prop = NULL;
    shrink((void **)&im->user, sizeof *im->user, im->n);
    shrink((void **)&im->time, sizeof *im->time, im->n);
    shrink((void **)&im->item, sizeof *im->item, im->n);
    shrink((void **)&im->position, sizeof *im->position, im->n);
    shrink((void **)&im->reward, sizeof *im->reward, im->n);
    shrink((void **)&im->propensity, sizeof *im->propensity, im->n);
    return UPF_OK;
}

upf_status upf_builder_finish(upf_builder *b, upf_dataset **out, upf_err *err)
{
    upf_status st = UPF_OK;
    upf_dataset *ds = NULL;
    *out = NULL;
    if (!b) return upf_err_set(err, UPF_ERR_ARG, "builder: NULL");
    if (b->err.status) {
        st = b->err.status;
        if (err) *err = b->err;
        goto done;
    }
    if (!(ds = upf_calloc(1, sizeof *ds))) goto nomem;
    size_t nu = b->users.sb.n, ni = b->items.sb.n;
    ds->n_users = nu;
    ds->n_items = ni;
    if ((st = finish_events(b, ds, err))) goto done;
    if ((st = build_attrs(&b->user_attrs, &b->user_attr_names, nu, &ds->user_attrs, err))) goto done;
    if ((st = build_attrs(&b->item_attrs, &b->item_attr_names, ni, &ds->item_attrs, err))) goto done;
    if ((st = finish_item_events(b, ds, err))) goto done;
    if ((st = finish_campaigns(b, ds, err))) goto done;
    if ((st = finish_messages(b, ds, err))) goto done;
    if ((st = finish_impressions(b, ds, err))) goto done;
    if (optcol_take(&b->signup, nu, &time_missing, (void **)&ds->user_signup) ||
        optcol_take(&b->birthday, nu, &time_missing, (void **)&ds->user_birthday) ||
        optcol_take(&b->price, ni, &nan_f, (void **)&ds->item_price) ||
        optcol_take(&b->added, ni, &time_missing, (void **)&ds->item_added) ||
        optcol_take(&b->stock, ni, &in_stock_default, (void **)&ds->item_in_stock))
        goto nomem;
    if (upf_strbuf_take(&b->users.sb, &ds->user_ids) || upf_strbuf_take(&b->items.sb, &ds->item_ids) ||
        upf_strbuf_take(&b->queries.sb, &ds->queries))
        goto nomem;
    ds->source = b->source, b->source = NULL;
    if (b->created) {
        ds->created = b->created, b->created = NULL;
    } else {
        char iso[32];
        upf_format_iso_time((int64_t)time(NULL), iso, sizeof iso);
        if (!(ds->created = upf_strdup(iso))) goto nomem;
    }
    if ((st = upf_dataset_validate(ds, err))) {
        upf_err_prefix(err, "builder: internal error: the built dataset fails validation");
        goto done;
    }
    *out = ds;
    ds = NULL;
    goto done;
nomem:
    st = upf_err_set(err, UPF_ERR_NOMEM, "builder: out of memory finishing the dataset");
done:
    upf_dataset_free(ds);
    upf_builder_free(b);
    return st;
}
