"""Console channel: prints the alert in Chinese to a text stream (stdout by default).

For local runs and demos; never fails, so it also makes a last-resort fallback. Reads no settings.
"""
from __future__ import annotations

import sys
from datetime import datetime
from typing import TextIO

import httpx

from alerting import escape, render
from alerting.channels.base import Channel, Outcome, digest_alerts
from alerting.model import Alert


class ConsoleChannel(Channel):
    kind = "console"
    max_bytes = 1_000_000

    def __init__(self, name: str = "console", stream: TextIO | None = None):
        super().__init__(name)
        self._stream = stream

    def build_group(self, alerts: list[Alert]) -> dict:
        return {"text": "\n\n".join(render.text(a) for a in alerts)}

    def build_digest(self, alerts: list[Alert]) -> dict:
        title, lines = digest_alerts(alerts, escape.plain)
        return {"text": "\n".join([title, *lines])}

    def classify(self, status: int, body: bytes) -> Outcome:
        return Outcome(True, False, "ok")

    async def send(self, payload: dict, *, client: httpx.AsyncClient | None, now: datetime,
                   timeout_s: float) -> Outcome:
        stream = self._stream or sys.stdout
        stream.write(payload["text"] + "\n" + "-" * 40 + "\n")
        stream.flush()
        return Outcome(True, False, "ok")
