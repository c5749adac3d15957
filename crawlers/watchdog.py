"""Watchdog for silent or broken sources. Pure: fed one per-source crawl summary at a time with
`now` passed in; no Kafka, no Scrapy. Rules, each judged against the source's own history:

- source_quiet: no new post for longer than `quiet_factor` times the source's usual gap between
  rounds that brought new posts (and at least `min_quiet_s`).
- source_extraction: the share of required fields that came out empty jumped above
  `empty_share` (a layout change: selectors still match the page, but not the content).
- source_errors: `error_rounds` rounds in a row with errors and no page fetched.
- source_rejected / source_blocked / source_login_required: the round had posts Kafka refused
  as too large (dead-lettered), pages that were a verification wall or a 403/429/567 burst (the
  crawl of that source backed off), or boards that need a login (nothing readable, not "empty").

Each rule reports firing on the round it starts and resolved on the round it stops, so the
alerting lifecycle sees one episode. Findings become `surges` records (`to_surge`) routed by
rule name to the operators. Config (WatchdogParams) is frozen; runtime state lives in Watchdog.
"""
from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from streams.records import Surge


@dataclass(frozen=True)
class WatchdogParams:
    quiet_factor: float = 4.0
    min_quiet_s: float = 600.0
    min_gaps: int = 3                  # gaps between new-post rounds needed before judging the rhythm
    empty_share: float = 0.3
    min_fields: int = 10               # fields read in a round before its empty share counts
    error_rounds: int = 3


# rule -> (the summary count that makes it fire while above zero, what it says)
COUNT_RULES = {
    "source_rejected": ("posts_rejected", "{n} posts too large for Kafka, sent to the dead-letter topic"),
    "source_blocked": ("pages_blocked", "{n} pages were a verification wall or HTTP 403/429/567: backed off"),
    "source_login_required": ("login_required", "{n} boards need a login (not readable, not empty)"),
}


@dataclass(frozen=True)
class Finding:
    source: str
    rule: str
    status: str                        # "firing" | "resolved"
    value: float                       # quiet seconds, empty share, or error rounds
    threshold: float
    detail: str


@dataclass
class _History:
    new_post_at: deque = field(default_factory=lambda: deque(maxlen=50))
    first_seen: datetime | None = None
    error_rounds: int = 0
    firing: dict = field(default_factory=dict)         # rule -> the Finding that started it


class Watchdog:
    def __init__(self, params: WatchdogParams = WatchdogParams()):
        self.params = params
        self._history: dict[str, _History] = {}

    def _quiet(self, h: _History, now: datetime) -> tuple[bool, float, float]:
        last = h.new_post_at[-1] if h.new_post_at else h.first_seen
        quiet_s = (now - last).total_seconds()
        times = list(h.new_post_at)
        gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:])]
        if len(gaps) < self.params.min_gaps:
            return False, quiet_s, float("inf")
        limit = max(self.params.min_quiet_s, self.params.quiet_factor * statistics.median(gaps))
        return quiet_s > limit, quiet_s, limit

    def observe(self, source: str, summary: dict, now: datetime) -> list[Finding]:
        """Feed one round's summary of one source; returns the rules that started or stopped firing."""
        h = self._history.setdefault(source, _History(first_seen=now))
        if summary.get("posts_new", 0) > 0:
            h.new_post_at.append(now)
        fetched = summary.get("pages_fetched", 0) + summary.get("pages_not_modified", 0)
        h.error_rounds = h.error_rounds + 1 if summary.get("errors", 0) and not fetched else 0

        checks: dict[str, tuple[bool, float, float, str]] = {}
        quiet, quiet_s, limit = self._quiet(h, now)
        checks["source_quiet"] = (quiet, quiet_s, limit, f"{quiet_s:.0f}s since the last new post (usual rhythm allows {limit:.0f}s)")
        read = summary.get("fields_read", 0)
        if read >= self.params.min_fields:
            share = summary.get("fields_empty", 0) / read
            checks["source_extraction"] = (share > self.params.empty_share, share, self.params.empty_share,
                                           f"{share:.0%} of {read} required fields empty")
        checks["source_errors"] = (h.error_rounds >= self.params.error_rounds, h.error_rounds,
                                   self.params.error_rounds, f"{h.error_rounds} rounds in a row with only errors")
        for rule, (key, text) in COUNT_RULES.items():
            n = summary.get(key, 0)
            checks[rule] = (n > 0, n, 0, text.format(n=n))
        changes = []
        for rule, (bad, value, threshold, detail) in checks.items():
            if bad and rule not in h.firing:
                h.firing[rule] = Finding(source, rule, "firing", value, threshold, detail)
                changes.append(h.firing[rule])
            elif not bad and rule in h.firing:
                del h.firing[rule]
                changes.append(Finding(source, rule, "resolved", value, threshold, detail))
        return changes

    def firing(self, source: str) -> set[str]:
        return set(self._history[source].firing) if source in self._history else set()


def _finite(value: float) -> float:
    return value if value != float("inf") else 0.0


def to_surge(finding: Finding, now: datetime, window_s: float = 300.0) -> Surge:
    """A finding as a `surges` record; subject `信息源:<name>` so operators' routes can match `信息源:*`."""
    return Surge(subject=f"信息源:{finding.source}", rule=finding.rule,
                 severity="critical" if finding.rule in ("source_errors", "source_blocked") else "warning", status=finding.status,
                 window_start=now - timedelta(seconds=window_s), window_end=now, count=int(round(finding.value * 100))
                 if finding.rule == "source_extraction" else int(finding.value),
                 baseline=_finite(finding.threshold * 100 if finding.rule == "source_extraction" else finding.threshold),
                 negative_share=0.0, detected_at=now)
