"""The console's one Elasticsearch edge: searches on the namespace's posts and alerts indices,
the export scan, and the token index. Reads Settings.elasticsearch_url, its connection options (shaobing.connections) and the
namespace (aliases).
Elasticsearch errors are translated once, here, into StoreError."""
from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import datetime, timezone

from elasticsearch import ApiError, AsyncElasticsearch, NotFoundError, TransportError

from indexer.documents import ALERTS_ALIAS, POSTS_ALIAS
from indexer.sink import ES_SERIALIZERS
from shaobing.connections import async_es_client

log = logging.getLogger(__name__)

TOKENS_ALIAS = "console_tokens"
EXPORT_PAGE = 2000


class StoreError(Exception):
    """Elasticsearch could not answer (down, timed out, rejected the request)."""


class ConsoleStore:
    def __init__(self, settings, es: AsyncElasticsearch | None = None):
        self.es = es or async_es_client(settings, serializers=ES_SERIALIZERS)
        self.posts = settings.alias(POSTS_ALIAS)
        self.alerts = settings.alias(ALERTS_ALIAS)
        self.tokens = settings.alias(TOKENS_ALIAS)

    async def close(self) -> None:
        await self.es.close()

    async def _call(self, method, **kwargs) -> dict:
        try:
            return (await method(**kwargs)).body
        except NotFoundError:
            raise
        except (ApiError, TransportError) as exc:
            raise StoreError(f"elasticsearch: {exc.__class__.__name__}: {str(exc)[:300]}") from exc

    async def search_posts(self, body: dict) -> dict:
        return await self._call(self.es.search, index=self.posts, **body)

    async def search_alerts(self, body: dict) -> dict:
        return await self._call(self.es.search, index=self.alerts, **body)

    async def alert(self, alert_id: str) -> dict | None:
        resp = await self.search_alerts({"size": 1, "query": {"term": {"alert_id": alert_id}}})
        hits = resp["hits"]["hits"]
        return hits[0]["_source"] if hits else None

    async def posts_by_id(self, post_ids: list[str]) -> list[dict]:
        if not post_ids:
            return []
        resp = await self._call(self.es.mget, index=self.posts, ids=post_ids, source_excludes=["tokens"])
        return [d["_source"] for d in resp["docs"] if d.get("found")]

    async def scan_posts(self, body: dict, limit: int) -> AsyncIterator[list[dict]]:
        """Pages of sources for an export, in the body's sort order, on one point in time so
        the rows neither repeat nor skip while posts keep arriving."""
        pit = (await self._call(self.es.open_point_in_time, index=self.posts, keep_alive="2m"))["id"]
        sent, after = 0, None
        try:
            while sent < limit:
                page = {**body, "size": min(EXPORT_PAGE, limit - sent), "pit": {"id": pit, "keep_alive": "2m"}}
                if after:
                    page["search_after"] = after
                resp = await self._call(self.es.search, **page)
                hits = resp["hits"]["hits"]
                if not hits:
                    return
                pit, after = resp.get("pit_id", pit), hits[-1]["sort"]
                sent += len(hits)
                yield [h["_source"] for h in hits]
        finally:
            try:
                await self.es.close_point_in_time(id=pit)
            except (ApiError, TransportError) as exc:
                log.info("closing export point in time failed (%s); it expires by itself", exc.__class__.__name__)

    # --- tokens (documents hold the token's hash, never the token)
    async def token(self, token_hash: str) -> dict | None:
        try:
            return (await self._call(self.es.get, index=self.tokens, id=token_hash))["_source"]
        except NotFoundError:
            return None

    async def add_token(self, token_hash: str, doc: dict) -> None:
        await self._call(self.es.index, index=self.tokens, id=token_hash, document=doc, refresh="wait_for")

    async def list_tokens(self) -> list[dict]:
        resp = await self._call(self.es.search, index=self.tokens, size=1000, sort=[{"created_at": "desc"}])
        return [h["_source"] for h in resp["hits"]["hits"]]

    async def revoke_token(self, token_id: str, now: datetime) -> bool:
        resp = await self._call(self.es.search, index=self.tokens, size=1, query={"term": {"token_id": token_id}})
        hits = resp["hits"]["hits"]
        if not hits or hits[0]["_source"].get("revoked_at"):
            return False
        await self._call(self.es.update, index=self.tokens, id=hits[0]["_id"], doc={"revoked_at": now.isoformat()},
                         refresh="wait_for")
        return True

    async def healthy(self) -> bool:
        """Cluster health yellow or green (the node answers GET / with 405 behind some proxies)."""
        try:
            resp = await self.es.cluster.health(timeout="2s")
            return resp.body.get("status") in ("yellow", "green")
        except (ApiError, TransportError):
            return False


async def create_token(settings, role: str, name: str, created_by: str = "cli") -> str:
    """A new token of `role`, stored hashed in the namespace's console_tokens index; the one
    place tokens are made outside the API (the CLI and the demo)."""
    from console.auth import new_token, token_document

    store = ConsoleStore(settings)
    try:
        token = new_token()
        doc_id, doc = token_document(token, role=role, name=name, now=datetime.now(timezone.utc),
                                     created_by=created_by)
        await store.add_token(doc_id, doc)
        return token
    finally:
        await store.close()
