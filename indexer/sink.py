"""The bulk sink: writes enriched posts to Elasticsearch in batches, `_id = post_id`.
The one module of the stream worker that talks to Elasticsearch. Reads Settings.elasticsearch_url.

Node unreachable or overloaded (connection errors, 429, 5xx): wait and retry the batch with
backoff, holding the stream (back-pressure), because the post is not lost in Kafka. A document
the node rejects for itself (mapping error, 4xx): returned to the caller for the dead-letter topic.
"""
from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime

from elasticsearch import AsyncElasticsearch, ConnectionError as ESConnectionError, TransportError

from indexer.documents import ALERTS_ALIAS, POSTS_ALIAS, post_document
from indexer.metrics import IndexerMetrics, error_label
from streams.records import EnrichedPost

log = logging.getLogger(__name__)
RETRYABLE_STATUS = {429, 502, 503, 504}


class PostSink:
    def __init__(self, es_url: str, index: str = POSTS_ALIAS, max_backoff_s: float = 30.0,
                 alerts_index: str = ALERTS_ALIAS, metrics: IndexerMetrics | None = None):
        self.es = AsyncElasticsearch(es_url, request_timeout=30)
        self.metrics = metrics
        self.index = index
        self.alerts_index = alerts_index
        self.max_backoff_s = max_backoff_s

    async def close(self) -> None:
        await self.es.close()

    async def write(self, posts: list[EnrichedPost], now: datetime) -> list[tuple[EnrichedPost, str]]:
        """Index every post; returns (post, reason) for each the node rejected permanently."""
        by_id = {p.post_id: p for p in posts}
        rejected = await self.write_documents({i: post_document(p, now) for i, p in by_id.items()}, {})
        return [(by_id[i], reason) for i, reason in rejected]

    async def write_documents(self, docs: dict[str, dict], updates: dict[str, dict]) -> list[tuple[str, str]]:
        """Index whole documents and apply partial updates (a repost decision for a post indexed
        earlier), by post_id; returns (post_id, reason) for each the node rejected permanently."""
        pending = {**{i: ("index", d) for i, d in docs.items()}, **{i: ("update", f) for i, f in updates.items()}}
        rejected: list[tuple[str, str]] = []
        backoff = 0.5
        while pending:
            operations = []
            for post_id, (op, body) in pending.items():
                operations.append({op: {"_index": self.index, "_id": post_id}})
                operations.append(body if op == "index" else {"doc": body})
            started = time.perf_counter()
            try:
                resp = await self.es.bulk(operations=operations)
            except (ESConnectionError, TransportError) as exc:
                self._count_request("error", started)
                log.warning("bulk of %d documents failed (%s); retrying in %.1fs", len(pending), exc.__class__.__name__, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)
                continue
            self._count_request("ok", started)
            retry = {}
            for item in resp["items"]:
                result = item.get("index") or item.get("update") or {}
                status, post_id = result.get("status", 500), result["_id"]
                if status < 300:
                    self._count_item("indexed")
                    continue
                error, retryable = result.get("error", {}), status in RETRYABLE_STATUS or status >= 500
                self._count_item("retried" if retryable else "rejected", error.get("type"))
                if retryable:
                    retry[post_id] = pending[post_id]
                else:
                    rejected.append((post_id, f"elasticsearch {status}: {error.get('type')}: {error.get('reason')}"))
            pending = retry
            if pending:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)
        return rejected

    def _count_request(self, outcome: str, started: float) -> None:
        if self.metrics:
            self.metrics.bulk_requests.labels(outcome).inc()
            self.metrics.bulk_seconds.observe(time.perf_counter() - started)

    def _count_item(self, outcome: str, error_type: object = None) -> None:
        if self.metrics:
            self.metrics.items.labels(outcome).inc()
            if outcome != "indexed":
                self.metrics.rejections.labels(error_label(error_type)).inc()

    async def write_alert(self, doc_id: str, document: dict, attempts: int = 3) -> bool:
        """Record an alert event in the history index. The alert itself has already gone out,
        so this never holds the stream for long: a few tries, then False for the caller to count."""
        for attempt in range(attempts):
            try:
                await self.es.index(index=self.alerts_index, id=doc_id, document=document)
                return True
            except (ESConnectionError, TransportError) as exc:
                log.warning("alert history write %s failed (%s), attempt %d", doc_id, exc.__class__.__name__, attempt + 1)
                await asyncio.sleep(0.5 * 2 ** attempt)
        return False

    async def mark_alert_delivered(self, dedup_key: str, channels: set[str], at: datetime) -> bool:
        """Add successful deliveries to the newest history entry of an alert (deliveries can
        come later than the surge, after group_wait). Partial updates only: no scripts needed."""
        try:
            resp = await self.es.search(index=self.alerts_index, size=1, sort=[{"fired_at": "desc"}],
                                        query={"term": {"dedup_key": dedup_key}}, source=False)
            hits = resp["hits"]["hits"]
            if not hits:
                return False
            doc_id = hits[0]["_id"]
            src = (await self.es.get(index=self.alerts_index, id=doc_id))["_source"]   # real-time read
            update = {"channel": sorted({*src.get("channel", []), *channels})}
            if not src.get("delivered_at"):
                update["delivered_at"] = at.isoformat()
            await self.es.update(index=self.alerts_index, id=doc_id, doc=update)
            return True
        except (ESConnectionError, TransportError) as exc:
            log.warning("alert history update for %s failed (%s)", dedup_key, exc.__class__.__name__)
            return False
