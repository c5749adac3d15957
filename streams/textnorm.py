"""Text normalisation for analysis: traditional->simplified, full->half width, HTML/URL clean-up.

Pure functions, no settings. The traditional->simplified table is built once from the
character map snownlp ships (single characters only, so conversion is one str.translate).
"""
from __future__ import annotations

import hashlib
import html
import re
from pathlib import Path

# Analysis reads at most this many characters of title + text: news articles put the who/where
# up front, and segmentation cost grows linearly with length (see docs/quality.md, Limits).
MAX_ANALYSIS_CHARS = 3000

_WIDTH_TABLE = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_WIDTH_TABLE[0x3000] = 0x20   # ideographic space


def _t2s_table() -> dict[int, str]:
    """Single-character pairs of snownlp's zh2hans map, read from its source with `ast` rather than
    imported: importing snownlp loads its models (seconds), and the crawler hashes content too."""
    import ast
    from importlib.util import find_spec

    spec = find_spec("snownlp")   # snownlp is a runtime dependency already
    path = Path(spec.submodule_search_locations[0]) / "normal" / "zh.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    mapping = next(ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)
                   and any(getattr(t, "id", "") == "zh2hans" for t in node.targets))
    return {ord(k): v for k, v in mapping.items() if len(k) == 1 and len(v) == 1 and k != v}


# lone surrogates cannot be encoded as UTF-8 and control characters (C0, DEL, C1) break JSON
# consumers: drop them
# (U+0085, NEL, is whitespace: it parts words like a line break and is collapsed with the spaces)
_CONTROLS = (*range(0xD800, 0xE000), *range(0x00, 0x20), *range(0x7F, 0x85), *range(0x86, 0xA0))
# Invisible characters: format characters (zero-width space/joiners, direction marks, word joiner,
# BOM, soft hyphen, tag characters), variation selectors and fillers. Typed inside a word
# (化工厂爆\u200b炸) they hide it from watch terms, entities and exact-copy hashing while a reader
# sees the word whole: a known trick against keyword filters.
_INVISIBLE = (0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, *range(0x180B, 0x1810),
              *range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x2065), *range(0x2066, 0x2070),
              0x3164, *range(0xFE00, 0xFE10), 0xFEFF, 0xFFA0, *range(0xFFF9, 0xFFFC), *range(0xE0000, 0xE0080),
              *range(0xE0100, 0xE01F0))
_DROP = {code: None for code in (*_CONTROLS, *_INVISIBLE) if chr(code) not in "\t\n\r"}
_TABLE: dict[int, int | str | None] = {**_t2s_table(), **_WIDTH_TABLE, **_DROP}
_SPACE = re.compile(r"\s+")
# Markup: a comment, "<" then an HTML tag name (or a namespaced / custom one: o:p, st1:place,
# my-widget), optionally "/", then attributes; "<!DOCTYPE ...>", "<?xml ...?>". Other angle brackets
# are text: "<化工厂爆炸调查报告>" typed for 《》, "<iPhone 15发布会>", "伤亡>10人", "1<2".
_HTML_TAGS = (
    "a abbr acronym address area article aside audio b base basefont bdi bdo big blink blockquote body "
    "br button canvas caption center cite code col colgroup data datalist dd del details dfn dialog dir "
    "div dl dt em embed fieldset figcaption figure font footer form frame frameset h1 h2 h3 h4 h5 h6 "
    "head header hgroup hr html i iframe img input ins kbd label legend li link main map mark marquee "
    "menu meta meter nav nobr noembed noframes noscript object ol optgroup option output p param "
    "picture pre progress q rp rt ruby s samp script search section select small source span strike "
    "strong style sub summary sup svg table tbody td template textarea tfoot th thead time title tr "
    "track tt u ul var video wbr path g circle rect line polyline polygon math"
).split()
_TAG = re.compile(r"<!--[\s\S]{0,2000}?-->"
                  r"|<(?:/?(?:(?:" + "|".join(sorted(_HTML_TAGS, key=len, reverse=True)) + r")(?![A-Za-z0-9:-])"
                  r"|[A-Za-z][A-Za-z0-9]*[:-][A-Za-z0-9:-]*)(?:[\s/][^<>]{0,2000})?|[!?][^<>]{0,2000})>",
                  re.IGNORECASE)
# A URL is ASCII URL characters only (no quotes, brackets, parentheses or @): a Chinese word written
# straight after a link ("视频见http://t.cn/A6x9Zq化工厂发生爆炸") is text, not part of the link, and a
# repost chain after a link ("http://t.cn/x//@name: 正文") keeps its "//@".
_URL = re.compile(r"(?:https?|ftp)://(?:(?!//[@＠])[A-Za-z0-9\-._~:/?#!$&*+,;=%])+", re.IGNORECASE)
# An @handle is removed whole only where its end is certain: followed by whitespace, a colon
# (: or ：), another @ or the end of the text, which is how Weibo writes a mention ("@人民日报 说",
# "//@人民日报:", "@a@b"); 96 % of the @-runs in weibo_senti_100k's train split end so. Elsewhere
# ("我@了市长热线反映化工厂偷排废水，没人管": the word run goes on to the comma) where the handle ends
# cannot be told, so only the "@" goes (_AT): a handle left in the text costs a stray word, a cut
# into the text loses the words after it (watch terms, entities).
_MENTION = re.compile(r"[@＠][\w\-]{1,30}(?=[\s:：@＠]|$)")
_AT = re.compile(r"[@＠]")
# Weibo/forum emoticon codes such as [哈哈], [泪], [good] or [lxhx泪目]: a bracketed word of at most 4
# characters, or a Latin series prefix of at most 5 letters and at most 5 more characters; no digits
# or spaces inside. Of the 185k bracket codes in weibo_senti_100k (train and dev), 99.6 % are at most
# 4 characters and about half of the longer ones carry such a prefix. A longer plain Chinese bracket
# ("[化工厂爆炸]现场浓烟滚滚") is a headline and stays text.
EMOTICON = re.compile(r"\[(?:[^\[\]\d\s]{1,4}|[A-Za-z]{1,5}[^\[\]\d\s]{1,5})\]")


