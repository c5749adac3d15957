"""Prometheus metrics of the stream stages, declared once. Labels are low-cardinality
(stage, outcome, kind); never a post id, subject, keyword or URL."""
from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram

OUTCOMES = {
    "validate": ("ok", "dead_letter"),
    "dedup": ("unique", "edited", "duplicate"),
    "cluster": ("new", "repost", "duplicate", "replay"),
    "index": ("indexed", "failed"),
    "fanout": ("mentions",),
    "surge": ("signal",),
    "alert": ("delivered", "suppressed", "failed"),
    "alert_history": ("written", "failed"),
}
DLQ_KINDS = ("empty", "size", "encoding", "json", "nesting", "schema", "key", "index")


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
        for stage, outcomes in OUTCOMES.items():
            for outcome in outcomes:
                self.records.labels(stage, outcome)
            self.latency.labels(stage)
        for kind in DLQ_KINDS:
            self.dead_letters.labels("validate" if kind != "index" else "index", kind)
