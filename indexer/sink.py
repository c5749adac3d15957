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
import json
import logging
import time
from datetime import datetime

from elasticsearch import AsyncElasticsearch

from indexer.documents import ALERTS_ALIAS, POSTS_ALIAS, post_document
from indexer.errors import ES_ERRORS, RETRY, RETRYABLE_STATUS, SPLIT, classify, describe
from indexer.history import AlertHistory
from indexer.metrics import IndexerMetrics, error_label
from streams.records import EnrichedPost

log = logging.getLogger(__name__)
DEFAULT_MAX_BYTES = 5 * 1024 * 1024


def ndjson_pair(index: str, op: str, post_id: str, body: dict, version: int | None = None) -> bytes:
    """One bulk action and its source: op "index" (a whole document) or "update" (partial fields).

    A whole document may carry the version of the post it was made from (its posts.raw record's
    timestamp in ms): the node then keeps whichever version is newest, so an older version
    written late (a batch spilled to posts.enriched, a replay) never overwrites an edit. An
    update retries on a concurrent write of the same document."""
    meta: dict = {"_index": index, "_id": post_id}
    if op == "index" and version is not None:
        meta.update(version=version, version_type="external_gte")
    elif op == "update":
        meta["retry_on_conflict"] = 3
    action = {op: meta}
    source = body if op == "index" else {"doc": body}
    return (json.dumps(action, ensure_ascii=False, separators=(",", ":")) + "\n"
            + json.dumps(source, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


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
        self.es = es if es is not None else AsyncElasticsearch(es_url, request_timeout=30, **(es_options or {}))
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
                              versions: dict[str, int] | None = None) -> list[tuple[str, str]]:
        """Index whole documents and apply partial updates (a repost decision for a post indexed
        earlier), by post_id; returns (post_id, reason) for each the node rejected permanently.
        A document older than the version already indexed (`versions`, see ndjson_pair) is
        skipped and counted as superseded."""
        versions = versions or {}
        lines = [(pid, ndjson_pair(self.index, "index", pid, d, versions.get(pid))) for pid, d in docs.items()]
        lines += [(pid, ndjson_pair(self.index, "update", pid, f)) for pid, f in updates.items()]
        rejected: list[tuple[str, str]] = []
        for chunk in chunks_by_bytes(lines, self.max_bytes):
            await self._write_chunk(chunk, rejected)
        return rejected

    async def _write_chunk(self, chunk: list[tuple[str, bytes]], rejected: list) -> None:
        backoff = 0.5
        while chunk:
            started = time.perf_counter()
            try:
                resp = await self.es.bulk(operations=b"".join(line for _, line in chunk))
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
                await self._write_chunk(chunk[:half], rejected)
                await self._write_chunk(chunk[half:], rejected)
                return
            self._count_request("ok", started)
            retry = []
            lines = dict(chunk)
            for item in resp["items"]:
                result = item.get("index") or item.get("update") or {}
                status, post_id = result.get("status", 500), result["_id"]
                if status < 300:
                    self._count_item("indexed")
                    continue
                error = result.get("error", {})
                if status == 409 and "index" in item and error.get("type") == "version_conflict_engine_exception":
                    self._count_item("superseded")      # a newer version of the post is indexed
                    continue
                retryable = status in RETRYABLE_STATUS or status >= 500
                self._count_item("retried" if retryable else "rejected", error.get("type"))
                if retryable:
                    retry.append((post_id, lines[post_id]))
                else:
                    rejected.append((post_id, f"elasticsearch {status}: {error.get('type')}: {error.get('reason')}"))
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
