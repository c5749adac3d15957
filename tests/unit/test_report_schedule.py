"""When scheduled reports are due, and their duty-channel message (pure)."""
from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace

from alerting.channels.dingtalk import DingTalkChannel
from alerting.channels.webhook import WebhookChannel
from alerting.rules_schema import MajorEventSpec, ReportsSpec
from indexer.reports.model import SHANGHAI, build_report, report_period
from indexer.reports.schedule import channel_payload, due_reports, report_id, summary_markdown
from tests.unit.test_reports import HOSTILE, SETTINGS, data

EVENT = MajorEventSpec(name="两会", start=datetime(2026, 11, 27, 0, 0), end=datetime(2026, 11, 28, 0, 0))


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def ids(now, events=(), spec=ReportsSpec()):
    return [report_id(p) for p in due_reports(now, spec, events)]


def test_daily_due_from_0800_for_six_hours():
    assert ids(at(27, 7, 59)) == []             # the last daily report ended 23 h 59 min ago: past its catch-up
    assert ids(at(27, 8, 0)) == ["daily:20261127T0800"]
    assert ids(at(27, 13, 59)) == ["daily:20261127T0800"]
    assert ids(at(27, 14, 0)) == []
    assert ids(at(27, 8, 5), spec=ReportsSpec(daily=False)) == []


def test_shift_reports_only_inside_major_events():
    assert ids(at(27, 20, 1), [EVENT]) == ["shift:20261127T2000"]
    assert ids(at(27, 8, 1), [EVENT]) == ["daily:20261127T0800", "shift:20261127T0800"]
    assert ids(at(28, 20, 1), [EVENT]) == []                      # the event ended at 00:00 on the 28th
    assert ids(at(27, 20, 1)) == []


def test_summary_escapes_and_links_only_http():
    report = build_report(data(), report_period("daily", day=date(2026, 11, 27)), SETTINGS)
    text = summary_markdown(report, "http://console.example/#/reports")
    assert "<script>" not in text and "＜script＞" in text and HOSTILE not in text
    assert text.endswith("[在控制台查看全文](http://console.example/#/reports)")
    assert "未确认 1 条" in text
    assert "javascript" not in summary_markdown(report, "javascript:alert(1)").split("**预警**")[1]


def test_channel_payloads():
    ding = channel_payload(DingTalkChannel("d", "https://oapi.dingtalk.com/robot/send?access_token=x"), "标题", "正文")
    assert ding["msgtype"] == "markdown" and ding["markdown"] == {"title": "标题", "text": "正文"}
    assert channel_payload(WebhookChannel("w", "http://hook.example/"), "标题", "正文") == \
        {"kind": "report", "title": "标题", "markdown": "正文"}
    assert channel_payload(SimpleNamespace(kind="email"), "标题", "正文") is None
