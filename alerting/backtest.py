"""Offline replay of the surge detector over a count series, causally (row t sees rows <= t only).

Pure apart from the caller's file handling: parse `timestamp,value` rows (ISO 8601 or
`YYYY-MM-DD HH:MM:SS`, no zone = Asia/Shanghai; or Unix time of 10 digits (seconds, decimals
allowed) or 13 (milliseconds); CSV quoting; a first line whose first field has no digit is the
header), infer the regular interval, scale the rules file's surge parameters to it, and mark each
row 0/1 (and its score).

Bad input is an error naming the file and line: a bad timestamp or value, a negative, infinite or
absurd (over 1e15) value, a timestamp not after the previous row (duplicate or unordered), fewer
than two rows, rows that come faster than the interval from some line on (a spacing that changes
part-way, or an interval given too long: they would run ahead of their timestamps; more than 30
days ahead is refused).

Causality: each row's flag depends only on rows at or before it, with one exception: the inferred
interval is a statistic of the whole file (as a collector's declared sampling rate would be). On a
regular series every prefix gives the same interval; on an irregular one a later stretch can move
it. `shaobing backtest --interval SECONDS` gives it up front, and then nothing is read ahead.

Scaling to the interval (`scaled_params`): durations keep their meaning; a window shorter than one
bucket becomes one bucket, and the rules' absolute line for a new subject
(`new_subject_min_count`, a count per the rules' window) scales with the window's length (12,000 in
an hour-long bucket for 1,000 per 5 minutes; 800 in a 4-minute one).

Irregular series are handled, not rejected (`on_grid`):
- the interval is the median gap between rows, in whole seconds, snapped to whole minutes when
  within 2 % of them (a jittered clock's median of 301 s is a 5-minute series), or a whole
  fraction of it that a tenth of the gaps have (a sparse export with more than half its buckets
  empty has a median gap of 2 or more buckets);
- the grid has the first row's phase; each row is one bucket's count and takes the nearest bucket
  after the row before it, so jitter, a drifting clock or a shifted phase never puts two rows into
  one bucket (which would double a count);
- a bucket with no row is filled, causally (from rows before it). With zero mentions where zero
  is a plausible count, as Elasticsearch's histogram reports an empty bucket: at least half of the
  day of buckets before the gap are at most 4.6, where a zero has at least a 1 % chance (a bucket
  with no row counts as 0, and so does the part of the day before the first row: a sparse export
  that writes only its non-zero buckets stays sparse), and more than half of that day's rows are
  whole numbers. Else it is missing data (a collector's outage, or a measurement series) and takes
  the median of the same bucket on the 7 days before the gap (a spike of one day is not replayed
  into it), or the last value before the gap when the series is younger than that. Only a gap's
  last 7 days (at most 10,080 buckets) are filled: the detector reads the buckets before them as
  zero mentions, as after a silent week. Filled buckets have no output row, and an alert the
  detector raises while replaying them is not marked.
- known limit: a clock that runs steadily fast or slow by under 2 % (299 s a row in a 5-minute
  file) is snapped to the whole minute, and its rows then drift ahead of their timestamps until a
  gap lets them catch up (by 3.8 hours over 47 days at 299 s).

Also the Elasticsearch date-histogram body for `--index` and the reading of its answer. Reads no settings.
"""
from __future__ import annotations

import csv
import math
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from statistics import median
from typing import Callable, Iterable, Iterator
from zoneinfo import ZoneInfo

from streams.surge import SurgeParams, observe_many

SHANGHAI = ZoneInfo("Asia/Shanghai")
MIN_BASELINE_BUCKETS = 24
SNAP = 0.02              # a median gap this close to whole minutes is whole minutes
ZERO_PLAUSIBLE = 4.6     # a usual count above which an empty bucket is not a zero (e^-4.6 = 1 %)
FILL_DAYS = 7            # only a gap's last week is filled,
FILL_MAX = 10_080        # and at most a week of minutes
DAY_S = 86400
MAX_DRIFT_S = 30 * DAY_S  # rows this far ahead of their timestamps come faster than the interval (a
                          # 295-s clock snapped to 5 minutes drifts 6 days a year; 1-minute rows on a
                          # 5-minute grid, 4 minutes a row)
