"""The rules file's schema (pydantic, frozen, unknown keys rejected). Reads no settings.

Durations are seconds or strings like "30s", "5m", "4h", "1d". Major-event start/end without a
zone are Asia/Shanghai wall time. Secrets may be given inline or, better, as *_file paths.
"""
from __future__ import annotations

import re
from datetime import datetime, time
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from streams.textnorm import EMOTICON, normalise

SHANGHAI = ZoneInfo("Asia/Shanghai")
Severity = Literal["info", "warning", "critical"]
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# surge parameters that define a subject's stored buckets: an override must not change them
STRUCTURAL = frozenset({"bucket_s", "window_buckets", "baseline_buckets", "window_s", "baseline_s", "grace_s"})


def parse_duration(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration like 30s, 5m, 4h, 1d")
    return float(match.group(1)) * _UNITS[match.group(2)]


Duration = Annotated[float, BeforeValidator(parse_duration), Field(ge=0)]


def check_watch_term(term: str) -> str:
    """A rules-file watch term that analysis can match: posts are matched after their @handles and
    emoticon codes are removed, and here a leading + or ! is not the watch-list file's require /
    exclude (a term that could never match, or would match something else, is refused)."""
    normal = normalise(term)       # as posts are: full-width "＋" is "+", invisible characters go
    if not normal:
        raise ValueError("a watch term must not be empty")
    if normal[0] in "+!":
        raise ValueError(f"{term!r}: require (+) and exclude (!) terms belong in the watch-list file "
                         "(SHAOBING_WATCHLIST_FILE); here a term is matched as written")
    if "@" in normal or "://" in normal or EMOTICON.search(normal):
        raise ValueError(f"{term!r}: @handles, links and emoticon codes are removed from posts before "
                         "matching, so this term would never match; watch the words instead")
    return term


WatchTerm = Annotated[str, AfterValidator(check_watch_term)]


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ChannelSpec(_Spec):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    type: Literal["dingtalk", "wecom", "feishu", "webhook", "email", "console"]
    url: str = Field("", repr=False)
    url_file: Path | None = None
    secret: str = Field("", repr=False)
    secret_file: Path | None = None
    mentions: tuple[str, ...] = ()          # DingTalk mobiles, WeCom user ids, Feishu open ids
    msg_type: Literal["", "post", "interactive", "markdown", "text"] = ""
    per_minute: int | None = Field(None, ge=1)
    smtp_host: str = ""
    smtp_port: int = Field(465, ge=1, le=65535)
    smtp_security: Literal["ssl", "starttls", "none"] = "ssl"
    username: str = ""
    password: str = Field("", repr=False)
    password_file: Path | None = None
    sender: str = ""
    to: tuple[str, ...] = ()


class MatchSpec(_Spec):
    subjects: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    min_severity: Severity = "info"


class RouteSpec(_Spec):
    name: str = "default"
    match: MatchSpec = MatchSpec()
    channels: tuple[str, ...] = Field(min_length=1)
    fallback: tuple[str, ...] = ()
    group_by: tuple[Literal["subject", "rule", "severity"], ...] = ("subject",)
    group_wait: Duration = 0.0
    group_interval: Duration = 300.0
    repeat_interval: Duration = 4 * 3600.0
    resolve_timeout: Duration = 7 * 86400.0   # safety net only: the producers send "resolved" (Timing)
    send_resolved: bool = True
    escalate_after: Duration | None = None


class QuietHoursSpec(_Spec):
    start: time
    end: time
    min_severity: Severity = "critical"     # what still gets through during quiet hours


class MajorEventSpec(_Spec):
    name: str = Field(min_length=1)
    start: datetime
    end: datetime
    surge: dict = Field(default_factory=dict)
    watch: tuple[WatchTerm, ...] = ()
    extra_channels: tuple[str, ...] = ()
    escalate_after: Duration | None = None

    @field_validator("start", "end")
    @classmethod
    def _shanghai(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=SHANGHAI) if value.tzinfo is None else value

    @model_validator(mode="after")
    def _ordered(self):
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class SubjectSpec(_Spec):
    name: str = Field(min_length=1)
    watch: tuple[WatchTerm, ...] = ()
    surge: dict = Field(default_factory=dict)


class LinksSpec(_Spec):
    public_url: str = ""                    # where `shaobing alerts serve` is reachable (ack, silence)
    search_url: str = ""                    # "{subject}" is replaced, URL-encoded
    ack_secret: str = Field("", repr=False)
    ack_secret_file: Path | None = None
    ack_ttl: Duration = 7 * 86400.0


class RetrySpec(_Spec):
    timeout: Duration = 10.0
    deadline: Duration = 120.0
    first_backoff: Duration = 1.0
    max_backoff: Duration = 30.0


class ReportsSpec(_Spec):
    """Scheduled 《舆情摘报》 (indexer/reports/schedule.py): daily at 08:00 Asia/Shanghai, shift
    reports at 08:00 and 20:00 while a major event is on; Markdown to `channels`."""
    daily: bool = True
    shift_in_major_events: bool = True
    channels: tuple[str, ...] = ()          # empty = the default route's channels
    console_url: str = ""                   # the console's base URL, linked from the summary


class RulesSpec(_Spec):
    version: Literal[1] = 1
    surge: dict = Field(default_factory=dict)
    subjects: tuple[SubjectSpec, ...] = ()
    channels: tuple[ChannelSpec, ...] = Field(min_length=1)
    routes: tuple[RouteSpec, ...] = ()
    default_route: RouteSpec
    quiet_hours: tuple[QuietHoursSpec, ...] = ()
    major_events: tuple[MajorEventSpec, ...] = ()
    links: LinksSpec = LinksSpec()
    retry: RetrySpec = RetrySpec()
    workers: int = Field(1, ge=1, le=64)     # workers sharing each robot: rate limits are split
    reports: ReportsSpec = ReportsSpec()
