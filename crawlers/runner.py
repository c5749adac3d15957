"""Running crawls: `crawl_once` (a coroutine: every selected source once, in parallel, on the
running loop) and `run_crawl` (the blocking entry point for a process of its own: installs
Scrapy's asyncio reactor, crawls once or in a loop on each source's schedule, returns the last
summary). Reads the Settings it is given (kafka_servers, state_dir)."""
from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from kafka.errors import KafkaError
from scrapy.crawler import AsyncCrawlerRunner, Crawler

from crawlers import stats as S
from crawlers.errors import SourceConfigError
from crawlers.metrics import CrawlerMetrics
from crawlers.pipelines.kafka import send_records
from crawlers.settings import crawler_settings, reactorless_settings
from crawlers.sources import load_sources
from crawlers.spiders import SPIDERS
from crawlers.state import CrawlState
from crawlers.watchdog import Watchdog, to_surge
from streams.topics import POSTS_DLQ, POSTS_RAW, SURGES

log = logging.getLogger(__name__)


def select_sources(names: list[str] | None, sources_file: Path | str | None = None,
                   base_url: str | None = None) -> list:
    """The named sources (every enabled one when none are named), with base_url overridden if given."""
    available = load_sources(sources_file)
    unknown = [n for n in names or [] if n not in available]
    if unknown:
        raise SourceConfigError(f"unknown source(s) {', '.join(unknown)}; known: {', '.join(available)}")
    chosen = names or [n for n, s in available.items() if s.enabled]
    return [available[n].with_base_url(base_url) for n in chosen]


async def crawl_once(sources: list, state_dir: Path | str, kafka_servers: str = "", producer_factory=None,
                     overrides: dict | None = None, reactorless: bool = False) -> dict:
    """Crawl each source once; returns the summed summary plus one summary per source."""
    runner = AsyncCrawlerRunner(reactorless_settings if reactorless else {})
    crawlers: dict[str, Crawler] = {}
    states = {s.name: CrawlState.for_source(state_dir, s.name) for s in sources}
    started = time.monotonic()
    try:
        for source in sources:
            settings = crawler_settings(source, kafka_servers, producer_factory, overrides, reactorless)
            crawler = crawlers[source.name] = Crawler(SPIDERS[source.kind], settings)
            runner.crawl(crawler, source=source, state=states[source.name])
        await runner.join()
    finally:
        for state in states.values():
            state.close()
    elapsed = time.monotonic() - started
    per_source = {name: S.summary(c.stats.get_stats()) for name, c in crawlers.items()}
    total = S.merge(list(per_source.values()))
    pages = total.get("pages_fetched", 0) + total.get("pages_not_modified", 0)
    return {**total, "elapsed_s": round(elapsed, 3), "pages_per_s": round(pages / elapsed, 1) if elapsed else 0.0,
            "sources": per_source}


def due_in(source, interval_s: float | None = None, event_mode: bool = False) -> float:
    """Seconds until a source is crawled again: the override, else its schedule (faster in event mode)."""
    if interval_s:
        return interval_s
    if event_mode and source.schedule.event_interval_s:
        return source.schedule.event_interval_s
    return source.schedule.interval_s


async def watch_round(summary: dict, metrics: CrawlerMetrics | None, watchdog: Watchdog | None,
                       alerts_settings, surges_topic: str = SURGES.name) -> None:
    """After a round: update metrics, run the watchdog, produce its findings to `surges`."""
    now = datetime.now(timezone.utc)
    if metrics:
        metrics.observe_round(summary, now.timestamp())
    if not watchdog:
        return
    findings = [f for name, s in summary["sources"].items() for f in watchdog.observe(name, s, now)]
    summary["watchdog"] = [{"source": f.source, "rule": f.rule, "status": f.status, "detail": f.detail}
                           for f in findings]
    for f in findings:
        log.warning("信息源告警 / source watchdog: source=%s rule=%s status=%s %s", f.source, f.rule, f.status, f.detail)
        if metrics:
            metrics.set_firing(f.source, watchdog.firing(f.source))
    if findings and alerts_settings is not None:
        records = [(s.subject.encode("utf-8"), s.to_bytes()) for s in (to_surge(f, now) for f in findings)]
        try:
            await asyncio.to_thread(send_records, alerts_settings, surges_topic, records)
        except (KafkaError, OSError, ValueError) as exc:
            log.error("信息源告警未能发送 / watchdog alert not produced: %s", exc.__class__.__name__)


