"""DingTalk custom robot (钉钉自定义机器人): markdown with @mobiles, optional 加签 signing.

Signing: timestamp = now in milliseconds; sign = urlencode(base64(HMAC-SHA256(key=secret,
msg=timestamp + "\\n" + secret))); both appended to the webhook URL as query parameters, on a new
URL each send (the configured URL is never modified). Failures come back as HTTP 200 with
errcode: 130101 sending too fast (retryable), 310000 sign/keyword/IP rejected, 460101 body too
large (permanent). 20 messages per minute per robot. Sources in docs/channels.md. Reads no settings.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from urllib.parse import quote_plus

from alerting.channels.base import HttpRequest, json_body
from alerting.channels.markdown import MarkdownRobot


def sign(secret: str, timestamp_ms: str) -> str:
    """The 加签 value, already URL-encoded exactly once (as the vendor's Python sample does)."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode("utf-8"), hashlib.sha256)
    return quote_plus(base64.b64encode(mac.digest()))


class DingTalkChannel(MarkdownRobot):
    kind = "dingtalk"
    max_bytes = 20_000
    per_minute = 20
    retryable_codes = frozenset({130101})
    known_codes = frozenset({130101, 310000, 460101, 101002, 300001, 400013, 90030})

    def mention_text(self) -> str:
        # the @mobile must also appear in the text for DingTalk to render the mention
        return " ".join(f"@{m}" for m in self.mentions)

    def wrap(self, title: str, text: str) -> dict:
        return {"msgtype": "markdown", "markdown": {"title": title, "text": text},
                "at": {"atMobiles": list(self.mentions), "isAtAll": False}}

    def request(self, payload: dict, now: datetime) -> HttpRequest:
        url = self._url
        if self._secret:
            ts = str(int(now.timestamp() * 1000))
            url = f"{url}{'&' if '?' in url else '?'}timestamp={ts}&sign={sign(self._secret, ts)}"
        return HttpRequest(url, json_body(payload), {"Content-Type": "application/json; charset=utf-8"})
