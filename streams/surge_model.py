"""What a subject's mention count usually is, and how noisy it usually is: the online model behind
the surge rule. Pure (no I/O), plain-JSON state, one update per closed bucket.

Counts are variance-stabilised with Anscombe's transform a(x) = 2 sqrt(x + 3/8) (Poisson noise
becomes ~N(0, 1) whatever the level). On that scale the usual value of a bucket is

    mu = fast level + daily profile[hour] + weekly offset[weekday]

- the fast level follows the deseasonalised series with a half-life of LEVEL_HALF_LIFE_S, so a
  level shift is absorbed within hours; a slow level (a day) is what the profile is measured from;
- the daily profile (24 hourly slots) and weekday offsets are slow EWMAs (about a week of memory);
- every update is clipped at CLIP x the subject's own per-bucket spread (a surge moves nothing far).

For each window length the model also learns the subject's own spread of d = a(window count) -
a(usual window count), over all hours and per hour of day: a subject whose mornings are jumpy has
a wide morning spread, so a burst every morning is not news. A deviation below usual counts as
at most one spread (drops and gaps do not make the detector deaf). The spread never goes below 1, the
Poisson noise itself. Inside a surge episode the level and the spread move only a little.
"""
from __future__ import annotations

import math
from functools import lru_cache

LEVEL_HALF_LIFE_S = 2 * 3600
SLOW_HALF_LIFE_S = 86400
PROFILE_WEIGHT_PER_DAY = 0.15
WEEKLY_WEIGHT_PER_WEEK = 0.3
SPREAD_MEMORY_S = 3 * 86400
SLOT_SPREAD_MEMORY_DAYS = 7
CLIP = 3.0
CLIP_IN_EPISODE = 1.0
SPREAD_CLIP = 64.0                  # a deviation teaches the spread at most this x its square


def stabilise(x: float) -> float:
    return 2.0 * math.sqrt(max(0.0, x) + 0.375)


def unstabilise(y: float) -> float:
    """Inverse of `stabilise`, about unbiased for the mean: 0 at a(0), (y/2)^2 - 1/8 when large."""
    v = max(0.0, (y / 2.0) ** 2 - 0.375)
    return v + 0.25 * v / (v + 1.0)


def _rate(half_life_s: float, bucket_s: int) -> float:
    return 1.0 - 0.5 ** (bucket_s / half_life_s)


def new_model(scales: int) -> dict:
    return {"n": 0, "fast": None, "slow": None, "day": [0.0] * 24, "day_n": [0] * 24, "week": [0.0] * 7,
            "week_n": [0] * 7, "s2": [1.0] * scales, "slot_s2": [[1.0] * 24 for _ in range(scales)],
            "slot_n": [0] * 24, "spread1": 1.0, "neg": 0.0}


def slot(idx: int, bucket_s: int) -> tuple[int, int]:
    """(hour of day, weekday) of a bucket, UTC+8 (the subjects' own clock)."""
    t = idx * bucket_s + 8 * 3600
    return (t % 86400) // 3600, (t // 86400 + 3) % 7


def usual(model: dict, idx: int, bucket_s: int) -> float:
    """The usual count of bucket `idx` (raw scale); 0 before the model has seen a bucket."""
    if model["fast"] is None:
        return 0.0
    hour, day = slot(idx, bucket_s)
    return unstabilise(model["fast"] + model["day"][hour] + model["week"][day])


def spread(model: dict, k: int, idx: int, bucket_s: int) -> float:
    """The subject's usual spread of d at window length number k, for the hour of `idx`."""
    return spreads(model, idx, bucket_s)[k]


def spreads(model: dict, idx: int, bucket_s: int) -> list[float]:
    """The subject's usual spread of d at every window length number, for the hour of `idx`: the
    length's own, or its hour's once two days of that hour were seen, at least 1."""
    hour, _ = slot(idx, bucket_s)
    trusted = model["slot_n"][hour] * bucket_s >= 2 * 3600      # two days of this hour
    return [math.sqrt(max(1.0, s2, slots[hour] if trusted else 0.0))
            for s2, slots in zip(model["s2"], model["slot_s2"])]


