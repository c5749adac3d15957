"""Chinese web times, counts and text cleaning: pure functions, pinned `now`."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from crawlers.errors import ParseError
from crawlers.parsing.numbers import halfwidth, parse_count
from crawlers.parsing.text import clean_line, clean_text
from crawlers.parsing.times import SHANGHAI, parse_cn_time

NOW = datetime(2026, 5, 17, 4, 30, tzinfo=timezone.utc)        # 12:30 in Shanghai


def sh(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.mark.parametrize("text, expected", [
    ("刚刚", sh(2026, 5, 17, 12, 30)),
    ("3分钟前", sh(2026, 5, 17, 12, 27)),
    ("３分钟前", sh(2026, 5, 17, 12, 27)),
    ("45秒前", sh(2026, 5, 17, 12, 29, 15)),
    ("2小时前", sh(2026, 5, 17, 10, 30)),
    ("半小时前", sh(2026, 5, 17, 12, 0)),
    ("3天前", sh(2026, 5, 14, 12, 30)),
    ("今天 08:05", sh(2026, 5, 17, 8, 5)),
    ("昨天 12:30", sh(2026, 5, 16, 12, 30)),
    ("前天 23:59", sh(2026, 5, 15, 23, 59)),
    ("05-17 08:00", sh(2026, 5, 17, 8, 0)),
    ("5月3日 09:15", sh(2026, 5, 3, 9, 15)),
    ("2025-12-31 23:59:59", sh(2025, 12, 31, 23, 59, 59)),
    ("２０２６-05-17 08:20:00", sh(2026, 5, 17, 8, 20)),
    ("2026年5月1日", sh(2026, 5, 1)),
    ("2026/05/01 07:00", sh(2026, 5, 1, 7, 0)),
    ("发表于 2026-05-01 07:00", sh(2026, 5, 1, 7, 0)),
    ("2026-05-17T00:00:00+00:00", sh(2026, 5, 17, 8, 0)),
])
def test_parse_cn_time(text, expected):
    got = parse_cn_time(text, NOW)
    assert got == expected and got.tzinfo is not None


def test_yearless_date_after_now_is_last_year():
    new_year = datetime(2026, 1, 1, 1, 0, tzinfo=SHANGHAI)
    assert parse_cn_time("12-31 23:00", new_year) == sh(2025, 12, 31, 23, 0)


def test_relative_times_count_back_from_the_given_now_in_any_zone():
    now_utc = datetime(2026, 5, 16, 17, 0, tzinfo=timezone.utc)   # already 01:00 on the 17th in Shanghai
    assert parse_cn_time("昨天 12:30", now_utc) == sh(2026, 5, 16, 12, 30)
    assert parse_cn_time("10分钟前", now_utc) == now_utc - timedelta(minutes=10)


@pytest.mark.parametrize("text", ["", "某个时候", "13-45 08:00", "2026-02-30", "昨天"])
def test_unknown_or_impossible_times_raise(text):
    with pytest.raises(ParseError):
        parse_cn_time(text, NOW)


def test_naive_now_is_refused():
    with pytest.raises(ValueError):
        parse_cn_time("刚刚", datetime(2026, 5, 17))


@pytest.mark.parametrize("text, expected", [
    ("1.2万", 12000), ("３５", 35), ("阅读 2,345", 2345), ("10万+", 100000), ("3千", 3000),
    ("1.5亿", 150_000_000), ("12", 12), ("无", None),
])
def test_parse_count(text, expected):
    assert parse_count(text) == expected


def test_halfwidth_and_cleaning():
    assert halfwidth("ＡＢＣ：１２３　ok") == "ABC:123 ok"
    assert clean_text(["  第一段\u200b ", "", "第二段\x00\t\t尾 "]) == "第一段\n第二段 尾"
    assert clean_line("标题\n  换行\u202e") == "标题 换行"
    assert len(clean_text("长" * 10, max_chars=4)) == 4


def test_block_text_reads_markup_as_a_reader_sees_it():
    from scrapy import Selector

    from crawlers.parsing.text import block_text

    page = Selector(text='<div id="m">发生<strong>爆</strong>炸<!-- x -->了<script>evil()</script>吗<br>第二行'
                         '<div class="pstatus">本帖最后由 某人 编辑</div><p>段落<a href="#">链接</a></p>尾</div>')
    node = page.css("#m")[0]
    assert clean_text(block_text(node)) == "发生爆炸了吗\n第二行\n本帖最后由 某人 编辑\n段落链接\n尾"
    no_status = block_text(node, skip=lambda el: "pstatus" in (el.get("class") or ""))
    assert clean_text(no_status) == "发生爆炸了吗\n第二行\n段落链接\n尾"          # the text after a skipped element stays
    assert block_text(page.css("#m::text")[0]) == "发生"                         # a text selection as is
    assert block_text(page.css("#m a::attr(href)")[0]) == "#"
    assert clean_line(block_text(node)) == "发生爆炸了吗 第二行 本帖最后由 某人 编辑 段落链接 尾"


def test_selected_text_reads_nested_matches_once_and_dropped_blocks_part_lines():
    from scrapy import Selector

    from crawlers.parsing.text import block_text, selected_text

    nested = Selector(text='<div class="content"><div class="quote"><div class="content">原帖内容</div></div>我的回复</div>')
    assert selected_text(nested, "div.content") == "原帖内容\n我的回复"
    page = Selector(text='<html><head><title>标题 - 网站</title></head><body><td id="t">化工厂<div class="attach">附件</div>'
                         '爆炸是真的<noscript><p>请开启脚本</p></noscript>后续<center>图为现场</center>记者赶到</td></body></html>')
    text = block_text(page.css("#t")[0], skip=lambda el: "attach" in (el.get("class") or ""))
    assert clean_text(text) == "化工厂\n爆炸是真的后续\n图为现场\n记者赶到"    # no 化工厂爆炸 from a dropped box
    assert "标题" not in selected_text(page, "html")


def test_a_quoted_floor_is_read_from_the_start_of_the_quote():
    from crawlers.spiders.forum import _QUOTED_FLOOR

    found = {t: (m.group(1) if (m := _QUOTED_FLOOR.search(t)) else None)
             for t in ("回复 3楼", "引用：5 楼 路人甲", "我家住12楼，半夜被熏醒", "  2楼")}
    assert found == {"回复 3楼": "3", "引用：5 楼 路人甲": "5", "我家住12楼，半夜被熏醒": None, "  2楼": "2"}
