"""Near-duplicate lookup: a banded SimHash index whose state is a plain mapping.

The 64-bit SimHash is cut into BANDS bands of BAND_BITS bits; two hashes within Hamming
distance BANDS - 1 agree exactly on at least one band (pigeonhole), so looking up a post's band
keys finds every earlier post that close, and most within DEFAULT_K. The index maps band key -> [[post_id, hex], ...]
so it can live in a Faust table keyed by band key (band keys are the partitioning key that makes
candidates meet in one partition). Reads no settings.
"""
from __future__ import annotations

from typing import Iterable, Mapping, MutableMapping

from streams.simhash import hamming

BANDS = 4
BAND_BITS = 16
# Bands guarantee k <= BANDS - 1 = 3; a repost of a short post with a comment inserted is often
# 5-10 bits away, and most such pairs still share a band. Measured in docs/quality.md: k = 8
# finds ~9 points more reposts than k = 3 for the same precision (unrelated posts sit ~32 apart).
DEFAULT_K = 8
MAX_PER_BAND = 64             # bounds one band value's list; the oldest entries fall out first
_MASK = (1 << BAND_BITS) - 1


def band_keys(simhash: int) -> list[str]:
    """`band:value` keys, e.g. "0:1a2b"; none for the 0 hash of a text without tokens."""
    if not simhash:
        return []
    return [f"{i}:{(simhash >> (i * BAND_BITS)) & _MASK:04x}" for i in range(BANDS)]


def candidates(index: Mapping[str, list], simhash: int) -> list[tuple[str, int]]:
    """Earlier posts sharing at least one band with `simhash`, oldest first, each once."""
    seen: dict[str, int] = {}
    for key in band_keys(simhash):
        for post_id, hex_hash in index.get(key, ()):
            seen.setdefault(post_id, int(hex_hash, 16))
    return list(seen.items())


def match(simhash: int, candidates: Iterable[tuple[str, int]], k: int = DEFAULT_K) -> str | None:
    """The candidate nearest to `simhash` within Hamming distance k (earliest on a tie), or None."""
    if not simhash:
        return None
    best_id, best_distance = None, k + 1
    for post_id, other in candidates:
        distance = hamming(simhash, other)
        if distance < best_distance:
            best_id, best_distance = post_id, distance
    return best_id


def add(index: MutableMapping[str, list], post_id: str, simhash: int, limit: int = MAX_PER_BAND) -> list[str]:
    """Record a post under each of its band keys (idempotent per post_id); returns the keys."""
    keys = band_keys(simhash)
    entry = [post_id, f"{simhash:016x}"]
    for key in keys:
        entries = [e for e in index.get(key, ()) if e[0] != post_id]
        # assign a new list (not append in place) so a Faust table sees the change and logs it
        index[key] = [*entries, entry][-limit:]
    return keys
