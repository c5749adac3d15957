"""Shared shape of the Markdown robots (DingTalk, WeCom, Feishu card): render the alert with
crawled text escaped, fit it into the vendor's byte limit (samples dropped first; a group too large
even then shows its first alerts in full and the rest as one line each or counted), add mentions,
and read `errcode`-style answers. Reads no settings.
"""
from __future__ import annotations

from collections.abc import Callable

from alerting import escape, render
from alerting.channels.base import Channel, Outcome, classify_vendor, digest_alerts, group_fit, json_body, leading_fit
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

    def overflow(self, payload: dict) -> int:
        """Bytes by which `payload` passes the vendor's limit (negative: room left): the JSON body
        the vendor receives, its signing fields included (WeCom overrides: its limit is the content)."""
        return len(json_body(payload)) + self.signing_bytes() - self.max_bytes

    def signing_bytes(self) -> int:
        return 0

    def fit_wrap(self, title: str, text_for: Callable[[int], str], firing: bool) -> dict:
        """wrap(title, text_for(budget) + the mentions when firing), the Markdown budget lowered until
        the body the vendor receives fits. The mentions always stay (within half the budget: hundreds
        of ids would leave no room)."""
        mentions = self.mention_text() if firing else ""
        suffix = escape.truncate_utf8(f"\n\n{mentions}", self.text_budget() // 2, marker="") if mentions else ""
        budget = self.text_budget() - escape.utf8_len(suffix)
        for _ in range(4):   # the text budget counts Markdown bytes; JSON escaping (\n, \") adds some
            payload = self.wrap(title, text_for(budget) + suffix)
            over = self.overflow(payload)
            if over <= 0 or budget <= 0:
                break
            budget -= over
        return payload

    def build_group(self, alerts: list[Alert]) -> dict:
        return self.fit_wrap(render.group_headline(alerts, escape.plain, 200),
                             lambda budget: self._group_text(alerts, budget),
                             any(a.status == "firing" for a in alerts))

    @staticmethod
    def _group_text(alerts: list[Alert], budget: int) -> str:
        if len(alerts) > 1 and escape.utf8_len(render.markdown_group(alerts, samples=0)) > budget:
            return brief_group(alerts, budget)
        return render.fit(lambda n: render.markdown_group(alerts, samples=n), budget)

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


def brief_group(alerts: list[Alert], budget: int) -> str:
    """A group whose full messages do not fit in `budget` bytes even without samples: its first
    alerts in full, the next as one line each, the rest counted (base.group_fit), under a heading
    that counts the whole group."""
    title = render.group_headline(alerts, escape.markdown)
    head = f"### {title}\n\n"        # starts the first alert's message, and stands alone when that is brief
    full = [render.markdown(a, samples=0, title=title if i == 0 else "") + render.GROUP_RULE
            for i, a in enumerate(alerts)]
    brief = [f"\n- {render.brief_line(a, escape.markdown)}" for a in alerts]
    note = f"**{render.BRIEF_NOTE}**\n"
    unlisted = lambda n: f"\n\n{render.unlisted_line(n)}"  # noqa: E731
    size = escape.utf8_len
    k, b, rest = group_fit([size(full[0]) - size(head)] + [size(t) for t in full[1:]], [size(t) for t in brief],
                           size(unlisted(len(alerts))), budget - size(head) - size(note))
    text = (full[0] if k else head) + "".join(full[1:k]) + (note + "".join(brief[k:k + b]) if b else "")
    # cut only when the heading and the count alone overflow the budget
    return escape.truncate_utf8(text + (unlisted(rest) if rest else ""), budget)
