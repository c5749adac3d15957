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
    hour, _ = slot(idx, bucket_s)
    trusted = model["slot_n"][hour] * bucket_s >= 2 * 3600      # two days of this hour
    slot_s2 = model["slot_s2"][k][hour] if trusted else 0.0
    return math.sqrt(max(1.0, model["s2"][k], slot_s2))


def learn(model: dict, idx: int, count: float, negative: float, deviations: list[float], bucket_s: int,
          in_episode: bool) -> None:
    """Fold closed bucket `idx` into the model; deviations[k] = d of the window ending there."""
    y = stabilise(count)
    hour, day = slot(idx, bucket_s)
    model["n"] += 1
    if model["fast"] is None:
        model["fast"] = model["slow"] = y
    clip = (CLIP_IN_EPISODE if in_episode else CLIP) * model["spread1"]
    season = model["day"][hour] + model["week"][day]

    def step(old: float, target: float, rate: float) -> float:
        return old + rate * max(-clip, min(clip, target - old))

    per_day = max(1, 86400 // bucket_s)
    per_slot_day = max(1, 3600 // bucket_s)
    residual = y - model["fast"] - season
    model["fast"] = step(model["fast"], y - season, max(1 / model["n"], _rate(LEVEL_HALF_LIFE_S, bucket_s)))
    model["slow"] = step(model["slow"], y - season, max(1 / model["n"], _rate(SLOW_HALF_LIFE_S, bucket_s)))
    model["day_n"][hour] += 1
    day_rate = max(1 / model["day_n"][hour], 1 - (1 - PROFILE_WEIGHT_PER_DAY) ** (1 / per_slot_day))
    if model["n"] > per_day // 4:          # the slow level means something after a few hours
        model["day"][hour] = step(model["day"][hour], y - model["slow"] - model["week"][day], day_rate)
    if model["n"] > per_day:
        model["week_n"][day] += 1
        week_rate = max(1 / model["week_n"][day], 1 - (1 - WEEKLY_WEIGHT_PER_WEEK) ** (1 / per_day))
        model["week"][day] = step(model["week"][day], y - model["slow"] - model["day"][hour], week_rate)
    if count and not in_episode:
        model["neg"] += max(1 / model["n"], 0.01) * (negative / count - model["neg"])
    if model["n"] * bucket_s < 3600:      # learn spreads once the level settled
        return
    rate = max(1 / model["n"], 1 / max(48, SPREAD_MEMORY_S // bucket_s))
    model["spread1"] = math.sqrt(max(1.0, model["spread1"] ** 2 + rate * (
        min(residual * residual, (4 * model["spread1"]) ** 2) - model["spread1"] ** 2)))
    model["slot_n"][hour] += 1
    slot_rate = max(1 / model["slot_n"][hour], 1 / (SLOT_SPREAD_MEMORY_DAYS * per_slot_day))
    clip2 = 4.0 if in_episode else SPREAD_CLIP    # a surge teaches its own spread only a little
    for k, d in enumerate(deviations):          # a drop or a gap counts as at most one spread down
        s2 = model["s2"][k]
        up = max(d, -math.sqrt(max(1.0, s2))) ** 2
        model["s2"][k] = s2 + rate * (min(up, clip2 * max(1.0, s2)) - s2)
        old = model["slot_s2"][k][hour]
        model["slot_s2"][k][hour] = old + slot_rate * (min(up, clip2 * max(1.0, old)) - old)

