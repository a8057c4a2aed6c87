/* test_config.c - the YAML config loader: every error class with its
 * FILE:LINE:COL (inline YAML, expected status, expected substrings), defaults,
 * overrides, dates, the resolved YAML round trip, family checks re-anchored at
 * the key, the sweep grid, allocation failures, and configs/README.md agreeing
 * with every key table. */
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../train/baselines.h"
#include "../train/config.h"
#include "../train/family.h"
#include "testutil.h"

#define HEAD "data:\n  path: x.h5\nmodel:\n  family: cooccur\n"

static upf_status load_text(const char *yaml, const char *const *ov, size_t n_ov, upf_cfg_loaded **out,
                            upf_err *err)
{
    upf_cfg_load_opts o;
    memset(&o, 0, sizeof o);
    o.text = yaml;
    o.text_name = "t.yaml";
    o.overrides = ov;
    o.n_overrides = n_ov;
    return upf_config_load_opts(&o, out, err);
}

/* ---- error classes ---- */

typedef struct err_case {
    const char *name;
    const char *yaml;
    const char *set;       /* one override or NULL */
    upf_status status;
    const char *want[3];   /* substrings of the message */
} err_case;

static const err_case err_cases[] = {
    { "unknown top-level key", HEAD "trainn:\n  seed: 3\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:5:1: trainn: unknown key (did you mean train?)", "\n    trainn:\n    ^", NULL } },
    { "unknown nested key", HEAD "  neighbours: 5\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:5:3: model.neighbours: unknown key (did you mean neighbors?)", NULL, NULL } },
    { "unknown key, no suggestion", HEAD "  zzzzzzzzzz: 5\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:5:3: model.zzzzzzzzzz: unknown key; expected one of: family, name", NULL, NULL } },
    { "key of another family", HEAD "  half_life_days: 5\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:5:3: model.half_life_days", "belongs to family popularity_decay", NULL } },
    { "duplicate key", HEAD "  neighbors: 5\n  neighbors: 6\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:6:3: model.neighbors: duplicate key (first at line 5)", NULL, NULL } },
    { "duplicate section", HEAD "eval:\n  k: [5]\neval:\n  k: [6]\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:7:1: eval: duplicate key (first at line 5)", NULL, NULL } },
    { "duplicate gate", HEAD "gates:\n  ndcg@10: \">= 0.1\"\n  ndcg@10: \">= 0.2\"\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:7:3: gates.ndcg@10: duplicate key", NULL, NULL } },
    { "integer from text", HEAD "  neighbors: fast\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:5:14: model.neighbors: expected an integer in [1, 100000], got \"fast\"",
        "      neighbors: fast\n                 ^", NULL } },
    { "integer from a fraction", HEAD "  neighbors: 2.5\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:5:14: model.neighbors: expected an integer", "got 2.5", NULL } },
    { "quoted number", HEAD "  neighbors: \"20\"\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:5:14:", "remove the quotes", NULL } },
    { "out of range", HEAD "  neighbors: 0\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:5:14: model.neighbors: expected an integer in [1, 100000], got 0", NULL, NULL } },
    { "exclusive bound", HEAD "split:\n  test_frac: 1\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:6:14: split.test_frac: expected a number in (0, 1), got 1", NULL, NULL } },
    { "integer overflow", HEAD "train:\n  seed: 99999999999999999999\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:6:9: train.seed", "out of range", NULL } },
    { "negative seed", HEAD "train:\n  seed: -1\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:6:9: train.seed: expected an integer >= 0, got -1", NULL, NULL } },
    { "bool", HEAD "eval:\n  exclude_train: yes\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:6:18: eval.exclude_train: expected true or false, got \"yes\"", NULL, NULL } },
    { "number", "data:\n  path: x\n  min_rating: high\nmodel:\n  family: cooccur\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:3:15: data.min_rating: expected a number, got \"high\"", NULL, NULL } },
    { "number nan", "data:\n  path: x\n  min_rating: .nan\nmodel:\n  family: cooccur\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:3:15: data.min_rating: expected a number, got \".nan\"", NULL, NULL } },
    { "enum with suggestion", HEAD "  similarity: cosin\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:5:15: model.similarity: expected one of cosine, conditional, got \"cosin\" (did you mean cosine?)",
        NULL, NULL } },
    { "list where a scalar goes", HEAD "  neighbors: [10, 20]\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:5:14: model.neighbors", "got a list", "upfunnel sweep" } },
    { "mapping where a scalar goes", HEAD "  neighbors:\n    a: 1\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:6:5: model.neighbors: expected an integer in [1, 100000], got a mapping", NULL, NULL } },
    { "scalar where a section goes", HEAD "eval: 3\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:5:7: eval: expected a mapping (a section of keys), got 3", NULL, NULL } },
    { "list element type", HEAD "eval:\n  k: [10, x]\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:6:11: eval.k: expected an integer in [1, 100000], got \"x\"", NULL, NULL } },
    { "list duplicates", HEAD "eval:\n  k: [10, 10]\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:6:11: eval.k: expected distinct values, got 10 twice", NULL, NULL } },
    { "list element choice", HEAD "eval:\n  metrics: [ndcg, recal]\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:6:19: eval.metrics", "got \"recal\" (did you mean recall?)", NULL } },
    { "list of lists", HEAD "eval:\n  k: [[5], [10]]\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:6:7: eval.k", "a list inside the list", "upfunnel sweep" } },
    { "empty cut-offs", HEAD "eval:\n  k: []\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:6:6: eval.k: expected at least one cut-off, got []", NULL, NULL } },
    { "date", HEAD "split:\n  kind: temporal\n  cutoff: 2021-02-30\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:7:11: split.cutoff: expected a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ), got \"2021-02-30\"", NULL,
        NULL } },
    { "missing required key", "data:\n  path: x\nmodel:\n  name: m\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:4:3: model.family: missing required key (one of popularity", NULL, NULL } },
    { "empty config", "", NULL, UPF_ERR_CONFIG, { "t.yaml:1:1: model.family: missing required key", NULL, NULL } },
    { "family unknown", "data:\n  path: x\nmodel:\n  family: poplarity\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:4:11: model.family: expected one of", "(did you mean popularity?)", NULL } },
    { "family as a list", "data:\n  path: x\nmodel:\n  family: [cooccur, popularity]\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:4:11: model.family", "upfunnel sweep", NULL } },
    { "missing data.path", "model:\n  family: cooccur\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml: data.path: missing required key (data.source is file", NULL, NULL } },
    { "path with synth", "data:\n  path: x\n  source: synth\nmodel:\n  family: cooccur\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:2:9: data.path: expected no path with data.source synth", NULL, NULL } },
    { "temporal without cutoff", HEAD "split:\n  kind: temporal\n", NULL, UPF_ERR_CONFIG,
      { "split.cutoff: missing required key (split.kind is temporal", NULL, NULL } },
    { "cutoff without temporal", HEAD "split:\n  cutoff: 2020-01-01\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:6:11: split.cutoff: expected no cutoff with split.kind random", NULL, NULL } },
    { "data.end before begin", "data:\n  path: x\n  begin: 2020-01-02\n  end: 2020-01-01\nmodel:\n  family: cooccur\n",
      NULL, UPF_ERR_CONFIG, { "t.yaml:4:8: data.end: expected a date after data.begin", NULL, NULL } },
    { "near a section name", HEAD "  name: x\ndata2: 1\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:6:1: data2: unknown key (did you mean data?)", NULL, NULL } },
    { "grade of an unknown event", "data:\n  path: x\n  grades:\n    purchse: 3\nmodel:\n  family: cooccur\n", NULL,
      UPF_ERR_CONFIG, { "t.yaml:4:5: data.grades.purchse: expected an event type name", "did you mean purchase?", NULL } },
    { "grade not a number", "data:\n  path: x\n  grades:\n    purchase: lots\nmodel:\n  family: cooccur\n", NULL,
      UPF_ERR_CONFIG, { "t.yaml:4:15: data.grades.purchase: expected a number in (0, 1e6], got \"lots\"", NULL, NULL } },
    { "gate syntax", HEAD "gates:\n  ndcg@10: \"at least 0.3\"\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:6:12: gates.ndcg@10: expected \"OP BOUND\"", "got \"at least 0.3\"", NULL } },
    { "gate value not a scalar", HEAD "gates:\n  ndcg@10: [1]\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:6:12: gates.ndcg@10: expected a scalar value, got a list", NULL, NULL } },
    { "gate on ref without reference", HEAD "gates:\n  ndcg@10: \">= ref * 0.98\"\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:6:12: gates.ndcg@10: expected eval.reference to be set", NULL, NULL } },
    { "gates not a mapping", HEAD "gates: [1]\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:5:8: gates: expected a mapping, got a list", NULL, NULL } },
    { "anchor", "data: &d\n  path: x\nmodel:\n  family: cooccur\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:1:7: expected a value, got an anchor (&d)", NULL, NULL } },
    { "alias", "data:\n  path: &p x\nmodel:\n  family: *p\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:2:9: expected a value, got an anchor (&p)", NULL, NULL } },
    { "alias alone", "data:\n  path: x\nmodel:\n  family: cooccur\n  name: *p\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:5:9: expected a value, got an alias (*p)", NULL, NULL } },
    { "tag", HEAD "  neighbors: !!int 5\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:5:14: expected a value, got a tag (tag:yaml.org,2002:int)", NULL, NULL } },
    { "local tag", HEAD "  neighbors: !mine 5\n", NULL, UPF_ERR_CONFIG, { "t.yaml:5:14:", "tags are not allowed", NULL } },
    { "two documents", HEAD "---\nmodel:\n  family: cooccur\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:5:1: expected one YAML document, got a second one", NULL, NULL } },
    { "syntax: bad indentation", "data:\n  path: x\n model:\n  family: cooccur\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:3:2: YAML syntax error: did not find expected key", "(line 1, column 1)", NULL } },
    { "syntax: tab", "data:\n\tpath: x\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:2:1: YAML syntax error: found character that cannot start any token", NULL, NULL } },
    { "syntax: unclosed flow", HEAD "eval:\n  k: [10, 20\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:", "YAML syntax error: did not find expected ',' or ']'", NULL } },
    { "root not a mapping", "- a\n- b\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:1:1: expected a mapping of sections (data, split, model, ...), got a list", NULL, NULL } },
    { "non-scalar key", HEAD "? [a, b]\n: 1\n", NULL, UPF_ERR_CONFIG,
      { "t.yaml:5:3: expected a key name, got a list", NULL, NULL } },
    { "override without =", HEAD, "model.neighbors", UPF_ERR_CONFIG,
      { "--set model.neighbors: expected key.path=value", NULL, NULL } },
    { "override empty key segment", HEAD, "model..neighbors=3", UPF_ERR_CONFIG,
      { "--set model..neighbors=3: expected key.path=value", NULL, NULL } },
    { "override unknown key", HEAD, "model.neighbours=3", UPF_ERR_CONFIG,
      { "--set model.neighbours=3: model.neighbours: unknown key (did you mean neighbors?)", NULL, NULL } },
    { "override wrong type", HEAD, "model.neighbors=lots", UPF_ERR_CONFIG,
      { "--set model.neighbors=lots: model.neighbors: expected an integer", "\n    --set model.neighbors=lots\n"
        "                          ^", NULL } },
    { "override list", HEAD, "model.neighbors=[1, 2]", UPF_ERR_CONFIG,
      { "--set model.neighbors=[1, 2]: model.neighbors", "got a list", NULL } },
    { "override gate", HEAD, "gates.ndcg@10=>= maybe", UPF_ERR_CONFIG,
      { "--set gates.ndcg@10=>= maybe: gates.ndcg@10: expected \"OP BOUND\"", NULL, NULL } },
};

