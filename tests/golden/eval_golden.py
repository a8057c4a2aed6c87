#!/usr/bin/python3
"""Golden figures for tests/test_trec.c (upfunnel eval, issue 6), computed by
implementations independent of upfunnel's C code:

  A, B  scikit-learn's ndcg_score (binary relevance, then graded relevance;
        scores without ties, so sklearn's tie averaging does not come in).
        sklearn's gain is the relevance itself and its discount 1/log2(r+1):
        binary A matches upfunnel's default exp gain, graded B its linear gain.
  C     trec_eval 9.x's ndcg_cut, map, P, recall and recip_rank (graded qrels,
        tied scores, queries without a relevant document, ids whose byte order
        is not numeric order). trec_eval has no Debian package here, so the
        functions below re-implement its C loops (m_ndcg_cut.c, m_map.c,
        m_P.c, m_recall.c, m_recip_rank.c, form_res_rels.c ordering: score
        descending, ties by docno descending; queries with no relevant
        document are averaged in with 0).

  D     scipy.stats.ttest_rel (paired t-test), scipy.special.betainc, and the
        exact sign-flip randomization p (all 2^12 flips enumerated) for the
        paired statistics of `upfunnel compare` (tests/test_compare.c).

Prints the data as C initializers and the expected values; paste both into
tests/test_trec.c. Run: /usr/bin/python3 tests/golden/eval_golden.py
"""
import math
import random

import itertools

import numpy as np
from scipy import special, stats
from sklearn.metrics import ndcg_score

MAGIC = "upfunnel-eval-golden v1"
N_Q, N_D = 8, 10


def case_ab(rnd, graded):
    y_true, y_score = [], []
    for q in range(N_Q):
        while True:
            t = [rnd.choice([0, 0, 1, 2, 3]) if graded else rnd.choice([0, 0, 1]) for _ in range(N_D)]
            if any(t):
                break
        s = rnd.sample(range(1000), N_D)  # distinct integers: no ties
        y_true.append(t)
        y_score.append([v / 1000 for v in s])
    exp = {k: float(ndcg_score(np.array(y_true), np.array(y_score), k=k)) for k in (3, 5, 10)}
    return y_true, y_score, exp


def trec_order(run):
    # form_res_rels.c comp_sim_docno: sim descending, then strcmp(p2, p1)
    return sorted(run, key=lambda d: (-run[d], [-b for b in d.encode()] + [1]))


