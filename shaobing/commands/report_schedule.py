"""`shaobing report-schedule [--once] [--every S]`: send the scheduled 《舆情摘报》 (daily at
08:00 Asia/Shanghai; shift reports at 08:00/20:00 during the rules file's major events) to the
duty channels and archive them (indexer/reports/scheduler.py). Run one per namespace.
Reads Settings (Elasticsearch URL, namespace, rules file, state dir, report_unit)."""
from __future__ import annotations

import asyncio
import logging
import sys
from datetime import datetime, timezone

log = logging.getLogger(__name__)


def register(sub) -> None:
    p = sub.add_parser("report-schedule", help="定时摘报 / send scheduled reports to the duty channels")
    p.add_argument("--once", action="store_true", help="one pass, then exit")
    p.add_argument("--every", type=float, default=60.0, help="seconds between passes (default 60)")
    p.add_argument("--metrics-port", type=int, default=None,
                   help="serve /metrics on this port (default: none with --once, else Settings.metrics_port)")
    p.set_defaults(func=run)


async def _loop(args, settings, rules) -> int:
    import httpx
    from elasticsearch import ApiError, TransportError

    from alerting.channels.factory import build_channels
    from console.duty import Duty
    from indexer.reports.scheduler import MissingArchive, ReportScheduler, report_messages_counter
    from shaobing.connections import async_es_client

    messages = None
    if not args.once or args.metrics_port is not None:
        from shaobing.telemetry import serve_metrics

        port = settings.metrics_port if args.metrics_port is None else args.metrics_port
        try:
            serve_metrics(settings, "report-scheduler", port)
        except OSError as exc:
            print(f"警告 / warning: metrics port {port} unavailable ({exc.strerror}); pass --metrics-port", file=sys.stderr)
        messages = report_messages_counter()
    duty = Duty(settings)
    es = async_es_client(settings)
    async with httpx.AsyncClient() as client:
        try:
            scheduler = ReportScheduler(es, settings, rules, build_channels(rules.spec.channels), client,
                                        acks=duty.acks, messages=messages)
            while True:
                try:
                    for rid in await scheduler.tick(datetime.now(timezone.utc)):
                        print(f"已发送 / sent {rid}", flush=True)
                    failed = False
                except MissingArchive as exc:
                    log.error("%s", exc)
                    failed = True
                except (ApiError, TransportError) as exc:      # the class only: its text may hold the URL
                    log.warning("report pass failed (%s); next pass in %.0fs", exc.__class__.__name__, args.every)
                    failed = True
                if args.once:
                    return 1 if failed else 0
                await asyncio.sleep(args.every)
        finally:
            await es.close()
            duty.close()


def run(args, settings) -> int:
    from alerting.errors import AlertingError
    from alerting.rules import load_rules

    try:
        rules = load_rules(settings.rules_file)
    except (AlertingError, ValueError) as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_loop(args, settings, rules))
    except AlertingError as exc:       # acks unreadable (Kafka down, topic missing)
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 1
