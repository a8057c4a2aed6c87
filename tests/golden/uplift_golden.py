#!/usr/bin/python3
"""Golden figures for tests/test_uplift_metrics.c, computed independently of
upfunnel's C code by re-implementations of two libraries' definitions.

scikit-uplift and causalml are not installable on this machine (no Debian
package, no network for pip), so the functions below re-implement, in numpy
and pandas, the formulas of their published source:

  scikit-uplift 0.5 (sklift/metrics/metrics.py): qini_curve, perfect_qini_curve
    (negative_effect=True), qini_auc_score, uplift_curve, perfect_uplift_curve,
    uplift_auc_score, uplift_at_k (strategy 'overall' and 'by_group'),
    uplift_by_percentile (strategy 'overall', std=True). Areas use trapezoids
    over x = number of users (sklearn.metrics.auc; np.trapz here).
  causalml 0.15 (causalml/metrics/visualize.py): get_qini and qini_score
    (normalize=False: the mean over the n + 1 population points of the Qini
    curve minus the straight random line), get_cumgain and auuc_score
    (normalize=True). pandas' sort, cumsum, the index-0 row of zeros and
    interpolate() of the undefined first points are kept as in causalml.

Case A has tied scores (scikit-uplift groups ties; upfunnel does too).
Case B has distinct scores, a control row with y = 0 first and a treated row
with y = 0 second, the case where causalml's interpolation of undefined
points and the scikit-uplift rule (a ratio with a zero denominator counts 0)
coincide, so every library agrees with upfunnel there.

Prints the data and the expected values as C initializers; paste them into
tests/test_uplift_metrics.c. Run: /usr/bin/python3 tests/golden/uplift_golden.py
"""
import numpy as np
import pandas as pd


# ---- scikit-uplift ----

def sk_curves(y, s, t, kind):
    y, s, t = np.asarray(y, float), np.asarray(s, float), np.asarray(t, float)
    o = np.argsort(s, kind="mergesort")[::-1]
    y, s, t = y[o], s[o], t[o]
    yc, yt = y.copy(), y.copy()
    yc[t == 1] = 0
    yt[t == 0] = 0
    thr = np.r_[np.where(np.diff(s))[0], s.size - 1]
    nt = np.cumsum(t)[thr]
    ytc = np.cumsum(yt)[thr]
    n = thr + 1.0
    nc = n - nt
    ycc = np.cumsum(yc)[thr]
    if kind == "qini":
        v = ytc - ycc * np.divide(nt, nc, out=np.zeros_like(nt), where=nc != 0)
    else:
        v = (np.divide(ytc, nt, out=np.zeros_like(ytc), where=nt != 0)
             - np.divide(ycc, nc, out=np.zeros_like(ycc), where=nc != 0)) * n
    if n.size == 0 or v[0] != 0 or n[0] != 0:
        n = np.r_[0, n]
        v = np.r_[0, v]
    return n, v


def sk_qini_auc_score(y, s, t):
    y, t = np.asarray(y, float), np.asarray(t, float)
    xa, ya = sk_curves(y, s, t, "qini")
    xp, yp = sk_curves(y, y * t - y * (1 - t), t, "qini")
    base = np.trapz([0, yp[-1]], [0, xp[-1]])
    return (np.trapz(ya, xa) - base) / (np.trapz(yp, xp) - base)


def sk_uplift_auc_score(y, s, t):
    y, t = np.asarray(y, float), np.asarray(t, float)
    xa, ya = sk_curves(y, s, t, "uplift")
    cr = np.sum((y == 1) & (t == 0))
    tn = np.sum((y == 0) & (t == 1))
    summand = y if cr > tn else t
    xp, yp = sk_curves(y, 2 * (y == t) + summand, t, "uplift")
    base = np.trapz([0, yp[-1]], [0, xp[-1]])
    return (np.trapz(ya, xa) - base) / (np.trapz(yp, xp) - base)


def sk_uplift_at_k(y, s, t, k, strategy):
    y, s, t = np.asarray(y, float), np.asarray(s, float), np.asarray(t, float)
    order = np.argsort(s, kind="mergesort")[::-1]
    if strategy == "overall":
        m = int(len(y) * k)
        top_y, top_t = y[order][:m], t[order][:m]
        return top_y[top_t == 1].mean() - top_y[top_t == 0].mean()
    nc, nt = int((t == 0).sum() * k), int((t == 1).sum() * k)
    return y[order][t[order] == 1][:nt].mean() - y[order][t[order] == 0][:nc].mean()


