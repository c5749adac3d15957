"""The demo web's HTTP server (aiohttp): forum, news portal, robots.txt and `/_scenario`, with
ETag / Last-Modified validators and 304 answers. Reads no settings: host, port and the
Scenario are passed in. `start_demo_web` runs it on its own loop in a daemon thread."""
from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from email.utils import format_datetime, parsedate_to_datetime
from typing import Callable

from aiohttp import web

from infra.demo_web import discuz, feeds, pages
from infra.demo_web.scenario import Scenario

ROBOTS = "User-agent: *\nDisallow: /_scenario\nDisallow: /admin/\n"
SCENARIO = web.AppKey("scenario", Scenario)
HITS = web.AppKey("hits", Counter)


def _http_date(dt) -> str:
    return format_datetime(dt.replace(microsecond=0), usegmt=True)


def _not_modified(request: web.Request, etag: str, last_modified) -> bool:
    inm = request.headers.get("If-None-Match")
    if inm is not None:            # RFC 9110: If-None-Match wins over If-Modified-Since
        return etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*"
    ims = request.headers.get("If-Modified-Since")
    if ims is None:
        return False
    try:
        return last_modified.replace(microsecond=0) <= parsedate_to_datetime(ims)
    except (TypeError, ValueError):
        return False


def _respond(request: web.Request, render: Callable[[Scenario, float], pages.Page]) -> web.Response:
    scenario = request.app[SCENARIO]
    now_s = scenario.now_s()
    try:
        page = render(scenario, now_s)
    except (KeyError, ValueError):
        request.app[HITS]["404"] += 1
        raise web.HTTPNotFound(text="404 页面不存在")
    etag = f'W/"{page.version}"'
    modified = scenario.at(max(page.last_at_s, -scenario.params.history_s))
    headers = {"ETag": etag, "Last-Modified": _http_date(modified), "Date": _http_date(scenario.at(now_s)),
               "Cache-Control": "no-cache"}
    if _not_modified(request, etag, modified):
        request.app[HITS]["304"] += 1
        return web.Response(status=304, headers=headers)
    request.app[HITS]["200"] += 1
    body = page.body.encode(page.charset, errors="xmlcharrefreplace")
    return web.Response(body=body, headers={**headers, "Content-Type": f"{page.content_type}; charset={page.header_charset or page.charset}"})


def _page_no(request: web.Request) -> int:
    return int(request.query.get("page", "1"))


async def _home(request):
    return _respond(request, lambda s, now: pages.home(s))


async def _board(request):
    slug = request.match_info["slug"]
    return _respond(request, lambda s, now: pages.board(s, slug, _page_no(request), now))


async def _thread(request):
    tid = request.match_info["tid"]
    return _respond(request, lambda s, now: pages.thread(s, s.thread(tid, now), _page_no(request), now))


async def _news_list(request):
    return _respond(request, lambda s, now: pages.news_list(s, _page_no(request), now))


async def _article(request):
    aid = request.match_info["aid"]
    return _respond(request, lambda s, now: pages.article(s, s.article(aid, now), now))


async def _feed(request):
    return _respond(request, lambda s, now: feeds.news_rss(s, now))


async def _statuses(request):
    q = request.query      # parsed inside the render call, so a bad number is a 404 like any bad page
    return _respond(request, lambda s, now: feeds.statuses_json(
        s, now, int(q.get("since_id") or 0), int(q["max_id"]) if q.get("max_id") else None, int(q.get("count", "20"))))


async def _status_page(request):
    sid = request.match_info["sid"]
    return _respond(request, lambda s, now: feeds.status_page(s, s.status(sid, now), now))


def _int(request: web.Request, name: str, default: str | None = None) -> int:
    value = request.query.get(name, default)
    if value is None or not value.isdigit():
        raise KeyError(name)
    return int(value)


