"""The one delivery loop every channel shares: a timeout per attempt, exponential backoff on
retryable outcomes until a deadline, a stop on permanent ones, metrics and one log line per
delivery. The clock and the sleep are passed in, so tests pin time and never sleep. Reads no
settings; RetryPolicy comes from the rules file.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Awaitable, Callable

import httpx

from alerting.channels.base import Channel, Outcome
from alerting.metrics import AlertingMetrics

log = logging.getLogger("shaobing.alerting.delivery")

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class RetryPolicy:
    timeout_s: float = 10.0          # one attempt
    deadline_s: float = 120.0        # all attempts of one delivery
    first_backoff_s: float = 1.0
    max_backoff_s: float = 30.0
    factor: float = 2.0

    def backoffs(self):
        delay = self.first_backoff_s
        while True:
            yield delay
            delay = min(delay * self.factor, self.max_backoff_s)


@dataclass(frozen=True)
class DeliveryResult:
    channel: str
    ok: bool
    attempts: int
    reason: str
    dedup_keys: tuple[str, ...] = ()
    digest: bool = False
    detail: str = ""
    at: datetime | None = None           # when the delivery finished
    retryable: bool = False              # the last failure was retryable (deadline reached)

    @property
    def outcome(self) -> str:
        return "delivered" if self.ok else "failed"


class Deliverer:
    def __init__(self, client: httpx.AsyncClient | None, metrics: AlertingMetrics, *,
                 policy: RetryPolicy = RetryPolicy(), clock: Clock = utc_now, sleep: Sleep = asyncio.sleep):
        self.client = client
        self.metrics = metrics
        self.policy = policy
        self.clock = clock
        self.sleep = sleep

    async def deliver(self, channel: Channel, payload: dict, keys: tuple[str, ...] = (), *,
                      digest: bool = False) -> DeliveryResult:
        started = self.clock()
        backoffs = self.policy.backoffs()
        attempts = 0
        while True:
            attempts += 1
            t0 = self.clock()
            outcome = await channel.send(payload, client=self.client, now=t0, timeout_s=self.policy.timeout_s)
            self._count_attempt(channel, outcome, (self.clock() - t0).total_seconds())
            if outcome.ok or not outcome.retryable:
                return self._finish(channel, outcome, attempts, keys, digest)
            delay = next(backoffs)
            if (self.clock() - started).total_seconds() + delay > self.policy.deadline_s:
                return self._finish(channel, Outcome(False, True, "deadline", outcome.reason), attempts,
                                    keys, digest)
            await self.sleep(delay)

    def _count_attempt(self, channel: Channel, outcome: Outcome, seconds: float) -> None:
        self.metrics.requests.labels(channel=channel.name, outcome=outcome.label, reason=outcome.reason).inc()
        self.metrics.latency.labels(channel=channel.name).observe(max(0.0, seconds))

    def _finish(self, channel: Channel, outcome: Outcome, attempts: int, keys: tuple[str, ...],
                digest: bool) -> DeliveryResult:
        self.metrics.notifications.labels(channel=channel.name, outcome=outcome.label).inc()
        level = logging.INFO if outcome.ok else logging.WARNING
        log.log(level, "alert delivery channel=%s kind=%s outcome=%s reason=%s attempts=%d keys=%s digest=%s",
                channel.name, channel.kind, outcome.label, outcome.reason, attempts, ",".join(keys), digest)
        return DeliveryResult(channel.name, outcome.ok, attempts, outcome.reason, keys, digest, outcome.detail,
                              self.clock(), outcome.retryable)
