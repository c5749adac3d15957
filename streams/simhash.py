"""64-bit SimHash over weighted tokens, and Hamming distance. Pure, no settings.

Speed: each token's 64 hash bits are spread once (cached) into 64 fields of 32 bits of one big
integer, so a post's weighted bit sums are a few big-integer additions instead of 64 Python
operations per token; the 64 majority tests at the end are one addition and a byte gather.
"""
from __future__ import annotations

import hashlib

BITS = 64
_FIELD = 32
_MAX_WEIGHT = 64        # per token; any post of MAX_ANALYSIS_CHARS keeps every field far below 2**31
# spread of each byte value: bit j of the byte -> field j
_BYTE_SPREAD = [sum(1 << (_FIELD * j) for j in range(8) if b >> j & 1) for b in range(256)]


def token_hash(token: str) -> int:
    """Stable across processes and hosts (unlike hash()), so workers agree on every fingerprint.

    _spread() below inlines the same digest."""
    return int.from_bytes(hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest(), "little")


_SPREAD_CACHE: dict[str, int] = {}
_MAX_CACHE = 1 << 17


def _spread(token: str) -> int:
    b, t = hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest(), _BYTE_SPREAD
    spread = (t[b[0]] | t[b[1]] << 256 | t[b[2]] << 512 | t[b[3]] << 768 | t[b[4]] << 1024
              | t[b[5]] << 1280 | t[b[6]] << 1536 | t[b[7]] << 1792)   # byte i -> fields 8i..8i+7
    if len(_SPREAD_CACHE) >= _MAX_CACHE:
        _SPREAD_CACHE.clear()
    _SPREAD_CACHE[token] = spread
    return spread


def clear() -> None:
    _SPREAD_CACHE.clear()


_REP = sum(1 << (_FIELD * i) for i in range(BITS))    # 1 in the lowest bit of every field
_BINARY = bytes.maketrans(b"\x00\x01", b"01")


def simhash(weighted: dict[str, int]) -> int:
    """SimHash of {token: integer weight}; 0 for no tokens."""
    total = 0
    acc = 0
    cache = _SPREAD_CACHE
    for token, weight in weighted.items():
        if not 1 <= weight <= _MAX_WEIGHT:
            weight = min(max(int(weight), 1), _MAX_WEIGHT)
        total += weight
        acc += weight * (cache.get(token) or _spread(token))
    if not total:
        return 0
    # bit i is set when field i (the weight of tokens with bit i set) exceeds total / 2. Adding
    # 2**31 - threshold to every field at once sets a field's top bit exactly then (fields stay
    # below 2**31, so nothing carries into the next field); the 64 top bits are then gathered.
    threshold = total // 2 + 1
    tops = ((acc + (0x8000_0000 - threshold) * _REP) >> (_FIELD - 1)) & _REP
    digits = tops.to_bytes(BITS * _FIELD // 8, "little")[:: _FIELD // 8].translate(_BINARY)
    return int(digits[::-1], 2)


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def to_hex(value: int) -> str:
    return f"{value:016x}"
