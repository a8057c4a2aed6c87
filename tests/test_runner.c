/* test_runner.c - the experiment runner end to end on small datasets built
 * here: run directories and metrics.json, gates (parsing, evaluation,
 * references: run dir, metrics.json, .upf), interruption leaving INCOMPLETE
 * with a checkpoint that --resume continues to the same model, NaN, the
 * directory rules, byte-identical models from identical runs, and exit codes,
 * logs and sweeps through the real binary (upf_test_bin()). */
#include <check.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../datasets/h5_io.h"
#include "../model/json.h"
#include "../model/kinds.h"
#include "../model/modelfile.h"
#include "../model/rng.h"
#include "../train/gates.h"
#include "../train/runner.h"
#include "testutil.h"

/* ---- a small dataset (through the builder): users like one of 4 item groups ---- */

static upf_dataset *small_dataset(size_t n_users, size_t n_items, uint64_t seed)
{
    upf_builder *b = NULL;
    upf_err err;
    ck_assert_int_eq(upf_builder_create(&b, &err), UPF_OK);
    char id[32];
    /* every item exists, in index order */
    for (size_t i = 0; i < n_items; i++) {
        int l = snprintf(id, sizeof id, "i%zu", i);
        ck_assert_int_eq(upf_builder_item(b, id, (size_t)l), (int32_t)i);
    }
    upf_rng r;
    upf_rng_seed(&r, seed, 0);
    size_t g = n_items / 4;
    for (size_t u = 0; u < n_users; u++) {
        int l = snprintf(id, sizeof id, "u%zu", u);
        int32_t uu = upf_builder_user(b, id, (size_t)l);
        size_t group = u % 4;
        for (size_t k = 0; k < 12; k++) {
            /* mostly the user's group, popular items (low index) more often */
            uint32_t pick = upf_rng_below(&r, (uint32_t)g);
            pick = pick * upf_rng_below(&r, 1000) / 1000;
            size_t item = upf_rng_below(&r, 10) < 8 ? group * g + pick : upf_rng_below(&r, (uint32_t)n_items);
            int type = k % 3 == 0 ? UPF_EV_PURCHASE : UPF_EV_VIEW;
            ck_assert_int_eq(upf_builder_event(b, uu, (int32_t)item, 1600000000 + (int64_t)(k * 86400 + u), type, 1, -1),
                             UPF_OK);
        }
    }
    upf_dataset *ds = NULL;
    ck_assert_msg(upf_builder_finish(b, &ds, &err) == UPF_OK, "%s", err.msg);
    return ds;
}

/* ---- a toy iterative family with checkpoints ---- */

typedef struct toy_params {
    int64_t epochs;
    int64_t nan_at;
} toy_params;

static const upf_cfg_key toy_keys[] = {
    { "train.epochs", UPF_CFG_INT, offsetof(toy_params, epochs), 1, 1000, "6", NULL, "epochs", 0 },
    { "train.nan_at", UPF_CFG_INT, offsetof(toy_params, nan_at), 0, 1000, "0", NULL, "epoch that diverges", 0 },
    { NULL, UPF_CFG_NONE, 0, 0, 0, NULL, NULL, NULL, 0 },
};

static int toy_interrupt_at; /* test control: Ctrl-C at the start of this epoch (first attempt only) */

typedef struct toy_state {
    int64_t epoch;
    upf_rng rng;
} toy_state;

static upf_status toy_run(upf_run *run, const void *vp, upf_err *err)
{
    const toy_params *p = vp;
    const upf_csr *train;
    upf_status st = upf_run_interactions(run, &train, NULL, NULL, err);
    if (st) return st;
    size_t n_items = train->n_cols;
    size_t blob_n = sizeof(toy_state) + n_items * sizeof(float);
    unsigned char *blob = upf_calloc(1, blob_n);
    toy_state *s = (toy_state *)(void *)blob;
    float *bias = (float *)(void *)(blob + sizeof(toy_state));
    upf_rng_seed(&s->rng, upf_run_seed(run), 0);
    if (upf_run_resuming(run)) {
        void *saved;
        size_t n;
        if (upf_run_checkpoint_load(run, &saved, &n, err) == UPF_OK) {
            ck_assert_uint_eq(n, blob_n);
            memcpy(blob, saved, n);
            upf_free(saved);
        }
    }
    for (int64_t epoch = s->epoch + 1; epoch <= p->epochs; epoch++) {
        if (epoch == toy_interrupt_at && !upf_run_resuming(run)) upf_set_interrupted(1);
        if (upf_interrupted()) {
            st = upf_err_set(err, UPF_ERR_INTERRUPTED, "toy: interrupted at epoch %lld", (long long)epoch);
            goto done;
        }
        if (epoch == p->nan_at) {
            st = upf_err_set(err, UPF_ERR_NUMERIC, "toy: epoch %lld: the loss is NaN", (long long)epoch);
            goto done;
        }
        for (int64_t e = 0; e < upf_csr_nnz(train); e++) bias[train->idx[e]] += 0.1f;
        for (size_t i = 0; i < n_items; i++) bias[i] += 1e-3f * upf_rng_uniformf(&s->rng);
        const char *cols[2] = { "epoch", "loss" };
        double vals[2] = { (double)epoch, 1.0 / (double)epoch };
        ck_assert_int_eq(upf_run_curve(run, cols, vals, 2), UPF_OK);
        upf_run_progress(run, "toy", (double)epoch, (double)p->epochs, "epochs");
        s->epoch = epoch;
        if ((st = upf_run_checkpoint_save(run, blob, blob_n, err))) goto done;
    }
    upf_scorer sc;
    memset(&sc, 0, sizeof sc);
    sc.item_bias = bias;
    if ((st = upf_run_eval_ranker(run, &sc, err))) goto done;
    upf_run_metric(run, "toy.epochs", (double)p->epochs);
    upf_mw *w = NULL;
    if ((st = upf_mw_create(&w, UPF_KIND_RANKER, err))) goto done;
    uint64_t dims[1] = { n_items };
    const upf_dataset *ds = upf_run_dataset(run);
    const char **ids = upf_malloc(n_items * sizeof *ids);
    for (size_t i = 0; i < n_items; i++) ids[i] = upf_strings_get(&ds->item_ids, i);
    upf_mw_tensor_f32(w, UPF_T_ITEM_BIAS, bias, 1, dims, UPF_DTYPE_F32);
    upf_mw_meta_u64(w, UPF_M_DIM, 0);
    upf_mw_meta_str_array(w, UPF_M_ITEM_IDS, ids, n_items);
    st = upf_run_save_model(run, w, err);
    upf_free(ids);
    upf_mw_free(w);
done:
    upf_free(blob);
    return st;
}

