"""Persistence and the open bucket's bound for the surge rule (streams.surge): a window's judged
count (its top buckets capped, so one bucket cannot carry it) and the smallest open-bucket count at
which a window's judged count reaches a line. Pure; `p` is a streams.surge.SurgeParams."""
from __future__ import annotations

import math


def judge(count: float, top: list[float], k: int) -> float:
    """The window count with its top k-1 buckets capped at the k-th largest (persistence)."""
    if len(top) < k or k < 2:
        return count
    return count - sum(top[: k - 1]) + (k - 1) * top[k - 1]


def judged_with(x: float, count: float, top: list[float], n: int, p) -> float:
    """The judged count of a window whose closed part is (count, top, n buckets) plus x now."""
    k = p.persist_buckets
    if n + 1 < k:
        return count + x
    if k == 2 and len(top) == 2 and top[0] >= top[1]:   # the common case, without the sort: the
        a, b = top                                       # same top two values, the same arithmetic
        return count + x - (x if x > a else a) + (a if x > a else x if x > b else b)
    return judge(count + x, sorted(top + [x], reverse=True)[:k], k)


def guess_x(count: float, top: list[float], buckets: int, at_least: float, p) -> float | None:
    """Where the judged count reaches `at_least` when at most the top two buckets count
    (persistence 1 or 2): a closed form, exact up to rounding; None for a deeper persistence."""
    if p.persist_buckets > 2:
        return None
    if p.persist_buckets < 2 or buckets + 1 < 2 or not top:
        return at_least - count                              # judged = count + x
    if len(top) == 1 or at_least > count + 2 * top[1] - top[0]:
        return (at_least - count + top[0]) / 2               # x between the 2nd and the 1st: count + 2x - t1
    return at_least - count + top[0] - top[1]                # x at most the 2nd: count + x - t1 + t2


def least_x(count: float, top: list[float], buckets: int, at_least: float, p) -> float:
    """The smallest open-bucket count that brings a window's judged count to `at_least` (minus one:
    counts are not always whole in the backtest), found from the closed form and checked."""
    lo, hi = -1, math.ceil(max(1.0, at_least))
    if judged_with(hi * 64, count, top, buckets, p) < at_least:
        return math.inf                                  # persistence: one bucket cannot carry it
    guess = guess_x(count, top, buckets, at_least, p)
    if guess is not None and guess < hi * 64:
        x = max(0, math.ceil(guess))
        for _ in range(4):                               # the smallest x >= 0 that reaches the line
            if judged_with(x, count, top, buckets, p) < at_least:
                x += 1
            elif x > 0 and judged_with(x - 1, count, top, buckets, p) >= at_least:
                x -= 1
            else:
                return x - 1
    while judged_with(hi, count, top, buckets, p) < at_least:
        hi *= 2
    while hi - lo > 1:                                   # the judged count grows with x
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if judged_with(mid, count, top, buckets, p) < at_least else (lo, mid)
    return hi - 1
