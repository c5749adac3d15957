"""Alert history with deliveries and acks (GET /api/v1/alerts), and the duty actions: ack an
alert, list / add / expire silences. Duty actions go through console.duty only."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from console import params as P
from console.auth import Principal, require
from console.duty import AlertingError
from indexer.analytics import build_alert_history

router = APIRouter(prefix="/api/v1", tags=["alerts"])


@router.get("/alerts", openapi_extra=P.openapi_parameters(P.ALERT_PARAMS),
            summary="告警历史 / alert history: status, deliveries (channel, delivered_at) and acks, newest first")
async def alerts(request: Request, who: Principal = require("viewer")) -> dict:
    query = P.parse_alerts(P.collect(request.query_params.multi_items(), P.ALERT_PARAMS))
    resp = await request.app.state.store.search_alerts(build_alert_history(**query))
    acks = request.app.state.duty.acks()
    raw = resp["hits"]["hits"]
    items = [{**h["_source"], "ack": acks.get(h["_source"]["dedup_key"])} for h in raw]
    return {"total": resp["hits"]["total"]["value"], "alerts": items,
            "next": P.encode_cursor(raw[-1]["sort"]) if len(raw) == query["size"] else None}


@router.post("/alerts/{alert_id}/ack", summary="确认告警 / acknowledge: repeats and escalation stop (duty)")
async def ack(alert_id: str, request: Request, who: Principal = require("duty")) -> dict:
    alert = await request.app.state.store.alert(alert_id)
    if alert is None:
        raise HTTPException(404, detail={"error": "没有这条告警 / no such alert", "parameter": "alert_id"})
    now = request.app.state.clock()
    request.app.state.duty.ack(dedup_key=alert["dedup_key"], subject=alert["subject"], by=who.name, now=now)
    return {"acked": alert["dedup_key"], "by": who.name, "at": now.isoformat()}


class SilenceIn(BaseModel):
    subject: str = Field(min_length=1, max_length=200, description="主题或通配符 / subject or glob, e.g. 某县*")
    rule: str = Field("", max_length=64)
    duration: str = Field("2h", max_length=16, description="30m, 2h, 1d (at most 30 days)")
    comment: str = Field("", max_length=500)


@router.get("/silences", summary="生效中的静默 / active silences")
async def silences(request: Request, who: Principal = require("viewer")) -> dict:
    return {"silences": request.app.state.duty.silences(request.app.state.clock())}


@router.post("/silences", summary="静默 / silence a subject (duty)")
async def add_silence(body: SilenceIn, request: Request, who: Principal = require("duty")) -> dict:
    try:
        return request.app.state.duty.silence(subject=body.subject, rule=body.rule, duration=body.duration,
                                              by=who.name, comment=body.comment, now=request.app.state.clock())
    except (AlertingError, ValueError) as exc:
        raise HTTPException(400, detail={"error": str(exc), "parameter": "duration"}) from exc


@router.delete("/silences/{silence_id}", summary="解除静默 / expire a silence (duty)")
async def expire_silence(silence_id: str, request: Request, who: Principal = require("duty")) -> dict:
    if not request.app.state.duty.expire(silence_id, request.app.state.clock()):
        raise HTTPException(404, detail={"error": "没有生效中的静默 / no active silence", "parameter": "silence_id"})
    return {"expired": silence_id}
