"""The Alert a duty channel renders, built from a `streams.records.Surge`. Reads no settings.

Text fields copied from crawled posts are kept raw here; every renderer escapes them for its own
output (alerting.render), so no channel can forget to.
"""
from __future__ import annotations

import hashlib
from collections import Counter
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from streams.records import SamplePost, Surge

RULE_NAMES_ZH = {"surge": "声量突增", "negative_surge": "负面突增", "threshold": "声量超阈值"}
SEVERITY_ZH = {"info": "提示", "warning": "预警", "critical": "严重"}


def dedup_key(rule: str, subject: str) -> str:
    """Stable per rule and subject: the same key in Kafka, Elasticsearch and every channel."""
    digest = hashlib.sha256(f"{rule}\x1f{subject}".encode("utf-8")).hexdigest()
    return f"sb-{digest[:20]}"


class AlertLinks(BaseModel):
    model_config = ConfigDict(frozen=True)
    search: str = ""
    ack: str = ""
    silence: str = ""


class Alert(BaseModel):
    model_config = ConfigDict(frozen=True)

    dedup_key: str
    status: Literal["firing", "resolved"] = "firing"
    subject: str
    rule: str
    severity: Literal["info", "warning", "critical"]
    window_start: AwareDatetime
    window_end: AwareDatetime
    count: int
    baseline: float
    negative_share: float
    samples: tuple[SamplePost, ...] = ()
    detected_at: AwareDatetime
    first_produced_at: AwareDatetime | None = None
    trend: tuple[int, ...] = ()
    links: AlertLinks = Field(default_factory=AlertLinks)
    occurrence: int = 1                     # how many episodes this dedup key has had
    notice: Literal["new", "repeat", "resolved", "escalation"] = "new"
    sent_at: AwareDatetime | None = None    # set just before rendering, to show the latency
    score: float | None = None              # spreads above this hour's usual (the detector's why)
    since: AwareDatetime | None = None      # when the surge episode started
    peak: float | None = None               # the subject's usual daily peak score that `score` beat
    record: float | None = None             # the recent highest bucket this one beat (record gate)

    @classmethod
    def from_surge(cls, surge: Surge, *, links: AlertLinks | None = None, occurrence: int = 1) -> "Alert":
        return cls(dedup_key=dedup_key(surge.rule, surge.subject), status=surge.status, subject=surge.subject,
                   rule=surge.rule, severity=surge.severity, window_start=surge.window_start,
                   window_end=surge.window_end, count=surge.count, baseline=surge.baseline,
                   negative_share=surge.negative_share, samples=tuple(surge.samples),
                   detected_at=surge.detected_at, first_produced_at=surge.first_produced_at,
                   trend=tuple(surge.trend), links=links or AlertLinks(), occurrence=occurrence,
                   score=surge.score, since=surge.since, peak=surge.peak,
                   record=surge.record)

    @property
    def ratio(self) -> float | None:
        """How many times the usual volume; None when the subject was silent before."""
        return round(self.count / self.baseline, 1) if self.baseline >= 0.5 else None

    @property
    def window_minutes(self) -> float:
        return round((self.window_end - self.window_start).total_seconds() / 60, 1)

    @property
    def top_sites(self) -> list[tuple[str, int]]:
        return Counter(s.site for s in self.samples).most_common(3)

    @property
    def first_post(self) -> SamplePost | None:
        return min(self.samples, key=lambda s: s.published_at) if self.samples else None

    def latency_s(self, sent_at: datetime) -> float | None:
        """Seconds from the first surge post entering the pipeline to sending the alert."""
        if self.first_produced_at is None:
            return None
        return max(0.0, (sent_at - self.first_produced_at).total_seconds())

    @property
    def rule_zh(self) -> str:
        return RULE_NAMES_ZH.get(self.rule, self.rule)

    @property
    def severity_zh(self) -> str:
        return SEVERITY_ZH[self.severity]
