"""《舆情摘报》 over the API: GET /api/v1/reports/{period}?date=YYYY-MM-DD|until=ISO&format=html|md|docx
(viewer). Built on request from the index (same index + period -> same report); HTML opens in
the browser, DOCX downloads, Markdown is what the duty channel gets."""
from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from console.auth import Principal, require
from indexer.reports.gather import report_for
from indexer.reports.model import PERIODS, report_period
from indexer.reports.render import RENDERERS

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
