"""Crawled text is hostile: the console's output shaping. Highlight fragments become HTML in
which everything is escaped except our own <em> markers; export cells never start a formula.
Pure; reads no settings."""
from __future__ import annotations

import html
from datetime import datetime
from zoneinfo import ZoneInfo

from indexer.queries import HIGHLIGHT_POST, HIGHLIGHT_PRE

SHANGHAI = ZoneInfo("Asia/Shanghai")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")   # OWASP CSV injection: what a spreadsheet evaluates
EXCEL_CELL_MAX = 32_767
HIT_FIELDS = ("post_id", "site", "kind", "url", "author", "title", "published_at", "sentiment_label",
              "sentiment", "is_repost", "cluster_id", "subjects", "keywords")


def highlight_html(fragment: str) -> str:
    """An Elasticsearch highlight fragment (post text with our control markers) as safe HTML:
    the text escaped, markers turned into <em>…</em>, stray markers dropped."""
    out, open_em = [], False
    for chunk in fragment.replace(HIGHLIGHT_POST, "\x00" + HIGHLIGHT_POST + "\x00").replace(
            HIGHLIGHT_PRE, "\x00" + HIGHLIGHT_PRE + "\x00").split("\x00"):
        if chunk == HIGHLIGHT_PRE and not open_em:
            out.append("<em>")
            open_em = True
        elif chunk == HIGHLIGHT_POST and open_em:
            out.append("</em>")
            open_em = False
        elif chunk not in (HIGHLIGHT_PRE, HIGHLIGHT_POST):
            out.append(html.escape(chunk, quote=True))
    if open_em:
        out.append("</em>")
    return "".join(out)


def shape_hit(source: dict, highlight: dict | None = None, snippet_chars: int = 160) -> dict:
    """One search hit for the API: plain fields (the browser renders them as text), a snippet,
    and highlight fragments as safe HTML."""
    hit = {k: source.get(k) for k in HIT_FIELDS}
    text = source.get("text") or ""
    hit["snippet"] = text[:snippet_chars] + ("…" if len(text) > snippet_chars else "")
    hl = highlight or {}
    hit["highlight"] = {field: [highlight_html(f) for f in hl.get(field, [])] for field in ("title", "text")}
    return hit


def safe_cell(value):
    """A spreadsheet cell that cannot run: text starting with = + - @ (or tab/CR) gets a leading
    apostrophe, so Excel, LibreOffice and openpyxl keep it as text. Numbers stay numbers."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if not isinstance(value, str):
        return value
    value = value.replace("\x00", "")[:EXCEL_CELL_MAX - 1]
    return "'" + value if value.startswith(FORMULA_START) else value


EXPORT_COLUMNS = (("发布时间", "published_at"), ("站点", "site"), ("类型", "kind"), ("标题", "title"),
                  ("正文", "text"), ("链接", "url"), ("作者", "author"), ("情感", "sentiment_label"),
                  ("情感分", "sentiment"), ("转载", "is_repost"), ("聚类", "cluster_id"), ("帖子ID", "post_id"))
SENTIMENT_ZH = {"negative": "负面", "neutral": "中性", "positive": "正面"}


def export_row(source: dict) -> list:
    """One exported post, every cell neutralised; times in Asia/Shanghai."""
    row = []
    for _, field in EXPORT_COLUMNS:
        value = source.get(field)
        if field == "published_at" and value:
            value = datetime.fromisoformat(value).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
        elif field == "sentiment_label":
            value = SENTIMENT_ZH.get(value, value)
        row.append(safe_cell("" if value is None else value))
    return row


def export_header() -> list[str]:
    return [title for title, _ in EXPORT_COLUMNS]