# Repost decorations, found in cleaned text (so @handles are already gone: "//@name:" is "// :").
# They stay in the tokens (hashtags are good keywords) but are left out of the SimHash.
_CHAIN = re.compile(r"//\s?:")
_DECORATION = re.compile(
    r"#[^#\n]{1,40}#"                                              # hashtag
    r"|^\s*(?:转发微博|转发|转自|转载|【转】|转\s?:|回复|回覆)\s?:?"   # repost / reply markers up front
    r"|(?:…|\.{3})?\s*(?:展开)?全文\s*$"                            # "...全文" where a copy was cut
    r"|[(]?(?:来源|转自|via)\s?:?\s?\S{1,20}[)]?\s*$",            # a source line at the end
    re.IGNORECASE,
)
_DECORATION_HINT = re.compile(r"#|转发|转自|转载|转\s?:|回复|回覆|全文|来源|via", re.IGNORECASE)


def fingerprint_skips(cleaned: str) -> tuple[int, list[tuple[int, int]]]:
    """(start, skipped spans) of the part of a cleaned post that identifies its content.

    In a repost chain "comment //@a: earlier comment //@b: text" the content is the last
    link; hashtags, 转发/转自 markers, "...全文" and source tails are decoration.
    """
    start = 0
    if "//" in cleaned:
        for found in _CHAIN.finditer(cleaned):
            if len(cleaned) - found.end() >= 10:
                start = found.end()
    region = cleaned[start:]
    if not _DECORATION_HINT.search(region):   # the common case, checked by a cheap scan
        return start, []
    return start, [(m.start() + start, m.end() + start) for m in _DECORATION.finditer(region) if m.end() > m.start()]


def normalise(text: str) -> str:
    """Traditional->simplified, full-width->half-width, no control or invisible characters or lone
    surrogates, whitespace runs collapsed to one space."""
    return _SPACE.sub(" ", text.translate(_TABLE)).strip()


def content_hash(text: str) -> str:
    """Hex digest of one normalised string (a part of a post; see post_content_hash for posts)."""
    return content_digest(normalise(text))


def post_content_hash(title: str, text: str) -> str:
    """THE content hash of a post, the one definition every stage uses: the crawler (has this post
    changed since it was delivered?), the worker (exact re-crawl, or an edit to re-index) and repost
    clustering (a verbatim copy). Title and text, each normalised, so a copy re-titled 【转】 is a
    repost to cluster, while width, script and spacing differences are not changes."""
    return post_digest(normalise(title), normalise(text))


def prepared_content_hash(title: str, text: str) -> tuple[str, tuple[str, str]]:
    """post_content_hash(title, text) and prepare(title, text), the text normalised once: the
    worker hashes a post before analysing it, and hands analyze() the prepared text."""
    prepared = prepare(title, text)
    return post_digest(normalise(title) if title else "", prepared[1]), prepared


def post_digest(normalised_title: str, normalised_text: str) -> str:
    """post_content_hash from parts already normalised (analysis normalises the text anyway)."""
    return content_digest(f"{normalised_title}\n{normalised_text}")


def content_digest(normalised: str) -> str:
    return hashlib.blake2b(normalised.encode("utf-8"), digest_size=16).hexdigest()


def strip_emoticons(text: str) -> str:
    return EMOTICON.sub(" ", text)


_MARKERS = re.compile(r"[<&@]|://")


def prepare(title: str, text: str, limit: int = MAX_ANALYSIS_CHARS) -> tuple[str, str]:
    """(clean_for_analysis(title, text), normalise(text)), sharing the work when they agree.

    Most posts have no title, markup, link or handle: then the cleaned text is simply the
    normalised text cut at `limit`, and the text is normalised once.
    """
    body = normalise(text)
    if not title and not _MARKERS.search(body):
        return body[:limit], body
    return clean_for_analysis(title, text, limit), body


def clean_for_analysis(title: str, text: str, limit: int = MAX_ANALYSIS_CHARS) -> str:
    """Title and text as one normalised string without markup, URLs or @handles, cut at `limit`."""
    joined = f"{title}\n{text}" if title else text
    # cut early (with slack for markup) so hostile megabyte inputs never reach the regexes whole
    joined = joined[: limit * 4]
    # each clean-up only where its marker occurs: most posts have no markup, link or handle
    if "<" in joined:
        joined = _TAG.sub(" ", joined)
    if "&" in joined:
        joined = html.unescape(joined)
    if "://" in joined:
        joined = _URL.sub(" ", joined)
    if "@" in joined or "＠" in joined:
        joined = _AT.sub(" ", _MENTION.sub(" ", joined))
    return normalise(joined)[:limit]
