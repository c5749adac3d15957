"""Discuz! boards (`kind: discuz`: a base URL and board ids). Each board is asked through the
mobile JSON API first; a site without it (HTML, an error, not JSON) is read through the standard
X3 HTML templates instead, and the choice is remembered in the crawl state (detect, don't ask).

Incremental like the forum spider: a thread is fetched only when its reply count changed, and
then only its pages from the first new floor on; board pagination stops at the first page with
no change, at `max_list_pages`, or when a page shows only threads already seen this crawl (a
looping pager). Work on a long thread is bounded: page 1 (title, 楼主) and at most
`max_thread_pages - 1` of its newest pages; pages left out are counted (`pages_capped`).
Sticky threads (置顶) are crawled, tagged `sticky`, and do not keep board pagination going.
A board that needs a login is counted (`login_required`) for the watchdog, not read as empty.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from urllib.parse import urlencode

from parsel import Selector
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from crawlers import stats as S
from crawlers.items import post_id_for
from crawlers.parsing import discuz as D
from crawlers.guard import BlockedAddress
from crawlers.middlewares import VerificationWall
from crawlers.spiders.base import IncrementalSpider

_HTML_PER_PAGE = 10            # Discuz's default posts per page, until page 1 shows the site's own


class DiscuzSpider(IncrementalSpider):
    name = "discuz"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._tids_seen: set[str] = set()          # this crawl's board rows: a looping pager repeats them
        self._titles: dict[str, str] = {}          # tid -> title, for replies on later pages
        self._first_pids: dict[str, str] = {}      # tid -> pid of 楼主, so a quote of it means the thread

    # --- URLs
    def _url(self, api: bool, module: str, **query) -> str:
        base = self.source.base_url.rstrip("/")
        if api:
            return f"{base}/api/mobile/index.php?" + urlencode({"version": 4, "module": module, **query})
        return f"{base}/forum.php?" + urlencode({"mod": module, **query})

    @staticmethod
    def _meta(api: bool, **meta) -> dict:
        # a site without the mobile API may answer its URL with 404: that answer is the detection
        return {**meta, "api": api, **({"handle_httpstatus_list": [304, 404, 410]} if api else {})}

    def _api(self) -> bool:
        return self.state.mark("discuz:mode") != "html"

    async def start(self):
        for fid in self.source.boards:
            yield self._board_request(fid, 1, self._api())

    def _board_request(self, fid: int, page: int, api: bool):
        url = self._url(api, "forumdisplay", fid=fid, page=page)
        request = self.request(url, self.parse_board, meta=self._meta(api, fid=fid, list_page=page))
        return request.replace(errback=self.on_api_error) if api else request

    def on_api_error(self, failure):
        """Standard Discuz! robots.txt files disallow /api/: then the HTML templates, not an error."""
        meta = failure.request.meta
        if failure.check(IgnoreRequest) and not failure.check(BlockedAddress, VerificationWall) and "fid" in meta:
            self.state.stage_mark("discuz:mode", "html")
            yield self._board_request(meta["fid"], meta["list_page"], False)
            return
        self.on_error(failure)

    # --- boards
    def _read(self, response: Response, api: bool, html_reader, api_reader):
        """(page, None); (None, "html") when the site has no mobile API; (None, "login")."""
        if not api:
            return html_reader(Selector(text=response.text)), None
        try:
            data = json.loads(response.text) if response.status < 400 else None
        except (ValueError, RecursionError):       # not JSON, or hostile nesting: not the API
            data = None
        variables, login = D.api_variables(data)
        if login:
            return None, "login"
        if variables is None:                     # no mobile API on this site: the HTML templates
            self.state.stage_mark("discuz:mode", "html")
            return None, "html"
        self.state.stage_mark("discuz:mode", "api")
        return api_reader(variables), None

    def parse_board(self, response: Response):
        if not self.fetched(response):
            return
        fid, page, api = response.meta["fid"], response.meta["list_page"], response.meta["api"]
        board, retry = self._read(response, api, D.board_html, D.board_api)
        if retry == "html":
            yield self._board_request(fid, page, False)
            return
        if retry == "login" or board.login_required:
            self.crawler.stats.inc_value(S.LOGIN_REQUIRED)
            self.logger.warning("版块需要登录 / board needs a login: source=%s fid=%s", self.source.name, fid)
            return
        seen_this_crawl = self._tids_seen
        changed = fresh = 0
        for row in board.rows:
            if row.sticky and page > 1:
                continue
            fresh += row.tid not in seen_this_crawl
            seen_this_crawl.add(row.tid)
            replies = str(row.replies if row.replies is not None else "")
            before = self.state.mark(f"thread:{row.tid}")
            if before == replies:
                continue
            if not row.sticky:
                changed += 1
            old = int(before) if before and before.isdigit() else None
            yield self._thread_request(row.tid, 1, api, {"replies": replies, "old_replies": old, "sticky": row.sticky})
        if board.next_href and changed and fresh and page < self.source.limits.max_list_pages:
            yield self._board_request(fid, page + 1, api)

    # --- threads
    def _thread_request(self, tid: str, page: int, api: bool, meta: dict):
        url = self._url(api, "viewthread", tid=tid, page=page)
        # page 1 unconditionally: it may be unchanged while a later page grew
        return self.request(url, self.parse_thread, meta=self._meta(api, tid=tid, thread_page=page, **meta),
                            conditional=page != 1)

    def parse_thread(self, response: Response):
        if not self.fetched(response):
            return
        tid, page, api = response.meta["tid"], response.meta["thread_page"], response.meta["api"]
        thread, retry = self._read(response, api, D.thread_html, D.thread_api)
        if retry == "html":
            yield self._thread_request(tid, page, False, {k: response.meta[k] for k in ("replies", "old_replies", "sticky")
                                                          if k in response.meta})
            return
        if retry == "login" or thread.login_required:
            self.crawler.stats.inc_value(S.LOGIN_REQUIRED)
            return
        titles = self._titles
        if thread.title:
            titles[tid] = thread.title
        yield from self._floors(response, tid, thread, titles.get(tid, ""), bool(response.meta.get("sticky")))
        if page == 1:
            yield from self._later_pages(tid, thread, api, response.meta)
            if "replies" in response.meta:
                self.state.stage_mark(f"thread:{tid}", response.meta["replies"])

    def _later_pages(self, tid: str, thread: D.ThreadPage, api: bool, meta: dict):
        per_page = thread.per_page or (len(thread.floors) if thread.pages > 1 and thread.floors else _HTML_PER_PAGE)
        old = meta.get("old_replies")
        first_new = 2 if old is None else max(2, -(-(old + 2) // per_page))
        wanted = list(range(first_new, thread.pages + 1))
        keep = self.source.limits.max_thread_pages - 1
        if len(wanted) > keep:
            self.crawler.stats.inc_value(S.PAGES_CAPPED, len(wanted) - keep)
            wanted = wanted[len(wanted) - keep:] if keep else []
        for n in wanted:
            yield self._thread_request(tid, n, api, {"sticky": meta.get("sticky", False)})

    def _floors(self, response: Response, tid: str, thread: D.ThreadPage, title: str, sticky: bool):
        """A reply's native id is its thread's and its own post id (pid), which, unlike the floor
        number, stays when an earlier floor is deleted; a quote names the quoted pid."""
        site, now = self.source.site, self.server_now(response)
        thread_post_id = post_id_for(site, tid)
        first_pids = self._first_pids
        tags = {"sticky": "1"} if sticky else {}
        for floor in thread.floors:
            for value in (floor.author, floor.text):
                self.crawler.stats.inc_value(S.FIELDS_READ)
                if not value:
                    self.crawler.stats.inc_value(S.FIELDS_EMPTY)
            common = dict(author=floor.author, text=floor.text, published_at=self._time(floor.time, now))
            if floor.first:
                first_pids[tid] = floor.pid
                yield self.post(response.url, tid, "forum", title=title, tags=tags, **common)
                continue
            quoted = floor.quoted_pid
            reply_to = post_id_for(site, f"{tid}-{quoted}") if quoted and quoted != first_pids.get(tid) else thread_post_id
            floor_tag = {"floor": str(floor.number)} if floor.number else {}
            yield self.post(f"{response.url}#pid{floor.pid}", f"{tid}-{floor.pid}", "reply", title="",
                            reply_to=reply_to, tags={**tags, **floor_tag, "thread": thread_post_id,
                                                     "thread_title": title[:200]}, **common)

    def _time(self, raw: str, now: datetime) -> datetime:
        if raw.isdigit() and len(raw) >= 9:       # the API's unix seconds
            return datetime.fromtimestamp(int(raw), tz=timezone.utc)
        return self.read_time(raw, now)
