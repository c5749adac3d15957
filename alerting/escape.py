"""Escaping and byte-safe truncation for hostile crawled text. Pure; reads no settings.

Vendor Markdown dialects (DingTalk, WeCom, Feishu lark_md) do not agree on backslash escapes, so
Markdown-active characters in crawled text are replaced by their full-width forms, which render as
the same glyph to a Chinese reader and are inert in every dialect. Newlines become spaces so a
title cannot open a heading, a quote or a fake "确认" link line.
"""
from __future__ import annotations

import html
import re
from urllib.parse import quote, urlsplit

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_MD_MAP = str.maketrans({
    "\\": "＼", "`": "｀", "*": "＊", "_": "＿", "{": "｛", "}": "｝", "[": "［", "]": "］",
    "(": "（", ")": "）", "#": "＃", "+": "＋", "-": "－", "!": "！", "|": "｜", "<": "＜",
    ">": "＞", "~": "～", "@": "＠", "$": "＄", "=": "＝", "&": "＆", '"': "＂", "'": "＇",
})


def plain(text: str, limit: int = 200) -> str:
    """One line of visible text: control and bidi characters removed, whitespace collapsed."""
    text = " ".join(_CONTROL.sub(" ", text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def markdown(text: str, limit: int = 200) -> str:
    return plain(text, limit).translate(_MD_MAP)


def html_text(text: str, limit: int = 200) -> str:
    return html.escape(plain(text, limit), quote=True)


def safe_url(url: str) -> str:
    """An http(s) URL with every character that could end a Markdown link or HTML attribute
    percent-encoded; anything else (javascript:, data:, relative) becomes empty."""
    url = _CONTROL.sub("", (url or "").strip())
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return ""
    return quote(url, safe="/:?&=#%~.,;+-_!*@$")


def truncate_utf8(text: str, max_bytes: int, marker: str = "…") -> str:
    """Cut `text` to at most `max_bytes` of UTF-8, never inside a character."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    room = max_bytes - len(marker.encode("utf-8"))
    if room <= 0:
        return data[:max_bytes].decode("utf-8", errors="ignore")
    return data[:room].decode("utf-8", errors="ignore") + marker


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))
