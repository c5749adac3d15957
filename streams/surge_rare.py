"""The rarity path of the surge rule for a low-volume subject (streams.surge). A county subject with
a few mentions an hour is judged by how rare its window count is under Poisson noise, not by the
stabilised spreads the busy subjects need: at a few mentions a(x) understates how rare a count is,
and the bars learnt from a busy subject's chatter (busy and refractory bars) hold a county subject's
second story of the week. A subject is low-volume while its raw mean over its quiet buckets (after a
day of them) is under `rare_rate` mentions an hour and every count it was given was a whole number
(the test is about counts, not measurements). A window past `rare_min_count` whose exact Poisson tail
is rarer than `rare_z` (as a normal deviate) and than `tail_factor` x the subject's usual daily peak
rarity (second highest of `tail_days`, learnt from quiet buckets) fires; its episode holds while that
window stays `hold_z` rare, and a later rarity page within hours needs `escalation` x the last one's
peak rarity, a bar halving every `refractory` (as the spread rule's). Pure, plain-JSON state
(`rrate`: hourly means; `rfast`: the raw level of the last hours; `rare`: [day, today's peak, [past
days' peaks]]; `rare_onset`: [bucket, peak rarity] of the last rarity page; `frac`: a non-whole count
was seen); `p` is a streams.surge.SurgeParams."""
from __future__ import annotations

import math
from functools import lru_cache
from statistics import NormalDist

from streams import surge_gates as gates
from streams import surge_model as model_

_NORMAL = NormalDist()
SLACK = 1.3     # the usual count is taken 30 % higher: the model's usual runs ~14 % low at a few
                # mentions (the stabilised mean's inverse) and a county subject's day drifts


def log_poisson_tail(c: float, u: float) -> float:
    """log P(X >= c) for X ~ Poisson(u) and c > u: the regularised lower incomplete gamma P(c, u)
    (which also interpolates between whole counts), by its series, to ~1e-12."""
    term = total = 1.0
    k = c
    while term > 1e-12 * total:
        k += 1.0
        term *= u / k
        total += term
    return -u + c * math.log(u) - math.lgamma(c + 1.0) + math.log(total)


def rarity(count: float, usual: float) -> float:
    """The normal deviate of P(X >= count), X ~ Poisson(usual); 0 up to usual + 1."""
    if count <= usual + 1:
        return 0.0
    return -_NORMAL.inv_cdf(max(1e-300, math.exp(log_poisson_tail(count, max(usual, 1e-3)))))


def _learnt(state: dict, p) -> list | None:
    """The hourly means (`rrate`), once they hold a day of quiet buckets."""
    rate = state.get("rrate")
    return rate if rate and rate[3] * p.bucket_s >= 86400 else None


def low_volume(state: dict, p) -> bool:
    """Under `rare_rate` mentions an hour over its quiet buckets (after a day of them), and every
    count a whole number."""
    rate = _learnt(state, p)
    return (bool(p.rare_rate) and rate is not None and not state.get("frac")
            and rate[2] * 3600 / p.bucket_s < p.rare_rate)


def usual(state: dict, end: int, length: int, p) -> float:
    """The usual count of a window of `length` buckets ending at `end`: per bucket, the raw mean
    count of its hour of day over the subject's quiet buckets of about a week, shrunk towards its
    mean over all hours by two hours' worth of buckets (an hour seen quiet twice is not a rate of
    0). Raw, not the stabilised model's usual: that runs low at a few mentions and ignores the
    one-minute blips a county subject does have."""
    rate = _learnt(state, p)
    if rate is None:                                     # a day of quiet buckets first
        return math.inf
    prior = 2 * 3600 / p.bucket_s
    shrunk: dict[int, float] = {}
    total = 0.0
    for i in range(end - length + 1, end + 1):           # a window may span hours (12 h at 1-h buckets)
        hour, _ = model_.slot(i, p.bucket_s)
        if hour not in shrunk:
            shrunk[hour] = (rate[1][hour] * rate[0][hour] + prior * rate[2]) / (rate[1][hour] + prior)
        total += shrunk[hour]
    return max(total, length * min(state.get("rfast", [0.0, 0.0])))   # a rise of hours ago is usual now


