"""Pure parsing of the API's query parameters into indexer requests. Every mistake raises
BadParameter naming the parameter, which the app turns into HTTP 400. Reads no settings.

Times are ISO 8601 (`2026-11-26T08:00`, `2026-11-26`); without an offset they are Asia/Shanghai.
"""
from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from indexer.analytics import INTERVALS, MAX_SPREAD_STORIES
from indexer.queries import KINDS, MODES, SENTIMENTS, SORTS, SearchRequest

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_PAGE = 100
MAX_EXPORT_ROWS = 100_000
MAX_TEXT = 200
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")

FILTERS = ("q", "mode", "since", "until", "site", "kind", "sentiment", "entity", "subject", "first_only")
SEARCH_PARAMS = (*FILTERS, "sort", "size", "cursor", "highlight")
TREND_PARAMS = (*FILTERS, "interval")
FACET_PARAMS = (*FILTERS, "size")
EXPORT_PARAMS = (*FILTERS, "limit")
ALERT_PARAMS = ("status", "subject", "since", "until", "size", "cursor")
ALERT_STATUSES = ("firing", "resolved", "failed")


class BadParameter(ValueError):
    def __init__(self, parameter: str, message: str):
        super().__init__(f"{parameter}: {message}")
        self.parameter, self.message = parameter, message


Params = dict[str, list[str]]


def collect(items: list[tuple[str, str]], allowed: tuple[str, ...]) -> Params:
    """Group repeated query parameters; an unknown one is an error, not silently ignored."""
    params: Params = {}
    for key, value in items:
        if key not in allowed:
            raise BadParameter(key, f"未知参数 / unknown parameter; allowed: {', '.join(allowed)}")
        params.setdefault(key, []).append(value)
    return params


def _one(params: Params, name: str, default: str | None = None) -> str | None:
    values = params.get(name)
    if not values:
        return default
    if len(values) > 1:
        raise BadParameter(name, "只能出现一次 / given more than once")
    return values[0]


def _choice(params: Params, name: str, choices: tuple[str, ...], default: str | None = None) -> str | None:
    value = _one(params, name, default)
    if value is not None and value not in choices:
        raise BadParameter(name, f"须为 {' | '.join(choices)} 之一 / must be one of {', '.join(choices)}")
    return value


