"""Banded SimHash index: band keys, candidate lookup, nearest match within k, plain-dict state."""
from __future__ import annotations

import json
import random

from streams import dedup
from streams.simhash import hamming, simhash


def flip(value: int, *bits: int) -> int:
    for bit in bits:
        value ^= 1 << bit
    return value


BASE = 0x0123_4567_89AB_CDEF


def test_band_keys_are_four_16_bit_slices():
    assert dedup.band_keys(BASE) == ["0:cdef", "1:89ab", "2:4567", "3:0123"]
    assert dedup.band_keys(0) == []          # a text without tokens has no fingerprint


def test_within_three_bits_always_shares_a_band():
    rng = random.Random(7)
    for _ in range(500):
        other = flip(BASE, *rng.sample(range(64), 3))
        assert set(dedup.band_keys(BASE)) & set(dedup.band_keys(other))


def test_match_returns_nearest_within_k_and_earliest_on_tie():
    near, nearer, tie = flip(BASE, 1, 20, 40), flip(BASE, 5), flip(BASE, 6)
    assert dedup.match(BASE, [("a", near), ("b", nearer), ("c", tie)], k=3) == "b"
    assert dedup.match(BASE, [("a", near)], k=2) is None
    assert dedup.match(BASE, [], k=8) is None
    assert dedup.match(0, [("a", 0)], k=8) is None


def test_index_is_plain_json_state_and_add_is_idempotent():
    index: dict[str, list] = {}
    dedup.add(index, "p1", BASE)
    dedup.add(index, "p1", BASE)                           # a replay must not duplicate entries
    dedup.add(index, "p2", flip(BASE, 0, 17, 33, 49))      # one bit in every band: no shared band
    assert json.loads(json.dumps(index)) == index
    assert all(entries == [["p1", f"{BASE:016x}"]] for key, entries in index.items()
               if key in dedup.band_keys(BASE))
    found = dedup.candidates(index, flip(BASE, 2))
    assert found == [("p1", BASE)]
    assert dedup.match(flip(BASE, 2), found) == "p1"


def test_band_lists_are_bounded_oldest_out():
    index: dict[str, list] = {}
    for i in range(10):
        dedup.add(index, f"p{i}", flip(BASE, 63) if i % 2 else BASE, limit=3)
    assert [e[0] for e in index["0:cdef"]] == ["p7", "p8", "p9"]


def test_similar_token_sets_give_close_hashes():
    words = {f"词{i}": 5 for i in range(60)}
    edited = {**words, "转发": 5}
    unrelated = {f"字{i}": 5 for i in range(60)}
    assert hamming(simhash(words), simhash(edited)) <= dedup.DEFAULT_K
    assert hamming(simhash(words), simhash(unrelated)) > dedup.DEFAULT_K


def reference_simhash(weighted: dict[str, int]) -> int:
    """The textbook definition, bit by bit, to check the big-integer implementation against."""
    from streams.simhash import token_hash

    sums = [0] * 64
    for token, weight in weighted.items():
        weight = min(max(weight, 1), 64)
        h = token_hash(token)
        for i in range(64):
            sums[i] += weight if h >> i & 1 else -weight
    return sum(1 << i for i in range(64) if sums[i] > 0) if weighted else 0


def test_simhash_matches_the_textbook_definition():
    rng = random.Random(3)
    for size in (1, 2, 3, 7, 40, 500):
        for _ in range(20):
            weighted = {f"w{rng.randrange(10**6)}": rng.randint(-3, 90) for _ in range(size)}
            assert simhash(weighted) == reference_simhash(weighted)
    assert simhash({}) == 0
