"""Alert history in Elasticsearch, written in the background so a slow or frozen node never
delays an alert: the alert agent only enqueues (`record_alert`, `record_delivered`) and one task
writes the queue in order, retrying with backoff while the node is unreachable or overloaded.

The queue is bounded (`max_pending`): past it the oldest entry is dropped, logged and counted as
failed, because the alerts themselves have gone out and the history must not grow the worker's
memory without end during a long outage. `on_done(ok)` counts each entry (the worker's metrics).
Reads no settings; PostSink passes its client and the alerts alias.
"""
from __future__ import annotations

import asyncio
import logging
from collections import deque
from datetime import datetime
from typing import Callable

from indexer.errors import ES_ERRORS, RETRY, classify, describe

log = logging.getLogger(__name__)


class AlertHistory:
    def __init__(self, es, index: str, *, max_backoff_s: float = 30.0, max_pending: int = 10_000,
                 sleep=asyncio.sleep, on_done: Callable[[bool], None] = lambda ok: None):
        self.es, self.index = es, index
        self.max_backoff_s, self.max_pending, self.sleep, self.on_done = max_backoff_s, max_pending, sleep, on_done
        self._queue: deque[tuple] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._writing = False

    def record_alert(self, doc_id: str, document: dict) -> None:
        self._put(("alert", doc_id, document))

    def record_delivered(self, dedup_key: str, channels: set[str], at: datetime) -> None:
        """Add successful deliveries to the newest history entry of an alert (deliveries can come
        later than the surge, after group_wait)."""
        self._put(("delivered", dedup_key, sorted(channels), at))

    @property
    def pending(self) -> int:
        return len(self._queue)

    def _put(self, entry: tuple) -> None:
        if len(self._queue) >= self.max_pending:
            # the head may be in the middle of being written: drop the oldest one behind it
            dropped = self._queue[1] if self._writing and len(self._queue) > 1 else self._queue[0]
            self._queue.remove(dropped)
            log.warning("alert history backlog over %d entries; dropped the oldest (%s %s)",
                        self.max_pending, dropped[0], dropped[1])
            self.on_done(False)
        self._queue.append(entry)
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="alert-history")

    async def _run(self) -> None:
        while True:
            while self._queue:
                entry = self._queue[0]
                self._writing = True
                try:
                    ok = await self._write(entry)
                finally:
                    self._writing = False
                self._queue.popleft()
                self.on_done(ok)
            self._wake.clear()
            await self._wake.wait()

    async def _write(self, entry: tuple) -> bool:
        backoff = 0.5
        while True:
            try:
                if entry[0] == "alert":
                    # wait_for: the delivery marks that follow search for this document
                    await self.es.index(index=self.index, id=entry[1], document=entry[2], refresh="wait_for")
                    return True
                return await self._mark_delivered(*entry[1:])
            except ES_ERRORS as exc:
                if classify(exc) != RETRY:
                    log.warning("alert history %s %s refused (%s)", entry[0], entry[1], describe(exc))
                    return False
                log.warning("alert history %s %s failed (%s); retrying in %.1fs", entry[0], entry[1], describe(exc), backoff)
                await self.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)

    async def _mark_delivered(self, dedup_key: str, channels: list[str], at: datetime) -> bool:
        resp = await self.es.search(index=self.index, size=1, sort=[{"fired_at": "desc"}],
                                    query={"term": {"dedup_key": dedup_key}}, source=False)
        hits = resp["hits"]["hits"]
        if not hits:
            return False
        doc_id = hits[0]["_id"]
        src = (await self.es.get(index=self.index, id=doc_id))["_source"]   # real-time read
        update = {"channel": sorted({*src.get("channel", []), *channels})}
        if not src.get("delivered_at"):
            update["delivered_at"] = at.isoformat()
        await self.es.update(index=self.index, id=doc_id, doc=update)
        return True

    async def drain(self) -> None:
        """Until the queue is empty (tests, shutdown)."""
        while self._queue and self._task is not None and not self._task.done():
            await asyncio.sleep(0.01)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
