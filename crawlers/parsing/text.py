"""Cleaning crawled text: hostile input, so control and zero-width characters go, whitespace is
collapsed and length is capped. Escaping for output is the consumers' job. Pure."""
from __future__ import annotations

import re

_INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u3000]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def clean_text(parts: str | list[str], max_chars: int = 200_000) -> str:
    text = parts if isinstance(parts, str) else "\n".join(p.strip() for p in parts if p and p.strip())
    text = _INVISIBLE.sub("", text)
    text = _SPACES.sub(" ", text)
    text = _BLANK_LINES.sub("\n", text).strip()
    return text[:max_chars]


def clean_line(parts: str | list[str], max_chars: int = 1000) -> str:
    """A one-line field (title, author): every run of whitespace, newlines included, is one space."""
    return re.sub(r"\s+", " ", clean_text(parts, max_chars * 2)).strip()[:max_chars]