async def _discuz(request):
    """forum.php?mod=forumdisplay&fid=N&page=P | mod=viewthread&tid=N&page=P (Discuz! X3 URLs)."""
    mod = request.query.get("mod")
    if mod == "forumdisplay":
        return _respond(request, lambda s, now: discuz.forumdisplay(s, request.query["fid"], _int(request, "page", "1"), now))
    return _respond(request, lambda s, now: discuz.viewthread(
        s, _discuz_thread(s, request.query["tid"], now), _int(request, "page", "1"), now))


def _discuz_thread(s: Scenario, tid: str, now: float):
    view = s.thread(tid, now)
    if view.thread.site != discuz.DISCUZ_SITE:
        raise KeyError(tid)
    return view


async def _discuz_api(request):
    """api/mobile/index.php?version=4&module=forumdisplay|viewthread; 404 when the site has no API."""
    scenario, module = request.app[SCENARIO], request.query.get("module")
    if not scenario.params.discuz_api:
        raise web.HTTPNotFound(text="404 Not Found")
    if module == "forumdisplay":
        return _respond(request, lambda s, now: discuz.api_forumdisplay(s, request.query["fid"], _int(request, "page", "1"), now))
    return _respond(request, lambda s, now: discuz.api_viewthread(
        s, _discuz_thread(s, request.query["tid"], now), _int(request, "page", "1"), now))


async def _robots(request):
    return web.Response(text=ROBOTS, content_type="text/plain")


async def _scenario(request):
    return web.json_response({**request.app[SCENARIO].status(), "requests": dict(request.app[HITS])},
                             dumps=lambda o: json.dumps(o, ensure_ascii=False))


def build_app(scenario: Scenario) -> web.Application:
    app = web.Application()
    app[SCENARIO] = scenario
    app[HITS] = Counter()
    app.router.add_get("/", _home)
    app.router.add_get("/forum/", _home)
    app.router.add_get("/forum/board/{slug}", _board)
    app.router.add_get("/forum/thread/{tid:\\d+}", _thread)
    app.router.add_get("/news/", _news_list)
    app.router.add_get("/news/list", _news_list)
    app.router.add_get("/news/article/{aid:\\d+}.html", _article)
    app.router.add_get("/feed/news.xml", _feed)
    app.router.add_get("/api/statuses/public_timeline.json", _statuses)
    app.router.add_get("/weibo/status/{sid:\\d+}", _status_page)
    app.router.add_get("/bbs/forum.php", _discuz)
    app.router.add_get("/bbs/api/mobile/index.php", _discuz_api)
    app.router.add_get("/robots.txt", _robots)
    app.router.add_get("/_scenario", _scenario)
    return app


async def serve(scenario: Scenario, host: str = "127.0.0.1", port: int = 0) -> tuple[str, web.AppRunner]:
    """Start on the running loop; returns the base URL and the runner (`await runner.cleanup()`)."""
    runner = web.AppRunner(build_app(scenario), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_host, bound_port = runner.addresses[0][:2]
    return f"http://{bound_host}:{bound_port}", runner


def start_demo_web(port: int = 0, scenario: Scenario | None = None,
                   host: str = "127.0.0.1") -> tuple[str, Callable[[], None]]:
    """Serve in a daemon thread; returns (base URL, stop). stop() is idempotent."""
    scenario = scenario or Scenario()
    loop = asyncio.new_event_loop()
    started: dict = {}
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            started["url"], started["runner"] = loop.run_until_complete(serve(scenario, host, port))
        except OSError as exc:
            started["error"] = exc
            ready.set()
            return
        ready.set()
        loop.run_forever()
        loop.run_until_complete(started["runner"].cleanup())
        loop.close()

    thread = threading.Thread(target=run, name="demo-web", daemon=True)
    thread.start()
    ready.wait(10)
    if "error" in started:
        loop.close()
        raise started["error"]

    def stop() -> None:
        if thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)

    return started["url"], stop

