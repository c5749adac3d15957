"""Links an alert carries: search for the subject, and signed acknowledge / silence links.

Custom robots cannot call back, so acknowledgement is a link to `shaobing alerts serve`. The link
carries the dedup key, subject, action, expiry and sig = base64url(HMAC-SHA256(ack_secret,
"action|key|subject|expiry")); the secret never leaves this module. Reads no settings (the
secret, public URL and search URL come from the rules file's `links` section).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta
from urllib.parse import quote, urlencode

from alerting.model import Alert, AlertLinks

ACTIONS = ("ack", "silence")


class LinkSigner:
    def __init__(self, *, secret: str, public_url: str = "", search_url: str = "", ttl_s: float = 7 * 86400):
        self._secret = secret.encode("utf-8")
        self.public_url = public_url.rstrip("/")
        self.search_url = search_url
        self.ttl = timedelta(seconds=ttl_s)

    def __repr__(self) -> str:
        return f"<LinkSigner {self.public_url or '(no public url)'}>"

    def signature(self, action: str, key: str, subject: str, expires: int) -> str:
        msg = f"{action}|{key}|{subject}|{expires}".encode("utf-8")
        return base64.urlsafe_b64encode(hmac.new(self._secret, msg, hashlib.sha256).digest()).decode().rstrip("=")

    def url(self, action: str, key: str, subject: str, now: datetime) -> str:
        expires = int((now + self.ttl).timestamp())
        query = urlencode({"key": key, "subject": subject, "exp": expires,
                           "sig": self.signature(action, key, subject, expires)})
        return f"{self.public_url}/{action}?{query}"

    def verify(self, action: str, key: str, subject: str, expires: str, sig: str, now: datetime) -> bool:
        if action not in ACTIONS or not self._secret or not expires.isdigit():
            return False
        if int(expires) < now.timestamp():
            return False
        return hmac.compare_digest(self.signature(action, key, subject, int(expires)), sig)

    def __call__(self, alert: Alert, now: datetime) -> AlertLinks:
        search = self.search_url.replace("{subject}", quote(alert.subject)) if self.search_url else ""
        if not (self.public_url and self._secret):
            return AlertLinks(search=search)
        return AlertLinks(search=search, ack=self.url("ack", alert.dedup_key, alert.subject, now),
                          silence=self.url("silence", alert.dedup_key, alert.subject, now))
