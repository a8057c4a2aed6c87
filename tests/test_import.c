/* test_import.c - the importers: the generic CSV mapping and every preset on
 * small files written here in the publishers' real formats; bad input through
 * the command (file:line:column messages, exit codes, no output left behind,
 * --skip-bad-rows); and, when ../shared/data is present, every preset on the
 * real data against the publishers' stated counts.
 *
 * Golden timestamps were computed independently with Python's datetime, e.g.
 * int(datetime(2010,12,1,8,26,tzinfo=timezone.utc).timestamp()) = 1291191960.
 */
#include <check.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../datasets/h5_io.h"
#include "../datasets/import.h"
#include "../datasets/presets.h"
#include "../model/json.h"
#include "../model/rng.h"
#include "testutil.h"

/* ---- helpers ---- */

static char *tmp_dir;

static void setup(void) { tmp_dir = upf_test_tmpdir(); }
static void teardown(void)
{
    upf_test_rmdir(tmp_dir);
    tmp_dir = NULL;
}

/* Writes bytes to tmp_dir/name (sub-folders created); returns the path (static ring). */
static const char *put(const char *name, const char *text, size_t n)
{
    static char ring[8][4200];
    static int k;
    char *path = ring[k++ % 8];
    snprintf(path, sizeof ring[0], "%s/%s", tmp_dir, name);
    for (char *s = path + strlen(tmp_dir) + 1; *s; s++)
        if (*s == '/') {
            *s = '\0';
            mkdir(path, 0755);
            *s = '/';
        }
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    ck_assert(fwrite(text, 1, n, f) == n);
    fclose(f);
    return path;
}
#define PUT(name, lit) put((name), (lit), sizeof(lit) - 1)

static upf_dataset *run_preset(const char *name, upf_import_stats *stats, size_t n, ...)
{
    const char *inputs[8];
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++) inputs[i] = va_arg(ap, const char *);
    va_end(ap);
    const upf_preset *p = upf_preset_find(name);
    ck_assert_msg(p != NULL, "no preset %s", name);
    upf_builder *b = NULL;
    upf_err err;
    upf_err_clear(&err);
    ck_assert(upf_builder_create(&b, &err) == UPF_OK);
    upf_import im;
    upf_import_init(&im, b, NULL);
    upf_status st = p->run(&im, inputs, n, &err);
    ck_assert_msg(st == UPF_OK, "preset %s: %s", name, err.msg);
    upf_dataset *ds = NULL;
    st = upf_builder_finish(b, &ds, &err);
    ck_assert_msg(st == UPF_OK, "finish: %s", err.msg);
    if (stats) *stats = im.st;
    upf_import_release(&im);
    return ds;
}

static int32_t index_of(const upf_strings *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(upf_strings_get(s, i), id) == 0) return (int32_t)i;
    return -1;
}

/* Weight of attribute `name` on row, or NaN when the row lacks it. */
static double attr(const upf_attrs *a, int32_t row, const char *name)
{
    int32_t k = upf_attrs_find(a, name);
    if (k < 0 || row < 0 || (size_t)row >= a->n_rows) return NAN;
    for (int64_t j = a->ptr[row]; j < a->ptr[row + 1]; j++)
        if (a->index[j] == k) return a->value[j];
    return NAN;
}

static size_t row_nnz(const upf_attrs *a, int32_t row) { return (size_t)(a->ptr[row + 1] - a->ptr[row]); }

/* The e-th event (in time order) of user `id`. */
static int64_t ev(const upf_dataset *ds, const char *id, int64_t e)
{
    int32_t u = index_of(&ds->user_ids, id);
    ck_assert_msg(u >= 0, "no user %s", id);
    ck_assert_msg(ds->user_ptr[u] + e < ds->user_ptr[u + 1], "user %s has no event %lld", id, (long long)e);
    return ds->user_ptr[u] + e;
}

static const char *item_of(const upf_dataset *ds, int64_t e) { return upf_strings_get(&ds->item_ids, (size_t)ds->ev_item[e]); }

/* Runs the command with sh; stdout and stderr go to tmp_dir/out and /err.
 * Returns the exit status. */
static int cli(const char *fmt, ...)
{
    char args[6000], cmd[8000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "%s data import %s >'%s/out' 2>'%s/err'", upf_test_bin(), args, tmp_dir, tmp_dir);
    int rc = system(cmd);
    ck_assert_msg(rc != -1 && WIFEXITED(rc), "could not run: %s", cmd);
    return WEXITSTATUS(rc);
}

static char *slurp(const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", tmp_dir, name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "no %s", path);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int exists(const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", tmp_dir, name);
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* No temporaries (".name.tmp-PID") left in tmp_dir. */
static void no_temporaries(void)
{
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "ls -a '%s' | grep -q '\\.tmp-'", tmp_dir);
    ck_assert_msg(system(cmd) != 0, "a temporary output file was left in %s", tmp_dir);
}

#define ERR_HAS(s) ck_assert_msg(strstr(slurp("err"), (s)) != NULL, "stderr lacks \"%s\":\n%s", (s), slurp("err"))

/* ---- generic mapping ---- */