def run_crawl(settings, sources: list[str] | None = None, *, once: bool = True, interval_s: float | None = None,
              base_url: str | None = None, sources_file: Path | str | None = None,
              state_dir: Path | str | None = None, producer_factory=None, overrides: dict | None = None,
              max_rounds: int | None = None, on_round: Callable[[dict], None] | None = None,
              metrics: CrawlerMetrics | None = None, watchdog: Watchdog | None = None,
              event_mode: bool | Callable[[], bool] = False) -> dict:
    """Crawl in this process under Scrapy's asyncio reactor (once per process: the reactor cannot
    restart). Loop mode re-crawls each source when its interval is due; returns the last summary.
    `overrides` are Scrapy settings layered over every source's (e.g. {"KAFKA_TOPIC": ...}).
    After each round the metrics are updated and the watchdog's findings are produced to `surges`.
    `event_mode` (重大活动期间) uses each source's event_interval_s."""
    selected = select_sources(sources, sources_file, base_url)
    namespaced = getattr(settings, "topic", None)
    if namespaced is not None:     # SHAOBING_NAMESPACE: produce to the namespace's posts.raw
        overrides = {"KAFKA_TOPIC": namespaced(POSTS_RAW.name), "KAFKA_DLQ_TOPIC": namespaced(POSTS_DLQ.name),
                     **(overrides or {})}
    if getattr(settings, "kafka_security_protocol", None):     # TLS / SASL for the producer
        from shaobing.connections import kafka_python_options

        overrides = {"KAFKA_CLIENT_OPTIONS": kafka_python_options(settings), **(overrides or {})}
    state_dir = Path(state_dir) if state_dir else Path(settings.state_dir) / "crawl"
    from scrapy.utils.defer import deferred_from_coro
    from scrapy.utils.reactor import install_reactor

    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
    from twisted.internet import reactor

    outcome: dict = {}
    if metrics:
        metrics.init_sources([s.name for s in selected])
    # the watchdog's surges go through the same producer factory; with no Kafka configured they are only logged
    alerts_settings = (crawler_settings(selected[0], settings.kafka_servers, producer_factory, overrides)
                       if settings.kafka_servers or producer_factory else None)

    async def loop() -> None:
        due = {s.name: 0.0 for s in selected}
        rounds = 0
        while True:
            now = time.monotonic()
            batch = [s for s in selected if due[s.name] <= now]
            summary = await crawl_once(batch, state_dir, settings.kafka_servers, producer_factory, overrides)
            for s in batch:
                # event_mode may be a callable: the rules file's major-event windows, asked each round
                due[s.name] = now + due_in(s, interval_s, event_mode() if callable(event_mode) else event_mode)
            await watch_round(summary, metrics, watchdog, alerts_settings,
                              settings.topic(SURGES.name) if namespaced else SURGES.name)
            outcome["summary"] = summary
            rounds += 1
            if on_round:
                on_round(summary)
            if once or (max_rounds and rounds >= max_rounds):
                return
            await asyncio.sleep(max(0.0, min(due.values()) - time.monotonic()))

    def finish(result):
        if hasattr(result, "value"):           # a twisted Failure: keep it to raise after the reactor stops
            outcome["error"] = result.value
        if reactor.running:
            reactor.stop()

    reactor.callWhenRunning(lambda: deferred_from_coro(loop()).addBoth(finish))
    reactor.run()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("summary", {})