MAX_VALUE = 1e15         # no count is larger; far larger values overflow the detector's squares


class SeriesError(ValueError):
    """A malformed series; the message names the file and line."""


@dataclass(frozen=True)
class Row:
    line: int
    raw: str             # the timestamp exactly as given, echoed in the output
    at: datetime
    value: float
    negative: float = 0


def parse_time(text: str) -> datetime:
    """ISO 8601 or `YYYY-MM-DD HH:MM:SS` (no zone = Asia/Shanghai), or Unix time in seconds (10
    digits, optionally with decimals) or milliseconds (13 digits), as Prometheus and Grafana export."""
    text = text.strip()
    digits = text.partition(".")[0]
    if digits.isdigit() and len(digits) in (10, 13):
        return datetime.fromtimestamp(float(text) / (1000 if len(digits) == 13 else 1), SHANGHAI)
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)


def parse_series(lines: Iterable[str], name: str = "series") -> list[Row]:
    rows: list[Row] = []
    header_seen = False
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        parts = [p.strip() for p in next(csv.reader([text]), [])]
        if not rows and not header_seen and _is_header(parts):
            header_seen = True                 # `timestamp,value`, `time,count`, `时间,数量` ...
            continue
        if len(parts) != 2:
            raise SeriesError(f"{name}:{number}: expected 'timestamp,value', got {len(parts)} fields")
        try:
            at = parse_time(parts[0])
        except ValueError:
            raise SeriesError(f"{name}:{number}: bad timestamp {parts[0][:40]!r}") from None
        try:
            value = float(parts[1])
        except ValueError:
            raise SeriesError(f"{name}:{number}: bad value {parts[1][:40]!r}") from None
        if value < 0 or not math.isfinite(value) or value > MAX_VALUE:
            raise SeriesError(f"{name}:{number}: value must be a count >= 0 and at most {MAX_VALUE:.0e}, "
                              f"got {parts[1][:40]!r}")
        if rows and at <= rows[-1].at:
            raise SeriesError(f"{name}:{number}: timestamp {parts[0]!r} is not after line {rows[-1].line}")
        rows.append(Row(number, parts[0], at, value))
    if len(rows) < 2:
        raise SeriesError(f"{name}: need at least 2 data rows to infer the interval, got {len(rows)}")
    return rows


def _is_header(parts: list[str]) -> bool:
    """A first line of column names: a first field with no digit (every timestamp has one)."""
    return not any(ch.isdigit() for ch in parts[0])


def infer_interval(rows: list[Row], name: str = "series") -> int:
    """The series' bucket size in seconds: the median gap between rows, snapped (see the module doc)."""
    if len(rows) < 2:
        raise SeriesError(f"{name}: need at least 2 data rows to infer the interval, got {len(rows)}")
    gaps = [(b.at - a.at).total_seconds() for a, b in zip(rows, rows[1:])]
    gap = median(gaps)
    if gap < 1:
        raise SeriesError(f"{name}: cannot infer an interval of at least a second (median gap {gap}s)")
    return _finest(snap_interval(gap), gaps)


def _finest(step: int, gaps: list[float]) -> int:
    """A sparse export (only its non-zero buckets written) can have more gaps of 2, 3 ... buckets
    than of one, and then a median gap that is a multiple of its interval: the interval is the
    smallest whole fraction step / k (k <= 12, at least a second) that a tenth of the gaps are
    within 2 % of, else `step`."""
    for k in range(12, 1, -1):
        part = step / k
        if part >= 1 and sum(abs(g - part) <= SNAP * part for g in gaps) >= 0.1 * len(gaps):
            return snap_interval(part)
    return step


