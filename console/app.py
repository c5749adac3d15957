"""The analysts' console: the JSON API under /api/v1 (token auth, roles) and the web pages.
Reads Settings (Elasticsearch URL, namespace, state dir) through ConsoleStore and Duty.

Only /healthz and the static page shell (HTML, JS, CSS: no data) answer without a token; every
/api/v1 route declares its least role with console.auth.require. The OpenAPI document is at
/api/v1/openapi.json (token needed; FastAPI's own docs pages are off: they load from a CDN).
ECharts is served from console/node_modules (installed by `make install` from the lockfile).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from pathlib import Path

from elasticsearch import ApiError, TransportError
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from console.auth import Principal, require
from console.duty import Duty
from console.params import BadParameter
from console.routes import alerts, cases, events, health, reports, search, tokens
from console.store import ConsoleStore, StoreError
from indexer.cases import CaseConflict

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
WEB = HERE / "web"
ECHARTS = HERE / "node_modules" / "echarts" / "dist" / "echarts.min.js"
SECURITY_HEADERS = {
    # no inline script can run: crawled text that slipped into markup would still be inert
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
                               "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _error(status: int, error: str, parameter: str | None = None) -> JSONResponse:
    body = {"error": error, **({"parameter": parameter} if parameter else {})}
    return JSONResponse(body, status_code=status)


def create_app(settings, *, store: ConsoleStore | None = None, duty: Duty | None = None,
               clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.store = store or ConsoleStore(settings)
        app.state.duty = duty or Duty(settings)
        app.state.clock = clock
        app.state.settings = settings
        try:
            yield
        finally:
            await app.state.store.close()
            if duty is None:
                app.state.duty.close()

    app = FastAPI(title="舆情哨兵 console API", version="1", lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url=None)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        if request.url.path.startswith("/api/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.exception_handler(BadParameter)
    async def bad_parameter(request: Request, exc: BadParameter):
        return _error(400, exc.message, exc.parameter)

    @app.exception_handler(RequestValidationError)
    async def bad_body(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {"loc": ("body",), "msg": "invalid"}
        return _error(400, first["msg"], str(first["loc"][-1]))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        body = exc.detail if isinstance(exc.detail, dict) else {"error": str(exc.detail)}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(StoreError)
    async def store_error(request: Request, exc: StoreError):
        log.warning("console request %s failed: %s", request.url.path, exc)
        return _error(503, "检索服务暂不可用 / Elasticsearch is not answering; try again")

    @app.exception_handler(CaseConflict)
    async def case_conflict(request: Request, exc: CaseConflict):
        return JSONResponse({"error": str(exc), "case_id": exc.case_id}, status_code=409)

    @app.exception_handler(ApiError)
    @app.exception_handler(TransportError)
    async def elasticsearch_error(request: Request, exc: Exception):
        return await store_error(request, StoreError(f"elasticsearch: {exc.__class__.__name__}: {str(exc)[:300]}"))

    @app.get("/healthz", include_in_schema=False)
    async def healthz(request: Request) -> dict:
        return {"status": "ok", "elasticsearch": await request.app.state.store.healthy()}

    @app.get("/api/v1/openapi.json", include_in_schema=False)
    async def openapi(who: Principal = require("viewer")) -> dict:
        return app.openapi()

    for module in (search, events, alerts, tokens, cases, reports, health):
        app.include_router(module.router)

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(WEB / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/vendor/echarts.min.js", include_in_schema=False)
    async def echarts() -> FileResponse:
        if not ECHARTS.is_file():
            raise HTTPException(503, detail={"error": f"{ECHARTS} is missing: run `make install` (npm ci in console/)"})
        return FileResponse(ECHARTS, media_type="text/javascript")

    app.mount("/static", StaticFiles(directory=WEB), name="static")
    return app
