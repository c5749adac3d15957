"""The sequencer's in-memory repost state: decisions, expiry by log time, and rebuild by replay."""
from __future__ import annotations

import random

from streams.cluster_state import ClusterState
from streams.records import ClusterKey

DAY = 86400.0
BASE = 0xF0F0_F0F0_1234_5678


def key(post_id: str, content_hash: str, simhash: int, chars: int = 40) -> ClusterKey:
    return ClusterKey(post_id=post_id, content_hash=content_hash, simhash=f"{simhash:016x}", chars=chars)


def test_decisions_match_the_clustering_core():
    s = ClusterState(horizon_s=14 * DAY)
    assert s.apply(key("a", "h1", BASE), 0.0).kind == "new"
    dup = s.apply(key("b", "h1", BASE), 1.0)
    assert (dup.kind, dup.cluster_id) == ("duplicate", "a")
    rep = s.apply(key("c", "h2", BASE ^ 0b101), 2.0)
    assert (rep.kind, rep.cluster_id) == ("repost", "a")
    assert s.apply(key("c", "h2", BASE ^ 0b101), 3.0).kind == "replay"
    assert len(s) == 2          # a and c; a duplicate is not recorded


def test_state_expires_after_the_horizon_by_log_time():
    s = ClusterState(horizon_s=1 * DAY)
    s.apply(key("a", "h1", BASE), 0.0)
    s.apply(key("b", "h9", 0x0123_4567_89AB_CDEF), 0.5 * DAY)
    # within the horizon the copy is found ...
    assert s.apply(key("c", "h2", BASE ^ 0b11), 0.9 * DAY).cluster_id == "a"
    # ... after it, "a" and its repost "c" are forgotten (all three maps), "b" is still held
    late = s.apply(key("d", "h3", BASE ^ 0b1), 2.0 * DAY)
    assert late.kind == "new"
    assert "a" not in s.cluster_of and "c" not in s.cluster_of and "h1" not in s.content_index
    assert all(e[0] not in ("a", "c") for entries in s.band_index.values() for e in entries)
    assert len(s) == 1                          # only d: b (0.5 day) went too at 2.0 days


def test_a_chain_of_daily_near_copies_closes_once_its_root_is_forgotten():
    """Each day's bulletin is a near copy of the day before: a post joins its match's root only while
    that root is held, else the cluster starts again at the matched post."""
    s = ClusterState(horizon_s=3 * DAY)
    simhash, decisions = BASE, []
    for day in range(12):
        simhash ^= 1 << (day % 64)                    # one bit away from the day before
        decisions.append(s.apply(key(f"d{day}", f"h{day}", simhash), day * DAY))
        assert decisions[-1].cluster_id in s.cluster_of       # every cluster id is a post still held
    assert [d.kind for d in decisions] == ["new"] + ["repost"] * 11
    assert decisions[3].cluster_id == "d0"            # d0 is held for 3 days
    assert decisions[4].cluster_id != "d0"            # then forgotten: d4 joins a cluster rooted at d1..d3
    assert len({d.cluster_id for d in decisions}) >= 3


def test_a_verbatim_copy_joins_its_original_when_the_original_root_is_forgotten():
    s = ClusterState(horizon_s=3 * DAY)
    s.apply(key("a", "ha", BASE), 0.0)
    assert s.apply(key("b", "hb", BASE ^ 0b1), 2 * DAY).cluster_id == "a"
    assert s.apply(key("c", "hb", BASE ^ 0b1), 2.5 * DAY).cluster_id == "a"     # a still held
    dup = s.apply(key("d", "hb", BASE ^ 0b1), 3.5 * DAY)                          # a forgotten, b held
    assert (dup.kind, dup.cluster_id) == ("duplicate", "b")