static const upf_family toy_family = { "toy", "a toy iterative family", toy_keys, sizeof(toy_params), NULL, toy_run };
extern const upf_family upf_family_popularity, upf_family_cooccur;
static const upf_family *const test_families[] = { &toy_family, &upf_family_popularity, &upf_family_cooccur, NULL };

/* ---- helpers ---- */

static char *path_in(const char *dir, const char *name)
{
    char *p = malloc(4200);
    snprintf(p, 4200, "%s/%s", dir, name);
    return p;
}

static int exists(const char *dir, const char *name)
{
    char *p = path_in(dir, name);
    int r = access(p, F_OK) == 0;
    free(p);
    return r;
}

static char *write_file(const char *dir, const char *name, const char *text)
{
    char *p = path_in(dir, name);
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return p;
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)sz + 1);
    size_t got = fread(b, 1, (size_t)sz, f);
    fclose(f);
    b[got] = '\0';
    if (n) *n = got;
    return b;
}

static size_t count_lines(const char *path)
{
    char *t = slurp(path, NULL);
    if (!t) return 0;
    size_t n = 0;
    for (char *p = t; *p; p++) n += *p == '\n';
    free(t);
    return n;
}

typedef struct fixture {
    char *dir;
    upf_dataset *ds;
} fixture;

static fixture fx_open(void)
{
    fixture f = { upf_test_tmpdir(), small_dataset(400, 120, 3) };
    return f;
}

static void fx_close(fixture *f)
{
    upf_dataset_free(f->ds);
    upf_test_rmdir(f->dir);
}

static upf_status run_config(fixture *f, const char *yaml, const char *const *ov, size_t n_ov, const char *out,
                             upf_runner_result *res, upf_err *err)
{
    char *cfg = write_file(f->dir, "c.yaml", yaml);
    char *outp = path_in(f->dir, out);
    upf_runner_opts o;
    upf_runner_opts_init(&o);
    o.config_path = cfg;
    o.overrides = ov;
    o.n_overrides = n_ov;
    o.out_dir = outp;
    o.quiet = 1;
    o.progress = 0;
    o.families = test_families;
    o.dataset = f->ds;
    upf_err_clear(err);
    upf_status st = upf_runner_run(&o, res, err);
    upf_set_interrupted(0);
    free(cfg);
    free(outp);
    return st;
}

#define POP "data:\n  source: synth\nmodel:\n  family: popularity\neval:\n  baselines: [popularity, cooccur]\n"

/* ---- gates ---- */

START_TEST(test_gate_parse)
{
    upf_gate g;
    upf_err err;
    ck_assert_int_eq(upf_gate_parse("ndcg@10", ">= 0.30", &g, &err), UPF_OK);
    ck_assert_int_eq(g.op, UPF_GATE_GE);
    ck_assert_int_eq(g.kind, UPF_GATE_ABSOLUTE);
    ck_assert_double_eq(upf_gate_bound(&g, 99), 0.30);
    ck_assert(upf_gate_holds(&g, 0.30, 0.30));
    ck_assert(!upf_gate_holds(&g, 0.2999, 0.30));
    ck_assert(!upf_gate_holds(&g, NAN, 0.30));
    ck_assert_int_eq(upf_gate_parse("ndcg@10", ">=ref-0.005", &g, &err), UPF_OK);
    ck_assert_int_eq(g.kind, UPF_GATE_REF_PLUS);
    ck_assert_double_eq_tol(upf_gate_bound(&g, 0.4), 0.395, 1e-12);
    ck_assert_int_eq(upf_gate_parse("m", " > ref * 0.98 ", &g, &err), UPF_OK);
    ck_assert_int_eq(g.op, UPF_GATE_GT);
    ck_assert_double_eq_tol(upf_gate_bound(&g, 0.5), 0.49, 1e-12);
    ck_assert(!upf_gate_holds(&g, 0.49, 0.49));
    ck_assert_int_eq(upf_gate_parse("loss", "< ref", &g, &err), UPF_OK);
    ck_assert_double_eq(upf_gate_bound(&g, 2.5), 2.5);
    ck_assert(upf_gate_holds(&g, 2.4, 2.5));
    ck_assert_int_eq(upf_gate_parse("brier", "<= 1e-2", &g, &err), UPF_OK);
    ck_assert(upf_gate_holds(&g, 0.01, upf_gate_bound(&g, 0)));
    ck_assert_int_eq(upf_gate_parse("x", "<= ref + 2", &g, &err), UPF_OK);
    ck_assert_double_eq(upf_gate_bound(&g, 1), 3);
    ck_assert_double_eq(upf_gate_bound(&g, 1), 3);
    const char *bad[] = { "0.3", "=> 0.3", ">= ", ">= abc", ">= ref -", ">= ref - -1", ">= 0.3 extra", ">= refx", ">= ref / 2",
                          ">= nan", ">= 1e999", "== 0.3" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ck_assert_msg(upf_gate_parse("ndcg@10", bad[i], &g, &err) == UPF_ERR_CONFIG, "'%s' parsed", bad[i]);
        ck_assert_ptr_nonnull(strstr(err.msg, "expected \"OP BOUND\""));
    }
    ck_assert_int_eq(upf_gate_parse("nd cg", ">= 1", &g, &err), UPF_ERR_CONFIG);
    ck_assert_int_eq(upf_gate_parse("", ">= 1", &g, &err), UPF_ERR_CONFIG);
    char key[64];
    upf_metric_meta_key("ndcg@10", key, sizeof key);
    ck_assert_str_eq(key, "eval.ndcg_at_10");
    upf_metric_meta_key("cold_items.Recall@20", key, sizeof key);
    ck_assert_str_eq(key, "eval.cold_items.recall_at_20");
}
END_TEST

