"""The small HTTP face of alerting (aiohttp): signed acknowledge / silence links from the duty
messages, and a loopback-only silences API.

  GET  /ack?key&subject&exp&sig       confirmation page (link previews must not ack by GET)
  POST /ack                           records the ack -> repeats and escalation stop
  GET  /silence?...  POST /silence    silence the subject for 1 / 2 / 6 hours
  GET|POST /api/silences, DELETE /api/silences/{id}   loopback clients only
Reads no settings; `shaobing alerts serve` passes the control store, link signer and clock.
"""
from __future__ import annotations

import html
import ipaddress
import json
from datetime import datetime, timedelta
from typing import Callable

from aiohttp import web

from alerting.control import ControlStore
from alerting.errors import AlertingError
from alerting.links import LinkSigner
from alerting.rules_schema import parse_duration

CONTROL = web.AppKey("control", ControlStore)
SIGNER = web.AppKey("signer", LinkSigner)
CLOCK = web.AppKey("clock", Callable)
FIELDS = ("key", "subject", "exp", "sig")


def _page(title: str, body: str, status: int = 200) -> web.Response:
    doc = (f"<!doctype html><html lang=zh-CN><meta charset=utf-8><title>{html.escape(title)}</title>"
           f"<body style='font-family:sans-serif;max-width:40em;margin:2em auto'><h2>{html.escape(title)}</h2>"
           f"{body}</body></html>")
    return web.Response(text=doc, content_type="text/html", status=status)


def _form(action: str, params: dict, extra: str, button: str) -> str:
    hidden = "".join(f"<input type=hidden name={f} value='{html.escape(params[f], quote=True)}'>" for f in FIELDS)
    return f"<form method=post action='/{action}'>{hidden}{extra}<button type=submit>{button}</button></form>"


async def _signed(request: web.Request, action: str) -> dict | None:
    params = dict(request.query) if request.method == "GET" else dict(await request.post())
    if not all(isinstance(params.get(f), str) for f in FIELDS):
        return None
    ok = request.app[SIGNER].verify(action, params["key"], params["subject"], params["exp"], params["sig"],
                                    request.app[CLOCK]())
    return params if ok else None


async def ack(request: web.Request) -> web.Response:
    params = await _signed(request, "ack")
    if params is None:
        return _page("链接无效或已过期", "<p>请从最新的告警消息重新打开。</p>", status=403)
    subject = html.escape(params["subject"])
    if request.method == "GET":
        return _page("确认告警", f"<p>主题：<b>{subject}</b></p>" + _form(
            "ack", params, "<p>确认人：<input name=by maxlength=32></p>", "确认收到（停止重复提醒与升级）"))
    by = str((await request.post()).get("by", ""))[:32]
    request.app[CONTROL].record_ack(key=params["key"], subject=params["subject"], now=request.app[CLOCK](), by=by)
    return _page("已确认", f"<p>主题 <b>{subject}</b> 的告警已确认，不再重复提醒或升级。</p>")


async def silence(request: web.Request) -> web.Response:
    params = await _signed(request, "silence")
    if params is None:
        return _page("链接无效或已过期", "<p>请从最新的告警消息重新打开。</p>", status=403)
    subject = html.escape(params["subject"])
    if request.method == "GET":
        options = "".join(f"<option value={h}h{' selected' if h == 2 else ''}>{h} 小时</option>" for h in (1, 2, 6))
        return _page("静默告警", f"<p>主题：<b>{subject}</b></p>" + _form(
            "silence", params, f"<p>时长：<select name=duration>{options}</select></p>", "静默"))
    form = await request.post()
    hours = {"1h": 1, "2h": 2, "6h": 6}.get(str(form.get("duration", "2h")), 2)
    s = request.app[CONTROL].add_silence(subject=params["subject"], duration=timedelta(hours=hours),
                                         now=request.app[CLOCK](), created_by=str(form.get("by", "link"))[:32],
                                         comment="静默链接")
    return _page("已静默", f"<p>主题 <b>{subject}</b> 静默至 {html.escape(s['ends_at'])}（UTC）。</p>")


@web.middleware
async def loopback_only(request: web.Request, handler):
    if request.path.startswith("/api/"):
        try:
            local = ipaddress.ip_address(request.remote or "").is_loopback
        except ValueError:
            local = False
        if not local:
            return web.json_response({"error": "the silences API accepts loopback clients only"}, status=403)
    return await handler(request)


async def list_silences(request: web.Request) -> web.Response:
    return web.json_response(request.app[CONTROL].active_silences(request.app[CLOCK]()))


async def create_silence(request: web.Request) -> web.Response:
    try:
        body = json.loads(await request.read())
        s = request.app[CONTROL].add_silence(
            subject=str(body["subject"]), rule=str(body.get("rule", "")),
            duration=timedelta(seconds=parse_duration(body.get("duration", "2h"))), now=request.app[CLOCK](),
            created_by=str(body.get("created_by", "")), comment=str(body.get("comment", "")))
    except (ValueError, KeyError, TypeError, AlertingError) as exc:
        return web.json_response({"error": f"bad silence: {exc}"}, status=400)
    return web.json_response(s, status=201)


async def expire_silence(request: web.Request) -> web.Response:
    found = request.app[CONTROL].expire_silence(request.match_info["id"], request.app[CLOCK]())
    return web.json_response({"expired": found}, status=200 if found else 404)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def make_app(control: ControlStore, signer: LinkSigner, clock: Callable[[], datetime]) -> web.Application:
    app = web.Application(middlewares=[loopback_only], client_max_size=64 * 1024)
    app[CONTROL], app[SIGNER], app[CLOCK] = control, signer, clock
    for path, handler in (("/ack", ack), ("/silence", silence)):
        app.router.add_get(path, handler)
        app.router.add_post(path, handler)
    app.router.add_get("/api/silences", list_silences)
    app.router.add_post("/api/silences", create_silence)
    app.router.add_delete("/api/silences/{id}", expire_silence)
    app.router.add_get("/healthz", healthz)
    return app
