"""WeCom group robot (企业微信群机器人): markdown, at most 4096 bytes of UTF-8 content.

No signing: the `key` in the webhook URL is the only credential, so the URL is a secret. Mentions
use `<@userid>` inside the markdown. Failures come back as HTTP 200 with errcode: 45009 rate
limited (retryable), 93000 invalid webhook URL, 40058 content too long (permanent). 20 messages
per minute per robot. Sources in docs/channels.md. Reads no settings.
"""
from __future__ import annotations

from datetime import datetime

from alerting import escape
from alerting.channels.base import HttpRequest, json_body
from alerting.channels.markdown import MarkdownRobot

MARKDOWN_MAX_BYTES = 4096


class WeComChannel(MarkdownRobot):
    kind = "wecom"
    max_bytes = MARKDOWN_MAX_BYTES
    per_minute = 20
    retryable_codes = frozenset({45009, -1})
    known_codes = frozenset({45009, 93000, 40058, 44004, -1})

    def __init__(self, name: str, url: str, *, secret: str = "", mentions: tuple[str, ...] = ()):
        super().__init__(name, url, secret=secret, mentions=mentions)

    def text_budget(self) -> int:
        return MARKDOWN_MAX_BYTES        # the limit is on markdown.content itself

    def overflow(self, payload: dict) -> int:
        return escape.utf8_len(payload["markdown"]["content"]) - MARKDOWN_MAX_BYTES

    def mention_text(self) -> str:
        return " ".join(f"<@{m}>" for m in self.mentions)

    def wrap(self, title: str, text: str) -> dict:
        return {"msgtype": "markdown", "markdown": {"content": text}}

    def request(self, payload: dict, now: datetime) -> HttpRequest:
        return HttpRequest(self._url, json_body(payload), {"Content-Type": "application/json; charset=utf-8"})