/* ---- runs ---- */

START_TEST(test_run_directory)
{
    fixture f = fx_open();
    upf_runner_result res;
    upf_err err;
    upf_status st = run_config(&f, POP "gates:\n  ndcg@10: \">= 0.01\"\n  baseline_cooccur.recall@20: \"> 0\"\n", NULL, 0,
                               "r1", &res, &err);
    ck_assert_msg(st == UPF_OK, "%s", err.msg);
    ck_assert_str_eq(res.primary, "ndcg@10");
    ck_assert(res.primary_value > 0.01);
    ck_assert_uint_eq(res.gates_total, 2);
    ck_assert_uint_eq(res.gates_failed, 0);
    const char *files[] = { "config.yaml", "metrics.json", "per_user.csv", "model.upf", "train.log" };
    for (size_t i = 0; i < 5; i++) ck_assert_msg(exists(res.dir, files[i]), "no %s", files[i]);
    ck_assert(!exists(res.dir, "INCOMPLETE"));
    ck_assert(!exists(res.dir, "checkpoint.bin"));
    /* metrics.json: model figures at the top, baselines nested, gates, run info */
    char *mp = path_in(res.dir, "metrics.json");
    upf_json *j = NULL;
    ck_assert_int_eq(upf_json_parse_file(mp, &j, &err), UPF_OK);
    const upf_json *v = upf_json_get(j, "ndcg@10");
    ck_assert(v && v->type == UPF_JSON_NUM);
    ck_assert_double_eq(v->num, res.primary_value);
    ck_assert_ptr_nonnull(upf_json_path(j, "baseline_popularity.ndcg@10"));
    ck_assert_ptr_nonnull(upf_json_path(j, "baseline_cooccur.recall@20"));
    /* the popularity model equals its own baseline, to the last bit */
    ck_assert_double_eq(upf_json_path(j, "baseline_popularity.ndcg@10")->num, v->num);
    ck_assert_ptr_nonnull(upf_json_get(j, "users_evaluated"));
    const upf_json *g = upf_json_get(j, "gates");
    ck_assert(g && g->type == UPF_JSON_ARR && g->len == 2);
    ck_assert_int_eq(upf_json_get(g->items[0], "pass")->boolean, 1);
    ck_assert_str_eq(upf_json_path(j, "run.status")->str, "complete");
    ck_assert_str_eq(upf_json_path(j, "run.family")->str, "popularity");
    ck_assert_double_eq(upf_json_path(j, "run.seed")->num, 1);
    ck_assert_ptr_nonnull(upf_json_path(j, "run.seconds.total"));
    ck_assert_double_eq(upf_json_path(j, "run.data_users")->num, 400);
    upf_json_free(j);
    free(mp);
    /* the model carries seed, resolved config and eval metrics */
    char *model = path_in(res.dir, "model.upf");
    upf_model *m = NULL;
    ck_assert_msg(upf_model_open(model, 0, &m, &err) == UPF_OK, "%s", err.msg);
    uint64_t seed;
    ck_assert_int_eq(upf_model_meta_u64(m, "train.seed", &seed), UPF_OK);
    ck_assert_uint_eq(seed, 1);
    const char *yaml;
    size_t yl;
    ck_assert_int_eq(upf_model_meta_str(m, "train.config_yaml", &yaml, &yl), UPF_OK);
    char *cy = path_in(res.dir, "config.yaml");
    char *resolved = slurp(cy, NULL);
    ck_assert_uint_eq(yl, strlen(resolved));
    ck_assert_int_eq(memcmp(yaml, resolved, yl), 0);
    double nd;
    ck_assert_int_eq(upf_model_meta_f64(m, "eval.ndcg_at_10", &nd), UPF_OK);
    ck_assert_double_eq(nd, res.primary_value);
    ck_assert_int_ne(upf_model_meta_f64(m, "eval.baseline_popularity.ndcg_at_10", &nd), UPF_OK);
    int64_t tmin;
    ck_assert_int_eq(upf_model_meta_i64(m, "data.time_min", &tmin), UPF_OK);
    ck_assert_int_eq(tmin, 1600000000);
    upf_model_close(m);
    free(model);
    free(cy);
    free(resolved);
    /* per_user.csv: header and one row per evaluated user */
    char *pu = path_in(res.dir, "per_user.csv");
    char *text = slurp(pu, NULL);
    ck_assert(strncmp(text, "user,ndcg@10,", 13) == 0);
    free(text);
    free(pu);
    fx_close(&f);
}
END_TEST