START_TEST(test_error_classes)
{
    const err_case *c = &err_cases[_i];
    upf_cfg_loaded *out = (upf_cfg_loaded *)&out; /* must come back NULL */
    upf_err err;
    upf_err_clear(&err);
    const char *ov[1] = { c->set };
    upf_status st = load_text(c->yaml, ov, c->set ? 1 : 0, &out, &err);
    ck_assert_msg(st == c->status, "%s: status %s, want %s (%s)", c->name, upf_status_str(st),
                  upf_status_str(c->status), err.msg);
    ck_assert_msg(out == NULL, "%s: output not NULL on failure", c->name);
    for (int i = 0; i < 3 && c->want[i]; i++)
        ck_assert_msg(strstr(err.msg, c->want[i]) != NULL, "%s: message\n%s\nlacks\n%s", c->name, err.msg, c->want[i]);
    /* the first line is the one precise message */
    ck_assert_msg(strncmp(err.msg, "t.yaml", 6) == 0 || strncmp(err.msg, "--set", 5) == 0, "%s: %s", c->name, err.msg);
}
END_TEST

START_TEST(test_io_error)
{
    upf_cfg_loaded *out = NULL;
    upf_err err;
    upf_status st = upf_config_load("/nonexistent/x.yaml", NULL, NULL, 0, &out, &err);
    ck_assert_int_eq(st, UPF_ERR_IO);
    ck_assert_ptr_null(out);
    ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/x.yaml: cannot open the config"));
}
END_TEST

