"""Pure query building for the analysts' search: dicts in, dicts out, tested by equality.
Reads no settings."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

HIGHLIGHT_PRE, HIGHLIGHT_POST = "\x02", "\x03"   # control markers, replaced by the renderer


@dataclass(frozen=True)
class SearchRequest:
    text: str
    sites: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    sentiment: str | None = None
    entity: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    reposts: bool = True
    size: int = 10
    extra_filters: tuple[dict, ...] = field(default=())


def build_search(req: SearchRequest, query_tokens: list[str] | None = None) -> dict:
    """An Elasticsearch search body: the phrase on the text fields (Chinese is indexed per
    character, so a phrase query is an exact substring match), boosted by jieba-token matches."""
    should: list[dict] = []
    if req.text.strip():
        should += [
            {"match_phrase": {"title": {"query": req.text, "boost": 3}}},
            {"match_phrase": {"text": {"query": req.text, "boost": 2}}},
        ]
        if query_tokens:
            should.append({"match": {"tokens": {"query": " ".join(query_tokens), "operator": "and"}}})
    filters: list[dict] = list(req.extra_filters)
    if req.sites:
        filters.append({"terms": {"site": list(req.sites)}})
    if req.subjects:
        filters.append({"terms": {"subjects": list(req.subjects)}})
    if req.sentiment:
        filters.append({"term": {"sentiment_label": req.sentiment}})
    if req.entity:
        filters.append({"multi_match": {"query": req.entity, "fields": ["entities.PER", "entities.LOC", "entities.ORG"],
                                        "type": "best_fields"}})
    if req.since or req.until:
        rng = {}
        if req.since:
            rng["gte"] = req.since.isoformat()
        if req.until:
            rng["lt"] = req.until.isoformat()
        filters.append({"range": {"published_at": rng}})
    if not req.reposts:
        filters.append({"term": {"is_repost": False}})
    query: dict = {"bool": {"filter": filters}}
    if should:
        query["bool"].update(should=should, minimum_should_match=1)
    return {
        "query": query,
        "size": req.size,
        "sort": ["_score", {"published_at": "desc"}],
        "highlight": {
            "pre_tags": [HIGHLIGHT_PRE], "post_tags": [HIGHLIGHT_POST],
            "fields": {"title": {"number_of_fragments": 0}, "text": {"fragment_size": 80, "number_of_fragments": 2}},
        },
        "_source": {"excludes": ["tokens"]},
    }
