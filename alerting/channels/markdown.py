"""Shared shape of the Markdown robots (DingTalk, WeCom, Feishu card): render the alert with
crawled text escaped, fit it into the vendor's byte limit (samples dropped first), add mentions,
and read `errcode`-style answers. Reads no settings.
"""
from __future__ import annotations

from alerting import escape, render
from alerting.channels.base import Channel, Outcome, classify_vendor, digest_alerts, leading_fit
from alerting.model import Alert


class MarkdownRobot(Channel):
    code_fields: tuple[str, ...] = ("errcode",)
    retryable_codes: frozenset[int] = frozenset()
    known_codes: frozenset[int] = frozenset()

    def __init__(self, name: str, url: str, *, secret: str = "", mentions: tuple[str, ...] = ()):
        super().__init__(name)
        self._url = url
        self._secret = secret
        self.mentions = tuple(mentions)

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self._url, self._secret) if s)

    def mention_text(self) -> str:
        return ""

    def wrap(self, title: str, text: str) -> dict:
        raise NotImplementedError

    def text_budget(self) -> int:
        """Bytes left for the Markdown text once the JSON envelope is accounted for."""
        return self.max_bytes - 512

    def build_group(self, alerts: list[Alert]) -> dict:
        mentions = self.mention_text() if any(a.status == "firing" for a in alerts) else ""
        text = render.fit(lambda n: render.markdown_group(alerts, samples=n, mentions=mentions), self.text_budget())
        title = escape.truncate_utf8(render.group_headline(alerts, escape.plain), 200)
        return self.wrap(title, text)

    def _digest_budget(self) -> int:
        return self.text_budget() - escape.utf8_len(self.mention_text()) - 2

    def digest_fit(self, alerts: list[Alert]) -> int:
        title, lines = digest_alerts(alerts, escape.markdown)   # the longest count: a safe header
        return leading_fit([escape.utf8_len(f"\n- {line}") for line in lines],
                           self._digest_budget() - escape.utf8_len(f"### {title}\n"))

    def build_digest(self, alerts: list[Alert]) -> dict:
        """The alerts that fit (callers send the rest later: `digest_fit`), so the count is what is shown."""
        title, lines = digest_alerts(alerts[:self.digest_fit(alerts)], escape.markdown)
        body = "\n".join([f"### {title}", ""] + [f"- {line}" for line in lines])
        mentions = self.mention_text()
        text = escape.truncate_utf8(body, self._digest_budget())
        return self.wrap(title, text + ("\n\n" + mentions if mentions else ""))

    def classify(self, status: int, body: bytes) -> Outcome:
        return classify_vendor(status, body, self.code_fields, self.retryable_codes, self.known_codes)
