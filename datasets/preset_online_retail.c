/* preset_online_retail.c - UCI Online Retail (Chen 2015): invoice lines of a
 * UK gift wholesaler, one CSV or a folder of CSVs read in name order (each
 * with its header; the Spark book's by-day export).
 *
 * Columns by name: InvoiceNo, StockCode, Description, Quantity, InvoiceDate
 * (YYYY-MM-DD HH:MM:SS or UCI's M/D/YYYY H:MM), UnitPrice, CustomerID
 * (17850 or 17850.0), Country. Every StockCode is an item.
 * - A line of a customer's invoice is a PURCHASE event, value = Quantity *
 *   UnitPrice (revenue, GBP). A line of a cancellation invoice ('C' prefix)
 *   or with a negative Quantity is a RETURN event, value = |Quantity| *
 *   UnitPrice; neither is counted as a purchase.
 * - Lines without CustomerID (guest checkouts) are skipped and counted
 *   ("no customer id"); they still inform the item facts below.
 * - Item facts: UPF_IE_LISTED and `added` at the item's first sale line (any
 *   line with Quantity > 0, UnitPrice > 0, not cancelled); UPF_IE_PRICE each
 *   time a customer sale line's UnitPrice differs from the item's previous
 *   one (guest lines are left out: they follow a retail price list and would
 *   make the history flap); `price` = the last such price.
 * - Item attributes: word tokens of the first non-empty Description of a sale
 *   line, "token=lantern". User attribute: "country=<first Country seen>".
 * The quantity itself is not stored (schema v1 has one value per event):
 * value / the item's price at that time recovers it where the price is the
 * list price. Expected: 4372 users, 135080 lines without a customer.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "presets.h"

/* Per-item and per-user state while reading. */
typedef struct retail_state {
    float *last_price;     /* (cap_items) NaN = none yet */
    uint8_t *item_flags;   /* (cap_items) bit0 listed, bit1 tokens done */
    size_t cap_items;
    uint8_t *user_country; /* (cap_users) 1 = country set */
    size_t cap_users;
} retail_state;

static int grow(void **p, size_t *cap, size_t need, size_t elem, int fill_nan)
{
    if (need < *cap) return 0;
    size_t ncap = *cap ? *cap : 4096, bytes;
    while (ncap <= need) ncap *= 2;
    if (upf_mul_size(ncap, elem, &bytes)) return -1;
    char *n = upf_realloc(*p, bytes);
    if (!n) return -1;
    if (fill_nan)
        for (size_t i = *cap; i < ncap; i++) ((float *)(void *)n)[i] = NAN;
    else
        memset(n + *cap * elem, 0, (ncap - *cap) * elem);
    *p = n;
    *cap = ncap;
    return 0;
}

static int grow_items(retail_state *s, int32_t item)
{
    size_t cap = s->cap_items;
    if (grow((void **)&s->last_price, &cap, (size_t)item, sizeof(float), 1)) return -1;
    size_t cap2 = s->cap_items;
    if (grow((void **)&s->item_flags, &cap2, (size_t)item, 1, 0)) return -1;
    s->cap_items = cap;
    return 0;
}

typedef struct cols {
    size_t inv, stock, desc, qty, date, price, cust, country, max;
} cols;

static upf_status find_cols(const upf_csv *r, cols *c, upf_err *err)
{
    static const char *const names[8] = { "InvoiceNo", "StockCode", "Description", "Quantity",
                                          "InvoiceDate", "UnitPrice", "CustomerID", "Country" };
    size_t *dst[8] = { &c->inv, &c->stock, &c->desc, &c->qty, &c->date, &c->price, &c->cust, &c->country };
    c->max = 0;
    for (int i = 0; i < 8; i++) {
        upf_status st = upf_csv_column(r, names[i], dst[i], err);
        if (st) return st;
        if (*dst[i] + 1 > c->max) c->max = *dst[i] + 1;
    }
    return UPF_OK;
}

