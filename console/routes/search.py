"""Search, trend, facets and export of posts: GET /api/v1/search|trend|facets|export.csv|export.xlsx."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from console import params as P
from console.auth import Principal, require
from console.export import csv_chunks, xlsx_chunks
from console.safe import shape_hit
from indexer.analytics import build_facets, build_spread, build_trend, shape_facets, shape_trend
from indexer.queries import SearchRequest, build_query, build_search, search_sort, segment_query

router = APIRouter(prefix="/api/v1", tags=["posts"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _tokens(req: SearchRequest) -> list[str] | None:
    return segment_query(req.text) if req.text and req.mode == "phrase" else None


async def _tokens_async(req: SearchRequest) -> list[str] | None:
    return await asyncio.to_thread(_tokens, req) if req.text else None


@router.get("/search", openapi_extra=P.openapi_parameters(P.SEARCH_PARAMS),
            summary="检索帖子 / search posts: total (exact up to 10,000, then total_relation \"gte\"), hits "
                    "(highlight as safe HTML) and the next page's cursor")
async def search(request: Request, who: Principal = require("viewer")) -> dict:
    req, offset = P.parse_search(P.collect(request.query_params.multi_items(), P.SEARCH_PARAMS))
    store, tokens = request.app.state.store, await _tokens_async(req)
    if req.sort == "spread":
        resp = await store.search_posts(build_spread(req, offset, tokens))
        stories = resp["aggregations"]["stories"]["buckets"][offset:offset + req.size]
        hits = []
        for b in stories:
            first = b["first"]["hits"]["hits"][0]
            hits.append({**shape_hit(first["_source"], first.get("highlight")), "spread": b["doc_count"]})
        more = len(stories) == req.size and offset + req.size < P.MAX_SPREAD_STORIES
        return {"total": resp["hits"]["total"]["value"], "total_relation": "eq", "hits": hits,
                "next": P.encode_cursor(offset + req.size) if more else None}
    resp = await store.search_posts(build_search(req, tokens))
    raw = resp["hits"]["hits"]
    hits = [shape_hit(h["_source"], h.get("highlight")) for h in raw]
    total = resp["hits"]["total"]
    return {"total": total["value"], "total_relation": total["relation"], "hits": hits,
            "next": P.encode_cursor(raw[-1]["sort"]) if len(raw) == req.size else None}


@router.get("/trend", openapi_extra=P.openapi_parameters(P.TREND_PARAMS),
            summary="声量趋势 / posts per hour or day, stacked by sentiment")
async def trend(request: Request, who: Principal = require("viewer")) -> dict:
    req, interval = P.parse_trend(P.collect(request.query_params.multi_items(), P.TREND_PARAMS))
    resp = await request.app.state.store.search_posts(build_trend(req, interval, await _tokens_async(req)))
    return shape_trend(resp, interval)


@router.get("/facets", openapi_extra=P.openapi_parameters(P.FACET_PARAMS),
            summary="分面 / top sites, kinds, keywords, subjects, entities and sentiments of the same query")
async def facets(request: Request, who: Principal = require("viewer")) -> dict:
    req, size = P.parse_facets(P.collect(request.query_params.multi_items(), P.FACET_PARAMS))
    resp = await request.app.state.store.search_posts(build_facets(req, await _tokens_async(req), size))
    return shape_facets(resp)


def _export(request: Request, fmt: str) -> StreamingResponse:
    req, limit = P.parse_export(P.collect(request.query_params.multi_items(), P.EXPORT_PARAMS))
    body = {"query": build_query(req, _tokens(req)), "sort": search_sort("time"),
            "_source": {"excludes": ["tokens"]}}
    pages = request.app.state.store.scan_posts(body, limit)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    chunks, media = (csv_chunks(pages), "text/csv; charset=utf-8") if fmt == "csv" else (xlsx_chunks(pages), XLSX)
    return StreamingResponse(chunks, media_type=media,
                             headers={"Content-Disposition": f'attachment; filename="shaobing-{stamp}.{fmt}"'})


@router.get("/export.csv", openapi_extra=P.openapi_parameters(P.EXPORT_PARAMS),
            summary="导出 CSV / the query's posts, newest first, up to 100,000 rows")
async def export_csv(request: Request, who: Principal = require("viewer")) -> StreamingResponse:
    return _export(request, "csv")


@router.get("/export.xlsx", openapi_extra=P.openapi_parameters(P.EXPORT_PARAMS),
            summary="导出 Excel / the query's posts, newest first, up to 100,000 rows")
async def export_xlsx(request: Request, who: Principal = require("viewer")) -> StreamingResponse:
    return _export(request, "xlsx")
