"""Silences and acknowledgements: the operator's runtime controls, shared by the CLI, the HTTP
server and every worker. Rules stay frozen elsewhere.

The state is a map of records, `silence:<id>` -> silence and `ack:<dedup key>` -> ack; each
change is one record (a value, or None to delete), so the same change log can live in a file
(`FileControlStore`, one host) or in a compacted Kafka topic read by every worker
(alerting.control_kafka). The operations that build records and the matching are pure.

A silence mutes alerts whose subject equals its subject (or, only if `glob` is set, matches it
as a glob: `[重点]化工厂` is a literal subject by default) and, if set, whose rule equals its rule,
between starts_at and ends_at. Expired silences and acks older than ACK_RETENTION are deleted
(tombstoned) on the next change. An ack names a dedup key, the subject (the state shard) and,
from a signed link, the episode it acknowledges.
"""
from __future__ import annotations

import fcntl
import fnmatch
import secrets
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from alerting.errors import AlertingError
from alerting.state import read_json, write_json_atomic

ACK_RETENTION = timedelta(days=7)
MAX_SILENCE = timedelta(days=30)
Records = list[tuple[str, dict | None]]


def silence_matches(silence: dict, alert: dict, now: datetime) -> bool:
    if not (datetime.fromisoformat(silence["starts_at"]) <= now < datetime.fromisoformat(silence["ends_at"])):
        return False
    if silence.get("rule") and silence["rule"] != alert["rule"]:
        return False
    if silence.get("glob"):
        return fnmatch.fnmatchcase(alert["subject"], silence["subject"])
    return alert["subject"] == silence["subject"]


def silences(state: dict[str, dict]) -> dict[str, dict]:
    return {k.split(":", 1)[1]: v for k, v in state.items() if k.startswith("silence:")}


def acks(state: dict[str, dict]) -> dict[str, dict]:
    return {k.split(":", 1)[1]: v for k, v in state.items() if k.startswith("ack:")}


def active(state: dict[str, dict], now: datetime) -> list[dict]:
    return [s for s in silences(state).values()
            if datetime.fromisoformat(s["starts_at"]) <= now < datetime.fromisoformat(s["ends_at"])]


def prune(state: dict[str, dict], now: datetime) -> Records:
    """Tombstones for expired silences and old acks."""
    out: Records = [(f"silence:{i}", None) for i, s in silences(state).items()
                    if datetime.fromisoformat(s["ends_at"]) <= now]
    out += [(f"ack:{k}", None) for k, a in acks(state).items() if now - datetime.fromisoformat(a["at"]) >= ACK_RETENTION]
    return out


def new_silence(state: dict[str, dict], *, subject: str, rule: str = "", duration: timedelta, now: datetime,
                created_by: str = "", comment: str = "", glob: bool = False,
                silence_id: str | None = None) -> tuple[dict, Records]:
    """The silence and the records that make it. With `silence_id` (a signed link's id) it is
    idempotent: if that silence exists already it is returned unchanged and nothing is written."""
    if duration <= timedelta(0) or duration > MAX_SILENCE:
        raise AlertingError("静默时长须在 0 到 30 天之间 / silence duration must be within (0, 30 days]")
    if silence_id and f"silence:{silence_id}" in state:
        return state[f"silence:{silence_id}"], []
    if not subject:
        subject, glob = "*", True
    silence = {"id": silence_id or secrets.token_hex(6), "subject": subject[:200], "glob": bool(glob), "rule": rule,
               "starts_at": now.isoformat(), "ends_at": (now + duration).isoformat(),
               "created_by": created_by[:64], "comment": comment[:500]}
    return silence, prune(state, now) + [(f"silence:{silence['id']}", silence)]


def expire_silence(state: dict[str, dict], silence_id: str, now: datetime) -> Records:
    silence = state.get(f"silence:{silence_id}")
    if silence is None or datetime.fromisoformat(silence["ends_at"]) <= now:
        return []
    return [(f"silence:{silence_id}", {**silence, "ends_at": now.isoformat()})]


def new_ack(state: dict[str, dict], *, key: str, subject: str, now: datetime, by: str = "",
            episode: str = "") -> Records:
    ack = {"subject": subject, "at": now.isoformat(), "by": by[:64], "episode": episode[:40]}
    return prune(state, now) + [(f"ack:{key}", ack)]


def apply(state: dict[str, dict], records: Records) -> None:
    for key, value in records:
        if value is None:
            state.pop(key, None)
        else:
            state[key] = value


class ControlStore(Protocol):
    """What the CLI, the HTTP server and the dispatcher need; every backend offers the same."""

    def add_silence(self, *, subject: str, duration: timedelta, now: datetime, rule: str = "",
                    created_by: str = "", comment: str = "", glob: bool = False,
                    silence_id: str | None = None) -> dict: ...
    def expire_silence(self, silence_id: str, now: datetime) -> bool: ...
    def active_silences(self, now: datetime) -> list[dict]: ...
    def record_ack(self, *, key: str, subject: str, now: datetime, by: str = "", episode: str = "") -> None: ...
    def acks(self) -> dict[str, dict]: ...


class ControlBase:
    """The operations over `_snapshot()` and `_write(records)`, which a backend provides."""

    def _snapshot(self) -> dict[str, dict]:
        raise NotImplementedError

    def _change(self, make) -> object:
        raise NotImplementedError

    def add_silence(self, *, subject: str, duration: timedelta, now: datetime, rule: str = "",
                    created_by: str = "", comment: str = "", glob: bool = False,
                    silence_id: str | None = None) -> dict:
        return self._change(lambda state: new_silence(
            state, subject=subject, rule=rule, duration=duration, now=now, created_by=created_by,
            comment=comment, glob=glob, silence_id=silence_id))

    def expire_silence(self, silence_id: str, now: datetime) -> bool:
        return self._change(lambda state: (bool(r := expire_silence(state, silence_id, now)), r))

    def active_silences(self, now: datetime) -> list[dict]:
        return active(self._snapshot(), now)

    def record_ack(self, *, key: str, subject: str, now: datetime, by: str = "", episode: str = "") -> None:
        self._change(lambda state: (None, new_ack(state, key=key, subject=subject, now=now, by=by, episode=episode)))

    def acks(self) -> dict[str, dict]:
        return acks(self._snapshot())


class FileControlStore(ControlBase):
    """One JSON file under Settings.state_dir, changed under an exclusive file lock so concurrent
    writers on the same host do not lose each other's edits. Single host only."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._cache: tuple[float, dict] | None = None

    def _read(self) -> dict[str, dict]:
        data = read_json(self.path, {})
        if "silences" in data or "acks" in data:          # the layout before records
            data = {**{f"silence:{k}": {"glob": True, **v} for k, v in data.get("silences", {}).items()},
                    **{f"ack:{k}": v for k, v in data.get("acks", {}).items()}}
        return data

    def _snapshot(self) -> dict[str, dict]:
        """The current file, re-read only when it changed (workers consult it on every flush)."""
        try:
            mtime = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return {}
        if self._cache is None or self._cache[0] != mtime:
            self._cache = (mtime, self._read())
        return self._cache[1]

    def _change(self, make):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            state = self._read()
            result, records = make(state)
            if records:
                apply(state, records)
                write_json_atomic(self.path, state)
        return result

