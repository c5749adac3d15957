"""Near-duplicate index: band keys, character-trigram sketches, candidate lookup, nearest match, plain-dict state."""
from __future__ import annotations

import json
import random

import pytest

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


def test_nearest_prefers_simhash_within_k_and_earliest_on_tie():
    near, nearer, tie = flip(BASE, 1, 20, 40), flip(BASE, 5), flip(BASE, 6)
    assert dedup.nearest(BASE, (), [("a", near, ()), ("b", nearer, ()), ("c", tie, ())], k=3) == "b"
    assert dedup.nearest(BASE, (), [("a", near, ())], k=2) is None
    assert dedup.nearest(BASE, (), [], k=8) is None
    assert dedup.nearest(0, (), [("a", 0, ())], k=8) is None
    assert dedup.nearest(BASE, (), [("a", BASE, ())], exclude="a") is None


WORDS = "市区 一家 工厂 今天 下午 突然 冒出 浓烟 附近 居民 担心 空气 质量 希望 有关 部门 尽快 调查 公布 结果".split()


def test_sketch_resemblance_survives_an_inserted_comment_and_separates_unrelated_text():
    original = dedup.sketch("".join(WORDS))
    commented = dedup.sketch("".join([*WORDS[:8], "太", "过分", *WORDS[8:]]))
    unrelated = dedup.sketch("周末带孩子去公园看花展，人很多，天气也好，拍了不少照片，心情愉快")
    assert len(original) == dedup.SKETCH_SIZE and list(original) == sorted(original)
    assert dedup.resemblance(original, original) == 1.0
    assert dedup.resemblance(original, commented) >= dedup.MIN_RESEMBLANCE
    assert dedup.resemblance(original, unrelated) < 0.2
    assert dedup.resemblance(original, ()) == 0.0
    assert dedup.parse_sketch(dedup.sketch_hex(original)) == original
    assert dedup.parse_sketch("xyz") == () == dedup.parse_sketch("")


def test_sketch_reads_word_characters_only_and_is_stable():
    assert dedup.sketch("市区一家工厂，冒出浓烟！") == dedup.sketch("市区 一家工厂 冒出浓烟")
    assert dedup.sketch("ABC工厂") == dedup.sketch("abc工厂")
    assert dedup.sketch("，。！") == () and len(dedup.sketch("厂")) == 1
    # pure arithmetic on code points: the same value in every process (no hash() seed)
    assert dedup.sketch_hex(dedup.sketch("市区一家工厂")) == "2c6f6822387abbec58f8430b834ed026"


def test_the_c_sketch_gives_the_python_sketch_exactly():
    assert dedup._c_bottom_k is not None, "streams._speedups was not built: pip install -e . with a C compiler"
    rng = random.Random(13)
    alphabet = "市区一家工厂冒出浓烟abcXYZ012ÄİßΣ😂𠀀_ ，。!"
    texts = ["", "厂", "工厂", "市区一家工厂", "哈" * 40, "ab" * 300, "İstanbul ΣΑΣ Straße"]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 600))) for _ in range(300)]
    texts += ["".join(chr(rng.randint(0x20, 0x10FFFF)) for _ in range(rng.randint(0, 80))) for _ in range(300)]
    for text in texts:
        assert dedup.sketch(text) == dedup.sketch(text, accelerated=False), text
    assert dedup._c_bottom_k("abcd", 1) == dedup.sketch("abcd", accelerated=False)[:1]
    assert dedup._c_bottom_k("abc", 0) == () and dedup._c_bottom_k("ab", 5) == ()
    with pytest.raises(TypeError):
        dedup._c_bottom_k(b"abc", 16)


def test_sketch_uses_the_c_features_unless_told_not_to(monkeypatch):
    assert dedup._c_bottom_k is not None, "streams._speedups was not built"
    calls = []
    real = dedup._c_bottom_k
    monkeypatch.setattr(dedup, "_c_bottom_k", lambda chars, k: calls.append(chars) or real(chars, k))
    dedup.sketch("市区一家工厂", accelerated=False)
    assert calls == []
    dedup.sketch("市区一家工厂")
    assert calls == ["市区一家工厂"]


def test_sketch_finds_a_repost_whose_simhash_moved_too_far():
    index: dict[str, list] = {}
    original, commented = dedup.sketch("".join(WORDS)), dedup.sketch("".join([*WORDS[:8], "太", "过分", *WORDS[8:]]))
    dedup.add(index, "p1", BASE, original)
    moved = flip(BASE, *range(0, 64, 5))                    # 13 bits away, no band shared
    found = dedup.candidates(index, moved, commented)
    assert [post_id for post_id, _, _ in found] == ["p1"]
    assert dedup.nearest(moved, commented, found) == "p1"
    assert dedup.nearest(moved, (), found) is None             # without the sketch it is missed


def test_a_simhash_match_needs_the_sketch_to_agree_when_both_have_one():
    # the SimHash reads a chain's last link: two chains ending in the same short link collide,
    # while their whole texts (the sketch) share nothing
    post = dedup.sketch("".join(WORDS))
    commented = dedup.sketch("".join([*WORDS[:8], "太", "过分", *WORDS[8:]]))
    unrelated = dedup.sketch("周末带孩子去公园看花展，人很多，天气也好，拍了不少照片，心情愉快")
    close = flip(BASE, 3)
    assert dedup.resemblance(post, unrelated) < dedup.MIN_CONFIRM <= dedup.resemblance(post, commented)
    assert dedup.nearest(BASE, post, [("a", close, unrelated)]) is None
    assert dedup.nearest(BASE, post, [("a", close, unrelated)], min_confirm=0.0) == "a"   # the check off
    assert dedup.nearest(BASE, post, [("a", close, unrelated), ("b", flip(BASE, 5, 6), commented)]) == "b"
    assert dedup.nearest(BASE, (), [("a", close, unrelated)]) == "a"        # no sketch: the SimHash decides
    assert dedup.nearest(BASE, post, [("a", close, ())]) == "a"


def test_index_is_plain_json_state_and_add_is_idempotent():
    index: dict[str, list] = {}
    dedup.add(index, "p1", BASE)
    dedup.add(index, "p1", BASE)                           # a replay must not duplicate entries
    dedup.add(index, "p2", flip(BASE, 0, 17, 33, 49))      # one bit in every band: no shared band
    assert json.loads(json.dumps(index)) == index
    assert all(entries == [["p1", f"{BASE:016x}", ""]] for key, entries in index.items()
               if key in dedup.band_keys(BASE))
    found = dedup.candidates(index, flip(BASE, 2))
    assert found == [("p1", BASE, ())]
    assert dedup.nearest(flip(BASE, 2), (), found) == "p1"


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
