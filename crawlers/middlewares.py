"""Downloader middleware: re-decode a text response whose declared charset does not fit its
bytes (crawlers.parsing.charset decides). Reads no settings; counts `shaobing/charset_fixed`."""
from __future__ import annotations

import logging

from scrapy.http import TextResponse
from w3lib.encoding import resolve_encoding

from crawlers.parsing.charset import choose_encoding

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
