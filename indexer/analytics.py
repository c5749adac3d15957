"""Pure query building and response shaping for the console's analyses: volume trend by
sentiment, facets, stories ordered by spread, repost clusters, alert history and the event
behind an alert. Every query filters with indexer.queries.build_query, the one definition of
"the posts an analyst asked for". Dicts in, dicts out; reads no settings."""
from __future__ import annotations

from datetime import datetime, timedelta

from indexer.queries import HIGHLIGHT, SENTIMENTS, SearchRequest, build_query

SHANGHAI_TZ = "Asia/Shanghai"
INTERVALS = {"hour": "1h", "day": "1d"}
FACET_FIELDS = {"sites": "site", "kinds": "kind", "keywords": "keywords", "subjects": "subjects",
                "persons": "entities.PER", "places": "entities.LOC", "organisations": "entities.ORG"}
MAX_SPREAD_STORIES = 1000            # the spread sort pages through at most this many stories
EVENT_MARGIN = timedelta(hours=1)    # an event is shown from 1 h before its window to 1 h after
_EVENT_STEPS = ((timedelta(minutes=1), "1m"), (timedelta(minutes=5), "5m"), (timedelta(minutes=10), "10m"),
                (timedelta(minutes=30), "30m"), (timedelta(hours=1), "1h"), (timedelta(hours=3), "3h"),
                (timedelta(days=1), "1d"))
SOURCE_FIELDS = ["post_id", "site", "kind", "url", "author", "title", "text", "published_at",
                 "sentiment_label", "sentiment", "is_repost", "cluster_id", "subjects", "keywords"]


def _by_sentiment() -> dict:
    return {"sentiment": {"terms": {"field": "sentiment_label", "size": len(SENTIMENTS)}}}


def build_trend(req: SearchRequest, interval: str, tokens: list[str] | None = None) -> dict:
    """Posts per hour or day (Asia/Shanghai calendar), each bucket split by sentiment."""
    histogram = {"field": "published_at", "calendar_interval": INTERVALS[interval], "time_zone": SHANGHAI_TZ,
                 "min_doc_count": 0}
    last = req.until - timedelta(milliseconds=1) if req.until else None    # until is exclusive
    bounds = {k: v.isoformat() for k, v in (("min", req.since), ("max", last)) if v}
    if bounds:
        histogram["extended_bounds"] = bounds
    return {"size": 0, "track_total_hits": True, "query": build_query(req, tokens),
            "aggs": {"trend": {"date_histogram": histogram, "aggs": _by_sentiment()}}}


def shape_buckets(buckets: list[dict]) -> list[dict]:
    out = []
    for b in buckets:
        row = {"t": b["key_as_string"], "total": b["doc_count"], **{s: 0 for s in SENTIMENTS}}
        for s in b["sentiment"]["buckets"]:
            row[s["key"]] = s["doc_count"]
        out.append(row)
    return out


def shape_trend(resp: dict, interval: str) -> dict:
    return {"total": resp["hits"]["total"]["value"], "interval": interval,
            "buckets": shape_buckets(resp["aggregations"]["trend"]["buckets"])}


def build_facets(req: SearchRequest, tokens: list[str] | None = None, size: int = 10) -> dict:
    """Top sites, kinds, keywords, subjects and entities of the same posts, plus sentiment counts."""
    aggs = {name: {"terms": {"field": field, "size": size}} for name, field in FACET_FIELDS.items()}
    aggs["sentiments"] = {"terms": {"field": "sentiment_label", "size": len(SENTIMENTS)}}
    return {"size": 0, "track_total_hits": True, "query": build_query(req, tokens), "aggs": aggs}


def shape_facets(resp: dict) -> dict:
    aggs = resp["aggregations"]
    out = {"total": resp["hits"]["total"]["value"]}
    for name in (*FACET_FIELDS, "sentiments"):
        out[name] = [{"key": b["key"], "count": b["doc_count"]} for b in aggs[name]["buckets"]]
    return out


