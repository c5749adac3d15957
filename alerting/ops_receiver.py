"""`shaobing ops-receiver`: an Alertmanager webhook receiver that forwards operator alerts to the
duty channels of the rules file, through the same channel modules, delivery loop (retries,
metrics) and rate limits as surge alerts. Reads Settings through the command (rules file,
metrics port); the token, if any, comes from a file and is never logged.

Answers: 200 when every channel delivered the group or holds it for its rate limit (held groups
go out as one merged message when a slot frees up); 503 when a channel failed after its retries,
so Alertmanager sends the group again; 400 on a body that is not a version-4 payload; 401 on a
missing or wrong bearer token.
"""
from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timezone

from alerting import ops
from alerting.channels.base import Channel
from alerting.delivery import Deliverer, DeliveryResult
from alerting.metrics import AlertingMetrics
from alerting.ratelimit import RateLimiter

log = logging.getLogger("shaobing.alerting.ops")


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class OpsForwarder:
    def __init__(self, channels: Mapping[str, Channel], deliverer: Deliverer, metrics: AlertingMetrics,
                 limiters: Mapping[str, RateLimiter] | None = None, clock: Callable[[], datetime] = utc_now):
        self.channels, self.deliverer, self.metrics = dict(channels), deliverer, metrics
        self.limiters, self.clock = dict(limiters or {}), clock
        self.held: dict[str, list[ops.AmGroup]] = {name: [] for name in self.channels}
        self._lock = asyncio.Lock()
        metrics.init_channels(sorted(self.channels))
        for status in ("firing", "resolved", "invalid"):
            metrics.operator_alerts.labels(status)

    async def receive(self, group: ops.AmGroup) -> tuple[int, list[DeliveryResult]]:
        """Send one group to every channel now, or hold it where the rate limit is reached."""
        self.metrics.operator_alerts.labels(group.status).inc(len(group.alerts))
        results = []
        async with self._lock:
            for name, channel in self.channels.items():
                limiter = self.limiters.get(name)
                if limiter is not None and not limiter.acquire(self.clock()):
                    self.held[name].append(group)
                    self.metrics.suppressed.labels(reason="ratelimit").inc()
                    continue
                results.append(await self._send(channel, [group]))
        return (200 if all(r.ok for r in results) else 503), results

    async def flush_held(self) -> list[DeliveryResult]:
        """Held groups of each channel as one merged message, once the channel has a slot."""
        results = []
        async with self._lock:
            for name, groups in self.held.items():
                limiter = self.limiters.get(name)
                if groups and (limiter is None or limiter.acquire(self.clock())):
                    self.held[name] = []
                    results.append(await self._send(self.channels[name], groups))
        return results

    async def _send(self, channel: Channel, groups: list[ops.AmGroup]) -> DeliveryResult:
        group = ops.merge(groups)
        if len(groups) > 1:
            self.metrics.digests.labels(channel=channel.name).inc()
        keys = tuple(a.fingerprint for a in group.alerts if a.fingerprint)
        return await self.deliverer.deliver(channel, ops.payload_for(channel, group), keys, digest=len(groups) > 1)


def authorized(header: str, token: str) -> bool:
    if not token:
        return True
    return hmac.compare_digest(header.encode(), f"Bearer {token}".encode())


def build_app(forwarder: OpsForwarder, token: str = "", flush_every_s: float = 1.0):
    """The aiohttp application: POST /alerts (Alertmanager's webhook), GET /-/healthy."""
    from aiohttp import web

    async def alerts(request: web.Request) -> web.Response:
        if not authorized(request.headers.get("Authorization", ""), token):
            return web.json_response({"ok": False, "error": "unauthorized"}, status=401)
        try:
            group = ops.parse_group(await request.read())
        except ops.InvalidOpsPayload as exc:
            forwarder.metrics.operator_alerts.labels("invalid").inc()
            log.warning("operator alert rejected: %s", exc)
            return web.json_response({"ok": False, "error": str(exc)}, status=400)
        status, results = await forwarder.receive(group)
        log.info("operator alert status=%s alerts=%d channels=%s", group.status, len(group.alerts),
                 ",".join(f"{r.channel}:{r.outcome}" for r in results) or "held")
        return web.json_response({"ok": status == 200, "deliveries": [
            {"channel": r.channel, "outcome": r.outcome, "reason": r.reason} for r in results]}, status=status)

    async def healthy(_request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def flusher(app: web.Application):
        async def loop():
            while True:
                await asyncio.sleep(flush_every_s)
                await forwarder.flush_held()

        task = asyncio.create_task(loop())
        yield
        task.cancel()

    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.router.add_post("/alerts", alerts)
    app.router.add_get("/-/healthy", healthy)
    app.cleanup_ctx.append(flusher)
    return app