/* ---- defaults, overrides, dates ---- */

START_TEST(test_defaults)
{
    upf_cfg_loaded *c = NULL;
    upf_err err;
    ck_assert_int_eq(load_text(HEAD, NULL, 0, &c, &err), UPF_OK);
    const upf_config *cfg = upf_config_common(c);
    ck_assert_str_eq(cfg->file, "t.yaml");
    ck_assert_str_eq(cfg->name, "t");
    ck_assert_str_eq(cfg->data_path, "x.h5");
    ck_assert_str_eq(cfg->model_family, "cooccur");
    ck_assert_str_eq(cfg->model_name, "t"); /* resolved from the file name */
    ck_assert_int_eq(cfg->data_source, 0);
    ck_assert_int_eq(cfg->split_kind, 0);
    ck_assert_double_eq(cfg->split_test_frac, 0.2);
    ck_assert_int_eq(cfg->split_seed, 42);
    ck_assert_int_eq(cfg->split_min_entries, 2);
    ck_assert(cfg->split_cutoff == UPF_CFG_DATE_UNSET);
    ck_assert(cfg->data_begin == UPF_CFG_DATE_UNSET);
    ck_assert_int_eq(cfg->train_seed, 1);
    ck_assert_int_eq(cfg->train_threads, 0);
    ck_assert_int_eq(cfg->train_deterministic, 1);
    ck_assert_uint_eq(cfg->eval_k.n, 2);
    ck_assert_int_eq(cfg->eval_k.v[0], 10);
    ck_assert_int_eq(cfg->eval_k.v[1], 20);
    ck_assert_uint_eq(cfg->data_events.n, 4);
    ck_assert_str_eq(cfg->data_events.v[0], "purchase");
    ck_assert_uint_eq(cfg->eval_baselines.n, 1);
    ck_assert_str_eq(cfg->eval_baselines.v[0], "popularity");
    ck_assert_uint_eq(cfg->gates.n, 0);
    ck_assert_int_eq(cfg->export_enabled, 1);
    /* the family's defaults equal the C defaults the runner's baselines use */
    const upf_cooccur_params *p = upf_config_family_params(c);
    upf_cooccur_params d = upf_cooccur_params_default();
    ck_assert_int_eq(p->similarity, d.similarity);
    ck_assert_double_eq(p->alpha, d.alpha);
    ck_assert_int_eq(p->neighbors, d.neighbors);
    ck_assert_int_eq(p->min_count, d.min_count);
    ck_assert_int_eq(p->max_user_items, d.max_user_items);
    ck_assert_ptr_eq(upf_config_family(c), upf_family_find("cooccur"));
    ck_assert_ptr_null(upf_config_where(c, "model.neighbors"));
    ck_assert_str_eq(upf_config_where(c, "model.family"), "t.yaml:4:11");
    char buf[64];
    ck_assert_str_eq(upf_config_primary(cfg, buf, sizeof buf), "ndcg@10");
    upf_config_free(c);

    ck_assert_int_eq(load_text("data:\n  path: x\nmodel:\n  family: popularity_decay\n", NULL, 0, &c, &err), UPF_OK);
    const upf_popularity_params *pp = upf_config_family_params(c);
    upf_popularity_params pd = upf_popularity_params_default(1);
    ck_assert_double_eq(pp->half_life_days, pd.half_life_days);
    ck_assert_int_eq(pp->weighting, pd.weighting);
    upf_config_free(c);
}
END_TEST