START_TEST(test_gates_fail_and_reference)
{
    fixture f = fx_open();
    upf_runner_result res;
    upf_err err;
    /* two failing gates: both reported, the run is complete */
    upf_status st = run_config(&f, POP "gates:\n  ndcg@10: \">= 1.5\"\n  recall@10: \">= 0\"\n  map@20: \"< 0\"\n", NULL,
                               0, "g1", &res, &err);
    ck_assert_int_eq(st, UPF_ERR_GATE);
    ck_assert_uint_eq(res.gates_failed, 2);
    ck_assert_msg(strstr(err.msg, "gate ndcg@10 >= 1.5 failed: ndcg@10 = ") != NULL, "%s", err.msg);
    ck_assert_msg(strstr(err.msg, "\ngate map@20 < 0 failed: map@20 = ") != NULL, "%s", err.msg);
    ck_assert_msg(strstr(err.msg, ", bound 1.5") != NULL, "%s", err.msg);
    ck_assert(exists(res.dir, "metrics.json"));
    ck_assert(!exists(res.dir, "INCOMPLETE"));
    char ref_dir[4096];
    snprintf(ref_dir, sizeof ref_dir, "%s", res.dir);
    double ref_ndcg = res.primary_value;

    /* a ranking metric the eval section will not compute: refused before training */
    st = run_config(&f, POP "gates:\n  ndcg@5: \">= 0.1\"\n", NULL, 0, "g2", &res, &err);
    ck_assert_int_eq(st, UPF_ERR_CONFIG);
    ck_assert_msg(strstr(err.msg, "c.yaml:8:11: gates.ndcg@5: the run will not compute ndcg@5: add the cut-off 5") != NULL,
                  "%s", err.msg);
    ck_assert_str_eq(res.dir, "");
    char *g2 = path_in(f.dir, "g2");
    ck_assert(access(g2, F_OK) != 0);
    free(g2);
    st = run_config(&f, POP "  primary: mrr@7\n", NULL, 0, "g2", &res, &err);
    ck_assert_int_eq(st, UPF_ERR_CONFIG);
    ck_assert_msg(strstr(err.msg, "c.yaml:7:12: eval.primary: the run will not compute mrr@7") != NULL, "%s", err.msg);
    /* a metric nobody produces: a config error after the run */
    st = run_config(&f, POP "gates:\n  toy.nonsense: \">= 0.1\"\n", NULL, 0, "g3", &res, &err);
    ck_assert_int_eq(st, UPF_ERR_CONFIG);
    ck_assert_msg(strstr(err.msg, "gates.toy.nonsense: the run produced no metric toy.nonsense (it has: ndcg@10") != NULL,
                  "%s", err.msg);

    /* relative to a reference run directory */
    char yaml[2048];
    snprintf(yaml, sizeof yaml, POP "  reference: %s\ngates:\n  ndcg@10: \">= ref - 0.001\"\n", ref_dir);
    st = run_config(&f, yaml, NULL, 0, "g4", &res, &err);
    ck_assert_msg(st == UPF_OK, "%s", err.msg);
    snprintf(yaml, sizeof yaml, POP "  reference: %s\ngates:\n  ndcg@10: \"> ref * 1.5\"\n", ref_dir);
    st = run_config(&f, yaml, NULL, 0, "g5", &res, &err);
    ck_assert_int_eq(st, UPF_ERR_GATE);
    char want[200];
    snprintf(want, sizeof want, "(ref %.6g)", ref_ndcg);
    ck_assert_msg(strstr(err.msg, want) != NULL, "%s", err.msg);
    /* ... a metrics.json, and a .upf model's eval.* metadata */
    snprintf(yaml, sizeof yaml, POP "  reference: %s/metrics.json\ngates:\n  recall@20: \">= ref\"\n", ref_dir);
    ck_assert_int_eq(run_config(&f, yaml, NULL, 0, "g6", &res, &err), UPF_OK);
    snprintf(yaml, sizeof yaml, POP "  reference: %s/model.upf\ngates:\n  ndcg@10: \">= ref\"\n", ref_dir);
    ck_assert_msg(run_config(&f, yaml, NULL, 0, "g7", &res, &err) == UPF_OK, "%s", err.msg);
    /* a reference without the metric, or no reference at all: config errors before training */
    snprintf(yaml, sizeof yaml, POP "  reference: %s/model.upf\ngates:\n  baseline_cooccur.ndcg@10: \">= ref\"\n", ref_dir);
    ck_assert_int_eq(run_config(&f, yaml, NULL, 0, "g8", &res, &err), UPF_ERR_CONFIG);
    ck_assert_msg(strstr(err.msg, "model.upf has no baseline_cooccur.ndcg@10") != NULL, "%s", err.msg);
    snprintf(yaml, sizeof yaml, POP "  reference: %s/nothing\ngates:\n  ndcg@10: \">= ref\"\n", f.dir);
    ck_assert_int_eq(run_config(&f, yaml, NULL, 0, "g9", &res, &err), UPF_ERR_CONFIG);
    ck_assert_msg(strstr(err.msg, "eval.reference:") != NULL && strstr(err.msg, "cannot read it") != NULL, "%s", err.msg);
    fx_close(&f);
}
END_TEST

