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