START_TEST(test_values_and_overrides)
{
    const char *yaml = HEAD "  neighbors: 5\n"
                            "  similarity: conditional\n"
                            "data:\n"
                            "  path: other.h5\n";
    upf_cfg_loaded *c = NULL;
    upf_err err;
    /* a duplicate section is refused even when an override would fix it */
    ck_assert_int_eq(load_text(yaml, NULL, 0, &c, &err), UPF_ERR_CONFIG);
    yaml = "data:\n"
           "  path: x.h5\n"
           "  events: view\n"
           "  grades: {purchase: 5, view: 0.5}\n"
           "  begin: 2011-09-01\n"
           "  end: 2012-01-01T06:00:00Z\n"
           "split:\n"
           "  kind: temporal\n"
           "  cutoff: 2011-12-01 00:00:00\n"
           "model:\n"
           "  family: cooccur\n"
           "  neighbors: 5\n"
           "  similarity: conditional\n"
           "eval:\n"
           "  k: 5\n"
           "  reference: ref/run\n"
           "gates:\n"
           "  ndcg@5: \">= ref - 0.01\"\n"
           "  recall@5: '> 0.1'\n";
    const char *ov[] = { "model.neighbors=7", "eval.k=[5, 15]", "gates.cold_items.ndcg@5=< 0.9",
                         "data.events=[purchase, view]", "train.deterministic=false", "model.name=\"a b\"",
                         "export.enabled=false" };
    ck_assert_msg(load_text(yaml, ov, 7, &c, &err) == UPF_OK, "%s", err.msg);
    const upf_config *cfg = upf_config_common(c);
    const upf_cooccur_params *p = upf_config_family_params(c);
    ck_assert_int_eq(p->neighbors, 7);
    ck_assert_int_eq(p->similarity, 1);
    ck_assert_uint_eq(cfg->eval_k.n, 2);
    ck_assert_int_eq(cfg->eval_k.v[1], 15);
    ck_assert_uint_eq(cfg->data_events.n, 2);
    ck_assert_int_eq(cfg->train_deterministic, 0);
    ck_assert_int_eq(cfg->export_enabled, 0);
    ck_assert_str_eq(cfg->model_name, "a b");
    ck_assert_int_eq(cfg->data_begin, 1314835200);
    ck_assert_int_eq(cfg->data_end, 1325397600); /* 2012-01-01 06:00 UTC */
    ck_assert_int_eq(cfg->split_cutoff, 1322697600);
    ck_assert_uint_eq(cfg->gates.n, 3);
    ck_assert_str_eq(cfg->gates.keys[2], "cold_items.ndcg@5");
    ck_assert_str_eq(cfg->gates.values[2], "< 0.9");
    ck_assert_str_eq(cfg->gates.values[1], "> 0.1");
    ck_assert_str_eq(upf_config_where(c, "model.neighbors"), "--set model.neighbors=7");
    ck_assert_str_eq(upf_config_where(c, "model.similarity"), "t.yaml:13:15");
    upf_interaction_params ip = upf_config_interaction_params(cfg);
    ck_assert_uint_eq(ip.types, (1u << UPF_EV_PURCHASE) | (1u << UPF_EV_VIEW));
    ck_assert(ip.grade[UPF_EV_PURCHASE] == 5.0f);
    ck_assert(ip.grade[UPF_EV_VIEW] == 0.5f);
    ck_assert(ip.grade[UPF_EV_CART] == 2.0f);
    ck_assert_int_eq(ip.time_begin, 1314835200);
    upf_split_params sp = upf_config_split_params(cfg);
    ck_assert_int_eq(sp.kind, UPF_SPLIT_TEMPORAL);
    ck_assert_int_eq(sp.cutoff, 1322697600);
    upf_config_free(c);

    /* an override creates sections the file lacks, and the last one wins */
    const char *ov2[] = { "data.source=synth", "data.path=", "data.synth.users=100", "data.synth.users=120" };
    ck_assert_msg(load_text("model:\n  family: popularity\n", ov2, 4, &c, &err) == UPF_OK, "%s", err.msg);
    ck_assert_int_eq(upf_config_common(c)->data_source, 1);
    ck_assert_int_eq(upf_config_common(c)->data_synth_users, 120);
    upf_config_free(c);
}
END_TEST

/* ---- the resolved YAML ---- */

