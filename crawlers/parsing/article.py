"""Generic article extraction for news pages without selectors, with trafilatura. Pure: no I/O.

`extract_article(html, url)` gives title, text (paragraphs joined by newlines), published (an
aware datetime in Asia/Shanghai, or None) and author; empty strings when nothing is found. It
never raises on hostile or broken HTML: trafilatura's own failures count as nothing found.
Comments, navigation and boilerplate are left out by trafilatura; when the article is shorter
than its minimum size it falls back to a whole-page reading, whose leading title and meta line
(time, 来源, author) are stripped here so the text starts at the article's first sentence.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime, timezone

import trafilatura
from trafilatura.settings import use_config

from crawlers.errors import ParseError
from crawlers.parsing.numbers import halfwidth
from crawlers.parsing.times import SHANGHAI, parse_cn_time

log = logging.getLogger(__name__)

_DATE_PARAMS = {"extensive_search": True, "original_date": True, "outputformat": "%Y-%m-%d %H:%M:%S"}
# a meta line before the body: a time, 来源/作者/记者/编辑 labels, nothing sentence-like
_META_LINE = re.compile(r"^[\s\d:：/.\-年月日]*(?:[\u4e00-\u9fff]{0,3}(?:发布时间|时间|来源|稿源|出处|作者|特约记者|记者|通讯员|编辑|责任编辑)\s*[:：]?.*)?$")
_TIME_IN_TEXT = re.compile(r"(\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?)(?:\s*|T)(\d{1,2}:\d{2}(?::\d{2})?)")
_MAX_HTML = 5_000_000
_META_HEAD = re.compile(r"^(.*?(?:来源|稿源|作者|记者|通讯员)\s*[:：]?\s*\S+(?:\s+(?:记者|通讯员|作者|编辑)\s*[:：]?\s*\S+)?)\s+(?=\S)")
_META_HEAD_WINDOW = 240      # > the 80-character meta part plus the spaces around it
# trafilatura's default minimum (250 characters) is a long article in Chinese, where a character
# is a word: below it the main-text reading is thrown away for a whole-page one (title and meta
# line included, paragraphs run together). 50 keeps short 通报/简讯 pieces on the main reading.
_CONFIG = use_config()
_CONFIG.set("DEFAULT", "MIN_EXTRACTED_SIZE", "50")


def _empty() -> dict:
    return {"title": "", "text": "", "published": None, "author": ""}


def _strip_head(text: str, title: str, author: str) -> str:
    """Drop a repeated title and the meta line a fallback reading puts before the first sentence."""
    if title and text.startswith(title):
        text = text[len(title):].lstrip()
    lines = text.split("\n")
    while lines and (_looks_meta(lines[0]) or (author and lines[0].strip() == author)):
        lines.pop(0)
    if lines:       # a one-line fallback: the meta words sit between the title and the first sentence
        first = lines[0]
        # the meta part is under 80 characters, so only the line's head is searched: on a long
        # line without spaces the lazy prefix and \S+ would otherwise backtrack quadratically
        m = _META_HEAD.match(first[:_META_HEAD_WINDOW])
        if m and _looks_meta(m.group(1)) and len(m.group(1)) < 80:
            lines[0] = first[m.end():]
    return "\n".join(lines).strip()


def _looks_meta(line: str) -> bool:
    line = halfwidth(line).strip()
    if not line:
        return True
    if "。" in line or len(line) > 80:
        return False
    return bool(_META_LINE.match(line)) or bool(re.fullmatch(r"[\d\s:\-/.年月日]+(?:来源|作者|记者|通讯员).*", line))


def _published(raw: str | None, html_text: str) -> datetime | None:
    now = datetime.now(timezone.utc)     # only absolute forms are read, so `now` does not matter
    candidates = [raw] if raw else []
    # htmldate keeps the day only when the page's time has no machine-readable form: look for
    # the same day with its clock in the page text
    if raw:
        day = raw[:10]
        for m in _TIME_IN_TEXT.finditer(halfwidth(html_text)):
            try:
                found = parse_cn_time(f"{m.group(1)} {m.group(2)}", now)
            except ParseError:
                continue
            if found.strftime("%Y-%m-%d") == day:
                candidates.insert(0, f"{m.group(1)} {m.group(2)}")
                break
    for value in candidates:
        try:
            return parse_cn_time(value, now).astimezone(SHANGHAI)
        except (ParseError, ValueError):
            continue
    return None


def extract_article(html: str, url: str) -> dict:
    """title, text, published (aware, Asia/Shanghai, or None), author of one article page."""
    if not isinstance(html, str) or not html.strip():
        return _empty()
    html = html[:_MAX_HTML]
    try:
        doc = trafilatura.bare_extraction(html, url=url or None, with_metadata=True, include_comments=False,
                                          include_tables=False, date_extraction_params=_DATE_PARAMS,
                                          config=_CONFIG)
    except Exception as exc:     # noqa: BLE001 — a hostile page must not stop the crawl
        log.debug("正文抽取失败 / extraction failed: url=%s error=%r", url, exc)
        return _empty()
    if doc is None:
        return _empty()
    title = re.sub(r"\s+", " ", (doc.title or "")).strip()
    text = "\n".join(ln.strip() for ln in (doc.text or "").splitlines() if ln.strip())
    author = re.sub(r"\s+", " ", (doc.author or "")).strip()
    text = _strip_head(text, title, author)
    try:
        published = _published(doc.date, html)
    except Exception:            # noqa: BLE001
        published = None
    return {"title": title, "text": text, "published": published, "author": author}


def is_navigation(text: str, link_texts: list[str], share: float = 0.8) -> bool:
    """True when the extracted text is mostly the page's own link texts (a channel or index page
    read as if it were an article): `share` of its lines are link texts."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return True
    links = {t.strip() for t in link_texts if t and t.strip()}
    return sum(ln in links for ln in lines) >= share * len(lines)
