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
    z: float = 5.0                   # ... and baseline + z x robust spread (tuned: docs/quality.md)
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
    persist_buckets: int = 2         # the rules judge the window with its top k-1 buckets capped at
                                     # the k-th largest: a one-bucket blip cannot carry a surge
    max_samples: int = 3
    young_factor: float = 1.5        # ratio and z are this much stricter until a day of history
                                     # has taught the detector the subject's daily rhythm

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
        return Surge(subject=subject, rule=self.rule, severity=self.severity, status=self.status,
                     window_start=self.window_start, window_end=self.window_end, count=self.count,
                     baseline=self.baseline, negative_share=self.negative_share,
                     samples=list(self.samples), trend=list(self.trend), detected_at=detected_at,
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
    if (idx + 1) * params.bucket_s + params.grace_s < _epoch(now):
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


# --- evaluation --------------------------------------------------------------------------------

def _slot(idx: int, p: SurgeParams) -> int | None:
    if not p.seasonal or p.bucket_s > 3600:
        return None
    return (idx * p.bucket_s % 86400) // 3600


def _fold_profile(state: dict, final: int, p: SurgeParams) -> None:
    """Fold buckets past the grace period into the per-hour profile (capped values only): a plain
    mean over a slot's first day, then an EWMA whose weights add up to seasonal_alpha per day."""
    if _slot(final, p) is not None:
        per_day = max(1, 3600 // p.bucket_s)
        alpha = 1 - (1 - p.seasonal_alpha) ** (1 / per_day)
        prof, seen = state["profile"], state.setdefault("profile_n", [0] * 24)
        for i in range(max(state["folded"] + 1, final - 86400 // p.bucket_s + 1, state["born"]), final + 1):
            x, slot = _capped(_bucket(state, i))[0], _slot(i, p)
            seen[slot] += 1
            old = prof[slot] if prof[slot] is not None else x
            # one heavy-tailed bucket moves the profile only so far
            prof[slot] = old + max(alpha, 1 / seen[slot]) * (min(x, 3 * old + 3) - old)
    state["folded"] = max(state["folded"], final)


def _baseline(state: dict, end: int, p: SurgeParams) -> tuple[float, float, float, float]:
    """(expected window count, robust spread of it, per-bucket level, usual negative share)."""
    w = p.window_buckets
    vals, negs = [], 0.0
    # history before a subject was first seen counts as silence, but only one window of it: a
    # subject busy from the moment the pipeline starts then adapts within minutes, while a subject
    # that really was silent still surges against zero
    first = max(end - w - p.baseline_buckets + 1, min(state["born"], end - w + 1) - w)
    for i in range(first, end - w + 1):
        count, neg = _capped(_bucket(state, i))
        vals.append(count)
        negs += neg
    vals.sort()
    kept = vals[: len(vals) - int(len(vals) * p.trim)]
    level = sum(kept) / len(kept)
    variance = sum((v - level) ** 2 for v in kept) / max(1, len(kept) - 1)
    median = vals[len(vals) // 2]
    mad = sorted(abs(v - median) for v in vals)[len(vals) // 2]
    slot = _slot(end, p)
    mature = (state["folded"] - state["born"] + 1) * p.bucket_s >= 86400
    if mature and slot is not None and state["profile"][slot] is not None:
        level = max(level, state["profile"][slot])
    base = level * w
    # per-bucket spread: the larger of the trimmed standard deviation (over-dispersed counts),
    # the MAD (robust) and Poisson noise at the level
    spread = max(math.sqrt(variance), 1.4826 * mad, math.sqrt(level), 1 / math.sqrt(w)) * math.sqrt(w)
    total = sum(vals)
    return base, spread, level, (negs / total if total else 0.0)


def _verdicts(count: int, judged: float, neg: int, base: float, spread: float, usual_share: float,
              strict: float, p: SurgeParams) -> dict[str, tuple[bool, bool, str]]:
    """rule -> (fires, holds, severity); `holds` is the lower line that keeps an episode open.
    `judged` is the window count with its largest bucket(s) capped (persist_buckets)."""
    share = neg / count if count else 0.0
    fires = (judged >= p.min_count and judged >= p.ratio * strict * base
             and judged - base >= p.z * strict * spread)
    severity = "critical" if count >= p.critical_ratio * max(base, p.min_count / 2) else "warning"
    neg_line = max(p.negative_share, usual_share + p.negative_margin)
    out = {
        "surge": (fires, count >= max(p.min_count / 2, p.resolve_ratio * base), severity),
        "negative_surge": (neg >= p.negative_min_count and share >= neg_line
                           and judged >= p.negative_ratio * base,
                           neg >= p.negative_min_count / 2 and share >= 0.8 * neg_line, "critical"),
    }
    if p.threshold is not None:
        out["threshold"] = (count >= p.threshold, count >= 0.8 * p.threshold, p.threshold_severity)
    return out


def _cap(state: dict, lo: int, hi: int, level: float, p: SurgeParams) -> None:
    cap = round(max(level * p.ratio, p.min_count / p.window_buckets), 3)
    for i in range(lo, hi + 1):
        bucket = _touch(state, i)
        if bucket[2] < 0:
            bucket[2] = cap


def _evaluate(state: dict, end: int, p: SurgeParams, closed: bool, signals: list) -> None:
    """Judge the window ending at bucket `end`; an open (partial) window may only start episodes."""
    w = p.window_buckets
    base, spread, level, usual = _baseline(state, end, p)
    window = [_bucket(state, i) for i in range(end - w + 1, end + 1)]
    count, neg = sum(b[0] for b in window), sum(b[1] for b in window)
    k = min(p.persist_buckets, w)
    top = sorted((b[0] for b in window), reverse=True)
    judged = count - sum(top[: k - 1]) + (k - 1) * top[k - 1]
    warm = end - state["born"] >= p.warmup_buckets
    episodes = state["episodes"]
    young = p.seasonal and p.bucket_s <= 3600 and (state["folded"] - state["born"] + 1) * p.bucket_s < 86400
    verdicts = _verdicts(count, judged, neg, base, spread, usual, p.young_factor if young else 1.0, p)
    for rule, (fires, holds, severity) in verdicts.items():
        episode = episodes.get(rule)
        if episode is None and fires and warm:
            episodes[rule] = {"since": end, "quiet": 0, "severity": severity}
            signals.append(_signal(state, rule, severity, "firing", end, count, neg, base, p))
            if rule in RELATIVE_RULES:
                _cap(state, end - w + 1, end, level, p)
        elif episode is not None and closed:
            episode["quiet"] = 0 if holds else episode["quiet"] + 1
            if episode["quiet"] >= p.quiet:
                del episodes[rule]
                signals.append(_signal(state, rule, episode["severity"], "resolved", end, count, neg, base, p))
    if closed and any(rule in episodes for rule in RELATIVE_RULES):
        _cap(state, end, end, level, p)


def _signal(state: dict, rule: str, severity: str, status: str, end: int, count: int, neg: int,
            base: float, p: SurgeParams) -> SurgeSignal:
    lo = end - p.window_buckets + 1
    inside = [s for s in state["samples"] if lo <= s[0] <= end]
    picked, seen = [], set()
    for s in inside[:1] + inside[::-1]:          # the first publisher, then the latest posts
        if s[1]["post_id"] not in seen and len(picked) < p.max_samples:
            seen.add(s[1]["post_id"])
            picked.append(SamplePost.model_validate(s[1]))
    produced = [datetime.fromisoformat(s[2]) for s in inside if s[2]]
    trend = tuple(_bucket(state, i)[0] for i in range(end - 2 * p.window_buckets + 1, end + 1))
    return SurgeSignal(rule, severity, status, _at(lo, p), _at(end + 1, p), int(count), round(base, 2),
                       round(neg / count, 3) if count else 0.0, tuple(picked),
                       min(produced) if produced else None, trend)


def _keep_samples(state: dict, idx: int, samples: list[SamplePost], produced_at: datetime | None,
                  cur: int, p: SurgeParams) -> None:
    horizon = cur - 2 * p.window_buckets - _grace_buckets(p)
    kept = [s for s in state["samples"] if s[0] >= horizon]
    stamp = produced_at.astimezone(timezone.utc).isoformat() if produced_at else None
    kept += [[idx, s.model_dump(mode="json"), stamp] for s in samples]
    kept.sort(key=lambda s: (s[0], s[1]["published_at"]))
    k = p.max_samples
    state["samples"] = kept if len(kept) <= 2 * k else kept[:k] + kept[-k:]


def _run(state: dict, cur: int, p: SurgeParams, touched: int | None) -> tuple[dict, list[SurgeSignal]]:
    signals: list[SurgeSignal] = []
    if touched is not None and touched <= state["done"]:
        _evaluate(state, touched, p, False, signals)     # a late event inside an evaluated window
    for end in range(max(state["done"] + 1, cur - p.window_buckets - p.quiet - 1), cur):
        _evaluate(state, end, p, True, signals)
    state["done"] = max(state["done"], cur - 1)
    _evaluate(state, cur, p, False, signals)
    _fold_profile(state, cur - _grace_buckets(p) - 1, p)
    keep = p.baseline_buckets + 2 * p.window_buckets + p.quiet + _grace_buckets(p) + 2
    drop = cur - keep + 1 - state["start"]
    if drop > 0:
        del state["counts"][:drop]
        state["start"] += drop
    return state, signals