def _step(old: float, target: float, rate: float, clip: float) -> float:
    return old + rate * max(-clip, min(clip, target - old))


@lru_cache(maxsize=None)
def _rates(bucket_s: int) -> tuple[float, float, float, float, int, float, float]:
    """The per-bucket constants of `learn` at `bucket_s` (the same expressions, computed once):
    level and slow rates, profile and weekly rates, buckets a day, spread and slot-spread floors."""
    per_day = max(1, 86400 // bucket_s)
    per_slot_day = max(1, 3600 // bucket_s)
    return (_rate(LEVEL_HALF_LIFE_S, bucket_s), _rate(SLOW_HALF_LIFE_S, bucket_s),
            1 - (1 - PROFILE_WEIGHT_PER_DAY) ** (1 / per_slot_day), 1 - (1 - WEEKLY_WEIGHT_PER_WEEK) ** (1 / per_day),
            per_day, 1 / max(48, SPREAD_MEMORY_S // bucket_s), 1 / (SLOT_SPREAD_MEMORY_DAYS * per_slot_day))


def learn(model: dict, idx: int, count: float, negative: float, deviations: list[float], bucket_s: int,
          in_episode: bool) -> None:
    """Fold closed bucket `idx` into the model; deviations[k] = d of the window ending there."""
    y = stabilise(count)
    hour, day = slot(idx, bucket_s)
    level_rate, slow_rate, profile_rate, weekly_rate, per_day, spread_rate, slot_spread_rate = _rates(bucket_s)
    n = model["n"] = model["n"] + 1
    if model["fast"] is None:
        model["fast"] = model["slow"] = y
    clip = (CLIP_IN_EPISODE if in_episode else CLIP) * model["spread1"]
    days, weeks = model["day"], model["week"]
    season = days[hour] + weeks[day]

    fast = model["fast"]
    residual = y - fast - season
    model["fast"] = _step(fast, y - season, max(1 / n, level_rate), clip)
    slow = model["slow"] = _step(model["slow"], y - season, max(1 / n, slow_rate), clip)
    day_n = model["day_n"]
    day_n[hour] += 1
    day_rate = max(1 / day_n[hour], profile_rate)
    if n > per_day // 4:                   # the slow level means something after a few hours
        days[hour] = _step(days[hour], y - slow - weeks[day], day_rate, clip)
    if n > per_day:
        week_n = model["week_n"]
        week_n[day] += 1
        weeks[day] = _step(weeks[day], y - slow - days[hour], max(1 / week_n[day], weekly_rate), clip)
    if count and not in_episode:
        model["neg"] += max(1 / n, 0.01) * (negative / count - model["neg"])
    if n * bucket_s < 3600:               # learn spreads once the level settled
        return
    rate = max(1 / n, spread_rate)
    spread1 = model["spread1"]
    model["spread1"] = math.sqrt(max(1.0, spread1 ** 2 + rate * (
        min(residual * residual, (4 * spread1) ** 2) - spread1 ** 2)))
    slot_n = model["slot_n"]
    slot_n[hour] += 1
    slot_rate = max(1 / slot_n[hour], slot_spread_rate)
    clip2 = 4.0 if in_episode else SPREAD_CLIP    # a surge teaches its own spread only a little
    s2s, slot_s2 = model["s2"], model["slot_s2"]
    for k, d in enumerate(deviations):          # a drop or a gap counts as at most one spread down
        s2 = s2s[k]
        up = max(d, -math.sqrt(max(1.0, s2))) ** 2
        s2s[k] = s2 + rate * (min(up, clip2 * max(1.0, s2)) - s2)
        slots = slot_s2[k]
        old = slots[hour]
        slots[hour] = old + slot_rate * (min(up, clip2 * max(1.0, old)) - old)
