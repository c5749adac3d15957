"""Pure repost clustering: decides whether an analysed post is new, an exact duplicate, a
near-duplicate repost (joins the first-seen post's cluster), or a replay of itself.

State is three plain mappings the caller owns (Faust tables in the worker, dicts in tests):
  content_index: content_hash -> post_id of the first post with that normalised content
  cluster_of:    post_id -> its cluster's root post_id
  band_index:    near-duplicate index of streams.dedup (SimHash bands and bigram-sketch keys)
The near-duplicate test is streams.dedup's, the one definition (measured in docs/quality.md).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, MutableMapping

from streams import dedup

# Texts shorter than this are never fingerprinted: "顶", "支持！" or "同问" under many threads are
# separate voices, not re-crawls or reposts, and a 64-bit SimHash of a few tokens is noise.
MIN_CLUSTER_CHARS = 20


def cluster_chars(title: str, text: str) -> int:
    """A post's length for MIN_CLUSTER_CHARS: the non-space characters of its title and text
    (a news or feed item often carries its content in the title, with an empty or stub body)."""
    return len("".join(title.split())) + len("".join(text.split()))


@dataclass(frozen=True)
class Decision:
    kind: Literal["new", "duplicate", "repost", "replay"]
    cluster_id: str           # the first-seen post's id (首发); the post's own id when new


def decide(post_id: str, content_hash: str, simhash: int, content_index: MutableMapping,
           band_index: MutableMapping, cluster_of: MutableMapping, k: int = dedup.DEFAULT_K,
           text_chars: int = MIN_CLUSTER_CHARS, sketch: str = "",
           min_resemblance: float = dedup.MIN_RESEMBLANCE,
           max_distance: int = dedup.SKETCH_MAX_DISTANCE, min_confirm: float = dedup.MIN_CONFIRM) -> Decision:
    """Classify one post and record it in the indexes.

    `sketch` is the post's bigram sketch as hex (Analysis.sketch, EnrichedPost.sketch).
    Idempotent per post_id: delivering the same post again (a replay after a crash) returns
    "replay" with its original cluster, never "duplicate" of itself.
    """
    if text_chars < MIN_CLUSTER_CHARS:
        return Decision("new", post_id)
    first = content_index.get(content_hash) if content_hash else None
    if first is not None:
        if first == post_id:
            return Decision("replay", cluster_of.get(post_id, post_id))
        # a verbatim copy joins the cluster of the post it copies, which may itself be a repost
        return Decision("duplicate", held_root(first, cluster_of))
    if content_hash:
        content_index[content_hash] = post_id
    signature = dedup.parse_sketch(sketch)
    keys = dedup.index_keys(simhash, signature)
    found = dedup.candidates(band_index, simhash, signature, keys)
    best = dedup.nearest(simhash, signature, found, k, min_resemblance, exclude=post_id, max_distance=max_distance,
                         min_confirm=min_confirm)
    root = held_root(best, cluster_of) if best else post_id
    cluster_of[post_id] = root
    # reposts are indexed too, so a repost of a repost still finds the cluster's root
    dedup.add(band_index, post_id, simhash, signature, keys=keys)
    return Decision("repost" if best else "new", root)


def held_root(matched: str, cluster_of: MutableMapping) -> str:
    """The cluster a post matching `matched` joins: `matched`'s root while that root is still held
    (ClusterState forgets posts after its horizon), else `matched` itself. Without this a chain of
    near copies (a templated daily bulletin, each a near copy of the day before) never closes: the
    90th day would still be a repost of a root forgotten 76 days before."""
    root = cluster_of.get(matched, matched)
    return root if root == matched or root in cluster_of else matched
