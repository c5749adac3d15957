"""Surge detection core: per-subject event-time bucket counts against the subject's own robust,
time-of-day-aware baseline. Pure: no faust, Kafka or network import; the clock is passed in.
Reads no settings; SurgeParams come from the rules file (alerting.rules) or the backtest command.

The per-subject state is a JSON-serialisable plain dict (it lives in a Faust table keyed by subject):
  start    bucket index of counts[0]  (bucket index = floor(epoch seconds / bucket_s))
  counts   [[count, negative, cap], ...]; cap >= 0 marks a bucket that belonged to a surge: it feeds
           the baseline as min(count, cap), so a surge never lifts its own baseline
  born     first bucket this subject was seen in; done: last closed bucket evaluated
  profile  24 per-hour levels (EWMA over days) for the daily rhythm; folded: last bucket folded in
  episodes {rule: {"since": idx, "quiet": n}}: one alert per episode, resolved after `quiet_buckets`
  samples  [[idx, sample-json, produced_at-iso|None], ...]; late: events dropped after the grace
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields
from datetime import datetime, timezone

from streams.records import SamplePost, Surge

RELATIVE_RULES = ("surge", "negative_surge")


@dataclass(frozen=True)
class SurgeParams:
    bucket_s: int = 60
    window_buckets: int = 5          # the window compared with the baseline
    baseline_buckets: int = 120      # history before the window that forms the baseline
    min_count: int = 10              # mentions in the window below which nothing is a surge
    ratio: float = 3.0               # window count must reach ratio x baseline ...
    z: float = 4.0                   # ... and baseline + z x robust spread
    critical_ratio: float = 10.0
    negative_share: float = 0.6      # negative_surge: share of negative mentions in the window
    negative_margin: float = 0.2     # ... and this far above the subject's own usual share
    negative_min_count: int = 8
    negative_ratio: float = 2.0
    threshold: int | None = None     # plain threshold rule on the window count (None = off)
    threshold_severity: str = "warning"
    grace_s: int = 120               # late events within this are still counted
    quiet_buckets: int | None = None  # closed windows below the hold line that end an episode
    resolve_ratio: float = 1.5
    warmup_buckets: int = 0          # no alert until a subject has this much history
    seasonal: bool = True
    seasonal_alpha: float = 0.3      # weight of the latest day in the time-of-day profile
    trim: float = 0.1                # share of the highest baseline buckets ignored (heavy tails)
    max_samples: int = 3

    def __post_init__(self):
        if self.bucket_s <= 0 or self.window_buckets < 1 or self.baseline_buckets < 1:
            raise ValueError("bucket_s, window_buckets and baseline_buckets must be positive")
        if not 0 <= self.trim < 0.5 or self.ratio < 1 or self.min_count < 1:
            raise ValueError("need 0 <= trim < 0.5, ratio >= 1, min_count >= 1")

    @property
    def quiet(self) -> int:
        return self.quiet_buckets or self.window_buckets

    @classmethod
    def from_mapping(cls, data: dict) -> "SurgeParams":
        """Build from a YAML mapping; `window_s`/`baseline_s` may replace the bucket counts."""
        data = dict(data)
        bucket_s = int(data.get("bucket_s", cls.bucket_s))
        for name in ("window", "baseline"):
            if f"{name}_s" in data:
                data[f"{name}_buckets"] = max(1, round(float(data.pop(f"{name}_s")) / bucket_s))
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown surge parameter(s): {', '.join(unknown)}")
        return cls(**data)


@dataclass(frozen=True)
class SurgeSignal:
    rule: str
    severity: str
    status: str                      # "firing" | "resolved"
    window_start: datetime
    window_end: datetime
    count: int
    baseline: float
    negative_share: float
    samples: tuple[SamplePost, ...] = ()
    first_produced_at: datetime | None = None
    trend: tuple[int, ...] = ()      # bucket counts, oldest first, ending with the window

    def to_surge(self, subject: str, detected_at: datetime) -> Surge:
        return Surge(subject=subject, rule=self.rule, severity=self.severity,
                     window_start=self.window_start, window_end=self.window_end, count=self.count,
                     baseline=self.baseline, negative_share=self.negative_share,
                     samples=list(self.samples), detected_at=detected_at,
                     first_produced_at=self.first_produced_at)


def _epoch(t: datetime) -> float:
    return (t if t.tzinfo else t.replace(tzinfo=timezone.utc)).timestamp()


def _index(t: datetime, p: SurgeParams) -> int:
    return math.floor(_epoch(t) / p.bucket_s)


def _at(idx: int, p: SurgeParams) -> datetime:
    return datetime.fromtimestamp(idx * p.bucket_s, timezone.utc)


def _grace_buckets(p: SurgeParams) -> int:
    return math.ceil(p.grace_s / p.bucket_s)


def _bucket(state: dict, i: int) -> list:
    j = i - state["start"]
    return state["counts"][j] if 0 <= j < len(state["counts"]) else [0, 0, -1]


def _touch(state: dict, i: int) -> list:
    if i < state["start"]:
        state["counts"][:0] = [[0, 0, -1] for _ in range(state["start"] - i)]
        state["start"] = i
    while i - state["start"] >= len(state["counts"]):
        state["counts"].append([0, 0, -1])
    return state["counts"][i - state["start"]]


def _capped(b: list) -> tuple[float, float]:
    if b[2] < 0 or b[0] <= b[2]:
        return float(b[0]), float(b[1])
    return float(b[2]), b[1] * b[2] / b[0]


def _new_state(idx: int) -> dict:
    return {"v": 1, "start": idx, "counts": [], "born": idx, "done": idx - 1, "profile": [None] * 24,
            "folded": idx - 1, "episodes": {}, "samples": [], "late": 0}


def is_late(state: dict | None, event_time: datetime, now: datetime, params: SurgeParams) -> bool:
    """True when an event is past the grace period and would not be counted."""
    idx = _index(event_time, params)
    if (idx + 1) * params.bucket_s + params.grace_s <= _epoch(now):
        return True
    return bool(state) and idx < state["start"]


def observe(state: dict | None, event_time: datetime, negative: bool, sample: SamplePost | None,
            now: datetime, params: SurgeParams, *, produced_at: datetime | None = None
            ) -> tuple[dict, list[SurgeSignal]]:
    """Count one mention of the subject and return the new state plus any surge signals."""
    return observe_many(state, event_time, 1, int(negative), [sample] if sample else [], now, params,
                        produced_at=produced_at)


def observe_many(state: dict | None, event_time: datetime, count: int, negative_count: int,
                 samples: list[SamplePost], now: datetime, params: SurgeParams, *,
                 produced_at: datetime | None = None) -> tuple[dict, list[SurgeSignal]]:
    """Count `count` mentions in one bucket at once (the backtest feeds per-bucket counts)."""
    cur = _index(now, params)
    idx = min(_index(event_time, params), cur)
    state = state or _new_state(min(idx, cur))
    if is_late(state, event_time, now, params):
        state["late"] += count
        state, signals = tick(state, now, params)
        return state, signals
    bucket = _touch(state, idx)
    bucket[0] += count
    bucket[1] += negative_count
    _keep_samples(state, idx, samples, produced_at, cur, params)
    return _run(state, cur, params, touched=idx)


def tick(state: dict | None, now: datetime, params: SurgeParams) -> tuple[dict, list[SurgeSignal]]:
    """Evaluate the buckets that closed since the last call (episodes resolve even with no events)."""
    if not state:
        return {}, []
    return _run(state, _index(now, params), params, touched=None)
