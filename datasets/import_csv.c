/* import_csv.c - the generic CSV mapping: event files (user, item, time,
 * type, value columns chosen by name or number) and attribute files (an id
 * column plus categorical, numeric, multi-valued and text columns).
 * See import.h for the contracts; cli_import.c for the command-line form. */
#include "import.h"

#include <ctype.h>
#include <pthread.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "numparse.h"
#include "internal.h"

/* ---- type map ---- */

void upf_type_map_free(upf_type_map_entry *m, size_t n)
{
    if (!m) return;
    for (size_t i = 0; i < n; i++) upf_free(m[i].text);
    upf_free(m);
}

static int type_by_name(const char *s, size_t n)
{
    for (int t = 1; t < UPF_EV_TYPE_COUNT; t++) {
        const char *name = upf_event_type_name(t);
        if (strlen(name) != n) continue;
        size_t k = 0;
        while (k < n && tolower((unsigned char)s[k]) == name[k]) k++;
        if (k == n) return t;
    }
    return 0;
}

static void type_names(char *buf, size_t cap)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int t = 1; t < UPF_EV_TYPE_COUNT && off < cap; t++) {
        int k = snprintf(buf + off, cap - off, "%s%s", t > 1 ? ", " : "", upf_event_type_name(t));
        if (k < 0) break;
        off += (size_t)k;
    }
}

upf_status upf_type_map_parse(const char *spec, upf_type_map_entry **out, size_t *n, upf_err *err)
{
    *out = NULL;
    *n = 0;
    size_t cap = 1;
    for (const char *s = spec; *s; s++) cap += *s == ',';
    upf_type_map_entry *m = upf_calloc(cap, sizeof *m);
    if (!m) return upf_err_set(err, UPF_ERR_NOMEM, "out of memory");
    size_t k = 0;
    const char *p = spec;
    while (*p) {
        const char *end = strchr(p, ',');
        if (!end) end = p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (!eq || eq == p || eq + 1 == end) {
            char names[160];
            type_names(names, sizeof names);
            upf_type_map_free(m, k);
            return upf_err_set(err, UPF_ERR_ARG,
                               "--type-map: expected VALUE=TYPE entries separated by commas (TYPE one of %s, skip), "
                               "got \"%.*s\"",
                               names, (int)(end - p), p);
        }
        int t = (size_t)(end - eq - 1) == 4 && strncmp(eq + 1, "skip", 4) == 0 ? UPF_TYPE_SKIP
                                                                               : type_by_name(eq + 1, (size_t)(end - eq - 1));
        if (t == 0) {
            char names[160];
            type_names(names, sizeof names);
            upf_type_map_free(m, k);
            return upf_err_set(err, UPF_ERR_ARG, "--type-map: \"%.*s\" is not an event type (expected one of %s, skip)",
                               (int)(end - eq - 1), eq + 1, names);
        }
        m[k].text = upf_malloc((size_t)(eq - p) + 1);
        if (!m[k].text) {
            upf_type_map_free(m, k);
            return upf_err_set(err, UPF_ERR_NOMEM, "out of memory");
        }
        memcpy(m[k].text, p, (size_t)(eq - p));
        m[k].text[eq - p] = '\0';
        m[k].type = t;
        k++;
        p = *end ? end + 1 : end;
    }
    if (k == 0) {
        upf_free(m);
        return upf_err_set(err, UPF_ERR_ARG, "--type-map: empty");
    }
    *out = m;
    *n = k;
    return UPF_OK;
}

/* ---- events ---- */

static upf_status resolve(const upf_csv *r, const char *spec, size_t *idx, size_t *maxcol, upf_err *err)
{
    upf_status st = upf_csv_column(r, spec, idx, err);
    if (!st && *idx + 1 > *maxcol) *maxcol = *idx + 1;
    return st;
}

upf_status upf_import_open_csv(const char *path, const upf_csv_opts *o, upf_csv **r, upf_err *err)
{
    upf_status st = upf_csv_open(path, o, r, err);
    if (st) return st;
    if (o->header && upf_csv_header_count(*r) == 0) {
        upf_csv_close(*r);
        *r = NULL;
        return upf_err_set(err, UPF_ERR_DATA, "%s: empty file (expected a header line and data rows)", path);
    }
    return UPF_OK;
}

