"""Feishu / Lark custom bot (飞书自定义机器人): `post` rich text (default) or `interactive` card.

Signing (签名校验): timestamp = now in seconds; sign = base64(HMAC-SHA256(key=timestamp + "\\n" +
secret, msg=b"")) — key and message are the reverse of DingTalk's — sent as `timestamp` and `sign`
in the JSON body. Answers carry `code` (older: `StatusCode`): 0 ok, 11232 rate limited
(retryable), 19021 bad signature or stale timestamp, 19022 IP not allowed, 19024 keyword missing,
9499 bad request. Body at most 20 KB; 100 per minute and 5 per second per bot. Sources in
docs/channels.md. Reads no settings.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

from alerting import escape, render
from alerting.channels.base import (HttpRequest, Outcome, classify_vendor, digest_alerts, group_fit, json_body,
                                    leading_fit)
from alerting.channels.markdown import MarkdownRobot
from alerting.model import Alert

MAX_BODY_BYTES = 20 * 1024
DIGEST_MAX_ALERTS = 60          # one post stays readable; the rest go in the next digest
RULE_ROW = [{"tag": "text", "text": "——"}]      # between two alerts of one group post


def sign(secret: str, timestamp_s: str) -> str:
    mac = hmac.new(f"{timestamp_s}\n{secret}".encode("utf-8"), b"", hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


def _text_row(text: str) -> list[dict]:
    return [{"tag": "text", "text": text}]


def _rows_bytes(rows: list[list[dict]]) -> int:
    """What these rows add to a post's JSON (each row and its comma)."""
    return sum(len(json_body(row)) + 1 for row in rows)


def _post_lines(alert: Alert, samples: int) -> list[list[dict]]:
    lines = [_text_row(line) for line in render.fact_lines(alert, escape.plain)]
    for i, s in enumerate(alert.samples[:samples], 1):
        title = escape.plain(s.title, 60) or "（无标题）"
        url = escape.safe_url(s.url)
        link = {"tag": "a", "text": title, "href": url} if url else {"tag": "text", "text": title}
        lines.append([{"tag": "text", "text": f"样例{i}："}, link, {"tag": "text", "text": f" — {escape.plain(s.site)}"}])
    links = [("检索该主题", alert.links.search), ("确认（停止重复提醒）", alert.links.ack), ("静默 2 小时", alert.links.silence)]
    row = [{"tag": "a", "text": label, "href": escape.safe_url(url)} for label, url in links if escape.safe_url(url)]
    if row:
        lines.append(row)
    return lines


