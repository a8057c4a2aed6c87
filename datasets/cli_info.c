/* cli_info.c - `upfunnel data info FILE.h5 [--json]`: what a dataset file
 * holds (users, items, events by type, time range, density, per-user and
 * per-item counts, attributes by field, queries, item events, campaigns with
 * each arm's outcome rates, impressions, messages), as text or one JSON
 * object. One pass over each array after a full (validated) load; the
 * library does the loading, this file computes and prints. Entry point:
 * upf_cmd_data_info.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../model/json.h"
#include "../train/cli.h"
#include "../train/commands.h"
#include "dataset.h"
#include "h5_io.h"
#include "internal.h"

static const char info_help[] =
    "NAME\n"
    "    upfunnel data info - summarize an upfunnel dataset file\n"
    "\n"
    "SYNOPSIS\n"
    "    upfunnel data info FILE.h5 [--json]\n"
    "\n"
    "DESCRIPTION\n"
    "    Loads FILE.h5 (an HDF5 dataset of schema version 1, see datasets/README.md),\n"
    "    checks and validates it as every upfunnel command does, and prints what it\n"
    "    holds: users, items and events; events by type; the time range (ISO-8601 UTC\n"
    "    and unix seconds); distinct (user, item) pairs and the density (pairs /\n"
    "    (users x items)); events per user and per item (min, median, mean, max);\n"
    "    user and item attributes (names, entries, the largest fields, where the\n"
    "    field of \"genre=Comedy\" is \"genre\"); queries; item events by kind;\n"
    "    campaigns with each arm's rows, share and the mean of every outcome (the\n"
    "    response rate of a 0/1 outcome) to six decimals; logged impressions (CTR\n"
    "    overall and by position); messages by trigger, sent and held out.\n"
    "\n"
    "OPTIONS\n"
    "    --json       print one JSON object instead of the text. Keys: path, format,\n"
    "                 version, source, created, users, items, events, events_by_type\n"
    "                 (an object with every event type's count), time_min, time_max\n"
    "                 (unix seconds; null without events), time_min_iso, time_max_iso,\n"
    "                 pairs, density, users_without_events, events_per_user and\n"
    "                 events_per_item ({min, median, mean, max}), user_fields,\n"
    "                 item_fields ({signup, birthday, price, added, in_stock}: rows\n"
    "                 with a known value, or null when the dataset lacks the field),\n"
    "                 user_attributes and item_attributes ({names, entries, fields:\n"
    "                 [{field, names, entries}]}), queries, item_events ({rows,\n"
    "                 by_kind}), campaigns ([{name, rows, outcomes, propensity,\n"
    "                 arms: [{arm, name, rows, share, rates: {OUTCOME: mean}}]}]),\n"
    "                 impressions ({rows, policy, ctr, positions: [{position, shown,\n"
    "                 ctr}]}), messages ({rows, sent, held_out, by_trigger: {NAME:\n"
    "                 {sent, held_out}}}).\n"
    "    -h, --help   this text\n"
    "\n"
    "EXAMPLES\n"
    "    upfunnel data info data/ml100k.h5\n"
    "    upfunnel data info data/hillstrom.h5 --json | jq '.campaigns[0].arms'\n"
    "\n"
    "EXIT STATUS\n"
    "    0 success; 1 the file cannot be read or is not a valid dataset (the message\n"
    "    names the file and the HDF5 dataset); 2 usage error.\n";

/* ---- statistics ---- */

typedef struct count_stats {
    int64_t min, max;
    double median, mean;
} count_stats;

typedef struct field_stat {
    const char *field; /* points into the names blob; length len */
    size_t len;
    int64_t names, entries;
} field_stat;

typedef struct attr_stats {
    size_t names;
    int64_t entries;
    field_stat *fields; /* sorted by entries, descending */
    size_t n_fields;
} attr_stats;

typedef struct arm_stat {
    size_t rows;
    double *sum;  /* (n_outcomes) */
    size_t *cnt;  /* (n_outcomes) non-NaN rows */
} arm_stat;

