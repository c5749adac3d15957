"""Escaping and byte-safe truncation for hostile crawled text. Pure; reads no settings.

Vendor Markdown dialects (DingTalk, WeCom, Feishu lark_md) do not agree on backslash escapes, so
Markdown-active characters in crawled text are replaced by their full-width forms, which render as
the same glyph to a Chinese reader and are inert in every dialect; so are the colon of a bare
`scheme://` and the dot of `www.`, which the vendors would otherwise auto-link. Newlines become
spaces so a title cannot open a heading, a quote or a fake "确认" link line. Invisible and
control characters (C0, C1, zero-width, bidi, BOM) are removed.
"""
from __future__ import annotations

import html
import re
from urllib.parse import quote, urlsplit

# C0 and C1 controls and line/paragraph separators become spaces; zero-width and direction marks
# (U+200B-U+200F), bidi embeddings and isolates, invisible operators (U+2060-U+2064) and the
# BOM / ZWNBSP (U+FEFF) are removed (they sit inside words)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
# what the vendors' Markdown turns into a link by itself: a scheme, or a bare www. host. Not
# anchored on \b: Chinese text, digits and "_" are word characters, and a URL glued to them is live
_AUTOLINK = re.compile(r"(?i)([a-z][a-z0-9+.-]{1,15}):(//)|(?<![a-z0-9])(www)\.")
_MD_MAP = str.maketrans({
    "\\": "＼", "`": "｀", "*": "＊", "_": "＿", "{": "｛", "}": "｝", "[": "［", "]": "］",
    "(": "（", ")": "）", "#": "＃", "+": "＋", "-": "－", "!": "！", "|": "｜", "<": "＜",
    ">": "＞", "~": "～", "@": "＠", "$": "＄", "=": "＝", "&": "＆", '"': "＂", "'": "＇",
})


def plain(text: str, limit: int = 200) -> str:
    """One line of visible text: control and bidi characters removed, whitespace collapsed."""
    text = " ".join(_CONTROL.sub(" ", _INVISIBLE.sub("", text or "")).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _defuse_autolink(match: re.Match) -> str:
    # a full-width colon / dot reads the same to a person and is no longer a link to the renderer
    return f"{match.group(1)}：{match.group(2)}" if match.group(1) else f"{match.group(3)}．"


def markdown(text: str, limit: int = 200) -> str:
    """Crawled text as inert Markdown: no markup, and no bare URL the vendor would make clickable
    (a phishing link next to the real 确认 link)."""
    return _AUTOLINK.sub(_defuse_autolink, plain(text, limit)).translate(_MD_MAP)


def html_text(text: str, limit: int = 200) -> str:
    return html.escape(plain(text, limit), quote=True)


def safe_url(url: str) -> str:
    """An http(s) URL with every character that could end a Markdown link or HTML attribute
    percent-encoded; anything else (javascript:, data:, relative) becomes empty."""
    url = _INVISIBLE.sub("", _CONTROL.sub("", (url or "").strip()))
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return ""
    if "@" in parts.netloc:          # https://gov.cn@evil.example/ shows gov.cn and opens evil.example
        return ""
    return quote(url, safe="/:?&=#%~.,;+-_!*@$")


def truncate_utf8(text: str, max_bytes: int, marker: str = "…") -> str:
    """Cut `text` to at most `max_bytes` of UTF-8, never inside a character."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    if max_bytes <= 0:
        return ""
    room = max_bytes - len(marker.encode("utf-8"))
    if room <= 0:
        return data[:max_bytes].decode("utf-8", errors="ignore")
    return data[:room].decode("utf-8", errors="ignore") + marker


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))
