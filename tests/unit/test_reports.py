"""The pure report builder and its renderers: periods, numbers, order, tie-breaks, hostile text."""
from __future__ import annotations

import io
from datetime import date, datetime, timezone
from types import SimpleNamespace

import pytest
from docx import Document

from indexer.reports.model import SHANGHAI, build_report, report_period
from indexer.reports.render import SECTIONS, render_docx, render_html, render_markdown

SETTINGS = SimpleNamespace(report_unit="某县网信办")
HOSTILE = '<script>alert(1)</script>[点我](javascript:alert(2))\n# 假标题'
PERIOD = report_period("daily", day=date(2026, 11, 27))


def _story(cluster, count, at, title, site="bbs", url="http://bbs.example/1", sentiments=None):
    return {"cluster_id": cluster, "count": count, "sites": [site, "news"],
            "first": {"post_id": cluster, "site": site, "url": url, "title": title, "text": "", "published_at": at},
            "sentiments": sentiments or {"neutral": count}}


def data(**over) -> dict:
    base = {
        "total": 12, "previous_total": 8, "negative": 3, "sites": [("news", 4), ("bbs", 8)],
        "stories": [_story("b", 3, "2026-11-26T03:00:00+00:00", "乙事件"),
                    _story("a", 3, "2026-11-26T03:00:00+00:00", "甲事件", sentiments={"positive": 1, "negative": 2}),
                    _story("c", 5, "2026-11-26T05:00:00+00:00", HOSTILE, url="javascript:alert(3)")],
        "subjects": [("青石镇", 9), ("柳河乡", 2)], "previous_subjects": [("青石镇", 5)],
        "keywords": [("异味", 4), ("菜价", 1)], "previous_keywords": [("菜价", 2)],
        "alerts": [{"alert_id": "x:2", "fired_at": "2026-11-26T04:00:00+00:00", "subject": "青石镇", "rule": "surge",
                    "severity": "warning", "status": "firing", "count": 5, "negative_share": 0.8, "ack": {"by": "张三"}},
                   {"alert_id": "x:1", "fired_at": "2026-11-26T04:00:00+00:00", "subject": HOSTILE, "rule": "surge",
                    "severity": "critical", "status": "resolved", "count": 7, "negative_share": 0.5, "ack": None}],
        "case_status": {"a": "跟踪中"},
    }
    return {**base, **over}


def test_periods_end_at_0800_shanghai():
    assert PERIOD.start == datetime(2026, 11, 26, 8, tzinfo=SHANGHAI)
    assert PERIOD.end == datetime(2026, 11, 27, 8, tzinfo=SHANGHAI)
    assert PERIOD.previous.end == PERIOD.start
    weekly = report_period("weekly", day=date(2026, 11, 27))
    assert (weekly.end - weekly.start).days == 7
    shift = report_period("shift", until=datetime(2026, 11, 27, 19, 59, tzinfo=SHANGHAI))
    assert (shift.start, shift.end) == (datetime(2026, 11, 26, 20, tzinfo=SHANGHAI), datetime(2026, 11, 27, 8, tzinfo=SHANGHAI))
    early = report_period("daily", now=datetime(2026, 11, 27, 23, 30, tzinfo=timezone.utc))   # 07:30 on the 28th
    assert early.end == datetime(2026, 11, 27, 8, tzinfo=SHANGHAI)
    with pytest.raises(ValueError, match="--period"):
        report_period("monthly", day=date(2026, 11, 27))


def test_numbers_order_and_tie_breaks():
    r = build_report(data(), PERIOD, SETTINGS)
    assert r.unit == "某县网信办" and r.title == "重要舆情摘报（日报）"
    assert (r.overview.total, r.overview.previous_total, r.overview.change, r.overview.negative_share) == (12, 8, 0.5, 0.25)
    assert r.overview.top_sites == (("bbs", 8), ("news", 4))
    # spread first; equal spread -> earlier 首发, then cluster id
    assert [e.first_site and e.title for e in r.events] == [HOSTILE, "甲事件", "乙事件"]
    assert [(e.posts, e.reposts, e.status) for e in r.events] == [(5, 4, "未立档"), (3, 2, "跟踪中"), (3, 2, "未立档")]
    assert r.events[1].sentiments == (("negative", 2), ("positive", 1))
    assert [a.subject for a in r.alerts] == [HOSTILE, "青石镇"]           # same time: alert id breaks the tie
    assert [a.acked_by for a in r.alerts] == [None, "张三"]
    assert r.new_subjects == (("柳河乡", 2),) and r.new_keywords == (("异味", 4),)


def test_markdown_escapes_hostile_text_and_drops_bad_links():
    md = render_markdown(build_report(data(), PERIOD, SETTINGS))
    assert [line for line in md.splitlines() if line.startswith("## ")] == [f"## {s}" for s in SECTIONS]
    assert "<script>" not in md and "](javascript" not in md and "\n# 假标题" not in md
    assert "＜script＞" in md and "［点我］" in md
    assert "- [2. 甲事件](http://bbs.example/1)" in md
    assert "较上一周期（8 条）增加 50.0%" in md and "负面信息 3 条，占 25.0%" in md
    assert "- 2026-11-26 12:00 ＜script＞" in md and "- 2026-11-26 12:00 青石镇（surge/warning，告警）：5 条，负面 80.0%，已确认（张三）" in md
    assert md == render_markdown(build_report(data(), PERIOD, SETTINGS))      # deterministic


def test_html_escapes_hostile_text():
    page = render_html(build_report(data(), PERIOD, SETTINGS))
    assert "<script>" not in page and 'href="javascript' not in page and "javascript:alert(3)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("<h2>") == len(SECTIONS)


def test_docx_headings_in_order():
    doc = Document(io.BytesIO(render_docx(build_report(data(), PERIOD, SETTINGS))))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    assert headings == ["重要舆情摘报（日报）", *SECTIONS]
    body = "\n".join(p.text for p in doc.paragraphs)
    assert "报送单位：某县网信办" in body and "2026-11-26 08:00 至 2026-11-27 08:00" in body


def test_empty_period_gives_a_short_valid_report():
    empty = data(total=0, previous_total=0, negative=0, sites=[], stories=[], subjects=[], keywords=[], alerts=[])
    r = build_report(empty, PERIOD, SETTINGS)
    assert r.empty and r.overview.change is None
    md = render_markdown(r)
    for text in ("本期共监测到相关信息 0 条，上一周期无数据", "本期无重点舆情", "本期无预警", "本期无新出现的话题"):
        assert text in md
    assert Document(io.BytesIO(render_docx(r))).paragraphs[0].text == "重要舆情摘报（日报）"