typedef struct info {
    int64_t by_type[UPF_EV_TYPE_COUNT];
    int64_t pairs, users_without_events;
    count_stats per_user, per_item;
    attr_stats ua, ia;
    int64_t ie_by_kind[UPF_IE_KIND_COUNT];
    arm_stat **arms;       /* (n_campaigns) x (n_arms) */
    int64_t *pos_shown;    /* (n_pos) */
    double *pos_reward;    /* (n_pos) */
    size_t n_pos;
    double ctr;
    int64_t *trig_sent, *trig_held; /* (n_triggers) */
} info;

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* counts is reordered (sorted). */
static count_stats stats_of(int64_t *counts, size_t n)
{
    count_stats s = { 0, 0, 0, 0 };
    if (n == 0) return s;
    qsort(counts, n, sizeof *counts, cmp_i64);
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += (double)counts[i];
    s.min = counts[0];
    s.max = counts[n - 1];
    s.median = n % 2 ? (double)counts[n / 2] : 0.5 * ((double)counts[n / 2 - 1] + (double)counts[n / 2]);
    s.mean = sum / (double)n;
    return s;
}

static size_t field_len(const char *name)
{
    const char *eq = strchr(name, '=');
    return eq ? (size_t)(eq - name) : strlen(name);
}

static int cmp_field(const void *a, const void *b)
{
    const field_stat *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->field, y->field, n);
    if (c) return c;
    return (x->len > y->len) - (x->len < y->len);
}

static int cmp_entries_desc(const void *a, const void *b)
{
    const field_stat *x = a, *y = b;
    if (x->entries != y->entries) return x->entries < y->entries ? 1 : -1;
    return cmp_field(a, b);
}

static int attr_stats_of(const upf_attrs *a, attr_stats *s)
{
    memset(s, 0, sizeof *s);
    s->names = a->names.n;
    s->entries = a->n_rows ? a->ptr[a->n_rows] : 0;
    if (!a->names.n) return 0;
    field_stat *f = upf_calloc(a->names.n, sizeof *f);
    int64_t *per_name = upf_calloc(a->names.n, sizeof *per_name);
    if (!f || !per_name) {
        upf_free(f);
        upf_free(per_name);
        return -1;
    }
    for (int64_t k = 0; k < s->entries; k++) per_name[a->index[k]]++;
    for (size_t i = 0; i < a->names.n; i++) {
        f[i].field = upf_strings_get(&a->names, i);
        f[i].len = field_len(f[i].field);
        f[i].names = 1;
        f[i].entries = per_name[i];
    }
    upf_free(per_name);
    qsort(f, a->names.n, sizeof *f, cmp_field);
    size_t w = 0;
    for (size_t i = 0; i < a->names.n; i++) {
        if (w > 0 && cmp_field(&f[w - 1], &f[i]) == 0) {
            f[w - 1].names++;
            f[w - 1].entries += f[i].entries;
        } else {
            f[w++] = f[i];
        }
    }
    qsort(f, w, sizeof *f, cmp_entries_desc);
    s->fields = f;
    s->n_fields = w;
    return 0;
}

static void info_free(info *in, const upf_dataset *ds)
{
    upf_free(in->ua.fields);
    upf_free(in->ia.fields);
    if (in->arms) {
        for (size_t c = 0; c < ds->n_campaigns; c++) {
            if (!in->arms[c]) continue;
            for (size_t a = 0; a < ds->campaigns[c].arm_names.n; a++) {
                upf_free(in->arms[c][a].sum);
                upf_free(in->arms[c][a].cnt);
            }
            upf_free(in->arms[c]);
        }
        upf_free(in->arms);
    }
    upf_free(in->pos_shown);
    upf_free(in->pos_reward);
    upf_free(in->trig_sent);
    upf_free(in->trig_held);
}

