"""The one interface every duty channel implements, and the shared HTTP send step.

A channel is: a pure `build_group(alerts)` (one group's notification; `build_payload(alert)` for
one alert) and `build_digest(alerts)` (the rate-limit digest), a pure `request(payload,
now)` that signs without mutating config, and a pure `classify(status, body)` that reads the
vendor's code in the body (the Chinese vendors answer HTTP 200 on failure). Retry, backoff, rate
limits and metrics live once in alerting.delivery. Secrets stay inside the channel object: its
repr, its outcomes and its errors never contain them. Reads no settings.
"""
from __future__ import annotations

import asyncio
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from itertools import accumulate
from typing import ClassVar

import httpx

from alerting import render
from alerting.model import Alert


@dataclass(frozen=True)
class Outcome:
    ok: bool
    retryable: bool
    reason: str           # low-cardinality: ok, http_503, errcode_130101, timeout, connect, ...
    detail: str = ""      # the vendor's message, for logs; never contains a secret

    @property
    def label(self) -> str:
        return "delivered" if self.ok else ("retryable" if self.retryable else "permanent")


@dataclass(frozen=True)
class HttpRequest:
    url: str = field(repr=False)
    body: bytes = field(repr=False)
    headers: dict[str, str] = field(default_factory=dict, repr=False)


class Channel(ABC):
    kind: ClassVar[str]
    max_bytes: ClassVar[int] = 20_000
    per_minute: ClassVar[int | None] = None     # vendor rate limit per robot, None = none known

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    def build_payload(self, alert: Alert) -> dict:
        return self.build_group([alert])

    @abstractmethod
    def build_group(self, alerts: list[Alert]) -> dict:
        """One notification for one group: each alert's full message (samples, 确认/静默 links)."""

    @abstractmethod
    def build_digest(self, alerts: list[Alert]) -> dict: ...

    @abstractmethod
    def classify(self, status: int, body: bytes) -> Outcome: ...

    def digest_fit(self, alerts: list[Alert]) -> int:
        """How many of `alerts`, from the first, one digest message shows in full (at least one)."""
        return len(alerts)

    def secrets(self) -> tuple[str, ...]:
        """Every credential this channel holds, so callers can prove none leaks."""
        return ()

    def request(self, payload: dict, now: datetime) -> HttpRequest:
        raise NotImplementedError

    async def send(self, payload: dict, *, client: httpx.AsyncClient, now: datetime,
                   timeout_s: float) -> Outcome:
        """One attempt. Network errors become outcomes; their text (which may hold the URL) is dropped."""
        req = self.request(payload, now)
        try:
            async with asyncio.timeout(timeout_s):
                resp = await client.post(req.url, content=req.body, headers=req.headers, timeout=timeout_s)
        except (httpx.TimeoutException, TimeoutError):
            return Outcome(False, True, "timeout")
        except httpx.TransportError as exc:
            return Outcome(False, True, "connect", type(exc).__name__)
        return self.classify(resp.status_code, resp.content)


def json_body(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def classify_vendor(status: int, body: bytes, code_fields: tuple[str, ...], retryable: frozenset[int],
                    known: frozenset[int]) -> Outcome:
    """Shared reading of a vendor answer: HTTP status first, then the error code in the JSON body."""
    if status == 429 or status >= 500:
        return Outcome(False, True, f"http_{status}")
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return Outcome(False, status >= 500, f"http_{status}" if status >= 400 else "unparsable")
    code = next((data[f] for f in code_fields if isinstance(data, dict) and f in data), None)
    message = str(next((data[f] for f in ("errmsg", "msg", "StatusMessage") if f in data), ""))[:200] \
        if isinstance(data, dict) else ""
    if status >= 400:
        return Outcome(False, False, f"http_{status}", message)
    if code is None:
        return Outcome(False, False, "unparsable", message)
    if code == 0:
        return Outcome(True, False, "ok")
    reason = f"errcode_{code}" if code in known else "errcode_other"
    return Outcome(False, code in retryable, reason, f"{code}: {message}")


def leading_fit(sizes: list[int], budget: int) -> int:
    """How many leading items of these byte sizes fit in `budget` together (at least one)."""
    used, n = 0, 0
    for size in sizes:
        used += size
        if used > budget:
            break
        n += 1
    return max(1, n)


def group_fit(full: list[int], brief: list[int], unlisted: int, budget: int) -> tuple[int, int, int]:
    """How a group's message shows its alerts in `budget` bytes, given each alert's size in full and
    as one brief line, and the size of the line counting the unlisted ones: (k in full, from the
    first; b brief lines for the next; r only counted), k + b + r = len(full). Naming every alert
    comes before showing more in full: the most in full that leave a brief line for each of the
    rest; failing that, the first in full (if the count still fits after it), then brief lines."""
    n = len(full)
    for k in range(n, -1, -1):
        if sum(full[:k]) + sum(brief[k:]) <= budget:
            return k, n - k, 0
    k = 1 if n and full[0] + unlisted <= budget else 0
    room = budget - sum(full[:k]) - unlisted
    b = sum(1 for used in accumulate(brief[k:]) if used <= room)
    return k, b, n - k - b


def digest_alerts(alerts: list[Alert], esc) -> tuple[str, list[str]]:
    """Headline and one line per alert for a rate-limit digest; `esc` escapes the subject."""
    title = f"【舆情告警汇总】{len(alerts)} 条告警因发送频率限制合并"
    return title, [render.brief_line(a, esc) for a in alerts]