int upf_import_next_row(upf_import *im, upf_csv *r, upf_status *st, upf_err *err)
{
    for (;;) {
        int rc = upf_csv_next(r, err);
        if (rc == 1) {
            im->st.rows++;
            if ((im->st.rows & 0xFFFF) == 0) {
                if ((*st = upf_import_poll(im, err))) return -1;
                if ((im->st.rows & 0xFFFFF) == 0 && im->o.progress) im->o.progress(im->st.rows, im->o.progress_user);
            }
            return 1;
        }
        if (rc == 0) return 0;
        if (rc == -2) {
            *st = err->status ? err->status : UPF_ERR_IO;
            return -1;
        }
        im->st.rows++;
        if ((*st = upf_import_bad_row(im, "malformed CSV row", err))) return -1;
    }
}

upf_status upf_import_no_rows(const upf_csv *r, upf_err *err)
{
    if (upf_csv_bytes(r) <= 3) /* nothing, or only a byte order mark */
        return upf_err_set(err, UPF_ERR_DATA, "%s: empty file", upf_csv_path(r));
    return upf_err_set(err, UPF_ERR_DATA, "%s: no data rows%s", upf_csv_path(r),
                       upf_csv_header_count(r) ? " after the header" : "");
}

/* ---- events: a batched loop ----
 * Rows are parsed and checked into a batch of pending events; ids are kept
 * as canonical integers or copied into the batch's arena (the CSV buffer
 * moves on refill). A full batch first prefetches the id-cache entries of all
 * its rows, then interns and adds the events in file order, so indices still
 * follow first sight and the cache misses of a batch overlap. */

#define EV_BATCH 256

typedef struct pending_id {
    uint64_t v;       /* canonical integer id, when canon */
    size_t off, len;  /* otherwise: its text in the arena */
    int canon;
} pending_id;

typedef struct pending_ev {
    pending_id user, item;
    int64_t time;
    float value;
    int type;
} pending_ev;

typedef struct ev_batch {
    pending_ev ev[EV_BATCH];
    size_t n;
    uint64_t bytes_end;   /* input bytes consumed after this batch's last row */
    char *arena;
    size_t arena_len, arena_cap;
} ev_batch;

static int arena_reserve(ev_batch *b, size_t more)
{
    if (b->arena_len + more <= b->arena_cap) return 0;
    size_t ncap = b->arena_cap ? b->arena_cap : 16384;
    while (ncap < b->arena_len + more) ncap *= 2;
    char *n = upf_realloc(b->arena, ncap);
    if (!n) return -1;
    b->arena = n;
    b->arena_cap = ncap;
    return 0;
}

/* Checks the id in f and records it in *pid. UPF_ERR_FORMAT = row error. */
static upf_status take_id(ev_batch *b, const upf_csv *r, const upf_csv_field *f, const char *name, upf_id_kind kind,
                          pending_id *pid, upf_err *rowerr)
{
    if (kind != UPF_ID_LATIN1 && kind != UPF_ID_INT_FLOAT && upf_num_canonical_u62(f->p, f->len, &pid->v)) {
        pid->canon = 1;
        return UPF_OK;
    }
    size_t need = 2 * f->len + 32;
    if (arena_reserve(b, need)) return upf_err_set(rowerr, UPF_ERR_NOMEM, "out of memory");
    const char *p;
    size_t n;
    char *dst = b->arena + b->arena_len;
    upf_status st = upf_field_id_text(r, f, name, kind, dst, need, &p, &n, rowerr);
    if (st) return st;
    if (upf_num_canonical_u62(p, n, &pid->v)) { /* "17850.0" became "17850" */
        pid->canon = 1;
        return UPF_OK;
    }
    if (p != dst) memcpy(dst, p, n);
    pid->canon = 0;
    pid->off = b->arena_len;
    pid->len = n;
    b->arena_len += n;
    return UPF_OK;
}

static upf_status resolve_id(upf_import *im, const ev_batch *b, int is_item, const pending_id *pid, int32_t *out,
                             upf_err *err)
{
    if (pid->canon) return upf_import_id_u62(im, is_item, pid->v, out, err);
    return is_item ? upf_import_item_text(im, b->arena + pid->off, pid->len, out, err)
                   : upf_import_user_text(im, b->arena + pid->off, pid->len, out, err);
}

