"""Links an alert carries: search for the subject, and signed acknowledge / silence links.

Custom robots cannot call back, so acknowledgement is a link to `shaobing alerts serve`. A link
carries the action, dedup key, subject, the alert EPISODE (when it started firing: last week's
link cannot acknowledge today's new episode), an expiry, a version and
  sig = base64url(HMAC-SHA256(ack_secret, canonical JSON ["shaobing-link", 2, action, key,
                                                           subject, episode, expiry]))
The JSON array is unambiguous whatever the fields contain (the old "a|b|c" form was not).
The secret never leaves this module. `link_id(sig)` names a link, so using it twice changes
nothing twice (a replayed silence link finds its silence already made). Reads no settings (the
secret, public URL and search URL come from the rules file's `links` section).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from datetime import datetime, timedelta
from urllib.parse import quote, urlencode

from alerting.model import Alert, AlertLinks

ACTIONS = ("ack", "silence")
VERSION = "2"
FIELDS = ("v", "key", "subject", "ep", "exp", "sig")
_SIG = re.compile(r"^[A-Za-z0-9_-]{43}$")      # base64url of 32 bytes, unpadded


def link_id(sig: str) -> str:
    return "L" + hashlib.sha256(sig.encode("ascii")).hexdigest()[:15]


class LinkSigner:
    def __init__(self, *, secret: str, public_url: str = "", search_url: str = "", ttl_s: float = 7 * 86400):
        self._secret = secret.encode("utf-8")
        self.public_url = public_url.rstrip("/")
        self.search_url = search_url
        self.ttl = timedelta(seconds=ttl_s)

    def __repr__(self) -> str:
        return f"<LinkSigner {self.public_url or '(no public url)'}>"

    def signature(self, action: str, key: str, subject: str, episode: str, expires: int) -> str:
        msg = json.dumps(["shaobing-link", int(VERSION), action, key, subject, episode, expires],
                         ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return base64.urlsafe_b64encode(hmac.new(self._secret, msg, hashlib.sha256).digest()).decode().rstrip("=")

    def params(self, action: str, key: str, subject: str, episode: str, now: datetime) -> dict[str, str]:
        expires = int((now + self.ttl).timestamp())
        return {"v": VERSION, "key": key, "subject": subject, "ep": episode, "exp": str(expires),
                "sig": self.signature(action, key, subject, episode, expires)}

    def url(self, action: str, key: str, subject: str, now: datetime, episode: str = "") -> str:
        return f"{self.public_url}/{action}?{urlencode(self.params(action, key, subject, episode, now))}"

    def verify(self, action: str, params: dict, now: datetime) -> bool:
        """`params` as received (query or form). Malformed input is simply not valid: a non-ASCII
        or wrong-length sig, a missing field, another version, a non-numeric expiry."""
        if action not in ACTIONS or not self._secret:
            return False
        if not all(isinstance(params.get(f), str) for f in FIELDS) or params["v"] != VERSION:
            return False
        expires, sig = params["exp"], params["sig"]
        if not (expires.isascii() and expires.isdigit() and len(expires) <= 12) or not _SIG.match(sig):
            return False
        if int(expires) < now.timestamp():
            return False
        expected = self.signature(action, params["key"], params["subject"], params["ep"], int(expires))
        return hmac.compare_digest(expected, sig)

    def __call__(self, alert: Alert, now: datetime, episode: str = "") -> AlertLinks:
        search = self.search_url.replace("{subject}", quote(alert.subject)) if self.search_url else ""
        if not (self.public_url and self._secret):
            return AlertLinks(search=search)
        return AlertLinks(search=search, ack=self.url("ack", alert.dedup_key, alert.subject, now, episode),
                          silence=self.url("silence", alert.dedup_key, alert.subject, now, episode))