def snap_interval(gap: float) -> int:
    minutes = 60 * round(gap / 60)
    if minutes and abs(gap - minutes) <= SNAP * minutes:
        return minutes
    return round(gap)


@dataclass(frozen=True)
class Bucket:
    """One bucket of the series on its own grid: an input row (`row` its index) or a filled gap (None)."""
    at: datetime
    value: float
    negative: float
    row: int | None


def on_grid(rows: list[Row], step: int, name: str = "series") -> Iterator[Bucket]:
    """The series as consecutive buckets of `step` seconds, gaps filled (see the module doc). Rows
    that come faster than `step` (a spacing that changes part-way) would each take the next bucket
    and run ahead of their timestamps: more than MAX_DRIFT_S ahead is an error naming the line."""
    if not rows:
        return
    t0, zone = rows[0].at.timestamp(), rows[0].at.tzinfo
    per_day = max(1, round(DAY_S / step))
    values: dict[int, float] = {}         # bucket number (from the first row's) -> its value, the last 8 days
    recent = _Recent(per_day)
    last = -1
    for i, row in enumerate(rows):
        offset = row.at.timestamp() - t0
        slot = max(round(offset / step), last + 1)
        if slot * step - offset > MAX_DRIFT_S:
            raise SeriesError(f"{name}:{row.line}: the rows come faster than every {step}s (the interval) and "
                              f"here run over {MAX_DRIFT_S // DAY_S} days ahead of their timestamps: the spacing "
                              "changes part-way, or the interval is too long; split the file or give --interval")
        if slot > last + 1:
            zero = recent.zero_plausible()
            first = max(last + 1, slot - min(FILL_DAYS * per_day, FILL_MAX))
            recent.missing(first - last - 1)          # not filled: the detector reads them as zero
            for k in range(first, slot):
                values[k] = 0.0 if zero else _usual(values, k, per_day, last)
                recent.add(values[k], row=False)
                yield Bucket(datetime.fromtimestamp(t0 + k * step, zone), values[k], 0.0, None)
        recent.add(row.value)
        values[slot] = row.value
        last = slot
        if len(values) > 2 * (FILL_DAYS + 1) * per_day + FILL_MAX:
            values = {k: v for k, v in values.items() if k > last - (FILL_DAYS + 1) * per_day}
        yield Bucket(datetime.fromtimestamp(t0 + slot * step, zone), row.value, row.negative, i)


class _Recent:
    """The last day of buckets, for the zero-or-missing choice: how many are low (at most
    ZERO_PLAUSIBLE, as counted or as filled; a bucket the detector reads as zero is low) and how
    many of its rows are not whole numbers."""

    def __init__(self, per_day: int) -> None:
        self.per_day = per_day
        self.buckets: deque[tuple[bool, bool | None]] = deque()
        self.low = self.rows = self.fractional = 0

    def zero_plausible(self) -> bool:
        """At least half of the day's buckets low (its median is), and mostly counts, not measurements.
        The part of the day before the first row counts as buckets with no row."""
        unseen = self.per_day - len(self.buckets)
        return 2 * (self.low + unseen) >= self.per_day and 2 * self.fractional < self.rows

    def add(self, value: float, row: bool = True) -> None:
        """A bucket with a row, or one filled with `value` (a filled bucket is low only if filled low)."""
        self._push(value <= ZERO_PLAUSIBLE, value != int(value) if row else None)

    def missing(self, n: int) -> None:
        for _ in range(min(n, self.per_day)):
            self._push(True, None)

    def _push(self, low: bool, fractional: bool | None) -> None:
        self.buckets.append((low, fractional))
        self._count(low, fractional, 1)
        if len(self.buckets) > self.per_day:
            self._count(*self.buckets.popleft(), -1)

    def _count(self, low: bool, fractional: bool | None, sign: int) -> None:
        self.low += sign * low
        if fractional is not None:
            self.rows += sign
            self.fractional += sign * fractional


