"""Pure shaping of Elasticsearch documents from stream records. Reads no settings."""
from __future__ import annotations

from datetime import datetime, timezone

from streams.records import EnrichedPost, Surge

POSTS_ALIAS = "posts"
ALERTS_ALIAS = "alerts"


def post_document(post: EnrichedPost | dict, indexed_at: datetime) -> dict:
    """The posts index document; `_id` is post_id so a replay overwrites instead of duplicating.

    Takes the record or its fields as a dict: its JSON form (the index stage reads posts.enriched
    with json.loads: the worker wrote and validated it, and a second pydantic pass per post is the
    costliest step of that stage) or its Python values (the analyze stage's enriched_fields).
    Times are written as the record's JSON has them.
    """
    p = post.__dict__ if isinstance(post, EnrichedPost) else post
    return {
        "post_id": p["post_id"],
        "site": p["site"],
        "source": p["source"],
        "kind": p["kind"],
        "url": p["url"],
        "author": p.get("author", ""),
        "title": p.get("title", ""),
        "text": p["text"],
        "tokens": " ".join(p.get("tokens", ())),
        "published_at": _json_time(p["published_at"]),
        "crawled_at": _json_time(p["crawled_at"]),
        "produced_at": _json_time(p.get("produced_at")),
        "indexed_at": indexed_at.astimezone(timezone.utc).isoformat(),
        "region": (p.get("tags") or {}).get("region", ""),
        "keywords": p.get("keywords", []),
        "entities": {k: v for k, v in (p.get("entities") or {}).items() if k in ("PER", "LOC", "ORG")},
        "watch_terms": p.get("watch_terms", []),
        "subjects": p.get("subjects", []),
        "sentiment": p.get("sentiment", 0.5),
        "sentiment_label": p.get("sentiment_label", "neutral"),
        "simhash": p.get("simhash", ""),
        "content_hash": p.get("content_hash", ""),
        "cluster_id": p.get("cluster_id") or p["post_id"],
        "is_repost": bool(p.get("is_repost", False)),
    }


def _json_time(value: datetime | str | None) -> str | None:
    """A time as pydantic's JSON writes a UTC one ("...Z"); a string is one already."""
    if value is None or isinstance(value, str):
        return value
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


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