START_TEST(test_generic_events_and_attrs)
{
    const char *ev_path = PUT("ev.csv", "user_id,sku,ts,action,amount\r\n"
                                        "u1,A,2011-12-09T12:50:00Z,buy,10.5\r\n"
                                        "u2,\"B,x\",2011-12-09 12:50:00+01:00,pv,0\r\n"
                                        "u1,\"B,x\",1970-01-01,pv,1\r\n"
                                        "u3,C,2011-12-09,fav,0\r\n");
    PUT("items.csv", "sku,category,tags,price,title\n"
                     "A,mugs,red|big|red,4.5,\"Big Red Mug\"\n"
                     "D,plates,,2,Plain plate\n");
    char out[4200];
    snprintf(out, sizeof out, "%s/o.h5", tmp_dir);
    int rc = cli("--csv '%s' --user user_id --item sku --time ts --time-format iso --type action "
                 "--type-map 'buy=purchase,pv=view,*=skip' --value amount --item-attrs '%s/items.csv' --item-key sku "
                 "--attr-cols 'category,tags:multi,price:num,title:text' -o '%s' --json",
                 ev_path, tmp_dir, out);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, slurp("err"));
    upf_json *j = NULL;
    upf_err err;
    char *o = slurp("out");
    ck_assert_msg(upf_json_parse(o, strlen(o), &j, &err) == UPF_OK, "%s", err.msg);
    ck_assert(upf_json_get(j, "rows")->num == 6); /* 4 event rows + 2 attribute rows */
    ck_assert(upf_json_path(j, "skipped_by_reason.type mapped to skip")->num == 1);
    upf_json_free(j);

    upf_dataset *ds = NULL;
    ck_assert_msg(upf_dataset_read(out, &ds, &err) == UPF_OK, "%s", err.msg);
    ck_assert_uint_eq(ds->n_users, 2); /* u3's only row was skipped before its id was read */
    ck_assert_uint_eq(ds->n_items, 3); /* A, "B,x", and D from the catalogue */
    ck_assert_int_eq(ds->n_events, 3);
    int64_t e = ev(ds, "u1", 0); /* 1970 first: sorted by time */
    ck_assert_int_eq(ds->ev_time[e], 0);
    ck_assert_str_eq(item_of(ds, e), "B,x");
    ck_assert_int_eq(ds->ev_type[e], UPF_EV_VIEW);
    e = ev(ds, "u1", 1);
    ck_assert_int_eq(ds->ev_time[e], 1323435000);
    ck_assert_int_eq(ds->ev_type[e], UPF_EV_PURCHASE);
    ck_assert(ds->ev_value[e] == 10.5f);
    ck_assert_int_eq(ds->ev_time[ev(ds, "u2", 0)], 1323431400); /* +01:00 */
    int32_t a = index_of(&ds->item_ids, "A"), d = index_of(&ds->item_ids, "D");
    ck_assert(attr(&ds->item_attrs, a, "category=mugs") == 1);
    ck_assert(attr(&ds->item_attrs, a, "tags=red") == 1); /* "red" twice in the cell counts once */
    ck_assert(attr(&ds->item_attrs, a, "tags=big") == 1);
    ck_assert(attr(&ds->item_attrs, a, "price") == 4.5);
    ck_assert(attr(&ds->item_attrs, a, "token=mug") == 1);
    ck_assert_uint_eq(row_nnz(&ds->item_attrs, a), 7); /* category, 2 tags, price, 3 tokens */
    ck_assert(attr(&ds->item_attrs, d, "token=plain") == 1);
    ck_assert(isnan(attr(&ds->item_attrs, d, "tags=")));
    upf_dataset_free(ds);
}
END_TEST

START_TEST(test_generic_numbers_no_header_and_latin1)
{
    const char *p = PUT("r.dat", "1::10::5::978300760\n1::\xe9t\xe9::3::978302109\n2::10::4::978301968\n");
    char out[4200];
    snprintf(out, sizeof out, "%s/o.h5", tmp_dir);
    int rc = cli("--csv '%s' --delimiter :: --no-header --user 1 --item 2 --value 3 --time 4 --event-type rating "
                 "--encoding latin1 -o '%s' -q",
                 p, out);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, slurp("err"));
    ck_assert_str_eq(slurp("out"), ""); /* --quiet */
    upf_dataset *ds = NULL;
    upf_err err;
    ck_assert(upf_dataset_read(out, &ds, &err) == UPF_OK);
    ck_assert_int_eq(ds->n_events, 3);
    ck_assert(index_of(&ds->item_ids, "\xc3\xa9t\xc3\xa9") >= 0); /* converted to UTF-8 */
    ck_assert(ds->ev_value[ev(ds, "1", 0)] == 5.0f);
    upf_dataset_free(ds);
    /* the same file as UTF-8 is refused at the Latin-1 byte, with its place */
    rc = cli("--csv '%s' --delimiter :: --no-header --user 1 --item 2 --time 4 --event-type rating -o '%s'", p, out);
    ck_assert_int_eq(rc, 1);
    ERR_HAS("r.dat:2:4: item: expected an id in UTF-8 (is the file Latin-1?), got \"\xe9t\xe9\"");
}
END_TEST

START_TEST(test_type_names_and_map_errors)
{
    upf_type_map_entry *m = NULL;
    size_t n = 0;
    upf_err err;
    ck_assert(upf_type_map_parse("buy=purchase,view=VIEW,x=skip", &m, &n, &err) == UPF_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(m[0].type, UPF_EV_PURCHASE);
    ck_assert_int_eq(m[1].type, UPF_EV_VIEW);
    ck_assert_int_eq(m[2].type, UPF_TYPE_SKIP);
    upf_type_map_free(m, n);
    ck_assert(upf_type_map_parse("buy=bought", &m, &n, &err) == UPF_ERR_ARG);
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(err.msg, "\"bought\" is not an event type"), "%s", err.msg);
    ck_assert(upf_type_map_parse("buy", &m, &n, &err) == UPF_ERR_ARG);
    upf_attr_col *c = NULL;
    ck_assert(upf_attr_cols_parse("a,b:num,c:multi=;,d:text", &c, &n, &err) == UPF_OK);
    ck_assert_uint_eq(n, 4);
    ck_assert_int_eq(c[2].kind, UPF_ATTR_MULTI);
    ck_assert_int_eq(c[2].sep, ';');
    upf_attr_cols_free(c, n);
    ck_assert(upf_attr_cols_parse("a:bogus", &c, &n, &err) == UPF_ERR_ARG);
}
END_TEST

/* Dense integer ids take the cache; the dataset must be the same as without it. */
START_TEST(test_id_cache_and_limits)
{
    upf_builder *b = NULL;
    upf_err err;
    ck_assert(upf_builder_create(&b, &err) == UPF_OK);
    upf_import_opts o = upf_import_opts_default();
    o.max_ids = 4;
    upf_import im;
    upf_import_init(&im, b, &o);
    int32_t k[8];
    const char *ids[] = { "7", "007", "7", "123456789012", "0", "7" };
    for (int i = 0; i < 6; i++) ck_assert(upf_import_user_text(&im, ids[i], strlen(ids[i]), &k[i], &err) == UPF_OK);
    ck_assert_int_eq(k[0], 0);
    ck_assert_int_eq(k[1], 1); /* "007" is another id */
    ck_assert_int_eq(k[2], 0);
    ck_assert_int_eq(k[3], 2);
    ck_assert_int_eq(k[4], 3);
    ck_assert_int_eq(k[5], 0);
    ck_assert_int_eq(upf_builder_find_user(b, "7", 1), 0);
    int32_t x;
    ck_assert(upf_import_user_text(&im, "8", 1, &x, &err) == UPF_ERR_DATA);
    ck_assert_msg(strstr(err.msg, "more than 4 distinct user ids"), "%s", err.msg);
    upf_import_release(&im);
    upf_builder_free(b);
}
END_TEST