def trec_ndcg_cut(ranked, rel, k):
    dcg = 0.0
    for i, d in enumerate(ranked[:k]):
        g = rel.get(d, 0)
        if g > 0:
            dcg += g if i == 0 else g / math.log2(i + 1)
    ideal = sorted((g for g in rel.values() if g > 0), reverse=True)[:k]
    idcg = sum(g if i == 0 else g / math.log2(i + 1) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def trec_map(ranked, rel):
    n_rel = sum(1 for g in rel.values() if g > 0)
    s, h = 0.0, 0
    for i, d in enumerate(ranked):
        if rel.get(d, 0) > 0:
            h += 1
            s += h / (i + 1)
    return s / n_rel if n_rel else 0.0


def trec_p(ranked, rel, k):
    return sum(1 for d in ranked[:k] if rel.get(d, 0) > 0) / k


def trec_recall(ranked, rel, k):
    n_rel = sum(1 for g in rel.values() if g > 0)
    return sum(1 for d in ranked[:k] if rel.get(d, 0) > 0) / n_rel if n_rel else 0.0


def trec_rr(ranked, rel):
    for i, d in enumerate(ranked):
        if rel.get(d, 0) > 0:
            return 1 / (i + 1)
    return 0.0


def case_c(rnd):
    qrels, runs = {}, {}
    for q in range(N_Q):
        docs = [f"d{n}" for n in rnd.sample(range(1, 40), N_D)]
        rel = {}
        for d in rnd.sample(docs, 7):
            rel[d] = 0 if q % 4 == 3 else rnd.choice([0, 1, 1, 2, 3])
        rel[f"x{q}"] = 0 if q % 4 == 3 else 2  # judged, never retrieved
        runs[f"q{q}"] = {d: rnd.choice([0.5, 1.0, 1.5, 2.0]) for d in docs}  # many ties
        qrels[f"q{q}"] = rel
    exp = {}
    for name, fn in (("ndcg_cut_5", lambda r, j: trec_ndcg_cut(r, j, 5)),
                     ("ndcg_cut_10", lambda r, j: trec_ndcg_cut(r, j, 10)),
                     ("map", trec_map), ("P_5", lambda r, j: trec_p(r, j, 5)),
                     ("recall_5", lambda r, j: trec_recall(r, j, 5)), ("recip_rank", trec_rr)):
        vals = [fn(trec_order(runs[q]), qrels[q]) for q in qrels]
        exp[name] = sum(vals) / len(vals)
    return qrels, runs, exp


def c_list(xs, fmt):
    return "{ " + ", ".join(fmt(x) for x in xs) + " }"


def main():
    rnd = random.Random(20261123)
    print(f"/* {MAGIC}: output of tests/golden/eval_golden.py */")
    for label, graded in (("a", False), ("b", True)):
        t, s, exp = case_ab(rnd, graded)
        print(f"static const int golden_{label}_rel[{N_Q}][{N_D}] = {{")
        for row in t:
            print("    " + c_list(row, str) + ",")
        print("};")
        print(f"static const double golden_{label}_score[{N_Q}][{N_D}] = {{")
        for row in s:
            print("    " + c_list(row, lambda v: f"{v:.3f}") + ",")
        print("};")
        for k, v in exp.items():
            print(f"#define GOLDEN_{label.upper()}_NDCG{k} {v!r} /* sklearn ndcg_score(k={k}) */")
    qrels, runs, exp = case_c(rnd)
    print("static const char golden_c_qrels[] =")
    for q, rel in qrels.items():
        print('    "' + "".join(f"{q} 0 {d} {g}\\n" for d, g in rel.items()) + '"')
    print("    ;")
    print("static const char golden_c_run[] =")
    for q, run in runs.items():
        print('    "' + "".join(f"{q} Q0 {d} 0 {s} golden\\n" for d, s in run.items()) + '"')
    print("    ;")
    for k, v in exp.items():
        print(f"#define GOLDEN_C_{k.upper()} {v!r} /* trec_eval {k} (re-implemented) */")
    case_d(rnd)


def case_d(rnd):
    a = [round(rnd.random(), 3) for _ in range(12)]
    b = [round(x + rnd.gauss(0.05, 0.1), 3) for x in a]
    t = stats.ttest_rel(b, a)
    d = [y - x for x, y in zip(a, b)]
    obs = abs(sum(d) / len(d))
    hits = sum(1 for signs in itertools.product((1, -1), repeat=len(d))
               if abs(sum(s * x for s, x in zip(signs, d)) / len(d)) >= obs - 1e-12)
    print("/* case d (tests/test_compare.c) */")
    print("static const double golden_d_a[12] = " + c_list(a, repr) + ";")
    print("static const double golden_d_b[12] = " + c_list(b, repr) + ";")
    print(f"#define GOLDEN_D_T {float(t.statistic)!r} /* scipy.stats.ttest_rel(b, a).statistic */")
    print(f"#define GOLDEN_D_P {float(t.pvalue)!r} /* ... .pvalue (two-sided) */")
    print(f"#define GOLDEN_D_P_EXACT_FLIP {hits / 2 ** len(d)!r} /* exact sign-flip p over 2^12 flips */")
    for (x, y, z) in ((0.5, 0.5, 0.3), (2.0, 3.0, 0.7), (10.0, 0.5, 0.9), (0.3, 40.0, 0.01)):
        print(f"/* betainc({x}, {y}, {z}) = {float(special.betainc(x, y, z))!r} (scipy.special) */")
    print(f"#define GOLDEN_D_T_SF {float(2 * stats.t.sf(2.5, 7))!r} /* 2 * scipy.stats.t.sf(2.5, df=7) */")


if __name__ == "__main__":
    main()
