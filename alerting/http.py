"""The small HTTP face of alerting (aiohttp): signed acknowledge / silence links from the duty
messages, and a silences API for scripts.

  GET  /ack?v&key&subject&ep&exp&sig  confirmation page (link previews must not ack by GET)
  POST /ack                           records the ack of that episode -> repeats and escalation stop
  GET  /silence?...  POST /silence    silence the subject (literally) for 1 / 2 / 6 hours
  GET|POST /api/silences, DELETE /api/silences/{id}
      loopback clients only AND `Authorization: Bearer <token>` (the token from
      Settings.alerts_api_token_file); without a configured token the API is closed (403).
      Behind a same-host reverse proxy every request looks loopback, so the token is what counts.
Links are idempotent: a replayed silence link finds the silence it made (its id comes from the
link), a replayed ack link re-acks the same episode only. Malformed link input is a 400.
Reads no settings; `shaobing alerts serve` passes the control store, signer, token and clock.
"""
from __future__ import annotations

import hmac
import html
import ipaddress
import json
from datetime import datetime, timedelta
from typing import Callable

from aiohttp import web

from alerting.control import ControlBase
from alerting.errors import AlertingError
from alerting.links import FIELDS, LinkSigner, link_id
from alerting.rules_schema import parse_duration

CONTROL = web.AppKey("control", ControlBase)
SIGNER = web.AppKey("signer", LinkSigner)
CLOCK = web.AppKey("clock", Callable)
TOKEN = web.AppKey("token", str)
MAX_FIELD = 512


def _page(title: str, body: str, status: int = 200) -> web.Response:
    doc = (f"<!doctype html><html lang=zh-CN><meta charset=utf-8><title>{html.escape(title)}</title>"
           f"<body style='font-family:sans-serif;max-width:40em;margin:2em auto'><h2>{html.escape(title)}</h2>"
           f"{body}</body></html>")
    return web.Response(text=doc, content_type="text/html", status=status)


def _form(action: str, params: dict, extra: str, button: str) -> str:
    hidden = "".join(f"<input type=hidden name={f} value='{html.escape(params[f], quote=True)}'>" for f in FIELDS)
    return f"<form method=post action='/{action}'>{hidden}{extra}<button type=submit>{button}</button></form>"


class BadLink(Exception):
    """The link's fields are missing or malformed (not merely a wrong signature)."""


async def _signed(request: web.Request, action: str) -> dict | None:
    params = dict(request.query) if request.method == "GET" else dict(await request.post())
    picked = {f: params.get(f) for f in FIELDS}
    if not all(isinstance(v, str) and len(v) <= MAX_FIELD for v in picked.values()):
        raise BadLink()
    if not (picked["sig"].isascii() and picked["exp"].isascii()):
        raise BadLink()
    return picked if request.app[SIGNER].verify(action, picked, request.app[CLOCK]()) else None


INVALID = ("链接无效或已过期", "<p>请从最新的告警消息重新打开。</p>")


async def ack(request: web.Request) -> web.Response:
    try:
        params = await _signed(request, "ack")
    except BadLink:
        return _page("链接格式错误", "<p>链接不完整或被改动。</p>", status=400)
    if params is None:
        return _page(*INVALID, status=403)
    subject = html.escape(params["subject"])
    if request.method == "GET":
        return _page("确认告警", f"<p>主题：<b>{subject}</b></p>" + _form(
            "ack", params, "<p>确认人：<input name=by maxlength=32></p>", "确认收到（停止重复提醒与升级）"))
    by = str((await request.post()).get("by", ""))[:32]
    request.app[CONTROL].record_ack(key=params["key"], subject=params["subject"], now=request.app[CLOCK](), by=by,
                                    episode=params["ep"])
    return _page("已确认", f"<p>主题 <b>{subject}</b> 的本次告警已确认，不再重复提醒或升级。</p>")


async def silence(request: web.Request) -> web.Response:
    try:
        params = await _signed(request, "silence")
    except BadLink:
        return _page("链接格式错误", "<p>链接不完整或被改动。</p>", status=400)
    if params is None:
        return _page(*INVALID, status=403)
    subject = html.escape(params["subject"])
    if request.method == "GET":
        options = "".join(f"<option value={h}h{' selected' if h == 2 else ''}>{h} 小时</option>" for h in (1, 2, 6))
        return _page("静默告警", f"<p>主题：<b>{subject}</b></p>" + _form(
            "silence", params, f"<p>时长：<select name=duration>{options}</select></p>", "静默"))
    form = await request.post()
    hours = {"1h": 1, "2h": 2, "6h": 6}.get(str(form.get("duration", "2h")), 2)
    s = request.app[CONTROL].add_silence(subject=params["subject"], duration=timedelta(hours=hours),
                                         now=request.app[CLOCK](), created_by=str(form.get("by", "link"))[:32],
                                         comment="静默链接", silence_id=link_id(params["sig"]))
    return _page("已静默", f"<p>主题 <b>{subject}</b> 静默至 {html.escape(s['ends_at'])}（UTC）。</p>")


@web.middleware
async def api_guard(request: web.Request, handler):
    if request.path.startswith("/api/"):
        try:
            local = ipaddress.ip_address(request.remote or "").is_loopback
        except ValueError:
            local = False
        if not local:
            return web.json_response({"error": "the silences API accepts loopback clients only"}, status=403)
        token = request.app[TOKEN]
        if not token:
            return web.json_response({"error": "the silences API is closed: no token configured "
                                               "(SHAOBING_ALERTS_API_TOKEN_FILE)"}, status=403)
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode("utf-8", "replace"), token.encode("utf-8")):
            return web.json_response({"error": "missing or wrong token"}, status=401,
                                     headers={"WWW-Authenticate": "Bearer"})
    return await handler(request)


async def list_silences(request: web.Request) -> web.Response:
    return web.json_response(request.app[CONTROL].active_silences(request.app[CLOCK]()))


async def create_silence(request: web.Request) -> web.Response:
    try:
        body = json.loads(await request.read())
        s = request.app[CONTROL].add_silence(
            subject=str(body["subject"]), rule=str(body.get("rule", "")), glob=body.get("glob") is True,
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


def make_app(control: ControlBase, signer: LinkSigner, clock: Callable[[], datetime], *,
             api_token: str = "") -> web.Application:
    app = web.Application(middlewares=[api_guard], client_max_size=64 * 1024)
    app[CONTROL], app[SIGNER], app[CLOCK], app[TOKEN] = control, signer, clock, api_token
    for path, handler in (("/ack", ack), ("/silence", silence)):
        app.router.add_get(path, handler)
        app.router.add_post(path, handler)
    app.router.add_get("/api/silences", list_silences)
    app.router.add_post("/api/silences", create_silence)
    app.router.add_delete("/api/silences/{id}", expire_silence)
    app.router.add_get("/healthz", healthz)
    return app