START_TEST(test_text_tokens)
{
    upf_builder *b = NULL;
    upf_err err;
    ck_assert(upf_builder_create(&b, &err) == UPF_OK);
    upf_import im;
    upf_import_init(&im, b, NULL);
    int32_t item;
    ck_assert(upf_import_item_text(&im, "x", 1, &item, &err) == UPF_OK);
    const char *t = "SET OF 12 T-LIGHT Holders, set of 3 \xc2\xa3 Caf\xc3\xa9";
    ck_assert(upf_import_text_attr(&im, 1, item, "token", t, strlen(t), &err) == UPF_OK);
    upf_import_release(&im);
    upf_dataset *ds = NULL;
    ck_assert(upf_builder_finish(b, &ds, &err) == UPF_OK);
    ck_assert_uint_eq(row_nnz(&ds->item_attrs, 0), 5); /* set, of, light, holders, café (12, 3, t, £ dropped) */
    ck_assert(attr(&ds->item_attrs, 0, "token=set") == 1);
    ck_assert(attr(&ds->item_attrs, 0, "token=holders") == 1);
    ck_assert(attr(&ds->item_attrs, 0, "token=caf\xc3\xa9") == 1);
    upf_dataset_free(ds);
}
END_TEST

/* Imports path with the generic mapping (user,item,time,type,value) and the
 * given thread count; returns the status, *out the dataset on success. */
static upf_status import_generic(const char *path, int threads, int skip, size_t max_ids, upf_dataset **out,
                                 upf_import_stats *stats, upf_err *err)
{
    upf_builder *b = NULL;
    *out = NULL;
    ck_assert(upf_builder_create(&b, err) == UPF_OK);
    upf_import_opts o = upf_import_opts_default();
    o.threads = threads;
    o.skip_bad_rows = skip;
    o.max_ids = max_ids;
    o.show_bad = 0;
    upf_import im;
    upf_import_init(&im, b, &o);
    upf_event_mapping m;
    memset(&m, 0, sizeof m);
    m.csv = upf_csv_opts_default();
    m.user_col = "user";
    m.item_col = "item";
    m.time_col = "time";
    m.type_col = "type";
    m.value_col = "value";
    m.time_fmt = UPF_TIME_UNIX;
    upf_status st = upf_import_events_csv(&im, path, &m, err);
    if (stats) *stats = im.st;
    upf_import_release(&im);
    if (st) {
        upf_builder_free(b);
        return st;
    }
    return upf_builder_finish(b, out, err);
}

/* A file of many batches with canonical and other ids, and bad rows. */
static const char *write_mixed(int bad_every)
{
    static char text[400000];
    size_t n = (size_t)snprintf(text, sizeof text, "user,item,time,type,value\n");
    upf_rng r;
    upf_rng_seed(&r, 3, 0);
    for (int i = 0; i < 9000 && n + 64 < sizeof text; i++) {
        uint32_t u = upf_rng_below(&r, 700), it = upf_rng_below(&r, 300);
        const char *type = upf_rng_below(&r, 5) ? "view" : "purchase";
        if (bad_every && i % bad_every == bad_every - 1)
            n += (size_t)snprintf(text + n, sizeof text - n, "%u,%u,oops,view,1\n", u, it);
        else if (u % 3 == 0)
            n += (size_t)snprintf(text + n, sizeof text - n, "u%u,%u,%d,%s,%u\n", u, it, 1000 + i % 50, type, u % 7);
        else if (u % 3 == 1)
            n += (size_t)snprintf(text + n, sizeof text - n, "%u,0%u,%d,%s,%u\n", u, it, 1000 + i % 50, type, u % 7);
        else
            n += (size_t)snprintf(text + n, sizeof text - n, "%u,%u,%d,%s,%u.5\n", u, it, 1000 + i % 50, type, u % 7);
    }
    return put("mixed.csv", text, n);
}

START_TEST(test_threads_same_dataset)
{
    const char *p = write_mixed(97);
    upf_dataset *a = NULL, *b = NULL;
    upf_import_stats sa, sb;
    upf_err err;
    ck_assert_msg(import_generic(p, 1, 1, 0, &a, &sa, &err) == UPF_OK, "%s", err.msg);
    ck_assert_msg(import_generic(p, 2, 1, 0, &b, &sb, &err) == UPF_OK, "%s", err.msg);
    ck_assert_int_eq(sa.skipped, 9000 / 97);
    ck_assert_int_eq(sb.skipped, sa.skipped);
    ck_assert_int_eq(sa.rows, sb.rows);
    ck_assert_int_eq(a->n_events, b->n_events);
    ck_assert_int_eq(a->n_events, 9000 - 9000 / 97);
    ck_assert_uint_eq(a->n_users, b->n_users);
    ck_assert_uint_eq(a->n_items, b->n_items);
    ck_assert(memcmp(a->user_ids.data, b->user_ids.data, (size_t)a->user_ids.off[a->n_users]) == 0);
    ck_assert(memcmp(a->item_ids.data, b->item_ids.data, (size_t)a->item_ids.off[a->n_items]) == 0);
    size_t ne = (size_t)a->n_events;
    ck_assert(memcmp(a->ev_user, b->ev_user, ne * sizeof *a->ev_user) == 0);
    ck_assert(memcmp(a->ev_item, b->ev_item, ne * sizeof *a->ev_item) == 0);
    ck_assert(memcmp(a->ev_time, b->ev_time, ne * sizeof *a->ev_time) == 0);
    ck_assert(memcmp(a->ev_type, b->ev_type, ne) == 0);
    ck_assert(memcmp(a->ev_value, b->ev_value, ne * sizeof *a->ev_value) == 0);
    /* first sight: the first data row's user is user 0 */
    ck_assert_str_eq(upf_strings_get(&a->user_ids, 0), upf_strings_get(&b->user_ids, 0));
    upf_dataset_free(a);
    upf_dataset_free(b);
}
END_TEST

START_TEST(test_threads_errors)
{
    const char *p = write_mixed(4000); /* the first bad row is row 4000 */
    upf_err err;
    upf_dataset *ds = NULL;
    for (int t = 1; t <= 2; t++) {
        upf_err_clear(&err);
        ck_assert_int_eq(import_generic(p, t, 0, 0, &ds, NULL, &err), UPF_ERR_FORMAT);
        ck_assert_ptr_null(ds);
        ck_assert_msg(strstr(err.msg, "mixed.csv:4001:") && strstr(err.msg, "time: expected unix seconds, got \"oops\""),
                      "threads %d: %s", t, err.msg);
        /* the interning fails first (more than 50 users) though a bad row follows */
        upf_err_clear(&err);
        ck_assert_int_eq(import_generic(p, t, 0, 50, &ds, NULL, &err), UPF_ERR_DATA);
        ck_assert_msg(strstr(err.msg, "more than 50 distinct user ids"), "threads %d: %s", t, err.msg);
    }
}
END_TEST