static upf_status flush_batch(upf_import *im, ev_batch *b, int has_item, upf_err *err)
{
    if (im->reserve_bytes && b->n && b->bytes_end) {
        /* First batch of a large file: room for its estimated rows up front,
         * so the event columns are not copied while they grow. */
        double per_row = (double)b->bytes_end / (double)b->n;
        double est = (double)im->reserve_bytes / per_row * 1.02;
        im->reserve_bytes = 0;
        if (est < 1e9) (void)upf_builder_reserve(im->b, upf_builder_n_events(im->b) + (int64_t)est);
    }
    for (size_t i = 0; i < b->n; i++) {
        if (b->ev[i].user.canon) upf_import_prefetch_id(im, 0, b->ev[i].user.v);
        if (has_item && b->ev[i].item.canon) upf_import_prefetch_id(im, 1, b->ev[i].item.v);
    }
    upf_status st = UPF_OK;
    for (size_t i = 0; i < b->n && !st; i++) {
        const pending_ev *e = &b->ev[i];
        int32_t user, item = -1;
        if ((st = resolve_id(im, b, 0, &e->user, &user, err))) break;
        if (has_item && (st = resolve_id(im, b, 1, &e->item, &item, err))) break;
        st = upf_import_event(im, user, item, e->time, e->type, e->value, -1, err);
    }
    b->n = 0;
    b->arena_len = 0;
    return st;
}

/* Names the first mapped field that a short row lacks. */
static void missing_field(const upf_csv *r, size_t nf, size_t cu, size_t ci, size_t ct, size_t cty, size_t cv,
                          const upf_event_mapping *m, upf_err *rowerr)
{
    const char *name = "value";
    size_t col = cv;
    if (cu >= nf) name = "user", col = cu;
    else if (m->item_col && ci >= nf) name = "item", col = ci;
    else if (ct >= nf) name = "time", col = ct;
    else if (m->type_col && cty >= nf) name = "type", col = cty;
    upf_row_short(r, nf, col + 1, name, rowerr);
}

/* The producer side: the CSV, the resolved columns and its outcome. */
typedef struct ev_reader {
    upf_import *im;
    const upf_event_mapping *m;
    upf_csv *r;
    size_t cu, ci, ct, cty, cv, maxcol;
    const upf_type_map_entry *star;
    char type_expect[256];
    uint64_t rows_before;
    upf_status st;  /* first failure of the reader */
    upf_err err;
} ev_reader;

/* Parses rows into b until it is full or the input ends (*eof). Row errors
 * go through the bad-row policy; a fatal one is left in rd->st / rd->err. */
static void read_batch(ev_reader *rd, ev_batch *b, int *eof)
{
    upf_import *im = rd->im;
    const upf_event_mapping *m = rd->m;
    upf_csv *r = rd->r;
    upf_err rowerr;
    upf_err_clear(&rowerr);
    b->n = 0;
    b->arena_len = 0;
    b->bytes_end = 0;
    *eof = 0;
    while (b->n < EV_BATCH) {
        int rc = upf_import_next_row(im, r, &rd->st, &rd->err);
        if (rc <= 0) {
            *eof = 1;
            return;
        }
        size_t nf;
        const upf_csv_field *f = upf_csv_row(r, &nf);
        pending_ev *e = &b->ev[b->n];
        e->type = m->event_type;
        e->value = 1.0f;
        const char *reason = NULL;
        upf_status st;
        if (nf < rd->maxcol) {
            reason = "missing column";
            missing_field(r, nf, rd->cu, rd->ci, rd->ct, rd->cty, rd->cv, m, &rowerr);
        } else if (m->type_col) {
            const upf_csv_field *ft = &f[rd->cty];
            int type = 0;
            if (m->n_type_map) {
                for (size_t i = 0; i < m->n_type_map && !type; i++)
                    if (strcmp(m->type_map[i].text, ft->p) == 0) type = m->type_map[i].type;
                if (!type && rd->star) type = rd->star->type;
            } else {
                type = type_by_name(ft->p, ft->len);
            }
            if (type == UPF_TYPE_SKIP) {
                upf_import_skip(im, "type mapped to skip");
                continue;
            }
            if (!type) {
                reason = "bad type";
                upf_field_error(r, ft, "type", rd->type_expect, &rowerr);
            }
            e->type = type;
        }
        if (!reason && upf_field_time(r, &f[rd->ct], "time", m->time_fmt, &e->time, &rowerr)) reason = "bad time";
        if (!reason && m->value_col && upf_field_f32(r, &f[rd->cv], "value", &e->value, &rowerr)) reason = "bad value";
        if (!reason) {
            st = take_id(b, r, &f[rd->cu], "user", m->user_kind, &e->user, &rowerr);
            if (st == UPF_ERR_FORMAT) reason = "bad user id";
            else if (st) goto fatal;
        }
        if (!reason && m->item_col) {
            st = take_id(b, r, &f[rd->ci], "item", m->item_kind, &e->item, &rowerr);
            if (st == UPF_ERR_FORMAT) reason = "bad item id";
            else if (st) goto fatal;
        }
        if (reason) {
            if (upf_import_bad_row(im, reason, &rowerr)) goto fatal;
            continue;
        }
        b->n++;
    }
    b->bytes_end = upf_csv_bytes(r);
    return;
fatal:
    rd->st = rowerr.status ? rowerr.status : UPF_ERR_FORMAT;
    rd->err = rowerr;
    *eof = 1;
}