static int compute(const upf_dataset *ds, info *in)
{
    int rc = -1;
    int64_t *counts = NULL;
    int32_t *mark = NULL;
    memset(in, 0, sizeof *in);
    size_t nu = ds->n_users, ni = ds->n_items;
    for (int64_t i = 0; i < ds->n_events; i++) in->by_type[ds->ev_type[i]]++;
    size_t nc = nu > ni ? nu : ni;
    if (!(counts = upf_malloc((nc ? nc : 1) * sizeof *counts)) || !(mark = upf_malloc((ni ? ni : 1) * sizeof *mark))) goto done;
    for (size_t j = 0; j < ni; j++) mark[j] = -1;
    for (size_t u = 0; u < nu; u++) {
        counts[u] = ds->user_ptr[u + 1] - ds->user_ptr[u];
        in->users_without_events += counts[u] == 0;
        for (int64_t i = ds->user_ptr[u]; i < ds->user_ptr[u + 1]; i++) {
            int32_t j = ds->ev_item[i];
            if (j >= 0 && mark[j] != (int32_t)u) mark[j] = (int32_t)u, in->pairs++;
        }
    }
    in->per_user = stats_of(counts, nu);
    memset(counts, 0, (ni ? ni : 1) * sizeof *counts);
    for (int64_t i = 0; i < ds->n_events; i++)
        if (ds->ev_item[i] >= 0) counts[ds->ev_item[i]]++;
    in->per_item = stats_of(counts, ni);
    if (attr_stats_of(&ds->user_attrs, &in->ua) || attr_stats_of(&ds->item_attrs, &in->ia)) goto done;
    for (size_t r = 0; r < ds->item_events.n; r++) in->ie_by_kind[ds->item_events.kind[r]]++;
    if (ds->n_campaigns) {
        if (!(in->arms = upf_calloc(ds->n_campaigns, sizeof *in->arms))) goto done;
        for (size_t c = 0; c < ds->n_campaigns; c++) {
            const upf_campaign *cp = &ds->campaigns[c];
            size_t na = cp->arm_names.n, no = cp->n_outcomes;
            if (!(in->arms[c] = upf_calloc(na, sizeof **in->arms))) goto done;
            for (size_t a = 0; a < na; a++) {
                in->arms[c][a].sum = upf_calloc(no ? no : 1, sizeof(double));
                in->arms[c][a].cnt = upf_calloc(no ? no : 1, sizeof(size_t));
                if (!in->arms[c][a].sum || !in->arms[c][a].cnt) goto done;
            }
            for (size_t r = 0; r < cp->n; r++) {
                arm_stat *as = &in->arms[c][cp->arm[r]];
                as->rows++;
                for (size_t k = 0; k < no; k++)
                    if (!isnan(cp->outcome[k][r])) as->sum[k] += (double)cp->outcome[k][r], as->cnt[k]++;
            }
        }
    }
    const upf_impressions *im = &ds->impressions;
    if (im->n) {
        int16_t maxp = 0;
        double sum = 0;
        for (size_t r = 0; r < im->n; r++) {
            if (im->position[r] > maxp) maxp = im->position[r];
            sum += (double)im->reward[r];
        }
        in->ctr = sum / (double)im->n;
        in->n_pos = (size_t)maxp + 1;
        if (!(in->pos_shown = upf_calloc(in->n_pos, sizeof *in->pos_shown)) ||
            !(in->pos_reward = upf_calloc(in->n_pos, sizeof *in->pos_reward)))
            goto done;
        for (size_t r = 0; r < im->n; r++) {
            in->pos_shown[im->position[r]]++;
            in->pos_reward[im->position[r]] += (double)im->reward[r];
        }
    }
    const upf_messages *m = &ds->messages;
    if (m->n) {
        size_t nt = m->trigger_names.n;
        if (!(in->trig_sent = upf_calloc(nt, sizeof *in->trig_sent)) || !(in->trig_held = upf_calloc(nt, sizeof *in->trig_held)))
            goto done;
        for (size_t r = 0; r < m->n; r++) {
            if (m->arm[r]) in->trig_sent[m->trigger[r]]++;
            else in->trig_held[m->trigger[r]]++;
        }
    }
    rc = 0;
done:
    upf_free(counts);
    upf_free(mark);
    return rc;
}

static void time_range(const upf_dataset *ds, int64_t *lo, int64_t *hi)
{
    *lo = INT64_MAX;
    *hi = INT64_MIN;
    for (int64_t i = 0; i < ds->n_events; i++) {
        if (ds->ev_time[i] < *lo) *lo = ds->ev_time[i];
        if (ds->ev_time[i] > *hi) *hi = ds->ev_time[i];
    }
}

