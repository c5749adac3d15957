"""Wall-clock behaviour of delivery, once, in real time (the other alerting tests pin the clock,
whose sleep returns at once and so cannot see a stream blocked by a retrying channel).

A fake vendor on loopback whose `dead` endpoint hangs past the client timeout on every attempt:
another subject's alert must reach its channel while the dead channel is still being retried,
two alerts on the dead channel must retry side by side (each on its own budget, not queued
behind each other), and both must end on the fallback channel. Asserts order, not durations.
"""
from __future__ import annotations

import asyncio
import time

import httpx
from aiohttp import web
from aiohttp.test_utils import TestServer
from prometheus_client import CollectorRegistry

from alerting.channels.webhook import WebhookChannel
from alerting.delivery import Deliverer, RetryPolicy
from alerting.dispatcher import Dispatcher
from alerting.metrics import AlertingMetrics
from alerting.routing import Route, Router, Timing
from alerting.state import MappingStore
from tests.fakes.alerts import surge

POLICY = RetryPolicy(timeout_s=0.3, deadline_s=2.0, first_backoff_s=0.2, max_backoff_s=0.4)


class Vendor:
    """POST /dead hangs for longer than the client waits; /live and /fallback answer 200 at once.
    Every request is recorded with its arrival time (monotonic) and the subject it carries."""

    def __init__(self):
        self.got: dict[str, list[tuple[float, str]]] = {"dead": [], "live": [], "fallback": []}

    async def handle(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        body = await request.json()
        self.got[name].append((time.monotonic(), body["alerts"][0]["labels"]["subject"]))
        if name == "dead":
            await asyncio.sleep(1.0)
        return web.json_response({"ok": True})

    async def start(self) -> TestServer:
        app = web.Application()
        app.router.add_post("/{name}", self.handle)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        return server


async def _until(check, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "gave up waiting"
        await asyncio.sleep(0.02)


async def _ticks(dispatcher: Dispatcher, now) -> list:
    """The worker's alert timer: finished deliveries are recorded (and failures fall back) at a tick.
    Lifecycle time stands still at `now`, so no group is due again."""
    results = []
    try:
        while True:
            results += await dispatcher.tick(now=now)
            await asyncio.sleep(0.05)
    except asyncio.CancelledError:
        return results


async def test_a_dead_channel_delays_only_its_own_messages():
    vendor = Vendor()
    server = await vendor.start()
    base = f"http://127.0.0.1:{server.port}"
    channels = {name: WebhookChannel(name, f"{base}/{name}", "") for name in ("dead", "live", "fallback")}
    county = Route("county", ("dead",), ("fallback",), Timing(group_wait_s=0), subjects=("某县*",))
    router = Router([county], Route("duty", ("live",), (), Timing(group_wait_s=0)))
    metrics = AlertingMetrics(CollectorRegistry())
    async with httpx.AsyncClient() as client:
        dispatcher = Dispatcher(router=router, channels=channels, store=MappingStore({}), metrics=metrics,
                                deliverer=Deliverer(client, metrics, policy=POLICY))
        now = surge().detected_at
        await dispatcher.dispatch(surge("某县"), now=now)        # its channel hangs on every attempt
        await dispatcher.dispatch(surge("某县二"), now=now)      # same dead channel, another subject
        await dispatcher.dispatch(surge("某市"), now=now)        # a healthy channel
        ticking = asyncio.get_running_loop().create_task(_ticks(dispatcher, now))
        await _until(lambda: vendor.got["live"])
        await _until(lambda: len(vendor.got["fallback"]) == 2)
        dead = vendor.got["dead"]
        last_dead_attempt = max(t for t, _ in dead)
        # 某市 was delivered while the dead channel was still being retried, not after it gave up
        assert vendor.got["live"][0][0] < last_dead_attempt
        # 某县二 did not wait for 某县's retry budget: its first attempt came before 某县's last one
        first_of = {s: min(t for t, subj in dead if subj == s) for s in ("某县", "某县二")}
        last_of = {s: max(t for t, subj in dead if subj == s) for s in ("某县", "某县二")}
        assert first_of["某县二"] < last_of["某县"]
        # nothing dropped: both dead-channel alerts escalated to the fallback channel once
        assert sorted(s for _, s in vendor.got["fallback"]) == ["某县", "某县二"]
        ticking.cancel()
        results = await ticking
        results += await dispatcher.settle()
        await dispatcher.close()
    await server.close()
    outcomes = sorted((r.channel, r.ok, r.reason) for r in results)
    assert ("dead", False, "deadline") in outcomes and ("fallback", True, "ok") in outcomes
