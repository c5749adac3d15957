"""64-bit SimHash over weighted tokens, and Hamming distance. Pure, no settings.

Speed: each token's 64 hash bits are spread once (cached) into 64 fields of 32 bits of one big
integer, so a post's weighted bit sums are a few big-integer additions instead of 64 Python
operations per token; the 64 sums are read back in one pass at the end.
"""
from __future__ import annotations

import hashlib
import sys
from array import array
from functools import lru_cache

BITS = 64
_FIELD = 32
_MAX_WEIGHT = 64        # per token occurrence; with MAX_ANALYSIS_CHARS tokens the sums stay < 2**32
_BIT_SPREAD = [1 << (_FIELD * i) for i in range(BITS)]


@lru_cache(maxsize=1 << 17)
def token_hash(token: str) -> int:
    """Stable across processes and hosts (unlike hash()), so workers agree on every fingerprint."""
    return int.from_bytes(hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest(), "little")


if array("I").itemsize != 4:  # pragma: no cover - every CPython platform we know has 4-byte "I"
    raise ImportError("streams.simhash needs array('I') of 32 bits")


@lru_cache(maxsize=1 << 17)
def _spread(token: str) -> int:
    h = token_hash(token)
    return sum(_BIT_SPREAD[i] for i in range(BITS) if h >> i & 1)


def simhash(weighted: dict[str, int]) -> int:
    """SimHash of {token: integer weight}; 0 for no tokens."""
    total = 0
    acc = 0
    for token, weight in weighted.items():
        weight = min(max(int(weight), 1), _MAX_WEIGHT)
        total += weight
        acc += weight * _spread(token)
    if not total:
        return 0
    fields = array("I", acc.to_bytes(BITS * _FIELD // 8, "little"))
    if sys.byteorder == "big":  # pragma: no cover - the fields were written little-endian
        fields.byteswap()
    result = 0
    for i, ones in enumerate(fields):
        if 2 * ones > total:
            result |= 1 << i
    return result


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def to_hex(value: int) -> str:
    return f"{value:016x}"
