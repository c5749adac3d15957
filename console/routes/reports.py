"""《舆情摘报》 over the API: GET /api/v1/reports/{period}?date=YYYY-MM-DD|until=ISO&format=html|md|docx
(viewer). Built on request from the index (same index + period -> same report); HTML opens in
the browser, DOCX downloads, Markdown is what the duty channel gets."""
from __future__ import annotations

from datetime import date, datetime

from elasticsearch import NotFoundError
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from console.auth import Principal, require
from indexer.reports.gather import report_for
from indexer.reports.model import PERIODS, report_period
from indexer.reports.render import RENDERERS
from indexer.reports.scheduler import REPORTS_ALIAS

router = APIRouter(prefix="/api/v1", tags=["reports"])
MEDIA = {"html": "text/html; charset=utf-8", "md": "text/markdown; charset=utf-8",
         "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


@router.get("/reports/{period}", summary="舆情摘报 / a daily, shift or weekly report as html, md or docx")
async def report(period: str, request: Request, until: datetime | None = None, format: str = "html",
                 who: Principal = require("viewer")) -> Response:
    if period not in PERIODS:
        raise HTTPException(400, detail={"error": f"period must be one of {', '.join(PERIODS)}", "parameter": "period"})
    if format not in RENDERERS:
        raise HTTPException(400, detail={"error": "format must be html, md or docx", "parameter": "format"})
    day = request.query_params.get("date")
    try:
        span = report_period(period, day=date.fromisoformat(day) if day else None, until=until,
                             now=request.app.state.clock())
    except ValueError as exc:
        raise HTTPException(400, detail={"error": str(exc), "parameter": "date"}) from None
    built = await report_for(request.app.state.store.es, request.app.state.settings, span, request.app.state.duty.acks())
    body = RENDERERS[format](built)
    name = f"report-{period}-{span.end.strftime('%Y%m%d-%H%M')}.{format}"
    disposition = "attachment" if format == "docx" else "inline"
    headers = {"Content-Disposition": f'{disposition}; filename="{name}"'}
    return Response(body, media_type=MEDIA[format], headers=headers)


@router.get("/reports", summary="已归档摘报 / scheduled reports archived by `shaobing report-schedule`, newest first")
async def archived(request: Request, who: Principal = require("viewer")) -> dict:
    index = request.app.state.settings.alias(REPORTS_ALIAS)
    es = request.app.state.store.es
    if not await es.indices.exists(index=index):
        return {"reports": []}
    resp = await es.search(index=index, size=100, sort=[{"period_end": "desc"}, {"report_id": "asc"}],
                           source_excludes=["markdown", "html", "summary"])
    return {"reports": [h["_source"] for h in resp.body["hits"]["hits"]]}


@router.get("/reports/archive/{report_id}", summary="归档摘报原文 / one archived report as html or md")
async def archived_one(report_id: str, request: Request, format: str = "html", who: Principal = require("viewer")) -> Response:
    if format not in ("html", "md"):
        raise HTTPException(400, detail={"error": "format must be html or md", "parameter": "format"})
    try:
        doc = (await request.app.state.store.es.get(index=request.app.state.settings.alias(REPORTS_ALIAS),
                                                    id=report_id)).body["_source"]
    except NotFoundError:
        raise HTTPException(404, detail={"error": "没有这份摘报 / no such report", "parameter": "report_id"}) from None
    return Response(doc["html" if format == "html" else "markdown"], media_type=MEDIA[format])
