"""Deliveries in the background, so a dead or slow channel never holds the alert stream.

The dispatcher decides *what* to send (pure lifecycle, under its lock) and hands each message to
the outbox as a `Job`; the outbox runs every job as its own asyncio task through the shared
`Deliverer` (timeout per attempt, backoff, the retry deadline as that job's own budget) and
keeps the finished ones until the dispatcher collects them with `finished()` and records them in
the lifecycle state (inside the stream, where the Faust table may be written). A dead channel
therefore delays only its own messages: another subject's alert, on the same or another channel,
starts at once and falls back after its own retry budget, not after the dead channel's backlog.

At most one job per (shard, group, channel) is in flight, so a group flush or an escalation that
comes round again while its delivery is still retrying does not send twice. A job lost with the
process (crash, restart) was never recorded as sent, so the next group flush sends it again:
nothing is dropped. Reads no settings.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from alerting.channels.base import Channel
from alerting.delivery import Deliverer, DeliveryResult
from alerting.lifecycle import Batch
from alerting.model import Alert

log = logging.getLogger("shaobing.alerting.outbox")

InFlightKey = tuple[str, str, str]         # shard, group key, channel


@dataclass(frozen=True)
class Job:
    channel: str
    payload: dict
    items: tuple[tuple[str, Batch], ...]   # (shard, batch) pairs this message carries
    alerts: tuple[Alert, ...]
    keys: tuple[str, ...]
    digest: bool = False
    fallback: bool = False                 # the same batch, re-sent because its primary failed

    def in_flight_keys(self) -> set[InFlightKey]:
        return {(shard, batch.group_key, self.channel) for shard, batch in self.items}


class Outbox:
    def __init__(self, deliverer: Deliverer, channels: dict[str, Channel]):
        self.deliverer, self.channels = deliverer, channels
        self._tasks: set[asyncio.Task] = set()
        self._busy: set[InFlightKey] = set()
        self._done: list[tuple[Job, DeliveryResult]] = []

    def busy(self, shard: str, group_key: str, channel: str) -> bool:
        return (shard, group_key, channel) in self._busy

    def submit(self, job: Job) -> bool:
        """Start delivering `job` now; False (and nothing started) if one of its groups is in flight."""
        keys = job.in_flight_keys()
        if keys & self._busy:
            return False
        self._busy |= keys
        task = asyncio.get_running_loop().create_task(self._run(job), name=f"deliver:{job.channel}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _run(self, job: Job) -> None:
        channel = self.channels[job.channel]
        try:
            result = await self.deliverer.deliver(channel, job.payload, job.keys, digest=job.digest)
        except asyncio.CancelledError:
            self._busy -= job.in_flight_keys()
            raise
        except Exception as exc:   # a bug in a channel must not lose the batch: record it as failed
            log.error("alert delivery channel=%s crashed: %s", job.channel, exc.__class__.__name__, exc_info=True)
            result = DeliveryResult(job.channel, False, 0, "error", job.keys, job.digest,
                                    exc.__class__.__name__, self.deliverer.clock())
        self._busy -= job.in_flight_keys()
        self._done.append((job, result))

    def finished(self) -> list[tuple[Job, DeliveryResult]]:
        """Jobs finished since the last call, in the order they finished."""
        done, self._done = self._done, []
        return done

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def wait(self) -> None:
        """Until every job started so far has finished (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
