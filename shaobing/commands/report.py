"""`shaobing report --period daily|shift|weekly [--date D] [--until ISO] --format md|html|docx --out FILE`:
a 《舆情摘报》 from the namespace's index (convention in indexer/reports/model.py: a report ends at
08:00 Asia/Shanghai of --date). Reads Settings (Elasticsearch URL, namespace, state dir, report_unit)."""
from __future__ import annotations

import asyncio
import sys
from datetime import date, datetime, timezone
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("report", help="舆情摘报 / a daily, shift or weekly report (md, html, docx)")
    p.add_argument("--period", choices=["daily", "shift", "weekly"], default="daily")
    p.add_argument("--date", type=date.fromisoformat, help="the report ends at 08:00 (Asia/Shanghai) of this day")
    p.add_argument("--until", type=datetime.fromisoformat, help="end of the period, ISO 8601 (Asia/Shanghai if no offset)")
    p.add_argument("--format", choices=["md", "html", "docx"], default="md")
    p.add_argument("--out", type=Path, required=True, help="file to write (- for stdout, md/html only)")
    p.set_defaults(func=run)


async def _build(settings, period):
    from console.duty import Duty
    from indexer.reports.gather import report_for
    from shaobing.connections import async_es_client

    duty = Duty(settings)
    try:
        acks = duty.acks()
    finally:
        duty.close()
    es = async_es_client(settings)
    try:
        return await report_for(es, settings, period, acks)
    finally:
        await es.close()


def run(args, settings) -> int:
    from elasticsearch import ApiError, TransportError

    from indexer.reports.model import report_period
    from indexer.reports.render import RENDERERS

    period = report_period(args.period, day=args.date, until=args.until, now=datetime.now(timezone.utc))
    from alerting.errors import AlertingError

    try:
        report = asyncio.run(_build(settings, period))
    except AlertingError as exc:       # acks unreadable (Kafka down, topic missing): say so
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 1
    except (ApiError, TransportError) as exc:
        print(f"错误 / error: reading {settings.elasticsearch_url} failed: {exc}", file=sys.stderr)
        return 1
    body = RENDERERS[args.format](report)
    if str(args.out) == "-":
        if isinstance(body, bytes):
            print("错误 / error: --out - (stdout) is for md and html only", file=sys.stderr)
            return 2
        sys.stdout.write(body)
        return 0
    if isinstance(body, bytes):
        args.out.write_bytes(body)
    else:
        args.out.write_text(body, encoding="utf-8")
    print(f"已生成 / wrote {args.out} ({report.title}, {report.overview.total} 条, {len(report.events)} 个重点事件)")
    return 0