START_TEST(test_interrupt_and_resume)
{
    fixture f = fx_open();
    upf_runner_result res;
    upf_err err;
    const char *yaml = "data:\n  source: synth\nmodel:\n  family: toy\ntrain:\n  epochs: 6\nexport:\n  timestamp: false\n";
    /* the reference: one uninterrupted run */
    toy_interrupt_at = 0;
    ck_assert_int_eq(run_config(&f, yaml, NULL, 0, "whole", &res, &err), UPF_OK);
    char *whole_model = path_in(res.dir, "model.upf");
    /* Ctrl-C at the start of epoch 4 */
    toy_interrupt_at = 4;
    ck_assert_int_eq(run_config(&f, yaml, NULL, 0, "cut", &res, &err), UPF_ERR_INTERRUPTED);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", res.dir);
    ck_assert(exists(dir, "INCOMPLETE"));
    ck_assert(exists(dir, "checkpoint.bin"));
    ck_assert(exists(dir, "config.yaml"));
    ck_assert(!exists(dir, "model.upf"));
    ck_assert(!exists(dir, "metrics.json"));
    char *marker = path_in(dir, "INCOMPLETE");
    char *text = slurp(marker, NULL);
    ck_assert_msg(strstr(text, "status: interrupted\nreason: toy: interrupted at epoch 4\n") != NULL, "%s", text);
    ck_assert_ptr_nonnull(strstr(text, "resume: upfunnel train --resume "));
    free(text);
    char *curves = path_in(dir, "curves.csv");
    ck_assert_uint_eq(count_lines(curves), 1 + 3);
    /* a fresh run into the same directory is refused */
    ck_assert_int_eq(run_config(&f, yaml, NULL, 0, "cut", &res, &err), UPF_ERR_ARG);
    ck_assert_msg(strstr(err.msg, "holds an unfinished run (toy: interrupted at epoch 4); continue it with "
                                  "`upfunnel train --resume") != NULL, "%s", err.msg);
    /* resume: with the directory's own config */
    upf_runner_opts o;
    upf_runner_opts_init(&o);
    o.resume_dir = dir;
    o.quiet = 1;
    o.families = test_families;
    o.dataset = f.ds;
    const char *ov[1] = { "train.epochs=7" };
    o.overrides = ov;
    o.n_overrides = 1;
    ck_assert_int_eq(upf_runner_run(&o, &res, &err), UPF_ERR_ARG); /* no --set on resume */
    o.n_overrides = 0;
    ck_assert_msg(upf_runner_run(&o, &res, &err) == UPF_OK, "%s", err.msg);
    ck_assert(!exists(dir, "INCOMPLETE"));
    ck_assert(!exists(dir, "checkpoint.bin"));
    ck_assert_uint_eq(count_lines(curves), 1 + 6);
    text = slurp(curves, NULL);
    ck_assert_str_eq(text, "epoch,loss\n1,1\n2,0.5\n3,0.3333333333333333\n4,0.25\n5,0.2\n6,0.16666666666666666\n");
    free(text);
    /* the resumed model is the uninterrupted one, byte for byte */
    char *cut_model = path_in(dir, "model.upf");
    size_t na, nb;
    char *a = slurp(whole_model, &na), *b = slurp(cut_model, &nb);
    ck_assert_uint_eq(na, nb);
    ck_assert_int_eq(memcmp(a, b, na), 0);
    free(a);
    free(b);
    char *log = path_in(dir, "train.log");
    text = slurp(log, NULL);
    ck_assert_ptr_nonnull(strstr(text, "resuming "));
    ck_assert_ptr_nonnull(strstr(text, " info: run finished"));
    free(text);
    /* a finished run has nothing to resume */
    ck_assert_int_eq(upf_runner_run(&o, &res, &err), UPF_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err.msg, "no INCOMPLETE marker"));
    free(log);
    free(cut_model);
    free(whole_model);
    free(curves);
    free(marker);
    fx_close(&f);
}
END_TEST

START_TEST(test_nan_and_directory_rules)
{
    fixture f = fx_open();
    upf_runner_result res;
    upf_err err;
    toy_interrupt_at = 0;
    const char *yaml = "data:\n  source: synth\nmodel:\n  family: toy\ntrain:\n  epochs: 5\n  nan_at: 3\n";
    ck_assert_int_eq(run_config(&f, yaml, NULL, 0, "nan", &res, &err), UPF_ERR_NUMERIC);
    char *marker = path_in(res.dir, "INCOMPLETE");
    char *text = slurp(marker, NULL);
    ck_assert_msg(strstr(text, "status: diverged\nreason: toy: epoch 3: the loss is NaN\n") != NULL, "%s", text);
    free(text);
    free(marker);
    ck_assert(exists(res.dir, "checkpoint.bin"));
    ck_assert(!exists(res.dir, "model.upf"));
    /* stopped before its first checkpoint: nothing to keep, so a new run may replace it */
    const char *yaml1 = "data:\n  source: synth\nmodel:\n  family: toy\ntrain:\n  epochs: 2\n  nan_at: 1\n";
    ck_assert_int_eq(run_config(&f, yaml1, NULL, 0, "nan1", &res, &err), UPF_ERR_NUMERIC);
    ck_assert(!exists(res.dir, "checkpoint.bin"));
    const char *fix[1] = { "train.nan_at=0" };
    ck_assert_msg(run_config(&f, yaml1, fix, 1, "nan1", &res, &err) == UPF_OK, "%s", err.msg);
    ck_assert(!exists(res.dir, "INCOMPLETE"));
    /* a finished run is replaced by a new one */
    ck_assert_int_eq(run_config(&f, POP, NULL, 0, "fin", &res, &err), UPF_OK);
    ck_assert_int_eq(run_config(&f, POP, NULL, 0, "fin", &res, &err), UPF_OK);
    /* a directory of other things is refused */
    char *other = path_in(f.dir, "other");
    mkdir(other, 0777);
    free(write_file(other, "notes.txt", "mine\n"));
    ck_assert_int_eq(run_config(&f, POP, NULL, 0, "other", &res, &err), UPF_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err.msg, "is not empty and holds no run"));
    free(other);
    /* a missing data file is a config error pointing at data.path, before any directory */
    ck_assert_int_eq(run_config(&f, "data:\n  path: /nonexistent.h5\nmodel:\n  family: popularity\n", NULL, 0, "nodata",
                                &res, &err),
                     UPF_OK); /* the test passes its own dataset: data.path is not read */
    fx_close(&f);
}
END_TEST

