"""The demo web: deterministic generation, the scenario clock, ground truth, and the server on a
loopback port (charsets, escaping, conditional requests)."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import datetime, timezone
from datetime import timedelta as td

import pytest

from infra.demo_web import BOARDS, FORUM_SITE, NEWS_SITE, DemoPost, Scenario, start_demo_web
from infra.demo_web import pages
from infra.demo_web.vocabulary import SURGE_PLACE, SURGE_WORDS

START = datetime(2026, 5, 17, 0, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _scenario(seed: int = 7, clock=None, **kw) -> Scenario:
    return Scenario(seed=seed, start=START, speed=1.0, surge_at_s=300.0, clock=clock or Clock(), **kw)


def test_same_seed_same_posts_other_seed_other_posts():
    a, b, c = _scenario(7), _scenario(7), _scenario(8)
    assert a.posts == b.posts
    assert a.posts != c.posts
    assert len({p.key for p in a.posts}) == len(a.posts)


def test_surge_is_about_one_subject_after_surge_time():
    s = _scenario()
    truth = s.ground_truth(until_s=1e9)
    surge = [s.by_key[k] for k in truth.surge_keys]
    assert len([p for p in surge if p.kind != "reply"]) >= 40
    assert all(p.at_s >= 300.0 for p in surge)
    openers = [p for p in surge if p.kind != "reply"]
    assert all(SURGE_PLACE in p.title + p.text or "化工厂" in p.title + p.text for p in openers)
    assert sum(any(w in p.text for w in SURGE_WORDS) for p in openers) >= 0.8 * len(openers)
    before = s.ground_truth(until_s=299.0)
    assert not before.surge_keys and before.total_unique > 50


def test_reposts_cross_both_sites_with_light_edits():
    s = _scenario()
    truth = s.ground_truth(until_s=1e9)
    assert len(truth.repost_of) >= 9
    sites = {s.by_key[k].site for k in truth.repost_of}
    assert sites == {FORUM_SITE, NEWS_SITE}
    for copy, original in truth.repost_of.items():
        c, o = s.by_key[copy], s.by_key[original]
        assert c.at_s > o.at_s and o.repost_of is None
        if copy in truth.verbatim_copies:
            assert c.text == o.text
        else:
            assert c.text != o.text and (o.text in c.text or c.edit == "punct")
    assert {s.by_key[k].edit for k in truth.repost_of} >= {"verbatim", "prefix", "tags", "punct"}


def test_posts_appear_as_the_scenario_clock_runs():
    clock = Clock()
    s = Scenario(seed=3, start=START, speed=10.0, surge_at_s=300.0, clock=clock)
    first = len(s.visible())
    clock.t += 60.0                     # ten scenario minutes
    assert len(s.visible()) > first
    assert s.now_s() == pytest.approx(600.0)
    assert s.status()["surge_started"] is True


def test_relative_times_read_like_a_chinese_forum():
    now = datetime(2026, 5, 17, 4, 30, tzinfo=timezone.utc)     # 12:30 in Shanghai
    assert pages.relative_time(now - td(seconds=20), now) == "刚刚"
    assert pages.relative_time(now - td(minutes=3), now) == "3分钟前"
    assert pages.relative_time(now - td(hours=2), now) == "2小时前"
    assert pages.relative_time(now - td(hours=24), now) == "昨天 12:30"
    assert pages.relative_time(now - td(days=3), now) == "05-14 12:30"


def test_article_html_escapes_hostile_text():
    s = _scenario()
    evil = DemoPost(NEWS_SITE, "9", "article", 0.0, "<script>alert(1)</script>", 'a"b<img src=x onerror=1>。',
                    "&author", source="<b>src</b>")
    body = pages.article(s, evil).body
    assert "<script>" not in body and "<img" not in body and "<b>src" not in body
    assert "&lt;script&gt;" in body and "&amp;author" in body


@pytest.fixture
def site():
    clock = Clock()
    scenario = Scenario(seed=7, start=START, speed=1.0, surge_at_s=300.0, clock=clock)
    url, stop = start_demo_web(port=0, scenario=scenario)
    yield url, clock, scenario
    stop()


def _get(url: str, headers: dict | None = None):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.headers, exc.read()


def test_gbk_board_is_served_in_gbk(site):
    url, _, _ = site
    status, headers, body = _get(url + "/forum/board/qingshi")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=gbk"
    text = body.decode("gbk")
    assert '<meta charset="gbk">' in text and "青石乡情" in text
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")


def test_conditional_requests_answer_304_until_the_page_changes(site):
    url, clock, _ = site
    status, headers, _ = _get(url + "/news/list")
    assert status == 200
    etag, modified = headers["ETag"], headers["Last-Modified"]
    assert _get(url + "/news/list", {"If-None-Match": etag})[0] == 304
    assert _get(url + "/news/list", {"If-Modified-Since": modified})[0] == 304
    clock.t += 900.0                    # the surge's news articles come out
    status, headers, body = _get(url + "/news/list", {"If-None-Match": etag})
    assert status == 200 and headers["ETag"] != etag and "化工厂" in body.decode("utf-8")


def test_threads_articles_robots_and_scenario_endpoint(site):
    url, clock, scenario = site
    thread = next(p for p in scenario.visible() if p.kind == "thread" and p.site == "demo-forum")
    status, _, body = _get(f"{url}/forum/thread/{thread.native_id}")
    assert status == 200 and f'data-tid="{thread.native_id}"' in body.decode(BOARDS[thread.board][1])
    assert _get(f"{url}/forum/thread/999999")[0] == 404
    later = next(p for p in scenario.posts if p.kind == "article" and p.at_s > scenario.now_s())
    assert _get(f"{url}/news/article/{later.native_id}.html")[0] == 404     # not published yet
    status, _, body = _get(url + "/robots.txt")
    assert status == 200 and b"User-agent: *" in body
    doc = json.loads(_get(url + "/_scenario")[2])
    assert doc["surge_started"] is False and doc["subject"] == "青石镇化工厂"
    assert doc["total_unique"] == scenario.ground_truth().total_unique


def test_microblog_adds_a_site_without_changing_the_others():
    plain, with_blog = _scenario(7), _scenario(7, microblog=True)
    assert [p for p in with_blog.posts if p.site != "demo-weibo"] == list(plain.posts)
    statuses = [p for p in with_blog.posts if p.site == "demo-weibo"]
    assert statuses and all(p.kind == "status" for p in statuses)
    assert any(p.surge for p in statuses) and any(p.reposts >= 10000 for p in statuses)
    newest = with_blog.statuses(1e9, count=5)
    assert [int(p.native_id) for p in newest] == sorted((int(p.native_id) for p in newest), reverse=True)
    assert with_blog.statuses(1e9, since_id=int(newest[0].native_id)) == []
