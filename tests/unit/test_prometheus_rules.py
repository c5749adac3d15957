"""The Prometheus configuration and rules in infra/prometheus/: valid for the real promtool,
every alert rule covered by a firing unit test, and every metric they name exported by our code."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry

from alerting.metrics import AlertingMetrics
from crawlers.metrics import CrawlerMetrics
from indexer.metrics import IndexerMetrics
from infra.errors import StackError
from infra.monitor import CONFIG_DIR, find_tool
from shaobing.settings import load_settings
from shaobing.telemetry import register_build_info
from streams.lag import LagCollector, TopicLag
from streams.metrics import StreamMetrics, TableSizes

TESTS = CONFIG_DIR / "tests"
PROMETHEUS_OWN = {"up", "time", "absent"}


def promtool() -> Path:
    try:
        return find_tool(load_settings(), "promtool")
    except StackError as exc:
        pytest.fail(f"{exc} (`make install` installs it)", pytrace=False)


def run(*args: str) -> str:
    proc = subprocess.run([str(promtool()), *args], capture_output=True, text=True, cwd=CONFIG_DIR, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def test_config_and_rules_pass_promtool_check():
    out = run("check", "config", "prometheus.yml")
    assert "SUCCESS" in out
    run("check", "rules", "recording.yml", "alerts.yml")


@pytest.mark.parametrize("tests_file", sorted(p.name for p in TESTS.glob("*.test.yml")))
def test_rule_unit_tests_pass(tests_file):
    assert "SUCCESS" in run("test", "rules", str(TESTS / tests_file))


def rules(name: str) -> list[dict]:
    return [r for g in yaml.safe_load((CONFIG_DIR / name).read_text(encoding="utf-8"))["groups"] for r in g["rules"]]


def test_every_alert_rule_has_a_test_where_it_fires():
    fired = set()
    for path in TESTS.glob("*.test.yml"):
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]:
            fired |= {t["alertname"] for t in case.get("alert_rule_test", []) if t.get("exp_alerts")}
    alerts = {r["alert"] for r in rules("alerts.yml")}
    assert alerts - fired == set(), "alert rules without a firing test"
    assert len(alerts) >= 10


def exported_names() -> set[str]:
    """Every sample name our processes export, from the metric classes the code registers."""
    registry = CollectorRegistry()
    StreamMetrics(registry)
    IndexerMetrics(registry)
    CrawlerMetrics(registry).init_sources(["s"])
    AlertingMetrics(registry).init_channels(["c"])
    register_build_info("worker", registry)
    lag = LagCollector(lambda now: {"posts.raw": TopicLag(1, 1.0)}, ["posts.raw"])
    lag.refresh()
    registry.register(lag)
    registry.register(TableSizes({"seen_posts": {}}))
    return {s.name for family in registry.collect() for s in family.samples}


def names_in(expr: str) -> set[str]:
    without_strings = re.sub(r'"[^"]*"', '""', expr)
    without_labels = re.sub(r"\{[^}]*\}", "", without_strings)
    return set(re.findall(r"\b(shaobing[_:][a-zA-Z0-9_:]+)", without_labels))


def test_every_series_the_rules_read_is_exported_or_recorded():
    exported = exported_names()
    recorded = {r["record"] for r in rules("recording.yml")}
    for rule in rules("recording.yml") + rules("alerts.yml"):
        missing = {n for n in names_in(rule["expr"]) if n not in exported and n not in recorded}
        assert not missing, f"{rule.get('alert') or rule.get('record')} reads {missing}, which nothing exports"
    assert "shaobing_stream_consumer_lag_records" in exported    # the check itself sees our metrics
    assert names_in('rate(shaobing_x_total{a="shaobing_y"}[5m]) / shaobing:z') == {"shaobing_x_total", "shaobing:z"}


def dashboard_queries() -> list[str]:
    """Every PromQL expression of the Grafana dashboard (panel targets and template queries)."""
    import json

    dashboard = json.loads((CONFIG_DIR.parent / "dashboards" / "shaobing.json").read_text(encoding="utf-8"))
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    exprs += [v["query"] for v in dashboard["templating"]["list"] if v.get("type") == "query"]
    return exprs


def test_every_dashboard_query_names_a_series_the_code_exports_or_the_rules_record():
    exported = exported_names()
    recorded = {r["record"] for r in rules("recording.yml")}
    queries = dashboard_queries()
    assert len(queries) >= 15
    for expr in queries:
        names = names_in(expr)
        assert names or set(re.findall(r"\b(up|time)\b", expr)), f"{expr!r} names no series"
        missing = {n for n in names if n not in exported and n not in recorded}
        assert not missing, f"dashboard query {expr!r} reads {missing}, which nothing exports"


def test_alertmanager_config_passes_amtool_and_routes_to_the_ops_receiver():
    amtool = find_tool(load_settings(), "amtool")
    proc = subprocess.run([str(amtool), "check-config", str(CONFIG_DIR / "alertmanager.yml")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "SUCCESS" in proc.stdout, proc.stdout + proc.stderr
    config = yaml.safe_load((CONFIG_DIR / "alertmanager.yml").read_text(encoding="utf-8"))
    [receiver] = config["receivers"]
    assert config["route"]["receiver"] == receiver["name"]
    assert receiver["webhook_configs"][0]["url"] == "http://127.0.0.1:9097/alerts"   # ops-receiver's default
