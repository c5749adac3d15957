"""Feed spider on a saved Atom feed and on the demo web's RSS feed."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import scrapy
from scrapy.http import XmlResponse
from scrapy.utils.test import get_crawler

from crawlers import stats as S
from crawlers.runner import crawl_once, select_sources
from crawlers.sources import FeedSource
from crawlers.spiders import FeedSpider
from crawlers.state import CrawlState
from infra.demo_web import Scenario, start_demo_web
from streams.records import RawPost
from tests.unit.crawl_fakes import FakeProducer

FIXTURE = Path(__file__).parents[1] / "fixtures" / "crawl" / "feed_atom.xml"
URL = "https://songzhou.example/chengxi/feed.atom"


def feed_spider(**selectors):
    source = FeedSource(name="songzhou", kind="feed", site="songzhou", base_url="https://songzhou.example",
                        start_urls=["/chengxi/feed.atom"], selectors=selectors, tags={"region": "澄溪县"})
    return FeedSpider.from_crawler(get_crawler(FeedSpider, {}), source=source, state=CrawlState())


def parse(spider):
    response = XmlResponse(URL, body=FIXTURE.read_bytes(), request=scrapy.Request(URL),
                           headers={"Content-Type": "application/atom+xml; charset=utf-8",
                                    "Date": "Sun, 17 May 2026 04:30:00 GMT"})
    return list(spider.parse_feed(response))


def test_atom_entries_become_posts_with_sanitised_text():
    spider = feed_spider()
    first, second = parse(spider)
    assert first["kind"] == "feed" and first["site"] == "songzhou"
    assert first["native_id"] != first["url"] and len(first["native_id"]) == 20      # long guid: hashed
    assert first["url"] == "https://songzhou.example/chengxi/2026/0517/88231.html"
    assert first["title"] == "青石镇化工厂事故后续 <b>水质</b>"                        # text, not markup
    assert first["text"] == "记者从县生态环境分局获悉，周边河道已设置监测点位。\n相关部门提醒沿河群众暂勿取用河水。"
    assert "alert" not in first["text"]
    assert first["published_at"] == datetime(2026, 5, 17, 4, 20, tzinfo=timezone.utc)
    assert first["author"] == "记者 周婷" and first["tags"] == {"region": "澄溪县", "origin": "澄溪融媒"}
    assert second["native_id"] == "88100" and second["url"] == "https://songzhou.example/chengxi/2026/0516/88100.html"
    assert second["published_at"] == datetime(2026, 5, 16, 1, 30, tzinfo=timezone.utc)   # 09:30 Shanghai
    assert spider.crawler.stats.get_value(S.FIELDS_EMPTY) == 1                           # the empty entry


def test_link_id_pattern_takes_the_native_id_from_the_link():
    first, second = parse(feed_spider(link_id_pattern=r"/(\d+)\.html"))
    assert (first["native_id"], second["native_id"]) == ("88231", "88100")


async def test_demo_rss_feed_gives_the_portal_post_ids(tmp_path):
    clock = lambda: 0.0  # noqa: E731 - a pinned scenario clock
    scenario = Scenario(seed=5, start=datetime(2026, 5, 17, tzinfo=timezone.utc), surge_at_s=60.0, clock=clock)
    url, stop = start_demo_web(scenario=scenario)
    try:
        factory = FakeProducer.factory()
        summary = await crawl_once(select_sources(["demo-news-feed"], base_url=url), tmp_path,
                                   producer_factory=factory, reactorless=True)
        again = await crawl_once(select_sources(["demo-news-feed"], base_url=url), tmp_path,
                                 producer_factory=FakeProducer.factory(), reactorless=True)
    finally:
        stop()
    got = {p.post_id: p for p in (RawPost.from_bytes(v) for _, _, v in factory.sent)}
    articles = scenario.articles(0.0)[:30]
    assert set(got) == {a.key for a in articles} and summary["errors"] == 0
    for a in articles:
        assert got[a.key].text == a.text
        assert abs((got[a.key].published_at - scenario.at(a.at_s)).total_seconds()) < 1   # RFC 822: whole seconds
    assert again["pages_not_modified"] == 1 and again["posts_new"] == 0
