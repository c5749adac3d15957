"""The demo's Discuz! forum (`demo-discuz`, 澄溪家园, GBK like many county boards): chatter
threads, one long thread, and how the site serves them, shaped like Discuz! X3's standard
templates (forumdisplay, viewthread) and its mobile API (`api/mobile/index.php?version=4`).
The markup is written here from the templates' structure (ids, classes, the 楼主 / N# floor
labels, relative times in `<span title>`), not copied from any site. Deterministic from the seed,
on a random stream of its own; rendering is pure (the server passes the scenario and time in).

Board 38 needs a login (the message page / the API's to_login message); fid 2's oldest thread
is sticky (置顶). `Params.discuz_api=False` serves the site without the mobile API (404).
"""
from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from infra.demo_web import vocabulary as V
from infra.demo_web.generator import DISCUZ_SITE, DemoPost, Params, _Draft, _fill, _replies, _times
from infra.demo_web.pages import Page, content_version

SHANGHAI = ZoneInfo("Asia/Shanghai")
BOARDS = {"2": "澄溪茶馆", "37": "房产家居"}
LOGIN_BOARD = "38"
CHARSET = "gbk"
TPP, PPP = 20, 10
FIRST_PID = 800_000          # the first post's pid is FIRST_PID + tid; replies' pids are in their native id


def threads(p: Params) -> list[_Draft]:
    rng = random.Random(p.seed * 104729 + 3)
    drafts = []
    for t in _times(rng, -p.history_s, p.end_s, 0.5 / 60.0):
        title, body = rng.choice(V.CHATTER)
        town = rng.choice(V.TOWNS)
        post = DemoPost(DISCUZ_SITE, "", "thread", t, "[家园] " + _fill(rng, title, town=town),
                        _fill(rng, body, town=town) + "（澄溪家园）", rng.choice(V.NICKS), board=rng.choice(list(BOARDS)))
        drafts.append(_Draft(post, _site(_replies(rng, t, p.end_s, V.CHATTER_REPLIES, rng.random() < 0.2))))
    # one long thread from the start of the history: several pages of floors
    t0 = -p.history_s + 1.0
    long = DemoPost(DISCUZ_SITE, "", "thread", t0, "[家园] 澄溪老照片接龙", "大家把家里的澄溪老照片发上来，一起回忆。", "本地通",
                    board="2")
    floors = [DemoPost(DISCUZ_SITE, "", "reply", t0 + 30.0 * i, "", f"第{i}张：{rng.choice(V.TOWNS)}的老街，{1970 + i}年。",
                       rng.choice(V.NICKS), floor=i, reply_to_floor=i - 3 if i > 5 and i % 7 == 0 else None)
              for i in range(2, 48)]
    drafts.append(_Draft(long, [f for f in floors if f.at_s < p.end_s]))
    return drafts


def _site(replies: list[DemoPost]) -> list[DemoPost]:
    return [replace(r, site=DISCUZ_SITE) for r in replies]


def _uid(name: str) -> int:
    return sum(map(ord, name)) % 9000 + 1000


def pid_of(post: DemoPost) -> int:
    return FIRST_PID + int(post.native_id) if post.kind == "thread" else int(post.native_id.rsplit("-", 1)[1])


# --- times as Discuz shows them

def _full(at: datetime) -> str:
    at = at.astimezone(SHANGHAI)
    return f"{at.year}-{at.month}-{at.day} {at:%H:%M}"


def dz_time(at: datetime, now: datetime) -> str:
    """Discuz's dateline: 半小时前, 昨天 08:12 ... in a span titled with the full time; older: plain."""
    at, now = at.astimezone(SHANGHAI), now.astimezone(SHANGHAI)
    secs = (now - at).total_seconds()
    days = (now.date() - at.date()).days
    if secs < 60:
        rel = "刚才"
    elif secs < 1800:
        rel = f"{int(secs // 60)} 分钟前"
    elif secs < 3600:
        rel = "半小时前"
    elif days == 0:
        rel = f"{int(secs // 3600)} 小时前"
    elif days == 1:
        rel = f"昨天&nbsp;{at:%H:%M}"
    elif days == 2:
        rel = f"前天&nbsp;{at:%H:%M}"
    elif days < 7:
        rel = f"{days}&nbsp;天前"
    else:
        return _full(at)
    return f'<span title="{_full(at)}">{rel}</span>'


