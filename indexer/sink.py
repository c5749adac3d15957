"""The bulk sink: writes enriched posts to Elasticsearch in batches, `_id = post_id`.
The one module of the stream worker that talks to Elasticsearch. Reads Settings.elasticsearch_url.

Node unreachable or overloaded (connection errors, 429, 5xx): wait and retry the batch with
backoff, holding the stream (back-pressure), because the post is not lost in Kafka. A document
the node rejects for itself (mapping error, 4xx): returned to the caller for the dead-letter topic.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from elasticsearch import AsyncElasticsearch, ConnectionError as ESConnectionError, TransportError

from indexer.documents import POSTS_ALIAS, post_document
from streams.records import EnrichedPost

log = logging.getLogger(__name__)
RETRYABLE_STATUS = {429, 502, 503, 504}


class PostSink:
    def __init__(self, es_url: str, index: str = POSTS_ALIAS, max_backoff_s: float = 30.0):
        self.es = AsyncElasticsearch(es_url, request_timeout=30)
        self.index = index
        self.max_backoff_s = max_backoff_s

    async def close(self) -> None:
        await self.es.close()

    async def write(self, posts: list[EnrichedPost], now: datetime) -> list[tuple[EnrichedPost, str]]:
        """Index every post; returns (post, reason) for each the node rejected permanently."""
        pending = {p.post_id: p for p in posts}
        rejected: list[tuple[EnrichedPost, str]] = []
        backoff = 0.5
        while pending:
            operations = []
            for post in pending.values():
                operations.append({"index": {"_index": self.index, "_id": post.post_id}})
                operations.append(post_document(post, now))
            try:
                resp = await self.es.bulk(operations=operations)
            except (ESConnectionError, TransportError) as exc:
                log.warning("bulk of %d posts failed (%s); retrying in %.1fs", len(pending), exc.__class__.__name__, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)
                continue
            retry = {}
            for item in resp["items"]:
                result = item["index"]
                status, post_id = result.get("status", 500), result["_id"]
                if status < 300:
                    continue
                if status in RETRYABLE_STATUS or status >= 500:
                    retry[post_id] = pending[post_id]
                else:
                    error = result.get("error", {})
                    rejected.append((pending[post_id], f"elasticsearch {status}: {error.get('type')}: {error.get('reason')}"))
            pending = retry
            if pending:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)
        return rejected
