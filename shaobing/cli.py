"""The `shaobing` command: one entry point that builds Settings and dispatches subcommands."""
from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

from shaobing import commands

from shaobing.settings import SettingsError, load_settings


def _stack(args, settings) -> int:
    from infra.stack import Stack

    if args.brokers is not None:
        try:
            settings = load_settings(namespace=settings.namespace, kafka_brokers=args.brokers)
        except SettingsError as exc:
            print(f"错误 / error: {exc}", file=sys.stderr)
            return 2
    stack = Stack(settings)
    if args.action == "up":
        stack.up()
        if args.with_prometheus:
            stack.prometheus.up()
        return 0
    if args.action == "down":
        stack.down()
        return 0
    if args.action == "prune":
        from infra.prune import prune

        if args.older_than < 1:       # a run of this hour may still be writing
            print(f"错误 / error: --older-than {args.older_than:g}: at least 1 hour", file=sys.stderr)
            return 2
        prune(settings, older_than_s=args.older_than * 3600, dry_run=args.dry_run)
        return 0
    statuses = stack.status()
    for st in statuses:
        state = f"running (pid {st.pid})" if st.pid else "stopped"
        print(f"{st.name:<14} {state:<22} {'healthy' if st.healthy else 'unhealthy':<10} {st.detail}")
    return 0 if all(s.healthy for s in statuses) else 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shaobing", description="舆情哨兵 — real-time public-opinion monitoring")
    parser.add_argument("--namespace", default=None,
                        help="work in this namespace (topics, indices, worker id); same as SHAOBING_NAMESPACE")
    sub = parser.add_subparsers(dest="command", required=True)

    stack = sub.add_parser("stack", help="the local Kafka + Elasticsearch stack")
    stack.add_argument("action", choices=["up", "down", "status", "prune"],
                       help="prune: delete the namespaces tests, benchmarks and one-shot demos left behind "
                            "(infra/prune.py) once older than --older-than")
    stack.add_argument("--older-than", type=float, default=6.0, metavar="HOURS",
                       help="with prune: only namespaces whose last write is older than this (at least 1; default 6)")
    stack.add_argument("--dry-run", action="store_true", help="with prune: list, delete nothing")
    stack.add_argument("--with-prometheus", action="store_true",
                       help="with up: also run Prometheus on 127.0.0.1:SHAOBING_PROMETHEUS_PORT (the operators' view)")
    stack.add_argument("--brokers", type=int, choices=range(1, 6), default=None, metavar="N",
                       help="Kafka brokers on loopback (1-5; default SHAOBING_KAFKA_BROKERS or 1): 3 gives "
                            "replication factor 3, min.insync.replicas 2")
    stack.set_defaults(func=_stack)

    # each module in shaobing/commands exposes register(subparsers) and sets its own func
    for info in pkgutil.iter_modules(commands.__path__):
        importlib.import_module(f"shaobing.commands.{info.name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(**({"namespace": args.namespace} if args.namespace is not None else {}))
    except SettingsError as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # kafka-python logs every connection at INFO; keep operators' consoles readable
    for noisy in ("httpx", "elastic_transport"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    # kafka-python logs every refused connection at ERROR while a broker starts; its failures
    # reach us as exceptions, which the commands report themselves
    logging.getLogger("kafka").setLevel(logging.DEBUG if settings.log_level == "DEBUG" else logging.CRITICAL)
    from infra.errors import StackError

    try:
        return args.func(args, settings)
    except StackError as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