def test_an_edited_post_keeps_its_cluster_until_its_last_version_expires():
    s = ClusterState(horizon_s=1 * DAY)
    s.apply(key("a", "h1", BASE), 0.0)
    s.apply(key("a", "h1-edited", BASE ^ 0b1), 0.8 * DAY)    # same post, changed text
    s.expire(1.1 * DAY - s.horizon_s)                         # at 1.1 days the first version aged out
    assert s.cluster_of.get("a") == "a" and s.content_index.get("h1-edited") == "a"
    assert "h1" not in s.content_index
    s.expire(1.9 * DAY - s.horizon_s)
    assert len(s) == 0 and not s.band_index and not s.content_index


OTHER = 0x0123_4567_89AB_CDEF


def entries_of(s: ClusterState, post_id: str) -> set:
    return {(band, e[1]) for band, entries in s.band_index.items() for e in entries if e[0] == post_id}


def test_an_edit_drops_the_old_version_and_a_root_keeps_its_cluster():
    """A cluster's root edited into a near copy of an unrelated post (both replaced by a moderator's
    notice) stays the root of its cluster; copies of its old text no longer find its old version."""
    s = ClusterState(horizon_s=14 * DAY)
    s.apply(key("x", "hx", OTHER), 0.0)
    s.apply(key("p", "hp", BASE), 1.0)
    assert s.apply(key("q", "hq", BASE ^ 0b1), 2.0).cluster_id == "p"
    edit = s.apply(key("p", "hp-notice", OTHER ^ 0b1), 3.0)
    assert (edit.kind, edit.cluster_id) == ("new", "p") and s.cluster_of["p"] == "p"
    assert "hp" not in s.content_index and s.content_index["hp-notice"] == "p"
    assert {h for _, h in entries_of(s, "p")} == {f"{OTHER ^ 0b1:016x}"}      # only the new version
    # a copy of the original text: not a duplicate of p's old version, a repost of q, in p's cluster
    copy = s.apply(key("c", "hp", BASE), 4.0)
    assert (copy.kind, copy.cluster_id) == ("repost", "p")
    assert s.apply(key("p", "hp-notice", OTHER ^ 0b1), 5.0).kind == "replay"   # a redelivered edit


def test_a_reposts_edit_is_decided_again():
    s = ClusterState(horizon_s=14 * DAY)
    s.apply(key("a", "ha", BASE), 0.0)
    assert s.apply(key("b", "hb", BASE ^ 0b1), 1.0).cluster_id == "a"
    moved = s.apply(key("b", "hb2", OTHER), 2.0)             # b now says something else entirely
    assert (moved.kind, moved.cluster_id) == ("new", "b") and s.cluster_of["b"] == "b"
    assert "hb" not in s.content_index and {h for _, h in entries_of(s, "b")} == {f"{OTHER:016x}"}


def test_an_edit_back_to_an_earlier_text_survives_the_first_versions_expiry():
    s = ClusterState(horizon_s=1 * DAY)
    s.apply(key("p", "h1", BASE), 0.0)
    s.apply(key("p", "h2", OTHER), 0.3 * DAY)
    s.apply(key("p", "h1", BASE), 0.6 * DAY)              # back to the first text
    s.expire(1.1 * DAY - s.horizon_s)                     # the first version's entry ages out
    assert s.content_index.get("h1") == "p" and {h for _, h in entries_of(s, "p")} == {f"{BASE:016x}"}
    assert s.apply(key("q", "h3", BASE ^ 0b1), 1.2 * DAY).cluster_id == "p"
    s.expire(2.0 * DAY - s.horizon_s)
    assert len(s) == 1 and "p" not in s.cluster_of       # only q is left


def test_a_restored_snapshot_still_knows_each_posts_indexed_version():
    from streams.cluster_state import dump_state, load_state

    s = ClusterState(horizon_s=DAY)
    s.apply(key("p", "h1", BASE), 0.0, 0)
    restored = load_state(dump_state(s), DAY)
    restored.apply(key("p", "h2", OTHER), 10.0, 1)
    assert "h1" not in restored.content_index and {h for _, h in entries_of(restored, "p")} == {f"{OTHER:016x}"}


