#!/usr/bin/env python3
"""Reference values for tests/test_serve.c's BG/NBD checks, from an
implementation that shares nothing with model/serve_lifetime.c: scipy's
hyp2f1 for eq. (10) of Fader, Hardie & Lee (2005), "Counting your customers
the easy way". Dev-only (python3-scipy); the test states these numbers.
The paper's own example (r .243, alpha 4.414, a .793, b 2.426; x 2, t_x 30.43,
T 38.86) predicts 1.226 purchases in the next 39 weeks.

Output (parameters of ../shared/BENCH.md, CDNOW):
  x t_x T t -> P(alive), E[Y(t)]
"""
from scipy.special import hyp2f1


def bgnbd(r, al, a, b, x, tx, T, t):
    d = a / (b + x - 1) * ((al + T) / (al + tx)) ** (r + x) if x > 0 else 0.0
    z = t / (al + T + t)
    e = (a + b + x - 1) / (a - 1) * (1 - ((al + T) / (al + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z))
    return 1 / (1 + d), e / (1 + d)


if __name__ == "__main__":
    print("paper example:", bgnbd(0.243, 4.414, 0.793, 2.426, 2, 30.43, 38.86, 39))
    for case in ((2, 30.43, 38.86, 39), (0, 0, 38.86, 39), (7, 35.0, 38.86, 52), (1, 2.0, 38.86, 200)):
        print(case, "%.17g %.17g" % bgnbd(0.2426, 4.4137, 0.7930, 2.4262, *case))
