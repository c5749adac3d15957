"""Pure validation of posts.raw records: bytes in, a RawPost out, or InvalidRecord with a
reason that names the field. Reads no settings.

Hostile JSON is dead-lettered, never raised past this function: nesting deeper than the parser's
recursion limit, integers longer than Python's digit limit, NaN/Infinity (not JSON) and lone
surrogates (not encodable as UTF-8 when the post is produced again)."""
from __future__ import annotations

import json

from pydantic import ValidationError

from streams.errors import InvalidRecord
from streams.records import MAX_RAW_BYTES, RawPost


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def parse_raw(key: bytes | None, value: bytes | None) -> RawPost:
    if value is None:
        raise InvalidRecord("empty", "record has no value (tombstone)")
    if len(value) > MAX_RAW_BYTES:
        raise InvalidRecord("size", f"record is {len(value)} bytes, over the {MAX_RAW_BYTES}-byte limit")
    # The common case in one pass of pydantic's own JSON parser (half the cost of json.loads and
    # a validation of the dict). It refuses whatever the careful path below refuses except
    # NaN / Infinity, which it accepts: a record holding those bytes anywhere takes that path,
    # as does every record it refuses, so the dead-letter reason is always the careful one.
    if b"NaN" not in value and b"Infinity" not in value:
        try:
            post = RawPost.model_validate_json(value)
        except ValidationError:
            pass
        else:
            return _keyed(key, post)
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRecord("encoding", f"value is not valid UTF-8 at byte {exc.start}") from exc
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise InvalidRecord("json", f"value is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except RecursionError as exc:
        raise InvalidRecord("nesting", "value is nested too deeply to parse") from exc
    except ValueError as exc:       # int digit limit, NaN / Infinity
        raise InvalidRecord("json", f"value is not valid JSON: {str(exc)[:120]}") from exc
    if not isinstance(data, dict):
        raise InvalidRecord("schema", f"value is a JSON {type(data).__name__}, expected an object")
    try:
        post = RawPost.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'record'}: {e['msg']}" for e in exc.errors()[:5])
        raise InvalidRecord("schema", f"invalid post: {problems}") from exc
    return _keyed(key, post)


def _keyed(key: bytes | None, post: RawPost) -> RawPost:
    if key is not None and key.decode("utf-8", "replace") != post.post_id:
        raise InvalidRecord("key", f"record key {key[:80]!r} does not match post_id {post.post_id!r}")
    return post
