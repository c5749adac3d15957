"""Machine-readable endpoints: the news portal's RSS 2.0 feed (`/feed/news.xml`, newest articles
with full text; every text node XML-escaped; guid = the article's native id, so a feed entry and
the article page give the same post_id) and the microblog search API
(`/api/statuses/public_timeline.json?since_id=&max_id=&count=`, JSON, Chinese relative times,
counts like 1.2万)."""
from __future__ import annotations

from email.utils import format_datetime
from xml.sax.saxutils import escape

import json

from infra.demo_web.generator import DemoPost
from infra.demo_web.pages import Page, content_version, relative_time
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


def _count(n: int) -> str | int:
    return f"{n / 10000:.1f}万" if n >= 10000 else n


def _status(s: Scenario, p: DemoPost, now_s: float) -> dict:
    return {"id": int(p.native_id), "idstr": p.native_id, "text": p.text,
            "created_at": relative_time(s.at(p.at_s), s.at(now_s)),
            "user": {"screen_name": p.author}, "reposts_count": _count(p.reposts)}


def statuses_json(s: Scenario, now_s: float, since_id: int, max_id: int | None, count: int) -> Page:
    if not 1 <= count <= 100:
        raise ValueError(count)
    items = s.statuses(now_s, since_id, max_id, count)
    doc = {"statuses": [_status(s, p, now_s) for p in items], "since_id": since_id,
           "max_id": int(items[-1].native_id) - 1 if items else 0}
    # relative times change every minute; the version follows the statuses, as for the forum pages
    return Page(json.dumps(doc, ensure_ascii=False), "utf-8", content_version("api", since_id, max_id, count,
                [p.native_id for p in items]), items[0].at_s if items else -1e9, content_type="application/json")


def status_page(s: Scenario, p: DemoPost, now_s: float) -> Page:
    """The page a status links to, for people following an alert's sample links."""
    body = (f'<div class="status" data-id="{p.native_id}"><span class="author">{escape(p.author)}</span> '
            f'<span class="time">{relative_time(s.at(p.at_s), s.at(now_s))}</span>'
            f'<p class="text">{escape(p.text)}</p><span class="reposts">转发 {_count(p.reposts)}</span></div>')
    doc = (f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8"><title>微博正文</title></head>'
           f"<body>{body}</body></html>\n")
    return Page(doc, "utf-8", content_version("status", p.native_id), p.at_s)
