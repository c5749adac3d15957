"""`shaobing status`'s verdict from plain readings: what is healthy, worth a look, or broken."""
from __future__ import annotations

import pytest

from shaobing.health import (Check, Process, Readings, exit_code, freshness_p99, histogram_quantile, judge,
                             report)

NOW = 1_800_000_000.0


def worker_samples(crawled_buckets=None, published_buckets=None):
    s = {}
    for since, buckets in (("crawled", crawled_buckets or {}), ("published", published_buckets or {})):
        for le, n in buckets.items():
            s[f"shaobing_index_freshness_seconds_bucket{{le={le},since={since}}}"] = n
    return s


def crawler_samples(last_round=NOW - 20, rounds=12, quiet=0, last_success=NOW - 20):
    return {"shaobing_crawler_rounds_total{}": rounds, "shaobing_crawler_last_round_timestamp_seconds{}": last_round,
            "shaobing_crawler_watchdog_firing{rule=source_quiet,source=bbs}": quiet,
            "shaobing_crawler_last_success_timestamp_seconds{source=bbs}": last_success}


def healthy(**overrides) -> Readings:
    base = dict(now=NOW, kafka=(True, "1 broker(s)"), elasticsearch=(True, "cluster health green"),
                prometheus=(True, "ready"), workers=[Process("127.0.0.1:1", worker_samples())],
                crawlers=[Process("127.0.0.1:2", crawler_samples())],
                lag={"posts.raw": (0, 0.0), "mentions": (3, 2.0)}, dead_letters_1h=0, last_alert=None)
    return Readings(**{**base, **overrides})


def states(readings) -> dict[str, str]:
    return {c.part: c.state for c in judge(readings)}


def test_a_healthy_pipeline_exits_zero():
    checks = judge(healthy())
    assert {c.state for c in checks} == {"ok"}
    assert exit_code(checks) == 0
    assert report(checks, "h").endswith("verdict: healthy")


@pytest.mark.parametrize("overrides, part, state", [
    ({"kafka": (False, "no metadata")}, "kafka", "fail"),
    ({"elasticsearch": (False, "cluster health red")}, "elasticsearch", "fail"),
    ({"workers": []}, "workers", "fail"),
    ({"workers": [Process("a", {}), Process("b", None)]}, "workers", "fail"),
    ({"crawlers": []}, "crawler", "warn"),
    ({"crawlers": [Process("c", None)]}, "crawler", "fail"),
    ({"crawlers": [Process("c", crawler_samples(quiet=1))]}, "crawler", "warn"),
    ({"crawlers": [Process("c", crawler_samples(last_success=NOW - 3600))]}, "crawler", "warn"),
    ({"crawlers": [Process("c", crawler_samples(last_round=NOW - 1200))]}, "crawler", "warn"),
    ({"lag": None}, "lag", "fail"),
    ({"lag": {"posts.raw": (500, 90.0)}}, "lag", "warn"),
    ({"lag": {"posts.raw": (500, 400.0)}}, "lag", "fail"),
    ({"dead_letters_1h": 3}, "dead letters", "warn"),
    ({"dead_letters_1h": 61}, "dead letters", "fail"),
    ({"dead_letters_1h": None}, "dead letters", "warn"),
    ({"last_alert": {"status": "failed", "channel": ["ding"], "rule": "surge", "subject": "x"}}, "last alert", "warn"),
    ({"prometheus": None}, "prometheus", "off"),
    ({"prometheus": (False, "unreachable")}, "prometheus", "warn"),
    ({"prometheus_alerts": [{"labels": {"alertname": "ShaobingDeadLetters", "severity": "warning"}}]}, "prometheus", "warn"),
    ({"prometheus_alerts": [{"labels": {"alertname": "ShaobingWorkerDown", "severity": "critical"}}]}, "prometheus", "fail"),
])
def test_each_part_is_judged(overrides, part, state):
    readings = healthy(**overrides)
    assert states(readings)[part] == state
    assert exit_code(judge(readings)) == (1 if state == "fail" else 0)


def test_prometheus_off_is_not_a_failure_and_warnings_keep_exit_zero():
    checks = judge(healthy(prometheus=None, dead_letters_1h=2))
    assert exit_code(checks) == 0
    assert report(checks, "h").endswith("verdict: healthy, with warnings")
    assert "UNHEALTHY" in report([Check("kafka", "fail", "down")], "h")


def test_histogram_quantile_matches_prometheus():
    assert histogram_quantile(0.5, {5.0: 10, 10.0: 20, float("inf"): 20}) == 5.0
    assert histogram_quantile(0.99, {5.0: 10, 10.0: 20, float("inf"): 20}) == pytest.approx(9.9)
    assert histogram_quantile(0.99, {5.0: 0, 10.0: 0, float("inf"): 4}) == 10.0   # beyond the last bound
    assert histogram_quantile(0.99, {5.0: 0, float("inf"): 0}) is None


def test_freshness_sums_workers_and_warns_over_the_objective():
    fast = {"1.0": 5, "60.0": 10, "120.0": 10, "+Inf": 10}
    slow = {"1.0": 0, "60.0": 0, "120.0": 10, "+Inf": 10}
    workers = [Process("a", worker_samples(fast)), Process("b", worker_samples(slow)), Process("c", None)]
    assert freshness_p99(workers, "crawled") == pytest.approx(60 + 60 * (19.8 - 10) / 10)
    assert states(healthy(workers=[Process("a", worker_samples(fast))]))["freshness"] == "ok"
    assert states(healthy(workers=workers))["freshness"] == "warn"


def test_last_alert_is_shown_in_beijing_time():
    alert = {"status": "firing", "channel": ["duty"], "rule": "surge", "subject": "化工厂",
             "fired_at": "2026-11-29T23:43:57.2+00:00"}
    [check] = [c for c in judge(healthy(last_alert=alert)) if c.part == "last alert"]
    assert check.state == "ok"
    assert check.detail == "11-30 07:43:57 (Asia/Shanghai) surge 化工厂 (firing; channels duty)"


def test_freshness_prefers_prometheus_last_five_minutes_over_since_start():
    slow_since_start = [Process("a", worker_samples({"60.0": 0, "120.0": 10, "+Inf": 10}))]
    [check] = [c for c in judge(healthy(workers=slow_since_start, freshness_5m={"crawled": 3.0, "published": 90.0}))
               if c.part == "freshness"]
    assert check.state == "ok" and "3.0s" in check.detail and "last 5 min (Prometheus)" in check.detail
    # no post in the window: Prometheus answers NaN, and the histograms since start are used
    [check] = [c for c in judge(healthy(workers=slow_since_start, freshness_5m={"crawled": float("nan")}))
               if c.part == "freshness"]
    assert check.state == "warn" and "since the workers started" in check.detail
