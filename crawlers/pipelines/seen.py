"""Drops posts already delivered with the same content (the persisted seen-set) or already
yielded in this crawl, so a re-crawl produces only new or changed posts. Reads no settings;
the seen-set is the spider's CrawlState."""
from __future__ import annotations

from scrapy.exceptions import DropItem

from crawlers import stats as S
from crawlers.state import fingerprint


class SeenFilterPipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self._this_crawl: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        post_id = item["post_id"]
        known = self.crawler.spider.state.seen(post_id)
        if post_id in self._this_crawl or known == fingerprint(item.get("title", ""), item.get("text", "")):
            self.crawler.stats.inc_value(S.POSTS_SEEN)
            raise DropItem(f"already delivered: {post_id}", log_level="DEBUG")
        self._this_crawl.add(post_id)
        return item