/* Allocation failures anywhere in an import: NOMEM (or a clean error), never a
 * crash or a leak (the sanitizer build checks leaks). */
START_TEST(test_alloc_failures)
{
    const char *p = PUT("small.csv", "user,item,time,type,value\nu1,a,1,view,1\n2,b,2,purchase,3.5\nu1,b,3,cart,1\n");
    upf_err err;
    int ok = 0;
    for (long nth = 1; nth < 400 && !ok; nth++) {
        upf_dataset *ds = NULL;
        upf_builder *b = NULL;
        upf_alloc_fail_after(nth);
        upf_status st = upf_builder_create(&b, &err);
        if (st == UPF_OK) {
            upf_import im;
            upf_import_init(&im, b, NULL);
            upf_event_mapping m;
            memset(&m, 0, sizeof m);
            m.csv = upf_csv_opts_default();
            m.user_col = "user";
            m.item_col = "item";
            m.time_col = "time";
            m.type_col = "type";
            m.value_col = "value";
            st = upf_import_events_csv(&im, p, &m, &err);
            upf_import_release(&im);
            if (!st) st = upf_builder_finish(b, &ds, &err);
            else upf_builder_free(b);
        }
        upf_alloc_fail_after(0);
        if (st == UPF_OK) {
            ck_assert_int_eq(ds->n_events, 3);
            ok = 1;
        } else {
            ck_assert_msg(st == UPF_ERR_NOMEM || st == UPF_ERR_IO, "nth %ld: %s", nth, err.msg);
            ck_assert_ptr_null(ds);
        }
        upf_dataset_free(ds);
    }
    ck_assert_msg(ok, "never succeeded");
}
END_TEST

/* ---- presets on crafted files ---- */

START_TEST(test_preset_movielens100k)
{
    PUT("ml/u.data", "1\t10\t4\t881250949\n2\t10\t3\t891717742\n1\t20\t5\t878887116\n");
    char genre[1024] = "";
    static const char *const g[19] = { "unknown", "Action", "Adventure", "Animation", "Children", "Comedy", "Crime",
                                       "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
                                       "Romance", "Sci-Fi", "Thriller", "War", "Western" };
    for (int i = 0; i < 19; i++) snprintf(genre + strlen(genre), sizeof genre - strlen(genre), "%s|%d\n", g[i], i);
    strcat(genre, "\n");
    put("ml/u.genre", genre, strlen(genre));
    PUT("ml/u.item", "10|Mis\xe9rables, Les (1995)|01-Jan-1995||http://x|0|0|0|0|1|1|0|0|1|0|0|0|0|0|0|0|0|0|0\n"
                     "20|\"Quoted\" Film (1994)|||http://y|0|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
                     "30|unknown||||1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n");
    PUT("ml/u.user", "1|24|M|technician|85711\n2|53|F|other|94043\n");
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/ml", tmp_dir);
    upf_import_stats st;
    upf_dataset *ds = run_preset("movielens100k", &st, 1, dir);
    ck_assert_uint_eq(ds->n_users, 2);
    ck_assert_uint_eq(ds->n_items, 3); /* item 30 has no rating but is in the catalogue */
    ck_assert_int_eq(ds->n_events, 3);
    ck_assert_int_eq(st.events_by_type[UPF_EV_RATING], 3);
    ck_assert_str_eq(upf_strings_get(&ds->item_ids, 0), "10"); /* catalogue order */
    int64_t e = ev(ds, "1", 0);
    ck_assert_int_eq(ds->ev_time[e], 878887116);
    ck_assert_str_eq(item_of(ds, e), "20");
    ck_assert(ds->ev_value[e] == 5.0f);
    ck_assert(attr(&ds->item_attrs, 0, "genre=Children") == 1); /* name from u.genre */
    ck_assert(attr(&ds->item_attrs, 0, "genre=Comedy") == 1);
    ck_assert(attr(&ds->item_attrs, 0, "genre=Drama") == 1);
    ck_assert(attr(&ds->item_attrs, 2, "genre=unknown") == 1);
    ck_assert_ptr_nonnull(ds->item_added);
    ck_assert_int_eq(ds->item_added[0], 788918400); /* 01-Jan-1995 */
    ck_assert_int_eq(ds->item_added[1], 757382400); /* no date: the title's year, 1994-01-01 */
    ck_assert_int_eq(ds->item_added[2], UPF_TIME_MISSING);
    int32_t u1 = index_of(&ds->user_ids, "1"), u2 = index_of(&ds->user_ids, "2");
    ck_assert(attr(&ds->user_attrs, u1, "age_band=18-24") == 1);
    ck_assert(attr(&ds->user_attrs, u1, "occupation=technician") == 1);
    ck_assert(attr(&ds->user_attrs, u2, "age_band=50-55") == 1);
    ck_assert(attr(&ds->user_attrs, u2, "gender=F") == 1);
    upf_dataset_free(ds);

    /* the files named one by one give the same counts; unknown names are refused */
    char data[4200], item[4200];
    snprintf(data, sizeof data, "%s/ml/u.data", tmp_dir);
    snprintf(item, sizeof item, "%s/ml/u.item", tmp_dir);
    ds = run_preset("movielens100k", NULL, 2, data, item);
    ck_assert_uint_eq(ds->n_items, 3);
    ck_assert_int_eq(ds->n_events, 3);
    upf_dataset_free(ds);
}
END_TEST

START_TEST(test_preset_movielens_latest)
{
    PUT("mls/movies.csv", "movieId,title,genres\n"
                          "1,Toy Story (1995),Adventure|Animation|Children\n"
                          "11,\"American President, The (1995)\",Comedy|Drama|Romance\n"
                          "99,Untitled,(no genres listed)\n");
    PUT("mls/ratings.csv", "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,11,0.5,964981247\n2,1,5.0,964982224\n");
    PUT("mls/tags.csv", "userId,movieId,tag,timestamp\n"
                        "2,11,\"funny, Highly quotable\",1445714994\n"
                        "1,11,funny,1445714996\n");
    PUT("mls/links.csv", "movieId,imdbId,tmdbId\n1,0114709,862\n");
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/mls", tmp_dir);
    upf_import_stats st;
    upf_dataset *ds = run_preset("movielens-latest", &st, 1, dir);
    ck_assert_uint_eq(ds->n_users, 2);
    ck_assert_uint_eq(ds->n_items, 3);
    ck_assert_int_eq(st.events_by_type[UPF_EV_RATING], 3);
    ck_assert_int_eq(st.events_by_type[UPF_EV_TAG], 2);
    int32_t m11 = index_of(&ds->item_ids, "11"), m99 = index_of(&ds->item_ids, "99");
    ck_assert(attr(&ds->item_attrs, m11, "genre=Romance") == 1);
    ck_assert(attr(&ds->item_attrs, m11, "tag=funny") == 1); /* two users, one attribute of weight 1 */
    ck_assert(attr(&ds->item_attrs, m11, "tag=quotable") == 1);
    ck_assert_uint_eq(row_nnz(&ds->item_attrs, m99), 0);
    ck_assert_int_eq(ds->item_added[m11], 788918400);
    ck_assert_int_eq(ds->item_added[m99], UPF_TIME_MISSING);
    int64_t e = ev(ds, "2", 1); /* the tag after the rating */
    ck_assert_int_eq(ds->ev_type[e], UPF_EV_TAG);
    ck_assert_ptr_nonnull(ds->ev_query);
    ck_assert_str_eq(upf_strings_get(&ds->queries, (size_t)ds->ev_query[e]), "funny, Highly quotable");
    ck_assert(ds->ev_value[ev(ds, "1", 0)] == 0.5f || ds->ev_value[ev(ds, "1", 1)] == 0.5f);
    upf_dataset_free(ds);
}
END_TEST

