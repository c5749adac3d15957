"""Which seen_posts values the sweep deletes (streams.seen_purge.expired)."""
from streams.seen_purge import expired


def test_older_than_the_horizon_is_expired_and_the_horizon_itself_is_not():
    today, horizon = 20_000, 14
    assert expired(b'["abc", 19985]', today, horizon)          # 15 days old
    assert not expired(b'["abc", 19986]', today, horizon)      # 14 days: still recognised (agents.is_known)
    assert not expired(b'["abc", 20000]', today, horizon)


def test_values_that_are_not_a_seen_entry_are_left_alone():
    for value in (b"1234", b"not json", b'{"a": 1}', b'["only-one"]', b'["h", "x"]', b""):
        assert not expired(value, 20_000, 14), value


def test_seen_keys_are_fausts_json_keys_byte_for_byte():
    """Stores and changelogs written by the Faust table (json.dumps, ensure_ascii=False) and by
    encode_key must agree on every key, or an upgraded worker would not find old entries."""
    import json

    from streams.seen_store import encode_key

    for post_id in ["weibo:123", "帖子-1", 'q"uote\\back/slash', "tab\tnl\ncr\r\x00\x1f\x7f", "\u2028\u2029\ufeff", "𠀀😀"]:
        assert encode_key(post_id) == json.dumps(post_id, ensure_ascii=False).encode(), post_id
