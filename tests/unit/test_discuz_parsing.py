"""Reading Discuz! X3 pages and mobile-API answers (crawlers.parsing.discuz) from our own
fixtures, written to the structure of the standard templates: sticky rows, relative times,
GBK, quotes, 楼主 vs replies, broken markup, login pages. Pure: no network."""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from parsel import Selector

from crawlers.parsing import discuz as D
from crawlers.parsing.charset import choose_encoding
from crawlers.parsing.times import SHANGHAI, parse_cn_time
from crawlers.parsing.wall import wall_reason

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "crawl"
NOW = datetime(2025, 3, 1, 8, 12, tzinfo=SHANGHAI)


def page(name: str) -> Selector:
    body = (FIXTURES / name).read_bytes()
    codec, _ = choose_encoding(body, "text/html")
    return Selector(text=body.decode(codec))


def api(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_gbk_board_rows_sticky_relative_times_and_pager():
    board = D.board_html(page("discuz_forumdisplay_gbk.html"))
    assert [(r.tid, r.sticky, r.replies) for r in board.rows] == [("880", True, 12), ("1024", False, 3), ("1019", False, 12000)]
    assert board.rows[1].title == "松林镇桥头的路灯坏了好几天" and not board.login_required
    assert board.rows[1].last_post == "2025-3-1 08:12"                      # the span's title, not 10 分钟前
    assert parse_cn_time(board.rows[2].last_post, NOW) == datetime(2025, 2, 28, 21, 30, tzinfo=SHANGHAI)   # 昨天 21:30
    assert "page=2" in board.next_href


def test_thread_floors_authors_times_quotes_and_broken_markup():
    thread = D.thread_html(page("discuz_viewthread_broken.html"))
    assert thread.title == "松林镇桥头的路灯坏了好几天"
    first, second, third, fourth = thread.floors
    assert (first.pid, first.first, first.number, first.author) == ("5001", True, 1, "老街坊")
    assert first.text == "桥头那几盏路灯坏了一个星期了，晚上骑车看不清路。\n有没有人知道该找哪个部门？"   # attachment left out
    assert parse_cn_time(first.time, NOW) == datetime(2025, 3, 1, 7, 40, 12, tzinfo=SHANGHAI)
    assert (second.number, second.first) == (2, False)
    assert parse_cn_time(second.time, NOW) == datetime(2025, 2, 28, 8, 12, tzinfo=SHANGHAI)        # 发表于 昨天&nbsp;08:12
    assert third.text == "谢谢，已经打了，说明天来看。" and third.quoted_pid == "5007"      # quote and edit note left out
    assert (fourth.number, fourth.author, fourth.text) == (4, "路过看看", "支持楼主顶")   # unclosed tags to the end; <b> is inline


def test_login_pages_are_reported_not_read_as_empty():
    assert D.board_html(page("discuz_login.html")).login_required
    assert D.thread_html(page("discuz_login.html")).login_required
    assert D.api_variables(api("discuz_api_login.json")) == (None, True)
    assert D.api_variables({"error": "module_not_exists"}) == (None, False)
    assert D.api_variables(["not", "the", "api"]) == (None, False)
    assert wall_reason(200, (FIXTURES / "discuz_login.html").read_text(encoding="utf-8")) is None   # 验证码 in a login box


def test_mobile_api_board_and_thread():
    variables, login = D.api_variables(api("discuz_api_forumdisplay.json"))
    board = D.board_api(variables)
    assert not login and [(r.tid, r.sticky, r.replies, r.last_post) for r in board.rows] == [
        ("880", True, 12, "1740016860"), ("1024", False, 3, "1740787920")]
    assert board.next_href                                   # page 1 of 45 threads at 20 a page
    thread = D.thread_api(D.api_variables(api("discuz_api_viewthread.json"))[0])
    assert (thread.title, thread.replies, thread.per_page, thread.pages) == ("松林镇桥头的路灯坏了好几天", 3, 10, 1)
    first, reply = thread.floors
    assert first.first and first.text.startswith("桥头那几盏路灯") and first.time == "1740786012"
    assert (reply.number, reply.text, reply.quoted_pid) == (3, "谢谢，已经打了。", "5007")


def test_verification_walls():
    assert wall_reason(567, "") == "HTTP 567" and wall_reason(429, "<html>") == "HTTP 429"
    assert wall_reason(200, "<html><head><title>安全验证</title></head><body><div id='nc_1'></div></body></html>")
    assert wall_reason(200, "<html><body>请拖动滑块完成验证</body></html>")
    assert wall_reason(200, "<html><body>" + "正常的帖子内容。" * 2000 + "验证码</body></html>") is None
    assert wall_reason(200, '{"Variables": {"captcha": 1}}') is None