static size_t known_times(const int64_t *t, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += t[i] != UPF_TIME_MISSING;
    return k;
}

static size_t known_prices(const float *p, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += !isnan(p[i]);
    return k;
}

static size_t in_stock(const uint8_t *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += s[i];
    return k;
}

/* ---- text ---- */

static void print_field_line(const char *label, size_t known, size_t of, int present)
{
    if (present) printf("  %-10s %zu of %zu known\n", label, known, of);
}

static void print_attrs(const char *who, const attr_stats *s)
{
    if (!s->names) {
        printf("  %-6s none\n", who);
        return;
    }
    printf("  %-6s %zu names, %" PRId64 " entries; fields:", who, s->names, s->entries);
    for (size_t f = 0; f < s->n_fields && f < 8; f++)
        printf("%s %.*s (%" PRId64 " name%s, %" PRId64 " entries)", f ? "," : "", (int)s->fields[f].len, s->fields[f].field,
               s->fields[f].names, s->fields[f].names == 1 ? "" : "s", s->fields[f].entries);
    if (s->n_fields > 8) printf(", ... (%zu fields)", s->n_fields);
    printf("\n");
}

static void print_text(const char *path, const upf_dataset *ds, const info *in)
{
    char a[32], b[32];
    printf("%s: upfunnel dataset, schema version %d\n", path, UPF_DATASET_VERSION);
    if (ds->source) printf("  source   %s\n", ds->source);
    if (ds->created) printf("  created  %s\n", ds->created);
    printf("users      %zu\n", ds->n_users);
    printf("items      %zu\n", ds->n_items);
    printf("events     %" PRId64 "\n", ds->n_events);
    for (int t = 1; t < UPF_EV_TYPE_COUNT; t++)
        if (in->by_type[t])
            printf("  %-10s %" PRId64 " (%.1f%%)\n", upf_event_type_name(t), in->by_type[t],
                   100.0 * (double)in->by_type[t] / (double)ds->n_events);
    if (ds->n_events) {
        int64_t lo, hi;
        time_range(ds, &lo, &hi);
        upf_format_iso_time(lo, a, sizeof a);
        upf_format_iso_time(hi, b, sizeof b);
        printf("time       %s .. %s (unix %" PRId64 " .. %" PRId64 ", %.1f days)\n", a, b, lo, hi, (double)(hi - lo) / 86400.0);
    }
    double cells = (double)ds->n_users * (double)ds->n_items;
    printf("pairs      %" PRId64 " distinct (user, item); density %.6f\n", in->pairs, cells > 0 ? (double)in->pairs / cells : 0.0);
    printf("per user   min %" PRId64 ", median %g, mean %.1f, max %" PRId64 " events; %" PRId64 " users without events\n",
           in->per_user.min, in->per_user.median, in->per_user.mean, in->per_user.max, in->users_without_events);
    printf("per item   min %" PRId64 ", median %g, mean %.1f, max %" PRId64 " events\n", in->per_item.min, in->per_item.median,
           in->per_item.mean, in->per_item.max);
    if (ds->user_signup || ds->user_birthday || ds->item_price || ds->item_added || ds->item_in_stock) printf("fields\n");
    print_field_line("signup", ds->user_signup ? known_times(ds->user_signup, ds->n_users) : 0, ds->n_users, ds->user_signup != NULL);
    print_field_line("birthday", ds->user_birthday ? known_times(ds->user_birthday, ds->n_users) : 0, ds->n_users,
                     ds->user_birthday != NULL);
    print_field_line("price", ds->item_price ? known_prices(ds->item_price, ds->n_items) : 0, ds->n_items, ds->item_price != NULL);
    print_field_line("added", ds->item_added ? known_times(ds->item_added, ds->n_items) : 0, ds->n_items, ds->item_added != NULL);
    if (ds->item_in_stock) printf("  %-10s %zu of %zu in stock\n", "in_stock", in_stock(ds->item_in_stock, ds->n_items), ds->n_items);
    printf("attributes\n");
    print_attrs("users", &in->ua);
    print_attrs("items", &in->ia);
    printf("queries    %zu\n", ds->queries.n);
    printf("item events %zu", ds->item_events.n);
    for (int k = 1; k < UPF_IE_KIND_COUNT; k++)
        if (in->ie_by_kind[k]) printf(", %s %" PRId64, upf_item_event_kind_name(k), in->ie_by_kind[k]);
    printf("\ncampaigns  %zu\n", ds->n_campaigns);
    for (size_t c = 0; c < ds->n_campaigns; c++) {
        const upf_campaign *cp = &ds->campaigns[c];
        printf("  %s: %zu rows, %zu arms, propensity %s\n", cp->name, cp->n, cp->arm_names.n, cp->propensity ? "logged" : "unknown");
        printf("    %-3s %-20s %9s %9s", "arm", "name", "rows", "share");
        for (size_t k = 0; k < cp->n_outcomes; k++) printf(" %12.12s", cp->outcome_names[k]);
        printf("\n");
        for (size_t ar = 0; ar < cp->arm_names.n; ar++) {
            const arm_stat *as = &in->arms[c][ar];
            printf("    %-3zu %-20.20s %9zu %9.6f", ar, upf_strings_get(&cp->arm_names, ar), as->rows,
                   cp->n ? (double)as->rows / (double)cp->n : 0.0);
            for (size_t k = 0; k < cp->n_outcomes; k++) {
                if (as->cnt[k]) printf(" %12.6f", as->sum[k] / (double)as->cnt[k]);
                else printf(" %12s", "-");
            }
            printf("\n");
        }
    }
    const upf_impressions *im = &ds->impressions;
    printf("impressions %zu", im->n);
    if (im->policy) printf(" (policy %s)", im->policy);
    if (im->n) {
        printf(", CTR %.6f\n", in->ctr);
        for (size_t p = 0; p < in->n_pos && p < 20; p++)
            if (in->pos_shown[p])
                printf("  position %-3zu %" PRId64 " shown, CTR %.6f\n", p, in->pos_shown[p], in->pos_reward[p] / (double)in->pos_shown[p]);
        if (in->n_pos > 20) printf("  ... positions up to %zu\n", in->n_pos - 1);
    } else {
        printf("\n");
    }
    const upf_messages *m = &ds->messages;
    printf("messages   %zu\n", m->n);
    for (size_t t = 0; m->n && t < m->trigger_names.n; t++)
        printf("  %-20s %" PRId64 " sent, %" PRId64 " held out\n", upf_strings_get(&m->trigger_names, t), in->trig_sent[t],
               in->trig_held[t]);
}