START_TEST(test_resolved_round_trip)
{
    const char *yaml = "data:\n  path: \"dir with: colon/x.h5\"\n  events: [purchase, 'view']\n"
                       "  grades: {purchase: 3}\n  begin: 2011-09-01T10:20:30Z\n"
                       "split: {kind: last_n, last_n: 2}\n"
                       "model:\n  family: cooccur\n  alpha: 0.3\n  name: \"yes\"\n"
                       "eval:\n  k: [1, 1000]\n  reference: r.json\n  primary: recall@1000\n"
                       "gates:\n  ndcg@1: \">= ref * 0.98\"\n  \"cold_items.recall@1000\": \"> 1e-05\"\n";
    upf_cfg_loaded *a = NULL, *b = NULL;
    upf_err err;
    ck_assert_msg(load_text(yaml, NULL, 0, &a, &err) == UPF_OK, "%s", err.msg);
    const char *ra = upf_config_resolved_yaml(a);
    ck_assert_ptr_nonnull(strstr(ra, "\n  family: cooccur\n"));
    ck_assert_ptr_nonnull(strstr(ra, "\n  path: \"dir with: colon/x.h5\"\n"));
    ck_assert_ptr_nonnull(strstr(ra, "\n  name: \"yes\"\n"));
    ck_assert_ptr_nonnull(strstr(ra, "\n  begin: 2011-09-01T10:20:30Z\n"));
    ck_assert_ptr_nonnull(strstr(ra, "\n  synth:\n    users: 2000\n"));
    ck_assert_ptr_nonnull(strstr(ra, "\ngates:\n  ndcg@1: \">= ref * 0.98\"\n"));
    ck_assert_ptr_nonnull(strstr(ra, "\n  neighbors: 100\n"));
    ck_assert_ptr_nonnull(strstr(ra, "\n  alpha: 0.3\n"));
    ck_assert_msg(load_text(ra, NULL, 0, &b, &err) == UPF_OK, "%s\n%s", err.msg, ra);
    ck_assert_str_eq(ra, upf_config_resolved_yaml(b));
    const upf_config *x = upf_config_common(a), *y = upf_config_common(b);
    ck_assert_str_eq(x->data_path, y->data_path);
    ck_assert_int_eq(x->data_begin, y->data_begin);
    ck_assert_int_eq(x->split_kind, y->split_kind);
    ck_assert_int_eq(x->split_last_n, y->split_last_n);
    ck_assert_uint_eq(x->gates.n, y->gates.n);
    ck_assert_str_eq(x->gates.keys[1], y->gates.keys[1]);
    ck_assert_str_eq(x->eval_primary, "recall@1000");
    ck_assert_double_eq(((const upf_cooccur_params *)upf_config_family_params(b))->alpha, 0.3);
    upf_config_free(a);
    upf_config_free(b);

    /* every default of every family survives the round trip */
    for (size_t f = 0; upf_families[f]; f++) {
        char text[256];
        snprintf(text, sizeof text, "data:\n  path: x\nmodel:\n  family: %s\n", upf_families[f]->name);
        int needs = 0;
        for (const upf_cfg_key *k = upf_families[f]->keys; k && k->path; k++) needs |= k->def == NULL;
        if (needs) continue; /* a family with required keys has no all-defaults config */
        ck_assert_msg(load_text(text, NULL, 0, &a, &err) == UPF_OK, "%s: %s", upf_families[f]->name, err.msg);
        ck_assert_msg(load_text(upf_config_resolved_yaml(a), NULL, 0, &b, &err) == UPF_OK, "%s", err.msg);
        ck_assert_str_eq(upf_config_resolved_yaml(a), upf_config_resolved_yaml(b));
        upf_config_free(a);
        upf_config_free(b);
    }
}
END_TEST

/* ---- families' checks are re-anchored at the key ---- */

typedef struct tparams {
    int64_t lo, hi, epochs;
} tparams;

static const upf_cfg_key tkeys[] = {
    { "model.lo", UPF_CFG_INT, offsetof(tparams, lo), 0, 100, "1", NULL, "low", 0 },
    { "model.hi", UPF_CFG_INT, offsetof(tparams, hi), 0, 100, "2", NULL, "high", 0 },
    { "train.epochs", UPF_CFG_INT, offsetof(tparams, epochs), 1, 1000, NULL, NULL, "epochs", 0 },
    { NULL, UPF_CFG_NONE, 0, 0, 0, NULL, NULL, NULL, 0 },
};

static upf_status tcheck(const void *vp, const upf_config *c, upf_err *err)
{
    const tparams *p = vp;
    (void)c;
    if (p->lo > p->hi)
        return upf_err_set(err, UPF_ERR_ARG, "model.lo: expected at most model.hi (%lld), got %lld", (long long)p->hi,
                           (long long)p->lo);
    return UPF_OK;
}

static upf_status trun(upf_run *run, const void *p, upf_err *err)
{
    (void)run, (void)p, (void)err;
    return UPF_OK;
}

static const upf_family tfam = { "toy", "a toy", tkeys, sizeof(tparams), tcheck, trun };
static const upf_family *const tfams[] = { &tfam, NULL };

