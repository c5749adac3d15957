"""Crawler metrics, declared once: `shaobing_crawler_*`, labelled by source (and outcome / rule).

Filled from each crawl round's per-source summary, so the spiders stay free of metric code.
`CrawlerMetrics(registry)` takes a registry (tests pass a fresh CollectorRegistry). Reads no settings.
"""
from __future__ import annotations

import time

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

from crawlers.watchdog import COUNT_RULES

WATCHDOG_RULES = ("source_quiet", "source_extraction", "source_errors", *COUNT_RULES)


class CrawlerMetrics:
    def __init__(self, registry: CollectorRegistry = REGISTRY):
        self.pages = Counter("shaobing_crawler_pages_total", "Pages requested, by outcome (fetched / not_modified).",
                             ["source", "outcome"], registry=registry)
        self.posts = Counter("shaobing_crawler_posts_total",
                             "Posts by outcome: extracted from pages, new (acknowledged by Kafka), seen (skipped), "
                             "rejected (too large for Kafka: dead-lettered).",
                             ["source", "outcome"], registry=registry)
        self.fields_empty = Counter("shaobing_crawler_fields_empty_total",
                                    "Required fields that came out empty or unreadable.", ["source"], registry=registry)
        self.errors = Counter("shaobing_crawler_errors_total",
                              "Failed fetches, parse errors and posts not acknowledged by Kafka.", ["source"],
                              registry=registry)
        self.last_new_post = Gauge("shaobing_crawler_last_new_post_timestamp_seconds",
                                   "Unix time of the last round that delivered a new post.", ["source"],
                                   registry=registry)
        self.last_success = Gauge("shaobing_crawler_last_success_timestamp_seconds",
                                  "Unix time of the last round in which the source answered without an error "
                                  "(the crawler's start until then).",
                                  ["source"], registry=registry)
        self.rounds = Counter("shaobing_crawler_rounds_total", "Crawl rounds finished.", registry=registry)
        self.last_round = Gauge("shaobing_crawler_last_round_timestamp_seconds",
                                "Unix time the last crawl round finished.", registry=registry)
        self.round_duration = Histogram("shaobing_crawler_round_duration_seconds", "Wall time of one crawl round.",
                                        buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300), registry=registry)
        self.watchdog = Gauge("shaobing_crawler_watchdog_firing", "1 while a watchdog rule fires for a source.",
                              ["source", "rule"], registry=registry)

    def init_sources(self, names: list[str], started_unix: float | None = None) -> None:
        """Touch every label value so graphs show zeros from the start. The last-success time
        starts at the crawler's start, so a source that never answers is flagged once the alert
        rule's silence has passed, not from the first second."""
        started_unix = time.time() if started_unix is None else started_unix
        for name in names:
            self.last_success.labels(name).set(started_unix)
            for outcome in ("fetched", "not_modified"):
                self.pages.labels(name, outcome)
            for outcome in ("extracted", "new", "seen", "rejected"):
                self.posts.labels(name, outcome)
            self.fields_empty.labels(name)
            self.errors.labels(name)
            for rule in WATCHDOG_RULES:
                self.watchdog.labels(name, rule).set(0)

    def observe_round(self, summary: dict, now_unix: float) -> None:
        self.round_duration.observe(summary.get("elapsed_s", 0.0))
        self.rounds.inc()
        self.last_round.set(now_unix)
        for name, s in summary.get("sources", {}).items():
            self.pages.labels(name, "fetched").inc(s["pages_fetched"])
            self.pages.labels(name, "not_modified").inc(s["pages_not_modified"])
            self.posts.labels(name, "extracted").inc(s["posts_extracted"])
            self.posts.labels(name, "new").inc(s["posts_new"])
            self.posts.labels(name, "seen").inc(s["posts_seen"])
            self.posts.labels(name, "rejected").inc(s.get("posts_rejected", 0))
            self.fields_empty.labels(name).inc(s["fields_empty"])
            self.errors.labels(name).inc(s["errors"])
            if s["posts_new"]:
                self.last_new_post.labels(name).set(now_unix)
            if not s["errors"] and s["pages_fetched"] + s["pages_not_modified"]:
                self.last_success.labels(name).set(now_unix)

    def set_firing(self, source: str, rules: set[str]) -> None:
        for rule in WATCHDOG_RULES:
            self.watchdog.labels(source, rule).set(1 if rule in rules else 0)
