"""Reading Discuz! (X2.5-X3.5) pages: the standard X3 HTML templates (forumdisplay, viewthread)
and the mobile JSON API (`api/mobile/index.php?version=4&module=forumdisplay|viewthread`). Pure:
a parsel Selector or the decoded JSON in, plain rows out; times stay raw strings (or unix
seconds from the API) for the spider to read against the server's clock.

Shapes, from the templates' structure:
- board: `tbody[id^=normalthread_]` / `tbody[id^=stickthread_]` rows, the title `a.xst`, the
  reply count `td.num a`, the last post time `td.by em span[title]` (or its text), the pager
  `div.pg a.nxt`; API: Variables.forum_threadlist[] {tid, subject, replies, displayorder, dblastpost}.
- thread: `table[id^=pid]` per floor, the floor number `a[id^=postnum] em` (楼主 on the first),
  the author `.authi a[href*=uid]`, the time `em[id^=authorposton]` (its span's title when the
  site shows 半小时前), the text `td.t_f` with quotes (`div.quote`, `blockquote`) left out and
  the quoted post's pid kept; API: Variables.postlist[] {pid, first, author, dbdateline, message, number}.
- a message page instead (`#messagetext`, or the API's Message) that asks to log in, or says
  the visitor has no permission: `login_required`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from parsel import Selector

from crawlers.parsing.numbers import parse_count
from crawlers.parsing.text import block_text, clean_line, clean_text, selected_text

_LOGIN_WORDS = ("登录", "登陆", "没有权限", "无权", "nopermission", "to_login", "login")
_PID = re.compile(r"[?&]pid=(\d+)")


@dataclass(frozen=True)
class ThreadRow:
    tid: str
    title: str
    replies: int | None
    sticky: bool
    last_post: str = ""            # raw time, or unix seconds as a string (API)


@dataclass(frozen=True)
class BoardPage:
    rows: list[ThreadRow] = field(default_factory=list)
    next_href: str = ""
    login_required: bool = False


@dataclass(frozen=True)
class Floor:
    pid: str
    number: int | None
    first: bool
    author: str
    time: str                      # raw time, or unix seconds as a string (API)
    text: str
    quoted_pid: str = ""


@dataclass(frozen=True)
class ThreadPage:
    title: str = ""
    floors: list[Floor] = field(default_factory=list)
    pages: int = 1
    replies: int | None = None
    per_page: int | None = None
    login_required: bool = False


def _asks_login(text: str) -> bool:
    return any(w in text for w in _LOGIN_WORDS)


def _message_page(sel: Selector) -> bool:
    """A Discuz message page (showmessage) that asks to log in or refuses permission."""
    box = sel.css("#messagetext, div.alert_error, div.alert_info, #messagelogin")
    return bool(box) and _asks_login(" ".join(box.css("::text").getall()) + " ".join(sel.css("#messagelogin").getall()[:1]))


def board_html(sel: Selector) -> BoardPage:
    if _message_page(sel) and not sel.css("#threadlisttableid"):
        return BoardPage(login_required=True)
    rows = []
    for body in sel.css('tbody[id^="normalthread_"], tbody[id^="stickthread_"]'):
        body_id = body.attrib.get("id", "")
        tid = body_id.rsplit("_", 1)[-1]
        if not tid.isdigit():
            continue
        by = body.css("td.by")
        last = by[-1] if by else body
        last_time = last.css("em span::attr(title)").get() or clean_line(last.css("em ::text").getall())
        rows.append(ThreadRow(tid=tid, title=selected_text(body, "a.xst", line=True),
                              replies=parse_count(clean_line(body.css("td.num a ::text").getall())),
                              sticky=body_id.startswith("stickthread_"), last_post=last_time))
    return BoardPage(rows=rows, next_href=sel.css("div.pg a.nxt::attr(href)").get() or "")


def _message_text(node: Selector) -> tuple[str, str]:
    """A post's text without its quote blocks, and the pid a quote points to."""
    quoted = ""
    for q in node.css("div.quote, blockquote"):
        m = _PID.search(" ".join(q.css("a::attr(href)").getall()))
        quoted = quoted or (m.group(1) if m else "")
    html = node.get() or ""
    for q in node.css("div.quote").getall() + node.css("blockquote").getall() + node.css("script, style").getall():
        html = html.replace(q, " ", 1)
    text = block_text(Selector(text=html), skip=_status_or_attachment)
    return clean_text(text), quoted


