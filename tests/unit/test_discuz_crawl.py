"""The discuz spider on loopback: the demo web's Discuz! forum through the mobile API and through
the HTML templates (detected), incremental re-crawls, a login-only board; and, on an in-test
server, a 5,000-floor thread, a looping pager and a verification wall (bounded work, back-off,
watchdog findings). Fake producer: no Kafka."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from aiohttp import web

from crawlers.runner import crawl_once, select_sources
from crawlers.state import CrawlState
from crawlers.watchdog import Watchdog
from infra.demo_web import Scenario, start_demo_web
from streams.records import RawPost
from tests.unit.crawl_fakes import FakeProducer, serve_routes
from tests.unit.test_crawl_demo import expected_reply_to

START = datetime(2026, 5, 17, 0, 0, tzinfo=timezone.utc)


class Clock:
    t = 0.0

    def __call__(self) -> float:
        return self.t


def sent(factory) -> dict[str, RawPost]:
    return {RawPost.from_bytes(v).post_id: RawPost.from_bytes(v) for _t, _k, v in factory.sent}


@pytest.fixture(params=[True, False], ids=["mobile-api", "html-templates"])
def dz(request):
    clock = Clock()
    scenario = Scenario(seed=5, start=START, clock=clock, history_s=1800.0, discuz_api=request.param)
    url, stop = start_demo_web(port=0, scenario=scenario)
    yield scenario, clock, select_sources(["demo-discuz"], base_url=url)
    stop()


def discuz_truth(scenario) -> set[str]:
    return {k for k in scenario.ground_truth().keys if k.startswith("demo-discuz:")}


async def test_finds_the_boards_posts_either_way_and_recrawls_incrementally(dz, tmp_path):
    scenario, clock, sources = dz
    first = FakeProducer.factory()
    summary = await crawl_once(sources, tmp_path, producer_factory=first, reactorless=True)
    got = sent(first)
    assert set(got) == discuz_truth(scenario) and summary["errors"] == summary["fields_empty"] == 0
    for key, post in got.items():
        original = scenario.by_key[key]
        assert post.text == original.text and post.author == original.author, key
        assert abs((post.published_at - scenario.at(original.at_s)).total_seconds()) <= 60, key
        if original.kind == "reply":
            assert post.reply_to == expected_reply_to(scenario, original), key
            assert post.tags["floor"] == str(original.floor)
    sticky = [p for p in got.values() if p.tags.get("sticky") and p.kind == "forum"]
    assert [p.title for p in sticky] == ["[家园] 澄溪老照片接龙"]
    assert CrawlState.for_source(tmp_path, "demo-discuz").mark("discuz:mode") == (
        "api" if scenario.params.discuz_api else "html")

    again = FakeProducer.factory()
    summary = await crawl_once(sources, tmp_path, producer_factory=again, reactorless=True)
    assert again.sent == [] and summary["pages_fetched"] == 0 and summary["pages_not_modified"] == 2

    before = discuz_truth(scenario)
    clock.t = 900.0
    later = FakeProducer.factory()
    summary = await crawl_once(sources, tmp_path, producer_factory=later, reactorless=True)
    assert set(sent(later)) == discuz_truth(scenario) - before and summary["errors"] == 0
    # only changed threads, and of each only page 1 and the pages from its first new floor on
    changed_pages = summary["pages_fetched"] - summary["pages_not_modified"]
    assert changed_pages < 3 * len({scenario.by_key[k].thread_id or k.split(":")[1] for k in discuz_truth(scenario) - before})


async def test_a_login_only_board_is_reported_by_the_watchdog(dz, tmp_path):
    _scenario, _clock, sources = dz
    locked = [sources[0].model_copy(update={"boards": [38]})]
    summary = await crawl_once(locked, tmp_path, producer_factory=FakeProducer.factory(), reactorless=True)
    assert summary["login_required"] == 1 and summary["posts_new"] == 0 and summary["errors"] == 0
    (finding,) = Watchdog().observe("demo-discuz", summary["sources"]["demo-discuz"], START)
    assert finding.rule == "source_login_required" and finding.status == "firing"


# --- an in-test Discuz! site without the mobile API: a 5,000-floor thread, a looping pager, a wall

FLOORS, PPP = 5000, 10


def _board_page(fid: str) -> str:
    rows = [f'<tbody id="normalthread_{tid}"><tr><th><a href="forum.php?mod=viewthread&amp;tid={tid}" class="s xst">帖子{tid}</a></th>'
            f'<td class="by"><em><span title="2025-3-1 08:00">半小时前</span></em></td>'
            f'<td class="num"><a class="xi2">{FLOORS - 1 if tid == 1 else 0}</a></td>'
            f'<td class="by"><em><span title="2025-3-1 08:10">2 分钟前</span></em></td></tr></tbody>' for tid in (1, 2)]
    # a broken pager: "next" always points to another page number, but every page lists the same threads
    return (f'<html><body><table id="threadlisttableid">{"".join(rows)}</table>'
            f'<div class="pg"><a href="forum.php?mod=forumdisplay&amp;fid={fid}&amp;page=2" class="nxt">下一页</a></div></body></html>')


def _thread_page(tid: int, page: int) -> str:
    pages = -(-FLOORS // PPP) if tid == 1 else 1
    floors = []
    for n in range((page - 1) * PPP + 1, min(page * PPP, FLOORS if tid == 1 else 1) + 1):
        label = "楼主" if n == 1 else f"<em>{n}</em><sup>#</sup>"
        floors.append(f'<table id="pid{tid * 100000 + n}"><tr><td><div class="authi"><a href="home.php?mod=space&amp;uid={n}">用户{n}</a></div>'
                      f'<a id="postnum{tid * 100000 + n}">{label}</a><em id="authorposton{tid * 100000 + n}">发表于 2025-3-1 08:00</em>'
                      f'<td class="t_f" id="postmessage_{tid * 100000 + n}">第{n}楼的内容</td></tr></table>')
    pager = f'<div class="pg"><label><span title="共 {pages} 页"> / {pages} 页</span></label></div>'
    return f'<html><body><span id="thread_subject">帖子{tid}</span>{"".join(floors)}{pager}</body></html>'


async def crawl_site(tmp_path, routes: dict, boards: list[int], **serve):
    """One crawl of demo-discuz pointed at an in-test site; returns (summary, factory, source)."""
    url, runner = await serve_routes(routes, **serve)
    try:
        source = select_sources(["demo-discuz"], base_url=url)[0].model_copy(update={"boards": boards})
        factory = FakeProducer.factory()
        summary = await crawl_once([source], tmp_path, producer_factory=factory, reactorless=True)
    finally:
        await runner.cleanup()
    return summary, factory, source


async def test_huge_thread_and_looping_pager_are_bounded(tmp_path):
    hits: list[str] = []

    async def forum(request):
        hits.append(request.query_string)
        q = request.query
        body = _board_page(q["fid"]) if q["mod"] == "forumdisplay" else _thread_page(int(q["tid"]), int(q.get("page", "1")))
        return web.Response(text=body, content_type="text/html", charset="utf-8")

    # no /bbs/api/...: 404, so the HTML templates
    summary, factory, source = await crawl_site(tmp_path, {"/bbs/forum.php": forum}, [9])
    limits = source.limits
    thread_pages = [h for h in hits if "viewthread" in h and "tid=1" in h]
    assert len(thread_pages) == limits.max_thread_pages                 # page 1 and the newest pages, not 500
    assert summary["pages_capped"] == FLOORS // PPP - limits.max_thread_pages
    board_pages = [h for h in hits if "forumdisplay" in h]
    assert len(board_pages) == 2                                        # page 2 repeats page 1: the pager stops
    got = sent(factory)
    assert "demo-discuz:1" in got and f"demo-discuz:1-{100000 + FLOORS}" in got      # 楼主 and the last floor
    assert len(got) == limits.max_thread_pages * PPP + 1 and summary["errors"] == 0


async def test_a_verification_wall_backs_off_and_the_watchdog_says_so(tmp_path):
    hits: list[str] = []

    async def walled(request):
        hits.append(request.query_string)
        if len(hits) % 2:
            return web.Response(status=567, text="blocked")
        return web.Response(text="<html><head><title>安全验证</title></head><body><div id='nc'>请拖动滑块</div></body></html>",
                            content_type="text/html")

    summary, _factory, _source = await crawl_site(tmp_path, {"/bbs/forum.php": walled}, list(range(1, 30)))
    assert summary["pages_blocked"] >= 2 and summary["posts_new"] == 0
    assert len(hits) < 29                                  # it stopped asking instead of trying every board
    findings = Watchdog().observe("demo-discuz", summary["sources"]["demo-discuz"], START)
    assert [(f.rule, f.status) for f in findings] == [("source_blocked", "firing")]


async def test_robots_txt_forbidding_the_api_means_the_html_templates(tmp_path):
    hits: list[str] = []

    async def forum(request):
        hits.append(request.path)
        q = request.query
        body = _board_page(q["fid"]) if q["mod"] == "forumdisplay" else _thread_page(2, 1)
        return web.Response(text=body, content_type="text/html", charset="utf-8")

    async def api(request):
        hits.append(request.path)
        return web.json_response({"Variables": {}})

    # what a standard Discuz! X3 robots.txt says about the API
    summary, factory, _source = await crawl_site(tmp_path, {"/bbs/forum.php": forum, "/bbs/api/mobile/index.php": api},
                                                 [9], robots_txt="User-agent: *\nDisallow: /bbs/api/\n")
    assert "/bbs/api/mobile/index.php" not in hits and summary["errors"] == 0
    assert "demo-discuz:2" in sent(factory)
    assert CrawlState.for_source(tmp_path, "demo-discuz").mark("discuz:mode") == "html"