/* ---- the optional reader thread ----
 * With im->o.threads >= 2 a second thread tokenizes and parses while the
 * calling thread interns ids and fills the builder. Batches go through a ring
 * of EV_RING buffers and are consumed in order, so the dataset is the same
 * as with one thread. The threads share only the ring (under the mutex) and
 * disjoint fields of the statistics. */

#define EV_RING 4

typedef struct ev_pipe {
    ev_reader *rd;
    ev_batch *buf[EV_RING];
    int eof_at[EV_RING];
    uint64_t produced, consumed;   /* batches; guarded by mu */
    int stop;                      /* the consumer failed: the reader quits */
    int finished;                  /* the reader is done */
    pthread_mutex_t mu;
    pthread_cond_t cv;
} ev_pipe;

static void *reader_main(void *arg)
{
    ev_pipe *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->produced - p->consumed == EV_RING && !p->stop) pthread_cond_wait(&p->cv, &p->mu);
        int stop = p->stop;
        uint64_t k = p->produced;
        pthread_mutex_unlock(&p->mu);
        if (stop) break;
        int eof;
        read_batch(p->rd, p->buf[k % EV_RING], &eof);
        pthread_mutex_lock(&p->mu);
        p->eof_at[k % EV_RING] = eof;
        p->produced++;
        if (eof) p->finished = 1;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
        if (eof) return NULL;
    }
    pthread_mutex_lock(&p->mu);
    p->finished = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Runs the reader on a second thread; *started = 0 when no thread could be
 * created (the caller then reads on its own thread). */
static upf_status run_threaded(ev_reader *rd, ev_batch **bufs, int *started, upf_err *err)
{
    *started = 0;
    ev_pipe p;
    memset(&p, 0, sizeof p);
    p.rd = rd;
    for (int i = 0; i < EV_RING; i++) p.buf[i] = bufs[i];
    if (pthread_mutex_init(&p.mu, NULL)) return UPF_OK;
    if (pthread_cond_init(&p.cv, NULL)) {
        pthread_mutex_destroy(&p.mu);
        return UPF_OK;
    }
    pthread_t th;
    upf_status st = UPF_OK;
    if (pthread_create(&th, NULL, reader_main, &p)) {
        pthread_cond_destroy(&p.cv);
        pthread_mutex_destroy(&p.mu);
        return UPF_OK;
    }
    *started = 1;
    for (;;) {
        pthread_mutex_lock(&p.mu);
        while (p.consumed == p.produced && !p.finished) pthread_cond_wait(&p.cv, &p.mu);
        if (p.consumed == p.produced) { /* finished and drained */
            pthread_mutex_unlock(&p.mu);
            break;
        }
        uint64_t k = p.consumed;
        int eof = p.eof_at[k % EV_RING];
        pthread_mutex_unlock(&p.mu);
        st = flush_batch(rd->im, p.buf[k % EV_RING], rd->m->item_col != NULL, err);
        pthread_mutex_lock(&p.mu);
        p.consumed++;
        if (st) p.stop = 1;
        pthread_cond_broadcast(&p.cv);
        pthread_mutex_unlock(&p.mu);
        if (st || eof) break;
    }
    pthread_join(th, NULL);
    pthread_cond_destroy(&p.cv);
    pthread_mutex_destroy(&p.mu);
    return st;
}

