/* order.c - stable ordering of rows by (key, time): an O(n) counting pass on
 * the key, then a sort on time within each key's rows that are not already
 * in time order. Used by the builder for events (key = user) and item events
 * (key = item). Input that is already sorted costs one read pass and no
 * allocation, which is the common case for importers of time-ordered logs.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct time_row {
    int64_t time;
    int64_t row; /* source row: the tie-break that makes the sort stable */
} time_row;

static int cmp_time_row(const void *a, const void *b)
{
    const time_row *x = a, *y = b;
    if (x->time != y->time) return x->time < y->time ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

upf_status upf_order_by_key_time(const int32_t *key, const int64_t *time, int64_t n, size_t n_keys,
                                 int64_t *ptr, int64_t **order, upf_err *err)
{
    upf_status st = UPF_OK;
    int64_t *ord = NULL, *cursor = NULL;
    time_row *buf = NULL;
    *order = NULL;

    memset(ptr, 0, (n_keys + 1) * sizeof *ptr);
    int sorted = 1;
    for (int64_t i = 0; i < n; i++) {
        ptr[key[i] + 1]++;
        if (i > 0 && (key[i] < key[i - 1] || (time && key[i] == key[i - 1] && time[i] < time[i - 1]))) sorted = 0;
    }
    for (size_t k = 0; k < n_keys; k++) ptr[k + 1] += ptr[k];
    if (sorted || n < 2) return UPF_OK;

    size_t ord_bytes, cur_bytes;
    if (upf_mul_size((size_t)n, sizeof *ord, &ord_bytes) || upf_mul_size(n_keys + 1, sizeof *cursor, &cur_bytes))
        return upf_err_set(err, UPF_ERR_NOMEM, "ordering %lld rows: size overflow", (long long)n);
    ord = upf_malloc(ord_bytes);
    cursor = upf_malloc(cur_bytes);
    if (!ord || !cursor) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "ordering %lld rows: out of memory", (long long)n);
        goto done;
    }
    upf_advise_huge(ord, ord_bytes);
    memcpy(cursor, ptr, cur_bytes);
    for (int64_t i = 0; i < n; i++) ord[cursor[key[i]]++] = i;

    if (time) {
        size_t buf_cap = 0;
        for (size_t k = 0; k < n_keys; k++) {
            int64_t b = ptr[k], e = ptr[k + 1];
            int seg_sorted = 1;
            for (int64_t i = b + 1; i < e && seg_sorted; i++)
                if (time[ord[i]] < time[ord[i - 1]]) seg_sorted = 0;
            if (seg_sorted) continue;
            size_t len = (size_t)(e - b);
            if (len > buf_cap) {
                size_t bytes;
                if (upf_mul_size(len, sizeof *buf, &bytes)) {
                    st = upf_err_set(err, UPF_ERR_NOMEM, "ordering: size overflow");
                    goto done;
                }
                upf_free(buf);
                buf = upf_malloc(bytes);
                if (!buf) {
                    st = upf_err_set(err, UPF_ERR_NOMEM, "ordering %zu rows of one key: out of memory", len);
                    goto done;
                }
                buf_cap = len;
            }
            for (size_t r = 0; r < len; r++) {
                buf[r].row = ord[b + (int64_t)r];
                buf[r].time = time[buf[r].row];
            }
            qsort(buf, len, sizeof *buf, cmp_time_row);
            for (size_t r = 0; r < len; r++) ord[b + (int64_t)r] = buf[r].row;
        }
    }
    *order = ord;
    ord = NULL;
done:
    upf_free(buf);
    upf_free(cursor);
    upf_free(ord);
    return st;
}

/* memcpy with a constant size compiles to one load and store, and keeps the
 * gather free of type punning (float columns go through the 4-byte case). */
#define GATHER(SZ)                                                                        \
    for (int64_t k = 0; k < n; k++) memcpy(d + (size_t)k * (SZ), s + (size_t)order[k] * (SZ), (SZ))

void upf_apply_order(void *col, size_t elem_size, const int64_t *order, int64_t n, void *scratch)
{
    const char *s = col;
    char *d = scratch;
    switch (elem_size) {
    case 1: GATHER(1); break;
    case 2: GATHER(2); break;
    case 4: GATHER(4); break;
    case 8: GATHER(8); break;
    default: GATHER(elem_size); break;
    }
    memcpy(col, scratch, (size_t)n * elem_size);
}