START_TEST(test_preset_online_retail)
{
    PUT("or/2010-12-01.csv",
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom\n"
        "536365,71053,\"WHITE METAL LANTERN, LARGE\",2,2010-12-01 08:26:00,3.39,17850.0,United Kingdom\n"
        "536366,71053,WHITE METAL LANTERN,1,2010-12-01 09:00:00,3.75,,United Kingdom\n"
        "C536379,85123A,WHITE HANGING HEART T-LIGHT HOLDER,-1,2010-12-01 09:41:00,2.55,17850.0,United Kingdom\n");
    PUT("or/2010-12-02.csv",
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "536400,85123A,WHITE HANGING HEART T-LIGHT HOLDER,12,12/2/2010 10:00,2.95,13047,France\n"
        "536401,22752,SET 7 BABUSHKA NESTING BOXES,-3,2010-12-02 11:00:00,7.65,13047,France\n");
    PUT("or/README.txt", "not data\n");
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/or", tmp_dir);
    upf_import_stats st;
    upf_dataset *ds = run_preset("online-retail", &st, 1, dir);
    ck_assert_uint_eq(ds->n_users, 2);
    ck_assert_uint_eq(ds->n_items, 3);
    ck_assert_int_eq(st.events_by_type[UPF_EV_PURCHASE], 3);
    ck_assert_int_eq(st.events_by_type[UPF_EV_RETURN], 2);
    ck_assert_int_eq(st.rows, 6);
    ck_assert_int_eq(upf_import_skipped(&st, "no customer id"), 1);
    int64_t e = ev(ds, "17850", 0);
    ck_assert_int_eq(ds->ev_time[e], 1291191960);
    ck_assert_int_eq(ds->ev_type[e], UPF_EV_PURCHASE);
    ck_assert(ds->ev_value[e] == (float)(6 * 2.55) || ds->ev_value[e] == (float)(2 * 3.39));
    e = ev(ds, "17850", 2);
    ck_assert_int_eq(ds->ev_type[e], UPF_EV_RETURN);
    ck_assert(ds->ev_value[e] == 2.55f);
    ck_assert_int_eq(ds->ev_time[e], 1291196460);
    e = ev(ds, "13047", 0);
    ck_assert_int_eq(ds->ev_time[e], 1291284000); /* M/D/YYYY H:MM read too */
    ck_assert(ds->ev_value[e] == (float)(12 * 2.95));
    e = ev(ds, "13047", 1);
    ck_assert_int_eq(ds->ev_type[e], UPF_EV_RETURN); /* negative quantity without a C invoice */
    ck_assert(ds->ev_value[e] == (float)(3 * 7.65));
    /* item facts: listed at the first sale, prices of customer lines only */
    ck_assert_uint_eq(ds->item_events.n, 5);
    int32_t heart = index_of(&ds->item_ids, "85123A"), lantern = index_of(&ds->item_ids, "71053"),
            boxes = index_of(&ds->item_ids, "22752");
    int n_price_heart = 0;
    for (size_t i = 0; i < ds->item_events.n; i++)
        if (ds->item_events.item[i] == heart && ds->item_events.kind[i] == UPF_IE_PRICE) n_price_heart++;
    ck_assert_int_eq(n_price_heart, 2);
    ck_assert(ds->item_price[heart] == 2.95f);
    ck_assert(ds->item_price[lantern] == 3.39f); /* the guest line's 3.75 is not a price change */
    ck_assert(isnan(ds->item_price[boxes]));
    ck_assert_int_eq(ds->item_added[lantern], 1291191960);
    ck_assert_int_eq(ds->item_added[boxes], UPF_TIME_MISSING);
    ck_assert(attr(&ds->item_attrs, lantern, "token=large") == 1);
    ck_assert(attr(&ds->item_attrs, heart, "token=light") == 1);
    ck_assert(isnan(attr(&ds->item_attrs, boxes, "token=set"))); /* never sold: no description taken */
    ck_assert(attr(&ds->user_attrs, index_of(&ds->user_ids, "13047"), "country=France") == 1);
    upf_dataset_free(ds);
}
END_TEST

START_TEST(test_preset_cdnow)
{
    const char *master = PUT("CDNOW_master.txt", " customer_id  date number_of_cds  dollar_value\r\n"
                                                 " 00001 19970101  1   11.77\r\n"
                                                 " 00002 19970112  1   12.00\r\n"
                                                 " 00001 19970101  2   20.00\r\n");
    upf_dataset *ds = run_preset("cdnow", NULL, 1, master);
    ck_assert_uint_eq(ds->n_users, 2);
    ck_assert_int_eq(ds->n_events, 3); /* same-day purchases are not merged */
    int64_t e = ev(ds, "00001", 1);
    ck_assert_int_eq(ds->ev_time[e], 852076800);
    ck_assert(ds->ev_value[e] == 20.0f);
    ck_assert_int_eq(ds->ev_type[e], UPF_EV_PURCHASE);
    ck_assert_int_eq(ds->ev_time[ev(ds, "00002", 0)], 853027200);
    upf_dataset_free(ds);
    const char *sample = PUT("CDNOW_sample.txt", " 00004 0001 19970101  2   29.33\r\n"
                                                 " 00004 0001 19970118  2   29.73\r\n"
                                                 " 00018 0002 19970104  1   14.96\r\n");
    ds = run_preset("cdnow", NULL, 1, sample);
    ck_assert_uint_eq(ds->n_users, 2);
    ck_assert_int_eq(ds->n_events, 3);
    ck_assert_int_eq(ds->ev_time[ev(ds, "00004", 1)], 853545600);
    ck_assert(ds->ev_value[ev(ds, "00018", 0)] == 14.96f);
    ck_assert_int_eq(ds->ev_time[ev(ds, "00018", 0)], 852336000);
    upf_dataset_free(ds);
}
END_TEST

