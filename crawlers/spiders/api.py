"""Microblog-style JSON API spider: a search/timeline endpoint paged with since_id (only ids
above the last one delivered) and max_id (back through older pages until the page is short or
the page limit is reached). Field paths and paging parameters come from the source."""
from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from scrapy.http import Response

from crawlers import stats as S
from crawlers.parsing.numbers import parse_count
from crawlers.parsing.text import clean_line, clean_text
from crawlers.spiders.base import IncrementalSpider

_SINCE_MARK = "since_id:{url}"


def dig(doc, path: str):
    """A dotted path into nested dicts (`user.screen_name`); None where it does not lead."""
    for part in path.split("."):
        if not isinstance(doc, dict):
            return None
        doc = doc.get(part)
    return doc


def with_params(url: str, **params) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update({k: str(v) for k, v in params.items() if v is not None})
    return urlunsplit(parts._replace(query=urlencode(query)))


class ApiSpider(IncrementalSpider):
    name = "api"

    async def start(self):
        sel = self.source.selectors
        for url in self.source.urls:
            since = self.state.mark(_SINCE_MARK.format(url=url))
            yield self.request(with_params(url, **{sel.since_param: since}), self.parse_page,
                               meta={"base": url, "since": int(since or 0), "list_page": 1, "top": int(since or 0)})

    def parse_page(self, response: Response):
        if not self.fetched(response):
            return
        sel, meta = self.source.selectors, response.meta
        try:
            items = dig(json.loads(response.text), sel.items)
        except json.JSONDecodeError:
            items = None
        if not isinstance(items, list):
            self.crawler.stats.inc_value(S.ERRORS)
            self.logger.warning("接口返回格式不对 / unexpected API document: %s", response.url)
            return
        now = self.server_now(response)
        ids = []
        for doc in items:
            native = str(dig(doc, sel.id) or "")
            if not native.isdigit() or int(native) <= meta["since"]:
                self.crawler.stats.inc_value(S.FIELDS_EMPTY)
                continue
            ids.append(int(native))
            text = clean_text(str(dig(doc, sel.text) or ""))
            counts = {name: parse_count(str(dig(doc, path) or "")) for name, path in sel.counts.items()}
            self.crawler.stats.inc_value(S.FIELDS_READ, 2)
            if not text:
                self.crawler.stats.inc_value(S.FIELDS_EMPTY)
            yield self.post(response.urljoin(sel.url_template.format(id=native)), native, "api",
                            title=clean_line(str(dig(doc, sel.title) or "")) if sel.title else "", text=text,
                            author=clean_line(str(dig(doc, sel.author) or "")) if sel.author else "",
                            published_at=self.read_time(str(dig(doc, sel.time) or ""), now),
                            tags={k: str(v) for k, v in counts.items() if v is not None})
        top = max([meta["top"], *ids])
        self.state.stage_mark(_SINCE_MARK.format(url=meta["base"]), str(top))
        if ids and meta["list_page"] < self.source.limits.max_list_pages:
            older = with_params(meta["base"], **{sel.since_param: meta["since"] or None, sel.max_param: min(ids) - 1})
            yield self.request(older, self.parse_page, meta={**meta, "list_page": meta["list_page"] + 1, "top": top})
