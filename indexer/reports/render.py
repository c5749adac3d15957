"""Renderers of a Report: Markdown (duty channel), HTML (console), DOCX (offices exchange Word
files). Pure apart from python-docx building bytes in memory. Crawled text is hostile: Markdown
goes through alerting.escape.markdown (full-width forms, one line), HTML through html_text, DOCX
through plain (control characters would make the XML invalid); links only http(s) (safe_url).
Markdown and HTML are deterministic: the same Report gives the same bytes."""
from __future__ import annotations

import io
from collections.abc import Callable

from alerting.escape import html_text, markdown, plain, safe_url
from indexer.reports.model import ALERT_STATUS_ZH, SENTIMENT_ZH, SHANGHAI, Report

SECTIONS = ("一、总体态势", "二、重点舆情", "三、预警情况", "四、新出现的话题", "附：原文链接")
TIME = "%Y-%m-%d %H:%M"


def _when(dt) -> str:
    return dt.astimezone(SHANGHAI).strftime(TIME)


def _period(report: Report) -> str:
    return f"{_when(report.period.start)} 至 {_when(report.period.end)}（北京时间）"


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def section_lines(report: Report, esc: Callable[[str], str]) -> dict[str, list[str]]:
    """Each section's sentences, crawled text already passed through `esc` (our own text is safe)."""
    ov = report.overview
    if ov.change is None:
        change = "上一周期无数据"
    else:
        change = f"较上一周期（{ov.previous_total} 条）{'增加' if ov.change >= 0 else '减少'} {_pct(abs(ov.change))}"
    sites = "、".join(f"{esc(s)}（{n} 条）" for s, n in ov.top_sites) or "无"
    overview = [f"本期共监测到相关信息 {ov.total} 条，{change}。",
                f"负面信息 {ov.negative} 条，占 {_pct(ov.negative_share)}。",
                f"主要来源：{sites}。"]
    events = []
    for e in report.events:
        senti = "，".join(f"{SENTIMENT_ZH.get(k, esc(k))} {n}" for k, n in e.sentiments)
        sites = "、".join(esc(s) for s in e.sites)
        events.append(f"{e.rank}. {esc(e.title)}：首发于 {esc(e.first_site)}（{_when(e.first_at)}），"
                      f"共 {e.posts} 条，转载 {e.reposts} 条，涉及站点 {len(e.sites)} 个（{sites}）；"
                      f"倾向：{senti}；处置状态：{e.status}。")
    alerts = [f"{_when(a.fired_at)} {esc(a.subject)}（{esc(a.rule)}/{esc(a.severity)}，"
              f"{ALERT_STATUS_ZH.get(a.status, esc(a.status))}）："
              f"{a.count} 条，负面 {_pct(a.negative_share)}，"
              + (f"已确认（{esc(a.acked_by)}）" if a.acked_by else "未确认") for a in report.alerts]
    topics = []
    if report.new_subjects:
        topics.append("新出现的主题：" + "、".join(f"{esc(k)}（{n} 条）" for k, n in report.new_subjects) + "。")
    if report.new_keywords:
        topics.append("新出现的关键词：" + "、".join(f"{esc(k)}（{n} 条）" for k, n in report.new_keywords) + "。")
    return {SECTIONS[0]: overview, SECTIONS[1]: events or ["本期无重点舆情。"],
            SECTIONS[2]: alerts or ["本期无预警。"], SECTIONS[3]: topics or ["本期无新出现的话题。"]}


def render_markdown(report: Report) -> str:
    out = [f"# {markdown(report.title)}", "", f"报送单位：{markdown(report.unit)}  ", f"报告时段：{_period(report)}", ""]
    for heading, lines in section_lines(report, markdown).items():
        numbered = heading == SECTIONS[1] and report.events      # events carry their rank: "1. …"
        out += [f"## {heading}", "", *(line if numbered else f"- {line}" for line in lines), ""]
    out += [f"## {SECTIONS[4]}", ""]
    for label, url in report.links:
        link = safe_url(url)
        out.append(f"- [{markdown(label)}]({link})" if link else f"- {markdown(label)}（链接无效，未列出）")
    if not report.links:
        out.append("- 无")
    return "\n".join(out) + "\n"


def render_html(report: Report) -> str:
    out = ["<!doctype html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
           f"<title>{html_text(report.title)}</title></head><body>",
           f"<h1>{html_text(report.title)}</h1>",
           f"<p>报送单位：{html_text(report.unit)}</p>", f"<p>报告时段：{_period(report)}</p>"]
    for heading, lines in section_lines(report, html_text).items():
        out.append(f"<h2>{heading}</h2>")
        out += [f"<p>{line}</p>" for line in lines]
    out.append(f"<h2>{SECTIONS[4]}</h2><ul>")
    for label, url in report.links:
        link = safe_url(url)
        out.append(f'<li><a href="{html_text(link, 2000)}" rel="noopener noreferrer">{html_text(label)}</a></li>'
                   if link else f"<li>{html_text(label)}（链接无效，未列出）</li>")
    out.append("</ul></body></html>")
    return "\n".join(out) + "\n"


def render_docx(report: Report) -> bytes:
    from docx import Document

    doc = Document()
    doc.add_heading(plain(report.title), level=0)
    doc.add_paragraph(f"报送单位：{plain(report.unit)}")
    doc.add_paragraph(f"报告时段：{_period(report)}")
    for heading, lines in section_lines(report, plain).items():
        doc.add_heading(heading, level=1)
        for line in lines:
            doc.add_paragraph(line)
    doc.add_heading(SECTIONS[4], level=1)
    for label, url in report.links:
        doc.add_paragraph(f"{plain(label)}：{safe_url(url) or '链接无效，未列出'}")
    if not report.links:
        doc.add_paragraph("无")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


RENDERERS = {"md": render_markdown, "html": render_html, "docx": render_docx}
