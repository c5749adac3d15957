"""Fake DingTalk, WeCom and Feishu robots on loopback (aiohttp), faithful where it matters:
they check the signature the way the vendor does against their own (pinned) clock, enforce the
vendor's rate limit, answer failures as HTTP 200 with the vendor's error body, and can be scripted
to answer 429 / 5xx. Accepted messages are recorded."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections import deque
from datetime import timedelta
from urllib.parse import quote_plus

from aiohttp import web
from aiohttp.test_utils import TestServer


class FakeRobot:
    def __init__(self, clock, *, token: str, secret: str = "", per_minute: int = 20):
        self.clock, self.token, self.secret, self.per_minute = clock, token, secret, per_minute
        self.accepted: list[dict] = []
        self.answers: list[dict] = []          # every answer, in order
        self.script: list[int | dict] = []     # next answers: an HTTP status or an error body
        self._sent: deque = deque()
        self.server: TestServer | None = None

    async def start(self) -> "FakeRobot":
        app = web.Application()
        app.router.add_post(self.path_pattern, self._handle)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        return self

    async def close(self) -> None:
        await self.server.close()

    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def _throttled(self, limits) -> bool:
        now = self.clock()
        while self._sent and now - self._sent[0] >= timedelta(seconds=max(w for _, w in limits)):
            self._sent.popleft()
        if any(sum(1 for t in self._sent if now - t < timedelta(seconds=w)) >= n for n, w in limits):
            return True
        self._sent.append(now)
        return False

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        if self.script:
            step = self.script.pop(0)
            if isinstance(step, int):
                self.answers.append({"http": step})
                return web.Response(status=step, text="upstream error")
            return self._answer(step)
        return self._answer(self.check(request, raw))

    def _answer(self, body: dict) -> web.Response:
        self.answers.append(body)
        return web.json_response(body, status=200)


class FakeDingTalk(FakeRobot):
    path_pattern = "/robot/send"

    def url(self) -> str:
        return f"{self.base()}/robot/send?access_token={self.token}"

    def check(self, request, raw: bytes) -> dict:
        q = request.query
        if q.get("access_token") != self.token:
            return {"errcode": 300001, "errmsg": "token is not exist"}
        if self.secret:
            ts, sign = q.get("timestamp", ""), request.rel_url.raw_query_string.split("sign=")[-1]
            mac = hmac.new(self.secret.encode(), f"{ts}\n{self.secret}".encode(), hashlib.sha256).digest()
            if not ts.isdigit() or abs(int(ts) / 1000 - self.clock().timestamp()) > 3600:
                return {"errcode": 310000, "errmsg": "invalid timestamp"}
            if sign != quote_plus(base64.b64encode(mac)):
                return {"errcode": 310000, "errmsg": "sign not match"}
        if len(raw) > 20000:
            return {"errcode": 460101, "errmsg": "message too long, exceed 20000 bytes"}
        if self._throttled([(self.per_minute, 60)]):
            return {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}
        self.accepted.append(json.loads(raw))
        return {"errcode": 0, "errmsg": "ok"}


class FakeWeCom(FakeRobot):
    path_pattern = "/cgi-bin/webhook/send"

    def url(self) -> str:
        return f"{self.base()}/cgi-bin/webhook/send?key={self.token}"

    def check(self, request, raw: bytes) -> dict:
        if request.query.get("key") != self.token:
            return {"errcode": 93000, "errmsg": "invalid webhook url, hint: [x]"}
        body = json.loads(raw)
        if len(body.get("markdown", {}).get("content", "").encode("utf-8")) > 4096:
            return {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"}
        if self._throttled([(self.per_minute, 60)]):
            return {"errcode": 45009, "errmsg": "api freq out of limit"}
        self.accepted.append(body)
        return {"errcode": 0, "errmsg": "ok"}


class FakeFeishu(FakeRobot):
    path_pattern = "/open-apis/bot/v2/hook/{token}"

    def url(self) -> str:
        return f"{self.base()}/open-apis/bot/v2/hook/{self.token}"

    def check(self, request, raw: bytes) -> dict:
        if request.match_info["token"] != self.token:
            return {"code": 19001, "data": {}, "msg": "param invalid: incoming webhook access token invalid"}
        if len(raw) > 20 * 1024:
            return {"code": 9499, "data": {}, "msg": "Bad Request"}
        body = json.loads(raw)
        if self.secret:
            ts = str(body.get("timestamp", ""))
            mac = hmac.new(f"{ts}\n{self.secret}".encode(), b"", hashlib.sha256).digest()
            if (not ts.isdigit() or abs(int(ts) - self.clock().timestamp()) > 3600
                    or body.get("sign") != base64.b64encode(mac).decode()):
                return {"code": 19021, "data": {}, "msg": "sign match fail or timestamp is not within one hour from current time"}
        if self._throttled([(5, 1), (100, 60)]):
            return {"code": 11232, "data": {}, "msg": "frequency limited psm[lark.oapi.app_platform_runtime]"}
        self.accepted.append(body)
        return {"code": 0, "data": {}, "msg": "success"}
