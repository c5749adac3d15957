"""`shaobing demo`: the whole pipeline live against the demo web; `--once` runs the scenario to
the end without the live view and prints one JSON summary as its last line."""
from __future__ import annotations

import json
import sys
from datetime import datetime, timezone


def register(sub) -> None:
    p = sub.add_parser("demo", help="演示：从抓取到值班告警的完整流程 / run the whole pipeline on the demo web")
    p.add_argument("--once", action="store_true", help="run the scenario to the end, print a JSON summary, exit")
    p.add_argument("--workers", type=int, default=1, help="number of worker processes (default 1)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--surge-at", type=float, default=45.0, help="scenario seconds until the surge")
    p.add_argument("--surge-span", type=float, default=90.0, help="scenario seconds the surge lasts")
    p.add_argument("--history", type=float, default=1800.0, help="scenario seconds of chatter online at start")
    p.add_argument("--tail", type=float, default=30.0, help="scenario seconds after the surge")
    p.add_argument("--crawl-interval", type=float, default=5.0, help="seconds between crawl rounds")
    p.add_argument("--timeout", type=float, default=600.0, help="with --once: give up after this many seconds")
    p.set_defaults(func=run)


def run(args, settings) -> int:
    from shaobing.demo import DemoConfig, run_demo

    if not settings.namespace:
        # the demo never writes to the default namespace: --once gets a fresh one per run, the
        # live demo reuses `demo` and resets it, so the scenario's post ids start unseen
        ns = "demo-" + datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S") if args.once else "demo"
        settings = settings.model_copy(update={"namespace": ns})
    config = DemoConfig(seed=args.seed, surge_at_s=args.surge_at, surge_span_s=args.surge_span, history_s=args.history,
                        tail_s=args.tail, crawl_interval_s=args.crawl_interval, workers=args.workers, once=args.once,
                        timeout_s=args.timeout, reset=not args.once)
    echo = (lambda line: print(line, file=sys.stderr, flush=True)) if args.once else (lambda line: print(line, flush=True))
    if not args.once:
        print(f"舆情哨兵演示 / shaobing demo — Ctrl-C 停止 / to stop.\n"
              f"另开终端检索 / search from another terminal:  .venv/bin/shaobing --namespace {settings.namespace} search 化工厂",
              flush=True)
    try:
        summary = run_demo(settings, config, echo)
    except KeyboardInterrupt:
        print("\n已停止 / stopped", flush=True)
        return 130
    except (RuntimeError, TimeoutError) as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(summary, ensure_ascii=False), flush=True)
    return 0 if summary.get("alerts_delivered", 0) > 0 and "error" not in summary else 1