/* The same data through an HDF5 file: data.path relative to the config's folder. */
START_TEST(test_data_file)
{
    fixture f = fx_open();
    upf_err err;
    char *h5 = path_in(f.dir, "small.h5");
    ck_assert_msg(upf_dataset_write(f.ds, h5, &err) == UPF_OK, "%s", err.msg);
    char *cfg = write_file(f.dir, "file.yaml", "data:\n  path: small.h5\nmodel:\n  family: popularity\n");
    char *out = path_in(f.dir, "fr");
    upf_runner_opts o;
    upf_runner_opts_init(&o);
    o.config_path = cfg;
    o.out_dir = out;
    o.quiet = 1;
    upf_runner_result res, res2;
    ck_assert_msg(upf_runner_run(&o, &res, &err) == UPF_OK, "%s", err.msg);
    /* the same figures as from the dataset in memory */
    o.dataset = f.ds;
    ck_assert_int_eq(upf_runner_run(&o, &res2, &err), UPF_OK);
    ck_assert_double_eq(res.primary_value, res2.primary_value);
    char *mp = path_in(out, "metrics.json");
    char *text = slurp(mp, NULL);
    ck_assert_ptr_nonnull(strstr(text, "\"data\": \"<in memory>\""));
    free(text);
    o.dataset = NULL;
    ck_assert_int_eq(upf_runner_run(&o, &res, &err), UPF_OK);
    text = slurp(mp, NULL);
    char want[4300];
    snprintf(want, sizeof want, "small.h5\",");
    ck_assert_msg(strstr(text, "\"data\": \"/") && strstr(text, want), "%s", text);
    free(text);
    free(mp);
    free(out);
    free(cfg);
    free(h5);
    fx_close(&f);
}
END_TEST

START_TEST(test_identical_models)
{
    fixture f = fx_open();
    upf_runner_result res;
    upf_err err;
    const char *fams[] = { "cooccur", "popularity", "toy" };
    for (int k = 0; k < 3; k++) {
        char yaml[512];
        snprintf(yaml, sizeof yaml, "data:\n  source: synth\nmodel:\n  family: %s\ntrain:\n  threads: 1\n", fams[k]);
        setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
        ck_assert_int_eq(run_config(&f, yaml, NULL, 0, "a", &res, &err), UPF_OK);
        ck_assert_int_eq(run_config(&f, yaml, NULL, 0, "b", &res, &err), UPF_OK);
        unsetenv("SOURCE_DATE_EPOCH");
        char *pa = path_in(f.dir, "a/model.upf"), *pb = path_in(f.dir, "b/model.upf");
        size_t na, nb;
        char *a = slurp(pa, &na), *b = slurp(pb, &nb);
        ck_assert_msg(na == nb && memcmp(a, b, na) == 0, "%s: two identical runs gave different model files", fams[k]);
        free(a);
        free(b);
        /* the pinned time is recorded; another seed changes the toy model */
        upf_model *m;
        ck_assert_int_eq(upf_model_open(pa, 0, &m, &err), UPF_OK);
        int64_t t;
        ck_assert_int_eq(upf_model_meta_i64(m, "provenance.created_unix", &t), UPF_OK);
        ck_assert_int_eq(t, 1700000000);
        upf_model_close(m);
        if (k == 2) {
            const char *ov[1] = { "train.seed=2" };
            setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
            ck_assert_int_eq(run_config(&f, yaml, ov, 1, "b", &res, &err), UPF_OK);
            unsetenv("SOURCE_DATE_EPOCH");
            a = slurp(pa, &na);
            b = slurp(pb, &nb);
            ck_assert(na != nb || memcmp(a, b, na) != 0);
            free(a);
            free(b);
        }
        free(pa);
        free(pb);
    }
    fx_close(&f);
}
END_TEST

START_TEST(test_segments)
{
    fixture f = fx_open();
    upf_runner_result res;
    upf_err err;
    ck_assert_int_eq(run_config(&f, POP "  segments: [cold_items, activity, new_returning]\n", NULL, 0, "s", &res, &err),
                     UPF_OK);
    char *mp = path_in(res.dir, "metrics.json");
    upf_json *j;
    ck_assert_int_eq(upf_json_parse_file(mp, &j, &err), UPF_OK);
    ck_assert_ptr_nonnull(upf_json_path(j, "cold_items.users_evaluated"));
    ck_assert_ptr_nonnull(upf_json_path(j, "activity.low.ndcg@10"));
    ck_assert_ptr_nonnull(upf_json_path(j, "activity.high.ndcg@10"));
    ck_assert_ptr_nonnull(upf_json_path(j, "new_returning.returning.ndcg@10"));
    ck_assert_ptr_nonnull(upf_json_path(j, "baseline_cooccur.activity.mid.recall@20"));
    /* the activity buckets split the evaluated users */
    double n = upf_json_path(j, "users_evaluated")->num, sum = 0;
    const char *b[3] = { "activity.low.users_evaluated", "activity.mid.users_evaluated", "activity.high.users_evaluated" };
    for (int i = 0; i < 3; i++) sum += upf_json_path(j, b[i])->num;
    ck_assert_double_eq(sum, n);
    upf_json_free(j);
    free(mp);
    fx_close(&f);
}
END_TEST

/* Every allocation of a whole run failing in turn: a clean error (out of
 * memory, or the I/O error an allocation failure inside a file helper becomes),
 * never a crash, and nothing leaked (ASan checks under make san). */
START_TEST(test_run_alloc_failures)
{
    fixture f = fx_open();
    upf_dataset_free(f.ds);
    f.ds = small_dataset(40, 30, 5);
    upf_runner_result res;
    upf_err err;
    const char *yaml = "data:\n  source: synth\nmodel:\n  family: cooccur\neval:\n  metrics: [ndcg]\n  k: [10]\n"
                       "  baselines: [popularity]\n  segments: [cold_items]\ngates:\n  ndcg@10: \">= 0\"\n";
    upf_status st = UPF_ERR_NOMEM;
    long n;
    for (n = 1; n < 20000 && st != UPF_OK; n++) {
        char *cfg = write_file(f.dir, "c.yaml", yaml);
        char *outp = path_in(f.dir, "out");
        upf_runner_opts o;
        upf_runner_opts_init(&o);
        o.config_path = cfg;
        o.out_dir = outp;
        o.quiet = 1;
        o.progress = 0;
        o.dataset = f.ds;
        upf_alloc_fail_after(n);
        st = upf_runner_run(&o, &res, &err);
        upf_alloc_fail_after(0);
        ck_assert_msg(st == UPF_OK || st == UPF_ERR_NOMEM || st == UPF_ERR_IO, "allocation %ld: %s (%s)", n,
                      upf_status_str(st), err.msg);
        free(cfg);
        free(outp);
    }
    ck_assert_int_eq(st, UPF_OK);
    ck_assert_int_gt(n, 100);
    fx_close(&f);
}
END_TEST

