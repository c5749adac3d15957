"""The surge rule's parameters (streams.surge), as the rules file (alerting.rules) or the backtest
command gives them. Moved from streams.surge verbatim in session 7; streams.surge re-exports them."""
from __future__ import annotations

import math
from dataclasses import dataclass, fields
from functools import cached_property

SCALES = (1, 3, 12)


@dataclass(frozen=True)
class SurgeParams:
    bucket_s: int = 60
    window_buckets: int = 5          # the shortest window judged (also 3x and 12x as long)
    baseline_buckets: int = 120      # history kept besides the longest window (trend, late events)
    min_count: int = 10              # mentions in a window below which nothing is a surge
    ratio: float = 1.5               # window count must reach ratio x its usual count ...
    z: float = 3.0                   # ... and z x the subject's usual spread above it ...
    tail_factor: float = 1.25        # ... and this x the subject's usual daily peak score
    tail_days: int = 7               # the usual daily peak: the second highest of this many days' ...
    tail_memory_days: int = 30       # daily peaks remembered; the window must also beat
    tail_memory_factor: float = 1.0  # ... this x the second highest of all of them
    record_factor: float = 0.0       # a bucket above this x the subject's highest bucket of the last
    record_days: int = 7             # record_days days fires too, whatever the spreads (0: off)
    span_factor: float = 0.0         # a window above this x its length's highest quiet judged count
    span_days: int = 7               # of past span_days days faces the bars without escalation (factor 0: off)
    busy_pages: int = 0              # a subject with this many pages in busy_days (0: never) gets
    busy_days: int = 14              # busy_escalation x the last episode's peak as its bar, halving
    busy_refractory_buckets: int = 0  # every busy_refractory_buckets (streams.surge_busy)
    busy_escalation: float = 2.0
    confirm_factor: float = 0.0      # a busy subject under this x the line waits a window (0: off)
    single_factor: float = 1.0       # a one-bucket window needs z x this (no persistence in it)
    hold_z: float = 2.0              # an episode holds while its window stays this far above usual
    critical_ratio: float = 10.0
    negative_share: float = 0.6      # negative_surge: share of negative mentions in the window
    negative_margin: float = 0.2     # ... and this far above the subject's own usual share
    negative_min_count: int = 8
    negative_ratio: float = 2.0
    threshold: int | None = None     # plain threshold rule on the window count (None = off)
    threshold_severity: str = "warning"
    new_subject_min_count: int | None = None  # during warm-up the surge rule fires only at this
                                     # window count (None: a subject in warm-up never surges)
    grace_s: int = 120               # late events within this are still counted
    quiet_buckets: int | None = None  # closed windows below the hold line that end an episode
    warmup_buckets: int = 0          # no relative alert until a subject has this much history
    refractory_buckets: int = 0      # after a surge episode a new one needs `escalation` x its peak
    escalation: float = 1.5          # score, a bar that halves every refractory_buckets
    persist_buckets: int = 2         # a window is judged with its top k-1 buckets capped at the k-th
    max_samples: int = 3
    young_factor: float = 2.0        # z is this much stricter until a day of history
    rare_rate: float = 0.0           # a subject under this many mentions an hour is also judged by
    rare_min_count: int = 5          # the rarity of its window counts (streams.surge_rare; 0: off):
    rare_z: float = 4.25             # this floor, and this normal deviate of the Poisson tail
    max_ids: int = 5000              # post ids remembered per subject (redelivery), oldest dropped
    dormant_days: int = 14           # a subject silent this long, with no open episode, is not ticked (0: always)

    def __post_init__(self):
        for f in fields(self):            # a rules file's 7.5 or "abc" must not reach the agent
            value, kind = getattr(self, f.name), str(f.type)
            if value is None and "None" in kind:
                continue
            if kind.startswith("int") and (isinstance(value, bool) or not isinstance(value, int)):
                raise ValueError(f"{f.name}: expected a whole number, got {value!r}")
            if kind == "float" and (isinstance(value, bool) or not isinstance(value, (int, float))
                                    or not math.isfinite(value)):
                raise ValueError(f"{f.name}: expected a number, got {value!r}")
            if kind == "str" and not isinstance(value, str):
                raise ValueError(f"{f.name}: expected text, got {value!r}")
        if self.bucket_s <= 0 or self.window_buckets < 1 or self.baseline_buckets < 1:
            raise ValueError("bucket_s, window_buckets and baseline_buckets must be positive")
        if self.ratio < 1 or self.min_count < 1 or self.z <= 0:
            raise ValueError("need ratio >= 1, min_count >= 1, z > 0")
        if self.tail_factor < 0 or self.tail_days < 1 or self.escalation < 1:
            raise ValueError("need tail_factor >= 0, tail_days >= 1, escalation >= 1")
        if self.tail_memory_factor < 0 or self.tail_memory_days < 1:
            raise ValueError("need tail_memory_factor >= 0, tail_memory_days >= 1")
        if not (self.record_factor == 0 or self.record_factor >= 1) or self.record_days < 1:
            raise ValueError("need record_factor 0 (off) or >= 1, record_days >= 1")
        if not (self.span_factor == 0 or self.span_factor >= 1) or self.span_days < 1:
            raise ValueError("need span_factor 0 (off) or >= 1, span_days >= 1")
        if not (self.confirm_factor == 0 or self.confirm_factor >= 1):
            raise ValueError("need confirm_factor 0 (off) or >= 1")
        if self.busy_pages < 0 or self.busy_days < 1 or self.busy_escalation < 1:
            raise ValueError("need busy_pages >= 0, busy_days >= 1, busy_escalation >= 1")
        if self.rare_rate < 0 or self.rare_min_count < 1 or self.rare_z <= 0:
            raise ValueError("need rare_rate >= 0 (0: off), rare_min_count >= 1, rare_z > 0")
        if self.new_subject_min_count is not None and self.new_subject_min_count < 1:
            raise ValueError("new_subject_min_count must be >= 1 (or null: never during warm-up)")
        if self.persist_buckets < 1 or self.single_factor <= 0 or self.max_ids < 1 or self.dormant_days < 0:
            raise ValueError("need persist_buckets >= 1, single_factor > 0, max_ids >= 1, dormant_days >= 0")
        if min(self.refractory_buckets, self.busy_refractory_buckets, self.warmup_buckets,
               self.grace_s, self.max_samples) < 0:
            raise ValueError("refractory_buckets, busy_refractory_buckets, warmup_buckets, grace_s and "
                             "max_samples must be >= 0")
        if self.critical_ratio <= 0 or self.negative_min_count < 1 or self.negative_ratio < 0:
            raise ValueError("need critical_ratio > 0, negative_min_count >= 1, negative_ratio >= 0")
        if (self.quiet_buckets is not None and self.quiet_buckets < 1) or (
                self.threshold is not None and self.threshold < 1):
            raise ValueError("quiet_buckets and threshold must be >= 1 (or null)")

    @property
    def quiet(self) -> int:
        return self.quiet_buckets or self.window_buckets

    @cached_property
    def windows(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys(k * self.window_buckets for k in SCALES))

    @cached_property
    def busy_buckets(self) -> int:
        return self.busy_days * 86400 // self.bucket_s

    @cached_property
    def grace_buckets(self) -> int:
        return math.ceil(self.grace_s / self.bucket_s)

    @cached_property
    def kept_buckets(self) -> int:
        """Closed buckets the state keeps: the longest window or the baseline, plus what the
        trend, the episode end and late events need."""
        return (max(self.baseline_buckets, self.windows[-1]) + 2 * self.window_buckets + self.quiet
                + self.grace_buckets + 2)

    @classmethod
    def from_mapping(cls, data: dict) -> "SurgeParams":
        """Build from a YAML mapping; `window_s`/`baseline_s`/`quiet_s`/`warmup_s`/`refractory_s`
        may replace the bucket counts."""
        data = dict(data)
        bucket_s = int(data.get("bucket_s", cls.bucket_s))
        for name in ("window", "baseline", "quiet", "warmup", "refractory", "busy_refractory"):
            if f"{name}_s" in data:
                key = f"{name}_buckets"
                least = 0 if name in ("warmup", "refractory", "busy_refractory") else 1
                data[key] = max(least, round(float(data.pop(f"{name}_s")) / bucket_s))
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown surge parameter(s): {', '.join(unknown)}")
        return cls(**data)
