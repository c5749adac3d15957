"""Microblog JSON API spider: a saved response, then since_id / max_id paging against the demo web."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import scrapy
from scrapy.http import TextResponse
from scrapy.utils.test import get_crawler

from crawlers import stats as S
from crawlers.items import PostItem
from crawlers.parsing.times import SHANGHAI
from crawlers.runner import crawl_once, select_sources
from crawlers.sources import load_sources
from crawlers.spiders import ApiSpider
from crawlers.spiders.api import dig, with_params
from crawlers.state import CrawlState
from infra.demo_web import Scenario, start_demo_web
from streams.records import RawPost
from tests.unit.crawl_fakes import FakeProducer

FIXTURE = Path(__file__).parents[1] / "fixtures" / "crawl" / "api_statuses.json"
BASE = "http://demo.test"


def test_saved_api_page_becomes_posts_and_asks_for_older_ones():
    spider = ApiSpider.from_crawler(get_crawler(ApiSpider, {}), source=load_sources()["demo-weibo"].with_base_url(BASE),
                                    state=CrawlState())
    url = f"{BASE}/api/statuses/public_timeline.json?count=20"
    response = TextResponse(url, body=FIXTURE.read_bytes(), request=scrapy.Request(url),
                            headers={"Content-Type": "application/json", "Date": "Sun, 17 May 2026 04:30:00 GMT"})
    response.request.meta.update({"base": url, "since": 0, "list_page": 1, "top": 0})
    out = list(spider.parse_page(response))
    posts = [o for o in out if isinstance(o, PostItem)]
    (older,) = [o for o in out if isinstance(o, scrapy.Request)]
    assert [p["post_id"] for p in posts] == ["demo-weibo:880000120", "demo-weibo:880000119", "demo-weibo:880000118"]
    first, second, third = posts
    assert first["text"] == "青石镇化工厂那边一股刺鼻的异味，窗户都不敢开 #青石镇化工厂爆炸#"
    assert first["tags"]["reposts"] == "12000" and first["author"] == "青石人在外"
    assert first["published_at"] == datetime(2026, 5, 17, 12, 27, tzinfo=SHANGHAI)
    assert first["url"] == f"{BASE}/weibo/status/880000120" and first["kind"] == "api"
    assert second["text"].startswith("<script>") and second["tags"]["reposts"] == "45"   # raw text; consumers escape
    assert second["published_at"] == datetime(2026, 5, 16, 23, 10, tzinfo=SHANGHAI)
    assert third["author"] == "" and "reposts" not in third["tags"]
    assert spider.crawler.stats.get_value(S.FIELDS_EMPTY) == 2        # the bad id and the unreadable time
    assert older.url == with_params(url, max_id=880000117)
    assert spider.state._marks == {f"since_id:{url}": "880000120"}


def test_dig_and_with_params():
    assert dig({"user": {"screen_name": "甲"}}, "user.screen_name") == "甲"
    assert dig({"user": None}, "user.screen_name") is None
    assert with_params("http://x/a?count=20", since_id=5, max_id=None) == "http://x/a?count=20&since_id=5"


async def test_demo_api_is_crawled_completely_then_incrementally(tmp_path):
    clock = type("Clock", (), {"t": 0.0, "__call__": lambda self: self.t})()
    scenario = Scenario(seed=9, start=datetime(2026, 5, 17, tzinfo=timezone.utc), surge_at_s=300.0, clock=clock,
                        microblog=True, history_s=1800.0)
    url, stop = start_demo_web(scenario=scenario)
    sources = select_sources(["demo-weibo"], base_url=url)
    weibo = lambda: {p.key for p in scenario.visible() if p.site == "demo-weibo"}  # noqa: E731
    try:
        first = FakeProducer.factory()
        await crawl_once(sources, tmp_path, producer_factory=first, reactorless=True)
        got = {RawPost.from_bytes(v).post_id for _, _, v in first.sent}
        assert got == weibo() and len(got) > 20                    # more than one page
        idle = await crawl_once(sources, tmp_path, producer_factory=FakeProducer.factory(), reactorless=True)
        assert idle["posts_new"] == 0 and idle["errors"] == 0
        before = weibo()
        clock.t = 900.0
        later = FakeProducer.factory()
        summary = await crawl_once(sources, tmp_path, producer_factory=later, reactorless=True)
    finally:
        stop()
    new = {RawPost.from_bytes(v).post_id for _, _, v in later.sent}
    assert new == weibo() - before and summary["posts_seen"] == 0 and summary["errors"] == 0
    truth = scenario.ground_truth()
    assert any(truth.repost_of.get(k, "").startswith("demo-news:") for k in new)   # 转发微博 of a surge article
