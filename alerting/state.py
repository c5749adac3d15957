"""Where lifecycle state lives between calls and across restarts, behind a three-method interface.

`StateStore` is sharded by subject (the `surges` topic key), so a Faust table keyed by subject can
implement it directly (`MappingStore`); `JsonFileStore` keeps every shard in one JSON file,
written atomically (temp file + fsync + rename), for a single worker and the CLI.
Reads no settings; the file path comes from the caller (default: <state_dir>/alerting/state.json).
"""
from __future__ import annotations

import copy
import json
import os
import tempfile
from pathlib import Path
from typing import Protocol

from alerting.errors import StateError


class StateStore(Protocol):
    def load(self, shard: str) -> dict | None: ...
    def save(self, shard: str, state: dict) -> None: ...
    def shards(self) -> list[str]: ...


def write_json_atomic(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise StateError(f"cannot write {path}: {exc.strerror}") from exc


def read_json(path: Path, default):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return default
    except (OSError, ValueError) as exc:
        raise StateError(f"cannot read {path}: {exc}") from exc


class JsonFileStore:
    """Every shard in one file; each save rewrites it atomically, so a crash leaves the old or the new."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._data: dict[str, dict] = read_json(self.path, {})

    def load(self, shard: str) -> dict | None:
        return copy.deepcopy(self._data.get(shard))

    def save(self, shard: str, state: dict) -> None:
        self._data[shard] = copy.deepcopy(state)
        write_json_atomic(self.path, self._data)

    def shards(self) -> list[str]:
        return sorted(self._data)


class MappingStore:
    """Any mutable mapping shard -> state: a Faust table (changelogged to Kafka) in the worker."""

    def __init__(self, table):
        self.table = table

    def load(self, shard: str) -> dict | None:
        value = self.table.get(shard)
        return copy.deepcopy(value) if value else None

    def save(self, shard: str, state: dict) -> None:
        self.table[shard] = copy.deepcopy(state)

    def shards(self) -> list[str]:
        return sorted(self.table.keys())
