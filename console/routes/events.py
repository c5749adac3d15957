"""Where a story spread: GET /api/v1/clusters/{cluster_id} (首发 and every repost) and
GET /api/v1/alerts/{alert_id}/event (the posts behind one alert)."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request

from console.auth import Principal, require
from console.safe import shape_hit
from indexer.analytics import build_cluster, build_event, shape_event

router = APIRouter(prefix="/api/v1", tags=["events"])


@router.get("/clusters/{cluster_id}", summary="转载聚类 / the first post (首发) and every repost, with site and time")
async def cluster(cluster_id: str, request: Request, who: Principal = require("viewer")) -> dict:
    resp = await request.app.state.store.search_posts(build_cluster(cluster_id))
    posts = [shape_hit(h["_source"]) for h in resp["hits"]["hits"]]
    if not posts:
        raise HTTPException(404, detail={"error": "没有这个聚类 / no such cluster", "parameter": "cluster_id"})
    first = next((p for p in posts if p["post_id"] == cluster_id), posts[0])
    return {"cluster_id": cluster_id, "total": resp["hits"]["total"]["value"], "first": first, "posts": posts,
            "sites": [{"site": b["key"], "count": b["doc_count"]}
                      for b in resp["aggregations"]["sites"]["buckets"]]}


@router.get("/alerts/{alert_id}/event", summary="告警事件 / the alert's posts over time, sites, sentiment, samples")
async def event(alert_id: str, request: Request, who: Principal = require("viewer")) -> dict:
    store = request.app.state.store
    alert = await store.alert(alert_id)
    if alert is None:
        raise HTTPException(404, detail={"error": "没有这条告警 / no such alert", "parameter": "alert_id"})
    resp = await store.search_posts(build_event(alert))
    samples = await store.posts_by_id(alert.get("sample_post_ids", []))
    shaped = shape_event(alert, resp, [shape_hit(s) for s in samples])
    shaped["first"] = shape_hit(shaped["first"]) if shaped["first"] else None
    shaped["latest"] = [shape_hit(p) for p in shaped["latest"]]
    return shaped