START_TEST(test_preset_hillstrom)
{
    const char *p = PUT("h.csv", "recency,history_segment,history,mens,womens,zip_code,newbie,channel,segment,visit,"
                                 "conversion,spend\n"
                                 "10,2) $100 - $200,142.44,1,0,Surburban,0,Phone,Womens E-Mail,0,0,0\n"
                                 "6,\"6) $750 - $1,000\",829.08,1,1,Rural,1,Web,No E-Mail,1,0,0\n"
                                 "7,1) $0 - $100,29.99,0,1,Urban,1,Multichannel,Mens E-Mail,1,1,45.5\n");
    upf_dataset *ds = run_preset("hillstrom", NULL, 1, p);
    ck_assert_uint_eq(ds->n_users, 3);
    ck_assert_int_eq(ds->n_events, 0);
    ck_assert_uint_eq(ds->n_campaigns, 1);
    const upf_campaign *c = &ds->campaigns[0];
    ck_assert_str_eq(c->name, "hillstrom");
    ck_assert_uint_eq(c->n, 3);
    ck_assert_str_eq(upf_strings_get(&c->arm_names, 0), "No E-Mail");
    ck_assert_str_eq(upf_strings_get(&c->arm_names, 2), "Womens E-Mail");
    ck_assert_ptr_null(c->propensity); /* unknown, not 1/3 */
    ck_assert_uint_eq(c->n_outcomes, 3);
    for (size_t r = 0; r < c->n; r++) {
        const char *id = upf_strings_get(&ds->user_ids, (size_t)c->user[r]);
        int want_arm = !strcmp(id, "1") ? 2 : !strcmp(id, "2") ? 0 : 1;
        ck_assert_int_eq(c->arm[r], want_arm);
        if (!strcmp(id, "3")) {
            ck_assert_str_eq(c->outcome_names[2], "spend");
            ck_assert(c->outcome[2][r] == 45.5f);
            ck_assert(c->outcome[1][r] == 1.0f);
        }
    }
    int32_t u2 = index_of(&ds->user_ids, "2"), u1 = index_of(&ds->user_ids, "1");
    ck_assert(attr(&ds->user_attrs, u2, "history_segment=6) $750 - $1,000") == 1);
    ck_assert(attr(&ds->user_attrs, u2, "newbie") == 1);
    ck_assert(fabs(attr(&ds->user_attrs, u1, "history") - 142.44) < 1e-4);
    ck_assert(isnan(attr(&ds->user_attrs, u1, "womens"))); /* zeros left out */
    upf_dataset_free(ds);
}
END_TEST

START_TEST(test_preset_open_bandit)
{
    PUT("random/men/men.csv",
        ",timestamp,item_id,position,click,propensity_score,user_feature_0,user_feature_1,user-item_affinity_0,"
        "user-item_affinity_1\n"
        "0,2019-11-24 00:00:17.967364+00:00,1,1,0,0.5,aa,bb,0.0,1.5\n"
        "1,2019-11-24 00:00:18.000000+00:00,0,3,1,0.5,aa,cc,2.0,0.0\n");
    PUT("random/men/item_context.csv", ",item_id,item_feature_0,item_feature_1\n0,0,-0.5,hashA\n1,1,0.25,hashB\n");
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/random/men", tmp_dir);
    upf_dataset *ds = run_preset("open-bandit", NULL, 1, dir);
    ck_assert_uint_eq(ds->n_items, 2);
    const upf_impressions *im = &ds->impressions;
    ck_assert_uint_eq(im->n, 2);
    ck_assert_str_eq(im->policy, "random");
    ck_assert_int_eq(im->time[0], 1574553617);
    ck_assert_int_eq(im->position[0], 0);
    ck_assert_int_eq(im->position[1], 2);
    ck_assert_int_eq(im->user[0], -1);
    ck_assert(im->reward[1] == 1.0f);
    ck_assert(im->propensity[0] == 0.5f);
    ck_assert_str_eq(upf_strings_get(&ds->item_ids, (size_t)im->item[0]), "1");
    ck_assert(attr(&im->context, 0, "user_feature_1=bb") == 1);
    ck_assert(attr(&im->context, 0, "user-item_affinity_1") == 1.5);
    ck_assert(isnan(attr(&im->context, 0, "user-item_affinity_0")));
    int32_t i0 = index_of(&ds->item_ids, "0");
    ck_assert(attr(&ds->item_attrs, i0, "item_feature_0") == -0.5);
    ck_assert(attr(&ds->item_attrs, i0, "item_feature_1=hashA") == 1);
    upf_dataset_free(ds);
    /* the CSV alone finds item_context.csv beside it */
    char csv[4200];
    snprintf(csv, sizeof csv, "%s/random/men/men.csv", tmp_dir);
    ds = run_preset("open-bandit", NULL, 1, csv);
    ck_assert_uint_eq(ds->n_items, 2);
    ck_assert_uint_eq(ds->item_attrs.n_rows, 2);
    upf_dataset_free(ds);
}
END_TEST

START_TEST(test_preset_otto)
{
    const char *p = PUT("s.jsonl", "{\"session\":0,\"events\":[{\"aid\":1517085,\"ts\":1659304800025,\"type\":\"clicks\"},"
                                   "{\"aid\":1563459,\"ts\":1659304904511,\"type\":\"carts\"}]}\n"
                                   "{\"session\":1,\"events\":[{\"aid\":1517085,\"ts\":1659367439426,\"type\":\"orders\"}]}\n");
    upf_import_stats st;
    upf_dataset *ds = run_preset("otto", &st, 1, p);
    ck_assert_uint_eq(ds->n_users, 2);
    ck_assert_uint_eq(ds->n_items, 2);
    ck_assert_int_eq(ds->n_events, 3);
    ck_assert_int_eq(st.events_by_type[UPF_EV_VIEW], 1);
    ck_assert_int_eq(st.events_by_type[UPF_EV_CART], 1);
    ck_assert_int_eq(st.events_by_type[UPF_EV_PURCHASE], 1);
    int64_t e = ev(ds, "0", 1);
    ck_assert_int_eq(ds->ev_time[e], 1659304904);
    ck_assert_int_eq(ds->ev_type[e], UPF_EV_CART);
    ck_assert_int_eq(ds->ev_time[ev(ds, "1", 0)], 1659367439);
    upf_dataset_free(ds);
}
END_TEST

