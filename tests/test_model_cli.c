/* test_model_cli.c - `upfunnel inspect`, `export` and `score` end to end on
 * models written by the library: exit codes, messages on broken files,
 * export's re-encoding and metadata, and score answers equal to the library's
 * own top-k. Runs the binary of the variant under test ($UPF_BIN). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../model/json.h"
#include "modeltest.h"
#include "testutil.h"

static char *dir;

/* Runs `upfunnel ARGS < in > out 2> err` in the scratch dir; returns the exit code. */
static int run(const char *args, const char *input)
{
    char cmd[8192], in[4200], bin[4200], cwd[4096];
    const char *b = upf_test_bin();
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    snprintf(bin, sizeof bin, b[0] == '/' ? "%.0s%s" : "%s/%s", cwd, b); /* relative to the project root */
    snprintf(in, sizeof in, "%s/in.txt", dir);
    FILE *f = fopen(in, "w");
    ck_assert_ptr_nonnull(f);
    if (input) fputs(input, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s < in.txt > out.txt 2> err.txt", dir, bin, args);
    int st = system(cmd);
    ck_assert(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static char *slurp_rel(const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t n;
    unsigned char *b = upf_test_slurp(path, &n);
    ck_assert_ptr_nonnull(b);
    char *s = realloc(b, n + 1);
    s[n] = '\0';
    return s;
}

/* A ranker: 200 items, 5 users, dim 16, ids "item7", "user3". */
static void write_model(const char *name)
{
    enum { NI = 200, NU = 5, D = 16 };
    static float itf[NI * D], uf[NU * D], bias[NI];
    static uint8_t flags[NI];
    char *ids[NI], *uids[NU];
    for (int i = 0; i < NI * D; i++) itf[i] = (float)sin(i * 0.37) * 0.5f;
    for (int i = 0; i < NU * D; i++) uf[i] = (float)cos(i * 0.91);
    for (int i = 0; i < NI; i++) {
        bias[i] = (float)(i % 13) * 0.01f;
        flags[i] = i % 4 != 0;
        ids[i] = malloc(16);
        snprintf(ids[i], 16, "item%d", i);
    }
    for (int u = 0; u < NU; u++) {
        uids[u] = malloc(16);
        snprintf(uids[u], 16, "user%d", u);
    }
    upf_mw *w;
    upf_err err;
    upf_mw_create(&w, UPF_KIND_RANKER, &err);
    upf_mw_meta_u64(w, UPF_M_DIM, D);
    upf_mw_meta_str_array(w, UPF_M_ITEM_IDS, (const char *const *)ids, NI);
    upf_mw_meta_str_array(w, UPF_M_USER_IDS, (const char *const *)uids, NU);
    upf_mw_meta_str(w, "train.config_yaml", "model:\n  family: ranker\n  dim: 16\n# a long resolved config ..................................................................................................................................................\n");
    upf_mw_meta_u64(w, "train.seed", 7);
    upf_mw_tensor_f32(w, UPF_T_ITEM_BIAS, bias, 1, (const uint64_t[]){ NI }, UPF_DTYPE_F32);
    upf_mw_tensor_f32(w, UPF_T_ITEM_FACTORS, itf, 2, (const uint64_t[]){ NI, D }, UPF_DTYPE_F32);
    upf_mw_tensor_f32(w, UPF_T_USER_FACTORS, uf, 2, (const uint64_t[]){ NU, D }, UPF_DTYPE_F32);
    upf_mw_tensor_u8(w, UPF_T_ITEM_FLAGS, flags, 1, (const uint64_t[]){ NI });
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ck_assert_int_eq(upf_mw_write(w, path, &err), UPF_OK);
    upf_mw_free(w);
    for (int i = 0; i < NI; i++) free(ids[i]);
    for (int u = 0; u < NU; u++) free(uids[u]);
}

static void setup(void)
{
    dir = upf_test_tmpdir();
    write_model("m.upf");
}

static void teardown(void) { upf_test_rmdir(dir); }

START_TEST(test_inspect)
{
    ck_assert_int_eq(run("inspect m.upf", NULL), 0);
    char *out = slurp_rel("out.txt");
    ck_assert_ptr_nonnull(strstr(out, "ranker (1)"));
    ck_assert_ptr_nonnull(strstr(out, "item_factors"));
    ck_assert_ptr_nonnull(strstr(out, "... ("));  /* the long config is abbreviated */
    free(out);
    ck_assert_int_eq(run("inspect --json m.upf", NULL), 0);
    upf_json *j;
    upf_err err;
    char path[4200];
    snprintf(path, sizeof path, "%s/out.txt", dir);
    ck_assert_int_eq(upf_json_parse_file(path, &j, &err), UPF_OK);
    ck_assert_str_eq(upf_json_path(j, "header.kind")->str, "ranker");
    const upf_json *t = upf_json_get(j, "tensors");
    ck_assert_uint_eq(t->len, 4);
    ck_assert_str_eq(upf_json_get(t->items[1], "name")->str, "item_factors");
    ck_assert_double_eq_tol(upf_json_get(t->items[1], "max")->num, 0.5, 1e-3);
    ck_assert_uint_eq(upf_json_get(j, "sections")->len, 4);
    upf_json_free(j);
    /* a truncated copy and a flipped data byte: refused, exit 1, message with section/offset/size */
    char cmd[8400];
    snprintf(cmd, sizeof cmd, "cd '%s' && head -c 1000 m.upf > t.upf && cp m.upf f.upf && "
             "printf '\\377' | dd of=f.upf bs=1 seek=9000 conv=notrunc status=none", dir);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(run("inspect t.upf", NULL), 1);
    char *e = slurp_rel("err.txt");
    ck_assert_ptr_nonnull(strstr(e, "upfunnel: error: t.upf: header at offset 32"));
    free(e);
    ck_assert_int_eq(run("inspect f.upf", NULL), 1);
    e = slurp_rel("err.txt");
    ck_assert_ptr_nonnull(strstr(e, "section 'tensor_data'"));
    free(e);
    ck_assert_int_eq(run("inspect --no-data-crc f.upf", NULL), 0);
    ck_assert_int_eq(run("inspect", NULL), 2);
    ck_assert_int_eq(run("inspect --bogus m.upf", NULL), 2);
    ck_assert_int_eq(run("inspect absent.upf", NULL), 1);
    ck_assert_int_eq(run("inspect --help", NULL), 0);
}
END_TEST

START_TEST(test_export)
{
    char cmd[8400];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/run' && cp '%s/m.upf' '%s/run/model.upf'", dir, dir, dir);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(run("export run -o m8.upf --dtype int8", NULL), 0);
    ck_assert_int_eq(run("export m.upf -o m16.upf --dtype f16", NULL), 0);
    ck_assert_int_eq(run("export m8.upf -o m8_32.upf", NULL), 0);
    ck_assert_int_eq(run("export m.upf -o x.upf --dtype int4", NULL), 2);
    ck_assert_int_eq(run("export m.upf", NULL), 2);
    ck_assert_int_eq(run("export nowhere -o x.upf", NULL), 1);
    ck_assert_int_eq(run("export --help", NULL), 0);
    char path[4200];
    size_t n;
    snprintf(path, sizeof path, "%s/m.upf", dir);
    unsigned char *src = upf_test_slurp(path, &n);
    uint32_t crc = upf_crc32(0, src, n);
    free(src);
    static const char *files[] = { "m8.upf", "m16.upf", "m8_32.upf" };
    static const uint32_t want_dtype[] = { UPF_DTYPE_I8S, UPF_DTYPE_F16, UPF_DTYPE_F32 };
    for (int f = 0; f < 3; f++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[f]);
        upf_model *m;
        upf_err err;
        ck_assert_int_eq(upf_model_open(path, 0, &m, &err), UPF_OK);
        upf_tensor_view v;
        upf_model_tensor(m, UPF_T_ITEM_FACTORS, &v, NULL);
        ck_assert_uint_eq(v.dtype, want_dtype[f]);
        upf_model_tensor(m, UPF_T_USER_FACTORS, &v, NULL);
        ck_assert_uint_eq(v.dtype, want_dtype[f]);
        upf_model_tensor(m, UPF_T_ITEM_BIAS, &v, NULL);
        ck_assert_uint_eq(v.dtype, UPF_DTYPE_F32);       /* the kind keeps biases in f32 */
        upf_model_tensor(m, UPF_T_ITEM_FLAGS, &v, NULL);
        ck_assert_uint_eq(v.dtype, UPF_DTYPE_U8);
        const char *s;
        size_t len;
        uint64_t u;
        ck_assert_int_eq(upf_model_meta_str(m, UPF_M_EXPORT_DTYPE, &s, &len), UPF_OK);
        ck_assert(len == strlen(f == 0 ? "int8" : f == 1 ? "f16" : "f32"));
        ck_assert_int_eq(upf_model_meta_u64(m, "train.seed", &u), UPF_OK); /* metadata kept */
        ck_assert_uint_eq(u, 7);
        ck_assert_int_eq(upf_model_meta_str(m, "train.config_yaml", &s, &len), UPF_OK);
        ck_assert_int_eq(upf_model_meta_u64(m, UPF_M_EXPORT_SOURCE_CRC, &u), UPF_OK);
        if (f < 2) ck_assert_uint_eq(u, crc);
        upf_model_close(m);
    }
}
END_TEST

START_TEST(test_score)
{
    const char *req =
        "{\"id\":1,\"user\":\"user2\",\"k\":5}\n"
        "{\"id\":2,\"user\":\"user2\",\"k\":5,\"in_stock_only\":true,\"exclude\":[\"item3\",\"nope\"]}\n"
        "\n"
        "{\"id\":3,\"user\":\"ghost\"}\n"
        "not json\n"
        "{\"id\":\"four\",\"recent\":[\"item9\",\"item10\",\"zzz\"],\"k\":3}\n"
        "{\"id\":5,\"user\":\"user1\",\"items\":[\"item5\",\"item1\",\"item77\"]}\n"
        "[1,2]\n"
        "{\"id\":7,\"k\":2.5}\n";
    ck_assert_int_eq(run("score --model m.upf", req), 1); /* some requests got error answers */
    char *out = slurp_rel("out.txt");
    /* one answer per non-empty line */
    size_t lines = 0;
    for (char *p = out; *p; p++) lines += *p == '\n';
    ck_assert_uint_eq(lines, 8);
    char path[4200];
    snprintf(path, sizeof path, "%s/m.upf", dir);
    upf_model *m;
    upf_err err;
    ck_assert_int_eq(upf_model_open(path, 0, &m, &err), UPF_OK);
    upf_scratch *s;
    upf_scratch_create(m, &s, &err);
    char *save = NULL, *line = strtok_r(out, "\n", &save);
    int seen = 0;
    while (line) {
        upf_json *j;
        ck_assert_msg(upf_json_parse(line, strlen(line), &j, &err) == UPF_OK, "answer is not JSON: %s", line);
        const upf_json *id = upf_json_get(j, "id"), *items = upf_json_get(j, "items"), *e = upf_json_get(j, "error");
        if (id && id->type == UPF_JSON_NUM && (id->num == 1 || id->num == 2)) {
            upf_user_query q = upf_user_query_default();
            q.user = 2;
            int32_t ex = 3;
            upf_filter f = { &ex, 1, UPF_ITEM_IN_STOCK };
            upf_hit h[5];
            size_t nh;
            ck_assert_int_eq(upf_serve_topk(m, &q, id->num == 2 ? &f : NULL, 5, s, h, &nh, &err), UPF_OK);
            ck_assert_uint_eq(items->len, nh);
            for (size_t k = 0; k < nh; k++) {
                size_t len;
                const char *want = upf_serve_item_id(m, h[k].item, &len);
                const upf_json *it = items->items[k];
                ck_assert(strlen(upf_json_get(it, "item")->str) == len && memcmp(upf_json_get(it, "item")->str, want, len) == 0);
                ck_assert((float)upf_json_get(it, "score")->num == h[k].score); /* the printed score reads back exactly */
            }
            seen++;
        } else if (id && id->type == UPF_JSON_NUM && id->num == 3) {
            ck_assert_ptr_nonnull(strstr(e->str, "unknown user 'ghost'"));
            seen++;
        } else if (id && id->type == UPF_JSON_STR) {
            ck_assert_uint_eq(items->len, 3);
            for (size_t k = 0; k < 3; k++) { /* recent items are excluded from the answer */
                ck_assert_str_ne(upf_json_get(items->items[k], "item")->str, "item9");
                ck_assert_str_ne(upf_json_get(items->items[k], "item")->str, "item10");
            }
            ck_assert_str_eq(upf_json_get(j, "unknown")->items[0]->str, "zzz");
            seen++;
        } else if (id && id->type == UPF_JSON_NUM && id->num == 5) {
            ck_assert_uint_eq(items->len, 3);
            float prev = INFINITY;
            for (size_t k = 0; k < 3; k++) {
                float sc = (float)upf_json_get(items->items[k], "score")->num;
                ck_assert(sc <= prev);
                prev = sc;
            }
            seen++;
        } else {
            ck_assert_ptr_nonnull(e);
            ck_assert_ptr_nonnull(upf_json_get(j, "line"));
            seen++;
        }
        upf_json_free(j);
        line = strtok_r(NULL, "\n", &save);
    }
    ck_assert_int_eq(seen, 8);
    free(out);
    upf_scratch_free(s);
    upf_model_close(m);
    ck_assert_int_eq(run("score --model m.upf", "{\"user\":\"user0\"}\n"), 0);
    ck_assert_int_eq(run("score", ""), 2);
    ck_assert_int_eq(run("score --model absent.upf", ""), 1);
    ck_assert_int_eq(run("score --help", NULL), 0);
}
END_TEST

Suite *model_cli_suite(void)
{
    Suite *s = suite_create("model_cli");
    TCase *tc = tcase_create("commands");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_inspect);
    tcase_add_test(tc, test_export);
    tcase_add_test(tc, test_score);
    suite_add_tcase(s, tc);
    return s;
}