def learn_fast(state: dict, count: float, p) -> None:
    """Fold every closed bucket, in an episode or not, into a raw level with a two-hour half-life
    (the stabilised model's fast level, on the raw scale): the usual count never lags a lasting rise
    by more than hours, so a county subject whose level moved up pages once, not until the hourly
    means of a week have caught up."""
    fast = state.setdefault("rfast", [count, count])
    for k, rate in enumerate(_fast_rates(p.bucket_s)):
        fast[k] += rate * (count - fast[k])


@lru_cache(maxsize=None)
def _fast_rates(bucket_s: float) -> tuple[float, float]:
    """`learn_fast`'s two rates at `bucket_s` (the same expressions, computed once)."""
    return tuple(1.0 - 0.5 ** (bucket_s / half_life)
                 for half_life in (model_.LEVEL_HALF_LIFE_S, 6 * model_.LEVEL_HALF_LIFE_S))


def learn_rate(state: dict, end: int, count: float, p) -> None:
    """Fold a quiet closed bucket's raw count into its hour's mean and the mean over all hours (a
    running mean, then about a week of memory)."""
    rate = state.setdefault("rrate", [[0.0] * 24, [0] * 24, 0.0, 0])
    hour, _ = model_.slot(end, p.bucket_s)
    n = rate[1][hour] = min(rate[1][hour] + 1, max(1, 7 * 3600 // p.bucket_s))
    rate[0][hour] += (count - rate[0][hour]) / n
    n = rate[3] = min(rate[3] + 1, max(1, 7 * 86400 // p.bucket_s))
    rate[2] += (count - rate[2]) / n


def best(state: dict, end: int, wins, ends: list[bool], p) -> tuple[int | None, float]:
    """(window number, rarity) of the rarest window past `rare_min_count` (ends[n]: the window may
    start an episode). A window of fewer than `persist_buckets` buckets is not judged: one bucket
    cannot carry a rarity page (a blip of reposts inside an hour's bucket is not a story)."""
    fired, top = None, 0.0
    for n, (length, (_count, judged, _usual, _d)) in enumerate(zip(p.windows, wins)):
        if ends[n] and length >= p.persist_buckets and judged >= p.rare_min_count:
            r = rarity(judged, SLACK * usual(state, end, length, p))
            if r > top:
                fired, top = n, r
    return fired, top


def holds(state: dict, end: int, wins, scale: int, p) -> bool:
    """Whether a rarity episode's window (number `scale`) is still `hold_z` rare: a story that goes
    on is one episode, however the spreads adapt to it."""
    n = min(scale, len(wins) - 1)
    return (low_volume(state, p)
            and rarity(wins[n][1], SLACK * usual(state, end, p.windows[n], p)) >= p.hold_z)


def fires(state: dict, end: int, wins, ends: list[bool], p) -> tuple[int | None, float | None]:
    """(window number or None, rarity): whether a low-volume subject's rarest window fires the rarity
    path (the caller checks that no surge episode is open): past `rare_z`, `tail_factor` x its usual
    daily peak rarity and, after a rarity page, `escalation` x that page's peak rarity halving every
    `refractory` buckets (an aftershock of the same story stays quiet). Rarity None: not low-volume.
    (A subject is low-volume only after a day of quiet buckets, so `young_factor` never applies.)"""
    if not low_volume(state, p):
        return None, None
    at, top = best(state, end, wins, ends, p)
    line_ = max(p.rare_z, line(state, p), bar(state, end, p))
    return (at if at is not None and top >= line_ else None), top


def bar(state: dict, end: int, p) -> float:
    """After a rarity page: `escalation` x its episode's peak rarity, halving every `refractory` buckets."""
    onset = state.get("rare_onset")
    if not onset or not p.refractory_buckets:
        return 0.0
    return p.escalation * onset[1] * 0.5 ** ((end - onset[0]) / p.refractory_buckets)


def usual_peak(state: dict, p) -> float:
    """The second highest daily peak rarity of the last `tail_days` (0 before two days)."""
    past = sorted(state.get("rare", [0, None, []])[2][-p.tail_days:], reverse=True)
    return past[1] if len(past) > 1 else 0.0


def line(state: dict, p) -> float:
    """`tail_factor` x the usual daily peak rarity."""
    return p.tail_factor * usual_peak(state, p)


def learn(state: dict, end: int, value: float | None, p) -> None:
    """Roll the days over; fold in a quiet closed bucket's best rarity (None: teaches nothing)."""
    day = (end - state["born"]) * p.bucket_s // 86400
    gates.fold_daily_peak(state.setdefault("rare", [day, None, []]), day, value, p.tail_days)
