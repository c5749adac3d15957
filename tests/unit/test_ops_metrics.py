"""Operators' metrics: consumer lag arithmetic, freshness, table sizes, crawler success times,
indexer error labels, build info and the file-based service discovery targets."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from prometheus_client import CollectorRegistry

from crawlers.metrics import CrawlerMetrics
from indexer.metrics import error_label
from shaobing.telemetry import announce, prune_stale, register_build_info, target_group
from streams.lag import LagCollector, TopicLag, lag_by_topic, seconds_behind
from streams.metrics import StreamMetrics, TableSizes

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)


def test_lag_sums_partitions_and_counts_uncommitted_partitions_from_zero():
    ends = {("raw", 0): 10, ("raw", 1): 5, ("raw", 2): 0, ("mentions", 0): 7}
    committed = {("raw", 0): 4, ("raw", 1): 5, ("mentions", 0): 9}     # 9 > 7: a stale reading, never negative
    assert lag_by_topic(committed, ends) == {"raw": 6, "mentions": 0}
    assert lag_by_topic({}, {("raw", 0): 3}) == {"raw": 3}


def test_seconds_behind_is_the_oldest_waiting_record_per_topic():
    now = 1_000.0
    oldest = {("raw", 0): 990_000, ("raw", 1): 940_000, ("surges", 0): 1_005_000}   # ms; one in the future
    assert seconds_behind(oldest, now) == {"raw": 60.0, "surges": 0.0}


def test_lag_collector_exports_last_reading_and_counts_failures():
    readings = iter([{"posts.raw": TopicLag(12, 3.5)}, OSError("broker gone")])

    def read(now):
        item = next(readings)
        if isinstance(item, Exception):
            raise item
        return item

    registry = CollectorRegistry()
    collector = LagCollector(read, ["posts.raw", "mentions"], clock=lambda: 1234.0)
    registry.register(collector)
    assert registry.get_sample_value("shaobing_stream_consumer_lag_records", {"topic": "posts.raw"}) is None
    collector.refresh()
    collector.refresh()            # fails: the last good reading stays, the failure is counted
    assert registry.get_sample_value("shaobing_stream_consumer_lag_records", {"topic": "posts.raw"}) == 12
    assert registry.get_sample_value("shaobing_stream_consumer_lag_seconds", {"topic": "posts.raw"}) == 3.5
    assert registry.get_sample_value("shaobing_stream_consumer_lag_records", {"topic": "mentions"}) is None
    assert registry.get_sample_value("shaobing_stream_consumer_lag_updated_timestamp_seconds") == 1234.0
    assert registry.get_sample_value("shaobing_stream_consumer_lag_read_errors_total") == 1


def test_freshness_observes_indexed_documents_but_not_rejected_ones():
    registry = CollectorRegistry()
    metrics = StreamMetrics(registry)
    doc = lambda pid, pub, crawl: {"post_id": pid, "published_at": (T0 - timedelta(seconds=pub)).isoformat(),  # noqa: E731
                                   "crawled_at": (T0 - timedelta(seconds=crawl)).isoformat()}
    metrics.observe_indexed([doc("a", 400, 3), doc("b", -50, 1), doc("c", 9, 9)], T0, rejected=[("c", "mapping")])
    get = lambda name, since, le=None: registry.get_sample_value(  # noqa: E731
        f"shaobing_index_freshness_seconds_{name}", {"since": since, **({"le": le} if le else {})})
    assert get("count", "published") == 2 and get("count", "crawled") == 2
    assert get("sum", "published") == 400          # the future publication time counts as 0
    assert get("sum", "crawled") == 4
    assert get("bucket", "crawled", "5.0") == 2


def test_table_sizes_are_read_at_scrape_time():
    tables = {"seen_posts": {}, "surge_state": {"x": 1}}
    registry = CollectorRegistry()
    registry.register(TableSizes(tables))
    tables["seen_posts"].update(a=1, b=2)
    assert registry.get_sample_value("shaobing_stream_table_keys", {"table": "seen_posts"}) == 2
    assert registry.get_sample_value("shaobing_stream_table_keys", {"table": "surge_state"}) == 1


def test_crawler_last_success_starts_at_start_and_moves_only_on_clean_rounds():
    registry = CollectorRegistry()
    m = CrawlerMetrics(registry)
    m.init_sources(["bbs"], started_unix=100.0)
    get = lambda: registry.get_sample_value("shaobing_crawler_last_success_timestamp_seconds", {"source": "bbs"})  # noqa: E731
    assert get() == 100.0
    base = {"pages_fetched": 2, "pages_not_modified": 0, "posts_extracted": 1, "posts_new": 1, "posts_seen": 0,
            "fields_empty": 0, "errors": 0}
    m.observe_round({"elapsed_s": 1.0, "sources": {"bbs": {**base, "errors": 2}}}, 200.0)
    assert get() == 100.0
    m.observe_round({"elapsed_s": 1.0, "sources": {"bbs": base}}, 300.0)
    assert get() == 300.0
    assert registry.get_sample_value("shaobing_crawler_rounds_total") == 2
    assert registry.get_sample_value("shaobing_crawler_last_round_timestamp_seconds") == 300.0


def test_elasticsearch_error_types_become_bounded_labels():
    assert error_label("es_rejected_execution_exception") == "es_rejected_execution_exception"
    assert error_label("Mapper parsing <script>") == "other"
    assert error_label(None) == "other"


def test_build_info_names_the_process():
    registry = CollectorRegistry()
    register_build_info("crawler", registry)
    samples = [s for f in registry.collect() for s in f.samples if s.name == "shaobing_build_info"]
    assert len(samples) == 1 and samples[0].value == 1 and samples[0].labels["process"] == "crawler"


def test_announce_writes_file_sd_json(tmp_path):
    path = announce(tmp_path, "worker", 4321, "", pid=123)
    assert path.name == "worker-123.json"
    assert json.loads(path.read_text()) == target_group(4321, "") == [
        {"targets": ["127.0.0.1:4321"], "labels": {"namespace": "default"}}]


def test_prune_removes_only_targets_of_dead_processes(tmp_path):
    dead, alive, other = tmp_path / "worker-7.json", tmp_path / "crawler-8.json", tmp_path / "notes.json"
    for p in (dead, alive, other):
        p.write_text("[]")
    assert prune_stale(tmp_path, alive=lambda pid: pid == 8) == [dead]
    assert not dead.exists() and alive.exists() and other.exists()