def _int(params: Params, name: str, default: int, lo: int, hi: int) -> int:
    raw = _one(params, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadParameter(name, f"不是整数 / not an integer: {raw[:40]!r}") from None
    if not lo <= value <= hi:
        raise BadParameter(name, f"须在 {lo} 到 {hi} 之间 / must be between {lo} and {hi}")
    return value


def _bool(params: Params, name: str, default: bool) -> bool:
    raw = _one(params, name)
    if raw is None:
        return default
    if raw.lower() in TRUE:
        return True
    if raw.lower() in FALSE:
        return False
    raise BadParameter(name, "须为 true 或 false / must be true or false")


def parse_time(raw: str, name: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise BadParameter(name, f"日期格式错误 / not an ISO 8601 time: {raw[:40]!r}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=SHANGHAI)
    return value.astimezone(timezone.utc)


def _time(params: Params, name: str) -> datetime | None:
    raw = _one(params, name)
    return parse_time(raw, name) if raw else None


def _texts(params: Params, name: str) -> tuple[str, ...]:
    values = tuple(v.strip() for v in params.get(name, []) if v.strip())
    for v in values:
        if len(v) > MAX_TEXT:
            raise BadParameter(name, f"过长 / longer than {MAX_TEXT} characters")
    return values


def encode_cursor(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(raw: str | None, kind: type):
    if not raw:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except ValueError:
        raise BadParameter("cursor", "无效的翻页游标 / not a cursor from a previous page") from None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise BadParameter("cursor", "无效的翻页游标 / not a cursor from a previous page")
    return value


def parse_filters(params: Params, **extra) -> SearchRequest:
    text = _one(params, "q", "") or ""
    if len(text) > MAX_TEXT:
        raise BadParameter("q", f"过长 / longer than {MAX_TEXT} characters")
    kinds = _texts(params, "kind")
    for kind in kinds:
        if kind not in KINDS:
            raise BadParameter("kind", f"须为 {' | '.join(KINDS)} 之一 / must be one of {', '.join(KINDS)}")
    since, until = _time(params, "since"), _time(params, "until")
    if since and until and since >= until:
        raise BadParameter("until", "须晚于 since / must be later than since")
    entities = _texts(params, "entity")
    if len(entities) > 1:
        raise BadParameter("entity", "只能出现一次 / given more than once")
    return SearchRequest(
        text=text.strip(), mode=_choice(params, "mode", MODES, "phrase"), sites=_texts(params, "site"), kinds=kinds,
        subjects=_texts(params, "subject"), sentiment=_choice(params, "sentiment", SENTIMENTS),
        entity=entities[0] if entities else None, since=since, until=until,
        reposts=not _bool(params, "first_only", False), **extra)


def parse_search(params: Params) -> tuple[SearchRequest, int]:
    """(request, offset): offset is the spread sort's page start (it pages by position)."""
    sort = _choice(params, "sort", SORTS, "relevance")
    size = _int(params, "size", 20, 1, MAX_PAGE)
    offset, after = 0, ()
    if sort == "spread":
        offset = decode_cursor(_one(params, "cursor"), int) or 0
        if not 0 <= offset <= MAX_SPREAD_STORIES - size:
            raise BadParameter("cursor", f"按传播排序最多翻到第 {MAX_SPREAD_STORIES} 条 / spread pages stop at {MAX_SPREAD_STORIES}")
    else:
        after = tuple(decode_cursor(_one(params, "cursor"), list) or ())
    req = parse_filters(params, sort=sort, size=size, search_after=after,
                        highlight=_bool(params, "highlight", True))
    return req, offset


def parse_trend(params: Params) -> tuple[SearchRequest, str]:
    interval = _choice(params, "interval", tuple(INTERVALS), "hour")
    req = parse_filters(params)
    if interval == "hour" and req.since and req.until and (req.until - req.since).days > 92:
        raise BadParameter("interval", "按小时最多 92 天 / hourly trends cover at most 92 days; use day")
    return req, interval


def parse_facets(params: Params) -> tuple[SearchRequest, int]:
    size = _int(params, "size", 10, 1, 50)
    return parse_filters(params), size


def parse_export(params: Params) -> tuple[SearchRequest, int]:
    limit = _int(params, "limit", MAX_EXPORT_ROWS, 1, MAX_EXPORT_ROWS)
    return parse_filters(params, sort="time", highlight=False), limit


def parse_alerts(params: Params) -> dict:
    since, until = _time(params, "since"), _time(params, "until")
    subjects = _texts(params, "subject")
    return {"status": _choice(params, "status", ALERT_STATUSES), "subject": subjects[0] if subjects else None,
            "since": since, "until": until, "size": _int(params, "size", 50, 1, MAX_PAGE),
            "search_after": tuple(decode_cursor(_one(params, "cursor"), list) or ())}


PARAM_DOCS = {
    "q": "检索词 / the text to find", "mode": "phrase (default: the whole text as a phrase) | words (every word)",
    "since": "起始时间 ISO 8601 (Asia/Shanghai without offset)", "until": "截止时间 (exclusive)",
    "site": "站点 (repeatable)", "kind": f"类型 {' | '.join(KINDS)} (repeatable)",
    "sentiment": " | ".join(SENTIMENTS), "entity": "人名/地名/机构名", "subject": "监测主题 (repeatable)",
    "first_only": "仅首发 true|false", "sort": " | ".join(SORTS), "size": f"page size, at most {MAX_PAGE}",
    "cursor": "`next` of the previous page", "highlight": "true|false", "interval": " | ".join(INTERVALS),
    "limit": f"rows, at most {MAX_EXPORT_ROWS}", "status": " | ".join(ALERT_STATUSES),
}


def openapi_parameters(names: tuple[str, ...]) -> dict:
    """The OpenAPI description of a route's query parameters, from the same names the parser allows."""
    return {"parameters": [{"name": n, "in": "query", "required": False, "schema": {"type": "string"},
                            "description": PARAM_DOCS[n]} for n in names]}