/* ---- JSON ---- */

static void json_counts(upf_json_writer *w, const char *key, const count_stats *s)
{
    upf_jw_object(w, key);
    upf_jw_int(w, "min", s->min);
    upf_jw_num(w, "median", s->median);
    upf_jw_num(w, "mean", s->mean);
    upf_jw_int(w, "max", s->max);
    upf_jw_end(w);
}

static void json_attrs(upf_json_writer *w, const char *key, const attr_stats *s)
{
    upf_jw_object(w, key);
    upf_jw_int(w, "names", (int64_t)s->names);
    upf_jw_int(w, "entries", s->entries);
    upf_jw_array(w, "fields");
    char buf[512];
    for (size_t f = 0; f < s->n_fields; f++) {
        upf_jw_object(w, NULL);
        snprintf(buf, sizeof buf, "%.*s", (int)s->fields[f].len, s->fields[f].field);
        upf_jw_str(w, "field", buf);
        upf_jw_int(w, "names", s->fields[f].names);
        upf_jw_int(w, "entries", s->fields[f].entries);
        upf_jw_end(w);
    }
    upf_jw_end(w);
    upf_jw_end(w);
}

static void json_known(upf_json_writer *w, const char *key, int present, size_t known)
{
    if (present) upf_jw_int(w, key, (int64_t)known);
    else upf_jw_null(w, key);
}

