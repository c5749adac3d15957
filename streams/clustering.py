"""Pure repost clustering: decides whether an analysed post is new, an exact duplicate, a
near-duplicate repost (joins the first-seen post's cluster), or a replay of itself.

State is two plain mappings the caller owns (Faust tables in the worker, dicts in tests):
  content_index: content_hash -> post_id of the first post with that normalised content
  band_index:    band key -> [[post_id, simhash_hex], ...] first-seen posts sharing that band
A 64-bit SimHash split into 4 bands of 16 bits (streams.dedup): hashes within Hamming distance 3
always share a band (pigeonhole); with k = 8 (measured best, docs/quality.md) a candidate further
away is found when it shares a band, which is where the banded index trades recall for speed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, MutableMapping

from streams.dedup import DEFAULT_K, band_keys
from streams.simhash import hamming

MAX_PER_BAND = 64          # bounds state per band value; the oldest candidates fall out first
# Texts shorter than this are never fingerprinted: "顶", "支持！" or "同问" under many threads are
# separate voices, not re-crawls or reposts, and a 64-bit SimHash of a few tokens is noise.
MIN_CLUSTER_CHARS = 20


@dataclass(frozen=True)
class Decision:
    kind: Literal["new", "duplicate", "repost", "replay"]
    cluster_id: str           # the first-seen post's id (首发); the post's own id when new


def decide(post_id: str, content_hash: str, simhash: int, content_index: MutableMapping,
           band_index: MutableMapping, cluster_of: MutableMapping, k: int = DEFAULT_K,
           text_chars: int = MIN_CLUSTER_CHARS) -> Decision:
    """Classify one post and record it in the indexes.

    Idempotent per post_id: delivering the same post again (a replay after a crash) returns
    "replay" with its original cluster, never "duplicate" of itself.
    """
    if text_chars < MIN_CLUSTER_CHARS:
        return Decision("new", post_id)
    first = content_index.get(content_hash) if content_hash else None
    if first is not None:
        if first == post_id:
            return Decision("replay", cluster_of.get(post_id, post_id))
        return Decision("duplicate", first)
    if content_hash:
        content_index[content_hash] = post_id

    best: tuple[int, str] | None = None
    keys = band_keys(simhash) if simhash else []
    for key in keys:
        for other_id, other_hex in band_index.get(key, ()):
            distance = hamming(simhash, int(other_hex, 16))
            if other_id != post_id and distance <= k and (best is None or distance < best[0]):
                best = (distance, other_id)
    root = cluster_of.get(best[1], best[1]) if best else post_id
    cluster_of[post_id] = root
    # reposts are indexed too, so a repost of a repost still finds the cluster's root
    entry = [post_id, f"{simhash:016x}"]
    for key in keys:
        band_index[key] = [*band_index.get(key, ()), entry][-MAX_PER_BAND:]
    return Decision("repost" if best else "new", root)
