"""The news_list recipe: list pages to same-host article links, generic extraction, publish
time from the page or the URL; crawled on the demo web's portal and on in-test pages."""
from __future__ import annotations

from datetime import datetime, timezone

from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawlers.parsing.times import SHANGHAI
from crawlers.runner import crawl_once, select_sources
from crawlers.spiders.news_list import NewsListSpider, article_id, date_in_url
from crawlers.state import CrawlState
from infra.demo_web import Scenario, start_demo_web
from streams.records import RawPost
from tests.unit.crawl_fakes import FakeProducer, serve_routes

START = datetime(2026, 5, 17, 0, 0, tzinfo=timezone.utc)


def spider_for(base_url: str, **update):
    source = select_sources(["demo-news-list"], base_url=base_url)[0].model_copy(update=update)
    crawler = get_crawler(NewsListSpider)
    return NewsListSpider.from_crawler(crawler, source=source, state=CrawlState())


def test_article_links_stay_on_the_site_and_look_like_articles():
    spider = spider_for("http://www.songlin.example.gov.cn")
    html = """<html><body><ul>
      <li><a href="/xwzx/zwdt/202503/t20250301_88123.html">县政府召开常务会议</a></li>
      <li><a href="./202502/t20250228_88001.shtml#top">春耕备耕工作部署</a></li>
      <li><a href="http://evil.example.com/2025/03/01/x.html">外站</a></li>
      <li><a href="/xwzx/">新闻中心</a></li><li><a href="javascript:void(0)">打印</a></li>
      <li><a href="mailto:a@b.cn">信箱</a></li></ul><a href="index_1.html">下一页</a></body></html>"""
    response = HtmlResponse("http://www.songlin.example.gov.cn/xwzx/zwdt/", body=html.encode(), encoding="utf-8")
    assert spider._articles(response) == ["http://www.songlin.example.gov.cn/xwzx/zwdt/202503/t20250301_88123.html",
                                          "http://www.songlin.example.gov.cn/xwzx/zwdt/202502/t20250228_88001.shtml"]
    assert spider._next_page(response) == "index_1.html"
    assert date_in_url("http://x.cn/zwdt/202503/t20250301_88123.html") == "2025-03-01"
    assert date_in_url("http://x.cn/2025/03/01/abc.html") == "2025-03-01" and date_in_url("http://x.cn/a/123.html") is None
    assert article_id("http://x.cn/a.html#top") == article_id("http://x.cn/a.html") and len(article_id("http://x.cn/a")) == 16


async def test_the_demo_portal_through_the_recipe_and_an_incremental_recrawl(tmp_path):
    scenario = Scenario(seed=11, start=START, clock=lambda: 0.0, history_s=1800.0)
    url, stop = start_demo_web(port=0, scenario=scenario)
    try:
        sources = select_sources(["demo-news-list"], base_url=url)
        first = FakeProducer.factory()
        summary = await crawl_once(sources, tmp_path, producer_factory=first, reactorless=True)
        again = FakeProducer.factory()
        second = await crawl_once(sources, tmp_path, producer_factory=again, reactorless=True)
    finally:
        stop()
    posts = [RawPost.from_bytes(v) for _t, _k, v in first.sent]
    articles = {f"{url}/news/article/{a.native_id}.html": a for a in scenario.articles(0.0)}
    assert {p.url for p in posts} == set(articles) and summary["errors"] == 0
    for p in posts:
        a = articles[p.url]
        assert p.post_id == f"demo-news-list:{article_id(p.url)}" and p.title == a.title
        assert p.text.replace("\n", "") == a.text
        assert abs((p.published_at - scenario.at(a.at_s)).total_seconds()) <= 60
    assert again.sent == [] and second["pages_fetched"] == 0


async def test_time_from_the_url_and_a_navigation_only_page_gives_no_post(tmp_path):
    body = "县里今天召开了春耕备耕工作会议，部署今年的粮食生产任务，要求各乡镇抓好种子化肥供应和农机检修。" * 3

    async def listing(request):
        return _html('<a href="/zwdt/202503/t20250301_1.html">会议</a><a href="/zwdt/202503/t20250302_2.html">导航</a>')

    async def article(request):
        return _html(f"<article><h1>春耕备耕工作会议召开</h1><p>{body}</p></article>")

    async def nav_only(request):
        return _html("<ul>" + "".join(f'<li><a href="/l{i}">栏目{i}</a></li>' for i in range(30)) + "</ul>")

    url, runner = await serve_routes({"/zwdt/": listing, "/zwdt/202503/t20250301_1.html": article,
                                      "/zwdt/202503/t20250302_2.html": nav_only})
    try:
        source = select_sources(["demo-news-list"], base_url=url)[0].model_copy(update={"start_urls": ["/zwdt/"]})
        factory = FakeProducer.factory()
        summary = await crawl_once([source], tmp_path, producer_factory=factory, reactorless=True)
    finally:
        await runner.cleanup()
    (post,) = [RawPost.from_bytes(v) for _t, _k, v in factory.sent]
    assert post.title == "春耕备耕工作会议召开" and post.published_at.astimezone(SHANGHAI).date().isoformat() == "2025-03-01"
    assert summary["fields_empty"] >= 2 and summary["errors"] == 0        # the navigation page: no title, no text


def _html(inner: str):
    from aiohttp import web

    return web.Response(text=f"<html><head><title>松林县人民政府</title></head><body>{inner}</body></html>",
                        content_type="text/html", charset="utf-8")
