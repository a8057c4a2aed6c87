#!/usr/bin/env python3
"""Prints the synthetic shop's planted lifetime parameters beside upfunnel's
estimates (markdown tables), for the report of `make bench BENCH=lifetime`.

  lifetime_recovery.py aft   TRUTH.json RUN_DIR   # configs/synth_aft.yaml run
  lifetime_recovery.py bgnbd TRUTH.json RUN_DIR   # configs/synth_bgnbd.yaml run

AFT: the model's coefficient of a level (beta / scale, per raw unit) estimates
truth(level) - truth(reference level), the reference being the level of each
field that has no column (the most common). Its sigma is the Weibull 1/shape
widened by the log-normal frailty: sqrt(1/k^2 + 6 sd^2 / pi^2).
Standard library only.
"""
import csv
import json
import math
import sys


def aft(truth, run):
    t = truth["users"]["interval"]
    rows = list(csv.DictReader(open(f"{run}/coefficients.csv")))
    levels = {f: set(t[f]) for f in ("region", "age_band", "channel")}
    have = {f: set() for f in levels}
    for r in rows:
        name = r["feature"]
        if name.startswith("user_") and "=" in name:
            f, lv = name[5:].split("=", 1)
            have[f].add(lv)
    ref = {f: (levels[f] - have[f]).pop() for f in levels}
    print(f"| coefficient (vs reference) | planted | estimate |\n|---|---|---|")
    worst = 0.0
    for r in rows:
        name = r["feature"]
        if not (name.startswith("user_") and "=" in name):
            continue
        f, lv = name[5:].split("=", 1)
        want = t[f][lv] - t[f][ref[f]]
        got = float(r["beta"]) / float(r["scale"])
        worst = max(worst, abs(got - want))
        print(f"| {f}={lv} (vs {ref[f]}) | {want:+.3f} | {got:+.3f} |")
    sigma = math.exp(float(next(r for r in rows if r["feature"] == "(log_sigma)")["beta"]))
    k, sd = t["shape"], t["frailty_sd"]
    planted = math.sqrt(1 / k ** 2 + 6 * sd ** 2 / math.pi ** 2)
    print(f"| sigma (1/shape, with frailty) | {planted:.4f} (shape {k}, frailty sd {sd}) | {sigma:.4f} |")
    print(f"\nlargest coefficient error: {worst:.3f}")


def bgnbd(truth, run):
    p = truth["params"]
    m = json.load(open(f"{run}/metrics.json"))
    se = m.get("standard_errors", {})
    a, b = p["dropout_a"], p["dropout_b"]
    print("| parameter | planted | estimate (standard error) |\n|---|---|---|")
    for key, want in (("r", p["bgnbd_r"]), ("alpha", p["bgnbd_alpha"]), ("a", a), ("b", b)):
        print(f"| {key} | {want:g} | {m[key]:.4f} ({se.get(key, float('nan')):.4f}) |")
    print(f"| mean dropout a/(a+b) | {a / (a + b):.4f} | {m['a'] / (m['a'] + m['b']):.4f} |")


if __name__ == "__main__":
    which, truth, run = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3]
    (aft if which == "aft" else bgnbd)(truth, run)
