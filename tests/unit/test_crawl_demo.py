"""Spiders crawling the demo web on a loopback port with a fake producer (no Kafka): the crawl
finds exactly the ground truth, re-crawls are incremental, and a failed delivery is redone."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from crawlers.runner import crawl_once, select_sources
from infra.demo_web import Scenario, start_demo_web
from streams.records import RawPost
from tests.unit.crawl_fakes import FakeProducer

START = datetime(2026, 5, 17, 0, 0, tzinfo=timezone.utc)


class Clock:
    t = 0.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def demo():
    clock = Clock()
    scenario = Scenario(seed=11, start=START, speed=1.0, surge_at_s=300.0, clock=clock, history_s=1800.0)
    url, stop = start_demo_web(port=0, scenario=scenario)
    yield scenario, clock, select_sources(None, base_url=url)
    stop()


def expected_reply_to(scenario, reply) -> str:
    """The thread, or the quoted floor: `tid-floor` on the demo forum, `tid-pid` on the Discuz! board."""
    floor = reply.reply_to_floor
    if not floor:
        return f"{reply.site}:{reply.thread_id}"
    if reply.site == "demo-forum":
        return f"{reply.site}:{reply.thread_id}-{floor}"
    (quoted,) = [p for p in scenario.posts if p.thread_id == reply.thread_id and p.site == reply.site
                 and p.kind == "reply" and p.floor == floor]
    return quoted.key


def posts(factory) -> dict[str, RawPost]:
    out: dict[str, RawPost] = {}
    for _topic, key, value in factory.sent:
        post = RawPost.from_bytes(value)
        assert key == post.post_id.encode() and post.post_id not in out, "each post is produced once"
        out[post.post_id] = post
    return out


async def test_first_crawl_finds_exactly_the_ground_truth(demo, tmp_path):
    scenario, _, sources = demo
    factory = FakeProducer.factory()
    summary = await crawl_once(sources, tmp_path, producer_factory=factory, reactorless=True)
    got = posts(factory)
    truth = scenario.ground_truth()
    assert set(got) == truth.keys
    assert summary["errors"] == 0 and summary["posts_new"] == truth.total_unique
    assert summary["fields_empty"] == 0
    for key, post in got.items():
        original = scenario.by_key[key]
        assert post.text.replace("\n", "") == original.text                 # GBK board included
        published = scenario.at(original.at_s)
        tolerance = 60 if scenario.now_s() - original.at_s < 3540 else 3600   # 3分钟前 vs 1小时前
        assert abs((post.published_at - published).total_seconds()) <= tolerance, key
        if original.kind == "reply":
            assert post.reply_to == expected_reply_to(scenario, original), key
    gbk = [p for p in got.values() if scenario.by_key[p.post_id].board == "qingshi"]
    assert gbk and any("青石" in p.title + p.text for p in gbk)


async def test_recrawl_is_incremental_and_sees_new_posts(demo, tmp_path):
    scenario, clock, sources = demo
    first = FakeProducer.factory()
    await crawl_once(sources, tmp_path, producer_factory=first, reactorless=True)
    again = FakeProducer.factory()
    summary = await crawl_once(sources, tmp_path, producer_factory=again, reactorless=True)
    assert summary["pages_fetched"] == 0 and summary["pages_not_modified"] == 6      # 3 + 2 boards + news list
    assert again.sent == [] and summary["errors"] == 0

    before = scenario.ground_truth().keys
    clock.t = 900.0                                       # the surge is under way
    later = FakeProducer.factory()
    summary = await crawl_once(sources, tmp_path, producer_factory=later, reactorless=True)
    truth = scenario.ground_truth()
    got = posts(later)
    assert set(got) == truth.keys - before
    assert truth.surge_keys <= set(got) and truth.repost_of
    assert summary["errors"] == 0


async def test_failed_delivery_is_redone_on_the_next_crawl(demo, tmp_path):
    scenario, _, sources = demo
    down = FakeProducer.factory(fail="send")
    summary = await crawl_once(sources, tmp_path, producer_factory=down, reactorless=True)
    assert summary["posts_new"] == 0 and summary["errors"] == scenario.ground_truth().total_unique
    up = FakeProducer.factory()
    summary = await crawl_once(sources, tmp_path, producer_factory=up, reactorless=True)
    assert set(posts(up)) == scenario.ground_truth().keys and summary["errors"] == 0
