"""The news portal's RSS 2.0 feed (`/feed/news.xml`): the newest articles with their full text.
Every text node is XML-escaped; guid is the article's native id, so a feed entry and the
article page give the same post_id."""
from __future__ import annotations

from email.utils import format_datetime
from xml.sax.saxutils import escape

from infra.demo_web.pages import Page, content_version
from infra.demo_web.scenario import Scenario

FEED_ITEMS = 30


def news_rss(s: Scenario, now_s: float) -> Page:
    items = s.articles(now_s)[:FEED_ITEMS]
    entries = "\n".join(
        f"<item><title>{escape(a.title)}</title><link>/news/article/{a.native_id}.html</link>"
        f'<guid isPermaLink="false">{a.native_id}</guid>'
        f"<pubDate>{format_datetime(s.at(a.at_s), usegmt=True)}</pubDate>"
        f"<author>{escape(a.author)}</author><category>{escape(a.source)}</category>"
        f"<description>{escape(a.text)}</description></item>"
        for a in items)
    body = ('<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>澄溪新闻网</title>'
            f"<link>/news/</link><description>澄溪新闻网最新消息</description>\n{entries}\n</channel></rss>\n")
    return Page(body, "utf-8", content_version("rss", [a.native_id for a in items]),
                items[0].at_s if items else -1e9, content_type="application/rss+xml")
