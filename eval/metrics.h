/* metrics.h - the ranking metric contract: names, definitions, and the plain
 * per-list functions every evaluator in upfunnel shares (the catalogue
 * evaluator in rank_eval.h and `upfunnel eval` on TREC files).
 *
 * Not here: scoring, sorting, threads (rank_eval.c), file formats (cli_*.c).
 * Entry points: upf_metric_spec_parse / upf_metric_specs_grid (names),
 * upf_ndcg_at_k ... upf_auc_ranked (dense reference definitions over a ranked
 * list), upf_hits_metric (the same definitions over sparse ranks, the fast
 * path), upf_item_pop_build (popularity for long-tail share and novelty).
 *
 * ---- Definitions (user u, ranked list L_u, cut-off k; rank r is 1-based) ----
 * A ranked list holds the candidates of one user ordered by score descending,
 * ties broken by item index ascending (TREC: document id in byte order).
 * rel(r) is the grade of the item at rank r; an item is relevant when its
 * grade is > 0. R_u is the set of the user's relevant items (all of them, also
 * those the list does not reach: the recall/AP/IDCG denominators), |R_u| > 0;
 * a user with |R_u| = 0 is "empty" and the empty policy decides (skip, or 0,
 * or 1 for every relevance metric). k = 0 means "no cut-off": the whole list.
 *
 *  ndcg@k       DCG@k / IDCG@k. DCG@k = sum_{r<=k} gain(rel(r)) * disc(r);
 *               gain exp: 2^rel - 1 (Burges et al. 2005, the default; binary
 *               relevance gives 1), linear: rel (Jarvelin & Kekalainen 2002;
 *               trec_eval, sklearn ndcg_score). disc log2: 1 / log2(r + 1)
 *               (the default; sklearn, RecBole, the "Microsoft" variant);
 *               disc trec: 1 for r = 1, 1 / log2(r) for r >= 2 (trec_eval's
 *               ndcg and ndcg_cut: Jarvelin & Kekalainen with b = 2).
 *               IDCG@k: the same sum over R_u's grades sorted descending, cut
 *               at k. Grades <= 0 give gain 0.
 *  recall@k     |{r <= k : rel(r) > 0}| / |R_u|  (trec_eval recall_k, RecBole,
 *               LightFM recall_at_k).
 *  recall_capped@k  the same hits / min(k, |R_u|), so a perfect list scores 1
 *               (implicit's ranking_metrics_at_k calls this "precision").
 *  precision@k  hits@k / k, dividing by k even when the list is shorter than k
 *               (trec_eval P_k, LightFM, RecBole).
 *  map@k        AP@k = sum_{r <= k, rel(r) > 0} P@r / min(k, |R_u|) (RecBole,
 *               recommenders' map_at_k; a perfect list scores 1). "map" (no k)
 *               divides by |R_u|: exactly trec_eval's map.
 *  map_cut@k    the same sum / |R_u| (trec_eval map_cut_k).
 *  mrr, mrr@k   1 / rank of the first relevant item; 0 when there is none
 *               (within k) (trec_eval recip_rank for "mrr").
 *  hit_rate@k   1 when some relevant item is within k, else 0 (trec_eval
 *               success_k).
 *  auc          per user, the share of (relevant, non-relevant) candidate
 *               pairs ordered correctly; pairs tied in score count 1/2
 *               (Mann-Whitney U / (|R| |N|)). Relevant items the list does not
 *               reach (TREC) count as below every non-relevant item in it.
 *               Undefined (left out of the mean) when the user has no
 *               non-relevant candidate.
 *  coverage@k   |union over evaluated users of top-k items| / catalogue size.
 *  long_tail@k  share of a user's top-k items outside the head. The head:
 *               items sorted by training interactions descending (ties by
 *               index), the shortest prefix whose interactions reach
 *               head_share (0.8) of all training interactions; the item that
 *               crosses the line belongs to the head.
 *  novelty@k    mean self-information -log2(p_i) of a user's top-k items,
 *               p_i = max(c_i, 1) / C: c_i the item's training interactions,
 *               C their total (an item never seen in training counts as 1).
 *               (Zhou et al. 2010, PNAS 107(10), with interaction shares.)
 * Means are over users with a defined value (relevance metrics: users with
 * |R_u| > 0, plus the empty ones under `empty: zero|one`).
 */
