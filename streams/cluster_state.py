"""The repost sequencer's state, in memory, bounded by a horizon, rebuilt from its own input log.

The state (content_index, band_index, cluster_of: the mappings `clustering.decide` reads) is a
pure function of the ordered ClusterKey records of the one-partition posts.analyzed within the
horizon. So it needs no changelog of its own (the old tables wrote ~6 changelog records per post):
a worker that takes the partition over replays the log from `now - horizon` up to the offset it
resumes from, and has exactly the state the previous owner had there. Expiry follows record
timestamps, never the wall clock, so live processing and a replay age entries identically.
Reads no settings; the caller passes the horizon.
"""
from __future__ import annotations

import pickle
from collections import deque

from streams.clustering import MIN_CLUSTER_CHARS, Decision, decide, held_root
from streams.dedup import band_keys, parse_sketch, sketch_keys
from streams.records import ClusterKey


class ClusterState:
    def __init__(self, horizon_s: float):
        self.horizon_s = horizon_s
        self.content_index: dict[str, str] = {}
        self.band_index: dict[str, list] = {}
        self.cluster_of: dict[str, str] = {}
        self._ages: deque[tuple[float, str, str, int, str]] = deque()   # (ts, post_id, content hash, simhash, sketch)
        self._live: dict[str, int] = {}          # post_id -> entries in _ages (an edit adds one)
        # post_id -> (content hash, simhash, sketch) of its last entry in _ages: the version indexed
        # (derived from _ages, so a snapshot does not carry it: load_state rebuilds it)
        self._current: dict[str, tuple[str, int, str]] = {}
        self.next_offset: int | None = None      # the log offset this state has applied up to
        # restored from a snapshot: the offset it had applied up to. A crash after the snapshot was
        # written resumes the log before it, and a record below it is already in this state
        self.applied_before: int | None = None

    def __len__(self) -> int:
        return len(self._live)

    def apply(self, key: ClusterKey, ts: float, offset: int | None = None) -> Decision:
        """Decide one post at log time `ts` (seconds) and record it.

        An edit (a post held here, with another content hash) first drops its old version from the
        indexes, so later copies of the old text no longer find it. A post that roots a cluster
        (its own root, or its root forgotten) keeps its cluster through an edit: its reposts and
        copies carry its id as their cluster, and an edit into a near copy of an unrelated post
        (both replaced by a moderator's notice) must not move them there. A repost's edit is
        decided again like a new post."""
        if (offset is not None and self.applied_before is not None and offset < self.applied_before
                and key.post_id in self.cluster_of):
            return Decision("replay", self.cluster_of[key.post_id])   # applied before the snapshot
        self.expire(ts - self.horizon_s)
        simhash = int(key.simhash or "0", 16)
        previous, keep = self._current.get(key.post_id), None
        if previous is not None and previous[0] != key.content_hash:
            self._unindex(key.post_id, *previous)
            if held_root(key.post_id, self.cluster_of) == key.post_id:
                keep = self.cluster_of[key.post_id]
        decision = decide(key.post_id, key.content_hash, simhash, self.content_index, self.band_index,
                          self.cluster_of, text_chars=key.chars, sketch=key.sketch)
        indexed = decision.kind in ("new", "repost") and key.chars >= MIN_CLUSTER_CHARS
        if keep is not None:
            self.cluster_of[key.post_id] = keep
            decision = Decision("new" if keep == key.post_id else "repost", keep)
        if indexed and key.post_id in self.cluster_of:
            self._ages.append((ts, key.post_id, key.content_hash, simhash, key.sketch))
            self._live[key.post_id] = self._live.get(key.post_id, 0) + 1
            self._current[key.post_id] = (key.content_hash, simhash, key.sketch)
        if offset is not None:
            self.next_offset = offset + 1
        return decision

    def _unindex(self, post_id: str, content_hash: str, simhash: int, sketch: str,
                 keep: tuple[str, int, str] | None = None) -> None:
        """Remove one version of a post from the content and near-duplicate indexes, except the
        entries it shares with `keep` (the version of the post still held)."""
        if self.content_index.get(content_hash) == post_id and not (keep and keep[0] == content_hash):
            del self.content_index[content_hash]
        if keep and keep[1:] == (simhash, sketch):
            return
        hex_hash = f"{simhash:016x}"
        for band in (*band_keys(simhash), *sketch_keys(parse_sketch(sketch))):
            kept = [e for e in self.band_index.get(band, ())
                    if not (e[0] == post_id and e[1] == hex_hash and (len(e) < 3 or e[2] == sketch))]
            if kept:
                self.band_index[band] = kept
            else:
                self.band_index.pop(band, None)

    def expire(self, before: float) -> int:
        """Forget posts recorded before log time `before`; returns how many entries went."""
        gone = 0
        while self._ages and self._ages[0][0] < before:
            _, post_id, content_hash, simhash, sketch = self._ages.popleft()
            gone += 1
            left = self._live.get(post_id, 1) - 1
            if left > 0:
                # an older version (its entries normally went at the edit): whatever the version
                # still held shares with it stays (an edit back to an earlier text, or one that
                # moved neither SimHash nor sketch)
                self._live[post_id] = left
                self._unindex(post_id, content_hash, simhash, sketch, keep=self._current.get(post_id))
            else:
                self._unindex(post_id, content_hash, simhash, sketch)
                self._live.pop(post_id, None)
                self._current.pop(post_id, None)
                self.cluster_of.pop(post_id, None)
        return gone


SNAPSHOT_VERSION = 2     # 2: age entries carry the sketch


def dump_state(state: ClusterState) -> bytes:
    """The state as bytes, for a local snapshot that spares a restarted worker most of the replay."""
    return pickle.dumps((SNAPSHOT_VERSION, state.horizon_s, state.next_offset, state.content_index, state.band_index,
                         state.cluster_of, state._ages, state._live), protocol=pickle.HIGHEST_PROTOCOL)


def load_state(data: bytes, horizon_s: float) -> ClusterState | None:
    """A snapshot written by dump_state, or None when it is of another version or horizon.
    Only ever reads files this worker wrote itself (pickle must never see foreign input)."""
    version, horizon, next_offset, *maps = pickle.loads(data)
    if version != SNAPSHOT_VERSION or horizon != horizon_s:
        return None
    state = ClusterState(horizon_s)
    (state.content_index, state.band_index, state.cluster_of, state._ages, state._live) = maps
    state._current = {post_id: (content_hash, simhash, sketch) for _, post_id, content_hash, simhash, sketch in state._ages}
    state.next_offset = state.applied_before = next_offset
    return state
