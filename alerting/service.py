"""Assemble the alerting service from Settings and the rules file, for the stream worker.

    rules = load_rules(settings.rules_file)
    alerter = build_alerter(rules, settings)
    results = await alerter.handle(surge, table, now=now)   # table: Faust table keyed by subject
    results = await alerter.tick(table, now=now)            # timers: repeats, resolve, escalation

`table` is any mutable mapping subject -> state dict (a Faust table in the worker, a dict in tests).
Reads Settings.state_dir (silences and acks file) and Settings.rules_file (via load_rules).
"""
from __future__ import annotations

from datetime import datetime

import httpx

from alerting.channels.factory import build_channels
from alerting.delivery import Deliverer, DeliveryResult, RetryPolicy
from alerting.dispatcher import Dispatcher
from alerting.metrics import AlertingMetrics, default_metrics
from alerting.rules import Rules, load_rules
from alerting.state import MappingStore
from streams.records import Surge

__all__ = ["Alerter", "build_alerter", "load_rules"]


class Alerter:
    def __init__(self, rules: Rules, dispatcher: Dispatcher, store: MappingStore):
        self.rules, self.dispatcher, self._store = rules, dispatcher, store

    async def handle(self, surge: Surge, table, *, now: datetime) -> list[DeliveryResult]:
        self._store.table = table
        return await self.dispatcher.dispatch(surge, now=now)

    async def tick(self, table, *, now: datetime) -> list[DeliveryResult]:
        self._store.table = table
        return await self.dispatcher.tick(now=now)


def retry_policy(rules: Rules) -> RetryPolicy:
    r = rules.spec.retry
    return RetryPolicy(timeout_s=r.timeout, deadline_s=r.deadline, first_backoff_s=r.first_backoff,
                       max_backoff_s=r.max_backoff)


def build_alerter(rules: Rules, settings=None, *, client: httpx.AsyncClient | None = None,
                  metrics: AlertingMetrics | None = None, deliverer: Deliverer | None = None) -> Alerter:
    metrics = metrics or default_metrics()
    channels = build_channels(rules.spec.channels)
    deliverer = deliverer or Deliverer(client or httpx.AsyncClient(), metrics, policy=retry_policy(rules))
    store = MappingStore({})

    def muted(alert: dict, now: datetime) -> str | None:
        return "quiet_hours" if rules.quiet(alert, now) else None

    dispatcher = Dispatcher(router=rules.router, channels=channels, store=store, deliverer=deliverer,
                            metrics=metrics, muted=muted)
    return Alerter(rules, dispatcher, store)