#ifndef UPF_METRICS_H
#define UPF_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "../datasets/interactions.h"
#include "../model/base.h"

/* Serialized by name only ("ndcg@10"), never by number. */
typedef enum upf_metric_kind {
    UPF_METRIC_NONE = 0,
    UPF_METRIC_NDCG,
    UPF_METRIC_RECALL,
    UPF_METRIC_RECALL_CAPPED,
    UPF_METRIC_PRECISION,
    UPF_METRIC_MAP,
    UPF_METRIC_MAP_CUT,
    UPF_METRIC_MRR,
    UPF_METRIC_HIT_RATE,
    UPF_METRIC_AUC,
    UPF_METRIC_COVERAGE,
    UPF_METRIC_LONG_TAIL,
    UPF_METRIC_NOVELTY,
    UPF_METRIC_KIND_COUNT
} upf_metric_kind;

typedef struct upf_metric_spec {
    upf_metric_kind kind;
    uint32_t k; /* cut-off >= 1, or 0: the whole list (ndcg, map, mrr; auc always 0) */
} upf_metric_spec;

#define UPF_METRIC_NAME_MAX 40

typedef enum upf_gain { UPF_GAIN_EXP = 0, UPF_GAIN_LINEAR, UPF_GAIN_COUNT } upf_gain;
typedef enum upf_discount { UPF_DISCOUNT_LOG2 = 0, UPF_DISCOUNT_TREC, UPF_DISCOUNT_COUNT } upf_discount;
typedef enum upf_empty_policy { UPF_EMPTY_SKIP = 0, UPF_EMPTY_ZERO, UPF_EMPTY_ONE, UPF_EMPTY_COUNT } upf_empty_policy;

/* Names: "exp"/"linear", "log2"/"trec", "skip"/"zero"/"one". Parsers return
 * -1 for an unknown name. Static text. */
const char *upf_gain_name(upf_gain g);
const char *upf_discount_name(upf_discount d);
const char *upf_empty_name(upf_empty_policy e);
int upf_gain_parse(const char *s);
int upf_discount_parse(const char *s);
int upf_empty_parse(const char *s);

/* "ndcg", "recall", ...; static text. Aliases accepted by the parser: "hit",
 * "hr", "hits" (hit_rate), "tail" (long_tail), "recall_cap" (recall_capped). */
const char *upf_metric_kind_name(upf_metric_kind k);
upf_metric_kind upf_metric_kind_parse(const char *name); /* NONE when unknown */

/* 1 for per-user relevance metrics (the empty policy applies), 0 otherwise. */
int upf_metric_is_relevance(upf_metric_kind k);
/* 1 for coverage, long_tail, novelty (need a catalogue and item ids). */
int upf_metric_is_catalogue(upf_metric_kind k);
/* 1 when the spec needs the rank of every relevant item (auc, k = 0). */
int upf_metric_needs_full_ranks(upf_metric_spec s);

/* Writes "ndcg@10", "mrr" or "auc" into buf (>= UPF_METRIC_NAME_MAX). */
void upf_metric_spec_name(upf_metric_spec s, char *buf, size_t n);
/* Parses one name ("ndcg@10", "map", "auc"); UPF_ERR_ARG with the reason
 * (unknown metric, missing or forbidden cut-off, cut-off out of 1..1e6). */
upf_status upf_metric_spec_parse(const char *text, upf_metric_spec *out, upf_err *err);
/* Parses a comma-separated list; duplicates are an error. *out (n) is owned
 * (upf_free); on failure *out = NULL, *n = 0. */
upf_status upf_metric_specs_parse(const char *list, upf_metric_spec **out, size_t *n, upf_err *err);
/* The config form: every metric name crossed with every cut-off (names that
 * take no cut-off, like auc, appear once; names that already carry "@k" are
 * taken as they are). Owned output as above. */
upf_status upf_metric_specs_grid(const char *const *names, size_t n_names, const int64_t *ks, size_t n_ks,
                                 upf_metric_spec **out, size_t *n, upf_err *err);

