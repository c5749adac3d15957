"""`shaobing ops-receiver`: receive Alertmanager's webhook (operator alerts from Prometheus) and
forward it to duty channels of the rules file (SHAOBING_RULES_FILE). Serves /metrics like every
shaobing process (SHAOBING_METRICS_PORT) and announces it to Prometheus."""
from __future__ import annotations

import sys
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("ops-receiver", help="运维告警转发 / forward Alertmanager alerts to the duty channels")
    p.add_argument("--listen", default="127.0.0.1:9097", metavar="HOST:PORT",
                   help="where Alertmanager's webhook_config POSTs /alerts (default 127.0.0.1:9097; port 0 = any)")
    p.add_argument("--channel", action="append", default=[], metavar="NAME",
                   help="channel of the rules file to forward to (repeatable; default: the default route's channels)")
    p.add_argument("--token-file", type=Path, default=None,
                   help="require `Authorization: Bearer <token>` (Alertmanager http_config.authorization)")
    p.set_defaults(func=run)


def pick_channels(rules, names: list[str]) -> list:
    """The channel specs to forward to; unknown names are an error naming the known ones."""
    specs = {c.name: c for c in rules.spec.channels}
    wanted = names or list(rules.spec.default_route.channels)
    unknown = [n for n in wanted if n not in specs]
    if unknown:
        raise ValueError(f"unknown channel(s) {', '.join(unknown)} in {rules.path}; known: {', '.join(specs)}")
    return [specs[n] for n in wanted]


def run(args, settings) -> int:
    import asyncio
    import logging

    import httpx
    from aiohttp import web

    from alerting.channels.factory import build_channels
    from alerting.delivery import Deliverer
    from alerting.errors import AlertingError
    from alerting.metrics import default_metrics
    from alerting.ops_receiver import OpsForwarder, build_app
    from alerting.ratelimit import limiter_for
    from alerting.redact import protect
    from alerting.service import load_rules, retry_policy
    from shaobing.telemetry import serve_metrics

    host, _, port = args.listen.rpartition(":")
    if not host or not port.isdigit():
        print(f"错误 / error: --listen {args.listen!r} is not HOST:PORT", file=sys.stderr)
        return 2
    try:
        rules = load_rules(settings.rules_file)
        specs = pick_channels(rules, args.channel)
        channels = build_channels(specs)
        token = args.token_file.read_text(encoding="utf-8").strip() if args.token_file else ""
    except (AlertingError, ValueError, OSError) as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 2
    protect(token)
    metrics = default_metrics()
    limiters = {s.name: lim for s in specs if (lim := limiter_for(s.type, s.per_minute)) is not None}
    metrics_port = serve_metrics(settings, "ops-receiver")

    async def main() -> None:
        async with httpx.AsyncClient() as client:
            forwarder = OpsForwarder(channels, Deliverer(client, metrics, policy=retry_policy(rules)), metrics, limiters)
            runner = web.AppRunner(build_app(forwarder, token))
            await runner.setup()
            site = web.TCPSite(runner, host, int(port))
            await site.start()
            bound = runner.addresses[0][1]
            logging.getLogger("shaobing.ops").info("ops receiver on http://%s:%d/alerts -> %s; metrics on %d",
                                                   host, bound, ",".join(channels), metrics_port)
            print(f"OPS_RECEIVER=http://{host}:{bound}/alerts", flush=True)
            try:
                await asyncio.Event().wait()
            finally:
                await runner.cleanup()

    asyncio.run(main())
    return 0
