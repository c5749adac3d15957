"""Operator alerts from Prometheus, as Alertmanager's webhook POSTs them (payload version "4"),
turned into duty-channel messages. Pure: validation, Chinese-first rendering with every label and
annotation escaped for its output, and one payload per channel kind through the channel's own
envelope (so DingTalk signing, WeCom's byte limit and Feishu's card stay in one place). The HTTP
edge is alerting/ops_receiver.py. Reads no settings.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from alerting import escape
from alerting.channels.base import Channel, json_body
from alerting.errors import AlertingError

MAX_ALERTS_SHOWN = 10
STATUS_ZH = {"firing": "告警", "resolved": "已恢复"}
SEVERITY_ZH = {"critical": "严重", "warning": "预警", "info": "提示"}


class InvalidOpsPayload(AlertingError):
    """The POSTed body is not an Alertmanager webhook payload (version 4)."""


class AmAlert(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    status: Literal["firing", "resolved"]
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: datetime | None = None
    endsAt: datetime | None = None
    generatorURL: str = ""
    fingerprint: str = ""


class AmGroup(BaseModel):
    """The body Alertmanager's webhook_config POSTs."""
    model_config = ConfigDict(extra="ignore", frozen=True)
    version: Literal["4"]
    status: Literal["firing", "resolved"]
    receiver: str = ""
    groupKey: str = ""
    truncatedAlerts: int = 0
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str = ""
    alerts: list[AmAlert] = Field(min_length=1)


def parse_group(body: bytes) -> AmGroup:
    """Validate a POSTed body; the error names the field (`alerts.0.status`) and never echoes values."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise InvalidOpsPayload(f"body is not JSON: {exc.msg} at position {exc.pos}") from None
    try:
        return AmGroup.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors()[:5])
        raise InvalidOpsPayload(f"not an Alertmanager webhook payload (version 4): {problems}") from None


def _when(t: datetime | None) -> str:
    from alerting.render import local

    return local(t, "%m-%d %H:%M:%S") if t and t.year > 1 else ""


def headline(group: AmGroup, esc) -> str:
    name = group.commonLabels.get("alertname") or group.groupLabels.get("alertname") or "多项"
    severity = SEVERITY_ZH.get(group.commonLabels.get("severity", ""), "")
    state = STATUS_ZH[group.status] if group.status == "resolved" else (severity or STATUS_ZH["firing"])
    return f"【运维{state}】{esc(name)}（{len(group.alerts)} 条）"


def alert_lines(group: AmGroup, esc, shown: int = MAX_ALERTS_SHOWN) -> list[str]:
    """One entry per alert (the first `shown`): state, summary, where, since when, description; then
    how many are not listed (those past `shown` and those Alertmanager itself truncated)."""
    lines = []
    for alert in group.alerts[:shown]:
        summary = alert.annotations.get("summary") or alert.labels.get("alertname", "")
        where = "，".join(f"{esc(k)}={esc(v, 80)}" for k, v in sorted(alert.labels.items())
                         if k not in ("alertname", "severity"))
        since = _when(alert.startsAt if alert.status == "firing" else alert.endsAt)
        lines.append(f"{STATUS_ZH[alert.status]}：{esc(summary)}" + (f"（{where}）" if where else "")
                     + (f" 自 {since}（北京时间）" if since and alert.status == "firing" else
                        f" 于 {since}（北京时间）" if since else ""))
        if alert.annotations.get("description"):
            lines.append(f"说明：{esc(alert.annotations['description'], 300)}")
    hidden = max(0, len(group.alerts) - shown) + group.truncatedAlerts
    if hidden > 0:
        lines.append(f"另有 {hidden} 条未列出")
    return lines


def markdown(group: AmGroup, shown: int = MAX_ALERTS_SHOWN) -> tuple[str, str]:
    title = headline(group, escape.plain)
    body = [f"### {headline(group, escape.markdown)}", ""] + [f"- {line}" for line in alert_lines(group, escape.markdown, shown)]
    link = escape.safe_url(group.externalURL)
    if link:
        body += ["", f"[Alertmanager]({link})"]
    return title, "\n".join(body)


def fit_markdown(group: AmGroup, budget: int) -> str:
    """The Markdown body listing as many whole alerts as fit in `budget` bytes, the rest counted
    (另有 N 条未列出), down to the headline and the count alone; cut by bytes only when even that
    does not fit."""
    for shown in range(min(len(group.alerts), MAX_ALERTS_SHOWN), -1, -1):
        body = markdown(group, shown)[1]
        if escape.utf8_len(body) <= budget:
            return body
    return escape.truncate_utf8(body, budget)


def text(group: AmGroup) -> str:
    return "\n".join([headline(group, escape.plain), *alert_lines(group, escape.plain)])


def html(group: AmGroup) -> str:
    items = "".join(f"<li>{line}</li>" for line in alert_lines(group, escape.html_text))
    return f"<html><body><h3>{headline(group, escape.html_text)}</h3><ul>{items}</ul></body></html>"


def merge(groups: list[AmGroup]) -> AmGroup:
    """Several held groups as one message (a channel's rate limit was reached)."""
    if len(groups) == 1:
        return groups[0]
    alerts = [a for g in groups for a in g.alerts]
    status = "firing" if any(a.status == "firing" for a in alerts) else "resolved"
    return AmGroup(version="4", status=status, receiver=groups[-1].receiver, alerts=alerts,
                   truncatedAlerts=sum(g.truncatedAlerts for g in groups), externalURL=groups[-1].externalURL)


def payload_for(channel: Channel, group: AmGroup) -> dict:
    """The request body for one channel, in its own envelope and within its byte limit."""
    kind = channel.kind
    if kind in ("dingtalk", "wecom", "feishu"):
        return channel.fit_wrap(escape.truncate_utf8(headline(group, escape.plain), 200),
                                lambda budget: fit_markdown(group, budget), group.status == "firing")
    if kind == "email":
        return {"subject": escape.truncate_utf8(headline(group, escape.plain), 240), "text": text(group),
                "html": html(group)}
    if kind == "webhook":
        data = group.model_dump(mode="json")
        data["receiver"] = channel.name
        while len(json_body(data)) > channel.max_bytes and len(data["alerts"]) > 1:
            data["alerts"] = data["alerts"][:-1]
            data["truncatedAlerts"] += 1
        return data
    return {"text": text(group)}     # console
