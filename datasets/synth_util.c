/* synth_util.c - small helpers of the generator: proleptic Gregorian dates
 * (Hinnant's days_from_civil), ISO-8601 formatting and parsing, and the string
 * interner behind queries and attribute names. No randomness here.
 */
#include <stdio.h>
#include <string.h>

#include "synth_internal.h"

/* ---- dates ---- */

int64_t syn_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;                                 /* [0, 399] */
    const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;         /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

void syn_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

int syn_is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

void syn_format_iso(int64_t t, char *buf, size_t n)
{
    int64_t days = floor_div(t, SYN_DAY), secs = t - days * SYN_DAY, y;
    unsigned m, d;
    syn_civil_from_days(days, &y, &m, &d);
    snprintf(buf, n, "%04lld-%02u-%02uT%02d:%02d:%02dZ", (long long)y, m, d, (int)(secs / 3600),
             (int)(secs / 60 % 60), (int)(secs % 60));
}

int syn_parse_date(const char *s, int64_t *out)
{
    unsigned y, m, d;
    char tail;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-') return -1;
    if (sscanf(s, "%4u-%2u-%2u%c", &y, &m, &d, &tail) != 3) return -1;
    static const unsigned mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (y < 1900 || y > 9999 || m < 1 || m > 12 || d < 1) return -1;
    if (d > mdays[m - 1] + (m == 2 && syn_is_leap(y))) return -1;
    *out = syn_days_from_civil(y, m, d) * SYN_DAY;
    return 0;
}

/* ---- string interning ---- */

static uint64_t hash_bytes(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}

static int strtab_rehash(syn_strtab *t, size_t n_slots)
{
    int32_t *slots = upf_malloc(n_slots * sizeof *slots);
    if (!slots) return -1;
    for (size_t i = 0; i < n_slots; i++) slots[i] = -1;
    for (size_t k = 0; k < t->n; k++) {
        const char *s = t->data + t->off[k];
        size_t len = (size_t)(t->off[k + 1] - t->off[k] - 1);
        size_t h = (size_t)hash_bytes(s, len) & (n_slots - 1);
        while (slots[h] >= 0) h = (h + 1) & (n_slots - 1);
        slots[h] = (int32_t)k;
    }
    upf_free(t->slots);
    t->slots = slots;
    t->n_slots = n_slots;
    return 0;
}

int32_t syn_strtab_intern(syn_strtab *t, const char *s, size_t len)
{
    /* keep the load under one half, so probing always ends at an empty slot */
    if ((t->n + 1) * 2 > t->n_slots && strtab_rehash(t, t->n_slots ? t->n_slots * 2 : 256)) return -1;
    size_t mask = t->n_slots - 1, h = (size_t)hash_bytes(s, len) & mask;
    for (; t->slots[h] >= 0; h = (h + 1) & mask) {
        int32_t k = t->slots[h];
        if ((size_t)(t->off[k + 1] - t->off[k] - 1) == len && memcmp(t->data + t->off[k], s, len) == 0) return k;
    }
    if (t->n >= INT32_MAX - 1) return -1;
    if (t->n + 1 >= t->cap) { /* off has cap + 1 entries */
        size_t cap = t->cap ? t->cap * 2 : 256;
        int64_t *off = upf_realloc(t->off, (cap + 1) * sizeof *off);
        if (!off) return -1;
        if (!t->off) off[0] = 0;
        t->off = off;
        t->cap = cap;
    }
    if (t->data_len + len + 1 > t->data_cap) {
        size_t cap = t->data_cap ? t->data_cap * 2 : 4096;
        while (cap < t->data_len + len + 1) cap *= 2;
        char *data = upf_realloc(t->data, cap);
        if (!data) return -1;
        t->data = data;
        t->data_cap = cap;
    }
    memcpy(t->data + t->data_len, s, len);
    t->data[t->data_len + len] = '\0';
    t->data_len += len + 1;
    int32_t k = (int32_t)t->n++;
    t->off[t->n] = (int64_t)t->data_len;
    t->slots[h] = k;
    return k;
}

upf_status syn_strtab_take(syn_strtab *t, upf_strings *out, upf_err *err)
{
    memset(out, 0, sizeof *out);
    if (!t->off) { /* no strings: an empty table still has off[0] = 0 */
        out->off = upf_calloc(1, sizeof *out->off);
        out->data = upf_malloc(1);
        if (!out->off || !out->data) {
            upf_free(out->off);
            upf_free(out->data);
            memset(out, 0, sizeof *out);
            return upf_err_set(err, UPF_ERR_NOMEM, "synth: out of memory (string table)");
        }
        out->data[0] = '\0';
        syn_strtab_free(t);
        return UPF_OK;
    }
    out->n = t->n;
    out->off = t->off;
    out->data = t->data;
    t->off = NULL;
    t->data = NULL;
    syn_strtab_free(t);
    return UPF_OK;
}

void syn_strtab_reset(syn_strtab *t)
{
    t->n = 0;
    t->data_len = 0;
    if (t->off) t->off[0] = 0;
    for (size_t k = 0; k < t->n_slots; k++) t->slots[k] = -1;
}

void syn_strtab_free(syn_strtab *t)
{
    upf_free(t->off);
    upf_free(t->data);
    upf_free(t->slots);
    memset(t, 0, sizeof *t);
}
