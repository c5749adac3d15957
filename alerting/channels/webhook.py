"""Generic JSON webhook: an Alertmanager-v4-like payload, optionally signed.

Signing (when a secret is set): headers `X-Shaobing-Timestamp: <unix seconds>` and
`X-Shaobing-Signature: sha256=<hex HMAC-SHA256(key=secret, msg=timestamp + "." + body)>`; a
receiver recomputes it and rejects stale timestamps. 2xx is success, 429/5xx retryable, other 4xx
permanent. Reads no settings (URL and secret come from the rules file / environment).
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from alerting import escape, render
from alerting.channels.base import Channel, HttpRequest, Outcome, json_body
from alerting.model import Alert

MAX_BYTES = 256_000


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _alert_entry(alert: Alert) -> dict:
    return {
        "status": alert.status,
        "labels": {"alertname": alert.rule, "subject": alert.subject, "severity": alert.severity},
        "annotations": {"summary": render.text(alert, samples=0).splitlines()[0],
                        "description": render.text(alert)},
        "startsAt": alert.window_start.isoformat(),
        "endsAt": alert.window_end.isoformat() if alert.status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": escape.safe_url(alert.links.search),
        "fingerprint": alert.dedup_key,
        "shaobing": {
            "count": alert.count, "baseline": alert.baseline, "ratio": alert.ratio,
            "negative_share": alert.negative_share, "trend": list(alert.trend),
            # receivers render these: only http(s) URLs, percent-encoded (javascript: becomes "")
            "samples": [{**s.model_dump(mode="json"), "url": escape.safe_url(s.url)} for s in alert.samples],
            "ack_url": escape.safe_url(alert.links.ack), "occurrence": alert.occurrence,
        },
    }


class WebhookChannel(Channel):
    kind = "webhook"
    max_bytes = MAX_BYTES

    def __init__(self, name: str, url: str, secret: str = ""):
        super().__init__(name)
        self._url = url
        self._secret = secret

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self._url, self._secret) if s)

    def _payload(self, alerts: list[Alert], truncated: int = 0) -> dict:
        firing = any(a.status == "firing" for a in alerts)
        common = {"alertname": alerts[0].rule} if len({a.rule for a in alerts}) == 1 else {}
        return {"version": "4", "groupKey": "|".join(sorted({a.dedup_key for a in alerts})),
                "truncatedAlerts": truncated, "status": "firing" if firing else "resolved",
                "receiver": self.name, "groupLabels": common, "commonLabels": common,
                "commonAnnotations": {}, "externalURL": "", "alerts": [_alert_entry(a) for a in alerts]}

    def build_group(self, alerts: list[Alert]) -> dict:
        return self._payload(alerts)

    def build_digest(self, alerts: list[Alert]) -> dict:
        return self._payload(alerts)

    def request(self, payload: dict, now: datetime) -> HttpRequest:
        body = json_body(payload)
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self._secret:
            ts = str(int(now.timestamp()))
            headers |= {"X-Shaobing-Timestamp": ts, "X-Shaobing-Signature": sign(self._secret, ts, body)}
        return HttpRequest(self._url, body, headers)

    def classify(self, status: int, body: bytes) -> Outcome:
        if 200 <= status < 300:
            return Outcome(True, False, "ok")
        return Outcome(False, status == 429 or status >= 500 or status == 408, f"http_{status}")