/* ---- the real binary ---- */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

#define SMALL "data:\n  source: synth\n  synth:\n    users: 300\n    items: 100\nmodel:\n  family: cooccur\n"

START_TEST(test_binary_exit_codes)
{
    char *dir = upf_test_tmpdir();
    const char *bin = upf_test_bin();
    char *ok = write_file(dir, "ok.yaml", SMALL "gates:\n  coverage@10: \">= 0\"\n");
    ck_assert_int_eq(sh("%s train %s --out %s/r0 --no-progress >%s/o0 2>%s/e0", bin, ok, dir, dir, dir), 0);
    char *p = path_in(dir, "o0");
    char *text = slurp(p, NULL);
    ck_assert_msg(strstr(text, "gate coverage@10 >= 0: ") != NULL, "%s", text);
    free(text);
    free(p);
    /* the log: plain lines in train.log; JSON lines on stderr with --json-log */
    ck_assert_int_eq(sh("%s train %s --out %s/r1 --json-log 2>%s/e1 >/dev/null", bin, ok, dir, dir), 0);
    p = path_in(dir, "e1");
    text = slurp(p, NULL);
    ck_assert_msg(strncmp(text, "{\"time\":\"", 9) == 0 && strstr(text, "\"level\":\"info\",\"msg\":\"run "), "%s", text);
    free(text);
    free(p);
    p = path_in(dir, "r1/train.log");
    text = slurp(p, NULL);
    ck_assert_msg(text[4] == '-' && strstr(text, "Z info: data: generating a synthetic shop") != NULL, "%s", text);
    free(text);
    free(p);
    /* --quiet: no log lines on stderr */
    ck_assert_int_eq(sh("%s train %s --out %s/r2 --quiet 2>%s/e2 >/dev/null", bin, ok, dir, dir), 0);
    p = path_in(dir, "e2");
    text = slurp(p, NULL);
    ck_assert_str_eq(text, "");
    free(text);
    free(p);
    /* config errors: 2, one message with file:line:col */
    char *bad = write_file(dir, "bad.yaml", SMALL "trainn:\n  epochs: 3\n");
    ck_assert_int_eq(sh("%s train %s --out %s/r3 2>%s/e3", bin, bad, dir, dir), 2);
    p = path_in(dir, "e3");
    text = slurp(p, NULL);
    ck_assert_msg(strstr(text, "upfunnel: error: ") == text && strstr(text, "bad.yaml:8:1: trainn: unknown key (did you "
                                                                            "mean train?)"),
                  "%s", text);
    ck_assert_msg(strstr(text + 1, "upfunnel: error:") == NULL, "more than one error: %s", text);
    free(text);
    free(p);
    ck_assert_int_eq(sh("%s train %s --set model.neighbors=0 2>/dev/null", bin, ok), 2);
    ck_assert_int_eq(sh("%s train 2>/dev/null", bin), 2);
    ck_assert_int_eq(sh("%s train %s --threads x 2>/dev/null", bin, ok), 2);
    ck_assert_int_eq(sh("%s train %s --bogus 2>/dev/null", bin, ok), 2);
    ck_assert_int_eq(sh("%s train --resume %s/r0 2>/dev/null", bin, dir), 2);
    ck_assert_int_eq(sh("%s train --resume %s/r0 --set train.seed=3 2>/dev/null", bin, dir), 2);
    char *nod = write_file(dir, "nodata.yaml", "data:\n  path: no/such.h5\nmodel:\n  family: popularity\n");
    ck_assert_int_eq(sh("%s train %s --out %s/r4 2>%s/e4", bin, nod, dir, dir), 2);
    p = path_in(dir, "e4");
    text = slurp(p, NULL);
    ck_assert_msg(strstr(text, "nodata.yaml:2:9: data.path: no dataset file no/such.h5") != NULL, "%s", text);
    free(text);
    free(p);
    /* a failed gate: 3, each failed gate named with its value and bound */
    char *gate = write_file(dir, "gate.yaml", SMALL "gates:\n  ndcg@10: \">= 1.5\"\n  recall@10: \">= 2\"\n");
    ck_assert_int_eq(sh("%s train %s --out %s/r5 --quiet >/dev/null 2>%s/e5", bin, gate, dir, dir), 3);
    p = path_in(dir, "e5");
    text = slurp(p, NULL);
    ck_assert_msg(strstr(text, "upfunnel: error: gate ndcg@10 >= 1.5 failed: ndcg@10 = ") != NULL &&
                      strstr(text, "upfunnel: error: gate recall@10 >= 2 failed: recall@10 = ") != NULL &&
                      strstr(text, "bound 2") != NULL,
                  "%s", text);
    free(text);
    free(p);
    /* a shell script that calls train fails with it */
    ck_assert_int_eq(sh("sh -c '%s train %s --out %s/r6 --quiet >/dev/null 2>&1 || exit $?; exit 0'", bin, gate, dir), 3);
    /* a runtime failure: 1 (the run directory cannot be made) */
    ck_assert_int_eq(sh("%s train %s --out %s/o0/x 2>/dev/null", bin, ok, dir), 1);
    /* --help is a man page */
    ck_assert_int_eq(sh("%s train --help | grep -q 'exit status'", bin), 0);
    ck_assert_int_eq(sh("%s sweep --help | grep -q 'summary.csv'", bin), 0);
    free(ok);
    free(bad);
    free(nod);
    free(gate);
    upf_test_rmdir(dir);
}
END_TEST

