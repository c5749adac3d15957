"""Cleaning crawled text: hostile input, so control and zero-width characters go, whitespace is
collapsed and length is capped. Escaping for output is the consumers' job. Pure."""
from __future__ import annotations

import re

from lxml import etree

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


def selected_text(node, selector: str, line: bool = False) -> str:
    """The cleaned text a CSS selector picks from `node` (a parsel Selector): an element selection
    reads as a reader sees it (block_text: inline markup joins, blocks break lines), a `::text` or
    `::attr(x)` selection is the strings it names; several matches are separate lines. `line`:
    one line (clean_line), else clean_text."""
    found = node.css(selector)
    roots = {id(f.root) for f in found if not isinstance(f.root, str)}
    # a match inside another match is already read with it (div.content in a div.content)
    values = [block_text(f) for f in found if isinstance(f.root, str)
              or not any(id(up) in roots for up in f.root.iterancestors())]
    return clean_line(values) if line else clean_text(values)


# Elements that start a new line where a reader sees one; every other element (a, b, span, font,
# em, strong ...) is inline: its text joins its neighbours'. td/th are blocks too, so cells do not
# run together.
BLOCK_TAGS = frozenset(
    "address article aside blockquote body br caption center dd details dialog dir div dl dt fieldset "
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 head header hgroup hr legend li listing main menu nav "
    "ol option p pre search section summary table tbody td tfoot th thead tr ul xmp".split())
SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "title"})


def block_text(node, skip=None) -> str:
    """The text of one element (a parsel Selector or an lxml element) as a reader sees it: inline
    markup joins its neighbours ("化工厂<a>爆炸</a>" is 化工厂爆炸), block elements and <br> break
    lines; script, style and comments are dropped, and so is every element `skip(element)` names
    (the text after it kept). A text or attribute selection is returned as is. Not cleaned: pass
    the result to clean_text / clean_line. Iterative, so deeply nested hostile markup is no risk."""
    root = getattr(node, "root", node)
    if isinstance(root, str):
        return root
    out: list[str] = []
    walker = etree.iterwalk(root, events=("start", "end", "comment", "pi"))
    for event, el in walker:
        if event in ("comment", "pi"):
            out.append(el.tail or "")
            continue
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if tag in BLOCK_TAGS:
            out.append("\n")    # at its start and its end; a dropped block still parts its neighbours
        if event == "start":
            if tag in SKIPPED_TAGS or (skip is not None and skip(el)):
                walker.skip_subtree()     # its end event still comes: its tail is kept
            else:
                out.append(el.text or "")
        elif el is not root:
            out.append(el.tail or "")
    return "".join(out)
