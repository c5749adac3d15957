"""舆情档案 over the API: GET /api/v1/cases, /cases/{id} (viewer); POST /cases, /cases/{id}/notes,
/cases/{id}/status (duty); GET /api/v1/handoff (viewer): open cases and unacknowledged alerts for
the shift hand-off. Every edit carries the `version` the editor read: a stale one gets HTTP 409
naming the case (indexer.cases.CaseConflict, mapped in console/app.py)."""
from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from console.auth import Principal, require
from indexer.analytics import build_alert_history
from indexer.cases import (CASES_ALIAS, OPEN_STATUSES, STATUSES, CaseError, CaseNotFound, CaseStore, add_note,
                           set_status)
from indexer.documents import ALERTS_ALIAS, POSTS_ALIAS

router = APIRouter(prefix="/api/v1", tags=["cases"])
HANDOFF_ALERTS = timedelta(hours=24)


def case_store(request: Request) -> CaseStore:
    settings = request.app.state.settings
    return CaseStore(request.app.state.store.es, cases=settings.alias(CASES_ALIAS), posts=settings.alias(POSTS_ALIAS),
                     alerts=settings.alias(ALERTS_ALIAS))


def _bad(exc: CaseError, parameter: str) -> HTTPException:
    return HTTPException(400, detail={"error": str(exc), "parameter": parameter})


async def _get(request: Request, case_id: str) -> tuple[dict, str]:
    try:
        return await case_store(request).get(case_id)
    except CaseNotFound as exc:
        raise HTTPException(404, detail={"error": str(exc), "parameter": "case_id"}) from None


class CaseIn(BaseModel):
    title: str = Field("", max_length=200)
    owner: str = Field("", max_length=64)
    alert_id: str | None = Field(None, max_length=300)
    subject: str | None = Field(None, max_length=200)
    since: datetime | None = None
    until: datetime | None = None
    post_ids: list[str] | None = Field(None, max_length=200)


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=2000)
    version: str = Field(min_length=3, max_length=40, description="the version from GET /cases/{id}")


class StatusIn(BaseModel):
    status: str = Field(description=" / ".join(STATUSES))
    owner: str | None = Field(None, max_length=64)
    version: str = Field(min_length=3, max_length=40)


@router.get("/cases", summary="舆情档案列表 / cases, most recently updated first")
async def cases(request: Request, status: str | None = None, who: Principal = require("viewer")) -> dict:
    if status is not None and status not in STATUSES:
        raise HTTPException(400, detail={"error": f"status must be one of {' / '.join(STATUSES)}", "parameter": "status"})
    return {"cases": await case_store(request).list((status,) if status else ())}


@router.get("/cases/{case_id}", summary="档案详情 / one case: notes timeline, frozen posts, version for edits")
async def case(case_id: str, request: Request, who: Principal = require("viewer")) -> dict:
    doc, version = await _get(request, case_id)
    return {"case": doc, "version": version}


@router.post("/cases", status_code=201, summary="立档 / open a case from an alert, an event or posts (duty)")
async def open_case(body: CaseIn, request: Request, who: Principal = require("duty")) -> dict:
    try:
        doc = await case_store(request).open(by=who.name, now=request.app.state.clock(), owner=body.owner, title=body.title,
                                             alert_id=body.alert_id, subject=body.subject, since=body.since,
                                             until=body.until, post_ids=body.post_ids)
    except CaseError as exc:
        raise _bad(exc, "body") from None
    return {"case": doc}


async def _edit(request: Request, case_id: str, version: str, change) -> dict:
    doc, _ = await _get(request, case_id)
    try:
        doc = change(doc)
        new_version = await case_store(request).save(doc, version)
    except CaseError as exc:
        raise _bad(exc, "body") from None
    return {"case": doc, "version": new_version}


@router.post("/cases/{case_id}/notes", summary="处置记录 / add a note (duty); 409 if the case changed since `version`")
async def note(case_id: str, body: NoteIn, request: Request, who: Principal = require("duty")) -> dict:
    now = request.app.state.clock()
    return await _edit(request, case_id, body.version, lambda c: add_note(c, text=body.text, by=who.name, now=now))


@router.post("/cases/{case_id}/status", summary="改状态 / set status and owner (duty); 409 if stale")
async def status(case_id: str, body: StatusIn, request: Request, who: Principal = require("duty")) -> dict:
    now = request.app.state.clock()
    return await _edit(request, case_id, body.version,
                       lambda c: set_status(c, status=body.status, by=who.name, now=now, owner=body.owner))


@router.get("/handoff", summary="交接班 / open cases and the last 24 h's unacknowledged alerts")
async def handoff(request: Request, who: Principal = require("viewer")) -> dict:
    now = request.app.state.clock()
    resp = await request.app.state.store.search_alerts(build_alert_history(since=now - HANDOFF_ALERTS, size=200))
    acks = request.app.state.duty.acks()
    pending = [h["_source"] for h in resp["hits"]["hits"]
               if h["_source"]["dedup_key"] not in acks and h["_source"]["status"] != "resolved"]
    return {"at": now.isoformat(), "open_cases": await case_store(request).list(OPEN_STATUSES), "unacked_alerts": pending}
