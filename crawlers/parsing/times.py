"""Chinese web time strings into aware datetimes in Asia/Shanghai. Pure: `now` is passed in.

Understands 刚刚, N秒/分钟/小时/天前, 半小时前, 今天/昨天/前天 HH:MM, MM-DD HH:MM (the latest such time
not after now), YYYY-MM-DD [HH:MM[:SS]], YYYY年M月D日 [HH:MM], slashes and dots, full-width digits,
and ISO 8601 with an offset.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from crawlers.errors import ParseError
from crawlers.parsing.numbers import halfwidth

SHANGHAI = ZoneInfo("Asia/Shanghai")

_AGO = re.compile(r"^(\d+)\s*(秒|分钟|分|小时|天|周)\s*前$")
_AGO_UNITS = {"秒": "seconds", "分钟": "minutes", "分": "minutes", "小时": "hours", "天": "days", "周": "weeks"}
_DAY_WORDS = {"今天": 0, "昨天": 1, "前天": 2}
_CLOCK = r"(?:\s*(\d{1,2}):(\d{2})(?::(\d{2}))?)?"
_DAY_CLOCK = re.compile(r"^(今天|昨天|前天)\s*(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_FULL = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?" + _CLOCK + "$")
_SHORT = re.compile(r"^(\d{1,2})[-/.月](\d{1,2})日?" + _CLOCK + "$")


def _clock(match: re.Match, first: int) -> tuple[int, int, int]:
    hour, minute, second = (match.group(first + i) for i in range(3))
    return int(hour or 0), int(minute or 0), int(second or 0)


def _build(year: int, month: int, day: int, hms: tuple[int, int, int], raw: str) -> datetime:
    try:
        return datetime(year, month, day, *hms, tzinfo=SHANGHAI)
    except ValueError as exc:
        raise ParseError(f"not a valid date: {raw!r}") from exc


def parse_cn_time(text: str, now: datetime) -> datetime:
    """Read one time as a Chinese site shows it; relative forms count back from `now` (aware)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    raw = text
    text = re.sub(r"^(发表于|发布于|发布时间[:：]?|时间[:：]?|更新于)\s*", "", halfwidth(text).strip())
    text = re.sub(r"\s+", " ", text)
    local_now = now.astimezone(SHANGHAI)
    if text in ("刚刚", "刚才"):
        return local_now
    if text == "半小时前":
        return local_now - timedelta(minutes=30)
    if m := _AGO.match(text):
        return local_now - timedelta(**{_AGO_UNITS[m.group(2)]: int(m.group(1))})
    if m := _DAY_CLOCK.match(text):
        day = local_now.date() - timedelta(days=_DAY_WORDS[m.group(1)])
        return _build(day.year, day.month, day.day, _clock(m, 2), raw)
    if m := _FULL.match(text):
        return _build(int(m.group(1)), int(m.group(2)), int(m.group(3)), _clock(m, 4), raw)
    if m := _SHORT.match(text):
        at = _build(local_now.year, int(m.group(1)), int(m.group(2)), _clock(m, 3), raw)
        # a year-less date is the latest one not in the future: "12-31" read on Jan 1 is last year
        if at > local_now + timedelta(minutes=5):
            at = _build(local_now.year - 1, at.month, at.day, (at.hour, at.minute, at.second), raw)
        return at
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ParseError(f"unknown time format: {raw[:60]!r}") from None
    return parsed.astimezone(SHANGHAI) if parsed.tzinfo else parsed.replace(tzinfo=SHANGHAI)
