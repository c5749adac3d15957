"""News portal spider: list pages to article pages (title, body, published time, author, the
original source 来源). Articles already delivered are not requested again, and list
pagination stops at the first page with nothing new."""
from __future__ import annotations

import re

from scrapy.http import Response

from crawlers import stats as S
from crawlers.items import post_id_for
from crawlers.parsing.article import extract_article
from crawlers.spiders.base import IncrementalSpider

_ORIGIN_LABEL = re.compile(r"^(来源|稿源|出处)\s*[:：]\s*")


class NewsSpider(IncrementalSpider):
    name = "news"

    async def start(self):
        for url in self.source.urls:
            yield self.request(url, self.parse_list, meta={"list_page": 1})

    def parse_list(self, response: Response):
        if not self.fetched(response):
            return
        sel = self.source.selectors
        new = 0
        for href in dict.fromkeys(response.css(sel.article_link).getall()):
            url = response.urljoin(href)
            aid = self.native_id(url, sel.article_id_pattern)
            if self.state.seen(post_id_for(self.source.site, aid)) is not None:
                self.crawler.stats.inc_value(S.POSTS_SEEN)
                continue
            new += 1
            # an article page does not change once published: no validators needed
            yield self.request(url, self.parse_article, meta={"aid": aid}, conditional=False)
        next_href = response.css(sel.next_page).get()
        page = response.meta.get("list_page", 1)
        if next_href and new and page < self.source.limits.max_list_pages:
            yield self.request(response.urljoin(next_href), self.parse_list, meta={"list_page": page + 1})

    def parse_article(self, response: Response):
        if not self.fetched(response):
            return
        sel = self.source.selectors
        aid = response.meta.get("aid") or self.native_id(response.url, sel.article_id_pattern)
        origin = _ORIGIN_LABEL.sub("", self.field(response, sel.origin)) if sel.origin else ""
        if sel.generic:
            yield from self._generic_article(response, aid, origin)
            return
        title, text = self.field(response, sel.title), self.field(response, sel.body, line=False)
        if not title and not text:      # the layout changed under the selectors: nothing worth a post
            return
        yield self.post(response.url, aid, "news", title=title, text=text, author=self.field(response, sel.author),
                        published_at=self.time_field(response, sel.published, self.server_now(response)),
                        tags={"origin": origin} if origin else {})

    def _generic_article(self, response: Response, aid: str, origin: str):
        """No title/body selectors: trafilatura reads the page; selectors given for the other fields win."""
        sel, now = self.source.selectors, self.server_now(response)
        found = extract_article(response.text, response.url)
        for value in (found["title"], found["text"]):       # the watchdog's empty-field rate
            self.crawler.stats.inc_value(S.FIELDS_READ)
            if not value:
                self.crawler.stats.inc_value(S.FIELDS_EMPTY)
        if not found["title"] and not found["text"]:
            return
        if sel.published:
            published = self.time_field(response, sel.published, now)
        else:
            published = found["published"]
            self.crawler.stats.inc_value(S.FIELDS_READ)
            if published is None:
                self.crawler.stats.inc_value(S.FIELDS_EMPTY)
                published = now
        author = self.field(response, sel.author) if sel.author else found["author"]
        yield self.post(response.url, aid, "news", title=found["title"], text=found["text"], author=author,
                        published_at=published, tags={"origin": origin} if origin else {})
