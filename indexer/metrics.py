"""Indexer metrics, declared once: `shaobing_index_*` for the bulk sink. Labels: outcome and the
Elasticsearch error type (a small closed set: es_rejected_execution_exception,
mapper_parsing_exception, ...), never a document id. Reads no settings."""
from __future__ import annotations

import re

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram

ITEM_OUTCOMES = ("indexed", "retried", "rejected", "superseded")


class IndexerMetrics:
    def __init__(self, registry: CollectorRegistry = REGISTRY):
        self.bulk_seconds = Histogram("shaobing_index_bulk_duration_seconds", "Time of one bulk request",
                                      registry=registry,
                                      buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
        self.bulk_requests = Counter("shaobing_index_bulk_requests_total",
                                     "Bulk requests, by outcome (ok, or error: node unreachable or 5xx)",
                                     ["outcome"], registry=registry)
        self.items = Counter("shaobing_index_bulk_items_total",
                             "Documents in bulk answers: indexed, retried (429/5xx), rejected (to the dead-letter topic)",
                             ["outcome"], registry=registry)
        self.rejections = Counter("shaobing_index_rejections_total",
                                  "Documents Elasticsearch refused (retried or not), by its error type",
                                  ["error"], registry=registry)
        for outcome in ("ok", "error"):
            self.bulk_requests.labels(outcome)
        for outcome in ITEM_OUTCOMES:
            self.items.labels(outcome)
        self.rejections.labels("es_rejected_execution_exception")


def error_label(error_type: object) -> str:
    """Elasticsearch's error type as a label value; anything that does not look like one is `other`."""
    text = str(error_type or "")
    return text if re.fullmatch(r"[a-z_]{1,60}", text) else "other"
