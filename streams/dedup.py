"""Near-duplicate lookup, the one definition: two signatures per post in one index that is a plain mapping.

1. SimHash (64 bits) cut into BANDS bands of BAND_BITS bits; two hashes within Hamming distance
   BANDS - 1 agree exactly on at least one band (pigeonhole), so a post's band keys find every
   earlier post that close, and most within DEFAULT_K. SimHash is strong on long posts.
2. A bottom-k sketch of the character trigrams of the post's identifying text (SKETCH_SIZE
   smallest 32-bit feature hashes; word characters only, lower-cased, the first SKETCH_CHARS):
   the share of the union's bottom k that both sketches hold estimates the trigram Jaccard
   resemblance. Short posts with a comment inserted move a SimHash by 5-10 bits and change
   their segmentation around the comment, but keep most of their character trigrams. A post
   is indexed under its SKETCH_KEYS smallest hashes.

The index maps key -> [[post_id, simhash_hex, sketch_hex], ...] ("0:1a2b" band keys, "s:9f00aa12"
sketch keys), each list capped at MAX_PER_BAND, oldest out, so it can live in a Faust table.
A candidate is a near duplicate when its SimHash is within k bits (and, when both posts have a
sketch, their resemblance is at least MIN_CONFIRM), OR its sketch resemblance is at least
MIN_RESEMBLANCE (and its SimHash within SKETCH_MAX_DISTANCE bits, off by default; measured in
docs/quality.md). Reads no settings.
"""
from __future__ import annotations

import functools
import hashlib
import re
import struct
from typing import Mapping, MutableMapping, Sequence

from streams.simhash import hamming

try:   # the trigram features in C (streams/_speedups.c, built by `pip install`; optional)
    from streams._speedups import bottom_k as _c_bottom_k
except ImportError:   # pragma: no cover - a build without a C compiler
    _c_bottom_k = None

BANDS = 4
BAND_BITS = 16
# Bands guarantee k <= BANDS - 1 = 3; a repost of a short post with a comment inserted is often
# 5-10 bits away, and most such pairs still share a band (docs/quality.md: k = 8 finds more
# reposts than k = 3 at the same precision; unrelated posts sit ~32 bits apart).
DEFAULT_K = 8
MAX_PER_BAND = 64             # bounds one key's list; the oldest entries fall out first
SKETCH_SIZE = 16
SKETCH_CHARS = 256            # trigrams of the first this many word characters: long posts have SimHash
SKETCH_KEYS = 4
MIN_RESEMBLANCE = 0.5
# a sketch match may also be required to be this close in SimHash (unrelated posts sit ~32 bits
# apart, sd 4); with character-trigram sketches the guard cost recall and bought no precision on
# the tuning run (docs/quality.md), so it is off: 64 bits is any distance
SKETCH_MAX_DISTANCE = 64
# a SimHash match whose whole-post sketch resembles less than this is not one: the SimHash reads a
# //@ chain's last link only, and a few-token last link ("嘤嘤嘤", "[哈哈]") collides across unrelated
# chains (chosen on the tuning run, docs/quality.md, session 4); 0 accepts every SimHash match
MIN_CONFIRM = 0.2
_MASK32 = 0xFFFF_FFFF
_MASK64 = (1 << 64) - 1
_GOLDEN = 0x9E37_79B9_7F4A_7C15     # Fibonacci hashing: the top 32 bits of x * golden mod 2**64
_NON_WORD = re.compile(r"[\W_]+")

Entry = tuple[str, int, tuple[int, ...]]    # post_id, simhash, sketch


def band_keys(simhash: int) -> list[str]:
    """`band:value` keys, e.g. "0:1a2b"; none for the 0 hash of a text without tokens."""
    if not simhash:
        return []
    digits = f"{simhash:016x}"      # band i is the i-th group of four hex digits from the right
    return [f"{i}:{digits[12 - 4 * i:16 - 4 * i]}" for i in range(BANDS)]


def sketch(text: str, accelerated: bool = True) -> tuple[int, ...]:
    """Bottom-k sketch of the character trigrams of `text` (word characters only, lower-cased,
    the first SKETCH_CHARS), ascending; () for a text without word characters. Pure arithmetic
    on code points: stable across processes and hosts. The features are worked out in C when
    the extension is built and `accelerated` (the same numbers)."""
    chars = _NON_WORD.sub("", text[: SKETCH_CHARS * 2])[:SKETCH_CHARS].lower()   # cut first: articles are long
    if len(chars) < 3:
        chars = chars.ljust(3, "\0") if chars else ""
    if accelerated and _c_bottom_k is not None:
        return _c_bottom_k(chars, SKETCH_SIZE)
    codes = list(map(ord, chars))
    # three code points (< 2**21 each) packed into one integer, then mixed
    features = sorted({((a << 42 | b << 21 | c) * _GOLDEN & _MASK64) >> 32
                       for a, b, c in zip(codes, codes[1:], codes[2:])})
    del features[SKETCH_SIZE:]
    return tuple(features)


