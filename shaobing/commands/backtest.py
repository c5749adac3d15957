"""`shaobing backtest`: replay the surge detector over a count series (CSV) or over mention counts
already in Elasticsearch, causally, and write `timestamp,is_alert,score` for every input row.
Reads Settings.rules_file (surge parameters) and, with --index, Settings.elasticsearch_url."""
from __future__ import annotations

import csv
import os
import sys
from datetime import datetime, timezone
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("backtest", help="回测突增检测 / replay the surge detector over a series")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--series", type=Path, help="CSV of timestamp,value (counts per bucket; a jittered clock and gaps are handled as alerting/backtest.py documents)")
    src.add_argument("--index", action="store_true", help="read mention counts for --subject from Elasticsearch")
    p.add_argument("--out", type=Path, required=True, help="where to write timestamp,is_alert,score")
    p.add_argument("--rules", type=Path, help="rules YAML (default: SHAOBING_RULES_FILE or the packaged rules)")
    p.add_argument("--mark", choices=["onset", "active"], default="onset",
                   help="1 where an alert is sent (onset, default) or while it stays open (active)")
    p.add_argument("--subject", help="with --index: the subject (watch term / entity) to replay")
    p.add_argument("--since", help="with --index: start, ISO 8601 (no zone = Asia/Shanghai)")
    p.add_argument("--until", help="with --index: end (default now)")
    p.add_argument("--interval", type=int, default=None, metavar="SECONDS",
                   help="bucket size: with --series, instead of inferring it from the whole file (the one thing "
                        "read ahead: with it given, every row sees only rows before it); with --index, default 60")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run)


def _progress(total: int, enabled: bool):
    if not enabled or total < 5000:
        return None

    def show(done: int) -> None:
        width = 30
        filled = width * done // total
        sys.stderr.write(f"\r回测 [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        sys.stderr.flush()
    return show


def _index_rows(args, settings, interval: int):
    from elasticsearch import exceptions as es_errors

    from alerting.backtest import histogram_query, parse_time, rows_from_histogram

    if not args.subject or not args.since:
        raise ValueError("--index needs --subject and --since")
    start = parse_time(args.since)
    end = parse_time(args.until) if args.until else datetime.now(timezone.utc)
    body = histogram_query(args.subject, start, end, interval)
    from shaobing.connections import es_client

    try:
        with es_client(settings, request_timeout=60) as es:
            response = es.search(index=settings.alias("posts"), body=body)
    except (es_errors.ApiError, es_errors.TransportError) as exc:
        raise ValueError(f"Elasticsearch {settings.es_url_display}: {type(exc).__name__}") from None
    return rows_from_histogram(dict(response))


def _check_out(args) -> None:
    """An --out that cannot be written is an error now, before the replay; nothing is created or
    truncated until the replay has succeeded (a failed or interrupted run leaves the old result)."""
    out = args.out
    if out.is_dir():
        raise ValueError(f"--out {out}: is a directory; name the output file")
    if args.series and out.exists() and out.resolve() == args.series.resolve():
        raise ValueError(f"--out {out}: is the series itself; write the result elsewhere")
    folder = out.parent          # Path("o.csv").parent is Path(".")
    if not folder.is_dir():
        raise ValueError(f"--out {out}: no folder {folder}")
    if not os.access(out if out.exists() else folder, os.W_OK):
        raise ValueError(f"--out {out}: not writable")


def _series_rows(path: Path, backtest) -> list:
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            return backtest.parse_series(fh, str(path))
    except UnicodeDecodeError:
        raise backtest.SeriesError(f"{path}: not UTF-8; save it as UTF-8 (e.g. iconv -f GBK -t UTF-8)") from None


def run(args, settings) -> int:
    from alerting import backtest
    from alerting.errors import RulesError
    from alerting.rules import load_rules

    try:
        if args.interval is not None and args.interval < 1:
            raise ValueError(f"--interval {args.interval}: must be at least 1 second")
        _check_out(args)   # before minutes of replay; the file itself is written only after it
        rules = load_rules(args.rules or settings.rules_file)
        if args.index:
            interval = args.interval or 60
            rows, name = _index_rows(args, settings, interval), f"index:{args.subject}"
        else:
            rows, name = _series_rows(args.series, backtest), str(args.series)
            interval = args.interval or backtest.infer_interval(rows, name)
        params = backtest.scaled_params(rules.spec.surge, interval)
        show = _progress(len(rows), not args.no_progress and sys.stderr.isatty())
        scores: list[float] = []
        flags = backtest.run(rows, params, args.mark, show, scores, name=name)
        if show:
            show(len(rows))
            sys.stderr.write("\n")
        with args.out.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(["timestamp", "is_alert", "score"])
            writer.writerows((row.raw, flag, score) for row, flag, score in zip(rows, flags, scores))
    except (OSError, RulesError, backtest.SeriesError, ValueError) as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 2
    print(f"{len(rows)} 行，间隔 {interval}s，窗口 {params.window_buckets} 桶，基线 {params.baseline_buckets} 桶；"
          f"告警 {sum(flags)} 行 -> {args.out}")
    return 0
