"""When reports are due, and the duty-channel message for one. Pure: clocks passed in.

Due: the daily report whose period ended at the latest 08:00 (Asia/Shanghai), and, while a
major event of the rules file overlaps the shift, the shift report that ended at the latest
08:00 / 20:00. A report is due for CATCH_UP after its end, so a scheduler restarted at 08:20
still sends the 08:00 report; the archive (indexer/reports/scheduler.py) makes it once only.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from alerting.escape import markdown, safe_url, truncate_utf8
from indexer.reports.model import SHANGHAI, Period, Report, report_period
from indexer.reports.render import SECTIONS, section_lines

CATCH_UP = timedelta(hours=6)
SUMMARY_MAX_BYTES = 3500        # under every robot's limit (WeCom markdown: 4096 bytes)


def report_id(period: Period) -> str:
    return f"{period.kind}:{period.end.astimezone(SHANGHAI).strftime('%Y%m%dT%H%M')}"


def due_reports(now: datetime, spec, major_events) -> list[Period]:
    """Periods whose report should have gone out by `now` (spec: alerting ReportsSpec)."""
    due = []
    if spec.daily:
        daily = report_period("daily", now=now)
        if now - daily.end < CATCH_UP:
            due.append(daily)
    if spec.shift_in_major_events:
        shift = report_period("shift", now=now)
        if now - shift.end < CATCH_UP and any(e.start < shift.end and e.end > shift.start for e in major_events):
            due.append(shift)
    return due


def summary_markdown(report: Report, link: str = "") -> str:
    """The duty channel's Markdown: title, period, overview and the top 3 events, console link."""
    lines = section_lines(report, markdown)
    out = [f"### {markdown(report.title)}", f"{markdown(report.unit)} · "
           f"{report.period.start.astimezone(SHANGHAI):%m-%d %H:%M} 至 {report.period.end.astimezone(SHANGHAI):%m-%d %H:%M}", ""]
    out += [f"- {line}" for line in lines[SECTIONS[0]]]
    out += ["", "**重点舆情**", *lines[SECTIONS[1]][:3], "", f"**预警**：{len(report.alerts)} 条，"
            f"未确认 {sum(1 for a in report.alerts if not a.acked_by)} 条"]
    url = safe_url(link)
    if url:
        out += ["", f"[在控制台查看全文]({url})"]
    return truncate_utf8("\n".join(out), SUMMARY_MAX_BYTES)


def channel_payload(channel, title: str, text: str) -> dict | None:
    """The vendor body for a Markdown message: robots (DingTalk, WeCom, Feishu) through their own
    wrap(); the generic webhook gets a small JSON object; other kinds (email, console) None."""
    if hasattr(channel, "wrap"):
        return channel.wrap(truncate_utf8(title, 200), text)
    if channel.kind == "webhook":
        return {"kind": "report", "title": title, "markdown": text}
    return None