def _usual(values: dict[int, float], k: int, per_day: int, last: int) -> float:
    """A missing bucket's value: the median of the same bucket on the 7 days before the gap (a spike
    of one day is not replayed), else the last value before the gap."""
    back = max(1, -(-(k - last) // per_day))               # the first day back that is before the gap
    week = [values[k - d * per_day] for d in range(back, back + FILL_DAYS) if k - d * per_day in values]
    return median(week) if week else values[last]


def scaled_params(mapping: dict, interval: int) -> SurgeParams:
    """The rules file's surge parameters at another bucket size: durations keep their meaning,
    with at least one window bucket and a day's worth (or 24 buckets) of baseline."""
    data = {k: v for k, v in mapping.items() if k not in ("bucket_s", "grace_s")}
    window_s = float(data.pop("window_s", 300))
    baseline_s = float(data.pop("baseline_s", 7200))
    if "window_buckets" not in data:
        data["window_buckets"] = max(1, round(window_s / interval))
        base = data.get("new_subject_min_count")
        if base is not None and data["window_buckets"] * interval != window_s:
            # the window is not the rules' length (one hour-long bucket for 5 minutes): the new
            # subject's absolute line is a count per the rules' window, so it scales with it
            data["new_subject_min_count"] = max(1, math.ceil(base * data["window_buckets"] * interval / window_s))
    data.setdefault("baseline_buckets", max(MIN_BASELINE_BUCKETS, round(baseline_s / interval)))
    if "warmup_s" not in data and "warmup_buckets" not in data:
        data["warmup_buckets"] = max(2 * data["window_buckets"], 10)
    return SurgeParams.from_mapping({**data, "bucket_s": interval, "grace_s": 0})


def run(rows: list[Row], params: SurgeParams, mark: str = "onset",
        progress: Callable[[int], None] | None = None, scores: list[float] | None = None,
        trace: Callable[[dict], None] | None = None, name: str = "series") -> list[int]:
    """0/1 per row: 1 where an alert would have been sent (`onset`) or while one is open (`active`).
    `scores`, if given, receives each row's surge score (spreads above usual); `trace`, each judged
    bucket's account of the surge rule's gates (streams.surge_why.explain; bench/surge_why.py)."""
    state, flags = None, []
    step = params.bucket_s
    for b in on_grid(rows, step, name):
        now = datetime.fromtimestamp((b.at.timestamp() // step + 1) * step, b.at.tzinfo)
        state, signals = observe_many(state, b.at, b.value, b.negative, [], now, params, trace=trace)
        if b.row is None:
            continue                      # a filled gap: an alert it raised is not the series' (module doc)
        fired = any(s.status == "firing" for s in signals)
        flags.append(int(fired or (mark == "active" and bool(state["episodes"]))))
        if scores is not None:
            scores.append(state["score"])
        if progress and b.row % 1000 == 0:
            progress(b.row)
    return flags


def histogram_query(subject: str, start: datetime, end: datetime, interval_s: int) -> dict:
    """Mention counts per bucket for one subject (posts carry their subjects), negatives alongside."""
    return {
        "size": 0,
        "query": {"bool": {"filter": [
            {"term": {"subjects": subject}},
            {"range": {"published_at": {"gte": start.isoformat(), "lt": end.isoformat()}}}]}},
        "aggs": {"per_bucket": {
            "date_histogram": {"field": "published_at", "fixed_interval": f"{interval_s}s", "min_doc_count": 0,
                               "extended_bounds": {"min": start.isoformat(), "max": end.isoformat()}},
            "aggs": {"negative": {"filter": {"term": {"sentiment_label": "negative"}}}}}},
    }


def rows_from_histogram(response: dict) -> list[Row]:
    buckets = response["aggregations"]["per_bucket"]["buckets"]
    return [Row(i + 1, b["key_as_string"], parse_time(b["key_as_string"]), int(b["doc_count"]),
                int(b["negative"]["doc_count"])) for i, b in enumerate(buckets)]
