"""Scheduled reports: build what is due, archive it in the namespace's `reports` index and send
its Markdown summary to the duty channels, once per period even across a restart.

Once: the archive document (id = kind:end) is created with op_type=create before sending and
marked delivered_at after; a restarted scheduler finds it and skips it, or (a crash between the
two) sends it then. A send that fails on every channel leaves it undelivered: the next tick
retries, for CATCH_UP after the period's end. Run one scheduler per namespace.
Reads Settings (aliases, report_unit) and the rules file's `reports` section."""
from __future__ import annotations

import logging
from datetime import datetime

from elasticsearch import ConflictError, NotFoundError
from prometheus_client import REGISTRY, CollectorRegistry, Counter

from indexer.reports.gather import report_for
from indexer.reports.model import Period
from indexer.reports.render import render_html, render_markdown
from indexer.reports.schedule import channel_payload, due_reports, report_id, summary_markdown

log = logging.getLogger(__name__)
REPORTS_ALIAS = "reports"
SEND_TIMEOUT_S = 10.0


def report_messages_counter(registry: CollectorRegistry = REGISTRY) -> Counter:
    return Counter("shaobing_reports_messages_total", "Scheduled report messages sent to duty channels, by period "
                   "kind (daily/shift) and outcome (delivered/failed).", ["kind", "outcome"], registry=registry)


class MissingArchive(RuntimeError):
    """The namespace's reports index does not exist (templates not applied)."""


class ReportScheduler:
    def __init__(self, es, settings, rules, channels: dict, client, acks=lambda: {}, messages: Counter | None = None):
        self.es, self.settings, self.rules, self.channels, self.client, self.acks = es, settings, rules, channels, client, acks
        self.messages = messages
        self.index = settings.alias(REPORTS_ALIAS)
        spec = rules.spec.reports
        self.targets = spec.channels or rules.spec.default_route.channels

    async def tick(self, now: datetime) -> list[str]:
        """Send every due, undelivered report; returns the ids delivered by this call."""
        due = due_reports(now, self.rules.spec.reports, self.rules.spec.major_events)
        if due and not await self.es.indices.exists_alias(name=self.index):   # a write would make an unmapped index
            raise MissingArchive(f"index {self.index} is missing: run `shaobing stack up` (it applies the index templates)")
        sent = []
        for period in due_reports(now, self.rules.spec.reports, self.rules.spec.major_events):
            if await self._run(period, now):
                sent.append(report_id(period))
        return sent

    async def _run(self, period: Period, now: datetime) -> bool:
        rid = report_id(period)
        try:
            found = (await self.es.get(index=self.index, id=rid)).body
            doc, seq, term = found["_source"], found["_seq_no"], found["_primary_term"]
            if doc.get("delivered_at"):
                return False
        except NotFoundError:
            report = await report_for(self.es, self.settings, period, self.acks())
            link = self.rules.spec.reports.console_url
            link = f"{link.rstrip('/')}/#/reports" if link else ""
            doc = {"report_id": rid, "kind": period.kind, "title": report.title, "period_start": period.start.isoformat(),
                   "period_end": period.end.isoformat(), "created_at": now.isoformat(), "delivered_at": None,
                   "channels": [], "failed": [], "summary": summary_markdown(report, link),
                   "markdown": render_markdown(report), "html": render_html(report)}
            try:
                resp = (await self.es.index(index=self.index, id=rid, document=doc, op_type="create", refresh="wait_for")).body
            except ConflictError:
                log.info("report %s was archived by another scheduler meanwhile; leaving it", rid)
                return False
            seq, term = resp["_seq_no"], resp["_primary_term"]
        ok, failed = await self._send(doc, now)
        if failed and not ok:
            log.warning("report %s: every channel failed (%s); retrying on the next tick", rid, ", ".join(failed))
            return False
        await self.es.update(index=self.index, id=rid, doc={"delivered_at": now.isoformat(), "channels": ok, "failed": failed},
                             if_seq_no=seq, if_primary_term=term, refresh="wait_for")
        return True

    async def _send(self, doc: dict, now: datetime) -> tuple[list[str], list[str]]:
        ok, failed = [], []
        for name in self.targets:
            channel = self.channels[name]
            payload = channel_payload(channel, doc["title"], doc["summary"])
            if payload is None:
                continue
            outcome = await channel.send(payload, client=self.client, now=now, timeout_s=SEND_TIMEOUT_S)
            (ok if outcome.ok else failed).append(name)
            if self.messages is not None:
                self.messages.labels(kind=doc["kind"], outcome="delivered" if outcome.ok else "failed").inc()
            if not outcome.ok:
                log.warning("report %s to %s failed: %s", doc["report_id"], name, outcome.reason)
        return ok, failed

    async def archive(self, size: int = 100) -> list[dict]:
        resp = await self.es.search(index=self.index, size=size, sort=[{"period_end": "desc"}, {"report_id": "asc"}],
                                    source_excludes=["markdown", "html"])
        return [h["_source"] for h in resp.body["hits"]["hits"]]