START_TEST(test_family_check)
{
    upf_cfg_load_opts o;
    memset(&o, 0, sizeof o);
    o.text_name = "t.yaml";
    o.families = tfams;
    upf_cfg_loaded *c = NULL;
    upf_err err;
    o.text = "data:\n  path: x\nmodel:\n  family: toy\n  lo: 50\ntrain:\n  epochs: 3\n";
    ck_assert_int_eq(upf_config_load_opts(&o, &c, &err), UPF_ERR_CONFIG);
    ck_assert_msg(strstr(err.msg, "t.yaml:5:7: model.lo: expected at most model.hi (2), got 50\n      lo: 50\n"
                                  "          ^") != NULL, "%s", err.msg);
    /* a required family key */
    o.text = "data:\n  path: x\nmodel:\n  family: toy\n";
    ck_assert_int_eq(upf_config_load_opts(&o, &c, &err), UPF_ERR_CONFIG);
    ck_assert_msg(strstr(err.msg, "t.yaml:1:1: train.epochs: missing required key (epochs)") != NULL, "%s", err.msg);
    o.text = "data:\n  path: x\nmodel:\n  family: toy\ntrain:\n  seed: 4\n";
    ck_assert_int_eq(upf_config_load_opts(&o, &c, &err), UPF_ERR_CONFIG);
    ck_assert_msg(strstr(err.msg, "t.yaml:6:3: train.epochs: missing required key") != NULL, "%s", err.msg);
    o.text = "data:\n  path: x\nmodel:\n  family: toy\n  hi: 60\n  lo: 50\ntrain:\n  epochs: 3\n";
    ck_assert_msg(upf_config_load_opts(&o, &c, &err) == UPF_OK, "%s", err.msg);
    const tparams *p = upf_config_family_params(c);
    ck_assert_int_eq(p->lo, 50);
    ck_assert_int_eq(p->epochs, 3);
    ck_assert_ptr_nonnull(strstr(upf_config_resolved_yaml(c), "\ntrain:\n  seed: 1\n  threads: 0\n  deterministic: true\n"
                                                             "  epochs: 3\n"));
    upf_config_free(c);
}
END_TEST

/* ---- allocation failures: every one gives NOMEM, frees everything ---- */

START_TEST(test_alloc_failures)
{
    const char *yaml = HEAD "  neighbors: 5\neval:\n  k: [5, 10]\ngates:\n  ndcg@5: \">= 0.1\"\n";
    const char *ov[] = { "model.alpha=0.2", "data.synth.users=50" };
    upf_status st = UPF_ERR_NOMEM;
    long n;
    for (n = 1; n < 100000 && st == UPF_ERR_NOMEM; n++) {
        upf_cfg_loaded *c = (upf_cfg_loaded *)&c;
        upf_err err;
        upf_alloc_fail_after(n);
        st = load_text(yaml, ov, 2, &c, &err);
        upf_alloc_fail_after(0);
        if (st == UPF_OK) {
            upf_config_free(c);
        } else {
            ck_assert_msg(st == UPF_ERR_NOMEM, "allocation %ld: %s (%s)", n, upf_status_str(st), err.msg);
            ck_assert_ptr_null(c);
        }
    }
    ck_assert_int_eq(st, UPF_OK);
    ck_assert_int_gt(n, 50);
}
END_TEST

/* ---- the sweep grid ---- */

