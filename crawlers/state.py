"""Persisted crawl state of one source, in one small SQLite file under the state dir:
HTTP validators (ETag / Last-Modified) per URL, list-level marks (a thread's reply count), and
the seen-set of delivered posts (post_id -> content fingerprint).

Changes made during a crawl are staged and written at the end: validators and marks only when
the crawl was clean (no errors, every post delivered), so a failed crawl is simply redone;
seen posts whenever Kafka confirmed them. Used from the crawl's event-loop thread only.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from streams.textnorm import post_content_hash

_SCHEMA = """
CREATE TABLE IF NOT EXISTS validators (url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT);
CREATE TABLE IF NOT EXISTS marks (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS seen (post_id TEXT PRIMARY KEY, fingerprint TEXT NOT NULL);
"""


def fingerprint(title: str, text: str) -> str:
    """The post's content hash, the one definition the worker and clustering use too. (A seen-set
    written before this definition holds shorter SHA-1 prefixes: those posts are re-sent once, and
    the worker's seen_posts table recognises the unchanged ones.)"""
    return post_content_hash(title, text)


class CrawlState:
    def __init__(self, path: Path | str = ":memory:"):
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path))
        self._db.executescript(_SCHEMA)
        self._validators: dict[str, tuple[str | None, str | None]] = {}
        self._marks: dict[str, str] = {}

    @classmethod
    def for_source(cls, state_dir: Path | str, source: str) -> "CrawlState":
        return cls(Path(state_dir) / f"{source}.sqlite")

    # --- reads
    def conditional_headers(self, url: str) -> dict[str, str]:
        row = self._db.execute("SELECT etag, last_modified FROM validators WHERE url = ?", (url,)).fetchone()
        if row is None:
            return {}
        headers = {}
        if row[0]:
            headers["If-None-Match"] = row[0]
        if row[1]:
            headers["If-Modified-Since"] = row[1]
        return headers

    def mark(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM marks WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def seen(self, post_id: str) -> str | None:
        """The fingerprint a delivered post had, or None if it was never delivered."""
        row = self._db.execute("SELECT fingerprint FROM seen WHERE post_id = ?", (post_id,)).fetchone()
        return row[0] if row else None

    # --- staged writes
    def stage_validators(self, url: str, etag: str | None, last_modified: str | None) -> None:
        if etag or last_modified:
            self._validators[url] = (etag, last_modified)

    def stage_mark(self, key: str, value: str) -> None:
        self._marks[key] = value

    def commit(self, delivered: dict[str, str], clean: bool) -> None:
        """Write the delivered posts always; validators and marks only after a clean crawl."""
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO seen VALUES (?, ?)", delivered.items())
            if clean:
                self._db.executemany("INSERT OR REPLACE INTO validators VALUES (?, ?, ?)",
                                     [(u, e, m) for u, (e, m) in self._validators.items()])
                self._db.executemany("INSERT OR REPLACE INTO marks VALUES (?, ?)", self._marks.items())
        self._validators.clear()
        self._marks.clear()

    def counts(self) -> dict[str, int]:
        return {t: self._db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("validators", "marks", "seen")}

    def close(self) -> None:
        self._db.close()
