"""What every spider kind shares: conditional requests from the crawl state, 304 handling, the
server's clock for relative times, post items, error counting, and committing the state at close.

A spider is built with `source=` (a validated Source) and `state=` (a CrawlState); both are
passed as crawl arguments by crawlers.runner.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import scrapy
from scrapy.exceptions import CloseSpider
from scrapy.http import Response

from crawlers import stats as S
from crawlers.errors import ParseError
from crawlers.guard import BlockedAddress
from crawlers.middlewares import WALL_CLOSE_AFTER, VerificationWall
from crawlers.items import PostItem, post_id_for
from crawlers.parsing.text import selected_text
from crawlers.parsing.times import parse_cn_time
from crawlers.state import CrawlState

log = logging.getLogger(__name__)


class IncrementalSpider(scrapy.Spider):
    def __init__(self, source, state: CrawlState, *args, **kwargs):
        super().__init__(*args, name=f"{self.name}:{source.name}", **kwargs)
        self.source = source
        self.state = state
        self.allowed_domains = [re.sub(r"^https?://([^/:]+).*$", r"\1", source.base_url)]
        self._delivered: dict[str, str] = {}
        self._failed = 0

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._on_delivered, signal=S.posts_delivered)
        return spider

    # --- requests and responses
    def request(self, url: str, callback, meta: dict | None = None, conditional: bool = True) -> scrapy.Request:
        headers = self.state.conditional_headers(url) if conditional else {}
        return scrapy.Request(url, callback=callback, errback=self.on_error, headers=headers,
                              meta={"handle_httpstatus_list": [304], **(meta or {})})

    def fetched(self, response: Response) -> bool:
        """Count the page; False when the server said 304 Not Modified (nothing to parse)."""
        if response.status == 304:
            self.crawler.stats.inc_value(S.PAGES_NOT_MODIFIED)
            return False
        self.crawler.stats.inc_value(S.PAGES_FETCHED)
        etag, modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
        self.state.stage_validators(response.url, etag.decode("latin-1") if etag else None,
                                    modified.decode("latin-1") if modified else None)
        return True

    def on_error(self, failure) -> None:
        if failure.check(BlockedAddress):     # counted by the guard; the crawl itself is fine
            return
        if failure.check(VerificationWall):   # counted by the middleware; enough of them: back off
            if self.crawler.stats.get_value(S.PAGES_BLOCKED, 0) >= WALL_CLOSE_AFTER:
                raise CloseSpider("blocked")
            return
        self.crawler.stats.inc_value(S.ERRORS)
        log.warning("抓取失败 / fetch failed: source=%s url=%s error=%s", self.source.name,
                    failure.request.url, failure.value.__class__.__name__)

    @staticmethod
    def server_now(response: Response) -> datetime:
        """Relative times (3分钟前) count back from the server's clock, from its Date header."""
        date = response.headers.get("Date")
        try:
            return parsedate_to_datetime(date.decode("latin-1")) if date else datetime.now(timezone.utc)
        except (TypeError, ValueError):
            return datetime.now(timezone.utc)

    # --- extraction helpers
    def native_id(self, url: str, pattern: str) -> str:
        match = re.search(pattern, url)
        if match is None:
            raise ParseError(f"no native id in {url[:200]!r} (pattern {pattern!r})")
        return match.group(1)

    def field(self, node, selector: str, line: bool = True, required: bool = True) -> str:
        """One cleaned field; an empty required field is counted (the watchdog's empty-field rate)."""
        if not selector:
            return ""
        value = selected_text(node, selector, line)
        if required:
            self.crawler.stats.inc_value(S.FIELDS_READ)
            if not value:
                self.crawler.stats.inc_value(S.FIELDS_EMPTY)
        return value

    def time_field(self, node, selector: str, now: datetime) -> datetime:
        return self.read_time(self.field(node, selector), now)

    def read_time(self, raw: str, now: datetime) -> datetime:
        try:
            return parse_cn_time(raw, now)
        except ParseError:
            self.crawler.stats.inc_value(S.FIELDS_EMPTY)
            return now      # keep the post; the watchdog sees the empty-field rate rise

    def post(self, url: str, native_id: str, kind: str, **fields) -> PostItem:
        self.crawler.stats.inc_value(S.POSTS_EXTRACTED)
        return PostItem(post_id=post_id_for(self.source.site, native_id), site=self.source.site,
                        source=self.source.name, kind=kind, url=url, native_id=native_id,
                        crawled_at=datetime.now(timezone.utc), reply_to=fields.pop("reply_to", None),
                        tags={**self.source.tags, **fields.pop("tags", {})}, **fields)

    # --- state
    def _on_delivered(self, post_ids: dict[str, str], failed: int) -> None:
        self._delivered.update(post_ids)
        self._failed += failed

    def closed(self, reason: str) -> None:
        errors = S.summary(self.crawler.stats.get_stats())["errors"]
        blocked = self.crawler.stats.get_value(S.PAGES_BLOCKED, 0)
        clean = reason == "finished" and errors == 0 and self._failed == 0 and not blocked
        self.state.commit(self._delivered, clean=clean)
        if not clean:
            log.warning("抓取未完全成功，下次全量重抓 / crawl not clean, validators not saved: source=%s "
                        "reason=%s errors=%d undelivered=%d", self.source.name, reason, errors, self._failed)
