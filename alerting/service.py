"""Assemble the alerting service from Settings and the rules file, for the stream worker.

    rules = load_rules(settings.rules_file)
    alerter = build_alerter(rules, settings)
    results = await alerter.handle(surge, table, now=now)   # table: Faust table keyed by subject
    results = await alerter.tick(table, now=now)            # timers: repeats, resolve, acks, escalation
    # neither waits for a channel: results are the deliveries that finished since the last call

`table` is any mutable mapping subject -> state dict (a Faust table in the worker, a dict in tests).
Reads Settings.control_backend (silences and acks: the Kafka topic alerts.control, or
<state_dir>/alerting/control.json), Settings.alerts_api_token_file and, through
load_rules, Settings.rules_file.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import httpx

from alerting.channels.factory import build_channels
from alerting.control import ControlStore, FileControlStore, silence_matches
from alerting.delivery import Deliverer, DeliveryResult, RetryPolicy
from alerting.dispatcher import Dispatcher
from alerting.errors import AlertingError
from alerting.links import LinkSigner
from alerting.metrics import AlertingMetrics, default_metrics
from alerting.ratelimit import limiter_for
from alerting.redact import protect
from alerting.rules import Rules, load_rules
from alerting.state import MappingStore
from streams.records import Surge

__all__ = ["Alerter", "build_alerter", "load_rules", "control_path", "control_store", "api_token", "link_signer"]


class Alerter:
    def __init__(self, rules: Rules, dispatcher: Dispatcher, store: MappingStore):
        self.rules, self.dispatcher, self._store = rules, dispatcher, store

    async def handle(self, surge: Surge, table, *, now: datetime) -> list[DeliveryResult]:
        self._store.table = table
        return await self.dispatcher.dispatch(surge, now=now)

    async def tick(self, table, *, now: datetime) -> list[DeliveryResult]:
        self._store.table = table
        return await self.dispatcher.tick(now=now)

    async def settle(self, table) -> list[DeliveryResult]:
        """Wait for the deliveries in flight and record them (tests, shutdown; the worker just ticks)."""
        self._store.table = table
        return await self.dispatcher.settle()


def control_path(settings) -> Path:
    return Path(settings.state_dir) / "alerting" / "control.json"


def control_store(settings) -> ControlStore:
    """Settings.control_backend: "kafka" (the compacted alerts.control topic, shared by every
    host) or "file" (<state_dir>/alerting/control.json, one host only)."""
    if settings.control_backend == "file":
        return FileControlStore(control_path(settings))
    from alerting.control_kafka import KafkaControlStore
    from shaobing.connections import kafka_python_options
    from streams.topics import ALERT_CONTROL

    return KafkaControlStore(settings.kafka_servers, settings.topic(ALERT_CONTROL.name),
                             options=kafka_python_options(settings))


def api_token(settings) -> str:
    """The silences API token (Settings.alerts_api_token_file), registered as a secret; '' = closed."""
    path = settings.alerts_api_token_file
    if not path:
        return ""
    try:
        token = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise AlertingError(f"SHAOBING_ALERTS_API_TOKEN_FILE {path}: cannot read ({exc.strerror})") from None
    if len(token) < 16:
        raise AlertingError(f"SHAOBING_ALERTS_API_TOKEN_FILE {path}: the token must have at least 16 characters")
    protect(token)
    return token


def link_signer(rules: Rules) -> LinkSigner:
    spec = rules.spec.links
    secret = spec.ack_secret
    if spec.ack_secret_file:
        secret = Path(spec.ack_secret_file).read_text(encoding="utf-8").strip()
    protect(secret)
    return LinkSigner(secret=secret, public_url=spec.public_url, search_url=spec.search_url, ttl_s=spec.ack_ttl)


def retry_policy(rules: Rules) -> RetryPolicy:
    r = rules.spec.retry
    return RetryPolicy(timeout_s=r.timeout, deadline_s=r.deadline, first_backoff_s=r.first_backoff,
                       max_backoff_s=r.max_backoff)


def build_alerter(rules: Rules, settings=None, *, client: httpx.AsyncClient | None = None,
                  metrics: AlertingMetrics | None = None, deliverer: Deliverer | None = None,
                  control: ControlStore | None = None) -> Alerter:
    metrics = metrics or default_metrics()
    channels = build_channels(rules.spec.channels)
    if control is None and settings is not None:
        control = control_store(settings)
    deliverer = deliverer or Deliverer(client or httpx.AsyncClient(), metrics, policy=retry_policy(rules))
    per_minute = {c.name: c.per_minute for c in rules.spec.channels}
    limiters = {name: lim for name, ch in channels.items()
                if (lim := limiter_for(ch.kind, per_minute[name], share=1 / rules.spec.workers)) is not None}

    def muted(alert: dict, now: datetime) -> str | None:
        if control and any(silence_matches(s, alert, now) for s in control.active_silences(now)):
            return "silenced"
        return "quiet_hours" if rules.quiet(alert, now) else None

    store = MappingStore({})
    dispatcher = Dispatcher(router=rules.router, channels=channels, store=store, deliverer=deliverer,
                            metrics=metrics, links=link_signer(rules), muted=muted, limiters=limiters,
                            acks=control.acks if control else None)
    return Alerter(rules, dispatcher, store)