def sketch_keys(signature: Sequence[int]) -> list[str]:
    return [f"s:{h:08x}" for h in signature[:SKETCH_KEYS]]


def index_keys(simhash: int, signature: Sequence[int] = ()) -> list[str]:
    """Every key a post is indexed under: its SimHash bands, then its sketch keys."""
    return [*band_keys(simhash), *sketch_keys(signature)]


def sketch_hex(signature: Sequence[int]) -> str:
    """8 hex digits per hash (one C call: this runs once per analysed post)."""
    return struct.pack(f">{len(signature)}I", *signature).hex()


@functools.lru_cache(maxsize=1 << 16)
def parse_sketch(text: str) -> tuple[int, ...]:
    """The sketch of sketch_hex(); an empty or malformed value is no sketch. Cached: the
    sequencer parses the same stored entries for every post that shares one of their keys."""
    if not text or len(text) % 8:
        return ()
    try:
        return tuple(int(text[i:i + 8], 16) for i in range(0, len(text), 8))
    except ValueError:
        return ()


def resemblance(a: Sequence[int], b: Sequence[int], at_least: float = 0.0, a_set: frozenset | None = None) -> float:
    """Estimated Jaccard resemblance of two sketches' feature sets (0 when either is empty).

    0 also when it is certainly below `at_least` (it is at most the shared features over the
    union's bottom k): most candidates share no feature or one, and the sequencer asks this of
    every candidate. `a_set`: frozenset(a), when the caller compares `a` with many sketches."""
    if not a or not b:
        return 0.0
    both = (a_set or frozenset(a)).intersection(b)
    if not both:
        return 0.0
    size = min(SKETCH_SIZE, len(a) + len(b) - len(both))
    if len(both) < at_least * size:
        return 0.0
    union = sorted(both.union(a, b))[:SKETCH_SIZE]
    return sum(h in both for h in union) / len(union)


def candidates(index: Mapping[str, list], simhash: int, signature: Sequence[int] = (),
               keys: Sequence[str] | None = None) -> list[Entry]:
    """Earlier posts sharing a band or a sketch key (`keys`: index_keys(simhash, signature),
    when the caller has them), oldest first, each once."""
    seen: dict[str, Entry] = {}
    for key in keys if keys is not None else index_keys(simhash, signature):
        for entry in index.get(key, ()):
            if entry[0] not in seen:
                seen[entry[0]] = (entry[0], int(entry[1], 16), parse_sketch(entry[2]) if len(entry) > 2 else ())
    return list(seen.values())


def nearest(simhash: int, signature: Sequence[int], found: Sequence[Entry], k: int = DEFAULT_K,
            min_resemblance: float = MIN_RESEMBLANCE, exclude: str | None = None,
            max_distance: int = SKETCH_MAX_DISTANCE, min_confirm: float = MIN_CONFIRM) -> str | None:
    """The closest candidate that is a near duplicate, or None: within k bits first (nearest, then
    earliest) unless both sketches are known and resemble less than min_confirm, else the most
    resembling sketch at or above min_resemblance within max_distance bits (earliest on a tie)."""
    best_id, best_rank = None, None
    features = frozenset(signature)
    for post_id, other_hash, other_sketch in found:
        if post_id == exclude:
            continue
        distance = hamming(simhash, other_hash) if simhash and other_hash else 64
        if distance <= k and (not signature or not other_sketch
                              or resemblance(signature, other_sketch, min_confirm, features) >= min_confirm):
            rank = (0, distance)
        elif distance > max_distance:
            continue
        else:
            similar = resemblance(signature, other_sketch, min_resemblance, features)
            if similar < min_resemblance:
                continue
            rank = (1, -similar)
        if best_rank is None or rank < best_rank:
            best_id, best_rank = post_id, rank
    return best_id


def add(index: MutableMapping[str, list], post_id: str, simhash: int, signature: Sequence[int] = (),
        limit: int = MAX_PER_BAND, keys: Sequence[str] | None = None) -> list[str]:
    """Record a post under each of its keys (idempotent per post_id); returns the keys."""
    keys = list(keys) if keys is not None else index_keys(simhash, signature)
    entry = [post_id, f"{simhash:016x}", sketch_hex(signature)]
    for key in keys:
        entries = index.get(key)
        if entries is None:
            index[key] = [entry]
            continue
        if any(e[0] == post_id for e in entries):
            entries[:] = [e for e in entries if e[0] != post_id]
        entries.append(entry)       # in place: the index is a plain dict (streams.cluster_state)
        del entries[:-limit]
    return keys
