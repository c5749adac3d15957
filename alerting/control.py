"""Silences and acknowledgements shared by the CLI, the HTTP server and the workers: one small
JSON file under Settings.state_dir, changed under an exclusive file lock so concurrent writers do
not lose each other's edits. Runtime state only; rules stay frozen elsewhere. Matching is pure.

A silence mutes alerts whose subject matches its glob and (if set) whose rule equals its rule,
between starts_at and ends_at. An ack names a dedup key and the subject (the state shard).
"""
from __future__ import annotations

import fcntl
import fnmatch
import secrets
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from alerting.errors import AlertingError
from alerting.state import read_json, write_json_atomic

ACK_RETENTION = timedelta(days=7)


def silence_matches(silence: dict, alert: dict, now: datetime) -> bool:
    if not (datetime.fromisoformat(silence["starts_at"]) <= now < datetime.fromisoformat(silence["ends_at"])):
        return False
    if silence.get("rule") and silence["rule"] != alert["rule"]:
        return False
    return fnmatch.fnmatchcase(alert["subject"], silence["subject"])


class ControlStore:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._cache: tuple[float, dict] | None = None

    @contextmanager
    def _locked(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data = read_json(self.path, {"silences": {}, "acks": {}})
            yield data
            write_json_atomic(self.path, data)

    def read(self) -> dict:
        """The current file, re-read only when it changed (workers consult it on every flush)."""
        try:
            mtime = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return {"silences": {}, "acks": {}}
        if self._cache is None or self._cache[0] != mtime:
            self._cache = (mtime, read_json(self.path, {"silences": {}, "acks": {}}))
        return self._cache[1]

    def add_silence(self, *, subject: str, rule: str = "", duration: timedelta, now: datetime,
                    created_by: str = "", comment: str = "") -> dict:
        if duration <= timedelta(0) or duration > timedelta(days=30):
            raise AlertingError("静默时长须在 0 到 30 天之间 / silence duration must be within (0, 30 days]")
        silence = {"id": secrets.token_hex(6), "subject": subject or "*", "rule": rule,
                   "starts_at": now.isoformat(), "ends_at": (now + duration).isoformat(),
                   "created_by": created_by[:64], "comment": comment[:500]}
        with self._locked() as data:
            data["silences"][silence["id"]] = silence
        return silence

    def expire_silence(self, silence_id: str, now: datetime) -> bool:
        with self._locked() as data:
            silence = data["silences"].get(silence_id)
            if silence is None or datetime.fromisoformat(silence["ends_at"]) <= now:
                return False
            silence["ends_at"] = now.isoformat()
        return True

    def active_silences(self, now: datetime) -> list[dict]:
        return [s for s in self.read()["silences"].values()
                if datetime.fromisoformat(s["starts_at"]) <= now < datetime.fromisoformat(s["ends_at"])]

    def record_ack(self, *, key: str, subject: str, now: datetime, by: str = "") -> None:
        with self._locked() as data:
            data["acks"] = {k: a for k, a in data["acks"].items()
                            if now - datetime.fromisoformat(a["at"]) < ACK_RETENTION}
            data["acks"][key] = {"subject": subject, "at": now.isoformat(), "by": by[:64]}

    def acks(self) -> dict[str, dict]:
        return self.read()["acks"]