def build_spread(req: SearchRequest, offset: int, tokens: list[str] | None = None) -> dict:
    """Stories (repost clusters) with the most matching posts first, each shown by its earliest
    matching post; paged by offset because a terms aggregation has no search_after."""
    first = {"top_hits": {"size": 1, "sort": [{"published_at": "asc"}, {"post_id": "asc"}],
                          "_source": {"excludes": ["tokens"]}}}
    if req.highlight:
        first["top_hits"]["highlight"] = HIGHLIGHT
    return {"size": 0, "track_total_hits": True, "query": build_query(req, tokens),
            "aggs": {"stories": {"terms": {"field": "cluster_id", "size": offset + req.size,
                                           "order": [{"_count": "desc"}, {"_key": "asc"}]},
                                 "aggs": {"first": first}}}}


def build_cluster(cluster_id: str, size: int = 500) -> dict:
    """Every post of one repost cluster in order of publication: the first is the 首发."""
    return {"size": size, "track_total_hits": True, "query": {"term": {"cluster_id": cluster_id}},
            "sort": [{"published_at": "asc"}, {"post_id": "asc"}], "_source": SOURCE_FIELDS,
            "aggs": {"sites": {"terms": {"field": "site", "size": 100}}}}


def build_alert_history(*, status: str | None = None, subject: str | None = None, since: datetime | None = None,
                        until: datetime | None = None, size: int = 50, search_after: tuple = ()) -> dict:
    filters: list[dict] = []
    if status:
        filters.append({"term": {"status": status}})
    if subject:
        filters.append({"term": {"subject": subject}})
    if since or until:
        filters.append({"range": {"fired_at": {k: v.isoformat() for k, v in (("gte", since), ("lt", until)) if v}}})
    body = {"size": size, "track_total_hits": True, "query": {"bool": {"filter": filters}},
            "sort": [{"fired_at": "desc"}, {"alert_id": "asc"}]}
    if search_after:
        body["search_after"] = list(search_after)
    return body


def event_interval(span: timedelta, max_buckets: int = 120) -> str:
    """The finest histogram step that keeps an event's timeline to at most max_buckets bars."""
    for step, name in _EVENT_STEPS:
        if span / step <= max_buckets:
            return name
    return _EVENT_STEPS[-1][1]


def build_event(alert: dict, samples: int = 10) -> dict:
    """The posts of an alert's subject around its window: timeline by sentiment, sites in order
    of first appearance, the earliest post (首发) and the latest ones."""
    start = datetime.fromisoformat(alert["window_start"]) - EVENT_MARGIN
    end = datetime.fromisoformat(alert["window_end"]) + EVENT_MARGIN
    req = SearchRequest("", subjects=(alert["subject"],), since=start, until=end)
    histogram = {"field": "published_at", "fixed_interval": event_interval(end - start), "time_zone": SHANGHAI_TZ,
                 "min_doc_count": 0, "extended_bounds": {"min": start.isoformat(), "max": end.isoformat()}}
    return {
        "size": samples, "track_total_hits": True, "query": build_query(req),
        "sort": [{"published_at": "desc"}, {"post_id": "asc"}], "_source": SOURCE_FIELDS,
        "aggs": {
            "timeline": {"date_histogram": histogram, "aggs": _by_sentiment()},
            "sites": {"terms": {"field": "site", "size": 50},
                      "aggs": {"first_at": {"min": {"field": "published_at"}}}},
            "sentiments": {"terms": {"field": "sentiment_label", "size": len(SENTIMENTS)}},
            "first": {"top_hits": {"size": 1, "sort": [{"published_at": "asc"}, {"post_id": "asc"}],
                                   "_source": SOURCE_FIELDS}},
        },
    }


def shape_event(alert: dict, resp: dict, samples: list[dict]) -> dict:
    aggs = resp["aggregations"]
    first = aggs["first"]["hits"]["hits"]
    sites = sorted(({"site": b["key"], "count": b["doc_count"], "first_at": b["first_at"]["value_as_string"]}
                    for b in aggs["sites"]["buckets"]), key=lambda s: (s["first_at"], s["site"]))
    return {
        "alert": alert,
        "total": resp["hits"]["total"]["value"],
        "timeline": shape_buckets(aggs["timeline"]["buckets"]),
        "sites": sites,
        "sentiments": {b["key"]: b["doc_count"] for b in aggs["sentiments"]["buckets"]},
        "first": first[0]["_source"] if first else None,
        "latest": [h["_source"] for h in resp["hits"]["hits"]],
        "samples": samples,
    }
