"""Full-width characters and Chinese counts (1.2万, 3千+, ３５) into plain values. Pure."""
from __future__ import annotations

import re

# U+FF01..U+FF5E are the full-width forms of ASCII 0x21..0x7E; U+3000 is the ideographic space
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_UNITS = {"千": 1_000, "k": 1_000, "K": 1_000, "万": 10_000, "w": 10_000, "W": 10_000, "亿": 100_000_000}
_COUNT = re.compile(r"(\d+(?:\.\d+)?)\s*([千kK万wW亿]?)")


def halfwidth(text: str) -> str:
    """Full-width ASCII (０-９, Ａ-Ｚ, ：, －) and the ideographic space to their ASCII forms."""
    return text.translate(_FULLWIDTH)


def parse_count(text: str) -> int | None:
    """'1.2万' -> 12000, '３５' -> 35, '阅读 2,345' -> 2345, '10万+' -> 100000; None if no number."""
    match = _COUNT.search(halfwidth(text).replace(",", ""))
    if match is None:
        return None
    return round(float(match.group(1)) * _UNITS.get(match.group(2), 1))
