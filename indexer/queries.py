"""Pure query building for the analysts' search (`shaobing search` and the console): dicts in,
dicts out, tested by equality. Trends, facets, clusters and events build on `build_query` in
indexer/analytics.py. Reads no settings."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

HIGHLIGHT_PRE, HIGHLIGHT_POST = "\x02", "\x03"   # control markers, replaced by the renderer
MODES = ("phrase", "words")            # the whole text as one phrase, or every word somewhere
SORTS = ("relevance", "time", "spread")
SENTIMENTS = ("negative", "neutral", "positive")
KINDS = ("forum", "reply", "news", "feed", "api")
# a page counts matches exactly up to here, then says "at least": lets Elasticsearch skip
# non-competitive documents (time sort, relevance) instead of visiting every match
TRACK_TOTAL_UP_TO = 10_000


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
    kinds: tuple[str, ...] = ()
    mode: str = "phrase"
    sort: str = "relevance"
    search_after: tuple = ()      # the previous page's last sort values (deep paging)
    highlight: bool = True


def build_query(req: SearchRequest, query_tokens: list[str] | None = None) -> dict:
    """The bool query shared by hits, trend, facets and export: the phrase on the text fields
    (Chinese is indexed per character, so a phrase query is an exact substring match), boosted
    by jieba-token matches; or, in "words" mode, every word as a phrase in title or text."""
    should: list[dict] = []
    must: list[dict] = []
    if req.mode == "words":
        must = [{"multi_match": {"query": w, "type": "phrase", "fields": ["title^3", "text^2"]}}
                for w in req.text.split()]
    elif req.text.strip():
        should += [
            {"match_phrase": {"title": {"query": req.text, "boost": 3}}},
            {"match_phrase": {"text": {"query": req.text, "boost": 2}}},
        ]
        if query_tokens:
            should.append({"match": {"tokens": {"query": " ".join(query_tokens), "operator": "and"}}})
    filters: list[dict] = list(req.extra_filters)
    if req.sites:
        filters.append({"terms": {"site": list(req.sites)}})
    if req.kinds:
        filters.append({"terms": {"kind": list(req.kinds)}})
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
    if must:
        query["bool"]["must"] = must
    if should:
        query["bool"].update(should=should, minimum_should_match=1)
    return query


HIGHLIGHT = {
    "pre_tags": [HIGHLIGHT_PRE], "post_tags": [HIGHLIGHT_POST],
    "fields": {"title": {"number_of_fragments": 0}, "text": {"fragment_size": 80, "number_of_fragments": 2}},
}


def search_sort(sort: str) -> list:
    """Sort clauses ending in a unique tiebreaker, so search_after pages never skip or repeat."""
    if sort == "time":
        return [{"published_at": "desc"}, {"post_id": "asc"}]
    return ["_score", {"published_at": "desc"}, {"post_id": "asc"}]


def build_search(req: SearchRequest, query_tokens: list[str] | None = None) -> dict:
    """An Elasticsearch search body for one page of hits (sorted by relevance or time)."""
    body = {
        "query": build_query(req, query_tokens),
        "size": req.size,
        "sort": search_sort(req.sort),
        "track_total_hits": TRACK_TOTAL_UP_TO,
        "_source": {"excludes": ["tokens"]},
    }
    if req.highlight:
        body["highlight"] = HIGHLIGHT
    if req.search_after:
        body["search_after"] = list(req.search_after)
    return body


def segment_query(text: str) -> list[str]:
    """jieba words of a query, for the token boost (the same segmenter the stream indexed with)."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    return [t for t in jieba.lcut(text) if t.strip()]