/* gain(grade) (0 for grade <= 0) and disc(rank), rank >= 1. */
double upf_metric_gain(double grade, upf_gain g);
double upf_metric_discount(size_t rank, upf_discount d);

/* ---- dense reference definitions ----
 * rel: (n) the grade of the item at each rank 1..n (<= 0: not relevant).
 * ideal: (n_rel) the grades of all relevant items, descending. n_rel = |R_u|.
 * k = 0: whole list. Each returns NaN when undefined (n_rel = 0; auc without
 * a non-relevant item); the caller applies the empty policy. */
double upf_dcg_at_k(const double *rel, size_t n, size_t k, upf_gain g, upf_discount d);
double upf_ndcg_at_k(const double *rel, size_t n, const double *ideal, size_t n_rel, size_t k, upf_gain g,
                     upf_discount d);
double upf_recall_at_k(const double *rel, size_t n, size_t n_rel, size_t k);
double upf_recall_capped_at_k(const double *rel, size_t n, size_t n_rel, size_t k);
double upf_precision_at_k(const double *rel, size_t n, size_t n_rel, size_t k);
/* capped: 1 divides by min(k, n_rel) (map), 0 by n_rel (map_cut). */
double upf_ap_at_k(const double *rel, size_t n, size_t n_rel, size_t k, int capped);
double upf_rr_at_k(const double *rel, size_t n, size_t n_rel, size_t k);
double upf_hit_at_k(const double *rel, size_t n, size_t n_rel, size_t k);
/* score: (n) the scores in rank order (descending). n_rel_unranked relevant
 * items are not in the list and lose to every non-relevant item in it. */
double upf_auc_ranked(const double *rel, const double *score, size_t n, size_t n_rel_unranked);
/* Any relevance metric except auc by spec (dispatches to the above). */
double upf_dense_metric(const double *rel, size_t n, const double *ideal, size_t n_rel, upf_metric_spec s,
                        upf_gain g, upf_discount d);

/* ---- sparse form (fast path): only where the relevant items landed ---- */
typedef struct upf_rank_hits {
    size_t n;             /* relevant items whose rank is known */
    const size_t *rank;   /* (n) 1-based ranks, strictly ascending */
    const double *grade;  /* (n) their grades (> 0) */
    size_t n_rel;         /* |R_u|: all relevant items */
    const double *ideal;  /* (n_rel) all relevant grades, descending */
} upf_rank_hits;
/* Equals upf_dense_metric on the dense list these hits describe, provided
 * every relevant item ranked within k (within the whole list for k = 0) is
 * among the hits. Not for auc or catalogue metrics. */
double upf_hits_metric(const upf_rank_hits *h, upf_metric_spec s, upf_gain g, upf_discount d);
/* auc from counts: wrong = sum over relevant items of (non-relevant items
 * scoring above) + 1/2 (non-relevant items tied). NaN when a count is 0. */
double upf_auc_from_counts(double wrong, size_t n_rel, size_t n_nonrel);

/* ---- item popularity: long-tail share and novelty ---- */
typedef struct upf_item_pop {
    size_t n_items;
    double total;      /* C: all training interactions */
    size_t n_head;     /* items in the head */
    uint8_t *is_tail;  /* (n_items) 1 outside the head; owned */
    double *info;      /* (n_items) -log2(max(c_i, 1) / C); owned */
} upf_item_pop;

/* From interaction counts (n_items, >= 0, finite) and the head share in (0, 1].
 * UPF_ERR_DATA when the counts sum to 0. On failure *out is zeroed. */
upf_status upf_item_pop_build(const double *count, size_t n_items, double head_share, upf_item_pop *out,
                              upf_err *err);
/* Counts = entries per column of train (each user-item pair counts once). */
upf_status upf_item_pop_from_csr(const upf_csr *train, double head_share, upf_item_pop *out, upf_err *err);
void upf_item_pop_free(upf_item_pop *p); /* accepts a zeroed struct */

/* items: (n) the list in rank order. k = 0: whole list. NaN for an empty list. */
double upf_long_tail_at_k(const int32_t *items, size_t n, size_t k, const upf_item_pop *p);
double upf_novelty_at_k(const int32_t *items, size_t n, size_t k, const upf_item_pop *p);

#endif
