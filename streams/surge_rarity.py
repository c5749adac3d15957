"""A sustained-excess rarity gate for the surge rule (streams.surge): how rare is the last hours'
excess over usual in this subject's own history? Pure, plain-JSON state; `p` is a SurgeParams.

The statistic is a leaky mean of the shortest window's score (spreads above usual, a deviation
below usual counting as at most one spread, one bucket counting at most RARITY_CAP spreads):

    E = g * E + (1 - g) * min(max(r, -1), RARITY_CAP),   g = 0.5 ** (bucket_s / rarity_half_life_s)

so a surge that holds a few spreads for hours lifts E towards that level, while a one-bucket burst
adds at most (1 - g) * RARITY_CAP and fades. E's daily peaks are remembered for `rarity_days`
days; E is *rare* when it is above `rarity_factor` x the highest remembered daily peak (and above
RARITY_FLOOR spreads): the subject has not held this much excess for this long in a month. What
the leading NAB detectors share (KNN-CAD's conformal rank of a window's nonconformity, the relative
entropy detector's novel window histogram, HTM's likelihood of a short-term mean of scores against
their long-term distribution) is a judgement of a *window of recent values* against the subject's
own history; this is the count-scale, causal, O(1) version of that idea. A rare E lets a window
that passes z, ratio and min_count fire without beating the daily-peak tail line
(streams.surge_gates.tail_line): a long story is news even on a subject whose short bursts are
loud.

State: `rarity` = [E after the last closed bucket, day, today's peak E, [past days' peaks]].
"""
from __future__ import annotations

from streams import surge_model as model_

RARITY_CAP = 8.0            # one bucket counts at most this many spreads into E
RARITY_FLOOR = 2.0          # E must hold at least this many spreads to be rare at all


def _decay(p) -> float:
    return 0.5 ** (p.bucket_s / p.rarity_half_life_s)


def step(e: float, z: float, p) -> float:
    """E after one more bucket whose shortest-window score is z."""
    g = _decay(p)
    return g * e + (1.0 - g) * min(max(z, -1.0), RARITY_CAP)


def line(state: dict, p) -> float | None:
    """The E that is rare for this subject; None while the gate is off or fewer than
    `rarity_min_days` past days are remembered."""
    rar = state.get("rarity")
    if not p.rarity_factor or not rar or len(rar[3]) < p.rarity_min_days:
        return None
    return max(RARITY_FLOOR, p.rarity_factor * max(rar[3][-p.rarity_days:] + [rar[2]]))


def excess(model: dict, idx: int, count: float, p) -> float:
    """Bucket idx's excess over the subject's slow (day-scale) usual, in its per-bucket spreads: a
    surge that the fast level has started to absorb still counts here."""
    if model["slow"] is None:
        return 0.0
    hour, day = model_.slot(idx, p.bucket_s)
    usual = model["slow"] + model["day"][hour] + model["week"][day]
    return (model_.stabilise(count) - usual) / model["spread1"]


def rare(state: dict, end: int, count: float, p) -> bool:
    """Whether bucket `end` at `count` would make E rare now."""
    bar = line(state, p)
    rar = state.get("rarity")
    return bar is not None and step(rar[0], excess(state["model"], end, count, p), p) > bar


def least_z(state: dict, p) -> float | None:
    """The smallest shortest-window score that makes E rare now (None: none can)."""
    bar = line(state, p)
    if bar is None:
        return None
    g = _decay(p)
    need = (bar - g * state["rarity"][0]) / (1.0 - g)
    return need if need < RARITY_CAP else None


def learn(state: dict, end: int, count: float, teach: bool, p) -> None:
    """Fold a closed bucket's shortest-window score into E; roll the daily peaks over at each day
    of the subject's life. `teach` False: the bucket moves E but does not teach the peaks."""
    if not p.rarity_factor:
        return
    day = (end - state["born"]) * p.bucket_s // 86400
    rar = state.setdefault("rarity", [0.0, day, 0.0, []])
    if rar[1] != day:
        rar[3] = (rar[3] + [rar[2]])[-p.rarity_days:]
        rar[1], rar[2] = day, 0.0
    rar[0] = round(step(rar[0], excess(state["model"], end, count, p), p), 4)
    if teach:
        rar[2] = max(rar[2], rar[0])