def test_replaying_the_log_rebuilds_exactly_the_live_state():
    rng = random.Random(3)
    log = []
    for i in range(600):
        if log and rng.random() < 0.3:                        # near or exact copies of earlier posts
            _, other, _ = rng.choice(log)
            simhash = int(other.simhash, 16) ^ (1 << rng.randrange(64))
            content = other.content_hash if rng.random() < 0.3 else f"h{i}"
        else:
            simhash, content = rng.getrandbits(64), f"h{i}"
        log.append((i * 600.0, key(f"p{i}", content, simhash), i))
    live = ClusterState(horizon_s=1 * DAY)
    decisions = [live.apply(k, ts, off) for ts, k, off in log]
    # a new owner of the partition resumes at offset 400: it replays [0, 400) and goes on
    rebuilt = ClusterState(horizon_s=1 * DAY)
    for ts, k, off in log[:400]:
        rebuilt.apply(k, ts, off)
    assert rebuilt.next_offset == 400
    assert [rebuilt.apply(k, ts, off) for ts, k, off in log[400:]] == decisions[400:]
    assert (rebuilt.content_index, rebuilt.band_index, rebuilt.cluster_of) == \
        (live.content_index, live.band_index, live.cluster_of)
    assert any(d.kind == "repost" for d in decisions) and any(d.kind == "duplicate" for d in decisions)


def test_replay_and_snapshot_rebuild_the_live_state_with_edits():
    from streams.cluster_state import dump_state, load_state

    rng = random.Random(5)
    log = []
    for i in range(500):
        post_id = f"p{rng.randrange(i)}" if i and rng.random() < 0.2 else f"p{i}"    # an edit of an earlier post
        near = log and rng.random() < 0.4
        simhash = int(rng.choice(log)[1].simhash, 16) ^ (1 << rng.randrange(64)) if near else rng.getrandbits(64)
        log.append((i * 300.0, key(post_id, f"h{i}" if rng.random() < 0.9 else f"h{rng.randrange(i + 1)}", simhash), i))
    live = ClusterState(horizon_s=1 * DAY)
    decisions = [live.apply(k, ts, off) for ts, k, off in log]
    rebuilt = ClusterState(horizon_s=1 * DAY)
    for ts, k, off in log[:300]:
        rebuilt.apply(k, ts, off)
    restored = load_state(dump_state(rebuilt), DAY)
    assert [restored.apply(k, ts, off) for ts, k, off in log[300:]] == decisions[300:]
    assert (restored.content_index, restored.band_index, restored.cluster_of, restored._current) == \
        (live.content_index, live.band_index, live.cluster_of, live._current)
    # every indexed entry is the version its post holds now
    assert all((e[0], e[1]) == (e[0], f"{live._current[e[0]][1]:016x}") for es in live.band_index.values() for e in es)


def test_a_snapshot_restores_the_state_and_refuses_another_horizon():
    from streams.cluster_state import dump_state, load_state

    s = ClusterState(horizon_s=DAY)
    s.apply(key("a", "h1", BASE), 0.0, 0)
    s.apply(key("b", "h2", BASE ^ 0b1), 10.0, 1)
    restored = load_state(dump_state(s), DAY)
    assert restored.next_offset == 2 and len(restored) == 2
    assert restored.apply(key("c", "h3", BASE ^ 0b11), 20.0, 2).cluster_id == "a"
    assert len(restored) == 3
    restored.expire(5.0)          # the age queue came back too: expiry still works
    assert set(restored.cluster_of) == {"b", "c"}
    assert load_state(dump_state(s), 2 * DAY) is None


def test_sketch_keys_expire_with_their_post():
    from streams import dedup

    words = "小区 门口 垃圾 三天 没人 清理 气味 很大 物业 电话 打不通 希望 街道 管管".split()
    sketch = dedup.sketch_hex(dedup.sketch("".join(words)))
    s = ClusterState(horizon_s=DAY)
    s.apply(ClusterKey(post_id="a", content_hash="h1", simhash=f"{BASE:016x}", sketch=sketch, chars=40), 0.0)
    assert any(k.startswith("s:") for k in s.band_index)
    s.expire(1.0)
    assert s.band_index == {} and len(s) == 0


