"""Feature stability across training domains: how far a feature's lean agrees from one domain to the next.

A feature that leans the same way in every domain it occurs in (满意, 失望) is likely to lean that
way in a domain the model never saw; one that flips between domains, or occurs in one domain only
(a Weibo idiom, a hotel word), is less likely to. `train_logistic(stability=True)` lets each
feature's shared weight learn at its rate from `stability_rates()`, so what does not transfer is
learnt by the domains' own weights instead (docs/quality.md, session 8 of issue 13).

Per domain d, a feature's lean is its log rate ratio r_d = log((pos_d + 1) / (P_d + 2)) -
log((neg_d + 1) / (N_d + 2)) (pos_d / neg_d: the domain's positive / negative posts that hold it,
P_d / N_d: all its positive / negative posts), over the domains where it occurs in at least
MIN_POSTS posts. Its rate is |sum r_d| / sum |r_d| (1 when every lean has one sign, near 0 when
they cancel), SINGLE when only one domain has it that often, never below FLOOR; a feature no
domain has that often keeps rate 1 (too rare to judge). Pure: no I/O.
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Iterable, Sequence

MIN_POSTS = 3     # posts of a domain a feature needs before its lean there counts
SINGLE = 0.5      # the rate of a feature only one domain has MIN_POSTS times
FLOOR = 0.1       # no feature learns slower than this share of the rate


def stability_rates(rows: Sequence[tuple[int, Iterable[str]]], domains: Sequence[str], min_posts: int = MIN_POSTS,
                    single: float = SINGLE, floor: float = FLOOR) -> dict[str, float]:
    """{feature: rate share in [floor, 1]} from (label, distinct features) rows, one domain name per row."""
    if len(rows) != len(domains):
        raise ValueError(f"{len(domains)} domain names for {len(rows)} posts")
    counts: dict[str, tuple[Counter, Counter]] = {}
    posts: Counter = Counter()
    for (label, feats), name in zip(rows, domains):
        pos, neg = counts.setdefault(name, (Counter(), Counter()))
        (pos if label else neg).update(feats)
        posts[name, label] += 1
    leans: dict[str, list[float]] = {}
    for name in sorted(counts):
        pos, neg = counts[name]
        n_pos, n_neg = posts[name, 1], posts[name, 0]
        for feature in sorted(pos.keys() | neg.keys()):
            if pos[feature] + neg[feature] >= min_posts:
                leans.setdefault(feature, []).append(
                    math.log((pos[feature] + 1) / (n_pos + 2)) - math.log((neg[feature] + 1) / (n_neg + 2)))
    rates = {}
    for feature, lean in leans.items():
        if len(lean) < 2:
            rates[feature] = max(floor, single)
        else:
            total = sum(abs(r) for r in lean)
            rates[feature] = max(floor, abs(sum(lean)) / total if total else 1.0)
    return rates
