"""Pure shaping of Elasticsearch documents from stream records. Reads no settings."""
from __future__ import annotations

from datetime import datetime, timezone

from streams.records import EnrichedPost

POSTS_ALIAS = "posts"


def post_document(post: EnrichedPost, indexed_at: datetime) -> dict:
    """The posts index document; `_id` is post_id so a replay overwrites instead of duplicating."""
    return {
        "post_id": post.post_id,
        "site": post.site,
        "source": post.source,
        "kind": post.kind,
        "url": post.url,
        "author": post.author,
        "title": post.title,
        "text": post.text,
        "tokens": " ".join(post.tokens),
        "published_at": post.published_at.isoformat(),
        "crawled_at": post.crawled_at.isoformat(),
        "indexed_at": indexed_at.astimezone(timezone.utc).isoformat(),
        "region": post.tags.get("region", ""),
        "keywords": post.keywords,
        "entities": {k: v for k, v in post.entities.items() if k in ("PER", "LOC", "ORG")},
        "watch_terms": post.watch_terms,
        "subjects": post.subjects,
        "sentiment": post.sentiment,
        "sentiment_label": post.sentiment_label,
        "simhash": post.simhash,
        "content_hash": post.content_hash,
        "cluster_id": post.cluster_id,
        "is_repost": post.is_repost,
    }


def bulk_action(post: EnrichedPost, indexed_at: datetime, index: str = POSTS_ALIAS) -> dict:
    return {"_op_type": "index", "_index": index, "_id": post.post_id, "_source": post_document(post, indexed_at)}
