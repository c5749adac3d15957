"""Pure shaping of Elasticsearch documents from stream records. Reads no settings."""
from __future__ import annotations

from datetime import datetime, timezone

from streams.records import EnrichedPost, Surge

POSTS_ALIAS = "posts"
ALERTS_ALIAS = "alerts"


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


def alert_document(surge: Surge, dedup_key: str, delivered_to: list[str], failed: list[str],
                   now: datetime) -> tuple[str, dict]:
    """(document id, document) of one alert event in the `alerts` history index.

    One document per (dedup key, window start, status): a replayed surge overwrites its own
    entry, a new episode or its resolution adds one.
    """
    doc_id = f"{dedup_key}:{int(surge.window_start.timestamp())}:{surge.status}"
    return doc_id, {
        "alert_id": doc_id,
        "dedup_key": dedup_key,
        "rule": surge.rule,
        "subject": surge.subject,
        "severity": surge.severity,
        "status": surge.status if delivered_to or not failed else "failed",   # "firing" until delivered
        "channel": delivered_to or failed,
        "summary": f"{surge.subject}: {surge.count} mentions, baseline {surge.baseline:.1f}, "
                   f"negative {surge.negative_share:.0%}",
        "count": surge.count,
        "baseline": surge.baseline,
        "negative_share": surge.negative_share,
        "window_start": surge.window_start.isoformat(),
        "window_end": surge.window_end.isoformat(),
        "fired_at": surge.detected_at.isoformat(),
        "delivered_at": now.astimezone(timezone.utc).isoformat() if delivered_to else None,
        "sample_post_ids": [s.post_id for s in surge.samples],
    }
