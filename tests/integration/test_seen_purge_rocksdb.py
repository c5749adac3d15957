"""The seen_posts sweep over a real RocksDB partition, opened the way Faust opens its stores
(rocksdict, raw mode), with Faust's offset record in it."""
import rocksdict

from streams.seen_purge import expired, scan

FAUST_OFFSET_KEY = b"__faust\x00offset__"


def test_sweep_finds_every_expired_key_in_slices_and_wraps(tmp_path):
    db = rocksdict.Rdict(str(tmp_path / "seen_posts-0.db"), options=rocksdict.Options(raw_mode=True))
    try:
        db.put(FAUST_OFFSET_KEY, b"4711")
        old = {f'"old:{i:03d}"'.encode() for i in range(0, 300, 3)}
        for i in range(300):
            key = f'"{"old" if i % 3 == 0 else "new"}:{i:03d}"'.encode()
            db.put(key, b'["h", %d]' % (100 if i % 3 == 0 else 190))
        is_old = lambda v: expired(v, 200, 14)       # noqa: E731
        found, cursor, slices = [], None, 0
        while True:
            keys, cursor = scan(db, cursor, 64, is_old)
            found += keys
            slices += 1
            if cursor is None:
                break
        assert set(found) == old and len(found) == len(old)
        assert slices == 5                           # 301 entries, 64 at a time
        for key in found:
            db.delete(key)
        assert scan(db, None, 1000, is_old) == ([], None)        # nothing expired is left
        assert db.get(FAUST_OFFSET_KEY) == b"4711"               # Faust's own record untouched
    finally:
        db.close()