# --- views

def board_views(s, fid: str, now_s: float) -> list:
    views = [s.thread(p.native_id, now_s) for p in s.visible(now_s)
             if p.site == DISCUZ_SITE and p.kind == "thread" and p.board == fid]
    if not views:
        return []
    sticky = min(views, key=lambda v: v.thread.at_s) if fid == "2" else None
    rest = sorted((v for v in views if v is not sticky), key=lambda v: (v.last_at_s, v.thread.native_id), reverse=True)
    return ([sticky] if sticky else []) + rest


def _slice(items: list, page: int, size: int) -> tuple[list, int]:
    pages = max(1, -(-len(items) // size))
    if not 1 <= page <= pages:
        raise KeyError(page)
    return items[(page - 1) * size: page * size], pages


def _doc(title: str, body: str) -> str:
    return (f'<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
            f'<html xmlns="http://www.w3.org/1999/xhtml"><head><meta http-equiv="Content-Type" content="text/html; charset={CHARSET}" />'
            f"<title>{escape(title)} -  澄溪家园 -  Powered by Discuz!</title></head>\n<body id=\"nv_forum\">\n"
            f'<div id="wp" class="wp">{body}</div>\n</body></html>\n')


def _pager(base: str, page: int, pages: int) -> str:
    if pages <= 1:
        return ""
    links = "".join(f'<strong>{n}</strong>' if n == page else f'<a href="{base}&amp;page={n}">{n}</a>'
                    for n in range(1, pages + 1))
    nxt = f'<a href="{base}&amp;page={page + 1}" class="nxt">下一页</a>' if page < pages else ""
    return (f'<div class="pg">{links}<label><input type="text" name="custompage" class="px" size="2" value="{page}" />'
            f'<span title="共 {pages} 页"> / {pages} 页</span></label>{nxt}</div>')


def login_page() -> Page:
    body = ('<div id="ct" class="wp cl w"><div class="nfl" id="main_succeed" style="display: none"></div>'
            '<div class="nfl" id="main_message"><div class="f_c altw"><div id="messagetext" class="alert_info">'
            '<p>抱歉，您尚未登录，没有权限访问该版块</p></div><div id="messagelogin"></div></div></div></div>')
    return Page(_doc("提示信息", body), CHARSET, content_version("dz-login"), -1e9)


def forumdisplay(s, fid: str, page: int, now_s: float) -> Page:
    if fid == LOGIN_BOARD:
        return login_page()
    name = BOARDS[fid]
    every = board_views(s, fid, now_s)
    views, pages = _slice(every, page, TPP)
    now = s.at(now_s)
    rows = []
    for i, v in enumerate(views):
        t = v.thread
        kind = "stickthread" if fid == "2" and page == 1 and i == 0 else "normalthread"
        last = v.replies[-1] if v.replies else t
        rows.append(
            f'<tbody id="{kind}_{t.native_id}"><tr><td class="icn"><a href="forum.php?mod=viewthread&amp;tid={t.native_id}" '
            f'title="新窗口打开" target="_blank"><img src="static/image/common/folder_common.gif" /></a></td>'
            f'<th class="common"><a href="forum.php?mod=viewthread&amp;tid={t.native_id}&amp;extra=page%3D{page}" '
            f'onclick="atarget(this)" class="s xst">{escape(t.title)}</a></th>'
            f'<td class="by"><cite><a href="home.php?mod=space&amp;uid={_uid(t.author)}" c="1">{escape(t.author)}</a></cite>'
            f'<em><span>{dz_time(s.at(t.at_s), now)}</span></em></td>'
            f'<td class="num"><a href="forum.php?mod=viewthread&amp;tid={t.native_id}" class="xi2">{len(v.replies)}</a><em>{len(v.replies) * 7 + 13}</em></td>'
            f'<td class="by"><cite><a href="home.php?mod=space&amp;username=x" c="1">{escape(last.author)}</a></cite>'
            f'<em><a href="forum.php?mod=redirect&amp;tid={t.native_id}&amp;goto=lastpost#lastpost">{dz_time(s.at(last.at_s), now)}</a></em></td>'
            f"</tr></tbody>")
    body = (f'<div id="pt" class="bm cl"><div class="z"><a href="./" class="nvhm">澄溪家园</a> <em>&rsaquo;</em> '
            f'<a href="forum.php?mod=forumdisplay&amp;fid={fid}">{escape(name)}</a></div></div>'
            f'<div id="threadlist" class="tl bm bmw"><div class="bm_c"><form method="post" name="moderate" id="moderate">'
            f'<table summary="forum_{fid}" cellspacing="0" cellpadding="0" id="threadlisttableid">'
            f'<tbody id="separatorline" class="emptb"><tr><td class="icn"></td><th></th><td class="by"></td><td class="num"></td><td class="by"></td></tr></tbody>'
            + "".join(rows) + "</table></form></div></div>"
            + _pager(f"forum.php?mod=forumdisplay&amp;fid={fid}", page, pages))
    version = content_version("dz", fid, page, pages, [(v.thread.native_id, len(v.replies)) for v in views])
    return Page(_doc(name, body), CHARSET, version, max((v.last_at_s for v in every), default=-1e9))


def _message(post: DemoPost, by_floor: dict, s, now: datetime) -> str:
    quote = ""
    if post.reply_to_floor and post.reply_to_floor in by_floor:
        q = by_floor[post.reply_to_floor]
        quote = (f'<div class="quote"><blockquote><font size="2"><a href="forum.php?mod=redirect&amp;goto=findpost&amp;'
                 f'pid={pid_of(q)}&amp;ptid={post.thread_id}" target="_blank"><font color="#999999">{escape(q.author)} 发表于 '
                 f'{_full(s.at(q.at_s))}</font></a></font><br />{escape(q.text[:40])}</blockquote></div><br />')
    return quote + escape(post.text)


def _floor_html(post: DemoPost, message: str, s, now: datetime) -> str:
    pid = pid_of(post)
    label = "楼主" if post.kind == "thread" else f"<em>{post.floor}</em><sup>#</sup>"
    return (f'<div id="post_{pid}"><table id="pid{pid}" class="plhin" summary="pid{pid}" cellspacing="0" cellpadding="0"><tr>'
            f'<td class="pls" rowspan="2"><div id="favatar{pid}" class="pls favatar"><div class="pi"><div class="authi">'
            f'<a href="home.php?mod=space&amp;uid={_uid(post.author)}" target="_blank" class="xw1">{escape(post.author)}</a>'
            f'</div></div></div></td><td class="plc"><div class="pi"><strong><a href="forum.php?mod=redirect&amp;goto=findpost&amp;'
            f'ptid={post.thread_id or post.native_id}&amp;pid={pid}" id="postnum{pid}">{label}</a></strong>'
            f'<div class="pti"><div class="authi"><img class="authicn vm" src="static/image/common/online_member.gif" />'
            f'<em id="authorposton{pid}">发表于 {dz_time(s.at(post.at_s), now)}</em><span class="pipe">|</span>'
            f'<a href="forum.php?mod=viewthread&amp;tid={post.thread_id or post.native_id}&amp;page=1&amp;authorid=1" rel="nofollow">只看该作者</a>'
            f'</div></div></div><div class="pct"><div class="pcb"><div class="t_fsz"><table cellspacing="0" cellpadding="0"><tr>'
            f'<td class="t_f" id="postmessage_{pid}">{message}</td></tr></table></div></div></div></td></tr></table></div>')


def viewthread(s, view, page: int, now_s: float) -> Page:
    floors, pages = _slice([view.thread, *view.replies], page, PPP)
    by_floor = {p.floor: p for p in [view.thread, *view.replies]}
    now = s.at(now_s)
    t = view.thread
    body = (f'<div id="pt" class="bm cl"><div class="z"><a href="forum.php?mod=forumdisplay&amp;fid={t.board}">'
            f'{escape(BOARDS[t.board])}</a></div></div>'
            f'<div id="postlist" class="pl bm"><table cellspacing="0" cellpadding="0"><tr><td class="pls ptn pbn">'
            f'<div class="hm ptn"><span class="xg1">查看:</span> <span class="xi1">{len(view.replies) * 7 + 13}</span>'
            f'<span class="pipe">|</span><span class="xg1">回复:</span> <span class="xi1">{len(view.replies)}</span></div></td>'
            f'<td class="plc ptm pbn vwthd"><h1 class="ts"><span id="thread_subject">{escape(t.title)}</span></h1></td></tr></table>'
            + "".join(_floor_html(p, _message(p, by_floor, s, now), s, now) for p in floors)
            + "</div>" + _pager(f"forum.php?mod=viewthread&amp;tid={t.native_id}", page, pages))
    version = content_version("dz", t.native_id, page, pages, [p.native_id for p in floors])
    return Page(_doc(t.title, body), CHARSET, version, view.last_at_s)


# --- the mobile API (version 4)

def _json(variables: dict, version: str) -> Page:
    doc = {"Version": "4", "Charset": "GBK", "Variables": {"cookiepre": "dz_", "auth": None, "member_uid": "0",
                                                            "groupid": "7", "readaccess": "1", **variables}}
    return Page(json.dumps(doc, ensure_ascii=False), "utf-8", version, -1e9, content_type="application/json")


def api_login() -> Page:
    doc = {"Version": "4", "Charset": "GBK", "Variables": {"member_uid": "0"},
           "Message": {"messageval": "to_login//1", "messagestr": "您需要先登录才能继续本操作"}}
    return Page(json.dumps(doc, ensure_ascii=False), "utf-8", content_version("dz-api-login"), -1e9,
                content_type="application/json")


def api_forumdisplay(s, fid: str, page: int, now_s: float) -> Page:
    if fid == LOGIN_BOARD:
        return api_login()
    every = board_views(s, fid, now_s)
    views, _ = _slice(every, page, TPP)
    rows = []
    for i, v in enumerate(views):
        t, last = v.thread, (v.replies[-1] if v.replies else v.thread)
        rows.append({"tid": t.native_id, "author": t.author, "subject": t.title, "dbdateline": str(int(s.at(t.at_s).timestamp())),
                     "dblastpost": str(int(s.at(last.at_s).timestamp())), "lastposter": last.author,
                     "replies": str(len(v.replies)), "views": str(len(v.replies) * 7 + 13),
                     "displayorder": "1" if fid == "2" and page == 1 and i == 0 else "0"})
    variables = {"forum": {"fid": fid, "name": BOARDS[fid], "threads": str(len(every))}, "forum_threadlist": rows,
                 "tpp": str(TPP), "page": page}
    page_obj = _json(variables, content_version("dz-api", fid, page, [(r["tid"], r["replies"]) for r in rows]))
    return Page(page_obj.body, page_obj.charset, page_obj.version, max((v.last_at_s for v in every), default=-1e9),
                content_type="application/json")


def api_viewthread(s, view, page: int, now_s: float) -> Page:
    floors, _ = _slice([view.thread, *view.replies], page, PPP)
    by_floor = {p.floor: p for p in [view.thread, *view.replies]}
    now = s.at(now_s)
    posts = [{"pid": str(pid_of(p)), "tid": view.thread.native_id, "first": "1" if p.kind == "thread" else "0",
              "author": p.author, "dbdateline": str(int(s.at(p.at_s).timestamp())), "dateline": dz_time(s.at(p.at_s), now),
              "message": _message(p, by_floor, s, now), "number": str(p.floor), "attachments": []} for p in floors]
    t = view.thread
    variables = {"thread": {"tid": t.native_id, "subject": t.title, "author": t.author, "replies": str(len(view.replies))},
                 "fid": t.board, "postlist": posts, "ppp": str(PPP)}
    page_obj = _json(variables, content_version("dz-api", t.native_id, page, [p["pid"] for p in posts]))
    return Page(page_obj.body, page_obj.charset, page_obj.version, view.last_at_s, content_type="application/json")


