"""The alerting engine: Surge in, notifications out, lifecycle state persisted in between.

`dispatch(surge, now=)` runs for each record on `surges`; `tick(now=)` every few seconds for group
flushes, repeats, auto-resolution, acknowledgements, escalation and rate-limit digests. A batch
whose channel fails (permanently, or past the retry deadline) goes to the route's fallback channels
at once and stays due on the primary, so nothing is dropped. A batch over a channel's rate limit is
held and, when a slot frees up, sent with the other held ones as one digest message. Reads no
settings; alerting.service builds it from Settings and the rules file.
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
from alerting.ratelimit import RateLimiter
from alerting.routing import Router
from alerting.state import StateStore
from streams.records import Surge

LinkMaker = Callable[[Alert, datetime], AlertLinks]
Held = dict[tuple, tuple[str, lifecycle.Batch]]


class Dispatcher:
    def __init__(self, *, router: Router | Callable[[datetime], Router], channels: Mapping[str, Channel],
                 store: StateStore, deliverer: Deliverer, metrics: AlertingMetrics,
                 links: LinkMaker | None = None, muted: Callable[[dict, datetime], str | None] | None = None,
                 limiters: Mapping[str, RateLimiter] | None = None,
                 acks: Callable[[], dict[str, dict]] | None = None):
        """`router` may be a function of time (major-event windows change routes); `muted` says why
        an alert is held back now ("silenced", "quiet_hours") or None; `acks` lists acknowledgements
        made elsewhere (HTTP link, CLI) as {dedup_key: {"subject", "at", "by"}}."""
        self.router_at = router if callable(router) and not isinstance(router, Router) else (lambda now: router)
        self.channels, self.store, self.deliverer, self.metrics = dict(channels), store, deliverer, metrics
        self.links, self.limiters = links, dict(limiters or {})
        self.muted = muted or (lambda alert, now: None)
        self.acks = acks or dict
        self._held: dict[str, Held] = {}
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
        acks = self.acks()
        async with self._lock:
            results += await self._drain_held(now)
            firing = 0
            for shard in self.store.shards():
                # a shard is written back only when it changed: each write is a changelog record
                original = self.store.load(shard) or lifecycle.empty()
                state = lifecycle.expire(original, now, self.router_at(now).by_name)
                for key, ack in acks.items():
                    if ack["subject"] == shard:
                        state, _ = lifecycle.acknowledge(state, key, datetime.fromisoformat(ack["at"]), ack["by"])
                self._save_if_changed(shard, original, state)
                results += await self._flush(shard, state, now)
                current = self.store.load(shard) or lifecycle.empty()
                state = lifecycle.collect(current, now)
                self._save_if_changed(shard, current, state)
                firing += sum(e["status"] == "firing" for e in state["alerts"].values())
            self.metrics.firing.set(firing)
        return results

    async def _flush(self, shard: str, state: dict, now: datetime) -> list[DeliveryResult]:
        routes = self.router_at(now).by_name
        before = state
        state, batches = lifecycle.flush(state, now, routes, lambda a: self._muted(a, now))
        batches += lifecycle.escalations(state, now, routes)
        self._save_if_changed(shard, before, state)
        results = []
        for batch in batches:
            limiter = self.limiters.get(batch.channel)
            if limiter is not None and not limiter.acquire(now):
                self._held.setdefault(batch.channel, {})[(shard, batch.group_key, batch.kind, batch.firing)] = (shard, batch)
                self.metrics.suppressed.labels(reason="ratelimit").inc()
                continue
            results += await self._send_and_record([(shard, batch)], now)
        return results

    async def _drain_held(self, now: datetime) -> list[DeliveryResult]:
        results = []
        for channel, held in list(self._held.items()):
            if held and (self.limiters.get(channel) is None or self.limiters[channel].acquire(now)):
                self._held[channel] = {}
                results += await self._send_and_record(list(held.values()), now)
        return results

    async def _send_and_record(self, items: list[tuple[str, lifecycle.Batch]], now: datetime) -> list[DeliveryResult]:
        """Send one batch, or several for the same channel as one digest; record or fall back."""
        channel = self.channels[items[0][1].channel]
        alerts, keys = [], []
        for shard, batch in items:
            picked = batch.resolved if batch.kind == "resolved" else batch.firing
            notice = batch.kind if batch.kind in ("repeat", "resolved", "escalation") else "new"
            alerts += [a.model_copy(update={"sent_at": now, "notice": notice})
                       for a in lifecycle.alerts_of(self.store.load(shard), picked)]
            keys += picked
        if not alerts:
            return []
        for alert in alerts:
            if alert.first_produced_at and alert.notice == "new":
                self.metrics.surge_to_send.observe(alert.latency_s(now) or 0.0)
        digest = len(items) > 1
        payload = channel.build_digest(alerts) if digest or len(alerts) > 1 else channel.build_payload(alerts[0])
        if digest:
            self.metrics.digests.labels(channel=channel.name).inc()
        result = await self.deliverer.deliver(channel, payload, tuple(keys), digest=digest)
        results = [result]
        for shard, batch in items:
            if result.ok:
                self.store.save(shard, lifecycle.mark_sent(self.store.load(shard), batch, now))
                if batch.kind == "escalation":
                    self.metrics.escalations.labels(reason="unacknowledged").inc()
            elif batch.kind != "escalation":
                results += await self._fallback(shard, batch, now)
        return results

    async def _fallback(self, shard: str, failed: lifecycle.Batch, now: datetime) -> list[DeliveryResult]:
        """The primary channel is down: send the same batch to each fallback once (deduped via nflog)."""
        route = self.router_at(now).by_name.get(failed.route)
        results = []
        for channel in route.fallback if route else ():
            state = self.store.load(shard)
            log = state["nflog"].get(f"{failed.group_key}|{channel}")
            wanted = {lifecycle.episode_id(k, state["alerts"][k]) for k in failed.firing if k in state["alerts"]}
            if channel == failed.channel or (log is not None and set(log["firing"]) >= wanted):
                continue
            batch = lifecycle.Batch(failed.group_key, failed.route, channel, failed.kind, failed.firing,
                                    failed.resolved)
            payload = self._payload(channel, state, batch, now)
            if payload is None:
                continue
            result = await self.deliverer.deliver(self.channels[channel], payload, failed.firing)
            results.append(result)
            if result.ok:
                state = lifecycle.mark_escalated(lifecycle.mark_sent(state, batch, now), failed.firing, now)
                self.store.save(shard, state)
                self.metrics.escalations.labels(reason="channel_failed").inc()
        return results

    def _payload(self, channel: str, state: dict, batch: lifecycle.Batch, now: datetime) -> dict | None:
        picked = batch.resolved if batch.kind == "resolved" else batch.firing
        alerts = [a.model_copy(update={"sent_at": now, "notice": "escalation"}) for a in lifecycle.alerts_of(state, picked)]
        ch = self.channels[channel]
        if not alerts:
            return None
        return ch.build_payload(alerts[0]) if len(alerts) == 1 else ch.build_digest(alerts)

    def _save_if_changed(self, shard: str, before: dict, after: dict) -> None:
        if after != before:
            self.store.save(shard, after)

    def _muted(self, alert: dict, now: datetime) -> bool:
        reason = self.muted(alert, now)
        if reason:
            self.metrics.suppressed.labels(reason=reason).inc()
        return reason is not None