upf_status upf_import_events_csv(upf_import *im, const char *path, const upf_event_mapping *m, upf_err *err)
{
    upf_status st = UPF_OK;
    ev_reader rd;
    memset(&rd, 0, sizeof rd);
    rd.im = im;
    rd.m = m;
    int n_bufs = im->o.threads >= 2 ? EV_RING : 1;
    ev_batch *bufs[EV_RING] = { NULL };
    for (int i = 0; i < n_bufs; i++)
        if (!(bufs[i] = upf_calloc(1, sizeof(ev_batch)))) {
            st = upf_err_set(err, UPF_ERR_NOMEM, "out of memory");
            goto done;
        }
    if ((st = upf_import_open_csv(path, &m->csv, &rd.r, err))) goto done;
    upf_csv *r = rd.r;
    if ((st = resolve(r, m->user_col, &rd.cu, &rd.maxcol, err))) goto done;
    if (m->item_col && (st = resolve(r, m->item_col, &rd.ci, &rd.maxcol, err))) goto done;
    if ((st = resolve(r, m->time_col, &rd.ct, &rd.maxcol, err))) goto done;
    if (m->type_col && (st = resolve(r, m->type_col, &rd.cty, &rd.maxcol, err))) goto done;
    if (m->value_col && (st = resolve(r, m->value_col, &rd.cv, &rd.maxcol, err))) goto done;
    for (size_t i = 0; i < m->n_type_map; i++)
        if (strcmp(m->type_map[i].text, "*") == 0) rd.star = &m->type_map[i];
    char names[160];
    type_names(names, sizeof names);
    snprintf(rd.type_expect, sizeof rd.type_expect,
             m->n_type_map ? "a value listed in --type-map" : "an event type (%s)", names);
    rd.rows_before = im->st.rows;
    struct stat sb;
    im->reserve_bytes = stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > (16 << 20) ? (uint64_t)sb.st_size : 0;
    int started = 0;
    if (n_bufs > 1) st = run_threaded(&rd, bufs, &started, err);
    if (!started) {
        int eof = 0;
        while (!eof && !st) {
            read_batch(&rd, bufs[0], &eof);
            st = flush_batch(im, bufs[0], m->item_col != NULL, err);
        }
    }
    /* The reader runs ahead of the interning: when both failed, the interning
     * failed on earlier rows, so its error is the one to report. */
    if (!st && rd.st) {
        st = rd.st;
        *err = rd.err;
    }
    if (!st && im->st.rows == rd.rows_before)
        st = upf_import_no_rows(rd.r, err);
done:
    for (int i = 0; i < EV_RING; i++)
        if (bufs[i]) {
            upf_free(bufs[i]->arena);
            upf_free(bufs[i]);
        }
    upf_import_close_csv(im, rd.r);
    return st;
}

/* ---- attribute files ---- */

void upf_attr_cols_free(upf_attr_col *c, size_t n)
{
    if (!c) return;
    for (size_t i = 0; i < n; i++) {
        upf_free(c[i].col);
        upf_free(c[i].name);
    }
    upf_free(c);
}

