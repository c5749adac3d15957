"""`shaobing crawl`: crawl sources once (`--once`) or on their schedule (`--loop`), producing to
posts.raw; prints one JSON summary line per round, the last line being the final summary.
Reads Settings.kafka_servers and Settings.state_dir (crawl state goes to <state_dir>/crawl)."""
from __future__ import annotations

import json
import logging
import sys


def _print_round(summary: dict) -> None:
    print(json.dumps(summary, ensure_ascii=False), flush=True)


def _crawl(args, settings) -> int:
    from alerting.errors import RulesError
    from crawlers.errors import SourceConfigError
    from crawlers.metrics import CrawlerMetrics
    from crawlers.runner import run_crawl
    from crawlers.watchdog import Watchdog

    if logging.getLogger().level > logging.DEBUG:
        logging.getLogger("scrapy").setLevel(logging.WARNING)   # Scrapy's INFO is a page of stats per crawl
    metrics = watchdog = None
    if args.loop:
        from shaobing.telemetry import serve_metrics

        port = settings.metrics_port if args.metrics_port is None else args.metrics_port
        try:
            bound = serve_metrics(settings, "crawler", port)
            print(f"指标 / metrics: http://127.0.0.1:{bound}/metrics", file=sys.stderr, flush=True)
        except OSError as exc:
            print(f"警告 / warning: metrics port {port} unavailable ({exc.strerror}); pass --metrics-port",
                  file=sys.stderr)
        metrics, watchdog = CrawlerMetrics(), Watchdog()
    try:
        event_mode = args.event_mode or event_windows(settings.rules_file)
    except RulesError as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 2
    try:
        summary = run_crawl(settings, args.source or None, once=not args.loop, interval_s=args.interval,
                            base_url=args.base_url, sources_file=args.sources_file, state_dir=args.state_dir,
                            max_rounds=args.max_rounds, on_round=_print_round if args.loop else None,
                            metrics=metrics, watchdog=watchdog, event_mode=event_mode)
    except SourceConfigError as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 2
    if not args.loop:
        _print_round(summary)
    return 1 if summary.get("errors") else 0


def event_windows(rules_file, clock=None):
    """A callable telling whether a major-event window of the rules file (SHAOBING_RULES_FILE,
    Asia/Shanghai times) is active now; the crawler then uses each source's event_interval_s."""
    from datetime import datetime, timezone

    from alerting.rules import load_rules

    rules = load_rules(rules_file)
    now = clock or (lambda: datetime.now(timezone.utc))
    return lambda: bool(rules.active_events(now()))


def register(subparsers) -> None:
    p = subparsers.add_parser("crawl", help="抓取信息源 / crawl sources into posts.raw",
                              description="抓取信息源并写入 posts.raw / crawl sources and produce to posts.raw")
    p.add_argument("--source", action="append", metavar="NAME", help="source name (repeatable; default: all)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="crawl once and exit (default)")
    mode.add_argument("--loop", action="store_true", help="keep crawling, each source on its interval")
    p.add_argument("--interval", type=float, default=None, metavar="S",
                   help="re-crawl interval in seconds for every source (default: each source's schedule)")
    p.add_argument("--event-mode", action="store_true",
                   help="重大活动期间: force each source's faster event_interval_s (otherwise the rules file's major_events windows switch it on and off)")
    p.add_argument("--max-rounds", type=int, default=None, metavar="N", help="with --loop: stop after N rounds")
    p.add_argument("--base-url", default=None, metavar="URL", help="override every selected source's base_url")
    p.add_argument("--sources-file", default=None, metavar="FILE", help="default: crawlers/sources.yml")
    p.add_argument("--state-dir", default=None, metavar="DIR", help="default: <SHAOBING_STATE_DIR>/crawl")
    p.add_argument("--metrics-port", type=int, default=None, metavar="N",
                   help="with --loop: serve /metrics here (default: SHAOBING_METRICS_PORT; 0 = any free port)")
    p.set_defaults(func=_crawl)
