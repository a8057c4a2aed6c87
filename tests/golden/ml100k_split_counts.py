#!/usr/bin/python3
"""Independent counts for the MovieLens 100K split protocol of BENCH.md, in
pure Python (stdlib only), for tests/test_interactions.c
(test_movielens_protocol_counts): ratings >= 4 are positives; a user with
n >= 2 positives gives max(1, round(0.2 * n)) of them to test (0.2 * n is
never a tie for round(), so Python's and C's rounding agree); fewer than 2
positives keep all in train.
Usage: ml100k_split_counts.py PATH/TO/u.data
Output (u.data of ml-100k): positives 55375 users_with_positive 942 test 11079 train 44296"""
import sys
from collections import Counter

pos = Counter()
for line in open(sys.argv[1]):
    user, item, rating, _ = line.split("\t")
    if int(rating) >= 4:
        pos[user] += 1
test = sum(max(1, round(0.2 * n)) for n in pos.values() if n >= 2)
total = sum(pos.values())
print(f"positives {total} users_with_positive {len(pos)} test {test} train {total - test}")
