"""Is this answer a verification wall rather than the page? Pure. Anti-bot services in front of
Chinese sites answer with HTTP 403, 429 or 567 (a CDN's own block status), or with a small page
asking for 安全验证 / a slider / a captcha. A normal page that merely mentions 验证码 in a login
box is not one: the words must be in the title, or the page must be small and about nothing else."""
from __future__ import annotations

import re

BLOCK_STATUSES = {403: "HTTP 403", 429: "HTTP 429", 567: "HTTP 567"}
_WALL_WORDS = re.compile(r"安全验证|人机验证|访问验证|滑动验证|拖动滑块|请完成验证|验证后继续|captcha|geetest|slider|"
                         r"访问过于频繁|访问频率过高|Access Denied|Forbidden", re.I)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_SMALL_PAGE = 6000          # characters: a wall is a form and a script, not an article


def wall_reason(status: int, text: str) -> str | None:
    if status in BLOCK_STATUSES:
        return BLOCK_STATUSES[status]
    if not text or status >= 300 or "<" not in text[:500]:      # HTML only: not JSON, feeds are XML but long
        return None
    title = _TITLE.search(text[:4000])
    if title and _WALL_WORDS.search(title.group(1)):
        return f"verification page: {title.group(1).strip()[:40]}"
    if len(text) < _SMALL_PAGE and (m := _WALL_WORDS.search(text)):
        return f"verification page: {m.group(0)}"
    return None
