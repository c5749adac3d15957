"""RSS / Atom spider (feedparser): one conditional request per feed URL, one post per entry.
The native id is the entry's guid (hashed when it is long), or a match of link_id_pattern in
its link, so that an entry and the page it points to can share a post_id."""
from __future__ import annotations

import calendar
import hashlib
import re
from datetime import datetime, timezone

from parsel import Selector
from scrapy.http import Response

from crawlers import stats as S
from crawlers.errors import ParseError
from crawlers.parsing.text import block_text, clean_text
from crawlers.spiders.base import IncrementalSpider


_HAS_ZONE = re.compile(r"(Z|[+-]\d{2}:?\d{2}|\b(GMT|UTC|UT|[ECMP][SD]T)\b)$")


def _text(value: str, detail: dict | None) -> str:
    """A feed text construct as plain text. feedparser has already sanitised HTML ones (no scripts)."""
    if not value or "html" not in (detail or {}).get("type", ""):
        return clean_text(value or "")
    return clean_text(block_text(Selector(text=f"<div>{value}</div>").css("div")[0]))


class FeedSpider(IncrementalSpider):
    name = "feed"

    async def start(self):
        for url in self.source.urls:
            yield self.request(url, self.parse_feed)

    def entry_id(self, entry, link: str) -> str:
        pattern = self.source.selectors.link_id_pattern
        if pattern and (m := re.search(pattern, link)):
            return m.group(1)
        guid = entry.get("id") or link
        if not guid:
            raise ParseError("feed entry without guid or link")
        return guid if len(guid) <= 64 and re.fullmatch(r"[\w.:-]+", guid) else hashlib.sha1(guid.encode()).hexdigest()[:20]

    def published(self, entry, now: datetime) -> datetime:
        raw = (entry.get("published") or entry.get("updated") or "").strip()
        parsed = entry.get("published_parsed") or entry.get("updated_parsed")   # a UTC struct_time
        # feedparser reads a time without a zone as UTC; on a Chinese feed it is Beijing time
        if parsed and _HAS_ZONE.search(raw):
            return datetime.fromtimestamp(calendar.timegm(parsed), tz=timezone.utc)
        return self.read_time(raw, now)           # Chinese feeds often carry "2026-05-17 08:00" or "3分钟前"

    def parse_feed(self, response: Response):
        if not self.fetched(response):
            return
        import feedparser  # here, not at the top: until pyproject pins it, forum/news crawls must not need it

        # no content-location: feedparser would resolve a bare guid ("88100") into a URL; links are joined below
        feed = feedparser.parse(response.body, response_headers={
            "content-type": response.headers.get("Content-Type", b"application/xml").decode("latin-1")})
        if feed.bozo and not feed.entries:
            self.crawler.stats.inc_value(S.ERRORS)
            self.logger.warning("无法解析订阅源 / unparseable feed: %s (%s)", response.url,
                                feed.get("bozo_exception").__class__.__name__)
            return
        now = self.server_now(response)
        for entry in feed.entries:
            link = response.urljoin(entry.get("link", "")) if entry.get("link") else response.url
            content = entry.get("content") or []
            body = content[0] if content else entry.get("summary_detail")
            text = _text(body.get("value", "") if body else "", body)
            title = _text(entry.get("title", ""), entry.get("title_detail"))[:1000]
            if not text and not title:
                self.crawler.stats.inc_value(S.FIELDS_EMPTY)
                continue
            origin = entry.get("tags")[0].get("term", "") if entry.get("tags") else ""
            yield self.post(link, self.entry_id(entry, link), "feed", title=title, text=text,
                            author=clean_text(entry.get("author", ""), 256), published_at=self.published(entry, now),
                            tags={"origin": origin} if origin else {})