static void print_json(const char *path, const upf_dataset *ds, const info *in)
{
    upf_json_writer w;
    char iso[32];
    upf_jw_init(&w, stdout, 1);
    upf_jw_object(&w, NULL);
    upf_jw_str(&w, "path", path);
    upf_jw_str(&w, "format", UPF_DATASET_FORMAT);
    upf_jw_int(&w, "version", UPF_DATASET_VERSION);
    upf_jw_str(&w, "source", ds->source);
    upf_jw_str(&w, "created", ds->created);
    upf_jw_int(&w, "users", (int64_t)ds->n_users);
    upf_jw_int(&w, "items", (int64_t)ds->n_items);
    upf_jw_int(&w, "events", ds->n_events);
    upf_jw_object(&w, "events_by_type");
    for (int t = 1; t < UPF_EV_TYPE_COUNT; t++) upf_jw_int(&w, upf_event_type_name(t), in->by_type[t]);
    upf_jw_end(&w);
    if (ds->n_events) {
        int64_t lo, hi;
        time_range(ds, &lo, &hi);
        upf_jw_int(&w, "time_min", lo);
        upf_jw_int(&w, "time_max", hi);
        upf_format_iso_time(lo, iso, sizeof iso);
        upf_jw_str(&w, "time_min_iso", iso);
        upf_format_iso_time(hi, iso, sizeof iso);
        upf_jw_str(&w, "time_max_iso", iso);
    } else {
        upf_jw_null(&w, "time_min");
        upf_jw_null(&w, "time_max");
        upf_jw_null(&w, "time_min_iso");
        upf_jw_null(&w, "time_max_iso");
    }
    double cells = (double)ds->n_users * (double)ds->n_items;
    upf_jw_int(&w, "pairs", in->pairs);
    upf_jw_num(&w, "density", cells > 0 ? (double)in->pairs / cells : 0.0);
    upf_jw_int(&w, "users_without_events", in->users_without_events);
    json_counts(&w, "events_per_user", &in->per_user);
    json_counts(&w, "events_per_item", &in->per_item);
    upf_jw_object(&w, "user_fields");
    json_known(&w, "signup", ds->user_signup != NULL, ds->user_signup ? known_times(ds->user_signup, ds->n_users) : 0);
    json_known(&w, "birthday", ds->user_birthday != NULL, ds->user_birthday ? known_times(ds->user_birthday, ds->n_users) : 0);
    upf_jw_end(&w);
    upf_jw_object(&w, "item_fields");
    json_known(&w, "price", ds->item_price != NULL, ds->item_price ? known_prices(ds->item_price, ds->n_items) : 0);
    json_known(&w, "added", ds->item_added != NULL, ds->item_added ? known_times(ds->item_added, ds->n_items) : 0);
    json_known(&w, "in_stock", ds->item_in_stock != NULL, ds->item_in_stock ? in_stock(ds->item_in_stock, ds->n_items) : 0);
    upf_jw_end(&w);
    json_attrs(&w, "user_attributes", &in->ua);
    json_attrs(&w, "item_attributes", &in->ia);
    upf_jw_int(&w, "queries", (int64_t)ds->queries.n);
    upf_jw_object(&w, "item_events");
    upf_jw_int(&w, "rows", (int64_t)ds->item_events.n);
    upf_jw_object(&w, "by_kind");
    for (int k = 1; k < UPF_IE_KIND_COUNT; k++) upf_jw_int(&w, upf_item_event_kind_name(k), in->ie_by_kind[k]);
    upf_jw_end(&w);
    upf_jw_end(&w);
    upf_jw_array(&w, "campaigns");
    for (size_t c = 0; c < ds->n_campaigns; c++) {
        const upf_campaign *cp = &ds->campaigns[c];
        upf_jw_object(&w, NULL);
        upf_jw_str(&w, "name", cp->name);
        upf_jw_int(&w, "rows", (int64_t)cp->n);
        upf_jw_bool(&w, "propensity", cp->propensity != NULL);
        upf_jw_array(&w, "outcomes");
        for (size_t k = 0; k < cp->n_outcomes; k++) upf_jw_str(&w, NULL, cp->outcome_names[k]);
        upf_jw_end(&w);
        upf_jw_array(&w, "arms");
        for (size_t ar = 0; ar < cp->arm_names.n; ar++) {
            const arm_stat *as = &in->arms[c][ar];
            upf_jw_object(&w, NULL);
            upf_jw_int(&w, "arm", (int64_t)ar);
            upf_jw_str(&w, "name", upf_strings_get(&cp->arm_names, ar));
            upf_jw_int(&w, "rows", (int64_t)as->rows);
            upf_jw_num(&w, "share", cp->n ? (double)as->rows / (double)cp->n : 0.0);
            upf_jw_object(&w, "rates");
            for (size_t k = 0; k < cp->n_outcomes; k++) {
                if (as->cnt[k]) upf_jw_num(&w, cp->outcome_names[k], as->sum[k] / (double)as->cnt[k]);
                else upf_jw_null(&w, cp->outcome_names[k]);
            }
            upf_jw_end(&w);
            upf_jw_end(&w);
        }
        upf_jw_end(&w);
        upf_jw_end(&w);
    }
    upf_jw_end(&w);
    const upf_impressions *im = &ds->impressions;
    upf_jw_object(&w, "impressions");
    upf_jw_int(&w, "rows", (int64_t)im->n);
    upf_jw_str(&w, "policy", im->policy);
    if (im->n) upf_jw_num(&w, "ctr", in->ctr);
    else upf_jw_null(&w, "ctr");
    upf_jw_array(&w, "positions");
    for (size_t p = 0; p < in->n_pos; p++) {
        if (!in->pos_shown[p]) continue;
        upf_jw_object(&w, NULL);
        upf_jw_int(&w, "position", (int64_t)p);
        upf_jw_int(&w, "shown", in->pos_shown[p]);
        upf_jw_num(&w, "ctr", in->pos_reward[p] / (double)in->pos_shown[p]);
        upf_jw_end(&w);
    }
    upf_jw_end(&w);
    upf_jw_end(&w);
    const upf_messages *m = &ds->messages;
    upf_jw_object(&w, "messages");
    upf_jw_int(&w, "rows", (int64_t)m->n);
    int64_t sent = 0, held = 0;
    for (size_t r = 0; r < m->n; r++) {
        if (m->arm[r]) sent++;
        else held++;
    }
    upf_jw_int(&w, "sent", sent);
    upf_jw_int(&w, "held_out", held);
    upf_jw_object(&w, "by_trigger");
    for (size_t t = 0; m->n && t < m->trigger_names.n; t++) {
        upf_jw_object(&w, upf_strings_get(&m->trigger_names, t));
        upf_jw_int(&w, "sent", in->trig_sent[t]);
        upf_jw_int(&w, "held_out", in->trig_held[t]);
        upf_jw_end(&w);
    }
    upf_jw_end(&w);
    upf_jw_end(&w);
    upf_jw_end(&w);
    upf_jw_finish(&w);
}

