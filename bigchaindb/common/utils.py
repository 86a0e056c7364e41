"""Canonical JSON: the one byte form every hash and signature is taken over.

The protocol's canonical form is what ``json.dumps(x, sort_keys=True,
separators=(",", ":"), ensure_ascii=False)`` writes, UTF-8 encoded, except
for floats, which are written as the reference implementation wrote them
(``floats.reference_text``).  orjson writes the same bytes for every other
value the protocol allows (objects, arrays, strings, booleans, null and
integers) about ten times faster, so it is the codec; a float is handed to
it as a ``Fragment`` of the reference's text.  What it cannot write
(integers beyond 64 bits) is outside the format anyway:
``values.check_values`` refuses it first.

Finding out whether a document holds a float means walking it, which costs
several times what orjson takes to write it; a caller that already knows
(a parsed transaction does: ``check_values`` told it) says so.
"""

import json

import orjson

from bigchaindb.common.exceptions import InvalidJSON
from bigchaindb.common.floats import reference_text

_SORTED = orjson.OPT_SORT_KEYS
_NOT_FLOATS = frozenset((str, int, bool, type(None)))


def serialize(data, floats=None):
    """Return the canonical JSON bytes of ``data``.

    ``floats`` tells whether ``data`` holds a float, when the caller knows;
    None has it looked for.
    """
    if floats is None:
        floats = holds_float(data)
    if floats:
        data = map_floats(data, _reference_fragment)
    return orjson.dumps(data, option=_SORTED)


def holds_float(data):
    """True when ``data`` (JSON-like values) holds a float anywhere."""
    kind = type(data)
    if kind is dict:
        values = data.values()
    elif kind is list:
        values = data
    else:
        return kind not in _NOT_FLOATS and isinstance(data, float)
    for value in values:
        kind = type(value)
        if kind in _NOT_FLOATS:
            continue
        if kind is dict or kind is list:
            if holds_float(value):
                return True
        elif isinstance(value, float):
            return True
    return False


def map_floats(value, function):
    """A copy of ``value`` (JSON-like values) with each float ``f`` replaced by ``function(f)``."""
    kind = type(value)
    if kind is dict:
        return {key: map_floats(item, function) for key, item in value.items()}
    if kind is list:
        return [map_floats(item, function) for item in value]
    if isinstance(value, float):
        return function(value)
    return value


def _reference_fragment(value):
    """The reference's text of the float ``value``, for orjson to write as it is."""
    return orjson.Fragment(reference_text(value))


def deserialize(raw):
    """Parse JSON ``raw`` (bytes or str), raising InvalidJSON with the reason."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidJSON(f"request body is not valid JSON: {exc}") from None


def deserialize_unique(raw):
    """Parse JSON ``raw`` like ``deserialize``, also refusing an object that repeats a key.

    Parsers differ on a repeated key (orjson and Python keep the last value,
    others the first or refuse), so two programs could read two different
    transactions from the same bytes; only bytes every parser reads alike
    are accepted.  orjson parses (and refuses what is not JSON); the
    standard library's C scanner then looks for repeats, about 10 us for a
    1 kB transaction, in time linear in the body's size.
    """
    body = deserialize(raw)
    try:
        _REPEATS.decode(raw.decode() if isinstance(raw, bytes) else raw)
    except _RepeatedKey as exc:
        raise InvalidJSON(f"request body repeats the key {exc.args[0]!r} in one object: "
                          f"each key may appear once") from None
    except RecursionError:  # nesting orjson allows, a little deeper than the scanner's stack
        raise InvalidJSON("request body is nested too deeply") from None
    return body


class _RepeatedKey(Exception):
    pass


def _no_repeats(pairs):
    if len(pairs) > 1:
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise _RepeatedKey(key[:80])
            seen.add(key)
    # nothing is kept: the scan only looks for repeats


_REPEATS = json.JSONDecoder(object_pairs_hook=_no_repeats)


def dumps(data):
    """Plain (unsorted) JSON text, for responses and storage.  A float is written
    as the shortest text that reads back as the same double."""
    return orjson.dumps(data)


def flatten(nested):
    """Every item of a list of items and lists (at any depth), depth first:
    the keys of nested ``owners_after``, the leaves of a threshold tree."""
    for item in nested:
        if isinstance(item, list):
            yield from flatten(item)
        else:
            yield item