static upf_status read_file(upf_import *im, retail_state *s, const char *path, upf_err *err)
{
    upf_status st = UPF_OK;
    upf_csv *r = NULL;
    upf_err rowerr;
    upf_err_clear(&rowerr);
    upf_csv_opts o = upf_csv_opts_default();
    cols c;
    if ((st = upf_import_open_csv(path, &o, &r, err))) return st;
    if ((st = find_cols(r, &c, err))) goto done;
    int rc;
    while ((rc = upf_import_next_row(im, r, &st, err)) == 1) {
        size_t nf;
        const upf_csv_field *f = upf_csv_row(r, &nf);
        const char *reason = NULL;
        int64_t qty = 0, t = 0;
        double price = 0;
        int32_t item = -1, user = -1;
        if (nf < c.max) {
            reason = "missing column";
            upf_row_short(r, nf, c.max, "row", &rowerr);
        } else if (f[c.inv].len == 0) {
            reason = "bad invoice";
            upf_field_error(r, &f[c.inv], "InvoiceNo", "an invoice number", &rowerr);
        } else if (upf_field_i64(r, &f[c.qty], "Quantity", &qty, &rowerr)) {
            reason = "bad quantity";
        } else if (upf_field_time(r, &f[c.date], "InvoiceDate", UPF_TIME_AUTO, &t, &rowerr)) {
            reason = "bad time";
        } else if (upf_field_f64(r, &f[c.price], "UnitPrice", &price, &rowerr)) {
            reason = "bad price";
        } else if ((st = upf_field_item(im, r, &f[c.stock], "StockCode", UPF_ID_STRING, &item, &rowerr))) {
            if (st != UPF_ERR_FORMAT) goto fatal;
            reason = "bad item id";
        } else if (f[c.cust].len &&
                   (st = upf_field_user(im, r, &f[c.cust], "CustomerID", UPF_ID_INT_FLOAT, &user, &rowerr))) {
            if (st != UPF_ERR_FORMAT) goto fatal;
            reason = "bad user id";
        }
        if (reason) {
            if ((st = upf_import_bad_row(im, reason, &rowerr))) goto fatal;
            continue;
        }
        if (grow_items(s, item)) goto nomem;
        int cancel = f[c.inv].p[0] == 'C' || f[c.inv].p[0] == 'c';
        int sale = !cancel && qty > 0 && price > 0;
        if (sale && !(s->item_flags[item] & 1)) {
            s->item_flags[item] |= 1;
            if ((st = upf_builder_item_event(im->b, item, t, UPF_IE_LISTED, 0.0f)) ||
                (st = upf_builder_item_added(im->b, item, t)))
                goto builder_fail;
            im->st.item_events++;
        }
        if (sale && !(s->item_flags[item] & 2) && f[c.desc].len) {
            s->item_flags[item] |= 2;
            if ((st = upf_import_text_attr(im, 1, item, "token", f[c.desc].p, f[c.desc].len, err))) goto done;
        }
        if (user < 0) {
            upf_import_skip(im, "no customer id");
            continue;
        }
        if (sale && s->last_price[item] != (float)price) {
            s->last_price[item] = (float)price;
            if ((st = upf_builder_item_event(im->b, item, t, UPF_IE_PRICE, (float)price)) ||
                (st = upf_builder_item_price(im->b, item, (float)price)))
                goto builder_fail;
            im->st.item_events++;
        }
        if ((size_t)user >= s->cap_users) {
            size_t cap = s->cap_users;
            if (grow((void **)&s->user_country, &cap, (size_t)user, 1, 0)) goto nomem;
            s->cap_users = cap;
        }
        if (!s->user_country[user] && f[c.country].len) {
            s->user_country[user] = 1;
            if ((st = upf_import_cat_attr(im, 0, user, "country", f[c.country].p, f[c.country].len, err))) goto done;
        }
        double v = fabs((double)qty * price);
        if (v > 3.4e38) {
            upf_field_error(r, &f[c.qty], "Quantity", "a line total within float32 range", &rowerr);
            if ((st = upf_import_bad_row(im, "bad value", &rowerr))) goto fatal;
            continue;
        }
        int type = (cancel || qty < 0) ? UPF_EV_RETURN : UPF_EV_PURCHASE;
        if ((st = upf_import_event(im, user, item, t, type, (float)v, -1, err))) goto done;
    }
    goto done;
builder_fail:
    st = upf_import_builder_error(im, st, path, err);
    goto done;
nomem:
    st = upf_err_set(err, UPF_ERR_NOMEM, "out of memory");
    goto done;
fatal:
    *err = rowerr;
done:
    upf_import_close_csv(im, r);
    return st;
}

upf_status upf_preset_online_retail(upf_import *im, const char *const *inputs, size_t n, upf_err *err)
{
    upf_input_files files;
    retail_state s;
    memset(&s, 0, sizeof s);
    upf_status st = upf_inputs_expand(inputs, n, &files, err);
    if (st) return st;
    size_t used = 0;
    for (size_t i = 0; i < files.n; i++) {
        const char *base = upf_path_base(files.path[i]);
        size_t bl = strlen(base);
        int is_csv = bl > 4 && strcmp(base + bl - 4, ".csv") == 0;
        if (!is_csv && upf_inputs_have_dir(inputs, n)) continue; /* README and the like in a folder */
        if ((st = read_file(im, &s, files.path[i], err))) goto done;
        used++;
    }
    if (!used) st = upf_err_set(err, UPF_ERR_ARG, "--preset online-retail: no .csv files among the inputs");
done:
    upf_free(s.last_price);
    upf_free(s.item_flags);
    upf_free(s.user_country);
    upf_input_files_free(&files);
    return st;
}
