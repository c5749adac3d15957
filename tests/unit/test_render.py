"""Alert text: what an on-call person needs, in Chinese, with hostile crawled text made inert."""
from __future__ import annotations

from datetime import timedelta

import pytest

from alerting import escape, render
from tests.fakes.alerts import HOSTILE, T0, alert, sample


def test_alert_text_says_what_where_how_big_and_links():
    a = alert().model_copy(update={"sent_at": T0 + timedelta(seconds=3)})
    text = render.text(a)
    for expected in ("【舆情声量突增·预警】某县", "5 分钟内 120 条，平时约 10.0 条，约为平时的 12.0 倍", "负面占比：42%",
                     "北京时间", "10:00", "主要来源：bbs.example.cn（2），news.example.com（1）", "首发：bbs.example.cn",
                     "样例1：", "https://bbs.example.cn/thread/0?a=1&b=%282%29", "检索该主题", "确认（停止重复提醒）",
                     "静默 2 小时", f"去重键：{a.dedup_key}", "时延：首帖入管道至发送 15 秒", "走势："):
        assert expected in text, expected


def test_silent_subject_says_so_instead_of_a_ratio():
    assert "此前几乎无声量" in render.text(alert(baseline=0.0))


def test_resolved_escalated_and_repeat_headlines():
    assert "已恢复" in render.headline(alert(status="resolved"), escape.plain)
    assert render.headline(alert().model_copy(update={"notice": "escalation"}), escape.plain).startswith("【升级")
    assert "重复提醒" in render.headline(alert().model_copy(update={"notice": "repeat"}), escape.plain)


@pytest.mark.parametrize("text,limit", [("舆情" * 100, 7), ("a𠀀b" * 10, 9), ("ok", 10), ("混合mixed文字" * 50, 100)])
def test_truncate_utf8_never_splits_a_character(text, limit):
    cut = escape.truncate_utf8(text, limit)
    assert len(cut.encode("utf-8")) <= limit
    assert cut == text or cut.endswith("…") or limit < 3


@pytest.mark.parametrize("url,ok", [
    ("https://bbs.example.cn/t?id=1", True), ("http://a.example/x y", True), ("javascript:alert(1)", False),
    ("JaVaScRiPt:alert(1)", False), ("data:text/html,x", False), ("/relative", False),
    ("https://a.example/)](javascript:x)", True), ("https://a.example/\"><script>", True)])
def test_safe_url_keeps_web_links_only_and_cannot_break_out(url, ok):
    out = escape.safe_url(url)
    assert bool(out) == ok
    assert not any(c in out for c in ' ()<>"\'[]')


def test_markdown_and_html_escaping_of_crawled_text():
    md = render.markdown(alert(subject=HOSTILE, samples=[sample(0, title=HOSTILE)]))
    assert "<script>" not in md and "**假消息**" not in md and "\n# " not in md and "@all" not in md
    page = render.html(alert(subject=HOSTILE, samples=[sample(0, title=HOSTILE)]))
    assert "<script>" not in page and "&lt;script&gt;" in page and "javascript:" not in page.split("href=")[1][:20]


def test_fit_drops_samples_before_cutting_bytes():
    a = alert(samples=[sample(i, title="长" * 60) for i in range(3)])
    full = render.markdown(a)
    fitted = render.fit(lambda n: render.markdown(a, samples=n), len(full.encode()) - 10)
    assert "样例帖子" in fitted and fitted.count("](https://bbs.example.cn/thread") == 2 and "去重键" in fitted


def test_the_alert_says_why_it_fired_now_vs_usual_how_unusual_since_when():
    a = alert().model_copy(update={"score": 3.5, "since": T0 - timedelta(minutes=10)})
    since = render.local(T0 - timedelta(minutes=10), "%H:%M")
    assert render.why_line(a) == (f"为何告警：现在 120 条 vs 历史同时段平时约 10.0 条，历史同时段 99.9% 分位之上"
                                  f"（超出常态波动 3.5 倍），自 {since} 起")
    assert render.text(a).index("为何告警") < render.text(a).index("声量：")
    assert "99% 分位之上" in render.why_line(a.model_copy(update={"score": 2.5}))
    # the detector's tail gate: the score beat the subject's own usual daily peak, and says so
    assert "（超出常态波动 3.5 倍；近一周每日峰值通常约 2.1 倍）" in render.why_line(a.model_copy(update={"peak": 2.1}))
    # the record gate: the bucket more than doubled the subject's recent highest, said instead of
    # the daily peak (the spread score of a one-bucket jump may sit below it)
    record = render.why_line(a.model_copy(update={"peak": 2.1, "record": 14.0}))
    assert "创近期新高，此前单时段最高约 14 条" in record and "每日峰值" not in record
    assert render.why_line(alert()) is None                     # an old record without the fields
    assert "为何告警" in render.markdown(a) and "为何告警" in render.html(a)
