"""Offline replay of the surge detector over a count series, causally (row t sees rows <= t only).

Pure apart from the caller's file handling: parse `timestamp,value` rows (ISO 8601 or
`YYYY-MM-DD HH:MM:SS`; no zone = Asia/Shanghai), infer the regular interval, scale the rules file's
surge parameters to it, and mark each row 0/1 (and its score).

Bad input is an error naming the file and line: a bad timestamp or value, a negative or infinite value, a
timestamp not after the previous row (duplicate or unordered), fewer than two rows. Gaps are
handled, not rejected: the interval is the median gap; a row belongs to the bucket holding its
timestamp (rows off the grid are fine); buckets with no row count as zero mentions, as
Elasticsearch's histogram reports them; rows that share a bucket add up. Also the Elasticsearch date-histogram body for
`--index` and the reading of its answer. Reads no settings.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from statistics import median
from typing import Callable, Iterable
from zoneinfo import ZoneInfo

from streams.surge import SurgeParams, observe_many

SHANGHAI = ZoneInfo("Asia/Shanghai")
MIN_BASELINE_BUCKETS = 24


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
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)


def parse_series(lines: Iterable[str], name: str = "series") -> list[Row]:
    rows: list[Row] = []
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        parts = [p.strip() for p in text.split(",")]
        if number == 1 and parts[0].lower() in ("timestamp", "time", "ts"):
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
        if value < 0 or not math.isfinite(value):
            raise SeriesError(f"{name}:{number}: value must be a count >= 0, got {parts[1][:40]!r}")
        if rows and at <= rows[-1].at:
            raise SeriesError(f"{name}:{number}: timestamp {parts[0]!r} is not after line {rows[-1].line}")
        rows.append(Row(number, parts[0], at, value))
    if len(rows) < 2:
        raise SeriesError(f"{name}: need at least 2 data rows to infer the interval, got {len(rows)}")
    return rows


def infer_interval(rows: list[Row], name: str = "series") -> int:
    """The series' bucket size in seconds: the median gap between rows (see the module doc for gaps)."""
    if len(rows) < 2:
        raise SeriesError(f"{name}: need at least 2 data rows to infer the interval, got {len(rows)}")
    interval = median((b.at - a.at).total_seconds() for a, b in zip(rows, rows[1:]))
    if interval < 1 or interval != int(interval):
        raise SeriesError(f"{name}: cannot infer a whole-second interval (median gap {interval}s)")
    return int(interval)


def scaled_params(mapping: dict, interval: int) -> SurgeParams:
    """The rules file's surge parameters at another bucket size: durations keep their meaning,
    with at least one window bucket and a day's worth (or 24 buckets) of baseline."""
    data = {k: v for k, v in mapping.items() if k not in ("bucket_s", "grace_s")}
    window_s = float(data.pop("window_s", 300))
    baseline_s = float(data.pop("baseline_s", 7200))
    data.setdefault("window_buckets", max(1, round(window_s / interval)))
    data.setdefault("baseline_buckets", max(MIN_BASELINE_BUCKETS, round(baseline_s / interval)))
    if "warmup_s" not in data and "warmup_buckets" not in data:
        data["warmup_buckets"] = max(2 * data["window_buckets"], 10)
    return SurgeParams.from_mapping({**data, "bucket_s": interval, "grace_s": 0})


def run(rows: list[Row], params: SurgeParams, mark: str = "onset",
        progress: Callable[[int], None] | None = None, scores: list[float] | None = None,
        trace: Callable[[dict], None] | None = None) -> list[int]:
    """0/1 per row: 1 where an alert would have been sent (`onset`) or while one is open (`active`).
    `scores`, if given, receives each row's surge score (spreads above usual); `trace`, each judged
    bucket's account of the surge rule's gates (streams.surge_why.explain; bench/surge_why.py)."""
    state, flags = None, []
    step = params.bucket_s
    for i, row in enumerate(rows):
        now = datetime.fromtimestamp((row.at.timestamp() // step + 1) * step, row.at.tzinfo)
        state, signals = observe_many(state, row.at, row.value, row.negative, [], now, params, trace=trace)
        fired = any(s.status == "firing" for s in signals)
        flags.append(int(fired or (mark == "active" and bool(state["episodes"]))))
        if scores is not None:
            scores.append(state["score"])
        if progress and i % 1000 == 0:
            progress(i)
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