/* ---- bad input through the command ---- */

START_TEST(test_bad_row_refused_then_skipped)
{
    const char *p = PUT("u.data", "1\t10\t4\t881250949\n2\t10\t3\t891717742\n1\tnot-an-item\t5\t881250949\n"
                                  "3\t11\t4\t2011-02-30\n4\t12\n5\t13\tfive\t881250949\n");
    int rc = cli("--preset movielens100k '%s' -o '%s/o.h5'", p, tmp_dir);
    ck_assert_int_eq(rc, 1);
    ERR_HAS("u.data:3:3: item: expected an integer id, got \"not-an-item\"");
    ck_assert(!exists("o.h5"));
    no_temporaries();
    rc = cli("--preset movielens100k '%s' -o '%s/o.h5' --skip-bad-rows --json", p, tmp_dir);
    ck_assert_msg(rc == 0, "%s", slurp("err"));
    ck_assert(exists("o.h5"));
    ERR_HAS("u.data:3:3: item");
    ERR_HAS("u.data:4:8: time: expected unix seconds, got \"2011-02-30\" (unexpected '-' after the timestamp)");
    ERR_HAS("u.data:5:6: time: expected a field in column 4, got a row of 2 fields");
    upf_json *j = NULL;
    upf_err err;
    char *o = slurp("out");
    ck_assert_msg(upf_json_parse(o, strlen(o), &j, &err) == UPF_OK, "%s", err.msg);
    ck_assert(upf_json_get(j, "events")->num == 2);
    ck_assert(upf_json_get(j, "skipped")->num == 4);
    ck_assert(upf_json_path(j, "skipped_by_reason.bad item id")->num == 1);
    ck_assert(upf_json_path(j, "skipped_by_reason.bad time")->num == 1);
    ck_assert(upf_json_path(j, "skipped_by_reason.missing column")->num == 1);
    ck_assert(upf_json_path(j, "skipped_by_reason.bad value")->num == 1);
    upf_json_free(j);
}
END_TEST

START_TEST(test_bad_dates_and_ids)
{
    const char *p = PUT("ev.csv", "user,item,time\na,x,2011-02-28\nb,y,2011-02-30\n");
    int rc = cli("--csv '%s' --user user --item item --time time --time-format iso --event-type view -o '%s/o.h5'", p,
                 tmp_dir);
    ck_assert_int_eq(rc, 1);
    ERR_HAS("ev.csv:3:5: time: expected an ISO-8601 date (YYYY-MM-DD[ HH:MM[:SS]][Z|+HH:MM]), got \"2011-02-30\" "
            "(February 2011 has 28 days, not day 30)");
    ck_assert(!exists("o.h5"));
    p = PUT("ids.csv", "user,item,time\n1,2,0\n99999999999999999999,2,0\n");
    rc = cli("--csv '%s' --user user --item item --time time --event-type view --id-type int -o '%s/o.h5'", p, tmp_dir);
    ck_assert_int_eq(rc, 1);
    ERR_HAS("ids.csv:3:1: user: expected an integer id within int64, got \"99999999999999999999\"");
    p = PUT("many.csv", "user,item,time\n1,2,0\n2,2,0\n3,2,0\n");
    rc = cli("--csv '%s' --user user --item item --time time --event-type view --max-ids 2 -o '%s/o.h5'", p, tmp_dir);
    ck_assert_int_eq(rc, 1);
    ERR_HAS("more than 2 distinct user ids");
    ck_assert(!exists("o.h5"));
    no_temporaries();
}
END_TEST

START_TEST(test_empty_and_missing)
{
    const char *empty = PUT("empty.csv", "");
    int rc = cli("--csv '%s' --user u --item i --time t --event-type view -o '%s/o.h5'", empty, tmp_dir);
    ck_assert_int_eq(rc, 1);
    ERR_HAS("empty.csv: empty file (expected a header line and data rows)");
    const char *ud = PUT("e/u.data", "");
    rc = cli("--preset movielens100k '%s' -o '%s/o.h5'", ud, tmp_dir);
    ck_assert_int_eq(rc, 1);
    ERR_HAS("u.data: empty file");
    const char *hdr = PUT("hdr.csv", "u,i,t\n");
    rc = cli("--csv '%s' --user u --item i --time t --event-type view -o '%s/o.h5'", hdr, tmp_dir);
    ck_assert_int_eq(rc, 1);
    ERR_HAS("hdr.csv: no data rows after the header");
    const char *ok = PUT("ok.csv", "u,i,t\n1,2,3\n");
    rc = cli("--csv '%s' --user u --item i --time when --event-type view -o '%s/o.h5'", ok, tmp_dir);
    ck_assert_int_eq(rc, 2);
    ERR_HAS("ok.csv:1: no column \"when\" in the header (columns: u, i, t)");
    rc = cli("--csv '%s/nope.csv' --user u --item i --time t --event-type view -o '%s/o.h5'", tmp_dir, tmp_dir);
    ck_assert_int_eq(rc, 1);
    ERR_HAS("nope.csv: cannot open: No such file or directory");
    rc = cli("--preset movielens1m '%s' -o '%s/o.h5'", ok, tmp_dir);
    ck_assert_int_eq(rc, 2);
    ERR_HAS("no preset \"movielens1m\" (known: movielens100k, movielens-latest, online-retail, cdnow, hillstrom, "
            "open-bandit, otto)");
    rc = cli("--csv '%s' --user u --item i --time t -o '%s/o.h5'", ok, tmp_dir);
    ck_assert_int_eq(rc, 2);
    ERR_HAS("either --type COL");
    rc = cli("--csv '%s' --user u --item i --time t --event-type view -o '%s/no/such/dir/o.h5'", ok, tmp_dir);
    ck_assert_int_eq(rc, 1);
    ERR_HAS("does not exist");
    rc = cli("--csv '%s' --user u --item i --time t --event-type view --bogus -o '%s/o.h5'", ok, tmp_dir);
    ck_assert_int_eq(rc, 2);
    ERR_HAS("unknown option '--bogus'");
    const char *bin = PUT("bin.csv", "u,i,t\n1,\0\0,3\n");
    rc = cli("--csv '%s' --user u --item i --time t --event-type view -o '%s/o.h5'", bin, tmp_dir);
    ck_assert_int_eq(rc, 1);
    ERR_HAS("bin.csv:2:3: NUL byte in the text");
    ck_assert(!exists("o.h5"));
    no_temporaries();
    rc = cli("--help");
    ck_assert_int_eq(rc, 0);
    ck_assert(strstr(slurp("out"), "Exit status") != NULL);
}
END_TEST

