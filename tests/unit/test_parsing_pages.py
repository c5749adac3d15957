"""Spiders on saved pages (tests/fixtures/crawl), turned into HtmlResponse objects: no network."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import scrapy
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawlers import stats as S
from crawlers.items import PostItem
from crawlers.parsing.times import SHANGHAI
from crawlers.sources import load_sources
from crawlers.spiders import ForumSpider, NewsSpider
from crawlers.state import CrawlState

FIXTURES = Path(__file__).parents[1] / "fixtures" / "crawl"
BASE = "http://demo.test"
DATE = "Sun, 17 May 2026 04:30:00 GMT"          # 12:30 in Shanghai: relative times count from here


def response(name: str, url: str, content_type: str = "text/html; charset=utf-8", meta: dict | None = None):
    request = scrapy.Request(url, meta=meta or {})
    return HtmlResponse(url, body=(FIXTURES / name).read_bytes(), request=request,
                        headers={"Content-Type": content_type, "Date": DATE, "ETag": 'W/"v1"'})


def spider(cls, name: str, state: CrawlState | None = None):
    crawler = get_crawler(cls, {})
    source = load_sources()[name].with_base_url(BASE)
    return cls.from_crawler(crawler, source=source, state=state or CrawlState())


def split(results):
    items = [r for r in results if isinstance(r, PostItem)]
    requests = [r for r in results if isinstance(r, scrapy.Request)]
    return items, requests


def test_gbk_board_lists_threads_with_counts_and_follows_pages():
    sp = spider(ForumSpider, "demo-forum")
    resp = response("forum_board_gbk.html", f"{BASE}/forum/board/qingshi", "text/html; charset=gbk",
                    {"list_page": 1})
    items, requests = split(list(sp.parse_board(resp)))
    assert items == []
    threads = [r for r in requests if "/thread/" in r.url]
    assert [r.meta["tid"] for r in threads] == ["100231", "100230", "100101"]
    assert [r.meta["replies"] for r in threads] == ["12", "12000", "0"]        # １２ and 1.2万
    assert any(r.url == f"{BASE}/forum/board/qingshi?page=2" for r in requests)
    assert all(304 in r.meta["handle_httpstatus_list"] for r in requests)
    assert sp.crawler.stats.get_value(S.PAGES_FETCHED) == 1


def test_board_skips_unchanged_threads_and_stops_paginating():
    state = CrawlState()
    for tid, replies in (("100231", "12"), ("100230", "12000"), ("100101", "0")):
        state.stage_mark(f"thread:{tid}", replies)
    state.commit({}, clean=True)
    sp = spider(ForumSpider, "demo-forum", state)
    resp = response("forum_board_gbk.html", f"{BASE}/forum/board/qingshi", "text/html; charset=gbk")
    assert list(sp.parse_board(resp)) == []


def test_thread_page_floors_replies_times_and_hostile_text():
    sp = spider(ForumSpider, "demo-forum")
    url = f"{BASE}/forum/thread/100231"
    items, requests = split(list(sp.parse_thread(response("forum_thread.html", url,
                                                          meta={"tid": "100231", "replies": "4", "thread_page": 1}))))
    by_id = {i["post_id"]: i for i in items}
    opener = by_id["demo-forum:100231"]
    assert opener["kind"] == "forum" and opener["title"] == "青石镇化工厂是不是爆炸了"
    assert opener["text"] == "刚才化工厂那边一声巨响，听着像是爆炸，窗户都在震。\n有没有人知道到底怎么回事？"
    assert opener["published_at"] == datetime(2026, 5, 17, 8, 0, tzinfo=SHANGHAI)
    assert by_id["demo-forum:100231-2"]["published_at"] == datetime(2026, 5, 16, 12, 30, tzinfo=SHANGHAI)
    third = by_id["demo-forum:100231-3"]
    assert third["reply_to"] == "demo-forum:100231-2"                        # 回复 2楼
    assert third["published_at"] == datetime(2026, 5, 17, 12, 27, tzinfo=SHANGHAI)
    assert third["text"] == "<img src=x onerror=alert(1)>消防车刚过去。"          # unescaped text, zero-width gone
    assert third["author"] == "<b>坏人</b>"
    assert by_id["demo-forum:100231-4"]["reply_to"] == "demo-forum:100231"
    assert by_id["demo-forum:100231-4"]["tags"]["thread"] == "demo-forum:100231"
    # an unreadable time keeps the post (server time) and is counted for the watchdog
    assert by_id["demo-forum:100231-5"]["published_at"] == datetime(2026, 5, 17, 12, 30, tzinfo=SHANGHAI)
    assert sp.crawler.stats.get_value(S.FIELDS_EMPTY) == 1
    assert [r.url for r in requests] == [f"{url}?page=2", f"{url}?page=3"]
    assert sp.state._marks == {"thread:100231": "4"}
    assert sp.state._validators == {url: ('W/"v1"', None)}


def test_not_modified_page_yields_nothing_and_is_counted():
    sp = spider(ForumSpider, "demo-forum")
    resp = HtmlResponse(f"{BASE}/forum/board/town", status=304, body=b"", request=scrapy.Request(f"{BASE}/x"))
    assert list(sp.parse_board(resp)) == []
    assert sp.crawler.stats.get_value(S.PAGES_NOT_MODIFIED) == 1
    assert sp.crawler.stats.get_value(S.PAGES_FETCHED) is None


def test_news_list_skips_delivered_articles_and_dedups_links():
    state = CrawlState()
    state.commit({"demo-news:500013": "f"}, clean=False)
    sp = spider(NewsSpider, "demo-news", state)
    items, requests = split(list(sp.parse_list(response("news_list.html", f"{BASE}/news/list"))))
    articles = [r for r in requests if "/article/" in r.url]
    assert [r.meta["aid"] for r in articles] == ["500014", "500012"]
    assert all("If-None-Match" not in r.headers for r in articles)
    assert f"{BASE}/news/list?page=2" in [r.url for r in requests]
    assert sp.crawler.stats.get_value(S.POSTS_SEEN) == 1


def test_news_article_fields():
    sp = spider(NewsSpider, "demo-news")
    url = f"{BASE}/news/article/500012.html"
    (item,) = list(sp.parse_article(response("news_article.html", url, meta={"aid": "500012"})))
    assert item["post_id"] == "demo-news:500012" and item["kind"] == "news"
    assert item["title"] == "青石镇一化工厂发生爆炸 暂无人员伤亡报告"
    assert item["text"].startswith("今日，青石镇一化工厂发生爆炸") and item["text"].count("\n") == 2
    assert item["author"] == "记者 王晓峰"
    assert item["tags"] == {"region": "澄溪县", "channel": "新闻", "origin": "澄溪日报"}
    assert item["published_at"] == datetime(2026, 5, 17, 8, 20, tzinfo=SHANGHAI)
    assert item["source"] == "demo-news" and item["site"] == "demo-news"


def test_article_text_keeps_inline_markup_in_its_line():
    # links and emphasis inside a paragraph are part of its sentence (a ::text selector dropped
    # 爆炸 and the county head's name); blocks and <br> break lines; scripts, styles, comments go
    sp = spider(NewsSpider, "demo-news")
    url = f"{BASE}/news/article/500013.html"
    (item,) = list(sp.parse_article(response("news_article_inline.html", url, meta={"aid": "500013"})))
    assert item["title"] == "青石镇化工厂发生爆炸"
    assert item["text"] == "今日，青石镇一化工厂发生爆炸，县长李明赶赴现场。\n群众反映刺鼻异味\n已疏散200余人。\n伤亡\n0"


def test_missing_native_id_is_a_parse_error():
    from crawlers.errors import ParseError

    sp = spider(NewsSpider, "demo-news")
    with pytest.raises(ParseError):
        sp.native_id(f"{BASE}/news/other.html", sp.source.selectors.article_id_pattern)
