"""Prometheus metrics of the stream stages, declared once. Labels are low-cardinality
(stage, outcome, kind); never a post id, subject, keyword or URL."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily

OUTCOMES = {
    "validate": ("ok", "dead_letter"),
    "dedup": ("unique", "edited", "duplicate", "expired"),
    "cluster": ("new", "repost", "duplicate", "replay"),
    "index": ("indexed", "failed"),
    "fanout": ("mentions",),
    "surge": ("signal",),
    "alert": ("delivered", "suppressed", "failed"),
    "alert_history": ("written", "failed"),
}
DLQ_KINDS = ("empty", "size", "encoding", "json", "nesting", "schema", "key", "index", "processing")
# freshness objective of the alert rules (infra/prometheus/alerts.yml) is crawled -> indexed p99
FRESHNESS_SINCE = ("published", "crawled")
FRESHNESS_BUCKETS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400)


class StreamMetrics:
    def __init__(self, registry: CollectorRegistry = REGISTRY):
        self.records = Counter("shaobing_stream_records_total", "Records leaving each stage, by outcome",
                               ["stage", "outcome"], registry=registry)
        self.dead_letters = Counter("shaobing_stream_dead_letters_total", "Records sent to posts.dlq, by kind",
                                    ["stage", "kind"], registry=registry)
        self.latency = Histogram("shaobing_stream_processing_seconds", "Time spent in a stage per record or batch",
                                 ["stage"], registry=registry,
                                 buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.alert_latency = Histogram("shaobing_alert_latency_seconds",
                                       "From the first surge post produced to Kafka to the alert delivered",
                                       registry=registry, buckets=(1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 300))
        self.freshness = Histogram("shaobing_index_freshness_seconds",
                                   "From a post's publication (or its crawl) to its bulk write to Elasticsearch",
                                   ["since"], registry=registry, buckets=FRESHNESS_BUCKETS)
        # the labelled children once: observe_indexed runs for every post indexed
        self._freshness = [(f"{since}_at", self.freshness.labels(since)) for since in FRESHNESS_SINCE]
        self.repost_state_posts = Gauge("shaobing_stream_repost_state_posts",
                                        "Posts held in the repost sequencer's in-memory state (within its horizon)",
                                        registry=registry)
        self.commit_reseeks = Counter("shaobing_stream_commit_reseeks_total",
                                      "Partitions sought back to their committed offset because a hole in the acks "
                                      "stopped the commit (streams.commit_watch)", registry=registry)
        self.analyze_cpu = Counter("shaobing_stream_analyze_cpu_seconds_total",
                                   "CPU seconds the analyze stage's thread spent in analyze() and the text "
                                   "preparation it is handed (thread time: beside the process's CPU seconds, "
                                   "what share of the worker the analysis itself is)", registry=registry)
        self.analysis_accelerated = Gauge("shaobing_stream_analysis_accelerated",
                                          "1 when analyze() runs its hot loops in C (streams._speedups, built at "
                                          "install); 0 when that extension is missing and they run in Python, "
                                          "about 5-6x slower (docs/benchmarks.md)", registry=registry)
        self.batch_retries = Counter("shaobing_stream_batch_retries_total",
                                     "posts.raw batches the analyze stage read again after a failure, by cause "
                                     "(kafka: the broker; error: anything else, dead-lettered record by record "
                                     "after 3 attempts)", ["cause"], registry=registry)
        for cause in ("kafka", "error"):
            self.batch_retries.labels(cause)
        for stage, outcomes in OUTCOMES.items():
            for outcome in outcomes:
                self.records.labels(stage, outcome)
            self.latency.labels(stage)
        for kind in DLQ_KINDS:
            self.dead_letters.labels({"index": "index", "processing": "analyze"}.get(kind, "validate"), kind)

    def observe_indexed(self, documents: Iterable[Mapping], now: datetime, rejected: Iterable[tuple] = ()) -> None:
        """Freshness of the posts index documents just written (ISO `published_at`/`crawled_at`);
        the (post_id, reason) pairs Elasticsearch rejected are left out; a publication time in the
        future counts as 0."""
        refused = {post_id for post_id, _ in rejected}
        for doc in documents:
            if doc["post_id"] in refused:
                continue
            for field, histogram in self._freshness:
                histogram.observe(max(0.0, (now - datetime.fromisoformat(doc[field])).total_seconds()))


class TableSizes:
    """A prometheus Collector: keys held in each table of this worker, read at scrape time
    (bounded state is a promise of docs/architecture.md; this shows whether it holds)."""

    def __init__(self, tables: Mapping[str, object]):
        self.tables = dict(tables)

    def collect(self):
        family = GaugeMetricFamily("shaobing_stream_table_keys", "Keys in each table of this worker (its partitions)",
                                   labels=["table"])
        for name, table in self.tables.items():
            family.add_metric([name], len(table))
        yield family
