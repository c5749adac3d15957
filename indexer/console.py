"""Renders search hits for a terminal. Crawled text is hostile: control characters (terminal
escape sequences included) are stripped before anything is printed. Reads no settings."""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from indexer.queries import HIGHLIGHT_POST, HIGHLIGHT_PRE

SHANGHAI = ZoneInfo("Asia/Shanghai")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
BOLD, RESET = "\x1b[1;31m", "\x1b[0m"


def terminal_safe(text: str, highlight: bool = False) -> str:
    """Drop control and bidi characters; turn our own highlight markers into colour (or 【】)."""
    pre, post = (BOLD, RESET) if highlight else ("【", "】")
    parts = []
    for chunk in re.split(f"([{HIGHLIGHT_PRE}{HIGHLIGHT_POST}])", text):
        if chunk == HIGHLIGHT_PRE:
            parts.append(pre)
        elif chunk == HIGHLIGHT_POST:
            parts.append(post)
        else:
            parts.append(_CONTROL.sub("", chunk.replace("\n", " ")))
    return "".join(parts)


def render_hits(resp: dict, color: bool = False) -> str:
    total = resp["hits"]["total"]["value"]
    lines = [f"共 {total} 条结果 / {total} hits"]
    for n, hit in enumerate(resp["hits"]["hits"], start=1):
        src, hl = hit["_source"], hit.get("highlight", {})
        title = hl.get("title", [src.get("title") or ""])[0]
        snippet = " … ".join(hl.get("text", [src.get("text", "")[:80]]))
        when = datetime.fromisoformat(src["published_at"]).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        flags = " [转载]" if src.get("is_repost") else ""
        sentiment = {"negative": "负面", "positive": "正面"}.get(src.get("sentiment_label"), "中性")
        lines.append(f"{n:>2}. {terminal_safe(title, color)}{flags}  ({terminal_safe(src['site'])} · {when} · {sentiment})")
        lines.append(f"    {terminal_safe(snippet, color)}")
        lines.append(f"    {terminal_safe(src['url'])}")
    return "\n".join(lines)
