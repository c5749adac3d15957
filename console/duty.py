"""The console's one call site into alerting's acknowledgements and silences: a thin adapter over
alerting.service.control_store, so the console sees the same state as every worker (the compacted
alerts.control topic, or control.json with SHAOBING_CONTROL_BACKEND=file).
Reads Settings.control_backend, kafka servers and state_dir (through control_store)."""
from __future__ import annotations

from datetime import datetime, timedelta

from alerting.errors import AlertingError
from alerting.rules_schema import parse_duration
from alerting.service import control_store

__all__ = ["Duty", "AlertingError"]


class Duty:
    def __init__(self, settings):
        self._control = control_store(settings)

    def close(self) -> None:
        close = getattr(self._control, "close", None)
        if close is not None:
            close()

    def acks(self) -> dict[str, dict]:
        """dedup key -> {subject, at, by} of every recent acknowledgement."""
        return self._control.acks()

    def ack(self, *, dedup_key: str, subject: str, by: str, now: datetime) -> None:
        self._control.record_ack(key=dedup_key, subject=subject, now=now, by=by)

    def silences(self, now: datetime) -> list[dict]:
        return self._control.active_silences(now)

    def silence(self, *, subject: str, rule: str, duration: str, by: str, comment: str, now: datetime) -> dict:
        """Raises AlertingError (or ValueError for a bad duration) with a message for the user."""
        seconds = parse_duration(duration)
        return self._control.add_silence(subject=subject, rule=rule, duration=timedelta(seconds=seconds), now=now,
                                         created_by=by, comment=comment)

    def expire(self, silence_id: str, now: datetime) -> bool:
        return self._control.expire_silence(silence_id, now)
