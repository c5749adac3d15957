"""The alerting engine: Surge in, notifications out, lifecycle state persisted in between.

`dispatch(surge, now=)` runs for each record on `surges`; `tick(now=)` every few seconds for group
flushes, repeats, auto-resolution, acknowledgements, escalation and rate-limit digests. Neither
waits for a channel: what is due goes to the `Outbox`, which delivers in the background (each
message with its own retry budget), and each later call first records the deliveries that have
finished (`settle()` waits for them, for tests and shutdown). A batch whose channel fails
(permanently, or past the retry deadline) goes to the route's fallback channels and stays due on
the primary, so nothing is dropped. A batch over a channel's rate limit is held and, when a slot
frees up, sent with the other held ones as one digest message. Reads no settings;
alerting.service builds it from Settings and the rules file.
"""
from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime
from typing import Callable, Mapping

from alerting import lifecycle
from alerting.channels.base import Channel, leading_fit
from alerting.delivery import Deliverer, DeliveryResult, utc_now
from alerting.metrics import AlertingMetrics
from alerting.model import Alert, AlertLinks
from alerting.outbox import Job, Outbox
from alerting.ratelimit import RateLimiter
from alerting.routing import Router
from alerting.state import StateStore
from streams.records import Surge

LinkMaker = Callable[[Alert, datetime, str], AlertLinks]      # (alert, now, episode started)
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
        self._held: dict[tuple[str, bool], Held] = {}     # (channel, fallback) -> batches over its limit
        self._lock = asyncio.Lock()
        self.outbox = Outbox(deliverer, self.channels)
        metrics.init_channels(sorted(self.channels))

    async def dispatch(self, surge: Surge, *, now: datetime) -> list[DeliveryResult]:
        """Fold one surge (firing or resolved) into the lifecycle and send what is due for its subject."""
        alert = Alert.from_surge(surge)
        route = self.router_at(now).route(alert)
        async with self._lock:
            results = self._record_finished()
            state, what = lifecycle.record(self.store.load(surge.subject), alert, route, now)
            entry = state["alerts"].get(alert.dedup_key)
            if self.links and entry is not None:
                # ack / silence links name the episode, so an old link cannot ack a new episode
                entry["alert"]["links"] = self.links(alert, now, entry["started"]).model_dump(mode="json")
            if what == "updated":
                self.metrics.suppressed.labels(reason="dedup").inc()
            self.store.save(surge.subject, state)
            self._flush(surge.subject, state, now)
            return results

    async def tick(self, *, now: datetime) -> list[DeliveryResult]:
        results: list[DeliveryResult] = []
        acks = self.acks()
        async with self._lock:
            results += self._record_finished()
            self._drain_held(now)
            firing = 0
            for shard in self.store.shards():
                # a shard is written back only when it changed: each write is a changelog record
                original = self.store.load(shard) or lifecycle.empty()
                state = lifecycle.expire(original, now, self.router_at(now).by_name)
                for key, ack in acks.items():
                    if ack["subject"] == shard:
                        state, _ = lifecycle.acknowledge(state, key, datetime.fromisoformat(ack["at"]), ack["by"],
                                                         episode=ack.get("episode", ""))
                self._save_if_changed(shard, original, state)
                self._flush(shard, state, now)
                current = self.store.load(shard) or lifecycle.empty()
                state = lifecycle.collect(current, now)
                self._save_if_changed(shard, current, state)
                firing += sum(e["status"] == "firing" for e in state["alerts"].values())
            self.metrics.firing.set(firing)
        return results

    async def settle(self) -> list[DeliveryResult]:
        """Wait for every delivery in flight, fallbacks included, and record them."""
        results: list[DeliveryResult] = []
        while True:
            await self.outbox.wait()
            async with self._lock:
                finished = self._record_finished()
            if not finished and not self.outbox.pending:
                return results
            results += finished

    async def close(self) -> None:
        await self.outbox.close()

    def _flush(self, shard: str, state: dict, now: datetime) -> None:
        routes = self.router_at(now).by_name
        before = state
        state, batches = lifecycle.flush(state, now, routes, lambda a: self._muted(a, now))
        # a muted alert does not escalate (not counted again: this is asked at every tick)
        state, escalating = lifecycle.escalations(state, now, routes, lambda a: self.muted(a, now) is not None)
        batches += escalating
        self._save_if_changed(shard, before, state)
        for batch in batches:
            if self.outbox.busy(shard, batch.group_key, batch.channel):
                continue                  # still retrying the previous message of this group
            if self._limited(batch.channel, now):
                self._hold(shard, batch)
                continue
            self._submit([(shard, batch)], now)

    def _limited(self, channel: str, now: datetime) -> bool:
        """True if `channel` is over its rate limit now; otherwise takes a slot."""
        limiter = self.limiters.get(channel)
        return limiter is not None and not limiter.acquire(now)

    def _hold(self, shard: str, batch: lifecycle.Batch, *, fallback: bool = False) -> None:
        held = self._held.setdefault((batch.channel, fallback), {})
        held[(shard, batch.group_key, batch.kind, batch.firing)] = (shard, batch)
        self.metrics.suppressed.labels(reason="ratelimit").inc()

    def _drain_held(self, now: datetime) -> None:
        for (channel, fallback), held in list(self._held.items()):
            if held and not self._limited(channel, now):
                rest = self._submit(list(held.values()), now, fallback=fallback)
                self._held[(channel, fallback)] = {k: v for k, v in held.items() if v in rest}

    def _submit(self, items: list[tuple[str, lifecycle.Batch]], now: datetime, *,
                fallback: bool = False) -> list[tuple[str, lifecycle.Batch]]:
        """Build one message (several batches for the same channel make one digest) and start it.
        Returns the batches the digest had no room for: they were not sent and stay due."""
        channel = self.channels[items[0][1].channel]
        per_item = []
        for shard, batch in items:
            # a firing notification also carries the group's newly resolved alerts (as Alertmanager does)
            picked = (batch.newly_resolved or batch.resolved) if batch.kind == "resolved" else batch.firing + batch.newly_resolved
            notice = "escalation" if fallback else batch.kind if batch.kind in ("repeat", "resolved", "escalation") else "new"
            per_item.append((picked, [a.model_copy(update={"sent_at": now,
                                                           "notice": "resolved" if a.status == "resolved" else notice})
                                      for a in lifecycle.alerts_of(self.store.load(shard), picked)]))
        room = channel.digest_fit([a for _, shown in per_item for a in shown])
        taken = leading_fit([len(shown) for _, shown in per_item], room)
        items, rest, per_item = items[:taken], items[taken:], per_item[:taken]
        alerts = [a for _, shown in per_item for a in shown]
        keys = [k for picked, _ in per_item for k in picked]
        if not alerts:
            return rest
        digest = len(items) > 1
        # the rate-limit digest only when the limiter merged batches; one group keeps every alert's links
        payload = channel.build_digest(alerts) if digest else channel.build_group(alerts)
        if digest:
            self.metrics.digests.labels(channel=channel.name).inc()
        self.outbox.submit(Job(channel.name, payload, tuple(items), tuple(alerts), tuple(keys), digest, fallback))
        return rest

    def _record_finished(self) -> list[DeliveryResult]:
        results = []
        for job, result in self.outbox.finished():
            results.append(result)
            self._record(job, result)
        return results

    def _record(self, job: Job, result: DeliveryResult) -> None:
        """A delivery finished: remember what the channel now knows, or fall back."""
        at = result.at or utc_now()
        if result.ok:
            for alert in job.alerts:
                if alert.first_produced_at and alert.notice == "new":
                    self.metrics.surge_to_send.observe(alert.latency_s(at) or 0.0)
        for shard, batch in job.items:
            if result.ok and job.fallback:
                state = lifecycle.mark_escalated(lifecycle.mark_sent(self.store.load(shard), batch, at), batch.firing, at)
                self.store.save(shard, state)
                self.metrics.escalations.labels(reason="channel_failed").inc()
            elif result.ok:
                self.store.save(shard, lifecycle.mark_sent(self.store.load(shard), batch, at))
                if batch.kind == "escalation":
                    self.metrics.escalations.labels(reason="unacknowledged").inc()
            elif not job.fallback and batch.kind != "escalation":
                self._fallback(shard, batch, at)

    def _fallback(self, shard: str, failed: lifecycle.Batch, now: datetime) -> None:
        """The primary channel is down: send the same batch to each fallback once (deduped via nflog)."""
        route = self.router_at(now).by_name.get(failed.route)
        state = self.store.load(shard)
        if state is None:
            return
        for channel in route.fallback if route else ():
            log = state["nflog"].get(f"{failed.group_key}|{channel}")
            wanted = {lifecycle.episode_id(k, state["alerts"][k]) for k in failed.firing if k in state["alerts"]}
            if (channel == failed.channel or (log is not None and set(log["firing"]) >= wanted)
                    or self.outbox.busy(shard, failed.group_key, channel)):
                continue
            batch = replace(failed, channel=channel)
            if self._limited(channel, now):      # the fallback robot has the same vendor limit
                self._hold(shard, batch, fallback=True)
                continue
            self._submit([(shard, batch)], now, fallback=True)

    def _save_if_changed(self, shard: str, before: dict, after: dict) -> None:
        if after != before:
            self.store.save(shard, after)

    def _muted(self, alert: dict, now: datetime) -> bool:
        reason = self.muted(alert, now)
        if reason:
            self.metrics.suppressed.labels(reason=reason).inc()
        return reason is not None
