"""Forum / BBS spider: board pages (paginated, most recently active first) to thread pages
(floors, their own pagination, reply-to relations). A thread is re-fetched only when its reply
count on the board page changed, and board pagination stops at the first page with no change."""
from __future__ import annotations

import re

from scrapy.http import Response

from crawlers import stats as S
from crawlers.items import post_id_for
from crawlers.parsing.numbers import parse_count
from crawlers.spiders.base import IncrementalSpider

# "回复 3楼" / "引用 3 楼" at the start of the quote, not a floor number inside the quoted words
_QUOTED_FLOOR = re.compile(r"^\s*(?:回复|引用)?\s*[:：]?\s*(\d+)\s*楼")


class ForumSpider(IncrementalSpider):
    name = "forum"

    async def start(self):
        for url in self.source.urls:
            yield self.request(url, self.parse_board, meta={"list_page": 1})

    def parse_board(self, response: Response):
        if not self.fetched(response):
            return
        sel = self.source.selectors
        changed = 0
        for row in response.css(sel.thread_row):
            href = row.css(sel.thread_link).get()
            if not href:
                continue
            url = response.urljoin(href)
            tid = self.native_id(url, sel.thread_id_pattern)
            replies = str(parse_count(self.field(row, sel.reply_count)))
            if self.state.mark(f"thread:{tid}") == replies:
                continue
            changed += 1
            # page 1 unconditionally: it may be unchanged while a later page grew, and its pager lists the pages
            yield self.request(url, self.parse_thread, meta={"tid": tid, "replies": replies, "thread_page": 1},
                               conditional=False)
        next_href = response.css(sel.next_page).get()
        page = response.meta.get("list_page", 1)
        if next_href and changed and page < self.source.limits.max_list_pages:
            yield self.request(response.urljoin(next_href), self.parse_board, meta={"list_page": page + 1})

    def parse_thread(self, response: Response):
        if not self.fetched(response):
            return
        sel, site = self.source.selectors, self.source.site
        tid = response.meta.get("tid") or self.native_id(response.url, sel.thread_id_pattern)
        thread_post_id = post_id_for(site, tid)
        title = self.field(response, sel.thread_title)
        now = self.server_now(response)
        for floor in response.css(sel.floor):
            number = parse_count(floor.css(sel.floor_no).get() or "")
            if number is None:
                self.crawler.stats.inc_value(S.FIELDS_EMPTY)
                continue
            common = dict(author=self.field(floor, sel.floor_author), text=self.field(floor, sel.floor_text, line=False),
                          published_at=self.time_field(floor, sel.floor_time, now))
            if number == 1:
                yield self.post(response.url, tid, "forum", title=title, **common)
                continue
            quoted = _QUOTED_FLOOR.search(self.field(floor, sel.floor_quote, required=False)) if sel.floor_quote else None
            reply_to = post_id_for(site, f"{tid}-{quoted.group(1)}") if quoted and quoted.group(1) != "1" else thread_post_id
            yield self.post(f"{response.url}#floor-{number}", f"{tid}-{number}", "reply", title="",
                            reply_to=reply_to, tags={"thread": thread_post_id, "thread_title": title[:200]}, **common)
        if response.meta.get("thread_page") == 1:
            pages = dict.fromkeys(response.urljoin(h) for h in response.css(sel.thread_pages).getall())
            pages.pop(response.url, None)
            for n, url in enumerate(list(pages)[: self.source.limits.max_thread_pages - 1], start=2):
                yield self.request(url, self.parse_thread, meta={"tid": tid, "thread_page": n})
            if "replies" in response.meta:
                self.state.stage_mark(f"thread:{tid}", response.meta["replies"])
