"""The bulk sink: writes enriched posts to Elasticsearch in batches, `_id = post_id`.
The one module of the stream worker that indexes posts. Reads Settings.elasticsearch_url,
index_batch_bytes (through the caller).

A batch is cut into bulk requests of at most `max_bytes` of NDJSON (and the caller's count), so
a few large posts cannot push one request over the node's http.max_content_length. Every
Elasticsearch failure is translated by indexer.errors: unreachable or overloaded (connection
errors, whole-request or per-document 429 / 5xx) -> wait and retry with backoff, holding the
stream (back-pressure; the posts are safe in Kafka); 413 -> split the request; a document the
node refuses for itself (mapping error, other 4xx) -> returned for the dead-letter topic.
Alert history goes through indexer.history, in the background, never on the alert path.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import orjson
from elasticsearch.serializer import OrjsonSerializer

from indexer.documents import ALERTS_ALIAS, POSTS_ALIAS, post_document
from indexer.errors import ES_ERRORS, RETRY, RETRYABLE_STATUS, SPLIT, classify, describe
from indexer.history import AlertHistory
from indexer.metrics import IndexerMetrics, error_label
from shaobing.connections import elasticsearch_client
from streams.records import EnrichedPost

log = logging.getLogger(__name__)
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
# what the sink reads of a bulk answer: a fifth of its bytes to parse for 1,000 posts
BULK_FILTER = "errors,items.*._id,items.*.status,items.*.error.type,items.*.error.reason"
# the client parses answers with orjson too (the export's pages of 2,000 hits, bulk answers)
ES_SERIALIZERS = {"application/json": OrjsonSerializer()}


def ndjson_pair(index: str, op: str, post_id: str, body: dict, version: int | None = None) -> bytes:
    """One bulk action and its source: op "index" (a whole document) or "update" (partial fields).

    A whole document may carry the version of the post it was made from (its posts.raw record's
    timestamp in ms): the node then keeps whichever version is newest, so an older version
    written late (a batch spilled to posts.enriched, a replay) never overwrites an edit. An
    update retries on a concurrent write of the same document. UTF-8 as is (orjson never escapes
    non-ASCII); a value JSON cannot hold (a lone surrogate, an int over 64 bits, a non-string
    key) raises orjson.JSONEncodeError, a TypeError."""
    meta: dict = {"_index": index, "_id": post_id}
    if op == "index" and version is not None:
        meta.update(version=version, version_type="external_gte")
    elif op == "update":
        meta["retry_on_conflict"] = 3
    source = body if op == "index" else {"doc": body}
    action = {op: meta}
    return orjson.dumps(action) + b"\n" + orjson.dumps(source) + b"\n"


def chunks_by_bytes(lines: list[tuple[str, bytes]], max_bytes: int) -> list[list[tuple[str, bytes]]]:
    """Consecutive groups whose total size is at most max_bytes (a larger single line goes alone)."""
    out: list[list[tuple[str, bytes]]] = []
    size = 0
    for item in lines:
        if not out or size + len(item[1]) > max_bytes:
            out.append([])
            size = 0
        out[-1].append(item)
        size += len(item[1])
    return out


class PostSink:
    def __init__(self, es_url: str, index: str = POSTS_ALIAS, max_backoff_s: float = 30.0,
                 alerts_index: str = ALERTS_ALIAS, max_bytes: int = DEFAULT_MAX_BYTES, *, es=None,
                 sleep=asyncio.sleep, es_options: dict | None = None, metrics: IndexerMetrics | None = None):
        self.es = es if es is not None else elasticsearch_client(es_url, es_options, asynchronous=True,
                                                                 serializers=ES_SERIALIZERS)
        self.index = index
        self.metrics = metrics
        self.max_backoff_s = max_backoff_s
        self.max_bytes = max_bytes
        self.sleep = sleep
        self.history = AlertHistory(self.es, alerts_index, max_backoff_s=max_backoff_s, sleep=sleep)

    async def close(self) -> None:
        await self.history.close()
        await self.es.close()

    async def write(self, posts: list[EnrichedPost], now: datetime) -> list[tuple[EnrichedPost, str]]:
        """Index every post; returns (post, reason) for each the node rejected permanently."""
        by_id = {p.post_id: p for p in posts}
        rejected = await self.write_documents({i: post_document(p, now) for i, p in by_id.items()}, {})
        return [(by_id[i], reason) for i, reason in rejected]

    async def write_documents(self, docs: dict[str, dict], updates: dict[str, dict],
                              versions: dict[str, int] | None = None, guards: dict[str, str] | None = None,
                              superseded: list[str] | None = None) -> list[tuple[str, str]]:
        """Index whole documents, then apply partial updates (a repost decision for a post indexed
        earlier; a post may have both, in that order), by post_id; returns (post_id, reason) for
        each the node rejected permanently. A document older than the version already indexed
        (`versions`, see ndjson_pair) is skipped, counted and its id added to `superseded`; an
        update with a `guards` content hash is dropped (and added to `superseded`) when the indexed
        document holds another version of the post (checked just before the write: an edit
        indexed in between is not seen; the node here has no scripting to check it in place)."""
        versions, superseded = versions or {}, superseded if superseded is not None else []
        guards = {pid: h for pid, h in (guards or {}).items() if pid in updates}
        stale = {pid for pid, h in guards.items() if pid in docs and docs[pid].get("content_hash") != h}
        stale |= await self._stale_updates({pid: h for pid, h in guards.items() if pid not in docs})
        for pid in stale:
            self._count_item("superseded")
            superseded.append(pid)
        lines = [(pid, ndjson_pair(self.index, "index", pid, d, versions.get(pid))) for pid, d in docs.items()]
        lines += [(pid, ndjson_pair(self.index, "update", pid, f)) for pid, f in updates.items() if pid not in stale]
        rejected: list[tuple[str, str]] = []
        for chunk in chunks_by_bytes(lines, self.max_bytes):
            await self._write_chunk(chunk, rejected, superseded)
        return rejected

    @asynccontextmanager
    async def backfill(self) -> AsyncIterator[None]:
        """A bulk load into the index (a replay or a reindex, not the live stream): no periodic
        refresh while it runs, so the node writes few large segments instead of one a second;
        the index's own refresh interval is put back and the index refreshed at the end, even on
        error. Posts written meanwhile are durable (translog) but not searchable until then."""
        current = await self.es.indices.get_settings(index=self.index, name="index.refresh_interval")
        previous = {name: body["settings"].get("index", {}).get("refresh_interval") for name, body in current.body.items()}
        await self.es.indices.put_settings(index=self.index, settings={"index": {"refresh_interval": "-1"}})
        try:
            yield
        finally:
            for name, interval in previous.items():     # None: back to the node's default
                await self.es.indices.put_settings(index=name, settings={"index": {"refresh_interval": interval}})
            await self.es.indices.refresh(index=self.index)

    async def _stale_updates(self, guards: dict[str, str]) -> set[str]:
        """The ids whose indexed document holds another content hash than the guard (a missing
        document is not stale: its update fails and is dead-lettered as before)."""
        backoff = 0.5
        while guards:
            try:
                resp = await self.es.mget(index=self.index, ids=list(guards), source=["content_hash"])
            except ES_ERRORS as exc:
                if classify(exc) != RETRY:
                    log.warning("checking %d repost decisions failed (%s); applying them unchecked", len(guards), describe(exc))
                    return set()
                log.warning("checking %d repost decisions failed (%s); retrying in %.1fs", len(guards), describe(exc), backoff)
                await self.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)
                continue
            return {d["_id"] for d in resp["docs"]
                    if d.get("found") and d.get("_source", {}).get("content_hash") != guards[d["_id"]]}
        return set()

    async def _write_chunk(self, chunk: list[tuple[str, bytes]], rejected: list, superseded: list) -> None:
        backoff = 0.5
        while chunk:
            started = time.perf_counter()
            try:
                resp = await self.es.bulk(operations=b"".join(line for _, line in chunk), filter_path=BULK_FILTER)
            except ES_ERRORS as exc:
                self._count_request("error", started)
                action = classify(exc)
                if action == RETRY:
                    log.warning("bulk of %d documents failed (%s); retrying in %.1fs", len(chunk), describe(exc), backoff)
                    await self.sleep(backoff)
                    backoff = min(backoff * 2, self.max_backoff_s)
                    continue
                if len(chunk) == 1:
                    self._count_item("rejected")
                    rejected.append((chunk[0][0], f"elasticsearch refused the document: {describe(exc)}"))
                    return
                if action == SPLIT:
                    log.warning("bulk of %d documents too large (%s); splitting", len(chunk), describe(exc))
                half = len(chunk) // 2
                await self._write_chunk(chunk[:half], rejected, superseded)
                await self._write_chunk(chunk[half:], rejected, superseded)
                return
            self._count_request("ok", started)
            retry, done = [], 0
            for (post_id, line), item in zip(chunk, resp["items"]):     # answers come in request order
                result = item.get("index") or item.get("update") or {}
                status = result.get("status", 500)
                if status < 300:
                    done += 1
                    continue
                error = result.get("error", {})
                if status == 409 and "index" in item and error.get("type") == "version_conflict_engine_exception":
                    self._count_item("superseded")      # a newer version of the post is indexed
                    superseded.append(post_id)
                    continue
                retryable = status in RETRYABLE_STATUS or status >= 500
                self._count_item("retried" if retryable else "rejected", error.get("type"))
                if retryable:
                    retry.append((post_id, line))
                else:
                    rejected.append((post_id, f"elasticsearch {status}: {error.get('type')}: {error.get('reason')}"))
            if done and self.metrics:
                self.metrics.items.labels("indexed").inc(done)
            chunk = retry
            if chunk:
                await self.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)

    def _count_request(self, outcome: str, started: float) -> None:
        if self.metrics:
            self.metrics.bulk_requests.labels(outcome).inc()
            self.metrics.bulk_seconds.observe(time.perf_counter() - started)

    def _count_item(self, outcome: str, error_type: object = None) -> None:
        if self.metrics:
            self.metrics.items.labels(outcome).inc()
            if outcome not in ("indexed", "superseded"):
                self.metrics.rejections.labels(error_label(error_type)).inc()