static char *write_tmp(const char *dir, const char *name, const char *text)
{
    char *path = malloc(4200);
    snprintf(path, 4200, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return path;
}

START_TEST(test_grid)
{
    char *dir = upf_test_tmpdir();
    char *path = write_tmp(dir, "g.yaml",
                           HEAD "  neighbors: [10, 20, 30]\n  similarity: [cosine, \"conditional\"]\n"
                                "eval:\n  k: [[5, 10], [20]]\n  metrics: [ndcg, recall]\n");
    upf_cfg_grid g;
    upf_err err;
    ck_assert_msg(upf_config_grid(path, NULL, 0, &g, &err) == UPF_OK, "%s", err.msg);
    ck_assert_uint_eq(g.n_axes, 3);
    ck_assert_uint_eq(g.n_points, 12);
    ck_assert_str_eq(g.axis_paths[0], "model.neighbors");
    ck_assert_str_eq(g.axis_paths[1], "model.similarity");
    ck_assert_str_eq(g.axis_paths[2], "eval.k");
    /* the first axis varies slowest */
    ck_assert_str_eq(g.point_sets[0][0], "model.neighbors=10");
    ck_assert_str_eq(g.point_sets[0][1], "model.similarity=cosine");
    ck_assert_str_eq(g.point_sets[0][2], "eval.k=[5, 10]");
    ck_assert_str_eq(g.point_sets[1][2], "eval.k=[20]");
    ck_assert_str_eq(g.point_sets[2][1], "model.similarity=\"conditional\"");
    ck_assert_str_eq(g.point_sets[11][0], "model.neighbors=30");
    ck_assert_str_eq(g.point_labels[5], "neighbors=20 similarity=cosine k=[20]");
    /* each point loads as a plain config */
    for (size_t p = 0; p < g.n_points; p++) {
        upf_cfg_loaded *c = NULL;
        ck_assert_msg(upf_config_load(path, NULL, (const char *const *)g.point_sets[p], g.n_axes, &c, &err) == UPF_OK,
                      "point %zu: %s", p, err.msg);
        upf_config_free(c);
    }
    upf_cfg_grid_free(&g);
    /* overrides add axes and pin others */
    const char *ov[] = { "model.neighbors=50", "model.alpha=[0.1, 0.9]", "model.family=[cooccur]" };
    ck_assert_msg(upf_config_grid(path, ov, 3, &g, &err) == UPF_OK, "%s", err.msg);
    ck_assert_uint_eq(g.n_axes, 4);
    ck_assert_uint_eq(g.n_points, 8);
    ck_assert_str_eq(g.axis_paths[0], "model.family");
    upf_cfg_grid_free(&g);
    /* no list: one point, no axes */
    char *plain = write_tmp(dir, "p.yaml", HEAD);
    ck_assert_int_eq(upf_config_grid(plain, NULL, 0, &g, &err), UPF_OK);
    ck_assert_uint_eq(g.n_points, 1);
    ck_assert_uint_eq(g.n_axes, 0);
    ck_assert_str_eq(g.point_labels[0], "");
    upf_cfg_grid_free(&g);
    /* an empty axis is an error with its position */
    char *bad = write_tmp(dir, "b.yaml", HEAD "  neighbors: []\n");
    ck_assert_int_eq(upf_config_grid(bad, NULL, 0, &g, &err), UPF_ERR_CONFIG);
    ck_assert_msg(strstr(err.msg, "b.yaml:5:14: model.neighbors: expected a non-empty list") != NULL, "%s", err.msg);
    free(path);
    free(plain);
    free(bad);
    upf_test_rmdir(dir);
}
END_TEST

/* ---- configs/README.md documents every key of every table ---- */

typedef struct doc_row {
    char key[128], type[64], range[256], def[128];
    int seen;
} doc_row;

/* Cell i (0-based) of a markdown table row, trimmed, backticks removed. */
static void cell(const char *line, int i, char *out, size_t n)
{
    const char *p = line;
    for (int k = 0; k <= i; k++) {
        p = strchr(p, '|');
        if (!p) {
            out[0] = '\0';
            return;
        }
        p++;
    }
    const char *e = strchr(p, '|');
    if (!e) e = p + strlen(p);
    while (p < e && *p == ' ') p++;
    while (e > p && e[-1] == ' ') e--;
    if (e - p >= 2 && *p == '`' && e[-1] == '`') p++, e--;
    snprintf(out, n, "%.*s", (int)(e - p), p);
}

static void check_table(const char *table_name, const upf_cfg_key *keys, doc_row *rows, size_t n_rows)
{
    for (const upf_cfg_key *k = keys; k && k->path; k++) {
        doc_row *r = NULL;
        for (size_t i = 0; i < n_rows; i++)
            if (strcmp(rows[i].key, k->path) == 0) r = &rows[i];
        ck_assert_msg(r != NULL, "configs/README.md, %s: key %s is not documented", table_name, k->path);
        r->seen = 1;
        ck_assert_msg(strcmp(r->type, upf_cfg_type_name(k->type)) == 0, "configs/README.md, %s: %s: type %s, table says %s",
                      table_name, k->path, r->type, upf_cfg_type_name(k->type));
        char range[256];
        upf_cfg_key_range(k, range, sizeof range);
        if (k->choices) {
            size_t off = 0;
            for (size_t i = 0; k->choices[i]; i++)
                off += (size_t)snprintf(range + off, sizeof range - off, "%s%s", i ? ", " : "", k->choices[i]);
        }
        ck_assert_msg(strcmp(r->range, range[0] ? range : "-") == 0, "configs/README.md, %s: %s: range '%s', table says '%s'",
                      table_name, k->path, r->range, range[0] ? range : "-");
        const char *def = k->def ? (k->def[0] ? k->def : "\"\"") : "required";
        ck_assert_msg(strcmp(r->def, def) == 0, "configs/README.md, %s: %s: default '%s', table says '%s'", table_name,
                      k->path, r->def, def);
        ck_assert_msg(strchr(k->doc, '|') == NULL, "%s: a '|' in the doc breaks the markdown table", k->path);
    }
    for (size_t i = 0; i < n_rows; i++)
        ck_assert_msg(rows[i].seen, "configs/README.md, %s: documents %s, which no longer exists", table_name,
                      rows[i].key);
}

START_TEST(test_readme_agrees_with_tables)
{
    FILE *f = fopen("configs/README.md", "rb");
    ck_assert_msg(f != NULL, "configs/README.md is missing (tests run from the project root)");
    char line[2048];
    char section[128] = "";
    doc_row *rows = calloc(512, sizeof *rows);
    size_t n_rows = 0, tables_checked = 0;
    int in_keys = 0;
    const upf_cfg_key *cur = NULL;
    for (;;) {
        char *got = fgets(line, sizeof line, f);
        int heading = got && strncmp(line, "### ", 4) == 0;
        if ((!got || heading) && in_keys) {
            check_table(section, cur, rows, n_rows);
            tables_checked++;
            in_keys = 0;
        }
        if (!got) break;
        if (heading) {
            line[strcspn(line, "\r\n")] = '\0';
            snprintf(section, sizeof section, "%s", line + 4);
            n_rows = 0;
            memset(rows, 0, 512 * sizeof *rows);
            cur = NULL;
            if (strcmp(section, "Common keys") == 0) cur = upf_config_keys, in_keys = 1;
            else if (strncmp(section, "model.family: ", 14) == 0) {
                const upf_family *fam = upf_family_find(section + 14);
                ck_assert_msg(fam != NULL, "configs/README.md documents family %s, which does not exist", section + 14);
                cur = fam->keys;
                in_keys = 1;
            }
            continue;
        }
        if (in_keys && strncmp(line, "| `", 3) == 0 && n_rows < 512) {
            doc_row *r = &rows[n_rows++];
            cell(line, 0, r->key, sizeof r->key);
            cell(line, 1, r->type, sizeof r->type);
            cell(line, 2, r->range, sizeof r->range);
            cell(line, 3, r->def, sizeof r->def);
        }
    }
    fclose(f);
    free(rows);
    /* the common table and every family's */
    size_t n_fam = 0;
    while (upf_families[n_fam]) n_fam++;
    ck_assert_uint_eq(tables_checked, n_fam + 1);
}
END_TEST

/* ---- every example config loads, and says how its data is made ---- */

START_TEST(test_example_configs)
{
    DIR *d = opendir("configs");
    ck_assert_msg(d != NULL, "no configs/ folder (tests run from the project root)");
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".yaml") != 0) continue;
        char path[512];
        snprintf(path, sizeof path, "configs/%s", e->d_name);
        upf_cfg_loaded *c = NULL;
        upf_err err;
        ck_assert_msg(upf_config_load(path, NULL, NULL, 0, &c, &err) == UPF_OK, "%s", err.msg);
        const upf_config *cfg = upf_config_common(c);
        if (cfg->data_source == 0) {
            /* "# upfunnel data import --preset NAME ../shared/data/... -o <data.path>" in the top comment */
            FILE *f = fopen(path, "rb");
            char line[1024], want[600];
            int found = 0;
            snprintf(want, sizeof want, " -o %s\n", cfg->data_path);
            while (fgets(line, sizeof line, f) && line[0] == '#')
                if (strncmp(line, "# upfunnel data import --preset ", 32) == 0 && strstr(line, " ../shared/data/") &&
                    strstr(line, want))
                    found = 1;
            fclose(f);
            ck_assert_msg(found, "%s: no '# upfunnel data import --preset NAME ../shared/data/... -o %s' at the top",
                          path, cfg->data_path);
        }
        upf_config_free(c);
        n++;
    }
    closedir(d);
    ck_assert_uint_ge(n, 6);
}
END_TEST

