"""Pipeline health for operators: GET /api/v1/health — the checks of `shaobing status` (stack,
Prometheus and its firing alerts, workers, crawler rounds, lag, freshness, last alert, dead
letters) and, when Prometheus runs, the recorded rates from its HTTP API. Reads the Settings the
app was created with (app.state.settings)."""
from __future__ import annotations

import asyncio
import math

from fastapi import APIRouter, Request

from console.auth import Principal, require

router = APIRouter(prefix="/api/v1", tags=["health"])

# recording rules of infra/prometheus/recording.yml shown on the page, by key
SERIES = {
    "records_per_s": "shaobing:stream_records:rate5m",
    "dead_letters_per_s": "shaobing:stream_dead_letters:rate5m",
    "lag_records": "shaobing:consumer_lag_records:max",
    "lag_seconds": "shaobing:consumer_lag_seconds:max",
    "freshness_p99_s": "shaobing:index_freshness_seconds:p99_5m",
    "channel_failures_15m": "shaobing:alerting_notifications_failed:increase15m",
    "source_errors_15m": "shaobing:crawler_errors:increase15m",
}


def finite(value: float) -> float | None:
    """JSON has no NaN (a quantile of no data) or infinity: they become null."""
    return value if math.isfinite(value) else None


def snapshot(settings) -> dict:
    """Blocking: gathers readings from Kafka, Elasticsearch, Prometheus and the processes."""
    from shaobing.commands.status import gather, prometheus_query
    from shaobing.health import as_json, exit_code, judge, verdict

    readings = gather(settings)
    checks = judge(readings)
    series = None
    if readings.prometheus and readings.prometheus[0]:
        ns = settings.namespace or "default"
        series = {key: [{"labels": {k: v for k, v in r["metric"].items() if k not in ("__name__", "namespace")},
                         "value": finite(float(r["value"][1]))}
                        for r in prometheus_query(settings.prometheus_api, f'{name}{{namespace="{ns}"}}')]
                  for key, name in SERIES.items()}
    return {"namespace": settings.namespace or "default", "verdict": verdict(checks),
            "exit_code": exit_code(checks), "checks": as_json(checks),
            "prometheus": {"url": settings.prometheus_api, "series": series} if series is not None else None}


@router.get("/health", summary="运行状况 / pipeline health: every part's check and Prometheus's recorded rates")
async def health(request: Request, who: Principal = require("viewer")) -> dict:
    return await asyncio.to_thread(snapshot, request.app.state.settings)