class FeishuChannel(MarkdownRobot):
    kind = "feishu"
    max_bytes = MAX_BODY_BYTES
    per_minute = 100
    code_fields = ("code", "StatusCode")
    retryable_codes = frozenset({11232})
    known_codes = frozenset({11232, 19021, 19022, 19024, 9499})

    def __init__(self, name: str, url: str, *, secret: str = "", mentions: tuple[str, ...] = (),
                 msg_type: str = "post"):
        super().__init__(name, url, secret=secret, mentions=mentions)
        self.msg_type = msg_type if msg_type in ("post", "interactive") else "post"

    def mention_text(self) -> str:
        return " ".join(f"<at id={m}></at>" for m in self.mentions)

    def signing_bytes(self) -> int:
        # request() adds {"timestamp":"1700000000","sign":"<44 base64 characters>",
        return len('"timestamp":"1700000000","sign":"",') + 44 if self._secret else 0

    def wrap(self, title: str, text: str) -> dict:
        """An interactive card whose body is lark_md (crawled text already escaped)."""
        return {"msg_type": "interactive", "card": {
            "header": {"title": {"tag": "plain_text", "content": title}, "template": "red"},
            "elements": [{"tag": "div", "text": {"tag": "lark_md", "content": text}}]}}

    def _post(self, title: str, lines: list[list[dict]]) -> dict:
        return {"msg_type": "post", "content": {"post": {"zh_cn": {"title": title, "content": lines}}}}

    def build_group(self, alerts: list[Alert]) -> dict:
        if self.msg_type == "interactive":
            return super().build_group(alerts)
        title = render.group_headline(alerts, escape.plain, 200)
        mentions = [[{"tag": "at", "user_id": m} for m in self.mentions]] \
            if self.mentions and any(a.status == "firing" for a in alerts) else []
        for n in range(3, -1, -1):
            lines = _post_lines(alerts[0], n)
            for a in alerts[1:]:     # the post's title is the first alert's headline; the others carry theirs
                lines += [RULE_ROW, _text_row(render.headline(a, escape.plain))] + _post_lines(a, n)
            payload = self._post(title, lines + mentions)
            if len(json_body(payload)) <= self.max_bytes - 256:
                return payload
        return self._brief_post(title, alerts, mentions)

    def _brief_post(self, title: str, alerts: list[Alert], mentions: list[list[dict]]) -> dict:
        """A group whose post does not fit even without samples: its first alerts in full, the next
        as one row each, the rest counted (base.group_fit); the title counts the whole group."""
        full = [([_text_row(render.headline(a, escape.plain))] if i else []) + _post_lines(a, 0) + [RULE_ROW]
                for i, a in enumerate(alerts)]
        brief = [_text_row(render.brief_line(a, escape.plain)) for a in alerts]
        note = _text_row(render.BRIEF_NOTE)
        envelope = len(json_body(self._post(title, mentions)))
        k, b, rest = group_fit([_rows_bytes(rows) for rows in full], [_rows_bytes([row]) for row in brief],
                               _rows_bytes([_text_row(render.unlisted_line(len(alerts)))]),
                               self.max_bytes - 256 - envelope - _rows_bytes([note]))
        rows = [row for rows in full[:k] for row in rows] + ([note] + brief[k:k + b] if b else [])
        return self._post(title, rows + ([_text_row(render.unlisted_line(rest))] if rest else []) + mentions)

    def _digest_post(self, alerts: list[Alert]) -> tuple[dict, list[bytes]]:
        """The post (without alert rows when `alerts` is empty) and each alert row's JSON bytes."""
        title, lines = digest_alerts(alerts, escape.plain)
        rows = [_text_row(line) for line in lines]
        mentions = [[{"tag": "at", "user_id": m} for m in self.mentions]] if self.mentions else []
        return self._post(title, rows + mentions), [json_body(row) for row in rows]

    def digest_fit(self, alerts: list[Alert]) -> int:
        if self.msg_type == "interactive":
            return super().digest_fit(alerts)
        alerts = alerts[:DIGEST_MAX_ALERTS]
        payload, rows = self._digest_post(alerts)
        envelope = len(json_body(payload)) - sum(len(r) + 1 for r in rows)   # the title's count is the longest
        return leading_fit([len(r) + 1 for r in rows], self.max_bytes - 256 - envelope)

    def build_digest(self, alerts: list[Alert]) -> dict:
        """The alerts that fit (callers send the rest later: `digest_fit`), so the count is what is shown."""
        if self.msg_type == "interactive":
            return super().build_digest(alerts)
        return self._digest_post(alerts[:self.digest_fit(alerts)])[0]

    def request(self, payload: dict, now: datetime) -> HttpRequest:
        if self._secret:
            ts = str(int(now.timestamp()))
            payload = {"timestamp": ts, "sign": sign(self._secret, ts), **payload}
        return HttpRequest(self._url, json_body(payload), {"Content-Type": "application/json; charset=utf-8"})

    def classify(self, status: int, body: bytes) -> Outcome:
        outcome = classify_vendor(status, body, self.code_fields, self.retryable_codes, self.known_codes)
        # throttling is also answered as HTTP 400 {"code": 9499, "msg": "too many request"}
        if not outcome.ok and b"9499" in body and b"too many request" in body.lower():
            return Outcome(False, True, "errcode_9499", outcome.detail)
        return outcome