int upf_cmd_data_info(int argc, char **argv)
{
    const char *path = NULL;
    int json = 0;
    if (upf_arg_wants_help(argc, argv)) {
        fputs(info_help, stdout);
        return UPF_EXIT_OK;
    }
    for (int i = 1; i < argc; i++) {
        if (upf_arg_is(argv, i, "--json")) json = 1;
        else if (argv[i][0] == '-' && argv[i][1]) return upf_cli_usage_error("data info", "unknown option %s", argv[i]);
        else if (path) return upf_cli_usage_error("data info", "one file at a time (got %s and %s)", path, argv[i]);
        else path = argv[i];
    }
    if (!path) return upf_cli_usage_error("data info", "which file? (upfunnel data info FILE.h5)");
    upf_err err;
    upf_err_clear(&err);
    upf_dataset *ds = NULL;
    if (upf_dataset_read(path, &ds, &err)) return upf_cli_fail(&err);
    info in;
    if (compute(ds, &in)) {
        info_free(&in, ds);
        upf_dataset_free(ds);
        upf_cli_error("%s: out of memory computing the summary", path);
        return UPF_EXIT_FAIL;
    }
    if (json) print_json(path, ds, &in);
    else print_text(path, ds, &in);
    fflush(stdout);
    int rc = ferror(stdout) ? UPF_EXIT_FAIL : UPF_EXIT_OK;
    if (rc) upf_cli_error("writing to standard output failed");
    info_free(&in, ds);
    upf_dataset_free(ds);
    return rc;
}
