"""Crawl rate and re-crawl skip share against the local demo web (docs/benchmarks.md, ## Crawling).

Runs the production path (run_crawl: Scrapy's asyncio reactor, the http11 handler, the seen and
Kafka pipelines) in loop mode against a demo web whose scenario clock runs `--speed` times faster
than the wall clock. By default the producer is a null one (measures crawling, not Kafka); pass
`--kafka-topic T` to produce to the real broker from Settings.kafka_servers instead.

    .venv/bin/python bench/crawl_bench.py --history 14400 --rounds 4 --interval 1 --speed 60
    .venv/bin/python bench/crawl_bench.py --source demo-discuz [--no-discuz-api]     # one kind
    .venv/bin/python bench/crawl_bench.py --source demo-news-list
"""
from __future__ import annotations

import argparse
import json
import logging
import tempfile

from crawlers.runner import run_crawl
from infra.demo_web import Scenario, start_demo_web
from shaobing.settings import load_settings


class _Acked:
    def add_callback(self, fn, *args):
        fn(*args, None)
        return self

    def add_errback(self, fn, *args):
        return self


class NullProducer:
    def __init__(self, settings):
        pass

    def send(self, topic, key=None, value=None):
        return _Acked()

    def flush(self, timeout=None):
        pass

    def close(self, timeout=None):
        pass


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--history", type=float, default=4 * 3600.0)
    p.add_argument("--speed", type=float, default=60.0)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--interval", type=float, default=1.0)
    p.add_argument("--kafka-topic", default=None)
    p.add_argument("--source", action="append", default=None, metavar="NAME",
                   help="crawl only this source (repeatable; default: every enabled one)")
    p.add_argument("--no-discuz-api", action="store_true", help="the demo's Discuz! forum without its mobile API")
    p.add_argument("--url", default=None, help="an already running demo web (`python -m infra.demo_web`); "
                   "default: one in a thread of this process, which shares the GIL with the crawl")
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    scenario = Scenario(seed=args.seed, speed=args.speed, surge_at_s=120.0, history_s=args.history,
                        discuz_api=not args.no_discuz_api)
    url, stop = (args.url, lambda: None) if args.url else start_demo_web(scenario=scenario)
    rounds: list[dict] = []
    overrides = {"KAFKA_TOPIC": args.kafka_topic} if args.kafka_topic else None
    try:
        run_crawl(load_settings(), args.source, once=False, interval_s=args.interval, base_url=url,
                  state_dir=tempfile.mkdtemp(prefix="crawl-bench-"), max_rounds=args.rounds,
                  producer_factory=None if args.kafka_topic else NullProducer, overrides=overrides,
                  on_round=lambda s: rounds.append({k: v for k, v in s.items() if k != "sources"}))
    finally:
        stop()
    full = rounds[0]["pages_fetched"]
    for i, r in enumerate(rounds):
        if i:
            r["skip_share_vs_full"] = round(1 - r["pages_fetched"] / full, 3)
        print(json.dumps({"round": i + 1, **r}, ensure_ascii=False))
    print(json.dumps({"posts_total": None if args.url else scenario.ground_truth().total_unique,
                      "posts_crawled": sum(r["posts_new"] for r in rounds)}))


if __name__ == "__main__":
    main()