def _status_or_attachment(el) -> bool:
    """Discuz's "本帖最后由 … 编辑" line and attachment boxes: not the post's words."""
    classes = el.get("class") or ""
    return "pstatus" in classes or "attach" in classes


def thread_html(sel: Selector) -> ThreadPage:
    if _message_page(sel) and not sel.css('table[id^="pid"]'):
        return ThreadPage(login_required=True)
    floors = []
    for table in sel.css('table[id^="pid"]'):
        pid = table.attrib.get("id", "")[3:]
        if not pid.isdigit():
            continue
        numbers = table.css(f"#postnum{pid} ::text").getall()
        label = clean_line(numbers)
        first = "楼主" in label
        number = 1 if first else parse_count(clean_line(table.css(f"#postnum{pid} em ::text").getall()) or label)
        author = clean_line(table.css(".authi a[href*='uid=']::text").get() or "")
        poston = table.css(f"#authorposton{pid}")
        time_raw = poston.css("span::attr(title)").get() or clean_line(poston.css("::text").getall())
        body = table.css(f"#postmessage_{pid}") or table.css("td.t_f")
        text, quoted = _message_text(body[0]) if body else ("", "")
        floors.append(Floor(pid=pid, number=number, first=first or number == 1, author=author, time=time_raw,
                            text=text, quoted_pid=quoted))
    numbers = [parse_count(t) for t in sel.css("div.pg a::text, div.pg strong::text").getall()]
    total = re.search(r"(\d+)\s*页", " ".join(sel.css("div.pg label span::attr(title), div.pg label span::text").getall()))
    pages = max([n for n in numbers if n] + [int(total.group(1)) if total else 1])
    return ThreadPage(title=selected_text(sel, "#thread_subject", line=True), floors=floors, pages=pages)


# --- the mobile API

def api_variables(data) -> tuple[dict | None, bool]:
    """(Variables, login_required) of an API answer; (None, False) when it is not the API."""
    if not isinstance(data, dict):
        return None, False
    message = data.get("Message")
    if isinstance(message, dict) and _asks_login(f"{message.get('messageval', '')} {message.get('messagestr', '')}"):
        return None, True
    variables = data.get("Variables")
    return (variables, False) if isinstance(variables, dict) else (None, False)


def board_api(variables: dict) -> BoardPage:
    rows = []
    for t in variables.get("forum_threadlist") or []:
        if not isinstance(t, dict) or not str(t.get("tid", "")).isdigit():
            continue
        rows.append(ThreadRow(tid=str(t["tid"]), title=clean_line(str(t.get("subject", ""))),
                              replies=parse_count(str(t.get("replies", ""))),
                              sticky=str(t.get("displayorder", "0")) not in ("0", ""),
                              last_post=str(t.get("dblastpost") or t.get("lastpost") or "")))
    forum = variables.get("forum") if isinstance(variables.get("forum"), dict) else {}
    per_page, page = parse_count(str(variables.get("tpp", ""))), parse_count(str(variables.get("page", "")))
    threads = parse_count(str(forum.get("threads", "")))
    more = bool(rows and per_page and page and threads and page * per_page < threads)
    return BoardPage(rows=rows, next_href="next" if more else "")


def thread_api(variables: dict) -> ThreadPage:
    thread = variables.get("thread") if isinstance(variables.get("thread"), dict) else {}
    floors = []
    for p in variables.get("postlist") or []:
        if not isinstance(p, dict) or not str(p.get("pid", "")).isdigit():
            continue
        text, quoted = _message_text(Selector(text=f"<div>{p.get('message') or ''}</div>").css("div")[0])
        first = str(p.get("first", "0")) == "1"
        floors.append(Floor(pid=str(p["pid"]), number=1 if first else parse_count(str(p.get("number") or p.get("position") or "")),
                            first=first, author=clean_line(str(p.get("author", ""))),
                            time=str(p.get("dbdateline") or p.get("dateline") or ""), text=text, quoted_pid=quoted))
    replies = parse_count(str(thread.get("replies", "")))
    per_page = parse_count(str(variables.get("ppp", ""))) or None
    pages = -(-((replies or 0) + 1) // per_page) if per_page else 1
    return ThreadPage(title=clean_line(str(thread.get("subject", ""))), floors=floors, pages=max(pages, 1),
                      replies=replies, per_page=per_page)