START_TEST(test_binary_sweep)
{
    char *dir = upf_test_tmpdir();
    const char *bin = upf_test_bin();
    char *cfg = write_file(dir, "s.yaml", SMALL "  neighbors: [2, 50]\n");
    ck_assert_int_eq(sh("%s sweep %s --set 'model.similarity=[cosine,conditional]' --out %s/sw --quiet >%s/out 2>&1",
                        bin, cfg, dir, dir),
                     0);
    char *p = path_in(dir, "sw/summary.csv");
    char *text = slurp(p, NULL);
    ck_assert_msg(text && strncmp(text, "rank,point,model.neighbors,model.similarity,metric,value,status,", 64) == 0,
                  "%s", text ? text : "(none)");
    ck_assert_uint_eq(count_lines(p), 5);
    /* ranked: values descend */
    double prev = INFINITY;
    char *line = strchr(text, '\n') + 1;
    for (int r = 0; r < 4; r++) {
        char val[64];
        /* rank,point,n,sim,metric,value,... */
        const char *c = line;
        for (int k = 0; k < 5; k++) c = strchr(c, ',') + 1;
        snprintf(val, sizeof val, "%.*s", (int)strcspn(c, ","), c);
        double v = atof(val);
        ck_assert_msg(v <= prev, "row %d not ranked: %s", r, text);
        prev = v;
        ck_assert_ptr_nonnull(strstr(line, ",ok,0,"));
        line = strchr(line, '\n') + 1;
    }
    free(text);
    free(p);
    p = path_in(dir, "sw/p01_neighbors-2_similarity-cosine/metrics.json");
    ck_assert(access(p, F_OK) == 0);
    free(p);
    /* a bad point is refused before anything runs */
    ck_assert_int_eq(sh("%s sweep %s --set 'model.neighbors=[5, 0]' --out %s/sw2 >/dev/null 2>%s/e", bin, cfg, dir, dir),
                     2);
    p = path_in(dir, "e");
    text = slurp(p, NULL);
    ck_assert_msg(strstr(text, "grid point 2 (neighbors=0): --set model.neighbors=0") != NULL, "%s", text);
    free(text);
    free(p);
    p = path_in(dir, "sw2");
    ck_assert(access(p, F_OK) != 0);
    free(p);
    free(cfg);
    upf_test_rmdir(dir);
}
END_TEST

/* Run directories fsync every file they commit; on a RAM filesystem that is
 * free, so the suite puts its scratch there when it can. */
static void scratch_in_memory(void)
{
    if (access("/dev/shm", W_OK) == 0) setenv("TMPDIR", "/dev/shm", 1);
}

/* MovieLens 100K, configs/ml100k_popularity.yaml end to end through the
 * binary: the BENCH.md protocol gives popularity NDCG@10 0.1520 (split seed
 * noise about 0.01). Skips when ../shared/data is absent. */
START_TEST(test_ml100k_popularity)
{
    const char *data = upf_test_data_dir();
    if (!data) return; /* skipped: no public data here */
    char *dir = upf_test_tmpdir();
    const char *bin = upf_test_bin();
    ck_assert_int_eq(sh("%s data import --preset movielens100k %s/movielens-100k/ml-100k -o %s/ml.h5 >/dev/null 2>&1",
                        bin, data, dir),
                     0);
    ck_assert_int_eq(sh("%s train configs/ml100k_popularity.yaml --set data.path=%s/ml.h5 --out %s/run --quiet "
                        ">/dev/null 2>&1",
                        bin, dir, dir),
                     0);
    char *mp = path_in(dir, "run/metrics.json");
    upf_json *j;
    upf_err err;
    ck_assert_int_eq(upf_json_parse_file(mp, &j, &err), UPF_OK);
    double ndcg = upf_json_get(j, "ndcg@10")->num;
    ck_assert_msg(fabs(ndcg - 0.1520) <= 0.01, "popularity ndcg@10 %.4f, BENCH.md 0.1520", ndcg);
    ck_assert_double_eq(upf_json_path(j, "run.data_users")->num, 943);
    ck_assert_double_eq(upf_json_path(j, "run.data_items")->num, 1682);
    upf_json_free(j);
    free(mp);
    upf_test_rmdir(dir);
}
END_TEST

Suite *runner_suite(void)
{
    Suite *s = suite_create("runner");
    TCase *t = tcase_create("gates");
    tcase_add_checked_fixture(t, scratch_in_memory, NULL);
    tcase_add_test(t, test_gate_parse);
    suite_add_tcase(s, t);
    t = tcase_create("runs");
    tcase_add_checked_fixture(t, scratch_in_memory, NULL);
    tcase_add_test(t, test_run_directory);
    tcase_add_test(t, test_gates_fail_and_reference);
    tcase_add_test(t, test_interrupt_and_resume);
    tcase_add_test(t, test_nan_and_directory_rules);
    tcase_add_test(t, test_identical_models);
    tcase_add_test(t, test_data_file);
    tcase_add_test(t, test_segments);
    tcase_set_timeout(t, 60);
    suite_add_tcase(s, t);
    t = tcase_create("faults");
    tcase_add_checked_fixture(t, scratch_in_memory, NULL);
    tcase_add_test(t, test_run_alloc_failures);
    tcase_set_timeout(t, 300);
    suite_add_tcase(s, t);
    t = tcase_create("binary");
    tcase_add_checked_fixture(t, scratch_in_memory, NULL);
    tcase_add_test(t, test_binary_exit_codes);
    tcase_add_test(t, test_binary_sweep);
    tcase_add_test(t, test_ml100k_popularity);
    tcase_set_timeout(t, 120);
    suite_add_tcase(s, t);
    return s;
}
