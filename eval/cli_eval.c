/* cli_eval.c - `upfunnel eval`: scores a TREC run file against qrels with the
 * ranking metrics of eval/metrics.h and prints a table or JSON.
 * Parsing and scoring live in eval/trec.c; this file only reads options and
 * prints. Entry point: upf_cmd_eval. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../model/json.h"
#include "../train/cli.h"
#include "../train/commands.h"
#include "metrics.h"
#include "trec.h"

#define DEFAULT_METRICS "ndcg@10,recall@10,precision@10,map,mrr"

static void eval_help(void)
{
    fputs("usage: upfunnel eval --qrels QRELS --run RUN [options]\n"
          "\n"
          "Scores any system's ranking, given as a TREC run file, against TREC\n"
          "relevance judgments with the same metric code upfunnel uses for its own\n"
          "models (definitions: eval/README.md).\n"
          "\n"
          "  QRELS  one judgment per line: query iteration doc relevance\n"
          "         (relevance > 0 is relevant and is the grade; <= 0 judged non-relevant)\n"
          "  RUN    one ranked document per line: query Q0 doc rank score tag\n"
          "         (documents are ranked by score, descending; ties by document id in\n"
          "         byte order, ascending; the rank column is ignored)\n"
          "\n"
          "options:\n"
          "  --qrels FILE         judgments (required)\n"
          "  --run FILE           the ranking to judge (required)\n"
          "  --metrics LIST       comma-separated names (default " DEFAULT_METRICS ");\n"
          "                       ndcg@k, ndcg, recall@k, recall_capped@k, precision@k,\n"
          "                       map@k, map, map_cut@k, mrr, mrr@k, hit_rate@k, auc\n"
          "  --gain exp|linear    NDCG gain: 2^rel - 1 (default exp) or rel\n"
          "  --discount log2|trec NDCG discount: 1/log2(r+1) (default log2), or trec_eval's\n"
          "                       1 at rank 1 and 1/log2(r) after\n"
          "  --ties asc|desc      tie order by document id (default asc; trec_eval: desc)\n"
          "  --empty skip|zero|one  judged queries without a relevant document: left out\n"
          "                       (default skip), or scored 0 or 1 on every metric\n"
          "  --complete           judged queries absent from the run count with an empty\n"
          "                       ranking (trec_eval -c); by default they are left out\n"
          "  --compat trec_eval   linear gain, trec discount, ties desc, empty zero:\n"
          "                       the figures trec_eval prints (ndcg_cut_k, map, P_k, ...)\n"
          "  --json               print JSON: metric names as keys, counts, options\n"
          "  --per-query          also print each query's values\n"
          "  -h, --help           this text\n"
          "\n"
          "Queries in the run without any judgment are left out and counted, as\n"
          "trec_eval does. Means are over the queries that have a value.\n"
          "\n"
          "examples:\n"
          "  upfunnel eval --qrels qrels.txt --run bm25.run --metrics ndcg@10,map\n"
          "  upfunnel eval --qrels qrels.txt --run bm25.run --gain linear --json\n"
          "  upfunnel eval --qrels qrels.txt --run bm25.run --compat trec_eval --metrics ndcg@10\n"
          "\n"
          "exit status: 0 success, 1 a file cannot be read or is malformed (the error\n"
          "names file:line), 2 usage error.\n",
          stdout);
}

static void print_table(const upf_trec_result *r, const upf_trec_params *p, int per_query)
{
    size_t w = 6;
    for (size_t m = 0; m < r->n_metrics; m++) w = strlen(r->names[m]) > w ? strlen(r->names[m]) : w;
    if (per_query)
        for (size_t q = 0; q < r->n_queries; q++)
            for (size_t m = 0; m < r->n_metrics; m++) {
                double v = r->per_query[q * r->n_metrics + m];
                if (isnan(v)) printf("%-*s\t%s\t-\n", (int)w, r->names[m], r->query[q]);
                else printf("%-*s\t%s\t%.6f\n", (int)w, r->names[m], r->query[q], v);
            }
    printf("%-*s  %10s  %s\n", (int)w, "metric", "value", "queries");
    for (size_t m = 0; m < r->n_metrics; m++) {
        if (isnan(r->values[m])) printf("%-*s  %10s  %zu\n", (int)w, r->names[m], "-", r->n_values[m]);
        else printf("%-*s  %10.6f  %zu\n", (int)w, r->names[m], r->values[m], r->n_values[m]);
    }
    printf("\nqueries: %zu evaluated; %zu judged without a relevant document (%s); "
           "%zu in the run without judgments (left out); %zu judged but not in the run (%s)\n",
           r->n_evaluated, r->n_empty,
           p->empty == UPF_EMPTY_SKIP ? "left out" : (p->empty == UPF_EMPTY_ZERO ? "scored 0" : "scored 1"),
           r->n_unjudged, r->n_missing_run, p->complete ? "scored as empty rankings" : "left out");
    printf("gain %s, discount %s, ties by document id %s\n", upf_gain_name(p->gain), upf_discount_name(p->discount),
           p->ties_desc ? "descending" : "ascending");
}

static void print_json(const upf_trec_result *r, const upf_trec_params *p, int per_query, const char *qrels,
                       const char *run)
{
    upf_json_writer w;
    upf_jw_init(&w, stdout, 1);
    upf_jw_object(&w, NULL);
    for (size_t m = 0; m < r->n_metrics; m++) upf_jw_num(&w, r->names[m], r->values[m]);
    upf_jw_object(&w, "counts");
    upf_jw_int(&w, "evaluated", (int64_t)r->n_evaluated);
    upf_jw_int(&w, "empty", (int64_t)r->n_empty);
    upf_jw_int(&w, "unjudged", (int64_t)r->n_unjudged);
    upf_jw_int(&w, "missing_run", (int64_t)r->n_missing_run);
    upf_jw_int(&w, "in_means", (int64_t)r->n_queries);
    upf_jw_end(&w);
    upf_jw_object(&w, "options");
    upf_jw_str(&w, "qrels", qrels);
    upf_jw_str(&w, "run", run);
    upf_jw_str(&w, "gain", upf_gain_name(p->gain));
    upf_jw_str(&w, "discount", upf_discount_name(p->discount));
    upf_jw_str(&w, "ties", p->ties_desc ? "desc" : "asc");
    upf_jw_str(&w, "empty", upf_empty_name(p->empty));
    upf_jw_bool(&w, "complete", p->complete);
    upf_jw_end(&w);
    if (per_query) {
        upf_jw_object(&w, "per_query");
        for (size_t q = 0; q < r->n_queries; q++) {
            upf_jw_object(&w, r->query[q]);
            for (size_t m = 0; m < r->n_metrics; m++) upf_jw_num(&w, r->names[m], r->per_query[q * r->n_metrics + m]);
            upf_jw_end(&w);
        }
        upf_jw_end(&w);
    }
    upf_jw_end(&w);
    upf_jw_finish(&w);
}

int upf_cmd_eval(int argc, char **argv)
{
    const char *cmd = "eval", *qrels_path = NULL, *run_path = NULL, *metrics = DEFAULT_METRICS, *v = NULL;
    int json = 0, per_query = 0, rc = UPF_EXIT_OK;
    upf_trec_params p = upf_trec_params_default();
    upf_metric_spec *specs = NULL;
    size_t n_specs = 0;
    upf_trec_file *qrels = NULL, *run = NULL;
    upf_trec_result res;
    upf_err err;
    memset(&res, 0, sizeof res);
    if (upf_arg_wants_help(argc, argv)) {
        eval_help();
        return UPF_EXIT_OK;
    }
    for (int i = 1; i < argc; i++) {
        int got;
        if ((got = upf_arg_value(argc, argv, &i, cmd, "--qrels", &qrels_path))) {
            if (got < 0) return UPF_EXIT_USAGE;
        } else if ((got = upf_arg_value(argc, argv, &i, cmd, "--run", &run_path))) {
            if (got < 0) return UPF_EXIT_USAGE;
        } else if ((got = upf_arg_value(argc, argv, &i, cmd, "--metrics", &metrics))) {
            if (got < 0) return UPF_EXIT_USAGE;
        } else if ((got = upf_arg_value(argc, argv, &i, cmd, "--gain", &v))) {
            if (got < 0) return UPF_EXIT_USAGE;
            int g = upf_gain_parse(v);
            if (g < 0) return upf_cli_usage_error(cmd, "--gain: expected exp or linear, got \"%s\"", v);
            p.gain = (upf_gain)g;
        } else if ((got = upf_arg_value(argc, argv, &i, cmd, "--discount", &v))) {
            if (got < 0) return UPF_EXIT_USAGE;
            int d = upf_discount_parse(v);
            if (d < 0) return upf_cli_usage_error(cmd, "--discount: expected log2 or trec, got \"%s\"", v);
            p.discount = (upf_discount)d;
        } else if ((got = upf_arg_value(argc, argv, &i, cmd, "--empty", &v))) {
            if (got < 0) return UPF_EXIT_USAGE;
            int e = upf_empty_parse(v);
            if (e < 0) return upf_cli_usage_error(cmd, "--empty: expected skip, zero or one, got \"%s\"", v);
            p.empty = (upf_empty_policy)e;
        } else if ((got = upf_arg_value(argc, argv, &i, cmd, "--ties", &v))) {
            if (got < 0) return UPF_EXIT_USAGE;
            if (strcmp(v, "asc") && strcmp(v, "desc"))
                return upf_cli_usage_error(cmd, "--ties: expected asc or desc, got \"%s\"", v);
            p.ties_desc = strcmp(v, "desc") == 0;
        } else if ((got = upf_arg_value(argc, argv, &i, cmd, "--compat", &v))) {
            if (got < 0) return UPF_EXIT_USAGE;
            if (strcmp(v, "trec_eval")) return upf_cli_usage_error(cmd, "--compat: expected trec_eval, got \"%s\"", v);
            p.gain = UPF_GAIN_LINEAR;
            p.discount = UPF_DISCOUNT_TREC;
            p.ties_desc = 1;
            p.empty = UPF_EMPTY_ZERO;
        } else if (upf_arg_is(argv, i, "--complete")) {
            p.complete = 1;
        } else if (upf_arg_is(argv, i, "--json")) {
            json = 1;
        } else if (upf_arg_is(argv, i, "--per-query")) {
            per_query = 1;
        } else {
            return upf_cli_usage_error(cmd, "unexpected argument \"%s\"", argv[i]);
        }
    }
    if (!qrels_path || !run_path) return upf_cli_usage_error(cmd, "--qrels and --run are both required");
    if (upf_metric_specs_parse(metrics, &specs, &n_specs, &err) != UPF_OK)
        return upf_cli_usage_error(cmd, "--metrics: %s", err.msg);
    for (size_t m = 0; m < n_specs; m++)
        if (!upf_metric_is_relevance(specs[m].kind)) {
            rc = upf_cli_usage_error(cmd, "--metrics: %s needs a catalogue; TREC files have none (runs report it)",
                                     upf_metric_kind_name(specs[m].kind));
            upf_free(specs);
            return rc;
        }
    p.metrics = specs;
    p.n_metrics = n_specs;
    if (upf_trec_qrels_read(qrels_path, &qrels, &err) != UPF_OK || upf_trec_run_read(run_path, &run, &err) != UPF_OK ||
        upf_trec_evaluate(qrels, run, &p, &res, &err) != UPF_OK) {
        rc = upf_cli_fail(&err);
        goto done;
    }
    if (json) print_json(&res, &p, per_query, qrels_path, run_path);
    else print_table(&res, &p, per_query);
    if (fflush(stdout) != 0) {
        upf_cli_error("stdout: write failed");
        rc = UPF_EXIT_FAIL;
    }
done:
    upf_trec_result_free(&res);
    upf_trec_free(qrels);
    upf_trec_free(run);
    upf_free(specs);
    return rc;
}
