"""HTML for the demo forum (澄溪论坛) and news portal (澄溪新闻网). Every generated string is
escaped; each page also carries a content version (for ETag) and its last-change time (for
Last-Modified), so that conditional requests answer 304 until the page really changes."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from infra.demo_web.generator import BOARDS, DemoPost
from infra.demo_web.scenario import Scenario, ThreadView

SHANGHAI = ZoneInfo("Asia/Shanghai")
BOARD_PAGE = 20
THREAD_PAGE = 10
NEWS_PAGE = 15
# A misconfigured server, common on old Chinese BBS: the page is GBK and says so in its meta,
# but the HTTP header claims UTF-8. Crawlers must trust the bytes, not the header.
HEADER_CHARSET = {"help": "utf-8"}


@dataclass(frozen=True)
class Page:
    body: str
    charset: str
    version: str          # changes exactly when what the page shows (apart from relative times) changes
    last_at_s: float      # scenario time of the newest thing on the page
    content_type: str = "text/html"
    header_charset: str = ""   # what the Content-Type header claims, when it differs from `charset`


def content_version(*parts: object) -> str:
    return hashlib.sha1(repr(parts).encode("utf-8")).hexdigest()[:16]


def relative_time(at: datetime, now: datetime) -> str:
    """How a Chinese forum shows a time: 刚刚, 3分钟前, 2小时前, 昨天 12:30, 05-17 08:00."""
    at, now = at.astimezone(SHANGHAI), now.astimezone(SHANGHAI)
    secs = (now - at).total_seconds()
    if secs < 60:
        return "刚刚"
    if secs < 3600:
        return f"{int(secs // 60)}分钟前"
    if secs < 6 * 3600:
        return f"{int(secs // 3600)}小时前"
    days = (now.date() - at.date()).days
    if days == 0:
        return f"今天 {at:%H:%M}"
    if days == 1:
        return f"昨天 {at:%H:%M}"
    return f"{at:%m-%d %H:%M}" if at.year == now.year else f"{at:%Y-%m-%d %H:%M}"


def _doc(title: str, charset: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="{charset}">'
            f"<title>{escape(title)}</title></head>\n<body>\n{body}\n</body></html>\n")


def _pager(base: str, page: int, pages: int) -> str:
    # page 1 is the bare URL, as on most sites, so a crawler does not fetch it twice
    links = [f'<a class="page{" current" if n == page else ""}" href="{base if n == 1 else f"{base}?page={n}"}">{n}</a>'
             for n in range(1, pages + 1)]
    if page < pages:
        links.append(f'<a class="next" href="{base}?page={page + 1}">下一页</a>')
    return f'<div class="pager" data-pages="{pages}">{" ".join(links)} <span>共 {pages} 页</span></div>'


def _slice(items: list, page: int, size: int) -> tuple[list, int]:
    pages = max(1, -(-len(items) // size))
    if not 1 <= page <= pages:
        raise KeyError(page)
    return items[(page - 1) * size: page * size], pages


def home(s: Scenario) -> Page:
    boards = "".join(f'<li><a href="/forum/board/{slug}">{escape(name)}</a></li>' for slug, (name, _) in BOARDS.items())
    body = f'<h1>澄溪论坛</h1><ul class="boards">{boards}</ul><p><a href="/news/">澄溪新闻网</a></p>'
    return Page(_doc("澄溪论坛", "utf-8", body), "utf-8", content_version("home"), -1e9)


def board(s: Scenario, slug: str, page: int, now_s: float) -> Page:
    name, charset = BOARDS[slug]
    every = s.board(slug, now_s)
    views, pages = _slice(every, page, BOARD_PAGE)
    now = s.at(now_s)
    rows = "\n".join(
        f'<li class="thread" data-tid="{v.thread.native_id}"><a class="title" href="/forum/thread/{v.thread.native_id}">'
        f'{escape(v.thread.title)}</a> <span class="author">{escape(v.thread.author)}</span> '
        f'<span class="replies">{len(v.replies)}</span> <span class="last">{relative_time(s.at(v.last_at_s), now)}</span></li>'
        for v in views)
    body = (f'<div class="board" data-board="{slug}"><h1>{escape(name)}</h1>\n<ul class="threads">\n{rows}\n</ul>\n'
            f'{_pager(f"/forum/board/{slug}", page, pages)}</div>')
    version = content_version(slug, page, pages, [(v.thread.native_id, len(v.replies)) for v in views])
    # any bump anywhere on the board can shift this page, so it is as new as the board's newest post
    return Page(_doc(f"{name} - 澄溪论坛", charset, body), charset, version, every[0].last_at_s if every else -1e9,
                header_charset=HEADER_CHARSET.get(slug, ""))


def _floor(p: DemoPost, s: Scenario, now: datetime) -> str:
    quote = f'<div class="quote">回复 {p.reply_to_floor}楼</div>' if p.reply_to_floor else ""
    return (f'<div class="floor" id="post-{p.native_id}" data-floor="{p.floor}">'
            f'<span class="author">{escape(p.author)}</span> <span class="floor-no">{p.floor}楼</span> '
            f'<span class="time">{relative_time(s.at(p.at_s), now)}</span>{quote}'
            f'<div class="content">{escape(p.text)}</div></div>')


def thread(s: Scenario, view: ThreadView, page: int, now_s: float) -> Page:
    name, charset = BOARDS[view.thread.board]
    floors, pages = _slice([view.thread, *view.replies], page, THREAD_PAGE)
    now = s.at(now_s)
    body = (f'<div class="crumbs"><a href="/forum/board/{view.thread.board}">{escape(name)}</a></div>\n'
            f'<h1 class="thread-title" data-tid="{view.thread.native_id}">{escape(view.thread.title)}</h1>\n'
            + "\n".join(_floor(p, s, now) for p in floors) + "\n"
            + _pager(f"/forum/thread/{view.thread.native_id}", page, pages))
    version = content_version(view.thread.native_id, page, pages, [p.native_id for p in floors])
    return Page(_doc(f"{view.thread.title} - {name}", charset, body), charset, version, view.last_at_s,
                header_charset=HEADER_CHARSET.get(view.thread.board, ""))


def news_list(s: Scenario, page: int, now_s: float) -> Page:
    every = s.articles(now_s)
    items, pages = _slice(every, page, NEWS_PAGE)
    rows = "\n".join(
        f'<li><a href="/news/article/{a.native_id}.html">{escape(a.title)}</a> '
        f'<span class="date">{s.at(a.at_s).astimezone(SHANGHAI):%m-%d %H:%M}</span></li>' for a in items)
    body = f'<h1>澄溪新闻网</h1>\n<ul class="news-list">\n{rows}\n</ul>\n{_pager("/news/list", page, pages)}'
    version = content_version("news", page, pages, [a.native_id for a in items])
    return Page(_doc("澄溪新闻网", "utf-8", body), "utf-8", version, every[0].at_s if every else -1e9)


def article(s: Scenario, a: DemoPost, now_s: float = 0.0) -> Page:
    # one paragraph per sentence, full stops kept: joining the paragraphs gives the text back
    paras = "".join(f"<p>{escape(line)}</p>" for line in re.findall(r"[^。]+。?", a.text))
    change = s.params.layout_change_at_s
    if change is not None and now_s >= change:
        return _redesigned_article(s, a, paras)
    body = (f'<article data-aid="{a.native_id}"><h1 class="title">{escape(a.title)}</h1>\n'
            f'<div class="meta"><span class="pubtime">{s.at(a.at_s).astimezone(SHANGHAI):%Y-%m-%d %H:%M:%S}</span> '
            f'<span class="source">来源：{escape(a.source)}</span> <span class="author">{escape(a.author)}</span></div>\n'
            f'<div class="article-body">{paras}</div></article>')
    return Page(_doc(f"{a.title} - 澄溪新闻网", "utf-8", body), "utf-8", content_version(a.native_id), a.at_s)


def _redesigned_article(s: Scenario, a: DemoPost, paras: str) -> Page:
    """The portal's new template: same content, other markup. Selectors written for the old one find nothing."""
    body = (f'<div class="post-wrap" data-aid="{a.native_id}"><h2 class="headline">{escape(a.title)}</h2>\n'
            f'<p class="info">发布时间：{s.at(a.at_s).astimezone(SHANGHAI):%Y-%m-%d %H:%M} 来源：{escape(a.source)} '
            f'作者：{escape(a.author)}</p>\n<section class="content">{paras}</section></div>')
    return Page(_doc(f"{a.title} - 澄溪新闻网", "utf-8", body), "utf-8", content_version(a.native_id, "v2"), a.at_s)
