/* lifetime_testutil.h - in-memory datasets for the lifetime tests, filled
 * field by field (independent of the dataset builder) and freed with
 * lt_ds_free: a simulated shop with planted repurchase intervals and dropout,
 * and the CDNOW sample read straight from its text file.
 * Static inline only (one header, several test files). */
#ifndef UPF_LIFETIME_TESTUTIL_H
#define UPF_LIFETIME_TESTUTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../datasets/dataset.h"
#include "../model/rng.h"

#define LT_DAY 86400
#define LT_T0 1262304000 /* 2010-01-01T00:00:00Z */

typedef struct lt_event {
    int32_t user, item;
    int64_t time;
    uint8_t type;
    float value;
} lt_event;

static inline int lt_cmp_event(const void *pa, const void *pb)
{
    const lt_event *a = pa, *b = pb;
    if (a->user != b->user) return a->user < b->user ? -1 : 1;
    if (a->time != b->time) return a->time < b->time ? -1 : 1;
    return 0;
}

static inline void lt_strings(upf_strings *s, const char *prefix, size_t n)
{
    s->n = n;
    s->off = calloc(n + 1, sizeof *s->off);
    s->data = malloc(n * 24 + 1);
    for (size_t i = 0; i < n; i++) {
        int k = snprintf(s->data + s->off[i], 24, "%s%zu", prefix, i);
        s->off[i + 1] = s->off[i] + k + 1;
    }
}

/* events need not be sorted; n_users / n_items bound the indices */
static inline upf_dataset *lt_ds_make(lt_event *e, size_t n, size_t n_users, size_t n_items)
{
    qsort(e, n, sizeof *e, lt_cmp_event);
    upf_dataset *ds = calloc(1, sizeof *ds);
    ds->n_users = n_users;
    ds->n_items = n_items;
    ds->n_events = (int64_t)n;
    ds->ev_user = malloc((n + 1) * sizeof *ds->ev_user);
    ds->ev_item = malloc((n + 1) * sizeof *ds->ev_item);
    ds->ev_time = malloc((n + 1) * sizeof *ds->ev_time);
    ds->ev_type = malloc(n + 1);
    ds->ev_value = malloc((n + 1) * sizeof *ds->ev_value);
    ds->user_ptr = calloc(n_users + 1, sizeof *ds->user_ptr);
    for (size_t i = 0; i < n; i++) {
        ds->ev_user[i] = e[i].user;
        ds->ev_item[i] = e[i].item;
        ds->ev_time[i] = e[i].time;
        ds->ev_type[i] = e[i].type;
        ds->ev_value[i] = e[i].value;
        ds->user_ptr[e[i].user + 1]++;
    }
    for (size_t u = 0; u < n_users; u++) ds->user_ptr[u + 1] += ds->user_ptr[u];
    lt_strings(&ds->user_ids, "u", n_users);
    lt_strings(&ds->item_ids, "i", n_items);
    return ds;
}

static inline void lt_attrs_free(upf_attrs *a)
{
    free(a->ptr);
    free(a->index);
    free(a->value);
    free(a->names.off);
    free(a->names.data);
}

static inline void lt_ds_free(upf_dataset *ds)
{
    if (!ds) return;
    free(ds->ev_user);
    free(ds->ev_item);
    free(ds->ev_time);
    free(ds->ev_type);
    free(ds->ev_value);
    free(ds->user_ptr);
    free(ds->user_ids.off);
    free(ds->user_ids.data);
    free(ds->item_ids.off);
    free(ds->item_ids.data);
    lt_attrs_free(&ds->user_attrs);
    lt_attrs_free(&ds->item_attrs);
    free(ds);
}

/* A shop over `days` days: each user is "fast" (Weibull gaps with scale 12
 * days) or "slow" (45 days), shape 1.5, and stops buying after an
 * exponential lifetime (mean 300 days) from a start in the first 60 days.
 * Each user has 3 favourite items (of 20, in 4 categories) and buys each on
 * its own renewal process whose scale is the user's scale times 1, 2 or 3:
 * repurchase intervals are planted per user and per item. Purchases carry a
 * value; a view precedes about half of them. User attribute segment=fast|slow. */
