"""The console's one call site into alerting's acknowledgements and silences: a thin adapter,
so that moving them (control.json today, Kafka for issue 16) changes only this module.
Reads Settings.state_dir (through alerting.service.control_path)."""
from __future__ import annotations

from datetime import datetime, timedelta

from alerting.control import ControlStore
from alerting.errors import AlertingError
from alerting.rules_schema import parse_duration
from alerting.service import control_path

__all__ = ["Duty", "AlertingError"]


class Duty:
    def __init__(self, settings):
        self._control = ControlStore(control_path(settings))

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