/* A disk that fills up: the write fails past a file-size limit (ulimit -f),
 * the command says so, and neither the output nor a temporary is left. */
START_TEST(test_disk_full)
{
    char big[200000];
    size_t n = (size_t)snprintf(big, sizeof big, "u,i,t\n");
    for (int r = 0; r < 6000 && n + 40 < sizeof big; r++)
        n += (size_t)snprintf(big + n, sizeof big - n, "user%d,item%d,%d\n", r, r % 977, 1000000 + r);
    const char *p = put("big.csv", big, n);
    char cmd[8000];
    snprintf(cmd, sizeof cmd,
             "ulimit -f 16; trap '' XFSZ; %s data import --csv '%s' --user u --item i --time t --event-type view "
             "-o '%s/o.h5' >'%s/out' 2>'%s/err'",
             upf_test_bin(), p, tmp_dir, tmp_dir, tmp_dir);
    int rc = system(cmd);
    ck_assert(WIFEXITED(rc));
    ck_assert_msg(WEXITSTATUS(rc) == 1, "rc %d: %s", WEXITSTATUS(rc), slurp("err"));
    ERR_HAS("o.h5");
    ck_assert(!exists("o.h5"));
    no_temporaries();
}
END_TEST

/* ---- the real data sets (skipped when ../shared/data is absent) ---- */

typedef struct real_case {
    const char *preset;
    const char *input; /* relative to the data folder */
    size_t users, items;
    int64_t events;
} real_case;

static const real_case real_cases[] = {
    /* counts as stated in each data set's SOURCE.md (the publishers' figures) */
    { "movielens100k", "movielens-100k/ml-100k", 943, 1682, 100000 },
    { "movielens-latest", "movielens-latest-small/ml-latest-small", 610, 9742, 100836 + 3683 },
    { "cdnow", "cdnow/CDNOW_master.txt", 23570, 1, 69659 },
    { "cdnow", "cdnow/CDNOW_sample.txt", 2357, 1, 6919 },
    { "online-retail", "online-retail/by-day", 4372, 4070, 541909 - 135080 },
    { "hillstrom", "hillstrom/Kevin_Hillstrom_MineThatData_E-MailAnalytics_DataMiningChallenge_2008.03.20.csv", 64000,
      0, 0 },
    { "open-bandit", "open-bandit-small/random/men", 0, 34, 0 },
    { "otto", "otto-sample/train_sample.jsonl", 20, 510, 862 },
};

START_TEST(test_real_data)
{
    const char *data = upf_test_data_dir();
    const real_case *c = &real_cases[_i];
    if (!data) {
        fprintf(stderr, "skipped: no public data (../shared/data or $UPF_SHARED_DATA) for %s\n", c->preset);
        return;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", data, c->input);
    if (access(path, R_OK) != 0) {
        fprintf(stderr, "skipped: %s is absent\n", path);
        return;
    }
    upf_import_stats st;
    upf_dataset *ds = run_preset(c->preset, &st, 1, path);
    ck_assert_msg(ds->n_users == c->users, "%s: %zu users, want %zu", c->input, ds->n_users, c->users);
    ck_assert_msg(ds->n_items == c->items, "%s: %zu items, want %zu", c->input, ds->n_items, c->items);
    ck_assert_msg(ds->n_events == c->events, "%s: %lld events", c->input, (long long)ds->n_events);
    ck_assert_int_eq(st.skipped, upf_import_skipped(&st, "no customer id"));
    if (!strcmp(c->preset, "movielens-latest")) {
        ck_assert_int_eq(st.events_by_type[UPF_EV_RATING], 100836);
        ck_assert_int_eq(st.events_by_type[UPF_EV_TAG], 3683);
    }
    if (!strcmp(c->preset, "online-retail")) {
        ck_assert_int_eq(upf_import_skipped(&st, "no customer id"), 135080);
        ck_assert_int_eq(st.rows, 541909);
        /* purchases and cancellation lines of customers, as counted with pandas (see IMPORT.md) */
        ck_assert_int_eq(st.events_by_type[UPF_EV_PURCHASE], 397924);
        ck_assert_int_eq(st.events_by_type[UPF_EV_RETURN], 8905);
    }
    if (!strcmp(c->preset, "hillstrom")) {
        /* visit rates per arm, as published */
        const upf_campaign *cp = &ds->campaigns[0];
        double visits[3] = { 0 }, n[3] = { 0 };
        for (size_t r = 0; r < cp->n; r++) {
            visits[cp->arm[r]] += (double)cp->outcome[0][r];
            n[cp->arm[r]] += 1;
        }
        ck_assert(n[0] == 21306 && n[1] == 21307 && n[2] == 21387);
        ck_assert(fabs(visits[1] / n[1] - 0.182757) < 5e-7);
        ck_assert(fabs(visits[2] / n[2] - 0.151400) < 5e-7);
        ck_assert(fabs(visits[0] / n[0] - 0.106167) < 5e-7);
    }
    if (!strcmp(c->preset, "open-bandit")) {
        ck_assert_uint_eq(ds->impressions.n, 10000);
        ck_assert_str_eq(ds->impressions.policy, "random");
    }
    upf_dataset_free(ds);
}
END_TEST

Suite *import_suite(void)
{
    Suite *s = suite_create("import");
    TCase *tc = tcase_create("generic");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_generic_events_and_attrs);
    tcase_add_test(tc, test_generic_numbers_no_header_and_latin1);
    tcase_add_test(tc, test_type_names_and_map_errors);
    tcase_add_test(tc, test_id_cache_and_limits);
    tcase_add_test(tc, test_text_tokens);
    tcase_add_test(tc, test_threads_same_dataset);
    tcase_add_test(tc, test_threads_errors);
    tcase_add_test(tc, test_alloc_failures);
    suite_add_tcase(s, tc);
    tc = tcase_create("presets");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_preset_movielens100k);
    tcase_add_test(tc, test_preset_movielens_latest);
    tcase_add_test(tc, test_preset_online_retail);
    tcase_add_test(tc, test_preset_cdnow);
    tcase_add_test(tc, test_preset_hillstrom);
    tcase_add_test(tc, test_preset_open_bandit);
    tcase_add_test(tc, test_preset_otto);
    suite_add_tcase(s, tc);
    tc = tcase_create("bad_input");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_bad_row_refused_then_skipped);
    tcase_add_test(tc, test_bad_dates_and_ids);
    tcase_add_test(tc, test_empty_and_missing);
    tcase_add_test(tc, test_disk_full);
    suite_add_tcase(s, tc);
    tc = tcase_create("real_data");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_real_data, 0, (int)(sizeof real_cases / sizeof real_cases[0]));
    suite_add_tcase(s, tc);
    return s;
}