static char *dup_n(const char *s, size_t n)
{
    char *d = upf_malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

upf_status upf_attr_cols_parse(const char *spec, upf_attr_col **out, size_t *n, upf_err *err)
{
    *out = NULL;
    *n = 0;
    size_t cap = 1;
    for (const char *s = spec; *s; s++) cap += *s == ',';
    upf_attr_col *c = upf_calloc(cap, sizeof *c);
    if (!c) return upf_err_set(err, UPF_ERR_NOMEM, "out of memory");
    size_t k = 0;
    const char *p = spec;
    while (*p) {
        const char *end = strchr(p, ',');
        if (!end) end = p + strlen(p);
        const char *colon = memchr(p, ':', (size_t)(end - p));
        const char *cend = colon ? colon : end;
        if (cend == p) goto bad;
        c[k].kind = UPF_ATTR_CAT;
        c[k].sep = '|';
        if (colon) {
            const char *kind = colon + 1;
            size_t kl = (size_t)(end - kind);
            if (kl == 3 && !strncmp(kind, "cat", 3)) c[k].kind = UPF_ATTR_CAT;
            else if (kl == 3 && !strncmp(kind, "num", 3)) c[k].kind = UPF_ATTR_NUM;
            else if (kl == 4 && !strncmp(kind, "text", 4)) c[k].kind = UPF_ATTR_TEXT;
            else if (kl >= 5 && !strncmp(kind, "multi", 5) && (kl == 5 || (kl == 7 && kind[5] == '='))) {
                c[k].kind = UPF_ATTR_MULTI;
                if (kl == 7) c[k].sep = kind[6];
            } else {
                goto bad;
            }
        }
        c[k].col = dup_n(p, (size_t)(cend - p));
        if (!c[k].col) {
            upf_attr_cols_free(c, k);
            return upf_err_set(err, UPF_ERR_NOMEM, "out of memory");
        }
        k++;
        p = *end ? end + 1 : end;
        continue;
    bad:
        upf_attr_cols_free(c, k);
        return upf_err_set(err, UPF_ERR_ARG,
                           "--attr-cols: expected COL[:cat|:num|:multi[=SEP]|:text] entries separated by commas, got \"%.*s\"",
                           (int)(end - p), p);
    }
    if (k == 0) {
        upf_free(c);
        return upf_err_set(err, UPF_ERR_ARG, "--attr-cols: empty");
    }
    *out = c;
    *n = k;
    return UPF_OK;
}

/* Rows already given attributes in this file, by user/item index. */
typedef struct seen_set {
    uint8_t *bit;
    size_t cap;
} seen_set;

static int seen_test_set(seen_set *s, int32_t i)
{
    size_t k = (size_t)i >> 3;
    if (k >= s->cap) {
        size_t ncap = s->cap ? s->cap : 1024;
        while (ncap <= k) ncap *= 2;
        uint8_t *n = upf_realloc(s->bit, ncap);
        if (!n) return -1;
        memset(n + s->cap, 0, ncap - s->cap);
        s->bit = n;
        s->cap = ncap;
    }
    uint8_t m = (uint8_t)(1u << (i & 7));
    int was = (s->bit[k] & m) != 0;
    s->bit[k] |= m;
    return was;
}

static upf_status add_cells(upf_import *im, const upf_attr_mapping *m, const upf_csv *r, const upf_csv_field *f,
                            const size_t *cols, int32_t row, upf_err *rowerr, upf_err *err, int *bad)
{
    char *conv = NULL;
    upf_status st = UPF_OK;
    *bad = 0;
    for (size_t j = 0; j < m->n_cols; j++) {
        const upf_attr_col *ac = &m->cols[j];
        const upf_csv_field *cell = &f[cols[j]];
        const char *p = cell->p;
        size_t n = cell->len;
        if (n == 0) continue;
        if (m->latin1) {
            upf_free(conv);
            conv = upf_malloc(2 * n + 1);
            if (!conv) {
                st = upf_err_set(err, UPF_ERR_NOMEM, "out of memory");
                goto done;
            }
            n = upf_latin1_to_utf8(p, n, conv);
            p = conv;
        } else if (!upf_utf8_valid(p, n, NULL)) {
            upf_field_error(r, cell, ac->name, "UTF-8 text (is the file Latin-1?)", rowerr);
            *bad = 1;
            goto done;
        }
        switch (ac->kind) {
        case UPF_ATTR_NUM: {
            float v;
            if (upf_field_f32(r, cell, ac->name, &v, rowerr)) {
                *bad = 1;
                goto done;
            }
            st = upf_import_num_attr(im, m->is_item, row, ac->name, v, err);
            break;
        }
        case UPF_ATTR_MULTI: {
            size_t s = 0;
            while (s <= n && !st) {
                size_t e = s;
                while (e < n && p[e] != ac->sep) e++;
                size_t a = s, b = e;
                while (a < b && (p[a] == ' ' || p[a] == '\t')) a++;
                while (b > a && (p[b - 1] == ' ' || p[b - 1] == '\t')) b--;
                int dup = 0;
                /* the same value twice in one cell counts once */
                for (size_t q = 0; q < a && !dup && b > a;) {
                    size_t qe = q;
                    while (qe < n && p[qe] != ac->sep) qe++;
                    size_t qa = q, qb = qe;
                    while (qa < qb && (p[qa] == ' ' || p[qa] == '\t')) qa++;
                    while (qb > qa && (p[qb - 1] == ' ' || p[qb - 1] == '\t')) qb--;
                    dup = qb - qa == b - a && memcmp(p + qa, p + a, b - a) == 0;
                    q = qe + 1;
                }
                if (b > a && !dup) st = upf_import_cat_attr(im, m->is_item, row, ac->name, p + a, b - a, err);
                s = e + 1;
            }
            break;
        }
        case UPF_ATTR_TEXT: st = upf_import_text_attr(im, m->is_item, row, "token", p, n, err); break;
        case UPF_ATTR_CAT:
        default: st = upf_import_cat_attr(im, m->is_item, row, ac->name, p, n, err); break;
        }
        if (st) goto done;
    }
done:
    upf_free(conv);
    return st;
}

upf_status upf_import_attrs_csv(upf_import *im, const char *path, const upf_attr_mapping *m, upf_err *err)
{
    upf_status st = UPF_OK;
    upf_csv *r = NULL;
    upf_err rowerr;
    upf_err_clear(&rowerr);
    seen_set seen = { NULL, 0 };
    size_t *cols = NULL;
    upf_attr_col *named = NULL;
    upf_attr_mapping mm = *m;
    if ((st = upf_import_open_csv(path, &m->csv, &r, err))) return st;
    size_t ck = 0, maxcol = 0;
    if ((st = resolve(r, m->key_col, &ck, &maxcol, err))) goto done;
    cols = upf_calloc(m->n_cols ? m->n_cols : 1, sizeof *cols);
    named = upf_calloc(m->n_cols ? m->n_cols : 1, sizeof *named);
    if (!cols || !named) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t j = 0; j < m->n_cols; j++) {
        if ((st = resolve(r, m->cols[j].col, &cols[j], &maxcol, err))) goto done;
        named[j] = m->cols[j];
        if (!named[j].name) {
            const char *h = upf_csv_header_name(r, cols[j]);
            named[j].name = (char *)(h && *h ? h : m->cols[j].col);
        }
    }
    mm.cols = named;
    int rc;
    uint64_t rows_before = im->st.rows;
    while ((rc = upf_import_next_row(im, r, &st, err)) == 1) {
        size_t nf;
        const upf_csv_field *f = upf_csv_row(r, &nf);
        int32_t row;
        const char *reason = NULL;
        if (nf < maxcol) {
            reason = "missing column";
            upf_row_short(r, nf, maxcol, "row", &rowerr);
        } else {
            st = m->is_item ? upf_field_item(im, r, &f[ck], "id", m->key_kind, &row, &rowerr)
                            : upf_field_user(im, r, &f[ck], "id", m->key_kind, &row, &rowerr);
            if (st == UPF_ERR_FORMAT) reason = "bad id";
            else if (st) {
                *err = rowerr;
                goto done;
            }
        }
        if (!reason) {
            int was = seen_test_set(&seen, row);
            if (was < 0) {
                st = upf_err_set(err, UPF_ERR_NOMEM, "out of memory");
                goto done;
            }
            if (was) {
                upf_import_skip(im, "repeated id in an attribute file");
                continue;
            }
            int bad = 0;
            if ((st = add_cells(im, &mm, r, f, cols, row, &rowerr, err, &bad))) goto done;
            if (bad) reason = "bad attribute";
        }
        if (reason) {
            if ((st = upf_import_bad_row(im, reason, &rowerr))) {
                *err = rowerr;
                goto done;
            }
            continue;
        }
        im->st.attr_rows++;
    }
    if (rc == 0 && im->st.rows == rows_before)
        st = upf_import_no_rows(r, err);
done:
    upf_free(seen.bit);
    upf_free(cols);
    upf_free(named);
    upf_import_close_csv(im, r);
    return st;
}