def sk_uplift_by_percentile(y, s, t, bins):
    y, s, t = np.asarray(y, float), np.asarray(s, float), np.asarray(t, float)
    order = np.argsort(s, kind="mergesort")[::-1]
    yb, tb = np.array_split(y[order], bins), np.array_split(t[order], bins)
    rows = []
    for yy, tt in zip(yb, tb):
        nt, nc = (tt == 1).sum(), (tt == 0).sum()
        rt = yy[tt == 1].mean() if nt else np.nan
        rc = yy[tt == 0].mean() if nc else np.nan
        st = np.sqrt(rt * (1 - rt) / nt) if nt else np.nan
        sc = np.sqrt(rc * (1 - rc) / nc) if nc else np.nan
        rows.append((nt, nc, rt, rc, rt - rc, np.sqrt(st ** 2 + sc ** 2)))
    return rows


# ---- causalml ----

def cm_frame(y, s, t):
    df = pd.DataFrame({"y": y, "w": t, "m": s})
    sd = df.sort_values("m", ascending=False).reset_index(drop=True)
    sd.index = sd.index + 1
    sd["cumsum_tr"] = sd["w"].cumsum()
    sd["cumsum_ct"] = sd.index.values - sd["cumsum_tr"]
    sd["cumsum_y_tr"] = (sd["y"] * sd["w"]).cumsum()
    sd["cumsum_y_ct"] = (sd["y"] * (1 - sd["w"])).cumsum()
    return sd


def cm_finish(series):
    df = pd.concat([series], join="inner", axis=1)
    df.loc[0] = np.zeros((df.shape[1],))
    return df.sort_index().interpolate()


def cm_qini_score(y, s, t):
    sd = cm_frame(y, s, t)
    q = cm_finish(sd["cumsum_y_tr"] - sd["cumsum_y_ct"] * sd["cumsum_tr"] / sd["cumsum_ct"])
    rand = np.linspace(q.iloc[0, 0], q.iloc[-1, 0], q.shape[0]).sum()
    return float((q.sum(axis=0) - rand).iloc[0] / q.shape[0])


def cm_auuc_score(y, s, t):
    sd = cm_frame(y, s, t)
    lift = cm_finish(sd["cumsum_y_tr"] / sd["cumsum_tr"] - sd["cumsum_y_ct"] / sd["cumsum_ct"])
    gain = lift.mul(lift.index.values, axis=0)
    gain = gain.div(np.abs(gain.iloc[-1, :]), axis=1)
    return float((gain.sum() / gain.shape[0]).iloc[0])


# ---- data ----

def case_a():
    rng = np.random.RandomState(20240501)
    n = 40
    t = rng.randint(0, 2, n)
    s = np.round(rng.uniform(-1, 1, n), 1)  # one decimal: many ties
    p = 0.25 + 0.3 * t * (s > 0)
    y = (rng.uniform(0, 1, n) < p).astype(int)
    return y, s, t


def case_b():
    rng = np.random.RandomState(7)
    n = 60
    t = rng.randint(0, 2, n)
    s = rng.permutation(n) / n + 0.001
    p = 0.2 + 0.4 * t * (s > 0.5)
    y = (rng.uniform(0, 1, n) < p).astype(int)
    top = np.argsort(-s)
    t[top[0]], y[top[0]] = 0, 0   # first row: control, no response
    t[top[1]], y[top[1]] = 1, 0   # second row: treated, no response
    return y, s, t


def c_array(name, ctype, vals, fmt):
    body = ", ".join(fmt % v for v in vals)
    print("static const %s %s[%d] = {%s};" % (ctype, name, len(vals), body))


def emit(tag, y, s, t, causalml):
    c_array("%s_Y" % tag, "double", y, "%d")
    c_array("%s_S" % tag, "double", s, "%.17g")
    c_array("%s_T" % tag, "uint8_t", t, "%d")
    ks = [0.1, 0.2, 0.3, 0.5]
    vals = [sk_qini_auc_score(y, s, t), sk_uplift_auc_score(y, s, t)]
    vals += [sk_uplift_at_k(y, s, t, k, "overall") for k in ks]
    vals += [sk_uplift_at_k(y, s, t, k, "by_group") for k in ks]
    print("/* scikit-uplift: qini_auc_score, uplift_auc_score, uplift_at_k overall %s, by_group %s */" % (ks, ks))
    c_array("%s_SKLIFT" % tag, "double", vals, "%.17g")
    if causalml:  # causalml does not group ties: compared on distinct scores only
        print("/* causalml: qini_score(normalize=False), auuc_score(normalize=True) */")
        c_array("%s_CAUSALML" % tag, "double", [cm_qini_score(y, s, t), cm_auuc_score(y, s, t)], "%.17g")
    rows = sk_uplift_by_percentile(y, s, t, 10)
    flat = []
    for r in rows:
        flat += list(r)
    print("/* scikit-uplift uplift_by_percentile(bins=10, std=True): n_t, n_c, rate_t, rate_c, uplift, std_uplift */")
    c_array("%s_DECILES" % tag, "double", flat, "%.17g")


if __name__ == "__main__":
    ya, sa, ta = case_a()
    emit("A", ya, sa, ta, False)
    yb, sb, tb = case_b()
    emit("B", yb, sb, tb, True)
