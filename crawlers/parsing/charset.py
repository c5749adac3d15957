"""Which encoding a page's bytes are really in, when the HTTP header, the <meta> tag and the bytes
disagree (common on Chinese sites: a server saying UTF-8 in front of GBK pages). Pure.

Order: a BOM; UTF-8 if the bytes are strictly valid UTF-8 (other encodings of Chinese text almost
never are, while GB18030 accepts almost any bytes, UTF-8 included); then the header's and the
meta's charset if the bytes decode strictly; then a detector limited to GB18030 / Big5.
"""
from __future__ import annotations

from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom, resolve_encoding

_DETECTABLE = ["gb18030", "big5"]


def _decodes(body: bytes, encoding: str) -> bool:
    try:
        body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def choose_encoding(body: bytes, content_type: str = "") -> tuple[str, str]:
    """(codec name, how it was chosen: bom / utf-8 / header / meta / detected / fallback)."""
    bom = read_bom(body)[0]
    if bom:
        return bom, "bom"
    if _decodes(body, "utf-8"):
        return "utf-8", "utf-8"
    for how, declared in (("header", http_content_type_encoding(content_type)),
                          ("meta", html_body_declared_encoding(body))):
        codec = resolve_encoding(declared) if declared else None
        if codec and codec not in ("utf-8",) and _decodes(body, codec):
            return codec, how
    from charset_normalizer import from_bytes

    best = from_bytes(body, cp_isolation=_DETECTABLE).best()
    if best is not None:
        return resolve_encoding(best.encoding) or best.encoding, "detected"
    return "gb18030", "fallback"