static inline upf_dataset *lt_sim_shop(uint64_t seed, size_t n_users, double days)
{
    upf_rng r;
    upf_rng_seed(&r, seed, 0);
    size_t cap = 1024, n = 0, n_items = 20;
    lt_event *e = malloc(cap * sizeof *e);
    uint8_t *fast = malloc(n_users);
    for (size_t u = 0; u < n_users; u++) {
        fast[u] = upf_rng_uniform(&r) < 0.5;
        double scale = fast[u] ? 12.0 : 45.0, start = 60.0 * upf_rng_uniform(&r);
        double stop = start + 300.0 * upf_rng_exponential(&r);
        int32_t fav[3];
        for (int j = 0; j < 3; j++) {
            fav[j] = (int32_t)upf_rng_below(&r, (uint32_t)n_items);
            for (int k = 0; k < j; k++)
                if (fav[k] == fav[j]) fav[j] = (fav[j] + 7 + j) % (int32_t)n_items;
        }
        for (int j = 0; j < 3; j++) {
            double s = scale * (double)(1 + j), t = start + (j == 0 ? 0.0 : s * upf_rng_uniform(&r));
            while (t < days && t < stop) {
                if (n + 2 >= cap) e = realloc(e, (cap *= 2) * sizeof *e);
                int64_t ts = LT_T0 + (int64_t)(t * LT_DAY);
                e[n++] = (lt_event){(int32_t)u, fav[j], ts, UPF_EV_PURCHASE, (float)(5.0 + 20.0 * upf_rng_uniform(&r))};
                if (upf_rng_uniform(&r) < 0.5) e[n++] = (lt_event){(int32_t)u, fav[j], ts - 3600, UPF_EV_VIEW, 0.0f};
                t += s * pow(upf_rng_exponential(&r), 1.0 / 1.5);
            }
        }
        if (n == 0 || e[n - 1].user != (int32_t)u) { /* everyone has at least a view */
            if (n + 1 >= cap) e = realloc(e, (cap *= 2) * sizeof *e);
            e[n++] = (lt_event){(int32_t)u, fav[0], LT_T0 + (int64_t)(start * LT_DAY), UPF_EV_VIEW, 0.0f};
        }
    }
    upf_dataset *ds = lt_ds_make(e, n, n_users, n_items);
    free(e);
    /* user attributes: segment=fast (0) or segment=slow (1) */
    upf_attrs *ua = &ds->user_attrs;
    ua->n_rows = n_users;
    ua->ptr = malloc((n_users + 1) * sizeof *ua->ptr);
    ua->index = malloc(n_users * sizeof *ua->index);
    ua->value = malloc(n_users * sizeof *ua->value);
    ua->names.n = 2;
    ua->names.off = malloc(3 * sizeof *ua->names.off);
    ua->names.data = malloc(32);
    memcpy(ua->names.data, "segment=fast\0segment=slow", 26);
    ua->names.off[0] = 0;
    ua->names.off[1] = 13;
    ua->names.off[2] = 26;
    for (size_t u = 0; u <= n_users; u++) ua->ptr[u] = (int64_t)u;
    for (size_t u = 0; u < n_users; u++) {
        ua->index[u] = fast[u] ? 0 : 1;
        ua->value[u] = 1.0f;
    }
    free(fast);
    /* item attributes: category=c<i % 4> */
    upf_attrs *ia = &ds->item_attrs;
    ia->n_rows = n_items;
    ia->ptr = malloc((n_items + 1) * sizeof *ia->ptr);
    ia->index = malloc(n_items * sizeof *ia->index);
    ia->value = malloc(n_items * sizeof *ia->value);
    ia->names.n = 4;
    ia->names.off = malloc(5 * sizeof *ia->names.off);
    ia->names.data = malloc(48);
    for (int k = 0; k < 4; k++) { /* "category=cK" + NUL: 12 bytes each */
        snprintf(ia->names.data + 12 * k, 12, "category=c%d", k);
        ia->names.off[k] = 12 * k;
    }
    ia->names.off[4] = 48;
    for (size_t i = 0; i <= n_items; i++) ia->ptr[i] = (int64_t)i;
    for (size_t i = 0; i < n_items; i++) {
        ia->index[i] = (int32_t)(i % 4);
        ia->value[i] = 1.0f;
    }
    return ds;
}

static inline int64_t lt_days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1, doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The CDNOW sample (sample id, date, CDs, dollars) as purchase events of
 * users 0..2356 (sample id - 1) and one item; NULL when the file is absent. */
static inline upf_dataset *lt_cdnow_sample(const char *data_dir)
{
    char path[4096], line[256];
    snprintf(path, sizeof path, "%s/cdnow/CDNOW_sample.txt", data_dir);
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    size_t cap = 8192, n = 0, n_users = 0;
    lt_event *e = malloc(cap * sizeof *e);
    while (fgets(line, sizeof line, f)) {
        long id, sid, date;
        double cds, val;
        if (sscanf(line, "%ld %ld %ld %lf %lf", &id, &sid, &date, &cds, &val) != 5) continue;
        if (n == cap) e = realloc(e, (cap *= 2) * sizeof *e);
        int64_t t = lt_days_from_civil(date / 10000, (date / 100) % 100, date % 100) * LT_DAY;
        e[n++] = (lt_event){(int32_t)(sid - 1), 0, t, UPF_EV_PURCHASE, (float)val};
        if ((size_t)sid > n_users) n_users = (size_t)sid;
    }
    fclose(f);
    upf_dataset *ds = lt_ds_make(e, n, n_users, 1);
    free(e);
    return ds;
}

#endif