/* ---- the tables themselves ---- */

START_TEST(test_tables_consistent)
{
    for (size_t f = 0; upf_families[f]; f++) {
        const upf_family *fam = upf_families[f];
        ck_assert_ptr_eq(upf_family_find(fam->name), fam);
        for (const upf_cfg_key *k = fam->keys; k && k->path; k++) {
            /* no family key shadows a common key or another section's name */
            ck_assert_msg(!upf_config_keys[0].path || strcmp(k->path, "model.family") != 0, "%s", k->path);
            for (const upf_cfg_key *c = upf_config_keys; c->path; c++)
                ck_assert_msg(strcmp(c->path, k->path) != 0, "family %s redefines common key %s", fam->name, k->path);
            int known_section = 0;
            for (size_t s = 0; upf_config_sections[s]; s++)
                known_section |= strncmp(k->path, upf_config_sections[s], strlen(upf_config_sections[s])) == 0 &&
                                 k->path[strlen(upf_config_sections[s])] == '.';
            ck_assert_msg(known_section, "family %s: key %s is outside the sections", fam->name, k->path);
            ck_assert_msg(k->doc && *k->doc, "%s: no doc", k->path);
            ck_assert_msg(k->offset < fam->params_size, "%s: offset outside the params", k->path);
        }
    }
    for (const upf_cfg_key *c = upf_config_keys; c->path; c++) ck_assert_msg(c->doc && *c->doc, "%s: no doc", c->path);
    char r[64];
    upf_cfg_key k = { "x", UPF_CFG_DOUBLE, 0, 0, 1, "0", NULL, "x", UPF_CFG_MIN_EXCL };
    upf_cfg_key_range(&k, r, sizeof r);
    ck_assert_str_eq(r, "(0, 1]");
    k.min = -INFINITY;
    k.flags = UPF_CFG_MAX_EXCL;
    upf_cfg_key_range(&k, r, sizeof r);
    ck_assert_str_eq(r, "< 1");
    k.min = 0;
    k.max = 0;
    upf_cfg_key_range(&k, r, sizeof r);
    ck_assert_str_eq(r, "");
}
END_TEST

Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *t = tcase_create("errors");
    tcase_add_loop_test(t, test_error_classes, 0, (int)(sizeof err_cases / sizeof err_cases[0]));
    tcase_add_test(t, test_io_error);
    suite_add_tcase(s, t);
    t = tcase_create("load");
    tcase_add_test(t, test_defaults);
    tcase_add_test(t, test_values_and_overrides);
    tcase_add_test(t, test_resolved_round_trip);
    tcase_add_test(t, test_family_check);
    tcase_add_test(t, test_alloc_failures);
    tcase_set_timeout(t, 60);
    suite_add_tcase(s, t);
    t = tcase_create("grid");
    tcase_add_test(t, test_grid);
    suite_add_tcase(s, t);
    t = tcase_create("docs");
    tcase_add_test(t, test_readme_agrees_with_tables);
    tcase_add_test(t, test_tables_consistent);
    tcase_add_test(t, test_example_configs);
    suite_add_tcase(s, t);
    return s;
}
