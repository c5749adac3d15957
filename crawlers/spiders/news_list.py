"""News portals and government sites without selectors (`kind: news_list`): list pages, the
article links on them (same host; `article_pattern` when given, else URLs that look like an
article: a date or a long number in the path), articles read by generic extraction
(crawlers.parsing.article). Publish time: the page's meta tags or visible text (trafilatura /
htmldate), else the `published` override selector, else a date in the URL, else the server's
time (counted as an empty field). The native id is a hash of the article URL.

Bounded: at most `max_articles` links per list page, `max_list_pages` list pages, and the list
pager is followed only while a page brings a new article. A page that is only navigation
yields no post and counts as empty fields for the watchdog.
"""
from __future__ import annotations

import hashlib
import re
from datetime import datetime
from urllib.parse import urldefrag, urlsplit

from scrapy.http import Response

from crawlers import stats as S
from crawlers.errors import ParseError
from crawlers.items import post_id_for
from crawlers.parsing.article import extract_article, is_navigation
from crawlers.parsing.times import parse_cn_time
from crawlers.spiders.base import IncrementalSpider

_ARTICLE_URL = re.compile(r"(?:/20\d{2}[-/]?\d{2}(?:[-/]?\d{2})?/|/t20\d{6}_|\d{5,}[^/]*\.s?html?$|/(?:article|content|detail|news)/\d+)")
_URL_DATE = re.compile(r"(?<!\d)(20\d{2})[-/_]?(\d{2})[-/_]?(\d{2})(?!\d)")
_NEXT_TEXT = ("下一页", "下页", "后一页", "next", "Next", ">")


def article_id(url: str) -> str:
    return hashlib.sha1(urldefrag(url)[0].encode("utf-8")).hexdigest()[:16]


def date_in_url(url: str) -> str | None:
    m = _URL_DATE.search(urlsplit(url).path)
    return f"{m.group(1)}-{m.group(2)}-{m.group(3)}" if m else None


class NewsListSpider(IncrementalSpider):
    name = "news_list"

    async def start(self):
        for url in self.source.urls:
            yield self.request(url, self.parse_list, meta={"list_page": 1})

    def _articles(self, response: Response) -> list[str]:
        host = urlsplit(self.source.base_url).hostname
        pattern = re.compile(self.source.article_pattern) if self.source.article_pattern else _ARTICLE_URL
        lists = {urldefrag(u)[0] for u in self.source.urls}
        found = []
        for href in response.css("a::attr(href)").getall():
            url = urldefrag(response.urljoin(href.strip()))[0]
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or parts.hostname != host or url in lists:
                continue
            if pattern.search(url if self.source.article_pattern else parts.path):
                found.append(url)
        return list(dict.fromkeys(found))[: self.source.limits.max_articles]

    def _next_page(self, response: Response) -> str | None:
        sel = self.source.selectors
        if sel.next_page:
            return response.css(sel.next_page).get()
        for a in response.css("a"):
            text = "".join(a.css("::text").getall()).strip()
            if text in _NEXT_TEXT or "nxt" in (a.attrib.get("class") or "") or "next" in (a.attrib.get("class") or ""):
                return a.attrib.get("href")
        return None

    def parse_list(self, response: Response):
        if not self.fetched(response):
            return
        new = 0
        for url in self._articles(response):
            aid = article_id(url)
            if self.state.seen(post_id_for(self.source.site, aid)) is not None:
                self.crawler.stats.inc_value(S.POSTS_SEEN)
                continue
            new += 1
            yield self.request(url, self.parse_article, meta={"aid": aid}, conditional=False)
        next_href, page = self._next_page(response), response.meta.get("list_page", 1)
        if next_href and new and page < self.source.limits.max_list_pages:
            next_url = response.urljoin(next_href)
            if urlsplit(next_url).hostname == urlsplit(self.source.base_url).hostname and next_url != response.url:
                yield self.request(next_url, self.parse_list, meta={"list_page": page + 1})

    def parse_article(self, response: Response):
        if not self.fetched(response):
            return
        sel, now = self.source.selectors, self.server_now(response)
        found = extract_article(response.text, response.url)
        if found["text"] and is_navigation(found["text"], response.css("a ::text").getall()):
            found = {**found, "title": "", "text": ""}
        for value in (found["title"], found["text"]):
            self.crawler.stats.inc_value(S.FIELDS_READ)
            if not value:
                self.crawler.stats.inc_value(S.FIELDS_EMPTY)
        if not found["text"]:          # only navigation, or nothing readable: no post
            return
        self.crawler.stats.inc_value(S.FIELDS_READ)
        published = self._published(response, found["published"], now)
        author = self.field(response, sel.author, required=False) if sel.author else found["author"]
        yield self.post(response.url, response.meta["aid"], "news", title=found["title"], text=found["text"],
                        author=author, published_at=published)

    def _published(self, response: Response, extracted: datetime | None, now: datetime) -> datetime:
        sel = self.source.selectors
        candidates = [self.field(response, sel.published, required=False)] if sel.published else []
        candidates.append(date_in_url(response.url) or "")
        if extracted is not None and not sel.published:
            return extracted
        for raw in candidates:
            if raw:
                try:
                    return parse_cn_time(raw, now)
                except ParseError:
                    continue
        if extracted is not None:
            return extracted
        self.crawler.stats.inc_value(S.FIELDS_EMPTY)
        return now
