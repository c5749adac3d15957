"""Downloader middlewares: CharsetMiddleware re-decodes a text response whose declared charset
does not fit its bytes (crawlers.parsing.charset decides; counts `shaobing/charset_fixed`);
BackoffRetryMiddleware is Scrapy's retry (5xx, 408, 429, timeouts; RETRY_TIMES) with an
exponential pause before each retry, honouring Retry-After, so a struggling site is not hammered.
VerificationWallMiddleware turns a verification page (安全验证, a slider, a captcha) or an HTTP
403/429/567 answer into VerificationWall (counted as `pages_blocked`; the spider backs off: after
WALL_CLOSE_AFTER of them it stops crawling that source for the round, and the watchdog reports it).
Reads RETRY_* and RETRY_BACKOFF_BASE_S / RETRY_BACKOFF_MAX_S."""
from __future__ import annotations

import asyncio
import logging

from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import TextResponse
from w3lib.encoding import resolve_encoding

from crawlers import stats as S
from crawlers.parsing.charset import choose_encoding
from crawlers.parsing.wall import wall_reason

WALL_CLOSE_AFTER = 2


class VerificationWall(IgnoreRequest):
    """The site answered with a verification page or a blocking status instead of the page."""


class VerificationWallMiddleware:
    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_response(self, request, response):
        if request.url.endswith("/robots.txt"):      # Scrapy's robots middleware judges its own answers
            return response
        text = response.text[:20_000] if isinstance(response, TextResponse) and len(response.body) < 200_000 else ""
        reason = wall_reason(response.status, text)
        if reason is None:
            return response
        self.crawler.stats.inc_value(S.PAGES_BLOCKED)
        log.warning("疑似被拦截（%s），退避 / verification wall or block, backing off: %s", reason, request.url[:200])
        raise VerificationWall(reason)

log = logging.getLogger(__name__)


class CharsetMiddleware:
    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_response(self, request, response):
        if not isinstance(response, TextResponse) or response.status == 304 or not response.body:
            return response
        content_type = (response.headers.get("Content-Type") or b"").decode("latin-1")
        codec, how = choose_encoding(response.body, content_type)
        if codec == resolve_encoding(response.encoding):
            return response
        self.crawler.stats.inc_value("shaobing/charset_fixed")
        log.debug("charset %s -> %s (%s): %s", response.encoding, codec, how, response.url)
        return response.replace(encoding=codec)


class BackoffRetryMiddleware(RetryMiddleware):
    def __init__(self, settings):
        super().__init__(settings)
        self.base_s = settings.getfloat("RETRY_BACKOFF_BASE_S", 1.0)
        self.max_s = settings.getfloat("RETRY_BACKOFF_MAX_S", 30.0)

    def delay_for(self, retry: Request, response=None) -> float:
        """base * 2^(attempt-1), or the server's Retry-After (in seconds), at most max_s."""
        delay = self.base_s * 2 ** (retry.meta.get("retry_times", 1) - 1)
        after = response.headers.get("Retry-After") if response is not None else None
        if after and after.strip().isdigit():
            delay = max(delay, float(after))
        return min(delay, self.max_s)

    async def _pause(self, retry, response=None):
        if isinstance(retry, Request):
            delay = self.delay_for(retry, response)
            self.crawler.stats.inc_value("shaobing/retry_backoff_s", delay)
            await asyncio.sleep(delay)
        return retry

    async def process_response(self, request, response):
        return await self._pause(super().process_response(request, response), response)

    async def process_exception(self, request, exception):
        return await self._pause(super().process_exception(request, exception))
