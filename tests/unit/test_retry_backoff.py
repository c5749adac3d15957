"""Retries with exponential backoff: no retry storms against a struggling site."""
from __future__ import annotations

import time

import scrapy
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from crawlers.middlewares import BackoffRetryMiddleware
from crawlers.sources import load_sources
from crawlers.spiders import ForumSpider
from crawlers.state import CrawlState


async def test_retries_back_off_exponentially_and_honour_retry_after():
    crawler = get_crawler(ForumSpider, {"RETRY_BACKOFF_BASE_S": 0.02, "RETRY_BACKOFF_MAX_S": 0.05, "RETRY_TIMES": 2})
    crawler.stats.open_spider()
    crawler.spider = ForumSpider.from_crawler(crawler, source=load_sources()["demo-forum"], state=CrawlState())
    mw = BackoffRetryMiddleware.from_crawler(crawler)
    request = scrapy.Request("http://demo.test/forum/board/town")
    started = time.monotonic()
    first = await mw.process_response(request, Response(request.url, status=503, request=request))
    assert isinstance(first, scrapy.Request) and first.meta["retry_times"] == 1
    second = await mw.process_response(first, Response(request.url, status=503, request=first,
                                                       headers={"Retry-After": "120"}))
    assert isinstance(second, scrapy.Request)
    assert mw.delay_for(second) == 0.04 and mw.delay_for(first) == 0.02
    gave_up = await mw.process_response(second, Response(request.url, status=503, request=second))
    assert isinstance(gave_up, Response) and gave_up.status == 503         # three attempts, then stop
    assert crawler.stats.get_value("shaobing/retry_backoff_s") == 0.02 + 0.05   # Retry-After capped at max
    assert time.monotonic() - started >= 0.07
    ok = Response(request.url, status=200, request=request)
    assert await mw.process_response(request, ok) is ok
