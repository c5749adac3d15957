"""Keep channel secrets out of log lines written by libraries (httpx logs every request URL at
INFO, and a DingTalk or WeCom URL carries the robot's token). Channels register their secrets when
built; a filter on the HTTP loggers replaces them with "***". Our own log lines never contain them
in the first place. Reads no settings.
"""
from __future__ import annotations

import logging
from urllib.parse import parse_qsl, quote_plus, urlsplit

WATCHED_LOGGERS = ("httpx", "httpcore", "aiohttp.client", "aiohttp.access", "elastic_transport")
MIN_SECRET_LEN = 6


def secret_parts(secret: str) -> set[str]:
    """The secret, its URL-encoded form and, for URLs, the token-bearing query values and path parts."""
    parts = {secret, quote_plus(secret)}
    if secret.startswith(("http://", "https://")):
        split = urlsplit(secret)
        parts |= {v for _, v in parse_qsl(split.query)}
        parts |= {seg for seg in split.path.split("/") if len(seg) >= 12}
    return {p for p in parts if len(p) >= MIN_SECRET_LEN}


class SecretFilter(logging.Filter):
    def __init__(self):
        super().__init__("shaobing-secrets")
        self._secrets: set[str] = set()

    def add(self, *secrets: str) -> None:
        for secret in secrets:
            if secret:
                self._secrets |= secret_parts(secret)

    def redact(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self._secrets:
            message = record.getMessage()
            cleaned = self.redact(message)
            if cleaned != message:
                record.msg, record.args = cleaned, None
        return True


_FILTER = SecretFilter()


def protect(*secrets: str) -> None:
    """Register secrets and make sure the library loggers that could print them are filtered."""
    _FILTER.add(*secrets)
    for name in WATCHED_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def redact(text: str) -> str:
    return _FILTER.redact(text)
