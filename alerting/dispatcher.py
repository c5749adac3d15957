"""The alerting entry point: Surge in, notifications out, lifecycle state persisted in between.

`Dispatcher.dispatch(surge, now=...)` is what the stream agent calls for each record on `surges`;
`Dispatcher.tick(now=...)` runs every few seconds for group flushes, repeats, auto-resolution and
escalation. A batch whose channel fails (permanently, or past the retry deadline) goes to the
route's fallback channels at once and stays due on the primary, so nothing is dropped. Reads no
settings; see alerting.build for construction from Settings and the rules file.
"""
from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Callable, Mapping

from alerting import lifecycle
from alerting.channels.base import Channel
from alerting.delivery import Deliverer, DeliveryResult
from alerting.metrics import AlertingMetrics
from alerting.model import Alert, AlertLinks
from alerting.routing import Router
from alerting.state import StateStore
from streams.records import Surge

LinkMaker = Callable[[Alert, datetime], AlertLinks]


class Dispatcher:
    def __init__(self, *, router: Router | Callable[[datetime], Router], channels: Mapping[str, Channel],
                 store: StateStore, deliverer: Deliverer, metrics: AlertingMetrics,
                 links: LinkMaker | None = None, muted: Callable[[dict, datetime], str | None] | None = None):
        """`router` may be a function of time (major-event windows change routes); `muted` returns
        why an alert is held back now ("silenced", "quiet_hours") or None."""
        self.router_at = router if callable(router) and not isinstance(router, Router) else (lambda now: router)
        self.channels, self.store = dict(channels), store
        self.deliverer, self.metrics, self.links = deliverer, metrics, links
        self.muted = muted or (lambda alert, now: None)
        self._lock = asyncio.Lock()
        metrics.init_channels(sorted(self.channels))

    async def dispatch(self, surge: Surge, *, now: datetime) -> list[DeliveryResult]:
        """Fold one surge (firing or resolved) into the lifecycle and send what is due for its subject."""
        alert = Alert.from_surge(surge)
        if self.links:
            alert = alert.model_copy(update={"links": self.links(alert, now)})
        route = self.router_at(now).route(alert)
        async with self._lock:
            state, what = lifecycle.record(self.store.load(surge.subject), alert, route, now)
            if what == "updated":
                self.metrics.suppressed.labels(reason="dedup").inc()
            self.store.save(surge.subject, state)
            return await self._flush(surge.subject, state, now)

    async def tick(self, *, now: datetime) -> list[DeliveryResult]:
        results: list[DeliveryResult] = []
        async with self._lock:
            firing = 0
            for shard in self.store.shards():
                state = lifecycle.expire(self.store.load(shard), now, self.router_at(now).by_name)
                results += await self._flush(shard, state, now)
                state = lifecycle.collect(self.store.load(shard), now)
                self.store.save(shard, state)
                firing += sum(e["status"] == "firing" for e in state["alerts"].values())
            self.metrics.firing.set(firing)
        return results

    async def acknowledge(self, key: str, *, shard: str, now: datetime, by: str = "") -> bool:
        async with self._lock:
            state = self.store.load(shard)
            if state is None:
                return False
            state, changed = lifecycle.acknowledge(state, key, now, by)
            self.store.save(shard, state)
            return changed

    async def _flush(self, shard: str, state: dict, now: datetime) -> list[DeliveryResult]:
        routes = self.router_at(now).by_name
        state, batches = lifecycle.flush(state, now, routes, lambda a: self._muted(a, now))
        batches += lifecycle.escalations(state, now, routes)
        self.store.save(shard, state)
        results = []
        for batch in batches:
            result = await self._send(batch, state, now)
            results.append(result)
            if result.ok:
                state = lifecycle.mark_sent(state, batch, now)
                self.store.save(shard, state)      # persisted per send: a restart does not re-send
                if batch.kind == "escalation":
                    self.metrics.escalations.labels(reason="unacknowledged").inc()
            elif batch.kind != "escalation":
                results += await self._fallback(shard, batch, now)
                state = self.store.load(shard)
        return results

    async def _fallback(self, shard: str, failed: lifecycle.Batch, now: datetime) -> list[DeliveryResult]:
        """The primary channel is down: send the same batch to each fallback once (deduped via nflog)."""
        route = self.router_at(now).by_name[failed.route]
        state = self.store.load(shard)
        results = []
        for channel in route.fallback:
            if channel == failed.channel:
                continue
            log = state["nflog"].get(f"{failed.group_key}|{channel}")
            if log is not None and set(log["firing"]) >= {lifecycle.episode_id(k, state["alerts"][k])
                                                           for k in failed.firing}:
                continue
            batch = lifecycle.Batch(failed.group_key, failed.route, channel, failed.kind, failed.firing,
                                    failed.resolved)
            result = await self._send(batch, state, now)
            results.append(result)
            if result.ok:
                state = lifecycle.mark_sent(state, batch, now)
                self.store.save(shard, state)
                self.metrics.escalations.labels(reason="channel_failed").inc()
        return results

    def _muted(self, alert: dict, now: datetime) -> bool:
        reason = self.muted(alert, now)
        if reason:
            self.metrics.suppressed.labels(reason=reason).inc()
        return reason is not None

    async def _send(self, batch: lifecycle.Batch, state: dict, now: datetime) -> DeliveryResult:
        channel = self.channels[batch.channel]
        keys = batch.resolved if batch.kind == "resolved" else batch.firing
        notice = batch.kind if batch.kind in ("repeat", "resolved", "escalation") else "new"
        alerts = [a.model_copy(update={"sent_at": now, "notice": notice}) for a in lifecycle.alerts_of(state, keys)]
        for alert in alerts:
            if alert.first_produced_at and alert.status == "firing":
                self.metrics.surge_to_send.observe(alert.latency_s(now) or 0.0)
        payload = channel.build_payload(alerts[0]) if len(alerts) == 1 else channel.build_digest(alerts)
        return await self.deliverer.deliver(channel, payload, keys)
