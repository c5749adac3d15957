"""Download limits: a response over DOWNLOAD_MAXSIZE is cancelled and counted, not read into
memory (Scrapy's default would be 1 GiB). Served on loopback by an in-test aiohttp app."""
from __future__ import annotations

from aiohttp import web

from crawlers.runner import crawl_once, select_sources
from crawlers.settings import crawler_settings
from tests.unit.crawl_fakes import FakeProducer, serve_routes


def test_download_limits_are_set_well_below_scrapys_defaults():
    settings = crawler_settings(select_sources(["demo-news"])[0])
    assert settings.getint("DOWNLOAD_MAXSIZE") == 8 * 1024 * 1024
    assert settings.getint("DOWNLOAD_WARNSIZE") == 2 * 1024 * 1024


async def test_an_oversized_page_is_cancelled_and_counted_as_an_error(tmp_path):
    async def huge(request):
        return web.Response(body=b"<html>" + b"x" * (9 * 1024 * 1024) + b"</html>", content_type="text/html")

    url, runner = await serve_routes({"/news/list": huge})
    try:
        sources = select_sources(["demo-news"], base_url=url)
        summary = await crawl_once(sources, tmp_path, producer_factory=FakeProducer.factory(), reactorless=True,
                                   overrides={"RETRY_TIMES": 0})
    finally:
        await runner.cleanup()
    assert summary["pages_fetched"] == 0 and summary["errors"] == 1