def test_cluster_keys_record_reads_batches_and_older_single_key_records():
    from streams.records import ClusterKeys, cluster_keys_from_bytes

    batch = [key("a", "h1", BASE), key("b", "h1", BASE), key("c", "h2", BASE ^ 0b101)]
    assert cluster_keys_from_bytes(ClusterKeys(keys=batch).to_bytes()) == batch
    # a record an older worker wrote (one ClusterKey) is still a list of one
    assert cluster_keys_from_bytes(batch[2].to_bytes()) == [batch[2]]
    # decisions over a batch record are the decisions over its keys one by one
    one, many = ClusterState(horizon_s=DAY), ClusterState(horizon_s=DAY)
    singles = [one.apply(k, 5.0, 7).kind for k in batch]
    batched = [many.apply(k, 5.0, 7).kind for k in cluster_keys_from_bytes(ClusterKeys(keys=batch).to_bytes())]
    assert singles == batched == ["new", "duplicate", "repost"] and many.next_offset == 8


def test_the_analyze_stage_writes_the_same_bytes_as_the_model():
    from streams.records import ClusterKey, ClusterKeys, cluster_keys_bytes, cluster_keys_from_bytes

    hostile = ['微博:1"\\', "a\nb\tc\x00\x1f\x7f", "\u2028\u2029 \ud83d\ude00".encode("utf-16", "surrogatepass").decode("utf-16"),
               "<script>&amp;</script>", ""]
    values = [(pid, f"{i:032x}", f"{i * 7919:016x}", "0a1b2c3d" * i, i * 31) for i, pid in enumerate(hostile)]
    models = [ClusterKey(post_id=p, content_hash=h, simhash=s, sketch=k, chars=c) for p, h, s, k, c in values]
    assert cluster_keys_bytes(values) == ClusterKeys(keys=models).to_bytes()
    assert cluster_keys_from_bytes(cluster_keys_bytes(values)) == models
    assert cluster_keys_bytes([]) == ClusterKeys(keys=[]).to_bytes()


def test_bad_cluster_keys_record_names_the_field():
    import pytest

    from streams.records import cluster_keys_from_bytes

    bad = b'{"record":"cluster_keys","keys":[{"post_id":"a","content_hash":"h"},{"content_hash":"h2"}]}'
    with pytest.raises(ValueError, match=r"keys\.1\.post_id"):
        cluster_keys_from_bytes(bad)
    with pytest.raises(ValueError, match="post_id"):
        cluster_keys_from_bytes(b'{"content_hash":"h"}')


def test_records_below_a_restored_snapshots_offset_are_replays():
    """A crash after the snapshot was written: the worker resumes the log before the snapshot's
    offset. A record the snapshot already holds (here the edit's first version, re-applied after
    the edit) changes nothing: the edited root keeps its indexes and its cluster."""
    from streams.cluster_state import dump_state, load_state
    s = ClusterState(horizon_s=14 * DAY)
    s.apply(key("x", "hx", OTHER), 0.0, 0)
    s.apply(key("p", "hp", BASE), 1.0, 1)
    s.apply(key("p", "hp-notice", OTHER ^ 0b1), 2.0, 2)          # p edited
    restored = load_state(dump_state(s), 14 * DAY)
    again = restored.apply(key("p", "hp", BASE), 1.0, 1)          # the log resumed at offset 1
    assert (again.kind, again.cluster_id) == ("replay", "p")
    assert restored.content_index == s.content_index and restored.band_index == s.band_index
    assert restored.apply(key("p", "hp-notice", OTHER ^ 0b1), 2.0, 2).kind == "replay"
    assert restored.apply(key("c", "hp-notice", OTHER ^ 0b1), 3.0, 3).cluster_id == "p"   # then on as live
