"""`python -m infra.demo_web --port N --seed S --speed X --surge-at S`: serve the demo web until Ctrl-C."""
from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from datetime import datetime

from infra.demo_web.scenario import Scenario
from infra.demo_web.server import serve


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m infra.demo_web", description="演示站点（论坛 + Discuz! 论坛 + 新闻网）/ the demo web")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765, help="0 = pick a free port")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--speed", type=float, default=1.0, help="scenario seconds per wall-clock second")
    p.add_argument("--surge-at", type=float, default=300.0, help="scenario seconds until the surge starts")
    p.add_argument("--history", type=float, default=3600.0, help="scenario seconds of chatter already online")
    p.add_argument("--layout-change-at", type=float, default=None,
                   help="scenario seconds after which article pages switch to a new layout (watchdog demo)")
    p.add_argument("--microblog", action="store_true", help="also serve the microblog JSON API (adds posts)")
    p.add_argument("--no-discuz-api", action="store_true", help="the Discuz! forum (/bbs/) without its mobile API")
    p.add_argument("--start", type=datetime.fromisoformat, default=None,
                   help="scenario start, ISO 8601 with offset (default: now)")
    return p


async def _main(args: argparse.Namespace) -> None:
    scenario = Scenario(seed=args.seed, start=args.start, speed=args.speed, surge_at_s=args.surge_at,
                        history_s=args.history, layout_change_at_s=args.layout_change_at, microblog=args.microblog,
                        discuz_api=not args.no_discuz_api)
    url, runner = await serve(scenario, args.host, args.port)
    # one JSON line first, so an orchestrator can read the URL when --port 0 was asked for
    print(json.dumps({"url": url, **scenario.status()}, ensure_ascii=False), flush=True)
    print(f"演示站点已启动 / demo web serving at {url}  (Ctrl-C 停止 / to stop)", file=sys.stderr, flush=True)
    stopped = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)
    try:
        await stopped.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        asyncio.run(_main(args))
    except KeyboardInterrupt:
        return 0
    except (OSError, ValueError) as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
