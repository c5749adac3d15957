"""The 《舆情摘报》 as data: reporting periods and the pure `build_report(data, period, settings)`.
`data` is what indexer.reports.gather read from the index (plain dicts); the Report is what
every renderer (md, html, docx) shows, in the office's order. No I/O; reads only
settings.report_unit. Same data and period -> the same Report (every list has a tie-break).

Period convention (Asia/Shanghai): a report ends at 08:00 of --date (or at --until).
daily = the 24 h before; weekly = the 7 days before; shift = the 12 h before the latest 08:00 or
20:00 at or before --until (or now). The previous period is the same length, just before.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from indexer.console import SHANGHAI

PERIODS = {"daily": ("日报", timedelta(days=1)), "weekly": ("周报", timedelta(days=7)),
           "shift": ("交班报", timedelta(hours=12))}
REPORT_HOUR = 8
SHIFT_HOURS = (8, 20)
SENTIMENT_ZH = {"negative": "负面", "neutral": "中性", "positive": "正面"}
ALERT_STATUS_ZH = {"firing": "告警", "resolved": "已恢复", "failed": "发送失败"}
MAX_EVENTS = 10
MAX_NEW_TOPICS = 10


@dataclass(frozen=True)
class Period:
    kind: str
    start: datetime
    end: datetime          # exclusive

    @property
    def previous(self) -> "Period":
        return Period(self.kind, self.start - (self.end - self.start), self.start)


def report_period(kind: str, *, day: date | None = None, until: datetime | None = None,
                  now: datetime | None = None) -> Period:
    """The period a report covers; raises ValueError naming the bad argument."""
    if kind not in PERIODS:
        raise ValueError(f"--period must be one of {', '.join(PERIODS)}, not {kind!r}")
    length = PERIODS[kind][1]
    if until is not None:
        end = until if until.tzinfo else until.replace(tzinfo=SHANGHAI)
    elif day is not None:
        end = datetime.combine(day, time(REPORT_HOUR), SHANGHAI)
    else:
        if now is None:
            raise ValueError("report_period needs --date, --until or now")
        local = now.astimezone(SHANGHAI)
        if kind == "shift":
            end = _last_shift_change(local)
        else:
            end = datetime.combine(local.date(), time(REPORT_HOUR), SHANGHAI)
            if end > local:
                end -= timedelta(days=1)
    if kind == "shift" and until is not None:
        end = _last_shift_change(end.astimezone(SHANGHAI))
    end = end.astimezone(SHANGHAI)
    return Period(kind, end - length, end)


def _last_shift_change(local: datetime) -> datetime:
    for days_back in (0, 1):
        day = local.date() - timedelta(days=days_back)
        for hour in sorted(SHIFT_HOURS, reverse=True):
            at = datetime.combine(day, time(hour), SHANGHAI)
            if at <= local:
                return at
    raise AssertionError("unreachable: a shift change happens every 12 hours")


@dataclass(frozen=True)
class Overview:
    total: int
    previous_total: int
    negative: int
    top_sites: tuple[tuple[str, int], ...]

    @property
    def change(self) -> float | None:
        """Relative change vs the previous period; None when the previous period had no posts."""
        return None if not self.previous_total else (self.total - self.previous_total) / self.previous_total

    @property
    def negative_share(self) -> float:
        return self.negative / self.total if self.total else 0.0


@dataclass(frozen=True)
class KeyEvent:
    rank: int
    title: str
    first_site: str
    first_at: datetime
    first_url: str
    posts: int               # posts of the story in the period (首发 + reposts)
    reposts: int
    sites: tuple[str, ...]
    sentiments: tuple[tuple[str, int], ...]    # (label, count), negative first
    status: str              # the case file's status, or 未立档


@dataclass(frozen=True)
class AlertLine:
    fired_at: datetime
    subject: str
    rule: str
    severity: str
    status: str              # firing / resolved / failed (the alert history's status)
    count: int
    negative_share: float
    acked_by: str | None     # None: not acknowledged


@dataclass(frozen=True)
class Report:
    title: str
    unit: str
    period: Period
    overview: Overview
    events: tuple[KeyEvent, ...]
    alerts: tuple[AlertLine, ...]
    new_subjects: tuple[tuple[str, int], ...]
    new_keywords: tuple[tuple[str, int], ...]
    links: tuple[tuple[str, str], ...] = field(default=())    # (label, url) for the appendix

    @property
    def empty(self) -> bool:
        return self.overview.total == 0 and not self.alerts


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone(SHANGHAI)


def _counts(rows) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(((str(k), int(c)) for k, c in rows), key=lambda kc: (-kc[1], kc[0])))


def _new(current, previous) -> tuple[tuple[str, int], ...]:
    seen = {k for k, _ in previous}
    return _counts((k, c) for k, c in current if k not in seen)[:MAX_NEW_TOPICS]


def build_report(data: dict, period: Period, settings) -> Report:
    """The report for `period` from gathered `data` (see indexer.reports.gather.gather)."""
    overview = Overview(total=data["total"], previous_total=data["previous_total"], negative=data["negative"],
                        top_sites=_counts(data["sites"])[:5])
    stories = sorted(data["stories"], key=lambda s: (-s["count"], s["first"]["published_at"], s["cluster_id"]))
    events = []
    for rank, story in enumerate(stories[:MAX_EVENTS], start=1):
        first = story["first"]
        sentiments = tuple(sorted(story["sentiments"].items(),
                                  key=lambda kv: (list(SENTIMENT_ZH).index(kv[0]) if kv[0] in SENTIMENT_ZH else 9, kv[0])))
        events.append(KeyEvent(rank=rank, title=first.get("title") or first.get("text", "")[:40],
                               first_site=first["site"], first_at=_parse(first["published_at"]),
                               first_url=first.get("url", ""), posts=story["count"], reposts=story["count"] - 1,
                               sites=tuple(sorted(story["sites"])), sentiments=sentiments,
                               status=data.get("case_status", {}).get(story["cluster_id"], "未立档")))
    alerts = tuple(AlertLine(fired_at=_parse(a["fired_at"]), subject=a["subject"], rule=a.get("rule", ""),
                             severity=a.get("severity", ""), status=a.get("status", ""), count=int(a.get("count", 0)),
                             negative_share=float(a.get("negative_share", 0.0)),
                             acked_by=(a.get("ack") or {}).get("by") if a.get("ack") else None)
                   for a in sorted(data["alerts"], key=lambda a: (a["fired_at"], a["alert_id"])))
    links = tuple((f"{e.rank}. {e.title}", e.first_url) for e in events)
    label = PERIODS[period.kind][0]
    return Report(title=f"重要舆情摘报（{label}）", unit=getattr(settings, "report_unit", ""), period=period,
                  overview=overview, events=tuple(events), alerts=alerts,
                  new_subjects=_new(data["subjects"], data["previous_subjects"]),
                  new_keywords=_new(data["keywords"], data["previous_keywords"]), links=links)
