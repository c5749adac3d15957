"""The source watchdog: pure rules with pinned time, its metrics, and firing on the demo web's
layout change through a real crawl (loopback, fake producer)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from prometheus_client import CollectorRegistry

from crawlers.metrics import CrawlerMetrics
from crawlers.runner import crawl_once, select_sources, watch_round
from crawlers.settings import crawler_settings
from crawlers.watchdog import Watchdog, WatchdogParams, to_surge
from infra.demo_web import Scenario, start_demo_web
from streams.records import Surge
from tests.unit.crawl_fakes import FakeProducer

T0 = datetime(2026, 5, 17, tzinfo=timezone.utc)


def round_(new=0, empty=0, read=0, fetched=1, errors=0) -> dict:
    return {"posts_new": new, "fields_empty": empty, "fields_read": read, "pages_fetched": fetched,
            "pages_not_modified": 0, "errors": errors}


def test_quiet_source_fires_against_its_own_rhythm_and_resolves():
    wd = Watchdog(WatchdogParams(quiet_factor=4, min_quiet_s=60, min_gaps=3))
    for minute in range(0, 50, 10):                      # a new post every 10 minutes
        assert wd.observe("bbs", round_(new=2), T0 + timedelta(minutes=minute)) == []
    assert wd.observe("bbs", round_(), T0 + timedelta(minutes=75)) == []          # 35 min: within 4 x 10
    (fired,) = wd.observe("bbs", round_(), T0 + timedelta(minutes=81))          # 41 min > 40
    assert (fired.rule, fired.status) == ("source_quiet", "firing") and wd.firing("bbs") == {"source_quiet"}
    assert wd.observe("bbs", round_(), T0 + timedelta(minutes=90)) == []          # fires once per episode
    (resolved,) = wd.observe("bbs", round_(new=1), T0 + timedelta(minutes=95))
    assert resolved.status == "resolved" and wd.firing("bbs") == set()


def test_no_rhythm_yet_means_no_quiet_alert():
    wd = Watchdog(WatchdogParams(min_quiet_s=60))
    assert wd.observe("new-source", round_(), T0) == []
    assert wd.observe("new-source", round_(), T0 + timedelta(days=1)) == []


def test_empty_fields_and_error_rounds():
    wd = Watchdog(WatchdogParams(empty_share=0.3, min_fields=10, error_rounds=2))
    assert wd.observe("news", round_(new=5, empty=1, read=40), T0) == []
    assert wd.observe("news", round_(empty=5, read=8), T0) == []                  # too few fields to judge
    (fired,) = wd.observe("news", round_(empty=20, read=40), T0)
    assert fired.rule == "source_extraction" and fired.value == 0.5
    assert wd.observe("down", round_(fetched=0, errors=3), T0) == []
    (down,) = wd.observe("down", round_(fetched=0, errors=3), T0)
    assert down.rule == "source_errors"
    surge = Surge.from_bytes(to_surge(fired, T0).to_bytes())
    assert surge.subject == "信息源:news" and surge.rule == "source_extraction" and surge.count == 50


def test_metrics_are_initialised_and_follow_rounds():
    registry = CollectorRegistry()
    m = CrawlerMetrics(registry)
    m.init_sources(["demo-news"])
    assert registry.get_sample_value("shaobing_crawler_pages_total", {"source": "demo-news", "outcome": "fetched"}) == 0
    summary = {"elapsed_s": 0.5, "sources": {"demo-news": {**round_(new=3, empty=1, read=9), "pages_fetched": 4,
                                                           "posts_extracted": 3, "posts_seen": 2}}}
    m.observe_round(summary, 1_000.0)
    assert registry.get_sample_value("shaobing_crawler_posts_total", {"source": "demo-news", "outcome": "new"}) == 3
    assert registry.get_sample_value("shaobing_crawler_last_new_post_timestamp_seconds", {"source": "demo-news"}) == 1000
    m.set_firing("demo-news", {"source_extraction"})
    assert registry.get_sample_value("shaobing_crawler_watchdog_firing",
                                     {"source": "demo-news", "rule": "source_extraction"}) == 1


class Clock:
    t = 0.0

    def __call__(self) -> float:
        return self.t


async def test_layout_change_on_the_demo_web_fires_the_extraction_rule(tmp_path):
    clock = Clock()
    scenario = Scenario(seed=3, start=T0, surge_at_s=300.0, clock=clock, layout_change_at_s=600.0)
    url, stop = start_demo_web(scenario=scenario)
    sources = select_sources(["demo-news"], base_url=url)
    factory = FakeProducer.factory()
    wd, registry = Watchdog(WatchdogParams(min_fields=4)), CollectorRegistry()
    metrics = CrawlerMetrics(registry)
    alerts = crawler_settings(sources[0], producer_factory=factory)
    try:
        first = await crawl_once(sources, tmp_path, producer_factory=FakeProducer.factory(), reactorless=True)
        await watch_round(first, metrics, wd, alerts)
        assert first["watchdog"] == [] and first["fields_empty"] == 0
        clock.t = 1500.0                                  # new surge articles, served in the new layout
        second = await crawl_once(sources, tmp_path, producer_factory=FakeProducer.factory(), reactorless=True)
        await watch_round(second, metrics, wd, alerts)
    finally:
        stop()
    assert second["posts_new"] == 0 and second["fields_empty"] > 0
    assert [(w["source"], w["rule"], w["status"]) for w in second["watchdog"]] == \
        [("demo-news", "source_extraction", "firing")]
    (topic, key, value), = factory.sent
    assert topic == "surges" and key == "信息源:demo-news".encode()
    assert Surge.from_bytes(value).rule == "source_extraction"
    assert registry.get_sample_value("shaobing_crawler_watchdog_firing",
                                     {"source": "demo-news", "rule": "source_extraction"}) == 1


def test_rejected_blocked_and_login_rounds_fire_and_resolve():
    wd = Watchdog()
    fired = wd.observe("bbs", {**round_(new=1), "posts_rejected": 1, "pages_blocked": 3, "login_required": 2}, T0)
    assert {(f.rule, f.status) for f in fired} == {("source_rejected", "firing"), ("source_blocked", "firing"),
                                                   ("source_login_required", "firing")}
    blocked = next(f for f in fired if f.rule == "source_blocked")
    assert "verification" in blocked.detail and to_surge(blocked, T0).severity == "critical"
    resolved = wd.observe("bbs", round_(new=1), T0 + timedelta(minutes=5))
    assert {(f.rule, f.status) for f in resolved} == {("source_rejected", "resolved"), ("source_blocked", "resolved"),
                                                      ("source_login_required", "resolved")}
